/*
 * S3 request building the s3 transport needs and tests check: URL
 * layout (path-style or virtual-host) and the ListObjectsV2 query,
 * encoded and sorted by hand because libcurl 7.88's SigV4 signs the
 * query string exactly as given.
 */
#ifndef BACKUP_S3_H
#define BACKUP_S3_H

#include <stdbool.h>
#include <stddef.h>

/*
 * AWS URI-encode `src` (everything but A-Z a-z 0-9 - _ . ~ becomes %XX,
 * '/' included) into dst. 0 or CORE_ETOOBIG.
 */
int s3_query_encode(char *dst, size_t size, const char *src);

/*
 * The URL of `key` (already restricted to [A-Za-z0-9._~/-], may be "")
 * with an optional query: path-style "<endpoint>/<bucket>/<key>" or
 * virtual-host "<scheme>://<bucket>.<endpoint host>/<key>". 0,
 * CORE_EINVAL (endpoint without "://") or CORE_ETOOBIG.
 */
int s3_build_url(char *buf, size_t size, const char *endpoint,
		 const char *bucket, bool path_style, const char *key,
		 const char *query);

/*
 * The canonical ListObjectsV2 query for `prefix` and an optional
 * continuation token: parameters in byte order, values encoded.
 */
int s3_list_query(char *buf, size_t size, const char *prefix,
		  const char *token);

#endif
