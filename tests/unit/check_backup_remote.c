/*
 * Unit suite for backup/remote: list and verify (shallow and deep)
 * against a file:// destination, and a damaged remote copy.
 */
#include <check.h>
#include <stdlib.h>

#include "backup_testlib.h"
#include "banned.h"

START_TEST(test_list_and_verify)
{
	struct bt t;
	char a[256];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	ck_assert_int_eq(bt_run(&t, cmd_list), EXIT_OK);
	ck_assert_int_eq(bt_run(&t, cmd_verify), EXIT_OK);
	t.b.deep = true;
	ck_assert_int_eq(bt_run(&t, cmd_verify), EXIT_OK);
	bt_release(&t);
}
END_TEST

START_TEST(test_deep_verify_finds_damage)
{
	struct bt t;
	char a[256], path[4700];

	bt_init(&t, 0, 0);
	bt_archive(&t, "2026-11-26", "01", 5000, a, sizeof(a));
	ck_assert_int_eq(bt_run(&t, cmd_push), EXIT_OK);
	/* Same size, other bytes: only a download and hash can tell. */
	snprintf(path, sizeof(path), "%s/%s", t.remote, a);
	{
		char *junk;
		size_t len;

		ck_assert_int_eq(fs_read_file(path, 1 << 20, &junk, &len), 0);
		junk[len / 2] ^= 1;
		tu_write(path, junk, len);
		free(junk);
	}
	t.b.deep = true;
	ck_assert_int_ne(bt_run(&t, cmd_verify), EXIT_OK);
	ck_assert_int_ge(bt_ledger_count(&t, ",nas,failed,"), 1);
	bt_release(&t);
}
END_TEST

static Suite *backup_remote_suite(void)
{
	Suite *s = suite_create("backup_remote");
	TCase *tc = tcase_create("backup_remote");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_list_and_verify);
	tcase_add_test(tc, test_deep_verify_finds_damage);
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
	sr = srunner_create(backup_remote_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
