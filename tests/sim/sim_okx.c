/*
 * OKX v5 public (EXCHANGES.md §4): op subscribe/unsubscribe with args
 * [{"channel":"books","instId":X}] acked one arg at a time (id echoed,
 * connId), errors (60012 invalid request, 60018 unknown instrument or
 * channel, 60014 past 480 ops an hour), text ping/pong, the `books`
 * channel as a 400-level window: a snapshot push (prevSeqId -1), then
 * updates every 100 ms chained by prevSeqId == the previous seqId, with
 * seqIds that jump (8 per sim update id), an idle heartbeat (--heartbeat,
 * seqId == prevSeqId, no levels), the maintenance reset (--seq-reset:
 * seqIds restart lower), checksum 0 or the legacy CRC32 (--checksum),
 * and the snapshot-less channel of §4.6 (--no-snapshot: no snapshot push,
 * REST market/books carries seqId). Limits: 30 books channels a
 * connection (the 31st closes it with 4008), 3 new connections a second
 * (more are closed with 1008), the 64008 notice before a --lifetime
 * close. REST GET /api/v5/market/books?instId=&sz= (sz <= 400; 51001 for
 * an unknown instrument, HTTP 200).
 *
 * seqId of the book after sim update id: id * 8 + 1; after --seq-reset,
 * (id - 10^10) * 8 + 5 (smaller; sim ids start at 10^10). recorder_check
 * --okx-seq maps them back to the truth's ids.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core.h"
#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define LEVELS	     400
#define MAX_CHANNELS 30
#define MAX_OPS	     480
#define ID_BASE	     UINT64_C(10000000000)

static int reset_active(const struct sim *sim)
{
	return sim->opt.seq_reset_s > 0 &&
	       time_mono_us() - sim->start_us >=
		       (int64_t)(sim->opt.seq_reset_s * 1e6);
}

static int64_t ok_seq(const struct sim *sim, uint64_t id)
{
	if (reset_active(sim))
		return (int64_t)(id - ID_BASE) * 8 + 5;
	return (int64_t)id * 8 + 1;
}

/* ------------------------------------------------------------ pushes */

static void add_level(struct sbuf *b, const struct sim_pair *p, int64_t px,
		      int64_t amt, int first)
{
	sbuf_adds(b, first ? "[\"" : ",[\"");
	sbuf_add_dec(b, px, p->pdec);
	sbuf_adds(b, "\",\"");
	sbuf_add_dec(b, amt, p->adec);
	sbuf_adds(b, amt != 0 ? "\",\"0\",\"1\"]" : "\",\"0\",\"0\"]");
}

static void add_side(struct sbuf *b, const struct sim_pair *p,
		     const struct sim_book_side *s, size_t n)
{
	sbuf_addc(b, '[');
	for (size_t i = 0; i < n && i < s->n; i++)
		add_level(b, p, s->lv[i].px, s->lv[i].amt, i == 0);
	sbuf_addc(b, ']');
}

static void add_agg(struct sbuf *b, const struct sim *sim,
		    const struct sim_pair *p, size_t n, int side)
{
	int first = 1;

	sbuf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (sim->agg_side[i] != side)
			continue;
		add_level(b, p, sim->agg[i].px, sim->agg[i].amt, first);
		first = 0;
	}
	sbuf_addc(b, ']');
}

/* §4.5: CRC32 of the top 25 levels, interleaved, as a signed int. */
static int32_t checksum(const struct sim_pair *p)
{
	struct sbuf t = { 0 };
	int32_t ck;

	for (size_t i = 0; i < 25; i++)
		for (int side = SIM_BID; side <= SIM_ASK; side++) {
			const struct sim_book_side *s = &p->side[side];

			if (i >= s->n)
				continue;
			if (t.len > 0)
				sbuf_addc(&t, ':');
			sbuf_add_dec(&t, s->lv[i].px, p->pdec);
			sbuf_addc(&t, ':');
			sbuf_add_dec(&t, s->lv[i].amt, p->adec);
		}
	ck = (int32_t)(uint32_t)crc32(0L, (const unsigned char *)sbuf_data(&t),
				      (uInt)t.len);
	sbuf_release(&t);
	return ck;
}

static void push_head(struct sbuf *b, const struct sim_pair *p,
		      const char *action)
{
	sbuf_reset(b);
	sbuf_adds(b, "{\"arg\":{\"channel\":\"books\",\"instId\":\"");
	sbuf_adds(b, p->name);
	sbuf_adds(b, "\"},\"action\":\"");
	sbuf_adds(b, action);
	sbuf_adds(b, "\",\"data\":[{\"asks\":");
}

