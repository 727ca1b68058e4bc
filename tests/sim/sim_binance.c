/*
 * Binance spot (EXCHANGES.md §3): live SUBSCRIBE / UNSUBSCRIBE /
 * LIST_SUBSCRIPTIONS with ids ({"result":null,"id":N}, errors
 * {"error":{"code":2,"msg":...},"id":N}), JSON depthUpdate pushes of
 * <symbol>@depth@100ms (and @depth, 1000 ms) in the raw /ws framing, the
 * REST /api/v3/depth route with lastUpdateId and Binance's error bodies,
 * and the limits: 1024 streams per connection, 5 inbound messages per
 * second (more close the socket), the server's WS pings (--ping-interval,
 * shared) and the 24 h lifetime (--lifetime, compressed) announced by a
 * serverShutdown event. Well-formed but unknown symbols are acked and
 * never produce data, as on Binance. The stream is full depth: a push
 * carries every change since the previous one, at any depth, collapsed to
 * the last value per level; U..u are the sim's update ids it covers.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "banned.h"

#define MAX_STREAMS    1024
#define REST_LIMIT     100
#define REST_LIMIT_MAX 5000

/* ------------------------------------------------------------ pushes */

static void add_changes(struct sbuf *b, const struct sim_pair *p,
			const struct sim *sim, size_t n, int side)
{
	int first = 1;

	sbuf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		if (sim->agg_side[i] != side)
			continue;
		sbuf_adds(b, first ? "[\"" : ",[\"");
		sbuf_add_dec(b, sim->agg[i].px, p->pdec);
		sbuf_adds(b, "\",\"");
		sbuf_add_dec(b, sim->agg[i].amt, p->adec);
		sbuf_adds(b, "\"]");
		first = 0;
	}
	sbuf_addc(b, ']');
}

static int bn_push(struct sim *sim, struct sim_sub *s, struct sbuf *b, int full)
{
	struct sim_pair *p = s->pair;
	uint64_t k, from;
	size_t n;

	(void)full; /* no full pushes: the REST snapshot is one */
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
	from = s->next_id;
	n = sim->push_levels = agg_collect(sim, p, from, p->last_id);
	sbuf_adds(b, "{\"e\":\"depthUpdate\",\"E\":");
	sbuf_add_i64(b, sim_now_us() / 1000);
	sbuf_adds(b, ",\"s\":\"");
	sbuf_adds(b, p->name);
	sbuf_adds(b, "\",\"U\":");
	sbuf_add_u64(b, from);
	sbuf_adds(b, ",\"u\":");
	sbuf_add_u64(b, p->last_id);
	sbuf_adds(b, ",\"b\":");
	add_changes(b, p, sim, n, SIM_BID);
	sbuf_adds(b, ",\"a\":");
	add_changes(b, p, sim, n, SIM_ASK);
	sbuf_addc(b, '}');
	s->next_id = p->last_id + 1;
	return 1;
}

/* ------------------------------------------------------------ requests */

/* {"result":null,"id":N}; id < 0: null. */
static void bn_result(struct sim_conn *c, int64_t id, const char *result)
{
	struct sbuf *b = &c->sim->scratch;

	sbuf_reset(b);
	sbuf_adds(b, "{\"result\":");
	sbuf_adds(b, result);
	sbuf_adds(b, ",\"id\":");
	if (id < 0)
		sbuf_adds(b, "null");
	else
		sbuf_add_i64(b, id);
	sbuf_addc(b, '}');
	ws_queue(c, sbuf_data(b), b->len);
}

static void bn_error(struct sim_conn *c, int64_t id, int code, const char *msg)
{
	struct sbuf *b = &c->sim->scratch;

	sbuf_reset(b);
	sbuf_adds(b, "{\"error\":{\"code\":");
	sbuf_add_i64(b, code);
	sbuf_adds(b, ",\"msg\":\"");
	sbuf_add_jstr(b, msg, strlen(msg));
	sbuf_adds(b, "\"},\"id\":");
	if (id < 0)
		sbuf_adds(b, "null");
	else
		sbuf_add_i64(b, id);
	sbuf_addc(b, '}');
	ws_queue(c, sbuf_data(b), b->len);
}

