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
 * Create the listening vhost for "host:port" in `cx` (a context made
 * with LWS_SERVER_OPTION_EXPLICIT_VHOSTS). IPv4 literals bind that
 * address only (lws 4.1 would otherwise bind every interface). `hooks`
 * is borrowed and must outlive the context. Returns 0, CORE_EINVAL for
 * a bad listen string, or CORE_ESYS when the port cannot be bound.
 */
int httpd_start(struct lws_context *cx, const char *listen,
		const struct httpd_hooks *hooks);

/*
 * Split "host:port" or "[v6]:port" into host (NUL-terminated, at most
 * hostsize bytes) and port. Returns 0 or CORE_EINVAL.
 */
int httpd_split_listen(const char *listen, char *host, size_t hostsize,
		       int *port);

#endif
