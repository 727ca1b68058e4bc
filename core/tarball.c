/*
 * The tar.gz writer: pax_restricted tar members through libarchive into
 * the parallel gzip (pgz.c), hashing each member and the whole archive.
 * Verification is tarball_verify.c, extraction tarball_extract.c, the
 * gzip reader both use gzsrc.c.
 */
#include "tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core.h"
#include "fsutil.h"
#include "manifest.h"
#include "pgz.h"
#include "sha256.h"
#include "banned.h"

#define IO_CHUNK (256u * 1024u)

/* ================================================================ writer */

struct tarball_writer {
	struct archive *a;
	struct pgz *gz;
	int fd;
	struct sha256 *arch_sha; /* every byte written to fd */
	struct sha256 *sha;	 /* the current member */
	uint64_t arch_bytes;
	char *buf;
	int failed;
};

/* Compressed bytes, in order: to the fd and the archive's sha256. */
static int emit_cb(void *ud, const void *buf, size_t len)
{
	struct tarball_writer *w = ud;

	if (fs_write_full(w->fd, buf, len) != 0)
		return -1;
	if (sha256_update(w->arch_sha, buf, len) != 0) {
		errno = ENOMEM;
		return -1;
	}
	w->arch_bytes += len;
	return 0;
}

/* Tar bytes from libarchive into the parallel compressor. */
static la_ssize_t write_cb(struct archive *a, void *ud, const void *buf,
			   size_t len)
{
	struct tarball_writer *w = ud;

	if (pgz_write(w->gz, buf, len) != 0) {
		archive_set_error(a, errno ? errno : EIO, "write: %s",
				  strerror(errno ? errno : EIO));
		return -1;
	}
	return (la_ssize_t)len;
}

static int writer_setup(struct tarball_writer *w, int level)
{
	w->gz = pgz_new(level, emit_cb, w);
	if (w->gz == NULL)
		return CORE_ENOMEM;
	if (archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->a) != ARCHIVE_OK)
		return CORE_EIO;
	/* Tar blocks only, no padding to libarchive's 10 KiB records. */
	if (archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK)
		return CORE_EIO;
	if (archive_write_open2(w->a, w, NULL, write_cb, NULL, NULL) !=
	    ARCHIVE_OK)
		return CORE_EIO;
	return 0;
}

int tarball_writer_new(struct tarball_writer **out, int fd, int level)
{
	struct tarball_writer *w;
	int rc;

	*out = NULL;
	if (fd < 0 || level < 0 || level > 9)
		return CORE_EINVAL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return CORE_ENOMEM;
	w->fd = fd;
	w->a = archive_write_new();
	w->arch_sha = sha256_new();
	w->sha = sha256_new();
	w->buf = malloc(IO_CHUNK);
	if (w->a == NULL || w->arch_sha == NULL || w->sha == NULL ||
	    w->buf == NULL) {
		tarball_writer_free(w);
		return CORE_ENOMEM;
	}
	rc = writer_setup(w, level);
	if (rc != 0) {
		tarball_writer_free(w);
		return rc;
	}
	*out = w;
	return 0;
}

void tarball_writer_free(struct tarball_writer *w)
{
	if (w == NULL)
		return;
	if (w->a != NULL)
		archive_write_free(w->a);
	pgz_free(w->gz);
	sha256_free(w->arch_sha);
	sha256_free(w->sha);
	free(w->buf);
	free(w);
}

static int write_header(struct tarball_writer *w, const char *name,
			const struct stat *st, uint64_t size, char *why,
			size_t whysize)
{
	struct archive_entry *e = archive_entry_new();
	int r;

	if (e == NULL)
		return CORE_ENOMEM;
	archive_entry_copy_stat(e, st);
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, st->st_mode & 07777);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	r = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (r != ARCHIVE_OK) {
		core_set_why(why, whysize, "'%s': header: %s", name,
			     archive_error_string(w->a));
		return CORE_EIO;
	}
	return 0;
}

static int write_data(struct tarball_writer *w, const char *name,
		      const void *buf, size_t n, char *why, size_t whysize)
{
	la_ssize_t r = archive_write_data(w->a, buf, n);

	if (r < 0 || (size_t)r != n) {
		core_set_why(why, whysize, "'%s': write: %s", name,
			     r < 0 ? archive_error_string(w->a)
				   : "short write");
		return CORE_EIO;
	}
	return sha256_update(w->sha, buf, n);
}

static int finish_entry(struct tarball_writer *w, const char *name, char *why,
			size_t whysize)
{
	if (archive_write_finish_entry(w->a) != ARCHIVE_OK) {
		core_set_why(why, whysize, "'%s': %s", name,
			     archive_error_string(w->a));
		return CORE_EIO;
	}
	return 0;
}

