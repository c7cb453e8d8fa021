/* branch.c — one branch of a proxied request (RFC 3261 §16.6): where it goes
 * (the cluster's SIP Server, an endpoint's flow, a registered contact, or the
 * next hop resolved per RFC 3263), its attempts in order (§4.3: a 503, a
 * timeout or a transport error before any response tries the next
 * destination; a request switched to TCP for its size, §18.1.1, falls back to
 * UDP when the connection is refused), Timer C (§16.8), and its CANCEL (§9.1,
 * ended after 64*T1 when the downstream never answers). A branch to the SIP
 * Servers also tells the cluster how the member did (passive detection: no
 * answer within no_response_ms, a transport error, a 503 before any
 * provisional) and is retried once on the node's new primary or another
 * node. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "util/arena.h"
#include "util/log.h"

void proxy_branch_done(struct proxy_branch *b)
{
	b->state = BRANCH_DONE;
	b->cancel_pending = false;
	timer_stop(txn_layer_timers(b->ctx->p->txn), &b->timer_c);
	timer_stop(txn_layer_timers(b->ctx->p->txn), &b->answer_timer);
	if (b->query) {
		resolver_cancel(b->query);
		b->query = NULL;
	}
}

void proxy_branch_fail(struct proxy_branch *b, int status)
{
	if (b->state == BRANCH_DONE)
		return;
	proxy_branch_done(b);
	proxy_branch_uncount_call(b);
	if (b->status < status)
		b->status = status;
	proxy_select_consider(b->ctx, NULL, status);
	proxy_ctx_maybe_finish(b->ctx);
}

/* §18.1.1: a request within 200 bytes of a 1500-byte MTU goes over a
 * congestion-controlled transport, where the next hop can take one. */
static bool wants_tcp(const struct proxy_branch *b, const struct tp_dest *d)
{
	const struct proxy *p = b->ctx->p;
	return d->proto == TP_UDP && !b->fixed_transport &&
	       b->ctx->req->len + 300 > PROXY_UDP_MTU_LIMIT &&
	       tp_listener_for(p->tp, TP_TCP, d->addr.sa.sa_family) != NULL;
}

/* Passive detection: the SIP Server member had no_response_ms to answer
 * anything (a 100 Trying will do) and did not. The attempt is abandoned (no
 * provisional: nothing to CANCEL, §9.1) and counts as a timeout. */
static void answer_timer_fired(struct timer *t)
{
	struct proxy_branch *b = container_of(t, struct proxy_branch, answer_timer);
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	LOG_INFO("server_no_response", "call_id=%.*s node=%s ms=%u", STR_FMT(ctx->req->call_id),
		 b->node.name, b->no_response_ms);
	if (b->status == 0)
		proxy_attempt_failed(b, 408, false);
	proxy_ctx_release(ctx);
}

/* A new INVITE dialog towards node counts as one of its calls until its
 * final is not a 2xx or its BYE passes (least-calls). */
static void count_call(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	const struct sip_msg *req = b->ctx->req;
	if (b->call_counted || req->method != SIP_METHOD_INVITE || (req->to && req->to->tag.len))
		return;
	b->call_counted = true;
	if (p->routing.call_delta)
		p->routing.call_delta(p->routing.arg, &b->node, +1);
}

void proxy_branch_uncount_call(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	if (!b->call_counted)
		return;
	b->call_counted = false;
	if (p->routing.call_delta)
		p->routing.call_delta(p->routing.arg, &b->node, -1);
}

/* One attempt to d: sent (Timer C runs for an INVITE), or failed at once. */
static void branch_send(struct proxy_branch *b, const struct tp_dest *d)
{
	struct proxy *p = b->ctx->p;
	b->state = BRANCH_SENT;
	b->status = 0;
	b->answered = false;
	b->attempt = *d;
	int r = proxy_forward_attempt(b, d);
	if (r == -503) {
		proxy_attempt_failed(b, 503, true);
		return;
	}
	if (r < 0) {
		proxy_branch_fail(b, -r);
		return;
	}
	if (b->to_server) {
		count_call(b);
		if (b->no_response_ms)
			timer_start(txn_layer_timers(p->txn), &b->answer_timer, b->no_response_ms,
				    answer_timer_fired);
	}
	if (b->ctx->req->method == SIP_METHOD_INVITE)
		proxy_timer_c_start(b);
}

