/*
 * Unit suite for backup/push: shipping archives to a file:// destination,
 * the ledger records, and what push refuses (a local archive that no
 * longer matches its sidecar, another object under the final name).
 */
#include <check.h>
#include <stdlib.h>

#include "backup_testlib.h"
#include "banned.h"

START_TEST(test_push_ships_and_records)
{
	struct bt t;
	char a[256], b[256], side[300];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	bt_archive(&t, "2026-11-26", "02", 70000, b, sizeof(b));
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	ck_assert(bt_exists(t.remote, a));
	ck_assert(bt_exists(t.remote, b));
	snprintf(side, sizeof(side), "%s.sha256", b);
	ck_assert(bt_exists(t.remote, side));
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,shipped,"), 2);
	/* file:// re-reads what it stored, so the push verifies too. */
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,verified,"), 2);
	/* Nothing is shipped twice. */
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,shipped,"), 2);
	bt_release(&t);
}
END_TEST

START_TEST(test_push_refuses_changed_local)
{
	struct bt t;
	char a[256], path[4700];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/%s", t.b.archive_dir, a);
	tu_write(path, "changed", 7);
	ck_assert_int_ne(bt_run(&t, cmd_push), EXIT_OK);
	ck_assert(!bt_exists(t.remote, a));
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,shipped,"), 0);
	bt_release(&t);
}
END_TEST

START_TEST(test_push_never_overwrites)
{
	struct bt t;
	char a[256], path[4700];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	snprintf(path, sizeof(path), "%s/gateio/2026-11-26", t.remote);
	ck_assert_int_eq(fs_mkdir_p(path, 0750), 0);
	snprintf(path, sizeof(path), "%s/%s", t.remote, a);
	tu_write(path, "another object", 14);
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_FAIL);
	ck_assert_int_eq(bt_ledger_count(&t, ",nas,shipped,"), 0);
	bt_release(&t);
}
END_TEST

static Suite *backup_push_suite(void)
{
	Suite *s = suite_create("backup_push");
	TCase *tc = tcase_create("backup_push");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_push_ships_and_records);
	tcase_add_test(tc, test_push_refuses_changed_local);
	tcase_add_test(tc, test_push_never_overwrites);
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
	sr = srunner_create(backup_push_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
