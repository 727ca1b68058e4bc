/*
 * Seal one finished hour: check its CSVs, archive and verify them, put
 * the archive and its sidecar in place, then remove the originals. The
 * steps and the crash-recovery rule are described in rotate.h.
 */
#include "rotate.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "csvcheck.h"
#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "manifest.h"
#include "schema.h"
#include "sha256.h"
#include "tarball.h"
#include "timeutil.h"
#include "banned.h"

#define MAX_FILES 4096

struct live_file {
	char name[256];	       /* "<SYMBOL>.<dataset>.csv" */
	char member[PATH_MAX]; /* "<exchange>/<date>/<HH>/<name>" */
	char path[PATH_MAX];
	const struct schema *schema;
	struct tail_plan tail;
};

struct plan {
	const struct rotate_ctx *ctx;
	const struct hour *h;
	struct live_file *f;
	size_t n;
	char arch_dir[PATH_MAX];
	char arch[PATH_MAX]; /* the final archive path */
	char arch_name[128]; /* its basename */
	char sidecar[PATH_MAX + 8];
	char tmp[PATH_MAX + 64];
};

static int cmp_files(const void *a, const void *b)
{
	return strcmp(((const struct live_file *)a)->name,
		      ((const struct live_file *)b)->name);
}

static int want_file(const struct hour *h, const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	if (de->d_name[0] == '.')
		return 0; /* ".", "..", temp files */
	if (len < 5 || strcmp(de->d_name + len - 4, ".csv") != 0 ||
	    len >= sizeof(((struct live_file *)0)->name)) {
		log_warn("'%s/%s': not a data file, left alone", h->live_dir,
			 de->d_name);
		return 0;
	}
	return 1;
}

/* The sorted list of the hour's CSV files. */
static int list_files(struct plan *p)
{
	DIR *d = opendir(p->h->live_dir);
	struct dirent *de;
	int rc = 0;

	if (d == NULL) {
		log_err("open '%s': %s", p->h->live_dir, strerror(errno));
		return CORE_ESYS;
	}
	p->f = calloc(MAX_FILES, sizeof(*p->f));
	if (p->f == NULL) {
		closedir(d);
		return CORE_ENOMEM;
	}
	while ((de = readdir(d)) != NULL) {
		struct live_file *f = &p->f[p->n];

		if (!want_file(p->h, de))
			continue;
		if (p->n == MAX_FILES) {
			log_err("'%s': more than %d files", p->h->live_dir,
				MAX_FILES);
			rc = CORE_ETOOBIG;
			break;
		}
		if (rotate_path(f->name, sizeof(f->name), "%s", de->d_name) ||
		    rotate_path(f->member, sizeof(f->member), "%s/%s/%s/%s",
				p->h->exchange, p->h->date, p->h->hh,
				f->name) ||
		    rotate_path(f->path, sizeof(f->path), "%s/%s",
				p->h->live_dir, f->name)) {
			rc = CORE_ETOOBIG;
			break;
		}
		p->n++;
	}
	closedir(d);
	if (p->n > 1)
		qsort(p->f, p->n, sizeof(*p->f), cmp_files);
	return rc;
}

static int plan_paths(const struct rotate_ctx *ctx, struct plan *p)
{
	const struct hour *h = p->h;

	if (rotate_path(p->arch_name, sizeof(p->arch_name), "%s_%sT%s.tar.gz",
			h->exchange, h->date, h->hh) ||
	    rotate_path(p->arch_dir, sizeof(p->arch_dir), "%s/archive/%s/%s",
			ctx->cfg->data_dir, h->exchange, h->date) ||
	    rotate_path(p->arch, sizeof(p->arch), "%s/%s", p->arch_dir,
			p->arch_name) ||
	    rotate_path(p->sidecar, sizeof(p->sidecar), "%s.sha256", p->arch) ||
	    rotate_path(p->tmp, sizeof(p->tmp), "%s/.%s.tmp.%ld", p->arch_dir,
			p->arch_name, (long)getpid())) {
		log_err("'%s': path too long", h->live_dir);
		return CORE_ETOOBIG;
	}
	return 0;
}

/* Schema and torn tail of every file. */
static int plan_files(const struct rotate_ctx *ctx, struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		struct live_file *f = &p->f[i];
		char sym[128], ds[128];
		int rc;

		if (schema_split_filename(f->name, sym, sizeof(sym), ds,
					  sizeof(ds)) != 0 ||
		    (f->schema = schema_set_find(ctx->schemas, ds)) == NULL) {
			log_err("'%s': unknown dataset, hour not sealed",
				f->path);
			return CORE_ESCHEMA;
		}
		rc = csvcheck_tail(f->path, f->schema, &f->tail);
		if (rc != 0) {
			log_err_r(rc, "read '%s'", f->path);
			return rc;
		}
	}
	return 0;
}

