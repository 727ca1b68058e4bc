/*
 * The pieces the exchange protocol modules share (see wire.h). The level
 * readers are on the per-message path: no allocation, one pass.
 */
#include "wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "banned.h"

/* ------------------------------------------------------------ parser */

void *wire_parser_new(size_t size, size_t max_tokens)
{
	struct wire_parser *p;

	CORE_ASSERT(size >= sizeof(*p));
	p = calloc(1, size);
	if (p == NULL)
		return NULL;
	p->max_tok = max_tokens;
	p->lv_cap = max_tokens / 3 + 1;
	p->tok = calloc(p->max_tok, sizeof(*p->tok));
	p->lv = calloc(p->lv_cap, sizeof(*p->lv));
	if (p->tok == NULL || p->lv == NULL) {
		wire_parser_free(p);
		return NULL;
	}
	return p;
}

void wire_parser_free(void *obj)
{
	struct wire_parser *p = obj;

	if (p == NULL)
		return;
	free(p->tok);
	free(p->lv);
	free(p);
}

/* ------------------------------------------------------------ levels */

/*
 * The level at token i into *c: an array whose first two elements are
 * strings. The checks run in this order so no token past the array's
 * own is read.
 */
static int level_from_json(const struct json_tok *t, const char *buf, size_t i,
			   struct book_change *c)
{
	size_t pi = i + 1, ai;

	if (t[i].type != JSON_ARRAY || t[i].size < 2)
		return CORE_EPARSE;
	ai = json_skip(t, pi);
	if (t[pi].type != JSON_STRING || t[ai].type != JSON_STRING)
		return CORE_EPARSE;
	c->price = wire_text(buf, &t[pi], &c->price_len);
	c->amount = wire_text(buf, &t[ai], &c->amount_len);
	return wire_level_valid(c) ? 0 : CORE_EPARSE;
}

int wire_levels_json(struct wire_parser *p, const char *buf, long arr,
		     bool required, const struct book_change **out, size_t *n)
{
	const struct json_tok *t = p->tok;
	size_t start = p->nlv, nlv = start, i;
	uint32_t size;
	int rc = 0;

	*out = p->lv + start;
	*n = 0;
	if (arr < 0)
		return required ? CORE_EPARSE : 0;
	if (t[arr].type != JSON_ARRAY)
		return CORE_EPARSE;
	size = t[arr].size;
	i = json_child((size_t)arr);
	/* The count stays local: stores into the levels cannot touch it. */
	for (uint32_t k = 0; k < size; k++, i = json_skip(t, i)) {
		/* Cannot fill (see wire_parser_new()), but never write past. */
		if (nlv >= p->lv_cap) {
			rc = CORE_ETOOBIG;
			break;
		}
		rc = level_from_json(t, buf, i, &p->lv[nlv]);
		if (rc != 0)
			break;
		nlv++;
	}
	p->nlv = nlv;
	if (rc == 0)
		*n = nlv - start;
	return rc;
}

int wire_snapshot_levels(struct wire_parser *p, const char *buf, size_t obj,
			 struct sync_snapshot *s)
{
	const struct json_tok *t = p->tok;
	int rc;

	rc = wire_levels_json(p, buf, json_get(buf, t, obj, "bids"), true,
			      &s->bids, &s->nbids);
	if (rc == 0)
		rc = wire_levels_json(p, buf, json_get(buf, t, obj, "asks"),
				      true, &s->asks, &s->nasks);
	if (rc != 0)
		memset(s, 0, sizeof(*s));
	return rc;
}

int wire_parse_depth(struct wire_parser *p, const char *buf, size_t len,
		     const char *id_key, bool id_text,
		     struct sync_snapshot *out)
{
	long i;
	int rc = wire_scan_object(p, buf, len, out, sizeof(*out));

	if (rc != 0)
		return rc;
	i = json_get(buf, p->tok, 0, id_key);
	if (i < 0 || json_u64(buf, p->tok, (size_t)i, id_text, &out->id) != 0)
		return CORE_EPARSE;
	return wire_snapshot_levels(p, buf, 0, out);
}

/* ------------------------------------------------------------ text */

void wire_unescape(const char *buf, const struct json_tok *t, long i, char *dst,
		   size_t size)
{
	/* Truncation is fine: the text is for logs and matching. */
	if (i >= 0 && t[i].type == JSON_STRING)
		(void)json_unescape(buf, t, (size_t)i, dst, size);
}

static char upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

int wire_join_pair(const char *norm, bool fold, size_t max, char *out,
		   size_t size)
{
	const char *dash = strchr(norm, '-');
	size_t n = strlen(norm), k = 0;

	if (dash == NULL || dash == norm || dash == norm + n - 1 ||
	    strchr(dash + 1, '-') != NULL || n > max)
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (norm + i != dash &&
		    !wire_upper_alnum(fold ? upper(norm[i]) : norm[i]))
			return CORE_EINVAL;
	if (n > size)
		return CORE_ETOOBIG;
	for (size_t i = 0; i < n; i++)
		if (norm + i != dash)
			out[k++] = fold ? upper(norm[i]) : norm[i];
	out[k] = '\0';
	return 0;
}

/* ------------------------------------------------------------ builders */

int wire_finish(int n, size_t size, size_t *len)
{
	if (n < 0)
		return CORE_EINVAL;
	if ((size_t)n >= size)
		return CORE_ETOOBIG;
	*len = (size_t)n;
	return 0;
}

int wire_build_method(char *buf, size_t size, const char *method,
		      const char *const *symbols, size_t n, const char *speed,
		      wire_topic_fn topic, uint64_t id, size_t *len)
{
	size_t at, tl;
	int rc;

	*len = 0;
	rc = wire_finish(snprintf(buf, size, "{\"method\":\"%s\",\"params\":[",
				  method),
			 size, &at);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = wire_finish(snprintf(buf + at, size - at, "%s\"",
					  i ? "," : ""),
				 size - at, &tl);
		at += rc == 0 ? tl : 0;
		if (rc == 0)
			rc = topic(buf + at, size - at, symbols[i], speed, &tl);
		at += rc == 0 ? tl : 0;
		if (rc == 0)
			rc = wire_finish(snprintf(buf + at, size - at, "\""),
					 size - at, &tl);
		at += rc == 0 ? tl : 0;
	}
	if (rc == 0)
		rc = wire_finish(snprintf(buf + at, size - at, "],\"id\":%llu}",
					  (unsigned long long)id),
				 size - at, &tl);
	if (rc != 0)
		return rc;
	*len = at + tl;
	return 0;
}