/* Stream `size` bytes of fd into the current member. */
static int copy_file(struct tarball_writer *w, int fd, const char *name,
		     uint64_t size, tarball_chunk_fn fn, void *ud, char *why,
		     size_t whysize)
{
	uint64_t left = size;
	int rc;

	while (left > 0) {
		size_t want = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
		ssize_t n = fs_read_retry(fd, w->buf, want);

		if (n < 0) {
			core_set_why(why, whysize, "read '%s': %s", name,
				     strerror(errno));
			return CORE_ESYS;
		}
		if (n == 0) {
			core_set_why(why, whysize,
				     "'%s': file shrank while archived", name);
			return CORE_ECORRUPT;
		}
		if (fn != NULL && (rc = fn(ud, w->buf, (size_t)n)) != 0) {
			core_set_why(why, whysize,
				     "'%s': rejected by the checker", name);
			return rc;
		}
		rc = write_data(w, name, w->buf, (size_t)n, why, whysize);
		if (rc != 0)
			return rc;
		left -= (uint64_t)n;
	}
	return 0;
}

static int add_file_fd(struct tarball_writer *w, int fd, const char *name,
		       int64_t limit, tarball_chunk_fn fn, void *ud,
		       struct tarball_file_info *info, char *why,
		       size_t whysize)
{
	struct stat st, st2;
	uint64_t size;
	int rc;

	if (fstat(fd, &st) < 0)
		return CORE_ESYS;
	if (!S_ISREG(st.st_mode)) {
		core_set_why(why, whysize, "'%s': not a regular file", name);
		return CORE_EINVAL;
	}
	size = (uint64_t)st.st_size;
	if (limit >= 0) {
		if ((uint64_t)limit > size) {
			core_set_why(why, whysize, "'%s': limit past the end",
				     name);
			return CORE_EINVAL;
		}
		size = (uint64_t)limit;
	}
	rc = write_header(w, name, &st, size, why, whysize);
	if (rc == 0)
		rc = copy_file(w, fd, name, size, fn, ud, why, whysize);
	if (rc != 0)
		return rc;
	if (fstat(fd, &st2) < 0)
		return CORE_ESYS;
	if (st2.st_size != st.st_size) {
		core_set_why(why, whysize, "'%s': size changed while archived",
			     name);
		return CORE_ECORRUPT;
	}
	rc = finish_entry(w, name, why, whysize);
	if (rc != 0)
		return rc;
	info->bytes = size;
	info->mode = st.st_mode & 07777;
	info->mtime = st.st_mtim.tv_sec;
	return sha256_final_hex(w->sha, info->sha256);
}

int tarball_add_file(struct tarball_writer *w, const char *name,
		     const char *path, int64_t limit, tarball_chunk_fn fn,
		     void *ud, struct tarball_file_info *info, char *why,
		     size_t whysize)
{
	int fd, rc, saved;

	memset(info, 0, sizeof(*info));
	if (w->failed)
		return CORE_EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		core_set_why(why, whysize, "open '%s': %s", path,
			     strerror(errno));
		w->failed = 1;
		return CORE_ESYS;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	rc = add_file_fd(w, fd, name, limit, fn, ud, info, why, whysize);
	saved = errno;
	/* The hour is sealed; keep its pages from crowding the cache. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	errno = saved;
	if (rc != 0)
		w->failed = 1;
	return rc;
}

int tarball_add_data(struct tarball_writer *w, const char *name,
		     const void *data, size_t len, mode_t mode, int64_t mtime,
		     char *why, size_t whysize)
{
	struct stat st;
	char hex[SHA256_HEX_LEN];
	int rc;

	if (w->failed)
		return CORE_EINVAL;
	memset(&st, 0, sizeof(st));
	st.st_mode = S_IFREG | (mode & 07777);
	st.st_mtim.tv_sec = (time_t)mtime;
	st.st_uid = getuid();
	st.st_gid = getgid();
	st.st_size = (off_t)len;
	st.st_nlink = 1;
	rc = write_header(w, name, &st, len, why, whysize);
	if (rc == 0 && len > 0)
		rc = write_data(w, name, data, len, why, whysize);
	if (rc == 0)
		rc = finish_entry(w, name, why, whysize);
	if (rc == 0)
		rc = sha256_final_hex(w->sha, hex);
	if (rc != 0)
		w->failed = 1;
	return rc;
}

int tarball_writer_finish(struct tarball_writer *w,
			  char sha256_hex[SHA256_HEX_LEN],
			  uint64_t *archive_bytes, char *why, size_t whysize)
{
	char hex[SHA256_HEX_LEN];
	int rc;

	if (w->failed)
		return CORE_EINVAL;
	/* close flushes the last tar blocks; pgz_finish the gzip trailer. */
	if (archive_write_close(w->a) != ARCHIVE_OK) {
		core_set_why(why, whysize, "close: %s",
			     archive_error_string(w->a));
		w->failed = 1;
		return CORE_EIO;
	}
	if (pgz_finish(w->gz) != 0) {
		core_set_why(why, whysize, "write: %s", strerror(errno));
		w->failed = 1;
		return CORE_ESYS;
	}
	rc = sha256_final_hex(w->arch_sha, hex);
	if (rc != 0)
		return rc;
	if (sha256_hex != NULL)
		memcpy(sha256_hex, hex, SHA256_HEX_LEN);
	if (archive_bytes != NULL)
		*archive_bytes = w->arch_bytes;
	w->failed = 1; /* nothing more may be added */
	return 0;
}
