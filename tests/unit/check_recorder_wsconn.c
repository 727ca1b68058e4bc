/*
 * Unit suite for recorder/wsconn: the reconnect backoff, and the live
 * link against a scripted WebSocket server on 127.0.0.1 (a thread in
 * this test, with its own frame writer and SHA-1 accept): frames split
 * across reads and across the upgrade answer, fragmented messages with
 * a ping between the fragments, large and many small frames, the close
 * handshake, and the frames and fragment sequences that must drop the
 * link.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core.h"
#include "log.h"
#include "wsconn.h"
#include "testutil.h"
#include "banned.h"

START_TEST(test_backoff)
{
	unsigned prev_max = 0;

	/* Attempt n waits base*2^n within ±25 %, capped at 30 s. */
	for (unsigned n = 0; n < 20; n++) {
		unsigned nominal = 500u << (n < 6 ? n : 6);
		unsigned lo, hi;

		if (nominal > 30000)
			nominal = 30000;
		lo = wsconn_backoff_ms(n, 0);
		hi = wsconn_backoff_ms(n, UINT32_MAX - 1);
		ck_assert_uint_ge(lo, nominal - nominal / 4);
		ck_assert_uint_le(hi, nominal + nominal / 4);
		ck_assert_uint_le(hi, 37500);
		for (uint32_t r = 0; r < 1000; r += 7) {
			unsigned v = wsconn_backoff_ms(n, r * 2654435761u);

			ck_assert_uint_ge(v, lo);
			ck_assert_uint_le(v, nominal + nominal / 4);
		}
		ck_assert_uint_ge(hi, prev_max / 2);
		prev_max = hi;
	}
	/* Jitter really varies. */
	ck_assert_uint_ne(wsconn_backoff_ms(3, 1), wsconn_backoff_ms(3, 999));
}
END_TEST

/* ---------------------------------------------------------------- server */

#define BIG_LEN 300000 /* a deep snapshot: a 64-bit length */
#define N_SMALL 500    /* a burst of small diffs in one write */
#define SUB_LEN 100000 /* a long subscribe the client sends */
#define GOT_MAX (1u << 20)

struct wserver {
	int fd, port;
	pthread_t th;
	void (*script)(int c);
	unsigned char *got; /* what the client sent after the upgrade */
	size_t gotlen;
};

static void put(int c, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n > 0) {
		ssize_t w = send(c, b, n, MSG_NOSIGNAL);

		if (w <= 0)
			return; /* the client went: the test says what it saw */
		b += w;
		n -= (size_t)w;
	}
}

/* An unmasked server frame into out; its length. */
static size_t frame(unsigned char *out, int fin, int op, const void *p,
		    size_t len)
{
	size_t h = 2;

	out[0] = (unsigned char)((fin ? 0x80 : 0) | op);
	if (len < 126) {
		out[1] = (unsigned char)len;
	} else if (len < 65536) {
		out[1] = 126;
		out[2] = (unsigned char)(len >> 8);
		out[3] = (unsigned char)len;
		h = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] =
				(unsigned char)((uint64_t)len >> (56 - 8 * i));
		h = 10;
	}
	if (p != NULL)
		memcpy(out + h, p, len);
	return h + len;
}

static void send_frame(int c, int fin, int op, const void *p, size_t len)
{
	unsigned char *b = malloc(len + 10);

	ck_assert_ptr_nonnull(b);
	put(c, b, frame(b, fin, op, p, len));
	free(b);
}

/* Read the upgrade request and answer it, with `extra` bytes in the
 * same write; -1 when the request has no key. */
