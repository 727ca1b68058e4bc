/* Unit suite for recorder/resolve: the resolver thread and its cache. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "httpd.h"
#include "resolve.h"
#include "wsconn.h"
#include "testutil.h"
#include "banned.h"

static int resolved_calls;
static char resolved_error[128];

static void on_resolved(void *ud, const char *error)
{
	ck_assert_ptr_eq(ud, &resolved_calls);
	resolved_calls++;
	snprintf(resolved_error, sizeof(resolved_error), "%s",
		 error ? error : "");
}

/* Dispatch until `calls` completions arrived or about 30 s passed (a
 * machine without DNS servers times the failing lookup out). */
static void wait_resolved(int calls)
{
	for (int i = 0; i < 3000 && resolved_calls < calls; i++) {
		usleep(10000);
		resolve_dispatch();
	}
	ck_assert_int_eq(resolved_calls, calls);
}

START_TEST(test_resolve)
{
	char addr[RESOLVE_ADDR_MAX];

	/* Not running: names pass through (lws resolves them itself). */
	ck_assert_int_eq(resolve_cached("localhost", addr, sizeof(addr)), 0);
	ck_assert_str_eq(addr, "localhost");
	ck_assert_int_eq(resolve_async("localhost", on_resolved, NULL),
			 CORE_EINVAL);
	ck_assert_int_eq(resolve_init(NULL), 0);
	/* Numbers need no lookup. */
	ck_assert_int_eq(resolve_cached("127.0.0.1", addr, sizeof(addr)), 0);
	ck_assert_str_eq(addr, "127.0.0.1");
	ck_assert_int_eq(resolve_cached("::1", addr, sizeof(addr)), 0);
	ck_assert_int_eq(resolve_cached("127.0.0.1", addr, 4), CORE_ETOOBIG);
	/* A name: not known, then looked up off this thread, then cached. */
	ck_assert_int_eq(resolve_cached("localhost", addr, sizeof(addr)),
			 CORE_EAGAIN);
	resolved_calls = 0;
	ck_assert_int_eq(
		resolve_async("localhost", on_resolved, &resolved_calls), 0);
	ck_assert_int_eq(resolved_calls, 0); /* never from inside the call */
	wait_resolved(1);
	ck_assert_str_eq(resolved_error, "");
	ck_assert_int_eq(resolve_cached("localhost", addr, sizeof(addr)), 0);
	ck_assert(strcmp(addr, "127.0.0.1") == 0 || strcmp(addr, "::1") == 0);
	/* A cancelled waiter is never called. */
	ck_assert_int_eq(
		resolve_async("localhost", on_resolved, &resolved_calls), 0);
	resolve_cancel(&resolved_calls);
	for (int i = 0; i < 50; i++) {
		usleep(10000);
		resolve_dispatch();
	}
	ck_assert_int_eq(resolved_calls, 1);
	/* A name that cannot resolve reports an error. */
	ck_assert_int_eq(resolve_async("no-such-host.invalid", on_resolved,
				       &resolved_calls),
			 0);
	wait_resolved(2);
	ck_assert_str_ne(resolved_error, "");
	ck_assert_int_eq(resolve_cached("no-such-host.invalid", addr,
					sizeof(addr)),
			 CORE_EAGAIN);
	/* Pending waiters are dropped, not called, at shutdown. */
	ck_assert_int_eq(
		resolve_async("localhost", on_resolved, &resolved_calls), 0);
	resolve_shutdown();
	resolve_dispatch();
	ck_assert_int_eq(resolved_calls, 2);
	ck_assert_int_eq(resolve_cached("localhost", addr, sizeof(addr)), 0);
	ck_assert_str_eq(addr, "localhost");
}
END_TEST

static Suite *recorder_resolve_suite(void)
{
	Suite *s = suite_create("recorder_resolve");
	TCase *tc = tcase_create("recorder_resolve");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_resolve);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_resolve_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