static void branch_try_next(struct proxy_branch *b)
{
	if (b->next_dest >= b->n_dests) {
		proxy_branch_fail(b, 503);
		return;
	}
	struct tp_dest d = b->dests[b->next_dest++];
	b->udp_fallback = wants_tcp(b, &d);
	if (b->udp_fallback)
		d.proto = TP_TCP;
	branch_send(b, &d);
}

static void branch_go(struct proxy_branch *b, const struct tp_dest *dests, unsigned n, bool fixed)
{
	if (n > PROXY_MAX_DESTS)
		n = PROXY_MAX_DESTS;
	if (b->dests != &b->one_dest)
		free(b->dests);
	b->dests = n > 1 ? malloc(n * sizeof(*dests)) : NULL;
	if (!b->dests) {
		b->dests = &b->one_dest;
		n = n ? 1 : 0;
	}
	memcpy(b->dests, dests, n * sizeof(*dests));
	b->n_dests = n;
	b->next_dest = 0;
	b->fixed_transport = fixed;
	branch_try_next(b);
}

static void branch_to_server(struct proxy_branch *b, const struct proxy_node_ref *failed,
			     int failed_status);

void proxy_attempt_failed(struct proxy_branch *b, int status, bool transport)
{
	if (b->state == BRANCH_DONE)
		return;
	struct proxy *p = b->ctx->p;
	if (b->ct) {
		/* Given up: one still unanswered (no-response timeout) is not
		 * retransmitted to that member any more. */
		txn_client_abandon(b->ct);
		b->ct = NULL;
	}
	timer_stop(txn_layer_timers(p->txn), &b->timer_c);
	timer_stop(txn_layer_timers(p->txn), &b->answer_timer);
	if (b->to_server) {
		/* Passive detection: the cluster learns at once. */
		enum proxy_server_outcome o = transport	      ? PROXY_SERVER_TRANSPORT
					      : status == 503 ? PROXY_SERVER_503
							      : PROXY_SERVER_TIMEOUT;
		if (p->routing.server_result)
			p->routing.server_result(p->routing.arg, &b->node, o);
		proxy_branch_uncount_call(b);
	}
	if (b->cancelled || b->cancel_pending || b->ctx->cancelled || b->ctx->ended) {
		proxy_branch_fail(b, status);
		return;
	}
	b->state = BRANCH_RESOLVING;
	if (b->udp_fallback && transport) {
		/* §18.1.1: TCP was our choice, not the peer's; it refused. */
		struct tp_dest d = b->attempt;
		d.proto = TP_UDP;
		d.conn_id = 0;
		b->udp_fallback = false;
		LOG_INFO("tcp_fallback_udp", "call_id=%.*s", STR_FMT(b->ctx->req->call_id));
		branch_send(b, &d);
		return;
	}
	if (b->next_dest < b->n_dests) {
		LOG_INFO("next_target", "call_id=%.*s status=%d try=%u/%u",
			 STR_FMT(b->ctx->req->call_id), status, b->next_dest + 1, b->n_dests);
		branch_try_next(b);
		return;
	}
	if (b->to_server && !b->server_retried) {
		/* Nothing reached the member: once more, on the pair's new
		 * primary or on another node. */
		struct proxy_node_ref failed = b->node;
		b->server_retried = true;
		p->stats.server_retries++;
		LOG_INFO("server_retry", "call_id=%.*s node=%s status=%d",
			 STR_FMT(b->ctx->req->call_id), failed.name, status);
		branch_to_server(b, &failed, status);
		return;
	}
	proxy_branch_fail(b, status);
}

