/*
 * Config loader: parses the recorder, rotate and backup YAML files with
 * libyaml's document API, walks each `config:` map against a table of
 * keys and collects every error as "file:line:column: message".
 *
 * How a file is read:
 *   - one YAML document whose root is a mapping holding only `config:`,
 *     itself a mapping; a second document is an error;
 *   - each key is looked up in a table {name, handler, offset, range};
 *     an unknown key is reported at the key (with a "did you mean" hint
 *     when a known key is within edit distance 2), a repeated key too;
 *   - numbers and booleans must be plain scalars: `10` is a number,
 *     `"10"` is a string and is refused with a hint to drop the quotes;
 *     integers are decimal without leading zeros, reals are finite;
 *   - strings may be plain or quoted, at most CFG_MAX_STR bytes, with no
 *     control characters; optional strings take `null`, `~` or nothing
 *     for "use the default";
 *   - paths (data_dir, textfile_dir, ca_file, ...) may be relative: they
 *     are used as written, relative to the program's working directory;
 *   - cross-key rules run after the walk (Gate.io channel names,
 *     snapshot_depth vs depth_limit, sftp/s3 destination needs).
 * Values from the file are escaped before they appear in a message, so
 * each error stays one printable line.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

#define CFG_MAX_FILE   (1u << 20) /* bytes of YAML we agree to read */
#define CFG_MAX_ERRORS 100	  /* errors kept; the rest are counted */
#define CFG_MAX_STR    4096	  /* bytes in any one string value */
#define CFG_MAX_PAIRS  1024
#define CFG_MAX_DESTS  64
#define CFG_MAX_KEYS   24  /* largest key table */
#define CFG_QUOTE      200 /* room for an escaped value in a message */

#define DEFAULT_DATA_DIR     "/var/lib/booktape"
#define DEFAULT_TEXTFILE_DIR "/var/lib/prometheus/node-exporter"
#define DEFAULT_LISTEN	     "127.0.0.1:8000"
#define DEFAULT_REGION	     "us-east-1"

struct ctx {
	const char *name; /* the file, for messages */
	const char *buf;  /* the input, to place reader errors */
	size_t len;
	yaml_document_t *doc;
	struct cfg_err {
		size_t line, col; /* 1-based */
		unsigned seq;	  /* keeps equal positions in found order */
		char *msg;	  /* "file:line:column: message" */
	} errs[CFG_MAX_ERRORS];
	unsigned nerr; /* errors found, including those not kept */
	bool oom;
};

struct key;
typedef void (*key_fn)(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj);

enum {
	K_REQUIRED = 1u << 0, /* missing is an error */
	K_MIN_EXCL = 1u << 1, /* value must be > min, not >= min */
};

struct key {
	const char *name;
	key_fn fn;
	size_t off; /* field in the target struct */
	double min, max;
	unsigned flags;
};

/* What walk_map saw for each key of its table. */
struct seen {
	yaml_node_t *key, *val;
};

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

/* ------------------------------------------------------------ errors */

static void err_vat(struct ctx *c, size_t line, size_t col, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	struct cfg_err *e;

	if (c->nerr >= CFG_MAX_ERRORS) {
		c->nerr++;
		return;
	}
	e = &c->errs[c->nerr];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (asprintf(&e->msg, "%s:%zu:%zu: %s", c->name, line, col, msg) < 0) {
		c->oom = true;
		return;
	}
	e->line = line;
	e->col = col;
	e->seq = c->nerr++;
}

/* An error at a 1-based line and column. */
static void __attribute__((format(printf, 4, 5)))
err_at(struct ctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(c, line, col, fmt, ap);
	va_end(ap);
}

/* An error at the start of a node. */
static void __attribute__((format(printf, 3, 4)))
err_node(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(c, n->start_mark.line + 1, n->start_mark.column + 1, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ nodes */

static const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static size_t slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

static bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain empty, "~" or "null": YAML's null. */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (!is_plain(n))
		return false;
	for (size_t i = 0; i < CORE_ARRAY_LEN(nulls); i++)
		if (strcmp(sval(n), nulls[i]) == 0)
			return true;
	return false;
}

static const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		return is_null(n) ? "nothing" : "a scalar";
	default:
		return "nothing";
	}
}

/* The scalar's text, escaped and shortened for a message. */
static const char *quote(char *dst, const yaml_node_t *n)
{
	size_t len = slen(n);

	log_escape(dst, CFG_QUOTE - 3, sval(n), len > 48 ? 48 : len);
	if (len > 48)
		memcpy(dst + strlen(dst), "...", 4);
	return dst;
}

static yaml_node_t *node_get(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

/* Field `off` of obj, as a T *. */
#define FIELD(T, obj, off) ((T *)(void *)((char *)(obj) + (off)))

/* ------------------------------------------------------------ scalars */

/*
 * Check that v is a usable string: a scalar, not too long, no NUL or
 * control character. Returns its text or NULL after reporting.
 */
static const char *want_str(struct ctx *c, const char *what, yaml_node_t *v)
{
	const unsigned char *s;

	if (v->type != YAML_SCALAR_NODE) {
		err_node(c, v, "%s: expected a string, got %s", what, kind(v));
		return NULL;
	}
	if (slen(v) > CFG_MAX_STR) {
		err_node(c, v, "%s: longer than %d bytes", what, CFG_MAX_STR);
		return NULL;
	}
	s = v->data.scalar.value;
	for (size_t i = 0; i < slen(v); i++) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			err_node(c, v, "%s: contains a control character",
				 what);
			return NULL;
		}
	}
	return sval(v);
}

