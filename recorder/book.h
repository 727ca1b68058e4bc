/*
 * One symbol's order book: bids best (highest) first, asks best (lowest)
 * first, ordered by exact decimal price. Prices and amounts keep the
 * exchange's exact text; a level is stored in 32 bytes (the price as an
 * exact integer key, which orders it, and the amount's text), in slots
 * preallocated for the window (depth_limit levels per side) plus slack,
 * so applying an ordinary update never allocates. A message that brings
 * more levels than that before the window is trimmed (a sweep refilled
 * from below, a deep full push) grows the side: no level is lost to a
 * capacity limit.
 */
#ifndef RECORDER_BOOK_H
#define RECORDER_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal.h"

/* Bytes per price or amount slot, NUL included: texts up to 31 bytes. */
#define BOOK_TEXT_MAX 32
/* Largest window book_new() accepts. */
#define BOOK_MAX_DEPTH 10000

enum book_side {
	BOOK_BID = 0,
	BOOK_ASK = 1,
};

/* A level as book_level() shows it; texts are NUL-terminated. */
struct book_level {
	char price[BOOK_TEXT_MAX];
	char amount[BOOK_TEXT_MAX];
	uint8_t price_len;
	uint8_t amount_len;
};

/* A level change as it appears in a message: spans into the message. */
struct book_change {
	const char *price;
	size_t price_len;
	const char *amount;
	size_t amount_len;
};

/* What book_set() did (all >= 0). */
enum book_result {
	BOOK_NOOP = 0, /* deleted a level that was not there */
	BOOK_INSERTED, /* new price level */
	BOOK_UPDATED,  /* new amount at an existing price */
	BOOK_DELETED,  /* amount zero removed a level */
};

struct book;

/*
 * New empty book whose window is depth_limit levels per side
 * (1..BOOK_MAX_DEPTH), with room for a little more between trims.
 * Returns NULL on allocation failure or a depth out of range. Free with
 * book_free().
 */
struct book *book_new(size_t depth_limit);

/* Free the book. NULL-safe. */
void book_free(struct book *b);

/*
 * Set the absolute amount at a price: zero ("0", "0.000") deletes the
 * level. Both texts must pass decimal_valid() and be at most
 * BOOK_TEXT_MAX - 1 bytes; they are copied. Levels beyond the window are
 * kept until book_trim(). Returns an enum book_result, CORE_EPARSE for a
 * text that is not a plain decimal, CORE_ETOOBIG for a text too long to
 * store or a side past 65535 levels, or CORE_ENOMEM; on error the book
 * is unchanged.
 */
int book_set(struct book *b, enum book_side side, const char *price,
	     size_t price_len, const char *amount, size_t amount_len);

/* Remove every level of both sides. */
void book_clear(struct book *b);

/*
 * Drop levels beyond the window on both sides (the stream no longer
 * maintains them); returns how many.
 */
size_t book_trim(struct book *b);

/*
 * Drop the levels of a side strictly worse than `price` (a valid
 * decimal); returns how many.
 */
size_t book_trim_worse(struct book *b, enum book_side side, const char *price,
		       size_t price_len);

/* Levels currently held on a side. */
size_t book_count(const struct book *b, enum book_side side);

/*
 * The i-th best level of a side (0 = best), or NULL when i >= count.
 * Rendered into the side's one view: valid until the next book_level()
 * on the same side or the next change to the book.
 */
const struct book_level *book_level(const struct book *b, enum book_side side,
				    size_t i);

/* True when both sides are non-empty and best bid >= best ask. */
bool book_crossed(const struct book *b);

/*
 * Verify the invariants: bids strictly descending, asks strictly
 * ascending, every text a valid decimal, no zero amount, counts within
 * capacity. Returns 0 or CORE_ECORRUPT. O(levels); for tests and fuzzing.
 */
int book_check(const struct book *b);

/* The depth_limit given to book_new(). */
size_t book_depth_limit(const struct book *b);

#endif
