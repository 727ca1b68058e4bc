/* Parsers for sftp long listings and S3 ListObjectsV2 pages. */
#include "listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Skip one whitespace-separated field; returns the start of the next. */
static const char *skip_field(const char *p, const char *e)
{
	while (p < e && !is_blank(*p))
		p++;
	while (p < e && is_blank(*p))
		p++;
	return p;
}

static bool parse_u64(const char *p, const char *e, uint64_t *out)
{
	uint64_t v = 0;

	if (p == e)
		return false;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return true;
}

static int sftp_line(const char *p, const char *e, listing_cb cb, void *ctx)
{
	const char *f = p, *size_b, *size_e;
	uint64_t size;
	char type;

	while (e > p && (e[-1] == '\r' || is_blank(e[-1])))
		e--;
	if (e - p < 11)
		return 0;
	type = p[0];
	if (type != '-' && type != 'd')
		return 0;     /* links, devices and junk are not ours */
	f = skip_field(f, e); /* perms */
	f = skip_field(f, e); /* links */
	f = skip_field(f, e); /* owner */
	f = skip_field(f, e); /* group */
	size_b = f;
	size_e = size_b;
	while (size_e < e && !is_blank(*size_e))
		size_e++;
	if (!parse_u64(size_b, size_e, &size))
		return 0;
	f = skip_field(f, e); /* size */
	f = skip_field(f, e); /* month */
	f = skip_field(f, e); /* day */
	f = skip_field(f, e); /* time or year */
	if (f >= e)
		return 0;
	if ((e - f == 1 && f[0] == '.') ||
	    (e - f == 2 && f[0] == '.' && f[1] == '.'))
		return 0;
	for (const char *c = f; c < e; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return 0; /* control bytes are never in our names */
	return cb(ctx, f, (size_t)(e - f), type == 'd', size);
}

int listing_parse_sftp(const char *buf, size_t len, listing_cb cb, void *ctx)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		int rc = sftp_line(p, le, cb, ctx);

		if (rc != 0)
			return rc;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

static int entity(const char *s, size_t len, size_t *used)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = { { "&amp;", '&' },
		     { "&lt;", '<' },
		     { "&gt;", '>' },
		     { "&quot;", '"' },
		     { "&apos;", '\'' } };
	unsigned long v = 0;
	size_t i = 2;
	int base = 10;

	for (size_t k = 0; k < CORE_ARRAY_LEN(ents); k++) {
		size_t n = strlen(ents[k].name);

		if (len >= n && memcmp(s, ents[k].name, n) == 0) {
			*used = n;
			return (unsigned char)ents[k].c;
		}
	}
	if (len < 4 || s[1] != '#')
		return -1;
	if (s[2] == 'x') {
		base = 16;
		i = 3;
	}
	for (; i < len && i < 12 && s[i] != ';'; i++) {
		int d = (s[i] >= '0' && s[i] <= '9')   ? s[i] - '0'
			: (s[i] >= 'a' && s[i] <= 'f') ? s[i] - 'a' + 10
			: (s[i] >= 'A' && s[i] <= 'F') ? s[i] - 'A' + 10
						       : 99;

		if (d >= base)
			return -1;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (i >= len || s[i] != ';' || v == 0 || v > 127)
		return -1;
	*used = i + 1;
	return (int)v;
}

long listing_xml_decode(char *dst, size_t dstsize, const char *src, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len;) {
		int c = (unsigned char)src[i];
		size_t used = 1;

		if (c == '&' && (c = entity(src + i, len - i, &used)) < 0)
			return -1;
		if (c < 0x20 || c == 0x7f)
			return -1; /* control bytes are never in our names */
		if (o + 1 >= dstsize)
			return -1;
		dst[o++] = (char)c;
		i += used;
	}
	if (dstsize == 0)
		return -1;
	dst[o] = '\0';
	return (long)o;
}

/* Find "<tag>...</tag>" in [p, e); sets the inner span. */
static bool find_elem(const char *p, const char *e, const char *tag,
		      const char **ib, const char **ie)
{
	char open[64], close[64];
	size_t on = (size_t)snprintf(open, sizeof(open), "<%s>", tag);
	size_t cn = (size_t)snprintf(close, sizeof(close), "</%s>", tag);
	const char *b = memmem(p, (size_t)(e - p), open, on), *c;

	if (b == NULL)
		return false;
	b += on;
	c = memmem(b, (size_t)(e - b), close, cn);
	if (c == NULL)
		return false;
	*ib = b;
	*ie = c;
	return true;
}

static int s3_contents(const char *b, const char *e, listing_cb cb, void *ctx)
{
	const char *kb, *ke, *sb, *se;
	char key[1100];
	uint64_t size;
	long n;

	if (!find_elem(b, e, "Key", &kb, &ke) ||
	    !find_elem(b, e, "Size", &sb, &se) || !parse_u64(sb, se, &size))
		return CORE_EPARSE;
	n = listing_xml_decode(key, sizeof(key), kb, (size_t)(ke - kb));
	if (n <= 0)
		return 0; /* too long or undecodable: never one of ours */
	return cb(ctx, key, (size_t)n, false, size);
}

int listing_parse_s3(const char *buf, size_t len, listing_cb cb, void *ctx,
		     struct s3_list_page *page)
{
	const char *p = buf, *e = buf + len, *b, *ce;
	int rc;

	memset(page, 0, sizeof(*page));
	if (memmem(buf, len, "<ListBucketResult", 17) == NULL)
		return CORE_EPARSE;
	while (find_elem(p, e, "Contents", &b, &ce)) {
		rc = s3_contents(b, ce, cb, ctx);
		if (rc != 0)
			return rc;
		p = ce + 11; /* past "</Contents>" */
	}
	if (find_elem(buf, e, "IsTruncated", &b, &ce) && ce - b == 4 &&
	    memcmp(b, "true", 4) == 0)
		page->truncated = true;
	if (find_elem(buf, e, "NextContinuationToken", &b, &ce) &&
	    listing_xml_decode(page->next_token, sizeof(page->next_token), b,
			       (size_t)(ce - b)) < 0)
		return CORE_EPARSE;
	if (page->truncated && page->next_token[0] == '\0')
		return CORE_EPARSE; /* would loop forever */
	return 0;
}
