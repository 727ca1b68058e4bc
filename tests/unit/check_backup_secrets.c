/* Unit suite for booktape-backup's secrets file: format, errors, mode. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"
#include "secrets.h"
#include "testutil.h"
#include "banned.h"

static int parse(const char *text, struct secrets **out, char *err)
{
	return secrets_parse("s.ini", text, strlen(text), out, err, 256);
}

START_TEST(test_parse_ok)
{
	struct secrets *s = NULL;
	char err[256];
	const char *text = "# keys\n\n[s3]\n access_key = AKIA \r\n"
			   "secret_key=wJal/r+X=\n; other\n[off-site_2]\n"
			   "identity = /etc/booktape/id ed\n";

	ck_assert_int_eq(parse(text, &s, err), 0);
	ck_assert_str_eq(secrets_get(s, "s3", "access_key"), "AKIA");
	ck_assert_str_eq(secrets_get(s, "s3", "secret_key"), "wJal/r+X=");
	ck_assert_str_eq(secrets_get(s, "off-site_2", "identity"),
			 "/etc/booktape/id ed");
	ck_assert_ptr_null(secrets_get(s, "s3", "identity"));
	ck_assert_ptr_null(secrets_get(s, "nope", "access_key"));
	ck_assert_ptr_null(secrets_get(NULL, "s3", "access_key"));
	secrets_free(s);
	secrets_free(NULL);
}
END_TEST

static void expect_error(const char *text, const char *msg)
{
	struct secrets *s = (struct secrets *)1;
	char err[256] = "";

	ck_assert_int_ne(parse(text, &s, err), 0);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, msg) != NULL, "'%s' lacks '%s'", err, msg);
}

START_TEST(test_parse_errors)
{
	expect_error("access_key = x\n", "s.ini:1: key outside a");
	expect_error("[s3]\nfoo = x\n", "s.ini:2: unknown key 'foo'");
	expect_error("[s3]\naccess_key\n", "s.ini:2: expected 'key = value'");
	expect_error("[s3]\naccess_key =\n", "s.ini:2: empty");
	expect_error("[s3\n", "s.ini:1: bad section header");
	expect_error("[a b]\n", "s.ini:1: bad destination name");
	expect_error("[s3]\naccess_key=a\n\naccess_key=b\n",
		     "s.ini:4: duplicate key 'access_key'");
}
END_TEST

START_TEST(test_limits)
{
	size_t n = SECRETS_MAX_FILE + 1;
	char *big = malloc(n + 1), err[256];
	struct secrets *s;

	ck_assert_ptr_nonnull(big);
	memset(big, '#', n);
	big[n] = '\0';
	ck_assert_int_eq(secrets_parse("b", big, n, &s, err, sizeof(err)),
			 CORE_ETOOBIG);
	free(big);
}
END_TEST

START_TEST(test_mode)
{
	char *dir = tu_tmpdir(), path[512], err[512];
	struct secrets *s = NULL;
	const char *text = "[s3]\naccess_key = a\nsecret_key = b\n";

	snprintf(path, sizeof(path), "%s/secrets", dir);
	tu_write(path, text, strlen(text));
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), CORE_EPERM);
	ck_assert_ptr_null(s);
	ck_assert_msg(strstr(err, "has mode 0644") && strstr(err, path), "%s",
		      err);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), CORE_EPERM);
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), CORE_EPERM);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(secrets_get(s, "s3", "secret_key"), "b");
	secrets_free(s);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), 0);
	secrets_free(s);
	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(secrets_load(path, &s, err, sizeof(err)), CORE_ESYS);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	tu_rmtree(dir);
}
END_TEST

static Suite *secrets_suite(void)
{
	Suite *s = suite_create("backup_secrets");
	TCase *tc = tcase_create("secrets");

	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_mode);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(secrets_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
