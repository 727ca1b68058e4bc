/*
 * Unit suite for core/hostport, the one host:port rule of metrics_listen
 * (config and the recorder's listener) and sftp URLs. The cases were the
 * recorder's httpd_split_listen tests; port 0, which httpd accepted and
 * config refused, is now refused by both.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "hostport.h"
#include "testutil.h"
#include "banned.h"

static int split(const char *s, char *host, size_t hostsz)
{
	const char *why = NULL;
	int port = hostport_parse(s, strlen(s), 0, host, hostsz, &why);

	ck_assert(port > 0 || why != NULL);
	return port;
}

START_TEST(test_split_listen)
{
	char host[64];

	ck_assert_int_eq(split("127.0.0.1:8000", host, sizeof(host)), 8000);
	ck_assert_str_eq(host, "127.0.0.1");
	ck_assert_int_eq(split("[::1]:9101", host, sizeof(host)), 9101);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_eq(split("localhost:65535", host, sizeof(host)), 65535);
	ck_assert_str_eq(host, "localhost");
}
END_TEST

START_TEST(test_split_listen_bad)
{
	static const char *const bad[] = {
		"127.0.0.1",  ":8000",	  "127.0.0.1:",	 "127.0.0.1:x",
		"host:65536", "host:-1",  "[::1]9101",	 "[::1",
		"h:8000 ",    "",	  "localhost:0", "h:08000",
		"::1:8000",   "[::g]:80", "ho_st:80",
	};
	char host[8];

	for (size_t i = 0; i < CORE_ARRAY_LEN(bad); i++)
		ck_assert_msg(split(bad[i], host, sizeof(host)) == CORE_EINVAL,
			      "accepted '%s'", bad[i]);
	/* A host longer than the buffer is refused, not cut. */
	ck_assert_int_eq(split("averylonghostname:1", host, sizeof(host)),
			 CORE_EINVAL);
}
END_TEST

START_TEST(test_default_port)
{
	const char *why;
	char host[64];

	ck_assert_int_eq(hostport_parse("a.b", 3, 22, host, sizeof(host), &why),
			 22);
	ck_assert_str_eq(host, "a.b");
	ck_assert_int_eq(
		hostport_parse("[::1]", 5, 22, host, sizeof(host), &why), 22);
	ck_assert_str_eq(host, "::1");
	/* Only the first len bytes count. */
	ck_assert_int_eq(hostport_parse("h:2222/x", 6, 22, host, sizeof(host),
					&why),
			 2222);
	ck_assert_int_eq(hostport_parse("h:0", 3, 22, host, sizeof(host), &why),
			 CORE_EINVAL);
	ck_assert_str_eq(why, "the port must be 1..65535");
}
END_TEST

static Suite *hostport_suite(void)
{
	Suite *s = suite_create("hostport");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_split_listen);
	tcase_add_test(tc, test_split_listen_bad);
	tcase_add_test(tc, test_default_port);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hostport_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
