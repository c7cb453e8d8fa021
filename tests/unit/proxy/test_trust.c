/* test_trust.c — the trust rule and "never a relay" (RFC 3261 §26.1, route.c,
 * txn_respond.c, response.c, flow.c): an endpoint's request reaches only the
 * SIP Server whatever its Request-URI or Route say; a response the proxy has
 * no transaction for, or from a host it did not ask, goes nowhere (RFC 6026
 * §7.3); answers go back to where a request came from, never where its Via
 * points (§18.2.2, RFC 3581 §4); Path counts only from the SBC (RFC 3327);
 * in-dialog requests follow the flow token of our Record-Route, not any
 * Contact an endpoint registers (RFC 5626 §5.3). */
#include "proxy_test.h"

#include "sip/build.h"

#define EP "127.0.0.20:5000"

static const char *const server_or_ep[] = {"127.0.0.3", "127.0.0.20", NULL};

struct spelling {
	const char *ruri;
	const char *extra;
};

/* Request-URIs and Routes naming a host other than a SIP Server. */
static const struct spelling relays[] = {
    {"sip:bob@127.0.0.9", ""},
    {"sip:bob@127.0.0.9:5060;transport=tcp", ""},
    {"sip:bob@evil.example.com", ""},
    {"sip:bob@localhost:5060", ""},
    {"sip:bob@sipproxy.test;maddr=127.0.0.9", ""},
    {"sip:bob@127.0.0.3:5090;maddr=127.0.0.9", ""},
    {"sip:bob@127.0.0.1:5060;maddr=127.0.0.9", ""},
    {"sip:bob@[2001:db8::9]:5060", ""},
    {"sip:bob@[::ffff:127.0.0.9]", ""},
    {"sip:bob@[::ffff:127.0.0.3]:5090", ""},
    {"sip:bob@127.0.0.6:5060", ""}, /* the peer proxy: trusted, but not a SIP Server */
    {"sip:bob@127.0.0.7", ""},	    /* the SBC */
    {"sip:bob@127.0.0.3:5091", ""},
    {"sips:bob@127.0.0.9", ""},
    {"tel:+15551230009", ""},
    {"sip:bob@sipproxy.test?Route=%3Csip:127.0.0.9;lr%3E", ""},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.9>\r\n"}, /* strict */
    {"sip:127.0.0.1:5060;lr", "Route: <sip:bob@127.0.0.9>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.1:5060;lr>\r\nRoute: <sip:127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.9;lr>\r\nRoute: <sip:127.0.0.3:5090;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:[::1]:5060;lr>, <sip:[::ffff:127.0.0.9];lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:evil.example.com:5090;maddr=127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.3:5090;maddr=127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sips:127.0.0.9;lr>\r\n"},
    {"sip:bob@sipproxy.test", "Route: <sip:127.0.0.9;lr;transport=tcp>\r\n"},
};

/* Did the endpoint at ip get an error from the proxy itself? */
static bool refused_locally(struct harness *h, const char *ip)
{
	union tp_sockaddr ep;
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), 0, &ep), 0);
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		if (o->msg && !o->msg->is_request && o->msg->status >= 400 &&
		    tp_addr_same_ip(&o->dest.addr, &ep))
			return true;
	}
	return false;
}

/* One endpoint request over UDP (v4 or v6) or a TCP connection closed at
 * once (the answer then needs a new connection). */
static void send_from_endpoint(struct harness *h, int how, const char *msg)
{
	if (how == 2) {
		uint64_t c = harness_tcp_open(h, "127.0.0.20:40000");
		harness_tcp(h, c, msg);
		harness_tcp_close(h, c);
	} else {
		harness_udp(h, how ? "[2001:db8::20]:5000" : EP, msg);
	}
}

/* (a) §26.1 / route.c: from an endpoint, over UDP, IPv6 and TCP, in every
 * method (the stateless ACK and an unmatched CANCEL included), nothing
 * goes anywhere but the SIP Server and back to the endpoint: each request
 * either reaches 127.0.0.3:5090 or is refused by the proxy itself. */
