/* Unit suite for backup/transport_s3: S3 URLs and canonical list queries. */
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

static Suite *backup_transport_s3_suite(void)
{
	Suite *s = suite_create("backup_transport_s3");
	TCase *tc = tcase_create("backup_transport_s3");

	tcase_add_test(tc, test_s3_urls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backup_transport_s3_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