/* Replace *dst with a copy of s (NULL clears it). */
static void set_str(struct ctx *c, char **dst, const char *s)
{
	char *p = NULL;

	if (s != NULL && (p = strdup(s)) == NULL) {
		c->oom = true;
		return;
	}
	free(*dst);
	*dst = p;
}

/* A required, non-empty string. */
static void h_str(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const char *s;

	if (v->type == YAML_SCALAR_NODE && (is_null(v) || slen(v) == 0)) {
		err_node(c, v, "%s: must not be empty", k->name);
		return;
	}
	s = want_str(c, k->name, v);
	if (s != NULL)
		set_str(c, FIELD(char *, obj, k->off), s);
}

/* An optional string: null means "the default" and stores NULL. */
static void h_optstr(struct ctx *c, const struct key *k, yaml_node_t *v,
		     void *obj)
{
	const char *s;

	if (is_null(v)) {
		set_str(c, FIELD(char *, obj, k->off), NULL);
		return;
	}
	if (v->type == YAML_SCALAR_NODE && slen(v) == 0) {
		err_node(c, v, "%s: must not be empty (use null)", k->name);
		return;
	}
	s = want_str(c, k->name, v);
	if (s != NULL)
		set_str(c, FIELD(char *, obj, k->off), s);
}

static bool all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* Decimal integer text: optional sign, digits, no leading zero. */
static bool int_text(const char *s)
{
	const char *d = (*s == '-' || *s == '+') ? s + 1 : s;

	return all_of(d, "0123456789") && (d[0] != '0' || d[1] == '\0');
}

/*
 * Parse v as a number (an integer when `integer`). Reports and returns
 * -1 on a wrong type; the range is the caller's business.
 */
static int want_num(struct ctx *c, const struct key *k, yaml_node_t *v,
		    bool integer, double *out)
{
	const char *what = integer ? "an integer" : "a number";
	char q[CFG_QUOTE], *end;
	const char *s;
	double d;

	if (v->type != YAML_SCALAR_NODE || is_null(v)) {
		err_node(c, v, "%s: expected %s, got %s", k->name, what,
			 kind(v));
		return -1;
	}
	s = sval(v);
	errno = 0;
	d = strtod(s, &end);
	if (!all_of(s, "0123456789+-.eE") || *end != '\0' || end == s ||
	    errno == ERANGE || !isfinite(d) || (integer && !int_text(s))) {
		err_node(c, v, "%s: expected %s, got '%s'", k->name, what,
			 quote(q, v));
		return -1;
	}
	if (!is_plain(v)) {
		err_node(c, v,
			 "%s: expected %s, got the quoted string '%s' "
			 "(write it without quotes)",
			 k->name, what, quote(q, v));
		return -1;
	}
	*out = d;
	return 0;
}

static bool in_range(const struct key *k, double d)
{
	if (k->flags & K_MIN_EXCL)
		return d > k->min && d <= k->max;
	return d >= k->min && d <= k->max;
}

static void range_error(struct ctx *c, const struct key *k, yaml_node_t *v)
{
	char q[CFG_QUOTE];

	if (k->flags & K_MIN_EXCL)
		err_node(c, v,
			 "%s: must be greater than %.15g and at most %.15g, "
			 "got '%s'",
			 k->name, k->min, k->max, quote(q, v));
	else
		err_node(c, v, "%s: must be between %.15g and %.15g, got '%s'",
			 k->name, k->min, k->max, quote(q, v));
}

static void h_int(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	double d;

	if (want_num(c, k, v, true, &d) != 0)
		return;
	if (!in_range(k, d)) {
		range_error(c, k, v);
		return;
	}
	*FIELD(int, obj, k->off) = (int)d;
}

static void h_double(struct ctx *c, const struct key *k, yaml_node_t *v,
		     void *obj)
{
	double d;

	if (want_num(c, k, v, false, &d) != 0)
		return;
	if (!in_range(k, d)) {
		range_error(c, k, v);
		return;
	}
	*FIELD(double, obj, k->off) = d;
}

static void h_bool(struct ctx *c, const struct key *k, yaml_node_t *v,
		   void *obj)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char q[CFG_QUOTE];

	for (size_t i = 0; is_plain(v) && i < CORE_ARRAY_LEN(yes); i++) {
		if (strcasecmp(sval(v), yes[i]) == 0) {
			*FIELD(bool, obj, k->off) = true;
			return;
		}
		if (strcasecmp(sval(v), no[i]) == 0) {
			*FIELD(bool, obj, k->off) = false;
			return;
		}
	}
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		err_node(c, v, "%s: expected true or false, got %s", k->name,
			 kind(v));
	else if (!is_plain(v))
		err_node(c, v,
			 "%s: expected true or false, got the quoted string "
			 "'%s' (write it without quotes)",
			 k->name, quote(q, v));
	else
		err_node(c, v, "%s: expected true or false, got '%s'", k->name,
			 quote(q, v));
}

