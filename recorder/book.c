/*
 * Order book storage: per side a pool of fixed-size level slots and an
 * array of slot indices kept in price order. Inserting moves 2-byte
 * indices, not 66-byte slots, and the position is found by binary
 * search with the exact decimal comparison.
 */
#include "book.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "banned.h"

struct side {
	struct book_level *slot; /* cap slots */
	uint16_t *order;	 /* n indices into slot, best first */
	uint16_t *spare;	 /* stack of unused slot indices */
	size_t n;
	size_t nspare;
	size_t cap;
};

struct book {
	size_t depth;
	struct side side[2];
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
	struct book_level *slot;
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

static void side_release(struct side *s)
{
	free(s->slot);
	free(s->order);
	free(s->spare);
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
 * Position of price in the side's order: *found tells whether the level
 * exists; otherwise the return value is where it would be inserted.
 */
static size_t side_find(const struct side *s, enum book_side which,
			const char *price, const struct decimal_parts *key,
			bool *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct book_level *l = &s->slot[s->order[mid]];
		int c = decimal_cmp_parts(l->price, &l->key, price, key);

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
	s->spare[s->nspare++] = s->order[pos];
	memmove(&s->order[pos], &s->order[pos + 1],
		(s->n - pos - 1) * sizeof(s->order[0]));
	s->n--;
}

static void put_text(char *dst, uint8_t *dlen, const char *src, size_t len)
{
	memcpy(dst, src, len);
	dst[len] = '\0';
	*dlen = (uint8_t)len;
}

static int side_insert(struct side *s, size_t pos, const char *price,
		       size_t plen, const struct decimal_parts *key,
		       const char *amount, size_t alen)
{
	struct book_level *l;
	uint16_t idx;

	if (s->nspare == 0) {
		int rc = side_grow(s);

		if (rc != 0)
			return rc;
	}
	idx = s->spare[--s->nspare];
	l = &s->slot[idx];
	put_text(l->price, &l->price_len, price, plen);
	put_text(l->amount, &l->amount_len, amount, alen);
	l->key = *key;
	memmove(&s->order[pos + 1], &s->order[pos],
		(s->n - pos) * sizeof(s->order[0]));
	s->order[pos] = idx;
	s->n++;
	return BOOK_INSERTED;
}

int book_set(struct book *b, enum book_side side, const char *price,
	     size_t price_len, const char *amount, size_t amount_len)
{
	struct side *s = &b->side[side == BOOK_ASK];
	struct decimal_parts key;
	bool found;
	size_t pos;

	if (price_len >= BOOK_TEXT_MAX || amount_len >= BOOK_TEXT_MAX)
		return CORE_ETOOBIG;
	if (!decimal_valid(price, price_len) ||
	    !decimal_valid(amount, amount_len))
		return CORE_EPARSE;
	decimal_split(price, price_len, &key);
	pos = side_find(s, side, price, &key, &found);
	if (decimal_is_zero(amount, amount_len)) {
		if (!found)
			return BOOK_NOOP;
		side_remove(s, pos);
		return BOOK_DELETED;
	}
	if (found) {
		struct book_level *l = &s->slot[s->order[pos]];

		put_text(l->amount, &l->amount_len, amount, amount_len);
		return BOOK_UPDATED;
	}
	return side_insert(s, pos, price, price_len, &key, amount, amount_len);
}

void book_clear(struct book *b)
{
	side_reset(&b->side[0]);
	side_reset(&b->side[1]);
}

size_t book_trim(struct book *b)
{
	size_t dropped = 0;

	for (int i = 0; i < 2; i++) {
		struct side *s = &b->side[i];

		while (s->n > b->depth) {
			s->spare[s->nspare++] = s->order[--s->n];
			dropped++;
		}
	}
	return dropped;
}

size_t book_trim_worse(struct book *b, enum book_side side, const char *price,
		       size_t price_len)
{
	struct side *s = &b->side[side == BOOK_ASK];
	struct decimal_parts key;
	size_t keep, dropped = 0;
	bool found;

	if (!decimal_split(price, price_len, &key))
		return 0;
	keep = side_find(s, side, price, &key, &found);
	if (found)
		keep++;
	while (s->n > keep) {
		s->spare[s->nspare++] = s->order[--s->n];
		dropped++;
	}
	return dropped;
}

size_t book_count(const struct book *b, enum book_side side)
{
	return b->side[side == BOOK_ASK].n;
}

const struct book_level *book_level(const struct book *b, enum book_side side,
				    size_t i)
{
	const struct side *s = &b->side[side == BOOK_ASK];

	if (i >= s->n)
		return NULL;
	return &s->slot[s->order[i]];
}

bool book_crossed(const struct book *b)
{
	const struct book_level *bid = book_level(b, BOOK_BID, 0);
	const struct book_level *ask = book_level(b, BOOK_ASK, 0);

	if (bid == NULL || ask == NULL)
		return false;
	return decimal_cmp_parts(bid->price, &bid->key, ask->price,
				 &ask->key) >= 0;
}

static bool key_ok(const struct book_level *l)
{
	struct decimal_parts k;

	return decimal_split(l->price, l->price_len, &k) &&
	       k.ioff == l->key.ioff && k.ilen == l->key.ilen &&
	       k.flen == l->key.flen;
}

static bool level_ok(const struct book_level *l)
{
	return l->price_len < BOOK_TEXT_MAX && l->amount_len < BOOK_TEXT_MAX &&
	       l->price[l->price_len] == '\0' &&
	       l->amount[l->amount_len] == '\0' &&
	       decimal_valid(l->price, l->price_len) &&
	       decimal_valid(l->amount, l->amount_len) &&
	       !decimal_is_zero(l->amount, l->amount_len) && key_ok(l);
}

int book_check(const struct book *b)
{
	for (int i = 0; i < 2; i++) {
		const struct side *s = &b->side[i];

		if (s->n > s->cap || s->n + s->nspare != s->cap)
			return CORE_ECORRUPT;
		for (size_t k = 0; k < s->n; k++) {
			const struct book_level *l = &s->slot[s->order[k]];
			const struct book_level *prev;
			int c;

			if (!level_ok(l))
				return CORE_ECORRUPT;
			if (k == 0)
				continue;
			prev = &s->slot[s->order[k - 1]];
			c = decimal_cmp(prev->price, prev->price_len, l->price,
					l->price_len);
			if (i == BOOK_BID ? c <= 0 : c >= 0)
				return CORE_ECORRUPT;
		}
	}
	return 0;
}

size_t book_depth_limit(const struct book *b)
{
	return b->depth;
}
