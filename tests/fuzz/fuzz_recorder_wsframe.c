/*
 * libFuzzer harness for the WebSocket wire format (wsframe.c), the
 * first parser every exchange byte meets. Input byte 0 picks the part:
 * even, the server's upgrade answer (any outcome is fine, but a head it
 * accepts must lie inside the input and end in a blank line); odd, a
 * stream of frames walked as wsconn.c walks it (headers never read past
 * the input, lengths consistent), and each payload written back as a
 * client frame, which must read back as the same frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wsframe.h"
#include "banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The Accept for the key "dGhlIHNhbXBsZSBub25jZQ==" (RFC 6455 §1.3). */
static const char accept_rfc[] = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

static void check_answer(const uint8_t *p, size_t n)
{
	char why[128];
	long head = wsf_check_response((const char *)p, n, 8192, accept_rfc,
				       why, sizeof(why));

	if (head > 0 && ((size_t)head > n || head < 4 ||
			 memcmp(p + head - 4, "\r\n\r\n", 4) != 0))
		abort();
	if (head < 0 && strlen(why) >= sizeof(why))
		abort();
}

static void check_roundtrip(int opcode, const uint8_t *p, size_t len)
{
	static unsigned char out[WSF_HDR_MAX + 70000];
	static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	struct wsf_frame f;
	const char *why = NULL;
	size_t n;

	if (len > 70000)
		return;
	n = wsf_build(out, opcode, p, len, mask);
	out[1] &= 0x7f; /* read it as a server frame: no mask bit */
	if (wsf_parse(out, n, &f, &why) != 1 || f.opcode != opcode || !f.fin ||
	    f.len != len || f.hdrlen + 4 + len != n)
		abort();
	wsf_mask(out + f.hdrlen + 4, len, mask);
	if (len > 0 && memcmp(out + f.hdrlen + 4, p, len) != 0)
		abort();
}

static void walk_frames(const uint8_t *p, size_t n)
{
	size_t off = 0;

	for (;;) {
		struct wsf_frame f;
		const char *why = NULL;
		int k = wsf_parse(p + off, n - off, &f, &why);

		if (k < 0) {
			if (why == NULL)
				abort();
			return;
		}
		if (k == 0 || f.hdrlen > n - off || f.hdrlen > WSF_HDR_MAX ||
		    f.hdrlen < 2)
			return;
		if (f.len > n - off - f.hdrlen)
			return; /* the rest of the frame is not here */
		if ((f.opcode & 8) && (f.len > 125 || !f.fin))
			abort();
		check_roundtrip(f.opcode, p + off + f.hdrlen, (size_t)f.len);
		off += f.hdrlen + (size_t)f.len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		walk_frames(data + 1, size - 1);
	else
		check_answer(data + 1, size - 1);
	return 0;
}
