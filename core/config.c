/*
 * The recorder's configuration: its key table, defaults, the exchange
 * and pair rules, and the rules that involve more than one key
 * (rec_cross: each exchange's book channel names, snapshot_depth vs
 * depth_limit). The YAML engine is cfg.c; rotate's and backup's keys are
 * in config_rotate.c and config_backup.c.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cfg.h"
#include "core.h"
#include "hostport.h"
#include "banned.h"

#define CFG_MAX_PAIRS  1024
#define DEFAULT_LISTEN "127.0.0.1:8000"

const char *exchange_name(enum exchange ex)
{
	switch (ex) {
	case EXCHANGE_GATEIO:
		return "gateio";
	case EXCHANGE_MEXC:
		return "mexc";
	case EXCHANGE_BINANCE:
		return "binance";
	case EXCHANGE_OKX:
		return "okx";
	}
	return "unknown";
}

static const struct {
	const char *name;
	enum exchange ex;
} connectors[] = {
	{ "gate_io", EXCHANGE_GATEIO }, { "gateio", EXCHANGE_GATEIO },
	{ "mexc", EXCHANGE_MEXC },	{ "binance", EXCHANGE_BINANCE },
	{ "okx", EXCHANGE_OKX },
};

static void h_connector(struct ctx *c, const struct key *k, yaml_node_t *v,
			void *obj)
{
	struct recorder_config *cfg = obj;
	const char *s = want_str(c, k->name, v);
	char q[CFG_QUOTE];

	if (s == NULL)
		return;
	for (size_t i = 0; i < CORE_ARRAY_LEN(connectors); i++) {
		if (strcmp(s, connectors[i].name) == 0) {
			cfg->exchange = connectors[i].ex;
			set_str(c, &cfg->connector_name, s);
			return;
		}
	}
	err_node(c, v,
		 "%s: unknown exchange '%s' (expected gate_io, gateio, mexc, "
		 "binance or okx)",
		 k->name, quote(q, v));
}

/* "BASE-QUOTE" of [A-Z0-9]: 0 ok, -1 bad form, -2 only the case is wrong. */
static int pair_check(const char *s, size_t len)
{
	const char *dash = memchr(s, '-', len);
	bool lower = false;

	if (len > 64 || dash == NULL || dash == s || dash == s + len - 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s + i == dash)
			continue;
		if (s[i] >= 'a' && s[i] <= 'z')
			lower = true;
		else if (!((s[i] >= 'A' && s[i] <= 'Z') ||
			   (s[i] >= '0' && s[i] <= '9')))
			return -1;
	}
	return lower ? -2 : 0;
}

/* Check one trading_pairs item; true when it is a good pair. */
static bool pair_ok(struct ctx *c, yaml_node_t *item, yaml_node_item_t *first,
		    yaml_node_item_t *at)
{
	char q[CFG_QUOTE];
	int rc;

	if (item->type != YAML_SCALAR_NODE) {
		err_node(c, item, "pair: expected a string, got %s",
			 kind(item));
		return false;
	}
	for (yaml_node_item_t *it = first; it < at; it++) {
		yaml_node_t *prev = node_get(c, *it);

		if (prev != NULL && prev->type == YAML_SCALAR_NODE &&
		    strcasecmp(sval(prev), sval(item)) == 0) {
			err_node(c, item, "duplicate pair '%s'",
				 quote(q, item));
			return false;
		}
	}
	rc = pair_check(sval(item), slen(item));
	if (rc == -2)
		err_node(c, item, "pair '%s': must be upper case BASE-QUOTE",
			 quote(q, item));
	else if (rc < 0)
		err_node(c, item,
			 "pair '%s': must be BASE-QUOTE of A-Z and 0-9, "
			 "e.g. 'BTC-USDT'",
			 quote(q, item));
	return rc == 0;
}

static void h_pairs(struct ctx *c, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct recorder_config *cfg = obj;
	yaml_node_item_t *first, *it;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		err_node(c, v, "%s: expected a sequence of pairs, got %s",
			 k->name, kind(v));
		return;
	}
	first = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - first);
	if (n == 0 || n > CFG_MAX_PAIRS) {
		err_node(c, v, "%s: must list between 1 and %d pairs", k->name,
			 CFG_MAX_PAIRS);
		return;
	}
	if ((cfg->pairs = calloc(n, sizeof(*cfg->pairs))) == NULL) {
		c->oom = true;
		return;
	}
	for (it = first; it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = node_get(c, *it);

		if (item == NULL || !pair_ok(c, item, first, it))
			continue;
		if ((cfg->pairs[cfg->npairs] = strdup(sval(item))) == NULL) {
			c->oom = true;
			return;
		}
		cfg->npairs++;
	}
}

