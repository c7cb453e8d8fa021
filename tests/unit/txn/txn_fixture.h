/* txn_fixture.h — shared by the transaction layer tests: a real event_base and
 * struct tp on 127.0.0.1 (UDP and TCP), a recording transaction user, raw UDP
 * sockets playing the peer, and loop helpers that wait on counts (never on
 * elapsed time). Every socket binds port 0 and the test reads back the port it
 * got (f->udp_port, f->peer_port, ...), so tests never collide on a port. */
#ifndef SIPPROXY_TESTS_TXN_FIXTURE_H
#define SIPPROXY_TESTS_TXN_FIXTURE_H
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "../unit_config.h"
#include "sip/build.h"
#include "sip/msg.h"
#include "transport/transport.h"
#include "txn/txn.h"

struct fx {
	struct event_base *base;
	struct tp *tp;
	struct txn_layer *L;
	uint16_t udp_port, tcp_port; /* where the transport listens */
	int peer;		     /* UDP socket at peer_port */
	int sink;		     /* UDP socket at sink_port, never read */
	uint16_t peer_port, sink_port;
	/* TU behaviour */
	int auto_status; /* reply in on_request (0 = don't) */
	const char *auto_tag;
	/* TU observations */
	int n_request, n_ack, n_gone, n_stray, n_fail, n_cancel_found;
	enum txn_fail last_fail;
	struct txn_server *last_st;
	struct txn_server *invite_st;
	int rsp_status[64];
	int n_rsp;
	int n_rsp_total;
	bool release_in_response;
	struct txn_server **keep; /* on_request stores st here when set */
	size_t n_keep;
};

static struct sip_msg *msg_parse(const char *buf, size_t len)
{
	struct sip_msg *m = sip_msg_new(buf, len);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (m && sip_msg_parse(m, &lim) != 0) {
		sip_msg_free(m);
		return NULL;
	}
	return m;
}

static void fx_recv(void *arg, const struct tp_packet *pkt)
{
	struct fx *f = arg;
	struct sip_msg *m = msg_parse(pkt->buf, pkt->len);
	if (m)
		txn_layer_receive(f->L, m, pkt, false);
}

static void fx_closed(void *arg, uint64_t conn_id, int err)
{
	struct fx *f = arg;
	txn_layer_conn_closed(f->L, conn_id, err);
}

