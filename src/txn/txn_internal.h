/* txn_internal.h — private structures shared by the transaction layer's files:
 * the layer, server and client transactions, the chained hash table with
 * incremental growth, and the helpers each file exports to the others.
 * Not for use outside src/txn/. */
#ifndef SIPPROXY_TXN_TXN_INTERNAL_H
#define SIPPROXY_TXN_TXN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "txn/txn.h"

struct event;

/* ---- hash table (txn_table.c) ---- */
struct txn_hnode {
	struct txn_hnode *next;
	uint32_t hash;
};

/* Chained hashing; growth moves a few buckets per operation (as Redis'
 * dict does) so no single packet pays for rehashing 100,000 entries. */
struct txn_table {
	struct txn_hnode **b[2];
	size_t size[2]; /* power of two, 0 = unused */
	size_t used;
	size_t rehash; /* next bucket of b[0] to move while b[1] is in use */
};

typedef bool (*txn_match_fn)(const struct txn_hnode *n, const void *arg);

void txn_table_init(struct txn_table *t);
void txn_table_free(struct txn_table *t);
int txn_table_insert(struct txn_table *t, struct txn_hnode *n, uint32_t hash);
void txn_table_remove(struct txn_table *t, struct txn_hnode *n);
struct txn_hnode *txn_table_find(struct txn_table *t, uint32_t hash, txn_match_fn fn,
				 const void *arg);
/* Some node, scanning forward from *cursor (start at 0); NULL when empty. Only
 * for emptying a table: nodes must be removed as they are returned. */
struct txn_hnode *txn_table_any(struct txn_table *t, size_t *cursor);
/* The sum of fn over every node (a read-only walk). */
size_t txn_table_sum(const struct txn_table *t, size_t (*fn)(const struct txn_hnode *n));

/* ---- states ---- */
enum txn_state {
	TXN_S_TRYING = 0, /* non-INVITE server before any response; client non-INVITE */
	TXN_S_CALLING,	  /* INVITE client */
	TXN_S_PROCEEDING,
	TXN_S_COMPLETED,
	TXN_S_CONFIRMED, /* INVITE server */
	TXN_S_ACCEPTED,	 /* RFC 6026 */
	TXN_S_TERMINATED,
};

struct txn_layer {
	struct event_base *base;
	struct tp *tp;
	struct txn_config cfg;
	struct txn_user tu;
	void *tu_arg;
	struct timer_wheel *wheel;
	struct event *ev; /* the one libevent timer driving the wheel */
	struct txn_table servers;
	struct txn_table clients;
	struct txn_table conns; /* stream clients awaiting a final, by conn_id */
	size_t n_servers, n_clients;
	bool freeing;
};

struct txn_server {
	struct txn_hnode node;
	struct txn_layer *L;
	struct sip_msg *req;
	char *last; /* last response sent (for retransmission) */
	size_t last_len;
	struct str to_tag; /* RFC 2543 INVITE: To tag of our final (malloc'd) */
	void *user;
	struct timer t_retx; /* G */
	struct timer t_end;  /* H, I, J, L */
	uint32_t retx_ms;
	int status;
	uint8_t state;
	uint8_t key_method; /* enum sip_method; ACK stored as INVITE */
	bool cookie;	    /* RFC 3261 branch (else RFC 2543 matching) */
	bool reliable;
	bool trusted;	      /* sent by a configured peer (its Via maddr counts) */
	struct tp_packet src; /* buf/len NULL */
};

struct txn_client {
	struct txn_hnode node;
	struct txn_hnode cnode; /* in L->conns while waiting on a stream */
	struct txn_layer *L;
	char *buf;
	size_t len;
	char *ack; /* ACK for a non-2xx final (§17.1.1.3) */
	size_t ack_len;
	void *user;
	struct timer t_retx; /* A, E */
	struct timer t_end;  /* B, F, D, K, M, and zero-delay transport failure */
	uint32_t retx_ms;
	int status;
	uint8_t state;
	uint8_t method;
	bool released;
	bool abandoned; /* released by a TU that waits for nobody: holds no drain */
	bool busy;	/* inside a TU callback: release must not free */
	bool in_conns;
	bool in_table;
	struct tp_dest dest;
	size_t branch_len;
	char branch[];
};

/* ---- txn_match.c ---- */
bool txn_branch_is_cookie(struct str branch);
uint32_t txn_server_hash(const struct sip_msg *m);
/* Finds the server transaction msg belongs to; method is the transaction's
 * method to look for (INVITE for an ACK or for a CANCEL's INVITE). */
struct txn_server *txn_server_lookup(struct txn_layer *L, const struct sip_msg *m,
				     enum sip_method method);
uint32_t txn_client_hash(struct str branch);
struct txn_client *txn_client_lookup(struct txn_layer *L, struct str branch,
				     enum sip_method method);

/* ---- txn_server.c ---- */
void txn_server_receive(struct txn_layer *L, struct sip_msg *msg, const struct tp_packet *pkt,
			bool trusted);
void txn_server_destroy(struct txn_server *st);

/* ---- txn_client.c ---- */
void txn_client_receive(struct txn_layer *L, struct sip_msg *rsp, const struct tp_packet *pkt);
void txn_client_conn_closed(struct txn_layer *L, uint64_t conn_id);
void txn_client_destroy(struct txn_client *ct);

/* RFC 3261 §17.1.1.1 timer values (Table 4 of Appendix A). */
/* Can this transaction still send a message of its own (a request or its
 * retransmission, a final response not yet sent or still being retransmitted
 * until ACKed)? Those only absorbing retransmissions cannot (drain). */
bool txn_server_is_live(const struct txn_server *st);
bool txn_client_is_live(const struct txn_client *ct);

static inline uint64_t txn_t1(const struct txn_layer *L)
{
	return L->cfg.t1_ms;
}
static inline uint64_t txn_t2(const struct txn_layer *L)
{
	return L->cfg.t2_ms;
}
static inline uint64_t txn_t4(const struct txn_layer *L)
{
	return L->cfg.t4_ms;
}
/* Timers B, F, H, J (unreliable) and RFC 6026 L, M. */
static inline uint64_t txn_64t1(const struct txn_layer *L)
{
	return 64ull * L->cfg.t1_ms;
}

#endif
