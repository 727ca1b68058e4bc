/*
 * Microbenchmark of the recorder's hot path: parse a Gate.io
 * spot.order_book_update frame with five level changes, run it through
 * the book sync and apply it to a 100-level book, emitting rows to a
 * trivial sink. Baselines measured in the same run: memcpy of each frame
 * and the JSON scan alone. Also reports the memory of 1000 synced pairs
 * at depth 100. Prints figures only; no pass/fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core.h"
#include "gateio.h"
#include "json.h"
#include "sync.h"
#include "banned.h"

#define NFRAMES	  4096
#define FRAME_MAX 512
#define DEPTH	  100

struct frames {
	char buf[NFRAMES][FRAME_MAX];
	size_t len[NFRAMES];
};

static uint64_t rng = 88172645463325252ull;

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

static size_t level_list(char *out, size_t size, int side, unsigned n)
{
	size_t o = 0;

	for (unsigned i = 0; i < n; i++) {
		char p[32];
		unsigned amt = rnd(5) == 0 ? 0 : 1 + rnd(100000);

		price(p, sizeof(p), side, rnd(140));
		o += (size_t)snprintf(out + o, size - o,
				      "%s[\"%s\",\"%u.%04u\"]", i ? "," : "", p,
				      amt / 10000, amt % 10000);
	}
	return o;
}

static void make_frames(struct frames *f)
{
	for (unsigned i = 0; i < NFRAMES; i++) {
		char b[256], a[256];
		unsigned nb = 1 + rnd(4);
		uint64_t id = 1000 + i;

		level_list(b, sizeof(b), 0, nb);
		level_list(a, sizeof(a), 1, 5 - nb);
		f->len[i] = (size_t)snprintf(
			f->buf[i], FRAME_MAX,
			"{\"time\":1700000000,\"time_ms\":1700000000123,"
			"\"channel\":\"spot.order_book_update\",\"event\":"
			"\"update\",\"result\":{\"t\":1700000000100,\"e\":"
			"\"depthUpdate\",\"E\":1700000000,\"s\":\"BTC_USDT\","
			"\"U\":%llu,\"u\":%llu,\"b\":[%s],\"a\":[%s]}}",
			(unsigned long long)id, (unsigned long long)id, b, a);
	}
}

static char snapbuf[16384];

static size_t make_snapshot(void)
{
	size_t o = (size_t)snprintf(snapbuf, sizeof(snapbuf),
				    "{\"id\":999,\"bids\":[");

	for (int side = 0; side < 2; side++) {
		for (unsigned k = 0; k < DEPTH; k++) {
			char p[32];

			price(p, sizeof(p), side, k);
			o += (size_t)snprintf(snapbuf + o, sizeof(snapbuf) - o,
					      "%s[\"%s\",\"1.5\"]",
					      k ? "," : "", p);
		}
		o += (size_t)snprintf(snapbuf + o, sizeof(snapbuf) - o, "%s",
				      side == 0 ? "],\"asks\":[" : "]}");
	}
	return o;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t sink;

static void on_row(void *ctx, const struct sync_row *r)
{
	(void)ctx;
	sink += r->price_len + r->amount_len + (uint64_t)r->side;
}

static void resync(struct sync *s, struct gateio_parser *p, size_t slen)
{
	struct sync_snapshot snap;

	sync_on_subscribed(s, 0);
	if (gateio_parse_snapshot(p, snapbuf, slen, &snap) != 0 ||
	    sync_on_snapshot(s, &snap, 0) != 0 || !sync_synced(s)) {
		fprintf(stderr, "bench: snapshot failed\n");
		exit(1);
	}
}

/* Full pipeline: parse + sync + book + rows. Returns seconds. */
static double run_full(const struct frames *f, unsigned rounds, struct sync *s,
		       struct gateio_parser *p, size_t slen)
{
	double t0, total = 0;

