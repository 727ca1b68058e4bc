/* Rotate's configuration: its key table and defaults (engine: cfg.c). */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "cfg.h"
#include "core.h"
#include "banned.h"

#define ROT(f) offsetof(struct rotate_config, f)
static const struct key rot_keys[] = {
	{ "data_dir", h_str, ROT(data_dir), 0, 0, 0 },
	{ "textfile_dir", h_str, ROT(textfile_dir), 0, 0, 0 },
	{ "grace", h_int, ROT(grace), 0, 86400, 0 },
	{ "gzip_level", h_int, ROT(gzip_level), 0, 9, 0 },
	{ "keep_days", h_int, ROT(keep_days), 0, 36500, 0 },
};

static void rot_fill(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
		     void *obj)
{
	struct seen seen[CORE_ARRAY_LEN(rot_keys)];

	walk_map(c, map, rot_keys, CORE_ARRAY_LEN(rot_keys), obj, seen, where);
}

static int rot_defaults(void *obj, const char *name)
{
	struct rotate_config *cfg = obj;

	cfg->grace = 120;
	cfg->gzip_level = 6;
	cfg->keep_days = 7;
	cfg->path = strdup(name);
	cfg->data_dir = strdup(DEFAULT_DATA_DIR);
	cfg->textfile_dir = strdup(DEFAULT_TEXTFILE_DIR);
	return cfg->path && cfg->data_dir && cfg->textfile_dir ? 0
							       : CORE_ENOMEM;
}

static void rot_release(void *cfg)
{
	config_release_rotate(cfg);
}

static const struct cfg_program rot_program = {
	sizeof(struct rotate_config),
	rot_defaults,
	rot_fill,
	rot_release,
};

int config_load_rotate(const char *path, struct rotate_config *cfg,
		       char **errmsg)
{
	return cfg_load(path, &rot_program, cfg, errmsg);
}

void config_release_rotate(struct rotate_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->data_dir);
	free(cfg->textfile_dir);
	memset(cfg, 0, sizeof(*cfg));
}

int config_dump_rotate(const struct rotate_config *cfg, FILE *fp)
{
	fputs("config:\n", fp);
	dump_kstr(fp, "  ", "data_dir", cfg->data_dir);
	dump_kstr(fp, "  ", "textfile_dir", cfg->textfile_dir);
	fprintf(fp, "  grace: %d\n  gzip_level: %d\n  keep_days: %d\n",
		cfg->grace, cfg->gzip_level, cfg->keep_days);
	return dump_end(fp);
}
