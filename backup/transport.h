/*
 * The transport interface: how booktape-backup talks to one destination
 * (file://, sftp://, s3://). Objects are named by paths relative to the
 * destination root, e.g. "gateio/2026-11-26/gateio_2026-11-26T03.tar.gz";
 * names are restricted to [A-Za-z0-9._~/-] (S3 SigV4 in curl 7.88 does
 * not URI-encode keys) and never contain "..".
 */
#ifndef BACKUP_TRANSPORT_H
#define BACKUP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

struct backup_destination;
struct secrets;

/* Everything a put needs to know about the local file. */
struct transport_put_info {
	uint64_t size;		     /* bytes of the local file */
	char sha256[SHA256_HEX_LEN]; /* its hex sha256 */
	char md5_b64[32];	     /* base64 MD5 ("" when unknown) */
};

struct transport_stat {
	uint64_t size;
	bool has_sha256; /* the remote side vouches for this hash */
	char sha256[SHA256_HEX_LEN];
};

struct transport_entry {
	char *name; /* relative to the destination root */
	uint64_t size;
};

/* A growable list of entries; release with transport_list_release. */
struct transport_list {
	struct transport_entry *v;
	size_t n;
	size_t cap;
};

struct transport;

struct transport_ops {
	/*
	 * Upload the local file to `name`, replacing an object of that name
	 * (temp names are the caller's choice). 0 or CORE_E*.
	 */
	int (*put)(struct transport *t, const char *local, const char *name,
		   const struct transport_put_info *info);
	/* Size (and hash, if the remote knows it). CORE_ENOENT if absent. */
	int (*stat)(struct transport *t, const char *name,
		    struct transport_stat *st);
	/* Download `name` into the local file `local` (created/truncated). */
	int (*get)(struct transport *t, const char *name, const char *local);
	/* Rename; CORE_EEXIST when `to` exists and cannot be replaced. */
	int (*rename)(struct transport *t, const char *from, const char *to);
	/* Append every object under the root to *out (recursive). */
	int (*list)(struct transport *t, struct transport_list *out);
	/* Delete; CORE_ENOENT if absent. */
	int (*del)(struct transport *t, const char *name);
	/*
	 * Free what the impl holds, also when the open failed half-way
	 * (the impl starts zeroed); transport_free frees the impl itself.
	 */
	void (*release)(struct transport *t);
};

/*
 * A destination handle. Fields are private to the transports except
 * `name`, `kind_name` and `atomic_put` (a put of the final name is
 * all-or-nothing, as an S3 PUT is, so no temp name is needed).
 */
struct transport {
	const struct transport_ops *ops;
	char *name;	       /* destination name from the config */
	const char *kind_name; /* "file", "sftp", "s3" */
	bool atomic_put;
	char err[512]; /* the last error, for messages */
	void *impl;
};

/*
 * Open a transport for a destination. `sec` (may be NULL) supplies
 * credentials. On success *out is set; the caller frees it with
 * transport_free. On failure returns CORE_E* and writes a message into
 * `err` (size `errsize`).
 */
int transport_open(const struct backup_destination *d,
		   const struct secrets *sec, struct transport **out, char *err,
		   size_t errsize);
void transport_free(struct transport *t);

/* Dispatchers; each clears t->err first and fills it on failure. */
int transport_put(struct transport *t, const char *local, const char *name,
		  const struct transport_put_info *info);
int transport_stat(struct transport *t, const char *name,
		   struct transport_stat *st);
int transport_get(struct transport *t, const char *name, const char *local);
int transport_rename(struct transport *t, const char *from, const char *to);
int transport_list(struct transport *t, struct transport_list *out);
int transport_del(struct transport *t, const char *name);
/* The last error text (never NULL; "" when there was none). */
const char *transport_errmsg(const struct transport *t);

/* Append a copy of name; 0 or CORE_ENOMEM. */
int transport_list_add(struct transport_list *l, const char *name,
		       size_t namelen, uint64_t size);
/* Free the entries and zero the list. NULL-safe. */
void transport_list_release(struct transport_list *l);
/* Sort entries by name. */
void transport_list_sort(struct transport_list *l);

/* True when `name` is a safe object name (see the top of this file). */
bool transport_name_ok(const char *name);

/*
 * For the implementations: a transport named `name` (copied), of
 * kind_name (static text), working through `ops`, with a zeroed impl of
 * impl_size bytes. NULL when out of memory. transport_free frees it.
 */
struct transport *transport_new(const struct transport_ops *ops,
				const char *kind_name, const char *name,
				size_t impl_size);

/* Set t->err like printf; returns rc so callers can `return` it. */
int transport_fail(struct transport *t, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The three implementations (called by transport_open). */
int transport_file_open(const struct backup_destination *d,
			struct transport **out, char *err, size_t errsize);
int transport_sftp_open(const struct backup_destination *d,
			const struct secrets *sec, struct transport **out,
			char *err, size_t errsize);
int transport_s3_open(const struct backup_destination *d,
		      const struct secrets *sec, struct transport **out,
		      char *err, size_t errsize);

/*
 * Test hooks read from the environment, so integration tests can slow
 * uploads down or make retries quick:
 *   BOOKTAPE_BACKUP_MAX_SEND_SPEED  bytes/s cap for sftp and s3 uploads
 *   BOOKTAPE_BACKUP_RETRIES         attempts per operation (default 4)
 *   BOOKTAPE_BACKUP_RETRY_DELAY_MS  first backoff delay (default 2000)
 * Returns the value of `var` as a non-negative integer, or `def`.
 */
long transport_env_long(const char *var, long def);

#endif
