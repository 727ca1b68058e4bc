/*
 * REST GETs over lws 4.1's HTTP client role. Each request owns a small
 * struct that lives until the request completes, fails or times out;
 * whichever comes first reports once and the rest only free. The host
 * is resolved off the loop (resolve.h) and connected to by number.
 *
 * No keep-alive: lws 4.1 reuses an HTTP/1 connection only through
 * LCCSCF_PIPELINE, and lws_vhost_active_conns() matches a new request by
 * comparing its *address* with the earlier connection's *Host* (its
 * cli_hostname_copy). Connecting by number with the name as Host, which
 * keeps DNS off the loop and the certificate checked against the name,
 * never matches, and connecting by name puts getaddrinfo() back on the
 * loop for every new connection. So each fetch makes its own connection.
 * (Measured with LCCSCF_PIPELINE and keep_warm_secs 30 against the
 * simulator: 7 fetches to "localhost" took 7 connections; to 127.0.0.1,
 * where address and Host are equal, 1.)
 */
#include "rest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "buf.h"
#include "core.h"
#include "log.h"
#include "resolve.h"
#include "banned.h"

struct rest_req {
	struct rest_req *next, *prev; /* outstanding list */
	struct lws_context *cx;
	struct lws_vhost *vhost;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_timeout;
	rest_done_fn done;
	void *ud;
	char *urlbuf;
	const char *host; /* in urlbuf */
	int port, tls;
	char *path;
	struct buf body; /* at most REST_MAX_BODY */
	int status, retry_after, reported;
	const char *failed; /* static text: report it at the next round */
};

static struct rest_req *outstanding;

static void req_unlink(struct rest_req *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else if (outstanding == r)
		outstanding = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
}

static void req_free(struct rest_req *r)
{
	resolve_cancel(r);
	lws_sul_cancel(&r->sul_timeout);
	req_unlink(r);
	buf_release(&r->body);
	free(r->urlbuf);
	free(r->path);
	free(r);
}

static void req_report(struct rest_req *r, const char *error)
{
	if (r->reported)
		return;
	r->reported = 1;
	r->done(r->ud, error ? 0 : r->status, buf_str(&r->body),
		buf_len(&r->body), r->retry_after, error);
}

static void req_timeout(lws_sorted_usec_list_t *sul)
{
	struct rest_req *r =
		lws_container_of(sul, struct rest_req, sul_timeout);

	if (r->failed != NULL) {
		/* A failure before any connection: report it now, from a
		 * timer rather than inside rest_get(). */
		req_report(r, r->failed);
		req_free(r);
		return;
	}
	req_report(r, "timeout");
	if (r->wsi == NULL) {
		req_free(r); /* still resolving: no connection to close */
		return;
	}
	/* The close callback frees it. */
	lws_set_opaque_user_data(r->wsi, r);
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

static void read_retry_after(struct rest_req *r, struct lws *wsi)
{
	char v[32];
	char *end;
	long s;

	if (lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_RETRY_AFTER) <= 0)
		return;
	errno = 0;
	s = strtol(v, &end, 10);
	if (errno == 0 && end != v && s >= 0 && s < 86400)
		r->retry_after = (int)s;
}

