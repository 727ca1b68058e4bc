/*
 * What the recorder's two lws clients (wsconn.c, rest.c) share: how a
 * client connection is started. Both ask resolve.h for a numeric
 * address and connect to it by number, so lws does no DNS on the loop,
 * while the name stays the Host header, the Origin, the SNI and what
 * the certificate must match.
 */
#ifndef RECORDER_LWSCLIENT_H
#define RECORDER_LWSCLIENT_H

#include <libwebsockets.h>

/* Where a client connection goes; the strings are borrowed. */
struct lwsclient_dest {
	const char *ip; /* a numeric address of host */
	int port;
	const char *host;		   /* the name it was resolved from */
	const char *path;		   /* with its leading '/' */
	const struct lws_protocols *proto; /* its entry in the vhost */
};

/*
 * Fill i (zeroed first) for a connection to `to` on the client vhost:
 * HTTP/1.1, callbacks finding `opaque` through lws_get_opaque_user_data,
 * *pwsi following the connection. The caller adds what is its own (TLS
 * and other flags, method, retry policy), then calls
 * lws_client_connect_via_info(), which fires no callback when it fails
 * inside the call.
 */
void lwsclient_info(struct lws_client_connect_info *i, struct lws_context *cx,
		    struct lws_vhost *vhost, const struct lwsclient_dest *to,
		    void *opaque, struct lws **pwsi);

#endif
