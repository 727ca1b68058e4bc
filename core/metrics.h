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
 * Register a family. `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*. `labels`
 * is a NULL-terminated list of at most 16 distinct label names (NULL for
 * none), each [a-zA-Z_][a-zA-Z0-9_]* not starting with "__" ("le" is
 * reserved on histograms). `buckets` (histograms only) are at most 256
 * finite upper bounds in strictly increasing order, without +Inf.
 * Strings are copied; `help` may be NULL. Registering an existing name
 * returns the existing family if type, labels and buckets match (its
 * first help text stays), else NULL; so does a name that would clash
 * with a histogram's _bucket, _sum or _count series. Returns NULL also
 * on allocation failure or an invalid name, label or bucket list.
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
 * metrics_free or metric_series_remove: callers look a series up once
 * and cache the pointer, so updates never allocate. NULL on allocation
 * failure, when `f` is NULL, or when a value is NULL, longer than 1024
 * bytes or not valid UTF-8. A family without labels has its one series
 * from registration, so it renders as 0 before its first update.
 */
struct metric_series *metric_series(struct metric *f,
				    const char *const *values);
/*
 * Drop a series (a pair removed on reload); its pointer becomes invalid,
 * so no other thread may still be updating it. No-op when absent.
 */
void metric_series_remove(struct metric *f, const char *const *values);

/*
 * Updates take the registry's mutex and never allocate. Each is a no-op
 * on a NULL series or a series of the wrong type.
 * Counters: add a non-negative amount (negative or NaN is ignored).
 * Gauges: add any amount.
 */
void metric_add(struct metric_series *s, double v);
void metric_inc(struct metric_series *s);
/* Gauges only. */
void metric_set(struct metric_series *s, double v);
/* Histograms only: count v in the first bucket with v <= bound. */
void metric_observe(struct metric_series *s, double v);
/*
 * Current value of a counter or gauge (tests, textfile carry-over); for a
 * histogram its sample count. NaN for NULL.
 */
double metric_value(const struct metric_series *s);

/*
 * Render every family in registration order as Prometheus text 0.0.4:
 * HELP (skipped when empty) and TYPE once per family, series in creation
 * order, cumulative histogram buckets ending in le="+Inf" equal to
 * _count, then _sum and _count, a final newline, never a timestamp. A
 * labelled family with no series yet is left out. Values print as Go's
 * ParseFloat reads them: NaN, +Inf, -Inf, integers below 1e19 in full
 * (12345678, not 1.2345678e+07), others in the shortest %g form that
 * reads back exactly. Needs the "C" numeric locale.
 * On success *out is a NUL-terminated buffer the caller frees, *len its
 * length. Returns 0 or CORE_ENOMEM (out-params cleared).
 */
int metrics_render(struct metrics *m, char **out, size_t *len);

/*
 * Render and write <dir>/<name> atomically (fs_write_atomic, mode 0644)
 * for node_exporter's textfile collector. `name` must be a plain file
 * name (no '/', not hidden) ending in ".prom", else CORE_EINVAL. Returns
 * 0 or a CORE_E* code from rendering or writing.
 */
int metrics_write_textfile(struct metrics *m, const char *dir,
			   const char *name);

/*
 * Read the value of the first sample of `metric_name` whose labels
 * include label=value (or the unlabelled sample when label is NULL)
 * from an existing textfile, so a batch job can carry values such as
 * last_success forward across failed runs. Comments, other metrics and
 * malformed lines are skipped. Returns 0 and *out, CORE_ENOENT when the
 * file or sample is missing, CORE_ETOOBIG for a file above 4 MiB, or
 * another CORE_E* code when the file cannot be read.
 */
int metrics_textfile_read(const char *path, const char *metric_name,
			  const char *label, const char *value, double *out);

/*
 * Register the standard process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, process_virtual_memory_bytes,
 * process_open_fds, process_max_fds, process_start_time_seconds) and
 * take a first reading. Idempotent. Returns 0, CORE_EINVAL for a NULL
 * registry, CORE_ENOMEM, or CORE_EEXIST when one of those names is
 * registered differently (or its registration ran out of memory).
 */
int metrics_add_process(struct metrics *m);

/*
 * Refresh the process metrics from /proc/self (stat, statm, fd) and
 * getrlimit(RLIMIT_NOFILE); call it before each render. A value that
 * cannot be read keeps its old value. No-op before metrics_add_process.
 */
void metrics_update_process(struct metrics *m);

#endif
