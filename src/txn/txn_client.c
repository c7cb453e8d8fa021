/* txn_client.c — client transactions, RFC 3261 §17.1 with RFC 6026: the INVITE
 * machine (Calling with Timers A/B, Proceeding, Completed with the ACK for a
 * non-2xx and Timer D, Accepted with Timer M) and the non-INVITE machine
 * (Trying/Proceeding with Timers E/F, Completed with Timer K). Transport errors
 * reach the TU from a zero-delay timer, never from inside txn_client_send. */
#include <stdlib.h>

#include "sip/build.h"
#include "txn/txn_internal.h"
#include "util/log.h"

#define TXN_TIMER_D_MS 32000 /* §17.1.1.2: at least 32 s on unreliable transports */

static bool awaiting_final(const struct txn_client *ct)
{
	return ct->state == TXN_S_CALLING || ct->state == TXN_S_TRYING ||
	       ct->state == TXN_S_PROCEEDING;
}

static uint32_t conn_hash(uint64_t id)
{
	return (uint32_t)(id * 0x9E3779B97F4A7C15ull >> 32);
}

static void leave_conns(struct txn_client *ct)
{
	if (ct->in_conns) {
		txn_table_remove(&ct->L->conns, &ct->cnode);
		ct->in_conns = false;
	}
}

void txn_client_destroy(struct txn_client *ct)
{
	struct txn_layer *L = ct->L;
	timer_stop(L->wheel, &ct->t_retx);
	timer_stop(L->wheel, &ct->t_end);
	leave_conns(ct);
	if (ct->in_table) {
		txn_table_remove(&L->clients, &ct->node);
		ct->in_table = false;
		L->n_clients--;
	}
	free(ct->buf);
	free(ct->ack);
	free(ct);
}

/* Leaves the tables; the memory stays until the TU has released it, so a
 * pointer the TU still holds is never left dangling. */
static void client_terminate(struct txn_client *ct)
{
	struct txn_layer *L = ct->L;
	ct->state = TXN_S_TERMINATED;
	timer_stop(L->wheel, &ct->t_retx);
	timer_stop(L->wheel, &ct->t_end);
	leave_conns(ct);
	if (ct->in_table) {
		txn_table_remove(&L->clients, &ct->node);
		ct->in_table = false;
		L->n_clients--;
	}
	if (ct->released && !ct->busy)
		txn_client_destroy(ct);
}

static void client_fail(struct txn_client *ct, enum txn_fail why)
{
	struct txn_layer *L = ct->L;
	LOG_DEBUG("txn_client_fail", "branch=%.*s why=%s", (int)ct->branch_len, ct->branch,
		  why == TXN_FAIL_TIMEOUT ? "timeout" : "transport");
	ct->busy = true;
	client_terminate(ct);
	if (!ct->released && L->tu.on_client_fail)
		L->tu.on_client_fail(L->tu_arg, ct, ct->user, why);
	ct->busy = false;
	if (ct->released)
		txn_client_destroy(ct);
}

static void client_transport_fired(struct timer *t)
{
	struct txn_client *ct = container_of(t, struct txn_client, t_end);
	client_fail(ct, TXN_FAIL_TRANSPORT);
}

/* §17.1.1.2 / §17.1.2.2: a transport error before a final response is
 * reported as such, from the wheel so the TU is never re-entered. */
static void client_schedule_transport_fail(struct txn_client *ct)
{
	timer_stop(ct->L->wheel, &ct->t_retx);
	timer_start(ct->L->wheel, &ct->t_end, 0, client_transport_fired);
}

