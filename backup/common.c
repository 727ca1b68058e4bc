/* Helpers every booktape-backup command shares: transports, the run
 * lock, retries, ledger appends and temp directories. */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "timeutil.h"
#include "log.h"
#include "transport.h"
#include "banned.h"

bool bk_selected(const struct bk *b, size_t i)
{
	return b->only_dest == NULL ||
	       strcmp(b->only_dest, b->cfg.dests[i].name) == 0;
}

int bk_open(struct bk *b, size_t i, struct transport **out)
{
	char err[1024];
	int rc =
		transport_open(&b->cfg.dests[i], b->sec, out, err, sizeof(err));

	if (rc == 0)
		return 0;
	log_err("%s", err);
	return rc == CORE_ECONFIG ? EXIT_USAGE : EXIT_FAIL;
}

int bk_lock(struct bk *b)
{
	char path[4200];

	if (fs_mkdir_p(b->state_dir, 0750) != 0) {
		log_err("mkdir '%s': %s", b->state_dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (snprintf(path, sizeof(path), "%s/backup.lock", b->state_dir) >=
	    (int)sizeof(path)) {
		log_err("state dir path too long");
		return EXIT_FAIL;
	}
	b->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (b->lock_fd < 0) {
		log_err("open '%s': %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	if (flock(b->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_err("another booktape-backup holds '%s'; try later", path);
		return EXIT_TEMPFAIL;
	}
	return 0;
}

int bk_exit_for(int rc)
{
	if (rc == 0)
		return EXIT_OK;
	return rc == CORE_EAGAIN ? EXIT_TEMPFAIL : EXIT_FAIL;
}

int bk_worse(int a, int b)
{
	if (a == EXIT_FAIL || b == EXIT_FAIL)
		return EXIT_FAIL;
	if (a == EXIT_USAGE || b == EXIT_USAGE)
		return EXIT_USAGE;
	if (a == EXIT_TEMPFAIL || b == EXIT_TEMPFAIL)
		return EXIT_TEMPFAIL;
	return EXIT_OK;
}

bool bk_retry_wait(int n)
{
	long tries = transport_env_long("BOOKTAPE_BACKUP_RETRIES", 4);
	long delay = transport_env_long("BOOKTAPE_BACKUP_RETRY_DELAY_MS", 2000);
	struct timespec ts;

	if (n >= tries)
		return false;
	for (int i = 1; i < n && delay < 60000; i++)
		delay *= 2;
	ts.tv_sec = delay / 1000;
	ts.tv_nsec = (delay % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return true;
}

int bk_ledger(struct bk *b, const char *archive, const char *dest, int status,
	      uint64_t bytes, const char *sha256)
{
	struct ledger_record r = {
		.time_us = time_now_us(),
		.archive = archive,
		.destination = dest,
		.status = (enum ledger_status)status,
		.bytes = bytes,
	};
	int rc;

	snprintf(r.sha256, sizeof(r.sha256), "%s", sha256);
	if (fs_mkdir_p(b->state_dir, 0750) != 0) {
		log_err("mkdir '%s': %s", b->state_dir, strerror(errno));
		return CORE_ESYS;
	}
	rc = ledger_append(b->ledger_path, &r);
	if (rc != 0)
		log_err_r(rc, "append to ledger '%s'", b->ledger_path);
	return rc;
}

int bk_tmpdir(struct bk *b, const char *near, char *out, size_t size)
{
	const char *base = near != NULL ? near : b->state_dir;

	if (fs_mkdir_p(base, 0750) != 0) {
		log_err("mkdir '%s': %s", base, strerror(errno));
		return EXIT_FAIL;
	}
	snprintf(out, size, "%s/.booktape-backup.XXXXXX", base);
	if (mkdtemp(out) == NULL) {
		log_err("mkdtemp in '%s': %s", base, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

void bk_rmtree(const char *dir)
{
	char path[4600];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) != 0 && errno == EISDIR)
			bk_rmtree(path);
	}
	closedir(d);
	(void)rmdir(dir);
}
