/*
 * bench_discard: libwebsockets' own cost in tests/bench/recorder.bench.sh
 * (the transport baseline is bench_discard_ssl). An lws WebSocket client
 * set up like the recorder's (same rx buffer, reads prioritised, TLS
 * verified against --ca-file) that sends the given subscriptions, GETs
 * the --get paths (one connection each, as the recorder's REST client)
 * and discards the bodies, then counts and discards every frame until
 * the server closes, and prints what it took.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <libwebsockets.h>

#include "log.h"
#include "timeutil.h"
#include "banned.h"

#define PROG	  "bench_discard"
#define MAX_SENDS 64

struct discard {
	const char *send[MAX_SENDS];
	int nsend, sent;
	const char *get[MAX_SENDS];
	int nget, got;
	const char *host;
	int port, tls;
	struct lws *http;
	double timeout_s;
	int done, rc;
	uint64_t frames, bytes;
	int64_t first_us, last_us; /* wall clock of the first/last frame */
	struct lws_context *cx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
};

static const char usage_text[] =
	"usage: " PROG " --url ws[s]://HOST:PORT/PATH [--ca-file F]\n"
	"       [--send JSON]... [--get PATH]... [--timeout S]\n"
	"Prints: frames N bytes B first_us T0 last_us T1 cpu_s C rss_kb R\n";

static void finish(struct discard *d, int rc)
{
	if (d->done)
		return;
	d->done = 1;
	d->rc = rc;
	lws_cancel_service(d->cx);
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	struct discard *d = lws_container_of(sul, struct discard, sul);

	log_err("timed out");
	finish(d, 3);
}

/* Start the next --get, if any: one at a time, each its own connection. */
static void next_get(struct discard *d)
{
	struct lws_client_connect_info i;

	if (d->got >= d->nget)
		return;
	memset(&i, 0, sizeof(i));
	i.context = d->cx;
	i.address = d->host;
	i.port = d->port;
	i.path = d->get[d->got++];
	i.host = d->host;
	i.origin = d->host;
	i.method = "GET";
	i.ssl_connection = d->tls ? LCCSCF_USE_SSL : 0;
	i.local_protocol_name = "bench-http";
	i.alpn = "http/1.1";
	i.pwsi = &d->http;
	if (lws_client_connect_via_info(&i) == NULL) {
		log_err("GET %s: connect failed", i.path);
		finish(d, 1);
	}
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason,
			 void *user, void *in, size_t len)
{
	struct discard *d = lws_context_user(lws_get_context(wsi));
	char buf[LWS_PRE + 8192], *px = buf + LWS_PRE;
	int lenx = (int)sizeof(buf) - LWS_PRE;

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		log_err("GET failed: %s", in ? (const char *)in : "?");
		finish(d, 1);
		return 0;
	case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
		return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
	case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
		next_get(d);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static int on_writeable(struct discard *d, struct lws *wsi)
{
	unsigned char buf[LWS_PRE + 4096];
	size_t n;

	if (d->sent >= d->nsend)
		return 0;
	n = strlen(d->send[d->sent]);
	if (n > sizeof(buf) - LWS_PRE)
		return -1;
	memcpy(buf + LWS_PRE, d->send[d->sent], n);
	if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
		return -1;
	if (++d->sent < d->nsend)
		lws_callback_on_writable(wsi);
	else
		next_get(d);
	return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct discard *d = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		log_err("connect failed: %s", in ? (const char *)in : "?");
		finish(d, 1);
		return 0;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		d->bytes += len;
		if (lws_is_final_fragment(wsi)) {
			/* The clock is read per frame, as the recorder does. */
			d->last_us = time_now_us();
			if (d->frames++ == 0)
				d->first_us = d->last_us;
		}
		return 0;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(d, wsi);
	case LWS_CALLBACK_CLIENT_CLOSED:
		d->wsi = NULL;
		finish(d, d->frames > 0 ? 0 : 1);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static int parse_args(int argc, char **argv, struct discard *d, char **url,
		      const char **ca)
{
	static const struct option opts[] = {
		{ "url", 1, NULL, 'u' },     { "send", 1, NULL, 's' },
		{ "ca-file", 1, NULL, 'C' }, { "timeout", 1, NULL, 't' },
		{ "get", 1, NULL, 'g' },     { NULL, 0, NULL, 0 },
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
			if (d->nsend == MAX_SENDS)
				return -1;
			d->send[d->nsend++] = optarg;
			break;
		case 'g':
			if (d->nget == MAX_SENDS)
				return -1;
			d->get[d->nget++] = optarg;
			break;
		case 'C':
			*ca = optarg;
			break;
		case 't':
			d->timeout_s = strtod(optarg, &end);
			if (errno || *end || d->timeout_s <= 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return *url != NULL && optind == argc ? 0 : -1;
}

static int connect_to(struct discard *d, char *url)
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
	i.context = d->cx;
	i.address = ads;
	i.port = port;
	i.path = fullpath;
	i.host = ads;
	i.origin = ads;
	i.alpn = "http/1.1";
	/* As the recorder's wsconn.c connects. */
	i.ssl_connection = strcmp(prot, "wss") == 0
				   ? LCCSCF_USE_SSL | LCCSCF_PRIORITIZE_READS
				   : LCCSCF_PRIORITIZE_READS;
	i.pwsi = &d->wsi;
	d->host = ads;
	d->port = port;
	d->tls = strcmp(prot, "wss") == 0;
	if (lws_client_connect_via_info(&i) == NULL) {
		log_err("connect to %s:%d failed", ads, port);
		return -1;
	}
	return 0;
}

static double cpu_seconds(const struct rusage *ru)
{
	return (double)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) +
	       (double)(ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1e6;
}

int main(int argc, char **argv)
{
	static struct discard d = { .timeout_s = 120 };
	struct lws_protocols protocols[] = {
		{ "bench-discard", callback, 0, 65536, 0, NULL, 0 },
		{ "bench-http", http_callback, 0, 0, 0, NULL, 0 },
		{ NULL, NULL, 0, 0, 0, NULL, 0 },
	};
	struct lws_context_creation_info info;
	const char *ca = NULL;
	char *url = NULL;
	struct rusage ru;
	int n = 0;

	log_init(PROG);
	if (parse_args(argc, argv, &d, &url, &ca) < 0) {
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
	info.user = &d;
	d.cx = lws_create_context(&info);
	if (d.cx == NULL)
		return 1;
	lws_sul_schedule(d.cx, 0, &d.sul, on_timeout,
			 (lws_usec_t)(d.timeout_s * 1e6));
	if (connect_to(&d, url) < 0)
		d.done = 1, d.rc = 1;
	while (n >= 0 && !d.done)
		n = lws_service(d.cx, 0);
	lws_sul_cancel(&d.sul);
	lws_context_destroy(d.cx);
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		memset(&ru, 0, sizeof(ru));
	printf("frames %llu bytes %llu first_us %lld last_us %lld cpu_s %.3f "
	       "rss_kb %ld\n",
	       (unsigned long long)d.frames, (unsigned long long)d.bytes,
	       (long long)d.first_us, (long long)d.last_us, cpu_seconds(&ru),
	       ru.ru_maxrss);
	return d.rc;
}
