/*
 * The booktape exchange simulator: a local exchange server (WS and REST
 * on one lws vhost) with a seeded order book per pair, ground truth
 * files, faults on demand, a flood mode and a replay mode. What differs
 * per exchange sits behind one table of operations, struct sim_venue
 * (Gate.io spot v4 in sim_gateio.c and sim_sub.c, MEXC spot v3 in
 * sim_mexc.c); everything else is shared. This header holds the types
 * every sim module shares; see tests/sim/README.md.
 */
#ifndef TESTS_SIM_SIM_H
#define TESTS_SIM_SIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libwebsockets.h>

#define SIM_NAME_MAX	32
#define SIM_MAX_SUBS	1024
#define SIM_REQ_MAX	(64 * 1024) /* largest client frame accepted */
#define SIM_PAYLOAD_MAX 8
#define SIM_PARAMS_MAX                                    \
	1040 /* "params" items kept per request (Binance: \
	      * 1024 streams fit one request) */
#define SIM_TICK_US   5000
#define SIM_NOTICE_US 500000 /* a lifetime notice precedes the close */

enum sim_side { SIM_BID = 0, SIM_ASK = 1 };

struct sim_tape;

/* ---------------------------------------------------------------- buffers */

/*
 * A growable byte buffer that always keeps LWS_PRE bytes of headroom in
 * front of its data, so it can be handed to lws_write() as is.
 */
struct sbuf {
	char *mem;  /* LWS_PRE + cap bytes */
	size_t len; /* bytes of data at mem + LWS_PRE */
	size_t cap;
	int oom; /* an append failed; the content is truncated */
};

