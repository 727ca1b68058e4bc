/*
 * The one "host:port" rule, for metrics_listen (config and the recorder's
 * listener) and sftp URLs: "host:port" or "[v6]:port", the host a DNS name
 * or an address, the port 1..65535. Port 0 is refused everywhere: a
 * listener on a port the kernel picks cannot be scraped, and nothing can
 * be reached on it.
 */
#ifndef CORE_HOSTPORT_H
#define CORE_HOSTPORT_H

#include <stddef.h>

/*
 * Split the `len` bytes of s into host (NUL-terminated, brackets
 * removed, at most hostsz - 1 bytes: a longer host is refused, not cut)
 * and port. The port may be left out when dflt > 0, which is used then.
 * Returns the port, or CORE_EINVAL with *why set to a static reason.
 */
int hostport_parse(const char *s, size_t len, int dflt, char *host,
		   size_t hostsz, const char **why);

#endif
