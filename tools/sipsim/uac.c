/* uac.c — calling out through the proxy: batches of calls to one AOR, started by
 * --call at start-up or by the control command "call", one call after the other
 * or at a rate (calls/s), several batches at once. Each call: an INVITE with an
 * SDP offer naming its own RTP echo port (media.c), the ACK (§13.2.2.4 for a 2xx,
 * §17.1.1.3 otherwise), a BYE after the hold time (§15.1.1) unless the far end
 * hangs up first, retransmissions on UDP (§17.1.1.2 / §17.1.2.2), and one
 * "call=N status=S bye=B" line per call on stdout. The requests leave from the
 * listen address (net.c); a member that stops being active drops its calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sip/build.h"
#include "sipsim.h"

#define T1_MS	   500
#define T2_MS	   4000
#define TIMEOUT_MS (64 * T1_MS)

enum uac_state { UAC_CALLING, UAC_PROCEEDING, UAC_HOLDING, UAC_BYE };

struct uac_batch {
	struct sim *s;
	char ruri[256];
	struct sim_peer via;
	unsigned count, started, finished, failures;
	unsigned hold_ms, rate;
	bool exit_when_done;
	struct event *pace; /* rate > 0: starts the next call */
	struct uac_batch *next;
};

struct uac_call {
	struct uac_batch *b;
	struct sim_peer proxy;
	unsigned idx;
	enum uac_state state;
	char call_id[64], from_tag[16], inv_branch[32], bye_branch[32];
	struct sip_msg *invite; /* as sent, parsed: for the non-2xx ACK */
	char req[8192];		/* last request sent (INVITE or BYE) for retransmission */
	size_t req_len;
	char ack[4096];
	size_t ack_len;
	char to[512], target[256], routes[2048];
	int status, bye_status;
	struct event *timer;
	unsigned rtx_ms, waited_ms;
	struct uac_call *next;
};

struct sim_uac {
	struct uac_batch *batches;
	struct uac_call *calls;
	unsigned active;
};

enum uac_end { UAC_END_DONE, UAC_END_REMOTE_BYE, UAC_END_ABORTED };

static void batch_progress(struct uac_batch *b);

static void uac_arm(struct uac_call *u, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_add(u->timer, &tv);
}

static const char *uac_proto(const struct uac_call *u)
{
	return u->proxy.proto == SIM_TCP ? "TCP" : "UDP";
}

/* Request line, Via, Max-Forwards, From, Call-ID, CSeq: the part every request
 * of the call shares (§8.1.1). */
static int uac_head(const struct uac_call *u, char *out, size_t cap, const char *method,
		    const char *ruri, const char *branch, unsigned cseq, const char *to)
{
	const struct sim *s = u->b->s;
	bool v6 = s->laddr.ss_family == AF_INET6;
	return snprintf(out, cap,
			"%s %s SIP/2.0\r\n"
			"Via: SIP/2.0/%s %s%s%s:%u;branch=z9hG4bK%s;rport\r\n"
			"Max-Forwards: 70\r\n"
			"%s"
			"From: <sip:sipsim@%s%s%s:%u>;tag=%s\r\n"
			"To: %s\r\n"
			"Call-ID: %s\r\n"
			"CSeq: %u %s\r\n",
			method, ruri, uac_proto(u), v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
			branch, u->routes, v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
			u->from_tag, to, u->call_id, cseq, method);
}

static void uac_send_req(struct uac_call *u)
{
	sim_net_send(u->b->s, &u->proxy, u->req, u->req_len);
	u->rtx_ms = T1_MS;
	u->waited_ms = 0;
	uac_arm(u, u->proxy.proto == SIM_UDP ? T1_MS : TIMEOUT_MS);
}

