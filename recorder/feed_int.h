/*
 * Recorder-internal: the feed's structures and the functions its files
 * share. feed.c owns the lifecycle, the pairs, the tick and /healthz;
 * feed_conn.c the connections, requests and the per-message path;
 * feed_rest.c the REST snapshots; feed_roll.c the rollover; feed_rows.c
 * the rows and events into the writer.
 */
#ifndef RECORDER_FEED_INT_H
#define RECORDER_FEED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "rec.h"
#include "sync.h"
#include "venue.h"
#include "wsconn.h"

struct outmsg; /* feed_conn.c */

/*
 * One snapshot request. It points at its pair, not at a name: a pair
 * removed by a reload while its request is in flight detaches it (p =
 * NULL) and is freed at once, and the late reply reaches nobody, not
 * even a pair of the same name added again.
 */
struct fetch_ctx {
	struct feed *f;
	struct gpair *p;
};

/* One WebSocket and the pairs subscribed on it. */
struct fconn {
	struct feed *f;
	struct wsconn *ws;
	struct wsconn_hooks hooks;
	unsigned no;	      /* 0, 1, ... for the logs */
	size_t npairs;	      /* pairs assigned, removed ones too */
	int connections;      /* established so far */
	int data_seen;	      /* a book push since the last tick */
	int64_t last_ping_us; /* mono µs */
	int64_t last_data_us; /* mono µs; data = book pushes */
	/* Rollover (see feed_roll.c). */
	struct fconn *succ;	 /* old one: the connection replacing it */
	struct fconn *pred;	 /* successor: the one it replaces */
	struct fconn *next_old;	 /* retired list */
	int64_t opened_us;	 /* mono µs the link was last established */
	int64_t roll_not_before; /* mono µs; after a failed rollover */
	int shutdown_notice;	 /* the exchange announced a close */
	int retired;		 /* closed for good; freed once done */
	/* Requests held back by the venue's max_sends_per_s. */
	struct outmsg *out_head, *out_tail;
	int64_t send_window_us; /* mono µs */
	unsigned sends_in_window;
	int ws_started; /* wsconn_start() ran (see feed__start_conns) */
};

struct gpair {
	struct feed *f;
	struct fconn *c; /* the connection it is subscribed on */
	char norm[VENUE_SYMBOL_MAX * 2]; /* BTC-USDT */
	char sym[VENUE_SYMBOL_MAX];	 /* BTC_USDT, BTCUSDT */
	size_t symlen;
	struct sync *sync;
	int removed;	  /* unsubscribed by a reload; freed on the ack */
	int rejected;	  /* the exchange refused the subscription */
	int fetch_wanted; /* a snapshot fetch is queued */
	int fetch_inflight;
	struct fetch_ctx *fetch;   /* the request in flight, to detach */
	uint64_t sub_id, unsub_id; /* ids of our last requests */
	int64_t sub_sent_us;	   /* wall µs of an unacked subscribe, 0 */
	int64_t kicked_us;	   /* wall µs of the last deadline action */
	unsigned fetch_failures;
	int64_t fetch_not_before; /* mono µs */
	int64_t last_msg_us;	  /* wall µs, 0 = never */
	int64_t last_l2_hour;	  /* hour of the last L2 row queued */
	int64_t next_snap_us;	  /* next book_snapshot row, wall µs */
	uint64_t top_sig;	  /* top-N signature (snapshot_interval 0) */
	uint64_t lost_rows;	  /* rows the queue refused, not yet reported */
	int64_t lost_since_us;	  /* local_timestamp of the first of them */
	int holding;		  /* L2 diffs held back until a new block */
	int resnap;		  /* a snapshot block is owed */
	struct metric_series *s_msgs, *s_gaps, *s_resyncs, *s_last, *s_synced;
	uint64_t msgs_unpub; /* messages not yet in s_msgs (feed_publish) */
	struct log_ratelimit gap_rl;
	/* Rollover: the successor it is subscribed on too, the id of that
	 * subscribe, the last id the successor sent (0: none yet), and its
	 * messages that run ahead of the book. */
	struct fconn *next_c;
	uint64_t next_sub_id;
	uint64_t next_last;
	struct rollq *rq;
	int64_t roll_since_us; /* wall µs the successor subscribe went */
	int next_acked;	       /* the successor acked the subscribe */
	int skip_ack;	       /* switched before that ack: ignore it */
	/* A stream that cannot be bridged by overlap (sync_bridges_overlap
	 * false): the successor's own book, built from its full push, in
	 * place of rq; after the switch (next_c NULL) it is followed until
	 * the book is adopted or found equal (feed_roll.c). */
	struct sync *shadow;
	int shadow_synced;	 /* it was synced once: losing it is a gap */
	int64_t follow_since_us; /* wall µs of the switch to the shadow */
};

