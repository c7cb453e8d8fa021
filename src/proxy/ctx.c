/* ctx.c — the response context (RFC 3261 §16.7) of one proxied request: its
 * lifecycle and its progress through the q-value groups of its targets
 * (§16.6). One owner: the server transaction, through its user pointer, until
 * the context ends. Every callback entering a context holds it, and ending
 * only detaches it; the memory goes when the last hold is released, so no
 * call chain (start -> forward -> fail -> finish -> end) frees what a caller
 * still uses. The branches belong to the context and die with it. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>

#include "util/arena.h"
#include "util/log.h"

struct proxy_ctx *proxy_ctx_new(struct proxy *p, struct txn_server *st, struct sip_msg *req,
				bool trusted)
{
	struct proxy_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return NULL;
	ctx->p = p;
	ctx->st = st;
	ctx->req = req;
	ctx->trusted = trusted;
	ctx->holds = 1; /* the caller's */
	const struct tp_packet *src = txn_server_source(st);
	ctx->path_trusted = p->routing.is_edge && p->routing.is_edge(p->routing.arg, &src->src);
	proxy_loop_hash(req, ctx->loop_hash);
	txn_server_set_user(st, ctx);
	p->contexts++;
	return ctx;
}

static void ctx_free(struct proxy_ctx *ctx)
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
		timer_stop(w, &b->answer_timer);
		if (b->dests != &b->one_dest)
			free(b->dests);
		free(b);
	}
	if (ctx->best)
		sip_msg_free(ctx->best);
	if (ctx->arena)
		arena_free(ctx->arena);
	p->contexts--;
	free(ctx);
}

void proxy_ctx_hold(struct proxy_ctx *ctx)
{
	ctx->holds++;
}

void proxy_ctx_release(struct proxy_ctx *ctx)
{
	if (--ctx->holds == 0 && ctx->ended)
		ctx_free(ctx);
}

void proxy_ctx_end(struct proxy_ctx *ctx)
{
	if (ctx->ended)
		return;
	ctx->ended = true;
	if (ctx->st)
		txn_server_set_user(ctx->st, NULL);
	ctx->st = NULL;
	if (ctx->holds == 0)
		ctx_free(ctx);
}

void proxy_ctx_done_early(struct proxy_ctx *ctx)
{
	if (ctx->req->method != SIP_METHOD_INVITE)
		proxy_ctx_end(ctx);
}

void proxy_ctx_forward_response(struct proxy_ctx *ctx, const struct sip_msg *rsp)
{
	if (!ctx->st)
		return;
	struct sip_edit e;
	sip_edit_init(&e, rsp);
	sip_edit_via_pop(&e);
	size_t len = 0;
	char *buf = sip_edit_serialize(&e, &len);
	if (!buf) {
		LOG_WARN("response_edit_failed", "status=%d", rsp->status);
		return;
	}
	if (txn_server_reply(ctx->st, rsp->status, buf, len) == 0)
		proxy_count_out_response(ctx->p, rsp->status);
	free(buf);
}

void proxy_ctx_maybe_finish(struct proxy_ctx *ctx)
{
	if (ctx->final_sent || ctx->starting || ctx->ended)
		return;
	for (unsigned i = 0; i < ctx->n_branches; i++)
		if (ctx->branch[i]->state != BRANCH_DONE)
			return;
	/* §16.6: the next q-value group gets its turn unless a 6xx ended it. */
	if (ctx->best_status < 600 && proxy_ctx_next_group(ctx))
		return;
	proxy_select_send_best(ctx);
	proxy_ctx_done_early(ctx);
}

bool proxy_ctx_next_group(struct proxy_ctx *ctx)
{
	if (ctx->next_target >= ctx->n_targets || ctx->cancelled || ctx->ended)
		return false;
	uint16_t q = ctx->targets[ctx->next_target].q;
	/* Start the whole group first: a branch may finish synchronously. */
	unsigned first = ctx->next_target;
	while (ctx->next_target < ctx->n_targets && ctx->targets[ctx->next_target].q == q)
		ctx->next_target++;
	unsigned last = ctx->next_target;
	ctx->starting = true;
	for (unsigned i = first; i < last; i++)
		proxy_branch_start(ctx, &ctx->targets[i]);
	ctx->starting = false;
	proxy_ctx_maybe_finish(ctx);
	return true;
}