/* ------------------------------------------------------------ build */

static int add_one(struct tarball_writer *w, struct live_file *f,
		   struct manifest *m, int64_t *newest)
{
	struct manifest_entry e = { .file = f->member };
	struct tarball_file_info info;
	struct csvcheck *c = csvcheck_new(f->schema);
	char why[300];
	int rc;

	if (c == NULL)
		return CORE_ENOMEM;
	rc = tarball_add_file(w, f->member, f->path, (int64_t)f->tail.keep,
			      csvcheck_feed, c, &info, why, sizeof(why));
	if (rc == 0)
		rc = csvcheck_finish(c, &e.rows, &e.has_times, &e.first_ts,
				     &e.last_ts);
	if (rc != 0) {
		log_err("'%s': %s, hour not sealed", f->path,
			csvcheck_why(c)[0] ? csvcheck_why(c) : why);
		csvcheck_free(c);
		return rc;
	}
	csvcheck_free(c);
	if (info.mtime > *newest)
		*newest = info.mtime;
	e.bytes = info.bytes;
	memcpy(e.sha256, info.sha256, SHA256_HEX_LEN);
	rc = manifest_add(m, &e);
	if (rc == 0 && f->tail.reason != NULL) {
		struct manifest_cut cut = {
			.file = f->member,
			.kept_bytes = f->tail.keep,
			.cut_bytes = f->tail.size - f->tail.keep,
			.reason = f->tail.reason,
		};

		memcpy(cut.cut_sha256, f->tail.cut_sha256, SHA256_HEX_LEN);
		rc = manifest_add_cut(m, &cut);
	}
	return rc;
}

/*
 * The manifest's mtime is the newest data file's: sealing the same files
 * (same bytes, modes, mtimes, owner) again gives the same archive, byte
 * for byte, so an hour restored from a backup and sealed again on a
 * rebuilt host is the copy that was shipped (issue 18).
 */
static int add_meta(struct tarball_writer *w, const struct manifest *m,
		    int64_t mtime)
{
	char *buf = NULL, why[300];
	size_t len;
	int rc = 0;

	if (manifest_cut_count(m) > 0) {
		rc = manifest_render_cuts(m, &buf, &len);
		if (rc == 0)
			rc = tarball_add_data(w, CUTS_NAME, buf, len, 0644,
					      mtime, why, sizeof(why));
		free(buf);
		buf = NULL;
	}
	if (rc == 0)
		rc = manifest_render(m, &buf, &len);
	if (rc == 0)
		rc = tarball_add_data(w, MANIFEST_NAME, buf, len, 0644, mtime,
				      why, sizeof(why));
	free(buf);
	if (rc != 0)
		log_err_r(rc, "archive manifest");
	return rc;
}

/* Write the whole archive to fd; the manifest of what went in to *out. */
static int write_archive(const struct rotate_ctx *ctx, struct plan *p, int fd,
			 struct manifest **out, char sha[SHA256_HEX_LEN],
			 uint64_t *bytes)
{
	struct tarball_writer *w = NULL;
	struct manifest *m = manifest_new();
	char why[300] = "";
	int64_t newest = 0;
	int rc;

	*out = NULL;
	if (m == NULL)
		return CORE_ENOMEM;
	rc = tarball_writer_new(&w, fd, ctx->cfg->gzip_level);
	for (size_t i = 0; rc == 0 && i < p->n; i++) {
		rc = add_one(w, &p->f[i], m, &newest);
		if (i == 0)
			fault_point("build");
	}
	if (rc == 0)
		rc = add_meta(w, m, newest);
	if (rc == 0) {
		rc = tarball_writer_finish(w, sha, bytes, why, sizeof(why));
		if (rc != 0)
			log_err("write '%s': %s", p->tmp, why);
	}
	tarball_writer_free(w);
	if (rc != 0) {
		manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

/* Build, fsync and verify the temp archive. */
static int build_temp(const struct rotate_ctx *ctx, struct plan *p,
		      char sha[SHA256_HEX_LEN], uint64_t *bytes)
{
	struct manifest *m = NULL;
	char vsha[SHA256_HEX_LEN], why[300];
	uint64_t vbytes;
	int fd, rc;

	(void)unlink(p->tmp);
	fd = open(p->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("create '%s': %s", p->tmp, strerror(errno));
		return CORE_ESYS;
	}
	rc = write_archive(ctx, p, fd, &m, sha, bytes);
	if (rc == 0 && fsync(fd) < 0) {
		log_err("fsync '%s': %s", p->tmp, strerror(errno));
		rc = CORE_ESYS;
	}
	if (close(fd) < 0 && rc == 0)
		rc = CORE_ESYS;
	if (rc == 0)
		fault_point("fsync");
	if (rc == 0) {
		rc = tarball_verify(p->tmp, m, vsha, &vbytes, NULL, why,
				    sizeof(why));
		if (rc == 0 && (strcmp(vsha, sha) != 0 || vbytes != *bytes)) {
			snprintf(why, sizeof(why), "read back differs");
			rc = CORE_ECORRUPT;
		}
		if (rc != 0)
			log_err("verify '%s': %s, originals kept", p->tmp, why);
	}
	manifest_free(m);
	if (rc != 0)
		(void)unlink(p->tmp);
	else
		fault_point("verify");
	return rc;
}

/* ------------------------------------------------------------ finish */

static int write_sidecar(const struct plan *p, const char *sha)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "%s  %s\n", sha, p->arch_name);
	int rc = fs_write_atomic(p->sidecar, line, (size_t)n, 0644);

	if (rc != 0)
		log_err_r(rc, "write '%s'", p->sidecar);
	return rc;
}

