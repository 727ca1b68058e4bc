/* Crash-safe file primitives (after redis rdbSave and restic's local backend).
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"
#include "banned.h"

int fs_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return CORE_ESYS;
		}
		if (n == 0) {
			errno = EIO;
			return CORE_ESYS;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_pread_full(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return CORE_ESYS;
		}
		if (n == 0)
			return CORE_EPARSE;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_dirname(char *dst, size_t size, const char *path)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (slash == NULL)
		n = snprintf(dst, size, ".");
	else if (slash == path)
		n = snprintf(dst, size, "/");
	else
		n = snprintf(dst, size, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= size)
		return CORE_ETOOBIG;
	return 0;
}

int fs_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return CORE_ESYS;
	if (fsync(fd) < 0)
		rc = CORE_ESYS;
	if (rc != 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return rc;
	}
	close(fd);
	return 0;
}

int fs_fsync_parent(const char *path)
{
	char dir[PATH_MAX];
	int rc = fs_dirname(dir, sizeof(dir), path);

	if (rc != 0)
		return rc;
	return fs_fsync_dir(dir);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base = strrchr(path, '/');
	int fd = -1, rc, n, saved;

	rc = fs_dirname(dir, sizeof(dir), path);
	if (rc != 0)
		return rc;
	base = base ? base + 1 : path;
	n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, base,
		     (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return CORE_ETOOBIG;
	/* A temp of ours from an earlier, failed call in this process. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return CORE_ESYS;
	if ((rc = fs_write_full(fd, data, len)) != 0)
		goto out;
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		rc = CORE_ESYS;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = CORE_ESYS;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = CORE_ESYS;
		goto out;
	}
	return fs_fsync_dir(dir);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	(void)unlink(tmp);
	errno = saved;
	return rc;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0)
		return CORE_EINVAL;
	if (len >= sizeof(buf))
		return CORE_ETOOBIG;
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, mode) == 0) {
			int rc = fs_fsync_parent(buf);

			if (rc != 0)
				return rc;
		} else if (errno != EEXIST) {
			return CORE_ESYS;
		} else {
			struct stat st;

			if (stat(buf, &st) < 0)
				return CORE_ESYS;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return CORE_ESYS;
			}
		}
		if (i < len)
			buf[i] = '/';
	}
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	int fd, rc = 0, saved;

	*out = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return CORE_ESYS;
	if (fstat(fd, &st) < 0) {
		rc = CORE_ESYS;
		goto out;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		rc = CORE_ETOOBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		rc = CORE_ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (have == (size_t)st.st_size)
			break; /* a file that grew is read up to its fstat size
				*/
		n = fs_read_retry(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0) {
			rc = CORE_ESYS;
			goto out;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*out = buf;
	*len = have;
	buf = NULL; /* transferred */
out:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return rc;
}

ssize_t fs_read_retry(int fd, void *buf, size_t n)
{
	ssize_t r;

	while ((r = read(fd, buf, n)) < 0 && errno == EINTR)
		;
	return r;
}

int fs_read_fd(int fd, struct buf *b)
{
	for (;;) {
		size_t want = buf_room(b) < 4096 ? buf_room(b) : 4096;
		char probe;
		ssize_t n;
		int rc;

		if (want > 0 && (rc = buf_reserve(b, want)) != 0)
			return rc;
		/* At the maximum, one more byte means the input is too big. */
		n = fs_read_retry(fd, want > 0 ? buf_tail(b) : &probe,
				  want > 0 ? want : 1);
		if (n <= 0)
			return n == 0 ? 0 : CORE_ESYS;
		if (want == 0)
			return CORE_ETOOBIG;
		buf_commit(b, (size_t)n);
	}
}

int fs_clean_stale_temps(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int removed = 0;

	if (d == NULL)
		return CORE_ESYS;
	while ((de = readdir(d)) != NULL) {
		const char *t = strstr(de->d_name, ".tmp.");
		char path[PATH_MAX], *end;
		long pid;
		int n;

		if (de->d_name[0] != '.' || t == NULL)
			continue;
		errno = 0;
		pid = strtol(t + 5, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0)
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* its writer may still be running */
		n = snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (n < 0 || (size_t)n >= sizeof(path))
			continue;
		if (unlink(path) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
