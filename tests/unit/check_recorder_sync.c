/*
 * Unit suite for recorder/sync: every sync rule on synthetic streams, and
 * the real Gate.io captures replayed through gateio + sync, checked
 * against an independent reference book and against the book a reader
 * rebuilds from the emitted rows.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "gateio.h"
#include "sync.h"
#include "recorder_samples.h"
#include "banned.h"

/* ------------------------------------------------------------ shadow */

/*
 * The book a reader rebuilds from the rows: a snapshot block replaces
 * everything, other rows set absolute amounts. Prices become integers
 * scaled by 1e10 (no decimal module involved), amounts stay text.
 */
#define SH_MAX 4096
struct shlevel {
	long long key;
	char amount[32];
};

struct shadow {
	struct shlevel lv[2][SH_MAX];
	size_t n[2];
};

static long long scaled(const char *p, size_t len)
{
	long long v = 0;
	int frac = -1;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.') {
			frac = 0;
			continue;
		}
		if (frac >= 10)
			continue; /* the samples have at most 10 decimals */
		v = v * 10 + (p[i] - '0');
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < 10; frac++)
		v *= 10;
	return v;
}

static bool zero_text(const char *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != '0' && a[i] != '.')
			return false;
	return true;
}

static void sh_set(struct shadow *sh, int side, const char *p, size_t pl,
		   const char *a, size_t al)
{
	long long k = scaled(p, pl);
	size_t i;

	for (i = 0; i < sh->n[side]; i++)
		if (sh->lv[side][i].key == k)
			break;
	if (zero_text(a, al)) {
		if (i < sh->n[side])
			sh->lv[side][i] = sh->lv[side][--sh->n[side]];
		return;
	}
	if (i == sh->n[side]) {
		ck_assert_uint_lt(i, SH_MAX);
		sh->n[side]++;
	}
	sh->lv[side][i].key = k;
	ck_assert_uint_lt(al, 32);
	memcpy(sh->lv[side][i].amount, a, al);
	sh->lv[side][i].amount[al] = '\0';
}

/* Index of the best level of a side, or -1. */
static long sh_best(const struct shadow *sh, int side)
{
	long best = -1;

	for (size_t i = 0; i < sh->n[side]; i++) {
		long long k = sh->lv[side][i].key;

		if (best < 0 || (side == BOOK_BID ? k > sh->lv[side][best].key
						  : k < sh->lv[side][best].key))
			best = (long)i;
	}
	return best;
}

/* ------------------------------------------------------------ recorder */

struct rec {
	struct sync *s;
	struct shadow sh;
	bool new_block;
	size_t rows, snap_rows, delta_rows;
	size_t blocks; /* rows flagged block_start */
	size_t ev[SYNC_EV_UPDATE + 1];
	struct sync_event last_gap, last_resync, last_dropped;
	char last_resync_detail[64];
	int fetches, resubs;
	int64_t last_ts, last_local;
};

static void on_row(void *ctx, const struct sync_row *r)
{
	struct rec *rc = ctx;

	rc->rows++;
	if (r->block_start) {
		ck_assert(r->is_snapshot);
		rc->blocks++;
	}
	if (r->is_snapshot) {
		rc->snap_rows++;
		if (rc->new_block) {
			rc->sh.n[0] = rc->sh.n[1] = 0;
			rc->new_block = false;
		}
	} else {
		rc->delta_rows++;
		rc->new_block = true;
	}
	rc->last_ts = r->ts_us;
	rc->last_local = r->local_us;
	ck_assert_str_eq(r->symbol, sync_symbol(rc->s));
	sh_set(&rc->sh, r->side, r->price, r->price_len, r->amount,
	       r->amount_len);
}

static void on_event(void *ctx, const struct sync_event *ev)
{
	struct rec *rc = ctx;

	ck_assert_uint_le(ev->kind, SYNC_EV_UPDATE);
	ck_assert_ptr_nonnull(ev->detail);
	rc->ev[ev->kind]++;
	if (ev->kind == SYNC_EV_GAP)
		rc->last_gap = *ev;
	if (ev->kind == SYNC_EV_DROPPED)
		rc->last_dropped = *ev;
	if (ev->kind == SYNC_EV_RESYNC) {
		rc->last_resync = *ev;
		snprintf(rc->last_resync_detail, sizeof(rc->last_resync_detail),
			 "%s", ev->detail);
	}
	/* A snapshot block follows these events. */
	if (ev->kind == SYNC_EV_SNAPSHOT || ev->kind == SYNC_EV_FULL_REFRESH)
		rc->new_block = true;
}

static void on_fetch(void *ctx, const char *sym)
{
	struct rec *rc = ctx;

	ck_assert_str_eq(sym, sync_symbol(rc->s));
	rc->fetches++;
}

static void on_resub(void *ctx, const char *sym)
{
	struct rec *rc = ctx;

	(void)sym;
	rc->resubs++;
}

/* A recorder around a new sync of that config, on every callback. */
static struct rec *rec_new_cfg(const char *sym, enum sync_mode mode,
			       const struct sync_cfg *cfg)
{
	struct rec *rc = calloc(1, sizeof(*rc));
	struct sync_cbs cbs = { .ctx = rc,
				.row = on_row,
				.event = on_event,
				.fetch_snapshot = on_fetch,
				.resubscribe = on_resub };

	ck_assert_ptr_nonnull(rc);
	rc->new_block = true;
	rc->s = sync_new(sym, mode, cfg, &cbs);
	ck_assert_ptr_nonnull(rc->s);
	return rc;
}

static struct rec *rec_new(const char *sym, enum sync_mode mode, size_t depth,
			   size_t bufmsgs, size_t bufbytes)
{
	struct sync_cfg cfg = { .window = depth,
				.buffer_msgs = bufmsgs,
				.buffer_bytes = bufbytes };

	return rec_new_cfg(sym, mode, &cfg);
}

static void rec_free(struct rec *rc)
{
	sync_free(rc->s);
	free(rc);
}

/* The book is well-formed, never crossed, and when synced its top
 * equals what a reader rebuilds from the rows. */
static void check_book(struct rec *rc)
{
	const struct book *b = sync_book(rc->s);

	ck_assert_int_eq(book_check(b), 0);
	ck_assert(!book_crossed(b));
	if (!sync_synced(rc->s))
		return;
	for (int side = 0; side < 2; side++) {
		const struct book_level *l = book_level(b, side, 0);
		long i = sh_best(&rc->sh, side);

		ck_assert_int_eq(l == NULL, i < 0);
		if (l == NULL)
			continue;
		ck_assert(scaled(l->price, l->price_len) ==
			  rc->sh.lv[side][i].key);
		ck_assert_str_eq(l->amount, rc->sh.lv[side][i].amount);
	}
}

/* ------------------------------------------------------------ builders */

struct tupd {
	char text[1024];
	struct book_change ch[64];
	struct sync_update u;
	struct sync_snapshot snap;
};

