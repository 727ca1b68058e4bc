/*
 * Exact comparison of decimal text such as "0.0018734" without ever
 * converting to binary floating point: prices and amounts stay as the
 * exchange wrote them, and ordering is decided digit by digit.
 */
#ifndef RECORDER_DECIMAL_H
#define RECORDER_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>

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

/* True when the valid decimal s is zero ("0", "0.000"). */
bool decimal_is_zero(const char *s, size_t len);

#endif
