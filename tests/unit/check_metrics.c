/* Unit suite for core/metrics: the registry, its series and values. */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "metrics.h"
#include "metrics_testlib.h"
#include "testutil.h"
#include "banned.h"

static const double lat_buckets[] = { 0.005, 0.01, 0.1, 1 };

START_TEST(test_empty)
{
	struct metrics *m = metrics_new();

	ck_assert_ptr_nonnull(m);
	assert_render(m, "");
	metrics_free(m);
	metrics_free(NULL);
}
END_TEST

START_TEST(test_counter)
{
	struct metrics *m = metrics_new();
	struct metric *f = metrics_family(m, "test_requests_total",
					  "Requests handled.", METRIC_COUNTER,
					  NULL, NULL, 0);
	struct metric_series *s;

	ck_assert_ptr_nonnull(f);
	/* An unlabelled counter shows 0 before its first update. */
	assert_render(m, "# HELP test_requests_total Requests handled.\n"
			 "# TYPE test_requests_total counter\n"
			 "test_requests_total 0\n");
	s = metric_series(f, NULL);
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_eq(metric_series(f, NULL), s);
	metric_inc(s);
	metric_add(s, 12345677);
	metric_add(s, -5);  /* ignored: counters never go down */
	metric_add(s, NAN); /* ignored */
	metric_set(s, 1);   /* ignored: gauges only */
	metric_observe(s, 1);
	ck_assert(metric_value(s) == 12345678);
	assert_render(m, "# HELP test_requests_total Requests handled.\n"
			 "# TYPE test_requests_total counter\n"
			 "test_requests_total 12345678\n");
	metric_add(s, 1e18 - 12345678);
	assert_render(m, "# HELP test_requests_total Requests handled.\n"
			 "# TYPE test_requests_total counter\n"
			 "test_requests_total 1000000000000000000\n");
	metrics_free(m);
}
END_TEST

START_TEST(test_labelled_gauge)
{
	static const char *const labels[] = { "exchange", "symbol", NULL };
	static const char *const v1[] = { "gateio", "BTC_USDT" };
	static const char *const v2[] = { "mexc", "ETHUSDT" };
	struct metrics *m = metrics_new();
	struct metric *f;
	struct metric_series *a, *b;

	f = metrics_family(m, "test_buffer_size", "Rows buffered.",
			   METRIC_GAUGE, labels, NULL, 0);
	ck_assert_ptr_nonnull(f);
	/* A labelled family without series is left out. */
	assert_render(m, "");
	a = metric_series(f, v1);
	b = metric_series(f, v2);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_ne(a, b);
	ck_assert_ptr_eq(metric_series(f, v1), a);
	metric_set(a, 42);
	metric_add(a, -2.5);
	metric_set(b, -3);
	ck_assert(metric_value(a) == 39.5);
	assert_render(
		m, "# HELP test_buffer_size Rows buffered.\n"
		   "# TYPE test_buffer_size gauge\n"
		   "test_buffer_size{exchange=\"gateio\",symbol=\"BTC_USDT\"}"
		   " 39.5\n"
		   "test_buffer_size{exchange=\"mexc\",symbol=\"ETHUSDT\"}"
		   " -3\n");
	metrics_free(m);
}
END_TEST

/* Each value, rendered through an unlabelled gauge. */
static void assert_value(double v, const char *want)
{
	struct metrics *m = metrics_new();
	struct metric *f =
		metrics_family(m, "g", "G.", METRIC_GAUGE, NULL, NULL, 0);
	char exp[256];

	metric_set(metric_series(f, NULL), v);
	snprintf(exp, sizeof(exp), "# HELP g G.\n# TYPE g gauge\ng %s\n", want);
	assert_render(m, exp);
	metrics_free(m);
}

START_TEST(test_values)
{
	assert_value(NAN, "NaN");
	assert_value(INFINITY, "+Inf");
	assert_value(-INFINITY, "-Inf");
	assert_value(0.0, "0");
	assert_value(-0.0, "0");
	assert_value(1, "1");
	assert_value(-1, "-1");
	assert_value(0.1, "0.1");
	assert_value(0.005, "0.005");
	assert_value(2.5, "2.5");
	assert_value(1.0 / 3, "0.3333333333333333");
	assert_value(1e-5, "1e-05");
	assert_value(12345678, "12345678");
	assert_value(1700000000.25, "1700000000.25");
	/* 2^53 + 2 and the largest integers before the exponent form. */
	assert_value(9007199254740994.0, "9007199254740994");
	assert_value(9223372036854775808.0, "9223372036854775808");
	assert_value(1e19, "1e+19");
	assert_value(1.5e300, "1.5e+300");
}
END_TEST

