/*
 * Fuzz harness for rotate's CSV checks, which read files from disk that a
 * crash, a bad disk or a person may have mangled. The first byte picks a
 * dataset and a chunk size; the rest is a file. Invariants: the streaming
 * check gives the same verdict and row count however the bytes are
 * chunked; the torn-tail plan keeps at most the file, says why whenever
 * it cuts, and once applied to a file whose kept part checks clean,
 * planning again cuts nothing more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "csvcheck.h"
#include "fsutil.h"
#include "schema.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct schema_set *set;

static const struct schema *pick(uint8_t b)
{
	switch (b % 3) {
	case 0:
		return schema_set_find(set, "incremental_book_L2");
	case 1:
		return schema_set_find(set, "book_events");
	default:
		return schema_set_find(set, "book_snapshot_2");
	}
}

/* Check `len` bytes fed in pieces of `chunk`; the verdict and rows. */
static int check(const struct schema *s, const char *buf, size_t len,
		 size_t chunk, uint64_t *rows)
{
	struct csvcheck *c = csvcheck_new(s);
	bool has_times;
	int64_t first, last;
	int rc = 0;

	if (c == NULL)
		abort();
	for (size_t off = 0; off < len && rc == 0; off += chunk)
		rc = csvcheck_feed(c, buf + off,
				   len - off < chunk ? len - off : chunk);
	if (rc == 0)
		rc = csvcheck_finish(c, rows, &has_times, &first, &last);
	if (rc == 0 && has_times && first > last)
		abort();
	csvcheck_free(c);
	return rc;
}

static void check_tail(const struct schema *s, const char *buf, size_t len)
{
	char path[] = "/tmp/fuzz-csvcheck.XXXXXX";
	struct tail_plan plan, again;
	uint64_t rows;
	int fd = mkstemp(path);

	if (fd < 0 || fs_write_full(fd, buf, len) != 0)
		abort();
	if (csvcheck_tail(path, s, &plan) == 0) {
		if (plan.size != len || plan.keep > plan.size)
			abort();
		if ((plan.keep < plan.size) != (plan.reason != NULL))
			abort();
		if (ftruncate(fd, (off_t)plan.keep) != 0)
			abort();
		if (check(s, buf, (size_t)plan.keep, 4096, &rows) == 0 &&
		    csvcheck_tail(path, s, &again) == 0 &&
		    again.keep != plan.keep)
			abort();
	}
	close(fd);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct schema *s;
	const char *buf = (const char *)data + 1;
	uint64_t rows1 = 0, rows2 = 0;
	size_t len, chunk;
	int rc1, rc2;

	if (set == NULL) {
		char *err = NULL;

		if (schema_set_load(&set, &err) != 0)
			abort();
	}
	if (size < 1)
		return 0;
	s = pick(data[0]);
	if (s == NULL)
		abort();
	len = size - 1;
	chunk = (size_t)(data[0] >> 2) + 1;
	rc1 = check(s, buf, len, len ? len : 1, &rows1);
	rc2 = check(s, buf, len, chunk, &rows2);
	if (rc1 != rc2 || (rc1 == 0 && rows1 != rows2))
		abort();
	check_tail(s, buf, len);
	return 0;
}
