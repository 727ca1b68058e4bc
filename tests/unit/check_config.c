/* Unit suite for core/config: the recorder's keys, defaults and rules. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_testlib.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

/* The recorder block of DESIGN.md "Config", byte for byte. */
static const char design_recorder[] =
	"config:\n"
	"  connector_name: \"gate_io\"          # gate_io | mexc | binance | "
	"okx (also: gateio)\n"
	"  trading_pairs: [\"VIRTUAL-USDT\", \"IRON-USDT\"]\n"
	"  depth_limit: 100                   # snapshot depth asked for and "
	"levels kept\n"
	"  snapshot_interval: 300             # seconds between book_snapshot "
	"rows\n"
	"  buffer_size: 100                   # rows buffered per file before a "
	"write\n"
	"  flush_interval: 10.0               # max seconds a row may wait "
	"before write(2)\n"
	"  gap_warning_threshold: 50          # gaps larger than this log at "
	"warning level\n";

static void check_design_pairs(const struct recorder_config *c)
{
	ck_assert_uint_eq(c->npairs, 2);
	ck_assert_str_eq(c->pairs[0], "VIRTUAL-USDT");
	ck_assert_str_eq(c->pairs[1], "IRON-USDT");
}

/* The booktape keys left at their defaults. */
static void check_booktape_defaults(const struct recorder_config *c)
{
	ck_assert_str_eq(c->data_dir, "/var/lib/booktape");
	ck_assert_str_eq(c->metrics_listen, "127.0.0.1:8000");
	ck_assert_ptr_null(c->channel);
	ck_assert_uint_eq(c->datasets, DATASET_INCREMENTAL_L2 |
					       DATASET_BOOK_SNAPSHOT |
					       DATASET_BOOK_EVENTS);
	ck_assert_int_eq(c->snapshot_depth, 25);
	ck_assert_double_eq(c->stale_after, 60);
	ck_assert_double_eq(c->fsync_interval, 1.0);
	ck_assert(!c->update_events);
	ck_assert(c->rollover);
	ck_assert_double_eq(c->rollover_margin, 600);
	ck_assert_double_eq(c->conn_lifetime, 0);
	ck_assert_ptr_null(c->ws_url);
	ck_assert_ptr_null(c->rest_url);
	ck_assert_ptr_null(c->ca_file);
}

static void check_old_keys(const struct recorder_config *c)
{
	ck_assert_int_eq(c->depth_limit, 100);
	ck_assert_double_eq(c->snapshot_interval, 300);
	ck_assert_int_eq(c->buffer_size, 100);
	ck_assert_double_eq(c->flush_interval, 10.0);
	ck_assert_int_eq(c->gap_warning_threshold, 50);
}

START_TEST(test_design_block)
{
	struct recorder_config c;
	char *err = NULL;

	ck_assert_int_eq(parse(design_recorder, &c, &err), 0);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(c.path, "t.yml");
	ck_assert_int_eq(c.exchange, EXCHANGE_GATEIO);
	ck_assert_str_eq(c.connector_name, "gate_io");
	check_design_pairs(&c);
	check_old_keys(&c);
	check_booktape_defaults(&c);
	config_release_recorder(&c);
	ck_assert_ptr_null(c.pairs);
	config_release_recorder(&c); /* twice is harmless */
	config_release_recorder(NULL);
}
END_TEST

START_TEST(test_shipped_gateio)
{
	struct recorder_config c;
	char *err = NULL;
	int rc = config_load_recorder("config/orderbook_tick_gateio.yml", &c,
				      &err);

	ck_assert_msg(rc == 0, "%s", err ? err : "");
	ck_assert_str_eq(c.path, "config/orderbook_tick_gateio.yml");
	ck_assert_int_eq(c.exchange, EXCHANGE_GATEIO);
	ck_assert_str_eq(c.connector_name, "gate_io");
	ck_assert_uint_eq(c.npairs, 4);
	ck_assert_str_eq(c.pairs[0], "BTC-USDT");
	ck_assert_str_eq(c.pairs[1], "ETH-USDT");
	ck_assert_str_eq(c.pairs[2], "VIRTUAL-USDT");
	ck_assert_str_eq(c.pairs[3], "IRON-USDT");
	check_old_keys(&c);
	check_booktape_defaults(&c);
	config_release_recorder(&c);
}
END_TEST

