/* validate.c — request validation before proxying (RFC 3261 §16.3): URI
 * scheme (416), Max-Forwards (483), loop detection (482, with the §16.6 step 8
 * branch hash) and Proxy-Require (420). Syntax (step 1) is the parser's. */
#include "proxy/proxy_internal.h"

#include <stdio.h>
#include <string.h>

/* FNV-1a 64 over the fields §16.6 step 8 names, each followed by a separator
 * so that field boundaries count. */
static uint64_t fnv64(uint64_t h, struct str s)
{
	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.p[i];
		h *= 1099511628211ull;
	}
	h ^= 0xff;
	h *= 1099511628211ull;
	return h;
}

static uint64_t hash_headers(uint64_t h, const struct sip_msg *req, enum sip_hdr_id id)
{
	for (const struct sip_hdr *x = sip_msg_hdr(req, id); x; x = x->next_id)
		h = fnv64(h, x->value);
	return h;
}

/* §16.6 step 8: the part of the branch that lets §16.3 step 4 tell a loop
 * (same hash) from a spiral (Request-URI or other inputs changed). The top
 * Via is left out so the value survives the request coming back to us. */
void proxy_loop_hash(const struct sip_msg *req, char out[PROXY_LOOP_HASH_HEX + 1])
{
	uint64_t h = 14695981039346656037ull;
	h = fnv64(h, req->ruri_str);
	h = fnv64(h, req->from ? req->from->tag : STR_NULL);
	h = fnv64(h, req->to ? req->to->tag : STR_NULL);
	h = fnv64(h, req->call_id);
	char cseq[16];
	int n = snprintf(cseq, sizeof(cseq), "%u", req->cseq);
	h = fnv64(h, str_make(cseq, (size_t)n));
	h = hash_headers(h, req, SIP_HDR_PROXY_REQUIRE);
	h = hash_headers(h, req, SIP_HDR_PROXY_AUTHORIZATION);
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < PROXY_LOOP_HASH_HEX; i++)
		out[i] = hex[(h >> (60 - 4 * i)) & 0xf];
	out[PROXY_LOOP_HASH_HEX] = '\0';
}

/* Is this Via value one we put there (sent-by is one of our listeners)? */
bool proxy_via_is_mine(const struct proxy *p, const struct sip_via *v)
{
	const struct tp_listener *ls[32];
	size_t n = tp_listeners(p->tp, ls, 32);
	uint16_t port = sip_via_port(v);
	for (size_t i = 0; i < n; i++)
		if (ls[i]->port == port && str_case_eq_cstr(v->host, ls[i]->host))
			return true;
	return false;
}

static bool request_looped(const struct proxy *p, const struct sip_msg *req)
{
	char hash[PROXY_LOOP_HASH_HEX + 1] = "";
	for (const struct sip_via *v = req->via; v; v = v->next) {
		if (!proxy_via_is_mine(p, v))
			continue;
		/* our branches: "z9hG4bK" <loop hash> "." <unique part> */
		if (v->branch.len < 7 + PROXY_LOOP_HASH_HEX ||
		    !str_case_prefix(v->branch, "z9hG4bK"))
			continue;
		if (!hash[0])
			proxy_loop_hash(req, hash);
		if (memcmp(v->branch.p + 7, hash, PROXY_LOOP_HASH_HEX) == 0)
			return true;
	}
	return false;
}

struct unsupported {
	char *out;
	size_t cap, len;
	unsigned count;
};

static int collect_unsupported(void *arg, struct str token)
{
	struct unsupported *u = arg;
	/* This proxy implements no option-tag that needs proxy support. */
	int n = snprintf(u->out + u->len, u->cap - u->len, "%s%.*s", u->count ? ", " : "",
			 STR_FMT(token));
	if (n > 0 && (size_t)n < u->cap - u->len)
		u->len += (size_t)n;
	u->count++;
	return 0;
}

int proxy_validate(struct proxy *p, const struct sip_msg *req, const char **reason, char *extra,
		   size_t extra_cap)
{
	extra[0] = '\0';
	/* Step 2: URI scheme. tel is routed (to a SIP Server), others are not. */
	if (req->ruri.scheme == SIP_URI_OTHER) {
		*reason = "Unsupported URI Scheme";
		return 416;
	}
	/* Step 3: Max-Forwards. An OPTIONS for this proxy itself is answered
	 * here (§16.3 step 3 allows it): the keep-alive other proxies of the
	 * cluster, and monitors, send. */
	if (req->max_forwards == 0 && req->method == SIP_METHOD_OPTIONS && !req->route &&
	    proxy_uri_is_me(p, &req->ruri) && !req->ruri.user.len) {
		*reason = "OK";
		return 200;
	}
	if (req->max_forwards == 0) {
		*reason = "Too Many Hops";
		return 483;
	}
	/* Step 4: loop detection. */
	if (request_looped(p, req)) {
		*reason = "Loop Detected";
		return 482;
	}
	/* Step 5: Proxy-Require. */
	if (sip_msg_hdr(req, SIP_HDR_PROXY_REQUIRE)) {
		static const char pre[] = "Unsupported: ";
		struct unsupported u = {extra + sizeof(pre) - 1, extra_cap - sizeof(pre) - 3, 0, 0};
		if (extra_cap < sizeof(pre) + 8)
			return 420;
		memcpy(extra, pre, sizeof(pre) - 1);
		sip_msg_tokens(req, SIP_HDR_PROXY_REQUIRE, collect_unsupported, &u);
		if (u.count) {
			memcpy(u.out + u.len, "\r\n", 3);
			*reason = "Bad Extension";
			return 420;
		}
		extra[0] = '\0';
	}
	return 0;
}
