/*
 * Test helper: write recorder-shaped hourly CSV with the recorder's own
 * writer (core/hourfile), so rotate is tested on the real file layout.
 * usage: rotate-hourgen DATA_DIR EXCHANGE START HOURS ROWS_PER_HOUR
 * START is an ISO 8601 UTC hour; rows are spread over each hour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "hourfile.h"
#include "schema.h"
#include "timeutil.h"
#include "banned.h"

static int write_rows(struct hourfile *l2, struct hourfile *ev, const char *sym,
		      int64_t start, long hours, long rows)
{
	for (long h = 0; h < hours; h++) {
		for (long i = 0; i < rows; i++) {
			int64_t us = start + h * US_PER_HOUR +
				     i * (US_PER_HOUR - 1) / rows;
			char ts[24], lts[24], price[32], amt[32];
			const char *f[8] = { "gateio",
					     sym,
					     ts,
					     lts,
					     i < 10 ? "true" : "false",
					     i % 2 ? "ask" : "bid",
					     price,
					     amt };
			size_t len[8];

			snprintf(ts, sizeof(ts), "%lld", (long long)(us - 900));
			snprintf(lts, sizeof(lts), "%lld", (long long)us);
			snprintf(price, sizeof(price), "%ld.%02ld",
				 91000 + i % 500, i % 100);
			snprintf(amt, sizeof(amt), "%ld.%04ld", i % 7,
				 i % 9999);
			for (int k = 0; k < 8; k++)
				len[k] = strlen(f[k]);
			if (hourfile_append(l2, us, f, len, 8) != 0)
				return 1;
			if (i % 100 == 0) {
				const char *e[6] = {
					lts, "gap", "5",
					"9", "4",   "detail, with comma"
				};
				size_t el[6];

				for (int k = 0; k < 6; k++)
					el[k] = strlen(e[k]);
				if (hourfile_append(ev, us, e, el, 6) != 0)
					return 1;
			}
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct schema_set *set = NULL;
	struct hourfile *l2 = NULL, *ev = NULL;
	char *err = NULL;
	int64_t start;
	int rc = 1;

	if (argc != 6 || time_parse_iso(argv[3], &start) != 0) {
		fprintf(stderr, "usage: rotate-hourgen DATA_DIR EXCHANGE START "
				"HOURS ROWS\n");
		return 2;
	}
	if (schema_set_load(&set, &err) != 0) {
		fprintf(stderr, "schemas: %s\n", err ? err : "?");
		return 1;
	}
	struct hourfile_opts o = {
		.data_dir = argv[1],
		.exchange = argv[2],
		.symbol = "BTC_USDT",
		.schema = schema_set_find(set, "incremental_book_L2"),
		.buffer_size = 100,
	};
	struct hourfile_opts oe = o;

	oe.schema = schema_set_find(set, "book_events");
	if (hourfile_new(&l2, &o) == 0 && hourfile_new(&ev, &oe) == 0)
		rc = write_rows(l2, ev, "BTC_USDT", start,
				strtol(argv[4], NULL, 10),
				strtol(argv[5], NULL, 10));
	if (rc == 0 && (hourfile_close(l2) != 0 || hourfile_close(ev) != 0))
		rc = 1;
	hourfile_free(l2);
	hourfile_free(ev);
	schema_set_free(set);
	if (rc != 0)
		fprintf(stderr, "rotate-hourgen: writing failed\n");
	return rc;
}
