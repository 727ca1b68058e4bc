/*
 * Exchange WebSocket client on lws 4.1. Reconnects are driven by our
 * own sul timer rather than lws_retry, so one code path handles connect
 * failures (sync and async), drops and watchdog kills alike.
 *
 * Pausing: lws 4.1's rx flow control must never change while its ws
 * parser is inside a read buffer, i.e. from our receive callback. If it
 * does, the parser stashes the rest of the buffer on the wsi's buflist;
 * rops_handle_POLLIN_ws then loops back to "read" as long as TLS holds
 * decrypted bytes (SSL_pending) or, with LCCSCF_PRIORITIZE_READS, as long
 * as the buflist is not empty, and each pass re-stashes the whole head
 * segment (lws_rxflow_cache appends a copy when nothing of it was used)
 * and consumes the original: the buflist rotates forever inside one
 * lws_service_fd_tsi call, and timers, /metrics and signals stop. So
 * wsconn_pause only records the wish and a zero-delay sul applies it at
 * the top of the next service round, when lws holds no half-parsed
 * buffer: POLLIN is then simply dropped from the fd, and buffered TLS
 * bytes are not faked as POLLIN either (both masks use the fd's events).
 * Messages the current round still delivers are handed over as usual.
 */
#include "wsconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "core.h"
#include "log.h"
#include "lwsclient.h"
#include "resolve.h"
#include "timeutil.h"
#include "banned.h"

#define MAX_QUEUED	4096
#define BACKOFF_BASE_MS 500u
#define BACKOFF_CAP_MS	30000u

struct outmsg {
	struct outmsg *next;
	size_t len;
	char text[]; /* LWS_PRE bytes of headroom first */
};

struct wsconn {
	struct lws_context *cx;
	struct lws_vhost *vhost;
	const struct wsconn_hooks *hooks;
	char *url;    /* as given */
	char *urlbuf; /* cut up by lws_parse_uri */
	const char *prot, *addr, *path;
	char *pathbuf; /* "/" + path */
	int port, tls;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_retry;
	lws_sorted_usec_list_t sul_flow; /* applies want_pause, see the top */
	unsigned attempt;
	int up, stopping, dropping;
	int want_pause, paused;
	int64_t up_since;
	char *rx; /* message reassembly, grown up to WSCONN_MAX_MESSAGE */
	size_t rxlen, rxcap;
	struct outmsg *qhead, *qtail;
	unsigned qcount;
};

static const lws_retry_bo_t ws_policy = {
	.secs_since_valid_ping = 15,   /* lws sends a PING after 15 s idle */
	.secs_since_valid_hangup = 40, /* and hangs up 40 s after the last proof
					*/
};

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		 void *in, size_t len);

static const struct lws_protocols ws_protocol = {
	"booktape-ws", ws_cb, 0, 65536, 0, NULL, 0,
};

const struct lws_protocols *wsconn_protocol(void)
{
	return &ws_protocol;
}

unsigned wsconn_backoff_ms(unsigned n, uint32_t rnd)
{
	unsigned ms = BACKOFF_BASE_MS;

	while (n-- > 0 && ms < BACKOFF_CAP_MS)
		ms *= 2;
	if (ms > BACKOFF_CAP_MS)
		ms = BACKOFF_CAP_MS;
	/* ±25 % so many recorders do not reconnect in lockstep. */
	return ms - ms / 4 + (unsigned)(rnd % (ms / 2 + 1));
}

static void queue_clear(struct wsconn *c)
{
	while (c->qhead != NULL) {
		struct outmsg *m = c->qhead;

		c->qhead = m->next;
		free(m);
	}
	c->qtail = NULL;
	c->qcount = 0;
}

static void wsconn_connect(lws_sorted_usec_list_t *sul);

static void schedule_retry(struct wsconn *c)
{
	unsigned ms;

	if (c->stopping)
		return;
	ms = wsconn_backoff_ms(c->attempt++, (uint32_t)random());
	log_info("reconnect to '%s' in %u ms", c->url, ms);
	lws_sul_schedule(c->cx, 0, &c->sul_retry, wsconn_connect,
			 (lws_usec_t)ms * LWS_US_PER_MS);
}

static void connect_failed(struct wsconn *c, const char *why)
{
	c->wsi = NULL;
	log_warn("connect '%s': %s", c->url, why);
	if (c->hooks->closed)
		c->hooks->closed(c->hooks->ud, "connect failed");
	schedule_retry(c);
}

