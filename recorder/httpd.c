/*
 * /metrics and /healthz over lws 4.1's HTTP server role. Bodies are
 * rendered whole on request and written out in chunks as the socket
 * becomes writable, so a large /metrics never blocks the loop.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "core.h"
#include "log.h"
#include "banned.h"

#define CHUNK 16384

struct httpd_sess {
	char *body;
	size_t len, off;
	int status;
	const char *ctype;
};

static const struct httpd_hooks *httpd_hooks_of(struct lws *wsi)
{
	return lws_get_protocol(wsi)->user;
}

/* Render the response for `path` into the session. */
static void httpd_render(struct lws *wsi, struct httpd_sess *s,
			 const char *path)
{
	const struct httpd_hooks *h = httpd_hooks_of(wsi);
	int rc;

	s->status = 200;
	if (strcmp(path, "/metrics") == 0) {
		s->ctype = "text/plain; version=0.0.4; charset=utf-8";
		rc = h->metrics(h->ud, &s->body, &s->len);
	} else if (strcmp(path, "/healthz") == 0) {
		s->ctype = "application/json";
		rc = h->health(h->ud, &s->body, &s->len, &s->status);
	} else {
		s->status = 404;
		s->ctype = "text/plain";
		rc = 0;
		s->body = strdup("not found\n");
		s->len = s->body ? strlen(s->body) : 0;
	}
	if (rc != 0 || s->body == NULL) {
		free(s->body);
		s->body = NULL;
		s->len = 0;
		s->status = 500;
	}
}

static int httpd_send_headers(struct lws *wsi, struct httpd_sess *s)
{
	uint8_t buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start;
	uint8_t *end = buf + sizeof(buf) - 1;

	if (lws_add_http_common_headers(wsi, (unsigned)s->status, s->ctype,
					s->len, &p, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int httpd_send_chunk(struct lws *wsi, struct httpd_sess *s)
{
	uint8_t buf[LWS_PRE + CHUNK];
	size_t n = s->len - s->off;
	enum lws_write_protocol wp = LWS_WRITE_HTTP;

	if (n > CHUNK)
		n = CHUNK;
	else
		wp = LWS_WRITE_HTTP_FINAL;
	memcpy(buf + LWS_PRE, s->body + s->off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, wp) != (int)n)
		return -1;
	s->off += n;
	if (wp == LWS_WRITE_HTTP_FINAL) {
		free(s->body);
		s->body = NULL;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int httpd_cb(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct httpd_sess *s = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		free(s->body);
		memset(s, 0, sizeof(*s));
		httpd_render(wsi, s, in ? (const char *)in : "/");
		return httpd_send_headers(wsi, s);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (s == NULL || s->body == NULL)
			return s != NULL && s->len == 0 &&
					       lws_http_transaction_completed(
						       wsi)
				       ? -1
				       : 0;
		return httpd_send_chunk(wsi, s);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s != NULL) {
			free(s->body);
			s->body = NULL;
		}
		break;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

int httpd_split_listen(const char *listen, char *host, size_t hostsize,
		       int *port)
{
	const char *colon, *hb = listen, *he;
	char *end;
	long p;

	if (listen[0] == '[') {
		hb = listen + 1;
		he = strchr(hb, ']');
		if (he == NULL || he[1] != ':')
			return CORE_EINVAL;
		colon = he + 1;
	} else {
		colon = strrchr(listen, ':');
		if (colon == NULL)
			return CORE_EINVAL;
		he = colon;
	}
	if ((size_t)(he - hb) + 1 > hostsize || he == hb)
		return CORE_EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || p < 0 ||
	    p > 65535)
		return CORE_EINVAL;
	memcpy(host, hb, (size_t)(he - hb));
	host[he - hb] = '\0';
	*port = (int)p;
	return 0;
}

int httpd_start(struct lws_context *cx, const char *listen,
		const struct httpd_hooks *hooks)
{
	static struct lws_protocols protos[2];
	struct lws_context_creation_info vi;
	/* lws keeps the iface pointer for the vhost's lifetime. */
	static char host[256];
	struct in_addr a4;
	int port, rc;

	rc = httpd_split_listen(listen, host, sizeof(host), &port);
	if (rc != 0)
		return rc;
	memset(protos, 0, sizeof(protos));
	protos[0].name = "http";
	protos[0].callback = httpd_cb;
	protos[0].per_session_data_size = sizeof(struct httpd_sess);
	protos[0].user = (void *)(uintptr_t)hooks;
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "metrics";
	vi.port = port;
	vi.protocols = protos;
	/* lws 4.1 with IPv6 binds every interface for an IPv4 literal
	 * unless IPv6 is disabled on the vhost (LIBRARIES.md §0.1). */
	if (inet_pton(AF_INET, host, &a4) == 1) {
		vi.iface = host;
		vi.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	} else if (strcmp(host, "*") != 0 && strcmp(host, "::") != 0) {
		vi.iface = host;
	}
	vi.keepalive_timeout = 5;
	vi.timeout_secs = 10;
	if (lws_create_vhost(cx, &vi) == NULL) {
		errno = EADDRINUSE;
		return CORE_ESYS;
	}
	return 0;
}