/* ------------------------------------------------------------ mappings */

/* Levenshtein distance, for "did you mean"; long words count as far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

static void unknown_key(struct ctx *c, yaml_node_t *k, const struct key *keys,
			size_t nkeys)
{
	const char *best = NULL;
	size_t bestd = 3; /* suggest only within distance 2 */
	char q[CFG_QUOTE];

	for (size_t i = 0; i < nkeys; i++) {
		size_t d = edit_distance(sval(k), keys[i].name);

		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best != NULL)
		err_node(c, k, "unknown key '%s'; did you mean '%s'?",
			 quote(q, k), best);
	else
		err_node(c, k, "unknown key '%s'", quote(q, k));
}

static int key_find(const struct key *keys, size_t nkeys, yaml_node_t *k)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strlen(keys[i].name) == slen(k) &&
		    strcmp(keys[i].name, sval(k)) == 0)
			return (int)i;
	return -1;
}

/*
 * Walk a mapping: look each key up in `keys`, run its handler on obj,
 * and record key and value nodes in seen[] (nkeys entries). Reports
 * unknown, duplicate and (at `where`) missing required keys.
 */
static void walk_map(struct ctx *c, yaml_node_t *map, const struct key *keys,
		     size_t nkeys, void *obj, struct seen *seen,
		     const yaml_node_t *where)
{
	yaml_node_pair_t *p;

	CORE_ASSERT(nkeys <= CFG_MAX_KEYS);
	memset(seen, 0, nkeys * sizeof(*seen));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_get(c, p->key),
			    *v = node_get(c, p->value);
		int i;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err_node(c, k, "expected a key name, got %s", kind(k));
			continue;
		}
		if ((i = key_find(keys, nkeys, k)) < 0) {
			unknown_key(c, k, keys, nkeys);
			continue;
		}
		if (seen[i].key != NULL) {
			err_node(c, k, "duplicate key '%s'", keys[i].name);
			continue;
		}
		seen[i].key = k;
		seen[i].val = v;
		keys[i].fn(c, &keys[i], v, obj);
	}
	for (size_t i = 0; i < nkeys; i++)
		if ((keys[i].flags & K_REQUIRED) && seen[i].key == NULL)
			err_node(c, where, "missing required key '%s'",
				 keys[i].name);
}

/* ------------------------------------------------------------ recorder */

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

/* A DNS name: labels of [A-Za-z0-9-] joined by dots, at most 253 bytes. */
static bool hostname_ok(const char *h, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* A port 1..65535 in decimal; -1 when malformed. */
static int port_parse(const char *s, size_t len)
{
	long p = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (s[i] - '0');
	}
	return p >= 1 && p <= 65535 ? (int)p : -1;
}

/*
 * Split "host:port" or "[v6]:port" (the port may be left out when dflt
 * > 0) and check both parts. Returns the port, or -1 with *why set.
 */
static int hostport_parse(const char *s, size_t len, int dflt, char *host,
			  size_t hostsz, const char **why)
{
	const char *end = s + len, *h = s, *hend, *colon;
	unsigned char addr[16];
	bool v6 = len > 0 && s[0] == '[';
	int port;

	*why = "an IPv6 address goes in [brackets]";
	if (v6) {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL || (rb + 1 < end && rb[1] != ':'))
			return -1;
		h = s + 1;
		hend = rb;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memrchr(s, ':', len);
		if (colon != NULL && memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hend = colon != NULL ? colon : end;
	}
	*why = "the host is missing or too long";
	if (hend == h || (size_t)(hend - h) >= hostsz)
		return -1;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*why = "the host is not an address or a host name";
	if (v6 ? inet_pton(AF_INET6, host, addr) != 1
	       : !hostname_ok(host, strlen(host)))
		return -1;
	*why = colon == NULL ? "the port is missing"
			     : "the port must be 1..65535";
	if (colon == NULL)
		return dflt > 0 ? dflt : -1;
	port = port_parse(colon + 1, (size_t)(end - colon - 1));
	return port;
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

/* Does s start with "<scheme>://" and a host character after it? */
static bool url_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(s, scheme, n) == 0 &&
	       strncmp(s + n, "://", 3) == 0 && s[n + 3] != '\0' &&
	       s[n + 3] != '/';
}

/* Replace *dst with the first len bytes of s. */
static void set_strn(struct ctx *c, char **dst, const char *s, size_t len)
{
	char *p;

	if ((p = strndup(s, len)) == NULL) {
		c->oom = true;
		return;
	}
	free(*dst);
	*dst = p;
}

enum {
	URL_NULLABLE = 1u << 0, /* null stores NULL: "the default" */
	URL_TRIM = 1u << 1,	/* drop trailing slashes */
};

