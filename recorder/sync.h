/*
 * Per-symbol order-book synchronisation: the state machine that turns a
 * stream of numbered diffs plus snapshots into a correct local book and
 * into the rows and events the recorder writes. Pure logic: no network,
 * no files, no clock. The caller feeds it messages and tells it about
 * (re)subscriptions and disconnects; it answers through callbacks.
 *
 * Two modes cover the documented algorithms:
 * - SYNC_MODE_SNAPSHOT (Gate.io spot.order_book_update; also the
 *   Binance/MEXC recipe): diffs are buffered while a REST snapshot is
 *   fetched; the first applied diff must bridge it (U <= id+1 <= u);
 *   later a diff with U > local+1 is a gap and starts a resync of this
 *   symbol alone; u <= local is stale and ignored.
 * - SYNC_MODE_FULLPUSH (Gate.io spot.obu): the first push after
 *   subscribing is a full book; each incremental must have
 *   U == local+1, otherwise the symbol is resubscribed.
 * In both modes a push flagged full replaces the book. After every
 * snapshot, resync or full push the whole book is emitted as a block of
 * is_snapshot rows. A book that ends up crossed (best bid >= best ask)
 * after a message is never written: the message's rows are withheld and
 * the symbol is resynced, as for a gap.
 */
#ifndef RECORDER_SYNC_H
#define RECORDER_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"

enum sync_mode {
	SYNC_MODE_SNAPSHOT = 0, /* REST snapshot + buffered diffs */
	SYNC_MODE_FULLPUSH,	/* first push full; gap -> resubscribe */
};

enum sync_state {
	SYNC_IDLE = 0,	    /* not subscribed (start, after disconnect) */
	SYNC_WAIT_SNAPSHOT, /* buffering diffs until a snapshot arrives */
	SYNC_WAIT_FULL,	    /* waiting for a full push */
	SYNC_SYNCED,	    /* the book is correct and being written */
};

/* One diff message, spans borrowed from the caller for the call only. */
struct sync_update {
	uint64_t first_id; /* U; meaningful when has_first */
	uint64_t last_id;  /* u */
	bool has_first;	   /* false only on full pushes that omit U */
	bool full;	   /* replaces the whole book */
	/*
	 * The ids restart below first_id (OKX's maintenance reset, seqId <
	 * prevSeqId): contiguity is checked on first_id alone and the ids
	 * continue from last_id. An update with first_id == last_id + 1 and
	 * no levels covers no ids (OKX's idle heartbeat): it is checked for
	 * contiguity and changes nothing.
	 */
	bool id_reset;
	bool has_checksum; /* verify `checksum` on the book after applying */
	int32_t checksum;  /* see sync_cfg.checksum */
	int64_t ts_ms;	   /* exchange event time, ms; <= 0 when unknown */
	/* Every level already passed the rule sync_on_update checks (the
	 * venue parsers check it as they read, wire_level_valid): it is not
	 * checked twice. */
	bool levels_checked;
	const struct book_change *bids;
	size_t nbids;
	const struct book_change *asks;
	size_t nasks;
};

/* A REST snapshot, spans borrowed for the call only. */
struct sync_snapshot {
	uint64_t id;   /* the book's update id */
	int64_t ts_ms; /* generation time, ms; <= 0 when unknown */
	const struct book_change *bids;
	size_t nbids;
	const struct book_change *asks;
	size_t nasks;
};

enum sync_event_kind {
	SYNC_EV_SUBSCRIBED = 0,
	SYNC_EV_SNAPSHOT,     /* a REST snapshot was bridged and written */
	SYNC_EV_GAP,	      /* ids were missed: expected vs first */
	SYNC_EV_RESYNC,	      /* a new snapshot or subscription was asked */
	SYNC_EV_FULL_REFRESH, /* a full push replaced the book */
	SYNC_EV_DISCONNECT,
	SYNC_EV_DROPPED, /* buffered diffs were discarded (overflow) */
	SYNC_EV_UPDATE,	 /* one diff applied (for the optional audit) */
};

/* An event for book_events. Valid during the callback only. */
struct sync_event {
	enum sync_event_kind kind;
	const char *symbol;
	int64_t local_us;
	uint64_t first_id;    /* when has_first */
	uint64_t last_id;     /* when has_last */
	uint64_t expected_id; /* when has_expected */
	bool has_first;
	bool has_last;
	bool has_expected;
	uint64_t count;	    /* DROPPED: messages discarded; else 0 */
	const char *detail; /* short static text, never NULL */
};

