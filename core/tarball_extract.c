/*
 * tarball_extract: safe extraction of chosen members of a verified
 * archive, each written to a temp file and renamed into place.
 */
#include "tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core.h"
#include "fsutil.h"
#include "gzsrc.h"
#include "banned.h"

#define IO_CHUNK (256u * 1024u)

static int want_member(const char *name, const char *const *names, int flags)
{
	int meta = strcmp(name, MANIFEST_NAME) == 0 ||
		   strcmp(name, CUTS_NAME) == 0;

	if (names == NULL)
		return !meta || (flags & TARBALL_WITH_META);
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

/* Copy the member's data into fd; returns 0 or an error with why. */
static int write_member_data(struct archive *a, struct gzsrc *s, int fd,
			     const char *name, uint64_t *written, char *why,
			     size_t whysize)
{
	const void *buf;
	size_t n;
	la_int64_t off;
	int r;

	*written = 0;
	while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		if ((uint64_t)off != *written) {
			core_set_why(why, whysize, "member '%s': sparse data",
				     name);
			return CORE_ECORRUPT;
		}
		if (fs_write_full(fd, buf, n) != 0) {
			core_set_why(why, whysize, "write '%s': %s", name,
				     strerror(errno));
			return CORE_ESYS;
		}
		*written += n;
	}
	if (r != ARCHIVE_EOF)
		return gzsrc_read_failed(a, s, why, whysize);
	return 0;
}

static int place_file(const char *tmp, const char *dst, int overwrite,
		      const char *dir)
{
	if (overwrite) {
		if (rename(tmp, dst) < 0)
			return CORE_ESYS;
	} else if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) <
		   0) {
		return errno == EEXIST ? CORE_EEXIST : CORE_ESYS;
	}
	return fs_fsync_dir(dir);
}

static int extract_one(struct archive *a, struct gzsrc *s,
		       struct archive_entry *e, const char *dest, int flags,
		       char *why, size_t whysize)
{
	const char *name = archive_entry_pathname(e);
	char dst[PATH_MAX], dir[PATH_MAX], tmp[PATH_MAX + 32];
	struct timespec ts[2];
	uint64_t written;
	int fd = -1, rc, n;

	n = snprintf(dst, sizeof(dst), "%s/%s", dest, name);
	if (n < 0 || (size_t)n >= sizeof(dst) ||
	    fs_dirname(dir, sizeof(dir), dst) != 0)
		return CORE_ETOOBIG;
	if ((rc = fs_mkdir_p(dir, 0755)) != 0) {
		core_set_why(why, whysize, "mkdir '%s': %s", dir,
			     core_strerror(rc));
		return rc;
	}
	if (!(flags & TARBALL_OVERWRITE) && access(dst, F_OK) == 0) {
		core_set_why(why, whysize, "'%s' exists", dst);
		return CORE_EEXIST;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, strrchr(dst, '/') + 1,
		 (long)getpid());
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		core_set_why(why, whysize, "create '%s': %s", tmp,
			     strerror(errno));
		return CORE_ESYS;
	}
	rc = write_member_data(a, s, fd, name, &written, why, whysize);
	if (rc == 0 && written != (uint64_t)archive_entry_size(e)) {
		core_set_why(why, whysize, "member '%s': short data", name);
		rc = CORE_ECORRUPT;
	}
	ts[0].tv_sec = ts[1].tv_sec = archive_entry_mtime(e);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (rc == 0 && (fchmod(fd, archive_entry_perm(e) & 0777) < 0 ||
			futimens(fd, ts) < 0 || fsync(fd) < 0)) {
		core_set_why(why, whysize, "finish '%s': %s", tmp,
			     strerror(errno));
		rc = CORE_ESYS;
	}
	if (close(fd) < 0 && rc == 0)
		rc = CORE_ESYS;
	if (rc == 0) {
		rc = place_file(tmp, dst, flags & TARBALL_OVERWRITE, dir);
		if (rc != 0)
			core_set_why(why, whysize, "rename to '%s': %s", dst,
				     rc == CORE_EEXIST ? "exists"
						       : strerror(errno));
	}
	if (rc != 0)
		(void)unlink(tmp);
	return rc;
}

static size_t count_names(const char *const *names)
{
	size_t n = 0;

	while (names != NULL && names[n] != NULL)
		n++;
	return n;
}

int tarball_extract(const char *path, const char *dest,
		    const char *const *names, int flags, size_t *nextracted,
		    char *why, size_t whysize)
{
	struct archive *a = NULL;
	struct archive_entry *e;
	struct gzsrc s;
	size_t done = 0;
	int r, rc;

	if (nextracted != NULL)
		*nextracted = 0;
	if ((rc = gzsrc_open(&s, path, why, whysize)) != 0 ||
	    (rc = gzsrc_reader_open(&s, &a, why, whysize)) != 0)
		goto out;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if ((rc = tarball__check_member(e, why, whysize)) != 0)
			goto out;
		if (!want_member(archive_entry_pathname(e), names, flags))
			continue;
		rc = extract_one(a, &s, e, dest, flags, why, whysize);
		if (rc != 0)
			goto out;
		done++;
	}
	if (r != ARCHIVE_EOF) {
		rc = gzsrc_read_failed(a, &s, why, whysize);
		goto out;
	}
	if ((rc = gzsrc_drain(&s, why, whysize)) != 0)
		goto out;
	if (names != NULL && done < count_names(names)) {
		core_set_why(why, whysize, "%zu requested members not found",
			     count_names(names) - done);
		rc = CORE_ENOENT;
	}
out:
	if (a != NULL)
		archive_read_free(a);
	gzsrc_close(&s);
	if (nextracted != NULL)
		*nextracted = done;
	return rc;
}
