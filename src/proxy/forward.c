/* forward.c — forwarding a request (RFC 3261 §16.6): copy, Request-URI and
 * Route postprocessing (steps 2 and 6, incl. a strict next hop), Max-Forwards
 * (step 3), Record-Route (step 4, two values when the transport or address
 * family changes, RFC 5658, with the endpoint's flow token, RFC 5626 §5.2),
 * Path removed unless an SBC sent it (RFC 3327 §5), our Via with a unique,
 * loop-detectable branch (step 8), Content-Length (step 9); and the sending
 * of one attempt through a client transaction (branch.c decides what a
 * failure means). */
#include "proxy/proxy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "util/log.h"

bool proxy_wants_record_route(const struct proxy *p, const struct sip_msg *req)
{
	if (!p->cfg->record_route)
		return false;
	if (req->to && req->to->tag.len)
		return false; /* in-dialog: the route set is already fixed */
	switch (req->method) {
	case SIP_METHOD_INVITE:
	case SIP_METHOD_SUBSCRIBE:
	case SIP_METHOD_REFER:
	case SIP_METHOD_NOTIFY: return true; /* dialog-creating */
	default: return false;
	}
}

/* One Record-Route value for listener l: its host and port, or the
 * cluster host (record-route-host: a name the data center publishes by DNS
 * SRV, so no port) when this proxy has one. */
static int record_route_value(const struct proxy *p, const struct tp_listener *l, const char *token,
			      const char *node, char *out, size_t cap)
{
	const char *at = token[0] ? "@" : "";
	const char *np = node[0] ? ";" PROXY_RR_NODE_PARAM "=" : "";
	const char *host = p->rr_host[0] ? p->rr_host : l->host;
	char port[8] = "";
	if (!p->rr_host[0])
		snprintf(port, sizeof(port), ":%u", l->port);
	if (l->proto == TP_UDP)
		return snprintf(out, cap, "<sip:%s%s%s%s;lr%s%s>", token, at, host, port, np, node);
	char t[8];
	const char *n = tp_proto_name(l->proto);
	size_t i = 0;
	for (; n[i] && i < sizeof(t) - 1; i++)
		t[i] = (char)(n[i] | 0x20);
	t[i] = '\0';
	return snprintf(out, cap, "<sip:%s%s%s%s;transport=%s;lr%s%s>", token, at, host, port, t,
			np, node);
}

/* §18.2.1 / RFC 3581 §4: record where the previous hop really sent from —
 * received whenever the sent-by differs or rport was asked for (a received
 * value the sender wrote is corrected), and the source port in a bare rport. */
static void edit_sender_via(struct sip_edit *e, const struct sip_msg *req,
			    const struct tp_packet *src)
{
	const struct sip_via *v = req->via;
	if (!v || !src)
		return;
	char ip[INET6_ADDRSTRLEN + 8];
	tp_addr_str(&src->src, ip, sizeof(ip));
	/* tp_addr_str gives ip:port / [ip]:port; keep the ip part. */
	char *colon = strrchr(ip, ':');
	if (colon)
		*colon = '\0';
	const char *bare = ip;
	size_t blen = strlen(ip);
	if (ip[0] == '[') {
		bare = ip + 1;
		blen -= 2;
	}
	const char *at_end = v->raw.p + v->raw.len;
	char buf[96];
	if (v->has_rport && v->rport.p) {
		/* RFC 3581 §4: the source port, whatever the sender put there */
		char num[8];
		int n = snprintf(num, sizeof(num), "%u", tp_addr_port(&src->src));
		if (v->rport.len == 0) {
			n = snprintf(buf, sizeof(buf), "=%s", num);
			sip_edit_replace(e, v->rport.p, 0, str_make(buf, (size_t)n));
		} else if (!str_eq(v->rport, str_make(num, (size_t)n))) {
			sip_edit_replace(e, v->rport.p, v->rport.len, str_make(num, (size_t)n));
		}
	}
	struct str host = v->host;
	if (host.len && host.p[0] == '[') {
		host.p++;
		host.len -= 2;
	}
	struct str src_ip = str_make(bare, blen);
	if (v->received.p) {
		/* one the sender wrote itself says nothing: the next hop gets the truth */
		if (!v->received.len) { /* ";received" with no value: give it one */
			int n = snprintf(buf, sizeof(buf), "=%.*s", (int)blen, bare);
			sip_edit_replace(e, v->received.p, 0, str_make(buf, (size_t)n));
		} else if (!str_case_eq(v->received, src_ip)) {
			sip_edit_replace(e, v->received.p, v->received.len, src_ip);
		}
	} else if (v->has_rport || !str_case_eq(host, src_ip)) {
		int n = snprintf(buf, sizeof(buf), ";received=%.*s", (int)blen, bare);
		sip_edit_replace(e, at_end, 0, str_make(buf, (size_t)n));
	}
}

