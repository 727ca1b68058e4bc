/* Fault points for the crash tests: BOOKTAPE_FAULT=<step> kills us there. */
#include "rotate.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"

void fault_point(const char *step)
{
	const char *want = getenv("BOOKTAPE_FAULT");

	if (want == NULL || strcmp(want, step) != 0)
		return;
	/* Like a power cut or the OOM killer: no cleanup, no atexit. */
	(void)raise(SIGKILL);
	_exit(137); /* not reached */
}