/* Levels from "b10=1 b9.5=2 a11=0": bids first, then asks. */
static void mk_levels(struct tupd *t, const char *spec, size_t *nb, size_t *na)
{
	size_t n = 0;

	snprintf(t->text, sizeof(t->text), "%s", spec);
	for (int pass = 0; pass < 2; pass++) {
		char want = pass == 0 ? 'b' : 'a';
		char *p = t->text;

		while (*p != '\0') {
			char *eq = strchr(p, '='), *end;

			ck_assert_ptr_nonnull(eq);
			end = eq + strcspn(eq, " ");
			if (*p == want) {
				ck_assert_uint_lt(n, 64);
				t->ch[n].price = p + 1;
				t->ch[n].price_len = (size_t)(eq - p - 1);
				t->ch[n].amount = eq + 1;
				t->ch[n].amount_len = (size_t)(end - eq - 1);
				n++;
			}
			p = *end == ' ' ? end + 1 : end;
		}
		if (pass == 0)
			*nb = n;
	}
	*na = n - *nb;
}

static const struct sync_update *mk(struct tupd *t, uint64_t U, uint64_t u,
				    bool full, const char *spec)
{
	memset(&t->u, 0, sizeof(t->u));
	mk_levels(t, spec, &t->u.nbids, &t->u.nasks);
	t->u.bids = t->ch;
	t->u.asks = t->ch + t->u.nbids;
	t->u.first_id = U;
	t->u.has_first = U != 0;
	t->u.last_id = u;
	t->u.full = full;
	t->u.ts_ms = 1700000000000 + (int64_t)u;
	return &t->u;
}

static const struct sync_snapshot *mksnap(struct tupd *t, uint64_t id,
					  const char *spec)
{
	memset(&t->snap, 0, sizeof(t->snap));
	mk_levels(t, spec, &t->snap.nbids, &t->snap.nasks);
	t->snap.bids = t->ch;
	t->snap.asks = t->ch + t->snap.nbids;
	t->snap.id = id;
	t->snap.ts_ms = 1600000000000;
	return &t->snap;
}

static void feed(struct rec *rc, uint64_t U, uint64_t u, const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_update(rc->s, mk(&t, U, u, false, spec),
					(int64_t)u * 10),
			 0);
	check_book(rc);
}

static void feed_full(struct rec *rc, uint64_t U, uint64_t u, const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_update(rc->s, mk(&t, U, u, true, spec), 1), 0);
	check_book(rc);
}

static void snap(struct rec *rc, uint64_t id, const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_snapshot(rc->s, mksnap(&t, id, spec), 5), 0);
	check_book(rc);
}

static const char *best(struct rec *rc, enum book_side side)
{
	const struct book_level *l = book_level(sync_book(rc->s), side, 0);

	return l != NULL ? l->price : "-";
}

/* A snapshot-mode sync, subscribed and synced at id 10. */
static struct rec *synced_at_10(void)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(rc->fetches, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	snap(rc, 10, "b10=1 b9=2 a11=1 a12=2");
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(rc->snap_rows, 4);
	return rc;
}

/* A full-push sync, subscribed and synced by a full push at id last. */
static struct rec *fullpush_at(const char *sym, size_t depth, uint64_t last)
{
	struct rec *rc = rec_new(sym, SYNC_MODE_FULLPUSH, depth, 0, 0);

	sync_on_subscribed(rc->s, 1);
	feed_full(rc, 0, last, "b10=1 a11=1");
	return rc;
}

/* ------------------------------------------------------------ rules */

START_TEST(test_basic_apply)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);

	ck_assert_uint_eq(rc->ev[SYNC_EV_SUBSCRIBED], 1);
	ck_assert_uint_eq(rc->ev[SYNC_EV_SNAPSHOT], 1);
	/* Snapshot rows carry the REST time and the local time. */
	ck_assert(rc->last_ts == 1600000000000LL * 1000);
	ck_assert(rc->last_local == 5);
	feed(rc, 11, 12, "b10.5=3 a11=0");
	ck_assert_uint_eq(rc->delta_rows, 2);
	ck_assert(rc->last_ts == (1700000000000LL + 12) * 1000);
	ck_assert(rc->last_local == 120);
	ck_assert_str_eq(best(rc, BOOK_BID), "10.5");
	ck_assert_str_eq(best(rc, BOOK_ASK), "12");
	ck_assert(sync_last_id(rc->s) == 12);
	ck_assert_uint_eq(c->applied, 1);
	ck_assert_uint_eq(rc->ev[SYNC_EV_UPDATE], 1);
	/* Overlap (U <= local < u) is applied in snapshot mode. */
	feed(rc, 12, 14, "b10.5=4");
	ck_assert(sync_last_id(rc->s) == 14);
	ck_assert_uint_eq(c->applied, 2);
	ck_assert_uint_eq(c->gaps, 0);
	ck_assert_uint_eq(c->messages, 2);
	rec_free(rc);
}
END_TEST

START_TEST(test_stale_and_duplicate)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);
	size_t rows;

	feed(rc, 11, 12, "b10.5=3");
	rows = rc->rows;
	feed(rc, 11, 12, "b10.5=99"); /* duplicate */
	feed(rc, 5, 10, "b10.5=99");  /* older than the snapshot */
	feed(rc, 12, 12, "b10.5=99"); /* inside what we have */
	ck_assert_uint_eq(c->stale, 3);
	ck_assert_uint_eq(rc->rows, rows);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 "3");
	ck_assert_uint_eq(c->gaps, 0);
	ck_assert(sync_synced(rc->s));
	rec_free(rc);
}
END_TEST

START_TEST(test_gap_resync_this_symbol_only)
{
	struct rec *rc = synced_at_10();
	struct rec *other = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);
	size_t snap_rows;

	feed(rc, 11, 11, "b10.1=1");
	feed(other, 11, 11, "b10.1=1");
	/* 12 is lost: U=13 > local+1. */
	feed(rc, 13, 14, "b10.2=1");
	ck_assert_uint_eq(c->gaps, 1);
	ck_assert(rc->last_gap.expected_id == 12);
	ck_assert(rc->last_gap.first_id == 13);
	ck_assert(rc->last_gap.last_id == 14);
	ck_assert_uint_eq(c->resyncs, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_int_eq(rc->fetches, 2);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 0);
	/* The other symbol is untouched and keeps applying. */
	feed(other, 12, 12, "a10.9=1");
	ck_assert(sync_synced(other->s));
	ck_assert_uint_eq(sync_counters(other->s)->gaps, 0);
	ck_assert_int_eq(other->fetches, 1);
	/* Deltas arriving meanwhile are buffered, not written. */
	feed(rc, 15, 15, "a11.5=1");
	ck_assert_uint_eq(c->buffered, 2); /* the gap push and this one */
	snap_rows = rc->snap_rows;
	/* A snapshot at 13 bridges the buffered 13-14 (U<=14<=u) and 15. */
	snap(rc, 13, "b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 15);
	ck_assert_str_eq(best(rc, BOOK_BID), "10.2");
	ck_assert_str_eq(best(rc, BOOK_ASK), "11");
	/* One snapshot block of the whole book after the resync. */
	ck_assert_uint_eq(rc->snap_rows - snap_rows, 4);
	ck_assert_uint_eq(rc->ev[SYNC_EV_SNAPSHOT], 2);
	feed(rc, 16, 16, "a11=0");
	ck_assert_str_eq(best(rc, BOOK_ASK), "11.5");
	rec_free(rc);
	rec_free(other);
}
END_TEST

