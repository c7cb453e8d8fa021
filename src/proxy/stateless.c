/* stateless.c — the ACK for a 2xx (RFC 3261 §13.2.2.4, §16.6): its own
 * transaction end to end, so the proxy forwards it without state, along the
 * Route set like any in-dialog request (down an endpoint's flow when our
 * Record-Route carries one, RFC 5626 §5.3), with a branch derived from the
 * incoming one so that retransmitted ACKs carry the same branch (§16.11). */
#include "proxy/proxy_internal.h"

#include <stdlib.h>

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
	const struct tp_listener *out =
	    tp_listener_for(p->tp, dest->proto, dest->addr.sa.sa_family);
	if (!out) {
		p->stats.dropped++;
		return;
	}
	char branch[96];
	proxy_stateless_branch(j->ack, branch, sizeof(branch));
	struct forward_edit fe = {
	    .req = j->ack,
	    .src = &j->src,
	    .plan = &j->plan,
	    .out = out,
	    .out_proto = dest->proto,
	    .branch = branch,
	};
	struct sip_edit e;
	size_t len;
	char *buf = NULL;
	if (proxy_edit_request(p, &e, &fe) == 0)
		buf = sip_edit_serialize(&e, &len);
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

void proxy_on_ack(void *arg, struct sip_msg *ack, const struct tp_packet *pkt, bool trusted)
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
	proxy_route_plan(p, ack, trusted, &j->plan);
	if (j->plan.relay_refused)
		p->stats.relay_refused++;
	struct tp_dest d;
	if (j->plan.to_flow) {
		/* Another proxy's flow goes through it, as any in-dialog request
		 * (branch.c); its connection ids are not ours. */
		char route[PROXY_FLOW_ROUTE_MAX];
		bool ok;
		if (j->plan.flow.owner != p->self_id) {
			enum proxy_owner_way w =
			    proxy_flow_via_owner(p, &j->plan.flow, j->plan.ruri, &d, route);
			j->plan.push_route = str_cstr(route);
			ok = w == PROXY_OWNER_VIA_PEER || w == PROXY_OWNER_DIRECT;
		} else {
			proxy_flow_dest_for(&j->plan.flow, j->plan.ruri, &d);
			ok = !tp_proto_is_stream(d.proto) || tp_conn_alive(p->tp, d.conn_id);
		}
		if (ok)
			ack_send(j, &d);
		else
			p->stats.dropped++; /* the flow failed: nobody to ACK */
		ack_job_free(j);
		return;
	}
	if (trusted && p->routing.server_request) {
		struct proxy_node_ref from;
		p->routing.server_request(p->routing.arg, pkt, ack, &from);
	}
	if (j->plan.to_server) {
		/* The 2xx's ACK follows the dialog to its node's current primary. */
		struct proxy_pick q = {
		    .req = ack,
		    .node = j->plan.node,
		    .hop = j->plan.has_hop ? &j->plan.hop : NULL,
		};
		if (p->routing.pick_server(p->routing.arg, &q) == 0)
			ack_send(j, &q.out.member);
		else
			p->stats.dropped++;
		ack_job_free(j);
		return;
	}
	/* resolver_lookup calls ack_resolved (which frees j) when it answers at
	 * once; otherwise later. */
	resolver_lookup(p->resolver, proxy_route_next_hop(&j->plan), ack_resolved, j);
}
