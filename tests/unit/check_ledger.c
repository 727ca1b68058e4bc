/* Unit suite for core/ledger: append, load, torn lines, retention queries. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "testutil.h"
#include "banned.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define ARCH  "gateio/2026-11-26/gateio_2026-11-26T03.tar.gz"

static char *dir;
static char path[512];

static void setup(void)
{
	dir = tu_tmpdir();
	snprintf(path, sizeof(path), "%s/backup-ledger.csv", dir);
}

static void teardown(void)
{
	tu_rmtree(dir);
	dir = NULL;
}

static void add(const char *dest, enum ledger_status st, const char *sha)
{
	struct ledger_record r = {
		.time_us = INT64_C(1764126432) * 1000000,
		.archive = ARCH,
		.destination = dest,
		.status = st,
		.bytes = 1234,
	};

	memcpy(r.sha256, sha, 65);
	ck_assert_int_eq(ledger_append(path, &r), 0);
}

START_TEST(test_append_load)
{
	struct ledger *l;
	char *buf, why[200];
	size_t len;
	const char *both[] = { "nas", "s3" };

	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), CORE_ENOENT);
	ck_assert_ptr_null(l);
	add("nas", LEDGER_SHIPPED, SHA_A);
	add("nas", LEDGER_VERIFIED, SHA_A);
	add("s3", LEDGER_SHIPPED, SHA_A);
	ck_assert_int_eq(fs_read_file(path, 1 << 20, &buf, &len), 0);
	ck_assert_str_eq(
		buf, LEDGER_HEADER
		"\n"
		"2025-11-26T03:07:12Z," ARCH ",nas,shipped,1234," SHA_A "\n"
		"2025-11-26T03:07:12Z," ARCH ",nas,verified,1234," SHA_A "\n"
		"2025-11-26T03:07:12Z," ARCH ",s3,shipped,1234," SHA_A "\n");
	free(buf);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert_uint_eq(ledger_count(l), 3);
	ck_assert_str_eq(ledger_get(l, 2)->destination, "s3");
	ck_assert(ledger_verified_on(l, ARCH, "nas", SHA_A));
	ck_assert(ledger_verified_on(l, ARCH, "nas", NULL));
	ck_assert(!ledger_verified_on(l, ARCH, "nas", SHA_B));
	ck_assert(!ledger_verified_on(l, ARCH, "s3", NULL));
	ck_assert(ledger_verified_on_any(l, ARCH, SHA_A));
	ck_assert(!ledger_verified_on_any(l, ARCH, SHA_B));
	ck_assert(!ledger_verified_on_any(l, "x/y.tar.gz", NULL));
	ck_assert(!ledger_verified_on_all(l, ARCH, both, 2, SHA_A));
	ck_assert(ledger_verified_on_all(l, ARCH, both, 1, SHA_A));
	ck_assert(!ledger_verified_on_all(l, ARCH, both, 0, SHA_A));
	ledger_free(l);
	/* A later failure or remote prune cancels "verified". */
	add("s3", LEDGER_VERIFIED, SHA_A);
	add("nas", LEDGER_PRUNED_REMOTE, SHA_A);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert(!ledger_verified_on(l, ARCH, "nas", NULL));
	ck_assert(ledger_verified_on_any(l, ARCH, SHA_A));
	ck_assert_int_eq(ledger_last(l, ARCH, "nas")->status,
			 LEDGER_PRUNED_REMOTE);
	ledger_free(l);
	add("s3", LEDGER_FAILED, SHA_A);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert(!ledger_verified_on_any(l, ARCH, SHA_A));
	ledger_free(l);
}
END_TEST

