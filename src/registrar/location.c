/* location.c — the location service (RFC 3261 §16.5, §10.3): a request whose
 * Request-URI is in a domain we serve (host and port) is retargeted to the
 * live bindings of its AOR, highest q first; each target carries the
 * binding's flow so a request to an endpoint behind NAT goes to its source
 * address or down its own connection, not to an unreachable private Contact.
 * It also names the SIP Server node that owns an endpoint (the one that
 * accepted its REGISTER), for the cluster layer's routing of its requests. */
#include "registrar/registrar.h"

#include <string.h>

#include "util/arena.h"

static struct str unbracket(struct str h)
{
	if (h.len >= 2 && h.p[0] == '[' && h.p[h.len - 1] == ']')
		return str_make(h.p + 1, h.len - 2);
	return h;
}

/* "host", "host:port", "[v6]" or "[v6]:port" (a bare IPv6 has no port). */
static void domain_split(const char *domain, struct str *host, uint32_t *port)
{
	struct str d = str_cstr(domain);
	const char *colon = strrchr(domain, ':');
	*port = 0;
	*host = d;
	if (domain[0] == '[') {
		const char *rb = strchr(domain, ']');
		if (rb && rb[1] == ':' && str_to_u32(str_cstr(rb + 2), 65535, port) == 0)
			host->len = (size_t)(rb + 1 - domain);
	} else if (colon && strchr(domain, ':') == colon &&
		   str_to_u32(str_cstr(colon + 1), 65535, port) == 0) {
		host->len = (size_t)(colon - domain);
	}
	*host = unbracket(*host);
}

static bool domain_match(const struct registrar_config *cfg, const char *domain,
			 const struct sip_uri *u)
{
	struct str host;
	uint32_t dport;
	domain_split(domain, &host, &dport);
	if (!str_case_eq(unbracket(u->host), host))
		return false;
	if (dport)
		return sip_uri_port(u) == dport;
	if (!u->port)
		return true;
	for (size_t i = 0; i < cfg->n_ports; i++)
		if (u->port == cfg->ports[i])
			return true;
	return false;
}

bool registrar_serves(const struct registrar *r, const struct sip_uri *u)
{
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return false;
	const struct registrar_config *cfg = registrar_config(r);
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (domain_match(cfg, cfg->domains[i], u))
			return true;
	return false;
}

struct collect {
	struct registrar_target *out;
	unsigned max, n;
	struct arena *a;
};

static int collect_target(void *arg, const struct store_binding *b)
{
	struct collect *c = arg;
	if (c->n >= c->max)
		return 1;
	struct registrar_target *t = &c->out[c->n];
	t->uri = arena_strdup(c->a, b->contact);
	t->path = arena_strdup(c->a, b->path);
	t->owner = arena_strdup(c->a, b->owner);
	t->q = b->q;
	t->proto = b->proto;
	t->source = b->source;
	t->conn_id = b->conn_id;
	t->outbound = b->instance.len && b->reg_id;
	if (!t->uri.p)
		return 1;
	c->n++;
	return 0;
}

int registrar_lookup(struct registrar *r, const struct sip_msg *req, int64_t now_ms,
		     struct registrar_target *out, unsigned max, struct arena *a)
{
	const struct sip_uri *u = &req->ruri;
	if (!registrar_serves(r, u))
		return -1;
	if (!u->user.len)
		return -1; /* the domain itself, not one of its users */
	char aor[512];
	if (!registrar_aor(u, aor, sizeof(aor)))
		return 0;
	struct collect c = {out, max, 0, a};
	store_lookup(registrar_store(r), str_cstr(aor), now_ms, collect_target, &c);
	return (int)c.n;
}

/* The best candidate so far, copied out of the store as it is visited (a
 * visit's slices do not outlive it). */
struct owner_pick {
	char *out;
	size_t cap;
	int64_t expires_at; /* of the copied node's binding; INT64_MIN: none yet */
};

static int pick_owner(void *arg, const struct store_binding *b)
{
	struct owner_pick *o = arg;
	/* Latest expiry = latest grant (a cluster's SIP Servers grant alike).
	 * Strictly greater: on a tie the first visited wins, and the store
	 * visits the most recently saved of equal q first. A name that does not
	 * fit is skipped, never cut into another node's name. */
	if (!b->node.len || b->expires_at <= o->expires_at || b->node.len >= o->cap)
		return 0;
	memcpy(o->out, b->node.p, b->node.len);
	o->out[b->node.len] = '\0';
	o->expires_at = b->expires_at;
	return 0;
}

bool registrar_owner_node(struct registrar *r, const struct sip_uri *aor_uri, int64_t now_ms,
			  char *out, size_t cap)
{
	if (!out || !cap || !registrar_serves(r, aor_uri) || !aor_uri->user.len)
		return false;
	char aor[512];
	size_t n = registrar_aor(aor_uri, aor, sizeof(aor));
	if (!n)
		return false;
	struct owner_pick o = {out, cap, INT64_MIN};
	store_lookup(registrar_store(r), str_make(aor, n), now_ms, pick_owner, &o);
	return o.expires_at != INT64_MIN;
}
