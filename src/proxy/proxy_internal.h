/* proxy_internal.h — the proxy's private state shared by its files: the proxy
 * itself, the route plan (§16.4/§16.5 decisions), a response context per
 * proxied request (RFC 3261 §16.7 "response context", ctx.c) and its branches
 * (one client transaction at a time each, §16.6, branch.c). The event files
 * (request.c, response.c, cancel.c, stateless.c) use the ctx and branch APIs. */
#ifndef SIPPROXY_PROXY_INTERNAL_H
#define SIPPROXY_PROXY_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "proxy/proxy.h"
#include "sip/edit.h"
#include "transport/resolver.h"
#include "txn/txn.h"
#include "util/timer_wheel.h"

#define PROXY_MAX_BRANCHES   8
#define PROXY_UDP_MTU_LIMIT  1300 /* RFC 3261 §18.1.1 */
#define PROXY_LOOP_HASH_HEX  16
#define PROXY_FLOW_KEY_LEN   32
#define PROXY_FLOW_TOKEN_MAX 96 /* hex of the largest token, with its NUL */
/* Our Record-Route's parameter naming the dialog's SIP Server node. */
#define PROXY_RR_NODE_PARAM "sn"
#define PROXY_MAX_DESTS	    (RESOLVER_MAX_TARGETS + 1)

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
	struct {
		bool started;
		uint64_t tokens; /* x1000 */
		uint64_t last_ms;
	} overload;				    /* overload.c */
	uint64_t branch_seq;			    /* makes every branch id unique */
	char branch_prefix[8];			    /* random per process: unique across restarts */
	unsigned char flow_key[PROXY_FLOW_KEY_LEN]; /* flow token MAC key (flow.c) */
	uint32_t self_id;			    /* proxy_peer_id(cfg->name) */
	char rr_host[CFG_HOST_MAX];	 /* its cluster.proxies record-route-host; "" = none */
	struct evp_mac_ctx_st *flow_mac; /* HMAC-SHA256 keyed with it */
};

/* An endpoint's flow (RFC 5626 §3): how to reach it through the NAT and the
 * connection it opened. Carried in a flow token in our Record-Route. */
struct proxy_flow {
	uint32_t owner; /* proxy_peer_id of the proxy holding it */
	enum tp_proto proto;
	union tp_sockaddr addr;
	uint64_t conn_id; /* stream connection, 0 for UDP */
};

struct route_plan {
	bool strict_fix; /* RURI was our Record-Route: last Route becomes RURI */
	const struct sip_addr *strict_route; /* that last Route */
	const struct sip_addr *pop[4];	     /* top Route values that are ours, removed */
	unsigned n_pop;
	const struct sip_addr *next_route; /* first remaining Route, NULL if none */
	const struct sip_uri *ruri;	   /* effective Request-URI after the strict fix */
	struct str ruri_str;
	bool to_server;	    /* send to the cluster's pick (dest set) */
	bool for_me;	    /* addressed to this proxy, no Route left */
	bool relay_refused; /* untrusted request kept inside the cluster */
	/* RFC 5626 §5.3: one of our Route values carried a flow token and the
	 * request comes from the cluster: it goes down that endpoint's flow. */
	bool to_flow;
	struct proxy_flow flow;
	/* The SIP Server node our Record-Route named (in-dialog), and the SIP
	 * Server member the request names (IP literal): an in-dialog request
	 * towards the servers goes to that node's current primary. */
	struct str node;
	bool has_hop;
	union tp_sockaddr hop;
	/* per branch (location service targets) */
	bool ruri_override;    /* Request-URI becomes ruri_str */
	struct str push_route; /* Route values to insert on top (Path) */
};

enum branch_state {
	BRANCH_RESOLVING = 0, /* waiting for DNS (or not started) */
	BRANCH_SENT,	      /* client transaction running */
	BRANCH_DONE	      /* final response (or failure) recorded */
};

struct proxy_ctx;

/* What a client transaction's user pointer is (NULL: a CANCEL's). */
enum proxy_user_kind { PROXY_USER_BRANCH = 1, PROXY_USER_UAC = 2 };

