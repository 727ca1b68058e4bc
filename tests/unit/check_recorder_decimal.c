/* Unit suite for recorder/decimal: validation, exact ordering, zero test. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "recorder_samples.h"
#include "banned.h"

static bool valid(const char *s)
{
	return decimal_valid(s, strlen(s));
}

static int cmp(const char *a, const char *b)
{
	return decimal_cmp(a, strlen(a), b, strlen(b));
}

START_TEST(test_valid)
{
	static const char *const good[] = {
		"0",	     "5",	   "0.0018734",
		"12.50",     "0.00000000", "007",
		"115198.74", "1.151",	   "99999999999999999999999999.9",
	};
	static const char *const bad[] = {
		"",	  ".",	  "1.",	 ".5",	"-1",	 "+1",
		"1.2e-5", "1e5",  "1,5", " 1",	"1 ",	 "1..2",
		"1.2.3",  "0x10", "NaN", "inf", "1_000", "\xd9\xa1",
	};

	for (size_t i = 0; i < CORE_ARRAY_LEN(good); i++)
		ck_assert_msg(valid(good[i]), "rejected '%s'", good[i]);
	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++)
		ck_assert_msg(!valid(bad[i]), "accepted '%s'", bad[i]);
	/* Only the given span counts. */
	ck_assert(decimal_valid("1.5x", 3));
	ck_assert(!decimal_valid("1.5x", 4));
	ck_assert(!decimal_valid("1.5", 2));
}
END_TEST

START_TEST(test_compare)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
		{ "0.00001234", "0.0000123", 1 },
		{ "0.00001234", "0.00001234000", 0 },
		{ "1.5", "01.50", 0 },
		{ "0", "0.000", 0 },
		{ "000", "0", 0 },
		{ "10", "9.99999999", 1 },
		{ "9", "10", -1 },
		{ "100", "99", 1 },
		{ "0.1", "0.09", 1 },
		{ "0.0018734", "0.0018735", -1 },
		{ "0.001873", "0.0018734", -1 },
		{ "1", "1.0000000001", -1 },
		{ "104027.2", "104027.1", 1 },
		{ "104027", "104027.0", 0 },
		{ "7.927", "7.93", -1 },
		{ "123456789012345678901234567890",
		  "123456789012345678901234567891", -1 },
		{ "0.0000005", "0.00000050", 0 },
	};

	for (size_t i = 0; i < CORE_ARRAY_LEN(cases); i++) {
		int got = cmp(cases[i].a, cases[i].b);
		int rev = cmp(cases[i].b, cases[i].a);

		ck_assert_msg(got == cases[i].want, "%s vs %s: %d", cases[i].a,
			      cases[i].b, got);
		ck_assert_msg(rev == -cases[i].want, "%s vs %s reversed: %d",
			      cases[i].b, cases[i].a, rev);
	}
}
END_TEST

/* Ordering agrees with integer arithmetic on many scaled values. */
START_TEST(test_compare_exhaustive)
{
	char a[32], b[32];
	struct decimal_parts pa, pb;

	for (int x = 0; x < 3000; x += 7) {
		for (int y = 0; y < 3000; y += 13) {
			int want = x < y ? -1 : x > y;
			size_t n;

			/* x/100 with a trailing zero, y/100 in shortest form.
			 */
			snprintf(a, sizeof(a), "%d.%02d0", x / 100, x % 100);
			snprintf(b, sizeof(b), "%d.%02d", y / 100, y % 100);
			n = strlen(b);
			while (b[n - 1] == '0')
				b[--n] = '\0';
			if (b[n - 1] == '.')
				b[--n] = '\0';
			ck_assert_msg(cmp(a, b) == want, "%s vs %s", a, b);
			ck_assert_msg(cmp(b, a) == -want, "%s vs %s", b, a);
			ck_assert(decimal_split(a, strlen(a), &pa));
			ck_assert(decimal_split(b, strlen(b), &pb));
			ck_assert_int_eq(decimal_cmp_parts(a, &pa, b, &pb),
					 want);
		}
	}
}
END_TEST

