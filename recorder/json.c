/*
 * Strict, iterative JSON scanner filling a caller-provided token array.
 * No recursion and no allocation: nesting is tracked in a fixed stack of
 * JSON_MAX_DEPTH entries, so hostile input cannot exhaust anything.
 */
#include "json.h"

#include <string.h>

#include "core.h"
#include "banned.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && is_ws(*s))
		s++;
	return s;
}

/* Bytes a string holds as they are: not '"', '\\' or a control byte. */
#define ONES16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const uint8_t plain[256] = {
	[0x20] = 1, 1,	    0 /* " */, 1,      1,	   1, 1, 1,
	1,	    1,	    1,	       1,      1,	   1, 1, 1,
	ONES16,	    ONES16, /* 0x30, 0x40 */
	1,	    1,	    1,	       1,      1,	   1, 1, 1,
	1,	    1,	    1,	       1,      0 /* \\ */, 1, 1, 1,
	ONES16,	    ONES16, ONES16,    ONES16, ONES16, /* 0x60 to 0xaf */
	ONES16,	    ONES16, ONES16,    ONES16, ONES16, /* 0xb0 to 0xff */
};
#undef ONES16

/* The closing quote of the string whose body starts at s, or NULL. */
static const char *string_end(const char *s, const char *end)
{
	for (;;) {
		char c;

		while (end - s >= 4 && plain[(uint8_t)s[0]] &&
		       plain[(uint8_t)s[1]] && plain[(uint8_t)s[2]] &&
		       plain[(uint8_t)s[3]])
			s += 4;
		while (s < end && plain[(uint8_t)*s])
			s++;
		if (s >= end)
			return NULL;
		if (*s == '"')
			return s;
		if (*s != '\\' || ++s >= end)
			return NULL; /* a control byte, or a cut escape */
		c = *s++;
		if (c == 'u') {
			if (end - s < 4)
				return NULL;
			for (int i = 0; i < 4; i++)
				if (!is_hex(*s++))
					return NULL;
		} else if (c != '"' && c != '\\' && c != '/' && c != 'b' &&
			   c != 'f' && c != 'n' && c != 'r' && c != 't') {
			return NULL;
		}
	}
}

static const char *digits_end(const char *s, const char *end)
{
	while (s < end && is_digit(*s))
		s++;
	return s;
}

/* One past the number starting at s, or NULL. */
static const char *number_end(const char *s, const char *end)
{
	const char *d;

	if (s < end && *s == '-')
		s++;
	if (s >= end || !is_digit(*s))
		return NULL;
	s = *s == '0' ? s + 1 : digits_end(s, end);
	if (s < end && *s == '.') {
		d = s + 1;
		s = digits_end(d, end);
		if (s == d)
			return NULL;
	}
	if (s < end && (*s == 'e' || *s == 'E')) {
		s++;
		if (s < end && (*s == '+' || *s == '-'))
			s++;
		d = s;
		s = digits_end(d, end);
		if (s == d)
			return NULL;
	}
	return s;
}

/* One past the literal `word` at s, or NULL. */
static const char *literal_end(const char *s, const char *end, const char *word,
			       size_t n)
{
	if ((size_t)(end - s) < n || memcmp(s, word, n) != 0)
		return NULL;
	return s + n;
}

/*
 * The scanner's state, kept in locals by scan(): the token array, the
 * open containers (token indices) and the next token's index.
 */
struct jp {
	const char *b;
	struct json_tok *tok;
	size_t max, n, depth;
	uint32_t stack[JSON_MAX_DEPTH];
};

/* Append a token; its parent gains a child (objects count keys). */
static inline int add_tok(struct jp *p, enum json_type type, const char *from,
			  const char *to, bool is_key)
{
	struct json_tok *t;

	if (p->n >= p->max)
		return CORE_ETOOBIG;
	t = &p->tok[p->n];
	t->type = (uint8_t)type;
	t->start = (uint32_t)(from - p->b);
	t->end = (uint32_t)(to - p->b);
	t->size = 0;
	t->next = (uint32_t)(p->n + 1);
	if (p->depth > 0) {
		struct json_tok *parent = &p->tok[p->stack[p->depth - 1]];

		if (is_key || parent->type == JSON_ARRAY)
			parent->size++;
	}
	p->n++;
	return 0;
}