START_TEST(test_out_of_order)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);

	feed(rc, 11, 12, "b10.1=1");
	/* 15-16 overtakes 13-14: a gap, then 13-14 is stale in the buffer. */
	feed(rc, 15, 16, "b10.3=1");
	ck_assert_uint_eq(c->gaps, 1);
	feed(rc, 13, 14, "b10.2=1");
	ck_assert_uint_eq(c->stale, 1);
	feed(rc, 17, 17, "b10.4=1");
	/* The snapshot already includes 13-14; buffered 15.. bridge it. */
	snap(rc, 14, "b10.2=1 b10.1=1 b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 17);
	ck_assert_str_eq(best(rc, BOOK_BID), "10.4");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 5);
	rec_free(rc);
}
END_TEST

START_TEST(test_snapshot_older_than_stream)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);
	const struct sync_counters *c = sync_counters(rc->s);

	sync_on_subscribed(rc->s, 1);
	feed(rc, 20, 21, "b10=1");
	feed(rc, 22, 22, "a11=1");
	/* Snapshot at 10 cannot reach U=20: fetch again, keep the buffer. */
	snap(rc, 10, "b9=1 a12=1");
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_int_eq(rc->fetches, 2);
	ck_assert_uint_eq(c->resyncs, 1);
	ck_assert_str_eq(rc->last_resync_detail, "snapshot older than stream");
	ck_assert(rc->last_resync.expected_id == 11);
	ck_assert(rc->last_resync.first_id == 20);
	ck_assert_uint_eq(c->gaps, 0);
	ck_assert_uint_eq(rc->snap_rows, 0); /* nothing written */
	snap(rc, 20, "b9=1 a12=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 22);
	ck_assert_str_eq(best(rc, BOOK_BID), "10");
	ck_assert_str_eq(best(rc, BOOK_ASK), "11");
	ck_assert_uint_eq(c->applied, 2);
	rec_free(rc);
}
END_TEST

START_TEST(test_snapshot_newer_than_buffer)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);
	const struct sync_counters *c = sync_counters(rc->s);

	sync_on_subscribed(rc->s, 1);
	feed(rc, 11, 12, "b10=1");
	feed(rc, 13, 14, "b10=2");
	snap(rc, 20, "b9=1 a12=1");
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(c->skipped, 2);
	ck_assert_uint_eq(c->applied, 0);
	feed(rc, 18, 20, "b9=5"); /* stale now */
	ck_assert_uint_eq(c->stale, 1);
	/* The first push after the snapshot must bridge id+1 = 21. */
	feed(rc, 21, 22, "b9=3");
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 "3");
	feed(rc, 25, 25, "b9=4");
	ck_assert_uint_eq(c->gaps, 1);
	rec_free(rc);
}
END_TEST

START_TEST(test_buffer_overflow_count)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 4, 0);
	const struct sync_counters *c = sync_counters(rc->s);

	sync_on_subscribed(rc->s, 1);
	for (uint64_t i = 11; i <= 15; i++)
		feed(rc, i, i, "b10=1");
	/* The fifth does not fit: everything buffered is dropped. */
	ck_assert_uint_eq(c->dropped, 5);
	ck_assert_uint_eq(rc->ev[SYNC_EV_DROPPED], 1);
	ck_assert(rc->last_dropped.count == 5);
	ck_assert(rc->last_dropped.first_id == 11);
	ck_assert(rc->last_dropped.last_id == 15);
	/* A fetch is still outstanding: no second request. */
	ck_assert_int_eq(rc->fetches, 1);
	feed(rc, 16, 16, "b10=2");
	feed(rc, 17, 17, "b10=3");
	/* The in-flight snapshot (id 12) is now too old: refetch. */
	snap(rc, 12, "b9=1 a12=1");
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_int_eq(rc->fetches, 2);
	snap(rc, 15, "b9=1 a12=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 17);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 "3");
	rec_free(rc);
}
END_TEST

START_TEST(test_buffer_overflow_bytes)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 64);
	const struct sync_counters *c = sync_counters(rc->s);

	sync_on_subscribed(rc->s, 1);
	/* Each push needs 2+5+1 bytes per level: 3 levels = 24 bytes. */
	feed(rc, 11, 11, "b10.01=1 b10.02=1 b10.03=1");
	feed(rc, 12, 12, "b10.01=1 b10.02=1 b10.03=1");
	ck_assert_uint_eq(c->dropped, 0);
	feed(rc, 13, 13, "b10.01=1 b10.02=1 b10.03=1");
	ck_assert_uint_eq(c->dropped, 3);
	/* With no fetch outstanding the resync restarts at once. */
	sync_on_snapshot_failed(rc->s, 9);
	ck_assert_int_eq(rc->fetches, 2);
	feed(rc, 14, 14, "b10.01=1 b10.02=1 b10.03=1");
	ck_assert_uint_eq(c->dropped, 3);
	rec_free(rc);
}
END_TEST

START_TEST(test_snapshot_failure)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);
	const struct sync_counters *c = sync_counters(rc->s);

	sync_on_subscribed(rc->s, 1);
	feed(rc, 11, 11, "b10=1");
	sync_on_snapshot_failed(rc->s, 2);
	ck_assert_uint_eq(c->snapshot_failures, 1);
	ck_assert_int_eq(rc->fetches, 2);
	ck_assert_str_eq(rc->last_resync_detail, "snapshot fetch failed");
	ck_assert_uint_eq(c->resyncs, 0); /* a retry, not a new resync */
	/* A failure report with nothing outstanding is ignored. */
	snap(rc, 10, "b9=1 a12=1");
	sync_on_snapshot_failed(rc->s, 3);
	ck_assert_uint_eq(c->snapshot_failures, 1);
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 11);
	rec_free(rc);
}
END_TEST

START_TEST(test_full_push_mid_stream)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);
	size_t snap_rows = rc->snap_rows;

	feed(rc, 11, 11, "b10.5=1");
	feed_full(rc, 30, 35, "b20=1 b19=1 a21=1");
	ck_assert_uint_eq(c->full_refreshes, 1);
	ck_assert_uint_eq(c->gaps, 0); /* a full push is never a gap */
	ck_assert_uint_eq(rc->ev[SYNC_EV_FULL_REFRESH], 1);
	ck_assert(sync_last_id(rc->s) == 35);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 2);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_ASK), 1);
	ck_assert_str_eq(best(rc, BOOK_BID), "20");
	ck_assert_uint_eq(rc->snap_rows - snap_rows, 3);
	feed(rc, 36, 36, "a20.5=1");
	ck_assert_str_eq(best(rc, BOOK_ASK), "20.5");
	/* An older full push is stale. */
	feed_full(rc, 0, 30, "b1=1 a2=1");
	ck_assert_uint_eq(c->stale, 1);
	ck_assert_str_eq(best(rc, BOOK_BID), "20");
	rec_free(rc);
}
END_TEST

