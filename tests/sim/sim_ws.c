/*
 * The WS side of the simulator: connection lifetime (--lifetime), the
 * outgoing queue (one text or binary frame per writeable callback),
 * fragment assembly of requests and the venue's inbound rate limit, the
 * per-tick push schedule and the connection-level faults
 * (stall, drop without a close frame, close after a deadline). What a
 * frame means is the venue's business (sim->venue).
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "banned.h"

static struct sim *sim_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

int ws_queue(struct sim_conn *c, const char *data, size_t len)
{
	return ws_queue_frame(c, data, len, 0);
}

int ws_queue_frame(struct sim_conn *c, const char *data, size_t len, int binary)
{
	struct sim_msg *m;

	if (c->drop)
		return -1;
	if (c->qbytes + len > c->sim->opt.max_queue) {
		log_warn("conn %s: send queue over %zu bytes, dropping",
			 c->conn_id, c->sim->opt.max_queue);
		c->drop = 1;
		lws_callback_on_writable(c->wsi);
		return -1;
	}
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (m == NULL) {
		c->drop = 1;
		lws_callback_on_writable(c->wsi);
		return -1;
	}
	m->next = NULL;
	m->len = len;
	m->binary = binary;
	m->due_us = c->lag_us ? sim_now_us() + c->lag_us : 0;
	memcpy(m->data + LWS_PRE, data, len);
	if (c->qtail != NULL)
		c->qtail->next = m;
	else
		c->qhead = m;
	c->qtail = m;
	c->qbytes += len;
	lws_callback_on_writable(c->wsi);
	return 0;
}

static void queue_free(struct sim_conn *c)
{
	while (c->qhead != NULL) {
		struct sim_msg *m = c->qhead;

		c->qhead = m->next;
		free(m);
	}
	c->qtail = NULL;
	c->qbytes = 0;
}

/* An abrupt drop, no close frame. */
static void fault_drop(struct sim_conn *c, const char *why)
{
	log_info("conn %s: %s: dropping it", c->conn_id, why);
	c->drop = 1;
	lws_callback_on_writable(c->wsi);
}

/*
 * The drop_old and drop_new faults, once armed: when a connection pushes
 * a pair that an older connection also has (a client's rollover in
 * progress), drop the older one (drop_old) or the newer one (drop_new)
 * without a close frame, N such pushes after arming.
 */
static void drop_old_check(struct sim_conn *c, struct sim_sub *s)
{
	struct sim *sim = c->sim;
	struct sim_conn *o;

	if (sim->drop_old == 0 && sim->drop_new == 0)
		return;
	for (o = sim->conns; o != NULL; o = o->next) {
		if (o == c || o->drop || o->opened_us > c->opened_us)
			continue;
		for (size_t i = 0; i < o->nsubs; i++) {
			if (o->subs[i]->pair != s->pair)
				continue;
			if (sim->drop_new != 0 && --sim->drop_new == 0)
				fault_drop(c, "drop_new");
			else if (sim->drop_old != 0 && --sim->drop_old == 0)
				fault_drop(o, "drop_old");
			return;
		}
	}
}

void ws_deliver(struct sim_conn *c, struct sim_sub *s, struct sbuf *b)
{
	int bin = c->sim->venue->binary_push;

	if (b->oom)
		return;
	sbuf_reset(&s->last);
	sbuf_add(&s->last, sbuf_data(b), b->len);
	if (s->reorder == 1) {
		sbuf_reset(&s->held);
		sbuf_add(&s->held, sbuf_data(b), b->len);
		s->reorder = 2;
		return;
	}
	ws_queue_frame(c, sbuf_data(b), b->len, bin);
	if (s->reorder == 2) {
		ws_queue_frame(c, sbuf_data(&s->held), s->held.len, bin);
		s->reorder = 0;
	}
	drop_old_check(c, s);
}