/*
 * Parse "btcusdt@depth@100ms" or "btcusdt@depth". 0 (t->pair NULL for
 * a well-formed unknown symbol), or -1 for an invalid stream name.
 */
static int bn_target(struct sim *sim, const char *stream, struct sim_target *t)
{
	const char *at = strchr(stream, '@');
	char sym[SIM_NAME_MAX];
	size_t n;

	memset(t, 0, sizeof(*t));
	if (at == NULL || at == stream)
		return -1;
	n = (size_t)(at - stream);
	if (n >= sizeof(sym))
		return -1;
	for (size_t i = 0; i < n; i++) {
		char ch = stream[i];

		/* Stream names are lowercase (EXCHANGES.md §3.1). */
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
			return -1;
		sym[i] = ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
	}
	sym[n] = '\0';
	if (strcmp(at, "@depth@100ms") == 0)
		t->interval_ms = 100;
	else if (strcmp(at, "@depth") == 0 || strcmp(at, "@depth@1000ms") == 0)
		t->interval_ms = 1000;
	else
		return -1;
	t->pair = sim_pair_find(sim, sym, n);
	t->chan = SIM_CH_BINANCE_DEPTH;
	t->level = t->interval_ms; /* two speeds are two streams */
	return 0;
}

static int bn_streams_ok(struct sim_conn *c, const struct sim_req *r,
			 int64_t id)
{
	struct sim_target t;

	if (r->params_bad || !r->has_params) {
		bn_error(c, id, 2, "Invalid request: invalid stream");
		return 0;
	}
	for (int i = 0; i < r->nparams; i++)
		if (bn_target(c->sim, r->params[i], &t) < 0) {
			bn_error(c, id, 2, "Invalid request: invalid stream");
			return 0;
		}
	return 1;
}

static void bn_subscribe(struct sim_conn *c, const struct sim_req *r,
			 int64_t id, int sub)
{
	struct sim *sim = c->sim;
	struct sim_target t;
	size_t adds = 0, idx;

	if (!bn_streams_ok(c, r, id))
		return;
	if (sub && sim->sub_error_left > 0) {
		sim->sub_error_left--;
		bn_error(c, id, 2, "Invalid request: invalid stream");
		return;
	}
	for (int i = 0; sub && i < r->nparams; i++)
		adds++;
	if (sub && c->nsubs + c->ghost_subs + adds > MAX_STREAMS) {
		bn_error(c, id, 2, "Invalid request: too many streams");
		return;
	}
	for (int i = 0; i < r->nparams; i++) {
		struct sim_sub *s;

		(void)bn_target(sim, r->params[i], &t);
		if (t.pair == NULL) {
			/* Accepted and counted, never any data. */
			if (sub)
				c->ghost_subs++;
			else if (c->ghost_subs > 0)
				c->ghost_subs--;
			continue;
		}
		s = sub_find(c, &t, &idx);
		if (!sub && s != NULL) {
			sub_free(s);
			c->subs[idx] = c->subs[--c->nsubs];
		} else if (sub && s == NULL) {
			(void)sub_add(c, &t);
		}
	}
	if (sim->bare_ack_left > 0) {
		sim->bare_ack_left--;
		id = -1;
	}
	bn_result(c, id, "null");
}

/* {"result":["btcusdt@depth@100ms",...],"id":N} */
static void bn_list(struct sim_conn *c, int64_t id)
{
	struct sbuf list = { 0 };

	sbuf_addc(&list, '[');
	for (size_t i = 0; i < c->nsubs; i++) {
		const struct sim_sub *s = c->subs[i];

		if (i > 0)
			sbuf_addc(&list, ',');
		sbuf_addc(&list, '"');
		for (const char *q = s->pair->name; *q != '\0'; q++)
			sbuf_addc(&list, *q >= 'A' && *q <= 'Z'
						 ? (char)(*q - 'A' + 'a')
						 : *q);
		sbuf_adds(&list, s->interval_ms == 100 ? "@depth@100ms\""
						       : "@depth\"");
	}
	sbuf_addc(&list, ']');
	if (!list.oom)
		bn_result(c, id, sbuf_data(&list));
	sbuf_release(&list);
}