static void push_tail(struct sim *sim, struct sbuf *b, struct sim_sub *s,
		      int64_t prev, int64_t seq)
{
	sbuf_adds(b, ",\"ts\":\"");
	sbuf_add_i64(b, sim_now_us() / 1000);
	sbuf_adds(b, "\",\"checksum\":");
	sbuf_add_i64(b, sim->opt.okx_checksum ? checksum(s->pair) : 0);
	sbuf_adds(b, ",\"prevSeqId\":");
	sbuf_add_i64(b, prev);
	sbuf_adds(b, ",\"seqId\":");
	sbuf_add_i64(b, seq);
	sbuf_adds(b, "}]}");
	s->seq = seq;
	s->last_sent_us = sim_now_us();
}

/* The snapshot push (or, snapshot-less, the silent start of a chain). */
static int ok_full(struct sim *sim, struct sim_sub *s, struct sbuf *b)
{
	struct sim_pair *p = s->pair;

	s->next_id = p->last_id + 1;
	s->skip = 0;
	win_take(s);
	if (sim->opt.no_snapshot) {
		/* §4.6: no snapshot; the first update chains on this. */
		s->seq = ok_seq(sim, p->last_id);
		s->last_sent_us = sim_now_us();
		sbuf_reset(b);
		return 0;
	}
	sim->push_levels = 0;
	for (int side = SIM_BID; side <= SIM_ASK; side++)
		sim->push_levels += p->side[side].n < LEVELS ? p->side[side].n
							     : LEVELS;
	push_head(b, p, "snapshot");
	add_side(b, p, &p->side[SIM_ASK], LEVELS);
	sbuf_adds(b, ",\"bids\":");
	add_side(b, p, &p->side[SIM_BID], LEVELS);
	push_tail(sim, b, s, -1, ok_seq(sim, p->last_id));
	return 1;
}

/* Nothing changed in the window for --heartbeat seconds. */
static int ok_heartbeat(struct sim *sim, struct sim_sub *s, struct sbuf *b)
{
	if (sim->opt.heartbeat_s <= 0 ||
	    sim_now_us() - s->last_sent_us <
		    (int64_t)(sim->opt.heartbeat_s * 1e6))
		return 0;
	push_head(b, s->pair, "update");
	sbuf_adds(b, "[],\"bids\":[]");
	push_tail(sim, b, s, s->seq, s->seq);
	return 1;
}

static int ok_push(struct sim *sim, struct sim_sub *s, struct sbuf *b, int full)
{
	struct sim_pair *p = s->pair;
	size_t n;

	sbuf_reset(b);
	if (full)
		return ok_full(sim, s, b);
	if (s->next_id > p->last_id)
		return ok_heartbeat(sim, s, b);
	if (s->skip > 0) {
		/* Lost ids: the next push's prevSeqId is not the last sent. */
		uint64_t k = p->last_id - s->next_id + 1;

		if (k > s->skip)
			k = s->skip;
		s->next_id += k;
		s->skip -= k;
		s->seq = ok_seq(sim, s->next_id - 1);
		if (s->next_id > p->last_id)
			return 0;
	}
	n = win_diff(sim, s);
	s->next_id = p->last_id + 1;
	if (n == 0)
		return ok_heartbeat(sim, s, b);
	sim->push_levels = n;
	push_head(b, p, "update");
	add_agg(b, sim, p, n, SIM_ASK);
	sbuf_adds(b, ",\"bids\":");
	add_agg(b, sim, p, n, SIM_BID);
	push_tail(sim, b, s, s->seq, ok_seq(sim, p->last_id));
	win_take(s);
	return 1;
}

/* ------------------------------------------------------------ requests */

/* {"id":"..","event":E,...,"connId":".."} pieces. */
static void reply_head(struct sbuf *b, const struct sim_req *r)
{
	sbuf_reset(b);
	sbuf_addc(b, '{');
	if (r != NULL && r->has_id_str) {
		sbuf_adds(b, "\"id\":\"");
		sbuf_add_jstr(b, r->id_str, strlen(r->id_str));
		sbuf_adds(b, "\",");
	}
}

