/*
 * The feed's book snapshots over REST: queued per pair by its sync
 * machine, started a few at a time within the venue's request and
 * weight budgets, retried with backoff, and handed back to the sync.
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "rec.h"
#include "rest.h"
#include "sync.h"
#include "timeutil.h"
#include "venue.h"
#include "banned.h"

#define MAX_INFLIGHT_FETCH   4
#define FETCH_TIMEOUT_S	     15
#define FETCH_BACKOFF_CAP_US (30 * US_PER_SEC)

void feed__cb_fetch(void *ctx, const char *symbol)
{
	struct gpair *p = ctx;

	(void)symbol;
	p->fetch_wanted = 1;
}

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
void feed__pump_fetches(struct feed *f)
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