static int upgrade(int c, const void *extra, size_t extralen)
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char req[4096], cat[128], acc[64], *k, *e;
	unsigned char sha[SHA_DIGEST_LENGTH];
	unsigned char out[512];
	size_t have = 0;
	int n;

	while (have < sizeof(req) - 1) {
		ssize_t r = read(c, req + have, sizeof(req) - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	k = strstr(req, "Sec-WebSocket-Key: ");
	if (k == NULL)
		return -1;
	k += strlen("Sec-WebSocket-Key: ");
	e = strstr(k, "\r\n");
	if (e == NULL || e - k > 40)
		return -1;
	snprintf(cat, sizeof(cat), "%.*s%s", (int)(e - k), k, guid);
	SHA1((const unsigned char *)cat, strlen(cat), sha);
	EVP_EncodeBlock((unsigned char *)acc, sha, sizeof(sha));
	n = snprintf(
		(char *)out, sizeof(out),
		"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		"Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
		acc);
	ck_assert_uint_le((size_t)n + extralen, sizeof(out));
	memcpy(out + n, extra, extralen);
	put(c, out, (size_t)n + extralen);
	return 0;
}

static void *serve(void *arg)
{
	struct wserver *s = arg;
	struct timeval tv = { .tv_sec = 10 };
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->script(c);
	/* Everything the client writes until it closes. */
	while (s->gotlen < GOT_MAX) {
		ssize_t n = read(c, s->got + s->gotlen, GOT_MAX - s->gotlen);

		if (n <= 0)
			break;
		s->gotlen += (size_t)n;
	}
	close(c);
	return NULL;
}

static void server_start(struct wserver *s, void (*script)(int))
{
	static unsigned char got[GOT_MAX];

	memset(s, 0, sizeof(*s));
	s->script = script;
	s->got = got;
	s->fd = tu_listen_loopback(&s->port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(struct wserver *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->fd);
}

/* Is a masked client frame with this opcode and payload in what the
 * server got? Every client frame must be masked and final. */
static int client_sent(const struct wserver *s, int op, const void *p,
		       size_t len)
{
	size_t off = 0;
	int found = 0;

	while (s->gotlen - off >= 6) {
		const unsigned char *f = s->got + off;
		uint64_t n = f[1] & 0x7f;
		size_t h = 2;
		unsigned char *pl;

		ck_assert_msg(f[0] & 0x80, "a client frame without FIN");
		ck_assert_msg(f[1] & 0x80, "an unmasked client frame");
		if (n == 126) {
			n = (uint64_t)f[2] << 8 | f[3];
			h = 4;
		} else if (n == 127) {
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | f[2 + i];
			h = 10;
		}
		if (s->gotlen - off < h + 4 + n)
			break;
		pl = malloc(n + 1);
		ck_assert_ptr_nonnull(pl);
		for (uint64_t i = 0; i < n; i++)
			pl[i] = f[h + 4 + i] ^ f[h + i % 4];
		if ((f[0] & 0x0f) == op && n == len && memcmp(pl, p, len) == 0)
			found = 1;
		free(pl);
		off += h + 4 + n;
	}
	return found;
}

/* ---------------------------------------------------------------- client */

#define MSG_MAX 1024

struct msg {
	size_t len;
	int binary;
	char head[32]; /* the first bytes, NUL-terminated */
	uint32_t sum;  /* FNV-1a of all of it */
};

static struct client {
	struct wsconn *c;
	int established, closed;
	char reason[64];
	int nmsg;
	struct msg msgs[MSG_MAX];
	char *sub; /* sent from the established hook, when set */
} cl;

static uint32_t fnv(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 16777619u;
	return h;
}

static void on_established(void *ud)
{
	(void)ud;
	cl.established++;
	if (cl.sub != NULL)
		ck_assert_int_eq(wsconn_send(cl.c, cl.sub, strlen(cl.sub)), 0);
}

static void on_message(void *ud, const char *p, size_t len, int binary,
		       int64_t recv_us)
{
	struct msg *m;

	(void)ud;
	ck_assert_int_gt(recv_us, 0);
	ck_assert_int_lt(cl.nmsg, MSG_MAX);
	m = &cl.msgs[cl.nmsg++];
	m->len = len;
	m->binary = binary;
	snprintf(m->head, sizeof(m->head), "%.*s",
		 (int)(len < sizeof(m->head) - 1 ? len : sizeof(m->head) - 1),
		 p);
	m->sum = fnv(p, len);
}

static void on_closed(void *ud, const char *reason)
{
	(void)ud;
	cl.closed++;
	snprintf(cl.reason, sizeof(cl.reason), "%s", reason);
	wsconn_stop(cl.c); /* one link a test */
}

static const struct wsconn_hooks hooks = { on_established, on_message,
					   on_closed, NULL };

/* Connect to the server, run the loop until the link is gone (10 s at
 * most) and free everything; the log lines written meanwhile go to
 * `log` (size n) instead of stderr. */
static void run_client(const struct wserver *s, char *log, size_t n)
{
	static struct lws_protocols protos[2];
	struct lws_context_creation_info info, vi;
	struct lws_context *cx;
	struct lws_vhost *vh;
	char url[64];
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t got;

	ck_assert_ptr_nonnull(tmp);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), STDERR_FILENO), 0);
	log_set_level(LOG_LVL_INFO);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	cx = lws_create_context(&info);
	ck_assert_ptr_nonnull(cx);
	memset(protos, 0, sizeof(protos));
	protos[0] = *wsconn_protocol();
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "client";
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = protos;
	vh = lws_create_vhost(cx, &vi);
	ck_assert_ptr_nonnull(vh);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%d/ws", s->port);
	cl.c = wsconn_new(cx, vh, url, &hooks);
	ck_assert_ptr_nonnull(cl.c);
	wsconn_start(cl.c);
	for (int i = 0; i < 1000 * tu_timeout_mult() && !cl.closed; i++)
		lws_service(cx, 10);
	for (int i = 0; i < 100 && !wsconn_is_done(cl.c); i++)
		lws_service(cx, 10);
	lws_context_destroy(cx);
	wsconn_free(cl.c);
	cl.c = NULL;
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	got = fread(log, 1, n - 1, tmp);
	log[got] = '\0';
	fclose(tmp);
}