START_TEST(test_shipped_mexc)
{
	struct recorder_config c;
	char *err = NULL;
	int rc = config_load_recorder("config/orderbook_tick_mexc.yml", &c,
				      &err);

	ck_assert_msg(rc == 0, "%s", err ? err : "");
	ck_assert_int_eq(c.exchange, EXCHANGE_MEXC);
	ck_assert_str_eq(c.connector_name, "mexc");
	ck_assert_uint_eq(c.npairs, 2);
	ck_assert_str_eq(c.pairs[0], "BTC-USDT");
	ck_assert_str_eq(c.pairs[1], "ETH-USDT");
	check_old_keys(&c);
	check_booktape_defaults(&c);
	config_release_recorder(&c);
}
END_TEST

/* The commented-out lines in the shipped files show valid defaults. */
START_TEST(test_shipped_commented_defaults)
{
	static const char *const files[] = {
		"config/orderbook_tick_gateio.yml",
		"config/orderbook_tick_mexc.yml",
	};

	for (size_t f = 0; f < CORE_ARRAY_LEN(files); f++) {
		struct recorder_config c;
		char *buf = NULL, *err = NULL, *p;
		size_t len = 0;
		FILE *in = fopen(files[f], "r");

		ck_assert_ptr_nonnull(in);
		ck_assert_int_eq(fseek(in, 0, SEEK_END), 0);
		len = (size_t)ftell(in);
		rewind(in);
		buf = calloc(1, len + 1);
		ck_assert_uint_eq(fread(buf, 1, len, in), len);
		fclose(in);
		/* Uncomment the "  # key: value" lines. */
		for (p = buf; (p = strstr(p, "\n  # ")) != NULL; p++) {
			char *colon = strchr(p + 5, ':');

			if (colon != NULL && colon < strchr(p + 5, '\n') &&
			    colon[1] == ' ' && strchr(p + 5, ' ') > colon)
				memmove(p + 3, p + 5, strlen(p + 5) + 1);
		}
		ck_assert_msg(strstr(buf, "\n  ca_file:") != NULL, "%s", buf);
		ck_assert_msg(parse(buf, &c, &err) == 0, "%s", err);
		check_old_keys(&c);
		/* Gate.io's default channel is spelled out; MEXC's is null. */
		if (c.exchange == EXCHANGE_GATEIO) {
			ck_assert_str_eq(c.channel, "spot.order_book_update");
			free(c.channel);
			c.channel = NULL;
		}
		check_booktape_defaults(&c);
		config_release_recorder(&c);
		free(buf);
	}
}
END_TEST

START_TEST(test_defaults)
{
	struct recorder_config c;
	char *err = NULL;

	ck_assert_int_eq(parse(BASE, &c, &err), 0);
	ck_assert_int_eq(c.exchange, EXCHANGE_GATEIO);
	ck_assert_uint_eq(c.npairs, 1);
	check_old_keys(&c);
	check_booktape_defaults(&c);
	config_release_recorder(&c);
}
END_TEST

static const char all_keys[] =
	"config:\n"
	"  connector_name: gateio\n"
	"  trading_pairs:\n"
	"    - BTC-USDT\n"
	"    - \"1INCH-USDT\"\n"
	"  depth_limit: 200\n"
	"  snapshot_interval: 0\n"
	"  buffer_size: 1\n"
	"  flush_interval: 0.1\n"
	"  gap_warning_threshold: 0\n"
	"  data_dir: 'rel/d\"ir\\x'\n"
	"  metrics_listen: \"[::1]:9101\"\n"
	"  channel: spot.obu\n"
	"  datasets: [book_events, incremental_book_L2]\n"
	"  snapshot_depth: 200\n"
	"  stale_after: 2.5\n"
	"  fsync_interval: 0\n"
	"  update_events: yes\n"
	"  rollover: no\n"
	"  rollover_margin: 8\n"
	"  connection_lifetime: 20.5\n"
	"  ws_url: ws://127.0.0.1:9000/ws/v4/\n"
	"  rest_url: http://127.0.0.1:9000/api/v4/\n"
	"  ca_file: /etc/ssl/ca.pem\n";

