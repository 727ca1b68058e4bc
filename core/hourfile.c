/*
 * The hourly CSV writer. Rows are formatted into one preallocated buffer
 * and handed to write(2) as whole lines; the end offset of every buffered
 * row is kept, so a write that fails half-way is cut back to the last
 * row boundary and the file never holds a partial line.
 *
 * Reopening an existing file (a restart in the same hour, or a reopen
 * after a failed fdatasync) recovers it before appending: the first line
 * must be our header, bytes after the last '\n' are a torn tail and are
 * cut, and the last record is split and checked against the schema and
 * cut too when it does not pass (a crash can leave a complete-looking but
 * wrong line). Records may hold quoted newlines, so the last record's
 * start is found by quote parity: going back from the end of a complete
 * file, the first '\n' with an even number of '"' after it is outside
 * any quotes. When no such record passes (a tail torn inside a quoted
 * field, or garbage), the last physical line is cut and the check runs
 * again, so only the bad end of the file is ever read or removed.
 *
 * Blocks: the writer knows where the run of block rows that ends the
 * file starts (tail_off; tracked across writes, found again on reopen by
 * walking records back from the end with the same parity rule), and
 * which buffered rows are block rows (row_block). When a new block
 * begins, the trailing run is removed before the new block's first row
 * is buffered: from the buffer, and from the file with ftruncate + fsync
 * when no buffered row follows it. The fsync comes before anything new
 * is written, so a power cut can never leave new rows on disk in place
 * of the old block's bytes while the old file size survives (the rest
 * of the old block would follow them). A kill or power cut
 * at any point leaves a file that either still ends in the old run
 * (whatever part of it got to disk; the next block cuts it) or holds it
 * no more: a new block is never read as part of an old one.
 */
#include "hourfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csv.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "schema.h"
#include "timeutil.h"
#include "banned.h"

#define DEFAULT_CAP	  ((size_t)16 << 20)
#define MIN_BUF		  ((size_t)64 << 10)
#define START_BUF	  ((size_t)4 << 10)
#define MAX_BUFFER_ROWS	  ((size_t)1 << 20)
#define TAIL_WINDOW	  ((size_t)64 << 10)
#define MAX_RECOVERY_CUTS 256
#define CLOSE_GRACE_US	  (5 * US_PER_SEC)
#define DIR_MODE	  0750
#define FILE_MODE	  0640

struct hourfile {
	char *data_dir, *exchange, *symbol;
	const struct schema *schema;
	size_t buffer_size, cap;
	int64_t flush_us, fsync_us;
	int64_t (*clock_us)(void);

	char *hdr; /* header row with its '\n' */
	size_t hdr_len;

	int fd;		  /* -1 when no file is open */
	bool have_hour;	  /* cur_hour is set */
	int64_t cur_hour; /* start of the current hour, µs */
	off_t file_size;  /* bytes in the file, as we appended them */
	char *dir, *path; /* of the current hour; 2 x PATH_MAX inline made
			   * every object 8 KiB, all of it touched by calloc */

	char *buf; /* formatted rows; row_end[i] is the end of row i */
	size_t used, bufsize;
	size_t planned; /* bufsize grows to this before rows go out early */
	size_t *row_end, nrows;
	int64_t oldest_us; /* clock when the first buffered row came */

	int block_col;		  /* the block column, or -1 */
	unsigned char *row_block; /* row i of the buffer is a block row */
	off_t tail_off;		  /* where the file's trailing run of block
				   * rows starts; file_size when none */
	uint64_t tail_rows;	  /* rows in that run */
	bool block_pending;	  /* the next row starts a block */

	bool dirty; /* written but not yet fdatasync'ed */
	int64_t dirty_since;
	bool gap;

	const char **rf; /* recovery: fields of one record, ncols + 1 */
	size_t *rl;

	struct hourfile_stats st;
};

static bool bad_name(const char *s)
{
	return s == NULL || *s == '\0' || strchr(s, '/') != NULL ||
	       strcmp(s, ".") == 0 || strcmp(s, "..") == 0;
}

