/* nodes.c — GET /nodes, POST /nodes/NAME/out|in and the cluster's metrics
 * (nodes.h), formatted from the cluster's views. */
#include "admin/nodes.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin/admin.h"
#include "cluster/cluster.h"

static const char *shown_state(const struct cluster_node_view *v)
{
	return v->manual_out ? "taken-out" : v->state;
}

static void page_json(struct evbuffer *out, const struct cluster_node_view *v, size_t n)
{
	evbuffer_add_printf(out, "{\"nodes\":[");
	for (size_t i = 0; i < n; i++) {
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		admin_json_str(out, str_cstr(v[i].name));
		evbuffer_add_printf(out, ",\"geo_location\":");
		admin_json_str(out, str_cstr(v[i].geo));
		evbuffer_add_printf(out,
				    ",\"local\":%s,\"weight\":%u,\"state\":\"%s\","
				    "\"in_service\":%s,\"since\":%lld,\"reason\":",
				    v[i].local ? "true" : "false", v[i].weight, shown_state(&v[i]),
				    v[i].in_service ? "true" : "false", (long long)v[i].since);
		admin_json_str(out, str_cstr(v[i].reason));
		evbuffer_add_printf(
		    out,
		    ",\"changes\":%llu,\"active_calls\":%llu,\"requests\":%llu,"
		    "\"failures\":%llu,\"members\":[",
		    (unsigned long long)v[i].changes, (unsigned long long)v[i].active_calls,
		    (unsigned long long)v[i].requests, (unsigned long long)v[i].failures);
		for (unsigned k = 0; k < v[i].n_members; k++) {
			const struct cluster_member_view *m = &v[i].m[k];
			evbuffer_add_printf(out, "%s{\"address\":", k ? "," : "");
			admin_json_str(out, str_cstr(m->addr));
			evbuffer_add_printf(out,
					    ",\"configured\":\"%s\",\"role\":\"%s\","
					    "\"last_status\":%d,\"last_probe_ms_ago\":%lld,"
					    "\"rtt_ms\":%u}",
					    k ? "backup" : "primary", m->role, m->last_status,
					    (long long)m->probe_ago_ms, m->rtt_ms);
		}
		evbuffer_add_printf(out, "]}");
	}
	evbuffer_add_printf(out, "]");
}

/* The other proxies of the cluster and whether they answer. */
static void peers_json(struct evbuffer *out, const struct cluster_peer_view *v, size_t n)
{
	evbuffer_add_printf(out, ",\"proxies\":[");
	for (size_t i = 0; i < n; i++) {
		evbuffer_add_printf(out, "%s{\"name\":", i ? "," : "");
		admin_json_str(out, str_cstr(v[i].name));
		evbuffer_add_printf(out, ",\"address\":");
		admin_json_str(out, str_cstr(v[i].address));
		evbuffer_add_printf(out, ",\"alive\":%s,\"rtt_ms\":%u,\"since_s\":%llu}",
				    v[i].alive ? "true" : "false", v[i].rtt_ms,
				    (unsigned long long)v[i].since_s);
	}
	evbuffer_add_printf(out, "]}\n");
}

static void peers_text(struct evbuffer *out, const struct cluster_peer_view *v, size_t n)
{
	if (!n)
		return;
	evbuffer_add_printf(out, "\n%-20s %-24s %-6s %6s %9s\n", "PROXY", "ADDRESS", "STATE", "RTT",
			    "SINCE");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "%-20s %-24s %-6s %4ums %8llus\n", v[i].name, v[i].address,
				    v[i].alive ? "alive" : "dead", v[i].rtt_ms,
				    (unsigned long long)v[i].since_s);
}

