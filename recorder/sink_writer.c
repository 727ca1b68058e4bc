/*
 * The writer thread: it takes full blocks off the queue, unpacks each
 * record into its symbol's hourfile (through the hole logic for L2
 * rows), ticks every file for its flush and fsync deadlines, and
 * publishes the counts; at shutdown it closes every file durably.
 */
#include "sink.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "buf.h"
#include "core.h"
#include "hourfile.h"
#include "log.h"
#include "metrics.h"
#include "schema.h"
#include "timeutil.h"
#include "sink_int.h"
#include "banned.h"

/* While blocks keep coming, at most one round of deadlines, holes and
 * counts per this long: as often as an idle writer's wait brings one.
 * A round visits every file; at 10 ms, 1000 pairs' 3000 files a round
 * were a third of the writer's CPU at a realistic load. */
#define ROUND_US (100 * 1000)
/* How often freed memory goes back to the system (malloc_trim): files
 * release their buffers when they turn quiet (hourfile), and a burst's
 * memory should not stay resident for the life of the process. */
#define TRIM_US (30 * US_PER_SEC)

/*
 * After an append or a tick on sf's file `ds`, which would hold `expect`
 * rows had nothing been written: when fewer are left, a write(2) took
 * the oldest pending row, so observe its latency (once per write). A
 * row still buffered after the write is `row_us` (an append that first
 * made room) or none (a tick).
 */
