/*
 * Parallel gzip for the tarball writer (see pgz.h): worker threads deflate
 * 1 MiB blocks, the caller's thread writes them in order.
 */
#include "pgz.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "core.h"
#include "banned.h"

/*
 * Parallel gzip (after pigz): the tar stream is cut into 1 MiB blocks,
 * each deflated by a worker thread with the previous 32 KiB as its
 * dictionary and ended by a sync flush (the last by Z_FINISH), so the
 * concatenation is one ordinary gzip member whose CRC32 is combined from
 * the blocks'. Blocks are written in order by the caller's thread, so the
 * output does not depend on timing. This lets sealing use both cores the
 * way `tar | gzip` does, instead of deflating in the reading thread.
 */
#define PGZ_BLOCK	(1u << 20)
#define PGZ_DICT	32768u
#define PGZ_SLOTS	6
#define PGZ_MAX_THREADS 4

enum { JOB_FREE, JOB_QUEUED, JOB_WORKING, JOB_DONE };

struct pgz_job {
	unsigned char *in, *out;
	size_t in_len, out_len, out_cap;
	unsigned char dict[PGZ_DICT];
	size_t dict_len;
	uLong crc;
	int last, state, err;
};

struct pgz {
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	pthread_t th[PGZ_MAX_THREADS];
	int nth, level, stop, failed, started;
	struct pgz_job job[PGZ_SLOTS];
	uint64_t fill, take, wrote; /* sequence numbers */
	unsigned char tail[PGZ_DICT];
	size_t tail_len;
	uLong crc;
	uint64_t isize;
	pgz_emit_fn emit;
	void *ud;
};

static int pgz_deflate(struct pgz_job *j, int level)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	if (j->dict_len > 0 &&
	    deflateSetDictionary(&z, j->dict, (uInt)j->dict_len) != Z_OK) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = j->in;
	z.avail_in = (uInt)j->in_len;
	z.next_out = j->out;
	z.avail_out = (uInt)j->out_cap;
	zr = deflate(&z, j->last ? Z_FINISH : Z_SYNC_FLUSH);
	j->out_len = j->out_cap - z.avail_out;
	deflateEnd(&z);
	/* out_cap is deflateBound + slack: one call always finishes. */
	if (j->last ? zr != Z_STREAM_END : (zr != Z_OK || z.avail_in != 0))
		return -1;
	j->crc = crc32(0L, j->in, (uInt)j->in_len);
	return 0;
}

static void *pgz_worker(void *arg)
{
	struct pgz *g = arg;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct pgz_job *j;

		while (!g->stop && g->take == g->fill)
			pthread_cond_wait(&g->cv_work, &g->mu);
		if (g->stop)
			break;
		j = &g->job[g->take++ % PGZ_SLOTS];
		j->state = JOB_WORKING;
		pthread_mutex_unlock(&g->mu);
		j->err = pgz_deflate(j, g->level);
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

void pgz_free(struct pgz *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_broadcast(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < g->nth; i++)
		pthread_join(g->th[i], NULL);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		free(g->job[i].in);
		free(g->job[i].out);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv_work);
	pthread_cond_destroy(&g->cv_done);
	free(g);
}

struct pgz *pgz_new(int level, pgz_emit_fn emit, void *ud)
{
	struct pgz *g = calloc(1, sizeof(*g));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = ncpu < 1		   ? 1
		  : ncpu > PGZ_MAX_THREADS ? PGZ_MAX_THREADS
					   : (int)ncpu;

	if (g == NULL)
		return NULL;
	g->level = level;
	g->emit = emit;
	g->ud = ud;
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv_work, NULL);
	pthread_cond_init(&g->cv_done, NULL);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		g->job[i].out_cap = PGZ_BLOCK + PGZ_BLOCK / 8 + 4096;
		g->job[i].in = malloc(PGZ_BLOCK);
		g->job[i].out = malloc(g->job[i].out_cap);
		if (g->job[i].in == NULL || g->job[i].out == NULL) {
			pgz_free(g);
			return NULL;
		}
	}
	for (; g->nth < nth; g->nth++)
		if (pthread_create(&g->th[g->nth], NULL, pgz_worker, g) != 0)
			break;
	if (g->nth == 0) {
		pgz_free(g);
		return NULL;
	}
	return g;
}

/* Write out the oldest submitted block (waiting for it). 0 or -1. */
static int pgz_write_oldest(struct pgz *g)
{
	struct pgz_job *j = &g->job[g->wrote % PGZ_SLOTS];
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&g->cv_done, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (j->err != 0 || g->emit(g->ud, j->out, j->out_len) != 0)
		rc = -1;
	g->crc = crc32_combine(g->crc, j->crc, (z_off_t)j->in_len);
	g->isize += j->in_len;
	j->state = JOB_FREE;
	j->in_len = 0;
	g->wrote++;
	return rc;
}

/* Hand the block being filled to the workers; make room for the next. */
static int pgz_submit(struct pgz *g, int last)
{
	struct pgz_job *j = &g->job[g->fill % PGZ_SLOTS], *next;

	memcpy(j->dict, g->tail, g->tail_len);
	j->dict_len = g->tail_len;
	j->last = last;
	if (j->in_len >= PGZ_DICT) {
		memcpy(g->tail, j->in + j->in_len - PGZ_DICT, PGZ_DICT);
		g->tail_len = PGZ_DICT;
	} else {
		size_t keep = PGZ_DICT - j->in_len;

		if (keep > g->tail_len)
			keep = g->tail_len;
		memmove(g->tail, g->tail + g->tail_len - keep, keep);
		memcpy(g->tail + keep, j->in, j->in_len);
		g->tail_len = keep + j->in_len;
	}
	pthread_mutex_lock(&g->mu);
	j->state = JOB_QUEUED;
	g->fill++;
	pthread_cond_signal(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	next = &g->job[g->fill % PGZ_SLOTS];
	while (!last && next->state != JOB_FREE)
		if (pgz_write_oldest(g) != 0)
			return -1;
	return 0;
}

int pgz_write(struct pgz *g, const void *buf, size_t len)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0,
					       0,    0,	   0, 0, 3 };
	const unsigned char *p = buf;

	if (g->failed)
		return -1;
	if (!g->started) {
		g->started = 1;
		if (g->emit(g->ud, hdr, sizeof(hdr)) != 0)
			return g->failed = -1;
	}
	while (len > 0) {
		struct pgz_job *j = &g->job[g->fill % PGZ_SLOTS];
		size_t n = PGZ_BLOCK - j->in_len;

		if (n > len)
			n = len;
		memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
		if (j->in_len == PGZ_BLOCK && pgz_submit(g, 0) != 0)
			return g->failed = -1;
	}
	return 0;
}

/* The last block, every pending block, then CRC32 and ISIZE. */
int pgz_finish(struct pgz *g)
{
	unsigned char trailer[8];

	if (g->failed || pgz_write(g, "", 0) != 0 || pgz_submit(g, 1) != 0)
		return -1;
	while (g->wrote < g->fill)
		if (pgz_write_oldest(g) != 0)
			return g->failed = -1;
	for (int i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(g->crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(g->isize >> (8 * i));
	}
	return g->emit(g->ud, trailer, sizeof(trailer));
}
