/*
 * MEXC spot v3 frames and bodies. Binary pushes are read by a minimal
 * protobuf wire reader that never copies: every read checks the bytes
 * left first, so a truncated or hostile frame fails with CORE_EPARSE and
 * never reads past its end. Text replies and REST bodies go through the
 * strict JSON scanner; level arrays become book_change spans kept in the
 * parser.
 */
#include "mexc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "json.h"
#include "banned.h"

#define TOPIC_PREFIX  "spot@public.aggre.depth.v3.api.pb@"
#define REJECT_PREFIX "Not Subscribed successfully!"

/* Wrapper fields (PushDataV3ApiWrapper.proto). */
enum {
	PB_CHANNEL = 1,
	PB_SYMBOL = 3,
	PB_SYMBOL_ID = 4,
	PB_CREATE_TIME = 5,
	PB_SEND_TIME = 6,
	PB_BODY_FIRST = 301,
	PB_AGGRE_DEPTHS = 313,
	PB_BODY_LAST = 315,
};

/* PublicAggreDepthsV3Api fields and its item's. */
enum {
	PB_ASKS = 1,
	PB_BIDS = 2,
	PB_EVENT_TYPE = 3,
	PB_FROM_VERSION = 4,
	PB_TO_VERSION = 5,
	PB_LAST_ORDER_TIME = 6,
	PB_PRICE = 1,
	PB_QUANTITY = 2,
};

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct mexc_parser {
	struct json_tok *tok;
	size_t max_tok;
	size_t ntok;
	struct book_change *lv;
	size_t lv_cap;
	size_t nlv;
	char msg[MEXC_MSG_MAX]; /* a reply's unescaped msg */
};

struct mexc_parser *mexc_parser_new(size_t max_tokens)
{
	struct mexc_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->max_tok = max_tokens ? max_tokens : MEXC_DEFAULT_TOKENS;
	/* Every JSON level costs three tokens: the array and two strings. */
	p->lv_cap = p->max_tok / 3 + 1;
	p->tok = calloc(p->max_tok, sizeof(*p->tok));
	p->lv = calloc(p->lv_cap, sizeof(*p->lv));
	if (p->tok == NULL || p->lv == NULL) {
		mexc_parser_free(p);
		return NULL;
	}
	return p;
}

void mexc_parser_free(struct mexc_parser *p)
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

