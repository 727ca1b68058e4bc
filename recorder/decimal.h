/*
 * Exact comparison of decimal text such as "0.0018734" without ever
 * converting to binary floating point: prices and amounts stay as the
 * exchange wrote them, and ordering is decided digit by digit.
 */
#ifndef RECORDER_DECIMAL_H
#define RECORDER_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * True when s[0..len) is a plain non-negative decimal: one or more
 * digits, optionally followed by '.' and one or more digits ("0",
 * "12.50", "0.00001234"). Rejected: signs, exponents ("1.2e-5"),
 * leading or trailing dots, spaces, an empty string.
 */
bool decimal_valid(const char *s, size_t len);

/*
 * Compare two strings accepted by decimal_valid() by value: negative
 * when a < b, 0 when equal ("1.50" == "01.5"), positive when a > b.
 * Leading zeros of the integer part and trailing zeros of the fraction
 * are ignored. Behaviour on invalid input is defined (no reads outside
 * the spans) but meaningless.
 */
int decimal_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * A valid decimal cut into its significant parts, for callers that
 * compare one stored value many times: the integer digits are
 * s[ioff, ioff + ilen) without leading zeros, the fraction digits are
 * s[ioff + ilen + 1, ... + flen) without trailing zeros.
 */
struct decimal_parts {
	uint8_t ioff;
	uint8_t ilen;
	uint8_t flen;
};

/*
 * Split a valid decimal of at most 255 bytes. Returns false (and leaves
 * *p unspecified) when len exceeds 255.
 */
bool decimal_split(const char *s, size_t len, struct decimal_parts *p);

/* decimal_cmp() on two split values. */
int decimal_cmp_parts(const char *a, const struct decimal_parts *pa,
		      const char *b, const struct decimal_parts *pb);

/*
 * A decimal as an exact integer: the digits of s without the dot as
 * *mant, the number of digits after the dot as *frac, so that the value
 * is *mant / 10^*frac. Two keys compare with decimal_key_cmp(). Returns
 * 1 when s is valid and fits (at most 19 fraction digits and a mantissa
 * under 2^64), 0 when s is valid but does not fit (compare its text),
 * -1 when s is not valid (decimal_valid() is false).
 */
int decimal_key(const char *s, size_t len, uint64_t *mant, uint8_t *frac);

/* 10^0 .. 10^19, for decimal_key_cmp(). */
extern const uint64_t decimal_pow10[20];

/* Compare two values decimal_key() returned 1 for, by value. */
static inline int decimal_key_cmp(uint64_t ma, uint8_t fa, uint64_t mb,
				  uint8_t fb)
{
	unsigned __int128 a, b;

	if (fa == fb) /* one pair's prices: usually the same tick */
		return (ma > mb) - (ma < mb);
	a = (unsigned __int128)ma * decimal_pow10[19 - fa];
	b = (unsigned __int128)mb * decimal_pow10[19 - fb];
	return (a > b) - (a < b);
}

/* True when the valid decimal s is zero ("0", "0.000"). */
bool decimal_is_zero(const char *s, size_t len);

#endif
