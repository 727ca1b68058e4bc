/*
 * list and verify: what each destination holds, and whether every
 * remote archive still matches its sidecar and the ledger (verify reads
 * each one back in full; --deep also checks each member against the
 * archive's MANIFEST.csv).
 */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archives.h"
#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "sha256.h"
#include "tarball.h"
#include "transport.h"
#include "banned.h"

/* Is `name` present in the (sorted) list? */
static const struct transport_entry *find(const struct transport_list *l,
					  const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(l->v[mid].name, name);

		if (c == 0)
			return &l->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* List a destination with retries; sorted. Returns 0 or CORE_E*. */
static int list_retry(struct transport *t, struct transport_list *out)
{
	for (int attempt = 1;; attempt++) {
		int rc = transport_list(t, out);

		if (rc == 0)
			transport_list_sort(out);
		if (rc != CORE_EAGAIN)
			return rc;
		transport_list_release(out);
		log_warn("%s: %s (attempt %d)", t->name, transport_errmsg(t),
			 attempt);
		if (!bk_retry_wait(attempt))
			return rc;
	}
}

static int get_retry(struct transport *t, const char *name, const char *local)
{
	for (int attempt = 1;; attempt++) {
		int rc = transport_get(t, name, local);

		if (rc != CORE_EAGAIN)
			return rc;
		log_warn("%s: %s (attempt %d)", t->name, transport_errmsg(t),
			 attempt);
		if (!bk_retry_wait(attempt))
			return rc;
	}
}

static int list_dest(struct bk *b, struct ledger *l, size_t di)
{
	struct transport_list rl = { 0 };
	struct transport *t = NULL;
	int rc = bk_open(b, di, &t);

	if (rc != 0)
		return rc;
	rc = list_retry(t, &rl);
	if (rc != 0) {
		log_err("%s: %s", t->name, transport_errmsg(t));
		transport_free(t);
		return bk_exit_for(rc);
	}
	for (size_t i = 0; i < rl.n; i++) {
		const char *n = rl.v[i].name;
		char ex[ARCHIVE_EXCHANGE_MAX], side[2100];
		const struct ledger_record *r;
		int64_t h;

		if (archive_name_parse(n, ex, &h) != 0)
			continue;
		snprintf(side, sizeof(side), "%s.sha256", n);
		r = l ? ledger_last(l, n, t->name) : NULL;
		printf("%s\t%s\t%llu\t%s%s\n", t->name, n,
		       (unsigned long long)rl.v[i].size,
		       r ? ledger_status_name(r->status) : "unrecorded",
		       find(&rl, side) ? "" : "\tno-sidecar");
	}
	transport_list_release(&rl);
	transport_free(t);
	return EXIT_OK;
}

static struct ledger *load_ledger(struct bk *b)
{
	struct ledger *l = NULL;
	char why[256] = "";
	int rc = ledger_load(b->ledger_path, &l, why, sizeof(why));

	if (rc != 0 && rc != CORE_ENOENT)
		log_warn("ledger '%s': %s", b->ledger_path,
			 rc == CORE_EPARSE ? why : core_strerror(rc));
	return l;
}

int cmd_list(struct bk *b)
{
	struct ledger *l = load_ledger(b);
	int worst = EXIT_OK;

	for (size_t i = 0; i < b->cfg.ndests; i++)
		if (bk_selected(b, i))
			worst = bk_worse(worst, list_dest(b, l, i));
	ledger_free(l);
	return worst;
}

struct vctx {
	struct bk *b;
	struct ledger *l;
	struct transport *t;
	char tmp[4200];
	unsigned ok, bad;
	int worst;
};

/* Compare the downloaded archive with the remote sidecar. */
static int check_sidecar(struct vctx *v, const char *rel, const char *hex,
			 char *why, size_t whysize)
{
	char local[4400], name[2100], side[SHA256_HEX_LEN], *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(local, sizeof(local), "%s/sidecar", v->tmp);
	snprintf(name, sizeof(name), "%s.sha256", rel);
	rc = get_retry(v->t, name, local);
	if (rc == CORE_ENOENT) {
		snprintf(why, whysize, "no .sha256 sidecar at the destination");
		return CORE_ECORRUPT;
	}
	if (rc != 0) {
		snprintf(why, whysize, "%s", transport_errmsg(v->t));
		return rc;
	}
	rc = fs_read_file(local, 4096, &buf, &len);
	if (rc == 0 &&
	    sidecar_parse(buf, len, archive_basename(rel), side) != 0)
		rc = CORE_EPARSE;
	free(buf);
	if (rc != 0) {
		snprintf(why, whysize, "remote sidecar is malformed");
		return CORE_ECORRUPT;
	}
	return sidecar_match(hex, side, why, whysize);
}

/* Download and check one archive; CORE_ECORRUPT with `why` on mismatch. */
static int verify_archive(struct vctx *v, const char *rel, char *hex,
			  uint64_t *bytes, char *why, size_t whysize)
{
	const struct ledger_record *r =
		v->l ? ledger_last(v->l, rel, v->t->name) : NULL;
	char local[4400];
	int rc;

	snprintf(local, sizeof(local), "%s/archive.tar.gz", v->tmp);
	rc = get_retry(v->t, rel, local);
	if (rc != 0) {
		snprintf(why, whysize, "%s", transport_errmsg(v->t));
		return rc;
	}
	rc = sha256_file_hex(local, hex, bytes);
	if (rc != 0) {
		snprintf(why, whysize, "read downloaded archive: %s",
			 core_strerror(rc));
		return rc;
	}
	if ((rc = check_sidecar(v, rel, hex, why, whysize)) != 0)
		goto out;
	if (r != NULL && r->status != LEDGER_PRUNED_REMOTE &&
	    strcmp(r->sha256, hex) != 0) {
		snprintf(why, whysize,
			 "sha256 %.16s... differs from the ledger's %.16s...",
			 hex, r->sha256);
		rc = CORE_ECORRUPT;
		goto out;
	}
	if (v->b->deep) {
		rc = tarball_verify(local, NULL, NULL, NULL, NULL, why,
				    whysize);
		if (rc != 0 && rc != CORE_ECORRUPT && why[0] == '\0')
			snprintf(why, whysize, "%s", core_strerror(rc));
		if (rc != 0)
			rc = CORE_ECORRUPT;
	}
out:
	(void)unlink(local);
	return rc;
}

static void verify_one(struct vctx *v, const char *rel)
{
	char hex[SHA256_HEX_LEN] = "", why[512] = "";
	uint64_t bytes = 0;
	int rc = verify_archive(v, rel, hex, &bytes, why, sizeof(why));

	if (rc == 0) {
		v->ok++;
		printf("%s\t%s\tok%s\n", v->t->name, rel,
		       v->b->deep ? " (deep)" : "");
		(void)bk_ledger(v->b, rel, v->t->name, LEDGER_VERIFIED, bytes,
				hex);
		return;
	}
	v->bad++;
	printf("%s\t%s\tFAILED: %s\n", v->t->name, rel, why);
	log_err("%s: verify '%s': %s", v->t->name, rel, why);
	if (rc == CORE_ECORRUPT) {
		v->worst = bk_worse(v->worst, EXIT_FAIL);
		if (hex[0] != '\0')
			(void)bk_ledger(v->b, rel, v->t->name, LEDGER_FAILED,
					bytes, hex);
	} else {
		v->worst = bk_worse(v->worst, bk_exit_for(rc));
	}
}

/* Ledger says shipped/verified but the destination does not have it. */
static void check_missing(struct vctx *v, const struct transport_list *rl)
{
	for (size_t i = 0; v->l != NULL && i < ledger_count(v->l); i++) {
		const struct ledger_record *r = ledger_get(v->l, i), *last;

		if (strcmp(r->destination, v->t->name) != 0)
			continue;
		last = ledger_last(v->l, r->archive, r->destination);
		if (last != r || (r->status != LEDGER_SHIPPED &&
				  r->status != LEDGER_VERIFIED))
			continue;
		if (find(rl, r->archive) != NULL)
			continue;
		v->bad++;
		v->worst = bk_worse(v->worst, EXIT_FAIL);
		printf("%s\t%s\tFAILED: missing at the destination\n",
		       v->t->name, r->archive);
		log_err("%s: '%s' is in the ledger but missing at the "
			"destination",
			v->t->name, r->archive);
		/* So the next push ships it again. */
		(void)bk_ledger(v->b, r->archive, v->t->name, LEDGER_FAILED,
				r->bytes, r->sha256);
	}
}

static int verify_dest(struct vctx *v, size_t di)
{
	struct transport_list rl = { 0 };
	int rc = bk_open(v->b, di, &v->t);

	if (rc != 0)
		return rc;
	rc = list_retry(v->t, &rl);
	if (rc != 0) {
		log_err("%s: %s", v->t->name, transport_errmsg(v->t));
		v->worst = bk_worse(v->worst, bk_exit_for(rc));
		goto out;
	}
	for (size_t i = 0; i < rl.n; i++) {
		char ex[ARCHIVE_EXCHANGE_MAX];
		int64_t h;

		if (archive_name_parse(rl.v[i].name, ex, &h) != 0)
			continue;
		if (v->b->pending_only && v->l != NULL &&
		    ledger_verified_on(v->l, rl.v[i].name, v->t->name, NULL))
			continue;
		verify_one(v, rl.v[i].name);
	}
	check_missing(v, &rl);
out:
	transport_list_release(&rl);
	transport_free(v->t);
	v->t = NULL;
	return 0;
}

int cmd_verify(struct bk *b)
{
	struct vctx v = { .b = b, .worst = EXIT_OK };
	int rc;

	if ((rc = bk_lock(b)) != 0)
		return rc;
	if ((rc = bk_tmpdir(b, NULL, v.tmp, sizeof(v.tmp))) != 0)
		return rc;
	v.l = load_ledger(b);
	for (size_t i = 0; i < b->cfg.ndests; i++)
		if (bk_selected(b, i) && (rc = verify_dest(&v, i)) != 0)
			v.worst = bk_worse(v.worst, rc);
	ledger_free(v.l);
	bk_rmtree(v.tmp);
	log_notice("verify: %u ok, %u failed", v.ok, v.bad);
	return v.worst;
}
