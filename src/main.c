/* main.c — the sipproxy process: command line, config, logging, signals and
 * one event loop running the composed instance (app/app.c); runs in the
 * foreground (for systemd), drains on SIGTERM within shutdown-timeout and
 * applies a changed cluster definition on SIGHUP. */
#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "app/app.h"
#include "config/config.h"
#include "proxy/proxy.h"
#include "util/log.h"

#define SIPPROXY_VERSION "0.1.0"

struct process {
	struct event_base *base;
	struct config cfg;
	struct app *app;
	struct event *sig_term, *sig_int, *sig_hup, *drain_tick;
	time_t drain_deadline;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sipproxy [-c FILE] [-n NAME] run (embedded default config without -c)\n"
		"                                   as the proxy NAME of the cluster definition\n"
		"       sipproxy --check-config FILE [-n NAME]  validate and exit\n"
		"       sipproxy --config-docs       print the option reference (Markdown)\n"
		"       sipproxy --version\n");
}

static void drain_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct process *pr = arg;
	(void)fd;
	(void)what;
	if (app_drained(pr->app)) {
		LOG_INFO("drained", "result=idle");
		event_base_loopexit(pr->base, NULL);
	} else if (time(NULL) >= pr->drain_deadline) {
		struct proxy_stats s;
		proxy_get_stats(app_proxy(pr->app), &s);
		LOG_WARN("drained", "result=timeout server_txns=%zu client_txns=%zu",
			 s.txn_server_active, s.txn_client_active);
		event_base_loopexit(pr->base, NULL);
	}
}

/* SIGHUP: the cluster definition is read again and applied; a bad one is
 * logged with its file:line and the running one stays. */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct process *pr = arg;
	(void)sig;
	(void)what;
	char err[1024];
	if (app_reload(pr->app, err, sizeof(err)) < 0)
		LOG_ERROR("reload", "result=rejected reason=\"%s\"", err);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct process *pr = arg;
	(void)what;
	if (pr->drain_tick) {
		LOG_WARN("shutdown", "signal=%d action=exit_now", (int)sig);
		event_base_loopexit(pr->base, NULL);
		return;
	}
	LOG_INFO("shutdown", "signal=%d action=drain timeout_s=%u", (int)sig,
		 pr->cfg.shutdown_timeout);
	app_drain(pr->app);
	pr->drain_deadline = time(NULL) + pr->cfg.shutdown_timeout;
	pr->drain_tick = event_new(pr->base, -1, EV_PERSIST, drain_tick_cb, pr);
	struct timeval tv = {0, 100 * 1000};
	event_add(pr->drain_tick, &tv);
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

static int run(struct process *pr)
{
	char err[512];
	raise_fd_limit(&pr->cfg);
	pr->base = event_base_new();
	if (!pr->base) {
		LOG_ERROR("startup", "reason=\"no event base\"");
		return 1;
	}
	pr->app = app_new(pr->base, &pr->cfg, NULL, err, sizeof(err));
	if (!pr->app || app_start(pr->app, err, sizeof(err)) < 0) {
		LOG_ERROR("startup", "reason=\"%s\"", err);
		return 1;
	}
	pr->sig_term = evsignal_new(pr->base, SIGTERM, on_signal, pr);
	pr->sig_int = evsignal_new(pr->base, SIGINT, on_signal, pr);
	pr->sig_hup = evsignal_new(pr->base, SIGHUP, on_hup, pr);
	event_add(pr->sig_term, NULL);
	event_add(pr->sig_int, NULL);
	event_add(pr->sig_hup, NULL);
	signal(SIGPIPE, SIG_IGN);
	LOG_INFO("started", "name=%s version=%s config=%s nodes=%zu", pr->cfg.name,
		 SIPPROXY_VERSION, pr->cfg.path[0] ? pr->cfg.path : "(embedded default)",
		 pr->cfg.n_nodes);
	event_base_dispatch(pr->base);
	LOG_INFO("stopped", "name=%s", pr->cfg.name);
	return 0;
}

static void process_free(struct process *pr)
{
	app_free(pr->app);
	if (pr->sig_term)
		event_free(pr->sig_term);
	if (pr->sig_int)
		event_free(pr->sig_int);
	if (pr->sig_hup)
		event_free(pr->sig_hup);
	if (pr->drain_tick)
		event_free(pr->drain_tick);
	if (pr->base)
		event_base_free(pr->base);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"name", required_argument, NULL, 'n'},
	    {"check-config", required_argument, NULL, 'C'},
	    {"config-docs", no_argument, NULL, 'D'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *check = NULL, *name = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "c:n:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'n': name = optarg; break;
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
	struct process *pr = calloc(1, sizeof(*pr));
	if (!pr)
		return 1;
	char err[1024];
	int rc;
	if (check) {
		rc = config_load_as(check, name, &pr->cfg, err, sizeof(err));
		if (rc < 0)
			fprintf(stderr, "%s\n", err);
		else
			printf("%s: ok\n", check);
		free(pr);
		return rc < 0 ? 1 : 0;
	}
	if (path) {
		if (config_load_as(path, name, &pr->cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			free(pr);
			return 1;
		}
	} else {
		config_defaults(&pr->cfg);
		if (name)
			snprintf(pr->cfg.name, sizeof(pr->cfg.name), "%s", name);
	}
	log_setup((enum log_level)pr->cfg.log_level, pr->cfg.log_syslog, "sipproxy");
	rc = run(pr);
	process_free(pr);
	free(pr);
	return rc;
}
