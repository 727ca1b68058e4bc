/*
 * Unit suite for core/config: the shipped and DESIGN configs load with
 * the expected values, defaults, every error kind with its exact
 * file:line:column, dump/reload round trips, and backup URL parsing.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "testutil.h"
#include "banned.h"

/* A minimal valid recorder config; error cases append lines (line 4 on). */
#define BASE                          \
	"config:\n"                   \
	"  connector_name: gate_io\n" \
	"  trading_pairs: [BTC-USDT]\n"

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

static const char design_rotate[] =
	"# config/rotate.yml\n"
	"config:\n"
	"  data_dir: \"/var/lib/booktape\"\n"
	"  textfile_dir: \"/var/lib/prometheus/node-exporter\"\n"
	"  grace: 120                 # seconds past the hour before an hour "
	"counts as finished\n"
	"  gzip_level: 6\n"
	"  keep_days: 7               # local archives, removed only once "
	"shipped (backup ledger)\n";

static const char design_backup[] =
	"# config/backup.yml\n"
	"config:\n"
	"  data_dir: \"/var/lib/booktape\"\n"
	"  textfile_dir: \"/var/lib/prometheus/node-exporter\"\n"
	"  secrets_file: \"/etc/booktape/backup.secrets\"   # must be 0600 or "
	"stricter\n"
	"  keep_local_days: 7\n"
	"  keep_remote_days: 365\n"
	"  destinations:\n"
	"    - name: \"nas\"\n"
	"      url: \"file:///mnt/nas/booktape\"\n"
	"    - name: \"offsite\"\n"
	"      url: \"sftp://booktape@backup.example.net:22/srv/booktape\"\n"
	"      identity: \"/etc/booktape/id_ed25519\"\n"
	"      known_hosts: \"/etc/booktape/known_hosts\"\n"
	"    - name: \"s3\"\n"
	"      url: \"s3://my-bucket/booktape\"\n"
	"      endpoint: \"https://s3.eu-central-1.amazonaws.com\"\n"
	"      region: \"eu-central-1\"\n"
	"      path_style: false      # S3 credentials are in secrets_file, "
	"under the destination's name\n";

static int parse(const char *yaml, struct recorder_config *cfg, char **err)
{
	return config_parse_recorder("t.yml", yaml, strlen(yaml), cfg, err);
}

/* Parse text that must be rejected; return the message (caller frees). */
static char *parse_err(const char *yaml)
{
	struct recorder_config cfg;
	char *err = NULL;

	ck_assert_int_eq(parse(yaml, &cfg, &err), CORE_ECONFIG);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(cfg.pairs);
	ck_assert_ptr_null(cfg.path);
	return err;
}

