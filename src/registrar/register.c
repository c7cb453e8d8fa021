/* register.c — storing what a SIP Server granted (RFC 3261 §10.3 steps 6-8):
 * on the 2xx to a REGISTER we forwarded, each Contact of the request is added,
 * refreshed (Call-ID/CSeq ordered by the store) or removed (expires 0,
 * Contact: *), with the flow it came on (source, transport, connection, owner
 * proxy), the SIP Server node that answered (the endpoint's owner from now on)
 * and its Path (RFC 3327) when an SBC sent it. Expiry comes from the
 * 2xx's Contact list (its Expires header for a listed contact without one, or
 * when the 2xx lists no contact at all), falling back to the request's Contact
 * expires / Expires. Contacts are compared by the §19.1.4 URI rules. Only the request's
 * own Contacts change: the SIP Server authenticates, it need not keep or list
 * the AOR's other bindings (seed: "uses SIP Server as an authentication server"). */
#include "registrar/registrar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registrar {
	struct registrar_config cfg;
	struct store *store;
};

struct registrar *registrar_new(const struct registrar_config *cfg, struct store *store)
{
	struct registrar *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (!r->cfg.default_expires)
		r->cfg.default_expires = 3600;
	r->store = store;
	return r;
}

void registrar_free(struct registrar *r)
{
	free(r);
}

struct store *registrar_store(struct registrar *r)
{
	return r->store;
}
const struct registrar_config *registrar_config(const struct registrar *r)
{
	return &r->cfg;
}

static bool param_u32(struct str params, const char *name, uint32_t max, uint32_t *out)
{
	struct str v;
	return sip_param_find(params, name, &v) && str_to_u32(str_trim(v), max, out) == 0;
}

/* q-value "0.5" -> 500 (RFC 3261 §20.10); absent -> 1000. */
static uint16_t parse_q(struct str q)
{
	if (!q.len)
		return 1000;
	unsigned v = 0, scale = 1000;
	size_t i = 0;
	if (q.p[0] == '1')
		return 1000;
	if (q.p[0] != '0')
		return 1000;
	for (i = 1; i < q.len && q.p[i] != '.'; i++)
		;
	for (i = i + 1; i < q.len && scale > 1; i++) {
		if (q.p[i] < '0' || q.p[i] > '9')
			break;
		scale /= 10;
		v += (unsigned)(q.p[i] - '0') * scale;
	}
	return (uint16_t)v;
}

static const struct sip_addr *find_contact(const struct sip_addr *list, const struct sip_addr *c)
{
	for (const struct sip_addr *g = list; g; g = g->next)
		if (!g->star && sip_uri_equal(&g->uri, &c->uri))
			return g;
	return NULL;
}

/* §10.3 step 6: the expiration a Contact got. */
static uint32_t granted_expires(const struct registrar *r, const struct sip_msg *req,
				const struct sip_addr *rc, const struct sip_msg *rsp,
				const struct sip_addr *granted, bool *listed)
{
	uint32_t e;
	*listed = true;
	if (granted) {
		if (param_u32(granted->params, "expires", UINT32_MAX, &e))
			return e;
		if (rsp->expires >= 0)
			return (uint32_t)rsp->expires;
	} else if (rsp->contact) {
		*listed = false; /* the server's list lacks it: not granted */
		return 0;
	} else if (rsp->expires >= 0) {
		return (uint32_t)rsp->expires; /* §10.3 step 8: the 2xx's Expires */
	}
	if (param_u32(rc->params, "expires", UINT32_MAX, &e))
		return e;
	if (req->expires >= 0)
		return (uint32_t)req->expires;
	return r->cfg.default_expires;
}

static size_t join_path(const struct sip_msg *req, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (const struct sip_addr *p = req->path; p; p = p->next) {
		size_t need = p->raw.len + (n ? 2 : 0);
		if (n + need + 1 > cap)
			return 0; /* too long to keep: better none than a cut one */
		if (n) {
			memcpy(out + n, ", ", 2);
			n += 2;
		}
		memcpy(out + n, p->raw.p, p->raw.len);
		n += p->raw.len;
	}
	out[n] = '\0';
	return n;
}

int registrar_on_2xx(struct registrar *r, const struct sip_msg *req, const struct tp_packet *src,
		     const struct sip_msg *rsp, bool path_trusted, struct str node, int64_t now_ms)
{
	char aor[512], path[2048];
	if (!req->to || !registrar_aor(&req->to->uri, aor, sizeof(aor)))
		return -1;
	struct str aor_s = str_cstr(aor);
	int changed = 0;
	if (req->contact && req->contact->star) {
		/* §10.3 step 6: "Contact: *" with Expires 0 removes them all. */
		return store_remove_all(r->store, aor_s, req->call_id, req->cseq) == STORE_OK ? 1
											      : 0;
	}
	/* RFC 3327 §5: a Path only an SBC may set; anyone else's was removed
	 * before forwarding and is not the route to the contact. */
	size_t plen = path_trusted ? join_path(req, path, sizeof(path)) : 0;
	for (const struct sip_addr *rc = req->contact; rc; rc = rc->next) {
		if (rc->star)
			continue;
		const struct sip_addr *g = find_contact(rsp->contact, rc);
		bool listed;
		uint32_t expires = granted_expires(r, req, rc, rsp, g, &listed);
		struct store_binding b = {
		    .aor = aor_s,
		    .contact = rc->uri_str,
		    .call_id = req->call_id,
		    .cseq = req->cseq,
		    .q = parse_q(rc->q),
		    .expires_at = now_ms + (int64_t)expires * 1000,
		    .path = str_make(path, plen),
		    .proto = src->proto,
		    .source = src->src,
		    .conn_id = src->conn_id,
		    .owner = str_cstr(r->cfg.owner ? r->cfg.owner : ""),
		    /* A refresh answered by another node (failover) moves the
		     * endpoint to it: the record is replaced, node included. */
		    .node = node,
		};
		struct str inst;
		if (sip_param_find(rc->params, "+sip.instance", &inst)) {
			inst = str_trim(inst);
			if (inst.len >= 2 && inst.p[0] == '"') {
				inst.p++;
				inst.len -= 2;
			}
			b.instance = inst;
			param_u32(rc->params, "reg-id", UINT32_MAX, &b.reg_id);
		}
		enum store_result res =
		    expires ? store_save(r->store, &b) : store_remove(r->store, &b);
		if (res == STORE_OK)
			changed++;
	}
	return changed;
}
