/*
 * The file:// transport (a local disk or an NFS mount). Writes are
 * fsync'ed and every new or renamed name is made durable by fsync'ing
 * its directory; a rename never replaces an existing object. A missing
 * root, a full disk or a vanished mount is a transient failure.
 */
#include "transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "sha256.h"
#include "banned.h"

struct file_impl {
	char *root;
};

static const char *root_of(struct transport *t)
{
	return ((struct file_impl *)t->impl)->root;
}

/* Full path of an object into buf. */
static int obj_path(struct transport *t, const char *name, char *buf,
		    size_t size)
{
	int n = snprintf(buf, size, "%s/%s", root_of(t), name);

	if (n < 0 || (size_t)n >= size)
		return transport_fail(t, CORE_ETOOBIG, "path too long: '%s'",
				      name);
	return 0;
}

/* Map errno to transient (full, vanished, I/O) or permanent. */
static int errno_rc(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
	case EIO:
	case ESTALE:
	case ENOTCONN:
	case ENODEV:
	case EHOSTDOWN:
	case ETIMEDOUT:
	case ENOENT:
		return CORE_EAGAIN;
	default:
		return CORE_EREMOTE;
	}
}

static int sys_fail(struct transport *t, const char *what, const char *path)
{
	int e = errno;
	struct stat st;

	/* A missing root means the mount went away, not a missing object. */
	if (stat(root_of(t), &st) != 0 || !S_ISDIR(st.st_mode))
		return transport_fail(t, CORE_EAGAIN,
				      "destination root '%s' is gone "
				      "(unmounted?)",
				      root_of(t));
	return transport_fail(t, errno_rc(e), "%s '%s': %s", what, path,
			      strerror(e));
}

static int check_root(struct transport *t)
{
	struct stat st;

	if (stat(root_of(t), &st) != 0 || !S_ISDIR(st.st_mode))
		return transport_fail(t, CORE_EAGAIN,
				      "destination root '%s' is missing "
				      "(unmounted?)",
				      root_of(t));
	return 0;
}

static int copy_fd(int in, int out)
{
	static char buf[1 << 16];

	for (;;) {
		ssize_t n = fs_read_retry(in, buf, sizeof(buf));

		if (n <= 0)
			return n == 0 ? 0 : CORE_ESYS;
		if (fs_write_full(out, buf, (size_t)n) != 0)
			return CORE_ESYS;
	}
}

/* Copy `local` to `path` (truncating), fsync it and its directory. */
static int copy_file(struct transport *t, const char *local, const char *path)
{
	int in = -1, out = -1, rc = 0;

	in = open(local, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return transport_fail(t, CORE_ESYS, "open '%s': %s", local,
				      strerror(errno));
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = sys_fail(t, "create", path);
		goto out;
	}
	if (copy_fd(in, out) != 0 || fsync(out) != 0) {
		rc = sys_fail(t, "write", path);
		goto out;
	}
	if (close(out) != 0) {
		out = -1;
		rc = sys_fail(t, "close", path);
		goto out;
	}
	out = -1;
	if (fs_fsync_parent(path) != 0)
		rc = sys_fail(t, "fsync directory of", path);
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

static int file_put(struct transport *t, const char *local, const char *name,
		    const struct transport_put_info *info)
{
	char path[4096], dir[4096];
	int rc;

	(void)info;
	if ((rc = check_root(t)) != 0 ||
	    (rc = obj_path(t, name, path, sizeof(path))) != 0)
		return rc;
	if (fs_dirname(dir, sizeof(dir), path) != 0)
		return transport_fail(t, CORE_ETOOBIG, "path too long");
	if (fs_mkdir_p(dir, 0755) != 0)
		return sys_fail(t, "mkdir", dir);
	rc = copy_file(t, local, path);
	if (rc != 0)
		(void)unlink(path);
	return rc;
}

/* The file transport re-reads the object to vouch for its hash. */
static int file_stat(struct transport *t, const char *name,
		     struct transport_stat *st)
{
	char path[4096];
	uint64_t bytes = 0;
	struct stat sb;
	int rc;

	if ((rc = check_root(t)) != 0 ||
	    (rc = obj_path(t, name, path, sizeof(path))) != 0)
		return rc;
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return transport_fail(t, CORE_ENOENT, "'%s': absent",
					      name);
		return sys_fail(t, "stat", path);
	}
	if (sha256_file_hex(path, st->sha256, &bytes) != 0)
		return sys_fail(t, "read", path);
	st->size = bytes;
	st->has_sha256 = true;
	return 0;
}

static int file_get(struct transport *t, const char *name, const char *local)
{
	char path[4096];
	int in, out, rc = 0;

	if ((rc = check_root(t)) != 0 ||
	    (rc = obj_path(t, name, path, sizeof(path))) != 0)
		return rc;
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		if (errno == ENOENT)
			return transport_fail(t, CORE_ENOENT, "'%s': absent",
					      name);
		return sys_fail(t, "open", path);
	}
	out = open(local, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = transport_fail(t, CORE_ESYS, "create '%s': %s", local,
				    strerror(errno));
	} else if (copy_fd(in, out) != 0) {
		rc = transport_fail(t, CORE_ESYS, "copy '%s' to '%s': %s", path,
				    local, strerror(errno));
	}
	if (out >= 0 && close(out) != 0 && rc == 0)
		rc = transport_fail(t, CORE_ESYS, "close '%s': %s", local,
				    strerror(errno));
	close(in);
	return rc;
}

