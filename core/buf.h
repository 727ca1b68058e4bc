/*
 * The one growable buffer: bytes (always NUL-terminated, so text can be
 * used as a C string) and the growth rule for arrays. One overflow rule
 * (every buffer has a hard maximum, checked before any arithmetic) and
 * one growth rule (double, from BUF_MIN_CAP, never past the maximum).
 * Modelled on curl's dynbuf and OpenSSH's sshbuf.
 */
#ifndef CORE_BUF_H
#define CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* The largest maximum a buffer may have: bytes without the NUL. */
#define BUF_SIZE_MAX ((size_t)1 << 31)
/* The first allocation, in bytes or (for arrays) elements. */
#define BUF_MIN_CAP 64

/*
 * Embedded by callers; the fields are private: use the functions. A
 * zeroed struct is not ready: call buf_init first. After a failed add
 * the error is sticky: further adds do nothing and return it again
 * until buf_reset or buf_release.
 */
struct buf {
	char *p;    /* private: NULL until the first add */
	size_t len; /* private: bytes used, without the NUL */
	size_t cap; /* private: bytes allocated */
	size_t max; /* private: hard limit on len */
	int err;    /* private: first error, sticky */
};

/* Ready an empty buffer that never holds more than `max` bytes
 * (0 or anything over BUF_SIZE_MAX means BUF_SIZE_MAX). Allocates
 * nothing. */
void buf_init(struct buf *b, size_t max);
/* Free the storage; the buffer is empty and may be used again. NULL-safe. */
void buf_release(struct buf *b);
/* Empty the buffer and clear its error, keeping the storage. */
void buf_reset(struct buf *b);

/*
 * Make room for `n` more bytes (and the NUL). 0, CORE_ETOOBIG when
 * len + n would pass the maximum, CORE_ENOMEM. Write into buf_tail and
 * then call buf_commit.
 */
int buf_reserve(struct buf *b, size_t n);
/* Where the next byte goes; valid until the next call that may grow. */
char *buf_tail(struct buf *b);
/* Count `n` bytes written at buf_tail after buf_reserve(b, >= n). */
void buf_commit(struct buf *b, size_t n);

/* Append: 0, CORE_ETOOBIG, CORE_ENOMEM (or the sticky error). */
int buf_add(struct buf *b, const void *p, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
/* Append formatted text; CORE_EINVAL for a bad format as well. */
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* The contents, NUL-terminated ("" when empty); valid until the next
 * call that changes the buffer. */
const char *buf_str(const struct buf *b);
/* Writable contents (NULL before the first add). Same lifetime. */
char *buf_ptr(struct buf *b);
size_t buf_len(const struct buf *b);
/* How many more bytes the maximum allows. */
size_t buf_room(const struct buf *b);
/* The sticky error: 0 or the first CORE_E* an add returned. */
int buf_error(const struct buf *b);
/* Drop everything after the first `len` bytes (no-op when longer). */
void buf_truncate(struct buf *b, size_t len);
/* Drop the first `n` bytes (all of them when longer), moving the rest
 * to the front: for buffers read from one end and filled at the other. */
void buf_consume(struct buf *b, size_t n);

/*
 * Hand the contents over: the caller frees the returned string (never
 * NULL for a buffer without error: an empty one gives ""), and `len`,
 * if not NULL, gets its length. The buffer is left empty. NULL, with
 * the buffer released, when it holds an error or "" cannot be allocated.
 */
char *buf_detach(struct buf *b, size_t *len);

/*
 * Arrays: grow *v (of `elem`-byte elements, `*cap` of them allocated)
 * so it holds at least `need`, by the same rule as bytes, never past
 * `max` elements (0: no limit but size_t). 0, CORE_ETOOBIG, CORE_ENOMEM;
 * on failure *v and *cap are unchanged. Use BUF_GROW.
 */
int buf__grow_array(void *v, size_t *cap, size_t need, size_t elem, size_t max);
#define BUF_GROW(v, cap, need) \
	buf__grow_array(&(v), &(cap), (need), sizeof(*(v)), 0)
#define BUF_GROW_MAX(v, cap, need, max) \
	buf__grow_array(&(v), &(cap), (need), sizeof(*(v)), (max))

#endif