void sbuf_release(struct sbuf *b);
void sbuf_reset(struct sbuf *b);
char *sbuf_data(struct sbuf *b);
int sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_add(struct sbuf *b, const char *s, size_t n);
void sbuf_adds(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sbuf_add_i64(struct sbuf *b, int64_t v);
void sbuf_add_u64(struct sbuf *b, uint64_t v);
/* Format into dst (24 / 48 bytes); return the length, no NUL. */
size_t fmt_u64(char *dst, uint64_t v);
size_t fmt_dec(char *dst, int64_t units, int dec);
/* units / 10^dec as a decimal string, trailing zeros trimmed ("1.5", "0"). */
void sbuf_add_dec(struct sbuf *b, int64_t units, int dec);
/* Append src as a JSON string body, escaping quotes and controls. */
void sbuf_add_jstr(struct sbuf *b, const char *s, size_t n);

/* splitmix64: the one PRNG of the simulator, deterministic per seed. */
uint64_t sim_rand(uint64_t *state);

/* ---------------------------------------------------------------- book */

struct sim_level {
	int64_t px;  /* ticks */
	int64_t amt; /* amount units */
};

struct sim_book_side {
	struct sim_level *lv; /* bids high->low, asks low->high */
	size_t n, cap;
};

struct sim_change {
	uint64_t id;
	int64_t px;
	int64_t amt;  /* new amount, 0 = delete */
	int64_t prev; /* amount before this change (0 = level was absent) */
	uint8_t side;
};

struct sim_pair {
	char name[SIM_NAME_MAX];
	int pdec, adec; /* decimals of price ticks, amount units */
	int64_t mid;	/* starting mid price, ticks */
	int depth;	/* max levels per side */
	struct sim_book_side side[2];
	uint64_t first_id; /* id of the first change ever */
	uint64_t last_id;  /* id of the newest change (first_id-1: none) */
	int64_t last_ms;   /* wall time of the newest change */
	struct sim_change *ring; /* the newest ring_cap changes, by id */
	size_t ring_cap;
	uint64_t rng;
	double rate, accum;	 /* changes per second, fractional carry */
	int64_t paused_until_us; /* "pause" fault: no changes before this */
	FILE *truth;
	/* Flood mode: the book before the flood (what REST serves and every
	 * tape starts from), its id, and the tapes rendered so far. */
	struct sim_book_side mark[2];
	uint64_t mark_id;
	int64_t mark_ms;
	struct sim_tape *tapes;
	uint64_t rest_calls; /* REST snapshots of this pair served */
	/* Replay mode: captured REST body and WS frames, served verbatim. */
	char *rp_snap;
	size_t rp_snap_len;
	char **rp_lines;
	size_t *rp_len;
	size_t rp_n;
};

/* Fill a pair from its spec; generates the initial book as changes. */
int book_pair_init(struct sim_pair *p, const char *name, uint64_t seed,
		   int depth, double rate, size_t ring_cap);
void book_pair_release(struct sim_pair *p);
/* Open DIR/<PAIR>.truth.csv and write the changes made so far. */
int book_truth_open(struct sim_pair *p, const char *dir);
void book_truth_flush(struct sim_pair *p);
/* Make exactly one change (one update id). */
void book_step(struct sim_pair *p, int64_t now_ms);
/*
 * Flood support: book_mark() remembers the current book (0, or -1 when
 * out of memory), book_rewind() goes back to it, book_replay() applies
 * the ring's changes up to id `to` again (they must still be in the
 * ring), without touching ring or truth.
 */
int book_mark(struct sim_pair *p);
void book_rewind(struct sim_pair *p);
void book_replay(struct sim_pair *p, uint64_t to, int64_t now_ms);
/* Is there a level at px on the side now? */
int book_has(const struct sim_pair *p, int side, int64_t px);
/* Delete the best n levels of a side (one id each), keeping one. */
void book_sweep(struct sim_pair *p, int side, uint64_t n, int64_t now_ms);
/* The change with this id, or NULL when it left the ring (or never was). */
const struct sim_change *book_change(const struct sim_pair *p, uint64_t id);
/* Oldest id still in the ring. */
uint64_t book_oldest_id(const struct sim_pair *p);
/*
 * Copy the book as it was `back` changes ago into the two sides given
 * (caller releases them with book_side_release). Returns the id of that
 * state; `back` is clipped to what the ring holds.
 */
uint64_t book_state_back(const struct sim_pair *p, uint64_t back,
			 struct sim_book_side out[2]);
void book_side_release(struct sim_book_side *s);

/* ---------------------------------------------------------------- requests */

struct sim_req {
	int has_time, has_id, has_event, has_payload;
	int64_t time, id;
	char channel[64];
	char event[32];
	char payload[SIM_PAYLOAD_MAX][64]; /* string items */
	int npayload;
	int payload_nonstr;	 /* an item was not a string or too long */
	const char *payload_raw; /* JSON text of the payload, for the echo */
	size_t payload_raw_len;
	/* MEXC: {"method":M,"params":[...],"id":N}. */
	char method[32];
	char params[SIM_PARAMS_MAX][64];
	int nparams, has_params;
	int params_bad; /* an item not a string, too long, or too many */
	/* OKX: "op" lands in method, each {"channel","instId"} of "args"
	 * in params as "channel:instId", a string "id" in id_str. */
	char id_str[40];
	int has_id_str;
};

/* Parse a client request. 0, or -1 when it is not a JSON object. */
int json_parse_req(const char *s, size_t n, struct sim_req *r);

/* ---------------------------------------------------------------- conns */

enum sim_chan {
	SIM_CH_OBU_UPDATE = 1,
	SIM_CH_OBU = 2,
	SIM_CH_MEXC_AGGRE = 3,
	SIM_CH_BINANCE_DEPTH = 4,
	SIM_CH_OKX_BOOKS = 5,
};

struct sim_msg {
	struct sim_msg *next;
	size_t len;
	int binary;	/* a binary frame (MEXC pushes), else text */
	int64_t due_us; /* not written before (--conn-lag-ms) */
	char data[];	/* LWS_PRE headroom, then len bytes */
};

struct sim_sub {
	struct sim_pair *pair;
	enum sim_chan chan;
	int interval_ms;  /* push period */
	int level;	  /* levels in full pushes */
	uint64_t next_id; /* first id not yet pushed */
	int64_t next_push_us;
	int64_t next_full_us; /* random irregular full push, 0 = none */
	int need_full;
	uint64_t skip;	  /* gap fault: ids still to leave out */
	int reorder;	  /* 1: hold the next push, 2: holding one */
	struct sbuf last; /* last push sent, for dup */
	struct sbuf held; /* push held back by reorder */
	size_t rp_pos;	  /* replay: next captured line */
	/* Flood: the tape replayed, the next frame, and the REST snapshots
	 * of the pair served before this subscription (see sim_flood.c). */
	const struct sim_tape *tape;
	size_t tape_pos;
	uint64_t rest_mark;
	int64_t hold_until_us;
	/*
	 * Window streams (the book is deeper than `level`): the levels the
	 * subscriber holds, i.e. the window as of its last push.
	 */
	struct sim_book_side win[2];
	/* OKX: the seqId of the last push sent, and when it was sent. */
	int64_t seq;
	int64_t last_sent_us;
};

struct sim;

struct sim_conn {
	struct sim *sim;
	struct lws *wsi;
	struct sim_conn *next;
	char conn_id[17];
	struct sim_sub *subs[SIM_MAX_SUBS];
	size_t nsubs;
	struct sim_msg *qhead, *qtail;
	size_t qbytes;
	struct sbuf rx;
	int64_t opened_us, last_ping_us;
	int64_t stall_until_us;
	int64_t close_at_us; /* close fault deadline, 0 = none */
	int drop, closing;
	int close_status; /* status of the close frame when closing */
	int flooding;
	int flood_held;	      /* flood: waiting for REST snapshots */
	struct sbuf flood;    /* flood: the frames being written */
	int64_t lag_us;	      /* --conn-lag-ms: this connection's delay */
	int64_t rate_from_us; /* inbound rate limit: this second's start */
	unsigned rate_n;      /* frames received since rate_from_us */
	size_t ghost_subs;    /* Binance: streams of unknown symbols, acked
			       * and counted, never any data */
	unsigned ops;	      /* OKX: (un)subscribe ops (480 an hour) */
	int refusing;	      /* OKX: over the channel limit, closing */
};

/* Per-session data lws allocates for every connection (HTTP or WS). */
struct sim_pss {
	struct sim_conn *conn; /* ws only */
	struct sbuf body;      /* http response body */
};

/* ---------------------------------------------------------------- faults */

enum sim_fault_kind {
	SIM_F_GAP,
	SIM_F_DUP,
	SIM_F_REORDER,
	SIM_F_BADJSON,
	SIM_F_OVERSIZE,
	SIM_F_STALL,
	SIM_F_DROP,
	SIM_F_CLOSE,
	SIM_F_FULL,
	SIM_F_REST_ERROR,
	SIM_F_REST_429,
	SIM_F_STALE,
	SIM_F_PAUSE,
	SIM_F_RESUME,
	SIM_F_SWEEP_BID,
	SIM_F_SWEEP_ASK,
	SIM_F_SUB_ERROR,
	SIM_F_BARE_ACK,
	SIM_F_DROP_OLD,
	SIM_F_DROP_NEW,
	SIM_F_COUNT
};

struct sim_fault {
	double at_s; /* script: seconds since start */
	enum sim_fault_kind kind;
	char pair[SIM_NAME_MAX]; /* "" = all */
	uint64_t n;		 /* 0 = the kind's default */
	int done;
};

/* Parse a kind name; -1 when unknown. */
int fault_kind_parse(const char *name);
const char *fault_kind_name(enum sim_fault_kind k);
/* Parse "T:KIND[:PAIR][:N],..." into sim->script. 0 or -1. */
int fault_script_parse(struct sim *sim, const char *spec);
/* Apply a fault now. */
void fault_apply(struct sim *sim, const struct sim_fault *f);
/* Run the script items that are due. */
void fault_script_run(struct sim *sim, double elapsed_s);

/* ---------------------------------------------------------------- context */

struct sim_opts {
	int port;
	const char *listen; /* IPv4 literal */
	const char *port_file;
	const char *cert, *key;
	const char *truth_dir;
	const char *script;
	const char *replay_dir;
	const char *pairs;
	uint64_t seed;
	double rate; /* changes per second per pair */
	int depth;
	double duration_s;    /* 0 = until SIGTERM */
	double full_every_s;  /* mean seconds between random full pushes */
	int ping_s;	      /* server protocol PING period */
	int idle_close_s;     /* close sockets with no sub and no ping */
	uint64_t flood;	      /* pushes per subscription, 0 = off */
	int flood_update;     /* gateio --flood-stream update */
	double rate_skew;     /* pair i's rate is rate / i^skew */
	size_t ring;	      /* changes kept per pair */
	size_t max_queue;     /* bytes queued per connection before a drop */
	int window_silent;    /* levels pushed out of a window: no delete */
	const char *exchange; /* --exchange: the venue's name */
	double lifetime_s;    /* close each connection S s after it opened */
	double conn_lag_ms;   /* odd connections write this much later */
	double heartbeat_s;   /* OKX: idle heartbeat after S s (60) */
	double seq_reset_s;   /* OKX: seqIds restart lower after S s; 0 */
	int no_snapshot;      /* OKX: snapshot-less channel (§4.6) */
	int okx_checksum;     /* OKX: legacy feed with real checksums */
};

/* A subscription target parsed from a request. */
struct sim_target {
	struct sim_pair *pair;
	enum sim_chan chan;
	int interval_ms, level;
};

/*
 * What differs per exchange, one const table each (after curl's TLS
 * backends). The generic code (books, ring, truth, faults, flood, WS and
 * HTTP plumbing, TLS) calls only these.
 */
struct sim_venue {
	const char *name;	   /* --exchange value */
	const char *default_pairs; /* --pairs default */
	const char *rest_path;	   /* REST order-book path */
	int binary_push;	   /* pushes are binary frames */
	unsigned max_msgs_per_s;   /* inbound frames/s before a close, 0: off */
	unsigned max_conns_per_s;  /* new connections/s before 1008, 0: off */
	int flood_rest;		   /* flood: clients sync from REST */
	enum sim_chan flood_chan;  /* flood: the stream rendered first */
	int flood_level;
	int supports_replay; /* --replay works */
	/* Handle one complete client frame (text or binary). */
	void (*request)(struct sim_conn *c, const char *data, size_t len);
	/*
	 * Build the next push of a subscription into b (full when asked
	 * and the venue has full pushes). Advances sub->next_id. Returns 1
	 * when b holds a frame, 0 for nothing to send.
	 */
	int (*push)(struct sim *sim, struct sim_sub *s, struct sbuf *b,
		    int full);
	/*
	 * Answer a REST order-book request into b; returns the HTTP status
	 * (the rest_429 and rest_error faults are applied before it).
	 */
	int (*rest)(struct sim *sim, struct lws *wsi, struct sbuf *b);
	/* The body of a 429 (status 429) or 500 (status 500) REST reply. */
	void (*rest_fault_body)(struct sbuf *b, int status);
	/* The badjson fault: queue a malformed frame on c. */
	void (*bad_frame)(struct sim_conn *c);
	/* Optional: queue the notice of a --lifetime close (Binance
	 * serverShutdown) just before it. */
	void (*closing)(struct sim_conn *c);
};

extern const struct sim_venue sim_venue_gateio;
extern const struct sim_venue sim_venue_mexc;
extern const struct sim_venue sim_venue_binance;
extern const struct sim_venue sim_venue_okx;

/*
 * Encode the real push of EXCHANGES.md §2.4 with the simulator's MEXC
 * encoder and compare it with the test vector in path. 0 when equal.
 */
int mexc_vector_check(const char *path);

struct sim {
	struct sim_opts opt;
	const struct sim_venue *venue;
	struct lws_context *cx;
	struct lws_vhost *vh;
	struct sim_pair *pairs;
	size_t npairs;
	struct sim_conn *conns;
	size_t nconns;
	struct sim_fault *script;
	size_t nscript;
	uint64_t rest_error_left, rest_429_left, stale_back;
	uint64_t sub_error_left, bare_ack_left, rest_calls;
	uint64_t conn_seq; /* connections opened so far */
	uint64_t drop_old; /* drop_old armed: pushes before it fires */
	uint64_t drop_new; /* drop_new armed: pushes before it fires */
	uint64_t rng;
	int64_t start_us, last_tick_us;
	int64_t conn_window_us; /* venue connection rate: this second */
	unsigned conns_in_window;
	lws_sorted_usec_list_t tick;
	volatile int *stop;
	struct sbuf scratch;   /* push building */
	size_t push_levels;    /* levels in the push just built */
	struct sim_level *agg; /* push collapse: entries */
	uint32_t *hash;	       /* push collapse: open addressing */
	uint8_t *agg_side;
	size_t agg_cap, hash_cap;
};

struct sim_pair *sim_pair_find(struct sim *sim, const char *name, size_t n);
int64_t sim_now_us(void);

/* ---------------------------------------------------------------- gateio */

/*
 * Collapse changes from..to into sim->agg (one entry per level, the last
 * value, in order of first appearance; sides in sim->agg_side). Returns
 * the entry count (0 when the scratch cannot grow).
 */
size_t agg_collect(struct sim *sim, const struct sim_pair *p, uint64_t from,
		   uint64_t to);
/* Grow the collapse scratch to hold n entries. -1 on failure. */
int agg_reserve(struct sim *sim, size_t n);
/* Gate.io's client requests (sim_sub.c). */
void gio_request(struct sim_conn *c, const char *data, size_t len);

/* Subscribe/unsubscribe ack; err_code 0 = success. */
void gio_ack(struct sim *sim, struct sim_conn *c, struct sbuf *b,
	     const struct sim_req *r, int err_code, const char *err_msg);
void gio_pong(struct sim *sim, struct sim_conn *c, struct sbuf *b,
	      const struct sim_req *r);
/*
 * Build the next push of a subscription into b: a full push when `full`,
 * else the changes next_id..last_id collapsed to one value per level.
 * Advances sub->next_id. Returns 1 when b holds a push, 0 for nothing
 * to send.
 */
int gio_push(struct sim *sim, struct sim_sub *s, struct sbuf *b, int full);
/*
 * Window streams (the book deeper than sub->level), shared by Gate.io
 * and OKX: win_take() records that the subscriber now holds the top
 * `level` levels a side; win_diff() puts into sim->agg one entry per
 * level that changed inside the window, entered it or left it (0, unless
 * --window-leave silent and the level still exists below) and returns
 * the count.
 */
void win_take(struct sim_sub *s);
size_t win_diff(struct sim *sim, struct sim_sub *s);
/* REST order_book body for a pair (limit levels per side, with_id). */
void gio_rest_book(struct sim *sim, struct sim_pair *p, struct sbuf *b,
		   int limit, int with_id, uint64_t back);

/* ---------------------------------------------------------------- ws/http */

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		void *in, size_t len);
/* Subscription bookkeeping shared by the venues (sim_sub.c). */
void sub_remove_all(struct sim_conn *c);
/* Add a subscription (next_id = the pair's next id). 0 or -1. */
int sub_add(struct sim_conn *c, const struct sim_target *t);
void sub_free(struct sim_sub *s);
/* The subscription matching pair, channel and level, or NULL. */
struct sim_sub *sub_find(struct sim_conn *c, const struct sim_target *t,
			 size_t *idx);
