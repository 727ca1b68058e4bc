/*
 * The generic exchange feed: pairs and their connections (one WebSocket,
 * or as many as the exchange's streams-per-connection limit needs),
 * subscriptions, REST snapshots, and the glue between the per-symbol
 * sync machines (sync.c) and the writer (sink.c). Everything that names
 * an exchange is behind its venue (venue.h: venue_gateio.c,
 * venue_mexc.c, venue_binance.c, venue_okx.c), including the limits the
 * feed enforces for it: requests and new connections per second, REST
 * requests per second and REST weight per minute.
 *
 * Rows and hours: before a message is applied, a pair whose last
 * incremental row was in an earlier UTC hour first writes its whole book
 * as a snapshot block stamped with the message's receive time, so every
 * hourly file begins with one and can be read alone.
 *
 * Back-pressure: above PAUSE_AT_PERCENT of the writer queue the feed
 * stops reading the socket (TCP holds the burst: every pair's hour-start
 * block at once), and reads again below RESUME_AT_PERCENT or after
 * PAUSE_MAX_US, since a stalled disk must not stall the feed for long.
 *
 * Losses: a row the writer queue cannot take is counted; once the queue
 * has room again the pair writes a "dropped" event and a fresh snapshot
 * block, so the data says where it has a hole and is whole again after.
 * A failed write is handled by the writer itself (sink.c): it holds the
 * pair's diffs back until a snapshot block it asks for here arrives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "book.h"
#include "buf.h"
#include "core.h"
#include "log.h"
#include "rec.h"
#include "rest.h"
#include "rollq.h"
#include "sink.h"
#include "sync.h"
#include "timeutil.h"
#include "venue.h"
#include "wsconn.h"
#include "banned.h"

#define MAX_INFLIGHT_FETCH   4
#define FETCH_TIMEOUT_S	     15
#define FETCH_BACKOFF_CAP_US (30 * US_PER_SEC)
#define PAUSE_AT_PERCENT     75
#define RESUME_AT_PERCENT    40
#define PAUSE_MAX_US	     (2 * US_PER_SEC)
#define SYNC_DEADLINE_US     (15 * US_PER_SEC)
#define ROLLQ_MSGS	     256
#define ROLLQ_BYTES	     (256u * 1024)
#define ROLL_RETRY_MAX_US    (60 * US_PER_SEC)

/* A timestamp's text, kept while the rows of one message reuse it. */
struct tstext {
	int64_t v;
	size_t len; /* 0: nothing cached */
	char s[24];
};

/*
 * One snapshot request. It points at its pair, not at a name: a pair
 * removed by a reload while its request is in flight detaches it (p =
 * NULL) and is freed at once, and the late reply reaches nobody, not
 * even a pair of the same name added again.
 */
struct fetch_ctx {
	struct feed *f;
	struct gpair *p;
};

/* One WebSocket and the pairs subscribed on it. */
struct fconn {
	struct feed *f;
	struct wsconn *ws;
	struct wsconn_hooks hooks;
	unsigned no;	      /* 0, 1, ... for the logs */
	size_t npairs;	      /* pairs assigned, removed ones too */
	int connections;      /* established so far */
	int data_seen;	      /* a book push since the last tick */
	int64_t last_ping_us; /* mono µs */
	int64_t last_data_us; /* mono µs; data = book pushes */
	/* Rollover (see "Planned reconnects" below). */
	struct fconn *succ;	 /* old one: the connection replacing it */
	struct fconn *pred;	 /* successor: the one it replaces */
	struct fconn *next_old;	 /* retired list */
	int64_t opened_us;	 /* mono µs the link was last established */
	int64_t roll_not_before; /* mono µs; after a failed rollover */
	int shutdown_notice;	 /* the exchange announced a close */
	int retired;		 /* closed for good; freed once done */
	/* Requests held back by the venue's max_sends_per_s. */
	struct outmsg *out_head, *out_tail;
	int64_t send_window_us; /* mono µs */
	unsigned sends_in_window;
	int ws_started; /* wsconn_start() ran (see start_conns) */
};

/* A request frame waiting for the connection's send budget. */
struct outmsg {
	struct outmsg *next;
	size_t len;
	char data[];
};

struct gpair {
	struct feed *f;
	struct fconn *c; /* the connection it is subscribed on */
	char norm[VENUE_SYMBOL_MAX * 2]; /* BTC-USDT */
	char sym[VENUE_SYMBOL_MAX];	 /* BTC_USDT, BTCUSDT */
	size_t symlen;
	struct tstext ts, lts; /* of the last incremental_book_L2 row */
	struct sync *sync;
	int removed;	  /* unsubscribed by a reload; freed on the ack */
	int rejected;	  /* the exchange refused the subscription */
	int fetch_wanted; /* a snapshot fetch is queued */
	int fetch_inflight;
	struct fetch_ctx *fetch;   /* the request in flight, to detach */
	uint64_t sub_id, unsub_id; /* ids of our last requests */
	int64_t sub_sent_us;	   /* wall µs of an unacked subscribe, 0 */
	int64_t kicked_us;	   /* wall µs of the last deadline action */
	unsigned fetch_failures;
	int64_t fetch_not_before; /* mono µs */
	int64_t last_msg_us;	  /* wall µs, 0 = never */
	int64_t last_l2_hour;	  /* hour of the last L2 row queued */
	int64_t next_snap_us;	  /* next book_snapshot row, wall µs */
	uint64_t top_sig;	  /* top-N signature (snapshot_interval 0) */
	uint64_t lost_rows;	  /* rows the queue refused, not yet reported */
	int64_t lost_since_us;	  /* local_timestamp of the first of them */
	int holding;		  /* L2 diffs held back until a new block */
	int resnap;		  /* a snapshot block is owed */
	struct metric_series *s_msgs, *s_gaps, *s_resyncs, *s_last, *s_synced;
	uint64_t msgs_unpub; /* messages not yet in s_msgs (feed_publish) */
	struct log_ratelimit gap_rl;
	/* Rollover: the successor it is subscribed on too, the id of that
	 * subscribe, the last id the successor sent (0: none yet), and its
	 * messages that run ahead of the book. */
	struct fconn *next_c;
	uint64_t next_sub_id;
	uint64_t next_last;
	struct rollq *rq;
	int64_t roll_since_us; /* wall µs the successor subscribe went */
	int next_acked;	       /* the successor acked the subscribe */
	int skip_ack;	       /* switched before that ack: ignore it */
};

