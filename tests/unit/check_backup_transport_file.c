/*
 * Unit suite for backup/transport_file: every operation of the file://
 * transport, and the names it refuses.
 */
#include <check.h>
#include <stdlib.h>

#include "backup_testlib.h"
#include "transport.h"
#include "banned.h"

START_TEST(test_operations)
{
	struct bt t;
	struct transport *tr = NULL;
	struct transport_put_info info = { .size = 5 };
	struct transport_stat st;
	struct transport_list l = { 0 };
	char local[600], back[600], err[256], *text;
	size_t len;

	bt_init(&t, 0, 0);
	snprintf(local, sizeof(local), "%s/up", t.dir);
	tu_write(local, "hello", 5);
	ck_assert_int_eq(sha256_buf_hex("hello", 5, info.sha256), 0);
	ck_assert_int_eq(transport_open(&t.b.cfg.dests[0], NULL, &tr, err,
					sizeof(err)),
			 0);
	ck_assert_str_eq(tr->kind_name, "file");
	ck_assert_int_eq(transport_put(tr, local, "a/b.part", &info), 0);
	ck_assert_int_eq(transport_rename(tr, "a/b.part", "a/b"), 0);
	ck_assert_int_eq(transport_stat(tr, "a/b", &st), 0);
	ck_assert_uint_eq(st.size, 5);
	ck_assert(st.has_sha256);
	ck_assert_str_eq(st.sha256, info.sha256);
	ck_assert_int_eq(transport_stat(tr, "a/none", &st), CORE_ENOENT);
	ck_assert_int_eq(transport_list(tr, &l), 0);
	ck_assert_uint_eq(l.n, 1);
	ck_assert_str_eq(l.v[0].name, "a/b");
	transport_list_release(&l);
	snprintf(back, sizeof(back), "%s/down", t.dir);
	ck_assert_int_eq(transport_get(tr, "a/b", back), 0);
	ck_assert_int_eq(fs_read_file(back, 100, &text, &len), 0);
	ck_assert_str_eq(text, "hello");
	free(text);
	ck_assert_int_eq(transport_del(tr, "a/b"), 0);
	ck_assert_int_eq(transport_del(tr, "a/b"), CORE_ENOENT);
	transport_free(tr);
	bt_release(&t);
}
END_TEST

START_TEST(test_bad_names)
{
	struct bt t;
	struct transport *tr = NULL;
	struct transport_stat st;
	char err[256];

	bt_init(&t, 0, 0);
	ck_assert_int_eq(transport_open(&t.b.cfg.dests[0], NULL, &tr, err,
					sizeof(err)),
			 0);
	ck_assert_int_ne(transport_stat(tr, "../escape", &st), 0);
	ck_assert_int_ne(transport_stat(tr, "/abs", &st), 0);
	ck_assert_str_ne(transport_errmsg(tr), "");
	transport_free(tr);
	bt_release(&t);
}
END_TEST

static Suite *backup_transport_file_suite(void)
{
	Suite *s = suite_create("backup_transport_file");
	TCase *tc = tcase_create("backup_transport_file");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_operations);
	tcase_add_test(tc, test_bad_names);
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
	sr = srunner_create(backup_transport_file_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
