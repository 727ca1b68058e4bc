/*
 * libFuzzer harness for booktape-backup's untrusted-input parsers: the
 * secrets file (first byte 's' or anything else), an sftp long listing
 * (first byte 'l') and an S3 ListObjectsV2 page (first byte 'x').
 * Invariants: whatever parses, every reported name is within the input's
 * size and NUL-free, an accepted secrets file answers lookups, and a
 * truncated S3 page always carries a continuation token.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "listing.h"
#include "secrets.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
	size_t limit;
	size_t n;
};

static int on_entry(void *ctx, const char *name, size_t len, bool is_dir,
		    uint64_t size)
{
	struct fz *f = ctx;

	(void)is_dir;
	(void)size;
	if (len == 0 || len > f->limit || memchr(name, '\0', len) != NULL)
		abort();
	f->n++;
	return 0;
}

static void fuzz_secrets(const char *buf, size_t len)
{
	struct secrets *s = NULL;
	char err[256];
	int rc = secrets_parse("fuzz", buf, len, &s, err, sizeof(err));

	if (rc == 0) {
		const char *v = secrets_get(s, "s3", "access_key");

		if (s == NULL || (v != NULL && strlen(v) > len))
			abort();
	} else if (s != NULL || err[0] == '\0') {
		abort();
	}
	secrets_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	size_t len = size > 0 ? size - 1 : 0;
	struct fz f = { .limit = len };
	struct s3_list_page page;

	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'l':
		(void)listing_parse_sftp(buf, len, on_entry, &f);
		break;
	case 'x':
		if (listing_parse_s3(buf, len, on_entry, &f, &page) == 0 &&
		    page.truncated && page.next_token[0] == '\0')
			abort();
		break;
	default:
		fuzz_secrets(buf, len);
		break;
	}
	return 0;
}
