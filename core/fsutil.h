/*
 * Crash-safe file primitives: whole-file replacement (temp, fsync,
 * rename, fsync the directory), full writes, directory creation and
 * bounded reads. Every file booktape replaces goes through here.
 */
#ifndef CORE_FSUTIL_H
#define CORE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

struct buf;

/*
 * Replace `path` with `len` bytes of `data`, atomically and durably: the
 * data goes to "<dir>/.<name>.tmp.<pid>" (O_EXCL), is fsync'ed and
 * renamed over `path`, then the directory is fsync'ed. A crash leaves
 * either the old or the new file, never a mix; on failure the temp file
 * is removed. `mode` is applied with fchmod (umask does not narrow it).
 * Returns 0 or a CORE_E* code.
 */
int fs_write_atomic(const char *path, const void *data, size_t len,
		    mode_t mode);

/* write(2) all of buf, retrying on EINTR and short writes. 0 or CORE_ESYS. */
int fs_write_full(int fd, const void *buf, size_t len);

/* pread(2) exactly len bytes at off; CORE_EPARSE on early EOF. */
int fs_pread_full(int fd, void *buf, size_t len, off_t off);

/* fsync the directory at `dir`. 0 or CORE_ESYS. */
int fs_fsync_dir(const char *dir);

/* fsync the directory that holds `path`. 0 or CORE_ESYS. */
int fs_fsync_parent(const char *path);

/*
 * mkdir -p with `mode` for the directories it creates, fsync'ing each
 * parent whose entries changed so new names survive a crash.
 */
int fs_mkdir_p(const char *path, mode_t mode);

/*
 * Read the whole file at `path` into a new NUL-terminated buffer.
 * Fails with CORE_ETOOBIG above `max` bytes. On success the caller frees
 * *out; *len excludes the terminating NUL. Out-params are cleared first.
 */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);

/*
 * Append everything `fd` still has to read to `b`, up to the buffer's
 * maximum. 0, CORE_ETOOBIG (more than the maximum), CORE_ENOMEM or
 * CORE_ESYS (errno set). The caller still owns `fd` and `b`.
 */
int fs_read_fd(int fd, struct buf *b);

/* read(2) that retries on EINTR: bytes read, 0 at the end, -1 (errno). */
ssize_t fs_read_retry(int fd, void *buf, size_t n);

/*
 * Remove stale temp files ".<anything>.tmp.<pid>" left in `dir` by a
 * crashed fs_write_atomic whose pid no longer runs. Returns the count
 * removed, or a negative CORE_E* code.
 */
int fs_clean_stale_temps(const char *dir);

/*
 * Copy the directory part of `path` into dst ("." when there is none).
 * Returns 0, or CORE_ETOOBIG when dst is too small.
 */
int fs_dirname(char *dst, size_t size, const char *path);

#endif
