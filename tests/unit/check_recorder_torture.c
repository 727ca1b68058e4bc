/*
 * Allocation-failure torture of the recorder's sync and book
 * (tests/torture.h): a new sync, a deep snapshot that makes the book grow,
 * and diffs on top. The core modules are check_torture.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "core.h"
#include "sync.h"
#include "testutil.h"
#include "torture.h"

#define LEVELS 100

static char prices[2][LEVELS][16];
static struct book_change levels[2][LEVELS];
static size_t rows;

static void on_row(void *ctx, const struct sync_row *r)
{
	(void)ctx;
	(void)r;
	rows++;
}

static void make_levels(void)
{
	for (int side = 0; side < 2; side++)
		for (int i = 0; i < LEVELS; i++) {
			int n = snprintf(prices[side][i], sizeof(prices[0][0]),
					 "%d", side == 0 ? 1000 - i : 1001 + i);

			levels[side][i] = (struct book_change){
				.price = prices[side][i],
				.price_len = (size_t)n,
				.amount = "1.5",
				.amount_len = 3,
			};
		}
}

/* Subscribe, bridge a snapshot of LEVELS levels a side, apply a diff. */
static int sync_scenario(struct sync **out)
{
	struct sync_cfg cfg = { .window = 20 };
	struct sync_cbs cbs = { .row = on_row };
	struct book_change diff = { "999.5", 5, "2", 1 };
	struct sync_snapshot snap = { .id = 10,
				      .ts_ms = 1600000000000,
				      .bids = levels[0],
				      .nbids = LEVELS,
				      .asks = levels[1],
				      .nasks = LEVELS };
	struct sync_update u = { .first_id = 11,
				 .last_id = 11,
				 .has_first = true,
				 .bids = &diff,
				 .nbids = 1 };
	struct sync *s = sync_new("BTC_USDT", SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	int rc;

	*out = s;
	if (s == NULL)
		return CORE_ENOMEM;
	sync_on_subscribed(s, 1);
	if ((rc = sync_on_snapshot(s, &snap, 2)) != 0)
		return rc;
	if (!sync_synced(s))
		return CORE_EAGAIN; /* the snapshot met the failure */
	return sync_on_update(s, &u, 3);
}

static int run_sync(void *arg)
{
	struct sync *s = NULL;
	int rc;

	(void)arg;
	rows = 0;
	ARMED(rc = sync_scenario(&s));
	if (rc == 0 && !TORTURE_HIT()) {
		const struct book_level *l =
			book_level(sync_book(s), BOOK_BID, 0);

		ck_assert(sync_synced(s));
		ck_assert_ptr_nonnull(l);
		ck_assert_str_eq(l->price, "1000");
		ck_assert_uint_eq(sync_last_id(s), 11);
		ck_assert_uint_gt(rows, 0);
	}
	sync_free(s);
	return rc;
}

START_TEST(test_sync)
{
	make_levels();
	ck_assert_int_gt(torture(run_sync, NULL), 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recorder_torture");
	TCase *tc = tcase_create("enomem");
	SRunner *sr;
	int failed, run;

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_sync);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	/* In one process, so the sanitizer build's leak check at exit sees
	 * every error path the torture walked. */
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
