/*
 * A Prometheus registry rendered as text format 0.0.4, the node_exporter
 * textfile writer and reader, and the standard process_* metrics.
 *
 * One mutex per registry guards every family, series and value: updates
 * come from the recorder's network and writer threads while its HTTP
 * handler renders, and a mutex is simple to get right. Series are looked
 * up once and cached by the caller, so an update is a lock, an add and
 * an unlock, with no allocation.
 */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "core.h"
#include "fsutil.h"
#include "banned.h"

#define METRICS_MAX_LABELS   16
#define METRICS_MAX_BUCKETS  256
#define METRICS_MAX_VALUE    1024
#define METRICS_TEXTFILE_MAX (4u << 20)
#define METRICS_NUM_MAX	     32 /* fits "%.17g" and "%.0f" below 1e19 */

struct metric_series {
	struct metric *fam;
	struct metric_series *next;
	uint64_t hash;
	char **values; /* fam->nlabels copies */
	double value;  /* counter, gauge */
	double sum;    /* histogram */
	uint64_t count;
	uint64_t *counts; /* per bucket, not cumulative; [nbuckets] is +Inf */
};

struct metric {
	struct metrics *reg;
	struct metric *next;
	char *name;
	char *help;
	enum metric_type type;
	char **labels;
	size_t nlabels;
	double *bounds;
	char (*le)[METRICS_NUM_MAX]; /* bounds formatted once: stable */
	size_t nbuckets;
	struct metric_series *series, *series_tail;
};

/*
 * Families, not series: a family lives as long as the registry, while a
 * caller may remove (and so free) a series.
 */
struct proc_metrics {
	struct metric *cpu, *rss, *vsz, *fds, *maxfds, *start;
	double boot_time;
};

struct metrics {
	pthread_mutex_t lock;
	struct metric *head, *tail;
	struct proc_metrics *proc;
};

/* ------------------------------------------------------------ helpers */

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static void free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool is_name_start(int c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (colon && c == ':');
}

