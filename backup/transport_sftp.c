/*
 * The sftp:// transport over libcurl + libssh2. Key authentication only;
 * the server's host key is always checked against the destination's
 * known_hosts file (libcurl checks nothing unless told to, so a
 * destination without one is refused at open). One easy handle per
 * destination keeps the SSH session alive across requests. Rename is a
 * POSTQUOTE on a stat request; OpenSSH cannot rename onto an existing
 * name, which is reported as CORE_EEXIST so the caller can compare.
 */
#include "transport.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "config.h"
#include "core.h"
#include "curlutil.h"
#include "listing.h"
#include "secrets.h"
#include "banned.h"

#define SFTP_LIST_MAX (16u << 20)

struct sftp_impl {
	CURL *h;
	char *base; /* "sftp://host:port" */
	char *root; /* absolute remote path, no trailing '/' */
	char *user;
	char *identity;
	char *pubkey; /* NULL: libssh2 derives it from the private key */
	char *known_hosts;
	char *passphrase;
	char errbuf[CURL_ERROR_SIZE];
};

static struct sftp_impl *impl(struct transport *t)
{
	return t->impl;
}

/* Reset the handle and set what every request needs. */
static void prepare(struct transport *t, const char *url)
{
	struct sftp_impl *si = impl(t);

	curlutil_reset(si->h, si->errbuf, url, "sftp");
	curl_easy_setopt(si->h, CURLOPT_USERNAME, si->user);
	curl_easy_setopt(si->h, CURLOPT_SSH_AUTH_TYPES,
			 (long)CURLSSH_AUTH_PUBLICKEY);
	curl_easy_setopt(si->h, CURLOPT_SSH_PRIVATE_KEYFILE, si->identity);
	if (si->pubkey != NULL)
		curl_easy_setopt(si->h, CURLOPT_SSH_PUBLIC_KEYFILE, si->pubkey);
	if (si->passphrase != NULL)
		curl_easy_setopt(si->h, CURLOPT_KEYPASSWD, si->passphrase);
	/* Never skipped: without it libcurl accepts any host key. */
	curl_easy_setopt(si->h, CURLOPT_SSH_KNOWNHOSTS, si->known_hosts);
}

static int obj_url(struct transport *t, const char *name, char *buf,
		   size_t size)
{
	struct sftp_impl *si = impl(t);
	int n = snprintf(buf, size, "%s%s/%s", si->base, si->root, name);

	if (n < 0 || (size_t)n >= size)
		return transport_fail(t, CORE_ETOOBIG, "url too long");
	return 0;
}

/* Turn a failed request into a classified error with a clear message. */
static int fail_curl(struct transport *t, CURLcode cc, const char *what,
		     const char *name)
{
	struct sftp_impl *si = impl(t);
	const char *detail = si->errbuf[0] ? si->errbuf
					   : curl_easy_strerror(cc);

	if (cc == CURLE_PEER_FAILED_VERIFICATION)
		return transport_fail(t, CORE_EREMOTE,
				      "%s '%s': host key of %s is not the one "
				      "in known_hosts '%s' (refusing to "
				      "connect): %s",
				      what, name, si->base, si->known_hosts,
				      detail);
	if (cc == CURLE_LOGIN_DENIED)
		return transport_fail(t, CORE_EREMOTE,
				      "%s '%s': authentication as '%s' with "
				      "key '%s' failed: %s",
				      what, name, si->user, si->identity,
				      detail);
	return transport_fail(t, curlutil_classify(cc), "%s '%s': %s", what,
			      name, detail);
}

