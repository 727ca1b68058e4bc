/* Small helpers of booktape-rotate: checked path building, fault points. */
#include "rotate.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "banned.h"

int rotate_path(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			dst[0] = '\0';
		return CORE_ETOOBIG;
	}
	return 0;
}

void fault_point(const char *step)
{
	const char *want = getenv("BOOKTAPE_FAULT");

	if (want == NULL || strcmp(want, step) != 0)
		return;
	/* Like a power cut or the OOM killer: no cleanup, no atexit. */
	(void)raise(SIGKILL);
	_exit(137); /* not reached */
}
