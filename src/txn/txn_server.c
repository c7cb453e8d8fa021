/* txn_server.c — server transactions, RFC 3261 §17.2 with RFC 6026: the INVITE
 * machine (Proceeding, Completed with Timers G/H, Confirmed with Timer I,
 * Accepted with Timer L) and the non-INVITE machine (Trying, Proceeding,
 * Completed with Timer J); 100 Trying at once for INVITE (§17.2.1); absorption
 * of retransmitted requests, answered with the last response sent. */
#include <errno.h>
#include <stdlib.h>

#include "sip/build.h"
#include "txn/txn_internal.h"
#include "util/log.h"

static bool is_invite(const struct txn_server *st)
{
	return st->key_method == SIP_METHOD_INVITE;
}

static struct txn_server *from_retx(struct timer *t)
{
	return container_of(t, struct txn_server, t_retx);
}

static struct txn_server *from_end(struct timer *t)
{
	return container_of(t, struct txn_server, t_end);
}

/* Sends the stored last response again (per §18.2.2 each time, as the
 * request's connection may have closed meanwhile). */
static int server_send_last(struct txn_server *st)
{
	if (!st->last)
		return 0;
	struct tp_dest d;
	txn_response_dest(st->req->via, &st->src, st->trusted, st->L->tp, &d);
	int64_t r = tp_send(st->L->tp, &d, st->last, st->last_len);
	if (r < 0) {
		char a[64];
		LOG_WARN("txn_send_failed", "peer=%s err=%d", tp_addr_str(&d.addr, a, sizeof(a)),
			 (int)-r);
		return (int)r;
	}
	return 0;
}

void txn_server_destroy(struct txn_server *st)
{
	struct txn_layer *L = st->L;
	timer_stop(L->wheel, &st->t_retx);
	timer_stop(L->wheel, &st->t_end);
	st->state = TXN_S_TERMINATED;
	txn_table_remove(&L->servers, &st->node);
	L->n_servers--;
	if (L->tu.on_server_gone)
		L->tu.on_server_gone(L->tu_arg, st, st->user);
	sip_msg_free(st->req);
	free(st->last);
	free((char *)st->to_tag.p);
	free(st);
}

/* Timers H (no ACK came: §17.2.1 says inform the TU; we log), I, J and L all
 * end the transaction. */
static void server_end_fired(struct timer *t)
{
	struct txn_server *st = from_end(t);
	if (st->state == TXN_S_COMPLETED && is_invite(st))
		LOG_INFO("txn_timer_h", "call_id=%.*s cseq=%u", STR_FMT(st->req->call_id),
			 st->req->cseq);
	else if (st->state == TXN_S_TRYING || st->state == TXN_S_PROCEEDING)
		LOG_WARN("txn_unanswered", "call_id=%.*s cseq=%u", STR_FMT(st->req->call_id),
			 st->req->cseq);
	txn_server_destroy(st);
}

/* Timer G (§17.2.1): retransmit the final, doubling up to T2. */
static void server_g_fired(struct timer *t)
{
	struct txn_server *st = from_retx(t);
	if (st->state != TXN_S_COMPLETED)
		return;
	server_send_last(st);
	uint64_t next = 2ull * st->retx_ms;
	uint64_t t2 = txn_t2(st->L);
	st->retx_ms = (uint32_t)(next < t2 ? next : t2);
	timer_start(st->L->wheel, &st->t_retx, st->retx_ms, server_g_fired);
}

/* RFC 2543 matching of the ACK needs the To tag our final response carries. */
static void remember_to_tag(struct txn_server *st, const char *buf, size_t len)
{
	if (st->cookie || str_present(st->to_tag))
		return;
	struct sip_msg *m = sip_msg_new(buf, len);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (m && sip_msg_parse(m, &lim) == 0 && m->to && str_present(m->to->tag)) {
		char *c = malloc(m->to->tag.len + 1);
		if (c) {
			memcpy(c, m->to->tag.p, m->to->tag.len);
			st->to_tag = str_make(c, m->to->tag.len);
		}
	}
	sip_msg_free(m);
}

int txn_server_reply(struct txn_server *st, int status, const char *buf, size_t len)
{
	if (!st || !buf || !len || status < 100 || status > 699)
		return -EINVAL;
	struct txn_layer *L = st->L;
	switch (st->state) {
	case TXN_S_TRYING:
	case TXN_S_PROCEEDING: break;
	case TXN_S_ACCEPTED:
		if (status >= 200 && status < 300)
			break; /* RFC 6026 §7.1: more 2xx may follow */
		return -EINVAL;
	default: return -EINVAL; /* a final was sent already */
	}
	timer_wheel_set_now(L->wheel, txn_layer_now(L)); /* Timers G/H/J/L from now */
	char *copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	free(st->last);
	st->last = copy;
	st->last_len = len;
	if (status > st->status)
		st->status = status;
	int r = server_send_last(st);

	if (status < 200) {
		st->state = TXN_S_PROCEEDING;
	} else if (is_invite(st) && status < 300) {
		/* RFC 6026 §8.5: Accepted, Timer L = 64*T1 absorbs retransmitted
		 * INVITEs while 2xx retransmissions come from the TU. */
		if (st->state != TXN_S_ACCEPTED) {
			st->state = TXN_S_ACCEPTED;
			timer_stop(L->wheel, &st->t_retx);
			timer_start(L->wheel, &st->t_end, txn_64t1(L), server_end_fired);
			remember_to_tag(st, buf, len);
		}
	} else if (is_invite(st)) {
		/* §17.2.1: Completed; Timer G only on unreliable transports. */
		st->state = TXN_S_COMPLETED;
		remember_to_tag(st, buf, len);
		if (!st->reliable) {
			st->retx_ms = (uint32_t)txn_t1(L);
			timer_start(L->wheel, &st->t_retx, st->retx_ms, server_g_fired);
		}
		timer_start(L->wheel, &st->t_end, txn_64t1(L), server_end_fired);
	} else {
		/* §17.2.2: Completed, Timer J = 64*T1 (0 on reliable). */
		st->state = TXN_S_COMPLETED;
		timer_start(L->wheel, &st->t_end, st->reliable ? 0 : txn_64t1(L), server_end_fired);
	}
	return r;
}

