/* app.h — one running sipproxy instance, composed: the cluster's node table,
 * the proxy core, the registrar on its store, the admin endpoint and the
 * once-a-second maintenance, on one event loop. main.c runs it as a process;
 * the proxy's tests and the whole-proxy fuzzer run the same composition on a
 * capture transport and a virtual clock. */
#ifndef SIPPROXY_APP_APP_H
#define SIPPROXY_APP_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "proxy/proxy.h"

struct event_base;
struct app;
struct cluster;

/* Builds everything from cfg (which must outlive the app); env as for
 * proxy_new (NULL: the real network and clock). NULL with err filled. */
struct app *app_new(struct event_base *base, const struct config *cfg, const struct proxy_env *env,
		    char *err, size_t errlen);
/* Opens the listeners and the admin endpoint. 0 or -1 with err filled. */
int app_start(struct app *app, char *err, size_t errlen);
/* Writes the final snapshot (when configured) and frees everything. */
void app_free(struct app *app);

/* SIGHUP / POST /reload: reads the config file again (as this proxy's name)
 * and applies its cluster definition; nothing in flight is dropped. A bad
 * file: -1 with its file:line error, and the running definition stays. */
int app_reload(struct app *app, char *err, size_t errlen);

void app_drain(struct app *app);
bool app_drained(const struct app *app);
/* The once-a-second work (binding expiry, periodic snapshot), for callers
 * that drive time themselves. */
void app_maintenance(struct app *app);

struct proxy *app_proxy(struct app *app);
struct store *app_store(struct app *app);
/* The cluster's node and proxy tables (for /nodes-like views in tests). */
struct cluster *app_cluster(struct app *app);

#endif
