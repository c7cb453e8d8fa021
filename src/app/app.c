/* app.c — the composition root (app.h): which object owns which, in what
 * order they are built and torn down, and how they are wired (the cluster
 * answers the proxy's routing questions and reads the registrar's node
 * ownership, the registrar is the proxy's location service, admin reads them
 * through getters), and the reload of the cluster definition. */
#include "app/app.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "admin/calls.h"
#include "admin/nodes.h"
#include "admin/registrations.h"
#include "admin/store.h"
#include "app/publish.h"
#include "cluster/cluster.h"
#include "registrar/registrar_hooks.h"
#include "store/store.h"
#include "util/log.h"

struct app {
	struct event_base *base;
	const struct config *cfg;
	struct cluster *cluster;
	struct proxy *proxy;
	struct store *store;
	struct registrar *registrar;
	struct admin *admin;
	struct publish *publish;
	struct event *maintenance;
	unsigned ticks;
};

static void admin_proxy_stats(void *arg, struct proxy_stats *out)
{
	proxy_get_stats(arg, out);
}

static void admin_tp_stats(void *arg, struct tp_stats *out)
{
	tp_get_stats(proxy_transport(arg), out);
}

/* Drops expired bindings; every snapshot interval writes the store to disk
 * so a restart loses no binding. */
void app_maintenance(struct app *app)
{
	store_expire(app->store, registrar_now_ms());
	cluster_tick(app->cluster);
	if (app->cfg->store_backend == CFG_STORE_MEMORY && app->cfg->registrar_snapshot[0] &&
	    app->cfg->registrar_snapshot_interval &&
	    ++app->ticks % app->cfg->registrar_snapshot_interval == 0) {
		char err[256];
		if (store_mem_snapshot(app->store, err, sizeof(err)) < 0)
			LOG_WARN("snapshot_failed", "reason=\"%s\"", err);
	}
}

static void maintenance_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	app_maintenance(arg);
}

/* The SIP ports we listen on: a served domain without a port is served on
 * these (registrar.h). */
static void registrar_ports(const struct config *cfg, struct registrar_config *rc)
{
	rc->ports[rc->n_ports++] = cfg->sip_port;
	for (size_t i = 0; i < cfg->n_listen && rc->n_ports < REGISTRAR_MAX_PORTS; i++) {
		bool seen = false;
		for (size_t k = 0; k < rc->n_ports; k++)
			seen = seen || rc->ports[k] == cfg->listen[i].port;
		if (!seen)
			rc->ports[rc->n_ports++] = cfg->listen[i].port;
	}
}

static struct store *new_store(struct app *app, char *err, size_t errlen)
{
	const struct config *cfg = app->cfg;
	if (cfg->store_backend == CFG_STORE_MEMORY)
		return store_mem_new(cfg->registrar_snapshot[0] ? cfg->registrar_snapshot : NULL,
				     err, errlen);
	struct store_redis_config rc = {
	    .address = cfg->store_redis_address,
	    .n_sentinels = cfg->store_redis_sentinels.n,
	    .master_name = cfg->store_redis_master,
	    .password = cfg->store_redis_password,
	    .prefix = cfg->store_redis_prefix,
	    .partitions = cfg->store_redis_partitions,
	    .log_length = cfg->store_redis_log_length,
	    .queue_max = cfg->store_redis_queue_size,
	    .timeout_ms = cfg->store_redis_timeout_ms,
	    .owner = cfg->name,
	};
	for (size_t i = 0; i < rc.n_sentinels && i < 8; i++)
		rc.sentinels[i] = cfg->store_redis_sentinels.v[i];
	if (rc.n_sentinels > 8)
		rc.n_sentinels = 8;
	return store_redis_new(app->base, &rc, err, errlen);
}

