/* Unit suite for core/core: error codes and their text. */
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

START_TEST(test_strerror)
{
	errno = ENOENT;
	ck_assert_str_eq(core_strerror(CORE_ESYS), strerror(ENOENT));
	ck_assert_str_eq(core_strerror(CORE_ENOMEM), "out of memory");
	ck_assert_str_eq(core_strerror(-9999), "unknown error");
}
END_TEST

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(core_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
