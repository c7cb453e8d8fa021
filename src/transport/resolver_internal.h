/* resolver_internal.h — the DNS answer cache shared by resolver.c and
 * resolver_cache.c: entries keyed by (qname, qtype), TTL-bounded, LRU-evicted,
 * and doubling as the in-flight record so identical queries are merged. */
#ifndef SIPPROXY_TRANSPORT_RESOLVER_INTERNAL_H
#define SIPPROXY_TRANSPORT_RESOLVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <ares.h>
#include <event2/event.h>

#include "transport/resolver.h"
#include "transport/transport.h"

#define DNS_NEG_TTL_MS 30000u /* negative answers are kept 30 s */

struct dns_rr {
	uint16_t order, pref;	     /* NAPTR */
	uint16_t prio, weight, port; /* SRV */
	char flags[8], service[32];  /* NAPTR */
	char *name;		     /* NAPTR replacement / SRV target */
	union tp_sockaddr addr;	     /* A / AAAA, port 0 */
};

struct dns_entry;
struct dns_waiter {
	struct dns_waiter *next, *prev;
	void (*fn)(struct dns_waiter *w);
};

struct dns_entry {
	char *qname;
	int qtype;
	uint32_t hash;
	struct dns_entry *hnext, *lru_prev, *lru_next;
	uint64_t expires_ms;
	int status; /* 0 = answer, -ENOENT = no such name/data, -EAGAIN = failed */
	bool pending, in_table;
	unsigned refs;
	struct dns_rr *rr;
	unsigned nrr;
	struct dns_waiter waiters; /* list head */
	void *owner;		   /* the resolver, for the c-ares callback */
};

struct dns_cache {
	struct dns_entry **buckets;
	size_t nbuckets, count, max;
	struct dns_entry lru; /* sentinel: lru_next = most recent */
};

int dns_cache_init(struct dns_cache *c, size_t max);
void dns_cache_fini(struct dns_cache *c);
/* A fresh or pending entry for the key, or NULL; expired entries are dropped. */
struct dns_entry *dns_cache_get(struct dns_cache *c, const char *qname, int qtype, uint64_t now);
/* A new pending entry in the table (one reference held by the table). */
struct dns_entry *dns_cache_add_pending(struct dns_cache *c, const char *qname, int qtype,
					void *owner);
/* Stores the answer (takes rr), wakes the waiters, evicts beyond max. Failures
 * (status -EAGAIN) are not kept. ttl_ms applies to positive answers. */
void dns_cache_complete(struct dns_cache *c, struct dns_entry *e, int status, struct dns_rr *rr,
			unsigned nrr, uint64_t ttl_ms, uint64_t now);
void dns_entry_ref(struct dns_entry *e);
void dns_entry_unref(struct dns_entry *e);
void dns_waiter_add(struct dns_entry *e, struct dns_waiter *w);
void dns_waiter_remove(struct dns_waiter *w);
void dns_rr_free(struct dns_rr *rr, unsigned n);

/* Parses a c-ares answer for qtype (resolver_parse.c): 0 with out and n set (n may
 * be 0), -ENOENT (no data) or -EAGAIN; *ttl is the answer's smallest TTL (s). */
int resolver_parse_answer(int qtype, const unsigned char *abuf, int alen, struct dns_rr **out,
			  unsigned *n, uint32_t *ttl);

/* The resolver object (resolver.c), shared with the c-ares glue. */
#define RES_MAX_FDS 16
struct res_fd {
	int fd;
	struct event *ev;
	struct resolver *r;
};

struct resolver {
	struct event_base *base;
	struct resolver_config cfg;
	ares_channel ch;
	struct res_fd fds[RES_MAX_FDS];
	struct event *timer;
	struct dns_cache cache;
	uint64_t rng;
	struct resolver_query *queries; /* outstanding, for resolver_free */
};

uint64_t resolver_now_ms(void);
/* c-ares glue (resolver_ares.c) */
void resolver_ares_sock_state(void *data, ares_socket_t fd, int readable, int writable);
void resolver_ares_on_timer(evutil_socket_t fd, short what, void *arg);
void resolver_ares_arm_timer(struct resolver *r);
/* Sends the question of pending entry e; the answer completes it in the cache. */
void resolver_ares_send(struct resolver *r, struct dns_entry *e);

#endif
