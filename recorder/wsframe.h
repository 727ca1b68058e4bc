/*
 * The WebSocket wire format a client needs (RFC 6455), without I/O: the
 * upgrade request and the check of the server's answer, frame headers
 * read from a buffer, and masked frames written into one. wsconn.c does
 * the I/O; this part is pure, so one fuzz harness covers every byte an
 * exchange sends before the recorder's own parsers see it.
 */
#ifndef RECORDER_WSFRAME_H
#define RECORDER_WSFRAME_H

#include <stddef.h>
#include <stdint.h>

/* Opcodes. */
enum {
	WSF_CONT = 0x0,
	WSF_TEXT = 0x1,
	WSF_BINARY = 0x2,
	WSF_CLOSE = 0x8,
	WSF_PING = 0x9,
	WSF_PONG = 0xA,
};

/* The largest frame header: 2 bytes, 8 of length, 4 of mask. */
#define WSF_HDR_MAX 14
/* A Sec-WebSocket-Key and the Accept the server must answer with. */
#define WSF_KEY_LEN    24 /* base64 of 16 bytes */
#define WSF_ACCEPT_LEN 28 /* base64 of a SHA-1 */

struct wsf_frame {
	int fin;
	int opcode;
	uint64_t len;  /* payload bytes */
	size_t hdrlen; /* bytes before the payload */
};

/*
 * Read the frame header at the start of buf (n bytes) from a server.
 * Returns 1 with *f filled, 0 when more bytes are needed for the header,
 * or -1 with *why set for a frame a server must not send: reserved bits
 * (no extension was negotiated), a mask, an unknown opcode, a control
 * frame that is fragmented or longer than 125 bytes, a 64-bit length
 * with its top bit set.
 */
int wsf_parse(const unsigned char *buf, size_t n, struct wsf_frame *f,
	      const char **why);

/*
 * Write a client frame (FIN set, masked with `mask`) of `len` payload
 * bytes into out, which has room for WSF_HDR_MAX + len; returns its
 * length.
 */
size_t wsf_build(unsigned char *out, int opcode, const void *payload,
		 size_t len, const unsigned char mask[4]);

/* Unmask or mask in place: XOR with the 4-byte key from offset 0. */
void wsf_mask(unsigned char *p, size_t len, const unsigned char mask[4]);

/*
 * The base64 Sec-WebSocket-Key for 16 random bytes into key
 * (WSF_KEY_LEN + 1 bytes), and the Accept it calls for into accept
 * (WSF_ACCEPT_LEN + 1). 0, or -1 when the digest failed.
 */
int wsf_key(const unsigned char rnd[16], char *key, char *accept);

/*
 * The upgrade request for `path` on `host` (Host gets ":port" unless it
 * is the scheme's default) into out (size n); its length, or 0 when it
 * does not fit.
 */
size_t wsf_request(char *out, size_t n, const char *host, int port, int tls,
		   const char *path, const char *key);

/*
 * Check a server's answer in buf (n bytes). Returns the length of the
 * head (through the blank line) when it is a valid 101 upgrade carrying
 * `accept`, 0 when the head is not complete yet (and n is under
 * `max_head`), or -1 with a reason written to why (size whylen).
 */
long wsf_check_response(const char *buf, size_t n, size_t max_head,
			const char *accept, char *why, size_t whylen);

#endif
