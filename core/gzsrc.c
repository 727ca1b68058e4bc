/*
 * The archive reader's source (see gzsrc.h): raw file -> sha256 + zlib
 * inflate (gzip framing, so CRC32 and ISIZE are checked) -> tar bytes for
 * libarchive.
 */
#include "gzsrc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <zlib.h>

#include "core.h"
#include "sha256.h"
#include "banned.h"

#define IO_CHUNK (256u * 1024u)

static void gzsrc_fail(struct gzsrc *s, int rc, const char *msg)
{
	if (s->err == 0) {
		s->err = rc;
		snprintf(s->msg, sizeof(s->msg), "%s", msg);
	}
}

static int gzsrc_fill(struct gzsrc *s)
{
	ssize_t n;

	do {
		n = read(s->fd, s->in, IO_CHUNK);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		gzsrc_fail(s, CORE_ESYS, strerror(errno));
		return -1;
	}
	if (n == 0) {
		s->raw_eof = 1;
		return 0;
	}
	if (sha256_update(s->raw_sha, s->in, (size_t)n) != 0) {
		gzsrc_fail(s, CORE_ENOMEM, "sha256 failed");
		return -1;
	}
	s->raw_bytes += (uint64_t)n;
	s->z.next_in = s->in;
	s->z.avail_in = (uInt)n;
	return 0;
}

/* Up to IO_CHUNK inflated bytes into s->out: count, 0 at the end, -1. */
static ssize_t gzsrc_read(struct gzsrc *s)
{
	for (;;) {
		int zr;
		size_t got;

		if (s->err != 0)
			return -1;
		if (s->stream_end)
			return 0;
		if (s->z.avail_in == 0 && !s->raw_eof && gzsrc_fill(s) < 0)
			return -1;
		if (s->z.avail_in == 0 && s->raw_eof) {
			gzsrc_fail(s, CORE_ECORRUPT,
				   "gzip: unexpected end of file");
			return -1;
		}
		s->z.next_out = s->out;
		s->z.avail_out = IO_CHUNK;
		zr = inflate(&s->z, Z_NO_FLUSH);
		got = IO_CHUNK - s->z.avail_out;
		if (zr == Z_STREAM_END) {
			s->stream_end = 1;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			char m[150];

			snprintf(m, sizeof(m), "gzip: %s",
				 s->z.msg ? s->z.msg : "inflate error");
			gzsrc_fail(s, CORE_ECORRUPT, m);
			return -1;
		}
		if (got > 0)
			return (ssize_t)got;
	}
}

static int drain(struct gzsrc *s)
{
	ssize_t n;

	while ((n = gzsrc_read(s)) > 0)
		;
	if (n < 0)
		return s->err;
	if (s->z.avail_in > 0) {
		gzsrc_fail(s, CORE_ECORRUPT, "trailing data after gzip stream");
		return s->err;
	}
	while (!s->raw_eof) {
		if (gzsrc_fill(s) < 0)
			return s->err;
		if (s->z.avail_in > 0) {
			gzsrc_fail(s, CORE_ECORRUPT,
				   "trailing data after gzip stream");
			return s->err;
		}
	}
	return 0;
}

int gzsrc_drain(struct gzsrc *s, char *why, size_t whysize)
{
	int rc = drain(s);

	if (rc == 0)
		return 0;
	core_set_why(why, whysize, "%s", s->msg);
	return rc == CORE_ESYS ? CORE_ESYS : CORE_ECORRUPT;
}

static la_ssize_t read_cb(struct archive *a, void *ud, const void **buf)
{
	struct gzsrc *s = ud;
	ssize_t n = gzsrc_read(s);

	*buf = s->out;
	if (n < 0) {
		archive_set_error(a, EIO, "%s", s->msg);
		return -1;
	}
	return (la_ssize_t)n;
}

void gzsrc_close(struct gzsrc *s)
{
	if (s->z_ready)
		inflateEnd(&s->z);
	if (s->fd >= 0)
		close(s->fd);
	free(s->in);
	free(s->out);
	sha256_free(s->raw_sha);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int open_source(struct gzsrc *s, const char *path)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->in = malloc(IO_CHUNK);
	s->out = malloc(IO_CHUNK);
	s->raw_sha = sha256_new();
	if (s->in == NULL || s->out == NULL || s->raw_sha == NULL)
		return CORE_ENOMEM;
	if (inflateInit2(&s->z, 15 + 16) != Z_OK)
		return CORE_ENOMEM;
	s->z_ready = 1;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		return CORE_ESYS;
	(void)posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

int gzsrc_open(struct gzsrc *s, const char *path, char *why, size_t whysize)
{
	int rc = open_source(s, path);

	if (rc != 0)
		core_set_why(why, whysize, "open '%s': %s", path,
			     core_strerror(rc));
	return rc;
}

int gzsrc_read_failed(struct archive *a, struct gzsrc *s, char *why,
		      size_t whysize)
{
	if (s->err != 0) {
		core_set_why(why, whysize, "%s", s->msg);
		return s->err == CORE_ESYS ? CORE_ESYS : CORE_ECORRUPT;
	}
	core_set_why(why, whysize, "tar: %s", archive_error_string(a));
	return CORE_ECORRUPT;
}

int gzsrc_reader_open(struct gzsrc *s, struct archive **out, char *why,
		      size_t whysize)
{
	struct archive *a = archive_read_new();

	*out = NULL;
	if (a == NULL)
		return CORE_ENOMEM;
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return CORE_ENOMEM;
	}
	if (archive_read_open(a, s, NULL, read_cb, NULL) != ARCHIVE_OK) {
		int rc = gzsrc_read_failed(a, s, why, whysize);

		archive_read_free(a);
		return rc;
	}
	*out = a;
	return 0;
}
