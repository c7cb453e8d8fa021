/* sip_chars.h — parser-internal character classes (RFC 3261 §25.1) as one
 * read-only 256-entry table, so every "is this byte a token char?" test in the
 * hot path is a single load and mask. Not part of the public API. */
#ifndef SIPPROXY_SIP_CHARS_H
#define SIPPROXY_SIP_CHARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	SC_TOKEN = 1u << 0, /* token: alphanum / "-.!%*_+`'~" */
	SC_WS = 1u << 1,    /* SP HTAB CR LF (LWS inside an already split field) */
	SC_DIGIT = 1u << 2,
	SC_HEX = 1u << 3,
	SC_USER = 1u << 4,  /* unreserved / user-unreserved ("&=+$,;?/"), '%' checked apart */
	SC_PASS = 1u << 5,  /* unreserved / "&=+$," */
	SC_PARAM = 1u << 6, /* paramchar: unreserved / "[]/:&+$" */
	SC_HNV = 1u << 7,   /* hname/hvalue: unreserved / "[]/?:+$" */
	SC_HOST = 1u << 8,  /* hostname chars: alphanum "-." (and '_' tolerated) */
	SC_WORD = 1u << 9,  /* Call-ID word: alphanum "-.!%*_+`'~()<>:\\\"/[]?{}" */
	SC_URIC = 1u << 10, /* uric (RFC 2396) plus "[]" for opaque URIs */
	SC_ALPHA = 1u << 11,
	SC_SCHEME = 1u << 12, /* scheme: alphanum "+-." */
	SC_GVAL = 1u << 13    /* gen-value token / host: token plus ":[]" */
};

extern const uint16_t sip_char_class[256];

static inline bool sc_is(unsigned char c, unsigned cls)
{
	return (sip_char_class[c] & cls) != 0;
}

static inline int sc_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static inline unsigned char sc_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c | 0x20) : c;
}

/* s equals the lower-case literal lit of length n, ignoring ASCII case; no
 * strlen, so the compiler unrolls the short literals of the hot path. */
static inline bool sc_ci_eq(const char *p, size_t len, const char *lit, size_t n)
{
	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (sc_lower((unsigned char)p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}
#define SC_CI_EQ(s, lit) sc_ci_eq((s).p, (s).len, lit, sizeof(lit) - 1)

#endif
