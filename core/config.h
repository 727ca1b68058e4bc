/*
 * Configuration: the YAML files of the recorder, rotate and backup, all a
 * top-level `config:` map, loaded with libyaml's document API into typed
 * structs with defaults, then validated. The old Python collector's files
 * load unchanged. Errors name the place as "file:line:column: message"
 * (1-based) and every error in the file is reported, not just the first.
 *
 * Rules shared by every file:
 *   - numbers and booleans are plain scalars: `10`, `10.5`, `true`; a
 *     quoted "10" is a string and is refused ("write it without
 *     quotes"). Integers are decimal without leading zeros; reals are
 *     finite. Booleans: true/false/yes/no/on/off, any case.
 *   - strings may be plain or quoted, at most 4096 bytes, with no control
 *     characters. Optional strings (channel, ws_url, rest_url, ca_file,
 *     secrets_file) take null, ~ or nothing for the default (NULL).
 *   - paths may be relative; they are used as written, i.e. relative to
 *     the program's working directory (/ under systemd).
 *   - unknown keys (with a "did you mean" hint), duplicate keys, a
 *     second YAML document and files over 1 MiB are errors.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

/*
 * Deepest book_snapshot_N: the deepest stream window (Gate.io spot.obu
 * 400), and a row of 4 + 4 * N fields of up to 31 bytes each still fits
 * one writer queue block (recorder/sink.c).
 */
#define CONFIG_SNAPSHOT_DEPTH_MAX 400

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum exchange {
	EXCHANGE_GATEIO,
	EXCHANGE_MEXC,
	EXCHANGE_BINANCE,
	EXCHANGE_OKX,
};

/* "gateio", "mexc", "binance", "okx": the name used in paths and labels. */
const char *exchange_name(enum exchange ex);

/* Bits of recorder_config.datasets. */
enum {
	DATASET_INCREMENTAL_L2 = 1u << 0, /* incremental_book_L2 */
	DATASET_BOOK_SNAPSHOT = 1u << 1,  /* book_snapshot_<snapshot_depth> */
	DATASET_BOOK_EVENTS = 1u << 2,	  /* book_events */
};

struct recorder_config {
	char *path; /* the file it came from */
	enum exchange exchange;
	char *connector_name; /* as written: gate_io | gateio | mexc | ... */
	char **pairs;	      /* "BASE-QUOTE" of [A-Z0-9], as written; lower
			       * case or duplicates are errors */
	size_t npairs;	      /* 1..1024 */
	int depth_limit;      /* default 100, 1..5000 */
	double snapshot_interval;  /* seconds, default 300, 0 = every top-N
				    * change; 0..86400 */
	int buffer_size;	   /* rows per file before write(2), default
				    * 100, 1..100000 */
	double flush_interval;	   /* seconds, default 10.0, > 0, <= 3600 */
	int gap_warning_threshold; /* default 50, >= 0 */
	char *data_dir;		   /* default "/var/lib/booktape" */
	char *metrics_listen;	   /* "host:port" or "[v6]:port", default
				    * "127.0.0.1:8000"; port 1..65535 */
	char *channel;		   /* exchange-specific; NULL = its default.
				    * Gate.io: spot.order_book_update (the
				    * default) or spot.obu; others: kept as
				    * written */
	unsigned datasets;	   /* DATASET_* bits; default all three */
	int snapshot_depth;	   /* N of book_snapshot_N, default 25,
				    * 1..1000, <= depth_limit (the default is
				    * lowered to depth_limit when deeper) */
	double stale_after;	   /* seconds, default 60, > 0 */
	double fsync_interval;	   /* seconds, default 1.0, >= 0 (0 = after
				    * every write) */
	bool update_events;	   /* one book_events "update" row per message,
				    * default false */
	bool rollover;		   /* planned reconnects without a gap,
				    * default true */
	double rollover_margin;	   /* seconds before a connection's lifetime
				    * its successor opens, default 600,
				    * 1..86400 */
	double conn_lifetime;	   /* connection_lifetime: seconds; 0 = the
				    * venue's known lifetime (none: no
				    * planned rollover), 0..604800 */
	char *ws_url;		   /* NULL = the exchange's public URL; else
				    * ws:// or wss://, kept as written */
	char *rest_url;		   /* NULL = the exchange's public REST base;
				    * else http(s)://, trailing '/' removed */
	char *ca_file;		   /* NULL = the system CA store */
};