/* ---------------------------------------------------------------- tests */

static unsigned char big[BIG_LEN];

static void fill_big(void)
{
	for (size_t i = 0; i < BIG_LEN; i++)
		big[i] = (unsigned char)(i * 7 + 3);
}

/* Frames the way an exchange's server sends them. */
static void script_market(int c)
{
	unsigned char b[16384], *w;
	size_t n = 0, hl;
	char t[16];

	/* The upgrade answer carries a whole frame and 3 bytes of the next. */
	n = frame(b, 1, 1, "hello", 5);
	hl = frame(b + n, 1, 1, "split", 5);
	if (upgrade(c, b, n + 3) != 0)
		return;
	usleep(20000);
	put(c, b + n + 3, hl - 3);
	/* A fragmented message with a ping between its fragments. */
	n = frame(b, 0, 1, "frag-", 5);
	n += frame(b + n, 1, 9, "p1", 2);
	n += frame(b + n, 0, 0, "ment", 4);
	put(c, b, n);
	usleep(20000);
	send_frame(c, 1, 0, "ed", 2);
	/* A deep snapshot in uneven pieces, some apart in time. */
	w = malloc(BIG_LEN + 10);
	ck_assert_ptr_nonnull(w);
	n = frame(w, 1, 2, big, BIG_LEN);
	for (size_t off = 0, k = 1; off < n; k++) {
		size_t piece = 1 + (k * 7919) % 9000;

		if (piece > n - off)
			piece = n - off;
		put(c, w + off, piece);
		off += piece;
		if (k % 8 == 0)
			usleep(1000);
	}
	free(w);
	/* A 16-bit length, then a burst of small frames in one write. */
	memset(b, 'x', 200);
	send_frame(c, 1, 1, b, 200);
	n = 0;
	for (int i = 0; i < N_SMALL; i++) {
		int k = snprintf(t, sizeof(t), "m%d", i);

		n += frame(b + n, 1, 1, t, (size_t)k);
	}
	put(c, b, n);
	/* The close handshake: status 1000 and a reason. */
	send_frame(c, 1, 8,
		   "\x03\xe8"
		   "bye",
		   5);
}

