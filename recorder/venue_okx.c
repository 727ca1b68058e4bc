/*
 * OKX v5 behind the venue interface: the protocol itself is in okx.c;
 * this maps it onto the generic feed (EXCHANGES.md §4).
 *
 * The `books` channel is a 400-level window (§4.3): the first push after
 * subscribing is the window's snapshot, then increments every 100 ms
 * chained by prevSeqId == last seqId (mapped so the generic strict rule
 * U == last + 1 holds). EXCHANGES.md does not say whether a level
 * pushed out of the 400 by better ones gets a delete or silently stops
 * being updated, nor whether one rising into the window is sent again;
 * the window semantics (sync_cfg.window) are right either way: the book
 * keeps exactly the best 400, dropping what falls out, and a level that
 * enters is (re)sent as the exchange maintains its own 400.
 *
 * Both bootstraps of §4.6 are taken: the stream runs in snapshot mode
 * with resubscribe, so a WS snapshot push syncs the book as a full push
 * (and a REST fetch asked for meanwhile is dropped unsent: the feed waits
 * fetch_delay_us for it), and a snapshot-less channel is bootstrapped
 * from REST market/books (seqId) and the buffered updates. Any gap,
 * crossed book or checksum mismatch resubscribes the instrument. A
 * non-zero checksum (the legacy feed) is verified on every push.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "okx.h"
#include "timeutil.h"
#include "venue.h"
#include "banned.h"

#define OKX_CODE_BAD_INST 60018

struct ov_parser {
	struct okx_parser *p;
	struct okx_msg m;
};

static int ov_stream(const struct recorder_config *c, struct venue_stream *st)
{
	memset(st, 0, sizeof(*st));
	if (c->channel != NULL && strcmp(c->channel, "books") != 0)
		return CORE_EINVAL;
	st->mode = SYNC_MODE_SNAPSHOT;
	st->resubscribe = true;
	st->strict = true;
	st->fetch_delay_us = 3 * US_PER_SEC;
	/* The channel's window, whatever depth_limit says: a level the
	 * stream still maintains must stay in the book. */
	st->window = OKX_BOOK_LEVELS;
	st->snapshot_limit = OKX_BOOK_LEVELS;
	st->fetch_weight = 1;
	snprintf(st->speed, sizeof(st->speed), "100ms");
	snprintf(st->desc, sizeof(st->desc), "books: window of %d levels",
		 OKX_BOOK_LEVELS);
	return 0;
}

static void *ov_parser_new(void)
{
	struct ov_parser *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->p = okx_parser_new(OKX_DEFAULT_TOKENS);
	if (g->p == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

static void ov_parser_free(void *parser)
{
	struct ov_parser *g = parser;

	if (g == NULL)
		return;
	okx_parser_free(g->p);
	free(g);
}

static int ov_build_subscribe(const struct venue_stream *st, char *buf,
			      size_t size, const char *const *syms, size_t n,
			      bool subscribe, uint64_t id, size_t *len)
{
	(void)st;
	return okx_build_subscribe(buf, size, syms, n, subscribe, id, len);
}

static int ov_build_ping(char *buf, size_t size, int64_t now_us, size_t *len)
{
	(void)now_us;
	return okx_build_ping(buf, size, len);
}

static int ov_snapshot_path(const struct venue_stream *st, char *buf,
			    size_t size, const char *sym, size_t *len)
{
	return okx_build_snapshot_path(buf, size, sym, st->snapshot_limit, len);
}

/* Acks and errors name their instId: match by it, not by the id a whole
 * request shares (OKX acks every arg alone). */
static void ov_reply(const struct okx_msg *m, struct venue_msg *out)
{
	snprintf(out->symbol, sizeof(out->symbol), "%s", m->inst);
	out->has_req_id = m->inst[0] == '\0' && m->has_req_id;
	out->req_id = m->req_id;
	out->unsubscribe = m->unsubscribe;
	out->err_code = m->code;
	snprintf(out->err_text, sizeof(out->err_text), "%s", m->text);
	switch (m->type) {
	case OKX_MSG_ACK:
		out->type = VENUE_MSG_ACK;
		break;
	case OKX_MSG_ERROR:
		out->type = VENUE_MSG_ERROR;
		out->refused = m->inst[0] != '\0' &&
			       m->code == OKX_CODE_BAD_INST;
		break;
	case OKX_MSG_NOTICE:
		/* 64008: closing for an upgrade within 60 s. */
		out->type = VENUE_MSG_SHUTDOWN;
		break;
	case OKX_MSG_PONG:
		out->type = VENUE_MSG_PONG;
		break;
	default:
		out->type = VENUE_MSG_IGNORE;
		break;
	}
}

static int ov_parse_frame(void *parser, const unsigned char *buf, size_t len,
			  bool binary, struct venue_msg *out)
{
	struct ov_parser *g = parser;
	int rc;

	venue_msg_reset(out);
	if (binary)
		return CORE_EPARSE; /* OKX sends text frames only */
	rc = okx_parse_frame(g->p, (const char *)buf, len, &g->m);
	if (rc != 0)
		return rc;
	if (g->m.type == OKX_MSG_UPDATE) {
		out->type = VENUE_MSG_UPDATE;
		snprintf(out->symbol, sizeof(out->symbol), "%s", g->m.inst);
		out->update = g->m.update;
		return 0;
	}
	ov_reply(&g->m, out);
	return 0;
}

static int ov_parse_snapshot(void *parser, const char *buf, size_t len,
			     struct sync_snapshot *out)
{
	struct ov_parser *g = parser;

	return okx_parse_snapshot(g->p, buf, len, out);
}

const struct venue venue_okx = {
	.name = "okx",
	.ws_url = "wss://ws.okx.com:8443/ws/v5/public",
	.rest_url = "https://www.okx.com",
	.max_streams = OKX_MAX_CHANNELS,
	.max_per_request = OKX_MAX_CHANNELS,
	/* market/books: 40 requests / 2 s per IP; half of it. */
	.max_fetch_per_s = 10,
	.max_connects_per_s = 3,
	/* Text "ping" before the 30 s idle close (4004). */
	.ping_every_us = 20 * US_PER_SEC,
	.stream = ov_stream,
	.symbol = okx_inst_from_normalized,
	.parser_new = ov_parser_new,
	.parser_free = ov_parser_free,
	.build_subscribe = ov_build_subscribe,
	.build_ping = ov_build_ping,
	.snapshot_path = ov_snapshot_path,
	.parse_frame = ov_parse_frame,
	.book_checksum = okx_book_checksum,
	.parse_snapshot = ov_parse_snapshot,
};
