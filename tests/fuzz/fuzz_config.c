/*
 * libFuzzer harness for the recorder config parser: any input either
 * loads into a config that satisfies every documented limit and survives
 * a dump/reload round trip, or fails with one printable
 * "fuzz.yml:line:column: message" per line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "core.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.yml"

static void need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: invariant failed: %s\n", what);
		abort();
	}
}

static int pair_valid(const char *p)
{
	const char *dash = strchr(p, '-');

	if (dash == NULL || dash == p || dash[1] == '\0' ||
	    strchr(dash + 1, '-') != NULL)
		return 0;
	for (; *p; p++)
		if (*p != '-' && !(*p >= 'A' && *p <= 'Z') &&
		    !(*p >= '0' && *p <= '9'))
			return 0;
	return 1;
}

static void check_valid(const struct recorder_config *c)
{
	need(c->path != NULL && strcmp(c->path, NAME) == 0, "path");
	need(c->connector_name != NULL, "connector_name");
	need(c->npairs > 0 && c->npairs <= 1024, "npairs");
	for (size_t i = 0; i < c->npairs; i++) {
		need(pair_valid(c->pairs[i]), "pair form");
		for (size_t j = 0; j < i; j++)
			need(strcasecmp(c->pairs[i], c->pairs[j]) != 0,
			     "pairs unique");
	}
	need(c->depth_limit >= 1 && c->depth_limit <= 5000, "depth_limit");
	need(c->snapshot_interval >= 0 && c->snapshot_interval <= 86400,
	     "snapshot_interval");
	need(c->buffer_size >= 1 && c->buffer_size <= 100000, "buffer_size");
	need(c->flush_interval > 0 && c->flush_interval <= 3600,
	     "flush_interval");
	need(c->gap_warning_threshold >= 0, "gap_warning_threshold");
	need(c->data_dir != NULL && c->data_dir[0] != '\0', "data_dir");
	need(c->metrics_listen != NULL && strchr(c->metrics_listen, ':'),
	     "metrics_listen");
	need(c->datasets != 0 && (c->datasets & ~7u) == 0, "datasets");
	need(c->snapshot_depth >= 1 && c->snapshot_depth <= c->depth_limit &&
		     c->snapshot_depth <= 1000,
	     "snapshot_depth");
	need(c->stale_after > 0 && c->fsync_interval >= 0, "intervals");
	need(c->ws_url == NULL || strncasecmp(c->ws_url, "ws", 2) == 0,
	     "ws_url");
	need(c->rest_url == NULL || strncasecmp(c->rest_url, "http", 4) == 0,
	     "rest_url");
	need(c->exchange != EXCHANGE_GATEIO || c->channel == NULL ||
		     strcmp(c->channel, "spot.order_book_update") == 0 ||
		     strcmp(c->channel, "spot.obu") == 0,
	     "gate.io channel");
}

static void check_errmsg(const char *err)
{
	const char *line = err;

	need(err != NULL && err[0] != '\0', "errmsg set");
	need(err[strlen(err) - 1] != '\n', "no trailing newline");
	while (line != NULL) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		need(len > sizeof(NAME) && memchr(line, ':', len) != NULL,
		     "every line has a ':'");
		need(strncmp(line, NAME ":", sizeof(NAME)) == 0,
		     "every line names the file");
		for (size_t i = 0; i < len; i++)
			need(line[i] >= 0x20 && line[i] < 0x7f,
			     "messages are printable");
		line = nl ? nl + 1 : NULL;
	}
}

/* The dump must load back, and dumping that must give the same text. */
static void check_roundtrip(const struct recorder_config *c)
{
	struct recorder_config again;
	char *t1 = NULL, *t2 = NULL, *err = NULL;
	size_t n1 = 0, n2 = 0;
	FILE *fp = open_memstream(&t1, &n1);

	need(fp != NULL && config_dump_recorder(c, fp) == 0, "dump");
	fclose(fp);
	need(config_parse_recorder(NAME, t1, n1, &again, &err) == 0,
	     "dump reloads");
	need(err == NULL, "no errmsg on success");
	check_valid(&again);
	fp = open_memstream(&t2, &n2);
	need(fp != NULL && config_dump_recorder(&again, fp) == 0, "dump 2");
	fclose(fp);
	need(n1 == n2 && memcmp(t1, t2, n1) == 0, "dump is a fixed point");
	config_release_recorder(&again);
	free(t1);
	free(t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recorder_config cfg;
	char *err = NULL;
	int rc;

	if (size > 1u << 16)
		return 0;
	rc = config_parse_recorder(NAME, (const char *)data, size, &cfg, &err);
	if (rc == 0) {
		need(err == NULL, "no errmsg on success");
		check_valid(&cfg);
		check_roundtrip(&cfg);
		config_release_recorder(&cfg);
	} else {
		need(rc == CORE_ECONFIG || rc == CORE_ENOMEM, "return code");
		need(cfg.pairs == NULL && cfg.path == NULL, "cfg zeroed");
		if (rc == CORE_ECONFIG)
			check_errmsg(err);
	}
	free(err);
	return 0;
}
