/*
 * tar.gz writing, verification and safe extraction with libarchive,
 * plus the zlib pass that checks the gzip CRC and length libarchive 3.6
 * ignores.
 */
#include "tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "manifest.h"
#include "sha256.h"
#include "banned.h"

#define IO_CHUNK (256u * 1024u)

/* ================================================================ pgzip */

/*
 * Parallel gzip (after pigz): the tar stream is cut into 1 MiB blocks,
 * each deflated by a worker thread with the previous 32 KiB as its
 * dictionary and ended by a sync flush (the last by Z_FINISH), so the
 * concatenation is one ordinary gzip member whose CRC32 is combined from
 * the blocks'. Blocks are written in order by the caller's thread, so the
 * output does not depend on timing. This lets sealing use both cores the
 * way `tar | gzip` does, instead of deflating in the reading thread.
 */
#define PGZ_BLOCK	(1u << 20)
#define PGZ_DICT	32768u
#define PGZ_SLOTS	6
#define PGZ_MAX_THREADS 4

enum { JOB_FREE, JOB_QUEUED, JOB_WORKING, JOB_DONE };

struct pgz_job {
	unsigned char *in, *out;
	size_t in_len, out_len, out_cap;
	unsigned char dict[PGZ_DICT];
	size_t dict_len;
	uLong crc;
	int last, state, err;
};

typedef int (*pgz_emit_fn)(void *ud, const void *buf, size_t len);

struct pgz {
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	pthread_t th[PGZ_MAX_THREADS];
	int nth, level, stop, failed, started;
	struct pgz_job job[PGZ_SLOTS];
	uint64_t fill, take, wrote; /* sequence numbers */
	unsigned char tail[PGZ_DICT];
	size_t tail_len;
	uLong crc;
	uint64_t isize;
	pgz_emit_fn emit;
	void *ud;
};

static int pgz_deflate(struct pgz_job *j, int level)
{
	z_stream z;
	int zr;

	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return -1;
	if (j->dict_len > 0 &&
	    deflateSetDictionary(&z, j->dict, (uInt)j->dict_len) != Z_OK) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = j->in;
	z.avail_in = (uInt)j->in_len;
	z.next_out = j->out;
	z.avail_out = (uInt)j->out_cap;
	zr = deflate(&z, j->last ? Z_FINISH : Z_SYNC_FLUSH);
	j->out_len = j->out_cap - z.avail_out;
	deflateEnd(&z);
	/* out_cap is deflateBound + slack: one call always finishes. */
	if (j->last ? zr != Z_STREAM_END : (zr != Z_OK || z.avail_in != 0))
		return -1;
	j->crc = crc32(0L, j->in, (uInt)j->in_len);
	return 0;
}

