/*
 * The recorder's process lifecycle: context and vhosts, signals, the
 * periodic tick, systemd notification and watchdog, reload and the
 * ordered shutdown described in rec.h.
 */
#include "rec.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <systemd/sd-daemon.h>

#include "core.h"
#include "fsutil.h"
#include "httpd.h"
#include "log.h"
#include "resolve.h"
#include "rest.h"
#include "schema.h"
#include "timeutil.h"
#include "venue.h"
#include "wsconn.h"
#include "banned.h"

#define TICK_US (100 * 1000)

static volatile sig_atomic_t got_term, got_hup;
static struct lws_context *signal_cx;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
	/* An eventfd write: safe in a handler (LIBRARIES.md §1.8). */
	if (signal_cx != NULL)
		lws_cancel_service(signal_cx);
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* A file size limit is a full disk to us: an error, not a death. */
	sigaction(SIGXFSZ, &sa, NULL);
}

struct rec_loop {
	struct rec *r;
	struct sink_stats told; /* sink figures already in the counters */
	lws_sorted_usec_list_t sul_tick;
	uint64_t watchdog_us;
	int64_t last_watchdog;
};

static struct rec_loop loop;

/* Carry the writer thread's figures into the counters (as deltas). */
static void update_from_sink(struct rec *r)
{
	struct sink_stats st;
	struct sink_stats *t = &loop.told;

	sink_stats(r->sink, &st);
	metric_set(rec_series(r, r->m.buffer_size, NULL),
		   (double)st.queued_bytes);
	metric_add(rec_series(r, r->m.write_errors, NULL),
		   (double)(st.write_errors - t->write_errors));
	metric_add(rec_series(r, r->m.rows_dropped, "write_error"),
		   (double)(st.rows_dropped_write - t->rows_dropped_write));
	*t = st;
}

/* Every 100 ms on the loop thread: hand rows to the writer, let the feed
 * do its timed work, and prove to systemd that the loop itself runs. */
static void tick(lws_sorted_usec_list_t *sul)
{
	struct rec_loop *l = lws_container_of(sul, struct rec_loop, sul_tick);
	int64_t now = time_now_us(), mono = time_mono_us();

	resolve_dispatch(); /* in case a wake-up was missed */
	feed_tick(l->r->feed, now);
	sink_commit(l->r->sink);
	update_from_sink(l->r);
	if (l->watchdog_us != 0 &&
	    mono - l->last_watchdog >= (int64_t)l->watchdog_us / 2) {
		sd_notify(0, "WATCHDOG=1");
		l->last_watchdog = mono;
	}
	lws_sul_schedule(l->r->cx, 0, &l->sul_tick, tick, TICK_US);
}

static int hook_metrics(void *ud, char **body, size_t *len)
{
	struct rec *r = ud;

	if (r->feed != NULL)
		feed_publish(r->feed);
	metrics_update_process(r->m.reg);
	return metrics_render(r->m.reg, body, len);
}

static int hook_health(void *ud, char **body, size_t *len, int *status)
{
	struct rec *r = ud;

	if (r->feed == NULL)
		return CORE_EAGAIN; /* answered 500 until the feed exists */
	return feed_health(r->feed, body, len, status);
}

static struct httpd_hooks http_hooks;

/* lws's own log lines, through ours (errors and warnings only). */
static void lws_log_emit(int level, const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == ' '))
		n--;
	log_msg(level == LLL_ERR ? LOG_LVL_ERR : LOG_LVL_WARNING, "lws: %.*s",
		(int)n, line);
}

static int create_context(struct rec *r)
{
	static struct lws_protocols client_protos[3];
	struct lws_context_creation_info info, vi;
	int rc;

	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
		       LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.connect_timeout_secs = 10;
	info.user = r;
	r->cx = lws_create_context(&info);
	if (r->cx == NULL)
		return CORE_EIO;
	http_hooks.metrics = hook_metrics;
	http_hooks.health = hook_health;
	http_hooks.ud = r;
	/* httpd_start says why it could not listen. */
	rc = httpd_start(r->cx, r->cfg->metrics_listen, &http_hooks);
	if (rc != 0)
		return rc;
	memset(client_protos, 0, sizeof(client_protos));
	client_protos[0] = *wsconn_protocol();
	client_protos[1] = *rest_protocol();
	memset(&vi, 0, sizeof(vi));
	vi.vhost_name = "client";
	vi.port = CONTEXT_PORT_NO_LISTEN;
	vi.protocols = client_protos;
	/* The client SSL_CTX is made only when the vhost asks for global
	 * init (LIBRARIES.md §1.2). */
	vi.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	vi.client_ssl_ca_filepath = r->cfg->ca_file;
	r->client = lws_create_vhost(r->cx, &vi);
	if (r->client == NULL || wsconn_tls_init(r->cfg->ca_file) != 0) {
		log_err("create the client vhost (ca_file '%s')",
			r->cfg->ca_file ? r->cfg->ca_file : "system");
		return CORE_EIO;
	}
	return 0;
}

static void reload(struct rec *r)
{
	struct recorder_config *ncfg = calloc(1, sizeof(*ncfg));
	char *err = NULL;
	int rc;

	if (ncfg == NULL)
		return;
	rc = config_load_recorder(r->cfg->path, ncfg, &err);
	if (rc != 0) {
		log_err("reload '%s' refused, keeping the running config",
			r->cfg->path);
		log_lines(LOG_LVL_ERR, err ? err : core_strerror(rc));
		free(err);
		free(ncfg);
		return;
	}
	if (ncfg->exchange != r->cfg->exchange)
		log_warn("reload: only trading_pairs change on SIGHUP; "
			 "restart to change other keys");
	rc = feed_set_pairs(r->feed, ncfg->pairs, ncfg->npairs);
	if (rc != 0)
		log_err_r(rc, "reload pairs");
	else
		log_notice("reloaded '%s': %zu pairs", r->cfg->path,
			   ncfg->npairs);
	config_release_recorder(ncfg);
	free(ncfg);
}

