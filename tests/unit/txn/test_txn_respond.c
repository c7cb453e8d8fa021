/* test_txn_respond.c — RFC 3261 §18.2.2 (with RFC 3581 rport): where a server
 * transaction sends its responses, checked on txn_response_dest directly. */
#include <arpa/inet.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "sip/msg.h"
#include "transport/transport.h"
#include "txn/txn_internal.h"

static struct sip_msg *req_with_via(const char *via)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
			 "Via: %s\r\n"
			 "Max-Forwards: 70\r\n"
			 "From: <sip:a@127.0.0.1>;tag=1\r\n"
			 "To: <sip:x@127.0.0.1>\r\n"
			 "Call-ID: r-1\r\n"
			 "CSeq: 1 OPTIONS\r\n"
			 "Content-Length: 0\r\n\r\n",
			 via);
	struct sip_msg *m = sip_msg_new(buf, (size_t)n);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	assert_non_null(m);
	assert_int_equal(sip_msg_parse(m, &lim), 0);
	return m;
}

struct env {
	struct event_base *base;
	struct tp *tp;
	struct tp_packet pkt;
};

static void no_recv(void *arg, const struct tp_packet *pkt)
{
	(void)arg;
	(void)pkt;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	e->base = event_base_new();
	struct config cfg;
	config_defaults(&cfg);
	struct tp_config c;
	config_transport(&cfg, &c);
	e->tp = tp_new(e->base, &c, no_recv, NULL, NULL);
	assert_non_null(e->tp);
	e->pkt.proto = TP_UDP;
	tp_addr_from_ip(str_cstr("127.0.0.1"), 15350, &e->pkt.src);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	tp_free(e->tp);
	event_base_free(e->base);
	free(e);
	return 0;
}

/* Returns "ip:port" of the destination chosen for via (from a trusted or an
 * untrusted sender). */
static const char *dest_as(struct env *e, bool trusted, const char *via, struct tp_dest *d,
			   char *out)
{
	struct sip_msg *m = req_with_via(via);
	txn_response_dest(m->via, &e->pkt, trusted, e->tp, d);
	sip_msg_free(m);
	return tp_addr_str(&d->addr, out, 64);
}

static const char *dest_for(struct env *e, const char *via, struct tp_dest *d, char *out)
{
	return dest_as(e, false, via, d, out);
}

/* §18.2.2 unreliable: the source address ("received") at the sent-by port,
 * default 5060; a "received" that arrives in the Via is not trusted. */
static void test_udp_received_and_port(void **state)
{
	struct env *e = *state;
	struct tp_dest d;
	char a[64];
	assert_string_equal(dest_for(e, "SIP/2.0/UDP 192.0.2.9:5070;branch=z9hG4bK1", &d, a),
			    "127.0.0.1:5070");
	assert_string_equal(dest_for(e, "SIP/2.0/UDP 192.0.2.9;branch=z9hG4bK1", &d, a),
			    "127.0.0.1:5060");
	assert_string_equal(
	    dest_for(e, "SIP/2.0/UDP 192.0.2.9;received=192.0.2.77;branch=z9hG4bK1", &d, a),
	    "127.0.0.1:5060");
	assert_int_equal(d.proto, TP_UDP);
}

/* RFC 3581 §4: rport means the source port; a value the sender wrote in it
 * is not a port to aim at. */
static void test_rport(void **state)
{
	struct env *e = *state;
	struct tp_dest d;
	char a[64];
	assert_string_equal(dest_for(e, "SIP/2.0/UDP 192.0.2.9:5070;rport;branch=z9hG4bK1", &d, a),
			    "127.0.0.1:15350");
	assert_string_equal(
	    dest_for(e, "SIP/2.0/UDP 192.0.2.9:5070;rport=6379;branch=z9hG4bK1", &d, a),
	    "127.0.0.1:15350");
}

/* §18.2.2: maddr is followed for a configured peer only (numeric); an
 * endpoint's maddr would aim our responses at a third host. */
static void test_maddr(void **state)
{
	struct env *e = *state;
	struct tp_dest d;
	char a[64];
	const char *via = "SIP/2.0/UDP 192.0.2.9:5070;maddr=127.0.0.3;branch=z9hG4bK1";
	assert_string_equal(dest_as(e, true, via, &d, a), "127.0.0.3:5070");
	assert_string_equal(dest_as(e, false, via, &d, a), "127.0.0.1:5070");
	assert_string_equal(dest_as(e, true,
				    "SIP/2.0/UDP 192.0.2.9:5070;maddr=evil.example;branch=z9hG4bK1",
				    &d, a),
			    "127.0.0.1:5070");
}

/* No parseable Via (a 400 to a broken request): back to the source. */
static void test_no_via(void **state)
{
	struct env *e = *state;
	struct tp_dest d;
	char a[64];
	txn_response_dest(NULL, &e->pkt, false, e->tp, &d);
	assert_string_equal(tp_addr_str(&d.addr, a, sizeof(a)), "127.0.0.1:15350");
}

/* §18.2.2 reliable: the request's connection if still open; once closed, a
 * new connection to the source address at the sent-by port. */
static void test_stream_closed(void **state)
{
	struct env *e = *state;
	struct tp_dest d;
	char a[64];
	e->pkt.proto = TP_TCP;
	e->pkt.conn_id = 424242; /* no such connection */
	assert_string_equal(dest_for(e, "SIP/2.0/TCP 192.0.2.9:5072;branch=z9hG4bK1", &d, a),
			    "127.0.0.1:5072");
	assert_int_equal(d.conn_id, 0);
	assert_int_equal(d.proto, TP_TCP);
	e->pkt.proto = TP_UDP;
	e->pkt.conn_id = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_udp_received_and_port, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rport, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_maddr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_via, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