/* Copy s[0..n) into out when it is a MEXC symbol. */
static bool take_symbol(const char *s, size_t n, char out[MEXC_SYMBOL_MAX])
{
	if (n == 0 || n >= MEXC_SYMBOL_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!sym_char(s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/* A decimal string of 1..20 digits that fits 64 bits. */
static bool digits_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static int add_level(struct mexc_parser *p, const char *price, size_t plen,
		     const char *amount, size_t alen)
{
	struct book_change *c;

	if (plen >= BOOK_TEXT_MAX || alen >= BOOK_TEXT_MAX ||
	    !decimal_valid(price, plen) || !decimal_valid(amount, alen))
		return CORE_EPARSE;
	if (p->nlv >= p->lv_cap)
		return CORE_ETOOBIG;
	c = &p->lv[p->nlv++];
	c->price = price;
	c->price_len = plen;
	c->amount = amount;
	c->amount_len = alen;
	return 0;
}

/*
 * Clear every field but the symbols[] slots (set up to ntopics by the
 * text parser): a frame is parsed per message, and the whole struct is
 * mostly those slots.
 */
static void msg_reset(struct mexc_msg *m)
{
	m->type = MEXC_MSG_UNKNOWN;
	m->symbol[0] = '\0';
	m->interval_ms = 0;
	m->send_ms = m->create_ms = m->last_order_ms = 0;
	m->req_id = 0;
	m->has_req_id = false;
	m->code = 0;
	m->text[0] = '\0';
	m->ntopics = 0;
	memset(&m->update, 0, sizeof(m->update));
}

/* ------------------------------------------------------------ protobuf */

/* A bounded reader over one message's bytes. */
struct pb {
	const unsigned char *p, *end;
};

/* One field: the number, wire type and value (varint or byte span). */
struct pb_field {
	uint32_t num;
	unsigned wt;
	uint64_t v;
	const unsigned char *data;
	size_t len;
};

static int pb_varint(struct pb *r, uint64_t *v)
{
	uint64_t x = 0;

	/* Tags, lengths and small numbers are one byte. */
	if (r->p < r->end && *r->p < 0x80) {
		*v = *r->p++;
		return 0;
	}

	for (unsigned i = 0; i < 10; i++) {
		unsigned char b;

		if (r->p == r->end)
			return CORE_EPARSE;
		b = *r->p++;
		/* The tenth byte holds bit 63 only. */
		if (i == 9 && b > 1)
			return CORE_EPARSE;
		x |= (uint64_t)(b & 0x7f) << (7 * i);
		if ((b & 0x80) == 0) {
			*v = x;
			return 0;
		}
	}
	return CORE_EPARSE;
}

static int pb_skip(struct pb *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return CORE_EPARSE;
	r->p += n;
	return 0;
}

/* Read the next field; groups (3, 4) and wire types 6, 7 are malformed. */
static int pb_next(struct pb *r, struct pb_field *f)
{
	uint64_t tag, n;

	if (pb_varint(r, &tag) != 0 || (tag >> 3) == 0 ||
	    (tag >> 3) > 0x1fffffff)
		return CORE_EPARSE;
	f->num = (uint32_t)(tag >> 3);
	f->wt = (unsigned)(tag & 7);
	f->data = NULL;
	f->len = 0;
	switch (f->wt) {
	case WT_VARINT:
		return pb_varint(r, &f->v);
	case WT_I64:
		return pb_skip(r, 8);
	case WT_I32:
		return pb_skip(r, 4);
	case WT_LEN:
		if (pb_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
			return CORE_EPARSE;
		f->data = r->p;
		f->len = (size_t)n;
		r->p += n;
		return 0;
	default:
		return CORE_EPARSE;
	}
}

static const char *pb_str(const struct pb_field *f)
{
	return (const char *)f->data;
}

/*
 * One PublicAggreDepthV3ApiItem: price(1), quantity(2), both required,
 * stored at *c after the usual level checks.
 */
static int pb_item(const struct pb_field *item, struct book_change *c)
{
	struct pb r = { item->data, item->data + item->len };
	struct pb_field f, price = { 0 }, qty = { 0 };
	int rc;

	if (item->wt != WT_LEN)
		return CORE_EPARSE;
	while (r.p < r.end) {
		rc = pb_next(&r, &f);
		if (rc != 0)
			return rc;
		if (f.num != PB_PRICE && f.num != PB_QUANTITY)
			continue;
		if (f.wt != WT_LEN)
			return CORE_EPARSE;
		if (f.num == PB_PRICE)
			price = f;
		else
			qty = f;
	}
	if (price.data == NULL || qty.data == NULL ||
	    price.len >= BOOK_TEXT_MAX || qty.len >= BOOK_TEXT_MAX ||
	    !decimal_valid(pb_str(&price), price.len) ||
	    !decimal_valid(pb_str(&qty), qty.len))
		return CORE_EPARSE;
	c->price = pb_str(&price);
	c->price_len = price.len;
	c->amount = pb_str(&qty);
	c->amount_len = qty.len;
	return 0;
}

/* A level of side `num` (bids grow up from the store's start, asks down
 * from its end, so one pass keeps both contiguous). */
static int pb_level(struct mexc_parser *p, const struct pb_field *f,
		    size_t *nasks)
{
	size_t at;

	if (p->nlv + *nasks >= p->lv_cap)
		return CORE_ETOOBIG;
	at = f->num == PB_BIDS ? p->nlv : p->lv_cap - 1 - *nasks;
	if (pb_item(f, &p->lv[at]) != 0)
		return CORE_EPARSE;
	if (f->num == PB_BIDS)
		p->nlv++;
	else
		(*nasks)++;
	return 0;
}

/* A version string; which one by field number. */
static int pb_version(const struct pb_field *f, struct mexc_msg *m,
		      unsigned *seen)
{
	uint64_t *dst = f->num == PB_FROM_VERSION ? &m->update.first_id
						  : &m->update.last_id;

	if (f->wt != WT_LEN || !digits_u64(pb_str(f), f->len, dst))
		return CORE_EPARSE;
	*seen |= f->num == PB_FROM_VERSION ? 1u : 2u;
	return 0;
}

/* PublicAggreDepthsV3Api in one pass: levels, versions (both required),
 * the order time; unknown fields skipped. */
static int pb_body(struct mexc_parser *p, const struct pb_field *body,
		   struct mexc_msg *m)
{
	struct pb r = { body->data, body->data + body->len };
	struct sync_update *u = &m->update;
	struct pb_field f;
	size_t nasks = 0;
	unsigned seen = 0;
	int rc = 0;

	while (rc == 0 && r.p < r.end) {
		rc = pb_next(&r, &f);
		if (rc != 0)
			break;
		if (f.num == PB_ASKS || f.num == PB_BIDS)
			rc = pb_level(p, &f, &nasks);
		else if (f.num == PB_FROM_VERSION || f.num == PB_TO_VERSION)
			rc = pb_version(&f, m, &seen);
		else if (f.num == PB_LAST_ORDER_TIME)
			rc = f.wt == WT_VARINT ? 0 : CORE_EPARSE;
		else if (f.num == PB_EVENT_TYPE && f.wt != WT_LEN)
			rc = CORE_EPARSE;
		if (rc == 0 && f.num == PB_LAST_ORDER_TIME)
			m->last_order_ms = (int64_t)f.v;
	}
	if (rc != 0)
		return rc;
	if (seen != 3 || u->first_id > u->last_id)
		return CORE_EPARSE;
	/* The asks were stored backwards from the end: turn them round. */
	u->asks = p->lv + p->lv_cap - nasks;
	for (size_t i = 0; i < nasks / 2; i++) {
		struct book_change t = p->lv[p->lv_cap - nasks + i];

		p->lv[p->lv_cap - nasks + i] = p->lv[p->lv_cap - 1 - i];
		p->lv[p->lv_cap - 1 - i] = t;
	}
	u->nasks = nasks;
	u->bids = p->lv;
	u->nbids = p->nlv;
	return 0;
}

/* What the wrapper scan found; spans into the frame. */
struct wrapper {
	struct pb_field channel, symbol, body;
	bool has_channel, has_symbol;
	uint32_t body_num; /* 0: no body */
};

static int wrapper_field(const struct pb_field *f, struct wrapper *w,
			 struct mexc_msg *m)
{
	switch (f->num) {
	case PB_CHANNEL:
	case PB_SYMBOL:
	case PB_SYMBOL_ID:
		if (f->wt != WT_LEN)
			return CORE_EPARSE;
		if (f->num == PB_CHANNEL) {
			w->channel = *f;
			w->has_channel = true;
		} else if (f->num == PB_SYMBOL) {
			w->symbol = *f;
			w->has_symbol = true;
		}
		return 0;
	case PB_CREATE_TIME:
	case PB_SEND_TIME:
		if (f->wt != WT_VARINT)
			return CORE_EPARSE;
		*(f->num == PB_SEND_TIME ? &m->send_ms : &m->create_ms) =
			(int64_t)f->v;
		return 0;
	default:
		break;
	}
	if (f->num < PB_BODY_FIRST || f->num > PB_BODY_LAST)
		return 0;
	/* A oneof: a later body replaces an earlier one; one body twice
	 * would need a protobuf merge nobody sends, so it is refused. */
	if (f->wt != WT_LEN || f->num == w->body_num)
		return CORE_EPARSE;
	w->body = *f;
	w->body_num = f->num;
	return 0;
}

/* Interval and, when field 3 is absent, symbol from the channel. */
static int channel_info(const struct wrapper *w, struct mexc_msg *m)
{
	const char *s = pb_str(&w->channel), *at;
	size_t n = w->channel.len;

	if (w->has_channel) {
		if (memmem(s, n, "@100ms@", 7) != NULL)
			m->interval_ms = 100;
		else if (memmem(s, n, "@10ms@", 6) != NULL)
			m->interval_ms = 10;
	}
	if (w->has_symbol)
		return take_symbol(pb_str(&w->symbol), w->symbol.len, m->symbol)
			       ? 0
			       : CORE_EPARSE;
	at = w->has_channel && n > 0 ? memrchr(s, '@', n) : NULL;
	if (at == NULL ||
	    !take_symbol(at + 1, (size_t)(s + n - at - 1), m->symbol))
		return CORE_EPARSE;
	return 0;
}

static int parse_aggre(struct mexc_parser *p, const struct wrapper *w,
		       struct mexc_msg *m)
{
	struct sync_update *u = &m->update;
	int rc;

	rc = channel_info(w, m);
	if (rc == 0)
		rc = pb_body(p, &w->body, m);
	if (rc != 0)
		return rc;
	u->has_first = true;
	u->full = false;
	u->ts_ms = m->send_ms > 0 ? m->send_ms : m->create_ms;
	if (u->ts_ms < 0)
		u->ts_ms = 0;
	m->type = MEXC_MSG_UPDATE;
	return 0;
}

int mexc_parse_binary(struct mexc_parser *p, const unsigned char *buf,
		      size_t len, struct mexc_msg *out)
{
	struct pb r = { buf, buf + len };
	struct wrapper w;
	struct pb_field f;
	int rc = 0;

	msg_reset(out);
	memset(&w, 0, sizeof(w));
	p->nlv = 0;
	while (rc == 0 && r.p < r.end) {
		rc = pb_next(&r, &f);
		if (rc == 0)
			rc = wrapper_field(&f, &w, out);
	}
	if (rc == 0 && w.body_num == PB_AGGRE_DEPTHS)
		rc = parse_aggre(p, &w, out);
	if (rc != 0)
		msg_reset(out);
	return rc;
}

/* ------------------------------------------------------------ JSON */

static int scan(struct mexc_parser *p, const char *buf, size_t len)
{
	p->nlv = 0;
	return json_parse(buf, len, p->tok, p->max_tok, &p->ntok);
}

static const char *tok_text(const char *buf, const struct json_tok *t,
			    size_t *n)
{
	*n = t->end - t->start;
	return buf + t->start;
}

static int parse_level(struct mexc_parser *p, const char *buf, size_t i)
{
	const struct json_tok *t = p->tok;
	size_t pi = i + 1, ai, plen, alen;
	const char *price, *amount;

	if (t[i].type != JSON_ARRAY || t[i].size < 2)
		return CORE_EPARSE;
	ai = json_skip(t, pi);
	if (t[pi].type != JSON_STRING || t[ai].type != JSON_STRING)
		return CORE_EPARSE;
	price = tok_text(buf, &t[pi], &plen);
	amount = tok_text(buf, &t[ai], &alen);
	return add_level(p, price, plen, amount, alen);
}

/* The required level array at token index arr into the level store. */
static int parse_levels(struct mexc_parser *p, const char *buf, long arr,
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

/* Trim spaces around s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && *s == ' ') {
		s++;
		(*n)--;
	}
	while (*n > 0 && s[*n - 1] == ' ')
		(*n)--;
	return s;
}

/*
 * The symbol in a topic: the first "@" part after the second that is
 * uppercase letters and digits with a letter (so not "100ms", "5" or
 * "UTC+0"). "" when none.
 */
static void topic_symbol(const char *s, size_t n, char out[MEXC_SYMBOL_MAX])
{
	size_t part = 0, i = 0;

	out[0] = '\0';
	while (i <= n) {
		size_t e = i;
		bool letter = false;

		for (; e < n && s[e] != '@'; e++)
			letter |= s[e] >= 'A' && s[e] <= 'Z';
		if (part >= 2 && letter && take_symbol(s + i, e - i, out))
			return;
		part++;
		i = e + 1;
	}
}

/*
 * Split a comma-joined topic list into m's symbols. With need_spot, every
 * topic must start "spot@" (an ack); returns false otherwise.
 */
static bool split_topics(const char *s, size_t n, bool need_spot,
			 struct mexc_msg *m)
{
	size_t i = 0;

	while (i <= n) {
		const char *c = memchr(s + i, ',', n - i);
		size_t e = c != NULL ? (size_t)(c - s) : n, tn = e - i;
		const char *t = trim(s + i, &tn);

		if (need_spot && (tn < 5 || memcmp(t, "spot@", 5) != 0))
			return false;
		if (tn > 0) {
			if (m->ntopics < MEXC_MAX_STREAMS)
				topic_symbol(t, tn, m->symbols[m->ntopics]);
			m->ntopics++;
		}
		i = e + 1;
	}
	return true;
}

/* Copy the msg into m->text, cut at a UTF-8 character boundary. */
static void keep_text(const char *s, size_t n, struct mexc_msg *m)
{
	if (n >= sizeof(m->text)) {
		n = sizeof(m->text) - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(m->text, s, n);
	m->text[n] = '\0';
}

static void classify_reply(const char *s, size_t n, struct mexc_msg *m)
{
	static const char rej[] = REJECT_PREFIX;

	if (n == 4 && memcmp(s, "PONG", 4) == 0) {
		m->type = MEXC_MSG_PONG;
	} else if (n >= sizeof(rej) - 1 &&
		   memcmp(s, rej, sizeof(rej) - 1) == 0) {
		const char *open = memchr(s, '[', n), *close;

		m->type = MEXC_MSG_REJECTED;
		close = open != NULL
				? memrchr(open, ']', (size_t)(s + n - open))
				: NULL;
		if (close != NULL)
			(void)split_topics(open + 1, (size_t)(close - open - 1),
					   false, m);
	} else if (m->code == 0 && n > 0 && split_topics(s, n, true, m)) {
		m->type = MEXC_MSG_ACK;
	} else {
		m->type = MEXC_MSG_ERROR;
		m->ntopics = 0;
	}
}

int mexc_parse_text(struct mexc_parser *p, const char *buf, size_t len,
		    struct mexc_msg *out)
{
	const struct json_tok *t;
	long i;
	int rc;

	msg_reset(out);
	rc = scan(p, buf, len);
	if (rc != 0)
		return rc;
	t = p->tok;
	i = json_get(buf, t, 0, "msg");
	if (t[0].type != JSON_OBJECT || i < 0 || t[i].type != JSON_STRING)
		return 0;
	/* A text longer than msg is cut: a reply is for matching and logs. */
	(void)json_unescape(buf, t, (size_t)i, p->msg, sizeof(p->msg));
	i = json_get(buf, t, 0, "id");
	out->has_req_id = i >= 0 &&
			  json_u64(buf, t, (size_t)i, false, &out->req_id) == 0;
	i = json_get(buf, t, 0, "code");
	if (i >= 0 && json_i64(buf, t, (size_t)i, &out->code) != 0)
		out->code = 0;
	keep_text(p->msg, strlen(p->msg), out);
	classify_reply(p->msg, strlen(p->msg), out);
	return 0;
}

int mexc_parse_snapshot(struct mexc_parser *p, const char *buf, size_t len,
			struct sync_snapshot *out)
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
	if (i < 0 || json_u64(buf, t, (size_t)i, true, &out->id) != 0)
		return CORE_EPARSE;
	i = json_get(buf, t, 0, "timestamp");
	if (i >= 0 &&
	    (json_i64(buf, t, (size_t)i, &out->ts_ms) != 0 || out->ts_ms < 0))
		out->ts_ms = 0;
	rc = parse_levels(p, buf, json_get(buf, t, 0, "bids"), &out->bids,
			  &out->nbids);
	if (rc == 0)
		rc = parse_levels(p, buf, json_get(buf, t, 0, "asks"),
				  &out->asks, &out->nasks);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int mexc_parse_rest_error(struct mexc_parser *p, const char *buf, size_t len,
			  struct mexc_rest_error *out)
{
	long i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = scan(p, buf, len);
	if (rc != 0)
		return rc;
	if (p->tok[0].type != JSON_OBJECT)
		return CORE_EPARSE;
	i = json_get(buf, p->tok, 0, "code");
	if (i >= 0 && json_i64(buf, p->tok, (size_t)i, &out->code) != 0)
		out->code = 0;
	i = json_get(buf, p->tok, 0, "msg");
	if (i >= 0 && p->tok[i].type == JSON_STRING)
		(void)json_unescape(buf, p->tok, (size_t)i, out->msg,
				    sizeof(out->msg));
	return 0;
}

/* ------------------------------------------------------------ builders */

bool mexc_symbol_valid(const char *symbol)
{
	char tmp[MEXC_SYMBOL_MAX];

	return symbol != NULL && take_symbol(symbol, strlen(symbol), tmp);
}

bool mexc_speed_valid(const char *speed)
{
	return speed != NULL &&
	       (strcmp(speed, "100ms") == 0 || strcmp(speed, "10ms") == 0);
}

int mexc_symbol_from_normalized(const char *norm, char *out, size_t size)
{
	const char *dash = strchr(norm, '-');
	size_t n = strlen(norm);

	if (dash == NULL || dash == norm || dash == norm + n - 1 ||
	    strchr(dash + 1, '-') != NULL)
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (norm + i != dash && !sym_char(norm[i]))
			return CORE_EINVAL;
	if (n > MEXC_SYMBOL_MAX)
		return CORE_EINVAL;
	if (n > size)
		return CORE_ETOOBIG;
	memcpy(out, norm, (size_t)(dash - norm));
	memcpy(out + (dash - norm), dash + 1, n - (size_t)(dash - norm));
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

int mexc_build_topic(char *buf, size_t size, const char *symbol,
		     const char *speed, size_t *len)
{
	*len = 0;
	if (!mexc_symbol_valid(symbol) || !mexc_speed_valid(speed))
		return CORE_EINVAL;
	return finish(snprintf(buf, size, TOPIC_PREFIX "%s@%s", speed, symbol),
		      size, len);
}

int mexc_build_subscribe(char *buf, size_t size, const char *const *symbols,
			 size_t n, const char *speed, bool subscribe,
			 uint64_t id, size_t *len)
{
	size_t at, tl;
	int rc;

	*len = 0;
	if (n == 0 || n > MEXC_MAX_STREAMS || !mexc_speed_valid(speed))
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!mexc_symbol_valid(symbols[i]))
			return CORE_EINVAL;
	rc = finish(snprintf(buf, size, "{\"method\":\"%s\",\"params\":[",
			     subscribe ? "SUBSCRIPTION" : "UNSUBSCRIPTION"),
		    size, &at);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = finish(snprintf(buf + at, size - at, "%s\"", i ? "," : ""),
			    size - at, &tl);
		at += rc == 0 ? tl : 0;
		if (rc == 0)
			rc = mexc_build_topic(buf + at, size - at, symbols[i],
					      speed, &tl);
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

int mexc_build_ping(char *buf, size_t size, size_t *len)
{
	*len = 0;
	return finish(snprintf(buf, size, "{\"method\":\"PING\"}"), size, len);
}

int mexc_build_snapshot_path(char *buf, size_t size, const char *symbol,
			     unsigned limit, size_t *len)
{
	*len = 0;
	if (!mexc_symbol_valid(symbol) || limit == 0 || limit > MEXC_MAX_LIMIT)
		return CORE_EINVAL;
	return finish(snprintf(buf, size, "/api/v3/depth?symbol=%s&limit=%u",
			       symbol, limit),
		      size, len);
}
