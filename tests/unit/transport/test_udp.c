/* test_udp.c — UDP transport over loopback (RFC 3261 §18.1.1/§18.2.1):
 * receive with the real source address, send back from the listener socket,
 * IPv4 and IPv6, batched recvmmsg, and the address helpers. Listeners bind
 * port 0 and the test reads back the port the kernel picked. */
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

#define MAXPKT 64

struct fx {
	struct event_base *base;
	struct tp *tp;
	unsigned n;
	char data[MAXPKT][128];
	size_t len[MAXPKT];
	union tp_sockaddr src[MAXPKT];
	const struct tp_listener *lis[MAXPKT];
	uint64_t conn[MAXPKT];
};

static void on_recv(void *arg, const struct tp_packet *p)
{
	struct fx *f = arg;
	if (f->n >= MAXPKT)
		return;
	size_t l = p->len < sizeof(f->data[0]) ? p->len : sizeof(f->data[0]) - 1;
	memcpy(f->data[f->n], p->buf, l);
	f->data[f->n][l] = 0;
	f->len[f->n] = p->len;
	f->src[f->n] = p->src;
	f->lis[f->n] = p->listener;
	f->conn[f->n] = p->conn_id;
	f->n++;
}

static void on_guard(evutil_socket_t fd, short w, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the loop until n packets arrived (a guard stops a broken test from hanging). */
static void run_until(struct fx *f, unsigned n)
{
	struct event *g = evtimer_new(f->base, on_guard, f->base);
	struct timeval tv = {10, 0};
	evtimer_add(g, &tv);
	while (f->n < n && !event_base_got_break(f->base))
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(g);
}

static struct fx *fx_new(unsigned batch)
{
	struct fx *f = calloc(1, sizeof(*f));
	(void)batch; /* one recvmmsg batch is TP_UDP_BATCH datagrams */
	struct tp_config cfg = unit_tp_config(NULL);
	f->base = event_base_new();
	f->tp = tp_new(f->base, &cfg, on_recv, NULL, f);
	assert_non_null(f->tp);
	return f;
}

static void fx_free(struct fx *f)
{
	tp_free(f->tp);
	event_base_free(f->base);
	free(f);
}

static int client(int fam, const char *ip, union tp_sockaddr *bound)
{
	int fd = socket(fam, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	union tp_sockaddr a;
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), 0, &a), 0);
	assert_int_equal(bind(fd, &a.sa, tp_addr_len(&a)), 0);
	socklen_t sl = sizeof(*bound);
	getsockname(fd, &bound->sa, &sl);
	return fd;
}

static void roundtrip(int fam, const char *ip, const char *host)
{
	struct fx *f = fx_new(0);
	int rc = tp_listen(f->tp, TP_UDP, ip, 0, NULL);
	if (fam == AF_INET6 && rc < 0) {
		fx_free(f);
		skip();
	}
	assert_int_equal(rc, 0);
	const struct tp_listener *l = tp_listener_for(f->tp, TP_UDP, fam);
	assert_non_null(l);
	assert_string_equal(l->host, host);
	/* port 0 asked for an ephemeral port: port and local hold the one bound */
	uint16_t port = l->port;
	assert_true(port != 0);
	assert_int_equal(tp_addr_port(&l->local), port);

	union tp_sockaddr me, to;
	int fd = client(fam, ip, &me);
	tp_addr_from_ip(str_cstr(ip), port, &to);
	const char msg[] = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	assert_int_equal(sendto(fd, msg, sizeof(msg) - 1, 0, &to.sa, tp_addr_len(&to)),
			 (ssize_t)sizeof(msg) - 1);
	run_until(f, 1);
	assert_int_equal(f->n, 1);
	assert_string_equal(f->data[0], msg);
	/* RFC 3581 needs the packet's real source: it is the client's socket */
	assert_true(tp_addr_equal(&f->src[0], &me));
	assert_ptr_equal(f->lis[0], l);
	assert_int_equal(f->conn[0], 0);

	/* RFC 3261 §18.2.2: the response goes to the source address */
	struct tp_dest d = {.proto = TP_UDP, .addr = f->src[0]};
	assert_int_equal(tp_send(f->tp, &d, "SIP/2.0 200 OK\r\n\r\n", 18), 0);
	char buf[64];
	union tp_sockaddr from;
	socklen_t sl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, &from.sa, &sl);
	assert_int_equal(n, 18);
	assert_memory_equal(buf, "SIP/2.0 200 OK", 14);
	/* sent from the listener, so the peer sees our Via address */
	assert_true(tp_addr_equal(&from, &l->local));
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.udp_rx, 1);
	assert_int_equal(st.udp_tx, 1);
	close(fd);
	fx_free(f);
}

