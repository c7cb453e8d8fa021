/* pick.c — where a request for the SIP Servers goes (the proxy's pick_server
 * question). In a dialog: the dialog's node (named in our Record-Route, or
 * owning the member the request names) at its current primary, also while
 * an operator has it taken out (that drains it). A REGISTER:
 * a rendezvous hash of its address-of-record over the in-service nodes, so
 * it moves only when its node leaves. Any other new request: the node that
 * accepted the endpoint's REGISTER ("DN ownership is defined by REGISTER")
 * while it is in service, else the balancer. Nodes of this data center
 * first; then the other data centers in order; a node whose primary is in
 * doubt only when no node is known good; none: -1 (503 with Retry-After). A
 * retry avoids the member that just failed. An in-dialog request naming no
 * node finds its call's node in the dialog records (calls.c). */
#include "cluster/cluster_internal.h"

#include <string.h>

#include "registrar/registrar.h"
#include "registrar/registrar_hooks.h"

static void fill(struct proxy_pick *q, struct cnode *n, int member)
{
	cluster_ref(n, &q->out);
	q->out.member = n->member[member];
}

/* The in-dialog answer: the node's target, or its other member when the
 * target is what just failed. */
static int pick_dialog(struct proxy_pick *q, struct cnode *n)
{
	int t = ha_dialog_target(&n->ha);
	if (t < 0)
		return -1;
	if (q->failed && q->failed->id == n->id &&
	    tp_addr_equal(&n->member[t].addr, &q->failed->member.addr)) {
		if (n->ha.n_members < 2)
			return -1;
		t = 1 - t;
	}
	fill(q, n, t);
	return 0;
}

/* May n take this new request? good: its primary is known. A retry never
 * goes back to the member that just failed; the failed node's other member
 * counts like any node in its state: its new primary is known good, a guess
 * while the pair is in doubt is a last resort. */
static bool usable(const struct cnode *n, const struct proxy_pick *q, bool good)
{
	int t = ha_target(&n->ha);
	if (t < 0 || n->tier < 0)
		return false;
	if (good && n->ha.state != HA_ACTIVE)
		return false;
	if (q->failed && q->failed->id == n->id &&
	    tp_addr_equal(&n->member[t].addr, &q->failed->member.addr))
		return false;
	return true;
}

static struct cnode *owner_node(struct cluster *c, const struct proxy_pick *q)
{
	const struct sip_msg *req = q->req;
	if (!c->registrar || !req->from)
		return NULL;
	char name[CFG_NAME_MAX];
	if (!registrar_owner_node(c->registrar, &req->from->uri, registrar_now_ms(), name,
				  sizeof(name)))
		return NULL;
	struct cnode *n = cluster_node_by_name(c, str_cstr(name));
	/* A retry stays on the owner only at a known primary: else another
	 * node known good comes first. */
	return n && usable(n, q, q->failed != NULL) ? n : NULL;
}

static size_t candidates(struct cluster *c, const struct proxy_pick *q, int tier, bool good,
			 struct cnode **out)
{
	size_t k = 0;
	for (size_t i = 0; i < c->n_nodes; i++)
		if (c->nodes[i]->tier == tier && usable(c->nodes[i], q, good))
			out[k++] = c->nodes[i];
	return k;
}

int cluster_pick(struct cluster *c, struct proxy_pick *q)
{
	const struct sip_msg *req = q->req;
	q->no_response_ms = c->cfg->no_response_timeout_ms;
	q->retry_after = c->cfg->retry_after;

	unsigned m;
	struct cnode *dn = q->node.len ? cluster_node_by_name(c, q->node) : NULL;
	if (!dn && q->hop)
		dn = cluster_node_by_member(c, q->hop, &m);
	/* An in-dialog request that names no node (its UA ignored our
	 * Record-Route): the call's record knows it. */
	char cnode_name[CFG_NAME_MAX];
	if (!dn && req->to && req->to->tag.len &&
	    calls_node_of(c->calls, req->call_id, cnode_name, sizeof(cnode_name)))
		dn = cluster_node_by_name(c, str_cstr(cnode_name));
	if (dn)
		return pick_dialog(q, dn);

	struct cnode *cand[CFG_MAX_NODES];
	bool is_register = req->method == SIP_METHOD_REGISTER;
	char aor[512];
	size_t alen = 0;
	if (is_register && req->to)
		alen = registrar_aor(&req->to->uri, aor, sizeof(aor));
	struct cnode *n = is_register ? NULL : owner_node(c, q);
	/* Known-good nodes tier by tier; then, failing all, those in doubt.
	 * A REGISTER hashes over every in-service node of the tier, so an
	 * unknown pair keeps its endpoints. */
	for (int pass = 0; pass < 2 && !n; pass++) {
		bool good = pass == 0 && !is_register;
		for (unsigned tier = 0; tier < c->n_tiers && !n; tier++) {
			size_t k = candidates(c, q, (int)tier, good, cand);
			if (!k)
				continue;
			if (is_register && alen)
				n = cluster_hash_pick(cand, k, str_make(aor, alen));
			else
				n = cluster_balance(c, cand, k, req);
		}
		if (is_register)
			break;
	}
	if (!n)
		return -1;
	n->requests++;
	fill(q, n, ha_target(&n->ha));
	return 0;
}
