/*
 * The strict per-row type check shared by the writer and rotate (ints,
 * decimals, enums, nullability as the schema says), and the split of a
 * data file's name into symbol and dataset.
 */
#include "schema.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "banned.h"

#define DECIMAL_MAX_LEN 64

static bool all_digits(const char *f, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (f[i] < '0' || f[i] > '9')
			return false;
	return true;
}

/* Digits (with an optional '-') that fit int64_t. */
static const char *check_int(const char *f, size_t len, bool neg_ok)
{
	bool neg = len > 0 && f[0] == '-';
	uint64_t v = 0, lim = (uint64_t)INT64_MAX + (neg ? 1 : 0);

	if (neg && !neg_ok)
		return "negative";
	if (neg) {
		f++;
		len--;
	}
	if (!all_digits(f, len))
		return "not an integer";
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned)(f[i] - '0');

		if (v > (lim - d) / 10)
			return "out of range";
		v = v * 10 + d;
	}
	return NULL;
}

static const char *check_decimal(const char *f, size_t len, bool neg_ok)
{
	const char *dot;

	if (len > DECIMAL_MAX_LEN)
		return "decimal too long";
	if (len > 0 && f[0] == '-') {
		if (!neg_ok)
			return "negative";
		f++;
		len--;
	}
	dot = memchr(f, '.', len);
	if (dot == NULL)
		return all_digits(f, len) ? NULL : "not a decimal";
	if (!all_digits(f, (size_t)(dot - f)) ||
	    !all_digits(dot + 1, len - (size_t)(dot - f) - 1))
		return "not a decimal";
	return NULL;
}

static const char *check_enum(const struct schema_column *c, const char *f,
			      size_t len)
{
	for (const char *const *v = c->values; v && *v; v++)
		if (strlen(*v) == len && memcmp(*v, f, len) == 0)
			return NULL;
	return "not an allowed value";
}

static const char *check_field(const struct schema_column *c, const char *f,
			       size_t len)
{
	if (len == 0)
		return c->nullable ? NULL : "empty";
	if (memchr(f, '\0', len) != NULL)
		return "holds a NUL byte";
	switch (c->type) {
	case SCHEMA_STRING:
		return NULL;
	case SCHEMA_INT:
		return check_int(f, len, true);
	case SCHEMA_TIME_US:
		return check_int(f, len, false);
	case SCHEMA_DECIMAL:
		return check_decimal(f, len, c->allow_negative);
	case SCHEMA_BOOL:
		if ((len == 4 && memcmp(f, "true", 4) == 0) ||
		    (len == 5 && memcmp(f, "false", 5) == 0))
			return NULL;
		return "not true or false";
	case SCHEMA_ENUM:
		return check_enum(c, f, len);
	}
	return "unknown type";
}

int schema_check_row(const struct schema *s, const char *const *fields,
		     const size_t *lens, size_t nfields, char *why,
		     size_t whysize)
{
	if (whysize > 0)
		why[0] = '\0';
	if (nfields != s->ncols) {
		if (whysize > 0)
			snprintf(why, whysize, "expected %zu fields, got %zu",
				 s->ncols, nfields);
		return CORE_ESCHEMA;
	}
	for (size_t i = 0; i < nfields; i++) {
		const char *r;

		if (fields[i] == NULL && lens[i] != 0)
			r = "NULL field";
		else
			r = check_field(&s->cols[i], fields[i], lens[i]);
		if (r != NULL) {
			if (whysize > 0)
				snprintf(why, whysize, "field '%s': %s",
					 s->cols[i].name, r);
			return CORE_ESCHEMA;
		}
	}
	return 0;
}

static int copy_part(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return CORE_ETOOBIG;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int schema_split_filename(const char *name, char *symbol, size_t symsize,
			  char *dataset, size_t dssize)
{
	size_t len = strlen(name);
	const char *ext, *dot;
	int rc;

	if (symsize > 0)
		symbol[0] = '\0';
	if (dssize > 0)
		dataset[0] = '\0';
	if (strchr(name, '/') != NULL || len < 4 ||
	    strcmp(name + len - 4, ".csv") != 0)
		return CORE_EPARSE;
	ext = name + len - 4;
	for (dot = ext - 1; dot >= name && *dot != '.'; dot--)
		;
	if (dot <= name || dot + 1 == ext)
		return CORE_EPARSE;
	rc = copy_part(symbol, symsize, name, (size_t)(dot - name));
	if (rc == 0)
		rc = copy_part(dataset, dssize, dot + 1,
			       (size_t)(ext - dot - 1));
	if (rc != 0 && symsize > 0)
		symbol[0] = '\0';
	return rc;
}
