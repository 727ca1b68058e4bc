/*
 * OKX v5 frames and bodies, through the strict JSON scanner; level
 * arrays become book_change spans kept in the parser. Routing follows
 * EXCHANGES.md §5.2: the literal text "pong", "event" for replies,
 * "arg" + "data" for pushes.
 */
#include "okx.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "core.h"
#include "json.h"
#include "wire.h"
#include "banned.h"

struct okx_parser {
	struct wire_parser w;
};

struct okx_parser *okx_parser_new(size_t max_tokens)
{
	return wire_parser_new(sizeof(struct okx_parser),
			       max_tokens ? max_tokens : OKX_DEFAULT_TOKENS);
}

void okx_parser_free(struct okx_parser *p)
{
	wire_parser_free(p);
}

/* ------------------------------------------------------------ helpers */

/*
 * s[0..n) is an instId: uppercase letters or digits in dash-separated
 * parts, at least two ("BTC-USDT"; futures and swaps have three).
 */
static bool take_inst(const char *s, size_t n, char out[OKX_INST_MAX])
{
	size_t parts = 1;

	if (n == 0 || n >= OKX_INST_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-') {
			if (s[i - 1] == '-')
				return false;
			parts++;
		} else if (!wire_upper_alnum(s[i])) {
			return false;
		}
	}
	if (parts < 2)
		return false;
	memmove(out, s, n);
	out[n] = '\0';
	return true;
}

/* Append the level array obj[key] (required) to the level store. */
static int add_levels(struct okx_parser *p, const char *buf, size_t obj,
		      const char *key)
{
	const struct book_change *added;
	size_t n;

	return wire_levels_json(&p->w, buf, json_get(buf, p->w.tok, obj, key),
				true, &added, &n);
}

/* A code that is a JSON number or a string of digits ("60018"). */
static bool get_code(const char *buf, const struct json_tok *t, long i,
		     int64_t *out)
{
	uint64_t v;

	if (i < 0)
		return false;
	if (json_i64(buf, t, (size_t)i, out) == 0)
		return true;
	if (json_u64(buf, t, (size_t)i, true, &v) != 0 || v > INT64_MAX)
		return false;
	*out = (int64_t)v;
	return true;
}

/* The instId an error names: "...instId:BTC-USDTT doesn't exist...". */
static void inst_from_text(struct okx_msg *m)
{
	const char *at = strstr(m->text, "instId:");
	size_t n;

	if (at == NULL)
		return;
	at += strlen("instId:");
	n = strcspn(at, " ,}\"");
	if (!take_inst(at, n, m->inst))
		m->inst[0] = '\0';
}

/* ------------------------------------------------------------ frames */

static void parse_event(struct okx_parser *p, const char *buf, long ev,
			struct okx_msg *out)
{
	const struct json_tok *t = p->w.tok;
	long i = json_get(buf, t, 0, "id"), arg;

	out->has_req_id = i >= 0 &&
			  json_u64(buf, t, (size_t)i, true, &out->req_id) == 0;
	if (json_str_eq(buf, t, (size_t)ev, "subscribe") ||
	    json_str_eq(buf, t, (size_t)ev, "unsubscribe")) {
		out->type = OKX_MSG_ACK;
		out->unsubscribe = buf[t[ev].start] == 'u';
		arg = json_get(buf, t, 0, "arg");
		i = arg >= 0 ? json_get(buf, t, (size_t)arg, "instId") : -1;
		if (i >= 0 && t[i].type == JSON_STRING)
			(void)take_inst(buf + t[i].start, t[i].end - t[i].start,
					out->inst);
		return;
	}
	if (json_str_eq(buf, t, (size_t)ev, "error"))
		out->type = OKX_MSG_ERROR;
	else if (json_str_eq(buf, t, (size_t)ev, "notice"))
		out->type = OKX_MSG_NOTICE;
	else
		return;
	if (!get_code(buf, t, json_get(buf, t, 0, "code"), &out->code))
		out->code = 0;
	wire_unescape(buf, t, json_get(buf, t, 0, "msg"), out->text,
		      sizeof(out->text));
	if (out->type == OKX_MSG_ERROR)
		inst_from_text(out);
}

/* Ids, checksum and time of the data elements; they must chain. */
static int read_elements(struct okx_parser *p, const char *buf, size_t data,
			 struct okx_msg *out)
{
	const struct json_tok *t = p->w.tok;
	size_t e = json_child(data);
	int64_t prev_seq = 0;

