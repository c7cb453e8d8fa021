/* build.c — messages built from scratch out of parsed ones: responses to a
 * received request (RFC 3261 §8.2.6, §16.7), CANCEL (§9.1), the ACK for a non-2xx
 * final response (§17.1.1.3), and the random tokens used for tags and branches.
 * Header fields are copied as slices of the parsed message, never reformatted. */
#include "sip/build.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* Bounded writer: remembers overflow instead of checking every call site. */
struct bw {
	char *out;
	size_t cap, len;
	bool over;
};

static void bw_put(struct bw *w, struct str s)
{
	if (w->over || s.len == 0)
		return;
	if (s.len > w->cap - w->len) {
		w->over = true;
		return;
	}
	memcpy(w->out + w->len, s.p, s.len);
	w->len += s.len;
}

static void bw_cstr(struct bw *w, const char *c)
{
	bw_put(w, str_cstr(c));
}

static void bw_u32(struct bw *w, uint32_t v)
{
	char num[16];
	int n = snprintf(num, sizeof(num), "%u", v);
	bw_put(w, str_make(num, (size_t)n));
}

/* "Name: value\r\n" */
static void bw_field(struct bw *w, const char *name, struct str value)
{
	bw_cstr(w, name);
	bw_cstr(w, ": ");
	bw_put(w, value);
	bw_cstr(w, "\r\n");
}

/* Every field of one id, in message order, under its long name. */
static void bw_fields(struct bw *w, const struct sip_msg *m, enum sip_hdr_id id, const char *name)
{
	for (const struct sip_hdr *h = m->first[id]; h; h = h->next_id)
		bw_field(w, name, h->value);
}

static size_t bw_done(struct bw *w)
{
	/* Callers get a C string too when there is room, handy for logging. */
	if (w->over)
		return 0;
	if (w->len < w->cap)
		w->out[w->len] = '\0';
	return w->len;
}

/* Does this To value carry a tag? Uses the parsed To when there is one (a
 * failed parse may have stopped before it), else scans the header params. */
static bool to_has_tag(const struct sip_msg *m, const struct sip_hdr *to)
{
	if (m->to && m->to->hdr == to)
		return str_present(m->to->tag);
	struct str v = to->value;
	const char *params = memchr(v.p, '>', v.len);
	if (!params)
		params = memchr(v.p, ';', v.len);
	if (!params)
		return false;
	struct str rest = str_make(params, v.len - (size_t)(params - v.p));
	struct str tag;
	return sip_param_find(rest.p[0] == '>' ? str_make(rest.p + 1, rest.len - 1) : rest, "tag",
			      &tag);
}

size_t sip_build_response(const struct sip_msg *req, int status, const char *reason,
			  struct str to_tag, struct str extra, char *out, size_t cap)
{
	const struct sip_hdr *from = req->first[SIP_HDR_FROM], *to = req->first[SIP_HDR_TO];
	const struct sip_hdr *callid = req->first[SIP_HDR_CALL_ID];
	const struct sip_hdr *cseq = req->first[SIP_HDR_CSEQ];
	/* Only the Via is indispensable (the client matches on its branch); a
	 * request missing From/To/Call-ID/CSeq (RFC 4475 §3.3.1) still gets its
	 * 400 with what it had. */
	if (!req->first[SIP_HDR_VIA] || status < 100 || status > 699)
		return 0;
	if (!reason)
		reason = sip_reason_phrase(status);
	struct bw w = {out, cap, 0, false};
	bw_cstr(&w, "SIP/2.0 ");
	bw_u32(&w, (uint32_t)status);
	bw_cstr(&w, " ");
	bw_cstr(&w, reason);
	bw_cstr(&w, "\r\n");
	/* RFC 3261 §8.2.6.2: Via fields in order, From, To, Call-ID, CSeq copied. */
	bw_fields(&w, req, SIP_HDR_VIA, "Via");
	if (from)
		bw_field(&w, "From", from->value);
	if (to) {
		bw_cstr(&w, "To: ");
		bw_put(&w, to->value);
		/* §8.2.6.2: add a To tag unless one is there; a 100 (§8.2.6.1) never does. */
		if (status != 100 && str_present(to_tag) && to_tag.len && !to_has_tag(req, to)) {
			bw_cstr(&w, ";tag=");
			bw_put(&w, to_tag);
		}
		bw_cstr(&w, "\r\n");
	}
	if (callid)
		bw_field(&w, "Call-ID", callid->value);
	if (cseq)
		bw_field(&w, "CSeq", cseq->value);
	bw_put(&w, extra);
	bw_cstr(&w, "Content-Length: 0\r\n\r\n");
	return bw_done(&w);
}