static int start_registrar(struct app *app, char *err, size_t errlen)
{
	const struct config *cfg = app->cfg;
	app->store = new_store(app, err, errlen);
	if (!app->store)
		return -1;
	struct registrar_config rc = {
	    .n_domains = cfg->registrar_domains.n,
	    .owner = cfg->name,
	    .default_expires = cfg->registrar_default_expires,
	};
	for (size_t i = 0; i < rc.n_domains && i < REGISTRAR_MAX_DOMAINS; i++)
		rc.domains[i] = cfg->registrar_domains.v[i];
	if (rc.n_domains == 0) {
		/* No domain configured: users register as user@<our address>. */
		rc.domains[0] = cfg->sip_address;
		rc.n_domains = 1;
	}
	registrar_ports(cfg, &rc);
	app->registrar = registrar_new(&rc, app->store);
	if (!app->registrar) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct proxy_location loc;
	registrar_proxy_hooks(app->registrar, &loc);
	proxy_set_location(app->proxy, &loc);
	cluster_set_registrar(app->cluster, app->registrar);
	struct repl *repl = store_redis_repl(app->store);
	if (repl && cluster_attach_repl(app->cluster, repl) < 0) {
		snprintf(err, errlen, "cannot share the call records");
		return -1;
	}
	app->publish = publish_new(cfg, app->cluster, repl);
	if (!app->publish) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cfg->store_backend == CFG_STORE_REDIS)
		LOG_INFO("registrar", "domains=%zu store=redis redis=%s sentinels=%zu",
			 rc.n_domains, cfg->store_redis_address, cfg->store_redis_sentinels.n);
	else
		LOG_INFO("registrar", "domains=%zu bindings=%zu store=memory snapshot=%s",
			 rc.n_domains, store_count(app->store),
			 cfg->registrar_snapshot[0] ? cfg->registrar_snapshot : "(none)");
	return 0;
}

struct app *app_new(struct event_base *base, const struct config *cfg, const struct proxy_env *env,
		    char *err, size_t errlen)
{
	struct app *app = calloc(1, sizeof(*app));
	if (!app) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	app->base = base;
	app->cfg = cfg;
	app->cluster = cluster_new(cfg, err, errlen);
	if (!app->cluster)
		goto fail;
	struct proxy_routing routing;
	cluster_routing(app->cluster, &routing);
	app->proxy = proxy_new(base, cfg, &routing, env, err, errlen);
	if (!app->proxy || start_registrar(app, err, errlen) < 0)
		goto fail;
	return app;
fail:
	app_free(app);
	return NULL;
}

static int reload_action(void *arg, const char *path, const char *query, struct evbuffer *out,
			 const char **content_type);

/* The metric families beyond the proxy's and the transport's. */
static void app_metrics(void *arg, struct evbuffer *out)
{
	struct app *app = arg;
	admin_nodes_metrics(app->cluster, out);
	admin_store_metrics(app->store, out);
}

