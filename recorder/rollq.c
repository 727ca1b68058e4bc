/*
 * The rollover queue of rollq.h: a ring of entry headers over a text
 * arena that is compacted when the tail reaches its end. Memory is
 * reserved once per rollover, never per message.
 */
#include "rollq.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

struct rqent {
	uint64_t first, last;
	int64_t ts_ms;
	bool has_first, full;
	size_t off, len; /* into text */
	uint32_t nbids, nasks;
};

struct rollq {
	struct rqent *ent;
	size_t cap, head, n;
	unsigned char *text;
	size_t text_cap;
	struct book_change *chg; /* rollq_head's spans */
	size_t chg_cap;
};

struct rollq *rollq_new(size_t max_msgs, size_t max_bytes)
{
	struct rollq *q;

	if (max_msgs == 0 || max_bytes == 0 ||
	    max_msgs > SIZE_MAX / sizeof(struct rqent))
		return NULL;
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return NULL;
	q->cap = max_msgs;
	q->text_cap = max_bytes;
	q->ent = malloc(max_msgs * sizeof(*q->ent));
	q->text = malloc(max_bytes);
	if (q->ent == NULL || q->text == NULL) {
		rollq_free(q);
		return NULL;
	}
	return q;
}

void rollq_free(struct rollq *q)
{
	if (q == NULL)
		return;
	free(q->ent);
	free(q->text);
	free(q->chg);
	free(q);
}

static struct rqent *at(const struct rollq *q, size_t i)
{
	return &q->ent[(q->head + i) % q->cap];
}

/* Where the text of a new entry of len bytes goes, or SIZE_MAX. */
static size_t text_room(struct rollq *q, size_t len)
{
	size_t start, end;

	if (q->n == 0)
		return len <= q->text_cap ? 0 : SIZE_MAX;
	start = at(q, 0)->off;
	end = at(q, q->n - 1)->off + at(q, q->n - 1)->len;
	if (end >= start) {
		/* Live text is [start, end): room after it, or at 0. */
		if (q->text_cap - end >= len)
			return end;
		return start > len ? 0 : SIZE_MAX;
	}
	/* Wrapped: live text is [start, cap) and [0, end); end never
	 * reaches start, or the two cases could not be told apart. */
	return start - end > len ? end : SIZE_MAX;
}

/* The bytes of a side's records, or SIZE_MAX for a text over 255. */
static size_t side_bytes(const struct book_change *ch, size_t n)
{
	size_t b = 0;

	for (size_t i = 0; i < n; i++) {
		if (ch[i].price_len > UINT8_MAX || ch[i].amount_len > UINT8_MAX)
			return SIZE_MAX;
		b += 2 + ch[i].price_len + ch[i].amount_len;
	}
	return b;
}

static unsigned char *put_side(unsigned char *p, const struct book_change *ch,
			       size_t n)
{
	for (size_t i = 0; i < n; i++) {
		*p++ = (unsigned char)ch[i].price_len;
		*p++ = (unsigned char)ch[i].amount_len;
		memcpy(p, ch[i].price, ch[i].price_len);
		p += ch[i].price_len;
		memcpy(p, ch[i].amount, ch[i].amount_len);
		p += ch[i].amount_len;
	}
	return p;
}

int rollq_push(struct rollq *q, const struct sync_update *u)
{
	size_t nb = side_bytes(u->bids, u->nbids);
	size_t na = side_bytes(u->asks, u->nasks);
	size_t len = nb == SIZE_MAX || na == SIZE_MAX ? SIZE_MAX : nb + na;
	struct rqent *e;
	size_t off;

	/* A full push starts the stream over; so does a hole in it. */
	if (u->full || !u->has_first ||
	    (q->n > 0 && u->first_id > at(q, q->n - 1)->last + 1))
		rollq_clear(q);
	if (u->nbids > UINT32_MAX || u->nasks > UINT32_MAX ||
	    len >= q->text_cap) {
		rollq_clear(q);
		return CORE_ETOOBIG;
	}
	while (q->n == q->cap || (off = text_room(q, len)) == SIZE_MAX)
		rollq_pop(q);
	e = at(q, q->n);
	e->first = u->first_id;
	e->last = u->last_id;
	e->ts_ms = u->ts_ms;
	e->has_first = u->has_first;
	e->full = u->full;
	e->off = off;
	e->len = len;
	e->nbids = (uint32_t)u->nbids;
	e->nasks = (uint32_t)u->nasks;
	(void)put_side(put_side(q->text + off, u->bids, u->nbids), u->asks,
		       u->nasks);
	q->n++;
	return 0;
}

void rollq_trim(struct rollq *q, uint64_t last)
{
	while (q->n > 0 && at(q, 0)->last <= last)
		rollq_pop(q);
}

int rollq_head(struct rollq *q, struct sync_update *out)
{
	const struct rqent *e;
	const unsigned char *p;
	size_t n;

	if (q->n == 0)
		return CORE_EAGAIN;
	e = at(q, 0);
	n = (size_t)e->nbids + e->nasks;
	if (n > q->chg_cap) {
		struct book_change *c = realloc(q->chg, n * sizeof(*c));

		if (c == NULL)
			return CORE_ENOMEM;
		q->chg = c;
		q->chg_cap = n;
	}
	p = q->text + e->off;
	for (size_t i = 0; i < n; i++) {
		q->chg[i].price_len = p[0];
		q->chg[i].amount_len = p[1];
		q->chg[i].price = (const char *)p + 2;
		q->chg[i].amount = (const char *)p + 2 + p[0];
		p += 2 + p[0] + p[1];
	}
	memset(out, 0, sizeof(*out));
	out->first_id = e->first;
	out->last_id = e->last;
	out->has_first = e->has_first;
	out->full = e->full;
	out->ts_ms = e->ts_ms;
	out->bids = q->chg;
	out->nbids = e->nbids;
	out->asks = q->chg + e->nbids;
	out->nasks = e->nasks;
	return 0;
}

void rollq_pop(struct rollq *q)
{
	if (q->n == 0)
		return;
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

void rollq_clear(struct rollq *q)
{
	q->head = 0;
	q->n = 0;
}

size_t rollq_count(const struct rollq *q)
{
	return q->n;
}
