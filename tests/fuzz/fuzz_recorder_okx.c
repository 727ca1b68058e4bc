/*
 * libFuzzer harness for the OKX parsers, the checksum and the book sync,
 * on the shared record driver (recorder_fuzz.h): records of kind 0 or 1
 * are WS frames, 2 REST snapshots, 3 failed snapshot fetches followed by
 * a new subscription ack; they drive the venue's sync (snapshot mode
 * with resubscribe, strict, a 400-level window, checksums verified), and
 * the checksum is taken of the book after every record.
 *
 * Invariants beyond the driver's (rf_check_msg() for every frame): an
 * update has a valid instId, is full exactly when it is a snapshot, and
 * its ids either chain (first <= last), are a heartbeat (first == last +
 * 1) or say id_reset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "okx.h"
#include "recorder_fuzz.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct sync_update *push(void *p, const uint8_t *buf, size_t n)
{
	static struct okx_msg m;
	const struct sync_update *u = &m.update;
	int rc = okx_parse_frame(p, (const char *)buf, n, &m);

	if (!rf_check_msg(rc, m.type == OKX_MSG_UNKNOWN, m.text,
			  sizeof(m.text)) ||
	    m.type != OKX_MSG_UPDATE)
		return NULL;
	if (!okx_inst_valid(m.inst) || u->full != m.snapshot ||
	    (u->has_first && u->first_id > u->last_id && !u->id_reset &&
	     u->first_id != u->last_id + 1))
		abort();
	rf_check_update(u, buf, n);
	return u;
}

static const struct sync_snapshot *snapshot(void *p, const uint8_t *buf,
					    size_t n)
{
	static struct sync_snapshot s;

	return rf_snapshot(okx_parse_snapshot(p, (const char *)buf, n, &s), &s,
			   buf, n);
}

static void checksum(const struct sync *s)
{
	(void)okx_book_checksum(sync_book(s));
}

static const struct rf_venue venue = {
	.symbol = "BTC-USDT",
	.cfg = { .window = OKX_BOOK_LEVELS,
		 .checksum = okx_book_checksum,
		 .resubscribe = true,
		 .strict = true,
		 .buffer_msgs = 16,
		 .buffer_bytes = 4096 },
	.push = push,
	.snapshot = snapshot,
	.after = checksum,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct okx_parser *p;

	if (p == NULL && (p = okx_parser_new(8192)) == NULL)
		abort();
	return rf_run_records(&venue, p, data, size);
}
