/* Streaming schema check of hourly CSV files and torn-tail detection. */
#include "csvcheck.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "core.h"
#include "fsutil.h"
#include "schema.h"
#include "sha256.h"
#include "banned.h"

struct csvcheck {
	const struct schema *s;
	struct csv_parser p;
	char *row; /* field bytes, each NUL-terminated */
	size_t used, cap;
	size_t *off, *lens; /* ncols + 1 slots */
	const char **fields;
	size_t nf, maxf; /* fields seen in this row, slots */
	int overflow;
	uint64_t rows; /* rows seen, header included */
	size_t line, nl_in_row;
	bool has_times;
	int64_t first, last;
	int rc;
	char why[256];
};

static void fail(struct csvcheck *c, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct csvcheck *c, int rc, const char *fmt, ...)
{
	va_list ap;

	if (c->rc != 0)
		return;
	c->rc = rc;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
}

struct csvcheck *csvcheck_new(const struct schema *s)
{
	struct csvcheck *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->s = s;
	c->maxf = s->ncols + 1;
	c->cap = 4096;
	c->row = malloc(c->cap);
	c->off = calloc(c->maxf, sizeof(*c->off));
	c->lens = calloc(c->maxf, sizeof(*c->lens));
	c->fields = calloc(c->maxf, sizeof(*c->fields));
	c->line = 1;
	if (c->row == NULL || c->off == NULL || c->lens == NULL ||
	    c->fields == NULL ||
	    /* CSV_REPALL_NL: a blank line is an empty row, refused like any
	     * other bad row (libcsv would skip it, while the torn-tail
	     * check cuts it: found by fuzz_rotate_csvcheck). */
	    csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) !=
		    0) {
		free(c->row);
		free(c->off);
		free(c->lens);
		free(c->fields);
		free(c);
		return NULL;
	}
	return c;
}

void csvcheck_free(struct csvcheck *c)
{
	if (c == NULL)
		return;
	csv_free(&c->p);
	free(c->row);
	free(c->off);
	free(c->lens);
	free(c->fields);
	free(c);
}

const char *csvcheck_why(const struct csvcheck *c)
{
	return c->why;
}

static int row_room(struct csvcheck *c, size_t need)
{
	size_t cap = c->cap;
	char *p;

	if (need <= c->cap)
		return 0;
	if (need > CHECK_ROW_MAX)
		return -1;
	while (cap < need)
		cap *= 2;
	if (cap > CHECK_ROW_MAX)
		cap = CHECK_ROW_MAX;
	p = realloc(c->row, cap);
	if (p == NULL)
		return -1;
	c->row = p;
	c->cap = cap;
	return 0;
}

static void on_field(void *data, size_t len, void *ud)
{
	struct csvcheck *c = ud;

	if (c->rc != 0)
		return;
	if (memchr(data, '\n', len) != NULL)
		for (size_t i = 0; i < len; i++)
			c->nl_in_row += ((const char *)data)[i] == '\n';
	if (c->nf >= c->maxf) {
		c->nf++; /* counted, not kept: the row is already wrong */
		return;
	}
	if (row_room(c, c->used + len + 1) != 0) {
		c->overflow = 1;
		return;
	}
	memcpy(c->row + c->used, data, len);
	c->row[c->used + len] = '\0';
	c->off[c->nf] = c->used;
	c->lens[c->nf] = len;
	c->used += len + 1;
	c->nf++;
}

static void check_header(struct csvcheck *c, size_t line)
{
	int ok = c->nf == c->s->ncols;

	for (size_t i = 0; ok && i < c->nf; i++)
		ok = strcmp(c->fields[i], c->s->cols[i].name) == 0;
	if (!ok)
		fail(c, CORE_ESCHEMA, "line %zu: header is not '%.150s'", line,
		     c->s->header);
}

static void check_data(struct csvcheck *c, size_t line)
{
	char why[200];
	long long ts;
	char *end;

	if (schema_check_row(c->s, c->fields, c->lens, c->nf, why,
			     sizeof(why)) != 0) {
		fail(c, CORE_ESCHEMA, "line %zu: %s", line, why);
		return;
	}
	if (c->s->time_col < 0)
		return;
	errno = 0;
	ts = strtoll(c->fields[c->s->time_col], &end, 10);
	if (errno != 0 || *end != '\0' || ts < 0) {
		fail(c, CORE_ESCHEMA, "line %zu: field 'local_timestamp': bad",
		     line);
		return;
	}
	if (!c->has_times || ts < c->first)
		c->first = ts;
	if (!c->has_times || ts > c->last)
		c->last = ts;
	c->has_times = true;
}

static void on_row(int term, void *ud)
{
	struct csvcheck *c = ud;
	size_t line = c->line;

	c->line += 1 + c->nl_in_row;
	if (c->rc == 0 && term == -1)
		fail(c, CORE_EPARSE, "line %zu: no final newline", line);
	else if (c->rc == 0 && c->overflow)
		fail(c, CORE_ETOOBIG, "line %zu: row too long", line);
	if (c->rc == 0) {
		size_t kept = c->nf < c->maxf ? c->nf : c->maxf;

		for (size_t i = 0; i < kept; i++)
			c->fields[i] = c->row + c->off[i];
		if (c->rows == 0)
			check_header(c, line);
		else
			check_data(c, line);
	}
	c->rows++;
	c->nf = 0;
	c->used = 0;
	c->overflow = 0;
	c->nl_in_row = 0;
}

int csvcheck_feed(void *ud, const char *buf, size_t len)
{
	struct csvcheck *c = ud;

	if (c->rc != 0)
		return c->rc;
	if (csv_parse(&c->p, buf, len, on_field, on_row, c) != len)
		fail(c, CORE_EPARSE, "line %zu: %s", c->line,
		     csv_strerror(csv_error(&c->p)));
	return c->rc;
}