START_TEST(test_torn_tail)
{
	struct ledger *l;
	char why[200], *buf;
	size_t len;
	FILE *fp;

	add("nas", LEDGER_SHIPPED, SHA_A);
	fp = fopen(path, "a");
	fputs("2025-11-26T03:07:12Z,gateio/x.tar.gz,nas,verif", fp);
	fclose(fp);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert_uint_eq(ledger_count(l), 1);
	ledger_free(l);
	/* The next append drops the torn record instead of joining it. */
	add("nas", LEDGER_VERIFIED, SHA_A);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert(ledger_verified_on_any(l, ARCH, SHA_A));
	ledger_free(l);
	ck_assert_int_eq(fs_read_file(path, 1 << 20, &buf, &len), 0);
	ck_assert_ptr_null(strstr(buf, "verif,"));
	free(buf);
	/* An empty file (crash right after create) gets its header. */
	tu_write(path, "", 0);
	add("nas", LEDGER_VERIFIED, SHA_A);
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert_uint_eq(ledger_count(l), 1);
	ledger_free(l);
}
END_TEST

static void load_fails(const char *text, const char *needle)
{
	struct ledger *l;
	char why[200] = "";

	tu_write(path, text, strlen(text));
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), CORE_EPARSE);
	if (strstr(why, needle) == NULL)
		ck_abort_msg("'%s': reason '%s' lacks '%s'", text, why, needle);
}

START_TEST(test_load_errors)
{
	load_fails("time,archive\n", "line 1: bad header");
	load_fails(LEDGER_HEADER "\nx," ARCH ",nas,shipped,1," SHA_A "\n",
		   "line 2: field 'time'");
	load_fails(LEDGER_HEADER
		   "\n2025-11-26T03:07:12Z,../x,nas,shipped,1," SHA_A "\n",
		   "field 'archive'");
	load_fails(LEDGER_HEADER "\n2025-11-26T03:07:12Z," ARCH
				 ",n s,shipped,1," SHA_A "\n",
		   "field 'destination'");
	load_fails(LEDGER_HEADER "\n2025-11-26T03:07:12Z," ARCH
				 ",nas,lost,1," SHA_A "\n",
		   "field 'status'");
	load_fails(LEDGER_HEADER "\n2025-11-26T03:07:12Z," ARCH
				 ",nas,shipped,-1," SHA_A "\n",
		   "field 'bytes'");
	load_fails(LEDGER_HEADER "\n2025-11-26T03:07:12Z," ARCH
				 ",nas,shipped,1,abc\n",
		   "field 'sha256'");
	load_fails(LEDGER_HEADER "\n2025-11-26T03:07:12Z," ARCH ",nas\n"
				 "2025-11-26T03:07:12Z",
		   "line 2: expected 6 fields");
}
END_TEST

START_TEST(test_append_rejects)
{
	struct ledger_record r = {
		.archive = "/abs.tar.gz",
		.destination = "nas",
		.status = LEDGER_SHIPPED,
	};

	memcpy(r.sha256, SHA_A, 65);
	ck_assert_int_eq(ledger_append(path, &r), CORE_EINVAL);
	r.archive = "a/../b";
	ck_assert_int_eq(ledger_append(path, &r), CORE_EINVAL);
	r.archive = ARCH;
	r.destination = "bad,name";
	ck_assert_int_eq(ledger_append(path, &r), CORE_EINVAL);
	r.destination = "nas";
	r.sha256[3] = 'Z';
	ck_assert_int_eq(ledger_append(path, &r), CORE_EINVAL);
	ck_assert_int_ne(access(path, F_OK), 0);
	ck_assert_str_eq(ledger_status_name(LEDGER_PRUNED_REMOTE),
			 "pruned_remote");
}
END_TEST

/* Four processes appending at once never interleave or lose a record. */
START_TEST(test_concurrent_appends)
{
	struct ledger *l;
	char why[200];

	for (int p = 0; p < 4; p++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (int i = 0; i < 50; i++)
				add(p % 2 ? "nas" : "s3", LEDGER_SHIPPED,
				    SHA_A);
			_exit(0);
		}
	}
	for (int p = 0; p < 4; p++) {
		int status;

		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ck_assert_int_eq(ledger_load(path, &l, why, sizeof(why)), 0);
	ck_assert_uint_eq(ledger_count(l), 200);
	ledger_free(l);
}
END_TEST

static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_append_load);
	tcase_add_test(tc, test_torn_tail);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_append_rejects);
	tcase_add_test(tc, test_concurrent_appends);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ledger_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
