/*
 * wsprobe: a minimal lws WebSocket client for integration tests. It
 * connects, sends the given frames, and prints every received frame on
 * its own line; events are printed as lines starting with '#'.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define PROG	     "wsprobe"
#define MAX_SENDS    128
#define RX_MAX	     (64u * 1024 * 1024)
#define PRINT_MAX    65536
#define EXIT_TIMEOUT 3

struct probe {
	const char *send[MAX_SENDS];
	long send_after[MAX_SENDS]; /* frames to receive first */
	int nsend, sent;
	long count, got;
	double timeout_s;
	int quiet, done, rc, connected;
	int binhex, rx_binary; /* --binary-hex; the frame being read is */
	char *rx;
	size_t rxlen, rxcap;
	uint64_t bytes;
	int64_t t0;
	struct lws_context *cx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
};

static const char usage_text[] =
	"usage: " PROG " --url ws[s]://HOST:PORT/PATH [options]\n"
	"  --send JSON        send a text frame once connected (repeatable)\n"
	"  --send-at K:JSON   send a text frame after K frames were received\n"
	"  --count N          exit 0 once N frames were received\n"
	"  --timeout S        give up after S seconds (10)\n"
	"  --ca-file F        trust this CA for wss\n"
	"  --host NAME        Host header, SNI and name checked (default: HOST)\n"
	"  --quiet            count frames instead of printing them\n"
	"  --binary-hex       print binary frames as '#binary HEX'\n"
	"exit: 0 ok (count reached, or closed/timed out with no --count),\n"
	"      1 connection failed or closed before --count, 2 usage,\n"
	"      3 timeout before --count\n";

static void finish(struct probe *p, int rc)
{
	if (p->done)
		return;
	p->done = 1;
	p->rc = rc;
	lws_cancel_service(p->cx);
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	struct probe *p = lws_container_of(sul, struct probe, sul);

	printf("#timeout\n");
	finish(p, p->count > 0 && p->got < p->count ? EXIT_TIMEOUT : 0);
}

static int rx_add(struct probe *p, const char *in, size_t len)
{
	if (p->rxlen + len > RX_MAX)
		return -1;
	if (p->rxlen + len > p->rxcap) {
		size_t ncap = p->rxcap ? p->rxcap : 4096;
		char *n;

		while (ncap < p->rxlen + len)
			ncap *= 2;
		n = realloc(p->rx, ncap);
		if (n == NULL)
			return -1;
		p->rx = n;
		p->rxcap = ncap;
	}
	memcpy(p->rx + p->rxlen, in, len);
	p->rxlen += len;
	return 0;
}

static void print_hex(const struct probe *p)
{
	fputs("#binary ", stdout);
	for (size_t i = 0; i < p->rxlen; i++)
		printf("%02x", (unsigned char)p->rx[i]);
	putchar('\n');
}

static void frame_done(struct probe *p)
{
	p->got++;
	p->bytes += p->rxlen;
	if (!p->quiet) {
		if (p->rxlen > PRINT_MAX)
			printf("#frame %zu bytes\n", p->rxlen);
		else if (p->binhex && p->rx_binary)
			print_hex(p);
		else if (fwrite(p->rx, 1, p->rxlen, stdout) != p->rxlen ||
			 putchar('\n') == EOF)
			finish(p, 1);
	}
	p->rxlen = 0;
	if (p->sent < p->nsend && p->send_after[p->sent] <= p->got)
		lws_callback_on_writable(p->wsi);
	if (p->count > 0 && p->got >= p->count)
		finish(p, 0);
}

static int on_writeable(struct probe *p, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 65536];
	size_t n;

	if (p->sent >= p->nsend || p->send_after[p->sent] > p->got)
		return 0;
	n = strlen(p->send[p->sent]);
	if (n > sizeof(buf) - LWS_PRE)
		return -1;
	memcpy(buf + LWS_PRE, p->send[p->sent], n);
	if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	p->sent++;
	if (p->sent < p->nsend && p->send_after[p->sent] <= p->got)
		lws_callback_on_writable(wsi);
	return 0;
}

