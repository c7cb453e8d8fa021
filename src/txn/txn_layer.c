/* txn_layer.c — the transaction layer object (RFC 3261 §17): its tables, the
 * timer wheel driven by one libevent timer armed at the next expiry (the wheel
 * says when a new timer needs an earlier wake-up), the layer's clock, dispatch
 * of received messages to the server (§17.2.3) or client (§17.1.3) side, and
 * teardown. One layer per event loop; nothing here is global. */
#include <event2/event.h>
#include <stdlib.h>

#include "txn/txn_internal.h"
#include "util/log.h"

#define TXN_TICK_MS 10

uint64_t txn_layer_now(const struct txn_layer *L)
{
	return L->cfg.now_ms ? L->cfg.now_ms(L->cfg.clock_arg) : time_now_ms();
}

/* Arms the libevent timer for the wheel's next expiry. */
static void txn_layer_rearm(void *arg)
{
	struct txn_layer *L = arg;
	if (L->freeing || !L->ev)
		return;
	uint64_t d = timer_wheel_next_delay(L->wheel);
	if (d == UINT64_MAX) {
		evtimer_del(L->ev);
		return;
	}
	struct timeval tv = {(time_t)(d / 1000), (suseconds_t)((d % 1000) * 1000)};
	evtimer_add(L->ev, &tv);
}

void txn_layer_run_timers(struct txn_layer *L)
{
	timer_wheel_advance(L->wheel, txn_layer_now(L));
	txn_layer_rearm(L);
}

static void txn_layer_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	txn_layer_run_timers(arg);
}

struct txn_layer *txn_layer_new(struct event_base *base, struct tp *tp,
				const struct txn_config *cfg, const struct txn_user *tu,
				void *tu_arg)
{
	if (!cfg || !cfg->t1_ms || !cfg->t2_ms || !cfg->t4_ms)
		return NULL;
	struct txn_layer *L = calloc(1, sizeof(*L));
	if (!L)
		return NULL;
	L->base = base;
	L->tp = tp;
	L->cfg = *cfg;
	if (tu)
		L->tu = *tu;
	L->tu_arg = tu_arg;
	txn_table_init(&L->servers);
	txn_table_init(&L->clients);
	txn_table_init(&L->conns);
	L->wheel = timer_wheel_new(txn_layer_now(L), TXN_TICK_MS);
	if (base)
		L->ev = evtimer_new(base, txn_layer_tick, L);
	if (!L->wheel || (base && !L->ev)) {
		txn_layer_free(L);
		return NULL;
	}
	timer_wheel_set_notify(L->wheel, txn_layer_rearm, L);
	return L;
}

void txn_layer_free(struct txn_layer *L)
{
	if (!L)
		return;
	L->freeing = true;
	if (L->ev)
		event_free(L->ev);
	L->ev = NULL;
	struct txn_hnode *n;
	size_t cur = 0;
	while ((n = txn_table_any(&L->servers, &cur)) != NULL)
		txn_server_destroy(container_of(n, struct txn_server, node));
	cur = 0;
	while ((n = txn_table_any(&L->clients, &cur)) != NULL) {
		struct txn_client *ct = container_of(n, struct txn_client, node);
		ct->released = true; /* the TU is going away with us */
		txn_client_destroy(ct);
	}
	txn_table_free(&L->servers);
	txn_table_free(&L->clients);
	txn_table_free(&L->conns);
	timer_wheel_free(L->wheel);
	free(L);
}

void txn_layer_receive(struct txn_layer *L, struct sip_msg *msg, const struct tp_packet *pkt,
		       bool trusted)
{
	if (!msg)
		return;
	/* Timers are measured from the wheel's clock: bring it to now first. */
	timer_wheel_advance(L->wheel, txn_layer_now(L));
	if (!msg->via || !msg->via->host.len) {
		/* §8.1.3.3 / §8.2.1: no usable Via, no transaction to match. */
		LOG_DEBUG("txn_drop", "reason=no_via");
		sip_msg_free(msg);
	} else if (msg->is_request) {
		txn_server_receive(L, msg, pkt, trusted);
	} else {
		txn_client_receive(L, msg, pkt);
	}
	txn_layer_rearm(L);
}

void txn_layer_conn_closed(struct txn_layer *L, uint64_t conn_id, int err)
{
	(void)err;
	if (!L || !conn_id)
		return;
	txn_client_conn_closed(L, conn_id);
}

struct timer_wheel *txn_layer_timers(struct txn_layer *L)
{
	return L->wheel;
}

void txn_layer_counts(const struct txn_layer *L, size_t *servers, size_t *clients)
{
	if (servers)
		*servers = L->n_servers;
	if (clients)
		*clients = L->n_clients;
}

static size_t count_live_server(const struct txn_hnode *n)
{
	return txn_server_is_live(container_of(n, struct txn_server, node));
}

static size_t count_live_client(const struct txn_hnode *n)
{
	return txn_client_is_live(container_of(n, struct txn_client, node));
}

size_t txn_layer_live(const struct txn_layer *L)
{
	return txn_table_sum(&L->servers, count_live_server) +
	       txn_table_sum(&L->clients, count_live_client);
}

const struct txn_config *txn_layer_config(const struct txn_layer *L)
{
	return &L->cfg;
}

size_t txn_server_struct_size(void)
{
	return sizeof(struct txn_server);
}

size_t txn_client_struct_size(void)
{
	return sizeof(struct txn_client);
}
