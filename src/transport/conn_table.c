/* conn_table.c — open stream connections by id and by remote address, O(1).
 * RFC 3261 §18.2.2: a response goes back on the connection its request came
 * on (by id); §18.1.1: a new request to a peer reuses an open connection to
 * that address, whichever side opened it (by address). Ids are never reused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "transport/transport_internal.h"

#define CONN_TABLE_MIN 64

static size_t conn_hash_id(uint64_t id, size_t n)
{
	id ^= id >> 33;
	id *= 0xff51afd7ed558ccdULL;
	id ^= id >> 33;
	return (size_t)id & (n - 1);
}

static size_t conn_hash_addr(const union tp_sockaddr *a, size_t n)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;
	size_t len;
	if (a->sa.sa_family == AF_INET6) {
		p = (const unsigned char *)&a->in6.sin6_addr;
		len = 16;
	} else {
		p = (const unsigned char *)&a->in4.sin_addr;
		len = 4;
	}
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ tp_addr_port(a)) * 16777619u;
	return h & (n - 1);
}

int conn_table_init(struct conn_table *t)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = CONN_TABLE_MIN;
	t->by_id = calloc(t->nbuckets, sizeof(*t->by_id));
	t->by_addr = calloc(t->nbuckets, sizeof(*t->by_addr));
	if (!t->by_id || !t->by_addr) {
		conn_table_fini(t);
		return -ENOMEM;
	}
	return 0;
}

void conn_table_fini(struct conn_table *t)
{
	free(t->by_id);
	free(t->by_addr);
	memset(t, 0, sizeof(*t));
}

/* Doubles the bucket arrays when the load passes 1, keeping lookups O(1). */
static int conn_table_grow(struct conn_table *t)
{
	size_t n = t->nbuckets * 2;
	struct conn_entry **bi = calloc(n, sizeof(*bi));
	struct conn_entry **ba = calloc(n, sizeof(*ba));
	if (!bi || !ba) {
		free(bi);
		free(ba);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct conn_entry *e = t->by_id[i], *next;
		for (; e; e = next) {
			next = e->next_id;
			size_t h = conn_hash_id(e->id, n);
			e->next_id = bi[h];
			bi[h] = e;
		}
		for (e = t->by_addr[i]; e; e = next) {
			next = e->next_addr;
			size_t h = conn_hash_addr(&e->addr, n);
			e->next_addr = ba[h];
			ba[h] = e;
		}
	}
	free(t->by_id);
	free(t->by_addr);
	t->by_id = bi;
	t->by_addr = ba;
	t->nbuckets = n;
	return 0;
}

int conn_table_insert(struct conn_table *t, struct conn_entry *e)
{
	if (t->count >= t->nbuckets)
		conn_table_grow(t); /* on failure chains just get longer */
	size_t h = conn_hash_id(e->id, t->nbuckets);
	e->next_id = t->by_id[h];
	t->by_id[h] = e;
	h = conn_hash_addr(&e->addr, t->nbuckets);
	e->next_addr = t->by_addr[h];
	t->by_addr[h] = e;
	t->count++;
	return 0;
}

void conn_table_remove(struct conn_table *t, struct conn_entry *e)
{
	struct conn_entry **pp = &t->by_id[conn_hash_id(e->id, t->nbuckets)];
	for (; *pp; pp = &(*pp)->next_id) {
		if (*pp == e) {
			*pp = e->next_id;
			break;
		}
	}
	pp = &t->by_addr[conn_hash_addr(&e->addr, t->nbuckets)];
	for (; *pp; pp = &(*pp)->next_addr) {
		if (*pp == e) {
			*pp = e->next_addr;
			t->count--;
			break;
		}
	}
	e->next_id = e->next_addr = NULL;
}

struct conn_entry *conn_table_find_id(const struct conn_table *t, uint64_t id)
{
	struct conn_entry *e = t->by_id[conn_hash_id(id, t->nbuckets)];
	while (e && e->id != id)
		e = e->next_id;
	return e;
}

/* The newest connection to that address wins: entries are pushed at the head. */
struct conn_entry *conn_table_find_addr(const struct conn_table *t, const union tp_sockaddr *a)
{
	struct conn_entry *e = t->by_addr[conn_hash_addr(a, t->nbuckets)];
	while (e && !tp_addr_equal(&e->addr, a))
		e = e->next_addr;
	return e;
}

void conn_table_each(struct conn_table *t, void (*fn)(void *arg, struct conn_entry *e), void *arg)
{
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct conn_entry *e = t->by_id[i], *next;
		for (; e; e = next) {
			next = e->next_id;
			fn(arg, e);
		}
	}
}
