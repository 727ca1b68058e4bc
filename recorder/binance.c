/*
 * Binance spot frames and bodies, through the strict JSON scanner; level
 * arrays become book_change spans kept in the parser. Routing follows
 * EXCHANGES.md §5.2: "result"/"error" are replies, "e" an event, and a
 * combined-stream frame wraps the event in "data".
 */
#include "binance.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "json.h"
#include "banned.h"

struct binance_parser {
	struct json_tok *tok;
	size_t max_tok;
	size_t ntok;
	struct book_change *lv;
	size_t lv_cap;
	size_t nlv;
};

struct binance_parser *binance_parser_new(size_t max_tokens)
{
	struct binance_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->max_tok = max_tokens ? max_tokens : BINANCE_DEFAULT_TOKENS;
	/* Every JSON level costs three tokens: the array and two strings. */
	p->lv_cap = p->max_tok / 3 + 1;
	p->tok = calloc(p->max_tok, sizeof(*p->tok));
	p->lv = calloc(p->lv_cap, sizeof(*p->lv));
	if (p->tok == NULL || p->lv == NULL) {
		binance_parser_free(p);
		return NULL;
	}
	return p;
}

void binance_parser_free(struct binance_parser *p)
{
	if (p == NULL)
		return;
	free(p->tok);
	free(p->lv);
	free(p);
}

/* ------------------------------------------------------------ helpers */