static int file_rename(struct transport *t, const char *from, const char *to)
{
	char a[4096], b[4096];
	int rc;

	if ((rc = check_root(t)) != 0 ||
	    (rc = obj_path(t, from, a, sizeof(a))) != 0 ||
	    (rc = obj_path(t, to, b, sizeof(b))) != 0)
		return rc;
	if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_NOREPLACE) != 0) {
		if (errno == EEXIST)
			return transport_fail(t, CORE_EEXIST,
					      "rename onto '%s': exists", to);
		if (errno != EINVAL && errno != ENOSYS)
			return sys_fail(t, "rename", a);
		/* No RENAME_NOREPLACE here (old NFS): link never replaces. */
		if (link(a, b) != 0) {
			if (errno == EEXIST)
				return transport_fail(
					t, CORE_EEXIST,
					"rename onto '%s': exists", to);
			return sys_fail(t, "link", b);
		}
		if (unlink(a) != 0)
			return sys_fail(t, "unlink", a);
	}
	if (fs_fsync_parent(b) != 0)
		return sys_fail(t, "fsync directory of", b);
	return 0;
}

static int list_dir(struct transport *t, const char *rel,
		    struct transport_list *out, int depth);

static int list_entry(struct transport *t, const char *rel, const char *dname,
		      struct transport_list *out, int depth)
{
	char relname[2048], path[4096];
	struct stat sb;
	int n;

	n = rel[0] ? snprintf(relname, sizeof(relname), "%s/%s", rel, dname)
		   : snprintf(relname, sizeof(relname), "%s", dname);
	if (n < 0 || (size_t)n >= sizeof(relname))
		return 0; /* not one of ours */
	if (obj_path(t, relname, path, sizeof(path)) != 0)
		return 0;
	if (lstat(path, &sb) != 0)
		return sys_fail(t, "stat", path);
	if (S_ISDIR(sb.st_mode))
		return list_dir(t, relname, out, depth + 1);
	if (!S_ISREG(sb.st_mode) || !transport_name_ok(relname))
		return 0;
	return transport_list_add(out, relname, strlen(relname),
				  (uint64_t)sb.st_size);
}

static int list_dir(struct transport *t, const char *rel,
		    struct transport_list *out, int depth)
{
	char path[4096];
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if (depth > 8)
		return 0;
	if (rel[0] == '\0')
		snprintf(path, sizeof(path), "%s", root_of(t));
	else if (obj_path(t, rel, path, sizeof(path)) != 0)
		return CORE_ETOOBIG;
	d = opendir(path);
	if (d == NULL)
		return sys_fail(t, "opendir", path);
	while (rc == 0 && (errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ".", "..", and our own temp files */
		rc = list_entry(t, rel, de->d_name, out, depth);
	}
	if (rc == 0 && errno != 0)
		rc = sys_fail(t, "readdir", path);
	closedir(d);
	return rc;
}

static int file_list(struct transport *t, struct transport_list *out)
{
	int rc = check_root(t);

	if (rc != 0)
		return rc;
	return list_dir(t, "", out, 0);
}

static int file_del(struct transport *t, const char *name)
{
	char path[4096];
	int rc;

	if ((rc = check_root(t)) != 0 ||
	    (rc = obj_path(t, name, path, sizeof(path))) != 0)
		return rc;
	if (unlink(path) != 0) {
		if (errno == ENOENT)
			return transport_fail(t, CORE_ENOENT, "'%s': absent",
					      name);
		return sys_fail(t, "unlink", path);
	}
	if (fs_fsync_parent(path) != 0)
		return sys_fail(t, "fsync directory of", path);
	return 0;
}

static void file_release(struct transport *t)
{
	struct file_impl *fi = t->impl;

	free(fi->root);
}

static const struct transport_ops file_ops = {
	.put = file_put,
	.stat = file_stat,
	.get = file_get,
	.rename = file_rename,
	.list = file_list,
	.del = file_del,
	.release = file_release,
};

int transport_file_open(const struct backup_destination *d,
			struct transport **out, char *err, size_t errsize)
{
	struct transport *t = transport_new(&file_ops, "file", d->name,
					    sizeof(struct file_impl));
	struct file_impl *fi;
	size_t n;

	*out = NULL;
	if (t == NULL)
		goto nomem;
	fi = t->impl;
	fi->root = strdup(d->path != NULL ? d->path : "");
	if (fi->root == NULL)
		goto nomem;
	n = strlen(fi->root);
	while (n > 1 && fi->root[n - 1] == '/')
		fi->root[--n] = '\0';
	if (fi->root[0] != '/') {
		snprintf(err, errsize,
			 "destination '%s': file:// needs an absolute path",
			 d->name);
		transport_free(t);
		return CORE_ECONFIG;
	}
	*out = t;
	return 0;
nomem:
	transport_free(t);
	snprintf(err, errsize, "out of memory");
	return CORE_ENOMEM;
}
