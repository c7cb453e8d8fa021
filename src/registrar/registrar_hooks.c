/* registrar_hooks.c — plugs the registrar into the proxy core's location hooks
 * (struct proxy_location): lookups become proxy targets carrying the binding's
 * flow, and a REGISTER's 2xx is handed to registrar_on_2xx with the name of
 * the SIP Server node that answered it. */
#include "registrar/registrar_hooks.h"

#include <string.h>

#include "util/arena.h"

/* Reach the endpoint through its flow (where its REGISTER came from, down
 * its own connection) when the Contact cannot be trusted to be reachable: a
 * stream (the endpoint accepts no connections: RFC 5626 §5.3), or a Contact
 * whose address is not the one the REGISTER came from (NAT). Otherwise the
 * Contact itself is the target (RFC 3261 §16.5). */
static bool registrar_use_flow(const struct registrar_target *t)
{
	if (t->source.sa.sa_family == AF_UNSPEC)
		return false;
	if (tp_proto_is_stream(t->proto))
		return true;
	struct sip_uri u;
	union tp_sockaddr a;
	if (sip_uri_parse(t->uri, &u) < 0)
		return true;
	if (u.maddr.len || tp_addr_from_ip(u.host, sip_uri_port(&u), &a) < 0)
		return true;
	return !tp_addr_same_ip(&a, &t->source);
}

static int hook_lookup(void *arg, const struct sip_msg *req, struct proxy_target *out, unsigned max,
		       struct arena *a)
{
	struct registrar_target t[REGISTRAR_MAX_TARGETS];
	if (max > REGISTRAR_MAX_TARGETS)
		max = REGISTRAR_MAX_TARGETS;
	int n = registrar_lookup(arg, req, registrar_now_ms(), t, max, a);
	for (int i = 0; i < n; i++) {
		out[i].uri = t[i].uri;
		out[i].path = t[i].path;
		out[i].q = t[i].q;
		out[i].outbound = t[i].outbound;
		out[i].owner = t[i].owner;
		memset(&out[i].dest, 0, sizeof(out[i].dest));
		if (registrar_use_flow(&t[i])) {
			out[i].dest.proto = t[i].proto;
			out[i].dest.addr = t[i].source;
			out[i].dest.conn_id = t[i].conn_id;
		}
	}
	return n;
}

static void hook_registered(void *arg, const struct sip_msg *req, const struct tp_packet *src,
			    const struct sip_msg *rsp, bool path_trusted, struct str node)
{
	registrar_on_2xx(arg, req, src, rsp, path_trusted, node, registrar_now_ms());
}

static bool hook_serves(void *arg, const struct sip_uri *u)
{
	return registrar_serves(arg, u);
}

void registrar_proxy_hooks(struct registrar *r, struct proxy_location *out)
{
	out->serves = hook_serves;
	out->lookup = hook_lookup;
	out->registered = hook_registered;
	out->arg = r;
}