static void conn_open(struct sim *sim, struct lws *wsi, struct sim_pss *pss)
{
	struct sim_conn *c = calloc(1, sizeof(*c));
	uint64_t r = sim_rand(&sim->rng);
	int i;

	if (c == NULL)
		return;
	c->sim = sim;
	c->wsi = wsi;
	for (i = 0; i < 16; i++)
		c->conn_id[i] = "0123456789abcdef"[(r >> (i * 4)) & 15];
	c->opened_us = sim_now_us();
	if (sim->conn_seq++ % 2 == 1)
		c->lag_us = (int64_t)(sim->opt.conn_lag_ms * 1000);
	c->next = sim->conns;
	sim->conns = c;
	sim->nconns++;
	pss->conn = c;
	log_info("conn %s: open", c->conn_id);
	/* The venue's connection rate (OKX: 3 a second per IP): 1008. */
	if (sim->venue->max_conns_per_s > 0) {
		if (c->opened_us - sim->conn_window_us >= 1000000) {
			sim->conn_window_us = c->opened_us;
			sim->conns_in_window = 0;
		}
		if (++sim->conns_in_window > sim->venue->max_conns_per_s) {
			log_info("conn %s: over %u connections a second",
				 c->conn_id, sim->venue->max_conns_per_s);
			c->closing = 1;
			c->close_status = LWS_CLOSE_STATUS_POLICY_VIOLATION;
			lws_callback_on_writable(wsi);
		}
	}
}

static void conn_close(struct sim *sim, struct sim_pss *pss)
{
	struct sim_conn *c = pss->conn, **pp;

	if (c == NULL)
		return;
	for (pp = &sim->conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			sim->nconns--;
			break;
		}
	}
	log_info("conn %s: closed", c->conn_id);
	sub_remove_all(c);
	queue_free(c);
	sbuf_release(&c->rx);
	sbuf_release(&c->flood);
	free(c);
	pss->conn = NULL;
}

/* The venue's inbound limit: more frames in one second close the socket. */
static int rate_exceeded(struct sim_conn *c)
{
	unsigned max = c->sim->venue->max_msgs_per_s;
	int64_t now = sim_now_us();

	if (max == 0)
		return 0;
	if (now - c->rate_from_us >= 1000000) {
		c->rate_from_us = now;
		c->rate_n = 0;
	}
	if (++c->rate_n <= max)
		return 0;
	log_info("conn %s: over %u messages/s, closing", c->conn_id, max);
	lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			 (unsigned char *)"rate limit", 10);
	return 1;
}

static int conn_receive(struct sim_conn *c, const char *in, size_t len)
{
	if (lws_is_first_fragment(c->wsi))
		sbuf_reset(&c->rx);
	if (c->rx.len + len > SIM_REQ_MAX) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 NULL, 0);
		return -1;
	}
	sbuf_add(&c->rx, in, len);
	if (!lws_is_final_fragment(c->wsi))
		return 0;
	if (rate_exceeded(c))
		return -1;
	c->sim->venue->request(c, sbuf_data(&c->rx), c->rx.len);
	sbuf_reset(&c->rx);
	return 0;
}

/* Abrupt drop: RST on close, no close frame. */
static int conn_drop(struct sim_conn *c)
{
	struct linger lg = { 1, 0 };
	int fd = lws_get_socket_fd(c->wsi);

	log_info("conn %s: dropping the TCP connection", c->conn_id);
	if (fd >= 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
		log_warn("setsockopt SO_LINGER: %s", strerror(errno));
	return -1;
}

static int conn_writeable(struct sim_conn *c)
{
	struct sim_msg *m = c->qhead;

	if (c->drop)
		return conn_drop(c);
	if (c->closing) {
		if (c->closing++ == 1)
			log_info("conn %s: closing with %d", c->conn_id,
				 c->close_status);
		lws_close_reason(c->wsi, (enum lws_close_status)c->close_status,
				 (unsigned char *)"server closing", 14);
		return -1;
	}
	if (c->stall_until_us != 0)
		return 0;
	if (m == NULL)
		return c->flooding ? flood_write(c) : 0;
	if (m->due_us > sim_now_us())
		return 0; /* --conn-lag-ms: the tick asks again */
	if (lws_write(c->wsi, (unsigned char *)m->data + LWS_PRE, m->len,
		      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) <
	    (int)m->len)
		return -1;
	c->qhead = m->next;
	if (c->qhead == NULL)
		c->qtail = NULL;
	c->qbytes -= m->len;
	free(m);
	if (c->qhead != NULL || c->flooding)
		lws_callback_on_writable(c->wsi);
	return 0;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		void *in, size_t len)
{
	struct sim_pss *pss = user;
	struct sim *sim = sim_of(wsi);

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		conn_open(sim, wsi, pss);
		return pss->conn == NULL ? -1 : 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss->conn == NULL)
			return -1;
		return conn_receive(pss->conn, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss->conn == NULL)
			return -1;
		return conn_writeable(pss->conn);
	case LWS_CALLBACK_CLOSED:
		conn_close(sim, pss);
		return 0;
	default:
		return http_callback(wsi, reason, user, in, len);
	}
}