static void ok_error(struct sim_conn *c, const struct sim_req *r,
		     const char *code, const char *msg)
{
	struct sbuf *b = &c->sim->scratch;

	reply_head(b, r);
	sbuf_adds(b, "\"event\":\"error\",\"code\":\"");
	sbuf_adds(b, code);
	sbuf_adds(b, "\",\"msg\":\"");
	sbuf_add_jstr(b, msg, strlen(msg));
	sbuf_adds(b, "\",\"connId\":\"");
	sbuf_adds(b, c->conn_id);
	sbuf_adds(b, "\"}");
	ws_queue(c, sbuf_data(b), b->len);
}

static void ok_ack(struct sim_conn *c, const struct sim_req *r, int sub,
		   const char *inst)
{
	struct sbuf *b = &c->sim->scratch;

	reply_head(b, r);
	sbuf_adds(b, sub ? "\"event\":\"subscribe\""
			 : "\"event\":\"unsubscribe\"");
	sbuf_adds(b, ",\"arg\":{\"channel\":\"books\",\"instId\":\"");
	sbuf_add_jstr(b, inst, strlen(inst));
	sbuf_adds(b, "\"},\"connId\":\"");
	sbuf_adds(b, c->conn_id);
	sbuf_adds(b, "\"}");
	ws_queue(c, sbuf_data(b), b->len);
}

static void ok_unknown(struct sim_conn *c, const struct sim_req *r,
		       const char *ch, const char *inst)
{
	char msg[256];

	snprintf(msg, sizeof(msg),
		 "Wrong URL or channel:%s,instId:%s doesn't exist. Please use "
		 "the correct URL, channel and parameters referring to API "
		 "document.",
		 ch, inst);
	ok_error(c, r, "60018", msg);
}

/* One arg "channel:instId" of a (un)subscribe. */
static void ok_arg(struct sim_conn *c, const struct sim_req *r, const char *arg,
		   int sub)
{
	const char *colon = strchr(arg, ':');
	char ch[40];
	struct sim_target t = { 0 };
	struct sim_sub *s;
	size_t idx;

	snprintf(ch, sizeof(ch), "%.*s", (int)(colon - arg), arg);
	t.pair = sim_pair_find(c->sim, colon + 1, strlen(colon + 1));
	if (strcmp(ch, "books") != 0 || t.pair == NULL) {
		ok_unknown(c, r, ch, colon + 1);
		return;
	}
	t.chan = SIM_CH_OKX_BOOKS;
	t.interval_ms = 100;
	t.level = LEVELS;
	s = sub_find(c, &t, &idx);
	if (!sub) {
		if (s != NULL) {
			sub_free(s);
			c->subs[idx] = c->subs[--c->nsubs];
		}
		ok_ack(c, r, 0, colon + 1);
		return;
	}
	if (s == NULL && c->nsubs >= MAX_CHANNELS) {
		log_info("conn %s: over %d books channels, closing", c->conn_id,
			 MAX_CHANNELS);
		/* After the acks already queued. */
		c->close_at_us = sim_now_us() + 50000;
		c->close_status = 4008;
		c->refusing = 1;
		return;
	}
	if (c->sim->sub_error_left > 0) {
		c->sim->sub_error_left--;
		ok_error(c, r, "60012", "Invalid request");
		return;
	}
	if (s != NULL) {
		/* Subscribed again: a new snapshot, as OKX does. */
		s->need_full = 1;
	} else if (sub_add(c, &t) < 0) {
		ok_error(c, r, "60012", "Invalid request");
		return;
	}
	ok_ack(c, r, 1, colon + 1);
}

static void ok_request(struct sim_conn *c, const char *data, size_t len)
{
	struct sim_req *r;
	int sub;

	if (len == 4 && memcmp(data, "ping", 4) == 0) {
		c->last_ping_us = sim_now_us();
		ws_queue(c, "pong", 4);
		return;
	}
	r = malloc(sizeof(*r));
	if (r == NULL)
		return;
	if (json_parse_req(data, len, r) < 0 || r->params_bad ||
	    (strcmp(r->method, "subscribe") != 0 &&
	     strcmp(r->method, "unsubscribe") != 0) ||
	    r->nparams == 0) {
		char msg[200];

		snprintf(msg, sizeof(msg), "Invalid request: %.*s",
			 (int)(len < 120 ? len : 120), data);
		ok_error(c, r->has_id_str ? r : NULL,
			 r->method[0] != '\0' &&
					 strcmp(r->method, "subscribe") &&
					 strcmp(r->method, "unsubscribe")
				 ? "60019"
				 : "60012",
			 msg);
		free(r);
		return;
	}
	sub = strcmp(r->method, "subscribe") == 0;
	if (c->ops + (unsigned)r->nparams > MAX_OPS) {
		ok_error(c, r, "60014", "Requests too frequent.");
		free(r);
		return;
	}
	c->ops += (unsigned)r->nparams;
	for (int i = 0; i < r->nparams && !c->refusing; i++)
		ok_arg(c, r, r->params[i], sub);
	free(r);
}

