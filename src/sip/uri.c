/* uri.c — parses SIP and SIPS URIs (RFC 3261 §19.1.1, grammar §25.1), tel URIs
 * (RFC 3966, number and params only) and keeps any other "scheme:" URI opaque
 * (RFC 4475 §3.3.2, §3.3.4). Escapes (%HH) are validated, not decoded: slices
 * point into the parsed text; comparison decodes (uri_cmp.c). */
#include <string.h>

#include "sip/sip_chars.h"
#include "sip/uri.h"

/* 1*( cls / escaped ); escaped = "%" HEXDIG HEXDIG (§25.1). */
static bool chars_valid(struct str s, unsigned cls)
{
	for (size_t i = 0; i < s.len; i++) {
		unsigned char ch = (unsigned char)s.p[i];
		if (sc_is(ch, cls))
			continue;
		if (ch == '%' && i + 2 < s.len && sc_is((unsigned char)s.p[i + 1], SC_HEX) &&
		    sc_is((unsigned char)s.p[i + 2], SC_HEX)) {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each <= 255. */
static bool is_ipv4(struct str h)
{
	unsigned parts = 0, digits = 0, v = 0;
	for (size_t i = 0; i < h.len; i++) {
		char c = h.p[i];
		if (c >= '0' && c <= '9') {
			v = v * 10 + (unsigned)(c - '0');
			if (++digits > 3 || v > 255)
				return false;
		} else if (c == '.') {
			if (!digits)
				return false;
			parts++;
			digits = 0;
			v = 0;
		} else {
			return false;
		}
	}
	return parts == 3 && digits > 0;
}

/* IPv6reference = "[" IPv6address "]": hex, ':' and a dotted IPv4 tail; at
 * least two ':' and at most one "::". */
static bool ipv6_valid(struct str h)
{
	unsigned colons = 0, dbl = 0;
	for (size_t i = 0; i < h.len; i++) {
		unsigned char c = (unsigned char)h.p[i];
		if (c == ':') {
			colons++;
			if (i + 1 < h.len && h.p[i + 1] == ':')
				dbl++;
		} else if (!sc_is(c, SC_HEX) && c != '.') {
			return false;
		}
	}
	return colons >= 2 && colons <= 7 && dbl <= 1;
}

/* uri-parameters = *( ";" pname [ "=" pvalue ] ), picking out the ones a proxy
 * uses (§19.1.1 table: transport, maddr, user, lr). */
static int parse_uri_params(struct str s, struct sip_uri *u)
{
	if (!s.p)
		return 0;
	const char *p = s.p, *e = s.p + s.len;
	while (p < e) {
		if (*p != ';')
			return -1;
		p++;
		const char *ne = p;
		while (ne < e && *ne != ';' && *ne != '=')
			ne++;
		struct str name = str_make(p, (size_t)(ne - p));
		struct str val = STR_NULL;
		const char *ve = ne;
		if (ne < e && *ne == '=') {
			ve = ne + 1;
			while (ve < e && *ve != ';')
				ve++;
			val = str_make(ne + 1, (size_t)(ve - ne - 1));
			if (!val.len || !chars_valid(val, SC_PARAM))
				return -1;
		}
		if (!name.len || !chars_valid(name, SC_PARAM))
			return -1;
		struct str v = val.p ? val : str_make(ve, 0);
		if (SC_CI_EQ(name, "transport"))
			u->transport = v;
		else if (SC_CI_EQ(name, "maddr"))
			u->maddr = v;
		else if (SC_CI_EQ(name, "user"))
			u->user_param = v;
		else if (SC_CI_EQ(name, "lr"))
			u->lr = true;
		p = ve;
	}
	return 0;
}

/* headers = "?" header *( "&" header ); header = hname "=" hvalue (§25.1). */
static int headers_valid(struct str s)
{
	if (!s.p)
		return -1;
	const char *p = s.p, *e = s.p + s.len;
	if (p == e)
		return -1;
	while (p < e) {
		const char *amp = memchr(p, '&', (size_t)(e - p));
		if (!amp)
			amp = e;
		const char *eq = memchr(p, '=', (size_t)(amp - p));
		if (!eq || eq == p)
			return -1;
		if (!chars_valid(str_make(p, (size_t)(eq - p)), SC_HNV) ||
		    !chars_valid(str_make(eq + 1, (size_t)(amp - eq - 1)), SC_HNV))
			return -1;
		p = amp < e ? amp + 1 : e;
		if (amp < e && p == e)
			return -1;
	}
	return 0;
}

/* Splits ";params?headers" off the tail of a SIP URI or a tel number. */
static int parse_tail(const char *p, const char *e, struct sip_uri *u)
{
	const char *qm = memchr(p, '?', (size_t)(e - p));
	const char *pe = qm ? qm : e;
	if (p < pe) {
		u->params = str_make(p, (size_t)(pe - p));
		if (parse_uri_params(u->params, u) != 0)
			return -1;
	}
	if (qm) {
		u->headers = str_make(qm + 1, (size_t)(e - qm - 1));
		if (headers_valid(u->headers) != 0)
			return -1;
	}
	return 0;
}

/* SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ] (§19.1.1). */
static int parse_sip(const char *p, const char *e, struct sip_uri *u)
{
	/* '@' is legal neither in hostport, params nor headers, so the first one
	 * ends the userinfo even when the user holds ';' or '?' (RFC 4475 §3.1.1.9). */
	const char *at = memchr(p, '@', (size_t)(e - p));
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		const char *ue = colon ? colon : at;
		u->user = str_make(p, (size_t)(ue - p));
		if (!u->user.len || !chars_valid(u->user, SC_USER))
			return -1;
		if (colon) {
			u->password = str_make(colon + 1, (size_t)(at - colon - 1));
			if (!chars_valid(u->password, SC_PASS))
				return -1;
		}
		p = at + 1;
	}
	const char *h = p;
	if (p < e && *p == '[') {
		const char *rb = memchr(p, ']', (size_t)(e - p));
		if (!rb || !ipv6_valid(str_make(p + 1, (size_t)(rb - p - 1))))
			return -1;
		p = rb + 1;
		u->host_ipv6 = true;
	} else {
		/* hostname labels are non-empty; a final '.' is allowed (§25.1). */
		bool alpha = false, empty_label = false;
		const char *label = p;
		for (; p < e && sc_is((unsigned char)*p, SC_HOST); p++) {
			if (*p == '.') {
				empty_label |= p == label;
				label = p + 1;
			} else if (!sc_is((unsigned char)*p, SC_DIGIT)) {
				alpha = true;
			}
		}
		if (empty_label)
			return -1;
		if (!alpha)
			u->host_ipv4 = is_ipv4(str_make(h, (size_t)(p - h)));
	}
	u->host = str_make(h, (size_t)(p - h));
	if (!u->host.len)
		return -1;
	if (p < e && *p == ':') {
		uint32_t v = 0;
		const char *d = ++p;
		while (p < e && sc_is((unsigned char)*p, SC_DIGIT)) {
			v = v * 10 + (uint32_t)(*p - '0');
			if (v > 65535)
				return -1;
			p++;
		}
		if (p == d)
			return -1;
		u->port = (uint16_t)v;
	}
	if (p < e && *p != ';' && *p != '?')
		return -1;
	return parse_tail(p, e, u);
}

/* telephone-subscriber (RFC 3966 §3), loosely: digits, hex, visual separators,
 * '+', '*', '#'; then ";" params. */
static int parse_tel(const char *p, const char *e, struct sip_uri *u)
{
	const char *n = p;
	while (p < e && *p != ';' && *p != '?') {
		unsigned char c = (unsigned char)*p;
		if (!sc_is(c, SC_HEX) && c != '+' && c != '-' && c != '.' && c != '(' && c != ')' &&
		    c != '*' && c != '#' && c != 'p' && c != 'w' && c != 'P' && c != 'W')
			return -1;
		p++;
	}
	u->user = str_make(n, (size_t)(p - n));
	if (!u->user.len)
		return -1;
	return parse_tail(p, e, u);
}

int sip_uri_parse(struct str s, struct sip_uri *u)
{
	memset(u, 0, sizeof(*u));
	if (!s.p || !s.len)
		return -1;
	const char *p = s.p, *e = s.p + s.len;
	if (!sc_is((unsigned char)*p, SC_ALPHA))
		return -1;
	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (§25.1). */
	while (p < e && sc_is((unsigned char)*p, SC_SCHEME))
		p++;
	if (p >= e || *p != ':')
		return -1;
	u->scheme_str = str_make(s.p, (size_t)(p - s.p));
	p++;
	struct str sch = u->scheme_str;
	if (SC_CI_EQ(sch, "sip")) {
		u->scheme = SIP_URI_SIP;
		return parse_sip(p, e, u);
	}
	if (SC_CI_EQ(sch, "sips")) {
		u->scheme = SIP_URI_SIPS;
		return parse_sip(p, e, u);
	}
	if (SC_CI_EQ(sch, "tel")) {
		u->scheme = SIP_URI_TEL;
		return parse_tel(p, e, u);
	}
	/* absoluteURI (§25.1): kept opaque; only its characters are checked. */
	u->scheme = SIP_URI_OTHER;
	u->opaque = str_make(p, (size_t)(e - p));
	if (!u->opaque.len || !chars_valid(u->opaque, SC_URIC))
		return -1;
	return 0;
}

struct str sip_uri_host_bare(const struct sip_uri *u)
{
	struct str h = u->host;
	if (u->host_ipv6 && h.len >= 2 && h.p[0] == '[' && h.p[h.len - 1] == ']')
		return str_make(h.p + 1, h.len - 2);
	return h;
}

uint16_t sip_default_port(struct str transport, bool sips)
{
	return sips || str_case_eq_cstr(transport, "tls") ? 5061 : 5060;
}

uint16_t sip_uri_port(const struct sip_uri *u)
{
	return u->port ? u->port : sip_default_port(u->transport, u->scheme == SIP_URI_SIPS);
}
