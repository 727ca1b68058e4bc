/*
 * The HTTP side of the simulator on the same vhost as the WS endpoint:
 * the venue's REST order-book path (the rest_error and rest_429 faults
 * are applied here, before the venue answers), and the control endpoints
 * /_sim/fault and /_sim/status that tests use to script faults and read
 * the state.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define PATH_FAULT  "/_sim/fault"
#define PATH_STATUS "/_sim/status"

const char *sim_arg(struct lws *wsi, const char *name, char *buf, int len)
{
	return lws_get_urlarg_by_name(wsi, name, buf, len);
}

int sim_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

void rest_levels(struct sbuf *b, const struct sim_pair *p,
		 const struct sim_level *lv, size_t n)
{
	sbuf_addc(b, '[');
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(b, i ? ",[\"" : "[\"");
		sbuf_add_dec(b, lv[i].px, p->pdec);
		sbuf_adds(b, "\",\"");
		sbuf_add_dec(b, lv[i].amt, p->adec);
		sbuf_adds(b, "\"]");
	}
	sbuf_addc(b, ']');
}

void rest_code_msg(struct sbuf *b, int code, const char *msg)
{
	sbuf_adds(b, "{\"code\":");
	sbuf_add_i64(b, code);
	sbuf_adds(b, ",\"msg\":\"");
	sbuf_add_jstr(b, msg, strlen(msg));
	sbuf_adds(b, "\"}");
}

void rest_depth(struct sim *sim, const struct sim_pair *p, struct sbuf *b,
		size_t limit, int timestamp)
{
	struct sim_book_side st[2] = { p->side[0], p->side[1] };
	uint64_t id = p->last_id, back = sim->stale_back;

	sim->stale_back = 0;
	if (back > 0)
		id = book_state_back(p, back, st);
	sbuf_adds(b, "{\"lastUpdateId\":");
	sbuf_add_u64(b, id);
	sbuf_adds(b, ",\"bids\":");
	rest_levels(b, p, st[SIM_BID].lv,
		    st[SIM_BID].n < limit ? st[SIM_BID].n : limit);
	sbuf_adds(b, ",\"asks\":");
	rest_levels(b, p, st[SIM_ASK].lv,
		    st[SIM_ASK].n < limit ? st[SIM_ASK].n : limit);
	if (timestamp) {
		sbuf_adds(b, ",\"timestamp\":");
		sbuf_add_i64(b, sim_now_us() / 1000);
	}
	sbuf_addc(b, '}');
	if (back > 0) {
		book_side_release(&st[0]);
		book_side_release(&st[1]);
	}
}

/* REST faults first, then the venue's answer. */
static int rest_book(struct sim *sim, struct lws *wsi, struct sbuf *b,
		     int *retry_after)
{
	int status;

	sim->rest_calls++;
	if (sim->rest_429_left > 0) {
		sim->rest_429_left--;
		*retry_after = 1;
		sim->venue->rest_fault_body(b, 429);
		return 429;
	}
	if (sim->rest_error_left > 0) {
		sim->rest_error_left--;
		sim->venue->rest_fault_body(b, 500);
		return 500;
	}
	status = sim->venue->rest(sim, wsi, b);
	if (sim->opt.flood > 0)
		flood_kick(sim);
	return status;
}

static int ctl_fault(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char kbuf[64], pbuf[96], nbuf[64];
	const char *kind = sim_arg(wsi, "kind=", kbuf, sizeof(kbuf));
	const char *pair = sim_arg(wsi, "pair=", pbuf, sizeof(pbuf));
	const char *n = sim_arg(wsi, "n=", nbuf, sizeof(nbuf));
	struct sim_fault f = { 0 };
	int k = kind ? fault_kind_parse(kind) : -1;

	if (k < 0 || (n != NULL && sim_parse_u64(n, &f.n) < 0) ||
	    (pair != NULL && snprintf(f.pair, sizeof(f.pair), "%s", pair) >=
				     (int)sizeof(f.pair))) {
		sbuf_adds(b, "bad fault request\n");
		return 400;
	}
	f.kind = (enum sim_fault_kind)k;
	fault_apply(sim, &f);
	sbuf_adds(b, "ok\n");
	return 200;
}

static int ctl_status(struct sim *sim, struct sbuf *b)
{
	size_t i;

	sbuf_adds(b, "{\"conns\":");
	sbuf_add_u64(b, sim->nconns);
	sbuf_adds(b, ",\"rest_calls\":");
	sbuf_add_u64(b, sim->rest_calls);
	sbuf_adds(b, ",\"pairs\":{");
	for (i = 0; i < sim->npairs; i++) {
		struct sim_pair *p = &sim->pairs[i];

		sbuf_addf(b, "%s\"%s\":{\"first_id\":", i ? "," : "", p->name);
		sbuf_add_u64(b, p->first_id);
		sbuf_adds(b, ",\"last_id\":");
		sbuf_add_u64(b, p->last_id);
		sbuf_addc(b, '}');
	}
	sbuf_adds(b, "}}");
	return 200;
}

static int http_request(struct sim *sim, struct lws *wsi, struct sim_pss *pss,
			const char *path)
{
	unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
					  *end = hdr + sizeof(hdr) - 1;
	int status, retry_after = 0;
	const char *ctype = "application/json";

	sbuf_reset(&pss->body);
	if (strcmp(path, sim->venue->rest_path) == 0) {
		status = rest_book(sim, wsi, &pss->body, &retry_after);
	} else if (strcmp(path, PATH_FAULT) == 0) {
		status = ctl_fault(sim, wsi, &pss->body);
		ctype = "text/plain";
	} else if (strcmp(path, PATH_STATUS) == 0) {
		status = ctl_status(sim, &pss->body);
	} else {
		sbuf_adds(&pss->body, "{\"label\":\"NOT_FOUND\","
				      "\"message\":\"not found\"}");
		status = 404;
	}
	if (pss->body.oom)
		return -1;
	if (lws_add_http_common_headers(wsi, (unsigned)status, ctype,
					pss->body.len, &p, end))
		return 1;
	if (retry_after && lws_add_http_header_by_name(
				   wsi, (const unsigned char *)"retry-after:",
				   (const unsigned char *)"1", 1, &p, end))
		return 1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		  void *in, size_t len)
{
	struct sim_pss *pss = user;
	struct sim *sim = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(sim, wsi, pss, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (pss->body.len > 0 &&
		    lws_write(wsi, (unsigned char *)sbuf_data(&pss->body),
			      pss->body.len,
			      LWS_WRITE_HTTP_FINAL) < (int)pss->body.len)
			return 1;
		sbuf_release(&pss->body);
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_CLOSED_HTTP:
		/* A client that gives up during the TLS handshake (a
		 * certificate it refuses) is closed before it has any
		 * per-session data. */
		if (pss != NULL)
			sbuf_release(&pss->body);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
