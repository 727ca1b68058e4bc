/* Unit suite for backup/listing: sftp long listings and S3 ListObjectsV2 pages.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archives.h"
#include "core.h"
#include "listing.h"
#include "s3.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

struct seen {
	char names[8][64];
	uint64_t sizes[8];
	bool dirs[8];
	int n;
};

static int collect(void *ctx, const char *name, size_t len, bool is_dir,
		   uint64_t size)
{
	struct seen *s = ctx;

	if (s->n == 8 || len >= 64)
		return -99;
	memcpy(s->names[s->n], name, len);
	s->names[s->n][len] = '\0';
	s->sizes[s->n] = size;
	s->dirs[s->n] = is_dir;
	s->n++;
	return 0;
}

START_TEST(test_sftp_listing)
{
	const char *text =
		"drwxr-xr-x    2 root     root         4096 Nov 26 05:10 .\n"
		"drwxr-xr-x    4 root     root         4096 Nov 26 05:10 ..\n"
		"-rw-r--r--    1 root     root        12345 Nov 26 05:10 g.bin\r\n"
		"drwxr-x---    3 bk       bk           4096 Jan  1  2025 gateio\n"
		"lrwxrwxrwx    1 root     root            4 Nov 26 05:10 l -> x\n"
		"garbage\n"
		"-rw-r--r--    1 root     root          1x2 Nov 26 05:10 bad\n"
		"-rw-r--r--    1 u        g               0 Nov 26 05:10 e p";
	struct seen s = { 0 };

	ck_assert_int_eq(listing_parse_sftp(text, strlen(text), collect, &s),
			 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_str_eq(s.names[0], "g.bin");
	ck_assert(s.sizes[0] == 12345 && !s.dirs[0]);
	ck_assert_str_eq(s.names[1], "gateio");
	ck_assert(s.dirs[1]);
	ck_assert_str_eq(s.names[2], "e p");
	ck_assert(s.sizes[2] == 0);
}
END_TEST

START_TEST(test_s3_listing)
{
	const char *page =
		"<?xml version=\"1.0\"?><ListBucketResult xmlns=\"x\">"
		"<IsTruncated>true</IsTruncated>"
		"<NextContinuationToken>t&amp;k/1</NextContinuationToken>"
		"<Contents><Key>p/a&lt;b&#x41;&#66;</Key><Size>7</Size></Contents>"
		"<Contents><Size>9</Size><Key>p/c</Key></Contents>"
		"</ListBucketResult>";
	struct s3_list_page pg;
	struct seen s = { 0 };
	char out[16];

	ck_assert_int_eq(listing_parse_s3(page, strlen(page), collect, &s, &pg),
			 0);
	ck_assert(pg.truncated);
	ck_assert_str_eq(pg.next_token, "t&k/1");
	ck_assert_int_eq(s.n, 2);
	ck_assert_str_eq(s.names[0], "p/a<bAB");
	ck_assert(s.sizes[0] == 7);
	ck_assert_str_eq(s.names[1], "p/c");
	ck_assert_int_eq(listing_parse_s3("<Error><Code>x</Code></Error>", 29,
					  collect, &s, &pg),
			 CORE_EPARSE);
	page = "<ListBucketResult><Contents><Key>k</Key></Contents>";
	ck_assert_int_eq(listing_parse_s3(page, strlen(page), collect, &s, &pg),
			 CORE_EPARSE);
	page = "<ListBucketResult><IsTruncated>true</IsTruncated>";
	ck_assert_int_eq(listing_parse_s3(page, strlen(page), collect, &s, &pg),
			 CORE_EPARSE);
	ck_assert_int_eq(listing_xml_decode(out, sizeof(out), "&bogus;", 7),
			 -1);
	ck_assert_int_eq(listing_xml_decode(out, sizeof(out), "&#0;", 4), -1);
	ck_assert_int_eq(listing_xml_decode(out, 3, "abc", 3), -1);
	ck_assert_int_eq(listing_xml_decode(out, 4, "abc", 3), 3);
}
END_TEST

static Suite *backup_listing_suite(void)
{
	Suite *s = suite_create("backup_listing");
	TCase *tc = tcase_create("backup_listing");

	tcase_add_test(tc, test_sftp_listing);
	tcase_add_test(tc, test_s3_listing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backup_listing_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
