/*
 * Backup's configuration: its key table and defaults, the destinations
 * and their URL rules (file, sftp with the one host:port rule, s3), and
 * which keys each kind of destination needs (engine: cfg.c).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cfg.h"
#include "core.h"
#include "hostport.h"
#include "banned.h"

#define CFG_MAX_DESTS  64
#define DEFAULT_REGION "us-east-1"

static void h_endpoint(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	url_key(c, k, v, obj, "http", "https", URL_TRIM);
}

static bool name_ok(const char *s)
{
	return strlen(s) <= 64 &&
	       all_of(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-");
}

static void h_destname(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj)
{
	char q[CFG_QUOTE];

	if (v->type == YAML_SCALAR_NODE && !name_ok(sval(v))) {
		err_node(c, v,
			 "%s: '%s' must be 1 to 64 of A-Z, a-z, 0-9, '_' "
			 "and '-'",
			 k->name, quote(q, v));
		return;
	}
	h_str(c, k, v, obj);
}

#define DST(f) offsetof(struct backup_destination, f)
enum {
	DK_NAME,
	DK_URL,
	DK_IDENTITY,
	DK_KNOWN_HOSTS,
	DK_ENDPOINT,
	DK_REGION,
	DK_PATH_STYLE,
};
static const struct key dest_keys[] = {
	{ "name", h_destname, DST(name), 0, 0, K_REQUIRED },
	{ "url", h_str, DST(url), 0, 0, K_REQUIRED },
	{ "identity", h_str, DST(identity), 0, 0, 0 },
	{ "known_hosts", h_str, DST(known_hosts), 0, 0, 0 },
	{ "endpoint", h_endpoint, DST(endpoint), 0, 0, 0 },
	{ "region", h_str, DST(region), 0, 0, 0 },
	{ "path_style", h_bool, DST(path_style), 0, 0, 0 },
};

/* Store a URL path without trailing slashes (but keep a lone "/"). */
static void set_path(struct ctx *c, char **dst, const char *s)
{
	size_t len = strlen(s);

	while (len > 1 && s[len - 1] == '/')
		len--;
	set_strn(c, dst, s, len);
}

/* file:///abs/path */
static const char *url_file(struct ctx *c, struct backup_destination *d,
			    const char *rest)
{
	if (rest[0] != '/')
		return "a file URL is file:///absolute/path";
	set_path(c, &d->path, rest);
	return NULL;
}