static void *pgz_worker(void *arg)
{
	struct pgz *g = arg;

	pthread_mutex_lock(&g->mu);
	for (;;) {
		struct pgz_job *j;

		while (!g->stop && g->take == g->fill)
			pthread_cond_wait(&g->cv_work, &g->mu);
		if (g->stop)
			break;
		j = &g->job[g->take++ % PGZ_SLOTS];
		j->state = JOB_WORKING;
		pthread_mutex_unlock(&g->mu);
		j->err = pgz_deflate(j, g->level);
		pthread_mutex_lock(&g->mu);
		j->state = JOB_DONE;
		pthread_cond_broadcast(&g->cv_done);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

static void pgz_free(struct pgz *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_broadcast(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < g->nth; i++)
		pthread_join(g->th[i], NULL);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		free(g->job[i].in);
		free(g->job[i].out);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cv_work);
	pthread_cond_destroy(&g->cv_done);
	free(g);
}

static struct pgz *pgz_new(int level, pgz_emit_fn emit, void *ud)
{
	struct pgz *g = calloc(1, sizeof(*g));
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int nth = ncpu < 1		   ? 1
		  : ncpu > PGZ_MAX_THREADS ? PGZ_MAX_THREADS
					   : (int)ncpu;

	if (g == NULL)
		return NULL;
	g->level = level;
	g->emit = emit;
	g->ud = ud;
	g->crc = crc32(0L, Z_NULL, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv_work, NULL);
	pthread_cond_init(&g->cv_done, NULL);
	for (int i = 0; i < PGZ_SLOTS; i++) {
		g->job[i].out_cap = PGZ_BLOCK + PGZ_BLOCK / 8 + 4096;
		g->job[i].in = malloc(PGZ_BLOCK);
		g->job[i].out = malloc(g->job[i].out_cap);
		if (g->job[i].in == NULL || g->job[i].out == NULL) {
			pgz_free(g);
			return NULL;
		}
	}
	for (; g->nth < nth; g->nth++)
		if (pthread_create(&g->th[g->nth], NULL, pgz_worker, g) != 0)
			break;
	if (g->nth == 0) {
		pgz_free(g);
		return NULL;
	}
	return g;
}

/* Write out the oldest submitted block (waiting for it). 0 or -1. */
static int pgz_write_oldest(struct pgz *g)
{
	struct pgz_job *j = &g->job[g->wrote % PGZ_SLOTS];
	int rc = 0;

	pthread_mutex_lock(&g->mu);
	while (j->state != JOB_DONE)
		pthread_cond_wait(&g->cv_done, &g->mu);
	pthread_mutex_unlock(&g->mu);
	if (j->err != 0 || g->emit(g->ud, j->out, j->out_len) != 0)
		rc = -1;
	g->crc = crc32_combine(g->crc, j->crc, (z_off_t)j->in_len);
	g->isize += j->in_len;
	j->state = JOB_FREE;
	j->in_len = 0;
	g->wrote++;
	return rc;
}

/* Hand the block being filled to the workers; make room for the next. */
static int pgz_submit(struct pgz *g, int last)
{
	struct pgz_job *j = &g->job[g->fill % PGZ_SLOTS], *next;

	memcpy(j->dict, g->tail, g->tail_len);
	j->dict_len = g->tail_len;
	j->last = last;
	if (j->in_len >= PGZ_DICT) {
		memcpy(g->tail, j->in + j->in_len - PGZ_DICT, PGZ_DICT);
		g->tail_len = PGZ_DICT;
	} else {
		size_t keep = PGZ_DICT - j->in_len;

		if (keep > g->tail_len)
			keep = g->tail_len;
		memmove(g->tail, g->tail + g->tail_len - keep, keep);
		memcpy(g->tail + keep, j->in, j->in_len);
		g->tail_len = keep + j->in_len;
	}
	pthread_mutex_lock(&g->mu);
	j->state = JOB_QUEUED;
	g->fill++;
	pthread_cond_signal(&g->cv_work);
	pthread_mutex_unlock(&g->mu);
	next = &g->job[g->fill % PGZ_SLOTS];
	while (!last && next->state != JOB_FREE)
		if (pgz_write_oldest(g) != 0)
			return -1;
	return 0;
}

static int pgz_write(struct pgz *g, const void *buf, size_t len)
{
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0,
					       0,    0,	   0, 0, 3 };
	const unsigned char *p = buf;

	if (g->failed)
		return -1;
	if (!g->started) {
		g->started = 1;
		if (g->emit(g->ud, hdr, sizeof(hdr)) != 0)
			return g->failed = -1;
	}
	while (len > 0) {
		struct pgz_job *j = &g->job[g->fill % PGZ_SLOTS];
		size_t n = PGZ_BLOCK - j->in_len;

		if (n > len)
			n = len;
		memcpy(j->in + j->in_len, p, n);
		j->in_len += n;
		p += n;
		len -= n;
		if (j->in_len == PGZ_BLOCK && pgz_submit(g, 0) != 0)
			return g->failed = -1;
	}
	return 0;
}

