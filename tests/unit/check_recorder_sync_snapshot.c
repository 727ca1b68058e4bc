/* Unit suite for recorder/sync_snapshot: buffering, snapshot replay, resync. */
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

/*
 * A diff with no levels waiting for the snapshot (the text buffer is
 * made only for levels, so there is none yet): buffered, compacted and
 * replayed without touching it (clang's UBSan in make fuzz found the
 * null pointer; GCC's does not flag NULL + 0).
 */
START_TEST(test_empty_diffs_buffered)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);

	sync_on_subscribed(rc->s, 1);
	feed(rc, 5, 6, "");
	feed(rc, 7, 8, "");
	snap(rc, 6, "b10=1 a11=1");
	ck_assert(sync_synced(rc->s));
	ck_assert(sync_last_id(rc->s) == 8);
	feed(rc, 9, 9, "b10=2");
	ck_assert_str_eq(best(rc, BOOK_BID), "10");
	ck_assert_uint_eq(sync_counters(rc->s)->gaps, 0);
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

static Suite *sync_snapshot_suite(void)
{
	Suite *s = suite_create("recorder_sync_snapshot");
	TCase *rules = tcase_create("rules");
	TCase *real = tcase_create("captures");

	tcase_set_timeout(rules, 30 * tu_timeout_mult());
	tcase_add_test(rules, test_gap_resync_this_symbol_only);
	tcase_add_test(rules, test_out_of_order);
	tcase_add_test(rules, test_snapshot_older_than_stream);
	tcase_add_test(rules, test_snapshot_newer_than_buffer);
	tcase_add_test(rules, test_buffer_overflow_count);
	tcase_add_test(rules, test_buffer_overflow_bytes);
	tcase_add_test(rules, test_snapshot_failure);
	tcase_add_test(rules, test_empty_diffs_buffered);
	suite_add_tcase(s, rules);
	tcase_add_loop_test(real, test_capture_replay, 0, 4);
	tcase_add_test(real, test_cryptofeed_session_replay);
	tcase_set_timeout(real, 60);
	suite_add_tcase(s, real);
	return s;
}

int main(void)
{
	return rs_run(sync_snapshot_suite());
}
