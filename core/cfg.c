/*
 * The YAML key-table engine every config file goes through: libyaml's
 * document API, a walk of the `config:` map against a table of keys, and
 * every error collected as "file:line:column: message".
 *
 * How a file is read:
 *   - one YAML document whose root is a mapping holding only `config:`,
 *     itself a mapping; a second document is an error;
 *   - each key is looked up in a table {name, handler, offset, range};
 *     an unknown key is reported at the key (with a "did you mean" hint
 *     when a known key is within edit distance 2), a repeated key too;
 *   - the handlers (cfg_scalar.c) check each value; cross-key rules run
 *     after the walk, in the program's own file (config.c for the
 *     recorder, config_rotate.c, config_backup.c).
 * Values from the file are escaped before they appear in a message, so
 * each error stays one printable line.
 */
#include "cfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core.h"
#include "fsutil.h"
#include "log.h"
#include "banned.h"

#define CFG_MAX_FILE (1u << 20) /* bytes of YAML we agree to read */
#define CFG_MAX_KEYS 24		/* largest key table */

/* ------------------------------------------------------------ errors */

static void err_vat(struct ctx *c, size_t line, size_t col, const char *fmt,
		    va_list ap)
{
	char msg[1024];
	struct cfg_err *e;

	if (c->nerr >= CFG_MAX_ERRORS) {
		c->nerr++;
		return;
	}
	e = &c->errs[c->nerr];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (asprintf(&e->msg, "%s:%zu:%zu: %s", c->name, line, col, msg) < 0) {
		c->oom = true;
		return;
	}
	e->line = line;
	e->col = col;
	e->seq = c->nerr++;
}

/* An error at a 1-based line and column. */
void err_at(struct ctx *c, size_t line, size_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(c, line, col, fmt, ap);
	va_end(ap);
}

/* An error at the start of a node. */
void err_node(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vat(c, n->start_mark.line + 1, n->start_mark.column + 1, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ nodes */

const char *sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

size_t slen(const yaml_node_t *n)
{
	return n->data.scalar.length;
}

bool is_plain(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE &&
	       n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

/* A plain empty, "~" or "null": YAML's null. */
bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (!is_plain(n))
		return false;
	for (size_t i = 0; i < CORE_ARRAY_LEN(nulls); i++)
		if (strcmp(sval(n), nulls[i]) == 0)
			return true;
	return false;
}

const char *kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_SCALAR_NODE:
		return is_null(n) ? "nothing" : "a scalar";
	default:
		return "nothing";
	}
}

/* The scalar's text, escaped and shortened for a message. */
const char *quote(char *dst, const yaml_node_t *n)
{
	size_t len = slen(n);

	log_escape(dst, CFG_QUOTE - 3, sval(n), len > 48 ? 48 : len);
	if (len > 48)
		memcpy(dst + strlen(dst), "...", 4);
	return dst;
}

yaml_node_t *node_get(struct ctx *c, int idx)
{
	return yaml_document_get_node(c->doc, idx);
}

/* ------------------------------------------------------------ mappings */

/* Levenshtein distance, for "did you mean"; long words count as far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 64 || lb >= 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j],
			       best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

void unknown_key(struct ctx *c, yaml_node_t *k, const struct key *keys,
		 size_t nkeys)
{
	const char *best = NULL;
	size_t bestd = 3; /* suggest only within distance 2 */
	char q[CFG_QUOTE];

	for (size_t i = 0; i < nkeys; i++) {
		size_t d = edit_distance(sval(k), keys[i].name);

		if (d < bestd) {
			bestd = d;
			best = keys[i].name;
		}
	}
	if (best != NULL)
		err_node(c, k, "unknown key '%s'; did you mean '%s'?",
			 quote(q, k), best);
	else
		err_node(c, k, "unknown key '%s'", quote(q, k));
}

int key_find(const struct key *keys, size_t nkeys, yaml_node_t *k)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strlen(keys[i].name) == slen(k) &&
		    strcmp(keys[i].name, sval(k)) == 0)
			return (int)i;
	return -1;
}

/*
 * Walk a mapping: look each key up in `keys`, run its handler on obj,
 * and record key and value nodes in seen[] (nkeys entries). Reports
 * unknown, duplicate and (at `where`) missing required keys.
 */
