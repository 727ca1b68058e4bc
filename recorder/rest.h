/*
 * One-shot HTTP(S) GETs on the recorder's lws loop, for REST order-book
 * snapshots. The body is collected up to a hard cap and handed to a
 * completion hook with the status and any Retry-After. Hosts are
 * resolved off the loop (resolve.h); every request has its own
 * connection (rest.c says why lws 4.1 cannot reuse one here).
 */
#ifndef RECORDER_REST_H
#define RECORDER_REST_H

#include <stddef.h>

#include <libwebsockets.h>

#define REST_MAX_BODY (32u << 20)

/*
 * Called exactly once per request, on the loop thread. status is the
 * HTTP status, or 0 when the request failed before a response (then
 * `error` says why). retry_after_s is the Retry-After header in seconds
 * (-1 when absent). body is valid only during the call.
 */
typedef void (*rest_done_fn)(void *ud, int status, const char *body, size_t len,
			     int retry_after_s, const char *error);

/*
 * Start GET `url` (http:// or https://) on the client vhost, which must
 * carry rest_protocol(). Times out after timeout_s. Returns 0, or a
 * CORE_E* code when it could not even start (then `done` is not called).
 * After 0, `done` is called exactly once and never from inside this
 * call, also when the name cannot be resolved or lws refuses to connect.
 */
int rest_get(struct lws_context *cx, struct lws_vhost *vhost, const char *url,
	     unsigned timeout_s, rest_done_fn done, void *ud);

/* The lws protocol entry for the client vhost. */
const struct lws_protocols *rest_protocol(void);

/* Outstanding requests are failed ("shutdown") and freed. */
void rest_shutdown(void);

#endif
