/*
 * The hourly CSV writer. Rows are formatted into one buffer (made with
 * the first row, freed when the file turns quiet) and handed to write(2)
 * as whole lines; the end offset of every buffered
 * row is kept, so a write that fails half-way is cut back to the last
 * row boundary and the file never holds a partial line. Reopening an
 * existing file recovers what a crash left at its end first
 * (hourfile_recover.c).
 *
 * Blocks: the writer knows where the run of block rows that ends the
 * file starts (tail_off; tracked across writes, found again on reopen by
 * walking records back from the end with the quote-parity rule of
 * hourfile_recover.c), and
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
#include "hourfile_int.h"
#include "banned.h"

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
	/* No buffer until the first row, and a small one then: a recorder
	 * has three files per symbol, and most take a row now and then (a
	 * thousand symbols, 192 MiB if each began at 64 KiB, much of it
	 * resident). */
	hf->row_end = calloc(hf->buffer_size, sizeof(*hf->row_end));
	hf->row_block = calloc(hf->buffer_size, sizeof(*hf->row_block));
	hf->rf = calloc(o->schema->ncols + 1, sizeof(*hf->rf));
	hf->rl = calloc(o->schema->ncols + 1, sizeof(*hf->rl));
	if (!hf->data_dir || !hf->exchange || !hf->symbol || !hf->hdr ||
	    !hf->row_end || !hf->row_block || !hf->rf || !hf->rl)
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

size_t hourfile_buffer_bytes(const struct hourfile *hf)
{
	return hf->bufsize;
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

/*
 * After a write the age of the oldest row forced, the file is slow: its
 * buffer goes until the next row; after a burst that filled buffer_size
 * rows, a grown buffer goes too (the next row starts at START_BUF). A
 * recorder has three files per pair, and a thousand pairs' files would
 * otherwise each keep the buffer of their largest burst (a deep snapshot
 * block) for good.
 */
static void release_buf(struct hourfile *hf)
{
	if (hf->used != 0)
		return;
	free(hf->buf);
	hf->buf = NULL;
	hf->bufsize = 0;
}

static int maybe_flush(struct hourfile *hf, int64_t now)
{
	int rc = 0, rc2;

	if (hf->nrows > 0 && hf->nrows >= hf->buffer_size) {
		rc = write_out(hf);
		/* A burst (a deep snapshot block) grew it: back to small. */
		if (rc == 0 && hf->bufsize > START_BUF)
			release_buf(hf);
	} else if (hf->nrows > 0 && now - hf->oldest_us >= hf->flush_us) {
		rc = write_out(hf);
		if (rc == 0)
			release_buf(hf);
	}
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

bool hourfile__needs_quotes(const char *f, size_t len)
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
		if (!hourfile__needs_quotes(fields[i], lens[i])) {
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
			   : hourfile__needs_quotes(fields[i], lens[i])) {
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

/* The row buffer reallocated to `want` bytes; 0 or CORE_ENOMEM. */
static int resize_buf(struct hourfile *hf, size_t want)
{
	char *nb = realloc(hf->buf, want);

	if (nb == NULL)
		return CORE_ENOMEM;
	hf->buf = nb;
	hf->bufsize = want;
	return 0;
}

/* Room for `need` more bytes: write out first, grow only up to the cap. */
static int make_room(struct hourfile *hf, size_t need, int *flush_rc)
{
	size_t want;

	if (hf->bufsize - hf->used >= need)
		return 0;
	/* Grow to the planned size before writing rows out early. */
	if (hf->bufsize < hf->planned && hf->used + need <= hf->planned) {
		want = hf->bufsize ? hf->bufsize * 2 : START_BUF;
		while (want < hf->used + need)
			want *= 2;
		if (want > hf->planned)
			want = hf->planned;
		return resize_buf(hf, want);
	}
	if (hf->nrows > 0)
		*flush_rc = write_out(hf);
	if (hf->bufsize - hf->used >= need)
		return 0;
	want = hf->bufsize * 2 > need ? hf->bufsize * 2 : need;
	if (want < START_BUF)
		want = START_BUF;
	if (want > hf->cap)
		want = hf->cap;
	if (want < need)
		return CORE_ETOOBIG;
	return resize_buf(hf, want);
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

/* Sum of the field lengths plus commas and '\n': a plain row's size. */
static size_t plain_size(const size_t *lens, size_t n)
{
	size_t total = n;

	for (size_t i = 0; i < n; i++)
		total += lens[i];
	return total;
}

/*
 * Buffer a row already checked (or trusted) and measured: roll the hour,
 * make room, cut an unfinished block, format. `need` is SIZE_MAX when
 * the row is past the cap, `rc` a check's failure.
 */
static int append_row(struct hourfile *hf, int64_t local_us,
		      const char *const *fields, const size_t *lens,
		      size_t nfields, int rc, size_t need, uint64_t quoted)
{
	int flush_rc = 0;
	bool blk = false;
	int64_t now;

	if (rc == 0 && need > hf->cap)
		rc = CORE_ETOOBIG;
	if (rc == 0 && hourfile_would_roll(hf, local_us))
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

int hourfile_append(struct hourfile *hf, int64_t local_us,
		    const char *const *fields, const size_t *lens,
		    size_t nfields)
{
	char why[160];
	uint64_t quoted = 0;
	size_t need = 0;
	int rc = 0;

	if (nfields != hf->schema->ncols)
		rc = CORE_EINVAL;
	else if (schema_check_row(hf->schema, fields, lens, nfields, why,
				  sizeof(why)) != 0)
		rc = CORE_ESCHEMA;
	else
		need = row_size(hf, fields, lens, nfields, &quoted);
	return append_row(hf, local_us, fields, lens, nfields, rc, need,
			  quoted);
}

int hourfile_append_plain(struct hourfile *hf, int64_t local_us,
			  const char *const *fields, const size_t *lens,
			  size_t nfields)
{
	int rc = nfields != hf->schema->ncols ? CORE_EINVAL : 0;

	return append_row(hf, local_us, fields, lens, nfields, rc,
			  plain_size(lens, nfields), 0);
}

/* Open (and recover) the current hour's file; on failure none is open. */
static int open_current(struct hourfile *hf)
{
	int rc = hourfile__open_recover(hf);

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
