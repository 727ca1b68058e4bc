/*
 * booktape-recorder: keeps local order books from an exchange's
 * WebSocket feed and writes them to hourly CSV files. This file is the
 * program shell: arguments, config, exit codes; rec.c does the work.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "log.h"
#include "rec.h"
#include "banned.h"

#define DEFAULT_CONFIG "/etc/booktape/recorder.yml"

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: booktape-recorder [--config FILE] [--check-config]\n"
		"       booktape-recorder [--help | --version]\n"
		"       booktape-recorder FILE\n"
		"\n"
		"Record one exchange's order books (the config names the exchange\n"
		"and its pairs) into <data_dir>/live/<exchange>/<date>/<hour>/\n"
		"<SYMBOL>.<dataset>.csv, serving /metrics and /healthz on\n"
		"metrics_listen. Runs in the foreground; logs to stderr.\n"
		"\n"
		"  -c, --config FILE   config file (default " DEFAULT_CONFIG
		")\n"
		"  -n, --check-config  load and validate the config, print the\n"
		"                      effective config, exit\n"
		"  -h, --help          this text\n"
		"  -V, --version       print the version\n"
		"\n"
		"Signals: SIGTERM/SIGINT flush, fsync and exit 0; SIGHUP reloads\n"
		"the pair list (added pairs start, removed pairs stop).\n"
		"\n"
		"Exit status: 0 ok, 1 failure, 2 usage or config error,\n"
		"75 temporary failure (retry later).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct recorder_config cfg;
	const char *path = DEFAULT_CONFIG;
	char *err = NULL;
	int check = 0, c, rc;

	log_init("booktape-recorder");
	while ((c = getopt_long(argc, argv, "c:nhV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("booktape-recorder %s\n", BOOKTAPE_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* `--check-config FILE` and a bare FILE both name the config. */
	if (optind == argc - 1)
		path = argv[optind++];
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	rc = config_load_recorder(path, &cfg, &err);
	if (rc != 0) {
		if (err != NULL)
			log_lines(LOG_LVL_ERR, err);
		else
			log_err_r(rc, "load '%s'", path);
		free(err);
		return 2;
	}
	if (check) {
		rc = config_dump_recorder(&cfg, stdout);
		config_release_recorder(&cfg);
		return rc == 0 ? 0 : 1;
	}
	rc = rec_main(&cfg);
	config_release_recorder(&cfg);
	return rc;
}
