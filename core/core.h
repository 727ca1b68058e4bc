/*
 * Error codes and small helpers shared by every core module. Core
 * functions return 0 on success or a negative CORE_E* code; CORE_ESYS
 * means errno holds the cause.
 */
#ifndef CORE_CORE_H
#define CORE_CORE_H

#include <stddef.h>
#include <stdint.h>

enum {
	CORE_OK = 0,
	CORE_ESYS = -1,	     /* errno holds the cause */
	CORE_ENOMEM = -2,    /* allocation failed */
	CORE_EINVAL = -3,    /* invalid argument */
	CORE_EPARSE = -4,    /* malformed input */
	CORE_ECONFIG = -5,   /* configuration is invalid */
	CORE_ERANGE = -6,    /* value out of range */
	CORE_EEXIST = -7,    /* target already exists */
	CORE_ENOENT = -8,    /* no such object */
	CORE_ECORRUPT = -9,  /* data failed verification */
	CORE_ETOOBIG = -10,  /* input exceeds a hard limit */
	CORE_EIO = -11,	     /* I/O error (library-reported) */
	CORE_EAGAIN = -12,   /* temporary failure, retry later */
	CORE_ELOCKED = -13,  /* resource is locked by another process */
	CORE_ENOSPACE = -14, /* a bounded queue or buffer is full */
	CORE_ESCHEMA = -15,  /* data does not match its schema */
	CORE_EPERM = -16,    /* refused by policy (e.g. file mode) */
	CORE_EREMOTE = -17,  /* the remote side failed or refused */
};

/*
 * Text for a CORE_E* code. For CORE_ESYS it is strerror(errno) taken at
 * the time of the call, so call it before anything can change errno.
 * The returned string is static or thread-local; never free it.
 */
const char *core_strerror(int rc);

/*
 * Format a reason into the caller's buffer `why` of `size` bytes (both
 * may be NULL/0: then nothing is written), truncating to fit. For
 * functions that explain a CORE_E* return in words.
 */
void core_set_why(char *why, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Copy both strings or neither: 0 with new copies in *da and *db (caller
 * frees), or CORE_ENOMEM with both NULL.
 */
int core_dup2(const char *a, const char *b, char **da, char **db);

#ifdef NDEBUG
#define CORE_ASSERT(x) ((void)0)
#else
#include <assert.h>
#define CORE_ASSERT(x) assert(x)
#endif

#define CORE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Static functions that unit tests need are made visible with this. */
#ifdef CORE_TESTING
#define CORE_TESTABLE
#else
#define CORE_TESTABLE static
#endif

#endif
