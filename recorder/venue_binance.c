/*
 * Binance spot behind the venue interface: the protocol itself is in
 * binance.c; this maps it onto the generic feed (EXCHANGES.md §3).
 *
 * Framing: the recorder connects to the raw endpoint /ws and subscribes
 * live (SUBSCRIBE with ids, acked {"result":null,"id":N}); every
 * depthUpdate names its symbol in "s", so no combined-stream wrapper is
 * needed to route it, and the URL stays the same whatever the pairs (a
 * combined URL lists its streams and would change on every reload). The
 * parser also reads combined frames {"stream","data"} (the real captures
 * are combined), so a ws_url of .../stream works as well.
 *
 * The diff depth stream carries every change of the whole book (§3.3),
 * not a window: like MEXC's it is a full_depth stream, as deep as the
 * REST snapshot (depth_limit levels a side), synced by the documented
 * recipe (§3.5): buffer, snapshot lastUpdateId, drop u <= id, the first
 * applied event bridges U <= id+1 <= u, then U == previous u + 1.
 */
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "core.h"
#include "timeutil.h"
#include "venue.h"
#include "banned.h"

struct bv_parser {
	struct binance_parser *p;
	struct binance_msg m;
};

/* The REST weight of GET /api/v3/depth for a limit (§3.4). */
static unsigned depth_weight(unsigned limit)
{
	if (limit <= 100)
		return 5;
	if (limit <= 500)
		return 25;
	return limit <= 1000 ? 50 : 250;
}

static int bv_stream(const struct recorder_config *c, struct venue_stream *st)
{
	const char *speed = "100ms";

	memset(st, 0, sizeof(*st));
	if (c->channel != NULL && strcmp(c->channel, "depth") == 0)
		speed = "1000ms";
	else if (c->channel != NULL && strcmp(c->channel, "depth@100ms") != 0)
		return CORE_EINVAL;
	if (c->depth_limit < 1 || c->depth_limit > BINANCE_MAX_LIMIT)
		return CORE_EINVAL;
	st->mode = SYNC_MODE_SNAPSHOT;
	st->full_depth = true;
	st->window = (size_t)c->depth_limit;
	st->snapshot_limit = (unsigned)c->depth_limit;
	st->fetch_weight = depth_weight(st->snapshot_limit);
	snprintf(st->speed, sizeof(st->speed), "%s", speed);
	snprintf(st->desc, sizeof(st->desc), "<symbol>@depth%s: %zu levels",
		 strcmp(speed, "100ms") == 0 ? "@100ms" : "", st->window);
	return 0;
}

static void *bv_parser_new(void)
{
	struct bv_parser *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->p = binance_parser_new(BINANCE_DEFAULT_TOKENS);
	if (g->p == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

static void bv_parser_free(void *parser)
{
	struct bv_parser *g = parser;

	if (g == NULL)
		return;
	binance_parser_free(g->p);
	free(g);
}

static int bv_build_subscribe(const struct venue_stream *st, char *buf,
			      size_t size, const char *const *syms, size_t n,
			      bool subscribe, uint64_t id, size_t *len)
{
	return binance_build_subscribe(buf, size, syms, n, st->speed, subscribe,
				       id, len);
}

static int bv_snapshot_path(const struct venue_stream *st, char *buf,
			    size_t size, const char *sym, size_t *len)
{
	return binance_build_snapshot_path(buf, size, sym, st->snapshot_limit,
					   len);
}

static int bv_parse_frame(void *parser, const unsigned char *buf, size_t len,
			  bool binary, struct venue_msg *out)
{
	struct bv_parser *g = parser;
	const struct binance_msg *m = &g->m;
	int rc;

	venue_msg_reset(out);
	if (binary)
		return CORE_EPARSE; /* Binance sends text frames only */
	rc = binance_parse_frame(g->p, (const char *)buf, len, &g->m);
	if (rc != 0)
		return rc;
	out->req_id = m->req_id;
	out->has_req_id = m->has_req_id;
	switch (m->type) {
	case BINANCE_MSG_UPDATE:
		out->type = VENUE_MSG_UPDATE;
		snprintf(out->symbol, sizeof(out->symbol), "%s", m->symbol);
		out->update = m->update;
		break;
	case BINANCE_MSG_ACK:
		out->type = VENUE_MSG_ACK;
		break;
	case BINANCE_MSG_ERROR:
		out->type = VENUE_MSG_ERROR;
		out->err_code = m->code;
		snprintf(out->err_text, sizeof(out->err_text), "%s", m->text);
		break;
	case BINANCE_MSG_SHUTDOWN:
		out->type = VENUE_MSG_SHUTDOWN;
		snprintf(out->err_text, sizeof(out->err_text),
			 "serverShutdown");
		break;
	default:
		out->type = VENUE_MSG_IGNORE;
		break;
	}
	return 0;
}

static int bv_parse_snapshot(void *parser, const char *buf, size_t len,
			     struct sync_snapshot *out)
{
	struct bv_parser *g = parser;

	return binance_parse_snapshot(g->p, buf, len, out);
}

const struct venue venue_binance = {
	.name = "binance",
	.ws_url = "wss://stream.binance.com:9443/ws",
	.rest_url = "https://api.binance.com",
	.max_streams = BINANCE_MAX_STREAMS,
	.max_per_request = BINANCE_MAX_PER_REQUEST,
	.max_fetch_per_s = 10,
	/* Half the IP's 6000 weight a minute: room for other clients. */
	.rest_weight_per_min = 3000,
	/* 5 inbound messages/s per connection, our pongs included. */
	.max_sends_per_s = 3,
	/* No application ping: lws answers the server's ping frames. */
	.ping_every_us = 0,
	/* Connections last at most 24 h (EXCHANGES.md §3.6). */
	.lifetime_us = 24 * 3600 * US_PER_SEC,
	.stream = bv_stream,
	.symbol = binance_symbol_from_normalized,
	.parser_new = bv_parser_new,
	.parser_free = bv_parser_free,
	.build_subscribe = bv_build_subscribe,
	.build_ping = NULL,
	.snapshot_path = bv_snapshot_path,
	.parse_frame = bv_parse_frame,
	.parse_snapshot = bv_parse_snapshot,
};
