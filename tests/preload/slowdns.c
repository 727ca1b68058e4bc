/*
 * LD_PRELOAD shim for tests: a slow resolver without a DNS server.
 * getaddrinfo() for the name BOOKTAPE_SLOWDNS_HOST sleeps
 * BOOKTAPE_SLOWDNS_SECS, then answers 127.0.0.1; each such call appends
 * "main" or "thread" (was it the process's first thread?) to the file
 * BOOKTAPE_SLOWDNS_LOG. Other names go to the real resolver.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
		      struct addrinfo **);

static void note(const char *what)
{
	const char *path = getenv("BOOKTAPE_SLOWDNS_LOG");
	int fd;

	if (path == NULL)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, what, strlen(what)) < 0)
		(void)0;
	close(fd);
}

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	static gai_fn real;
	const char *slow = getenv("BOOKTAPE_SLOWDNS_HOST");
	const char *secs = getenv("BOOKTAPE_SLOWDNS_SECS");

	if (real == NULL)
		real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (node != NULL && slow != NULL && strcmp(node, slow) == 0) {
		struct timespec ts = { secs ? (time_t)strtol(secs, NULL, 10)
					    : 3,
				       0 };

		note(gettid() == getpid() ? "main\n" : "thread\n");
		while (nanosleep(&ts, &ts) != 0)
			;
		node = "127.0.0.1";
	}
	return real(node, service, hints, res);
}
