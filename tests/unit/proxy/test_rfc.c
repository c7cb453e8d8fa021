/* test_rfc.c — what a peer sees of the proxy (RFC 3261 §16, RFC 3581):
 * received/rport in the sender's Via (forward.c), CANCEL with and without a
 * transaction (§16.10, cancel.c), the stateless ACK of a 2xx (§16.11,
 * stateless.c), the answers of validation (§16.3, receive.c, validate.c),
 * the 500 for a 503 and the 408 of a timeout (§16.7), and drain (request.c). */
#include "proxy_test.h"

#include "app/app.h"

#define EP "127.0.0.20:5000"

/* The sender's Via as the next hop sees it: the second of the request the
 * proxy sent last starting with prefix. */
static const struct sip_via *sender_via(struct harness *h, const char *prefix)
{
	const struct harness_out *o = test_sent(h, prefix, HARNESS_SERVER);
	assert_non_null(o->msg->via);
	assert_non_null(o->msg->via->next);
	return o->msg->via->next;
}

/* Does the parameter have the value want? Prints the Via when not. */
static bool param_is(const struct sip_via *v, struct str value, const char *want)
{
	if (str_present(value) && str_eq(value, str_cstr(want)))
		return true;
	fprintf(stderr, "forwarded Via %.*s: wanted %s\n", STR_FMT(v->raw), want);
	return false;
}

struct via_case {
	const char *src, *via, *received, *rport; /* rport NULL: not checked */
	bool tcp;
};

/* Sends an OPTIONS with each Via from its source to the SIP Server and
 * checks the sender's Via there: one received, with the source IP, and
 * rport with the source port. Returns how many cases failed. */
static unsigned check_vias(const struct via_case *cases, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		struct harness *h = test_harness(NULL);
		char msg[4096], via[256], cid[32];
		snprintf(cid, sizeof(cid), "rport%zu", i);
		snprintf(via, sizeof(via), "%s;branch=z9hG4bK-%s", cases[i].via, cid);
		test_req_via(msg, sizeof(msg), "OPTIONS", "sip:bob@sipproxy.test", via, 70, cid,
			     "");
		if (cases[i].tcp)
			harness_tcp(h, harness_tcp_open(h, cases[i].src), msg);
		else
			harness_udp(h, cases[i].src, msg);
		const struct sip_via *v = sender_via(h, "OPTIONS ");
		bool ok = param_is(v, v->received, cases[i].received);
		if (cases[i].rport)
			ok = param_is(v, v->rport, cases[i].rport) && ok;
		ok = ok && test_occurrences(test_sent(h, "OPTIONS ", NULL), "received=") == 1;
		bad += !ok;
		harness_free(h);
	}
	return bad;
}

/* RFC 3581 §4: with rport the proxy MUST add received=<source IP> "even if
 * it is identical to the value of the sent-by", and fill rport with the
 * source port; over TCP and IPv6 too (received without brackets, §20.42).
 * §18.2.1: a sent-by that is a name or another address gets received too. */
