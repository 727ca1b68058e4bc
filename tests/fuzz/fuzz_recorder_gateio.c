/*
 * libFuzzer harness for the Gate.io parsers and the book sync. Each line
 * of the input is one message: a WS frame, or, when it parses as one, a
 * REST snapshot. Updates go to a snapshot-mode sync (order_book_update)
 * or a full-push sync (obu), fresh for every input.
 *
 * Invariants checked after every line: the book is well-formed (bids
 * strictly descending, asks strictly ascending, valid texts, no zero
 * amounts) in every state, and never crossed while synced. Exchange data
 * can produce a crossed book (a lost or bad message); sync then
 * withholds the message, resyncs and never reports the book as synced,
 * so a crossed synced book is a bug. Every emitted row carries valid
 * decimal texts. The checks are the shared ones of recorder_fuzz.h; the
 * driver is its own (lines, two syncs).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "gateio.h"
#include "recorder_fuzz.h"
#include "sync.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	struct sync *s[2];
	int resub[2];
};

static void on_resub(void *ctx, const char *sym)
{
	struct fz *f = ctx;

	f->resub[1] += sym != NULL;
}

static void one_line(struct fz *f, struct gateio_parser *p, const char *l,
		     size_t n)
{
	struct sync_snapshot snap;
	struct gateio_rest_error re;
	struct gateio_msg m;

	if (gateio_parse_snapshot(p, l, n, &snap) == 0) {
		(void)sync_on_snapshot(f->s[0], &snap, 1);
	} else if (gateio_parse_frame(p, l, n, &m) == 0) {
		if (m.type == GATEIO_MSG_UPDATE)
			(void)sync_on_update(f->s[m.channel == GATEIO_CH_OBU],
					     &m.update, 2);
		else if (m.type == GATEIO_MSG_ERROR && m.err_code == 99)
			sync_on_snapshot_failed(f->s[0], 3);
		else if (m.type == GATEIO_MSG_PONG)
			(void)sync_emit_snapshot(f->s[0], 4);
	} else {
		(void)gateio_parse_rest_error(p, l, n, &re);
	}
	/* Act on a resubscribe request the way the recorder would. */
	if (f->resub[1] > 0) {
		f->resub[1] = 0;
		sync_on_subscribed(f->s[1], 5);
	}
	rf_check_sync(f->s[0]);
	rf_check_sync(f->s[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gateio_parser *p;
	const char *buf = (const char *)data;
	struct sync_cfg cfg = { .window = 20,
				.buffer_msgs = 16,
				.buffer_bytes = 4096 };
	struct fz f = { .resub = { 0, 0 } };
	struct sync_cbs cbs = { .ctx = &f,
				.row = rf_on_row,
				.resubscribe = on_resub };
	size_t i = 0;

	if (p == NULL && (p = gateio_parser_new(4096)) == NULL)
		abort();
	f.s[0] = sync_new("X", SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	f.s[1] = sync_new("X", SYNC_MODE_FULLPUSH, &cfg, &cbs);
	if (f.s[0] == NULL || f.s[1] == NULL)
		abort();
	sync_on_subscribed(f.s[0], 0);
	sync_on_subscribed(f.s[1], 0);
	while (i < size) {
		const char *nl = memchr(buf + i, '\n', size - i);
		size_t e = nl != NULL ? (size_t)(nl - buf) : size;

		one_line(&f, p, buf + i, e - i);
		i = e + 1;
	}
	sync_free(f.s[0]);
	sync_free(f.s[1]);
	return 0;
}
