/*
 * The simulated order book of one pair: integer price ticks and amount
 * units, evolved one change (one update id) at a time from a seeded PRNG,
 * kept uncrossed and within `depth` levels per side. Every change goes to
 * a ring (for pushes, dup and stale snapshots) and to the truth file.
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "log.h"
#include "banned.h"

/* Pairs with a realistic price scale; others get a hashed default. */
static const struct pair_spec {
	const char *name;
	int pdec, adec;
	int64_t mid;
} pair_specs[] = {
	{ "BTC_USDT", 1, 6, 650000 }, { "ETH_USDT", 2, 4, 350000 },
	{ "NEO_BTC", 7, 3, 18700 },   { "OMG_USDT", 4, 2, 45000 },
	{ "GT_USDT", 3, 2, 17000 },   { "SOL_USDT", 2, 3, 15000 },
	{ "DOGE_USDT", 5, 1, 16000 }, { "XRP_USDT", 4, 1, 6000 },
};

static int64_t pow10i(int d)
{
	int64_t v = 1;

	while (d-- > 0)
		v *= 10;
	return v;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* Index of px in the side, or -(insertion point)-1. */
static long side_find(const struct sim_book_side *s, int side, int64_t px)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int64_t v = s->lv[mid].px;

		if (v == px)
			return (long)mid;
		if (side == SIM_BID ? v > px : v < px)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -(long)lo - 1;
}

/* Set a level's amount (0 removes). -1 on allocation failure. */
static int side_set(struct sim_book_side *s, int side, int64_t px, int64_t amt)
{
	long i = side_find(s, side, px);
	size_t at;

	if (i >= 0) {
		at = (size_t)i;
		if (amt != 0) {
			s->lv[at].amt = amt;
			return 0;
		}
		memmove(&s->lv[at], &s->lv[at + 1],
			(s->n - at - 1) * sizeof(*s->lv));
		s->n--;
		return 0;
	}
	if (amt == 0)
		return 0;
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct sim_level *n = realloc(s->lv, ncap * sizeof(*n));

		if (n == NULL)
			return -1;
		s->lv = n;
		s->cap = ncap;
	}
	at = (size_t)(-i - 1);
	memmove(&s->lv[at + 1], &s->lv[at], (s->n - at) * sizeof(*s->lv));
	s->lv[at].px = px;
	s->lv[at].amt = amt;
	s->n++;
	return 0;
}

static int64_t side_amount(const struct sim_book_side *s, int side, int64_t px)
{
	long i = side_find(s, side, px);

	return i >= 0 ? s->lv[i].amt : 0;
}

int book_has(const struct sim_pair *p, int side, int64_t px)
{
	return side_find(&p->side[side], side, px) >= 0;
}

static void truth_row(struct sim_pair *p, const struct sim_change *c)
{
	char row[128];
	size_t n;

	if (p->truth == NULL)
		return;
	n = fmt_u64(row, c->id);
	memcpy(row + n, c->side == SIM_BID ? ",bid," : ",ask,", 5);
	n += 5;
	n += fmt_dec(row + n, c->px, p->pdec);
	row[n++] = ',';
	n += fmt_dec(row + n, c->amt, p->adec);
	row[n++] = '\n';
	if (fwrite(row, 1, n, p->truth) != n)
		log_warn("write truth of %s: %s", p->name, strerror(errno));
}

/* Record one change: book, ring, truth. */
static void change(struct sim_pair *p, int side, int64_t px, int64_t amt,
		   int64_t now_ms)
{
	struct sim_change *c;
	uint64_t id = p->last_id + 1;
	int64_t prev = side_amount(&p->side[side], side, px);

	if (side_set(&p->side[side], side, px, amt) < 0) {
		log_err("%s: out of memory", p->name);
		return;
	}
	c = &p->ring[id % p->ring_cap];
	c->id = id;
	c->px = px;
	c->amt = amt;
	c->prev = prev;
	c->side = (uint8_t)side;
	p->last_id = id;
	p->last_ms = now_ms;
	truth_row(p, c);
}

static int64_t rand_amount(struct sim_pair *p)
{
	int64_t scale = pow10i(p->adec);

	return 1 + (int64_t)(sim_rand(&p->rng) % (uint64_t)(5 * scale));
}

static void step_modify(struct sim_pair *p, int side, int64_t now_ms)
{
	struct sim_book_side *s = &p->side[side];
	struct sim_level *l;
	int64_t amt;

	if (s->n == 0)
		return;
	l = &s->lv[sim_rand(&p->rng) % s->n];
	amt = rand_amount(p);
	if (amt == l->amt)
		amt++;
	change(p, side, l->px, amt, now_ms);
}

