/*
 * Unit suite for backup/transport_sftp without a server: a refused
 * connection is a transient error (retry later, exit 75), and what the
 * error says. The round trip against a real sshd is t-backup-sftp.sh.
 */
#include <check.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "backup_testlib.h"
#include "transport.h"
#include "banned.h"

START_TEST(test_refused_is_transient)
{
	struct bt t;
	struct backup_config cfg;
	struct transport *tr = NULL;
	struct transport_stat st;
	char yml[1024], path[600], err[256], *msg = NULL;

	bt_init(&t, 0, 0);
	/* Port 1 on loopback: nothing listens there. */
	snprintf(yml, sizeof(yml),
		 "config:\n  data_dir: \"%s\"\n  destinations:\n"
		 "    - name: off\n      url: \"sftp://u@127.0.0.1:1/srv\"\n"
		 "      identity: \"%s/id\"\n"
		 "      known_hosts: \"%s/kh\"\n",
		 t.dir, t.dir, t.dir);
	snprintf(path, sizeof(path), "%s/id", t.dir);
	tu_write(path, "", 0);
	snprintf(path, sizeof(path), "%s/kh", t.dir);
	tu_write(path, "", 0);
	snprintf(path, sizeof(path), "%s/s.yml", t.dir);
	tu_write(path, yml, strlen(yml));
	ck_assert_int_eq(config_load_backup(path, &cfg, &msg), 0);
	ck_assert_int_eq(cfg.dests[0].port, 1);
	ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
	ck_assert_int_eq(
		transport_open(&cfg.dests[0], NULL, &tr, err, sizeof(err)), 0);
	ck_assert_str_eq(tr->kind_name, "sftp");
	ck_assert_int_eq(transport_stat(tr, "x", &st), CORE_EAGAIN);
	ck_assert_str_ne(transport_errmsg(tr), "");
	transport_free(tr);
	curl_global_cleanup();
	config_release_backup(&cfg);
	bt_release(&t);
}
END_TEST

static Suite *backup_transport_sftp_suite(void)
{
	Suite *s = suite_create("backup_transport_sftp");
	TCase *tc = tcase_create("backup_transport_sftp");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_refused_is_transient);
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
	sr = srunner_create(backup_transport_sftp_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
