/*
 * The rollover queue: while a pair's messages arrive on two connections
 * (the old one, whose book is written, and its successor), the
 * successor's messages that run ahead of the book are copied here, in
 * order, until the book catches up with one that bridges it. See the
 * rollover block comment in feed_roll.c.
 *
 * The entries are contiguous: a message that does not follow the tail
 * (a gap on the successor) empties the queue first, and a full push
 * does too (the successor's diffs continue from it). When the queue is
 * full the oldest entries go: the book keeps moving and catches up with
 * what is left.
 */
#ifndef RECORDER_ROLLQ_H
#define RECORDER_ROLLQ_H

#include <stddef.h>
#include <stdint.h>

#include "sync.h"

struct rollq;

/*
 * A queue of at most max_msgs messages and max_bytes of level text
 * (both above 0). NULL on allocation failure or a zero bound.
 */
struct rollq *rollq_new(size_t max_msgs, size_t max_bytes);

/* Free the queue. NULL-safe. */
void rollq_free(struct rollq *q);

/*
 * Copy u to the tail. Returns 0, or CORE_ETOOBIG when u alone does not
 * fit or holds a price or amount over 255 bytes (the queue is then
 * empty). Oldest entries are discarded to make room.
 */
int rollq_push(struct rollq *q, const struct sync_update *u);

/* Discard the entries the book has already covered: last_id <= last. */
void rollq_trim(struct rollq *q, uint64_t last);

/*
 * The head entry as an update whose spans stay valid until the next
 * call that changes the queue. Returns 0, or CORE_EAGAIN when empty.
 */
int rollq_head(struct rollq *q, struct sync_update *out);

/* Discard the head entry (no-op when empty). */
void rollq_pop(struct rollq *q);

/* Discard every entry. */
void rollq_clear(struct rollq *q);

/* Entries queued. */
size_t rollq_count(const struct rollq *q);

#endif
