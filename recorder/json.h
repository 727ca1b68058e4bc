/*
 * A small zero-allocation JSON scanner (after jsmn): it validates one
 * RFC 8259 text and fills a caller-provided token array with spans into
 * the input, so exchange messages are read without copying or malloc.
 */
#ifndef RECORDER_JSON_H
#define RECORDER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum json_type {
	JSON_NONE = 0,
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

/* Deepest nesting json_parse() accepts; deeper input is CORE_ETOOBIG. */
#define JSON_MAX_DEPTH 64
/* Largest input json_parse() accepts (token offsets are 32-bit). */
#define JSON_MAX_INPUT ((size_t)UINT32_MAX - 1)

/*
 * One token. Fields are read-only for callers. A string's span excludes
 * the quotes and is still escaped (see json_unescape()). `size` counts
 * the direct children: elements of an array, keys of an object (each
 * key token is followed by its value's subtree). `next` is the index of
 * the first token after this token's whole subtree, so siblings are
 * reached in O(1).
 */
struct json_tok {
	uint32_t start; /* byte offset of the first byte */
	uint32_t end;	/* byte offset one past the last byte */
	uint32_t size;	/* direct children (objects: keys) */
	uint32_t next;	/* index after the subtree */
	uint8_t type;	/* enum json_type */
};

/*
 * Scan buf[0..len) as one JSON value with optional surrounding white
 * space. Token 0 is the top value. Strict: no comments, no trailing
 * commas, no leading zeros, no control characters in strings, valid
 * escapes only (\uXXXX must be 4 hex digits); bytes >= 0x80 are passed
 * through unchecked. buf need not be NUL-terminated.
 * Returns 0 and sets *ntok, CORE_EPARSE for malformed input, or
 * CORE_ETOOBIG when more than max_tok tokens, more than JSON_MAX_DEPTH
 * levels or more than JSON_MAX_INPUT bytes would be needed.
 * *ntok is 0 on failure; token contents are then unspecified.
 */
int json_parse(const char *buf, size_t len, struct json_tok *tok,
	       size_t max_tok, size_t *ntok);

/*
 * Index of the value stored under `key` in the object at index obj, or
 * -1 when obj is not an object or has no such key. Keys are compared
 * byte for byte with their raw (escaped) text; the first match wins.
 */
long json_get_n(const char *buf, const struct json_tok *tok, size_t obj,
		const char *key, size_t n);
/* json_get_n with the key's length taken here, where a literal key's is
 * known to the compiler. */
static inline long json_get(const char *buf, const struct json_tok *tok,
			    size_t obj, const char *key)
{
	return json_get_n(buf, tok, obj, key, strlen(key));
}

/* Index of the first child of tok[i] (it must have size > 0). */
static inline size_t json_child(size_t i)
{
	return i + 1;
}

/* Index of the sibling after tok[i]'s subtree. */
static inline size_t json_skip(const struct json_tok *tok, size_t i)
{
	return tok[i].next;
}

/* True when tok[i] is a string whose raw text equals s. */
bool json_str_eq(const char *buf, const struct json_tok *tok, size_t i,
		 const char *s);

/*
 * Read tok[i] as an unsigned integer: a JSON number of digits only (no
 * sign, fraction or exponent), or, when allow_string is true, a string
 * holding such digits. Returns 0, CORE_EPARSE for another shape, or
 * CORE_ERANGE above UINT64_MAX.
 */
int json_u64(const char *buf, const struct json_tok *tok, size_t i,
	     bool allow_string, uint64_t *out);

/*
 * Read tok[i] as a signed integer (a JSON number, optional '-').
 * Returns 0, CORE_EPARSE or CORE_ERANGE.
 */
int json_i64(const char *buf, const struct json_tok *tok, size_t i,
	     int64_t *out);

/*
 * Decode the string tok[i] into dst (UTF-8, NUL-terminated), resolving
 * escapes (surrogate pairs joined, lone surrogates become U+FFFD).
 * Output that does not fit is truncated at a character boundary and
 * CORE_ETOOBIG is returned; dst is then still terminated. Returns 0,
 * CORE_EINVAL when tok[i] is not a string or size is 0.
 */
int json_unescape(const char *buf, const struct json_tok *tok, size_t i,
		  char *dst, size_t size);

#endif
