/* MANIFEST.csv / CUTS.csv model, writer and strict libcsv parser. */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "buf.h"
#include "core.h"
#include "sha256.h"
#include "banned.h"

struct manifest {
	struct manifest_entry *e;
	size_t n, cap;
	struct manifest_cut *c;
	size_t nc, capc;
};

/* ------------------------------------------------------------ csv reading */

struct csvwalk {
	manifest__row_fn fn;
	void *ud;
	char row[MANIFEST__ROW_MAX];
	size_t used;
	size_t off[MANIFEST__FIELDS_MAX], lens[MANIFEST__FIELDS_MAX];
	size_t nf;
	int overflow;
	size_t line, nl_in_row;
	int rc;
	size_t err_line;
};

static void walk_field(void *data, size_t len, void *ud)
{
	struct csvwalk *w = ud;

	if (w->rc != 0)
		return;
	if (w->nf >= MANIFEST__FIELDS_MAX ||
	    len + 1 > sizeof(w->row) - w->used) {
		w->overflow = 1;
		return;
	}
	if (len > 0)
		memcpy(w->row + w->used, data, len);
	for (size_t i = 0; i < len; i++)
		if (((const char *)data)[i] == '\n')
			w->nl_in_row++;
	w->row[w->used + len] = '\0';
	w->off[w->nf] = w->used;
	w->lens[w->nf] = len;
	w->used += len + 1;
	w->nf++;
}

static void walk_row(int term, void *ud)
{
	struct csvwalk *w = ud;
	const char *fields[MANIFEST__FIELDS_MAX];
	size_t line = w->line;

	w->line += 1 + w->nl_in_row;
	if (w->rc == 0 && w->overflow) {
		w->rc = CORE_ETOOBIG;
		w->err_line = line;
	} else if (w->rc == 0) {
		for (size_t i = 0; i < w->nf; i++)
			fields[i] = w->row + w->off[i];
		w->rc = w->fn(w->ud, line, fields, w->lens, w->nf, term == -1);
	}
	w->nf = 0;
	w->used = 0;
	w->overflow = 0;
	w->nl_in_row = 0;
}

int manifest__csv_each(const char *buf, size_t len, manifest__row_fn fn,
		       void *ud, char *why, size_t whysize)
{
	struct csv_parser p;
	struct csvwalk *w;
	size_t used;
	int rc = 0;

	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return CORE_ENOMEM;
	w->fn = fn;
	w->ud = ud;
	w->line = 1;
	if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
		free(w);
		return CORE_ENOMEM;
	}
	used = csv_parse(&p, buf, len, walk_field, walk_row, w);
	if (used < len && w->rc == 0) {
		core_set_why(why, whysize, "line %zu: %s", w->line,
			     csv_strerror(csv_error(&p)));
		rc = csv_error(&p) == CSV_ENOMEM ? CORE_ENOMEM : CORE_EPARSE;
	} else if (w->rc == 0 && csv_fini(&p, walk_field, walk_row, w) != 0) {
		core_set_why(why, whysize,
			     "line %zu: unterminated quoted field", w->line);
		rc = CORE_EPARSE;
	}
	if (rc == 0 && w->rc == CORE_ETOOBIG)
		core_set_why(why, whysize, "line %zu: row too long",
			     w->err_line);
	if (rc == 0)
		rc = w->rc;
	csv_free(&p);
	free(w);
	return rc;
}

/* ------------------------------------------------------------ writing */

/* Append field `s`, CSV-quoted only when it needs to be. */
static int add_field(struct buf *b, const char *s)
{
	size_t n = strlen(s), need;
	int rc;

	/* libcsv trims spaces and tabs around unquoted fields, so those
	 * need quotes too (found by fuzz_manifest's round trip). */
	if (strpbrk(s, ",\"\r\n") == NULL &&
	    (n == 0 || (s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' &&
			s[n - 1] != '\t')))
		return buf_add(b, s, n);
	need = csv_write(NULL, 0, s, n);
	if ((rc = buf_reserve(b, need)) != 0)
		return rc;
	csv_write(buf_tail(b), need, s, n);
	buf_commit(b, need);
	return 0;
}

/* One MANIFEST.csv row. */
static int render_entry(struct buf *b, const void *v)
{
	const struct manifest_entry *e = v;
	int rc = add_field(b, e->file);

	if (rc == 0)
		rc = buf_printf(b, ",%" PRIu64 ",%" PRIu64 ",%s,", e->bytes,
				e->rows, e->sha256);
	if (rc == 0 && e->has_times)
		rc = buf_printf(b, "%" PRId64 ",%" PRId64, e->first_ts,
				e->last_ts);
	else if (rc == 0)
		rc = buf_add(b, ",", 1);
	return rc;
}

