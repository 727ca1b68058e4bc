/* Unit suite for recorder/mexc_pb: the real protobuf test vector,
 * pushes built by a small encoder in every field order and wire type,
 * malformed protobuf (every truncation and byte flip of the vector), and
 * the MEXC sync recipe run through recorder/sync with decoded pushes. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "mexc.h"
#include "sync.h"
#include "recorder_samples.h"
#include "banned.h"

static struct mexc_parser *P;

static void setup(void)
{
	P = mexc_parser_new(0);
	ck_assert_ptr_nonnull(P);
}

static void teardown(void)
{
	mexc_parser_free(P);
	P = NULL;
}

/* ------------------------------------------------------------ encoder */

/* A small protobuf writer for building test pushes. */
struct enc {
	unsigned char b[8192];
	size_t n;
};

static void e_raw(struct enc *e, const void *p, size_t n)
{
	ck_assert_uint_le(e->n + n, sizeof(e->b));
	memcpy(e->b + e->n, p, n);
	e->n += n;
}

static void e_varint(struct enc *e, uint64_t v)
{
	unsigned char c;

	do {
		c = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v != 0)
			c |= 0x80;
		e_raw(e, &c, 1);
	} while (v != 0);
}

static void e_tag(struct enc *e, uint32_t num, unsigned wt)
{
	e_varint(e, ((uint64_t)num << 3) | wt);
}

static void e_bytes(struct enc *e, uint32_t num, const void *p, size_t n)
{
	e_tag(e, num, 2);
	e_varint(e, n);
	e_raw(e, p, n);
}

static void e_str(struct enc *e, uint32_t num, const char *s)
{
	e_bytes(e, num, s, strlen(s));
}

static void e_sub(struct enc *e, uint32_t num, const struct enc *sub)
{
	e_bytes(e, num, sub->b, sub->n);
}

static void e_u64(struct enc *e, uint32_t num, uint64_t v)
{
	e_tag(e, num, 0);
	e_varint(e, v);
}

/* Levels from "b10=1 b9.5=2 a11=0" into body fields 2 (bids), 1 (asks). */
static void e_levels(struct enc *body, const char *spec)
{
	char copy[1024], *save = NULL, *tok;

	snprintf(copy, sizeof(copy), "%s", spec);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	     tok = strtok_r(NULL, " ", &save)) {
		struct enc item = { .n = 0 };
		char *eq = strchr(tok, '=');

		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		e_str(&item, 1, tok + 1);
		e_str(&item, 2, eq + 1);
		e_sub(body, tok[0] == 'b' ? 2 : 1, &item);
	}
}

/* A whole aggre-depth push as MEXC's Java encoder writes it. */
static void mk_push(struct enc *e, const char *sym, uint64_t from, uint64_t to,
		    const char *levels)
{
	struct enc body = { .n = 0 };
	char ch[128], v[32];

	e->n = 0;
	snprintf(ch, sizeof(ch), "spot@public.aggre.depth.v3.api.pb@100ms@%s",
		 sym);
	e_str(e, 1, ch);
	e_str(e, 3, sym);
	e_u64(e, 6, 1755973885809);
	e_levels(&body, levels);
	e_str(&body, 3, "spot@public.aggre.depth.v3.api.pb@100ms");
	snprintf(v, sizeof(v), "%llu", (unsigned long long)from);
	e_str(&body, 4, v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)to);
	e_str(&body, 5, v);
	e_sub(e, 313, &body);
}

static int parse_enc(const struct enc *e, struct mexc_msg *m)
{
	return mexc_parse_binary(P, e->b, e->n, m);
}

/* ------------------------------------------------------------ binary */

static void assert_vector(const struct mexc_msg *m)
{
	const struct sync_update *u = &m->update;

	ck_assert_int_eq(m->type, MEXC_MSG_UPDATE);
	ck_assert_str_eq(m->symbol, "BTCUSDC");
	ck_assert_uint_eq(m->interval_ms, 100);
	ck_assert(m->send_ms == 1755973885809);
	ck_assert(u->ts_ms == 1755973885809);
	ck_assert(u->has_first && !u->full);
	ck_assert(u->first_id == 17521975448ULL);
	ck_assert(u->last_id == 17521975455ULL);
	ck_assert_uint_eq(u->nbids, 1);
	ck_assert_uint_eq(u->nasks, 1);
	rs_assert_change(&u->bids[0], "114838.84", "0.000101");
	rs_assert_change(&u->asks[0], "115198.74", "0.068865");
}

