/*
 * libFuzzer harness for the MANIFEST.csv / CUTS.csv parsers (archives
 * come back from remote storage, so their manifests are untrusted). The
 * input is split at the first "\n--\n": manifest before, cuts after.
 * Invariant: whatever parses renders back to bytes that parse to an
 * equal manifest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "manifest.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct manifest *m)
{
	struct manifest *again = NULL;
	char *buf = NULL, *cuts = NULL;
	size_t len, clen;

	if (manifest_render(m, &buf, &len) != 0 ||
	    manifest_render_cuts(m, &cuts, &clen) != 0)
		abort();
	if (manifest_parse(buf, len, &again, NULL, 0) != 0)
		abort();
	if (manifest_cut_count(m) > 0 &&
	    manifest_parse_cuts(again, cuts, clen, NULL, 0) != 0)
		abort();
	if (manifest_compare(m, again, NULL, 0) != 0)
		abort();
	manifest_free(again);
	free(buf);
	free(cuts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *sep = memmem(buf, size, "\n--\n", 4);
	size_t mlen = sep ? (size_t)(sep - buf) + 1 : size;
	struct manifest *m = NULL;
	char why[256];

	if (manifest_parse(buf, mlen, &m, why, sizeof(why)) != 0) {
		if (m != NULL)
			abort();
		return 0;
	}
	if (sep != NULL && manifest_parse_cuts(m, sep + 4, size - mlen - 3, why,
					       sizeof(why)) != 0) {
		manifest_free(m);
		return 0;
	}
	roundtrip(m);
	manifest_free(m);
	return 0;
}