	for (unsigned r = 0; r < rounds; r++) {
		resync(s, p, slen);
		t0 = now();
		for (unsigned i = 0; i < NFRAMES; i++) {
			struct gateio_msg m;

			if (gateio_parse_frame(p, f->buf[i], f->len[i], &m) !=
				    0 ||
			    sync_on_update(s, &m.update, 1) != 0)
				exit(1);
		}
		total += now() - t0;
		if (sync_counters(s)->gaps != 0 || !sync_synced(s)) {
			fprintf(stderr, "bench: unexpected resync\n");
			exit(1);
		}
	}
	return total;
}

static double run_json(const struct frames *f, unsigned rounds)
{
	static struct json_tok tok[1024];
	double t0 = now();
	size_t n;

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < NFRAMES; i++) {
			if (json_parse(f->buf[i], f->len[i], tok, 1024, &n) !=
			    0)
				exit(1);
			sink += n;
		}
	return now() - t0;
}

static double run_memcpy(const struct frames *f, unsigned rounds)
{
	static char dst[FRAME_MAX];
	double t0 = now();

	for (unsigned r = 0; r < rounds; r++)
		for (unsigned i = 0; i < NFRAMES; i++) {
			memcpy(dst, f->buf[i], f->len[i]);
			__asm__ volatile("" : : "r"(dst) : "memory");
			sink += (unsigned char)dst[i % f->len[i]];
		}
	return now() - t0;
}

static long rss_kb(void)
{
	FILE *fp = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(fp);
	return kb;
}

static void memory_1000_pairs(struct gateio_parser *p, size_t slen)
{
	static struct sync *many[1000];
	struct sync_cfg cfg = { .window = DEPTH };
	struct sync_cbs cbs = { .row = on_row };
	long before = rss_kb();

	for (int i = 0; i < 1000; i++) {
		char sym[16];

		snprintf(sym, sizeof(sym), "P%d_USDT", i);
		many[i] = sync_new(sym, SYNC_MODE_SNAPSHOT, &cfg, &cbs);
		if (many[i] == NULL)
			exit(1);
		resync(many[i], p, slen);
	}
	printf("memory: 1000 pairs synced at depth %d: +%ld kB RSS "
	       "(process %ld kB)\n",
	       DEPTH, rss_kb() - before, rss_kb());
	for (int i = 0; i < 1000; i++)
		sync_free(many[i]);
}

int main(int argc, char **argv)
{
	static struct frames f;
	struct sync_cfg cfg = { .window = DEPTH };
	struct sync_cbs cbs = { .row = on_row };
	struct gateio_parser *p = gateio_parser_new(0);
	struct sync *s = sync_new("BTC_USDT", SYNC_MODE_SNAPSHOT, &cfg, &cbs);
	unsigned rounds = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 60;
	double full, js, mc, msgs;
	size_t slen, bytes = 0;

	if (p == NULL || s == NULL || rounds == 0)
		return 1;
	make_frames(&f);
	slen = make_snapshot();
	for (unsigned i = 0; i < NFRAMES; i++)
		bytes += f.len[i];
	msgs = (double)NFRAMES * rounds;
	full = run_full(&f, rounds, s, p, slen);
	js = run_json(&f, rounds);
	mc = run_memcpy(&f, rounds);
	printf("bench_recorder_book: %.0f messages of 5 levels, %.0f bytes "
	       "avg, book depth %d\n",
	       msgs, (double)bytes / NFRAMES, DEPTH);
	printf("parse+sync+book: %10.0f msg/s %7.1f ns/msg\n", msgs / full,
	       full / msgs * 1e9);
	printf("json scan only:  %10.0f msg/s %7.1f ns/msg  (full/json "
	       "%.2fx)\n",
	       msgs / js, js / msgs * 1e9, full / js);
	printf("memcpy frame:    %10.0f msg/s %7.1f ns/msg  (full/memcpy "
	       "%.1fx)\n",
	       msgs / mc, mc / msgs * 1e9, full / mc);
	memory_1000_pairs(p, slen);
	sync_free(s);
	gateio_parser_free(p);
	return sink == 42 ? 1 : 0;
}
