/*
 * The recorder's file side: a writer thread that owns every hourly CSV
 * file, fed by the network thread through a bounded queue of row blocks.
 * The network side never blocks on the disk: when the queue is full,
 * rows are dropped and counted, and a "dropped" event is written once
 * the writer catches up. Memory is capped at SINK_BLOCKS * SINK_BLOCK.
 */
#ifndef RECORDER_SINK_H
#define RECORDER_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SINK_BLOCK  (64u << 10)
#define SINK_BLOCKS 256u /* 16 MiB of queued rows at most */

enum sink_dataset {
	SINK_L2,       /* incremental_book_L2 */
	SINK_SNAPSHOT, /* book_snapshot_<N> */
	SINK_EVENTS,   /* book_events */
	SINK_NDATASETS,
};

/* Figures the writer thread keeps; read with sink_stats. */
struct sink_stats {
	uint64_t rows_written;
	uint64_t rows_dropped_queue; /* queue full: never reached the writer */
	uint64_t rows_dropped_write; /* write errors (disk full, EIO) */
	uint64_t write_errors;
	uint64_t torn_bytes_cut;
	uint64_t queued_bytes; /* now */
};

struct sink;
struct schema_set;

/*
 * Called on the writer thread for each row that reached its file, so
 * the recorder can count ticks_written per symbol. May be NULL.
 */
typedef void (*sink_written_fn)(void *ud, const char *symbol,
				enum sink_dataset ds, uint64_t rows);

/*
 * A sink writing under cfg->data_dir for exchange `exchange`. `schemas`
 * is borrowed. NULL on allocation failure or a bad schema.
 */
struct sink *sink_new(const struct recorder_config *cfg, const char *exchange,
		      struct schema_set *schemas, sink_written_fn written,
		      void *ud);

struct metric_series;

/*
 * Observe receive-to-write latency in `hist` (a histogram, borrowed; NULL
 * for none): once per write(2) of a file's buffered rows, the seconds
 * from the oldest of those rows' local_timestamp to the write's end.
 * Call before sink_start.
 */
void sink_set_write_latency(struct sink *s, struct metric_series *hist);

/* Start the writer thread. 0 or CORE_ESYS. */
int sink_start(struct sink *s);

/*
 * Queue one row for `symbol` (the exchange's symbol) in dataset `ds`
 * with the row's local_timestamp `local_us` (which picks its hour).
 * Fields are copied. Returns 0, or CORE_ENOSPACE when the queue is full
 * (the row is counted as dropped), or CORE_ETOOBIG for a row larger
 * than a block. Network thread only.
 */
int sink_row(struct sink *s, const char *symbol, enum sink_dataset ds,
	     int64_t local_us, const char *const *fields, size_t nfields);

/*
 * sink_row with the lengths given: `symbol` is `symlen` bytes, field i
 * is lens[i] bytes (neither need be NUL-terminated; a NULL field is
 * empty). For the per-row path, which knows its lengths.
 */
int sink_row_n(struct sink *s, const char *symbol, size_t symlen,
	       enum sink_dataset ds, int64_t local_us,
	       const char *const *fields, const size_t *lens, size_t nfields);

/* The first row of an incremental_book_L2 snapshot block. */
#define SINK_ROW_BLOCK_START 1u
/* An incremental_book_L2 row with is_snapshot=true. Set by sink_row_f's
 * caller for SINK_ROW_PLAIN rows; found from the field otherwise. */
#define SINK_ROW_SNAPSHOT 2u
/* The caller built every field from validated parts (digits, decimals,
 * fixed words): the writer neither checks the row against the schema
 * nor scans it for quotes (hourfile_append_plain). */
#define SINK_ROW_PLAIN 4u

/* An incremental_book_L2 row on the ask side (sink_l2_row). */
#define SINK_ROW_ASK 8u

/*
 * The hot path: an incremental_book_L2 row from its parts. The writer
 * writes the exchange, the symbol, both timestamps, is_snapshot and the
 * side (SINK_ROW_ASK, else bid) as text itself, so the network thread
 * copies only the price and amount (the exchange's text, checked by the
 * caller: digits and a dot). flags: SINK_ROW_BLOCK_START,
 * SINK_ROW_SNAPSHOT, SINK_ROW_ASK. Returns as sink_row_f.
 */
int sink_l2_row(struct sink *s, const char *symbol, size_t symlen,
		int64_t ts_us, int64_t local_us, unsigned flags,
		const char *price, size_t price_len, const char *amount,
		size_t amount_len);

/*
 * sink_row_n with SINK_ROW_* flags. A snapshot block starts at a row
 * flagged SINK_ROW_BLOCK_START, and also at any is_snapshot=true row
 * after a diff or with another local_timestamp than the snapshot row
 * before it; the writer then removes the unfinished block rows at the
 * end of the file first (hourfile_begin_block), so a tardis reader never
 * reads two blocks as one, and writes a "dropped" event saying how many
 * rows that cut.
 */
int sink_row_f(struct sink *s, const char *symbol, size_t symlen,
	       enum sink_dataset ds, int64_t local_us, unsigned flags,
	       const char *const *fields, const size_t *lens, size_t nfields);

/*
 * Hand the rows queued so far to the writer thread. Cheap; the network
 * thread calls it after each round of its event loop (so once for all
 * the messages one read brought) and on a short timer.
 */
void sink_commit(struct sink *s);

/*
 * sink_commit after one round of the event loop: the block is handed
 * over only when the writer waits for work or the block is half full,
 * otherwise it keeps filling (a busy writer would only queue it; the
 * 100 ms tick's sink_commit bounds how long rows wait).
 */
void sink_commit_round(struct sink *s);

void sink_stats(struct sink *s, struct sink_stats *out);

/*
 * How full the queue's block pool is, 0..100, without taking a lock:
 * the network side pauses reading from the exchange above a high-water
 * mark, so a burst (every pair's hour-start snapshot block at once) is
 * absorbed by TCP instead of being dropped.
 */
unsigned sink_fill_percent(struct sink *s);

/*
 * Symbols whose incremental_book_L2 file lost rows to a write error and
 * so needs a fresh snapshot block: `fn` is called once per symbol
 * (network thread), and the list is cleared.
 */
void sink_take_resnapshots(struct sink *s,
			   void (*fn)(void *ud, const char *symbol), void *ud);

/*
 * Commit, let the writer drain everything, flush and fsync every file,
 * close them and join the thread. Returns 0, or the first error of that
 * final flush (earlier write errors are in the stats, not here).
 */
int sink_stop(struct sink *s);

/* Free after sink_stop. NULL-safe. */
void sink_free(struct sink *s);

#endif
