/*
 * The feed's WebSocket connections: one, or as many as the venue's
 * streams-per-connection limit needs, each with its pairs' (un)subscribe
 * requests (batched, and held back within the venue's send budget), the
 * replies matched to the pairs, and the per-message path from a frame to
 * the pair's sync machine (on_message, on_update).
 *
 * Back-pressure: above PAUSE_AT_PERCENT of the writer queue the feed
 * stops reading the socket (TCP holds the burst: every pair's hour-start
 * block at once), and reads again below RESUME_AT_PERCENT or after
 * PAUSE_MAX_US, since a stalled disk must not stall the feed for long.
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "rec.h"
#include "sink.h"
#include "sync.h"
#include "timeutil.h"
#include "venue.h"
#include "wsconn.h"
#include "banned.h"

#define PAUSE_AT_PERCENT  75
#define RESUME_AT_PERCENT 40
#define PAUSE_MAX_US	  (2 * US_PER_SEC)

/* ---- requests: the send budget and (un)subscribes ---- */

/* A request frame waiting for the connection's send budget. */
struct outmsg {
	struct outmsg *next;
	size_t len;
	char data[];
};

/* Drop the requests still held back (the connection closed). */
void feed__outq_clear(struct fconn *c)
{
	while (c->out_head != NULL) {
		struct outmsg *m = c->out_head;

		c->out_head = m->next;
		free(m);
	}
	c->out_tail = NULL;
}

/* One more frame within the venue's budget this second? */
static bool send_budget(struct feed *f, struct fconn *c, int64_t mono)
{
	if (f->v->max_sends_per_s == 0)
		return true;
	if (mono - c->send_window_us >= US_PER_SEC) {
		c->send_window_us = mono;
		c->sends_in_window = 0;
	}
	if (c->sends_in_window >= f->v->max_sends_per_s)
		return false;
	c->sends_in_window++;
	return true;
}

/* Send the held-back requests the budget allows, oldest first. */
static void outq_flush(struct feed *f, struct fconn *c, int64_t mono)
{
	while (c->out_head != NULL && wsconn_is_up(c->ws) &&
	       send_budget(f, c, mono)) {
		struct outmsg *m = c->out_head;

		c->out_head = m->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		(void)wsconn_send(c->ws, m->data, m->len);
		free(m);
	}
}

/*
 * Send a frame on c, or hold it back while the venue's inbound limit
 * (max_sends_per_s; Binance: 5 messages/s) is spent; the tick sends it.
 */
static int conn_send(struct feed *f, struct fconn *c, const char *buf,
		     size_t len)
{
	struct outmsg *m;

	if (c->out_head == NULL && send_budget(f, c, time_mono_us()))
		return wsconn_send(c->ws, buf, len);
	m = malloc(sizeof(*m) + len);
	if (m == NULL)
		return CORE_ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, buf, len);
	if (c->out_tail != NULL)
		c->out_tail->next = m;
	else
		c->out_head = m;
	c->out_tail = m;
	return 0;
}

/*
 * One (un)subscribe request for n pairs of one connection (n at most the
 * venue's max_per_request). Replies are matched to the pairs by the id
 * sent, which they all share.
 */
static void send_subs_on(struct feed *f, struct fconn *c,
			 struct gpair *const *ps, size_t n, int subscribe,
			 int next)
{
	const char *syms[64];
	char buf[4096];
	size_t len;
	uint64_t id = ++f->req_id;
	int rc;

	if (n == 0 || n > CORE_ARRAY_LEN(syms))
		return;
	for (size_t i = 0; i < n; i++) {
		syms[i] = ps[i]->sym;
		if (next) {
			/* A rollover's: the pair's own state is untouched. */
			ps[i]->next_sub_id = id;
			ps[i]->next_acked = 0;
		} else if (subscribe) {
			ps[i]->skip_ack = 0; /* superseded, see roll_switch */
			ps[i]->sub_id = id;
			ps[i]->sub_sent_us = time_now_us();
		} else {
			ps[i]->unsub_id = id;
		}
	}
	rc = f->v->build_subscribe(&f->st, buf, sizeof(buf), syms, n, subscribe,
				   id, &len);
	if (rc == 0)
		rc = conn_send(f, c, buf, len);
	if (rc != 0)
		log_err_r(rc, "%s%s: queue %s", ps[0]->sym,
			  n > 1 ? " and others" : "",
			  subscribe ? "subscribe" : "unsubscribe");
}

