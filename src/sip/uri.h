/* uri.h — SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966); other schemes are
 * kept opaque. Slices point into the text that was parsed. */
#ifndef SIPPROXY_SIP_URI_H
#define SIPPROXY_SIP_URI_H

#include <stdbool.h>
#include <stdint.h>

#include "util/str.h"

enum sip_uri_scheme { SIP_URI_OTHER = 0, SIP_URI_SIP, SIP_URI_SIPS, SIP_URI_TEL };

struct sip_uri {
	enum sip_uri_scheme scheme;
	struct str scheme_str;
	struct str user; /* tel: the number */
	struct str password;
	struct str host;    /* IPv6 reference keeps its brackets */
	uint16_t port;	    /* 0 when absent */
	struct str params;  /* ";..." after hostport, up to '?' */
	struct str headers; /* after '?', without it */
	struct str opaque;  /* OTHER: everything after "scheme:" */
	/* frequently used params, NULL p when absent */
	struct str transport;
	struct str maddr;
	struct str user_param;
	bool lr;
	bool host_ipv6; /* host is an IPv6 reference */
	bool host_ipv4; /* host is an IPv4 literal */
};

/* Returns 0, or -1 when s is not a valid URI of its scheme (an unknown scheme
 * with valid "scheme:" syntax parses as SIP_URI_OTHER). */
int sip_uri_parse(struct str s, struct sip_uri *u);

/* RFC 3261 §19.1.4 comparison (case rules, escapes, param rules). */
bool sip_uri_equal(const struct sip_uri *a, const struct sip_uri *b);

/* A key for u, the same for any two URIs that are equal by §19.1.4 (scheme
 * and host folded, escapes decoded, port, and the parameters that must match
 * when present in either); URIs that differ only in other parameters share
 * it. Printable (octets other than unreserved ones as %HH), written
 * NUL-terminated; returns its length, 0 when it does not fit in cap. */
size_t sip_uri_key(const struct sip_uri *u, char *out, size_t cap);

/* Host without IPv6 brackets (for resolver / sockaddr use). */
struct str sip_uri_host_bare(const struct sip_uri *u);

/* RFC 3261 §19.1.2 / §18.2.2 / RFC 3263 §4.2: the port a transport listens on
 * by default: 5061 for TLS (or any sips URI), 5060 otherwise. The one place
 * this rule is written. */
uint16_t sip_default_port(struct str transport, bool sips);
/* The URI's port, or the default for its scheme and transport parameter. */
uint16_t sip_uri_port(const struct sip_uri *u);

#endif
