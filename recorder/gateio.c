/*
 * Gate.io spot v4 frames and bodies. Parsing scans the whole text with
 * the strict JSON scanner first, then reads only the fields it needs;
 * level arrays become book_change spans kept in the parser.
 */
#include "gateio.h"

#include <stdio.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "wire.h"
#include "banned.h"

struct gateio_parser {
	struct wire_parser w;
};

struct gateio_parser *gateio_parser_new(size_t max_tokens)
{
	return wire_parser_new(sizeof(struct gateio_parser),
			       max_tokens ? max_tokens : GATEIO_DEFAULT_TOKENS);
}

void gateio_parser_free(struct gateio_parser *p)
{
	wire_parser_free(p);
}

static bool pair_char(char c)
{
	return wire_upper_alnum(c) || (c >= 'a' && c <= 'z') || c == '_';
}

/* Copy s[0..n) into out when it is a plausible exchange pair. */
static bool take_pair(const char *s, size_t n, char out[GATEIO_PAIR_MAX])
{
	return wire_take(s, n, out, GATEIO_PAIR_MAX, pair_char);
}

/* An obu level or "l": 1..6 digits. */
static bool digits_uint(const char *s, size_t n, unsigned *out)
{
	uint64_t v;

	if (n > 6 || !wire_digits(s, n, &v))
		return false;
	*out = (unsigned)v;
	return true;
}

/* Split an obu stream name "ob.BTC_USDT.400" into pair and level. */
static bool split_stream(const char *s, size_t n, char pair[GATEIO_PAIR_MAX],
			 unsigned *level)
{
	const char *dot;

	if (n < 5 || memcmp(s, "ob.", 3) != 0)
		return false;
	dot = memrchr(s + 3, '.', n - 3);
	if (dot == NULL)
		return false;
	return take_pair(s + 3, (size_t)(dot - s - 3), pair) &&
	       digits_uint(dot + 1, (size_t)(s + n - dot - 1), level);
}

/* ------------------------------------------------------------ frames */

static enum gateio_channel channel_of(const char *buf, const struct json_tok *t,
				      long i)
{
	if (i < 0)
		return GATEIO_CH_OTHER;
	if (json_str_eq(buf, t, (size_t)i, "spot.order_book_update"))
		return GATEIO_CH_ORDER_BOOK_UPDATE;
	if (json_str_eq(buf, t, (size_t)i, "spot.obu"))
		return GATEIO_CH_OBU;
	return GATEIO_CH_OTHER;
}

/* Optional unsigned field; CORE_EPARSE when present but not one. */
static int opt_u64(const char *buf, const struct json_tok *t, size_t obj,
		   const char *key, uint64_t *v, bool *has)
{
	long i = json_get(buf, t, obj, key);

	*has = false;
	if (i < 0 || t[i].type == JSON_NULL)
		return 0;
	if (json_u64(buf, t, (size_t)i, false, v) != 0)
		return CORE_EPARSE;
	*has = true;
	return 0;
}

static void envelope_time(const char *buf, const struct json_tok *t,
			  struct gateio_msg *m)
{
	long i = json_get(buf, t, 0, "time_ms");
	int64_t v;

	if (i >= 0 && json_i64(buf, t, (size_t)i, &v) == 0) {
		m->time_ms = v;
		return;
	}
	i = json_get(buf, t, 0, "time");
	if (i >= 0 && json_i64(buf, t, (size_t)i, &v) == 0 && v >= 0 &&
	    v <= INT64_MAX / 1000)
		m->time_ms = v * 1000;
}

/* The pair of an update: "s" is the pair, or the obu stream name. */
static int update_pair(const char *buf, const struct json_tok *t, size_t r,
		       struct gateio_msg *m)
{
	long si = json_get(buf, t, r, "s"), li;
	const char *s;
	size_t n;

