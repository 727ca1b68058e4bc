/*
 * /metrics and /healthz over lws 4.1's HTTP server role. Bodies are
 * rendered whole on request and written out in chunks as the socket
 * becomes writable, so a large /metrics never blocks the loop.
 */
#include "httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "core.h"
#include "hostport.h"
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

/*
 * The listening socket is ours, not lws's. lws 4.1 resolves a vhost's
 * `iface` with getifaddrs(), which needs a netlink socket; under the
 * unit's RestrictAddressFamilies= that fails with EAFNOSUPPORT and lws
 * then binds every interface (`*:port`) without a word beyond one log
 * line. So the recorder binds exactly the configured address itself
 * (or fails), hands the socket to lws as a raw file, and adopts each
 * accepted connection into the metrics vhost as HTTP.
 */
static struct httpd_listener {
	int fd;
	struct lws_context *cx;
	struct lws_vhost *vh;
	struct lws *wsi; /* the listening socket, adopted as a raw file */
	lws_sorted_usec_list_t resume;
	struct log_ratelimit rl;
} httpd_lsn = { .fd = -1 };

static void httpd_resume(lws_sorted_usec_list_t *sul)
{
	(void)sul;
	lws_rx_flow_control(httpd_lsn.wsi, 1);
}

/* Accept what is pending; each connection becomes an HTTP wsi. */
static void httpd_accept(struct httpd_listener *l)
{
	unsigned suppressed;

	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/* EMFILE and the like: the client waits in the
			 * backlog while the listener rests for a second
			 * (it would stay readable and spin the loop). */
			if (log_ratelimit_ok(&l->rl, 1, 60, &suppressed))
				log_warn("accept on the metrics listener: %s",
					 strerror(errno));
			lws_rx_flow_control(l->wsi, 0);
			lws_sul_schedule(l->cx, 0, &l->resume, httpd_resume,
					 LWS_US_PER_SEC);
			return;
		}
		/* lws closes fd itself when adoption fails. */
		if (lws_adopt_socket_vhost(l->vh, fd) == NULL)
			log_warn("adopt a metrics connection failed");
	}
}

static int httpd_listen_cb(struct lws *wsi, enum lws_callback_reasons reason,
			   void *user, void *in, size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_RAW_RX_FILE)
		httpd_accept(&httpd_lsn);
	return 0;
}

/* "host:port" as printable text for messages, e.g. "[::1]:8000". */
static void httpd_addr_text(const struct sockaddr *sa, char *buf, size_t size)
{
	char h[INET6_ADDRSTRLEN] = "?";
	int port = 0;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, h, sizeof(h));
		port = ntohs(s6->sin6_port);
		snprintf(buf, size, "[%s]:%d", h, port);
		return;
	}
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, h, sizeof(h));
		port = ntohs(s4->sin_port);
	}
	snprintf(buf, size, "%s:%d", h, port);
}

/* A socket bound to exactly ai's address and listening, or -1/errno. */
static int httpd_bind(const struct addrinfo *ai)
{
	int fd, one = 1, v6only = 1, saved;

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (ai->ai_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ai->ai_addr;

		/* "[::]" keeps Linux's meaning, every address of both
		 * families; any other IPv6 address is that address only. */
		if (IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr))
			v6only = 0;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			       sizeof(v6only)) < 0)
			goto fail;
	}
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 64) < 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/*
 * Resolve host (a literal, or a name taken once at start: its first
 * address) and listen there. Logs the reason of a failure itself.
 */
static int httpd_listen_on(const char *listen, const char *host, int port)
{
	struct addrinfo hints, *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char portstr[12], where[INET6_ADDRSTRLEN + 16];
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	/* No AI_ADDRCONFIG: it asks netlink, which the unit forbids. */
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	rc = getaddrinfo(host, portstr, &hints, &res);
	if (rc != 0) {
		log_err("listen on '%s': cannot resolve '%s': %s", listen, host,
			rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return CORE_EINVAL;
	}
	httpd_addr_text(res->ai_addr, where, sizeof(where));
	httpd_lsn.fd = httpd_bind(res);
	freeaddrinfo(res);
	if (httpd_lsn.fd < 0) {
		rc = errno;
		log_err("listen on '%s' (%s): %s", listen, where, strerror(rc));
		errno = rc;
		return CORE_ESYS;
	}
	if (getsockname(httpd_lsn.fd, (struct sockaddr *)&ss, &sslen) == 0)
		httpd_addr_text((struct sockaddr *)&ss, where, sizeof(where));
	log_info("metrics on http://%s/metrics", where);
	return 0;
}

int httpd_start(struct lws_context *cx, const char *listen,
		const struct httpd_hooks *hooks)
{
	static struct lws_protocols protos[3];
	struct lws_context_creation_info vi;
	lws_sock_file_fd_type desc;
	const char *why;
	char host[256];
	int port, rc;

	port = hostport_parse(listen, strlen(listen), 0, host, sizeof(host),
			      &why);
	if (port < 0) {
		log_err("listen on '%s': not host:port: %s", listen, why);
		return port;
	}
	rc = httpd_listen_on(listen, host, port);
	if (rc != 0)
		return rc;
	memset(protos, 0, sizeof(protos));
	/* The first protocol is the one adopted HTTP connections get. */
	protos[0].name = "http";
	protos[0].callback = httpd_cb;
	protos[0].per_session_data_size = sizeof(struct httpd_sess);
	protos[0].user = (void *)(uintptr_t)hooks;
	protos[1].name = "booktape-metrics-listener";
	protos[1].callback = httpd_listen_cb;
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "metrics";
	/* Serve adopted sockets only: lws must never bind anything. */
	vi.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	vi.protocols = protos;
	vi.keepalive_timeout = 5;
	vi.timeout_secs = 10;
	httpd_lsn.vh = lws_create_vhost(cx, &vi);
	if (httpd_lsn.vh == NULL) {
		log_err("listen on '%s': cannot create the lws vhost", listen);
		goto fail;
	}
	httpd_lsn.cx = cx;
	desc.filefd = httpd_lsn.fd;
	httpd_lsn.wsi = lws_adopt_descriptor_vhost(httpd_lsn.vh,
						   LWS_ADOPT_RAW_FILE_DESC,
						   desc, protos[1].name, NULL);
	if (httpd_lsn.wsi == NULL) {
		log_err("listen on '%s': lws refused the listening socket",
			listen);
		goto fail;
	}
	return 0;
fail:
	close(httpd_lsn.fd);
	httpd_lsn.fd = -1;
	return CORE_EIO;
}
