/*
 * CSV checks for booktape-rotate: a streaming checker fed the very
 * bytes that go into the archive (header, field count and types of every
 * row, whole lines) and the torn-tail finder that decides, before
 * archiving, how many bytes of a live file are kept.
 */
#ifndef ROTATE_CSVCHECK_H
#define ROTATE_CSVCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "sha256.h"

/* Hard cap on one CSV row (a book_snapshot_1000 row is ~40 KiB). */
#define CHECK_ROW_MAX (1u << 20)

struct csvcheck;

/* A checker for one file of schema `s` (borrowed). NULL on ENOMEM. */
struct csvcheck *csvcheck_new(const struct schema *s);
/* NULL-safe. */
void csvcheck_free(struct csvcheck *c);

/*
 * Feed the next bytes of the file. Returns 0, or CORE_ESCHEMA /
 * CORE_EPARSE / CORE_ETOOBIG at the first bad row (the reason is kept for
 * csvcheck_why). Signature fits tarball_chunk_fn (ud is the checker).
 */
int csvcheck_feed(void *ud, const char *buf, size_t len);

/*
 * End of file: the data must end with a newline (or be empty). Returns 0
 * with the data row count and the smallest and largest local_timestamp
 * (*has_times false when there is no data row), or an error as above.
 */
int csvcheck_finish(struct csvcheck *c, uint64_t *rows, bool *has_times,
		    int64_t *first, int64_t *last);

/* "line N: reason" for the last failure; valid until csvcheck_free. */
const char *csvcheck_why(const struct csvcheck *c);

/* What csvcheck_tail decided for a live file. */
struct tail_plan {
	uint64_t size; /* the file's size now */
	uint64_t keep; /* bytes to archive; size - keep are cut */
	char cut_sha256[SHA256_HEX_LEN]; /* of the cut bytes, when any */
	const char *reason; /* "partial line" | "bad last line" | NULL */
};

/*
 * Find a torn tail in the file at `path` of schema `s`: bytes after the
 * last newline ("partial line"), and a complete last data line that fails
 * the schema check ("bad last line", e.g. NULs a crash left behind). The
 * header line is never cut. Returns 0 and *plan, or CORE_ESYS (errno) /
 * CORE_ENOMEM.
 */
int csvcheck_tail(const char *path, const struct schema *s,
		  struct tail_plan *plan);

#endif
