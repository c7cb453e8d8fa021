/* test_tcp.c — SIP over TCP on loopback with real client sockets: RFC 3261
 * §18.3 framing (pieces, several per read, 60 KB), RFC 5626 §3.5.1 keep-alive,
 * §18.2.2 connection reuse, idle/slowloris timeouts, the connection cap, the
 * write-queue cap and framing errors. Listeners bind port 0 and the test reads
 * back the port the kernel picked. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "../unit_config.h"
#include "frame_fallback.h"
#include "transport/transport.h"

#define MAXPKT 16

struct fx {
	struct event_base *base;
	struct tp *tp;
	uint16_t port; /* the 127.0.0.1 listener's port, 0 when none */
	unsigned n, nclosed;
	char *data[MAXPKT];
	size_t len[MAXPKT];
	union tp_sockaddr src[MAXPKT];
	uint64_t conn[MAXPKT];
	uint64_t closed_id[MAXPKT];
	int closed_err[MAXPKT];
};

static void on_recv(void *arg, const struct tp_packet *p)
{
	struct fx *f = arg;
	if (f->n >= MAXPKT)
		return;
	f->data[f->n] = malloc(p->len + 1);
	memcpy(f->data[f->n], p->buf, p->len);
	f->data[f->n][p->len] = 0;
	f->len[f->n] = p->len;
	f->src[f->n] = p->src;
	f->conn[f->n] = p->conn_id;
	f->n++;
}

static void on_closed(void *arg, uint64_t id, int err)
{
	struct fx *f = arg;
	if (f->nclosed < MAXPKT) {
		f->closed_id[f->nclosed] = id;
		f->closed_err[f->nclosed] = err;
	}
	f->nclosed++;
}

static void on_guard(evutil_socket_t fd, short w, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the loop until *counter reaches n; the guard only stops a broken test
 * from hanging (the assertion after it is on the counter, not on time). */
static void run_until(struct fx *f, const unsigned *counter, unsigned n)
{
	struct event *g = evtimer_new(f->base, on_guard, f->base);
	struct timeval tv = {20, 0};
	evtimer_add(g, &tv);
	while (*counter < n && !event_base_got_break(f->base))
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(g);
}

static void spin(struct fx *f)
{
	for (int i = 0; i < 3; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

static struct fx *fx_new(const struct tp_config *cfg, bool listen)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->base = event_base_new();
	struct tp_config c = unit_tp_config(cfg);
	f->tp = tp_new(f->base, &c, on_recv, on_closed, f);
	assert_non_null(f->tp);
	if (listen) {
		assert_int_equal(tp_listen(f->tp, TP_TCP, "127.0.0.1", 0, NULL), 0);
		f->port = tp_listener_for(f->tp, TP_TCP, AF_INET)->port;
		assert_true(f->port != 0);
	}
	return f;
}

static void fx_free(struct fx *f)
{
	tp_free(f->tp);
	event_base_free(f->base);
	for (unsigned i = 0; i < f->n && i < MAXPKT; i++)
		free(f->data[i]);
	free(f);
}

/* A client connection to the fixture's listener. */
static int client(const struct fx *f, union tp_sockaddr *me)
{
	union tp_sockaddr to;
	tp_addr_from_ip(STR_LIT("127.0.0.1"), f->port, &to);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, &to.sa, tp_addr_len(&to)), 0);
	if (me) {
		socklen_t sl = sizeof(*me);
		getsockname(fd, &me->sa, &sl);
	}
	return fd;
}

static void wr(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		assert_true(w > 0);
		s += w;
		n -= (size_t)w;
	}
}

/* Reads what the proxy wrote (the data is already in the kernel). */
static ssize_t rd(int fd, char *buf, size_t cap)
{
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

#define MSG1                                                                                       \
	"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: "        \
	"5\r\n\r\nhello"
#define MSG2 "BYE sip:a@b SIP/2.0\r\nl: 0\r\n\r\n"

/* RFC 3261 §18.3: a message split across reads, down to single bytes. */
static void test_tcp_message_byte_by_byte(void **state)
{
	struct fx *f = fx_new(NULL, true);
	union tp_sockaddr me;
	int fd = client(f, &me);
	const char *m = MSG1;
	for (size_t i = 0; m[i]; i++) {
		wr(fd, m + i, 1);
		spin(f);
	}
	run_until(f, &f->n, 1);
	spin(f);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->data[0], MSG1);
	assert_true(f->conn[0] > 0);
	assert_true(tp_addr_equal(&f->src[0], &me));
	assert_true(tp_conn_alive(f->tp, f->conn[0]));
	close(fd);
	run_until(f, &f->nclosed, 1);
	assert_int_equal(f->closed_id[0], f->conn[0]);
	assert_false(tp_conn_alive(f->tp, f->conn[0]));
	fx_free(f);
}

