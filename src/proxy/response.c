/* response.c — responses to proxied requests (RFC 3261 §16.7): provisional
 * ones forwarded at once (100 excepted) and Timer C reset, a 2xx forwarded at
 * once with the other branches cancelled (and its REGISTER's bindings stored),
 * other finals handed to select.c until every branch is done; a 503 or a
 * failure before any response tries the branch's next destination (RFC 3263
 * §4.3). A response matching no transaction is dropped and counted: RFC 6026
 * §7.3 ended the stateless forwarding of such responses by a stateful proxy
 * (2xx retransmissions are matched by the Accepted states instead). */
#include "proxy/proxy_internal.h"

#include "util/log.h"

/* The cluster's call data: an initial INVITE's 2xx starts a call (it is
 * no longer one being set up), any final answer to a BYE ends one (RFC 3261
 * §15.1.1: the session is over whatever the answer). Once per branch. */
static void note_dialog(struct proxy_branch *b, const struct sip_msg *rsp)
{
	struct proxy_ctx *ctx = b->ctx;
	struct proxy *p = ctx->p;
	const struct sip_msg *req = ctx->req;
	if (!req->from || !req->to)
		return;
	if (req->method == SIP_METHOD_INVITE && !req->to->tag.len && rsp->status < 300) {
		proxy_branch_uncount_call(b);
		if (!p->routing.dialog || !rsp->to || !rsp->to->tag.len)
			return;
		struct str flow = str_cstr(p->cfg->name);
		if (!b->to_server && b->has_target && b->target.owner.len)
			flow = b->target.owner;
		struct proxy_dialog d = {
		    .call_id = req->call_id,
		    .from_tag = req->from->tag,
		    .to_tag = rsp->to->tag,
		    .caller = req->from->uri_str,
		    .callee = req->to->uri_str,
		    .node = str_cstr(b->to_server ? b->node.name : ctx->from_node.name),
		    .flow = flow,
		};
		p->routing.dialog(p->routing.arg, &d, true);
	} else if (req->method == SIP_METHOD_BYE && p->routing.dialog) {
		struct proxy_dialog d = {
		    .call_id = req->call_id, .from_tag = req->from->tag, .to_tag = req->to->tag};
		p->routing.dialog(p->routing.arg, &d, false);
	}
}

static bool branch_response(struct proxy_branch *b, struct sip_msg *rsp)
{
	struct proxy_ctx *ctx = b->ctx;
	struct proxy *p = ctx->p;
	int status = rsp->status;
	int before = b->status;
	if (status > b->status)
		b->status = status;
	if (b->to_server && !b->answered && b->state != BRANCH_DONE) {
		/* Passive detection: the member is alive (a 503 before any
		 * provisional is reported as a failure below instead). */
		b->answered = true;
		timer_stop(txn_layer_timers(p->txn), &b->answer_timer);
		if (!(status == 503 && before < 100) && p->routing.server_result)
			p->routing.server_result(p->routing.arg, &b->node, PROXY_SERVER_ANSWERED);
	}

	if (status < 200) {
		if (ctx->req->method == SIP_METHOD_INVITE && status > 100)
			proxy_timer_c_start(b); /* §16.7 step 2: reset Timer C */
		if (b->cancel_pending)
			proxy_branch_cancel(b);
		if (status > 100 && !ctx->final_sent)
			proxy_ctx_forward_response(ctx, rsp); /* step 5 */
		return false;
	}
	if (status < 300) {
		/* Step 5/10: every 2xx goes up (retransmissions too, RFC 6026), and
		 * the other branches stop. */
		if (b->state != BRANCH_DONE) {
			note_dialog(b, rsp);
			proxy_branch_done(b);
			if (ctx->req->method == SIP_METHOD_INVITE)
				proxy_ctx_cancel_others(ctx, b);
		}
		if (ctx->req->method == SIP_METHOD_REGISTER && !ctx->final_sent &&
		    p->location.registered && ctx->st)
			p->location.registered(p->location.arg, ctx->req,
					       txn_server_source(ctx->st), rsp, ctx->path_trusted,
					       str_cstr(b->node.name));
		ctx->final_sent = true;
		proxy_ctx_forward_response(ctx, rsp);
		proxy_ctx_done_early(ctx);
		return false;
	}
	if (b->state == BRANCH_DONE)
		return false; /* retransmitted final: the transaction absorbs it */
	if (status == 503 && before < 100) {
		/* RFC 3263 §4.3: overloaded or down, try the next destination. */
		proxy_attempt_failed(b, 503, false);
		return false;
	}
	note_dialog(b, rsp);
	proxy_branch_done(b);
	proxy_branch_uncount_call(b);
	if (status >= 600 && ctx->req->method == SIP_METHOD_INVITE)
		proxy_ctx_cancel_others(ctx, b); /* step 5: a 6xx ends the search */
	if (ctx->final_sent)
		return false;
	bool kept = proxy_select_consider(ctx, rsp, status);
	proxy_ctx_maybe_finish(ctx);
	return kept;
}

bool proxy_on_response(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp)
{
	(void)arg;
	(void)ct;
	struct proxy_branch *b = user;
	if (!b)
		return false; /* a CANCEL's response: hop by hop, consumed here */
	if (b->kind == PROXY_USER_UAC)
		return proxy_uac_response(user, rsp);
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	bool kept = branch_response(b, rsp);
	proxy_ctx_release(ctx);
	return kept;
}

void proxy_on_client_fail(void *arg, struct txn_client *ct, void *user, enum txn_fail why)
{
	(void)arg;
	(void)ct;
	struct proxy_branch *b = user;
	if (!b)
		return;
	if (b->kind == PROXY_USER_UAC) {
		proxy_uac_failed(user);
		return;
	}
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	/* §16.7 step 1 / §16.9: a timeout counts as 408, a transport error as 503. */
	int status = why == TXN_FAIL_TIMEOUT ? 408 : 503;
	if (why == TXN_FAIL_TIMEOUT)
		b->server_retried = true; /* Timer B/F took 64*T1: too late to retry */
	if (b->status == 0)
		proxy_attempt_failed(b, status, why == TXN_FAIL_TRANSPORT);
	else
		proxy_branch_fail(b, status);
	proxy_ctx_release(ctx);
}

void proxy_on_stray_response(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt)
{
	struct proxy *p = arg;
	p->stats.stray_responses++;
	char a[INET6_ADDRSTRLEN + 8];
	LOG_DEBUG("stray_response", "peer=%s status=%d call_id=%.*s action=drop",
		  tp_addr_str(&pkt->src, a, sizeof(a)), rsp->status, STR_FMT(rsp->call_id));
}
