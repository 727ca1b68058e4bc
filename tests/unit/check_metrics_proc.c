/* Unit suite for core/metrics_proc: the process_* metrics from /proc. */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "metrics.h"
#include "metrics_testlib.h"
#include "testutil.h"
#include "banned.h"

static double proc_value(struct metrics *m, const char *name,
			 enum metric_type type)
{
	struct metric *f = metrics_family(m, name, NULL, type, NULL, NULL, 0);

	ck_assert_msg(f != NULL, "%s not registered", name);
	return metric_value(metric_series(f, NULL));
}

START_TEST(test_process)
{
	struct metrics *m = metrics_new();
	struct rlimit rl;
	double fds, now = (double)time(NULL), start;
	int extra[3];

	metrics_update_process(m); /* before add: no-op */
	assert_render(m, "");
	ck_assert_int_eq(metrics_add_process(m), 0);
	ck_assert_int_eq(metrics_add_process(m), 0); /* idempotent */
	ck_assert_int_eq(metrics_add_process(NULL), CORE_EINVAL);
	ck_assert(proc_value(m, "process_resident_memory_bytes", METRIC_GAUGE) >
		  4096);
	ck_assert(proc_value(m, "process_virtual_memory_bytes", METRIC_GAUGE) >
		  proc_value(m, "process_resident_memory_bytes", METRIC_GAUGE));
	ck_assert(proc_value(m, "process_cpu_seconds_total", METRIC_COUNTER) >=
		  0);
	start = proc_value(m, "process_start_time_seconds", METRIC_GAUGE);
	ck_assert_msg(start > now - 86400 && start <= now + 1,
		      "start %f now %f", start, now);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert(proc_value(m, "process_max_fds", METRIC_GAUGE) ==
		  (double)rl.rlim_cur);
	fds = proc_value(m, "process_open_fds", METRIC_GAUGE);
	ck_assert(fds >= 3);
	for (size_t i = 0; i < CORE_ARRAY_LEN(extra); i++)
		ck_assert_int_ge(extra[i] = open("/dev/null", O_RDONLY), 0);
	metrics_update_process(m);
	ck_assert(proc_value(m, "process_open_fds", METRIC_GAUGE) == fds + 3);
	for (size_t i = 0; i < CORE_ARRAY_LEN(extra); i++)
		close(extra[i]);
	metrics_free(m);
}
END_TEST

START_TEST(test_process_clash)
{
	struct metrics *m = metrics_new();

	ck_assert_ptr_nonnull(metrics_family(m, "process_open_fds", "x",
					     METRIC_COUNTER, NULL, NULL, 0));
	ck_assert_int_eq(metrics_add_process(m), CORE_EEXIST);
	metrics_update_process(m); /* still a no-op */
	metrics_free(m);
}
END_TEST

static Suite *metrics_proc_suite(void)
{
	Suite *s = suite_create("metrics_proc");
	TCase *tc = tcase_create("metrics_proc");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_process);
	tcase_add_test(tc, test_process_clash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(metrics_proc_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