/* One CUTS.csv row. */
static int render_cut(struct buf *b, const void *v)
{
	const struct manifest_cut *c = v;
	int rc = add_field(b, c->file);

	if (rc == 0)
		rc = buf_printf(b, ",%" PRIu64 ",%" PRIu64 ",%s,",
				c->kept_bytes, c->cut_bytes, c->cut_sha256);
	if (rc == 0)
		rc = add_field(b, c->reason);
	return rc;
}

/* header, then row() of each of v[n] (`size` bytes each), one a line. */
static int render(const char *header, int (*row)(struct buf *, const void *),
		  const void *v, size_t n, size_t size, char **out, size_t *len)
{
	struct buf b;
	int rc;

	*out = NULL;
	*len = 0;
	buf_init(&b, 0);
	rc = buf_addstr(&b, header);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = row(&b, (const char *)v + i * size);
		if (rc == 0)
			rc = buf_add(&b, "\n", 1);
	}
	if (rc != 0) {
		buf_release(&b);
		return rc;
	}
	*out = buf_detach(&b, len);
	return *out != NULL ? 0 : CORE_ENOMEM;
}

int manifest_render(const struct manifest *m, char **out, size_t *len)
{
	return render(MANIFEST_HEADER "\n", render_entry, m->e, m->n,
		      sizeof(*m->e), out, len);
}

int manifest_render_cuts(const struct manifest *m, char **out, size_t *len)
{
	return render(CUTS_HEADER "\n", render_cut, m->c, m->nc, sizeof(*m->c),
		      out, len);
}

/* ------------------------------------------------------------ model */

struct manifest *manifest_new(void)
{
	return calloc(1, sizeof(struct manifest));
}

void manifest_free(struct manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free((char *)m->e[i].file);
	for (size_t i = 0; i < m->nc; i++) {
		free((char *)m->c[i].file);
		free((char *)m->c[i].reason);
	}
	free(m->e);
	free(m->c);
	free(m);
}

static int name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= MANIFEST_NAME_MAX;
}

int manifest_add(struct manifest *m, const struct manifest_entry *e)
{
	struct manifest_entry *d;
	int rc;

	if (e->file == NULL || !name_ok(e->file) || !sha256_hex_ok(e->sha256))
		return CORE_EINVAL;
	if (e->has_times && (e->first_ts < 0 || e->first_ts > e->last_ts))
		return CORE_EINVAL;
	if (manifest_find(m, e->file) != NULL)
		return CORE_EEXIST;
	rc = BUF_GROW(m->e, m->cap, m->n + 1);
	if (rc != 0)
		return rc;
	d = &m->e[m->n];
	*d = *e;
	if (!e->has_times)
		d->first_ts = d->last_ts = 0;
	d->file = strdup(e->file);
	if (d->file == NULL)
		return CORE_ENOMEM;
	m->n++;
	return 0;
}

int manifest_add_cut(struct manifest *m, const struct manifest_cut *c)
{
	struct manifest_cut *d;
	char *file, *reason;
	int rc;

	if (c->file == NULL || !name_ok(c->file) ||
	    !sha256_hex_ok(c->cut_sha256) || c->reason == NULL ||
	    strlen(c->reason) > MANIFEST_REASON_MAX)
		return CORE_EINVAL;
	if (manifest_cut_find(m, c->file) != NULL)
		return CORE_EEXIST;
	rc = BUF_GROW(m->c, m->capc, m->nc + 1);
	if (rc != 0)
		return rc;
	if (core_dup2(c->file, c->reason, &file, &reason) != 0)
		return CORE_ENOMEM;
	d = &m->c[m->nc++];
	*d = *c;
	d->file = file;
	d->reason = reason;
	return 0;
}

size_t manifest_count(const struct manifest *m)
{
	return m->n;
}

const struct manifest_entry *manifest_get(const struct manifest *m, size_t i)
{
	return i < m->n ? &m->e[i] : NULL;
}

/*
 * The element of v[n] (each `size` bytes, its first member the
 * `const char *file`) named `file`, or NULL: one lookup for entries and
 * cuts.
 */
static const void *find_file(const void *v, size_t n, size_t size,
			     const char *file)
{
	for (size_t i = 0; i < n; i++) {
		const char *const *f =
			(const void *)((const char *)v + i * size);

		if (strcmp(*f, file) == 0)
			return f;
	}
	return NULL;
}

_Static_assert(offsetof(struct manifest_entry, file) == 0 &&
		       offsetof(struct manifest_cut, file) == 0,
	       "find_file reads `file` at the start of each element");

const struct manifest_entry *manifest_find(const struct manifest *m,
					   const char *file)
{
	return find_file(m->e, m->n, sizeof(*m->e), file);
}

