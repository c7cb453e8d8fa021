/* resolver_cache.c — DNS answers by (qname, qtype) honouring TTLs (RFC 1035
 * §3.2.1; negative answers briefly, RFC 2308 §5) with an LRU bound, so a hot
 * RFC 3263 lookup costs a hash lookup. A pending entry is the in-flight query:
 * later askers wait on it instead of sending the same question again. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/resolver_internal.h"

static uint32_t dns_key_hash(const char *qname, int qtype)
{
	uint32_t h = 2166136261u;
	for (const char *p = qname; *p; p++)
		h = (h ^ (unsigned char)tolower((unsigned char)*p)) * 16777619u;
	return (h ^ (uint32_t)qtype) * 16777619u;
}

int dns_cache_init(struct dns_cache *c, size_t max)
{
	memset(c, 0, sizeof(*c));
	c->max = max; /* 0: no cache, answers still shared by concurrent askers */
	c->nbuckets = 64;
	while (c->nbuckets < c->max && c->nbuckets < (1u << 20))
		c->nbuckets *= 2;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	c->lru.lru_next = c->lru.lru_prev = &c->lru;
	return c->buckets ? 0 : -ENOMEM;
}

void dns_rr_free(struct dns_rr *rr, unsigned n)
{
	for (unsigned i = 0; rr && i < n; i++)
		free(rr[i].name);
	free(rr);
}

void dns_entry_ref(struct dns_entry *e)
{
	e->refs++;
}

void dns_entry_unref(struct dns_entry *e)
{
	if (--e->refs > 0)
		return;
	dns_rr_free(e->rr, e->nrr);
	free(e->qname);
	free(e);
}

static void dns_lru_unlink(struct dns_entry *e)
{
	if (e->lru_next) {
		e->lru_next->lru_prev = e->lru_prev;
		e->lru_prev->lru_next = e->lru_next;
		e->lru_next = e->lru_prev = NULL;
	}
}

static void dns_lru_push(struct dns_cache *c, struct dns_entry *e)
{
	e->lru_next = c->lru.lru_next;
	e->lru_prev = &c->lru;
	c->lru.lru_next->lru_prev = e;
	c->lru.lru_next = e;
}

/* Takes e out of the table; whoever still holds a reference keeps it alive. */
static void dns_cache_drop(struct dns_cache *c, struct dns_entry *e)
{
	struct dns_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == e) {
			*pp = e->hnext;
			break;
		}
	}
	if (!e->pending)
		c->count--;
	dns_lru_unlink(e);
	e->in_table = false;
	dns_entry_unref(e);
}

void dns_cache_fini(struct dns_cache *c)
{
	for (size_t i = 0; c->buckets && i < c->nbuckets; i++)
		while (c->buckets[i])
			dns_cache_drop(c, c->buckets[i]);
	free(c->buckets);
	c->buckets = NULL;
}

struct dns_entry *dns_cache_get(struct dns_cache *c, const char *qname, int qtype, uint64_t now)
{
	uint32_t h = dns_key_hash(qname, qtype);
	struct dns_entry *e = c->buckets[h & (c->nbuckets - 1)];
	for (; e; e = e->hnext)
		if (e->hash == h && e->qtype == qtype && strcasecmp(e->qname, qname) == 0)
			break;
	if (!e || e->pending)
		return e;
	if (now >= e->expires_ms) {
		dns_cache_drop(c, e);
		return NULL;
	}
	dns_lru_unlink(e);
	dns_lru_push(c, e);
	return e;
}

struct dns_entry *dns_cache_add_pending(struct dns_cache *c, const char *qname, int qtype,
					void *owner)
{
	struct dns_entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->qname = strdup(qname))) {
		free(e);
		return NULL;
	}
	e->qtype = qtype;
	e->hash = dns_key_hash(qname, qtype);
	e->pending = true;
	e->in_table = true;
	e->refs = 1;
	e->owner = owner;
	e->waiters.next = e->waiters.prev = &e->waiters;
	size_t b = e->hash & (c->nbuckets - 1);
	e->hnext = c->buckets[b];
	c->buckets[b] = e;
	return e;
}

void dns_waiter_add(struct dns_entry *e, struct dns_waiter *w)
{
	w->prev = e->waiters.prev;
	w->next = &e->waiters;
	e->waiters.prev->next = w;
	e->waiters.prev = w;
}

void dns_waiter_remove(struct dns_waiter *w)
{
	if (w->next) {
		w->next->prev = w->prev;
		w->prev->next = w->next;
		w->next = w->prev = NULL;
	}
}

void dns_cache_complete(struct dns_cache *c, struct dns_entry *e, int status, struct dns_rr *rr,
			unsigned nrr, uint64_t ttl_ms, uint64_t now)
{
	e->status = status;
	e->rr = rr;
	e->nrr = nrr;
	e->pending = false;
	e->expires_ms = now + (status == 0 ? ttl_ms : DNS_NEG_TTL_MS);
	dns_entry_ref(e); /* keep it while waiters run */
	if (e->in_table) {
		c->count++;
		dns_lru_push(c, e);
		if (status == -EAGAIN)
			dns_cache_drop(c, e); /* server failures are not remembered */
		while (c->count > c->max && c->lru.lru_prev != &c->lru)
			dns_cache_drop(c, c->lru.lru_prev);
	}
	while (e->waiters.next != &e->waiters) {
		struct dns_waiter *w = e->waiters.next;
		dns_waiter_remove(w);
		w->fn(w);
	}
	dns_entry_unref(e);
}
