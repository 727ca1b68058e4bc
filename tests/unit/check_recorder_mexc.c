/* Unit suite for recorder/mexc: request frames, symbol mapping, the real
 * protobuf test vector and the captured replies, malformed protobuf
 * (every truncation and byte flip of the vector), and the MEXC sync
 * recipe run through recorder/sync with decoded pushes. */
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

static void assert_change(const struct book_change *c, const char *p,
			  const char *a)
{
	ck_assert_uint_eq(c->price_len, strlen(p));
	ck_assert_int_eq(memcmp(c->price, p, c->price_len), 0);
	ck_assert_uint_eq(c->amount_len, strlen(a));
	ck_assert_int_eq(memcmp(c->amount, a, c->amount_len), 0);
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

/* ------------------------------------------------------------ builders */

START_TEST(test_build)
{
	const char *syms[MEXC_MAX_STREAMS + 1];
	char buf[4096];
	size_t len;

	ck_assert_int_eq(mexc_build_topic(buf, sizeof(buf), "BTCUSDT", "100ms",
					  &len),
			 0);
	ck_assert_str_eq(buf,
			 "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
	ck_assert_uint_eq(len, strlen(buf));
	syms[0] = "BTCUSDT";
	syms[1] = "ETHUSDT";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 2, "10ms",
					      true, 7, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"SUBSCRIPTION\",\"params\":["
			      "\"spot@public.aggre.depth.v3.api.pb@10ms@"
			      "BTCUSDT\",\"spot@public.aggre.depth.v3.api.pb@"
			      "10ms@ETHUSDT\"],\"id\":7}");
	ck_assert_uint_eq(len, strlen(buf));
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", false, 2, &len),
			 0);
	ck_assert_str_eq(buf, "{\"method\":\"UNSUBSCRIPTION\",\"params\":["
			      "\"spot@public.aggre.depth.v3.api.pb@100ms@"
			      "BTCUSDT\"],\"id\":2}");
	for (size_t i = 0; i <= MEXC_MAX_STREAMS; i++)
		syms[i] = "SOLUSDT";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms,
					      MEXC_MAX_STREAMS, "100ms", true,
					      1, &len),
			 0);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms,
					      MEXC_MAX_STREAMS + 1, "100ms",
					      true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 0,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1, "20ms",
					      true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "btcusdt";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "BTC\",\"X";
	ck_assert_int_eq(mexc_build_subscribe(buf, sizeof(buf), syms, 1,
					      "100ms", true, 1, &len),
			 CORE_EINVAL);
	syms[0] = "BTCUSDT";
	/* Every size short of the whole request is too small. */
	for (size_t sz = 1; sz < 90; sz++)
		ck_assert_int_eq(mexc_build_subscribe(buf, sz, syms, 1, "100ms",
						      true, 1, &len),
				 CORE_ETOOBIG);
	ck_assert_int_eq(mexc_build_ping(buf, sizeof(buf), &len), 0);
	ck_assert_str_eq(buf, "{\"method\":\"PING\"}");
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  1000, &len),
			 0);
	ck_assert_str_eq(buf, "/api/v3/depth?symbol=BTCUSDT&limit=1000");
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  5000, &len),
			 0);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  5001, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTCUSDT",
						  0, &len),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_build_snapshot_path(buf, sizeof(buf), "BTC&X", 10,
						  &len),
			 CORE_EINVAL);
	ck_assert(mexc_speed_valid("100ms") && mexc_speed_valid("10ms"));
	ck_assert(!mexc_speed_valid("1000ms") && !mexc_speed_valid(NULL));
}
END_TEST

START_TEST(test_symbols)
{
	char out[MEXC_SYMBOL_MAX];

	ck_assert_int_eq(
		mexc_symbol_from_normalized("BTC-USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "BTCUSDT");
	ck_assert_int_eq(
		mexc_symbol_from_normalized("1INCH-USDT", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "1INCHUSDT");
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT", out, 8), 0);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT", out, 7),
			 CORE_ETOOBIG);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTCUSDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("btc-usdt", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-USDT-X", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("-USDT", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC-", out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized("BTC_X-USDT", out,
						     sizeof(out)),
			 CORE_EINVAL);
	ck_assert_int_eq(mexc_symbol_from_normalized(
				 "AAAAAAAAAAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBB",
				 out, sizeof(out)),
			 CORE_EINVAL);
	ck_assert(mexc_symbol_valid("BTCUSDT"));
	ck_assert(!mexc_symbol_valid("BTC_USDT") && !mexc_symbol_valid(""));
}
END_TEST

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
	assert_change(&u->bids[0], "114838.84", "0.000101");
	assert_change(&u->asks[0], "115198.74", "0.068865");
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
	assert_change(&m.update.asks[0], "117145.49", "0");
	assert_change(&m.update.bids[0], "117053.41", "1.86837271");

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
		assert_change(&m.update.asks[i], px, q);
		if (i < 3) {
			snprintf(px, sizeof(px), "%zu", 9 - i);
			assert_change(&m.update.bids[i], px, q);
		}
	}
	mk_push(&e, "BTCUSDT", 5, 9, "a1=1 a2=2 a3=3");
	ck_assert_int_eq(parse_enc(&e, &m), 0);
	assert_change(&m.update.asks[0], "1", "1");
	assert_change(&m.update.asks[2], "3", "3");

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

