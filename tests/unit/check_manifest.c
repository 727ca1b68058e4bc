/* Unit suite for core/manifest: model, rendering, strict parsing. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "manifest.h"
#include "testutil.h"
#include "banned.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct manifest *sample(void)
{
	struct manifest *m = manifest_new();
	struct manifest_entry e = {
		.file = "gateio/2026-11-26/03/BTC_USDT.incremental_book_L2.csv",
		.bytes = 1234,
		.rows = 20,
		.has_times = true,
		.first_ts = 1764126000000000,
		.last_ts = 1764129599999999,
	};
	struct manifest_cut c = {
		.file = "gateio/2026-11-26/03/odd,name.book_events.csv",
		.kept_bytes = 60,
		.cut_bytes = 7,
		.reason = "partial line",
	};

	memcpy(e.sha256, SHA_A, 65);
	ck_assert_int_eq(manifest_add(m, &e), 0);
	e.file = c.file;
	e.bytes = 60;
	e.rows = 0;
	e.has_times = false;
	memcpy(e.sha256, SHA_B, 65);
	ck_assert_int_eq(manifest_add(m, &e), 0);
	memcpy(c.cut_sha256, SHA_B, 65);
	ck_assert_int_eq(manifest_add_cut(m, &c), 0);
	return m;
}

START_TEST(test_render_parse)
{
	struct manifest *m = sample(), *p;
	char *buf, *cuts, why[200];
	size_t len, clen;

	ck_assert_int_eq(manifest_render(m, &buf, &len), 0);
	ck_assert_str_eq(
		buf, MANIFEST_HEADER
		"\n"
		"gateio/2026-11-26/03/BTC_USDT.incremental_book_L2.csv,1234,"
		"20," SHA_A ",1764126000000000,1764129599999999\n"
		"\"gateio/2026-11-26/03/odd,name.book_events.csv\",60,0," SHA_B
		",,\n");
	ck_assert_int_eq(manifest_render_cuts(m, &cuts, &clen), 0);
	ck_assert_str_eq(cuts, CUTS_HEADER
			 "\n"
			 "\"gateio/2026-11-26/03/odd,name.book_events."
			 "csv\",60,7," SHA_B ",partial line\n");
	ck_assert_int_eq(manifest_parse(buf, len, &p, why, sizeof(why)), 0);
	ck_assert_int_eq(manifest_parse_cuts(p, cuts, clen, why, sizeof(why)),
			 0);
	ck_assert_int_eq(manifest_compare(m, p, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(
		manifest_find(p, "gateio/2026-11-26/03/"
				 "BTC_USDT.incremental_book_L2.csv"));
	ck_assert_ptr_null(manifest_find(p, "nope"));
	ck_assert_uint_eq(manifest_get(p, 0)->rows, 20);
	ck_assert(!manifest_get(p, 1)->has_times);
	ck_assert_uint_eq(manifest_cut_get(p, 0)->cut_bytes, 7);
	ck_assert_ptr_null(manifest_get(p, 2));
	/* A changed field is a difference. */
	manifest_free(p);
	buf[strlen(MANIFEST_HEADER) + 60] ^= 1;
	if (manifest_parse(buf, len, &p, why, sizeof(why)) == 0) {
		ck_assert_int_eq(manifest_compare(m, p, why, sizeof(why)),
				 CORE_ECORRUPT);
		manifest_free(p);
	}
	free(buf);
	free(cuts);
	manifest_free(m);
}
END_TEST

static void parse_fails(const char *text, const char *needle)
{
	struct manifest *p = (struct manifest *)1;
	char why[200] = "";

	ck_assert_int_eq(manifest_parse(text, strlen(text), &p, why,
					sizeof(why)),
			 CORE_EPARSE);
	ck_assert_ptr_null(p);
	if (strstr(why, needle) == NULL)
		ck_abort_msg("'%s': reason '%s' lacks '%s'", text, why, needle);
}

