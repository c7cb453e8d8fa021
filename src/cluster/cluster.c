/* cluster.c — the node table: SIP Server HA pairs and peer proxies with their
 * addresses resolved when the definition is applied, the trust set (RFC 3261
 * §26.1: who may use us to reach anything beyond the cluster), the SBCs whose
 * Path counts, this proxy's data center and the order of the others; reload
 * (unchanged nodes keep their state; a removed node with calls retires: it
 * stays for them only), the operator's out/in, the views of /nodes, and the
 * routing hooks the proxy calls. */
#include "cluster/cluster_internal.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "txn/txn.h"
#include "util/log.h"

/* Numeric addresses directly; names once through the system resolver. */
int cluster_resolve(const char *host, uint16_t port, enum tp_proto proto, struct tp_dest *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = proto;
	if (tp_addr_from_ip(str_cstr(host), port, &out->addr) == 0)
		return 0;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return -1;
	memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
	if (out->addr.sa.sa_family == AF_INET)
		out->addr.in4.sin_port = htons(port);
	else
		out->addr.in6.sin6_port = htons(port);
	freeaddrinfo(res);
	return 0;
}

uint64_t cluster_node_calls(const struct cnode *n)
{
	return n->active_calls + calls_on_node(n->c->calls, str_cstr(n->cfg.name));
}

uint64_t cluster_now(const struct cluster *c)
{
	return c->proxy ? txn_layer_now(proxy_txn_layer(c->proxy)) : 0;
}

static int64_t wall_now(void)
{
	return (int64_t)time(NULL);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct cnode *cluster_node_by_id(struct cluster *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i]->id == id)
			return c->nodes[i];
	return NULL;
}

struct cnode *cluster_node_by_name(struct cluster *c, struct str name)
{
	struct cnode *retiring = NULL;
	for (size_t i = 0; i < c->n_nodes; i++)
		if (str_eq(name, str_cstr(c->nodes[i]->cfg.name))) {
			if (!c->nodes[i]->retiring)
				return c->nodes[i];
			retiring = c->nodes[i];
		}
	return retiring;
}

static void node_free(struct cnode *n);

bool cluster_retire_check(struct cnode *n)
{
	struct cluster *c = n->c;
	if (!n->retiring || (cluster_node_calls(n) && cluster_now(c) < n->retire_at))
		return false;
	size_t k = 0;
	while (k < c->n_nodes && c->nodes[k] != n)
		k++;
	if (k == c->n_nodes)
		return false;
	memmove(&c->nodes[k], &c->nodes[k + 1], (c->n_nodes - k - 1) * sizeof(c->nodes[0]));
	c->n_nodes--;
	/* Its members are no longer trusted (one entry each: another node
	 * may share an address). */
	for (unsigned m = 0; m < n->ha.n_members; m++)
		for (size_t i = 0; i < c->n_trusted; i++)
			if (tp_addr_equal(&c->trusted[i], &n->member[m].addr)) {
				c->trusted[i] = c->trusted[--c->n_trusted];
				break;
			}
	LOG_INFO("node_removed", "node=%s calls_left=%llu", n->cfg.name,
		 (unsigned long long)cluster_node_calls(n));
	node_free(n);
	return true;
}

struct cnode *cluster_node_by_member(struct cluster *c, const union tp_sockaddr *a, unsigned *m)
{
	struct cnode *by_ip = NULL;
	unsigned by_ip_m = 0, ip_hits = 0;
	for (size_t i = 0; i < c->n_nodes; i++) {
		struct cnode *n = c->nodes[i];
		for (unsigned k = 0; k < n->ha.n_members; k++) {
			if (tp_addr_equal(&n->member[k].addr, a)) {
				*m = k;
				return n;
			}
			if (tp_addr_same_ip(&n->member[k].addr, a)) {
				by_ip = n;
				by_ip_m = k;
				ip_hits++;
			}
		}
	}
	/* A stream's source port is the member's own choice: its IP will do
	 * when only one member has it. */
	if (ip_hits == 1) {
		*m = by_ip_m;
		return by_ip;
	}
	return NULL;
}

void cluster_ref(const struct cnode *n, struct proxy_node_ref *out)
{
	memset(out, 0, sizeof(*out));
	out->id = n->id;
	snprintf(out->name, sizeof(out->name), "%s", n->cfg.name);
	int t = ha_target(&n->ha);
	if (t >= 0)
		out->member = n->member[t];
}