static void page_text(struct evbuffer *out, const struct cluster_node_view *v, size_t n)
{
	evbuffer_add_printf(out, "%-20s %-10s %-15s %-6s %-24s %-8s %6s %6s %9s %s\n", "NODE",
			    "GEO", "STATE", "CALLS", "MEMBER", "ROLE", "PROBE", "RTT", "SINCE",
			    "REASON");
	time_t now = time(NULL);
	for (size_t i = 0; i < n; i++) {
		for (unsigned k = 0; k < v[i].n_members; k++) {
			const struct cluster_member_view *m = &v[i].m[k];
			char probe[24] = "-", since[24] = "", calls[24] = "";
			if (m->last_status > 0)
				snprintf(probe, sizeof(probe), "%d", m->last_status);
			else if (m->last_status < 0)
				snprintf(probe, sizeof(probe), "none");
			if (k == 0) {
				snprintf(since, sizeof(since), "%llds",
					 (long long)(now - v[i].since));
				snprintf(calls, sizeof(calls), "%llu",
					 (unsigned long long)v[i].active_calls);
			}
			evbuffer_add_printf(
			    out, "%-20s %-10s %-15s %-6s %-24s %-8s %6s %4ums %9s %s\n",
			    k ? "" : v[i].name, k ? "" : (v[i].geo[0] ? v[i].geo : "-"),
			    k ? "" : shown_state(&v[i]), calls, m->addr, m->role, probe, m->rtt_ms,
			    since, k ? "" : v[i].reason);
		}
	}
}

int admin_nodes_page(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type)
{
	(void)path;
	struct cluster *c = arg;
	size_t cap = cluster_node_count(c) + 1;
	struct cluster_node_view *v = calloc(cap, sizeof(*v));
	if (!v)
		return 500;
	size_t n = cluster_view(c, v, cap);
	struct cluster_peer_view pv[CFG_MAX_PROXIES];
	size_t np = cluster_peer_view(c, pv, CFG_MAX_PROXIES);
	if (query && strstr(query, "format=json")) {
		*content_type = "application/json";
		page_json(out, v, n);
		peers_json(out, pv, np);
	} else {
		page_text(out, v, n);
		peers_text(out, pv, np);
	}
	free(v);
	return 200;
}

int admin_node_action(void *arg, const char *path, const char *query, struct evbuffer *out,
		      const char **content_type)
{
	(void)query;
	(void)content_type;
	struct cluster *c = arg;
	const char *name = path + strlen("/nodes/");
	const char *slash = strrchr(name, '/');
	char nm[128];
	if (!slash || slash == name || (size_t)(slash - name) >= sizeof(nm)) {
		evbuffer_add_printf(out, "usage: POST /nodes/NAME/out or /nodes/NAME/in\n");
		return 400;
	}
	snprintf(nm, sizeof(nm), "%.*s", (int)(slash - name), name);
	bool take_out;
	if (strcmp(slash, "/out") == 0)
		take_out = true;
	else if (strcmp(slash, "/in") == 0)
		take_out = false;
	else {
		evbuffer_add_printf(out, "usage: POST /nodes/NAME/out or /nodes/NAME/in\n");
		return 400;
	}
	if (cluster_set_out(c, nm, take_out) < 0) {
		evbuffer_add_printf(out, "no node \"%s\"\n", nm);
		return 404;
	}
	evbuffer_add_printf(out, "node %s %s\n", nm, take_out ? "out of service" : "in service");
	return 200;
}

