/*
 * The book-sync state machine described in sync.h. While a snapshot is
 * awaited, diffs are copied into a bounded per-symbol buffer (a header
 * array plus a text arena, both reserved once), then replayed on top of
 * the snapshot. Everything else works on the caller's spans directly.
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "banned.h"

#define DEFAULT_BUFFER_MSGS  512
#define DEFAULT_BUFFER_BYTES (256u * 1024)
#define SYMBOL_MAX	     64

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
	bool bridge;   /* the next diff may overlap (sync_allow_bridge) */
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

/* ------------------------------------------------------------ helpers */

static void set_state(struct sync *s, enum sync_state st, int64_t local_us)
{
	if (s->state != st)
		s->since = local_us;
	s->state = st;
}

static int64_t ts_or_local(int64_t ts_ms, int64_t local_us)
{
	if (ts_ms <= 0 || ts_ms > INT64_MAX / 1000)
		return local_us;
	return ts_ms * 1000;
}

static void emit(struct sync *s, struct sync_event *ev, int64_t local_us)
{
	if (ev->kind == SYNC_EV_GAP)
		s->c.gaps++;
	else if (ev->kind == SYNC_EV_RESYNC)
		s->c.resyncs++;
	if (s->cbs.event == NULL)
		return;
	ev->symbol = s->symbol;
	ev->local_us = local_us;
	if (ev->detail == NULL)
		ev->detail = "";
	s->cbs.event(s->cbs.ctx, ev);
}

static bool changes_valid(const struct book_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ch[i].price_len >= BOOK_TEXT_MAX ||
		    ch[i].amount_len >= BOOK_TEXT_MAX ||
		    !decimal_valid(ch[i].price, ch[i].price_len) ||
		    !decimal_valid(ch[i].amount, ch[i].amount_len))
			return false;
	}
	return true;
}

static bool update_valid(const struct sync *s, const struct sync_update *u)
{
	/* A heartbeat covers no ids; a reset goes back. */
	bool empty = u->nbids == 0 && u->nasks == 0 &&
		     u->last_id < UINT64_MAX && u->first_id == u->last_id + 1;

	if (u->has_first && u->first_id > u->last_id && !empty && !u->id_reset)
		return false;
	if (!u->has_first && !u->full)
		return false;
	(void)s;
	return changes_valid(u->bids, u->nbids) &&
	       changes_valid(u->asks, u->nasks);
}

static void bounds_reset(struct sync *s)
{
	s->bounded[0] = s->bounded[1] = false;
}

/*
 * Keep the book to what is known, after a message. A window stream: its
 * best `window` levels. A whole-book stream: the levels no worse than
 * each side's bound, at most `window` (a side that holds the window
 * moves its bound to its deepest level). Returns true when a bounded
 * side knows fewer than half the window: too shallow to write.
 */
static bool clip(struct sync *s)
{
	bool shallow = false;

	if (!s->full_depth) {
		book_trim(s->book);
		return false;
	}
	for (int side = BOOK_BID; side <= BOOK_ASK; side++)
		if (s->bounded[side])
			book_trim_worse(s->book, (enum book_side)side,
					s->bound[side], s->bound_len[side]);
	book_trim(s->book);
	for (int side = BOOK_BID; side <= BOOK_ASK; side++) {
		size_t n = book_count(s->book, (enum book_side)side);

		if (n >= s->window) {
			const struct book_level *l = book_level(
				s->book, (enum book_side)side, n - 1);

			memcpy(s->bound[side], l->price, l->price_len);
			s->bound_len[side] = l->price_len;
			s->bounded[side] = true;
		} else if (s->bounded[side] && 2 * n < s->window) {
			shallow = true;
		}
	}
	return shallow;
}

static int load_side(struct sync *s, enum book_side side,
		     const struct book_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = book_set(s->book, side, ch[i].price, ch[i].price_len,
				  ch[i].amount, ch[i].amount_len);

		if (rc < 0)
			return rc;
	}
	return 0;
}

static void emit_block(struct sync *s, int64_t local_us)
{
	struct sync_row r = {
		.symbol = s->symbol,
		.ts_us = s->book_ts > 0 ? s->book_ts : local_us,
		.local_us = local_us,
		.is_snapshot = true,
		.block_start = true,
	};

	if (s->cbs.row == NULL)
		return;
	for (int side = BOOK_BID; side <= BOOK_ASK; side++) {
		const struct book_level *l;

		r.side = (enum book_side)side;
		for (size_t i = 0; (l = book_level(s->book, r.side, i)); i++) {
			r.price = l->price;
			r.price_len = l->price_len;
			r.amount = l->amount;
			r.amount_len = l->amount_len;
			s->cbs.row(s->cbs.ctx, &r);
			r.block_start = false;
		}
	}
}