static void test_untrusted_reaches_only_the_server(void **state)
{
	(void)state;
	static const char *const methods[] = {"INVITE", "OPTIONS",  "MESSAGE",	"ACK",
					      "CANCEL", "REGISTER", "SUBSCRIBE"};
	static const char *const allowed[] = {"127.0.0.3", "127.0.0.20", "2001:db8::20", NULL};
	struct harness *h = test_harness(NULL);
	char msg[4096], cid[32];
	int n = 0;
	for (size_t i = 0; i < sizeof(relays) / sizeof(relays[0]); i++) {
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			for (int how = 0; how < 3; how++) {
				snprintf(cid, sizeof(cid), "relay%d", n++);
				const char *src = how == 1 ? "[2001:db8::20]:5000" : EP;
				send_from_endpoint(h, how,
						   test_req(msg, sizeof(msg), methods[m],
							    relays[i].ruri, src, cid,
							    relays[i].extra));
				char prefix[16];
				snprintf(prefix, sizeof(prefix), "%s ", methods[m]);
				const struct harness_out *fwd =
				    harness_find(h, prefix, HARNESS_SERVER);
				bool refused =
				    refused_locally(h, how == 1 ? "2001:db8::20" : "127.0.0.20");
				bool ack = strcmp(methods[m], "ACK") == 0;
				if (harness_sent_elsewhere(h, allowed) ||
				    (!fwd && !refused && !ack)) {
					test_dump(h);
					fail_msg("%s %s [%s] from %d", methods[m], relays[i].ruri,
						 relays[i].extra, how);
				}
				if (fwd)
					harness_reply(h, fwd, 200, NULL);
				assert_null(harness_sent_elsewhere(h, allowed));
				harness_clear(h);
			}
		}
	}
	assert_true(test_stats(h).relay_refused > 0);
	harness_free(h);
}

/* (b) RFC 6026 §7.3: a response with our sent-by on top, a made-up branch
 * and a victim below is dropped and counted, never forwarded statelessly:
 * every class, from an endpoint or a SIP Server, UDP or TCP, Vias in
 * separate fields, compact "v:" or comma-joined. */
static void test_stray_responses_go_nowhere(void **state)
{
	(void)state;
	static const int codes[] = {100, 180, 183, 200, 202, 301, 404, 486, 503, 603};
	static const char *const vias[] = {
	    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKmadeup%d\r\n"
	    "Via: SIP/2.0/UDP 127.0.0.9:5060;branch=z9hG4bKvictim;rport\r\n",
	    "v: SIP/2.0/UDP 127.0.0.1;branch=z9hG4bK0123456789abcdef.x%d\r\n"
	    "v: SIP/2.0/UDP 127.0.0.9:5070;received=127.0.0.9;branch=z9hG4bKv\r\n",
	    "Via: SIP/2.0/TCP 127.0.0.1:5060;branch=z9hG4bKm%d, SIP/2.0/UDP "
	    "127.0.0.9;branch=z9hG4bKv;maddr=127.0.0.9\r\n",
	    "Via: SIP/2.0/UDP [::1]:5060;branch=z9hG4bKmadeup%d\r\n"
	    "Via: SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKvictim\r\n",
	};
	static const char *const from[] = {EP, HARNESS_SERVER, "127.0.0.9:5060"};
	struct harness *h = test_harness(NULL);
	uint64_t strays = 0;
	int n = 0;
	for (size_t c = 0; c < sizeof(codes) / sizeof(codes[0]); c++)
		for (size_t v = 0; v < sizeof(vias) / sizeof(vias[0]); v++)
			for (size_t f = 0; f < 3; f++)
				for (int tcp = 0; tcp < 2; tcp++) {
					char via[512], msg[2048];
					snprintf(via, sizeof(via), vias[v], n++);
					snprintf(msg, sizeof(msg),
						 "SIP/2.0 %d Whatever\r\n%s"
						 "From: <sip:a@example.com>;tag=1\r\n"
						 "To: <sip:b@example.com>;tag=2\r\n"
						 "Call-ID: stray%d\r\nCSeq: 1 %s\r\n"
						 "Content-Length: 0\r\n\r\n",
						 codes[c], via, n, c % 2 ? "INVITE" : "MESSAGE");
					if (tcp) {
						uint64_t id = harness_tcp_open(h, from[f]);
						harness_tcp(h, id, msg);
						harness_tcp_close(h, id);
					} else {
						harness_udp(h, from[f], msg);
					}
					strays++;
					if (harness_count(h) != 0) {
						test_dump(h);
						fail_msg("stray %d forwarded: %s", codes[c], msg);
					}
					assert_int_equal(test_stats(h).stray_responses, strays);
				}
	harness_free(h);
}