static void check_all_keys(const struct recorder_config *c)
{
	ck_assert_int_eq(c->exchange, EXCHANGE_GATEIO);
	ck_assert_str_eq(c->connector_name, "gateio");
	ck_assert_uint_eq(c->npairs, 2);
	ck_assert_str_eq(c->pairs[1], "1INCH-USDT");
	ck_assert_int_eq(c->depth_limit, 200);
	ck_assert_double_eq(c->snapshot_interval, 0);
	ck_assert_int_eq(c->buffer_size, 1);
	ck_assert_double_eq(c->flush_interval, 0.1);
	ck_assert_int_eq(c->gap_warning_threshold, 0);
	ck_assert_str_eq(c->data_dir, "rel/d\"ir\\x");
	ck_assert_str_eq(c->metrics_listen, "[::1]:9101");
	ck_assert_str_eq(c->channel, "spot.obu");
	ck_assert_uint_eq(c->datasets,
			  DATASET_INCREMENTAL_L2 | DATASET_BOOK_EVENTS);
	ck_assert_int_eq(c->snapshot_depth, 200);
	ck_assert_double_eq(c->stale_after, 2.5);
	ck_assert_double_eq(c->fsync_interval, 0);
	ck_assert(c->update_events);
	ck_assert(!c->rollover);
	ck_assert_double_eq(c->rollover_margin, 8);
	ck_assert_double_eq(c->conn_lifetime, 20.5);
	/* The WS path keeps its '/'; the REST base loses it. */
	ck_assert_str_eq(c->ws_url, "ws://127.0.0.1:9000/ws/v4/");
	ck_assert_str_eq(c->rest_url, "http://127.0.0.1:9000/api/v4");
	ck_assert_str_eq(c->ca_file, "/etc/ssl/ca.pem");
}

START_TEST(test_all_keys)
{
	struct recorder_config c;
	char *err = NULL;

	ck_assert_msg(parse(all_keys, &c, &err) == 0, "%s", err);
	check_all_keys(&c);
	config_release_recorder(&c);
}
END_TEST

static void rec_equal(const struct recorder_config *a,
		      const struct recorder_config *b)
{
	ck_assert_int_eq(a->exchange, b->exchange);
	ck_assert_str_eq(a->connector_name, b->connector_name);
	ck_assert_uint_eq(a->npairs, b->npairs);
	for (size_t i = 0; i < a->npairs; i++)
		ck_assert_str_eq(a->pairs[i], b->pairs[i]);
	ck_assert_int_eq(a->depth_limit, b->depth_limit);
	ck_assert(a->snapshot_interval == b->snapshot_interval);
	ck_assert_int_eq(a->buffer_size, b->buffer_size);
	ck_assert(a->flush_interval == b->flush_interval);
	ck_assert_int_eq(a->gap_warning_threshold, b->gap_warning_threshold);
	ck_assert_str_eq(a->data_dir, b->data_dir);
	ck_assert_str_eq(a->metrics_listen, b->metrics_listen);
	ck_assert_pstr_eq(a->channel, b->channel);
	ck_assert_uint_eq(a->datasets, b->datasets);
	ck_assert_int_eq(a->snapshot_depth, b->snapshot_depth);
	ck_assert(a->stale_after == b->stale_after);
	ck_assert(a->fsync_interval == b->fsync_interval);
	ck_assert(a->update_events == b->update_events);
	ck_assert(a->rollover == b->rollover);
	ck_assert(a->rollover_margin == b->rollover_margin);
	ck_assert(a->conn_lifetime == b->conn_lifetime);
	ck_assert_pstr_eq(a->ws_url, b->ws_url);
	ck_assert_pstr_eq(a->rest_url, b->rest_url);
	ck_assert_pstr_eq(a->ca_file, b->ca_file);
}

