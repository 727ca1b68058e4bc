/* SHA-256 over OpenSSL EVP. */
#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core.h"
#include "fsutil.h"
#include "banned.h"

struct sha256 {
	EVP_MD_CTX *md;
};

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL ||
	    EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->md);
		free(h);
		return NULL;
	}
	return h;
}

void sha256_free(struct sha256 *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

int sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->md, data, len) != 1)
		return CORE_EIO;
	return 0;
}

int sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->md, out, &n) != 1 || n != SHA256_LEN)
		return CORE_EIO;
	if (EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1)
		return CORE_EIO;
	return 0;
}

void sha256_to_hex(const uint8_t *bin, size_t len, char *dst)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		dst[2 * i] = digits[bin[i] >> 4];
		dst[2 * i + 1] = digits[bin[i] & 15];
	}
	dst[2 * len] = '\0';
}

int sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX_LEN])
{
	uint8_t bin[SHA256_LEN];
	int rc = sha256_final(h, bin);

	if (rc == 0)
		sha256_to_hex(bin, sizeof(bin), hex);
	return rc;
}

int sha256_buf_hex(const void *data, size_t len, char hex[SHA256_HEX_LEN])
{
	struct sha256 *h = sha256_new();
	int rc;

	if (h == NULL)
		return CORE_ENOMEM;
	rc = sha256_update(h, data, len);
	if (rc == 0)
		rc = sha256_final_hex(h, hex);
	sha256_free(h);
	return rc;
}

/* Hash what fd still has to read; the byte count to *bytes (may be NULL). */
static int hash_fd(int fd, char hex[SHA256_HEX_LEN], uint64_t *bytes)
{
	static const size_t bufsize = 1 << 17;
	struct sha256 *h = sha256_new();
	char *buf = malloc(bufsize);
	uint64_t total = 0;
	int rc = 0;

	if (h == NULL || buf == NULL) {
		rc = CORE_ENOMEM;
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		ssize_t n = fs_read_retry(fd, buf, bufsize);

		if (n < 0) {
			rc = CORE_ESYS;
			goto out;
		}
		if (n == 0)
			break;
		if ((rc = sha256_update(h, buf, (size_t)n)) != 0)
			goto out;
		total += (uint64_t)n;
	}
	rc = sha256_final_hex(h, hex);
	if (rc == 0 && bytes != NULL)
		*bytes = total;
out:
	free(buf);
	sha256_free(h);
	return rc;
}

int sha256_file_hex(const char *path, char hex[SHA256_HEX_LEN], uint64_t *bytes)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc, saved;

	if (fd < 0)
		return CORE_ESYS;
	rc = hash_fd(fd, hex, bytes);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

bool sha256_hex_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}