START_TEST(test_full_push_while_waiting)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);

	sync_on_subscribed(rc->s, 1);
	feed(rc, 11, 12, "b10=1");
	feed_full(rc, 13, 13, "b10=2 a11=1");
	ck_assert(sync_synced(rc->s));
	/* The snapshot fetched meanwhile is ignored. */
	snap(rc, 5, "b1=1 a2=1");
	ck_assert(sync_synced(rc->s));
	ck_assert_str_eq(best(rc, BOOK_BID), "10");
	feed(rc, 14, 14, "b10=0");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 0);
	rec_free(rc);
}
END_TEST

START_TEST(test_crossed_never_written)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);
	size_t rows = rc->rows;
	struct tupd t;

	/* A bid at the best ask locks the book: withheld, resync. */
	ck_assert_int_eq(
		sync_on_update(rc->s, mk(&t, 11, 11, false, "b11=1"), 1), 0);
	ck_assert_uint_eq(rc->rows, rows);
	ck_assert_uint_eq(c->crossed, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_str_eq(rc->last_resync_detail, "crossed book");
	ck_assert_int_eq(rc->fetches, 2);
	check_book(rc);
	/* A crossed snapshot is refused and fetched again. */
	snap(rc, 11, "b12=1 a11=1");
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_str_eq(rc->last_resync_detail, "crossed snapshot");
	ck_assert_int_eq(rc->fetches, 3);
	snap(rc, 11, "b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	rec_free(rc);
}
END_TEST

START_TEST(test_invalid_update)
{
	struct rec *rc = synced_at_10();
	const struct sync_counters *c = sync_counters(rc->s);
	struct tupd t;
	const struct sync_update *u;

	u = mk(&t, 11, 11, false, "b1e5=1");
	ck_assert_int_eq(sync_on_update(rc->s, u, 1), CORE_EPARSE);
	u = mk(&t, 12, 11, false, "b1=1");
	ck_assert_int_eq(sync_on_update(rc->s, u, 1), CORE_EPARSE);
	u = mk(&t, 0, 11, false, "b1=1"); /* no U on an incremental */
	ck_assert_int_eq(sync_on_update(rc->s, u, 1), CORE_EPARSE);
	u = mk(&t, 11, 11, false, "b1.00000000000000000000000000000001=1");
	ck_assert_int_eq(sync_on_update(rc->s, u, 1), CORE_EPARSE);
	ck_assert_uint_eq(c->rejected, 4);
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 10);
	rec_free(rc);
}
END_TEST

START_TEST(test_disconnect_and_hour_snapshot)
{
	struct rec *rc = synced_at_10();
	size_t snap_rows = rc->snap_rows, blocks = rc->blocks;

	/* Two blocks of one receive time: the flag tells them apart. */
	ck_assert_int_eq(sync_emit_snapshot(rc->s, 777), 0);
	ck_assert_int_eq(sync_emit_snapshot(rc->s, 777), 0);
	ck_assert_uint_eq(rc->snap_rows - snap_rows, 8);
	ck_assert_uint_eq(rc->blocks - blocks, 2);
	ck_assert(rc->last_local == 777);
	sync_on_disconnect(rc->s, 800);
	ck_assert_uint_eq(rc->ev[SYNC_EV_DISCONNECT], 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_IDLE);
	ck_assert_int_eq(sync_emit_snapshot(rc->s, 900), CORE_EAGAIN);
	feed(rc, 11, 11, "b1=1");
	ck_assert_uint_eq(sync_counters(rc->s)->skipped, 1);
	/* Reconnect: a fresh sync from a new snapshot. */
	sync_on_subscribed(rc->s, 1000);
	ck_assert_int_eq(rc->fetches, 2);
	snap(rc, 50, "b5=1 a6=1");
	ck_assert(sync_synced(rc->s));
	ck_assert_str_eq(best(rc, BOOK_BID), "5");
	ck_assert_str_eq(sync_event_name(SYNC_EV_FULL_REFRESH), "full_refresh");
	ck_assert_str_eq(sync_event_name(SYNC_EV_GAP), "gap");
	ck_assert_str_eq(sync_event_name((enum sync_event_kind)99), "unknown");
	rec_free(rc);
}
END_TEST

START_TEST(test_depth_trim)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 2, 0, 0);

	sync_on_subscribed(rc->s, 1);
	snap(rc, 10, "b10=1 b9=1 b8=1 b7=1 a11=1 a12=1 a13=1");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 2);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_ASK), 2);
	ck_assert_uint_eq(rc->snap_rows, 4);
	feed(rc, 11, 11, "b9.5=1 b9.7=1");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 2);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 1)->price,
			 "9.7");
	rec_free(rc);
}
END_TEST

/*
 * A sweep through more levels than the window in one message, with the
 * refill from below listed before the deletes: the book is the new
 * window, and the snapshot block after a later resync carries it whole.
 */
START_TEST(test_window_sweep)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 3, 0, 0);

	sync_on_subscribed(rc->s, 1);
	snap(rc, 10, "b10=1 b9=1 b8=1 a11=1 a12=1 a13=1");
	feed(rc, 11, 11,
	     "b5=2 b6=2 b7=2 b4=2 b10=0 b9=0 b8=0 a14=1 a15=1 a16=1 a17=1");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 3);
	ck_assert_str_eq(best(rc, BOOK_BID), "7");
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 2)->price, "5");
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_ASK), 3);
	ck_assert_int_eq(sync_emit_snapshot(rc->s, 99), 0);
	check_book(rc);
	rec_free(rc);
}
END_TEST

/*
 * After a resubscribe, the full push may overtake the subscribe ack: the
 * ack must not throw the synced book away (the pair would then wait for
 * a full push that already came).
 */
START_TEST(test_ack_after_full_push_keeps_book)
{
	struct rec *rc = fullpush_at("A_B", 10, 10);

	feed(rc, 12, 12, "b9=1"); /* gap: resubscribe */
	ck_assert_int_eq(rc->resubs, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_FULL);
	ck_assert(sync_state_since(rc->s) == 120);
	feed_full(rc, 0, 20, "b10=2 a11=2");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_book_ts(rc->s) == (1700000000000 + 20) * 1000);
	sync_on_subscribed(rc->s, 300);
	ck_assert(sync_synced(rc->s));
	feed(rc, 21, 21, "b9=1");
	ck_assert(sync_last_id(rc->s) == 21);
	ck_assert_uint_eq(sync_counters(rc->s)->applied, 3);
	rec_free(rc);
}
END_TEST

/*
 * spot.order_book_update's first push is full: a snapshot asked for at
 * subscribe time is no longer needed, and cancelling it must not stop a
 * later resync from asking again.
 */