/* RFC 3261 §18.3: several messages in one read are split by Content-Length;
 * lone CRLFs between them are skipped (RFC 5626 §3.5.1) without a pong. */
static void test_tcp_two_messages_one_write(void **state)
{
	struct fx *f = fx_new(NULL, true);
	int fd = client(f, NULL);
	const char both[] = "\r\n" MSG1 "\r\n" MSG2;
	wr(fd, both, sizeof(both) - 1);
	run_until(f, &f->n, 2);
	assert_int_equal(f->n, 2);
	assert_string_equal(f->data[0], MSG1);
	assert_string_equal(f->data[1], MSG2);
	assert_int_equal(f->conn[0], f->conn[1]);
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.keepalive_pongs, 0);
	assert_int_equal(st.tcp_rx, 2);
	close(fd);
	fx_free(f);
}

/* RFC 3261 §18.3: a 60 KB message (over any UDP MTU) arrives whole. */
static void test_tcp_large_message(void **state)
{
	struct fx *f = fx_new(NULL, true);
	int fd = client(f, NULL);
	size_t body = 60000;
	char *m = malloc(body + 256);
	int h = snprintf(m, 256, "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: %zu\r\n\r\n", body);
	memset(m + h, 'x', body);
	wr(fd, m, (size_t)h + body);
	run_until(f, &f->n, 1);
	assert_int_equal(f->n, 1);
	assert_int_equal(f->len[0], (size_t)h + body);
	assert_memory_equal(f->data[0], m, (size_t)h + body);
	free(m);
	close(fd);
	fx_free(f);
}

