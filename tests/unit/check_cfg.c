/* Unit suite for core/cfg: the YAML key-table engine and its value checks. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_testlib.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

/* One error each, with its exact position. */
static const struct err_case cfg_errors[] = {
	/* unknown and duplicate keys, at the key */
	{ BASE "  flush_intervall: 10\n",
	  "t.yml:4:3: unknown key 'flush_intervall'; did you mean "
	  "'flush_interval'?" },
	{ BASE "  zzz: 1\n", "t.yml:4:3: unknown key 'zzz'" },
	{ BASE "  depth_limit: 5\n  depth_limit: 6\n",
	  "t.yml:5:3: duplicate key 'depth_limit'" },
	{ BASE "  [a]: 1\n", "t.yml:4:3: expected a key name, got a sequence" },
	/* wrong types, at the value */
	{ BASE "  flush_interval: ten\n",
	  "t.yml:4:19: flush_interval: expected a number, got 'ten'" },
	{ BASE "  flush_interval: \"10\"\n",
	  "t.yml:4:19: flush_interval: expected a number, got the quoted "
	  "string '10' (write it without quotes)" },
	{ BASE "  depth_limit: 1.5\n",
	  "t.yml:4:16: depth_limit: expected an integer, got '1.5'" },
	{ BASE "  depth_limit: [1]\n",
	  "t.yml:4:16: depth_limit: expected an integer, got a sequence" },
	{ BASE "  buffer_size:\n",
	  "t.yml:4:15: buffer_size: expected an integer, got nothing" },
	{ BASE "  buffer_size: 0x10\n",
	  "t.yml:4:16: buffer_size: expected an integer, got '0x10'" },
	{ BASE "  gap_warning_threshold: 007\n",
	  "t.yml:4:26: gap_warning_threshold: expected an integer, got '007'" },
	{ BASE "  snapshot_interval: .inf\n",
	  "t.yml:4:22: snapshot_interval: expected a number, got '.inf'" },
	{ BASE "  snapshot_interval: nan\n",
	  "t.yml:4:22: snapshot_interval: expected a number, got 'nan'" },
	{ BASE "  update_events: maybe\n",
	  "t.yml:4:18: update_events: expected true or false, got 'maybe'" },
	{ BASE "  update_events: \"true\"\n",
	  "t.yml:4:18: update_events: expected true or false, got the quoted "
	  "string 'true' (write it without quotes)" },
	{ BASE "  update_events: {a: 1}\n",
	  "t.yml:4:18: update_events: expected true or false, got a mapping" },
	{ BASE "  data_dir: \"\"\n",
	  "t.yml:4:13: data_dir: must not be empty" },
	{ BASE "  data_dir:\n", "t.yml:4:12: data_dir: must not be empty" },
	{ BASE "  data_dir: [a]\n",
	  "t.yml:4:13: data_dir: expected a string, got a sequence" },
	{ BASE "  ca_file: \"a\\tb\"\n",
	  "t.yml:4:12: ca_file: contains a control character" },
	{ BASE "  ca_file: \"\"\n",
	  "t.yml:4:12: ca_file: must not be empty (use null)" },
	/* the document itself */
	{ "", "t.yml:1:1: empty file; expected a 'config:' mapping" },
	{ "# nothing\n",
	  "t.yml:1:1: empty file; expected a 'config:' mapping" },
	{ "- a\n", "t.yml:1:1: expected a mapping with a 'config:' key, got a "
		   "sequence" },
	{ "config: []\n",
	  "t.yml:1:9: config: expected a mapping, got a sequence" },
	{ "config:\n", "t.yml:1:8: config: expected a mapping, got nothing" },
	{ "conifg:\n  a: 1\n",
	  "t.yml:1:1: unknown key 'conifg'; did you mean 'config'?\n"
	  "t.yml:1:1: missing required key 'config'" },
	{ "config: {connector_name: mexc, trading_pairs: [A-B]}\n"
	  "config: {}\n",
	  "t.yml:2:1: duplicate key 'config'" },
	{ "config: {connector_name: mexc, trading_pairs: [A-B]}\n---\nb: 1\n",
	  "t.yml:3:1: only one YAML document is allowed" },
	/* libyaml syntax errors: problem mark + 1, and the context */
	{ "config:\n  trading_pairs: [a\n  x: 1\n",
	  "t.yml:3:4: did not find expected ',' or ']' (while parsing a flow "
	  "sequence at line 2)" },
	{ "config:\n  a: b: c\n",
	  "t.yml:2:7: mapping values are not allowed in this context" },
	{ "config:\n\tconnector_name: mexc\n",
	  "t.yml:2:1: found character that cannot start any token (while "
	  "scanning for the next token at line 2)" },
	{ "config:\n  a: 1\n  b: \xff\n",
	  "t.yml:3:6: invalid leading UTF-8 octet (byte 0xff)" },
	{ "config:\n  trading_pairs: *nope\n",
	  "t.yml:2:18: found undefined alias" },
};

START_TEST(test_cfg_errors)
{
	char *err = parse_err(cfg_errors[_i].yaml);

	ck_assert_str_eq(err, cfg_errors[_i].want);
	free(err);
}
END_TEST