/* A URL with one of two schemes. */
static void url_key(struct ctx *c, const struct key *k, yaml_node_t *v,
		    void *obj, const char *s1, const char *s2, unsigned flags)
{
	const char *s;
	char q[CFG_QUOTE];
	size_t len;

	if ((flags & URL_NULLABLE) && is_null(v)) {
		set_str(c, FIELD(char *, obj, k->off), NULL);
		return;
	}
	if ((s = want_str(c, k->name, v)) == NULL)
		return;
	if (!url_scheme(s, s1) && !url_scheme(s, s2)) {
		err_node(c, v, "%s: '%s' must start with %s:// or %s://",
			 k->name, quote(q, v), s1, s2);
		return;
	}
	len = strlen(s);
	while ((flags & URL_TRIM) && len > 1 && s[len - 1] == '/')
		len--;
	set_strn(c, FIELD(char *, obj, k->off), s, len);
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

static void h_endpoint(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	url_key(c, k, v, obj, "http", "https", URL_TRIM);
}

/* The value node seen for key `name`, or NULL. */
static yaml_node_t *seen_val(const struct key *keys, size_t nkeys,
			     const struct seen *seen, const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return seen[i].val;
	return NULL;
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
	{ "ws_url", h_wsurl, REC(ws_url), 0, 0, 0 },
	{ "rest_url", h_resturl, REC(rest_url), 0, 0, 0 },
	{ "ca_file", h_optstr, REC(ca_file), 0, 0, 0 },
};

static int rec_defaults(struct recorder_config *cfg)
{
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
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->metrics_listen = strdup(DEFAULT_LISTEN);
	return cfg->data_dir && cfg->metrics_listen ? 0 : CORE_ENOMEM;
}

/* Rules that involve more than one key. */
static void rec_cross(struct ctx *c, struct recorder_config *cfg,
		      const struct seen *seen)
{
	size_t n = CORE_ARRAY_LEN(rec_keys);
	yaml_node_t *chan = seen_val(rec_keys, n, seen, "channel");
	yaml_node_t *depth = seen_val(rec_keys, n, seen, "snapshot_depth");

	if (cfg->exchange == EXCHANGE_GATEIO && cfg->channel != NULL &&
	    strcmp(cfg->channel, "spot.order_book_update") != 0 &&
	    strcmp(cfg->channel, "spot.obu") != 0) {
		char q[CFG_QUOTE];

		err_node(c, chan,
			 "channel: '%s' is not a Gate.io book channel "
			 "(expected spot.order_book_update or spot.obu)",
			 quote(q, chan));
	}
	if (cfg->exchange == EXCHANGE_MEXC && cfg->channel != NULL &&
	    strcmp(cfg->channel, "spot@public.aggre.depth.v3.api.pb") != 0) {
		char q[CFG_QUOTE];

		err_node(c, chan,
			 "channel: '%s' is not a MEXC book channel "
			 "(expected spot@public.aggre.depth.v3.api.pb)",
			 quote(q, chan));
	}
	if (cfg->exchange == EXCHANGE_BINANCE && cfg->channel != NULL &&
	    strcmp(cfg->channel, "depth@100ms") != 0 &&
	    strcmp(cfg->channel, "depth") != 0) {
		char q[CFG_QUOTE];

		err_node(c, chan,
			 "channel: '%s' is not a Binance book stream "
			 "(expected depth@100ms or depth)",
			 quote(q, chan));
	}
	if (cfg->exchange == EXCHANGE_OKX && cfg->channel != NULL &&
	    strcmp(cfg->channel, "books") != 0) {
		char q[CFG_QUOTE];

		err_node(c, chan,
			 "channel: '%s' is not an OKX book channel "
			 "(expected books)",
			 quote(q, chan));
	}
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

/* ------------------------------------------------------------ rotate */

#define ROT(f) offsetof(struct rotate_config, f)
static const struct key rot_keys[] = {
	{ "data_dir", h_str, ROT(data_dir), 0, 0, 0 },
	{ "textfile_dir", h_str, ROT(textfile_dir), 0, 0, 0 },
	{ "grace", h_int, ROT(grace), 0, 86400, 0 },
	{ "gzip_level", h_int, ROT(gzip_level), 0, 9, 0 },
	{ "keep_days", h_int, ROT(keep_days), 0, 36500, 0 },
};

static void rot_fill(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
		     void *obj)
{
	struct seen seen[CORE_ARRAY_LEN(rot_keys)];

	walk_map(c, map, rot_keys, CORE_ARRAY_LEN(rot_keys), obj, seen, where);
}

/* ------------------------------------------------------------ backup */

static bool name_ok(const char *s)
{
	return strlen(s) <= 64 &&
	       all_of(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-");
}

static void h_destname(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	char q[CFG_QUOTE];

	if (v->type == YAML_SCALAR_NODE && !name_ok(sval(v))) {
		err_node(c, v,
			 "%s: '%s' must be 1 to 64 of A-Z, a-z, 0-9, '_' "
			 "and '-'",
			 k->name, quote(q, v));
		return;
	}
	h_str(c, k, v, obj);
}

#define DST(f) offsetof(struct backup_destination, f)
enum {
	DK_NAME,
	DK_URL,
	DK_IDENTITY,
	DK_KNOWN_HOSTS,
	DK_ENDPOINT,
	DK_REGION,
	DK_PATH_STYLE,
};
static const struct key dest_keys[] = {
	{ "name", h_destname, DST(name), 0, 0, K_REQUIRED },
	{ "url", h_str, DST(url), 0, 0, K_REQUIRED },
	{ "identity", h_str, DST(identity), 0, 0, 0 },
	{ "known_hosts", h_str, DST(known_hosts), 0, 0, 0 },
	{ "endpoint", h_endpoint, DST(endpoint), 0, 0, 0 },
	{ "region", h_str, DST(region), 0, 0, 0 },
	{ "path_style", h_bool, DST(path_style), 0, 0, 0 },
};

/* Store a URL path without trailing slashes (but keep a lone "/"). */
static void set_path(struct ctx *c, char **dst, const char *s)
{
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		len--;
	set_strn(c, dst, s, len);
}

/* file:///abs/path */
static const char *url_file(struct ctx *c, struct backup_destination *d,
			    const char *rest)
{
	if (rest[0] != '/')
		return "a file URL is file:///absolute/path";
	set_path(c, &d->path, rest);
	return NULL;
}

/* sftp://user@host[:port]/path */
static const char *url_sftp(struct ctx *c, struct backup_destination *d,
			    const char *rest)
{
	const char *slash = strchr(rest, '/'), *at, *why = NULL;
	char host[256];
	size_t alen;

	if (slash == NULL || slash[1] == '\0')
		return "an sftp URL is sftp://user@host[:port]/path";
	alen = (size_t)(slash - rest);
	at = memchr(rest, '@', alen);
	if (at == NULL || at == rest)
		return "an sftp URL needs a user: sftp://user@host[:port]/path";
	if (strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") != (size_t)(at - rest))
		return "the sftp user must be of A-Z, a-z, 0-9, '.', '_', '-'";
	d->port = hostport_parse(at + 1, (size_t)(slash - at - 1), 22, host,
				 sizeof(host), &why);
	if (d->port < 0)
		return why;
	if ((d->user = strndup(rest, (size_t)(at - rest))) == NULL ||
	    (d->host = strdup(host)) == NULL)
		c->oom = true;
	set_path(c, &d->path, slash);
	return NULL;
}

/* s3://bucket/prefix */
static const char *url_s3(struct ctx *c, struct backup_destination *d,
			  const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *pre = slash ? slash + 1 : "";
	size_t plen = strlen(pre);

	if (blen < 3 || blen > 63 ||
	    strspn(rest, "abcdefghijklmnopqrstuvwxyz0123456789.-") != blen ||
	    rest[0] == '.' || rest[0] == '-' || rest[blen - 1] == '.' ||
	    rest[blen - 1] == '-')
		return "the S3 bucket must be 3 to 63 of a-z, 0-9, '.' and "
		       "'-'";
	while (*pre == '/')
		pre++, plen--;
	while (plen > 0 && pre[plen - 1] == '/')
		plen--;
	if ((d->host = strndup(rest, blen)) == NULL ||
	    (d->path = strndup(pre, plen)) == NULL)
		c->oom = true;
	return NULL;
}

/* Parse d->url into kind, user, host, port and path. */
static int url_parse(struct ctx *c, struct backup_destination *d,
		     yaml_node_t *v)
{
	static const struct {
		const char *prefix;
		enum dest_kind kind;
		const char *(*fn)(struct ctx *, struct backup_destination *,
				  const char *);
	} schemes[] = {
		{ "file://", DEST_FILE, url_file },
		{ "sftp://", DEST_SFTP, url_sftp },
		{ "s3://", DEST_S3, url_s3 },
	};
	char q[CFG_QUOTE];

	for (size_t i = 0; i < CORE_ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i].prefix);
		const char *why;

		if (strncmp(d->url, schemes[i].prefix, n) != 0)
			continue;
		d->kind = schemes[i].kind;
		if ((why = schemes[i].fn(c, d, d->url + n)) == NULL)
			return 0;
		err_node(c, v, "url: '%s': %s", quote(q, v), why);
		return -1;
	}
	err_node(c, v,
		 "url: '%s' has an unsupported scheme (expected file://, "
		 "sftp:// or s3://)",
		 quote(q, v));
	return -1;
}

/* Keys each kind needs (1) or refuses (-1); indexed by DK_*. */
static const signed char dest_rules[3][CORE_ARRAY_LEN(dest_keys)] = {
	[DEST_FILE] = { 1, 1, -1, -1, -1, -1, -1 },
	[DEST_SFTP] = { 1, 1, 1, 1, -1, -1, -1 },
	[DEST_S3] = { 1, 1, -1, -1, 1, 0, 0 },
};
static const char *const kind_names[] = { "file", "sftp", "s3" };

static void dest_rules_check(struct ctx *c, struct backup_destination *d,
			     const struct seen *seen, yaml_node_t *map)
{
	for (size_t i = DK_IDENTITY; i < CORE_ARRAY_LEN(dest_keys); i++) {
		int rule = dest_rules[d->kind][i];

		if (rule < 0 && seen[i].key != NULL)
			err_node(c, seen[i].key,
				 "%s: not used by %s destinations",
				 dest_keys[i].name, kind_names[d->kind]);
		else if (rule > 0 && seen[i].key == NULL)
			err_node(c, map,
				 "missing required key '%s' for an %s "
				 "destination",
				 dest_keys[i].name, kind_names[d->kind]);
	}
	if (d->kind == DEST_S3 && d->region == NULL)
		set_str(c, &d->region, DEFAULT_REGION);
}

/* One item of destinations; names[] holds the name nodes seen so far. */
static void dest_fill(struct ctx *c, yaml_node_t *map,
		      struct backup_destination *d, yaml_node_t **names,
		      size_t idx)
{
	struct seen seen[CORE_ARRAY_LEN(dest_keys)];
	char q[CFG_QUOTE];

	if (map->type != YAML_MAPPING_NODE) {
		err_node(c, map, "destination: expected a mapping, got %s",
			 kind(map));
		return;
	}
	walk_map(c, map, dest_keys, CORE_ARRAY_LEN(dest_keys), d, seen, map);
	names[idx] = d->name != NULL ? seen[DK_NAME].val : NULL;
	for (size_t i = 0; names[idx] != NULL && i < idx; i++) {
		if (names[i] != NULL && strcmp(sval(names[i]), d->name) == 0) {
			err_node(c, names[idx],
				 "duplicate destination name '%s'",
				 quote(q, names[idx]));
			break;
		}
	}
	if (d->url != NULL && url_parse(c, d, seen[DK_URL].val) == 0)
		dest_rules_check(c, d, seen, map);
}

static void h_dests(struct ctx *c, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct backup_config *cfg = obj;
	yaml_node_t *names[CFG_MAX_DESTS];
	yaml_node_item_t *first;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		err_node(c, v, "%s: expected a sequence of mappings, got %s",
			 k->name, kind(v));
		return;
	}
	first = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - first);
	if (n == 0 || n > CFG_MAX_DESTS) {
		err_node(c, v, "%s: must list between 1 and %d destinations",
			 k->name, CFG_MAX_DESTS);
		return;
	}
	if ((cfg->dests = calloc(n, sizeof(*cfg->dests))) == NULL) {
		c->oom = true;
		return;
	}
	cfg->ndests = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_get(c, first[i]);

		names[i] = NULL;
		if (item != NULL)
			dest_fill(c, item, &cfg->dests[i], names, i);
	}
}

