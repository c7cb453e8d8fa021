/* resolver.h — next-hop resolution per RFC 3263 §4 (NAPTR -> SRV -> A/AAAA)
 * on c-ares, asynchronous, with a TTL-bounded cache. IP literals are answered
 * at once without DNS. */
#ifndef SIPPROXY_TRANSPORT_RESOLVER_H
#define SIPPROXY_TRANSPORT_RESOLVER_H

#include <stdbool.h>

#include "sip/uri.h"
#include "transport/transport.h"

struct event_base;

#define RESOLVER_MAX_TARGETS 8

/* Destinations in the order RFC 3263 says to try them. */
struct resolver_result {
	unsigned count;
	struct tp_dest dest[RESOLVER_MAX_TARGETS];
};

/* Values come from the option table (config_resolver()). */
struct resolver_config {
	const char *servers; /* "127.0.0.1:5353,[::1]:53"; NULL = /etc/resolv.conf */
	unsigned cache_max;  /* entries; 0 = no cache */
	unsigned timeout_ms; /* per try, not 0 */
	unsigned tries;	     /* not 0 */
	/* transports we can send on, in preference order for NAPTR-less lookups */
	bool have_udp, have_tcp, have_tls;
};

/* err: 0, or -EHOSTUNREACH/-ENOENT when the name has no usable target. */
typedef void (*resolver_fn)(void *arg, int err, const struct resolver_result *res);

struct resolver;
struct resolver_query;

struct resolver *resolver_new(struct event_base *base, const struct resolver_config *cfg);
void resolver_free(struct resolver *r);

/* Resolves where to send a request for uri (its maddr, host, port, transport
 * param and scheme). When the answer is immediate (IP literal, cache hit), fn
 * runs before this returns and the result is NULL. Otherwise returns a query
 * that may be cancelled until fn runs (fn then never runs). */
struct resolver_query *resolver_lookup(struct resolver *r, const struct sip_uri *uri,
				       resolver_fn fn, void *arg);
void resolver_cancel(struct resolver_query *q);

#endif
