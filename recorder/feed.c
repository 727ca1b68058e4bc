/*
 * The generic exchange feed: its lifecycle, its pairs (added and removed
 * by a reload, found by symbol), the tick that drives its periodic work,
 * and its /healthz answer. Everything that names an exchange is behind
 * its venue (venue.h: venue_gateio.c, venue_mexc.c, venue_binance.c,
 * venue_okx.c), including the limits the feed enforces for it: requests
 * and new connections per second, REST requests per second and REST
 * weight per minute.
 *
 * The rest of the feed, over the structures in feed_int.h: feed_conn.c
 * the connections and the per-message path, feed_rest.c the REST
 * snapshots, feed_roll.c the planned reconnects (rollover), feed_rows.c
 * the rows and events given to the writer (sink.c). Each pair's book is
 * its sync machine's (sync.h).
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "core.h"
#include "hash.h"
#include "log.h"
#include "rec.h"
#include "rollq.h"
#include "sink.h"
#include "sync.h"
#include "timeutil.h"
#include "venue.h"
#include "wsconn.h"
#include "banned.h"

#define SYNC_DEADLINE_US (15 * US_PER_SEC)

static size_t sym_slot(const struct feed *f, const char *sym)
{
	return hash_slot(hash_add(HASH_INIT, sym, strlen(sym)), f->index_mask);
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
			size_t k = sym_slot(f, p->sym);

			if ((p->removed != 0) != (pass == 1))
				continue;
			while (f->index[k] != NULL)
				k = (k + 1) & f->index_mask;
			f->index[k] = p;
		}
}

struct gpair *feed__pair_find(struct feed *f, const char *sym)
{
	size_t k;

	if (f->index == NULL) {
		for (size_t i = 0; i < f->npairs; i++)
			if (strcmp(f->pairs[i]->sym, sym) == 0)
				return f->pairs[i];
		return NULL;
	}
	for (k = sym_slot(f, sym); f->index[k] != NULL;
	     k = (k + 1) & f->index_mask)
		if (strcmp(f->index[k]->sym, sym) == 0)
			return f->index[k];
	return NULL;
}

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
	cbs.row = feed__cb_row;
	cbs.event = feed__cb_event;
	cbs.fetch_snapshot = feed__cb_fetch;
	cbs.resubscribe = feed__cb_resubscribe;
	p->sync = sync_new(p->sym, f->st.mode, &sc, &cbs);
	if (p->sync == NULL)
		goto fail;
	p->c = feed__conn_for_pair(f);
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
	sync_free(p->shadow);
	sync_free(p->sync);
	free(p);
}

/* ---- periodic work ---- */

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
	feed__write_event(p, now, "resync", NULL, NULL, NULL,
			  p->sub_sent_us ? "no subscribe ack in time"
					 : "no full push in time");
	feed__send_sub(f, p, 0);
	feed__send_sub(f, p, 1);
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

void feed_tick(struct feed *f, int64_t now_us)
{
	int64_t mono = time_mono_us();

	feed_publish(f);
	note_write_errors(f, now_us);
	feed__maybe_resume(f, mono);
	sink_take_resnapshots(f->r->sink, feed__owe_snapshot, f);
	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->removed)
			continue;
		feed__settle_losses(p, now_us);
		feed__hour_start_block(p, now_us);
		if (wsconn_is_up(p->c->ws))
			check_deadline(f, p, now_us);
		if (f->cfg->snapshot_interval > 0)
			feed__maybe_top_n(p, now_us);
	}
	if (f->started)
		feed__start_conns(f);
	feed__pump_fetches(f);
	reap_removed(f);
	for (size_t i = 0; i < f->nconns; i++)
		feed__conn_tick(f, f->conns[i], mono, now_us);
	if (f->rolling != NULL)
		feed__conn_tick(f, f->rolling->succ, mono, now_us);
	feed__roll_tick(f, mono);
	feed__reap_retired(f);
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
	int up = feed__conns_all_up(f), ok = up, rc = 0, first = 1;
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
			feed__write_event(p, time_now_us(), "shutdown", NULL,
					  NULL, NULL, "pair removed by reload");
			if (wsconn_is_up(p->c->ws))
				feed__send_sub(f, p, 0);
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
			feed__send_sub(f, p, 1);
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
	feed__start_conns(f);
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
			feed__write_event(f->pairs[i], now, "shutdown", NULL,
					  NULL, NULL, "recorder stopping");
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
		feed__outq_clear(f->conns[i]);
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
