/*
 * Unit suite for recorder/rollq: the rollover queue keeps a contiguous
 * run of copied updates, restarts at a full push or a hole, trims what
 * the book covers, and makes room by dropping the oldest entries.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "rollq.h"
#include "recorder_samples.h"
#include "banned.h"

/* One update with a bid and an ask whose texts name its ids. */
struct tu {
	char px[2][32], am[2][32];
	struct book_change ch[2];
	struct sync_update u;
};

static const struct sync_update *mku(struct tu *t, uint64_t U, uint64_t u,
				     bool full)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->px[0], sizeof(t->px[0]), "%llu", (unsigned long long)U);
	snprintf(t->am[0], sizeof(t->am[0]), "%llu.5", (unsigned long long)u);
	snprintf(t->px[1], sizeof(t->px[1]), "%llu", (unsigned long long)u);
	snprintf(t->am[1], sizeof(t->am[1]), "0");
	for (int i = 0; i < 2; i++) {
		t->ch[i].price = t->px[i];
		t->ch[i].price_len = strlen(t->px[i]);
		t->ch[i].amount = t->am[i];
		t->ch[i].amount_len = strlen(t->am[i]);
	}
	t->u.first_id = U;
	t->u.has_first = !full;
	t->u.last_id = u;
	t->u.full = full;
	t->u.ts_ms = (int64_t)u;
	t->u.bids = &t->ch[0];
	t->u.nbids = 1;
	t->u.asks = &t->ch[1];
	t->u.nasks = 1;
	return &t->u;
}

static void push(struct rollq *q, uint64_t U, uint64_t u, bool full)
{
	struct tu t;

	ck_assert_int_eq(rollq_push(q, mku(&t, U, u, full)), 0);
}

/* The head is [U, u] with the texts mku wrote. */
static void head_is(struct rollq *q, uint64_t U, uint64_t u)
{
	struct sync_update h;
	struct tu t;

	ck_assert_int_eq(rollq_head(q, &h), 0);
	ck_assert_uint_eq(h.last_id, u);
	mku(&t, U, u, h.full);
	if (!h.full)
		ck_assert_uint_eq(h.first_id, U);
	ck_assert_uint_eq(h.nbids, 1);
	ck_assert_uint_eq(h.nasks, 1);
	ck_assert_uint_eq(h.bids[0].price_len, t.ch[0].price_len);
	ck_assert(memcmp(h.bids[0].price, t.px[0], t.ch[0].price_len) == 0);
	ck_assert(memcmp(h.bids[0].amount, t.am[0], t.ch[0].amount_len) == 0);
	ck_assert(memcmp(h.asks[0].price, t.px[1], t.ch[1].price_len) == 0);
	ck_assert_int_eq(h.ts_ms, (int64_t)u);
}

START_TEST(test_order_and_trim)
{
	struct rollq *q = rollq_new(8, 4096);
	struct sync_update h;

	ck_assert_ptr_nonnull(q);
	ck_assert_int_eq(rollq_head(q, &h), CORE_EAGAIN);
	push(q, 10, 12, false);
	push(q, 13, 15, false);
	push(q, 16, 20, false);
	ck_assert_uint_eq(rollq_count(q), 3);
	head_is(q, 10, 12);
	/* A book at 14 still needs [13, 15]: it bridges. */
	rollq_trim(q, 14);
	ck_assert_uint_eq(rollq_count(q), 2);
	head_is(q, 13, 15);
	rollq_pop(q);
	head_is(q, 16, 20);
	rollq_trim(q, 20);
	ck_assert_uint_eq(rollq_count(q), 0);
	rollq_pop(q); /* empty: nothing */
	rollq_free(q);
}
END_TEST

START_TEST(test_hole_and_full_restart)
{
	struct rollq *q = rollq_new(8, 4096);

	push(q, 10, 12, false);
	push(q, 14, 15, false); /* 13 missing: start over from here */
	ck_assert_uint_eq(rollq_count(q), 1);
	head_is(q, 14, 15);
	push(q, 16, 16, false);
	push(q, 0, 30, true); /* the diffs continue from the full push */
	ck_assert_uint_eq(rollq_count(q), 1);
	head_is(q, 0, 30);
	push(q, 31, 33, false);
	ck_assert_uint_eq(rollq_count(q), 2);
	rollq_clear(q);
	ck_assert_uint_eq(rollq_count(q), 0);
	rollq_free(q);
}
END_TEST

START_TEST(test_room_by_dropping_oldest)
{
	/* Few headers: the oldest go. */
	struct rollq *q = rollq_new(3, 4096);

	for (uint64_t i = 1; i <= 5; i++)
		push(q, i, i, false);
	ck_assert_uint_eq(rollq_count(q), 3);
	head_is(q, 3, 3);
	rollq_free(q);
	/* Little text: entries wrap around the arena and stay intact. */
	q = rollq_new(64, 60);
	for (uint64_t i = 100; i < 400; i++) {
		push(q, i, i, false);
		head_is(q, i - rollq_count(q) + 1, i - rollq_count(q) + 1);
		ck_assert_uint_ge(rollq_count(q), 1);
	}
	rollq_free(q);
}
END_TEST

START_TEST(test_too_big)
{
	struct rollq *q = rollq_new(4, 16);
	struct book_change ch = { "1234567890", 10, "1234567890", 10 };
	struct sync_update u = { .first_id = 5,
				 .last_id = 5,
				 .has_first = true,
				 .bids = &ch,
				 .nbids = 1 };
	char big[300];

	push(q, 1, 1, false);
	ck_assert_int_eq(rollq_push(q, &u), CORE_ETOOBIG);
	ck_assert_uint_eq(rollq_count(q), 0);
	rollq_free(q);
	q = rollq_new(4, 4096);
	memset(big, '1', sizeof(big));
	ch.price = big;
	ch.price_len = sizeof(big);
	ck_assert_int_eq(rollq_push(q, &u), CORE_ETOOBIG);
	rollq_free(q);
	ck_assert_ptr_null(rollq_new(0, 10));
	ck_assert_ptr_null(rollq_new(10, 0));
	rollq_free(NULL);
}
END_TEST

static Suite *rollq_suite(void)
{
	Suite *s = suite_create("recorder_rollq");
	TCase *tc = tcase_create("rollq");

	tcase_add_test(tc, test_order_and_trim);
	tcase_add_test(tc, test_hole_and_full_restart);
	tcase_add_test(tc, test_room_by_dropping_oldest);
	tcase_add_test(tc, test_too_big);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(rollq_suite());
}
