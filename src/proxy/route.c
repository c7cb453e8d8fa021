/* route.c — where a request goes: Route preprocessing (RFC 3261 §16.4: the
 * strict-router fix and removal of our own loose Route values, which may carry
 * a flow token, RFC 5626 §5.3), then the target (§16.5) under the trust rule:
 * requests from configured SIP Servers and proxies go where Route/Request-URI
 * say; requests from anyone else go only to SIP Servers, so sipproxy is never
 * an open relay. A dialog with a SIP Server follows its node (named in our
 * Record-Route) to the node's current primary. */
#include "proxy/proxy_internal.h"

#include <string.h>

/* A URI names this proxy when its host is one of our listeners' advertised
 * hosts or bound addresses and its port (default 5060/5061) is that
 * listener's. maddr, when present, is what counts (§16.4 last paragraph). */
bool proxy_uri_is_me(const struct proxy *p, const struct sip_uri *u)
{
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return false;
	struct str host = u->maddr.len ? u->maddr : u->host;
	uint16_t port = sip_uri_port(u);
	union tp_sockaddr a;
	bool literal = tp_addr_from_ip(host, port, &a) == 0;
	const struct tp_listener *ls[32];
	size_t n = tp_listeners(p->tp, ls, 32);
	for (size_t i = 0; i < n; i++) {
		const struct tp_listener *l = ls[i];
		if (port != l->port && port != tp_addr_port(&l->local))
			continue;
		if (str_case_eq_cstr(host, l->host))
			return true;
		if (literal && tp_addr_same_ip(&a, &l->local))
			return true;
	}
	return false;
}

/* Ours, or another cluster proxy's (its address, or a cluster host): every
 * proxy of the cluster takes each other's Record-Route as its own, so an
 * in-dialog request reaches its flow through whichever proxy it arrives at. */
static bool uri_is_cluster(const struct proxy *p, const struct sip_uri *u)
{
	return proxy_uri_is_me(p, u) ||
	       (p->routing.is_peer_uri && (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS) &&
		p->routing.is_peer_uri(p->routing.arg, u));
}

/* The flow token in the user part of one of our Record-Route values. */
static bool uri_flow(const struct proxy *p, const struct sip_uri *u, struct proxy_flow *f)
{
	return u->user.len && proxy_flow_decode(p, u->user, f);
}

bool proxy_uri_is_our_rr(const struct proxy *p, const struct sip_uri *u)
{
	struct proxy_flow f;
	return u->lr && uri_is_cluster(p, u) && (!u->user.len || uri_flow(p, u, &f));
}

/* The IP-literal address a URI points at, if it is one (no DNS involved). */
static bool uri_literal_addr(const struct sip_uri *u, union tp_sockaddr *a)
{
	struct str host = u->maddr.len ? u->maddr : u->host;
	return tp_addr_from_ip(host, sip_uri_port(u), a) == 0;
}

void proxy_route_plan(struct proxy *p, const struct sip_msg *req, bool trusted,
		      struct route_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	plan->ruri = &req->ruri;
	plan->ruri_str = req->ruri_str;
	bool have_flow = false;

	/* §16.4: a strict router upstream put a Record-Route value of ours in
	 * the Request-URI; the real target is the last Route value. A
	 * Request-URI that merely names this host (sip:bob@proxy) is not one. */
	const struct sip_addr *last = NULL;
	for (const struct sip_addr *r = req->route; r; r = r->next)
		last = r;
	if (last && proxy_uri_is_our_rr(p, &req->ruri)) {
		plan->strict_fix = true;
		plan->strict_route = last;
		plan->ruri = &last->uri;
		plan->ruri_str = last->uri_str;
		have_flow = uri_flow(p, &req->ruri, &plan->flow);
	}
	/* §16.4: remove the top Route values that are ours (two after a
	 * transport change: we Record-Routed twice). */
	const struct sip_addr *r = req->route;
	while (r && r != plan->strict_route && plan->n_pop < 4 && uri_is_cluster(p, &r->uri)) {
		plan->pop[plan->n_pop++] = r;
		if (!have_flow)
			have_flow = uri_flow(p, &r->uri, &plan->flow);
		if (!plan->node.len)
			sip_param_find(r->uri.params, PROXY_RR_NODE_PARAM, &plan->node);
		r = r->next;
	}
	if (plan->strict_fix && !plan->node.len)
		sip_param_find(req->ruri.params, PROXY_RR_NODE_PARAM, &plan->node);
	plan->next_route = (r == plan->strict_route) ? NULL : r;

	/* RFC 5626 §5.3: the cluster sends an in-dialog request to an endpoint
	 * whose dialog we Record-Routed with its flow: down that flow. From an
	 * endpoint the token only tells us the request leaves its flow. */
	if (have_flow && trusted) {
		plan->to_flow = true;
		return;
	}
	if (!plan->next_route && proxy_uri_is_me(p, plan->ruri)) {
		/* Addressed to the proxy itself: the cluster serves it. */
		plan->for_me = true;
		plan->to_server = true;
		return;
	}
	const struct sip_uri *hop = proxy_route_next_hop(plan);
	if (hop->scheme != SIP_URI_SIP && hop->scheme != SIP_URI_SIPS) {
		plan->to_server = true; /* tel: and friends are the SIP Server's */
		return;
	}
	if (trusted)
		return;
	/* Untrusted: the next hop must be a SIP Server, named by IP literal.
	 * Anything else (hostnames, other hosts, maddr tricks, escapes) is
	 * sent to the cluster's SIP Server instead of where it asked to go.
	 * Either way it goes through the cluster's pick: an endpoint in a
	 * dialog with a SIP Server (our Record-Route named its node, or the
	 * request names one of its members) reaches the node's current
	 * primary, whichever member the dialog began with. (The cluster's own
	 * requests go where they say: a node named is their own side.) */
	union tp_sockaddr a;
	plan->to_server = true;
	if (uri_literal_addr(hop, &a) && p->routing.is_server(p->routing.arg, &a)) {
		plan->has_hop = true;
		plan->hop = a;
		return;
	}
	/* user@served-domain with no Route left is for the cluster: normal. */
	plan->relay_refused =
	    plan->next_route || !p->location.serves || !p->location.serves(p->location.arg, hop);
}

const struct sip_uri *proxy_route_next_hop(const struct route_plan *plan)
{
	return plan->next_route ? &plan->next_route->uri : plan->ruri;
}