START_TEST(test_multiple_errors)
{
	static const char yaml[] = "config:\n"
				   "  connector_name: gate_io\n"
				   "  trading_pairs: [BTC-USDT, eth-usdt]\n"
				   "  depth_limit: 0\n"
				   "  flush_intervall: 10\n"
				   "  channel: spot.foo\n"
				   "  gzip_level: 6\n";
	char *err = parse_err(yaml);

	/* All of them, one per line, in file order. */
	ck_assert_str_eq(err,
			 "t.yml:3:29: pair 'eth-usdt': must be upper case "
			 "BASE-QUOTE\n"
			 "t.yml:4:16: depth_limit: must be between 1 and "
			 "5000, got '0'\n"
			 "t.yml:5:3: unknown key 'flush_intervall'; did you "
			 "mean 'flush_interval'?\n"
			 "t.yml:6:12: channel: 'spot.foo' is not a Gate.io "
			 "book channel (expected spot.order_book_update or "
			 "spot.obu)\n"
			 "t.yml:7:3: unknown key 'gzip_level'");
	free(err);
}
END_TEST

START_TEST(test_error_cap)
{
	char yaml[8192], *err, *nl;
	size_t off = 0;
	int lines = 1;

	off += (size_t)snprintf(yaml, sizeof(yaml), "%s", BASE);
	for (int i = 0; i < 150; i++)
		off += (size_t)snprintf(yaml + off, sizeof(yaml) - off,
					"  k%d: 1\n", i);
	err = parse_err(yaml);
	for (nl = err; (nl = strchr(nl, '\n')) != NULL; nl++)
		lines++;
	ck_assert_int_eq(lines, 101);
	ck_assert_ptr_nonnull(strstr(err, "t.yml:4:3: unknown key 'k0'\n"));
	ck_assert_ptr_nonnull(strstr(err, "\nt.yml: 50 more errors not shown"));
	free(err);
}
END_TEST

/* Long or binary values are shortened and escaped in messages. */
START_TEST(test_error_escaping)
{
	char *err = parse_err(
		BASE "  ws_url: \"\\e[31m"
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		     "aaaaaaaaaaa\"\n");

	ck_assert_str_eq(err, "t.yml:4:11: ws_url: contains a control "
			      "character");
	free(err);
	err = parse_err(BASE "  connector_name2: x\n  ws_url: \"x\\u00e9"
			     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			     "\"\n");
	ck_assert_str_eq(
		err,
		"t.yml:4:3: unknown key 'connector_name2'; did you mean "
		"'connector_name'?\n"
		"t.yml:5:11: ws_url: 'x\\xc3\\xa9aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaa...' must start with ws:// or wss://");
	free(err);
}
END_TEST

START_TEST(test_load_failures)
{
	struct recorder_config c;
	struct rotate_config r;
	struct backup_config b;
	char *dir = tu_tmpdir(), path[512], *err = NULL, *big;

	errno = 0;
	ck_assert_int_eq(config_load_recorder("/nonexistent/x.yml", &c, &err),
			 CORE_ESYS);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_str_eq(err, "/nonexistent/x.yml: No such file or directory");
	free(err);
	ck_assert_int_eq(config_load_rotate("/nonexistent/x.yml", &r, NULL),
			 CORE_ESYS);
	ck_assert_int_eq(config_load_backup("/nonexistent/x.yml", &b, NULL),
			 CORE_ESYS);
	big = malloc((2u << 20) + 1);
	memset(big, '#', 2u << 20);
	big[2u << 20] = '\0';
	write_file(dir, "big.yml", big, path, sizeof(path));
	free(big);
	ck_assert_int_eq(config_load_recorder(path, &c, &err), CORE_ECONFIG);
	strip_dir(err, dir);
	ck_assert_str_eq(err, "big.yml:1:1: larger than 1048576 bytes");
	free(err);
	/* Errors from a file carry its path. */
	write_file(dir, "r.yml", BASE "  depth_limit: 0\n", path, sizeof(path));
	ck_assert_int_eq(config_load_recorder(path, &c, NULL), CORE_ECONFIG);
	ck_assert_int_eq(config_load_recorder(path, &c, &err), CORE_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, dir));
	strip_dir(err, dir);
	ck_assert_str_eq(err, "r.yml:4:16: depth_limit: must be between 1 "
			      "and 5000, got '0'");
	free(err);
	tu_rmtree(dir);
}
END_TEST

/* A full stream makes the dump fail rather than print half a config. */
START_TEST(test_dump_write_error)
{
	struct rotate_config r;
	FILE *fp = fopen("/dev/full", "w");
	char *err = NULL;

	ck_assert_int_eq(config_load_rotate("config/rotate.yml", &r, &err), 0);
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(config_dump_rotate(&r, fp), CORE_ESYS);
	fclose(fp);
	config_release_rotate(&r);
}
END_TEST

static Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_loop_test(tc, test_cfg_errors, 0,
			    (int)CORE_ARRAY_LEN(cfg_errors));
	tcase_add_test(tc, test_multiple_errors);
	tcase_add_test(tc, test_error_cap);
	tcase_add_test(tc, test_error_escaping);
	tcase_add_test(tc, test_load_failures);
	tcase_add_test(tc, test_dump_write_error);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cfg_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
