/* calls.h — the cluster's call data: a dialog record for each call through
 * the cluster (Call-ID, tags, SIP Server node, the proxy holding the
 * endpoint's flow, state, start), made when the INVITE's 2xx passes and gone
 * with the BYE or after cluster.call-max-lifetime. With the Redis store the
 * records are shared by every proxy (replicated records of kind 'd',
 * store/repl.h), so each proxy counts every call of every node (least-calls),
 * finds a call's node by Call-ID (an in-dialog request of a UA that ignored
 * our Record-Route), and lists the cluster's calls (GET /calls). */
#ifndef SIPPROXY_CLUSTER_CALLS_H
#define SIPPROXY_CLUSTER_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/str.h"

struct calls;
struct repl;

/* One call as it is recorded and listed. */
struct call_info {
	struct str call_id;
	struct str tags; /* the two tags, sorted, ";" between: the dialog's key */
	struct str node; /* SIP Server node, may be empty */
	struct str flow; /* proxy holding the endpoint's flow */
	struct str caller, callee;
	struct str origin; /* proxy that recorded it */
	int64_t start_ms, expires_at;
	uint64_t version; /* replication version, 0 = local only so far */
};

/* self: this proxy's name; max_lifetime_s: a call not ended by then goes. */
struct calls *calls_new(const char *self, unsigned max_lifetime_s);
/* Shares the records through r (before r starts connecting). */
int calls_attach(struct calls *k, struct repl *r);
void calls_free(struct calls *k);

/* The INVITE's 2xx passed: a call between from_tag and to_tag. */
void calls_started(struct calls *k, struct str call_id, struct str from_tag, struct str to_tag,
		   struct str node, struct str flow, struct str caller, struct str callee,
		   int64_t now_ms);
/* Its BYE was answered (either side's tags, in either order). */
void calls_ended(struct calls *k, struct str call_id, struct str tag_a, struct str tag_b);
/* Drops calls past their lifetime; how many. */
size_t calls_expire(struct calls *k, int64_t now_ms);

/* Calls on node (every proxy's, when shared). */
uint64_t calls_on_node(const struct calls *k, struct str node);
/* The node of a call with this Call-ID (the first recorded), copied into
 * out; false when none. */
bool calls_node_of(const struct calls *k, struct str call_id, char *out, size_t cap);
size_t calls_count(const struct calls *k);
/* Visits every call (or those of call_id when it is not empty); return
 * non-zero from fn to stop. */
typedef int (*calls_visit_fn)(void *arg, const struct call_info *c);
void calls_each(const struct calls *k, struct str call_id, calls_visit_fn fn, void *arg);

#endif
