/*
 * The per-diff rules of the book sync (sync.h): validate a diff, check
 * that it continues the book (else a gap and a resync of this symbol
 * alone), apply it within the book's window and bounds, verify the
 * exchange's checksum, never write a crossed book, and emit the rows
 * and events. This is the per-message path: it works on the caller's
 * spans directly and allocates nothing.
 */
#include "sync.h"

#include <string.h>

#include "core.h"
#include "decimal.h"
#include "sync_int.h"
#include "banned.h"

/* ------------------------------------------------------------ helpers */

void sync__set_state(struct sync *s, enum sync_state st, int64_t local_us)
{
	if (s->state != st)
		s->since = local_us;
	s->state = st;
}

int64_t sync__ts_or_local(int64_t ts_ms, int64_t local_us)
{
	if (ts_ms <= 0 || ts_ms > INT64_MAX / 1000)
		return local_us;
	return ts_ms * 1000;
}

void sync__emit(struct sync *s, struct sync_event *ev, int64_t local_us)
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

bool sync__changes_valid(const struct book_change *ch, size_t n)
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
	if (u->levels_checked)
		return true;
	return sync__changes_valid(u->bids, u->nbids) &&
	       sync__changes_valid(u->asks, u->nasks);
}

void sync__bounds_reset(struct sync *s)
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
bool sync__clip(struct sync *s)
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

int sync__load_side(struct sync *s, enum book_side side,
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

void sync__emit_block(struct sync *s, int64_t local_us)
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
		.ts_us = sync__ts_or_local(u->ts_ms, local_us),
		.local_us = local_us,
		.is_snapshot = false,
	};

	if (s->cbs.row == NULL)
		return;
	emit_side_rows(s, &r, BOOK_BID, u->bids, u->nbids);
	emit_side_rows(s, &r, BOOK_ASK, u->asks, u->nasks);
}

void sync__request_fetch(struct sync *s)
{
	if (s->fetching)
		return;
	s->fetching = true;
	if (s->cbs.fetch_snapshot != NULL)
		s->cbs.fetch_snapshot(s->cbs.ctx, s->symbol);
}

/* ------------------------------------------------------------ resync */

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
	sync__buf_clear(s);
	if (keep != NULL) {
		ev.first_id = keep->first_id;
		ev.has_first = keep->has_first;
		ev.last_id = keep->last_id;
		ev.has_last = true;
	}
	sync__emit(s, &ev, local_us);
	if (s->mode == SYNC_MODE_FULLPUSH) {
		sync__set_state(s, SYNC_WAIT_FULL, local_us);
		if (s->cbs.resubscribe != NULL)
			s->cbs.resubscribe(s->cbs.ctx, s->symbol);
		return;
	}
	sync__set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	if (s->resubscribe && s->cbs.resubscribe != NULL) {
		/* The ack asks for the snapshot, or a full push comes. */
		s->cbs.resubscribe(s->cbs.ctx, s->symbol);
		return;
	}
	if (keep != NULL && sync__buf_append(s, keep) == 0)
		s->c.buffered++;
	sync__request_fetch(s);
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

/*
 * After a message's levels went into the book (rc: how that went), a
 * level the book refused, a crossed book or one that fails the
 * exchange's checksum is never written: the message's rows are withheld
 * and the symbol resyncs, the detail naming the message as `crossed` or
 * `bad`. Returns true when withheld.
 */
static bool withheld(struct sync *s, const struct sync_update *u, int rc,
		     const char *crossed, const char *bad, int64_t local_us)
{
	if (rc != 0 || book_crossed(s->book)) {
		s->c.crossed += rc == 0;
		resync(s, rc == 0 ? crossed : bad, NULL, local_us);
		return true;
	}
	if (checksum_bad(s, u)) {
		resync(s, "checksum mismatch", NULL, local_us);
		return true;
	}
	return false;
}

void sync__full_synced(struct sync *s, uint64_t last, int64_t book_ts,
		       int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_FULL_REFRESH,
				 .last_id = last,
				 .has_last = true };

	sync__set_state(s, SYNC_SYNCED, local_us);
	s->last = last;
	s->bridged = true;
	s->book_ts = book_ts;
	s->c.full_refreshes++;
	sync__emit(s, &ev, local_us);
	sync__emit_block(s, local_us);
}

static int apply_full(struct sync *s, const struct sync_update *u,
		      int64_t local_us)
{
	int rc;

	book_clear(s->book);
	sync__buf_clear(s);
	sync__bounds_reset(s);
	rc = sync__load_side(s, BOOK_BID, u->bids, u->nbids);
	if (rc == 0)
		rc = sync__load_side(s, BOOK_ASK, u->asks, u->nasks);
	(void)sync__clip(s);
	if (withheld(s, u, rc, "crossed full push", "bad full push", local_us))
		return 0;
	s->c.applied++;
	sync__full_synced(s, u->last_id, sync__ts_or_local(u->ts_ms, 0),
			  local_us);
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
	int rc = sync__load_side(s, BOOK_BID, u->bids, u->nbids);
	bool shallow;

	if (rc == 0)
		rc = sync__load_side(s, BOOK_ASK, u->asks, u->nasks);
	shallow = sync__clip(s);
	if (withheld(s, u, rc, "crossed book", "bad diff", local_us))
		return 0;
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
	s->book_ts = sync__ts_or_local(u->ts_ms, 0);
	s->c.applied++;
	sync__emit(s, &ev, local_us);
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
	 * Contiguity is U == prev_u + 1; snapshot mode tolerates overlap
	 * (sync_bridges_overlap). strict: exact once a diff followed the
	 * snapshot; the first may still bridge it (U <= id+1 <= u), as in
	 * snapshot mode.
	 */
	gap = s->mode == SYNC_MODE_FULLPUSH || (s->strict && s->bridged)
		      ? u->first_id != expected
		      : u->first_id > expected;
	if (gap) {
		struct sync_event ev = { .kind = SYNC_EV_GAP,
					 .first_id = u->first_id,
					 .has_first = true,
					 .last_id = u->last_id,
					 .has_last = true,
					 .expected_id = expected,
					 .has_expected = true };

		sync__emit(s, &ev, local_us);
		resync(s, "gap", u, local_us);
		return 0;
	}
	return apply_delta(s, u, local_us);
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
		return sync__on_buffering(s, u, local_us);
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