#define BAK(f) offsetof(struct backup_config, f)
static const struct key bak_keys[] = {
	{ "data_dir", h_str, BAK(data_dir), 0, 0, 0 },
	{ "textfile_dir", h_str, BAK(textfile_dir), 0, 0, 0 },
	{ "secrets_file", h_optstr, BAK(secrets_file), 0, 0, 0 },
	{ "keep_local_days", h_int, BAK(keep_local_days), 0, 36500, 0 },
	{ "keep_remote_days", h_int, BAK(keep_remote_days), 0, 36500, 0 },
	{ "destinations", h_dests, 0, 0, 0, K_REQUIRED },
};

static void bak_fill(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
		     void *obj)
{
	struct backup_config *cfg = obj;
	struct seen seen[CORE_ARRAY_LEN(bak_keys)];
	yaml_node_t *sec;

	walk_map(c, map, bak_keys, CORE_ARRAY_LEN(bak_keys), obj, seen, where);
	if (cfg->secrets_file != NULL)
		return;
	sec = seen_val(bak_keys, CORE_ARRAY_LEN(bak_keys), seen,
		       "secrets_file");
	/* S3 credentials live in secrets_file, under the destination name. */
	for (size_t i = 0; i < cfg->ndests; i++) {
		if (cfg->dests[i].kind == DEST_S3 && cfg->dests[i].host) {
			err_node(c, sec != NULL ? sec : where,
				 "secrets_file: required by the s3 "
				 "destination '%s' (its credentials)",
				 cfg->dests[i].name ? cfg->dests[i].name : "");
			return;
		}
	}
}

