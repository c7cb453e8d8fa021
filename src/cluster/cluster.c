/* cluster.c — the node table: SIP Server HA pairs and peer proxies with their
 * addresses resolved at start-up, the trust set (RFC 3261 §26.1: who may use
 * us to reach anything beyond the cluster), the SBCs whose Path counts, and the
 * routing answer. Until the
 * cluster issue every new request goes to the first node's primary. */
#include "cluster/cluster.h"

#include "registrar/registrar.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cluster {
	const struct config *cfg;
	struct cluster_node nodes[CFG_MAX_NODES];
	size_t n_nodes;
	union tp_sockaddr trusted[CFG_MAX_NODES * 2 + CFG_MAX_PROXIES];
	size_t n_trusted;
	union tp_sockaddr sbcs[CFG_MAX_SBCS];
	size_t n_sbcs;
};

/* Numeric addresses directly; names once through the system resolver. */
static int resolve_host(const char *host, uint16_t port, enum tp_proto proto, struct tp_dest *out)
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

struct cluster *cluster_new(const struct config *cfg, char *err, size_t errlen)
{
	struct cluster *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->cfg = cfg;
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		const struct cfg_node *n = &cfg->nodes[i];
		struct cluster_node *cn = &c->nodes[c->n_nodes];
		cn->cfg = n;
		if (resolve_host(n->sip_address, n->sip_port, n->transport, &cn->primary) < 0) {
			snprintf(err, errlen, "sip-server %s: cannot resolve %s", n->name,
				 n->sip_address);
			free(c);
			return NULL;
		}
		c->trusted[c->n_trusted++] = cn->primary.addr;
		if (n->backup_sip_address[0]) {
			if (resolve_host(n->backup_sip_address, n->backup_sip_port, n->transport,
					 &cn->backup) < 0) {
				snprintf(err, errlen, "sip-server %s: cannot resolve %s", n->name,
					 n->backup_sip_address);
				free(c);
				return NULL;
			}
			cn->has_backup = true;
			c->trusted[c->n_trusted++] = cn->backup.addr;
		}
		c->n_nodes++;
	}
	for (size_t i = 0; i < cfg->n_proxies; i++) {
		struct tp_dest d;
		if (resolve_host(cfg->proxies[i].sip_address, cfg->proxies[i].sip_port, TP_UDP,
				 &d) == 0)
			c->trusted[c->n_trusted++] = d.addr;
	}
	for (size_t i = 0; i < cfg->n_sbcs; i++) {
		struct tp_dest d;
		if (resolve_host(cfg->sbcs[i].sip_address, 0, TP_UDP, &d) < 0) {
			snprintf(err, errlen, "sbc %s: cannot resolve %s", cfg->sbcs[i].name,
				 cfg->sbcs[i].sip_address);
			free(c);
			return NULL;
		}
		c->sbcs[c->n_sbcs++] = d.addr;
	}
	return c;
}

void cluster_free(struct cluster *c)
{
	free(c);
}

/* A REGISTER goes to the node chosen by a stable hash of its address-of-record,
 * so a challenge's retry and later refreshes reach the same SIP Server; any
 * other new request goes to the first node (balancing is the cluster issue). */
int cluster_pick_server(struct cluster *c, const struct sip_msg *req, struct tp_dest *out)
{
	if (c->n_nodes == 0)
		return -1;
	size_t i = 0;
	char aor[512];
	size_t alen;
	if (req->method == SIP_METHOD_REGISTER && req->to &&
	    (alen = registrar_aor(&req->to->uri, aor, sizeof(aor))) > 0)
		i = str_hash(str_make(aor, alen)) % c->n_nodes;
	const struct cluster_node *n = &c->nodes[i];
	*out = (n->has_backup && n->backup_is_primary) ? n->backup : n->primary;
	return 0;
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
		const struct cluster_node *n = &c->nodes[i];
		if (tp_addr_equal(&n->primary.addr, addr) ||
		    (n->has_backup && tp_addr_equal(&n->backup.addr, addr)))
			return true;
	}
	return false;
}

size_t cluster_node_count(const struct cluster *c)
{
	return c->n_nodes;
}

const struct cluster_node *cluster_node_at(const struct cluster *c, size_t i)
{
	return i < c->n_nodes ? &c->nodes[i] : NULL;
}

static int hook_pick(void *arg, const struct sip_msg *req, struct tp_dest *d)
{
	return cluster_pick_server(arg, req, d);
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
	out->is_trusted = hook_trusted;
	out->is_server = hook_server;
	out->is_edge = hook_edge;
	out->arg = c;
}
