/*
 * Replay mode: serve real Gate.io captures. For every pair with both
 * extracted_<PAIR>_rest_snapshot_with_id.json and
 * extracted_<PAIR>_ws_order_book_update.jsonl in the directory, REST
 * returns the captured snapshot verbatim and a spot.order_book_update
 * subscription gets the captured frames in order, one per interval.
 */
#include "sim.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

#define REPLAY_FILE_MAX (64u * 1024 * 1024)
#define SNAP_PREFIX	"extracted_"
#define SNAP_SUFFIX	"_rest_snapshot_with_id.json"

static int split_lines(struct sim_pair *p, char *buf, size_t len)
{
	char *s = buf, *e = buf + len;

	while (s < e) {
		char *nl = memchr(s, '\n', (size_t)(e - s)), *line;
		size_t n = (size_t)((nl ? nl : e) - s), i = p->rp_n;

		if (n > 0 && s[n - 1] == '\r')
			n--;
		if (n > 0) {
			char **nl2 =
				realloc(p->rp_lines, (i + 1) * sizeof(*nl2));
			size_t *nlen;

			if (nl2 == NULL)
				return -1;
			p->rp_lines = nl2;
			nlen = realloc(p->rp_len, (i + 1) * sizeof(*nlen));
			if (nlen == NULL)
				return -1;
			p->rp_len = nlen;
			line = strndup(s, n);
			if (line == NULL)
				return -1;
			p->rp_lines[i] = line;
			p->rp_len[i] = n;
			p->rp_n++;
		}
		s = nl ? nl + 1 : e;
	}
	return 0;
}

static int load_pair(struct sim_pair *p, const char *dir, const char *name)
{
	char path[4096];
	char *buf = NULL;
	size_t len;
	int rc;

	memset(p, 0, sizeof(*p));
	if (snprintf(p->name, sizeof(p->name), "%s", name) >=
	    (int)sizeof(p->name))
		return -1;
	snprintf(path, sizeof(path), "%s/" SNAP_PREFIX "%s" SNAP_SUFFIX, dir,
		 name);
	rc = fs_read_file(path, REPLAY_FILE_MAX, &p->rp_snap, &p->rp_snap_len);
	if (rc < 0) {
		log_err_r(rc, "read '%s'", path);
		return -1;
	}
	snprintf(path, sizeof(path),
		 "%s/" SNAP_PREFIX "%s_ws_order_book_update.jsonl", dir, name);
	rc = fs_read_file(path, REPLAY_FILE_MAX, &buf, &len);
	if (rc < 0) {
		log_err_r(rc, "read '%s'", path);
		return -1;
	}
	rc = split_lines(p, buf, len);
	free(buf);
	log_info("replay %s: snapshot %zu bytes, %zu frames", name,
		 p->rp_snap_len, p->rp_n);
	return rc;
}

/* Pair name from a snapshot file name, or -1 when it is not one. */
static int snap_pair(const char *fname, char *out, size_t size)
{
	size_t n = strlen(fname), pl = strlen(SNAP_PREFIX),
	       sl = strlen(SNAP_SUFFIX);

	if (n <= pl + sl || strncmp(fname, SNAP_PREFIX, pl) != 0 ||
	    strcmp(fname + n - sl, SNAP_SUFFIX) != 0 || n - pl - sl >= size)
		return -1;
	memcpy(out, fname + pl, n - pl - sl);
	out[n - pl - sl] = '\0';
	return 0;
}

int replay_load(struct sim *sim, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char name[SIM_NAME_MAX];
	int rc = 0;

	if (d == NULL) {
		log_err("open '%s': %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct sim_pair *np;

		if (snap_pair(de->d_name, name, sizeof(name)) < 0)
			continue;
		np = realloc(sim->pairs, (sim->npairs + 1) * sizeof(*np));
		if (np == NULL) {
			rc = -1;
			break;
		}
		sim->pairs = np;
		if (load_pair(&sim->pairs[sim->npairs], dir, name) < 0) {
			book_pair_release(&sim->pairs[sim->npairs]);
			rc = -1;
			break;
		}
		sim->npairs++;
	}
	if (closedir(d) != 0)
		log_warn("close '%s': %s", dir, strerror(errno));
	if (rc == 0 && sim->npairs == 0) {
		log_err("no extracted_<PAIR>" SNAP_SUFFIX " in '%s'", dir);
		rc = -1;
	}
	return rc;
}