static void emit_side_rows(struct sync *s, struct sync_row *r,
			   enum book_side side, const struct book_change *ch,
			   size_t n)
{
	r->side = side;
	for (size_t i = 0; i < n; i++) {
		r->price = ch[i].price;
		r->price_len = ch[i].price_len;
		r->amount = ch[i].amount;
		r->amount_len = ch[i].amount_len;
		s->cbs.row(s->cbs.ctx, r);
	}
}

static void emit_rows(struct sync *s, const struct sync_update *u,
		      int64_t local_us)
{
	struct sync_row r = {
		.symbol = s->symbol,
		.ts_us = ts_or_local(u->ts_ms, local_us),
		.local_us = local_us,
		.is_snapshot = false,
	};

	if (s->cbs.row == NULL)
		return;
	emit_side_rows(s, &r, BOOK_BID, u->bids, u->nbids);
	emit_side_rows(s, &r, BOOK_ASK, u->asks, u->nasks);
}

static void request_fetch(struct sync *s)
{
	if (s->fetching)
		return;
	s->fetching = true;
	if (s->cbs.fetch_snapshot != NULL)
		s->cbs.fetch_snapshot(s->cbs.ctx, s->symbol);
}

/* ------------------------------------------------------------ buffer */

static void buf_clear(struct sync *s)
{
	s->head = 0;
	s->nmsg = 0;
	s->text_used = 0;
	free(s->msgs);
	free(s->text);
	s->msgs = NULL;
	s->text = NULL;
	s->msg_alloc = 0;
	s->text_alloc = 0;
}

/* Room for one more entry of `bytes` text, growing toward the caps. */
static bool buf_room(struct sync *s, size_t bytes)
{
	size_t need = s->text_used + bytes, n;

	if (s->head + s->nmsg >= s->msg_cap || bytes > s->text_cap ||
	    need > s->text_cap)
		return false;
	if (s->head + s->nmsg >= s->msg_alloc) {
		struct bufmsg *m;

		n = s->msg_alloc ? s->msg_alloc * 2 : 16;
		n = n > s->msg_cap ? s->msg_cap : n;
		m = realloc(s->msgs, n * sizeof(*m));
		if (m == NULL)
			return false;
		s->msgs = m;
		s->msg_alloc = n;
	}
	if (need > s->text_alloc) {
		unsigned char *t;

		n = s->text_alloc ? s->text_alloc : 4096;
		while (n < need)
			n *= 2;
		n = n > s->text_cap ? s->text_cap : n;
		t = realloc(s->text, n);
		if (t == NULL)
			return false;
		s->text = t;
		s->text_alloc = n;
	}
	return true;
}

static size_t side_bytes(const struct book_change *ch, size_t n)
{
	size_t b = 0;

	for (size_t i = 0; i < n; i++)
		b += 2 + ch[i].price_len + ch[i].amount_len;
	return b;
}

static void put_side(unsigned char *p, const struct book_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*p++ = (unsigned char)ch[i].price_len;
		*p++ = (unsigned char)ch[i].amount_len;
		memcpy(p, ch[i].price, ch[i].price_len);
		p += ch[i].price_len;
		memcpy(p, ch[i].amount, ch[i].amount_len);
		p += ch[i].amount_len;
	}
}

/* Copy a validated diff into the buffer; CORE_ENOSPACE when full. */
static int buf_append(struct sync *s, const struct sync_update *u)
{
	size_t nb = side_bytes(u->bids, u->nbids);
	size_t na = side_bytes(u->asks, u->nasks);
	struct bufmsg *m;

	if (u->nbids > UINT32_MAX || u->nasks > UINT32_MAX ||
	    !buf_room(s, nb + na))
		return CORE_ENOSPACE;
	m = &s->msgs[s->head + s->nmsg++];
	m->first = u->first_id;
	m->last = u->last_id;
	m->ts_ms = u->ts_ms;
	m->off = s->text_used;
	m->nbids = (uint32_t)u->nbids;
	m->nasks = (uint32_t)u->nasks;
	put_side(s->text + s->text_used, u->bids, u->nbids);
	put_side(s->text + s->text_used + nb, u->asks, u->nasks);
	s->text_used += nb + na;
	return 0;
}

