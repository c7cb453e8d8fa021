/* forward.c — forwarding a request (RFC 3261 §16.6): copy, Request-URI and
 * Route postprocessing (steps 2 and 6, incl. a strict next hop), Max-Forwards
 * (step 3), Record-Route (step 4, two values when the transport or address
 * family changes, RFC 5658), our Via with a unique, loop-detectable branch
 * (step 8), Content-Length (step 9), and the switch to TCP for requests too
 * large for UDP (§18.1.1). Sending happens through a client transaction. */
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
	case SIP_METHOD_NOTIFY:
		return true; /* dialog-creating */
	default:
		return false;
	}
}

static int record_route_value(const struct tp_listener *l, char *out, size_t cap)
{
	if (l->proto == TP_UDP)
		return snprintf(out, cap, "<sip:%s:%u;lr>", l->host, l->port);
	char t[8];
	const char *n = tp_proto_name(l->proto);
	size_t i = 0;
	for (; n[i] && i < sizeof(t) - 1; i++)
		t[i] = (char)(n[i] | 0x20);
	t[i] = '\0';
	return snprintf(out, cap, "<sip:%s:%u;transport=%s;lr>", l->host, l->port, t);
}

/* §18.2.1 / RFC 3581: record where the previous hop really sent from. */
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
	if (v->has_rport && v->rport.len == 0 && v->rport.p) {
		int n = snprintf(buf, sizeof(buf), "=%u", tp_addr_port(&src->src));
		sip_edit_replace(e, v->rport.p, 0, str_make(buf, (size_t)n));
	}
	struct str host = v->host;
	if (host.len && host.p[0] == '[') {
		host.p++;
		host.len -= 2;
	}
	if (!v->received.p && !str_case_eq(host, str_make(bare, blen))) {
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

int proxy_edit_request(struct proxy *p, struct sip_edit *e, const struct sip_msg *req,
		       const struct tp_packet *src, const struct route_plan *plan,
		       const struct tp_listener *out, enum tp_proto out_proto, const char *branch,
		       const struct tp_listener *rr_in)
{
	char tmp[1024];
	sip_edit_init(e, req);

	/* Step 6: a strict router as next hop gets the target in the
	 * Request-URI and our target appended as the last Route. */
	const struct sip_addr *next = plan->next_route;
	if (next && !next->uri.lr) {
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

	/* §16.6 step 2 / RFC 3327: a registered contact behind a Path is
	 * reached through it. */
	if (plan->push_route.len)
		sip_edit_route_push(e, plan->push_route);

	/* Step 3. */
	sip_edit_max_forwards(e, req->max_forwards < 0 ? 70u : (unsigned)req->max_forwards - 1);

	/* Step 4: the outbound side's value on top; the inbound side's below
	 * it when the request changes transport or address (RFC 5658). */
	if (rr_in) {
		const struct tp_listener *in = rr_in;
		bool twice = in->proto != out_proto || strcmp(in->host, out->host) != 0 ||
			     in->port != out->port;
		int n;
		if (twice) {
			n = record_route_value(in, tmp, sizeof(tmp));
			sip_edit_record_route_push(e, str_make(tmp, (size_t)n));
		}
		n = record_route_value(out, tmp, sizeof(tmp));
		sip_edit_record_route_push(e, str_make(tmp, (size_t)n));
	}

	edit_sender_via(e, req, src);

	/* Step 8. */
	int n = snprintf(tmp, sizeof(tmp), "SIP/2.0/%s %s:%u;branch=%s", tp_proto_name(out_proto),
			 out->host, out->port, branch);
	sip_edit_via_push(e, str_make(tmp, (size_t)n));

	/* Step 9 / §18.3: streams need an exact Content-Length. */
	if (tp_proto_is_stream(out_proto) || sip_msg_hdr(req, SIP_HDR_CONTENT_LENGTH))
		sip_edit_content_length(e);
	return e->failed ? -1 : 0;
}

char *proxy_edit_serialize(const struct sip_edit *e, size_t *len)
{
	size_t n = sip_edit_size(e);
	if (n == 0)
		return NULL;
	char *buf = malloc(n);
	if (!buf)
		return NULL;
	if (sip_edit_write(e, buf, n) != n) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* "z9hG4bK" <loop hash> "." <per-process prefix><sequence>: the loop part
 * serves §16.3 step 4, the rest makes it unique in space and time. */
static void make_branch(struct proxy *p, const struct proxy_ctx *ctx, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	char seq[16];
	int i = 0;
	uint64_t v = ++p->branch_seq;
	do {
		seq[i++] = digits[v % 36];
		v /= 36;
	} while (v && i < (int)sizeof(seq));
	char rev[17];
	for (int k = 0; k < i; k++)
		rev[k] = seq[i - 1 - k];
	rev[i] = '\0';
	snprintf(out, cap, "z9hG4bK%s.%s%s", ctx->loop_hash, p->branch_prefix, rev);
}

int proxy_forward_branch(struct proxy_ctx *ctx, struct proxy_branch *b, const struct route_plan *plan,
			 const struct tp_dest *dest)
{
	struct proxy *p = ctx->p;
	const struct sip_msg *req = ctx->req;
	struct tp_dest d = *dest;

	/* §18.1.1: a request within 200 bytes of a 1500-byte MTU goes over a
	 * congestion-controlled transport. */
	if (d.proto == TP_UDP && req->len + 300 > PROXY_UDP_MTU_LIMIT &&
	    tp_listener_for(p->tp, TP_TCP, d.addr.sa.sa_family))
		d.proto = TP_TCP;

	const struct tp_listener *out = tp_listener_for(p->tp, d.proto, d.addr.sa.sa_family);
	if (!out) {
		LOG_WARN("no_listener", "proto=%s family=%d", tp_proto_name(d.proto),
			 d.addr.sa.sa_family);
		proxy_branch_fail(b, 503);
		return -1;
	}
	char branch[80];
	make_branch(p, ctx, branch, sizeof(branch));
	const struct tp_packet *src = txn_server_source(ctx->st);
	struct sip_edit e;
	bool rr = proxy_wants_record_route(p, req);
	size_t len = 0;
	char *buf = NULL;
	if (proxy_edit_request(p, &e, req, src, plan, out, d.proto, branch,
			       rr ? src->listener : NULL) == 0)
		buf = proxy_edit_serialize(&e, &len);
	if (!buf) {
		LOG_WARN("forward_failed", "reason=edit call_id=%.*s ops=%u failed=%d", STR_FMT(req->call_id), e.nops, e.failed);
		proxy_branch_fail(b, 500);
		return -1;
	}
	b->state = BRANCH_SENT;
	b->ct = txn_client_send(p->txn, &d, req->method, str_cstr(branch), buf, len, b);
	if (!b->ct) {
		b->state = BRANCH_RESOLVING;
		proxy_branch_fail(b, 500);
		return -1;
	}
	proxy_count_out_request(p, req->method);
	if (req->method == SIP_METHOD_INVITE)
		proxy_timer_c_start(b);
	return 0;
}
