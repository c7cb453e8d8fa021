/* store.h — the registration store interface (bindings of address-of-record to
 * contacts, RFC 3261 §10.3), implemented by the in-memory backend (the
 * single-node default, store_mem.c, with a disk snapshot) and later by Redis
 * (shared by every proxy of the cluster). Callers see only this vtable. */
#ifndef SIPPROXY_STORE_STORE_H
#define SIPPROXY_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"
#include "util/str.h"

/* One binding as the registrar hands it over / gets it back. In a lookup the
 * slices point into the store and are valid only during the visit callback. */
struct store_binding {
	struct str aor;	     /* normalised address-of-record, e.g. "sip:alice@example.com" */
	struct str contact;  /* the Contact URI as granted (without <>) */
	struct str instance; /* +sip.instance (RFC 5626), may be empty */
	uint32_t reg_id;     /* reg-id (RFC 5626), 0 = none */
	struct str call_id;  /* of the REGISTER that made or refreshed it */
	uint32_t cseq;
	uint16_t q;	    /* q-value x 1000 (1000 when absent) */
	int64_t expires_at; /* absolute, ms since the Unix epoch (shared across proxies) */
	struct str path;    /* Path header values (RFC 3327), comma-separated, may be empty */
	/* how to reach the endpoint (its flow) */
	enum tp_proto proto;
	union tp_sockaddr source; /* where its REGISTER came from (NAT-safe target) */
	uint64_t conn_id;	  /* stream connection on the owner proxy, 0 = none */
	struct str owner;	  /* name of the proxy holding that flow */
	/* name of the SIP Server node (HA pair) that accepted the REGISTER, may
	 * be empty; that node owns the endpoint */
	struct str node;
	/* replication version (the shared store's order of changes); 0 = not
	 * replicated or not yet confirmed */
	uint64_t version;
};

enum store_result {
	STORE_OK = 0,
	STORE_STALE = 1, /* same Call-ID with a CSeq not newer: ignored (§10.3 step 7) */
	STORE_NOT_FOUND = 2,
	STORE_ERROR = -1,
};

enum store_event { STORE_EV_SAVED, STORE_EV_REMOVED, STORE_EV_EXPIRED };

/* Return non-zero to stop the iteration. */
typedef int (*store_visit_fn)(void *arg, const struct store_binding *b);
typedef void (*store_watch_fn)(void *arg, enum store_event ev, const struct store_binding *b);

struct store;

struct store_ops {
	/* Adds or refreshes the binding keyed by (aor, instance+reg_id when
	 * instance is set, else contact URI). */
	enum store_result (*save)(struct store *s, const struct store_binding *b);
	/* Removes one binding (same key rules; call_id/cseq ordering applies). */
	enum store_result (*remove)(struct store *s, const struct store_binding *b);
	/* Removes every binding of aor (Contact: *) subject to call_id/cseq. */
	enum store_result (*remove_all)(struct store *s, struct str aor, struct str call_id,
					uint32_t cseq);
	/* Visits the live (expires_at > now_ms) bindings of aor, highest q first. */
	int (*lookup)(struct store *s, struct str aor, int64_t now_ms, store_visit_fn fn,
		      void *arg);
	/* Drops every binding with expires_at <= now_ms; returns how many. */
	size_t (*expire)(struct store *s, int64_t now_ms);
	/* Visits every binding (live or not yet expired-out). */
	int (*iterate)(struct store *s, store_visit_fn fn, void *arg);
	/* Registers one change listener (replication, admin); NULL fn removes. */
	void (*watch)(struct store *s, store_watch_fn fn, void *arg);
	size_t (*count)(struct store *s);
	void (*free)(struct store *s);
};

struct store {
	const struct store_ops *ops;
};

static inline enum store_result store_save(struct store *s, const struct store_binding *b)
{
	return s->ops->save(s, b);
}
static inline enum store_result store_remove(struct store *s, const struct store_binding *b)
{
	return s->ops->remove(s, b);
}
static inline enum store_result store_remove_all(struct store *s, struct str aor,
						 struct str call_id, uint32_t cseq)
{
	return s->ops->remove_all(s, aor, call_id, cseq);
}
static inline int store_lookup(struct store *s, struct str aor, int64_t now_ms, store_visit_fn fn,
			       void *arg)
{
	return s->ops->lookup(s, aor, now_ms, fn, arg);
}
static inline size_t store_expire(struct store *s, int64_t now_ms)
{
	return s->ops->expire(s, now_ms);
}
static inline int store_iterate(struct store *s, store_visit_fn fn, void *arg)
{
	return s->ops->iterate(s, fn, arg);
}
static inline void store_watch(struct store *s, store_watch_fn fn, void *arg)
{
	s->ops->watch(s, fn, arg);
}
static inline size_t store_count(struct store *s)
{
	return s->ops->count(s);
}
static inline void store_free(struct store *s)
{
	if (s)
		s->ops->free(s);
}

/* The Redis backend: the whole table in this proxy's memory (lookups never
 * wait), every change written through to Redis and every other proxy's
 * changes replayed from it (repl.h). owner is this proxy's name: the
 * bindings it owns are the ones it writes back when Redis lost them. */
struct event_base;
struct store_redis_config {
	const char *address; /* "host:port" or "unix:/path", when no sentinels */
	const char *sentinels[8];
	size_t n_sentinels;
	const char *master_name;
	const char *password;
	const char *prefix;
	unsigned partitions, log_length, queue_max, timeout_ms;
	unsigned sweep_ms; /* between bucket sweeps (repl_sweep.c); 0 = the default */
	const char *owner;
};
struct store *store_redis_new(struct event_base *base, const struct store_redis_config *cfg,
			      char *err, size_t errlen);
/* Starts connecting (after the event loop is set up). */
void store_redis_start(struct store *s);
/* Its replication engine, for other shared records (the cluster's calls);
 * NULL for another backend. */
struct repl;
struct repl *store_redis_repl(struct store *s);
/* The replication's state and counters; false for another backend. */
struct repl_stats;
bool store_redis_stats(struct store *s, struct repl_stats *out, uint64_t *unstorable);

/* The in-memory backend. snapshot_path (may be NULL) is loaded at creation
 * if it exists; store_mem_snapshot writes it atomically (tmp + rename). */
struct store *store_mem_new(const char *snapshot_path, char *err, size_t errlen);
int store_mem_snapshot(struct store *s, char *err, size_t errlen);
/* Bytes the in-memory store holds (records, AOR table, expiry heap), counted
 * with malloc_usable_size; 0 for another backend. For stats and benchmarks. */
size_t store_mem_bytes(struct store *s);

#endif