static void send_subs(struct feed *f, struct gpair *const *ps, size_t n,
		      int subscribe)
{
	if (n > 0)
		send_subs_on(f, ps[0]->c, ps, n, subscribe, 0);
}

void feed__subscribe_all(struct feed *f, struct fconn *c, int next,
			 feed_pick_fn pick, int64_t now)
{
	struct gpair *batch[64];
	size_t n = 0, max = f->v->max_per_request;

	if (max == 0 || max > CORE_ARRAY_LEN(batch))
		max = CORE_ARRAY_LEN(batch);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (!pick(p, c, now))
			continue;
		batch[n++] = p;
		if (n == max) {
			send_subs_on(f, c, batch, n, 1, next);
			n = 0;
		}
	}
	if (n > 0)
		send_subs_on(f, c, batch, n, 1, next);
}

void feed__send_sub(struct feed *f, struct gpair *p, int subscribe)
{
	send_subs(f, &p, 1, subscribe);
}

void feed__cb_resubscribe(void *ctx, const char *symbol)
{
	struct gpair *p = ctx;

	(void)symbol;
	feed__send_sub(p->f, p, 0);
	feed__send_sub(p->f, p, 1);
}

/* ---- the WebSocket connections ---- */

int feed__conns_all_up(const struct feed *f)
{
	for (size_t i = 0; i < f->nconns; i++)
		if (!wsconn_is_up(f->conns[i]->ws))
			return 0;
	return f->nconns > 0;
}

static void pause_all(struct feed *f, int pause)
{
	for (size_t i = 0; i < f->nconns; i++)
		wsconn_pause(f->conns[i]->ws, pause);
	if (f->rolling != NULL)
		wsconn_pause(f->rolling->succ->ws, pause);
}

/* A live pair of c, subscribed again after a (re)connect. */
static bool pick_reconnected(struct gpair *p, struct fconn *c, int64_t now)
{
	if (p->c != c || p->removed)
		return false;
	p->rejected = 0;
	if (c->connections > 1)
		feed__write_event(p, now, "reconnect", NULL, NULL, NULL,
				  "connection re-established");
	return true;
}

static void on_established(void *ud)
{
	struct fconn *c = ud;
	struct feed *f = c->f;

	c->connections++;
	if (c->connections > 1)
		metric_inc(f->s_reconn);
	metric_set(f->s_conn, feed__conns_all_up(f));
	c->last_data_us = c->opened_us = time_mono_us();
	c->roll_not_before = 0;
	c->shutdown_notice = 0;
	if (f->paused)
		wsconn_pause(c->ws, 1);
	if (c->pred != NULL)
		feed__roll_subscribe(f, c, time_now_us());
	else
		feed__subscribe_all(f, c, 0, pick_reconnected, time_now_us());
}

static void on_closed(void *ud, const char *reason)
{
	struct fconn *c = ud;
	struct feed *f = c->f;
	int64_t now = time_now_us();

	if (c->retired)
		return; /* replaced by a rollover: nothing was on it */
	metric_inc(rec_series(f->r, f->r->m.disconnections, reason));
	feed__roll_conn_closed(f, c, now);
	metric_set(f->s_conn, feed__conns_all_up(f));
	feed__outq_clear(c);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != c)
			continue;
		p->fetch_wanted = 0;
		p->sub_sent_us = 0;
		feed__roll_drop_shadow(p);
		if (sync_state(p->sync) != SYNC_IDLE)
			sync_on_disconnect(p->sync, now);
		metric_set(p->s_synced, 0);
	}
	sink_commit(f->r->sink);
}