static int64_t jitter_full(struct sim *sim, int64_t now)
{
	double f = 0.5 + (double)(sim_rand(&sim->rng) % 1000) / 1000.0;

	return now + (int64_t)(sim->opt.full_every_s * 1e6 * f);
}

static void sub_tick(struct sim_conn *c, struct sim_sub *s, int64_t now)
{
	struct sim *sim = c->sim;
	struct sim_pair *p = s->pair;
	int full = s->need_full;

	if (now < s->next_push_us)
		return;
	s->next_push_us += (int64_t)s->interval_ms * 1000;
	if (s->next_push_us < now)
		s->next_push_us = now + (int64_t)s->interval_ms * 1000;
	if (p->rp_n > 0) {
		if (s->rp_pos < p->rp_n) {
			ws_queue(c, p->rp_lines[s->rp_pos],
				 p->rp_len[s->rp_pos]);
			s->rp_pos++;
		}
		return;
	}
	if (s->next_full_us != 0 && now >= s->next_full_us) {
		full = 1;
		s->next_full_us = jitter_full(sim, now);
	}
	s->need_full = 0;
	if (sim->venue->push(sim, s, &sim->scratch, full))
		ws_deliver(c, s, &sim->scratch);
}

static void conn_tick(struct sim_conn *c, int64_t now)
{
	struct sim *sim = c->sim;
	int64_t idle_from;
	size_t i;

	/* --lifetime: the exchange's 24 h connection limit, compressed. */
	if (sim->opt.lifetime_s > 0 && !c->closing && c->close_at_us == 0 &&
	    now - c->opened_us >= (int64_t)(sim->opt.lifetime_s * 1e6)) {
		log_info("conn %s: lifetime over, closing", c->conn_id);
		c->close_at_us = now;
		/* Announced (Binance serverShutdown): the close follows. */
		if (sim->venue->closing != NULL) {
			sim->venue->closing(c);
			c->close_at_us = now + SIM_NOTICE_US;
		}
	}
	if (c->close_at_us != 0 && now >= c->close_at_us) {
		c->close_at_us = 0;
		c->closing = 1;
		if (c->close_status == 0) /* else the venue's (OKX 4008) */
			c->close_status = LWS_CLOSE_STATUS_GOINGAWAY;
		lws_callback_on_writable(c->wsi);
	}
	idle_from = c->last_ping_us > c->opened_us ? c->last_ping_us
						   : c->opened_us;
	if (c->nsubs == 0 && sim->opt.idle_close_s > 0 && !c->drop &&
	    now - idle_from > (int64_t)sim->opt.idle_close_s * 1000000) {
		log_info("conn %s: idle, closing", c->conn_id);
		c->drop = 1;
		lws_callback_on_writable(c->wsi);
	}
	if (c->qhead != NULL && c->qhead->due_us != 0 &&
	    c->qhead->due_us <= now)
		lws_callback_on_writable(c->wsi);
	if (c->stall_until_us != 0) {
		if (now < c->stall_until_us)
			return;
		c->stall_until_us = 0;
		lws_callback_on_writable(c->wsi);
	}
	/* A flood waiting for its REST snapshot looks again. */
	if (c->flooding && c->flood_held)
		lws_callback_on_writable(c->wsi);
	if (c->flooding || c->drop || c->closing)
		return;
	for (i = 0; i < c->nsubs; i++)
		sub_tick(c, c->subs[i], now);
}

void ws_tick(struct sim *sim, int64_t now_us)
{
	struct sim_conn *c;

	for (c = sim->conns; c != NULL; c = c->next)
		conn_tick(c, now_us);
}
