/*
 * booktape-rotate internals shared by its modules: the run context, the
 * finished-hour list, sealing one hour, local retention and the fault
 * points the crash tests use.
 *
 * Sealing one hour, and what a rerun does after a crash at each step
 * (the step names are the BOOKTAPE_FAULT values, see fault_point):
 *
 *   step     does                                    a crash after it leaves
 *   plan     find the CSVs, schemas and torn tails   nothing written
 *   build    stream them into the temp               a stale temp: deleted
 *            "<dir>/.<archive>.tmp.<pid>"
 *   fsync    fsync the temp                          a stale temp: deleted
 *   verify   read it back: zlib CRC/length and       a stale temp: deleted
 *            every sha256
 *   rename   renameat2(RENAME_NOREPLACE), fsync      the archive, no sidecar
 *            the directory
 *   sidecar  write <archive>.sha256 atomically       archive and sidecar
 *   delete   unlink the originals, fsync the dir     some originals left
 *   rmdir    remove the empty hour and date dirs     empty directories
 *
 * Recovery rule: when the archive exists, it is verified on its own
 * (embedded manifest) and, if the sidecar exists, against it; a missing
 * sidecar is written from the verified archive. Every live file still
 * present must then be listed in the archive's manifest with the same
 * kept bytes (sha256 of the archived prefix) and the same cut tail
 * (CUTS.csv); only then are the originals removed. Any mismatch is an
 * error and nothing is removed.
 */
#ifndef ROTATE_ROTATE_H
#define ROTATE_ROTATE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "schema.h"

struct rotate_ctx {
	const struct rotate_config *cfg;
	struct schema_set *schemas;
	int64_t now_us;
	const char *only_exchange; /* --exchange, or NULL */
	bool dry_run;
};

struct rotate_stats {
	uint64_t archives_made;
	uint64_t archives_removed;
	uint64_t hours_pending; /* finished hours still live after the run */
	uint64_t bytes_in;	/* live bytes sealed (cut tails included) */
	uint64_t bytes_out;	/* archive bytes written */
	uint64_t errors;
	uint64_t torn_tails_cut;
};

struct hour {
	char exchange[64];
	char date[11];
	char hh[3];
	int64_t start_us;
	char live_dir[PATH_MAX];
};

/*
 * The finished hours under <data_dir>/live, oldest first: hour start +
 * 1 h + grace <= now. Caller frees *out. 0, or CORE_ESYS/CORE_ENOMEM.
 */
int scan_hours(const struct rotate_ctx *ctx, struct hour **out, size_t *n);

/* Seal one hour as described above. 0, or a CORE_E* code (logged). */
int seal_hour(const struct rotate_ctx *ctx, const struct hour *h,
	      struct rotate_stats *st);

/*
 * Remove archives older than keep_days that the backup ledger shows
 * verified on at least one destination (with the sidecar's sha256).
 * Without a ledger nothing is removed. 0 or CORE_E* (logged).
 */
int retain_archives(const struct rotate_ctx *ctx, struct rotate_stats *st);

/*
 * If $BOOKTAPE_FAULT equals `step`, die by SIGKILL here (crash tests).
 * Steps: build, fsync, verify, rename, sidecar, delete, rmdir, retain.
 * Each fires right after that step's work is done (build: after the
 * first member).
 */
void fault_point(const char *step);

/*
 * snprintf for paths: CORE_ETOOBIG (and an empty dst) when the result
 * does not fit, instead of a silently truncated name.
 */
int rotate_path(char *dst, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
