/* The append-only backup ledger shared by booktape-backup and -rotate. */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"
#include "sha256.h"
#include "fsutil.h"
#include "manifest.h"
#include "timeutil.h"
#include "banned.h"

struct ledger {
	struct ledger_record *r;
	size_t n, cap;
};

static const char *const status_names[] = {
	[LEDGER_SHIPPED] = "shipped",
	[LEDGER_VERIFIED] = "verified",
	[LEDGER_FAILED] = "failed",
	[LEDGER_PRUNED_REMOTE] = "pruned_remote",
};

const char *ledger_status_name(enum ledger_status st)
{
	if ((size_t)st >= CORE_ARRAY_LEN(status_names))
		return "unknown";
	return status_names[st];
}

int ledger_status_parse(const char *s, enum ledger_status *out)
{
	for (size_t i = 0; i < CORE_ARRAY_LEN(status_names); i++)
		if (strcmp(s, status_names[i]) == 0) {
			*out = (enum ledger_status)i;
			return 0;
		}
	return CORE_EPARSE;
}

static int dest_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return i > 0 && i <= 128;
}

/* Relative, '/'-separated, no empty, "." or ".." component, no specials. */
static int archive_ok(const char *s)
{
	size_t n = strlen(s), comp = 0;

	if (n == 0 || n > 1024 || s[0] == '/' || s[n - 1] == '/')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '/' || c == '\0') {
			if (comp == 0 || (comp == 1 && s[i - 1] == '.') ||
			    (comp == 2 && s[i - 1] == '.' && s[i - 2] == '.'))
				return 0;
			comp = 0;
			continue;
		}
		if (c < 0x21 || c == 0x7f || c == ',' || c == '"')
			return 0;
		comp++;
	}
	return 1;
}

static int record_ok(const struct ledger_record *r)
{
	return r->archive != NULL && r->destination != NULL &&
	       archive_ok(r->archive) && dest_ok(r->destination) &&
	       sha256_hex_ok(r->sha256) &&
	       (size_t)r->status < CORE_ARRAY_LEN(status_names) &&
	       r->time_us >= 0;
}

/*
 * Under the lock: a file shorter than its header gets (re)written with
 * the header; a torn last line is cut off at the last newline.
 */
static int prepare_tail(int fd)
{
	static const char hdr[] = LEDGER_HEADER "\n";
	char buf[LEDGER_LINE_MAX];
	struct stat st;
	off_t end, start;
	size_t n;

	if (fstat(fd, &st) < 0)
		return CORE_ESYS;
	end = st.st_size;
	if (end < (off_t)(sizeof(hdr) - 1)) {
		if (ftruncate(fd, 0) < 0)
			return CORE_ESYS;
		return fs_write_full(fd, hdr, sizeof(hdr) - 1);
	}
	start = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
	n = (size_t)(end - start);
	if (fs_pread_full(fd, buf, n, start) != 0)
		return CORE_ESYS;
	if (buf[n - 1] == '\n')
		return 0;
	while (n > 0 && buf[n - 1] != '\n')
		n--;
	if (n == 0) {
		errno = EINVAL; /* a line longer than any record */
		return CORE_ESYS;
	}
	if (ftruncate(fd, start + (off_t)n) < 0)
		return CORE_ESYS;
	return 0;
}