START_TEST(test_fetch_cancel_after_full_push)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 10, 0, 0);

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(rc->fetches, 1);
	ck_assert(sync_fetch_wanted(rc->s));
	sync_fetch_cancel(rc->s); /* still waiting: ignored */
	ck_assert(sync_fetch_wanted(rc->s));
	feed_full(rc, 10, 10, "b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(!sync_fetch_wanted(rc->s));
	sync_fetch_cancel(rc->s);
	feed(rc, 13, 13, "b9=1"); /* gap: a new snapshot is asked for */
	ck_assert_int_eq(rc->fetches, 2);
	ck_assert(sync_fetch_wanted(rc->s));
	rec_free(rc);
}
END_TEST

/*
 * A whole-book stream (MEXC): the book is as deep as its snapshot. A
 * level inserted below the deepest known price is not kept (levels
 * between may be unknown); a level above pushes the deepest one out and
 * moves the bound; a sweep that leaves less than half the window known
 * is not written and resyncs.
 */
START_TEST(test_full_depth_bounds)
{
	struct sync_cfg cfg = { .window = 4, .full_depth = true };
	struct rec *rc = rec_new_cfg("AB", SYNC_MODE_SNAPSHOT, &cfg);
	const struct book *b = sync_book(rc->s);
	size_t rows;

	sync_on_subscribed(rc->s, 1);
	snap(rc, 10, "b10=1 b9=1 b8=1 b7=1 a11=1 a12=1");
	feed(rc, 11, 11, "b5=1"); /* below the bound: not kept */
	ck_assert_uint_eq(book_count(b, BOOK_BID), 4);
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->price, "7");
	feed(rc, 12, 12, "b10.5=1"); /* pushes 7 out: the bound is 8 */
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->price, "8");
	feed(rc, 13, 13, "b7=2"); /* 7 is below the bound now */
	ck_assert_uint_eq(book_count(b, BOOK_BID), 4);
	feed(rc, 14, 14, "b10.5=0 b10=0"); /* half the window: kept */
	ck_assert_uint_eq(book_count(b, BOOK_BID), 2);
	ck_assert(sync_synced(rc->s));
	/* The asks side never held the window: unbounded, all known. */
	feed(rc, 15, 15, "a20=1 a30=1");
	ck_assert_uint_eq(book_count(b, BOOK_ASK), 4);
	rows = rc->rows;
	feed(rc, 16, 16, "b9=0"); /* one of four known: resync */
	ck_assert_uint_eq(rc->rows, rows);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	ck_assert_int_eq(rc->fetches, 2);
	ck_assert_str_eq(rc->last_resync_detail,
			 "book shallower than half its snapshot");
	ck_assert_uint_eq(sync_counters(rc->s)->shallow, 1);
	rec_free(rc);
}
END_TEST

/* ------------------------------------------------------------ obu */

static void feed_frame(struct rec *rc, struct gateio_parser *p, const char *buf,
		       size_t len)
{
	struct gateio_msg m;

	ck_assert_int_eq(gateio_parse_frame(p, buf, len, &m), 0);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert_int_eq(sync_on_update(rc->s, &m.update, 1), 0);
	check_book(rc);
}

static char *gct_frame(const char *name, size_t *len, const char *patch_from,
		       const char *patch_to)
{
	char rel[256], *res, *out, *hit;
	size_t n, cap;

	snprintf(rel, sizeof(rel), "gateio/%s", name);
	res = rs_read(rel, &n);
	cap = n + 128;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	*len = (size_t)snprintf(out, cap,
				"{\"channel\":\"spot.obu\",\"result\":%.*s}",
				(int)rs_trim(res, n), res);
	free(res);
	if (patch_from != NULL) {
		hit = strstr(out, patch_from);
		ck_assert_ptr_nonnull(hit);
		ck_assert_uint_eq(strlen(patch_from), strlen(patch_to));
		memcpy(hit, patch_to, strlen(patch_to));
	}
	return out;
}

START_TEST(test_obu_real_full_then_incremental)
{
	struct rec *rc = rec_new("BTC_USDT", SYNC_MODE_FULLPUSH, 50, 0, 0);
	struct gateio_parser *p = gateio_parser_new(0);
	const struct sync_counters *c = sync_counters(rc->s);
	size_t len;
	char *full = gct_frame("gct_ws_obu_result_full_BTC_USDT_50.json", &len,
			       NULL, NULL);
	size_t ilen;
	char *inc = gct_frame("gct_ws_obu_result_incremental_BTC_USDT_50.json",
			      &ilen, NULL, NULL);

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_FULL);
	ck_assert_int_eq(rc->fetches, 0);
	/* Incrementals before the first full push are skipped. */
	feed_frame(rc, p, inc, ilen);
	ck_assert_uint_eq(c->skipped, 1);
	feed_frame(rc, p, full, len);
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(rc->snap_rows, 100);
	ck_assert_str_eq(best(rc, BOOK_BID), "111666");
	/*
	 * The captured incremental has U = 27053258982 = full.u + 1: it is
	 * contiguous and applies (SOURCES.md says otherwise; the numbers do
	 * not bear that out).
	 */
	feed_frame(rc, p, inc, ilen);
	ck_assert_uint_eq(c->gaps, 0);
	ck_assert(sync_last_id(rc->s) == 27053258987ull);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 "0.146841");
	/* Replayed again it is stale, not a gap. */
	feed_frame(rc, p, inc, ilen);
	ck_assert_uint_eq(c->stale, 1);
	ck_assert_int_eq(rc->resubs, 0);
	free(full);
	free(inc);
	gateio_parser_free(p);
	rec_free(rc);
}
END_TEST

START_TEST(test_obu_gap_resubscribes)
{
	struct rec *rc = rec_new("BTC_USDT", SYNC_MODE_FULLPUSH, 50, 0, 0);
	struct gateio_parser *p = gateio_parser_new(0);
	const struct sync_counters *c = sync_counters(rc->s);
	size_t len, ilen, dlen;
	char *full = gct_frame("gct_ws_obu_result_full_BTC_USDT_50.json", &len,
			       NULL, NULL);
	/* The real incremental with one id missing before it. */
	char *inc = gct_frame("gct_ws_obu_result_incremental_BTC_USDT_50.json",
			      &ilen, "\"U\":27053258982", "\"U\":27053258983");
	char *docs = rs_read("gateio/docs_ws_obu_push_incremental.json", &dlen);

	sync_on_subscribed(rc->s, 1);
	feed_frame(rc, p, full, len);
	feed_frame(rc, p, inc, ilen);
	ck_assert_uint_eq(c->gaps, 1);
	ck_assert(rc->last_gap.expected_id == 27053258982ull);
	ck_assert(rc->last_gap.first_id == 27053258983ull);
	ck_assert_int_eq(rc->resubs, 1);
	ck_assert_int_eq(rc->fetches, 0);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_FULL);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 0);
	/* Resubscribed: the next full push syncs again. */
	sync_on_subscribed(rc->s, 2);
	feed_frame(rc, p, full, len);
	ck_assert(sync_synced(rc->s));
	/* A push from another stream (docs ids) is a gap too. */
	feed_frame(rc, p, docs, dlen);
	ck_assert_uint_eq(c->gaps, 2);
	ck_assert_int_eq(rc->resubs, 2);
	free(full);
	free(inc);
	free(docs);
	gateio_parser_free(p);
	rec_free(rc);
}
END_TEST