/* Dump a, parse the dump into b (caller releases), return the dump. */
static char *rec_roundtrip(const struct recorder_config *a,
			   struct recorder_config *b)
{
	char *text = NULL, *err = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(config_dump_recorder(a, fp), 0);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_msg(config_parse_recorder("dump.yml", text, len, b, &err) ==
			      0,
		      "%s\n%s", err, text);
	rec_equal(a, b);
	return text;
}

START_TEST(test_recorder_roundtrip)
{
	static const char *const inputs[] = { all_keys, BASE, design_recorder };

	for (size_t i = 0; i < CORE_ARRAY_LEN(inputs); i++) {
		struct recorder_config a, b, c;
		char *err = NULL, *t1, *t2;

		ck_assert_msg(parse(inputs[i], &a, &err) == 0, "%s", err);
		t1 = rec_roundtrip(&a, &b);
		t2 = rec_roundtrip(&b, &c);
		ck_assert_str_eq(t1, t2); /* the dump is a fixed point */
		ck_assert_ptr_nonnull(
			strstr(t1, "config:\n  connector_name: "));
		ck_assert_ptr_nonnull(strstr(t1, "\n  ca_file: "));
		free(t1);
		free(t2);
		config_release_recorder(&a);
		config_release_recorder(&b);
		config_release_recorder(&c);
	}
}
END_TEST

/* Reals that need all 17 digits still come back bit for bit. */
START_TEST(test_recorder_roundtrip_reals)
{
	struct recorder_config a, b;
	char *err = NULL, *t;

	ck_assert_int_eq(parse(BASE "  flush_interval: 0.30000000000000004\n"
				    "  stale_after: 1e-3\n"
				    "  snapshot_interval: 86400\n",
			       &a, &err),
			 0);
	ck_assert(a.flush_interval == 0.30000000000000004);
	ck_assert(a.stale_after == 0.001);
	t = rec_roundtrip(&a, &b);
	free(t);
	config_release_recorder(&a);
	config_release_recorder(&b);
}
END_TEST

