/*
 * The s3:// transport: S3-compatible object storage through libcurl's
 * CURLOPT_AWS_SIGV4. libcurl 7.88 signs the hash of an empty body for
 * uploads and leaves the query string as given, so every request sends
 * x-amz-content-sha256 itself (the file's real sha256 on PUT, which the
 * server checks against the body) and ListObjectsV2 query parameters
 * are sorted and encoded here. A PUT is all-or-nothing, so objects are
 * written under their final name; the sha256 also goes in
 * x-amz-meta-sha256 so a HEAD can vouch for the content later.
 */
#include "transport.h"
#include "s3.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "core.h"
#include "curlutil.h"
#include "listing.h"
#include "secrets.h"
#include "banned.h"

#define S3_LIST_PAGE_MAX (8u << 20)
#define S3_ERRBODY_MAX	 4096
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3_impl {
	CURL *h;
	char *endpoint; /* "https://host[:port]", no trailing '/' */
	char *bucket;
	char *prefix; /* "" or "a/b" without slashes at either end */
	char *access_key;
	char *secret_key;
	bool path_style;
	char sigv4[128];
	char errbuf[CURL_ERROR_SIZE];
	char meta_sha256[SHA256_HEX_LEN]; /* from the last HEAD */
};

int s3_query_encode(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') ||
			     (*p >= 'a' && *p <= 'z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' ||
			     *p == '_' || *p == '.' || *p == '~';

		if (o + (plain ? 1 : 3) >= size)
			return CORE_ETOOBIG;
		if (plain) {
			dst[o++] = (char)*p;
		} else {
			dst[o++] = '%';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		}
	}
	if (size == 0)
		return CORE_ETOOBIG;
	dst[o] = '\0';
	return 0;
}

int s3_build_url(char *buf, size_t size, const char *endpoint,
		 const char *bucket, bool path_style, const char *key,
		 const char *query)
{
	const char *sep = strstr(endpoint, "://");
	int n;

	if (sep == NULL)
		return CORE_EINVAL;
	if (path_style)
		n = snprintf(buf, size, "%s/%s/%s%s%s", endpoint, bucket, key,
			     query ? "?" : "", query ? query : "");
	else
		n = snprintf(buf, size, "%.*s%s.%s/%s%s%s",
			     (int)(sep + 3 - endpoint), endpoint, bucket,
			     sep + 3, key, query ? "?" : "",
			     query ? query : "");
	if (n < 0 || (size_t)n >= size)
		return CORE_ETOOBIG;
	return 0;
}

int s3_list_query(char *buf, size_t size, const char *prefix, const char *token)
{
	char ep[2048], et[3 * S3_TOKEN_MAX + 1];
	int n;

	/* Sorted by name, as the SigV4 canonical query string must be. */
	if (s3_query_encode(ep, sizeof(ep), prefix) != 0)
		return CORE_ETOOBIG;
	if (token != NULL && token[0] != '\0') {
		if (s3_query_encode(et, sizeof(et), token) != 0)
			return CORE_ETOOBIG;
		n = snprintf(buf, size,
			     "continuation-token=%s&list-type=2&prefix=%s", et,
			     ep);
	} else {
		n = snprintf(buf, size, "list-type=2&prefix=%s", ep);
	}
	if (n < 0 || (size_t)n >= size)
		return CORE_ETOOBIG;
	return 0;
}

static struct s3_impl *impl(struct transport *t)
{
	return t->impl;
}

static int key_of(struct transport *t, const char *name, char *buf, size_t size)
{
	struct s3_impl *si = impl(t);
	int n = si->prefix[0] ? snprintf(buf, size, "%s/%s", si->prefix, name)
			      : snprintf(buf, size, "%s", name);

	if (n < 0 || (size_t)n >= size)
		return transport_fail(t, CORE_ETOOBIG, "key too long");
	return 0;
}

static int obj_url(struct transport *t, const char *name, char *buf,
		   size_t size)
{
	struct s3_impl *si = impl(t);
	char key[2048];
	int rc;

	if ((rc = key_of(t, name, key, sizeof(key))) != 0)
		return rc;
	if (s3_build_url(buf, size, si->endpoint, si->bucket, si->path_style,
			 key, NULL) != 0)
		return transport_fail(t, CORE_ETOOBIG, "url too long");
	return 0;
}

static void prepare(struct transport *t, const char *url)
{
	struct s3_impl *si = impl(t);

	curlutil_reset(si->h, si->errbuf, url, "http,https");
	curl_easy_setopt(si->h, CURLOPT_AWS_SIGV4, si->sigv4);
	curl_easy_setopt(si->h, CURLOPT_USERNAME, si->access_key);
	curl_easy_setopt(si->h, CURLOPT_PASSWORD, si->secret_key);
}