/* Request line + top Via + Max-Forwards + Route fields: common to CANCEL and
 * the non-2xx ACK, both of which reuse the original INVITE's branch. */
static bool bw_request_head(struct bw *w, const struct sip_msg *sent, const char *method)
{
	if (!sent->is_request || !sent->via || !sent->first[SIP_HDR_FROM] ||
	    !sent->first[SIP_HDR_TO] || !sent->first[SIP_HDR_CALL_ID] || !sent->ruri_str.p)
		return false;
	bw_cstr(w, method);
	bw_cstr(w, " ");
	bw_put(w, sent->ruri_str);
	bw_cstr(w, " SIP/2.0\r\n");
	bw_field(w, "Via", sent->via->raw);
	bw_cstr(w, "Max-Forwards: 70\r\n");
	bw_fields(w, sent, SIP_HDR_ROUTE, "Route");
	return true;
}

size_t sip_build_cancel(const struct sip_msg *sent, char *out, size_t cap)
{
	struct bw w = {out, cap, 0, false};
	/* RFC 3261 §9.1: Request-URI, Call-ID, To, From and CSeq number identical to
	 * the request being cancelled, a single Via equal to its top Via, and its
	 * Route values. */
	if (!bw_request_head(&w, sent, "CANCEL"))
		return 0;
	bw_field(&w, "From", sent->first[SIP_HDR_FROM]->value);
	bw_field(&w, "To", sent->first[SIP_HDR_TO]->value);
	bw_field(&w, "Call-ID", sent->first[SIP_HDR_CALL_ID]->value);
	bw_cstr(&w, "CSeq: ");
	bw_u32(&w, sent->cseq);
	bw_cstr(&w, " CANCEL\r\nContent-Length: 0\r\n\r\n");
	return bw_done(&w);
}

size_t sip_build_ack(const struct sip_msg *sent, const struct sip_msg *rsp, char *out, size_t cap)
{
	struct bw w = {out, cap, 0, false};
	const struct sip_hdr *rto = rsp->first[SIP_HDR_TO];
	if (!rto)
		return 0;
	/* RFC 3261 §17.1.1.3: Request-URI, Call-ID, From, top Via, CSeq number and
	 * Route of the INVITE; To of the response (it carries the UAS tag). */
	if (!bw_request_head(&w, sent, "ACK"))
		return 0;
	bw_field(&w, "From", sent->first[SIP_HDR_FROM]->value);
	bw_field(&w, "To", rto->value);
	bw_field(&w, "Call-ID", sent->first[SIP_HDR_CALL_ID]->value);
	bw_cstr(&w, "CSeq: ");
	bw_u32(&w, sent->cseq);
	bw_cstr(&w, " ACK\r\nContent-Length: 0\r\n\r\n");
	return bw_done(&w);
}

/* Random tokens: a splitmix64 stream per thread, seeded once from getrandom().
 * This thread-local generator state is the file's only mutable static; it is
 * private, needs no locking, and tags/branches need uniqueness (RFC 3261
 * §19.3: "globally unique and cryptographically random" is satisfied by a
 * 64-bit kernel seed), not secrecy, so a fast generator is enough. */
static _Thread_local uint64_t token_state;
static _Thread_local bool token_seeded;

static uint64_t token_next(void)
{
	if (!token_seeded) {
		uint64_t seed = 0;
		ssize_t r;
		do
			r = getrandom(&seed, sizeof(seed), GRND_NONBLOCK);
		while (r < 0 && errno == EINTR);
		if (r != (ssize_t)sizeof(seed)) {
			/* Early boot without entropy: fall back to clock ^ pid ^ ASLR. */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			seed ^= (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
				((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)&ts;
		}
		token_state = seed;
		token_seeded = true;
	}
	uint64_t z = (token_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void sip_random_token(char *out, size_t n)
{
	static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	size_t i = 0;
	while (i < n) {
		/* 36^12 < 2^64: twelve characters per draw. */
		uint64_t x = token_next();
		for (int k = 0; k < 12 && i < n; k++, i++) {
			out[i] = alphabet[x % 36];
			x /= 36;
		}
	}
	out[n] = '\0';
}
