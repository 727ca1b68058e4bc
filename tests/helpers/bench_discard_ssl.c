/*
 * bench_discard_ssl: the transport baseline of tests/bench/recorder.bench.sh,
 * the fastest honest client we can write: plain OpenSSL on a blocking TCP
 * socket, TLS verified against --ca-file with the host name or IP checked,
 * a minimal RFC 6455 client (handshake with the Sec-WebSocket-Accept
 * check, masked subscribe frames), then large SSL_read()s whose frame
 * headers are walked to count frames and payload bytes. It answers
 * nothing (no pong) and stops at a close frame or EOF. --get fetches REST
 * paths on a second connection after subscribing and discards them, as a
 * client that syncs from a snapshot must. Output is bench_discard's line.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define PROG	  "bench_discard_ssl"
#define MAX_SENDS 2048
#define RX_SIZE	  (256u * 1024) /* one SSL_read() asks for this much */
#define HDR_MAX	  8192
#define WS_GUID	  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

struct opts {
	const char *send[MAX_SENDS], *get[MAX_SENDS];
	int nsend, nget;
	const char *ca;
	double timeout_s, for_s;
	int tls;
	char host[256], port[8], path[1024];
};

/* One connection: a socket, and a TLS session over it when wss. */
struct link {
	int fd;
	SSL *ssl;
};

struct counts {
	uint64_t frames, bytes;
	int64_t first_us, last_us;
};

static const char usage_text[] =
	"usage: " PROG " --url ws[s]://HOST:PORT/PATH [--ca-file F]\n"
	"       [--send JSON]... [--get PATH]... [--timeout S] [--for S]\n"
	"Prints: frames N bytes B first_us T0 last_us T1 cpu_s C rss_kb R\n";

static int parse_url(struct opts *o, const char *url)
{
	const char *h, *colon, *slash;

	if (strncmp(url, "wss://", 6) == 0) {
		o->tls = 1;
		h = url + 6;
	} else if (strncmp(url, "ws://", 5) == 0) {
		h = url + 5;
	} else {
		return -1;
	}
	slash = strchr(h, '/');
	if (slash == NULL)
		slash = h + strlen(h);
	colon = memchr(h, ':', (size_t)(slash - h));
	if (colon == NULL || colon == h ||
	    (size_t)(colon - h) >= sizeof(o->host) ||
	    (size_t)(slash - colon - 1) >= sizeof(o->port) ||
	    strlen(slash) >= sizeof(o->path) - 1)
		return -1;
	memcpy(o->host, h, (size_t)(colon - h));
	memcpy(o->port, colon + 1, (size_t)(slash - colon - 1));
	snprintf(o->path, sizeof(o->path), "%s", *slash ? slash : "/");
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "url", 1, NULL, 'u' },     { "send", 1, NULL, 's' },
		{ "ca-file", 1, NULL, 'C' }, { "timeout", 1, NULL, 't' },
		{ "get", 1, NULL, 'g' },     { "for", 1, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = NULL;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		errno = 0;
		if (c == 'u') {
			url = optarg;
		} else if (c == 's' && o->nsend < MAX_SENDS) {
			o->send[o->nsend++] = optarg;
		} else if (c == 'g' && o->nget < MAX_SENDS) {
			o->get[o->nget++] = optarg;
		} else if (c == 'C') {
			o->ca = optarg;
		} else if (c == 't' || c == 'f') {
			double *v = c == 't' ? &o->timeout_s : &o->for_s;

			*v = strtod(optarg, &end);
			if (errno || *end || *v <= 0)
				return -1;
		} else {
			return -1;
		}
	}
	if (url == NULL || optind != argc || parse_url(o, url) < 0)
		return -1;
	return 0;
}

