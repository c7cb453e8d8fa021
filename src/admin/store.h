/* store.h — the registration store's admin surface: GET /store (backend,
 * Redis state and master, queue, load and replication figures, as JSON) and
 * the store's metric families for /metrics. */
#ifndef SIPPROXY_ADMIN_STORE_H
#define SIPPROXY_ADMIN_STORE_H

struct evbuffer;

/* admin_handler_fn for admin_route_add("/store"); arg is the struct store *. */
int admin_store_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type);
/* Appends the store's metrics (Prometheus text) to out; arg is the store. */
void admin_store_metrics(void *arg, struct evbuffer *out);

#endif