void cluster_node_changed(struct cnode *n)
{
	struct cluster *c = n->c;
	c->stats.changes++;
	int t = ha_target(&n->ha);
	const char *state = n->ha.manual_out ? "taken-out" : ha_state_name(n->ha.state);
	if (n->ha.state == HA_OUT && !n->ha.manual_out)
		LOG_WARN("ha_pair_unavailable", "node=%s reason=\"%s\"", n->cfg.name, n->ha.reason);
	else
		LOG_INFO("node_state", "node=%s state=%s target=%s reason=\"%s\"", n->cfg.name,
			 state, t >= 0 ? n->member_text[t] : "none", n->ha.reason);
}

/* The member addresses of a node as configured. */
static int node_members(const struct cfg_node *cfg, struct tp_dest m[2], unsigned *n, char *err,
			size_t errlen)
{
	*n = 0;
	if (cluster_resolve(cfg->sip_address, cfg->sip_port, cfg->transport, &m[0]) < 0) {
		snprintf(err, errlen, "sip-server %s: cannot resolve %s", cfg->name,
			 cfg->sip_address);
		return -1;
	}
	*n = 1;
	if (cfg->backup_sip_address[0]) {
		if (cluster_resolve(cfg->backup_sip_address, cfg->backup_sip_port, cfg->transport,
				    &m[1]) < 0) {
			snprintf(err, errlen, "sip-server %s: cannot resolve %s", cfg->name,
				 cfg->backup_sip_address);
			return -1;
		}
		*n = 2;
	}
	return 0;
}

/* Data centers: ours is tier 0 (a node without a geo-location is everyone's);
 * the others follow cluster.remote-dcs, or the order they first appear in;
 * with cluster.forward-remote off they are never used. */
static void assign_tiers(struct cluster *c)
{
	const struct config *cfg = c->cfg;
	char order[CLUSTER_MAX_TIERS][CFG_NAME_MAX];
	unsigned n_order = 0;
	if (cfg->remote_dcs.n) {
		for (size_t i = 0; i < cfg->remote_dcs.n && n_order < CLUSTER_MAX_TIERS - 1; i++)
			snprintf(order[n_order++], CFG_NAME_MAX, "%.*s", CFG_NAME_MAX - 1,
				 cfg->remote_dcs.v[i]);
	} else {
		for (size_t i = 0; i < c->n_nodes && n_order < CLUSTER_MAX_TIERS - 1; i++) {
			const char *g = c->nodes[i]->cfg.geo_location;
			bool seen = !g[0] || strcasecmp(g, cfg->geo_location) == 0;
			for (unsigned k = 0; k < n_order && !seen; k++)
				seen = strcasecmp(order[k], g) == 0;
			if (!seen)
				snprintf(order[n_order++], CFG_NAME_MAX, "%s", g);
		}
	}
	c->n_tiers = 1 + n_order;
	for (size_t i = 0; i < c->n_nodes; i++) {
		struct cnode *n = c->nodes[i];
		const char *g = n->cfg.geo_location;
		n->local = !g[0] || !cfg->geo_location[0] || strcasecmp(g, cfg->geo_location) == 0;
		n->tier = n->local && !n->retiring ? 0 : -1;
		for (unsigned k = 0;
		     k < n_order && n->tier < 0 && !n->retiring && cfg->forward_remote; k++)
			if (strcasecmp(order[k], g) == 0)
				n->tier = (int)k + 1;
	}
}

static void node_free(struct cnode *n)
{
	cluster_probe_stop(n);
	free(n);
}

static bool same_members(const struct cnode *n, const struct tp_dest m[2], unsigned nm)
{
	if (n->ha.n_members != nm)
		return false;
	for (unsigned k = 0; k < nm; k++)
		if (!tp_addr_equal(&n->member[k].addr, &m[k].addr) ||
		    n->member[k].proto != m[k].proto)
			return false;
	return true;
}

/* Builds the table of cfg into c, reusing old nodes whose members are the
 * same (their HA state, counters and probes carry on). */
