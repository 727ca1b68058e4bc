/*
 * The driver the recorder protocol harnesses (fuzz_recorder_*.c) share:
 * the checks every parse result and every sync state must pass, and the
 * record loop that feeds a book sync. A harness supplies only what
 * differs: its parsers, what a valid update of its exchange looks like,
 * and the sync it drives. Included, not linked: the fuzz rules build
 * one harness file with standalone.c (and a file named fuzz_*.c would
 * be a harness of its own).
 *
 * Invariants: a parse returns 0 or a documented error; every level span
 * lies inside its input and is a valid decimal under BOOK_TEXT_MAX; the
 * book is well-formed in every state and never crossed while synced;
 * every emitted row carries valid decimal texts.
 */
#ifndef TESTS_FUZZ_RECORDER_FUZZ_H
#define TESTS_FUZZ_RECORDER_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "decimal.h"
#include "sync.h"

/* A sync row: valid decimal texts under BOOK_TEXT_MAX. */
static inline void rf_on_row(void *ctx, const struct sync_row *r)
{
	(void)ctx;
	if (!decimal_valid(r->price, r->price_len) ||
	    !decimal_valid(r->amount, r->amount_len) ||
	    r->price_len >= BOOK_TEXT_MAX || r->amount_len >= BOOK_TEXT_MAX)
		abort();
}

/* A parse returns 0 or a documented error. */
static inline void rf_check_rc(int rc)
{
	if (rc != 0 && rc != CORE_EPARSE && rc != CORE_ETOOBIG)
		abort();
}

/*
 * A message parse: rc as rf_check_rc(), a failed parse leaves the type
 * UNKNOWN, the text (size bytes) is terminated. True when it parsed.
 */
static inline bool rf_check_msg(int rc, bool unknown, const char *text,
				size_t size)
{
	rf_check_rc(rc);
	if ((rc != 0 && !unknown) || strnlen(text, size) >= size)
		abort();
	return rc == 0;
}

/* Every span lies inside buf[0..size) and is a valid decimal. */
static inline void rf_check_levels(const struct book_change *c, size_t n,
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

/* Both sides of a parsed update. */
static inline void rf_check_update(const struct sync_update *u,
				   const uint8_t *buf, size_t n)
{
	rf_check_levels(u->bids, u->nbids, buf, n);
	rf_check_levels(u->asks, u->nasks, buf, n);
}

/* A snapshot parse's result: s when it parsed (checked), else NULL. */
static inline const struct sync_snapshot *
rf_snapshot(int rc, const struct sync_snapshot *s, const uint8_t *buf, size_t n)
{
	rf_check_rc(rc);
	if (rc != 0)
		return NULL;
	rf_check_levels(s->bids, s->nbids, buf, n);
	rf_check_levels(s->asks, s->nasks, buf, n);
	return s;
}

/* The book is well-formed, and never crossed while synced. */
static inline void rf_check_sync(const struct sync *s)
{
	const struct book *b = sync_book(s);

	if (book_check(b) != 0)
		abort();
	if (sync_synced(s) && book_crossed(b))
		abort();
}

static inline void rf_on_resub(void *ctx, const char *symbol)
{
	(void)ctx;
	(void)symbol;
}

/* What a record-driven harness supplies. */
struct rf_venue {
	const char *symbol; /* the sync's */
	/* A snapshot-mode sync; with resubscribe set, a resubscribe
	 * callback is given and kind 3 also acks a new subscription. */
	struct sync_cfg cfg;
	/* Kind 0 (and 1 unless text is set): parse a push, checked; the
	 * update to apply or NULL. Valid until the next parse. */
	const struct sync_update *(*push)(void *parser, const uint8_t *buf,
					  size_t n);
	/* Kind 1 when set: parse a control frame, checked. */
	void (*text)(void *parser, const uint8_t *buf, size_t n);
	/* Kind 2: parse a REST snapshot (see rf_snapshot()). */
	const struct sync_snapshot *(*snapshot)(void *parser,
						const uint8_t *buf, size_t n);
	/* After every record, when set: more checks of the sync. */
	void (*after)(const struct sync *s);
};

static inline void rf_record(const struct rf_venue *v, void *parser,
			     struct sync *s, unsigned kind, const uint8_t *buf,
			     size_t n, int64_t t)
{
	const struct sync_update *u;
	const struct sync_snapshot *snap;

	if (kind % 4 == 1 && v->text != NULL) {
		v->text(parser, buf, n);
	} else if (kind % 4 <= 1) {
		if ((u = v->push(parser, buf, n)) != NULL)
			(void)sync_on_update(s, u, t);
	} else if (kind % 4 == 2) {
		if ((snap = v->snapshot(parser, buf, n)) != NULL)
			(void)sync_on_snapshot(s, snap, t);
	} else {
		sync_on_snapshot_failed(s, t);
		(void)sync_emit_snapshot(s, t);
		if (v->cfg.resubscribe)
			sync_on_subscribed(s, t);
	}
	rf_check_sync(s);
	if (v->after != NULL)
		v->after(s);
}

/*
 * Parse the whole input once as every kind, then read it as records
 * [kind:1][len:2 LE][len bytes] (a short tail takes what is left):
 * kind % 4 = 0 a push, 1 a control frame (a push when the venue has no
 * text parser), 2 a REST snapshot, 3 a failed snapshot fetch. Pushes and
 * snapshots drive a sync fresh for every input, as the recorder would.
 */
static inline int rf_run_records(const struct rf_venue *v, void *parser,
				 const uint8_t *data, size_t size)
{
	struct sync_cbs cbs = { .row = rf_on_row };
	struct sync *s;
	size_t i = 0;
	int64_t t = 1;

	if (v->cfg.resubscribe)
		cbs.resubscribe = rf_on_resub;
	(void)v->push(parser, data, size);
	if (v->text != NULL)
		v->text(parser, data, size);
	(void)v->snapshot(parser, data, size);
	s = sync_new(v->symbol, SYNC_MODE_SNAPSHOT, &v->cfg, &cbs);
	if (s == NULL)
		abort();
	sync_on_subscribed(s, 0);
	while (i + 3 <= size) {
		unsigned kind = data[i];
		size_t n = (size_t)data[i + 1] | (size_t)data[i + 2] << 8;

		i += 3;
		if (n > size - i)
			n = size - i;
		rf_record(v, parser, s, kind, data + i, n, t++);
		i += n;
	}
	sync_free(s);
	return 0;
}

#endif
