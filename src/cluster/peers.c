/* peers.c — the other proxies of the cluster, watched as the proxy watches
 * SIP Servers, so a dead owner of an endpoint's flow is known fast: an
 * OPTIONS to each every cluster.peer-check ms with Max-Forwards 0 (the peer
 * answers it itself, RFC 3261 §16.3 step 3), any response within the
 * interval meaning alive and none meaning dead. Answers the proxy's "peer"
 * hook (where a flow's owner listens and whether it is alive) and
 * "is_peer_uri" (a Route naming another proxy, or a cluster Record-Route
 * host, is as good as ours). A peer not heard from yet counts as alive. */
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster_internal.h"
#include "txn/txn.h"
#include "util/log.h"

static struct timer_wheel *wheel(const struct cluster *c)
{
	return txn_layer_timers(proxy_txn_layer(c->proxy));
}

static struct cpeer *peer_by_id(struct cluster *c, uint32_t id)
{
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i]->id == id)
			return c->peers[i];
	return NULL;
}

static void peer_set(struct cpeer *pe, bool alive, const char *why)
{
	if (pe->alive == alive)
		return;
	pe->alive = alive;
	pe->since_ms = cluster_now(pe->c);
	pe->c->stats.peer_changes++;
	if (alive)
		LOG_INFO("peer_up", "peer=%s reason=\"%s\"", pe->name, why);
	else
		LOG_WARN("peer_down", "peer=%s reason=\"%s\"", pe->name, why);
}

struct peer_probe {
	struct cluster *c;
	uint32_t id;
};

static void peer_probe_arm(struct cpeer *pe, uint32_t delay_ms);

static void probe_done(void *arg, int status, uint32_t rtt_ms)
{
	struct peer_probe *pp = arg;
	struct cpeer *pe = peer_by_id(pp->c, pp->id);
	free(pp);
	if (!pe) /* gone with a reload */
		return;
	pe->probe = NULL;
	if (status) {
		pe->rtt_ms = rtt_ms;
		peer_set(pe, true, "answers OPTIONS");
	} else {
		peer_set(pe, false, "no answer to OPTIONS");
	}
}

static void probe_fired(struct timer *t)
{
	struct cpeer *pe = container_of(t, struct cpeer, timer);
	struct cluster *c = pe->c;
	uint32_t interval = c->cfg->peer_check_ms;
	if (!pe->probe) {
		struct peer_probe *pp = malloc(sizeof(*pp));
		if (pp) {
			*pp = (struct peer_probe){c, pe->id};
			pe->probe =
			    proxy_uac_options(c->proxy, &pe->dest, 0, interval, probe_done, pp);
			if (!pe->probe)
				free(pp);
		}
	}
	peer_probe_arm(pe, interval);
}

static void peer_probe_arm(struct cpeer *pe, uint32_t delay_ms)
{
	struct cluster *c = pe->c;
	if (!c->proxy || !c->started || !c->cfg->peer_check_ms)
		return;
	timer_stop(wheel(c), &pe->timer);
	timer_start(wheel(c), &pe->timer, delay_ms, probe_fired);
}

static void peer_probe_stop(struct cpeer *pe)
{
	struct cluster *c = pe->c;
	if (!c->proxy)
		return;
	timer_stop(wheel(c), &pe->timer);
	if (pe->probe)
		free(proxy_uac_cancel(pe->probe));
	pe->probe = NULL;
}

