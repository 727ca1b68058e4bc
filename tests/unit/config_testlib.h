/*
 * Shared by the config suites (check_cfg, check_config,
 * check_config_rotate, check_config_backup): a minimal recorder config,
 * parsing that must fail, and config files in a scratch directory.
 */
#ifndef TESTS_UNIT_CONFIG_TESTLIB_H
#define TESTS_UNIT_CONFIG_TESTLIB_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "testutil.h"

/* A minimal valid recorder config; error cases append lines (line 4 on). */
#define BASE                          \
	"config:\n"                   \
	"  connector_name: gate_io\n" \
	"  trading_pairs: [BTC-USDT]\n"

static inline int parse(const char *yaml, struct recorder_config *cfg,
			char **err)
{
	return config_parse_recorder("t.yml", yaml, strlen(yaml), cfg, err);
}

/* Parse text that must be rejected; return the message (caller frees). */
static inline char *parse_err(const char *yaml)
{
	struct recorder_config cfg;
	char *err = NULL;

	ck_assert_int_eq(parse(yaml, &cfg, &err), CORE_ECONFIG);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_null(cfg.pairs);
	ck_assert_ptr_null(cfg.path);
	return err;
}

/* Remove every "<dir>/" from msg, so messages compare without tmpdirs. */
static inline void strip_dir(char *msg, const char *dir)
{
	char pat[512];
	char *p;
	size_t n = (size_t)snprintf(pat, sizeof(pat), "%s/", dir);

	while ((p = strstr(msg, pat)) != NULL)
		memmove(p, p + n, strlen(p + n) + 1);
}

static inline void write_file(const char *dir, const char *name,
			      const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", dir, name);
	tu_write(path, text, strlen(text));
}

struct err_case {
	const char *yaml;
	const char *want;
};

#endif
