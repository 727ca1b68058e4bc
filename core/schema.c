/*
 * Dataset definitions loaded from the embedded schema/ YAML (libyaml
 * document API) and book_snapshot_<N> expanded from its template on
 * demand. The per-row type check is schema_check.c.
 */
#include "schema.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "core.h"
#include "banned.h"

#define SNAPSHOT_MAX_N 1000
#define NAME_MAX_LEN   128

/* One column as written in YAML; `name` may hold "{i}" in a template. */
struct coldef {
	char *name;
	enum schema_type type;
	bool nullable;
	bool allow_negative;
	char **values; /* enum: NULL-terminated */
};

/* A built schema and the memory it points into. */
struct built {
	struct schema s;
	struct schema_column *cols;
	char **names; /* owned names (templates), or NULL */
	size_t nnames;
	char *header;
	int n; /* template N, 0 for fixed datasets */
	struct built *next;
};

struct def {
	char *name;
	struct coldef *cols;
	size_t ncols;
	struct coldef *levels; /* templates only */
	size_t nlevels;
	bool is_template;
	struct built *built; /* fixed: the schema; template: expansions */
};

struct schema_set {
	pthread_mutex_t lock;
	struct def *defs;
	size_t ndefs;
};

/* ------------------------------------------------------------ loading */

struct loader {
	const char *file;
	yaml_document_t *doc;
	char **errmsg;
};

static int load_err(struct loader *ld, const yaml_node_t *n, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

static int load_err(struct loader *ld, const yaml_node_t *n, const char *fmt,
		    ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (*ld->errmsg == NULL &&
	    asprintf(ld->errmsg, "schema/%s.yml:%zu:%zu: %s", ld->file,
		     n ? n->start_mark.line + 1 : 1,
		     n ? n->start_mark.column + 1 : 1, msg) < 0)
		*ld->errmsg = NULL;
	return CORE_EPARSE;
}

static const char *scalar(const yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node_at(struct loader *ld, int idx)
{
	return yaml_document_get_node(ld->doc, idx);
}

static void coldef_release(struct coldef *c)
{
	free(c->name);
	if (c->values != NULL)
		for (char **v = c->values; *v != NULL; v++)
			free(*v);
	free(c->values);
}

static const struct {
	const char *name;
	enum schema_type type;
} type_names[] = {
	{ "string", SCHEMA_STRING },   { "int", SCHEMA_INT },
	{ "time_us", SCHEMA_TIME_US }, { "decimal", SCHEMA_DECIMAL },
	{ "bool", SCHEMA_BOOL },       { "enum", SCHEMA_ENUM },
};

static int parse_bool(struct loader *ld, const yaml_node_t *n, bool *out)
{
	const char *v = scalar(n);

	if (v != NULL && strcmp(v, "true") == 0)
		*out = true;
	else if (v != NULL && strcmp(v, "false") == 0)
		*out = false;
	else
		return load_err(ld, n, "expected true or false");
	return 0;
}

static int parse_values(struct loader *ld, const yaml_node_t *n,
			struct coldef *c)
{
	yaml_node_item_t *it;
	size_t cnt, i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return load_err(ld, n, "values must be a list");
	cnt = (size_t)(n->data.sequence.items.top -
		       n->data.sequence.items.start);
	if (cnt == 0)
		return load_err(ld, n, "values must not be empty");
	c->values = calloc(cnt + 1, sizeof(*c->values));
	if (c->values == NULL)
		return CORE_ENOMEM;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *vn = node_at(ld, *it);
		const char *v = scalar(vn);

		if (v == NULL || *v == '\0')
			return load_err(ld, vn, "enum value must be a string");
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->values[j], v) == 0)
				return load_err(ld, vn,
						"duplicate enum value '%s'", v);
		if ((c->values[i++] = strdup(v)) == NULL)
			return CORE_ENOMEM;
	}
	return 0;
}

static int parse_type(struct loader *ld, const yaml_node_t *n, struct coldef *c)
{
	const char *v = scalar(n);

	for (size_t i = 0; v != NULL && i < CORE_ARRAY_LEN(type_names); i++)
		if (strcmp(v, type_names[i].name) == 0) {
			c->type = type_names[i].type;
			return 0;
		}
	return load_err(ld, n, "unknown type '%s'", v ? v : "");
}

static const char *const col_keys[] = {
	"name", "type", "values", "signed", "nullable", "description",
};

