/* Unit suite for the small core modules: fsutil, sha256, timeutil, log. */
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

START_TEST(test_sha256_vectors)
{
	char hex[SHA256_HEX_LEN];

	/* FIPS 180-2 examples. */
	ck_assert_int_eq(sha256_buf_hex("abc", 3, hex), 0);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223"
			      "b00361a396177a9cb410ff61f20015ad");
	ck_assert_int_eq(sha256_buf_hex("", 0, hex), 0);
	ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb924"
			      "27ae41e4649b934ca495991b7852b855");
}
END_TEST

START_TEST(test_sha256_file_streaming)
{
	char *dir = tu_tmpdir(), p[512], a[SHA256_HEX_LEN], b[SHA256_HEX_LEN];
	size_t n = 300000;
	char *data = malloc(n);
	struct sha256 *h = sha256_new();
	uint64_t bytes = 0;

	ck_assert_ptr_nonnull(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + 3);
	snprintf(p, sizeof(p), "%s/f", dir);
	tu_write(p, data, n);
	ck_assert_int_eq(sha256_file_hex(p, a, &bytes), 0);
	ck_assert_uint_eq(bytes, n);
	/* The same bytes fed in uneven pieces give the same digest. */
	ck_assert_int_eq(sha256_update(h, data, 1), 0);
	ck_assert_int_eq(sha256_update(h, data + 1, 70000), 0);
	ck_assert_int_eq(sha256_update(h, data + 70001, n - 70001), 0);
	ck_assert_int_eq(sha256_final_hex(h, b), 0);
	ck_assert_str_eq(a, b);
	/* A missing file reports errno. */
	snprintf(p, sizeof(p), "%s/missing", dir);
	ck_assert_int_eq(sha256_file_hex(p, a, NULL), CORE_ESYS);
	ck_assert_int_eq(errno, ENOENT);
	sha256_free(h);
	free(data);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_time_parse)
{
	int64_t t;

	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795662000) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-11-26", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795651200) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03Z", &t), 0);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:04:05+00:00", &t), 0);
	ck_assert_int_eq(t, INT64_C(1795662245) * US_PER_SEC);
	ck_assert_int_eq(time_parse_iso("2026-02-29", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("2024-02-29", &t), 0);
	ck_assert_int_eq(time_parse_iso("2026-11-26T25:00Z", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00+02:00", &t),
			 CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("26-11-26", &t), CORE_EPARSE);
	ck_assert_int_eq(time_parse_iso("", &t), CORE_EPARSE);
}
END_TEST

START_TEST(test_time_hours)
{
	char date[11], hour[3], iso[32];
	int64_t t = INT64_C(1795662245) * US_PER_SEC + 123, back;

	ck_assert_int_eq(time_hour_floor(t), INT64_C(1795662000) * US_PER_SEC);
	ck_assert_int_eq(time_date_hour(t, date, hour), 0);
	ck_assert_str_eq(date, "2026-11-26");
	ck_assert_str_eq(hour, "03");
	ck_assert_int_eq(time_from_date_hour(date, hour, &back), 0);
	ck_assert_int_eq(back, time_hour_floor(t));
	ck_assert_int_eq(time_from_date_hour("2026-11-26", "24", &back),
			 CORE_EPARSE);
	ck_assert_int_eq(time_format_iso(t, iso, sizeof(iso)), 0);
	ck_assert_str_eq(iso, "2026-11-26T03:04:05Z");
	ck_assert_int_eq(time_hour_floor(-1), -US_PER_HOUR);
}
END_TEST

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

static Suite *core_suite(void)
{
	Suite *s = suite_create("core");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_atomic_write);
	tcase_add_test(tc, test_atomic_write_missing_dir);
	tcase_add_test(tc, test_stale_temps);
	tcase_add_test(tc, test_mkdir_p);
	tcase_add_test(tc, test_dirname);
	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_file_streaming);
	tcase_add_test(tc, test_time_parse);
	tcase_add_test(tc, test_time_hours);
	tcase_add_test(tc, test_log_escape);
	tcase_add_test(tc, test_log_ratelimit);
	tcase_add_test(tc, test_log_journal_prefix);
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
