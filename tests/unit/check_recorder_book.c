/* Unit suite for recorder/book: ordering, updates, capacity, crossing. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "recorder_samples.h"
#include "banned.h"

static int set(struct book *b, enum book_side side, const char *p,
	       const char *a)
{
	return book_set(b, side, p, strlen(p), a, strlen(a));
}

static const char *price_at(const struct book *b, enum book_side side, size_t i)
{
	const struct book_level *l = book_level(b, side, i);

	return l != NULL ? l->price : NULL;
}

START_TEST(test_order)
{
	struct book *b = book_new(10);
	static const char *const prices[] = { "7.9", "7.95", "7.899",
					      "8",   "7.0",  "10" };

	ck_assert_ptr_nonnull(b);
	for (size_t i = 0; i < CORE_ARRAY_LEN(prices); i++) {
		ck_assert_int_eq(set(b, BOOK_BID, prices[i], "1"),
				 BOOK_INSERTED);
		ck_assert_int_eq(set(b, BOOK_ASK, prices[i], "2"),
				 BOOK_INSERTED);
	}
	ck_assert_uint_eq(book_count(b, BOOK_BID), 6);
	ck_assert_str_eq(price_at(b, BOOK_BID, 0), "10");
	ck_assert_str_eq(price_at(b, BOOK_BID, 1), "8");
	ck_assert_str_eq(price_at(b, BOOK_BID, 2), "7.95");
	ck_assert_str_eq(price_at(b, BOOK_BID, 5), "7.0");
	ck_assert_str_eq(price_at(b, BOOK_ASK, 0), "7.0");
	ck_assert_str_eq(price_at(b, BOOK_ASK, 1), "7.899");
	ck_assert_str_eq(price_at(b, BOOK_ASK, 5), "10");
	ck_assert_ptr_null(book_level(b, BOOK_ASK, 6));
	ck_assert_int_eq(book_check(b), 0);
	book_free(b);
}
END_TEST

START_TEST(test_update_delete)
{
	struct book *b = book_new(10);
	const struct book_level *l;

	ck_assert_int_eq(set(b, BOOK_BID, "1.5", "3"), BOOK_INSERTED);
	/* Same price, other spelling: an update, the first text stays. */
	ck_assert_int_eq(set(b, BOOK_BID, "01.50", "4.25"), BOOK_UPDATED);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 1);
	l = book_level(b, BOOK_BID, 0);
	ck_assert_str_eq(l->price, "1.5");
	ck_assert_str_eq(l->amount, "4.25");
	ck_assert_uint_eq(l->price_len, 3);
	ck_assert_uint_eq(l->amount_len, 4);
	ck_assert_int_eq(set(b, BOOK_BID, "1.4", "0"), BOOK_NOOP);
	ck_assert_int_eq(set(b, BOOK_BID, "1.500", "0.00000000"), BOOK_DELETED);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 0);
	ck_assert_int_eq(set(b, BOOK_ASK, "2", "1"), BOOK_INSERTED);
	book_clear(b);
	ck_assert_uint_eq(book_count(b, BOOK_ASK), 0);
	ck_assert_int_eq(book_check(b), 0);
	book_free(b);
}
END_TEST

START_TEST(test_invalid)
{
	struct book *b = book_new(5);
	char longp[BOOK_TEXT_MAX + 1];

	memset(longp, '1', BOOK_TEXT_MAX);
	longp[BOOK_TEXT_MAX] = '\0';
	ck_assert_int_eq(set(b, BOOK_BID, "1.2e-5", "1"), CORE_EPARSE);
	ck_assert_int_eq(set(b, BOOK_BID, "1", "-1"), CORE_EPARSE);
	ck_assert_int_eq(set(b, BOOK_BID, "", "1"), CORE_EPARSE);
	ck_assert_int_eq(set(b, BOOK_BID, longp, "1"), CORE_ETOOBIG);
	ck_assert_int_eq(set(b, BOOK_ASK, "1", longp), CORE_ETOOBIG);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 0);
	/* 31 bytes is the longest text that fits. */
	longp[BOOK_TEXT_MAX - 1] = '\0';
	ck_assert_int_eq(set(b, BOOK_ASK, longp, longp), BOOK_INSERTED);
	ck_assert_str_eq(price_at(b, BOOK_ASK, 0), longp);
	ck_assert_ptr_null(book_new(0));
	ck_assert_ptr_null(book_new(BOOK_MAX_DEPTH + 1));
	book_free(b);
	book_free(NULL);
}
END_TEST

