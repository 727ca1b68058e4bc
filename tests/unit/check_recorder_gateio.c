/* Unit suite for recorder/gateio: request frames, pair mapping, parsing
 * every captured Gate.io sample and rejecting malformed pushes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "gateio.h"
#include "recorder_samples.h"
#include "banned.h"

static struct gateio_parser *P;

static void setup(void)
{
	P = gateio_parser_new(0);
	ck_assert_ptr_nonnull(P);
}

static void teardown(void)
{
	gateio_parser_free(P);
	P = NULL;
}

static int parse_str(const char *s, struct gateio_msg *m)
{
	return gateio_parse_frame(P, s, strlen(s), m);
}

/* Parse a sample file as one WS frame; the buffer is kept in *keep. */
static void parse_sample(const char *name, struct gateio_msg *m, char **keep)
{
	char rel[256];
	size_t len;

	snprintf(rel, sizeof(rel), "gateio/%s", name);
	*keep = rs_read(rel, &len);
	ck_assert_msg(gateio_parse_frame(P, *keep, len, m) == 0, "%s", name);
}

/* Wrap a captured obu `result` object in the documented envelope. */
static char *wrap_obu(const char *name, size_t *len)
{
	char rel[256], *res, *out;
	size_t n, cap;

	snprintf(rel, sizeof(rel), "gateio/%s", name);
	res = rs_read(rel, &n);
	cap = n + 128;
	out = malloc(cap);
	ck_assert_ptr_nonnull(out);
	*len = (size_t)snprintf(out, cap,
				"{\"channel\":\"spot.obu\",\"result\":%.*s,"
				"\"time_ms\":1757377580100}",
				(int)rs_trim(res, n), res);
	free(res);
	return out;
}

static void assert_change(const struct book_change *c, const char *p,
			  const char *a)
{
	ck_assert_uint_eq(c->price_len, strlen(p));
	ck_assert_int_eq(memcmp(c->price, p, c->price_len), 0);
	ck_assert_uint_eq(c->amount_len, strlen(a));
	ck_assert_int_eq(memcmp(c->amount, a, c->amount_len), 0);
}

