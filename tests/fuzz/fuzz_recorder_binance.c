/*
 * libFuzzer harness for the Binance parsers and the book sync, on the
 * shared record driver (recorder_fuzz.h): records of kind 0 or 1 are WS
 * frames, 2 REST snapshots, 3 failed snapshot fetches; they drive a
 * snapshot-mode, whole-book (full_depth) sync.
 *
 * Invariants beyond the driver's (rf_check_msg() for every frame): an
 * update has U <= u, no full flag and a valid symbol.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binance.h"
#include "recorder_fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sync_update *push(void *p, const uint8_t *buf, size_t n)
{
	static struct binance_msg m;
	const struct sync_update *u = &m.update;
	int rc = binance_parse_frame(p, (const char *)buf, n, &m);

	if (!rf_check_msg(rc, m.type == BINANCE_MSG_UNKNOWN, m.text,
			  sizeof(m.text)) ||
	    m.type != BINANCE_MSG_UPDATE)
		return NULL;
	if (!u->has_first || u->full || u->first_id > u->last_id ||
	    !binance_symbol_valid(m.symbol))
		abort();
	rf_check_update(u, buf, n);
	return u;
}

static const struct sync_snapshot *snapshot(void *p, const uint8_t *buf,
					    size_t n)
{
	static struct sync_snapshot s;

	return rf_snapshot(binance_parse_snapshot(p, (const char *)buf, n, &s),
			   &s, buf, n);
}

static const struct rf_venue venue = {
	.symbol = "BTCUSDT",
	.cfg = { .window = 50,
		 .full_depth = true,
		 .buffer_msgs = 16,
		 .buffer_bytes = 4096 },
	.push = push,
	.snapshot = snapshot,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct binance_parser *p;

	if (p == NULL && (p = binance_parser_new(4096)) == NULL)
		abort();
	return rf_run_records(&venue, p, data, size);
}