/* §16.4: our own Route values go. When they are every value of a Route field
 * (a double Record-Route comes back as "Route: <a>, <b>"), the whole field
 * goes in one edit rather than value by value. */
static void remove_our_routes(struct sip_edit *e, const struct route_plan *plan)
{
	for (unsigned i = 0; i < plan->n_pop; i++) {
		const struct sip_hdr *h = plan->pop[i]->hdr;
		bool seen = false;
		for (unsigned k = 0; k < i; k++)
			seen = seen || plan->pop[k]->hdr == h;
		if (seen)
			continue;
		unsigned in_field = 0, popped = 0;
		for (const struct sip_addr *r = e->m->route; r; r = r->next)
			if (r->hdr == h)
				in_field++;
		for (unsigned k = 0; k < plan->n_pop; k++)
			if (plan->pop[k]->hdr == h)
				popped++;
		if (h && popped == in_field && plan->strict_route != NULL &&
		    plan->strict_route->hdr == h)
			popped = 0; /* the strict fix edits this field too: per value */
		if (h && popped == in_field) {
			sip_edit_header_remove(e, h);
			continue;
		}
		for (unsigned k = i; k < plan->n_pop; k++)
			if (plan->pop[k]->hdr == h)
				sip_edit_route_remove(e, plan->pop[k]);
	}
}

/* RFC 3327 §5: a Path from anyone but a configured SBC is not ours to pass
 * on; consecutive Path fields go in one edit. */
static void remove_path(struct sip_edit *e, const struct sip_msg *req)
{
	for (const struct sip_hdr *h = req->first[SIP_HDR_PATH]; h;) {
		const struct sip_hdr *last = h;
		while (last->next && last->next == last->next_id && last->next->id == SIP_HDR_PATH)
			last = last->next;
		size_t len = (size_t)(last->raw.p + last->raw.len - h->raw.p);
		sip_edit_replace(e, h->raw.p, len, STR_NULL);
		h = last->next_id;
	}
}

int proxy_edit_request(struct proxy *p, struct sip_edit *e, const struct forward_edit *fe)
{
	const struct sip_msg *req = fe->req;
	const struct route_plan *plan = fe->plan;
	char tmp[1024];
	sip_edit_init(e, req);

	/* Step 6: a strict router as next hop gets the target in the
	 * Request-URI and our target appended as the last Route. */
	const struct sip_addr *next = plan->next_route;
	if (next && !next->uri.lr && !plan->to_flow) {
		sip_edit_ruri(e, next->uri_str);
		sip_edit_route_remove(e, next);
		int n = snprintf(tmp, sizeof(tmp), "<%.*s>", STR_FMT(plan->ruri_str));
		if (n > 0 && (size_t)n < sizeof(tmp))
			sip_edit_route_append(e, str_make(tmp, (size_t)n));
	} else if (plan->strict_fix || plan->ruri_override) {
		sip_edit_ruri(e, plan->ruri_str);
	}
	if (plan->strict_fix)
		sip_edit_route_remove(e, plan->strict_route);
	remove_our_routes(e, plan);
	if (fe->strip_path)
		remove_path(e, req);

	/* §16.6 step 2 / RFC 3327: a registered contact behind a Path is
	 * reached through it. */
	if (plan->push_route.len)
		sip_edit_route_push(e, plan->push_route);

	/* Step 3. */
	sip_edit_max_forwards(e, req->max_forwards < 0 ? 70u : (unsigned)req->max_forwards - 1);

	/* Step 4: the outbound side's value on top; the inbound side's below
	 * it when the request changes transport or address (RFC 5658). Both
	 * carry the endpoint's flow token. */
	if (fe->rr_in) {
		char token[PROXY_FLOW_TOKEN_MAX] = "";
		if (fe->rr_flow)
			proxy_flow_encode(p, fe->rr_flow, token);
		const struct tp_listener *in = fe->rr_in, *out = fe->out;
		bool twice = in->proto != fe->out_proto || strcmp(in->host, out->host) != 0 ||
			     in->port != out->port;
		int n;
		if (twice) {
			n = record_route_value(p, in, token, fe->rr_node, tmp, sizeof(tmp));
			sip_edit_record_route_push(e, str_make(tmp, (size_t)n));
		}
		n = record_route_value(p, out, token, fe->rr_node, tmp, sizeof(tmp));
		sip_edit_record_route_push(e, str_make(tmp, (size_t)n));
	}

	edit_sender_via(e, req, fe->src);

	/* Step 8. */
	int n = snprintf(tmp, sizeof(tmp), "SIP/2.0/%s %s:%u;branch=%s",
			 tp_proto_name(fe->out_proto), fe->out->host, fe->out->port, fe->branch);
	sip_edit_via_push(e, str_make(tmp, (size_t)n));

	/* Step 9 / §18.3: streams need an exact Content-Length. */
	if (tp_proto_is_stream(fe->out_proto) || sip_msg_hdr(req, SIP_HDR_CONTENT_LENGTH))
		sip_edit_content_length(e);
	return e->failed ? -1 : 0;
}

