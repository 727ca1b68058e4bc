/*
 * restore: after a disaster, fetch an exchange's hours [from, to) from
 * one destination, verify each archive (sidecar sha256, gzip CRC and
 * every member against MANIFEST.csv) and unpack the good ones into the
 * live layout. Nothing existing is overwritten without --force; every
 * archive that fails verification is named and makes the exit non-zero.
 */
#include "backup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archives.h"
#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "sha256.h"
#include "tarball.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

struct rctx {
	struct bk *b;
	struct transport *t;
	char dest[4096]; /* where files go */
	char tmp[4200];
	size_t done, total;
	unsigned failed, files, restored;
	bool tty;
};

/* "BTC-USDT", "btc_usdt" and "BTCUSDT" all name one symbol. */
static bool same_symbol(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < alen && (a[i] == '-' || a[i] == '_' || a[i] == '/'))
			i++;
		while (j < blen && (b[j] == '-' || b[j] == '_' || b[j] == '/'))
			j++;
		if (i == alen || j == blen)
			return i == alen && j == blen;
		if ((a[i] | 0x20) != (b[j] | 0x20))
			return false;
		i++;
		j++;
	}
}

/* Is member `file` ("<ex>/<date>/<HH>/<SYMBOL>.<dataset>.csv") wanted? */
static bool wanted(const char *symbols, const char *file)
{
	const char *base = archive_basename(file), *dot = strchr(base, '.');
	const char *s = symbols;

	if (symbols == NULL)
		return true;
	if (dot == NULL)
		return false;
	while (*s != '\0') {
		const char *e = strchr(s, ',');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n > 0 && same_symbol(s, n, base, (size_t)(dot - base)))
			return true;
		s += n + (e != NULL);
	}
	return false;
}

static void progress(struct rctx *r, const char *rel)
{
	if (!r->tty)
		return;
	fprintf(stderr, "\rbooktape-backup: restore [%zu/%zu] %-60s",
		r->done + 1, r->total, archive_basename(rel));
	fflush(stderr);
}

/* Download and check one archive into r->tmp; returns the local path. */
static int fetch_verified(struct rctx *r, const char *rel, char *local,
			  size_t lsize, struct manifest **m, char *why,
			  size_t whysize)
{
	char sc[4500], name[2100], hex[SHA256_HEX_LEN], side[SHA256_HEX_LEN];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(local, lsize, "%s/%s", r->tmp, archive_basename(rel));
	snprintf(sc, sizeof(sc), "%s.sha256", local);
	snprintf(name, sizeof(name), "%s.sha256", rel);
	for (int attempt = 1;; attempt++) {
		rc = transport_get(r->t, rel, local);
		if (rc == 0)
			rc = transport_get(r->t, name, sc);
		if (rc != CORE_EAGAIN || !bk_retry_wait(attempt))
			break;
	}
	if (rc != 0) {
		snprintf(why, whysize, "%s", transport_errmsg(r->t));
		return rc;
	}
	rc = fs_read_file(sc, 4096, &buf, &len);
	if (rc == 0 && sidecar_parse(buf, len, archive_basename(rel), side))
		rc = CORE_EPARSE;
	free(buf);
	if (rc != 0) {
		snprintf(why, whysize,
			 "remote sidecar is missing or malformed");
		return CORE_ECORRUPT;
	}
	rc = tarball_verify(local, NULL, hex, NULL, m, why, whysize);
	if (rc != 0)
		return CORE_ECORRUPT;
	return sidecar_match(hex, side, why, whysize);
}

/* The wanted member names (NULL-terminated, borrowed from m). */
static const char **select_members(const struct manifest *m,
				   const char *symbols, size_t *n)
{
	size_t cnt = manifest_count(m);
	const char **names = calloc(cnt + 1, sizeof(*names));

	*n = 0;
	if (names == NULL)
		return NULL;
	for (size_t i = 0; i < cnt; i++) {
		const struct manifest_entry *e = manifest_get(m, i);

		if (wanted(symbols, e->file))
			names[(*n)++] = e->file;
	}
	return names;
}

/* Count wanted members that already exist under r->dest. */
static size_t existing(const struct rctx *r, const char **names,
		       const char **first)
{
	char path[8192];
	size_t n = 0;

	for (size_t i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", r->dest, names[i]);
		if (access(path, F_OK) == 0) {
			if (n++ == 0)
				*first = names[i];
		}
	}
	return n;
}

