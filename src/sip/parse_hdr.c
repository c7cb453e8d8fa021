/* parse_hdr.c — header names and the scalar/Via grammars (RFC 3261 §20, §25.1):
 * the name->id table with compact forms (§7.3.3), Via (§20.42, rport RFC 3581),
 * CSeq (§20.16), Max-Forwards (§20.22), Content-Length (§20.14), Expires
 * (§20.19), Call-ID (§20.8) and a syntax check of Date (§20.17, rfc1123-date).
 * name-addr headers are in parse_addr.c. */
#include <string.h>

#include "sip/parse_int.h"
#include "util/arena.h"

/* lit is lower case letters and '-'; the header's bytes may be any case.
 * OR 0x20 folds only 'A'-'Z' onto the letters and only CR (< 0x21) onto '-',
 * so with control bytes excluded it is an exact case-insensitive compare. */
static bool ci_eq(const char *p, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((unsigned char)(c | 0x20) != (unsigned char)lit[i] || c < 0x21)
			return false;
	}
	return true;
}

/* Switch on length, then first letter: at most one or two compares per name. */
enum sip_hdr_id sip_hdr_name_id(const char *p, size_t len)
{
	unsigned char c0 = len ? sc_lower((unsigned char)p[0]) : 0;
#define NAME(lit, id)                                                                              \
	if (ci_eq(p, lit, len))                                                                    \
		return id;
	switch (len) {
	case 1:
		/* §7.3.3 compact forms (plus RFC 3265 "o", RFC 3261 "e", "s", "k"). */
		switch (c0) {
		case 'v': return SIP_HDR_VIA;
		case 'f': return SIP_HDR_FROM;
		case 't': return SIP_HDR_TO;
		case 'i': return SIP_HDR_CALL_ID;
		case 'm': return SIP_HDR_CONTACT;
		case 'l': return SIP_HDR_CONTENT_LENGTH;
		case 'c': return SIP_HDR_CONTENT_TYPE;
		case 'k': return SIP_HDR_SUPPORTED;
		case 'e': return SIP_HDR_CONTENT_ENCODING;
		case 's': return SIP_HDR_SUBJECT;
		case 'o': return SIP_HDR_EVENT;
		default: return SIP_HDR_OTHER;
		}
	case 2: NAME("to", SIP_HDR_TO) break;
	case 3: NAME("via", SIP_HDR_VIA) break;
	case 4:
		if (c0 == 'f') {
			NAME("from", SIP_HDR_FROM)
		} else if (c0 == 'c') {
			NAME("cseq", SIP_HDR_CSEQ)
		} else if (c0 == 'p') {
			NAME("path", SIP_HDR_PATH)
		} else if (c0 == 'd') {
			NAME("date", SIP_HDR_DATE)
		}
		break;
	case 5:
		if (c0 == 'r') {
			NAME("route", SIP_HDR_ROUTE)
		} else if (c0 == 'e') {
			NAME("event", SIP_HDR_EVENT)
		}
		break;
	case 7:
		if (c0 == 'c') {
			NAME("call-id", SIP_HDR_CALL_ID)
			NAME("contact", SIP_HDR_CONTACT)
		} else if (c0 == 'e') {
			NAME("expires", SIP_HDR_EXPIRES)
		} else if (c0 == 'r') {
			NAME("require", SIP_HDR_REQUIRE)
		} else if (c0 == 's') {
			NAME("subject", SIP_HDR_SUBJECT)
		}
		break;
	case 9: NAME("supported", SIP_HDR_SUPPORTED) break;
	case 11: NAME("unsupported", SIP_HDR_UNSUPPORTED) break;
	case 12:
		if (c0 == 'm') {
			NAME("max-forwards", SIP_HDR_MAX_FORWARDS)
		} else if (c0 == 'c') {
			NAME("content-type", SIP_HDR_CONTENT_TYPE)
		} else if (c0 == 'r') {
			NAME("record-route", SIP_HDR_RECORD_ROUTE)
		}
		break;
	case 13:
		if (c0 == 'p') {
			NAME("proxy-require", SIP_HDR_PROXY_REQUIRE)
		} else if (c0 == 'a') {
			NAME("authorization", SIP_HDR_AUTHORIZATION)
		}
		break;
	case 14: NAME("content-length", SIP_HDR_CONTENT_LENGTH) break;
	case 16:
		if (c0 == 'w') {
			NAME("www-authenticate", SIP_HDR_WWW_AUTHENTICATE)
		} else if (c0 == 'c') {
			NAME("content-encoding", SIP_HDR_CONTENT_ENCODING)
		}
		break;
	case 18: NAME("proxy-authenticate", SIP_HDR_PROXY_AUTHENTICATE) break;
	case 19: NAME("proxy-authorization", SIP_HDR_PROXY_AUTHORIZATION) break;
	default: break;
	}
#undef NAME
	return SIP_HDR_OTHER;
}

