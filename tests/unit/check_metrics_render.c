/* Unit suite for core/metrics_render: the text format and textfile writer. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "metrics.h"
#include "metrics_testlib.h"
#include "testutil.h"
#include "banned.h"

#define PROMTOOL "/usr/bin/promtool"

static const double lat_buckets[] = { 0.005, 0.01, 0.1, 1 };

START_TEST(test_escaping)
{
	static const char *const labels[] = { "path", NULL };
	static const char *const v[] = { "a\"b\\c\nd" };
	struct metrics *m = metrics_new();
	struct metric *f = metrics_family(m, "esc_total",
					  "Back\\slash\nand \"q\".",
					  METRIC_COUNTER, labels, NULL, 0);
	struct metric *g =
		metrics_family(m, "nohelp", NULL, METRIC_GAUGE, NULL, NULL, 0);

	ck_assert_ptr_nonnull(g);
	metric_inc(metric_series(f, v));
	/* HELP escapes only \ and newline; label values also escape ". */
	assert_render(m, "# HELP esc_total Back\\\\slash\\nand \"q\".\n"
			 "# TYPE esc_total counter\n"
			 "esc_total{path=\"a\\\"b\\\\c\\nd\"} 1\n"
			 "# TYPE nohelp gauge\n"
			 "nohelp 0\n");
	metrics_free(m);
}
END_TEST

/* A registry with every kind of family, used by several tests. */
static struct metrics *full_registry(void)
{
	static const char *const ex[] = { "exchange", NULL };
	static const char *const exsym[] = { "exchange", "symbol", NULL };
	static const char *const gate[] = { "gateio" };
	static const char *const mexc[] = { "mexc" };
	static const char *const odd[] = { "gateio", "we\"ird\\sym\nbol" };
	struct metrics *m = metrics_new();
	struct metric *f;

	ck_assert_ptr_nonnull(m);
	f = metrics_family(m, "booktape_test_messages_total",
			   "Messages received.", METRIC_COUNTER, exsym, NULL,
			   0);
	metric_add(metric_series(f, odd), 12345678);
	metric_add(metric_series(f, (const char *const[]){ "mexc", "B" }), 3);
	f = metrics_family(m, "booktape_test_errors_total", "Errors.",
			   METRIC_COUNTER, NULL, NULL, 0);
	metric_inc(metric_series(f, NULL));
	f = metrics_family(m, "booktape_test_connection_status",
			   "1 when connected.", METRIC_GAUGE, ex, NULL, 0);
	metric_set(metric_series(f, gate), 1);
	metric_set(metric_series(f, mexc), 0);
	f = metrics_family(m, "booktape_test_last_run_timestamp_seconds",
			   "Help with a \\ backslash\nand a newline.",
			   METRIC_GAUGE, NULL, NULL, 0);
	metric_set(metric_series(f, NULL), 1700000000.5);
	f = metrics_family(m, "booktape_test_ratio", "Odd values.",
			   METRIC_GAUGE, ex, NULL, 0);
	metric_set(metric_series(f, gate), NAN);
	metric_set(metric_series(f, mexc), -INFINITY);
	f = metrics_family(m, "booktape_test_latency_seconds", "Latency.",
			   METRIC_HISTOGRAM, ex, lat_buckets, 4);
	metric_observe(metric_series(f, gate), 0.003);
	metric_observe(metric_series(f, gate), 0.3);
	metric_observe(metric_series(f, mexc), 7);
	f = metrics_family(m, "booktape_test_duration_seconds", "Duration.",
			   METRIC_HISTOGRAM, NULL, lat_buckets, 4);
	metric_observe(metric_series(f, NULL), 0.02);
	ck_assert_int_eq(metrics_add_process(m), 0);
	return m;
}

START_TEST(test_promtool)
{
	struct metrics *m = full_registry();
	char *dir = tu_tmpdir(), cmd[2048], path[600], *report;
	size_t len;
	int st;

	if (access(PROMTOOL, X_OK) != 0)
		ck_abort_msg(PROMTOOL
			     " is missing: install Debian's prometheus "
			     "package (CI does)");
	ck_assert_int_eq(metrics_write_textfile(m, dir, "all.prom"), 0);
	snprintf(cmd, sizeof(cmd),
		 PROMTOOL " check metrics < '%s/all.prom' > '%s/report' 2>&1",
		 dir, dir);
	st = system(cmd);
	snprintf(path, sizeof(path), "%s/report", dir);
	ck_assert_int_eq(fs_read_file(path, 1 << 20, &report, &len), 0);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
		      "promtool failed (status %d): %s", st, report);
	ck_assert_msg(len == 0, "promtool reported: %s", report);
	free(report);
	tu_rmtree(dir);
	metrics_free(m);
}
END_TEST

