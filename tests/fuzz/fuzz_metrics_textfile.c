/*
 * libFuzzer harness for metrics_textfile_read, the parser of textfiles
 * left by an earlier run: write the input to a temp file, query it a
 * few ways, and check that a hit never reports a value it did not read.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "metrics.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *name, *label, *value;
} queries[] = {
	{ "booktape_backup_last_success_timestamp_seconds", "target", "s3" },
	{ "booktape_backup_last_success_timestamp_seconds", NULL, NULL },
	{ "booktape_rotate_archives_total", NULL, NULL },
	{ "a", "b", "" },
	{ "a", "b", "x\"y\\z\n" },
	{ "process_open_fds", NULL, NULL },
};

static char path[64];
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

/* One file per process, rewritten in place: no fsync per input. */
static void open_file(void)
{
	const char *tmp = getenv("TMPDIR");

	if (fd >= 0)
		return;
	snprintf(path, sizeof(path), "%s/fuzz-metrics.%ld.prom",
		 tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp",
		 (long)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	atexit(remove_file);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	open_file();
	/* The harness's own I/O failing is not a parser bug: stop loudly. */
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	for (size_t i = 0; i < CORE_ARRAY_LEN(queries); i++) {
		double v = 12345.5;
		int rc = metrics_textfile_read(path, queries[i].name,
					       queries[i].label,
					       queries[i].value, &v);

		if (rc != 0 && rc != CORE_ENOENT && rc != CORE_ETOOBIG)
			abort();
		/* A hit needs at least the name and a value in the input. */
		if (rc == 0 && size < strlen(queries[i].name) + 2)
			abort();
	}
	return 0;
}
