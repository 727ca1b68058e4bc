/*
 * The hourly CSV writer: one object per <symbol, dataset>, appending
 * schema-checked rows to
 *   <data_dir>/live/<exchange>/<YYYY-MM-DD>/<HH>/<SYMBOL>.<dataset>.csv
 * with the UTC hour taken from each row's local_timestamp. Rows are
 * buffered in user space and reach the file only as whole lines through
 * write(2); a file never holds a partial line once a write fails, the
 * process is killed or restarted, and a restart in the same hour appends.
 *
 * Blocks (incremental_book_L2): a run of rows whose block column says
 * "true" is read as one block that replaces the book (the tardis rule),
 * so a block must never be continued by the next one. Block rows at the
 * very end of a file, with no other row after them, are provisional:
 * when a new block begins (hourfile_begin_block), they are removed first
 * (discarded from the buffer, or cut from the file with ftruncate and
 * fsync, also after a restart or a power cut). A row that was followed
 * by any other row is never removed.
 *
 * Not thread-safe: an object is used by one thread (the recorder's writer
 * thread), which also reads its stats.
 */
#ifndef CORE_HOURFILE_H
#define CORE_HOURFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct schema;
struct hourfile;

struct hourfile_opts {
	const char *data_dir;	     /* copied */
	const char *exchange;	     /* copied; "gateio", "mexc", ... */
	const char *symbol;	     /* copied; the exchange's own symbol */
	const struct schema *schema; /* borrowed; must outlive the object */
	/* write(2) once this many rows are buffered; 0 is taken as 1. */
	size_t buffer_size;
	/* write(2) when the oldest buffered row is this old (µs), checked by
	 * hourfile_append and hourfile_tick; 0 writes every row at once. */
	int64_t flush_interval_us;
	/* fdatasync at most this long (µs) after the first unsynced write,
	 * checked by hourfile_append and hourfile_tick; 0 syncs after every
	 * write(2). Closing an hour always syncs. */
	int64_t fsync_interval_us;
	/* Hard cap on the row buffer in bytes (0: 16 MiB). A single row
	 * larger than this is refused with CORE_ETOOBIG. */
	size_t max_buffer_bytes;
	/* Monotonic clock in µs for the intervals; NULL: time_mono_us. */
	int64_t (*clock_us)(void);
	/* Name of a bool column whose "true" rows form blocks (for
	 * incremental_book_L2: "is_snapshot"); NULL for none. */
	const char *block_column;
};

/*
 * Counters since hourfile_new. Every row handed to hourfile_append ends
 * up in exactly one of rows_written, rows_dropped and rows_superseded
 * (once written out); rows_cut are rows_written removed again.
 */
struct hourfile_stats {
	uint64_t rows_written;	  /* rows that reached a file via write(2) */
	uint64_t rows_dropped;	  /* rows refused or lost to write errors */
	uint64_t rows_superseded; /* trailing block rows discarded from the
				   * buffer when a new block began */
	uint64_t rows_cut;	  /* trailing block rows cut from a file when
				   * a new block began */
	uint64_t bytes;		  /* bytes written, headers included */
	uint64_t write_errors;	  /* failed open/write/fdatasync/close calls */
	uint64_t torn_bytes_cut;  /* bytes cut from files on reopen */
	uint64_t files_opened;	  /* hour files opened (created or reopened) */
	uint64_t files_created;	  /* of those, files this object created */
	uint64_t syncs;		  /* successful fdatasync calls */
};

/*
 * Create a writer. No file is opened until the first row (or
 * hourfile_open). Returns 0 and *out (free with hourfile_free),
 * CORE_EINVAL when a name is empty or holds '/' or is "." or "..", the
 * schema is missing or has no bool column named block_column, or
 * CORE_ENOMEM.
 */
int hourfile_new(struct hourfile **out, const struct hourfile_opts *o);

/*
 * Close like hourfile_close (errors are counted, not returned), then
 * free. NULL-safe.
 */
void hourfile_free(struct hourfile *hf);

/*
 * Format the path of the file for the hour holding `local_us` into dst.
 * Returns 0, CORE_ETOOBIG when it does not fit, or CORE_ERANGE.
 */
int hourfile_path_for(char *dst, size_t size, const char *data_dir,
		      const char *exchange, const char *symbol,
		      const char *dataset, int64_t local_us);

/*
 * True when a row with this local_timestamp would not go to the hour
 * file currently in use (no hour open yet, or another hour): the caller
 * writes a snapshot block first so each hour can be read alone.
 */
bool hourfile_would_roll(const struct hourfile *hf, int64_t local_us);

/*
 * True once after rows of the current hour were lost (a write error, a
 * failed sync or reopen): the data in the file now has a hole, so the
 * caller should write a snapshot block (or a "dropped" event) before the
 * next row. Clears the flag.
 */
