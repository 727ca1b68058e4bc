/*
 * Strict, iterative JSON scanner filling a caller-provided token array.
 * No recursion and no allocation: nesting is tracked in a fixed stack of
 * JSON_MAX_DEPTH entries, so hostile input cannot exhaust anything.
 */
#include "json.h"

#include <string.h>

#include "core.h"
#include "banned.h"

struct jp {
	const char *b;
	size_t len;
	size_t pos;
	struct json_tok *tok;
	size_t max;
	size_t n;
	size_t depth;
	uint32_t stack[JSON_MAX_DEPTH];
};

static void skip_ws(struct jp *p)
{
	while (p->pos < p->len) {
		char c = p->b[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Append a token; the parent (if an array) gains a child. */
static int add_tok(struct jp *p, enum json_type type, size_t start, size_t end,
		   bool is_key)
{
	struct json_tok *t;

	if (p->n >= p->max)
		return CORE_ETOOBIG;
	t = &p->tok[p->n];
	t->type = (uint8_t)type;
	t->start = (uint32_t)start;
	t->end = (uint32_t)end;
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

static int scan_escape(struct jp *p)
{
	char c;

	if (p->pos >= p->len)
		return CORE_EPARSE;
	c = p->b[p->pos++];
	if (strchr("\"\\/bfnrt", c) != NULL && c != '\0')
		return 0;
	if (c != 'u' || p->len - p->pos < 4)
		return CORE_EPARSE;
	for (int i = 0; i < 4; i++)
		if (!is_hex(p->b[p->pos++]))
			return CORE_EPARSE;
	return 0;
}

/* p->pos is at the opening quote. */
static int scan_string(struct jp *p, bool is_key)
{
	size_t start = ++p->pos;

	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->b[p->pos++];

		if (c == '"')
			return add_tok(p, JSON_STRING, start, p->pos - 1,
				       is_key);
		if (c < 0x20)
			return CORE_EPARSE;
		if (c == '\\' && scan_escape(p) != 0)
			return CORE_EPARSE;
	}
	return CORE_EPARSE;
}

static size_t scan_digits(struct jp *p)
{
	size_t n = 0;

	while (p->pos < p->len && is_digit(p->b[p->pos])) {
		p->pos++;
		n++;
	}
	return n;
}

static int scan_number(struct jp *p)
{
	size_t start = p->pos;

	if (p->b[p->pos] == '-')
		p->pos++;
	if (p->pos >= p->len || !is_digit(p->b[p->pos]))
		return CORE_EPARSE;
	if (p->b[p->pos] == '0')
		p->pos++;
	else
		scan_digits(p);
	if (p->pos < p->len && p->b[p->pos] == '.') {
		p->pos++;
		if (scan_digits(p) == 0)
			return CORE_EPARSE;
	}
	if (p->pos < p->len && (p->b[p->pos] == 'e' || p->b[p->pos] == 'E')) {
		p->pos++;
		if (p->pos < p->len &&
		    (p->b[p->pos] == '+' || p->b[p->pos] == '-'))
			p->pos++;
		if (scan_digits(p) == 0)
			return CORE_EPARSE;
	}
	return add_tok(p, JSON_NUMBER, start, p->pos, false);
}

static int scan_literal(struct jp *p, const char *word, enum json_type type)
{
	size_t n = strlen(word), start = p->pos;

	if (p->len - p->pos < n || memcmp(p->b + p->pos, word, n) != 0)
		return CORE_EPARSE;
	p->pos += n;
	return add_tok(p, type, start, p->pos, false);
}

static int open_container(struct jp *p, enum json_type type)
{
	int rc;

	if (p->depth >= JSON_MAX_DEPTH)
		return CORE_ETOOBIG;
	rc = add_tok(p, type, p->pos, p->pos, false);
	if (rc != 0)
		return rc;
	p->stack[p->depth++] = (uint32_t)(p->n - 1);
	p->pos++;
	return 0;
}

static void close_container(struct jp *p)
{
	struct json_tok *t = &p->tok[p->stack[--p->depth]];

	p->pos++;
	t->end = (uint32_t)p->pos;
	t->next = (uint32_t)p->n;
}

static int scan_scalar(struct jp *p)
{
	switch (p->b[p->pos]) {
	case '"':
		return scan_string(p, false);
	case 't':
		return scan_literal(p, "true", JSON_TRUE);
	case 'f':
		return scan_literal(p, "false", JSON_FALSE);
	case 'n':
		return scan_literal(p, "null", JSON_NULL);
	default:
		return scan_number(p);
	}
}

/* An object key and its colon; p->pos is at the key's quote. */
static int scan_key(struct jp *p)
{
	int rc;

	skip_ws(p);
	if (p->pos >= p->len || p->b[p->pos] != '"')
		return CORE_EPARSE;
	rc = scan_string(p, true);
	if (rc != 0)
		return rc;
	skip_ws(p);
	if (p->pos >= p->len || p->b[p->pos] != ':')
		return CORE_EPARSE;
	p->pos++;
	return 0;
}

static enum json_type top_type(const struct jp *p)
{
	return (enum json_type)p->tok[p->stack[p->depth - 1]].type;
}

/*
 * After a complete value: close finished containers and consume the
 * separator. Sets *want_key when the next thing is an object key.
 * Returns 1 when the whole text is done, 0 to continue, or an error.
 */
static int after_value(struct jp *p, bool *want_key)
{
	for (;;) {
		char c, closer;

		skip_ws(p);
		if (p->depth == 0)
			return p->pos == p->len ? 1 : CORE_EPARSE;
		if (p->pos >= p->len)
			return CORE_EPARSE;
		c = p->b[p->pos];
		closer = top_type(p) == JSON_OBJECT ? '}' : ']';
		if (c == ',') {
			p->pos++;
			*want_key = top_type(p) == JSON_OBJECT;
			return 0;
		}
		if (c != closer)
			return CORE_EPARSE;
		close_container(p);
	}
}

/* Opens a container and handles an immediately following closer. */
static int scan_open(struct jp *p, bool *want_key, bool *done)
{
	enum json_type type = p->b[p->pos] == '{' ? JSON_OBJECT : JSON_ARRAY;
	int rc = open_container(p, type);

	if (rc != 0)
		return rc;
	skip_ws(p);
	if (p->pos < p->len &&
	    p->b[p->pos] == (type == JSON_OBJECT ? '}' : ']')) {
		close_container(p);
		rc = after_value(p, want_key);
		*done = rc == 1;
		return rc < 0 ? rc : 0;
	}
	*want_key = type == JSON_OBJECT;
	return 0;
}

static int scan(struct jp *p)
{
	bool want_key = false, done = false;
	int rc;

	while (!done) {
		if (want_key && (rc = scan_key(p)) != 0)
			return rc;
		want_key = false;
		skip_ws(p);
		if (p->pos >= p->len)
			return CORE_EPARSE;
		if (p->b[p->pos] == '{' || p->b[p->pos] == '[') {
			rc = scan_open(p, &want_key, &done);
			if (rc != 0)
				return rc;
			continue;
		}
		rc = scan_scalar(p);
		if (rc != 0)
			return rc;
		rc = after_value(p, &want_key);
		if (rc < 0)
			return rc;
		done = rc == 1;
	}
	return 0;
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
	memset(&p, 0, sizeof(p));
	p.b = buf;
	p.len = len;
	p.tok = tok;
	p.max = max_tok < UINT32_MAX ? max_tok : UINT32_MAX - 1;
	rc = scan(&p);
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

long json_get(const char *buf, const struct json_tok *tok, size_t obj,
	      const char *key)
{
	size_t k = obj + 1;

	if (tok[obj].type != JSON_OBJECT)
		return -1;
	for (uint32_t c = 0; c < tok[obj].size; c++) {
		if (json_str_eq(buf, tok, k, key))
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
