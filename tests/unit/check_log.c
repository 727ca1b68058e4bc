/* Unit suite for core/log: escaping, rate limits, journal priority prefixes. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "sha256.h"
#include "timeutil.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_log_escape)
{
	char out[32];

	ck_assert_str_eq(log_escape(out, sizeof(out), "a\nb\\", 4),
			 "a\\x0ab\\x5c");
	ck_assert_str_eq(log_escape(out, 4, "abcdef", 6), "abc");
	ck_assert_str_eq(log_escape(out, 4, "\x01zz", 3), "");
}
END_TEST

START_TEST(test_log_ratelimit)
{
	struct log_ratelimit rl = { 0, 0, 0 };
	unsigned supp, ok = 0;

	for (int i = 0; i < 10; i++)
		ok += (unsigned)log_ratelimit_ok(&rl, 3, 3600, &supp);
	ck_assert_uint_eq(ok, 3);
	ck_assert_uint_eq(rl.dropped, 7);
}
END_TEST

START_TEST(test_log_journal_prefix)
{
	int fds[2], saved;
	char buf[256];
	ssize_t n;

	ck_assert_int_eq(pipe(fds), 0);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	setenv("JOURNAL_STREAM", "8:1234", 1);
	log_init("prog");
	log_warn("open '%s'", "book.csv");
	log_debug("hidden");
	errno = ENOENT;
	log_err_r(CORE_ESYS, "read '%s'", "x");
	dup2(saved, STDERR_FILENO);
	close(fds[1]);
	n = read(fds[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "<4>prog: open 'book.csv'\n"
			      "<3>prog: read 'x': No such file or directory\n");
	close(fds[0]);
	unsetenv("JOURNAL_STREAM");
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_log_escape);
	tcase_add_test(tc, test_log_ratelimit);
	tcase_add_test(tc, test_log_journal_prefix);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
