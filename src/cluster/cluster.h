/* cluster.h — the cluster as the config describes it (seed: "the lists of SIP
 * Proxies and SIP Servers"): SIP Server nodes as HA pairs and the peer
 * proxies. Routing asks it "where does this go" (proxy_routing); later work
 * adds OPTIONS probing (oos-check/oos-force), primary detection, balancing and
 * geo-location here without changing the proxy core. */
#ifndef SIPPROXY_CLUSTER_CLUSTER_H
#define SIPPROXY_CLUSTER_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "proxy/proxy.h"
#include "transport/transport.h"

struct cluster_node {
	const struct cfg_node *cfg;
	struct tp_dest primary;
	bool has_backup;
	struct tp_dest backup;
	bool backup_is_primary; /* the pair's roles as last seen (HA issue) */
};

struct cluster;

/* Resolves the configured addresses (hostnames once, at start-up). */
struct cluster *cluster_new(const struct config *cfg, char *err, size_t errlen);
void cluster_free(struct cluster *c);

/* The node a new request goes to and its current primary. */
int cluster_pick_server(struct cluster *c, const struct sip_msg *req, struct tp_dest *out);
/* Source address of a configured proxy or SIP Server (either of a pair)? */
bool cluster_is_trusted(const struct cluster *c, const union tp_sockaddr *src);
/* Source address of a configured SBC (its Path headers are honoured)? */
bool cluster_is_sbc(const struct cluster *c, const union tp_sockaddr *src);
/* Address (ip and port) of a SIP Server, primary or backup? */
bool cluster_is_server(const struct cluster *c, const union tp_sockaddr *addr);
size_t cluster_node_count(const struct cluster *c);
const struct cluster_node *cluster_node_at(const struct cluster *c, size_t i);

/* The proxy's routing hooks, answered by this cluster. */
void cluster_routing(struct cluster *c, struct proxy_routing *out);

#endif
