/* libcurl helpers shared by the sftp and s3 transports. */
#include "curlutil.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "transport.h"
#include "banned.h"

void curlutil_sink_init(struct curl_sink *s, size_t max)
{
	buf_init(&s->b, max);
	s->overflow = 0;
}

size_t curlutil_sink_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct curl_sink *s = userdata;
	size_t n = size * nmemb;
	int rc = buf_add(&s->b, ptr, n);

	if (rc == CORE_ETOOBIG)
		s->overflow = 1;
	return rc == 0 ? n : 0; /* 0 aborts the transfer */
}

void curlutil_sink_release(struct curl_sink *s)
{
	if (s == NULL)
		return;
	buf_release(&s->b);
	s->overflow = 0;
}

int curlutil_classify(CURLcode cc)
{
	switch (cc) {
	case CURLE_OK:
		return 0;
	case CURLE_REMOTE_FILE_NOT_FOUND:
		return CORE_ENOENT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSH:
	case CURLE_REMOTE_DISK_FULL:
	case CURLE_AGAIN:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return CORE_EAGAIN;
	default:
		return CORE_EREMOTE;
	}
}

int curlutil_classify_http(long code)
{
	if (code >= 200 && code < 300)
		return 0;
	if (code == 404)
		return CORE_ENOENT;
	if (code >= 500 || code == 408 || code == 429 || code == 0)
		return CORE_EAGAIN;
	return CORE_EREMOTE;
}

void curlutil_reset(CURL *h, char *errbuf, const char *url,
		    const char *protocols)
{
	long speed = transport_env_long("BOOKTAPE_BACKUP_MAX_SEND_SPEED", 0);

	curl_easy_reset(h);
	errbuf[0] = '\0';
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
	/* Abort a transfer that stalls below 1 KiB/s for two minutes. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1024L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 120L);
	if (speed > 0)
		curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE,
				 (curl_off_t)speed);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
}
