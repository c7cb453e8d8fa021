/* parse_int.h — what the parser's files share (start line and header splitting
 * in parse.c, per-header grammars in parse_hdr.c / parse_addr.c, the header
 * name table): the parse context and small LWS/parameter scanners for the
 * RFC 3261 §25.1 grammar. Not part of the public API. */
#ifndef SIPPROXY_SIP_PARSE_INT_H
#define SIPPROXY_SIP_PARSE_INT_H

#include "sip/msg.h"
#include "sip/sip_chars.h"

/* State of one sip_msg_parse call: list tails so appends are O(1). */
struct sip_parse_ctx {
	struct sip_msg *m;
	struct sip_hdr *last_hdr;
	struct sip_hdr *last_id[SIP_HDR_COUNT];
	struct sip_via **via_tail;
	struct sip_addr **route_tail, **rr_tail, **contact_tail, **path_tail;
};

/* Header name (as written, any case, compact or long) to its id. */
enum sip_hdr_id sip_hdr_name_id(const char *p, size_t len);

/* Records the first error only: later ones would hide the root cause. */
static inline void sip_parse_fail(struct sip_msg *m, int status, const char *reason)
{
	if (m->error.status == 0) {
		m->error.status = status;
		m->error.reason = reason;
	}
}

/* Parses a fully split header field into m (Via, From, ...); sets m->error on
 * bad syntax. Headers the proxy does not act on are left alone. */
void sip_hdr_parse(struct sip_parse_ctx *c, struct sip_hdr *h);

/* name-addr / addr-spec values (parse_addr.c). list: comma-separated values
 * allowed. Returns 0 or -1. */
int sip_addr_parse_list(struct sip_parse_ctx *c, struct sip_hdr *h, bool list, bool contact,
			struct sip_addr ***tail);

/* SWS inside a split field: SP, HTAB and the CRLF of a fold. */
static inline const char *sp_skip_ws(const char *p, const char *e)
{
	while (p < e && sc_is((unsigned char)*p, SC_WS))
		p++;
	return p;
}

/* Scans a quoted-string starting at p (on the opening quote); returns the
 * position after the closing quote or NULL when unterminated/invalid. */
const char *sp_quoted_end(const char *p, const char *e);

/* One generic-param after a ';' (RFC 3261 §25.1: token [ EQUAL gen-value ],
 * gen-value = token / host / quoted-string), LWS allowed around '='.
 * p points just after the ';'. On success returns the position after the param
 * (trailing LWS not consumed); *value has p == NULL when there is no '='. */
const char *sp_param_next(const char *p, const char *e, struct str *name, struct str *value);

#endif