/* ------------------------------------------------------------ driver */

/* Line and column (1-based) of byte offset off in the input. */
static void offset_mark(const struct ctx *c, size_t off, size_t *line,
			size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < c->len; i++) {
		if (c->buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Report a libyaml failure; CORE_ENOMEM for its allocation failures. */
static int syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line = p->problem_mark.line + 1,
	       col = p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return CORE_ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_mark(c, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			err_at(c, line, col, "%s (byte 0x%02x)", problem,
			       (unsigned)p->problem_value & 0xffu);
		else
			err_at(c, line, col, "%s", problem);
	} else if (p->context != NULL) {
		err_at(c, line, col, "%s (%s at line %zu)", problem, p->context,
		       p->context_mark.line + 1);
	} else {
		err_at(c, line, col, "%s", problem);
	}
	return 0;
}

/* After the first document: anything but the end of the stream is an error. */
static int one_document(struct ctx *c, yaml_parser_t *p)
{
	yaml_document_t next;
	yaml_node_t *root;

	if (!yaml_parser_load(p, &next))
		return syntax_error(c, p);
	root = yaml_document_get_root_node(&next);
	if (root != NULL)
		err_node(c, root, "only one YAML document is allowed");
	yaml_document_delete(&next);
	return 0;
}

/*
 * The `config:` map of the root, or NULL after reporting why not.
 * *where is set to the `config` key, where missing keys are reported.
 */
static yaml_node_t *find_config(struct ctx *c, yaml_node_t *root,
				yaml_node_t **where)
{
	static const struct key top[] = { { "config", NULL, 0, 0, 0, 0 } };
	yaml_node_t *map = NULL, *cfgkey = NULL;
	yaml_node_pair_t *p;

	if (root == NULL) {
		err_at(c, 1, 1, "empty file; expected a 'config:' mapping");
		return NULL;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_node(c, root,
			 "expected a mapping with a 'config:' key, got %s",
			 kind(root));
		return NULL;
	}
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_get(c, p->key),
			    *v = node_get(c, p->value);

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err_node(c, k, "expected a key name, got %s", kind(k));
		} else if (key_find(top, 1, k) < 0) {
			unknown_key(c, k, top, 1);
		} else if (cfgkey != NULL) {
			err_node(c, k, "duplicate key 'config'");
		} else {
			cfgkey = k;
			if (v->type == YAML_MAPPING_NODE)
				map = v;
			else
				err_node(c, v,
					 "config: expected a mapping, got %s",
					 kind(v));
		}
	}
	if (cfgkey == NULL)
		err_node(c, root, "missing required key 'config'");
	*where = cfgkey;
	return map;
}

