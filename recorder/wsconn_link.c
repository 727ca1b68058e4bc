/*
 * The live link of a wsconn (wsconn_int.h): TLS with OpenSSL on the
 * socket wsconn.c connected, the RFC 6455 upgrade, frames in and out
 * (wsframe.c), pings and the idle hang-up. lws 4.1's own client parses
 * every received byte through a byte-at-a-time state machine: a quarter
 * of the recorder's CPU under a flood. Here a read takes a TLS record of
 * plaintext and frames are walked by their headers; a whole frame is
 * handed over where it lies.
 *
 * TLS is verified as lws did it: the peer's chain against ca_file (or
 * the system's store), and its name (or address) against the URL's
 * host, which is also the SNI.
 */
#include "wsconn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core.h"
#include "log.h"
#include "timeutil.h"
#include "wsconn_int.h"
#include "banned.h"

#define PING_IDLE_US   (15 * US_PER_SEC) /* ping after this quiet */
#define HANGUP_IDLE_US (40 * US_PER_SEC) /* and drop after this */
#define LIVE_CHECK_US  (5 * US_PER_SEC)
#define ROUND_BYTES \
	(16u << 10) /* a TLS record a wake-up, then let others run */
#define HEAD_MAX 8192

static SSL_CTX *tls_ctx;

int wsconn_tls_init(const char *ca_file)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return CORE_EIO;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if ((ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
			     : SSL_CTX_set_default_verify_paths(ctx)) != 1) {
		log_err("TLS: cannot load CA certificates from '%s'",
			ca_file ? ca_file : "the system store");
		SSL_CTX_free(ctx);
		return CORE_EIO;
	}
	SSL_CTX_free(tls_ctx);
	tls_ctx = ctx;
	return 0;
}

void wsconn_tls_done(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
}

/* Close the link from anywhere: at once from our callback (it returns
 * -1 when c->dropping), else at the top of the next service round. */
void wsconn__close_link(struct wsconn *c, const char *why)
{
	if (c->wsi == NULL || c->dropping)
		return;
	if (why != c->why)
		snprintf(c->why, sizeof(c->why), "%s", why);
	c->dropping = 1;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
}

/* ---------------------------------------------------------------- writes */

/* Queue a frame on the link's write buffer. */
int wsconn__out_frame(struct wsconn *c, int opcode, const void *p, size_t len)
{
	unsigned char mask[4];
	int rc;

	rc = buf_reserve(&c->out, WSF_HDR_MAX + len);
	if (rc != 0)
		return rc;
	if (RAND_bytes(mask, sizeof(mask)) != 1)
		return CORE_EIO;
	buf_commit(&c->out, wsf_build((unsigned char *)buf_tail(&c->out),
				      opcode, p, len, mask));
	return 0;
}

/* The link's I/O, TLS or plain: >0 bytes moved, 0 "not now" (POLLOUT
 * asked for when that is what it waits for), -1 gone (c->why set). */
static long io_write(struct wsconn *c, const void *p, size_t n)
{
	int k = n > INT32_MAX ? INT32_MAX : (int)n;
	ssize_t w;

	if (c->ssl == NULL) {
		w = send(lws_get_socket_fd(c->wsi), p, n, MSG_NOSIGNAL);
		if (w >= 0)
			return (long)w;
		if (errno == EAGAIN || errno == EINTR) {
			lws_callback_on_writable(c->wsi);
			return 0;
		}
	} else {
		k = SSL_write(c->ssl, p, k);
		if (k > 0)
			return k;
		switch (SSL_get_error(c->ssl, k)) {
		case SSL_ERROR_WANT_WRITE:
			lws_callback_on_writable(c->wsi);
			return 0;
		case SSL_ERROR_WANT_READ:
			return 0;
		default:
			ERR_clear_error();
			break;
		}
	}
	snprintf(c->why, sizeof(c->why), "write failed");
	return -1;
}

