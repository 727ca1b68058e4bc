/*
 * A small strict JSON reader for client requests: validates the whole
 * frame and pulls out the envelope fields Gate.io defines (time, id,
 * channel, event, payload), MEXC's and Binance's (method, params, id)
 * and OKX's (op, args of {channel, instId}, a string id). Anything
 * that is not one JSON object is "invalid request body format".
 */
#include "sim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"

#define JSON_DEPTH_MAX 32

struct jp {
	const char *p, *e;
	int depth;
};

static void jws(struct jp *j)
{
	while (j->p < j->e && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' ||
			       *j->p == '\r'))
		j->p++;
}

static int jlit(struct jp *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->e - j->p) < n || memcmp(j->p, lit, n) != 0)
		return -1;
	j->p += n;
	return 0;
}

static int jdigits(struct jp *j)
{
	const char *s = j->p;

	while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
		j->p++;
	return j->p > s ? 0 : -1;
}

/* A number; *is_int tells whether it had no fraction or exponent. */
static int jnumber(struct jp *j, int *is_int)
{
	*is_int = 1;
	if (j->p < j->e && *j->p == '-')
		j->p++;
	if (jdigits(j) < 0)
		return -1;
	if (j->p < j->e && *j->p == '.') {
		j->p++;
		*is_int = 0;
		if (jdigits(j) < 0)
			return -1;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		*is_int = 0;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (jdigits(j) < 0)
			return -1;
	}
	return 0;
}

/*
 * A string, copied unescaped into out when out is non-NULL (\u escapes
 * are kept verbatim; they never occur in pair names). *toolong is set
 * when it did not fit.
 */
static int jstring(struct jp *j, char *out, size_t cap, int *toolong)
{
	size_t n = 0;

	if (j->p >= j->e || *j->p != '"')
		return -1;
	j->p++;
	while (j->p < j->e && *j->p != '"') {
		char c = *j->p++;

		if ((unsigned char)c < 0x20)
			return -1;
		if (c == '\\') {
			if (j->p >= j->e ||
			    strchr("\"\\/bfnrtu", *j->p) == NULL)
				return -1;
			c = *j->p++;
		}
		if (out != NULL && n + 1 < cap)
			out[n++] = c;
		else if (out != NULL)
			*toolong = 1;
	}
	if (j->p >= j->e)
		return -1;
	j->p++;
	if (out != NULL)
		out[n] = '\0';
	return 0;
}

static int jvalue(struct jp *j);

