/*
 * MEXC spot v3 (EXCHANGES.md §2): JSON control frames (SUBSCRIPTION and
 * UNSUBSCRIPTION with comma-joined acks and the "Blocked!" rejection,
 * PING/PONG), binary protobuf pushes of
 * spot@public.aggre.depth.v3.api.pb@(100ms|10ms)@SYMBOL written by the
 * simulator's own encoder (PushDataV3ApiWrapper, body 313), the REST
 * /api/v3/depth route with lastUpdateId, and the connection limits (30
 * streams, 100 inbound messages/s). The stream is full depth: a push
 * carries every change since the previous one, at any depth, collapsed
 * to the last value per level; fromVersion..toVersion are the sim's
 * update ids it covers.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

#define TOPIC_PREFIX   "spot@public.aggre.depth.v3.api.pb@"
#define EVENT_TYPE     "spot@public.aggre.depth.v3.api.pb@"
#define MAX_STREAMS    30
#define REST_LIMIT     100
#define REST_LIMIT_MAX 5000
#define BODY_AGGRE     313

/* ------------------------------------------------------------ protobuf */

/* A protobuf writer; with b NULL it only counts bytes. */
struct pbw {
	struct sbuf *b;
	size_t n;
};

static void w_raw(struct pbw *w, const void *p, size_t n)
{
	if (w->b != NULL)
		sbuf_add(w->b, p, n);
	w->n += n;
}