static int build(struct cluster *c, struct config *cfg, char *err, size_t errlen)
{
	struct cnode *fresh[CFG_MAX_NODES];
	bool reused[CFG_MAX_NODES] = {false};
	size_t nf = 0, added = 0, kept = 0;
	union tp_sockaddr trusted[CFG_MAX_NODES * 2 + CFG_MAX_PROXIES];
	size_t nt = 0;
	union tp_sockaddr sbcs[CFG_MAX_SBCS];
	size_t ns = 0;
	uint64_t now = cluster_now(c);
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct cfg_node *nc = &cfg->nodes[i];
		struct tp_dest m[2];
		unsigned nm;
		if (node_members(nc, m, &nm, err, errlen) < 0)
			goto fail;
		struct cnode *n = NULL;
		for (size_t k = 0; k < c->n_nodes && !n; k++)
			if (!reused[k] && strcmp(c->nodes[k]->cfg.name, nc->name) == 0 &&
			    same_members(c->nodes[k], m, nm)) {
				n = c->nodes[k];
				reused[k] = true;
				kept++;
			}
		if (!n) {
			n = calloc(1, sizeof(*n));
			if (!n) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			n->c = c;
			n->id = ++c->next_id;
			memcpy(n->member, m, sizeof(m));
			for (unsigned k = 0; k < nm; k++) {
				char a[INET6_ADDRSTRLEN + 8];
				snprintf(n->member_text[k], sizeof(n->member_text[k]), "%s:%s",
					 tp_proto_name(m[k].proto),
					 tp_addr_str(&m[k].addr, a, sizeof(a)));
			}
			timer_init(&n->probe_timer);
			ha_init(&n->ha, nm, now, wall_now());
			added++;
		}
		fresh[nf++] = n; /* its cfg is set on commit: a kept node is live */
		for (unsigned k = 0; k < nm; k++)
			trusted[nt++] = m[k].addr;
	}
	for (size_t i = 0; i < cfg->n_proxies; i++) {
		struct tp_dest d;
		if (cluster_resolve(cfg->proxies[i].sip_address, cfg->proxies[i].sip_port, TP_UDP,
				    &d) == 0)
			trusted[nt++] = d.addr;
	}
	for (size_t i = 0; i < cfg->n_sbcs; i++) {
		struct tp_dest d;
		if (cluster_resolve(cfg->sbcs[i].sip_address, 0, TP_UDP, &d) < 0) {
			snprintf(err, errlen, "sbc %s: cannot resolve %s", cfg->sbcs[i].name,
				 cfg->sbcs[i].sip_address);
			goto fail;
		}
		sbcs[ns++] = d.addr;
	}
	/* Commit: nodes that are gone stop probing and go, but one with calls
	 * in progress stays for their in-dialog requests (retiring). */
	size_t removed = 0, configured = nf;
	for (size_t i = 0; i < configured; i++) {
		fresh[i]->cfg = cfg->nodes[i];
		fresh[i]->retiring = false;
	}
	for (size_t k = 0; k < c->n_nodes; k++) {
		struct cnode *n = c->nodes[k];
		if (reused[k])
			continue;
		removed++;
		if (cluster_node_calls(n) && nf < CFG_MAX_NODES) {
			if (!n->retiring) {
				n->retiring = true;
				n->retire_at = now + CLUSTER_RETIRE_MAX_MS;
				LOG_INFO("node_retiring", "node=%s calls=%llu", n->cfg.name,
					 (unsigned long long)cluster_node_calls(n));
			}
			fresh[nf++] = n;
			for (unsigned m = 0; m < n->ha.n_members; m++)
				trusted[nt++] = n->member[m].addr;
			continue;
		}
		LOG_INFO("node_removed", "node=%s", n->cfg.name);
		node_free(n);
	}
	memcpy(c->nodes, fresh, nf * sizeof(fresh[0]));
	c->n_nodes = nf;
	memcpy(c->trusted, trusted, nt * sizeof(trusted[0]));
	c->n_trusted = nt;
	memcpy(c->sbcs, sbcs, ns * sizeof(sbcs[0]));
	c->n_sbcs = ns;
	free(c->cfg);
	c->cfg = cfg;
	assign_tiers(c);
	cluster_peers_build(c, cfg);
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->started && !timer_pending(&c->nodes[i]->probe_timer) &&
		    !c->nodes[i]->probe[0] && !c->nodes[i]->probe[1])
			cluster_probe_start(c->nodes[i], 0);
	LOG_INFO("cluster", "nodes=%zu added=%zu kept=%zu removed=%zu proxies=%zu sbcs=%zu geo=%s",
		 c->n_nodes, added, kept, removed, cfg->n_proxies, c->n_sbcs,
		 cfg->geo_location[0] ? cfg->geo_location : "(none)");
	return 0;
fail:
	for (size_t i = 0; i < nf; i++) {
		bool old = false;
		for (size_t k = 0; k < c->n_nodes && !old; k++)
			old = c->nodes[k] == fresh[i];
		if (!old)
			free(fresh[i]);
	}
	free(cfg);
	return -1;
}