	if (si < 0 || t[si].type != JSON_STRING)
		return CORE_EPARSE;
	s = wire_text(buf, &t[si], &n);
	if (m->channel == GATEIO_CH_OBU)
		return split_stream(s, n, m->pair, &m->level) ? 0 : CORE_EPARSE;
	if (!take_pair(s, n, m->pair))
		return CORE_EPARSE;
	li = json_get(buf, t, r, "l");
	if (li >= 0 && t[li].type == JSON_STRING) {
		s = wire_text(buf, &t[li], &n);
		if (!digits_uint(s, n, &m->level))
			m->level = 0;
	}
	return 0;
}

static int update_ids(const char *buf, const struct json_tok *t, size_t r,
		      struct sync_update *u)
{
	bool has_last;
	long i;
	int64_t ts;

	if (opt_u64(buf, t, r, "U", &u->first_id, &u->has_first) != 0 ||
	    opt_u64(buf, t, r, "u", &u->last_id, &has_last) != 0 || !has_last)
		return CORE_EPARSE;
	if (u->has_first && u->first_id > u->last_id)
		return CORE_EPARSE;
	i = json_get(buf, t, r, "full");
	if (i >= 0 && t[i].type != JSON_TRUE && t[i].type != JSON_FALSE &&
	    t[i].type != JSON_NULL)
		return CORE_EPARSE;
	u->full = i >= 0 && t[i].type == JSON_TRUE;
	/* Only full pushes may omit U (documented for obu). */
	if (!u->has_first && !u->full)
		return CORE_EPARSE;
	i = json_get(buf, t, r, "t");
	if (i >= 0 && json_i64(buf, t, (size_t)i, &ts) == 0 && ts > 0)
		u->ts_ms = ts;
	return 0;
}

static int parse_update(struct gateio_parser *p, const char *buf, size_t r,
			struct gateio_msg *m)
{
	const struct json_tok *t = p->w.tok;
	struct sync_update *u = &m->update;
	int rc;

	rc = update_pair(buf, t, r, m);
	if (rc == 0)
		rc = update_ids(buf, t, r, u);
	if (rc == 0)
		rc = wire_levels_json(&p->w, buf, json_get(buf, t, r, "b"),
				      false, &u->bids, &u->nbids);
	if (rc == 0)
		rc = wire_levels_json(&p->w, buf, json_get(buf, t, r, "a"),
				      false, &u->asks, &u->nasks);
	if (rc != 0)
		return rc;
	u->levels_checked = true; /* by wire_levels_json */
	m->type = GATEIO_MSG_UPDATE;
	return 0;
}

/* The pair a request was about: from the payload's first entry. */
static void payload_pair(const char *buf, const struct json_tok *t,
			 struct gateio_msg *m)
{
	long pl = json_get(buf, t, 0, "payload");
	const char *s;
	size_t n, e;

	if (pl < 0 || t[pl].type != JSON_ARRAY || t[pl].size == 0)
		return;
	e = json_child((size_t)pl);
	if (t[e].type != JSON_STRING)
		return;
	s = wire_text(buf, &t[e], &n);
	if (!split_stream(s, n, m->pair, &m->level))
		take_pair(s, n, m->pair);
}

static void parse_error(struct gateio_parser *p, const char *buf, long ei,
			struct gateio_msg *m)
{
	static const char prefix[] = "unknown currency pair: ";
	const struct json_tok *t = p->w.tok;
	long ci = json_get(buf, t, (size_t)ei, "code");
	long mi = json_get(buf, t, (size_t)ei, "message");

	m->type = GATEIO_MSG_ERROR;
	if (ci >= 0 && json_i64(buf, t, (size_t)ci, &m->err_code) != 0)
		m->err_code = 0;
	wire_unescape(buf, t, mi, m->err_message, sizeof(m->err_message));
	if (strncmp(m->err_message, prefix, sizeof(prefix) - 1) == 0) {
		const char *x = m->err_message + sizeof(prefix) - 1;

		take_pair(x, strlen(x), m->pair);
	}
}

