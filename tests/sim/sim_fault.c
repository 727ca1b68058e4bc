/*
 * Faults on demand: a table of kinds with their default N, applied to the
 * subscriptions or connections of one pair (or all), either at once from
 * the control endpoint or at scripted times ("T:KIND[:PAIR][:N],...").
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define OVERSIZE_DEFAULT (20u * 1024 * 1024)

static const struct fault_spec {
	const char *name;
	uint64_t def_n;
} fault_specs[SIM_F_COUNT] = {
	[SIM_F_GAP] = { "gap", 1 },
	[SIM_F_DUP] = { "dup", 1 },
	[SIM_F_REORDER] = { "reorder", 1 },
	[SIM_F_BADJSON] = { "badjson", 1 },
	[SIM_F_OVERSIZE] = { "oversize", OVERSIZE_DEFAULT },
	[SIM_F_STALL] = { "stall", 10 },
	[SIM_F_DROP] = { "drop", 1 },
	[SIM_F_CLOSE] = { "close", 0 },
	[SIM_F_FULL] = { "full", 1 },
	[SIM_F_REST_ERROR] = { "rest_error", 1 },
	[SIM_F_REST_429] = { "rest_429", 1 },
	[SIM_F_STALE] = { "stale_snapshot", 100 },
	[SIM_F_PAUSE] = { "pause", 3600 },
	[SIM_F_RESUME] = { "resume", 1 },
	[SIM_F_SWEEP_BID] = { "sweep_bids", 150 },
	[SIM_F_SWEEP_ASK] = { "sweep_asks", 150 },
	[SIM_F_SUB_ERROR] = { "sub_error", 1 },
	[SIM_F_BARE_ACK] = { "bare_ack", 1 },
	[SIM_F_DROP_OLD] = { "drop_old", 1 },
	[SIM_F_DROP_NEW] = { "drop_new", 1 },
};

int fault_kind_parse(const char *name)
{
	int k;

	for (k = 0; k < SIM_F_COUNT; k++)
		if (strcmp(fault_specs[k].name, name) == 0)
			return k;
	return -1;
}

const char *fault_kind_name(enum sim_fault_kind k)
{
	return (unsigned)k < SIM_F_COUNT ? fault_specs[k].name : "?";
}

static int pair_match(const struct sim_fault *f, const struct sim_pair *p)
{
	return f->pair[0] == '\0' || strcmp(f->pair, p->name) == 0;
}

static int conn_match(const struct sim_fault *f, const struct sim_conn *c)
{
	size_t i;

	if (f->pair[0] == '\0')
		return 1;
	for (i = 0; i < c->nsubs; i++)
		if (pair_match(f, c->subs[i]->pair))
			return 1;
	return 0;
}

static void sub_fault(struct sim_conn *c, struct sim_sub *s,
		      enum sim_fault_kind k, uint64_t n)
{
	switch (k) {
	case SIM_F_GAP:
		s->skip += n;
		break;
	case SIM_F_DUP:
		if (s->last.len > 0)
			ws_queue_frame(c, sbuf_data(&s->last), s->last.len,
				       c->sim->venue->binary_push);
		break;
	case SIM_F_REORDER:
		if (s->reorder == 0)
			s->reorder = 1;
		break;
	case SIM_F_FULL:
		s->need_full = 1;
		break;
	default:
		break;
	}
}

static void oversize(struct sim_conn *c, uint64_t n)
{
	static const char head[] = "{\"channel\":\"sim.oversize\",\"pad\":\"";
	size_t len = n < 64 ? 64 : (size_t)n, hl = sizeof(head) - 1;
	char *buf = malloc(len);

	if (buf == NULL) {
		log_err("oversize: cannot allocate %zu bytes", len);
		return;
	}
	memcpy(buf, head, hl);
	memset(buf + hl, 'x', len - hl - 2);
	memcpy(buf + len - 2, "\"}", 2);
	ws_queue(c, buf, len);
	free(buf);
}

static void conn_fault(struct sim *sim, struct sim_conn *c,
		       enum sim_fault_kind k, uint64_t n)
{
	int64_t now = sim_now_us();

	switch (k) {
	case SIM_F_BADJSON:
		sim->venue->bad_frame(c);
		break;
	case SIM_F_OVERSIZE:
		oversize(c, n);
		break;
	case SIM_F_STALL:
		c->stall_until_us = now + (int64_t)n * 1000000;
		break;
	case SIM_F_DROP:
		c->drop = 1;
		lws_callback_on_writable(c->wsi);
		break;
	case SIM_F_CLOSE:
		c->close_at_us = now + (int64_t)n * 1000000;
		if (c->close_at_us == now)
			c->close_at_us = now + 1;
		break;
	default:
		break;
	}
}

void fault_apply(struct sim *sim, const struct sim_fault *f)
{
	uint64_t n = f->n ? f->n : fault_specs[f->kind].def_n;
	struct sim_conn *c, *next;
	size_t i;

	log_info("fault %s pair=%s n=%llu", fault_kind_name(f->kind),
		 f->pair[0] ? f->pair : "*", (unsigned long long)n);
	switch (f->kind) {
	case SIM_F_REST_ERROR:
		sim->rest_error_left += n;
		return;
	case SIM_F_REST_429:
		sim->rest_429_left += n;
		return;
	case SIM_F_STALE:
		sim->stale_back = n;
		return;
	case SIM_F_PAUSE:
	case SIM_F_RESUME:
		/* The pair's market goes quiet: no change, so no push. */
		for (i = 0; i < sim->npairs; i++)
			if (pair_match(f, &sim->pairs[i]))
				sim->pairs[i].paused_until_us =
					f->kind == SIM_F_RESUME
						? 0
						: sim_now_us() +
							  (int64_t)n * 1000000;
		return;
	case SIM_F_SUB_ERROR:
		sim->sub_error_left += n;
		return;
	case SIM_F_BARE_ACK:
		sim->bare_ack_left += n;
		return;
	case SIM_F_DROP_OLD:
		sim->drop_old = n;
		return;
	case SIM_F_DROP_NEW:
		sim->drop_new = n;
		return;
	case SIM_F_SWEEP_BID:
	case SIM_F_SWEEP_ASK:
		for (i = 0; i < sim->npairs; i++)
			if (pair_match(f, &sim->pairs[i]))
				book_sweep(&sim->pairs[i],
					   f->kind == SIM_F_SWEEP_BID ? SIM_BID
								      : SIM_ASK,
					   n, sim_now_us() / 1000);
		return;
	default:
		break;
	}
	for (c = sim->conns; c != NULL; c = next) {
		next = c->next;
		if (!conn_match(f, c))
			continue;
		conn_fault(sim, c, f->kind, n);
		for (i = 0; i < c->nsubs; i++)
			if (pair_match(f, c->subs[i]->pair))
				sub_fault(c, c->subs[i], f->kind, n);
	}
}

