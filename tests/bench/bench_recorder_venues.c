/*
 * Microbenchmark of every venue through the venue interface, in one run:
 * for Gate.io, MEXC, Binance and OKX, frames in the exchange's own wire
 * format (MEXC: protobuf) with five level changes each go through the
 * venue's parse_frame() and the book sync its stream() configures,
 * after the venue's own bootstrap (REST snapshot body, or OKX's
 * snapshot push). Reports msg/s and ns/msg per venue, and each against
 * Gate.io's figure measured in the same run. Prints figures only.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "sync.h"
#include "venue.h"
#include "banned.h"

#define NFRAMES	  4096
#define FRAME_MAX 768
#define DEPTH	  100

struct frames {
	unsigned char buf[NFRAMES][FRAME_MAX];
	size_t len[NFRAMES];
	bool binary;
};

static uint64_t rng = 88172645463325252ull;
static uint64_t sink;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

/* Price k ticks from the middle: bids below 20000.00, asks above. */
static void price(char *out, size_t size, int side, unsigned k)
{
	unsigned cents = side == 0 ? 2000000 - 1 - k : 2000000 + 1 + k;

	snprintf(out, size, "%u.%02u", cents / 100, cents % 100);
}

static void amount(char *out, size_t size)
{
	unsigned amt = rnd(5) == 0 ? 0 : 1 + rnd(100000);

	snprintf(out, size, "%u.%04u", amt / 10000, amt % 10000);
}

/* JSON levels; okx adds its two extra strings. */
static size_t json_levels(char *out, size_t size, int side, unsigned n,
			  bool okx)
{
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		char p[32], a[32];

		price(p, sizeof(p), side, rnd(140));
		amount(a, sizeof(a));
		o += (size_t)snprintf(out + o, size - o, "%s[\"%s\",\"%s\"%s]",
				      i ? "," : "", p, a,
				      okx ? ",\"0\",\"1\"" : "");
	}
	return o;
}

/* ------------------------------------------------------------ protobuf */

static size_t pb_varint(unsigned char *o, uint64_t v)
{
	size_t n = 0;

	do {
		o[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			o[n] |= 0x80;
		n++;
	} while (v != 0);
	return n;
}

static size_t pb_bytes(unsigned char *o, unsigned num, const void *p, size_t n)
{
	size_t k = pb_varint(o, (uint64_t)num << 3 | 2);

	k += pb_varint(o + k, n);
	memcpy(o + k, p, n);
	return k + n;
}

static size_t pb_str(unsigned char *o, unsigned num, const char *s)
{
	return pb_bytes(o, num, s, strlen(s));
}

/* A PushDataV3ApiWrapper with a body 313 of five items. */
static size_t mexc_frame(unsigned char *o, uint64_t id)
{
	unsigned char body[512], item[64];
	size_t b = 0, k = 0;
	char v[24];

	for (unsigned i = 0; i < 5; i++) {
		char p[32], a[32];
		int side = rnd(2);
		size_t n;

		price(p, sizeof(p), side, rnd(140));
		amount(a, sizeof(a));
		n = pb_str(item, 1, p);
		n += pb_str(item + n, 2, a);
		b += pb_bytes(body + b, side == 0 ? 2 : 1, item, n);
	}
	b += pb_str(body + b, 3, "spot@public.aggre.depth.v3.api.pb@100ms");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)id);
	b += pb_str(body + b, 4, v);
	b += pb_str(body + b, 5, v);
	k += pb_str(o, 1, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
	k += pb_str(o + k, 3, "BTCUSDT");
	k += pb_varint(o + k, 6 << 3);
	k += pb_varint(o + k, 1700000000123ull);
	k += pb_bytes(o + k, 313, body, b);
	return k;
}

/* ------------------------------------------------------------ frames */

static void make_frames(enum exchange ex, struct frames *f)
{
	f->binary = ex == EXCHANGE_MEXC;
	for (unsigned i = 0; i < NFRAMES; i++) {
		char b[512], a[512], *out = (char *)f->buf[i];
		unsigned nb = 1 + rnd(4);
		uint64_t id = 1000 + i;
		bool okx = ex == EXCHANGE_OKX;

		if (ex == EXCHANGE_MEXC) {
			f->len[i] = mexc_frame(f->buf[i], id);
			continue;
		}
		json_levels(b, sizeof(b), 0, nb, okx);
		json_levels(a, sizeof(a), 1, 5 - nb, okx);
		if (ex == EXCHANGE_GATEIO)
			f->len[i] = (size_t)snprintf(
				out, FRAME_MAX,
				"{\"time\":1700000000,\"time_ms\":1700000000123,"
				"\"channel\":\"spot.order_book_update\",\"event\":"
				"\"update\",\"result\":{\"t\":1700000000100,\"e\":"
				"\"depthUpdate\",\"E\":1700000000,\"s\":\"BTC_USDT"
				"\",\"U\":%llu,\"u\":%llu,\"b\":[%s],\"a\":[%s]}}",
				(unsigned long long)id, (unsigned long long)id,
				b, a);
		else if (ex == EXCHANGE_BINANCE)
			f->len[i] = (size_t)snprintf(
				out, FRAME_MAX,
				"{\"e\":\"depthUpdate\",\"E\":1700000000123,\"s\":"
				"\"BTCUSDT\",\"U\":%llu,\"u\":%llu,\"b\":[%s],\"a\":"
				"[%s]}",
				(unsigned long long)id, (unsigned long long)id,
				b, a);
		else
			f->len[i] = (size_t)snprintf(
				out, FRAME_MAX,
				"{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-"
				"USDT\"},\"action\":\"update\",\"data\":[{\"asks\":"
				"[%s],\"bids\":[%s],\"ts\":\"1700000000123\","
				"\"checksum\":0,\"prevSeqId\":%llu,\"seqId\":%llu}]}",
				a, b, (unsigned long long)id - 1,
				(unsigned long long)id);
	}
}