size_t manifest_cut_count(const struct manifest *m)
{
	return m->nc;
}

const struct manifest_cut *manifest_cut_get(const struct manifest *m, size_t i)
{
	return i < m->nc ? &m->c[i] : NULL;
}

const struct manifest_cut *manifest_cut_find(const struct manifest *m,
					     const char *file)
{
	return find_file(m->c, m->nc, sizeof(*m->c), file);
}

/* ------------------------------------------------------------ parsing */

/* Strict unsigned decimal: digits only, no sign, no leading zero. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
	char *end;

	if (len == 0 || len > 20 || s[0] < '0' || s[0] > '9' ||
	    (s[0] == '0' && len > 1))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno != 0 || (size_t)(end - s) != len)
		return -1;
	return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *out)
{
	uint64_t v;

	if (parse_u64(s, len, &v) != 0 || v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

struct mparse {
	struct manifest *m;
	char *why;
	size_t whysize;
	int header_seen;
};

static int header_ok(const char *const *f, size_t nf, const char *header)
{
	char line[256];
	size_t o = 0;

	for (size_t i = 0; i < nf; i++) {
		int n = snprintf(line + o, sizeof(line) - o, "%s%s",
				 i ? "," : "", f[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - o)
			return 0;
		o += (size_t)n;
	}
	return strcmp(line, header) == 0;
}

static const char *const manifest_cols[] = {
	"file",
	"bytes",
	"rows",
	"sha256",
	"first_local_timestamp",
	"last_local_timestamp",
};

static int entry_from_fields(struct mparse *st, size_t line,
			     const char *const *f, const size_t *l)
{
	struct manifest_entry e = { .file = f[0] };
	int bad = -1, rc;

	if (parse_u64(f[1], l[1], &e.bytes) != 0)
		bad = 1;
	else if (parse_u64(f[2], l[2], &e.rows) != 0)
		bad = 2;
	else if (l[3] != 64 || !sha256_hex_ok(f[3]))
		bad = 3;
	else if (l[4] == 0 && l[5] == 0)
		e.has_times = false;
	else if (parse_i64(f[4], l[4], &e.first_ts) != 0)
		bad = 4;
	else if (parse_i64(f[5], l[5], &e.last_ts) != 0 ||
		 e.last_ts < e.first_ts)
		bad = 5;
	else
		e.has_times = true;
	if (bad >= 0) {
		core_set_why(st->why, st->whysize,
			     "line %zu: field '%s': invalid", line,
			     manifest_cols[bad]);
		return CORE_EPARSE;
	}
	memcpy(e.sha256, f[3], 65);
	if (l[0] == 0 || l[0] > MANIFEST_NAME_MAX ||
	    memchr(f[0], '\0', l[0]) != NULL) {
		core_set_why(st->why, st->whysize,
			     "line %zu: field 'file': invalid", line);
		return CORE_EPARSE;
	}
	rc = manifest_add(st->m, &e);
	if (rc == CORE_EEXIST)
		core_set_why(st->why, st->whysize,
			     "line %zu: field 'file': duplicate name", line);
	return rc == CORE_EEXIST ? CORE_EPARSE : rc;
}

static int common_row(struct mparse *st, size_t line, const char *const *f,
		      size_t nf, int torn, const char *header, size_t want)
{
	if (torn) {
		core_set_why(st->why, st->whysize, "line %zu: no final newline",
			     line);
		return CORE_EPARSE;
	}
	if (!st->header_seen) {
		if (!header_ok(f, nf, header)) {
			core_set_why(st->why, st->whysize,
				     "line %zu: bad header", line);
			return CORE_EPARSE;
		}
		st->header_seen = 1;
		return 1;
	}
	if (nf != want) {
		core_set_why(st->why, st->whysize,
			     "line %zu: expected %zu fields, got %zu", line,
			     want, nf);
		return CORE_EPARSE;
	}
	return 0;
}

static int manifest_row(void *ud, size_t line, const char *const *f,
			const size_t *l, size_t nf, int torn)
{
	struct mparse *st = ud;
	int rc = common_row(st, line, f, nf, torn, MANIFEST_HEADER, 6);

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	return entry_from_fields(st, line, f, l);
}

static int finish_parse(struct mparse *st, int rc, const char *buf, size_t len)
{
	if (rc == 0 && !st->header_seen) {
		core_set_why(st->why, st->whysize, "line 1: missing header");
		rc = CORE_EPARSE;
	}
	/* libcsv skips blank lines; the format has none. */
	if (rc == 0 && len > 0 &&
	    (memmem(buf, len, "\n\n", 2) != NULL || buf[0] == '\n' ||
	     memchr(buf, '\r', len) != NULL)) {
		core_set_why(st->why, st->whysize, "blank line or CR in file");
		rc = CORE_EPARSE;
	}
	if (rc == CORE_ETOOBIG)
		rc = CORE_EPARSE;
	return rc;
}