/* One script item "T:KIND[:PAIR][:N]" (the string is modified). */
static int script_item(char *s, struct sim_fault *f)
{
	char *save = NULL, *tok, *end;
	int k;

	memset(f, 0, sizeof(*f));
	tok = strtok_r(s, ":", &save);
	if (tok == NULL)
		return -1;
	errno = 0;
	f->at_s = strtod(tok, &end);
	if (errno != 0 || *end != '\0' || f->at_s < 0)
		return -1;
	tok = strtok_r(NULL, ":", &save);
	if (tok == NULL || (k = fault_kind_parse(tok)) < 0)
		return -1;
	f->kind = (enum sim_fault_kind)k;
	while ((tok = strtok_r(NULL, ":", &save)) != NULL) {
		if (*tok >= '0' && *tok <= '9') {
			unsigned long long v;

			errno = 0;
			v = strtoull(tok, &end, 10);
			if (errno != 0 || *end != '\0')
				return -1;
			f->n = v;
		} else if (snprintf(f->pair, sizeof(f->pair), "%s", tok) >=
			   (int)sizeof(f->pair)) {
			return -1;
		}
	}
	return 0;
}

int fault_script_parse(struct sim *sim, const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *item;
	int rc = -1;

	if (copy == NULL)
		return -1;
	for (item = strtok_r(copy, ",", &save); item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		struct sim_fault *n =
			realloc(sim->script, (sim->nscript + 1) * sizeof(*n));

		if (n == NULL)
			goto out;
		sim->script = n;
		if (script_item(item, &sim->script[sim->nscript]) < 0) {
			log_err("bad --script item '%s'", item);
			goto out;
		}
		sim->nscript++;
	}
	rc = 0;
out:
	free(copy);
	return rc;
}

void fault_script_run(struct sim *sim, double elapsed_s)
{
	size_t i;

	for (i = 0; i < sim->nscript; i++) {
		struct sim_fault *f = &sim->script[i];

		if (!f->done && elapsed_s >= f->at_s) {
			f->done = 1;
			fault_apply(sim, f);
		}
	}
}