/* host = hostname / IPv4address / IPv6reference (§25.1); returns the end of
 * the host or NULL. Brackets are kept. */
static const char *scan_host(const char *p, const char *e)
{
	const char *s = p;
	if (p < e && *p == '[') {
		p++;
		while (p < e && (sc_is((unsigned char)*p, SC_HEX) || *p == ':' || *p == '.'))
			p++;
		if (p >= e || *p != ']' || p == s + 1)
			return NULL;
		return p + 1;
	}
	while (p < e && sc_is((unsigned char)*p, SC_HOST))
		p++;
	return p == s ? NULL : p;
}

/* port = 1*DIGIT, at most 65535. */
static const char *scan_port(const char *p, const char *e, uint16_t *port)
{
	uint32_t v = 0;
	const char *s = p;
	while (p < e && sc_is((unsigned char)*p, SC_DIGIT)) {
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > 65535)
			return NULL;
		p++;
	}
	if (p == s)
		return NULL;
	*port = (uint16_t)v;
	return p;
}

static const char *scan_token(const char *p, const char *e)
{
	while (p < e && sc_is((unsigned char)*p, SC_TOKEN))
		p++;
	return p;
}

/* SWS "/" SWS between the parts of sent-protocol (§25.1 SLASH). */
static const char *scan_slash(const char *p, const char *e)
{
	p = sp_skip_ws(p, e);
	if (p >= e || *p != '/')
		return NULL;
	return sp_skip_ws(p + 1, e);
}

/* via-parm = sent-protocol LWS sent-by *( SEMI via-params ) (§20.42, §25.1). */
static const char *parse_via_parm(const char *p, const char *e, struct sip_via *v)
{
	const char *s = p, *q;
	q = scan_token(p, e);
	if (q == p || !(p = scan_slash(q, e)))
		return NULL;
	q = scan_token(p, e);
	if (q == p)
		return NULL;
	v->proto = str_make(s, (size_t)(q - s));
	if (!(p = scan_slash(q, e)))
		return NULL;
	q = scan_token(p, e);
	if (q == p)
		return NULL;
	v->transport = str_make(p, (size_t)(q - p));
	p = sp_skip_ws(q, e);
	if (p == q) /* LWS is required before sent-by */
		return NULL;
	q = scan_host(p, e);
	if (!q)
		return NULL;
	v->host = str_make(p, (size_t)(q - p));
	const char *last = q; /* end of the last non-LWS element */
	p = sp_skip_ws(q, e);
	if (p < e && *p == ':') {
		p = sp_skip_ws(p + 1, e);
		if (!(q = scan_port(p, e, &v->port)))
			return NULL;
		last = q;
		p = sp_skip_ws(q, e);
	}
	if (p < e && *p == ';')
		v->params = str_make(p, 0);
	while (p < e && *p == ';') {
		struct str name, val;
		q = sp_param_next(p + 1, e, &name, &val);
		if (!q)
			return NULL;
		last = q;
		/* Length first: most params are branch, and it costs one compare. */
		if (name.len == 6 && ci_eq(name.p, "branch", 6))
			v->branch = val.p ? val : str_make(q, 0);
		else if (name.len == 8 && ci_eq(name.p, "received", 8))
			v->received = val.p ? val : str_make(q, 0);
		else if (name.len == 5 && ci_eq(name.p, "maddr", 5))
			v->maddr = val.p ? val : str_make(q, 0);
		else if (name.len == 5 && ci_eq(name.p, "rport", 5)) {
			v->has_rport = true;
			v->rport = val.p ? val : str_make(q, 0);
		}
		p = sp_skip_ws(q, e);
	}
	if (v->params.p)
		v->params.len = (size_t)(last - v->params.p);
	v->raw = str_make(s, (size_t)(last - s));
	return p;
}

