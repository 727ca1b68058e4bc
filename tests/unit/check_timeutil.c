/* Unit suite for core/timeutil: ISO times and hour arithmetic. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "sha256.h"
#include "timeutil.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_time_parse)
{
	int64_t t;

	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795662000) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-11-26", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795651200) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03Z", &t), 0);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:04:05+00:00", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795662245) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-02-29", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("2024-02-29", &t), 0);
	ck_assert_int_eq(time_parse_iso("2026-11-26T25:00Z", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00+02:00", &t),
			 CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("26-11-26", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("", &t), CORE_EPARSE);
}
END_TEST

START_TEST(test_time_hours)
{
	char date[11], hour[3], iso[32];
	int64_t t = INT64_C(1795662245) * US_PER_SEC + 123, back;

	ck_assert_int_eq(time_hour_floor(t), INT64_C(1795662000) * US_PER_SEC);
	ck_assert_int_eq(time_date_hour(t, date, hour), 0);
	ck_assert_str_eq(date, "2026-11-26");
	ck_assert_str_eq(hour, "03");
	ck_assert_int_eq(time_from_date_hour(date, hour, &back), 0);
	ck_assert_int_eq(back, time_hour_floor(t));
	ck_assert_int_eq(time_from_date_hour("2026-11-26", "24", &back),
			 CORE_EPARSE);
	ck_assert_int_eq(time_format_iso(t, iso, sizeof(iso)), 0);
	ck_assert_str_eq(iso, "2026-11-26T03:04:05Z");
	ck_assert_int_eq(time_hour_floor(-1), -US_PER_HOUR);
}
END_TEST

static Suite *timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc = tcase_create("timeutil");

	tcase_add_test(tc, test_time_parse);
	tcase_add_test(tc, test_time_hours);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(timeutil_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