void admin_nodes_metrics(void *arg, struct evbuffer *out)
{
	struct cluster *c = arg;
	struct cluster_stats s;
	cluster_get_stats(c, &s);
	evbuffer_add_printf(
	    out,
	    "# HELP sipproxy_node_changes_total HA changes of SIP Server nodes.\n"
	    "# TYPE sipproxy_node_changes_total counter\n"
	    "sipproxy_node_changes_total %llu\n"
	    "# HELP sipproxy_node_takeovers_total Primaries found by a request "
	    "from the member.\n"
	    "# TYPE sipproxy_node_takeovers_total counter\n"
	    "sipproxy_node_takeovers_total %llu\n"
	    "# HELP sipproxy_probes_total OPTIONS probes sent.\n"
	    "# TYPE sipproxy_probes_total counter\n"
	    "sipproxy_probes_total %llu\n"
	    "# HELP sipproxy_probe_timeouts_total OPTIONS probes not answered.\n"
	    "# TYPE sipproxy_probe_timeouts_total counter\n"
	    "sipproxy_probe_timeouts_total %llu\n"
	    "# HELP sipproxy_passive_failures_total Requests a member failed.\n"
	    "# TYPE sipproxy_passive_failures_total counter\n"
	    "sipproxy_passive_failures_total %llu\n"
	    "# HELP sipproxy_reloads_total Cluster definitions applied / rejected.\n"
	    "# TYPE sipproxy_reloads_total counter\n"
	    "sipproxy_reloads_total{result=\"applied\"} %llu\n"
	    "sipproxy_reloads_total{result=\"rejected\"} %llu\n"
	    "# HELP sipproxy_peer_changes_total Other proxies of the cluster found dead or "
	    "back.\n"
	    "# TYPE sipproxy_peer_changes_total counter\n"
	    "sipproxy_peer_changes_total %llu\n",
	    (unsigned long long)s.changes, (unsigned long long)s.takeovers,
	    (unsigned long long)s.probes, (unsigned long long)s.probe_timeouts,
	    (unsigned long long)s.passive_failures, (unsigned long long)s.reloads,
	    (unsigned long long)s.reload_errors, (unsigned long long)s.peer_changes);
	struct cluster_peer_view pv[CFG_MAX_PROXIES];
	size_t np = cluster_peer_view(c, pv, CFG_MAX_PROXIES);
	evbuffer_add_printf(out, "# HELP sipproxy_peer_up 1 while the other proxy answers its "
				 "OPTIONS.\n# TYPE sipproxy_peer_up gauge\n");
	for (size_t i = 0; i < np; i++)
		evbuffer_add_printf(out, "sipproxy_peer_up{peer=\"%s\"} %d\n", pv[i].name,
				    pv[i].alive ? 1 : 0);
	size_t cap = cluster_node_count(c) + 1;
	struct cluster_node_view *v = calloc(cap, sizeof(*v));
	if (!v)
		return;
	size_t n = cluster_view(c, v, cap);
	evbuffer_add_printf(out, "# HELP sipproxy_node_in_service 1 when traffic may go to the "
				 "node.\n# TYPE sipproxy_node_in_service gauge\n");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "sipproxy_node_in_service{node=\"%s\",state=\"%s\"} %d\n",
				    v[i].name, shown_state(&v[i]), v[i].in_service ? 1 : 0);
	evbuffer_add_printf(out, "# HELP sipproxy_node_active_calls Calls on the node.\n"
				 "# TYPE sipproxy_node_active_calls gauge\n");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "sipproxy_node_active_calls{node=\"%s\"} %llu\n",
				    v[i].name, (unsigned long long)v[i].active_calls);
	evbuffer_add_printf(out, "# HELP sipproxy_node_requests_total New requests sent to the "
				 "node.\n# TYPE sipproxy_node_requests_total counter\n");
	for (size_t i = 0; i < n; i++)
		evbuffer_add_printf(out, "sipproxy_node_requests_total{node=\"%s\"} %llu\n",
				    v[i].name, (unsigned long long)v[i].requests);
	evbuffer_add_printf(out, "# HELP sipproxy_node_primary Member that is the node's "
				 "primary (1 configured, 2 backup), 0 unknown.\n"
				 "# TYPE sipproxy_node_primary gauge\n");
	for (size_t i = 0; i < n; i++) {
		int pm = 0;
		for (unsigned k = 0; k < v[i].n_members; k++)
			if (strcmp(v[i].m[k].role, "primary") == 0)
				pm = (int)k + 1;
		evbuffer_add_printf(out, "sipproxy_node_primary{node=\"%s\"} %d\n", v[i].name, pm);
	}
	free(v);
}
