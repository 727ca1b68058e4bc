/*
 * The table of venues: which exchange each connector records with.
 */
#include "venue.h"

#include <stddef.h>
#include <string.h>

#include "banned.h"

void venue_msg_reset(struct venue_msg *m)
{
	memset(&m->update, 0, sizeof(m->update));
	m->type = VENUE_MSG_IGNORE;
	m->unsubscribe = m->has_req_id = m->refused = false;
	m->req_id = 0;
	m->symbol[0] = '\0';
	m->symbols = NULL;
	m->nsymbols = 0;
	m->err_code = 0;
	m->err_text[0] = '\0';
}

const struct venue *venue_find(enum exchange ex)
{
	switch (ex) {
	case EXCHANGE_GATEIO:
		return &venue_gateio;
	case EXCHANGE_MEXC:
		return &venue_mexc;
	case EXCHANGE_BINANCE:
		return &venue_binance;
	case EXCHANGE_OKX:
		return &venue_okx;
	default:
		return NULL;
	}
}