START_TEST(test_parse_errors)
{
	const char *h = MANIFEST_HEADER "\n";
	char buf[1024];

	parse_fails("", "missing header");
	parse_fails("file,bytes\n", "line 1: bad header");
#define ROW(x) (snprintf(buf, sizeof(buf), "%s%s", h, x), buf)
	parse_fails(ROW("a,1,2," SHA_A ",1,2"), "line 2: no final newline");
	parse_fails(ROW("a,1,2," SHA_A ",1\n"), "line 2: expected 6 fields");
	parse_fails(ROW("a,-1,2," SHA_A ",1,2\n"), "line 2: field 'bytes'");
	parse_fails(ROW("a,01,2," SHA_A ",1,2\n"), "field 'bytes'");
	parse_fails(ROW("a,1,x," SHA_A ",1,2\n"), "field 'rows'");
	parse_fails(ROW("a,1,2,ABC,1,2\n"), "field 'sha256'");
	parse_fails(ROW("a,1,2," SHA_A ",,2\n"), "field 'first_local");
	parse_fails(ROW("a,1,2," SHA_A ",3,2\n"), "field 'last_local");
	parse_fails(ROW(",1,2," SHA_A ",1,2\n"), "field 'file'");
	parse_fails(ROW("a,1,2," SHA_A ",1,2\na,1,2," SHA_A ",1,2\n"),
		    "line 3: field 'file': duplicate");
	parse_fails(ROW("a,1,2," SHA_A ",1,2\n\n"), "blank line");
	parse_fails(ROW("\"a,1,2\n"), "unterminated");
	parse_fails(ROW("a\"b,1,2," SHA_A ",1,2\n"), "line 2");
	parse_fails(ROW("a,99999999999999999999,2," SHA_A ",1,2\n"),
		    "field 'bytes'");
#undef ROW
}
END_TEST

START_TEST(test_cuts_errors)
{
	struct manifest *m = sample();
	const char *h = CUTS_HEADER "\n";
	char buf[1024], why[200];

	snprintf(buf, sizeof(buf), "%snope,60,7," SHA_B ",x\n", h);
	ck_assert_int_eq(manifest_parse_cuts(m, buf, strlen(buf), why,
					     sizeof(why)),
			 CORE_EPARSE);
	ck_assert_ptr_nonnull(strstr(why, "field 'file'"));
	snprintf(buf, sizeof(buf),
		 "%sgateio/2026-11-26/03/BTC_USDT.incremental_book_L2.csv,"
		 "1233,7," SHA_B ",x\n",
		 h);
	ck_assert_int_eq(manifest_parse_cuts(m, buf, strlen(buf), why,
					     sizeof(why)),
			 CORE_EPARSE);
	ck_assert_ptr_nonnull(strstr(why, "field 'kept_bytes'"));
	manifest_free(m);
}
END_TEST

START_TEST(test_add_rules)
{
	struct manifest *m = manifest_new();
	struct manifest_entry e = { .file = "a", .bytes = 1 };

	ck_assert_int_eq(manifest_add(m, &e), CORE_EINVAL); /* no sha */
	memcpy(e.sha256, SHA_A, 65);
	e.has_times = true;
	e.first_ts = 5;
	e.last_ts = 4;
	ck_assert_int_eq(manifest_add(m, &e), CORE_EINVAL);
	e.last_ts = 5;
	ck_assert_int_eq(manifest_add(m, &e), 0);
	ck_assert_int_eq(manifest_add(m, &e), CORE_EEXIST);
	e.file = "";
	ck_assert_int_eq(manifest_add(m, &e), CORE_EINVAL);
	ck_assert_uint_eq(manifest_count(m), 1);
	manifest_free(m);
	manifest_free(NULL);
}
END_TEST

/* Writes the fuzz seeds when BOOKTAPE_WRITE_CORPUS names a directory. */
START_TEST(test_corpus_seed)
{
	const char *dir = getenv("BOOKTAPE_WRITE_CORPUS");
	struct manifest *m = sample();
	char *buf, path[512];
	size_t len;

	ck_assert_int_eq(manifest_render(m, &buf, &len), 0);
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/seed-manifest.csv", dir);
		tu_write(path, buf, len);
	}
	free(buf);
	ck_assert_int_eq(manifest_render_cuts(m, &buf, &len), 0);
	if (dir != NULL) {
		snprintf(path, sizeof(path), "%s/seed-cuts.csv", dir);
		tu_write(path, buf, len);
	}
	free(buf);
	manifest_free(m);
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_render_parse);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_cuts_errors);
	tcase_add_test(tc, test_add_rules);
	tcase_add_test(tc, test_corpus_seed);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manifest_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