struct rotate_config {
	char *path;
	char *data_dir;	    /* default "/var/lib/booktape" */
	char *textfile_dir; /* default "/var/lib/prometheus/node-exporter" */
	int grace;	    /* seconds past the hour, default 120, 0..86400 */
	int gzip_level;	    /* 0..9, default 6 */
	int keep_days;	    /* default 7, 0..36500; 0 keeps archives forever */
};

enum dest_kind {
	DEST_FILE,
	DEST_SFTP,
	DEST_S3,
};

struct backup_destination {
	char *name; /* unique, [A-Za-z0-9_-]+ */
	char *url;  /* as written */
	enum dest_kind kind;
	/* Parsed from url, trailing '/' removed from paths:
	 *   file:///abs/path            path ("/abs/path")
	 *   sftp://user@host[:port]/p   user, host (IPv6 without brackets),
	 *                               port, path ("/p")
	 *   s3://bucket/prefix          host = bucket, path = prefix without
	 *                               leading '/' ("" when none)
	 * Fields a kind does not use are NULL / 0. Keys a kind does not use
	 * (identity for s3, endpoint for sftp, ...) are errors. */
	char *user;
	char *host;
	int port; /* sftp default 22 */
	char *path;
	char *identity;	   /* sftp: private key file */
	char *known_hosts; /* sftp: required */
	char *endpoint;	   /* s3: required, "http(s)://host[:port]" */
	char *region;	   /* s3: default "us-east-1" */
	bool path_style;   /* s3: default false */
};

struct backup_config {
	char *path;
	char *data_dir;
	char *textfile_dir;
	char *secrets_file;   /* default NULL; required when there is an s3
			       * destination */
	int keep_local_days;  /* default 7, 0..36500 */
	int keep_remote_days; /* default 365, 0..36500; 0 keeps forever */
	struct backup_destination *dests;
	size_t ndests; /* 1..64, unique names */
};

/*
 * Load and validate a config file. On success returns 0 and fills *cfg
 * (which the caller releases with the matching _release). On failure
 * returns CORE_ECONFIG (or CORE_ESYS / CORE_ENOMEM) and, if errmsg is
 * not NULL, sets *errmsg to every error found, one
 * "file:line:column: message" per line in file order, no trailing
 * newline (at most 100 lines, then a "N more errors" line); the caller
 * frees it. When the file cannot be read (CORE_ESYS, errno set) *errmsg
 * is "file: <reason>". *cfg is left zeroed on failure.
 */
int config_load_recorder(const char *path, struct recorder_config *cfg,
			 char **errmsg);
int config_load_rotate(const char *path, struct rotate_config *cfg,
		       char **errmsg);
int config_load_backup(const char *path, struct backup_config *cfg,
		       char **errmsg);

/*
 * Same, from a buffer of len bytes (need not be NUL-terminated); `name`
 * stands for the file in messages and in cfg->path (fuzzing, tests).
 */
int config_parse_recorder(const char *name, const char *buf, size_t len,
			  struct recorder_config *cfg, char **errmsg);

/* Free everything the struct owns and zero it. NULL-safe. */
void config_release_recorder(struct recorder_config *cfg);
void config_release_rotate(struct rotate_config *cfg);
void config_release_backup(struct backup_config *cfg);

/*
 * Print the effective config (defaults filled in) as YAML that loads
 * back to the same values: a `config:` map with every key, strings
 * double-quoted, unset optional strings as null. Returns 0 or CORE_ESYS.
 */
int config_dump_recorder(const struct recorder_config *cfg, FILE *fp);
int config_dump_rotate(const struct rotate_config *cfg, FILE *fp);
int config_dump_backup(const struct backup_config *cfg, FILE *fp);

#endif