/* A scalar at s: its token; one past it, or NULL (*rc says why). */
static const char *scalar(struct jp *p, const char *s, const char *end, int *rc)
{
	const char *e;
	enum json_type type;

	switch (*s) {
	case '"':
		e = string_end(s + 1, end);
		if (e == NULL)
			break;
		*rc = add_tok(p, JSON_STRING, s + 1, e, false);
		return *rc == 0 ? e + 1 : NULL;
	case 't':
		e = literal_end(s, end, "true", 4);
		type = JSON_TRUE;
		goto word;
	case 'f':
		e = literal_end(s, end, "false", 5);
		type = JSON_FALSE;
		goto word;
	case 'n':
		e = literal_end(s, end, "null", 4);
		type = JSON_NULL;
		goto word;
	default:
		e = number_end(s, end);
		type = JSON_NUMBER;
word:
		if (e == NULL)
			break;
		*rc = add_tok(p, type, s, e, false);
		return *rc == 0 ? e : NULL;
	}
	*rc = CORE_EPARSE;
	return NULL;
}

/*
 * After a complete value at s: close the containers it ends and take
 * the separator. Returns one past it (*want_key: an object key is
 * next), end when the text is done, or NULL (*rc says why).
 */
static const char *after_value(struct jp *p, const char *s, const char *end,
			       bool *want_key, int *rc)
{
	*rc = CORE_EPARSE;
	for (;;) {
		struct json_tok *t;

		s = skip_ws(s, end);
		if (p->depth == 0)
			return s == end ? s : NULL;
		if (s >= end)
			return NULL;
		t = &p->tok[p->stack[p->depth - 1]];
		if (*s == ',') {
			*want_key = t->type == JSON_OBJECT;
			*rc = 0;
			return s + 1;
		}
		if (*s != (t->type == JSON_OBJECT ? '}' : ']'))
			return NULL;
		s++;
		t->end = (uint32_t)(s - p->b);
		t->next = (uint32_t)p->n;
		p->depth--;
	}
}

static int scan(struct jp *p, const char *s, const char *end)
{
	bool want_key = false;
	int rc = 0;

	for (;;) {
		s = skip_ws(s, end);
		if (want_key) {
			/* An object's key and its colon come first. */
			const char *q;

			if (s >= end || *s != '"' ||
			    (q = string_end(s + 1, end)) == NULL)
				return CORE_EPARSE;
			rc = add_tok(p, JSON_STRING, s + 1, q, true);
			if (rc != 0)
				return rc;
			s = skip_ws(q + 1, end);
			if (s >= end || *s != ':')
				return CORE_EPARSE;
			s = skip_ws(s + 1, end);
			want_key = false;
		}
		if (s >= end)
			return CORE_EPARSE;
		if (*s == '{' || *s == '[') {
			enum json_type type = *s == '{' ? JSON_OBJECT
							: JSON_ARRAY;

			if (p->depth >= JSON_MAX_DEPTH)
				return CORE_ETOOBIG;
			rc = add_tok(p, type, s, s, false);
			if (rc != 0)
				return rc;
			p->stack[p->depth++] = (uint32_t)(p->n - 1);
			s = skip_ws(s + 1, end);
			if (s >= end ||
			    *s != (type == JSON_OBJECT ? '}' : ']')) {
				want_key = type == JSON_OBJECT;
				continue;
			}
			/* Empty: after_value closes it. */
		} else if ((s = scalar(p, s, end, &rc)) == NULL) {
			return rc;
		}
		s = after_value(p, s, end, &want_key, &rc);
		if (s == NULL)
			return rc;
		if (p->depth == 0)
			return 0;
	}
}

int json_parse(const char *buf, size_t len, struct json_tok *tok,
	       size_t max_tok, size_t *ntok)
{
	struct jp p;
	int rc;

	*ntok = 0;
	if (len > JSON_MAX_INPUT)
		return CORE_ETOOBIG;
	if (buf == NULL || tok == NULL)
		return CORE_EINVAL;
	p.b = buf;
	p.tok = tok;
	p.max = max_tok < UINT32_MAX ? max_tok : UINT32_MAX - 1;
	p.n = 0;
	p.depth = 0;
	rc = scan(&p, buf, buf + len);
	if (rc != 0)
		return rc;
	*ntok = p.n;
	return 0;
}