START_TEST(test_build)
{
	char buf[256];
	size_t len;

	ck_assert_int_eq(gateio_build_subscribe(buf, sizeof(buf),
						GATEIO_CH_ORDER_BOOK_UPDATE,
						"BTC_USDT", "100ms", true,
						1619093532, 0, &len),
			 0);
	ck_assert_str_eq(buf, "{\"time\":1619093532,\"channel\":\"spot."
			      "order_book_update\",\"event\":\"subscribe\","
			      "\"payload\":[\"BTC_USDT\",\"100ms\"]}");
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(gateio_build_subscribe(buf, sizeof(buf), GATEIO_CH_OBU,
						"BTC_USDT", "50", false, 123456,
						7, &len),
			 0);
	ck_assert_str_eq(buf, "{\"time\":123456,\"id\":7,\"channel\":\"spot."
			      "obu\",\"event\":\"unsubscribe\",\"payload\":["
			      "\"ob.BTC_USDT.50\"]}");
	ck_assert_int_eq(gateio_build_subscribe(
				 buf, sizeof(buf), GATEIO_CH_ORDER_BOOK_UPDATE,
				 "BTC_USDT", "20ms", true, 1, 0, &len),
			 0);
	ck_assert_int_eq(gateio_build_subscribe(buf, sizeof(buf), GATEIO_CH_OBU,
						"BTC_USDT", "400", true, 1, 0,
						&len),
			 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"ob.BTC_USDT.400\""));
	/* Wrong speed for the channel, injection attempts, bad channel. */
	ck_assert_int_eq(gateio_build_subscribe(buf, sizeof(buf), GATEIO_CH_OBU,
						"BTC_USDT", "100ms", true, 1, 0,
						&len),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_build_subscribe(
				 buf, sizeof(buf), GATEIO_CH_ORDER_BOOK_UPDATE,
				 "BTC_USDT", "1000ms", true, 1, 0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_build_subscribe(
				 buf, sizeof(buf), GATEIO_CH_ORDER_BOOK_UPDATE,
				 "BTC\",\"X", "100ms", true, 1, 0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_build_subscribe(buf, sizeof(buf),
						GATEIO_CH_OTHER, "BTC_USDT",
						"100ms", true, 1, 0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_build_subscribe(buf, 20, GATEIO_CH_OBU,
						"BTC_USDT", "50", true, 1, 0,
						&len),
			 CORE_ETOOBIG);
	ck_assert_int_eq(gateio_build_ping(buf, sizeof(buf), 1545404023, &len),
			 0);
	ck_assert_str_eq(buf,
			 "{\"time\":1545404023,\"channel\":\"spot.ping\"}");
	ck_assert_int_eq(gateio_build_snapshot_path(buf, sizeof(buf), "NEO_BTC",
						    100, &len),
			 0);
	ck_assert_str_eq(buf, "/spot/order_book?currency_pair=NEO_BTC"
			      "&limit=100&with_id=true");
	ck_assert_int_eq(gateio_build_snapshot_path(buf, sizeof(buf), "NEO_BTC",
						    0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_build_snapshot_path(buf, sizeof(buf), "NEO&BTC",
						    10, &len),
			 CORE_EINVAL);
	ck_assert_str_eq(gateio_channel_name(GATEIO_CH_OBU), "spot.obu");
	ck_assert_ptr_null(gateio_channel_name(GATEIO_CH_OTHER));
}
END_TEST

START_TEST(test_pairs)
{
	char out[32];

	ck_assert_int_eq(
		gateio_pair_from_normalized("BTC-USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "BTC_USDT");
	ck_assert_int_eq(
		gateio_pair_to_normalized("1INCH_USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1INCH-USDT");
	ck_assert_int_eq(gateio_pair_from_normalized("BTC_USDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_pair_from_normalized("BTC-USDT-X", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_pair_from_normalized("-USDT", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_pair_from_normalized("BTC-", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_pair_from_normalized("BT C-USDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(gateio_pair_from_normalized("BTC-USDT", out, 8),
			 CORE_ETOOBIG);
	ck_assert_int_eq(gateio_pair_from_normalized("BTC-USDT", out, 9), 0);
}
END_TEST

START_TEST(test_acks)
{
	struct gateio_msg m;
	char *buf;

	parse_sample("announcement_ws_obu_subscribe_ack.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK);
	ck_assert_int_eq(m.channel, GATEIO_CH_OBU);
	ck_assert(!m.unsubscribe);
	ck_assert_str_eq(m.pair, "BTC_USDT");
	ck_assert_uint_eq(m.level, 50);
	ck_assert(m.time_ms == 1748572394271);
	free(buf);
	parse_sample("docs_ws_obu_subscribe_ack.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK);
	ck_assert_str_eq(m.pair, "BTC_USDT");
	ck_assert(!m.has_req_id);
	free(buf);
	parse_sample("docs_ws_obu_unsubscribe_ack.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK);
	ck_assert(m.unsubscribe);
	ck_assert(m.has_req_id && m.req_id == 1);
	free(buf);
	parse_sample("ccxt_ws_unsubscribe_ack.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK);
	ck_assert(m.has_req_id && m.req_id == 2);
	ck_assert_int_eq(m.channel, GATEIO_CH_OTHER);
	ck_assert(m.unsubscribe);
	ck_assert_str_eq(m.pair, "LTC_USDT");
	free(buf);
	parse_sample("docs_ws_subscribe_response_example.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK); /* "error":null */
	free(buf);
	/* 2021 form: only time, channel, event, result. */
	parse_sample("extracted_ws_order_book_update_subscribe_ack_2021.json",
		     &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ACK);
	ck_assert_int_eq(m.channel, GATEIO_CH_ORDER_BOOK_UPDATE);
	ck_assert_str_eq(m.pair, "");
	ck_assert(m.time_ms == 1619093532000);
	free(buf);
}
END_TEST

START_TEST(test_errors_pong_other)
{
	struct gateio_msg m;
	struct gateio_rest_error re;
	char *buf;
	size_t len;

	parse_sample("ccxt_ws_error_unknown_currency_pair.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ERROR);
	ck_assert(m.err_code == 2);
	ck_assert_str_eq(m.err_message,
			 "unknown currency pair: LUNARLENS_USDT");
	ck_assert_str_eq(m.pair, "LUNARLENS_USDT");
	free(buf);
	parse_sample("docs_ws_obu_duplicate_subscribe_error.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_ERROR);
	ck_assert_int_eq(m.channel, GATEIO_CH_OBU);
	ck_assert(m.err_code == 2);
	ck_assert_str_eq(m.err_message, "Alert sub ob.BTC_USDT.400");
	ck_assert_str_eq(m.pair, "BTC_USDT");
	ck_assert_uint_eq(m.level, 400);
	free(buf);
	parse_sample("docs_ws_pong_response.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_PONG);
	free(buf);
	/* Requests (no result), other channels: well-formed, ignored. */
	static const char *const ignored[] = {
		"docs_ws_ping_request.json",
		"docs_ws_request_envelope_example.json",
		"docs_ws_obu_subscribe_request.json",
		"extracted_ws_order_book_update_subscribe_request_2021.json",
		"docs_ws_order_book_push.json",
	};
	for (size_t i = 0; i < CORE_ARRAY_LEN(ignored); i++) {
		parse_sample(ignored[i], &m, &buf);
		ck_assert_msg(m.type == GATEIO_MSG_UNKNOWN, "%s", ignored[i]);
		free(buf);
	}
	ck_assert_int_eq(parse_str("{\"channel\":\"spot.obu\",\"event\":"
				   "\"subscribe\",\"result\":{\"status\":"
				   "\"fail\"}}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, GATEIO_MSG_ERROR);
	buf = rs_read("gateio/docs_rest_error_body_example.json", &len);
	ck_assert_int_eq(gateio_parse_rest_error(P, buf, len, &re), 0);
	ck_assert_str_eq(re.label, "INVALID_PARAM_VALUE");
	ck_assert_str_eq(re.message,
			 "Invalid parameter `text` with value: abc");
	free(buf);
	ck_assert_int_eq(gateio_parse_rest_error(P, "<html>", 6, &re),
			 CORE_EPARSE);
	ck_assert_int_eq(gateio_parse_rest_error(P, "[]", 2, &re), CORE_EPARSE);
}
END_TEST

START_TEST(test_order_book_update)
{
	struct gateio_msg m;
	char *buf;

	parse_sample("ccxt_ws_order_book_update_GMT_USDT.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert_int_eq(m.channel, GATEIO_CH_ORDER_BOOK_UPDATE);
	ck_assert_str_eq(m.pair, "GMT_USDT");
	ck_assert(m.update.has_first && !m.update.full);
	ck_assert(m.update.first_id == 140595902);
	ck_assert(m.update.last_id == 140595902);
	ck_assert(m.update.ts_ms == 1650189272515);
	ck_assert_uint_eq(m.update.nbids, 3);
	ck_assert_uint_eq(m.update.nasks, 3);
	assert_change(&m.update.bids[0], "2.51518", "228.119");
	assert_change(&m.update.asks[2], "2.53528", "96.529");
	free(buf);
	parse_sample("docs_ws_order_book_update_push.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert(m.update.full);
	ck_assert(m.update.first_id == 48776301 &&
		  m.update.last_id == 48776306);
	ck_assert_uint_eq(m.level, 100);
	ck_assert(m.time_ms == 1606294781236);
	assert_change(&m.update.bids[1], "19088.37", "0");
	ck_assert_uint_eq(m.update.nasks, 1);
	free(buf);
}
END_TEST

START_TEST(test_obu)
{
	struct gateio_msg m;
	char *buf;
	size_t len;

	parse_sample("docs_ws_obu_push_full.json", &m, &buf);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert_int_eq(m.channel, GATEIO_CH_OBU);
	ck_assert_str_eq(m.pair, "BTC_USDT");
	ck_assert_uint_eq(m.level, 50);
	ck_assert(m.update.full && !m.update.has_first);
	ck_assert(m.update.last_id == 73777715168ull);
	ck_assert(m.time_ms == 1747054612848);
	assert_change(&m.update.asks[0], "104027.2", "44617");
	free(buf);
	parse_sample("docs_ws_obu_push_incremental.json", &m, &buf);
	ck_assert(!m.update.full && m.update.has_first);
	ck_assert(m.update.first_id == 73777715169ull);
	ck_assert(m.update.last_id == 73777715212ull);
	assert_change(&m.update.asks[1], "104027.4", "0");
	free(buf);
	buf = wrap_obu("gct_ws_obu_result_full_BTC_USDT_50.json", &len);
	ck_assert_int_eq(gateio_parse_frame(P, buf, len, &m), 0);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert(m.update.full);
	ck_assert_uint_eq(m.update.nbids, 50);
	ck_assert_uint_eq(m.update.nasks, 50);
	ck_assert(m.update.last_id == 27053258981ull);
	assert_change(&m.update.bids[0], "111666", "0.131287");
	free(buf);
	buf = wrap_obu("gct_ws_obu_result_incremental_BTC_USDT_50.json", &len);
	ck_assert_int_eq(gateio_parse_frame(P, buf, len, &m), 0);
	ck_assert(m.update.first_id == 27053258982ull);
	ck_assert(m.update.last_id == 27053258987ull);
	ck_assert_uint_eq(m.update.nbids, 1);
	ck_assert_uint_eq(m.update.nasks, 2);
	free(buf);
}
END_TEST

START_TEST(test_snapshots)
{
	struct sync_snapshot s;
	char *buf;
	size_t len;

	buf = rs_read("gateio/docs_rest_spot_order_book.json", &len);
	ck_assert_int_eq(gateio_parse_snapshot(P, buf, len, &s), 0);
	ck_assert(s.id == 123456);
	ck_assert(s.ts_ms == 1623898993123);
	ck_assert_uint_eq(s.nbids, 2);
	ck_assert_uint_eq(s.nasks, 2);
	assert_change(&s.bids[0], "1.17", "201.863");
	assert_change(&s.asks[1], "1.53", "1.218");
	free(buf);
	buf = rs_read("gateio/extracted_NEO_BTC_rest_snapshot_with_id.json",
		      &len);
	ck_assert_int_eq(gateio_parse_snapshot(P, buf, len, &s), 0);
	ck_assert(s.id == 31244065);
	ck_assert(s.ts_ms == 0);
	ck_assert_uint_eq(s.nbids, 100);
	ck_assert_uint_eq(s.nasks, 100);
	assert_change(&s.asks[0], "0.0018734", "5.084");
	{
		/* A parser too small for 200 levels refuses, never overruns. */
		struct gateio_parser *small = gateio_parser_new(64);

		ck_assert_int_eq(gateio_parse_snapshot(small, buf, len, &s),
				 CORE_ETOOBIG);
		gateio_parser_free(small);
	}
	free(buf);
	ck_assert_int_eq(gateio_parse_snapshot(P, "{\"bids\":[],\"asks\":[]}",
					       21, &s),
			 CORE_EPARSE);
	ck_assert_int_eq(gateio_parse_snapshot(P, "{\"id\":1,\"bids\":[]}", 18,
					       &s),
			 CORE_EPARSE);
	ck_assert_int_eq(
		gateio_parse_snapshot(P, "{\"id\":1,\"bids\":[],\"asks\":[]}",
				      28, &s),
		0);
}
END_TEST

START_TEST(test_malformed_pushes)
{
	static const char *const bad[] = {
		/* missing u */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"b\":[],\"a\":[]}}",
		/* U > u */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":5,\"u\":4}}",
		/* incremental without U */
		"{\"channel\":\"spot.obu\",\"result\":{\"s\":\"ob.A_B.50\","
		"\"u\":4}}",
		/* exponent price */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"b\":[[\"1.2e-5\",\"1\"]]}}",
		/* number instead of string */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"a\":[[1.5,\"1\"]]}}",
		/* short level */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"a\":[[\"1\"]]}}",
		/* negative amount */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"a\":[[\"1\",\"-1\"]]}}",
		/* price too long to store */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"a\":[[\"0.00000000000000000000000000"
		"00001\",\"1\"]]}}",
		/* obu stream name without ob. prefix */
		"{\"channel\":\"spot.obu\",\"result\":{\"s\":\"BTC_USDT\","
		"\"full\":true,\"u\":4}}",
		/* full not a boolean */
		"{\"channel\":\"spot.obu\",\"result\":{\"s\":\"ob.A_B.50\","
		"\"full\":\"yes\",\"u\":4}}",
		/* ids as strings */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":\"1\",\"u\":\"1\"}}",
		/* b not an array */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A_B\",\"U\":1,\"u\":1,\"b\":{}}}",
		/* pair with bad characters */
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":"
		"\"A/B\",\"U\":1,\"u\":1}}",
		/* not JSON, not an object, truncated */
		"not json",
		"[1,2]",
		"{\"channel\":\"spot.order_book_update\",\"result\":{\"s\":",
	};
	struct gateio_msg m;

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		int rc = parse_str(bad[i], &m);

		ck_assert_msg(rc == CORE_EPARSE, "accepted #%zu (%d)", i, rc);
		ck_assert_int_ne(m.type, GATEIO_MSG_UPDATE);
	}
	/* Unknown fields and a missing event are fine. */
	ck_assert_int_eq(parse_str("{\"x\":[{}],\"channel\":\"spot.order_book_"
				   "update\",\"result\":{\"new\":{\"a\":1},"
				   "\"s\":\"A_B\",\"U\":1,\"u\":2,\"b\":[[\"1"
				   "\",\"2\",\"extra\"]]}}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, GATEIO_MSG_UPDATE);
	ck_assert_uint_eq(m.update.nbids, 1);
	ck_assert_uint_eq(m.update.nasks, 0);
	/* A frame without channel is ignored, not an error. */
	ck_assert_int_eq(parse_str("{\"result\":{}}", &m), 0);
	ck_assert_int_eq(m.type, GATEIO_MSG_UNKNOWN);
}
END_TEST

/* Every frame the 2021 session received parses; book pushes per pair. */
START_TEST(test_cryptofeed_session)
{
	const char *starts[512];
	size_t lens[512], len, n, updates = 0, acks = 0, other = 0;
	char *buf = rs_read("gateio/cryptofeed_GATEIO.ws.1.0.log", &len);

	n = rs_lines(buf, len, starts, lens, 512);
	ck_assert_uint_gt(n, 200);
	for (size_t i = 0; i < n; i++) {
		const char *colon = memchr(starts[i], '{', lens[i]);
		struct gateio_msg m;
		size_t off;

		/* Received frames are "ts: {json}"; sent ones have "<-". */
		if (colon == NULL || memchr(starts[i], '<', lens[i]) != NULL)
			continue;
		off = (size_t)(colon - starts[i]);
		ck_assert_int_eq(
			gateio_parse_frame(P, colon, lens[i] - off, &m), 0);
		if (m.type == GATEIO_MSG_UPDATE)
			updates++;
		else if (m.type == GATEIO_MSG_ACK)
			acks++;
		else
			other++;
	}
	ck_assert_uint_eq(updates, 172);
	ck_assert_uint_eq(acks, 22);
	ck_assert_uint_eq(other, 45);
	free(buf);
}
END_TEST

static Suite *gateio_suite(void)
{
	Suite *s = suite_create("recorder_gateio");
	TCase *tc = tcase_create("gateio");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_pairs);
	tcase_add_test(tc, test_acks);
	tcase_add_test(tc, test_errors_pong_other);
	tcase_add_test(tc, test_order_book_update);
	tcase_add_test(tc, test_obu);
	tcase_add_test(tc, test_snapshots);
	tcase_add_test(tc, test_malformed_pushes);
	tcase_add_test(tc, test_cryptofeed_session);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(gateio_suite());
}