static void w_varint(struct pbw *w, uint64_t v)
{
	unsigned char buf[10];
	size_t n = 0;

	do {
		buf[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			buf[n] |= 0x80;
		n++;
	} while (v != 0);
	w_raw(w, buf, n);
}

static void w_tag(struct pbw *w, unsigned num, unsigned wt)
{
	w_varint(w, ((uint64_t)num << 3) | wt);
}

static void w_str(struct pbw *w, unsigned num, const char *s, size_t n)
{
	w_tag(w, num, 2);
	w_varint(w, n);
	w_raw(w, s, n);
}

static void w_u64s(struct pbw *w, unsigned num, uint64_t v)
{
	char buf[24];

	w_str(w, num, buf, fmt_u64(buf, v));
}

/* One aggre-depth push, levels as the sim's integers. */
struct mx_push {
	const char *symbol;
	int interval_ms;
	int64_t send_ms;
	int64_t last_order_ms; /* 0: left out, as proto3 does */
	uint64_t from, to;
	const struct sim_level *lv;
	const uint8_t *side;
	size_t n;
	int pdec, adec;
};

/* PublicAggreDepthsV3Api: asks(1), bids(2), eventType, versions. */
static void w_body(struct pbw *w, const struct mx_push *m)
{
	char ev[64];
	int evn;

	for (int side = SIM_ASK; side >= SIM_BID; side--) {
		for (size_t i = 0; i < m->n; i++) {
			char px[48], amt[48];
			size_t pl, al;
			struct pbw item = { NULL, 0 };

			if (m->side[i] != side)
				continue;
			pl = fmt_dec(px, m->lv[i].px, m->pdec);
			al = fmt_dec(amt, m->lv[i].amt, m->adec);
			w_str(&item, 1, px, pl);
			w_str(&item, 2, amt, al);
			w_tag(w, side == SIM_ASK ? 1 : 2, 2);
			w_varint(w, item.n);
			w_str(w, 1, px, pl);
			w_str(w, 2, amt, al);
		}
	}
	evn = snprintf(ev, sizeof(ev), EVENT_TYPE "%dms", m->interval_ms);
	w_str(w, 3, ev, (size_t)evn);
	w_u64s(w, 4, m->from);
	w_u64s(w, 5, m->to);
	if (m->last_order_ms > 0) {
		w_tag(w, 6, 0);
		w_varint(w, (uint64_t)m->last_order_ms);
	}
}

/* PushDataV3ApiWrapper: channel(1), symbol(3), sendTime(6), body 313. */
static void mx_encode(struct sbuf *b, const struct mx_push *m)
{
	struct pbw w = { b, 0 }, count = { NULL, 0 };
	char ch[128];
	int chn = snprintf(ch, sizeof(ch), TOPIC_PREFIX "%dms@%s",
			   m->interval_ms, m->symbol);

	sbuf_reset(b);
	w_str(&w, 1, ch, (size_t)chn);
	w_str(&w, 3, m->symbol, strlen(m->symbol));
	w_tag(&w, 6, 0);
	w_varint(&w, (uint64_t)m->send_ms);
	w_body(&count, m);
	w_tag(&w, BODY_AGGRE, 2);
	w_varint(&w, count.n);
	w_body(&w, m);
}

int mexc_vector_check(const char *path)
{
	/* The decoded real push of EXCHANGES.md §2.4, re-encoded. */
	static const struct sim_level lv[] = { { 11519874, 68865 },
					       { 11483884, 101 } };
	static const uint8_t side[] = { SIM_ASK, SIM_BID };
	struct mx_push m = { .symbol = "BTCUSDC",
			     .interval_ms = 100,
			     .send_ms = 1755973885809,
			     .from = 17521975448ULL,
			     .to = 17521975455ULL,
			     .lv = lv,
			     .side = side,
			     .n = 2,
			     .pdec = 2,
			     .adec = 6 };
	struct sbuf b = { 0 };
	char *want = NULL;
	size_t wlen = 0;
	int rc = fs_read_file(path, 1u << 20, &want, &wlen);

	if (rc != 0) {
		log_err_r(rc, "read '%s'", path);
		return -1;
	}
	mx_encode(&b, &m);
	rc = b.oom || b.len != wlen || memcmp(sbuf_data(&b), want, wlen) != 0
		     ? -1
		     : 0;
	if (rc != 0)
		log_err("the encoder's push differs from '%s' (%zu vs %zu "
			"bytes)",
			path, b.len, wlen);
	free(want);
	sbuf_release(&b);
	return rc;
}

static int mx_push(struct sim *sim, struct sim_sub *s, struct sbuf *b, int full)
{
	struct sim_pair *p = s->pair;
	struct mx_push m = { 0 };
	uint64_t k;

	(void)full; /* MEXC has no full pushes: the REST snapshot is one */
	sbuf_reset(b);
	if (s->next_id > p->last_id)
		return 0;
	/* A subscriber that fell out of the ring sees a gap. */
	if (book_change(p, s->next_id) == NULL)
		s->next_id = book_oldest_id(p);
	if (s->skip > 0) {
		k = p->last_id - s->next_id + 1;
		if (k > s->skip)
			k = s->skip;
		s->next_id += k;
		s->skip -= k;
		if (s->next_id > p->last_id)
			return 0;
	}
	m.symbol = p->name;
	m.interval_ms = s->interval_ms;
	m.send_ms = sim_now_us() / 1000;
	m.last_order_ms = p->last_ms;
	m.from = s->next_id;
	m.to = p->last_id;
	m.n = sim->push_levels = agg_collect(sim, p, m.from, m.to);
	m.lv = sim->agg;
	m.side = sim->agg_side;
	m.pdec = p->pdec;
	m.adec = p->adec;
	mx_encode(b, &m);
	s->next_id = p->last_id + 1;
	return 1;
}

/* ------------------------------------------------------------ requests */

/* {"id":N,"code":C,"msg":"..."} */
static void mx_reply(struct sim_conn *c, int64_t id, int code, const char *msg,
		     size_t n)
{
	struct sbuf *b = &c->sim->scratch;

	sbuf_reset(b);
	sbuf_adds(b, "{\"id\":");
	sbuf_add_i64(b, id);
	sbuf_adds(b, ",\"code\":");
	sbuf_add_i64(b, code);
	sbuf_adds(b, ",\"msg\":\"");
	sbuf_add_jstr(b, msg, n);
	sbuf_adds(b, "\"}");
	ws_queue(c, sbuf_data(b), b->len);
}

/* Parse "spot@public.aggre.depth.v3.api.pb@100ms@SYM". 0 or -1. */
static int mx_target(struct sim *sim, const char *topic, struct sim_target *t)
{
	const char *rest = topic + strlen(TOPIC_PREFIX);

	memset(t, 0, sizeof(*t));
	if (strncmp(topic, TOPIC_PREFIX, strlen(TOPIC_PREFIX)) != 0)
		return -1;
	if (strncmp(rest, "100ms@", 6) == 0) {
		t->interval_ms = 100;
		rest += 6;
	} else if (strncmp(rest, "10ms@", 5) == 0) {
		t->interval_ms = 10;
		rest += 5;
	} else {
		return -1;
	}
	t->pair = sim_pair_find(sim, rest, strlen(rest));
	t->chan = SIM_CH_MEXC_AGGRE;
	t->level = t->interval_ms; /* two speeds are two streams */
	return t->pair != NULL ? 0 : -1;
}

/* Append topic to a comma-joined list. */
static void join(struct sbuf *b, const char *topic)
{
	if (b->len > 0)
		sbuf_addc(b, ',');
	sbuf_adds(b, topic);
}

static void mx_reject(struct sim_conn *c, int64_t id, struct sbuf *bad)
{
	struct sbuf msg = { 0 };

	/* The exact text MEXC sends, full-width colon and trailing space. */
	sbuf_adds(&msg, "Not Subscribed successfully! [");
	sbuf_add(&msg, sbuf_data(bad), bad->len);
	sbuf_adds(&msg, "].  Reason\xef\xbc\x9a Blocked! ");
	if (!msg.oom)
		mx_reply(c, id, 0, sbuf_data(&msg), msg.len);
	sbuf_release(&msg);
}

/*
 * One topic of a (un)subscription: 1 when it joins the ack, 0 when it
 * is refused (unknown, not a .pb aggre-depth topic, over 30 streams).
 */
static int mx_topic(struct sim_conn *c, const char *topic, int sub,
		    int refuse_all)
{
	struct sim_target t;
	struct sim_sub *s;
	size_t idx;

	if (mx_target(c->sim, topic, &t) < 0)
		return !sub; /* an unsubscribe of anything is acked */
	s = sub_find(c, &t, &idx);
	if (!sub) {
		if (s != NULL) {
			sub_free(s);
			c->subs[idx] = c->subs[--c->nsubs];
		}
		return 1;
	}
	if (refuse_all)
		return 0;
	if (s != NULL)
		return 1;
	if (c->nsubs >= MAX_STREAMS || sub_add(c, &t) < 0)
		return 0;
	return 1;
}

static void mx_subscribe(struct sim_conn *c, const struct sim_req *r, int sub)
{
	struct sim *sim = c->sim;
	struct sbuf ok = { 0 }, bad = { 0 };
	int64_t id = r->has_id ? r->id : 0;
	int refuse_all = 0;

	if (sub && sim->sub_error_left > 0) {
		sim->sub_error_left--;
		refuse_all = 1;
	}
	if (sim->bare_ack_left > 0) {
		sim->bare_ack_left--;
		id = 0;
	}
	/* Without a clean list of topics, nothing is done. */
	if (r->params_bad || r->nparams == 0) {
		for (int i = 0; i < r->nparams; i++)
			join(&bad, r->params[i]);
		mx_reject(c, id, &bad);
		sbuf_release(&bad);
		return;
	}
	for (int i = 0; i < r->nparams; i++)
		join(mx_topic(c, r->params[i], sub, refuse_all) ? &ok : &bad,
		     r->params[i]);
	if (bad.len > 0 && !bad.oom)
		mx_reject(c, id, &bad);
	if (ok.len > 0 && !ok.oom)
		mx_reply(c, id, 0, sbuf_data(&ok), ok.len);
	/* A socket left without streams gets the 30 s again. */
	if (!sub && c->nsubs == 0)
		c->last_ping_us = sim_now_us();
	sbuf_release(&ok);
	sbuf_release(&bad);
}

static void mx_request(struct sim_conn *c, const char *data, size_t len)
{
	struct sim_req *r = malloc(sizeof(*r));
	int64_t id;

	if (r == NULL)
		return;
	if (json_parse_req(data, len, r) < 0) {
		mx_reply(c, 0, 0, "msg format invalid", 18);
		goto out;
	}
	id = r->has_id ? r->id : 0;
	if (strcmp(r->method, "PING") == 0)
		mx_reply(c, id, 0, "PONG", 4);
	else if (strcmp(r->method, "SUBSCRIPTION") == 0)
		mx_subscribe(c, r, 1);
	else if (strcmp(r->method, "UNSUBSCRIPTION") == 0)
		mx_subscribe(c, r, 0);
	else
		mx_reply(c, id, 0, "Not supported method", 20);
out:
	free(r);
}

/* ------------------------------------------------------------ REST */

/* GET /api/v3/depth?symbol=S&limit=L; returns the HTTP status. */
static int mx_rest(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char sybuf[96], lbuf[64];
	const char *sym = sim_arg(wsi, "symbol=", sybuf, sizeof(sybuf));
	const char *lim = sim_arg(wsi, "limit=", lbuf, sizeof(lbuf));
	struct sim_pair *p;
	uint64_t limit = REST_LIMIT;

	if (lim != NULL && (sim_parse_u64(lim, &limit) < 0 || limit == 0 ||
			    limit > REST_LIMIT_MAX)) {
		rest_code_msg(b, -1100, "Illegal parameter 'limit'.");
		return 400;
	}
	p = sym != NULL ? sim_pair_find(sim, sym, strlen(sym)) : NULL;
	if (p == NULL) {
		rest_code_msg(b, -1121, "Invalid symbol.");
		return 400;
	}
	p->rest_calls++;
	rest_depth(sim, p, b, (size_t)limit, 1);
	return 200;
}

static void mx_rest_fault_body(struct sbuf *b, int status)
{
	if (status == 429)
		rest_code_msg(b, 429, "Too Many Requests");
	else
		rest_code_msg(b, -1000, "Internal error.");
}

/* A push cut short: its channel claims 47 bytes, 4 follow. */
static void mx_bad_frame(struct sim_conn *c)
{
	static const char bad[] = { 0x0a, 0x2f, 's', 'p', 'o', 't' };

	ws_queue_frame(c, bad, sizeof(bad), 1);
}

const struct sim_venue sim_venue_mexc = {
	.name = "mexc",
	.default_pairs = "BTCUSDT,ETHUSDT",
	.rest_path = "/api/v3/depth",
	.binary_push = 1,
	.max_msgs_per_s = 100,
	.flood_rest = 1,
	.flood_chan = SIM_CH_MEXC_AGGRE,
	.flood_level = 100,
	.supports_replay = 0,
	.request = mx_request,
	.push = mx_push,
	.rest = mx_rest,
	.rest_fault_body = mx_rest_fault_body,
	.bad_frame = mx_bad_frame,
};