static int tcp_connect(const struct opts *o)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int64_t us = (int64_t)(o->timeout_s * 1e6);
	struct timeval tv = { .tv_sec = (time_t)(us / 1000000),
			      .tv_usec = (suseconds_t)(us % 1000000) };
	int fd = -1, rc = getaddrinfo(o->host, o->port, &hints, &ai);

	if (rc != 0) {
		log_err("%s: %s", o->host, gai_strerror(rc));
		return -1;
	}
	for (a = ai; a != NULL && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		log_err("connect %s:%s: %s", o->host, o->port, strerror(errno));
		return -1;
	}
	/* --timeout is the longest wait for data: a read that times out
	 * fails like a broken link. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		log_warn("SO_RCVTIMEO: %s", strerror(errno));
	return fd;
}

/* Verify the chain against the CA file and the name (or IP) we dialled. */
static SSL_CTX *tls_ctx(const struct opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((o->ca != NULL &&
	     SSL_CTX_load_verify_locations(ctx, o->ca, NULL) != 1) ||
	    (o->ca == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		log_err("cannot load the CA file '%s'", o->ca ? o->ca : "");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int tls_open(SSL_CTX *ctx, const struct opts *o, struct link *l)
{
	X509_VERIFY_PARAM *vp;
	int ip;

	l->ssl = SSL_new(ctx);
	if (l->ssl == NULL || SSL_set_fd(l->ssl, l->fd) != 1)
		return -1;
	vp = SSL_get0_param(l->ssl);
	ip = X509_VERIFY_PARAM_set1_ip_asc(vp, o->host) == 1;
	if (!ip && (SSL_set1_host(l->ssl, o->host) != 1 ||
		    SSL_set_tlsext_host_name(l->ssl, o->host) != 1))
		return -1;
	if (SSL_connect(l->ssl) != 1) {
		log_err("TLS handshake with %s: %s", o->host,
			ERR_reason_error_string(ERR_peek_last_error()));
		return -1;
	}
	return 0;
}

static int link_open(SSL_CTX *ctx, const struct opts *o, struct link *l)
{
	l->ssl = NULL;
	l->fd = tcp_connect(o);
	if (l->fd < 0)
		return -1;
	return o->tls ? tls_open(ctx, o, l) : 0;
}

static void link_close(struct link *l)
{
	if (l->ssl != NULL)
		SSL_free(l->ssl);
	if (l->fd >= 0)
		close(l->fd);
	l->ssl = NULL;
	l->fd = -1;
}

/* Bytes read (> 0), 0 at EOF or a close_notify, -1 on error. */
static long link_read(struct link *l, unsigned char *buf, size_t n)
{
	long r;

	if (l->ssl == NULL) {
		do
			r = read(l->fd, buf, n);
		while (r < 0 && errno == EINTR);
		return r;
	}
	r = SSL_read(l->ssl, buf, (int)n);
	if (r > 0)
		return r;
	return SSL_get_error(l->ssl, (int)r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
}

static int link_write(struct link *l, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		long w = l->ssl != NULL ? SSL_write(l->ssl, p, (int)n)
					: write(l->fd, p, n);

		if (w <= 0) {
			if (l->ssl == NULL && errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read an HTTP head into buf (NUL-terminated); extra bytes past it stay
 * in buf after the head, their count in *extra. Returns the head length. */
static long read_head(struct link *l, char *buf, size_t cap, size_t *extra)
{
	size_t have = 0;
	char *eoh;

	while (have < cap - 1) {
		long r = link_read(l, (unsigned char *)buf + have,
				   cap - 1 - have);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		eoh = strstr(buf, "\r\n\r\n");
		if (eoh != NULL) {
			*extra = have - (size_t)(eoh + 4 - buf);
			return eoh + 4 - buf;
		}
	}
	return -1;
}

/* The value of a header (case-insensitive name) in a NUL-terminated head,
 * copied into out; -1 when absent. */
static int head_value(const char *head, const char *name, char *out,
		      size_t size)
{
	size_t n = strlen(name), v;
	const char *line = strstr(head, "\r\n");

	while (line != NULL && line[2] != '\r') {
		line += 2;
		if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
			line += n + 1;
			while (*line == ' ')
				line++;
			v = strcspn(line, "\r");
			if (v >= size)
				return -1;
			memcpy(out, line, v);
			out[v] = '\0';
			return 0;
		}
		line = strstr(line, "\r\n");
	}
	return -1;
}

static int ws_accept_ok(const char *head, const char *key)
{
	unsigned char md[SHA_DIGEST_LENGTH];
	char cat[96], want[64], got[64];

	snprintf(cat, sizeof(cat), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)cat, strlen(cat), md);
	EVP_EncodeBlock((unsigned char *)want, md, sizeof(md));
	return strncmp(head, "HTTP/1.1 101", 12) == 0 &&
	       head_value(head, "sec-websocket-accept", got, sizeof(got)) ==
		       0 &&
	       strcmp(got, want) == 0;
}

/* The opening handshake; bytes of the first frames read along with the
 * 101 answer are copied to rx (*have). */
static int ws_handshake(struct link *l, const struct opts *o, unsigned char *rx,
			size_t *have)
{
	unsigned char nonce[16];
	char key[32], req[2048], head[HDR_MAX];
	size_t extra = 0;
	long hl;
	int n;

	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -1;
	EVP_EncodeBlock((unsigned char *)key, nonce, sizeof(nonce));
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: %s:%s\r\n"
		     "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n\r\n",
		     o->path, o->host, o->port, key);
	if (n < 0 || (size_t)n >= sizeof(req) ||
	    link_write(l, req, (size_t)n) < 0)
		return -1;
	hl = read_head(l, head, sizeof(head), &extra);
	if (hl < 0 || !ws_accept_ok(head, key)) {
		log_err("no WebSocket upgrade (or a wrong accept key)");
		return -1;
	}
	memcpy(rx, head + hl, extra);
	*have = extra;
	return 0;
}

/* One masked client text frame, as RFC 6455 §5.3 requires. */
static int ws_send_text(struct link *l, const char *s)
{
	size_t n = strlen(s), hl = 2, i;
	unsigned char *f = malloc(n + 14), mask[4];
	int rc;

	if (f == NULL || RAND_bytes(mask, sizeof(mask)) != 1) {
		free(f);
		return -1;
	}
	f[0] = 0x81;
	if (n < 126) {
		f[1] = (unsigned char)(0x80 | n);
	} else if (n < 65536) {
		f[1] = 0x80 | 126;
		f[2] = (unsigned char)(n >> 8);
		f[3] = (unsigned char)n;
		hl = 4;
	} else {
		free(f);
		return -1;
	}
	memcpy(f + hl, mask, 4);
	for (i = 0; i < n; i++)
		f[hl + 4 + i] = (unsigned char)s[i] ^ mask[i & 3];
	rc = link_write(l, f, hl + 4 + n);
	free(f);
	return rc;
}

/* GET each path on one keep-alive connection and discard the bodies. */
static int rest_gets(SSL_CTX *ctx, const struct opts *o)
{
	struct link l = { -1, NULL };
	char req[2048], head[HDR_MAX], cl[32];
	unsigned char *body = malloc(RX_SIZE);
	int rc = -1;

	if (body == NULL || link_open(ctx, o, &l) < 0)
		goto out;
	for (int i = 0; i < o->nget; i++) {
		size_t extra = 0;
		unsigned long left;
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: %s:%s\r\n\r\n",
				 o->get[i], o->host, o->port);

		if (n < 0 || (size_t)n >= sizeof(req) ||
		    link_write(&l, req, (size_t)n) < 0 ||
		    read_head(&l, head, sizeof(head), &extra) < 0 ||
		    head_value(head, "content-length", cl, sizeof(cl)) < 0)
			goto out;
		left = strtoul(cl, NULL, 10);
		for (left = left > extra ? left - extra : 0; left > 0;) {
			long r = link_read(&l, body,
					   left < RX_SIZE ? left : RX_SIZE);

			if (r <= 0)
				goto out;
			left -= (unsigned long)r;
		}
	}
	rc = 0;
out:
	if (rc < 0)
		log_err("REST GET failed");
	link_close(&l);
	free(body);
	return rc;
}

/*
 * Walk the frame headers in rx[0..*have); payload bytes not yet read are
 * left in *skip. Returns 1 at a close frame, else 0; the bytes of a
 * header cut by the read's end are moved to the front of rx.
 */
static int walk(unsigned char *rx, size_t *have, uint64_t *skip,
		struct counts *k, int64_t now)
{
	size_t pos = 0, n = *have;

	while (pos < n) {
		size_t hl = 2;
		uint64_t len;
		unsigned op;

		if (*skip > 0) {
			size_t take = *skip < n - pos ? (size_t)*skip : n - pos;

			pos += take;
			*skip -= take;
			continue;
		}
		if (n - pos < 2)
			break;
		op = rx[pos] & 0x0f;
		len = rx[pos + 1] & 0x7f;
		hl += len == 126 ? 2 : len == 127 ? 8 : 0;
		hl += (rx[pos + 1] & 0x80) ? 4 : 0;
		if (n - pos < hl)
			break;
		if (len >= 126) {
			size_t ext = len == 126 ? 2 : 8;

			len = 0;
			for (size_t i = 2; i < 2 + ext; i++)
				len = len << 8 | rx[pos + i];
		}
		if (op == 0x8)
			return 1;
		if (op <= 0x2) {
			k->bytes += len;
			if (rx[pos] & 0x80) {
				k->last_us = now;
				if (k->frames++ == 0)
					k->first_us = now;
			}
		}
		pos += hl;
		*skip = len;
	}
	memmove(rx, rx + pos, n - pos);
	*have = n - pos;
	return 0;
}

/* Until a close frame, EOF, or for_s seconds (0: no limit). */
static int discard(struct link *l, unsigned char *rx, size_t have,
		   struct counts *k, double for_s)
{
	int64_t end = for_s > 0 ? time_now_us() + (int64_t)(for_s * 1e6) : 0;
	uint64_t skip = 0;

	for (;;) {
		int64_t now = time_now_us();
		long r;

		if (walk(rx, &have, &skip, k, now) || (end && now >= end))
			return 0;
		r = link_read(l, rx + have, RX_SIZE - have);
		if (r == 0)
			return 0;
		if (r < 0) {
			log_err("read: %s",
				errno == EAGAIN ? "timed out" : "link broken");
			return errno == EAGAIN ? 3 : 1;
		}
		have += (size_t)r;
	}
}

static int run(const struct opts *o, struct counts *k)
{
	SSL_CTX *ctx = o->tls ? tls_ctx(o) : NULL;
	unsigned char *rx = malloc(RX_SIZE);
	struct link l = { -1, NULL };
	size_t have = 0;
	int rc = 1;

	if ((o->tls && ctx == NULL) || rx == NULL ||
	    link_open(ctx, o, &l) < 0 || ws_handshake(&l, o, rx, &have) < 0)
		goto out;
	for (int i = 0; i < o->nsend; i++)
		if (ws_send_text(&l, o->send[i]) < 0)
			goto out;
	if (o->nget > 0 && rest_gets(ctx, o) < 0)
		goto out;
	rc = discard(&l, rx, have, k, o->for_s);
	if (rc == 0 && k->frames == 0)
		rc = 1;
out:
	link_close(&l);
	SSL_CTX_free(ctx);
	free(rx);
	return rc;
}

int main(int argc, char **argv)
{
	static struct opts o = { .timeout_s = 120 };
	struct counts k = { 0 };
	struct rusage ru;
	int rc;

	log_init(PROG);
	if (parse_args(argc, argv, &o) < 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	rc = run(&o, &k);
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	printf("frames %llu bytes %llu first_us %lld last_us %lld cpu_s %.3f "
	       "rss_kb %ld\n",
	       (unsigned long long)k.frames, (unsigned long long)k.bytes,
	       (long long)k.first_us, (long long)k.last_us,
	       (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) /
			       1e6,
	       ru.ru_maxrss);
	return rc;
}
