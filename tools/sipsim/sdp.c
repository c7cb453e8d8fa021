/* sdp.c — the simulator's SDP (RFC 4566) in the offer/answer model (RFC 3264):
 * an offer of its own (PCMU, PCMA, telephone-event) for the calls it places and
 * for an INVITE that came without one, and the answer to an offer: the first
 * RTP audio stream accepted with every format it offered, in the offer's order
 * (§6.1), the direction mirrored (§6.1: sendonly <-> recvonly), every other
 * stream refused with port 0 (§6). c= and the port are the listen IP and the
 * call's RTP echo socket (media.c). SRTP and ICE are not spoken. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sipsim.h"

#define SDP_MAX_STREAMS 8
#define SDP_MAX_ATTRS	32

struct sdp_stream {
	struct str type, port, proto, fmts; /* the m= line's fields */
	struct str attrs[SDP_MAX_ATTRS];    /* a= values (after "a=") */
	unsigned nattrs;
	struct str dir; /* sendrecv|sendonly|recvonly|inactive, empty = session's */
};

/* Appends to out at *n; once it no longer fits, *n = cap and false. */
__attribute__((format(printf, 4, 5))) static bool sdp_put(char *out, size_t cap, size_t *n,
							  const char *fmt, ...)
{
	if (*n >= cap)
		return false;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(out + *n, cap - *n, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= cap - *n) {
		*n = cap;
		return false;
	}
	*n += (size_t)w;
	return true;
}

/* The session part every SDP of ours starts with (RFC 4566 §5). */
static void sdp_head(const struct sim *s, unsigned version, char *out, size_t cap, size_t *n)
{
	const char *ip = s->laddr.ss_family == AF_INET6 ? "IP6" : "IP4";
	sdp_put(out, cap, n,
		"v=0\r\no=sipsim %lu %u IN %s %s\r\ns=sipsim\r\nc=IN %s %s\r\nt=0 0\r\n",
		(unsigned long)s->port, version, ip, s->host, ip, s->host);
}

size_t sim_sdp_offer(const struct sim *s, uint16_t port, unsigned version, char *out, size_t cap)
{
	size_t n = 0;
	sdp_head(s, version, out, cap, &n);
	sdp_put(out, cap, &n,
		"m=audio %u RTP/AVP 0 8 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"
		"a=ptime:20\r\na=sendrecv\r\n",
		port);
	return n < cap ? n : 0;
}

/* The next whitespace-separated word of *v (advanced past it). */
static struct str sdp_word(struct str *v)
{
	size_t i = 0;
	while (i < v->len && v->p[i] == ' ')
		i++;
	size_t b = i;
	while (i < v->len && v->p[i] != ' ')
		i++;
	struct str w = str_make(v->p + b, i - b);
	*v = str_make(v->p + i, v->len - i);
	return w;
}

static bool sdp_is_dir(struct str a)
{
	return str_eq(a, STR_LIT("sendrecv")) || str_eq(a, STR_LIT("sendonly")) ||
	       str_eq(a, STR_LIT("recvonly")) || str_eq(a, STR_LIT("inactive"));
}

/* RFC 3264 §6.1: what the answerer says for the offer's direction. */
static const char *sdp_answer_dir(struct str offered)
{
	if (str_eq(offered, STR_LIT("sendonly")))
		return "recvonly";
	if (str_eq(offered, STR_LIT("recvonly")))
		return "sendonly";
	if (str_eq(offered, STR_LIT("inactive")))
		return "inactive";
	return "sendrecv";
}

/* The attributes an echo answers with: the formats' maps and parameters. */
static bool sdp_keep_attr(struct str a)
{
	return str_case_prefix(a, "rtpmap:") || str_case_prefix(a, "fmtp:") ||
	       str_case_prefix(a, "ptime:") || str_case_prefix(a, "maxptime:");
}

static unsigned sdp_parse(struct str offer, struct sdp_stream *st, struct str *session_dir)
{
	unsigned ns = 0;
	size_t i = 0;
	*session_dir = STR_NULL;
	while (i < offer.len) {
		size_t b = i;
		while (i < offer.len && offer.p[i] != '\r' && offer.p[i] != '\n')
			i++;
		struct str line = str_make(offer.p + b, i - b);
		while (i < offer.len && (offer.p[i] == '\r' || offer.p[i] == '\n'))
			i++;
		if (line.len < 2 || line.p[1] != '=')
			continue;
		struct str v = str_make(line.p + 2, line.len - 2);
		if (line.p[0] == 'm') {
			if (ns == SDP_MAX_STREAMS)
				break;
			struct sdp_stream *m = &st[ns++];
			memset(m, 0, sizeof(*m));
			m->type = sdp_word(&v);
			m->port = sdp_word(&v);
			m->proto = sdp_word(&v);
			m->fmts = str_trim(v);
		} else if (line.p[0] == 'a') {
			struct sdp_stream *m = ns ? &st[ns - 1] : NULL;
			if (sdp_is_dir(v)) {
				if (m)
					m->dir = v;
				else
					*session_dir = v;
			} else if (m && m->nattrs < SDP_MAX_ATTRS && sdp_keep_attr(v)) {
				m->attrs[m->nattrs++] = v;
			}
		}
	}
	return ns;
}

size_t sim_sdp_answer(const struct sim *s, struct str offer, uint16_t port, unsigned version,
		      char *out, size_t cap)
{
	struct sdp_stream st[SDP_MAX_STREAMS];
	struct str session_dir;
	unsigned ns = sdp_parse(offer, st, &session_dir);
	int take = -1;
	for (unsigned k = 0; k < ns && take < 0; k++)
		if (str_eq(st[k].type, STR_LIT("audio")) && !str_eq(st[k].port, STR_LIT("0")) &&
		    st[k].fmts.len &&
		    (str_eq(st[k].proto, STR_LIT("RTP/AVP")) ||
		     str_eq(st[k].proto, STR_LIT("RTP/AVPF"))))
			take = (int)k;
	if (take < 0)
		return 0;
	size_t n = 0;
	sdp_head(s, version, out, cap, &n);
	for (unsigned k = 0; k < ns; k++) {
		const struct sdp_stream *m = &st[k];
		if ((int)k != take) {
			/* §6: a refused stream keeps its line, with port 0. */
			sdp_put(out, cap, &n, "m=%.*s 0 %.*s %.*s\r\n", STR_FMT(m->type),
				STR_FMT(m->proto), STR_FMT(m->fmts));
			continue;
		}
		sdp_put(out, cap, &n, "m=audio %u %.*s %.*s\r\n", port, STR_FMT(m->proto),
			STR_FMT(m->fmts));
		for (unsigned a = 0; a < m->nattrs; a++)
			sdp_put(out, cap, &n, "a=%.*s\r\n", STR_FMT(m->attrs[a]));
		sdp_put(out, cap, &n, "a=%s\r\n",
			sdp_answer_dir(m->dir.len ? m->dir : session_dir));
	}
	return n < cap ? n : 0;
}
