/* proxy_internal.h — the proxy's private state shared by its files: the proxy
 * itself, a response context per proxied request (RFC 3261 §16.7 "response
 * context") and its branches (one client transaction each, §16.6). */
#ifndef SIPPROXY_PROXY_INTERNAL_H
#define SIPPROXY_PROXY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/proxy.h"
#include "sip/edit.h"
#include "transport/resolver.h"
#include "txn/txn.h"
#include "util/timer_wheel.h"

#define PROXY_MAX_BRANCHES 8
#define PROXY_UDP_MTU_LIMIT 1300 /* RFC 3261 §18.1.1 */
#define PROXY_LOOP_HASH_HEX 16

struct proxy {
	struct event_base *base;
	const struct config *cfg;
	struct proxy_routing routing;
	struct proxy_location location;
	struct tp *tp;
	struct resolver *resolver;
	struct txn_layer *txn;
	struct sip_limits limits;
	struct proxy_stats stats;
	size_t contexts;
	bool draining;
	uint64_t branch_seq; /* makes every branch id unique */
	char branch_prefix[8]; /* random per process: unique across restarts */
};

enum branch_state {
	BRANCH_RESOLVING = 0, /* waiting for DNS */
	BRANCH_SENT,          /* client transaction running */
	BRANCH_DONE           /* final response (or failure) recorded */
};

struct route_plan {
	bool strict_fix;                /* RURI was ours: last Route becomes RURI */
	const struct sip_addr *strict_route; /* that last Route */
	const struct sip_addr *pop[4];  /* top Route values that are ours, removed */
	unsigned n_pop;
	const struct sip_addr *next_route; /* first remaining Route, NULL if none */
	const struct sip_uri *ruri;     /* effective Request-URI after the strict fix */
	struct str ruri_str;
	bool to_server;                 /* send to the cluster's pick (dest set) */
	bool for_me;                    /* addressed to this proxy, no Route left */
	bool relay_refused;             /* untrusted request kept inside the cluster */
	/* per branch (location service targets) */
	bool ruri_override;             /* Request-URI becomes ruri_str */
	struct str push_route;          /* Route values to insert on top (Path) */
};

struct proxy_ctx;

struct proxy_branch {
	struct proxy_ctx *ctx;
	enum branch_state state;
	struct txn_client *ct;
	struct resolver_query *query;
	struct timer timer_c;      /* §16.6 step 11, INVITE only */
	int status;                /* highest status seen on this branch */
	bool cancel_pending;       /* CANCEL owed once a provisional arrives (§9.1) */
	bool cancelled;
	struct proxy_target target; /* location service target (ctx arena) */
	bool has_target;
	struct sip_uri target_uri;  /* target.uri parsed */
	struct sip_uri path_uri;    /* first Path value parsed: the next hop */
	struct route_plan plan;     /* ctx->plan adjusted for this branch */
	unsigned index;
};

/* One proxied request: lives as long as its server transaction. */
struct proxy_ctx {
	struct proxy *p;
	struct txn_server *st;
	struct sip_msg *req;       /* owned by st */
	bool trusted;
	bool final_sent;           /* a final response went upstream */
	bool cancelled;            /* CANCEL received (§16.10) */
	bool starting;             /* inside proxy_ctx_next_group: no finishing yet */
	unsigned n_branches;
	struct proxy_branch *branch[PROXY_MAX_BRANCHES]; /* allocated as started */
	struct route_plan plan;    /* §16.4/§16.5 decisions, pointing into req */
	struct arena *arena;       /* targets and their strings (location service) */
	struct proxy_target *targets; /* [PROXY_MAX_BRANCHES] in arena */
	unsigned n_targets, next_target; /* targets not yet started: q groups (§16.6) */
	struct sip_msg *best;      /* best final response so far (§16.7 step 6) */
	int best_status;
	char loop_hash[PROXY_LOOP_HASH_HEX + 1]; /* §16.6 step 8 */
};

/* proxy.c */
void proxy_count_out_request(struct proxy *p, enum sip_method m);
void proxy_count_out_response(struct proxy *p, int status);
/* Sends bytes somewhere without a transaction (stateless ACK/response). */
int proxy_send_stateless(struct proxy *p, const struct tp_dest *d, const char *buf, size_t len);

