/*
 * MANIFEST.csv and CUTS.csv: the two small members every booktape
 * archive carries beside its data files. Model, writer and a strict
 * libcsv parser shared by booktape-rotate (writes) and booktape-backup
 * (verifies and restores).
 *
 * MANIFEST.csv, one row per data member, in archive order:
 *
 *   file,bytes,rows,sha256,first_local_timestamp,last_local_timestamp
 *
 * - file: the member name in the archive, which is the path relative to
 *   <data_dir>/live: "<exchange>/<YYYY-MM-DD>/<HH>/<SYMBOL>.<dataset>.csv".
 * - bytes: member size; rows: data rows, the header excluded.
 * - sha256: lowercase hex of the member's bytes.
 * - first/last_local_timestamp: the smallest and largest local_timestamp
 *   (µs since epoch) of the data rows, i.e. the first and last row's in a
 *   file written in order; both empty when the file has no data row.
 *
 * CUTS.csv, present only when a torn tail was cut from some file:
 *
 *   file,kept_bytes,cut_bytes,cut_sha256,reason
 *
 * - file: as in MANIFEST.csv; kept_bytes equals its `bytes` there.
 * - cut_bytes: bytes dropped from the end of the live file (the original
 *   was kept_bytes + cut_bytes long); cut_sha256: hex of those bytes.
 * - reason: "partial line" (no final newline) or "bad last line" (a
 *   complete-looking last line that failed the schema check).
 *
 * Both files: LF line ends, header first, fields quoted only when they
 * hold ',', '"', CR or LF. The parser accepts exactly this: the header,
 * the right field count, decimal numbers without sign or leading junk,
 * 64-digit lowercase hex, unique file names, a final newline.
 */
#ifndef CORE_MANIFEST_H
#define CORE_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define MANIFEST_NAME "MANIFEST.csv"
#define MANIFEST_HEADER \
	"file,bytes,rows,sha256,first_local_timestamp,last_local_timestamp"
#define CUTS_NAME   "CUTS.csv"
#define CUTS_HEADER "file,kept_bytes,cut_bytes,cut_sha256,reason"
/* Hard caps for the parser: input size, one file name, one reason. */
#define MANIFEST_MAX_BYTES  (16u << 20)
#define MANIFEST_NAME_MAX   1024
#define MANIFEST_REASON_MAX 256

struct manifest_entry {
	const char *file;
	uint64_t bytes;
	uint64_t rows;
	char sha256[SHA256_HEX_LEN];
	bool has_times;	  /* false: both timestamps empty */
	int64_t first_ts; /* local_timestamp µs of the first data row */
	int64_t last_ts;
};

struct manifest_cut {
	const char *file;
	uint64_t kept_bytes;
	uint64_t cut_bytes;
	char cut_sha256[SHA256_HEX_LEN];
	const char *reason;
};

struct manifest;

/* A new empty manifest (no entries, no cuts), or NULL on ENOMEM. */
struct manifest *manifest_new(void);
/* NULL-safe. */
void manifest_free(struct manifest *m);

/*
 * Append a copy of *e (strings copied). CORE_EEXIST when the file name is
 * already listed, CORE_EINVAL for an empty or over-long name, a bad sha256
 * or has_times with first_ts > last_ts or a negative time.
 */
int manifest_add(struct manifest *m, const struct manifest_entry *e);
/* Append a copy of *c. Same rules, against the cuts already listed. */
int manifest_add_cut(struct manifest *m, const struct manifest_cut *c);

size_t manifest_count(const struct manifest *m);
/* The i-th entry, valid until manifest_free; NULL when out of range. */
const struct manifest_entry *manifest_get(const struct manifest *m, size_t i);
/* The entry named `file`, or NULL. */
const struct manifest_entry *manifest_find(const struct manifest *m,
					   const char *file);

size_t manifest_cut_count(const struct manifest *m);
const struct manifest_cut *manifest_cut_get(const struct manifest *m, size_t i);
const struct manifest_cut *manifest_cut_find(const struct manifest *m,
					     const char *file);

/*
 * Render MANIFEST.csv (manifest_render) or CUTS.csv (manifest_render_cuts)
 * into a new buffer; caller frees *out; *len its length (no NUL counted,
 * though one follows). 0 or CORE_ENOMEM. CUTS.csv is rendered even with no
 * cuts (just the header); rotate only stores it when there are some.
 */
int manifest_render(const struct manifest *m, char **out, size_t *len);
int manifest_render_cuts(const struct manifest *m, char **out, size_t *len);

/*
 * Parse MANIFEST.csv bytes into a new manifest (caller frees with
 * manifest_free), strictly. On failure returns CORE_EPARSE (or
 * CORE_ETOOBIG / CORE_ENOMEM), *out is NULL, and `why` (may be NULL) holds
 * "line N: field 'name': reason".
 */
int manifest_parse(const char *buf, size_t len, struct manifest **out,
		   char *why, size_t whysize);

/*
 * Parse CUTS.csv bytes and add its rows to m. Every cut's file must be
 * in m with bytes == kept_bytes. Errors as manifest_parse (m may then hold
 * some of the cuts; discard it).
 */
int manifest_parse_cuts(struct manifest *m, const char *buf, size_t len,
			char *why, size_t whysize);

/*
 * Compare two manifests entry by entry (order, names and every field,
 * cuts included). 0 when equal, else CORE_ECORRUPT with the first
 * difference in `why`.
 */
int manifest_compare(const struct manifest *a, const struct manifest *b,
		     char *why, size_t whysize);

/*
 * Core-internal (ledger.c, tarball.c; not for programs): strict libcsv
 * reading of a whole buffer, one callback per row with NUL-terminated
 * copies of its fields (valid during the call). `line` is the 1-based
 * line the row starts on; `torn` is set for a last row with no final
 * newline. A row above MANIFEST__ROW_MAX bytes or MANIFEST__FIELDS_MAX
 * fields fails with CORE_ETOOBIG. The first non-zero return of `fn` stops
 * the walk and is returned. A libcsv error gives CORE_EPARSE and
 * "line N: <csv error>" in why.
 */
#define MANIFEST__ROW_MAX    8192
#define MANIFEST__FIELDS_MAX 16
typedef int (*manifest__row_fn)(void *ud, size_t line,
				const char *const *fields, const size_t *lens,
				size_t nfields, int torn);
int manifest__csv_each(const char *buf, size_t len, manifest__row_fn fn,
		       void *ud, char *why, size_t whysize);

#endif
