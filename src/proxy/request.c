/* request.c — a new request reaches the proxy core (RFC 3261 §16.2-§16.6):
 * validation, route plan, a response context bound to the server transaction,
 * target resolution and forwarding; plus the stateless path for the ACK of a
 * 2xx (§16.11 rules: it is a separate transaction) and context teardown. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/log.h"

static void reply_options_here(struct proxy *p, struct txn_server *st)
{
	/* §11: an OPTIONS addressed to the proxy itself (a keep-alive probe
	 * from an SBC or a SIP Server) is answered here. */
	proxy_reply(p, st, 200, NULL,
		    STR_LIT("Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, PRACK, "
			    "SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, MESSAGE\r\n"
			    "Accept: application/sdp\r\n"));
}

static int target_q_desc(const void *a, const void *b)
{
	const struct proxy_target *x = a, *y = b;
	return (int)y->q - (int)x->q;
}

/* §16.5: the location service owns the Request-URI: fork to its targets
 * (§16.6), or 480 when nobody is registered. Returns false when the location
 * service does not own it. */
static bool start_location(struct proxy_ctx *ctx)
{
	struct proxy *p = ctx->p;
	ctx->arena = arena_new(1024);
	ctx->targets = ctx->arena ? arena_zalloc(ctx->arena, sizeof(*ctx->targets) *
							    PROXY_MAX_BRANCHES)
				  : NULL;
	if (!ctx->targets)
		return false;
	int n = p->location.lookup(p->location.arg, ctx->req, ctx->targets, PROXY_MAX_BRANCHES,
				   ctx->arena);
	if (n < 0)
		return false;
	if (n == 0) {
		ctx->final_sent = true;
		proxy_reply(p, ctx->st, 480, NULL, STR_NULL);
		return true;
	}
	ctx->n_targets = (unsigned)n;
	qsort(ctx->targets, ctx->n_targets, sizeof(ctx->targets[0]), target_q_desc);
	proxy_ctx_next_group(ctx);
	return true;
}

void proxy_on_request(void *arg, struct txn_server *st, struct sip_msg *req)
{
	struct proxy *p = arg;
	if (req->method == SIP_METHOD_CANCEL) {
		proxy_on_cancel(p, st, req);
		return;
	}
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
	const struct tp_packet *src = txn_server_source(st);
	bool trusted = p->routing.is_trusted(p->routing.arg, &src->src);

	struct proxy_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		proxy_reply(p, st, 500, "Out Of Memory", STR_NULL);
		return;
	}
	ctx->p = p;
	ctx->st = st;
	ctx->req = req;
	ctx->trusted = trusted;
	proxy_route_plan(p, req, trusted, &ctx->plan);
	if (ctx->plan.for_me && req->method == SIP_METHOD_OPTIONS) {
		free(ctx);
		reply_options_here(p, st);
		return;
	}
	if (ctx->plan.relay_refused) {
		p->stats.relay_refused++;
		char a[INET6_ADDRSTRLEN + 8];
		LOG_INFO("relay_refused", "peer=%s method=%.*s ruri=%.*s action=to_sip_server",
			 tp_addr_str(&src->src, a, sizeof(a)), STR_FMT(req->method_str),
			 STR_FMT(req->ruri_str));
	}
	proxy_loop_hash(req, ctx->loop_hash);
	txn_server_set_user(st, ctx);
	p->contexts++;
	/* §16.5: a request from the cluster for a registered user (user@domain
	 * or user@this-proxy) goes to that user's bindings. */
	if ((!ctx->plan.to_server || ctx->plan.for_me) && !ctx->plan.next_route && trusted &&
	    p->location.lookup && start_location(ctx))
		return;
	proxy_ctx_start_branch(ctx, NULL);
}

void proxy_ctx_free(struct proxy_ctx *ctx)
{
	struct proxy *p = ctx->p;
	struct timer_wheel *w = txn_layer_timers(p->txn);
	for (unsigned i = 0; i < ctx->n_branches; i++) {
		struct proxy_branch *b = ctx->branch[i];
		if (b->query)
			resolver_cancel(b->query);
		if (b->ct)
			txn_client_release(b->ct);
		timer_stop(w, &b->timer_c);
		free(b);
	}
	if (ctx->best)
		sip_msg_free(ctx->best);
	if (ctx->arena)
		arena_free(ctx->arena);
	p->contexts--;
	free(ctx);
}

/* A non-INVITE whose final response went upstream needs its context no more:
 * late responses on its branches are absorbed by their transactions, and
 * the server transaction answers retransmissions by itself. Freeing it now
 * rather than after Timer J keeps memory per request small. */
void proxy_ctx_done_early(struct proxy_ctx *ctx)
{
	if (ctx->req->method == SIP_METHOD_INVITE)
		return;
	txn_server_set_user(ctx->st, NULL);
	proxy_ctx_free(ctx);
}

void proxy_on_server_gone(void *arg, struct txn_server *st, void *user)
{
	(void)arg;
	(void)st;
	if (user)
		proxy_ctx_free(user);
}
