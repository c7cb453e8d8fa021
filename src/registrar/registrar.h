/* registrar.h — the registrar that delegates authentication (seed: "uses SIP
 * Server as an authentication server ... If it receives the 200 OK response,
 * the registration is stored"): REGISTER goes to a SIP Server like any request;
 * on its 2xx the granted bindings are written to the store (RFC 3261 §10.3,
 * RFC 5626 instance/reg-id, RFC 3327 Path), each with the SIP Server node
 * that accepted it, which owns the endpoint. The location service turns a
 * request for a served AOR into the targets of its live bindings, and names
 * an AOR's owner node for the cluster layer. */
#ifndef SIPPROXY_REGISTRAR_REGISTRAR_H
#define SIPPROXY_REGISTRAR_REGISTRAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"
#include "store/store.h"
#include "transport/transport.h"

struct arena;

#define REGISTRAR_MAX_DOMAINS 32
#define REGISTRAR_MAX_TARGETS 8
#define REGISTRAR_MAX_PORTS   16

struct registrar_config {
	/* Served domains, "host" or "host:port" ("[v6]:port"). A domain with a
	 * port serves URIs with exactly that port (its default when absent); one
	 * without serves URIs with no port or one of ports[] (our SIP ports), so
	 * user@<our IP>:<a SIP Server's port> is not taken for ours. */
	const char *domains[REGISTRAR_MAX_DOMAINS];
	size_t n_domains;
	uint16_t ports[REGISTRAR_MAX_PORTS];
	size_t n_ports;
	const char *owner;	  /* this proxy's name: owner of the flows it records */
	uint32_t default_expires; /* when neither response nor request says (3600) */
};

/* One place to send a request for an AOR (a live binding). */
struct registrar_target {
	struct str uri;	 /* Request-URI: the Contact */
	struct str path; /* Route values to add (Path), comma-separated, may be empty */
	uint16_t q;
	enum tp_proto proto;
	union tp_sockaddr source; /* the endpoint's flow: where its REGISTER came from */
	uint64_t conn_id;
	struct str owner;
	bool outbound; /* RFC 5626 client (+sip.instance and reg-id) */
};

struct registrar;

struct registrar *registrar_new(const struct registrar_config *cfg, struct store *store);
void registrar_free(struct registrar *r);

struct store *registrar_store(struct registrar *r);
const struct registrar_config *registrar_config(const struct registrar *r);

/* A SIP Server answered req (a REGISTER we forwarded, received from src) with
 * the 2xx rsp: store, refresh and remove bindings as granted. path_trusted:
 * src is a configured SBC, whose Path (RFC 3327) is stored as the route to
 * the contacts; from anyone else Path is never stored. node: the name of the
 * SIP Server node (HA pair) that answered, recorded on every binding saved or
 * refreshed (it owns the endpoint: registrar_owner_node); may be empty.
 * Returns the number of bindings changed, -1 on a malformed exchange (nothing
 * stored). */
int registrar_on_2xx(struct registrar *r, const struct sip_msg *req, const struct tp_packet *src,
		     const struct sip_msg *rsp, bool path_trusted, struct str node, int64_t now_ms);

/* The SIP Server node that owns the endpoint registered as aor_uri (a new
 * request's From URI): the node of the AOR's live binding with the latest
 * expiry (the most recent grant; among equal expiries the most recently
 * saved) that has a node whose name fits in cap (never cut). Copied
 * NUL-terminated into out; false when the URI is not a user of a served
 * domain or no live binding has such a node. One store lookup, no
 * allocation: it runs on every new request from an endpoint. */
bool registrar_owner_node(struct registrar *r, const struct sip_uri *aor_uri, int64_t now_ms,
			  char *out, size_t cap);

/* Location service (§16.5): -1 when the Request-URI is not in a served
 * domain, else the number of live targets written to out (0: ours but
 * nobody registered -> 480), highest q first. A Request-URI that merely
 * equals some registered Contact is not looked up: Contacts are the
 * endpoints' words, shared by nobody's rule (in-dialog requests follow the
 * flow token in our Record-Route instead). Target slices are copied into a. */
int registrar_lookup(struct registrar *r, const struct sip_msg *req, int64_t now_ms,
		     struct registrar_target *out, unsigned max, struct arena *a);

/* Is u (sip/sips) in one of the served domains (host and port)? */
bool registrar_serves(const struct registrar *r, const struct sip_uri *u);

/* Canonical AOR of a URI (§10.3 step 5): "sip:user@host", host lower-cased,
 * no port, parameters or headers. Returns length written (0 if it does not fit). */
size_t registrar_aor(const struct sip_uri *u, char *out, size_t cap);

/* Wall clock in ms since the Unix epoch (bindings are shared across proxies). */
int64_t registrar_now_ms(void);

#endif
