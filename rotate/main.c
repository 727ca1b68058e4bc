/*
 * booktape-rotate: seal finished hours of <data_dir>/live into verified
 * tar.gz archives, apply local retention, publish textfile metrics. This
 * file is the program shell: arguments, config, lock, exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "metrics.h"
#include "rotate.h"
#include "schema.h"
#include "timeutil.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/booktape/rotate.yml"
#define PROM_NAME      "booktape_rotate.prom"

enum { EXIT_USAGE = 2, EXIT_TEMPFAIL = 75 };

struct args {
	const char *config;
	const char *now;
	const char *exchange;
	bool check_config;
	bool dry_run;
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: booktape-rotate [--config FILE] [--now TIME] [--dry-run]\n"
		"                       [--exchange X]\n"
		"       booktape-rotate [--config FILE] --check-config\n"
		"       booktape-rotate --help | --version\n"
		"\n"
		"Seal every finished hour under <data_dir>/live (an hour is\n"
		"finished once it ended `grace` seconds ago): check each CSV\n"
		"against its schema, cut a torn tail, write MANIFEST.csv, build\n"
		"<data_dir>/archive/<exchange>/<date>/<exchange>_<date>T<HH>.tar.gz,\n"
		"verify it, write its .sha256 sidecar, then remove the originals.\n"
		"Archives older than keep_days are removed once the backup ledger\n"
		"shows them verified offsite. Metrics go to\n"
		"<textfile_dir>/" PROM_NAME ".\n"
		"\n"
		"  -c, --config FILE   config file (default " DEFAULT_CONFIG
		")\n"
		"  -n, --check-config  validate the config, print it, exit\n"
		"  -t, --now TIME      use TIME (ISO 8601 UTC, e.g.\n"
		"                      2026-11-26T03:00Z) as the current time\n"
		"  -d, --dry-run       print what would be done, change nothing\n"
		"  -x, --exchange X    only this exchange (gateio, mexc, ...)\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Environment: BOOKTAPE_FAULT=STEP kills the program with SIGKILL\n"
		"at STEP (build, fsync, verify, rename, sidecar, delete, rmdir,\n"
		"retain), for crash tests.\n"
		"\n"
		"Exit status: 0 every finished hour sealed, 1 some hour or the\n"
		"retention pass failed (originals kept), 2 usage or config error,\n"
		"75 another booktape-rotate holds the lock (retry later).\n");
}

/* The command line into a: 0 to go on or EXIT_USAGE; --help and
 * --version print and exit 0 here. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "now", required_argument, NULL, 't' },
		{ "dry-run", no_argument, NULL, 'd' },
		{ "exchange", required_argument, NULL, 'x' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->config = DEFAULT_CONFIG;
	while ((c = getopt_long(argc, argv, "c:nt:dx:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'n':
			a->check_config = true;
			break;
		case 't':
			a->now = optarg;
			break;
		case 'd':
			a->dry_run = true;
			break;
		case 'x':
			a->exchange = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("booktape-rotate %s\n", BOOKTAPE_VERSION);
			exit(0);
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return 0;
}

/* flock on <data_dir>/state/rotate.lock; the fd stays open until exit. */
static int take_lock(const char *data_dir)
{
	char dir[4096], path[4200];
	int fd, rc;

	if (rotate_path(dir, sizeof(dir), "%s/state", data_dir) != 0 ||
	    rotate_path(path, sizeof(path), "%s/rotate.lock", dir) != 0) {
		log_err("data_dir '%s': path too long", data_dir);
		return 1;
	}
	if ((rc = fs_mkdir_p(dir, 0755)) != 0) {
		log_err_r(rc, "mkdir '%s'", dir);
		return 1;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("open '%s': %s", path, strerror(errno));
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK) {
			log_err("'%s' is held by another run; try later", path);
			return EXIT_TEMPFAIL;
		}
		log_err("lock '%s': %s", path, strerror(errno));
		return 1;
	}
	return 0; /* fd deliberately kept: the lock lives as long as we do */
}

/* Register an unlabelled gauge and set it (skipped when out of memory). */
static void gauge(struct metrics *m, const char *name, const char *help,
		  double v)
{
	struct metric *f =
		metrics_family(m, name, help, METRIC_GAUGE, NULL, NULL, 0);
	struct metric_series *s = f ? metric_series(f, NULL) : NULL;

	if (s != NULL)
		metric_set(s, v);
}

/* booktape_rotate.prom for this run, carrying last_success forward
 * from the previous file when the run failed; 0 or CORE_E*. */