/* §4.2: a 64008 notice before an upgrade close (--lifetime). */
static void ok_closing(struct sim_conn *c)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf),
			 "{\"event\":\"notice\",\"code\":\"64008\",\"msg\":"
			 "\"The connection will soon be closed for a service "
			 "upgrade. Please reconnect.\",\"connId\":\"%s\"}",
			 c->conn_id);

	ws_queue(c, buf, (size_t)n);
}

/* ------------------------------------------------------------ REST */

/* GET /api/v5/market/books?instId=X&sz=N */
static int ok_rest(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char ibuf[96], sbuf_[32];
	const char *inst = sim_arg(wsi, "instId=", ibuf, sizeof(ibuf));
	const char *szs = sim_arg(wsi, "sz=", sbuf_, sizeof(sbuf_));
	struct sim_book_side st[2] = { { 0 } };
	uint64_t sz = 1, id, back = sim->stale_back;
	struct sim_pair *p;

	if (szs != NULL &&
	    (sim_parse_u64(szs, &sz) < 0 || sz == 0 || sz > LEVELS)) {
		sbuf_adds(b, "{\"code\":\"51000\",\"msg\":\"Parameter sz "
			     "error\",\"data\":[]}");
		return 200;
	}
	p = inst != NULL ? sim_pair_find(sim, inst, strlen(inst)) : NULL;
	if (p == NULL) {
		sbuf_adds(b, "{\"code\":\"51001\",\"msg\":\"Instrument ID, "
			     "Instrument ID code or Spread ID doesn't "
			     "exist.\",\"data\":[]}");
		return 200;
	}
	sim->stale_back = 0;
	p->rest_calls++;
	id = p->last_id;
	if (back > 0) {
		id = book_state_back(p, back, st);
	} else {
		st[0] = p->side[0];
		st[1] = p->side[1];
	}
	sbuf_adds(b, "{\"code\":\"0\",\"msg\":\"\",\"data\":[{\"asks\":");
	add_side(b, p, &st[SIM_ASK], (size_t)sz);
	sbuf_adds(b, ",\"bids\":");
	add_side(b, p, &st[SIM_BID], (size_t)sz);
	sbuf_adds(b, ",\"ts\":\"");
	sbuf_add_i64(b, sim_now_us() / 1000);
	sbuf_addc(b, '"');
	/* §4.6: the snapshot-less bootstrap bridges on the book's seqId. */
	if (sim->opt.no_snapshot) {
		sbuf_adds(b, ",\"seqId\":");
		sbuf_add_i64(b, ok_seq(sim, id));
	}
	sbuf_adds(b, "}]}");
	if (back > 0) {
		book_side_release(&st[0]);
		book_side_release(&st[1]);
	}
	return 200;
}

static void ok_rest_fault_body(struct sbuf *b, int status)
{
	if (status == 429)
		sbuf_adds(b, "{\"code\":\"50011\",\"msg\":\"Too Many "
			     "Requests\",\"data\":[]}");
	else
		sbuf_adds(b,
			  "{\"code\":\"50001\",\"msg\":\"Service temporarily "
			  "unavailable. Please try again later.\","
			  "\"data\":[]}");
}

/* A push cut short. */
static void ok_bad_frame(struct sim_conn *c)
{
	static const char bad[] = "{\"arg\":{\"channel\":\"books\",\"inst";

	ws_queue(c, bad, sizeof(bad) - 1);
}

const struct sim_venue sim_venue_okx = {
	.name = "okx",
	.default_pairs = "BTC-USDT,ETH-USDT",
	.rest_path = "/api/v5/market/books",
	.binary_push = 0,
	.max_msgs_per_s = 0,
	.max_conns_per_s = 3,
	.flood_chan = SIM_CH_OKX_BOOKS,
	.flood_level = LEVELS,
	.supports_replay = 0,
	.request = ok_request,
	.push = ok_push,
	.rest = ok_rest,
	.rest_fault_body = ok_rest_fault_body,
	.bad_frame = ok_bad_frame,
	.closing = ok_closing,
};
