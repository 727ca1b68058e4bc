/*
 * A small Prometheus metrics registry: counters, gauges and histograms
 * with labels, rendered as text format 0.0.4 for the recorder's /metrics
 * and as a node_exporter textfile (written atomically, no sample
 * timestamps) for rotate and backup. Updates are safe from any thread.
 */
#ifndef CORE_METRICS_H
#define CORE_METRICS_H

#include <stddef.h>

enum metric_type {
	METRIC_COUNTER,
	METRIC_GAUGE,
	METRIC_HISTOGRAM,
};

struct metrics;	      /* a registry */
struct metric;	      /* a family: name, help, type, label names */
struct metric_series; /* one label-value combination of a family */

/* A new empty registry, or NULL on allocation failure. */
struct metrics *metrics_new(void);
/* Free the registry, its families and series. NULL-safe. */
void metrics_free(struct metrics *m);

/*
 * Register a family. `labels` is a NULL-terminated list of label names
 * (NULL for none); `buckets` (histograms only) are the upper bounds in
 * increasing order, without +Inf. Strings are copied. Registering an
 * existing name returns the existing family if type and labels match,
 * else NULL. Returns NULL also on allocation failure or an invalid name.
 * The family is owned by the registry.
 */
struct metric *metrics_family(struct metrics *m, const char *name,
			      const char *help, enum metric_type type,
			      const char *const *labels, const double *buckets,
			      size_t nbuckets);

/*
 * The series for these label values (one per label name, in order; NULL
 * for a family without labels), created at 0 on first use. Values are
 * copied and escaped on output. Owned by the registry, valid until
 * metrics_free or metric_series_remove. NULL on allocation failure.
 */
struct metric_series *metric_series(struct metric *f,
				    const char *const *values);
/* Drop a series (a pair removed on reload). */
void metric_series_remove(struct metric *f, const char *const *values);

/* Counters: add a non-negative amount. Gauges: add any amount. */
void metric_add(struct metric_series *s, double v);
void metric_inc(struct metric_series *s);
/* Gauges only. */
void metric_set(struct metric_series *s, double v);
/* Histograms only. */
void metric_observe(struct metric_series *s, double v);
/* Current value of a counter or gauge (tests, textfile carry-over). */
double metric_value(const struct metric_series *s);

/*
 * Render every family in registration order as Prometheus text 0.0.4:
 * HELP and TYPE once per family, cumulative histogram buckets ending in
 * le="+Inf" equal to _count, then _sum and _count, a final newline.
 * On success *out is a NUL-terminated buffer the caller frees, *len its
 * length. Returns 0 or CORE_ENOMEM.
 */
int metrics_render(struct metrics *m, char **out, size_t *len);

/*
 * Render and write <dir>/<name> atomically (fs_write_atomic, mode 0644)
 * for node_exporter's textfile collector. `name` must end in ".prom".
 */
int metrics_write_textfile(struct metrics *m, const char *dir,
			   const char *name);

/*
 * Read the value of the first sample of `metric_name` whose labels
 * include label=value (or the unlabelled sample when label is NULL)
 * from an existing textfile, so a batch job can carry values such as
 * last_success forward across failed runs. Returns 0 and *out, or
 * CORE_ENOENT when the file or sample is missing.
 */
int metrics_textfile_read(const char *path, const char *metric_name,
			  const char *label, const char *value, double *out);

#endif
