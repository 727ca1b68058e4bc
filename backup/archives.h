/*
 * Archive names and the local archive tree. An archive is
 * "<exchange>/<YYYY-MM-DD>/<exchange>_<YYYY-MM-DD>T<HH>.tar.gz" relative
 * to <data_dir>/archive (and to a destination's root), with a sidecar
 * "<that>.sha256" in sha256sum format.
 */
#ifndef BACKUP_ARCHIVES_H
#define BACKUP_ARCHIVES_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define ARCHIVE_EXCHANGE_MAX 32

struct local_archive {
	char *rel;  /* relative name, as above */
	char *path; /* <archive_dir>/<rel> */
	char exchange[ARCHIVE_EXCHANGE_MAX];
	int64_t hour_us; /* start of the hour it holds */
	uint64_t size;
};

/*
 * Parse a relative archive name. Returns 0 and fills exchange (size
 * ARCHIVE_EXCHANGE_MAX) and *hour_us, or CORE_EPARSE when `rel` is not
 * exactly of the form above (sidecars and temp names are not archives).
 */
int archive_name_parse(const char *rel, char *exchange, int64_t *hour_us);

/*
 * List every archive under archive_dir, sorted by name. A missing
 * directory is an empty list. *out (caller frees with
 * archives_free(*out, *n)) and *n are cleared first. 0 or CORE_E*.
 */
int archives_scan(const char *archive_dir, struct local_archive **out,
		  size_t *n);
void archives_free(struct local_archive *v, size_t n);

/*
 * Parse sha256sum output for one file: "<64 hex>  <name>\n" (or " *"
 * before the name). `name` (may be NULL) must equal the file name in it.
 * Returns 0 and the hex in `hex`, or CORE_EPARSE.
 */
int sidecar_parse(const char *buf, size_t len, const char *name,
		  char hex[SHA256_HEX_LEN]);

/* Read and parse the sidecar of the archive at `path` (path + ".sha256"). */
int sidecar_read(const char *path, char hex[SHA256_HEX_LEN]);

/* 0 when the sha256 `hex` equals the sidecar's `side`, else CORE_ECORRUPT
 * with both (shortened) in why. */
int sidecar_match(const char *hex, const char *side, char *why, size_t whysize);

/* The last path component of `rel`. */
const char *archive_basename(const char *rel);

#endif