START_TEST(test_capacity_trim)
{
	struct book *b = book_new(4);
	char p[16];

	/* Fill far beyond depth + slack, best prices last: nothing lost. */
	for (int i = 1; i <= 100; i++) {
		snprintf(p, sizeof(p), "%d", i);
		ck_assert_int_ge(set(b, BOOK_BID, p, "1"), 0);
	}
	ck_assert_uint_eq(book_count(b, BOOK_BID), 100);
	ck_assert_str_eq(price_at(b, BOOK_BID, 0), "100");
	/* A price worse than everything is kept until the trim too. */
	ck_assert_int_eq(set(b, BOOK_BID, "0.5", "1"), BOOK_INSERTED);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 101);
	ck_assert_int_eq(book_check(b), 0);
	ck_assert_uint_eq(book_trim(b), 97);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 4);
	ck_assert_str_eq(price_at(b, BOOK_BID, 3), "97");
	ck_assert_uint_eq(book_trim(b), 0);
	ck_assert_uint_eq(book_depth_limit(b), 4);
	ck_assert_int_eq(book_check(b), 0);
	/* The grown side keeps working after a clear. */
	book_clear(b);
	for (int i = 1; i <= 300; i++) {
		snprintf(p, sizeof(p), "%d", i);
		ck_assert_int_ge(set(b, BOOK_BID, p, "1"), 0);
	}
	ck_assert_uint_eq(book_count(b, BOOK_BID), 300);
	ck_assert_int_eq(book_check(b), 0);
	book_free(b);
}
END_TEST

/*
 * A sweep inside one message, deletes listed after the inserts that
 * refill the window from below (Gate's level arrays are not sorted): the
 * levels that enter must survive until the deletes make room for them.
 */
START_TEST(test_sweep_inserts_before_deletes)
{
	struct book *b = book_new(10);
	char p[16];

	for (int i = 100; i > 90; i--) {
		snprintf(p, sizeof(p), "%d", i);
		ck_assert_int_eq(set(b, BOOK_BID, p, "1"), BOOK_INSERTED);
	}
	for (int i = 90; i > 60; i--) {
		snprintf(p, sizeof(p), "%d", i);
		ck_assert_int_eq(set(b, BOOK_BID, p, "2"), BOOK_INSERTED);
	}
	for (int i = 100; i > 90; i--) {
		snprintf(p, sizeof(p), "%d", i);
		ck_assert_int_eq(set(b, BOOK_BID, p, "0"), BOOK_DELETED);
	}
	book_trim(b);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 10);
	ck_assert_str_eq(price_at(b, BOOK_BID, 0), "90");
	ck_assert_str_eq(price_at(b, BOOK_BID, 9), "81");
	ck_assert_int_eq(book_check(b), 0);
	book_free(b);
}
END_TEST

START_TEST(test_crossed)
{
	struct book *b = book_new(5);

	ck_assert(!book_crossed(b));
	set(b, BOOK_BID, "10", "1");
	ck_assert(!book_crossed(b));
	set(b, BOOK_ASK, "10.01", "1");
	ck_assert(!book_crossed(b));
	set(b, BOOK_ASK, "10.00", "1");
	ck_assert(book_crossed(b)); /* locked counts as crossed */
	set(b, BOOK_ASK, "10", "0");
	ck_assert(!book_crossed(b));
	set(b, BOOK_BID, "10.02", "1");
	ck_assert(book_crossed(b));
	book_free(b);
}
END_TEST

/*
 * Random operations against a reference that orders prices as integers
 * (ticks of 0.001), written in varying decimal spellings.
 */
#define TICKS 3000
static void spell(int tick, unsigned r, char *out, size_t size)
{
	switch (r % 4) {
	case 3: /* too many digits for an integer key: the text path */
		snprintf(out, size, "%d.%03d0000000000000000000", tick / 1000,
			 tick % 1000);
		break;
	case 0:
		snprintf(out, size, "%d.%03d", tick / 1000, tick % 1000);
		break;
	case 1:
		snprintf(out, size, "%d.%03d000", tick / 1000, tick % 1000);
		break;
	default:
		snprintf(out, size, "00%d.%03d", tick / 1000, tick % 1000);
		break;
	}
}

/* Parse "I.FFF[000]" back to ticks. */
static int tick_of(const char *p)
{
	char *end;
	long ip = strtol(p, &end, 10);

	ck_assert(*end == '.');
	ck_assert(strlen(end + 1) >= 3);
	return (int)ip * 1000 + (end[1] - '0') * 100 + (end[2] - '0') * 10 +
	       (end[3] - '0');
}

static void compare_ref(const struct book *b, enum book_side side,
			const int *ref)
{
	size_t k = 0;

	for (int i = 0; i < TICKS; i++) {
		int tick = side == BOOK_ASK ? i : TICKS - 1 - i;
		const struct book_level *l;
		char want[32];

		if (ref[tick] == 0)
			continue;
		l = book_level(b, side, k++);
		ck_assert_ptr_nonnull(l);
		snprintf(want, sizeof(want), "%d", ref[tick]);
		ck_assert_str_eq(l->amount, want);
		ck_assert_int_eq(tick_of(l->price), tick);
	}
	ck_assert_uint_eq(book_count(b, side), k);
}

