/*
 * Gate.io spot v4 behind the venue interface: the protocol itself is in
 * gateio.c; this maps it onto the generic feed (EXCHANGES.md §1).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "gateio.h"
#include "timeutil.h"
#include "venue.h"
#include "banned.h"

struct gv_parser {
	struct gateio_parser *p;
	struct gateio_msg m;
};

/*
 * depth_limit picks the stream; the book is its whole window
 * (EXCHANGES.md §1.3, §1.5): obu 400 above 50 levels, else 50;
 * order_book_update 100ms (100 levels) above 20, else 20ms (20).
 */
static int gv_stream(const struct recorder_config *c, struct venue_stream *st)
{
	memset(st, 0, sizeof(*st));
	if (c->channel != NULL && strcmp(c->channel, "spot.obu") == 0) {
		st->channel = GATEIO_CH_OBU;
		st->mode = SYNC_MODE_FULLPUSH;
		st->window = c->depth_limit > 50 ? 400 : 50;
		snprintf(st->speed, sizeof(st->speed), "%zu", st->window);
	} else if (c->channel == NULL ||
		   strcmp(c->channel, "spot.order_book_update") == 0) {
		st->channel = GATEIO_CH_ORDER_BOOK_UPDATE;
		st->mode = SYNC_MODE_SNAPSHOT;
		st->window = c->depth_limit > 20 ? 100 : 20;
		snprintf(st->speed, sizeof(st->speed), "%s",
			 st->window == 100 ? "100ms" : "20ms");
	} else {
		return CORE_EINVAL;
	}
	st->snapshot_limit = (unsigned)st->window;
	snprintf(st->desc, sizeof(st->desc), "%s %s: window of %zu levels",
		 gateio_channel_name((enum gateio_channel)st->channel),
		 st->speed, st->window);
	return 0;
}

static void *gv_parser_new(void)
{
	struct gv_parser *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	g->p = gateio_parser_new(GATEIO_DEFAULT_TOKENS);
	if (g->p == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

static void gv_parser_free(void *parser)
{
	struct gv_parser *g = parser;

	if (g == NULL)
		return;
	gateio_parser_free(g->p);
	free(g);
}

/* One pair per request: the documented form for both channels. */
static int gv_build_subscribe(const struct venue_stream *st, char *buf,
			      size_t size, const char *const *syms, size_t n,
			      bool subscribe, uint64_t id, size_t *len)
{
	if (n != 1)
		return CORE_EINVAL;
	return gateio_build_subscribe(buf, size,
				      (enum gateio_channel)st->channel, syms[0],
				      st->speed, subscribe,
				      time_now_us() / US_PER_SEC, id, len);
}

static int gv_build_ping(char *buf, size_t size, int64_t now_us, size_t *len)
{
	return gateio_build_ping(buf, size, now_us / US_PER_SEC, len);
}

static int gv_snapshot_path(const struct venue_stream *st, char *buf,
			    size_t size, const char *sym, size_t *len)
{
	return gateio_build_snapshot_path(buf, size, sym, st->snapshot_limit,
					  len);
}

static int gv_parse_frame(void *parser, const unsigned char *buf, size_t len,
			  bool binary, struct venue_msg *out)
{
	struct gv_parser *g = parser;
	const struct gateio_msg *m = &g->m;
	int rc;

	venue_msg_reset(out);
	if (binary)
		return 0; /* Gate.io sends text only */
	rc = gateio_parse_frame(g->p, (const char *)buf, len, &g->m);
	if (rc != 0)
		return rc;
	/* GATEIO_PAIR_MAX == VENUE_SYMBOL_MAX: the pair always fits. */
	memcpy(out->symbol, m->pair, strnlen(m->pair, sizeof(m->pair) - 1) + 1);
	out->unsubscribe = m->unsubscribe;
	out->req_id = m->req_id;
	out->has_req_id = m->has_req_id;
	switch (m->type) {
	case GATEIO_MSG_UPDATE:
		out->type = VENUE_MSG_UPDATE;
		out->update = m->update;
		break;
	case GATEIO_MSG_ACK:
		out->type = VENUE_MSG_ACK;
		break;
	case GATEIO_MSG_ERROR:
		out->type = VENUE_MSG_ERROR;
		out->err_code = m->err_code;
		snprintf(out->err_text, sizeof(out->err_text), "%s",
			 m->err_message);
		/* "unknown currency pair: X" will not change on retry. */
		out->refused = !m->unsubscribe &&
			       strstr(m->err_message, "unknown") != NULL;
		break;
	case GATEIO_MSG_PONG:
		out->type = VENUE_MSG_PONG;
		break;
	default:
		out->type = VENUE_MSG_IGNORE;
		break;
	}
	return 0;
}

static int gv_parse_snapshot(void *parser, const char *buf, size_t len,
			     struct sync_snapshot *out)
{
	struct gv_parser *g = parser;

	return gateio_parse_snapshot(g->p, buf, len, out);
}

const struct venue venue_gateio = {
	.name = "gateio",
	.ws_url = "wss://api.gateio.ws/ws/v4/",
	.rest_url = "https://api.gateio.ws/api/v4",
	.max_streams = 0,
	.max_per_request = 1,
	/* 200 public REST requests per 10 s per endpoint: stay well under
	 * it after a reconnect of many pairs. */
	.max_fetch_per_s = 15,
	.ping_every_us = 10 * US_PER_SEC,
	.stream = gv_stream,
	.symbol = gateio_pair_from_normalized,
	.parser_new = gv_parser_new,
	.parser_free = gv_parser_free,
	.build_subscribe = gv_build_subscribe,
	.build_ping = gv_build_ping,
	.snapshot_path = gv_snapshot_path,
	.parse_frame = gv_parse_frame,
	.parse_snapshot = gv_parse_snapshot,
};