static void step_add(struct sim_pair *p, int side, int64_t now_ms)
{
	const struct sim_book_side *s = &p->side[side];
	const struct sim_book_side *o = &p->side[!side];
	uint64_t span = (uint64_t)p->depth + (uint64_t)p->depth / 2 + 1;
	int64_t bound, off, px;

	if (o->n > 0)
		bound = o->lv[0].px + (side == SIM_BID ? -1 : 1);
	else if (s->n > 0)
		bound = s->lv[0].px + (side == SIM_BID ? 1 : -1);
	else
		bound = p->mid + (side == SIM_BID ? -1 : 1);
	off = (int64_t)(sim_rand(&p->rng) % span);
	px = side == SIM_BID ? bound - off : bound + off;
	if (px <= 0 || side_find(s, side, px) >= 0) {
		step_modify(p, side, now_ms);
		return;
	}
	change(p, side, px, rand_amount(p), now_ms);
}

static void step_delete(struct sim_pair *p, int side, int64_t now_ms)
{
	const struct sim_book_side *s = &p->side[side];
	size_t i;

	if (s->n <= 1) {
		step_modify(p, side, now_ms);
		return;
	}
	i = sim_rand(&p->rng) % s->n;
	change(p, side, s->lv[i].px, 0, now_ms);
}

void book_step(struct sim_pair *p, int64_t now_ms)
{
	int side = (int)(sim_rand(&p->rng) & 1);
	size_t n = p->side[side].n, lo = (size_t)(p->depth / 4);
	unsigned r = (unsigned)(sim_rand(&p->rng) % 100);

	if (lo < 2)
		lo = 2;
	if (n >= (size_t)p->depth)
		step_delete(p, side, now_ms);
	else if (n < lo || r < 30)
		step_add(p, side, now_ms);
	else if (r < 55)
		step_delete(p, side, now_ms);
	else
		step_modify(p, side, now_ms);
}

static int side_copy(struct sim_book_side *dst, const struct sim_book_side *s);

int book_mark(struct sim_pair *p)
{
	book_side_release(&p->mark[0]);
	book_side_release(&p->mark[1]);
	if (side_copy(&p->mark[0], &p->side[0]) < 0 ||
	    side_copy(&p->mark[1], &p->side[1]) < 0)
		return -1;
	p->mark_id = p->last_id;
	p->mark_ms = p->last_ms;
	return 0;
}

void book_rewind(struct sim_pair *p)
{
	for (int side = 0; side < 2; side++) {
		struct sim_book_side *s = &p->side[side];
		const struct sim_book_side *m = &p->mark[side];

		/* A side's capacity never shrinks: it held m->n once. */
		if (s->cap < m->n) {
			log_err("%s: rewind: side shrank", p->name);
			continue;
		}
		memcpy(s->lv, m->lv, m->n * sizeof(*s->lv));
		s->n = m->n;
	}
	p->last_id = p->mark_id;
	p->last_ms = p->mark_ms;
}

void book_replay(struct sim_pair *p, uint64_t to, int64_t now_ms)
{
	for (uint64_t id = p->last_id + 1; id <= to; id++) {
		const struct sim_change *c = &p->ring[id % p->ring_cap];

		if (side_set(&p->side[c->side], c->side, c->px, c->amt) < 0)
			log_err("%s: out of memory", p->name);
	}
	p->last_id = to;
	p->last_ms = now_ms;
}

void book_sweep(struct sim_pair *p, int side, uint64_t n, int64_t now_ms)
{
	struct sim_book_side *s = &p->side[side];

	while (n-- > 0 && s->n > 1)
		change(p, side, s->lv[0].px, 0, now_ms);
}

/* A spec names a pair as Gate does ("BTC_USDT"); MEXC's "BTCUSDT" too. */
static int spec_is(const char *spec, const char *name)
{
	while (*spec != '\0') {
		if (*spec == '_' && *name != '_')
			spec++;
		else if (*spec++ != *name++)
			return 0;
	}
	return *name == '\0';
}

static void pair_spec_apply(struct sim_pair *p, const char *name)
{
	uint64_t h = name_hash(name);
	size_t i;

	for (i = 0; i < CORE_ARRAY_LEN(pair_specs); i++) {
		if (spec_is(pair_specs[i].name, name)) {
			p->pdec = pair_specs[i].pdec;
			p->adec = pair_specs[i].adec;
			p->mid = pair_specs[i].mid;
			return;
		}
	}
	p->pdec = 4;
	p->adec = 3;
	p->mid = 10000 + (int64_t)(h % 90000);
}

