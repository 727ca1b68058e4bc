/* Unit suite for recorder/json: strict scanning, tokens, numbers, escapes. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "recorder_samples.h"
#include "banned.h"

#define MAXT 256

static int parse(const char *s, struct json_tok *t, size_t *n)
{
	return json_parse(s, strlen(s), t, MAXT, n);
}

START_TEST(test_tokens)
{
	static const char doc[] =
		" {\"a\":[1,-2.5e3,\"x\\\"y\"],\"b\":{\"c\":true},"
		"\"d\":null,\"e\":false} ";
	struct json_tok t[MAXT];
	size_t n;
	long a, b, c;

	ck_assert_int_eq(parse(doc, t, &n), 0);
	ck_assert_uint_eq(n, 14);
	ck_assert_int_eq(t[0].type, JSON_OBJECT);
	ck_assert_uint_eq(t[0].size, 4);
	ck_assert_uint_eq(t[0].next, n);
	ck_assert_uint_eq(t[0].start, 1);
	ck_assert_uint_eq(t[0].end, strlen(doc) - 1);
	a = json_get(doc, t, 0, "a");
	ck_assert_int_eq(a, 2);
	ck_assert_int_eq(t[a].type, JSON_ARRAY);
	ck_assert_uint_eq(t[a].size, 3);
	ck_assert_int_eq(t[a + 2].type, JSON_NUMBER);
	ck_assert_int_eq((int)(t[a + 2].end - t[a + 2].start), 6);
	ck_assert_int_eq(t[a + 3].type, JSON_STRING);
	ck_assert_int_eq(memcmp(doc + t[a + 3].start, "x\\\"y", 4), 0);
	b = json_get(doc, t, 0, "b");
	ck_assert_int_eq(t[b].type, JSON_OBJECT);
	c = json_get(doc, t, (size_t)b, "c");
	ck_assert_int_eq(t[c].type, JSON_TRUE);
	ck_assert_int_eq(t[json_get(doc, t, 0, "d")].type, JSON_NULL);
	ck_assert_int_eq(t[json_get(doc, t, 0, "e")].type, JSON_FALSE);
	ck_assert_int_eq(json_get(doc, t, 0, "zz"), -1);
	ck_assert_int_eq(json_get(doc, t, (size_t)a, "a"), -1);
	/* Skipping a subtree lands on the next sibling key. */
	ck_assert_uint_eq(json_skip(t, (size_t)a), (size_t)b - 1);
	ck_assert(json_str_eq(doc, t, (size_t)b - 1, "b"));
}
END_TEST

