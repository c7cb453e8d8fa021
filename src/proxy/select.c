/* select.c — choosing the final response of a response context (RFC 3261
 * §16.7 steps 6-7): 6xx first, else the lowest class, preferring 401, 407,
 * 415, 420, 484 within it; a 503 goes up as 500; a 401/407 carries the
 * challenges of every other 401/407 branch (step 7), merged unmodified. */
#include "proxy/proxy_internal.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/log.h"

/* Lower is better (§16.7 step 6). */
static int response_rank(int status)
{
	if (status >= 600)
		return 0;
	int cls = status / 100;
	bool preferred =
	    status == 401 || status == 407 || status == 415 || status == 420 || status == 484;
	return cls * 1000 + (preferred ? 0 : status);
}

static bool is_challenge(int status)
{
	return status == 401 || status == 407;
}

/* Appends rsp's WWW-Authenticate and Proxy-Authenticate fields, as received,
 * to the context's collection (step 7: "without modification"). */
static void collect_challenges(struct proxy_ctx *ctx, const struct sip_msg *rsp)
{
	size_t add = 0;
	for (const struct sip_hdr *h = rsp->hdrs; h; h = h->next)
		if (h->id == SIP_HDR_WWW_AUTHENTICATE || h->id == SIP_HDR_PROXY_AUTHENTICATE)
			add += h->raw.len;
	if (!add)
		return;
	if (!ctx->arena && !(ctx->arena = arena_new(1024)))
		return;
	char *buf = arena_alloc(ctx->arena, ctx->challenges.len + add);
	if (!buf)
		return;
	if (ctx->challenges.len)
		memcpy(buf, ctx->challenges.p, ctx->challenges.len);
	size_t n = ctx->challenges.len;
	for (const struct sip_hdr *h = rsp->hdrs; h; h = h->next)
		if (h->id == SIP_HDR_WWW_AUTHENTICATE || h->id == SIP_HDR_PROXY_AUTHENTICATE) {
			memcpy(buf + n, h->raw.p, h->raw.len);
			n += h->raw.len;
		}
	ctx->challenges = str_make(buf, n);
}

bool proxy_select_consider(struct proxy_ctx *ctx, struct sip_msg *rsp, int status)
{
	bool better = !ctx->best_status || response_rank(status) < response_rank(ctx->best_status);
	if (!better) {
		if (rsp && is_challenge(status))
			collect_challenges(ctx, rsp);
		return false;
	}
	if (ctx->best) {
		if (is_challenge(ctx->best->status))
			collect_challenges(ctx, ctx->best);
		sip_msg_free(ctx->best);
	}
	ctx->best = rsp;
	ctx->best_status = status;
	return rsp != NULL;
}

/* The best response with our Via removed and the other branches' challenges
 * added at the end of its header (step 7); malloc'd. */
static char *best_with_challenges(struct proxy_ctx *ctx, size_t *len)
{
	struct sip_edit e;
	sip_edit_init(&e, ctx->best);
	sip_edit_via_pop(&e);
	size_t n = 0;
	char *buf = sip_edit_serialize(&e, &n);
	if (!buf || !ctx->challenges.len || !is_challenge(ctx->best_status)) {
		*len = n;
		return buf;
	}
	const char *end = memmem(buf, n, "\r\n\r\n", 4);
	char *out = end ? malloc(n + ctx->challenges.len) : NULL;
	if (!out) {
		*len = n;
		return buf;
	}
	size_t head = (size_t)(end - buf) + 2; /* keep the last header's CRLF */
	memcpy(out, buf, head);
	memcpy(out + head, ctx->challenges.p, ctx->challenges.len);
	memcpy(out + head + ctx->challenges.len, buf + head, n - head);
	free(buf);
	*len = n + ctx->challenges.len;
	return out;
}

void proxy_select_send_best(struct proxy_ctx *ctx)
{
	struct proxy *p = ctx->p;
	ctx->final_sent = true;
	if (!ctx->st)
		return;
	int status = ctx->best_status ? ctx->best_status : 408;
	if (ctx->cancelled && (status == 408 || status == 503 || !ctx->best))
		status = 487; /* §16.10: the caller asked to stop; say so */
	if (status == 503 && ctx->no_server && !ctx->best) {
		/* Our own: no SIP Server in service (RFC 3261 §21.5.4). */
		char ra[40] = "";
		if (ctx->retry_after)
			snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", ctx->retry_after);
		proxy_reply(p, ctx->st, 503, NULL, str_cstr(ra));
		return;
	}
	if (status == 503) {
		/* §16.7 step 6: a 503 is not passed upstream as is. */
		proxy_reply(p, ctx->st, 500, "Server Error Downstream", STR_NULL);
		return;
	}
	if (!ctx->best || ctx->best->status != status) {
		proxy_reply(p, ctx->st, status, NULL, STR_NULL);
		return;
	}
	size_t len = 0;
	char *buf = best_with_challenges(ctx, &len);
	if (!buf) {
		LOG_WARN("response_edit_failed", "status=%d", status);
		proxy_reply(p, ctx->st, 500, NULL, STR_NULL);
		return;
	}
	if (txn_server_reply(ctx->st, status, buf, len) == 0)
		proxy_count_out_response(p, status);
	free(buf);
}