bool hourfile_take_gap(struct hourfile *hf);

/*
 * Make the hour of `local_us` current and open its file: buffered rows
 * of another hour are written and that hour is closed (fdatasync,
 * close). Directories are created as needed. A new or empty file gets
 * the header; an existing one is recovered first: a torn tail (bytes
 * after the last complete row, NULs included) and a last row that does
 * not match the schema are cut (ftruncate + fsync, counted in
 * torn_bytes_cut); a file with no complete line is truncated to 0 and
 * gets the header. Nothing else is ever truncated or overwritten.
 * Returns 0; CORE_ESCHEMA when the file's first line is not this
 * schema's header (the file is left untouched; rename it aside to go
 * on); CORE_ECORRUPT when its tail cannot be made sense of; CORE_ESYS
 * (errno) or CORE_ERANGE. hourfile_append calls this itself.
 */
int hourfile_open(struct hourfile *hf, int64_t local_us);

/*
 * Append one row of `nfields` fields (need not be NUL-terminated) whose
 * local_timestamp is `local_us`. The row is checked against the schema,
 * formatted (quoted only where needed, LF-terminated) into the buffer,
 * and written out when buffer_size rows are buffered, the oldest is
 * flush_interval old, or the buffer is full. Rolls to a new hour file as
 * hourfile_open does. No allocation per row (the buffer is made with the
 * first row after a write the flush_interval forced, which frees it).
 * Returns 0 when the row was taken. Otherwise the row is not in the
 * buffer and counts as dropped: CORE_EINVAL (field count), CORE_ESCHEMA
 * (type check, or a foreign header), CORE_ETOOBIG, CORE_ENOMEM (the
 * buffer), CORE_ESYS (open failed). A write or sync error while flushing
 * older rows is returned too (CORE_ESYS, errno set) even though this row
 * was taken; those rows are counted as dropped. After any failure the next call
 * tries again.
 */
int hourfile_append(struct hourfile *hf, int64_t local_us,
		    const char *const *fields, const size_t *lens,
		    size_t nfields);

/*
 * hourfile_append for a row the caller built itself and already knows
 * to be valid for the schema, and whose fields are all digits, decimals
 * or fixed words (nothing that needs quotes): it skips the schema check
 * and the quote scan, the writer's per-row cost on the recorder's hot
 * path. Outside input always goes through hourfile_append.
 */
int hourfile_append_plain(struct hourfile *hf, int64_t local_us,
			  const char *const *fields, const size_t *lens,
			  size_t nfields);

/*
 * Periodic work, called by the caller's loop at least every
 * flush_interval: writes rows that waited flush_interval, fdatasyncs
 * after fsync_interval, and closes the hour's file (fdatasync, close)
 * once the wall clock `wall_us` (time_now_us) is 5 s past the hour's
 * end, so a quiet symbol does not keep a finished hour open. A late row
 * of that hour reopens it and appends. Returns 0 or the first error
 * (CORE_ESYS); failures are counted in the stats.
 */
int hourfile_tick(struct hourfile *hf, int64_t wall_us);

/* Write every buffered row now and fdatasync. 0 or CORE_ESYS. */
int hourfile_sync(struct hourfile *hf);

/*
 * Write every buffered row, fdatasync and close the file; the hour stays
 * current (the next row reopens it and appends). 0 or CORE_ESYS.
 */
int hourfile_close(struct hourfile *hf);

/*
 * The next row appended starts a new block (a no-op without a
 * block_column). Before that row is buffered, the block rows that end
 * what was appended so far (in the buffer, and in the file of the row's
 * hour when no other row follows them there) are removed: buffered ones
 * count as rows_superseded, ones in the file are cut (ftruncate, fsync;
 * rows_cut). The file's own tail is found again on every reopen, so
 * this holds across restarts, kills and power cuts. When the cut fails,
 * that append fails (CORE_ESYS, the row is dropped, the gap flag set)
 * and the next block row tries again; a next row that is no block row
 * cancels it.
 */
void hourfile_begin_block(struct hourfile *hf);

/*
 * Drop every buffered row (counted in rows_dropped; the gap flag is set
 * when there were any). For a caller that learns of a hole and must not
 * let rows queued after it reach the file.
 */
void hourfile_discard(struct hourfile *hf);

/* Rows in the buffer, not yet written. */
size_t hourfile_buffered(const struct hourfile *hf);

/*
 * Bytes the row buffer holds allocated: 0 until the first row and after
 * a write the age of the oldest row forced, small again after a burst
 * (rows that filled buffer_size) was written.
 */
size_t hourfile_buffer_bytes(const struct hourfile *hf);

/* Path of the current hour's file, or NULL. Valid until the next call. */
const char *hourfile_path(const struct hourfile *hf);

/* Copy the counters into *st. */
void hourfile_get_stats(const struct hourfile *hf, struct hourfile_stats *st);

#endif