START_TEST(test_scalars_and_empty)
{
	struct json_tok t[MAXT];
	size_t n;

	ck_assert_int_eq(parse("0", t, &n), 0);
	ck_assert_int_eq(t[0].type, JSON_NUMBER);
	ck_assert_int_eq(parse("-0.5E+10", t, &n), 0);
	ck_assert_int_eq(parse("\"\"", t, &n), 0);
	ck_assert_uint_eq(t[0].start, t[0].end);
	ck_assert_int_eq(parse(" [ ] ", t, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(t[0].size, 0);
	ck_assert_int_eq(parse("{}", t, &n), 0);
	ck_assert_int_eq(parse("[[],{},[[]]]", t, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_uint_eq(t[0].size, 3);
	ck_assert_uint_eq(t[1].next, 2);
	ck_assert_uint_eq(t[3].next, 5);
}
END_TEST

START_TEST(test_rejects)
{
	static const char *const bad[] = {
		"",
		" ",
		"{",
		"}",
		"[",
		"]",
		"[1,]",
		"{\"a\":1,}",
		"01",
		"1.",
		".5",
		"-",
		"1e",
		"1e+",
		"+1",
		"tru",
		"nul",
		"fals",
		"\"abc",
		"\"\\x\"",
		"\"\\u12g4\"",
		"\"\\u12\"",
		"\"a\tb\"",
		"{\"a\" 1}",
		"{1:2}",
		"[1 2]",
		"1 2",
		"[]]",
		"{\"a\":}",
		"NaN",
		"/*c*/1",
		"[1,,2]",
		"{,}",
		"{\"a\":1 \"b\":2}",
		"[\"a\":1]",
		"{\"a\"}",
		"-01",
		"0x10",
		"[1}",
		"{\"a\":1]",
		"\"\\",
		"truex",
		"nullnull",
		"[-]",
		"1.e5",
		"\xef\xbb\xbf{}",
	};
	struct json_tok t[MAXT];
	size_t n;

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		int rc = parse(bad[i], t, &n);

		ck_assert_msg(rc == CORE_EPARSE, "accepted '%s' (%d)", bad[i],
			      rc);
		ck_assert_uint_eq(n, 0);
	}
	/* An embedded NUL is a control character inside a string. */
	ck_assert_int_eq(json_parse("\"a\0b\"", 5, t, MAXT, &n), CORE_EPARSE);
	ck_assert_int_eq(json_parse("1\0", 2, t, MAXT, &n), CORE_EPARSE);
}
END_TEST

START_TEST(test_limits)
{
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1];
	struct json_tok t[MAXT];
	size_t n;

	/* Exactly JSON_MAX_DEPTH levels pass, one more is refused. */
	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	ck_assert_int_eq(json_parse(deep, 2 * JSON_MAX_DEPTH, t, MAXT, &n), 0);
	ck_assert_uint_eq(n, JSON_MAX_DEPTH);
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	ck_assert_int_eq(json_parse(deep, 2 * (JSON_MAX_DEPTH + 1), t, MAXT,
				    &n),
			 CORE_ETOOBIG);
	/* Token cap: three tokens do not fit in two. */
	ck_assert_int_eq(json_parse("[1,2]", 5, t, 2, &n), CORE_ETOOBIG);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(json_parse("[1,2]", 5, t, 3, &n), 0);
	ck_assert_int_eq(json_parse("[1]", 3, t, 0, &n), CORE_ETOOBIG);
	/* The input need not be NUL-terminated: only len bytes are read. */
	ck_assert_int_eq(json_parse("[1,2]garbage", 5, t, MAXT, &n), 0);
	ck_assert_int_eq(json_parse("[1,2]garbage", 6, t, MAXT, &n),
			 CORE_EPARSE);
}
END_TEST

START_TEST(test_integers)
{
	static const char doc[] =
		"[18446744073709551615,18446744073709551616,1.5,-1,\"42\","
		"-9223372036854775808,9223372036854775808,1e3,\"4x\",0]";
	struct json_tok t[MAXT];
	uint64_t u = 7;
	int64_t i;
	size_t n;

	ck_assert_int_eq(parse(doc, t, &n), 0);
	ck_assert_int_eq(json_u64(doc, t, 1, false, &u), 0);
	ck_assert(u == UINT64_MAX);
	ck_assert_int_eq(json_u64(doc, t, 2, false, &u), CORE_ERANGE);
	ck_assert_int_eq(json_u64(doc, t, 3, false, &u), CORE_EPARSE);
	ck_assert_int_eq(json_u64(doc, t, 4, false, &u), CORE_EPARSE);
	ck_assert_int_eq(json_u64(doc, t, 5, false, &u), CORE_EPARSE);
	ck_assert_int_eq(json_u64(doc, t, 5, true, &u), 0);
	ck_assert(u == 42);
	ck_assert_int_eq(json_u64(doc, t, 9, true, &u), CORE_EPARSE);
	ck_assert_int_eq(json_i64(doc, t, 6, &i), 0);
	ck_assert(i == INT64_MIN);
	ck_assert_int_eq(json_i64(doc, t, 7, &i), CORE_ERANGE);
	ck_assert_int_eq(json_i64(doc, t, 8, &i), CORE_EPARSE);
	ck_assert_int_eq(json_i64(doc, t, 4, &i), 0);
	ck_assert(i == -1);
	ck_assert_int_eq(json_i64(doc, t, 5, &i), CORE_EPARSE);
	ck_assert_int_eq(json_i64(doc, t, 10, &i), 0);
	ck_assert(i == 0);
}
END_TEST

START_TEST(test_unescape)
{
	static const char doc[] =
		"[\"a\\\"b\\\\c\\/d\\n\\t\",\"\\u00e9\\ud83d\\ude00\","
		"\"\\udc00x\",\"\\u0041BC\"]";
	struct json_tok t[MAXT];
	char out[64], small[4];
	size_t n;

	ck_assert_int_eq(parse(doc, t, &n), 0);
	ck_assert_int_eq(json_unescape(doc, t, 1, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a\"b\\c/d\n\t");
	ck_assert_int_eq(json_unescape(doc, t, 2, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\xc3\xa9\xf0\x9f\x98\x80");
	/* A lone low surrogate becomes U+FFFD. */
	ck_assert_int_eq(json_unescape(doc, t, 3, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "\xef\xbf\xbdx");
	ck_assert_int_eq(json_unescape(doc, t, 4, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "ABC");
	/* Truncation keeps whole characters and the terminator. */
	ck_assert_int_eq(json_unescape(doc, t, 2, small, sizeof(small)),
			 CORE_ETOOBIG);
	ck_assert_str_eq(small, "\xc3\xa9");
	ck_assert_int_eq(json_unescape(doc, t, 0, out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(json_unescape(doc, t, 1, out, 0), CORE_EINVAL);
}
END_TEST

/* Every captured Gate.io message scans, and so does each JSONL line. */
START_TEST(test_samples)
{
	static const char *const files[] = {
		"announcement_ws_obu_subscribe_ack.json",
		"ccxt_ws_error_unknown_currency_pair.json",
		"ccxt_ws_order_book_update_GMT_USDT.json",
		"ccxt_ws_unsubscribe_ack.json",
		"docs_rest_error_body_example.json",
		"docs_rest_spot_order_book.json",
		"docs_ws_obu_duplicate_subscribe_error.json",
		"docs_ws_obu_push_full.json",
		"docs_ws_obu_push_incremental.json",
		"docs_ws_obu_subscribe_ack.json",
		"docs_ws_obu_subscribe_request.json",
		"docs_ws_obu_unsubscribe_ack.json",
		"docs_ws_order_book_push.json",
		"docs_ws_order_book_update_push.json",
		"docs_ws_ping_request.json",
		"docs_ws_pong_response.json",
		"docs_ws_request_envelope_example.json",
		"docs_ws_subscribe_response_example.json",
		"extracted_NEO_BTC_rest_snapshot_with_id.json",
		"extracted_OMG_USDT_rest_snapshot_with_id.json",
		"extracted_ws_order_book_update_subscribe_ack_2021.json",
		"extracted_ws_order_book_update_subscribe_request_2021.json",
		"gct_ws_obu_result_full_BTC_USDT_50.json",
		"gct_ws_obu_result_incremental_BTC_USDT_50.json",
	};
	static struct json_tok t[4096];
	size_t n, len;

	for (size_t i = 0; i < CORE_ARRAY_LEN(files); i++) {
		char rel[256], *buf;

		snprintf(rel, sizeof(rel), "gateio/%s", files[i]);
		buf = rs_read(rel, &len);
		ck_assert_msg(json_parse(buf, len, t, 4096, &n) == 0, "%s",
			      files[i]);
		ck_assert_int_eq(t[0].type, JSON_OBJECT);
		/* A truncated copy is always malformed. */
		ck_assert_int_ne(
			json_parse(buf, rs_trim(buf, len) - 1, t, 4096, &n), 0);
		free(buf);
	}
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("recorder_json");
	TCase *tc = tcase_create("json");

	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_scalars_and_empty);
	tcase_add_test(tc, test_rejects);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_unescape);
	tcase_add_test(tc, test_samples);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(json_suite());
}