/* Subscribe/unsubscribe replies and errors. Returns true if handled. */
static bool parse_reply(struct gateio_parser *p, const char *buf,
			struct gateio_msg *m)
{
	const struct json_tok *t = p->w.tok;
	long ev = json_get(buf, t, 0, "event");
	long err = json_get(buf, t, 0, "error");
	long res = json_get(buf, t, 0, "result");
	bool sub = ev >= 0 && json_str_eq(buf, t, (size_t)ev, "subscribe");
	bool unsub = ev >= 0 && json_str_eq(buf, t, (size_t)ev, "unsubscribe");
	long st;

	if (!(sub || unsub) && (err < 0 || t[err].type != JSON_OBJECT))
		return false;
	m->unsubscribe = unsub;
	payload_pair(buf, t, m);
	if (opt_u64(buf, t, 0, "id", &m->req_id, &m->has_req_id) != 0)
		m->has_req_id = false;
	if (err >= 0 && t[err].type == JSON_OBJECT) {
		parse_error(p, buf, err, m);
		return true;
	}
	/* A request echoed back (no result) is not a reply. */
	if (res < 0 || t[res].type != JSON_OBJECT)
		return false;
	m->type = GATEIO_MSG_ACK;
	st = json_get(buf, t, (size_t)res, "status");
	if (st >= 0 && json_str_eq(buf, t, (size_t)st, "fail")) {
		m->type = GATEIO_MSG_ERROR;
		snprintf(m->err_message, sizeof(m->err_message),
			 "request failed");
	}
	return true;
}

int gateio_parse_frame(struct gateio_parser *p, const char *buf, size_t len,
		       struct gateio_msg *out)
{
	const struct json_tok *t = p->w.tok;
	long ch, res;
	int rc;

	memset(out, 0, sizeof(*out));
	out->channel = GATEIO_CH_OTHER;
	rc = wire_scan_object(&p->w, buf, len, NULL, 0);
	if (rc != 0)
		return rc;
	ch = json_get(buf, t, 0, "channel");
	if (ch < 0 || t[ch].type != JSON_STRING)
		return 0;
	out->channel = channel_of(buf, t, ch);
	envelope_time(buf, t, out);
	if (json_str_eq(buf, t, (size_t)ch, "spot.pong")) {
		out->type = GATEIO_MSG_PONG;
		return 0;
	}
	if (parse_reply(p, buf, out) || out->channel == GATEIO_CH_OTHER)
		return 0;
	res = json_get(buf, t, 0, "result");
	if (res < 0 || t[res].type != JSON_OBJECT)
		return 0;
	rc = parse_update(p, buf, (size_t)res, out);
	if (rc != 0) {
		/* Keep no half-parsed update. */
		memset(&out->update, 0, sizeof(out->update));
		out->type = GATEIO_MSG_UNKNOWN;
	}
	return rc;
}

int gateio_parse_snapshot(struct gateio_parser *p, const char *buf, size_t len,
			  struct sync_snapshot *out)
{
	long i;
	int rc = wire_parse_depth(&p->w, buf, len, "id", false, out);

	if (rc != 0)
		return rc;
	i = json_get(buf, p->w.tok, 0, "current");
	if (i >= 0 && json_i64(buf, p->w.tok, (size_t)i, &out->ts_ms) != 0) {
		memset(out, 0, sizeof(*out));
		return CORE_EPARSE;
	}
	return 0;
}

int gateio_parse_rest_error(struct gateio_parser *p, const char *buf,
			    size_t len, struct gateio_rest_error *out)
{
	const struct json_tok *t = p->w.tok;
	int rc;

	rc = wire_scan_object(&p->w, buf, len, out, sizeof(*out));
	if (rc != 0)
		return rc;
	wire_unescape(buf, t, json_get(buf, t, 0, "label"), out->label,
		      sizeof(out->label));
	wire_unescape(buf, t, json_get(buf, t, 0, "message"), out->message,
		      sizeof(out->message));
	return 0;
}