struct reflect {
	const char *via; /* %s: branch */
	const char *dest;
};

/* Via spellings aiming at 127.0.0.9, and where the answer must go instead. */
static const struct reflect reflects[] = {
    {"SIP/2.0/UDP 127.0.0.9:5060;branch=%s;maddr=127.0.0.9", "127.0.0.20:5060"},
    {"SIP/2.0/UDP 127.0.0.9:5060;branch=%s;maddr=127.0.0.9;rport", EP},
    {"SIP/2.0/UDP 127.0.0.9:5070;branch=%s;received=127.0.0.9", "127.0.0.20:5070"},
    {"SIP/2.0/UDP 127.0.0.9:5070;received=127.0.0.9;rport;branch=%s", EP},
    {"SIP/2.0/UDP 127.0.0.9;branch=%s", "127.0.0.20:5060"},
    {"SIP/2.0/UDP 127.0.0.9:5070;branch=%s;rport", EP},
    {"SIP/2.0/UDP 127.0.0.9:5070;branch=%s;rport=1234", EP},
    {"SIP/2.0/UDP 127.0.0.9:5070;rport=1234;received=127.0.0.9;maddr=127.0.0.9;branch=%s", EP},
    {"SIP/2.0/UDP 127.0.0.9:5070;branch=%s;maddr=224.0.0.9;ttl=1", "127.0.0.20:5070"},
    {"SIP/2.0/UDP [2001:db8::9]:5070;branch=%s;rport", EP},
};

/* (c) §18.2.2 / RFC 3581 §4 under the trust rule: the local 483 and the
 * SIP Server's relayed 200 both go to the source IP only, at the source
 * port when the Via has rport (whatever value was written in it). */
static void test_responses_not_reflected(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096], via[256], cid[32];
	for (size_t i = 0; i < sizeof(reflects) / sizeof(reflects[0]); i++) {
		for (int relayed = 0; relayed < 2; relayed++) {
			snprintf(cid, sizeof(cid), "refl%zu-%d", i, relayed);
			char branch[48];
			snprintf(branch, sizeof(branch), "z9hG4bK-%s", cid);
			snprintf(via, sizeof(via), reflects[i].via, branch);
			harness_udp(h, EP,
				    test_req_via(msg, sizeof(msg), "OPTIONS",
						 "sip:bob@sipproxy.test", via, relayed ? 70 : 0,
						 cid, ""));
			if (relayed)
				harness_reply(h, test_sent(h, "OPTIONS ", HARNESS_SERVER), 200,
					      NULL);
			int want = relayed ? 200 : 483;
			if (test_last_status(h, reflects[i].dest) != want ||
			    harness_sent_elsewhere(h, server_or_ep) ||
			    harness_count_of(h, "SIP/2.0", NULL) != 1) {
				test_dump(h);
				fail_msg("Via %s: no single %d at %s", via, want, reflects[i].dest);
			}
			harness_clear(h);
		}
	}
	harness_free(h);
}

/* (c) over TCP: the endpoint's connection closed before the answer; the
 * proxy opens a new one only to the source IP (at the Via's port). */
