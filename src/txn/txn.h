/* txn.h — RFC 3261 §17 transactions (with the RFC 6026 Accepted states):
 * client and server, INVITE and non-INVITE, every timer A–K/L/M, matching
 * (§17.1.3, §17.2.3, and the RFC 2543 rules when a branch lacks the magic
 * cookie), retransmission absorption and 100 Trying for INVITE.
 *
 * One struct txn_layer per event loop owns its tables and timer wheel; nothing
 * is global, so a later change can run one loop (and one layer) per core. The
 * transaction user (the proxy core) is called back through struct txn_user. */
#ifndef SIPPROXY_TXN_TXN_H
#define SIPPROXY_TXN_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"
#include "transport/transport.h"
#include "util/timer_wheel.h"

struct event_base;

/* Values come from the option table (sip.t1, sip.t2, sip.t4); none may be 0. */
struct txn_config {
	uint32_t t1_ms;
	uint32_t t2_ms;
	uint32_t t4_ms;
	/* The layer's clock in ms (monotonic); NULL = time_now_ms(). Tests and
	 * the whole-proxy fuzzer pass a virtual clock and call
	 * txn_layer_run_timers() after moving it. */
	uint64_t (*now_ms)(void *arg);
	void *clock_arg;
};

struct txn_layer;
struct txn_server;
struct txn_client;

enum txn_fail { TXN_FAIL_TIMEOUT = 1, TXN_FAIL_TRANSPORT = 2 };

/* Callbacks into the transaction user. msg pointers are valid during the call
 * only unless the call says the TU owns it. */
struct txn_user {
	/* A request (not ACK) that matched no server transaction. A server
	 * transaction has been created for it (for INVITE, 100 Trying already
	 * sent); it owns req. The TU must answer with txn_server_reply(). */
	void (*on_request)(void *arg, struct txn_server *st, struct sip_msg *req);
	/* An ACK that matched no INVITE server transaction (ACK for a 2xx, §17.2.3
	 * and RFC 6026), to be handled statelessly. The TU owns ack. */
	void (*on_ack)(void *arg, struct sip_msg *ack, const struct tp_packet *pkt, bool trusted);
	/* A response for a client transaction that the TU has not released
	 * (provisional, final, and in the Accepted state 2xx retransmissions).
	 * Only a response from the host the request went to is delivered
	 * (RFC 3261 §18.1.2 matching by branch alone would let anyone who
	 * learns a branch answer for the peer). Return true to take ownership
	 * of rsp (the TU then frees it). */
	bool (*on_response)(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp);
	/* Timer B/F fired or the transport failed before a final response. */
	void (*on_client_fail)(void *arg, struct txn_client *ct, void *user, enum txn_fail why);
	/* A response matching no client transaction (or from the wrong host):
	 * for the TU to count and drop (RFC 6026 §7.3: a stateful proxy forwards
	 * no response it has no transaction for). The layer frees rsp after. */
	void (*on_stray_response)(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt);
	/* A server transaction is being destroyed; its user pointer is passed. */
	void (*on_server_gone)(void *arg, struct txn_server *st, void *user);
};

struct txn_layer *txn_layer_new(struct event_base *base, struct tp *tp,
				const struct txn_config *cfg, const struct txn_user *tu,
				void *tu_arg);
void txn_layer_free(struct txn_layer *L);

/* Hands a parsed message from the transport to the layer, which takes
 * ownership of msg: matches it to a transaction or calls the TU. trusted: the
 * sender is a configured peer (a request's responses may then follow its Via
 * maddr; an untrusted sender's go only back to where it sent from). */
void txn_layer_receive(struct txn_layer *L, struct sip_msg *msg, const struct tp_packet *pkt,
		       bool trusted);

/* The layer's timer wheel (the TU's own timers, e.g. Timer C, live here too).
 * Starting a timer in it re-arms the loop's wake-up by itself. */
struct timer_wheel *txn_layer_timers(struct txn_layer *L);
/* Fires every timer due by the layer's clock (the event loop does this by
 * itself; for a virtual clock, call it after moving the clock). */
void txn_layer_run_timers(struct txn_layer *L);
/* The layer's clock, ms. */
uint64_t txn_layer_now(const struct txn_layer *L);
void txn_layer_counts(const struct txn_layer *L, size_t *servers, size_t *clients);
/* Transactions that can still send a message upstream or downstream (not
 * those only waiting out Timers D, I, J, K, L, M to absorb retransmissions):
 * a draining proxy may exit when this is 0. Walks the tables. */
