/* response.c — responses to proxied requests (RFC 3261 §16.7): provisional
 * ones forwarded at once (100 excepted), 2xx forwarded at once and the other
 * branches cancelled, other finals kept until every branch is done and the
 * best chosen (step 6: 6xx first, else the lowest class, preferring 401, 407,
 * 415, 420, 484; 503 becomes 500). Timer C (§16.8) and stray responses. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Lower is better (§16.7 step 6). */
static int response_rank(int status)
{
	if (status >= 600)
		return 0;
	int cls = status / 100;
	bool preferred = status == 401 || status == 407 || status == 415 || status == 420 ||
			 status == 484;
	return cls * 1000 + (preferred ? 0 : status);
}

/* Forwards a response upstream on the server transaction: only our Via
 * goes (§16.7 step 9). */
static void forward_upstream(struct proxy_ctx *ctx, const struct sip_msg *rsp, int status)
{
	struct proxy *p = ctx->p;
	struct sip_edit e;
	sip_edit_init(&e, rsp);
	sip_edit_via_pop(&e);
	size_t len = 0;
	char *buf = proxy_edit_serialize(&e, &len);
	if (!buf) {
		LOG_WARN("response_edit_failed", "status=%d", status);
		return;
	}
	if (txn_server_reply(ctx->st, status, buf, len) == 0)
		proxy_count_out_response(p, status);
	free(buf);
}

static void send_best(struct proxy_ctx *ctx)
{
	struct proxy *p = ctx->p;
	ctx->final_sent = true;
	int status = ctx->best_status ? ctx->best_status : 408;
	if (ctx->cancelled && (status == 408 || status == 503 || !ctx->best))
		status = 487; /* §16.10: the caller asked to stop; say so */
	if (status == 503) {
		/* §16.7 step 6: a 503 is not passed upstream as is. */
		proxy_reply(p, ctx->st, 500, "Server Error Downstream", STR_NULL);
		return;
	}
	if (ctx->best && ctx->best->status == status)
		forward_upstream(ctx, ctx->best, status);
	else
		proxy_reply(p, ctx->st, status, NULL, STR_NULL);
}

void proxy_ctx_maybe_finish(struct proxy_ctx *ctx)
{
	if (ctx->final_sent || ctx->starting)
		return;
	for (unsigned i = 0; i < ctx->n_branches; i++)
		if (ctx->branch[i]->state != BRANCH_DONE)
			return;
	/* §16.6: the next q-value group gets its turn unless a 6xx ended it. */
	if (ctx->best_status < 600 && proxy_ctx_next_group(ctx))
		return;
	send_best(ctx);
	proxy_ctx_done_early(ctx);
}

/* Keeps rsp (may be NULL for a locally decided status) if it is the best so
 * far; returns true when it took ownership of rsp. */
static bool consider_final(struct proxy_ctx *ctx, struct sip_msg *rsp, int status)
{
	if (ctx->best_status && response_rank(status) >= response_rank(ctx->best_status))
		return false;
	if (ctx->best)
		sip_msg_free(ctx->best);
	ctx->best = rsp;
	ctx->best_status = status;
	return rsp != NULL;
}

static void branch_done(struct proxy_branch *b)
{
	b->state = BRANCH_DONE;
	timer_stop(txn_layer_timers(b->ctx->p->txn), &b->timer_c);
}

void proxy_branch_fail(struct proxy_branch *b, int status)
{
	if (b->state == BRANCH_DONE)
		return;
	branch_done(b);
	if (b->status < status)
		b->status = status;
	consider_final(b->ctx, NULL, status);
	proxy_ctx_maybe_finish(b->ctx);
}

