/*
 * Gate.io spot v4 wire formats: subscribe acks and errors, spot.pong,
 * spot.order_book_update and spot.obu pushes (incremental pushes carry
 * the last value per level since the previous push), the REST
 * order_book route and body, and the venue table that plugs them (and
 * the requests of sim_sub.c) into the generic simulator. Field order
 * follows the captured samples.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define HASH_EMPTY UINT32_MAX

static void hex_id(struct sim *sim, char *out, size_t nhex)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t r = 0;
	size_t i;

	for (i = 0; i < nhex; i++) {
		if (i % 16 == 0)
			r = sim_rand(&sim->rng);
		out[i] = hex[r & 15];
		r >>= 4;
	}
	out[nhex] = '\0';
}

/* {"time":S,"time_ms":MS,["id":N,]"conn_id":"..","trace_id":".." */
static void ctl_head(struct sim *sim, struct sim_conn *c, struct sbuf *b,
		     const struct sim_req *r, char trace[33])
{
	int64_t ms = sim_now_us() / 1000;

	hex_id(sim, trace, 32);
	sbuf_adds(b, "{\"time\":");
	sbuf_add_i64(b, ms / 1000);
	sbuf_adds(b, ",\"time_ms\":");
	sbuf_add_i64(b, ms);
	if (r->has_id) {
		sbuf_adds(b, ",\"id\":");
		sbuf_add_i64(b, r->id);
	}
	sbuf_adds(b, ",\"conn_id\":\"");
	sbuf_adds(b, c->conn_id);
	sbuf_adds(b, "\",\"trace_id\":\"");
	sbuf_adds(b, trace);
	sbuf_adds(b, "\"");
}

void gio_ack(struct sim *sim, struct sim_conn *c, struct sbuf *b,
	     const struct sim_req *r, int err_code, const char *err_msg)
{
	char trace[33];

	ctl_head(sim, c, b, r, trace);
	sbuf_adds(b, ",\"channel\":\"");
	sbuf_add_jstr(b, r->channel, strlen(r->channel));
	sbuf_adds(b, "\",\"event\":\"");
	sbuf_add_jstr(b, r->event, strlen(r->event));
	sbuf_adds(b, "\"");
	/* bare_ack: a reply that echoes no payload, only the id. */
	if (sim->bare_ack_left > 0)
		sim->bare_ack_left--;
	else if (r->payload_raw != NULL) {
		sbuf_adds(b, ",\"payload\":");
		sbuf_add(b, r->payload_raw, r->payload_raw_len);
	}
	if (err_code != 0) {
		sbuf_adds(b, ",\"error\":{\"code\":");
		sbuf_add_i64(b, err_code);
		sbuf_adds(b, ",\"message\":\"");
		sbuf_add_jstr(b, err_msg, strlen(err_msg));
		sbuf_adds(b, "\"},\"result\":{\"status\":\"fail\"}");
	} else {
		sbuf_adds(b, ",\"result\":{\"status\":\"success\"}");
	}
	sbuf_adds(b, ",\"requestId\":\"");
	sbuf_adds(b, trace);
	sbuf_adds(b, "\"}");
}

void gio_pong(struct sim *sim, struct sim_conn *c, struct sbuf *b,
	      const struct sim_req *r)
{
	char trace[33];

	ctl_head(sim, c, b, r, trace);
	sbuf_adds(b, ",\"channel\":\"spot.pong\",\"event\":\"\","
		     "\"result\":null,\"requestId\":\"");
	sbuf_adds(b, trace);
	sbuf_adds(b, "\"}");
}

int agg_reserve(struct sim *sim, size_t n)
{
	size_t hc = 16;

	if (n > sim->agg_cap) {
		struct sim_level *a = realloc(sim->agg, n * sizeof(*a));
		uint8_t *s;

		if (a == NULL)
			return -1;
		sim->agg = a;
		s = realloc(sim->agg_side, n);
		if (s == NULL)
			return -1;
		sim->agg_side = s;
		sim->agg_cap = n;
	}
	while (hc < 2 * n)
		hc *= 2;
	if (hc > sim->hash_cap) {
		uint32_t *h = realloc(sim->hash, hc * sizeof(*h));

		if (h == NULL)
			return -1;
		sim->hash = h;
		sim->hash_cap = hc;
	}
	return 0;
}

