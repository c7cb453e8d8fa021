/* uas.c — the simulator as a UAS (RFC 3261 §8.2, §13.3): OPTIONS 200, INVITE
 * (180, then 200 after --answer-delay-ms with the SDP answer to the offer, or an
 * offer when the INVITE had none, and an RTP echo behind it; 2xx retransmitted
 * on UDP until ACK, §13.3.1.4), ACK, BYE, CANCEL (§9.2: 200 to the CANCEL, 487 to
 * the INVITE), REGISTER (register.c). A backup answers every request 503. A
 * table keyed by Call-ID + CSeq + branch keeps each last response for 32 s, so a
 * retransmitted request is answered again with the same bytes (§17.2). Counts
 * the requests received per method for "stats". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sip/build.h"
#include "sipsim.h"

#define T1_MS 500
#define T2_MS 4000

struct sim_txn {
	struct sim *s;
	char *call_id, *method, *branch; /* key; method is the CSeq method */
	uint32_t cseq;
	time_t created;
	struct sim_peer peer;
	char *rsp; /* last response sent, for retransmitted requests */
	size_t rsp_len;
	int status;
	/* INVITE only */
	struct sip_msg *req;
	char to_tag[17];
	struct event *timer; /* answer delay, then 2xx retransmission */
	unsigned rtx_ms;
	bool acked;
	struct sim_txn *next;
};

static char *dup_str(struct str v)
{
	char *p = malloc(v.len + 1);
	if (p) {
		if (v.len)
			memcpy(p, v.p, v.len);
		p[v.len] = '\0';
	}
	return p;
}

static unsigned txn_bucket(struct str call_id)
{
	return str_hash(call_id) % SIM_TXN_BUCKETS;
}

/* branch NULL p: any branch (an ACK for a 2xx has its own branch, §17.1.1.3). */
static struct sim_txn *txn_find(struct sim *s, struct str call_id, uint32_t cseq, struct str method,
				struct str branch)
{
	for (struct sim_txn *t = s->txns[txn_bucket(call_id)]; t; t = t->next)
		if (t->cseq == cseq && str_eq(str_cstr(t->call_id), call_id) &&
		    str_eq(str_cstr(t->method), method) &&
		    (!branch.p || str_eq(str_cstr(t->branch), branch)))
			return t;
	return NULL;
}

static struct str req_branch(const struct sip_msg *m)
{
	return m->via && m->via->branch.p ? m->via->branch : STR_LIT("");
}

static struct sim_txn *txn_of(struct sim *s, const struct sip_msg *m)
{
	return txn_find(s, m->call_id, m->cseq, m->cseq_method_str, req_branch(m));
}

static struct sim_txn *txn_new(struct sim *s, const struct sip_msg *m, const struct sim_peer *peer)
{
	struct sim_txn *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->s = s;
	t->call_id = dup_str(m->call_id);
	t->method = dup_str(m->cseq_method_str);
	t->branch = dup_str(req_branch(m));
	t->cseq = m->cseq;
	t->created = time(NULL);
	t->peer = *peer;
	unsigned b = txn_bucket(m->call_id);
	t->next = s->txns[b];
	s->txns[b] = t;
	return t;
}

static void txn_free(struct sim_txn *t)
{
	if (t->timer)
		event_free(t->timer);
	sip_msg_free(t->req);
	free(t->call_id);
	free(t->method);
	free(t->branch);
	free(t->rsp);
	free(t);
}

void sim_txn_sweep(struct sim *s, bool all)
{
	time_t now = time(NULL);
	for (unsigned b = 0; b < SIM_TXN_BUCKETS; b++) {
		struct sim_txn **pp = &s->txns[b];
		while (*pp) {
			struct sim_txn *t = *pp;
			if (all || now - t->created > SIM_TXN_LIFETIME) {
				*pp = t->next;
				txn_free(t);
			} else {
				pp = &t->next;
			}
		}
	}
}

static void txn_store(struct sim_txn *t, const char *rsp, size_t len, int status)
{
	char *copy = malloc(len);
	if (!copy)
		return;
	memcpy(copy, rsp, len);
	free(t->rsp);
	t->rsp = copy;
	t->rsp_len = len;
	t->status = status;
}

static int rsp_status(const char *rsp, size_t len)
{
	/* "SIP/2.0 NNN" */
	return len > 11 ? atoi(rsp + 8) : 0;
}

void sim_uas_reply(struct sim *s, const struct sim_peer *peer, const struct sip_msg *req,
		   const char *rsp, size_t len)
{
	if (!len)
		return;
	struct sim_txn *t = txn_of(s, req);
	if (!t)
		t = txn_new(s, req, peer);
	if (t)
		txn_store(t, rsp, len, rsp_status(rsp, len));
	struct sim_peer p = *peer;
	sim_net_send(s, &p, rsp, len);
}

