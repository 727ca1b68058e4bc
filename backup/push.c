/*
 * push: ship every local archive not yet shipped to each destination
 * (the protocol is described in backup.h), then publish the run's
 * figures in <textfile_dir>/booktape_backup.prom.
 */
#include "backup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "archives.h"
#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "sha256.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

/* Per-destination figures of one run. */
struct dest_stats {
	uint64_t bytes_shipped;
	size_t pending;	   /* archives not shipped at the end */
	int64_t oldest_us; /* hour end of the oldest pending, or 0 */
	int exit;	   /* EXIT_* for this destination */
};

struct push {
	struct bk *b;
	struct ledger *ledger; /* as loaded at the start; may be NULL */
	struct local_archive *arch;
	size_t narch;
	unsigned errors;
};

/* sha256 (hex) and MD5 (base64) of a file in one pass. */
static int hash_local(const char *path, struct transport_put_info *info)
{
	static unsigned char buf[1 << 16];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	struct sha256 *h = sha256_new();
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int fd = -1, rc = CORE_ENOMEM;

	memset(info, 0, sizeof(*info));
	if (h == NULL || m == NULL || !EVP_DigestInit_ex(m, EVP_md5(), NULL))
		goto out;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	rc = CORE_ESYS;
	if (fd < 0)
		goto out;
	for (;;) {
		ssize_t n = fs_read_retry(fd, buf, sizeof(buf));

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (sha256_update(h, buf, (size_t)n) != 0 ||
		    !EVP_DigestUpdate(m, buf, (size_t)n)) {
			rc = CORE_EIO;
			goto out;
		}
		info->size += (uint64_t)n;
	}
	if (sha256_final_hex(h, info->sha256) != 0 ||
	    !EVP_DigestFinal_ex(m, md, &mdlen)) {
		rc = CORE_EIO;
		goto out;
	}
	EVP_EncodeBlock((unsigned char *)info->md5_b64, md, (int)mdlen);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	sha256_free(h);
	EVP_MD_CTX_free(m);
	return rc;
}

/* Does the remote object `name` match size (and hash, if known)? */
static int remote_matches(struct transport *t, const char *name,
			  const struct transport_put_info *info,
			  bool *hash_checked)
{
	struct transport_stat st;
	int rc = transport_stat(t, name, &st);

	if (rc != 0)
		return rc;
	if (st.size != info->size ||
	    (st.has_sha256 && strcmp(st.sha256, info->sha256) != 0))
		return transport_fail(
			t, CORE_ECORRUPT,
			"'%s' at the destination has %llu "
			"bytes%s, expected %llu bytes sha256 "
			"%.12s...",
			name, (unsigned long long)st.size,
			st.has_sha256 ? " and another sha256" : "",
			(unsigned long long)info->size, info->sha256);
	*hash_checked = st.has_sha256;
	return 0;
}

/*
 * Put `local` as `name`: through "<name>.part" and a rename unless the
 * transport's put is atomic. *hash_checked tells whether the remote side
 * confirmed the sha256.
 */
static int put_object(struct transport *t, const char *local, const char *name,
		      const struct transport_put_info *info, bool *hash_checked)
{
	char tmp[2100];
	int rc;

	*hash_checked = false;
	if (t->atomic_put) {
		rc = transport_put(t, local, name, info);
		return rc != 0 ? rc
			       : remote_matches(t, name, info, hash_checked);
	}
	snprintf(tmp, sizeof(tmp), "%s.part", name);
	rc = transport_put(t, local, tmp, info);
	if (rc == 0)
		rc = remote_matches(t, tmp, info, hash_checked);
	if (rc == CORE_ECORRUPT) {
		(void)transport_del(t, tmp);
		return CORE_EAGAIN; /* damaged in transit: upload again */
	}
	if (rc != 0)
		return rc;
	rc = transport_rename(t, tmp, name);
	if (rc == CORE_EEXIST) {
		/* Someone (an earlier run) completed it meanwhile. */
		rc = remote_matches(t, name, info, hash_checked);
		if (rc == 0)
			(void)transport_del(t, tmp);
	}
	return rc;
}