/* ------------------------------------------------------------ builders */

static int map_pair(const char *in, char from, char to, char *out, size_t size)
{
	size_t n = strlen(in), seps = 0;

	if (n == 0 || in[0] == from || in[n - 1] == from)
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++) {
		char c = in[i];

		if (c == from)
			seps++;
		else if (c == '_' || !pair_char(c))
			return CORE_EINVAL;
	}
	if (seps != 1)
		return CORE_EINVAL;
	if (n >= size)
		return CORE_ETOOBIG;
	for (size_t i = 0; i <= n; i++)
		out[i] = in[i] == from ? to : in[i];
	return 0;
}

int gateio_pair_from_normalized(const char *norm, char *out, size_t size)
{
	return map_pair(norm, '-', '_', out, size);
}

int gateio_pair_to_normalized(const char *pair, char *out, size_t size)
{
	return map_pair(pair, '_', '-', out, size);
}

const char *gateio_channel_name(enum gateio_channel ch)
{
	switch (ch) {
	case GATEIO_CH_ORDER_BOOK_UPDATE:
		return "spot.order_book_update";
	case GATEIO_CH_OBU:
		return "spot.obu";
	case GATEIO_CH_OTHER:
		break;
	}
	return NULL;
}

bool gateio_speed_valid(enum gateio_channel ch, const char *speed)
{
	if (speed == NULL)
		return false;
	if (ch == GATEIO_CH_ORDER_BOOK_UPDATE)
		return strcmp(speed, "100ms") == 0 ||
		       strcmp(speed, "20ms") == 0;
	if (ch == GATEIO_CH_OBU)
		return strcmp(speed, "400") == 0 || strcmp(speed, "50") == 0;
	return false;
}

static bool pair_ok(const char *pair)
{
	char tmp[GATEIO_PAIR_MAX];

	return pair != NULL && take_pair(pair, strlen(pair), tmp);
}

int gateio_build_subscribe(char *buf, size_t size, enum gateio_channel ch,
			   const char *pair, const char *speed, bool subscribe,
			   int64_t time_s, uint64_t id, size_t *len)
{
	char idpart[32] = "", payload[96];
	const char *name = gateio_channel_name(ch);

	*len = 0;
	if (name == NULL || !pair_ok(pair) || !gateio_speed_valid(ch, speed))
		return CORE_EINVAL;
	if (id != 0)
		snprintf(idpart, sizeof(idpart), "\"id\":%llu,",
			 (unsigned long long)id);
	if (ch == GATEIO_CH_OBU)
		snprintf(payload, sizeof(payload), "\"ob.%s.%s\"", pair, speed);
	else
		snprintf(payload, sizeof(payload), "\"%s\",\"%s\"", pair,
			 speed);
	return wire_finish(snprintf(buf, size,
				    "{\"time\":%lld,%s\"channel\":\"%s\","
				    "\"event\":\"%s\",\"payload\":[%s]}",
				    (long long)time_s, idpart, name,
				    subscribe ? "subscribe" : "unsubscribe",
				    payload),
			   size, len);
}

int gateio_build_ping(char *buf, size_t size, int64_t time_s, size_t *len)
{
	*len = 0;
	return wire_finish(snprintf(buf, size,
				    "{\"time\":%lld,\"channel\":\"spot.ping\"}",
				    (long long)time_s),
			   size, len);
}

int gateio_build_snapshot_path(char *buf, size_t size, const char *pair,
			       unsigned limit, size_t *len)
{
	*len = 0;
	if (!pair_ok(pair) || limit == 0 || limit > BOOK_MAX_DEPTH)
		return CORE_EINVAL;
	return wire_finish(snprintf(buf, size,
				    "/spot/order_book?currency_pair=%s&limit=%u"
				    "&with_id=true",
				    pair, limit),
			   size, len);
}
