/* nodes.h — the cluster's admin surface: GET /nodes (each SIP Server node:
 * state, role of each member, last probe, RTT, since when and why), POST
 * /nodes/NAME/out and /nodes/NAME/in (an operator takes a node out of
 * service and back), and the cluster's metric families for /metrics. */
#ifndef SIPPROXY_ADMIN_NODES_H
#define SIPPROXY_ADMIN_NODES_H

struct evbuffer;
struct cluster;

/* admin_handler_fn for admin_route_add("/nodes"); arg is the struct cluster *.
 * ?format=json gives JSON, else a text table. */
int admin_nodes_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type);
/* admin_handler_fn for admin_action_add("/nodes/"): /nodes/NAME/out|in. */
int admin_node_action(void *arg, const char *path, const char *query, struct evbuffer *out,
		      const char **content_type);
/* Appends the cluster's metrics (Prometheus text) to out. */
void admin_nodes_metrics(void *arg, struct evbuffer *out);

#endif