static void test_tcp_answer_after_close_goes_to_source(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	uint64_t c = harness_tcp_open(h, "127.0.0.20:40000");
	harness_tcp(h, c,
		    test_req_via(msg, sizeof(msg), "OPTIONS", "sip:bob@sipproxy.test",
				 "SIP/2.0/TCP 127.0.0.9:5070;branch=z9hG4bK-tc1;maddr=127.0.0.9;"
				 "received=127.0.0.9;rport",
				 70, "tc1", ""));
	const struct harness_out *fwd = test_sent(h, "OPTIONS ", HARNESS_SERVER);
	harness_tcp_close(h, c);
	harness_reply(h, fwd, 200, NULL);
	const struct harness_out *ok = harness_find(h, "SIP/2.0 200", NULL);
	assert_non_null(ok);
	char a[64];
	assert_string_equal(tp_addr_str(&ok->dest.addr, a, sizeof(a)), "127.0.0.20:5070");
	assert_int_equal(ok->dest.proto, TP_TCP);
	assert_int_not_equal(ok->conn_id, c);
	assert_null(harness_sent_elsewhere(h, server_or_ep));
	harness_free(h);
}

/* The response out's recipient would send, but from another host. */
static void reply_from(struct harness *h, const struct harness_out *out, const char *src,
		       int status)
{
	char buf[8192];
	size_t n = sip_build_response(out->msg, status, NULL, STR_LIT("spoof-tag"), STR_NULL, buf,
				      sizeof(buf));
	assert_true(n > 0);
	union tp_sockaddr a = harness_addr(src);
	harness_udp_raw(h, &a, buf, n);
}

/* (d) §18.1.2 / txn_client.c: a response matching a real client transaction
 * of the proxy but sent by another host (a stranger, or the SIP Server's
 * backup) is ignored; the real answers afterwards still work. */
static void test_response_from_wrong_host_ignored(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", EP, "wh1", ""));
	const struct harness_out *inv = test_sent(h, "INVITE ", HARNESS_SERVER);
	uint64_t strays = test_stats(h).stray_responses;
	reply_from(h, inv, "127.0.0.66:5090", 180);
	reply_from(h, inv, "127.0.0.66:5090", 486);
	reply_from(h, inv, HARNESS_BACKUP, 200);
	assert_int_equal(test_stats(h).stray_responses, strays + 3);
	assert_int_equal(test_last_status(h, EP), 100);
	assert_int_equal(harness_count_of(h, "ACK ", NULL), 0);
	harness_reply(h, inv, 180, NULL);
	assert_int_equal(test_last_status(h, EP), 180);
	harness_reply(h, inv, 200, NULL);
	assert_int_equal(test_last_status(h, EP), 200);
	/* RFC 6026 Accepted: 2xx retransmissions go up, but only the peer's */
	reply_from(h, inv, "127.0.0.66:5090", 200);
	assert_int_equal(harness_count_of(h, "SIP/2.0 200", EP), 1);
	harness_reply(h, inv, 200, NULL);
	assert_int_equal(harness_count_of(h, "SIP/2.0 200", EP), 2);

	harness_udp(h, EP,
		    test_req(msg, sizeof(msg), "MESSAGE", "sip:bob@sipproxy.test", EP, "wh2", ""));
	const struct harness_out *m = test_sent(h, "MESSAGE ", HARNESS_SERVER);
	reply_from(h, m, "127.0.0.66:5090", 200);
	assert_int_equal(test_last_status(h, EP), 200); /* still the INVITE's */
	assert_int_equal(test_finals_to(h, EP), 2);
	harness_reply(h, m, 404, NULL);
	assert_int_equal(test_last_status(h, EP), 404);
	assert_null(harness_sent_elsewhere(h, server_or_ep));
	harness_free(h);
}

/* (e) RFC 3327 §5 via forward.c/register.c: an endpoint's Path is removed
 * before forwarding and never stored, the call goes to its own flow; the
 * SBC's Path is kept and the call goes through it. */