size_t txn_layer_live(const struct txn_layer *L);
const struct txn_config *txn_layer_config(const struct txn_layer *L);
/* The transport's tp_conn_closed_fn owner forwards closures here: client
 * transactions waiting on that stream fail with TXN_FAIL_TRANSPORT (reported
 * from a zero-delay timer). */
void txn_layer_conn_closed(struct txn_layer *L, uint64_t conn_id, int err);
/* sizeof the transaction structures (for memory reports). */
size_t txn_server_struct_size(void);
size_t txn_client_struct_size(void);

/* RFC 3261 §18.2.2 with RFC 3581 and the trust rule — where a response to a
 * request whose top Via is v, received as src, goes. The one place this rule
 * is written. Streams: the request's connection while it is open, else a new
 * connection to the source IP at the Via's port. Datagrams: always the source
 * IP (§18.2.1 records it in "received" whenever it differs from sent-by; a
 * "received" the sender wrote itself is ignored), at the source port when the
 * Via has rport (RFC 3581 §4; a value the sender put in rport is ignored), else
 * at the Via's port. A maddr (§18.2.2) is followed only when trusted and
 * numeric. v may be NULL (an unparseable Via): back to the source. */
void txn_response_dest(const struct sip_via *v, const struct tp_packet *src, bool trusted,
		       struct tp *tp, struct tp_dest *out);

/* ---- server transactions ---- */
struct sip_msg *txn_server_request(const struct txn_server *st);
/* Where the request came from (for trust decisions and rport/received). */
const struct tp_packet *txn_server_source(const struct txn_server *st); /* buf/len NULL */
bool txn_server_trusted(const struct txn_server *st);
void txn_server_set_user(struct txn_server *st, void *user);
void *txn_server_user(const struct txn_server *st);
/* Sends a response (status parsed by the caller) to txn_response_dest() of
 * the request. The layer keeps
 * a copy for retransmission. A 2xx to INVITE moves it to Accepted (RFC 6026),
 * where further 2xx may still be sent. Returns 0 or -errno. */
int txn_server_reply(struct txn_server *st, int status, const char *buf, size_t len);
/* Highest status sent so far (0 none, 100 after the automatic Trying). */
int txn_server_status(const struct txn_server *st);
/* The INVITE server transaction a CANCEL refers to (§9.2), or NULL. */
struct txn_server *txn_server_find_invite(struct txn_layer *L, const struct sip_msg *cancel,
					  const struct tp_packet *pkt);

/* ---- client transactions ---- */
/* Starts a client transaction: sends buf (malloc'd, ownership passes to the
 * layer) to dest and retransmits per Timer A/E until answered. branch is the
 * one in buf's top Via (copied). Never calls the TU before returning; a send
 * failure is reported later through on_client_fail. NULL only on OOM. */
struct txn_client *txn_client_send(struct txn_layer *L, const struct tp_dest *dest,
				   enum sip_method method, struct str branch, char *buf, size_t len,
				   void *user);
/* The TU is no longer interested: no more callbacks; the transaction still
 * runs to completion (absorbing retransmissions, ACKing non-2xx). A client
 * transaction's memory is freed only once it has terminated AND been
 * released, so the TU's pointer stays valid until it calls this (every
 * txn_client_send must be paired with one txn_client_release). */
void txn_client_release(struct txn_client *ct);
/* The TU gave up on the request and waits for nobody (an OPTIONS probe past
 * its time; a branch's attempt unanswered within the no-response timeout, or
 * at Timer C before any provisional: §16.8, "as if a 408 had come"). Released,
 * it holds no drain (txn_layer_live); one that has had no response at all is
 * not retransmitted any more, so a member that comes back later never gets a
 * request already sent elsewhere (a late answer is still absorbed, a non-2xx
 * ACKed, until Timer B/F ends it). */
void txn_client_abandon(struct txn_client *ct);
void txn_client_set_user(struct txn_client *ct, void *user);
/* The bytes sent (e.g. to build CANCEL or to parse the request we sent). */
const char *txn_client_request(const struct txn_client *ct, size_t *len);
const struct tp_dest *txn_client_dest(const struct txn_client *ct);
/* Highest status received so far (0 none). */
int txn_client_status(const struct txn_client *ct);

#endif
