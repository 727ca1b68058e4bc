/*
 * The feed's planned reconnects (rollover): a successor connection
 * opened before the exchange ends the old one, and each pair moved to
 * it without a hole.
 *
 * Exchanges end connections on their own schedule (MEXC and Binance
 * after 24 h, Binance with a serverShutdown notice). Before that, the
 * feed opens a successor for the same pairs and subscribes them there
 * (one rollover per feed at a time, which staggers the connections of a
 * large recorder and keeps within connect-rate limits). Each pair keeps
 * its one sync, fed by its own connection p->c only; the successor's
 * messages that run ahead of the book are copied to the pair's rollq.
 * After every message the pair tries to switch (feed__roll_try):
 * - queued messages the book already covers are dropped; when the head
 *   bridges the book (U <= last+1 <= u), or nothing is queued and the
 *   successor's latest message ended at or before the book (its next
 *   one continues from there), the pair switches: a "rollover" event
 *   names the id, p->c becomes the successor, and the queued messages
 *   go to the sync, whose snapshot-mode rule takes the overlap (a diff
 *   of absolute amounts collapsed over its ids is exact at u whatever
 *   it overlaps);
 * - from then on, the old connection's messages for the pair are
 *   ignored, and once no pair is left on it, it is closed for good.
 * That bridging holds only where an overlapping diff is exact
 * (sync_bridges_overlap). A window stream (OKX books, Gate.io obu) pushes
 * what differs from the subscriber's previous push, so two connections
 * cut the ids at different places and an overlap can hide a level set
 * and deleted inside it. There the successor's messages feed a shadow
 * sync instead, synced by the full push every subscribe there brings:
 * - once the shadow is synced, the pair switches (the "rollover" event
 *   names the book's id) and follows the shadow, the old connection's
 *   messages ignored and the book left at its id;
 * - when the shadow reaches that id, the two books are the same: the
 *   shadow goes and the stream continues from there;
 * - when it passes it without stopping there (or its ids go back, a
 *   reset, or it is still behind FOLLOW_MAX_US on), the book takes the
 *   shadow's (sync_adopt: a full_refresh event and a snapshot block at
 *   the shadow's id), as a full push would;
 * - a shadow that loses its sync leaves the book to the stream: its next
 *   diff is the usual gap and resync.
 * An unplanned close of the old connection moves its pairs to the
 * successor at once, through the same switch when they are subscribed
 * there (bridging: no hole; ahead: the usual gap and resync; a shadow:
 * followed until adopted), else as a plain reconnect. A close of the
 * successor, or pairs that do not catch up within half the margin,
 * abandon the rollover for the pairs not yet switched: they stay where
 * they are, and a later close takes the usual reconnect path.
 */
#include "feed_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "log.h"
#include "rec.h"
#include "rollq.h"
#include "sync.h"
#include "timeutil.h"
#include "venue.h"
#include "wsconn.h"
#include "banned.h"

#define ROLLQ_MSGS	  256
#define ROLLQ_BYTES	  (256u * 1024)
#define ROLL_RETRY_MAX_US (60 * US_PER_SEC)
/* A shadow still behind the book this long after the switch is adopted
 * where it is (a successor lags by well under a second). */
#define FOLLOW_MAX_US (5 * US_PER_SEC)

static int64_t conn_lifetime_us(const struct feed *f)
{
	if (f->cfg->conn_lifetime > 0)
		return (int64_t)(f->cfg->conn_lifetime * 1e6);
	return f->v->lifetime_us;
}

static int64_t roll_margin_us(const struct feed *f)
{
	int64_t life = conn_lifetime_us(f);
	int64_t margin = (int64_t)(f->cfg->rollover_margin * 1e6);

	/* A margin as long as the lifetime would roll at once, forever. */
	return life > 0 && margin >= life ? life / 2 : margin;
}

void feed__roll_drop_shadow(struct gpair *p)
{
	sync_free(p->shadow);
	p->shadow = NULL;
	p->shadow_synced = 0;
}