static void on_peer_close(const unsigned char *in, size_t len)
{
	char reason[128];
	int code = len >= 2 ? (in[0] << 8) | in[1] : 0;

	log_escape(reason, sizeof(reason), len > 2 ? (const char *)in + 2 : "",
		   len > 2 ? len - 2 : 0);
	printf("#close %d %s\n", code, reason);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct probe *p = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		log_err("connect failed: %s",
			in ? (const char *)in : "(no reason)");
		printf("#error\n");
		finish(p, 1);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		p->connected = 1;
		printf("#connected\n");
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (lws_is_first_fragment(wsi))
			p->rx_binary = lws_frame_is_binary(wsi);
		if (rx_add(p, in, len) < 0) {
			log_err("frame over %u bytes", RX_MAX);
			finish(p, 1);
			return -1;
		}
		if (lws_is_final_fragment(wsi))
			frame_done(p);
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(p, wsi);
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		on_peer_close(in, len);
		return 0;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!p->done)
			printf("#closed\n");
		p->wsi = NULL;
		finish(p, p->count > 0 && p->got < p->count ? 1 : 0);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static int add_send(struct probe *p, const char *arg, int at)
{
	char *end;
	long k = 0;

	if (p->nsend == MAX_SENDS)
		return -1;
	if (at) {
		errno = 0;
		k = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != ':' || k < 0)
			return -1;
		arg = end + 1;
	}
	p->send_after[p->nsend] = k;
	p->send[p->nsend++] = arg;
	return 0;
}

static int parse_args(int argc, char **argv, struct probe *p, char **url,
		      const char **ca, const char **host)
{
	static const struct option opts[] = {
		{ "url", 1, NULL, 'u' },	{ "send", 1, NULL, 's' },
		{ "send-at", 1, NULL, 'a' },	{ "count", 1, NULL, 'c' },
		{ "timeout", 1, NULL, 't' },	{ "ca-file", 1, NULL, 'C' },
		{ "host", 1, NULL, 'H' },	{ "quiet", 0, NULL, 'q' },
		{ "binary-hex", 0, NULL, 'x' }, { NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'u':
			*url = optarg;
			break;
		case 's':
		case 'a':
			if (add_send(p, optarg, c == 'a') < 0)
				return -1;
			break;
		case 'c':
			p->count = strtol(optarg, &end, 10);
			if (errno || *end || p->count < 0)
				return -1;
			break;
		case 't':
			p->timeout_s = strtod(optarg, &end);
			if (errno || *end || p->timeout_s <= 0)
				return -1;
			break;
		case 'C':
			*ca = optarg;
			break;
		case 'H':
			*host = optarg;
			break;
		case 'q':
			p->quiet = 1;
			break;
		case 'x':
			p->binhex = 1;
			break;
		default:
			return -1;
		}
	}
	return *url != NULL && optind == argc ? 0 : -1;
}

static int connect_to(struct probe *p, char *url, const char *host)
{
	struct lws_client_connect_info i;
	const char *prot, *ads, *path;
	char fullpath[1024];
	int port;

	memset(&i, 0, sizeof(i));
	if (lws_parse_uri(url, &prot, &ads, &port, &path) != 0 ||
	    (strcmp(prot, "ws") != 0 && strcmp(prot, "wss") != 0)) {
		log_err("bad url");
		return -1;
	}
	snprintf(fullpath, sizeof(fullpath), "/%s", path);
	i.context = p->cx;
	i.address = ads;
	i.port = port;
	i.path = fullpath;
	i.host = host ? host : ads;
	i.origin = i.host;
	i.alpn = "http/1.1";
	i.ssl_connection = strcmp(prot, "wss") == 0 ? LCCSCF_USE_SSL : 0;
	i.pwsi = &p->wsi;
	if (lws_client_connect_via_info(&i) == NULL) {
		log_err("connect to %s:%d failed", ads, port);
		printf("#error\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct probe p = { .timeout_s = 10 };
	struct lws_protocols protocols[] = {
		{ "wsprobe", callback, 0, 65536, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	const char *ca = NULL, *host = NULL;
	char *url = NULL;
	int n = 0;

	log_init(PROG);
	if (parse_args(argc, argv, &p, &url, &ca, &host) < 0) {
		fputs(usage_text, stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = ca;
	info.user = &p;
	p.cx = lws_create_context(&info);
	if (p.cx == NULL)
		return 1;
	p.t0 = time_mono_us();
	lws_sul_schedule(p.cx, 0, &p.sul, on_timeout,
			 (lws_usec_t)(p.timeout_s * 1e6));
	if (connect_to(&p, url, host) < 0)
		p.done = 1, p.rc = 1;
	while (n >= 0 && !p.done)
		n = lws_service(p.cx, 0);
	lws_sul_cancel(&p.sul);
	printf("#frames %ld bytes %llu secs %.3f\n", p.got,
	       (unsigned long long)p.bytes,
	       (double)(time_mono_us() - p.t0) / 1e6);
	fflush(stdout);
	lws_context_destroy(p.cx);
	free(p.rx);
	return p.rc;
}
