/* proxy.h — the RFC 3261 §16 stateful proxy core: one struct proxy per event
 * loop owns its transport, resolver and transaction layer. Where a request
 * goes is asked of the routing hooks (the cluster's node table), so the core
 * knows nothing of HA pairs, balancing or data centers. */
#ifndef SIPPROXY_PROXY_PROXY_H
#define SIPPROXY_PROXY_PROXY_H

#include <stdbool.h>

#include "config/config.h"
#include "proxy/stats.h"
#include "sip/msg.h"
#include "transport/capture.h"
#include "transport/transport.h"

struct event_base;
struct txn_layer;

/* "Where does this go" — answered by the cluster layer. */
struct proxy_routing {
	/* The SIP Server a request from an endpoint (or one addressed to the
	 * cluster itself) is sent to. Returns 0 and fills dest, or -1 when no
	 * server is in service (the proxy answers 503). */
	int (*pick_server)(void *arg, const struct sip_msg *req, struct tp_dest *dest);
	/* Is src a configured proxy or SIP Server (trusted to route anywhere)? */
	bool (*is_trusted)(void *arg, const union tp_sockaddr *src);
	/* Is addr (ip and port) one of the SIP Servers? Untrusted requests may
	 * only ever be sent to these. */
	bool (*is_server)(void *arg, const union tp_sockaddr *addr);
	/* Is src a configured SBC (a trusted edge peer whose Path headers, RFC
	 * 3327, are honoured)? May be NULL: none. */
	bool (*is_edge)(void *arg, const union tp_sockaddr *src);
	void *arg;
};

/* One place the location service sends a request (a registered binding). */
struct proxy_target {
	struct str uri;	     /* Request-URI for the branch (the Contact) */
	struct str path;     /* Route values to add (RFC 3327 Path), may be empty */
	uint16_t q;	     /* x1000; targets of equal q are tried in parallel */
	struct tp_dest dest; /* the endpoint's flow (used when there is no Path) */
	bool outbound;	     /* an RFC 5626 client: a failed flow is 430, else 480 */
};

/* The registrar's hooks (RFC 3261 §10.3, §16.5). */
struct proxy_location {
	/* Targets for a request routed by its Request-URI: -1 when the
	 * location service does not own it, else how many were written (0 ->
	 * 480). Strings are copied into a, which lives as long as the request. */
	int (*lookup)(void *arg, const struct sip_msg *req, struct proxy_target *out, unsigned max,
		      struct arena *a);
	/* Is this URI in a domain the cluster serves (an endpoint's REGISTER or
	 * call to user@domain is for the cluster, not a relay attempt)? */
	bool (*serves)(void *arg, const struct sip_uri *uri);
	/* A SIP Server answered 2xx to a REGISTER we forwarded from src.
	 * path_trusted: src is a configured SBC, so the REGISTER's Path counts;
	 * otherwise it was removed before forwarding and must not be stored. */
	void (*registered)(void *arg, const struct sip_msg *req, const struct tp_packet *src,
			   const struct sip_msg *rsp, bool path_trusted);
	void *arg;
};

/* How the proxy meets the world. All zero: real sockets and the monotonic
 * clock. The unit tests and the whole-proxy fuzzer pass a capture transport
 * (transport/capture.h) and a virtual clock. */
struct proxy_env {
	tp_capture_fn capture; /* non-NULL: nothing is sent, everything is handed here */
	void *capture_arg;
	uint64_t (*now_ms)(void *arg); /* NULL: time_now_ms() */
	void *clock_arg;
};

struct proxy;
struct arena;

struct proxy *proxy_new(struct event_base *base, const struct config *cfg,
			const struct proxy_routing *routing, const struct proxy_env *env, char *err,
			size_t errlen);
void proxy_free(struct proxy *p);

/* Installs the registrar's hooks (before proxy_start). */
void proxy_set_location(struct proxy *p, const struct proxy_location *loc);

/* Opens the configured listeners. Returns 0 or -1 with err filled. */
int proxy_start(struct proxy *p, char *err, size_t errlen);
/* SIGTERM: stop taking new transactions (listeners closed, new requests get
 * 503 on open connections) and let the rest finish. */
void proxy_drain(struct proxy *p);
/* Drain is over: no transaction can still send a message upstream or
 * downstream (those only absorbing retransmissions do not count). */
bool proxy_drained(const struct proxy *p);

struct tp *proxy_transport(struct proxy *p);
struct txn_layer *proxy_txn_layer(struct proxy *p);

#endif