static int alloc_parts(struct hourfile *hf, const struct hourfile_opts *o)
{
	hf->data_dir = strdup(o->data_dir);
	hf->exchange = strdup(o->exchange);
	hf->symbol = strdup(o->symbol);
	hf->hdr_len = strlen(o->schema->header) + 1;
	hf->hdr = malloc(hf->hdr_len);
	hf->planned = hf->buffer_size * 256;
	if (hf->planned < MIN_BUF)
		hf->planned = MIN_BUF;
	if (hf->planned > hf->cap)
		hf->planned = hf->cap;
	/* Start small: a recorder has three files per symbol, and most
	 * take a row now and then (a thousand symbols, 192 MiB if each
	 * began at 64 KiB, much of it resident). */
	hf->bufsize = hf->planned < START_BUF ? hf->planned : START_BUF;
	hf->buf = malloc(hf->bufsize);
	hf->row_end = calloc(hf->buffer_size, sizeof(*hf->row_end));
	hf->row_block = calloc(hf->buffer_size, sizeof(*hf->row_block));
	hf->rf = calloc(o->schema->ncols + 1, sizeof(*hf->rf));
	hf->rl = calloc(o->schema->ncols + 1, sizeof(*hf->rl));
	if (!hf->data_dir || !hf->exchange || !hf->symbol || !hf->hdr ||
	    !hf->buf || !hf->row_end || !hf->row_block || !hf->rf || !hf->rl)
		return CORE_ENOMEM;
	memcpy(hf->hdr, o->schema->header, hf->hdr_len - 1);
	hf->hdr[hf->hdr_len - 1] = '\n';
	return 0;
}

/* Index of the bool column `name`, -1 for none (NULL), -2 if absent. */
static int find_block_col(const struct schema *sc, const char *name)
{
	if (name == NULL)
		return -1;
	for (size_t i = 0; i < sc->ncols && i < INT_MAX; i++)
		if (strcmp(sc->cols[i].name, name) == 0 &&
		    sc->cols[i].type == SCHEMA_BOOL)
			return (int)i;
	return -2;
}

int hourfile_new(struct hourfile **out, const struct hourfile_opts *o)
{
	struct hourfile *hf;
	int rc, bc;

	*out = NULL;
	if (o->schema == NULL || o->data_dir == NULL || *o->data_dir == '\0' ||
	    bad_name(o->exchange) || bad_name(o->symbol) ||
	    o->flush_interval_us < 0 || o->fsync_interval_us < 0 ||
	    (bc = find_block_col(o->schema, o->block_column)) < -1)
		return CORE_EINVAL;
	hf = calloc(1, sizeof(*hf));
	if (hf == NULL)
		return CORE_ENOMEM;
	hf->fd = -1;
	hf->block_col = bc;
	hf->schema = o->schema;
	hf->buffer_size = o->buffer_size ? o->buffer_size : 1;
	if (hf->buffer_size > MAX_BUFFER_ROWS)
		hf->buffer_size = MAX_BUFFER_ROWS;
	hf->cap = o->max_buffer_bytes ? o->max_buffer_bytes : DEFAULT_CAP;
	hf->flush_us = o->flush_interval_us;
	hf->fsync_us = o->fsync_interval_us;
	hf->clock_us = o->clock_us ? o->clock_us : time_mono_us;
	if ((rc = alloc_parts(hf, o)) != 0) {
		hourfile_free(hf);
		return rc;
	}
	*out = hf;
	return 0;
}

void hourfile_free(struct hourfile *hf)
{
	if (hf == NULL)
		return;
	(void)hourfile_close(hf);
	free(hf->data_dir);
	free(hf->exchange);
	free(hf->symbol);
	free(hf->hdr);
	free(hf->buf);
	free(hf->row_end);
	free(hf->row_block);
	free(hf->rf);
	free(hf->rl);
	free(hf->dir);
	free(hf->path);
	free(hf);
}

int hourfile_path_for(char *dst, size_t size, const char *data_dir,
		      const char *exchange, const char *symbol,
		      const char *dataset, int64_t local_us)
{
	char date[11], hour[3];
	int rc = time_date_hour(local_us, date, hour), n;

	if (rc != 0)
		return rc;
	n = snprintf(dst, size, "%s/live/%s/%s/%s/%s.%s.csv", data_dir,
		     exchange, date, hour, symbol, dataset);
	if (n < 0 || (size_t)n >= size)
		return CORE_ETOOBIG;
	return 0;
}

bool hourfile_would_roll(const struct hourfile *hf, int64_t local_us)
{
	return hf->fd < 0 || !hf->have_hour ||
	       time_hour_floor(local_us) != hf->cur_hour;
}

bool hourfile_take_gap(struct hourfile *hf)
{
	bool g = hf->gap;

	hf->gap = false;
	return g;
}

void hourfile_begin_block(struct hourfile *hf)
{
	hf->block_pending = hf->block_col >= 0;
}

