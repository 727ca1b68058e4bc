/*
 * The node_exporter textfile reader: one sample's value by metric name
 * and labels, as rotate and backup read their own last run back.
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
		while (p < end &&
		       metrics__is_name_char((unsigned char)*p, false))
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
	if (p < end && metrics__is_name_char((unsigned char)*p, true))
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
