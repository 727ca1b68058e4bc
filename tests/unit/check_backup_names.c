/*
 * Unit suite for booktape-backup's names and parsers: object names,
 * archive names, sidecars, S3 URLs and canonical list queries, sftp long
 * listings and S3 ListObjectsV2 pages.
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

START_TEST(test_object_names)
{
	ck_assert(transport_name_ok(
		"gateio/2026-11-26/gateio_2026-11-26T03.tar.gz"));
	ck_assert(transport_name_ok("a~b.c-d_e"));
	ck_assert(!transport_name_ok(""));
	ck_assert(!transport_name_ok("/abs"));
	ck_assert(!transport_name_ok("a/../b"));
	ck_assert(!transport_name_ok("a//b"));
	ck_assert(!transport_name_ok("./a"));
	ck_assert(!transport_name_ok("a/"));
	ck_assert(!transport_name_ok("a b"));
	ck_assert(!transport_name_ok("a$b"));
	ck_assert(!transport_name_ok("a%20b"));
}
END_TEST

START_TEST(test_archive_names)
{
	char ex[ARCHIVE_EXCHANGE_MAX];
	int64_t h = 0, want = 0;

	ck_assert_int_eq(archive_name_parse("gateio/2026-11-26/"
					    "gateio_2026-11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_str_eq(ex, "gateio");
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &want), 0);
	ck_assert(h == want);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz.sha256",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz.part",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("mexc/2026-11-26/gateio_2026-"
					    "11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-25/gateio_2026-"
					    "11-26T03.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio/2026-11-26/gateio_2026-"
					    "11-26T24.tar.gz",
					    ex, &h),
			 0);
	ck_assert_int_ne(archive_name_parse("gateio", ex, &h), 0);
	ck_assert_str_eq(archive_basename("a/b/c.tar.gz"), "c.tar.gz");
}
END_TEST

START_TEST(test_sidecar)
{
	const char *hex =
		"2494b40037a5b3f5a23a14250e925ab5589f18bf1f78c6fe9a20e8"
		"bb3c8ec000";
	char line[200], out[SHA256_HEX_LEN];

	snprintf(line, sizeof(line), "%s  x.tar.gz\n", hex);
	ck_assert_int_eq(sidecar_parse(line, strlen(line), "x.tar.gz", out), 0);
	ck_assert_str_eq(out, hex);
	ck_assert_int_ne(sidecar_parse(line, strlen(line), "y.tar.gz", out), 0);
	ck_assert_int_ne(sidecar_parse(line, strlen(line) - 1, NULL, out), 0);
	snprintf(line, sizeof(line), "%s *x.tar.gz\n", hex);
	ck_assert_int_eq(sidecar_parse(line, strlen(line), NULL, out), 0);
	snprintf(line, sizeof(line), "%s  x\ny\n", hex);
	ck_assert_int_ne(sidecar_parse(line, strlen(line), NULL, out), 0);
	line[0] = 'G';
	ck_assert_int_ne(sidecar_parse(line, strlen(line), NULL, out), 0);
}
END_TEST

START_TEST(test_s3_urls)
{
	char buf[512];

	ck_assert_int_eq(s3_build_url(buf, sizeof(buf),
				      "https://s3.eu-central-"
				      "1.amazonaws.com",
				      "bkt", false, "p/a.tar.gz", NULL),
			 0);
	ck_assert_str_eq(
		buf, "https://bkt.s3.eu-central-1.amazonaws.com/p/a.tar.gz");
	ck_assert_int_eq(s3_build_url(buf, sizeof(buf), "http://127.0.0.1:9000",
				      "bkt", true, "p/a", "list-type=2"),
			 0);
	ck_assert_str_eq(buf, "http://127.0.0.1:9000/bkt/p/a?list-type=2");
	ck_assert_int_eq(s3_build_url(buf, sizeof(buf), "nohost", "b", true,
				      "k", NULL),
			 CORE_EINVAL);
	ck_assert_int_eq(s3_build_url(buf, 10, "http://h", "b", true, "key",
				      NULL),
			 CORE_ETOOBIG);
	ck_assert_int_eq(s3_query_encode(buf, sizeof(buf), "a/b c+~-_.Z"), 0);
	ck_assert_str_eq(buf, "a%2Fb%20c%2B~-_.Z");
	/* Sorted by name: continuation-token < list-type < prefix. */
	ck_assert_int_eq(s3_list_query(buf, sizeof(buf), "booktape/", NULL), 0);
	ck_assert_str_eq(buf, "list-type=2&prefix=booktape%2F");
	ck_assert_int_eq(s3_list_query(buf, sizeof(buf), "", "a/b=="), 0);
	ck_assert_str_eq(buf,
			 "continuation-token=a%2Fb%3D%3D&list-type=2&prefix=");
}
END_TEST

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

static Suite *names_suite(void)
{
	Suite *s = suite_create("backup_names");
	TCase *tc = tcase_create("names");

	tcase_add_test(tc, test_object_names);
	tcase_add_test(tc, test_archive_names);
	tcase_add_test(tc, test_sidecar);
	tcase_add_test(tc, test_s3_urls);
	tcase_add_test(tc, test_sftp_listing);
	tcase_add_test(tc, test_s3_listing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