void hourfile_discard(struct hourfile *hf)
{
	hf->st.rows_dropped += hf->nrows;
	if (hf->nrows > 0)
		hf->gap = true;
	hf->nrows = 0;
	hf->used = 0;
}

size_t hourfile_buffered(const struct hourfile *hf)
{
	return hf->nrows;
}

const char *hourfile_path(const struct hourfile *hf)
{
	return hf->have_hour ? hf->path : NULL;
}

void hourfile_get_stats(const struct hourfile *hf, struct hourfile_stats *st)
{
	*st = hf->st;
}

/* ------------------------------------------------------------ writing */

static void drop_buffer(struct hourfile *hf, size_t from_row)
{
	hf->st.rows_dropped += hf->nrows - from_row;
	if (hf->nrows > from_row)
		hf->gap = true;
	hf->nrows = 0;
	hf->used = 0;
}

/*
 * Rows 0..k-1 of the buffer were appended to the file at offset `at`:
 * move the file's trailing block run past them unless they continue it.
 */
static void note_written(struct hourfile *hf, off_t at, size_t k)
{
	size_t r = k;

	while (r > 0 && hf->row_block[r - 1])
		r--;
	if (r == 0 && hf->tail_off < at) {
		hf->tail_rows += k;
		return;
	}
	hf->tail_off = at + (off_t)(r ? hf->row_end[r - 1] : 0);
	hf->tail_rows = k - r;
}

/* Close after an error; the next row reopens (and recovers) the file. */
static void close_suspect(struct hourfile *hf)
{
	int saved = errno;

	if (hf->fd >= 0)
		close(hf->fd);
	hf->fd = -1;
	hf->dirty = false;
	hf->gap = true;
	errno = saved;
}

/*
 * A write that failed after `done` bytes: keep the whole rows among
 * them, cut the file back to the last row boundary, drop the rest.
 */
static int write_failed(struct hourfile *hf, size_t done)
{
	int saved = errno;
	size_t k = 0, keep;

	while (k < hf->nrows && hf->row_end[k] <= done)
		k++;
	keep = k ? hf->row_end[k - 1] : 0;
	note_written(hf, hf->file_size, k);
	if (done > keep && ftruncate(hf->fd, hf->file_size + (off_t)keep) < 0) {
		log_debug("ftruncate '%s': %s", hf->path, strerror(errno));
		close_suspect(hf);
	}
	hf->st.write_errors++;
	hf->st.rows_written += k;
	hf->st.bytes += keep;
	hf->file_size += (off_t)keep;
	if (keep > 0 && !hf->dirty) {
		hf->dirty = true;
		hf->dirty_since = hf->clock_us();
	}
	drop_buffer(hf, k);
	errno = saved;
	return CORE_ESYS;
}

static int do_sync(struct hourfile *hf)
{
	if (hf->fd < 0 || !hf->dirty)
		return 0;
	if (fdatasync(hf->fd) < 0) {
		/* The kernel may have dropped the pages already (see
		 * LIBRARIES.md §10): never retry, reopen instead. */
		hf->st.write_errors++;
		close_suspect(hf);
		return CORE_ESYS;
	}
	hf->dirty = false;
	hf->st.syncs++;
	return 0;
}

static int open_current(struct hourfile *hf);

/*
 * write(2) every buffered row, then sync if fsync_interval is 0. The
 * rows belong to the current hour; its file is reopened if an error
 * closed it.
 */
static int write_out(struct hourfile *hf)
{
	size_t done = 0;
	int rc;

	if (hf->nrows == 0)
		return 0;
	if (hf->fd < 0 && (rc = open_current(hf)) != 0) {
		drop_buffer(hf, 0);
		return rc;
	}
	while (done < hf->used) {
		ssize_t n = write(hf->fd, hf->buf + done, hf->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return write_failed(hf, done);
		}
		done += (size_t)n;
	}
	note_written(hf, hf->file_size, hf->nrows);
	hf->st.rows_written += hf->nrows;
	hf->st.bytes += hf->used;
	hf->file_size += (off_t)hf->used;
	hf->nrows = 0;
	hf->used = 0;
	if (!hf->dirty) {
		hf->dirty = true;
		hf->dirty_since = hf->clock_us();
	}
	return hf->fsync_us == 0 ? do_sync(hf) : 0;
}