typedef void (*fill_fn)(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
			void *cfg);

/* Parse buf, walk its config map with fill; 0 or a CORE_E* code. */
static int parse_buf(struct ctx *c, fill_fn fill, void *cfg)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *map, *where = NULL;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return CORE_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->buf,
				     c->len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	c->doc = &doc;
	map = find_config(c, yaml_document_get_root_node(&doc), &where);
	if (map != NULL)
		fill(c, map, where, cfg);
	if (yaml_document_get_root_node(&doc) != NULL)
		rc = one_document(c, &parser);
	c->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The kept errors in file order, one per line, plus a count of those
 * not kept. NULL when out of memory.
 */
static char *err_join(struct ctx *c)
{
	unsigned kept = c->nerr < CFG_MAX_ERRORS ? c->nerr : CFG_MAX_ERRORS;
	size_t len = 0, off = 0;
	char *out;

	qsort(c->errs, kept, sizeof(c->errs[0]), err_cmp);
	for (unsigned i = 0; i < kept; i++)
		len += strlen(c->errs[i].msg) + 1;
	len += strlen(c->name) + 64;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (unsigned i = 0; i < kept; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i > 0 ? "\n" : "", c->errs[i].msg);
	if (c->nerr > kept)
		snprintf(out + off, len - off, "\n%s: %u more errors not shown",
			 c->name, c->nerr - kept);
	return out;
}

/* Turn the collected errors into the return code and *errmsg. */
static int finish(struct ctx *c, int rc, char **errmsg)
{
	unsigned kept = c->nerr < CFG_MAX_ERRORS ? c->nerr : CFG_MAX_ERRORS;

	if (rc == 0 && c->nerr > 0)
		rc = CORE_ECONFIG;
	if (rc == CORE_ECONFIG && !c->oom && errmsg != NULL &&
	    (*errmsg = err_join(c)) == NULL)
		c->oom = true;
	if (c->oom)
		rc = CORE_ENOMEM;
	for (unsigned i = 0; i < kept; i++)
		free(c->errs[i].msg);
	return rc;
}

/*
 * The common path of every loader: defaults already in cfg; parse, fill,
 * and report. On failure the caller releases cfg.
 */
static int parse_common(const char *name, const char *buf, size_t len,
			fill_fn fill, void *cfg, char **errmsg)
{
	struct ctx c = { .name = name, .buf = buf, .len = len };

	return finish(&c, parse_buf(&c, fill, cfg), errmsg);
}

/* Read a config file; errors other than CORE_ECONFIG get one message. */
static int read_config(const char *path, char **buf, size_t *len, char **errmsg)
{
	int rc = fs_read_file(path, CFG_MAX_FILE, buf, len);
	char msg[1024];
	int saved;

	if (rc == 0)
		return 0;
	saved = errno;
	if (rc == CORE_ETOOBIG)
		snprintf(msg, sizeof(msg), "%s:1:1: larger than %u bytes", path,
			 CFG_MAX_FILE);
	else
		snprintf(msg, sizeof(msg), "%s: %s", path, core_strerror(rc));
	if (errmsg != NULL)
		*errmsg = strdup(msg);
	errno = saved;
	return rc == CORE_ETOOBIG ? CORE_ECONFIG : rc;
}

int config_parse_recorder(const char *name, const char *buf, size_t len,
			  struct recorder_config *cfg, char **errmsg)
{
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errmsg != NULL)
		*errmsg = NULL;
	rc = rec_defaults(cfg);
	if (rc == 0 && (cfg->path = strdup(name)) == NULL)
		rc = CORE_ENOMEM;
	if (rc == 0)
		rc = parse_common(name, buf, len, rec_fill, cfg, errmsg);
	if (rc != 0)
		config_release_recorder(cfg);
	return rc;
}

int config_load_recorder(const char *path, struct recorder_config *cfg,
			 char **errmsg)
{
	char *buf;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errmsg != NULL)
		*errmsg = NULL;
	if ((rc = read_config(path, &buf, &len, errmsg)) != 0)
		return rc;
	rc = config_parse_recorder(path, buf, len, cfg, errmsg);
	free(buf);
	return rc;
}

