/* cluster.h — the SIP Cluster as this proxy sees it (seed: "the lists of SIP
 * Proxies and SIP Servers"): SIP Server nodes, each an HA pair whose current
 * primary is found by OPTIONS probing (oos-check/oos-force), by passive
 * detection and by a request from the backup; the peer proxies and SBCs; the
 * data centers. Routing asks it "where does this go" (proxy_routing): the
 * dialog's node, the node that accepted the endpoint's REGISTER, or the
 * balancer over in-service nodes, local data center first. The definition is
 * applied again on reload without dropping anything in flight. */
#ifndef SIPPROXY_CLUSTER_CLUSTER_H
#define SIPPROXY_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "proxy/proxy.h"
#include "transport/transport.h"

struct calls;
struct cluster;
struct registrar;
struct repl;

struct cluster_stats {
	uint64_t changes;	   /* HA changes of any node */
	uint64_t takeovers;	   /* a request from a member made it primary */
	uint64_t probes;	   /* OPTIONS sent */
	uint64_t probe_timeouts;   /* OPTIONS without an answer in time */
	uint64_t passive_failures; /* requests a member failed (timeout, transport, 503) */
	uint64_t reloads, reload_errors;
	uint64_t peer_changes; /* another proxy found dead or back */
};

/* Another proxy of the cluster as /nodes shows it. */
struct cluster_peer_view {
	char name[CFG_NAME_MAX];
	char address[64];
	bool alive;
	uint32_t rtt_ms;
	uint64_t since_s; /* in this state */
};
/* The other proxies; how many were written. */
size_t cluster_peer_view(struct cluster *c, struct cluster_peer_view *out, size_t max);

/* One node as /nodes and sipproxyctl show it. */
struct cluster_member_view {
	char addr[64];	      /* transport:ip:port */
	const char *role;     /* "primary", "backup" or "unknown" */
	int last_status;      /* last probe answer; 0 none yet, -1 no answer */
	int64_t probe_ago_ms; /* since its last probe was sent, -1 never */
	uint32_t rtt_ms;
};
struct cluster_node_view {
	char name[CFG_NAME_MAX];
	char geo[CFG_NAME_MAX];
	bool local;
	unsigned weight;
	const char *state; /* "active", "unknown", "out-of-service" */
	bool manual_out;
	bool in_service;
	int64_t since; /* Unix time of the last change */
	char reason[96];
	uint64_t changes, active_calls, requests, failures;
	unsigned n_members;
	struct cluster_member_view m[2];
};

/* Builds the node table from cfg (copied; names resolved once). */
struct cluster *cluster_new(const struct config *cfg, char *err, size_t errlen);
void cluster_free(struct cluster *c);
/* Starts probing through the proxy's transactions (after proxy_start). */
void cluster_start(struct cluster *c, struct proxy *p);
/* Drain: no more probes (the pairs keep the state they had). */
void cluster_stop(struct cluster *c);
/* The same, and the proxy is forgotten: it is about to be freed. */
void cluster_detach(struct cluster *c);
/* The registrar whose bindings say which node owns an endpoint. */
/* The Redis store's replication: the dialog records are shared through it
 * (before it starts connecting). */
int cluster_attach_repl(struct cluster *c, struct repl *r);
/* The dialog records (calls.h), for GET /calls. */
struct calls *cluster_calls(struct cluster *c);
/* Once a second: calls past cluster.call-max-lifetime go. */
void cluster_tick(struct cluster *c);
void cluster_set_registrar(struct cluster *c, struct registrar *r);
/* Applies a new definition: nodes added, removed or changed at once, those
 * unchanged keep their state. -1 with err (nothing changed) if it cannot. */
int cluster_apply(struct cluster *c, const struct config *cfg, char *err, size_t errlen);
/* A new definition refused before it reached cluster_apply (the files did
 * not load: syntax, unknown key): counted with the rejected reloads. */
void cluster_reload_rejected(struct cluster *c);

/* Operator: node name out of service (out) or back. -1: no such node. */
int cluster_set_out(struct cluster *c, const char *name, bool out);
size_t cluster_view(struct cluster *c, struct cluster_node_view *out, size_t max);
void cluster_get_stats(const struct cluster *c, struct cluster_stats *out);
size_t cluster_node_count(const struct cluster *c);

/* Source address of a configured proxy or SIP Server (either of a pair)? */
bool cluster_is_trusted(const struct cluster *c, const union tp_sockaddr *src);
/* Source address of a configured SBC (its Path headers are honoured)? */
bool cluster_is_sbc(const struct cluster *c, const union tp_sockaddr *src);
/* Address (ip and port) of a SIP Server, primary or backup? */
bool cluster_is_server(const struct cluster *c, const union tp_sockaddr *addr);

/* The proxy's routing hooks, answered by this cluster. */
void cluster_routing(struct cluster *c, struct proxy_routing *out);

#endif
