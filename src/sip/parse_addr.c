/* parse_addr.c — name-addr / addr-spec values with header parameters
 * (RFC 3261 §20.10, §20.20, §20.39, §20.30, §20.34, RFC 3327 Path; grammar
 * §25.1), and the quoted-string and generic-param scanners they share with Via.
 * Rejects what RFC 4475 §3.1.2.6, .13, .14, .15 call malformed: unterminated
 * quotes, "?"/";"-ambiguous addr-specs, spaces inside <>, non-token names. */
#include <string.h>

#include "sip/parse_int.h"
#include "util/arena.h"

/* quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE (§25.1). qdtext
 * allows LWS and UTF-8; quoted-pair escapes anything but CR and LF. */
const char *sp_quoted_end(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"')
			return p + 1;
		if (ch == '\\') {
			if (p + 1 >= e || p[1] == '\r' || p[1] == '\n')
				return NULL;
			p++;
		} else if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f) {
			return NULL;
		}
	}
	return NULL;
}

const char *sp_param_next(const char *p, const char *e, struct str *name, struct str *value)
{
	p = sp_skip_ws(p, e);
	const char *q = p;
	while (q < e && sc_is((unsigned char)*q, SC_TOKEN))
		q++;
	if (q == p)
		return NULL;
	*name = str_make(p, (size_t)(q - p));
	*value = STR_NULL;
	const char *r = sp_skip_ws(q, e);
	if (r >= e || *r != '=')
		return q;
	r = sp_skip_ws(r + 1, e);
	if (r < e && *r == '"') {
		const char *ve = sp_quoted_end(r, e);
		if (!ve)
			return NULL;
		*value = str_make(r, (size_t)(ve - r));
		return ve;
	}
	const char *ve = r;
	/* gen-value = token / host / quoted-string: host adds ':' '[' ']' (IPv6). */
	while (ve < e && sc_is((unsigned char)*ve, SC_GVAL))
		ve++;
	if (ve == r)
		return NULL;
	*value = str_make(r, (size_t)(ve - r));
	return ve;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (§25.1). */
static bool qvalue_valid(struct str v)
{
	if (v.len == 0 || v.len > 5 || (v.p[0] != '0' && v.p[0] != '1'))
		return false;
	if (v.len == 1)
		return true;
	if (v.p[1] != '.')
		return false;
	for (size_t i = 2; i < v.len; i++)
		if (!sc_is((unsigned char)v.p[i], SC_DIGIT) || (v.p[0] == '1' && v.p[i] != '0'))
			return false;
	return true;
}

/* Header params after the URI; returns the end of the last one, or NULL. */
static const char *parse_hparams(const char *p, const char *e, struct sip_addr *a, bool contact,
				 const char **after)
{
	const char *last = NULL;
	a->params = str_make(p, 0);
	while (p < e && *p == ';') {
		struct str n, v;
		const char *q = sp_param_next(p + 1, e, &n, &v);
		if (!q)
			return NULL;
		struct str val = v.p ? v : str_make(q, 0);
		if (SC_CI_EQ(n, "tag")) {
			a->tag = val;
		} else if (contact && SC_CI_EQ(n, "expires")) {
			/* RFC 4475 §3.1.2.4: delta-seconds above 2^32-1 is malformed. */
			uint32_t x;
			if (str_to_u32(val, UINT32_MAX, &x) != 0)
				return NULL;
			a->expires = val;
		} else if (contact && n.len == 1 && (n.p[0] == 'q' || n.p[0] == 'Q')) {
			if (!qvalue_valid(val))
				return NULL;
			a->q = val;
		}
		last = q;
		p = sp_skip_ws(q, e);
	}
	a->params.len = (size_t)(last - a->params.p);
	*after = p;
	return last;
}

/* One value at p; returns the position after it (LWS skipped) or NULL. */
static const char *parse_one(const char *p, const char *e, struct sip_addr *a, bool list,
			     bool contact)
{
	const char *s = p, *last, *u, *ue;
	if (*p == '"') {
		const char *q = sp_quoted_end(p, e);
		if (!q)
			return NULL; /* RFC 4475 §3.1.2.6 */
		a->display = str_make(p + 1, (size_t)(q - p - 2));
		p = sp_skip_ws(q, e);
		if (p >= e || *p != '<')
			return NULL;
	} else if (*p != '<') {
		/* display-name = *(token LWS): only a '<' after the tokens makes it one;
		 * anything else means an addr-spec starts here (RFC 4475 §3.1.1.6). */
		const char *q = p;
		while (q < e &&
		       (sc_is((unsigned char)*q, SC_TOKEN) || sc_is((unsigned char)*q, SC_WS)))
			q++;
		if (q < e && *q == '<') {
			a->display = str_trim(str_make(p, (size_t)(q - p)));
			p = q;
		}
	}
	if (p < e && *p == '<') {
		u = p + 1;
		const char *gt = memchr(u, '>', (size_t)(e - u));
		if (!gt)
			return NULL;
		ue = gt;
		last = gt + 1;
		a->angle = true;
	} else {
		/* addr-spec: the URI ends at ';', ',' or LWS. A URI with "?" (or a
		 * ';'/',' of its own) must be in <> (§20.10, RFC 4475 §3.1.2.13). */
		u = p;
		ue = p;
		while (ue < e && *ue != ';' && *ue != ',' && !sc_is((unsigned char)*ue, SC_WS)) {
			if (*ue == '?' || *ue == '<' || *ue == '>' || *ue == '"')
				return NULL;
			ue++;
		}
		last = ue;
	}
	a->uri_str = str_make(u, (size_t)(ue - u));
	/* sip_uri_parse rejects LWS inside the URI: RFC 4475 §3.1.2.14. */
	if (a->uri_str.len == 0 || sip_uri_parse(a->uri_str, &a->uri) != 0)
		return NULL;
	p = sp_skip_ws(last, e);
	if (p < e && *p == ';') {
		const char *after;
		const char *pl = parse_hparams(p, e, a, contact, &after);
		if (!pl)
			return NULL;
		last = pl;
		p = after;
	}
	a->raw = str_make(s, (size_t)(last - s));
	if (p < e && (*p != ',' || !list))
		return NULL;
	return p;
}

int sip_addr_parse_list(struct sip_parse_ctx *c, struct sip_hdr *h, bool list, bool contact,
			struct sip_addr ***tail)
{
	const char *p = h->value.p, *e = p + h->value.len;
	if (p == e)
		return -1;
	if (contact && *p == '*') {
		/* Contact: * stands alone (§20.10, used by REGISTER §10.2.2). */
		if (sp_skip_ws(p + 1, e) != e)
			return -1;
		struct sip_addr *a = arena_zalloc(c->m->arena, sizeof(*a));
		if (!a)
			return -1;
		a->star = true;
		a->raw = str_make(p, 1);
		a->hdr = h;
		**tail = a;
		*tail = &a->next;
		return 0;
	}
	for (;;) {
		struct sip_addr *a = arena_zalloc(c->m->arena, sizeof(*a));
		if (!a)
			return -1;
		a->hdr = h;
		p = parse_one(p, e, a, list, contact);
		if (!p)
			return -1;
		**tail = a;
		*tail = &a->next;
		if (p >= e)
			return 0;
		p = sp_skip_ws(p + 1, e); /* past ',' */
		if (p >= e)
			return -1;
	}
}