/* Move the live entries (and their text) to the front of the buffer. */
static void buf_compact(struct sync *s)
{
	size_t base;

	if (s->nmsg == 0) {
		buf_clear(s);
		return;
	}
	if (s->head == 0)
		return;
	base = s->msgs[s->head].off;
	memmove(s->text, s->text + base, s->text_used - base);
	s->text_used -= base;
	memmove(s->msgs, s->msgs + s->head, s->nmsg * sizeof(s->msgs[0]));
	for (size_t i = 0; i < s->nmsg; i++)
		s->msgs[i].off -= base;
	s->head = 0;
}

/* Apply a buffered diff's levels to the book. */
static int buf_apply(struct sync *s, const struct bufmsg *m)
{
	const unsigned char *p = s->text + m->off;
	uint64_t n = (uint64_t)m->nbids + m->nasks;

	for (uint64_t i = 0; i < n; i++) {
		size_t pl = p[0], al = p[1];
		const char *price = (const char *)p + 2;
		int rc = book_set(s->book, i < m->nbids ? BOOK_BID : BOOK_ASK,
				  price, pl, price + pl, al);

		if (rc < 0)
			return rc;
		p += 2 + pl + al;
	}
	return 0;
}

/* ------------------------------------------------------------ resync */

/* Ask for a snapshot again within the current resync. */
static void refetch(struct sync *s, struct sync_event *ev, int64_t local_us)
{
	ev->kind = SYNC_EV_RESYNC;
	emit(s, ev, local_us);
	book_clear(s->book);
	set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	request_fetch(s);
}

/*
 * Throw the book away and start over for this symbol alone. keep, when
 * not NULL, is the diff that revealed the problem: it follows the lost
 * ids, so snapshot mode buffers it as the first diff to bridge.
 */
static void resync(struct sync *s, const char *why,
		   const struct sync_update *keep, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_RESYNC, .detail = why };

	book_clear(s->book);
	buf_clear(s);
	s->bridge = false;
	if (keep != NULL) {
		ev.first_id = keep->first_id;
		ev.has_first = keep->has_first;
		ev.last_id = keep->last_id;
		ev.has_last = true;
	}
	emit(s, &ev, local_us);
	if (s->mode == SYNC_MODE_FULLPUSH) {
		set_state(s, SYNC_WAIT_FULL, local_us);
		if (s->cbs.resubscribe != NULL)
			s->cbs.resubscribe(s->cbs.ctx, s->symbol);
		return;
	}
	set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	if (s->resubscribe && s->cbs.resubscribe != NULL) {
		/* The ack asks for the snapshot, or a full push comes. */
		s->cbs.resubscribe(s->cbs.ctx, s->symbol);
		return;
	}
	if (keep != NULL && buf_append(s, keep) == 0)
		s->c.buffered++;
	request_fetch(s);
}

/* ------------------------------------------------------------ updates */

/* The exchange's checksum of the applied book disagrees? */
static bool checksum_bad(struct sync *s, const struct sync_update *u)
{
	if (!u->has_checksum || s->checksum == NULL ||
	    s->checksum(s->book) == u->checksum)
		return false;
	s->c.bad_checksums++;
	return true;
}

static int apply_full(struct sync *s, const struct sync_update *u,
		      int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_FULL_REFRESH,
				 .last_id = u->last_id,
				 .has_last = true };
	int rc;

	book_clear(s->book);
	buf_clear(s);
	bounds_reset(s);
	rc = load_side(s, BOOK_BID, u->bids, u->nbids);
	if (rc == 0)
		rc = load_side(s, BOOK_ASK, u->asks, u->nasks);
	(void)clip(s);
	if (rc != 0 || book_crossed(s->book)) {
		s->c.crossed += rc == 0;
		resync(s, rc == 0 ? "crossed full push" : "bad full push", NULL,
		       local_us);
		return 0;
	}
	if (checksum_bad(s, u)) {
		resync(s, "checksum mismatch", NULL, local_us);
		return 0;
	}
	set_state(s, SYNC_SYNCED, local_us);
	s->last = u->last_id;
	s->bridged = true;
	s->book_ts = ts_or_local(u->ts_ms, 0);
	s->c.full_refreshes++;
	s->c.applied++;
	emit(s, &ev, local_us);
	emit_block(s, local_us);
	return 0;
}

