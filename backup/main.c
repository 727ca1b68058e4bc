/*
 * booktape-backup: ship sealed archives offsite (file://, sftp://, s3://),
 * list and verify what is there, restore after a disaster, prune.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "backup.h"
#include "config.h"
#include "core.h"
#include "fsutil.h"
#include "ledger.h"
#include "log.h"
#include "secrets.h"
#include "timeutil.h"
#include "transport.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/booktape/backup.yml"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: booktape-backup [--config FILE] [--destination NAME] "
		"COMMAND [options]\n"
		"       booktape-backup [--config FILE] --check-config\n"
		"\n"
		"commands:\n"
		"  push      ship every archive not yet shipped to each "
		"destination\n"
		"  list      show the archives at each destination\n"
		"  verify [--deep] [--pending]\n"
		"            download each remote archive and check its sha256\n"
		"            against the sidecar and the ledger; --deep also\n"
		"            checks every file against MANIFEST.csv; --pending\n"
		"            only archives not yet recorded verified\n"
		"  restore --exchange X --from TIME --to TIME [--symbols A,B]\n"
		"          [--destination NAME] [--into DIR] [--force]\n"
		"            download, verify and unpack the hours in [from, to)\n"
		"            into <data_dir>/live (or DIR); existing files are\n"
		"            kept unless --force\n"
		"  prune     remove local archives older than keep_local_days\n"
		"            once verified on every destination, and remote\n"
		"            ones older than keep_remote_days\n"
		"\n"
		"options:\n"
		"  --config FILE       default " DEFAULT_CONFIG "\n"
		"  --destination NAME  only this destination (restore: the "
		"first)\n"
		"  --now TIME          pretend it is TIME (tests)\n"
		"  --check-config      print the effective config and exit\n"
		"  --help, --version\n"
		"\n"
		"TIME is ISO 8601 UTC: 2026-11-26T03:00Z or 2026-11-26.\n"
		"exit status: 0 ok, 1 permanent failure, 2 usage or config "
		"error,\n"
		"75 transient failure (network down, destination full or "
		"missing:\nretry later)\n");
}

enum {
	OPT_CHECK = 256,
	OPT_VERSION,
	OPT_DEEP,
	OPT_PENDING,
	OPT_EXCHANGE,
	OPT_FROM,
	OPT_TO,
	OPT_SYMBOLS,
	OPT_INTO,
	OPT_FORCE,
	OPT_NOW,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "destination", required_argument, NULL, 'd' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "deep", no_argument, NULL, OPT_DEEP },
	{ "pending", no_argument, NULL, OPT_PENDING },
	{ "exchange", required_argument, NULL, OPT_EXCHANGE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "to", required_argument, NULL, OPT_TO },
	{ "symbols", required_argument, NULL, OPT_SYMBOLS },
	{ "into", required_argument, NULL, OPT_INTO },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "now", required_argument, NULL, OPT_NOW },
	{ NULL, 0, NULL, 0 },
};

struct args {
	const char *config;
	const char *command;
	const char *from, *to, *now;
	bool check, seen_restore_opt, seen_verify_opt;
};

/* `s` as an ISO 8601 UTC time into *out; EXIT_USAGE (logged) if not. */
static int parse_time(const char *what, const char *s, int64_t *out)
{
	if (time_parse_iso(s, out) != 0) {
		log_err("%s '%s': not an ISO 8601 UTC time "
			"(2026-11-26T03:00Z or 2026-11-26)",
			what, s);
		return EXIT_USAGE;
	}
	return 0;
}