size_t agg_collect(struct sim *sim, const struct sim_pair *p, uint64_t from,
		   uint64_t to)
{
	size_t n = 0, hc, mask;
	uint64_t id;

	if (agg_reserve(sim, (size_t)(to - from + 1)) < 0)
		return 0;
	for (hc = 16; hc < 2 * (size_t)(to - from + 1); hc *= 2)
		;
	mask = hc - 1;
	memset(sim->hash, 0xff, hc * sizeof(*sim->hash));
	for (id = from; id <= to; id++) {
		const struct sim_change *c = book_change(p, id);
		uint64_t key = ((uint64_t)c->px << 1) | c->side;
		size_t h =
			(size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
			mask;

		while (sim->hash[h] != HASH_EMPTY) {
			uint32_t k = sim->hash[h];

			if (sim->agg[k].px == c->px &&
			    sim->agg_side[k] == c->side)
				break;
			h = (h + 1) & mask;
		}
		if (sim->hash[h] == HASH_EMPTY) {
			sim->hash[h] = (uint32_t)n;
			sim->agg[n].px = c->px;
			sim->agg_side[n] = c->side;
			n++;
		}
		sim->agg[sim->hash[h]].amt = c->amt;
	}
	return n;
}

static void add_agg_side(struct sim *sim, struct sbuf *b,
			 const struct sim_pair *p, size_t n, int side)
{
	size_t i;
	int first = 1;

	sbuf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (sim->agg_side[i] != side)
			continue;
		if (!first)
			sbuf_addc(b, ',');
		first = 0;
		sbuf_adds(b, "[\"");
		sbuf_add_dec(b, sim->agg[i].px, p->pdec);
		sbuf_adds(b, "\",\"");
		sbuf_add_dec(b, sim->agg[i].amt, p->adec);
		sbuf_adds(b, "\"]");
	}
	sbuf_addc(b, ']');
}

/* Envelope and result head up to and including the "u" field. */
static void push_head(struct sbuf *b, const struct sim_sub *s, uint64_t U,
		      uint64_t u, int full)
{
	const struct sim_pair *p = s->pair;
	int64_t ms = sim_now_us() / 1000;

	if (s->chan == SIM_CH_OBU) {
		sbuf_adds(b, "{\"channel\":\"spot.obu\",\"result\":{\"t\":");
		sbuf_add_i64(b, p->last_ms);
		if (full)
			sbuf_adds(b, ",\"full\":true");
		sbuf_adds(b, ",\"s\":\"ob.");
		sbuf_adds(b, p->name);
		sbuf_addf(b, ".%d\"", s->level);
		if (!full) {
			sbuf_adds(b, ",\"U\":");
			sbuf_add_u64(b, U);
		}
	} else {
		sbuf_adds(b, "{\"time\":");
		sbuf_add_i64(b, ms / 1000);
		sbuf_adds(b, ",\"time_ms\":");
		sbuf_add_i64(b, ms);
		sbuf_adds(b, ",\"channel\":\"spot.order_book_update\","
			     "\"event\":\"update\",\"result\":{\"t\":");
		sbuf_add_i64(b, p->last_ms);
		if (full)
			sbuf_adds(b, ",\"full\":true");
		sbuf_addf(b, ",\"l\":\"%d\",\"e\":\"depthUpdate\",\"E\":",
			  s->level);
		sbuf_add_i64(b, p->last_ms / 1000);
		sbuf_adds(b, ",\"s\":\"");
		sbuf_adds(b, p->name);
		sbuf_adds(b, "\",\"U\":");
		sbuf_add_u64(b, U);
	}
	sbuf_adds(b, ",\"u\":");
	sbuf_add_u64(b, u);
}

static void push_tail(struct sbuf *b, const struct sim_sub *s)
{
	if (s->chan == SIM_CH_OBU) {
		sbuf_adds(b, "},\"time_ms\":");
		sbuf_add_i64(b, sim_now_us() / 1000);
		sbuf_addc(b, '}');
	} else {
		sbuf_adds(b, "}}");
	}
}

/* True when the book can be deeper than the stream's window. */
static int windowed(const struct sim_sub *s)
{
	return s->pair->depth > s->level;
}

/* The subscriber now holds the top `level` levels of each side. */
void win_take(struct sim_sub *s)
{
	for (int side = 0; side < 2; side++) {
		const struct sim_book_side *bk = &s->pair->side[side];
		struct sim_book_side *w = &s->win[side];
		size_t n = bk->n < (size_t)s->level ? bk->n : (size_t)s->level;

		if (w->cap < n) {
			struct sim_level *lv = realloc(w->lv, n * sizeof(*lv));

			if (lv == NULL) {
				log_err("window of %s: out of memory",
					s->pair->name);
				w->n = 0;
				return;
			}
			w->lv = lv;
			w->cap = n;
		}
		memcpy(w->lv, bk->lv, n * sizeof(*w->lv));
		w->n = n;
	}
}

/* Is a before b in the side's best-first order? */
static int better(int side, int64_t a, int64_t b)
{
	return side == SIM_BID ? a > b : a < b;
}