struct proxy_branch {
	enum proxy_user_kind kind; /* first: PROXY_USER_BRANCH */
	struct proxy_ctx *ctx;
	enum branch_state state;
	struct txn_client *ct;
	struct resolver_query *query;
	struct timer timer_c; /* §16.6 step 11; after our CANCEL, §9.1's 64*T1 */
	int status;	      /* highest status seen on the current attempt */
	bool cancel_pending;  /* CANCEL owed once a provisional arrives (§9.1) */
	bool cancelled;	      /* our CANCEL went out */
	/* RFC 3263 §4.3: the destinations in the order to try them; a 503, a
	 * timeout or a transport error before any response moves to the next.
	 * One (the common case) lives in the branch, more are malloc'd. */
	struct tp_dest *dests, one_dest;
	unsigned n_dests, next_dest;
	bool fixed_transport;	    /* a configured server or a flow: no §18.1.1 switch */
	bool udp_fallback;	    /* this attempt switched UDP -> TCP (§18.1.1) */
	struct tp_dest attempt;	    /* where the current attempt went */
	struct proxy_target target; /* location service target (ctx arena) */
	bool has_target;
	uint32_t target_owner;	   /* proxy_peer_id of the proxy holding the target's flow */
	struct sip_uri target_uri; /* target.uri parsed */
	struct sip_uri path_uri;   /* first Path value parsed: the next hop */
	struct route_plan plan;	   /* ctx->plan adjusted for this branch */
	unsigned index;
	/* A branch to the cluster's SIP Servers: the node and member picked,
	 * passive detection (no answer within no_response_ms) and the one
	 * retry on the pair's new primary or another node. */
	bool to_server;
	bool server_retried;
	bool answered;	   /* the current attempt got a response */
	bool call_counted; /* counted as a call on node (least-calls) */
	struct proxy_node_ref node;
	uint32_t no_response_ms;
	struct timer answer_timer;
};

/* One proxied request. Owned by its server transaction (user pointer) until
 * it ends; every entry into it (a transaction, resolver or timer callback)
 * holds it, so an end reached inside a call chain frees it only when the
 * outermost call returns (the class of bug: start -> forward -> fail ->
 * finish -> free, then the caller reads the freed context). */
struct proxy_ctx {
	struct proxy *p;
	struct txn_server *st; /* NULL once ended or once the transaction is gone */
	struct sip_msg *req;   /* owned by st */
	bool trusted;
	bool path_trusted;		 /* sent by a configured SBC (RFC 3327 Path kept) */
	bool final_sent;		 /* a final response went upstream */
	bool cancelled;			 /* CANCEL received (§16.10) */
	bool starting;			 /* inside a q-group start: no finishing yet */
	bool no_server;			 /* our own 503: no SIP Server in service or overload */
	unsigned retry_after;		 /* its Retry-After (0 = none) */
	struct proxy_node_ref from_node; /* a request from a SIP Server member: its node */
	unsigned holds;			 /* callbacks in progress on it */
	bool ended;			 /* freed when holds drops to 0 */
	unsigned n_branches;
	struct proxy_branch *branch[PROXY_MAX_BRANCHES]; /* allocated as started */
	struct route_plan plan;		 /* §16.4/§16.5 decisions, pointing into req */
	struct arena *arena;		 /* targets, challenges (location service, §16.7) */
	struct proxy_target *targets;	 /* [PROXY_MAX_BRANCHES] in arena */
	unsigned n_targets, next_target; /* targets not yet started: q groups (§16.6) */
	struct sip_msg *best;		 /* best final response so far (§16.7 step 6) */
	int best_status;
	struct str challenges; /* §16.7 step 7: auth challenges of 401/407 (arena) */
	char loop_hash[PROXY_LOOP_HASH_HEX + 1]; /* §16.6 step 8 */
};

/* ---- proxy.c ---- */
void proxy_count_out_request(struct proxy *p, enum sip_method m);
void proxy_count_out_response(struct proxy *p, int status);
/* Sends bytes somewhere without a transaction (stateless ACK/response). */
int proxy_send_stateless(struct proxy *p, const struct tp_dest *d, const char *buf, size_t len);

/* ---- receive.c: transport -> parse -> transaction layer ---- */
void proxy_on_packet(void *arg, const struct tp_packet *pkt);
void proxy_trace_out(void *arg, const struct tp_dest *d, const char *buf, size_t len);

/* ---- reply.c: responses the proxy generates itself ---- */
void proxy_reply(struct proxy *p, struct txn_server *st, int status, const char *reason,
		 struct str extra_headers);
void proxy_reply_stateless(struct proxy *p, const struct sip_msg *req, const struct tp_packet *pkt,
			   bool trusted, int status, const char *reason);

