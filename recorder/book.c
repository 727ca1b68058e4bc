/*
 * Order book storage: per side a pool of 24-byte level slots and an
 * array of slot indices kept in price order. Inserting moves 2-byte
 * indices, not slots, and the position is found by binary search on the
 * price's exact integer key (decimal_key(): digits and fraction length,
 * compared as one 128-bit product). Price and amount are both kept as
 * such keys plus their digit counts, which rebuild the exchange's exact
 * text (leading and trailing zeros included); a level whose price or
 * amount does not fit a key keeps both texts in the side's pool of long
 * levels instead.
 */
#include "book.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "banned.h"

enum {
	SLOT_PKEY = 1, /* pm/pdig/pfrac are the price */
	SLOT_LONG = 2, /* both texts are in the long pool at index `am` */
};

struct slot {
	uint64_t pm;   /* price digits as an integer (SLOT_PKEY) */
	uint64_t am;   /* amount digits, or the long index (SLOT_LONG) */
	uint8_t pdig;  /* price digits, leading zeros included */
	uint8_t pfrac; /* of which after the dot */
	uint8_t adig, afrac;
	uint8_t flags;
};

struct longlevel {
	char price[BOOK_TEXT_MAX];
	char amount[BOOK_TEXT_MAX];
	uint8_t plen, alen;
};

struct side {
	struct slot *slot; /* cap slots */
	uint16_t *order;   /* n indices into slot, best first */
	uint16_t *spare;   /* stack of unused slot indices */
	size_t n;
	size_t nspare;
	size_t cap;
	struct longlevel *lng; /* long levels, grown on demand */
	uint32_t *lfree;       /* stack of unused long indices */
	size_t nlfree, lcap;
	struct book_level view; /* book_level()'s rendering */
};

struct book {
	size_t depth;
	struct side side[2];
};

/* A price being looked up: its key when it has one, and its text. */
struct probe {
	int keyed;
	uint64_t m;
	uint8_t f;
	const char *txt;
	size_t len;
};

/* Slot indices are 16-bit: a side never holds more levels than this. */
#define SIDE_CAP_MAX 65535u

static size_t slack_for(size_t depth)
{
	size_t s = depth / 4;

	return s < 16 ? 16 : s;
}

static void side_reset(struct side *s)
{
	s->n = 0;
	s->nspare = s->cap;
	for (size_t i = 0; i < s->cap; i++)
		s->spare[i] = (uint16_t)(s->cap - 1 - i);
	s->nlfree = s->lcap;
	for (size_t i = 0; i < s->lcap; i++)
		s->lfree[i] = (uint32_t)(s->lcap - 1 - i);
}

/*
 * Make room for more levels: a message may bring many levels at once
 * (a sweep refilled from below, a deep full push) before the window is
 * trimmed again, and none of them may be lost to a capacity limit. The
 * new slots go on the spare stack; the order is kept.
 */
static int side_grow(struct side *s)
{
	size_t ncap = s->cap * 2;
	struct slot *slot;
	uint16_t *order, *spare;

	if (s->cap >= SIDE_CAP_MAX)
		return CORE_ETOOBIG;
	if (ncap > SIDE_CAP_MAX)
		ncap = SIDE_CAP_MAX;
	slot = realloc(s->slot, ncap * sizeof(*slot));
	if (slot == NULL)
		return CORE_ENOMEM;
	s->slot = slot;
	order = realloc(s->order, ncap * sizeof(*order));
	if (order == NULL)
		return CORE_ENOMEM;
	s->order = order;
	spare = realloc(s->spare, ncap * sizeof(*spare));
	if (spare == NULL)
		return CORE_ENOMEM;
	s->spare = spare;
	for (size_t i = ncap; i > s->cap; i--)
		s->spare[s->nspare++] = (uint16_t)(i - 1);
	s->cap = ncap;
	return 0;
}

