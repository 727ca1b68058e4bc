/*
 * A Prometheus registry: families, labelled series and their values.
 * The text format is metrics_render.c, the node_exporter textfile reader
 * metrics_textfile.c, the process_* metrics metrics_proc.c.
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
#include "hash.h"
#include "fsutil.h"
#include "metrics_int.h"
#include "banned.h"

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

bool metrics__is_name_char(int c, bool colon)
{
	return is_name_start(c, colon) || (c >= '0' && c <= '9');
}

/* Metric names allow ':'; label names do not. */
static bool name_ok(const char *s, bool colon)
{
	if (s == NULL || !is_name_start((unsigned char)*s, colon))
		return false;
	for (s++; *s != '\0'; s++)
		if (!metrics__is_name_char((unsigned char)*s, colon))
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
void metrics__fmt_num(char *buf, size_t size, double v)
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
	uint64_t h = HASH_INIT;

	for (size_t i = 0; i < n; i++)
		h = hash_add(hash_add(h, v[i], strlen(v[i])), "\xff", 1);
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
		metrics__fmt_num(f->le[i], sizeof(f->le[i]), buckets[i]);
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
