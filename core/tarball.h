/*
 * booktape archives: tar.gz files written and read with libarchive
 * (pax_restricted, i.e. plain ustar unless a name or size needs pax),
 * with the integrity checks libarchive 3.6 does not do itself.
 *
 * Writing streams each member in constant memory, counts its bytes and
 * re-fstats the source (libarchive pads or cuts a member whose size
 * differs from its header without an error), and hashes the compressed
 * bytes as they are written, so the sidecar sha256 needs no second pass.
 *
 * Verifying reads the raw file once: it hashes the raw bytes, inflates
 * them with zlib (which checks the gzip CRC32 and length trailer,
 * rejects truncation and trailing garbage) and hands the tar stream to
 * libarchive, hashing every member; it then checks the members against
 * the embedded MANIFEST.csv (and CUTS.csv) and, when given, an expected
 * manifest: every listed file present exactly once with its size and
 * sha256, no other member.
 *
 * Extraction is safe by construction: only regular files, no absolute
 * names, no "..", no existing file overwritten unless asked, each file
 * written to a temp name, fsync'ed, renamed, and its directory fsync'ed.
 */
#ifndef CORE_TARBALL_H
#define CORE_TARBALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "manifest.h"
#include "sha256.h"

struct tarball_writer;

/* What tarball_add_file measured while archiving a file. */
struct tarball_file_info {
	uint64_t bytes;		     /* bytes archived */
	char sha256[SHA256_HEX_LEN]; /* of those bytes */
	mode_t mode;
	int64_t mtime; /* seconds */
};

/*
 * Called with each chunk of a file as it is archived, in order; return 0
 * to go on or a negative CORE_E* code to abort the whole archive (the
 * code is returned by tarball_add_file). Used by rotate to check CSV rows
 * on the very bytes that go into the archive.
 */
typedef int (*tarball_chunk_fn)(void *ud, const char *buf, size_t len);

/*
 * Start a gzip'ed tar stream on `fd` (not closed, not fsync'ed by this
 * module) at gzip `level` 0..9, no gzip header timestamp. Returns 0 and a
 * writer in *out (free with tarball_writer_free), CORE_EINVAL or CORE_EIO.
 */
int tarball_writer_new(struct tarball_writer **out, int fd, int level);

/*
 * Archive the file `path` as member `name` with its real mode and mtime.
 * limit < 0 archives the whole file; otherwise exactly its first `limit`
 * bytes (a torn tail cut), which must not exceed the size. The file is
 * fstat'ed before and after: CORE_ECORRUPT when its size changed or it
 * gave fewer bytes than declared. `fn` (may be NULL) sees every chunk.
 * On failure `why` (may be NULL) says what went wrong and the writer is
 * unusable (free it; the output is garbage).
 */
int tarball_add_file(struct tarball_writer *w, const char *name,
		     const char *path, int64_t limit, tarball_chunk_fn fn,
		     void *ud, struct tarball_file_info *info, char *why,
		     size_t whysize);

/* Archive `len` bytes of `data` as member `name` with mode and mtime. */
int tarball_add_data(struct tarball_writer *w, const char *name,
		     const void *data, size_t len, mode_t mode, int64_t mtime,
		     char *why, size_t whysize);

/*
 * Finish the stream (tar end blocks, gzip trailer). On success the sha256
 * of every byte written to fd goes to sha256_hex and their count to
 * *archive_bytes (both may be NULL). The writer must still be freed.
 */
int tarball_writer_finish(struct tarball_writer *w,
			  char sha256_hex[SHA256_HEX_LEN],
			  uint64_t *archive_bytes, char *why, size_t whysize);

/* NULL-safe; abandons an unfinished stream. Does not close the fd. */
void tarball_writer_free(struct tarball_writer *w);

/*
 * Verify the archive at `path` as described at the top of this file.
 * `expect` may be NULL (check against the embedded manifest only); when
 * given, the embedded manifest must also equal it (manifest_compare).
 * Members MANIFEST.csv (required) and CUTS.csv (optional) are the only
 * ones allowed beside the listed files.
 * On success returns 0; the whole file's sha256 goes to sha256_hex and its
 * size to *archive_bytes (both may be NULL), and if `embedded` is not NULL
 * it receives the parsed embedded manifest (caller frees).
 * On failure returns CORE_ECORRUPT (or CORE_ESYS, CORE_ENOMEM) with the
 * reason in `why`, e.g. "gzip: incorrect data check" or
 * "member 'x': sha256 mismatch".
 */
int tarball_verify(const char *path, const struct manifest *expect,
		   char sha256_hex[SHA256_HEX_LEN], uint64_t *archive_bytes,
		   struct manifest **embedded, char *why, size_t whysize);

enum {
	TARBALL_OVERWRITE = 1 << 0, /* replace existing files */
	TARBALL_WITH_META = 1 << 1, /* also extract MANIFEST.csv, CUTS.csv */
};

/*
 * Extract members of the archive at `path` under directory `dest` (which
 * must exist). `names` is a NULL-terminated list of member names to
 * extract (NULL: every data member). Existing files are refused
 * (CORE_EEXIST, nothing of that member written) unless TARBALL_OVERWRITE.
 * Unsafe members (absolute, "..", non-regular) fail with CORE_ECORRUPT.
 * Files get the member's mode (& 0777) and mtime. A member asked for but
 * absent is CORE_ENOENT. The gzip trailer is checked at the end, after
 * files were written: verify the archive first. *nextracted (may be
 * NULL) counts the files written.
 */
int tarball_extract(const char *path, const char *dest,
		    const char *const *names, int flags, size_t *nextracted,
		    char *why, size_t whysize);

#endif