/* The bootstrap: a REST body, or (OKX) a snapshot push. */
static size_t make_book(enum exchange ex, char *o, size_t size)
{
	size_t n;
	bool okx = ex == EXCHANGE_OKX;

	if (ex == EXCHANGE_GATEIO)
		n = (size_t)snprintf(o, size, "{\"id\":999,\"bids\":[");
	else if (okx)
		n = (size_t)snprintf(
			o, size,
			"{\"arg\":{\"channel\":\"books\",\"instId\""
			":\"BTC-USDT\"},\"action\":\"snapshot\","
			"\"data\":[{\"bids\":[");
	else
		n = (size_t)snprintf(o, size,
				     "{\"lastUpdateId\":999,\"bids\":[");
	for (int side = 0; side < 2; side++) {
		for (unsigned k = 0; k < DEPTH; k++) {
			char p[32];

			price(p, sizeof(p), side, k);
			n += (size_t)snprintf(o + n, size - n,
					      "%s[\"%s\",\"1.5\"%s]",
					      k ? "," : "", p,
					      okx ? ",\"0\",\"1\"" : "");
		}
		n += (size_t)snprintf(o + n, size - n, "%s",
				      side == 0 ? "],\"asks\":[" : "]");
	}
	n += (size_t)snprintf(o + n, size - n, "%s",
			      okx ? ",\"ts\":\"1\",\"checksum\":0,\"prevSeqId"
				    "\":-1,\"seqId\":999}]}"
				  : "}");
	return n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_row(void *ctx, const struct sync_row *r)
{
	(void)ctx;
	sink += r->price_len + r->amount_len + (uint64_t)r->side;
}

struct bench {
	const struct venue *v;
	struct venue_stream st;
	void *parser;
	struct sync *s;
	char book[32768];
	size_t book_len;
};

static void bootstrap(struct bench *b, enum exchange ex)
{
	struct sync_snapshot snap;
	struct venue_msg m;

	sync_on_subscribed(b->s, 0);
	if (ex == EXCHANGE_OKX) {
		if (b->v->parse_frame(b->parser, (unsigned char *)b->book,
				      b->book_len, false, &m) != 0 ||
		    sync_on_update(b->s, &m.update, 0) != 0)
			exit(1);
	} else if (b->v->parse_snapshot(b->parser, b->book, b->book_len,
					&snap) != 0 ||
		   sync_on_snapshot(b->s, &snap, 0) != 0) {
		exit(1);
	}
	if (!sync_synced(b->s)) {
		fprintf(stderr, "bench: %s did not sync\n", b->v->name);
		exit(1);
	}
}

/* parse_frame + sync + book + rows; seconds for rounds x NFRAMES. */
static double run(enum exchange ex, unsigned rounds)
{
	static struct frames f;
	static struct bench b;
	struct recorder_config cfg = { .exchange = ex, .depth_limit = DEPTH };
	struct sync_cbs cbs = { .row = on_row };
	struct sync_cfg sc = { 0 };
	double t0, total = 0;

	b.v = venue_find(ex);
	if (b.v == NULL || b.v->stream(&cfg, &b.st) != 0)
		exit(1);
	sc.window = b.st.window;
	sc.full_depth = b.st.full_depth;
	sc.checksum = b.v->book_checksum;
	sc.resubscribe = b.st.resubscribe;
	sc.strict = b.st.strict;
	b.parser = b.v->parser_new();
	b.s = sync_new(ex == EXCHANGE_GATEIO ? "BTC_USDT"
		       : ex == EXCHANGE_OKX  ? "BTC-USDT"
					     : "BTCUSDT",
		       b.st.mode, &sc, &cbs);
	if (b.parser == NULL || b.s == NULL)
		exit(1);
	make_frames(ex, &f);
	b.book_len = make_book(ex, b.book, sizeof(b.book));
	for (unsigned r = 0; r < rounds; r++) {
		bootstrap(&b, ex);
		t0 = now();
		for (unsigned i = 0; i < NFRAMES; i++) {
			struct venue_msg m;

			if (b.v->parse_frame(b.parser, f.buf[i], f.len[i],
					     f.binary, &m) != 0 ||
			    m.type != VENUE_MSG_UPDATE ||
			    sync_on_update(b.s, &m.update, 1) != 0)
				exit(1);
		}
		total += now() - t0;
		if (sync_counters(b.s)->gaps != 0 || !sync_synced(b.s)) {
			fprintf(stderr, "bench: %s: unexpected resync\n",
				b.v->name);
			exit(1);
		}
	}
	sync_free(b.s);
	b.v->parser_free(b.parser);
	return total;
}

int main(int argc, char **argv)
{
	static const enum exchange all[] = { EXCHANGE_GATEIO, EXCHANGE_MEXC,
					     EXCHANGE_BINANCE, EXCHANGE_OKX };
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 30;
	double msgs = (double)NFRAMES * rounds, gate = 0;

	if (rounds == 0)
		return 1;
	printf("bench_recorder_venues: %.0f messages of 5 levels per venue, "
	       "parse_frame + sync + book (depth %d)\n",
	       msgs, DEPTH);
	for (size_t i = 0; i < CORE_ARRAY_LEN(all); i++) {
		double t = run(all[i], rounds);

		if (i == 0)
			gate = t;
		printf("%-8s %10.0f msg/s %7.1f ns/msg  (vs gateio %.2fx)\n",
		       exchange_name(all[i]), msgs / t, t / msgs * 1e9,
		       t / gate);
	}
	printf("(rows checksum %llu)\n", (unsigned long long)sink);
	return 0;
}