static int sftp_put(struct transport *t, const char *local, const char *name,
		    const struct transport_put_info *info)
{
	struct sftp_impl *si = impl(t);
	char url[4096];
	curl_off_t sent = 0;
	CURLcode cc;
	FILE *fp;
	int rc;

	if ((rc = obj_url(t, name, url, sizeof(url))) != 0)
		return rc;
	fp = fopen(local, "rbe");
	if (fp == NULL)
		return transport_fail(t, CORE_ESYS, "open '%s': %s", local,
				      strerror(errno));
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(si->h, CURLOPT_READDATA, fp);
	curl_easy_setopt(si->h, CURLOPT_INFILESIZE_LARGE,
			 (curl_off_t)info->size);
	curl_easy_setopt(si->h, CURLOPT_FTP_CREATE_MISSING_DIRS,
			 (long)CURLFTP_CREATE_DIR);
	curl_easy_setopt(si->h, CURLOPT_NEW_FILE_PERMS, 0644L);
	curl_easy_setopt(si->h, CURLOPT_NEW_DIRECTORY_PERMS, 0755L);
	/* Larger reads let libssh2 keep more SFTP writes in flight. */
	curl_easy_setopt(si->h, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024L);
	cc = curl_easy_perform(si->h);
	fclose(fp);
	if (cc != CURLE_OK)
		return fail_curl(t, cc, "upload", name);
	curl_easy_getinfo(si->h, CURLINFO_SIZE_UPLOAD_T, &sent);
	if ((uint64_t)sent != info->size)
		return transport_fail(t, CORE_EAGAIN,
				      "upload '%s': sent %lld of %llu bytes",
				      name, (long long)sent,
				      (unsigned long long)info->size);
	return 0;
}

static int sftp_stat(struct transport *t, const char *name,
		     struct transport_stat *st)
{
	struct sftp_impl *si = impl(t);
	curl_off_t len = -1;
	char url[4096];
	CURLcode cc;
	int rc;

	if ((rc = obj_url(t, name, url, sizeof(url))) != 0)
		return rc;
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_NOBODY, 1L);
	cc = curl_easy_perform(si->h);
	if (cc != CURLE_OK)
		return fail_curl(t, cc, "stat", name);
	curl_easy_getinfo(si->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len);
	if (len < 0)
		return transport_fail(t, CORE_EREMOTE,
				      "stat '%s': server gave no size", name);
	st->size = (uint64_t)len;
	st->has_sha256 = false; /* OpenSSH's sftp-server cannot hash */
	return 0;
}

static int sftp_get(struct transport *t, const char *name, const char *local)
{
	struct sftp_impl *si = impl(t);
	char url[4096];
	CURLcode cc;
	FILE *fp;
	int rc;

	if ((rc = obj_url(t, name, url, sizeof(url))) != 0)
		return rc;
	fp = fopen(local, "wbe");
	if (fp == NULL)
		return transport_fail(t, CORE_ESYS, "create '%s': %s", local,
				      strerror(errno));
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, fp);
	cc = curl_easy_perform(si->h);
	if (fclose(fp) != 0 && cc == CURLE_OK)
		return transport_fail(t, CORE_ESYS, "write '%s': %s", local,
				      strerror(errno));
	if (cc != CURLE_OK)
		return fail_curl(t, cc, "download", name);
	return 0;
}