static void test_path_only_from_sbc(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	assert_true(test_register_ex(
	    h, "dave", "127.0.0.25:5005", 0, "<sip:dave@127.0.0.25:5005>",
	    "Path: <sip:127.0.0.9:5060;lr>\r\nPath: <sip:127.0.0.10;lr>\r\n", NULL));
	const struct harness_out *reg = test_sent(h, "REGISTER ", HARNESS_SERVER);
	assert_null(reg->msg->path);
	assert_int_equal(test_occurrences(reg, "127.0.0.9"), 0);
	harness_clear(h);
	test_server_call(h, "INVITE", "dave", "path1", "");
	const struct harness_out *inv = test_sent(h, "INVITE ", "127.0.0.25:5005");
	assert_null(inv->msg->route);
	static const char *const ok[] = {"127.0.0.3", "127.0.0.25", NULL};
	assert_null(harness_sent_elsewhere(h, ok));
	harness_clear(h);

	assert_true(test_register_ex(h, "erin", HARNESS_SBC ":5060", 0, "<sip:erin@10.0.0.8:5060>",
				     "Path: <sip:127.0.0.8:5070;lr>\r\n", NULL));
	reg = test_sent(h, "REGISTER ", HARNESS_SERVER);
	assert_non_null(reg->msg->path);
	harness_clear(h);
	test_server_call(h, "INVITE", "erin", "path2", "");
	inv = test_sent(h, "INVITE sip:erin@10.0.0.8:5060 ", "127.0.0.8:5070");
	assert_non_null(inv->msg->route);
	assert_true(str_eq(inv->msg->route->uri_str, STR_LIT("sip:127.0.0.8:5070;lr")));
	harness_free(h);
}

#define CONTACT_C "<sip:alice@10.0.0.1:5060;transport=tcp>"

/* The Record-Route fields of the INVITE sent to alice, as header lines
 * (for her 2xx), and reversed into one Route value (the SIP Server's route
 * set, §12.1.2); tamper flips a hex digit of each value's flow token. */
static void route_set(const struct harness_out *inv, char *rr, size_t rrcap, char *route,
		      size_t rcap, bool tamper)
{
	rr[0] = route[0] = '\0';
	const struct sip_addr *v[4];
	size_t n = 0;
	for (const struct sip_addr *r = inv->msg->record_route; r && n < 4; r = r->next)
		v[n++] = r;
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++)
		snprintf(rr + strlen(rr), rrcap - strlen(rr), "Record-Route: %.*s\r\n",
			 (int)v[i]->raw.len, v[i]->raw.p);
	for (size_t i = n; i-- > 0;) {
		size_t at = strlen(route);
		snprintf(route + at, rcap - at, "%s%.*s", at ? ", " : "", (int)v[i]->raw.len,
			 v[i]->raw.p);
		char *tok_end = strchr(route + at, '@');
		if (tamper && tok_end)
			tok_end[-1] = tok_end[-1] == '0' ? '1' : '0';
	}
}

/* (f) RFC 5626 §5.3 / flow.c: alice's TCP flow is named by the token in our
 * Record-Route; in-dialog requests and the 2xx's ACK from the SIP Server go
 * down that connection; another endpoint registering the same Contact (and
 * removing it) changes nothing; a tampered token is followed down no flow;
 * once the connection is gone the answer is 430 and no connection is opened
 * towards alice's address. */
