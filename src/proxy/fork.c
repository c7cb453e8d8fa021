/* fork.c — a request's targets and branches (RFC 3261 §16.5, §16.6): one
 * branch for a request routed by Route/Request-URI or sent to a SIP Server, or
 * one per registered contact from the location service — parallel within a
 * q-value group, the groups tried in order of decreasing q. A contact with a
 * Path (RFC 3327) is reached through it; one without, through its flow. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static void branch_resolved(void *arg, int err, const struct resolver_result *res)
{
	struct proxy_branch *b = arg;
	b->query = NULL;
	if (b->state != BRANCH_RESOLVING)
		return;
	if (err || !res || res->count == 0) {
		LOG_INFO("resolve_failed", "call_id=%.*s err=%d", STR_FMT(b->ctx->req->call_id), err);
		proxy_branch_fail(b, 503);
		return;
	}
	proxy_forward_branch(b->ctx, b, &b->plan, &res->dest[0]);
}

static void branch_resolve(struct proxy_branch *b, const struct sip_uri *hop)
{
	struct resolver_query *q = resolver_lookup(b->ctx->p->resolver, hop, branch_resolved, b);
	if (b->state == BRANCH_RESOLVING && !b->query)
		b->query = q;
}

/* The branch's plan when it goes to a registered contact. */
static bool target_plan(struct proxy_branch *b, const struct proxy_target *t)
{
	b->target = *t;
	b->has_target = true;
	if (sip_uri_parse(t->uri, &b->target_uri) < 0)
		return false;
	b->plan.ruri_override = true;
	b->plan.ruri = &b->target_uri;
	b->plan.ruri_str = t->uri;
	b->plan.for_me = false;
	b->plan.to_server = false;
	if (t->path.len) {
		b->plan.push_route = t->path;
		/* the first Path value is the next hop */
		struct str first = t->path;
		const char *lt = memchr(first.p, '<', first.len);
		const char *gt = lt ? memchr(lt, '>', first.len - (size_t)(lt - first.p)) : NULL;
		if (!lt || !gt || sip_uri_parse(str_make(lt + 1, (size_t)(gt - lt - 1)),
						&b->path_uri) < 0)
			return false;
	}
	return true;
}

void proxy_ctx_start_branch(struct proxy_ctx *ctx, const struct proxy_target *target)
{
	struct proxy *p = ctx->p;
	if (ctx->n_branches >= PROXY_MAX_BRANCHES)
		return;
	struct proxy_branch *b = calloc(1, sizeof(*b));
	if (!b) {
		if (ctx->n_branches == 0) {
			ctx->final_sent = true;
			proxy_reply(p, ctx->st, 500, "Out Of Memory", STR_NULL);
		}
		return;
	}
	ctx->branch[ctx->n_branches] = b;
	b->ctx = ctx;
	b->index = ctx->n_branches++;
	b->state = BRANCH_RESOLVING;
	b->plan = ctx->plan;
	timer_init(&b->timer_c);

	if (target) {
		if (!target_plan(b, target)) {
			proxy_branch_fail(b, 500);
			return;
		}
		if (b->target.path.len)
			branch_resolve(b, &b->path_uri);
		else if (b->target.dest.addr.sa.sa_family != AF_UNSPEC)
			proxy_forward_branch(ctx, b, &b->plan, &b->target.dest);
		else
			branch_resolve(b, &b->target_uri);
		return;
	}
	if (b->plan.to_server) {
		struct tp_dest d;
		if (p->routing.pick_server(p->routing.arg, ctx->req, &d) < 0) {
			LOG_WARN("no_server", "call_id=%.*s", STR_FMT(ctx->req->call_id));
			proxy_branch_fail(b, 503);
			return;
		}
		proxy_forward_branch(ctx, b, &b->plan, &d);
		return;
	}
	branch_resolve(b, proxy_route_next_hop(&b->plan));
}

bool proxy_ctx_next_group(struct proxy_ctx *ctx)
{
	if (ctx->next_target >= ctx->n_targets || ctx->cancelled)
		return false;
	uint16_t q = ctx->targets[ctx->next_target].q;
	/* Start the whole group first: a branch may finish synchronously. */
	unsigned first = ctx->next_target;
	while (ctx->next_target < ctx->n_targets && ctx->targets[ctx->next_target].q == q)
		ctx->next_target++;
	unsigned last = ctx->next_target;
	ctx->starting = true;
	for (unsigned i = first; i < last; i++)
		proxy_ctx_start_branch(ctx, &ctx->targets[i]);
	ctx->starting = false;
	proxy_ctx_maybe_finish(ctx);
	return true;
}
