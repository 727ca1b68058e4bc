/* Unit suite for rotate/scan: which live hours are finished, in order. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rotate_testlib.h"
#include "banned.h"

START_TEST(test_finished_hours_oldest_first)
{
	struct rt t;
	struct hour *h = NULL;
	size_t n = 0;

	rt_init(&t);
	rt_make_hour(&t, "mexc", "2026-11-26", "04", 1, "");
	rt_make_hour(&t, "gateio", "2026-11-26", "03", 1, "");
	rt_make_hour(&t, "gateio", "2026-11-25", "23", 1, "");
	/* 04 ends at 05:00; with 120 s of grace it is not finished yet. */
	t.cfg.grace = 120;
	t.ctx.now_us = rt_hour("2026-11-26", "05") + 60 * US_PER_SEC;
	ck_assert_int_eq(scan_hours(&t.ctx, &h, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(h[0].date, "2026-11-25");
	ck_assert_str_eq(h[0].hh, "23");
	ck_assert_str_eq(h[1].exchange, "gateio");
	ck_assert_str_eq(h[1].hh, "03");
	ck_assert(h[1].start_us == rt_hour("2026-11-26", "03"));
	ck_assert_ptr_nonnull(
		strstr(h[1].live_dir, "/live/gateio/2026-11-26/03"));
	free(h);
	/* Past the grace, 04 is finished too. */
	t.ctx.now_us = rt_hour("2026-11-26", "05") + 121 * US_PER_SEC;
	ck_assert_int_eq(scan_hours(&t.ctx, &h, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(h[2].exchange, "mexc");
	free(h);
	rt_release(&t);
}
END_TEST

START_TEST(test_exchange_filter_and_junk)
{
	struct rt t;
	struct hour *h = NULL;
	size_t n = 0;
	char junk[1024];

	rt_init(&t);
	rt_make_hour(&t, "mexc", "2026-11-26", "01", 1, "");
	rt_make_hour(&t, "gateio", "2026-11-26", "01", 1, "");
	/* Names that are not dates or hours are passed over. */
	snprintf(junk, sizeof(junk), "%s/live/gateio/2026-11-26/x1", t.dir);
	ck_assert_int_eq(fs_mkdir_p(junk, 0750), 0);
	snprintf(junk, sizeof(junk), "%s/live/gateio/notadate", t.dir);
	ck_assert_int_eq(fs_mkdir_p(junk, 0750), 0);
	t.ctx.now_us = rt_hour("2026-11-27", "00");
	t.ctx.only_exchange = "mexc";
	ck_assert_int_eq(scan_hours(&t.ctx, &h, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(h[0].exchange, "mexc");
	free(h);
	rt_release(&t);
}
END_TEST

static Suite *rotate_scan_suite(void)
{
	Suite *s = suite_create("rotate_scan");
	TCase *tc = tcase_create("rotate_scan");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_finished_hours_oldest_first);
	tcase_add_test(tc, test_exchange_filter_and_junk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rotate_scan_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