/* One incremental_book_L2 row. Valid during the callback only. */
struct sync_row {
	const char *symbol;
	int64_t ts_us;	  /* exchange time, or local when unknown */
	int64_t local_us; /* receive time passed in by the caller */
	bool is_snapshot;
	bool block_start; /* the first row of a snapshot block */
	enum book_side side;
	const char *price; /* not NUL-terminated: use the lengths */
	size_t price_len;
	const char *amount;
	size_t amount_len;
};

/*
 * Callbacks; any may be NULL. They must not call back into the same
 * sync object (queue a fetch or resubscribe and act on it later).
 * fetch_snapshot: fetch a REST snapshot for the symbol and pass it to
 * sync_on_snapshot() (or report sync_on_snapshot_failed()); applying
 * any backoff or Retry-After before fetching is the caller's job. A new
 * request is not made while one is outstanding.
 * resubscribe: unsubscribe and subscribe the symbol again, then call
 * sync_on_subscribed() when the ack arrives.
 */
struct sync_cbs {
	void *ctx;
	void (*row)(void *ctx, const struct sync_row *r);
	void (*event)(void *ctx, const struct sync_event *ev);
	void (*fetch_snapshot)(void *ctx, const char *symbol);
	void (*resubscribe)(void *ctx, const char *symbol);
};

struct sync_cfg {
	/*
	 * Levels per side the stream maintains (Gate.io: 20 or 100 for
	 * spot.order_book_update, 50 or 400 for spot.obu). The book keeps
	 * exactly this window: a level below it is no longer updated by the
	 * stream, so it is dropped, and one that enters it is sent again.
	 */
	size_t window;
	/*
	 * The stream sends every change of the whole book (MEXC), not a
	 * window: the book is as deep as its snapshot, and levels below
	 * the deepest one known are known only when they change. The book
	 * then keeps the levels no worse than that, at most `window`, and a
	 * message that leaves a side with fewer than half the window known
	 * is not written: the symbol resyncs (a fresh, deep snapshot).
	 */
	bool full_depth;
	/*
	 * The exchange's checksum of a book (OKX: CRC32 of the top 25
	 * levels). An update with has_checksum whose book, once applied,
	 * does not match is not written: the symbol resyncs, as for a gap.
	 * NULL: checksums are not verified.
	 */
	int32_t (*checksum)(const struct book *b);
	/*
	 * Snapshot mode for a stream whose first push after subscribing may
	 * be a full book (OKX books: a WS snapshot today, a REST bootstrap
	 * once snapshot-less): a resync resubscribes (resubscribe callback)
	 * and the ack starts over (a full push syncs the book, else the REST
	 * snapshot and the buffered diffs do). strict: contiguity is exact
	 * (U == prev_u + 1) in snapshot mode too, no overlap tolerated,
	 * once a diff has followed the snapshot (the first one after it
	 * bridges it, U <= id+1 <= u, buffered or not).
	 */
	bool resubscribe;
	bool strict;
	size_t buffer_msgs;  /* diffs buffered while resyncing; 0: 512 */
	size_t buffer_bytes; /* level text buffered; 0: 256 KiB */
};

/* Counters since sync_new(); read with sync_counters(). */
struct sync_counters {
	uint64_t messages; /* diffs passed to sync_on_update() */
	uint64_t applied;  /* diffs applied to a synced book */
	uint64_t buffered; /* diffs buffered while resyncing */
	uint64_t gaps;	   /* GAP events */
	uint64_t resyncs;  /* RESYNC events */
	uint64_t stale;	   /* diffs ignored as already covered */
	uint64_t dropped;  /* diffs lost to buffer overflow */
	uint64_t skipped;  /* diffs ignored while not subscribed or
			    * waiting for a full push, or older
			    * than the snapshot they met */
	uint64_t rejected; /* invalid diffs or snapshots */
	uint64_t crossed;  /* books found crossed */
	uint64_t shallow;  /* whole-book streams swept below the snapshot */
	uint64_t bad_checksums; /* books that failed the exchange's checksum */
	uint64_t snapshots;	/* snapshots bridged */
	uint64_t snapshot_failures;
	uint64_t full_refreshes; /* full pushes applied */
};

struct sync;

/*
 * New sync for one symbol (the exchange's form, copied; at most 63
 * bytes) starting in SYNC_IDLE with an empty book. cbs is copied.
 * Returns NULL on allocation failure or invalid arguments. The diff
 * buffer is reserved now; its pages are touched only when used.
 */
struct sync *sync_new(const char *symbol, enum sync_mode mode,
		      const struct sync_cfg *cfg, const struct sync_cbs *cbs);

/* Free the sync and its book. NULL-safe. */
void sync_free(struct sync *s);