static int client_send_bytes(struct txn_client *ct, const char *buf, size_t len)
{
	int64_t r = tp_send(ct->L->tp, &ct->dest, buf, len);
	if (r < 0) {
		char a[64];
		LOG_INFO("txn_send_failed", "peer=%s err=%d",
			 tp_addr_str(&ct->dest.addr, a, sizeof(a)), (int)-r);
		return (int)r;
	}
	if (r > 0 && (uint64_t)r != ct->dest.conn_id) {
		/* Stream: remember the connection so its closing fails us early
		 * and the ACK/CANCEL follow the same path (§17.1.1.3, §9.1). */
		leave_conns(ct);
		ct->dest.conn_id = (uint64_t)r;
		if (awaiting_final(ct) &&
		    txn_table_insert(&ct->L->conns, &ct->cnode, conn_hash(ct->dest.conn_id)) == 0)
			ct->in_conns = true;
	}
	return 0;
}

/* Timers B and F: no final response in time. */
static void client_timeout_fired(struct timer *t)
{
	struct txn_client *ct = container_of(t, struct txn_client, t_end);
	client_fail(ct, TXN_FAIL_TIMEOUT);
}

/* Timers D, K and M: the wait for retransmissions is over. */
static void client_end_fired(struct timer *t)
{
	client_terminate(container_of(t, struct txn_client, t_end));
}

/* RFC 3261 §9.1: an INVITE the TU gave up on (Timer C, or no final 64*T1
 * after its CANCEL) must not wait in Proceeding forever, where no timer of
 * ours runs (§17.1.1.2: Timer B guards Calling only). It still ACKs a final
 * arriving within another 64*T1, then ends. */
static void client_guard_abandoned(struct txn_client *ct)
{
	if (ct->released && ct->method == SIP_METHOD_INVITE && ct->state == TXN_S_PROCEEDING &&
	    !timer_pending(&ct->t_end))
		timer_start(ct->L->wheel, &ct->t_end, txn_64t1(ct->L), client_end_fired);
}

/* Timer A (§17.1.1.2, doubling without bound) and Timer E (§17.1.2.2,
 * doubling up to T2, and T2 once in Proceeding). */
static void client_retx_fired(struct timer *t)
{
	struct txn_client *ct = container_of(t, struct txn_client, t_retx);
	struct txn_layer *L = ct->L;
	if (!awaiting_final(ct))
		return;
	if (client_send_bytes(ct, ct->buf, ct->len) < 0) {
		client_schedule_transport_fail(ct);
		return;
	}
	uint64_t next = 2ull * ct->retx_ms;
	if (ct->method != SIP_METHOD_INVITE) {
		uint64_t t2 = txn_t2(L);
		if (ct->state == TXN_S_PROCEEDING || next > t2)
			next = t2;
	}
	ct->retx_ms = next > UINT32_MAX ? UINT32_MAX : (uint32_t)next;
	timer_start(L->wheel, &ct->t_retx, ct->retx_ms, client_retx_fired);
}

struct txn_client *txn_client_send(struct txn_layer *L, const struct tp_dest *dest,
				   enum sip_method method, struct str branch, char *buf, size_t len,
				   void *user)
{
	struct txn_client *ct = calloc(1, sizeof(*ct) + branch.len + 1);
	if (!ct) {
		free(buf);
		return NULL;
	}
	ct->L = L;
	ct->buf = buf;
	ct->len = len;
	ct->user = user;
	ct->method = (uint8_t)method;
	ct->dest = *dest;
	ct->branch_len = branch.len;
	if (branch.len)
		memcpy(ct->branch, branch.p, branch.len);
	ct->state = method == SIP_METHOD_INVITE ? TXN_S_CALLING : TXN_S_TRYING;
	/* The TU may call us long after the loop woke (e.g. from a resolver
	 * callback): measure Timers A/B/E/F from the real now. */
	timer_wheel_set_now(L->wheel, txn_layer_now(L));
	timer_init(&ct->t_retx);
	timer_init(&ct->t_end);
	if (txn_table_insert(&L->clients, &ct->node,
			     txn_client_hash(str_make(ct->branch, ct->branch_len))) < 0) {
		free(buf);
		free(ct);
		return NULL;
	}
	ct->in_table = true;
	L->n_clients++;

	if (client_send_bytes(ct, buf, len) < 0) {
		client_schedule_transport_fail(ct);
	} else {
		if (!tp_proto_is_stream(dest->proto)) {
			ct->retx_ms = (uint32_t)txn_t1(L);
			timer_start(L->wheel, &ct->t_retx, ct->retx_ms, client_retx_fired);
		}
		timer_start(L->wheel, &ct->t_end, txn_64t1(L), client_timeout_fired);
	}
	return ct;
}

