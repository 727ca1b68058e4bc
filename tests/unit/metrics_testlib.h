/*
 * Shared by the metrics suites (check_metrics, check_metrics_render,
 * check_metrics_proc): a registry's rendering checked exactly.
 */
#ifndef TESTS_UNIT_METRICS_TESTLIB_H
#define TESTS_UNIT_METRICS_TESTLIB_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Render m and compare with the expected text exactly. */
static inline void assert_render(struct metrics *m, const char *want)
{
	char *text;
	size_t len;

	ck_assert_int_eq(metrics_render(m, &text, &len), 0);
	ck_assert_str_eq(text, want);
	ck_assert_uint_eq(len, strlen(want));
	free(text);
}

#endif
