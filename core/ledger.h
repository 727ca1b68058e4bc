/*
 * The backup ledger, <data_dir>/state/backup-ledger.csv: an append-only
 * CSV that booktape-backup writes and booktape-rotate reads to decide
 * which local archives may be removed.
 *
 * Format (fixed; both programs depend on it):
 *
 *   time,archive,destination,status,bytes,sha256
 *   2026-11-26T04:07:12Z,gateio/2026-11-26/gateio_2026-11-26T03.tar.gz,nas,shipped,123456,<64
 * hex>
 *
 * - time: when the record was written, "YYYY-MM-DDTHH:MM:SSZ" (UTC).
 * - archive: the path relative to <data_dir>/archive, '/' separated, no
 *   leading '/', no "." or ".." components.
 * - destination: the destination name from backup.yml ([A-Za-z0-9_-]+).
 * - status: shipped | verified | failed | pruned_remote.
 *     shipped        uploaded, size and sha256 checked by the uploader
 *     verified       read back from the destination and sha256 matched
 *     failed         an upload or a verification failed
 *     pruned_remote  removed from the destination by remote retention
 * - bytes: the archive size; sha256: its lowercase hex SHA-256 (the
 *   value in the .sha256 sidecar).
 *
 * The state of an (archive, destination) pair is the status of its LAST
 * record in file order. An archive counts as "verified on D" when that
 * last record is `verified` (a later `failed` or `pruned_remote`
 * cancels it). Fields never need quoting (the names are restricted);
 * the parser nevertheless reads them with libcsv.
 *
 * Appends take an exclusive flock on the file, drop a torn last line a
 * crashed writer left (a record that never became durable, so its
 * writer redoes it), write one whole line with a single write(2) on an
 * O_APPEND descriptor and fdatasync. A missing or empty file gets the
 * header first. Readers ignore a torn (unterminated) last line.
 */
#ifndef CORE_LEDGER_H
#define CORE_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define LEDGER_HEADER "time,archive,destination,status,bytes,sha256"
/* Hard cap on one ledger line and on the whole file read by ledger_load. */
#define LEDGER_LINE_MAX 4096
#define LEDGER_FILE_MAX (256u << 20)

enum ledger_status {
	LEDGER_SHIPPED,
	LEDGER_VERIFIED,
	LEDGER_FAILED,
	LEDGER_PRUNED_REMOTE,
};

struct ledger_record {
	int64_t time_us;     /* whole seconds, in µs */
	const char *archive; /* relative to <data_dir>/archive */
	const char *destination;
	enum ledger_status status;
	uint64_t bytes;
	char sha256[SHA256_HEX_LEN];
};

struct ledger;

/* "shipped", "verified", "failed", "pruned_remote". */
const char *ledger_status_name(enum ledger_status st);
/* Inverse of ledger_status_name: 0 and *out, or CORE_EPARSE. */
int ledger_status_parse(const char *s, enum ledger_status *out);

/*
 * Append one record to the ledger at `path` (created with the header,
 * mode 0640, when missing). Validates the fields first (CORE_EINVAL for
 * a bad archive path, destination name or sha256). The record is
 * durable when this returns 0. Returns 0, CORE_EINVAL or CORE_ESYS.
 */
int ledger_append(const char *path, const struct ledger_record *r);

/*
 * Load the ledger at `path`. Returns 0 and a new ledger in *out (caller
 * frees with ledger_free); CORE_ENOENT when the file does not exist
 * (*out NULL: "no ledger", nothing may be removed); CORE_EPARSE for a
 * bad header or a malformed complete line, with "line N: reason" in
 * `why` (may be NULL); CORE_ETOOBIG above LEDGER_FILE_MAX; CORE_ESYS.
 * A torn last line (no terminating newline) is ignored.
 */
int ledger_load(const char *path, struct ledger **out, char *why,
		size_t whysize);

/* NULL-safe. */
void ledger_free(struct ledger *l);

/* Number of records and the i-th (file order); valid until ledger_free. */
size_t ledger_count(const struct ledger *l);
const struct ledger_record *ledger_get(const struct ledger *l, size_t i);

/*
 * The last record for (archive, destination), or NULL when there is
 * none. Valid until ledger_free.
 */
const struct ledger_record *ledger_last(const struct ledger *l,
					const char *archive,
					const char *destination);

/*
 * True when the last record of (archive, destination) is `verified` and,
 * if sha256 is not NULL, carries that sha256 (so a remade archive is not
 * mistaken for the one shipped).
 */
bool ledger_verified_on(const struct ledger *l, const char *archive,
			const char *destination, const char *sha256);

/* True when ledger_verified_on holds for every one of the n destinations
 * (false for n == 0). */
bool ledger_verified_on_all(const struct ledger *l, const char *archive,
			    const char *const *destinations, size_t n,
			    const char *sha256);

/*
 * True when ledger_verified_on holds for at least one destination named
 * anywhere in the ledger. This is booktape-rotate's retention rule.
 */
bool ledger_verified_on_any(const struct ledger *l, const char *archive,
			    const char *sha256);

#endif
