/* uri_cmp.c — URI equality by RFC 3261 §19.1.4: user and password compared
 * case-sensitively, host case-insensitively, escapes decoded before comparing,
 * user/ttl/method/maddr/transport parameters must match when present in either,
 * other parameters only when present in both, headers must all match; and a
 * key that is the same for any two URIs that compare equal (sip_uri_key). */
#include <stdio.h>
#include <string.h>

#include "sip/sip_chars.h"
#include "sip/uri.h"

/* Next octet of s at *i, decoding %HH. */
static unsigned char next_octet(struct str s, size_t *i)
{
	unsigned char c = (unsigned char)s.p[*i];
	if (c == '%' && *i + 2 < s.len) {
		int hi = sc_hexval((unsigned char)s.p[*i + 1]);
		int lo = sc_hexval((unsigned char)s.p[*i + 2]);
		if (hi >= 0 && lo >= 0) {
			*i += 3;
			return (unsigned char)(hi * 16 + lo);
		}
	}
	(*i)++;
	return c;
}

static bool decoded_eq(struct str a, struct str b, bool fold)
{
	size_t i = 0, j = 0;
	while (i < a.len && j < b.len) {
		unsigned char x = next_octet(a, &i), y = next_octet(b, &j);
		if (fold) {
			x = sc_lower(x);
			y = sc_lower(y);
		}
		if (x != y)
			return false;
	}
	return i == a.len && j == b.len;
}

/* Iterates "sep name [= value]" items of a params or headers slice. */
static bool next_item(const char **pp, const char *e, char sep, struct str *name, struct str *value)
{
	const char *p = *pp;
	if (p < e && *p == sep)
		p++;
	if (p >= e)
		return false;
	const char *end = memchr(p, sep, (size_t)(e - p));
	if (!end)
		end = e;
	const char *eq = memchr(p, '=', (size_t)(end - p));
	*name = str_make(p, (size_t)((eq ? eq : end) - p));
	*value = eq ? str_make(eq + 1, (size_t)(end - eq - 1)) : STR_NULL;
	*pp = end;
	return true;
}

/* Whether item name n is name (escapes decoded, case folded). Decoding
 * only shortens: an item shorter than a plain name, or of another length
 * and plain itself, cannot be it. */
static bool item_is(struct str n, struct str name, bool name_plain)
{
	if (name_plain && (n.len < name.len || (n.len != name.len && !memchr(n.p, '%', n.len))))
		return false;
	return decoded_eq(n, name, true);
}

static bool find_item(struct str list, char sep, struct str name, struct str *value)
{
	if (!list.p)
		return false;
	const char *p = list.p, *e = list.p + list.len;
	struct str n, v;
	bool plain = !memchr(name.p, '%', name.len);
	while (p && next_item(&p, e, sep, &n, &v)) {
		if (item_is(n, name, plain)) {
			*value = v;
			return true;
		}
	}
	return false;
}

static bool must_match(struct str name)
{
	static const char *const names[] = {"user", "ttl", "method", "maddr", "transport"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (str_case_eq_cstr(name, names[i]))
			return true;
	return false;
}

/* §19.1.4: params of a against b (call both ways for the must-match rule). */
static bool params_match(struct str a, struct str b)
{
	if (!a.p)
		return true;
	const char *p = a.p, *e = a.p + a.len;
	struct str n, v, w;
	while (p && next_item(&p, e, ';', &n, &v)) {
		if (find_item(b, ';', n, &w)) {
			if (!decoded_eq(v, w, true))
				return false;
		} else if (must_match(n)) {
			return false;
		}
	}
	return true;
}

/* §19.1.4: every header in a is in b with an equal (decoded) value. */
static bool headers_match(struct str a, struct str b)
{
	if (!a.p)
		return true;
	const char *p = a.p, *e = a.p + a.len;
	struct str n, v, w;
	while (p && next_item(&p, e, '&', &n, &v))
		if (!find_item(b, '&', n, &w) || !decoded_eq(v, w, false))
			return false;
	return true;
}

bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b)
{
	if (a->scheme != b->scheme)
		return false;
	if (a->scheme == SIP_URI_OTHER)
		return str_case_eq(a->scheme_str, b->scheme_str) && str_eq(a->opaque, b->opaque);
	if (str_present(a->user) != str_present(b->user) || !decoded_eq(a->user, b->user, false))
		return false;
	if (a->scheme == SIP_URI_TEL)
		return params_match(a->params, b->params) && params_match(b->params, a->params);
	if (str_present(a->password) != str_present(b->password) ||
	    !decoded_eq(a->password, b->password, false))
		return false;
	/* "A URI omitting any component with a default value will not match a URI
	 * explicitly containing that component with its default value." */
	if (!str_case_eq(a->host, b->host) || a->port != b->port)
		return false;
	if (!params_match(a->params, b->params) || !params_match(b->params, a->params))
		return false;
	return headers_match(a->headers, b->headers) && headers_match(b->headers, a->headers);
}

