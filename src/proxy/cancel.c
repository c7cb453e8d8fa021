/* cancel.c — CANCEL (RFC 3261 §16.10, §9.1): answered 200 hop by hop, then
 * every pending branch of the matching INVITE is cancelled with a CANCEL of
 * its own, sent only once that branch has had a provisional response. */
#include "proxy/proxy_internal.h"

#include <stdlib.h>

#include "sip/build.h"
#include "util/log.h"

void proxy_branch_cancel(struct proxy_branch *b)
{
	struct proxy *p = b->ctx->p;
	if (b->cancelled || b->state == BRANCH_DONE)
		return;
	if (b->state == BRANCH_RESOLVING) {
		/* Nothing was sent: the branch simply ends. */
		if (b->query) {
			resolver_cancel(b->query);
			b->query = NULL;
		}
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
		struct txn_client *ct = txn_client_send(p->txn, txn_client_dest(b->ct),
							SIP_METHOD_CANCEL, inv->via->branch, buf, n,
							NULL);
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

void proxy_on_cancel(struct proxy *p, struct txn_server *st, struct sip_msg *cancel)
{
	struct txn_server *inv = txn_server_find_invite(p->txn, cancel, txn_server_source(st));
	struct proxy_ctx *ctx = inv ? txn_server_user(inv) : NULL;
	if (!ctx) {
		/* §16.10 would forward it statelessly; as a stateful proxy that
		 * saw no such INVITE we answer 481 (no transaction to cancel). */
		proxy_reply(p, st, 481, NULL, STR_NULL);
		return;
	}
	proxy_reply(p, st, 200, NULL, STR_NULL);
	if (ctx->final_sent)
		return;
	ctx->cancelled = true;
	proxy_ctx_cancel_others(ctx, NULL);
}