struct feed {
	struct rec *r;
	const struct recorder_config *cfg;
	const struct venue *v;
	struct venue_stream st; /* the stream depth_limit picked */
	char ws_url[512];
	struct fconn **conns;
	size_t nconns;
	size_t exlen; /* strlen(r->exchange) */
	void *parser; /* the venue's */
	struct gpair **pairs;
	size_t npairs;
	struct gpair **index; /* open addressing by symbol; NULL: scan */
	size_t index_mask;
	char rest_base[512];
	uint64_t req_id;
	int inflight;
	int started; /* feed_start() ran: new connections start at once */
	int paused;  /* reading stopped: the writer queue is filling */
	int64_t fetch_window_us; /* mono µs; REST rate limit window */
	unsigned fetches_in_window;
	int64_t weight_window_us; /* mono µs; REST weight per minute */
	unsigned weight_in_window;
	int64_t connect_window_us; /* mono µs; connections started */
	unsigned connects_in_window;
	uint64_t seen_write_errors;  /* the sink's count at the last tick */
	int64_t last_write_error_us; /* wall µs, 0 = none yet */
	int64_t paused_at;	     /* mono µs */
	struct metric_series *s_conn, *s_reconn, *s_lat, *s_qdrop;
	struct fconn *rolling; /* the connection being replaced */
	int64_t roll_started;  /* mono µs */
	struct fconn *retired; /* closed for good, freed once done */
	unsigned conn_seq;     /* numbers connections for the logs */
	struct metric_series *s_roll, *s_rollfail, *s_rollsec;
};

static size_t sym_hash(const char *sym)
{
	size_t h = 2166136261u;

	while (*sym != '\0')
		h = (h ^ (unsigned char)*sym++) * 16777619u;
	return h;
}

/*
 * Rebuild the symbol index after the pair list changed. Pairs still
 * subscribed go in first, so a symbol removed and added again finds the
 * live pair. Without memory the lookups fall back to a scan.
 */
static void index_rebuild(struct feed *f)
{
	size_t cap = 16;

	while (cap < 2 * f->npairs)
		cap *= 2;
	free(f->index);
	f->index = calloc(cap, sizeof(*f->index));
	if (f->index == NULL)
		return;
	f->index_mask = cap - 1;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < f->npairs; i++) {
			struct gpair *p = f->pairs[i];
			size_t k = sym_hash(p->sym) & f->index_mask;

			if ((p->removed != 0) != (pass == 1))
				continue;
			while (f->index[k] != NULL)
				k = (k + 1) & f->index_mask;
			f->index[k] = p;
		}
}

static struct gpair *pair_find(struct feed *f, const char *sym)
{
	size_t k;

	if (f->index == NULL) {
		for (size_t i = 0; i < f->npairs; i++)
			if (strcmp(f->pairs[i]->sym, sym) == 0)
				return f->pairs[i];
		return NULL;
	}
	for (k = sym_hash(sym) & f->index_mask; f->index[k] != NULL;
	     k = (k + 1) & f->index_mask)
		if (strcmp(f->index[k]->sym, sym) == 0)
			return f->index[k];
	return NULL;
}

/* ---- rows and events into the sink ---- */

static char *fmt_i64(char *buf, size_t size, int64_t v)
{
	snprintf(buf, size, "%lld", (long long)v);
	return buf;
}

/* The text of v, without printf on the per-row path. */
static const char *ts_text(struct tstext *t, int64_t v, size_t *len)
{
	char tmp[20];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t n = 0, k = 0;

	if (t->len == 0 || t->v != v) {
		do {
			tmp[n++] = (char)('0' + u % 10);
			u /= 10;
		} while (u != 0);
		if (v < 0)
			t->s[k++] = '-';
		while (n > 0)
			t->s[k++] = tmp[--n];
		t->s[k] = '\0';
		t->v = v;
		t->len = k;
	}
	*len = t->len;
	return t->s;
}

/*
 * A row the writer queue refused is a hole in that file. From the first
 * one on, the pair's later diffs are held back (counted as lost too), so
 * nothing is written on top of the hole, until the tick writes the
 * "dropped" event stamped at the first loss and a fresh snapshot block.
 */
static void count_lost(struct gpair *p, int rc, int64_t local_us)
{
	if (rc == CORE_ENOSPACE) {
		if (p->lost_rows == 0)
			p->lost_since_us = local_us;
		p->lost_rows++;
		p->holding = 1;
		metric_inc(p->f->s_qdrop);
	}
}

static int queue_row(struct gpair *p, enum sink_dataset ds, int64_t local_us,
		     const char *const *fields, size_t n)
{
	int rc = sink_row(p->f->r->sink, p->sym, ds, local_us, fields, n);

	count_lost(p, rc, local_us);
	return rc;
}

static void write_event(struct gpair *p, int64_t local_us, const char *name,
			const char *first, const char *last,
			const char *expected, const char *detail)
{
	char ts[24];
	const char *fields[6];

	if (!(p->f->cfg->datasets & DATASET_BOOK_EVENTS))
		return;
	fields[0] = fmt_i64(ts, sizeof(ts), local_us);
	fields[1] = name;
	fields[2] = first ? first : "";
	fields[3] = last ? last : "";
	fields[4] = expected ? expected : "";
	fields[5] = detail ? detail : "";
	(void)queue_row(p, SINK_EVENTS, local_us, fields, 6);
}

/* The hot path: one row per level changed, spans passed as they are. */
static void cb_row(void *ctx, const struct sync_row *r)
{
	struct gpair *p = ctx;
	struct feed *f = p->f;
	const char *fields[8];
	size_t lens[8];

	p->last_l2_hour = time_hour_floor(r->local_us);
	if (!(f->cfg->datasets & DATASET_INCREMENTAL_L2))
		return;
	if (p->holding) {
		count_lost(p, CORE_ENOSPACE, r->local_us);
		return;
	}
	fields[0] = f->r->exchange;
	lens[0] = f->exlen;
	fields[1] = p->sym;
	lens[1] = p->symlen;
	fields[2] = ts_text(&p->ts, r->ts_us, &lens[2]);
	fields[3] = ts_text(&p->lts, r->local_us, &lens[3]);
	fields[4] = r->is_snapshot ? "true" : "false";
	lens[4] = r->is_snapshot ? 4 : 5;
	fields[5] = r->side == BOOK_BID ? "bid" : "ask";
	lens[5] = 3;
	fields[6] = r->price;
	lens[6] = r->price_len;
	fields[7] = r->amount;
	lens[7] = r->amount_len;
	count_lost(p,
		   sink_row_f(f->r->sink, p->sym, p->symlen, SINK_L2,
			      r->local_us,
			      SINK_ROW_PLAIN |
				      (r->is_snapshot ? SINK_ROW_SNAPSHOT : 0) |
				      (r->block_start ? SINK_ROW_BLOCK_START
						      : 0),
			      fields, lens, 8),
		   r->local_us);
}

