/*
 * The backup secrets file: credentials per destination, kept out of the
 * world-readable config. The file must be mode 0600 or stricter. Format
 * (INI):
 *
 *     # comment
 *     [s3]                      destination name from backup.yml
 *     access_key = AKIA...
 *     secret_key = wJalr...
 *     [offsite]
 *     identity = /etc/booktape/id_ed25519   ssh private key (sftp)
 *     key_passphrase = ...                   if that key is encrypted
 *
 * Keys: access_key, secret_key, identity, key_passphrase. Values run to
 * the end of the line with surrounding blanks removed; no quoting.
 */
#ifndef BACKUP_SECRETS_H
#define BACKUP_SECRETS_H

#include <stddef.h>

struct secrets;

/* Hard limits on what a secrets file may hold. */
#define SECRETS_MAX_FILE    (64u * 1024u)
#define SECRETS_MAX_ENTRIES 256

/*
 * Load `path`: refuse it (CORE_EPERM) when any group or other permission
 * bit is set, or when it is not a regular file. On success *out is a new
 * object the caller frees with secrets_free. On failure returns CORE_E*
 * and writes one message into err, e.g. "secrets file '/x' has mode
 * 0644: it must be 0600 or stricter" or "/x:3: unknown key 'foo'".
 */
int secrets_load(const char *path, struct secrets **out, char *err,
		 size_t errsize);

/* The same parser over a buffer (fuzzing, tests); no mode check. */
int secrets_parse(const char *name, const char *buf, size_t len,
		  struct secrets **out, char *err, size_t errsize);

/*
 * The value of `key` in section `dest`, or NULL. Valid until
 * secrets_free. NULL-safe on sec.
 */
const char *secrets_get(const struct secrets *sec, const char *dest,
			const char *key);

/* Free and wipe the values. NULL-safe. */
void secrets_free(struct secrets *sec);

#endif