void cluster_peers_build(struct cluster *c, const struct config *cfg)
{
	struct cpeer *fresh[CFG_MAX_PROXIES];
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_proxies; i++) {
		const struct cfg_proxy *cp = &cfg->proxies[i];
		struct tp_dest d;
		if (strcmp(cp->name, cfg->name) == 0 ||
		    cluster_resolve(cp->sip_address, cp->sip_port, TP_UDP, &d) < 0)
			continue;
		struct cpeer *pe = NULL;
		for (size_t k = 0; k < c->n_peers && !pe; k++)
			if (c->peers[k] && strcmp(c->peers[k]->name, cp->name) == 0 &&
			    tp_addr_equal(&c->peers[k]->dest.addr, &d.addr)) {
				pe = c->peers[k];
				c->peers[k] = NULL; /* kept */
			}
		if (!pe) {
			pe = calloc(1, sizeof(*pe));
			if (!pe)
				continue;
			pe->c = c;
			snprintf(pe->name, sizeof(pe->name), "%s", cp->name);
			pe->id = str_hash(str_cstr(cp->name));
			pe->dest = d;
			pe->alive = true;
			pe->since_ms = cluster_now(c);
			timer_init(&pe->timer);
		}
		fresh[n++] = pe;
	}
	for (size_t k = 0; k < c->n_peers; k++) {
		if (!c->peers[k])
			continue;
		peer_probe_stop(c->peers[k]);
		free(c->peers[k]);
	}
	memcpy(c->peers, fresh, n * sizeof(fresh[0]));
	c->n_peers = n;
	for (size_t i = 0; i < n; i++) {
		struct cpeer *pe = c->peers[i];
		if (!cfg->peer_check_ms) {
			/* Not watched (any more, after a reload): no probe in flight
			 * to time out, and no verdict of an earlier one. */
			peer_probe_stop(pe);
			peer_set(pe, true, "peer-check off");
		} else if (c->started && !timer_pending(&pe->timer)) {
			peer_probe_arm(pe, 0);
		}
	}
}

void cluster_peers_start(struct cluster *c)
{
	for (size_t i = 0; i < c->n_peers; i++)
		peer_probe_arm(c->peers[i], 0);
}

void cluster_peers_stop(struct cluster *c)
{
	for (size_t i = 0; i < c->n_peers; i++)
		peer_probe_stop(c->peers[i]);
}

void cluster_peers_free(struct cluster *c)
{
	for (size_t i = 0; i < c->n_peers; i++)
		free(c->peers[i]);
	c->n_peers = 0;
}

bool cluster_peer_hook(void *arg, uint32_t id, struct proxy_peer *out)
{
	struct cpeer *pe = peer_by_id(arg, id);
	if (!pe)
		return false;
	out->dest = pe->dest;
	out->alive = pe->alive;
	return true;
}

bool cluster_peer_uri_hook(void *arg, const struct sip_uri *u)
{
	struct cluster *c = arg;
	struct str host = u->maddr.len ? u->maddr : u->host;
	/* A cluster host: its SRV records name the port, or the proxies' own. */
	for (size_t i = 0; i < c->cfg->n_proxies; i++) {
		const char *rr = c->cfg->proxies[i].record_route_host;
		if (rr[0] && str_case_eq_cstr(host, rr) &&
		    (!u->port || u->port == c->cfg->proxies[i].sip_port))
			return true;
	}
	union tp_sockaddr a;
	if (tp_addr_from_ip(host, sip_uri_port(u), &a) < 0)
		return false;
	for (size_t i = 0; i < c->n_peers; i++)
		if (tp_addr_equal(&c->peers[i]->dest.addr, &a))
			return true;
	return false;
}

size_t cluster_peer_view(struct cluster *c, struct cluster_peer_view *out, size_t max)
{
	size_t n = 0;
	uint64_t now = cluster_now(c);
	for (size_t i = 0; i < c->n_peers && n < max; i++, n++) {
		const struct cpeer *pe = c->peers[i];
		snprintf(out[n].name, sizeof(out[n].name), "%s", pe->name);
		tp_addr_str(&pe->dest.addr, out[n].address, sizeof(out[n].address));
		out[n].alive = pe->alive;
		out[n].rtt_ms = pe->rtt_ms;
		out[n].since_s = (now - pe->since_ms) / 1000;
	}
	return n;
}
