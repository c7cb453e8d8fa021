/* uac.c — calling out through the proxy (--call AOR --via-proxy HOST:PORT): for
 * each of --calls calls, one after the other, an INVITE with SDP to sip:AOR sent
 * to the proxy, the ACK (§13.2.2.4 for a 2xx, §17.1.1.3 otherwise), a BYE after
 * --hold-ms (§15.1.1), retransmissions on UDP (§17.1.1.2 / §17.1.2.2), and one
 * "call=N status=S bye=B" line per call on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sip/build.h"
#include "sipsim.h"

#define T1_MS	   500
#define T2_MS	   4000
#define TIMEOUT_MS (64 * T1_MS)

enum uac_state { UAC_IDLE, UAC_CALLING, UAC_PROCEEDING, UAC_HOLDING, UAC_BYE };

struct sim_uac {
	struct sim *s;
	struct sim_peer proxy;
	unsigned idx, failures;
	enum uac_state state;
	char call_id[64], from_tag[16], inv_branch[32], bye_branch[32];
	char ruri[256];
	struct sip_msg *invite; /* as sent, parsed: for the non-2xx ACK */
	char req[8192];		/* last request sent (INVITE or BYE) for retransmission */
	size_t req_len;
	char ack[4096];
	size_t ack_len;
	char to[512], target[256], routes[2048];
	int status, bye_status;
	struct event *timer;
	unsigned rtx_ms, waited_ms;
};

static void uac_next(struct sim_uac *u);

static void uac_arm(struct sim_uac *u, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	event_add(u->timer, &tv);
}

static const char *uac_proto(const struct sim_uac *u)
{
	return u->proxy.proto == SIM_TCP ? "TCP" : "UDP";
}

/* Request line, Via, Max-Forwards, From, Call-ID, CSeq: the part every request
 * of the call shares (§8.1.1). */
static int uac_head(const struct sim_uac *u, char *out, size_t cap, const char *method,
		    const char *ruri, const char *branch, unsigned cseq, const char *to)
{
	const struct sim *s = u->s;
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

static void uac_send_req(struct sim_uac *u)
{
	sim_net_send(u->s, &u->proxy, u->req, u->req_len);
	u->rtx_ms = T1_MS;
	u->waited_ms = 0;
	uac_arm(u, u->proxy.proto == SIM_UDP ? T1_MS : TIMEOUT_MS);
}

static void uac_invite(struct sim_uac *u)
{
	struct sim *s = u->s;
	sip_random_token(u->call_id, 20);
	sip_random_token(u->from_tag, 10);
	sip_random_token(u->inv_branch, 16);
	u->routes[0] = '\0';
	u->status = u->bye_status = 0;
	char to[300];
	snprintf(to, sizeof(to), "<%s>", u->ruri);
	int n = uac_head(u, u->req, sizeof(u->req), "INVITE", u->ruri, u->inv_branch, 1, to);
	bool v6 = s->laddr.ss_family == AF_INET6;
	char sdp[512];
	int b = snprintf(sdp, sizeof(sdp),
			 "v=0\r\no=sipsim 2 2 IN %s %s\r\ns=sipsim\r\nc=IN %s %s\r\nt=0 0\r\n"
			 "m=audio 40002 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			 v6 ? "IP6" : "IP4", s->host, v6 ? "IP6" : "IP4", s->host);
	n += snprintf(u->req + n, sizeof(u->req) - (size_t)n,
		      "Contact: <sip:sipsim@%s%s%s:%u%s>\r\n"
		      "Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		      v6 ? "[" : "", s->host, v6 ? "]" : "", s->port,
		      u->proxy.proto == SIM_TCP ? ";transport=tcp" : "", b, sdp);
	u->req_len = (size_t)n;
	sip_msg_free(u->invite);
	u->invite = sip_msg_new(u->req, u->req_len);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (u->invite && sip_msg_parse(u->invite, &lim) != 0) {
		sip_msg_free(u->invite);
		u->invite = NULL;
	}
	u->state = UAC_CALLING;
	uac_send_req(u);
}

static void uac_bye(struct sim_uac *u)
{
	sip_random_token(u->bye_branch, 16);
	int n = uac_head(u, u->req, sizeof(u->req), "BYE", u->target, u->bye_branch, 2, u->to);
	n += snprintf(u->req + n, sizeof(u->req) - (size_t)n, "Content-Length: 0\r\n\r\n");
	u->req_len = (size_t)n;
	u->state = UAC_BYE;
	uac_send_req(u);
}

static void uac_done(struct sim_uac *u)
{
	bool ok =
	    u->status >= 200 && u->status < 300 && u->bye_status >= 200 && u->bye_status < 300;
	if (!ok)
		u->failures++;
	printf("call=%u status=%d bye=%d\n", u->idx, u->status, u->bye_status);
	fflush(stdout);
	event_del(u->timer);
	u->state = UAC_IDLE;
	uac_next(u);
}

static void uac_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sim_uac *u = arg;
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
		uac_done(u);
		return;
	}
	/* Timer A doubles for INVITE; Timer E caps at T2 for BYE. */
	sim_net_send(u->s, &u->proxy, u->req, u->req_len);
	u->rtx_ms = u->state == UAC_BYE && u->rtx_ms * 2 > T2_MS ? T2_MS : u->rtx_ms * 2;
	uac_arm(u, u->rtx_ms);
}