/* Ship the sidecar of `a`; an existing remote sidecar must be identical. */
static int put_sidecar(struct transport *t, const struct local_archive *a)
{
	struct transport_put_info info;
	char local[4200], name[2100];
	bool checked;
	int rc;

	snprintf(local, sizeof(local), "%s.sha256", a->path);
	snprintf(name, sizeof(name), "%s.sha256", a->rel);
	if ((rc = hash_local(local, &info)) != 0)
		return transport_fail(t, rc, "read '%s': %s", local,
				      core_strerror(rc));
	rc = remote_matches(t, name, &info, &checked);
	if (rc == CORE_ENOENT)
		rc = put_object(t, local, name, &info, &checked);
	return rc;
}

/* Steps 3-6 of the protocol for one archive. `repair`: verify found
 * the remote copy bad, so a mismatching object there is replaced. */
static int ship_one(struct transport *t, const struct local_archive *a,
		    const struct transport_put_info *info, bool repair,
		    bool *hash_checked, bool *uploaded)
{
	int rc;

	*uploaded = false;
	if (repair) {
		/* Do not trust a stat here: S3 metadata outlives bit rot. */
		log_notice("%s: replacing the copy of '%s' that failed "
			   "verification",
			   t->name, a->rel);
		rc = transport_del(t, a->rel);
		if (rc != 0 && rc != CORE_ENOENT)
			return rc;
		rc = CORE_ENOENT;
	} else {
		rc = remote_matches(t, a->rel, info, hash_checked);
	}
	if (rc == CORE_ENOENT) {
		rc = put_object(t, a->path, a->rel, info, hash_checked);
		*uploaded = rc == 0;
	}
	if (rc == 0)
		rc = put_sidecar(t, a);
	return rc;
}

/* Retry ship_one on transient failures with backoff. */
static int ship_retry(struct push *p, struct transport *t,
		      const struct local_archive *a,
		      const struct transport_put_info *info, bool *checked,
		      bool *uploaded)
{
	const struct ledger_record *r =
		p->ledger ? ledger_last(p->ledger, a->rel, t->name) : NULL;
	bool repair = r != NULL && r->status == LEDGER_FAILED;

	for (int attempt = 1;; attempt++) {
		int rc = ship_one(t, a, info, repair, checked, uploaded);

		if (rc != CORE_EAGAIN)
			return rc;
		p->errors++;
		log_warn("%s: %s (attempt %d)", t->name, transport_errmsg(t),
			 attempt);
		if (!bk_retry_wait(attempt))
			return rc;
	}
}

static bool already_shipped(const struct push *p, const char *rel,
			    const char *dest, const char *sha)
{
	const struct ledger_record *r =
		p->ledger ? ledger_last(p->ledger, rel, dest) : NULL;

	return r != NULL &&
	       (r->status == LEDGER_SHIPPED || r->status == LEDGER_VERIFIED) &&
	       strcmp(r->sha256, sha) == 0;
}

