/* stateless.c — the ACK for a 2xx (RFC 3261 §13.2.2.4, §16.6): its own
 * transaction end to end, so the proxy forwards it without state, along the
 * Route set like any in-dialog request, with a branch derived from the
 * incoming one so that retransmitted ACKs carry the same branch (§16.11). */
#include "proxy/proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

struct ack_job {
	struct proxy *p;
	struct sip_msg *ack;
	struct tp_packet src; /* buf/len unused */
	struct route_plan plan;
};

static void ack_send(struct ack_job *j, const struct tp_dest *dest)
{
	struct proxy *p = j->p;
	const struct tp_listener *out = tp_listener_for(p->tp, dest->proto, dest->addr.sa.sa_family);
	if (!out) {
		p->stats.dropped++;
		return;
	}
	/* Deterministic branch: hash of the incoming top Via branch. */
	uint32_t h = str_hash(j->ack->via ? j->ack->via->branch : STR_NULL) ^
		     str_hash(j->ack->call_id);
	char branch[48];
	snprintf(branch, sizeof(branch), "z9hG4bK%s.ack%08x", "0000000000000000", h);
	struct sip_edit e;
	size_t len;
	char *buf = NULL;
	if (proxy_edit_request(p, &e, j->ack, &j->src, &j->plan, out, dest->proto, branch, NULL) ==
	    0)
		buf = proxy_edit_serialize(&e, &len);
	if (!buf) {
		p->stats.dropped++;
		return;
	}
	if (proxy_send_stateless(p, dest, buf, len) == 0)
		proxy_count_out_request(p, SIP_METHOD_ACK);
	free(buf);
}

static void ack_job_free(struct ack_job *j)
{
	sip_msg_free(j->ack);
	free(j);
}

static void ack_resolved(void *arg, int err, const struct resolver_result *res)
{
	struct ack_job *j = arg;
	if (!err && res && res->count)
		ack_send(j, &res->dest[0]);
	else
		j->p->stats.dropped++;
	ack_job_free(j);
}

void proxy_on_ack(void *arg, struct sip_msg *ack, const struct tp_packet *pkt)
{
	struct proxy *p = arg;
	struct ack_job *j = calloc(1, sizeof(*j));
	if (!j) {
		sip_msg_free(ack);
		return;
	}
	j->p = p;
	j->ack = ack;
	j->src = *pkt;
	j->src.buf = NULL;
	j->src.len = 0;
	/* §16.3: an ACK is not answered; a bad one is dropped. */
	const char *reason;
	char extra[64];
	if (proxy_validate(p, ack, &reason, extra, sizeof(extra)) != 0) {
		p->stats.dropped++;
		ack_job_free(j);
		return;
	}
	bool trusted = p->routing.is_trusted(p->routing.arg, &pkt->src);
	proxy_route_plan(p, ack, trusted, &j->plan);
	if (j->plan.relay_refused)
		p->stats.relay_refused++;
	if (j->plan.to_server) {
		struct tp_dest d;
		if (p->routing.pick_server(p->routing.arg, ack, &d) == 0)
			ack_send(j, &d);
		else
			p->stats.dropped++;
		ack_job_free(j);
		return;
	}
	/* resolver_lookup calls ack_resolved (which frees j) when it answers at
	 * once; otherwise later. */
	resolver_lookup(p->resolver, proxy_route_next_hop(&j->plan), ack_resolved, j);
}