/* §17.1.1.3: the ACK for a non-2xx final, built from the INVITE we sent. */
static void client_send_ack(struct txn_client *ct, const struct sip_msg *rsp)
{
	if (!ct->ack) {
		struct sip_msg *sent = sip_msg_new(ct->buf, ct->len);
		struct sip_limits lim = SIP_LIMITS_DEFAULT;
		size_t cap = ct->len + 1024;
		char *out = malloc(cap);
		size_t n = 0;
		if (sent && out && sip_msg_parse(sent, &lim) == 0)
			n = sip_build_ack(sent, rsp, out, cap);
		sip_msg_free(sent);
		if (!n) {
			free(out);
			LOG_WARN("txn_ack_failed", "branch=%.*s", (int)ct->branch_len, ct->branch);
			return;
		}
		ct->ack = out;
		ct->ack_len = n;
	}
	client_send_bytes(ct, ct->ack, ct->ack_len);
}

/* Hands rsp to the TU unless it released us; frees it unless the TU took it. */
static void client_deliver(struct txn_client *ct, struct sip_msg *rsp)
{
	struct txn_layer *L = ct->L;
	bool kept = false;
	if (!ct->released && L->tu.on_response) {
		ct->busy = true;
		kept = L->tu.on_response(L->tu_arg, ct, ct->user, rsp);
		ct->busy = false;
	}
	if (!kept)
		sip_msg_free(rsp);
	if (ct->released && ct->state == TXN_S_TERMINATED)
		txn_client_destroy(ct);
}

static void client_invite_response(struct txn_client *ct, struct sip_msg *rsp)
{
	struct txn_layer *L = ct->L;
	int status = rsp->status;
	if (awaiting_final(ct)) {
		timer_stop(L->wheel, &ct->t_retx);
		if (status < 200) {
			/* §17.1.1.2: Proceeding; Timer B only guards Calling (the
			 * proxy's Timer C takes over, and once the TU has let go,
			 * client_guard_abandoned's end timer). */
			ct->state = TXN_S_PROCEEDING;
			if (!ct->released)
				timer_stop(L->wheel, &ct->t_end);
			client_guard_abandoned(ct);
		} else if (status < 300) {
			/* RFC 6026 §8.4: Accepted, Timer M = 64*T1. */
			ct->state = TXN_S_ACCEPTED;
			leave_conns(ct);
			timer_start(L->wheel, &ct->t_end, txn_64t1(L), client_end_fired);
		} else {
			ct->state = TXN_S_COMPLETED;
			leave_conns(ct);
			client_send_ack(ct, rsp);
			timer_start(L->wheel, &ct->t_end,
				    tp_proto_is_stream(ct->dest.proto) ? 0 : TXN_TIMER_D_MS,
				    client_end_fired);
		}
		client_deliver(ct, rsp);
		return;
	}
	if (ct->state == TXN_S_ACCEPTED && status >= 200 && status < 300) {
		client_deliver(ct, rsp); /* RFC 6026: every 2xx goes up */
		return;
	}
	if (ct->state == TXN_S_COMPLETED && status >= 300)
		client_send_ack(ct, rsp); /* §17.1.1.2: retransmitted final */
	sip_msg_free(rsp);
}

