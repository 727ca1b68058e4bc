/*
 * The value handlers of the config engine (cfg.h): strings, optional
 * strings, integers and reals in a range, booleans and URLs, each
 * reporting a wrong value at its node.
 *
 *   - numbers and booleans must be plain scalars: `10` is a number,
 *     `"10"` is a string and is refused with a hint to drop the quotes;
 *     integers are decimal without leading zeros, reals are finite;
 *   - strings may be plain or quoted, at most CFG_MAX_STR bytes, with no
 *     control characters; optional strings take `null`, `~` or nothing
 *     for "use the default";
 *   - paths (data_dir, textfile_dir, ca_file, ...) may be relative: they
 *     are used as written, relative to the program's working directory.
 */
#include "cfg.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "core.h"
#include "banned.h"

/*
 * Check that v is a usable string: a scalar, not too long, no NUL or
 * control character. Returns its text or NULL after reporting.
 */
const char *want_str(struct ctx *c, const char *what, yaml_node_t *v)
{
	const unsigned char *s;

	if (v->type != YAML_SCALAR_NODE) {
		err_node(c, v, "%s: expected a string, got %s", what, kind(v));
		return NULL;
	}
	if (slen(v) > CFG_MAX_STR) {
		err_node(c, v, "%s: longer than %d bytes", what, CFG_MAX_STR);
		return NULL;
	}
	s = v->data.scalar.value;
	for (size_t i = 0; i < slen(v); i++) {
		if (s[i] < 0x20 || s[i] == 0x7f) {
			err_node(c, v, "%s: contains a control character",
				 what);
			return NULL;
		}
	}
	return sval(v);
}

/* Replace *dst with a copy of s (NULL clears it). */
void set_str(struct ctx *c, char **dst, const char *s)
{
	char *p = NULL;

	if (s != NULL && (p = strdup(s)) == NULL) {
		c->oom = true;
		return;
	}
	free(*dst);
	*dst = p;
}

/* A required, non-empty string. */
void h_str(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const char *s;

	if (v->type == YAML_SCALAR_NODE && (is_null(v) || slen(v) == 0)) {
		err_node(c, v, "%s: must not be empty", k->name);
		return;
	}
	s = want_str(c, k->name, v);
	if (s != NULL)
		set_str(c, FIELD(char *, obj, k->off), s);
}

/* An optional string: null means "the default" and stores NULL. */
void h_optstr(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	const char *s;

	if (is_null(v)) {
		set_str(c, FIELD(char *, obj, k->off), NULL);
		return;
	}
	if (v->type == YAML_SCALAR_NODE && slen(v) == 0) {
		err_node(c, v, "%s: must not be empty (use null)", k->name);
		return;
	}
	s = want_str(c, k->name, v);
	if (s != NULL)
		set_str(c, FIELD(char *, obj, k->off), s);
}

bool all_of(const char *s, const char *set)
{
	return *s != '\0' && s[strspn(s, set)] == '\0';
}

/* Decimal integer text: optional sign, digits, no leading zero. */
static bool int_text(const char *s)
{
	const char *d = (*s == '-' || *s == '+') ? s + 1 : s;

	return all_of(d, "0123456789") && (d[0] != '0' || d[1] == '\0');
}

/*
 * Parse v as a number (an integer when `integer`). Reports and returns
 * -1 on a wrong type; the range is the caller's business.
 */
static int want_num(struct ctx *c, const struct key *k, yaml_node_t *v,
		    bool integer, double *out)
{
	const char *what = integer ? "an integer" : "a number";
	char q[CFG_QUOTE], *end;
	const char *s;
	double d;

	if (v->type != YAML_SCALAR_NODE || is_null(v)) {
		err_node(c, v, "%s: expected %s, got %s", k->name, what,
			 kind(v));
		return -1;
	}
	s = sval(v);
	errno = 0;
	d = strtod(s, &end);
	if (!all_of(s, "0123456789+-.eE") || *end != '\0' || end == s ||
	    errno == ERANGE || !isfinite(d) || (integer && !int_text(s))) {
		err_node(c, v, "%s: expected %s, got '%s'", k->name, what,
			 quote(q, v));
		return -1;
	}
	if (!is_plain(v)) {
		err_node(c, v,
			 "%s: expected %s, got the quoted string '%s' "
			 "(write it without quotes)",
			 k->name, what, quote(q, v));
		return -1;
	}
	*out = d;
	return 0;
}