int manifest_parse(const char *buf, size_t len, struct manifest **out,
		   char *why, size_t whysize)
{
	struct mparse st = { .why = why, .whysize = whysize };
	int rc;

	*out = NULL;
	if (len > MANIFEST_MAX_BYTES)
		return CORE_ETOOBIG;
	st.m = manifest_new();
	if (st.m == NULL)
		return CORE_ENOMEM;
	rc = manifest__csv_each(buf, len, manifest_row, &st, why, whysize);
	rc = finish_parse(&st, rc, buf, len);
	if (rc != 0) {
		manifest_free(st.m);
		return rc;
	}
	*out = st.m;
	return 0;
}

static const char *const cut_cols[] = {
	"file", "kept_bytes", "cut_bytes", "cut_sha256", "reason",
};

static int cut_row(void *ud, size_t line, const char *const *f, const size_t *l,
		   size_t nf, int torn)
{
	struct mparse *st = ud;
	struct manifest_cut c = { .file = f[0], .reason = f[4] };
	const struct manifest_entry *e;
	int rc = common_row(st, line, f, nf, torn, CUTS_HEADER, 5), bad = -1;

	if (rc != 0)
		return rc > 0 ? 0 : rc;
	e = manifest_find(st->m, f[0]);
	if (e == NULL)
		bad = 0;
	else if (parse_u64(f[1], l[1], &c.kept_bytes) != 0 ||
		 c.kept_bytes != e->bytes)
		bad = 1;
	else if (parse_u64(f[2], l[2], &c.cut_bytes) != 0 || c.cut_bytes == 0)
		bad = 2;
	else if (l[3] != 64 || !sha256_hex_ok(f[3]))
		bad = 3;
	else if (l[4] == 0 || l[4] > MANIFEST_REASON_MAX ||
		 memchr(f[4], '\0', l[4]) != NULL)
		bad = 4;
	if (bad >= 0) {
		core_set_why(st->why, st->whysize,
			     "line %zu: field '%s': invalid", line,
			     cut_cols[bad]);
		return CORE_EPARSE;
	}
	memcpy(c.cut_sha256, f[3], 65);
	rc = manifest_add_cut(st->m, &c);
	if (rc == CORE_EEXIST)
		core_set_why(st->why, st->whysize,
			     "line %zu: field 'file': duplicate name", line);
	return rc == CORE_EEXIST ? CORE_EPARSE : rc;
}

int manifest_parse_cuts(struct manifest *m, const char *buf, size_t len,
			char *why, size_t whysize)
{
	struct mparse st = { .m = m, .why = why, .whysize = whysize };
	int rc;

	if (len > MANIFEST_MAX_BYTES)
		return CORE_ETOOBIG;
	rc = manifest__csv_each(buf, len, cut_row, &st, why, whysize);
	return finish_parse(&st, rc, buf, len);
}

static int entry_cmp(const struct manifest_entry *a,
		     const struct manifest_entry *b)
{
	return strcmp(a->file, b->file) != 0 || a->bytes != b->bytes ||
	       a->rows != b->rows || strcmp(a->sha256, b->sha256) != 0 ||
	       a->has_times != b->has_times || a->first_ts != b->first_ts ||
	       a->last_ts != b->last_ts;
}

static int cut_cmp(const struct manifest_cut *a, const struct manifest_cut *b)
{
	return strcmp(a->file, b->file) != 0 ||
	       a->kept_bytes != b->kept_bytes || a->cut_bytes != b->cut_bytes ||
	       strcmp(a->cut_sha256, b->cut_sha256) != 0 ||
	       strcmp(a->reason, b->reason) != 0;
}

int manifest_compare(const struct manifest *a, const struct manifest *b,
		     char *why, size_t whysize)
{
	if (a->n != b->n) {
		core_set_why(why, whysize, "%zu files against %zu", a->n, b->n);
		return CORE_ECORRUPT;
	}
	for (size_t i = 0; i < a->n; i++)
		if (entry_cmp(&a->e[i], &b->e[i])) {
			core_set_why(why, whysize, "entry %zu ('%s') differs",
				     i + 1, a->e[i].file);
			return CORE_ECORRUPT;
		}
	if (a->nc != b->nc) {
		core_set_why(why, whysize, "%zu cuts against %zu", a->nc,
			     b->nc);
		return CORE_ECORRUPT;
	}
	for (size_t i = 0; i < a->nc; i++)
		if (cut_cmp(&a->c[i], &b->c[i])) {
			core_set_why(why, whysize, "cut of '%s' differs",
				     a->c[i].file);
			return CORE_ECORRUPT;
		}
	return 0;
}
