/* Unit suite for recorder/wsframe: the WebSocket wire format. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsframe.h"
#include "testutil.h"
#include "banned.h"

/* RFC 6455 §1.3's example key, and the Accept it calls for. */
static const unsigned char rfc_nonce[16] = "the sample nonce";
#define RFC_KEY	   "dGhlIHNhbXBsZSBub25jZQ=="
#define RFC_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

START_TEST(test_key)
{
	char key[WSF_KEY_LEN + 1], acc[WSF_ACCEPT_LEN + 1];

	ck_assert_int_eq(wsf_key(rfc_nonce, key, acc), 0);
	ck_assert_str_eq(key, RFC_KEY);
	ck_assert_str_eq(acc, RFC_ACCEPT);
}
END_TEST

START_TEST(test_request)
{
	char out[512];

	ck_assert_uint_gt(wsf_request(out, sizeof(out), "api.gateio.ws", 443, 1,
				      "/ws/v4/", RFC_KEY),
			  0);
	ck_assert_ptr_nonnull(strstr(out, "GET /ws/v4/ HTTP/1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(out, "\r\nHost: api.gateio.ws\r\n"));
	ck_assert_ptr_nonnull(
		strstr(out, "\r\nSec-WebSocket-Key: " RFC_KEY "\r\n"));
	ck_assert(strlen(out) > 4 &&
		  strcmp(out + strlen(out) - 4, "\r\n\r\n") == 0);
	ck_assert_uint_gt(wsf_request(out, sizeof(out), "127.0.0.1", 8443, 1,
				      "/ws", RFC_KEY),
			  0);
	ck_assert_ptr_nonnull(strstr(out, "\r\nHost: 127.0.0.1:8443\r\n"));
	ck_assert_uint_gt(
		wsf_request(out, sizeof(out), "::1", 80, 0, "/", RFC_KEY), 0);
	ck_assert_ptr_nonnull(strstr(out, "\r\nHost: ::1\r\n"));
	ck_assert_uint_eq(wsf_request(out, 40, "h", 443, 1, "/", RFC_KEY), 0);
}
END_TEST

static long check(const char *s, char *why)
{
	return wsf_check_response(s, strlen(s), 8192, RFC_ACCEPT, why, 128);
}

START_TEST(test_response)
{
	char why[128];
	const char *ok = "HTTP/1.1 101 Switching Protocols\r\n"
			 "upgrade: WebSocket\r\n"
			 "Connection: keep-alive, Upgrade\r\n"
			 "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n";
	char buf[1024];
	size_t n = strlen(ok);

	ck_assert_int_eq(check(ok, why), (long)n);
	/* Frames right behind the head are not part of it. */
	snprintf(buf, sizeof(buf), "%s\x81\x02hi", ok);
	ck_assert_int_eq(check(buf, why), (long)n);
	/* Incomplete: wait for more; past the limit: fail. */
	ck_assert_int_eq(wsf_check_response(ok, n - 1, 8192, RFC_ACCEPT, why,
					    sizeof(why)),
			 0);
	ck_assert_int_eq(wsf_check_response(ok, n - 1, n - 1, RFC_ACCEPT, why,
					    sizeof(why)),
			 -1);
	ck_assert_int_eq(check("HTTP/1.1 403 Forbidden\r\n\r\n", why), -1);
	ck_assert_ptr_nonnull(strstr(why, "403"));
	ck_assert_int_eq(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
			       "Connection: Upgrade\r\n"
			       "Sec-WebSocket-Accept: "
			       "s3pPLMBiTxaQ9kYGzzhZRbK+xOO=\r\n\r\n",
			       why),
			 -1);
	ck_assert_ptr_nonnull(strstr(why, "Accept"));
	ck_assert_int_eq(check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
			       "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
			       why),
			 -1);
	ck_assert_int_eq(
		check("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n"
		      "Connection: Upgrade\r\n"
		      "Sec-WebSocket-Extensions: permessage-deflate\r\n"
		      "Sec-WebSocket-Accept: " RFC_ACCEPT "\r\n\r\n",
		      why),
		-1);
	ck_assert_int_eq(check("SSH-2.0-OpenSSH\r\n\r\n", why), -1);
}
END_TEST

static int parse(const void *p, size_t n, struct wsf_frame *f)
{
	const char *why = NULL;

	return wsf_parse(p, n, f, &why);
}

START_TEST(test_parse)
{
	struct wsf_frame f;
	unsigned char b[16] = { 0x82, 126, 0x01, 0x00 };

	ck_assert_int_eq(parse("\x81", 1, &f), 0);
	ck_assert_int_eq(parse("\x81\x05", 2, &f), 1);
	ck_assert(f.fin && f.opcode == WSF_TEXT && f.len == 5 && f.hdrlen == 2);
	ck_assert_int_eq(parse("\x01\x03", 2, &f), 1);
	ck_assert(!f.fin && f.opcode == WSF_TEXT);
	ck_assert_int_eq(parse(b, 3, &f), 0);
	ck_assert_int_eq(parse(b, 4, &f), 1);
	ck_assert(f.opcode == WSF_BINARY && f.len == 256 && f.hdrlen == 4);
	b[1] = 127;
	memset(b + 2, 0, 8);
	b[7] = 0x01; /* 2^16 */
	ck_assert_int_eq(parse(b, 9, &f), 0);
	ck_assert_int_eq(parse(b, 10, &f), 1);
	ck_assert(f.len == 65536 && f.hdrlen == 10);
	b[2] = 0x80; /* top bit */
	ck_assert_int_eq(parse(b, 10, &f), -1);
	ck_assert_int_eq(parse("\x81\x85", 2, &f), -1); /* masked */
	ck_assert_int_eq(parse("\xc1\x00", 2, &f), -1); /* RSV1 */
	ck_assert_int_eq(parse("\x83\x00", 2, &f), -1); /* opcode 3 */
	ck_assert_int_eq(parse("\x09\x00", 2, &f), -1); /* fragmented ping */
	ck_assert_int_eq(parse("\x89\x7e", 2, &f), -1); /* long ping */
	ck_assert_int_eq(parse("\x8a\x7d", 2, &f), 1);	/* 125 is fine */
}
END_TEST

START_TEST(test_build)
{
	static unsigned char out[WSF_HDR_MAX + 70000], pay[70000];
	static const unsigned char mask[4] = { 1, 2, 3, 4 };
	static const size_t lens[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
	struct wsf_frame f;

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (unsigned char)(i * 7);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		size_t n = wsf_build(out, WSF_BINARY, pay, lens[i], mask);
		size_t h = lens[i] < 126 ? 2 : lens[i] < 65536 ? 4 : 10;

		ck_assert_uint_eq(n, h + 4 + lens[i]);
		ck_assert(out[1] & 0x80); /* a client masks */
		out[1] &= 0x7f;
		ck_assert_int_eq(parse(out, n, &f), 1);
		ck_assert_uint_eq(f.len, lens[i]);
		ck_assert_uint_eq(f.hdrlen, h);
		ck_assert_mem_eq(out + h, mask, 4);
		wsf_mask(out + h + 4, lens[i], mask);
		if (lens[i] > 0)
			ck_assert_mem_eq(out + h + 4, pay, lens[i]);
	}
}
END_TEST

static Suite *recorder_wsframe_suite(void)
{
	Suite *s = suite_create("recorder_wsframe");
	TCase *tc = tcase_create("recorder_wsframe");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_key);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_response);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_build);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_wsframe_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
