/*
 * SHA-256 through OpenSSL EVP: streaming contexts, whole buffers and
 * whole files, with lowercase hex output as sha256sum prints it.
 */
#ifndef CORE_SHA256_H
#define CORE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN     32
#define SHA256_HEX_LEN 65 /* 64 hex digits and a NUL */

struct sha256;

/* A new context, or NULL on allocation failure. Free with sha256_free. */
struct sha256 *sha256_new(void);
void sha256_free(struct sha256 *h);
int sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finish into `out` (binary) and reset the context for reuse. */
int sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN]);
/* Finish into lowercase hex and reset the context for reuse. */
int sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN]);

/* Is s exactly 64 lowercase hex digits, as sha256sum prints a hash? */
bool sha256_hex_ok(const char *s);

/* Hash `len` bytes of `data` into hex. 0 or CORE_E*. */
int sha256_buf_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN]);

/*
 * Hash the file at `path` into hex; if `bytes` is not NULL it gets the
 * number of bytes hashed. 0, CORE_ESYS (errno set) or CORE_ENOMEM.
 */
int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN],
		    uint64_t *bytes);

/* Lowercase hex of `len` bytes into dst, which holds 2*len+1 bytes. */
void sha256_to_hex(const uint8_t *bin, size_t len, char *dst);

#endif
