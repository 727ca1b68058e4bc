/*
 * MEXC's binary pushes: a minimal protobuf wire reader that never copies
 * (every read checks the bytes left first, so a truncated or hostile
 * frame fails with CORE_EPARSE and never reads past its end) and the
 * decoding of PushDataV3ApiWrapper with its PublicAggreDepthsV3Api body
 * into an update whose levels are spans into the frame.
 */
#include "mexc.h"

#include <string.h>

#include "core.h"
#include "mexc_int.h"
#include "wire.h"
#include "banned.h"

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
 * stored at *c and checked by wire_level_valid().
 */
static int pb_item(const struct pb_field *item, struct book_change *c)
{
	struct pb_field f, price = { 0 }, qty = { 0 };
	struct pb r;
	int rc;

	/* Only a WT_LEN field has bytes (data is NULL otherwise). */
	if (item->wt != WT_LEN)
		return CORE_EPARSE;
	r.p = item->data;
	r.end = item->data + item->len;
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
	if (price.data == NULL || qty.data == NULL)
		return CORE_EPARSE;
	c->price = pb_str(&price);
	c->price_len = price.len;
	c->amount = pb_str(&qty);
	c->amount_len = qty.len;
	return wire_level_valid(c) ? 0 : CORE_EPARSE;
}

/* A level of side `num` (bids grow up from the store's start, asks down
 * from its end, so one pass keeps both contiguous). */
static int pb_level(struct mexc_parser *p, const struct pb_field *f,
		    size_t *nasks)
{
	size_t at;

	if (p->w.nlv + *nasks >= p->w.lv_cap)
		return CORE_ETOOBIG;
	at = f->num == PB_BIDS ? p->w.nlv : p->w.lv_cap - 1 - *nasks;
	if (pb_item(f, &p->w.lv[at]) != 0)
		return CORE_EPARSE;
	if (f->num == PB_BIDS)
		p->w.nlv++;
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

	if (f->wt != WT_LEN || !wire_digits(pb_str(f), f->len, dst))
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
	u->asks = p->w.lv + p->w.lv_cap - nasks;
	for (size_t i = 0; i < nasks / 2; i++) {
		struct book_change t = p->w.lv[p->w.lv_cap - nasks + i];

		p->w.lv[p->w.lv_cap - nasks + i] = p->w.lv[p->w.lv_cap - 1 - i];
		p->w.lv[p->w.lv_cap - 1 - i] = t;
	}
	u->nasks = nasks;
	u->bids = p->w.lv;
	u->nbids = p->w.nlv;
	u->levels_checked = true; /* by wire_level_valid */
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
		return mexc__take_symbol(pb_str(&w->symbol), w->symbol.len,
					 m->symbol)
			       ? 0
			       : CORE_EPARSE;
	at = w->has_channel && n > 0 ? memrchr(s, '@', n) : NULL;
	if (at == NULL ||
	    !mexc__take_symbol(at + 1, (size_t)(s + n - at - 1), m->symbol))
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

	mexc__msg_reset(out);
	memset(&w, 0, sizeof(w));
	p->w.nlv = 0;
	while (rc == 0 && r.p < r.end) {
		rc = pb_next(&r, &f);
		if (rc == 0)
			rc = wrapper_field(&f, &w, out);
	}
	if (rc == 0 && w.body_num == PB_AGGRE_DEPTHS)
		rc = parse_aggre(p, &w, out);
	if (rc != 0)
		mexc__msg_reset(out);
	return rc;
}