static void test_flow_token_not_contact(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096], rr[1024], route[1024], rt_bad[1024];
	uint64_t ca = harness_tcp_open(h, "127.0.0.21:40001");
	assert_true(test_register_ex(h, "alice", "127.0.0.21:40001", ca, CONTACT_C, "", NULL));
	test_server_call(h, "INVITE", "alice", "flow1", "");
	const struct harness_out *inv = test_sent(h, "INVITE ", "127.0.0.21:40001");
	assert_int_equal(inv->conn_id, ca);
	route_set(inv, rr, sizeof(rr), route, sizeof(route), false);
	route_set(inv, rr, sizeof(rr), rt_bad, sizeof(rt_bad), true);
	snprintf(rr + strlen(rr), sizeof(rr) - strlen(rr), "Contact: %s\r\n", CONTACT_C);
	harness_reply(h, inv, 200, rr);
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 200);
	harness_clear(h);

	/* the 2xx's ACK and a BYE: down alice's connection */
	const char *ruri = "sip:alice@10.0.0.1:5060;transport=tcp";
	harness_udp(
	    h, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, route, "flow1", 1));
	assert_int_equal(test_sent(h, "ACK ", NULL)->conn_id, ca);
	harness_udp(
	    h, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "INFO", ruri, HARNESS_SERVER, route, "flow1", 2));
	assert_int_equal(test_sent(h, "INFO ", NULL)->conn_id, ca);
	harness_clear(h);

	/* mallory binds the same Contact over her own connection, then removes it */
	uint64_t cb = harness_tcp_open(h, "127.0.0.22:40002");
	assert_true(test_register_ex(h, "mallory", "127.0.0.22:40002", cb, CONTACT_C, "", NULL));
	for (unsigned cseq = 3; cseq < 5; cseq++) {
		harness_clear(h);
		harness_udp(h, HARNESS_SERVER,
			    test_dialog_req(msg, sizeof(msg), "INFO", ruri, HARNESS_SERVER, route,
					    "flow1", cseq));
		assert_int_equal(test_sent(h, "INFO ", NULL)->conn_id, ca);
		test_server_call(h, "MESSAGE", "alice", cseq == 3 ? "flow2" : "flow3", "");
		assert_int_equal(test_sent(h, "MESSAGE ", NULL)->conn_id, ca);
		assert_int_equal(harness_count_of(h, "MESSAGE ", NULL), 1);
		assert_true(test_register_ex(h, "mallory", "127.0.0.22:40002", cb,
					     CONTACT_C ";expires=0", "", NULL));
	}
	harness_clear(h);

	/* a tampered token: down no flow (trusted, so the Request-URI counts) */
	harness_udp(
	    h, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "INFO", ruri, HARNESS_SERVER, rt_bad, "flow1", 5));
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		assert_true(o->conn_id != ca && o->conn_id != cb);
	}
	static const char *const not_ab[] = {"127.0.0.3", "10.0.0.1", NULL};
	assert_null(harness_sent_elsewhere(h, not_ab));
	harness_clear(h);

	/* alice's connection is gone: 430, and nothing towards her address */
	harness_tcp_close(h, ca);
	harness_udp(
	    h, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "BYE", ruri, HARNESS_SERVER, route, "flow1", 6));
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 430);
	harness_udp(
	    h, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, route, "flow1", 1));
	static const char *const server_only[] = {"127.0.0.3", NULL};
	if (harness_sent_elsewhere(h, server_only)) {
		test_dump(h);
		fail_msg("sent towards alice after her flow closed");
	}
	harness_free(h);
}

/* (f) the same flow as a registered binding (registrar_hooks.c: over a
 * stream the endpoint is reached only down its own connection, RFC 5626
 * §5.3): once that connection is closed, a new request for alice fails
 * (430) instead of opening a connection to her ephemeral source port. */
static void test_closed_flow_binding_no_new_connection(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	uint64_t ca = harness_tcp_open(h, "127.0.0.21:40001");
	assert_true(test_register_ex(h, "alice", "127.0.0.21:40001", ca, CONTACT_C, "", NULL));
	harness_tcp_close(h, ca);
	harness_clear(h);
	test_server_call(h, "MESSAGE", "alice", "flow5", "");
	test_server_call(h, "INVITE", "alice", "flow6", "");
	static const char *const server_only[] = {"127.0.0.3", NULL};
	const struct harness_out *o = harness_sent_elsewhere(h, server_only);
	uint64_t conn = o ? o->conn_id : 0;
	if (o)
		test_dump(h);
	size_t finals = test_finals_to(h, HARNESS_SERVER);
	int last = test_last_status(h, HARNESS_SERVER);
	harness_free(h); /* before the checks: a failure leaves no leak behind */
	if (o)
		fail_msg("new connection %llu towards alice's closed flow",
			 (unsigned long long)conn);
	assert_int_equal(finals, 2);
	assert_true(last >= 400);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_untrusted_reaches_only_the_server),
	    cmocka_unit_test(test_stray_responses_go_nowhere),
	    cmocka_unit_test(test_responses_not_reflected),
	    cmocka_unit_test(test_tcp_answer_after_close_goes_to_source),
	    cmocka_unit_test(test_response_from_wrong_host_ignored),
	    cmocka_unit_test(test_path_only_from_sbc),
	    cmocka_unit_test(test_flow_token_not_contact),
	    cmocka_unit_test(test_closed_flow_binding_no_new_connection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
