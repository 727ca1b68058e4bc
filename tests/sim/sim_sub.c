/*
 * Subscriptions on a WS connection, shared by the venues (add, find,
 * free), and Gate.io's client requests: spot.ping, and subscribe and
 * unsubscribe for spot.order_book_update and spot.obu with the error
 * replies Gate.io documents (code 1 bad body, code 2 bad argument).
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define CH_UPD "spot.order_book_update"
#define CH_OBU "spot.obu"

static void reply(struct sim_conn *c, const struct sim_req *r, int code,
		  const char *msg)
{
	struct sim *sim = c->sim;

	sbuf_reset(&sim->scratch);
	gio_ack(sim, c, &sim->scratch, r, code, msg);
	ws_queue(c, sbuf_data(&sim->scratch), sim->scratch.len);
}

struct sim_sub *sub_find(struct sim_conn *c, const struct sim_target *t,
			 size_t *idx)
{
	size_t i;

	for (i = 0; i < c->nsubs; i++) {
		struct sim_sub *s = c->subs[i];

		if (s->pair == t->pair && s->chan == t->chan &&
		    s->level == t->level) {
			if (idx != NULL)
				*idx = i;
			return s;
		}
	}
	return NULL;
}

void sub_free(struct sim_sub *s)
{
	if (s == NULL)
		return;
	sbuf_release(&s->last);
	sbuf_release(&s->held);
	book_side_release(&s->win[0]);
	book_side_release(&s->win[1]);
	free(s);
}

void sub_remove_all(struct sim_conn *c)
{
	while (c->nsubs > 0)
		sub_free(c->subs[--c->nsubs]);
}

int sub_add(struct sim_conn *c, const struct sim_target *t)
{
	struct sim *sim = c->sim;
	struct sim_sub *s;
	int64_t now = sim_now_us();

	if (c->nsubs == SIM_MAX_SUBS)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -1;
	s->pair = t->pair;
	s->chan = t->chan;
	s->interval_ms = t->interval_ms;
	s->level = t->level;
	s->next_id = t->pair->last_id + 1;
	s->need_full = 1; /* the first push after subscribing is full */
	s->next_push_us = now;
	if (sim->opt.full_every_s > 0)
		s->next_full_us =
			now +
			(int64_t)(sim->opt.full_every_s * 1e6 *
				  (0.5 + (double)(sim_rand(&sim->rng) % 1000) /
						 1000.0));
	if (sim->opt.flood > 0 && t->pair->rp_n == 0)
		flood_sub_init(c, s, t);
	c->subs[c->nsubs++] = s;
	return 0;
}

/* Parse an order_book_update payload [pair, interval]. 0 or error code. */
static int target_upd(struct sim *sim, const struct sim_req *r,
		      struct sim_target *t, char *msg, size_t msz)
{
	const char *iv;

	if (!r->has_payload || r->payload_nonstr || r->npayload != 2) {
		snprintf(msg, msz, "invalid argument: payload");
		return 2;
	}
	t->chan = SIM_CH_OBU_UPDATE;
	t->pair = sim_pair_find(sim, r->payload[0], strlen(r->payload[0]));
	if (t->pair == NULL) {
		snprintf(msg, msz, "unknown currency pair: %s", r->payload[0]);
		return 2;
	}
	iv = r->payload[1];
	if (strcmp(iv, "100ms") == 0) {
		t->interval_ms = 100;
		t->level = 100;
	} else if (strcmp(iv, "20ms") == 0) {
		t->interval_ms = 20;
		t->level = 20;
	} else {
		snprintf(msg, msz, "incorrect update interval specified: %s",
			 iv);
		return 2;
	}
	return 0;
}