/* Remove every "<dir>/" from msg, so messages compare without tmpdirs. */
static void strip_dir(char *msg, const char *dir)
{
	char pat[512];
	char *p;
	size_t n = (size_t)snprintf(pat, sizeof(pat), "%s/", dir);

	while ((p = strstr(msg, pat)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
}

static void write_file(const char *dir, const char *name, const char *text,
		       char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	tu_write(path, text, strlen(text));
}

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

struct err_case {
	const char *yaml;
	const char *want;
};

/* One error each, with its exact position. */
static const struct err_case rec_errors[] = {
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

START_TEST(test_recorder_errors)
{
	char *err = parse_err(rec_errors[_i].yaml);

	ck_assert_str_eq(err, rec_errors[_i].want);
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

/* ------------------------------------------------------------ rotate */

static void rot_equal(const struct rotate_config *a,
		      const struct rotate_config *b)
{
	ck_assert_str_eq(a->data_dir, b->data_dir);
	ck_assert_str_eq(a->textfile_dir, b->textfile_dir);
	ck_assert_int_eq(a->grace, b->grace);
	ck_assert_int_eq(a->gzip_level, b->gzip_level);
	ck_assert_int_eq(a->keep_days, b->keep_days);
}

START_TEST(test_rotate)
{
	struct rotate_config r, r2;
	char *dir = tu_tmpdir(), path[512], *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_int_eq(config_load_rotate("config/rotate.yml", &r, &err), 0);
	ck_assert_str_eq(r.data_dir, "/var/lib/booktape");
	ck_assert_str_eq(r.textfile_dir, "/var/lib/prometheus/node-exporter");
	ck_assert_int_eq(r.grace, 120);
	ck_assert_int_eq(r.gzip_level, 6);
	ck_assert_int_eq(r.keep_days, 7);
	config_release_rotate(&r);

	write_file(dir, "design.yml", design_rotate, path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	config_release_rotate(&r);

	/* Defaults, then a round trip through the dump. */
	write_file(dir, "min.yml", "config: {}\n", path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	ck_assert_str_eq(r.path, path);
	ck_assert_str_eq(r.data_dir, "/var/lib/booktape");
	ck_assert_int_eq(r.grace, 120);
	ck_assert_int_eq(r.gzip_level, 6);
	ck_assert_int_eq(r.keep_days, 7);
	config_release_rotate(&r);

	write_file(dir, "all.yml",
		   "config:\n  data_dir: data\n  textfile_dir: \"t x\"\n"
		   "  grace: 0\n  gzip_level: 9\n  keep_days: 0\n",
		   path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), 0);
	ck_assert_int_eq(r.gzip_level, 9);
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_rotate(&r, fp), 0);
	fclose(fp);
	write_file(dir, "dump.yml", text, path, sizeof(path));
	ck_assert_msg(config_load_rotate(path, &r2, &err) == 0, "%s", err);
	rot_equal(&r, &r2);
	free(text);
	config_release_rotate(&r);
	config_release_rotate(&r2);
	config_release_rotate(NULL);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_rotate_errors)
{
	struct rotate_config r;
	char *dir = tu_tmpdir(), path[512], *err = NULL;

	write_file(dir, "r.yml",
		   "config:\n"
		   "  gzip_level: 10\n"
		   "  grace: -1\n"
		   "  keep_day: 7\n"
		   "  keep_days: \"7\"\n"
		   "  data_dir: \"\"\n"
		   "  textfile_dir: [x]\n"
		   "  grace: 5\n",
		   path, sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), CORE_ECONFIG);
	ck_assert_ptr_null(r.data_dir);
	strip_dir(err, dir);
	ck_assert_str_eq(
		err,
		"r.yml:2:15: gzip_level: must be between 0 and 9, got '10'\n"
		"r.yml:3:10: grace: must be between 0 and 86400, got '-1'\n"
		"r.yml:4:3: unknown key 'keep_day'; did you mean "
		"'keep_days'?\n"
		"r.yml:5:14: keep_days: expected an integer, got the quoted "
		"string '7' (write it without quotes)\n"
		"r.yml:6:13: data_dir: must not be empty\n"
		"r.yml:7:17: textfile_dir: expected a string, got a sequence\n"
		"r.yml:8:3: duplicate key 'grace'");
	free(err);
	/* Recorder keys are not rotate keys. */
	write_file(dir, "r2.yml", "config:\n  connector_name: mexc\n", path,
		   sizeof(path));
	ck_assert_int_eq(config_load_rotate(path, &r, &err), CORE_ECONFIG);
	strip_dir(err, dir);
	ck_assert_str_eq(err, "r2.yml:2:3: unknown key 'connector_name'");
	free(err);
	tu_rmtree(dir);
}
END_TEST

/* ------------------------------------------------------------ backup */

static int load_backup(const char *dir, const char *yaml,
		       struct backup_config *b, char **err)
{
	char path[512];
	int rc;

	write_file(dir, "b.yml", yaml, path, sizeof(path));
	rc = config_load_backup(path, b, err);
	if (*err != NULL)
		strip_dir(*err, dir);
	return rc;
}

static void check_design_backup(const struct backup_config *b)
{
	const struct backup_destination *d = b->dests;

	ck_assert_str_eq(b->data_dir, "/var/lib/booktape");
	ck_assert_str_eq(b->textfile_dir, "/var/lib/prometheus/node-exporter");
	ck_assert_str_eq(b->secrets_file, "/etc/booktape/backup.secrets");
	ck_assert_int_eq(b->keep_local_days, 7);
	ck_assert_int_eq(b->keep_remote_days, 365);
	ck_assert_uint_eq(b->ndests, 3);
	ck_assert_str_eq(d[0].name, "nas");
	ck_assert_int_eq(d[0].kind, DEST_FILE);
	ck_assert_str_eq(d[0].url, "file:///mnt/nas/booktape");
	ck_assert_str_eq(d[0].path, "/mnt/nas/booktape");
	ck_assert_ptr_null(d[0].host);
	ck_assert_ptr_null(d[0].region);
	ck_assert_str_eq(d[1].name, "offsite");
	ck_assert_int_eq(d[1].kind, DEST_SFTP);
	ck_assert_str_eq(d[1].user, "booktape");
	ck_assert_str_eq(d[1].host, "backup.example.net");
	ck_assert_int_eq(d[1].port, 22);
	ck_assert_str_eq(d[1].path, "/srv/booktape");
	ck_assert_str_eq(d[1].identity, "/etc/booktape/id_ed25519");
	ck_assert_str_eq(d[1].known_hosts, "/etc/booktape/known_hosts");
	ck_assert_str_eq(d[2].name, "s3");
	ck_assert_int_eq(d[2].kind, DEST_S3);
	ck_assert_str_eq(d[2].host, "my-bucket");
	ck_assert_str_eq(d[2].path, "booktape");
	ck_assert_str_eq(d[2].endpoint,
			 "https://s3.eu-central-1.amazonaws.com");
	ck_assert_str_eq(d[2].region, "eu-central-1");
	ck_assert(!d[2].path_style);
}

START_TEST(test_backup_shipped)
{
	struct backup_config b;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(config_load_backup("config/backup.yml", &b, &err), 0);
	check_design_backup(&b);
	config_release_backup(&b);
	ck_assert_int_eq(load_backup(dir, design_backup, &b, &err), 0);
	check_design_backup(&b);
	config_release_backup(&b);
	config_release_backup(NULL);
	tu_rmtree(dir);
}
END_TEST

START_TEST(test_backup_urls)
{
	struct backup_config b;
	const struct backup_destination *d;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(
		load_backup(dir,
			    "config:\n"
			    "  secrets_file: s\n"
			    "  destinations:\n"
			    "    - name: root\n"
			    "      url: file:///\n"
			    "    - name: v6\n"
			    "      url: sftp://me@[::1]:2222/home/me/bk/\n"
			    "      identity: id\n"
			    "      known_hosts: kh\n"
			    "    - name: dflt_port\n"
			    "      url: sftp://a.b@10.0.0.1/x\n"
			    "      identity: id\n"
			    "      known_hosts: kh\n"
			    "    - name: minio-1\n"
			    "      url: s3://bkt//pre/fix/\n"
			    "      endpoint: http://127.0.0.1:9000/\n"
			    "      path_style: on\n"
			    "    - name: bare\n"
			    "      url: s3://bucket.x\n"
			    "      endpoint: https://s3.example\n",
			    &b, &err),
		0);
	ck_assert_uint_eq(b.ndests, 5);
	d = b.dests;
	ck_assert_str_eq(d[0].path, "/");
	ck_assert_str_eq(d[1].user, "me");
	ck_assert_str_eq(d[1].host, "::1");
	ck_assert_int_eq(d[1].port, 2222);
	ck_assert_str_eq(d[1].path, "/home/me/bk");
	ck_assert_str_eq(d[2].user, "a.b");
	ck_assert_str_eq(d[2].host, "10.0.0.1");
	ck_assert_int_eq(d[2].port, 22);
	ck_assert_str_eq(d[2].path, "/x");
	ck_assert_str_eq(d[3].host, "bkt");
	ck_assert_str_eq(d[3].path, "pre/fix");
	ck_assert_str_eq(d[3].endpoint, "http://127.0.0.1:9000");
	ck_assert_str_eq(d[3].region, "us-east-1");
	ck_assert(d[3].path_style);
	ck_assert_int_eq(d[3].port, 0);
	ck_assert_ptr_null(d[3].user);
	ck_assert_str_eq(d[4].host, "bucket.x");
	ck_assert_str_eq(d[4].path, "");
	ck_assert(!d[4].path_style);
	config_release_backup(&b);
	tu_rmtree(dir);
}
END_TEST

static const struct err_case backup_errors[] = {
	{ "config:\n  keep_local_days: -1\n  destinations:\n"
	  "    - {name: a, url: \"file:///x\"}\n",
	  "b.yml:2:20: keep_local_days: must be between 0 and 36500, got "
	  "'-1'" },
	{ "config:\n  keep_remote_days: 36501\n  destinations:\n"
	  "    - {name: a, url: \"file:///x\"}\n",
	  "b.yml:2:21: keep_remote_days: must be between 0 and 36500, got "
	  "'36501'" },
	{ "config:\n  data_dir: /d\n",
	  "b.yml:1:1: missing required key 'destinations'" },
	{ "config:\n  destinations: []\n",
	  "b.yml:2:17: destinations: must list between 1 and 64 "
	  "destinations" },
	{ "config:\n  destinations: nas\n",
	  "b.yml:2:17: destinations: expected a sequence of mappings, got a "
	  "scalar" },
	{ "config:\n  destinations:\n    - just a string\n",
	  "b.yml:3:7: destination: expected a mapping, got a scalar" },
	{ "config:\n  destinations:\n    - name: a\n",
	  "b.yml:3:7: missing required key 'url'" },
	{ "config:\n  destinations:\n    - url: file:///x\n",
	  "b.yml:3:7: missing required key 'name'" },
	{ "config:\n  destinations:\n    - name: \"bad name\"\n"
	  "      url: file:///x\n",
	  "b.yml:3:13: name: 'bad name' must be 1 to 64 of A-Z, a-z, 0-9, '_' "
	  "and '-'" },
	{ "config:\n  destinations:\n    - {name: a, url: \"file:///x\"}\n"
	  "    - {name: a, url: \"file:///y\"}\n",
	  "b.yml:4:14: duplicate destination name 'a'" },
	{ "config:\n  destinations:\n    - name: a\n      url: file:///x\n"
	  "      regoin: eu\n",
	  "b.yml:5:7: unknown key 'regoin'; did you mean 'region'?" },
	{ "config:\n  destinations:\n    - name: a\n      url: ftp://h/x\n",
	  "b.yml:4:12: url: 'ftp://h/x' has an unsupported scheme (expected "
	  "file://, sftp:// or s3://)" },
	{ "config:\n  destinations:\n    - name: a\n      url: file://mnt/x\n",
	  "b.yml:4:12: url: 'file://mnt/x': a file URL is "
	  "file:///absolute/path" },
	{ "config:\n  destinations:\n    - name: a\n      url: file:///x\n"
	  "      identity: /k\n",
	  "b.yml:5:7: identity: not used by file destinations" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://host/srv\n",
	  "b.yml:4:12: url: 'sftp://host/srv': an sftp URL needs a user: "
	  "sftp://user@host[:port]/path" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@host\n",
	  "b.yml:4:12: url: 'sftp://u@host': an sftp URL is "
	  "sftp://user@host[:port]/path" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@host:0/x\n",
	  "b.yml:4:12: url: 'sftp://u@host:0/x': the port must be 1..65535" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@:22/x\n",
	  "b.yml:4:12: url: 'sftp://u@:22/x': the host is missing or too "
	  "long" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@h/x\n      known_hosts: kh\n",
	  "b.yml:3:7: missing required key 'identity' for an sftp "
	  "destination" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: sftp://u@h/x\n      identity: id\n"
	  "      endpoint: https://e\n",
	  "b.yml:3:7: missing required key 'known_hosts' for an sftp "
	  "destination\n"
	  "b.yml:6:7: endpoint: not used by sftp destinations" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://My_Bucket/x\n      endpoint: https://e\n",
	  "b.yml:5:12: url: 's3://My_Bucket/x': the S3 bucket must be 3 to 63 "
	  "of a-z, 0-9, '.' and '-'" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n",
	  "b.yml:4:7: missing required key 'endpoint' for an s3 "
	  "destination" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: s3.example.com\n",
	  "b.yml:6:17: endpoint: 's3.example.com' must start with http:// or "
	  "https://" },
	{ "config:\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: https://e\n",
	  "b.yml:1:1: secrets_file: required by the s3 destination 'a' (its "
	  "credentials)" },
	{ "config:\n  secrets_file: s\n  destinations:\n    - name: a\n"
	  "      url: s3://bucket/x\n      endpoint: https://e\n"
	  "      path_style: \"no\"\n",
	  "b.yml:7:19: path_style: expected true or false, got the quoted "
	  "string 'no' (write it without quotes)" },
};

START_TEST(test_backup_errors)
{
	struct backup_config b;
	char *dir = tu_tmpdir(), *err = NULL;

	ck_assert_int_eq(load_backup(dir, backup_errors[_i].yaml, &b, &err),
			 CORE_ECONFIG);
	ck_assert_ptr_null(b.dests);
	ck_assert_str_eq(err, backup_errors[_i].want);
	free(err);
	tu_rmtree(dir);
}
END_TEST

static void dest_equal(const struct backup_destination *a,
		       const struct backup_destination *b)
{
	ck_assert_str_eq(a->name, b->name);
	ck_assert_str_eq(a->url, b->url);
	ck_assert_int_eq(a->kind, b->kind);
	ck_assert_pstr_eq(a->user, b->user);
	ck_assert_pstr_eq(a->host, b->host);
	ck_assert_int_eq(a->port, b->port);
	ck_assert_pstr_eq(a->path, b->path);
	ck_assert_pstr_eq(a->identity, b->identity);
	ck_assert_pstr_eq(a->known_hosts, b->known_hosts);
	ck_assert_pstr_eq(a->endpoint, b->endpoint);
	ck_assert_pstr_eq(a->region, b->region);
	ck_assert(a->path_style == b->path_style);
}

START_TEST(test_backup_roundtrip)
{
	struct backup_config a, b;
	char *dir = tu_tmpdir(), *err = NULL, *text = NULL;
	size_t len = 0;
	FILE *fp;

	ck_assert_int_eq(load_backup(dir, design_backup, &a, &err), 0);
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_backup(&a, fp), 0);
	fclose(fp);
	ck_assert_msg(load_backup(dir, text, &b, &err) == 0, "%s\n%s", err,
		      text);
	ck_assert_str_eq(a.data_dir, b.data_dir);
	ck_assert_str_eq(a.textfile_dir, b.textfile_dir);
	ck_assert_pstr_eq(a.secrets_file, b.secrets_file);
	ck_assert_int_eq(a.keep_local_days, b.keep_local_days);
	ck_assert_int_eq(a.keep_remote_days, b.keep_remote_days);
	ck_assert_uint_eq(a.ndests, b.ndests);
	for (size_t i = 0; i < a.ndests; i++)
		dest_equal(&a.dests[i], &b.dests[i]);
	free(text);
	config_release_backup(&a);
	config_release_backup(&b);

	/* Without secrets (no s3), secrets_file dumps as null. */
	ck_assert_int_eq(load_backup(dir,
				     "config:\n  destinations:\n"
				     "    - {name: n, url: \"file:///x\"}\n",
				     &a, &err),
			 0);
	ck_assert_ptr_null(a.secrets_file);
	text = NULL;
	fp = open_memstream(&text, &len);
	ck_assert_int_eq(config_dump_backup(&a, fp), 0);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(text, "  secrets_file: null\n"));
	ck_assert_int_eq(load_backup(dir, text, &b, &err), 0);
	ck_assert_ptr_null(b.secrets_file);
	dest_equal(&a.dests[0], &b.dests[0]);
	free(text);
	config_release_backup(&a);
	config_release_backup(&b);
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

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("recorder");
	TCase *te = tcase_create("errors");
	TCase *to = tcase_create("others");

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
	tcase_add_test(tc, test_load_failures);
	suite_add_tcase(s, tc);
	tcase_add_loop_test(te, test_recorder_errors, 0,
			    (int)CORE_ARRAY_LEN(rec_errors));
	tcase_add_test(te, test_multiple_errors);
	tcase_add_test(te, test_error_cap);
	tcase_add_test(te, test_error_escaping);
	tcase_add_loop_test(te, test_backup_errors, 0,
			    (int)CORE_ARRAY_LEN(backup_errors));
	suite_add_tcase(s, te);
	tcase_add_test(to, test_rotate);
	tcase_add_test(to, test_rotate_errors);
	tcase_add_test(to, test_backup_shipped);
	tcase_add_test(to, test_backup_urls);
	tcase_add_test(to, test_backup_roundtrip);
	tcase_add_test(to, test_dump_write_error);
	suite_add_tcase(s, to);
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