/* RFC 5626 §3.5.1: a CRLFCRLF ping is answered with a CRLF pong. */
static void test_tcp_crlf_keepalive(void **state)
{
	struct fx *f = fx_new(NULL, true);
	int fd = client(f, NULL);
	struct tp_stats st = {0};
	wr(fd, "\r\n", 2); /* the ping may arrive in pieces */
	spin(f);
	wr(fd, "\r\n", 2);
	while (st.keepalive_pongs == 0) {
		event_base_loop(f->base, EVLOOP_ONCE);
		tp_get_stats(f->tp, &st);
	}
	char buf[8];
	assert_int_equal(rd(fd, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\r\n", 2);
	assert_int_equal(f->n, 0);
	/* and the connection still carries messages */
	wr(fd, MSG2, sizeof(MSG2) - 1);
	run_until(f, &f->n, 1);
	assert_string_equal(f->data[0], MSG2);
	close(fd);
	fx_free(f);
}

/* RFC 3261 §18.2.2: the response goes back on the request's connection, by
 * conn_id and (§18.1.1 reuse) by the peer's address, without a new connection. */
static void test_tcp_reuse_for_reply(void **state)
{
	struct fx *f = fx_new(NULL, true);
	int fd = client(f, NULL);
	wr(fd, MSG2, sizeof(MSG2) - 1);
	run_until(f, &f->n, 1);
	struct tp_dest d = {.proto = TP_TCP, .conn_id = f->conn[0]};
	assert_int_equal(tp_send(f->tp, &d, "SIP/2.0 200 OK\r\n\r\n", 18), (int64_t)f->conn[0]);
	char buf[64];
	assert_int_equal(rd(fd, buf, sizeof(buf)), 18);
	struct tp_dest byaddr = {.proto = TP_TCP, .addr = f->src[0]};
	assert_int_equal(tp_send(f->tp, &byaddr, "ABC", 3), (int64_t)f->conn[0]);
	assert_int_equal(rd(fd, buf, sizeof(buf)), 3);
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.tcp_open, 1);
	assert_int_equal(st.tcp_connected, 0);
	close(fd);
	fx_free(f);
}

/* RFC 3261 §18.1.1: an outbound connection is opened, data queued until it is
 * up, and reused by address; a refused connect is reported through closed(). */
static void test_tcp_outbound_connect(void **state)
{
	struct fx *f = fx_new(NULL, false);
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct tp_dest d = {.proto = TP_TCP};
	tp_addr_from_ip(STR_LIT("127.0.0.1"), 0, &d.addr);
	assert_int_equal(bind(ls, &d.addr.sa, tp_addr_len(&d.addr)), 0);
	assert_int_equal(listen(ls, 4), 0);
	socklen_t sl = sizeof(d.addr);
	assert_int_equal(getsockname(ls, &d.addr.sa, &sl), 0); /* the port bound */
	int64_t id = tp_send(f->tp, &d, MSG2, sizeof(MSG2) - 1);
	assert_true(id > 0);
	assert_int_equal(tp_send(f->tp, &d, "X", 1), id);
	struct tp_stats st = {0};
	while (st.tcp_connected == 0 && f->nclosed == 0) {
		event_base_loop(f->base, EVLOOP_ONCE);
		tp_get_stats(f->tp, &st);
	}
	spin(f);
	int peer = accept(ls, NULL, NULL);
	assert_true(peer >= 0);
	char buf[256];
	size_t got = 0;
	while (got < sizeof(MSG2)) {
		ssize_t n = read(peer, buf + got, sizeof(buf) - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(buf, MSG2 "X", sizeof(MSG2));
	/* the peer answers on the same connection */
	wr(peer, MSG1, sizeof(MSG1) - 1);
	run_until(f, &f->n, 1);
	assert_int_equal(f->conn[0], (uint64_t)id);
	close(peer);
	close(ls);
	run_until(f, &f->nclosed, 1); /* the peer's close is reported too */
	assert_int_equal(f->closed_id[0], (uint64_t)id);
	assert_int_equal(f->closed_err[0], 0);

	/* nothing listens on 15216: the failure arrives through closed() */
	struct tp_dest bad = {.proto = TP_TCP};
	tp_addr_from_ip(STR_LIT("127.0.0.1"), 15216, &bad.addr);
	unsigned before = f->nclosed;
	int64_t bid = tp_send(f->tp, &bad, "X", 1);
	if (bid > 0) {
		run_until(f, &f->nclosed, before + 1);
		assert_int_equal(f->closed_id[before], (uint64_t)bid);
		assert_int_equal(f->closed_err[before], ECONNREFUSED);
	} else {
		assert_int_equal(bid, -ECONNREFUSED);
	}
	fx_free(f);
}

/* Idle connections are closed (tcp_idle_timeout); no timing is asserted, only
 * that the close happens and is counted. */
static void test_tcp_idle_timeout(void **state)
{
	struct tp_config cfg = {.tcp_idle_timeout = 1};
	struct fx *f = fx_new(&cfg, true);
	int fd = client(f, NULL);
	run_until(f, &f->nclosed, 1);
	assert_int_equal(f->nclosed, 1);
	assert_int_equal(f->closed_err[0], ETIMEDOUT);
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.tcp_idle_closed, 1);
	assert_int_equal(st.tcp_open, 0);
	char c;
	assert_int_equal(read(fd, &c, 1), 0); /* EOF */
	close(fd);
	fx_free(f);
}

struct drip {
	int fd;
	unsigned sent;
};

static void on_drip(evutil_socket_t x, short w, void *arg)
{
	struct drip *d = arg;
	if (send(d->fd, "a", 1, MSG_NOSIGNAL) == 1)
		d->sent++;
}

/* Slowloris: a peer that keeps a message incomplete, though it keeps sending,
 * is closed once the idle timeout passes from the message's first byte. */
static void test_tcp_slow_partial_message(void **state)
{
	struct tp_config cfg = {.tcp_idle_timeout = 1};
	struct fx *f = fx_new(&cfg, true);
	struct drip d = {.fd = client(f, NULL)};
	wr(d.fd, "INVITE sip:a@b SIP/2.0\r\nX-Slow: ", 32);
	struct event *t = event_new(f->base, -1, EV_PERSIST, on_drip, &d);
	struct timeval tv = {0, 200000};
	evtimer_add(t, &tv);
	run_until(f, &f->nclosed, 1);
	event_free(t);
	assert_int_equal(f->nclosed, 1);
	assert_int_equal(f->n, 0);
	assert_true(d.sent > 0);
	close(d.fd);
	fx_free(f);
}

/* tcp_max_conns: connections beyond the cap are accepted and closed at once. */
static void test_tcp_conn_cap(void **state)
{
	struct tp_config cfg = {.tcp_max_conns = 2};
	struct fx *f = fx_new(&cfg, true);
	int a = client(f, NULL), b = client(f, NULL);
	struct tp_stats st = {0};
	while (st.tcp_accepted < 2) {
		event_base_loop(f->base, EVLOOP_ONCE);
		tp_get_stats(f->tp, &st);
	}
	int c = client(f, NULL);
	while (st.tcp_refused_cap < 1) {
		event_base_loop(f->base, EVLOOP_ONCE);
		tp_get_stats(f->tp, &st);
	}
	assert_int_equal(st.tcp_open, 2);
	assert_int_equal(st.tcp_accepted, 2);
	char ch;
	assert_int_equal(read(c, &ch, 1), 0); /* closed on us */
	close(a);
	close(b);
	close(c);
	fx_free(f);
}

/* RFC 3261 §18.3: without Content-Length the stream cannot be framed: closed. */
static void test_tcp_framing_error_closes(void **state)
{
	struct fx *f = fx_new(NULL, true);
	int fd = client(f, NULL);
	const char bad[] = "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h\r\n\r\n";
	wr(fd, bad, sizeof(bad) - 1);
	run_until(f, &f->nclosed, 1);
	assert_int_equal(f->n, 0);
	assert_int_equal(f->closed_err[0], EPROTO);
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.tcp_framing_errors, 1);
	char ch;
	assert_int_equal(read(fd, &ch, 1), 0);
	close(fd);
	fx_free(f);
}

/* A peer that does not read: past tcp_max_pending queued bytes the connection
 * is dropped instead of buffering without bound. */
static void test_tcp_write_queue_cap(void **state)
{
	struct tp_config cfg = {.tcp_max_pending = 256 * 1024};
	struct fx *f = fx_new(&cfg, true);
	int fd = client(f, NULL);
	wr(fd, MSG2, sizeof(MSG2) - 1);
	run_until(f, &f->n, 1);
	static char chunk[65536];
	memset(chunk, 'y', sizeof(chunk));
	struct tp_dest d = {.proto = TP_TCP, .conn_id = f->conn[0]};
	int64_t rc = 0;
	for (int i = 0; i < 2000 && rc >= 0; i++)
		rc = tp_send(f->tp, &d, chunk, sizeof(chunk));
	assert_int_equal(rc, -ENOBUFS);
	assert_int_equal(f->nclosed, 1);
	assert_int_equal(f->closed_err[0], ENOBUFS);
	assert_false(tp_conn_alive(f->tp, f->conn[0]));
	close(fd);
	fx_free(f);
}

/* RFC 3261 §18 over IPv6: framing and a reply on the same connection. */
static void test_tcp_ipv6(void **state)
{
	struct fx *f = fx_new(NULL, false);
	if (tp_listen(f->tp, TP_TCP, "::1", 0, NULL) < 0) {
		fx_free(f);
		skip(); /* no IPv6 loopback here */
	}
	const struct tp_listener *l = tp_listener_for(f->tp, TP_TCP, AF_INET6);
	assert_string_equal(l->host, "[::1]");
	union tp_sockaddr to = l->local, me;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, &to.sa, tp_addr_len(&to)), 0);
	socklen_t sl = sizeof(me);
	getsockname(fd, &me.sa, &sl);
	wr(fd, MSG1, sizeof(MSG1) - 1);
	run_until(f, &f->n, 1);
	assert_string_equal(f->data[0], MSG1);
	assert_true(tp_addr_equal(&f->src[0], &me));
	struct tp_dest d = {.proto = TP_TCP, .addr = me};
	assert_int_equal(tp_send(f->tp, &d, "SIP/2.0 200 OK\r\n\r\n", 18), (int64_t)f->conn[0]);
	char buf[32];
	assert_int_equal(rd(fd, buf, sizeof(buf)), 18);
	close(fd);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tcp_message_byte_by_byte),
	    cmocka_unit_test(test_tcp_two_messages_one_write),
	    cmocka_unit_test(test_tcp_large_message),
	    cmocka_unit_test(test_tcp_crlf_keepalive),
	    cmocka_unit_test(test_tcp_reuse_for_reply),
	    cmocka_unit_test(test_tcp_outbound_connect),
	    cmocka_unit_test(test_tcp_idle_timeout),
	    cmocka_unit_test(test_tcp_slow_partial_message),
	    cmocka_unit_test(test_tcp_conn_cap),
	    cmocka_unit_test(test_tcp_framing_error_closes),
	    cmocka_unit_test(test_tcp_write_queue_cap),
	    cmocka_unit_test(test_tcp_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
