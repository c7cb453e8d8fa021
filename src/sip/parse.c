/* parse.c — one pass over a SIP message (RFC 3261 §7): start line (§7.1,
 * §7.2), header fields split at CRLF with folding (§7.3.1), the limits of
 * struct sip_limits, then Content-Length and the body (§18.3, §20.14). Per-header
 * grammars live in parse_hdr.c / parse_addr.c. Hardened against RFC 4475 §3.1.2:
 * exactly one SP between request-line elements, no trailing SP, versions other
 * than SIP/2.0 get 505. */
#include <string.h>

#include "sip/parse_int.h"
#include "util/arena.h"

/* "SIP/" 1*DIGIT "." 1*DIGIT; returns 1 for SIP/2.0, 0 for another version,
 * -1 for something that is not a SIP-Version at all. */
static int parse_version(struct str v)
{
	if (v.len < 7 || sc_lower((unsigned char)v.p[0]) != 's' ||
	    sc_lower((unsigned char)v.p[1]) != 'i' || sc_lower((unsigned char)v.p[2]) != 'p' ||
	    v.p[3] != '/')
		return -1;
	size_t i = 4, major = i;
	while (i < v.len && sc_is((unsigned char)v.p[i], SC_DIGIT))
		i++;
	if (i == major || i >= v.len || v.p[i] != '.')
		return -1;
	size_t dot = i++, minor = i;
	while (i < v.len && sc_is((unsigned char)v.p[i], SC_DIGIT))
		i++;
	if (i == minor || i != v.len)
		return -1;
	return (dot == 5 && v.p[4] == '2' && v.len == 7 && v.p[6] == '0') ? 1 : 0;
}

/* Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (§7.2). */
static void parse_status_line(struct sip_msg *m, struct str line)
{
	const char *p = line.p, *e = line.p + line.len;
	const char *sp = memchr(p, ' ', line.len);
	if (!sp) {
		sip_parse_fail(m, 400, "Bad status line");
		return;
	}
	m->version = str_make(p, (size_t)(sp - p));
	int v = parse_version(m->version);
	p = sp + 1;
	/* Status-Code = 3DIGIT (§25.1); RFC 4475 §3.1.2.19: a bigger number is an error. */
	if (e - p < 3 || !sc_is((unsigned char)p[0], SC_DIGIT) ||
	    !sc_is((unsigned char)p[1], SC_DIGIT) || !sc_is((unsigned char)p[2], SC_DIGIT) ||
	    (e - p > 3 && p[3] != ' ')) {
		sip_parse_fail(m, 400, "Bad status code");
		return;
	}
	m->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	if (m->status < 100 || m->status > 699) {
		sip_parse_fail(m, 400, "Bad status code");
		return;
	}
	p += 3;
	if (p < e)
		p++;
	/* Reason-Phrase: any text but CR/LF, UTF-8 included (RFC 4475 §3.1.1.12); empty is fine
	 * (§3.1.1.13). */
	m->reason = str_make(p, (size_t)(e - p));
	if (v < 0)
		sip_parse_fail(m, 400, "Bad SIP version");
	else if (v == 0)
		sip_parse_fail(m, 505, "Version Not Supported");
}

/* Request-Line = Method SP Request-URI SP SIP-Version (§7.1): single SPs only
 * (RFC 4475 §3.1.2.9, §3.1.2.10), no <> and no LWS in the URI (§3.1.2.7, §3.1.2.8). */
