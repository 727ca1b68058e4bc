/*
 * What the four exchange protocol modules (gateio, mexc, binance, okx)
 * share: the parser object every exchange parser starts with (a frame's
 * JSON tokens and the level store its book_change spans live in), the
 * one validated level reader, and the small readers and writers of wire
 * text (token text, ids, symbols, request frames).
 */
#ifndef RECORDER_WIRE_H
#define RECORDER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "book.h"
#include "core.h"
#include "decimal.h"
#include "json.h"
#include "sync.h"

/*
 * The parse state. The protocol modules read the fields; they are
 * written only by the wire_* functions, except that MEXC's protobuf
 * reader places levels in lv itself (within lv_cap).
 */
struct wire_parser {
	struct json_tok *tok; /* the tokens of the last wire_scan() */
	size_t max_tok;
	size_t ntok;
	struct book_change *lv; /* the level store: lv_cap entries */
	size_t lv_cap;
	size_t nlv; /* entries in use since the last scan */
};

/*
 * Allocate a zeroed object of `size` bytes whose first member is a
 * struct wire_parser (an exchange parser), holding max_tokens tokens and
 * max_tokens / 3 + 1 levels: a JSON level costs at least three tokens
 * (its array and two strings), so the store cannot fill before the
 * tokens run out. NULL on allocation failure; free with
 * wire_parser_free().
 */
void *wire_parser_new(size_t size, size_t max_tokens);

/* Free an object from wire_parser_new(). NULL-safe. */
void wire_parser_free(void *obj);

/*
 * Empty the level store and tokenize buf: json_parse()'s return. The
 * scans are inline: they run once per frame.
 */
static inline int wire_scan(struct wire_parser *p, const char *buf, size_t len)
{
	p->nlv = 0;
	return json_parse(buf, len, p->tok, p->max_tok, &p->ntok);
}

/*
 * Clear *out (size bytes; out may be NULL), then wire_scan() buf: 0 when
 * it is a JSON object, CORE_EPARSE for other JSON, else json_parse()'s
 * code. For bodies that must be an object.
 */
static inline int wire_scan_object(struct wire_parser *p, const char *buf,
				   size_t len, void *out, size_t size)
{
	int rc;

	if (out != NULL)
		memset(out, 0, size);
	rc = wire_scan(p, buf, len);
	if (rc != 0)
		return rc;
	return p->tok[0].type == JSON_OBJECT ? 0 : CORE_EPARSE;
}

/*
 * The one rule for a level, whatever the wire format: its price and
 * amount are decimals under BOOK_TEXT_MAX. Inline: it runs for every
 * level of every frame.
 */
static inline bool wire_level_valid(const struct book_change *c)
{
	return c->price_len < BOOK_TEXT_MAX && c->amount_len < BOOK_TEXT_MAX &&
	       decimal_valid(c->price, c->price_len) &&
	       decimal_valid(c->amount, c->amount_len);
}

/*
 * Append the JSON level array at token index arr,
 * [["price","amount",...],...] (a level is an array of two or more
 * values, the first two strings; the rest is ignored), to the level
 * store and point *out at the *n levels added. An absent array (arr <
 * 0) is empty unless required. Returns 0, CORE_EPARSE for another value,
 * a malformed level or a required array missing, CORE_ETOOBIG when the
 * store is full.
 */
int wire_levels_json(struct wire_parser *p, const char *buf, long arr,
		     bool required, const struct book_change **out, size_t *n);

/*
 * Read the "bids" and "asks" level arrays (both required) of the object
 * at token obj into s's spans. Returns as wire_levels_json(); on failure
 * *s is cleared.
 */
int wire_snapshot_levels(struct wire_parser *p, const char *buf, size_t obj,
			 struct sync_snapshot *s);

/*
 * Parse a REST depth body: a JSON object with an unsigned id under
 * id_key (a number, or also a string of digits when id_text) and the
 * "bids" and "asks" level arrays; other fields are the caller's. Spans
 * as for wire_levels_json(). Returns 0, CORE_EPARSE or CORE_ETOOBIG;
 * *out is cleared first and on failure.
 */
int wire_parse_depth(struct wire_parser *p, const char *buf, size_t len,
		     const char *id_key, bool id_text,
		     struct sync_snapshot *out);

/* The raw (still escaped) text of a token, *n bytes long. */
static inline const char *wire_text(const char *buf, const struct json_tok *t,
				    size_t *n)
{
	*n = t->end - t->start;
	return buf + t->start;
}

/*
 * Unescape the string at token index i into dst (size bytes), cut to
 * fit: a message kept for logs and matching. dst is left as it is when
 * i < 0 or the token is not a string.
 */
void wire_unescape(const char *buf, const struct json_tok *t, long i, char *dst,
		   size_t size);

/* True when s[0..n) is 1..20 decimal digits that fit 64 bits: *out. */
static inline bool wire_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* [A-Z0-9]: a character of a MEXC or Binance symbol or an OKX part. */
static inline bool wire_upper_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/*
 * Copy s[0..n) and a NUL into out (size bytes) when n is 1..size-1 and
 * every byte passes ok(); false, out untouched, otherwise.
 */
static inline bool wire_take(const char *s, size_t n, char *out, size_t size,
			     bool (*ok)(char))
{
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i]))
			return false;
	memcpy(out, s, n);
	out[n] = '\0';
	return true;
}

/*
 * Join a normalized pair "BTC-USDT" into the symbol "BTCUSDT": exactly
 * one '-', one or more [A-Z0-9] on each side (letters made uppercase
 * first when fold), under max bytes with the NUL. Returns 0, CORE_EINVAL
 * for another shape, CORE_ETOOBIG when out (size bytes) is too small.
 */
int wire_join_pair(const char *norm, bool fold, size_t max, char *out,
		   size_t size);

/*
 * Turn snprintf()'s return n for a buffer of size bytes into 0 and *len,
 * CORE_ETOOBIG when the text was cut, or CORE_EINVAL on an output error.
 */
int wire_finish(int n, size_t size, size_t *len);

/* Writes the stream name of one symbol at one speed (as wire_finish()). */
typedef int (*wire_topic_fn)(char *buf, size_t size, const char *symbol,
			     const char *speed, size_t *len);

/*
 * Write {"method":"METHOD","params":["TOPIC",...],"id":N}, a topic for
 * each of the n symbols written by topic(). Returns 0 and sets *len
 * (excluding the NUL), topic()'s error, or CORE_ETOOBIG when buf is too
 * small.
 */
int wire_build_method(char *buf, size_t size, const char *method,
		      const char *const *symbols, size_t n, const char *speed,
		      wire_topic_fn topic, uint64_t id, size_t *len);

#endif
