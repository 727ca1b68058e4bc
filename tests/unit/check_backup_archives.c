/* Unit suite for backup/archives: archive names and sidecars. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archives.h"
#include "core.h"
#include "listing.h"
#include "s3.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

START_TEST(test_archive_names)
{
	char ex[ARCHIVE_EXCHANGE_MAX];
	int64_t h = 0, want = 0;

	ck_assert_int_eq(archive_name_parse("gateio/2026-11-26/"
					    "gateio_2026-11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_str_eq(ex, "gateio");
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &want), 0);
	ck_assert(h == want);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz.sha256",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz.part",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("mexc/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-25/gateio_2026-"
					    "11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T24.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio", ex, &h), 0);
	ck_assert_str_eq(archive_basename("a/b/c.tar.gz"), "c.tar.gz");
}
END_TEST

START_TEST(test_sidecar)
{
	const char *hex =
		"2494b40037a5b3f5a23a14250e925ab5589f18bf1f78c6fe9a20e8"
		"bb3c8ec000";
	char line[200], out[SHA256_HEX_LEN];

	snprintf(line, sizeof(line), "%s  x.tar.gz\n", hex);
	ck_assert_int_eq(sidecar_parse(line, strlen(line), "x.tar.gz", out), 0);
	ck_assert_str_eq(out, hex);
	ck_assert_int_ne(sidecar_parse(line, strlen(line), "y.tar.gz", out), 0);
	ck_assert_int_ne(sidecar_parse(line, strlen(line) - 1, NULL, out), 0);
	snprintf(line, sizeof(line), "%s *x.tar.gz\n", hex);
	ck_assert_int_eq(sidecar_parse(line, strlen(line), NULL, out), 0);
	snprintf(line, sizeof(line), "%s  x\ny\n", hex);
	ck_assert_int_ne(sidecar_parse(line, strlen(line), NULL, out), 0);
	line[0] = 'G';
	ck_assert_int_ne(sidecar_parse(line, strlen(line), NULL, out), 0);
}
END_TEST

static Suite *backup_archives_suite(void)
{
	Suite *s = suite_create("backup_archives");
	TCase *tc = tcase_create("backup_archives");

	tcase_add_test(tc, test_archive_names);
	tcase_add_test(tc, test_sidecar);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backup_archives_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