static void agg_put(struct sim *sim, size_t *n, int side, int64_t px,
		    int64_t amt)
{
	sim->agg[*n].px = px;
	sim->agg[*n].amt = amt;
	sim->agg_side[*n] = (uint8_t)side;
	(*n)++;
}

/*
 * A window stream's push: one entry per level that changed inside the
 * window, entered it (its amount) or left it (0, unless --window-leave
 * silent and the level still exists below the window). Built by merging
 * the window the subscriber holds with the current one. Returns the
 * entry count in sim->agg.
 */
size_t win_diff(struct sim *sim, struct sim_sub *s)
{
	const struct sim_pair *p = s->pair;
	size_t n = 0, want = s->win[0].n + s->win[1].n + 2 * (size_t)s->level;

	if (agg_reserve(sim, want) < 0)
		return 0;
	for (int side = 0; side < 2; side++) {
		const struct sim_book_side *o = &s->win[side];
		const struct sim_book_side *bk = &p->side[side];
		size_t nn = bk->n < (size_t)s->level ? bk->n : (size_t)s->level;
		size_t i = 0, k = 0;

		while (i < o->n || k < nn) {
			if (k == nn || (i < o->n && better(side, o->lv[i].px,
							   bk->lv[k].px))) {
				/* Left the window: deleted or pushed down. */
				if (!sim->opt.window_silent ||
				    !book_has(p, side, o->lv[i].px))
					agg_put(sim, &n, side, o->lv[i].px, 0);
				i++;
			} else if (i == o->n || o->lv[i].px != bk->lv[k].px) {
				agg_put(sim, &n, side, bk->lv[k].px,
					bk->lv[k].amt);
				k++;
			} else {
				if (o->lv[i].amt != bk->lv[k].amt)
					agg_put(sim, &n, side, bk->lv[k].px,
						bk->lv[k].amt);
				i++;
				k++;
			}
		}
	}
	return n;
}

static void push_full(struct sim *sim, struct sbuf *b, struct sim_sub *s)
{
	const struct sim_pair *p = s->pair;
	size_t nb = p->side[SIM_BID].n, na = p->side[SIM_ASK].n;
	uint64_t U = s->next_id <= p->last_id ? s->next_id : p->last_id;

	if (nb > (size_t)s->level)
		nb = (size_t)s->level;
	if (na > (size_t)s->level)
		na = (size_t)s->level;
	sim->push_levels = nb + na;
	push_head(b, s, U, p->last_id, 1);
	sbuf_adds(b, ",\"b\":");
	rest_levels(b, p, p->side[SIM_BID].lv, nb);
	sbuf_adds(b, ",\"a\":");
	rest_levels(b, p, p->side[SIM_ASK].lv, na);
	push_tail(b, s);
	s->next_id = p->last_id + 1;
	s->skip = 0;
	if (windowed(s))
		win_take(s);
}

/* An incremental push of a window stream; 0 when the window is as the
 * subscriber holds it (the ids move on into the next push's U). */
static int push_window(struct sim *sim, struct sbuf *b, struct sim_sub *s)
{
	size_t n = win_diff(sim, s);

	if (n == 0)
		return 0;
	sim->push_levels = n;
	push_head(b, s, s->next_id, s->pair->last_id, 0);
	sbuf_adds(b, ",\"b\":");
	add_agg_side(sim, b, s->pair, n, SIM_BID);
	sbuf_adds(b, ",\"a\":");
	add_agg_side(sim, b, s->pair, n, SIM_ASK);
	push_tail(b, s);
	s->next_id = s->pair->last_id + 1;
	win_take(s);
	return 1;
}

static void push_incr(struct sim *sim, struct sbuf *b, struct sim_sub *s,
		      uint64_t U, uint64_t u)
{
	size_t n = agg_collect(sim, s->pair, U, u);

	sim->push_levels = n;
	push_head(b, s, U, u, 0);
	sbuf_adds(b, ",\"b\":");
	add_agg_side(sim, b, s->pair, n, SIM_BID);
	sbuf_adds(b, ",\"a\":");
	add_agg_side(sim, b, s->pair, n, SIM_ASK);
	push_tail(b, s);
	s->next_id = u + 1;
}

int gio_push(struct sim *sim, struct sim_sub *s, struct sbuf *b, int full)
{
	const struct sim_pair *p = s->pair;
	uint64_t k;

	sbuf_reset(b);
	/* A subscriber that fell out of the ring gets the whole book. */
	if (!full && s->next_id <= p->last_id &&
	    book_change(p, s->next_id) == NULL)
		full = 1;
	if (full) {
		push_full(sim, b, s);
		return 1;
	}
	if (s->next_id > p->last_id)
		return 0;
	if (s->skip > 0) {
		k = p->last_id - s->next_id + 1;
		if (k > s->skip)
			k = s->skip;
		s->next_id += k;
		s->skip -= k;
		if (s->next_id > p->last_id)
			return 0;
	}
	if (windowed(s))
		return push_window(sim, b, s);
	push_incr(sim, b, s, s->next_id, p->last_id);
	return 1;
}

