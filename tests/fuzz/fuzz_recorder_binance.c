/*
 * libFuzzer harness for the Binance parsers and the book sync. The whole
 * input is first parsed as one WS frame and one REST snapshot. Then it
 * is read as records [kind:1][len:2 LE][len bytes] (a short tail takes
 * what is left): kind % 4 = 0 or 1 a WS frame, 2 a REST snapshot, 3 a
 * failed snapshot fetch; pushes and snapshots drive a snapshot-mode,
 * whole-book (full_depth) sync fresh for every input, as the recorder
 * would.
 *
 * Invariants: a parse returns 0 or a documented error; every level span
 * of a push lies inside the frame and is a valid decimal under
 * BOOK_TEXT_MAX; an update has first_id <= last_id; the book is
 * well-formed in every state and never crossed while synced; every
 * emitted row carries valid decimal texts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "decimal.h"
#include "binance.h"
#include "sync.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_row(void *ctx, const struct sync_row *r)
{
	(void)ctx;
	if (!decimal_valid(r->price, r->price_len) ||
	    !decimal_valid(r->amount, r->amount_len) ||
	    r->price_len >= BOOK_TEXT_MAX || r->amount_len >= BOOK_TEXT_MAX)
		abort();
}

static void check_levels(const struct book_change *c, size_t n,
			 const uint8_t *buf, size_t size)
{
	const char *lo = (const char *)buf, *hi = lo + size;

	for (size_t i = 0; i < n; i++) {
		if (c[i].price < lo || c[i].price + c[i].price_len > hi ||
		    c[i].amount < lo || c[i].amount + c[i].amount_len > hi)
			abort();
		if (c[i].price_len >= BOOK_TEXT_MAX ||
		    c[i].amount_len >= BOOK_TEXT_MAX ||
		    !decimal_valid(c[i].price, c[i].price_len) ||
		    !decimal_valid(c[i].amount, c[i].amount_len))
			abort();
	}
}

static void check_rc(int rc)
{
	if (rc != 0 && rc != CORE_EPARSE && rc != CORE_ETOOBIG)
		abort();
}

static int frame(struct binance_parser *p, const uint8_t *buf, size_t n,
		 struct binance_msg *m)
{
	int rc = binance_parse_frame(p, (const char *)buf, n, m);

	check_rc(rc);
	if (rc != 0 && m->type != BINANCE_MSG_UNKNOWN)
		abort();
	if (strlen(m->text) >= sizeof(m->text))
		abort();
	if (rc == 0 && m->type == BINANCE_MSG_UPDATE) {
		const struct sync_update *u = &m->update;

		if (!u->has_first || u->full || u->first_id > u->last_id ||
		    !binance_symbol_valid(m->symbol))
			abort();
		check_levels(u->bids, u->nbids, buf, n);
		check_levels(u->asks, u->nasks, buf, n);
	}
	return rc;
}

static int snapshot(struct binance_parser *p, const uint8_t *buf, size_t n,
		    struct sync_snapshot *s)
{
	int rc = binance_parse_snapshot(p, (const char *)buf, n, s);

	check_rc(rc);
	if (rc == 0) {
		check_levels(s->bids, s->nbids, buf, n);
		check_levels(s->asks, s->nasks, buf, n);
	}
	return rc;
}

static void check(const struct sync *s)
{
	const struct book *b = sync_book(s);

	if (book_check(b) != 0)
		abort();
	if (sync_synced(s) && book_crossed(b))
		abort();
}

static void record(struct sync *s, struct binance_parser *p, unsigned kind,
		   const uint8_t *buf, size_t n, int64_t t)
{
	struct sync_snapshot snap;
	struct binance_msg m;

	switch (kind % 4) {
	case 0:
	case 1:
		if (frame(p, buf, n, &m) == 0 && m.type == BINANCE_MSG_UPDATE)
			(void)sync_on_update(s, &m.update, t);
		break;
	case 2:
		if (snapshot(p, buf, n, &snap) == 0)
			(void)sync_on_snapshot(s, &snap, t);
		break;
	default:
		sync_on_snapshot_failed(s, t);
		(void)sync_emit_snapshot(s, t);
		break;
	}
	check(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct binance_parser *p;
	struct sync_cfg cfg = { .window = 50,
				.full_depth = true,
				.buffer_msgs = 16,
				.buffer_bytes = 4096 };
	struct sync_cbs cbs = { .row = on_row };
	struct sync_snapshot snap;
	struct binance_msg m;
	struct sync *s;
	size_t i = 0;
	int64_t t = 1;

	if (p == NULL && (p = binance_parser_new(4096)) == NULL)
		abort();
	(void)frame(p, data, size, &m);
	(void)snapshot(p, data, size, &snap);
	s = sync_new("BTCUSDT", SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	if (s == NULL)
		abort();
	sync_on_subscribed(s, 0);
	while (i + 3 <= size) {
		unsigned kind = data[i];
		size_t n = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;

		i += 3;
		if (n > size - i)
			n = size - i;
		record(s, p, kind, data + i, n, t++);
		i += n;
	}
	sync_free(s);
	return 0;
}
