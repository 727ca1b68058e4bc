/* Unit suite for recorder/binance: request frames, symbol and stream
 * mapping, the documented replies and events, malformed pushes, and the
 * real 2021 captures (extracted_NKNUSDT_* and the cryptofeed session of
 * four symbols) replayed through the parser and recorder/sync with the
 * documented recipe: 0 gaps, every book synced and never crossed. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "binance.h"
#include "sync.h"
#include "recorder_samples.h"
#include "banned.h"

static struct binance_parser *P;

static void setup(void)
{
	P = binance_parser_new(0);
	ck_assert_ptr_nonnull(P);
}

static void teardown(void)
{
	binance_parser_free(P);
	P = NULL;
}

static int parse_str(const char *s, struct binance_msg *m)
{
	return binance_parse_frame(P, s, strlen(s), m);
}

static int parse_sample(const char *rel, struct binance_msg *m, char **keep)
{
	size_t len;
	char *buf = rs_read(rel, &len);

	*keep = buf;
	return binance_parse_frame(P, buf, rs_trim(buf, len), m);
}

START_TEST(test_build)
{
	const char *syms[] = { "BTCUSDT", "ETHBTC" };
	char buf[256];
	size_t len;

	ck_assert_int_eq(binance_build_subscribe(buf, sizeof(buf), syms, 2,
						 "100ms", true, 7, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"SUBSCRIBE\",\"params\":["
			      "\"btcusdt@depth@100ms\",\"ethbtc@depth@100ms\""
			      "],\"id\":7}");
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(binance_build_subscribe(buf, sizeof(buf), syms, 1,
						 "1000ms", false, 312, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"UNSUBSCRIBE\",\"params\":["
			      "\"btcusdt@depth\"],\"id\":312}");
	ck_assert_int_eq(binance_build_subscribe(buf, sizeof(buf), syms, 0,
						 "100ms", true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_build_subscribe(buf, sizeof(buf), syms, 1,
						 "10ms", true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_build_subscribe(buf, 20, syms, 2, "100ms",
						 true, 1, &len),
			 CORE_ETOOBIG);
	syms[1] = "btcusdt";
	ck_assert_int_eq(binance_build_subscribe(buf, sizeof(buf), syms, 2,
						 "100ms", true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_build_snapshot_path(buf, sizeof(buf),
						     "NKNUSDT", 1000, &len),
			 0);
	ck_assert_str_eq(buf, "/api/v3/depth?symbol=NKNUSDT&limit=1000");
	ck_assert_int_eq(binance_build_snapshot_path(buf, sizeof(buf),
						     "NKNUSDT", 5001, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_build_snapshot_path(buf, sizeof(buf),
						     "NKNUSDT", 0, &len),
			 CORE_EINVAL);
}
END_TEST

START_TEST(test_symbols)
{
	char out[BINANCE_SYMBOL_MAX];

	ck_assert_int_eq(binance_symbol_from_normalized("BTC-USDT", out,
							sizeof(out)),
			 0);
	ck_assert_str_eq(out, "BTCUSDT");
	ck_assert_int_eq(binance_symbol_from_normalized("nkn-usdt", out,
							sizeof(out)),
			 0);
	ck_assert_str_eq(out, "NKNUSDT");
	ck_assert_int_eq(binance_symbol_from_normalized("BTCUSDT", out,
							sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_symbol_from_normalized("BTC-US-DT", out,
							sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_symbol_from_normalized("-USDT", out,
							sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_symbol_from_normalized("BTC_X-USDT", out,
							sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(binance_symbol_from_normalized("BTC-USDT", out, 5),
			 CORE_ETOOBIG);
	ck_assert(binance_symbol_valid("BTCUSDT"));
	ck_assert(!binance_symbol_valid("btcusdt"));
	ck_assert(!binance_symbol_valid(""));
}
END_TEST

/* The documented replies and events, and a real combined frame. */
START_TEST(test_samples)
{
	struct binance_msg m;
	char *b;

	ck_assert_int_eq(
		parse_sample("binance/docs_ws_diff_depth_event_raw.json", &m,
			     &b),
		0);
	ck_assert_int_eq(m.type, BINANCE_MSG_UPDATE);
	ck_assert_str_eq(m.symbol, "BNBBTC");
	ck_assert(m.update.first_id == 157 && m.update.last_id == 160);
	ck_assert(m.update.has_first && !m.update.full);
	ck_assert_int_eq(m.update.ts_ms, 1672515782136);
	ck_assert_uint_eq(m.update.nbids, 1);
	ck_assert_uint_eq(m.update.nasks, 1);
	ck_assert_int_eq(memcmp(m.update.asks[0].amount, "100", 3), 0);
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_subscribe_response.json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_ACK);
	ck_assert(m.has_req_id && m.req_id == 1);
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_unsubscribe_response."
				      "json",
				      &m, &b),
			 0);
	ck_assert(m.type == BINANCE_MSG_ACK && m.req_id == 312);
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_list_subscriptions_"
				      "response.json",
				      &m, &b),
			 0);
	ck_assert(m.type == BINANCE_MSG_ACK && m.req_id == 3);
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_error_request_id.json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_ERROR);
	ck_assert_int_eq(m.code, 2);
	ck_assert(!m.has_req_id);
	ck_assert_str_eq(m.text, "Invalid request: request ID must be an "
				 "unsigned integer");
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_server_shutdown_raw."
				      "json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_SHUTDOWN);
	free(b);
	ck_assert_int_eq(parse_sample("binance/docs_ws_server_shutdown_"
				      "combined.json",
				      &m, &b),
			 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_SHUTDOWN);
	free(b);
	/* The wrapped form on the wire. */
	ck_assert_int_eq(parse_str("{\"error\":{\"code\":2,\"msg\":\"Invalid "
				   "request: invalid stream\"},\"id\":9}",
				   &m),
			 0);
	ck_assert(m.type == BINANCE_MSG_ERROR && m.code == 2 && m.has_req_id &&
		  m.req_id == 9);
	ck_assert_str_eq(m.text, "Invalid request: invalid stream");
	/* Other streams and events are ignored. */
	ck_assert_int_eq(parse_str("{\"stream\":\"x@aggTrade\",\"data\":{\"e\""
				   ":\"aggTrade\",\"s\":\"X\"}}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_UNKNOWN);
	ck_assert_int_eq(parse_str("[1,2]", &m), 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_UNKNOWN);
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":5,\"u\":4,\"b\":[],"
		"\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"U\":1,\"u\":4,\"b\":[],\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"abc\",\"U\":1,\"u\":4,\"b\":[],"
		"\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":\"1\",\"u\":4,\"b\":[],"
		"\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":1,\"u\":4,\"b\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":1,\"u\":4,\"b\":[[1,2]],"
		"\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":1,\"u\":4,\"b\":[[\"1e3"
		"\",\"2\"]],\"a\":[]}",
		"{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":-1,\"u\":4,\"b\":[],"
		"\"a\":[]}",
		"{\"e\":\"depthUpdate\"",
	};
	struct binance_msg m;
	struct sync_snapshot snap;

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		ck_assert_msg(parse_str(bad[i], &m) == CORE_EPARSE,
			      "accepted #%zu", i);
		ck_assert_int_ne(m.type, BINANCE_MSG_UPDATE);
	}
	ck_assert_int_eq(binance_parse_snapshot(P, "{\"bids\":[],\"asks\":[]}",
						21, &snap),
			 CORE_EPARSE);
	ck_assert_int_eq(
		binance_parse_snapshot(P, "{\"lastUpdateId\":1,\"bids\":[]}",
				       28, &snap),
		CORE_EPARSE);
}
END_TEST