/* Headers for a request; `sha` is the payload hash it signs. */
static struct curl_slist *headers(const char *sha, const char *md5, bool meta)
{
	struct curl_slist *h = NULL, *n;
	char line[160];

	snprintf(line, sizeof(line), "x-amz-content-sha256: %s", sha);
	h = curl_slist_append(h, line);
	if (h != NULL && md5 != NULL && md5[0] != '\0') {
		snprintf(line, sizeof(line), "Content-MD5: %s", md5);
		n = curl_slist_append(h, line);
		h = n != NULL ? n : (curl_slist_free_all(h), NULL);
	}
	if (h != NULL && meta) {
		snprintf(line, sizeof(line), "x-amz-meta-sha256: %s", sha);
		n = curl_slist_append(h, line);
		h = n != NULL ? n : (curl_slist_free_all(h), NULL);
	}
	return h;
}

/* Run the prepared request; classify curl and HTTP failures. */
static int perform(struct transport *t, const char *what, const char *name,
		   const struct curl_sink *errbody)
{
	struct s3_impl *si = impl(t);
	CURLcode cc = curl_easy_perform(si->h);
	long code = 0;
	int rc;

	if (cc != CURLE_OK)
		return transport_fail(
			t, curlutil_classify(cc), "%s '%s': %s", what, name,
			si->errbuf[0] ? si->errbuf : curl_easy_strerror(cc));
	curl_easy_getinfo(si->h, CURLINFO_RESPONSE_CODE, &code);
	rc = curlutil_classify_http(code);
	if (rc == 0)
		return 0;
	return transport_fail(
		t, rc, "%s '%s': HTTP %ld%s%.300s", what, name, code,
		errbody != NULL && buf_len(&errbody->b) ? ": " : "",
		errbody != NULL ? buf_str(&errbody->b) : "");
}

static int s3_put(struct transport *t, const char *local, const char *name,
		  const struct transport_put_info *info)
{
	struct s3_impl *si = impl(t);
	struct curl_sink body;
	struct curl_slist *h;
	char url[4096];
	FILE *fp;
	int rc;

	curlutil_sink_init(&body, S3_ERRBODY_MAX);
	if ((rc = obj_url(t, name, url, sizeof(url))) != 0)
		return rc;
	h = headers(info->sha256, info->md5_b64, true);
	fp = fopen(local, "rbe");
	if (h == NULL || fp == NULL) {
		curl_slist_free_all(h);
		if (fp != NULL)
			fclose(fp);
		return transport_fail(t, fp ? CORE_ENOMEM : CORE_ESYS,
				      "open '%s': %s", local,
				      fp ? "out of memory" : strerror(errno));
	}
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(si->h, CURLOPT_READDATA, fp);
	curl_easy_setopt(si->h, CURLOPT_INFILESIZE_LARGE,
			 (curl_off_t)info->size);
	curl_easy_setopt(si->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(si->h, CURLOPT_WRITEFUNCTION, curlutil_sink_write);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, &body);
	rc = perform(t, "upload", name, &body);
	fclose(fp);
	curl_slist_free_all(h);
	curlutil_sink_release(&body);
	return rc;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
	struct s3_impl *si = ud;
	size_t n = size * nitems;
	static const char name[] = "x-amz-meta-sha256:";

	if (n > sizeof(name) && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		const char *v = buf + sizeof(name) - 1;
		size_t vl = n - (sizeof(name) - 1);

		while (vl > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		while (vl > 0 && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
				  v[vl - 1] == ' '))
			vl--;
		if (vl == SHA256_HEX_LEN - 1) {
			memcpy(si->meta_sha256, v, vl);
			si->meta_sha256[vl] = '\0';
		}
	}
	return n;
}

static int s3_stat(struct transport *t, const char *name,
		   struct transport_stat *st)
{
	struct s3_impl *si = impl(t);
	struct curl_slist *h = headers(EMPTY_SHA256, NULL, false);
	curl_off_t len = -1;
	char url[4096];
	int rc;