START_TEST(test_vector)
{
	struct mexc_msg m;
	char *bin, *hex;
	size_t blen, hlen;

	bin = rs_read("mexc/encoded_ws_aggre_depth_BTCUSDC.bin", &blen);
	hex = rs_read("mexc/encoded_ws_aggre_depth_BTCUSDC.hex", &hlen);
	ck_assert_uint_eq(blen, 181);
	hlen = rs_trim(hex, hlen);
	ck_assert_uint_eq(hlen, 2 * blen);
	for (size_t i = 0; i < blen; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		ck_assert_uint_eq(v, (unsigned char)bin[i]);
	}
	ck_assert_int_eq(mexc_parse_binary(P, (unsigned char *)bin, blen, &m),
			 0);
	assert_vector(&m);
	/* Zero copy: the level spans point into the frame. */
	ck_assert(m.update.bids[0].price >= bin &&
		  m.update.bids[0].price < bin + blen);
	free(bin);
	free(hex);
}
END_TEST

/* The same push rebuilt by the test encoder is byte-identical. */
START_TEST(test_encoder_matches_vector)
{
	struct enc e = { .n = 0 }, body = { .n = 0 };
	char *bin;
	size_t blen;

	bin = rs_read("mexc/encoded_ws_aggre_depth_BTCUSDC.bin", &blen);
	e_str(&e, 1, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDC");
	e_str(&e, 3, "BTCUSDC");
	e_u64(&e, 6, 1755973885809);
	e_levels(&body, "a115198.74=0.068865 b114838.84=0.000101");
	e_str(&body, 3, "spot@public.aggre.depth.v3.api.pb@100ms");
	e_str(&body, 4, "17521975448");
	e_str(&body, 5, "17521975455");
	e_sub(&e, 313, &body);
	ck_assert_uint_eq(e.n, blen);
	ck_assert_int_eq(memcmp(e.b, bin, blen), 0);
	free(bin);
}
END_TEST

/* ccxt's decoded BTCUSDT push (a delete), fields in reverse order, with
 * unknown fields of every wire type at every level. */
START_TEST(test_binary_shapes)
{
	struct enc e = { .n = 0 }, body = { .n = 0 }, item = { .n = 0 };
	struct mexc_msg m;
	uint64_t fixed = 0;

	e_tag(&item, 9, 5);
	e_raw(&item, &fixed, 4);
	e_str(&item, 2, "0");
	e_str(&item, 1, "117145.49");
	e_u64(&body, 99, 12345);
	e_str(&body, 5, "43296363255");
	e_str(&body, 4, "43296363236");
	e_u64(&body, 6, 1754741322100);
	e_sub(&body, 1, &item);
	item.n = 0;
	e_str(&item, 1, "117053.41");
	e_str(&item, 2, "1.86837271");
	e_tag(&item, 7, 1);
	e_raw(&item, &fixed, 8);
	e_sub(&body, 2, &item);
	e_tag(&e, 2000, 1);
	e_raw(&e, &fixed, 8);
	e_sub(&e, 313, &body);
	e_u64(&e, 5, 1754741322150);
	e_str(&e, 4, "123");
	e_str(&e, 1, "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT");
	e_str(&e, 77, "a field from 2027");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UPDATE);
	/* No field 3: the symbol comes from the channel. */
	ck_assert_str_eq(m.symbol, "BTCUSDT");
	ck_assert_uint_eq(m.interval_ms, 10);
	ck_assert(m.update.ts_ms == 1754741322150); /* createTime */
	ck_assert(m.last_order_ms == 1754741322100);
	ck_assert(m.update.first_id == 43296363236ULL);
	ck_assert(m.update.last_id == 43296363255ULL);
	ck_assert_uint_eq(m.update.nasks, 1);
	ck_assert_uint_eq(m.update.nbids, 1);
	rs_assert_change(&m.update.asks[0], "117145.49", "0");
	rs_assert_change(&m.update.bids[0], "117053.41", "1.86837271");

	/* Levels keep their wire order on both sides, asks interleaved. */
	e.n = 0;
	mk_push(&e, "BTCUSDT", 5, 9, "a1=1 b9=1 a2=2 b8=2 a3=3 b7=3 a4=4");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_uint_eq(m.update.nasks, 4);
	ck_assert_uint_eq(m.update.nbids, 3);
	for (size_t i = 0; i < 4; i++) {
		char px[4], q[4];

		snprintf(px, sizeof(px), "%zu", i + 1);
		snprintf(q, sizeof(q), "%zu", i + 1);
		rs_assert_change(&m.update.asks[i], px, q);
		if (i < 3) {
			snprintf(px, sizeof(px), "%zu", 9 - i);
			rs_assert_change(&m.update.bids[i], px, q);
		}
	}
	mk_push(&e, "BTCUSDT", 5, 9, "a1=1 a2=2 a3=3");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	rs_assert_change(&m.update.asks[0], "1", "1");
	rs_assert_change(&m.update.asks[2], "3", "3");

	/* Empty sides, one version (from == to), the docs' example. */
	mk_push(&e, "BTCUSDT", 10589632359ULL, 10589632359ULL,
		"b92877.58=0.00000000");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_uint_eq(m.update.nasks, 0);
	ck_assert_uint_eq(m.update.nbids, 1);
	mk_push(&e, "BTCUSDT", 1, 2, "");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_uint_eq(m.update.nasks + m.update.nbids, 0);
	/* The largest 64-bit version. */
	mk_push(&e, "BTCUSDT", 18446744073709551615ULL, 18446744073709551615ULL,
		"");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert(m.update.last_id == UINT64_MAX);
}
END_TEST

