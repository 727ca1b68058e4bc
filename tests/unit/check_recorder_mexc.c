/* Unit suite for recorder/mexc: request frames, symbol mapping, the
 * captured and hand-written JSON replies, and the REST bodies. The
 * binary pushes (recorder/mexc_pb) have their own suite. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "mexc.h"
#include "sync.h"
#include "recorder_samples.h"
#include "banned.h"

static struct mexc_parser *P;

static void setup(void)
{
	P = mexc_parser_new(0);
	ck_assert_ptr_nonnull(P);
}

static void teardown(void)
{
	mexc_parser_free(P);
	P = NULL;
}

/* ------------------------------------------------------------ builders */

START_TEST(test_build)
{
	const char *syms[MEXC_MAX_STREAMS + 1];
	char buf[4096];
	size_t len;

	ck_assert_int_eq(mexc_build_topic(buf, sizeof(buf), "BTCUSDT", "100ms",
					  &len),
			 0);
	ck_assert_str_eq(buf,
			 "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
	ck_assert_uint_eq(len, strlen(buf));
	syms[0] = "BTCUSDT";
	syms[1] = "ETHUSDT";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 2, "10ms",
					      true, 7, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"SUBSCRIPTION\",\"params\":["
			      "\"spot@public.aggre.depth.v3.api.pb@10ms@"
			      "BTCUSDT\",\"spot@public.aggre.depth.v3.api.pb@"
			      "10ms@ETHUSDT\"],\"id\":7}");
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", false, 2, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"UNSUBSCRIPTION\",\"params\":["
			      "\"spot@public.aggre.depth.v3.api.pb@100ms@"
			      "BTCUSDT\"],\"id\":2}");
	for (size_t i = 0; i <= MEXC_MAX_STREAMS; i++)
		syms[i] = "SOLUSDT";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms,
					      MEXC_MAX_STREAMS, "100ms", true,
					      1, &len),
			 0);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms,
					      MEXC_MAX_STREAMS + 1, "100ms",
					      true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 0,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1, "20ms",
					      true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "btcusdt";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "BTC\",\"X";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "BTCUSDT";
	/* Every size short of the whole request is too small. */
	for (size_t sz = 1; sz < 90; sz++)
		ck_assert_int_eq(mexc_build_subscribe(buf, sz, syms, 1, "100ms",
						      true, 1, &len),
				 CORE_ETOOBIG);
	ck_assert_int_eq(mexc_build_ping(buf, sizeof(buf), &len), 0);
	ck_assert_str_eq(buf, "{\"method\":\"PING\"}");
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  1000, &len),
			 0);
	ck_assert_str_eq(buf, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  5000, &len),
			 0);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  5001, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTC&X", 10,
						  &len),
			 CORE_EINVAL);
	ck_assert(mexc_speed_valid("100ms") && mexc_speed_valid("10ms"));
	ck_assert(!mexc_speed_valid("1000ms") && !mexc_speed_valid(NULL));
}
END_TEST

