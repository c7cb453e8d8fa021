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

/* A SIP Server node (HA pair) as the proxy knows it: a handle the cluster
 * gave out, its name (carried in our Record-Route so a dialog follows its
 * node, not a member that may have died) and the member a request went to. */
struct proxy_node_ref {
	uint32_t id; /* 0 = none */
	char name[CFG_NAME_MAX];
	struct tp_dest member;
};

/* One question to the cluster: where does a request for the SIP Servers go. */
struct proxy_pick {
	const struct sip_msg *req;
	/* An in-dialog request: the node our Record-Route named (may be empty)
	 * and the SIP Server address its Request-URI or Route names (IP
	 * literal, may be NULL); the dialog's node's current primary wins. */
	struct str node;
	const union tp_sockaddr *hop;
	/* A retry: the node and member that just failed (NULL the first time). */
	const struct proxy_node_ref *failed;
	/* Out: the node and member (dest) to send to. */
	struct proxy_node_ref out;
	/* Out: ms the member has to answer before it counts as failed
	 * (passive detection; 0 = only Timer B/F). */
	uint32_t no_response_ms;
	/* Out when none is in service: Retry-After seconds for the 503. */
	unsigned retry_after;
};

/* What a SIP Server member did with a request (passive detection). */
enum proxy_server_outcome {
	PROXY_SERVER_ANSWERED = 1, /* any response: it is alive */
	PROXY_SERVER_TIMEOUT,	   /* nothing within cluster.no-response-timeout or Timer B/F */
	PROXY_SERVER_TRANSPORT,	   /* connection refused / reset, ICMP */
	PROXY_SERVER_503,	   /* 503 before any provisional: a backup or overloaded */
};

/* Another proxy of the cluster, as the routing hooks describe it. */
struct proxy_peer {
	struct tp_dest dest; /* where it listens (UDP) */
	bool alive;	     /* answered its last OPTIONS (or has not been asked yet) */
};

/* A call as the proxy reports it (slices valid during the call). */
struct proxy_dialog {
	struct str call_id;
	struct str from_tag, to_tag;
	struct str caller, callee; /* From and To URIs */
	struct str node;	   /* its SIP Server node; empty when none */
	struct str flow;	   /* the proxy holding the endpoint's flow */
};

/* "Where does this go" — answered by the cluster layer. */
struct proxy_routing {
	/* The SIP Server a request from an endpoint (or one addressed to the
	 * cluster itself, or an in-dialog one towards the servers) is sent to.
	 * Returns 0 with q->out filled, or -1 when no server is in service (the
	 * proxy answers 503 with q->retry_after). */
	int (*pick_server)(void *arg, struct proxy_pick *q);
	/* Passive detection: how a member handled a request we sent it. */
	void (*server_result)(void *arg, const struct proxy_node_ref *n,
			      enum proxy_server_outcome what);
	/* A call (INVITE dialog) on node n started (+1) or ended (-1): the
	 * least-calls balancer's count. */
	void (*call_delta)(void *arg, const struct proxy_node_ref *n, int delta);
	/* A request arrived from a trusted source: if src is a member of a node
	 * (its backup taking over shows this way), fills out and returns true. */
	bool (*server_request)(void *arg, const struct tp_packet *src, const struct sip_msg *req,
			       struct proxy_node_ref *out);
	/* Is src a configured proxy or SIP Server (trusted to route anywhere)? */
	bool (*is_trusted)(void *arg, const union tp_sockaddr *src);
	/* Is addr (ip and port) one of the SIP Servers? Untrusted requests may
	 * only ever be sent to these. */
	bool (*is_server)(void *arg, const union tp_sockaddr *addr);
	/* Is src a configured SBC (a trusted edge peer whose Path headers, RFC
	 * 3327, are honoured)? May be NULL: none. */
	bool (*is_edge)(void *arg, const union tp_sockaddr *src);
	/* The cluster proxy with this proxy_peer_id: where it listens and
	 * whether it answers (proxies watch each other). False when no proxy
	 * of the cluster has that id. May be NULL: a proxy alone. */
	bool (*peer)(void *arg, uint32_t id, struct proxy_peer *out);
	/* Does u name another proxy of the cluster (its address and port, or
	 * its Record-Route host)? Its Record-Route is then as good as ours.
	 * May be NULL. */
	bool (*is_peer_uri)(void *arg, const struct sip_uri *u);
	/* A call began (the INVITE's 2xx passed) or ended (its BYE was
	 * answered): the cluster's dialog records. May be NULL. */
	void (*dialog)(void *arg, const struct proxy_dialog *d, bool started);
	void *arg;
};

/* The id of a cluster proxy in flow tokens: FNV-1a-32 of its name. */
uint32_t proxy_peer_id(struct str name);

/* One place the location service sends a request (a registered binding). */
struct proxy_target {
	struct str uri;	     /* Request-URI for the branch (the Contact) */
	struct str path;     /* Route values to add (RFC 3327 Path), may be empty */
	uint16_t q;	     /* x1000; targets of equal q are tried in parallel */
	struct tp_dest dest; /* the endpoint's flow (used when there is no Path) */
	bool outbound;	     /* an RFC 5626 client: a failed flow is 430, else 480 */
	struct str owner;    /* the cluster proxy holding that flow; empty = this one */
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
			   const struct sip_msg *rsp, bool path_trusted, struct str node);
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
struct proxy_uac;

/* A request the proxy sends itself ended: status is the final response's
 * code, or 0 when none came within the time given (or the transport
 * failed); rtt_ms is the time since it was sent. */
typedef void (*proxy_uac_fn)(void *arg, int status, uint32_t rtt_ms);
/* Sends an OPTIONS to dest (a SIP Server member) from our listener for its
 * transport; fn is called exactly once, unless proxy_uac_cancel comes first.
 * NULL when it cannot be sent (no listener, no memory). */
struct proxy_uac *proxy_uac_options(struct proxy *p, const struct tp_dest *dest,
				    unsigned max_forwards, uint32_t timeout_ms, proxy_uac_fn fn,
				    void *arg);
/* No callback will come; returns its arg (for the caller to free). */
void *proxy_uac_cancel(struct proxy_uac *u);

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