/*
 * Does a reply concern p, and is it about an unsubscribe? By the request
 * id we sent (unique, never 0, shared by the pairs of one request), else
 * by the symbols the reply names (the 2021 Gate.io protocol echoed no
 * id; MEXC may answer with id 0). Returns 0 (not p's), 1 (p's
 * subscribe) or 2 (p's unsubscribe).
 */
static int reply_is_for(const struct gpair *p, const struct fconn *c,
			const struct venue_msg *m)
{
	int named;

	if (p->c != c)
		return 0;
	if (m->has_req_id && m->req_id != 0) {
		if (p->sub_id == m->req_id)
			return 1;
		return p->unsub_id == m->req_id ? 2 : 0;
	}
	named = strcmp(p->sym, m->symbol) == 0;
	for (size_t i = 0; i < m->nsymbols && !named; i++)
		named = strcmp(p->sym, m->symbols[i]) == 0;
	if (!named)
		return 0;
	return m->unsubscribe ? 2 : 1;
}

/* Is a reply the ack of p's rollover subscribe on the successor c? */
static int reply_is_next(const struct gpair *p, const struct fconn *c,
			 const struct venue_msg *m)
{
	if (p->next_c != c || m->unsubscribe)
		return 0;
	if (m->has_req_id && m->req_id != 0)
		return p->next_sub_id == m->req_id;
	if (strcmp(p->sym, m->symbol) == 0)
		return 1;
	for (size_t i = 0; i < m->nsymbols; i++)
		if (strcmp(p->sym, m->symbols[i]) == 0)
			return 1;
	return 0;
}

static void on_ack(struct fconn *c, const struct venue_msg *m, int64_t now)
{
	struct feed *f = c->f;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		int what = reply_is_for(p, c, m);

		/* Never sync_on_subscribed: the book stays the old one's. */
		if (reply_is_next(p, c, m))
			p->next_acked = 1;
		if (what == 0)
			continue;
		if (what == 2) {
			if (p->removed)
				p->removed = 2; /* freed by the next tick */
			continue;
		}
		p->sub_sent_us = 0;
		if (p->skip_ack && !m->unsubscribe) {
			/* The rollover subscribe's, after the switch. */
			p->skip_ack = 0;
			continue;
		}
		/* A full push may make the snapshot moot (OKX books). */
		if (f->st.fetch_delay_us > 0)
			p->fetch_not_before =
				time_mono_us() + f->st.fetch_delay_us;
		if (!p->removed)
			sync_on_subscribed(p->sync, now);
	}
}

static void on_error(struct fconn *c, const struct venue_msg *m)
{
	struct feed *f = c->f;
	char msg[sizeof(m->err_text) * 4];
	const char *who = "?";

	log_escape(msg, sizeof(msg), m->err_text, strlen(m->err_text));
	metric_inc(rec_series(f->r, f->r->m.failed, "exchange_error"));
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		int what = reply_is_for(p, c, m);

		if (what == 0)
			continue;
		who = p->sym;
		if (m->refused && what == 1)
			p->rejected = 1;
	}
	log_err("%s: exchange refused %s: code %lld: %s", who,
		m->unsubscribe ? "unsubscribe" : "request",
		(long long)m->err_code, msg);
}

/* ---- the per-message path ---- */