/* ------------------------------------------------------------ text */

static void parse_sample(const char *name, struct mexc_msg *m)
{
	char rel[256], *buf;
	size_t len;

	snprintf(rel, sizeof(rel), "mexc/%s", name);
	buf = rs_read(rel, &len);
	ck_assert_msg(mexc_parse_text(P, buf, len, m) == 0, "%s", name);
	free(buf);
}

static int parse_str(const char *s, struct mexc_msg *m)
{
	return mexc_parse_text(P, s, strlen(s), m);
}

START_TEST(test_text_samples)
{
	struct mexc_msg m;

	parse_sample("docs_ws_pong_response.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_PONG);
	ck_assert(m.has_req_id && m.req_id == 0);
	parse_sample("docs_ws_subscribe_ack.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_str_eq(m.text,
			 "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT");
	parse_sample("docs_ws_unsubscribe_ack.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	parse_sample("ws_subscribe_rejected_blocked.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_ptr_nonnull(strstr(m.text, "Reason\xef\xbc\x9a Blocked!"));
	/* Requests, a decoded push and the retired JSON push: ignored. */
	parse_sample("docs_ws_subscribe_request.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("docs_ws_ping_request.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("hummingbot_ws_aggre_depth_decoded_BTCUSDC.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	parse_sample("legacy_json_increase_depth_pre2025.json", &m);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
}
END_TEST

START_TEST(test_text_replies)
{
	struct mexc_msg m;

	ck_assert_int_eq(
		parse_str("{\"id\":7,\"code\":0,\"msg\":\"spot@public.aggre."
			  "depth.v3.api.pb@100ms@BTCUSDT,spot@public.aggre."
			  "depth.v3.api.pb@10ms@ETHUSDT\"}",
			  &m),
		0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert(m.has_req_id && m.req_id == 7);
	ck_assert_uint_eq(m.ntopics, 2);
	ck_assert_str_eq(m.symbols[0], "BTCUSDT");
	ck_assert_str_eq(m.symbols[1], "ETHUSDT");
	/* Two topics refused, the escaped colon, a trailing space. */
	ck_assert_int_eq(
		parse_str("{\"id\":3,\"code\":0,\"msg\":\"Not Subscribed "
			  "successfully! [spot@public.aggre.depth.v3.api.pb@"
			  "100ms@NOPEUSDT,spot@public.limit.depth.v3.api.pb@"
			  "XYZUSDT@5].  Reason\\uff1a Blocked! \"}",
			  &m),
		0);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert(m.req_id == 3);
	ck_assert_uint_eq(m.ntopics, 2);
	ck_assert_str_eq(m.symbols[0], "NOPEUSDT");
	ck_assert_str_eq(m.symbols[1], "XYZUSDT");
	ck_assert_int_eq(parse_str("{\"id\":0,\"code\":0,\"msg\":\"Not "
				   "Subscribed successfully! [].  Reason: "
				   "Blocked!\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_REJECTED);
	ck_assert_uint_eq(m.ntopics, 0);
	/* A topic without a symbol keeps its slot empty. */
	ck_assert_int_eq(parse_str("{\"code\":0,\"msg\":\"spot@x@100ms\"}", &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert(!m.has_req_id);
	ck_assert_uint_eq(m.ntopics, 1);
	ck_assert_str_eq(m.symbols[0], "");
	/* Errors: a code, a msg that is no topic list. */
	ck_assert_int_eq(parse_str("{\"id\":5,\"code\":1,\"msg\":\"spot@public."
				   "aggre.depth.v3.api.pb@100ms@BTCUSDT\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert(m.code == 1 && m.req_id == 5);
	ck_assert_uint_eq(m.ntopics, 0);
	ck_assert_int_eq(parse_str("{\"id\":1,\"code\":0,\"msg\":\"Invalid "
				   "json\"}",
				   &m),
			 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert_str_eq(m.text, "Invalid json");
	ck_assert_int_eq(parse_str("{\"code\":0,\"msg\":\"\"}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	ck_assert_int_eq(
		parse_str("{\"code\":0,\"msg\":\"spot@a,,spot@b\"}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ERROR);
	/* Valid JSON we do not use; malformed JSON. */
	ck_assert_int_eq(parse_str("[1,2]", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_int_eq(parse_str("{\"msg\":5}", &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_UNKNOWN);
	ck_assert_int_eq(parse_str("{\"id\":0,\"code\":0,\"msg\":\"PO", &m),
			 CORE_EPARSE);
	ck_assert_int_eq(parse_str("", &m), CORE_EPARSE);
}
END_TEST

/* 31 topics: 30 symbols kept, the count says 31; a long msg is cut. */
START_TEST(test_text_many_topics)
{
	char buf[4096];
	struct mexc_msg m;
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf),
			     "{\"id\":9,\"code\":0,\"msg\":\"");
	for (int i = 0; i < 31; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "%sspot@public.aggre.depth.v3.api.pb@"
				      "100ms@S%dUSDT",
				      i ? "," : "", i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"}");
	ck_assert_int_eq(mexc_parse_text(P, buf, n, &m), 0);
	ck_assert_int_eq(m.type, MEXC_MSG_ACK);
	ck_assert_uint_eq(m.ntopics, 31);
	ck_assert_str_eq(m.symbols[0], "S0USDT");
	ck_assert_str_eq(m.symbols[29], "S29USDT");
	ck_assert_uint_eq(strlen(m.text), MEXC_TEXT_MAX - 1);
}
END_TEST

/* ------------------------------------------------------------ REST */

START_TEST(test_snapshot)
{
	struct sync_snapshot s;
	struct mexc_rest_error re;
	char *buf;
	size_t len;
	const char *str;

	buf = rs_read("mexc/docs_rest_depth.json", &len);
	ck_assert_int_eq(mexc_parse_snapshot(P, buf, len, &s), 0);
	ck_assert(s.id == 1112416);
	ck_assert_uint_eq(s.nbids, 1);
	ck_assert_uint_eq(s.nasks, 1);
	assert_change(&s.bids[0], "15.00000", "49999.00000");
	assert_change(&s.asks[0], "14.0000", "1.0000");
	free(buf);
	str = "{\"lastUpdateId\":\"43296363255\",\"timestamp\":1754741322152,"
	      "\"extra\":{\"x\":[1]},\"bids\":[[\"2\",\"1\"],[\"1\",\"3\"]],"
	      "\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s), 0);
	ck_assert(s.id == 43296363255ULL);
	ck_assert(s.ts_ms == 1754741322152);
	ck_assert_uint_eq(s.nbids, 2);
	ck_assert_uint_eq(s.nasks, 0);
	str = "{\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":-1,\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1.5,\"bids\":[],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1,\"bids\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"lastUpdateId\":1,\"bids\":[[\"1\",2]],\"asks\":[]}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	ck_assert_uint_eq(s.nbids, 0);
	str = "[1]";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	str = "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}";
	ck_assert_int_eq(mexc_parse_snapshot(P, str, strlen(str), &s),
			 CORE_EPARSE);
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re), 0);
	ck_assert(re.code == -1121);
	ck_assert_str_eq(re.msg, "Invalid symbol.");
	str = "{}";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re), 0);
	ck_assert(re.code == 0 && re.msg[0] == '\0');
	str = "<html>";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re),
			 CORE_EPARSE);
	str = "\"x\"";
	ck_assert_int_eq(mexc_parse_rest_error(P, str, strlen(str), &re),
			 CORE_EPARSE);
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

static Suite *mexc_suite(void)
{
	Suite *s = suite_create("recorder_mexc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build);
	tcase_add_test(tc, test_symbols);
	tcase_add_test(tc, test_vector);
	tcase_add_test(tc, test_encoder_matches_vector);
	tcase_add_test(tc, test_binary_shapes);
	tcase_add_test(tc, test_binary_other);
	tcase_add_test(tc, test_binary_bad_body);
	tcase_add_test(tc, test_binary_bad_wire);
	tcase_add_test(tc, test_binary_truncate_mutate);
	tcase_add_test(tc, test_binary_too_many);
	tcase_add_test(tc, test_text_samples);
	tcase_add_test(tc, test_text_replies);
	tcase_add_test(tc, test_text_many_topics);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_sync_bridge);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rs_run(mexc_suite());
}