static int apply_delta(struct sync *s, const struct sync_update *u,
		       int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_UPDATE,
				 .first_id = u->first_id,
				 .has_first = true,
				 .last_id = u->last_id,
				 .has_last = true };
	int rc = load_side(s, BOOK_BID, u->bids, u->nbids);
	bool shallow;

	if (rc == 0)
		rc = load_side(s, BOOK_ASK, u->asks, u->nasks);
	shallow = clip(s);
	if (rc != 0 || book_crossed(s->book)) {
		/* Never write a crossed book: withhold this diff's rows. */
		s->c.crossed += rc == 0;
		resync(s, rc == 0 ? "crossed book" : "bad diff", NULL,
		       local_us);
		return 0;
	}
	if (checksum_bad(s, u)) {
		/* A wrong book is never written: withhold, resync. */
		resync(s, "checksum mismatch", NULL, local_us);
		return 0;
	}
	if (shallow) {
		/* A sweep below what the snapshot covered: the levels now on
		 * top are not all known. Withhold the rows, resync deep. */
		s->c.shallow++;
		resync(s, "book shallower than half its snapshot", NULL,
		       local_us);
		return 0;
	}
	emit_rows(s, u, local_us);
	s->last = u->last_id;
	s->bridged = true;
	s->book_ts = ts_or_local(u->ts_ms, 0);
	s->c.applied++;
	emit(s, &ev, local_us);
	return 0;
}

static int on_synced(struct sync *s, const struct sync_update *u,
		     int64_t local_us)
{
	uint64_t expected = s->last + 1;
	bool gap;

	if (u->full && (u->last_id >= s->last || u->id_reset))
		return apply_full(s, u, local_us);
	if (u->last_id <= s->last && !u->id_reset) {
		s->c.stale++;
		return 0;
	}
	/*
	 * Contiguity is U == prev_u + 1; snapshot mode tolerates overlap,
	 * and so does a full-push stream once across a connection switch.
	 * strict: exact once a diff followed the snapshot; the first may
	 * still bridge it (U <= id+1 <= u), as in snapshot mode.
	 */
	gap = (s->mode == SYNC_MODE_FULLPUSH || (s->strict && s->bridged)) &&
			      !s->bridge
		      ? u->first_id != expected
		      : u->first_id > expected;
	s->bridge = false;
	if (gap) {
		struct sync_event ev = { .kind = SYNC_EV_GAP,
					 .first_id = u->first_id,
					 .has_first = true,
					 .last_id = u->last_id,
					 .has_last = true,
					 .expected_id = expected,
					 .has_expected = true };

		emit(s, &ev, local_us);
		resync(s, "gap", u, local_us);
		return 0;
	}
	return apply_delta(s, u, local_us);
}

static void overflow(struct sync *s, const struct sync_update *u,
		     int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_DROPPED,
				 .last_id = u->last_id,
				 .has_last = true,
				 .count = s->nmsg + 1,
				 .detail = "resync buffer full" };

	if (s->nmsg > 0) {
		ev.first_id = s->msgs[s->head].first;
		ev.has_first = true;
	}
	s->c.dropped += s->nmsg + 1;
	emit(s, &ev, local_us);
	buf_clear(s);
	/*
	 * Restart: a snapshot still in flight is judged against the diffs
	 * buffered from now on and refetched if it turns out too old.
	 */
	if (!s->fetching) {
		struct sync_event rv = { .detail = "resync buffer full" };

		refetch(s, &rv, local_us);
	}
}

static int on_buffering(struct sync *s, const struct sync_update *u,
			int64_t local_us)
{
	if (s->nmsg > 0) {
		const struct bufmsg *tail = &s->msgs[s->head + s->nmsg - 1];

		if (u->last_id <= tail->last) {
			s->c.stale++;
			return 0;
		}
		if (u->first_id > tail->last + 1) {
			struct sync_event ev = {
				.kind = SYNC_EV_GAP,
				.first_id = u->first_id,
				.has_first = true,
				.last_id = u->last_id,
				.has_last = true,
				.expected_id = tail->last + 1,
				.has_expected = true,
				.detail = "while resyncing",
			};

			/* Nothing before the gap can be bridged now. */
			emit(s, &ev, local_us);
			buf_clear(s);
		}
	}
	if (buf_append(s, u) != 0) {
		overflow(s, u, local_us);
		return 0;
	}
	s->c.buffered++;
	return 0;
}