static long io_read(struct wsconn *c, void *p, size_t n)
{
	int k = n > INT32_MAX ? INT32_MAX : (int)n, err;
	ssize_t r;

	if (c->ssl == NULL) {
		r = recv(lws_get_socket_fd(c->wsi), p, n, 0);
		if (r > 0)
			return (long)r;
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		snprintf(c->why, sizeof(c->why), "%s",
			 r == 0 ? "closed by peer" : "read failed");
		return -1;
	}
	k = SSL_read(c->ssl, p, k);
	if (k > 0)
		return k;
	err = SSL_get_error(c->ssl, k);
	if (err == SSL_ERROR_WANT_READ)
		return 0;
	if (err == SSL_ERROR_WANT_WRITE) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	ERR_clear_error();
	snprintf(c->why, sizeof(c->why), "%s",
		 err == SSL_ERROR_ZERO_RETURN || k == 0 ? "closed by peer"
							: "read failed");
	return -1;
}

/* Write what is buffered; 0, or -1 when the link failed. */
int wsconn__flush_out(struct wsconn *c)
{
	size_t done = 0, len = buf_len(&c->out);
	int rc = 0;

	while (done < len) {
		long n = io_write(c, buf_ptr(&c->out) + done, len - done);

		if (n < 0)
			rc = -1;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	buf_consume(&c->out, done);
	return rc;
}

/* Move the queued text frames to the link once it is up. */
static int send_queue(struct wsconn *c)
{
	while (c->qhead != NULL) {
		struct outmsg *m = c->qhead;

		if (wsconn__out_frame(c, WSF_TEXT, m->text, m->len) != 0)
			return -1;
		c->qhead = m->next;
		c->qcount--;
		free(m);
	}
	c->qtail = NULL;
	return wsconn__flush_out(c);
}

/* ---------------------------------------------------------------- reads */

static void deliver(struct wsconn *c, const void *msg, size_t len, int op,
		    int64_t recv_us)
{
	c->hooks->message(c->hooks->ud, msg, len, op == WSF_BINARY, recv_us);
}

/* One whole frame; -1 (c->why set) when the link must go. */
static int on_frame(struct wsconn *c, const struct wsf_frame *f,
		    const unsigned char *p, int64_t recv_us)
{
	size_t len = (size_t)f->len;

	switch (f->opcode) {
	case WSF_PING:
		return wsconn__out_frame(c, WSF_PONG, p, len) == 0 ? 0 : -1;
	case WSF_PONG:
		c->ping_out = 0;
		return 0;
	case WSF_CLOSE:
		/* Answer with the same status, then go. */
		(void)wsconn__out_frame(c, WSF_CLOSE, p, len < 2 ? len : 2);
		(void)wsconn__flush_out(c);
		snprintf(c->why, sizeof(c->why), "closed by peer");
		return -1;
	case WSF_CONT:
		if (c->rxop == 0)
			break;
		if (buf_add(&c->rx, p, len) != 0) {
			snprintf(c->why, sizeof(c->why), "oversized message");
			return -1;
		}
		if (f->fin) {
			deliver(c, buf_ptr(&c->rx), buf_len(&c->rx), c->rxop,
				recv_us);
			c->rxop = 0;
			buf_reset(&c->rx);
		}
		return 0;
	default: /* text or binary */
		if (c->rxop != 0)
			break;
		if (f->fin) { /* the usual case: handed over in place */
			deliver(c, p, len, f->opcode, recv_us);
			return 0;
		}
		c->rxop = f->opcode;
		buf_reset(&c->rx);
		if (buf_add(&c->rx, p, len) != 0) {
			snprintf(c->why, sizeof(c->why), "oversized message");
			return -1;
		}
		return 0;
	}
	snprintf(c->why, sizeof(c->why), "bad fragment sequence");
	return -1;
}

/* Every whole frame in c->in; -1 when the link must go. */
static int parse_frames(struct wsconn *c, int64_t recv_us)
{
	const unsigned char *in = (const unsigned char *)buf_ptr(&c->in);
	size_t off = 0, len = buf_len(&c->in);
	int rc = 0;

	while (!c->dropping && c->wsi != NULL) {
		struct wsf_frame f;
		const char *why = NULL;
		int k = wsf_parse(in + off, len - off, &f, &why);

		if (k < 0) {
			snprintf(c->why, sizeof(c->why), "protocol error: %s",
				 why);
			rc = -1;
			break;
		}
		if (k == 0)
			break;
		if (f.len > WSCONN_MAX_MESSAGE) {
			snprintf(c->why, sizeof(c->why), "oversized message");
			rc = -1;
			break;
		}
		if (len - off - f.hdrlen < f.len) {
			/* Make sure the rest of this frame will fit once the
			 * frames before it are gone. */
			buf_consume(&c->in, off);
			off = 0;
			if (buf_reserve(&c->in, f.hdrlen + (size_t)f.len -
							buf_len(&c->in)) == 0)
				break;
			snprintf(c->why, sizeof(c->why), "out of memory");
			rc = -1;
			break;
		}
		if (on_frame(c, &f, in + off + f.hdrlen, recv_us) != 0) {
			rc = -1;
			break;
		}
		off += f.hdrlen + (size_t)f.len;
	}
	buf_consume(&c->in, off);
	return rc;
}

/* Read into c->in: >0 bytes, 0 for "no more now", -1 link gone. */
static long read_some(struct wsconn *c)
{
	long n;

	if (buf_reserve(&c->in, WSCONN_READ_ROOM) != 0) {
		snprintf(c->why, sizeof(c->why), "out of memory");
		return -1;
	}
	n = io_read(c, buf_tail(&c->in), WSCONN_READ_ROOM);
	if (n > 0)
		buf_commit(&c->in, (size_t)n);
	return n;
}

/* Read and hand over messages, up to ROUND_BYTES a call. */
static int on_readable(struct wsconn *c)
{
	size_t got = 0;

	while (!c->paused && !c->want_pause && !c->dropping &&
	       got < ROUND_BYTES) {
		long n = read_some(c);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		c->last_rx = time_mono_us();
		if (parse_frames(c, time_now_us()) != 0)
			return -1;
	}
	if (buf_len(&c->out) > 0 && wsconn__flush_out(c) != 0)
		return -1;
	/* Decrypted or buffered TLS bytes raise no POLLIN: come back. */
	if (!c->dropping && !c->want_pause &&
	    (got >= ROUND_BYTES || (c->ssl && SSL_has_pending(c->ssl))))
		lws_sul_schedule(c->cx, 0, &c->sul_more, wsconn__read_more, 1);
	return 0;
}

void wsconn__read_more(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, sul_more);

	if (c->up && c->wsi != NULL && !c->dropping && on_readable(c) != 0)
		wsconn__close_link(c, c->why);
}