struct cluster *cluster_new(const struct config *cfg, char *err, size_t errlen)
{
	struct cluster *c = calloc(1, sizeof(*c));
	struct config *copy = malloc(sizeof(*copy));
	if (!c || !copy) {
		free(c);
		free(copy);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*copy = *cfg;
	c->calls = calls_new(cfg->name, cfg->call_max_lifetime_s);
	if (!c->calls || build(c, copy, err, errlen) < 0) {
		calls_free(c->calls);
		free(c);
		return NULL;
	}
	return c;
}

int cluster_apply(struct cluster *c, const struct config *cfg, char *err, size_t errlen)
{
	struct config *copy = malloc(sizeof(*copy));
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*copy = *cfg;
	if (build(c, copy, err, errlen) < 0) {
		c->stats.reload_errors++;
		return -1;
	}
	c->stats.reloads++;
	return 0;
}

void cluster_reload_rejected(struct cluster *c)
{
	c->stats.reload_errors++;
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_nodes; i++)
		node_free(c->nodes[i]);
	cluster_peers_free(c);
	calls_free(c->calls);
	free(c->cfg);
	free(c);
}

void cluster_start(struct cluster *c, struct proxy *p)
{
	c->proxy = p;
	c->started = true;
	uint64_t now = cluster_now(c);
	for (size_t i = 0; i < c->n_nodes; i++) {
		c->nodes[i]->ha.since_ms = now;
		cluster_probe_start(c->nodes[i], 0);
	}
	cluster_peers_start(c);
}

void cluster_stop(struct cluster *c)
{
	for (size_t i = 0; i < c->n_nodes; i++)
		cluster_probe_stop(c->nodes[i]);
	cluster_peers_stop(c);
	c->started = false;
}

void cluster_detach(struct cluster *c)
{
	cluster_stop(c);
	c->proxy = NULL;
}

int cluster_attach_repl(struct cluster *c, struct repl *r)
{
	return calls_attach(c->calls, r);
}

struct calls *cluster_calls(struct cluster *c)
{
	return c->calls;
}

void cluster_tick(struct cluster *c)
{
	calls_expire(c->calls, wall_ms());
}

void cluster_set_registrar(struct cluster *c, struct registrar *r)
{
	c->registrar = r;
}

int cluster_set_out(struct cluster *c, const char *name, bool out)
{
	struct cnode *n = cluster_node_by_name(c, str_cstr(name));
	if (!n)
		return -1;
	if (ha_set_manual(&n->ha, out, cluster_now(c), wall_now()))
		cluster_node_changed(n);
	return 0;
}

static const char *member_role(const struct cnode *n, unsigned k)
{
	if (n->ha.state == HA_ACTIVE)
		return k == n->ha.primary ? "primary" : "backup";
	return "unknown";
}

size_t cluster_view(struct cluster *c, struct cluster_node_view *out, size_t max)
{
	uint64_t now = cluster_now(c);
	size_t i = 0;
	for (; i < c->n_nodes && i < max; i++) {
		const struct cnode *n = c->nodes[i];
		struct cluster_node_view *v = &out[i];
		memset(v, 0, sizeof(*v));
		snprintf(v->name, sizeof(v->name), "%s", n->cfg.name);
		snprintf(v->geo, sizeof(v->geo), "%s", n->cfg.geo_location);
		v->local = n->local;
		v->weight = n->cfg.weight;
		v->state = n->retiring ? "retiring" : ha_state_name(n->ha.state);
		v->manual_out = n->ha.manual_out;
		v->in_service = ha_in_service(&n->ha) && !n->retiring;
		v->since = n->ha.since_wall;
		snprintf(v->reason, sizeof(v->reason), "%s", n->ha.reason);
		v->changes = n->ha.changes;
		v->active_calls = cluster_node_calls(n);
		v->requests = n->requests;
		v->failures = n->failures;
		v->n_members = n->ha.n_members;
		for (unsigned k = 0; k < n->ha.n_members; k++) {
			struct cluster_member_view *m = &v->m[k];
			snprintf(m->addr, sizeof(m->addr), "%s", n->member_text[k]);
			m->role = member_role(n, k);
			m->last_status = n->ha.m[k].last_status;
			m->probe_ago_ms = n->ha.m[k].last_probe_ms
					      ? (int64_t)(now - n->ha.m[k].last_probe_ms)
					      : -1;
			m->rtt_ms = n->ha.m[k].rtt_ms;
		}
	}
	return i;
}

