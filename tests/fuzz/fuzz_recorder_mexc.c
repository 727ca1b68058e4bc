/*
 * libFuzzer harness for the MEXC parsers and the book sync, on the
 * shared record driver (recorder_fuzz.h): records of kind 0 are binary
 * pushes, 1 text frames (also read as a REST error body), 2 REST
 * snapshots, 3 failed snapshot fetches; they drive a snapshot-mode sync.
 *
 * Invariants beyond the driver's (rf_check_msg() for every push and text
 * frame): an update has from <= to, no full flag and a symbol; only an
 * ACK or REJECTED names topics, and every named symbol is a valid one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mexc.h"
#include "recorder_fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sync_update *push(void *p, const uint8_t *buf, size_t n)
{
	static struct mexc_msg m;
	const struct sync_update *u = &m.update;
	int rc = mexc_parse_binary(p, buf, n, &m);

	if (!rf_check_msg(rc, m.type == MEXC_MSG_UNKNOWN, m.text,
			  sizeof(m.text)) ||
	    m.type != MEXC_MSG_UPDATE)
		return NULL;
	if (!u->has_first || u->full || u->first_id > u->last_id ||
	    m.symbol[0] == '\0')
		abort();
	rf_check_update(u, buf, n);
	return u;
}

static void text(void *p, const uint8_t *buf, size_t n)
{
	struct mexc_rest_error re;
	struct mexc_msg m;
	int rc = mexc_parse_text(p, (const char *)buf, n, &m);

	(void)rf_check_msg(rc, m.type == MEXC_MSG_UNKNOWN, m.text,
			   sizeof(m.text));
	if (m.type != MEXC_MSG_ACK && m.type != MEXC_MSG_REJECTED &&
	    m.ntopics != 0)
		abort();
	for (size_t i = 0; i < m.ntopics && i < MEXC_MAX_STREAMS; i++)
		if (m.symbols[i][0] != '\0' && !mexc_symbol_valid(m.symbols[i]))
			abort();
	rf_check_rc(mexc_parse_rest_error(p, (const char *)buf, n, &re));
}

static const struct sync_snapshot *snapshot(void *p, const uint8_t *buf,
					    size_t n)
{
	static struct sync_snapshot s;

	return rf_snapshot(mexc_parse_snapshot(p, (const char *)buf, n, &s), &s,
			   buf, n);
}

static const struct rf_venue venue = {
	.symbol = "BTCUSDT",
	.cfg = { .window = 50, .buffer_msgs = 16, .buffer_bytes = 4096 },
	.push = push,
	.text = text,
	.snapshot = snapshot,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mexc_parser *p;

	if (p == NULL && (p = mexc_parser_new(4096)) == NULL)
		abort();
	return rf_run_records(&venue, p, data, size);
}
