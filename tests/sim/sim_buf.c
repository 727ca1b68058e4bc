/*
 * Growable buffers with lws headroom, decimal formatting of scaled
 * integers, and the simulator's seeded PRNG.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "banned.h"

void sbuf_release(struct sbuf *b)
{
	free(b->mem);
	memset(b, 0, sizeof(*b));
}

void sbuf_reset(struct sbuf *b)
{
	b->len = 0;
	b->oom = 0;
}

char *sbuf_data(struct sbuf *b)
{
	if (b->mem == NULL && sbuf_reserve(b, 64) < 0)
		return NULL;
	return b->mem + LWS_PRE;
}

int sbuf_reserve(struct sbuf *b, size_t extra)
{
	size_t want, ncap;
	char *n;

	if (b->len + extra + 1 <= b->cap)
		return 0;
	want = b->len + extra + 1;
	ncap = b->cap ? b->cap : 256;
	while (ncap < want)
		ncap *= 2;
	n = realloc(b->mem, LWS_PRE + ncap);
	if (n == NULL) {
		b->oom = 1;
		return -1;
	}
	b->mem = n;
	b->cap = ncap;
	return 0;
}

void sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (sbuf_reserve(b, n) < 0)
		return;
	memcpy(b->mem + LWS_PRE + b->len, s, n);
	b->len += n;
	b->mem[LWS_PRE + b->len] = '\0';
}

void sbuf_adds(struct sbuf *b, const char *s)
{
	sbuf_add(b, s, strlen(s));
}

void sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

void sbuf_addf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->mem + LWS_PRE + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void sbuf_add_u64(struct sbuf *b, uint64_t v)
{
	char tmp[24];
	size_t n = fmt_u64(tmp, v);

	sbuf_add(b, tmp, n);
}

void sbuf_add_i64(struct sbuf *b, int64_t v)
{
	if (v < 0) {
		sbuf_addc(b, '-');
		sbuf_add_u64(b, (uint64_t)0 - (uint64_t)v);
		return;
	}
	sbuf_add_u64(b, (uint64_t)v);
}

size_t fmt_u64(char *dst, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	memcpy(dst, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}

size_t fmt_dec(char *dst, int64_t units, int dec)
{
	uint64_t v, p10 = 1, fr;
	size_t n = 0;
	int d, k;

	if (units < 0) {
		dst[n++] = '-';
		v = (uint64_t)0 - (uint64_t)units;
	} else {
		v = (uint64_t)units;
	}
	if (dec > 18)
		dec = 18;
	for (d = 0; d < dec; d++)
		p10 *= 10;
	n += fmt_u64(dst + n, v / p10);
	fr = v % p10;
	if (fr == 0)
		return n;
	/* Trim the fraction's trailing zeros the way Gate prints them. */
	k = dec;
	while (k > 0 && fr % 10 == 0) {
		fr /= 10;
		k--;
	}
	dst[n++] = '.';
	for (d = k - 1; d >= 0; d--) {
		dst[n + (size_t)d] = (char)('0' + fr % 10);
		fr /= 10;
	}
	return n + (size_t)k;
}

void sbuf_add_dec(struct sbuf *b, int64_t units, int dec)
{
	char tmp[48];
	size_t n = fmt_dec(tmp, units, dec);

	sbuf_add(b, tmp, n);
}

void sbuf_add_jstr(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			sbuf_addc(b, '\\');
			sbuf_addc(b, (char)c);
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u',	 '0',
				      '0',  hex[c >> 4], hex[c & 15] };

			sbuf_add(b, e, sizeof(e));
		} else {
			sbuf_addc(b, (char)c);
		}
	}
}

uint64_t sim_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}
