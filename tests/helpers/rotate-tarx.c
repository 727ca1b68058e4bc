/*
 * Test helper: verify a booktape archive with core/tarball and extract
 * it with libarchive, so integration tests can compare libarchive's
 * extraction with GNU tar's.
 * usage: rotate-tarx ARCHIVE DESTDIR   (exit 0 ok, 1 verify/extract failed)
 */
#include <stdio.h>

#include "core.h"
#include "manifest.h"
#include "tarball.h"
#include "banned.h"

int main(int argc, char **argv)
{
	char why[512] = "", sha[SHA256_HEX_LEN];
	size_t n = 0;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: rotate-tarx ARCHIVE DESTDIR\n");
		return 2;
	}
	rc = tarball_verify(argv[1], NULL, sha, NULL, NULL, why, sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "verify '%s': %s\n", argv[1], why);
		return 1;
	}
	rc = tarball_extract(argv[1], argv[2], NULL, TARBALL_WITH_META, &n, why,
			     sizeof(why));
	if (rc != 0) {
		fprintf(stderr, "extract '%s': %s\n", argv[1], why);
		return 1;
	}
	printf("%s %zu\n", sha, n);
	return 0;
}
