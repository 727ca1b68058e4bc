/*
 * Exchange WebSocket connections: our own RFC 6455 client over OpenSSL
 * (the live link is wsconn_link.c), on a socket the lws event loop polls
 * for us (adopted as a raw descriptor). This file connects (by number,
 * the name resolved off the loop), reconnects on our own sul timer, so
 * one path handles connect failures, drops and watchdog kills alike,
 * and dispatches lws's callbacks for the socket.
 *
 * Pausing drops POLLIN from the descriptor (lws rx flow control, which
 * holds no buffer of ours); TLS records OpenSSL already decrypted are
 * read when reading resumes, by a zero-delay sul since no POLLIN may
 * come for them.
 */
#include "wsconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <libwebsockets.h>

#include "core.h"
#include "log.h"
#include "resolve.h"
#include "timeutil.h"
#include "wsconn_int.h"
#include "banned.h"

#define MAX_QUEUED	  4096
#define BACKOFF_BASE_MS	  500u
#define BACKOFF_CAP_MS	  30000u
#define CONNECT_TIMEOUT_S 10

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

/*
 * The link is gone. The closed hook gets one of a few fixed reasons (a
 * metric label): "connection error" before the link was up, "dropped"
 * when we closed it, else "closed by peer"; the log says what happened.
 */
static void on_gone(struct wsconn *c)
{
	int was_up = c->up, dropped = c->dropping;

	if (c->ssl != NULL)
		SSL_free(c->ssl); /* the descriptor is closed by lws */
	c->ssl = NULL;
	c->wsi = NULL;
	c->st = ST_IDLE;
	c->up = 0;
	c->dropping = 0;
	c->want_pause = c->paused = 0;
	wsconn__bufs_reset(c);
	lws_sul_cancel(&c->sul_more);
	lws_sul_cancel(&c->sul_live);
	if (was_up) {
		log_notice("disconnected '%s': %s", c->url, c->why);
		if (time_mono_us() - c->up_since > 60 * US_PER_SEC)
			c->attempt = 0; /* a link that lived resets backoff */
	} else {
		log_warn("connect '%s': %s", c->url, c->why);
	}
	if (c->hooks->closed)
		c->hooks->closed(c->hooks->ud, !was_up	 ? "connection error"
					       : dropped ? "dropped"
							 : "closed by peer");
	schedule_retry(c);
}

static int ws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		 void *in, size_t len)
{
	struct wsconn *c = lws_get_opaque_user_data(wsi);
	int rc;

	if (c == NULL || c->wsi != wsi)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
	case LWS_CALLBACK_RAW_WRITEABLE_FILE:
		if (c->dropping)
			return -1;
		rc = wsconn__step(c, reason == LWS_CALLBACK_RAW_RX_FILE);
		return rc != 0 || c->dropping ? -1 : 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		on_gone(c);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols ws_protocol = {
	"booktape-ws", ws_cb, 0, 0, 0, NULL, 0,
};

const struct lws_protocols *wsconn_protocol(void)
{
	return &ws_protocol;
}

static int tcp_socket(const char *ip, int port, int *fd)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)&ss)->sin_addr) ==
	    1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, ip,
			     &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		errno = EINVAL;
		return -1;
	}
	*fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		     0);
	if (*fd < 0)
		return -1;
	(void)setsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(*fd, (struct sockaddr *)&ss, sl) != 0 &&
	    errno != EINPROGRESS) {
		int e = errno;

		close(*fd);
		errno = e;
		return -1;
	}
	return 0;
}

static void connect_to(struct wsconn *c, const char *ip)
{
	lws_adopt_desc_t ad;
	char why[200];
	int fd;

	c->dropping = 0;
	wsconn__bufs_reset(c);
	queue_clear(c);
	log_info("connect '%s' (%s)", c->url, ip);
	if (tcp_socket(ip, c->port, &fd) != 0) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		connect_failed(c, why);
		return;
	}
	memset(&ad, 0, sizeof(ad));
	ad.vh = c->vhost;
	ad.type = LWS_ADOPT_RAW_FILE_DESC;
	ad.fd.filefd = fd;
	ad.vh_prot_name = ws_protocol.name;
	ad.opaque = c;
	c->wsi = lws_adopt_descriptor_vhost_via_info(&ad);
	if (c->wsi == NULL) {
		/* lws closed the descriptor */
		connect_failed(c, "cannot watch the socket");
		return;
	}
	c->st = ST_TCP;
	snprintf(c->why, sizeof(c->why), "timed out");
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_SENT_CLIENT_HANDSHAKE,
			CONNECT_TIMEOUT_S);
	lws_callback_on_writable(c->wsi);
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
	buf_init(&c->in, WSCONN_IO_MAX);
	buf_init(&c->out, WSCONN_IO_MAX);
	buf_init(&c->rx, WSCONN_MAX_MESSAGE);
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

	if (c->up && c->wsi != NULL) {
		if (wsconn__out_frame(c, WSF_TEXT, text, len) != 0)
			return CORE_ENOMEM;
		if (wsconn__flush_out(c) != 0)
			wsconn__close_link(c, c->why);
		return 0;
	}
	if (c->qcount >= MAX_QUEUED)
		return CORE_ENOSPACE;
	m = malloc(sizeof(*m) + len);
	if (m == NULL)
		return CORE_ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->text, text, len);
	if (c->qtail != NULL)
		c->qtail->next = m;
	else
		c->qhead = m;
	c->qtail = m;
	c->qcount++;
	return 0;
}

void wsconn_drop(struct wsconn *c, const char *reason)
{
	if (c->wsi == NULL || c->dropping)
		return;
	log_warn("drop '%s': %s", c->url, reason);
	wsconn__close_link(c, reason);
}

void wsconn_pause(struct wsconn *c, int pause)
{
	c->want_pause = pause != 0;
	if (c->wsi == NULL || !c->up || c->dropping ||
	    c->want_pause == c->paused)
		return;
	if (lws_rx_flow_control(c->wsi, !c->want_pause) < 0) {
		wsconn_drop(c, "rx flow control failed");
		return;
	}
	c->paused = c->want_pause;
	/* What TLS already holds raises no POLLIN: read it now. */
	if (!c->paused)
		lws_sul_schedule(c->cx, 0, &c->sul_more, wsconn__read_more, 1);
}

int wsconn_is_up(const struct wsconn *c)
{
	return c->up;
}

void wsconn_stop(struct wsconn *c)
{
	c->stopping = 1;
	lws_sul_cancel(&c->sul_retry);
	lws_sul_cancel(&c->sul_more);
	lws_sul_cancel(&c->sul_live);
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
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	buf_release(&c->in);
	buf_release(&c->out);
	buf_release(&c->rx);
	free(c->pathbuf);
	free(c->urlbuf);
	free(c->url);
	free(c);
}