static bool is_name_char(int c, bool colon)
{
	return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Metric names allow ':'; label names do not. */
static bool name_ok(const char *s, bool colon)
{
	if (s == NULL || !is_name_start((unsigned char)*s, colon))
		return false;
	for (s++; *s != '\0'; s++)
		if (!is_name_char((unsigned char)*s, colon))
			return false;
	return true;
}

/* Strict UTF-8: no overlongs, no surrogates, nothing above U+10FFFF. */
static bool utf8_ok(const unsigned char *s)
{
	while (*s != '\0') {
		unsigned c = *s++, n, min, cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, min = 0x10000, cp = c & 0x07;
		else
			return false;
		for (; n > 0; n--, s++) {
			if ((*s & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (*s & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/*
 * Format v as Go's ParseFloat reads it. Integers print in full below
 * 1e19 (%.0f is exact there), so large counters never lose digits to an
 * exponent; other values take the shortest %g that reads back exactly.
 */
static void fmt_num(char *buf, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(buf, size, "NaN");
	} else if (isinf(v)) {
		snprintf(buf, size, "%s", v > 0 ? "+Inf" : "-Inf");
	} else if (v == 0) {
		snprintf(buf, size, "0"); /* also for -0 */
	} else if (fabs(v) < 1e19 && v == trunc(v)) {
		snprintf(buf, size, "%.0f", v);
	} else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, size, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
}

/* FNV-1a over the values, each terminated by a byte no UTF-8 holds. */
static uint64_t hash_values(const char *const *v, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++) {
		for (const unsigned char *p = (const void *)v[i]; *p; p++)
			h = (h ^ *p) * 0x100000001b3ull;
		h = (h ^ 0xff) * 0x100000001b3ull;
	}
	return h;
}

/* ------------------------------------------------------------ registry */

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m == NULL)
		return NULL;
	if (pthread_mutex_init(&m->lock, NULL) != 0) {
		free(m);
		return NULL;
	}
	return m;
}

static void series_free(struct metric_series *s)
{
	if (s == NULL)
		return;
	free_strv(s->values, s->fam->nlabels);
	free(s->counts);
	free(s);
}

static void family_free(struct metric *f)
{
	struct metric_series *s, *next;

	if (f == NULL)
		return;
	for (s = f->series; s != NULL; s = next) {
		next = s->next;
		series_free(s);
	}
	free(f->name);
	free(f->help);
	free_strv(f->labels, f->nlabels);
	free(f->bounds);
	free(f->le);
	free(f);
}

void metrics_free(struct metrics *m)
{
	struct metric *f, *next;

	if (m == NULL)
		return;
	for (f = m->head; f != NULL; f = next) {
		next = f->next;
		family_free(f);
	}
	free(m->proc);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static size_t count_labels(const char *const *labels)
{
	size_t n = 0;

	while (labels != NULL && labels[n] != NULL && n <= METRICS_MAX_LABELS)
		n++;
	return n;
}

static bool labels_ok(const char *const *labels, size_t n,
		      enum metric_type type)
{
	if (n > METRICS_MAX_LABELS)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!name_ok(labels[i], false) ||
		    strncmp(labels[i], "__", 2) == 0)
			return false;
		if (type == METRIC_HISTOGRAM && strcmp(labels[i], "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++)
			if (strcmp(labels[i], labels[j]) == 0)
				return false;
	}
	return true;
}

static bool buckets_ok(const double *b, size_t n)
{
	if (n > METRICS_MAX_BUCKETS || (n > 0 && b == NULL))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
			return false;
	}
	return true;
}

/* True when `name` equals base + one of a histogram's series suffixes. */
static bool is_hist_series(const char *name, const char *base)
{
	static const char *const sfx[] = { "_bucket", "_sum", "_count" };
	size_t n = strlen(base);

	if (strncmp(name, base, n) != 0)
		return false;
	for (size_t i = 0; i < CORE_ARRAY_LEN(sfx); i++)
		if (strcmp(name + n, sfx[i]) == 0)
			return true;
	return false;
}

static bool same_shape(const struct metric *f, enum metric_type type,
		       const char *const *labels, size_t nlabels,
		       const double *buckets, size_t nbuckets)
{
	if (f->type != type || f->nlabels != nlabels)
		return false;
	for (size_t i = 0; i < nlabels; i++)
		if (strcmp(f->labels[i], labels[i]) != 0)
			return false;
	if (type != METRIC_HISTOGRAM)
		return true;
	if (f->nbuckets != nbuckets)
		return false;
	for (size_t i = 0; i < nbuckets; i++)
		if (f->bounds[i] != buckets[i])
			return false;
	return true;
}

/*
 * The family that owns `name`, or NULL. *clash is set when the name is
 * taken by another family's histogram series, or would take one.
 */
static struct metric *family_find(struct metrics *m, const char *name,
				  enum metric_type type, bool *clash)
{
	*clash = false;
	for (struct metric *f = m->head; f != NULL; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return f;
		if ((f->type == METRIC_HISTOGRAM &&
		     is_hist_series(name, f->name)) ||
		    (type == METRIC_HISTOGRAM && is_hist_series(f->name, name)))
			*clash = true;
	}
	return NULL;
}

static struct metric_series *
series_new(struct metric *f, const char *const *values, uint64_t hash)
{
	struct metric_series *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->fam = f;
	s->hash = hash;
	if (f->nlabels > 0) {
		s->values = calloc(f->nlabels, sizeof(*s->values));
		if (s->values == NULL)
			goto fail;
		for (size_t i = 0; i < f->nlabels; i++)
			if ((s->values[i] = dup_str(values[i])) == NULL)
				goto fail;
	}
	if (f->type == METRIC_HISTOGRAM) {
		s->counts = calloc(f->nbuckets + 1, sizeof(*s->counts));
		if (s->counts == NULL)
			goto fail;
	}
	if (f->series_tail != NULL)
		f->series_tail->next = s;
	else
		f->series = s;
	f->series_tail = s;
	return s;
fail:
	series_free(s);
	return NULL;
}

static int family_copy_buckets(struct metric *f, const double *buckets,
			       size_t nbuckets)
{
	if (nbuckets == 0)
		return 0;
	f->bounds = calloc(nbuckets, sizeof(*f->bounds));
	f->le = calloc(nbuckets, sizeof(*f->le));
	if (f->bounds == NULL || f->le == NULL)
		return CORE_ENOMEM;
	f->nbuckets = nbuckets;
	for (size_t i = 0; i < nbuckets; i++) {
		f->bounds[i] = buckets[i];
		fmt_num(f->le[i], sizeof(f->le[i]), buckets[i]);
	}
	return 0;
}

static struct metric *family_new(struct metrics *m, const char *name,
				 const char *help, enum metric_type type,
				 const char *const *labels, size_t nlabels)
{
	struct metric *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->reg = m;
	f->type = type;
	f->name = dup_str(name);
	f->help = dup_str(help != NULL ? help : "");
	if (f->name == NULL || f->help == NULL)
		goto fail;
	if (nlabels > 0) {
		f->labels = calloc(nlabels, sizeof(*f->labels));
		if (f->labels == NULL)
			goto fail;
		f->nlabels = nlabels;
		for (size_t i = 0; i < nlabels; i++)
			if ((f->labels[i] = dup_str(labels[i])) == NULL)
				goto fail;
	}
	return f;
fail:
	family_free(f);
	return NULL;
}

static struct metric *family_add(struct metrics *m, const char *name,
				 const char *help, enum metric_type type,
				 const char *const *labels, size_t nlabels,
				 const double *buckets, size_t nbuckets)
{
	struct metric *f = family_new(m, name, help, type, labels, nlabels);

	if (f == NULL)
		return NULL;
	if (type == METRIC_HISTOGRAM &&
	    family_copy_buckets(f, buckets, nbuckets) != 0)
		goto fail;
	/* An unlabelled family renders as 0 before its first update. */
	if (nlabels == 0 && series_new(f, NULL, hash_values(NULL, 0)) == NULL)
		goto fail;
	if (m->tail != NULL)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
fail:
	family_free(f);
	return NULL;
}

struct metric *metrics_family(struct metrics *m, const char *name,
			      const char *help, enum metric_type type,
			      const char *const *labels, const double *buckets,
			      size_t nbuckets)
{
	size_t nlabels = count_labels(labels);
	struct metric *f;
	bool clash;

	if (m == NULL || !name_ok(name, true) ||
	    !labels_ok(labels, nlabels, type) ||
	    (type != METRIC_COUNTER && type != METRIC_GAUGE &&
	     type != METRIC_HISTOGRAM))
		return NULL;
	if (type != METRIC_HISTOGRAM)
		nbuckets = 0;
	else if (!buckets_ok(buckets, nbuckets))
		return NULL;
	pthread_mutex_lock(&m->lock);
	f = family_find(m, name, type, &clash);
	if (f != NULL) {
		if (!same_shape(f, type, labels, nlabels, buckets, nbuckets))
			f = NULL;
	} else if (!clash) {
		f = family_add(m, name, help, type, labels, nlabels, buckets,
			       nbuckets);
	}
	pthread_mutex_unlock(&m->lock);
	return f;
}

/* ------------------------------------------------------------ series */

static bool values_ok(const struct metric *f, const char *const *values)
{
	if (f->nlabels > 0 && values == NULL)
		return false;
	for (size_t i = 0; i < f->nlabels; i++) {
		if (values[i] == NULL ||
		    strnlen(values[i], METRICS_MAX_VALUE + 1) >
			    METRICS_MAX_VALUE ||
		    !utf8_ok((const unsigned char *)values[i]))
			return false;
	}
	return true;
}

/* Called with the lock held; *prev gets the predecessor for unlinking. */
static struct metric_series *series_find(struct metric *f,
					 const char *const *values,
					 uint64_t hash,
					 struct metric_series **prev)
{
	struct metric_series *p = NULL;

	for (struct metric_series *s = f->series; s != NULL;
	     p = s, s = s->next) {
		size_t i;

		if (s->hash != hash)
			continue;
		for (i = 0; i < f->nlabels; i++)
			if (strcmp(s->values[i], values[i]) != 0)
				break;
		if (i == f->nlabels) {
			if (prev != NULL)
				*prev = p;
			return s;
		}
	}
	return NULL;
}

struct metric_series *metric_series(struct metric *f, const char *const *values)
{
	struct metric_series *s;
	uint64_t h;

	if (f == NULL || !values_ok(f, values))
		return NULL;
	h = hash_values(values, f->nlabels);
	pthread_mutex_lock(&f->reg->lock);
	s = series_find(f, values, h, NULL);
	if (s == NULL)
		s = series_new(f, values, h);
	pthread_mutex_unlock(&f->reg->lock);
	return s;
}

void metric_series_remove(struct metric *f, const char *const *values)
{
	struct metric_series *s, *prev = NULL;

	if (f == NULL || !values_ok(f, values))
		return;
	pthread_mutex_lock(&f->reg->lock);
	s = series_find(f, values, hash_values(values, f->nlabels), &prev);
	if (s != NULL) {
		if (prev != NULL)
			prev->next = s->next;
		else
			f->series = s->next;
		if (f->series_tail == s)
			f->series_tail = prev;
	}
	pthread_mutex_unlock(&f->reg->lock);
	series_free(s);
}

/* ------------------------------------------------------------ updates */

static void series_lock(const struct metric_series *s)
{
	pthread_mutex_lock(&s->fam->reg->lock);
}

static void series_unlock(const struct metric_series *s)
{
	pthread_mutex_unlock(&s->fam->reg->lock);
}

void metric_add(struct metric_series *s, double v)
{
	if (s == NULL || s->fam->type == METRIC_HISTOGRAM)
		return;
	if (s->fam->type == METRIC_COUNTER && !(v >= 0))
		return; /* a counter never goes down; NaN fails the test too */
	series_lock(s);
	s->value += v;
	series_unlock(s);
}

void metric_inc(struct metric_series *s)
{
	metric_add(s, 1);
}

void metric_set(struct metric_series *s, double v)
{
	if (s == NULL || s->fam->type != METRIC_GAUGE)
		return;
	series_lock(s);
	s->value = v;
	series_unlock(s);
}

void metric_observe(struct metric_series *s, double v)
{
	const struct metric *f;
	size_t i = 0;

	if (s == NULL || s->fam->type != METRIC_HISTOGRAM)
		return;
	f = s->fam;
	/* NaN is above every bound, so it lands in +Inf, as in client_golang.
	 */
	while (i < f->nbuckets && !(v <= f->bounds[i]))
		i++;
	series_lock(s);
	s->counts[i]++;
	s->count++;
	s->sum += v;
	series_unlock(s);
}

double metric_value(const struct metric_series *s)
{
	double v;

	if (s == NULL)
		return NAN;
	series_lock(s);
	v = s->fam->type == METRIC_HISTOGRAM ? (double)s->count : s->value;
	series_unlock(s);
	return v;
}

/* ------------------------------------------------------------ render */

/* Rendering appends to a buf without checking each add: its error is
 * sticky, and metrics_render checks it once at the end. */

/* HELP escapes \ and newline; label values also escape ". */
static void db_esc(struct buf *b, const char *s, bool label)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_add(b, "\\\\", 2);
		else if (*s == '\n')
			buf_add(b, "\\n", 2);
		else if (*s == '"' && label)
			buf_add(b, "\\\"", 2);
		else
			buf_add(b, s, 1);
	}
}

static void put_sample(struct buf *b, const struct metric_series *s,
		       const char *suffix, const char *le, double v)
{
	const struct metric *f = s->fam;
	char num[METRICS_NUM_MAX];

	buf_addstr(b, f->name);
	buf_addstr(b, suffix);
	if (f->nlabels > 0 || le != NULL) {
		buf_add(b, "{", 1);
		for (size_t i = 0; i < f->nlabels; i++) {
			if (i > 0)
				buf_add(b, ",", 1);
			buf_addstr(b, f->labels[i]);
			buf_add(b, "=\"", 2);
			db_esc(b, s->values[i], true);
			buf_add(b, "\"", 1);
		}
		if (le != NULL) {
			buf_addstr(b, f->nlabels > 0 ? ",le=\"" : "le=\"");
			buf_addstr(b, le);
			buf_add(b, "\"", 1);
		}
		buf_add(b, "}", 1);
	}
	fmt_num(num, sizeof(num), v);
	buf_add(b, " ", 1);
	buf_addstr(b, num);
	buf_add(b, "\n", 1);
}

static void put_histogram(struct buf *b, const struct metric_series *s)
{
	const struct metric *f = s->fam;
	uint64_t cum = 0;

	for (size_t i = 0; i < f->nbuckets; i++) {
		cum += s->counts[i];
		put_sample(b, s, "_bucket", f->le[i], (double)cum);
	}
	/* +Inf is the count itself, so the two can never disagree. */
	put_sample(b, s, "_bucket", "+Inf", (double)s->count);
	put_sample(b, s, "_sum", NULL, s->sum);
	put_sample(b, s, "_count", NULL, (double)s->count);
}

static void put_family(struct buf *b, const struct metric *f)
{
	static const char *const type_name[] = {
		[METRIC_COUNTER] = "counter",
		[METRIC_GAUGE] = "gauge",
		[METRIC_HISTOGRAM] = "histogram",
	};

	if (f->series == NULL)
		return;
	if (f->help[0] != '\0') {
		buf_addstr(b, "# HELP ");
		buf_addstr(b, f->name);
		buf_add(b, " ", 1);
		db_esc(b, f->help, false);
		buf_add(b, "\n", 1);
	}
	buf_addstr(b, "# TYPE ");
	buf_addstr(b, f->name);
	buf_add(b, " ", 1);
	buf_addstr(b, type_name[f->type]);
	buf_add(b, "\n", 1);
	for (const struct metric_series *s = f->series; s != NULL;
	     s = s->next) {
		if (f->type == METRIC_HISTOGRAM)
			put_histogram(b, s);
		else
			put_sample(b, s, "", NULL, s->value);
	}
}

int metrics_render(struct metrics *m, char **out, size_t *len)
{
	struct buf b;

	*out = NULL;
	*len = 0;
	if (m == NULL)
		return CORE_EINVAL;
	buf_init(&b, 0);
	pthread_mutex_lock(&m->lock);
	for (const struct metric *f = m->head; f != NULL; f = f->next)
		put_family(&b, f);
	pthread_mutex_unlock(&m->lock);
	/* An empty registry renders as "". */
	*out = buf_detach(&b, len);
	return *out != NULL ? 0 : CORE_ENOMEM;
}

/* ------------------------------------------------------------ textfile */

static bool prom_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && name[0] != '.' && strchr(name, '/') == NULL &&
	       strcmp(name + n - 5, ".prom") == 0;
}