static void reply(struct fx *f, struct txn_server *st, int status, const char *tag)
{
	char buf[4096];
	size_t n = sip_build_response(txn_server_request(st), status, NULL,
				      tag ? str_cstr(tag) : STR_NULL, STR_NULL, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(txn_server_reply(st, status, buf, n), 0);
	(void)f;
}

static void tu_request(void *arg, struct txn_server *st, struct sip_msg *req)
{
	struct fx *f = arg;
	f->n_request++;
	f->last_st = st;
	if (f->keep)
		f->keep[f->n_keep++] = st;
	if (req->method == SIP_METHOD_INVITE)
		f->invite_st = st;
	if (req->method == SIP_METHOD_CANCEL) {
		struct txn_server *inv = txn_server_find_invite(f->L, req, txn_server_source(st));
		if (inv && inv == f->invite_st)
			f->n_cancel_found++;
		reply(f, st, 200, NULL);
		return;
	}
	if (f->auto_status)
		reply(f, st, f->auto_status, f->auto_tag);
}

static void tu_ack(void *arg, struct sip_msg *ack, const struct tp_packet *pkt, bool trusted)
{
	struct fx *f = arg;
	(void)pkt;
	f->n_ack++;
	sip_msg_free(ack);
}

static bool tu_response(void *arg, struct txn_client *ct, void *user, struct sip_msg *rsp)
{
	struct fx *f = arg;
	(void)user;
	f->n_rsp_total++;
	if (f->n_rsp < 64)
		f->rsp_status[f->n_rsp++] = rsp->status;
	if (f->release_in_response && rsp->status >= 200)
		txn_client_release(ct);
	return false;
}

static void tu_fail(void *arg, struct txn_client *ct, void *user, enum txn_fail why)
{
	struct fx *f = arg;
	(void)user;
	f->n_fail++;
	f->last_fail = why;
	txn_client_release(ct);
}

static void tu_stray(void *arg, struct sip_msg *rsp, const struct tp_packet *pkt)
{
	struct fx *f = arg;
	(void)rsp;
	(void)pkt;
	f->n_stray++;
}

static void tu_gone(void *arg, struct txn_server *st, void *user)
{
	struct fx *f = arg;
	(void)user;
	f->n_gone++;
	if (st == f->invite_st)
		f->invite_st = NULL;
	if (st == f->last_st)
		f->last_st = NULL;
}

static const struct txn_user tu = {tu_request, tu_ack, tu_response, tu_fail, tu_stray, tu_gone};

/* A UDP socket on 127.0.0.1 at a port the kernel picks; *port is that port. */
static int udp_socket(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct fx *fx_new(uint32_t t1, uint32_t t4)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->base = event_base_new();
	assert_non_null(f->base);
	struct tp_config tc = unit_tp_config(NULL);
	f->tp = tp_new(f->base, &tc, fx_recv, fx_closed, f);
	assert_non_null(f->tp);
	assert_int_equal(tp_listen(f->tp, TP_UDP, "127.0.0.1", 0, NULL), 0);
	assert_int_equal(tp_listen(f->tp, TP_TCP, "127.0.0.1", 0, NULL), 0);
	f->udp_port = tp_listener_for(f->tp, TP_UDP, AF_INET)->port;
	f->tcp_port = tp_listener_for(f->tp, TP_TCP, AF_INET)->port;
	struct txn_config c = {.t1_ms = t1, .t2_ms = t1 * 8 > 4000 ? 4000 : t1 * 8, .t4_ms = t4};
	f->L = txn_layer_new(f->base, f->tp, &c, &tu, f);
	assert_non_null(f->L);
	f->peer = udp_socket(&f->peer_port);
	f->sink = udp_socket(&f->sink_port);
	return f;
}

static void fx_free(struct fx *f)
{
	txn_layer_free(f->L);
	tp_free(f->tp);
	event_base_free(f->base);
	close(f->peer);
	close(f->sink);
	free(f);
}

static void spin_cb(evutil_socket_t fd, short w, void *arg)
{
	(void)fd;
	(void)w;
	(void)arg;
}

/* Runs the loop one step (wakes at least every 5 ms). */
static void spin(struct fx *f)
{
	struct event *ev = evtimer_new(f->base, spin_cb, NULL);
	struct timeval tv = {0, 5000};
	evtimer_add(ev, &tv);
	event_base_loop(f->base, EVLOOP_ONCE);
	event_free(ev);
}

/* Loops until *flag reaches want, with a generous guard against hanging (a
 * failure to reach it is the assertion, not how long it took). */
static void run_until(struct fx *f, const int *flag, int want)
{
	for (int i = 0; i < 2000 && *flag < want; i++)
		spin(f);
	assert_true(*flag >= want);
}

static void run_steps(struct fx *f, int n)
{
	while (n-- > 0)
		spin(f);
}

/* Sends msg from the peer socket to the transport's UDP listener. */
static void peer_send(const struct fx *f, const char *msg)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(f->udp_port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	assert_int_equal(sendto(f->peer, msg, strlen(msg), 0, (struct sockaddr *)&a, sizeof(a)),
			 (ssize_t)strlen(msg));
}

/* Counts datagrams waiting at fd whose text starts with prefix (others are
 * counted in *other); keeps the last matching one in last. */
struct inbox {
	int count[8];
	char last[8][4096];
};

static void peer_read(int fd, struct inbox *in, const char *const *prefixes, int np)
{
	char buf[4096];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = '\0';
		for (int i = 0; i < np; i++) {
			if (strncmp(buf, prefixes[i], strlen(prefixes[i])) == 0) {
				in->count[i]++;
				snprintf(in->last[i], sizeof(in->last[i]), "%s", buf);
			}
		}
	}
}

#endif
