/*
 * Binance spot order-book protocol (EXCHANGES.md §3): request frames for
 * the diff depth stream <symbol>@depth@100ms, the REST depth path, and
 * parsers turning WS frames (raw or combined-stream framing) and REST
 * bodies into typed messages whose levels are spans into the input. Pure
 * functions plus one reusable parser object that owns the token and
 * level arrays.
 */
#ifndef RECORDER_BINANCE_H
#define RECORDER_BINANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync.h"

/* Exchange symbol ("BTCUSDT") bytes including the NUL. */
#define BINANCE_SYMBOL_MAX 32
/* Bytes kept of an error message (NUL included; longer is truncated). */
#define BINANCE_TEXT_MAX 256
/* Tokens a parser holds when created with 0: ~5400 levels. */
#define BINANCE_DEFAULT_TOKENS 16384
/* Streams one connection may carry. */
#define BINANCE_MAX_STREAMS 1024
/* Streams the recorder puts in one SUBSCRIBE request. */
#define BINANCE_MAX_PER_REQUEST 64
/* Largest REST depth limit. */
#define BINANCE_MAX_LIMIT 5000

enum binance_msg_type {
	BINANCE_MSG_UNKNOWN = 0, /* valid JSON we do not use: ignore it */
	BINANCE_MSG_ACK,	 /* {"result":...,"id":N} */
	BINANCE_MSG_ERROR,	 /* {"error":{"code","msg"},"id":N} */
	BINANCE_MSG_SHUTDOWN,	 /* serverShutdown: a planned close */
	BINANCE_MSG_UPDATE,	 /* a depthUpdate event: update */
};

/*
 * A parsed frame. Spans in update point into the frame and into the
 * parser: valid until the next parse with the same parser while the
 * frame buffer is unchanged.
 */
struct binance_msg {
	enum binance_msg_type type;
	char symbol[BINANCE_SYMBOL_MAX]; /* UPDATE: "s" (uppercase) */
	uint64_t req_id;		 /* ACK/ERROR: the echoed "id" */
	bool has_req_id;		 /* it was an unsigned integer */
	int64_t code;			 /* ERROR: the error code */
	char text[BINANCE_TEXT_MAX];	 /* ERROR: msg, unescaped UTF-8 */
	struct sync_update update;	 /* UPDATE: U, u, E, b, a */
};

struct binance_parser;

/*
 * New parser able to hold max_tokens JSON tokens (0: the default) and a
 * third as many levels; a bigger frame fails with CORE_ETOOBIG. NULL on
 * allocation failure. Free with binance_parser_free().
 */
struct binance_parser *binance_parser_new(size_t max_tokens);

/* NULL-safe. */
void binance_parser_free(struct binance_parser *p);

/*
 * Parse one WS text frame. A combined-stream frame {"stream":S,"data":D}
 * is read as D. An object with "e":"depthUpdate" is an UPDATE: "s" (a
 * symbol of uppercase letters and digits), "U" <= "u" (unsigned
 * integers), "b" and "a" ([["price","qty"],...] decimals under
 * BOOK_TEXT_MAX) are required, "E" (ms) is optional. "e":"serverShutdown"
 * is a SHUTDOWN. An object with "error" (an object with code and msg), or
 * with "code" and "msg" and no "result", is an ERROR; one with "result"
 * is an ACK. Other valid JSON is UNKNOWN. Returns 0 and fills *out,
 * CORE_EPARSE for malformed JSON or a malformed depthUpdate,
 * CORE_ETOOBIG when the frame needs more tokens or levels than the
 * parser holds. *out is reset first.
 */
int binance_parse_frame(struct binance_parser *p, const char *buf, size_t len,
			struct binance_msg *out);

/*
 * Parse a REST GET /api/v3/depth body: "lastUpdateId" (required,
 * unsigned), "bids", "asks" (required). Spans as for
 * binance_parse_frame(). Returns 0, CORE_EPARSE or CORE_ETOOBIG.
 */
int binance_parse_snapshot(struct binance_parser *p, const char *buf,
			   size_t len, struct sync_snapshot *out);

/*
 * Map a normalized pair "BTC-USDT" to Binance's REST symbol "BTCUSDT":
 * exactly one separator with one or more ASCII letters or digits on each
 * side, letters made uppercase. Returns 0, CORE_EINVAL for another
 * shape, CORE_ETOOBIG when out is too small.
 */
int binance_symbol_from_normalized(const char *norm, char *out, size_t size);

/* True for a Binance symbol: 1..31 uppercase ASCII letters or digits. */
bool binance_symbol_valid(const char *symbol);

/* True when speed is a diff depth update speed: "100ms" or "1000ms". */
bool binance_speed_valid(const char *speed);

/*
 * The stream name "btcusdt@depth@100ms" ("btcusdt@depth" for 1000ms).
 * Returns 0 and sets *len (excluding the NUL), CORE_EINVAL for a bad
 * symbol or speed, CORE_ETOOBIG when buf is too small.
 */
int binance_build_stream(char *buf, size_t size, const char *symbol,
			 const char *speed, size_t *len);

/*
 * {"method":"SUBSCRIBE","params":["btcusdt@depth@100ms",...],"id":N}
 * (UNSUBSCRIBE when !subscribe) for 1..BINANCE_MAX_PER_REQUEST symbols.
 * Returns as binance_build_stream(); CORE_EINVAL also for n out of range.
 */
int binance_build_subscribe(char *buf, size_t size, const char *const *symbols,
			    size_t n, const char *speed, bool subscribe,
			    uint64_t id, size_t *len);

/*
 * The snapshot path to append to the REST base (https://api.binance.com):
 * "/api/v3/depth?symbol=BTCUSDT&limit=1000". limit is 1..BINANCE_MAX_LIMIT.
 * Returns as above.
 */
int binance_build_snapshot_path(char *buf, size_t size, const char *symbol,
				unsigned limit, size_t *len);

#endif