static void base36(uint64_t v, char *out)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char rev[16];
	int i = 0;
	do {
		rev[i++] = digits[v % 36];
		v /= 36;
	} while (v && i < (int)sizeof(rev));
	for (int k = 0; k < i; k++)
		out[k] = rev[i - 1 - k];
	out[i] = '\0';
}

/* "z9hG4bK" <loop hash> "." <per-process prefix><sequence><random>: the loop
 * part serves §16.3 step 4, the rest makes it unique in space and time and
 * unguessable (a peer that sees one branch cannot predict the next). */
static void make_branch(struct proxy *p, const struct proxy_ctx *ctx, char *out, size_t cap)
{
	char seq[16], rnd[8];
	base36(++p->branch_seq, seq);
	sip_random_token(rnd, 6);
	snprintf(out, cap, "z9hG4bK%s.%s%s%s", ctx->loop_hash, p->branch_prefix, seq, rnd);
}

void proxy_stateless_branch(const struct sip_msg *req, char *out, size_t cap)
{
	char loop[PROXY_LOOP_HASH_HEX + 1];
	proxy_loop_hash(req, loop);
	uint32_t h = str_hash(req->via ? req->via->branch : STR_NULL) ^ str_hash(req->call_id);
	snprintf(out, cap, "z9hG4bK%s.s%s%08x", loop, sip_method_name(req->method), h);
}

int proxy_forward_attempt(struct proxy_branch *b, const struct tp_dest *dest)
{
	struct proxy_ctx *ctx = b->ctx;
	struct proxy *p = ctx->p;
	const struct sip_msg *req = ctx->req;
	const struct tp_listener *out =
	    tp_listener_for(p->tp, dest->proto, dest->addr.sa.sa_family);
	if (!out) {
		LOG_INFO("no_listener", "proto=%s family=%d", tp_proto_name(dest->proto),
			 dest->addr.sa.sa_family);
		return -503;
	}
	char branch[96];
	if (req->method == SIP_METHOD_CANCEL)
		proxy_stateless_branch(req, branch, sizeof(branch));
	else
		make_branch(p, ctx, branch, sizeof(branch));
	const struct tp_packet *src = txn_server_source(ctx->st);
	/* The endpoint's flow goes in our Record-Route: the flow it came on, or
	 * the one a registered contact is reached on. */
	struct proxy_flow flow;
	const struct proxy_flow *rr_flow = NULL;
	if (b->has_target) {
		/* A binding's flow is its owner's; a Contact reached directly is
		 * reached the same way from any proxy. */
		const struct tp_dest *bf = &b->target.dest;
		if (!b->target.path.len && bf->addr.sa.sa_family != AF_UNSPEC)
			flow =
			    (struct proxy_flow){b->target_owner, bf->proto, bf->addr, bf->conn_id};
		else
			flow =
			    (struct proxy_flow){p->self_id, dest->proto, dest->addr, dest->conn_id};
		rr_flow = &flow;
	} else if (!ctx->trusted) {
		proxy_flow_from_packet(p, src, &flow);
		rr_flow = &flow;
	}
	struct forward_edit fe = {
	    .req = req,
	    .src = src,
	    .plan = &b->plan,
	    .out = out,
	    .out_proto = dest->proto,
	    .branch = branch,
	    .rr_in = proxy_wants_record_route(p, req) ? src->listener : NULL,
	    .rr_flow = rr_flow,
	    .rr_node = b->to_server ? b->node.name : ctx->from_node.name,
	    .strip_path = !ctx->path_trusted,
	};
	struct sip_edit e;
	size_t len = 0;
	char *buf = NULL;
	if (proxy_edit_request(p, &e, &fe) == 0)
		buf = sip_edit_serialize(&e, &len);
	if (!buf) {
		LOG_WARN("forward_failed", "reason=edit call_id=%.*s ops=%u", STR_FMT(req->call_id),
			 e.nops);
		return -500;
	}
	b->ct = txn_client_send(p->txn, dest, req->method, str_cstr(branch), buf, len, b);
	if (!b->ct)
		return -500;
	proxy_count_out_request(p, req->method);
	return 0;
}