/* §17.2.1 / §17.2.2: a retransmitted request never reaches the TU. */
static void server_retransmission(struct txn_server *st)
{
	switch (st->state) {
	case TXN_S_PROCEEDING:
	case TXN_S_COMPLETED: server_send_last(st); break;
	default:
		/* Trying: nothing to repeat yet. Confirmed: absorbed. Accepted:
		 * RFC 6026 §7.1, absorbed; the TU retransmits 2xx itself. */
		break;
	}
}

static void server_ack(struct txn_layer *L, struct txn_server *st, struct sip_msg *ack,
		       const struct tp_packet *pkt, bool trusted)
{
	if (!st || st->state == TXN_S_ACCEPTED) {
		/* §17.2.3 / RFC 6026 §8.7: the ACK for a 2xx is not ours. */
		if (L->tu.on_ack)
			L->tu.on_ack(L->tu_arg, ack, pkt, trusted);
		else
			sip_msg_free(ack);
		return;
	}
	if (st->state == TXN_S_COMPLETED) {
		/* §17.2.1: Confirmed; Timer I = T4 absorbs ACK retransmissions. */
		st->state = TXN_S_CONFIRMED;
		timer_stop(L->wheel, &st->t_retx);
		timer_start(L->wheel, &st->t_end, st->reliable ? 0 : txn_t4(L), server_end_fired);
	}
	sip_msg_free(ack); /* Confirmed: absorbed; Proceeding: meaningless */
}

static int server_send_trying(struct txn_server *st)
{
	char buf[4096];
	size_t n = sip_build_response(st->req, 100, NULL, STR_NULL, STR_NULL, buf, sizeof(buf));
	if (!n)
		return -ENOSPC;
	return txn_server_reply(st, 100, buf, n);
}

void txn_server_receive(struct txn_layer *L, struct sip_msg *msg, const struct tp_packet *pkt,
			bool trusted)
{
	enum sip_method key = msg->method == SIP_METHOD_ACK ? SIP_METHOD_INVITE : msg->method;
	struct txn_server *st = txn_server_lookup(L, msg, key);
	if (msg->method == SIP_METHOD_ACK) {
		server_ack(L, st, msg, pkt, trusted);
		return;
	}
	if (st) {
		server_retransmission(st);
		sip_msg_free(msg);
		return;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		sip_msg_free(msg);
		return;
	}
	st->L = L;
	st->req = msg;
	st->key_method = (uint8_t)key;
	st->cookie = txn_branch_is_cookie(msg->via->branch);
	st->reliable = tp_proto_is_stream(pkt->proto);
	st->trusted = trusted;
	st->src = *pkt;
	st->src.buf = NULL;
	st->src.len = 0;
	st->state = key == SIP_METHOD_INVITE ? TXN_S_PROCEEDING : TXN_S_TRYING;
	timer_init(&st->t_retx);
	timer_init(&st->t_end);
	if (txn_table_insert(&L->servers, &st->node, txn_server_hash(msg)) < 0) {
		free(st);
		sip_msg_free(msg);
		return;
	}
	L->n_servers++;
	/* A non-INVITE request is answered within 64*T1 by any sane TU (its own
	 * client's Timer F yields a 408, §16.7); if none ever comes, do not keep
	 * the transaction forever. INVITE is bounded by the TU's Timer C. */
	if (key != SIP_METHOD_INVITE)
		timer_start(L->wheel, &st->t_end, 2 * txn_64t1(L), server_end_fired);
	/* §17.2.1: the proxy answers 100 itself to stop INVITE retransmissions. */
	if (key == SIP_METHOD_INVITE && server_send_trying(st) < 0)
		LOG_WARN("txn_trying_failed", "call_id=%.*s", STR_FMT(msg->call_id));
	if (L->tu.on_request)
		L->tu.on_request(L->tu_arg, st, msg);
}

struct sip_msg *txn_server_request(const struct txn_server *st)
{
	return st->req;
}

const struct tp_packet *txn_server_source(const struct txn_server *st)
{
	return &st->src;
}

bool txn_server_trusted(const struct txn_server *st)
{
	return st->trusted;
}

/* No final yet, or an INVITE's non-2xx final still retransmitted (Timer G)
 * until its ACK. Confirmed, Accepted and Completed non-INVITE only absorb. */
bool txn_server_is_live(const struct txn_server *st)
{
	switch (st->state) {
	case TXN_S_TRYING:
	case TXN_S_PROCEEDING: return true;
	case TXN_S_COMPLETED: return is_invite(st) && !st->reliable;
	default: return false;
	}
}

void txn_server_set_user(struct txn_server *st, void *user)
{
	st->user = user;
}

void *txn_server_user(const struct txn_server *st)
{
	return st->user;
}

int txn_server_status(const struct txn_server *st)
{
	return st->status;
}
