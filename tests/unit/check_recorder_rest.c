/*
 * Unit suite for recorder/rest: GETs on an lws loop against a one-shot
 * HTTP server on 127.0.0.1 (a thread in this test), a refused
 * connection, and URLs rest_get will not start.
 */
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "core.h"
#include "resolve.h"
#include "rest.h"
#include "testutil.h"
#include "banned.h"

struct server {
	int fd, port;
	const char *response;
	pthread_t th;
};

struct result {
	int calls, status, retry_after;
	char body[256], error[128];
};

/* Accept one connection, read the request head, answer, close. */
static void *serve_once(void *arg)
{
	struct server *s = arg;
	char req[4096];
	size_t have = 0;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	while (have < sizeof(req) - 1) {
		ssize_t n = read(c, req + have, sizeof(req) - 1 - have);

		if (n <= 0)
			break;
		have += (size_t)n;
		req[have] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	if (write(c, s->response, strlen(s->response)) < 0)
		perror("write");
	close(c);
	return NULL;
}

static void server_start(struct server *s, const char *response)
{
	s->response = response;
	s->fd = tu_listen_loopback(&s->port);
	ck_assert_int_eq(pthread_create(&s->th, NULL, serve_once, s), 0);
}

static void server_stop(struct server *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->fd);
}

static void on_done(void *ud, int status, const char *body, size_t len,
		    int retry_after_s, const char *error)
{
	struct result *r = ud;

	r->calls++;
	r->status = status;
	r->retry_after = retry_after_s;
	snprintf(r->body, sizeof(r->body), "%.*s", (int)len, body);
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
}

struct loop {
	struct lws_context *cx;
	struct lws_vhost *vh;
};

static void loop_start(struct loop *l)
{
	static struct lws_protocols protos[2];
	struct lws_context_creation_info info, vi;

	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	l->cx = lws_create_context(&info);
	ck_assert_ptr_nonnull(l->cx);
	ck_assert_int_eq(resolve_init(l->cx), 0);
	memset(protos, 0, sizeof(protos));
	protos[0] = *rest_protocol();
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "client";
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = protos;
	l->vh = lws_create_vhost(l->cx, &vi);
	ck_assert_ptr_nonnull(l->vh);
}

/* Service the loop until `done` reports (10 s at most). */
static void loop_until(struct loop *l, const struct result *r)
{
	for (int i = 0; i < 1000 * tu_timeout_mult() && r->calls == 0; i++) {
		lws_service(l->cx, 10);
		resolve_dispatch();
	}
}

static void loop_stop(struct loop *l)
{
	rest_shutdown();
	resolve_shutdown();
	lws_context_destroy(l->cx);
}

START_TEST(test_get_body_and_status)
{
	struct server s;
	struct loop l;
	struct result r = { 0 };
	char url[128];

	server_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			 "Content-Length: 15\r\nConnection: close\r\n\r\n"
			 "{\"lastUpdateId\"");
	loop_start(&l);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/api/v3/depth?x=1",
		 s.port);
	ck_assert_int_eq(rest_get(l.cx, l.vh, url, 5, on_done, &r), 0);
	ck_assert_int_eq(r.calls, 0); /* never from inside rest_get */
	loop_until(&l, &r);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "{\"lastUpdateId\"");
	ck_assert_int_eq(r.retry_after, -1);
	ck_assert_str_eq(r.error, "");
	loop_stop(&l);
	server_stop(&s);
}
END_TEST

START_TEST(test_retry_after)
{
	struct server s;
	struct loop l;
	struct result r = { 0 };
	char url[128];

	server_start(&s, "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\n"
			 "Content-Length: 0\r\nConnection: close\r\n\r\n");
	loop_start(&l);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", s.port);
	ck_assert_int_eq(rest_get(l.cx, l.vh, url, 5, on_done, &r), 0);
	loop_until(&l, &r);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, 429);
	ck_assert_int_eq(r.retry_after, 7);
	loop_stop(&l);
	server_stop(&s);
}
END_TEST

START_TEST(test_refused_and_bad_urls)
{
	struct server s;
	struct loop l;
	struct result r = { 0 };
	char url[128];
	int port;

	/* A port that was just free: nothing listens there now. */
	server_start(&s, "");
	port = s.port;
	server_stop(&s);
	loop_start(&l);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	ck_assert_int_eq(rest_get(l.cx, l.vh, url, 5, on_done, &r), 0);
	loop_until(&l, &r);
	ck_assert_int_eq(r.calls, 1);
	ck_assert_int_eq(r.status, 0);
	ck_assert_str_ne(r.error, "");
	ck_assert_int_eq(rest_get(l.cx, l.vh, "ftp://127.0.0.1/", 5, on_done,
				  &r),
			 CORE_EINVAL);
	ck_assert_int_eq(r.calls, 1);
	loop_stop(&l);
}
END_TEST

static Suite *recorder_rest_suite(void)
{
	Suite *s = suite_create("recorder_rest");
	TCase *tc = tcase_create("recorder_rest");

	tcase_set_timeout(tc, 30 * tu_timeout_mult());
	tcase_add_test(tc, test_get_body_and_status);
	tcase_add_test(tc, test_retry_after);
	tcase_add_test(tc, test_refused_and_bad_urls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recorder_rest_suite());
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