	out->has_seq = true;
	for (uint32_t k = 0; k < t[data].size; k++, e = json_skip(t, e)) {
		int64_t seq, prev, ck;
		uint64_t ts;
		long i;

		if (t[e].type != JSON_OBJECT)
			return CORE_EPARSE;
		i = json_get(buf, t, e, "seqId");
		if (i < 0 || json_i64(buf, t, (size_t)i, &seq) != 0 ||
		    (i = json_get(buf, t, e, "prevSeqId")) < 0 ||
		    json_i64(buf, t, (size_t)i, &prev) != 0)
			out->has_seq = false;
		else if (k > 0 && prev != prev_seq)
			return CORE_EPARSE; /* the elements do not chain */
		if (out->has_seq && k == 0)
			out->prev_seq_id = prev;
		if (out->has_seq) {
			out->seq_id = seq;
			prev_seq = seq;
		}
		i = json_get(buf, t, e, "checksum");
		if (i >= 0 && json_i64(buf, t, (size_t)i, &ck) == 0 &&
		    ck != 0 && ck >= INT32_MIN && ck <= INT32_MAX) {
			out->update.has_checksum = true;
			out->update.checksum = (int32_t)ck;
		} else {
			out->update.has_checksum = false;
		}
		i = json_get(buf, t, e, "ts");
		if (i >= 0 && json_u64(buf, t, (size_t)i, true, &ts) == 0 &&
		    ts <= INT64_MAX)
			out->update.ts_ms = (int64_t)ts;
	}
	return 0;
}

/* Map the OKX chain onto the generic ids (see struct okx_msg). */
static int map_ids(struct okx_msg *out)
{
	struct sync_update *u = &out->update;

	if (out->snapshot) {
		u->full = true;
		u->last_id = out->has_seq && out->seq_id > 0
				     ? (uint64_t)out->seq_id
				     : 0;
		return 0;
	}
	if (!out->has_seq)
		return 0; /* no chain: the sync refuses it */
	if (out->prev_seq_id < 0 || out->seq_id < 0)
		return CORE_EPARSE;
	u->has_first = true;
	u->first_id = (uint64_t)out->prev_seq_id + 1;
	u->last_id = (uint64_t)out->seq_id;
	u->id_reset = out->seq_id < out->prev_seq_id;
	return 0;
}

static int parse_push(struct okx_parser *p, const char *buf, long arg,
		      struct okx_msg *out)
{
	const struct json_tok *t = p->w.tok;
	struct sync_update *u = &out->update;
	long i = json_get(buf, t, (size_t)arg, "channel"), data;
	size_t e, nb;
	int rc;

	if (i < 0 || !json_str_eq(buf, t, (size_t)i, "books"))
		return 0; /* another channel */
	i = json_get(buf, t, (size_t)arg, "instId");
	if (i < 0 || t[i].type != JSON_STRING ||
	    !take_inst(buf + t[i].start, t[i].end - t[i].start, out->inst))
		return CORE_EPARSE;
	i = json_get(buf, t, 0, "action");
	if (i < 0 || !(json_str_eq(buf, t, (size_t)i, "snapshot") ||
		       json_str_eq(buf, t, (size_t)i, "update")))
		return CORE_EPARSE;
	out->snapshot = buf[t[i].start] == 's';
	data = json_get(buf, t, 0, "data");
	if (data < 0 || t[data].type != JSON_ARRAY || t[data].size == 0 ||
	    (out->snapshot && t[data].size != 1))
		return CORE_EPARSE;
	rc = read_elements(p, buf, (size_t)data, out);
	for (int side = 0; rc == 0 && side < 2; side++) {
		e = json_child((size_t)data);
		for (uint32_t k = 0; rc == 0 && k < t[data].size; k++) {
			rc = add_levels(p, buf, e, side == 0 ? "bids" : "asks");
			e = json_skip(t, e);
		}
		if (side == 0)
			nb = p->w.nlv;
	}
	if (rc == 0)
		rc = map_ids(out);
	if (rc != 0)
		return rc;
	u->bids = p->w.lv;
	u->nbids = nb;
	u->asks = p->w.lv + nb;
	u->nasks = p->w.nlv - nb;
	u->levels_checked = true; /* by wire_levels_json */
	out->type = OKX_MSG_UPDATE;
	return 0;
}

int okx_parse_frame(struct okx_parser *p, const char *buf, size_t len,
		    struct okx_msg *out)
{
	const struct json_tok *t = p->w.tok;
	long ev, arg;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len == 4 && memcmp(buf, "pong", 4) == 0) {
		out->type = OKX_MSG_PONG;
		return 0;
	}
	rc = wire_scan(&p->w, buf, len);
	if (rc != 0 || t[0].type != JSON_OBJECT)
		return rc;
	ev = json_get(buf, t, 0, "event");
	if (ev >= 0) {
		parse_event(p, buf, ev, out);
		return 0;
	}
	arg = json_get(buf, t, 0, "arg");
	if (arg < 0 || t[arg].type != JSON_OBJECT ||
	    json_get(buf, t, 0, "data") < 0)
		return 0;
	rc = parse_push(p, buf, arg, out);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

int okx_parse_snapshot(struct okx_parser *p, const char *buf, size_t len,
		       struct sync_snapshot *out)
{
	const struct json_tok *t = p->w.tok;
	long i, data;
	size_t e;
	int64_t seq;
	uint64_t ts;
	int rc;