static void client_non_invite_response(struct txn_client *ct, struct sip_msg *rsp)
{
	struct txn_layer *L = ct->L;
	if (!awaiting_final(ct)) {
		sip_msg_free(rsp); /* §17.1.2.2: Completed absorbs retransmissions */
		return;
	}
	if (rsp->status < 200) {
		ct->state = TXN_S_PROCEEDING;
	} else {
		ct->state = TXN_S_COMPLETED;
		leave_conns(ct);
		timer_stop(L->wheel, &ct->t_retx);
		timer_start(L->wheel, &ct->t_end,
			    tp_proto_is_stream(ct->dest.proto) ? 0 : txn_t4(L), client_end_fired);
	}
	client_deliver(ct, rsp);
}

/* A response is the peer's only if it comes from the host the request went
 * to: over the request's own connection, or from the destination's IP (a
 * server may answer from another port, or over a new connection). */
static bool client_from_peer(const struct txn_client *ct, const struct tp_packet *pkt)
{
	if (ct->dest.conn_id && pkt->conn_id == ct->dest.conn_id)
		return true;
	return ct->dest.addr.sa.sa_family != AF_UNSPEC &&
	       tp_addr_same_ip(&ct->dest.addr, &pkt->src);
}

void txn_client_receive(struct txn_layer *L, struct sip_msg *rsp, const struct tp_packet *pkt)
{
	struct txn_client *ct = NULL;
	if (rsp->status >= 100 && rsp->status <= 699)
		ct = txn_client_lookup(L, rsp->via->branch, rsp->cseq_method);
	if (ct && !client_from_peer(ct, pkt)) {
		char a[64];
		LOG_INFO("response_wrong_source", "peer=%s status=%d branch=%.*s",
			 tp_addr_str(&pkt->src, a, sizeof(a)), rsp->status,
			 STR_FMT(rsp->via->branch));
		ct = NULL;
	}
	if (!ct) {
		if (L->tu.on_stray_response)
			L->tu.on_stray_response(L->tu_arg, rsp, pkt);
		sip_msg_free(rsp);
		return;
	}
	if (rsp->status > ct->status)
		ct->status = rsp->status;
	if (ct->method == SIP_METHOD_INVITE)
		client_invite_response(ct, rsp);
	else
		client_non_invite_response(ct, rsp);
}

struct conn_probe {
	uint64_t id;
};

static bool conn_match(const struct txn_hnode *n, const void *arg)
{
	const struct txn_client *ct = container_of(n, struct txn_client, cnode);
	return ct->dest.conn_id == ((const struct conn_probe *)arg)->id;
}

/* §17.1.4: the stream carrying the request died before a final response. */
void txn_client_conn_closed(struct txn_layer *L, uint64_t conn_id)
{
	struct conn_probe p = {conn_id};
	struct txn_hnode *n;
	while ((n = txn_table_find(&L->conns, conn_hash(conn_id), conn_match, &p)) != NULL) {
		struct txn_client *ct = container_of(n, struct txn_client, cnode);
		leave_conns(ct);
		if (awaiting_final(ct))
			client_schedule_transport_fail(ct);
	}
}

void txn_client_release(struct txn_client *ct)
{
	if (!ct)
		return;
	ct->released = true;
	ct->user = NULL;
	if (ct->state == TXN_S_TERMINATED && !ct->busy)
		txn_client_destroy(ct);
	else
		client_guard_abandoned(ct);
}

bool txn_client_is_live(const struct txn_client *ct)
{
	return !ct->abandoned && awaiting_final(ct);
}

void txn_client_abandon(struct txn_client *ct)
{
	if (!ct)
		return;
	ct->abandoned = true;
	if (ct->state == TXN_S_CALLING || ct->state == TXN_S_TRYING)
		timer_stop(ct->L->wheel, &ct->t_retx); /* nobody waits for its answer */
	txn_client_release(ct);
}

void txn_client_set_user(struct txn_client *ct, void *user)
{
	ct->user = user;
}

const char *txn_client_request(const struct txn_client *ct, size_t *len)
{
	if (len)
		*len = ct->len;
	return ct->buf;
}

const struct tp_dest *txn_client_dest(const struct txn_client *ct)
{
	return &ct->dest;
}

int txn_client_status(const struct txn_client *ct)
{
	return ct->status;
}