static void cb_event(void *ctx, const struct sync_event *ev)
{
	struct gpair *p = ctx;
	char a[24], b[24], c[24];
	const char *name = sync_event_name(ev->kind);
	const char *detail = ev->detail;
	unsigned supp;

	if (ev->kind == SYNC_EV_UPDATE && !p->f->cfg->update_events)
		return;
	/* Readers keep the best `window` levels a side: say which. */
	if (ev->kind == SYNC_EV_SUBSCRIBED)
		detail = p->f->st.desc;
	if (ev->kind == SYNC_EV_GAP) {
		uint64_t missed = ev->has_first && ev->has_expected &&
						  ev->first_id > ev->expected_id
					  ? ev->first_id - ev->expected_id
					  : 0;

		metric_inc(p->s_gaps);
		/* Every gap is in book_events; the log gets a few a minute
		 * per pair, so a gap storm cannot flood the journal. */
		if (log_ratelimit_ok(&p->gap_rl, 10, 60, &supp))
			log_msg(missed > (uint64_t)p->f->cfg
							->gap_warning_threshold
					? LOG_LVL_WARNING
					: LOG_LVL_INFO,
				"%s: gap: expected update %llu, got %llu (%llu "
				"missed; %u gap lines suppressed)",
				p->sym, (unsigned long long)ev->expected_id,
				(unsigned long long)ev->first_id,
				(unsigned long long)missed, supp);
	} else if (ev->kind == SYNC_EV_RESYNC) {
		metric_inc(p->s_resyncs);
	}
	snprintf(a, sizeof(a), "%llu", (unsigned long long)ev->first_id);
	snprintf(b, sizeof(b), "%llu", (unsigned long long)ev->last_id);
	snprintf(c, sizeof(c), "%llu", (unsigned long long)ev->expected_id);
	write_event(p, ev->local_us, name, ev->has_first ? a : NULL,
		    ev->has_last ? b : NULL, ev->has_expected ? c : NULL,
		    detail);
}

static void cb_fetch(void *ctx, const char *symbol)
{
	struct gpair *p = ctx;

	(void)symbol;
	p->fetch_wanted = 1;
}

/* Drop the requests still held back (the connection closed). */
static void outq_clear(struct fconn *c)
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

static void send_sub(struct feed *f, struct gpair *p, int subscribe)
{
	send_subs(f, &p, 1, subscribe);
}

static void cb_resubscribe(void *ctx, const char *symbol)
{
	struct gpair *p = ctx;

	(void)symbol;
	send_sub(p->f, p, 0);
	send_sub(p->f, p, 1);
}

static struct fconn *conn_for_pair(struct feed *f);

static struct gpair *pair_new(struct feed *f, const char *norm)
{
	struct gpair *p = calloc(1, sizeof(*p));
	struct sync_cfg sc;
	struct sync_cbs cbs;

	if (p == NULL)
		return NULL;
	p->f = f;
	snprintf(p->norm, sizeof(p->norm), "%s", norm);
	if (f->v->symbol(norm, p->sym, sizeof(p->sym)) != 0)
		goto fail;
	p->symlen = strlen(p->sym);
	memset(&sc, 0, sizeof(sc));
	sc.window = f->st.window;
	sc.full_depth = f->st.full_depth;
	sc.checksum = f->v->book_checksum;
	sc.resubscribe = f->st.resubscribe;
	sc.strict = f->st.strict;
	memset(&cbs, 0, sizeof(cbs));
	cbs.ctx = p;
	cbs.row = cb_row;
	cbs.event = cb_event;
	cbs.fetch_snapshot = cb_fetch;
	cbs.resubscribe = cb_resubscribe;
	p->sync = sync_new(p->sym, f->st.mode, &sc, &cbs);
	if (p->sync == NULL)
		goto fail;
	p->c = conn_for_pair(f);
	if (p->c == NULL) {
		sync_free(p->sync);
		goto fail;
	}
	p->c->npairs++;
	p->s_msgs = rec_series(f->r, f->r->m.messages, p->sym);
	p->s_gaps = rec_series(f->r, f->r->m.gaps, p->sym);
	p->s_resyncs = rec_series(f->r, f->r->m.resyncs, p->sym);
	p->s_last = rec_series(f->r, f->r->m.last_message, p->sym);
	p->s_synced = rec_series(f->r, f->r->m.book_synced, p->sym);
	(void)rec_series(f->r, f->r->m.ticks_written, p->sym);
	return p;
fail:
	free(p);
	return NULL;
}

static void pair_free(struct gpair *p)
{
	if (p == NULL)
		return;
	if (p->fetch != NULL)
		p->fetch->p = NULL;
	if (p->c != NULL)
		p->c->npairs--;
	rollq_free(p->rq);
	sync_free(p->sync);
	free(p);
}

/* ---- snapshots over REST ---- */

static void fetch_failed(struct gpair *p, const char *why, int retry_after)
{
	int64_t delay;

	p->fetch_failures++;
	delay = (int64_t)US_PER_SEC
		<< (p->fetch_failures < 6 ? p->fetch_failures - 1 : 5);
	if (delay > FETCH_BACKOFF_CAP_US)
		delay = FETCH_BACKOFF_CAP_US;
	if (retry_after >= 0 && (int64_t)retry_after * US_PER_SEC > delay)
		delay = (int64_t)retry_after * US_PER_SEC;
	p->fetch_not_before = time_mono_us() + delay;
	log_warn("%s: snapshot: %s; retry in %lld ms", p->sym, why,
		 (long long)(delay / 1000));
	metric_inc(rec_series(p->f->r, p->f->r->m.failed, "snapshot"));
	sync_on_snapshot_failed(p->sync, time_now_us());
}

static void fetch_done(void *ud, int status, const char *body, size_t len,
		       int retry_after, const char *error)
{
	struct fetch_ctx *fc = ud;
	struct feed *f = fc->f;
	struct gpair *p = fc->p;
	struct sync_snapshot snap;
	char why[160];
	int rc;

	f->inflight--;
	free(fc);
	if (p == NULL)
		return;
	p->fetch = NULL;
	p->fetch_inflight = 0;
	if (p->removed)
		return;
	if (error != NULL || status != 200) {
		if (error == NULL)
			snprintf(why, sizeof(why), "HTTP %d", status);
		else
			log_escape(why, sizeof(why), error, strlen(error));
		fetch_failed(p, why,
			     status == 429 || status == 418 ? retry_after : -1);
		return;
	}
	rc = f->v->parse_snapshot(f->parser, body, len, &snap);
	if (rc != 0) {
		fetch_failed(p, "unparsable body", -1);
		return;
	}
	p->fetch_failures = 0;
	if (sync_on_snapshot(p->sync, &snap, time_now_us()) != 0)
		metric_inc(rec_series(f->r, f->r->m.failed, "snapshot"));
}

