/*
 * The recorder's metric families. Names keep the old collector's so its
 * dashboards and alerts keep working (DESIGN.md "Metrics").
 */
#include "rec.h"

#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "metrics.h"
#include "banned.h"

#define P "orderbook_collector_"

static const char *const l_ex[] = { "exchange", NULL };
static const char *const l_sym[] = { "exchange", "symbol", NULL };
static const char *const l_err[] = { "exchange", "error_type", NULL };
static const char *const l_reason[] = { "exchange", "reason", NULL };

/* Receive-to-processed latency buckets, seconds. */
static const double lat_buckets[] = { 0.00001, 0.000025, 0.00005, 0.0001,
				      0.00025, 0.0005,	 0.001,	  0.0025,
				      0.005,   0.01,	 0.025,	  0.05,
				      0.1,     0.25,	 0.5,	  1 };

/* Receive-to-write(2) latency buckets, seconds: rows may wait up to
 * flush_interval (10 s by default) in a quiet file. */
static const double wlat_buckets[] = { 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
				       0.005,  0.01,	0.025,	0.05,  0.1,
				       0.25,   0.5,	1,	2.5,   5,
				       10,     30,	60 };

struct family_def {
	size_t off; /* offset of the struct metric * in rec_metrics */
	const char *name, *help;
	enum metric_type type;
	const char *const *labels;
};

#define F(field, name, type, labels, help)                               \
	{                                                                \
		offsetof(struct rec_metrics, field), P name, help, type, \
			labels                                           \
	}

static const struct family_def defs[] = {
	F(messages, "messages_received_total", METRIC_COUNTER, l_sym,
	  "Exchange messages received."),
	F(gaps, "sequence_gaps_total", METRIC_COUNTER, l_sym,
	  "Update-id gaps detected (each starts a resync)."),
	F(conn_status, "connection_status", METRIC_GAUGE, l_ex,
	  "1 while the exchange WebSocket is connected."),
	F(buffer_size, "buffer_size", METRIC_GAUGE, l_ex,
	  "Bytes of rows queued for the writer thread."),
	F(failed, "messages_failed_total", METRIC_COUNTER, l_err,
	  "Messages that could not be used, by error type."),
	F(ticks_written, "ticks_written_total", METRIC_COUNTER, l_sym,
	  "incremental_book_L2 rows that reached the file."),
	F(resyncs, "resyncs_total", METRIC_COUNTER, l_sym,
	  "Book resynchronisations started."),
	F(reconnections, "reconnections_total", METRIC_COUNTER, l_ex,
	  "WebSocket connections established after the first."),
	F(disconnections, "disconnections_total", METRIC_COUNTER, l_reason,
	  "WebSocket disconnections, by reason."),
	F(last_message, "last_message_timestamp_seconds", METRIC_GAUGE, l_sym,
	  "Unix time of the last message for the symbol."),
	F(write_errors, "write_errors_total", METRIC_COUNTER, l_ex,
	  "Failed writes or fsyncs of data files."),
	F(rows_dropped, "rows_dropped_total", METRIC_COUNTER, l_reason,
	  "Rows lost before reaching a file, by reason."),
	F(book_synced, "book_synced", METRIC_GAUGE, l_sym,
	  "1 while the symbol's local book is in sync."),
	F(read_pauses, "read_pauses_total", METRIC_COUNTER, l_ex,
	  "Times reading from the exchange paused for the writer queue."),
	F(rollovers, "rollovers_total", METRIC_COUNTER, l_ex,
	  "Pairs switched to a new connection without a gap (rollover)."),
	F(rollovers_failed, "rollovers_failed_total", METRIC_COUNTER, l_ex,
	  "Rollovers abandoned: the successor closed or did not catch up."),
};

/* Seconds a pair ran on two connections during a rollover. */
static const double roll_buckets[] = { 0.1, 0.25, 0.5, 1,   2.5, 5,
				       10,  30,	  60,  120, 300, 600 };

int rec_metrics_init(struct rec_metrics *m)
{
	static const char *const l_ver[] = { "version", NULL };
	struct metric *info;

	m->reg = metrics_new();
	if (m->reg == NULL)
		return CORE_ENOMEM;
	for (size_t i = 0; i < CORE_ARRAY_LEN(defs); i++) {
		struct metric **slot =
			(struct metric **)((char *)m + defs[i].off);

		*slot = metrics_family(m->reg, defs[i].name, defs[i].help,
				       defs[i].type, defs[i].labels, NULL, 0);
		if (*slot == NULL)
			return CORE_ENOMEM;
	}
	m->latency = metrics_family(
		m->reg, P "message_processing_latency",
		"Seconds from a message's receipt to its rows being queued.",
		METRIC_HISTOGRAM, l_ex, lat_buckets,
		CORE_ARRAY_LEN(lat_buckets));
	m->write_latency = metrics_family(
		m->reg, P "write_latency_seconds",
		"Seconds from a row's receipt to its write(2) into its file, "
		"observed once per write for the oldest row written.",
		METRIC_HISTOGRAM, l_ex, wlat_buckets,
		CORE_ARRAY_LEN(wlat_buckets));
	m->rollover_secs = metrics_family(
		m->reg, P "rollover_seconds",
		"Seconds a pair ran on two connections before its switch.",
		METRIC_HISTOGRAM, l_ex, roll_buckets,
		CORE_ARRAY_LEN(roll_buckets));
	info = metrics_family(m->reg, "booktape_build_info",
			      "booktape version, always 1.", METRIC_GAUGE,
			      l_ver, NULL, 0);
	if (m->latency == NULL || m->write_latency == NULL ||
	    m->rollover_secs == NULL || info == NULL)
		return CORE_ENOMEM;
	metric_set(metric_series(info,
				 (const char *const[]){ BOOKTAPE_VERSION }),
		   1);
	return metrics_add_process(m->reg);
}

struct metric_series *rec_series(struct rec *r, struct metric *f,
				 const char *second)
{
	const char *v[2] = { r->exchange, second };

	return metric_series(f, v);
}