/* A free long-level index (growing the pool), or -1 out of memory. */
static int64_t long_get(struct side *s)
{
	if (s->nlfree == 0) {
		size_t ncap = s->lcap ? s->lcap * 2 : 8;
		struct longlevel *lng;
		uint32_t *lfree;

		if (ncap > s->cap)
			ncap = s->cap; /* never more long levels than slots */
		if (ncap <= s->lcap)
			return -1;
		lng = realloc(s->lng, ncap * sizeof(*lng));
		if (lng == NULL)
			return -1;
		s->lng = lng;
		lfree = realloc(s->lfree, ncap * sizeof(*lfree));
		if (lfree == NULL)
			return -1;
		s->lfree = lfree;
		for (size_t i = ncap; i > s->lcap; i--)
			s->lfree[s->nlfree++] = (uint32_t)(i - 1);
		s->lcap = ncap;
	}
	return s->lfree[--s->nlfree];
}

static void slot_drop(struct side *s, uint16_t idx)
{
	if (s->slot[idx].flags & SLOT_LONG)
		s->lfree[s->nlfree++] = (uint32_t)s->slot[idx].am;
	s->spare[s->nspare++] = idx;
}

static void side_release(struct side *s)
{
	free(s->slot);
	free(s->order);
	free(s->spare);
	free(s->lng);
	free(s->lfree);
}

struct book *book_new(size_t depth_limit)
{
	struct book *b;
	size_t cap;

	if (depth_limit == 0 || depth_limit > BOOK_MAX_DEPTH)
		return NULL;
	cap = depth_limit + slack_for(depth_limit);
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->depth = depth_limit;
	for (int i = 0; i < 2; i++) {
		struct side *s = &b->side[i];

		s->cap = cap;
		s->slot = malloc(cap * sizeof(*s->slot));
		s->order = malloc(cap * sizeof(*s->order));
		s->spare = malloc(cap * sizeof(*s->spare));
		if (s->slot == NULL || s->order == NULL || s->spare == NULL) {
			book_free(b);
			return NULL;
		}
		side_reset(s);
	}
	return b;
}

void book_free(struct book *b)
{
	if (b == NULL)
		return;
	side_release(&b->side[0]);
	side_release(&b->side[1]);
	free(b);
}

/*
 * The text of `dig` digits of m with `frac` of them after the dot, into
 * buf (BOOK_TEXT_MAX), NUL-terminated; its length.
 */
static size_t digits_text(uint64_t m, uint8_t dig, uint8_t frac, char *buf)
{
	size_t n = dig + (frac > 0), i = n;

	for (size_t d = 0; d < dig; d++) {
		if (d == frac && frac > 0)
			buf[--i] = '.';
		buf[--i] = (char)('0' + m % 10);
		m /= 10;
	}
	buf[n] = '\0';
	return n;
}

/* The price text of a keyed slot into buf; its length. */
static size_t key_text(const struct slot *l, char *buf)
{
	return digits_text(l->pm, l->pdig, l->pfrac, buf);
}

/* The price text of any slot: into buf, or the long level's own. */
static const char *price_text(const struct side *s, const struct slot *l,
			      char *buf, size_t *len)
{
	if (l->flags & SLOT_LONG) {
		const struct longlevel *g = &s->lng[l->am];

		*len = g->plen;
		return g->price;
	}
	*len = key_text(l, buf);
	return buf;
}

/* Order of a stored level against a probe: <0 when the level is lower. */
static int slot_cmp(const struct side *s, const struct slot *l,
		    const struct probe *p)
{
	char buf[BOOK_TEXT_MAX];
	const char *t;
	size_t len;

	if ((l->flags & SLOT_PKEY) && p->keyed)
		return decimal_key_cmp(l->pm, l->pfrac, p->m, p->f);
	t = price_text(s, l, buf, &len);
	return decimal_cmp(t, len, p->txt, p->len);
}

/*
 * Position of a price in the side's order: *found tells whether the
 * level exists; otherwise the return value is where it would be inserted.
 */
static size_t side_find(const struct side *s, enum book_side which,
			const struct probe *p, bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = slot_cmp(s, &s->slot[s->order[mid]], p);

		/* Bids are best-first descending: flip the comparison. */
		if (which == BOOK_BID)
			c = -c;
		if (c < 0) {
			lo = mid + 1;
		} else if (c > 0) {
			hi = mid;
		} else {
			*found = true;
			return mid;
		}
	}
	*found = false;
	return lo;
}

static void side_remove(struct side *s, size_t pos)
{
	slot_drop(s, s->order[pos]);
	memmove(&s->order[pos], &s->order[pos + 1],
		(s->n - pos - 1) * sizeof(s->order[0]));
	s->n--;
}

