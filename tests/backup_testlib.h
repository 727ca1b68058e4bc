/*
 * Shared by the backup unit suites (push, remote, prune, transport_*):
 * a data_dir sandbox with a file:// destination, a struct bk set up as
 * main.c's load() does, and archives with sha256sum sidecars.
 */
#ifndef TESTS_BACKUP_TESTLIB_H
#define TESTS_BACKUP_TESTLIB_H

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "manifest.h"
#include "sha256.h"
#include "tarball.h"
#include "testutil.h"
#include "timeutil.h"

struct bt {
	char *dir;
	char remote[512];
	struct bk b;
};

/* data_dir and textfile_dir in a sandbox, one destination "nas". */
static inline void bt_init(struct bt *t, int keep_local, int keep_remote)
{
	char yml[2048], path[600], *err = NULL;

	memset(t, 0, sizeof(*t));
	t->dir = tu_tmpdir();
	snprintf(t->remote, sizeof(t->remote), "%s/nas", t->dir);
	ck_assert_int_eq(fs_mkdir_p(t->remote, 0750), 0);
	snprintf(yml, sizeof(yml),
		 "config:\n  data_dir: \"%s\"\n  textfile_dir: \"%s\"\n"
		 "  keep_local_days: %d\n  keep_remote_days: %d\n"
		 "  destinations:\n    - name: nas\n      url: \"file://%s\"\n",
		 t->dir, t->dir, keep_local, keep_remote, t->remote);
	snprintf(path, sizeof(path), "%s/b.yml", t->dir);
	tu_write(path, yml, strlen(yml));
	ck_assert_int_eq(config_load_backup(path, &t->b.cfg, &err), 0);
	t->b.lock_fd = -1;
	t->b.now_us = INT64_C(1795665600) * 1000000; /* 2026-11-26T05Z */
	snprintf(t->b.archive_dir, sizeof(t->b.archive_dir), "%s/archive",
		 t->dir);
	snprintf(t->b.state_dir, sizeof(t->b.state_dir), "%s/state", t->dir);
	snprintf(t->b.ledger_path, sizeof(t->b.ledger_path),
		 "%s/backup-ledger.csv", t->b.state_dir);
}

/* Run a command as main() would: its run lock goes with it. */
static inline int bt_run(struct bt *t, int (*cmd)(struct bk *))
{
	int rc = cmd(&t->b);

	if (t->b.lock_fd >= 0)
		close(t->b.lock_fd);
	t->b.lock_fd = -1;
	return rc;
}

static inline void bt_release(struct bt *t)
{
	config_release_backup(&t->b.cfg);
	tu_rmtree(t->dir);
}

/*
 * archive/gateio/<date>/gateio_<date>T<hh>.tar.gz: a real archive with
 * one data member of about `len` bytes and its manifest, and its
 * sidecar. Returns the name relative to archive/ (in rel).
 */
static inline const char *bt_archive(struct bt *t, const char *date,
				     const char *hh, size_t len, char *rel,
				     size_t relsize)
{
	char dir[4400], path[4700], side[2048], member[128], why[256];
	char hex[SHA256_HEX_LEN], *data = malloc(len), *mbuf;
	struct manifest *m = manifest_new();
	struct manifest_entry e = { .file = member, .bytes = len };
	struct tarball_writer *w;
	size_t mlen;
	int fd;

	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(m);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + (i * 7 + (unsigned char)hh[1]) % 26);
	snprintf(member, sizeof(member), "gateio/%s/%s/BTC_USDT.csv", date, hh);
	ck_assert_int_eq(sha256_buf_hex(data, len, e.sha256), 0);
	ck_assert_int_eq(manifest_add(m, &e), 0);
	ck_assert_int_eq(manifest_render(m, &mbuf, &mlen), 0);
	snprintf(dir, sizeof(dir), "%s/gateio/%s", t->b.archive_dir, date);
	ck_assert_int_eq(fs_mkdir_p(dir, 0750), 0);
	snprintf(rel, relsize, "gateio/%s/gateio_%sT%s.tar.gz", date, date, hh);
	snprintf(path, sizeof(path), "%s/%s", t->b.archive_dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tarball_writer_new(&w, fd, 1), 0);
	ck_assert_int_eq(tarball_add_data(w, member, data, len, 0640,
					  1700000000, why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_add_data(w, MANIFEST_NAME, mbuf, mlen, 0640,
					  1700000000, why, sizeof(why)),
			 0);
	ck_assert_int_eq(tarball_writer_finish(w, hex, NULL, why, sizeof(why)),
			 0);
	tarball_writer_free(w);
	ck_assert_int_eq(close(fd), 0);
	snprintf(side, sizeof(side), "%s  gateio_%sT%s.tar.gz\n", hex, date,
		 hh);
	snprintf(path, sizeof(path), "%s/%s.sha256", t->b.archive_dir, rel);
	tu_write(path, side, strlen(side));
	manifest_free(m);
	free(mbuf);
	free(data);
	return rel;
}

/* Does `rel` exist under dir? */
static inline bool bt_exists(const char *dir, const char *rel)
{
	char path[4700];

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return access(path, F_OK) == 0;
}

/* How many times `what` appears in the ledger (0 without one). */
static inline int bt_ledger_count(struct bt *t, const char *what)
{
	char *text = NULL;
	size_t len = 0;
	int n = 0;

	if (fs_read_file(t->b.ledger_path, 1 << 20, &text, &len) != 0)
		return 0;
	for (const char *p = text; (p = strstr(p, what)) != NULL; p++)
		n++;
	free(text);
	return n;
}

#endif
