/*
 * Shared by the book-sync suites (check_recorder_sync,
 * check_recorder_sync_snapshot): a recorder that keeps every callback
 * and rebuilds the book a reader would from the rows (the shadow), and
 * builders that feed diffs and snapshots written as "b10=1 a11=2".
 */
#ifndef TESTS_UNIT_SYNC_TESTLIB_H
#define TESTS_UNIT_SYNC_TESTLIB_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "book.h"
#include "core.h"
#include "sync.h"

/* ------------------------------------------------------------ shadow */

/*
 * The book a reader rebuilds from the rows: a snapshot block replaces
 * everything, other rows set absolute amounts. Prices become integers
 * scaled by 1e10 (no decimal module involved), amounts stay text.
 */
#define SH_MAX 4096
struct shlevel {
	long long key;
	char amount[32];
};

struct shadow {
	struct shlevel lv[2][SH_MAX];
	size_t n[2];
};

static inline long long scaled(const char *p, size_t len)
{
	long long v = 0;
	int frac = -1;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.') {
			frac = 0;
			continue;
		}
		if (frac >= 10)
			continue; /* the samples have at most 10 decimals */
		v = v * 10 + (p[i] - '0');
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < 10; frac++)
		v *= 10;
	return v;
}

static inline bool zero_text(const char *a, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != '0' && a[i] != '.')
			return false;
	return true;
}

static inline void sh_set(struct shadow *sh, int side, const char *p, size_t pl,
			  const char *a, size_t al)
{
	long long k = scaled(p, pl);
	size_t i;

	for (i = 0; i < sh->n[side]; i++)
		if (sh->lv[side][i].key == k)
			break;
	if (zero_text(a, al)) {
		if (i < sh->n[side])
			sh->lv[side][i] = sh->lv[side][--sh->n[side]];
		return;
	}
	if (i == sh->n[side]) {
		ck_assert_uint_lt(i, SH_MAX);
		sh->n[side]++;
	}
	sh->lv[side][i].key = k;
	ck_assert_uint_lt(al, 32);
	memcpy(sh->lv[side][i].amount, a, al);
	sh->lv[side][i].amount[al] = '\0';
}

/* Index of the best level of a side, or -1. */
static inline long sh_best(const struct shadow *sh, int side)
{
	long best = -1;

	for (size_t i = 0; i < sh->n[side]; i++) {
		long long k = sh->lv[side][i].key;

		if (best < 0 || (side == BOOK_BID ? k > sh->lv[side][best].key
						  : k < sh->lv[side][best].key))
			best = (long)i;
	}
	return best;
}

/* ------------------------------------------------------------ recorder */

struct rec {
	struct sync *s;
	struct shadow sh;
	bool new_block;
	size_t rows, snap_rows, delta_rows;
	size_t blocks; /* rows flagged block_start */
	size_t ev[SYNC_EV_UPDATE + 1];
	struct sync_event last_gap, last_resync, last_dropped;
	char last_resync_detail[64];
	int fetches, resubs;
	int64_t last_ts, last_local;
};

static inline void on_row(void *ctx, const struct sync_row *r)
{
	struct rec *rc = ctx;

	rc->rows++;
	if (r->block_start) {
		ck_assert(r->is_snapshot);
		rc->blocks++;
	}
	if (r->is_snapshot) {
		rc->snap_rows++;
		if (rc->new_block) {
			rc->sh.n[0] = rc->sh.n[1] = 0;
			rc->new_block = false;
		}
	} else {
		rc->delta_rows++;
		rc->new_block = true;
	}
	rc->last_ts = r->ts_us;
	rc->last_local = r->local_us;
	ck_assert_str_eq(r->symbol, sync_symbol(rc->s));
	sh_set(&rc->sh, r->side, r->price, r->price_len, r->amount,
	       r->amount_len);
}

static inline void on_event(void *ctx, const struct sync_event *ev)
{
	struct rec *rc = ctx;

	ck_assert_uint_le(ev->kind, SYNC_EV_UPDATE);
	ck_assert_ptr_nonnull(ev->detail);
	rc->ev[ev->kind]++;
	if (ev->kind == SYNC_EV_GAP)
		rc->last_gap = *ev;
	if (ev->kind == SYNC_EV_DROPPED)
		rc->last_dropped = *ev;
	if (ev->kind == SYNC_EV_RESYNC) {
		rc->last_resync = *ev;
		snprintf(rc->last_resync_detail, sizeof(rc->last_resync_detail),
			 "%s", ev->detail);
	}
	/* A snapshot block follows these events. */
	if (ev->kind == SYNC_EV_SNAPSHOT || ev->kind == SYNC_EV_FULL_REFRESH)
		rc->new_block = true;
}

static inline void on_fetch(void *ctx, const char *sym)
{
	struct rec *rc = ctx;

	ck_assert_str_eq(sym, sync_symbol(rc->s));
	rc->fetches++;
}

static inline void on_resub(void *ctx, const char *sym)
{
	struct rec *rc = ctx;

	(void)sym;
	rc->resubs++;
}

/* A recorder around a new sync of that config, on every callback. */
static inline struct rec *rec_new_cfg(const char *sym, enum sync_mode mode,
				      const struct sync_cfg *cfg)
{
	struct rec *rc = calloc(1, sizeof(*rc));
	struct sync_cbs cbs = { .ctx = rc,
				.row = on_row,
				.event = on_event,
				.fetch_snapshot = on_fetch,
				.resubscribe = on_resub };

	ck_assert_ptr_nonnull(rc);
	rc->new_block = true;
	rc->s = sync_new(sym, mode, cfg, &cbs);
	ck_assert_ptr_nonnull(rc->s);
	return rc;
}

