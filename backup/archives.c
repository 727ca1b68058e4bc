/* Archive names, the local archive tree and .sha256 sidecars. */
#include "archives.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "timeutil.h"
#include "banned.h"

const char *archive_basename(const char *rel)
{
	const char *s = strrchr(rel, '/');

	return s != NULL ? s + 1 : rel;
}

static bool exchange_ok(const char *s, size_t n)
{
	if (n == 0 || n >= ARCHIVE_EXCHANGE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int archive_name_parse(const char *rel, char *exchange, int64_t *hour_us)
{
	const char *s1 = strchr(rel, '/'), *s2, *base;
	char date[11], hour[3], want[128];
	size_t elen;

	if (s1 == NULL)
		return CORE_EPARSE;
	elen = (size_t)(s1 - rel);
	s2 = strchr(s1 + 1, '/');
	if (!exchange_ok(rel, elen) || s2 == NULL || s2 - s1 - 1 != 10)
		return CORE_EPARSE;
	memcpy(date, s1 + 1, 10);
	date[10] = '\0';
	base = s2 + 1;
	/* "<ex>_<date>T<HH>.tar.gz" */
	if (strlen(base) != elen + 1 + 10 + 3 + 7)
		return CORE_EPARSE;
	memcpy(hour, base + elen + 12, 2);
	hour[2] = '\0';
	snprintf(want, sizeof(want), "%.*s_%sT%s.tar.gz", (int)elen, rel, date,
		 hour);
	if (strcmp(want, base) != 0 ||
	    time_from_date_hour(date, hour, hour_us) != 0)
		return CORE_EPARSE;
	memcpy(exchange, rel, elen);
	exchange[elen] = '\0';
	return 0;
}

void archives_free(struct local_archive *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].rel);
		free(v[i].path);
	}
	free(v);
}

struct scan {
	const char *root;
	struct local_archive *v;
	size_t n, cap;
};

static int scan_add(struct scan *s, const char *rel)
{
	struct local_archive *a;
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", s->root, rel);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if (BUF_GROW(s->v, s->cap, s->n + 1) != 0)
		return CORE_ENOMEM;
	a = &s->v[s->n];
	memset(a, 0, sizeof(*a));
	if (archive_name_parse(rel, a->exchange, &a->hour_us) != 0)
		return 0;
	a->rel = strdup(rel);
	a->path = strdup(path);
	a->size = (uint64_t)st.st_size;
	s->n++;
	if (a->rel == NULL || a->path == NULL)
		return CORE_ENOMEM;
	return 0;
}

/* Read one directory level; depth 0 = exchanges, 1 = dates, 2 = files. */
static int scan_dir(struct scan *s, const char *rel, int depth)
{
	char path[4096], sub[2048];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "%s%s%s", s->root, rel[0] ? "/" : "", rel);
	d = opendir(path);
	if (d == NULL)
		return ((errno == ENOENT && depth == 0) || errno == ENOTDIR)
			       ? 0
			       : CORE_ESYS;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "",
			     de->d_name) >= (int)sizeof(sub))
			continue;
		if (depth < 2)
			rc = scan_dir(s, sub, depth + 1);
		else
			rc = scan_add(s, sub);
	}
	closedir(d);
	return rc;
}

static int cmp_archive(const void *a, const void *b)
{
	const struct local_archive *x = a, *y = b;

	return strcmp(x->rel, y->rel);
}

int archives_scan(const char *archive_dir, struct local_archive **out,
		  size_t *n)
{
	struct scan s = { .root = archive_dir };
	int rc;

	*out = NULL;
	*n = 0;
	rc = scan_dir(&s, "", 0);
	if (rc != 0) {
		archives_free(s.v, s.n);
		return rc;
	}
	if (s.n > 1)
		qsort(s.v, s.n, sizeof(*s.v), cmp_archive);
	*out = s.v;
	*n = s.n;
	return 0;
}

static bool hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int sidecar_parse(const char *buf, size_t len, const char *name,
		  char hex[SHA256_HEX_LEN])
{
	const char *nb, *ne;

	if (len < 67 || len > 4096 || !hex64(buf) || buf[64] != ' ' ||
	    (buf[65] != ' ' && buf[65] != '*'))
		return CORE_EPARSE;
	nb = buf + 66;
	ne = memchr(nb, '\n', len - 66);
	if (ne == NULL || ne == nb || (size_t)(ne + 1 - buf) != len)
		return CORE_EPARSE;
	if (name != NULL && (strlen(name) != (size_t)(ne - nb) ||
			     memcmp(name, nb, (size_t)(ne - nb)) != 0))
		return CORE_EPARSE;
	memcpy(hex, buf, 64);
	hex[64] = '\0';
	return 0;
}

int sidecar_match(const char *hex, const char *side, char *why, size_t whysize)
{
	if (strcmp(hex, side) == 0)
		return 0;
	snprintf(why, whysize,
		 "sha256 %.16s... does not match the sidecar's %.16s...", hex,
		 side);
	return CORE_ECORRUPT;
}

int sidecar_read(const char *path, char hex[SHA256_HEX_LEN])
{
	char sc[4200], *buf = NULL;
	size_t len = 0;
	int rc;

	if (snprintf(sc, sizeof(sc), "%s.sha256", path) >= (int)sizeof(sc))
		return CORE_ETOOBIG;
	rc = fs_read_file(sc, 4096, &buf, &len);
	if (rc != 0)
		return rc;
	rc = sidecar_parse(buf, len, archive_basename(path), hex);
	free(buf);
	return rc;
}