START_TEST(test_obu_strict_contiguity)
{
	struct rec *rc = fullpush_at("X_Y", 50, 100);

	ck_assert(sync_synced(rc->s));
	feed(rc, 101, 105, "b10=2");
	/* Overlap is tolerated in snapshot mode but not on obu. */
	feed(rc, 104, 106, "b10=3");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	ck_assert_int_eq(rc->resubs, 1);
	rec_free(rc);
}
END_TEST

/*
 * OKX's chain on the generic ids (first = prevSeqId + 1, last = seqId):
 * an idle heartbeat (seqId == prevSeqId, no levels) covers no ids and
 * changes nothing; a maintenance reset (seqId < prevSeqId, id_reset)
 * chains on prevSeqId and the ids continue from the smaller seqId.
 */
START_TEST(test_chain_heartbeat_and_reset)
{
	struct rec *rc = fullpush_at("X-Y", 400, 100);
	struct tupd t;
	size_t rows;

	feed(rc, 101, 250, "b10=2");
	rows = rc->rows;
	/* Heartbeat: prevSeqId == seqId == 250. */
	feed(rc, 251, 250, "");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 250);
	ck_assert_uint_eq(rc->rows, rows);
	/* A heartbeat with levels is invalid. */
	ck_assert_int_eq(sync_on_update(rc->s, mk(&t, 251, 250, false, "b1=1"),
					3),
			 CORE_EPARSE);
	/* Reset: prevSeqId 250, seqId 7. */
	mk(&t, 251, 7, false, "b10=3");
	ck_assert_int_eq(sync_on_update(rc->s, &t.u, 4), CORE_EPARSE);
	t.u.id_reset = true;
	ck_assert_int_eq(sync_on_update(rc->s, &t.u, 4), 0);
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 7);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 "3");
	feed(rc, 8, 20, "a11=2");
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 0);
	/* A reset that does not chain is a gap. */
	mk(&t, 99, 3, false, "b10=4");
	t.u.id_reset = true;
	ck_assert_int_eq(sync_on_update(rc->s, &t.u, 5), 0);
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	ck_assert_int_eq(rc->resubs, 1);
	rec_free(rc);
}
END_TEST

/*
 * strict snapshot mode (OKX's REST bootstrap): the first diff after the
 * snapshot bridges it even when it arrives after it (U <= id+1 <= u);
 * from then on contiguity is exact (no overlap), and a resync
 * resubscribes instead of refetching.
 */
START_TEST(test_strict_snapshot_mode)
{
	struct sync_cfg cfg = { .window = 400,
				.resubscribe = true,
				.strict = true };
	struct rec *rc = rec_new_cfg("X-Y", SYNC_MODE_SNAPSHOT, &cfg);

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(rc->fetches, 1);
	snap(rc, 100, "b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	feed(rc, 96, 104, "b10=2"); /* bridges 100 */
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 104);
	feed(rc, 105, 107, "b10=3");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 0);
	/* Overlap, tolerated in plain snapshot mode, is a gap here. */
	feed(rc, 106, 109, "b10=4");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	ck_assert_int_eq(rc->resubs, 1);
	ck_assert_int_eq(rc->fetches, 1); /* the ack will ask */
	rec_free(rc);
}
END_TEST

/* Feed a diff that carries the exchange's checksum `sum`. */
static int feed_checked(struct rec *rc, uint64_t U, uint64_t u, bool full,
			const char *spec, int32_t sum, int64_t local_us)
{
	struct tupd t;

	mk(&t, U, u, full, spec);
	t.u.has_checksum = true;
	t.u.checksum = sum;
	return sync_on_update(rc->s, &t.u, local_us);
}

/* A fake checksum: the number of levels, so tests can predict it. */
static int32_t count_levels(const struct book *b)
{
	return (int32_t)(book_count(b, BOOK_BID) + book_count(b, BOOK_ASK));
}

START_TEST(test_checksum)
{
	struct sync_cfg cfg = { .window = 400, .checksum = count_levels };
	struct rec *rc = rec_new_cfg("X-Y", SYNC_MODE_FULLPUSH, &cfg);
	size_t rows;

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(feed_checked(rc, 0, 100, true, "b10=1 a11=1", 2, 1),
			 0);
	ck_assert(sync_synced(rc->s));
	ck_assert_int_eq(feed_checked(rc, 101, 102, false, "b9=1", 3, 2), 0);
	ck_assert(sync_synced(rc->s));
	/* Without has_checksum nothing is verified. */
	feed(rc, 103, 104, "b8=1");
	rows = rc->rows;
	ck_assert_int_eq(feed_checked(rc, 105, 106, false, "b7=1", 99, 3), 0);
	ck_assert(!sync_synced(rc->s));
	ck_assert_uint_eq(rc->rows, rows); /* the wrong book is not written */
	ck_assert_uint_eq(sync_counters(rc->s)->bad_checksums, 1);
	ck_assert_str_eq(rc->last_resync_detail, "checksum mismatch");
	ck_assert_int_eq(rc->resubs, 1);
	rec_free(rc);
}
END_TEST

/* A rollover's first diff from the new connection may overlap, once. */
START_TEST(test_bridge_once)
{
	struct rec *rc = rec_new("X_Y", SYNC_MODE_FULLPUSH, 50, 0, 0);

	/* Not synced: nothing to bridge, the flag is not kept. */
	sync_allow_bridge(rc->s);
	sync_on_subscribed(rc->s, 1);
	feed_full(rc, 0, 100, "b10=1 a11=1");
	feed(rc, 101, 105, "b10=2");
	sync_allow_bridge(rc->s);
	feed(rc, 103, 104, "b10=9"); /* stale: does not use the flag */
	feed(rc, 104, 108, "b10=3 b9=1");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 0);
	ck_assert_uint_eq(sync_last_id(rc->s), 108);
	ck_assert_str_eq(best(rc, BOOK_BID), "10");
	/* One-shot: strict again. */
	feed(rc, 107, 110, "b10=4");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	ck_assert_int_eq(rc->resubs, 1);
	rec_free(rc);
}
END_TEST

/* A bridge that does not reach the book is still a gap. */
START_TEST(test_bridge_not_a_gap_excuse)
{
	struct rec *rc = fullpush_at("X_Y", 50, 100);

	sync_allow_bridge(rc->s);
	feed(rc, 103, 104, "b10=2");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	rec_free(rc);
}
END_TEST

/* ------------------------------------------------------------ captures */

