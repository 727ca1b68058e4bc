/*
 * libFuzzer harness for the JSON scanner and the decimal helpers: any
 * input either fails cleanly or yields tokens that stay inside the input
 * and describe a consistent tree; every accessor is exercised on them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "decimal.h"
#include "json.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tokens(const char *buf, size_t len, const struct json_tok *t,
			 size_t n)
{
	char out[64];

	if (n == 0 || t[0].next != n)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint64_t u;
		int64_t v;

		if (t[i].start > t[i].end || t[i].end > len || t[i].next <= i ||
		    t[i].next > n)
			abort();
		switch (t[i].type) {
		case JSON_STRING: {
			int rc = json_unescape(buf, t, i, out, sizeof(out));

			if (rc != 0 && rc != CORE_ETOOBIG)
				abort();
			if (strlen(out) >= sizeof(out))
				abort();
			break;
		}
		case JSON_NUMBER:
			(void)json_u64(buf, t, i, false, &u);
			(void)json_i64(buf, t, i, &v);
			break;
		case JSON_OBJECT:
			(void)json_get(buf, t, i, "a");
			if (t[i].size > 0 &&
			    t[json_child(i)].type != JSON_STRING)
				abort();
			break;
		case JSON_ARRAY:
		case JSON_TRUE:
		case JSON_FALSE:
		case JSON_NULL:
			break;
		default:
			abort();
		}
	}
}

static void check_decimal(const char *buf, size_t len)
{
	const char *comma = memchr(buf, ',', len);
	size_t al, bl;

	if (comma == NULL)
		return;
	al = (size_t)(comma - buf);
	bl = len - al - 1;
	if (!decimal_valid(buf, al) || !decimal_valid(comma + 1, bl))
		return;
	if (decimal_cmp(buf, al, comma + 1, bl) !=
	    -decimal_cmp(comma + 1, bl, buf, al))
		abort();
	if (decimal_cmp(buf, al, buf, al) != 0)
		abort();
	if (decimal_is_zero(buf, al) != (decimal_cmp(buf, al, "0", 1) == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_tok tok[512];
	const char *buf = (const char *)data;
	size_t n;
	int rc;

	rc = json_parse(buf, size, tok, CORE_ARRAY_LEN(tok), &n);
	if (rc == 0)
		check_tokens(buf, size, tok, n);
	else if (rc != CORE_EPARSE && rc != CORE_ETOOBIG)
		abort();
	/* A small token budget must fail cleanly, never overrun. */
	rc = json_parse(buf, size, tok, 3, &n);
	if (rc == 0 && n > 3)
		abort();
	check_decimal(buf, size);
	return 0;
}
