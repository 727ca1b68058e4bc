/*
 * MEXC spot v3 behind the venue interface: the protocol itself is in
 * mexc.c (protobuf pushes, JSON replies); this maps it onto the generic
 * feed (EXCHANGES.md §2).
 *
 * The aggre depth stream is a diff stream of the whole book, not a
 * window: the book is as deep as the REST snapshot (depth_limit levels
 * a side, MEXC's limit), and levels below it appear only when they
 * change, so the book keeps depth_limit levels.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "mexc.h"
#include "timeutil.h"
#include "venue.h"
#include "banned.h"

#define MEXC_SPEED "100ms"

struct mv_parser {
	struct mexc_parser *p;
	struct mexc_msg m;
};

static int mv_stream(const struct recorder_config *c, struct venue_stream *st)
{
	memset(st, 0, sizeof(*st));
	if (c->channel != NULL &&
	    strcmp(c->channel, "spot@public.aggre.depth.v3.api.pb") != 0)
		return CORE_EINVAL;
	st->mode = SYNC_MODE_SNAPSHOT;
	st->full_depth = true;
	st->window = (size_t)c->depth_limit;
	st->snapshot_limit = (unsigned)c->depth_limit;
	snprintf(st->speed, sizeof(st->speed), "%s", MEXC_SPEED);
	snprintf(st->desc, sizeof(st->desc),
		 "spot@public.aggre.depth.v3.api.pb@%s: %zu levels", st->speed,
		 st->window);
	return 0;
}

static void *mv_parser_new(void)
{
	struct mv_parser *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->p = mexc_parser_new(MEXC_DEFAULT_TOKENS);
	if (g->p == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

static void mv_parser_free(void *parser)
{
	struct mv_parser *g = parser;

	if (g == NULL)
		return;
	mexc_parser_free(g->p);
	free(g);
}

static int mv_build_subscribe(const struct venue_stream *st, char *buf,
			      size_t size, const char *const *syms, size_t n,
			      bool subscribe, uint64_t id, size_t *len)
{
	return mexc_build_subscribe(buf, size, syms, n, st->speed, subscribe,
				    id, len);
}

static int mv_build_ping(char *buf, size_t size, int64_t now_us, size_t *len)
{
	(void)now_us;
	return mexc_build_ping(buf, size, len);
}

static int mv_snapshot_path(const struct venue_stream *st, char *buf,
			    size_t size, const char *sym, size_t *len)
{
	return mexc_build_snapshot_path(buf, size, sym, st->snapshot_limit,
					len);
}

/* Replies: which request they answer, which symbols they name. */
static void mv_reply(const struct mexc_msg *m, struct venue_msg *out)
{
	out->req_id = m->req_id;
	out->has_req_id = m->has_req_id;
	out->err_code = m->code;
	snprintf(out->err_text, sizeof(out->err_text), "%s", m->text);
	out->symbols = m->symbols;
	out->nsymbols = m->ntopics < MEXC_MAX_STREAMS ? m->ntopics
						      : MEXC_MAX_STREAMS;
	switch (m->type) {
	case MEXC_MSG_ACK:
		out->type = VENUE_MSG_ACK;
		break;
	case MEXC_MSG_REJECTED:
		/* "Blocked!": the topic (symbol) is refused for good. */
		out->type = VENUE_MSG_ERROR;
		out->refused = true;
		break;
	case MEXC_MSG_ERROR:
		out->type = VENUE_MSG_ERROR;
		break;
	case MEXC_MSG_PONG:
		out->type = VENUE_MSG_PONG;
		break;
	default:
		out->type = VENUE_MSG_IGNORE;
		break;
	}
}

static int mv_parse_frame(void *parser, const unsigned char *buf, size_t len,
			  bool binary, struct venue_msg *out)
{
	struct mv_parser *g = parser;
	const struct mexc_msg *m = &g->m;
	int rc;

	venue_msg_reset(out);
	rc = binary ? mexc_parse_binary(g->p, buf, len, &g->m)
		    : mexc_parse_text(g->p, (const char *)buf, len, &g->m);
	if (rc != 0)
		return rc;
	if (m->type == MEXC_MSG_UPDATE) {
		out->type = VENUE_MSG_UPDATE;
		snprintf(out->symbol, sizeof(out->symbol), "%s", m->symbol);
		out->update = m->update;
		return 0;
	}
	mv_reply(m, out);
	return 0;
}

static int mv_parse_snapshot(void *parser, const char *buf, size_t len,
			     struct sync_snapshot *out)
{
	struct mv_parser *g = parser;

	return mexc_parse_snapshot(g->p, buf, len, out);
}

const struct venue venue_mexc = {
	.name = "mexc",
	.ws_url = "wss://wbs-api.mexc.com/ws",
	.rest_url = "https://api.mexc.com",
	.max_streams = MEXC_MAX_STREAMS,
	.max_per_request = MEXC_MAX_STREAMS,
	/* 500 requests / 10 s per endpoint per IP. */
	.max_fetch_per_s = 20,
	/* Subscribed but idle for a minute, the server closes. */
	.ping_every_us = 20 * US_PER_SEC,
	.stream = mv_stream,
	.symbol = mexc_symbol_from_normalized,
	.parser_new = mv_parser_new,
	.parser_free = mv_parser_free,
	.build_subscribe = mv_build_subscribe,
	.build_ping = mv_build_ping,
	.snapshot_path = mv_snapshot_path,
	.parse_frame = mv_parse_frame,
	.parse_snapshot = mv_parse_snapshot,
	/* EXCHANGES.md §2: a connection lives at most 24 hours. */
	.lifetime_us = 24 * 3600 * US_PER_SEC,
};
