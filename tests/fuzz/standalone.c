/*
 * A main() for libFuzzer harnesses under gcc: feed each file named on
 * the command line to LLVMFuzzerTestOneInput once (after dropbear's
 * fuzzstandalone), so `make check` replays the committed corpus.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core.h"
#include "fsutil.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	int n = 0;

	for (int i = 1; i < argc; i++) {
		char *buf;
		size_t len;
		int rc = fs_read_file(argv[i], 64u << 20, &buf, &len);

		if (rc != 0) {
			fprintf(stderr, "read '%s': %s\n", argv[i],
				core_strerror(rc));
			return 1;
		}
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		free(buf);
		n++;
	}
	printf("%s: replayed %d inputs\n", argv[0], n);
	return n > 0 ? 0 : 1;
}