static int run_loop(struct rec *r)
{
	uint64_t wd = 0;
	int n = 0;

	loop.r = r;
	if (sd_watchdog_enabled(0, &wd) > 0)
		loop.watchdog_us = wd;
	lws_sul_schedule(r->cx, 0, &loop.sul_tick, tick, TICK_US);
	sd_notifyf(0, "READY=1\nSTATUS=recording %zu pairs of %s",
		   r->cfg->npairs, r->exchange);
	while (n >= 0 && !got_term) {
		n = lws_service(r->cx, 0);
		/* A resolver answer wakes the loop (lws_cancel_service). */
		resolve_dispatch();
		/* The rows of every message this round read go to the
		 * writer in one hand-over: one wake-up per message cost more
		 * than the rows, and left the queue's blocks near empty. */
		sink_commit_round(r->sink);
		if (got_hup) {
			got_hup = 0;
			reload(r);
		}
	}
	sd_notify(0, "STOPPING=1\nSTATUS=flushing");
	lws_sul_cancel(&loop.sul_tick);
	return n >= 0 ? 0 : 1;
}

static void sink_written(void *ud, const char *symbol, enum sink_dataset ds,
			 uint64_t rows)
{
	struct rec *r = ud;

	if (ds == SINK_L2)
		metric_add(rec_series(r, r->m.ticks_written, symbol),
			   (double)rows);
}

/* Owned copy of cfg, so a reload can replace the pair list safely. */
static int rec_init(struct rec *r, const struct recorder_config *cfg)
{
	char *err = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = (struct recorder_config *)cfg;
	r->exchange = exchange_name(cfg->exchange);
	r->started_us = time_now_us();
	rc = schema_set_load(&r->schemas, &err);
	if (rc != 0) {
		log_err("schema: %s", err ? err : core_strerror(rc));
		free(err);
		return rc;
	}
	if ((rc = rec_metrics_init(&r->m)) != 0)
		return rc;
	r->sink = sink_new(cfg, r->exchange, r->schemas, sink_written, r);
	if (r->sink == NULL)
		return CORE_ENOMEM;
	sink_set_write_latency(r->sink,
			       rec_series(r, r->m.write_latency, NULL));
	return 0;
}

static void rec_release(struct rec *r)
{
	feed_free(r->feed);
	wsconn_tls_done();
	sink_free(r->sink);
	metrics_free(r->m.reg);
	schema_set_free(r->schemas);
}

/*
 * Fail at start, not hour after hour, when the data directory cannot be
 * written: create <data_dir>/live and prove a file can be made there.
 */
static int check_data_dir(const struct recorder_config *cfg)
{
	char live[PATH_MAX], probe[PATH_MAX + 32];
	int rc, n;

	n = snprintf(live, sizeof(live), "%s/live", cfg->data_dir);
	if (n < 0 || (size_t)n >= sizeof(live))
		rc = CORE_ETOOBIG;
	else if ((rc = fs_mkdir_p(live, 0750)) == 0) {
		snprintf(probe, sizeof(probe), "%s/.write-test", live);
		rc = fs_write_atomic(probe, "", 0, 0640);
		if (rc == 0)
			(void)unlink(probe);
	}
	if (rc != 0)
		log_err_r(rc, "data_dir '%s' is not writable", cfg->data_dir);
	return rc;
}

int rec_main(const struct recorder_config *cfg)
{
	struct rec r;
	int rc, status = 1;

	/* Every connector's config loads (its keys are valid), but an
	 * exchange without a venue is refused rather than recorded wrong. */
	if (venue_find(cfg->exchange) == NULL) {
		log_err("%s: connector '%s' is not supported by this version",
			cfg->path, cfg->connector_name);
		return 2;
	}
	if ((rc = check_data_dir(cfg)) != 0)
		return 1;
	install_signals();
	if ((rc = rec_init(&r, cfg)) != 0)
		goto out;
	if ((rc = sink_start(r.sink)) != 0) {
		log_err_r(rc, "start the writer thread");
		goto out;
	}
	if ((rc = create_context(&r)) != 0)
		goto stop_sink;
	if ((rc = resolve_init(r.cx)) != 0) {
		log_err_r(rc, "start the resolver thread");
		goto stop_sink;
	}
	signal_cx = r.cx;
	r.feed = feed_new(&r);
	if (r.feed == NULL || feed_start(r.feed) != 0) {
		log_err("start the %s feed", r.exchange);
		goto stop_sink;
	}
	log_notice("recording %zu pairs of %s into '%s'", cfg->npairs,
		   r.exchange, cfg->data_dir);
	status = run_loop(&r);
	feed_stop(r.feed);
stop_sink:
	/* Close the network first: its close callbacks still queue
	 * "disconnect" events, which must reach the files too. */
	signal_cx = NULL;
	if (r.cx != NULL) {
		resolve_shutdown();
		rest_shutdown();
		lws_context_destroy(r.cx);
		r.cx = NULL;
	}
	sink_commit(r.sink);
	if (sink_stop(r.sink) != 0)
		status = 1;
	log_notice("stopped");
out:
	rec_release(&r);
	return status;
}
