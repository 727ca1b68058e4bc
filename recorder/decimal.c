/*
 * Decimal text comparison: split each number into its integer digits
 * (leading zeros removed) and fraction digits (trailing zeros removed),
 * then compare lengths and digits. No arithmetic, so no rounding.
 */
#include "decimal.h"

#include <string.h>

#include "banned.h"

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

struct parts {
	size_t ioff; /* leading zeros of the integer part */
	size_t ilen; /* significant integer digits */
	size_t flen; /* fraction digits up to the last non-zero one */
};

static void split(const char *s, size_t len, struct parts *p)
{
	size_t dot = 0, ioff = 0, flen;

	while (dot < len && s[dot] != '.')
		dot++;
	while (ioff < dot && s[ioff] == '0')
		ioff++;
	flen = dot < len ? len - dot - 1 : 0;
	while (flen > 0 && s[dot + flen] == '0')
		flen--;
	p->ioff = ioff;
	p->ilen = dot - ioff;
	p->flen = flen;
}

static int cmp_split(const char *a, const struct parts *pa, const char *b,
		     const struct parts *pb)
{
	const char *af, *bf;
	size_t n;
	int c;

	if (pa->ilen != pb->ilen)
		return pa->ilen < pb->ilen ? -1 : 1;
	/* Prices are short: a plain loop beats a memcmp call here. */
	for (size_t i = 0; i < pa->ilen; i++) {
		c = a[pa->ioff + i] - b[pb->ioff + i];
		if (c != 0)
			return c < 0 ? -1 : 1;
	}
	af = a + pa->ioff + pa->ilen + 1;
	bf = b + pb->ioff + pb->ilen + 1;
	n = pa->flen < pb->flen ? pa->flen : pb->flen;
	for (size_t i = 0; i < n; i++)
		if (af[i] != bf[i])
			return af[i] < bf[i] ? -1 : 1;
	/* The longer fraction has a non-zero digit beyond the common part. */
	if (pa->flen != pb->flen)
		return pa->flen < pb->flen ? -1 : 1;
	return 0;
}

bool decimal_split(const char *s, size_t len, struct decimal_parts *p)
{
	struct parts x;

	if (len > 255)
		return false;
	split(s, len, &x);
	p->ioff = (uint8_t)x.ioff;
	p->ilen = (uint8_t)x.ilen;
	p->flen = (uint8_t)x.flen;
	return true;
}

int decimal_cmp_parts(const char *a, const struct decimal_parts *pa,
		      const char *b, const struct decimal_parts *pb)
{
	struct parts x = { pa->ioff, pa->ilen, pa->flen };
	struct parts y = { pb->ioff, pb->ilen, pb->flen };

	return cmp_split(a, &x, b, &y);
}

int decimal_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	struct parts x, y;

	split(a, alen, &x);
	split(b, blen, &y);
	return cmp_split(a, &x, b, &y);
}

bool decimal_is_zero(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != '0' && s[i] != '.')
			return false;
	return true;
}

const uint64_t decimal_pow10[20] = {
	1ull,
	10ull,
	100ull,
	1000ull,
	10000ull,
	100000ull,
	1000000ull,
	10000000ull,
	100000000ull,
	1000000000ull,
	10000000000ull,
	100000000000ull,
	1000000000000ull,
	10000000000000ull,
	100000000000000ull,
	1000000000000000ull,
	10000000000000000ull,
	100000000000000000ull,
	1000000000000000000ull,
	10000000000000000000ull,
};

/*
 * One pass: validate as decimal_valid() does and accumulate the digits.
 * Once a digit would overflow, keep validating but report "no key".
 */
static int key_checked(const char *s, size_t len, uint64_t *mant, uint8_t *frac)
{
	uint64_t m = 0;
	size_t i = 0, dot = len, d;
	int fits = 1;

	for (;; i++) {
		while (i < len && (unsigned char)(s[i] - '0') <= 9) {
			d = (unsigned char)(s[i] - '0');
			if (m > (UINT64_MAX - d) / 10)
				fits = 0;
			else
				m = m * 10 + d;
			i++;
		}
		if (i == len || s[i] != '.' || dot != len)
			break;
		dot = i;
	}
	if (i != len || len == 0 || s[0] == '.' ||
	    (dot != len && dot + 1 == len))
		return -1;
	d = dot == len ? 0 : len - dot - 1;
	if (!fits || d > 19)
		return 0;
	*mant = m;
	*frac = (uint8_t)d;
	return 1;
}

/* The same, for the usual value of at most 19 digits, which cannot
 * overflow: no test a digit. Longer text goes to key_checked(). */
int decimal_key(const char *s, size_t len, uint64_t *mant, uint8_t *frac)
{
	uint64_t m = 0;
	size_t i, dot = len, nd = 0, d;

	for (i = 0; i < len; i++) {
		d = (unsigned char)(s[i] - '0');
		if (d <= 9) {
			m = m * 10 + d;
			nd++;
		} else if (s[i] == '.' && dot == len) {
			dot = i;
		} else {
			break;
		}
	}
	if (nd > 19)
		return key_checked(s, len, mant, frac);
	if (i != len || len == 0 || s[0] == '.' ||
	    (dot != len && dot + 1 == len))
		return -1;
	/* The fraction's digits are some of the nd <= 19. */
	*mant = m;
	*frac = (uint8_t)(dot == len ? 0 : len - dot - 1);
	return 1;
}