static void test_received_and_rport(void **state)
{
	(void)state;
	static const struct via_case cases[] = {
	    {EP, "SIP/2.0/UDP 127.0.0.20:5000;rport", "127.0.0.20", "5000", false},
	    {"127.0.0.20:6000", "SIP/2.0/UDP 127.0.0.20:5000;rport", "127.0.0.20", "6000", false},
	    {EP, "SIP/2.0/UDP ua.example.com:5000", "127.0.0.20", NULL, false},
	    {EP, "SIP/2.0/UDP 127.0.0.21:5000", "127.0.0.20", NULL, false},
	    {"[2001:db8::20]:5000", "SIP/2.0/UDP [2001:db8::20]:5000;rport", "2001:db8::20", "5000",
	     false},
	    {"127.0.0.20:40000", "SIP/2.0/TCP 127.0.0.20:5000;rport", "127.0.0.20", "40000", true},
	};
	assert_int_equal(check_vias(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* §18.2.1 ("the server MUST add a received parameter ... MUST contain the
 * source address") and RFC 3581 §4: a received the sender wrote itself is
 * not where the request came from; the next hop must see the source IP,
 * not the sender's claim (txn_respond.c ignores that claim for the same
 * reason). */
static void test_sender_written_received_replaced(void **state)
{
	(void)state;
	static const struct via_case cases[] = {
	    {EP, "SIP/2.0/UDP 127.0.0.20:5000;received=127.0.0.9;rport", "127.0.0.20", "5000",
	     false},
	    {EP, "SIP/2.0/UDP 127.0.0.9:5000;received=127.0.0.9", "127.0.0.20", NULL, false},
	};
	assert_int_equal(check_vias(cases, sizeof(cases) / sizeof(cases[0])), 0);
}

/* §16.10: a CANCEL matching no transaction is forwarded (from an endpoint:
 * to the SIP Server) and the answer comes back to its sender. */
static void test_cancel_without_transaction_forwarded(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "CANCEL", "sip:bob@sipproxy.test", EP, "nc1", ""));
	const struct harness_out *c = test_sent(h, "CANCEL ", HARNESS_SERVER);
	assert_int_equal(test_last_status(h, EP), 0);
	harness_reply(h, c, 481, NULL);
	assert_int_equal(test_last_status(h, EP), 481);
	harness_free(h);
}

/* §16.10 / §9.1: a CANCEL for a pending INVITE is answered 200 by the proxy;
 * the CANCEL downstream waits for a provisional, then carries the INVITE's
 * Request-URI and top Via branch; the 487 reaches the caller and the proxy
 * ACKs it hop by hop (§17.1.1.3). */
static void test_cancel_pending_invite(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", EP, "cp1", ""));
	const struct harness_out *inv = test_sent(h, "INVITE ", HARNESS_SERVER);
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "CANCEL", "sip:bob@sipproxy.test", EP, "cp1", ""));
	const struct harness_out *ok = harness_find(h, "SIP/2.0 200", EP);
	assert_non_null(ok);
	assert_int_equal(ok->msg->cseq_method, SIP_METHOD_CANCEL);
	assert_int_equal(harness_count_of(h, "CANCEL ", NULL), 0); /* no provisional yet */
	harness_reply(h, inv, 180, NULL);
	const struct harness_out *c = test_sent(h, "CANCEL ", HARNESS_SERVER);
	assert_true(str_eq(c->msg->ruri_str, inv->msg->ruri_str));
	assert_true(str_eq(c->msg->via->branch, inv->msg->via->branch));
	assert_null(c->msg->via->next);
	assert_int_equal(c->msg->cseq, inv->msg->cseq);
	harness_reply(h, c, 200, NULL);
	harness_reply(h, inv, 487, NULL);
	assert_int_equal(test_last_status(h, EP), 487);
	assert_int_equal(test_finals_to(h, EP), 2); /* the CANCEL's 200, the 487 */
	assert_int_equal(harness_count_of(h, "ACK ", HARNESS_SERVER), 1);
	harness_free(h);
}

/* §16.11 / §16.6: the ACK of a 2xx is forwarded without state along its
 * Route (ours popped); a retransmission gets the same branch, another ACK
 * another one. */
static void test_2xx_ack_stateless(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char ack1[4096], ack2[4096];
	const char *route = "<sip:127.0.0.1:5060;lr>, <sip:127.0.0.30:5070;lr>";
	test_dialog_req(ack1, sizeof(ack1), "ACK", "sip:bob@127.0.0.31:5071", HARNESS_SERVER, route,
			"ack1", 1);
	test_dialog_req(ack2, sizeof(ack2), "ACK", "sip:bob@127.0.0.31:5071", HARNESS_SERVER, route,
			"ack2", 1);
	harness_udp(h, HARNESS_SERVER, ack1);
	harness_udp(h, HARNESS_SERVER, ack1);
	harness_udp(h, HARNESS_SERVER, ack2);
	assert_int_equal(harness_count(h), 3);
	const struct harness_out *o[3];
	for (size_t i = 0; i < 3; i++) {
		o[i] = harness_out(h, i);
		assert_non_null(o[i]->msg);
		char a[64];
		assert_string_equal(tp_addr_str(&o[i]->dest.addr, a, sizeof(a)), "127.0.0.30:5070");
		assert_true(str_eq(o[i]->msg->ruri_str, STR_LIT("sip:bob@127.0.0.31:5071")));
		assert_non_null(o[i]->msg->route);
		assert_null(o[i]->msg->route->next);
		assert_int_equal(o[i]->msg->max_forwards, 69);
	}
	assert_true(str_eq(o[0]->msg->via->branch, o[1]->msg->via->branch));
	assert_false(str_eq(o[0]->msg->via->branch, o[2]->msg->via->branch));
	assert_int_equal(test_stats(h).contexts_active, 0);
	harness_free(h);
}

/* RFC 4475 §3.1.2.1 (badinv01): a Via that cannot be parsed gets a 400 at
 * the packet's source (never at 192.0.2.15), over UDP and TCP. */