/* The key under construction. */
struct key_out {
	char *p;
	size_t cap, n;
	bool full;
};

static void key_byte(struct key_out *k, char c)
{
	if (k->n + 1 >= k->cap) {
		k->full = true;
		return;
	}
	k->p[k->n++] = c;
}

/* Appends s, lower-cased when fold. With canon, escapes are decoded and
 * every octet but alphanumerics and "-_.!~*'()" is written back as %HH, so
 * "%61" and "a" give one spelling and no octet can pass for a separator. */
static bool key_plain(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '-':
	case '_':
	case '.':
	case '!':
	case '~':
	case '*':
	case '\'':
	case '(':
	case ')': return true;
	default: return false;
	}
}

static void key_put(struct key_out *k, struct str s, bool canon, bool fold)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < s.len;) {
		unsigned char c = canon ? next_octet(s, &i) : (unsigned char)s.p[i++];
		if (fold)
			c = sc_lower(c);
		if (!canon || key_plain(c)) {
			if (c) {
				key_byte(k, (char)c);
				continue;
			}
		}
		key_byte(k, '%');
		key_byte(k, hex[c >> 4]);
		key_byte(k, hex[c & 15]);
	}
}

static void key_lit(struct key_out *k, const char *c)
{
	key_put(k, str_cstr(c), false, false);
}

size_t sip_uri_key(const struct sip_uri *u, char *out, size_t cap)
{
	struct key_out k = {out, cap, 0, false};
	if (!cap)
		return 0;
	key_put(&k, u->scheme_str, false, true);
	key_lit(&k, ":");
	if (u->scheme == SIP_URI_OTHER) {
		key_put(&k, u->opaque, true, false);
	} else {
		key_put(&k, u->user, true, false);
		if (u->scheme != SIP_URI_TEL) {
			if (u->password.p) {
				key_lit(&k, ":");
				key_put(&k, u->password, true, false);
			}
			key_lit(&k, "@");
			key_put(&k, u->host, true, true);
			char port[8], *d = port + sizeof(port);
			unsigned v = u->port;
			*--d = '\0';
			do
				*--d = (char)('0' + v % 10);
			while ((v /= 10) && d > port + 1);
			*--d = ':';
			key_lit(&k, d);
		}
		/* Only the parameters that must match when present in either:
		 * the others may be absent from an equal URI. */
		static const char *const names[] = {"user", "ttl", "method", "maddr", "transport"};
		enum { NNAMES = sizeof(names) / sizeof(names[0]) };
		struct str val[NNAMES];
		bool has[NNAMES] = {false};
		const char *p = u->params.p, *e = p ? p + u->params.len : NULL;
		struct str n, v;
		/* one pass over the parameters, the first of each name kept */
		while (p && next_item(&p, e, ';', &n, &v))
			for (size_t i = 0; i < NNAMES; i++)
				if (!has[i] && item_is(n, str_cstr(names[i]), true)) {
					has[i] = true;
					val[i] = v;
					break;
				}
		for (size_t i = 0; i < NNAMES; i++) {
			if (has[i]) {
				key_lit(&k, ";");
				key_lit(&k, names[i]);
				key_lit(&k, "=");
				key_put(&k, val[i], true, true);
			}
		}
	}
	if (k.full)
		return 0;
	out[k.n] = '\0';
	return k.n;
}