static void connect_to(struct wsconn *c, const char *ip)
{
	struct lwsclient_dest to = { ip, c->port, c->addr, c->pathbuf,
				     &ws_protocol };
	struct lws_client_connect_info i;

	lwsclient_info(&i, c->cx, c->vhost, &to, c, &c->wsi);
	i.ssl_connection = c->tls ? LCCSCF_USE_SSL | LCCSCF_PRIORITIZE_READS
				  : LCCSCF_PRIORITIZE_READS;
	i.retry_and_idle_policy = &ws_policy;
	c->dropping = 0;
	c->rxlen = 0;
	queue_clear(c);
	log_info("connect '%s' (%s)", c->url, ip);
	/* A failure inside the call fires no callback (LIBRARIES.md §1.3). */
	if (lws_client_connect_via_info(&i) == NULL)
		connect_failed(c, "failed to start");
}

static void connect_resolved(void *ud, const char *error)
{
	struct wsconn *c = ud;
	char ip[RESOLVE_ADDR_MAX], why[160];

	if (c->stopping)
		return;
	if (error != NULL) {
		snprintf(why, sizeof(why), "resolve '%s': %s", c->addr, error);
		connect_failed(c, why);
	} else if (resolve_cached(c->addr, ip, sizeof(ip)) == 0) {
		connect_to(c, ip);
	} else {
		connect_failed(c, "no address");
	}
}

static void wsconn_connect(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, sul_retry);
	char ip[RESOLVE_ADDR_MAX];
	int rc;

	rc = resolve_cached(c->addr, ip, sizeof(ip));
	if (rc == 0) {
		connect_to(c, ip);
		return;
	}
	if (rc == CORE_EAGAIN) {
		rc = resolve_async(c->addr, connect_resolved, c);
		if (rc == 0)
			return; /* connect_resolved goes on */
	}
	connect_failed(c, core_strerror(rc));
}

static int rx_append(struct wsconn *c, const void *in, size_t len)
{
	if (len > WSCONN_MAX_MESSAGE - c->rxlen)
		return CORE_ETOOBIG;
	if (c->rxlen + len + 1 > c->rxcap) {
		size_t cap = c->rxcap ? c->rxcap : 65536;
		char *p;

		while (cap < c->rxlen + len + 1)
			cap *= 2;
		if (cap > WSCONN_MAX_MESSAGE + 1)
			cap = WSCONN_MAX_MESSAGE + 1;
		p = realloc(c->rx, cap);
		if (p == NULL)
			return CORE_ENOMEM;
		c->rx = p;
		c->rxcap = cap;
	}
	memcpy(c->rx + c->rxlen, in, len);
	c->rxlen += len;
	c->rx[c->rxlen] = '\0';
	return 0;
}

static void on_receive(struct wsconn *c, struct lws *wsi, void *in, size_t len)
{
	int rc;

	if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)) {
		/* A whole message in one piece (the usual case): hand it
		 * over where lws put it, without a copy. */
		c->rxlen = 0;
		c->hooks->message(c->hooks->ud, in, len,
				  lws_frame_is_binary(wsi), time_now_us());
		return;
	}
	if (lws_is_first_fragment(wsi))
		c->rxlen = 0;
	rc = rx_append(c, in, len);
	if (rc != 0) {
		c->rxlen = 0;
		wsconn_drop(c, rc == CORE_ETOOBIG ? "oversized message"
						  : "out of memory");
		return;
	}
	if (!lws_is_final_fragment(wsi))
		return;
	c->hooks->message(c->hooks->ud, c->rx, c->rxlen,
			  lws_frame_is_binary(wsi), time_now_us());
	c->rxlen = 0;
}