static void branch_resolved(void *arg, int err, const struct resolver_result *res)
{
	struct proxy_branch *b = arg;
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	b->query = NULL;
	if (b->state == BRANCH_RESOLVING && !ctx->ended) {
		if (err || !res || res->count == 0) {
			LOG_INFO("resolve_failed", "call_id=%.*s err=%d",
				 STR_FMT(ctx->req->call_id), err);
			proxy_branch_fail(b, 503);
		} else {
			branch_go(b, res->dest, res->count, b->fixed_transport);
		}
	}
	proxy_ctx_release(ctx);
}

/* RFC 3263: an explicit transport parameter is the peer's choice (no
 * §18.1.1 switch); the answer may come at once (literal, cache) or later. */
static void branch_resolve(struct proxy_branch *b, const struct sip_uri *hop)
{
	b->fixed_transport = hop->transport.len > 0;
	struct resolver_query *q = resolver_lookup(b->ctx->p->resolver, hop, branch_resolved, b);
	if (q)
		b->query = q;
}

/* The branch's plan when it goes to a registered contact. */
static bool target_plan(struct proxy_branch *b, const struct proxy_target *t)
{
	b->target = *t;
	b->has_target = true;
	b->target_owner = t->owner.len ? proxy_peer_id(t->owner) : b->ctx->p->self_id;
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
		if (!lt || !gt ||
		    sip_uri_parse(str_make(lt + 1, (size_t)(gt - lt - 1)), &b->path_uri) < 0)
			return false;
	}
	return true;
}

/* To the cluster's SIP Servers: the node and member the cluster picks (for
 * an in-dialog request, the dialog's node's current primary). */
static void branch_to_server(struct proxy_branch *b, const struct proxy_node_ref *failed,
			     int failed_status)
{
	struct proxy_ctx *ctx = b->ctx;
	struct proxy *p = ctx->p;
	struct proxy_pick q = {
	    .req = ctx->req,
	    .node = b->plan.node,
	    .hop = b->plan.has_hop ? &b->plan.hop : NULL,
	    .failed = failed,
	};
	if (p->routing.pick_server(p->routing.arg, &q) < 0) {
		if (failed) {
			/* Nowhere to retry: the failure stands as it was. */
			proxy_branch_fail(b, failed_status);
			return;
		}
		LOG_WARN("no_server", "call_id=%.*s method=%.*s", STR_FMT(ctx->req->call_id),
			 STR_FMT(ctx->req->method_str));
		p->stats.no_server++;
		ctx->no_server = true;
		ctx->retry_after = q.retry_after;
		proxy_branch_fail(b, 503);
		return;
	}
	b->to_server = true;
	b->node = q.out;
	b->no_response_ms = q.no_response_ms;
	branch_go(b, &q.out.member, 1, true);
}

/* A flow another proxy of the cluster holds (a token's owner, a binding's):
 * through that proxy while it answers its OPTIONS, else UDP straight to the
 * endpoint (proxy_flow_via_owner); a connection that died with its proxy is
 * dead_status (430 for an RFC 5626 client or an in-dialog request, else
 * 480: the endpoint registers again, RFC 5626 §4.4). */
static void branch_via_owner(struct proxy_branch *b, const struct proxy_flow *f,
			     const struct sip_uri *ruri, int dead_status)
{
	struct proxy_ctx *ctx = b->ctx;
	struct tp_dest d;
	char route[PROXY_FLOW_ROUTE_MAX];
	enum proxy_owner_way w = proxy_flow_via_owner(ctx->p, f, ruri, &d, route);
	if (w == PROXY_OWNER_DEAD || w == PROXY_OWNER_UNKNOWN) {
		LOG_INFO("flow_failed", "call_id=%.*s reason=\"owner proxy %s\"",
			 STR_FMT(ctx->req->call_id), w == PROXY_OWNER_DEAD ? "dead" : "unknown");
		proxy_branch_fail(b, dead_status);
		return;
	}
	if (w == PROXY_OWNER_VIA_PEER) {
		if (!ctx->arena && !(ctx->arena = arena_new(1024))) {
			proxy_branch_fail(b, 500);
			return;
		}
		b->plan.push_route = arena_strdup(ctx->arena, str_cstr(route));
	}
	branch_go(b, &d, 1, true);
}

