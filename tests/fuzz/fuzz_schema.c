/*
 * Fuzz harness for the schema row check and file-name split: the first
 * byte picks a dataset, the rest is split on ',' into fields; results
 * are checked against an independent reading of the type rules.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "schema.h"
#include "banned.h"

#define MAX_FIELDS 4100

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct schema_set *set;

static const struct schema *pick(uint8_t b)
{
	char name[32];

	switch (b % 4) {
	case 0:
		return schema_set_find(set, "incremental_book_L2");
	case 1:
		return schema_set_find(set, "book_events");
	case 2:
		snprintf(name, sizeof(name), "book_snapshot_%u", b / 4 + 1u);
		return schema_set_find(set, name);
	default:
		snprintf(name, sizeof(name), "book_snapshot_%u", b * 4u);
		return schema_set_find(set, name);
	}
}

/* What the row check promises for an accepted field, checked again. */
static void verify_field(const struct schema_column *c, const char *f,
			 size_t len)
{
	size_t dots = 0, i = 0;

	if (len == 0) {
		if (!c->nullable)
			abort();
		return;
	}
	if (memchr(f, '\0', len) != NULL)
		abort();
	if (c->type == SCHEMA_BOOL && !(len == 4 && !memcmp(f, "true", 4)) &&
	    !(len == 5 && !memcmp(f, "false", 5)))
		abort();
	if (c->type != SCHEMA_DECIMAL && c->type != SCHEMA_INT &&
	    c->type != SCHEMA_TIME_US)
		return;
	if (f[0] == '-') {
		if (c->type == SCHEMA_TIME_US ||
		    (c->type == SCHEMA_DECIMAL && !c->allow_negative))
			abort();
		i = 1;
	}
	if (i == len || f[i] == '.' || f[len - 1] == '.')
		abort();
	for (; i < len; i++) {
		if (f[i] == '.')
			dots++;
		else if (f[i] < '0' || f[i] > '9')
			abort();
	}
	if (dots > (c->type == SCHEMA_DECIMAL ? 1u : 0u))
		abort();
}

static void fuzz_row(const struct schema *s, const char *p, size_t n)
{
	static const char *f[MAX_FIELDS];
	static size_t l[MAX_FIELDS];
	size_t nf = 0, start = 0;
	char why[160];
	int rc, rc2;

	for (size_t i = 0; i <= n && nf < MAX_FIELDS; i++)
		if (i == n || p[i] == ',') {
			f[nf] = p + start;
			l[nf++] = i - start;
			start = i + 1;
		}
	rc = schema_check_row(s, f, l, nf, why, sizeof(why));
	rc2 = schema_check_row(s, f, l, nf, NULL, 0);
	if (rc != rc2 || (rc != 0 && rc != CORE_ESCHEMA))
		abort();
	if (rc != 0 && why[0] == '\0')
		abort();
	if (rc == 0 && nf != s->ncols)
		abort();
	for (size_t i = 0; rc == 0 && i < nf; i++)
		verify_field(&s->cols[i], f[i], l[i]);
}

static void fuzz_filename(const uint8_t *data, size_t size)
{
	char name[512], sym[256], ds[256], back[600];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	int rc;

	memcpy(name, data, n);
	name[n] = '\0';
	rc = schema_split_filename(name, sym, sizeof(sym), ds, sizeof(ds));
	if (rc != 0) {
		if ((rc != CORE_EPARSE && rc != CORE_ETOOBIG) || sym[0] ||
		    ds[0])
			abort();
		return;
	}
	if (!sym[0] || !ds[0] || strchr(ds, '.') || strchr(name, '/'))
		abort();
	snprintf(back, sizeof(back), "%s.%s.csv", sym, ds);
	if (strcmp(back, name) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct schema *s;

	if (set == NULL) {
		char *err;

		if (schema_set_load(&set, &err) != 0)
			abort();
	}
	fuzz_filename(data, size);
	if (size == 0)
		return 0;
	s = pick(data[0]);
	if (s == NULL)
		return 0;
	fuzz_row(s, (const char *)data + 1, size - 1);
	return 0;
}
