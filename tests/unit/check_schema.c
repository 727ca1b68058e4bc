/* Unit suite for core/schema: the embedded YAML, templates, row checks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "schema.h"
#include "testutil.h"
#include "banned.h"

static struct schema_set *load(void)
{
	struct schema_set *set;
	char *err;
	int rc = schema_set_load(&set, &err);

	ck_assert_msg(rc == 0, "load: %s", err ? err : core_strerror(rc));
	ck_assert_ptr_null(err);
	return set;
}

/* Check a row given as one comma-separated string (no quoting). */
static int row(const struct schema *s, const char *line, char *why,
	       size_t whysize)
{
	const char *f[4100];
	size_t l[4100], n = 0;
	const char *p = line;

	for (;;) {
		const char *c = strchr(p, ',');
		size_t len = c ? (size_t)(c - p) : strlen(p);

		ck_assert_uint_lt(n, 4100);
		f[n] = p;
		l[n++] = len;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return schema_check_row(s, f, l, n, why, whysize);
}

START_TEST(test_l2_columns)
{
	struct schema_set *set = load();
	const struct schema *s = schema_set_find(set, "incremental_book_L2");

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->dataset, "incremental_book_L2");
	ck_assert_str_eq(s->header, "exchange,symbol,timestamp,local_timestamp,"
				    "is_snapshot,side,price,amount");
	ck_assert_uint_eq(s->ncols, 8);
	ck_assert_int_eq(s->time_col, 3);
	ck_assert_int_eq(s->cols[2].type, SCHEMA_TIME_US);
	ck_assert_int_eq(s->cols[4].type, SCHEMA_BOOL);
	ck_assert_int_eq(s->cols[5].type, SCHEMA_ENUM);
	ck_assert_str_eq(s->cols[5].values[0], "bid");
	ck_assert_str_eq(s->cols[5].values[1], "ask");
	ck_assert_ptr_null(s->cols[5].values[2]);
	ck_assert_int_eq(s->cols[6].type, SCHEMA_DECIMAL);
	ck_assert(!s->cols[6].nullable);
	ck_assert(!s->cols[6].allow_negative);
	/* The same pointer every time. */
	ck_assert_ptr_eq(s, schema_set_find(set, "incremental_book_L2"));
	ck_assert_ptr_null(schema_set_find(set, "incremental_book_l2"));
	ck_assert_ptr_null(schema_set_find(set, "nope"));
	schema_set_free(set);
}
END_TEST

START_TEST(test_events_columns)
{
	static const char *const ev[] = {
		"subscribed",	"snapshot",   "gap",	   "resync",
		"full_refresh", "disconnect", "reconnect", "dropped",
		"shutdown",	"update",     "rollover",
	};
	struct schema_set *set = load();
	const struct schema *s = schema_set_find(set, "book_events");
	size_t i;

	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->header, "local_timestamp,event,first_update_id,"
				    "last_update_id,expected_update_id,detail");
	ck_assert_int_eq(s->time_col, 0);
	for (i = 0; s->cols[1].values[i] != NULL; i++) {
		ck_assert_uint_lt(i, CORE_ARRAY_LEN(ev));
		ck_assert_str_eq(s->cols[1].values[i], ev[i]);
	}
	ck_assert_uint_eq(i, CORE_ARRAY_LEN(ev));
	ck_assert(s->cols[2].nullable && s->cols[5].nullable);
	ck_assert(!s->cols[0].nullable && !s->cols[1].nullable);
	ck_assert_int_eq(row(s, "1,gap,5,9,4,", NULL, 0), 0);
	ck_assert_int_eq(row(s, "1,update,-5,9,,some text", NULL, 0), 0);
	ck_assert_int_eq(row(s, "1,updates,5,9,,", NULL, 0), CORE_ESCHEMA);
	ck_assert_int_eq(row(s, "1,,5,9,,", NULL, 0), CORE_ESCHEMA);
	schema_set_free(set);
}
END_TEST