/* Parse one obu stream name "ob.PAIR.LEVEL". 0 or error code. */
static int target_obu(struct sim *sim, const char *name, struct sim_target *t,
		      char *msg, size_t msz)
{
	const char *dot;

	t->chan = SIM_CH_OBU;
	dot = strrchr(name, '.');
	if (strncmp(name, "ob.", 3) != 0 || dot == NULL || dot < name + 3) {
		snprintf(msg, msz, "invalid argument: %s", name);
		return 2;
	}
	t->pair = sim_pair_find(sim, name + 3, (size_t)(dot - name - 3));
	if (t->pair == NULL || t->pair->rp_n > 0) {
		snprintf(msg, msz, "unknown currency pair: %.*s",
			 (int)(dot - name - 3), name + 3);
		return 2;
	}
	if (strcmp(dot + 1, "400") == 0) {
		t->level = 400;
		t->interval_ms = 100;
	} else if (strcmp(dot + 1, "50") == 0) {
		t->level = 50;
		t->interval_ms = 20;
	} else {
		snprintf(msg, msz, "provided level not supported: %s", dot + 1);
		return 2;
	}
	return 0;
}

static void req_update(struct sim_conn *c, const struct sim_req *r, int sub)
{
	struct sim_target t = { 0 };
	char msg[160];
	size_t idx;
	int code = target_upd(c->sim, r, &t, msg, sizeof(msg));

	if (code != 0) {
		reply(c, r, code, msg);
		return;
	}
	/* A repeated subscribe restarts the stream with a full push. */
	if (sub_find(c, &t, &idx) != NULL) {
		sub_free(c->subs[idx]);
		c->subs[idx] = c->subs[--c->nsubs];
	}
	if (sub && c->sim->sub_error_left > 0) {
		c->sim->sub_error_left--;
		reply(c, r, 3, "server error: please try again");
		return;
	}
	if (sub && sub_add(c, &t) < 0) {
		reply(c, r, 3, "server error: too many subscriptions");
		return;
	}
	reply(c, r, 0, NULL);
}

static void req_obu(struct sim_conn *c, const struct sim_req *r, int sub)
{
	struct sim_target t[SIM_PAYLOAD_MAX];
	char msg[160];
	size_t idx;
	int i, code;

	if (!r->has_payload || r->payload_nonstr || r->npayload == 0) {
		reply(c, r, 2, "invalid argument: payload");
		return;
	}
	for (i = 0; i < r->npayload; i++) {
		code = target_obu(c->sim, r->payload[i], &t[i], msg,
				  sizeof(msg));
		if (code == 0 && sub && sub_find(c, &t[i], NULL) != NULL) {
			snprintf(msg, sizeof(msg), "Alert sub %s",
				 r->payload[i]);
			code = 2;
		}
		if (code != 0) {
			reply(c, r, code, msg);
			return;
		}
	}
	if (sub && c->sim->sub_error_left > 0) {
		c->sim->sub_error_left--;
		reply(c, r, 3, "server error: please try again");
		return;
	}
	for (i = 0; i < r->npayload; i++) {
		if (!sub && sub_find(c, &t[i], &idx) != NULL) {
			sub_free(c->subs[idx]);
			c->subs[idx] = c->subs[--c->nsubs];
		} else if (sub && sub_add(c, &t[i]) < 0) {
			reply(c, r, 3, "server error: too many subscriptions");
			return;
		}
	}
	reply(c, r, 0, NULL);
}

void gio_request(struct sim_conn *c, const char *data, size_t len)
{
	struct sim *sim = c->sim;
	struct sim_req r;
	int sub;

	if (json_parse_req(data, len, &r) < 0) {
		memset(&r, 0, sizeof(r));
		reply(c, &r, 1, "invalid request body format");
		return;
	}
	if (strcmp(r.channel, "spot.ping") == 0) {
		c->last_ping_us = sim_now_us();
		sbuf_reset(&sim->scratch);
		gio_pong(sim, c, &sim->scratch, &r);
		ws_queue(c, sbuf_data(&sim->scratch), sim->scratch.len);
		return;
	}
	if (strcmp(r.event, "subscribe") == 0)
		sub = 1;
	else if (strcmp(r.event, "unsubscribe") == 0)
		sub = 0;
	else {
		reply(c, &r, 1, "invalid request body format");
		return;
	}
	if (strcmp(r.channel, CH_UPD) == 0)
		req_update(c, &r, sub);
	else if (strcmp(r.channel, CH_OBU) == 0 && sim->opt.replay_dir == NULL)
		req_obu(c, &r, sub);
	else {
		char msg[96];

		snprintf(msg, sizeof(msg), "Unknown channel %s", r.channel);
		reply(c, &r, 2, msg);
	}
}
