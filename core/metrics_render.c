/*
 * The registry rendered as Prometheus text format 0.0.4, and written
 * atomically as a node_exporter textfile.
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
#include "metrics_int.h"
#include "banned.h"

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
	metrics__fmt_num(num, sizeof(num), v);
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
