/*
 * Gate.io spot v4 order-book protocol (EXCHANGES.md §1): request frames
 * for spot.order_book_update and spot.obu, the REST snapshot path, and
 * parsers turning WS frames and REST bodies into typed messages whose
 * levels are spans into the input. Pure functions plus one reusable
 * parser object that owns the token and level arrays.
 */
#ifndef RECORDER_GATEIO_H
#define RECORDER_GATEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sync.h"

/* Exchange pair ("BTC_USDT") bytes including the NUL. */
#define GATEIO_PAIR_MAX 32
/* Bytes kept of an error message (NUL included; longer is truncated). */
#define GATEIO_TEXT_MAX 256
/* Tokens a parser holds when created with 0: ~5400 levels. */
#define GATEIO_DEFAULT_TOKENS 16384

enum gateio_channel {
	GATEIO_CH_ORDER_BOOK_UPDATE = 0, /* spot.order_book_update */
	GATEIO_CH_OBU,			 /* spot.obu (order book v2) */
	GATEIO_CH_OTHER,		 /* any other channel */
};

enum gateio_msg_type {
	GATEIO_MSG_UNKNOWN = 0, /* valid JSON we do not use: ignore it */
	GATEIO_MSG_ACK,		/* subscribe/unsubscribe succeeded */
	GATEIO_MSG_ERROR,	/* a request failed: err_code, err_message */
	GATEIO_MSG_PONG,	/* spot.pong */
	GATEIO_MSG_UPDATE,	/* an order-book push: update */
};

/*
 * A parsed frame. Spans in update point into the frame and into the
 * parser: valid until the next parse with the same parser while the
 * frame buffer is unchanged.
 */
struct gateio_msg {
	enum gateio_msg_type type;
	enum gateio_channel channel;
	bool unsubscribe; /* ACK/ERROR: the event was "unsubscribe" */
	/*
	 * UPDATE: the pair (obu: cut out of "ob.PAIR.LEVEL"). ACK/ERROR:
	 * the pair an "unknown currency pair: X" error names, else the
	 * first payload entry that is a pair or obu stream; "" if none.
	 */
	char pair[GATEIO_PAIR_MAX];
	unsigned level;	 /* obu stream level (400, 50), or "l"; 0: unknown */
	uint64_t req_id; /* ACK/ERROR: the request's echoed "id" */
	bool has_req_id; /* the reply carried one (2021 acks did not) */
	int64_t time_ms; /* envelope time_ms (else time * 1000); 0: absent */
	int64_t err_code;
	char err_message[GATEIO_TEXT_MAX]; /* unescaped UTF-8 */
	struct sync_update update;
};

/* A REST error body {"label":...,"message":...}, unescaped. */
struct gateio_rest_error {
	char label[64];
	char message[GATEIO_TEXT_MAX];
};

struct gateio_parser;

/*
 * New parser able to hold max_tokens JSON tokens (0: the default); a
 * bigger frame fails with CORE_ETOOBIG. NULL on allocation failure.
 * Free with gateio_parser_free().
 */
struct gateio_parser *gateio_parser_new(size_t max_tokens);

/* NULL-safe. */
void gateio_parser_free(struct gateio_parser *p);

/*
 * Parse one WS text frame. Routes on "channel" (never requires "event",
 * which obu pushes omit) and ignores unknown fields. A present, non-null
 * "error" makes an ERROR whatever else is there, as does an ack whose
 * result.status is "fail". Returns 0 and fills *out, CORE_EPARSE for
 * malformed JSON or a book push missing a required field or holding a
 * level that is not ["decimal","decimal"] with texts under
 * BOOK_TEXT_MAX, or CORE_ETOOBIG when the frame needs more tokens than
 * the parser has. *out is reset first.
 */
int gateio_parse_frame(struct gateio_parser *p, const char *buf, size_t len,
		       struct gateio_msg *out);

/*
 * Parse a REST GET /spot/order_book?...&with_id=true body: "id"
 * (required), "current" (ms, optional), "bids", "asks" (required). Spans
 * as for gateio_parse_frame(). Returns 0, CORE_EPARSE or CORE_ETOOBIG;
 * *out is cleared on failure.
 */
int gateio_parse_snapshot(struct gateio_parser *p, const char *buf, size_t len,
			  struct sync_snapshot *out);

/*
 * Parse a REST error body. Missing fields are left empty; returns 0, or
 * CORE_EPARSE when the body is not a JSON object, CORE_ETOOBIG as above.
 */
int gateio_parse_rest_error(struct gateio_parser *p, const char *buf,
			    size_t len, struct gateio_rest_error *out);

/*
 * Map a normalized pair "BTC-USDT" to Gate's "BTC_USDT" and back. Each
 * side of the separator must be one or more ASCII letters or digits and
 * there must be exactly one separator; case is kept. Returns 0,
 * CORE_EINVAL for another shape, CORE_ETOOBIG when out is too small.
 */
int gateio_pair_from_normalized(const char *norm, char *out, size_t size);
int gateio_pair_to_normalized(const char *pair, char *out, size_t size);

/* "spot.order_book_update", "spot.obu", or NULL for another value. */
const char *gateio_channel_name(enum gateio_channel ch);

/*
 * True when speed is a documented value for the channel: "100ms" or
 * "20ms" for spot.order_book_update, "400" or "50" for spot.obu.
 */
bool gateio_speed_valid(enum gateio_channel ch, const char *speed);

/*
 * Write a subscribe (or unsubscribe) request into buf, e.g.
 * {"time":T,"id":I,"channel":"spot.obu","event":"subscribe",
 * "payload":["ob.BTC_USDT.400"]}. time_s is the request time in
 * seconds; id 0 is left out. pair must be Gate's form ([A-Za-z0-9_]).
 * Returns 0 and sets *len (excluding the NUL written after it),
 * CORE_EINVAL for a bad channel, pair or speed, CORE_ETOOBIG when buf
 * is too small.
 */
int gateio_build_subscribe(char *buf, size_t size, enum gateio_channel ch,
			   const char *pair, const char *speed, bool subscribe,
			   int64_t time_s, uint64_t id, size_t *len);

/* {"time":T,"channel":"spot.ping"}; returns as above. */
int gateio_build_ping(char *buf, size_t size, int64_t time_s, size_t *len);

/*
 * The snapshot request path to append to the REST base (e.g.
 * https://api.gateio.ws/api/v4):
 * "/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true".
 * limit is 1..BOOK_MAX_DEPTH. Returns as above.
 */
int gateio_build_snapshot_path(char *buf, size_t size, const char *pair,
			       unsigned limit, size_t *len);

#endif