/* §12.1.2: the route set is the Record-Route of the 2xx in reverse order; the
 * remote target is its Contact. */
static void uac_dialog(struct sim_uac *u, const struct sip_msg *m)
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
		snprintf(u->target, sizeof(u->target), "%s", u->ruri);
}

static void uac_ack_2xx(struct sim_uac *u)
{
	char branch[20];
	sip_random_token(branch, 16);
	int n = uac_head(u, u->ack, sizeof(u->ack), "ACK", u->target, branch, 1, u->to);
	n += snprintf(u->ack + n, sizeof(u->ack) - (size_t)n, "Content-Length: 0\r\n\r\n");
	u->ack_len = (size_t)n;
	sim_net_send(u->s, &u->proxy, u->ack, u->ack_len);
}

void sim_uac_response(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	struct sim_uac *u = s->uac;
	if (!u || !m->via || !m->via->branch.p || m->via->branch.len < 7) {
		sip_msg_free(m);
		return;
	}
	struct str br = str_make(m->via->branch.p + 7, m->via->branch.len - 7);
	if (str_eq(br, str_cstr(u->inv_branch)) && m->cseq_method == SIP_METHOD_INVITE) {
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
				uac_arm(u, s->o.hold_ms);
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
				uac_done(u);
			}
		}
	} else if (u->state == UAC_BYE && str_eq(br, str_cstr(u->bye_branch)) && m->status >= 200) {
		u->bye_status = m->status;
		uac_done(u);
	}
	sip_msg_free(m);
}

static void uac_next(struct sim_uac *u)
{
	if (u->idx >= u->s->o.calls) {
		u->s->exit_code = u->failures ? 1 : 0;
		event_base_loopexit(u->s->base, NULL);
		return;
	}
	u->idx++;
	uac_invite(u);
}

int sim_uac_start(struct sim *s)
{
	struct sim_uac *u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	u->s = s;
	u->proxy.proto = s->o.call_proto;
	if (sim_addr_parse(s->o.via_proxy, &u->proxy.addr, &u->proxy.alen) != 0) {
		fprintf(stderr, "sipsim: bad --via-proxy %s\n", s->o.via_proxy);
		free(u);
		return -1;
	}
	const char *aor = s->o.call_aor;
	snprintf(u->ruri, sizeof(u->ruri), "%s%s",
		 strncmp(aor, "sip:", 4) && strncmp(aor, "sips:", 5) ? "sip:" : "", aor);
	u->timer = event_new(s->base, -1, 0, uac_timer, u);
	if (!u->timer) {
		free(u);
		return -1;
	}
	s->uac = u;
	uac_next(u);
	return 0;
}

void sim_uac_free(struct sim *s)
{
	struct sim_uac *u = s->uac;
	if (!u)
		return;
	event_free(u->timer);
	sip_msg_free(u->invite);
	free(u);
	s->uac = NULL;
}