/* ---- validate.c: §16.3; returns 0 or the status to answer ---- */
int proxy_validate(struct proxy *p, const struct sip_msg *req, const char **reason, char *extra,
		   size_t extra_cap);
void proxy_loop_hash(const struct sip_msg *req, char out[PROXY_LOOP_HASH_HEX + 1]);
bool proxy_via_is_mine(const struct proxy *p, const struct sip_via *v);

/* ---- flow.c: flow tokens (RFC 5626 §5.2) ---- */
int proxy_flow_key_init(struct proxy *p);
void proxy_flow_key_free(struct proxy *p);
/* Hex token for f (NUL-terminated) into out[PROXY_FLOW_TOKEN_MAX]; its length. */
size_t proxy_flow_encode(const struct proxy *p, const struct proxy_flow *f, char *out);
/* A token this proxy wrote, untampered? Fills f. */
bool proxy_flow_decode(const struct proxy *p, struct str token, struct proxy_flow *f);
void proxy_flow_from_packet(const struct proxy *p, const struct tp_packet *pkt,
			    struct proxy_flow *f);
void proxy_flow_to_dest(const struct proxy_flow *f, struct tp_dest *d);
/* Where a request for ruri goes down flow f (the URI's port when the URI
 * names the flow's own host over UDP). */
void proxy_flow_dest_for(const struct proxy_flow *f, const struct sip_uri *ruri, struct tp_dest *d);
/* How a request reaches a flow another proxy of the cluster holds. */
enum proxy_owner_way {
	PROXY_OWNER_VIA_PEER, /* to that proxy (d), the Route value route pushed */
	PROXY_OWNER_DIRECT,   /* it does not answer: UDP straight to the endpoint (d) */
	PROXY_OWNER_DEAD,     /* it does not answer and the flow is a stream: failed */
	PROXY_OWNER_UNKNOWN,  /* a stream of a proxy the cluster does not have: failed */
};
#define PROXY_FLOW_ROUTE_MAX (PROXY_FLOW_TOKEN_MAX + 80)
/* For f with f->owner not this proxy: where a request for ruri goes (one
 * rule for every request that follows a flow, branch.c and stateless.c). */
enum proxy_owner_way proxy_flow_via_owner(const struct proxy *p, const struct proxy_flow *f,
					  const struct sip_uri *ruri, struct tp_dest *d,
					  char route[PROXY_FLOW_ROUTE_MAX]);

/* ---- route.c: §16.4 preprocessing and §16.5 target choice ---- */
bool proxy_uri_is_me(const struct proxy *p, const struct sip_uri *u);
/* Is u a value this proxy put in Record-Route (ours, lr, no user but a flow
 * token)? Only such a Request-URI triggers the strict-router fix. */
bool proxy_uri_is_our_rr(const struct proxy *p, const struct sip_uri *u);
void proxy_route_plan(struct proxy *p, const struct sip_msg *req, bool trusted,
		      struct route_plan *plan);
/* Next hop URI for a plan when not sending to a server. */
const struct sip_uri *proxy_route_next_hop(const struct route_plan *plan);

/* ---- forward.c: §16.6 edits and the sending of one attempt ---- */
/* The message edits of §16.6 steps 2-9 for one destination. */
struct forward_edit {
	const struct sip_msg *req;
	const struct tp_packet *src; /* where req came from (received/rport) */
	const struct route_plan *plan;
	const struct tp_listener *out; /* listener for our Via / outbound RR */
	enum tp_proto out_proto;
	const char *branch;
	const struct tp_listener *rr_in;  /* Record-Route: inbound listener; NULL = none */
	const struct proxy_flow *rr_flow; /* flow token for our Record-Route, or NULL */
	const char *rr_node;		  /* the dialog's SIP Server node, or "" */
	bool strip_path;		  /* remove Path (not from an SBC, RFC 3327) */
};
int proxy_edit_request(struct proxy *p, struct sip_edit *e, const struct forward_edit *fe);
/* Should this request be Record-Routed (§16.6 step 4)? */
bool proxy_wants_record_route(const struct proxy *p, const struct sip_msg *req);
/* Sends the branch's request to dest through a new client transaction (set
 * in b->ct); 0, or the status the failure counts as, negated (-503: no
 * listener for that transport, -500: the edit or memory failed). */
int proxy_forward_attempt(struct proxy_branch *b, const struct tp_dest *dest);
/* Deterministic branch for stateless forwarding (§16.11): the same incoming
 * request always gets the same one (the ACK of a 2xx, a CANCEL of nothing). */
