/*
 * Core-internal: reading a .tar.gz for tarball_verify and tarball_extract.
 * The raw file is hashed (sha256) while zlib inflates it with gzip
 * framing, so the CRC32, ISIZE and truncation that libarchive 3.6 does not
 * check are checked here; libarchive reads the inflated tar bytes.
 */
#ifndef CORE_GZSRC_H
#define CORE_GZSRC_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

struct archive;
struct archive_entry;
struct sha256;

/* Embedded by the caller; the fields are private except raw_sha and
 * raw_bytes (the file's hash and size so far) and msg (after a failure). */
struct gzsrc {
	int fd;
	z_stream z;
	int z_ready;
	unsigned char *in, *out;
	struct sha256 *raw_sha;
	uint64_t raw_bytes;
	int stream_end, raw_eof;
	int err; /* CORE_E* once the stream failed */
	char msg[160];
};

/* Open `path`. 0, CORE_ENOMEM or CORE_ESYS with why set; call
 * gzsrc_close either way. */
int gzsrc_open(struct gzsrc *s, const char *path, char *why, size_t whysize);
/* Free everything; s may be opened again. */
void gzsrc_close(struct gzsrc *s);
/* Read to the end of the gzip stream and of the file: nothing may
 * follow. 0, or CORE_ESYS or CORE_ECORRUPT with why set. */
int gzsrc_drain(struct gzsrc *s, char *why, size_t whysize);
/*
 * A libarchive tar reader on the inflated stream (*out; the caller frees
 * it with archive_read_free). Opening already reads (to detect the
 * format), so a zlib failure can show up here. 0 or CORE_E* with why.
 */
int gzsrc_reader_open(struct gzsrc *s, struct archive **out, char *why,
		      size_t whysize);
/* The reason for a libarchive failure: ours (zlib) before libarchive's.
 * CORE_ESYS or CORE_ECORRUPT, with why set. */
int gzsrc_read_failed(struct archive *a, struct gzsrc *s, char *why,
		      size_t whysize);

/* A member name that is relative, not empty, has no "." or ".."
 * component and fits MANIFEST_NAME_MAX: 1 or 0 (tarball_verify.c). */
int tarball__safe_name(const char *name);
/* CORE_ECORRUPT (why: "member 'x': not a safe regular file") unless the
 * entry is a regular file with a safe name; else 0. */
int tarball__check_member(struct archive_entry *e, char *why, size_t whysize);

#endif
