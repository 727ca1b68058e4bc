/* Unit suite for core/metrics_textfile: the node_exporter textfile reader. */
#include <check.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core.h"
#include "metrics.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_textfile_read_tolerant)
{
	static const char text[] =
		"# HELP job_last_success_timestamp_seconds Last success.\n"
		"# TYPE job_last_success_timestamp_seconds gauge\n"
		"garbage line without value\n"
		"job_last_success_timestamp_seconds{target=\"s3\" 17\n"
		"job_last_success_timestamp_seconds{target=\"s3\"} notanumber\n"
		"job_last_success_timestamp_seconds_extra{target=\"s3\"} 9\n"
		"  job_last_success_timestamp_seconds { a = \"x\\\\\" , "
		"target = \"s3\" , } 1700000000 123\n"
		"job_last_success_timestamp_seconds{target=\"sftp\"} +Inf\r\n"
		"job_runs 1e3\n"
		"job_runs 2\n"
		"job_unterminated{target=\"s3";
	static const char nul[] = "a{b=\"\0\"} 1\na{b=\"x\0\"} 2\n";
	char *dir = tu_tmpdir(), path[600], big[600];
	double v = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/old.prom", dir);
	tu_write(path, text, sizeof(text) - 1);
	ck_assert_int_eq(metrics_textfile_read(
				 path, "job_last_success_timestamp_seconds",
				 "target", "s3", &v),
			 0);
	ck_assert(v == 1700000000);
	ck_assert_int_eq(metrics_textfile_read(
				 path, "job_last_success_timestamp_seconds",
				 "target", "sftp", &v),
			 0);
	ck_assert(isinf(v) && v > 0);
	ck_assert_int_eq(metrics_textfile_read(
				 path, "job_last_success_timestamp_seconds",
				 "a", "x\\", &v),
			 0);
	ck_assert_int_eq(
		metrics_textfile_read(path, "job_runs", NULL, NULL, &v), 0);
	ck_assert(v == 1000); /* the first sample wins */
	ck_assert_int_eq(metrics_textfile_read(path, "job_unterminated",
					       "target", "s3", &v),
			 CORE_ENOENT);
	ck_assert_int_eq(metrics_textfile_read(path,
					       "job_last_success_"
					       "timestamp_seconds",
					       "target", "s", &v),
			 CORE_ENOENT);
	snprintf(big, sizeof(big), "%s/missing.prom", dir);
	ck_assert_int_eq(metrics_textfile_read(big, "job_runs", NULL, NULL, &v),
			 CORE_ENOENT);
	ck_assert_int_eq(metrics_textfile_read(path, "job_runs", "x", NULL, &v),
			 CORE_EINVAL);
	/* A NUL inside a label value never matches (found by the fuzzer). */
	tu_write(path, nul, sizeof(nul) - 1);
	ck_assert_int_eq(metrics_textfile_read(path, "a", "b", "", &v),
			 CORE_ENOENT);
	ck_assert_int_eq(metrics_textfile_read(path, "a", "b", "x", &v),
			 CORE_ENOENT);
	/* Reads are bounded: a file above 4 MiB is refused. */
	snprintf(big, sizeof(big), "%s/big.prom", dir);
	fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (4 << 20) + 1), 0);
	close(fd);
	ck_assert_int_eq(metrics_textfile_read(big, "job_runs", NULL, NULL, &v),
			 CORE_ETOOBIG);
	tu_rmtree(dir);
}
END_TEST

static Suite *metrics_textfile_suite(void)
{
	Suite *s = suite_create("metrics_textfile");
	TCase *io = tcase_create("textfile");

	tcase_add_test(io, test_textfile_read_tolerant);
	tcase_set_timeout(io, 30);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_textfile_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