/* An amount being stored: its key when it has one, and its text. */
struct amt {
	int keyed;
	uint64_t m;
	uint8_t f;
	const char *txt;
	size_t len;
};

/*
 * Store the amount (and, for a level that becomes long, both texts; a
 * keyed price keeps the text it was first stored with). Returns 0 or
 * CORE_ENOMEM with the slot as it was.
 */
static int slot_put(struct side *s, struct slot *l, const char *price,
		    size_t plen, const struct amt *a)
{
	struct longlevel *g;

	if (!(l->flags & SLOT_LONG)) {
		int64_t li;

		if ((l->flags & SLOT_PKEY) && a->keyed) {
			l->am = a->m;
			l->afrac = a->f;
			l->adig = (uint8_t)(a->len - (a->f > 0));
			return 0;
		}
		li = long_get(s);
		if (li < 0)
			return CORE_ENOMEM;
		g = &s->lng[li];
		if (l->flags & SLOT_PKEY) { /* keep the text first stored */
			g->plen = (uint8_t)key_text(l, g->price);
		} else {
			memcpy(g->price, price, plen);
			g->price[plen] = '\0';
			g->plen = (uint8_t)plen;
		}
		l->am = (uint64_t)li;
		l->flags |= SLOT_LONG;
	}
	g = &s->lng[l->am];
	memcpy(g->amount, a->txt, a->len);
	g->amount[a->len] = '\0';
	g->alen = (uint8_t)a->len;
	return 0;
}

static int side_insert(struct side *s, size_t pos, const struct probe *p,
		       const struct amt *a)
{
	struct slot *l;
	uint16_t idx;
	int rc;

	if (s->nspare == 0) {
		rc = side_grow(s);
		if (rc != 0)
			return rc;
	}
	idx = s->spare[s->nspare - 1];
	l = &s->slot[idx];
	l->flags = 0;
	if (p->keyed) {
		l->flags = SLOT_PKEY;
		l->pm = p->m;
		l->pfrac = p->f;
		l->pdig = (uint8_t)(p->len - (p->f > 0));
	}
	rc = slot_put(s, l, p->txt, p->len, a);
	if (rc != 0)
		return rc;
	s->nspare--;
	memmove(&s->order[pos + 1], &s->order[pos],
		(s->n - pos) * sizeof(s->order[0]));
	s->order[pos] = idx;
	s->n++;
	return BOOK_INSERTED;
}

/* A probe for a price text: CORE_EPARSE when it is not a decimal. */
static int probe_make(struct probe *p, const char *price, size_t len)
{
	int k = decimal_key(price, len, &p->m, &p->f);

	if (k < 0)
		return CORE_EPARSE;
	p->keyed = k;
	p->txt = price;
	p->len = len;
	return 0;
}

int book_set(struct book *b, enum book_side side, const char *price,
	     size_t price_len, const char *amount, size_t amount_len)
{
	struct side *s = &b->side[side == BOOK_ASK];
	struct probe p;
	struct amt a = { .txt = amount, .len = amount_len };
	bool found, zero;
	size_t pos;

	if (price_len >= BOOK_TEXT_MAX || amount_len >= BOOK_TEXT_MAX)
		return CORE_ETOOBIG;
	a.keyed = decimal_key(amount, amount_len, &a.m, &a.f);
	if (probe_make(&p, price, price_len) != 0 || a.keyed < 0)
		return CORE_EPARSE;
	zero = a.keyed > 0 ? a.m == 0 : decimal_is_zero(amount, amount_len);
	pos = side_find(s, side, &p, &found);
	if (zero) {
		if (!found)
			return BOOK_NOOP;
		side_remove(s, pos);
		return BOOK_DELETED;
	}
	if (found) {
		int rc = slot_put(s, &s->slot[s->order[pos]], price, price_len,
				  &a);

		return rc != 0 ? rc : BOOK_UPDATED;
	}
	return side_insert(s, pos, &p, &a);
}

void book_clear(struct book *b)
{
	side_reset(&b->side[0]);
	side_reset(&b->side[1]);
}

