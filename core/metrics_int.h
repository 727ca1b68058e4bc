/*
 * Core-internal: the registry's structures, shared by the registry
 * (metrics.c), the text format (metrics_render.c) and the process
 * collector (metrics_proc.c). Every field is guarded by the registry's
 * lock (struct metrics.lock).
 */
#ifndef CORE_METRICS_INT_H
#define CORE_METRICS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"

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

/* Format a sample value as the text format wants it (+Inf, NaN, ...). */
void metrics__fmt_num(char *buf, size_t size, double v);
/* May c be in a metric or label name (colon: a metric name)? */
bool metrics__is_name_char(int c, bool colon);

#endif
