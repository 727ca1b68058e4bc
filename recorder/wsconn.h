/*
 * One exchange WebSocket connection, run by the lws event loop: connect
 * (TLS verified unless the URL is ws://), reassemble fragmented messages
 * into whole frames, queue outgoing text frames, keep the link alive
 * with protocol pings, and reconnect with capped exponential backoff and
 * jitter. The host is resolved off the loop (resolve.h) and connected to
 * by number, the name kept for the Host header, SNI and certificate. The
 * exchange logic plugs in through hooks and never sees the transport.
 */
#ifndef RECORDER_WSCONN_H
#define RECORDER_WSCONN_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define WSCONN_MAX_MESSAGE (16u << 20) /* larger frames drop the link */

struct wsconn_hooks {
	/* The handshake completed; queue subscriptions here. */
	void (*established)(void *ud);
	/* One whole message, text or binary (MEXC's protobuf pushes);
	 * `msg` is valid only during the call and is not NUL-terminated. */
	void (*message)(void *ud, const char *msg, size_t len, int binary,
			int64_t recv_us);
	/* The link is gone (error, close, watchdog); a retry is scheduled. */
	void (*closed)(void *ud, const char *reason);
	void *ud;
};

struct wsconn;

/*
 * The TLS settings of every connection: peers are verified against the
 * certificates in ca_file, or the system's store when it is NULL. Call
 * once before connections start (a connection started without it uses
 * the system's store). 0, or CORE_EIO (logged) when they cannot load.
 */
int wsconn_tls_init(const char *ca_file);

/* Free what wsconn_tls_init() made, after every connection is freed. */
void wsconn_tls_done(void);

/*
 * A connection to `url` (ws:// or wss://), not yet started. `vhost` is
 * the client vhost and must have the protocol "booktape-ws" (see
 * wsconn_protocol()). The url and hooks are copied/borrowed: hooks must
 * outlive the connection. NULL on allocation failure or a bad URL.
 */
struct wsconn *wsconn_new(struct lws_context *cx, struct lws_vhost *vhost,
			  const char *url, const struct wsconn_hooks *hooks);

/* Begin connecting now; later drops reconnect by themselves. */
void wsconn_start(struct wsconn *c);

/*
 * Queue a text frame (copied). Frames queued while disconnected are
 * discarded at the next (re)connect, since subscriptions are redone by
 * the established hook. Returns 0, CORE_ENOMEM or CORE_ENOSPACE.
 */
int wsconn_send(struct wsconn *c, const char *text, size_t len);

/*
 * Drop the link now (watchdog, protocol error) and reconnect after the
 * backoff; `reason` is logged and passed to the closed hook.
 */
void wsconn_drop(struct wsconn *c, const char *reason);

/*
 * Stop (pause = 1) or resume (0) reading from the socket; TCP holds what
 * the exchange sends meanwhile. Takes effect at the next service round
 * (safe to call from the message hook): messages already read are still
 * delivered. A reconnect always starts reading.
 */
void wsconn_pause(struct wsconn *c, int pause);

/* 1 while the WebSocket is established. */
int wsconn_is_up(const struct wsconn *c);

/* Stop reconnecting; the link is closed by context destruction. */
void wsconn_stop(struct wsconn *c);

/*
 * Close the link for good (a connection replaced by a rollover): stop
 * reconnecting and drop the link. The closed hook runs when a link was
 * there and is gone, never from inside this call.
 */
void wsconn_close(struct wsconn *c, const char *reason);

/*
 * 1 once a wsconn_close()d or wsconn_stop()ped connection has no link
 * and nothing pending: from the next service round on it may be freed
 * before lws_context_destroy.
 */
int wsconn_is_done(const struct wsconn *c);

/* Free after lws_context_destroy (closes are asynchronous), or once
 * wsconn_is_done() says so. NULL-safe. */
void wsconn_free(struct wsconn *c);

/* The lws protocol entry for the client vhost. */
const struct lws_protocols *wsconn_protocol(void);

/* Backoff in ms before attempt `n` (0-based): capped, with ±25% jitter. */
unsigned wsconn_backoff_ms(unsigned n, uint32_t rnd);

#endif