/* ------------------------------------------------------------ replay */

struct srec {
	int fetches;
};

static void on_fetch(void *ctx, const char *sym)
{
	struct srec *r = ctx;

	(void)sym;
	r->fetches++;
}

static struct sync *s_new(const char *sym, struct srec *r)
{
	struct sync_cfg cfg = { .window = 1000, .full_depth = true };
	struct sync_cbs cbs = { .ctx = r, .fetch_snapshot = on_fetch };
	struct sync *s;

	memset(r, 0, sizeof(*r));
	s = sync_new(sym, SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	ck_assert_ptr_nonnull(s);
	sync_on_subscribed(s, 1);
	return s;
}

static void feed_frame(struct sync *s, const char *f, size_t n)
{
	struct binance_msg m;

	ck_assert_int_eq(binance_parse_frame(P, f, n, &m), 0);
	ck_assert_int_eq(m.type, BINANCE_MSG_UPDATE);
	ck_assert_str_eq(m.symbol, sync_symbol(s));
	ck_assert_int_eq(sync_on_update(s, &m.update, 2), 0);
	if (sync_synced(s))
		ck_assert(!book_crossed(sync_book(s)));
}

static void feed_snapshot(struct sync *s, const char *f, size_t n)
{
	struct sync_snapshot snap;

	ck_assert_int_eq(binance_parse_snapshot(P, f, n, &snap), 0);
	ck_assert_int_eq(sync_on_snapshot(s, &snap, 3), 0);
}

/* §3.5 on the real capture: the first event is covered, the rest chain. */
START_TEST(test_nknusdt)
{
	const char *starts[256];
	size_t lens[256], len, slen, n;
	char *ws = rs_read("binance/extracted_NKNUSDT_ws_depth_100ms_combined."
			   "jsonl",
			   &len);
	char *rest = rs_read("binance/extracted_NKNUSDT_rest_depth_snapshot."
			     "json",
			     &slen);
	struct srec r;
	struct sync *s = s_new("NKNUSDT", &r);

	n = rs_lines(ws, len, starts, lens, 256);
	ck_assert_uint_eq(n, 150);
	feed_frame(s, starts[0], lens[0]);
	ck_assert_int_eq(r.fetches, 1);
	feed_snapshot(s, rest, rs_trim(rest, slen));
	ck_assert(sync_synced(s));
	ck_assert(sync_last_id(s) == 499869752);
	for (size_t i = 1; i < n; i++)
		feed_frame(s, starts[i], lens[i]);
	ck_assert(sync_synced(s));
	ck_assert_uint_eq(sync_counters(s)->gaps, 0);
	ck_assert_uint_eq(sync_counters(s)->applied, 149);
	ck_assert_uint_eq(sync_counters(s)->crossed, 0);
	ck_assert_int_eq(r.fetches, 1);
	sync_free(s);
	free(ws);
	free(rest);
}
END_TEST

/* Timestamp of a "ts: {json}" log line; body via *json. */
static double log_line(const char *l, size_t n, const char **json, size_t *jn)
{
	const char *c = memchr(l, '{', n);

	if (c == NULL || c == l || c[-1] != ' ')
		return -1;
	*json = c;
	*jn = n - (size_t)(c - l);
	return strtod(l, NULL);
}

struct snap_line {
	char sym[16];
	double ts;
	const char *json;
	size_t len;
	int fed;
};

static size_t load_snaps(char *http, size_t hlen, struct snap_line *sn)
{
	const char *starts[8];
	size_t lens[8], n = rs_lines(http, hlen, starts, lens, 8);

	for (size_t i = 0; i < n; i++) {
		const char *sym = strstr(starts[i], "symbol=") + 7;
		const char *arrow = strstr(starts[i], "-> ");
		size_t k = strcspn(sym, "&");

		ck_assert_uint_lt(k, sizeof(sn[i].sym));
		memcpy(sn[i].sym, sym, k);
		sn[i].sym[k] = '\0';
		sn[i].ts = log_line(arrow + 3,
				    lens[i] - (size_t)(arrow + 3 - starts[i]),
				    &sn[i].json, &sn[i].len);
		sn[i].fed = 0;
	}
	return n;
}

/* The four symbols of the 2021 session, events and snapshots in time. */
START_TEST(test_cryptofeed_session)
{
	const char *starts[512];
	size_t lens[512], wlen, hlen, n, ns, updates = 0;
	char *ws = rs_read("binance/cryptofeed_BINANCE.ws.1.0.log", &wlen);
	char *http = rs_read("binance/cryptofeed_BINANCE.http.0.0.log", &hlen);
	struct snap_line sn[8];
	struct srec r[8];
	struct sync *s[8];

	ns = load_snaps(http, hlen, sn);
	ck_assert_uint_eq(ns, 4);
	for (size_t k = 0; k < ns; k++)
		s[k] = s_new(sn[k].sym, &r[k]);
	n = rs_lines(ws, wlen, starts, lens, 512);
	for (size_t i = 0; i < n; i++) {
		struct binance_msg m;
		const char *j;
		size_t jn;
		double ts = log_line(starts[i], lens[i], &j, &jn);

		if (ts < 0)
			continue;
		for (size_t k = 0; k < ns; k++)
			if (!sn[k].fed && sn[k].ts <= ts) {
				feed_snapshot(s[k], sn[k].json, sn[k].len);
				sn[k].fed = 1;
			}
		ck_assert_int_eq(binance_parse_frame(P, j, jn, &m), 0);
		if (m.type != BINANCE_MSG_UPDATE)
			continue;
		updates++;
		for (size_t k = 0; k < ns; k++)
			if (strcmp(m.symbol, sn[k].sym) == 0)
				feed_frame(s[k], j, jn);
	}
	ck_assert_uint_eq(updates, 177);
	for (size_t k = 0; k < ns; k++) {
		ck_assert_msg(sync_synced(s[k]), "%s not synced", sn[k].sym);
		ck_assert_uint_eq(sync_counters(s[k])->gaps, 0);
		ck_assert_uint_eq(sync_counters(s[k])->crossed, 0);
		ck_assert_uint_eq(sync_counters(s[k])->snapshots, 1);
		sync_free(s[k]);
	}
	free(ws);
	free(http);
}
END_TEST

/* A snapshot older than every buffered event cannot bridge. */
START_TEST(test_stale_snapshot)
{
	static const char ev[] = "{\"e\":\"depthUpdate\",\"s\":\"A\",\"U\":105,"
				 "\"u\":107,\"b\":[[\"1\",\"1\"]],\"a\":[]}";
	static const char snap[] = "{\"lastUpdateId\":100,\"bids\":[[\"1\","
				   "\"2\"]],\"asks\":[[\"2\",\"2\"]]}";
	struct srec r;
	struct sync *s = s_new("A", &r);

	feed_frame(s, ev, strlen(ev));
	feed_snapshot(s, snap, strlen(snap));
	ck_assert(!sync_synced(s));
	ck_assert_int_eq(r.fetches, 2);
	sync_free(s);
}
END_TEST

static Suite *binance_suite(void)
{
	Suite *s = suite_create("recorder_binance");
	TCase *tc = tcase_create("binance");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_symbols);
	tcase_add_test(tc, test_samples);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_nknusdt);
	tcase_add_test(tc, test_cryptofeed_session);
	tcase_add_test(tc, test_stale_snapshot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(binance_suite());
}