static void start_fetch(struct feed *f, struct gpair *p)
{
	struct fetch_ctx *fc = calloc(1, sizeof(*fc));
	char path[256], url[1024];
	size_t len;
	int rc;

	if (fc == NULL)
		return;
	fc->f = f;
	fc->p = p;
	/* The snapshot covers exactly the window the stream maintains. */
	rc = f->v->snapshot_path(&f->st, path, sizeof(path), p->sym, &len);
	if (rc == 0 && snprintf(url, sizeof(url), "%s%s", f->rest_base, path) >=
			       (int)sizeof(url))
		rc = CORE_ETOOBIG;
	/*
	 * In flight before the call: a request that fails inside it reports
	 * through fetch_done() before rest_get() returns, and must find the
	 * state it undoes (else the pair would wait forever for it).
	 */
	p->fetch_wanted = 0;
	p->fetch_inflight = 1;
	p->fetch = fc;
	f->inflight++;
	if (rc == 0)
		rc = rest_get(f->r->cx, f->r->client, url, FETCH_TIMEOUT_S,
			      fetch_done, fc);
	if (rc != 0) {
		p->fetch_inflight = 0;
		p->fetch = NULL;
		f->inflight--;
		free(fc);
		fetch_failed(p, core_strerror(rc), -1);
	}
}

/*
 * Room for one more snapshot in the venue's REST weight budget per
 * minute (Binance: a deep snapshot weighs up to 250 of 6000)?
 */
static bool weight_ok(const struct feed *f)
{
	return f->v->rest_weight_per_min == 0 ||
	       f->weight_in_window + f->st.fetch_weight <=
		       f->v->rest_weight_per_min;
}

/* Start queued fetches, a few at a time, honouring backoff. */
static void pump_fetches(struct feed *f)
{
	int64_t now = time_mono_us();

	/* The venue's own REST limit, with room to spare. */
	if (now - f->fetch_window_us >= US_PER_SEC) {
		f->fetch_window_us = now;
		f->fetches_in_window = 0;
	}
	if (now - f->weight_window_us >= 60 * US_PER_SEC) {
		f->weight_window_us = now;
		f->weight_in_window = 0;
	}
	for (size_t i = 0;
	     i < f->npairs && f->inflight < MAX_INFLIGHT_FETCH &&
	     f->fetches_in_window < f->v->max_fetch_per_s && weight_ok(f);
	     i++) {
		struct gpair *p = f->pairs[i];

		/* Synced meanwhile (a full push): the snapshot is moot. */
		if (p->fetch_wanted && !sync_fetch_wanted(p->sync)) {
			p->fetch_wanted = 0;
			sync_fetch_cancel(p->sync);
			continue;
		}
		if (p->fetch_wanted && !p->fetch_inflight && !p->removed &&
		    now >= p->fetch_not_before) {
			f->fetches_in_window++;
			f->weight_in_window += f->st.fetch_weight;
			start_fetch(f, p);
		}
	}
}

/* ---- book_snapshot_N rows ---- */

static uint64_t top_signature(const struct book *b, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (int side = 0; side < 2; side++)
		for (size_t i = 0; i < n && i < book_count(b, side); i++) {
			const struct book_level *l = book_level(b, side, i);

			for (size_t k = 0; k < l->price_len; k++)
				h = (h ^ (uint8_t)l->price[k]) *
				    1099511628211ull;
			for (size_t k = 0; k < l->amount_len; k++)
				h = (h ^ (uint8_t)l->amount[k]) *
				    1099511628211ull;
			h = (h ^ 0xff) * 1099511628211ull;
		}
	return h;
}

static void write_top_n(struct gpair *p, int64_t now_us)
{
	const struct book *b = sync_book(p->sync);
	size_t n = (size_t)p->f->cfg->snapshot_depth, nf = 4 + 4 * n, k = 4;
	char ts[24], lts[24];
	char(*txt)[BOOK_TEXT_MAX + 1];
	const char **fields;

	txt = calloc(4 * n, sizeof(*txt));
	fields = calloc(nf, sizeof(*fields));
	if (txt == NULL || fields == NULL)
		goto out;
	fields[0] = p->f->r->exchange;
	fields[1] = p->sym;
	/* The exchange time of the message that made this book. */
	fields[2] = fmt_i64(ts, sizeof(ts),
			    sync_book_ts(p->sync) > 0 ? sync_book_ts(p->sync)
						      : now_us);
	fields[3] = fmt_i64(lts, sizeof(lts), now_us);
	for (size_t i = 0; i < n; i++)
		for (int side = 1; side >= 0; side--) {
			const struct book_level *l =
				i < book_count(b, side) ? book_level(b, side, i)
							: NULL;
			char *pr = txt[k - 4], *am = txt[k - 3];

			if (l != NULL) {
				snprintf(pr, BOOK_TEXT_MAX + 1, "%.*s",
					 (int)l->price_len, l->price);
				snprintf(am, BOOK_TEXT_MAX + 1, "%.*s",
					 (int)l->amount_len, l->amount);
			}
			fields[k++] = pr;
			fields[k++] = am;
		}
	(void)queue_row(p, SINK_SNAPSHOT, now_us, fields, nf);
out:
	free(txt);
	free((void *)fields);
}

static void maybe_top_n(struct gpair *p, int64_t now_us)
{
	const struct recorder_config *c = p->f->cfg;

	if (!(c->datasets & DATASET_BOOK_SNAPSHOT) || !sync_synced(p->sync))
		return;
	if (c->snapshot_interval <= 0) {
		uint64_t sig = top_signature(sync_book(p->sync),
					     (size_t)c->snapshot_depth);

		if (sig != p->top_sig) {
			p->top_sig = sig;
			write_top_n(p, now_us);
		}
		return;
	}
	if (now_us >= p->next_snap_us) {
		int64_t iv = (int64_t)(c->snapshot_interval * 1e6);

		write_top_n(p, now_us);
		/* Keep rows on interval boundaries (e.g. :00, :05). */
		p->next_snap_us = (now_us / iv + 1) * iv;
	}
}

/* ---- the WebSocket connections ---- */

static int conns_all_up(const struct feed *f)
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

static void roll_subscribe(struct feed *f, struct fconn *s, int64_t now);
static void roll_conn_closed(struct feed *f, struct fconn *c, int64_t now);
static void roll_queue(struct gpair *p, const struct sync_update *u,
		       int64_t now);
static void roll_try(struct gpair *p, int64_t now);

/* Subscribe every live pair of c, in requests of max_per_request. */
static void subscribe_conn(struct feed *f, struct fconn *c, int64_t now)
{
	struct gpair *batch[64];
	size_t n = 0, max = f->v->max_per_request;

	if (max == 0 || max > CORE_ARRAY_LEN(batch))
		max = CORE_ARRAY_LEN(batch);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != c || p->removed)
			continue;
		p->rejected = 0;
		if (c->connections > 1)
			write_event(p, now, "reconnect", NULL, NULL, NULL,
				    "connection re-established");
		batch[n++] = p;
		if (n == max) {
			send_subs(f, batch, n, 1);
			n = 0;
		}
	}
	if (n > 0)
		send_subs(f, batch, n, 1);
}