static inline struct rec *rec_new(const char *sym, enum sync_mode mode,
				  size_t depth, size_t bufmsgs, size_t bufbytes)
{
	struct sync_cfg cfg = { .window = depth,
				.buffer_msgs = bufmsgs,
				.buffer_bytes = bufbytes };

	return rec_new_cfg(sym, mode, &cfg);
}

static inline void rec_free(struct rec *rc)
{
	sync_free(rc->s);
	free(rc);
}

/* The book is well-formed, never crossed, and when synced its top
 * equals what a reader rebuilds from the rows. */
static inline void check_book(struct rec *rc)
{
	const struct book *b = sync_book(rc->s);

	ck_assert_int_eq(book_check(b), 0);
	ck_assert(!book_crossed(b));
	if (!sync_synced(rc->s))
		return;
	for (int side = 0; side < 2; side++) {
		const struct book_level *l = book_level(b, side, 0);
		long i = sh_best(&rc->sh, side);

		ck_assert_int_eq(l == NULL, i < 0);
		if (l == NULL)
			continue;
		ck_assert(scaled(l->price, l->price_len) ==
			  rc->sh.lv[side][i].key);
		ck_assert_str_eq(l->amount, rc->sh.lv[side][i].amount);
	}
}

/* ------------------------------------------------------------ builders */

struct tupd {
	char text[1024];
	struct book_change ch[64];
	struct sync_update u;
	struct sync_snapshot snap;
};

/* Levels from "b10=1 b9.5=2 a11=0": bids first, then asks. */
static inline void mk_levels(struct tupd *t, const char *spec, size_t *nb,
			     size_t *na)
{
	size_t n = 0;

	snprintf(t->text, sizeof(t->text), "%s", spec);
	for (int pass = 0; pass < 2; pass++) {
		char want = pass == 0 ? 'b' : 'a';
		char *p = t->text;

		while (*p != '\0') {
			char *eq = strchr(p, '='), *end;

			ck_assert_ptr_nonnull(eq);
			end = eq + strcspn(eq, " ");
			if (*p == want) {
				ck_assert_uint_lt(n, 64);
				t->ch[n].price = p + 1;
				t->ch[n].price_len = (size_t)(eq - p - 1);
				t->ch[n].amount = eq + 1;
				t->ch[n].amount_len = (size_t)(end - eq - 1);
				n++;
			}
			p = *end == ' ' ? end + 1 : end;
		}
		if (pass == 0)
			*nb = n;
	}
	*na = n - *nb;
}

static inline const struct sync_update *
mk(struct tupd *t, uint64_t U, uint64_t u, bool full, const char *spec)
{
	memset(&t->u, 0, sizeof(t->u));
	mk_levels(t, spec, &t->u.nbids, &t->u.nasks);
	t->u.bids = t->ch;
	t->u.asks = t->ch + t->u.nbids;
	t->u.first_id = U;
	t->u.has_first = U != 0;
	t->u.last_id = u;
	t->u.full = full;
	t->u.ts_ms = 1700000000000 + (int64_t)u;
	return &t->u;
}

static inline const struct sync_snapshot *mksnap(struct tupd *t, uint64_t id,
						 const char *spec)
{
	memset(&t->snap, 0, sizeof(t->snap));
	mk_levels(t, spec, &t->snap.nbids, &t->snap.nasks);
	t->snap.bids = t->ch;
	t->snap.asks = t->ch + t->snap.nbids;
	t->snap.id = id;
	t->snap.ts_ms = 1600000000000;
	return &t->snap;
}

static inline void feed(struct rec *rc, uint64_t U, uint64_t u,
			const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_update(rc->s, mk(&t, U, u, false, spec),
					(int64_t)u * 10),
			 0);
	check_book(rc);
}

static inline void feed_full(struct rec *rc, uint64_t U, uint64_t u,
			     const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_update(rc->s, mk(&t, U, u, true, spec), 1), 0);
	check_book(rc);
}

static inline void snap(struct rec *rc, uint64_t id, const char *spec)
{
	struct tupd t;

	ck_assert_int_eq(sync_on_snapshot(rc->s, mksnap(&t, id, spec), 5), 0);
	check_book(rc);
}

static inline const char *best(struct rec *rc, enum book_side side)
{
	const struct book_level *l = book_level(sync_book(rc->s), side, 0);

	return l != NULL ? l->price : "-";
}

/* A snapshot-mode sync, subscribed and synced at id 10. */
static inline struct rec *synced_at_10(void)
{
	struct rec *rc = rec_new("A_B", SYNC_MODE_SNAPSHOT, 100, 0, 0);

	sync_on_subscribed(rc->s, 1);
	ck_assert_int_eq(rc->fetches, 1);
	ck_assert_int_eq(sync_state(rc->s), SYNC_WAIT_SNAPSHOT);
	snap(rc, 10, "b10=1 b9=2 a11=1 a12=2");
	ck_assert(sync_synced(rc->s));
	ck_assert_uint_eq(rc->snap_rows, 4);
	return rc;
}

/* A full-push sync, subscribed and synced by a full push at id last. */
static inline struct rec *fullpush_at(const char *sym, size_t depth,
				      uint64_t last)
{
	struct rec *rc = rec_new(sym, SYNC_MODE_FULLPUSH, depth, 0, 0);

	sync_on_subscribed(rc->s, 1);
	feed_full(rc, 0, last, "b10=1 a11=1");
	return rc;
}

#endif
