/*
 * Name resolution off the event loop. Debian's lws 4.1 has no async DNS:
 * given a host name it calls getaddrinfo() on the loop thread, so a slow
 * resolver would stop reading, /metrics and the watchdog. Connections
 * therefore ask here for a numeric address (which lws resolves at once)
 * and keep the name for SNI, the Host header and certificate checks.
 *
 * One resolver thread does the lookups; answers are cached for
 * RESOLVE_TTL_US (getaddrinfo gives no TTL). An expired answer is still
 * served, for at most RESOLVE_STALE_US, while a refresh runs behind it,
 * so a reconnect never waits on a slow resolver when an address is known.
 * Completions run on the loop thread, from resolve_dispatch().
 *
 * Loop thread only, except where said.
 */
#ifndef RECORDER_RESOLVE_H
#define RECORDER_RESOLVE_H

#include <stddef.h>

#include <libwebsockets.h>

#define RESOLVE_ADDR_MAX 64 /* a numeric IPv4 or IPv6 address */
#define RESOLVE_TTL_US	 (60 * 1000000LL)
#define RESOLVE_STALE_US (600 * 1000000LL)

/*
 * Start the resolver thread; `cx` is woken (lws_cancel_service) when an
 * answer is ready, so call resolve_dispatch() after each lws_service().
 * 0 or CORE_ESYS. Before this (or after resolve_shutdown) lookups are
 * not done here: resolve_cached() hands the name back unchanged.
 */
int resolve_init(struct lws_context *cx);

/*
 * Put a numeric address for `host` in addr (size len): at once for a
 * numeric host, a cached answer, or when the resolver is not running
 * (then the name itself). 0 on success; CORE_EAGAIN when nothing is
 * known yet (start resolve_async); CORE_ETOOBIG when it does not fit.
 */
int resolve_cached(const char *host, char *addr, size_t len);

/*
 * Called once on the loop thread when a lookup of the host ended:
 * error is NULL on success (resolve_cached() then answers), else why.
 */
typedef void (*resolve_fn)(void *ud, const char *error);

/*
 * Look `host` up on the resolver thread; `done` runs later from
 * resolve_dispatch(), never from inside this call. 0, CORE_ENOMEM, or
 * CORE_EINVAL when the resolver is not running.
 */
int resolve_async(const char *host, resolve_fn done, void *ud);

/* Forget every pending completion for `ud` (its owner is going away). */
void resolve_cancel(void *ud);

/* Run the completions of finished lookups. Cheap when there are none. */
void resolve_dispatch(void);

/*
 * Stop: pending completions are dropped without a call, and the thread
 * is told to end; it is not joined, since it may sit in a slow
 * getaddrinfo() and shutdown must not wait for it. Call before
 * lws_context_destroy.
 */
void resolve_shutdown(void);

#endif
