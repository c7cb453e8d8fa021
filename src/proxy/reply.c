/* reply.c — responses the proxy generates itself: errors from validation
 * (RFC 3261 §16.3), 408/480/500 from response selection (§16.7 step 6), 503
 * while draining, and 400s to malformed requests sent without a transaction
 * (to where txn_response_dest says: never a third host). */
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
	size_t n =
	    sip_build_response(req, status, reason, str_make(tag, 10), extra, buf, sizeof(buf));
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
			   bool trusted, int status, const char *reason)
{
	char tag[16];
	sip_random_token(tag, 10);
	char buf[REPLY_MAX];
	size_t n =
	    sip_build_response(req, status, reason, str_make(tag, 10), STR_NULL, buf, sizeof(buf));
	if (n == 0)
		return;
	struct tp_dest d;
	txn_response_dest(req->via, pkt, trusted, p->tp, &d);
	if (proxy_send_stateless(p, &d, buf, n) == 0) {
		proxy_count_out_response(p, status);
		p->stats.local_replies++;
	}
}