/* ---------------------------------------------------------------- setup */

static void live_check(lws_sorted_usec_list_t *sul)
{
	struct wsconn *c = lws_container_of(sul, struct wsconn, sul_live);
	int64_t idle = time_mono_us() - c->last_rx;

	if (!c->up || c->wsi == NULL || c->dropping)
		return;
	if (idle >= HANGUP_IDLE_US) {
		wsconn__close_link(c, "no data or pong for 40 s");
		return;
	}
	if (idle >= PING_IDLE_US && !c->ping_out) {
		c->ping_out = 1;
		if (wsconn__out_frame(c, WSF_PING, NULL, 0) != 0 ||
		    wsconn__flush_out(c) != 0) {
			wsconn__close_link(c, "ping failed");
			return;
		}
	}
	lws_sul_schedule(c->cx, 0, &c->sul_live, live_check, LIVE_CHECK_US);
}

static int go_up(struct wsconn *c, size_t head)
{
	log_notice("connected '%s'", c->url);
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	buf_consume(&c->in, head);
	c->st = ST_UP;
	c->up = 1;
	c->up_since = c->last_rx = time_mono_us();
	snprintf(c->why, sizeof(c->why), "connection lost");
	c->ping_out = 0;
	c->want_pause = c->paused = 0;
	lws_sul_schedule(c->cx, 0, &c->sul_live, live_check, LIVE_CHECK_US);
	c->hooks->established(c->hooks->ud);
	if (c->dropping || send_queue(c) != 0)
		return -1;
	/* Frames that came with the answer. */
	if (buf_len(&c->in) > 0 && parse_frames(c, time_now_us()) != 0)
		return -1;
	return on_readable(c);
}