	if (h == NULL)
		return transport_fail(t, CORE_ENOMEM, "out of memory");
	if ((rc = obj_url(t, name, url, sizeof(url))) != 0) {
		curl_slist_free_all(h);
		return rc;
	}
	si->meta_sha256[0] = '\0';
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(si->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(si->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(si->h, CURLOPT_HEADERDATA, si);
	rc = perform(t, "stat", name, NULL);
	curl_slist_free_all(h);
	if (rc != 0)
		return rc;
	curl_easy_getinfo(si->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (len < 0)
		return transport_fail(t, CORE_EREMOTE,
				      "stat '%s': no Content-Length", name);
	st->size = (uint64_t)len;
	if (si->meta_sha256[0] != '\0') {
		st->has_sha256 = true;
		memcpy(st->sha256, si->meta_sha256, SHA256_HEX_LEN);
	}
	return 0;
}

/* Write callback for downloads that keeps error bodies out of files. */
struct get_ctx {
	FILE *fp;
	CURL *h;
	struct curl_sink err;
};

static size_t on_get(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct get_ctx *g = ud;
	long code = 0;

	curl_easy_getinfo(g->h, CURLINFO_RESPONSE_CODE, &code);
	if (code != 200)
		return curlutil_sink_write(ptr, size, nmemb, &g->err);
	return fwrite(ptr, size, nmemb, g->fp) * size;
}

static int s3_get(struct transport *t, const char *name, const char *local)
{
	struct s3_impl *si = impl(t);
	struct curl_slist *h = headers(EMPTY_SHA256, NULL, false);
	struct get_ctx g = { .h = si->h };
	char url[4096];
	int rc;

	curlutil_sink_init(&g.err, S3_ERRBODY_MAX);
	if (h == NULL)
		return transport_fail(t, CORE_ENOMEM, "out of memory");
	if ((rc = obj_url(t, name, url, sizeof(url))) != 0) {
		curl_slist_free_all(h);
		return rc;
	}
	g.fp = fopen(local, "wbe");
	if (g.fp == NULL) {
		curl_slist_free_all(h);
		return transport_fail(t, CORE_ESYS, "create '%s': %s", local,
				      strerror(errno));
	}
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(si->h, CURLOPT_WRITEFUNCTION, on_get);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, &g);
	rc = perform(t, "download", name, &g.err);
	if (fclose(g.fp) != 0 && rc == 0)
		rc = transport_fail(t, CORE_ESYS, "write '%s': %s", local,
				    strerror(errno));
	curl_slist_free_all(h);
	curlutil_sink_release(&g.err);
	return rc;
}

static int s3_rename(struct transport *t, const char *from, const char *to)
{
	(void)from;
	return transport_fail(t, CORE_EINVAL,
			      "s3 has no rename ('%s'); uploads are atomic",
			      to);
}

static int s3_del(struct transport *t, const char *name)
{
	struct s3_impl *si = impl(t);
	struct curl_slist *h = headers(EMPTY_SHA256, NULL, false);
	struct curl_sink body;
	char url[4096];
	int rc;

	curlutil_sink_init(&body, S3_ERRBODY_MAX);
	if (h == NULL)
		return transport_fail(t, CORE_ENOMEM, "out of memory");
	if ((rc = obj_url(t, name, url, sizeof(url))) != 0) {
		curl_slist_free_all(h);
		return rc;
	}
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_CUSTOMREQUEST, "DELETE");
	curl_easy_setopt(si->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(si->h, CURLOPT_WRITEFUNCTION, curlutil_sink_write);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, &body);
	rc = perform(t, "delete", name, &body);
	curl_slist_free_all(h);
	curlutil_sink_release(&body);
	return rc;
}

struct list_ctx {
	struct transport_list *out;
	const char *prefix; /* "" or "a/b/" */
	size_t plen;
};

static int on_key(void *vctx, const char *key, size_t keylen, bool is_dir,
		  uint64_t size)
{
	struct list_ctx *c = vctx;
	const char *name = key + c->plen;
	char tmp[1100];

	(void)is_dir;
	if (keylen <= c->plen || memcmp(key, c->prefix, c->plen) != 0 ||
	    keylen - c->plen >= sizeof(tmp))
		return 0;
	memcpy(tmp, name, keylen - c->plen);
	tmp[keylen - c->plen] = '\0';
	if (!transport_name_ok(tmp))
		return 0;
	return transport_list_add(c->out, tmp, keylen - c->plen, size);
}

/* GET one ListObjectsV2 page into sink. */
static int list_page(struct transport *t, const char *prefix, const char *token,
		     struct curl_sink *sink)
{
	struct s3_impl *si = impl(t);
	struct curl_slist *h = headers(EMPTY_SHA256, NULL, false);
	char q[8192], url[10240];
	int rc;