/* The last block, every pending block, then CRC32 and ISIZE. */
static int pgz_finish(struct pgz *g)
{
	unsigned char trailer[8];

	if (g->failed || pgz_write(g, "", 0) != 0 || pgz_submit(g, 1) != 0)
		return -1;
	while (g->wrote < g->fill)
		if (pgz_write_oldest(g) != 0)
			return g->failed = -1;
	for (int i = 0; i < 4; i++) {
		trailer[i] = (unsigned char)(g->crc >> (8 * i));
		trailer[4 + i] = (unsigned char)(g->isize >> (8 * i));
	}
	return g->emit(g->ud, trailer, sizeof(trailer));
}

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
		ssize_t n = read(fd, w->buf, want);

		if (n < 0 && errno == EINTR)
			continue;
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

/* ================================================================ reader */

/*
 * Raw file -> sha256 + zlib inflate (gzip framing, so CRC32 and ISIZE
 * are checked) -> tar bytes for libarchive.
 */
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

/* Read to the end of the gzip stream and of the file: nothing may follow. */
static int gzsrc_drain(struct gzsrc *s)
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

static void gzsrc_close(struct gzsrc *s)
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

static int gzsrc_open(struct gzsrc *s, const char *path)
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

/* The reason for a libarchive failure: ours (zlib) before libarchive's. */
static int read_failed(struct archive *a, struct gzsrc *s, char *why,
		       size_t whysize)
{
	if (s->err != 0) {
		core_set_why(why, whysize, "%s", s->msg);
		return s->err == CORE_ESYS ? CORE_ESYS : CORE_ECORRUPT;
	}
	core_set_why(why, whysize, "tar: %s", archive_error_string(a));
	return CORE_ECORRUPT;
}

/*
 * A libarchive reader on the inflated stream. Opening already reads (to
 * detect the format), so a zlib failure can show up here.
 */
static int reader_open(struct gzsrc *s, struct archive **out, char *why,
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
		int rc = read_failed(a, s, why, whysize);

		archive_read_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

/* ================================================================ verify */

struct seen {
	char *name;
	uint64_t bytes;
	char sha[SHA256_HEX_LEN];
};

struct vstate {
	struct seen *v;
	size_t n, cap;
	struct buf manifest, cuts; /* member contents */
	int has_manifest, has_cuts;
};

static void vstate_release(struct vstate *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->v[i].name);
	free(st->v);
	buf_release(&st->manifest);
	buf_release(&st->cuts);
}

static int safe_name(const char *name)
{
	size_t n = strlen(name), comp = 0;

	if (n == 0 || n > MANIFEST_NAME_MAX || name[0] == '/')
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (name[i] == '/' || name[i] == '\0') {
			if (comp == 0 || (comp == 1 && name[i - 1] == '.') ||
			    (comp == 2 && name[i - 1] == '.' &&
			     name[i - 2] == '.'))
				return 0;
			comp = 0;
		} else {
			comp++;
		}
	}
	return 1;
}

/* Hash one member's data; keep it when it is MANIFEST.csv or CUTS.csv. */
static int hash_member(struct archive *a, struct gzsrc *s, struct vstate *st,
		       struct seen *cur, int meta, char *why, size_t whysize)
{
	struct sha256 *h = sha256_new();
	const void *buf;
	size_t n;
	la_int64_t off;
	int r, rc = 0;