/* Drop the side's levels from position keep on; returns how many. */
static size_t side_cut(struct side *s, size_t keep)
{
	size_t dropped = 0;

	while (s->n > keep) {
		slot_drop(s, s->order[--s->n]);
		dropped++;
	}
	return dropped;
}

size_t book_trim(struct book *b)
{
	return side_cut(&b->side[0], b->depth) +
	       side_cut(&b->side[1], b->depth);
}

size_t book_trim_worse(struct book *b, enum book_side side, const char *price,
		       size_t price_len)
{
	struct side *s = &b->side[side == BOOK_ASK];
	struct probe p;
	size_t keep;
	bool found;

	if (probe_make(&p, price, price_len) != 0)
		return 0;
	keep = side_find(s, side, &p, &found);
	return side_cut(s, found ? keep + 1 : keep);
}

size_t book_count(const struct book *b, enum book_side side)
{
	return b->side[side == BOOK_ASK].n;
}

/* Render slot l of side s into v. */
static void render(const struct side *s, const struct slot *l,
		   struct book_level *v)
{
	if (l->flags & SLOT_LONG) {
		const struct longlevel *g = &s->lng[l->am];

		memcpy(v->price, g->price, (size_t)g->plen + 1);
		memcpy(v->amount, g->amount, (size_t)g->alen + 1);
		v->price_len = g->plen;
		v->amount_len = g->alen;
		return;
	}
	v->price_len = (uint8_t)key_text(l, v->price);
	v->amount_len =
		(uint8_t)digits_text(l->am, l->adig, l->afrac, v->amount);
}

const struct book_level *book_level(const struct book *b, enum book_side side,
				    size_t i)
{
	/* The view is a cache the const book owns: rendering changes no
	 * level. */
	struct side *s = (struct side *)&b->side[side == BOOK_ASK];

	if (i >= s->n)
		return NULL;
	render(s, &s->slot[s->order[i]], &s->view);
	return &s->view;
}

bool book_crossed(const struct book *b)
{
	const struct side *bs = &b->side[0], *as = &b->side[1];
	char buf[BOOK_TEXT_MAX];
	struct probe p;

	if (bs->n == 0 || as->n == 0)
		return false;
	p.txt = price_text(as, &as->slot[as->order[0]], buf, &p.len);
	if (probe_make(&p, p.txt, p.len) != 0)
		return false;
	return slot_cmp(bs, &bs->slot[bs->order[0]], &p) >= 0;
}

/* A rendered level is valid and its stored key agrees with its text. */
static bool level_ok(const struct slot *l, const struct book_level *v)
{
	uint64_t m;
	uint8_t f;
	int k;

	if (v->price_len >= BOOK_TEXT_MAX || v->amount_len >= BOOK_TEXT_MAX ||
	    !decimal_valid(v->amount, v->amount_len) ||
	    decimal_is_zero(v->amount, v->amount_len))
		return false;
	k = decimal_key(v->price, v->price_len, &m, &f);
	if (k < 0)
		return false;
	if (!(l->flags & SLOT_PKEY))
		return k == 0 && (l->flags & SLOT_LONG);
	return k == 1 && m == l->pm && f == l->pfrac;
}

static int side_check(const struct side *s, enum book_side which)
{
	struct book_level prev, cur;

	if (s->n > s->cap || s->n + s->nspare != s->cap || s->nlfree > s->lcap)
		return CORE_ECORRUPT;
	for (size_t k = 0; k < s->n; k++) {
		const struct slot *l = &s->slot[s->order[k]];
		int c;

		if ((l->flags & SLOT_LONG) && l->am >= s->lcap)
			return CORE_ECORRUPT;
		render(s, l, &cur);
		if (!level_ok(l, &cur))
			return CORE_ECORRUPT;
		if (k > 0) {
			c = decimal_cmp(prev.price, prev.price_len, cur.price,
					cur.price_len);
			if (which == BOOK_BID ? c <= 0 : c >= 0)
				return CORE_ECORRUPT;
		}
		prev = cur;
	}
	return 0;
}

int book_check(const struct book *b)
{
	if (side_check(&b->side[0], BOOK_BID) != 0 ||
	    side_check(&b->side[1], BOOK_ASK) != 0)
		return CORE_ECORRUPT;
	return 0;
}

size_t book_depth_limit(const struct book *b)
{
	return b->depth;
}
