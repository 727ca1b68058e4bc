/*
 * The growable buffer and the array growth rule (see buf.h). Every size
 * is checked against the maximum before it is added or doubled.
 */
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

void buf_init(struct buf *b, size_t max)
{
	b->p = NULL;
	b->len = b->cap = 0;
	b->max = max == 0 || max > BUF_SIZE_MAX ? BUF_SIZE_MAX : max;
	b->err = 0;
}

void buf_release(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	b->err = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* The capacity for `need` bytes: doubled from BUF_MIN_CAP, capped at
 * `limit` (which is at least `need`). */
static size_t grown(size_t cap, size_t need, size_t limit)
{
	size_t n = cap ? cap : BUF_MIN_CAP;

	while (n < need && n <= limit / 2)
		n *= 2;
	return n < need || n > limit ? limit : n;
}

int buf_reserve(struct buf *b, size_t n)
{
	size_t want;
	char *p;

	if (b->err)
		return b->err;
	if (n > b->max - b->len)
		return b->err = CORE_ETOOBIG;
	want = b->len + n + 1;
	if (want <= b->cap)
		return 0;
	want = grown(b->cap, want, b->max + 1);
	if ((p = realloc(b->p, want)) == NULL)
		return b->err = CORE_ENOMEM;
	if (b->p == NULL)
		p[0] = '\0';
	b->p = p;
	b->cap = want;
	return 0;
}

char *buf_tail(struct buf *b)
{
	return b->p + b->len;
}

void buf_commit(struct buf *b, size_t n)
{
	CORE_ASSERT(b->p != NULL && n < b->cap - b->len);
	b->len += n;
	b->p[b->len] = '\0';
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);

	if (rc != 0)
		return rc;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	buf_commit(b, n);
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

/* Format into the free room; the length the whole text needs, or -1. */
static int format_tail(struct buf *b, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, aq);
	va_end(aq);
	return n;
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	int n = 0, rc;

	/* The first try usually fits; the second has the room it asked. */
	for (int pass = 0; pass < 2; pass++) {
		if ((rc = buf_reserve(b, pass == 0 ? 0 : (size_t)n)) != 0) {
			if (b->p != NULL)
				b->p[b->len] = '\0';
			return rc;
		}
		if ((n = format_tail(b, fmt, ap)) < 0)
			return b->err = CORE_EINVAL;
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return 0;
		}
	}
	return b->err = CORE_EINVAL; /* the text changed between passes */
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

const char *buf_str(const struct buf *b)
{
	return b->p != NULL ? b->p : "";
}

char *buf_ptr(struct buf *b)
{
	return b->p;
}

size_t buf_len(const struct buf *b)
{
	return b->len;
}

size_t buf_room(const struct buf *b)
{
	return b->max - b->len;
}

int buf_error(const struct buf *b)
{
	return b->err;
}

void buf_truncate(struct buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

void buf_consume(struct buf *b, size_t n)
{
	if (n == 0)
		return;
	if (n >= b->len) {
		buf_truncate(b, 0);
		return;
	}
	memmove(b->p, b->p + n, b->len - n);
	buf_truncate(b, b->len - n);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *p;

	if (len != NULL)
		*len = 0;
	if (b->err != 0 || (b->p == NULL && buf_reserve(b, 0) != 0)) {
		buf_release(b);
		return NULL;
	}
	p = b->p;
	if (len != NULL)
		*len = b->len;
	b->p = NULL; /* transferred */
	buf_release(b);
	return p;
}

int buf__grow_array(void *v, size_t *cap, size_t need, size_t elem, size_t max)
{
	size_t limit = SIZE_MAX / elem, n;
	void *old, *p;

	if (need <= *cap)
		return 0;
	if (max != 0 && max < limit)
		limit = max;
	if (need > limit)
		return CORE_ETOOBIG;
	n = grown(*cap, need, limit);
	memcpy(&old, v, sizeof(old));
	if ((p = realloc(old, n * elem)) == NULL)
		return CORE_ENOMEM;
	memcpy(v, &p, sizeof(p));
	*cap = n;
	return 0;
}
