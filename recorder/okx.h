/*
 * OKX v5 public order-book protocol (EXCHANGES.md §4): request frames for
 * the `books` channel, the REST market/books path, the text ping, parsers
 * turning WS frames and REST bodies into typed messages whose levels are
 * spans into the input, and the (legacy) CRC32 book checksum. Pure
 * functions plus one reusable parser object that owns the token and
 * level arrays.
 */
#ifndef RECORDER_OKX_H
#define RECORDER_OKX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "book.h"
#include "sync.h"

/* Instrument id ("BTC-USDT") bytes including the NUL. */
#define OKX_INST_MAX 32
/* Bytes kept of an error message (NUL included; longer is truncated). */
#define OKX_TEXT_MAX 256
/* Tokens a parser holds when created with 0: two 400-level sides with
 * room to spare (a level is five tokens). */
#define OKX_DEFAULT_TOKENS 16384
/* `books` channels per connection: OKX recommends fewer than 30. */
#define OKX_MAX_CHANNELS 29
/* Levels of the `books` channel and of a REST snapshot (sz). */
#define OKX_BOOK_LEVELS 400
/* Levels a side the checksum covers. */
#define OKX_CHECKSUM_LEVELS 25

enum okx_msg_type {
	OKX_MSG_UNKNOWN = 0, /* valid, not ours: ignore it */
	OKX_MSG_ACK,	     /* event subscribe/unsubscribe */
	OKX_MSG_ERROR,	     /* event error */
	OKX_MSG_NOTICE,	     /* event notice (64008: closing soon) */
	OKX_MSG_PONG,	     /* the text "pong" */
	OKX_MSG_UPDATE,	     /* a books push: update */
};

/*
 * A parsed frame. Spans in update point into the frame and into the
 * parser: valid until the next parse with the same parser while the
 * frame buffer is unchanged.
 */
struct okx_msg {
	enum okx_msg_type type;
	/* UPDATE, ACK: arg.instId; ERROR: the instId its msg names; "". */
	char inst[OKX_INST_MAX];
	bool unsubscribe; /* ACK: event "unsubscribe" */
	uint64_t req_id;  /* ACK/ERROR: the echoed "id" (digits) */
	bool has_req_id;
	int64_t code;		 /* ERROR/NOTICE: code ("60018" as text) */
	char text[OKX_TEXT_MAX]; /* ERROR/NOTICE: msg, unescaped */
	bool snapshot;		 /* UPDATE: action "snapshot" */
	bool has_seq;		 /* UPDATE: seqId and prevSeqId present */
	int64_t seq_id, prev_seq_id;
	/*
	 * UPDATE: the generic ids: a snapshot is full (last_id = seqId);
	 * an update has first_id = prevSeqId + 1, last_id = seqId, so the
	 * chain prevSeqId == last seqId is U == last + 1; a heartbeat
	 * (seqId == prevSeqId, no levels) covers no ids; seqId < prevSeqId
	 * sets id_reset. Without seq ids (the 2022 feed) an update has no
	 * first id. A non-zero checksum sets has_checksum. Several data
	 * elements are merged when they chain (bids of all, then asks).
	 */
	struct sync_update update;
};

struct okx_parser;

struct okx_parser *okx_parser_new(size_t max_tokens);
void okx_parser_free(struct okx_parser *p);

/*
 * Parse one WS text frame. "pong" is a PONG. JSON objects route on
 * "event" (subscribe, unsubscribe, error, notice) or on "arg" + "data"
 * (channel "books"; other channels are UNKNOWN). A books push needs
 * "action" snapshot or update and a data array of objects with "bids"
 * and "asks" ([["px","sz",...],...], decimals under BOOK_TEXT_MAX);
 * "ts" (ms text), "checksum", "seqId", "prevSeqId" are read when
 * present. Returns 0 and fills *out, CORE_EPARSE for malformed JSON or
 * a malformed push (data elements that do not chain included),
 * CORE_ETOOBIG when the parser is too small. *out is reset first.
 */
int okx_parse_frame(struct okx_parser *p, const char *buf, size_t len,
		    struct okx_msg *out);

/*
 * Parse a REST GET /api/v5/market/books body: "code" "0" and data[0]
 * with "bids", "asks" and "seqId" (the snapshot-less bootstrap of §4.6
 * bridges on it; a body without it cannot be bridged: CORE_EPARSE).
 */
int okx_parse_snapshot(struct okx_parser *p, const char *buf, size_t len,
		       struct sync_snapshot *out);

/*
 * The checksum of §4.5 over a book: the first 25 levels interleaved
 * "bid1px:bid1sz:ask1px:ask1sz:..." (texts as stored), CRC32 (IEEE) as
 * a signed 32-bit integer.
 */
int32_t okx_book_checksum(const struct book *b);

/*
 * "BTC-USDT" (or "btc-usdt") to the instId "BTC-USDT" (the normalized
 * form is OKX's): see okx_inst_valid(), letters made uppercase. 0, CORE_EINVAL,
 * CORE_ETOOBIG.
 */
int okx_inst_from_normalized(const char *norm, char *out, size_t size);

/* True for an instId: uppercase letters and digits in dash-separated
 * parts, at least two ("BTC-USDT", "BTC-USD-SWAP"). */
bool okx_inst_valid(const char *inst);

/*
 * {"id":"N","op":"subscribe","args":[{"channel":"books","instId":"X"},...]}
 * (op unsubscribe when !subscribe) for 1..OKX_MAX_CHANNELS instIds; id 0
 * is left out. Returns 0 and sets *len, CORE_EINVAL, CORE_ETOOBIG.
 */
int okx_build_subscribe(char *buf, size_t size, const char *const *insts,
			size_t n, bool subscribe, uint64_t id, size_t *len);

/* The text "ping". */
int okx_build_ping(char *buf, size_t size, size_t *len);

/* "/api/v5/market/books?instId=BTC-USDT&sz=400"; sz 1..400. */
int okx_build_snapshot_path(char *buf, size_t size, const char *inst,
			    unsigned sz, size_t *len);

#endif