/* An independent reference: the documented algorithm on scaled ints. */
struct refbook {
	struct shadow sh;
	uint64_t last;
	bool started;
	size_t applied;
	size_t gaps;
};

static void ref_apply_side(struct shadow *sh, int side,
			   const struct book_change *ch, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sh_set(sh, side, ch[i].price, ch[i].price_len, ch[i].amount,
		       ch[i].amount_len);
}

static void ref_update(struct refbook *r, const struct sync_update *u)
{
	if (u->last_id < r->last + 1)
		return;
	if (!r->started)
		ck_assert(u->first_id <= r->last + 1);
	else if (u->first_id != r->last + 1)
		r->gaps++;
	r->started = true;
	ref_apply_side(&r->sh, BOOK_BID, u->bids, u->nbids);
	ref_apply_side(&r->sh, BOOK_ASK, u->asks, u->nasks);
	r->last = u->last_id;
	r->applied++;
}

/* The whole sync book equals the reference, level by level. */
static void assert_same_book(const struct book *b, const struct shadow *ref)
{
	for (int side = 0; side < 2; side++) {
		ck_assert_uint_eq(book_count(b, side), ref->n[side]);
		for (size_t i = 0; i < book_count(b, side); i++) {
			const struct book_level *l = book_level(b, side, i);
			long long k = scaled(l->price, l->price_len);
			size_t j, better = 0;

			for (j = 0; j < ref->n[side]; j++)
				if (ref->lv[side][j].key == k)
					break;
			ck_assert_uint_lt(j, ref->n[side]);
			ck_assert_str_eq(l->amount, ref->lv[side][j].amount);
			/* Its rank in the reference is i. */
			for (size_t q = 0; q < ref->n[side]; q++)
				better += side == BOOK_BID
						  ? ref->lv[side][q].key > k
						  : ref->lv[side][q].key < k;
			ck_assert_uint_eq(better, i);
		}
	}
}

struct capture {
	const char *pair;
	size_t diffs;
	size_t applied;
	uint64_t last;
	const char *bid, *bid_amt, *ask, *ask_amt;
};

static void replay_capture(const struct capture *cap, size_t depth,
			   size_t deliver_at)
{
	char rel[256], *sbuf, *wbuf;
	size_t slen, wlen, n, lens[128];
	const char *lines[128];
	struct gateio_parser *ps = gateio_parser_new(0);
	struct gateio_parser *pw = gateio_parser_new(0);
	struct rec *rc = rec_new(cap->pair, SYNC_MODE_SNAPSHOT, depth, 0, 0);
	struct refbook *ref = calloc(1, sizeof(*ref));
	const struct sync_counters *c = sync_counters(rc->s);
	struct sync_snapshot snapm;
	struct gateio_msg m;

	snprintf(rel, sizeof(rel),
		 "gateio/extracted_%s_rest_snapshot_with_id.json", cap->pair);
	sbuf = rs_read(rel, &slen);
	snprintf(rel, sizeof(rel),
		 "gateio/extracted_%s_ws_order_book_update.jsonl", cap->pair);
	wbuf = rs_read(rel, &wlen);
	n = rs_lines(wbuf, wlen, lines, lens, 128);
	ck_assert_uint_eq(n, cap->diffs);
	ck_assert_int_eq(gateio_parse_snapshot(ps, sbuf, slen, &snapm), 0);
	ref_apply_side(&ref->sh, BOOK_BID, snapm.bids, snapm.nbids);
	ref_apply_side(&ref->sh, BOOK_ASK, snapm.asks, snapm.nasks);
	ref->last = snapm.id;
	sync_on_subscribed(rc->s, 1);
	for (size_t i = 0; i <= n; i++) {
		if (i == deliver_at) {
			ck_assert_int_eq(sync_on_snapshot(rc->s, &snapm, 2), 0);
			ck_assert(sync_synced(rc->s));
			check_book(rc);
		}
		if (i == n)
			break;
		ck_assert_int_eq(gateio_parse_frame(pw, lines[i], lens[i], &m),
				 0);
		ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
		ck_assert_str_eq(m.pair, cap->pair);
		ref_update(ref, &m.update);
		ck_assert_int_eq(sync_on_update(rc->s, &m.update, 3), 0);
		check_book(rc); /* uncrossed and well-formed at every step */
	}
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(c->gaps, 0);
	ck_assert_uint_eq(c->resyncs, 0);
	ck_assert_uint_eq(c->crossed, 0);
	ck_assert_uint_eq(ref->gaps, 0);
	ck_assert_uint_eq(c->applied, cap->applied);
	ck_assert_uint_eq(ref->applied, cap->applied);
	ck_assert_uint_eq(c->messages, cap->diffs);
	ck_assert_uint_eq(c->applied + c->stale + c->skipped, cap->diffs);
	ck_assert(sync_last_id(rc->s) == cap->last);
	ck_assert_int_eq(rc->fetches, 1);
	/* Top of book: the reference and the values worked out by hand. */
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->price,
			 cap->bid);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_BID, 0)->amount,
			 cap->bid_amt);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_ASK, 0)->price,
			 cap->ask);
	ck_assert_str_eq(book_level(sync_book(rc->s), BOOK_ASK, 0)->amount,
			 cap->ask_amt);
	if (depth >= 1000)
		assert_same_book(sync_book(rc->s), &ref->sh);
	/* What a reader rebuilt from the rows is the same book. */
	if (depth >= 1000)
		assert_same_book(sync_book(rc->s), &rc->sh);
	free(ref);
	free(sbuf);
	free(wbuf);
	gateio_parser_free(ps);
	gateio_parser_free(pw);
	rec_free(rc);
}

static const struct capture captures[] = {
	{ "NEO_BTC", 39, 36, 31244121, "0.0018659", "0.5", "0.001873",
	  "5.24738" },
	{ "OMG_USDT", 51, 50, 59231950, "7.899", "288", "7.927", "316.6" },
};

/* The snapshot delivered before any push, after each, and at the end. */
START_TEST(test_capture_replay)
{
	const struct capture *cap = &captures[_i / 2];
	size_t depth = _i % 2 ? 1000 : 100;

	for (size_t at = 0; at <= cap->diffs; at++)
		replay_capture(cap, depth, at);
}
END_TEST

/*
 * The whole 2021 session in arrival order: ten pairs subscribed, their
 * REST snapshots delivered at the logged times among the WS frames.
 */
struct session {
	struct rec *rc[16];
	char pair[16][GATEIO_PAIR_MAX];
	size_t n;
};

static struct rec *session_get(struct session *ss, const char *pair)
{
	for (size_t i = 0; i < ss->n; i++)
		if (strcmp(ss->pair[i], pair) == 0)
			return ss->rc[i];
	return NULL;
}

struct logline {
	double ts;
	bool rest;
	bool sent;
	const char *json;
	size_t len;
	char pair[GATEIO_PAIR_MAX];
};