START_TEST(test_random_vs_reference)
{
	static int ref[2][TICKS];
	struct book *b = book_new(BOOK_MAX_DEPTH);
	unsigned seed = 12345;

	memset(ref, 0, sizeof(ref));
	for (int op = 0; op < 50000; op++) {
		int side, tick, amt;
		char p[32], a[16];

		seed = seed * 1103515245u + 12345u;
		side = (int)((seed >> 16) & 1);
		tick = (int)((seed >> 4) % TICKS);
		amt = (int)((seed >> 20) % 4); /* a quarter are deletes */
		spell(tick, seed >> 8, p, sizeof(p));
		snprintf(a, sizeof(a), amt ? "%d" : "0.000", amt);
		ck_assert_int_ge(set(b, (enum book_side)side, p, a), 0);
		ref[side][tick] = amt;
		if (op % 1000 == 0) {
			ck_assert_int_eq(book_check(b), 0);
			compare_ref(b, BOOK_BID, ref[BOOK_BID]);
			compare_ref(b, BOOK_ASK, ref[BOOK_ASK]);
		}
	}
	compare_ref(b, BOOK_BID, ref[BOOK_BID]);
	compare_ref(b, BOOK_ASK, ref[BOOK_ASK]);
	book_free(b);
}
END_TEST

/*
 * Levels that do not fit a slot: prices with more digits than an integer
 * key holds, amounts longer than a slot's text. They order and render
 * exactly like the others, and a level keeps its first price spelling.
 */
START_TEST(test_long_levels)
{
	struct book *b = book_new(10);
	const char *big = "12345678901234567890.123456";

	ck_assert_int_eq(set(b, BOOK_BID, "1.5", "1"), BOOK_INSERTED);
	ck_assert_int_eq(set(b, BOOK_BID, "1.50000000000000000000000", "2"),
			 BOOK_UPDATED);
	ck_assert_int_eq(set(b, BOOK_BID, "2.000000000000000000000001", "3"),
			 BOOK_INSERTED);
	ck_assert_int_eq(set(b, BOOK_BID, "1.75", big), BOOK_INSERTED);
	ck_assert_int_eq(set(b, BOOK_BID, "007.25", "5"), BOOK_INSERTED);
	ck_assert_int_eq(book_check(b), 0);
	ck_assert_str_eq(price_at(b, BOOK_BID, 0), "007.25");
	ck_assert_str_eq(price_at(b, BOOK_BID, 1),
			 "2.000000000000000000000001");
	ck_assert_str_eq(price_at(b, BOOK_BID, 2), "1.75");
	ck_assert_str_eq(book_level(b, BOOK_BID, 2)->amount, big);
	ck_assert_str_eq(price_at(b, BOOK_BID, 3), "1.5");
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->amount, "2");
	/* An inline level that gets a long amount, and back. */
	ck_assert_int_eq(set(b, BOOK_BID, "1.5", big), BOOK_UPDATED);
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->amount, big);
	ck_assert_str_eq(price_at(b, BOOK_BID, 3), "1.5");
	ck_assert_int_eq(set(b, BOOK_BID, "1.5", "7"), BOOK_UPDATED);
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->amount, "7");
	/* Leading and trailing zeros are the exchange's: kept. */
	ck_assert_int_eq(set(b, BOOK_BID, "1.5", "00.0700"), BOOK_UPDATED);
	ck_assert_str_eq(book_level(b, BOOK_BID, 3)->amount, "00.0700");
	ck_assert_int_eq(set(b, BOOK_BID, "1.5", "7"), BOOK_UPDATED);
	ck_assert_int_eq(set(b, BOOK_BID, "2.000000000000000000000001", "0"),
			 BOOK_DELETED);
	ck_assert_uint_eq(book_count(b, BOOK_BID), 3);
	/* Crossing decided across a keyed and an unkeyed price. */
	ck_assert_int_eq(set(b, BOOK_ASK, "7.2500000000000000000001", "1"),
			 BOOK_INSERTED);
	ck_assert(!book_crossed(b));
	ck_assert_int_eq(set(b, BOOK_ASK, "7.25000000000000000000000", "1"),
			 BOOK_INSERTED);
	ck_assert(book_crossed(b));
	ck_assert_int_eq(book_check(b), 0);
	/* Trimming frees long levels for reuse. */
	for (int i = 0; i < 40; i++) {
		char p[40];

		snprintf(p, sizeof(p), "%d.000000000000000000000001", 100 + i);
		ck_assert_int_ge(set(b, BOOK_BID, p, big), 0);
		book_trim(b);
		ck_assert_int_eq(book_check(b), 0);
	}
	ck_assert_uint_eq(book_count(b, BOOK_BID), 10);
	book_free(b);
}
END_TEST

static Suite *book_suite(void)
{
	Suite *s = suite_create("recorder_book");
	TCase *tc = tcase_create("book");

	tcase_add_test(tc, test_order);
	tcase_add_test(tc, test_update_delete);
	tcase_add_test(tc, test_invalid);
	tcase_add_test(tc, test_capacity_trim);
	tcase_add_test(tc, test_sweep_inserts_before_deletes);
	tcase_add_test(tc, test_crossed);
	tcase_add_test(tc, test_random_vs_reference);
	tcase_add_test(tc, test_long_levels);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(book_suite());
}
