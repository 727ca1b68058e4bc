/*
 * Helpers the sftp and s3 transports share: a bounded memory sink for
 * libcurl, error classification (transient or permanent), and the
 * options every request gets.
 */
#ifndef BACKUP_CURLUTIL_H
#define BACKUP_CURLUTIL_H

#include <stddef.h>

#include <curl/curl.h>

#include "buf.h"

/* A response body kept in memory, capped at the maximum given to
 * curlutil_sink_init; `overflow` says the cap stopped the transfer. */
struct curl_sink {
	struct buf b;
	int overflow;
};

/* Ready an empty sink that keeps at most `max` bytes. */
void curlutil_sink_init(struct curl_sink *s, size_t max);

/* CURLOPT_WRITEFUNCTION for a struct curl_sink (WRITEDATA). */
size_t curlutil_sink_write(char *ptr, size_t size, size_t nmemb,
			   void *userdata);
void curlutil_sink_release(struct curl_sink *s);

/*
 * Map a libcurl result to CORE_EAGAIN (connection refused or reset,
 * timeouts, a dropped SSH session: worth retrying), CORE_ENOENT (no such
 * remote file) or CORE_EREMOTE (authentication, host key, permissions).
 */
int curlutil_classify(CURLcode cc);

/* The same for an HTTP status: 5xx/408/429 transient, 404 ENOENT. */
int curlutil_classify_http(long code);

/*
 * Reset h for a request to url, allowed over `protocols` only (libcurl's
 * CURLOPT_PROTOCOLS_STR list), with what every request gets: errors
 * into errbuf (CURL_ERROR_SIZE, emptied here), timeouts, no signals, and
 * the upload speed cap from the environment.
 */
void curlutil_reset(CURL *h, char *errbuf, const char *url,
		    const char *protocols);

#endif