/* RFC 5626 §5.3: down the flow the token names; a stream that is gone is
 * a failed flow (430), never a new connection to the endpoint. A flow of
 * another proxy of the cluster goes through it. */
static void branch_to_flow(struct proxy_branch *b)
{
	if (b->plan.flow.owner != b->ctx->p->self_id) {
		branch_via_owner(b, &b->plan.flow, b->plan.ruri, 430);
		return;
	}
	struct tp_dest d;
	proxy_flow_dest_for(&b->plan.flow, b->plan.ruri, &d);
	if (tp_proto_is_stream(d.proto) && !tp_conn_alive(b->ctx->p->tp, d.conn_id)) {
		LOG_INFO("flow_failed", "call_id=%.*s conn=%llu", STR_FMT(b->ctx->req->call_id),
			 (unsigned long long)d.conn_id);
		proxy_branch_fail(b, 430);
		return;
	}
	branch_go(b, &d, 1, true);
}

/* A registered endpoint's flow. A stream that is gone opens no connection
 * towards the port the endpoint connected from: its Contact, when that names
 * the same host (a phone that listens), else the flow failed (RFC 5626 §5.3:
 * 430 for an outbound client; 480 for anyone else, who will re-register). */
static void branch_to_binding_flow(struct proxy_branch *b)
{
	struct tp_dest d = b->target.dest;
	if (b->target_owner != b->ctx->p->self_id) {
		struct proxy_flow f = {b->target_owner, d.proto, d.addr, d.conn_id};
		branch_via_owner(b, &f, &b->target_uri, b->target.outbound ? 430 : 480);
		return;
	}
	if (!tp_proto_is_stream(d.proto) || tp_conn_alive(b->ctx->p->tp, d.conn_id)) {
		branch_go(b, &d, 1, true);
		return;
	}
	union tp_sockaddr a;
	const struct sip_uri *c = &b->target_uri;
	if (!c->maddr.len && tp_addr_from_ip(c->host, sip_uri_port(c), &a) == 0 &&
	    tp_addr_same_ip(&a, &d.addr)) {
		d.addr = a;
		d.conn_id = 0;
		branch_go(b, &d, 1, true);
		return;
	}
	LOG_INFO("flow_failed", "call_id=%.*s conn=%llu", STR_FMT(b->ctx->req->call_id),
		 (unsigned long long)d.conn_id);
	proxy_branch_fail(b, b->target.outbound ? 430 : 480);
}

void proxy_branch_start(struct proxy_ctx *ctx, const struct proxy_target *target)
{
	struct proxy *p = ctx->p;
	if (ctx->n_branches >= PROXY_MAX_BRANCHES || ctx->ended)
		return;
	struct proxy_branch *b = calloc(1, sizeof(*b));
	if (!b) {
		if (ctx->n_branches == 0 && ctx->st) {
			ctx->final_sent = true;
			proxy_reply(p, ctx->st, 500, "Out Of Memory", STR_NULL);
			proxy_ctx_done_early(ctx);
		}
		return;
	}
	ctx->branch[ctx->n_branches] = b;
	b->kind = PROXY_USER_BRANCH;
	b->ctx = ctx;
	b->index = ctx->n_branches++;
	b->state = BRANCH_RESOLVING;
	b->plan = ctx->plan;
	timer_init(&b->timer_c);
	timer_init(&b->answer_timer);

	if (target) {
		if (!target_plan(b, target))
			proxy_branch_fail(b, 500);
		else if (b->target.path.len)
			branch_resolve(b, &b->path_uri);
		else if (b->target.dest.addr.sa.sa_family != AF_UNSPEC)
			branch_to_binding_flow(b);
		else
			branch_resolve(b, &b->target_uri);
		return;
	}
	if (b->plan.to_flow) {
		branch_to_flow(b);
		return;
	}
	if (b->plan.to_server) {
		branch_to_server(b, NULL, 0);
		return;
	}
	branch_resolve(b, proxy_route_next_hop(&b->plan));
}

