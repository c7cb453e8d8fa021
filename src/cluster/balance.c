/* balance.c — how new requests spread over the in-service nodes of one data
 * center (cluster.balance): round-robin, smooth weighted round-robin (each
 * node's share is its weight, interleaved rather than in runs), least active
 * calls (ties in turn), or a rendezvous hash of the Call-ID or the From user
 * (a key stays on its node while that node is in service, and only the keys
 * of a node that leaves move). */
#include "cluster/cluster_internal.h"

/* 64-bit FNV-1a of key mixed with the node name, finished with a
 * splitmix64 step: the rendezvous score of key on node. */
static uint64_t score(struct str key, const char *node)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < key.len; i++)
		h = (h ^ (unsigned char)key.p[i]) * 1099511628211ULL;
	h = (h ^ 0xff) * 1099511628211ULL;
	for (const char *s = node; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

struct cnode *cluster_hash_pick(struct cnode **cand, size_t n, struct str key)
{
	struct cnode *best = NULL;
	uint64_t best_score = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t s = score(key, cand[i]->cfg.name);
		if (!best || s > best_score) {
			best = cand[i];
			best_score = s;
		}
	}
	return best;
}

static struct cnode *weighted(struct cnode **cand, size_t n)
{
	int64_t total = 0;
	struct cnode *best = NULL;
	for (size_t i = 0; i < n; i++) {
		cand[i]->wrr_current += cand[i]->cfg.weight;
		total += cand[i]->cfg.weight;
		if (!best || cand[i]->wrr_current > best->wrr_current)
			best = cand[i];
	}
	best->wrr_current -= total;
	return best;
}

/* Ties in turn: the k-th of the least loaded nodes, k rotating. (Rotating
 * the scan's start over all candidates instead would favour the node that
 * follows a busier one: with a, b, c and a busy, b would win 2 ties in 3.) */
static struct cnode *least_calls(struct cluster *c, struct cnode **cand, size_t n)
{
	uint64_t least = UINT64_MAX;
	size_t ties = 0;
	for (size_t i = 0; i < n; i++) {
		if (cluster_node_calls(cand[i]) < least) {
			least = cluster_node_calls(cand[i]);
			ties = 0;
		}
		if (cluster_node_calls(cand[i]) == least)
			ties++;
	}
	size_t k = (size_t)(c->rr++ % ties);
	for (size_t i = 0; i < n; i++)
		if (cluster_node_calls(cand[i]) == least && k-- == 0)
			return cand[i];
	return cand[0];
}

struct cnode *cluster_balance(struct cluster *c, struct cnode **cand, size_t n,
			      const struct sip_msg *req)
{
	if (n == 1)
		return cand[0];
	switch (c->cfg->balance) {
	case CFG_BALANCE_WEIGHTED: return weighted(cand, n);
	case CFG_BALANCE_LEAST_CALLS: return least_calls(c, cand, n);
	case CFG_BALANCE_HASH_CALL_ID: return cluster_hash_pick(cand, n, req->call_id);
	case CFG_BALANCE_HASH_FROM_USER:
		if (req->from && req->from->uri.user.len)
			return cluster_hash_pick(cand, n, req->from->uri.user);
		return cluster_hash_pick(cand, n, req->call_id);
	case CFG_BALANCE_ROUND_ROBIN: break;
	}
	return cand[c->rr++ % n];
}
