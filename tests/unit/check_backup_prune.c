/*
 * Unit suite for backup/prune: remote archives past keep_remote_days go
 * (recorded as pruned_remote); local ones past keep_local_days go only
 * when verified on every destination; 0 days keeps everything.
 */
#include <check.h>
#include <stdlib.h>

#include "backup_testlib.h"
#include "banned.h"

#define DAY_US (INT64_C(24) * 3600 * 1000000)

START_TEST(test_prune_both_sides)
{
	struct bt t;
	char a[256];

	bt_init(&t, 1, 2);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	/* A day and a half later: past keep_local_days only. */
	t.b.now_us += DAY_US + DAY_US / 2;
	ck_assert_int_eq(bt_run(&t, cmd_prune), EXIT_OK);
	ck_assert(!bt_exists(t.b.archive_dir, a));
	ck_assert(bt_exists(t.remote, a));
	/* Three days later: past keep_remote_days too. */
	t.b.now_us += 2 * DAY_US;
	ck_assert_int_eq(bt_run(&t, cmd_prune), EXIT_OK);
	ck_assert(!bt_exists(t.remote, a));
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,pruned_remote,"), 1);
	bt_release(&t);
}
END_TEST

START_TEST(test_unverified_local_kept)
{
	struct bt t;
	char a[256];

	bt_init(&t, 1, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	t.b.now_us += 3 * DAY_US;
	ck_assert_int_eq(bt_run(&t, cmd_prune), EXIT_OK);
	ck_assert(bt_exists(t.b.archive_dir, a));
	bt_release(&t);
}
END_TEST

START_TEST(test_zero_days_keep)
{
	struct bt t;
	char a[256];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	t.b.now_us += 400 * DAY_US;
	ck_assert_int_eq(bt_run(&t, cmd_prune), EXIT_OK);
	ck_assert(bt_exists(t.b.archive_dir, a));
	ck_assert(bt_exists(t.remote, a));
	bt_release(&t);
}
END_TEST

static Suite *backup_prune_suite(void)
{
	Suite *s = suite_create("backup_prune");
	TCase *tc = tcase_create("backup_prune");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_prune_both_sides);
	tcase_add_test(tc, test_unverified_local_kept);
	tcase_add_test(tc, test_zero_days_keep);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed, run;

	/* Quick retries: these tests never wait for a backoff. */
	setenv("BOOKTAPE_BACKUP_RETRIES", "1", 1);
	setenv("BOOKTAPE_BACKUP_RETRY_DELAY_MS", "1", 1);
	sr = srunner_create(backup_prune_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