static void after_write(struct sink *s, struct symfiles *sf,
			enum sink_dataset ds, size_t expect, int rc,
			int64_t row_us)
{
	size_t left = hourfile_buffered(sf->hf[ds]);

	if (left >= expect)
		return;
	if (rc == 0 && s->wlat != NULL)
		metric_observe(s->wlat,
			       (double)(time_now_us() - sf->pending_us[ds]) /
				       1e6);
	sf->pending_us[ds] = left > 0 ? row_us : 0;
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

/* The whole incremental_book_L2 row of a sink_l2_row record, whose
 * fields (the exchange's time, price, amount) are in f[0..2]. */
static void l2_from_parts(struct sink *s, const struct rec_hdr *h,
			  const char *sym, const char **f, size_t *l)
{
	int64_t ts;

	memcpy(&ts, f[0], 8);
	f[7] = f[2];
	l[7] = l[2];
	f[6] = f[1];
	l[6] = l[1];
	f[0] = s->exchange;
	l[0] = s->exlen;
	f[1] = sym;
	l[1] = h->symlen;
	f[2] = ts_text(&s->ts, ts, &l[2]);
	f[3] = ts_text(&s->lts, h->local_us, &l[3]);
	f[4] = h->flags & SINK_ROW_SNAPSHOT ? "true" : "false";
	l[4] = h->flags & SINK_ROW_SNAPSHOT ? 4 : 5;
	f[5] = h->flags & SINK_ROW_ASK ? "ask" : "bid";
	l[5] = 3;
}

static void write_record(struct sink *s, const unsigned char *p)
{
	struct rec_hdr h;
	const char *fields[MAX_FIELDS];
	size_t lens[MAX_FIELDS];
	const unsigned char *q;
	struct symfiles *sf;
	struct hourfile *hf;
	struct hourfile_stats hs;
	size_t before;
	int rc, block_start;

	memcpy(&h, p, sizeof(h));
	q = p + sizeof(h);
	sf = sink__sym_lookup(s, (const char *)q, h.symlen);
	q += h.symlen;
	for (size_t i = 0; i < h.nfields; i++) {
		uint16_t l;

		memcpy(&l, q + 2 * i, 2);
		lens[i] = l;
	}
	q += 2 * (size_t)h.nfields;
	for (size_t i = 0; i < h.nfields; i++) {
		fields[i] = (const char *)q;
		q += lens[i];
	}
	if (h.flags & SINK_ROW_PARTS) {
		l2_from_parts(s, &h, (const char *)p + sizeof(h), fields, lens);
		h.nfields = 8;
	}
	hf = sf ? sink__sym_file(s, sf, (enum sink_dataset)h.ds) : NULL;
	if (hf == NULL) {
		pthread_mutex_lock(&s->mu);
		s->st.rows_dropped_write++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	block_start = h.ds == SINK_L2 ? sink__l2_admit(s, sf, hf, &h) : 0;
	if (block_start < 0)
		return;
	if (block_start) {
		hourfile_begin_block(hf);
		hourfile_get_stats(hf, &hs);
	}
	before = hourfile_buffered(hf);
	if (before == 0)
		sf->pending_us[h.ds] = h.local_us;
	rc = (h.flags & SINK_ROW_PLAIN)
		     ? hourfile_append_plain(hf, h.local_us, fields, lens,
					     h.nfields)
		     : hourfile_append(hf, h.local_us, fields, lens, h.nfields);
	if (rc != 0)
		sink__note_error(s, sf, (enum sink_dataset)h.ds, rc);
	if (block_start) {
		struct hourfile_stats now;

		hourfile_get_stats(hf, &now);
		/* Buffered rows a new block superseded were not written. */
		before -= now.rows_superseded - hs.rows_superseded;
		if (before == 0)
			sf->pending_us[h.ds] = h.local_us;
		sink__tell_cut(s, sf, h.local_us,
			       now.rows_superseded - hs.rows_superseded +
				       now.rows_cut - hs.rows_cut);
	}
	after_write(s, sf, (enum sink_dataset)h.ds, before + 1, rc, h.local_us);
	if (h.ds == SINK_L2)
		sink__check_hole(s, sf);
}

static void publish_stats(struct sink *s)
{
	struct hourfile_stats hs;
	uint64_t written = 0, dropped = 0, torn = 0;

	for (size_t i = 0; i < s->nsyms; i++) {
		for (int d = 0; d < SINK_NDATASETS; d++) {
			if (s->syms[i].hf[d] == NULL)
				continue;
			hourfile_get_stats(s->syms[i].hf[d], &hs);
			written += hs.rows_written;
			dropped += hs.rows_dropped;
			torn += hs.torn_bytes_cut;
		}
	}
	pthread_mutex_lock(&s->mu);
	s->st.rows_written = written;
	s->st.rows_dropped_write = dropped;
	s->st.torn_bytes_cut = torn;
	pthread_mutex_unlock(&s->mu);
}

/* Report per-symbol L2 rows written since the last call. */
static void report_written(struct sink *s, uint64_t *last, size_t nlast)
{
	struct hourfile_stats hs;

	for (size_t i = 0; i < s->nsyms && i < nlast; i++) {
		if (s->syms[i].hf[SINK_L2] == NULL)
			continue;
		hourfile_get_stats(s->syms[i].hf[SINK_L2], &hs);
		if (hs.rows_written > last[i] && s->written)
			s->written(s->ud, s->syms[i].name, SINK_L2,
				   hs.rows_written - last[i]);
		last[i] = hs.rows_written;
	}
}

static void tick_all(struct sink *s)
{
	int64_t now = time_now_us();

	for (size_t i = 0; i < s->nsyms; i++)
		for (int d = 0; d < SINK_NDATASETS; d++) {
			size_t before;
			int rc;

			if (s->syms[i].hf[d] == NULL)
				continue;
			before = hourfile_buffered(s->syms[i].hf[d]);
			rc = hourfile_tick(s->syms[i].hf[d], now);
			if (rc != 0)
				sink__note_error(s, &s->syms[i], d, rc);
			after_write(s, &s->syms[i], d, before, rc, 0);
			if (d == SINK_L2)
				sink__check_hole(s, &s->syms[i]);
		}
}

static void process_block(struct sink *s, struct block *b)
{
	size_t off = 0;

	while (off < b->used) {
		struct rec_hdr h;

		memcpy(&h, b->data + off, sizeof(h));
		write_record(s, b->data + off);
		off += h.len;
	}
}

/*
 * The next full block, waiting up to 100 ms for one. NULL on a timeout,
 * or with *stop set once the sink stops and the queue is empty.
 */
static struct block *take_block(struct sink *s, int *stop)
{
	struct block *b;
	struct timespec ts;

	pthread_mutex_lock(&s->mu);
	while (s->full_head == NULL && !s->stopping) {
		int rc;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		s->writer_waiting = 1;
		rc = pthread_cond_timedwait(&s->cv, &s->mu, &ts);
		s->writer_waiting = 0;
		if (rc == ETIMEDOUT)
			break;
	}
	b = s->full_head;
	if (b != NULL) {
		s->full_head = b->next;
		if (s->full_head == NULL)
			s->full_tail = NULL;
		s->queued_bytes -= b->used;
	}
	*stop = b == NULL && s->stopping;
	pthread_mutex_unlock(&s->mu);
	return b;
}

/* Per-symbol written counts since the last report (grown with syms). */
struct reported {
	uint64_t *last;
	size_t n;
};

/* The round over every file: deadlines, holes, counts, memory. */
static void writer_round(struct sink *s, struct reported *r, int64_t now,
			 int64_t *last_trim)
{
	tick_all(s);
	if (now - *last_trim >= TRIM_US) {
		*last_trim = now;
		(void)malloc_trim(0);
	}
	sink__settle_holes(s);
	if (r->n < s->nsyms) {
		uint64_t *n = realloc(r->last, s->capsyms * sizeof(*n));

		if (n != NULL) {
			memset(n + r->n, 0, (s->capsyms - r->n) * sizeof(*n));
			r->last = n;
			r->n = s->capsyms;
		}
	}
	report_written(s, r->last, r->n);
	publish_stats(s);
}

/*
 * The files' clock: the writer's time at the block it is on, read once
 * a block and not once a row (a flood writes millions of rows; the
 * intervals it times are seconds).
 */
static _Atomic int64_t writer_now;

int64_t sink__clock(void)
{
	int64_t t = atomic_load_explicit(&writer_now, memory_order_relaxed);

	return t != 0 ? t : time_mono_us();
}

void *sink__writer_main(void *arg)
{
	struct sink *s = arg;
	struct reported r = { NULL, 0 };
	int64_t last_round = 0, last_trim = time_mono_us();
	int stop = 0;

	for (;;) {
		struct block *b = take_block(s, &stop);
		int64_t now;

		if (stop)
			break;
		now = time_mono_us();
		atomic_store_explicit(&writer_now, now, memory_order_relaxed);
		if (b != NULL) {
			process_block(s, b);
			sink__block_release(s, b);
		}
		/* Deadlines are seconds apart: with thousands of files, a
		 * round over all of them per block would cost more than the
		 * rows (a small block per event-loop round). */
		if (b != NULL && now - last_round < ROUND_US)
			continue;
		last_round = now;
		writer_round(s, &r, now, &last_trim);
	}
	/* Shutdown: everything buffered reaches the disk, durably. Only a
	 * failure here fails the stop; earlier errors were counted. */
	s->first_error = 0;
	for (size_t i = 0; i < s->nsyms; i++)
		for (int d = 0; d < SINK_NDATASETS; d++) {
			int rc;

			if (s->syms[i].hf[d] == NULL)
				continue;
			rc = hourfile_close(s->syms[i].hf[d]);
			if (rc != 0)
				sink__note_error(s, &s->syms[i], d, rc);
		}
	report_written(s, r.last, r.n);
	publish_stats(s);
	free(r.last);
	return NULL;
}
