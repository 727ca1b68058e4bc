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
};

struct book {
	size_t depth;
	size_t cap;
	struct side side[2];
	void *mem;
};

static size_t slack_for(size_t depth)
{
	size_t s = depth / 4;

	return s < 16 ? 16 : s;
}

static void side_reset(struct side *s, size_t cap)
{
	s->n = 0;
	s->nspare = cap;
	for (size_t i = 0; i < cap; i++)
		s->spare[i] = (uint16_t)(cap - 1 - i);
}

struct book *book_new(size_t depth_limit)
{
	struct book *b;
	size_t cap, per;
	char *p;

	if (depth_limit == 0 || depth_limit > BOOK_MAX_DEPTH)
		return NULL;
	cap = depth_limit + slack_for(depth_limit);
	per = cap * (sizeof(struct book_level) + 2 * sizeof(uint16_t));
	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return NULL;
	b->mem = malloc(2 * per);
	if (b->mem == NULL) {
		free(b);
		return NULL;
	}
	b->depth = depth_limit;
	b->cap = cap;
	/* Index arrays first: the 69-byte slots would misalign them. */
	p = b->mem;
	for (int i = 0; i < 2; i++) {
		struct side *s = &b->side[i];

		s->order = (uint16_t *)(void *)p;
		p += cap * sizeof(uint16_t);
		s->spare = (uint16_t *)(void *)p;
		p += cap * sizeof(uint16_t);
	}
	for (int i = 0; i < 2; i++) {
		b->side[i].slot = (struct book_level *)(void *)p;
		p += cap * sizeof(struct book_level);
		side_reset(&b->side[i], cap);
	}
	return b;
}

void book_free(struct book *b)
{
	if (b == NULL)
		return;
	free(b->mem);
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

static int side_insert(struct book *b, struct side *s, size_t pos,
		       const char *price, size_t plen,
		       const struct decimal_parts *key, const char *amount,
		       size_t alen)
{
	struct book_level *l;
	uint16_t idx;

	if (s->n == b->cap) {
		if (pos == s->n)
			return BOOK_IGNORED;
		side_remove(s, s->n - 1);
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
	return side_insert(b, s, pos, price, price_len, &key, amount,
			   amount_len);
}

void book_clear(struct book *b)
{
	side_reset(&b->side[0], b->cap);
	side_reset(&b->side[1], b->cap);
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

		if (s->n > b->cap || s->n + s->nspare != b->cap)
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