int book_pair_init(struct sim_pair *p, const char *name, uint64_t seed,
		   int depth, double rate, size_t ring_cap)
{
	int64_t now_ms = sim_now_us() / 1000, gap;
	int k, fill;

	memset(p, 0, sizeof(*p));
	if (snprintf(p->name, sizeof(p->name), "%s", name) >=
	    (int)sizeof(p->name))
		return -1;
	pair_spec_apply(p, name);
	p->depth = depth < 2 ? 2 : depth;
	p->rate = rate;
	p->rng = seed ^ name_hash(name);
	p->ring_cap = ring_cap < 1024 ? 1024 : ring_cap;
	p->ring = calloc(p->ring_cap, sizeof(*p->ring));
	if (p->ring == NULL)
		return -1;
	/* Large, seed-derived, like a real pair's counter. */
	p->first_id = UINT64_C(10000000000) + sim_rand(&p->rng) % 1000000000;
	p->last_id = p->first_id - 1;
	fill = p->depth * 3 / 4 > 0 ? p->depth * 3 / 4 : 1;
	for (k = 0; k < fill; k++) {
		gap = 1 + (int64_t)(sim_rand(&p->rng) % 3);
		change(p, SIM_BID, p->mid - 1 - k * gap, rand_amount(p),
		       now_ms);
		change(p, SIM_ASK, p->mid + 1 + k * gap, rand_amount(p),
		       now_ms);
	}
	return 0;
}

void book_side_release(struct sim_book_side *s)
{
	free(s->lv);
	memset(s, 0, sizeof(*s));
}

void book_pair_release(struct sim_pair *p)
{
	size_t i;

	book_side_release(&p->side[0]);
	book_side_release(&p->side[1]);
	book_side_release(&p->mark[0]);
	book_side_release(&p->mark[1]);
	flood_release(p);
	free(p->ring);
	if (p->truth != NULL && fclose(p->truth) != 0)
		log_warn("close truth of %s: %s", p->name, strerror(errno));
	for (i = 0; i < p->rp_n; i++)
		free(p->rp_lines[i]);
	free(p->rp_lines);
	free(p->rp_len);
	free(p->rp_snap);
	memset(p, 0, sizeof(*p));
}

int book_truth_open(struct sim_pair *p, const char *dir)
{
	char path[4096];
	uint64_t id;

	if (snprintf(path, sizeof(path), "%s/%s.truth.csv", dir, p->name) >=
	    (int)sizeof(path))
		return -1;
	p->truth = fopen(path, "w");
	if (p->truth == NULL) {
		log_err("open '%s': %s", path, strerror(errno));
		return -1;
	}
	if (fputs("update_id,side,price,amount\n", p->truth) == EOF)
		return -1;
	for (id = book_oldest_id(p); id <= p->last_id; id++)
		truth_row(p, book_change(p, id));
	book_truth_flush(p);
	return 0;
}

void book_truth_flush(struct sim_pair *p)
{
	if (p->truth != NULL && fflush(p->truth) != 0)
		log_warn("flush truth of %s: %s", p->name, strerror(errno));
}

uint64_t book_oldest_id(const struct sim_pair *p)
{
	uint64_t span = p->last_id + 1 - p->first_id;

	if (span <= p->ring_cap)
		return p->first_id;
	return p->last_id + 1 - p->ring_cap;
}

const struct sim_change *book_change(const struct sim_pair *p, uint64_t id)
{
	if (id > p->last_id || id < book_oldest_id(p))
		return NULL;
	return &p->ring[id % p->ring_cap];
}

static int side_copy(struct sim_book_side *dst, const struct sim_book_side *s)
{
	memset(dst, 0, sizeof(*dst));
	dst->lv = malloc((s->n ? s->n : 1) * sizeof(*dst->lv));
	if (dst->lv == NULL)
		return -1;
	memcpy(dst->lv, s->lv, s->n * sizeof(*dst->lv));
	dst->n = dst->cap = s->n ? s->n : 1;
	dst->n = s->n;
	return 0;
}

uint64_t book_state_back(const struct sim_pair *p, uint64_t back,
			 struct sim_book_side out[2])
{
	uint64_t avail = p->last_id + 1 - book_oldest_id(p), id;

	if (side_copy(&out[0], &p->side[0]) < 0 ||
	    side_copy(&out[1], &p->side[1]) < 0)
		return p->last_id;
	if (back > avail)
		back = avail;
	for (id = p->last_id; id > p->last_id - back; id--) {
		const struct sim_change *c = book_change(p, id);

		if (side_set(&out[c->side], c->side, c->px, c->prev) < 0)
			log_err("%s: out of memory", p->name);
	}
	return p->last_id - back;
}