static bool sym_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool take_symbol(const char *s, size_t n, char out[BINANCE_SYMBOL_MAX])
{
	if (n == 0 || n >= BINANCE_SYMBOL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sym_char(s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

static int scan(struct binance_parser *p, const char *buf, size_t len)
{
	p->nlv = 0;
	return json_parse(buf, len, p->tok, p->max_tok, &p->ntok);
}

static int parse_level(struct binance_parser *p, const char *buf, size_t i)
{
	const struct json_tok *t = p->tok;
	size_t pi = i + 1, ai, plen, alen;
	struct book_change *c;

	if (t[i].type != JSON_ARRAY || t[i].size < 2)
		return CORE_EPARSE;
	ai = json_skip(t, pi);
	if (t[pi].type != JSON_STRING || t[ai].type != JSON_STRING)
		return CORE_EPARSE;
	plen = t[pi].end - t[pi].start;
	alen = t[ai].end - t[ai].start;
	if (plen >= BOOK_TEXT_MAX || alen >= BOOK_TEXT_MAX ||
	    !decimal_valid(buf + t[pi].start, plen) ||
	    !decimal_valid(buf + t[ai].start, alen))
		return CORE_EPARSE;
	if (p->nlv >= p->lv_cap)
		return CORE_ETOOBIG;
	c = &p->lv[p->nlv++];
	c->price = buf + t[pi].start;
	c->price_len = plen;
	c->amount = buf + t[ai].start;
	c->amount_len = alen;
	return 0;
}

/* The required level array at token index arr into the level store. */
static int parse_levels(struct binance_parser *p, const char *buf, long arr,
			const struct book_change **out, size_t *n)
{
	size_t start = p->nlv, i;

	*out = p->lv + start;
	*n = 0;
	if (arr < 0 || p->tok[arr].type != JSON_ARRAY)
		return CORE_EPARSE;
	i = json_child((size_t)arr);
	for (uint32_t k = 0; k < p->tok[arr].size; k++) {
		int rc = parse_level(p, buf, i);

		if (rc != 0)
			return rc;
		i = json_skip(p->tok, i);
	}
	*n = p->nlv - start;
	return 0;
}

static void keep_text(const char *buf, const struct json_tok *t, long i,
		      struct binance_msg *m)
{
	if (i >= 0 && t[i].type == JSON_STRING)
		(void)json_unescape(buf, t, (size_t)i, m->text,
				    sizeof(m->text));
}

/* ------------------------------------------------------------ frames */

static int parse_depth(struct binance_parser *p, const char *buf, size_t obj,
		       struct binance_msg *out)
{
	const struct json_tok *t = p->tok;
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
	rc = parse_levels(p, buf, json_get(buf, t, obj, "b"), &u->bids,
			  &u->nbids);
	if (rc == 0)
		rc = parse_levels(p, buf, json_get(buf, t, obj, "a"), &u->asks,
				  &u->nasks);
	if (rc != 0)
		return rc;
	out->type = BINANCE_MSG_UPDATE;
	return 0;
}

/* {"result":...,"id":N}, {"error":{...},"id":N} or {"code","msg"}. */
static void parse_reply(struct binance_parser *p, const char *buf,
			struct binance_msg *out)
{
	const struct json_tok *t = p->tok;
	long i = json_get(buf, t, 0, "id"), e = json_get(buf, t, 0, "error");
	long r = json_get(buf, t, 0, "result");

	out->has_req_id = i >= 0 &&
			  json_u64(buf, t, (size_t)i, false, &out->req_id) == 0;
	if (e >= 0 && t[e].type == JSON_OBJECT) {
		out->type = BINANCE_MSG_ERROR;
		i = json_get(buf, t, (size_t)e, "code");
		if (i >= 0 && json_i64(buf, t, (size_t)i, &out->code) != 0)
			out->code = 0;
		keep_text(buf, t, json_get(buf, t, (size_t)e, "msg"), out);
		return;
	}
	if (r >= 0) {
		out->type = BINANCE_MSG_ACK;
		return;
	}
	i = json_get(buf, t, 0, "code");
	if (i >= 0 && json_get(buf, t, 0, "msg") >= 0) {
		out->type = BINANCE_MSG_ERROR;
		if (json_i64(buf, t, (size_t)i, &out->code) != 0)
			out->code = 0;
		keep_text(buf, t, json_get(buf, t, 0, "msg"), out);
	}
}

int binance_parse_frame(struct binance_parser *p, const char *buf, size_t len,
			struct binance_msg *out)
{
	const struct json_tok *t;
	size_t obj = 0;
	long i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = scan(p, buf, len);
	if (rc != 0)
		return rc;
	t = p->tok;
	if (t[0].type != JSON_OBJECT)
		return 0;
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
	const struct json_tok *t;
	long i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = scan(p, buf, len);
	if (rc != 0)
		return rc;
	t = p->tok;
	if (t[0].type != JSON_OBJECT)
		return CORE_EPARSE;
	i = json_get(buf, t, 0, "lastUpdateId");
	if (i < 0 || json_u64(buf, t, (size_t)i, false, &out->id) != 0)
		return CORE_EPARSE;
	rc = parse_levels(p, buf, json_get(buf, t, 0, "bids"), &out->bids,
			  &out->nbids);
	if (rc == 0)
		rc = parse_levels(p, buf, json_get(buf, t, 0, "asks"),
				  &out->asks, &out->nasks);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
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

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

int binance_symbol_from_normalized(const char *norm, char *out, size_t size)
{
	const char *dash = strchr(norm, '-');
	size_t n = strlen(norm), k = 0;

	if (dash == NULL || dash == norm || dash == norm + n - 1 ||
	    strchr(dash + 1, '-') != NULL || n > BINANCE_SYMBOL_MAX)
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (norm + i != dash && !sym_char(upper(norm[i])))
			return CORE_EINVAL;
	if (n > size)
		return CORE_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if (norm + i != dash)
			out[k++] = upper(norm[i]);
	out[k] = '\0';
	return 0;
}

static int finish(int n, size_t size, size_t *len)
{
	if (n < 0)
		return CORE_EINVAL;
	if ((size_t)n >= size)
		return CORE_ETOOBIG;
	*len = (size_t)n;
	return 0;
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
	return finish(snprintf(buf, size, "%s@depth%s", low,
			       strcmp(speed, "100ms") == 0 ? "@100ms" : ""),
		      size, len);
}

int binance_build_subscribe(char *buf, size_t size, const char *const *symbols,
			    size_t n, const char *speed, bool subscribe,
			    uint64_t id, size_t *len)
{
	size_t at, tl;
	int rc;

	*len = 0;
	if (n == 0 || n > BINANCE_MAX_PER_REQUEST)
		return CORE_EINVAL;
	rc = finish(snprintf(buf, size, "{\"method\":\"%s\",\"params\":[",
			     subscribe ? "SUBSCRIBE" : "UNSUBSCRIBE"),
		    size, &at);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = finish(snprintf(buf + at, size - at, "%s\"", i ? "," : ""),
			    size - at, &tl);
		at += rc == 0 ? tl : 0;
		if (rc == 0)
			rc = binance_build_stream(buf + at, size - at,
						  symbols[i], speed, &tl);
		at += rc == 0 ? tl : 0;
		if (rc == 0)
			rc = finish(snprintf(buf + at, size - at, "\""),
				    size - at, &tl);
		at += rc == 0 ? tl : 0;
	}
	if (rc == 0)
		rc = finish(snprintf(buf + at, size - at, "],\"id\":%llu}",
				     (unsigned long long)id),
			    size - at, &tl);
	if (rc != 0)
		return rc;
	*len = at + tl;
	return 0;
}

int binance_build_snapshot_path(char *buf, size_t size, const char *symbol,
				unsigned limit, size_t *len)
{
	*len = 0;
	if (!binance_symbol_valid(symbol) || limit == 0 ||
	    limit > BINANCE_MAX_LIMIT)
		return CORE_EINVAL;
	return finish(snprintf(buf, size, "/api/v3/depth?symbol=%s&limit=%u",
			       symbol, limit),
		      size, len);
}
