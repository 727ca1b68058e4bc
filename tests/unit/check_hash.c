/* Unit suite for core/hash: FNV-1a 64 reference values, incremental
 * hashing, and slots that stay inside the table and spread. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_reference_values)
{
	/* The published FNV-1a 64-bit test vectors. */
	ck_assert_uint_eq(hash_add(HASH_INIT, "", 0), 0xcbf29ce484222325u);
	ck_assert_uint_eq(hash_add(HASH_INIT, "a", 1), 0xaf63dc4c8601ec8cu);
	ck_assert_uint_eq(hash_add(HASH_INIT, "foobar", 6),
			  0x85944171f73967e8u);
	/* In pieces, the same as at once. */
	ck_assert_uint_eq(hash_add(hash_add(HASH_INIT, "foo", 3), "bar", 3),
			  hash_add(HASH_INIT, "foobar", 6));
}
END_TEST

START_TEST(test_slots_spread)
{
	/* Symbols that differ in one digit, as a thousand pairs do: every
	 * slot of a 2048 table in range, and no slot holds many. */
	enum { N = 1000, CAP = 2048 };
	static unsigned count[CAP];
	unsigned most = 0;
	char sym[32];

	for (int i = 0; i < N; i++) {
		size_t k;

		snprintf(sym, sizeof(sym), "P%04d_USDT", i);
		k = hash_slot(hash_add(HASH_INIT, sym, strlen(sym)), CAP - 1);
		ck_assert_uint_lt(k, CAP);
		if (++count[k] > most)
			most = count[k];
	}
	ck_assert_uint_le(most, 6);
}
END_TEST

static Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("hash");

	tcase_set_timeout(tc, 10 * tu_timeout_mult());
	tcase_add_test(tc, test_reference_values);
	tcase_add_test(tc, test_slots_spread);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hash_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
