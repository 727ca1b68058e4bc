/*
 * booktape-backup's program state and its subcommands. main.c parses the
 * command line and loads the config and secrets; each command lives in
 * its own file (push.c, remote.c for list/verify, restore.c, prune.c).
 *
 * Push protocol, per destination and archive (each step idempotent, so
 * an interrupted run is finished by the next):
 *   1. skip the archive if the ledger's last record for (archive,
 *      destination) is shipped or verified with the sidecar's sha256;
 *   2. hash the local file and compare with its sidecar (a local archive
 *      that no longer matches is never shipped);
 *   3. if the final name exists remotely with the right size (and hash,
 *      where the remote can tell), go to 6; a different object there is
 *      an error, never overwritten;
 *   4. upload to "<name>.part" (or straight to <name> where a put is
 *      atomic: S3), then stat it: size, and sha256 where the remote
 *      vouches for one (file:// re-reads it, S3 returns the hash its
 *      server checked against the signed x-amz-content-sha256);
 *   5. rename "<name>.part" to <name>; if <name> appeared meanwhile,
 *      compare it and drop the .part;
 *   6. ship the sidecar the same way;
 *   7. append `shipped` to the ledger, then `verified` when step 4 or 3
 *      checked the content hash remotely. sftp only checks the size at
 *      push time (the SSH channel is integrity-protected; OpenSSH cannot
 *      hash); `verify --pending` downloads and records `verified`.
 * A .part never looks complete: list, verify and restore only look at
 * exact archive names.
 */
#ifndef BACKUP_BACKUP_H
#define BACKUP_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct secrets;
struct transport;

enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2,
	EXIT_TEMPFAIL = 75,
};

struct bk {
	struct backup_config cfg;
	struct secrets *sec;
	const char *only_dest; /* --destination, or NULL for all */
	char archive_dir[4200];
	char state_dir[4200];
	char ledger_path[4300];
	int64_t now_us;
	int lock_fd;
	/* verify */
	bool deep;
	bool pending_only;
	/* restore */
	const char *exchange;
	int64_t from_us, to_us;
	const char *symbols; /* "A,B" or NULL */
	const char *into;
	bool force;
};

/* Each returns an EXIT_* code. */
int cmd_push(struct bk *b);
int cmd_list(struct bk *b);
int cmd_verify(struct bk *b);
int cmd_restore(struct bk *b);
int cmd_prune(struct bk *b);

/*
 * Open the transport for destination i, logging why it failed. Returns 0,
 * or the EXIT_* code to give up with.
 */
int bk_open(struct bk *b, size_t i, struct transport **out);

/* True when destination i is selected by --destination. */
bool bk_selected(const struct bk *b, size_t i);

/* Take the exclusive run lock <state_dir>/backup.lock (EXIT_*). */
int bk_lock(struct bk *b);

/* EXIT_* for a CORE_E* code from a transport: EAGAIN → 75, else 1. */
int bk_exit_for(int rc);

/* The worse of two EXIT_* codes (1 > 75 > 0). */
int bk_worse(int a, int b);

/*
 * Retry policy for transient failures: attempt `n` (1-based) failed with
 * CORE_EAGAIN; sleep the backoff and return true to try again, or false
 * when the attempts are used up (BOOKTAPE_BACKUP_RETRIES, default 4;
 * first delay BOOKTAPE_BACKUP_RETRY_DELAY_MS, default 2000, doubling).
 */
bool bk_retry_wait(int n);

/* Append one ledger record (creating the state dir); logs failures. */
int bk_ledger(struct bk *b, const char *archive, const char *dest, int status,
	      uint64_t bytes, const char *sha256);

/* A temp dir for downloads under state_dir (or `near`); caller rmtree's. */
int bk_tmpdir(struct bk *b, const char *near, char *out, size_t size);
void bk_rmtree(const char *dir);

#endif