/* A pair of the connection s replaces, readied for its subscribe on s. */
static bool roll_pick(struct gpair *p, struct fconn *s, int64_t now)
{
	if (p->c != s->pred || p->removed)
		return false;
	if (!sync_bridges_overlap(p->sync)) {
		feed__roll_drop_shadow(p);
		p->shadow = sync_shadow_new(p->sync);
		if (p->shadow == NULL)
			return false; /* stays behind; the give-up handles it */
		sync_on_subscribed(p->shadow, now); /* waits for the push */
	} else if (p->rq == NULL) {
		p->rq = rollq_new(ROLLQ_MSGS, ROLLQ_BYTES);
		if (p->rq == NULL)
			return false;
	}
	p->next_c = s;
	p->next_last = 0;
	p->roll_since_us = now;
	return true;
}

void feed__roll_subscribe(struct feed *f, struct fconn *s, int64_t now)
{
	feed__subscribe_all(f, s, 1, roll_pick, now);
}

static void roll_start(struct feed *f, struct fconn *c, int64_t mono,
		       const char *why)
{
	struct fconn *s = feed__conn_alloc(f);

	if (s == NULL) {
		c->roll_not_before = mono + ROLL_RETRY_MAX_US;
		return;
	}
	s->pred = c;
	c->succ = s;
	f->rolling = c;
	f->roll_started = mono;
	log_notice("connection %u: %s: opening connection %u for its pairs",
		   c->no, why, s->no);
	s->ws_started = 1;
	wsconn_start(s->ws);
}

/* Put c on the retired list and close it for good. */
static void retire(struct feed *f, struct fconn *c, const char *why)
{
	c->retired = 1;
	c->next_old = f->retired;
	f->retired = c;
	wsconn_close(c->ws, why);
}

/* The rollover of f->rolling is over: its successor takes its place. */
static void roll_finish(struct feed *f)
{
	struct fconn *old = f->rolling, *s = old->succ;

	for (size_t i = 0; i < f->nconns; i++)
		if (f->conns[i] == old)
			f->conns[i] = s;
	s->pred = NULL;
	old->succ = NULL;
	f->rolling = NULL;
	log_notice("connection %u: every pair is on connection %u: closing it",
		   old->no, s->no);
	retire(f, old, "rollover complete");
	metric_set(f->s_conn, feed__conns_all_up(f));
}

static void roll_maybe_finish(struct feed *f)
{
	if (f->rolling == NULL)
		return;
	for (size_t i = 0; i < f->npairs; i++)
		if (f->pairs[i]->c == f->rolling && !f->pairs[i]->removed)
			return;
	roll_finish(f);
}

static void roll_forget(struct gpair *p)
{
	p->next_c = NULL;
	p->next_last = 0;
	p->next_sub_id = 0;
	p->next_acked = 0;
	rollq_free(p->rq);
	p->rq = NULL;
}

static void follow_check(struct gpair *p, const struct sync_update *u,
			 int64_t now);

/* Move p to its successor at the book's id and replay what it queued
 * (or, with a shadow, follow it). */
static void roll_switch(struct gpair *p, int64_t now, const char *why)
{
	struct feed *f = p->f;
	struct fconn *old = p->c, *s = p->next_c;
	struct sync_update u;
	char detail[96], last[24];

	snprintf(detail, sizeof(detail), "connection %u -> %u%s", old->no,
		 s->no, why);
	snprintf(last, sizeof(last), "%llu",
		 (unsigned long long)sync_last_id(p->sync));
	feed__write_event(p, now, "rollover", NULL, last, NULL, detail);
	metric_inc(f->s_roll);
	metric_observe(f->s_rollsec, (double)(now - p->roll_since_us) / 1e6);
	old->npairs--;
	s->npairs++;
	p->c = s;
	p->sub_id = p->next_sub_id;
	p->sub_sent_us = 0;
	p->skip_ack = !p->next_acked;
	if (p->shadow != NULL) {
		roll_forget(p);
		p->follow_since_us = now;
		follow_check(p, NULL, now);
		return;
	}
	while (rollq_head(p->rq, &u) == 0) {
		if (sync_on_update(p->sync, &u, now) != 0)
			metric_inc(rec_series(f->r, f->r->m.failed,
					      "invalid_update"));
		rollq_pop(p->rq);
	}
	roll_forget(p);
}