static void parse_request_line(struct sip_msg *m, struct str line)
{
	const char *p = line.p, *e = line.p + line.len;
	while (p < e && sc_is((unsigned char)*p, SC_TOKEN))
		p++;
	if (p == line.p || p >= e || *p != ' ') {
		sip_parse_fail(m, 400, "Bad request line");
		return;
	}
	m->is_request = true;
	m->method_str = str_make(line.p, (size_t)(p - line.p));
	m->method = sip_method_from_str(m->method_str);
	const char *u = ++p;
	const char *sp = memchr(u, ' ', (size_t)(e - u));
	if (!sp || sp == u) {
		sip_parse_fail(m, 400, "Bad request line");
		return;
	}
	m->ruri_str = str_make(u, (size_t)(sp - u));
	m->version = str_make(sp + 1, (size_t)(e - sp - 1));
	for (size_t i = 0; i < m->version.len; i++) {
		if (m->version.p[i] == ' ' || m->version.p[i] == '\t') {
			sip_parse_fail(m, 400, "Bad request line");
			return;
		}
	}
	int v = parse_version(m->version);
	if (v < 0) {
		sip_parse_fail(m, 400, "Bad SIP version");
		return;
	}
	if (v == 0)
		sip_parse_fail(m, 505, "Version Not Supported");
	if (m->ruri_str.p[0] == '<' || sip_uri_parse(m->ruri_str, &m->ruri) != 0) {
		sip_parse_fail(m, 400, "Bad Request-URI");
		return;
	}
	/* RFC 4475 §3.1.2.11: headers ("?") are not allowed in a SIP Request-URI (§19.1.5 table).
	 */
	if ((m->ruri.scheme == SIP_URI_SIP || m->ruri.scheme == SIP_URI_SIPS) &&
	    str_present(m->ruri.headers))
		sip_parse_fail(m, 400, "Bad Request-URI");
}

/* One header field at p: name, ':', value up to the CRLF not followed by WSP.
 * Returns the position after the field, or NULL (m->error set). */
static const char *split_field(struct sip_parse_ctx *c, const char *p, const char *end,
			       const struct sip_limits *lim)
{
	struct sip_msg *m = c->m;
	const char *start = p;
	while (p < end && sc_is((unsigned char)*p, SC_TOKEN))
		p++;
	const char *name_end = p;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (name_end == start || p >= end || *p != ':') {
		sip_parse_fail(m, 400, "Bad header field");
		return NULL;
	}
	const char *vstart = p + 1;
	/* Field ends at the first CRLF that is not a fold (CRLF followed by SP/HTAB). */
	const char *q = vstart;
	const char *lf;
	for (;;) {
		lf = memchr(q, '\n', (size_t)(end - q));
		if (!lf) {
			sip_parse_fail(m, 400, "Missing end of headers");
			return NULL;
		}
		if (lf == vstart || lf[-1] != '\r') {
			sip_parse_fail(m, 400, "Bare LF in header");
			return NULL;
		}
		if (lf + 1 < end && (lf[1] == ' ' || lf[1] == '\t')) {
			q = lf + 1;
			continue;
		}
		break;
	}
	const char *fend = lf + 1;
	if ((size_t)(fend - start) > lim->max_line)
		sip_parse_fail(m, 400, "Header field too long");
	if (++m->hdr_count > lim->max_headers) {
		sip_parse_fail(m, 400, "Too many header fields");
		return NULL;
	}
	struct sip_hdr *h = arena_alloc(m->arena, sizeof(*h));
	if (!h) {
		sip_parse_fail(m, 500, "Out of memory");
		return NULL;
	}
	h->name = str_make(start, (size_t)(name_end - start));
	h->id = sip_hdr_name_id(start, h->name.len);
	h->value = str_trim(str_make(vstart, (size_t)(lf - 1 - vstart)));
	if (!h->value.len)
		h->value.p = vstart; /* empty but present, inside the field */
	h->raw = str_make(start, (size_t)(fend - start));
	h->next = NULL;
	h->next_id = NULL;
	if (c->last_hdr)
		c->last_hdr->next = h;
	else
		m->hdrs = h;
	c->last_hdr = h;
	if (c->last_id[h->id])
		c->last_id[h->id]->next_id = h;
	else
		m->first[h->id] = h;
	c->last_id[h->id] = h;
	sip_hdr_parse(c, h);
	return fend;
}

/* §8.1.1: To, From, CSeq, Call-ID, Via are mandatory (Max-Forwards may be
 * missing: RFC 2543 peers, RFC 4475 §3.4.1); §8.2.2 style checks on CSeq. */
