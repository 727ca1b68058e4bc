/* Unit suite for backup/transport: object names. */
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

static Suite *backup_transport_suite(void)
{
	Suite *s = suite_create("backup_transport");
	TCase *tc = tcase_create("backup_transport");

	tcase_add_test(tc, test_object_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(backup_transport_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
