/*
 * The snapshot path of the book sync (sync.h): while a REST snapshot is
 * awaited, diffs are copied into a bounded per-symbol buffer (a header
 * array plus a text arena, both reserved once by sync_new), then
 * replayed on top of the snapshot once it arrives; a gap, an overflow
 * or a snapshot too old asks for another.
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "sync_int.h"
#include "banned.h"

/* ------------------------------------------------------------ buffer */

void sync__buf_clear(struct sync *s)
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
int sync__buf_append(struct sync *s, const struct sync_update *u)
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
	if (nb + na > 0) { /* no text buffer yet for an empty diff */
		put_side(s->text + s->text_used, u->bids, u->nbids);
		put_side(s->text + s->text_used + nb, u->asks, u->nasks);
	}
	s->text_used += nb + na;
	return 0;
}

/* Move the live entries (and their text) to the front of the buffer. */
static void buf_compact(struct sync *s)
{
	size_t base;

	if (s->nmsg == 0) {
		sync__buf_clear(s);
		return;
	}
	if (s->head == 0)
		return;
	base = s->msgs[s->head].off;
	if (s->text != NULL) /* none yet when only empty diffs came */
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
	uint64_t n = (uint64_t)m->nbids + m->nasks;
	const unsigned char *p;

	if (n == 0)
		return 0; /* and the text buffer may not exist */
	p = s->text + m->off;
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

/* Ask for a snapshot again within the current resync. */
static void refetch(struct sync *s, struct sync_event *ev, int64_t local_us)
{
	ev->kind = SYNC_EV_RESYNC;
	sync__emit(s, ev, local_us);
	book_clear(s->book);
	sync__set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	sync__request_fetch(s);
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
	sync__emit(s, &ev, local_us);
	sync__buf_clear(s);
	/*
	 * Restart: a snapshot still in flight is judged against the diffs
	 * buffered from now on and refetched if it turns out too old.
	 */
	if (!s->fetching) {
		struct sync_event rv = { .detail = "resync buffer full" };

		refetch(s, &rv, local_us);
	}
}

int sync__on_buffering(struct sync *s, const struct sync_update *u,
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
			sync__emit(s, &ev, local_us);
			sync__buf_clear(s);
		}
	}
	if (sync__buf_append(s, u) != 0) {
		overflow(s, u, local_us);
		return 0;
	}
	s->c.buffered++;
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
				sync__emit(s, &ev, local_us);
			}
			ev.detail = applied ? "gap in buffered diffs"
					    : "snapshot older than stream";
			buf_compact(s);
			refetch(s, &ev, local_us);
			return 1;
		} else if (buf_apply(s, m) == 0) {
			s->last = m->last;
			s->book_ts = sync__ts_or_local(m->ts_ms, s->book_ts);
			s->c.applied++;
			applied = true;
			s->bridged = true;
		} else {
			ev.detail = "bad buffered diff";
			sync__buf_clear(s);
			refetch(s, &ev, local_us);
			return 1;
		}
		s->head++;
		s->nmsg--;
	}
	sync__buf_clear(s);
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
	if (!sync__changes_valid(snap->bids, snap->nbids) ||
	    !sync__changes_valid(snap->asks, snap->nasks)) {
		s->c.rejected++;
		ev.detail = "invalid snapshot";
		refetch(s, &ev, local_us);
		return CORE_EPARSE;
	}
	book_clear(s->book);
	sync__bounds_reset(s);
	rc = sync__load_side(s, BOOK_BID, snap->bids, snap->nbids);
	if (rc == 0)
		rc = sync__load_side(s, BOOK_ASK, snap->asks, snap->nasks);
	(void)sync__clip(s);
	if (rc != 0 || book_crossed(s->book)) {
		s->c.crossed++;
		ev.detail = "crossed snapshot";
		refetch(s, &ev, local_us);
		return 0;
	}
	s->last = snap->id;
	s->bridged = false;
	s->book_ts = sync__ts_or_local(snap->ts_ms, 0);
	if (replay_buffer(s, local_us) != 0)
		return 0;
	if (sync__clip(s)) {
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
	sync__set_state(s, SYNC_SYNCED, local_us);
	s->c.snapshots++;
	ev.kind = SYNC_EV_SNAPSHOT;
	ev.last_id = s->last;
	ev.has_last = true;
	sync__emit(s, &ev, local_us);
	sync__emit_block(s, local_us);
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
	sync__request_fetch(s);
}