static int close_file(struct hourfile *hf)
{
	int rc = write_out(hf);
	int rc2 = do_sync(hf);

	if (rc == 0)
		rc = rc2;
	if (hf->fd >= 0 && close(hf->fd) < 0) {
		hf->st.write_errors++;
		if (rc == 0)
			rc = CORE_ESYS;
	}
	hf->fd = -1;
	hf->dirty = false;
	return rc;
}

int hourfile_close(struct hourfile *hf)
{
	return close_file(hf);
}

int hourfile_sync(struct hourfile *hf)
{
	int rc = write_out(hf);

	return rc ? rc : do_sync(hf);
}

static int maybe_flush(struct hourfile *hf, int64_t now)
{
	int rc = 0, rc2;

	if (hf->nrows > 0 && (hf->nrows >= hf->buffer_size ||
			      now - hf->oldest_us >= hf->flush_us))
		rc = write_out(hf);
	if (hf->dirty && now - hf->dirty_since >= hf->fsync_us) {
		rc2 = do_sync(hf);
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

int hourfile_tick(struct hourfile *hf, int64_t wall_us)
{
	int rc = maybe_flush(hf, hf->clock_us()), rc2;

	if (hf->fd >= 0 && hf->have_hour &&
	    wall_us >= hf->cur_hour + US_PER_HOUR + CLOSE_GRACE_US) {
		rc2 = close_file(hf);
		if (rc == 0)
			rc = rc2;
	}
	return rc;
}

/* ------------------------------------------------------------ formatting */

/* Bytes that put a field in quotes wherever they are. */
static const bool quote_byte[256] = {
	[','] = true,
	['"'] = true,
	['\r'] = true,
	['\n'] = true,
};

static bool needs_quotes(const char *f, size_t len)
{
	if (len == 0)
		return false;
	if (f[0] == ' ' || f[0] == '\t' || f[len - 1] == ' ' ||
	    f[len - 1] == '\t')
		return true;
	for (size_t i = 0; i < len; i++)
		if (quote_byte[(unsigned char)f[i]])
			return true;
	return false;
}

/*
 * Bytes the row takes formatted, '\n' included; SIZE_MAX past the cap.
 * Bit i of *quoted is set when field i (i < 64) needs quotes, so
 * format_row does not scan the fields again.
 */
static size_t row_size(const struct hourfile *hf, const char *const *fields,
		       const size_t *lens, size_t n, uint64_t *quoted)
{
	size_t total = n; /* the commas and the '\n' */

	*quoted = 0;
	for (size_t i = 0; i < n; i++) {
		if (!needs_quotes(fields[i], lens[i])) {
			total += lens[i];
		} else {
			total += csv_write(NULL, 0, fields[i], lens[i]);
			if (i < 64)
				*quoted |= (uint64_t)1 << i;
		}
		if (total > hf->cap)
			return SIZE_MAX;
	}
	return total;
}

static void format_row(struct hourfile *hf, const char *const *fields,
		       const size_t *lens, size_t n, uint64_t quoted, bool blk)
{
	char *p = hf->buf + hf->used;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			*p++ = ',';
		if (i < 64 ? (quoted >> i) & 1
			   : needs_quotes(fields[i], lens[i])) {
			p += csv_write(p,
				       csv_write(NULL, 0, fields[i], lens[i]),
				       fields[i], lens[i]);
		} else if (lens[i] > 0) {
			memcpy(p, fields[i], lens[i]);
			p += lens[i];
		}
	}
	*p++ = '\n';
	hf->used = (size_t)(p - hf->buf);
	hf->row_block[hf->nrows] = blk;
	hf->row_end[hf->nrows++] = hf->used;
}

/* Room for `need` more bytes: write out first, grow only up to the cap. */
static int make_room(struct hourfile *hf, size_t need, int *flush_rc)
{
	size_t want;
	char *nb;

	if (hf->bufsize - hf->used >= need)
		return 0;
	/* Grow to the planned size before writing rows out early. */
	if (hf->bufsize < hf->planned && hf->used + need <= hf->planned) {
		want = hf->bufsize * 2;
		while (want < hf->used + need)
			want *= 2;
		if (want > hf->planned)
			want = hf->planned;
		nb = realloc(hf->buf, want);
		if (nb == NULL)
			return CORE_ENOMEM;
		hf->buf = nb;
		hf->bufsize = want;
		return 0;
	}
	if (hf->nrows > 0)
		*flush_rc = write_out(hf);
	if (hf->bufsize - hf->used >= need)
		return 0;
	want = hf->bufsize * 2 > need ? hf->bufsize * 2 : need;
	if (want > hf->cap)
		want = hf->cap;
	if (want < need)
		return CORE_ETOOBIG;
	nb = realloc(hf->buf, want);
	if (nb == NULL)
		return CORE_ENOMEM;
	hf->buf = nb;
	hf->bufsize = want;
	return 0;
}

/* Is this row, already checked against the schema, a block row? */
static bool is_block_row(const struct hourfile *hf, const char *const *fields,
			 const size_t *lens)
{
	size_t c = (size_t)hf->block_col;

	return hf->block_col >= 0 && lens[c] == 4 &&
	       memcmp(fields[c], "true", 4) == 0;
}

/*
 * A new block starts with the row about to be buffered: remove the run
 * of block rows that ends what was appended, from the buffer and, when
 * no buffered row follows it, from the file (see the top of the file).
 */
static int cut_block(struct hourfile *hf)
{
	size_t r = hf->nrows;

	while (r > 0 && hf->row_block[r - 1])
		r--;
	hf->st.rows_superseded += hf->nrows - r;
	hf->nrows = r;
	hf->used = r ? hf->row_end[r - 1] : 0;
	if (r > 0 || hf->tail_off >= hf->file_size)
		return 0;
	if (ftruncate(hf->fd, hf->tail_off) < 0 || fsync(hf->fd) < 0) {
		hf->st.write_errors++;
		close_suspect(hf);
		return CORE_ESYS;
	}
	log_debug("'%s': cut %llu rows of an unfinished block", hf->path,
		  (unsigned long long)hf->tail_rows);
	hf->st.rows_cut += hf->tail_rows;
	hf->st.syncs++;
	hf->file_size = hf->tail_off;
	hf->tail_rows = 0;
	hf->dirty = false;
	return 0;
}

int hourfile_append(struct hourfile *hf, int64_t local_us,
		    const char *const *fields, const size_t *lens,
		    size_t nfields)
{
	char why[160];
	int rc = 0, flush_rc = 0;
	uint64_t quoted = 0;
	size_t need;
	int64_t now;
	bool blk = false;

	if (nfields != hf->schema->ncols)
		rc = CORE_EINVAL;
	else if (schema_check_row(hf->schema, fields, lens, nfields, why,
				  sizeof(why)) != 0)
		rc = CORE_ESCHEMA;
	else if ((need = row_size(hf, fields, lens, nfields, &quoted)) ==
		 SIZE_MAX)
		rc = CORE_ETOOBIG;
	else if (hourfile_would_roll(hf, local_us))
		rc = hourfile_open(hf, local_us);
	if (rc == 0)
		rc = make_room(hf, need, &flush_rc);
	/* A failed write-out may have closed a suspect file: reopen it. */
	if (rc == 0 && hf->fd < 0)
		rc = hourfile_open(hf, local_us);
	if (rc == 0)
		blk = is_block_row(hf, fields, lens);
	/* Last, so nothing between the cut and this row can fail. */
	if (rc == 0 && hf->block_pending && blk)
		rc = cut_block(hf);
	if (rc != 0) {
		hf->st.rows_dropped++;
		hf->gap = true;
		return rc;
	}
	hf->block_pending = false;
	now = hf->clock_us();
	if (hf->nrows == 0)
		hf->oldest_us = now;
	format_row(hf, fields, lens, nfields, quoted, blk);
	rc = maybe_flush(hf, now);
	return flush_rc ? flush_rc : rc;
}

/* ------------------------------------------------------------ recovery */

static int cut_to(struct hourfile *hf, off_t *size, off_t to)
{
	if (ftruncate(hf->fd, to) < 0)
		return CORE_ESYS;
	hf->st.torn_bytes_cut += (uint64_t)(*size - to);
	*size = to;
	return 0;
}

/* Offset of the last '\n' before `end`, or -1. */
static int last_newline(int rfd, off_t end, off_t *pos)
{
	char chunk[4096];

	*pos = -1;
	while (end > 0) {
		size_t n = end > (off_t)sizeof(chunk) ? sizeof(chunk)
						      : (size_t)end;
		const char *nl;
		int rc = fs_pread_full(rfd, chunk, n, end - (off_t)n);

		if (rc != 0)
			return rc == CORE_EPARSE ? CORE_ECORRUPT : rc;
		nl = memrchr(chunk, '\n', n);
		if (nl != NULL) {
			*pos = end - (off_t)n + (nl - chunk);
			return 0;
		}
		end -= (off_t)n;
	}
	return 0;
}

/*
 * Split one record (without its '\n') strictly as we write them into
 * hf->rf/rl, unquoting into `scratch` (at least n bytes). Returns the
 * field count, or -1 when it is not a record we could have written.
 */
static long split_record(struct hourfile *hf, const char *s, size_t n,
			 char *scratch)
{
	size_t i = 0, o = 0, nf = 0, max = hf->schema->ncols + 1;

	for (;;) {
		if (nf == max)
			return -1;
		if (i < n && s[i] == '"') {
			size_t start = o;

			for (i++;; i++) {
				if (i >= n)
					return -1;
				if (s[i] == '"' &&
				    (i + 1 >= n || s[i + 1] != '"'))
					break;
				if (s[i] == '"')
					i++;
				scratch[o++] = s[i];
			}
			i++;
			hf->rf[nf] = scratch + start;
			hf->rl[nf++] = o - start;
		} else {
			size_t start = i;

			while (i < n && s[i] != ',') {
				if (s[i] == '"' || s[i] == '\r' || s[i] == '\n')
					return -1;
				i++;
			}
			if (needs_quotes(s + start, i - start))
				return -1;
			hf->rf[nf] = s + start;
			hf->rl[nf++] = i - start;
		}
		if (i == n)
			return (long)nf;
		if (s[i++] != ',')
			return -1;
	}
}

/* Is the record text (no '\n') a row of our schema? */
static bool record_ok(struct hourfile *hf, const char *s, size_t n)
{
	char *scratch = malloc(n ? n : 1), why[160];
	long nf = scratch ? split_record(hf, s, n, scratch) : -1;
	bool ok = nf >= 0 &&
		  schema_check_row(hf->schema, hf->rf, hf->rl, (size_t)nf, why,
				   sizeof(why)) == 0;

	if (!ok)
		log_debug("'%s': last record is not a row: %s", hf->path,
			  nf < 0 ? "malformed CSV" : why);
	free(scratch);
	return ok;
}

/*
 * Find where the last record of [lo, end) starts (end is just past a
 * '\n'): the first '\n' back from the end with an even number of '"'
 * after it, read through a window that grows up to the largest row we
 * write. *start = -1 when there is none (the end is inside quotes).
 */
static int last_record(struct hourfile *hf, int rfd, off_t lo, off_t end,
		       char **win, size_t *wlen, off_t *start)
{
	size_t span = (size_t)(end - lo), w = TAIL_WINDOW;

	*start = -1;
	for (;; w *= 4) {
		unsigned quotes = 0;
		char *nb;
		size_t i;

		if (w > span)
			w = span;
		if ((nb = realloc(*win, w)) == NULL)
			return CORE_ENOMEM;
		*win = nb;
		*wlen = w;
		if (fs_pread_full(rfd, *win, w, end - (off_t)w) != 0)
			return CORE_ECORRUPT;
		for (i = w - 1; i-- > 0;) {
			if ((*win)[i] == '"')
				quotes++;
			else if ((*win)[i] == '\n' && quotes % 2 == 0)
				break;
		}
		if (i != (size_t)-1 || (w == span && quotes % 2 == 0)) {
			*start = end - (off_t)w + (off_t)(i + 1);
			return 0;
		}
		if (w == span || w > hf->cap)
			return 0;
	}
}

/*
 * Cut the end of the file back, one physical line at a time, until the
 * last record is a valid row. Cutting only the last line is always
 * safe: when the file ends with a complete record, the parity rule finds
 * exactly that record; when it did not pass, the last line belongs to
 * garbage or to a torn record. (Cutting the whole candidate instead
 * could remove good rows when garbage holds an odd number of quotes.)
 */
static int cut_bad_records(struct hourfile *hf, int rfd, off_t *size)
{
	off_t lo = (off_t)hf->hdr_len, start, nl;
	char *win = NULL;
	size_t wlen = 0;
	int rc = 0;

	for (int cuts = 0; *size > lo; cuts++) {
		if (cuts == MAX_RECOVERY_CUTS) {
			rc = CORE_ECORRUPT;
			break;
		}
		rc = last_record(hf, rfd, lo, *size, &win, &wlen, &start);
		if (rc != 0)
			break;
		if (start >= 0 &&
		    record_ok(hf, win + wlen - (size_t)(*size - start),
			      (size_t)(*size - start) - 1))
			break;
		/* The header's '\n' at lo - 1 bounds the search. */
		if ((rc = last_newline(rfd, *size - 1, &nl)) != 0 ||
		    (rc = cut_to(hf, size, nl + 1 > lo ? nl + 1 : lo)) != 0)
			break;
	}
	free(win);
	return rc;
}

/* Check the header and recover the tail of an existing, non-empty file. */
static int recover(struct hourfile *hf, int rfd, off_t *size)
{
	off_t nl;
	char *first;
	int rc = last_newline(rfd, *size, &nl);

	if (rc != 0)
		return rc;
	if (nl < 0) /* no complete line: a torn header or garbage */
		return cut_to(hf, size, 0);
	if (*size < (off_t)hf->hdr_len)
		return CORE_ESCHEMA;
	if ((first = malloc(hf->hdr_len)) == NULL)
		return CORE_ENOMEM;
	rc = fs_pread_full(rfd, first, hf->hdr_len, 0);
	if (rc == 0 && memcmp(first, hf->hdr, hf->hdr_len) != 0)
		rc = CORE_ESCHEMA;
	free(first);
	if (rc != 0)
		return rc;
	if (nl + 1 < *size && (rc = cut_to(hf, size, nl + 1)) != 0)
		return rc;
	return cut_bad_records(hf, rfd, size);
}

/* Is the record text (no '\n') a block row? Malformed ones are not. */
static bool record_in_block(struct hourfile *hf, const char *s, size_t n,
			    char *scratch)
{
	long nf = split_record(hf, s, n, scratch);
	size_t c = (size_t)hf->block_col;

	return nf > (long)c && hf->rl[c] == 4 &&
	       memcmp(hf->rf[c], "true", 4) == 0;
}

/*
 * Walk the records in the window win[0..n) (file offsets base..) back
 * from rec_end (just past a record's '\n'), adding each block row to the
 * trailing run. Returns 1 when a row that is not a block row (or the
 * window's start, when it is `lo`) ended the run, 0 when the next window
 * must go on from the returned *rec_end.
 */
static int scan_window(struct hourfile *hf, const char *win, size_t *rec_end,
		       off_t base, bool at_lo, char *scratch)
{
	unsigned quotes = 0;
	size_t i = *rec_end - 1;

	while (i > 0) {
		char c = win[--i];

		if (c == '"') {
			quotes++;
		} else if (c == '\n' && quotes % 2 == 0) {
			if (!record_in_block(hf, win + i + 1,
					     *rec_end - 1 - (i + 1), scratch))
				return 1;
			hf->tail_off = base + (off_t)(i + 1);
			hf->tail_rows++;
			*rec_end = i + 1;
		}
	}
	if (!at_lo)
		return 0;
	if (record_in_block(hf, win, *rec_end - 1, scratch)) {
		hf->tail_off = base;
		hf->tail_rows++;
	}
	return 1;
}

/*
 * Find the run of block rows that ends the file's records [lo, end)
 * (end just past a whole, valid record): hf->tail_off, hf->tail_rows.
 * Windows of TAIL_WINDOW are read back from the end, growing for a
 * record longer than one, up to the buffer cap.
 */
static int scan_tail(struct hourfile *hf, int rfd, off_t lo, off_t end)
{
	size_t w = TAIL_WINDOW;
	char *win = NULL, *scratch = NULL;
	off_t cur = end;
	int rc = 0;

	hf->tail_off = end;
	hf->tail_rows = 0;
	while (hf->block_col >= 0 && cur > lo) {
		size_t n = (size_t)(cur - lo) < w ? (size_t)(cur - lo) : w;
		off_t base = cur - (off_t)n;
		size_t rec_end = n;
		char *nw = realloc(win, n), *ns;

		if (nw != NULL)
			win = nw;
		ns = nw ? realloc(scratch, n) : NULL;
		if (ns == NULL) {
			rc = CORE_ENOMEM;
			break;
		}
		scratch = ns;
		if (fs_pread_full(rfd, win, n, base) != 0) {
			rc = CORE_ECORRUPT;
			break;
		}
		if (scan_window(hf, win, &rec_end, base, base == lo, scratch))
			break;
		if (rec_end == n) { /* a record longer than the window */
			if (w > hf->cap)
				break;
			w *= 4;
			continue;
		}
		cur = base + (off_t)rec_end;
	}
	free(win);
	free(scratch);
	return rc;
}

/* Recover an existing file opened on hf->fd; *size is its size. */
static int reopen_existing(struct hourfile *hf, off_t *size)
{
	uint64_t cut_before = hf->st.torn_bytes_cut;
	int rfd = open(hf->path, O_RDONLY | O_CLOEXEC), rc, saved;

	if (rfd < 0)
		return CORE_ESYS;
	rc = recover(hf, rfd, size);
	if (rc == 0 && *size > 0)
		rc = scan_tail(hf, rfd, (off_t)hf->hdr_len, *size);
	saved = errno;
	close(rfd);
	errno = saved;
	if (rc == 0 && hf->st.torn_bytes_cut != cut_before) {
		log_debug("'%s': cut %llu torn bytes", hf->path,
			  (unsigned long long)(hf->st.torn_bytes_cut -
					       cut_before));
		if (fsync(hf->fd) < 0)
			rc = CORE_ESYS;
	}
	return rc;
}

/* Header into an empty file, made durable with its directory entry. */
static int start_file(struct hourfile *hf)
{
	int rc = fs_write_full(hf->fd, hf->hdr, hf->hdr_len);

	if (rc != 0) {
		int saved = errno;

		/* Leave an empty file, which the next open starts again. */
		if (ftruncate(hf->fd, 0) < 0)
			log_debug("ftruncate '%s': %s", hf->path,
				  strerror(errno));
		errno = saved;
		return rc;
	}
	hf->st.bytes += hf->hdr_len;
	if (fdatasync(hf->fd) < 0)
		return CORE_ESYS;
	hf->st.syncs++;
	return fs_fsync_dir(hf->dir);
}

static int open_fd(struct hourfile *hf, bool *created)
{
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

	*created = true;
	hf->fd = open(hf->path, flags | O_EXCL, FILE_MODE);
	if (hf->fd < 0 && errno == EEXIST) {
		*created = false;
		hf->fd = open(hf->path, flags, FILE_MODE);
	}
	if (hf->fd < 0)
		return CORE_ESYS;
	/* Two writers on one file would cut each other's rows. */
	if (flock(hf->fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? CORE_ELOCKED : CORE_ESYS;
	return 0;
}

static int open_recover(struct hourfile *hf)
{
	struct stat st;
	bool created;
	off_t size;
	int rc = fs_mkdir_p(hf->dir, DIR_MODE);

	if (rc == 0)
		rc = open_fd(hf, &created);
	if (rc == 0 && fstat(hf->fd, &st) < 0)
		rc = CORE_ESYS;
	if (rc != 0)
		return rc;
	size = st.st_size;
	if (size > 0 && (rc = reopen_existing(hf, &size)) != 0)
		return rc;
	if (size == 0 && (rc = start_file(hf)) != 0)
		return rc;
	hf->file_size = size ? size : (off_t)hf->hdr_len;
	if (size == 0) {
		hf->tail_off = hf->file_size;
		hf->tail_rows = 0;
	}
	hf->st.files_opened++;
	hf->st.files_created += created;
	return 0;
}

/* Open (and recover) the current hour's file; on failure none is open. */
static int open_current(struct hourfile *hf)
{
	int rc = open_recover(hf);

	if (rc != 0) {
		int saved = errno;

		if (rc == CORE_ESYS)
			hf->st.write_errors++;
		if (hf->fd >= 0)
			close(hf->fd);
		hf->fd = -1;
		hf->gap = true;
		errno = saved;
	}
	return rc;
}

int hourfile_open(struct hourfile *hf, int64_t local_us)
{
	int64_t hour = time_hour_floor(local_us);
	char path[PATH_MAX], dir[PATH_MAX], *np, *nd;
	int rc;

	if (hf->have_hour && hour == hf->cur_hour)
		return hf->fd >= 0 ? 0 : open_current(hf);
	if (hf->fd >= 0 || hf->nrows > 0)
		(void)close_file(hf); /* errors are counted in the stats */
	rc = hourfile_path_for(path, sizeof(path), hf->data_dir, hf->exchange,
			       hf->symbol, hf->schema->dataset, local_us);
	if (rc == 0)
		rc = fs_dirname(dir, sizeof(dir), path);
	if (rc != 0)
		return rc;
	np = strdup(path);
	nd = strdup(dir);
	if (np == NULL || nd == NULL) {
		free(np);
		free(nd);
		return CORE_ENOMEM;
	}
	free(hf->path);
	free(hf->dir);
	hf->path = np;
	hf->dir = nd;
	hf->have_hour = true;
	hf->cur_hour = hour;
	return open_current(hf);
}