struct feed {
	struct rec *r;
	const struct recorder_config *cfg;
	const struct venue *v;
	struct venue_stream st; /* the stream depth_limit picked */
	char ws_url[512];
	struct fconn **conns;
	size_t nconns;
	void *parser; /* the venue's */
	struct gpair **pairs;
	size_t npairs;
	struct gpair **index; /* open addressing by symbol; NULL: scan */
	size_t index_mask;
	char rest_base[512];
	uint64_t req_id;
	int inflight;
	int started; /* feed_start() ran: new connections start at once */
	int paused;  /* reading stopped: the writer queue is filling */
	int64_t fetch_window_us; /* mono µs; REST rate limit window */
	unsigned fetches_in_window;
	int64_t weight_window_us; /* mono µs; REST weight per minute */
	unsigned weight_in_window;
	int64_t connect_window_us; /* mono µs; connections started */
	unsigned connects_in_window;
	uint64_t seen_write_errors;  /* the sink's count at the last tick */
	int64_t last_write_error_us; /* wall µs, 0 = none yet */
	int64_t paused_at;	     /* mono µs */
	struct metric_series *s_conn, *s_reconn, *s_lat, *s_qdrop;
	struct fconn *rolling; /* the connection being replaced */
	int64_t roll_started;  /* mono µs */
	struct fconn *retired; /* closed for good, freed once done */
	unsigned conn_seq;     /* numbers connections for the logs */
	struct metric_series *s_roll, *s_rollfail, *s_rollsec;
};

/* feed.c: the live pair with that exchange symbol, else a removed one,
 * else NULL. */
struct gpair *feed__pair_find(struct feed *f, const char *sym);

/* feed_rows.c: the sync machine's row and event callbacks (ctx: the
 * pair); a book_events row, fields NULL for empty (dropped, and counted,
 * when the queue is full); a book_snapshot_N row when one is due; the
 * resnapshot the writer asks for (ud: the feed); the tick's "dropped"
 * event and fresh snapshot block after losses; a quiet pair's
 * hour-start block. */
void feed__cb_row(void *ctx, const struct sync_row *r);
void feed__cb_event(void *ctx, const struct sync_event *ev);
void feed__write_event(struct gpair *p, int64_t local_us, const char *name,
		       const char *first, const char *last,
		       const char *expected, const char *detail);
void feed__maybe_top_n(struct gpair *p, int64_t now_us);
void feed__owe_snapshot(void *ud, const char *symbol);
void feed__settle_losses(struct gpair *p, int64_t now);
void feed__hour_start_block(struct gpair *p, int64_t now);

/* feed_conn.c: subscribe on c, in requests of the venue's
 * max_per_request, every pair `pick` takes and readies (next: a
 * rollover's subscribe, on the successor c); (un)subscribe one pair on
 * its connection; the sync's resubscribe callback; the connection a new
 * pair goes on (NULL: out of memory); every connection up?; drop the
 * requests held back; start connections within the connect budget; a
 * connection not started and not listed (NULL: out of memory); reading
 * again after back-pressure; a connection's watchdog and keepalive. */
typedef bool (*feed_pick_fn)(struct gpair *p, struct fconn *c, int64_t now);
void feed__subscribe_all(struct feed *f, struct fconn *c, int next,
			 feed_pick_fn pick, int64_t now);
void feed__send_sub(struct feed *f, struct gpair *p, int subscribe);
void feed__cb_resubscribe(void *ctx, const char *symbol);
struct fconn *feed__conn_for_pair(struct feed *f);
int feed__conns_all_up(const struct feed *f);
void feed__outq_clear(struct fconn *c);
void feed__start_conns(struct feed *f);
struct fconn *feed__conn_alloc(struct feed *f);
void feed__maybe_resume(struct feed *f, int64_t mono);
void feed__conn_tick(struct feed *f, struct fconn *c, int64_t mono,
		     int64_t now_us);

/* feed_rest.c: the sync's snapshot request callback (queues a fetch);
 * start the queued fetches the budgets allow. */
void feed__cb_fetch(void *ctx, const char *symbol);
void feed__pump_fetches(struct feed *f);

/* feed_roll.c: a successor is up (subscribe its predecessor's pairs);
 * a connection closed; a successor's message for p; p tries to switch
 * after a message; a message for a switched p that still follows its
 * shadow; forget the shadow; start or give up rollovers; free retired
 * connections. */
void feed__roll_subscribe(struct feed *f, struct fconn *s, int64_t now);
void feed__roll_conn_closed(struct feed *f, struct fconn *c, int64_t now);
void feed__roll_queue(struct gpair *p, const struct sync_update *u,
		      int64_t now);
void feed__roll_try(struct gpair *p, int64_t now);
void feed__roll_follow(struct gpair *p, const struct sync_update *u,
		       int64_t now);
void feed__roll_drop_shadow(struct gpair *p);
void feed__roll_tick(struct feed *f, int64_t mono);
void feed__reap_retired(struct feed *f);

#endif