START_TEST(test_split)
{
	struct decimal_parts p;
	char big[300];

	ck_assert(decimal_split("007.2500", 8, &p));
	ck_assert_uint_eq(p.ioff, 2);
	ck_assert_uint_eq(p.ilen, 1);
	ck_assert_uint_eq(p.flen, 2);
	ck_assert(decimal_split("0.000", 5, &p));
	ck_assert_uint_eq(p.ilen, 0);
	ck_assert_uint_eq(p.flen, 0);
	memset(big, '1', sizeof(big));
	ck_assert(!decimal_split(big, 256, &p));
	/* Long values still compare exactly without the split form. */
	ck_assert_int_eq(decimal_cmp(big, 300, big, 299), 1);
	big[150] = '.';
	ck_assert_int_eq(decimal_cmp(big, 300, big, 299), 1);
	ck_assert_int_eq(decimal_cmp(big, 299, big, 300), -1);
}
END_TEST

/* decimal_key() agrees with decimal_valid() and decimal_cmp(). */
START_TEST(test_key)
{
	static const char *const v[] = {
		"0",
		"00",
		"0.0",
		"1",
		"1.",
		".1",
		"1..2",
		"1.2.3",
		"",
		"a",
		"1.50",
		"1.5",
		"001.5",
		"0.0000000000000000001",
		"0.00000000000000000001",
		"18446744073709551615",
		"18446744073709551616",
		"1844674407370955161.5",
		"99999999999999999999",
		"0.1234567890123456789",
		"1234567890.123456789",
		"1234567890.1234567891",
		"7",
		"-1",
	};
	size_t n = sizeof(v) / sizeof(v[0]);
	uint64_t m[32];
	uint8_t f[32];
	int k[32];

	for (size_t i = 0; i < n; i++) {
		k[i] = decimal_key(v[i], strlen(v[i]), &m[i], &f[i]);
		ck_assert_msg((k[i] >= 0) == decimal_valid(v[i], strlen(v[i])),
			      "%s", v[i]);
	}
	ck_assert_int_eq(k[13], 1);
	ck_assert_int_eq(k[14], 0);
	ck_assert_int_eq(k[15], 1);
	ck_assert_int_eq(k[16], 0);
	ck_assert_int_eq(k[18], 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (k[i] == 1 && k[j] == 1)
				ck_assert_msg(decimal_key_cmp(m[i], f[i], m[j],
							      f[j]) ==
						      cmp(v[i], v[j]),
					      "%s vs %s", v[i], v[j]);
}
END_TEST

/* decimal_key() on random digit-and-dot text of 0 to 26 characters (its
 * fast path takes up to 19 digits) against the rule: valid as
 * decimal_valid() says, a key when the digits fit 64 bits and at most
 * 19 follow the dot. */
START_TEST(test_key_random)
{
	static const char alpha[] = "0123456789012345678901234567890.";
	uint32_t r = 12345;
	char v[32];

	for (int t = 0; t < 300000; t++) {
		size_t len, nfrac = 0;
		unsigned __int128 want = 0;
		int dot = 0, k, want_k;
		uint64_t m = 0;
		uint8_t f = 0;

		r = r * 1103515245u + 12345u;
		len = (r >> 16) % 27;
		for (size_t i = 0; i < len; i++) {
			r = r * 1103515245u + 12345u;
			/* Mostly digits, now and then a dot or a letter. */
			v[i] = (r >> 16) % 97 == 0 ? 'x'
						   : alpha[(r >> 16) % 32];
		}
		v[len] = '\0';
		k = decimal_key(v, len, &m, &f);
		ck_assert_msg((k >= 0) == decimal_valid(v, len), "%s", v);
		if (k < 0)
			continue;
		for (size_t i = 0; i < len; i++) {
			if (v[i] == '.') {
				dot = 1;
				continue;
			}
			nfrac += dot;
			if (want <= UINT64_MAX)
				want = want * 10 + (unsigned)(v[i] - '0');
		}
		want_k = want <= UINT64_MAX && nfrac <= 19;
		ck_assert_msg(k == want_k, "%s: %d", v, k);
		if (k == 1) {
			ck_assert_msg(m == (uint64_t)want, "%s", v);
			ck_assert_uint_eq(f, nfrac);
		}
	}
}
END_TEST

START_TEST(test_is_zero)
{
	ck_assert(decimal_is_zero("0", 1));
	ck_assert(decimal_is_zero("0.00000000", 10));
	ck_assert(decimal_is_zero("000.0", 5));
	ck_assert(!decimal_is_zero("0.00000001", 10));
	ck_assert(!decimal_is_zero("10", 2));
	ck_assert(!decimal_is_zero("0.1", 3));
}
END_TEST

static Suite *decimal_suite(void)
{
	Suite *s = suite_create("recorder_decimal");
	TCase *tc = tcase_create("decimal");

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_compare);
	tcase_add_test(tc, test_compare_exhaustive);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_is_zero);
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_key_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(decimal_suite());
}
