/* Unit suite for recorder/okx: request frames, instIds, the documented
 * pushes, acks, errors and REST bodies, malformed pushes, the seqId chain
 * mapped onto the generic ids (heartbeat, maintenance reset, gap) through
 * recorder/sync, and the real 2022 captures (extracted_BTC-USDT_books_*
 * and the cryptofeed session's three books) replayed through the parser
 * and sync with every CRC32 checksum verified. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "okx.h"
#include "sync.h"
#include "recorder_samples.h"
#include "banned.h"

static struct okx_parser *P;

static void setup(void)
{
	P = okx_parser_new(0);
	ck_assert_ptr_nonnull(P);
}

static void teardown(void)
{
	okx_parser_free(P);
	P = NULL;
}

static int parse_str(const char *s, struct okx_msg *m)
{
	return okx_parse_frame(P, s, strlen(s), m);
}

static int parse_sample(const char *rel, struct okx_msg *m, char **keep)
{
	size_t len;
	char *buf = rs_read(rel, &len);

	*keep = buf;
	return okx_parse_frame(P, buf, rs_trim(buf, len), m);
}

START_TEST(test_build)
{
	const char *insts[] = { "BTC-USDT", "ETH-BTC" };
	char buf[256];
	size_t len;

	ck_assert_int_eq(okx_build_subscribe(buf, sizeof(buf), insts, 2, true,
					     1512, &len),
			 0);
	ck_assert_str_eq(buf,
			 "{\"id\":\"1512\",\"op\":\"subscribe\",\"args\":["
			 "{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},"
			 "{\"channel\":\"books\",\"instId\":\"ETH-BTC\"}]}");
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(okx_build_subscribe(buf, sizeof(buf), insts, 1, false,
					     0, &len),
			 0);
	ck_assert_str_eq(buf, "{\"op\":\"unsubscribe\",\"args\":[{\"channel\":"
			      "\"books\",\"instId\":\"BTC-USDT\"}]}");
	ck_assert_int_eq(okx_build_subscribe(buf, sizeof(buf), insts, 0, true,
					     1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(okx_build_subscribe(buf, 30, insts, 2, true, 1, &len),
			 CORE_ETOOBIG);
	ck_assert_int_eq(okx_build_ping(buf, sizeof(buf), &len), 0);
	ck_assert_str_eq(buf, "ping");
	ck_assert_int_eq(okx_build_snapshot_path(buf, sizeof(buf), "BTC-USDT",
						 400, &len),
			 0);
	ck_assert_str_eq(buf, "/api/v5/market/books?instId=BTC-USDT&sz=400");
	ck_assert_int_eq(okx_build_snapshot_path(buf, sizeof(buf), "BTC-USDT",
						 401, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(okx_inst_from_normalized("btc-usdt", buf, sizeof(buf)),
			 0);
	ck_assert_str_eq(buf, "BTC-USDT");
	ck_assert_int_eq(okx_inst_from_normalized("BTCUSDT", buf, sizeof(buf)),
			 CORE_EINVAL);
	ck_assert_int_eq(okx_inst_from_normalized("BTC--USDT", buf,
						  sizeof(buf)),
			 CORE_EINVAL);
	ck_assert_int_eq(okx_inst_from_normalized("BTC_X-USDT", buf,
						  sizeof(buf)),
			 CORE_EINVAL);
	ck_assert_int_eq(okx_inst_from_normalized("BTC-USDT", buf, 5),
			 CORE_ETOOBIG);
}
END_TEST

START_TEST(test_samples)
{
	struct okx_msg m;
	char *b;

	ck_assert_int_eq(
		parse_sample("okx/docs2026_ws_books_snapshot.json", &m, &b), 0);
	ck_assert_int_eq(m.type, OKX_MSG_UPDATE);
	ck_assert_str_eq(m.inst, "BTC-USDT");
	ck_assert(m.snapshot && m.update.full && !m.update.has_first);
	ck_assert(m.update.last_id == 123456);
	ck_assert(!m.update.has_checksum); /* 0: deprecated */
	ck_assert_int_eq(m.update.ts_ms, 1597026383085);
	ck_assert_uint_eq(m.update.nbids, 8);
	ck_assert_uint_eq(m.update.nasks, 8);
	ck_assert_int_eq(memcmp(m.update.asks[0].price, "8476.98", 7), 0);
	free(b);
	ck_assert_int_eq(
		parse_sample("okx/docs2026_ws_books_update.json", &m, &b), 0);
	ck_assert(m.type == OKX_MSG_UPDATE && !m.snapshot);
	ck_assert(m.update.has_first && m.update.first_id == 123457 &&
		  m.update.last_id == 123457 && !m.update.id_reset);
	free(b);
	ck_assert_int_eq(parse_sample("okx/docs2026_ws_books_subscribe_ack."
				      "json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, OKX_MSG_ACK);
	ck_assert_str_eq(m.inst, "BTC-USDT");
	ck_assert(m.has_req_id && m.req_id == 1512 && !m.unsubscribe);
	free(b);
	ck_assert_int_eq(parse_sample("okx/docs2026_ws_subscribe_failure_"
				      "60012.json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, OKX_MSG_ERROR);
	ck_assert_int_eq(m.code, 60012);
	free(b);
	ck_assert_int_eq(
		parse_sample("okx/docs2026_ws_books5_push.json", &m, &b), 0);
	ck_assert_int_eq(m.type, OKX_MSG_UNKNOWN);
	free(b);
	ck_assert_int_eq(
		parse_sample("okx/docs2026_ws_bbo_tbt_push.json", &m, &b), 0);
	ck_assert_int_eq(m.type, OKX_MSG_UNKNOWN);
	free(b);
	ck_assert_int_eq(parse_str("{\"event\":\"error\",\"code\":\"60018\","
				   "\"msg\":\"Wrong URL or channel:books,"
				   "instId:BTC-USDTT doesn't exist. Please "
				   "use the correct URL\",\"connId\":\"a\"}",
				   &m),
			 0);
	ck_assert(m.type == OKX_MSG_ERROR && m.code == 60018);
	ck_assert_str_eq(m.inst, "BTC-USDTT");
	ck_assert_int_eq(parse_str("{\"event\":\"notice\",\"code\":\"64008\","
				   "\"msg\":\"The connection will soon be "
				   "closed for a service upgrade.\"}",
				   &m),
			 0);
	ck_assert(m.type == OKX_MSG_NOTICE && m.code == 64008);
	ck_assert_int_eq(parse_str("{\"event\":\"unsubscribe\",\"arg\":{"
				   "\"channel\":\"books\",\"instId\":\"A-B\"}}",
				   &m),
			 0);
	ck_assert(m.type == OKX_MSG_ACK && m.unsubscribe && !m.has_req_id);
	ck_assert_int_eq(parse_str("pong", &m), 0);
	ck_assert_int_eq(m.type, OKX_MSG_PONG);
}
END_TEST

START_TEST(test_rest)
{
	struct sync_snapshot s;
	size_t len;
	char *b = rs_read("okx/nautilus_rest_market_books.json", &len);
	static const char with_seq[] =
		"{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":[[\"2\",\"1\","
		"\"0\",\"1\"]],\"bids\":[[\"1\",\"3\",\"0\",\"2\"]],\"ts\":\"17"
		"\",\"seqId\":42}]}";
	static const char bad_inst[] =
		"{\"code\":\"51001\",\"msg\":\"Instrument ID doesn't exist.\","
		"\"data\":[]}";

	/* Today's body has no seqId: it cannot bridge a stream. */
	ck_assert_int_eq(okx_parse_snapshot(P, b, rs_trim(b, len), &s),
			 CORE_EPARSE);
	free(b);
	ck_assert_int_eq(okx_parse_snapshot(P, with_seq, strlen(with_seq), &s),
			 0);
	ck_assert(s.id == 42 && s.ts_ms == 17);
	ck_assert_uint_eq(s.nbids, 1);
	ck_assert_uint_eq(s.nasks, 1);
	ck_assert_int_eq(memcmp(s.bids[0].amount, "3", 1), 0);
	ck_assert_int_eq(okx_parse_snapshot(P, bad_inst, strlen(bad_inst), &s),
			 CORE_EPARSE);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"other\",\"data\":[{\"asks\":[],\"bids\":[]}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"ab\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[],\"bids\":[]}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[]}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[[1,2]],\"bids\":[]}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[[\"x\",\"2\"]],\"bids\":[]}]}",
		/* Two elements that do not chain. */
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[],\"bids\":[],\"prevSeqId\":1,"
		"\"seqId\":2},{\"asks\":[],\"bids\":[],\"prevSeqId\":3,"
		"\"seqId\":4}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\":"
		"\"update\",\"data\":[{\"asks\":[],\"bids\":[],\"prevSeqId\":-1,"
		"\"seqId\":2}]}",
		"{\"arg\":",
	};
	struct okx_msg m;

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		ck_assert_msg(parse_str(bad[i], &m) == CORE_EPARSE,
			      "accepted #%zu", i);
		ck_assert_int_ne(m.type, OKX_MSG_UPDATE);
	}
	/* Two chained elements merge: bids of both, then asks. */
	ck_assert_int_eq(parse_str("{\"arg\":{\"channel\":\"books\",\"instId\""
				   ":\"A-B\"},\"action\":\"update\",\"data\":"
				   "[{\"asks\":[[\"5\",\"1\"]],\"bids\":[[\"1"
				   "\",\"1\"]],\"prevSeqId\":1,\"seqId\":2},{"
				   "\"asks\":[],\"bids\":[[\"2\",\"1\"]],"
				   "\"prevSeqId\":2,\"seqId\":9}]}",
				   &m),
			 0);
	ck_assert(m.update.first_id == 2 && m.update.last_id == 9);
	ck_assert_uint_eq(m.update.nbids, 2);
	ck_assert_uint_eq(m.update.nasks, 1);
}
END_TEST

/* ------------------------------------------------------------ sync */

struct srec {
	int resubs;
};

static void on_resub(void *ctx, const char *sym)
{
	struct srec *r = ctx;

	(void)sym;
	r->resubs++;
}

/* The venue's sync: snapshot mode, resubscribe on resync, strict. */
static struct sync *s_new(const char *inst, struct srec *r)
{
	struct sync_cfg cfg = { .window = OKX_BOOK_LEVELS,
				.checksum = okx_book_checksum,
				.resubscribe = true,
				.strict = true };
	struct sync_cbs cbs = { .ctx = r, .resubscribe = on_resub };
	struct sync *s;

	memset(r, 0, sizeof(*r));
	s = sync_new(inst, SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	ck_assert_ptr_nonnull(s);
	sync_on_subscribed(s, 1);
	return s;
}

static void push(struct sync *s, const char *json)
{
	struct okx_msg m;

	ck_assert_int_eq(parse_str(json, &m), 0);
	ck_assert_int_eq(m.type, OKX_MSG_UPDATE);
	ck_assert_int_eq(sync_on_update(s, &m.update, 2), 0);
}

static const char *upd(char *buf, size_t size, long prev, long seq,
		       const char *bids)
{
	snprintf(
		buf, size,
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},"
		"\"action\":\"update\",\"data\":[{\"asks\":[],\"bids\":%s,"
		"\"ts\":\"1\",\"checksum\":0,\"prevSeqId\":%ld,\"seqId\":%ld}]}",
		bids, prev, seq);
	return buf;
}

/* §4.4: chain, heartbeat, maintenance reset; anything else a gap. */
START_TEST(test_chain)
{
	struct srec r;
	struct sync *s = s_new("A-B", &r);
	char b[512];

	push(s,
	     "{\"arg\":{\"channel\":\"books\",\"instId\":\"A-B\"},\"action\""
	     ":\"snapshot\",\"data\":[{\"asks\":[[\"11\",\"1\",\"0\",\"1\"]],"
	     "\"bids\":[[\"10\",\"1\",\"0\",\"1\"]],\"ts\":\"1\",\"checksum\":"
	     "0,\"prevSeqId\":-1,\"seqId\":1000}]}");
	ck_assert(sync_synced(s));
	push(s, upd(b, sizeof(b), 1000, 1737, "[[\"10\",\"2\",\"0\",\"1\"]]"));
	push(s, upd(b, sizeof(b), 1737, 1737, "[]")); /* heartbeat */
	push(s, upd(b, sizeof(b), 1737, 12, "[[\"10\",\"3\",\"0\",\"1\"]]"));
	push(s, upd(b, sizeof(b), 12, 13, "[[\"9\",\"3\",\"0\",\"1\"]]"));
	ck_assert(sync_synced(s));
	ck_assert(sync_last_id(s) == 13);
	ck_assert_uint_eq(sync_counters(s)->gaps, 0);
	ck_assert_str_eq(book_level(sync_book(s), BOOK_BID, 0)->amount, "3");
	ck_assert_uint_eq(book_count(sync_book(s), BOOK_BID), 2);
	/* prevSeqId 14 != 13: a gap, the instrument is resubscribed. */
	push(s, upd(b, sizeof(b), 14, 20, "[]"));
	ck_assert(!sync_synced(s));
	ck_assert_uint_eq(sync_counters(s)->gaps, 1);
	ck_assert_int_eq(r.resubs, 1);
	sync_free(s);
}
END_TEST

/*
 * The pre-2026 docs example carries checksum -855196043, which its own
 * levels do not produce (-2102840145: the example's book was edited
 * after the fact; the 2022 captures below are the real vectors). A
 * mismatch is never written: the book resyncs by resubscribing.
 */
START_TEST(test_checksum_doc)
{
	struct srec r;
	struct sync *s = s_new("BTC-USDT", &r);
	struct okx_msg m;
	char *b;

	ck_assert_int_eq(parse_sample("okx/docs_pre2026_ws_books_snapshot_"
				      "checksum.json",
				      &m, &b),
			 0);
	ck_assert(m.update.has_checksum);
	ck_assert_int_eq(m.update.checksum, -855196043);
	ck_assert_int_eq(sync_on_update(s, &m.update, 2), 0);
	ck_assert(!sync_synced(s));
	ck_assert_uint_eq(sync_counters(s)->bad_checksums, 1);
	ck_assert_int_eq(r.resubs, 1);
	/* The same levels with the checksum they do produce. */
	m.update.checksum = -2102840145;
	ck_assert_int_eq(sync_on_update(s, &m.update, 3), 0);
	ck_assert(sync_synced(s));
	ck_assert_int_eq(okx_book_checksum(sync_book(s)), -2102840145);
	free(b);
	sync_free(s);
}
END_TEST

/* Give a 2022 push (no seqId) chained synthetic ids. */
static void feed_2022(struct sync *s, struct okx_msg *m, uint64_t *id)
{
	if (!m->snapshot) {
		m->update.has_first = true;
		m->update.first_id = *id + 1;
	}
	m->update.last_id = ++*id;
	ck_assert(m->update.has_checksum);
	ck_assert_int_eq(sync_on_update(s, &m->update, 2), 0);
	ck_assert_msg(sync_synced(s), "checksum of push %llu failed",
		      (unsigned long long)*id);
}

/* extracted_BTC-USDT_books_2022_*: 61 pushes, every checksum right. */
START_TEST(test_extracted_2022)
{
	const char *starts[128];
	size_t lens[128], len, slen, n;
	char *ws = rs_read("okx/extracted_BTC-USDT_books_2022_updates.jsonl",
			   &len);
	char *snap = rs_read("okx/extracted_BTC-USDT_books_2022_snapshot.json",
			     &slen);
	struct srec r;
	struct sync *s = s_new("BTC-USDT", &r);
	struct okx_msg m;
	uint64_t id = 0;

	ck_assert_int_eq(okx_parse_frame(P, snap, rs_trim(snap, slen), &m), 0);
	ck_assert(m.snapshot && !m.has_seq);
	ck_assert_uint_eq(m.update.nbids, 400);
	feed_2022(s, &m, &id);
	n = rs_lines(ws, len, starts, lens, 128);
	ck_assert_uint_eq(n, 60);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(okx_parse_frame(P, starts[i], lens[i], &m), 0);
		ck_assert(m.type == OKX_MSG_UPDATE && !m.has_seq);
		feed_2022(s, &m, &id);
	}
	ck_assert_uint_eq(sync_counters(s)->bad_checksums, 0);
	ck_assert_uint_eq(sync_counters(s)->applied, 61);
	ck_assert_uint_eq(sync_counters(s)->crossed, 0);
	/* A wrong size in the last push: the checksum catches it. */
	{
		char *line = malloc(lens[n - 1] + 1);
		char *q;

		ck_assert_ptr_nonnull(line);
		memcpy(line, starts[n - 1], lens[n - 1]);
		line[lens[n - 1]] = '\0';
		sync_free(s);
		s = s_new("BTC-USDT", &r);
		id = 0;
		ck_assert_int_eq(
			okx_parse_frame(P, snap, rs_trim(snap, slen), &m), 0);
		feed_2022(s, &m, &id);
		for (size_t i = 0; i + 1 < n; i++) {
			ck_assert_int_eq(
				okx_parse_frame(P, starts[i], lens[i], &m), 0);
			feed_2022(s, &m, &id);
		}
		q = strstr(line, "\"data\"");
		ck_assert_ptr_nonnull(q);
		q = strstr(q, "\",\"");
		ck_assert_ptr_nonnull(q);
		q[3] = q[3] == '9' ? '8' : '9'; /* first size's first digit */
		ck_assert_int_eq(okx_parse_frame(P, line, strlen(line), &m), 0);
		m.update.has_first = true;
		m.update.first_id = id + 1;
		m.update.last_id = id + 1;
		ck_assert_int_eq(sync_on_update(s, &m.update, 3), 0);
		ck_assert(!sync_synced(s));
		ck_assert_uint_eq(sync_counters(s)->bad_checksums, 1);
		ck_assert_int_eq(r.resubs, 1);
		free(line);
	}
	sync_free(s);
	free(ws);
	free(snap);
}
END_TEST

/* The whole 2022 session: three books, every checksum verified. */
START_TEST(test_cryptofeed_session)
{
	static const char *const inst[] = { "BTC-USDT", "BTC-USD-220527",
					    "UNI-USD-SWAP" };
	const char *starts[512];
	size_t lens[512], len, n, books = 0, acks = 0;
	char *buf = rs_read("okx/cryptofeed_OKX.ws.1.0.log", &len);
	struct srec r[3];
	struct sync *s[3];
	uint64_t id[3] = { 0 };

	for (size_t k = 0; k < 3; k++)
		s[k] = s_new(inst[k], &r[k]);
	n = rs_lines(buf, len, starts, lens, 512);
	for (size_t i = 0; i < n; i++) {
		const char *j = memchr(starts[i], '{', lens[i]);
		struct okx_msg m;
		size_t off;

		if (j == NULL || memchr(starts[i], '<', lens[i]) != NULL)
			continue;
		off = (size_t)(j - starts[i]);
		ck_assert_int_eq(okx_parse_frame(P, j, lens[i] - off, &m), 0);
		acks += m.type == OKX_MSG_ACK;
		if (m.type != OKX_MSG_UPDATE)
			continue;
		books++;
		for (size_t k = 0; k < 3; k++)
			if (strcmp(m.inst, inst[k]) == 0)
				feed_2022(s[k], &m, &id[k]);
	}
	ck_assert_uint_eq(books, 290);
	ck_assert_uint_eq(acks, 18);
	for (size_t k = 0; k < 3; k++) {
		ck_assert_uint_eq(sync_counters(s[k])->bad_checksums, 0);
		ck_assert_uint_eq(r[k].resubs, 0);
		sync_free(s[k]);
	}
	free(buf);
}
END_TEST

static Suite *okx_suite(void)
{
	Suite *s = suite_create("recorder_okx");
	TCase *tc = tcase_create("okx");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_rest);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_checksum_doc);
	tcase_add_test(tc, test_extracted_2022);
	tcase_add_test(tc, test_cryptofeed_session);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(okx_suite());
}