/* Unpack the verified archive. EXIT_*. */
static int unpack(struct rctx *r, const char *rel, const char *local,
		  const struct manifest *m)
{
	const char *first = NULL, **names;
	char why[512] = "";
	size_t n = 0, nx = 0, ex;
	int rc;

	names = select_members(m, r->b->symbols, &n);
	if (names == NULL)
		return EXIT_FAIL;
	if (n == 0) {
		free(names);
		r->restored++;
		return EXIT_OK;
	}
	ex = existing(r, names, &first);
	if (ex > 0 && !r->b->force) {
		log_err("restore '%s': refusing to overwrite %zu existing "
			"file(s) under '%s', e.g. '%s' (use --force)",
			rel, ex, r->dest, first);
		free(names);
		return EXIT_FAIL;
	}
	rc = tarball_extract(local, r->dest, names,
			     r->b->force ? TARBALL_OVERWRITE : 0, &nx, why,
			     sizeof(why));
	free(names);
	if (rc != 0) {
		log_err("restore '%s': extract: %s", rel,
			why[0] ? why : core_strerror(rc));
		return EXIT_FAIL;
	}
	r->files += (unsigned)nx;
	r->restored++;
	return EXIT_OK;
}

static int restore_one(struct rctx *r, const char *rel)
{
	char local[4400], why[512] = "";
	struct manifest *m = NULL;
	int rc;

	progress(r, rel);
	rc = fetch_verified(r, rel, local, sizeof(local), &m, why, sizeof(why));
	if (rc != 0) {
		if (r->tty)
			fputc('\n', stderr);
		log_err("restore '%s': verification failed: %s", rel, why);
		r->failed++;
		manifest_free(m);
		return rc == CORE_ECORRUPT ? EXIT_FAIL : bk_exit_for(rc);
	}
	rc = unpack(r, rel, local, m);
	manifest_free(m);
	(void)unlink(local);
	return rc;
}

/* Names of the archives of the exchange that overlap [from, to). */
static int pick(struct rctx *r, const struct transport_list *rl,
		struct transport_list *out)
{
	for (size_t i = 0; i < rl->n; i++) {
		char ex[ARCHIVE_EXCHANGE_MAX];
		int64_t h;
		int rc;

		if (archive_name_parse(rl->v[i].name, ex, &h) != 0 ||
		    strcmp(ex, r->b->exchange) != 0)
			continue;
		if (h + US_PER_HOUR <= r->b->from_us || h >= r->b->to_us)
			continue;
		rc = transport_list_add(out, rl->v[i].name,
					strlen(rl->v[i].name), rl->v[i].size);
		if (rc != 0)
			return rc;
	}
	transport_list_sort(out);
	return 0;
}

static size_t first_dest(const struct bk *b)
{
	for (size_t i = 0; i < b->cfg.ndests; i++)
		if (bk_selected(b, i))
			return i;
	return 0;
}

static int restore_all(struct rctx *r, const struct transport_list *sel)
{
	int worst = EXIT_OK;

	r->total = sel->n;
	for (r->done = 0; r->done < sel->n; r->done++)
		worst = bk_worse(worst, restore_one(r, sel->v[r->done].name));
	if (r->tty)
		fputc('\n', stderr);
	return worst;
}

int cmd_restore(struct bk *b)
{
	struct rctx r = { .b = b, .tty = isatty(STDERR_FILENO) == 1 };
	struct transport_list rl = { 0 }, sel = { 0 };
	int rc, worst;

	snprintf(r.dest, sizeof(r.dest), "%s",
		 b->into ? b->into : b->cfg.data_dir);
	if (b->into == NULL)
		snprintf(r.dest, sizeof(r.dest), "%s/live", b->cfg.data_dir);
	if (fs_mkdir_p(r.dest, 0755) != 0) {
		log_err("mkdir '%s': %s", r.dest, strerror(errno));
		return EXIT_FAIL;
	}
	if ((rc = bk_open(b, first_dest(b), &r.t)) != 0)
		return rc;
	for (int attempt = 1;; attempt++) {
		rc = transport_list(r.t, &rl);
		if (rc != CORE_EAGAIN || !bk_retry_wait(attempt))
			break;
		transport_list_release(&rl);
	}
	if (rc != 0 || (rc = pick(&r, &rl, &sel)) != 0) {
		log_err("%s: list: %s", r.t->name, transport_errmsg(r.t));
		worst = bk_exit_for(rc);
		goto out;
	}
	if (sel.n == 0) {
		log_err("%s: no archives of '%s' in the requested range",
			r.t->name, b->exchange);
		worst = EXIT_FAIL;
		goto out;
	}
	if ((worst = bk_tmpdir(b, NULL, r.tmp, sizeof(r.tmp))) != 0)
		goto out;
	worst = restore_all(&r, &sel);
	bk_rmtree(r.tmp);
	log_notice("restore: %u of %zu archive(s) restored (%u file(s)) "
		   "into '%s', %u failed verification",
		   r.restored, sel.n, r.files, r.dest, r.failed);
out:
	transport_list_release(&rl);
	transport_list_release(&sel);
	transport_free(r.t);
	return worst;
}
