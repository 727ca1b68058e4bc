/*
 * The feed's rows and events into the writer (sink.c): the per-level
 * incremental_book_L2 rows the sync machines emit (the hot path), the
 * book_events rows, the book_snapshot_N rows, and the snapshot blocks
 * that open each hour and close each hole.
 *
 * Rows and hours: before a message is applied, a pair whose last
 * incremental row was in an earlier UTC hour first writes its whole book
 * as a snapshot block stamped with the message's receive time, so every
 * hourly file begins with one and can be read alone.
 *
 * Losses: a row the writer queue cannot take is counted; once the queue
 * has room again the pair writes a "dropped" event and a fresh snapshot
 * block, so the data says where it has a hole and is whole again after.
 * A failed write is handled by the writer itself (sink.c): it holds the
 * pair's diffs back until a snapshot block it asks for here arrives.
 */
#include "feed_int.h"

#include <stdio.h>
#include <stdlib.h>

#include "book.h"
#include "core.h"
#include "log.h"
#include "rec.h"
#include "sink.h"
#include "sync.h"
#include "timeutil.h"
#include "banned.h"

static char *fmt_i64(char *buf, size_t size, int64_t v)
{
	snprintf(buf, size, "%lld", (long long)v);
	return buf;
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

void feed__write_event(struct gpair *p, int64_t local_us, const char *name,
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

/* The hot path: one row per level changed, spans passed as they are;
 * the writer makes the rest of the row. */
void feed__cb_row(void *ctx, const struct sync_row *r)
{
	struct gpair *p = ctx;
	struct feed *f = p->f;

	p->last_l2_hour = time_hour_floor(r->local_us);
	if (!(f->cfg->datasets & DATASET_INCREMENTAL_L2))
		return;
	if (p->holding) {
		count_lost(p, CORE_ENOSPACE, r->local_us);
		return;
	}
	count_lost(p,
		   sink_l2_row(
			   f->r->sink, p->sym, p->symlen, r->ts_us, r->local_us,
			   (r->is_snapshot ? SINK_ROW_SNAPSHOT : 0) |
				   (r->block_start ? SINK_ROW_BLOCK_START : 0) |
				   (r->side == BOOK_BID ? 0 : SINK_ROW_ASK),
			   r->price, r->price_len, r->amount, r->amount_len),
		   r->local_us);
}

void feed__cb_event(void *ctx, const struct sync_event *ev)
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
	feed__write_event(p, ev->local_us, name, ev->has_first ? a : NULL,
			  ev->has_last ? b : NULL, ev->has_expected ? c : NULL,
			  detail);
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

void feed__maybe_top_n(struct gpair *p, int64_t now_us)
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

/* ---- losses and hour starts ---- */

void feed__owe_snapshot(void *ud, const char *symbol)
{
	struct gpair *p = feed__pair_find(ud, symbol);

	if (p != NULL)
		p->resnap = 1;
}

/*
 * Report rows lost to a full queue, stamped at the first loss, and make
 * the data whole again: the pair's next rows are a fresh snapshot block
 * (written here, or by the sync itself once a resync completes).
 */
void feed__settle_losses(struct gpair *p, int64_t now)
{
	char detail[96];

	if (p->lost_rows != 0) {
		uint64_t n = p->lost_rows;
		int64_t since = p->lost_since_us;

		p->lost_rows = 0;
		snprintf(detail, sizeof(detail),
			 "%llu rows lost: writer queue full",
			 (unsigned long long)n);
		feed__write_event(p, since, "dropped", NULL, NULL, NULL,
				  detail);
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

/* Every hourly file opens with the book, quiet pairs' files too. */
void feed__hour_start_block(struct gpair *p, int64_t now)
{
	if (p->holding || !sync_synced(p->sync) || p->last_l2_hour == 0 ||
	    time_hour_floor(now) == p->last_l2_hour)
		return;
	(void)sync_emit_snapshot(p->sync, now);
}