START_TEST(test_binary_other)
{
	struct enc e = { .n = 0 }, body = { .n = 0 };
	struct mexc_msg m;

	/* A limit-depth push (303), a deals push (314), no body at all. */
	e_str(&e, 1, "spot@public.limit.depth.v3.api.pb@BTCUSDT@5");
	e_str(&e, 3, "BTCUSDT");
	e_str(&body, 4, "36913565463");
	e_sub(&e, 303, &body);
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	e.n = 0;
	e_str(&e, 1, "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT");
	e_sub(&e, 314, &body);
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	e.n = 0;
	e_str(&e, 1, "spot@x");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_int_eq(mexc_parse_binary(P, e.b, 0, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	/* A oneof: the last body wins. */
	mk_push(&e, "BTCUSDT", 1, 2, "b1=1");
	e_sub(&e, 303, &body);
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
}
END_TEST

/* A push with one part replaced, for the malformed cases. */
static int parse_body(const struct enc *body)
{
	struct enc e = { .n = 0 };
	struct mexc_msg m;
	int rc;

	e_str(&e, 1, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
	e_sub(&e, 313, body);
	rc = parse_enc(&e, &m);
	if (rc != 0)
		ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	return rc;
}

static int parse_versions(const char *from, const char *to, const char *lv)
{
	struct enc body = { .n = 0 };

	e_levels(&body, lv);
	if (from != NULL)
		e_str(&body, 4, from);
	if (to != NULL)
		e_str(&body, 5, to);
	return parse_body(&body);
}

START_TEST(test_binary_bad_body)
{
	struct enc body = { .n = 0 }, item = { .n = 0 };

	ck_assert_int_eq(parse_versions("1", "2", "b1=1"), 0);
	ck_assert_int_eq(parse_versions("3", "2", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions(NULL, "2", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", NULL, ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("", "2", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("-1", "2", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1 ", "2", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("0x10", "20", ""), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "18446744073709551616", ""),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "99999999999999999999", ""),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "2", "b1e5=1"), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "2", "b1=-1"), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "2", "a1=abc"), CORE_EPARSE);
	ck_assert_int_eq(parse_versions("1", "2",
					"b1.000000000000000000000000000000=1"),
			 CORE_EPARSE);
	/* An item without a quantity, a price sent as a varint. */
	e_str(&item, 1, "1");
	e_sub(&body, 2, &item);
	e_str(&body, 4, "1");
	e_str(&body, 5, "2");
	ck_assert_int_eq(parse_body(&body), CORE_EPARSE);
	body.n = item.n = 0;
	e_u64(&item, 1, 5);
	e_str(&item, 2, "1");
	e_sub(&body, 1, &item);
	e_str(&body, 4, "1");
	e_str(&body, 5, "2");
	ck_assert_int_eq(parse_body(&body), CORE_EPARSE);
	/* asks as a varint, fromVersion as a varint. */
	body.n = 0;
	e_u64(&body, 1, 5);
	e_str(&body, 4, "1");
	e_str(&body, 5, "2");
	ck_assert_int_eq(parse_body(&body), CORE_EPARSE);
	body.n = 0;
	e_u64(&body, 4, 1);
	e_str(&body, 5, "2");
	ck_assert_int_eq(parse_body(&body), CORE_EPARSE);
	/* An item whose length runs past the body. */
	body.n = 0;
	e_tag(&body, 2, 2);
	e_varint(&body, 40);
	e_str(&body, 1, "1");
	e_str(&body, 4, "1");
	e_str(&body, 5, "2");
	ck_assert_int_eq(parse_body(&body), CORE_EPARSE);
}
END_TEST

