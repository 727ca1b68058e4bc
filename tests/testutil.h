/*
 * Helpers shared by the unit suites: scratch directories and small file
 * utilities. Test code may abort on setup failure.
 */
#ifndef TESTS_TESTUTIL_H
#define TESTS_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Timeout multiplier for sanitizer builds (BOOKTAPE_TIMEOUT_MULTIPLIER). */
static inline int tu_timeout_mult(void)
{
	const char *m = getenv("BOOKTAPE_TIMEOUT_MULTIPLIER");
	long v = m ? strtol(m, NULL, 10) : 1;

	return v > 0 ? (int)v : 1;
}

#endif