/* Push one archive to one destination; returns EXIT_*. */
static int push_archive(struct push *p, struct transport *t,
			const struct local_archive *a, struct dest_stats *ds,
			bool *stop)
{
	struct transport_put_info info;
	char side[SHA256_HEX_LEN];
	bool checked = false, uploaded = false;
	int rc;

	if (sidecar_read(a->path, side) != 0) {
		log_warn("'%s': no valid .sha256 sidecar yet; skipped", a->rel);
		return EXIT_OK;
	}
	if (already_shipped(p, a->rel, t->name, side))
		return EXIT_OK;
	if ((rc = hash_local(a->path, &info)) != 0) {
		log_err_r(rc, "read '%s'", a->path);
		p->errors++;
		return EXIT_FAIL;
	}
	if (strcmp(info.sha256, side) != 0) {
		log_err("'%s' does not match its .sha256 sidecar; not shipped "
			"(local corruption?)",
			a->path);
		p->errors++;
		return EXIT_FAIL;
	}
	rc = ship_retry(p, t, a, &info, &checked, &uploaded);
	if (rc != 0) {
		log_err("%s: ship '%s': %s", t->name, a->rel,
			transport_errmsg(t));
		p->errors++;
		/* The destination is down or refuses us: stop trying it. */
		*stop = true;
		if (rc != CORE_EAGAIN)
			(void)bk_ledger(p->b, a->rel, t->name, LEDGER_FAILED,
					info.size, info.sha256);
		return bk_exit_for(rc);
	}
	if (bk_ledger(p->b, a->rel, t->name, LEDGER_SHIPPED, info.size,
		      info.sha256) != 0 ||
	    (checked && bk_ledger(p->b, a->rel, t->name, LEDGER_VERIFIED,
				  info.size, info.sha256) != 0)) {
		p->errors++;
		return EXIT_FAIL;
	}
	if (uploaded)
		ds->bytes_shipped += info.size;
	log_info("%s: %s '%s' (%llu bytes%s)", t->name,
		 uploaded ? "shipped" : "found", a->rel,
		 (unsigned long long)info.size,
		 checked ? ", sha256 confirmed" : ", size confirmed");
	return EXIT_OK;
}

/* Count what is still not shipped to destination `dest`. */
static void count_pending(struct push *p, const char *dest,
			  struct dest_stats *ds)
{
	struct ledger *l = NULL;

	ds->pending = 0;
	ds->oldest_us = 0;
	if (ledger_load(p->b->ledger_path, &l, NULL, 0) != 0)
		l = NULL;
	for (size_t i = 0; i < p->narch; i++) {
		char side[SHA256_HEX_LEN];
		const struct ledger_record *r;

		if (sidecar_read(p->arch[i].path, side) != 0)
			continue;
		r = l ? ledger_last(l, p->arch[i].rel, dest) : NULL;
		if (r != NULL && strcmp(r->sha256, side) == 0 &&
		    (r->status == LEDGER_SHIPPED ||
		     r->status == LEDGER_VERIFIED))
			continue;
		ds->pending++;
		if (ds->oldest_us == 0 || p->arch[i].hour_us < ds->oldest_us)
			ds->oldest_us = p->arch[i].hour_us;
	}
	ledger_free(l);
}

static int push_dest(struct push *p, size_t di, struct dest_stats *ds)
{
	struct transport *t = NULL;
	int rc = bk_open(p->b, di, &t), worst = EXIT_OK;
	bool stop = false;

	if (rc != 0) {
		p->errors++;
		return rc;
	}
	for (size_t i = 0; i < p->narch && !stop; i++) {
		rc = push_archive(p, t, &p->arch[i], ds, &stop);
		worst = bk_worse(worst, rc);
	}
	transport_free(t);
	return worst;
}