static int jarray(struct jp *j)
{
	j->p++;
	jws(j);
	if (j->p < j->e && *j->p == ']') {
		j->p++;
		return 0;
	}
	for (;;) {
		if (jvalue(j) < 0)
			return -1;
		jws(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->e && *j->p == ']') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int jobject(struct jp *j)
{
	j->p++;
	jws(j);
	if (j->p < j->e && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		jws(j);
		if (jstring(j, NULL, 0, NULL) < 0)
			return -1;
		jws(j);
		if (j->p >= j->e || *j->p++ != ':')
			return -1;
		if (jvalue(j) < 0)
			return -1;
		jws(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->e && *j->p == '}') {
			j->p++;
			return 0;
		}
		return -1;
	}
}

static int jvalue(struct jp *j)
{
	int is_int, rc;

	jws(j);
	if (j->p >= j->e)
		return -1;
	switch (*j->p) {
	case '{':
	case '[':
		if (++j->depth > JSON_DEPTH_MAX)
			return -1;
		rc = *j->p == '{' ? jobject(j) : jarray(j);
		j->depth--;
		return rc;
	case '"':
		return jstring(j, NULL, 0, NULL);
	case 't':
		return jlit(j, "true");
	case 'f':
		return jlit(j, "false");
	case 'n':
		return jlit(j, "null");
	default:
		return jnumber(j, &is_int);
	}
}

static int jint_field(struct jp *j, int64_t *out, int *has)
{
	const char *s = j->p;
	int is_int;
	char tmp[32], *end;
	long long v;

	jws(j);
	s = j->p;
	if (jvalue(j) < 0)
		return -1;
	if (j->p - s >= (long)sizeof(tmp) ||
	    (*s != '-' && (*s < '0' || *s > '9')))
		return 0; /* not an integer: ignored like an unknown field */
	memcpy(tmp, s, (size_t)(j->p - s));
	tmp[j->p - s] = '\0';
	{
		struct jp k = { tmp, tmp + strlen(tmp), 0 };

		if (jnumber(&k, &is_int) < 0 || !is_int)
			return 0;
	}
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*out = v;
	*has = 1;
	return 0;
}

static int jpayload(struct jp *j, struct sim_req *r)
{
	const char *s;

	jws(j);
	s = j->p;
	if (j->p >= j->e || *j->p != '[')
		return jvalue(j) < 0 ? -1 : (r->payload_nonstr = 1, 0);
	if (jvalue(j) < 0)
		return -1;
	r->has_payload = 1;
	r->payload_raw = s;
	r->payload_raw_len = (size_t)(j->p - s);
	/* Second pass over the validated array to collect string items. */
	{
		struct jp k = { s + 1, j->p, 0 };

		for (;;) {
			int toolong = 0;

			jws(&k);
			if (k.p >= k.e || *k.p == ']')
				break;
			if (*k.p != '"' || r->npayload == SIM_PAYLOAD_MAX) {
				r->payload_nonstr = 1;
				if (jvalue(&k) < 0)
					break;
			} else if (jstring(&k, r->payload[r->npayload],
					   sizeof(r->payload[0]),
					   &toolong) == 0) {
				r->payload_nonstr |= toolong;
				r->npayload++;
			}
			jws(&k);
			if (k.p < k.e && *k.p == ',')
				k.p++;
		}
	}
	return 0;
}

/* MEXC "params": an array of strings, kept up to SIM_PARAMS_MAX. */
static int jparams(struct jp *j, struct sim_req *r)
{
	const char *s;

	jws(j);
	s = j->p;
	if (jvalue(j) < 0)
		return -1;
	r->has_params = 1;
	if (*s != '[') {
		r->params_bad = 1;
		return 0;
	}
	{
		struct jp k = { s + 1, j->p, 0 };

		for (;;) {
			int toolong = 0;

			jws(&k);
			if (k.p >= k.e || *k.p == ']')
				break;
			if (*k.p != '"' || r->nparams == SIM_PARAMS_MAX) {
				r->params_bad = 1;
				if (jvalue(&k) < 0)
					break;
			} else if (jstring(&k, r->params[r->nparams],
					   sizeof(r->params[0]),
					   &toolong) == 0) {
				r->params_bad |= toolong;
				r->nparams++;
			}
			jws(&k);
			if (k.p < k.e && *k.p == ',')
				k.p++;
		}
	}
	return 0;
}

/* One OKX arg {"channel":C,"instId":I,...} kept as "C:I". */
static int jarg(struct jp *j, struct sim_req *r)
{
	char key[32], ch[40] = "", inst[40] = "";
	int toolong = 0;

	if (j->p >= j->e || *j->p != '{') {
		r->params_bad = 1;
		return jvalue(j);
	}
	j->p++;
	for (;;) {
		jws(j);
		if (j->p < j->e && *j->p == '}') {
			j->p++;
			break;
		}
		if (jstring(j, key, sizeof(key), &toolong) < 0)
			return -1;
		jws(j);
		if (j->p >= j->e || *j->p++ != ':')
			return -1;
		jws(j);
		if ((strcmp(key, "channel") == 0 ||
		     strcmp(key, "instId") == 0) &&
		    j->p < j->e && *j->p == '"') {
			if (jstring(j, key[0] == 'c' ? ch : inst, sizeof(ch),
				    &toolong) < 0)
				return -1;
		} else if (jvalue(j) < 0) {
			return -1;
		}
		jws(j);
		if (j->p < j->e && *j->p == ',')
			j->p++;
	}
	if (toolong || r->nparams == SIM_PARAMS_MAX) {
		r->params_bad = 1;
		return 0;
	}
	/* toolong was checked above: the pair fits. */
	if (snprintf(r->params[r->nparams], sizeof(r->params[0]), "%s:%s", ch,
		     inst) >= (int)sizeof(r->params[0])) {
		r->params_bad = 1;
		return 0;
	}
	r->nparams++;
	return 0;
}

/* OKX "args": an array of objects, kept as "channel:instId" params. */
static int jargs(struct jp *j, struct sim_req *r)
{
	jws(j);
	r->has_params = 1;
	if (j->p >= j->e || *j->p != '[') {
		r->params_bad = 1;
		return jvalue(j);
	}
	j->p++;
	for (;;) {
		jws(j);
		if (j->p < j->e && *j->p == ']') {
			j->p++;
			return 0;
		}
		if (jarg(j, r) < 0)
			return -1;
		jws(j);
		if (j->p < j->e && *j->p == ',')
			j->p++;
		else if (j->p >= j->e || *j->p != ']')
			return -1;
	}
}

static int jfield(struct jp *j, const char *key, struct sim_req *r)
{
	int toolong = 0;

	if (strcmp(key, "args") == 0)
		return jargs(j, r);
	if (strcmp(key, "id") == 0) {
		jws(j);
		if (j->p < j->e && *j->p == '"') {
			r->has_id_str = 1;
			return jstring(j, r->id_str, sizeof(r->id_str),
				       &toolong);
		}
	}
	if (strcmp(key, "method") == 0 || strcmp(key, "op") == 0) {
		jws(j);
		if (j->p < j->e && *j->p == '"')
			return jstring(j, r->method, sizeof(r->method),
				       &toolong);
		return jvalue(j);
	}
	if (strcmp(key, "params") == 0)
		return jparams(j, r);
	if (strcmp(key, "time") == 0)
		return jint_field(j, &r->time, &r->has_time);
	if (strcmp(key, "id") == 0)
		return jint_field(j, &r->id, &r->has_id);
	if (strcmp(key, "channel") == 0 || strcmp(key, "event") == 0) {
		int ch = key[0] == 'c';

		jws(j);
		if (j->p < j->e && *j->p == '"') {
			if (jstring(j, ch ? r->channel : r->event,
				    ch ? sizeof(r->channel) : sizeof(r->event),
				    &toolong) < 0)
				return -1;
			if (!ch)
				r->has_event = 1;
			return 0;
		}
		return jvalue(j);
	}
	if (strcmp(key, "payload") == 0)
		return jpayload(j, r);
	return jvalue(j);
}

int json_parse_req(const char *s, size_t n, struct sim_req *r)
{
	struct jp j = { s, s + n, 1 };
	char key[64];

	memset(r, 0, sizeof(*r));
	jws(&j);
	if (j.p >= j.e || *j.p != '{')
		return -1;
	j.p++;
	jws(&j);
	if (j.p < j.e && *j.p == '}') {
		j.p++;
		goto tail;
	}
	for (;;) {
		int toolong = 0;

		jws(&j);
		if (jstring(&j, key, sizeof(key), &toolong) < 0)
			return -1;
		jws(&j);
		if (j.p >= j.e || *j.p++ != ':')
			return -1;
		if (jfield(&j, toolong ? "" : key, r) < 0)
			return -1;
		jws(&j);
		if (j.p < j.e && *j.p == ',') {
			j.p++;
			continue;
		}
		if (j.p < j.e && *j.p == '}') {
			j.p++;
			break;
		}
		return -1;
	}
tail:
	jws(&j);
	return j.p == j.e ? 0 : -1;
}
