/* cancel.c — CANCEL (RFC 3261 §16.10, §9.1). One matching a response context
 * is answered 200 hop by hop and every pending branch of that INVITE gets a
 * CANCEL of its own (branch.c), sent once it has had a provisional response.
 * One matching nothing is forwarded like any request, with the deterministic
 * branch a stateless proxy would give it (forward.c), so that a downstream
 * element that saw the INVITE can still act on it. */
#include "proxy/proxy_internal.h"

bool proxy_cancel_matched(struct proxy *p, struct txn_server *st, struct sip_msg *cancel)
{
	struct txn_server *inv = txn_server_find_invite(p->txn, cancel, txn_server_source(st));
	struct proxy_ctx *ctx = inv ? txn_server_user(inv) : NULL;
	if (!ctx)
		return false;
	proxy_reply(p, st, 200, NULL, STR_NULL);
	proxy_ctx_hold(ctx);
	if (!ctx->final_sent) {
		ctx->cancelled = true;
		proxy_ctx_cancel_others(ctx, NULL);
	}
	proxy_ctx_release(ctx);
	return true;
}
