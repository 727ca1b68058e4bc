/*
 * prune: retention. A local archive older than keep_local_days goes only
 * once the ledger shows it verified, with its current sha256, on EVERY
 * configured destination. A remote archive older than keep_remote_days
 * is deleted (archive first, then its sidecar) and recorded as
 * pruned_remote. 0 days keeps forever.
 */
#include "backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archives.h"
#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

#define US_PER_DAY (24 * US_PER_HOUR)

/* Remove one local archive and its sidecar; EXIT_*. */
static int drop_local(const struct local_archive *a)
{
	char sc[4200], dir[4200];

	snprintf(sc, sizeof(sc), "%s.sha256", a->path);
	/* The archive goes first: a sidecar alone is harmless. */
	if (unlink(a->path) != 0 || (unlink(sc) != 0 && errno != ENOENT)) {
		log_err("remove '%s': %s", a->path, strerror(errno));
		return EXIT_FAIL;
	}
	if (fs_fsync_parent(a->path) != 0)
		log_warn("fsync directory of '%s': %s", a->path,
			 strerror(errno));
	if (fs_dirname(dir, sizeof(dir), a->path) == 0)
		(void)rmdir(dir); /* only succeeds once the day is empty */
	log_info("pruned local '%s'", a->rel);
	return EXIT_OK;
}

static int prune_local(struct bk *b, const struct ledger *l)
{
	const char **names = calloc(b->cfg.ndests, sizeof(*names));
	struct local_archive *v = NULL;
	size_t n = 0;
	int64_t cutoff;
	int rc, worst = EXIT_OK;

	if (names == NULL)
		return EXIT_FAIL;
	for (size_t i = 0; i < b->cfg.ndests; i++)
		names[i] = b->cfg.dests[i].name;
	cutoff = b->now_us - (int64_t)b->cfg.keep_local_days * US_PER_DAY;
	rc = archives_scan(b->archive_dir, &v, &n);
	if (rc != 0) {
		log_err_r(rc, "scan '%s'", b->archive_dir);
		free(names);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < n && l != NULL; i++) {
		char side[SHA256_HEX_LEN];

		if (v[i].hour_us + US_PER_HOUR > cutoff ||
		    sidecar_read(v[i].path, side) != 0)
			continue;
		if (!ledger_verified_on_all(l, v[i].rel, names, b->cfg.ndests,
					    side)) {
			log_info("keeping '%s': not yet verified on every "
				 "destination",
				 v[i].rel);
			continue;
		}
		worst = bk_worse(worst, drop_local(&v[i]));
	}
	archives_free(v, n);
	free(names);
	return worst;
}

/* The sha256 to record for a remote archive about to be deleted. */
static void remote_sha(struct bk *b, struct transport *t, const char *rel,
		       const struct ledger *l, char hex[SHA256_HEX_LEN])
{
	const struct ledger_record *r = l ? ledger_last(l, rel, t->name) : NULL;
	char local[4400], name[2100], tmp[4200], *buf = NULL;
	size_t len = 0;

	memset(hex, '0', SHA256_HEX_LEN - 1);
	hex[SHA256_HEX_LEN - 1] = '\0';
	if (r != NULL) {
		memcpy(hex, r->sha256, SHA256_HEX_LEN);
		return;
	}
	if (bk_tmpdir(b, NULL, tmp, sizeof(tmp)) != 0)
		return;
	snprintf(local, sizeof(local), "%s/sidecar", tmp);
	snprintf(name, sizeof(name), "%s.sha256", rel);
	if (transport_get(t, name, local) == 0 &&
	    fs_read_file(local, 4096, &buf, &len) == 0 &&
	    sidecar_parse(buf, len, archive_basename(rel), hex) != 0)
		memset(hex, '0', SHA256_HEX_LEN - 1);
	free(buf);
	bk_rmtree(tmp);
}

static int prune_remote_one(struct bk *b, struct transport *t,
			    const struct transport_entry *e,
			    const struct ledger *l)
{
	char hex[SHA256_HEX_LEN], side[2100];
	int rc;

	remote_sha(b, t, e->name, l, hex);
	snprintf(side, sizeof(side), "%s.sha256", e->name);
	rc = transport_del(t, e->name);
	if (rc == 0 || rc == CORE_ENOENT)
		rc = transport_del(t, side);
	if (rc != 0 && rc != CORE_ENOENT) {
		log_err("%s: prune '%s': %s", t->name, e->name,
			transport_errmsg(t));
		return bk_exit_for(rc);
	}
	log_info("%s: pruned remote '%s'", t->name, e->name);
	return bk_ledger(b, e->name, t->name, LEDGER_PRUNED_REMOTE, e->size,
			 hex) == 0
		       ? EXIT_OK
		       : EXIT_FAIL;
}

static int prune_remote(struct bk *b, size_t di, const struct ledger *l)
{
	struct transport_list rl = { 0 };
	struct transport *t = NULL;
	int64_t cutoff =
		b->now_us - (int64_t)b->cfg.keep_remote_days * US_PER_DAY;
	int rc = bk_open(b, di, &t), worst = EXIT_OK;

	if (rc != 0)
		return rc;
	rc = transport_list(t, &rl);
	if (rc != 0) {
		log_err("%s: list: %s", t->name, transport_errmsg(t));
		transport_free(t);
		return bk_exit_for(rc);
	}
	for (size_t i = 0; i < rl.n && worst == EXIT_OK; i++) {
		char ex[ARCHIVE_EXCHANGE_MAX];
		int64_t h;

		if (archive_name_parse(rl.v[i].name, ex, &h) != 0 ||
		    h + US_PER_HOUR > cutoff)
			continue;
		worst = prune_remote_one(b, t, &rl.v[i], l);
	}
	transport_list_release(&rl);
	transport_free(t);
	return worst;
}

int cmd_prune(struct bk *b)
{
	struct ledger *l = NULL;
	char why[256] = "";
	int rc, worst = EXIT_OK;

	if ((rc = bk_lock(b)) != 0)
		return rc;
	rc = ledger_load(b->ledger_path, &l, why, sizeof(why));
	if (rc != 0 && rc != CORE_ENOENT) {
		log_err("ledger '%s': %s", b->ledger_path,
			rc == CORE_EPARSE ? why : core_strerror(rc));
		return EXIT_FAIL;
	}
	if (rc == CORE_ENOENT)
		log_notice("no ledger yet: no local archive is removed");
	if (b->cfg.keep_local_days > 0)
		worst = prune_local(b, l);
	for (size_t i = 0; i < b->cfg.ndests && b->cfg.keep_remote_days > 0;
	     i++)
		if (bk_selected(b, i))
			worst = bk_worse(worst, prune_remote(b, i, l));
	ledger_free(l);
	return worst;
}