START_TEST(test_link_as_the_market_sends)
{
	static char log[1 << 16];
	struct wserver s;
	char xs[200];
	int k;

	fill_big();
	memset(&cl, 0, sizeof(cl));
	cl.sub = malloc(SUB_LEN + 1);
	ck_assert_ptr_nonnull(cl.sub);
	memset(cl.sub, 's', SUB_LEN);
	cl.sub[SUB_LEN] = '\0';
	server_start(&s, script_market);
	run_client(&s, log, sizeof(log));
	server_stop(&s);

	ck_assert_int_eq(cl.established, 1);
	ck_assert_int_eq(cl.closed, 1);
	ck_assert_str_eq(cl.reason, "closed by peer");
	ck_assert_ptr_nonnull(strstr(log, "disconnected 'ws://127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(log, "/ws': closed by peer"));
	ck_assert_int_eq(cl.nmsg, 5 + N_SMALL);
	ck_assert_str_eq(cl.msgs[0].head, "hello");
	ck_assert_str_eq(cl.msgs[1].head, "split");
	ck_assert_str_eq(cl.msgs[2].head, "frag-mented");
	ck_assert_uint_eq(cl.msgs[2].len, 11);
	ck_assert_int_eq(cl.msgs[2].binary, 0);
	ck_assert_uint_eq(cl.msgs[3].len, BIG_LEN);
	ck_assert_int_eq(cl.msgs[3].binary, 1);
	ck_assert_uint_eq(cl.msgs[3].sum, fnv(big, BIG_LEN));
	ck_assert_uint_eq(cl.msgs[4].len, 200);
	memset(xs, 'x', sizeof(xs));
	ck_assert_uint_eq(cl.msgs[4].sum, fnv(xs, sizeof(xs)));
	for (k = 0; k < N_SMALL; k++) {
		char t[16];

		snprintf(t, sizeof(t), "m%d", k);
		ck_assert_str_eq(cl.msgs[5 + k].head, t);
	}
	/* The client answered the ping, sent its long subscribe, and
	 * echoed the close status. */
	ck_assert(client_sent(&s, 0xA, "p1", 2));
	ck_assert(client_sent(&s, 0x1, cl.sub, SUB_LEN));
	ck_assert(client_sent(&s, 0x8, "\x03\xe8", 2));
	free(cl.sub);
}
END_TEST

static void script_oversized_frame(int c)
{
	unsigned char b[16];
	size_t n = frame(b, 1, 1, NULL, (size_t)WSCONN_MAX_MESSAGE + 1);

	if (upgrade(c, "", 0) != 0)
		return;
	send_frame(c, 1, 1, "before", 6);
	put(c, b, n - (WSCONN_MAX_MESSAGE + 1)); /* the header alone */
	put(c, "xxxx", 4);
}

static void script_oversized_message(int c)
{
	size_t half = WSCONN_MAX_MESSAGE / 2;
	unsigned char *p = calloc(1, half);

	ck_assert_ptr_nonnull(p);
	if (upgrade(c, "", 0) == 0) {
		send_frame(c, 0, 1, p, half);
		send_frame(c, 0, 0, p, half);
		send_frame(c, 1, 0, "!", 1); /* one byte too many */
	}
	free(p);
}

static void script_stray_continuation(int c)
{
	if (upgrade(c, "", 0) != 0)
		return;
	send_frame(c, 1, 1, "before", 6);
	send_frame(c, 1, 0, "stray", 5);
}

static void script_text_inside_fragments(int c)
{
	if (upgrade(c, "", 0) != 0)
		return;
	send_frame(c, 0, 1, "open", 4);
	send_frame(c, 1, 1, "another", 7);
}

static void script_masked_frame(int c)
{
	unsigned char b[] = { 0x81, 0x82, 1, 2, 3, 4, 'a' ^ 1, 'b' ^ 2 };

	if (upgrade(c, "", 0) != 0)
		return;
	put(c, b, sizeof(b));
}

static const struct {
	void (*script)(int);
	int before; /* messages handed over before the drop */
	const char *why;
} bad[] = {
	{ script_oversized_frame, 1, "oversized message" },
	{ script_oversized_message, 0, "oversized message" },
	{ script_stray_continuation, 1, "bad fragment sequence" },
	{ script_text_inside_fragments, 0, "bad fragment sequence" },
	{ script_masked_frame, 0, "protocol error: " },
};

START_TEST(test_bad_frames_drop_the_link)
{
	static char log[1 << 16];
	struct wserver s;
	char want[128];

	memset(&cl, 0, sizeof(cl));
	server_start(&s, bad[_i].script);
	run_client(&s, log, sizeof(log));
	server_stop(&s);
	ck_assert_int_eq(cl.established, 1);
	ck_assert_int_eq(cl.closed, 1);
	ck_assert_int_eq(cl.nmsg, bad[_i].before);
	if (cl.nmsg > 0)
		ck_assert_str_eq(cl.msgs[0].head, "before");
	snprintf(want, sizeof(want), "/ws': %s", bad[_i].why);
	ck_assert_msg(strstr(log, want) != NULL, "no '%s' in the log", want);
}
END_TEST

static Suite *recorder_wsconn_suite(void)
{
	Suite *s = suite_create("recorder_wsconn");
	TCase *tc = tcase_create("recorder_wsconn");

	tcase_set_timeout(tc, 60 * tu_timeout_mult());
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_link_as_the_market_sends);
	tcase_add_loop_test(tc, test_bad_frames_drop_the_link, 0,
			    (int)(sizeof(bad) / sizeof(bad[0])));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_wsconn_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