/* Queue a copy of a text frame on a connection. 0 or -1 (conn dropped). */
int ws_queue(struct sim_conn *c, const char *data, size_t len);
/* Same for a text (binary 0) or binary (1) frame. */
int ws_queue_frame(struct sim_conn *c, const char *data, size_t len,
		   int binary);
/* Send a push now, through the reorder and dup machinery. */
void ws_deliver(struct sim_conn *c, struct sim_sub *s, struct sbuf *b);
/* Called every tick: pushes, deadlines, idle closes. */
void ws_tick(struct sim *sim, int64_t now_us);
int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
		  void *in, size_t len);
/*
 * REST bodies shared by the venues (sim_http.c): [["price","amount"],..]
 * of n levels; MEXC's and Binance's {"code":N,"msg":".."} error and
 * their depth body {"lastUpdateId":N,"bids":..,"asks":..} of at most
 * limit levels a side (with "timestamp" for MEXC), the book as it is now
 * or as a pending stale_snapshot fault says.
 */
void rest_levels(struct sbuf *b, const struct sim_pair *p,
		 const struct sim_level *lv, size_t n);
void rest_code_msg(struct sbuf *b, int code, const char *msg);
void rest_depth(struct sim *sim, const struct sim_pair *p, struct sbuf *b,
		size_t limit, int timestamp);