/* Write booktape_backup.prom; failures are logged, never fatal. */
static void write_metrics(struct push *p, const struct dest_stats *ds,
			  int64_t start_us)
{
	static const char *const dl[] = { "destination", NULL };
	static const char *const fam[][2] = {
		{ "booktape_backup_last_success_timestamp_seconds",
		  "Last time a push left nothing pending for the "
		  "destination." },
		{ "booktape_backup_archives_pending",
		  "Local archives not yet shipped to the destination." },
		{ "booktape_backup_oldest_unshipped_age_seconds",
		  "Age of the oldest archive not yet shipped (0: none)." },
		{ "booktape_backup_bytes_shipped",
		  "Bytes uploaded to the destination by the last run." },
	};
	struct backup_config *c = &p->b->cfg;
	char prom[4200];
	struct metrics *m = metrics_new();
	struct metric *f[4], *ls, *pend, *old, *bytes, *g;
	double now = (double)time_now_us() / 1e6;
	int rc;

	if (m == NULL)
		return;
	snprintf(prom, sizeof(prom), "%s/booktape_backup.prom",
		 c->textfile_dir);
	for (size_t i = 0; i < CORE_ARRAY_LEN(fam); i++)
		f[i] = metrics_family(m, fam[i][0], fam[i][1], METRIC_GAUGE, dl,
				      NULL, 0);
	ls = f[0];
	pend = f[1];
	old = f[2];
	bytes = f[3];
	for (size_t i = 0; i < c->ndests && ls && pend && old && bytes; i++) {
		const char *v[] = { c->dests[i].name, NULL };
		double last = 0;

		if (ds[i].exit == EXIT_OK && ds[i].pending == 0 &&
		    bk_selected(p->b, i))
			last = now;
		else if (metrics_textfile_read(prom,
					       "booktape_backup_last_"
					       "success_timestamp_seconds",
					       "destination", v[0], &last) != 0)
			last = 0;
		metric_set(metric_series(ls, v), last);
		metric_set(metric_series(pend, v), (double)ds[i].pending);
		metric_set(metric_series(old, v),
			   ds[i].oldest_us == 0
				   ? 0
				   : now - (double)(ds[i].oldest_us +
						    US_PER_HOUR) /
						     1e6);
		metric_set(metric_series(bytes, v),
			   (double)ds[i].bytes_shipped);
	}
	g = metrics_family(m, "booktape_backup_last_run_timestamp_seconds",
			   "When the last push ran.", METRIC_GAUGE, NULL, NULL,
			   0);
	if (g != NULL)
		metric_set(metric_series(g, NULL), now);
	g = metrics_family(m, "booktape_backup_duration_seconds",
			   "How long the last push took.", METRIC_GAUGE, NULL,
			   NULL, 0);
	if (g != NULL)
		metric_set(metric_series(g, NULL),
			   (double)(time_now_us() - start_us) / 1e6);
	g = metrics_family(m, "booktape_backup_errors",
			   "Errors (including retried ones) in the last push.",
			   METRIC_GAUGE, NULL, NULL, 0);
	if (g != NULL)
		metric_set(metric_series(g, NULL), (double)p->errors);
	rc = metrics_write_textfile(m, c->textfile_dir, "booktape_backup.prom");
	if (rc != 0)
		log_warn_r(rc, "write '%s'", prom);
	metrics_free(m);
}

int cmd_push(struct bk *b)
{
	struct push p = { .b = b };
	struct dest_stats *ds;
	int64_t start = time_now_us();
	int rc, worst = EXIT_OK;
	char why[256];

	if ((rc = bk_lock(b)) != 0)
		return rc;
	rc = ledger_load(b->ledger_path, &p.ledger, why, sizeof(why));
	if (rc != 0 && rc != CORE_ENOENT) {
		log_err("ledger '%s': %s", b->ledger_path,
			rc == CORE_EPARSE ? why : core_strerror(rc));
		return EXIT_FAIL;
	}
	rc = archives_scan(b->archive_dir, &p.arch, &p.narch);
	ds = calloc(b->cfg.ndests, sizeof(*ds));
	if (rc != 0 || ds == NULL) {
		log_err_r(rc ? rc : CORE_ENOMEM, "scan '%s'", b->archive_dir);
		ledger_free(p.ledger);
		free(ds);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < b->cfg.ndests; i++) {
		if (!bk_selected(b, i))
			continue;
		ds[i].exit = push_dest(&p, i, &ds[i]);
		worst = bk_worse(worst, ds[i].exit);
	}
	for (size_t i = 0; i < b->cfg.ndests; i++)
		count_pending(&p, b->cfg.dests[i].name, &ds[i]);
	write_metrics(&p, ds, start);
	archives_free(p.arch, p.narch);
	ledger_free(p.ledger);
	free(ds);
	return worst;
}