int sync_on_update(struct sync *s, const struct sync_update *u,
		   int64_t local_us)
{
	s->c.messages++;
	if (!update_valid(s, u)) {
		s->c.rejected++;
		return CORE_EPARSE;
	}
	switch (s->state) {
	case SYNC_SYNCED:
		return on_synced(s, u, local_us);
	case SYNC_WAIT_SNAPSHOT:
		if (u->full)
			return apply_full(s, u, local_us);
		return on_buffering(s, u, local_us);
	case SYNC_WAIT_FULL:
		if (u->full)
			return apply_full(s, u, local_us);
		break;
	case SYNC_IDLE:
		break;
	}
	s->c.skipped++;
	return 0;
}

/* ------------------------------------------------------------ snapshot */

/*
 * Replay the buffered diffs on the freshly loaded snapshot. Returns 0
 * when the book is bridged and current, 1 when a new snapshot was asked
 * for (the diffs that may still bridge one stay buffered).
 */
static int replay_buffer(struct sync *s, int64_t local_us)
{
	bool applied = false;

	while (s->nmsg > 0) {
		const struct bufmsg *m = &s->msgs[s->head];
		struct sync_event ev = { .first_id = m->first,
					 .has_first = true,
					 .last_id = m->last,
					 .has_last = true,
					 .expected_id = s->last + 1,
					 .has_expected = true };

		if (m->last <= s->last) {
			s->c.skipped++; /* covered by the snapshot */
		} else if (m->first > s->last + 1 ||
			   (s->strict && applied && m->first != s->last + 1)) {
			if (applied) {
				ev.kind = SYNC_EV_GAP;
				emit(s, &ev, local_us);
			}
			ev.detail = applied ? "gap in buffered diffs"
					    : "snapshot older than stream";
			buf_compact(s);
			refetch(s, &ev, local_us);
			return 1;
		} else if (buf_apply(s, m) == 0) {
			s->last = m->last;
			s->book_ts = ts_or_local(m->ts_ms, s->book_ts);
			s->c.applied++;
			applied = true;
			s->bridged = true;
		} else {
			ev.detail = "bad buffered diff";
			buf_clear(s);
			refetch(s, &ev, local_us);
			return 1;
		}
		s->head++;
		s->nmsg--;
	}
	buf_clear(s);
	return 0;
}

int sync_on_snapshot(struct sync *s, const struct sync_snapshot *snap,
		     int64_t local_us)
{
	struct sync_event ev = { .first_id = snap->id, .has_first = true };
	int rc;

	if (s->mode != SYNC_MODE_SNAPSHOT)
		return 0;
	s->fetching = false;
	if (s->state != SYNC_WAIT_SNAPSHOT)
		return 0;
	if (!changes_valid(snap->bids, snap->nbids) ||
	    !changes_valid(snap->asks, snap->nasks)) {
		s->c.rejected++;
		ev.detail = "invalid snapshot";
		refetch(s, &ev, local_us);
		return CORE_EPARSE;
	}
	book_clear(s->book);
	bounds_reset(s);
	rc = load_side(s, BOOK_BID, snap->bids, snap->nbids);
	if (rc == 0)
		rc = load_side(s, BOOK_ASK, snap->asks, snap->nasks);
	(void)clip(s);
	if (rc != 0 || book_crossed(s->book)) {
		s->c.crossed++;
		ev.detail = "crossed snapshot";
		refetch(s, &ev, local_us);
		return 0;
	}
	s->last = snap->id;
	s->bridged = false;
	s->book_ts = ts_or_local(snap->ts_ms, 0);
	if (replay_buffer(s, local_us) != 0)
		return 0;
	if (clip(s)) {
		s->c.shallow++;
		ev.detail = "book shallower than half its snapshot";
		refetch(s, &ev, local_us);
		return 0;
	}
	if (book_crossed(s->book)) {
		s->c.crossed++;
		ev.detail = "crossed book after buffered diffs";
		refetch(s, &ev, local_us);
		return 0;
	}
	set_state(s, SYNC_SYNCED, local_us);
	s->c.snapshots++;
	ev.kind = SYNC_EV_SNAPSHOT;
	ev.last_id = s->last;
	ev.has_last = true;
	emit(s, &ev, local_us);
	emit_block(s, local_us);
	return 0;
}

void sync_on_snapshot_failed(struct sync *s, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_RESYNC,
				 .detail = "snapshot fetch failed" };

	if (!s->fetching)
		return;
	s->fetching = false;
	if (s->state != SYNC_WAIT_SNAPSHOT)
		return;
	s->c.snapshot_failures++;
	/* A retry of the same resync, not a new one. */
	if (s->cbs.event != NULL) {
		ev.symbol = s->symbol;
		ev.local_us = local_us;
		s->cbs.event(s->cbs.ctx, &ev);
	}
	request_fetch(s);
}