	rc = wire_scan_object(&p->w, buf, len, out, sizeof(*out));
	if (rc != 0)
		return rc;
	i = json_get(buf, t, 0, "code");
	if (i < 0 || !json_str_eq(buf, t, (size_t)i, "0"))
		return CORE_EPARSE;
	data = json_get(buf, t, 0, "data");
	if (data < 0 || t[data].type != JSON_ARRAY || t[data].size != 1 ||
	    t[json_child((size_t)data)].type != JSON_OBJECT)
		return CORE_EPARSE;
	e = json_child((size_t)data);
	i = json_get(buf, t, e, "seqId");
	if (i < 0 || json_i64(buf, t, (size_t)i, &seq) != 0 || seq < 0)
		return CORE_EPARSE;
	out->id = (uint64_t)seq;
	i = json_get(buf, t, e, "ts");
	if (i >= 0 && json_u64(buf, t, (size_t)i, true, &ts) == 0 &&
	    ts <= INT64_MAX)
		out->ts_ms = (int64_t)ts;
	return wire_snapshot_levels(&p->w, buf, e, out);
}

/* ------------------------------------------------------------ checksum */

static size_t put_level(char *s, size_t at, const struct book_level *l)
{
	if (at > 0)
		s[at++] = ':';
	memcpy(s + at, l->price, l->price_len);
	at += l->price_len;
	s[at++] = ':';
	memcpy(s + at, l->amount, l->amount_len);
	return at + l->amount_len;
}

int32_t okx_book_checksum(const struct book *b)
{
	/* 25 levels a side, two texts and two colons each. */
	static char s[2 * OKX_CHECKSUM_LEVELS * 2 * (BOOK_TEXT_MAX + 1)];
	size_t at = 0;
	uint32_t crc;

	for (size_t i = 0; i < OKX_CHECKSUM_LEVELS; i++) {
		const struct book_level *bid = book_level(b, BOOK_BID, i);
		const struct book_level *ask = book_level(b, BOOK_ASK, i);

		if (bid != NULL)
			at = put_level(s, at, bid);
		if (ask != NULL)
			at = put_level(s, at, ask);
	}
	crc = (uint32_t)crc32(0L, (const unsigned char *)s, (uInt)at);
	return (int32_t)crc;
}

/* ------------------------------------------------------------ builders */

bool okx_inst_valid(const char *inst)
{
	char tmp[OKX_INST_MAX];

	return inst != NULL && take_inst(inst, strlen(inst), tmp);
}

int okx_inst_from_normalized(const char *norm, char *out, size_t size)
{
	char tmp[OKX_INST_MAX];
	size_t n = strlen(norm);

	if (n >= OKX_INST_MAX)
		return CORE_EINVAL;
	for (size_t i = 0; i <= n; i++)
		tmp[i] = norm[i] >= 'a' && norm[i] <= 'z'
				 ? (char)(norm[i] - 'a' + 'A')
				 : norm[i];
	if (!take_inst(tmp, n, tmp))
		return CORE_EINVAL;
	if (n >= size)
		return CORE_ETOOBIG;
	memcpy(out, tmp, n + 1);
	return 0;
}

int okx_build_subscribe(char *buf, size_t size, const char *const *insts,
			size_t n, bool subscribe, uint64_t id, size_t *len)
{
	size_t at = 0, tl;
	int rc;

	*len = 0;
	if (n == 0 || n > OKX_MAX_CHANNELS)
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!okx_inst_valid(insts[i]))
			return CORE_EINVAL;
	if (id != 0)
		rc = wire_finish(snprintf(buf, size, "{\"id\":\"%llu\",",
					  (unsigned long long)id),
				 size, &at);
	else
		rc = wire_finish(snprintf(buf, size, "{"), size, &at);
	if (rc == 0)
		rc = wire_finish(snprintf(buf + at, size - at,
					  "\"op\":\"%s\",\"args\":[",
					  subscribe ? "subscribe"
						    : "unsubscribe"),
				 size - at, &tl);
	at += rc == 0 ? tl : 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = wire_finish(snprintf(buf + at, size - at,
					  "%s{\"channel\":\"books\",\"instId\":"
					  "\"%s\"}",
					  i ? "," : "", insts[i]),
				 size - at, &tl);
		at += rc == 0 ? tl : 0;
	}
	if (rc == 0)
		rc = wire_finish(snprintf(buf + at, size - at, "]}"), size - at,
				 &tl);
	if (rc != 0)
		return rc;
	*len = at + tl;
	return 0;
}

int okx_build_ping(char *buf, size_t size, size_t *len)
{
	*len = 0;
	return wire_finish(snprintf(buf, size, "ping"), size, len);
}

int okx_build_snapshot_path(char *buf, size_t size, const char *inst,
			    unsigned sz, size_t *len)
{
	*len = 0;
	if (!okx_inst_valid(inst) || sz == 0 || sz > OKX_BOOK_LEVELS)
		return CORE_EINVAL;
	return wire_finish(snprintf(buf, size,
				    "/api/v5/market/books?instId=%s&sz=%u",
				    inst, sz),
			   size, len);
}