static void on_established(void *ud)
{
	struct fconn *c = ud;
	struct feed *f = c->f;

	c->connections++;
	if (c->connections > 1)
		metric_inc(f->s_reconn);
	metric_set(f->s_conn, conns_all_up(f));
	c->last_data_us = c->opened_us = time_mono_us();
	c->roll_not_before = 0;
	c->shutdown_notice = 0;
	if (f->paused)
		wsconn_pause(c->ws, 1);
	if (c->pred != NULL)
		roll_subscribe(f, c, time_now_us());
	else
		subscribe_conn(f, c, time_now_us());
}

static void on_closed(void *ud, const char *reason)
{
	struct fconn *c = ud;
	struct feed *f = c->f;
	int64_t now = time_now_us();

	if (c->retired)
		return; /* replaced by a rollover: nothing was on it */
	metric_inc(rec_series(f->r, f->r->m.disconnections, reason));
	roll_conn_closed(f, c, now);
	metric_set(f->s_conn, conns_all_up(f));
	outq_clear(c);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != c)
			continue;
		p->fetch_wanted = 0;
		p->sub_sent_us = 0;
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

static void on_update(struct fconn *c, struct venue_msg *m, int64_t recv_us)
{
	struct feed *f = c->f;
	struct gpair *p = pair_find(f, m->symbol);
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
			roll_queue(p, &m->update, recv_us);
		return;
	}
	p->msgs_unpub++;
	p->last_msg_us = recv_us;
	/* Each hourly file opens with the whole book. */
	if (p->last_l2_hour != 0 && hour != p->last_l2_hour &&
	    sync_synced(p->sync))
		(void)sync_emit_snapshot(p->sync, recv_us);
	if (sync_on_update(p->sync, &m->update, recv_us) != 0)
		metric_inc(rec_series(f->r, f->r->m.failed, "invalid_update"));
	if (p->next_c != NULL)
		roll_try(p, recv_us); /* may switch p to the successor */
	if (f->cfg->snapshot_interval <= 0)
		maybe_top_n(p, recv_us);
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

/*
 * Start the connections not started yet, at most the venue's
 * max_connects_per_s a second (OKX: 3 connection requests a second per
 * IP); the tick starts the rest. Reconnects are paced by their backoff.
 */
static void start_conns(struct feed *f)
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
static struct fconn *conn_alloc(struct feed *f)
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
	struct fconn *c = conn_alloc(f);

	if (c == NULL)
		return NULL;
	f->conns[f->nconns++] = c;
	if (f->started)
		start_conns(f);
	return c;
}

/*
 * The connection a new pair goes on: the first with room under the
 * venue's streams-per-connection limit (MEXC: 30), or a new one.
 */
static struct fconn *conn_for_pair(struct feed *f)
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
static void maybe_resume(struct feed *f, int64_t mono)
{
	if (!f->paused)
		return;
	if (sink_fill_percent(f->r->sink) > RESUME_AT_PERCENT &&
	    mono - f->paused_at < PAUSE_MAX_US)
		return;
	f->paused = 0;
	pause_all(f, 0);
}

/* ---- planned reconnects (rollover) ----
 *
 * Exchanges end connections on their own schedule (MEXC and Binance
 * after 24 h, Binance with a serverShutdown notice). Before that, the
 * feed opens a successor for the same pairs and subscribes them there
 * (one rollover per feed at a time, which staggers the connections of a
 * large recorder and keeps within connect-rate limits). Each pair keeps
 * its one sync, fed by its own connection p->c only; the successor's
 * messages that run ahead of the book are copied to the pair's rollq.
 * After every message the pair tries to switch (roll_try):
 * - queued messages the book already covers are dropped; when the head
 *   bridges the book (U <= last+1 <= u), or nothing is queued and the
 *   successor's latest message ended at or before the book (its next
 *   one continues from there), the pair switches: a "rollover" event
 *   names the id, p->c becomes the successor, and the queued messages
 *   go to the sync with a one-shot overlap allowance (a collapsed diff
 *   of absolute amounts is exact at u whatever it overlaps);
 * - from then on, the old connection's messages for the pair are
 *   ignored, and once no pair is left on it, it is closed for good.
 * An unplanned close of the old connection moves its pairs to the
 * successor at once, through the same switch when they are subscribed
 * there (bridging: no hole; ahead: the usual gap and resync), else as a
 * plain reconnect. A close of the successor, or
 * pairs that do not catch up within half the margin, abandon the
 * rollover for the pairs not yet switched: they stay where they are,
 * and a later close takes the usual reconnect path.
 */

static int64_t conn_lifetime_us(const struct feed *f)
{
	if (f->cfg->conn_lifetime > 0)
		return (int64_t)(f->cfg->conn_lifetime * 1e6);
	return f->v->lifetime_us;
}

static int64_t roll_margin_us(const struct feed *f)
{
	int64_t life = conn_lifetime_us(f);
	int64_t margin = (int64_t)(f->cfg->rollover_margin * 1e6);

	/* A margin as long as the lifetime would roll at once, forever. */
	return life > 0 && margin >= life ? life / 2 : margin;
}

static void roll_subscribe(struct feed *f, struct fconn *s, int64_t now)
{
	struct gpair *batch[64];
	size_t n = 0, max = f->v->max_per_request;

	if (max == 0 || max > CORE_ARRAY_LEN(batch))
		max = CORE_ARRAY_LEN(batch);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != s->pred || p->removed)
			continue;
		if (p->rq == NULL)
			p->rq = rollq_new(ROLLQ_MSGS, ROLLQ_BYTES);
		if (p->rq == NULL)
			continue; /* stays behind; the give-up handles it */
		p->next_c = s;
		p->next_last = 0;
		p->roll_since_us = now;
		batch[n++] = p;
		if (n == max) {
			send_subs_on(f, s, batch, n, 1, 1);
			n = 0;
		}
	}
	if (n > 0)
		send_subs_on(f, s, batch, n, 1, 1);
}

static void roll_start(struct feed *f, struct fconn *c, int64_t mono,
		       const char *why)
{
	struct fconn *s = conn_alloc(f);

	if (s == NULL) {
		c->roll_not_before = mono + ROLL_RETRY_MAX_US;
		return;
	}
	s->pred = c;
	c->succ = s;
	f->rolling = c;
	f->roll_started = mono;
	log_notice("connection %u: %s: opening connection %u for its pairs",
		   c->no, why, s->no);
	s->ws_started = 1;
	wsconn_start(s->ws);
}

/* Put c on the retired list and close it for good. */
static void retire(struct feed *f, struct fconn *c, const char *why)
{
	c->retired = 1;
	c->next_old = f->retired;
	f->retired = c;
	wsconn_close(c->ws, why);
}

