/*
 * Recovery of an hour file the writer reopens (see hourfile.c).
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
			if (hourfile__needs_quotes(s + start, i - start))
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

int hourfile__open_recover(struct hourfile *hf)
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
