/* reply.c — responses the proxy generates itself: errors from validation
 * (RFC 3261 §16.3), 408/500 from response selection (§16.7 step 6), 503 while
 * draining, and 400s to malformed requests sent without a transaction. */
#include "proxy/proxy_internal.h"

#include "sip/build.h"
#include "util/log.h"

#define REPLY_MAX 8192

void proxy_reply(struct proxy *p, struct txn_server *st, int status, const char *reason,
		 struct str extra)
{
	const struct sip_msg *req = txn_server_request(st);
	char tag[16];
	sip_random_token(tag, 10);
	char buf[REPLY_MAX];
	size_t n = sip_build_response(req, status, reason, str_make(tag, 10), extra, buf,
				      sizeof(buf));
	if (n == 0) {
		/* Our own reply did not fit (huge Via stack): answer without extras. */
		n = sip_build_response(req, status, reason, str_make(tag, 10), STR_NULL, buf,
				       sizeof(buf));
		if (n == 0)
			return;
	}
	if (txn_server_reply(st, status, buf, n) == 0) {
		proxy_count_out_response(p, status);
		p->stats.local_replies++;
	}
}

void proxy_reply_stateless(struct proxy *p, const struct sip_msg *req, const struct tp_packet *pkt,
			   int status, const char *reason)
{
	char tag[16];
	sip_random_token(tag, 10);
	char buf[REPLY_MAX];
	size_t n = sip_build_response(req, status, reason, str_make(tag, 10), STR_NULL, buf,
				      sizeof(buf));
	if (n == 0)
		return;
	/* §18.2.2 for a request we hold no transaction for: back on its
	 * connection, else to its source address, at rport (RFC 3581) or the
	 * sent-by port. */
	struct tp_dest d = {.proto = pkt->proto, .addr = pkt->src, .conn_id = pkt->conn_id};
	if (!tp_proto_is_stream(pkt->proto) && req->via && !req->via->has_rport) {
		uint16_t port = req->via->port ? req->via->port : 5060;
		if (d.addr.sa.sa_family == AF_INET)
			d.addr.in4.sin_port = htons(port);
		else if (d.addr.sa.sa_family == AF_INET6)
			d.addr.in6.sin6_port = htons(port);
	}
	if (proxy_send_stateless(p, &d, buf, n) == 0) {
		proxy_count_out_response(p, status);
		p->stats.local_replies++;
	}
}