/* The promtool check must be able to fail: a known lint problem. */
START_TEST(test_promtool_detects)
{
	struct metrics *m = metrics_new();
	char *dir = tu_tmpdir(), cmd[2048];
	int st;

	if (access(PROMTOOL, X_OK) != 0)
		ck_abort_msg(PROMTOOL
			     " is missing: install Debian's prometheus "
			     "package (CI does)");
	/* A counter without _total. */
	metric_inc(metric_series(metrics_family(m, "bad_counter", "Bad.",
						METRIC_COUNTER, NULL, NULL, 0),
				 NULL));
	ck_assert_int_eq(metrics_write_textfile(m, dir, "bad.prom"), 0);
	snprintf(cmd, sizeof(cmd),
		 PROMTOOL " check metrics < '%s/bad.prom' >/dev/null 2>&1",
		 dir);
	st = system(cmd);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0);
	tu_rmtree(dir);
	metrics_free(m);
}
END_TEST

START_TEST(test_textfile_write)
{
	struct metrics *m = full_registry();
	char *dir = tu_tmpdir(), path[600], *text, *file;
	size_t len, flen;
	struct stat st;
	mode_t old = umask(077); /* the mode must not depend on the umask */
	double v;

	ck_assert_int_eq(metrics_write_textfile(m, dir, "x.txt"), CORE_EINVAL);
	ck_assert_int_eq(metrics_write_textfile(m, dir, ".x.prom"),
			 CORE_EINVAL);
	ck_assert_int_eq(metrics_write_textfile(m, dir, "a/b.prom"),
			 CORE_EINVAL);
	ck_assert_int_eq(metrics_write_textfile(m, dir, ".prom"), CORE_EINVAL);
	ck_assert_int_eq(metrics_write_textfile(m, "/nonexistent/dir",
						"a.prom"),
			 CORE_ESYS);
	ck_assert_int_eq(metrics_write_textfile(m, dir, "booktape_test.prom"),
			 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/booktape_test.prom", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(fs_clean_stale_temps(dir), 0);
	ck_assert_int_eq(metrics_render(m, &text, &len), 0);
	ck_assert_int_eq(fs_read_file(path, 1 << 20, &file, &flen), 0);
	ck_assert_uint_eq(flen, len);
	ck_assert_str_eq(file, text);
	ck_assert(len > 0 && text[len - 1] == '\n');
	free(text);
	free(file);

	/* Read back what was written. */
	ck_assert_int_eq(metrics_textfile_read(path,
					       "booktape_test_errors_total",
					       NULL, NULL, &v),
			 0);
	ck_assert(v == 1);
	ck_assert_int_eq(
		metrics_textfile_read(path, "booktape_test_messages_total",
				      "symbol", "we\"ird\\sym\nbol", &v),
		0);
	ck_assert(v == 12345678);
	ck_assert_int_eq(metrics_textfile_read(path,
					       "booktape_test_messages_total",
					       "exchange", "mexc", &v),
			 0);
	ck_assert(v == 3);
	ck_assert_int_eq(metrics_textfile_read(
				 path,
				 "booktape_test_last_run_timestamp_seconds",
				 NULL, NULL, &v),
			 0);
	ck_assert(v == 1700000000.5);
	ck_assert_int_eq(metrics_textfile_read(path, "booktape_test_ratio",
					       "exchange", "gateio", &v),
			 0);
	ck_assert(isnan(v));
	ck_assert_int_eq(metrics_textfile_read(path, "booktape_test_ratio",
					       "exchange", "mexc", &v),
			 0);
	ck_assert(isinf(v) && v < 0);
	ck_assert_int_eq(metrics_textfile_read(
				 path, "booktape_test_latency_seconds_count",
				 "exchange", "gateio", &v),
			 0);
	ck_assert(v == 2);
	/* Labelled samples do not answer an unlabelled query. */
	ck_assert_int_eq(metrics_textfile_read(path, "booktape_test_ratio",
					       NULL, NULL, &v),
			 CORE_ENOENT);
	ck_assert_int_eq(metrics_textfile_read(path,
					       "booktape_test_messages_total",
					       "exchange", "kraken", &v),
			 CORE_ENOENT);
	ck_assert_int_eq(metrics_textfile_read(path, "booktape_test", NULL,
					       NULL, &v),
			 CORE_ENOENT);
	tu_rmtree(dir);
	metrics_free(m);
}
END_TEST

static Suite *metrics_render_suite(void)
{
	Suite *s = suite_create("metrics_render");
	TCase *tc = tcase_create("render");
	TCase *io = tcase_create("textfile");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_escaping);
	suite_add_tcase(s, tc);
	tcase_add_test(io, test_promtool);
	tcase_add_test(io, test_promtool_detects);
	tcase_add_test(io, test_textfile_write);
	tcase_set_timeout(io, 30);
	suite_add_tcase(s, io);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_render_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