static const struct {
	const char *name;
	unsigned bit;
} dataset_names[] = {
	{ "incremental_book_L2", DATASET_INCREMENTAL_L2 },
	{ "book_snapshot", DATASET_BOOK_SNAPSHOT },
	{ "book_events", DATASET_BOOK_EVENTS },
};

static void dataset_add(struct ctx *c, yaml_node_t *item, unsigned *bits)
{
	char q[CFG_QUOTE];

	if (item->type != YAML_SCALAR_NODE) {
		err_node(c, item, "dataset: expected a name, got %s",
			 kind(item));
		return;
	}
	for (size_t i = 0; i < CORE_ARRAY_LEN(dataset_names); i++) {
		if (strcmp(sval(item), dataset_names[i].name) != 0)
			continue;
		if (*bits & dataset_names[i].bit)
			err_node(c, item, "duplicate dataset '%s'",
				 dataset_names[i].name);
		*bits |= dataset_names[i].bit;
		return;
	}
	err_node(c, item,
		 "unknown dataset '%s' (expected incremental_book_L2, "
		 "book_snapshot or book_events)",
		 quote(q, item));
}

static void h_datasets(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	struct recorder_config *cfg = obj;
	unsigned bits = 0;

	if (v->type != YAML_SEQUENCE_NODE) {
		err_node(c, v, "%s: expected a sequence of datasets, got %s",
			 k->name, kind(v));
		return;
	}
	if (v->data.sequence.items.top == v->data.sequence.items.start) {
		err_node(c, v, "%s: must list at least one dataset", k->name);
		return;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *item = node_get(c, *it);

		if (item != NULL)
			dataset_add(c, item, &bits);
	}
	cfg->datasets = bits;
}

static void h_listen(struct ctx *c, const struct key *k, yaml_node_t *v,
		     void *obj)
{
	const char *s = want_str(c, k->name, v), *why = NULL;
	char host[256], q[CFG_QUOTE];

	if (s == NULL)
		return;
	if (hostport_parse(s, strlen(s), 0, host, sizeof(host), &why) < 0) {
		err_node(c, v, "%s: '%s' is not host:port: %s", k->name,
			 quote(q, v), why);
		return;
	}
	set_str(c, FIELD(char *, obj, k->off), s);
}

/* The WebSocket URL, kept as written (Gate.io's ends in '/'). */
static void h_wsurl(struct ctx *c, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	url_key(c, k, v, obj, "ws", "wss", URL_NULLABLE);
}

/* A REST base: paths get appended, so no trailing '/'. */
static void h_resturl(struct ctx *c, const struct key *k, yaml_node_t *v,
		      void *obj)
{
	url_key(c, k, v, obj, "http", "https", URL_NULLABLE | URL_TRIM);
}

#define REC(f) offsetof(struct recorder_config, f)
static const struct key rec_keys[] = {
	{ "connector_name", h_connector, 0, 0, 0, K_REQUIRED },
	{ "trading_pairs", h_pairs, 0, 0, 0, K_REQUIRED },
	{ "depth_limit", h_int, REC(depth_limit), 1, 5000, 0 },
	{ "snapshot_interval", h_double, REC(snapshot_interval), 0, 86400, 0 },
	{ "buffer_size", h_int, REC(buffer_size), 1, 100000, 0 },
	{ "flush_interval", h_double, REC(flush_interval), 0, 3600,
	  K_MIN_EXCL },
	{ "gap_warning_threshold", h_int, REC(gap_warning_threshold), 0,
	  1000000000, 0 },
	{ "data_dir", h_str, REC(data_dir), 0, 0, 0 },
	{ "metrics_listen", h_listen, REC(metrics_listen), 0, 0, 0 },
	{ "channel", h_optstr, REC(channel), 0, 0, 0 },
	{ "datasets", h_datasets, 0, 0, 0, 0 },
	{ "snapshot_depth", h_int, REC(snapshot_depth), 1,
	  CONFIG_SNAPSHOT_DEPTH_MAX, 0 },
	{ "stale_after", h_double, REC(stale_after), 0, 86400, K_MIN_EXCL },
	{ "fsync_interval", h_double, REC(fsync_interval), 0, 3600, 0 },
	{ "update_events", h_bool, REC(update_events), 0, 0, 0 },
	{ "rollover", h_bool, REC(rollover), 0, 0, 0 },
	{ "rollover_margin", h_double, REC(rollover_margin), 1, 86400, 0 },
	{ "connection_lifetime", h_double, REC(conn_lifetime), 0, 604800, 0 },
	{ "ws_url", h_wsurl, REC(ws_url), 0, 0, 0 },
	{ "rest_url", h_resturl, REC(rest_url), 0, 0, 0 },
	{ "ca_file", h_optstr, REC(ca_file), 0, 0, 0 },
};

