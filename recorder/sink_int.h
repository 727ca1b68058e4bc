/*
 * Recorder-internal: the sink's structures and the functions its files
 * share. sink.c owns the block pool, the queue and the lifecycle;
 * sink_writer.c the writer thread; sink_files.c the per-symbol file
 * table; sink_holes.c the hole and snapshot-block state of the L2 files.
 */
#ifndef RECORDER_SINK_INT_H
#define RECORDER_SINK_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hourfile.h"
#include "sink.h"

/* The widest row: book_snapshot_N at the deepest N the config takes. */
#define MAX_FIELDS (4 + 4 * CONFIG_SNAPSHOT_DEPTH_MAX)
/* Free blocks kept for reuse; the writer unmaps the rest, so the memory
 * a burst took (a slow disk, an hour's snapshot blocks) goes back. */
#define SPARE_BLOCKS 16u
#define SYM_MAX	     64

struct block {
	struct block *next;
	size_t used;
	unsigned char data[SINK_BLOCK];
};

/* A record made by sink_l2_row: its fields are the exchange's time (8
 * bytes, host order), the price and the amount; the writer makes the
 * rest of the row. */
#define SINK_ROW_PARTS 16u

/* A timestamp's text, kept while the rows of one message reuse it. */
struct tstext {
	int64_t v;
	size_t len; /* 0: nothing cached */
	char s[24];
};

/* Record layout inside a block, 8-byte aligned. */
struct rec_hdr {
	uint32_t len; /* whole record, padded */
	uint16_t nfields;
	uint8_t ds;
	uint8_t symlen;
	uint8_t flags; /* SINK_ROW_* */
	int64_t local_us;
	/* then symlen bytes, nfields uint16 lengths, the field bytes */
};

struct symfiles {
	char name[SYM_MAX];
	struct hourfile *hf[SINK_NDATASETS];
	/* The L2 file lost rows: later rows are held back until a snapshot
	 * block arrives, so the file never shows a book with a hole. */
	int hole;
	int confirm;	       /* a block closed the hole; awaiting a write */
	uint64_t written_mark; /* rows_written when that block began */
	uint64_t held_back;    /* rows discarded while in a hole */
	int64_t prev_us;       /* local_us of the previous L2 row */
	int64_t hole_since;    /* local_us of the row that met the hole */
	int prev_snap;	       /* that row was a snapshot row */
	uint64_t lost_told;    /* losses already written as "dropped" */
	int64_t last_ask_us;   /* last resnapshot request, mono */
	/* local_us of the oldest row buffered in hf[ds] since its last
	 * write(2), for the write latency histogram. */
	int64_t pending_us[SINK_NDATASETS];
};

struct sink {
	const struct recorder_config *cfg;
	char *exchange;
	struct schema_set *schemas;
	const struct schema *schema[SINK_NDATASETS];
	sink_written_fn written;
	void *ud;
	struct metric_series *wlat; /* write latency histogram, or NULL */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block *full_head, *full_tail; /* to the writer */
	struct block *free_list;
	unsigned nfree;		/* blocks in free_list */
	unsigned nblocks;	/* mapped now, <= SINK_BLOCKS */
	_Atomic unsigned inuse; /* nblocks - nfree, readable without mu */
	uint64_t queued_bytes;
	int stopping, started;
	_Atomic int writer_waiting; /* the writer sleeps on cv: signal it */
	pthread_t thread;
	struct sink_stats st; /* under mu */
	char **resnap;	      /* symbols, under mu */
	size_t nresnap, capresnap;

	struct block *cur; /* network thread's block being filled */

	/* Writer thread only. */
	struct symfiles *syms;
	size_t nsyms, capsyms, last_sym;
	/* Open addressing over syms by name: index + 1, 0 empty; a
	 * thousand symbols' rows interleave, so "the last one" rarely hits. */
	uint32_t *symidx;
	size_t symidx_mask;
	size_t exlen;	       /* strlen(exchange) */
	struct tstext ts, lts; /* of the last sink_l2_row record written */
	int first_error;
};

/* sink.c: unmap a block (NULL-safe); give one the writer is done with
 * back to the pool, which keeps SPARE_BLOCKS and unmaps the rest. */
void sink__block_unmap(struct block *b);
void sink__block_release(struct sink *s, struct block *b);

/* sink_writer.c: the writer thread (pthread start routine). */
void *sink__writer_main(void *arg);
/* The writer's clock for its files (monotonic µs, read once a block). */
int64_t sink__clock(void);

/* sink_files.c: a dataset's name; the symbol's entry (created on first
 * use, NULL when out of memory); its file for `ds` (opened on first use,
 * NULL on failure); count and log (rate-limited) a write error. */
const char *sink__ds_name(struct sink *s, enum sink_dataset ds);
struct symfiles *sink__sym_lookup(struct sink *s, const char *name, size_t len);
struct hourfile *sink__sym_file(struct sink *s, struct symfiles *sf,
				enum sink_dataset ds);
void sink__note_error(struct sink *s, struct symfiles *sf, enum sink_dataset ds,
		      int rc);

/* sink_holes.c: see there. */
void sink__check_hole(struct sink *s, struct symfiles *sf);
void sink__tell_cut(struct sink *s, struct symfiles *sf, int64_t local_us,
		    uint64_t rows);
int sink__l2_admit(struct sink *s, struct symfiles *sf, struct hourfile *hf,
		   const struct rec_hdr *h);
void sink__settle_holes(struct sink *s);

#endif
