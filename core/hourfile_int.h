/*
 * Core-internal: the hourfile structure, shared by the writer
 * (hourfile.c) and the recovery of reopened files (hourfile_recover.c).
 */
#ifndef CORE_HOURFILE_INT_H
#define CORE_HOURFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "hourfile.h"
#include "timeutil.h"

#define DEFAULT_CAP	  ((size_t)16 << 20)
#define MIN_BUF		  ((size_t)64 << 10)
#define START_BUF	  ((size_t)4 << 10)
#define MAX_BUFFER_ROWS	  ((size_t)1 << 20)
#define TAIL_WINDOW	  ((size_t)64 << 10)
#define MAX_RECOVERY_CUTS 256
#define CLOSE_GRACE_US	  (5 * US_PER_SEC)
#define DIR_MODE	  0750
#define FILE_MODE	  0640

struct hourfile {
	char *data_dir, *exchange, *symbol;
	const struct schema *schema;
	size_t buffer_size, cap;
	int64_t flush_us, fsync_us;
	int64_t (*clock_us)(void);

	char *hdr; /* header row with its '\n' */
	size_t hdr_len;

	int fd;		  /* -1 when no file is open */
	bool have_hour;	  /* cur_hour is set */
	int64_t cur_hour; /* start of the current hour, µs */
	off_t file_size;  /* bytes in the file, as we appended them */
	char *dir, *path; /* of the current hour; 2 x PATH_MAX inline made
			   * every object 8 KiB, all of it touched by calloc */

	char *buf; /* formatted rows; row_end[i] is the end of row i */
	size_t used, bufsize;
	size_t planned; /* bufsize grows to this before rows go out early */
	size_t *row_end, nrows;
	int64_t oldest_us; /* clock when the first buffered row came */

	int block_col;		  /* the block column, or -1 */
	unsigned char *row_block; /* row i of the buffer is a block row */
	off_t tail_off;		  /* where the file's trailing run of block
				   * rows starts; file_size when none */
	uint64_t tail_rows;	  /* rows in that run */
	bool block_pending;	  /* the next row starts a block */

	bool dirty; /* written but not yet fdatasync'ed */
	int64_t dirty_since;
	bool gap;

	const char **rf; /* recovery: fields of one record, ncols + 1 */
	size_t *rl;

	struct hourfile_stats st;
};

/* Does a field of `len` bytes need CSV quotes? (hourfile.c) */
bool hourfile__needs_quotes(const char *f, size_t len);
/* Open the current hour's file at hf->path, creating its directory,
 * and recover what a crash left at its end; 0 or CORE_E* (the fd may be
 * left open on failure). (hourfile_recover.c) */
int hourfile__open_recover(struct hourfile *hf);

#endif
