/*
 * Allocation-failure torture (after curl's runtests -t), shared by the
 * torture suites: include it in one test program linked with malloc,
 * calloc, realloc, strdup, strndup and asprintf wrapped (see the
 * GNUmakefile). torture() runs a scenario again and again with the Nth
 * allocation failing, N = 1, 2, ... until a run meets no failure. Every
 * run must return cleanly (no crash; under the sanitizer build, no leak)
 * and, when it reports success, a whole result.
 */
#ifndef TESTS_TORTURE_H
#define TESTS_TORTURE_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* The wrapped allocators; the real ones are __real_*. */
void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);

static long fail_at; /* the allocation to fail (1-based), 0 = none */
static long allocs;  /* allocations seen in armed code this run */
static int armed;    /* counting: only the code under test, never check's */

/* Run one statement of code under test with allocations counted. */
#define ARMED(stmt)        \
	do {               \
		armed = 1; \
		stmt;      \
		armed = 0; \
	} while (0)

static int should_fail(void)
{
	return armed && fail_at != 0 && ++allocs == fail_at;
}

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t s);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);

void *__wrap_malloc(size_t n)
{
	return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t s)
{
	return should_fail() ? NULL : __real_calloc(n, s);
}

void *__wrap_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
	return should_fail() ? NULL : __real_strndup(s, n);
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (should_fail()) {
		*out = NULL;
		return -1;
	}
	va_start(ap, fmt);
	r = vasprintf(out, fmt, ap);
	va_end(ap);
	return r;
}

/*
 * Run `fn` with allocation 1, 2, ... failing until a run completes with
 * no failure injected; return how many failing runs there were.
 */
static long torture(int (*fn)(void *), void *arg)
{
	long n;

	for (n = 1; n < 100000; n++) {
		int rc;

		fail_at = n;
		allocs = 0;
		rc = fn(arg);
		fail_at = 0;
		if (allocs < n) {
			/* Nothing failed: the run must have succeeded. */
			ck_assert_msg(rc == 0, "clean run failed: %d", rc);
			return n - 1;
		}
	}
	ck_abort_msg("no clean run within 100000 allocations");
	return 0;
}

/* Did the run that just ended meet the injected failure? */
#define TORTURE_HIT() (fail_at != 0 && allocs >= fail_at)

#endif
