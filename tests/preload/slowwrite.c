/*
 * LD_PRELOAD shim for tests: a slow or stalled disk without FUSE. Every
 * write(2) to a regular file (not fds 0-2, so logs are untouched) is
 * throttled to BOOKTAPE_SLOWWRITE_BPS bytes a second, and waits while
 * the file named by BOOKTAPE_SLOWWRITE_STALL exists.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u),
			       (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) != 0)
		;
}

static void slow_down(int fd, size_t n)
{
	const char *bps = getenv("BOOKTAPE_SLOWWRITE_BPS");
	const char *stall = getenv("BOOKTAPE_SLOWWRITE_STALL");
	struct stat st;

	if (fd <= 2 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;
	while (stall != NULL && *stall != '\0' && access(stall, F_OK) == 0)
		sleep_ns(20000000u);
	if (bps != NULL) {
		unsigned long long r = strtoull(bps, NULL, 10);

		if (r > 0)
			sleep_ns((uint64_t)n * 1000000000u / r);
	}
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static write_fn real;

	if (real == NULL)
		real = (write_fn)dlsym(RTLD_NEXT, "write");
	slow_down(fd, n);
	return real(fd, buf, n);
}
