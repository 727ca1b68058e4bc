/*
 * Decimal text comparison: split each number into its integer digits
 * (leading zeros removed) and fraction digits (trailing zeros removed),
 * then compare lengths and digits. No arithmetic, so no rounding.
 */
#include "decimal.h"

#include <string.h>

#include "banned.h"

struct parts {
	const char *ip; /* integer digits without leading zeros */
	size_t ilen;
	const char *fp; /* fraction digits without trailing zeros */
	size_t flen;
};

bool decimal_valid(const char *s, size_t len)
{
	size_t i = 0, d;

	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0)
		return false;
	if (i == len)
		return true;
	if (s[i] != '.')
		return false;
	d = ++i;
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	return i == len && i > d;
}

static void split(const char *s, size_t len, struct parts *p)
{
	const char *dot = memchr(s, '.', len);
	size_t ilen = dot != NULL ? (size_t)(dot - s) : len;

	p->ip = s;
	p->ilen = ilen;
	while (p->ilen > 0 && p->ip[0] == '0') {
		p->ip++;
		p->ilen--;
	}
	if (dot == NULL) {
		p->fp = s + len;
		p->flen = 0;
		return;
	}
	p->fp = dot + 1;
	p->flen = len - ilen - 1;
	while (p->flen > 0 && p->fp[p->flen - 1] == '0')
		p->flen--;
}

int decimal_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct parts x, y;
	size_t n;
	int c;

	split(a, alen, &x);
	split(b, blen, &y);
	if (x.ilen != y.ilen)
		return x.ilen < y.ilen ? -1 : 1;
	c = memcmp(x.ip, y.ip, x.ilen);
	if (c != 0)
		return c < 0 ? -1 : 1;
	n = x.flen < y.flen ? x.flen : y.flen;
	c = memcmp(x.fp, y.fp, n);
	if (c != 0)
		return c < 0 ? -1 : 1;
	/* The longer fraction has a non-zero digit beyond the common part. */
	if (x.flen != y.flen)
		return x.flen < y.flen ? -1 : 1;
	return 0;
}

bool decimal_is_zero(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '0' && s[i] != '.')
			return false;
	return true;
}