bool json_str_eq(const char *buf, const struct json_tok *tok, size_t i,
		 const char *s)
{
	size_t n = strlen(s);

	return tok[i].type == JSON_STRING && tok[i].end - tok[i].start == n &&
	       memcmp(buf + tok[i].start, s, n) == 0;
}

long json_get_n(const char *buf, const struct json_tok *tok, size_t obj,
		const char *key, size_t n)
{
	size_t k = obj + 1;

	if (tok[obj].type != JSON_OBJECT)
		return -1;
	for (uint32_t c = 0; c < tok[obj].size; c++) {
		const char *s = buf + tok[k].start;

		/* Keys are strings (the scanner made them so). Most keys
		 * differ in their length or first byte: no call for those. */
		if (tok[k].end - tok[k].start == n &&
		    (n == 0 ||
		     (s[0] == key[0] &&
		      (n == 1 || memcmp(s + 1, key + 1, n - 1) == 0))))
			return (long)(k + 1);
		k = tok[k + 1].next;
	}
	return -1;
}

static int digits_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return CORE_EPARSE;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(s[i]))
			return CORE_EPARSE;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return CORE_ERANGE;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int json_u64(const char *buf, const struct json_tok *tok, size_t i,
	     bool allow_string, uint64_t *out)
{
	const struct json_tok *t = &tok[i];

	if (t->type != JSON_NUMBER && !(allow_string && t->type == JSON_STRING))
		return CORE_EPARSE;
	return digits_u64(buf + t->start, t->end - t->start, out);
}

int json_i64(const char *buf, const struct json_tok *tok, size_t i,
	     int64_t *out)
{
	const struct json_tok *t = &tok[i];
	const char *s = buf + t->start;
	size_t n = t->end - t->start;
	bool neg = n > 0 && s[0] == '-';
	uint64_t v;
	int rc;

	if (t->type != JSON_NUMBER)
		return CORE_EPARSE;
	rc = digits_u64(s + neg, n - neg, &v);
	if (rc != 0)
		return rc;
	if (v > (uint64_t)INT64_MAX + neg)
		return CORE_ERANGE;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

static unsigned hex4(const char *s)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (is_digit(c))
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else
			v |= (unsigned)(c - 'A' + 10);
	}
	return v;
}

static size_t utf8_put(unsigned cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode the \u escape at s (after the backslash); *used = bytes read. */
static unsigned decode_u(const char *s, size_t avail, size_t *used)
{
	unsigned cp = hex4(s + 1);

	*used = 5;
	if (cp >= 0xD800 && cp <= 0xDBFF && avail >= 11 && s[5] == '\\' &&
	    s[6] == 'u') {
		unsigned lo = hex4(s + 7);

		if (lo >= 0xDC00 && lo <= 0xDFFF) {
			*used = 11;
			return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		}
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		return 0xFFFD;
	return cp;
}

static unsigned decode_simple(char c)
{
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	default:
		return (unsigned char)c; /* " \ / */
	}
}

int json_unescape(const char *buf, const struct json_tok *tok, size_t i,
		  char *dst, size_t size)
{
	const char *s = buf + tok[i].start, *end = buf + tok[i].end;
	size_t o = 0;

	if (size == 0 || tok[i].type != JSON_STRING)
		return CORE_EINVAL;
	while (s < end) {
		char ch[4];
		size_t n = 1, used = 1;

		ch[0] = *s;
		if (*s == '\\' && s[1] == 'u') {
			unsigned cp =
				decode_u(s + 1, (size_t)(end - s - 1), &used);

			n = utf8_put(cp, ch);
			used++;
		} else if (*s == '\\') {
			ch[0] = (char)decode_simple(s[1]);
			used = 2;
		}
		if (o + n >= size) {
			dst[o] = '\0';
			return CORE_ETOOBIG;
		}
		memcpy(dst + o, ch, n);
		o += n;
		s += used;
	}
	dst[o] = '\0';
	return 0;
}