static void parse_via(struct sip_parse_ctx *c, struct sip_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len;
	if (p == e)
		goto bad;
	for (;;) {
		struct sip_via *v = arena_zalloc(c->m->arena, sizeof(*v));
		if (!v)
			goto bad;
		v->hdr = h;
		p = parse_via_parm(p, e, v);
		if (!p)
			goto bad;
		*c->via_tail = v;
		c->via_tail = &v->next;
		if (p >= e)
			return;
		if (*p != ',')
			goto bad;
		p = sp_skip_ws(p + 1, e);
	}
bad:
	sip_parse_fail(c->m, 400, "Bad Via");
}

/* CSeq = 1*DIGIT LWS Method (§20.16); the number is below 2^31 (§8.1.1.5). */
static void parse_cseq(struct sip_msg *m, struct sip_hdr *h)
{
	const char *p = h->value.p, *e = p + h->value.len, *q = p;
	while (q < e && sc_is((unsigned char)*q, SC_DIGIT))
		q++;
	uint32_t n;
	if (q == p || str_to_u32(str_make(p, (size_t)(q - p)), 0x7fffffffu, &n) != 0)
		goto bad;
	p = sp_skip_ws(q, e);
	if (p == q)
		goto bad;
	q = scan_token(p, e);
	if (q == p || q != e)
		goto bad;
	m->cseq = n;
	m->cseq_method_str = str_make(p, (size_t)(q - p));
	m->cseq_method = sip_method_from_str(m->cseq_method_str);
	return;
bad:
	sip_parse_fail(m, 400, "Bad CSeq");
}

/* callid = word [ "@" word ] (§25.1). */
static void parse_call_id(struct sip_msg *m, struct sip_hdr *h)
{
	struct str v = h->value;
	size_t at = 0;
	unsigned ats = 0;
	for (size_t i = 0; i < v.len; i++) {
		unsigned char ch = (unsigned char)v.p[i];
		if (ch == '@') {
			at = i;
			ats++;
		} else if (!sc_is(ch, SC_WORD)) {
			goto bad;
		}
	}
	if (v.len == 0 || ats > 1 || (ats && (at == 0 || at == v.len - 1)))
		goto bad;
	m->call_id = v;
	return;
bad:
	sip_parse_fail(m, 400, "Bad Call-ID");
}

static bool digits_n(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!sc_is((unsigned char)p[i], SC_DIGIT))
			return false;
	return true;
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (§20.17, §25.1):
 * "Sat, 13 Nov 2010 23:29:00 GMT" — exactly 29 octets. RFC 4475 §3.1.2.12. */
static bool date_valid(struct str v)
{
	static const char wk[] = "MonTueWedThuFriSatSun";
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *p = v.p;
	if (v.len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
	    p[16] != ' ' || p[19] != ':' || p[22] != ':' || p[25] != ' ' ||
	    memcmp(p + 26, "GMT", 3) != 0)
		return false;
	bool ok = false;
	for (int i = 0; i < 7 && !ok; i++)
		ok = memcmp(p, wk + 3 * i, 3) == 0;
	if (!ok)
		return false;
	ok = false;
	for (int i = 0; i < 12 && !ok; i++)
		ok = memcmp(p + 8, mon + 3 * i, 3) == 0;
	return ok && digits_n(p + 5, 2) && digits_n(p + 12, 4) && digits_n(p + 17, 2) &&
	       digits_n(p + 20, 2) && digits_n(p + 23, 2);
}