static int write_metrics(const struct rotate_config *cfg,
			 const struct rotate_stats *st, int64_t start_us,
			 double duration, bool ok)
{
	struct metrics *m = metrics_new();
	double last_ok = 0;
	char path[4200];
	int rc;

	if (m == NULL)
		return CORE_ENOMEM;
	(void)rotate_path(path, sizeof(path), "%s/%s", cfg->textfile_dir,
			  PROM_NAME);
	if (ok)
		last_ok = (double)start_us / 1e6;
	else if (metrics_textfile_read(
			 path, "booktape_rotate_last_success_timestamp_seconds",
			 NULL, NULL, &last_ok) != 0)
		last_ok = 0;
	gauge(m, "booktape_rotate_last_run_timestamp_seconds",
	      "Start of the last run, success or not.", (double)start_us / 1e6);
	gauge(m, "booktape_rotate_last_success_timestamp_seconds",
	      "Start of the last run that ended without an error.", last_ok);
	gauge(m, "booktape_rotate_duration_seconds",
	      "Wall time of the last run.", duration);
	gauge(m, "booktape_rotate_archives_made",
	      "Archives sealed by the last run.", (double)st->archives_made);
	gauge(m, "booktape_rotate_archives_removed",
	      "Archives removed by local retention in the last run.",
	      (double)st->archives_removed);
	gauge(m, "booktape_rotate_hour_dirs_pending",
	      "Finished hours still unsealed after the last run.",
	      (double)st->hours_pending);
	gauge(m, "booktape_rotate_bytes_in",
	      "Bytes of live CSV sealed by the last run.",
	      (double)st->bytes_in);
	gauge(m, "booktape_rotate_bytes_out",
	      "Bytes of tar.gz written by the last run.",
	      (double)st->bytes_out);
	gauge(m, "booktape_rotate_errors", "Errors in the last run.",
	      (double)st->errors);
	gauge(m, "booktape_rotate_torn_tails_cut",
	      "Torn tails cut from live files by the last run.",
	      (double)st->torn_tails_cut);
	rc = metrics_write_textfile(m, cfg->textfile_dir, PROM_NAME);
	if (rc != 0)
		log_err_r(rc, "write '%s'", path);
	metrics_free(m);
	return rc;
}

/* Seal every finished hour, then apply retention. */
static void run(const struct rotate_ctx *ctx, struct rotate_stats *st)
{
	struct hour *hours = NULL;
	size_t n = 0;
	int rc = scan_hours(ctx, &hours, &n);

	if (rc != 0) {
		log_err_r(rc, "scan '%s/live'", ctx->cfg->data_dir);
		st->errors++;
	}
	for (size_t i = 0; i < n; i++) {
		if (seal_hour(ctx, &hours[i], st) != 0) {
			st->errors++;
			st->hours_pending++;
		}
	}
	free(hours);
	if (retain_archives(ctx, st) != 0)
		st->errors++;
}

/* The config file into cfg; 0 or EXIT_USAGE with every error logged. */
static int load_config(const struct args *a, struct rotate_config *cfg)
{
	char *err = NULL;
	int rc = config_load_rotate(a->config, cfg, &err);

	if (rc == 0)
		return 0;
	if (err != NULL)
		log_lines(LOG_LVL_ERR, err);
	else
		log_err_r(rc, "load '%s'", a->config);
	free(err);
	return EXIT_USAGE;
}

/* The run context: --now (default: the clock), schemas, filters. */
static int setup(const struct args *a, struct rotate_ctx *ctx)
{
	char *err = NULL;

	ctx->now_us = time_now_us();
	if (a->now != NULL && time_parse_iso(a->now, &ctx->now_us) != 0) {
		log_err("--now '%s': not an ISO 8601 UTC time", a->now);
		return EXIT_USAGE;
	}
	if (schema_set_load(&ctx->schemas, &err) != 0) {
		log_err("schemas: %s", err ? err : "load failed");
		free(err);
		return 1;
	}
	ctx->only_exchange = a->exchange;
	ctx->dry_run = a->dry_run;
	return 0;
}

int main(int argc, char **argv)
{
	struct rotate_config cfg;
	struct rotate_ctx ctx = { .cfg = &cfg };
	struct rotate_stats st = { 0 };
	struct args a = { 0 };
	int64_t t0, start;
	int rc;

	log_init("booktape-rotate");
	if ((rc = parse_args(argc, argv, &a)) != 0)
		return rc;
	if ((rc = load_config(&a, &cfg)) != 0)
		return rc;
	if (a.check_config) {
		rc = config_dump_rotate(&cfg, stdout) == 0 ? 0 : 1;
		config_release_rotate(&cfg);
		return rc;
	}
	t0 = time_mono_us();
	rc = setup(&a, &ctx);
	start = ctx.now_us; /* --now moves the metrics' clock too */
	if (rc == 0 && !a.dry_run)
		rc = take_lock(cfg.data_dir);
	if (rc == 0) {
		run(&ctx, &st);
		if (!a.dry_run &&
		    write_metrics(&cfg, &st, start,
				  (double)(time_mono_us() - t0) / 1e6,
				  st.errors == 0) != 0)
			st.errors++;
		rc = st.errors == 0 ? 0 : 1;
	}
	schema_set_free(ctx.schemas);
	config_release_rotate(&cfg);
	return rc;
}