START_TEST(test_histogram)
{
	static const char *const labels[] = { "exchange", NULL };
	static const char *const gate[] = { "gateio" };
	struct metrics *m = metrics_new();
	struct metric *h, *hl;
	struct metric_series *s, *sl;

	h = metrics_family(m, "test_latency_seconds", "Latency.",
			   METRIC_HISTOGRAM, NULL, lat_buckets, 4);
	hl = metrics_family(m, "test_lab_seconds", "Labelled.",
			    METRIC_HISTOGRAM, labels, lat_buckets, 2);
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_nonnull(hl);
	s = metric_series(h, NULL);
	sl = metric_series(hl, gate);
	metric_observe(s, 0.00390625); /* <= 0.005 */
	metric_observe(s, 0.005);      /* bounds are inclusive */
	metric_observe(s, 0.0078125);  /* <= 0.01 */
	metric_observe(s, 0.5);	       /* <= 1 */
	metric_observe(s, 2);	       /* +Inf only */
	metric_add(s, 1);	       /* ignored on a histogram */
	metric_observe(sl, 0.25);
	ck_assert(metric_value(s) == 5);
	assert_render(m, "# HELP test_latency_seconds Latency.\n"
			 "# TYPE test_latency_seconds histogram\n"
			 "test_latency_seconds_bucket{le=\"0.005\"} 2\n"
			 "test_latency_seconds_bucket{le=\"0.01\"} 3\n"
			 "test_latency_seconds_bucket{le=\"0.1\"} 3\n"
			 "test_latency_seconds_bucket{le=\"1\"} 4\n"
			 "test_latency_seconds_bucket{le=\"+Inf\"} 5\n"
			 "test_latency_seconds_sum 2.51671875\n"
			 "test_latency_seconds_count 5\n"
			 "# HELP test_lab_seconds Labelled.\n"
			 "# TYPE test_lab_seconds histogram\n"
			 "test_lab_seconds_bucket{exchange=\"gateio\","
			 "le=\"0.005\"} 0\n"
			 "test_lab_seconds_bucket{exchange=\"gateio\","
			 "le=\"0.01\"} 0\n"
			 "test_lab_seconds_bucket{exchange=\"gateio\","
			 "le=\"+Inf\"} 1\n"
			 "test_lab_seconds_sum{exchange=\"gateio\"} 0.25\n"
			 "test_lab_seconds_count{exchange=\"gateio\"} 1\n");
	metrics_free(m);
}
END_TEST

START_TEST(test_histogram_nan)
{
	struct metrics *m = metrics_new();
	struct metric *h = metrics_family(m, "h_seconds", "H.",
					  METRIC_HISTOGRAM, NULL, NULL, 0);
	struct metric_series *s = metric_series(h, NULL);

	/* No buckets: only +Inf. NaN counts there and poisons the sum. */
	metric_observe(s, 1);
	metric_observe(s, NAN);
	assert_render(m, "# HELP h_seconds H.\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{le=\"+Inf\"} 2\n"
			 "h_seconds_sum NaN\n"
			 "h_seconds_count 2\n");
	metrics_free(m);
}
END_TEST

START_TEST(test_invalid_names)
{
	static const char *const bad_labels[][3] = {
		{ "__reserved", NULL }, { "a:b", NULL }, { "1a", NULL },
		{ "", NULL },		{ "a-b", NULL }, { "x", "x" },
	};
	static const char *const le[] = { "le", NULL };
	static const double unsorted[] = { 1, 0.5 };
	static const double dup[] = { 1, 1 };
	static const double inf[] = { 1, INFINITY };
	static const double nan[] = { NAN };
	const char *bad_names[] = { "", "1abc", "a-b", "a b", "é", NULL };
	struct metrics *m = metrics_new();

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad_names); i++)
		ck_assert_ptr_null(metrics_family(m, bad_names[i], "h",
						  METRIC_GAUGE, NULL, NULL, 0));
	for (size_t i = 0; i < CORE_ARRAY_LEN(bad_labels); i++)
		ck_assert_ptr_null(metrics_family(m, "ok", "h", METRIC_GAUGE,
						  bad_labels[i], NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "h", "h", METRIC_HISTOGRAM, le,
					  lat_buckets, 4));
	ck_assert_ptr_null(metrics_family(m, "h", "h", METRIC_HISTOGRAM, NULL,
					  unsorted, 2));
	ck_assert_ptr_null(
		metrics_family(m, "h", "h", METRIC_HISTOGRAM, NULL, dup, 2));
	ck_assert_ptr_null(
		metrics_family(m, "h", "h", METRIC_HISTOGRAM, NULL, inf, 2));
	ck_assert_ptr_null(
		metrics_family(m, "h", "h", METRIC_HISTOGRAM, NULL, nan, 1));
	ck_assert_ptr_null(
		metrics_family(m, "h", "h", METRIC_HISTOGRAM, NULL, NULL, 3));
	ck_assert_ptr_null(metrics_family(m, "x", "h", (enum metric_type)7,
					  NULL, NULL, 0));
	ck_assert_ptr_null(
		metrics_family(NULL, "x", "h", METRIC_GAUGE, NULL, NULL, 0));
	/* Nothing half-registered is left behind. */
	assert_render(m, "");
	/* Colons are fine in metric names; "le" is fine off histograms. */
	ck_assert_ptr_nonnull(metrics_family(m, "job:rate:sum", "h",
					     METRIC_GAUGE, NULL, NULL, 0));
	ck_assert_ptr_nonnull(
		metrics_family(m, "_x", "h", METRIC_GAUGE, le, NULL, 0));
	metrics_free(m);
}
END_TEST

