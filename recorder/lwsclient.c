/* Starting an lws client connection by number (lwsclient.h). */
#include "lwsclient.h"

#include <string.h>

#include "banned.h"

void lwsclient_info(struct lws_client_connect_info *i, struct lws_context *cx,
		    struct lws_vhost *vhost, const struct lwsclient_dest *to,
		    void *opaque, struct lws **pwsi)
{
	memset(i, 0, sizeof(*i));
	i->context = cx;
	i->vhost = vhost;
	i->address = to->ip;
	i->port = to->port;
	i->path = to->path;
	i->host = to->host;
	i->origin = to->host;
	i->local_protocol_name = to->proto->name;
	i->alpn = "http/1.1";
	i->opaque_user_data = opaque;
	i->pwsi = pwsi;
}