static int on_writeable(struct wsconn *c, struct lws *wsi)
{
	struct outmsg *m = c->qhead;

	if (c->dropping)
		return -1;
	if (m == NULL)
		return 0;
	c->qhead = m->next;
	if (c->qhead == NULL)
		c->qtail = NULL;
	c->qcount--;
	if (lws_write(wsi, (unsigned char *)m->text + LWS_PRE, m->len,
		      LWS_WRITE_TEXT) < (int)m->len) {
		free(m);
		return -1;
	}
	free(m);
	if (c->qhead != NULL)
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_gone(struct wsconn *c, const char *why)
{
	int was_up = c->up;

	c->up = 0;
	c->wsi = NULL;
	c->want_pause = c->paused = 0;
	lws_sul_cancel(&c->sul_flow);
	if (was_up && time_mono_us() - c->up_since > 60 * US_PER_SEC)
		c->attempt = 0; /* a link that lived a while resets backoff */
	if (c->hooks->closed)
		c->hooks->closed(c->hooks->ud, why);
	schedule_retry(c);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		 void *in, size_t len)
{
	struct wsconn *c = lws_get_opaque_user_data(wsi);
	char why[160];

	(void)user;
	if (c == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		log_escape(why, sizeof(why), in ? (const char *)in : "unknown",
			   in ? strlen(in) : 7);
		log_warn("connect '%s': %s", c->url, why);
		on_gone(c, "connection error");
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		log_notice("connected '%s'", c->url);
		c->up = 1;
		c->up_since = time_mono_us();
		c->wsi = wsi;
		c->want_pause = c->paused = 0;
		c->hooks->established(c->hooks->ud);
		if (c->qhead != NULL)
			lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		on_receive(c, wsi, in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c, wsi);
	case LWS_CALLBACK_CLIENT_CLOSED:
		log_notice("disconnected '%s'", c->url);
		on_gone(c, c->dropping ? "dropped" : "closed by peer");
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

struct wsconn *wsconn_new(struct lws_context *cx, struct lws_vhost *vhost,
			  const char *url, const struct wsconn_hooks *hooks)
{
	struct wsconn *c = calloc(1, sizeof(*c));
	size_t plen;

	if (c == NULL)
		return NULL;
	c->cx = cx;
	c->vhost = vhost;
	c->hooks = hooks;
	c->url = strdup(url);
	c->urlbuf = strdup(url);
	if (c->url == NULL || c->urlbuf == NULL)
		goto fail;
	if (lws_parse_uri(c->urlbuf, &c->prot, &c->addr, &c->port, &c->path))
		goto fail;
	if (strcmp(c->prot, "wss") == 0)
		c->tls = 1;
	else if (strcmp(c->prot, "ws") != 0)
		goto fail;
	plen = strlen(c->path) + 2;
	c->pathbuf = malloc(plen);
	if (c->pathbuf == NULL)
		goto fail;
	snprintf(c->pathbuf, plen, "/%s", c->path);
	return c;
fail:
	wsconn_free(c);
	return NULL;
}

void wsconn_start(struct wsconn *c)
{
	lws_sul_schedule(c->cx, 0, &c->sul_retry, wsconn_connect, 1);
}

int wsconn_send(struct wsconn *c, const char *text, size_t len)
{
	struct outmsg *m;

	if (c->qcount >= MAX_QUEUED)
		return CORE_ENOSPACE;
	m = malloc(sizeof(*m) + LWS_PRE + len);
	if (m == NULL)
		return CORE_ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->text + LWS_PRE, text, len);
	if (c->qtail != NULL)
		c->qtail->next = m;
	else
		c->qhead = m;
	c->qtail = m;
	c->qcount++;
	if (c->up && c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

void wsconn_drop(struct wsconn *c, const char *reason)
{
	if (c->wsi == NULL || c->dropping)
		return;
	log_warn("drop '%s': %s", c->url, reason);
	c->dropping = 1;
	/* Closing from outside a callback must go through a timeout. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* A sul callback: lws is between service rounds, no rx in progress. */
static void apply_flow(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, sul_flow);

	if (c->wsi == NULL || !c->up || c->dropping ||
	    c->want_pause == c->paused)
		return;
	if (lws_rx_flow_control(c->wsi, !c->want_pause) < 0) {
		wsconn_drop(c, "rx flow control failed");
		return;
	}
	c->paused = c->want_pause;
}

void wsconn_pause(struct wsconn *c, int pause)
{
	c->want_pause = pause != 0;
	if (c->wsi != NULL && c->up && c->want_pause != c->paused)
		lws_sul_schedule(c->cx, 0, &c->sul_flow, apply_flow, 1);
}

int wsconn_is_up(const struct wsconn *c)
{
	return c->up;
}

void wsconn_stop(struct wsconn *c)
{
	c->stopping = 1;
	lws_sul_cancel(&c->sul_retry);
	lws_sul_cancel(&c->sul_flow);
	resolve_cancel(c);
}

void wsconn_close(struct wsconn *c, const char *reason)
{
	wsconn_stop(c);
	if (c->wsi != NULL)
		wsconn_drop(c, reason);
}

int wsconn_is_done(const struct wsconn *c)
{
	return c->stopping && c->wsi == NULL;
}

void wsconn_free(struct wsconn *c)
{
	if (c == NULL)
		return;
	resolve_cancel(c);
	queue_clear(c);
	free(c->rx);
	free(c->pathbuf);
	free(c->urlbuf);
	free(c->url);
	free(c);
}