/* The rollover of f->rolling is over: its successor takes its place. */
static void roll_finish(struct feed *f)
{
	struct fconn *old = f->rolling, *s = old->succ;

	for (size_t i = 0; i < f->nconns; i++)
		if (f->conns[i] == old)
			f->conns[i] = s;
	s->pred = NULL;
	old->succ = NULL;
	f->rolling = NULL;
	log_notice("connection %u: every pair is on connection %u: closing it",
		   old->no, s->no);
	retire(f, old, "rollover complete");
	metric_set(f->s_conn, conns_all_up(f));
}

static void roll_maybe_finish(struct feed *f)
{
	if (f->rolling == NULL)
		return;
	for (size_t i = 0; i < f->npairs; i++)
		if (f->pairs[i]->c == f->rolling && !f->pairs[i]->removed)
			return;
	roll_finish(f);
}

static void roll_forget(struct gpair *p)
{
	p->next_c = NULL;
	p->next_last = 0;
	p->next_sub_id = 0;
	p->next_acked = 0;
	rollq_free(p->rq);
	p->rq = NULL;
}

/* Move p to its successor at the book's id and replay what it queued. */
static void roll_switch(struct gpair *p, int64_t now, const char *why)
{
	struct feed *f = p->f;
	struct fconn *old = p->c, *s = p->next_c;
	struct sync_update u;
	char detail[96], last[24];

	snprintf(detail, sizeof(detail), "connection %u -> %u%s", old->no,
		 s->no, why);
	snprintf(last, sizeof(last), "%llu",
		 (unsigned long long)sync_last_id(p->sync));
	write_event(p, now, "rollover", NULL, last, NULL, detail);
	metric_inc(f->s_roll);
	metric_observe(f->s_rollsec, (double)(now - p->roll_since_us) / 1e6);
	old->npairs--;
	s->npairs++;
	p->c = s;
	p->sub_id = p->next_sub_id;
	p->sub_sent_us = 0;
	p->skip_ack = !p->next_acked;
	sync_allow_bridge(p->sync);
	while (rollq_head(p->rq, &u) == 0) {
		if (sync_on_update(p->sync, &u, now) != 0)
			metric_inc(rec_series(f->r, f->r->m.failed,
					      "invalid_update"));
		rollq_pop(p->rq);
	}
	roll_forget(p);
}

static void roll_queue(struct gpair *p, const struct sync_update *u,
		       int64_t now)
{
	p->next_last = u->last_id;
	if (!sync_synced(p->sync) || u->last_id > sync_last_id(p->sync)) {
		/* What could not be kept cannot be continued from. */
		if (rollq_push(p->rq, u) != 0)
			p->next_last = 0;
	}
	roll_try(p, now);
}

static void roll_try(struct gpair *p, int64_t now)
{
	struct sync_update u;
	uint64_t last;

	if (!sync_synced(p->sync))
		return;
	last = sync_last_id(p->sync);
	rollq_trim(p->rq, last);
	if (rollq_head(p->rq, &u) == 0) {
		/* Ahead: wait for the book, which the old one still feeds. */
		if (u.full || !u.has_first || u.first_id > last + 1)
			return;
	} else if (p->next_last == 0 || p->next_last > last) {
		return;
	}
	roll_switch(p, now, "");
	roll_maybe_finish(p->f);
}

/*
 * Give up the rollover of f->rolling for the pairs not yet switched.
 * A successor that took some pairs stays as a connection of its own.
 */
static void roll_abandon(struct feed *f, const char *why, int64_t mono,
			 int64_t retry_us)
{
	struct fconn *old = f->rolling, *s = old->succ;
	size_t kept = 0;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->next_c == s)
			roll_forget(p);
		if (p->c == s && !p->removed)
			kept++;
	}
	old->succ = NULL;
	s->pred = NULL;
	f->rolling = NULL;
	old->roll_not_before = mono + retry_us;
	metric_inc(f->s_rollfail);
	log_warn("connection %u: rollover to connection %u abandoned: %s "
		 "(%zu pairs moved)",
		 old->no, s->no, why, kept);
	if (kept > 0)
		f->conns[f->nconns++] = s; /* conn_alloc kept the slot */
	else
		retire(f, s, why);
}

/* The old connection of a rollover closed: its pairs move now. */
static void roll_old_lost(struct feed *f, struct fconn *old, int64_t now)
{
	struct fconn *s = old->succ;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != old || p->removed)
			continue;
		/*
		 * Subscribed there: the successor's stream continues the
		 * book if it started early enough (its first diff bridges
		 * or is stale), else the sync sees a gap and resyncs.
		 */
		if (p->next_c == s && p->next_sub_id != 0 &&
		    sync_synced(p->sync)) {
			roll_switch(p, now, ", the old one closed");
			continue;
		}
		/* Not subscribed on the successor yet: a reconnect. */
		old->npairs--;
		s->npairs++;
		p->c = s;
		p->fetch_wanted = 0;
		if (sync_state(p->sync) != SYNC_IDLE)
			sync_on_disconnect(p->sync, now);
		if (p->next_c == s && p->next_acked) {
			sync_on_subscribed(p->sync, now);
		} else if (p->next_c == s && p->next_sub_id != 0) {
			p->sub_id = p->next_sub_id;
			p->sub_sent_us = now;
		}
		roll_forget(p);
	}
	wsconn_stop(old->ws); /* no reconnect: the successor has it all */
	roll_finish(f);
}

static void roll_conn_closed(struct feed *f, struct fconn *c, int64_t now)
{
	int64_t retry = roll_margin_us(f) / 4;

	if (c->succ != NULL) {
		roll_old_lost(f, c, now);
	} else if (c->pred != NULL) {
		if (retry > ROLL_RETRY_MAX_US)
			retry = ROLL_RETRY_MAX_US;
		roll_abandon(f, "the new connection closed", time_mono_us(),
			     retry);
	}
}

static void roll_tick(struct feed *f, int64_t mono)
{
	int64_t life = conn_lifetime_us(f);
	int64_t margin = roll_margin_us(f);

	if (f->rolling != NULL) {
		/* Pairs that have not caught up by half the margin stay:
		 * the old connection's close is then a plain reconnect. */
		if (mono - f->roll_started > margin / 2)
			roll_abandon(f, "pairs did not catch up in time", mono,
				     INT64_MAX / 2);
		return;
	}
	if (!f->cfg->rollover)
		return;
	for (size_t i = 0; i < f->nconns; i++) {
		struct fconn *c = f->conns[i];

		if (!wsconn_is_up(c->ws) || c->npairs == 0 ||
		    mono < c->roll_not_before)
			continue;
		if (c->shutdown_notice) {
			roll_start(f, c, mono, "shutdown notice");
			return;
		}
		if (life > 0 && mono - c->opened_us >= life - margin) {
			roll_start(f, c, mono, "lifetime near");
			return;
		}
	}
}

