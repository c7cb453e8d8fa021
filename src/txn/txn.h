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

struct txn_config {
	uint32_t t1_ms; /* default 500 */
	uint32_t t2_ms; /* default 4000 */
	uint32_t t4_ms; /* default 5000 */
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
	void (*on_ack)(void *arg, struct sip_msg *ack, const struct tp_packet *pkt);
	/* A response for a client transaction that the TU has not released
	 * (provisional, final, and in the Accepted state 2xx retransmissions).
	 * Return true to take ownership of rsp (the TU then frees it). */
	bool (*on_response)(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp);
	/* Timer B/F fired or the transport failed before a final response. */
	void (*on_client_fail)(void *arg, struct txn_client *ct, void *user, enum txn_fail why);
	/* A response matching no client transaction (§16.7: forward statelessly
	 * if it is for us). The layer frees rsp after the call. */
	void (*on_stray_response)(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt);
	/* A server transaction is being destroyed; its user pointer is passed. */
	void (*on_server_gone)(void *arg, struct txn_server *st, void *user);
};

struct txn_layer *txn_layer_new(struct event_base *base, struct tp *tp,
				const struct txn_config *cfg, const struct txn_user *tu,
				void *tu_arg);
void txn_layer_free(struct txn_layer *L);

/* Hands a parsed message from the transport to the layer, which takes
 * ownership of msg: matches it to a transaction or calls the TU. */
void txn_layer_receive(struct txn_layer *L, struct sip_msg *msg, const struct tp_packet *pkt);

/* The layer's timer wheel (the TU's own timers, e.g. Timer C, live here too). */
struct timer_wheel *txn_layer_timers(struct txn_layer *L);
void txn_layer_counts(const struct txn_layer *L, size_t *servers, size_t *clients);
const struct txn_config *txn_layer_config(const struct txn_layer *L);
/* The transport's tp_conn_closed_fn owner forwards closures here: client
 * transactions waiting on that stream fail with TXN_FAIL_TRANSPORT (reported
 * from a zero-delay timer). */
void txn_layer_conn_closed(struct txn_layer *L, uint64_t conn_id, int err);
/* Call after starting a timer in txn_layer_timers() outside any txn callback,
 * so the loop wakes for it (otherwise it fires within 200 ms of its expiry). */
void txn_layer_timers_changed(struct txn_layer *L);
/* sizeof the transaction structures (for memory reports). */
size_t txn_server_struct_size(void);
size_t txn_client_struct_size(void);

/* ---- server transactions ---- */
struct sip_msg *txn_server_request(const struct txn_server *st);
/* Where the request came from (for trust decisions and rport/received). */
const struct tp_packet *txn_server_source(const struct txn_server *st); /* buf/len NULL */
void txn_server_set_user(struct txn_server *st, void *user);
void *txn_server_user(const struct txn_server *st);
/* Sends a response (status parsed by the caller) per §18.2.2: over the
 * request's connection, else to received/rport of the top Via. The layer keeps
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
				   enum sip_method method, struct str branch, char *buf,
				   size_t len, void *user);
/* The TU is no longer interested: no more callbacks; the transaction still
 * runs to completion (absorbing retransmissions, ACKing non-2xx). A client
 * transaction's memory is freed only once it has terminated AND been
 * released, so the TU's pointer stays valid until it calls this (every
 * txn_client_send must be paired with one txn_client_release). */
void txn_client_release(struct txn_client *ct);
void txn_client_set_user(struct txn_client *ct, void *user);
/* The bytes sent (e.g. to build CANCEL or to parse the request we sent). */
const char *txn_client_request(const struct txn_client *ct, size_t *len);
const struct tp_dest *txn_client_dest(const struct txn_client *ct);
/* Highest status received so far (0 none). */
int txn_client_status(const struct txn_client *ct);

#endif
