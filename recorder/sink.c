/*
 * The writer thread and its queue. The network thread packs rows into
 * 64 KiB blocks and hands over whole blocks; the writer thread unpacks
 * them into per-<symbol, dataset> hourfiles. Blocks come from a capped
 * pool, so a stalled disk costs at most SINK_BLOCKS blocks of memory and
 * then drops rows (counted) instead of blocking the network side, which
 * watches sink_fill_percent() to pause reading before that happens.
 *
 * Holes: when rows of an incremental_book_L2 file are lost to a write
 * error, the rows queued behind them are discarded and later diffs held
 * back until the first row of a fresh snapshot block (which the network
 * side is asked for), so the file never shows a book built on a hole; a
 * "dropped" event tells the loss once rows reach the file again.
 *
 * Blocks: a tardis reader takes consecutive is_snapshot=true rows as one
 * block, so before the first row of each block the L2 hourfile is told
 * (hourfile_begin_block) and removes the block rows that end its file
 * with nothing after them: a block cut by a kill, a power cut, a write
 * error or a full queue, or one a new block supersedes before any diff
 * came. A "dropped" event records how many rows that took.
 */
#include "sink.h"

#include <errno.h>
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
#include "banned.h"

/* The widest row: book_snapshot_N at the deepest N the config takes. */
#define MAX_FIELDS (4 + 4 * CONFIG_SNAPSHOT_DEPTH_MAX)
/* Free blocks kept for reuse; the writer unmaps the rest, so the memory
 * a burst took (a slow disk, an hour's snapshot blocks) goes back. */
#define SPARE_BLOCKS 16u
#define SYM_MAX	     64

struct block {
	struct block *next;
	size_t used;
	unsigned char data[SINK_BLOCK];
};

/* Record layout inside a block, 8-byte aligned. */
struct rec_hdr {
	uint32_t len; /* whole record, padded */
	uint16_t nfields;
	uint8_t ds;
	uint8_t symlen;
	uint8_t flags; /* SINK_ROW_* */
	int64_t local_us;
	/* then symlen bytes, nfields uint16 lengths, the field bytes */
};

struct symfiles {
	char name[SYM_MAX];
	struct hourfile *hf[SINK_NDATASETS];
	/* The L2 file lost rows: later rows are held back until a snapshot
	 * block arrives, so the file never shows a book with a hole. */
	int hole;
	int confirm;	       /* a block closed the hole; awaiting a write */
	uint64_t written_mark; /* rows_written when that block began */
	uint64_t held_back;    /* rows discarded while in a hole */
	int64_t prev_us;       /* local_us of the previous L2 row */
	int64_t hole_since;    /* local_us of the row that met the hole */
	int prev_snap;	       /* that row was a snapshot row */
	uint64_t lost_told;    /* losses already written as "dropped" */
	int64_t last_ask_us;   /* last resnapshot request, mono */
	/* local_us of the oldest row buffered in hf[ds] since its last
	 * write(2), for the write latency histogram. */
	int64_t pending_us[SINK_NDATASETS];
};

struct sink {
	const struct recorder_config *cfg;
	char *exchange;
	struct schema_set *schemas;
	const struct schema *schema[SINK_NDATASETS];
	sink_written_fn written;
	void *ud;
	struct metric_series *wlat; /* write latency histogram, or NULL */

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct block *full_head, *full_tail; /* to the writer */
	struct block *free_list;
	unsigned nfree;		/* blocks in free_list */
	unsigned nblocks;	/* mapped now, <= SINK_BLOCKS */
	_Atomic unsigned inuse; /* nblocks - nfree, readable without mu */
	uint64_t queued_bytes;
	int stopping, started;
	pthread_t thread;
	struct sink_stats st; /* under mu */
	char **resnap;	      /* symbols, under mu */
	size_t nresnap, capresnap;

	struct block *cur; /* network thread's block being filled */

	/* Writer thread only. */
	struct symfiles *syms;
	size_t nsyms, capsyms, last_sym;
	int first_error;
};

