/*
 * The book-sync object of sync.h: its creation, the subscription
 * lifecycle around the rules (subscribed, disconnected, a rollover's
 * shadow and its adoption), hour-start blocks on demand, and what
 * callers may read.
 * The rules themselves (sync_int.h): sync_update.c applies each diff,
 * sync_snapshot.c buffers diffs while a REST snapshot is awaited and
 * replays them on top of it.
 */
#include "sync.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "sync_int.h"
#include "banned.h"

#define DEFAULT_BUFFER_MSGS  512
#define DEFAULT_BUFFER_BYTES (256u * 1024)

void sync_on_subscribed(struct sync *s, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_SUBSCRIBED };

	sync__emit(s, &ev, local_us);
	/*
	 * A full push that overtook the ack of a resubscribe has already
	 * synced the book; the continuity rule guards it from here on.
	 */
	if (s->state == SYNC_SYNCED)
		return;
	book_clear(s->book);
	sync__buf_clear(s);
	if (s->mode == SYNC_MODE_FULLPUSH) {
		sync__set_state(s, SYNC_WAIT_FULL, local_us);
		return;
	}
	sync__set_state(s, SYNC_WAIT_SNAPSHOT, local_us);
	sync__request_fetch(s);
}

bool sync_bridges_overlap(const struct sync *s)
{
	return s->mode == SYNC_MODE_SNAPSHOT && !s->strict;
}

void sync_on_disconnect(struct sync *s, int64_t local_us)
{
	struct sync_event ev = { .kind = SYNC_EV_DISCONNECT };

	sync__emit(s, &ev, local_us);
	book_clear(s->book);
	sync__buf_clear(s);
	sync__set_state(s, SYNC_IDLE, local_us);
	s->fetching = false;
}

int sync_emit_snapshot(struct sync *s, int64_t local_us)
{
	if (s->state != SYNC_SYNCED)
		return CORE_EAGAIN;
	sync__emit_block(s, local_us);
	return 0;
}

struct sync *sync_new(const char *symbol, enum sync_mode mode,
		      const struct sync_cfg *cfg, const struct sync_cbs *cbs)
{
	struct sync *s;
	size_t len;

	if (symbol == NULL || cfg == NULL || cbs == NULL ||
	    (mode != SYNC_MODE_SNAPSHOT && mode != SYNC_MODE_FULLPUSH))
		return NULL;
	len = strlen(symbol);
	if (len == 0 || len >= SYMBOL_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	memcpy(s->symbol, symbol, len + 1);
	s->mode = mode;
	s->cbs = *cbs;
	s->msg_cap = cfg->buffer_msgs ? cfg->buffer_msgs : DEFAULT_BUFFER_MSGS;
	s->text_cap = cfg->buffer_bytes ? cfg->buffer_bytes
					: DEFAULT_BUFFER_BYTES;
	s->book = book_new(cfg->window);
	s->window = cfg->window;
	s->full_depth = cfg->full_depth;
	s->checksum = cfg->checksum;
	s->resubscribe = cfg->resubscribe;
	s->strict = cfg->strict;
	if (s->msg_cap > SIZE_MAX / sizeof(struct bufmsg))
		s->msg_cap = SIZE_MAX / sizeof(struct bufmsg);
	if (s->book == NULL) {
		sync_free(s);
		return NULL;
	}
	return s;
}

struct sync *sync_shadow_new(const struct sync *s)
{
	struct sync_cfg cfg = {
		.window = s->window,
		.full_depth = s->full_depth,
		.checksum = s->checksum,
		.resubscribe = s->resubscribe,
		.strict = s->strict,
		.buffer_msgs = s->msg_cap,
		.buffer_bytes = s->text_cap,
	};
	struct sync_cbs none = { 0 };

	return sync_new(s->symbol, s->mode, &cfg, &none);
}

int sync_adopt(struct sync *s, struct sync *from, int64_t local_us)
{
	struct book *b = s->book;

	if (from->state != SYNC_SYNCED)
		return CORE_EAGAIN;
	s->book = from->book;
	from->book = b;
	book_clear(from->book);
	sync__set_state(from, SYNC_IDLE, local_us);
	sync__buf_clear(s);
	s->fetching = false;
	memcpy(s->bounded, from->bounded, sizeof(s->bounded));
	memcpy(s->bound_len, from->bound_len, sizeof(s->bound_len));
	memcpy(s->bound, from->bound, sizeof(s->bound));
	sync__full_synced(s, from->last, from->book_ts, local_us);
	return 0;
}

void sync_free(struct sync *s)
{
	if (s == NULL)
		return;
	book_free(s->book);
	free(s->msgs);
	free(s->text);
	free(s);
}

enum sync_state sync_state(const struct sync *s)
{
	return s->state;
}

bool sync_synced(const struct sync *s)
{
	return s->state == SYNC_SYNCED;
}

uint64_t sync_last_id(const struct sync *s)
{
	return s->last;
}

int64_t sync_book_ts(const struct sync *s)
{
	return s->book_ts;
}

int64_t sync_state_since(const struct sync *s)
{
	return s->since;
}

bool sync_fetch_wanted(const struct sync *s)
{
	return s->fetching && s->state == SYNC_WAIT_SNAPSHOT;
}

void sync_fetch_cancel(struct sync *s)
{
	if (s->state != SYNC_WAIT_SNAPSHOT)
		s->fetching = false;
}

const struct book *sync_book(const struct sync *s)
{
	return s->book;
}

const struct sync_counters *sync_counters(const struct sync *s)
{
	return &s->c;
}

const char *sync_symbol(const struct sync *s)
{
	return s->symbol;
}

const char *sync_event_name(enum sync_event_kind kind)
{
	static const char *const names[] = {
		[SYNC_EV_SUBSCRIBED] = "subscribed",
		[SYNC_EV_SNAPSHOT] = "snapshot",
		[SYNC_EV_GAP] = "gap",
		[SYNC_EV_RESYNC] = "resync",
		[SYNC_EV_FULL_REFRESH] = "full_refresh",
		[SYNC_EV_DISCONNECT] = "disconnect",
		[SYNC_EV_DROPPED] = "dropped",
		[SYNC_EV_UPDATE] = "update",
	};

	if ((unsigned)kind >= CORE_ARRAY_LEN(names))
		return "unknown";
	return names[kind];
}