/* One key of a column map; `seen` has bit i set once col_keys[i] was seen. */
static int parse_col_key(struct loader *ld, const yaml_node_t *k,
			 const yaml_node_t *v, struct coldef *c, unsigned *seen)
{
	const char *key = scalar(k);
	unsigned bit = 0;

	if (key == NULL)
		return load_err(ld, k, "column key must be a string");
	for (size_t i = 0; i < CORE_ARRAY_LEN(col_keys); i++)
		if (strcmp(key, col_keys[i]) == 0)
			bit = 1u << i;
	if (bit == 0)
		return load_err(ld, k, "unknown column key '%s'", key);
	if (*seen & bit)
		return load_err(ld, k, "duplicate key '%s'", key);
	*seen |= bit;
	switch (bit) {
	case 1:
		if (scalar(v) == NULL || *scalar(v) == '\0' ||
		    strlen(scalar(v)) > NAME_MAX_LEN ||
		    strpbrk(scalar(v), ",\"\r\n") != NULL)
			return load_err(ld, v, "invalid column name");
		return (c->name = strdup(scalar(v))) ? 0 : CORE_ENOMEM;
	case 2:
		return parse_type(ld, v, c);
	case 4:
		return parse_values(ld, v, c);
	case 8:
		return parse_bool(ld, v, &c->allow_negative);
	case 16:
		return parse_bool(ld, v, &c->nullable);
	default:
		return scalar(v) ? 0 : load_err(ld, v, "expected a string");
	}
}

static int parse_column(struct loader *ld, const yaml_node_t *n,
			struct coldef *c)
{
	yaml_node_pair_t *p;
	unsigned seen = 0;
	int rc;

	if (n->type != YAML_MAPPING_NODE)
		return load_err(ld, n, "a column must be a map");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		rc = parse_col_key(ld, node_at(ld, p->key),
				   node_at(ld, p->value), c, &seen);
		if (rc != 0)
			return rc;
	}
	if (!(seen & 1))
		return load_err(ld, n, "column without a name");
	if (!(seen & 2))
		return load_err(ld, n, "column '%s' without a type", c->name);
	if ((c->type == SCHEMA_ENUM) != ((seen & 4) != 0))
		return load_err(ld, n, "column '%s': values go with type enum",
				c->name);
	if ((seen & 8) && c->type != SCHEMA_DECIMAL)
		return load_err(ld, n, "column '%s': signed is for decimals",
				c->name);
	return 0;
}

static int parse_columns(struct loader *ld, const yaml_node_t *n,
			 struct coldef **out, size_t *nout)
{
	yaml_node_item_t *it;
	size_t cnt;
	int rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return load_err(ld, n, "expected a list of columns");
	cnt = (size_t)(n->data.sequence.items.top -
		       n->data.sequence.items.start);
	if (cnt == 0)
		return load_err(ld, n, "the list of columns is empty");
	*out = calloc(cnt, sizeof(**out));
	if (*out == NULL)
		return CORE_ENOMEM;
	*nout = cnt;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		const yaml_node_t *cn = node_at(ld, *it);
		struct coldef *c = &(*out)[it - n->data.sequence.items.start];

		if ((rc = parse_column(ld, cn, c)) != 0)
			return rc;
		for (struct coldef *o = *out; o < c; o++)
			if (strcmp(o->name, c->name) == 0)
				return load_err(ld, cn, "duplicate column '%s'",
						c->name);
	}
	return 0;
}

static bool ends_with_n(const char *s)
{
	size_t n = strlen(s);

	return n > 2 && strcmp(s + n - 2, "_N") == 0;
}

static int check_def(struct loader *ld, const yaml_node_t *root, struct def *d)
{
	const struct coldef *t = NULL;

	if (d->name == NULL)
		return load_err(ld, root, "missing key 'dataset'");
	if (strcmp(d->name, ld->file) != 0)
		return load_err(ld, root, "dataset '%s' in file '%s.yml'",
				d->name, ld->file);
	if (d->cols == NULL)
		return load_err(ld, root, "missing key 'columns'");
	if (ends_with_n(d->name) != (d->levels != NULL))
		return load_err(ld, root,
				"a template is named '*_N' and has 'levels'");
	for (size_t i = 0; i < d->nlevels; i++)
		if (strstr(d->levels[i].name, "{i}") == NULL)
			return load_err(ld, root, "level column '%s' lacks {i}",
					d->levels[i].name);
	for (size_t i = 0; i < d->ncols; i++)
		if (strcmp(d->cols[i].name, "local_timestamp") == 0)
			t = &d->cols[i];
	if (t == NULL || t->type != SCHEMA_TIME_US || t->nullable)
		return load_err(ld, root,
				"needs a non-null time_us local_timestamp");
	d->is_template = d->levels != NULL;
	return 0;
}

