/*
 * RFC 6455 framing and the opening handshake's text, for the client
 * side (wsframe.h).
 */
#include "wsframe.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "banned.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

int wsf_parse(const unsigned char *buf, size_t n, struct wsf_frame *f,
	      const char **why)
{
	size_t need = 2;
	uint64_t len;

	if (n < 2)
		return 0;
	f->fin = (buf[0] & 0x80) != 0;
	f->opcode = buf[0] & 0x0f;
	len = buf[1] & 0x7f;
	if (buf[0] & 0x70) {
		*why = "reserved bits set";
		return -1;
	}
	if (buf[1] & 0x80) {
		*why = "masked frame from the server";
		return -1;
	}
	switch (f->opcode) {
	case WSF_CONT:
	case WSF_TEXT:
	case WSF_BINARY:
		break;
	case WSF_CLOSE:
	case WSF_PING:
	case WSF_PONG:
		if (!f->fin || len > 125) {
			*why = "bad control frame";
			return -1;
		}
		break;
	default:
		*why = "unknown opcode";
		return -1;
	}
	if (len == 126)
		need = 4;
	else if (len == 127)
		need = 10;
	if (n < need)
		return 0;
	if (len == 126) {
		len = (uint64_t)buf[2] << 8 | buf[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | buf[i];
		if (len >> 63) {
			*why = "frame length out of range";
			return -1;
		}
	}
	f->len = len;
	f->hdrlen = need;
	return 1;
}

void wsf_mask(unsigned char *p, size_t len, const unsigned char mask[4])
{
	for (size_t i = 0; i < len; i++)
		p[i] ^= mask[i & 3];
}

size_t wsf_build(unsigned char *out, int opcode, const void *payload,
		 size_t len, const unsigned char mask[4])
{
	size_t h = 0;

	out[h++] = (unsigned char)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		out[h++] = (unsigned char)(0x80 | len);
	} else if (len <= 0xffff) {
		out[h++] = 0x80 | 126;
		out[h++] = (unsigned char)(len >> 8);
		out[h++] = (unsigned char)len;
	} else {
		out[h++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			out[h++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	memcpy(out + h, mask, 4);
	h += 4;
	if (len > 0)
		memcpy(out + h, payload, len);
	wsf_mask(out + h, len, mask);
	return h + len;
}

int wsf_key(const unsigned char rnd[16], char *key, char *accept)
{
	char cat[WSF_KEY_LEN + sizeof(WS_GUID)];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_EncodeBlock((unsigned char *)key, rnd, 16);
	memcpy(cat, key, WSF_KEY_LEN);
	memcpy(cat + WSF_KEY_LEN, WS_GUID, sizeof(WS_GUID));
	if (EVP_Digest(cat, WSF_KEY_LEN + sizeof(WS_GUID) - 1, md, &mdlen,
		       EVP_sha1(), NULL) != 1 ||
	    mdlen != 20)
		return -1;
	EVP_EncodeBlock((unsigned char *)accept, md, 20);
	return 0;
}

size_t wsf_request(char *out, size_t n, const char *host, int port, int tls,
		   const char *path, const char *key)
{
	char hostport[300];
	int w;

	if (port == (tls ? 443 : 80))
		w = snprintf(hostport, sizeof(hostport), "%s", host);
	else if (strchr(host, ':') != NULL) /* an IPv6 literal */
		w = snprintf(hostport, sizeof(hostport), "[%s]:%d", host, port);
	else
		w = snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
	if (w < 0 || (size_t)w >= sizeof(hostport))
		return 0;
	w = snprintf(out, n,
		     "GET %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "Upgrade: websocket\r\n"
		     "Connection: Upgrade\r\n"
		     "Sec-WebSocket-Key: %s\r\n"
		     "Sec-WebSocket-Version: 13\r\n"
		     "\r\n",
		     path, hostport, key);
	if (w < 0 || (size_t)w >= n)
		return 0;
	return (size_t)w;
}

/* The end of the head ("\r\n\r\n") within buf, or NULL. */
static const char *head_end(const char *buf, size_t n)
{
	for (size_t i = 3; i < n; i++)
		if (buf[i] == '\n' && buf[i - 1] == '\r' &&
		    buf[i - 2] == '\n' && buf[i - 3] == '\r')
			return buf + i + 1;
	return NULL;
}

/* Does the comma-separated header value contain `token` (any case)? */
static int has_token(const char *v, size_t len, const char *token)
{
	size_t tl = strlen(token), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, token, tl) == 0)
			return 1;
	}
	return 0;
}

long wsf_check_response(const char *buf, size_t n, size_t max_head,
			const char *accept, char *why, size_t whylen)
{
	const char *end = head_end(buf, n), *p, *eol;
	int upgrade = 0, connection = 0, acc = 0;

	if (end == NULL) {
		if (n >= max_head) {
			snprintf(why, whylen, "answer head over %zu bytes",
				 max_head);
			return -1;
		}
		return 0;
	}
	if ((size_t)(end - buf) < 12 || memcmp(buf, "HTTP/1.1 ", 9) != 0) {
		snprintf(why, whylen, "not an HTTP/1.1 answer");
		return -1;
	}
	if (memcmp(buf + 9, "101", 3) != 0) {
		eol = memchr(buf, '\r', (size_t)(end - buf));
		snprintf(why, whylen, "upgrade refused: %.*s",
			 (int)((eol ? eol : end) - buf > 80
				       ? 80
				       : (eol ? eol : end) - buf),
			 buf);
		return -1;
	}
	for (p = (const char *)memchr(buf, '\n', (size_t)(end - buf)) + 1;
	     p < end - 2; p = eol + 2) {
		const char *colon, *v;
		size_t vlen;

		eol = memchr(p, '\r', (size_t)(end - p));
		if (eol == NULL || eol[1] != '\n')
			break;
		colon = memchr(p, ':', (size_t)(eol - p));
		if (colon == NULL)
			continue;
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		vlen = (size_t)(eol - v);
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
#define IS(name)                                    \
	((size_t)(colon - p) == sizeof(name) - 1 && \
	 strncasecmp(p, name, sizeof(name) - 1) == 0)
		if (IS("Upgrade"))
			upgrade = has_token(v, vlen, "websocket");
		else if (IS("Connection"))
			connection = has_token(v, vlen, "upgrade");
		else if (IS("Sec-WebSocket-Accept"))
			acc = vlen == WSF_ACCEPT_LEN &&
			      memcmp(v, accept, WSF_ACCEPT_LEN) == 0;
		else if (IS("Sec-WebSocket-Extensions") && vlen > 0) {
			snprintf(why, whylen, "unasked extension");
			return -1;
		}
#undef IS
	}
	if (!upgrade || !connection || !acc) {
		snprintf(why, whylen, "bad upgrade answer (%s)",
			 !upgrade      ? "Upgrade"
			 : !connection ? "Connection"
				       : "Sec-WebSocket-Accept");
		return -1;
	}
	return (long)(end - buf);
}