void gio_rest_book(struct sim *sim, struct sim_pair *p, struct sbuf *b,
		   int limit, int with_id, uint64_t back)
{
	struct sim_book_side st[2] = { { 0 } };
	uint64_t id = p->last_id;
	size_t nb, na;
	int64_t now_ms = sim_now_us() / 1000;

	(void)sim;
	if (back > 0) {
		id = book_state_back(p, back, st);
	} else {
		st[0] = p->side[0];
		st[1] = p->side[1];
	}
	nb = st[SIM_BID].n < (size_t)limit ? st[SIM_BID].n : (size_t)limit;
	na = st[SIM_ASK].n < (size_t)limit ? st[SIM_ASK].n : (size_t)limit;
	sbuf_addc(b, '{');
	if (with_id) {
		sbuf_adds(b, "\"id\":");
		sbuf_add_u64(b, id);
		sbuf_addc(b, ',');
	}
	sbuf_adds(b, "\"current\":");
	sbuf_add_i64(b, now_ms);
	sbuf_adds(b, ",\"update\":");
	sbuf_add_i64(b, p->last_ms);
	sbuf_adds(b, ",\"asks\":");
	rest_levels(b, p, st[SIM_ASK].lv, na);
	sbuf_adds(b, ",\"bids\":");
	rest_levels(b, p, st[SIM_BID].lv, nb);
	sbuf_addc(b, '}');
	if (back > 0) {
		book_side_release(&st[0]);
		book_side_release(&st[1]);
	}
}

static void err_body(struct sbuf *b, const char *label, const char *msg)
{
	sbuf_adds(b, "{\"label\":\"");
	sbuf_adds(b, label);
	sbuf_adds(b, "\",\"message\":\"");
	sbuf_add_jstr(b, msg, strlen(msg));
	sbuf_adds(b, "\"}");
}

/* GET /api/v4/spot/order_book; returns the HTTP status. */
static int gio_rest(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char pbuf[96], lbuf[64], wbuf[64], msg[128];
	const char *pair = sim_arg(wsi, "currency_pair=", pbuf, sizeof(pbuf));
	const char *lim = sim_arg(wsi, "limit=", lbuf, sizeof(lbuf));
	const char *wid = sim_arg(wsi, "with_id=", wbuf, sizeof(wbuf));
	struct sim_pair *p;
	uint64_t limit = 10, back;

	if (pair == NULL || *pair == '\0') {
		err_body(b, "MISSING_REQUIRED_PARAM",
			 "Missing required parameter: currency_pair");
		return 400;
	}
	if (lim != NULL &&
	    (sim_parse_u64(lim, &limit) < 0 || limit == 0 || limit > 5000)) {
		snprintf(msg, sizeof(msg),
			 "Invalid parameter `limit` "
			 "with value: %.40s",
			 lim);
		err_body(b, "INVALID_PARAM_VALUE", msg);
		return 400;
	}
	p = sim_pair_find(sim, pair, strlen(pair));
	if (p == NULL) {
		snprintf(msg, sizeof(msg), "Invalid currency pair %.40s", pair);
		err_body(b, "INVALID_CURRENCY_PAIR", msg);
		return 400;
	}
	p->rest_calls++;
	if (p->rp_snap != NULL) {
		sbuf_add(b, p->rp_snap, p->rp_snap_len);
		return 200;
	}
	back = sim->stale_back;
	sim->stale_back = 0;
	gio_rest_book(sim, p, b, (int)limit,
		      wid != NULL && strcmp(wid, "true") == 0, back);
	return 200;
}

static void gio_rest_fault_body(struct sbuf *b, int status)
{
	if (status == 429)
		err_body(b, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded");
	else
		err_body(b, "SERVER_ERROR", "Internal server error");
}

static void gio_bad_frame(struct sim_conn *c)
{
	static const char bad[] =
		"{\"time\":1,\"channel\":\"spot.order_book_"
		"update\",\"event\":\"update\",\"result\":{\"t\":";

	ws_queue(c, bad, sizeof(bad) - 1);
}

const struct sim_venue sim_venue_gateio = {
	.name = "gateio",
	.default_pairs = "BTC_USDT,ETH_USDT",
	.rest_path = "/api/v4/spot/order_book",
	.binary_push = 0,
	.max_msgs_per_s = 0,
	.flood_chan = SIM_CH_OBU,
	.flood_level = 400,
	.supports_replay = 1,
	.request = gio_request,
	.push = gio_push,
	.rest = gio_rest,
	.rest_fault_body = gio_rest_fault_body,
	.bad_frame = gio_bad_frame,
};