static int send_request(struct wsconn *c)
{
	unsigned char rnd[16];
	char key[WSF_KEY_LEN + 1], req[1024];
	size_t n;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1 ||
	    wsf_key(rnd, key, c->accept) != 0) {
		snprintf(c->why, sizeof(c->why), "no random key");
		return -1;
	}
	n = wsf_request(req, sizeof(req), c->addr, c->port, c->tls, c->pathbuf,
			key);
	if (n == 0 || buf_add(&c->out, req, n) != 0) {
		snprintf(c->why, sizeof(c->why), "request too long");
		return -1;
	}
	c->st = ST_HEAD;
	return wsconn__flush_out(c);
}

/* The server's answer to the upgrade. */
static int on_head(struct wsconn *c)
{
	long n, head;

	for (;;) {
		n = read_some(c);
		if (n < 0)
			return -1;
		head = wsf_check_response(buf_str(&c->in), buf_len(&c->in),
					  HEAD_MAX, c->accept, c->why,
					  sizeof(c->why));
		if (head < 0)
			return -1;
		if (head > 0)
			return go_up(c, (size_t)head);
		if (n == 0)
			return 0;
	}
}

static int tls_step(struct wsconn *c)
{
	int n = SSL_connect(c->ssl), err;
	long vr;

	if (n == 1)
		return send_request(c);
	err = SSL_get_error(c->ssl, n);
	if (err == SSL_ERROR_WANT_READ)
		return 0;
	if (err == SSL_ERROR_WANT_WRITE) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	vr = SSL_get_verify_result(c->ssl);
	if (vr != X509_V_OK)
		snprintf(c->why, sizeof(c->why), "TLS: certificate: %s",
			 X509_verify_cert_error_string(vr));
	else
		snprintf(
			c->why, sizeof(c->why), "TLS handshake failed: %s",
			ERR_reason_error_string(ERR_peek_last_error())
				? ERR_reason_error_string(ERR_peek_last_error())
				: "closed");
	ERR_clear_error();
	return -1;
}

static int tls_start(struct wsconn *c, int fd)
{
	struct in6_addr a6;
	struct in_addr a4;
	int is_ip = inet_pton(AF_INET, c->addr, &a4) == 1 ||
		    inet_pton(AF_INET6, c->addr, &a6) == 1;

	if (tls_ctx == NULL && wsconn_tls_init(NULL) != 0)
		return -1;
	c->ssl = SSL_new(tls_ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1 ||
	    (!is_ip && SSL_set_tlsext_host_name(c->ssl, c->addr) != 1) ||
	    (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
						   c->addr) != 1
		   : SSL_set1_host(c->ssl, c->addr) != 1)) {
		snprintf(c->why, sizeof(c->why), "TLS setup failed");
		return -1;
	}
	c->st = ST_TLS;
	return tls_step(c);
}

/* The socket is readable (rd) or writable: move the link on. */
int wsconn__step(struct wsconn *c, int rd)
{
	int fd = lws_get_socket_fd(c->wsi), err = 0;
	socklen_t el = sizeof(err);

	switch (c->st) {
	case ST_TCP:
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err != 0) {
			snprintf(c->why, sizeof(c->why), "connect: %s",
				 strerror(err));
			return -1;
		}
		return c->tls ? tls_start(c, fd) : send_request(c);
	case ST_TLS:
		return tls_step(c);
	case ST_HEAD:
		if (buf_len(&c->out) > 0 && wsconn__flush_out(c) != 0)
			return -1;
		return on_head(c);
	case ST_UP:
		if (buf_len(&c->out) > 0 && wsconn__flush_out(c) != 0)
			return -1;
		return rd ? on_readable(c) : 0;
	case ST_IDLE:
		break;
	}
	return 0;
}
