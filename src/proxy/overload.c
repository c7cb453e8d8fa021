/* overload.c — the vendor's overload-ctrl-dialog-rate: at most that many new
 * INVITEs (no To tag) per second are taken; the rest get 503 with
 * Retry-After and are counted. In-dialog requests are never refused. A token
 * bucket on the transaction layer's clock, refilled continuously, holding at
 * most one second's worth, so a burst right after a quiet second is allowed
 * but the rate over any longer time is not exceeded. */
#include "proxy/proxy_internal.h"

bool proxy_overload_admit(struct proxy *p, const struct sip_msg *req)
{
	unsigned rate = p->cfg->overload_dialog_rate;
	if (!rate || req->method != SIP_METHOD_INVITE || (req->to && req->to->tag.len))
		return true;
	uint64_t now = txn_layer_now(p->txn);
	/* Tokens are kept in thousandths so that any rate refills smoothly. */
	uint64_t cap = (uint64_t)rate * 1000;
	if (!p->overload.started) {
		p->overload.started = true;
		p->overload.tokens = cap;
	} else {
		p->overload.tokens += (now - p->overload.last_ms) * rate;
		if (p->overload.tokens > cap)
			p->overload.tokens = cap;
	}
	p->overload.last_ms = now;
	if (p->overload.tokens < 1000) {
		p->stats.overload_rejected++;
		return false;
	}
	p->overload.tokens -= 1000;
	return true;
}
