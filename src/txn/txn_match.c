/* txn_match.c — which transaction a message belongs to: RFC 3261 §17.2.3
 * (server: branch, sent-by, method with ACK as INVITE), §17.1.3 (client: branch
 * and CSeq method), and the RFC 2543 rules of §17.2.3 for a branch without the
 * "z9hG4bK" cookie (Request-URI, tags, Call-ID, CSeq, top Via; an ACK carries
 * the To tag of our response). Also §9.2: the INVITE a CANCEL refers to. */
#include "txn/txn_internal.h"

#define TXN_COOKIE "z9hG4bK"

/* RFC 4475 §3.2.1 "badbranch": a branch of just the cookie identifies
 * nothing, so it falls back to RFC 2543 matching. */
bool txn_branch_is_cookie(struct str branch)
{
	return branch.len > sizeof(TXN_COOKIE) - 1 &&
	       memcmp(branch.p, TXN_COOKIE, sizeof(TXN_COOKIE) - 1) == 0;
}

static struct str tag_of(const struct sip_addr *a)
{
	return a ? a->tag : STR_NULL;
}

uint32_t txn_server_hash(const struct sip_msg *m)
{
	if (txn_branch_is_cookie(m->via->branch))
		return str_case_hash(m->via->branch);
	return str_hash(m->call_id) ^ (m->cseq * 2654435761u);
}

struct server_probe {
	const struct sip_msg *m;
	enum sip_method method;
	bool cookie;
};

/* §17.2.3 with the cookie: branch, sent-by and method. */
static bool match_cookie(const struct txn_server *st, const struct server_probe *p)
{
	const struct sip_via *a = st->req->via, *b = p->m->via;
	return st->cookie && st->key_method == p->method && str_case_eq(a->branch, b->branch) &&
	       str_case_eq(a->host, b->host) && sip_via_port(a) == sip_via_port(b);
}

/* §17.2.3, RFC 2543 rules. The To tag of an ACK is that of our final
 * response (we may have added one); any other request repeats the original's. */
static bool match_2543(const struct txn_server *st, const struct server_probe *p)
{
	const struct sip_msg *r = st->req, *m = p->m;
	if (st->cookie || st->key_method != p->method || r->cseq != m->cseq ||
	    !str_eq(r->call_id, m->call_id))
		return false;
	if (!str_eq(tag_of(r->from), tag_of(m->from)))
		return false;
	if (!str_case_eq(r->via->raw, m->via->raw))
		return false;
	if (!str_eq(r->ruri_str, m->ruri_str) && !sip_uri_equal(&r->ruri, &m->ruri))
		return false;
	struct str want = tag_of(r->to);
	if (m->method == SIP_METHOD_ACK && str_present(st->to_tag))
		want = st->to_tag;
	if (m->method == SIP_METHOD_CANCEL)
		return true; /* §9.2: a CANCEL's To is the INVITE's, tag or not */
	return str_eq(want, tag_of(m->to));
}

static bool server_match(const struct txn_hnode *n, const void *arg)
{
	const struct txn_server *st = container_of(n, struct txn_server, node);
	const struct server_probe *p = arg;
	if (st->state == TXN_S_TERMINATED)
		return false;
	return p->cookie ? match_cookie(st, p) : match_2543(st, p);
}

struct txn_server *txn_server_lookup(struct txn_layer *L, const struct sip_msg *m,
				     enum sip_method method)
{
	if (!m->via)
		return NULL;
	struct server_probe p = {m, method, txn_branch_is_cookie(m->via->branch)};
	struct txn_hnode *n = txn_table_find(&L->servers, txn_server_hash(m), server_match, &p);
	return n ? container_of(n, struct txn_server, node) : NULL;
}

struct txn_server *txn_server_find_invite(struct txn_layer *L, const struct sip_msg *cancel,
					  const struct tp_packet *pkt)
{
	(void)pkt;
	if (!L || !cancel || !cancel->via)
		return NULL;
	return txn_server_lookup(L, cancel, SIP_METHOD_INVITE);
}

uint32_t txn_client_hash(struct str branch)
{
	return str_case_hash(branch);
}

struct client_probe {
	struct str branch;
	enum sip_method method;
};

/* §17.1.3: the response's top Via branch and its CSeq method. */
static bool client_match(const struct txn_hnode *n, const void *arg)
{
	const struct txn_client *ct = container_of(n, struct txn_client, node);
	const struct client_probe *p = arg;
	return ct->method == p->method &&
	       str_case_eq(str_make(ct->branch, ct->branch_len), p->branch);
}

struct txn_client *txn_client_lookup(struct txn_layer *L, struct str branch, enum sip_method method)
{
	struct client_probe p = {branch, method};
	struct txn_hnode *n =
	    txn_table_find(&L->clients, txn_client_hash(branch), client_match, &p);
	return n ? container_of(n, struct txn_client, node) : NULL;
}
