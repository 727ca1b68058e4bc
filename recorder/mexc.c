/*
 * MEXC spot v3 text frames, REST bodies and requests: the parser object,
 * the JSON control replies and REST bodies (through the strict JSON
 * scanner; level arrays become book_change spans kept in the parser),
 * and the request builders. Binary pushes are mexc_pb.c's.
 */
#include "mexc.h"

#include <stdio.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "mexc_int.h"
#include "wire.h"
#include "banned.h"

#define TOPIC_PREFIX  "spot@public.aggre.depth.v3.api.pb@"
#define REJECT_PREFIX "Not Subscribed successfully!"

struct mexc_parser *mexc_parser_new(size_t max_tokens)
{
	return wire_parser_new(sizeof(struct mexc_parser),
			       max_tokens ? max_tokens : MEXC_DEFAULT_TOKENS);
}

void mexc_parser_free(struct mexc_parser *p)
{
	wire_parser_free(p);
}

void mexc__msg_reset(struct mexc_msg *m)
{
	m->type = MEXC_MSG_UNKNOWN;
	m->symbol[0] = '\0';
	m->interval_ms = 0;
	m->send_ms = m->create_ms = m->last_order_ms = 0;
	m->req_id = 0;
	m->has_req_id = false;
	m->code = 0;
	m->text[0] = '\0';
	m->ntopics = 0;
	memset(&m->update, 0, sizeof(m->update));
}

/* ------------------------------------------------------------ JSON */

/* Trim spaces around s[0..*n). */
static const char *trim(const char *s, size_t *n)
{
	while (*n > 0 && *s == ' ') {
		s++;
		(*n)--;
	}
	while (*n > 0 && s[*n - 1] == ' ')
		(*n)--;
	return s;
}

/*
 * The symbol in a topic: the first "@" part after the second that is
 * uppercase letters and digits with a letter (so not "100ms", "5" or
 * "UTC+0"). "" when none.
 */
static void topic_symbol(const char *s, size_t n, char out[MEXC_SYMBOL_MAX])
{
	size_t part = 0, i = 0;

	out[0] = '\0';
	while (i <= n) {
		size_t e = i;
		bool letter = false;

		for (; e < n && s[e] != '@'; e++)
			letter |= s[e] >= 'A' && s[e] <= 'Z';
		if (part >= 2 && letter && mexc__take_symbol(s + i, e - i, out))
			return;
		part++;
		i = e + 1;
	}
}

/*
 * Split a comma-joined topic list into m's symbols. With need_spot, every
 * topic must start "spot@" (an ack); returns false otherwise.
 */
static bool split_topics(const char *s, size_t n, bool need_spot,
			 struct mexc_msg *m)
{
	size_t i = 0;

	while (i <= n) {
		const char *c = memchr(s + i, ',', n - i);
		size_t e = c != NULL ? (size_t)(c - s) : n, tn = e - i;
		const char *t = trim(s + i, &tn);

		if (need_spot && (tn < 5 || memcmp(t, "spot@", 5) != 0))
			return false;
		if (tn > 0) {
			if (m->ntopics < MEXC_MAX_STREAMS)
				topic_symbol(t, tn, m->symbols[m->ntopics]);
			m->ntopics++;
		}
		i = e + 1;
	}
	return true;
}

