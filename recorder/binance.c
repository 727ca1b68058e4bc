/*
 * Binance spot frames and bodies, through the strict JSON scanner; level
 * arrays become book_change spans kept in the parser. Routing follows
 * EXCHANGES.md §5.2: "result"/"error" are replies, "e" an event, and a
 * combined-stream frame wraps the event in "data".
 */
#include "binance.h"

#include <stdio.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "wire.h"
#include "banned.h"

struct binance_parser {
	struct wire_parser w;
};

struct binance_parser *binance_parser_new(size_t max_tokens)
{
	return wire_parser_new(sizeof(struct binance_parser),
			       max_tokens ? max_tokens
					  : BINANCE_DEFAULT_TOKENS);
}

void binance_parser_free(struct binance_parser *p)
{
	wire_parser_free(p);
}

static bool take_symbol(const char *s, size_t n, char out[BINANCE_SYMBOL_MAX])
{
	return wire_take(s, n, out, BINANCE_SYMBOL_MAX, wire_upper_alnum);
}

/* An error reply: code and msg of the object at obj. */
static void reply_error(const char *buf, const struct json_tok *t, size_t obj,
			struct binance_msg *out)
{
	long i = json_get(buf, t, obj, "code");

	out->type = BINANCE_MSG_ERROR;
	if (i >= 0 && json_i64(buf, t, (size_t)i, &out->code) != 0)
		out->code = 0;
	wire_unescape(buf, t, json_get(buf, t, obj, "msg"), out->text,
		      sizeof(out->text));
}

/* ------------------------------------------------------------ frames */

static int parse_depth(struct binance_parser *p, const char *buf, size_t obj,
		       struct binance_msg *out)
{
	const struct json_tok *t = p->w.tok;
	struct sync_update *u = &out->update;
	long i = json_get(buf, t, obj, "s");
	int rc;

	if (i < 0 || t[i].type != JSON_STRING ||
	    !take_symbol(buf + t[i].start, t[i].end - t[i].start, out->symbol))
		return CORE_EPARSE;
	i = json_get(buf, t, obj, "U");
	if (i < 0 || json_u64(buf, t, (size_t)i, false, &u->first_id) != 0)
		return CORE_EPARSE;
	i = json_get(buf, t, obj, "u");
	if (i < 0 || json_u64(buf, t, (size_t)i, false, &u->last_id) != 0 ||
	    u->first_id > u->last_id)
		return CORE_EPARSE;
	u->has_first = true;
	i = json_get(buf, t, obj, "E");
	if (i >= 0 &&
	    (json_i64(buf, t, (size_t)i, &u->ts_ms) != 0 || u->ts_ms < 0))
		u->ts_ms = 0;
	rc = wire_levels_json(&p->w, buf, json_get(buf, t, obj, "b"), true,
			      &u->bids, &u->nbids);
	if (rc == 0)
		rc = wire_levels_json(&p->w, buf, json_get(buf, t, obj, "a"),
				      true, &u->asks, &u->nasks);
	if (rc != 0)
		return rc;
	u->levels_checked = true; /* by wire_levels_json */
	out->type = BINANCE_MSG_UPDATE;
	return 0;
}

/* {"result":...,"id":N}, {"error":{...},"id":N} or {"code","msg"}. */
static void parse_reply(struct binance_parser *p, const char *buf,
			struct binance_msg *out)
{
	const struct json_tok *t = p->w.tok;
	long i = json_get(buf, t, 0, "id"), e = json_get(buf, t, 0, "error");

	out->has_req_id = i >= 0 &&
			  json_u64(buf, t, (size_t)i, false, &out->req_id) == 0;
	if (e >= 0 && t[e].type == JSON_OBJECT)
		reply_error(buf, t, (size_t)e, out);
	else if (json_get(buf, t, 0, "result") >= 0)
		out->type = BINANCE_MSG_ACK;
	else if (json_get(buf, t, 0, "code") >= 0 &&
		 json_get(buf, t, 0, "msg") >= 0)
		reply_error(buf, t, 0, out);
}

int binance_parse_frame(struct binance_parser *p, const char *buf, size_t len,
			struct binance_msg *out)
{
	const struct json_tok *t = p->w.tok;
	size_t obj = 0;
	long i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = wire_scan(&p->w, buf, len);
	if (rc != 0 || t[0].type != JSON_OBJECT)
		return rc;
	i = json_get(buf, t, 0, "data");
	if (i >= 0 && t[i].type == JSON_OBJECT &&
	    json_get(buf, t, 0, "stream") >= 0)
		obj = (size_t)i;
	i = json_get(buf, t, obj, "e");
	if (i >= 0) {
		if (json_str_eq(buf, t, (size_t)i, "depthUpdate")) {
			rc = parse_depth(p, buf, obj, out);
			if (rc != 0)
				memset(out, 0, sizeof(*out));
			return rc;
		}
		if (json_str_eq(buf, t, (size_t)i, "serverShutdown"))
			out->type = BINANCE_MSG_SHUTDOWN;
		return 0;
	}
	if (obj == 0)
		parse_reply(p, buf, out);
	return 0;
}

int binance_parse_snapshot(struct binance_parser *p, const char *buf,
			   size_t len, struct sync_snapshot *out)
{
	return wire_parse_depth(&p->w, buf, len, "lastUpdateId", false, out);
}

/* ------------------------------------------------------------ builders */

bool binance_symbol_valid(const char *symbol)
{
	char tmp[BINANCE_SYMBOL_MAX];

	return symbol != NULL && take_symbol(symbol, strlen(symbol), tmp);
}

bool binance_speed_valid(const char *speed)
{
	return speed != NULL &&
	       (strcmp(speed, "100ms") == 0 || strcmp(speed, "1000ms") == 0);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int binance_symbol_from_normalized(const char *norm, char *out, size_t size)
{
	return wire_join_pair(norm, true, BINANCE_SYMBOL_MAX, out, size);
}

int binance_build_stream(char *buf, size_t size, const char *symbol,
			 const char *speed, size_t *len)
{
	char low[BINANCE_SYMBOL_MAX];
	size_t n;

	*len = 0;
	if (!binance_symbol_valid(symbol) || !binance_speed_valid(speed))
		return CORE_EINVAL;
	n = strlen(symbol);
	for (size_t i = 0; i <= n; i++)
		low[i] = lower(symbol[i]);
	return wire_finish(snprintf(buf, size, "%s@depth%s", low,
				    strcmp(speed, "100ms") == 0 ? "@100ms"
								: ""),
			   size, len);
}

int binance_build_subscribe(char *buf, size_t size, const char *const *symbols,
			    size_t n, const char *speed, bool subscribe,
			    uint64_t id, size_t *len)
{
	*len = 0;
	if (n == 0 || n > BINANCE_MAX_PER_REQUEST)
		return CORE_EINVAL;
	return wire_build_method(buf, size,
				 subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE",
				 symbols, n, speed, binance_build_stream, id,
				 len);
}

int binance_build_snapshot_path(char *buf, size_t size, const char *symbol,
				unsigned limit, size_t *len)
{
	*len = 0;
	if (!binance_symbol_valid(symbol) || limit == 0 ||
	    limit > BINANCE_MAX_LIMIT)
		return CORE_EINVAL;
	return wire_finish(snprintf(buf, size,
				    "/api/v3/depth?symbol=%s&limit=%u", symbol,
				    limit),
			   size, len);
}
