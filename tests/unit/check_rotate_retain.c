/*
 * Unit suite for rotate/retain: an archive past keep_days goes only when
 * the backup ledger shows it verified somewhere with our sidecar's sha256.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ledger.h"
#include "rotate_testlib.h"
#include "banned.h"

#define REL "gateio/2026-11-26/gateio_2026-11-26T03.tar.gz"

/* Seal hour 03 of 2026-11-26; the archive's path and sidecar sha256. */
static void sealed(struct rt *t, char arch[1200], char sha[SHA256_HEX_LEN])
{
	struct hour *h = NULL;
	struct rotate_stats st = { 0 };
	char side[1300], *text;
	size_t n = 0, len;

	rt_make_hour(t, "gateio", "2026-11-26", "03", 5, "");
	t->ctx.now_us = rt_hour("2026-11-26", "05");
	ck_assert_int_eq(scan_hours(&t->ctx, &h, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(seal_hour(&t->ctx, &h[0], &st), 0);
	free(h);
	snprintf(arch, 1200, "%s/archive/%s", t->dir, REL);
	snprintf(side, sizeof(side), "%s.sha256", arch);
	ck_assert_int_eq(fs_read_file(side, 4096, &text, &len), 0);
	ck_assert_uint_gt(len, 64);
	memcpy(sha, text, 64);
	sha[64] = '\0';
	free(text);
}

static void ledger_says(struct rt *t, enum ledger_status status,
			const char *sha)
{
	struct ledger_record r = { .time_us = rt_hour("2026-11-26", "06"),
				   .archive = REL,
				   .destination = "nas",
				   .status = status,
				   .bytes = 1 };
	char path[1200], state[1100];

	snprintf(state, sizeof(state), "%s/state", t->dir);
	ck_assert_int_eq(fs_mkdir_p(state, 0750), 0);
	snprintf(path, sizeof(path), "%s/backup-ledger.csv", state);
	memcpy(r.sha256, sha, SHA256_HEX_LEN);
	ck_assert_int_eq(ledger_append(path, &r), 0);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

START_TEST(test_no_ledger_keeps)
{
	struct rt t;
	struct rotate_stats st = { 0 };
	char arch[1200], sha[SHA256_HEX_LEN];

	rt_init(&t);
	sealed(&t, arch, sha);
	t.ctx.now_us = rt_hour("2026-11-30", "00");
	ck_assert_int_eq(retain_archives(&t.ctx, &st), 0);
	ck_assert(exists(arch));
	ck_assert_uint_eq(st.archives_removed, 0);
	rt_release(&t);
}
END_TEST

START_TEST(test_verified_elsewhere_removes)
{
	struct rt t;
	struct rotate_stats st = { 0 };
	char arch[1200], side[1300], sha[SHA256_HEX_LEN];
	static const char other[] =
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaa";

	rt_init(&t);
	sealed(&t, arch, sha);
	snprintf(side, sizeof(side), "%s.sha256", arch);
	/* Shipped only, or verified with another sha256: kept. */
	ledger_says(&t, LEDGER_SHIPPED, sha);
	ledger_says(&t, LEDGER_VERIFIED, other);
	t.ctx.now_us = rt_hour("2026-11-30", "00");
	ck_assert_int_eq(retain_archives(&t.ctx, &st), 0);
	ck_assert(exists(arch));
	/* Verified with our sha256 but not past keep_days yet: kept. */
	ledger_says(&t, LEDGER_VERIFIED, sha);
	t.ctx.now_us = rt_hour("2026-11-26", "12");
	ck_assert_int_eq(retain_archives(&t.ctx, &st), 0);
	ck_assert(exists(arch));
	/* Both: removed, sidecar too. */
	t.ctx.now_us = rt_hour("2026-11-30", "00");
	ck_assert_int_eq(retain_archives(&t.ctx, &st), 0);
	ck_assert(!exists(arch));
	ck_assert(!exists(side));
	ck_assert_uint_eq(st.archives_removed, 1);
	rt_release(&t);
}
END_TEST

static Suite *rotate_retain_suite(void)
{
	Suite *s = suite_create("rotate_retain");
	TCase *tc = tcase_create("rotate_retain");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_no_ledger_keeps);
	tcase_add_test(tc, test_verified_elsewhere_removes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rotate_retain_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
