/* uac.c — requests the proxy originates itself: the OPTIONS that probe a SIP
 * Server member (the cluster's oos-check/oos-force) or another proxy of the
 * cluster (Max-Forwards 0: the peer answers it itself, RFC 3261 §16.3). Each is built with our
 * Via, sent through a non-INVITE client transaction (Timer E retransmits it
 * over UDP) and ends in exactly one callback: the final status, or 0 when no
 * response came within the caller's time (a 408 we would make up ourselves is
 * never an answer) or the transport failed. */
#include "proxy/proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "util/log.h"

struct proxy_uac {
	enum proxy_user_kind kind; /* PROXY_USER_UAC: first, like a branch's */
	struct proxy *p;
	struct txn_client *ct;
	struct timer timeout;
	proxy_uac_fn fn;
	void *arg;
	uint64_t sent_ms;
};

static void uac_end(struct proxy_uac *u, int status)
{
	struct proxy *p = u->p;
	timer_stop(txn_layer_timers(p->txn), &u->timeout);
	if (u->ct) {
		txn_client_set_user(u->ct, NULL);
		txn_client_abandon(u->ct);
		u->ct = NULL;
	}
	uint32_t rtt = (uint32_t)(txn_layer_now(p->txn) - u->sent_ms);
	proxy_uac_fn fn = u->fn;
	void *arg = u->arg;
	free(u);
	fn(arg, status, rtt);
}

static void uac_timeout(struct timer *t)
{
	uac_end(container_of(t, struct proxy_uac, timeout), 0);
}

struct proxy_uac *proxy_uac_options(struct proxy *p, const struct tp_dest *dest,
				    unsigned max_forwards, uint32_t timeout_ms, proxy_uac_fn fn,
				    void *arg)
{
	const struct tp_listener *l = tp_listener_for(p->tp, dest->proto, dest->addr.sa.sa_family);
	if (!l)
		return NULL;
	struct proxy_uac *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->kind = PROXY_USER_UAC;
	u->p = p;
	u->fn = fn;
	u->arg = arg;
	timer_init(&u->timeout);
	char target[INET6_ADDRSTRLEN + 8], branch[64], tag[12], callid[24], rnd[8];
	tp_addr_str(&dest->addr, target, sizeof(target));
	sip_random_token(tag, 10);
	sip_random_token(callid, 20);
	sip_random_token(rnd, 6);
	tag[10] = callid[20] = rnd[6] = '\0';
	snprintf(branch, sizeof(branch), "z9hG4bK.p%s%llx%s", p->branch_prefix,
		 (unsigned long long)++p->branch_seq, rnd);
	const char *tr = dest->proto == TP_TCP ? ";transport=tcp" : "";
	char *buf = malloc(1024);
	int n = buf ? snprintf(buf, 1024,
			       "OPTIONS sip:%s%s SIP/2.0\r\n"
			       "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n"
			       "Max-Forwards: %u\r\n"
			       "From: <sip:%s:%u>;tag=%s\r\n"
			       "To: <sip:%s%s>\r\n"
			       "Call-ID: %s@%s\r\n"
			       "CSeq: 1 OPTIONS\r\n"
			       "User-Agent: sipproxy\r\n"
			       "Accept: application/sdp\r\n"
			       "Content-Length: 0\r\n\r\n",
			       target, tr, tp_proto_name(dest->proto), l->host, l->port, branch,
			       max_forwards, l->host, l->port, tag, target, tr, callid, l->host)
		    : -1;
	if (n <= 0 || n >= 1024) {
		free(buf);
		free(u);
		return NULL;
	}
	u->sent_ms = txn_layer_now(p->txn);
	u->ct =
	    txn_client_send(p->txn, dest, SIP_METHOD_OPTIONS, str_cstr(branch), buf, (size_t)n, u);
	if (!u->ct) {
		free(u);
		return NULL;
	}
	proxy_count_out_request(p, SIP_METHOD_OPTIONS);
	timer_start(txn_layer_timers(p->txn), &u->timeout, timeout_ms, uac_timeout);
	return u;
}

void *proxy_uac_cancel(struct proxy_uac *u)
{
	if (!u)
		return NULL;
	void *arg = u->arg;
	timer_stop(txn_layer_timers(u->p->txn), &u->timeout);
	if (u->ct) {
		txn_client_set_user(u->ct, NULL);
		txn_client_abandon(u->ct);
	}
	free(u);
	return arg;
}

bool proxy_uac_response(struct proxy_uac *u, const struct sip_msg *rsp)
{
	if (rsp->status >= 200)
		uac_end(u, rsp->status);
	return false;
}

void proxy_uac_failed(struct proxy_uac *u)
{
	uac_end(u, 0);
}