static void on_update(struct fconn *c, struct venue_msg *m, int64_t recv_us)
{
	struct feed *f = c->f;
	struct gpair *p = feed__pair_find(f, m->symbol);
	int64_t hour = time_hour_floor(recv_us);

	if (p == NULL || p->removed)
		return;
	/* Only book pushes feed the watchdog: pongs prove the socket, not
	 * the feed. The tick reads the clock, not every message. */
	c->data_seen = 1;
	if (p->c != c) {
		/* A rollover's successor, or an old connection the pair has
		 * left: only the pair's own connection writes rows. */
		if (p->next_c == c)
			feed__roll_queue(p, &m->update, recv_us);
		return;
	}
	p->msgs_unpub++;
	p->last_msg_us = recv_us;
	if (p->shadow != NULL && p->next_c == NULL) {
		/* Switched by a rollover: the successor's own book first. */
		feed__roll_follow(p, &m->update, recv_us);
		return;
	}
	/* Each hourly file opens with the whole book. */
	if (p->last_l2_hour != 0 && hour != p->last_l2_hour &&
	    sync_synced(p->sync))
		(void)sync_emit_snapshot(p->sync, recv_us);
	if (sync_on_update(p->sync, &m->update, recv_us) != 0)
		metric_inc(rec_series(f->r, f->r->m.failed, "invalid_update"));
	if (p->next_c != NULL)
		feed__roll_try(p, recv_us); /* may switch p to the successor */
	if (f->cfg->snapshot_interval <= 0)
		feed__maybe_top_n(p, recv_us);
}

static void on_unparsable(struct fconn *c, const char *msg, size_t len,
			  int binary)
{
	static struct log_ratelimit rl;
	struct feed *f = c->f;
	char esc[96];
	unsigned supp;

	metric_inc(rec_series(f->r, f->r->m.failed, "parse"));
	if (log_ratelimit_ok(&rl, 5, 60, &supp))
		log_warn("unparsable %s message (%zu bytes): %s",
			 binary ? "binary" : "text", len,
			 log_escape(esc, sizeof(esc), msg,
				    len < 60 ? len : 60));
	/* An overflowing server interleaves frames (EXCHANGES.md §1.8):
	 * nothing after this one can be trusted. */
	wsconn_drop(c->ws, "unparsable frame");
}

static void on_message(void *ud, const char *msg, size_t len, int binary,
		       int64_t recv_us)
{
	struct fconn *c = ud;
	struct feed *f = c->f;
	struct venue_msg m;

	if (f->v->parse_frame(f->parser, (const unsigned char *)msg, len,
			      binary != 0, &m) != 0) {
		on_unparsable(c, msg, len, binary);
		return;
	}
	switch (m.type) {
	case VENUE_MSG_UPDATE:
		on_update(c, &m, recv_us);
		break;
	case VENUE_MSG_ACK:
		on_ack(c, &m, recv_us);
		break;
	case VENUE_MSG_ERROR:
		on_error(c, &m);
		break;
	case VENUE_MSG_SHUTDOWN:
		/* A planned close (Binance serverShutdown, OKX 64008): roll
		 * the connection over, or reconnect now rather than lose
		 * the socket mid-message when rollover is off. */
		if (!f->cfg->rollover) {
			log_info("connection %u: the exchange announced a "
				 "close: %s",
				 c->no, m.err_text);
			wsconn_drop(c->ws, "close announced by the exchange");
			return;
		}
		if (!c->shutdown_notice)
			log_notice("connection %u: the exchange will close it",
				   c->no);
		c->shutdown_notice = 1; /* the tick rolls it over */
		break;
	default:
		break;
	}
	metric_observe(f->s_lat, (double)(time_now_us() - recv_us) / 1e6);
	/* Back-pressure before the queue overflows: TCP buffers the burst. */
	if (!f->paused && sink_fill_percent(f->r->sink) >= PAUSE_AT_PERCENT) {
		f->paused = 1;
		f->paused_at = time_mono_us();
		pause_all(f, 1);
		metric_inc(rec_series(f->r, f->r->m.read_pauses, NULL));
	}
}

/* ---- starting, placing and watching connections ---- */

/*
 * Start the connections not started yet, at most the venue's
 * max_connects_per_s a second (OKX: 3 connection requests a second per
 * IP); the tick starts the rest. Reconnects are paced by their backoff.
 */