	if (h == NULL)
		return transport_fail(t, CORE_ENOMEM, "out of memory");
	if (s3_list_query(q, sizeof(q), prefix, token) != 0 ||
	    s3_build_url(url, sizeof(url), si->endpoint, si->bucket,
			 si->path_style, "", q) != 0) {
		curl_slist_free_all(h);
		return transport_fail(t, CORE_ETOOBIG, "list url too long");
	}
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(si->h, CURLOPT_WRITEFUNCTION, curlutil_sink_write);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, sink);
	rc = perform(t, "list", si->bucket, sink);
	curl_slist_free_all(h);
	if (rc != 0 && sink->overflow)
		rc = transport_fail(t, CORE_ETOOBIG, "list: page too large");
	return rc;
}

static int s3_list(struct transport *t, struct transport_list *out)
{
	struct s3_impl *si = impl(t);
	struct s3_list_page page = { 0 };
	char prefix[1100], token[S3_TOKEN_MAX] = "";
	struct list_ctx c = { .out = out, .prefix = prefix };
	int rc, pages = 0;

	snprintf(prefix, sizeof(prefix), "%s%s", si->prefix,
		 si->prefix[0] ? "/" : "");
	c.plen = strlen(prefix);
	do {
		struct curl_sink sink;

		curlutil_sink_init(&sink, S3_LIST_PAGE_MAX);
		rc = list_page(t, prefix, token, &sink);
		if (rc == 0) {
			rc = listing_parse_s3(buf_str(&sink.b),
					      buf_len(&sink.b), on_key, &c,
					      &page);
			if (rc == CORE_EPARSE)
				rc = transport_fail(t, CORE_EREMOTE,
						    "list: malformed "
						    "ListObjectsV2 reply");
		}
		curlutil_sink_release(&sink);
		memcpy(token, page.next_token, sizeof(token));
	} while (rc == 0 && page.truncated && ++pages < 100000);
	return rc;
}

static void s3_release(struct transport *t)
{
	struct s3_impl *si = impl(t);

	curl_easy_cleanup(si->h); /* NULL-safe */
	free(si->endpoint);
	free(si->bucket);
	free(si->prefix);
	free(si->access_key);
	free(si->secret_key);
}

static const struct transport_ops s3_ops = {
	.put = s3_put,
	.stat = s3_stat,
	.get = s3_get,
	.rename = s3_rename,
	.list = s3_list,
	.del = s3_del,
	.release = s3_release,
};

static int fill_impl(struct s3_impl *si, const struct backup_destination *d,
		     const char *ak, const char *sk)
{
	const char *p = d->path != NULL ? d->path : "";
	size_t n;

	while (*p == '/')
		p++;
	si->endpoint = strdup(d->endpoint);
	si->bucket = strdup(d->host);
	si->prefix = strdup(p);
	si->access_key = strdup(ak);
	si->secret_key = strdup(sk);
	si->path_style = d->path_style;
	snprintf(si->sigv4, sizeof(si->sigv4), "aws:amz:%s:s3",
		 d->region != NULL ? d->region : "us-east-1");
	si->h = curl_easy_init();
	if (si->endpoint == NULL || si->bucket == NULL || si->prefix == NULL ||
	    si->access_key == NULL || si->secret_key == NULL || si->h == NULL)
		return CORE_ENOMEM;
	n = strlen(si->endpoint);
	while (n > 0 && si->endpoint[n - 1] == '/')
		si->endpoint[--n] = '\0';
	n = strlen(si->prefix);
	while (n > 0 && si->prefix[n - 1] == '/')
		si->prefix[--n] = '\0';
	return 0;
}

int transport_s3_open(const struct backup_destination *d,
		      const struct secrets *sec, struct transport **out,
		      char *err, size_t errsize)
{
	const char *ak = secrets_get(sec, d->name, "access_key");
	const char *sk = secrets_get(sec, d->name, "secret_key");
	struct transport *t;

	*out = NULL;
	if (ak == NULL || sk == NULL) {
		snprintf(err, errsize,
			 "destination '%s': no access_key/secret_key in "
			 "section [%s] of the secrets file",
			 d->name, d->name);
		return CORE_ECONFIG;
	}
	if (d->endpoint == NULL || strstr(d->endpoint, "://") == NULL ||
	    d->host == NULL || d->host[0] == '\0') {
		snprintf(err, errsize,
			 "destination '%s': s3 needs a bucket and an endpoint "
			 "(https://host[:port])",
			 d->name);
		return CORE_ECONFIG;
	}
	t = transport_new(&s3_ops, "s3", d->name, sizeof(struct s3_impl));
	if (t == NULL || fill_impl(impl(t), d, ak, sk) != 0) {
		transport_free(t);
		snprintf(err, errsize, "out of memory");
		return CORE_ENOMEM;
	}
	t->atomic_put = true;
	*out = t;
	return 0;
}
