/*
 * Flood mode (--flood N): every subscription gets its stream's first
 * push, then N pushes of exactly 5 update ids each, as fast as the
 * client reads, then a close 1000 "flood done".
 *
 * The flood is decided before the simulator listens: each pair's book
 * makes its 5 N changes at once (into the ring, which is sized to hold
 * them, and the truth file), the final book goes to
 * <truth-dir>/<PAIR>.final.csv, and the book goes back to where it was
 * (book_mark/book_rewind): that is the book REST serves during the flood,
 * and where every subscriber's stream starts. A stream kind's frames are
 * rendered once, by the venue's own push builder replaying the changes
 * 5 at a time, into a tape of whole WS frames (the venue's flood stream
 * before listening, any other kind on its first subscription), and each
 * subscriber replays the tape: every client of one simulator gets the
 * same flood, and sending costs a copy, not JSON printing. Each tape's
 * size is appended to <truth-dir>/tapes.csv.
 *
 * A connection's subscriptions are interleaved a frame each, packed into
 * raw writes of FLOOD_BATCH bytes. Venues whose clients sync from a REST
 * snapshot (MEXC, Binance: the stream has no full push) hold a stream
 * after FLOOD_PRESYNC frames until a snapshot of its pair has been served
 * since it subscribed (or FLOOD_HOLD_US passed), so a client's bounded
 * buffer of diffs awaiting the snapshot is not flooded past.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define FLOOD_BATCH   (60 * 1024)
#define FLOOD_IDS     5 /* update ids per flood push */
#define FLOOD_PRESYNC 64
#define FLOOD_HOLD_US INT64_C(5000000)

/* The name of a stream kind in tapes.csv. */
static void stream_name(const struct sim_tape *t, char *out, size_t size)
{
	static const char *const names[] = {
		[SIM_CH_OBU_UPDATE] = "spot.order_book_update",
		[SIM_CH_OBU] = "spot.obu",
		[SIM_CH_MEXC_AGGRE] = "aggre.depth",
		[SIM_CH_BINANCE_DEPTH] = "depth",
		[SIM_CH_OKX_BOOKS] = "books",
	};

	snprintf(out, size, "%s:%d", names[t->chan], t->level);
}

