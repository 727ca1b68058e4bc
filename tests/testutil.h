/*
 * Helpers shared by the unit suites: scratch directories, small file
 * utilities, a loopback listener for a test's own server. Test code may
 * abort on setup failure.
 */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* mkdtemp under $TMPDIR (or /tmp); aborts on failure. Caller frees. */
static inline char *tu_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	size_t n;
	char *p;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	n = strlen(base) + 32;
	p = malloc(n);
	if (p == NULL)
		abort();
	snprintf(p, n, "%s/booktape-test.XXXXXX", base);
	if (mkdtemp(p) == NULL)
		abort();
	return p;
}

/* rm -rf dir, then free it. */
static inline void tu_rmtree(char *dir)
{
	char cmd[4096];

	if (dir == NULL)
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(dir);
}

/* Write a whole file (not crash-safe; for fixtures). Aborts on failure. */
static inline void tu_write(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	if (fp == NULL || fwrite(data, 1, len, fp) != len || fclose(fp) != 0)
		abort();
}

/* A TCP socket listening on a free port of 127.0.0.1 (its number in
 * *port), for a server a test runs itself. Aborts on failure. */
static inline int tu_listen_loopback(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(fd, 4) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0)
		abort();
	*port = ntohs(a.sin_port);
	return fd;
}

/* Timeout multiplier for sanitizer builds (BOOKTAPE_TIMEOUT_MULTIPLIER). */
static inline int tu_timeout_mult(void)
{
	const char *m = getenv("BOOKTAPE_TIMEOUT_MULTIPLIER");
	long v = m ? strtol(m, NULL, 10) : 1;

	return v > 0 ? (int)v : 1;
}

#endif