void walk_map(struct ctx *c, yaml_node_t *map, const struct key *keys,
	      size_t nkeys, void *obj, struct seen *seen,
	      const yaml_node_t *where)
{
	yaml_node_pair_t *p;

	CORE_ASSERT(nkeys <= CFG_MAX_KEYS);
	memset(seen, 0, nkeys * sizeof(*seen));
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *k = node_get(c, p->key),
			    *v = node_get(c, p->value);
		int i;

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err_node(c, k, "expected a key name, got %s", kind(k));
			continue;
		}
		if ((i = key_find(keys, nkeys, k)) < 0) {
			unknown_key(c, k, keys, nkeys);
			continue;
		}
		if (seen[i].key != NULL) {
			err_node(c, k, "duplicate key '%s'", keys[i].name);
			continue;
		}
		seen[i].key = k;
		seen[i].val = v;
		keys[i].fn(c, &keys[i], v, obj);
	}
	for (size_t i = 0; i < nkeys; i++)
		if ((keys[i].flags & K_REQUIRED) && seen[i].key == NULL)
			err_node(c, where, "missing required key '%s'",
				 keys[i].name);
}

/* The value node seen for key `name`, or NULL. */
yaml_node_t *seen_val(const struct key *keys, size_t nkeys,
		      const struct seen *seen, const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			return seen[i].val;
	return NULL;
}

/* ------------------------------------------------------------ driver */

/* Line and column (1-based) of byte offset off in the input. */
static void offset_mark(const struct ctx *c, size_t off, size_t *line,
			size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < c->len; i++) {
		if (c->buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Report a libyaml failure; CORE_ENOMEM for its allocation failures. */
static int syntax_error(struct ctx *c, const yaml_parser_t *p)
{
	const char *problem = p->problem ? p->problem : "syntax error";
	size_t line = p->problem_mark.line + 1,
	       col = p->problem_mark.column + 1;

	if (p->error == YAML_MEMORY_ERROR)
		return CORE_ENOMEM;
	if (p->error == YAML_READER_ERROR) {
		offset_mark(c, p->problem_offset, &line, &col);
		if (p->problem_value >= 0)
			err_at(c, line, col, "%s (byte 0x%02x)", problem,
			       (unsigned)p->problem_value & 0xffu);
		else
			err_at(c, line, col, "%s", problem);
	} else if (p->context != NULL) {
		err_at(c, line, col, "%s (%s at line %zu)", problem, p->context,
		       p->context_mark.line + 1);
	} else {
		err_at(c, line, col, "%s", problem);
	}
	return 0;
}

/* After the first document: anything but the end of the stream is an error. */
static int one_document(struct ctx *c, yaml_parser_t *p)
{
	yaml_document_t next;
	yaml_node_t *root;

	if (!yaml_parser_load(p, &next))
		return syntax_error(c, p);
	root = yaml_document_get_root_node(&next);
	if (root != NULL)
		err_node(c, root, "only one YAML document is allowed");
	yaml_document_delete(&next);
	return 0;
}

/*
 * The `config:` map of the root, or NULL after reporting why not.
 * *where is set to the `config` key, where missing keys are reported.
 */
static yaml_node_t *find_config(struct ctx *c, yaml_node_t *root,
				yaml_node_t **where)
{
	static const struct key top[] = { { "config", NULL, 0, 0, 0, 0 } };
	yaml_node_t *map = NULL, *cfgkey = NULL;
	yaml_node_pair_t *p;

	if (root == NULL) {
		err_at(c, 1, 1, "empty file; expected a 'config:' mapping");
		return NULL;
	}
	if (root->type != YAML_MAPPING_NODE) {
		err_node(c, root,
			 "expected a mapping with a 'config:' key, got %s",
			 kind(root));
		return NULL;
	}
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_get(c, p->key),
			    *v = node_get(c, p->value);

		if (k == NULL || v == NULL)
			continue;
		if (k->type != YAML_SCALAR_NODE) {
			err_node(c, k, "expected a key name, got %s", kind(k));
		} else if (key_find(top, 1, k) < 0) {
			unknown_key(c, k, top, 1);
		} else if (cfgkey != NULL) {
			err_node(c, k, "duplicate key 'config'");
		} else {
			cfgkey = k;
			if (v->type == YAML_MAPPING_NODE)
				map = v;
			else
				err_node(c, v,
					 "config: expected a mapping, got %s",
					 kind(v));
		}
	}
	if (cfgkey == NULL)
		err_node(c, root, "missing required key 'config'");
	*where = cfgkey;
	return map;
}

/* Parse buf, walk its config map with fill; 0 or a CORE_E* code. */
static int parse_buf(struct ctx *c, fill_fn fill, void *cfg)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *map, *where = NULL;
	int rc = 0;

	if (!yaml_parser_initialize(&parser))
		return CORE_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)c->buf,
				     c->len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(c, &parser);
		yaml_parser_delete(&parser);
		return rc;
	}
	c->doc = &doc;
	map = find_config(c, yaml_document_get_root_node(&doc), &where);
	if (map != NULL)
		fill(c, map, where, cfg);
	if (yaml_document_get_root_node(&doc) != NULL)
		rc = one_document(c, &parser);
	c->doc = NULL;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The kept errors in file order, one per line, plus a count of those
 * not kept. NULL when out of memory.
 */
