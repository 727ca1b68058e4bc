/* Unit suite for recorder/sync: lifecycle, full pushes, per-diff rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "gateio.h"
#include "sync.h"
#include "recorder_samples.h"
#include "sync_testlib.h"
#include "testutil.h"
#include "banned.h"

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

/*
 * Which streams may take a diff that overlaps the book: snapshot mode,
 * where each diff names every level touched in its ids. A window
 * stream's push names only what differs from the previous push: here
 * the successor's push for 103..106 omits b9, set at 104 and deleted at
 * 106, so applied over a book at 105 (which has b9) it would keep b9.
 * Full-push and strict streams call that a gap instead.
 */
START_TEST(test_overlap_only_in_snapshot_mode)
{
	struct sync_cfg strict = { .window = 400,
				   .resubscribe = true,
				   .strict = true };
	struct rec *plain = synced_at_10();
	struct rec *obu = fullpush_at("X_Y", 50, 100);
	struct rec *okx = rec_new_cfg("X-Y", SYNC_MODE_SNAPSHOT, &strict);

	ck_assert(sync_bridges_overlap(plain->s));
	ck_assert(!sync_bridges_overlap(obu->s));
	ck_assert(!sync_bridges_overlap(okx->s));
	sync_on_subscribed(okx->s, 1);
	feed_full(okx, 0, 100, "b10=1 a11=1");
	for (int i = 0; i < 2; i++) {
		struct rec *rc = i == 0 ? obu : okx;

		feed(rc, 101, 103, "b10=2");
		feed(rc, 104, 105, "b9=5");
		feed(rc, 104, 106, "b10=3"); /* overlaps: b9 is gone at 106 */
		ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
		ck_assert_int_eq(rc->resubs, 1);
		ck_assert(!sync_synced(rc->s));
		ck_assert_uint_eq(rc->delta_rows, 2); /* not the overlap's */
	}
	rec_free(plain);
	rec_free(obu);
	rec_free(okx);
}
END_TEST

/*
 * A rollover's shadow: a sync with no callbacks follows another stream
 * and, once synced past the book, hands its book over as a full refresh
 * written as one snapshot block; the stream then continues from its id.
 */
START_TEST(test_shadow_adopt)
{
	struct sync_cfg strict = { .window = 400,
				   .resubscribe = true,
				   .strict = true };
	struct rec *rc = rec_new_cfg("X-Y", SYNC_MODE_SNAPSHOT, &strict);
	struct sync *sh;
	struct tupd t;
	size_t rows, blocks;

	sync_on_subscribed(rc->s, 1);
	feed_full(rc, 0, 100, "b10=1 b9=1 a11=1");
	feed(rc, 101, 105, "b9=2");
	sh = sync_shadow_new(rc->s);
	ck_assert_ptr_nonnull(sh);
	ck_assert(!sync_bridges_overlap(sh));
	/* Not synced yet: nothing to take. */
	ck_assert_int_eq(sync_adopt(rc->s, sh, 2), CORE_EAGAIN);
	ck_assert_uint_eq(sync_last_id(rc->s), 105);
	rows = rc->rows;
	blocks = rc->blocks;
	sync_on_subscribed(sh, 2);
	ck_assert_int_eq(rc->fetches, 1); /* rc's own: the shadow asks nobody */
	ck_assert_int_eq(
		sync_on_update(sh, mk(&t, 0, 103, true, "b10=1 b8=4 a11=1"), 3),
		0);
	ck_assert_int_eq(
		sync_on_update(sh, mk(&t, 104, 108, false, "b8=0 a12=7"), 4),
		0);
	ck_assert(sync_synced(sh));
	ck_assert_uint_eq(sync_last_id(sh), 108);
	ck_assert_uint_eq(rc->rows, rows); /* the shadow wrote nothing */
	ck_assert_int_eq(sync_adopt(rc->s, sh, 5), 0);
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(sync_last_id(rc->s), 108);
	ck_assert_uint_eq(rc->blocks, blocks + 1);
	ck_assert_uint_eq(rc->rows, rows + 3); /* b10 a11 a12 */
	ck_assert_uint_eq(rc->ev[SYNC_EV_FULL_REFRESH], 2);
	ck_assert_uint_eq(book_count(sync_book(rc->s), BOOK_BID), 1);
	check_book(rc);
	ck_assert(!sync_synced(sh));
	ck_assert_uint_eq(book_count(sync_book(sh), BOOK_BID), 0);
	/* The stream goes on exactly from the adopted id. */
	feed(rc, 109, 110, "b10=2");
	ck_assert_uint_eq(sync_last_id(rc->s), 110);
	feed(rc, 110, 111, "b10=3");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 1);
	sync_free(sh);
	rec_free(rc);
}
END_TEST

static Suite *sync_suite(void)
{
	Suite *s = suite_create("recorder_sync");
	TCase *rules = tcase_create("rules");

	tcase_set_timeout(rules, 30 * tu_timeout_mult());
	tcase_add_test(rules, test_basic_apply);
	tcase_add_test(rules, test_stale_and_duplicate);
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
	tcase_add_test(rules, test_overlap_only_in_snapshot_mode);
	tcase_add_test(rules, test_shadow_adopt);
	tcase_add_test(rules, test_chain_heartbeat_and_reset);
	tcase_add_test(rules, test_checksum);
	tcase_add_test(rules, test_strict_snapshot_mode);
	suite_add_tcase(s, rules);
	return s;
}

int main(void)
{
	return rs_run(sync_suite());
}