/* A query argument ("name=" form) of the request, or NULL. */
const char *sim_arg(struct lws *wsi, const char *name, char *buf, int len);
/* Digits only into *out. 0 or -1. */
int sim_parse_u64(const char *s, uint64_t *out);

/* ---------------------------------------------------------------- flood */

/*
 * One stream kind's flood for one pair, rendered once: whole WS frames
 * back to back (the full push first, when the venue has one), replayed
 * to every subscriber of that kind.
 */
struct sim_tape {
	struct sim_tape *next;
	enum sim_chan chan;
	int level, interval_ms;
	struct sbuf data;
	size_t *end; /* end offset of each frame in data */
	size_t nframes, cap;
	uint64_t levels; /* level entries in the frames after the first */
	int ok;		 /* rendered whole */
};

/* Decide every pair's flood and render the venue's flood stream, before
 * serving (sim_flood.c). 0 or -1. */
int flood_prepare(struct sim *sim);
/* The tape for a subscription target, rendered now if it is new; NULL
 * when it cannot be. */
const struct sim_tape *flood_tape(struct sim *sim, const struct sim_target *t);
/* Write the next frames of a flooding connection (the writeable
 * callback): -1 to close the connection. */
int flood_write(struct sim_conn *c);
/* REST snapshots were served: held floods may go on. */
void flood_kick(struct sim *sim);
/* A new subscription in flood mode: its tape, and the REST snapshots of
 * its pair so far. */
void flood_sub_init(struct sim_conn *c, struct sim_sub *s,
		    const struct sim_target *t);
void flood_release(struct sim_pair *p);

/* ---------------------------------------------------------------- replay */

/* Load every extracted_<PAIR>_* capture pair found in dir as a pair. */
int replay_load(struct sim *sim, const char *dir);

#endif