/* Run one quote command (rename, rm) after a stat of `name`. */
static CURLcode quote_after_stat(struct transport *t, const char *name,
				 const char *cmd)
{
	struct sftp_impl *si = impl(t);
	struct curl_slist *q = curl_slist_append(NULL, cmd);
	char url[4096];
	CURLcode cc;

	if (q == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (obj_url(t, name, url, sizeof(url)) != 0) {
		curl_slist_free_all(q);
		return CURLE_URL_MALFORMAT;
	}
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(si->h, CURLOPT_POSTQUOTE, q);
	cc = curl_easy_perform(si->h);
	curl_slist_free_all(q);
	return cc;
}

static int sftp_rename(struct transport *t, const char *from, const char *to)
{
	struct sftp_impl *si = impl(t);
	struct transport_stat st;
	char cmd[8192];
	CURLcode cc;
	int n;

	n = snprintf(cmd, sizeof(cmd), "rename \"%s/%s\" \"%s/%s\"", si->root,
		     from, si->root, to);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return transport_fail(t, CORE_ETOOBIG, "path too long");
	cc = quote_after_stat(t, from, cmd);
	if (cc == CURLE_OK)
		return 0;
	if (cc != CURLE_QUOTE_ERROR)
		return fail_curl(t, cc, "rename", from);
	/* OpenSSH renames by link+unlink: an existing target fails. */
	memset(&st, 0, sizeof(st));
	if (sftp_stat(t, to, &st) == 0)
		return transport_fail(t, CORE_EEXIST,
				      "rename onto '%s': exists", to);
	return transport_fail(t, CORE_EREMOTE, "rename '%s' to '%s' failed",
			      from, to);
}

static int sftp_del(struct transport *t, const char *name)
{
	struct sftp_impl *si = impl(t);
	char cmd[4200];
	CURLcode cc;
	int n;

	n = snprintf(cmd, sizeof(cmd), "rm \"%s/%s\"", si->root, name);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return transport_fail(t, CORE_ETOOBIG, "path too long");
	cc = quote_after_stat(t, name, cmd);
	if (cc != CURLE_OK)
		return fail_curl(t, cc, "delete", name);
	return 0;
}

struct list_ctx {
	struct transport_list *out;
	struct transport_list dirs; /* subdirectories still to read */
	const char *rel;	    /* directory being read, "" at root */
};

static int on_entry(void *vctx, const char *name, size_t namelen, bool is_dir,
		    uint64_t size)
{
	struct list_ctx *c = vctx;
	char rel[2048];
	int n;

	if (name[0] == '.')
		return 0; /* hidden files are never ours */
	n = c->rel[0] ? snprintf(rel, sizeof(rel), "%s/%.*s", c->rel,
				 (int)namelen, name)
		      : snprintf(rel, sizeof(rel), "%.*s", (int)namelen, name);
	if (n < 0 || (size_t)n >= sizeof(rel) || !transport_name_ok(rel))
		return 0;
	if (is_dir)
		return transport_list_add(&c->dirs, rel, (size_t)n, 0);
	return transport_list_add(c->out, rel, (size_t)n, size);
}

/* Read one directory listing; a missing root is an empty destination. */
static int list_one(struct transport *t, struct list_ctx *c, const char *rel)
{
	struct sftp_impl *si = impl(t);
	struct curl_sink sink;
	char url[4096];
	CURLcode cc;
	int n, rc;

	n = snprintf(url, sizeof(url), "%s%s/%s%s", si->base, si->root, rel,
		     rel[0] ? "/" : "");
	if (n < 0 || (size_t)n >= sizeof(url))
		return transport_fail(t, CORE_ETOOBIG, "url too long");
	curlutil_sink_init(&sink, SFTP_LIST_MAX);
	prepare(t, url);
	curl_easy_setopt(si->h, CURLOPT_WRITEFUNCTION, curlutil_sink_write);
	curl_easy_setopt(si->h, CURLOPT_WRITEDATA, &sink);
	cc = curl_easy_perform(si->h);
	if (cc == CURLE_REMOTE_FILE_NOT_FOUND && rel[0] == '\0') {
		curlutil_sink_release(&sink);
		return 0;
	}
	if (cc != CURLE_OK) {
		bool overflow = sink.overflow != 0;

		curlutil_sink_release(&sink);
		if (overflow)
			return transport_fail(t, CORE_ETOOBIG,
					      "listing of '%s' too large", rel);
		return fail_curl(t, cc, "list", rel[0] ? rel : "/");
	}
	c->rel = rel;
	rc = listing_parse_sftp(buf_str(&sink.b), buf_len(&sink.b), on_entry,
				c);
	curlutil_sink_release(&sink);
	return rc;
}

static int slashes(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '/';
	return n;
}

static int sftp_list(struct transport *t, struct transport_list *out)
{
	struct list_ctx c = { .out = out, .rel = "" };
	size_t next = 0;
	int rc;

	rc = list_one(t, &c, "");
	/* Breadth-first; names are bounded by transport_name_ok. */
	while (rc == 0 && next < c.dirs.n) {
		char *rel = strdup(c.dirs.v[next++].name);

		if (rel == NULL) {
			rc = CORE_ENOMEM;
			break;
		}
		/* Our layout is <exchange>/<date>/<file>: go no deeper. */
		if (slashes(rel) < 2)
			rc = list_one(t, &c, rel);
		free(rel);
	}
	transport_list_release(&c.dirs);
	return rc;
}

static void sftp_release(struct transport *t)
{
	struct sftp_impl *si = impl(t);

	curl_easy_cleanup(si->h); /* NULL-safe */
	free(si->base);
	free(si->root);
	free(si->user);
	free(si->identity);
	free(si->pubkey);
	free(si->known_hosts);
	free(si->passphrase);
}

static const struct transport_ops sftp_ops = {
	.put = sftp_put,
	.stat = sftp_stat,
	.get = sftp_get,
	.rename = sftp_rename,
	.list = sftp_list,
	.del = sftp_del,
	.release = sftp_release,
};

static char *dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

/* Check the settings a destination must have; messages name it. */
static int check_settings(const struct backup_destination *d,
			  const char *identity, char *err, size_t errsize)
{
	if (d->known_hosts == NULL || d->known_hosts[0] == '\0') {
		snprintf(err, errsize,
			 "destination '%s': sftp needs known_hosts (the "
			 "server's host key is always checked)",
			 d->name);
		return CORE_ECONFIG;
	}
	if (access(d->known_hosts, R_OK) != 0) {
		snprintf(err, errsize, "destination '%s': known_hosts '%s': %s",
			 d->name, d->known_hosts, strerror(errno));
		return CORE_ECONFIG;
	}
	if (identity == NULL) {
		snprintf(err, errsize,
			 "destination '%s': sftp needs an identity (key file) "
			 "in the config or the secrets file",
			 d->name);
		return CORE_ECONFIG;
	}
	if (access(identity, R_OK) != 0) {
		snprintf(err, errsize, "destination '%s': identity '%s': %s",
			 d->name, identity, strerror(errno));
		return CORE_ECONFIG;
	}
	if (d->host == NULL || d->path == NULL || d->user == NULL) {
		snprintf(err, errsize,
			 "destination '%s': sftp url needs user, host and "
			 "path",
			 d->name);
		return CORE_ECONFIG;
	}
	return 0;
}

static int fill_impl(struct sftp_impl *si, const struct backup_destination *d,
		     const char *identity, const char *pass)
{
	char buf[4200];
	size_t n;

	snprintf(buf, sizeof(buf), "sftp://%s:%d", d->host,
		 d->port > 0 ? d->port : 22);
	si->base = strdup(buf);
	si->root = strdup(d->path[0] == '/' ? d->path : "/");
	si->user = strdup(d->user);
	si->identity = strdup(identity);
	si->known_hosts = strdup(d->known_hosts);
	si->passphrase = dup_or_null(pass);
	snprintf(buf, sizeof(buf), "%s.pub", identity);
	if (access(buf, R_OK) == 0)
		si->pubkey = strdup(buf);
	si->h = curl_easy_init();
	if (si->base == NULL || si->root == NULL || si->user == NULL ||
	    si->identity == NULL || si->known_hosts == NULL || si->h == NULL)
		return CORE_ENOMEM;
	n = strlen(si->root);
	while (n > 0 && si->root[n - 1] == '/')
		si->root[--n] = '\0';
	return 0;
}

int transport_sftp_open(const struct backup_destination *d,
			const struct secrets *sec, struct transport **out,
			char *err, size_t errsize)
{
	const char *identity = secrets_get(sec, d->name, "identity");
	struct transport *t;
	int rc;

	*out = NULL;
	if (identity == NULL)
		identity = d->identity;
	if ((rc = check_settings(d, identity, err, errsize)) != 0)
		return rc;
	t = transport_new(&sftp_ops, "sftp", d->name, sizeof(struct sftp_impl));
	if (t == NULL ||
	    fill_impl(impl(t), d, identity,
		      secrets_get(sec, d->name, "key_passphrase")) != 0) {
		transport_free(t);
		snprintf(err, errsize, "out of memory");
		return CORE_ENOMEM;
	}
	*out = t;
	return 0;
}