/*
 * A switched pair's shadow after a message (u: the one it just took, or
 * NULL): equal to the book or past it, it ends; lost, it hands u to the
 * book, whose rules then see the gap.
 */
static void follow_check(struct gpair *p, const struct sync_update *u,
			 int64_t now)
{
	struct feed *f = p->f;
	uint64_t last = sync_last_id(p->sync);
	bool book = sync_synced(p->sync);

	if (!sync_synced(p->shadow)) {
		if (!p->shadow_synced &&
		    now - p->follow_since_us < FOLLOW_MAX_US)
			return; /* its full push has not come yet */
		/* Lost, or never whole: the stream goes to the book as is. */
		feed__roll_drop_shadow(p);
		if (u != NULL && sync_on_update(p->sync, u, now) != 0)
			metric_inc(rec_series(f->r, f->r->m.failed,
					      "invalid_update"));
		return;
	}
	if (book && sync_last_id(p->shadow) < last &&
	    !(u != NULL && u->id_reset) &&
	    now - p->follow_since_us < FOLLOW_MAX_US)
		return; /* behind the book: the book waits for it */
	/* Past it, or its ids went back (a reset) or never caught up:
	 * its book is whole where it is, as after a full push. */
	if (!book || sync_last_id(p->shadow) != last)
		(void)sync_adopt(p->sync, p->shadow, now);
	feed__roll_drop_shadow(p);
}

/* The successor's message u goes to p's shadow. */
static void shadow_take(struct gpair *p, const struct sync_update *u,
			int64_t now)
{
	if (sync_on_update(p->shadow, u, now) != 0)
		metric_inc(rec_series(p->f->r, p->f->r->m.failed,
				      "invalid_update"));
	if (sync_synced(p->shadow))
		p->shadow_synced = 1;
}

void feed__roll_follow(struct gpair *p, const struct sync_update *u,
		       int64_t now)
{
	shadow_take(p, u, now);
	follow_check(p, u, now);
}

void feed__roll_queue(struct gpair *p, const struct sync_update *u, int64_t now)
{
	if (p->shadow != NULL) {
		shadow_take(p, u, now);
		feed__roll_try(p, now);
		return;
	}
	p->next_last = u->last_id;
	if (!sync_synced(p->sync) || u->last_id > sync_last_id(p->sync)) {
		/* What could not be kept cannot be continued from. */
		if (rollq_push(p->rq, u) != 0)
			p->next_last = 0;
	}
	feed__roll_try(p, now);
}

void feed__roll_try(struct gpair *p, int64_t now)
{
	struct sync_update u;
	uint64_t last;

	if (p->shadow != NULL) {
		/* The successor's book is whole: follow it from now on. */
		if (!sync_synced(p->shadow) || !sync_synced(p->sync))
			return;
		roll_switch(p, now, "");
		roll_maybe_finish(p->f);
		return;
	}
	if (!sync_synced(p->sync))
		return;
	last = sync_last_id(p->sync);
	rollq_trim(p->rq, last);
	if (rollq_head(p->rq, &u) == 0) {
		/* Ahead: wait for the book, which the old one still feeds. */
		if (u.full || !u.has_first || u.first_id > last + 1)
			return;
	} else if (p->next_last == 0 || p->next_last > last) {
		return;
	}
	roll_switch(p, now, "");
	roll_maybe_finish(p->f);
}

/*
 * Give up the rollover of f->rolling for the pairs not yet switched.
 * A successor that took some pairs stays as a connection of its own.
 */