int app_start(struct app *app, char *err, size_t errlen)
{
	const struct config *cfg = app->cfg;
	if (proxy_start(app->proxy, err, errlen) < 0)
		return -1;
	cluster_start(app->cluster, app->proxy);
	store_redis_start(app->store);
	if (cfg->n_proxies > 1 && !cfg->cluster_secret[0])
		LOG_WARN(
		    "no_cluster_secret",
		    "proxies=%zu: without cluster.secret each proxy has its own flow-token key; "
		    "in-dialog requests of another proxy's dialogs and endpoints whose "
		    "connection another proxy holds are routed by Request-URI only",
		    cfg->n_proxies);
	app->maintenance = event_new(app->base, -1, EV_PERSIST, maintenance_cb, app);
	struct timeval tv = {1, 0};
	if (!app->maintenance || event_add(app->maintenance, &tv) < 0) {
		snprintf(err, errlen, "cannot start the maintenance timer");
		return -1;
	}
	if (!cfg->admin_port)
		return 0;
	struct admin_sources src = {
	    .proxy_stats = admin_proxy_stats,
	    .proxy_arg = app->proxy,
	    .tp_stats = admin_tp_stats,
	    .tp_arg = app->proxy,
	    .extra_metrics = app_metrics,
	    .extra_arg = app,
	    .name = cfg->name,
	    .start_time = time(NULL),
	};
	app->admin = admin_new(app->base, cfg->admin_address, cfg->admin_port, &src);
	if (!app->admin) {
		snprintf(err, errlen, "cannot open admin endpoint %s:%u", cfg->admin_address,
			 cfg->admin_port);
		return -1;
	}
	admin_route_add(app->admin, "/registrations", admin_registrations_page, app->store);
	admin_route_add(app->admin, "/nodes", admin_nodes_page, app->cluster);
	admin_route_add(app->admin, "/store", admin_store_page, app->store);
	admin_route_add(app->admin, "/calls", admin_calls_page, cluster_calls(app->cluster));
	admin_route_add(app->admin, "/calls/", admin_calls_page, cluster_calls(app->cluster));
	admin_action_add(app->admin, "/nodes/", admin_node_action, app->cluster);
	admin_action_add(app->admin, "/reload", reload_action, app);
	admin_upload_add(app->admin, "/cluster", publish_upload, app->publish);
	return 0;
}

int app_reload(struct app *app, char *err, size_t errlen)
{
	const struct config *cur = app->cfg;
	if (!cur->path[0] || strcmp(cur->path, "(embedded default)") == 0) {
		snprintf(err, errlen, "running on the embedded default: no file to read again");
		return -1;
	}
	struct config *next = malloc(sizeof(*next));
	if (!next) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = config_load_as(cur->path, cur->name, next, err, errlen);
	if (rc < 0)
		cluster_reload_rejected(app->cluster);
	else
		rc = cluster_apply(app->cluster, next, err, errlen);
	if (rc == 0)
		LOG_INFO("reload", "result=applied config=%s nodes=%zu proxies=%zu", cur->path,
			 next->n_nodes, next->n_proxies);
	free(next);
	return rc;
}

static int reload_action(void *arg, const char *path, const char *query, struct evbuffer *out,
			 const char **content_type)
{
	(void)path;
	(void)query;
	(void)content_type;
	char err[1024];
	if (app_reload(arg, err, sizeof(err)) < 0) {
		LOG_ERROR("reload", "result=rejected reason=\"%s\"", err);
		evbuffer_add_printf(out, "rejected: %s\n", err);
		return 409;
	}
	evbuffer_add_printf(out, "applied\n");
	return 200;
}

void app_drain(struct app *app)
{
	cluster_stop(app->cluster);
	proxy_drain(app->proxy);
	if (app->admin)
		admin_set_draining(app->admin, true);
}

bool app_drained(const struct app *app)
{
	return proxy_drained(app->proxy);
}

struct proxy *app_proxy(struct app *app)
{
	return app->proxy;
}
struct store *app_store(struct app *app)
{
	return app->store;
}
struct cluster *app_cluster(struct app *app)
{
	return app->cluster;
}

void app_free(struct app *app)
{
	if (!app)
		return;
	if (app->admin)
		admin_free(app->admin);
	if (app->cluster)
		cluster_detach(app->cluster); /* its probes live in the proxy */
	if (app->proxy)
		proxy_free(app->proxy);
	if (app->store && app->cfg->store_backend == CFG_STORE_MEMORY &&
	    app->cfg->registrar_snapshot[0]) {
		char err[256];
		if (store_mem_snapshot(app->store, err, sizeof(err)) < 0)
			LOG_WARN("snapshot_failed", "reason=\"%s\"", err);
	}
	if (app->registrar)
		registrar_free(app->registrar);
	if (app->store)
		store_free(app->store);
	publish_free(app->publish);
	if (app->maintenance)
		event_free(app->maintenance);
	if (app->cluster)
		cluster_free(app->cluster);
	free(app);
}
