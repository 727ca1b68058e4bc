/* Unit suite for core/fsutil: atomic writes, stale temps, mkdir -p, dirname. */
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

START_TEST(test_atomic_write)
{
	char *dir = tu_tmpdir(), path[512], *buf;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/a.prom", dir);
	ck_assert_int_eq(fs_write_atomic(path, "one\n", 4, 0644), 0);
	ck_assert_int_eq(fs_write_atomic(path, "two!\n", 5, 0600), 0);
	ck_assert_int_eq(fs_read_file(path, 100, &buf, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(buf, "two!\n");
	free(buf);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* No temp file is left behind. */
	ck_assert_int_eq(fs_clean_stale_temps(dir), 0);
	ck_assert_int_eq(fs_read_file(path, 3, &buf, &len), CORE_ETOOBIG);
	ck_assert_ptr_null(buf);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_atomic_write_missing_dir)
{
	errno = 0;
	ck_assert_int_eq(fs_write_atomic("/nonexistent/dir/x", "a", 1, 0644),
			 CORE_ESYS);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

START_TEST(test_stale_temps)
{
	char *dir = tu_tmpdir(), p[512];

	/* pid 1 runs; a huge pid does not. */
	snprintf(p, sizeof(p), "%s/.x.prom.tmp.1", dir);
	tu_write(p, "a", 1);
	snprintf(p, sizeof(p), "%s/.x.prom.tmp.2147483646", dir);
	tu_write(p, "a", 1);
	snprintf(p, sizeof(p), "%s/keep.tmp.5", dir);
	tu_write(p, "a", 1);
	ck_assert_int_eq(fs_clean_stale_temps(dir), 1);
	ck_assert_int_eq(access(p, F_OK), 0);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_mkdir_p)
{
	char *dir = tu_tmpdir(), p[512], f[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/a/b/c/", dir);
	ck_assert_int_eq(fs_mkdir_p(p, 0750), 0);
	ck_assert_int_eq(fs_mkdir_p(p, 0750), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	snprintf(f, sizeof(f), "%s/a/file", dir);
	tu_write(f, "x", 1);
	snprintf(p, sizeof(p), "%s/a/file/sub", dir);
	ck_assert_int_eq(fs_mkdir_p(p, 0750), CORE_ESYS);
	ck_assert_int_eq(errno, ENOTDIR);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_dirname)
{
	char d[16];

	ck_assert_int_eq(fs_dirname(d, sizeof(d), "/a/b"), 0);
	ck_assert_str_eq(d, "/a");
	ck_assert_int_eq(fs_dirname(d, sizeof(d), "/a"), 0);
	ck_assert_str_eq(d, "/");
	ck_assert_int_eq(fs_dirname(d, sizeof(d), "a"), 0);
	ck_assert_str_eq(d, ".");
	ck_assert_int_eq(fs_dirname(d, 4, "/abcdef/x"), CORE_ETOOBIG);
}
END_TEST

static Suite *fsutil_suite(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("fsutil");

	tcase_add_test(tc, test_atomic_write);
	tcase_add_test(tc, test_atomic_write_missing_dir);
	tcase_add_test(tc, test_stale_temps);
	tcase_add_test(tc, test_mkdir_p);
	tcase_add_test(tc, test_dirname);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(fsutil_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