static void check_mandatory(struct sip_msg *m)
{
	if (!m->first[SIP_HDR_VIA])
		sip_parse_fail(m, 400, "Missing Via");
	else if (!m->first[SIP_HDR_FROM])
		sip_parse_fail(m, 400, "Missing From");
	else if (!m->first[SIP_HDR_TO])
		sip_parse_fail(m, 400, "Missing To");
	else if (!m->first[SIP_HDR_CALL_ID])
		sip_parse_fail(m, 400, "Missing Call-ID");
	else if (!m->first[SIP_HDR_CSEQ])
		sip_parse_fail(m, 400, "Missing CSeq");
	/* §8.1.1.5: the CSeq method matches the request's (RFC 4475 §3.1.2.17-18). */
	if (m->is_request && m->cseq_method_str.p && m->method_str.p &&
	    !str_eq(m->cseq_method_str, m->method_str))
		sip_parse_fail(m, 400, "CSeq method does not match");
}

/* §18.3 / §18.1.1: Content-Length bounds the body; on a datagram the octets
 * after it are dropped (RFC 4475 §3.1.1.8) and a larger value is an error
 * (§3.1.2.2). Without Content-Length a datagram's body runs to its end. */
static void set_body(struct sip_msg *m, const char *body, const struct sip_limits *lim)
{
	size_t avail = (size_t)(m->buf + m->len - body);
	size_t blen = avail;
	if (m->content_length >= 0) {
		if ((size_t)m->content_length > avail) {
			sip_parse_fail(m, 400, "Content-Length larger than message");
		} else {
			blen = (size_t)m->content_length;
			m->len = (size_t)(body - m->buf) + blen;
		}
	}
	m->body = str_make(body, blen);
	if (blen > lim->max_body)
		sip_parse_fail(m, 413, "Request Entity Too Large");
}

int sip_msg_parse(struct sip_msg *m, const struct sip_limits *lim)
{
	static const struct sip_limits deflim = SIP_LIMITS_DEFAULT;
	if (!lim)
		lim = &deflim;
	/* A second call starts over (lists would otherwise be appended twice). */
	struct arena *a = m->arena;
	const char *buf = m->buf;
	size_t len = m->len;
	memset(m, 0, sizeof(*m));
	m->arena = a;
	m->buf = buf;
	m->len = len;
	m->max_forwards = -1;
	m->content_length = -1;
	m->expires = -1;
	struct sip_parse_ctx c;
	memset(&c, 0, sizeof(c));
	c.m = m;
	c.via_tail = &m->via;
	c.route_tail = &m->route;
	c.rr_tail = &m->record_route;
	c.contact_tail = &m->contact;
	c.path_tail = &m->path;

	/* §7.3.3 / our limit: answer 513 but still read the headers to reply. */
	if (m->len > lim->max_message)
		sip_parse_fail(m, 513, "Message Too Large");
	const char *p = m->buf, *end = m->buf + m->len;
	const char *lf = m->len ? memchr(p, '\n', m->len) : NULL;
	if (!lf || lf == p || lf[-1] != '\r' || lf - 1 == p) {
		sip_parse_fail(m, 400, "Bad start line");
		return -1;
	}
	struct str line = str_make(p, (size_t)(lf - 1 - p));
	m->start_line = line;
	if (memchr(line.p, '\r', line.len)) {
		sip_parse_fail(m, 400, "Bad start line");
		return -1;
	}
	if (line.len >= 4 && sc_lower((unsigned char)p[0]) == 's' &&
	    sc_lower((unsigned char)p[1]) == 'i' && sc_lower((unsigned char)p[2]) == 'p' &&
	    p[3] == '/')
		parse_status_line(m, line);
	else
		parse_request_line(m, line);
	if (!m->is_request && m->status == 0) {
		sip_parse_fail(m, 400, "Bad start line");
		return -1;
	}
	p = lf + 1;
	for (;;) {
		if (p >= end) {
			sip_parse_fail(m, 400, "Missing end of headers");
			return -1;
		}
		if (*p == '\r') {
			if (p + 1 >= end || p[1] != '\n') {
				sip_parse_fail(m, 400, "Bad end of headers");
				return -1;
			}
			m->hdrs_end = p;
			break;
		}
		p = split_field(&c, p, end, lim);
		if (!p)
			return -1;
	}
	check_mandatory(m);
	set_body(m, m->hdrs_end + 2, lim);
	return m->error.status ? -1 : 0;
}
