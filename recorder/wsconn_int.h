/*
 * Recorder-internal: the connection object wsconn.c and wsconn_link.c
 * share. wsconn.c owns the lifecycle (connect, resolve, retry, the lws
 * callbacks, the public API); wsconn_link.c the live link (TLS, the
 * upgrade, frames in and out, keepalive).
 */
#ifndef RECORDER_WSCONN_INT_H
#define RECORDER_WSCONN_INT_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "buf.h"
#include "wsconn.h"
#include "wsframe.h"

/* Free space offered to each read, and the most the read and write
 * buffers hold: one whole largest frame and a read beyond it. */
#define WSCONN_READ_ROOM (64u << 10)
#define WSCONN_IO_MAX	 (WSCONN_MAX_MESSAGE + WSF_HDR_MAX + WSCONN_READ_ROOM)

enum wst {
	ST_IDLE,
	ST_TCP,	 /* connect(2) in progress */
	ST_TLS,	 /* TLS handshake */
	ST_HEAD, /* upgrade request sent, reading the answer */
	ST_UP,
};

struct outmsg {
	struct outmsg *next;
	size_t len;
	char text[];
};

struct wsconn {
	struct lws_context *cx;
	struct lws_vhost *vhost;
	const struct wsconn_hooks *hooks;
	char *url;    /* as given */
	char *urlbuf; /* cut up by lws_parse_uri */
	const char *prot, *addr, *path;
	char *pathbuf; /* "/" + path */
	int port, tls;
	struct lws *wsi; /* the adopted descriptor, while there is a link */
	SSL *ssl;
	enum wst st;
	lws_sorted_usec_list_t sul_retry;
	lws_sorted_usec_list_t sul_more; /* read on without a POLLIN */
	lws_sorted_usec_list_t sul_live; /* pings and the idle hang-up */
	unsigned attempt;
	int up, stopping, dropping;
	int want_pause, paused;
	int64_t up_since, last_rx;
	int ping_out;
	char accept[WSF_ACCEPT_LEN + 1];
	struct buf in;	/* read, not yet parsed; up to WSCONN_IO_MAX */
	struct buf out; /* to write; up to WSCONN_IO_MAX */
	struct buf rx;	/* a fragmented message, up to WSCONN_MAX_MESSAGE */
	int rxop;	/* its opcode, 0 when none is open */
	struct outmsg *qhead, *qtail;
	unsigned qcount;
	char why[160]; /* why the link is being closed */
};

/* wsconn_link.c: close the link from anywhere (at once from our
 * callback, which returns -1 once c->dropping is set; else at the top of
 * the next service round), keeping `why` for the log. */
void wsconn__close_link(struct wsconn *c, const char *why);

/* wsconn_link.c: queue a frame on the link's write buffer; write what
 * is buffered (0, or -1 when the link failed, c->why set). */
int wsconn__out_frame(struct wsconn *c, int opcode, const void *p, size_t len);
int wsconn__flush_out(struct wsconn *c);

/* Empty the read, write and message buffers, keeping their storage. */
static inline void wsconn__bufs_reset(struct wsconn *c)
{
	buf_reset(&c->in);
	buf_reset(&c->out);
	buf_reset(&c->rx);
	c->rxop = 0;
}

/* wsconn_link.c: the socket is readable (rd) or writable, move the link
 * on; 0, or -1 when it must close (c->why set). */
int wsconn__step(struct wsconn *c, int rd);

/* wsconn_link.c: a sul callback that reads what TLS already holds. */
void wsconn__read_more(lws_sorted_usec_list_t *sul);

#endif
