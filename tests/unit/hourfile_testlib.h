/*
 * Shared by the hourfile suites (check_hourfile, check_hourfile_recover):
 * a scratch data_dir with the schemas loaded and a fake clock, writers
 * for incremental_book_L2 and book_events, and file checks.
 */
#ifndef TESTS_UNIT_HOURFILE_TESTLIB_H
#define TESTS_UNIT_HOURFILE_TESTLIB_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "hourfile.h"
#include "schema.h"
#include "timeutil.h"
#include "testutil.h"

#define L2_HDR                                                              \
	"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price," \
	"amount\n"
#define EV_HDR                                                  \
	"local_timestamp,event,first_update_id,last_update_id," \
	"expected_update_id,detail\n"

static struct schema_set *set;
static const struct schema *l2, *ev;
static char *dir;
static int64_t fake_now;
static int64_t base_us; /* 2026-11-26T03:00:00Z */

static inline int64_t fake_clock(void)
{
	return fake_now;
}

static inline void setup(void)
{
	char *err;

	ck_assert_int_eq(schema_set_load(&set, &err), 0);
	l2 = schema_set_find(set, "incremental_book_L2");
	ev = schema_set_find(set, "book_events");
	ck_assert_int_eq(time_parse_iso("2026-11-26T03:00Z", &base_us), 0);
	dir = tu_tmpdir();
	fake_now = 1000000;
}

static inline void teardown(void)
{
	tu_rmtree(dir);
	dir = NULL;
	schema_set_free(set);
}

static inline struct hourfile *mk(const struct schema *s, size_t rows,
				  int64_t flush_us, int64_t fsync_us)
{
	struct hourfile_opts o = {
		.data_dir = dir,
		.exchange = "gateio",
		.symbol = "BTC_USDT",
		.schema = s,
		.buffer_size = rows,
		.flush_interval_us = flush_us,
		.fsync_interval_us = fsync_us,
		.clock_us = fake_clock,
	};
	struct hourfile *hf;

	ck_assert_int_eq(hourfile_new(&hf, &o), 0);
	return hf;
}

/* One incremental_book_L2 row. */
static inline int add_l2(struct hourfile *hf, int64_t local, const char *price,
			 const char *amount)
{
	char ts[32];
	const char *f[8] = { "gateio", "BTC_USDT", ts,	  ts,
			     "false",  "bid",	   price, amount };
	size_t l[8];

	snprintf(ts, sizeof(ts), "%lld", (long long)local);
	for (int i = 0; i < 8; i++)
		l[i] = strlen(f[i]);
	return hourfile_append(hf, local, f, l, 8);
}

static inline int add_ev(struct hourfile *hf, int64_t local, const char *event,
			 long long id, const char *detail)
{
	char ts[32], idb[32];
	const char *f[6] = { ts, event, idb, "", "", detail };
	size_t l[6];

	snprintf(ts, sizeof(ts), "%lld", (long long)local);
	snprintf(idb, sizeof(idb), "%lld", id);
	for (int i = 0; i < 6; i++)
		l[i] = strlen(f[i]);
	return hourfile_append(hf, local, f, l, 6);
}

static inline void path_of(char *p, size_t n, const char *ds, int64_t local)
{
	ck_assert_int_eq(hourfile_path_for(p, n, dir, "gateio", "BTC_USDT", ds,
					   local),
			 0);
}

/* The whole file, or "" if it does not exist. Caller frees. */
static inline char *slurp(const char *path)
{
	char *buf;
	size_t len;

	if (access(path, F_OK) != 0)
		return strdup("");
	ck_assert_int_eq(fs_read_file(path, 256u << 20, &buf, &len), 0);
	ck_assert_uint_eq(strlen(buf), len); /* no NUL bytes */
	return buf;
}

static inline void assert_file(const char *path, const char *want)
{
	char *got = slurp(path);

	ck_assert_str_eq(got, want);
	free(got);
}

/* Expected L2 line for add_l2(local, price, amount). */
static inline void l2_line(char *dst, size_t n, int64_t local,
			   const char *price, const char *amount)
{
	snprintf(dst, n, "gateio,BTC_USDT,%lld,%lld,false,bid,%s,%s\n",
		 (long long)local, (long long)local, price, amount);
}

/* An incremental_book_L2 writer that knows its blocks. */
static inline struct hourfile *mkb(size_t rows)
{
	struct hourfile_opts o = {
		.data_dir = dir,
		.exchange = "gateio",
		.symbol = "BTC_USDT",
		.schema = l2,
		.buffer_size = rows,
		.flush_interval_us = 3600 * US_PER_SEC,
		.fsync_interval_us = 3600 * US_PER_SEC,
		.clock_us = fake_clock,
		.block_column = "is_snapshot",
	};
	struct hourfile *hf;

	ck_assert_int_eq(hourfile_new(&hf, &o), 0);
	return hf;
}

/* Row i of a block ("true") or diff ("false") at local+i; its text is
 * appended to `text` when not NULL. */
static inline void add_row(struct hourfile *hf, int64_t local, bool snap, int i,
			   char *text, size_t size)
{
	char ts[32], price[32], line[256];
	const char *f[8] = { "gateio",
			     "BTC_USDT",
			     ts,
			     ts,
			     snap ? "true" : "false",
			     i % 2 ? "ask" : "bid",
			     price,
			     "1.5" };
	size_t l[8];

	snprintf(ts, sizeof(ts), "%lld", (long long)local);
	snprintf(price, sizeof(price), "%d.%d", 100 + i, i % 10);
	for (int k = 0; k < 8; k++)
		l[k] = strlen(f[k]);
	ck_assert_int_eq(hourfile_append(hf, local, f, l, 8), 0);
	if (text == NULL)
		return;
	snprintf(line, sizeof(line), "gateio,BTC_USDT,%s,%s,%s,%s,%s,1.5\n", ts,
		 ts, f[4], f[5], price);
	ck_assert_uint_lt(strlen(text) + strlen(line), size);
	memcpy(text + strlen(text), line, strlen(line) + 1);
}

static inline void add_rows(struct hourfile *hf, int64_t local, bool snap,
			    int n, char *text, size_t size)
{
	for (int i = 0; i < n; i++)
		add_row(hf, local, snap, i, text, size);
}

#endif
