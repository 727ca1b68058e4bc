/* Unit suite for core/sha256: test vectors and streaming a file. */
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

static Suite *sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("sha256");

	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_sha256_file_streaming);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sha256_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
