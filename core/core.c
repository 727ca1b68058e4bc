/* Error text for the CORE_E* codes. */
#include "core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

const char *core_strerror(int rc)
{
	switch (rc) {
	case CORE_OK:
		return "success";
	case CORE_ESYS:
		return strerror(errno);
	case CORE_ENOMEM:
		return "out of memory";
	case CORE_EINVAL:
		return "invalid argument";
	case CORE_EPARSE:
		return "malformed input";
	case CORE_ECONFIG:
		return "invalid configuration";
	case CORE_ERANGE:
		return "value out of range";
	case CORE_EEXIST:
		return "already exists";
	case CORE_ENOENT:
		return "not found";
	case CORE_ECORRUPT:
		return "verification failed";
	case CORE_ETOOBIG:
		return "too large";
	case CORE_EIO:
		return "input/output error";
	case CORE_EAGAIN:
		return "temporary failure";
	case CORE_ELOCKED:
		return "locked by another process";
	case CORE_ENOSPACE:
		return "buffer full";
	case CORE_ESCHEMA:
		return "does not match schema";
	case CORE_EPERM:
		return "not permitted";
	case CORE_EREMOTE:
		return "remote failure";
	default:
		return "unknown error";
	}
}

void core_set_why(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || size == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

int core_dup2(const char *a, const char *b, char **da, char **db)
{
	*da = strdup(a);
	*db = strdup(b);
	if (*da != NULL && *db != NULL)
		return 0;
	free(*da);
	free(*db);
	*da = *db = NULL;
	return CORE_ENOMEM;
}