static int parse_raw(const unsigned char *b, size_t n)
{
	struct mexc_msg m;
	unsigned char *copy = malloc(n ? n : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, b, n);
	rc = mexc_parse_binary(P, copy, n, &m);
	free(copy);
	return rc;
}

START_TEST(test_binary_bad_wire)
{
	struct enc e = { .n = 0 }, body = { .n = 0 };
	static const unsigned char overlong[] = { 0x28, 0x80, 0x80, 0x80,
						  0x80, 0x80, 0x80, 0x80,
						  0x80, 0x80, 0x80, 0x01 };
	static const unsigned char bit64[] = { 0x28, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0x02 };
	static const unsigned char max64[] = { 0x28, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0xff, 0xff,
					       0xff, 0xff, 0x01 };
	static const unsigned char nonmin[] = { 0x28, 0x80, 0x00 };
	static const unsigned char field0[] = { 0x02, 0x00 };
	static const unsigned char group[] = { 0x0b, 0x0c };
	static const unsigned char endgroup[] = { 0x0c };
	static const unsigned char wt6[] = { 0x0e, 0x00 };
	static const unsigned char wt7[] = { 0x0f, 0x00 };
	static const unsigned char longlen[] = { 0x0a, 0x05, 'a', 'b' };
	static const unsigned char hugelen[] = { 0x0a, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0xff, 0xff,
						 0xff, 0xff, 0x01 };
	static const unsigned char fixed64[] = { 0x39, 1, 2, 3, 4, 5, 6, 7 };
	static const unsigned char fixed32[] = { 0x3d, 1, 2, 3 };
	static const unsigned char chan_varint[] = { 0x08, 0x01 };
	static const unsigned char time_str[] = { 0x32, 0x01, '1' };
	static const unsigned char body_varint[] = { 0xc8, 0x13, 0x01 };
	static const unsigned char bigfield[] = { 0xf8, 0xff, 0xff, 0xff,
						  0xff, 0x01, 0x00 };

	ck_assert_int_eq(parse_raw(overlong, sizeof(overlong)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(bit64, sizeof(bit64)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(max64, sizeof(max64)), 0);
	ck_assert_int_eq(parse_raw(nonmin, sizeof(nonmin)), 0);
	ck_assert_int_eq(parse_raw(field0, sizeof(field0)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(group, sizeof(group)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(endgroup, sizeof(endgroup)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(wt6, sizeof(wt6)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(wt7, sizeof(wt7)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(longlen, sizeof(longlen)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(hugelen, sizeof(hugelen)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(fixed64, sizeof(fixed64)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(fixed32, sizeof(fixed32)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(chan_varint, sizeof(chan_varint)),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_raw(time_str, sizeof(time_str)), CORE_EPARSE);
	ck_assert_int_eq(parse_raw(body_varint, sizeof(body_varint)),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_raw(bigfield, sizeof(bigfield)), CORE_EPARSE);
	/* The same body twice; a bad symbol; neither symbol nor channel. */
	body.n = 0;
	e_str(&body, 4, "1");
	e_str(&body, 5, "2");
	mk_push(&e, "BTCUSDT", 1, 2, "b1=1");
	ck_assert_int_eq(parse_raw(e.b, e.n), 0);
	e_sub(&e, 313, &body);
	ck_assert_int_eq(parse_raw(e.b, e.n), CORE_EPARSE);
	mk_push(&e, "btcusdt", 1, 2, "b1=1");
	ck_assert_int_eq(parse_raw(e.b, e.n), CORE_EPARSE);
	e.n = 0;
	e_str(&e, 4, "1");
	e_sub(&e, 313, &body);
	ck_assert_int_eq(parse_raw(e.b, e.n), CORE_EPARSE);
}
END_TEST

/*
 * Every prefix of the real vector, and every byte of it set to each of a
 * few values, parses or fails with CORE_EPARSE. Each input is a fresh
 * heap copy of exactly its length, so ASan catches any read past it.
 */
START_TEST(test_binary_truncate_mutate)
{
	static const unsigned char vals[] = { 0x00, 0x01, 0x7f, 0x80, 0xff,
					      0x0a, 0x12, 0x2a, 0x30 };
	unsigned char *bin;
	size_t blen, ok = 0;

	bin = (unsigned char *)rs_read(
		"mexc/encoded_ws_aggre_depth_BTCUSDC.bin", &blen);
	for (size_t n = 0; n < blen; n++) {
		int rc = parse_raw(bin, n);

		ck_assert_msg(rc == 0 || rc == CORE_EPARSE, "prefix %zu", n);
		ok += rc == 0;
	}
	/* Whole fields end at some prefixes: those parse, as UNKNOWN. */
	ck_assert_uint_gt(ok, 0);
	for (size_t i = 0; i < blen; i++) {
		unsigned char keep = bin[i];

		for (size_t v = 0; v < sizeof(vals); v++) {
			int rc;

			bin[i] = vals[v];
			rc = parse_raw(bin, blen);
			ck_assert_msg(rc == 0 || rc == CORE_EPARSE,
				      "byte %zu = %u", i, vals[v]);
		}
		bin[i] = keep;
	}
	ck_assert_int_eq(parse_raw(bin, blen), 0);
	free(bin);
}
END_TEST

/* More levels than the parser holds: CORE_ETOOBIG, nothing half-kept. */
START_TEST(test_binary_too_many)
{
	struct mexc_parser *small = mexc_parser_new(9);
	struct enc e;
	struct mexc_msg m;

	ck_assert_ptr_nonnull(small);
	mk_push(&e, "BTCUSDT", 1, 2, "b1=1 b2=1 b3=1 a4=1");
	ck_assert_int_eq(mexc_parse_binary(small, e.b, e.n, &m), 0);
	mk_push(&e, "BTCUSDT", 1, 2, "b1=1 b2=1 b3=1 a4=1 a5=1");
	ck_assert_int_eq(mexc_parse_binary(small, e.b, e.n, &m), CORE_ETOOBIG);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_uint_eq(m.update.nbids + m.update.nasks, 0);
	mexc_parser_free(small);
	mexc_parser_free(NULL);
}
END_TEST

/* ------------------------------------------------------------ sync */

struct srec {
	int fetches, gaps, snapshots;
	size_t rows;
};

static void s_row(void *ctx, const struct sync_row *r)
{
	((struct srec *)ctx)->rows += r != NULL;
}

static void s_event(void *ctx, const struct sync_event *ev)
{
	struct srec *r = ctx;

	r->gaps += ev->kind == SYNC_EV_GAP;
	r->snapshots += ev->kind == SYNC_EV_SNAPSHOT;
}

static void s_fetch(void *ctx, const char *sym)
{
	(void)sym;
	((struct srec *)ctx)->fetches++;
}

static struct sync *s_new(struct srec *r)
{
	struct sync_cfg cfg = { .window = 1000 };
	struct sync_cbs cbs = { .ctx = r,
				.row = s_row,
				.event = s_event,
				.fetch_snapshot = s_fetch };
	struct sync *s = sync_new("BTCUSDT", SYNC_MODE_SNAPSHOT, &cfg, &cbs);

	ck_assert_ptr_nonnull(s);
	memset(r, 0, sizeof(*r));
	sync_on_subscribed(s, 1);
	ck_assert_int_eq(r->fetches, 1);
	return s;
}

static void s_push(struct sync *s, uint64_t from, uint64_t to,
		   const char *levels)
{
	struct enc e;
	struct mexc_msg m;

	mk_push(&e, "BTCUSDT", from, to, levels);
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	ck_assert_int_eq(sync_on_update(s, &m.update, 2), 0);
}

static void s_snap(struct sync *s, const char *json)
{
	struct sync_snapshot snap;

	ck_assert_int_eq(mexc_parse_snapshot(P, json, strlen(json), &snap), 0);
	ck_assert_int_eq(sync_on_snapshot(s, &snap, 3), 0);
}

static const char SNAP100[] = "{\"lastUpdateId\":100,\"bids\":[[\"10\",\"1\"],"
			      "[\"9\",\"2\"]],\"asks\":[[\"11\",\"1\"],"
			      "[\"12\",\"5\"]]}";

static const char *amount_at(struct sync *s, int side, size_t i)
{
	const struct book_level *l = book_level(sync_book(s), side, i);

	return l != NULL ? l->amount : "";
}

/*
 * §2.6 with its correction: pushes ending at or before V are dropped;
 * the first applied one has from <= V+1 <= to (an exactly contiguous
 * from == V+1 included); then from == previous to + 1, else a gap.
 */
START_TEST(test_sync_bridge)
{
	struct srec r;
	struct sync *s = s_new(&r);

	s_push(s, 90, 95, "b10=7");
	s_push(s, 96, 100, "b10=8");
	s_push(s, 98, 102, "b10=3 a11=0");
	s_push(s, 103, 105, "a13=2");
	s_snap(s, SNAP100);
	ck_assert(sync_synced(s));
	ck_assert(sync_last_id(s) == 105);
	ck_assert_str_eq(amount_at(s, BOOK_BID, 0), "3");
	ck_assert_str_eq(amount_at(s, BOOK_ASK, 0), "5");
	ck_assert_str_eq(amount_at(s, BOOK_ASK, 1), "2");
	s_push(s, 106, 106, "b9=0");
	ck_assert(sync_last_id(s) == 106);
	ck_assert_uint_eq(book_count(sync_book(s), BOOK_BID), 1);
	ck_assert_int_eq(r.gaps, 0);
	/* A push that skips ids is a gap and a new snapshot is asked. */
	s_push(s, 108, 110, "b10=1");
	ck_assert_int_eq(r.gaps, 1);
	ck_assert(!sync_synced(s));
	ck_assert_int_eq(r.fetches, 2);
	sync_free(s);

	/* from == V+1 bridges. */
	s = s_new(&r);
	s_push(s, 101, 104, "b10=4");
	s_snap(s, SNAP100);
	ck_assert(sync_synced(s));
	ck_assert(sync_last_id(s) == 104);
	ck_assert_str_eq(amount_at(s, BOOK_BID, 0), "4");
	sync_free(s);

	/* from > V+1 cannot bridge: another snapshot is asked. */
	s = s_new(&r);
	s_push(s, 102, 104, "b10=4");
	s_snap(s, SNAP100);
	ck_assert(!sync_synced(s));
	ck_assert_int_eq(r.fetches, 2);
	sync_free(s);
}
END_TEST

static Suite *mexc_pb_suite(void)
{
	Suite *s = suite_create("recorder_mexc_pb");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_vector);
	tcase_add_test(tc, test_encoder_matches_vector);
	tcase_add_test(tc, test_binary_shapes);
	tcase_add_test(tc, test_binary_other);
	tcase_add_test(tc, test_binary_bad_body);
	tcase_add_test(tc, test_binary_bad_wire);
	tcase_add_test(tc, test_binary_truncate_mutate);
	tcase_add_test(tc, test_binary_too_many);
	tcase_add_test(tc, test_sync_bridge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(mexc_pb_suite());
}
