/* Unit suite for rotate/seal: one hour sealed into a verified archive. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "manifest.h"
#include "rotate_testlib.h"
#include "tarball.h"
#include "banned.h"

#define ARCH "archive/gateio/2026-11-26/gateio_2026-11-26T03.tar.gz"

static void path_in(const struct rt *t, char *buf, size_t size, const char *rel)
{
	snprintf(buf, size, "%s/%s", t->dir, rel);
}

static const struct hour *only_hour(struct rt *t, struct hour **h)
{
	size_t n = 0;

	t->ctx.now_us = rt_hour("2026-11-26", "05");
	ck_assert_int_eq(scan_hours(&t->ctx, h, &n), 0);
	ck_assert_uint_eq(n, 1);
	return &(*h)[0];
}

START_TEST(test_seal_hour)
{
	struct rt t;
	struct hour *h;
	struct rotate_stats st = { 0 };
	struct manifest *m = NULL;
	char arch[1200], side[1300], live[1200], why[256];
	struct stat sb;

	rt_init(&t);
	rt_make_hour(&t, "gateio", "2026-11-26", "03", 50, "");
	ck_assert_int_eq(seal_hour(&t.ctx, only_hour(&t, &h), &st), 0);
	path_in(&t, arch, sizeof(arch), ARCH);
	snprintf(side, sizeof(side), "%s.sha256", arch);
	path_in(&t, live, sizeof(live), "live/gateio/2026-11-26/03");
	ck_assert_int_eq(stat(side, &sb), 0);
	ck_assert_int_ne(stat(live, &sb), 0); /* originals and dir gone */
	ck_assert_int_eq(tarball_verify(arch, NULL, NULL, NULL, &m, why,
					sizeof(why)),
			 0);
	ck_assert_uint_eq(manifest_count(m), 1);
	ck_assert_uint_eq(manifest_get(m, 0)->rows, 50);
	ck_assert_uint_eq(st.archives_made, 1);
	ck_assert_uint_eq(st.torn_tails_cut, 0);
	ck_assert_uint_eq(st.errors, 0);
	manifest_free(m);
	free(h);
	rt_release(&t);
}
END_TEST

START_TEST(test_torn_tail_cut)
{
	struct rt t;
	struct hour *h;
	struct rotate_stats st = { 0 };
	struct manifest *m = NULL;
	char arch[1200], why[256];

	rt_init(&t);
	rt_make_hour(&t, "gateio", "2026-11-26", "03", 10, "1795662000,upd");
	ck_assert_int_eq(seal_hour(&t.ctx, only_hour(&t, &h), &st), 0);
	ck_assert_uint_eq(st.torn_tails_cut, 1);
	path_in(&t, arch, sizeof(arch), ARCH);
	ck_assert_int_eq(tarball_verify(arch, NULL, NULL, NULL, &m, why,
					sizeof(why)),
			 0);
	ck_assert_uint_eq(manifest_get(m, 0)->rows, 10);
	ck_assert_uint_eq(manifest_cut_count(m), 1);
	ck_assert_str_eq(manifest_cut_get(m, 0)->reason, "partial line");
	manifest_free(m);
	free(h);
	rt_release(&t);
}
END_TEST

START_TEST(test_bad_row_keeps_hour)
{
	struct rt t;
	struct hour *h;
	struct rotate_stats st = { 0 };
	char live[1200];
	struct stat sb;

	rt_init(&t);
	rt_make_hour(&t, "gateio", "2026-11-26", "03", 3,
		     "1,nonsense,,,,\n1,update,1,1,,\n");
	ck_assert_int_ne(seal_hour(&t.ctx, only_hour(&t, &h), &st), 0);
	path_in(&t, live, sizeof(live), "live/gateio/2026-11-26/03");
	ck_assert_int_eq(stat(live, &sb), 0); /* the hour stays live */
	ck_assert_uint_eq(st.archives_made, 0);
	free(h);
	rt_release(&t);
}
END_TEST

static Suite *rotate_seal_suite(void)
{
	Suite *s = suite_create("rotate_seal");
	TCase *tc = tcase_create("rotate_seal");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_seal_hour);
	tcase_add_test(tc, test_torn_tail_cut);
	tcase_add_test(tc, test_bad_row_keeps_hour);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rotate_seal_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
