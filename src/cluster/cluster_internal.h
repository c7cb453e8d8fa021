/* cluster_internal.h — the node table shared by the cluster's files: each
 * SIP Server node with its members' addresses, HA pair state, probe timer and
 * counters; the trust and SBC sets; this proxy's data center. cluster.c owns
 * its building and reloading, probe.c the OPTIONS, pick.c where a request
 * goes, balance.c the choice among in-service nodes. */
#ifndef SIPPROXY_CLUSTER_CLUSTER_INTERNAL_H
#define SIPPROXY_CLUSTER_CLUSTER_INTERNAL_H

#include "cluster/calls.h"
#include "cluster/cluster.h"
#include "cluster/ha_pair.h"
#include "util/timer_wheel.h"

struct proxy_uac;

struct cnode {
	struct cluster *c;
	uint32_t id; /* stable handle (proxy_node_ref.id), kept across reloads */
	struct cfg_node cfg;
	struct tp_dest member[2]; /* [0] the configured primary, [1] the backup */
	char member_text[2][64];
	struct ha_pair ha;
	struct timer probe_timer;
	struct proxy_uac *probe[2]; /* outstanding OPTIONS per member */
	bool local;		    /* same geo-location as this proxy (or none set) */
	/* Removed from the definition while it still had calls: kept, for
	 * those calls' in-dialog requests only, until they end or until
	 * retire_at (a BYE through another proxy is never seen here). */
	bool retiring;
	uint64_t retire_at;
	int tier; /* 0 local, 1.. other data centers in order, -1 never */
	/* balancing */
	int64_t wrr_current; /* smooth weighted round-robin */
	uint64_t
	    active_calls;  /* this proxy's INVITEs to it not answered yet (calls.c has the rest) */
	uint64_t requests; /* new requests sent to it */
	uint64_t failures; /* passive failures reported */
};

#define CLUSTER_MAX_TIERS 16
/* How long a removed node with calls is kept for them at most. */
#define CLUSTER_RETIRE_MAX_MS (4u * 3600u * 1000u)
/* How often a retiring node checks whether its calls are over. */
#define CLUSTER_RETIRE_CHECK_MS 5000u

/* Another proxy of the cluster (peers.c). */
struct cpeer {
	struct cluster *c;
	char name[CFG_NAME_MAX];
	uint32_t id; /* proxy_peer_id: str_hash of the name */
	struct tp_dest dest;
	bool alive;
	uint64_t since_ms;
	uint32_t rtt_ms;
	struct proxy_uac *probe;
	struct timer timer;
};

struct cluster {
	struct config *cfg; /* own copy: replaced on reload */
	struct proxy *proxy;
	struct registrar *registrar;
	struct cnode *nodes[CFG_MAX_NODES];
	size_t n_nodes;
	uint32_t next_id;
	union tp_sockaddr trusted[CFG_MAX_NODES * 2 + CFG_MAX_PROXIES];
	size_t n_trusted;
	union tp_sockaddr sbcs[CFG_MAX_SBCS];
	size_t n_sbcs;
	unsigned n_tiers;
	uint64_t rr; /* round-robin position */
	struct cpeer *peers[CFG_MAX_PROXIES];
	size_t n_peers;
	struct calls *calls; /* the cluster's dialog records */
	bool started;
	struct cluster_stats stats;
};

/* cluster.c */
/* The node's calls: this proxy's being set up, and every proxy's up
 * (dialog records: cluster-wide with the Redis store). */
uint64_t cluster_node_calls(const struct cnode *n);
struct cnode *cluster_node_by_id(struct cluster *c, uint32_t id);
struct cnode *cluster_node_by_name(struct cluster *c, struct str name);
/* The node and member index an address (ip and port, or ip alone when that
 * is unambiguous) belongs to. */
struct cnode *cluster_node_by_member(struct cluster *c, const union tp_sockaddr *a, unsigned *m);
uint64_t cluster_now(const struct cluster *c);
/* After any HA change of n: logs it, counts it. */
void cluster_node_changed(struct cnode *n);
void cluster_ref(const struct cnode *n, struct proxy_node_ref *out);

/* A retiring node whose calls are over (or whose time is up) leaves the
 * table; true when n was freed. */
bool cluster_retire_check(struct cnode *n);

/* peers.c */
void cluster_peers_build(struct cluster *c, const struct config *cfg);
void cluster_peers_start(struct cluster *c);
void cluster_peers_stop(struct cluster *c);
void cluster_peers_free(struct cluster *c);
bool cluster_peer_hook(void *arg, uint32_t id, struct proxy_peer *out);
bool cluster_peer_uri_hook(void *arg, const struct sip_uri *u);
/* A configured host, numeric or (resolve-host) by name, into out. */
int cluster_resolve(const char *host, uint16_t port, enum tp_proto proto, struct tp_dest *out);

/* probe.c */
void cluster_probe_start(struct cnode *n, uint32_t delay_ms);
void cluster_probe_stop(struct cnode *n);

/* balance.c: one of the n candidates for req (all in service, same tier). */
struct cnode *cluster_balance(struct cluster *c, struct cnode **cand, size_t n,
			      const struct sip_msg *req);
/* Rendezvous hash: the candidate key maps to (stays put when others come
 * and go). */
struct cnode *cluster_hash_pick(struct cnode **cand, size_t n, struct str key);

/* pick.c */
int cluster_pick(struct cluster *c, struct proxy_pick *q);

#endif
