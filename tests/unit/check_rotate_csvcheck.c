/* Unit suite for rotate/csvcheck.c: the streaming row check and torn tails. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "csvcheck.h"
#include "schema.h"
#include "sha256.h"
#include "testutil.h"
#include "banned.h"

#define HDR \
	"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
#define ROW(ts) "gateio,BTC_USDT,1," #ts ",false,bid,91234.5,0.25\n"

static struct schema_set *set;
static const struct schema *l2;
static char *dir;

static void setup(void)
{
	char *err = NULL;

	ck_assert_int_eq(schema_set_load(&set, &err), 0);
	l2 = schema_set_find(set, "incremental_book_L2");
	ck_assert_ptr_nonnull(l2);
	dir = tu_tmpdir();
}

static void teardown(void)
{
	schema_set_free(set);
	tu_rmtree(dir);
}

/* Feed `text` in chunks of `step` bytes; return the result. */
static int run(const char *text, size_t step, uint64_t *rows, int64_t *first,
	       int64_t *last, char *why, size_t whysize)
{
	struct csvcheck *c = csvcheck_new(l2);
	size_t len = strlen(text);
	bool t;
	int rc = 0;

	ck_assert_ptr_nonnull(c);
	for (size_t o = 0; rc == 0 && o < len; o += step)
		rc = csvcheck_feed(c, text + o,
				   len - o < step ? len - o : step);
	if (rc == 0)
		rc = csvcheck_finish(c, rows, &t, first, last);
	snprintf(why, whysize, "%s", csvcheck_why(c));
	csvcheck_free(c);
	return rc;
}

START_TEST(test_good_file)
{
	uint64_t rows;
	int64_t a, b;
	char why[256];

	for (size_t step = 1; step < 80; step += 13) {
		ck_assert_int_eq(run(HDR ROW(30) ROW(10) ROW(20), step, &rows,
				     &a, &b, why, sizeof(why)),
				 0);
		ck_assert_uint_eq(rows, 3);
		ck_assert_int_eq(a, 10);
		ck_assert_int_eq(b, 30);
	}
	ck_assert_int_eq(run(HDR, 7, &rows, &a, &b, why, sizeof(why)), 0);
	ck_assert_uint_eq(rows, 0);
	ck_assert_int_eq(run("", 7, &rows, &a, &b, why, sizeof(why)), 0);
}
END_TEST

static void bad(const char *text, int want, const char *needle)
{
	uint64_t rows;
	int64_t a, b;
	char why[256];

	ck_assert_int_eq(run(text, 5, &rows, &a, &b, why, sizeof(why)), want);
	if (strstr(why, needle) == NULL)
		ck_abort_msg("reason '%s' lacks '%s'", why, needle);
}

START_TEST(test_bad_rows)
{
	bad("exchange,symbol\n" ROW(1), CORE_ESCHEMA, "line 1: header");
	bad(HDR ROW(1) "gateio,BTC_USDT,1,2,false,bid,1\n", CORE_ESCHEMA,
	    "line 3: expected 8 fields");
	bad(HDR "gateio,BTC_USDT,1,2,maybe,bid,1,1\n" ROW(3), CORE_ESCHEMA,
	    "line 2: field 'is_snapshot'");
	bad(HDR "gateio,BTC_USDT,1,x,false,bid,1,1\n", CORE_ESCHEMA,
	    "field 'local_timestamp'");
	bad(HDR "gateio,BTC_USDT,1,2,false,bid,1e3,1\n", CORE_ESCHEMA,
	    "field 'price'");
	bad(HDR ROW(1) "gateio,BTC_USDT,1,2,false,bid,1,1", CORE_EPARSE,
	    "line 3: no final newline");
	bad(HDR "gateio,\"BTC\nUSDT\",1,2,false,bid,1,1\n" ROW(
		    3) "x,y,1,2,false,bad,1,1\n",
	    CORE_ESCHEMA, "line 5: field 'side'");
	bad(HDR "gateio,BTC\"USDT,1,2,false,bid,1,1\n", CORE_EPARSE, "line 2");
	/* A blank line is no row (libcsv alone would skip it). */
	bad(HDR ROW(1) "\n" ROW(3), CORE_ESCHEMA, "line 3: expected 8 fields");
}
END_TEST

static void tail(const char *text, size_t len, uint64_t keep,
		 const char *reason)
{
	char path[512];
	struct tail_plan tp;

	snprintf(path, sizeof(path), "%s/x.csv", dir);
	tu_write(path, text, len);
	ck_assert_int_eq(csvcheck_tail(path, l2, &tp), 0);
	ck_assert_uint_eq(tp.size, len);
	ck_assert_uint_eq(tp.keep, keep);
	if (reason == NULL) {
		ck_assert_ptr_null(tp.reason);
	} else {
		char hex[SHA256_HEX_LEN];

		ck_assert_str_eq(tp.reason, reason);
		ck_assert_int_eq(sha256_buf_hex(text + keep, len - keep, hex),
				 0);
		ck_assert_str_eq(tp.cut_sha256, hex);
	}
}

START_TEST(test_torn_tails)
{
	static const char nuls[] = HDR ROW(1) "gateio,BTC\0\0\0\0\n";
	static const char qnl[] =
		HDR ROW(1) "gateio,\"BTC\nUSDT\",1,2,false,bid,1,1\n";
	const size_t good = strlen(HDR ROW(1));

	tail("", 0, 0, NULL);
	tail(HDR, strlen(HDR), strlen(HDR), NULL);
	tail(HDR ROW(1), good, good, NULL);
	tail(HDR ROW(1) "gateio,BT", good + 9, good, "partial line");
	tail("exchange,sym", 12, 0, "partial line");
	/* A complete-looking last line of NULs: cut with its newline. */
	tail(nuls, sizeof(nuls) - 1, good, "bad last line");
	/* A bad last line followed by a partial one: both go. */
	tail(HDR ROW(1) "x,y,1,2,false,bad,1,1\nga", good + 24, good,
	     "bad last line");
	/* The header is never cut, even when it is wrong. */
	tail("a,b\n", 4, 4, NULL);
	/* A last record whose quoted field holds a newline is whole: its
	 * last physical line alone is no row, but nothing is cut. */
	tail(qnl, sizeof(qnl) - 1, sizeof(qnl) - 1, NULL);
}
END_TEST

static Suite *check_suite(void)
{
	Suite *s = suite_create("rotate_csvcheck");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_file);
	tcase_add_test(tc, test_bad_rows);
	tcase_add_test(tc, test_torn_tails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(check_suite());
	int failed, run_n;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run_n = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run_n > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