START_TEST(test_snapshot_template)
{
	struct schema_set *set = load();
	const struct schema *s3 = schema_set_find(set, "book_snapshot_3");
	const struct schema *s1000, *s25;

	ck_assert_ptr_nonnull(s3);
	ck_assert_str_eq(s3->dataset, "book_snapshot_3");
	ck_assert_uint_eq(s3->ncols, 4 + 3 * 4);
	ck_assert_int_eq(s3->time_col, 3);
	ck_assert_str_eq(
		s3->header,
		"exchange,symbol,timestamp,local_timestamp,"
		"asks[0].price,asks[0].amount,bids[0].price,bids[0].amount,"
		"asks[1].price,asks[1].amount,bids[1].price,bids[1].amount,"
		"asks[2].price,asks[2].amount,bids[2].price,bids[2].amount");
	ck_assert(s3->cols[15].nullable);
	ck_assert_int_eq(s3->cols[15].type, SCHEMA_DECIMAL);
	ck_assert_ptr_eq(s3, schema_set_find(set, "book_snapshot_3"));
	s25 = schema_set_find(set, "book_snapshot_25");
	ck_assert_ptr_nonnull(s25);
	ck_assert_str_eq(s25->cols[4 + 24 * 4 + 3].name, "bids[24].amount");
	s1000 = schema_set_find(set, "book_snapshot_1000");
	ck_assert_ptr_nonnull(s1000);
	ck_assert_uint_eq(s1000->ncols, 4004);
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_0"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_1001"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_025"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_N"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_2x"));
	ck_assert_ptr_null(schema_set_find(set, "book_snapshot_99999999999"));
	/* Empty cells where a side has fewer levels. */
	ck_assert_int_eq(row(s3, "gateio,BTC_USDT,1,2,1.5,2,1.4,3,1.6,1,,,,,,",
			     NULL, 0),
			 0);
	schema_set_free(set);
}
END_TEST

START_TEST(test_check_types)
{
	struct schema_set *set = load();
	const struct schema *s = schema_set_find(set, "incremental_book_L2");
	char why[128];
	static const char *const good[] = {
		"gateio,BTC_USDT,1700000000000000,1700000000000001,true,bid,"
		"65000.1,0.5",
		"mexc,X,0,0,false,ask,0,0",
		"okx,BTC-USDT,9223372036854775807,1,false,ask,00012.34000,10",
		"a b,\"q\",1,1,false,ask,1.0,0.00000001",
	};
	static const char *const bad[] = {
		",BTC,1,1,true,bid,1,1",    /* empty exchange */
		"g,BTC,-1,1,true,bid,1,1",  /* negative time */
		"g,BTC,1.5,1,true,bid,1,1", /* fractional time */
		"g,BTC,9223372036854775808,1,true,bid,1,1", /* > int64 */
		"g,BTC,1,1,TRUE,bid,1,1",		    /* bool case */
		"g,BTC,1,1,1,bid,1,1",			    /* bool digit */
		"g,BTC,1,1,true,buy,1,1",		    /* side */
		"g,BTC,1,1,true,bid,-1,1",		    /* negative price */
		"g,BTC,1,1,true,bid,1e3,1",		    /* exponent */
		"g,BTC,1,1,true,bid,.5,1",    /* no leading digit */
		"g,BTC,1,1,true,bid,5.,1",    /* no trailing digit */
		"g,BTC,1,1,true,bid,1.2.3,1", /* two dots */
		"g,BTC,1,1,true,bid,+1,1",    /* plus sign */
		"g,BTC,1,1,true,bid, 1,1",    /* space */
		"g,BTC,1,1,true,bid,1,",      /* empty amount */
		"g,BTC,1,1,true,bid,1,nan",   /* not a number */
		"g,BTC,1,1,true,bid,1",	      /* 7 fields */
		"g,BTC,1,1,true,bid,1,1,1",   /* 9 fields */
	};

	for (size_t i = 0; i < CORE_ARRAY_LEN(good); i++)
		ck_assert_msg(row(s, good[i], why, sizeof(why)) == 0, "%s: %s",
			      good[i], why);
	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		ck_assert_msg(row(s, bad[i], why, sizeof(why)) == CORE_ESCHEMA,
			      "accepted %s", bad[i]);
		ck_assert_msg(why[0] != '\0', "no reason for %s", bad[i]);
	}
	row(s, "g,BTC,1,1,true,bid,1", why, sizeof(why));
	ck_assert_str_eq(why, "expected 8 fields, got 7");
	row(s, "g,BTC,1,1,true,bid,-1,1", why, sizeof(why));
	ck_assert_str_eq(why, "field 'price': negative");
	row(s, "g,BTC,1,1,true,bid,1,", why, sizeof(why));
	ck_assert_str_eq(why, "field 'amount': empty");
	/* A 65-byte decimal is refused, 64 accepted. */
	{
		char line[200];

		snprintf(line, sizeof(line), "g,B,1,1,true,bid,1,%0*d", 64, 1);
		ck_assert_int_eq(row(s, line, NULL, 0), 0);
		snprintf(line, sizeof(line), "g,B,1,1,true,bid,1,%0*d", 65, 1);
		ck_assert_int_eq(row(s, line, NULL, 0), CORE_ESCHEMA);
	}
	schema_set_free(set);
}
END_TEST