START_TEST(test_invalid_values)
{
	static const char *const labels[] = { "a", "b", NULL };
	struct metrics *m = metrics_new();
	struct metric *f =
		metrics_family(m, "v", "h", METRIC_GAUGE, labels, NULL, 0);
	const char *null_v[] = { "x", NULL };
	const char *bad_utf8[] = { "x", "\xc3\x28" };
	const char *surrogate[] = { "x", "\xed\xa0\x80" };
	const char *good_utf8[] = { "x", "caf\xc3\xa9 \xf0\x9f\x93\x88" };
	char long_v[1100];
	const char *too_long[] = { "x", long_v };

	memset(long_v, 'a', sizeof(long_v) - 1);
	long_v[sizeof(long_v) - 1] = '\0';
	ck_assert_ptr_null(metric_series(f, NULL));
	ck_assert_ptr_null(metric_series(f, null_v));
	ck_assert_ptr_null(metric_series(f, bad_utf8));
	ck_assert_ptr_null(metric_series(f, surrogate));
	ck_assert_ptr_null(metric_series(f, too_long));
	ck_assert_ptr_null(metric_series(NULL, NULL));
	ck_assert_ptr_nonnull(metric_series(f, good_utf8));
	/* NULL series are ignored by every update. */
	metric_inc(NULL);
	metric_set(NULL, 1);
	metric_observe(NULL, 1);
	ck_assert(isnan(metric_value(NULL)));
	metrics_free(m);
}
END_TEST