int config_load_rotate(const char *path, struct rotate_config *cfg,
		       char **errmsg)
{
	char *buf = NULL;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errmsg != NULL)
		*errmsg = NULL;
	if ((rc = read_config(path, &buf, &len, errmsg)) != 0)
		return rc;
	cfg->grace = 120;
	cfg->gzip_level = 6;
	cfg->keep_days = 7;
	cfg->path = strdup(path);
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->textfile_dir = strdup(DEFAULT_TEXTFILE_DIR);
	if (!cfg->path || !cfg->data_dir || !cfg->textfile_dir)
		rc = CORE_ENOMEM;
	else
		rc = parse_common(path, buf, len, rot_fill, cfg, errmsg);
	free(buf);
	if (rc != 0)
		config_release_rotate(cfg);
	return rc;
}

int config_load_backup(const char *path, struct backup_config *cfg,
		       char **errmsg)
{
	char *buf = NULL;
	size_t len;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errmsg != NULL)
		*errmsg = NULL;
	if ((rc = read_config(path, &buf, &len, errmsg)) != 0)
		return rc;
	cfg->keep_local_days = 7;
	cfg->keep_remote_days = 365;
	cfg->path = strdup(path);
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->textfile_dir = strdup(DEFAULT_TEXTFILE_DIR);
	if (!cfg->path || !cfg->data_dir || !cfg->textfile_dir)
		rc = CORE_ENOMEM;
	else
		rc = parse_common(path, buf, len, bak_fill, cfg, errmsg);
	free(buf);
	if (rc != 0)
		config_release_backup(cfg);
	return rc;
}

/* ------------------------------------------------------------ release */

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

void config_release_rotate(struct rotate_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->textfile_dir);
	memset(cfg, 0, sizeof(*cfg));
}

static void dest_release(struct backup_destination *d)
{
	free(d->name);
	free(d->url);
	free(d->user);
	free(d->host);
	free(d->path);
	free(d->identity);
	free(d->known_hosts);
	free(d->endpoint);
	free(d->region);
}

void config_release_backup(struct backup_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->ndests; i++)
		dest_release(&cfg->dests[i]);
	free(cfg->dests);
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->textfile_dir);
	free(cfg->secrets_file);
	memset(cfg, 0, sizeof(*cfg));
}

/* ------------------------------------------------------------ dump */

/* A YAML double-quoted scalar, or null. */
static void dump_str(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* The shortest of %.15g / %.17g that reads back as the same double. */
static void dump_double(FILE *fp, double d)
{
	char b[64];

	snprintf(b, sizeof(b), "%.15g", d);
	if (strtod(b, NULL) != d)
		snprintf(b, sizeof(b), "%.17g", d);
	fputs(b, fp);
}

static void dump_kstr(FILE *fp, const char *indent, const char *k,
		      const char *s)
{
	fprintf(fp, "%s%s: ", indent, k);
	dump_str(fp, s);
	fputc('\n', fp);
}

static int dump_end(FILE *fp)
{
	if (fflush(fp) != 0)
		return CORE_ESYS;
	if (ferror(fp)) {
		errno = EIO;
		return CORE_ESYS;
	}
	return 0;
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
	dump_kstr(fp, "  ", "ws_url", cfg->ws_url);
	dump_kstr(fp, "  ", "rest_url", cfg->rest_url);
	dump_kstr(fp, "  ", "ca_file", cfg->ca_file);
	return dump_end(fp);
}

int config_dump_rotate(const struct rotate_config *cfg, FILE *fp)
{
	fputs("config:\n", fp);
	dump_kstr(fp, "  ", "data_dir", cfg->data_dir);
	dump_kstr(fp, "  ", "textfile_dir", cfg->textfile_dir);
	fprintf(fp, "  grace: %d\n  gzip_level: %d\n  keep_days: %d\n",
		cfg->grace, cfg->gzip_level, cfg->keep_days);
	return dump_end(fp);
}

static void dump_dest(const struct backup_destination *d, FILE *fp)
{
	fputs("    - name: ", fp);
	dump_str(fp, d->name);
	fputc('\n', fp);
	dump_kstr(fp, "      ", "url", d->url);
	if (d->kind == DEST_SFTP) {
		dump_kstr(fp, "      ", "identity", d->identity);
		dump_kstr(fp, "      ", "known_hosts", d->known_hosts);
	} else if (d->kind == DEST_S3) {
		dump_kstr(fp, "      ", "endpoint", d->endpoint);
		dump_kstr(fp, "      ", "region", d->region);
		fprintf(fp, "      path_style: %s\n",
			d->path_style ? "true" : "false");
	}
}

int config_dump_backup(const struct backup_config *cfg, FILE *fp)
{
	fputs("config:\n", fp);
	dump_kstr(fp, "  ", "data_dir", cfg->data_dir);
	dump_kstr(fp, "  ", "textfile_dir", cfg->textfile_dir);
	dump_kstr(fp, "  ", "secrets_file", cfg->secrets_file);
	fprintf(fp, "  keep_local_days: %d\n  keep_remote_days: %d\n",
		cfg->keep_local_days, cfg->keep_remote_days);
	fputs("  destinations:\n", fp);
	for (size_t i = 0; i < cfg->ndests; i++)
		dump_dest(&cfg->dests[i], fp);
	return dump_end(fp);
}
