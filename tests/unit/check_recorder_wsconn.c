/* Unit suite for recorder/wsconn: the reconnect backoff. */
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

START_TEST(test_backoff)
{
	unsigned prev_max = 0;

	/* Attempt n waits base*2^n within ±25 %, capped at 30 s. */
	for (unsigned n = 0; n < 20; n++) {
		unsigned nominal = 500u << (n < 6 ? n : 6);
		unsigned lo, hi;

		if (nominal > 30000)
			nominal = 30000;
		lo = wsconn_backoff_ms(n, 0);
		hi = wsconn_backoff_ms(n, UINT32_MAX - 1);
		ck_assert_uint_ge(lo, nominal - nominal / 4);
		ck_assert_uint_le(hi, nominal + nominal / 4);
		ck_assert_uint_le(hi, 37500);
		for (uint32_t r = 0; r < 1000; r += 7) {
			unsigned v = wsconn_backoff_ms(n, r * 2654435761u);

			ck_assert_uint_ge(v, lo);
			ck_assert_uint_le(v, nominal + nominal / 4);
		}
		ck_assert_uint_ge(hi, prev_max / 2);
		prev_max = hi;
	}
	/* Jitter really varies. */
	ck_assert_uint_ne(wsconn_backoff_ms(3, 1), wsconn_backoff_ms(3, 999));
}
END_TEST

static Suite *recorder_wsconn_suite(void)
{
	Suite *s = suite_create("recorder_wsconn");
	TCase *tc = tcase_create("recorder_wsconn");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_backoff);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_wsconn_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