START_TEST(test_reregister)
{
	static const char *const l1[] = { "exchange", NULL };
	static const char *const l2[] = { "symbol", NULL };
	static const char *const l3[] = { "exchange", "symbol", NULL };
	static const double other[] = { 0.005, 0.01, 0.1, 2 };
	struct metrics *m = metrics_new();
	struct metric *c, *h;

	c = metrics_family(m, "c_total", "First help.", METRIC_COUNTER, l1,
			   NULL, 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_eq(metrics_family(m, "c_total", "Other help.",
					METRIC_COUNTER, l1, NULL, 0),
			 c);
	ck_assert_ptr_null(
		metrics_family(m, "c_total", "h", METRIC_GAUGE, l1, NULL, 0));
	ck_assert_ptr_null(
		metrics_family(m, "c_total", "h", METRIC_COUNTER, l2, NULL, 0));
	ck_assert_ptr_null(
		metrics_family(m, "c_total", "h", METRIC_COUNTER, l3, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "c_total", "h", METRIC_COUNTER,
					  NULL, NULL, 0));
	h = metrics_family(m, "h_seconds", "h", METRIC_HISTOGRAM, NULL,
			   lat_buckets, 4);
	ck_assert_ptr_nonnull(h);
	ck_assert_ptr_eq(metrics_family(m, "h_seconds", "h", METRIC_HISTOGRAM,
					NULL, lat_buckets, 4),
			 h);
	ck_assert_ptr_null(metrics_family(m, "h_seconds", "h", METRIC_HISTOGRAM,
					  NULL, other, 4));
	ck_assert_ptr_null(metrics_family(m, "h_seconds", "h", METRIC_HISTOGRAM,
					  NULL, lat_buckets, 3));
	/* Names that would duplicate a histogram's series, either way. */
	ck_assert_ptr_null(metrics_family(m, "h_seconds_count", "h",
					  METRIC_GAUGE, NULL, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "h_seconds_bucket", "h",
					  METRIC_GAUGE, NULL, NULL, 0));
	ck_assert_ptr_nonnull(
		metrics_family(m, "g_sum", "h", METRIC_GAUGE, NULL, NULL, 0));
	ck_assert_ptr_null(metrics_family(m, "g", "h", METRIC_HISTOGRAM, NULL,
					  lat_buckets, 4));
	metric_inc(metric_series(c, (const char *const[]){ "gateio" }));
	assert_render(m, "# HELP c_total First help.\n"
			 "# TYPE c_total counter\n"
			 "c_total{exchange=\"gateio\"} 1\n"
			 "# HELP h_seconds h\n"
			 "# TYPE h_seconds histogram\n"
			 "h_seconds_bucket{le=\"0.005\"} 0\n"
			 "h_seconds_bucket{le=\"0.01\"} 0\n"
			 "h_seconds_bucket{le=\"0.1\"} 0\n"
			 "h_seconds_bucket{le=\"1\"} 0\n"
			 "h_seconds_bucket{le=\"+Inf\"} 0\n"
			 "h_seconds_sum 0\n"
			 "h_seconds_count 0\n"
			 "# HELP g_sum h\n"
			 "# TYPE g_sum gauge\n"
			 "g_sum 0\n");
	metrics_free(m);
}
END_TEST

START_TEST(test_series_remove)
{
	static const char *const labels[] = { "symbol", NULL };
	static const char *const a[] = { "A" }, *const b[] = { "B" },
				 *const c[] = { "C" };
	struct metrics *m = metrics_new();
	struct metric *f =
		metrics_family(m, "r", "R.", METRIC_GAUGE, labels, NULL, 0);

	metric_set(metric_series(f, a), 1);
	metric_set(metric_series(f, b), 2);
	metric_set(metric_series(f, c), 3);
	metric_series_remove(f, b);
	metric_series_remove(f, b); /* absent: no-op */
	metric_series_remove(NULL, b);
	assert_render(m, "# HELP r R.\n# TYPE r gauge\n"
			 "r{symbol=\"A\"} 1\nr{symbol=\"C\"} 3\n");
	/* Removing the tail, then appending, keeps the list intact. */
	metric_series_remove(f, c);
	metric_set(metric_series(f, b), 5);
	assert_render(m, "# HELP r R.\n# TYPE r gauge\n"
			 "r{symbol=\"A\"} 1\nr{symbol=\"B\"} 5\n");
	metric_series_remove(f, a);
	metric_series_remove(f, b);
	assert_render(m, "");
	/* A recreated series starts again at 0. */
	ck_assert(metric_value(metric_series(f, a)) == 0);
	metrics_free(m);
}
END_TEST

struct inc_arg {
	struct metric_series *s;
	int n;
};

static void *inc_thread(void *p)
{
	struct inc_arg *a = p;

	for (int i = 0; i < a->n; i++)
		metric_inc(a->s);
	return NULL;
}

static void *render_thread(void *p)
{
	struct metrics *m = p;

	for (int i = 0; i < 200; i++) {
		char *text;
		size_t len;

		if (metrics_render(m, &text, &len) != 0)
			abort();
		free(text);
	}
	return NULL;
}

START_TEST(test_concurrency)
{
	struct metrics *m = metrics_new();
	struct metric *f = metrics_family(m, "conc_total", "C.", METRIC_COUNTER,
					  NULL, NULL, 0);
	struct inc_arg a = { metric_series(f, NULL), 1000000 };
	pthread_t t1, t2, t3;

	ck_assert_int_eq(pthread_create(&t1, NULL, inc_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&t2, NULL, inc_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&t3, NULL, render_thread, m), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	pthread_join(t3, NULL);
	ck_assert(metric_value(a.s) == 2000000);
	assert_render(m, "# HELP conc_total C.\n# TYPE conc_total counter\n"
			 "conc_total 2000000\n");
	metrics_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("registry");
	TCase *th = tcase_create("threads");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_counter);
	tcase_add_test(tc, test_labelled_gauge);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_histogram);
	tcase_add_test(tc, test_histogram_nan);
	tcase_add_test(tc, test_invalid_names);
	tcase_add_test(tc, test_invalid_values);
	tcase_add_test(tc, test_reregister);
	tcase_add_test(tc, test_series_remove);
	suite_add_tcase(s, tc);
	tcase_add_test(th, test_concurrency);
	tcase_set_timeout(th, 60);
	suite_add_tcase(s, th);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return (failed == 0 && run > 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}
