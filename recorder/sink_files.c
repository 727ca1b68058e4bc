/*
 * The writer thread's per-symbol file table: one entry per symbol, one
 * hourfile per dataset opened on first use, and write-error accounting.
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
#include "hash.h"
#include "hourfile.h"
#include "log.h"
#include "metrics.h"
#include "schema.h"
#include "timeutil.h"
#include "sink_int.h"
#include "banned.h"

const char *sink__ds_name(struct sink *s, enum sink_dataset ds)
{
	return s->schema[ds]->dataset;
}

static bool sym_is(const struct symfiles *sf, const char *name, size_t len)
{
	return memcmp(sf->name, name, len) == 0 && sf->name[len] == '\0';
}

/* The slot of name in the index: its entry, or the empty one to use. */
static size_t sym_slot(const struct sink *s, const char *name, size_t len)
{
	size_t i = hash_slot(hash_add(HASH_INIT, name, len), s->symidx_mask);

	while (s->symidx[i] != 0 &&
	       !sym_is(&s->syms[s->symidx[i] - 1], name, len))
		i = (i + 1) & s->symidx_mask;
	return i;
}

/* Room in the index for one more symbol (kept under half full). */
static int symidx_room(struct sink *s)
{
	size_t cap = s->symidx_mask + 1, ncap;
	uint32_t *idx;

	if (s->symidx != NULL && 2 * (s->nsyms + 1) <= cap)
		return 0;
	for (ncap = 64; ncap < 4 * (s->nsyms + 1); ncap *= 2)
		;
	idx = calloc(ncap, sizeof(*idx));
	if (idx == NULL)
		return CORE_ENOMEM;
	free(s->symidx);
	s->symidx = idx;
	s->symidx_mask = ncap - 1;
	for (size_t i = 0; i < s->nsyms; i++)
		s->symidx[sym_slot(s, s->syms[i].name, strlen(s->syms[i].name))] =
			(uint32_t)(i + 1);
	return 0;
}

struct symfiles *sink__sym_lookup(struct sink *s, const char *name, size_t len)
{
	struct symfiles *n;
	size_t slot;

	/* Rows come in runs per symbol: try the last one first. */
	if (s->last_sym < s->nsyms && sym_is(&s->syms[s->last_sym], name, len))
		return &s->syms[s->last_sym];
	if (s->symidx != NULL) {
		slot = sym_slot(s, name, len);
		if (s->symidx[slot] != 0) {
			s->last_sym = s->symidx[slot] - 1;
			return &s->syms[s->last_sym];
		}
	}
	if (symidx_room(s) != 0 ||
	    BUF_GROW(s->syms, s->capsyms, s->nsyms + 1) != 0)
		return NULL;
	slot = sym_slot(s, name, len);
	s->last_sym = s->nsyms;
	n = &s->syms[s->nsyms++];
	memset(n, 0, sizeof(*n));
	memcpy(n->name, name, len);
	s->symidx[slot] = (uint32_t)s->nsyms;
	return n;
}

struct hourfile *sink__sym_file(struct sink *s, struct symfiles *sf,
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
	o.clock_us = sink__clock;
	if (hourfile_new(&sf->hf[ds], &o) != 0)
		return NULL;
	return sf->hf[ds];
}

void sink__note_error(struct sink *s, struct symfiles *sf, enum sink_dataset ds,
		      int rc)
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
			  sf->name, sink__ds_name(s, ds), supp);
}