/* One option; returns -1 to go on, else the exit code. */
static int take_opt(int c, struct args *a, struct bk *b)
{
	switch (c) {
	case 'c':
		a->config = optarg;
		break;
	case 'd':
		b->only_dest = optarg;
		break;
	case 'h':
		usage(stdout);
		return EXIT_OK;
	case OPT_VERSION:
		printf("booktape-backup %s\n", BOOKTAPE_VERSION);
		return EXIT_OK;
	case OPT_CHECK:
		a->check = true;
		break;
	case OPT_DEEP:
		b->deep = true;
		a->seen_verify_opt = true;
		break;
	case OPT_PENDING:
		b->pending_only = true;
		a->seen_verify_opt = true;
		break;
	case OPT_EXCHANGE:
		b->exchange = optarg;
		a->seen_restore_opt = true;
		break;
	case OPT_FROM:
		a->from = optarg;
		a->seen_restore_opt = true;
		break;
	case OPT_TO:
		a->to = optarg;
		a->seen_restore_opt = true;
		break;
	case OPT_SYMBOLS:
		b->symbols = optarg;
		a->seen_restore_opt = true;
		break;
	case OPT_INTO:
		b->into = optarg;
		a->seen_restore_opt = true;
		break;
	case OPT_FORCE:
		b->force = true;
		a->seen_restore_opt = true;
		break;
	case OPT_NOW:
		a->now = optarg;
		break;
	default:
		usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

/* The command exists and got only its own options; 0 or EXIT_USAGE. */
static int check_args(struct args *a, struct bk *b)
{
	const char *cmd = a->command;

	if (a->check)
		return 0;
	if (cmd == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "push") != 0 && strcmp(cmd, "list") != 0 &&
	    strcmp(cmd, "verify") != 0 && strcmp(cmd, "restore") != 0 &&
	    strcmp(cmd, "prune") != 0) {
		log_err("unknown command '%s' (try --help)", cmd);
		return EXIT_USAGE;
	}
	if (a->seen_restore_opt && strcmp(cmd, "restore") != 0) {
		log_err("--exchange/--from/--to/--symbols/--into/--force "
			"belong to restore");
		return EXIT_USAGE;
	}
	if (a->seen_verify_opt && strcmp(cmd, "verify") != 0) {
		log_err("--deep and --pending belong to verify");
		return EXIT_USAGE;
	}
	if (strcmp(cmd, "restore") == 0) {
		int rc;

		if (b->exchange == NULL || a->from == NULL || a->to == NULL) {
			log_err("restore needs --exchange, --from and --to");
			return EXIT_USAGE;
		}
		if ((rc = parse_time("--from", a->from, &b->from_us)) != 0 ||
		    (rc = parse_time("--to", a->to, &b->to_us)) != 0)
			return rc;
		if (b->to_us <= b->from_us) {
			log_err("--to must be after --from");
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* The command line into a and b: 0 to go on, else the EXIT_* code to
 * exit with (0 after --help). */
static int parse_args(int argc, char **argv, struct args *a, struct bk *b)
{
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:d:h", long_opts, NULL)) != -1)
		if ((rc = take_opt(c, a, b)) >= 0)
			return rc;
	if (optind < argc)
		a->command = argv[optind++];
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (a->now != NULL &&
	    (rc = parse_time("--now", a->now, &b->now_us)) != 0)
		return rc;
	return check_args(a, b);
}

/* Config, secrets and the derived paths; 0 or EXIT_USAGE (logged). */
static int load(struct bk *b, const char *path)
{
	char *errmsg = NULL, err[1024];
	int rc = config_load_backup(path, &b->cfg, &errmsg);

	if (rc != 0) {
		if (errmsg != NULL)
			log_lines(LOG_LVL_ERR, errmsg);
		else
			log_err_r(rc, "load '%s'", path);
		free(errmsg);
		return EXIT_USAGE;
	}
	if (b->cfg.secrets_file != NULL &&
	    secrets_load(b->cfg.secrets_file, &b->sec, err, sizeof(err)) != 0) {
		log_err("%s", err);
		return EXIT_USAGE;
	}
	if (b->only_dest != NULL) {
		bool found = false;

		for (size_t i = 0; i < b->cfg.ndests; i++)
			found |= strcmp(b->cfg.dests[i].name, b->only_dest) ==
				 0;
		if (!found) {
			log_err("no destination named '%s' in '%s'",
				b->only_dest, path);
			return EXIT_USAGE;
		}
	}
	snprintf(b->archive_dir, sizeof(b->archive_dir), "%s/archive",
		 b->cfg.data_dir);
	snprintf(b->state_dir, sizeof(b->state_dir), "%s/state",
		 b->cfg.data_dir);
	snprintf(b->ledger_path, sizeof(b->ledger_path), "%s/backup-ledger.csv",
		 b->state_dir);
	return 0;
}

/* Dispatch a command checked by check_args; its EXIT_* code. */
static int run(struct bk *b, const char *cmd)
{
	if (strcmp(cmd, "push") == 0)
		return cmd_push(b);
	if (strcmp(cmd, "list") == 0)
		return cmd_list(b);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(b);
	if (strcmp(cmd, "restore") == 0)
		return cmd_restore(b);
	return cmd_prune(b);
}

int main(int argc, char **argv)
{
	struct args a = { .config = DEFAULT_CONFIG };
	struct bk b = { .lock_fd = -1 };
	int rc;

	log_init("booktape-backup");
	/* A file size limit must fail the write, not kill us mid-upload. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	b.now_us = time_now_us();
	rc = parse_args(argc, argv, &a, &b);
	if (rc >= 0 && (rc != 0 || a.command == NULL) && !a.check)
		return rc;
	if (rc != 0)
		return rc;
	rc = load(&b, a.config);
	if (rc == 0 && a.check) {
		rc = config_dump_backup(&b.cfg, stdout) == 0 &&
				     fflush(stdout) == 0
			     ? EXIT_OK
			     : EXIT_FAIL;
	} else if (rc == 0) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_err("curl_global_init failed");
			rc = EXIT_FAIL;
		} else {
			rc = run(&b, a.command);
			curl_global_cleanup();
		}
	}
	secrets_free(b.sec);
	config_release_backup(&b.cfg);
	if (b.lock_fd >= 0)
		close(b.lock_fd);
	return rc;
}
