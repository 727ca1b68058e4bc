/*
 * The recorder process: one lws context and event loop holding the
 * exchange feed (WebSocket + REST), the /metrics endpoint and the
 * timers, and one writer thread (sink) owning the files.
 *
 * Shutdown: SIGTERM/SIGINT set a flag and wake the loop; the loop stops
 * the feed (which writes "shutdown" events), then the sink drains its
 * queue, flushes and fsyncs every file, and the process exits 0. SIGHUP
 * re-reads the config file and hands the new pair list to the feed;
 * pairs that stay are not touched.
 */
#ifndef RECORDER_REC_H
#define RECORDER_REC_H

#include <stdint.h>

#include <libwebsockets.h>

#include "config.h"
#include "metrics.h"
#include "sink.h"

/* Metric families of the recorder, registered once. */
struct rec_metrics {
	struct metrics *reg;
	struct metric *messages;       /* {exchange,symbol} counter */
	struct metric *latency;	       /* {exchange} histogram, seconds */
	struct metric *write_latency;  /* {exchange} histogram, seconds */
	struct metric *gaps;	       /* {exchange,symbol} counter */
	struct metric *conn_status;    /* {exchange} gauge */
	struct metric *buffer_size;    /* {exchange} gauge: rows queued */
	struct metric *failed;	       /* {exchange,error_type} counter */
	struct metric *ticks_written;  /* {exchange,symbol} counter */
	struct metric *resyncs;	       /* {exchange,symbol} counter */
	struct metric *reconnections;  /* {exchange} counter */
	struct metric *disconnections; /* {exchange,reason} counter */
	struct metric *last_message;   /* {exchange,symbol} gauge */
	struct metric *write_errors;   /* {exchange} counter */
	struct metric *rows_dropped;   /* {exchange,reason} counter */
	struct metric *book_synced;    /* {exchange,symbol} gauge */
	struct metric *read_pauses;    /* {exchange} counter */
	struct metric *rollovers;      /* {exchange} counter: pairs switched */
	struct metric *rollovers_failed; /* {exchange} counter */
	struct metric *rollover_secs;	 /* {exchange} histogram, seconds */
};

struct rec {
	struct recorder_config *cfg; /* owned; replaced on reload */
	const char *exchange;	     /* "gateio", ... */
	struct lws_context *cx;
	struct lws_vhost *client;
	struct sink *sink;
	struct schema_set *schemas;
	struct rec_metrics m;
	struct feed *feed;
	int64_t started_us;
};

/* Run the recorder until SIGTERM/SIGINT. Returns the exit status. */
int rec_main(const struct recorder_config *cfg);

/* Register the recorder's metric families in m->reg. 0 or CORE_ENOMEM. */
int rec_metrics_init(struct rec_metrics *m);

/* Series helpers: the exchange label comes from r. */
struct metric_series *rec_series(struct rec *r, struct metric *f,
				 const char *second);

/*
 * The exchange feed: subscriptions, book sync, rows and events, the
 * same for every exchange (feed*.c), each exchange behind venue.h.
 */
struct feed;
struct feed *feed_new(struct rec *r);
int feed_start(struct feed *f);
/* Apply a new pair list (normalized BASE-QUOTE): start added pairs,
 * stop removed ones, leave the rest untouched. 0 or CORE_E*. */
int feed_set_pairs(struct feed *f, char *const *pairs, size_t npairs);
/* Periodic work (about every 100 ms): watchdog, pings, snapshots. */
void feed_tick(struct feed *f, int64_t now_us);
/* Bring the per-pair metrics up to date (before /metrics renders). */
void feed_publish(struct feed *f);
/* Write shutdown events and stop reconnecting. */
void feed_stop(struct feed *f);
/* The /healthz body and status (200 or 503). Caller frees *body. */
int feed_health(struct feed *f, char **body, size_t *len, int *status);
void feed_free(struct feed *f);

#endif