void proxy_stateless_branch(const struct sip_msg *req, char *out, size_t cap);

/* ---- ctx.c: the response context's lifecycle ---- */
struct proxy_ctx *proxy_ctx_new(struct proxy *p, struct txn_server *st, struct sip_msg *req,
				bool trusted);
void proxy_ctx_hold(struct proxy_ctx *ctx);
/* Drops a hold; frees the context when it has ended and nothing holds it. */
void proxy_ctx_release(struct proxy_ctx *ctx);
/* The context is finished: it leaves its server transaction now and is freed
 * once the outermost callback holding it returns. */
void proxy_ctx_end(struct proxy_ctx *ctx);
/* Every branch done: the next q-value group, or the best final upstream. */
void proxy_ctx_maybe_finish(struct proxy_ctx *ctx);
/* §16.6: starts the location service's targets of the next q-value group
 * (false when none is left). */
bool proxy_ctx_next_group(struct proxy_ctx *ctx);
/* Forwards a response upstream on the server transaction (our Via removed,
 * §16.7 step 9). */
void proxy_ctx_forward_response(struct proxy_ctx *ctx, const struct sip_msg *rsp);
/* A non-INVITE's final is out: nothing more can happen (late responses are
 * absorbed by the transactions), so the context ends now. */
void proxy_ctx_done_early(struct proxy_ctx *ctx);

/* ---- fork.c: the location service's targets (§16.5) ---- */
/* Forks to the targets of the Request-URI's bindings, or answers 480; false
 * when the location service does not own the Request-URI. */
bool proxy_fork_to_bindings(struct proxy_ctx *ctx);

/* ---- select.c: §16.7 steps 6-7 ---- */
/* Records a final response (rsp may be NULL for a locally decided status);
 * returns true when the context took ownership of rsp. */
bool proxy_select_consider(struct proxy_ctx *ctx, struct sip_msg *rsp, int status);
/* Sends the best final response upstream. */
void proxy_select_send_best(struct proxy_ctx *ctx);

/* ---- branch.c: a branch's lifecycle ---- */
/* Starts one branch (target NULL: the request's own plan). */
void proxy_branch_start(struct proxy_ctx *ctx, const struct proxy_target *target);
void proxy_branch_fail(struct proxy_branch *b, int status);
/* A final response ended the branch (its timers stop). */
void proxy_branch_done(struct proxy_branch *b);
/* The current attempt failed before any response (a 503, a timeout as 408,
 * or a transport error as 503 with transport set): the next destination,
 * else the branch fails with status. */
void proxy_attempt_failed(struct proxy_branch *b, int status, bool transport);
void proxy_timer_c_start(struct proxy_branch *b);
/* The branch's INVITE no longer counts as a call on its node. */
void proxy_branch_uncount_call(struct proxy_branch *b);
/* §9.1/§16.10: CANCEL the branch (now, or once it has a provisional). */
void proxy_branch_cancel(struct proxy_branch *b);
void proxy_ctx_cancel_others(struct proxy_ctx *ctx, const struct proxy_branch *keep);

/* ---- overload.c: proxy.overload-ctrl-dialog-rate ---- */
/* May this request start a dialog now? (false: answer 503, counted) */
bool proxy_overload_admit(struct proxy *p, const struct sip_msg *req);

/* ---- uac.c: requests the proxy sends itself ---- */
bool proxy_uac_response(struct proxy_uac *u, const struct sip_msg *rsp);
void proxy_uac_failed(struct proxy_uac *u);

/* ---- event handlers (transaction user, proxy.c's txn_user) ---- */
void proxy_on_request(void *arg, struct txn_server *st, struct sip_msg *req); /* request.c */
void proxy_on_server_gone(void *arg, struct txn_server *st, void *user);      /* request.c */
bool proxy_on_response(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp);
void proxy_on_client_fail(void *arg, struct txn_client *ct, void *user, enum txn_fail why);
void proxy_on_stray_response(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt);
/* cancel.c: a CANCEL for one of our contexts is handled (true); otherwise it
 * is routed like any request (false). */
bool proxy_cancel_matched(struct proxy *p, struct txn_server *st, struct sip_msg *cancel);
void proxy_on_ack(void *arg, struct sip_msg *ack, const struct tp_packet *pkt,
		  bool trusted); /* stateless.c */

#endif