int metrics_write_textfile(struct metrics *m, const char *dir, const char *name)
{
	char path[4096], *text = NULL;
	size_t len;
	int n, rc;

	if (m == NULL || dir == NULL || name == NULL || !prom_name_ok(name))
		return CORE_EINVAL;
	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return CORE_ETOOBIG;
	rc = metrics_render(m, &text, &len);
	if (rc == 0)
		rc = fs_write_atomic(path, text, len, 0644);
	free(text);
	return rc;
}

struct tf_query {
	const char *name;
	const char *label; /* NULL: the sample without labels */
	const char *value;
};

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/*
 * Consume a quoted label value at *pp (just past the opening quote),
 * comparing its unescaped form with `want` when want is not NULL.
 * Returns 1 on a match, 0 otherwise, -1 when the value is unterminated.
 */
static int tf_label_value(const char **pp, const char *end, const char *want)
{
	const char *p = *pp;
	bool eq = want != NULL;
	size_t k = 0;

	for (; p < end && *p != '"'; p++) {
		char c = *p;

		if (c == '\\') {
			if (++p == end)
				return -1;
			c = *p == 'n' ? '\n' : *p;
		}
		/* An input NUL must not match, and walk past, want's end. */
		if (eq && want[k] != '\0' && want[k] == c)
			k++;
		else
			eq = false;
	}
	if (p == end)
		return -1;
	*pp = p + 1;
	return eq && want[k] == '\0';
}