static int rec_defaults(void *obj, const char *name)
{
	struct recorder_config *cfg = obj;

	cfg->exchange = EXCHANGE_GATEIO;
	cfg->depth_limit = 100;
	cfg->snapshot_interval = 300;
	cfg->buffer_size = 100;
	cfg->flush_interval = 10.0;
	cfg->gap_warning_threshold = 50;
	cfg->datasets = DATASET_INCREMENTAL_L2 | DATASET_BOOK_SNAPSHOT |
			DATASET_BOOK_EVENTS;
	cfg->snapshot_depth = 25;
	cfg->stale_after = 60;
	cfg->fsync_interval = 1.0;
	cfg->update_events = false;
	cfg->rollover = true;
	cfg->rollover_margin = 600;
	cfg->conn_lifetime = 0;
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->metrics_listen = strdup(DEFAULT_LISTEN);
	cfg->path = strdup(name);
	return cfg->data_dir && cfg->metrics_listen && cfg->path ? 0
								 : CORE_ENOMEM;
}

/*
 * Each exchange's book channels: `channel` must name one of them. A new
 * exchange adds its row here (the exchange's own code cannot be reached
 * from core).
 */
static const struct {
	enum exchange ex;
	const char *venue;	 /* for the message */
	const char *channels[3]; /* NULL-terminated */
	const char *expected;	 /* for the message */
} channel_rules[] = {
	{ EXCHANGE_GATEIO,
	  "a Gate.io book channel",
	  { "spot.order_book_update", "spot.obu", NULL },
	  "spot.order_book_update or spot.obu" },
	{ EXCHANGE_MEXC,
	  "a MEXC book channel",
	  { "spot@public.aggre.depth.v3.api.pb", NULL },
	  "spot@public.aggre.depth.v3.api.pb" },
	{ EXCHANGE_BINANCE,
	  "a Binance book stream",
	  { "depth@100ms", "depth", NULL },
	  "depth@100ms or depth" },
	{ EXCHANGE_OKX, "an OKX book channel", { "books", NULL }, "books" },
};

/* channel (not NULL) against the rule of cfg's exchange, if it has one. */
static void rec_channel_rules(struct ctx *c, const struct recorder_config *cfg,
			      yaml_node_t *chan)
{
	char q[CFG_QUOTE];

	for (size_t i = 0; i < CORE_ARRAY_LEN(channel_rules); i++) {
		if (channel_rules[i].ex != cfg->exchange)
			continue;
		for (const char *const *ch = channel_rules[i].channels;
		     *ch != NULL; ch++)
			if (strcmp(cfg->channel, *ch) == 0)
				return;
		err_node(c, chan, "channel: '%s' is not %s (expected %s)",
			 quote(q, chan), channel_rules[i].venue,
			 channel_rules[i].expected);
		return;
	}
}

/* Rules that involve more than one key. */
static void rec_cross(struct ctx *c, struct recorder_config *cfg,
		      const struct seen *seen)
{
	size_t n = CORE_ARRAY_LEN(rec_keys);
	yaml_node_t *chan = seen_val(rec_keys, n, seen, "channel");
	yaml_node_t *depth = seen_val(rec_keys, n, seen, "snapshot_depth");

	if (cfg->channel != NULL)
		rec_channel_rules(c, cfg, chan);
	if (cfg->snapshot_depth <= cfg->depth_limit)
		return;
	/* The default must not break an old file with a shallow book. */
	if (depth == NULL)
		cfg->snapshot_depth = cfg->depth_limit;
	else
		err_node(c, depth,
			 "snapshot_depth: must not exceed depth_limit (%d), "
			 "got %d",
			 cfg->depth_limit, cfg->snapshot_depth);
}