static int cmp_line(const void *a, const void *b)
{
	const struct logline *x = a, *y = b;

	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static size_t load_log(const char *name, bool rest, struct logline *out,
		       size_t max, char **keep)
{
	const char *starts[512];
	size_t lens[512], len, n, k = 0;

	*keep = rs_read(name, &len);
	n = rs_lines(*keep, len, starts, lens, 512);
	for (size_t i = 0; i < n && k < max; i++) {
		const char *brace = memchr(starts[i], '{', lens[i]);
		const char *tsp, *q;
		char *end;

		if (brace == NULL)
			continue;
		/* "... <- TS: {" (sent), "TS: {", or "URL -> TS: {" (REST). */
		tsp = brace - 2;
		while (tsp > starts[i] && tsp[-1] != ' ')
			tsp--;
		out[k].ts = strtod(tsp, &end);
		ck_assert(*end == ':');
		out[k].rest = rest;
		out[k].sent = memmem(starts[i], (size_t)(brace - starts[i]),
				     "<-", 2) != NULL;
		out[k].json = brace;
		out[k].len = lens[i] - (size_t)(brace - starts[i]);
		out[k].pair[0] = '\0';
		q = rest ? memmem(starts[i], lens[i], "currency_pair=", 14)
			 : NULL;
		if (q != NULL)
			snprintf(out[k].pair, sizeof(out[k].pair), "%.*s",
				 (int)strcspn(q + 14, "&"), q + 14);
		k++;
	}
	return k;
}

START_TEST(test_cryptofeed_session_replay)
{
	static struct logline lines[400];
	struct session ss = { .n = 0 };
	struct gateio_parser *p = gateio_parser_new(0);
	char *wkeep, *hkeep;
	size_t n = 0, updates = 0;

	n += load_log("gateio/cryptofeed_GATEIO.ws.1.0.log", false, lines, 400,
		      &wkeep);
	n += load_log("gateio/cryptofeed_GATEIO.http.0.0.log", true, lines + n,
		      400 - n, &hkeep);
	ck_assert_uint_eq(n, 261 + 10); /* frames + REST bodies */
	qsort(lines, n, sizeof(lines[0]), cmp_line);
	for (size_t i = 0; i < n; i++) {
		struct gateio_msg m;
		struct rec *rc;

		if (lines[i].rest) {
			struct sync_snapshot snapm;

			rc = session_get(&ss, lines[i].pair);
			ck_assert_ptr_nonnull(rc);
			ck_assert_int_eq(gateio_parse_snapshot(p, lines[i].json,
							       lines[i].len,
							       &snapm),
					 0);
			ck_assert_int_eq(sync_on_snapshot(rc->s, &snapm, 1), 0);
			ck_assert(sync_synced(rc->s));
			check_book(rc);
			continue;
		}
		ck_assert_int_eq(gateio_parse_frame(p, lines[i].json,
						    lines[i].len, &m),
				 0);
		if (lines[i].sent) {
			/* Our subscribe request: start that pair's sync (the
			 * 2021 acks do not say which pair they are for). */
			if (m.channel != GATEIO_CH_ORDER_BOOK_UPDATE)
				continue;
			ck_assert_uint_lt(ss.n, 16);
			snprintf(ss.pair[ss.n], GATEIO_PAIR_MAX, "%s", m.pair);
			ss.rc[ss.n] =
				rec_new(m.pair, SYNC_MODE_SNAPSHOT, 100, 0, 0);
			sync_on_subscribed(ss.rc[ss.n]->s, 1);
			ss.n++;
			continue;
		}
		if (m.type != GATEIO_MSG_UPDATE)
			continue;
		rc = session_get(&ss, m.pair);
		ck_assert_ptr_nonnull(rc);
		ck_assert_int_eq(sync_on_update(rc->s, &m.update, 1), 0);
		check_book(rc);
		updates++;
	}
	ck_assert_uint_eq(ss.n, 10);
	ck_assert_uint_eq(updates, 172);
	for (size_t i = 0; i < ss.n; i++) {
		const struct sync_counters *c = sync_counters(ss.rc[i]->s);

		ck_assert_msg(sync_synced(ss.rc[i]->s), "%s", ss.pair[i]);
		ck_assert_uint_eq(c->gaps, 0);
		ck_assert_uint_eq(c->resyncs, 0);
		ck_assert_uint_eq(c->rejected, 0);
		ck_assert_int_eq(ss.rc[i]->fetches, 1);
		if (strcmp(ss.pair[i], "NEO_BTC") == 0) {
			ck_assert_uint_eq(c->applied, 36);
			ck_assert(sync_last_id(ss.rc[i]->s) == 31244121);
		}
		if (strcmp(ss.pair[i], "OMG_USDT") == 0)
			ck_assert_uint_eq(c->applied, 50);
		rec_free(ss.rc[i]);
	}
	free(wkeep);
	free(hkeep);
	gateio_parser_free(p);
}
END_TEST

static Suite *sync_suite(void)
{
	Suite *s = suite_create("recorder_sync");
	TCase *rules = tcase_create("rules");
	TCase *real = tcase_create("captures");

	tcase_add_test(rules, test_basic_apply);
	tcase_add_test(rules, test_stale_and_duplicate);
	tcase_add_test(rules, test_gap_resync_this_symbol_only);
	tcase_add_test(rules, test_out_of_order);
	tcase_add_test(rules, test_snapshot_older_than_stream);
	tcase_add_test(rules, test_snapshot_newer_than_buffer);
	tcase_add_test(rules, test_buffer_overflow_count);
	tcase_add_test(rules, test_buffer_overflow_bytes);
	tcase_add_test(rules, test_snapshot_failure);
	tcase_add_test(rules, test_full_push_mid_stream);
	tcase_add_test(rules, test_full_push_while_waiting);
	tcase_add_test(rules, test_crossed_never_written);
	tcase_add_test(rules, test_invalid_update);
	tcase_add_test(rules, test_disconnect_and_hour_snapshot);
	tcase_add_test(rules, test_depth_trim);
	tcase_add_test(rules, test_window_sweep);
	tcase_add_test(rules, test_full_depth_bounds);
	tcase_add_test(rules, test_ack_after_full_push_keeps_book);
	tcase_add_test(rules, test_fetch_cancel_after_full_push);
	tcase_add_test(rules, test_obu_real_full_then_incremental);
	tcase_add_test(rules, test_obu_gap_resubscribes);
	tcase_add_test(rules, test_obu_strict_contiguity);
	tcase_add_test(rules, test_bridge_once);
	tcase_add_test(rules, test_bridge_not_a_gap_excuse);
	tcase_add_test(rules, test_chain_heartbeat_and_reset);
	tcase_add_test(rules, test_checksum);
	tcase_add_test(rules, test_strict_snapshot_mode);
	suite_add_tcase(s, rules);
	tcase_add_loop_test(real, test_capture_replay, 0, 4);
	tcase_add_test(real, test_cryptofeed_session_replay);
	tcase_set_timeout(real, 60);
	suite_add_tcase(s, real);
	return s;
}

int main(void)
{
	return rs_run(sync_suite());
}
