/*
 * The hole and snapshot-block state of each symbol's L2 file.
 *
 * Holes: when rows of an incremental_book_L2 file are lost to a write
 * error, the rows queued behind them are discarded and later diffs held
 * back until the first row of a fresh snapshot block (which the network
 * side is asked for), so the file never shows a book built on a hole; a
 * "dropped" event tells the loss once rows reach the file again.
 *
 * Blocks: a tardis reader takes consecutive is_snapshot=true rows as one
 * block, so before the first row of each block the L2 hourfile is told
 * (hourfile_begin_block) and removes the block rows that end its file
 * with nothing after them: a block cut by a kill, a power cut, a write
 * error or a full queue, or one a new block supersedes before any diff
 * came. A "dropped" event records how many rows that took.
 */
#include "sink.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "core.h"
#include "hourfile.h"
#include "log.h"
#include "metrics.h"
#include "schema.h"
#include "timeutil.h"
#include "sink_int.h"
#include "banned.h"

static void queue_resnapshot(struct sink *s, struct symfiles *sf)
{
	char *dup;

	dup = strdup(sf->name);
	if (dup == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	if (BUF_GROW(s->resnap, s->capresnap, s->nresnap + 1) != 0) {
		pthread_mutex_unlock(&s->mu);
		free(dup);
		return;
	}
	s->resnap[s->nresnap++] = dup;
	pthread_mutex_unlock(&s->mu);
}

/* Ask the network side for a snapshot block, at most once a second. */
static void ask_resnapshot(struct sink *s, struct symfiles *sf)
{
	int64_t now = time_mono_us();

	if (now - sf->last_ask_us < US_PER_SEC)
		return;
	sf->last_ask_us = now;
	queue_resnapshot(s, sf);
}

/* Append a book_events "dropped" row saying `detail`; 0 or CORE_E*. */
static int put_dropped(struct hourfile *ev, int64_t local_us,
		       const char *detail)
{
	char ts[24];
	const char *f[6] = { ts, "dropped", "", "", "", detail };
	size_t lens[6];

	snprintf(ts, sizeof(ts), "%lld", (long long)local_us);
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(f[i]);
	return hourfile_append(ev, local_us, f, lens, 6);
}

/*
 * Before the snapshot block that closes a hole, say in book_events how
 * many rows the hole cost (rows the file refused plus rows held back).
 * If that row cannot be written either, the count is told next time.
 */
static void tell_losses(struct sink *s, struct symfiles *sf, int64_t local_us)
{
	struct hourfile_stats hs;
	struct hourfile *ev = sink__sym_file(s, sf, SINK_EVENTS);
	char detail[128];
	uint64_t lost;

	hourfile_get_stats(sf->hf[SINK_L2], &hs);
	lost = hs.rows_dropped + sf->held_back - sf->lost_told;
	if (lost == 0 || ev == NULL)
		return;
	snprintf(
		detail, sizeof(detail),
		"%llu incremental_book_L2 rows lost to write errors since %lld",
		(unsigned long long)lost, (long long)sf->hole_since);
	if (put_dropped(ev, local_us, detail) == 0 && !hourfile_take_gap(ev)) {
		sf->lost_told += lost;
		log_warn("%s: %s", sf->name, detail);
	}
}

/*
 * Rows of the L2 file were lost (a failed write, sync or reopen): drop
 * what was buffered after them, so nothing lands on a book with a hole,
 * and wait for a snapshot block.
 */
void sink__check_hole(struct sink *s, struct symfiles *sf)
{
	struct hourfile *hf = sf->hf[SINK_L2];

	if (hf == NULL || !hourfile_take_gap(hf))
		return;
	hourfile_discard(hf);
	(void)hourfile_take_gap(hf);
	if (!sf->hole && !sf->confirm)
		sf->hole_since = sf->prev_us;
	sf->hole = 1;
	sf->confirm = 0;
	ask_resnapshot(s, sf);
}

/*
 * Say in book_events that a new block removed `rows` rows of the
 * unfinished block that ended the L2 file (or its buffer).
 */
void sink__tell_cut(struct sink *s, struct symfiles *sf, int64_t local_us,
		    uint64_t rows)
{
	struct hourfile *ev;
	char detail[160];
	int rc;

	if (rows == 0 || !(s->cfg->datasets & DATASET_BOOK_EVENTS) ||
	    (ev = sink__sym_file(s, sf, SINK_EVENTS)) == NULL)
		return;
	snprintf(detail, sizeof(detail),
		 "%llu incremental_book_L2 rows cut: the snapshot block no "
		 "diff followed is replaced by the next one",
		 (unsigned long long)rows);
	rc = put_dropped(ev, local_us, detail);
	if (rc != 0)
		sink__note_error(s, sf, SINK_EVENTS, rc);
	log_info("%s: %s", sf->name, detail);
}

/*
 * An incremental_book_L2 row met the hole logic: -1 when it is held
 * back, else 1 when it starts a snapshot block and 0 when not. A block
 * starts at a flagged row, and at a snapshot row after a diff or with
 * another local_timestamp than the snapshot row before it (the flag is
 * lost with the row when the queue was full).
 */
int sink__l2_admit(struct sink *s, struct symfiles *sf, struct hourfile *hf,
		   const struct rec_hdr *h)
{
	int snap = (h->flags & SINK_ROW_SNAPSHOT) != 0;
	/* Only the first row of a block can heal a hole: the rest of a
	 * block that was cut by the error is as partial as a diff. */
	int block_start = snap &&
			  ((h->flags & SINK_ROW_BLOCK_START) ||
			   !(sf->prev_snap && sf->prev_us == h->local_us));

	sf->prev_snap = snap;
	sf->prev_us = h->local_us;
	sink__check_hole(s, sf);
	if (sf->hole && !block_start) {
		sf->held_back++;
		ask_resnapshot(s, sf);
		return -1;
	}
	if (sf->hole) {
		struct hourfile_stats hs;

		/* The block that may close the hole; the loss is told once
		 * rows reach the file (settle_holes). */
		hourfile_get_stats(hf, &hs);
		sf->hole = 0;
		sf->confirm = 1;
		sf->written_mark = hs.rows_written;
	}
	return block_start;
}

/* Tell each healed hole's loss once its file takes rows again. */
void sink__settle_holes(struct sink *s)
{
	for (size_t i = 0; i < s->nsyms; i++) {
		struct symfiles *sf = &s->syms[i];
		struct hourfile_stats hs;

		if (!sf->confirm || sf->hf[SINK_L2] == NULL)
			continue;
		hourfile_get_stats(sf->hf[SINK_L2], &hs);
		if (hs.rows_written > sf->written_mark) {
			sf->confirm = 0;
			tell_losses(s, sf, time_now_us());
		}
	}
}
