/*
 * Recorder-internal: the book sync's structure and the functions its
 * files share. sync.c owns the object and its lifecycle, sync_update.c
 * the per-diff rules, sync_snapshot.c the buffered snapshot path.
 */
#ifndef RECORDER_SYNC_INT_H
#define RECORDER_SYNC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "sync.h"

#define SYMBOL_MAX 64

/* A diff buffered while a snapshot is awaited. */
struct bufmsg {
	uint64_t first;
	uint64_t last;
	int64_t ts_ms;
	size_t off; /* into text: nbids then nasks level records */
	uint32_t nbids;
	uint32_t nasks;
};

struct sync {
	char symbol[SYMBOL_MAX];
	enum sync_mode mode;
	enum sync_state state;
	struct book *book;
	struct sync_cbs cbs;
	struct sync_counters c;
	uint64_t last;	 /* last applied update id */
	int64_t book_ts; /* exchange time of the book state, µs; 0 unknown */
	int64_t since;	 /* local µs the current state was entered */
	size_t window;
	bool full_depth;
	int32_t (*checksum)(const struct book *b);
	bool resubscribe, strict;
	bool bridged; /* a diff or full push followed the last snapshot */
	/* full_depth: per side, the deepest price known (levels worse are
	 * known only if they changed), when the side reached the window. */
	bool bounded[2];
	uint8_t bound_len[2];
	char bound[2][BOOK_TEXT_MAX];
	bool fetching; /* a snapshot fetch is outstanding */
	/* Diffs waiting for a snapshot: allocated when the first one
	 * comes, grown up to the caps, freed once the wait is over (a
	 * thousand synced pairs hold no buffer). */
	struct bufmsg *msgs;
	size_t msg_cap, msg_alloc;
	size_t head; /* first live entry */
	size_t nmsg; /* live entries from head */
	unsigned char *text;
	size_t text_cap, text_alloc;
	size_t text_used;
};

/* sync_update.c: enter a state (its time is kept only on a change); an
 * exchange time in µs, else local_us; an event through the callback,
 * counted; level texts plain decimals under BOOK_TEXT_MAX?; forget the
 * full_depth bounds; keep the book to what is known (true: too shallow
 * to write); set levels (negative CORE_E* from the book); the book as a
 * snapshot block of rows; ask for a snapshot unless one is asked. */
void sync__set_state(struct sync *s, enum sync_state st, int64_t local_us);
int64_t sync__ts_or_local(int64_t ts_ms, int64_t local_us);
void sync__emit(struct sync *s, struct sync_event *ev, int64_t local_us);
bool sync__changes_valid(const struct book_change *ch, size_t n);
void sync__bounds_reset(struct sync *s);
bool sync__clip(struct sync *s);
int sync__load_side(struct sync *s, enum book_side side,
		    const struct book_change *ch, size_t n);
void sync__emit_block(struct sync *s, int64_t local_us);
/* The book is whole at `last`: SYNCED, FULL_REFRESH and its block. */
void sync__full_synced(struct sync *s, uint64_t last, int64_t book_ts,
		       int64_t local_us);
void sync__request_fetch(struct sync *s);

/* sync_snapshot.c: empty the diff buffer; copy a validated diff into it
 * (CORE_ENOSPACE when full); a diff met while waiting for a snapshot. */
void sync__buf_clear(struct sync *s);
int sync__buf_append(struct sync *s, const struct sync_update *u);
int sync__on_buffering(struct sync *s, const struct sync_update *u,
		       int64_t local_us);

#endif
