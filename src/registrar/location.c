/* location.c — the location service (RFC 3261 §16.5, §10.3): a request whose
 * Request-URI is in a domain we serve is retargeted to the live bindings of
 * its AOR, highest q first; each target carries the binding's flow so a
 * request to an endpoint behind NAT goes to its source address or down its
 * own connection, not to an unreachable private Contact. */
#include "registrar/registrar.h"

#include <string.h>

#include "registrar/contact_index.h"
#include "util/arena.h"


static bool domain_served(const struct registrar_config *cfg, struct str host)
{
	for (size_t i = 0; i < cfg->n_domains; i++)
		if (str_case_eq_cstr(host, cfg->domains[i]))
			return true;
	return false;
}

bool registrar_serves(const struct registrar *r, const struct sip_uri *u)
{
	return (u->scheme == SIP_URI_SIP || u->scheme == SIP_URI_SIPS) &&
	       domain_served(registrar_config(r), u->host);
}

struct collect {
	struct registrar_target *out;
	unsigned max, n;
	struct arena *a;
	struct str only_contact; /* non-empty: just the binding with this Contact */
};

static int collect_target(void *arg, const struct store_binding *b)
{
	struct collect *c = arg;
	if (c->n >= c->max)
		return 1;
	if (c->only_contact.len && !str_eq(c->only_contact, b->contact))
		return 0;
	struct registrar_target *t = &c->out[c->n];
	t->uri = arena_strdup(c->a, b->contact);
	t->path = arena_strdup(c->a, b->path);
	t->owner = arena_strdup(c->a, b->owner);
	t->q = b->q;
	t->proto = b->proto;
	t->source = b->source;
	t->conn_id = b->conn_id;
	if (!t->uri.p)
		return 1;
	c->n++;
	return 0;
}

int registrar_lookup(struct registrar *r, const struct sip_msg *req, int64_t now_ms,
		     struct registrar_target *out, unsigned max, struct arena *a)
{
	const struct sip_uri *u = &req->ruri;
	if (!registrar_serves(r, u)) {
		/* A Request-URI that is a registered Contact: that binding's flow. */
		struct str aor;
		if (!contact_index_get(registrar_contacts(r), req->ruri_str, &aor))
			return -1;
		struct collect c = {out, max, 0, a, req->ruri_str};
		store_lookup(registrar_store(r), aor, now_ms, collect_target, &c);
		return c.n ? (int)c.n : -1;
	}
	if (!u->user.len)
		return -1; /* the domain itself, not one of its users */
	char aor[512];
	if (!registrar_aor(u, aor, sizeof(aor)))
		return 0;
	struct collect c = {out, max, 0, a, STR_NULL};
	store_lookup(registrar_store(r), str_cstr(aor), now_ms, collect_target, &c);
	return (int)c.n;
}
