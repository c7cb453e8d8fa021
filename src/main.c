/* main.c — the sipproxy process: command line, config, logging, one event loop
 * with the proxy core, the cluster node table and the admin endpoint; runs in
 * the foreground (for systemd) and drains on SIGTERM within shutdown-timeout. */
#include <event2/event.h>
#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "admin/registrations.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "proxy/proxy.h"
#include "registrar/registrar_hooks.h"
#include "store/store.h"
#include "util/log.h"

#define SIPPROXY_VERSION "0.1.0"

struct app {
	struct event_base *base;
	struct config cfg;
	struct cluster *cluster;
	struct proxy *proxy;
	struct admin *admin;
	struct store *store;
	struct registrar *registrar;
	struct event *sig_term, *sig_int, *drain_tick, *maintenance;
	time_t drain_deadline;
	unsigned ticks;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sipproxy [-c FILE]          run (embedded default config without -c)\n"
		"       sipproxy --check-config FILE validate a config file and exit\n"
		"       sipproxy --config-docs       print the option reference (Markdown)\n"
		"       sipproxy --version\n");
}

static void drain_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;
	(void)fd;
	(void)what;
	if (proxy_idle(app->proxy)) {
		LOG_INFO("drained", "result=idle");
		event_base_loopexit(app->base, NULL);
	} else if (time(NULL) >= app->drain_deadline) {
		struct proxy_stats s;
		proxy_get_stats(app->proxy, &s);
		LOG_WARN("drained", "result=timeout server_txns=%zu client_txns=%zu",
			 s.txn_server_active, s.txn_client_active);
		event_base_loopexit(app->base, NULL);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct app *app = arg;
	(void)what;
	if (app->drain_tick) {
		LOG_WARN("shutdown", "signal=%d action=exit_now", (int)sig);
		event_base_loopexit(app->base, NULL);
		return;
	}
	LOG_INFO("shutdown", "signal=%d action=drain timeout_s=%u", (int)sig,
		 app->cfg.shutdown_timeout);
	proxy_drain(app->proxy);
	if (app->admin)
		admin_set_draining(app->admin, true);
	app->drain_deadline = time(NULL) + app->cfg.shutdown_timeout;
	app->drain_tick = event_new(app->base, -1, EV_PERSIST, drain_tick_cb, app);
	struct timeval tv = {0, 100 * 1000};
	event_add(app->drain_tick, &tv);
}

static void admin_proxy_stats(void *arg, struct proxy_stats *out)
{
	proxy_get_stats(arg, out);
}

static void admin_tp_stats(void *arg, struct tp_stats *out)
{
	tp_get_stats(proxy_transport(arg), out);
}

/* Once a second: drop expired bindings; every snapshot interval: write the
 * store to disk so a restart loses no binding. */
static void maintenance_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *app = arg;
	(void)fd;
	(void)what;
	store_expire(app->store, registrar_now_ms());
	if (app->cfg.registrar_snapshot[0] && app->cfg.registrar_snapshot_interval &&
	    ++app->ticks % app->cfg.registrar_snapshot_interval == 0) {
		char err[256];
		if (store_mem_snapshot(app->store, err, sizeof(err)) < 0)
			LOG_WARN("snapshot_failed", "reason=\"%s\"", err);
	}
}

static int start_registrar(struct app *app, char *err, size_t errlen)
{
	app->store = store_mem_new(app->cfg.registrar_snapshot[0] ? app->cfg.registrar_snapshot
								  : NULL,
				   err, errlen);
	if (!app->store)
		return -1;
	struct registrar_config rc = {
		.n_domains = app->cfg.registrar_domains.n,
		.owner = app->cfg.name,
		.default_expires = app->cfg.registrar_default_expires,
	};
	for (size_t i = 0; i < rc.n_domains && i < REGISTRAR_MAX_DOMAINS; i++)
		rc.domains[i] = app->cfg.registrar_domains.v[i];
	if (rc.n_domains == 0) {
		/* No domain configured: users register as user@<our address>. */
		rc.domains[0] = app->cfg.sip_address;
		rc.n_domains = 1;
	}
	app->registrar = registrar_new(&rc, app->store);
	if (!app->registrar) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	struct proxy_location loc;
	registrar_proxy_hooks(app->registrar, &loc);
	proxy_set_location(app->proxy, &loc);
	app->maintenance = event_new(app->base, -1, EV_PERSIST, maintenance_cb, app);
	struct timeval tv = {1, 0};
	event_add(app->maintenance, &tv);
	LOG_INFO("registrar", "domains=%zu bindings=%zu snapshot=%s", rc.n_domains,
		 store_count(app->store),
		 app->cfg.registrar_snapshot[0] ? app->cfg.registrar_snapshot : "(none)");
	return 0;
}

