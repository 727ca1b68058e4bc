/* Unit suite for core/buf: growth, limits, sticky errors, detach, arrays. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_add_and_str)
{
	struct buf b;

	buf_init(&b, 0);
	ck_assert_ptr_null(buf_ptr(&b));
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_addstr(&b, "abc"), 0);
	ck_assert_int_eq(buf_addch(&b, '-'), 0);
	ck_assert_int_eq(buf_add(&b, "xyz", 2), 0);
	ck_assert_int_eq(buf_printf(&b, "%d:%s", 42, "q"), 0);
	ck_assert_str_eq(buf_str(&b), "abc-xy42:q");
	ck_assert_uint_eq(buf_len(&b), 10);
	buf_truncate(&b, 3);
	ck_assert_str_eq(buf_str(&b), "abc");
	buf_truncate(&b, 30);
	ck_assert_uint_eq(buf_len(&b), 3);
	buf_consume(&b, 1);
	ck_assert_str_eq(buf_str(&b), "bc");
	buf_consume(&b, 0);
	ck_assert_str_eq(buf_str(&b), "bc");
	buf_consume(&b, 5);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_uint_eq(buf_len(&b), 0);
	buf_reset(&b);
	ck_assert_str_eq(buf_str(&b), "");
	buf_release(&b);
	buf_release(NULL);
}
END_TEST

START_TEST(test_growth_keeps_bytes)
{
	struct buf b;
	char line[100];

	buf_init(&b, 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof(line), "%05d,", i);
		ck_assert_int_eq(buf_addstr(&b, line), 0);
	}
	ck_assert_uint_eq(buf_len(&b), 5000 * 6);
	ck_assert_int_eq(strncmp(buf_str(&b) + 6 * 4321, "04321,", 6), 0);
	/* A long printf that does not fit the first try. */
	buf_reset(&b);
	ck_assert_int_eq(buf_printf(&b, "%2000s|", "x"), 0);
	ck_assert_uint_eq(buf_len(&b), 2001);
	ck_assert_int_eq(buf_str(&b)[2000], '|');
	buf_release(&b);
}
END_TEST

START_TEST(test_max_is_hard_and_sticky)
{
	struct buf b;

	buf_init(&b, 8);
	ck_assert_int_eq(buf_addstr(&b, "12345678"), 0);
	ck_assert_int_eq(buf_addch(&b, '9'), CORE_ETOOBIG);
	ck_assert_int_eq(buf_error(&b), CORE_ETOOBIG);
	/* Sticky: even an empty add fails now, and nothing changed. */
	ck_assert_int_eq(buf_add(&b, "", 0), CORE_ETOOBIG);
	ck_assert_str_eq(buf_str(&b), "12345678");
	ck_assert_ptr_null(buf_detach(&b, NULL));
	ck_assert_uint_eq(buf_len(&b), 0);
	ck_assert_int_eq(buf_error(&b), 0);

	buf_init(&b, 8);
	ck_assert_int_eq(buf_printf(&b, "%s", "123456789"), CORE_ETOOBIG);
	ck_assert_str_eq(buf_str(&b), "");
	buf_reset(&b);
	ck_assert_int_eq(buf_error(&b), 0);
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), CORE_ETOOBIG);
	buf_release(&b);
}
END_TEST

START_TEST(test_reserve_commit)
{
	struct buf b;

	buf_init(&b, 100);
	ck_assert_int_eq(buf_reserve(&b, 10), 0);
	memcpy(buf_tail(&b), "0123456789", 10);
	buf_commit(&b, 10);
	ck_assert_str_eq(buf_str(&b), "0123456789");
	ck_assert_int_eq(buf_reserve(&b, 90), 0);
	ck_assert_int_eq(buf_reserve(&b, 91), CORE_ETOOBIG);
	buf_release(&b);
}
END_TEST

START_TEST(test_detach)
{
	struct buf b;
	size_t len = 99;
	char *s;

	buf_init(&b, 0);
	s = buf_detach(&b, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	buf_addstr(&b, "hello");
	s = buf_detach(&b, &len);
	ck_assert_str_eq(s, "hello");
	ck_assert_uint_eq(len, 5);
	ck_assert_ptr_null(buf_ptr(&b));
	free(s);
}
END_TEST

START_TEST(test_grow_array)
{
	int *v = NULL;
	size_t cap = 0;

	ck_assert_int_eq(BUF_GROW(v, cap, 1), 0);
	ck_assert_uint_eq(cap, BUF_MIN_CAP);
	ck_assert_int_eq(BUF_GROW(v, cap, BUF_MIN_CAP), 0);
	ck_assert_uint_eq(cap, BUF_MIN_CAP);
	ck_assert_int_eq(BUF_GROW(v, cap, BUF_MIN_CAP + 1), 0);
	ck_assert_uint_eq(cap, 2 * BUF_MIN_CAP);
	ck_assert_int_eq(BUF_GROW(v, cap, 1000), 0);
	ck_assert_uint_ge(cap, 1000);
	for (int i = 0; i < 1000; i++)
		v[i] = i;
	ck_assert_int_eq(BUF_GROW(v, cap, SIZE_MAX / 2), CORE_ETOOBIG);
	ck_assert_int_eq(v[999], 999);
	ck_assert_int_eq(BUF_GROW_MAX(v, cap, 2000, 1500), CORE_ETOOBIG);
	ck_assert_int_eq(BUF_GROW_MAX(v, cap, 1500, 1500), 0);
	ck_assert_uint_eq(cap, 1500);
	free(v);
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_add_and_str);
	tcase_add_test(tc, test_growth_keeps_bytes);
	tcase_add_test(tc, test_max_is_hard_and_sticky);
	tcase_add_test(tc, test_reserve_commit);
	tcase_add_test(tc, test_detach);
	tcase_add_test(tc, test_grow_array);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(buf_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
