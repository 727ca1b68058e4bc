/*
 * Shared by the rotate unit suites (scan, seal, retain): a data_dir
 * sandbox with a rotate_ctx, and book_events hour files in the live
 * layout.
 */
#ifndef TESTS_ROTATE_TESTLIB_H
#define TESTS_ROTATE_TESTLIB_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "rotate.h"
#include "schema.h"
#include "testutil.h"
#include "timeutil.h"

#define RT_HEADER                                               \
	"local_timestamp,event,first_update_id,last_update_id," \
	"expected_update_id,detail\n"

struct rt {
	char *dir;
	struct rotate_config cfg;
	struct rotate_ctx ctx;
};

/* A sandbox data_dir, grace 0, keep_days 1, the embedded schemas. */
static inline void rt_init(struct rt *t)
{
	char *err = NULL;

	memset(t, 0, sizeof(*t));
	t->dir = tu_tmpdir();
	t->cfg.data_dir = t->dir;
	t->cfg.textfile_dir = t->dir;
	t->cfg.gzip_level = 1;
	t->cfg.keep_days = 1;
	t->ctx.cfg = &t->cfg;
	ck_assert_int_eq(schema_set_load(&t->ctx.schemas, &err), 0);
}

static inline void rt_release(struct rt *t)
{
	schema_set_free(t->ctx.schemas);
	tu_rmtree(t->dir);
}

/* The start of `date` `hh` (UTC), in µs. */
static inline int64_t rt_hour(const char *date, const char *hh)
{
	int64_t us;

	ck_assert_int_eq(time_from_date_hour(date, hh, &us), 0);
	return us;
}

/*
 * <data_dir>/live/<ex>/<date>/<hh>/BTC_USDT.book_events.csv with `rows`
 * rows in that hour, then `tail` (a torn end, may be "").
 */
static inline void rt_make_hour(struct rt *t, const char *ex, const char *date,
				const char *hh, int rows, const char *tail)
{
	char dir[1024], path[1100];
	int64_t start = rt_hour(date, hh);
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/live/%s/%s/%s", t->dir, ex, date, hh);
	ck_assert_int_eq(fs_mkdir_p(dir, 0750), 0);
	snprintf(path, sizeof(path), "%s/BTC_USDT.book_events.csv", dir);
	fp = fopen(path, "we");
	ck_assert_ptr_nonnull(fp);
	fputs(RT_HEADER, fp);
	for (int i = 0; i < rows; i++)
		fprintf(fp, "%lld,update,%d,%d,,\n",
			(long long)(start + i * 1000), i + 1, i + 1);
	fputs(tail, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

#endif
