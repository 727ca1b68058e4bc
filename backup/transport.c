/* Transport dispatch, shared helpers and the object-name rules. */
#include "transport.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "buf.h"
#include "core.h"
#include "banned.h"

int transport_open(const struct backup_destination *d,
		   const struct secrets *sec, struct transport **out, char *err,
		   size_t errsize)
{
	*out = NULL;
	switch (d->kind) {
	case DEST_FILE:
		return transport_file_open(d, out, err, errsize);
	case DEST_SFTP:
		return transport_sftp_open(d, sec, out, err, errsize);
	case DEST_S3:
		return transport_s3_open(d, sec, out, err, errsize);
	}
	snprintf(err, errsize, "destination '%s': unknown kind", d->name);
	return CORE_EINVAL;
}

struct transport *transport_new(const struct transport_ops *ops,
				const char *kind_name, const char *name,
				size_t impl_size)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ops = ops;
	t->kind_name = kind_name;
	t->name = strdup(name);
	t->impl = calloc(1, impl_size);
	if (t->name == NULL || t->impl == NULL) {
		free(t->name);
		free(t->impl);
		free(t);
		return NULL;
	}
	return t;
}

void transport_free(struct transport *t)
{
	if (t == NULL)
		return;
	t->ops->release(t);
	free(t->impl);
	free(t->name);
	free(t);
}

int transport_fail(struct transport *t, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return rc;
}

/* CORE_EINVAL (with t->err) for a name transport_name_ok refuses. */
static int name_check(struct transport *t, const char *name)
{
	if (!transport_name_ok(name))
		return transport_fail(t, CORE_EINVAL, "bad object name '%s'",
				      name);
	return 0;
}

int transport_put(struct transport *t, const char *local, const char *name,
		  const struct transport_put_info *info)
{
	t->err[0] = '\0';
	if (name_check(t, name) != 0)
		return CORE_EINVAL;
	return t->ops->put(t, local, name, info);
}

int transport_stat(struct transport *t, const char *name,
		   struct transport_stat *st)
{
	t->err[0] = '\0';
	memset(st, 0, sizeof(*st));
	if (name_check(t, name) != 0)
		return CORE_EINVAL;
	return t->ops->stat(t, name, st);
}

int transport_get(struct transport *t, const char *name, const char *local)
{
	t->err[0] = '\0';
	if (name_check(t, name) != 0)
		return CORE_EINVAL;
	return t->ops->get(t, name, local);
}

int transport_rename(struct transport *t, const char *from, const char *to)
{
	t->err[0] = '\0';
	if (name_check(t, from) != 0 || name_check(t, to) != 0)
		return CORE_EINVAL;
	return t->ops->rename(t, from, to);
}

int transport_list(struct transport *t, struct transport_list *out)
{
	t->err[0] = '\0';
	return t->ops->list(t, out);
}

int transport_del(struct transport *t, const char *name)
{
	t->err[0] = '\0';
	if (name_check(t, name) != 0)
		return CORE_EINVAL;
	return t->ops->del(t, name);
}

const char *transport_errmsg(const struct transport *t)
{
	return t->err;
}

int transport_list_add(struct transport_list *l, const char *name,
		       size_t namelen, uint64_t size)
{
	char *copy;

	if (BUF_GROW(l->v, l->cap, l->n + 1) != 0)
		return CORE_ENOMEM;
	copy = strndup(name, namelen);
	if (copy == NULL)
		return CORE_ENOMEM;
	l->v[l->n].name = copy;
	l->v[l->n].size = size;
	l->n++;
	return 0;
}

void transport_list_release(struct transport_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* qsort order of transport_list_sort: by name, bytewise. */
static int entry_cmp(const void *a, const void *b)
{
	const struct transport_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

void transport_list_sort(struct transport_list *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), entry_cmp);
}

bool transport_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 1024 || name[0] == '/' || name[n - 1] == '/')
		return false;
	for (const char *p = name; *p != '\0'; p++) {
		char c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '~' || c == '/' || c == '-'))
			return false;
	}
	/* No empty, "." or ".." path segments. */
	for (const char *s = name; s != NULL;) {
		const char *e = strchr(s, '/');
		size_t len = e != NULL ? (size_t)(e - s) : strlen(s);

		if (len == 0 || (len == 1 && s[0] == '.') ||
		    (len == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s = e != NULL ? e + 1 : NULL;
	}
	return true;
}

long transport_env_long(const char *var, long def)
{
	const char *v = getenv(var);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return def;
	n = strtol(v, &end, 10);
	if (*end != '\0' || n < 0)
		return def;
	return n;
}