/* The sha256 a sidecar holds: 0, CORE_ENOENT, or CORE_ECORRUPT. */
static int read_sidecar(const struct plan *p, char sha[SHA256_HEX_LEN])
{
	char *buf, want[256];
	size_t len;
	int rc = fs_read_file(p->sidecar, 4096, &buf, &len);

	if (rc == CORE_ESYS && errno == ENOENT)
		return CORE_ENOENT;
	if (rc != 0)
		return rc;
	snprintf(want, sizeof(want), "  %s\n", p->arch_name);
	if (len != 64 + strlen(want) || strcmp(buf + 64, want) != 0) {
		rc = CORE_ECORRUPT;
	} else {
		memcpy(sha, buf, 64);
		sha[64] = '\0';
	}
	free(buf);
	return rc;
}

static int remove_dir_if_empty(const char *dir)
{
	char parent[PATH_MAX];

	if (rmdir(dir) < 0) {
		if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOENT)
			return 0;
		log_warn("rmdir '%s': %s", dir, strerror(errno));
		return CORE_ESYS;
	}
	if (fs_dirname(parent, sizeof(parent), dir) == 0)
		(void)fs_fsync_dir(parent);
	return 0;
}

/*
 * Originals out, then the hour directory, and the date directory once it
 * is empty and its day is over (the recorder may still create hours in
 * it otherwise).
 */
static int delete_originals(const struct plan *p)
{
	int64_t last_hour;
	char date_dir[PATH_MAX];

	for (size_t i = 0; i < p->n; i++) {
		if (unlink(p->f[i].path) < 0 && errno != ENOENT) {
			log_err("remove '%s': %s", p->f[i].path,
				strerror(errno));
			return CORE_ESYS;
		}
		if (i == 0)
			fault_point("delete");
	}
	if (p->n > 0 && fs_fsync_dir(p->h->live_dir) != 0) {
		log_err("fsync '%s': %s", p->h->live_dir, strerror(errno));
		return CORE_ESYS;
	}
	(void)remove_dir_if_empty(p->h->live_dir);
	fault_point("rmdir");
	if (time_from_date_hour(p->h->date, "23", &last_hour) == 0 &&
	    last_hour + US_PER_HOUR +
			    (int64_t)p->ctx->cfg->grace * US_PER_SEC <=
		    p->ctx->now_us &&
	    fs_dirname(date_dir, sizeof(date_dir), p->h->live_dir) == 0)
		(void)remove_dir_if_empty(date_dir);
	return 0;
}

/* ------------------------------------------------------------ recovery */

/* Is the live file exactly what the archive holds plus its cut tail? */
static int live_matches(const struct live_file *f, const struct manifest *m)
{
	const struct manifest_entry *e = manifest_find(m, f->member);
	const struct manifest_cut *c = manifest_cut_find(m, f->member);
	uint64_t want = e ? e->bytes + (c ? c->cut_bytes : 0) : 0;
	char sha[SHA256_HEX_LEN];
	struct sha256 *h;
	char buf[65536];
	uint64_t off = 0;
	int fd, ok = 0;

	if (e == NULL || f->tail.size != want)
		return 0;
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	h = sha256_new();
	while (fd >= 0 && h != NULL && off < e->bytes) {
		size_t n = e->bytes - off < sizeof(buf)
				   ? (size_t)(e->bytes - off)
				   : sizeof(buf);

		if (fs_pread_full(fd, buf, n, (off_t)off) != 0 ||
		    sha256_update(h, buf, n) != 0)
			break;
		off += n;
	}
	if (off == e->bytes && h != NULL && sha256_final_hex(h, sha) == 0)
		ok = strcmp(sha, e->sha256) == 0 &&
		     (c == NULL ||
		      strcmp(f->tail.cut_sha256, c->cut_sha256) == 0);
	sha256_free(h);
	if (fd >= 0)
		close(fd);
	return ok;
}