int ledger_append(const char *path, const struct ledger_record *r)
{
	char line[LEDGER_LINE_MAX], ts[32];
	int fd, rc, n, saved;

	if (!record_ok(r))
		return CORE_EINVAL;
	if (time_format_iso(r->time_us, ts, sizeof(ts)) != 0)
		return CORE_EINVAL;
	n = snprintf(line, sizeof(line), "%s,%s,%s,%s,%" PRIu64 ",%s\n", ts,
		     r->archive, r->destination, ledger_status_name(r->status),
		     r->bytes, r->sha256);
	if (n < 0 || (size_t)n >= sizeof(line))
		return CORE_EINVAL;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return CORE_ESYS;
	while ((rc = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		rc = CORE_ESYS;
		goto out;
	}
	rc = prepare_tail(fd);
	if (rc == 0)
		rc = fs_write_full(fd, line, (size_t)n);
	if (rc == 0 && fdatasync(fd) < 0)
		rc = CORE_ESYS;
	/* A new file's name must survive a crash too. */
	if (rc == 0)
		rc = fs_fsync_parent(path);
out:
	saved = errno;
	close(fd); /* drops the lock */
	errno = saved;
	return rc;
}

/* ------------------------------------------------------------ loading */

struct lparse {
	struct ledger *l;
	int header_seen;
	char *why;
	size_t whysize;
};

static int add_record(struct ledger *l, const struct ledger_record *r)
{
	struct ledger_record *d;
	char *arch, *dest;

	if (BUF_GROW(l->r, l->cap, l->n + 1) != 0)
		return CORE_ENOMEM;
	if (core_dup2(r->archive, r->destination, &arch, &dest) != 0)
		return CORE_ENOMEM;
	d = &l->r[l->n++];
	*d = *r;
	d->archive = arch;
	d->destination = dest;
	return 0;
}

static int parse_fields(const char *const *f, const size_t *len,
			struct ledger_record *r)
{
	char *end;

	if (time_parse_iso(f[0], &r->time_us) != 0 || len[0] != 20)
		return 0;
	r->archive = f[1];
	r->destination = f[2];
	if (!archive_ok(f[1]))
		return 1;
	if (!dest_ok(f[2]))
		return 2;
	if (ledger_status_parse(f[3], &r->status) != 0)
		return 3;
	errno = 0;
	if (len[4] == 0 || f[4][0] < '0' || f[4][0] > '9')
		return 4;
	r->bytes = strtoull(f[4], &end, 10);
	if (errno != 0 || *end != '\0')
		return 4;
	if (len[5] != 64 || !sha256_hex_ok(f[5]))
		return 5;
	memcpy(r->sha256, f[5], 65);
	return -1;
}

static const char *const cols[] = {
	"time", "archive", "destination", "status", "bytes", "sha256",
};

static int ledger_row(void *ud, size_t line, const char *const *f,
		      const size_t *len, size_t nf, int torn)
{
	struct lparse *st = ud;
	struct ledger_record r = { 0 };
	int bad;

	if (torn)
		return 0; /* a crashed writer's partial record */
	if (!st->header_seen) {
		int ok = nf == 6;

		for (size_t i = 0; ok && i < 6; i++)
			ok = strcmp(f[i], cols[i]) == 0;
		if (!ok) {
			core_set_why(st->why, st->whysize,
				     "line %zu: bad header", line);
			return CORE_EPARSE;
		}
		st->header_seen = 1;
		return 0;
	}
	if (nf != 6) {
		core_set_why(st->why, st->whysize,
			     "line %zu: expected 6 fields, got %zu", line, nf);
		return CORE_EPARSE;
	}
	bad = parse_fields(f, len, &r);
	if (bad >= 0) {
		core_set_why(st->why, st->whysize,
			     "line %zu: field '%s': invalid", line, cols[bad]);
		return CORE_EPARSE;
	}
	return add_record(st->l, &r);
}

int ledger_load(const char *path, struct ledger **out, char *why,
		size_t whysize)
{
	struct lparse st = { .why = why, .whysize = whysize };
	char *buf = NULL;
	size_t len;
	int rc;

	*out = NULL;
	rc = fs_read_file(path, LEDGER_FILE_MAX, &buf, &len);
	if (rc == CORE_ESYS && errno == ENOENT)
		return CORE_ENOENT;
	if (rc != 0)
		return rc;
	st.l = calloc(1, sizeof(*st.l));
	if (st.l == NULL) {
		free(buf);
		return CORE_ENOMEM;
	}
	rc = manifest__csv_each(buf, len, ledger_row, &st, why, whysize);
	if (rc == CORE_ETOOBIG)
		rc = CORE_EPARSE;
	free(buf);
	if (rc != 0) {
		ledger_free(st.l);
		return rc;
	}
	*out = st.l;
	return 0;
}

void ledger_free(struct ledger *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->r[i].archive);
		free((char *)l->r[i].destination);
	}
	free(l->r);
	free(l);
}

size_t ledger_count(const struct ledger *l)
{
	return l ? l->n : 0;
}

const struct ledger_record *ledger_get(const struct ledger *l, size_t i)
{
	return l && i < l->n ? &l->r[i] : NULL;
}

const struct ledger_record *ledger_last(const struct ledger *l,
					const char *archive,
					const char *destination)
{
	if (l == NULL)
		return NULL;
	for (size_t i = l->n; i-- > 0;)
		if (strcmp(l->r[i].archive, archive) == 0 &&
		    strcmp(l->r[i].destination, destination) == 0)
			return &l->r[i];
	return NULL;
}

bool ledger_verified_on(const struct ledger *l, const char *archive,
			const char *destination, const char *sha256)
{
	const struct ledger_record *r = ledger_last(l, archive, destination);

	return r != NULL && r->status == LEDGER_VERIFIED &&
	       (sha256 == NULL || strcmp(r->sha256, sha256) == 0);
}

bool ledger_verified_on_all(const struct ledger *l, const char *archive,
			    const char *const *destinations, size_t n,
			    const char *sha256)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ledger_verified_on(l, archive, destinations[i], sha256))
			return false;
	return true;
}

bool ledger_verified_on_any(const struct ledger *l, const char *archive,
			    const char *sha256)
{
	if (l == NULL)
		return false;
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->r[i].archive, archive) == 0 &&
		    ledger_verified_on(l, archive, l->r[i].destination, sha256))
			return true;
	return false;
}