/* Writes the INVITE with its SDP offer into u->req. */
static bool uac_invite_build(struct uac_call *u)
{
	struct sim *s = u->b->s;
	char to[300], sdp[1024];
	snprintf(to, sizeof(to), "<%s>", u->b->ruri);
	int n = uac_head(u, u->req, sizeof(u->req), "INVITE", u->b->ruri, u->inv_branch, 1, to);
	struct sim_media *m = sim_media_get(s, str_cstr(u->call_id), true);
	/* No socket left: the call still runs, its media goes to the discard port. */
	size_t b = sim_sdp_offer(s, m ? sim_media_port(m) : 9, m ? sim_media_next_version(m) : 1,
				 sdp, sizeof(sdp));
	bool v6 = s->laddr.ss_family == AF_INET6;
	int w = snprintf(u->req + n, sizeof(u->req) - (size_t)n,
			 "Contact: <sip:sipsim@%s%s%s:%u%s>\r\n"
			 "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%.*s",
			 v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
			 u->proxy.proto == SIM_TCP ? ";transport=tcp" : "", b, (int)b, sdp);
	if (n < 0 || w < 0 || (size_t)(n + w) >= sizeof(u->req))
		return false;
	u->req_len = (size_t)(n + w);
	u->invite = sip_msg_new(u->req, u->req_len);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (u->invite && sip_msg_parse(u->invite, &lim) != 0) {
		sip_msg_free(u->invite);
		u->invite = NULL;
	}
	return true;
}

static void uac_bye(struct uac_call *u)
{
	sip_random_token(u->bye_branch, 16);
	int n = uac_head(u, u->req, sizeof(u->req), "BYE", u->target, u->bye_branch, 2, u->to);
	n += snprintf(u->req + n, sizeof(u->req) - (size_t)n, "Content-Length: 0\r\n\r\n");
	u->req_len = (size_t)n;
	u->state = UAC_BYE;
	uac_send_req(u);
}

static void uac_call_free(struct uac_call *u)
{
	if (u->timer)
		event_free(u->timer);
	sip_msg_free(u->invite);
	free(u);
}

/* The call is over: its result line, the counters, its echo socket; then the
 * batch goes on (u is freed). */
static void uac_end(struct uac_call *u, enum uac_end how)
{
	struct uac_batch *b = u->b;
	struct sim *s = b->s;
	bool ok = how != UAC_END_ABORTED && u->status >= 200 && u->status < 300 &&
		  (how == UAC_END_REMOTE_BYE || (u->bye_status >= 200 && u->bye_status < 300));
	if (how == UAC_END_REMOTE_BYE)
		printf("call=%u status=%d bye=remote\n", u->idx, u->status);
	else
		printf("call=%u status=%d bye=%d%s\n", u->idx, u->status, u->bye_status,
		       how == UAC_END_ABORTED ? " aborted" : "");
	fflush(stdout);
	if (ok) {
		s->stats.calls_ok++;
	} else {
		s->stats.calls_failed++;
		b->failures++;
	}
	sim_media_close(s, str_cstr(u->call_id), true);
	for (struct uac_call **pp = &s->uac->calls; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			break;
		}
	s->uac->active--;
	uac_call_free(u);
	b->finished++;
	batch_progress(b);
}

static void uac_timer(evutil_socket_t fd, short what, void *arg)
{
	struct uac_call *u = arg;
	if (u->state == UAC_HOLDING) {
		uac_bye(u);
		return;
	}
	u->waited_ms += u->proxy.proto == SIM_UDP ? u->rtx_ms : TIMEOUT_MS;
	if (u->waited_ms >= TIMEOUT_MS || u->state == UAC_PROCEEDING || u->proxy.proto == SIM_TCP) {
		/* §17.1.1.2 Timer B / §17.1.2.2 Timer F: 408 locally. */
		if (u->state == UAC_BYE)
			u->bye_status = 408;
		else
			u->status = 408;
		uac_end(u, UAC_END_DONE);
		return;
	}
	/* Timer A doubles for INVITE; Timer E caps at T2 for BYE. */
	sim_net_send(u->b->s, &u->proxy, u->req, u->req_len);
	u->rtx_ms = u->state == UAC_BYE && u->rtx_ms * 2 > T2_MS ? T2_MS : u->rtx_ms * 2;
	uac_arm(u, u->rtx_ms);
}

/* Starts the batch's next call; false when it could not (counted as failed,
 * the caller moves the batch on). */