void feed__start_conns(struct feed *f)
{
	int64_t mono = time_mono_us();

	if (mono - f->connect_window_us >= US_PER_SEC) {
		f->connect_window_us = mono;
		f->connects_in_window = 0;
	}
	for (size_t i = 0; i < f->nconns; i++) {
		if (f->conns[i]->ws_started)
			continue;
		if (f->v->max_connects_per_s != 0 &&
		    f->connects_in_window >= f->v->max_connects_per_s)
			return;
		f->connects_in_window++;
		f->conns[i]->ws_started = 1;
		wsconn_start(f->conns[i]->ws);
	}
}

/*
 * A connection, not started. f->conns keeps room for it and one more,
 * so a rollover's successor can always join the list (roll_abandon).
 */
struct fconn *feed__conn_alloc(struct feed *f)
{
	struct fconn *c = calloc(1, sizeof(*c)), **nc;

	if (c == NULL)
		return NULL;
	nc = realloc(f->conns, (f->nconns + 2) * sizeof(*nc));
	if (nc == NULL) {
		free(c);
		return NULL;
	}
	f->conns = nc;
	c->f = f;
	c->no = f->conn_seq;
	c->hooks.established = on_established;
	c->hooks.message = on_message;
	c->hooks.closed = on_closed;
	c->hooks.ud = c;
	c->ws = wsconn_new(f->r->cx, f->r->client, f->ws_url, &c->hooks);
	if (c->ws == NULL) {
		free(c);
		return NULL;
	}
	f->conn_seq++;
	return c;
}

static struct fconn *conn_new(struct feed *f)
{
	struct fconn *c = feed__conn_alloc(f);

	if (c == NULL)
		return NULL;
	f->conns[f->nconns++] = c;
	if (f->started)
		feed__start_conns(f);
	return c;
}

/*
 * The connection a new pair goes on: the first with room under the
 * venue's streams-per-connection limit (MEXC: 30), or a new one.
 */
struct fconn *feed__conn_for_pair(struct feed *f)
{
	/* Not the one a rollover is replacing: its pairs are moving. */
	for (size_t i = 0; i < f->nconns; i++)
		if (f->conns[i] != f->rolling &&
		    (f->v->max_streams == 0 ||
		     f->conns[i]->npairs < f->v->max_streams))
			return f->conns[i];
	return conn_new(f);
}

/*
 * Resume reading once the writer has drained the queue below the low
 * mark, or after PAUSE_MAX_US whatever the queue: a slow disk must not
 * stall the feed for long (rows are then dropped and counted instead).
 */
void feed__maybe_resume(struct feed *f, int64_t mono)
{
	if (!f->paused)
		return;
	if (sink_fill_percent(f->r->sink) > RESUME_AT_PERCENT &&
	    mono - f->paused_at < PAUSE_MAX_US)
		return;
	f->paused = 0;
	pause_all(f, 0);
}

/* A connection's watchdog and keepalive. */
void feed__conn_tick(struct feed *f, struct fconn *c, int64_t mono,
		     int64_t now_us)
{
	char buf[256];
	size_t len;

	if (c->data_seen) {
		c->data_seen = 0;
		c->last_data_us = mono;
	}
	if (!wsconn_is_up(c->ws) || (c->npairs == 0 && c->pred == NULL))
		return;
	outq_flush(f, c, mono);
	/* A silent feed is a dead feed, whatever TCP thinks. */
	if (mono - c->last_data_us > (int64_t)(f->cfg->stale_after * 1e6)) {
		c->last_data_us = mono;
		wsconn_drop(c->ws, "no data within stale_after");
		return;
	}
	if (f->v->ping_every_us <= 0 ||
	    mono - c->last_ping_us < f->v->ping_every_us)
		return;
	c->last_ping_us = mono;
	if (f->v->build_ping(buf, sizeof(buf), now_us, &len) == 0)
		(void)conn_send(f, c, buf, len);
}