/*
 * The subscription for the symbol was acknowledged (first time or
 * after a reconnect or resubscribe): emits SUBSCRIBED, drops any old
 * book state and starts syncing (snapshot mode: asks for a snapshot).
 */
void sync_on_subscribed(struct sync *s, int64_t local_us);

/*
 * May a diff that overlaps the book (U <= last+1 <= u) be applied to it?
 * Only in snapshot mode without `strict`: there each diff names every
 * level touched in its ids with its amount at u, so it is exact at u
 * whatever it overlaps (Binance's and Gate.io's own rule for bridging a
 * snapshot). A window stream's push (OKX books, Gate.io obu) names only
 * the levels that differ from the subscriber's previous push: a level
 * set and deleted inside the overlap is in neither, and applying the
 * overlap would keep it.
 */
bool sync_bridges_overlap(const struct sync *s);

/*
 * A sync of the same symbol and rules with no callbacks: it writes no
 * rows and no events, asks for no snapshot and resubscribes nothing. It
 * follows another connection's stream on its own (a rollover's
 * successor of a stream that cannot be bridged by overlap) until
 * sync_adopt() takes its book. NULL on allocation failure.
 */
struct sync *sync_shadow_new(const struct sync *s);

/*
 * Take the synced book of `from` (a shadow) as this sync's book at its
 * id: emits FULL_REFRESH and writes the book as a snapshot block, as a
 * full push would. `from` is left idle and empty. CORE_EAGAIN when
 * `from` is not synced (nothing changes).
 */
int sync_adopt(struct sync *s, struct sync *from, int64_t local_us);

/* The connection was lost: emits DISCONNECT and returns to SYNC_IDLE. */
void sync_on_disconnect(struct sync *s, int64_t local_us);

/*
 * Feed one diff for this symbol. Returns 0 when it was handled (applied,
 * buffered, ignored or turned into a resync; see the counters), or
 * CORE_EPARSE when it is invalid (a level text that is not a plain
 * decimal or does not fit BOOK_TEXT_MAX, U > u, a missing U on an
 * incremental push); an invalid diff changes nothing and the next valid
 * one reveals the loss as a gap.
 */
int sync_on_update(struct sync *s, const struct sync_update *u,
		   int64_t local_us);

/*
 * Feed a REST snapshot (snapshot mode). Ignored (0) unless the sync is
 * waiting for one. Returns CORE_EPARSE for an invalid snapshot, after
 * asking for another.
 */
int sync_on_snapshot(struct sync *s, const struct sync_snapshot *snap,
		     int64_t local_us);

/*
 * The outstanding snapshot fetch failed: emits a RESYNC event whose
 * detail says so and asks for another fetch (through fetch_snapshot;
 * the caller applies its backoff). Ignored unless one is outstanding.
 */
void sync_on_snapshot_failed(struct sync *s, int64_t local_us);

/*
 * Emit the current book as a snapshot block (for the start of each
 * hourly file). Returns 0, or CORE_EAGAIN when the book is not synced
 * (nothing is emitted; a block will follow the sync).
 */
int sync_emit_snapshot(struct sync *s, int64_t local_us);

enum sync_state sync_state(const struct sync *s);
bool sync_synced(const struct sync *s);
/* The last applied update id (meaningful when synced). */
uint64_t sync_last_id(const struct sync *s);
/*
 * Exchange time of the book's current state in µs (of the message or
 * snapshot that produced it), or 0 when the exchange gave none.
 */
int64_t sync_book_ts(const struct sync *s);
/*
 * The local time (as passed in) at which the sync last entered its
 * current state: how long a pair has been waiting for a snapshot, a
 * full push or an ack.
 */
int64_t sync_state_since(const struct sync *s);
/*
 * True while a snapshot is wanted: the sync waits for one and has asked
 * (fetch_snapshot) without an answer yet.
 */
bool sync_fetch_wanted(const struct sync *s);
/*
 * Forget an asked snapshot that was never requested from the exchange
 * because the sync no longer waits for one (a full push synced it): a
 * later resync asks again. Ignored while the sync waits for a snapshot.
 */
void sync_fetch_cancel(struct sync *s);
/* The book, valid until the sync is freed; only correct when synced. */
const struct book *sync_book(const struct sync *s);
/* The counters, valid until the sync is freed. */
const struct sync_counters *sync_counters(const struct sync *s);
/* The symbol given to sync_new(). */
const char *sync_symbol(const struct sync *s);

/* The book_events name of an event kind ("gap", "full_refresh", ...). */
const char *sync_event_name(enum sync_event_kind kind);

#endif
