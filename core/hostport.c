/* The host:port rule (see hostport.h). */
#include "hostport.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "core.h"
#include "banned.h"

/* A DNS name: labels of [A-Za-z0-9-] joined by dots, at most 253 bytes. */
static bool hostname_ok(const char *h, size_t len)
{
	size_t label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = h[i];

		if (ch == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '-') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return true;
}

/* A port 1..65535 in decimal; -1 when malformed (or 0). */
static int port_parse(const char *s, size_t len)
{
	long p = 0;

	if (len == 0 || len > 5 || s[0] == '0')
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (s[i] - '0');
	}
	return p >= 1 && p <= 65535 ? (int)p : -1;
}

int hostport_parse(const char *s, size_t len, int dflt, char *host,
		   size_t hostsz, const char **why)
{
	const char *end = s + len, *h = s, *hend, *colon;
	unsigned char addr[16];
	bool v6 = len > 0 && s[0] == '[';
	int port;

	*why = "an IPv6 address goes in [brackets]";
	if (v6) {
		const char *rb = memchr(s, ']', len);

		if (rb == NULL || (rb + 1 < end && rb[1] != ':'))
			return CORE_EINVAL;
		h = s + 1;
		hend = rb;
		colon = rb + 1 < end ? rb + 1 : NULL;
	} else {
		colon = memrchr(s, ':', len);
		if (colon != NULL && memchr(s, ':', (size_t)(colon - s)))
			return CORE_EINVAL;
		hend = colon != NULL ? colon : end;
	}
	*why = "the host is missing or too long";
	if (hend == h || (size_t)(hend - h) >= hostsz)
		return CORE_EINVAL;
	memcpy(host, h, (size_t)(hend - h));
	host[hend - h] = '\0';
	*why = "the host is not an address or a host name";
	if (v6 ? inet_pton(AF_INET6, host, addr) != 1
	       : !hostname_ok(host, strlen(host)))
		return CORE_EINVAL;
	*why = colon == NULL ? "the port is missing"
			     : "the port must be 1..65535";
	if (colon == NULL)
		return dflt > 0 ? dflt : CORE_EINVAL;
	port = port_parse(colon + 1, (size_t)(end - colon - 1));
	return port > 0 ? port : CORE_EINVAL;
}
