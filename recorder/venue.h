/*
 * One exchange behind the generic feed (feed.c), the way curl keeps its
 * TLS backends: a const table of operations per exchange, picked by
 * connector_name. An exchange supplies its endpoints, the stream its
 * depth_limit selects (and so the book's window), symbol mapping, the
 * request frames, and the decoding of frames (text or binary) and REST
 * snapshots into the generic sync_update / sync_snapshot. Everything else
 * -- pairs, connections, REST fetching and rate limits, snapshot blocks,
 * book_snapshot_N, events, back-pressure, health, metrics, reload -- is
 * the feed's. See backup/transport.h for the same pattern.
 */
#ifndef RECORDER_VENUE_H
#define RECORDER_VENUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "sync.h"

/* Exchange symbol bytes, NUL included ("BTC_USDT", "BTCUSDT"). */
#define VENUE_SYMBOL_MAX 32

enum venue_msg_type {
	VENUE_MSG_IGNORE = 0, /* valid, not ours (other channels, trades) */
	VENUE_MSG_ACK,	      /* a subscribe/unsubscribe succeeded */
	VENUE_MSG_ERROR,      /* a request failed */
	VENUE_MSG_PONG,	      /* an application-level pong */
	VENUE_MSG_UPDATE,     /* a book push for `symbol` */
	VENUE_MSG_SHUTDOWN,   /* the server announced it closes this
			       * connection soon (Binance serverShutdown,
			       * OKX 64008): roll it over, or reconnect now
			       * when rollover is off */
};

/*
 * A decoded frame. Spans in `update` point into the frame and into the
 * venue's parser: valid until the next parse with the same parser.
 */
struct venue_msg {
	enum venue_msg_type type;
	bool unsubscribe; /* ACK/ERROR: of an unsubscribe, when the reply
			   * says (else the request id tells) */
	bool has_req_id;  /* ACK/ERROR: the reply echoed our id */
	bool refused;	  /* ERROR: the symbol is refused for good */
	uint64_t req_id;  /* ACK/ERROR */
	char symbol[VENUE_SYMBOL_MAX]; /* UPDATE; ACK/ERROR when named, "" */
	/* ACK/ERROR: more symbols a reply names (MEXC lists its topics);
	 * borrowed from the parser like the update's spans. */
	const char (*symbols)[VENUE_SYMBOL_MAX];
	size_t nsymbols;
	int64_t err_code;
	char err_text[256]; /* ERROR: the exchange's words, for the log */
	struct sync_update update;
};

/* What depth_limit selects: the stream and its window. */
struct venue_stream {
	size_t window;		 /* levels per side the book keeps */
	unsigned snapshot_limit; /* REST `limit`: the same window */
	char speed[16];		 /* "100ms", "400", ... */
	char desc[64];		 /* "spot.obu 400: window of 400 levels" */
	enum sync_mode mode;	 /* how the stream's books are synced */
	bool full_depth;	 /* every change of the whole book, no
				  * window (see sync_cfg.full_depth) */
	int channel;		 /* venue-private (Gate.io: which channel) */
	unsigned fetch_weight;	 /* REST weight of one snapshot (see
				  * venue.rest_weight_per_min) */
	bool resubscribe;	 /* snapshot mode: resync by resubscribing
				  * (sync_cfg.resubscribe) */
	bool strict;		 /* exact contiguity (sync_cfg.strict) */
	int64_t fetch_delay_us;	 /* after an ack, wait this long for a
				  * full push before fetching a snapshot */
};

struct venue {
	const char *name;	  /* the exchange label and directory */
	const char *ws_url;	  /* default WebSocket endpoint */
	const char *rest_url;	  /* default REST base */
	size_t max_streams;	  /* subscriptions per connection; 0: any */
	size_t max_per_request;	  /* symbols in one subscribe request */
	unsigned max_fetch_per_s; /* REST snapshot requests per second */
	/* REST weight the snapshots may spend per minute; 0: no budget. */
	unsigned rest_weight_per_min;
	/* Frames the recorder sends per connection per second (requests
	 * and pings; further ones wait for the next second); 0: any. */
	unsigned max_sends_per_s;
	/* Connections started per second (new ones wait); 0: any. */
	unsigned max_connects_per_s;
	int64_t ping_every_us; /* application ping period; 0: none */

	/* Pick the stream for the config. 0, or CORE_EINVAL (logged by
	 * the feed) for a channel the venue does not know. */
	int (*stream)(const struct recorder_config *c,
		      struct venue_stream *out);
	/* "BTC-USDT" to the exchange's symbol. 0, CORE_EINVAL, CORE_ETOOBIG. */
	int (*symbol)(const char *norm, char *out, size_t size);
	void *(*parser_new)(void);
	void (*parser_free)(void *parser);
	/* A (un)subscribe request for n symbols (n <= max_per_request). */
	int (*build_subscribe)(const struct venue_stream *st, char *buf,
			       size_t size, const char *const *syms, size_t n,
			       bool subscribe, uint64_t id, size_t *len);
	/* The application ping; NULL when ping_every_us is 0. */
	int (*build_ping)(char *buf, size_t size, int64_t now_us, size_t *len);
	/* Path and query to append to the REST base for one snapshot. */
	int (*snapshot_path)(const struct venue_stream *st, char *buf,
			     size_t size, const char *sym, size_t *len);
	/* One whole WebSocket frame. 0, CORE_EPARSE, CORE_ETOOBIG. */
	int (*parse_frame)(void *parser, const unsigned char *buf, size_t len,
			   bool binary, struct venue_msg *out);
	/* The exchange's book checksum (sync_cfg.checksum); NULL: none. */
	int32_t (*book_checksum)(const struct book *b);
	/* A REST snapshot body (HTTP 200). 0, CORE_EPARSE, CORE_ETOOBIG. */
	int (*parse_snapshot)(void *parser, const char *buf, size_t len,
			      struct sync_snapshot *out);
	/* How long the exchange keeps a connection open (MEXC, Binance:
	 * 24 h); 0 when not known: no planned rollover unless the config
	 * sets connection_lifetime. Added last, so venues that do not set
	 * it get 0. */
	int64_t lifetime_us;
};

extern const struct venue venue_gateio;
extern const struct venue venue_mexc;
extern const struct venue venue_binance;
extern const struct venue venue_okx;

/*
 * Empty *m for the next frame without clearing its text buffers whole:
 * on the per-message path a 400-byte memset and a printf of the symbol
 * were a measurable share of the cost.
 */
void venue_msg_reset(struct venue_msg *m);

/* The venue recording `ex`, or NULL when this version has none. */
const struct venue *venue_find(enum exchange ex);

#endif
