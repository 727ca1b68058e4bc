/*
 * Fuzz harness for core/buf: the input is a program of adds, printfs,
 * reserves, truncates, consumes and resets against a small maximum; after each
 * step the buffer must equal a plain model and stay within its limit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "core.h"
#include "banned.h"

#define MAXLEN 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct buf *b, const char *model, size_t mlen)
{
	if (buf_len(b) != mlen || buf_len(b) > MAXLEN ||
	    memcmp(buf_str(b), model, mlen) != 0 || buf_str(b)[mlen] != '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char model[MAXLEN + 1];
	size_t mlen = 0, i = 0;
	struct buf b;

	buf_init(&b, MAXLEN);
	while (i < size) {
		uint8_t op = data[i++];
		size_t n = (size_t)(op >> 3) * 3;

		if (n > size - i)
			n = size - i;
		switch (op & 7) {
		case 0:
		case 1:
		case 2:
			if (buf_add(&b, data + i, n) == 0) {
				memcpy(model + mlen, data + i, n);
				mlen += n;
			} else if (mlen + n <= MAXLEN) {
				abort();
			}
			i += n;
			break;
		case 3:
			if (buf_printf(&b, "%zu;", n) == 0)
				mlen += (size_t)snprintf(model + mlen,
							 sizeof(model) - mlen,
							 "%zu;", n);
			break;
		case 4: /* the top bit picks which end is cut */
			if (op & 0x80) {
				buf_consume(&b, n);
				n = n < mlen ? n : mlen;
				memmove(model, model + n, mlen - n);
				mlen -= n;
			} else {
				buf_truncate(&b, n);
				if (n < mlen)
					mlen = n;
			}
			break;
		case 5:
			if (buf_reserve(&b, n * 4) == 0 &&
			    mlen + n * 4 > MAXLEN)
				abort();
			break;
		case 6:
			buf_reset(&b);
			mlen = 0;
			break;
		default: {
			size_t len;
			char *s = buf_detach(&b, &len);

			if (s != NULL && (len != mlen || memcmp(s, model, len)))
				abort();
			free(s);
			mlen = 0;
			buf_init(&b, MAXLEN);
			break;
		}
		}
		if (buf_error(&b) != 0) {
			buf_reset(&b);
			mlen = 0;
		}
		check(&b, model, mlen);
	}
	buf_release(&b);
	return 0;
}
