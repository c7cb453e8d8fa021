/* fork.c — a request for a registered user (RFC 3261 §16.5): the location
 * service's live bindings become the context's targets, sorted by q so that
 * ctx.c starts them group by group (§16.6: parallel within a q value, groups
 * in decreasing order); nobody registered is 480. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>

#include "util/arena.h"

static int target_q_desc(const void *a, const void *b)
{
	const struct proxy_target *x = a, *y = b;
	return (int)y->q - (int)x->q;
}

bool proxy_fork_to_bindings(struct proxy_ctx *ctx)
{
	struct proxy *p = ctx->p;
	if (!ctx->arena && !(ctx->arena = arena_new(1024)))
		return false;
	ctx->targets = arena_zalloc(ctx->arena, sizeof(*ctx->targets) * PROXY_MAX_BRANCHES);
	if (!ctx->targets)
		return false;
	int n = p->location.lookup(p->location.arg, ctx->req, ctx->targets, PROXY_MAX_BRANCHES,
				   ctx->arena);
	if (n < 0)
		return false;
	if (n == 0) {
		ctx->final_sent = true;
		proxy_reply(p, ctx->st, 480, NULL, STR_NULL);
		proxy_ctx_done_early(ctx);
		return true;
	}
	ctx->n_targets = (unsigned)n;
	qsort(ctx->targets, ctx->n_targets, sizeof(ctx->targets[0]), target_q_desc);
	proxy_ctx_next_group(ctx);
	return true;
}