START_TEST(test_check_nul_and_int_limits)
{
	struct schema_set *set = load();
	const struct schema *s = schema_set_find(set, "book_events");
	const char *f[6] = {
		"1", "gap", "-9223372036854775808", "9223372036854775807",
		"",  "a\0b"
	};
	size_t l[6] = { 1, 3, 20, 19, 0, 3 };
	char why[128];

	ck_assert_int_eq(schema_check_row(s, f, l, 6, why, sizeof(why)),
			 CORE_ESCHEMA);
	ck_assert_str_eq(why, "field 'detail': holds a NUL byte");
	l[5] = 1;
	ck_assert_int_eq(schema_check_row(s, f, l, 6, why, sizeof(why)), 0);
	f[2] = "-9223372036854775809";
	l[2] = 20;
	ck_assert_int_eq(schema_check_row(s, f, l, 6, why, sizeof(why)),
			 CORE_ESCHEMA);
	ck_assert_str_eq(why, "field 'first_update_id': out of range");
	f[2] = "-";
	l[2] = 1;
	ck_assert_int_eq(schema_check_row(s, f, l, 6, NULL, 0), CORE_ESCHEMA);
	/* Fields need not be NUL-terminated: lengths rule. */
	f[0] = "12345";
	l[0] = 2;
	f[2] = "77x";
	l[2] = 2;
	ck_assert_int_eq(schema_check_row(s, f, l, 6, NULL, 0), 0);
	schema_set_free(set);
}
END_TEST

START_TEST(test_split_filename)
{
	char sym[32], ds[32];

	ck_assert_int_eq(
		schema_split_filename("BTC_USDT.incremental_book_L2.csv", sym,
				      sizeof(sym), ds, sizeof(ds)),
		0);
	ck_assert_str_eq(sym, "BTC_USDT");
	ck_assert_str_eq(ds, "incremental_book_L2");
	ck_assert_int_eq(schema_split_filename("A.B.book_events.csv", sym,
					       sizeof(sym), ds, sizeof(ds)),
			 0);
	ck_assert_str_eq(sym, "A.B");
	ck_assert_str_eq(ds, "book_events");
	static const char *const bad[] = {
		"BTC.csv", ".x.csv", "BTC..csv", "BTC.x.tsv",	 "a/b.x.csv",
		"",	   ".csv",   "x.csv.gz", "MANIFEST.csv",
	};
	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++) {
		ck_assert_msg(schema_split_filename(bad[i], sym, sizeof(sym),
						    ds,
						    sizeof(ds)) == CORE_EPARSE,
			      "accepted '%s'", bad[i]);
		ck_assert_str_eq(sym, "");
		ck_assert_str_eq(ds, "");
	}
	ck_assert_int_eq(schema_split_filename("LONGSYMBOL.ds.csv", sym, 5, ds,
					       sizeof(ds)),
			 CORE_ETOOBIG);
	ck_assert_int_eq(schema_split_filename("S.dataset.csv", sym,
					       sizeof(sym), ds, 7),
			 CORE_ETOOBIG);
	ck_assert_str_eq(sym, "");
}
END_TEST