/*
 * Parse "{a="x",b="y"}" at *pp. Returns the number of labels and sets
 * *hit when q's label=value is among them, or -1 when malformed.
 */
static int tf_labels(const char **pp, const char *end, const struct tf_query *q,
		     bool *hit)
{
	const char *p = *pp + 1;
	int n = 0;

	for (;;) {
		const char *name;
		bool want;
		int r;

		p = skip_blank(p, end);
		if (p < end && *p == '}')
			break;
		name = p;
		while (p < end && is_name_char((unsigned char)*p, false))
			p++;
		if (p == name)
			return -1;
		want = q->label != NULL &&
		       strlen(q->label) == (size_t)(p - name) &&
		       memcmp(name, q->label, (size_t)(p - name)) == 0;
		p = skip_blank(p, end);
		if (p >= end || *p++ != '=')
			return -1;
		p = skip_blank(p, end);
		if (p >= end || *p++ != '"')
			return -1;
		r = tf_label_value(&p, end, want ? q->value : NULL);
		if (r < 0)
			return -1;
		*hit = *hit || r == 1;
		n++;
		p = skip_blank(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			return -1;
	}
	*pp = p + 1;
	return n;
}

/* A sample value: a token strtod reads completely (NaN, +Inf, ...). */
static bool tf_number(const char *p, const char *end, double *out)
{
	char tok[64], *e;
	size_t n = 0;

	p = skip_blank(p, end);
	while (p + n < end && p[n] != ' ' && p[n] != '\t' && p[n] != '\r')
		n++;
	if (n == 0 || n >= sizeof(tok))
		return false;
	memcpy(tok, p, n);
	tok[n] = '\0';
	errno = 0;
	*out = strtod(tok, &e);
	return *e == '\0' && errno != ERANGE;
}

/* One line [p, end): true and *out when it is the sample q asks for. */
static bool tf_line(const char *p, const char *end, const struct tf_query *q,
		    double *out)
{
	size_t nlen = strlen(q->name);
	const char *after;
	bool hit = false;
	int nlabels = 0;

	p = skip_blank(p, end);
	if (p < end && *p == '#')
		return false;
	if ((size_t)(end - p) < nlen || memcmp(p, q->name, nlen) != 0)
		return false;
	p += nlen;
	if (p < end && is_name_char((unsigned char)*p, true))
		return false;
	after = p;
	p = skip_blank(p, end);
	if (p < end && *p == '{') {
		nlabels = tf_labels(&p, end, q, &hit);
		if (nlabels < 0)
			return false;
		after = p;
		p = skip_blank(p, end);
	}
	if (q->label == NULL ? nlabels != 0 : !hit)
		return false;
	if (p == after)
		return false; /* the value must be set apart by a blank */
	return tf_number(p, end, out);
}

int metrics_textfile_read(const char *path, const char *metric_name,
			  const char *label, const char *value, double *out)
{
	struct tf_query q = { metric_name, label, value };
	char *buf = NULL;
	const char *p, *end;
	size_t len;
	int rc;

	if (path == NULL || metric_name == NULL || out == NULL ||
	    (label != NULL && value == NULL))
		return CORE_EINVAL;
	rc = fs_read_file(path, METRICS_TEXTFILE_MAX, &buf, &len);
	if (rc == CORE_ESYS && errno == ENOENT)
		return CORE_ENOENT;
	if (rc != 0)
		return rc;
	rc = CORE_ENOENT;
	for (p = buf, end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;

		if (tf_line(p, eol, &q, out)) {
			rc = 0;
			break;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	free(buf);
	return rc;
}

/* ------------------------------------------------------------ process */

/* Read a small /proc file (its st_size is 0, so not fs_read_file). */
static int read_proc(const char *path, char *buf, size_t size)
{
	size_t have = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return CORE_ESYS;
	while (have < size - 1) {
		ssize_t n = read(fd, buf + have, size - 1 - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	close(fd);
	return have > 0 ? 0 : CORE_EPARSE;
}

/* The boot time from the "btime" line of /proc/stat, or NaN. */
static double boot_time(void)
{
	FILE *fp = fopen("/proc/stat", "re");
	char *line = NULL;
	size_t cap = 0;
	double t = NAN;

	if (fp == NULL)
		return NAN;
	while (getline(&line, &cap, fp) > 0) {
		char *e;
		unsigned long long v;

		if (strncmp(line, "btime ", 6) != 0)
			continue;
		errno = 0;
		v = strtoull(line + 6, &e, 10);
		if (errno == 0 && e != line + 6)
			t = (double)v;
		break;
	}
	free(line);
	fclose(fp);
	return t;
}

/* The first unlabelled series of f, with the lock held. */
static void proc_set(struct metric *f, double v)
{
	if (f != NULL && f->series != NULL && !isnan(v))
		f->series->value = v;
}

/*
 * Fields of /proc/self/stat after the command name, which may hold
 * spaces and parentheses: field 3 (state) is index 0.
 */
enum {
	STAT_UTIME = 14 - 3,
	STAT_STIME = 15 - 3,
	STAT_STARTTIME = 22 - 3,
	STAT_VSIZE = 23 - 3,
	STAT_NFIELDS = 24 - 3,
};

static int read_stat(unsigned long long *fields, size_t nfields)
{
	char buf[2048], *p, *e;
	int rc = read_proc("/proc/self/stat", buf, sizeof(buf));

	if (rc != 0)
		return rc;
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return CORE_EPARSE;
	p += 2;
	while (*p != ' ' && *p != '\0')
		p++; /* state is a letter */
	fields[0] = 0;
	for (size_t i = 1; i < nfields; i++) {
		errno = 0;
		fields[i] = strtoull(p, &e, 10);
		if (e == p || errno != 0)
			return CORE_EPARSE;
		p = e;
	}
	return 0;
}

static double count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	double n = 0;
	int self;

	if (d == NULL)
		return NAN;
	self = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		char *e;
		long fd = strtol(de->d_name, &e, 10);

		if (de->d_name[0] != '.' && *e == '\0' && fd != self)
			n++;
	}
	closedir(d);
	return n;
}

static double resident_bytes(void)
{
	char buf[256], *p, *e;
	unsigned long long pages;
	long page = sysconf(_SC_PAGESIZE);

	if (page <= 0 || read_proc("/proc/self/statm", buf, sizeof(buf)) != 0)
		return NAN;
	p = strchr(buf, ' '); /* skip the total size */
	if (p == NULL)
		return NAN;
	errno = 0;
	pages = strtoull(p, &e, 10);
	if (e == p || errno != 0)
		return NAN;
	return (double)pages * (double)page;
}

void metrics_update_process(struct metrics *m)
{
	unsigned long long st[STAT_NFIELDS];
	double cpu = NAN, vsz = NAN, start = NAN, rss, fds, maxfds = NAN;
	long tck = sysconf(_SC_CLK_TCK);
	struct rlimit rl;

	if (m == NULL || m->proc == NULL)
		return;
	/* Read /proc outside the lock: the renderer need not wait on it. */
	if (tck > 0 && read_stat(st, STAT_NFIELDS) == 0) {
		cpu = (double)(st[STAT_UTIME] + st[STAT_STIME]) / (double)tck;
		vsz = (double)st[STAT_VSIZE];
		start = m->proc->boot_time +
			(double)st[STAT_STARTTIME] / (double)tck;
	}
	rss = resident_bytes();
	fds = count_fds();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		maxfds = rl.rlim_cur == RLIM_INFINITY ? INFINITY
						      : (double)rl.rlim_cur;
	pthread_mutex_lock(&m->lock);
	proc_set(m->proc->cpu, cpu);
	proc_set(m->proc->vsz, vsz);
	proc_set(m->proc->start, start);
	proc_set(m->proc->rss, rss);
	proc_set(m->proc->fds, fds);
	proc_set(m->proc->maxfds, maxfds);
	pthread_mutex_unlock(&m->lock);
}

int metrics_add_process(struct metrics *m)
{
	struct proc_metrics *p;

	if (m == NULL)
		return CORE_EINVAL;
	if (m->proc != NULL)
		return 0;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return CORE_ENOMEM;
#define PROC_FAMILY(field, name, help, type)                                   \
	do {                                                                   \
		p->field = metrics_family(m, name, help, type, NULL, NULL, 0); \
		if (p->field == NULL)                                          \
			goto fail;                                             \
	} while (0)
	PROC_FAMILY(cpu, "process_cpu_seconds_total",
		    "Total user and system CPU time spent in seconds.",
		    METRIC_COUNTER);
	PROC_FAMILY(rss, "process_resident_memory_bytes",
		    "Resident memory size in bytes.", METRIC_GAUGE);
	PROC_FAMILY(vsz, "process_virtual_memory_bytes",
		    "Virtual memory size in bytes.", METRIC_GAUGE);
	PROC_FAMILY(fds, "process_open_fds", "Number of open file descriptors.",
		    METRIC_GAUGE);
	PROC_FAMILY(maxfds, "process_max_fds",
		    "Maximum number of open file descriptors.", METRIC_GAUGE);
	PROC_FAMILY(start, "process_start_time_seconds",
		    "Start time of the process since unix epoch in seconds.",
		    METRIC_GAUGE);
#undef PROC_FAMILY
	p->boot_time = boot_time();
	m->proc = p;
	metrics_update_process(m);
	return 0;
fail:
	free(p);
	/* Families already registered stay: the registry owns them. */
	return CORE_EEXIST;
}
