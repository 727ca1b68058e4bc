/*
 * The sink's block pool and queue, and its lifecycle. The network
 * thread packs rows into 64 KiB blocks and hands over whole blocks; the
 * writer thread unpacks them into per-<symbol, dataset> hourfiles.
 * Blocks come from a capped pool, so a stalled disk costs at most
 * SINK_BLOCKS blocks of memory and then drops rows (counted) instead of
 * blocking the network side, which watches sink_fill_percent() to pause
 * reading before that happens.
 *
 * The writer thread is sink_writer.c, the file table sink_files.c, the
 * hole and block state sink_holes.c.
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
#include "sink_int.h"
#include "banned.h"

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
	s->exlen = strlen(exchange);
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

void sink__block_unmap(struct block *b)
{
	if (b != NULL && munmap(b, sizeof(*b)) != 0)
		log_debug("munmap: %s", strerror(errno));
}

void sink__block_release(struct sink *s, struct block *b)
{
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
	sink__block_unmap(b);
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
	/* A busy writer takes the next block without being told. */
	if (atomic_load_explicit(&s->writer_waiting, memory_order_relaxed))
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void sink_commit_round(struct sink *s)
{
	/* A writer still busy with earlier blocks would only queue this
	 * one: keep filling it, and save the lock and the wake-up. */
	if (s->cur != NULL && s->cur->used < SINK_BLOCK / 2 &&
	    !atomic_load_explicit(&s->writer_waiting, memory_order_relaxed))
		return;
	sink_commit(s);
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

/* Room for a record of `sz` bytes in the block being filled: its start,
 * or NULL (counted as a dropped row) when the pool is exhausted. */
static unsigned char *rec_room(struct sink *s, size_t sz)
{
	unsigned char *p;

	if (s->cur != NULL && s->cur->used + sz > SINK_BLOCK)
		sink_commit(s);
	if (s->cur == NULL && (s->cur = block_get(s)) == NULL) {
		count_drop(s);
		return NULL;
	}
	p = s->cur->data + s->cur->used;
	s->cur->used += sz;
	return p;
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
	/* The writer reads the block flags from the header, never the
	 * text: find them here once for rows that did not say. */
	if (ds == SINK_L2 && !(flags & SINK_ROW_PLAIN) && nfields > 4 &&
	    lens[4] == 4 && fields[4] != NULL &&
	    memcmp(fields[4], "true", 4) == 0)
		flags |= SINK_ROW_SNAPSHOT;
	for (size_t i = 0; i < nfields; i++)
		if (lens[i] > UINT16_MAX || (fields[i] == NULL && lens[i]))
			return CORE_ETOOBIG;
	sz = rec_size(symlen, lens, nfields);
	if (sz > SINK_BLOCK)
		return CORE_ETOOBIG;
	if ((p = rec_room(s, sz)) == NULL)
		return CORE_ENOSPACE;
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
	return 0;
}

int sink_l2_row(struct sink *s, const char *symbol, size_t symlen,
		int64_t ts_us, int64_t local_us, unsigned flags,
		const char *price, size_t price_len, const char *amount,
		size_t amount_len)
{
	size_t sz = (sizeof(struct rec_hdr) + symlen + 3 * 2 + 8 + price_len +
		     amount_len + 7) &
		    ~(size_t)7;
	uint16_t lens[3] = { 8, (uint16_t)price_len, (uint16_t)amount_len };
	struct rec_hdr h = { 0 };
	unsigned char *p;

	if (symlen >= SYM_MAX)
		return CORE_EINVAL;
	if (price_len > UINT16_MAX || amount_len > UINT16_MAX ||
	    sz > SINK_BLOCK)
		return CORE_ETOOBIG;
	if ((p = rec_room(s, sz)) == NULL)
		return CORE_ENOSPACE;
	h.len = (uint32_t)sz;
	h.ds = SINK_L2;
	h.nfields = 3;
	h.symlen = (uint8_t)symlen;
	h.flags = (uint8_t)(flags | SINK_ROW_PLAIN | SINK_ROW_PARTS);
	h.local_us = local_us;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memcpy(p, symbol, symlen);
	p += symlen;
	memcpy(p, lens, sizeof(lens));
	p += sizeof(lens);
	memcpy(p, &ts_us, 8);
	p += 8;
	memcpy(p, price, price_len);
	memcpy(p + price_len, amount, amount_len);
	return 0;
}

int sink_start(struct sink *s)
{
	int rc = pthread_create(&s->thread, NULL, sink__writer_main, s);

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
	free(s->symidx);
	while ((b = s->full_head) != NULL) {
		s->full_head = b->next;
		sink__block_unmap(b);
	}
	while ((b = s->free_list) != NULL) {
		s->free_list = b->next;
		sink__block_unmap(b);
	}
	sink__block_unmap(s->cur);
	for (size_t i = 0; i < s->nresnap; i++)
		free(s->resnap[i]);
	free(s->resnap);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s->exchange);
	free(s);
}