int csvcheck_finish(struct csvcheck *c, uint64_t *rows, bool *has_times,
		    int64_t *first, int64_t *last)
{
	if (c->rc == 0 && csv_fini(&c->p, on_field, on_row, c) != 0)
		fail(c, CORE_EPARSE, "line %zu: unterminated quoted field",
		     c->line);
	if (c->rc != 0)
		return c->rc;
	*rows = c->rows > 0 ? c->rows - 1 : 0;
	*has_times = c->has_times;
	*first = c->first;
	*last = c->last;
	return 0;
}

/* ------------------------------------------------------------ torn tail */

/* Offset just past the last '\n' before `end` (0 when there is none). */
static int last_newline(int fd, uint64_t end, uint64_t *out)
{
	char buf[65536];

	while (end > 0) {
		size_t n = end < sizeof(buf) ? (size_t)end : sizeof(buf);
		uint64_t start = end - n;
		const char *nl;

		if (fs_pread_full(fd, buf, n, (off_t)start) != 0)
			return CORE_ESYS;
		nl = memrchr(buf, '\n', n);
		if (nl != NULL) {
			*out = start + (uint64_t)(nl - buf) + 1;
			return 0;
		}
		end = start;
	}
	*out = 0;
	return 0;
}

/* Does the complete line [start, end) pass as a data row of s? */
/*
 * Where the last record before `end` (just past a newline) starts: the
 * first newline back from the end with an even number of quotes after
 * it, since a quoted field may hold newlines. Falls back to the last
 * physical line when no such newline is within CHECK_ROW_MAX bytes.
 */
static int last_record(int fd, uint64_t end, uint64_t *out)
{
	size_t n = end - 1 < CHECK_ROW_MAX ? (size_t)(end - 1) : CHECK_ROW_MAX;
	uint64_t base = end - 1 - n;
	unsigned quotes = 0;
	char *buf = malloc(n ? n : 1);

	if (buf == NULL)
		return CORE_ENOMEM;
	if (fs_pread_full(fd, buf, n, (off_t)base) != 0) {
		free(buf);
		return CORE_ESYS;
	}
	for (size_t i = n; i-- > 0;) {
		if (buf[i] == '"') {
			quotes++;
		} else if (buf[i] == '\n' && quotes % 2 == 0) {
			*out = base + i + 1;
			free(buf);
			return 0;
		}
	}
	free(buf);
	if (base == 0 && quotes % 2 == 0) {
		*out = 0;
		return 0;
	}
	return last_newline(fd, end - 1, out);
}

static int line_ok(int fd, const struct schema *s, uint64_t start, uint64_t end,
		   int *ok)
{
	struct csvcheck *c;
	char *buf;
	size_t n = (size_t)(end - start);
	uint64_t rows;
	int64_t a, b;
	bool t;

	*ok = 1;
	if (n > CHECK_ROW_MAX)
		return 0; /* the main pass reports it */
	buf = malloc(n);
	c = csvcheck_new(s);
	if (buf == NULL || c == NULL) {
		free(buf);
		csvcheck_free(c);
		return CORE_ENOMEM;
	}
	if (fs_pread_full(fd, buf, n, (off_t)start) != 0) {
		free(buf);
		csvcheck_free(c);
		return CORE_ESYS;
	}
	c->rows = 1; /* a data row, not the header */
	*ok = csvcheck_feed(c, buf, n) == 0 &&
	      csvcheck_finish(c, &rows, &t, &a, &b) == 0 && rows == 1;
	free(buf);
	csvcheck_free(c);
	return 0;
}

static int hash_range(int fd, uint64_t start, uint64_t end,
		      char hex[SHA256_HEX_LEN])
{
	struct sha256 *h = sha256_new();
	char buf[65536];
	int rc = 0;

	if (h == NULL)
		return CORE_ENOMEM;
	while (rc == 0 && start < end) {
		size_t n = end - start < sizeof(buf) ? (size_t)(end - start)
						     : sizeof(buf);

		if (fs_pread_full(fd, buf, n, (off_t)start) != 0)
			rc = CORE_ESYS;
		else
			rc = sha256_update(h, buf, n);
		start += n;
	}
	if (rc == 0)
		rc = sha256_final_hex(h, hex);
	sha256_free(h);
	return rc;
}

static int plan_cut(int fd, const struct schema *s, struct tail_plan *plan)
{
	uint64_t prev;
	int ok, rc;

	rc = last_newline(fd, plan->size, &plan->keep);
	if (rc != 0)
		return rc;
	if (plan->keep < plan->size)
		plan->reason = "partial line";
	if (plan->keep == 0)
		return 0;
	/* The last complete record, unless it is the header. */
	rc = last_record(fd, plan->keep, &prev);
	if (rc != 0 || prev == 0)
		return rc;
	rc = line_ok(fd, s, prev, plan->keep, &ok);
	if (rc != 0)
		return rc;
	if (!ok) {
		plan->keep = prev;
		plan->reason = "bad last line";
	}
	return 0;
}

int csvcheck_tail(const char *path, const struct schema *s,
		  struct tail_plan *plan)
{
	struct stat st;
	int fd, rc, saved;

	memset(plan, 0, sizeof(*plan));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return CORE_ESYS;
	if (fstat(fd, &st) < 0) {
		rc = CORE_ESYS;
		goto out;
	}
	plan->size = (uint64_t)st.st_size;
	rc = plan_cut(fd, s, plan);
	if (rc == 0 && plan->keep < plan->size)
		rc = hash_range(fd, plan->keep, plan->size, plan->cut_sha256);
out:
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