static void roll_abandon(struct feed *f, const char *why, int64_t mono,
			 int64_t retry_us)
{
	struct fconn *old = f->rolling, *s = old->succ;
	size_t kept = 0;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->next_c == s) {
			roll_forget(p);
			feed__roll_drop_shadow(p);
		}
		if (p->c == s && !p->removed)
			kept++;
	}
	old->succ = NULL;
	s->pred = NULL;
	f->rolling = NULL;
	old->roll_not_before = mono + retry_us;
	metric_inc(f->s_rollfail);
	log_warn("connection %u: rollover to connection %u abandoned: %s "
		 "(%zu pairs moved)",
		 old->no, s->no, why, kept);
	if (kept > 0)
		f->conns[f->nconns++] = s; /* feed__conn_alloc kept the slot */
	else
		retire(f, s, why);
}

/* The old connection of a rollover closed: its pairs move now. */
static void roll_old_lost(struct feed *f, struct fconn *old, int64_t now)
{
	struct fconn *s = old->succ;

	for (size_t i = 0; i < f->npairs; i++) {
		struct gpair *p = f->pairs[i];

		if (p->c != old || p->removed)
			continue;
		/*
		 * Subscribed there: the successor's stream continues the
		 * book if it started early enough (its first diff bridges
		 * or is stale), else the sync sees a gap and resyncs.
		 */
		if (p->next_c == s && p->next_sub_id != 0 &&
		    sync_synced(p->sync)) {
			roll_switch(p, now, ", the old one closed");
			continue;
		}
		feed__roll_drop_shadow(p);
		/* Not subscribed on the successor yet: a reconnect. */
		old->npairs--;
		s->npairs++;
		p->c = s;
		p->fetch_wanted = 0;
		if (sync_state(p->sync) != SYNC_IDLE)
			sync_on_disconnect(p->sync, now);
		if (p->next_c == s && p->next_acked) {
			sync_on_subscribed(p->sync, now);
		} else if (p->next_c == s && p->next_sub_id != 0) {
			p->sub_id = p->next_sub_id;
			p->sub_sent_us = now;
		}
		roll_forget(p);
	}
	wsconn_stop(old->ws); /* no reconnect: the successor has it all */
	roll_finish(f);
}

void feed__roll_conn_closed(struct feed *f, struct fconn *c, int64_t now)
{
	int64_t retry = roll_margin_us(f) / 4;

	if (c->succ != NULL) {
		roll_old_lost(f, c, now);
	} else if (c->pred != NULL) {
		if (retry > ROLL_RETRY_MAX_US)
			retry = ROLL_RETRY_MAX_US;
		roll_abandon(f, "the new connection closed", time_mono_us(),
			     retry);
	}
}

void feed__roll_tick(struct feed *f, int64_t mono)
{
	int64_t life = conn_lifetime_us(f);
	int64_t margin = roll_margin_us(f);

	if (f->rolling != NULL) {
		/* Pairs that have not caught up by half the margin stay:
		 * the old connection's close is then a plain reconnect. */
		if (mono - f->roll_started > margin / 2)
			roll_abandon(f, "pairs did not catch up in time", mono,
				     INT64_MAX / 2);
		return;
	}
	if (!f->cfg->rollover)
		return;
	for (size_t i = 0; i < f->nconns; i++) {
		struct fconn *c = f->conns[i];

		if (!wsconn_is_up(c->ws) || c->npairs == 0 ||
		    mono < c->roll_not_before)
			continue;
		if (c->shutdown_notice) {
			roll_start(f, c, mono, "shutdown notice");
			return;
		}
		if (life > 0 && mono - c->opened_us >= life - margin) {
			roll_start(f, c, mono, "lifetime near");
			return;
		}
	}
}

/* Free the retired connections whose links are gone. */
void feed__reap_retired(struct feed *f)
{
	struct fconn **pp = &f->retired;

	while (*pp != NULL) {
		struct fconn *c = *pp;
		int used = !wsconn_is_done(c->ws);

		for (size_t i = 0; i < f->npairs && !used; i++)
			used = f->pairs[i]->c == c || f->pairs[i]->next_c == c;
		if (used) {
			pp = &c->next_old;
			continue;
		}
		*pp = c->next_old;
		wsconn_free(c->ws);
		free(c);
	}
}