void cluster_get_stats(const struct cluster *c, struct cluster_stats *out)
{
	*out = c->stats;
}

size_t cluster_node_count(const struct cluster *c)
{
	return c->n_nodes;
}

bool cluster_is_trusted(const struct cluster *c, const union tp_sockaddr *src)
{
	for (size_t i = 0; i < c->n_trusted; i++)
		if (tp_addr_same_ip(&c->trusted[i], src))
			return true;
	return false;
}

bool cluster_is_sbc(const struct cluster *c, const union tp_sockaddr *src)
{
	for (size_t i = 0; i < c->n_sbcs; i++)
		if (tp_addr_same_ip(&c->sbcs[i], src))
			return true;
	return false;
}

bool cluster_is_server(const struct cluster *c, const union tp_sockaddr *addr)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		const struct cnode *n = c->nodes[i];
		for (unsigned k = 0; k < n->ha.n_members; k++)
			if (tp_addr_equal(&n->member[k].addr, addr))
				return true;
	}
	return false;
}

/* ---- the proxy's hooks ---- */

static int hook_pick(void *arg, struct proxy_pick *q)
{
	return cluster_pick(arg, q);
}

static void hook_result(void *arg, const struct proxy_node_ref *ref, enum proxy_server_outcome o)
{
	struct cluster *c = arg;
	struct cnode *n = cluster_node_by_id(c, ref->id);
	if (!n || o == PROXY_SERVER_ANSWERED)
		return;
	unsigned m;
	struct cnode *owner = cluster_node_by_member(c, &ref->member.addr, &m);
	if (owner != n)
		return;
	n->failures++;
	c->stats.passive_failures++;
	enum ha_failure why = o == PROXY_SERVER_TRANSPORT ? HA_FAIL_TRANSPORT
			      : o == PROXY_SERVER_503	  ? HA_FAIL_503
							  : HA_FAIL_TIMEOUT;
	if (ha_failed(&n->ha, m, why, n->cfg.oos_check > 0, cluster_now(c), wall_now())) {
		cluster_node_changed(n);
		cluster_probe_start(n, 0); /* find the new primary now */
	}
}

static void hook_calls(void *arg, const struct proxy_node_ref *ref, int delta)
{
	struct cnode *n = cluster_node_by_id(arg, ref->id);
	if (!n)
		return;
	if (delta > 0)
		n->active_calls += (uint64_t)delta;
	else if (n->active_calls >= (uint64_t)-delta)
		n->active_calls -= (uint64_t)-delta;
	else
		n->active_calls = 0;
}

static bool hook_server_request(void *arg, const struct tp_packet *src, const struct sip_msg *req,
				struct proxy_node_ref *out)
{
	struct cluster *c = arg;
	unsigned m;
	struct cnode *n = cluster_node_by_member(c, &src->src, &m);
	if (!n)
		return false;
	if (ha_request_from(&n->ha, m, cluster_now(c), wall_now())) {
		c->stats.takeovers++;
		cluster_node_changed(n);
		cluster_probe_start(n, n->cfg.oos_check * 1000u);
	}
	cluster_ref(n, out);
	return true;
}

static void hook_dialog(void *arg, const struct proxy_dialog *d, bool started)
{
	struct cluster *c = arg;
	if (started)
		calls_started(c->calls, d->call_id, d->from_tag, d->to_tag, d->node, d->flow,
			      d->caller, d->callee, wall_ms());
	else
		calls_ended(c->calls, d->call_id, d->from_tag, d->to_tag);
}

static bool hook_trusted(void *arg, const union tp_sockaddr *src)
{
	return cluster_is_trusted(arg, src);
}

static bool hook_server(void *arg, const union tp_sockaddr *a)
{
	return cluster_is_server(arg, a);
}

static bool hook_edge(void *arg, const union tp_sockaddr *src)
{
	return cluster_is_sbc(arg, src);
}

void cluster_routing(struct cluster *c, struct proxy_routing *out)
{
	out->pick_server = hook_pick;
	out->server_result = hook_result;
	out->call_delta = hook_calls;
	out->server_request = hook_server_request;
	out->is_trusted = hook_trusted;
	out->is_server = hook_server;
	out->is_edge = hook_edge;
	out->peer = cluster_peer_hook;
	out->is_peer_uri = cluster_peer_uri_hook;
	out->dialog = hook_dialog;
	out->arg = c;
}