/* Headers that may appear only once (§20: single-value fields). RFC 4475 §3.3.8. */
static bool single_dup(struct sip_parse_ctx *c, struct sip_hdr *h)
{
	return c->m->first[h->id] != h;
}

void sip_hdr_parse(struct sip_parse_ctx *c, struct sip_hdr *h)
{
	struct sip_msg *m = c->m;
	uint32_t n;
	switch (h->id) {
	case SIP_HDR_VIA: parse_via(c, h); break;
	case SIP_HDR_FROM:
	case SIP_HDR_TO: {
		bool from = h->id == SIP_HDR_FROM;
		if (single_dup(c, h)) {
			sip_parse_fail(m, 400, from ? "Multiple From" : "Multiple To");
			break;
		}
		struct sip_addr **slot = from ? &m->from : &m->to;
		if (sip_addr_parse_list(c, h, false, false, &slot) != 0)
			sip_parse_fail(m, 400, from ? "Bad From" : "Bad To");
		break;
	}
	case SIP_HDR_CALL_ID:
		if (single_dup(c, h))
			sip_parse_fail(m, 400, "Multiple Call-ID");
		else
			parse_call_id(m, h);
		break;
	case SIP_HDR_CSEQ:
		if (single_dup(c, h))
			sip_parse_fail(m, 400, "Multiple CSeq");
		else
			parse_cseq(m, h);
		break;
	case SIP_HDR_MAX_FORWARDS:
		/* §20.22: 0-255 (RFC 4475 §3.1.2.4). */
		if (single_dup(c, h))
			sip_parse_fail(m, 400, "Multiple Max-Forwards");
		else if (str_to_u32(h->value, 255, &n) != 0)
			sip_parse_fail(m, 400, "Bad Max-Forwards");
		else
			m->max_forwards = (int)n;
		break;
	case SIP_HDR_CONTENT_LENGTH:
		/* §20.14: 1*DIGIT; a negative value is malformed (RFC 4475 §3.1.2.3).
		 * Repeats are tolerated only when they agree (RFC 4475 §3.3.9). */
		if (str_to_u32(h->value, 0x7fffffffu, &n) != 0)
			sip_parse_fail(m, 400, "Bad Content-Length");
		else if (m->content_length >= 0 && (long)n != m->content_length)
			sip_parse_fail(m, 400, "Multiple Content-Length");
		else
			m->content_length = (long)n;
		break;
	case SIP_HDR_EXPIRES:
		/* §20.19 delta-seconds, at most 2^32-1 (§25.1 note, RFC 4475 §3.1.2.4). */
		if (str_to_u32(h->value, UINT32_MAX, &n) != 0)
			sip_parse_fail(m, 400, "Bad Expires");
		else if (m->expires < 0)
			m->expires = (long)n;
		break;
	case SIP_HDR_CONTACT:
		if (sip_addr_parse_list(c, h, true, true, &c->contact_tail) != 0)
			sip_parse_fail(m, 400, "Bad Contact");
		break;
	case SIP_HDR_ROUTE:
		if (sip_addr_parse_list(c, h, true, false, &c->route_tail) != 0)
			sip_parse_fail(m, 400, "Bad Route");
		break;
	case SIP_HDR_RECORD_ROUTE:
		if (sip_addr_parse_list(c, h, true, false, &c->rr_tail) != 0)
			sip_parse_fail(m, 400, "Bad Record-Route");
		break;
	case SIP_HDR_PATH:
		if (sip_addr_parse_list(c, h, true, false, &c->path_tail) != 0)
			sip_parse_fail(m, 400, "Bad Path");
		break;
	case SIP_HDR_DATE:
		if (!date_valid(h->value))
			sip_parse_fail(m, 400, "Bad Date");
		break;
	default: break; /* name/value only */
	}
}