/* ------------------------------------------------------------ lifecycle */

void sync_on_subscribed(struct sync *s, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_SUBSCRIBED };

	emit(s, &ev, local_us);
	/*
	 * A full push that overtook the ack of a resubscribe has already
	 * synced the book; the continuity rule guards it from here on.
	 */
	if (s->state == SYNC_SYNCED)
		return;
	book_clear(s->book);
	buf_clear(s);
	if (s->mode == SYNC_MODE_FULLPUSH) {
		set_state(s, SYNC_WAIT_FULL, local_us);
		return;
	}
	set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	request_fetch(s);
}

void sync_allow_bridge(struct sync *s)
{
	s->bridge = s->state == SYNC_SYNCED;
}

void sync_on_disconnect(struct sync *s, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_DISCONNECT };

	s->bridge = false;
	emit(s, &ev, local_us);
	book_clear(s->book);
	buf_clear(s);
	set_state(s, SYNC_IDLE, local_us);
	s->fetching = false;
}

int sync_emit_snapshot(struct sync *s, int64_t local_us)
{
	if (s->state != SYNC_SYNCED)
		return CORE_EAGAIN;
	emit_block(s, local_us);
	return 0;
}

struct sync *sync_new(const char *symbol, enum sync_mode mode,
		      const struct sync_cfg *cfg, const struct sync_cbs *cbs)
{
	struct sync *s;
	size_t len;

	if (symbol == NULL || cfg == NULL || cbs == NULL ||
	    (mode != SYNC_MODE_SNAPSHOT && mode != SYNC_MODE_FULLPUSH))
		return NULL;
	len = strlen(symbol);
	if (len == 0 || len >= SYMBOL_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(s->symbol, symbol, len + 1);
	s->mode = mode;
	s->cbs = *cbs;
	s->msg_cap = cfg->buffer_msgs ? cfg->buffer_msgs : DEFAULT_BUFFER_MSGS;
	s->text_cap = cfg->buffer_bytes ? cfg->buffer_bytes
					: DEFAULT_BUFFER_BYTES;
	s->book = book_new(cfg->window);
	s->window = cfg->window;
	s->full_depth = cfg->full_depth;
	s->checksum = cfg->checksum;
	s->resubscribe = cfg->resubscribe;
	s->strict = cfg->strict;
	if (s->msg_cap > SIZE_MAX / sizeof(struct bufmsg))
		s->msg_cap = SIZE_MAX / sizeof(struct bufmsg);
	if (s->book == NULL) {
		sync_free(s);
		return NULL;
	}
	return s;
}

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	book_free(s->book);
	free(s->msgs);
	free(s->text);
	free(s);
}

enum sync_state sync_state(const struct sync *s)
{
	return s->state;
}

bool sync_synced(const struct sync *s)
{
	return s->state == SYNC_SYNCED;
}

uint64_t sync_last_id(const struct sync *s)
{
	return s->last;
}

int64_t sync_book_ts(const struct sync *s)
{
	return s->book_ts;
}

int64_t sync_state_since(const struct sync *s)
{
	return s->since;
}

bool sync_fetch_wanted(const struct sync *s)
{
	return s->fetching && s->state == SYNC_WAIT_SNAPSHOT;
}

void sync_fetch_cancel(struct sync *s)
{
	if (s->state != SYNC_WAIT_SNAPSHOT)
		s->fetching = false;
}

const struct book *sync_book(const struct sync *s)
{
	return s->book;
}

const struct sync_counters *sync_counters(const struct sync *s)
{
	return &s->c;
}

const char *sync_symbol(const struct sync *s)
{
	return s->symbol;
}

const char *sync_event_name(enum sync_event_kind kind)
{
	static const char *const names[] = {
		[SYNC_EV_SUBSCRIBED] = "subscribed",
		[SYNC_EV_SNAPSHOT] = "snapshot",
		[SYNC_EV_GAP] = "gap",
		[SYNC_EV_RESYNC] = "resync",
		[SYNC_EV_FULL_REFRESH] = "full_refresh",
		[SYNC_EV_DISCONNECT] = "disconnect",
		[SYNC_EV_DROPPED] = "dropped",
		[SYNC_EV_UPDATE] = "update",
	};

	if ((unsigned)kind >= CORE_ARRAY_LEN(names))
		return "unknown";
	return names[kind];
}