/* Free the retired connections whose links are gone. */
static void reap_retired(struct feed *f)
{
	struct fconn **pp = &f->retired;

	while (*pp != NULL) {
		struct fconn *c = *pp;
		int used = !wsconn_is_done(c->ws);

		for (size_t i = 0; i < f->npairs && !used; i++)
			used = f->pairs[i]->c == c || f->pairs[i]->next_c == c;
		if (used) {
			pp = &c->next_old;
			continue;
		}
		*pp = c->next_old;
		wsconn_free(c->ws);
		free(c);
	}
}

/* ---- periodic work ---- */

static void owe_snapshot(void *ud, const char *symbol)
{
	struct gpair *p = pair_find(ud, symbol);

	if (p != NULL)
		p->resnap = 1;
}

/*
 * Report rows lost to a full queue, stamped at the first loss, and make
 * the data whole again: the pair's next rows are a fresh snapshot block
 * (written here, or by the sync itself once a resync completes).
 */
static void settle_losses(struct gpair *p, int64_t now)
{
	char detail[96];

	if (p->lost_rows != 0) {
		uint64_t n = p->lost_rows;
		int64_t since = p->lost_since_us;

		p->lost_rows = 0;
		snprintf(detail, sizeof(detail),
			 "%llu rows lost: writer queue full",
			 (unsigned long long)n);
		write_event(p, since, "dropped", NULL, NULL, NULL, detail);
		if (p->lost_rows != 0) {
			/* Still full: try next tick, from the same start. */
			p->lost_rows += n;
			p->lost_since_us = since;
			return;
		}
		log_warn("%s: %s", p->sym, detail);
		p->resnap = 1;
	}
	if (!p->resnap)
		return;
	p->resnap = 0;
	p->holding = 0;
	if (sync_synced(p->sync))
		(void)sync_emit_snapshot(p->sync, now);
}

/*
 * Every wait has a deadline: a subscribe never acked, a refused or lost
 * resubscribe, a full push that never comes, a snapshot request lost on
 * the way. Past SYNC_DEADLINE_US (or stale_after, when shorter: such a
 * pair is stale anyway) the pair starts over, and says so.
 */
static void check_deadline(struct feed *f, struct gpair *p, int64_t now)
{
	enum sync_state st = sync_state(p->sync);
	int64_t since = sync_state_since(p->sync);
	int64_t limit = (int64_t)(f->cfg->stale_after * 1e6);

	if (st == SYNC_SYNCED || p->rejected || p->fetch_inflight ||
	    (st == SYNC_IDLE && p->sub_sent_us == 0))
		return;
	if (st == SYNC_WAIT_SNAPSHOT && p->sub_sent_us == 0) {
		/* The fetch machinery retries with backoff; re-queue a
		 * request that was asked for and then lost. */
		if (!p->fetch_wanted && sync_fetch_wanted(p->sync))
			p->fetch_wanted = 1;
		return;
	}
	if (p->sub_sent_us > since)
		since = p->sub_sent_us;
	if (p->kicked_us > since)
		since = p->kicked_us;
	if (limit > SYNC_DEADLINE_US)
		limit = SYNC_DEADLINE_US;
	if (now - since < limit)
		return;
	p->kicked_us = now;
	log_warn("%s: not synced %.1f s after %s: subscribing again", p->sym,
		 (double)limit / 1e6,
		 p->sub_sent_us ? "subscribing" : "resyncing");
	metric_inc(p->s_resyncs);
	write_event(p, now, "resync", NULL, NULL, NULL,
		    p->sub_sent_us ? "no subscribe ack in time"
				   : "no full push in time");
	send_sub(f, p, 0);
	send_sub(f, p, 1);
}

/* Every hourly file opens with the book, quiet pairs' files too. */
static void hour_start_block(struct gpair *p, int64_t now)
{
	if (p->holding || !sync_synced(p->sync) || p->last_l2_hour == 0 ||
	    time_hour_floor(now) == p->last_l2_hour)
		return;
	(void)sync_emit_snapshot(p->sync, now);
}

static void reap_removed(struct feed *f)
{
	size_t j = 0;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->removed == 2 ||
		    (p->removed && !wsconn_is_up(p->c->ws))) {
			pair_free(p); /* detaches a fetch in flight */
			continue;
		}
		f->pairs[j++] = p;
	}
	if (j != f->npairs) {
		f->npairs = j;
		index_rebuild(f);
	}
}

/*
 * Per-message figures are kept in the pair and published here (every
 * tick and before each /metrics answer), so the hot path takes no
 * registry lock for them.
 */
void feed_publish(struct feed *f)
{
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->msgs_unpub != 0) {
			metric_add(p->s_msgs, (double)p->msgs_unpub);
			p->msgs_unpub = 0;
		}
		if (p->last_msg_us != 0)
			metric_set(p->s_last, (double)p->last_msg_us / 1e6);
		metric_set(p->s_synced,
			   !p->removed && sync_synced(p->sync) ? 1 : 0);
	}
}

/* Remember when the writer last failed, for /healthz. */
static void note_write_errors(struct feed *f, int64_t now_us)
{
	struct sink_stats st;

	sink_stats(f->r->sink, &st);
	if (st.write_errors > f->seen_write_errors) {
		f->seen_write_errors = st.write_errors;
		f->last_write_error_us = now_us;
	}
}

/* A connection's watchdog and keepalive. */
static void conn_tick(struct feed *f, struct fconn *c, int64_t mono,
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

void feed_tick(struct feed *f, int64_t now_us)
{
	int64_t mono = time_mono_us();

	feed_publish(f);
	note_write_errors(f, now_us);
	maybe_resume(f, mono);
	sink_take_resnapshots(f->r->sink, owe_snapshot, f);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->removed)
			continue;
		settle_losses(p, now_us);
		hour_start_block(p, now_us);
		if (wsconn_is_up(p->c->ws))
			check_deadline(f, p, now_us);
		if (f->cfg->snapshot_interval > 0)
			maybe_top_n(p, now_us);
	}
	if (f->started)
		start_conns(f);
	pump_fetches(f);
	reap_removed(f);
	for (size_t i = 0; i < f->nconns; i++)
		conn_tick(f, f->conns[i], mono, now_us);
	if (f->rolling != NULL)
		conn_tick(f, f->rolling->succ, mono, now_us);
	roll_tick(f, mono);
	reap_retired(f);
}

/* ---- health ---- */

static const char *state_name(enum sync_state st)
{
	switch (st) {
	case SYNC_IDLE:
		return "idle";
	case SYNC_WAIT_SNAPSHOT:
		return "waiting_snapshot";
	case SYNC_WAIT_FULL:
		return "waiting_full";
	case SYNC_SYNCED:
		return "synced";
	}
	return "unknown";
}