/* Load a single blob and expect an error naming file:line:column. */
static void expect_load_error(const char *name, const char *yaml,
			      const char *want)
{
	struct schema_blob blobs[2] = { { name, yaml }, { NULL, NULL } };
	struct schema_set *set;
	char *err;

	ck_assert_int_eq(schema_set_load_blobs(blobs, &set, &err), CORE_EPARSE);
	ck_assert_ptr_null(set);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strcmp(err, want) == 0, "got '%s', want '%s'", err, want);
	free(err);
}

#define TS_COL "  - {name: local_timestamp, type: time_us}\n"

START_TEST(test_load_errors)
{
	expect_load_error("x", "dataset: x\ncolumns: [\n",
			  "schema/x.yml:3:1: did not find expected node "
			  "content");
	expect_load_error("x", "dataset: y\ncolumns:\n" TS_COL,
			  "schema/x.yml:1:1: dataset 'y' in file 'x.yml'");
	expect_load_error("x", "dataset: x\ncolour: 1\n",
			  "schema/x.yml:2:1: unknown or duplicate key "
			  "'colour'");
	expect_load_error("x",
			  "dataset: x\ncolumns:\n" TS_COL
			  "  - {name: a, type: float}\n",
			  "schema/x.yml:4:21: unknown type 'float'");
	expect_load_error("x",
			  "dataset: x\ncolumns:\n" TS_COL
			  "  - {name: a, type: enum}\n",
			  "schema/x.yml:4:5: column 'a': values go with type "
			  "enum");
	expect_load_error("x",
			  "dataset: x\ncolumns:\n" TS_COL
			  "  - {name: local_timestamp, type: int}\n",
			  "schema/x.yml:4:5: duplicate column "
			  "'local_timestamp'");
	expect_load_error("x",
			  "dataset: x\ncolumns:\n"
			  "  - {name: a, type: string, nulable: true}\n",
			  "schema/x.yml:3:29: unknown column key 'nulable'");
	expect_load_error("x",
			  "dataset: x\ncolumns:\n  - {name: a, type: int}\n",
			  "schema/x.yml:1:1: needs a non-null time_us "
			  "local_timestamp");
	expect_load_error("x_N", "dataset: x_N\ncolumns:\n" TS_COL,
			  "schema/x_N.yml:1:1: a template is named '*_N' and "
			  "has 'levels'");
	expect_load_error("x_N",
			  "dataset: x_N\ncolumns:\n" TS_COL
			  "levels:\n  - {name: a, type: int}\n",
			  "schema/x_N.yml:1:1: level column 'a' lacks {i}");
	expect_load_error("x", "",
			  "schema/x.yml:1:1: expected a map at the "
			  "top level");
}
END_TEST

START_TEST(test_load_custom)
{
	struct schema_blob blobs[] = {
		{ "t", "dataset: t\ncolumns:\n" TS_COL
		       "  - {name: pnl, type: decimal, signed: true}\n" },
		{ NULL, NULL },
	};
	struct schema_set *set;
	const struct schema *s;
	char *err;

	ck_assert_int_eq(schema_set_load_blobs(blobs, &set, &err), 0);
	s = schema_set_find(set, "t");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->header, "local_timestamp,pnl");
	ck_assert_int_eq(row(s, "5,-1.5", NULL, 0), 0);
	ck_assert_int_eq(row(s, "5,--1.5", NULL, 0), CORE_ESCHEMA);
	ck_assert_int_eq(row(s, "5,-", NULL, 0), CORE_ESCHEMA);
	schema_set_free(set);
	schema_set_free(NULL);
}
END_TEST

static Suite *schema_suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("schema");

	tcase_add_test(tc, test_l2_columns);
	tcase_add_test(tc, test_events_columns);
	tcase_add_test(tc, test_snapshot_template);
	tcase_add_test(tc, test_check_types);
	tcase_add_test(tc, test_check_nul_and_int_limits);
	tcase_add_test(tc, test_split_filename);
	tcase_add_test(tc, test_load_errors);
	tcase_add_test(tc, test_load_custom);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(schema_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
