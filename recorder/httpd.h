/*
 * The recorder's HTTP endpoint on metrics_listen: GET /metrics
 * (Prometheus text 0.0.4) and GET /healthz (JSON, 200 or 503), served
 * from the recorder's one lws event loop.
 */
#ifndef RECORDER_HTTPD_H
#define RECORDER_HTTPD_H

#include <stddef.h>

#include <libwebsockets.h>

/*
 * The recorder answers requests through these; each returns 0 and a
 * malloc'ed body the caller frees, or a CORE_E* code (answered 500).
 */
struct httpd_hooks {
	int (*metrics)(void *ud, char **body, size_t *len);
	int (*health)(void *ud, char **body, size_t *len, int *status);
	void *ud;
};

/*
 * Listen on exactly "host:port" and serve it from a vhost in `cx` (a
 * context made with LWS_SERVER_OPTION_EXPLICIT_VHOSTS). host is an
 * address literal (`[::]` is every address of both families, `0.0.0.0`
 * every IPv4 one) or a name resolved once, to its first address. The
 * socket is bound here, never by lws, so it is that address or nothing,
 * whatever the sandbox allows (lws 4.1 binds every interface when
 * getifaddrs() fails). Call once per process. `hooks` is borrowed and
 * must outlive the context. Logs why it failed and returns CORE_EINVAL
 * (bad string, unknown name), CORE_ESYS (errno: bind or listen failed)
 * or CORE_EIO (lws refused the vhost or the socket); 0 on success.
 */
int httpd_start(struct lws_context *cx, const char *listen,
		const struct httpd_hooks *hooks);

#endif