int feed_health(struct feed *f, char **body, size_t *blen, int *status)
{
	int64_t now = time_now_us();
	int64_t stale = (int64_t)(f->cfg->stale_after * 1e6);
	struct buf b;
	int up = conns_all_up(f), ok = up, rc = 0, first = 1;
	/* Receiving is not recording: a recent write error is unhealthy
	 * too (the old collector's check said yes whatever the disk did). */
	int writing = f->last_write_error_us == 0 ||
		      now - f->last_write_error_us > stale;

	*body = NULL;
	buf_init(&b, 0);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (!p->removed &&
		    (!sync_synced(p->sync) || p->last_msg_us == 0 ||
		     now - p->last_msg_us > stale))
			ok = 0;
	}
	ok = ok && writing;
	rc = buf_printf(&b,
			"{\"status\":\"%s\",\"exchange\":\"%s\","
			"\"connected\":%s,\"writing\":%s,\"pairs\":[",
			ok ? "ok" : "degraded", f->r->exchange,
			up ? "true" : "false", writing ? "true" : "false");
	for (size_t i = 0; rc == 0 && i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];
		double age = p->last_msg_us
				     ? (double)(now - p->last_msg_us) / 1e6
				     : -1;

		if (p->removed)
			continue;
		rc = buf_printf(&b,
				"%s{\"pair\":\"%s\",\"symbol\":\"%s\","
				"\"state\":\"%s\",\"rejected\":%s,"
				"\"last_update_id\":%llu,"
				"\"last_message_age_seconds\":%.3f}",
				first ? "" : ",", p->norm, p->sym,
				state_name(sync_state(p->sync)),
				p->rejected ? "true" : "false",
				(unsigned long long)sync_last_id(p->sync), age);
		first = 0;
	}
	if (rc == 0)
		rc = buf_printf(&b, "]}\n");
	if (rc != 0) {
		buf_release(&b);
		return rc;
	}
	if ((*body = buf_detach(&b, blen)) == NULL)
		return CORE_ENOMEM;
	*status = ok ? 200 : 503;
	return 0;
}

/* ---- lifecycle ---- */

int feed_set_pairs(struct feed *f, char *const *pairs, size_t npairs)
{
	struct gpair **np;
	size_t n = f->npairs;

	/* Room for every pair that may be added, removed ones included. */
	np = realloc(f->pairs, (f->npairs + npairs + 1) * sizeof(*np));
	if (np == NULL)
		return CORE_ENOMEM;
	f->pairs = np;
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];
		int keep = 0;

		for (size_t k = 0; k < npairs && !keep; k++)
			keep = strcmp(p->norm, pairs[k]) == 0;
		if (!keep && !p->removed) {
			p->removed = 1;
			write_event(p, time_now_us(), "shutdown", NULL, NULL,
				    NULL, "pair removed by reload");
			if (wsconn_is_up(p->c->ws))
				send_sub(f, p, 0);
			log_notice("%s: removed", p->sym);
		}
	}
	for (size_t k = 0; k < npairs; k++) {
		struct gpair *p = NULL;

		for (size_t i = 0; i < n; i++)
			if (strcmp(f->pairs[i]->norm, pairs[k]) == 0 &&
			    !f->pairs[i]->removed)
				p = f->pairs[i];
		if (p != NULL)
			continue;
		p = pair_new(f, pairs[k]);
		if (p == NULL)
			return CORE_ENOMEM;
		f->pairs[f->npairs++] = p;
		if (n > 0)
			log_notice("%s: added", p->sym);
		if (wsconn_is_up(p->c->ws))
			send_sub(f, p, 1);
	}
	index_rebuild(f);
	sink_commit(f->r->sink);
	return 0;
}

struct feed *feed_new(struct rec *r)
{
	struct feed *f = calloc(1, sizeof(*f));
	const struct recorder_config *c = r->cfg;

	if (f == NULL)
		return NULL;
	f->r = r;
	f->cfg = c;
	f->exlen = strlen(r->exchange);
	f->v = venue_find(c->exchange);
	if (f->v == NULL || f->v->stream(c, &f->st) != 0) {
		log_err("%s: no %s stream for channel '%s'", c->path,
			r->exchange, c->channel ? c->channel : "(default)");
		free(f);
		return NULL;
	}
	/* depth_limit picks the stream; the book is its whole window. */
	if ((size_t)c->depth_limit > f->st.window)
		log_notice("depth_limit %ld is deeper than the stream: "
			   "recording %s",
			   (long)c->depth_limit, f->st.desc);
	snprintf(f->rest_base, sizeof(f->rest_base), "%s",
		 c->rest_url ? c->rest_url : f->v->rest_url);
	snprintf(f->ws_url, sizeof(f->ws_url), "%s",
		 c->ws_url ? c->ws_url : f->v->ws_url);
	f->parser = f->v->parser_new();
	f->s_conn = rec_series(r, r->m.conn_status, NULL);
	f->s_reconn = rec_series(r, r->m.reconnections, NULL);
	f->s_lat = rec_series(r, r->m.latency, NULL);
	f->s_qdrop = rec_series(r, r->m.rows_dropped, "queue_full");
	f->s_roll = rec_series(r, r->m.rollovers, NULL);
	f->s_rollfail = rec_series(r, r->m.rollovers_failed, NULL);
	f->s_rollsec = rec_series(r, r->m.rollover_secs, NULL);
	if (f->parser == NULL || feed_set_pairs(f, c->pairs, c->npairs) != 0) {
		feed_free(f);
		return NULL;
	}
	return f;
}

int feed_start(struct feed *f)
{
	metric_set(f->s_conn, 0);
	f->started = 1;
	start_conns(f);
	return 0;
}

void feed_stop(struct feed *f)
{
	int64_t now = time_now_us();

	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nconns; i++)
		wsconn_stop(f->conns[i]->ws);
	if (f->rolling != NULL)
		wsconn_stop(f->rolling->succ->ws);
	for (size_t i = 0; i < f->npairs; i++)
		if (!f->pairs[i]->removed)
			write_event(f->pairs[i], now, "shutdown", NULL, NULL,
				    NULL, "recorder stopping");
	sink_commit(f->r->sink);
}

void feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->npairs; i++)
		pair_free(f->pairs[i]);
	free(f->pairs);
	free(f->index);
	for (size_t i = 0; i < f->nconns; i++) {
		wsconn_free(f->conns[i]->ws);
		outq_clear(f->conns[i]);
		free(f->conns[i]);
	}
	free(f->conns);
	if (f->rolling != NULL) {
		wsconn_free(f->rolling->succ->ws);
		free(f->rolling->succ);
	}
	while (f->retired != NULL) {
		struct fconn *c = f->retired;

		f->retired = c->next_old;
		wsconn_free(c->ws);
		free(c);
	}
	if (f->parser != NULL)
		f->v->parser_free(f->parser);
	free(f);
}
