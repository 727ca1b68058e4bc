/*
 * REST GETs over lws 4.1's HTTP client role. Each request owns a small
 * struct that lives until the request completes, fails or times out;
 * whichever comes first reports once and the rest only free.
 */
#include "rest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "core.h"
#include "log.h"
#include "banned.h"

struct rest_req {
	struct rest_req *next, *prev; /* outstanding list */
	struct lws_context *cx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_timeout;
	rest_done_fn done;
	void *ud;
	char *urlbuf;
	char *path;
	char *body;
	size_t len, cap;
	int status, retry_after, reported;
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
	lws_sul_cancel(&r->sul_timeout);
	req_unlink(r);
	free(r->body);
	free(r->urlbuf);
	free(r->path);
	free(r);
}

static void req_report(struct rest_req *r, const char *error)
{
	if (r->reported)
		return;
	r->reported = 1;
	r->done(r->ud, error ? 0 : r->status, r->body ? r->body : "", r->len,
		r->retry_after, error);
}

static void req_timeout(lws_sorted_usec_list_t *sul)
{
	struct rest_req *r =
		lws_container_of(sul, struct rest_req, sul_timeout);

	req_report(r, "timeout");
	if (r->wsi != NULL) {
		/* The close callback frees it. */
		lws_set_opaque_user_data(r->wsi, r);
		lws_set_timeout(r->wsi, PENDING_TIMEOUT_CLOSE_SEND,
				LWS_TO_KILL_ASYNC);
	}
}

static int body_append(struct rest_req *r, const void *in, size_t len)
{
	if (len > REST_MAX_BODY - r->len)
		return CORE_ETOOBIG;
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 65536;
		char *p;

		while (cap < r->len + len + 1)
			cap *= 2;
		p = realloc(r->body, cap);
		if (p == NULL)
			return CORE_ENOMEM;
		r->body = p;
		r->cap = cap;
	}
	memcpy(r->body + r->len, in, len);
	r->len += len;
	r->body[r->len] = '\0';
	return 0;
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
		if (body_append(r, in, len) != 0) {
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

int rest_get(struct lws_context *cx, struct lws_vhost *vhost, const char *url,
	     unsigned timeout_s, rest_done_fn done, void *ud)
{
	struct lws_client_connect_info i;
	struct rest_req *r = calloc(1, sizeof(*r));
	const char *prot, *addr, *path;
	int port;
	size_t plen;

	if (r == NULL)
		return CORE_ENOMEM;
	r->cx = cx;
	r->done = done;
	r->ud = ud;
	r->retry_after = -1;
	r->urlbuf = strdup(url);
	if (r->urlbuf == NULL) {
		free(r);
		return CORE_ENOMEM;
	}
	if (lws_parse_uri(r->urlbuf, &prot, &addr, &port, &path) ||
	    (strcmp(prot, "https") != 0 && strcmp(prot, "http") != 0)) {
		free(r->urlbuf);
		free(r);
		return CORE_EINVAL;
	}
	plen = strlen(path) + 2;
	r->path = malloc(plen);
	if (r->path == NULL) {
		free(r->urlbuf);
		free(r);
		return CORE_ENOMEM;
	}
	snprintf(r->path, plen, "/%s", path);
	memset(&i, 0, sizeof(i));
	i.context = cx;
	i.vhost = vhost;
	i.address = addr;
	i.port = port;
	i.path = r->path;
	i.host = addr;
	i.origin = addr;
	i.method = "GET";
	i.ssl_connection = strcmp(prot, "https") == 0 ? LCCSCF_USE_SSL : 0;
	i.local_protocol_name = "booktape-rest";
	i.alpn = "http/1.1";
	i.opaque_user_data = r;
	i.pwsi = &r->wsi;
	r->next = outstanding;
	if (outstanding)
		outstanding->prev = r;
	outstanding = r;
	lws_sul_schedule(cx, 0, &r->sul_timeout, req_timeout,
			 (lws_usec_t)timeout_s * LWS_US_PER_SEC);
	if (lws_client_connect_via_info(&i) == NULL) {
		/* No callback fires for a failure inside the call. */
		req_report(r, "connect failed");
		req_free(r);
	}
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