static void bn_request(struct sim_conn *c, const char *data, size_t len)
{
	struct sim_req *r = malloc(sizeof(*r));
	int64_t id;

	if (r == NULL)
		return;
	if (json_parse_req(data, len, r) < 0) {
		bn_error(c, -1, 3, "Invalid JSON: expected value at line 1");
		goto out;
	}
	if (!r->has_id || r->id < 0) {
		bn_error(c, -1, 2,
			 "Invalid request: request ID must be an unsigned "
			 "integer");
		goto out;
	}
	id = r->id;
	if (strcmp(r->method, "SUBSCRIBE") == 0)
		bn_subscribe(c, r, id, 1);
	else if (strcmp(r->method, "UNSUBSCRIBE") == 0)
		bn_subscribe(c, r, id, 0);
	else if (strcmp(r->method, "LIST_SUBSCRIPTIONS") == 0)
		bn_list(c, id);
	else if (r->method[0] == '\0')
		bn_error(c, id, 2, "Invalid request: missing field `method`");
	else
		bn_error(c, id, 2, "Invalid request: unknown variant");
out:
	free(r);
}

/* The lifetime close is announced (EXCHANGES.md §3.6). */
static void bn_closing(struct sim_conn *c)
{
	char buf[96];
	int n = snprintf(buf, sizeof(buf),
			 "{\"e\":\"serverShutdown\",\"E\":%lld}",
			 (long long)(sim_now_us() / 1000));

	ws_queue(c, buf, (size_t)n);
}

/* ------------------------------------------------------------ REST */

/* GET /api/v3/depth?symbol=S&limit=L (larger limits are clipped). */
static int bn_rest(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char sybuf[96], lbuf[64];
	const char *sym = sim_arg(wsi, "symbol=", sybuf, sizeof(sybuf));
	const char *lim = sim_arg(wsi, "limit=", lbuf, sizeof(lbuf));
	struct sim_pair *p;
	uint64_t limit = REST_LIMIT;

	if (lim != NULL && (sim_parse_u64(lim, &limit) < 0 || limit == 0)) {
		rest_code_msg(b, -1100,
			      "Illegal characters found in parameter 'limit'.");
		return 400;
	}
	if (limit > REST_LIMIT_MAX)
		limit = REST_LIMIT_MAX;
	p = sym != NULL ? sim_pair_find(sim, sym, strlen(sym)) : NULL;
	if (p == NULL) {
		rest_code_msg(b, -1121, "Invalid symbol.");
		return 400;
	}
	p->rest_calls++;
	rest_depth(sim, p, b, (size_t)limit, 0);
	return 200;
}

static void bn_rest_fault_body(struct sbuf *b, int status)
{
	if (status == 429)
		rest_code_msg(
			b, -1003,
			"Too much request weight used; current limit is 6000 "
			"request weight per 1 MINUTE.");
	else
		rest_code_msg(b, -1000,
			      "An unknown error occurred while processing the "
			      "request.");
}

/* A push cut short. */
static void bn_bad_frame(struct sim_conn *c)
{
	static const char bad[] = "{\"e\":\"depthUpdate\",\"E\":1,\"s\":\"";

	ws_queue(c, bad, sizeof(bad) - 1);
}

const struct sim_venue sim_venue_binance = {
	.name = "binance",
	.default_pairs = "BTCUSDT,ETHUSDT",
	.rest_path = "/api/v3/depth",
	.binary_push = 0,
	.max_msgs_per_s = 5,
	.flood_rest = 1,
	.flood_chan = SIM_CH_BINANCE_DEPTH,
	.flood_level = 100,
	.supports_replay = 0,
	.request = bn_request,
	.push = bn_push,
	.rest = bn_rest,
	.rest_fault_body = bn_rest_fault_body,
	.bad_frame = bn_bad_frame,
	.closing = bn_closing,
};