START_TEST(test_symbols)
{
	char out[MEXC_SYMBOL_MAX];

	ck_assert_int_eq(
		mexc_symbol_from_normalized("BTC-USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "BTCUSDT");
	ck_assert_int_eq(
		mexc_symbol_from_normalized("1INCH-USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1INCHUSDT");
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT", out, 8), 0);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT", out, 7),
			 CORE_ETOOBIG);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTCUSDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("btc-usdt", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT-X", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("-USDT", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC_X-USDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized(
				 "AAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBB",
				 out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert(mexc_symbol_valid("BTCUSDT"));
	ck_assert(!mexc_symbol_valid("BTC_USDT") && !mexc_symbol_valid(""));
}
END_TEST

/* ------------------------------------------------------------ text */

static void parse_sample(const char *name, struct mexc_msg *m)
{
	char rel[256], *buf;
	size_t len;

	snprintf(rel, sizeof(rel), "mexc/%s", name);
	buf = rs_read(rel, &len);
	ck_assert_msg(mexc_parse_text(P, buf, len, m) == 0, "%s", name);
	free(buf);
}

static int parse_str(const char *s, struct mexc_msg *m)
{
	return mexc_parse_text(P, s, strlen(s), m);
}

START_TEST(test_text_samples)
{
	struct mexc_msg m;

	parse_sample("docs_ws_pong_response.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_PONG);
	ck_assert(m.has_req_id && m.req_id == 0);
	parse_sample("docs_ws_subscribe_ack.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_str_eq(m.text,
			 "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT");
	parse_sample("docs_ws_unsubscribe_ack.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	parse_sample("ws_subscribe_rejected_blocked.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_ptr_nonnull(strstr(m.text, "Reason\xef\xbc\x9a Blocked!"));
	/* Requests, a decoded push and the retired JSON push: ignored. */
	parse_sample("docs_ws_subscribe_request.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("docs_ws_ping_request.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("hummingbot_ws_aggre_depth_decoded_BTCUSDC.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("legacy_json_increase_depth_pre2025.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
}
END_TEST

START_TEST(test_text_replies)
{
	struct mexc_msg m;

	ck_assert_int_eq(
		parse_str("{\"id\":7,\"code\":0,\"msg\":\"spot@public.aggre."
			  "depth.v3.api.pb@100ms@BTCUSDT,spot@public.aggre."
			  "depth.v3.api.pb@10ms@ETHUSDT\"}",
			  &m),
		0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert(m.has_req_id && m.req_id == 7);
	ck_assert_uint_eq(m.ntopics, 2);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_str_eq(m.symbols[1], "ETHUSDT");
	/* Two topics refused, the escaped colon, a trailing space. */
	ck_assert_int_eq(
		parse_str("{\"id\":3,\"code\":0,\"msg\":\"Not Subscribed "
			  "successfully! [spot@public.aggre.depth.v3.api.pb@"
			  "100ms@NOPEUSDT,spot@public.limit.depth.v3.api.pb@"
			  "XYZUSDT@5].  Reason\\uff1a Blocked! \"}",
			  &m),
		0);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert(m.req_id == 3);
	ck_assert_uint_eq(m.ntopics, 2);
	ck_assert_str_eq(m.symbols[0], "NOPEUSDT");
	ck_assert_str_eq(m.symbols[1], "XYZUSDT");
	ck_assert_int_eq(parse_str("{\"id\":0,\"code\":0,\"msg\":\"Not "
				   "Subscribed successfully! [].  Reason: "
				   "Blocked!\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert_uint_eq(m.ntopics, 0);
	/* A topic without a symbol keeps its slot empty. */
	ck_assert_int_eq(parse_str("{\"code\":0,\"msg\":\"spot@x@100ms\"}", &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert(!m.has_req_id);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "");
	/* Errors: a code, a msg that is no topic list. */
	ck_assert_int_eq(parse_str("{\"id\":5,\"code\":1,\"msg\":\"spot@public."
				   "aggre.depth.v3.api.pb@100ms@BTCUSDT\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert(m.code == 1 && m.req_id == 5);
	ck_assert_uint_eq(m.ntopics, 0);
	ck_assert_int_eq(parse_str("{\"id\":1,\"code\":0,\"msg\":\"Invalid "
				   "json\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert_str_eq(m.text, "Invalid json");
	ck_assert_int_eq(parse_str("{\"code\":0,\"msg\":\"\"}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert_int_eq(
		parse_str("{\"code\":0,\"msg\":\"spot@a,,spot@b\"}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	/* Valid JSON we do not use; malformed JSON. */
	ck_assert_int_eq(parse_str("[1,2]", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_int_eq(parse_str("{\"msg\":5}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_int_eq(parse_str("{\"id\":0,\"code\":0,\"msg\":\"PO", &m),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_str("", &m), CORE_EPARSE);
}
END_TEST

/* 31 topics: 30 symbols kept, the count says 31; a long msg is cut. */
START_TEST(test_text_many_topics)
{
	char buf[4096];
	struct mexc_msg m;
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf),
			     "{\"id\":9,\"code\":0,\"msg\":\"");
	for (int i = 0; i < 31; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%sspot@public.aggre.depth.v3.api.pb@"
				      "100ms@S%dUSDT",
				      i ? "," : "", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"}");
	ck_assert_int_eq(mexc_parse_text(P, buf, n, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_uint_eq(m.ntopics, 31);
	ck_assert_str_eq(m.symbols[0], "S0USDT");
	ck_assert_str_eq(m.symbols[29], "S29USDT");
	ck_assert_uint_eq(strlen(m.text), MEXC_TEXT_MAX - 1);
}
END_TEST

/* ------------------------------------------------------------ REST */

START_TEST(test_snapshot)
{
	struct sync_snapshot s;
	struct mexc_rest_error re;
	char *buf;
	size_t len;
	const char *str;

	buf = rs_read("mexc/docs_rest_depth.json", &len);
	ck_assert_int_eq(mexc_parse_snapshot(P, buf, len, &s), 0);
	ck_assert(s.id == 1112416);
	ck_assert_uint_eq(s.nbids, 1);
	ck_assert_uint_eq(s.nasks, 1);
	rs_assert_change(&s.bids[0], "15.00000", "49999.00000");
	rs_assert_change(&s.asks[0], "14.0000", "1.0000");
	free(buf);
	str = "{\"lastUpdateId\":\"43296363255\",\"timestamp\":1754741322152,"
	      "\"extra\":{\"x\":[1]},\"bids\":[[\"2\",\"1\"],[\"1\",\"3\"]],"
	      "\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s), 0);
	ck_assert(s.id == 43296363255ULL);
	ck_assert(s.ts_ms == 1754741322152);
	ck_assert_uint_eq(s.nbids, 2);
	ck_assert_uint_eq(s.nasks, 0);
	str = "{\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":-1,\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1.5,\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1,\"bids\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1,\"bids\":[[\"1\",2]],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	ck_assert_uint_eq(s.nbids, 0);
	str = "[1]";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re), 0);
	ck_assert(re.code == -1121);
	ck_assert_str_eq(re.msg, "Invalid symbol.");
	str = "{}";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re), 0);
	ck_assert(re.code == 0 && re.msg[0] == '\0');
	str = "<html>";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re),
			 CORE_EPARSE);
	str = "\"x\"";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re),
			 CORE_EPARSE);
}
END_TEST

static Suite *mexc_suite(void)
{
	Suite *s = suite_create("recorder_mexc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_symbols);
	tcase_add_test(tc, test_text_samples);
	tcase_add_test(tc, test_text_replies);
	tcase_add_test(tc, test_text_many_topics);
	tcase_add_test(tc, test_snapshot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(mexc_suite());
}