static bool in_range(const struct key *k, double d)
{
	if (k->flags & K_MIN_EXCL)
		return d > k->min && d <= k->max;
	return d >= k->min && d <= k->max;
}

static void range_error(struct ctx *c, const struct key *k, yaml_node_t *v)
{
	char q[CFG_QUOTE];

	if (k->flags & K_MIN_EXCL)
		err_node(c, v,
			 "%s: must be greater than %.15g and at most %.15g, "
			 "got '%s'",
			 k->name, k->min, k->max, quote(q, v));
	else
		err_node(c, v, "%s: must be between %.15g and %.15g, got '%s'",
			 k->name, k->min, k->max, quote(q, v));
}

void h_int(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	double d;

	if (want_num(c, k, v, true, &d) != 0)
		return;
	if (!in_range(k, d)) {
		range_error(c, k, v);
		return;
	}
	*FIELD(int, obj, k->off) = (int)d;
}

void h_double(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	double d;

	if (want_num(c, k, v, false, &d) != 0)
		return;
	if (!in_range(k, d)) {
		range_error(c, k, v);
		return;
	}
	*FIELD(double, obj, k->off) = d;
}

void h_bool(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };
	char q[CFG_QUOTE];

	for (size_t i = 0; is_plain(v) && i < CORE_ARRAY_LEN(yes); i++) {
		if (strcasecmp(sval(v), yes[i]) == 0) {
			*FIELD(bool, obj, k->off) = true;
			return;
		}
		if (strcasecmp(sval(v), no[i]) == 0) {
			*FIELD(bool, obj, k->off) = false;
			return;
		}
	}
	if (v->type != YAML_SCALAR_NODE || is_null(v))
		err_node(c, v, "%s: expected true or false, got %s", k->name,
			 kind(v));
	else if (!is_plain(v))
		err_node(c, v,
			 "%s: expected true or false, got the quoted string "
			 "'%s' (write it without quotes)",
			 k->name, quote(q, v));
	else
		err_node(c, v, "%s: expected true or false, got '%s'", k->name,
			 quote(q, v));
}

/* Does s start with "<scheme>://" and a host character after it? */
bool url_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);

	return strncasecmp(s, scheme, n) == 0 &&
	       strncmp(s + n, "://", 3) == 0 && s[n + 3] != '\0' &&
	       s[n + 3] != '/';
}

/* Replace *dst with the first len bytes of s. */
void set_strn(struct ctx *c, char **dst, const char *s, size_t len)
{
	char *p;

	if ((p = strndup(s, len)) == NULL) {
		c->oom = true;
		return;
	}
	free(*dst);
	*dst = p;
}

/* A URL with one of two schemes. */
void url_key(struct ctx *c, const struct key *k, yaml_node_t *v, void *obj,
	     const char *s1, const char *s2, unsigned flags)
{
	const char *s;
	char q[CFG_QUOTE];
	size_t len;

	if ((flags & URL_NULLABLE) && is_null(v)) {
		set_str(c, FIELD(char *, obj, k->off), NULL);
		return;
	}
	if ((s = want_str(c, k->name, v)) == NULL)
		return;
	if (!url_scheme(s, s1) && !url_scheme(s, s2)) {
		err_node(c, v, "%s: '%s' must start with %s:// or %s://",
			 k->name, quote(q, v), s1, s2);
		return;
	}
	len = strlen(s);
	while ((flags & URL_TRIM) && len > 1 && s[len - 1] == '/')
		len--;
	set_strn(c, FIELD(char *, obj, k->off), s, len);
}
