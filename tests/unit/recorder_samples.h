/*
 * Helpers for the recorder suites: locate and read the captured exchange
 * samples: $BOOKTAPE_SAMPLES, else tests/data/samples (a copy of
 * shared/protocols/samples/gateio) relative to the repository root,
 * where make check runs; and compare a parsed level with its texts.
 */
#ifndef TESTS_UNIT_RECORDER_SAMPLES_H
#define TESTS_UNIT_RECORDER_SAMPLES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "book.h"
#include "fsutil.h"

static inline const char *rs_dir(void)
{
	const char *e = getenv("BOOKTAPE_SAMPLES");

	return e != NULL && *e != '\0' ? e : "tests/data/samples";
}

/* Read samples/<rel> whole; fails the test when missing. Caller frees. */
static inline char *rs_read(const char *rel, size_t *len)
{
	char path[1024];
	char *buf;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", rs_dir(), rel);
	rc = fs_read_file(path, 16u << 20, &buf, len);
	if (rc != 0)
		ck_abort_msg("read sample '%s': %s (set BOOKTAPE_SAMPLES)",
			     path, core_strerror(rc));
	return buf;
}

/* Strip trailing white space (sample files end with a newline). */
static inline size_t rs_trim(const char *buf, size_t len)
{
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
			   buf[len - 1] == ' '))
		len--;
	return len;
}

/*
 * Split a JSONL buffer into lines in place: fills starts/lens (up to
 * max) and returns the count of non-empty lines.
 */
static inline size_t rs_lines(char *buf, size_t len, const char **starts,
			      size_t *lens, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		size_t e = i;

		while (e < len && buf[e] != '\n')
			e++;

		if (e > i) {
			starts[n] = buf + i;
			lens[n] = rs_trim(buf + i, e - i);
			n++;
		}
		i = e + 1;
	}
	return n;
}

/* A parsed level spans exactly the texts p and a. */
static inline void rs_assert_change(const struct book_change *c, const char *p,
				    const char *a)
{
	ck_assert_uint_eq(c->price_len, strlen(p));
	ck_assert_int_eq(memcmp(c->price, p, c->price_len), 0);
	ck_assert_uint_eq(c->amount_len, strlen(a));
	ck_assert_int_eq(memcmp(c->amount, a, c->amount_len), 0);
}

/* Run a suite the project's way: fail if any test failed or none ran. */
static inline int rs_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed, run;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	run = srunner_ntests_run(sr);
	srunner_free(sr);
	return failed == 0 && run > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
