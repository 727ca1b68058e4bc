/*
 * Local retention: an archive older than keep_days goes only once the
 * backup ledger shows it verified on at least one destination, with the
 * sha256 of our sidecar (so a remade archive is never taken for the one
 * shipped). No ledger, no removal.
 */
#include "rotate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "timeutil.h"
#include "banned.h"

struct retain {
	const struct rotate_ctx *ctx;
	struct ledger *ledger;
	struct rotate_stats *st;
	int64_t cutoff_us; /* archives of hours ending before this may go */
};

/* "<ex>_<date>T<HH>.tar.gz" → start of its hour. */
static int archive_hour(const char *ex, const char *name, int64_t *start)
{
	size_t el = strlen(ex);
	char date[11], hh[3];

	if (strncmp(name, ex, el) != 0 || name[el] != '_' ||
	    strlen(name) != el + 1 + 10 + 1 + 2 + 7 || name[el + 11] != 'T' ||
	    strcmp(name + el + 14, ".tar.gz") != 0)
		return CORE_EPARSE;
	memcpy(date, name + el + 1, 10);
	date[10] = '\0';
	memcpy(hh, name + el + 12, 2);
	hh[2] = '\0';
	return time_from_date_hour(date, hh, start);
}

static int sidecar_sha(const char *path, char sha[SHA256_HEX_LEN])
{
	char *buf;
	size_t len;
	int rc = fs_read_file(path, 4096, &buf, &len);

	if (rc != 0)
		return rc;
	if (len < 66 || buf[64] != ' ') {
		free(buf);
		return CORE_EPARSE;
	}
	memcpy(sha, buf, 64);
	sha[64] = '\0';
	free(buf);
	return 0;
}

static void consider(struct retain *r, const char *ex, const char *date,
		     const char *dir, const char *name)
{
	char rel[PATH_MAX], path[PATH_MAX], side[PATH_MAX + 8];
	char sha[SHA256_HEX_LEN];
	int64_t start;

	if (archive_hour(ex, name, &start) != 0 ||
	    start + US_PER_HOUR > r->cutoff_us)
		return;
	if (rotate_path(rel, sizeof(rel), "%s/%s/%s", ex, date, name) != 0 ||
	    rotate_path(path, sizeof(path), "%s/%s", dir, name) != 0 ||
	    rotate_path(side, sizeof(side), "%s.sha256", path) != 0)
		return;
	if (sidecar_sha(side, sha) != 0) {
		log_warn("'%s': no readable sidecar, kept", path);
		return;
	}
	if (!ledger_verified_on_any(r->ledger, rel, sha)) {
		log_info("'%s' is past keep_days but not verified offsite, "
			 "kept",
			 path);
		return;
	}
	if (r->ctx->dry_run) {
		printf("would remove %s\n", path);
		return;
	}
	/* Archive first: a sidecar alone is harmless and swept below. */
	if (unlink(path) < 0 || unlink(side) < 0) {
		log_err("remove '%s': %s", path, strerror(errno));
		r->st->errors++;
		return;
	}
	fault_point("retain");
	r->st->archives_removed++;
	log_info("removed '%s' (verified offsite)", path);
}

/* A sidecar whose archive is gone (retention interrupted). */
static void sweep_orphan(const struct retain *r, const char *dir,
			 const char *name)
{
	char path[PATH_MAX], arch[PATH_MAX];
	size_t n = strlen(name);

	if (r->ctx->dry_run || n < 15 || n >= sizeof(arch) - 1 ||
	    strcmp(name + n - 14, ".tar.gz.sha256") != 0)
		return;
	if (rotate_path(path, sizeof(path), "%s/%s", dir, name) != 0 ||
	    rotate_path(arch, sizeof(arch), "%s/%.*s", dir, (int)(n - 7),
			name) != 0)
		return;
	if (access(arch, F_OK) != 0 && errno == ENOENT)
		(void)unlink(path);
}

static void retain_date(struct retain *r, const char *ex, const char *date,
			const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		consider(r, ex, date, dir, de->d_name);
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			sweep_orphan(r, dir, de->d_name);
	closedir(d);
	if (!r->ctx->dry_run) {
		(void)fs_fsync_dir(dir);
		if (rmdir(dir) == 0)
			(void)fs_fsync_parent(dir);
	}
}

static void retain_exchange(struct retain *r, const char *ex, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.' || strlen(de->d_name) != 10)
			continue;
		if (rotate_path(sub, sizeof(sub), "%s/%s", dir, de->d_name) !=
		    0)
			continue;
		retain_date(r, ex, de->d_name, sub);
	}
	closedir(d);
}

static int load_ledger(const struct rotate_ctx *ctx, struct ledger **l)
{
	char path[PATH_MAX], why[256] = "";
	int rc;

	if (rotate_path(path, sizeof(path), "%s/state/backup-ledger.csv",
			ctx->cfg->data_dir) != 0)
		return CORE_ETOOBIG;
	rc = ledger_load(path, l, why, sizeof(why));
	if (rc == CORE_ENOENT)
		log_info("no backup ledger '%s': no archive removed", path);
	else if (rc == CORE_EPARSE)
		log_err("'%s': %s; no archive removed", path, why);
	else if (rc != 0)
		log_err_r(rc, "read '%s'", path);
	return rc;
}

int retain_archives(const struct rotate_ctx *ctx, struct rotate_stats *st)
{
	struct retain r = { .ctx = ctx, .st = st };
	char base[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int rc;

	if (ctx->cfg->keep_days == 0)
		return 0;
	rc = load_ledger(ctx, &r.ledger);
	if (rc != 0)
		return rc == CORE_ENOENT ? 0 : rc;
	r.cutoff_us =
		ctx->now_us - (int64_t)ctx->cfg->keep_days * 24 * US_PER_HOUR;
	if (rotate_path(base, sizeof(base), "%s/archive", ctx->cfg->data_dir))
		rc = CORE_ETOOBIG;
	d = rc == 0 ? opendir(base) : NULL;
	while (d != NULL && (de = readdir(d)) != NULL) {
		char sub[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;
		if (ctx->only_exchange != NULL &&
		    strcmp(ctx->only_exchange, de->d_name) != 0)
			continue;
		if (rotate_path(sub, sizeof(sub), "%s/%s", base, de->d_name) !=
		    0)
			continue;
		retain_exchange(&r, de->d_name, sub);
	}
	if (d != NULL)
		closedir(d);
	ledger_free(r.ledger);
	return rc;
}
