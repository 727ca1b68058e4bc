/* Unit suite for core/config_rotate: rotate's keys and defaults. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_testlib.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

static const char design_rotate[] =
	"# config/rotate.yml\n"
	"config:\n"
	"  data_dir: \"/var/lib/booktape\"\n"
	"  textfile_dir: \"/var/lib/prometheus/node-exporter\"\n"
	"  grace: 120                 # seconds past the hour before an hour "
	"counts as finished\n"
	"  gzip_level: 6\n"
	"  keep_days: 7               # local archives, removed only once "
	"shipped (backup ledger)\n";

static void rot_equal(const struct rotate_config *a,
		      const struct rotate_config *b)
{
	ck_assert_str_eq(a->data_dir, b->data_dir);
	ck_assert_str_eq(a->textfile_dir, b->textfile_dir);
	ck_assert_int_eq(a->grace, b->grace);
	ck_assert_int_eq(a->gzip_level, b->gzip_level);
	ck_assert_int_eq(a->keep_days, b->keep_days);
}

START_TEST(test_rotate)
{
	struct rotate_config r, r2;
	char *dir = tu_tmpdir(), path[512], *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_int_eq(config_load_rotate("config/rotate.yml", &r, &err), 0);
	ck_assert_str_eq(r.data_dir, "/var/lib/booktape");
	ck_assert_str_eq(r.textfile_dir, "/var/lib/prometheus/node-exporter");
	ck_assert_int_eq(r.grace, 120);
	ck_assert_int_eq(r.gzip_level, 6);
	ck_assert_int_eq(r.keep_days, 7);
	config_release_rotate(&r);

	write_file(dir, "design.yml", design_rotate, path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	config_release_rotate(&r);

	/* Defaults, then a round trip through the dump. */
	write_file(dir, "min.yml", "config: {}\n", path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	ck_assert_str_eq(r.path, path);
	ck_assert_str_eq(r.data_dir, "/var/lib/booktape");
	ck_assert_int_eq(r.grace, 120);
	ck_assert_int_eq(r.gzip_level, 6);
	ck_assert_int_eq(r.keep_days, 7);
	config_release_rotate(&r);

	write_file(dir, "all.yml",
		   "config:\n  data_dir: data\n  textfile_dir: \"t x\"\n"
		   "  grace: 0\n  gzip_level: 9\n  keep_days: 0\n",
		   path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	ck_assert_int_eq(r.gzip_level, 9);
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_rotate(&r, fp), 0);
	fclose(fp);
	write_file(dir, "dump.yml", text, path, sizeof(path));
	ck_assert_msg(config_load_rotate(path, &r2, &err) == 0, "%s", err);
	rot_equal(&r, &r2);
	free(text);
	config_release_rotate(&r);
	config_release_rotate(&r2);
	config_release_rotate(NULL);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_rotate_errors)
{
	struct rotate_config r;
	char *dir = tu_tmpdir(), path[512], *err = NULL;

	write_file(dir, "r.yml",
		   "config:\n"
		   "  gzip_level: 10\n"
		   "  grace: -1\n"
		   "  keep_day: 7\n"
		   "  keep_days: \"7\"\n"
		   "  data_dir: \"\"\n"
		   "  textfile_dir: [x]\n"
		   "  grace: 5\n",
		   path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), CORE_ECONFIG);
	ck_assert_ptr_null(r.data_dir);
	strip_dir(err, dir);
	ck_assert_str_eq(
		err,
		"r.yml:2:15: gzip_level: must be between 0 and 9, got '10'\n"
		"r.yml:3:10: grace: must be between 0 and 86400, got '-1'\n"
		"r.yml:4:3: unknown key 'keep_day'; did you mean "
		"'keep_days'?\n"
		"r.yml:5:14: keep_days: expected an integer, got the quoted "
		"string '7' (write it without quotes)\n"
		"r.yml:6:13: data_dir: must not be empty\n"
		"r.yml:7:17: textfile_dir: expected a string, got a sequence\n"
		"r.yml:8:3: duplicate key 'grace'");
	free(err);
	/* Recorder keys are not rotate keys. */
	write_file(dir, "r2.yml", "config:\n  connector_name: mexc\n", path,
		   sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), CORE_ECONFIG);
	strip_dir(err, dir);
	ck_assert_str_eq(err, "r2.yml:2:3: unknown key 'connector_name'");
	free(err);
	tu_rmtree(dir);
}
END_TEST

static Suite *config_rotate_suite(void)
{
	Suite *s = suite_create("config_rotate");
	TCase *tc = tcase_create("config_rotate");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_rotate);
	tcase_add_test(tc, test_rotate_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_rotate_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
