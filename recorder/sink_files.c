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

struct symfiles *sink__sym_lookup(struct sink *s, const char *name, size_t len)
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