/* One error each, with its exact position. */
static const struct err_case rec_errors[] = {
	/* out of range, at the value */
	{ BASE "  flush_interval: -1\n",
	  "t.yml:4:19: flush_interval: must be greater than 0 and at most "
	  "3600, got '-1'" },
	{ BASE "  flush_interval: 0\n",
	  "t.yml:4:19: flush_interval: must be greater than 0 and at most "
	  "3600, got '0'" },
	{ BASE "  depth_limit: 0\n",
	  "t.yml:4:16: depth_limit: must be between 1 and 5000, got '0'" },
	{ BASE "  depth_limit: 99999999999999999999\n",
	  "t.yml:4:16: depth_limit: must be between 1 and 5000, got "
	  "'99999999999999999999'" },
	{ BASE "  buffer_size: 100001\n",
	  "t.yml:4:16: buffer_size: must be between 1 and 100000, got "
	  "'100001'" },
	{ BASE "  snapshot_depth: 401\n",
	  "t.yml:4:19: snapshot_depth: must be between 1 and 400, got "
	  "'401'" },
	{ BASE "  stale_after: 0\n",
	  "t.yml:4:16: stale_after: must be greater than 0 and at most 86400, "
	  "got '0'" },
	{ BASE "  fsync_interval: -0.5\n",
	  "t.yml:4:19: fsync_interval: must be between 0 and 3600, got "
	  "'-0.5'" },
	{ BASE "  snapshot_depth: 101\n",
	  "t.yml:4:19: snapshot_depth: must not exceed depth_limit (100), got "
	  "101" },
	/* connector and pairs */
	{ "config:\n  connector_name: kraken\n  trading_pairs: [A-B]\n",
	  "t.yml:2:19: connector_name: unknown exchange 'kraken' (expected "
	  "gate_io, gateio, mexc, binance or okx)" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: []\n",
	  "t.yml:3:18: trading_pairs: must list between 1 and 1024 pairs" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: BTC-USDT\n",
	  "t.yml:3:18: trading_pairs: expected a sequence of pairs, got a "
	  "scalar" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: [btc-usdt]\n",
	  "t.yml:3:19: pair 'btc-usdt': must be upper case BASE-QUOTE" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: [BTCUSDT]\n",
	  "t.yml:3:19: pair 'BTCUSDT': must be BASE-QUOTE of A-Z and 0-9, "
	  "e.g. 'BTC-USDT'" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: [A-B-C]\n",
	  "t.yml:3:19: pair 'A-B-C': must be BASE-QUOTE of A-Z and 0-9, "
	  "e.g. 'BTC-USDT'" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: [BTC-USDT, "
	  "btc-usdt]\n",
	  "t.yml:3:29: duplicate pair 'btc-usdt'" },
	{ "config:\n  connector_name: mexc\n  trading_pairs:\n    - BTC-USDT\n"
	  "    - ETH_USDT\n",
	  "t.yml:5:7: pair 'ETH_USDT': must be BASE-QUOTE of A-Z and 0-9, "
	  "e.g. 'BTC-USDT'" },
	{ "config:\n  connector_name: mexc\n  trading_pairs: [[A-B]]\n",
	  "t.yml:3:19: pair: expected a string, got a sequence" },
	{ "config:\n  trading_pairs: [A-B]\n",
	  "t.yml:1:1: missing required key 'connector_name'" },
	/* booktape keys */
	{ BASE "  metrics_listen: \"localhost:0\"\n",
	  "t.yml:4:19: metrics_listen: 'localhost:0' is not host:port: the "
	  "port must be 1..65535" },
	{ BASE "  metrics_listen: \"h:65536\"\n",
	  "t.yml:4:19: metrics_listen: 'h:65536' is not host:port: the port "
	  "must be 1..65535" },
	{ BASE "  metrics_listen: \"::1:8000\"\n",
	  "t.yml:4:19: metrics_listen: '::1:8000' is not host:port: an IPv6 "
	  "address goes in [brackets]" },
	{ BASE "  metrics_listen: \"[::g]:80\"\n",
	  "t.yml:4:19: metrics_listen: '[::g]:80' is not host:port: the host "
	  "is not an address or a host name" },
	{ BASE "  metrics_listen: \":8000\"\n",
	  "t.yml:4:19: metrics_listen: ':8000' is not host:port: the host is "
	  "missing or too long" },
	{ BASE "  metrics_listen: 8000\n",
	  "t.yml:4:19: metrics_listen: '8000' is not host:port: the port is "
	  "missing" },
	{ BASE "  metrics_listen: \"ho_st:80\"\n",
	  "t.yml:4:19: metrics_listen: 'ho_st:80' is not host:port: the host "
	  "is not an address or a host name" },
	{ BASE "  channel: spot.foo\n",
	  "t.yml:4:12: channel: 'spot.foo' is not a Gate.io book channel "
	  "(expected spot.order_book_update or spot.obu)" },
	{ BASE "  datasets: []\n",
	  "t.yml:4:13: datasets: must list at least one dataset" },
	{ BASE "  datasets: [trades]\n",
	  "t.yml:4:14: unknown dataset 'trades' (expected incremental_book_L2, "
	  "book_snapshot or book_events)" },
	{ BASE "  datasets: [book_events, book_events]\n",
	  "t.yml:4:27: duplicate dataset 'book_events'" },
	{ BASE "  datasets: book_events\n",
	  "t.yml:4:13: datasets: expected a sequence of datasets, got a "
	  "scalar" },
	{ BASE "  ws_url: https://x\n",
	  "t.yml:4:11: ws_url: 'https://x' must start with ws:// or wss://" },
	{ BASE "  ws_url: wss:///path\n",
	  "t.yml:4:11: ws_url: 'wss:///path' must start with ws:// or wss://" },
	{ BASE "  rest_url: wss://x\n",
	  "t.yml:4:13: rest_url: 'wss://x' must start with http:// or "
	  "https://" },
};

START_TEST(test_recorder_errors)
{
	char *err = parse_err(rec_errors[_i].yaml);

	ck_assert_str_eq(err, rec_errors[_i].want);
	free(err);
}
END_TEST

START_TEST(test_accepted_forms)
{
	static const char *const bools[] = { "true",  "True", "yes", "on",
					     "false", "NO",   "off" };
	struct recorder_config c;
	char yaml[512], *err = NULL, *e;

	for (size_t i = 0; i < CORE_ARRAY_LEN(bools); i++) {
		snprintf(yaml, sizeof(yaml), BASE "  update_events: %s\n",
			 bools[i]);
		ck_assert_msg(parse(yaml, &c, &err) == 0, "%s", err);
		ck_assert(c.update_events == (i < 4));
		config_release_recorder(&c);
	}
	ck_assert_int_eq(parse(BASE "  metrics_listen: 0.0.0.0:9100\n"
				    "  channel: null\n  ws_url: ~\n"
				    "  rest_url:\n  ca_file: NULL\n"
				    "  depth_limit: +10\n",
			       &c, &err),
			 0);
	ck_assert_str_eq(c.metrics_listen, "0.0.0.0:9100");
	ck_assert_ptr_null(c.channel);
	ck_assert_ptr_null(c.ws_url);
	ck_assert_ptr_null(c.rest_url);
	ck_assert_ptr_null(c.ca_file);
	ck_assert_int_eq(c.depth_limit, 10);
	/* The default snapshot depth follows a shallower book. */
	ck_assert_int_eq(c.snapshot_depth, 10);
	config_release_recorder(&c);
	/* Each exchange keeps its channel as written, if it knows it. */
	ck_assert_int_eq(parse("config:\n  connector_name: binance\n"
			       "  trading_pairs: [BTC-USDT]\n"
			       "  channel: depth@100ms\n"
			       "  metrics_listen: metrics.example.org:1\n",
			       &c, &err),
			 0);
	ck_assert_int_eq(c.exchange, EXCHANGE_BINANCE);
	ck_assert_str_eq(c.channel, "depth@100ms");
	config_release_recorder(&c);
	ck_assert_int_eq(parse("config: {connector_name: okx, trading_pairs: "
			       "[BTC-USDT, ETH-BTC], channel: books}\n",
			       &c, &err),
			 0);
	ck_assert_int_eq(c.exchange, EXCHANGE_OKX);
	ck_assert_uint_eq(c.npairs, 2);
	ck_assert_str_eq(c.channel, "books");
	config_release_recorder(&c);
	/* Another exchange's channel is refused. */
	e = parse_err("config: {connector_name: okx, trading_pairs: "
		      "[BTC-USDT], channel: spot.order_book_update}\n");
	ck_assert_ptr_nonnull(strstr(e, "is not an OKX book channel "
					"(expected books)"));
	free(e);
	e = parse_err("config: {connector_name: binance, trading_pairs: "
		      "[BTC-USDT], channel: \"depth@1000ms\"}\n");
	ck_assert_ptr_nonnull(strstr(e, "is not a Binance book stream "
					"(expected depth@100ms or depth)"));
	free(e);
}
END_TEST

START_TEST(test_exchange_name)
{
	ck_assert_str_eq(exchange_name(EXCHANGE_GATEIO), "gateio");
	ck_assert_str_eq(exchange_name(EXCHANGE_MEXC), "mexc");
	ck_assert_str_eq(exchange_name(EXCHANGE_BINANCE), "binance");
	ck_assert_str_eq(exchange_name(EXCHANGE_OKX), "okx");
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("recorder");
	TCase *te = tcase_create("errors");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_design_block);
	tcase_add_test(tc, test_shipped_gateio);
	tcase_add_test(tc, test_shipped_mexc);
	tcase_add_test(tc, test_shipped_commented_defaults);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_all_keys);
	tcase_add_test(tc, test_recorder_roundtrip);
	tcase_add_test(tc, test_recorder_roundtrip_reals);
	tcase_add_test(tc, test_accepted_forms);
	tcase_add_test(tc, test_exchange_name);
	suite_add_tcase(s, tc);
	tcase_set_timeout(te, 30 * tu_timeout_mult());
	tcase_add_loop_test(te, test_recorder_errors, 0,
			    (int)CORE_ARRAY_LEN(rec_errors));
	suite_add_tcase(s, te);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
