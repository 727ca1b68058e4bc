/*
 * Recorder-internal: what the two files of the MEXC protocol share.
 * mexc.c owns the parser object, the JSON replies, the REST bodies and
 * the request builders; mexc_pb.c the binary (protobuf) pushes.
 */
#ifndef RECORDER_MEXC_INT_H
#define RECORDER_MEXC_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mexc.h"
#include "wire.h"

struct mexc_parser {
	struct wire_parser w;
	char msg[MEXC_MSG_MAX]; /* a reply's unescaped msg */
};

/*
 * Clear every field of *m but the symbols[] slots past ntopics: a frame
 * is parsed per message, and the struct is mostly those slots.
 */
void mexc__msg_reset(struct mexc_msg *m);

/* Copy s[0..n) and a NUL into out when it is a MEXC symbol. */
static inline bool mexc__take_symbol(const char *s, size_t n,
				     char out[MEXC_SYMBOL_MAX])
{
	return wire_take(s, n, out, MEXC_SYMBOL_MAX, wire_upper_alnum);
}

#endif