size_t sim_build_response(const struct sip_msg *req, int status, struct str to_tag,
			  struct str extra, struct str ctype, struct str body, char *out,
			  size_t cap)
{
	char hdrs[2048];
	int h = snprintf(hdrs, sizeof(hdrs), "%.*sServer: sipsim\r\n", STR_FMT(extra));
	if (ctype.len && h > 0 && (size_t)h < sizeof(hdrs))
		h += snprintf(hdrs + h, sizeof(hdrs) - (size_t)h, "Content-Type: %.*s\r\n",
			      STR_FMT(ctype));
	if (h < 0 || (size_t)h >= sizeof(hdrs))
		return 0;
	size_t n =
	    sip_build_response(req, status, NULL, to_tag, str_make(hdrs, (size_t)h), out, cap);
	if (!n || !body.len)
		return n;
	/* sip_build_response ends with an empty body: swap in ours. */
	static const char tail[] = "Content-Length: 0\r\n\r\n";
	size_t tl = sizeof(tail) - 1;
	if (n < tl || memcmp(out + n - tl, tail, tl) != 0)
		return 0;
	n -= tl;
	int c = snprintf(out + n, cap - n, "Content-Length: %zu\r\n\r\n", body.len);
	if (c < 0 || (size_t)c + body.len >= cap - n)
		return 0;
	n += (size_t)c;
	memcpy(out + n, body.p, body.len);
	return n + body.len;
}

static void reply_simple(struct sim *s, const struct sim_peer *peer, const struct sip_msg *m,
			 int status, const char *extra)
{
	char out[8192];
	char tag[17];
	sip_random_token(tag, 10);
	size_t n = sim_build_response(m, status, status > 100 ? str_cstr(tag) : STR_NULL,
				      str_cstr(extra), STR_NULL, STR_NULL, out, sizeof(out));
	sim_uas_reply(s, peer, m, out, n);
}

static void invite_timer(evutil_socket_t fd, short what, void *arg);

/* Sends a response to the INVITE of t; a 2xx carries the SDP body. */
static void invite_send(struct sim_txn *t, int status, struct str body)
{
	struct sim *s = t->s;
	char out[8192], extra[2048];
	int e = 0;
	bool v6 = s->laddr.ss_family == AF_INET6;
	if (status >= 200 && status < 300)
		/* §13.3.1.4: a 2xx carries a Contact. */
		e = snprintf(extra, sizeof(extra), "Contact: <sip:sipsim@%s%s%s:%u%s>\r\n",
			     v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
			     t->peer.proto == SIM_TCP ? ";transport=tcp" : "");
	/* §12.1.1: a response that establishes a dialog copies Record-Route. */
	if (status > 100 && status < 300) {
		for (const struct sip_hdr *h = sip_msg_hdr(t->req, SIP_HDR_RECORD_ROUTE); h;
		     h = h->next_id) {
			int r = snprintf(extra + e, sizeof(extra) - (size_t)e,
					 "Record-Route: %.*s\r\n", STR_FMT(h->value));
			if (r < 0 || (size_t)r >= sizeof(extra) - (size_t)e)
				return;
			e += r;
		}
	}
	size_t n = sim_build_response(
	    t->req, status, str_cstr(t->to_tag), str_make(extra, e > 0 ? (size_t)e : 0),
	    body.len ? STR_LIT("application/sdp") : STR_NULL, body, out, sizeof(out));
	if (!n)
		return;
	txn_store(t, out, n, status);
	sim_net_send(s, &t->peer, out, n);
}

static void invite_answer(struct sim_txn *t)
{
	struct sim *s = t->s;
	/* RFC 3264 §6: the answer to the INVITE's offer, or (no body) our offer,
	 * answered in the ACK (§13.2.1); both name the call's echo socket. */
	struct sim_media *m = sim_media_get(s, t->req->call_id, false);
	uint16_t port = m ? sim_media_port(m) : 9; /* no socket left: the discard port */
	unsigned version = m ? sim_media_next_version(m) : 1;
	char sdp[2048];
	size_t b = t->req->body.len
		       ? sim_sdp_answer(s, t->req->body, port, version, sdp, sizeof(sdp))
		       : sim_sdp_offer(s, port, version, sdp, sizeof(sdp));
	if (!b) {
		/* §13.3.1.3 / RFC 3264 §6: no stream we can take. A refused
		 * re-INVITE leaves the call (and its echo) as it was (§14.2). */
		if (!t->req->to || !t->req->to->tag.len)
			sim_media_close(s, t->req->call_id, false);
		invite_send(t, 488, STR_NULL);
		return;
	}
	invite_send(t, 200, str_make(sdp, b));
	/* §13.3.1.4: over UDP the 2xx is retransmitted at T1, 2T1, ... up to T2
	 * until the ACK arrives (the sweep ends it after 64*T1). */
	if (t->peer.proto == SIM_UDP && t->timer) {
		t->rtx_ms = T1_MS;
		struct timeval tv = {0, T1_MS * 1000};
		event_add(t->timer, &tv);
	}
}