static bool uac_call_start(struct uac_batch *b)
{
	struct sim *s = b->s;
	struct uac_call *u = calloc(1, sizeof(*u));
	b->started++;
	s->stats.calls_placed++;
	if (u) {
		u->b = b;
		u->idx = b->started;
		u->proxy = b->via;
		sip_random_token(u->call_id, 20);
		sip_random_token(u->from_tag, 10);
		sip_random_token(u->inv_branch, 16);
		u->timer = event_new(s->base, -1, 0, uac_timer, u);
	}
	if (!u || !u->timer || !uac_invite_build(u)) {
		if (u) {
			sim_media_close(s, str_cstr(u->call_id), true);
			uac_call_free(u);
		}
		printf("call=%u status=0 bye=0 failed\n", b->started);
		fflush(stdout);
		s->stats.calls_failed++;
		b->failures++;
		b->finished++;
		return false;
	}
	u->next = s->uac->calls;
	s->uac->calls = u;
	s->uac->active++;
	u->state = UAC_CALLING;
	uac_send_req(u);
	return true;
}

static void batch_free(struct uac_batch *b)
{
	if (b->pace)
		event_free(b->pace);
	free(b);
}

/* After a call ended: the next one (one after the other), or the batch is over. */
static void batch_progress(struct uac_batch *b)
{
	struct sim *s = b->s;
	while (b->finished < b->count) {
		if (b->rate != 0 || b->started != b->finished)
			return; /* calls in flight, or the pace timer starts the next */
		if (uac_call_start(b))
			return;
	}
	for (struct uac_batch **pp = &s->uac->batches; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	if (b->exit_when_done) {
		s->exit_code = b->failures ? 1 : 0;
		event_base_loopexit(s->base, NULL);
	}
	batch_free(b);
}

static void batch_pace(evutil_socket_t fd, short what, void *arg)
{
	struct uac_batch *b = arg;
	if (b->started >= b->count) {
		event_del(b->pace);
		return;
	}
	bool last = b->started + 1 >= b->count;
	if (last)
		event_del(b->pace);
	if (!uac_call_start(b))
		batch_progress(b); /* may free b */
}

int sim_uac_place(struct sim *s, const struct sim_call_req *req)
{
	if (!s->uac && !(s->uac = calloc(1, sizeof(*s->uac))))
		return -1;
	struct uac_batch *b = calloc(1, sizeof(*b));
	if (!b || req->count == 0)
		goto fail;
	b->s = s;
	const char *aor = req->aor;
	int n = snprintf(b->ruri, sizeof(b->ruri), "%s%s",
			 strncmp(aor, "sip:", 4) && strncmp(aor, "sips:", 5) ? "sip:" : "", aor);
	if (n < 0 || (size_t)n >= sizeof(b->ruri))
		goto fail;
	b->via = req->via;
	b->via.conn_id = 0;
	b->count = req->count;
	b->hold_ms = req->hold_ms;
	b->rate = req->rate;
	b->exit_when_done = req->exit_when_done;
	if (b->rate) {
		b->pace = event_new(s->base, -1, EV_PERSIST, batch_pace, b);
		if (!b->pace)
			goto fail;
		struct timeval tv = {0, (suseconds_t)(1000000 / b->rate)};
		if (b->rate == 1)
			tv = (struct timeval){1, 0};
		if (b->count > 1)
			event_add(b->pace, &tv);
	}
	b->next = s->uac->batches;
	s->uac->batches = b;
	if (!uac_call_start(b))
		batch_progress(b);
	return 0;
fail:
	if (b)
		batch_free(b);
	return -1;
}

/* §12.1.2: the route set is the Record-Route of the 2xx in reverse order; the
 * remote target is its Contact. */
static void uac_dialog(struct uac_call *u, const struct sip_msg *m)
{
	const struct sip_addr *rr[16];
	unsigned n = 0;
	for (const struct sip_addr *a = m->record_route; a && n < 16; a = a->next)
		rr[n++] = a;
	size_t w = 0;
	u->routes[0] = '\0';
	while (n-- > 0 && w < sizeof(u->routes))
		w += (size_t)snprintf(u->routes + w, sizeof(u->routes) - w, "Route: %.*s\r\n",
				      STR_FMT(rr[n]->raw));
	if (w >= sizeof(u->routes))
		u->routes[0] = '\0';
	str_copy(u->to, sizeof(u->to), m->to ? m->to->raw : STR_NULL);
	if (m->contact && !m->contact->star)
		str_copy(u->target, sizeof(u->target), m->contact->uri_str);
	else
		snprintf(u->target, sizeof(u->target), "%s", u->b->ruri);
}

static void uac_ack_2xx(struct uac_call *u)
{
	char branch[20];
	sip_random_token(branch, 16);
	int n = uac_head(u, u->ack, sizeof(u->ack), "ACK", u->target, branch, 1, u->to);
	n += snprintf(u->ack + n, sizeof(u->ack) - (size_t)n, "Content-Length: 0\r\n\r\n");
	u->ack_len = (size_t)n;
	sim_net_send(u->b->s, &u->proxy, u->ack, u->ack_len);
}

static struct uac_call *uac_find(struct sim *s, struct str call_id)
{
	for (struct uac_call *u = s->uac ? s->uac->calls : NULL; u; u = u->next)
		if (str_eq(str_cstr(u->call_id), call_id))
			return u;
	return NULL;
}

static void uac_on_invite_rsp(struct uac_call *u, const struct sip_msg *m)
{
	struct sim *s = u->b->s;
	if (m->status < 200) {
		if (u->state == UAC_CALLING) {
			/* §17.1.1.2: a provisional stops retransmission. */
			u->state = UAC_PROCEEDING;
			event_del(u->timer);
			uac_arm(u, TIMEOUT_MS * 6);
		}
	} else if (m->status < 300) {
		if (u->state == UAC_CALLING || u->state == UAC_PROCEEDING) {
			u->status = m->status;
			uac_dialog(u, m);
			uac_ack_2xx(u);
			u->state = UAC_HOLDING;
			event_del(u->timer);
			uac_arm(u, u->b->hold_ms);
		} else if (u->ack_len) {
			/* §13.2.2.4: a retransmitted 2xx gets the ACK again. */
			sim_net_send(s, &u->proxy, u->ack, u->ack_len);
		}
	} else {
		char ack[4096];
		size_t n = u->invite ? sip_build_ack(u->invite, m, ack, sizeof(ack)) : 0;
		if (n)
			sim_net_send(s, &u->proxy, ack, n);
		if (u->state == UAC_CALLING || u->state == UAC_PROCEEDING) {
			u->status = m->status;
			uac_end(u, UAC_END_DONE);
		}
	}
}

void sim_uac_response(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	struct uac_call *u = uac_find(s, m->call_id);
	if (!u || !m->via || !m->via->branch.p || m->via->branch.len < 7) {
		sip_msg_free(m);
		return;
	}
	struct str br = str_make(m->via->branch.p + 7, m->via->branch.len - 7);
	if (str_eq(br, str_cstr(u->inv_branch)) && m->cseq_method == SIP_METHOD_INVITE) {
		uac_on_invite_rsp(u, m);
	} else if (u->state == UAC_BYE && str_eq(br, str_cstr(u->bye_branch)) && m->status >= 200) {
		u->bye_status = m->status;
		uac_end(u, UAC_END_DONE);
	}
	sip_msg_free(m);
}

void sim_uac_remote_bye(struct sim *s, struct str call_id)
{
	struct uac_call *u = uac_find(s, call_id);
	if (u && (u->state == UAC_HOLDING || u->state == UAC_BYE))
		uac_end(u, UAC_END_REMOTE_BYE);
}

void sim_uac_abort(struct sim *s)
{
	if (!s->uac)
		return;
	for (struct uac_batch *b = s->uac->batches; b; b = b->next) {
		b->count = b->started;
		if (b->pace)
			event_del(b->pace);
	}
	while (s->uac->calls)
		uac_end(s->uac->calls, UAC_END_ABORTED);
	/* Batches between two paced calls have none in flight to end them. */
	while (s->uac->batches) {
		struct uac_batch *b = s->uac->batches;
		b->finished = b->count;
		batch_progress(b);
	}
}

unsigned sim_uac_active(const struct sim *s)
{
	return s->uac ? s->uac->active : 0;
}

void sim_uac_free(struct sim *s)
{
	if (!s->uac)
		return;
	while (s->uac->calls) {
		struct uac_call *u = s->uac->calls;
		s->uac->calls = u->next;
		uac_call_free(u);
	}
	while (s->uac->batches) {
		struct uac_batch *b = s->uac->batches;
		s->uac->batches = b->next;
		batch_free(b);
	}
	free(s->uac);
	s->uac = NULL;
}