bool proxy_on_response(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp)
{
	struct proxy_branch *b = user;
	(void)arg;
	(void)ct;
	if (!b)
		return false; /* a CANCEL's response: hop by hop, consumed here */
	struct proxy_ctx *ctx = b->ctx;
	int status = rsp->status;
	if (status > b->status)
		b->status = status;

	if (status < 200) {
		if (ctx->req->method == SIP_METHOD_INVITE && status > 100)
			proxy_timer_c_start(b); /* §16.7 step 2: reset Timer C */
		if (b->cancel_pending)
			proxy_branch_cancel(b);
		if (status > 100 && !ctx->final_sent)
			forward_upstream(ctx, rsp, status); /* step 5 */
		return false;
	}
	if (status < 300) {
		/* Step 5/10: every 2xx goes up (retransmissions too, RFC 6026), and
		 * the other branches stop. */
		if (b->state != BRANCH_DONE) {
			branch_done(b);
			if (ctx->req->method == SIP_METHOD_INVITE)
				proxy_ctx_cancel_others(ctx, b);
		}
		ctx->final_sent = true;
		if (ctx->req->method == SIP_METHOD_REGISTER && ctx->p->location.registered)
			ctx->p->location.registered(ctx->p->location.arg, ctx->req,
						    txn_server_source(ctx->st), rsp);
		forward_upstream(ctx, rsp, status);
		proxy_ctx_done_early(ctx);
		return false;
	}
	if (b->state == BRANCH_DONE)
		return false; /* retransmitted final: the transaction absorbs it */
	branch_done(b);
	if (status >= 600 && ctx->req->method == SIP_METHOD_INVITE)
		proxy_ctx_cancel_others(ctx, b); /* step 5: a 6xx ends the search */
	if (ctx->final_sent)
		return false;
	bool kept = consider_final(ctx, rsp, status);
	proxy_ctx_maybe_finish(ctx);
	return kept;
}

void proxy_on_client_fail(void *arg, struct txn_client *ct, void *user, enum txn_fail why)
{
	struct proxy_branch *b = user;
	(void)arg;
	(void)ct;
	if (!b)
		return;
	/* §16.7 step 1 / §16.9: a timeout counts as 408, a transport error as 503. */
	proxy_branch_fail(b, why == TXN_FAIL_TIMEOUT ? 408 : 503);
}

/* §16.8: Timer C — no final response in time. */
static void timer_c_fired(struct timer *t)
{
	struct proxy_branch *b = container_of(t, struct proxy_branch, timer_c);
	LOG_INFO("timer_c", "call_id=%.*s branch=%u status=%d", STR_FMT(b->ctx->req->call_id),
		 b->index, b->status);
	if (b->status >= 100) {
		proxy_branch_cancel(b);
		return;
	}
	if (b->ct) {
		txn_client_release(b->ct);
		b->ct = NULL;
	}
	proxy_branch_fail(b, 408);
}

void proxy_timer_c_start(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	uint32_t ms = p->cfg->timer_c_ms ? p->cfg->timer_c_ms : 180000;
	timer_start(txn_layer_timers(p->txn), &b->timer_c, ms, timer_c_fired);
}

/* A response that matched no client transaction (§16.7: e.g. a 2xx
 * retransmission after the transaction ended): if the top Via is ours,
 * remove it and send it on to the next Via statelessly (§18.2.2). */
void proxy_on_stray_response(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt)
{
	struct proxy *p = arg;
	(void)pkt;
	const struct sip_via *top = rsp->via, *next = top ? top->next : NULL;
	if (!top || !next || !proxy_via_is_mine(p, top)) {
		p->stats.dropped++;
		return;
	}
	struct tp_dest d;
	memset(&d, 0, sizeof(d));
	if (tp_proto_parse(next->transport, &d.proto) < 0) {
		p->stats.dropped++;
		return;
	}
	struct str host = next->received.len ? next->received : next->host;
	uint16_t port = next->port ? next->port : 5060;
	uint32_t rport = 0;
	if (next->rport.len && str_to_u32(next->rport, 65535, &rport) == 0 && rport)
		port = (uint16_t)rport;
	if (tp_addr_from_ip(host, port, &d.addr) < 0) {
		p->stats.dropped++; /* a hostname: no stateless DNS on the response path */
		return;
	}
	struct sip_edit e;
	sip_edit_init(&e, rsp);
	sip_edit_via_pop(&e);
	size_t len;
	char *buf = proxy_edit_serialize(&e, &len);
	if (!buf)
		return;
	if (proxy_send_stateless(p, &d, buf, len) == 0)
		proxy_count_out_response(p, rsp->status);
	free(buf);
}