static void invite_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_txn *t = arg;
	if (t->status < 200) {
		invite_answer(t);
		return;
	}
	if (t->acked || t->status >= 300 || !t->rsp)
		return;
	sim_net_send(t->s, &t->peer, t->rsp, t->rsp_len);
	t->rtx_ms = t->rtx_ms * 2 > T2_MS ? T2_MS : t->rtx_ms * 2;
	struct timeval tv = {t->rtx_ms / 1000, (t->rtx_ms % 1000) * 1000};
	event_add(t->timer, &tv);
}

/* Returns true when the txn took ownership of m. */
static bool on_invite(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	struct sim_txn *t = txn_new(s, m, peer);
	if (!t)
		return false;
	t->req = m;
	sip_random_token(t->to_tag, 12);
	t->timer = event_new(s->base, -1, 0, invite_timer, t);
	invite_send(t, 180, STR_NULL);
	if (s->o.answer_delay_ms == 0 || !t->timer) {
		invite_answer(t);
	} else {
		struct timeval tv = {s->o.answer_delay_ms / 1000,
				     (s->o.answer_delay_ms % 1000) * 1000};
		event_add(t->timer, &tv);
	}
	return true;
}

static void on_ack(struct sim *s, const struct sip_msg *m)
{
	/* Matches the INVITE by Call-ID and CSeq number: a 2xx ACK is a new
	 * transaction with its own branch (§17.1.1.3 vs §13.2.2.4). */
	struct sim_txn *t = txn_find(s, m->call_id, m->cseq, STR_LIT("INVITE"), STR_NULL);
	if (t) {
		t->acked = true;
		if (t->timer)
			event_del(t->timer);
	}
	/* An ACK answering our offer (§13.2.1) is taken as it is; the call lives. */
	struct sim_media *md = sim_media_find(s, m->call_id, false);
	if (md)
		sim_media_touch(md);
}

static void on_cancel(struct sim *s, const struct sim_peer *peer, const struct sip_msg *m)
{
	/* §9.2: the CANCEL matches the INVITE by its branch (same top Via). */
	struct sim_txn *t = txn_find(s, m->call_id, m->cseq, STR_LIT("INVITE"), req_branch(m));
	if (!t) {
		reply_simple(s, peer, m, 481, "");
		return;
	}
	reply_simple(s, peer, m, 200, "");
	if (t->status < 200) {
		if (t->timer)
			event_del(t->timer);
		invite_send(t, 487, STR_NULL);
		sim_media_close(s, m->call_id, false);
	}
}

static void stats_count(struct sim_stats *st, enum sip_method method)
{
	switch (method) {
	case SIP_METHOD_INVITE: st->invites++; break;
	case SIP_METHOD_BYE: st->byes++; break;
	case SIP_METHOD_CANCEL: st->cancels++; break;
	case SIP_METHOD_REGISTER: st->registers++; break;
	case SIP_METHOD_OPTIONS: st->options++; break;
	default: st->others++; break;
	}
}

void sim_uas_request(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	if (m->method == SIP_METHOD_ACK) {
		s->stats.acks++;
		on_ack(s, m);
		sip_msg_free(m);
		return;
	}
	/* §17.2.1 / §17.2.2: a retransmission gets the last response again. */
	struct sim_txn *t = txn_of(s, m);
	if (t) {
		if (t->rsp) {
			struct sim_peer p = *peer;
			sim_net_send(s, &p, t->rsp, t->rsp_len);
		}
		sip_msg_free(m);
		return;
	}
	stats_count(&s->stats, m->method);
	if (s->role != SIM_ROLE_ACTIVE) {
		/* A backup never serves, the proxy's health check included (§21.5.4);
		 * a dead member's messages never get here (net.c). */
		reply_simple(s, peer, m, 503, "Retry-After: 5\r\n");
		sip_msg_free(m);
		return;
	}
	switch (m->method) {
	case SIP_METHOD_OPTIONS:
		reply_simple(s, peer, m, 200,
			     "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER\r\n"
			     "Accept: application/sdp\r\n");
		break;
	case SIP_METHOD_REGISTER: sim_register(s, peer, m); break;
	case SIP_METHOD_INVITE:
		if (on_invite(s, peer, m))
			return;
		reply_simple(s, peer, m, 500, "");
		break;
	case SIP_METHOD_CANCEL: on_cancel(s, peer, m); break;
	case SIP_METHOD_BYE:
		/* §15.1.2: the call ends, its echo with it (ours or the far end's BYE). */
		reply_simple(s, peer, m, 200, "");
		sim_media_close(s, m->call_id, false);
		sim_uac_remote_bye(s, m->call_id);
		break;
	case SIP_METHOD_INFO:
	case SIP_METHOD_MESSAGE:
	case SIP_METHOD_UPDATE:
	case SIP_METHOD_NOTIFY:
	case SIP_METHOD_PRACK: reply_simple(s, peer, m, 200, ""); break;
	default: reply_simple(s, peer, m, 501, ""); break;
	}
	sip_msg_free(m);
}

void sim_on_message(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	if (m->is_request)
		sim_uas_request(s, peer, m);
	else
		sim_uac_response(s, peer, m);
}