/* Append a complete unmasked server frame (header + payload). */
static int tape_add(struct sim_tape *t, struct sbuf *b, int binary)
{
	unsigned char h[10];
	size_t hl = 2, len = b->len;

	if (b->oom)
		return -1;
	if (t->nframes == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024;
		size_t *n = realloc(t->end, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		t->end = n;
		t->cap = ncap;
	}
	h[0] = binary ? 0x82 : 0x81; /* FIN, binary or text */
	if (len < 126) {
		h[1] = (unsigned char)len;
	} else if (len < 65536) {
		h[1] = 126;
		h[2] = (unsigned char)(len >> 8);
		h[3] = (unsigned char)len;
		hl = 4;
	} else {
		h[1] = 127;
		for (size_t i = 0; i < 8; i++)
			h[2 + i] =
				(unsigned char)((uint64_t)len >> (56 - 8 * i));
		hl = 10;
	}
	sbuf_add(&t->data, (const char *)h, hl);
	sbuf_add(&t->data, sbuf_data(b), len);
	if (t->data.oom)
		return -1;
	t->end[t->nframes++] = t->data.len;
	return 0;
}

static void tape_free(struct sim_tape *t)
{
	if (t == NULL)
		return;
	sbuf_release(&t->data);
	free(t->end);
	free(t);
}

void flood_release(struct sim_pair *p)
{
	while (p->tapes != NULL) {
		struct sim_tape *t = p->tapes;

		p->tapes = t->next;
		tape_free(t);
	}
}

static void tape_log(struct sim *sim, const struct sim_pair *p,
		     const struct sim_tape *t, double secs)
{
	char path[4096], name[64];
	FILE *f;

	stream_name(t, name, sizeof(name));
	log_notice("flood %s %s: %zu frames, %llu levels, %zu bytes rendered "
		   "in %.3f s",
		   p->name, name, t->nframes, (unsigned long long)t->levels,
		   t->data.len, secs);
	if (sim->opt.truth_dir == NULL ||
	    snprintf(path, sizeof(path), "%s/tapes.csv", sim->opt.truth_dir) >=
		    (int)sizeof(path))
		return;
	f = fopen(path, "a");
	if (f == NULL) {
		log_warn("open '%s': %s", path, strerror(errno));
		return;
	}
	fprintf(f, "%s,%s,%zu,%llu,%zu,%.3f\n", p->name, name, t->nframes,
		(unsigned long long)t->levels, t->data.len, secs);
	if (fclose(f) != 0)
		log_warn("write '%s': %s", path, strerror(errno));
}

/*
 * Render a stream kind's flood of a pair: the venue's push builder on a
 * subscription of its own, the book replayed 5 changes at a time from
 * the mark. The book is back at the mark afterwards.
 */
static struct sim_tape *tape_render(struct sim *sim, struct sim_pair *p,
				    const struct sim_target *t)
{
	struct sim_tape *tp = calloc(1, sizeof(*tp));
	struct sim_sub *rs = calloc(1, sizeof(*rs));
	int bin = sim->venue->binary_push;
	int64_t t0 = time_mono_us(), now_ms = sim_now_us() / 1000;

	if (tp == NULL || rs == NULL)
		goto out;
	tp->chan = rs->chan = t->chan;
	tp->level = rs->level = t->level;
	tp->interval_ms = rs->interval_ms = t->interval_ms;
	rs->pair = p;
	rs->next_id = p->last_id + 1;
	if (sim->venue->push(sim, rs, &sim->scratch, 1) &&
	    tape_add(tp, &sim->scratch, bin) < 0)
		goto out;
	for (uint64_t k = 1; k <= sim->opt.flood; k++) {
		book_replay(p, p->mark_id + k * FLOOD_IDS, now_ms);
		sim->push_levels = 0;
		/* 0: the ids changed nothing the stream shows (a window). */
		if (!sim->venue->push(sim, rs, &sim->scratch, 0))
			continue;
		tp->levels += sim->push_levels;
		if (tape_add(tp, &sim->scratch, bin) < 0)
			goto out;
	}
	tp->ok = 1;
out:
	book_rewind(p);
	sub_free(rs);
	if (tp == NULL || !tp->ok) {
		log_err("flood of %s: out of memory", p->name);
		tape_free(tp);
		return NULL;
	}
	tape_log(sim, p, tp, (double)(time_mono_us() - t0) / 1e6);
	return tp;
}

const struct sim_tape *flood_tape(struct sim *sim, const struct sim_target *t)
{
	struct sim_pair *p = t->pair;
	struct sim_tape *tp;

	for (tp = p->tapes; tp != NULL; tp = tp->next)
		if (tp->chan == t->chan && tp->level == t->level &&
		    tp->interval_ms == t->interval_ms)
			return tp;
	tp = tape_render(sim, p, t);
	if (tp != NULL) {
		tp->next = p->tapes;
		p->tapes = tp;
	}
	return tp;
}

static int write_side(FILE *f, const struct sim_pair *p, int side)
{
	const struct sim_book_side *s = &p->side[side];
	char px[48], amt[48];

	for (size_t i = 0; i < s->n; i++) {
		px[fmt_dec(px, s->lv[i].px, p->pdec)] = '\0';
		amt[fmt_dec(amt, s->lv[i].amt, p->adec)] = '\0';
		if (fprintf(f, "%s,%s,%s\n", side == SIM_BID ? "bid" : "ask",
			    px, amt) < 0)
			return -1;
	}
	return 0;
}

/* <truth-dir>/<PAIR>.final.csv: the book when the flood is over. */
static int write_final(const struct sim *sim, const struct sim_pair *p)
{
	char path[4096];
	FILE *f;
	int rc;

	if (snprintf(path, sizeof(path), "%s/%s.final.csv", sim->opt.truth_dir,
		     p->name) >= (int)sizeof(path))
		return -1;
	f = fopen(path, "w");
	if (f == NULL) {
		log_err("open '%s': %s", path, strerror(errno));
		return -1;
	}
	rc = fputs("side,price,amount\n", f) == EOF ||
			     write_side(f, p, SIM_BID) < 0 ||
			     write_side(f, p, SIM_ASK) < 0
		     ? -1
		     : 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		log_err("write '%s': %s", path, strerror(errno));
	return rc;
}

/* The venue's flood stream: what the bench and the tests subscribe. */
static void default_target(const struct sim *sim, struct sim_pair *p,
			   struct sim_target *t)
{
	memset(t, 0, sizeof(*t));
	t->pair = p;
	t->chan = sim->venue->flood_chan;
	t->level = sim->venue->flood_level;
	t->interval_ms = 100;
	if (sim->opt.flood_update) {
		t->chan = SIM_CH_OBU_UPDATE;
		t->level = 100;
	}
}

int flood_prepare(struct sim *sim)
{
	int64_t now_ms = sim_now_us() / 1000;
	char path[4096];
	FILE *f;

	if (sim->opt.truth_dir != NULL &&
	    snprintf(path, sizeof(path), "%s/tapes.csv", sim->opt.truth_dir) <
		    (int)sizeof(path) &&
	    (f = fopen(path, "w")) != NULL) {
		fputs("pair,stream,frames,levels,bytes,render_s\n", f);
		if (fclose(f) != 0)
			return -1;
	}
	for (size_t i = 0; i < sim->npairs; i++) {
		struct sim_pair *p = &sim->pairs[i];
		struct sim_target t;

		if (p->rp_n > 0)
			continue;
		if (book_mark(p) < 0)
			return -1;
		for (uint64_t k = 0; k < sim->opt.flood * FLOOD_IDS; k++)
			book_step(p, now_ms);
		book_truth_flush(p);
		if (sim->opt.truth_dir != NULL && write_final(sim, p) < 0)
			return -1;
		book_rewind(p);
		default_target(sim, p, &t);
		if (flood_tape(sim, &t) == NULL)
			return -1;
	}
	return 0;
}

void flood_sub_init(struct sim_conn *c, struct sim_sub *s,
		    const struct sim_target *t)
{
	s->tape = flood_tape(c->sim, t);
	s->rest_mark = t->pair->rest_calls;
	s->hold_until_us = sim_now_us() + FLOOD_HOLD_US;
	if (s->tape != NULL)
		c->flooding = 1;
}

/* Past its presync frames, is this stream waiting for its snapshot? */
static int held(const struct sim *sim, const struct sim_sub *s, int64_t now)
{
	return sim->venue->flood_rest && s->tape_pos >= FLOOD_PRESYNC &&
	       s->pair->rest_calls == s->rest_mark && now < s->hold_until_us;
}

/* Copy up to FLOOD_BATCH bytes of whole frames, a frame per stream in
 * turn. Returns the frames still to send. */
static size_t flood_fill(struct sim_conn *c, int64_t now)
{
	size_t left;
	int progress = 1;

	sbuf_reset(&c->flood);
	c->flood_held = 0;
	while (progress && c->flood.len < FLOOD_BATCH) {
		progress = 0;
		for (size_t i = 0; i < c->nsubs; i++) {
			struct sim_sub *s = c->subs[i];
			const struct sim_tape *tp = s->tape;
			size_t from;

			if (tp == NULL || s->tape_pos >= tp->nframes)
				continue;
			if (held(c->sim, s, now)) {
				c->flood_held = 1;
				continue;
			}
			from = s->tape_pos > 0 ? tp->end[s->tape_pos - 1] : 0;
			sbuf_add(&c->flood, tp->data.mem + LWS_PRE + from,
				 tp->end[s->tape_pos] - from);
			s->tape_pos++;
			progress = 1;
		}
	}
	left = 0;
	for (size_t i = 0; i < c->nsubs; i++)
		if (c->subs[i]->tape != NULL)
			left += c->subs[i]->tape->nframes -
				c->subs[i]->tape_pos;
	return left;
}

int flood_write(struct sim_conn *c)
{
	size_t left = flood_fill(c, sim_now_us());

	if (c->flood.len == 0) {
		/* Held streams are woken by a snapshot or the tick. */
		if (left > 0 || c->nsubs == 0)
			return 0;
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL,
				 (unsigned char *)"flood done", 10);
		return -1;
	}
	if (c->flood.oom ||
	    lws_write(c->wsi, (unsigned char *)sbuf_data(&c->flood),
		      c->flood.len, LWS_WRITE_RAW) < (int)c->flood.len)
		return -1;
	lws_callback_on_writable(c->wsi);
	return 0;
}

void flood_kick(struct sim *sim)
{
	for (struct sim_conn *c = sim->conns; c != NULL; c = c->next)
		if (c->flooding && c->flood_held)
			lws_callback_on_writable(c->wsi);
}
