/* request.c — a new request reaches the proxy core (RFC 3261 §16.2-§16.6):
 * drain and validation answers, the route plan, then a response context with
 * its branches: to the location service's bindings for a registered user, or
 * one branch where the plan says. A CANCEL goes to cancel.c first; a new
 * INVITE over the dialog rate gets 503 (overload.c). */
#include "proxy/proxy_internal.h"

#include <stdio.h>

#include "util/log.h"

static void reply_options_here(struct proxy *p, struct txn_server *st)
{
	proxy_reply(p, st, 200, NULL,
		    STR_LIT("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, "
			    "SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, MESSAGE\r\n"
			    "Accept: application/sdp\r\n"));
}

void proxy_on_request(void *arg, struct txn_server *st, struct sip_msg *req)
{
	struct proxy *p = arg;
	if (req->method == SIP_METHOD_CANCEL && proxy_cancel_matched(p, st, req))
		return;
	if (p->draining) {
		proxy_reply(p, st, 503, NULL, STR_LIT("Retry-After: 5\r\n"));
		return;
	}
	const char *reason = NULL;
	char extra[512];
	int code = proxy_validate(p, req, &reason, extra, sizeof(extra));
	if (code) {
		proxy_reply(p, st, code, reason, str_cstr(extra));
		return;
	}
	bool trusted = txn_server_trusted(st);
	/* A SIP Server member's request: its node is noted (a backup's request
	 * means it took over) and named in our Record-Route. */
	struct proxy_node_ref from_node = {0};
	if (trusted && p->routing.server_request)
		p->routing.server_request(p->routing.arg, txn_server_source(st), req, &from_node);
	if (!proxy_overload_admit(p, req)) {
		char ra[40] = "";
		if (p->cfg->retry_after)
			snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", p->cfg->retry_after);
		LOG_DEBUG("overload", "call_id=%.*s", STR_FMT(req->call_id));
		proxy_reply(p, st, 503, NULL, str_cstr(ra));
		return;
	}
	struct route_plan plan;
	proxy_route_plan(p, req, trusted, &plan);
	/* §11: an OPTIONS to the proxy itself (no user part: a keep-alive probe)
	 * is ours to answer; sip:user@proxy is for that user. */
	if (plan.for_me && req->method == SIP_METHOD_OPTIONS && !plan.ruri->user.len) {
		reply_options_here(p, st);
		return;
	}
	if (plan.relay_refused) {
		p->stats.relay_refused++;
		char a[INET6_ADDRSTRLEN + 8];
		LOG_INFO("relay_refused", "peer=%s method=%.*s ruri=%.*s action=to_sip_server",
			 tp_addr_str(&txn_server_source(st)->src, a, sizeof(a)),
			 STR_FMT(req->method_str), STR_FMT(req->ruri_str));
	}
	struct proxy_ctx *ctx = proxy_ctx_new(p, st, req, trusted);
	if (!ctx) {
		proxy_reply(p, st, 500, "Out Of Memory", STR_NULL);
		return;
	}
	ctx->plan = plan;
	ctx->from_node = from_node;
	/* §16.5: a request from the cluster for a registered user (user@domain
	 * or user@this-proxy) goes to that user's bindings. */
	bool for_location = (!plan.to_server || plan.for_me) && !plan.next_route && !plan.to_flow &&
			    trusted && p->location.lookup;
	if (!for_location || !proxy_fork_to_bindings(ctx))
		proxy_branch_start(ctx, NULL);
	proxy_ctx_release(ctx);
}

void proxy_on_server_gone(void *arg, struct txn_server *st, void *user)
{
	(void)arg;
	(void)st;
	struct proxy_ctx *ctx = user;
	if (!ctx)
		return;
	ctx->st = NULL; /* being destroyed: nothing more goes upstream */
	proxy_ctx_end(ctx);
}