static int recover(struct plan *p, struct rotate_stats *st)
{
	struct manifest *m = NULL;
	char sha[SHA256_HEX_LEN], side[SHA256_HEX_LEN], why[300];
	int rc = tarball_verify(p->arch, NULL, sha, NULL, &m, why, sizeof(why));

	if (rc != 0) {
		log_err("'%s' exists but fails verification: %s; originals "
			"kept",
			p->arch, why);
		return rc;
	}
	rc = read_sidecar(p, side);
	if (rc == CORE_ENOENT)
		rc = write_sidecar(p, sha);
	else if (rc == 0 && strcmp(side, sha) != 0)
		rc = CORE_ECORRUPT;
	if (rc != 0) {
		if (rc != CORE_ESYS)
			log_err("'%s': sidecar does not match the archive; "
				"originals kept",
				p->sidecar);
		manifest_free(m);
		return rc;
	}
	for (size_t i = 0; i < p->n; i++)
		if (!live_matches(&p->f[i], m)) {
			log_err("'%s' differs from its copy in '%s'; both kept",
				p->f[i].path, p->arch);
			manifest_free(m);
			return CORE_ECORRUPT;
		}
	manifest_free(m);
	log_notice("finishing '%s' left by an interrupted run", p->arch);
	(void)st;
	return delete_originals(p);
}

/* ------------------------------------------------------------ seal */

static void count_cuts(const struct plan *p, struct rotate_stats *st)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct live_file *f = &p->f[i];

		st->bytes_in += f->tail.size;
		if (f->tail.reason == NULL)
			continue;
		st->torn_tails_cut++;
		log_warn("'%s': cut %llu bytes (%s) at %llu", f->path,
			 (unsigned long long)(f->tail.size - f->tail.keep),
			 f->tail.reason, (unsigned long long)f->tail.keep);
	}
}

static int seal_new(const struct rotate_ctx *ctx, struct plan *p,
		    struct rotate_stats *st)
{
	char sha[SHA256_HEX_LEN];
	uint64_t bytes = 0;
	int rc = build_temp(ctx, p, sha, &bytes);

	if (rc != 0)
		return rc;
	if (renameat2(AT_FDCWD, p->tmp, AT_FDCWD, p->arch, RENAME_NOREPLACE) <
	    0) {
		int e = errno;

		(void)unlink(p->tmp);
		if (e == EEXIST)
			return recover(p, st);
		log_err("rename to '%s': %s", p->arch, strerror(e));
		return CORE_ESYS;
	}
	if (fs_fsync_dir(p->arch_dir) != 0) {
		log_err("fsync '%s': %s", p->arch_dir, strerror(errno));
		return CORE_ESYS;
	}
	fault_point("rename");
	if ((rc = write_sidecar(p, sha)) != 0)
		return rc;
	fault_point("sidecar");
	count_cuts(p, st);
	st->archives_made++;
	st->bytes_out += bytes;
	log_info("sealed '%s': %zu files, %llu bytes", p->arch, p->n,
		 (unsigned long long)bytes);
	return delete_originals(p);
}

static void dry_run_report(const struct plan *p, int exists)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < p->n; i++)
		bytes += p->f[i].tail.size;
	printf("%s %s: %zu files, %llu bytes\n",
	       exists ? "would finish" : "would seal", p->arch, p->n,
	       (unsigned long long)bytes);
	for (size_t i = 0; i < p->n; i++)
		if (p->f[i].tail.reason != NULL)
			printf("would cut %llu bytes (%s) from %s\n",
			       (unsigned long long)(p->f[i].tail.size -
						    p->f[i].tail.keep),
			       p->f[i].tail.reason, p->f[i].path);
}

int seal_hour(const struct rotate_ctx *ctx, const struct hour *h,
	      struct rotate_stats *st)
{
	struct plan p = { .ctx = ctx, .h = h };
	int rc, exists;

	rc = plan_paths(ctx, &p);
	if (rc == 0)
		rc = list_files(&p);
	if (rc == 0)
		rc = plan_files(ctx, &p);
	if (rc != 0)
		goto out;
	exists = access(p.arch, F_OK) == 0;
	if (ctx->dry_run) {
		dry_run_report(&p, exists);
		goto out;
	}
	if (p.n == 0 && !exists) {
		(void)remove_dir_if_empty(h->live_dir);
		goto out;
	}
	if ((rc = fs_mkdir_p(p.arch_dir, 0755)) != 0) {
		log_err_r(rc, "mkdir '%s'", p.arch_dir);
		goto out;
	}
	/* Temps of a run that died; the lock says none is still working. */
	(void)fs_clean_stale_temps(p.arch_dir);
	rc = exists ? recover(&p, st) : seal_new(ctx, &p, st);
out:
	free(p.f);
	return rc;
}
