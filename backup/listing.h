/*
 * Parsers for what remote servers send back when asked for a listing:
 * the long directory listing libcurl prints for an sftp:// URL ending in
 * '/', and an S3 ListObjectsV2 XML page. Both treat their input as
 * untrusted (fuzzed by tests/fuzz/fuzz_backup_listing.c).
 */
#ifndef BACKUP_LISTING_H
#define BACKUP_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Called once per entry; `name` is not NUL-terminated (namelen bytes).
 * A non-zero return stops the parse and is returned by the parser.
 */
typedef int (*listing_cb)(void *ctx, const char *name, size_t namelen,
			  bool is_dir, uint64_t size);

/*
 * Parse a long listing, one entry per line:
 *   "-rw-r--r--    1 user group  1234 Nov 26 03:00 name"
 * Lines that do not have that shape, and "." and "..", are skipped.
 * Returns 0 or the callback's non-zero value.
 */
int listing_parse_sftp(const char *buf, size_t len, listing_cb cb, void *ctx);

#define S3_TOKEN_MAX 1024

struct s3_list_page {
	bool truncated;		       /* <IsTruncated>true</IsTruncated> */
	char next_token[S3_TOKEN_MAX]; /* <NextContinuationToken>, decoded */
};

/*
 * Parse one ListObjectsV2 result: the callback gets each <Contents>'s
 * decoded <Key> and <Size> (is_dir false). Fills *page. Returns 0,
 * CORE_EPARSE for a page that is not a ListBucketResult (for example an
 * <Error> document) or has a malformed <Contents>, or the callback's
 * non-zero value.
 */
int listing_parse_s3(const char *buf, size_t len, listing_cb cb, void *ctx,
		     struct s3_list_page *page);

/*
 * Decode the five XML entities and &#N; / &#xN; (ASCII only) from
 * [src, src+len) into dst (size dstsize, NUL-terminated). Returns the
 * decoded length, or -1 when the input is malformed or does not fit.
 */
long listing_xml_decode(char *dst, size_t dstsize, const char *src, size_t len);

#endif