	if (h == NULL)
		return CORE_ENOMEM;
	while ((r = archive_read_data_block(a, &buf, &n, &off)) == ARCHIVE_OK) {
		if ((uint64_t)off != cur->bytes) {
			core_set_why(why, whysize, "member '%s': sparse data",
				     cur->name);
			rc = CORE_ECORRUPT;
			break;
		}
		cur->bytes += n;
		if ((rc = sha256_update(h, buf, n)) != 0)
			break;
		if (meta == 1)
			rc = buf_add(&st->manifest, buf, n);
		else if (meta == 2)
			rc = buf_add(&st->cuts, buf, n);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = read_failed(a, s, why, whysize);
	if (rc == 0)
		rc = sha256_final_hex(h, cur->sha);
	sha256_free(h);
	return rc;
}

static int seen_find(const struct vstate *st, const char *name)
{
	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int verify_member(struct archive *a, struct gzsrc *s,
			 struct archive_entry *e, struct vstate *st, char *why,
			 size_t whysize)
{
	const char *name = archive_entry_pathname(e);
	struct seen *cur;
	int meta = 0, rc;

	if (name == NULL || !safe_name(name) ||
	    archive_entry_filetype(e) != AE_IFREG) {
		core_set_why(why, whysize,
			     "member '%s': not a safe regular file",
			     name ? name : "?");
		return CORE_ECORRUPT;
	}
	if (seen_find(st, name) >= 0) {
		core_set_why(why, whysize, "member '%s': appears twice", name);
		return CORE_ECORRUPT;
	}
	if (BUF_GROW(st->v, st->cap, st->n + 1) != 0)
		return CORE_ENOMEM;
	cur = &st->v[st->n];
	memset(cur, 0, sizeof(*cur));
	cur->name = strdup(name);
	if (cur->name == NULL)
		return CORE_ENOMEM;
	st->n++;
	if (strcmp(name, MANIFEST_NAME) == 0)
		meta = st->has_manifest = 1;
	else if (strcmp(name, CUTS_NAME) == 0)
		meta = 2, st->has_cuts = 1;
	rc = hash_member(a, s, st, cur, meta, why, whysize);
	if (rc == 0 && archive_entry_size(e) != (la_int64_t)cur->bytes) {
		core_set_why(why, whysize,
			     "member '%s': %llu bytes, header says %lld", name,
			     (unsigned long long)cur->bytes,
			     (long long)archive_entry_size(e));
		rc = CORE_ECORRUPT;
	}
	return rc;
}

static int read_all_members(struct gzsrc *s, struct vstate *st, char *why,
			    size_t whysize)
{
	struct archive *a;
	struct archive_entry *e;
	int r, rc = reader_open(s, &a, why, whysize);

	if (rc != 0)
		return rc;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		rc = verify_member(a, s, e, st, why, whysize);
		if (rc != 0)
			break;
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = read_failed(a, s, why, whysize);
	archive_read_free(a);
	if (rc == 0 && (rc = gzsrc_drain(s)) != 0)
		core_set_why(why, whysize, "%s", s->msg);
	return rc == CORE_ESYS ? CORE_ESYS : rc ? CORE_ECORRUPT : 0;
}

static int embedded_manifest(struct vstate *st, struct manifest **out,
			     char *why, size_t whysize)
{
	char sub[200];
	int rc;

	*out = NULL;
	if (!st->has_manifest) {
		core_set_why(why, whysize, "no %s member", MANIFEST_NAME);
		return CORE_ECORRUPT;
	}
	rc = manifest_parse(buf_str(&st->manifest), buf_len(&st->manifest), out,
			    sub, sizeof(sub));
	if (rc == 0 && st->has_cuts)
		rc = manifest_parse_cuts(*out, buf_str(&st->cuts),
					 buf_len(&st->cuts), sub, sizeof(sub));
	if (rc != 0) {
		core_set_why(why, whysize, "%s: %s",
			     st->has_cuts ? "MANIFEST.csv/CUTS.csv"
					  : MANIFEST_NAME,
			     rc == CORE_ENOMEM ? "out of memory" : sub);
		manifest_free(*out);
		*out = NULL;
		return rc == CORE_ENOMEM ? rc : CORE_ECORRUPT;
	}
	return 0;
}

/* Every listed file present once with its size and hash; nothing else. */
static int match_manifest(const struct vstate *st, const struct manifest *m,
			  char *why, size_t whysize)
{
	size_t data_members = 0;

	for (size_t i = 0; i < st->n; i++)
		if (strcmp(st->v[i].name, MANIFEST_NAME) != 0 &&
		    strcmp(st->v[i].name, CUTS_NAME) != 0)
			data_members++;
	for (size_t i = 0; i < manifest_count(m); i++) {
		const struct manifest_entry *e = manifest_get(m, i);
		int k = seen_find(st, e->file);

		if (k < 0) {
			core_set_why(why, whysize, "member '%s': missing",
				     e->file);
			return CORE_ECORRUPT;
		}
		if (st->v[k].bytes != e->bytes) {
			core_set_why(
				why, whysize,
				"member '%s': %llu bytes, manifest says %llu",
				e->file, (unsigned long long)st->v[k].bytes,
				(unsigned long long)e->bytes);
			return CORE_ECORRUPT;
		}
		if (strcmp(st->v[k].sha, e->sha256) != 0) {
			core_set_why(why, whysize,
				     "member '%s': sha256 mismatch", e->file);
			return CORE_ECORRUPT;
		}
	}
	if (data_members != manifest_count(m)) {
		core_set_why(why, whysize, "%zu members not in the manifest",
			     data_members - manifest_count(m));
		return CORE_ECORRUPT;
	}
	return 0;
}

int tarball_verify(const char *path, const struct manifest *expect,
		   char sha256_hex[SHA256_HEX_LEN], uint64_t *archive_bytes,
		   struct manifest **embedded, char *why, size_t whysize)
{
	struct vstate st = { 0 };
	struct manifest *m = NULL;
	struct gzsrc s;
	char hex[SHA256_HEX_LEN], sub[200];
	int rc;

	buf_init(&st.manifest, MANIFEST_MAX_BYTES);
	buf_init(&st.cuts, MANIFEST_MAX_BYTES);
	if (embedded != NULL)
		*embedded = NULL;
	rc = gzsrc_open(&s, path);
	if (rc != 0) {
		core_set_why(why, whysize, "open '%s': %s", path,
			     core_strerror(rc));
		goto out;
	}
	rc = read_all_members(&s, &st, why, whysize);
	if (rc == 0)
		rc = embedded_manifest(&st, &m, why, whysize);
	if (rc == 0)
		rc = match_manifest(&st, m, why, whysize);
	if (rc == 0 && expect != NULL &&
	    manifest_compare(expect, m, sub, sizeof(sub)) != 0) {
		core_set_why(why, whysize, "manifest differs from expected: %s",
			     sub);
		rc = CORE_ECORRUPT;
	}
	if (rc == 0)
		rc = sha256_final_hex(s.raw_sha, hex);
	if (rc != 0)
		goto out;
	if (sha256_hex != NULL)
		memcpy(sha256_hex, hex, SHA256_HEX_LEN);
	if (archive_bytes != NULL)
		*archive_bytes = s.raw_bytes;
	if (embedded != NULL) {
		*embedded = m;
		m = NULL; /* transferred */
	}
out:
	manifest_free(m);
	vstate_release(&st);
	gzsrc_close(&s);
	return rc;
}

/* ================================================================ extract */

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
		return read_failed(a, s, why, whysize);
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

static int extract_check(struct archive_entry *e, char *why, size_t whysize)
{
	const char *name = archive_entry_pathname(e);

	if (name == NULL || !safe_name(name) ||
	    archive_entry_filetype(e) != AE_IFREG) {
		core_set_why(why, whysize,
			     "member '%s': not a safe regular file",
			     name ? name : "?");
		return CORE_ECORRUPT;
	}
	return 0;
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
	rc = gzsrc_open(&s, path);
	if (rc != 0) {
		core_set_why(why, whysize, "open '%s': %s", path,
			     core_strerror(rc));
		goto out;
	}
	if ((rc = reader_open(&s, &a, why, whysize)) != 0)
		goto out;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if ((rc = extract_check(e, why, whysize)) != 0)
			goto out;
		if (!want_member(archive_entry_pathname(e), names, flags))
			continue;
		rc = extract_one(a, &s, e, dest, flags, why, whysize);
		if (rc != 0)
			goto out;
		done++;
	}
	if (r != ARCHIVE_EOF) {
		rc = read_failed(a, &s, why, whysize);
		goto out;
	}
	if ((rc = gzsrc_drain(&s)) != 0) {
		core_set_why(why, whysize, "%s", s.msg);
		rc = rc == CORE_ESYS ? rc : CORE_ECORRUPT;
		goto out;
	}
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
