/*
 * The HTTP side of the simulator on the same vhost as the WS endpoint:
 * REST GET /api/v4/spot/order_book (with the rest_error, rest_429 and
 * stale_snapshot faults), and the control endpoints /_sim/fault and
 * /_sim/status that tests use to script faults and read the state.
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "banned.h"

#define PATH_BOOK   "/api/v4/spot/order_book"
#define PATH_FAULT  "/_sim/fault"
#define PATH_STATUS "/_sim/status"

static const char *arg(struct lws *wsi, const char *name, char *buf, int len)
{
	return lws_get_urlarg_by_name(wsi, name, buf, len);
}

static int parse_u64(const char *s, uint64_t *out)
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

static void err_body(struct sbuf *b, const char *label, const char *msg)
{
	sbuf_adds(b, "{\"label\":\"");
	sbuf_adds(b, label);
	sbuf_adds(b, "\",\"message\":\"");
	sbuf_add_jstr(b, msg, strlen(msg));
	sbuf_adds(b, "\"}");
}

/* Build the REST reply into pss->body; returns the HTTP status. */
static int rest_book(struct sim *sim, struct lws *wsi, struct sbuf *b,
		     int *retry_after)
{
	char pbuf[96], lbuf[64], wbuf[64], msg[128];
	const char *pair = arg(wsi, "currency_pair=", pbuf, sizeof(pbuf));
	const char *lim = arg(wsi, "limit=", lbuf, sizeof(lbuf));
	const char *wid = arg(wsi, "with_id=", wbuf, sizeof(wbuf));
	struct sim_pair *p;
	uint64_t limit = 10, back;

	sim->rest_calls++;
	if (sim->rest_429_left > 0) {
		sim->rest_429_left--;
		*retry_after = 1;
		err_body(b, "TOO_MANY_REQUESTS", "Request Rate limit Exceeded");
		return 429;
	}
	if (sim->rest_error_left > 0) {
		sim->rest_error_left--;
		err_body(b, "SERVER_ERROR", "Internal server error");
		return 500;
	}
	if (pair == NULL || *pair == '\0') {
		err_body(b, "MISSING_REQUIRED_PARAM",
			 "Missing required parameter: currency_pair");
		return 400;
	}
	if (lim != NULL &&
	    (parse_u64(lim, &limit) < 0 || limit == 0 || limit > 5000)) {
		snprintf(msg, sizeof(msg),
			 "Invalid parameter `limit` "
			 "with value: %.40s",
			 lim);
		err_body(b, "INVALID_PARAM_VALUE", msg);
		return 400;
	}
	p = sim_pair_find(sim, pair, strlen(pair));
	if (p == NULL) {
		snprintf(msg, sizeof(msg), "Invalid currency pair %.40s", pair);
		err_body(b, "INVALID_CURRENCY_PAIR", msg);
		return 400;
	}
	if (p->rp_snap != NULL) {
		sbuf_add(b, p->rp_snap, p->rp_snap_len);
		return 200;
	}
	back = sim->stale_back;
	sim->stale_back = 0;
	gio_rest_book(sim, p, b, (int)limit,
		      wid != NULL && strcmp(wid, "true") == 0, back);
	return 200;
}

static int ctl_fault(struct sim *sim, struct lws *wsi, struct sbuf *b)
{
	char kbuf[64], pbuf[96], nbuf[64];
	const char *kind = arg(wsi, "kind=", kbuf, sizeof(kbuf));
	const char *pair = arg(wsi, "pair=", pbuf, sizeof(pbuf));
	const char *n = arg(wsi, "n=", nbuf, sizeof(nbuf));
	struct sim_fault f = { 0 };
	int k = kind ? fault_kind_parse(kind) : -1;

	if (k < 0 || (n != NULL && parse_u64(n, &f.n) < 0) ||
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
	if (strcmp(path, PATH_BOOK) == 0) {
		status = rest_book(sim, wsi, &pss->body, &retry_after);
	} else if (strcmp(path, PATH_FAULT) == 0) {
		status = ctl_fault(sim, wsi, &pss->body);
		ctype = "text/plain";
	} else if (strcmp(path, PATH_STATUS) == 0) {
		status = ctl_status(sim, &pss->body);
	} else {
		err_body(&pss->body, "NOT_FOUND", "not found");
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
		sbuf_release(&pss->body);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}