/* Each TCP connection is a descriptor: raise the soft limit so that
 * sip.tcp-max-connections, not EMFILE, is what bounds them. */
static void raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rlim_t want = (rlim_t)cfg->tcp_max_connections + 256;
	if (rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < want)
		LOG_WARN("fd_limit", "limit=%llu wanted=%llu", (unsigned long long)rl.rlim_cur,
			 (unsigned long long)want);
}

static int run(struct app *app)
{
	char err[512];
	raise_fd_limit(&app->cfg);
	app->base = event_base_new();
	if (!app->base) {
		LOG_ERROR("startup", "reason=\"no event base\"");
		return 1;
	}
	app->cluster = cluster_new(&app->cfg, err, sizeof(err));
	if (!app->cluster) {
		LOG_ERROR("startup", "reason=\"%s\"", err);
		return 1;
	}
	struct proxy_routing routing;
	cluster_routing(app->cluster, &routing);
	app->proxy = proxy_new(app->base, &app->cfg, &routing, err, sizeof(err));
	if (!app->proxy || start_registrar(app, err, sizeof(err)) < 0 ||
	    proxy_start(app->proxy, err, sizeof(err)) < 0) {
		LOG_ERROR("startup", "reason=\"%s\"", err);
		return 1;
	}
	if (app->cfg.admin_port) {
		struct admin_sources src = {
			.proxy_stats = admin_proxy_stats,
			.proxy_arg = app->proxy,
			.tp_stats = admin_tp_stats,
			.tp_arg = app->proxy,
			.name = app->cfg.name,
			.start_time = time(NULL),
		};
		app->admin = admin_new(app->base, app->cfg.admin_address, app->cfg.admin_port, &src);
		if (!app->admin) {
			LOG_ERROR("startup", "reason=\"cannot open admin endpoint %s:%u\"",
				  app->cfg.admin_address, app->cfg.admin_port);
			return 1;
		}
		admin_route_add(app->admin, "/registrations", admin_registrations_page,
				app->store);
	}
	app->sig_term = evsignal_new(app->base, SIGTERM, on_signal, app);
	app->sig_int = evsignal_new(app->base, SIGINT, on_signal, app);
	event_add(app->sig_term, NULL);
	event_add(app->sig_int, NULL);
	signal(SIGPIPE, SIG_IGN);
	LOG_INFO("started", "name=%s version=%s config=%s nodes=%zu", app->cfg.name,
		 SIPPROXY_VERSION, app->cfg.path[0] ? app->cfg.path : "(embedded default)",
		 app->cfg.n_nodes);
	event_base_dispatch(app->base);
	LOG_INFO("stopped", "name=%s", app->cfg.name);
	return 0;
}

static void app_free(struct app *app)
{
	if (app->admin)
		admin_free(app->admin);
	if (app->proxy)
		proxy_free(app->proxy);
	if (app->store && app->cfg.registrar_snapshot[0]) {
		char err[256];
		if (store_mem_snapshot(app->store, err, sizeof(err)) < 0)
			LOG_WARN("snapshot_failed", "reason=\"%s\"", err);
	}
	if (app->registrar)
		registrar_free(app->registrar);
	if (app->store)
		store_free(app->store);
	if (app->maintenance)
		event_free(app->maintenance);
	if (app->cluster)
		cluster_free(app->cluster);
	if (app->sig_term)
		event_free(app->sig_term);
	if (app->sig_int)
		event_free(app->sig_int);
	if (app->drain_tick)
		event_free(app->drain_tick);
	if (app->base)
		event_base_free(app->base);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", required_argument, NULL, 'C'},
		{"config-docs", no_argument, NULL, 'D'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *check = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'C': check = optarg; break;
		case 'D': config_write_docs(stdout); return 0;
		case 'V': printf("sipproxy %s\n", SIPPROXY_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	struct app *app = calloc(1, sizeof(*app));
	if (!app)
		return 1;
	char err[1024];
	int rc;
	if (check) {
		rc = config_load(check, &app->cfg, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "%s\n", err);
		else
			printf("%s: ok\n", check);
		free(app);
		return rc < 0 ? 1 : 0;
	}
	if (path) {
		if (config_load(path, &app->cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			free(app);
			return 1;
		}
	} else {
		config_defaults(&app->cfg);
	}
	log_setup((enum log_level)app->cfg.log_level, app->cfg.log_syslog, "sipproxy");
	rc = run(app);
	app_free(app);
	free(app);
	return rc;
}
