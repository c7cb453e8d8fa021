/* txn_respond.c — where a server transaction's responses go, RFC 3261 §18.2.2
 * with RFC 3581 rport: back over the request's stream connection while it is
 * open; otherwise to the top Via's maddr, or the received address (the
 * packet's source) at rport (else the Via port, default 5060/5061). A stream
 * whose connection closed gets a new one to that address (tp_send opens it). */
#include "txn/txn_internal.h"

static uint16_t default_port(enum tp_proto p)
{
	return (p == TP_TLS || p == TP_WSS) ? 5061 : 5060;
}

int txn_response_dest(const struct sip_msg *req, const struct tp_packet *src, struct tp *tp,
		      struct tp_dest *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = src->proto;
	out->addr = src->src;
	const struct sip_via *v = req->via;
	if (tp_proto_is_stream(src->proto) && src->conn_id && tp_conn_alive(tp, src->conn_id)) {
		out->conn_id = src->conn_id;
		return 0;
	}
	if (!v)
		return 0; /* the packet's source is all we know */

	/* §18.2.2: maddr (numeric only; a name would need the resolver). */
	if (str_present(v->maddr) && v->maddr.len) {
		uint16_t port = v->port ? v->port : default_port(src->proto);
		if (tp_addr_from_ip(v->maddr, port, &out->addr) == 0)
			return 0;
	}

	uint16_t port;
	uint32_t rport;
	if (v->has_rport && v->rport.len && str_to_u32(v->rport, 65535, &rport) == 0 && rport)
		port = (uint16_t)rport;
	else if (v->has_rport)
		port = tp_addr_port(&src->src); /* RFC 3581 §4: the source port */
	else
		port = v->port ? v->port : default_port(src->proto);

	/* §18.2.1 puts the source address in "received" whenever it differs from
	 * sent-by, so the source IP is always the right host. A "received" that
	 * arrives in the top Via was not written by us and is ignored: trusting it
	 * would let a request aim our responses anywhere. */
	if (out->addr.sa.sa_family == AF_INET)
		out->addr.in4.sin_port = htons(port);
	else if (out->addr.sa.sa_family == AF_INET6)
		out->addr.in6.sin6_port = htons(port);
	return 0;
}