/* sftp://user@host[:port]/path */
static const char *url_sftp(struct ctx *c, struct backup_destination *d,
			    const char *rest)
{
	const char *slash = strchr(rest, '/'), *at, *why = NULL;
	char host[256];
	size_t alen;

	if (slash == NULL || slash[1] == '\0')
		return "an sftp URL is sftp://user@host[:port]/path";
	alen = (size_t)(slash - rest);
	at = memchr(rest, '@', alen);
	if (at == NULL || at == rest)
		return "an sftp URL needs a user: sftp://user@host[:port]/path";
	if (strspn(rest, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") != (size_t)(at - rest))
		return "the sftp user must be of A-Z, a-z, 0-9, '.', '_', '-'";
	d->port = hostport_parse(at + 1, (size_t)(slash - at - 1), 22, host,
				 sizeof(host), &why);
	if (d->port < 0)
		return why;
	if ((d->user = strndup(rest, (size_t)(at - rest))) == NULL ||
	    (d->host = strdup(host)) == NULL)
		c->oom = true;
	set_path(c, &d->path, slash);
	return NULL;
}

/* s3://bucket/prefix */
static const char *url_s3(struct ctx *c, struct backup_destination *d,
			  const char *rest)
{
	const char *slash = strchr(rest, '/');
	size_t blen = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *pre = slash ? slash + 1 : "";
	size_t plen = strlen(pre);

	if (blen < 3 || blen > 63 ||
	    strspn(rest, "abcdefghijklmnopqrstuvwxyz0123456789.-") != blen ||
	    rest[0] == '.' || rest[0] == '-' || rest[blen - 1] == '.' ||
	    rest[blen - 1] == '-')
		return "the S3 bucket must be 3 to 63 of a-z, 0-9, '.' and "
		       "'-'";
	while (*pre == '/')
		pre++, plen--;
	while (plen > 0 && pre[plen - 1] == '/')
		plen--;
	if ((d->host = strndup(rest, blen)) == NULL ||
	    (d->path = strndup(pre, plen)) == NULL)
		c->oom = true;
	return NULL;
}

/* Parse d->url into kind, user, host, port and path. */
static int url_parse(struct ctx *c, struct backup_destination *d,
		     yaml_node_t *v)
{
	static const struct {
		const char *prefix;
		enum dest_kind kind;
		const char *(*fn)(struct ctx *, struct backup_destination *,
				  const char *);
	} schemes[] = {
		{ "file://", DEST_FILE, url_file },
		{ "sftp://", DEST_SFTP, url_sftp },
		{ "s3://", DEST_S3, url_s3 },
	};
	char q[CFG_QUOTE];

	for (size_t i = 0; i < CORE_ARRAY_LEN(schemes); i++) {
		size_t n = strlen(schemes[i].prefix);
		const char *why;

		if (strncmp(d->url, schemes[i].prefix, n) != 0)
			continue;
		d->kind = schemes[i].kind;
		if ((why = schemes[i].fn(c, d, d->url + n)) == NULL)
			return 0;
		err_node(c, v, "url: '%s': %s", quote(q, v), why);
		return -1;
	}
	err_node(c, v,
		 "url: '%s' has an unsupported scheme (expected file://, "
		 "sftp:// or s3://)",
		 quote(q, v));
	return -1;
}

/* Keys each kind needs (1) or refuses (-1); indexed by DK_*. */
static const signed char dest_rules[3][CORE_ARRAY_LEN(dest_keys)] = {
	[DEST_FILE] = { 1, 1, -1, -1, -1, -1, -1 },
	[DEST_SFTP] = { 1, 1, 1, 1, -1, -1, -1 },
	[DEST_S3] = { 1, 1, -1, -1, 1, 0, 0 },
};
static const char *const kind_names[] = { "file", "sftp", "s3" };

static void dest_rules_check(struct ctx *c, struct backup_destination *d,
			     const struct seen *seen, yaml_node_t *map)
{
	for (size_t i = DK_IDENTITY; i < CORE_ARRAY_LEN(dest_keys); i++) {
		int rule = dest_rules[d->kind][i];

		if (rule < 0 && seen[i].key != NULL)
			err_node(c, seen[i].key,
				 "%s: not used by %s destinations",
				 dest_keys[i].name, kind_names[d->kind]);
		else if (rule > 0 && seen[i].key == NULL)
			err_node(c, map,
				 "missing required key '%s' for an %s "
				 "destination",
				 dest_keys[i].name, kind_names[d->kind]);
	}
	if (d->kind == DEST_S3 && d->region == NULL)
		set_str(c, &d->region, DEFAULT_REGION);
}

/* One item of destinations; names[] holds the name nodes seen so far. */
static void dest_fill(struct ctx *c, yaml_node_t *map,
		      struct backup_destination *d, yaml_node_t **names,
		      size_t idx)
{
	struct seen seen[CORE_ARRAY_LEN(dest_keys)];
	char q[CFG_QUOTE];

	if (map->type != YAML_MAPPING_NODE) {
		err_node(c, map, "destination: expected a mapping, got %s",
			 kind(map));
		return;
	}
	walk_map(c, map, dest_keys, CORE_ARRAY_LEN(dest_keys), d, seen, map);
	names[idx] = d->name != NULL ? seen[DK_NAME].val : NULL;
	for (size_t i = 0; names[idx] != NULL && i < idx; i++) {
		if (names[i] != NULL && strcmp(sval(names[i]), d->name) == 0) {
			err_node(c, names[idx],
				 "duplicate destination name '%s'",
				 quote(q, names[idx]));
			break;
		}
	}
	if (d->url != NULL && url_parse(c, d, seen[DK_URL].val) == 0)
		dest_rules_check(c, d, seen, map);
}

static void h_dests(struct ctx *c, const struct key *k, yaml_node_t *v,
		    void *obj)
{
	struct backup_config *cfg = obj;
	yaml_node_t *names[CFG_MAX_DESTS];
	yaml_node_item_t *first;
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE) {
		err_node(c, v, "%s: expected a sequence of mappings, got %s",
			 k->name, kind(v));
		return;
	}
	first = v->data.sequence.items.start;
	n = (size_t)(v->data.sequence.items.top - first);
	if (n == 0 || n > CFG_MAX_DESTS) {
		err_node(c, v, "%s: must list between 1 and %d destinations",
			 k->name, CFG_MAX_DESTS);
		return;
	}
	if ((cfg->dests = calloc(n, sizeof(*cfg->dests))) == NULL) {
		c->oom = true;
		return;
	}
	cfg->ndests = n;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = node_get(c, first[i]);

		names[i] = NULL;
		if (item != NULL)
			dest_fill(c, item, &cfg->dests[i], names, i);
	}
}

