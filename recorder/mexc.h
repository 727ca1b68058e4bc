/*
 * MEXC spot v3 order-book protocol (EXCHANGES.md §2): request frames for
 * spot@public.aggre.depth.v3.api.pb, the REST depth path, a bounds-checked
 * protobuf reader for the binary PushDataV3ApiWrapper pushes, and parsers
 * for the JSON control replies and REST bodies. Levels are spans into the
 * input (protobuf strings are raw bytes, so pushes are read zero-copy).
 * Pure functions plus one reusable parser object that owns the token and
 * level arrays. mexc.c holds the text side, mexc_pb.c the binary pushes.
 */
#ifndef RECORDER_MEXC_H
#define RECORDER_MEXC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync.h"

/* Exchange symbol ("BTCUSDT") bytes including the NUL. */
#define MEXC_SYMBOL_MAX 32
/* Bytes kept of a reply's msg text (NUL included; longer is truncated). */
#define MEXC_TEXT_MAX 256
/* Tokens a parser holds when created with 0: ~5400 levels. */
#define MEXC_DEFAULT_TOKENS 16384
/* Streams one connection (and one request) may carry. */
#define MEXC_MAX_STREAMS 30
/* Largest REST depth limit. */
#define MEXC_MAX_LIMIT 5000
/* Longest reply msg a parser reads in full (30 topics fit easily). */
#define MEXC_MSG_MAX 8192

enum mexc_msg_type {
	MEXC_MSG_UNKNOWN = 0, /* a frame we do not use: ignore it */
	MEXC_MSG_ACK,	      /* (un)subscription acked: symbols */
	MEXC_MSG_REJECTED,    /* "Not Subscribed successfully!": symbols */
	MEXC_MSG_ERROR,	      /* another reply (code != 0 or odd msg) */
	MEXC_MSG_PONG,	      /* {"id":0,"code":0,"msg":"PONG"} */
	MEXC_MSG_UPDATE,      /* a body 313 push: update */
};

/*
 * A parsed frame. Spans in update point into the frame and into the
 * parser: valid until the next parse with the same parser while the
 * frame buffer is unchanged.
 */
struct mexc_msg {
	enum mexc_msg_type type;
	/*
	 * UPDATE: the push's symbol (field 3, else the channel's last
	 * "@" part). Unused otherwise.
	 */
	char symbol[MEXC_SYMBOL_MAX];
	unsigned interval_ms;	  /* UPDATE: 100 or 10 from the channel */
	int64_t send_ms;	  /* UPDATE: sendTime; 0: absent */
	int64_t create_ms;	  /* UPDATE: createTime; 0: absent */
	int64_t last_order_ms;	  /* UPDATE: lastOrderCreateTime; 0 */
	uint64_t req_id;	  /* ACK/REJECTED/ERROR/PONG: "id" */
	bool has_req_id;	  /* the reply carried a numeric "id" */
	int64_t code;		  /* the reply's "code" (0 when absent) */
	char text[MEXC_TEXT_MAX]; /* the reply's msg, unescaped UTF-8 */
	/*
	 * ACK/REJECTED: the symbol of each topic the msg names, in order
	 * (an ack lists the topics comma-joined; a rejection lists them in
	 * [...]). A topic without a recognisable symbol counts in ntopics
	 * but leaves "" in its slot; past MEXC_MAX_STREAMS topics only the
	 * count grows.
	 */
	size_t ntopics;
	char symbols[MEXC_MAX_STREAMS][MEXC_SYMBOL_MAX];
	struct sync_update update; /* UPDATE: full=false, has_first */
};

/* A REST error body {"code":-1121,"msg":"Invalid symbol."}, unescaped. */
struct mexc_rest_error {
	int64_t code;
	char msg[MEXC_TEXT_MAX];
};

struct mexc_parser;

/*
 * New parser able to hold max_tokens JSON tokens (0: the default) and a
 * third as many levels; a bigger frame fails with CORE_ETOOBIG. NULL on
 * allocation failure. Free with mexc_parser_free().
 */
struct mexc_parser *mexc_parser_new(size_t max_tokens);

/* NULL-safe. */
void mexc_parser_free(struct mexc_parser *p);