/* RFC 3261 §18.1.1 / §18.2.1 over IPv4 */
static void test_udp_ipv4_roundtrip(void **state)
{
	roundtrip(AF_INET, "127.0.0.1", "127.0.0.1");
}

/* RFC 3261 §18 over IPv6; the advertised host is an IPv6reference (§25.1) */
static void test_udp_ipv6_roundtrip(void **state)
{
	roundtrip(AF_INET6, "::1", "[::1]");
}

/* Batched receive: more datagrams than one recvmmsg batch, none lost or reordered. */
static void test_udp_batch(void **state)
{
	struct fx *f = fx_new(8);
	assert_int_equal(tp_listen(f->tp, TP_UDP, "127.0.0.1", 0, "proxy.example.com"), 0);
	const struct tp_listener *l = tp_listener_for(f->tp, TP_UDP, AF_INET);
	assert_string_equal(l->host, "proxy.example.com");
	union tp_sockaddr me, to = l->local;
	int fd = client(AF_INET, "127.0.0.1", &me);
	for (int i = 0; i < 60; i++) {
		char m[32];
		int len = snprintf(m, sizeof(m), "msg %d", i);
		assert_int_equal(sendto(fd, m, (size_t)len, 0, &to.sa, tp_addr_len(&to)), len);
	}
	run_until(f, 60);
	assert_int_equal(f->n, 60);
	for (int i = 0; i < 60; i++) {
		char m[32];
		snprintf(m, sizeof(m), "msg %d", i);
		assert_string_equal(f->data[i], m);
	}
	close(fd);
	fx_free(f);
}

/* No listener of the destination's family: a value, not a crash. */
static void test_udp_send_no_listener(void **state)
{
	struct fx *f = fx_new(0);
	assert_int_equal(tp_listen(f->tp, TP_UDP, "127.0.0.1", 0, NULL), 0);
	struct tp_dest d = {.proto = TP_UDP};
	tp_addr_from_ip(STR_LIT("::1"), 15204, &d.addr);
	assert_true(tp_send(f->tp, &d, "x", 1) < 0);
	d.proto = TP_TLS; /* RFC 3261 §26.2: sips needs TLS, not built yet */
	assert_int_equal(tp_send(f->tp, &d, "x", 1), -EPROTONOSUPPORT);
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	assert_int_equal(st.send_errors, 2);
	assert_int_equal(tp_listen(f->tp, TP_UDP, "not-an-ip", 0, NULL), -EINVAL);
	fx_free(f);
}

/* Address helpers used for Via received/rport (RFC 3581) and connection reuse. */
static void test_tp_addr_helpers(void **state)
{
	union tp_sockaddr a, b;
	char buf[64];
	assert_int_equal(tp_addr_from_ip(STR_LIT("[2001:db8::1]"), 5061, &a), 0);
	assert_string_equal(tp_addr_str(&a, buf, sizeof(buf)), "[2001:db8::1]:5061");
	assert_int_equal(tp_addr_from_ip(STR_LIT("192.0.2.7"), 5060, &b), 0);
	assert_string_equal(tp_addr_str(&b, buf, sizeof(buf)), "192.0.2.7:5060");
	assert_false(tp_addr_equal(&a, &b));
	union tp_sockaddr c = b;
	c.in4.sin_port = htons(5070);
	assert_true(tp_addr_same_ip(&b, &c));
	assert_false(tp_addr_equal(&b, &c));
	assert_int_equal(tp_addr_from_ip(STR_LIT("example.com"), 1, &a), -EINVAL);
	assert_int_equal(tp_addr_from_ip(STR_LIT(""), 1, &a), -EINVAL);
	enum tp_proto p;
	assert_int_equal(tp_proto_parse(STR_LIT("tcp"), &p), 0);
	assert_int_equal(p, TP_TCP);
	assert_int_equal(tp_proto_parse(STR_LIT("sctp"), &p), -1);
	assert_string_equal(tp_proto_name(TP_TLS), "TLS");
	assert_true(tp_proto_is_stream(TP_TCP));
	assert_false(tp_proto_is_stream(TP_UDP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_ipv4_roundtrip), cmocka_unit_test(test_udp_ipv6_roundtrip),
	    cmocka_unit_test(test_udp_batch),	       cmocka_unit_test(test_udp_send_no_listener),
	    cmocka_unit_test(test_tp_addr_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