static void test_bad_via_400_at_source(void **state)
{
	(void)state;
	static const char bad[] = "INVITE sip:user@example.com SIP/2.0\r\n"
				  "To: sip:j.user@example.com\r\n"
				  "From: sip:caller@example.net;tag=134161461246\r\n"
				  "Max-Forwards: 7\r\n"
				  "Call-ID: badinv01.0ha0isndaksdjasdf3234nas\r\n"
				  "CSeq: 8 INVITE\r\n"
				  "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n"
				  "Contact: \"Joe\" <sip:joe@example.org>;;;;\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct harness *h = test_harness(NULL);
	harness_udp(h, EP, bad);
	assert_int_equal(harness_count(h), 1);
	assert_non_null(harness_find(h, "SIP/2.0 400 ", EP)); /* its copied Via won't parse */
	harness_clear(h);
	uint64_t c = harness_tcp_open(h, "127.0.0.20:40000");
	harness_tcp(h, c, bad);
	assert_int_equal(harness_count(h), 1);
	assert_int_equal(harness_out(h, 0)->conn_id, c);
	assert_non_null(harness_find(h, "SIP/2.0 400 ", "127.0.0.20:40000"));
	assert_true(test_stats(h).parse_errors >= 2);
	harness_free(h);
}

/* §16.3 steps 3 and 5: Max-Forwards 0 is 483; a Proxy-Require the proxy
 * does not know is 420 listing it in Unsupported (§20.40); Require is the
 * UAS's business (§16.3: proxies ignore it) and is forwarded. */
static void test_validation_answers(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, EP,
		    test_req_via(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test",
				 "SIP/2.0/UDP " EP ";branch=z9hG4bK-mf0;rport", 0, "mf0", ""));
	assert_int_equal(test_last_status(h, EP), 483);
	assert_int_equal(harness_count_of(h, "INVITE ", NULL), 0);
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@sipproxy.test", EP, "pr1",
			     "Proxy-Require: x-foo, x-bar\r\nProxy-Require: x-baz\r\n"));
	const struct harness_out *o = harness_find(h, "SIP/2.0 420", EP);
	assert_non_null(o);
	struct str u = sip_msg_hdr(o->msg, SIP_HDR_UNSUPPORTED)->value;
	assert_true(str_eq(u, STR_LIT("x-foo, x-bar, x-baz")));
	assert_int_equal(harness_count_of(h, "OPTIONS ", NULL), 0);
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@sipproxy.test", EP, "rq1",
			     "Require: x-foo\r\n"));
	assert_non_null(harness_find(h, "OPTIONS ", HARNESS_SERVER));
	harness_free(h);
}

/* §16.3 step 4: the request comes back (via the peer proxy) with our Via
 * and the same loop hash: 482; changed Request-URI: a spiral, forwarded. */
static void test_loop_and_spiral(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096], back[8192];
	harness_udp(h, HARNESS_SERVER,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@" HARNESS_PEER, HARNESS_SERVER,
			     "loop1", ""));
	const struct harness_out *o = test_sent(h, "OPTIONS ", HARNESS_PEER);
	const char *eol = strstr(o->buf, "\r\n");
	for (int spiral = 0; spiral < 2; spiral++) {
		/* the peer routes it back to us, adding its Via */
		snprintf(back, sizeof(back),
			 "OPTIONS %s SIP/2.0\r\n"
			 "Route: <sip:127.0.0.1:5060;lr>\r\n"
			 "Via: SIP/2.0/UDP 127.0.0.6:5060;branch=z9hG4bK-peer%d\r\n%s",
			 spiral ? "sip:bob@127.0.0.32:5072" : "sip:bob@" HARNESS_PEER, spiral,
			 eol + 2);
		harness_udp(h, HARNESS_PEER, back);
		if (spiral)
			assert_non_null(
			    harness_find(h, "OPTIONS sip:bob@127.0.0.32:5072 ", "127.0.0.32:5072"));
		else
			assert_int_equal(test_last_status(h, HARNESS_PEER), 482);
	}
	assert_int_equal(harness_count_of(h, "SIP/2.0 482", NULL), 1);
	harness_free(h);
}

/* The harness's cluster with passive detection off: only Timer B/F end a
 * request nobody answers. */
#define NO_PASSIVE                                                                                 \
	"cluster = {\n"                                                                            \
	"  proxies = ( { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = 5060; } );\n" \
	"  sip-servers = ( { name = \"s1\"; sip-address = \"127.0.0.3\"; sip-port = 5090;\n"       \
	"    backup-sip-address = \"127.0.0.4\"; oos-check = 0; } );\n"                            \
	"  no-response-timeout = 0;\n"                                                             \
	"};\n"

/* §16.7 step 6: a SIP Server's 503 is not passed on. A 503 before any
 * provisional means the member is a backup or overloaded: the request is
 * retried once on the pair's other member (probing off: passive detection
 * switches the pair), whose 503 the caller gets as 500. */