/* reply.c — responses the proxy generates itself */
void proxy_reply(struct proxy *p, struct txn_server *st, int status, const char *reason,
		 struct str extra_headers);
void proxy_reply_stateless(struct proxy *p, const struct sip_msg *req, const struct tp_packet *pkt,
			   int status, const char *reason);

/* validate.c — §16.3; returns 0 or the status to answer (fills reason/extra) */
int proxy_validate(struct proxy *p, const struct sip_msg *req, const char **reason,
		   char *extra, size_t extra_cap);
void proxy_loop_hash(const struct sip_msg *req, char out[PROXY_LOOP_HASH_HEX + 1]);
bool proxy_via_is_mine(const struct proxy *p, const struct sip_via *v);

/* route.c — §16.4 preprocessing and §16.5 target choice */
bool proxy_uri_is_me(const struct proxy *p, const struct sip_uri *u);
void proxy_route_plan(struct proxy *p, const struct sip_msg *req, bool trusted,
		      struct route_plan *plan);
/* Next hop URI for a plan when not sending to a server. */
const struct sip_uri *proxy_route_next_hop(const struct route_plan *plan);

/* forward.c — §16.6: build and send one branch */
int proxy_forward_branch(struct proxy_ctx *ctx, struct proxy_branch *b, const struct route_plan *plan,
			 const struct tp_dest *dest);
/* Edits common to stateful and stateless forwarding of a request (§16.6
 * steps 2-8): Request-URI/Route per the plan, Max-Forwards, Record-Route when
 * rr_in is given (rr_in = listener the request came in on), received/rport on
 * the sender's Via (§18.2.1, RFC 3581), our Via, Content-Length for streams. */
int proxy_edit_request(struct proxy *p, struct sip_edit *e, const struct sip_msg *req,
		       const struct tp_packet *src, const struct route_plan *plan,
		       const struct tp_listener *out, enum tp_proto out_proto, const char *branch,
		       const struct tp_listener *rr_in);
/* Serialises an edit into a new malloc'd buffer (NULL on failure). */
char *proxy_edit_serialize(const struct sip_edit *e, size_t *len);
/* Should this request be Record-Routed (§16.6 step 4)? */
bool proxy_wants_record_route(const struct proxy *p, const struct sip_msg *req);
/* Stateless forwarding of an ACK for a 2xx (§16.11 branch rule). */
void proxy_forward_ack(struct proxy *p, struct sip_msg *ack, const struct tp_packet *pkt);

/* response.c — §16.7, §16.8 */
bool proxy_on_response(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp);
void proxy_on_client_fail(void *arg, struct txn_client *ct, void *user, enum txn_fail why);
void proxy_on_stray_response(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt);
void proxy_branch_fail(struct proxy_branch *b, int status);
void proxy_timer_c_start(struct proxy_branch *b);
void proxy_ctx_maybe_finish(struct proxy_ctx *ctx);
/* fork.c — targets and branches (§16.5, §16.6 steps 1-2): starts one branch
 * (target NULL: the request's own plan), or the next q-value group of the
 * location service's targets (false when none is left). */
void proxy_ctx_start_branch(struct proxy_ctx *ctx, const struct proxy_target *target);
bool proxy_ctx_next_group(struct proxy_ctx *ctx);

/* cancel.c — §16.10 and §9.1 */
void proxy_on_cancel(struct proxy *p, struct txn_server *st, struct sip_msg *cancel);
void proxy_branch_cancel(struct proxy_branch *b);
void proxy_ctx_cancel_others(struct proxy_ctx *ctx, const struct proxy_branch *keep);

/* request.c — new requests; a context ends with its server transaction, or
 * as soon as its final response is out for a non-INVITE (nothing can follow). */
void proxy_ctx_free(struct proxy_ctx *ctx);
void proxy_ctx_done_early(struct proxy_ctx *ctx);
void proxy_on_request(void *arg, struct txn_server *st, struct sip_msg *req);
void proxy_on_ack(void *arg, struct sip_msg *ack, const struct tp_packet *pkt);
void proxy_on_server_gone(void *arg, struct txn_server *st, void *user);

#endif