static char *err_join(struct ctx *c)
{
	unsigned kept = c->nerr < CFG_MAX_ERRORS ? c->nerr : CFG_MAX_ERRORS;
	size_t len = 0, off = 0;
	char *out;

	qsort(c->errs, kept, sizeof(c->errs[0]), err_cmp);
	for (unsigned i = 0; i < kept; i++)
		len += strlen(c->errs[i].msg) + 1;
	len += strlen(c->name) + 64;
	if ((out = malloc(len)) == NULL)
		return NULL;
	out[0] = '\0';
	for (unsigned i = 0; i < kept; i++)
		off += (size_t)snprintf(out + off, len - off, "%s%s",
					i > 0 ? "\n" : "", c->errs[i].msg);
	if (c->nerr > kept)
		snprintf(out + off, len - off, "\n%s: %u more errors not shown",
			 c->name, c->nerr - kept);
	return out;
}

/* Turn the collected errors into the return code and *errmsg. */
static int finish(struct ctx *c, int rc, char **errmsg)
{
	unsigned kept = c->nerr < CFG_MAX_ERRORS ? c->nerr : CFG_MAX_ERRORS;

	if (rc == 0 && c->nerr > 0)
		rc = CORE_ECONFIG;
	if (rc == CORE_ECONFIG && !c->oom && errmsg != NULL &&
	    (*errmsg = err_join(c)) == NULL)
		c->oom = true;
	if (c->oom)
		rc = CORE_ENOMEM;
	for (unsigned i = 0; i < kept; i++)
		free(c->errs[i].msg);
	return rc;
}

/*
 * The common path of every loader: defaults already in cfg; parse, fill,
 * and report. On failure the caller releases cfg.
 */
static int parse_common(const char *name, const char *buf, size_t len,
			fill_fn fill, void *cfg, char **errmsg)
{
	struct ctx c = { .name = name, .buf = buf, .len = len };

	return finish(&c, parse_buf(&c, fill, cfg), errmsg);
}

/* Read a config file; errors other than CORE_ECONFIG get one message. */
static int read_config(const char *path, char **buf, size_t *len, char **errmsg)
{
	int rc = fs_read_file(path, CFG_MAX_FILE, buf, len);
	char msg[1024];
	int saved;

	if (rc == 0)
		return 0;
	saved = errno;
	if (rc == CORE_ETOOBIG)
		snprintf(msg, sizeof(msg), "%s:1:1: larger than %u bytes", path,
			 CFG_MAX_FILE);
	else
		snprintf(msg, sizeof(msg), "%s: %s", path, core_strerror(rc));
	if (errmsg != NULL)
		*errmsg = strdup(msg);
	errno = saved;
	return rc == CORE_ETOOBIG ? CORE_ECONFIG : rc;
}

int cfg_parse(const char *name, const char *buf, size_t len,
	      const struct cfg_program *p, void *cfg, char **errmsg)
{
	int rc;

	memset(cfg, 0, p->size);
	if (errmsg != NULL)
		*errmsg = NULL;
	rc = p->defaults(cfg, name);
	if (rc == 0)
		rc = parse_common(name, buf, len, p->fill, cfg, errmsg);
	if (rc != 0)
		p->release(cfg);
	return rc;
}

int cfg_load(const char *path, const struct cfg_program *p, void *cfg,
	     char **errmsg)
{
	char *buf;
	size_t len;
	int rc;

	memset(cfg, 0, p->size);
	if (errmsg != NULL)
		*errmsg = NULL;
	if ((rc = read_config(path, &buf, &len, errmsg)) != 0)
		return rc;
	rc = cfg_parse(path, buf, len, p, cfg, errmsg);
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ dump */

/* A YAML double-quoted scalar, or null. */
void dump_str(FILE *fp, const char *s)
{
	if (s == NULL) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(fp, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(fp, "\\x%02x", *p);
		else
			fputc(*p, fp);
	}
	fputc('"', fp);
}

/* The shortest of %.15g / %.17g that reads back as the same double. */
void dump_double(FILE *fp, double d)
{
	char b[64];

	snprintf(b, sizeof(b), "%.15g", d);
	if (strtod(b, NULL) != d)
		snprintf(b, sizeof(b), "%.17g", d);
	fputs(b, fp);
}

void dump_kstr(FILE *fp, const char *indent, const char *k, const char *s)
{
	fprintf(fp, "%s%s: ", indent, k);
	dump_str(fp, s);
	fputc('\n', fp);
}

int dump_end(FILE *fp)
{
	if (fflush(fp) != 0)
		return CORE_ESYS;
	if (ferror(fp)) {
		errno = EIO;
		return CORE_ESYS;
	}
	return 0;
}