static int parse_root(struct loader *ld, const yaml_node_t *root, struct def *d)
{
	yaml_node_pair_t *p;
	int rc;

	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return load_err(ld, root, "expected a map at the top level");
	for (p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node_at(ld, p->key);
		const yaml_node_t *v = node_at(ld, p->value);
		const char *key = scalar(k);

		if (key != NULL && strcmp(key, "dataset") == 0 &&
		    d->name == NULL) {
			if (scalar(v) == NULL || *scalar(v) == '\0')
				return load_err(ld, v, "invalid dataset name");
			if ((d->name = strdup(scalar(v))) == NULL)
				return CORE_ENOMEM;
		} else if (key != NULL && strcmp(key, "columns") == 0 &&
			   d->cols == NULL) {
			rc = parse_columns(ld, v, &d->cols, &d->ncols);
			if (rc != 0)
				return rc;
		} else if (key != NULL && strcmp(key, "levels") == 0 &&
			   d->levels == NULL) {
			rc = parse_columns(ld, v, &d->levels, &d->nlevels);
			if (rc != 0)
				return rc;
		} else {
			return load_err(ld, k, "unknown or duplicate key '%s'",
					key ? key : "");
		}
	}
	return check_def(ld, root, d);
}

static int parse_blob(const struct schema_blob *b, struct def *d, char **errmsg)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct loader ld = { b->name, &doc, errmsg };
	int rc;

	if (!yaml_parser_initialize(&parser))
		return CORE_ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)b->text,
				     strlen(b->text));
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_node_t fake = { 0 };

		fake.start_mark = parser.problem_mark;
		rc = load_err(&ld, &fake, "%s",
			      parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = parse_root(&ld, yaml_document_get_root_node(&doc), d);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* ------------------------------------------------------------ building */

static void built_free(struct built *b)
{
	while (b != NULL) {
		struct built *next = b->next;

		for (size_t i = 0; i < b->nnames; i++)
			free(b->names[i]);
		free(b->names);
		free(b->cols);
		free(b->header);
		free(b);
		b = next;
	}
}

static void set_col(struct schema_column *dst, const struct coldef *src,
		    const char *name)
{
	dst->name = name;
	dst->type = src->type;
	dst->nullable = src->nullable;
	dst->allow_negative = src->allow_negative;
	dst->values = (const char *const *)src->values;
}

/* "asks[{i}].price" with i = 3 -> "asks[3].price". Caller frees. */
static char *expand_name(const char *tmpl, int i)
{
	const char *at = strstr(tmpl, "{i}");
	char *out;

	if (asprintf(&out, "%.*s%d%s", (int)(at - tmpl), tmpl, i, at + 3) < 0)
		return NULL;
	return out;
}

static int build_header(struct built *b)
{
	size_t len = 0, off = 0;

	for (size_t i = 0; i < b->s.ncols; i++)
		len += strlen(b->cols[i].name) + 1;
	b->header = malloc(len);
	if (b->header == NULL)
		return CORE_ENOMEM;
	for (size_t i = 0; i < b->s.ncols; i++) {
		size_t n = strlen(b->cols[i].name);

		memcpy(b->header + off, b->cols[i].name, n);
		off += n;
		b->header[off++] = i + 1 < b->s.ncols ? ',' : '\0';
	}
	b->s.header = b->header;
	return 0;
}

static int build_levels(struct built *b, const struct def *d, int n)
{
	size_t k = d->ncols;

	b->names = calloc(d->nlevels * (size_t)n, sizeof(*b->names));
	if (b->names == NULL)
		return CORE_ENOMEM;
	for (int i = 0; i < n; i++)
		for (size_t j = 0; j < d->nlevels; j++) {
			char *name = expand_name(d->levels[j].name, i);

			if (name == NULL)
				return CORE_ENOMEM;
			b->names[b->nnames++] = name;
			set_col(&b->cols[k++], &d->levels[j], name);
		}
	return 0;
}

/*
 * Build the schema of `d` (for a template with N = n, named `dataset`).
 * Returns NULL on allocation failure.
 */
static struct built *build(const struct def *d, const char *dataset, int n)
{
	struct built *b = calloc(1, sizeof(*b));
	size_t ncols = d->ncols + d->nlevels * (size_t)n;
	char *name = strdup(dataset);

	if (b == NULL || name == NULL)
		goto fail;
	b->n = n;
	b->cols = calloc(ncols, sizeof(*b->cols));
	if (b->cols == NULL)
		goto fail;
	/* The dataset name is kept as the last owned name. */
	b->s.ncols = ncols;
	b->s.cols = b->cols;
	for (size_t i = 0; i < d->ncols; i++) {
		set_col(&b->cols[i], &d->cols[i], d->cols[i].name);
		if (strcmp(d->cols[i].name, "local_timestamp") == 0)
			b->s.time_col = (int)i;
	}
	if (build_levels(b, d, n) != 0 || build_header(b) != 0)
		goto fail;
	{
		char **names =
			realloc(b->names, (b->nnames + 1) * sizeof(*b->names));

		if (names == NULL)
			goto fail;
		b->names = names;
		b->names[b->nnames++] = name;
		b->s.dataset = name;
		name = NULL; /* transferred */
	}
	return b;
fail:
	free(name);
	built_free(b);
	return NULL;
}

static void def_release(struct def *d)
{
	for (size_t i = 0; i < d->ncols; i++)
		coldef_release(&d->cols[i]);
	for (size_t i = 0; i < d->nlevels; i++)
		coldef_release(&d->levels[i]);
	free(d->cols);
	free(d->levels);
	free(d->name);
	built_free(d->built);
}

void schema_set_free(struct schema_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->ndefs; i++)
		def_release(&set->defs[i]);
	free(set->defs);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

int schema_set_load_blobs(const struct schema_blob *blobs,
			  struct schema_set **out, char **errmsg)
{
	struct schema_set *set;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*errmsg = NULL;
	while (blobs[n].name != NULL)
		n++;
	set = calloc(1, sizeof(*set));
	if (set == NULL)
		return CORE_ENOMEM;
	pthread_mutex_init(&set->lock, NULL);
	set->defs = calloc(n ? n : 1, sizeof(*set->defs));
	if (set->defs == NULL) {
		rc = CORE_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct def *d = &set->defs[set->ndefs++];

		if ((rc = parse_blob(&blobs[i], d, errmsg)) != 0)
			goto out;
		if (!d->is_template &&
		    (d->built = build(d, d->name, 0)) == NULL) {
			rc = CORE_ENOMEM;
			goto out;
		}
	}
	*out = set;
	set = NULL; /* transferred */
out:
	schema_set_free(set);
	return rc;
}

int schema_set_load(struct schema_set **out, char **errmsg)
{
	return schema_set_load_blobs(schema_blobs, out, errmsg);
}

/* N of "<prefix><N>" for a template "<prefix>N": 1..1000, canonical. */
static int template_n(const char *tmpl, const char *dataset)
{
	size_t plen = strlen(tmpl) - 1;
	const char *p = dataset + plen;
	int n = 0;

	if (strncmp(tmpl, dataset, plen) != 0 || *p < '1' || *p > '9')
		return 0;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || n > SNAPSHOT_MAX_N)
			return 0;
		n = n * 10 + (*p - '0');
	}
	return n <= SNAPSHOT_MAX_N ? n : 0;
}

static const struct schema *find_template(struct def *d, const char *dataset)
{
	int n = template_n(d->name, dataset);
	struct built *b;

	if (n == 0)
		return NULL;
	for (b = d->built; b != NULL; b = b->next)
		if (b->n == n)
			return &b->s;
	b = build(d, dataset, n);
	if (b == NULL)
		return NULL;
	b->next = d->built;
	d->built = b;
	return &b->s;
}

const struct schema *schema_set_find(struct schema_set *set,
				     const char *dataset)
{
	const struct schema *s = NULL;

	if (set == NULL || dataset == NULL)
		return NULL;
	pthread_mutex_lock(&set->lock);
	for (size_t i = 0; i < set->ndefs && s == NULL; i++) {
		struct def *d = &set->defs[i];

		if (!d->is_template && strcmp(d->name, dataset) == 0)
			s = &d->built->s;
		else if (d->is_template)
			s = find_template(d, dataset);
	}
	pthread_mutex_unlock(&set->lock);
	return s;
}