static const char *ds_name(struct sink *s, enum sink_dataset ds)
{
	return s->schema[ds]->dataset;
}

struct sink *sink_new(const struct recorder_config *cfg, const char *exchange,
		      struct schema_set *schemas, sink_written_fn written,
		      void *ud)
{
	struct sink *s = calloc(1, sizeof(*s));
	char snap[64];

	if (s == NULL)
		return NULL;
	s->cfg = cfg;
	s->schemas = schemas;
	s->written = written;
	s->ud = ud;
	s->exchange = strdup(exchange);
	snprintf(snap, sizeof(snap), "book_snapshot_%d", cfg->snapshot_depth);
	s->schema[SINK_L2] = schema_set_find(schemas, "incremental_book_L2");
	s->schema[SINK_SNAPSHOT] = schema_set_find(schemas, snap);
	s->schema[SINK_EVENTS] = schema_set_find(schemas, "book_events");
	if (s->exchange == NULL || s->schema[SINK_L2] == NULL ||
	    s->schema[SINK_SNAPSHOT] == NULL ||
	    s->schema[SINK_EVENTS] == NULL) {
		free(s->exchange);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	return s;
}

void sink_set_write_latency(struct sink *s, struct metric_series *hist)
{
	s->wlat = hist;
}

/* Blocks are mapped, not malloc'ed, so unmapping one returns it. */
static struct block *block_map(void)
{
	void *p = mmap(NULL, sizeof(struct block), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void block_unmap(struct block *b)
{
	if (b != NULL && munmap(b, sizeof(*b)) != 0)
		log_debug("munmap: %s", strerror(errno));
}

/* Network thread: a block to fill, or NULL when the pool is spent. */
static struct block *block_get(struct sink *s)
{
	struct block *b = NULL;
	int map = 0;

	pthread_mutex_lock(&s->mu);
	if (s->free_list != NULL) {
		b = s->free_list;
		s->free_list = b->next;
		s->nfree--;
	} else if (s->nblocks < SINK_BLOCKS) {
		s->nblocks++;
		map = 1;
	}
	atomic_store(&s->inuse, s->nblocks - s->nfree);
	pthread_mutex_unlock(&s->mu);
	if (map && (b = block_map()) == NULL) {
		pthread_mutex_lock(&s->mu);
		s->nblocks--;
		atomic_store(&s->inuse, s->nblocks - s->nfree);
		pthread_mutex_unlock(&s->mu);
	}
	if (b != NULL) {
		b->next = NULL;
		b->used = 0;
	}
	return b;
}

void sink_commit(struct sink *s)
{
	struct block *b = s->cur;

	if (b == NULL || b->used == 0)
		return;
	s->cur = NULL;
	pthread_mutex_lock(&s->mu);
	if (s->full_tail)
		s->full_tail->next = b;
	else
		s->full_head = b;
	s->full_tail = b;
	s->queued_bytes += b->used;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static size_t rec_size(size_t symlen, const size_t *lens, size_t n)
{
	size_t sz = sizeof(struct rec_hdr) + symlen + 2 * n;

	for (size_t i = 0; i < n; i++)
		sz += lens[i];
	return (sz + 7) & ~(size_t)7;
}

static void count_drop(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	s->st.rows_dropped_queue++;
	pthread_mutex_unlock(&s->mu);
}

int sink_row(struct sink *s, const char *symbol, enum sink_dataset ds,
	     int64_t local_us, const char *const *fields, size_t nfields)
{
	size_t lens[MAX_FIELDS];

	if (nfields > MAX_FIELDS)
		return CORE_EINVAL;
	for (size_t i = 0; i < nfields; i++)
		lens[i] = fields[i] ? strlen(fields[i]) : 0;
	return sink_row_n(s, symbol, strlen(symbol), ds, local_us, fields, lens,
			  nfields);
}

int sink_row_n(struct sink *s, const char *symbol, size_t symlen,
	       enum sink_dataset ds, int64_t local_us,
	       const char *const *fields, const size_t *lens, size_t nfields)
{
	return sink_row_f(s, symbol, symlen, ds, local_us, 0, fields, lens,
			  nfields);
}

int sink_row_f(struct sink *s, const char *symbol, size_t symlen,
	       enum sink_dataset ds, int64_t local_us, unsigned flags,
	       const char *const *fields, const size_t *lens, size_t nfields)
{
	struct rec_hdr h;
	unsigned char *p;
	size_t sz;

	if (nfields > MAX_FIELDS || symlen >= SYM_MAX)
		return CORE_EINVAL;
	for (size_t i = 0; i < nfields; i++)
		if (lens[i] > UINT16_MAX || (fields[i] == NULL && lens[i]))
			return CORE_ETOOBIG;
	sz = rec_size(symlen, lens, nfields);
	if (sz > SINK_BLOCK)
		return CORE_ETOOBIG;
	if (s->cur != NULL && s->cur->used + sz > SINK_BLOCK)
		sink_commit(s);
	if (s->cur == NULL && (s->cur = block_get(s)) == NULL) {
		count_drop(s);
		return CORE_ENOSPACE;
	}
	p = s->cur->data + s->cur->used;
	memset(&h, 0, sizeof(h));
	h.len = (uint32_t)sz;
	h.ds = (uint8_t)ds;
	h.nfields = (uint16_t)nfields;
	h.symlen = (uint8_t)symlen;
	h.flags = (uint8_t)flags;
	h.local_us = local_us;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, symbol, symlen);
	p += symlen;
	for (size_t i = 0; i < nfields; i++) {
		uint16_t l = (uint16_t)lens[i];

		memcpy(p, &l, 2);
		p += 2;
	}
	for (size_t i = 0; i < nfields; i++) {
		if (lens[i] > 0)
			memcpy(p, fields[i], lens[i]);
		p += lens[i];
	}
	s->cur->used += sz;
	return 0;
}

/* ---- writer thread ---- */

static struct symfiles *sym_lookup(struct sink *s, const char *name, size_t len)
{
	struct symfiles *n;

	/* Rows come in runs per symbol: try the last one first. */
	if (s->last_sym < s->nsyms &&
	    strncmp(s->syms[s->last_sym].name, name, len) == 0 &&
	    s->syms[s->last_sym].name[len] == '\0')
		return &s->syms[s->last_sym];
	for (size_t i = 0; i < s->nsyms; i++)
		if (strncmp(s->syms[i].name, name, len) == 0 &&
		    s->syms[i].name[len] == '\0') {
			s->last_sym = i;
			return &s->syms[i];
		}
	if (BUF_GROW(s->syms, s->capsyms, s->nsyms + 1) != 0)
		return NULL;
	s->last_sym = s->nsyms;
	n = &s->syms[s->nsyms++];
	memset(n, 0, sizeof(*n));
	memcpy(n->name, name, len);
	return n;
}

static struct hourfile *sym_file(struct sink *s, struct symfiles *sf,
				 enum sink_dataset ds)
{
	struct hourfile_opts o;
	const struct recorder_config *c = s->cfg;

	if (sf->hf[ds] != NULL)
		return sf->hf[ds];
	memset(&o, 0, sizeof(o));
	o.data_dir = c->data_dir;
	o.exchange = s->exchange;
	o.symbol = sf->name;
	o.schema = s->schema[ds];
	o.buffer_size = (size_t)c->buffer_size;
	o.flush_interval_us = (int64_t)(c->flush_interval * 1e6);
	o.fsync_interval_us = (int64_t)(c->fsync_interval * 1e6);
	o.block_column = ds == SINK_L2 ? "is_snapshot" : NULL;
	if (hourfile_new(&sf->hf[ds], &o) != 0)
		return NULL;
	return sf->hf[ds];
}

static void note_error(struct sink *s, struct symfiles *sf,
		       enum sink_dataset ds, int rc)
{
	static struct log_ratelimit rl;
	unsigned supp;

	if (s->first_error == 0)
		s->first_error = rc;
	pthread_mutex_lock(&s->mu);
	s->st.write_errors++;
	pthread_mutex_unlock(&s->mu);
	if (log_ratelimit_ok(&rl, 5, 60, &supp))
		log_err_r(rc, "write %s.%s (%u similar errors suppressed)",
			  sf->name, ds_name(s, ds), supp);
}

static void queue_resnapshot(struct sink *s, struct symfiles *sf)
{
	char *dup;

	dup = strdup(sf->name);
	if (dup == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	if (BUF_GROW(s->resnap, s->capresnap, s->nresnap + 1) != 0) {
		pthread_mutex_unlock(&s->mu);
		free(dup);
		return;
	}
	s->resnap[s->nresnap++] = dup;
	pthread_mutex_unlock(&s->mu);
}

/* incremental_book_L2's is_snapshot column (index 4) says "true". */
static int l2_is_snapshot(const char *const *fields, const size_t *lens,
			  size_t n)
{
	return n > 4 && lens[4] == 4 && memcmp(fields[4], "true", 4) == 0;
}

/* Ask the network side for a snapshot block, at most once a second. */
static void ask_resnapshot(struct sink *s, struct symfiles *sf)
{
	int64_t now = time_mono_us();

	if (now - sf->last_ask_us < US_PER_SEC)
		return;
	sf->last_ask_us = now;
	queue_resnapshot(s, sf);
}

/*
 * Before the snapshot block that closes a hole, say in book_events how
 * many rows the hole cost (rows the file refused plus rows held back).
 * If that row cannot be written either, the count is told next time.
 */
static void tell_losses(struct sink *s, struct symfiles *sf, int64_t local_us)
{
	struct hourfile_stats hs;
	struct hourfile *ev = sym_file(s, sf, SINK_EVENTS);
	char ts[24], detail[128];
	const char *f[6];
	size_t lens[6];
	uint64_t lost;

	hourfile_get_stats(sf->hf[SINK_L2], &hs);
	lost = hs.rows_dropped + sf->held_back - sf->lost_told;
	if (lost == 0 || ev == NULL)
		return;
	snprintf(ts, sizeof(ts), "%lld", (long long)local_us);
	snprintf(
		detail, sizeof(detail),
		"%llu incremental_book_L2 rows lost to write errors since %lld",
		(unsigned long long)lost, (long long)sf->hole_since);
	f[0] = ts;
	f[1] = "dropped";
	f[2] = f[3] = f[4] = "";
	f[5] = detail;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(f[i]);
	if (hourfile_append(ev, local_us, f, lens, 6) == 0 &&
	    !hourfile_take_gap(ev)) {
		sf->lost_told += lost;
		log_warn("%s: %s", sf->name, detail);
	}
}

/*
 * Rows of the L2 file were lost (a failed write, sync or reopen): drop
 * what was buffered after them, so nothing lands on a book with a hole,
 * and wait for a snapshot block.
 */
static void check_hole(struct sink *s, struct symfiles *sf)
{
	struct hourfile *hf = sf->hf[SINK_L2];

	if (hf == NULL || !hourfile_take_gap(hf))
		return;
	hourfile_discard(hf);
	(void)hourfile_take_gap(hf);
	if (!sf->hole && !sf->confirm)
		sf->hole_since = sf->prev_us;
	sf->hole = 1;
	sf->confirm = 0;
	ask_resnapshot(s, sf);
}

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

/*
 * Say in book_events that a new block removed `rows` rows of the
 * unfinished block that ended the L2 file (or its buffer).
 */
static void tell_cut(struct sink *s, struct symfiles *sf, int64_t local_us,
		     uint64_t rows)
{
	struct hourfile *ev;
	char ts[24], detail[160];
	const char *f[6];
	size_t lens[6];
	int rc;

	if (rows == 0 || !(s->cfg->datasets & DATASET_BOOK_EVENTS) ||
	    (ev = sym_file(s, sf, SINK_EVENTS)) == NULL)
		return;
	snprintf(ts, sizeof(ts), "%lld", (long long)local_us);
	snprintf(detail, sizeof(detail),
		 "%llu incremental_book_L2 rows cut: the snapshot block no "
		 "diff followed is replaced by the next one",
		 (unsigned long long)rows);
	f[0] = ts;
	f[1] = "dropped";
	f[2] = f[3] = f[4] = "";
	f[5] = detail;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(f[i]);
	rc = hourfile_append(ev, local_us, f, lens, 6);
	if (rc != 0)
		note_error(s, sf, SINK_EVENTS, rc);
	log_info("%s: %s", sf->name, detail);
}

/*
 * An incremental_book_L2 row met the hole logic: -1 when it is held
 * back, else 1 when it starts a snapshot block and 0 when not. A block
 * starts at a flagged row, and at a snapshot row after a diff or with
 * another local_timestamp than the snapshot row before it (the flag is
 * lost with the row when the queue was full).
 */
static int l2_admit(struct sink *s, struct symfiles *sf, struct hourfile *hf,
		    const struct rec_hdr *h, const char *const *fields,
		    const size_t *lens)
{
	int snap = l2_is_snapshot(fields, lens, h->nfields);
	/* Only the first row of a block can heal a hole: the rest of a
	 * block that was cut by the error is as partial as a diff. */
	int block_start = snap &&
			  ((h->flags & SINK_ROW_BLOCK_START) ||
			   !(sf->prev_snap && sf->prev_us == h->local_us));

	sf->prev_snap = snap;
	sf->prev_us = h->local_us;
	check_hole(s, sf);
	if (sf->hole && !block_start) {
		sf->held_back++;
		ask_resnapshot(s, sf);
		return -1;
	}
	if (sf->hole) {
		struct hourfile_stats hs;

		/* The block that may close the hole; the loss is told once
		 * rows reach the file (settle_holes). */
		hourfile_get_stats(hf, &hs);
		sf->hole = 0;
		sf->confirm = 1;
		sf->written_mark = hs.rows_written;
	}
	return block_start;
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
	sf = sym_lookup(s, (const char *)q, h.symlen);
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
	hf = sf ? sym_file(s, sf, (enum sink_dataset)h.ds) : NULL;
	if (hf == NULL) {
		pthread_mutex_lock(&s->mu);
		s->st.rows_dropped_write++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	block_start = h.ds == SINK_L2 ? l2_admit(s, sf, hf, &h, fields, lens)
				      : 0;
	if (block_start < 0)
		return;
	if (block_start) {
		hourfile_begin_block(hf);
		hourfile_get_stats(hf, &hs);
	}
	before = hourfile_buffered(hf);
	if (before == 0)
		sf->pending_us[h.ds] = h.local_us;
	rc = hourfile_append(hf, h.local_us, fields, lens, h.nfields);
	if (rc != 0)
		note_error(s, sf, (enum sink_dataset)h.ds, rc);
	if (block_start) {
		struct hourfile_stats now;

		hourfile_get_stats(hf, &now);
		/* Buffered rows a new block superseded were not written. */
		before -= now.rows_superseded - hs.rows_superseded;
		if (before == 0)
			sf->pending_us[h.ds] = h.local_us;
		tell_cut(s, sf, h.local_us,
			 now.rows_superseded - hs.rows_superseded +
				 now.rows_cut - hs.rows_cut);
	}
	after_write(s, sf, (enum sink_dataset)h.ds, before + 1, rc, h.local_us);
	if (h.ds == SINK_L2)
		check_hole(s, sf);
}

/* Tell each healed hole's loss once its file takes rows again. */
static void settle_holes(struct sink *s)
{
	for (size_t i = 0; i < s->nsyms; i++) {
		struct symfiles *sf = &s->syms[i];
		struct hourfile_stats hs;

		if (!sf->confirm || sf->hf[SINK_L2] == NULL)
			continue;
		hourfile_get_stats(sf->hf[SINK_L2], &hs);
		if (hs.rows_written > sf->written_mark) {
			sf->confirm = 0;
			tell_losses(s, sf, time_now_us());
		}
	}
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
				note_error(s, &s->syms[i], d, rc);
			after_write(s, &s->syms[i], d, before, rc, 0);
			if (d == SINK_L2)
				check_hole(s, &s->syms[i]);
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

static void *writer_main(void *arg)
{
	struct sink *s = arg;
	uint64_t *last = NULL;
	size_t nlast = 0;

	for (;;) {
		struct block *b;
		struct timespec ts;

		pthread_mutex_lock(&s->mu);
		while (s->full_head == NULL && !s->stopping) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) ==
			    ETIMEDOUT)
				break;
		}
		b = s->full_head;
		if (b != NULL) {
			s->full_head = b->next;
			if (s->full_head == NULL)
				s->full_tail = NULL;
			s->queued_bytes -= b->used;
		} else if (s->stopping) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		pthread_mutex_unlock(&s->mu);
		if (b != NULL) {
			process_block(s, b);
			pthread_mutex_lock(&s->mu);
			if (s->nfree < SPARE_BLOCKS) {
				b->next = s->free_list;
				s->free_list = b;
				s->nfree++;
				b = NULL;
			} else {
				s->nblocks--;
			}
			atomic_store(&s->inuse, s->nblocks - s->nfree);
			pthread_mutex_unlock(&s->mu);
			block_unmap(b);
		}
		tick_all(s);
		settle_holes(s);
		if (nlast < s->nsyms) {
			uint64_t *n = realloc(last, s->capsyms * sizeof(*n));

			if (n != NULL) {
				memset(n + nlast, 0,
				       (s->capsyms - nlast) * sizeof(*n));
				last = n;
				nlast = s->capsyms;
			}
		}
		report_written(s, last, nlast);
		publish_stats(s);
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
				note_error(s, &s->syms[i], d, rc);
		}
	report_written(s, last, nlast);
	publish_stats(s);
	free(last);
	return NULL;
}

int sink_start(struct sink *s)
{
	int rc = pthread_create(&s->thread, NULL, writer_main, s);

	if (rc != 0) {
		errno = rc;
		return CORE_ESYS;
	}
	s->started = 1;
	return 0;
}

unsigned sink_fill_percent(struct sink *s)
{
	return atomic_load(&s->inuse) * 100u / SINK_BLOCKS;
}

void sink_stats(struct sink *s, struct sink_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->st;
	out->queued_bytes = s->queued_bytes;
	pthread_mutex_unlock(&s->mu);
}

void sink_take_resnapshots(struct sink *s,
			   void (*fn)(void *ud, const char *symbol), void *ud)
{
	char **list;
	size_t n;

	pthread_mutex_lock(&s->mu);
	list = s->resnap;
	n = s->nresnap;
	s->resnap = NULL;
	s->nresnap = s->capresnap = 0;
	pthread_mutex_unlock(&s->mu);
	for (size_t i = 0; i < n; i++) {
		fn(ud, list[i]);
		free(list[i]);
	}
	free(list);
}

int sink_stop(struct sink *s)
{
	if (s == NULL || !s->started)
		return 0;
	sink_commit(s);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	s->started = 0;
	return s->first_error;
}

void sink_free(struct sink *s)
{
	struct block *b;

	if (s == NULL)
		return;
	sink_stop(s);
	for (size_t i = 0; i < s->nsyms; i++)
		for (int d = 0; d < SINK_NDATASETS; d++)
			hourfile_free(s->syms[i].hf[d]);
	free(s->syms);
	while ((b = s->full_head) != NULL) {
		s->full_head = b->next;
		block_unmap(b);
	}
	while ((b = s->free_list) != NULL) {
		s->free_list = b->next;
		block_unmap(b);
	}
	block_unmap(s->cur);
	for (size_t i = 0; i < s->nresnap; i++)
		free(s->resnap[i]);
	free(s->resnap);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->exchange);
	free(s);
}