static void test_503_and_timeout(void **state)
{
	(void)state;
	static const char *const methods[] = {"MESSAGE", "INVITE"};
	for (size_t i = 0; i < 2; i++) {
		struct harness *h = test_harness(NULL);
		char msg[4096], prefix[16];
		snprintf(prefix, sizeof(prefix), "%s ", methods[i]);
		harness_udp(h, EP,
			    test_req(msg, sizeof(msg), methods[i], "sip:bob@sipproxy.test", EP,
				     i ? "u503i" : "u503m", ""));
		harness_reply(h, test_sent(h, prefix, HARNESS_SERVER), 503, "Retry-After: 10\r\n");
		assert_int_equal(test_finals_to(h, EP), 0);
		harness_reply(h, test_sent(h, prefix, HARNESS_BACKUP), 503, "Retry-After: 10\r\n");
		assert_int_equal(test_last_status(h, EP), 500);
		assert_int_equal(harness_count_of(h, "SIP/2.0 503", NULL), 0);
		assert_int_equal(harness_count_of(h, prefix, NULL), 2);
		harness_free(h);

		/* Nobody answers, passive detection off: Timer F / Timer B
		 * (64*T1) is 408. */
		h = test_harness(NO_PASSIVE);
		harness_udp(h, EP,
			    test_req(msg, sizeof(msg), methods[i], "sip:bob@sipproxy.test", EP,
				     i ? "uto-i" : "uto-m", ""));
		harness_advance(h, 31000);
		assert_int_equal(test_finals_to(h, EP), 0);
		harness_advance(h, 1500);
		assert_int_equal(test_last_status(h, EP), 408);
		harness_free(h);

		/* Passive detection on (2 s): the member's silence moves the
		 * request to the other member at once, and its silence too
		 * ends it with 408 well before Timer B/F. */
		h = test_harness(NULL);
		harness_udp(h, EP,
			    test_req(msg, sizeof(msg), methods[i], "sip:bob@sipproxy.test", EP,
				     i ? "upa-i" : "upa-m", ""));
		assert_non_null(test_sent(h, prefix, HARNESS_SERVER));
		harness_advance(h, 2000);
		assert_non_null(test_sent(h, prefix, HARNESS_BACKUP));
		assert_int_equal(test_finals_to(h, EP), 0);
		harness_advance(h, 2000);
		assert_int_equal(test_last_status(h, EP), 408);
		harness_free(h);
	}
}

/* Drain (SIGTERM): new requests get 503 with Retry-After (§21.5.4,
 * §20.33), from endpoints and the SIP Server alike; a transaction begun
 * before still finishes, and so does a CANCEL for a pending INVITE. */
static void test_drain_refuses_new_requests(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "MESSAGE", "sip:bob@sipproxy.test", EP, "dr1", ""));
	const struct harness_out *m = test_sent(h, "MESSAGE ", HARNESS_SERVER);
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", EP, "dr2", ""));
	const struct harness_out *inv = test_sent(h, "INVITE ", HARNESS_SERVER);
	harness_reply(h, inv, 180, NULL);
	app_drain(harness_app(h));
	static const char *const from[] = {"127.0.0.22:5002", HARNESS_SERVER};
	for (size_t i = 0; i < 2; i++) {
		harness_udp(h, from[i],
			    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", from[i],
				     i ? "dr3" : "dr4", ""));
		const struct harness_out *r = harness_find(h, "SIP/2.0 503", from[i]);
		assert_non_null(r);
		assert_non_null(sip_msg_hdr_by_name(r->msg, STR_LIT("Retry-After")));
	}
	assert_int_equal(harness_count_of(h, "INVITE ", NULL), 1);
	harness_reply(h, m, 200, NULL);
	assert_non_null(harness_find(h, "SIP/2.0 200", EP));
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "CANCEL", "sip:bob@sipproxy.test", EP, "dr2", ""));
	assert_non_null(harness_find(h, "CANCEL ", HARNESS_SERVER));
	harness_reply(h, inv, 487, NULL);
	assert_int_equal(test_last_status(h, EP), 487);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_received_and_rport),
	    cmocka_unit_test(test_sender_written_received_replaced),
	    cmocka_unit_test(test_cancel_without_transaction_forwarded),
	    cmocka_unit_test(test_cancel_pending_invite),
	    cmocka_unit_test(test_2xx_ack_stateless),
	    cmocka_unit_test(test_bad_via_400_at_source),
	    cmocka_unit_test(test_validation_answers),
	    cmocka_unit_test(test_loop_and_spiral),
	    cmocka_unit_test(test_503_and_timeout),
	    cmocka_unit_test(test_drain_refuses_new_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
