/* txn_respond.c — where responses go, RFC 3261 §18.2.2 with RFC 3581 rport,
 * under the trust rule: a response to an untrusted request goes back only to
 * where the request came from (its connection, or its source IP), so no Via
 * an endpoint writes can aim the proxy's responses at a third host. */
#include "txn/txn_internal.h"

void txn_response_dest(const struct sip_via *v, const struct tp_packet *src, bool trusted,
		       struct tp *tp, struct tp_dest *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = src->proto;
	out->addr = src->src;
	bool stream = tp_proto_is_stream(src->proto);
	if (stream && src->conn_id && tp && tp_conn_alive(tp, src->conn_id)) {
		out->conn_id = src->conn_id;
		return;
	}
	if (!v)
		return; /* no Via to read a port from: the source itself */

	/* §18.2.2: maddr (multicast), from a configured peer only, numeric only. */
	union tp_sockaddr m;
	if (trusted && str_present(v->maddr) && v->maddr.len &&
	    tp_addr_from_ip(v->maddr, sip_via_port(v), &m) == 0) {
		out->addr = m;
		return;
	}
	/* RFC 3581 §4: rport means "the port I sent from"; on a stream that is
	 * an ephemeral port, so a new connection goes to the sent-by port. */
	uint16_t port = (v->has_rport && !stream) ? tp_addr_port(&src->src) : sip_via_port(v);
	if (out->addr.sa.sa_family == AF_INET)
		out->addr.in4.sin_port = htons(port);
	else if (out->addr.sa.sa_family == AF_INET6)
		out->addr.in6.sin6_port = htons(port);
}