#define BAK(f) offsetof(struct backup_config, f)
static const struct key bak_keys[] = {
	{ "data_dir", h_str, BAK(data_dir), 0, 0, 0 },
	{ "textfile_dir", h_str, BAK(textfile_dir), 0, 0, 0 },
	{ "secrets_file", h_optstr, BAK(secrets_file), 0, 0, 0 },
	{ "keep_local_days", h_int, BAK(keep_local_days), 0, 36500, 0 },
	{ "keep_remote_days", h_int, BAK(keep_remote_days), 0, 36500, 0 },
	{ "destinations", h_dests, 0, 0, 0, K_REQUIRED },
};

static void bak_fill(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
		     void *obj)
{
	struct backup_config *cfg = obj;
	struct seen seen[CORE_ARRAY_LEN(bak_keys)];
	yaml_node_t *sec;

	walk_map(c, map, bak_keys, CORE_ARRAY_LEN(bak_keys), obj, seen, where);
	if (cfg->secrets_file != NULL)
		return;
	sec = seen_val(bak_keys, CORE_ARRAY_LEN(bak_keys), seen,
		       "secrets_file");
	/* S3 credentials live in secrets_file, under the destination name. */
	for (size_t i = 0; i < cfg->ndests; i++) {
		if (cfg->dests[i].kind == DEST_S3 && cfg->dests[i].host) {
			err_node(c, sec != NULL ? sec : where,
				 "secrets_file: required by the s3 "
				 "destination '%s' (its credentials)",
				 cfg->dests[i].name ? cfg->dests[i].name : "");
			return;
		}
	}
}

static int bak_defaults(void *obj, const char *name)
{
	struct backup_config *cfg = obj;

	cfg->keep_local_days = 7;
	cfg->keep_remote_days = 365;
	cfg->path = strdup(name);
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->textfile_dir = strdup(DEFAULT_TEXTFILE_DIR);
	return cfg->path && cfg->data_dir && cfg->textfile_dir ? 0
							       : CORE_ENOMEM;
}

static void bak_release(void *cfg)
{
	config_release_backup(cfg);
}

static const struct cfg_program bak_program = {
	sizeof(struct backup_config),
	bak_defaults,
	bak_fill,
	bak_release,
};

int config_load_backup(const char *path, struct backup_config *cfg,
		       char **errmsg)
{
	return cfg_load(path, &bak_program, cfg, errmsg);
}

static void dest_release(struct backup_destination *d)
{
	free(d->name);
	free(d->url);
	free(d->user);
	free(d->host);
	free(d->path);
	free(d->identity);
	free(d->known_hosts);
	free(d->endpoint);
	free(d->region);
}

void config_release_backup(struct backup_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->ndests; i++)
		dest_release(&cfg->dests[i]);
	free(cfg->dests);
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->textfile_dir);
	free(cfg->secrets_file);
	memset(cfg, 0, sizeof(*cfg));
}

static void dump_dest(const struct backup_destination *d, FILE *fp)
{
	fputs("    - name: ", fp);
	dump_str(fp, d->name);
	fputc('\n', fp);
	dump_kstr(fp, "      ", "url", d->url);
	if (d->kind == DEST_SFTP) {
		dump_kstr(fp, "      ", "identity", d->identity);
		dump_kstr(fp, "      ", "known_hosts", d->known_hosts);
	} else if (d->kind == DEST_S3) {
		dump_kstr(fp, "      ", "endpoint", d->endpoint);
		dump_kstr(fp, "      ", "region", d->region);
		fprintf(fp, "      path_style: %s\n",
			d->path_style ? "true" : "false");
	}
}

int config_dump_backup(const struct backup_config *cfg, FILE *fp)
{
	fputs("config:\n", fp);
	dump_kstr(fp, "  ", "data_dir", cfg->data_dir);
	dump_kstr(fp, "  ", "textfile_dir", cfg->textfile_dir);
	dump_kstr(fp, "  ", "secrets_file", cfg->secrets_file);
	fprintf(fp, "  keep_local_days: %d\n  keep_remote_days: %d\n",
		cfg->keep_local_days, cfg->keep_remote_days);
	fputs("  destinations:\n", fp);
	for (size_t i = 0; i < cfg->ndests; i++)
		dump_dest(&cfg->dests[i], fp);
	return dump_end(fp);
}
