/*
 * The table of venues: which exchange each connector records with.
 */
#include "venue.h"

#include <stddef.h>

#include "banned.h"

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