/* Copy the msg into m->text, cut at a UTF-8 character boundary. */
static void keep_text(const char *s, size_t n, struct mexc_msg *m)
{
	if (n >= sizeof(m->text)) {
		n = sizeof(m->text) - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(m->text, s, n);
	m->text[n] = '\0';
}

static void classify_reply(const char *s, size_t n, struct mexc_msg *m)
{
	static const char rej[] = REJECT_PREFIX;

	if (n == 4 && memcmp(s, "PONG", 4) == 0) {
		m->type = MEXC_MSG_PONG;
	} else if (n >= sizeof(rej) - 1 &&
		   memcmp(s, rej, sizeof(rej) - 1) == 0) {
		const char *open = memchr(s, '[', n), *close;

		m->type = MEXC_MSG_REJECTED;
		close = open != NULL
				? memrchr(open, ']', (size_t)(s + n - open))
				: NULL;
		if (close != NULL)
			(void)split_topics(open + 1, (size_t)(close - open - 1),
					   false, m);
	} else if (m->code == 0 && n > 0 && split_topics(s, n, true, m)) {
		m->type = MEXC_MSG_ACK;
	} else {
		m->type = MEXC_MSG_ERROR;
		m->ntopics = 0;
	}
}

int mexc_parse_text(struct mexc_parser *p, const char *buf, size_t len,
		    struct mexc_msg *out)
{
	const struct json_tok *t = p->w.tok;
	long i;
	int rc;

	mexc__msg_reset(out);
	rc = wire_scan(&p->w, buf, len);
	if (rc != 0)
		return rc;
	i = json_get(buf, t, 0, "msg");
	if (t[0].type != JSON_OBJECT || i < 0 || t[i].type != JSON_STRING)
		return 0;
	/* A text longer than msg is cut: a reply is for matching and logs. */
	(void)json_unescape(buf, t, (size_t)i, p->msg, sizeof(p->msg));
	i = json_get(buf, t, 0, "id");
	out->has_req_id = i >= 0 &&
			  json_u64(buf, t, (size_t)i, false, &out->req_id) == 0;
	i = json_get(buf, t, 0, "code");
	if (i >= 0 && json_i64(buf, t, (size_t)i, &out->code) != 0)
		out->code = 0;
	keep_text(p->msg, strlen(p->msg), out);
	classify_reply(p->msg, strlen(p->msg), out);
	return 0;
}

int mexc_parse_snapshot(struct mexc_parser *p, const char *buf, size_t len,
			struct sync_snapshot *out)
{
	long i;
	int rc = wire_parse_depth(&p->w, buf, len, "lastUpdateId", true, out);

	if (rc != 0)
		return rc;
	i = json_get(buf, p->w.tok, 0, "timestamp");
	if (i >= 0 && (json_i64(buf, p->w.tok, (size_t)i, &out->ts_ms) != 0 ||
		       out->ts_ms < 0))
		out->ts_ms = 0;
	return 0;
}

int mexc_parse_rest_error(struct mexc_parser *p, const char *buf, size_t len,
			  struct mexc_rest_error *out)
{
	const struct json_tok *t = p->w.tok;
	long i;
	int rc;

	rc = wire_scan_object(&p->w, buf, len, out, sizeof(*out));
	if (rc != 0)
		return rc;
	i = json_get(buf, t, 0, "code");
	if (i >= 0 && json_i64(buf, t, (size_t)i, &out->code) != 0)
		out->code = 0;
	wire_unescape(buf, t, json_get(buf, t, 0, "msg"), out->msg,
		      sizeof(out->msg));
	return 0;
}

/* ------------------------------------------------------------ builders */

bool mexc_symbol_valid(const char *symbol)
{
	char tmp[MEXC_SYMBOL_MAX];

	return symbol != NULL && mexc__take_symbol(symbol, strlen(symbol), tmp);
}

bool mexc_speed_valid(const char *speed)
{
	return speed != NULL &&
	       (strcmp(speed, "100ms") == 0 || strcmp(speed, "10ms") == 0);
}

int mexc_symbol_from_normalized(const char *norm, char *out, size_t size)
{
	return wire_join_pair(norm, false, MEXC_SYMBOL_MAX, out, size);
}

int mexc_build_topic(char *buf, size_t size, const char *symbol,
		     const char *speed, size_t *len)
{
	*len = 0;
	if (!mexc_symbol_valid(symbol) || !mexc_speed_valid(speed))
		return CORE_EINVAL;
	return wire_finish(snprintf(buf, size, TOPIC_PREFIX "%s@%s", speed,
				    symbol),
			   size, len);
}

int mexc_build_subscribe(char *buf, size_t size, const char *const *symbols,
			 size_t n, const char *speed, bool subscribe,
			 uint64_t id, size_t *len)
{
	*len = 0;
	if (n == 0 || n > MEXC_MAX_STREAMS || !mexc_speed_valid(speed))
		return CORE_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!mexc_symbol_valid(symbols[i]))
			return CORE_EINVAL;
	return wire_build_method(buf, size,
				 subscribe ? "SUBSCRIPTION" : "UNSUBSCRIPTION",
				 symbols, n, speed, mexc_build_topic, id, len);
}

int mexc_build_ping(char *buf, size_t size, size_t *len)
{
	*len = 0;
	return wire_finish(snprintf(buf, size, "{\"method\":\"PING\"}"), size,
			   len);
}

int mexc_build_snapshot_path(char *buf, size_t size, const char *symbol,
			     unsigned limit, size_t *len)
{
	*len = 0;
	if (!mexc_symbol_valid(symbol) || limit == 0 || limit > MEXC_MAX_LIMIT)
		return CORE_EINVAL;
	return wire_finish(snprintf(buf, size,
				    "/api/v3/depth?symbol=%s&limit=%u", symbol,
				    limit),
			   size, len);
}