static int rest_cb(struct lws *wsi, enum lws_callback_reasons reason,
		   void *user, void *in, size_t len)
{
	struct rest_req *r = lws_get_opaque_user_data(wsi);
	char buf[LWS_PRE + 8192], *px = buf + LWS_PRE;
	int lenx = (int)sizeof(buf) - LWS_PRE;

	if (r == NULL)
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		req_report(r, in ? (const char *)in : "connection error");
		lws_set_opaque_user_data(wsi, NULL);
		req_free(r);
		return 0;
	case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
		r->status = (int)lws_http_client_http_response(wsi);
		read_retry_after(r, wsi);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
		if (buf_add(&r->body, in, len) != 0) {
			req_report(r, "response too large");
			return -1;
		}
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		if (lws_http_client_read(wsi, &px, &lenx) < 0)
			return -1;
		return 0;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		req_report(r, NULL);
		return 0;
	case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
		req_report(r, "connection closed before the body ended");
		lws_set_opaque_user_data(wsi, NULL);
		req_free(r);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols rest_proto = {
	"booktape-rest", rest_cb, 0, 0, 0, NULL, 0,
};

const struct lws_protocols *rest_protocol(void)
{
	return &rest_proto;
}

/* Fail a request from the next round, never from inside rest_get(). */
static void req_fail_soon(struct rest_req *r, const char *why)
{
	r->failed = why;
	lws_sul_schedule(r->cx, 0, &r->sul_timeout, req_timeout, 1);
}

/*
 * Connect by number, so lws does no DNS on the loop; the name stays the
 * Host header, the Origin, the SNI and what the certificate must match.
 */
static void req_connect(struct rest_req *r, const char *ip)
{
	struct lws_client_connect_info i;

	memset(&i, 0, sizeof(i));
	i.context = r->cx;
	i.vhost = r->vhost;
	i.address = ip;
	i.port = r->port;
	i.path = r->path;
	i.host = r->host;
	i.origin = r->host;
	i.local_protocol_name = rest_proto.name;
	i.alpn = "http/1.1";
	i.opaque_user_data = r;
	i.pwsi = &r->wsi;
	i.method = "GET";
	i.ssl_connection = r->tls ? LCCSCF_USE_SSL : 0;
	/* No callback fires for a failure inside the call. */
	if (lws_client_connect_via_info(&i) == NULL) {
		r->wsi = NULL;
		req_fail_soon(r, "connect failed");
	}
}

static void req_resolved(void *ud, const char *error)
{
	struct rest_req *r = ud;
	char ip[RESOLVE_ADDR_MAX];

	if (error != NULL) {
		log_warn("resolve '%s': %s", r->host, error);
		req_fail_soon(r, "name resolution failed");
	} else if (resolve_cached(r->host, ip, sizeof(ip)) != 0)
		req_fail_soon(r, "no address");
	else
		req_connect(r, ip);
}

int rest_get(struct lws_context *cx, struct lws_vhost *vhost, const char *url,
	     unsigned timeout_s, rest_done_fn done, void *ud)
{
	struct rest_req *r = calloc(1, sizeof(*r));
	const char *prot, *path;
	char ip[RESOLVE_ADDR_MAX];
	size_t plen;
	int rc;

	if (r == NULL)
		return CORE_ENOMEM;
	buf_init(&r->body, REST_MAX_BODY);
	r->cx = cx;
	r->vhost = vhost;
	r->done = done;
	r->ud = ud;
	r->retry_after = -1;
	r->urlbuf = strdup(url);
	if (r->urlbuf == NULL) {
		free(r);
		return CORE_ENOMEM;
	}
	if (lws_parse_uri(r->urlbuf, &prot, &r->host, &r->port, &path) ||
	    (strcmp(prot, "https") != 0 && strcmp(prot, "http") != 0)) {
		free(r->urlbuf);
		free(r);
		return CORE_EINVAL;
	}
	r->tls = strcmp(prot, "https") == 0;
	plen = strlen(path) + 2;
	r->path = malloc(plen);
	if (r->path == NULL) {
		free(r->urlbuf);
		free(r);
		return CORE_ENOMEM;
	}
	snprintf(r->path, plen, "/%s", path);
	r->next = outstanding;
	if (outstanding)
		outstanding->prev = r;
	outstanding = r;
	lws_sul_schedule(cx, 0, &r->sul_timeout, req_timeout,
			 (lws_usec_t)timeout_s * LWS_US_PER_SEC);
	rc = resolve_cached(r->host, ip, sizeof(ip));
	if (rc == 0)
		req_connect(r, ip);
	else if (rc != CORE_EAGAIN || resolve_async(r->host, req_resolved, r))
		req_fail_soon(r, "name resolution failed");
	return 0;
}

void rest_shutdown(void)
{
	while (outstanding != NULL) {
		struct rest_req *r = outstanding;

		req_report(r, "shutdown");
		if (r->wsi != NULL)
			lws_set_opaque_user_data(r->wsi, NULL);
		req_free(r);
	}
}