static void rec_fill(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
		     void *obj)
{
	struct seen seen[CORE_ARRAY_LEN(rec_keys)];

	walk_map(c, map, rec_keys, CORE_ARRAY_LEN(rec_keys), obj, seen, where);
	rec_cross(c, obj, seen);
}

static void rec_release(void *cfg)
{
	config_release_recorder(cfg);
}

static const struct cfg_program rec_program = {
	sizeof(struct recorder_config),
	rec_defaults,
	rec_fill,
	rec_release,
};

int config_parse_recorder(const char *name, const char *buf, size_t len,
			  struct recorder_config *cfg, char **errmsg)
{
	return cfg_parse(name, buf, len, &rec_program, cfg, errmsg);
}

int config_load_recorder(const char *path, struct recorder_config *cfg,
			 char **errmsg)
{
	return cfg_load(path, &rec_program, cfg, errmsg);
}

void config_release_recorder(struct recorder_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->npairs; i++)
		free(cfg->pairs[i]);
	free(cfg->pairs);
	free(cfg->path);
	free(cfg->connector_name);
	free(cfg->data_dir);
	free(cfg->metrics_listen);
	free(cfg->channel);
	free(cfg->ws_url);
	free(cfg->rest_url);
	free(cfg->ca_file);
	memset(cfg, 0, sizeof(*cfg));
}

static void dump_pairs(const struct recorder_config *cfg, FILE *fp)
{
	fputs("  trading_pairs: [", fp);
	for (size_t i = 0; i < cfg->npairs; i++) {
		if (i > 0)
			fputs(", ", fp);
		dump_str(fp, cfg->pairs[i]);
	}
	fputs("]\n", fp);
}

static void dump_datasets(const struct recorder_config *cfg, FILE *fp)
{
	const char *sep = "";

	fputs("  datasets: [", fp);
	for (size_t i = 0; i < CORE_ARRAY_LEN(dataset_names); i++) {
		if (cfg->datasets & dataset_names[i].bit) {
			fprintf(fp, "%s%s", sep, dataset_names[i].name);
			sep = ", ";
		}
	}
	fputs("]\n", fp);
}

int config_dump_recorder(const struct recorder_config *cfg, FILE *fp)
{
	fputs("config:\n", fp);
	dump_kstr(fp, "  ", "connector_name", cfg->connector_name);
	dump_pairs(cfg, fp);
	fprintf(fp,
		"  depth_limit: %d\n  snapshot_interval: ", cfg->depth_limit);
	dump_double(fp, cfg->snapshot_interval);
	fprintf(fp,
		"\n  buffer_size: %d\n  flush_interval: ", cfg->buffer_size);
	dump_double(fp, cfg->flush_interval);
	fprintf(fp, "\n  gap_warning_threshold: %d\n",
		cfg->gap_warning_threshold);
	dump_kstr(fp, "  ", "data_dir", cfg->data_dir);
	dump_kstr(fp, "  ", "metrics_listen", cfg->metrics_listen);
	dump_kstr(fp, "  ", "channel", cfg->channel);
	dump_datasets(cfg, fp);
	fprintf(fp,
		"  snapshot_depth: %d\n  stale_after: ", cfg->snapshot_depth);
	dump_double(fp, cfg->stale_after);
	fputs("\n  fsync_interval: ", fp);
	dump_double(fp, cfg->fsync_interval);
	fprintf(fp, "\n  update_events: %s\n",
		cfg->update_events ? "true" : "false");
	fprintf(fp, "  rollover: %s\n  rollover_margin: ",
		cfg->rollover ? "true" : "false");
	dump_double(fp, cfg->rollover_margin);
	fputs("\n  connection_lifetime: ", fp);
	dump_double(fp, cfg->conn_lifetime);
	fputc('\n', fp);
	dump_kstr(fp, "  ", "ws_url", cfg->ws_url);
	dump_kstr(fp, "  ", "rest_url", cfg->rest_url);
	dump_kstr(fp, "  ", "ca_file", cfg->ca_file);
	return dump_end(fp);
}