/*
 * Parse one binary WS frame: a PushDataV3ApiWrapper. Field order is not
 * assumed and unknown fields are skipped by wire type (0, 1, 2, 5);
 * groups, field number 0, varints over 10 bytes or 64 bits, and lengths
 * past the end of their message are CORE_EPARSE. A body 313
 * (publicAggreDepths) is an UPDATE: first_id = fromVersion, last_id =
 * toVersion (decimal strings, both required, from <= to), ts_ms =
 * sendTime, else createTime; every item needs a price and a quantity that
 * are decimals under BOOK_TEXT_MAX. Any other body, or none, is UNKNOWN.
 * Returns 0 and fills *out, CORE_EPARSE, or CORE_ETOOBIG when the push
 * holds more levels than the parser. *out is reset first (all but the
 * symbols[] slots past ntopics); on failure it holds no update.
 */
int mexc_parse_binary(struct mexc_parser *p, const unsigned char *buf,
		      size_t len, struct mexc_msg *out);

/*
 * Parse one WS text frame (a JSON control reply). An object with a
 * string "msg": "PONG" is a PONG; a msg starting "Not Subscribed
 * successfully!" is REJECTED (whatever its code) naming the topics in
 * its [...]; with code 0 (or none) a msg that is a comma-joined list of
 * "spot@" topics is an ACK; any other msg is an ERROR. Other valid JSON
 * is UNKNOWN. Returns 0, CORE_EPARSE for malformed JSON, CORE_ETOOBIG
 * for too many tokens. *out is reset first, as above.
 */
int mexc_parse_text(struct mexc_parser *p, const char *buf, size_t len,
		    struct mexc_msg *out);

/*
 * Parse a REST GET /api/v3/depth body: "lastUpdateId" (required, number
 * or string of digits), "bids", "asks" (required, [["p","q"],...]);
 * other fields are ignored; ts_ms is "timestamp" when present. Spans as
 * for mexc_parse_binary(). Returns 0, CORE_EPARSE or CORE_ETOOBIG.
 */
int mexc_parse_snapshot(struct mexc_parser *p, const char *buf, size_t len,
			struct sync_snapshot *out);

/*
 * Parse a REST error body. Missing fields are left empty; returns 0, or
 * CORE_EPARSE when the body is not a JSON object, CORE_ETOOBIG as above.
 */
int mexc_parse_rest_error(struct mexc_parser *p, const char *buf, size_t len,
			  struct mexc_rest_error *out);

/*
 * Map a normalized pair "BTC-USDT" to MEXC's "BTCUSDT": exactly one
 * separator with one or more uppercase ASCII letters or digits on each
 * side. The reverse cannot be derived (keep the normalized name beside
 * the symbol). Returns 0, CORE_EINVAL for another shape, CORE_ETOOBIG
 * when out is too small.
 */
int mexc_symbol_from_normalized(const char *norm, char *out, size_t size);

/* True for a MEXC symbol: 1..31 uppercase ASCII letters or digits. */
bool mexc_symbol_valid(const char *symbol);

/* True when speed is a documented push interval: "100ms" or "10ms". */
bool mexc_speed_valid(const char *speed);

/*
 * Write the topic "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT".
 * Returns 0 and sets *len (excluding the NUL), CORE_EINVAL for a bad
 * symbol or speed, CORE_ETOOBIG when buf is too small.
 */
int mexc_build_topic(char *buf, size_t size, const char *symbol,
		     const char *speed, size_t *len);

/*
 * Write a subscribe (or unsubscribe) request for the aggre depth topics
 * of n symbols (1..MEXC_MAX_STREAMS) at one speed:
 * {"method":"SUBSCRIPTION","params":["spot@...@BTCUSDT",...],"id":N}.
 * Returns as mexc_build_topic(); CORE_EINVAL also for n out of range.
 */
int mexc_build_subscribe(char *buf, size_t size, const char *const *symbols,
			 size_t n, const char *speed, bool subscribe,
			 uint64_t id, size_t *len);

/* {"method":"PING"}; returns as above. */
int mexc_build_ping(char *buf, size_t size, size_t *len);

/*
 * The snapshot request path to append to the REST base
 * (https://api.mexc.com): "/api/v3/depth?symbol=BTCUSDT&limit=100".
 * limit is 1..MEXC_MAX_LIMIT. Returns as above.
 */
int mexc_build_snapshot_path(char *buf, size_t size, const char *symbol,
			     unsigned limit, size_t *len);

#endif