/* §16.8: Timer C — no final response in time. */
static void timer_c_fired(struct timer *t)
{
	struct proxy_branch *b = container_of(t, struct proxy_branch, timer_c);
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	LOG_INFO("timer_c", "call_id=%.*s branch=%u status=%d", STR_FMT(ctx->req->call_id),
		 b->index, b->status);
	if (b->status >= 100) {
		proxy_branch_cancel(b);
	} else {
		if (b->ct) {
			txn_client_abandon(b->ct); /* §16.8: as if a 408 had come */
			b->ct = NULL;
		}
		proxy_branch_fail(b, 408);
	}
	proxy_ctx_release(ctx);
}

/* §16.8 / §9.1: our CANCEL got no final response for the INVITE within
 * 64*T1: the client transaction is given up and the branch counts as 408. */
static void cancel_wait_fired(struct timer *t)
{
	struct proxy_branch *b = container_of(t, struct proxy_branch, timer_c);
	struct proxy_ctx *ctx = b->ctx;
	proxy_ctx_hold(ctx);
	LOG_INFO("cancel_unanswered", "call_id=%.*s branch=%u", STR_FMT(ctx->req->call_id),
		 b->index);
	if (b->ct) {
		txn_client_release(b->ct);
		b->ct = NULL;
	}
	proxy_branch_fail(b, 408);
	proxy_ctx_release(ctx);
}

void proxy_timer_c_start(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	if (b->cancelled)
		return; /* the CANCEL's 64*T1 wait runs instead */
	timer_start(txn_layer_timers(p->txn), &b->timer_c, p->cfg->timer_c_ms, timer_c_fired);
}

void proxy_branch_cancel(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	if (b->cancelled || b->state == BRANCH_DONE)
		return;
	if (b->state == BRANCH_RESOLVING) {
		/* Nothing was sent: the branch simply ends. */
		b->cancelled = true;
		proxy_branch_fail(b, 487);
		return;
	}
	if (b->status < 100) {
		b->cancel_pending = true; /* §9.1: wait for a provisional response */
		return;
	}
	b->cancel_pending = false;
	b->cancelled = true;
	struct txn_layer *L = p->txn;
	timer_start(txn_layer_timers(L), &b->timer_c, 64ull * txn_layer_config(L)->t1_ms,
		    cancel_wait_fired);
	size_t slen;
	const char *sent = txn_client_request(b->ct, &slen);
	struct sip_msg *inv = sip_msg_new(sent, slen);
	if (!inv)
		return;
	char *buf = NULL;
	size_t n = 0;
	if (sip_msg_parse(inv, NULL) == 0 && inv->via && (buf = malloc(8192)) != NULL)
		n = sip_build_cancel(inv, buf, 8192);
	if (n > 0) {
		struct txn_client *ct = txn_client_send(
		    L, txn_client_dest(b->ct), SIP_METHOD_CANCEL, inv->via->branch, buf, n, NULL);
		if (ct) {
			txn_client_release(ct);
			proxy_count_out_request(p, SIP_METHOD_CANCEL);
		}
	} else {
		free(buf);
		LOG_WARN("cancel_build_failed", "call_id=%.*s", STR_FMT(inv->call_id));
	}
	sip_msg_free(inv);
}

void proxy_ctx_cancel_others(struct proxy_ctx *ctx, const struct proxy_branch *keep)
{
	for (unsigned i = 0; i < ctx->n_branches; i++)
		if (ctx->branch[i] != keep)
			proxy_branch_cancel(ctx->branch[i]);
}
