/*
 * Core-internal: the config engine shared by the recorder's, rotate's
 * and backup's key tables (config.c, config_rotate.c, config_backup.c).
 * A program describes its file with a struct cfg_program (size, defaults,
 * a fill function that walks the `config:` map, release) and loads it
 * with cfg_load. Handlers report errors with err_node; the engine keeps
 * them in file order. Not for use outside core/config*.c and cfg*.c.
 */
#ifndef CORE_CFG_H
#define CORE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <yaml.h>

#define CFG_MAX_ERRORS 100  /* errors kept; the rest are counted */
#define CFG_MAX_STR    4096 /* bytes in any one string value */
#define CFG_QUOTE      200  /* room for an escaped value in a message */

#define DEFAULT_DATA_DIR     "/var/lib/booktape"
#define DEFAULT_TEXTFILE_DIR "/var/lib/prometheus/node-exporter"

/* One parse: the input, the document and the errors found so far. */
struct ctx {
	const char *name; /* the file, for messages */
	const char *buf;  /* the input, to place reader errors */
	size_t len;
	yaml_document_t *doc;
	struct cfg_err {
		size_t line, col; /* 1-based */
		unsigned seq;	  /* keeps equal positions in found order */
		char *msg;	  /* "file:line:column: message" */
	} errs[CFG_MAX_ERRORS];
	unsigned nerr; /* errors found, including those not kept */
	bool oom;
};

struct key;
/* A key's handler: check v and store it at k->off in obj, or report. */
typedef void (*key_fn)(struct ctx *c, const struct key *k, yaml_node_t *v,
		       void *obj);

enum {
	K_REQUIRED = 1u << 0, /* missing is an error */
	K_MIN_EXCL = 1u << 1, /* value must be > min, not >= min */
};

struct key {
	const char *name;
	key_fn fn;
	size_t off; /* field in the target struct */
	double min, max;
	unsigned flags;
};

/* What walk_map saw for each key of its table. */
struct seen {
	yaml_node_t *key, *val;
};

/* Field `off` of obj, as a T *. */
#define FIELD(T, obj, off) ((T *)(void *)((char *)(obj) + (off)))

/* Walk the `config:` map (`where` is its key, for missing keys). */
typedef void (*fill_fn)(struct ctx *c, yaml_node_t *map, yaml_node_t *where,
			void *cfg);

/* What a program's config file is: one loader serves all three. */
struct cfg_program {
	size_t size; /* of the config struct */
	/* Set the defaults and the path (`name`); 0 or CORE_ENOMEM. */
	int (*defaults)(void *cfg, const char *name);
	fill_fn fill;
	void (*release)(void *cfg); /* frees and zeroes; NULL-safe */
};

/*
 * Parse `len` bytes of YAML named `name` into cfg (p->size bytes,
 * cleared first) through p. 0, CORE_ECONFIG with *errmsg (caller frees)
 * listing every error, or CORE_ENOMEM; on failure cfg is released.
 */
int cfg_parse(const char *name, const char *buf, size_t len,
	      const struct cfg_program *p, void *cfg, char **errmsg);
/* The same for the file at `path`; a read failure gets one message. */
int cfg_load(const char *path, const struct cfg_program *p, void *cfg,
	     char **errmsg);

/* Errors, at a 1-based line and column or at a node's start. */
void err_at(struct ctx *c, size_t line, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void err_node(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Nodes: a scalar's text and length, plain style, YAML null, what it
 * is in words ("a mapping"), and the node of an index. */
const char *sval(const yaml_node_t *n);
size_t slen(const yaml_node_t *n);
bool is_plain(const yaml_node_t *n);
bool is_null(const yaml_node_t *n);
const char *kind(const yaml_node_t *n);
yaml_node_t *node_get(struct ctx *c, int idx);
/* The scalar's text escaped and shortened into dst[CFG_QUOTE]. */
const char *quote(char *dst, const yaml_node_t *n);

/*
 * Walk a mapping: look each key up in `keys`, run its handler on obj,
 * and record key and value nodes in seen[] (nkeys entries). Reports
 * unknown, duplicate and (at `where`) missing required keys.
 */
void walk_map(struct ctx *c, yaml_node_t *map, const struct key *keys,
	      size_t nkeys, void *obj, struct seen *seen,
	      const yaml_node_t *where);
/* The index of key node k in keys, or -1. */
int key_find(const struct key *keys, size_t nkeys, yaml_node_t *k);
/* Report k as unknown, with a "did you mean" among keys. */
void unknown_key(struct ctx *c, yaml_node_t *k, const struct key *keys,
		 size_t nkeys);
/* The value node seen for key `name`, or NULL. */
yaml_node_t *seen_val(const struct key *keys, size_t nkeys,
		      const struct seen *seen, const char *name);

/* Scalars (cfg_scalar.c). want_str: the text of a usable string, or
 * NULL after reporting. set_str/set_strn: replace *dst with a copy
 * (NULL clears; allocation failure sets c->oom). */
const char *want_str(struct ctx *c, const char *what, yaml_node_t *v);
void set_str(struct ctx *c, char **dst, const char *s);
void set_strn(struct ctx *c, char **dst, const char *s, size_t len);
/* Is s non-empty and made only of bytes in set? */
bool all_of(const char *s, const char *set);
/* Does s start with "<scheme>://" and a host character after it? */
bool url_scheme(const char *s, const char *scheme);

/* Handlers for key tables: a non-empty string, an optional string (null
 * stores NULL), an int or double within [min, max], a boolean. */
void h_str(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
void h_optstr(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
void h_int(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
void h_double(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);
void h_bool(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj);

enum {
	URL_NULLABLE = 1u << 0, /* null stores NULL: "the default" */
	URL_TRIM = 1u << 1,	/* drop trailing slashes */
};
/* A URL with scheme s1 or s2, stored at k->off. */
void url_key(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj,
	     const char *s1, const char *s2, unsigned flags);

/* Dump helpers: a YAML double-quoted string or null, a double that
 * reads back the same, "indent k: string\n", and the final flush. */
void dump_str(FILE *fp, const char *s);
void dump_double(FILE *fp, double d);
void dump_kstr(FILE *fp, const char *indent, const char *k, const char *s);
int dump_end(FILE *fp);

#endif
