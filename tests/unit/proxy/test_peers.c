/* test_peers.c — any endpoint through any proxy of the cluster (peers.c,
 * branch.c branch_via_owner, route.c uri_is_cluster, forward.c
 * record_route_value, validate.c): proxies probe each other with OPTIONS
 * Max-Forwards 0 and answer it themselves (RFC 3261 §16.3 step 3), a reload
 * included; a binding owned by another proxy goes through it while it
 * answers, else UDP straight to the endpoint and a stream 480/430 (RFC 5626
 * §5.3, §4.4), end to end through a second proxy; every proxy pops a Route
 * naming any cluster proxy (§16.4); record-route-host names the cluster
 * FQDN. Tokens across proxies: test_peer_tokens.c. */
#include "peer_test.h"

static const struct peer_cfg watched = {.check = PEER_CHECK, .secret = PEER_SECRET};

/* ---- 1. probing, and the OPTIONS a proxy answers itself ---- */

static void test_probe_alive_dead_back(void **state)
{
	(void)state;
	struct harness *h = peer_harness(&watched, false);
	char page[8192];
	assert_true(peer_alive(h)); /* not asked yet */
	const struct harness_out *o = peer_probe(h);
	assert_non_null(o);
	assert_int_equal(o->msg->max_forwards, 0);
	assert_null(o->msg->route);
	assert_int_equal(o->dest.proto, TP_UDP);
	/* any answer is an answer, even one the peer refuses with */
	static const int answers[] = {200, 483, 404, 503, 200};
	for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		harness_reply(h, o, answers[i], NULL);
		assert_true(peer_alive(h));
		harness_clear(h);
		harness_advance(h, PEER_CHECK);
		o = peer_probe(h);
		assert_non_null(o);
	}
	/* silence for an interval: dead, in /nodes and the metrics too */
	harness_advance(h, PEER_CHECK);
	assert_false(peer_alive(h));
	assert_non_null(
	    strstr(peer_page(h, false, page, sizeof(page)),
		   "{\"name\":\"h-peer\",\"address\":\"127.0.0.6:5060\",\"alive\":false"));
	assert_non_null(strstr(peer_page(h, true, page, sizeof(page)),
			       "sipproxy_peer_up{peer=\"h-peer\"} 0\n"));
	/* the abandoned probe's late answer is harmless */
	harness_reply(h, o, 200, NULL);
	/* probing goes on; an answer brings it back */
	harness_clear(h);
	o = NULL;
	for (int i = 0; i < 3 && !o; i++) {
		harness_advance(h, PEER_CHECK);
		o = peer_probe(h);
	}
	assert_non_null(o);
	harness_reply(h, o, 200, NULL);
	assert_true(peer_alive(h));
	assert_non_null(
	    strstr(peer_page(h, false, page, sizeof(page)),
		   "{\"name\":\"h-peer\",\"address\":\"127.0.0.6:5060\",\"alive\":true"));
	assert_non_null(strstr(peer_page(h, true, page, sizeof(page)),
			       "sipproxy_peer_up{peer=\"h-peer\"} 1\n"));
	harness_free(h);
}

/* peer-check 0: no probe at all, and the peer stays alive. */
static void test_probe_off(void **state)
{
	(void)state;
	struct peer_cfg c = {.secret = PEER_SECRET};
	struct harness *h = peer_harness(&c, false);
	for (int i = 0; i < 5; i++)
		harness_advance(h, 1000);
	assert_int_equal(harness_count_of(h, "OPTIONS ", NULL), 0);
	assert_true(peer_alive(h));
	harness_free(h);
}

/* The real h-peer answers h-proxy's probe itself: 200 and nothing forwarded. */
static void test_probe_answered_by_peer_proxy(void **state)
{
	(void)state;
	struct harness *a = peer_harness(&watched, false);
	struct peer_cfg pc = {.secret = PEER_SECRET};
	struct harness *b = peer_harness(&pc, true);
	peer_kill(a);
	const struct harness_out *o = NULL;
	for (int i = 0; i < 3 && !o; i++) {
		harness_advance(a, PEER_CHECK);
		o = peer_probe(a);
	}
	assert_non_null(o);
	assert_int_equal(
	    peer_relay(a, (size_t)(o - harness_out(a, 0)), NULL, HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_int_equal(harness_count(b), 1);
	assert_int_equal(test_last_status(b, PEER_SELF_IP), 200);
	assert_int_equal(peer_relay(b, 0, NULL, PEER_SELF_IP, a, HARNESS_PEER), 1);
	assert_true(peer_alive(a));
	harness_free(b);
	harness_free(a);
}

static struct config reload_cfg; /* big: not on the stack */

/* The cluster definition applied again (SIGHUP) with peer-check check. */
static void reload_check(struct harness *h, unsigned check)
{
	char text[2048], err[256];
	struct peer_cfg c = {.check = check, .secret = PEER_SECRET};
	size_t n = (size_t)snprintf(text, sizeof(text),
				    "proxy = { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; "
				    "sip-port = 5060; };\n");
	peer_config(text + n, sizeof(text) - n, &c, false);
	assert_int_equal(config_load_string(text, "reload.conf", &reload_cfg, err, sizeof(err)), 0);
	assert_int_equal(cluster_apply(peer_cluster(h), &reload_cfg, err, sizeof(err)), 0);
}

/* A reload that turns peer-check off leaves the peer unwatched: no probe,
 * none ending as a zero-length timeout, and not left dead by the last one;
 * turning it on again starts probing. */
static void test_reload_peer_check(void **state)
{
	(void)state;
	struct harness *h = peer_harness(&watched, false);
	assert_non_null(peer_probe(h)); /* in flight, the next one armed */
	reload_check(h, 0);
	harness_clear(h);
	for (int i = 0; i < 4; i++)
		harness_advance(h, PEER_CHECK);
	assert_true(peer_alive(h));
	assert_int_equal(harness_count_of(h, "OPTIONS ", NULL), 0);
	/* on again: probed, and found dead when silent */
	reload_check(h, PEER_CHECK);
	harness_advance(h, 0);
	assert_non_null(peer_probe(h));
	peer_kill(h);
	/* off while dead: no longer watched, so no longer dead */
	reload_check(h, 0);
	for (int i = 0; i < 4; i++)
		harness_advance(h, PEER_CHECK);
	assert_true(peer_alive(h));
	assert_int_equal(harness_count_of(h, "OPTIONS ", NULL), 0);
	harness_free(h);
}

struct mf0_case {
	const char *method, *ruri, *extra;
	int status;
};

/* §16.3 step 3: an OPTIONS with Max-Forwards 0 for the proxy itself (no
 * user, no Route, our host and port) is answered 200; anything else with
 * Max-Forwards 0 is 483, and none of it is forwarded. */
static void test_options_mf0(void **state)
{
	(void)state;
	static const struct mf0_case cases[] = {
	    {"OPTIONS", "sip:127.0.0.1:5060", "", 200},
	    {"OPTIONS", "sip:127.0.0.1", "", 200},
	    {"OPTIONS", "sip:[::1]:5060", "", 200},
	    {"OPTIONS", "sip:127.0.0.1:5060;transport=udp", "", 200},
	    {"OPTIONS", "sip:bob@127.0.0.1:5060", "", 483},
	    {"OPTIONS", "sip:127.0.0.1:5060", "Route: <sip:127.0.0.1:5060;lr>\r\n", 483},
	    {"OPTIONS", "sip:127.0.0.1:5060", "Route: <sip:127.0.0.9;lr>\r\n", 483},
	    {"OPTIONS", "sip:127.0.0.1:5070", "", 483},
	    {"OPTIONS", "sip:127.0.0.1:5060;maddr=127.0.0.9", "", 483},
	    {"OPTIONS", "sip:127.0.0.6:5060", "", 483}, /* the peer, not us */
	    {"OPTIONS", "sip:" TEST_DOMAIN, "", 483},
	    {"OPTIONS", "sip:bob@" TEST_DOMAIN, "", 483},
	    {"INFO", "sip:127.0.0.1:5060", "", 483},
	    {"MESSAGE", "sip:127.0.0.1:5060", "", 483},
	};
	static const char *const srcs[] = {"127.0.0.20:5000", HARNESS_SERVER, HARNESS_PEER};
	struct harness *h = test_harness(NULL);
	char msg[4096], via[128], cid[32];
	int n = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t s = 0; s < sizeof(srcs) / sizeof(srcs[0]); s++) {
			snprintf(cid, sizeof(cid), "mf0-%d", n++);
			snprintf(via, sizeof(via), "SIP/2.0/UDP %s;branch=z9hG4bK-%s;rport",
				 srcs[s], cid);
			harness_udp(h, srcs[s],
				    test_req_via(msg, sizeof(msg), cases[i].method, cases[i].ruri,
						 via, 0, cid, cases[i].extra));
			if (harness_count(h) != 1 ||
			    test_last_status(h, srcs[s]) != cases[i].status) {
				test_dump(h);
				fail_msg("%s %s [%s] from %s: want %d", cases[i].method,
					 cases[i].ruri, cases[i].extra, srcs[s], cases[i].status);
			}
			harness_clear(h);
		}
	harness_free(h);
}

/* ---- 2. bindings whose flow another proxy holds ---- */

static void check_via_peer(struct harness *h, const struct harness_out *o, const char *contact,
			   enum tp_proto proto, const char *source, uint64_t conn)
{
	assert_true(str_eq(o->msg->ruri_str, str_cstr(contact)));
	assert_non_null(o->msg->route);
	char tok[PROXY_FLOW_TOKEN_MAX], want[PROXY_FLOW_TOKEN_MAX + 64];
	assert_true(peer_token_of(o->msg->route->uri_str, tok, sizeof(tok)));
	snprintf(want, sizeof(want), "sip:%s@" HARNESS_PEER ";lr", tok);
	assert_true(str_eq(o->msg->route->uri_str, str_cstr(want)));
	struct proxy_flow f;
	assert_true(proxy_flow_decode(peer_proxy(h), str_cstr(tok), &f));
	assert_int_equal(f.owner, proxy_peer_id(STR_LIT("h-peer")));
	assert_int_equal(f.proto, proto);
	union tp_sockaddr src = harness_addr(source);
	assert_true(tp_addr_equal(&f.addr, &src));
	assert_int_equal(f.conn_id, conn);
	/* our Record-Route names the binding's flow and its owner too */
	assert_non_null(o->msg->record_route);
	assert_true(peer_token_of(o->msg->record_route->uri_str, tok, sizeof(tok)));
	assert_true(proxy_flow_decode(peer_proxy(h), str_cstr(tok), &f));
	assert_int_equal(f.owner, proxy_peer_id(STR_LIT("h-peer")));
	assert_true(tp_addr_equal(&f.addr, &src));
	assert_int_equal(f.conn_id, conn);
}

static const char *const server_and_peer[] = {"127.0.0.3", "127.0.0.6", NULL};

/* A TCP binding held by h-peer: through h-peer while it answers (never down
 * a local connection, even one that happens to have the same id), 480 when
 * it is dead, 430 for an RFC 5626 client. */
static void test_peer_binding_tcp(void **state)
{
	(void)state;
	struct harness *h = peer_harness(&watched, false);
	uint64_t local = harness_tcp_open(h, "127.0.0.41:40001"); /* someone else's */
	const char *bob_c = "sip:bob@10.0.0.8:5070;transport=tcp";
	const char *dave_c = "sip:dave@10.0.0.9:5070;transport=tcp";
	peer_save(h, &(struct peer_binding){"bob", bob_c, TP_TCP, "127.0.0.40:40000", local,
					    "h-peer", NULL});
	peer_save(h, &(struct peer_binding){"dave", dave_c, TP_TCP, "127.0.0.43:40002", 7, "h-peer",
					    "<urn:uuid:00000000-0000-0000-0000-00000000d0d0>"});
	harness_clear(h);
	test_server_call(h, "INVITE", "bob", "pb-tcp1", "");
	check_via_peer(h, test_sent(h, "INVITE ", HARNESS_PEER), bob_c, TP_TCP, "127.0.0.40:40000",
		       local);
	test_server_call(h, "INVITE", "dave", "pb-tcp2", "");
	check_via_peer(h, test_sent(h, "INVITE ", HARNESS_PEER), dave_c, TP_TCP, "127.0.0.43:40002",
		       7);
	assert_null(harness_sent_elsewhere(h, server_and_peer));
	assert_false(peer_sent_on_conn(h, 0));
	peer_kill(h);
	test_server_call(h, "INVITE", "bob", "pb-tcp3", "");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 480);
	test_server_call(h, "INVITE", "dave", "pb-tcp4", "");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 430);
	assert_int_equal(harness_count_of(h, "INVITE ", NULL), 0);
	assert_false(peer_sent_on_conn(h, 0));
	peer_revive(h);
	test_server_call(h, "INVITE", "bob", "pb-tcp5", "");
	assert_non_null(test_sent(h, "INVITE ", HARNESS_PEER));
	harness_free(h);
}

/* The whole way, two real proxies: an endpoint registers over TCP at
 * h-peer; the SIP Server calls it through h-proxy, which hands the INVITE
 * to h-peer, which sends it down the endpoint's connection. The 200 comes
 * back the same way, and the dialog's requests from either side arrive. */
static void test_binding_at_peer_end_to_end(void **state)
{
	(void)state;
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	uint64_t conn = harness_tcp_open(b, EP_TCP);
	assert_true(test_register_ex(b, "joe", EP_TCP, conn,
				     "<sip:joe@10.0.0.14:5070;transport=tcp>", "Expires: 300\r\n",
				     NULL));
	peer_share(b, a, "joe");
	harness_clear(a);
	harness_clear(b);
	test_server_call(a, "INVITE", "joe", "e2e-1", "");
	const struct harness_out *o = test_sent(a, "INVITE ", HARNESS_PEER);
	assert_true(str_eq(o->msg->ruri_str, STR_LIT("sip:joe@10.0.0.14:5070;transport=tcp")));
	assert_int_equal(peer_relay(a, 0, "INVITE ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	const struct harness_out *inv = test_sent(b, "INVITE ", NULL);
	assert_int_equal(inv->conn_id, conn);
	assert_null(inv->msg->route);
	/* the callee's 200 (Record-Route copied, §12.1.1) back to the server */
	char rrs[1400] = "Record-Route: ", *w = rrs + strlen(rrs);
	for (const struct sip_addr *r = inv->msg->record_route; r; r = r->next)
		w += snprintf(w, sizeof(rrs) - (size_t)(w - rrs), "%s<%.*s>",
			      r == inv->msg->record_route ? "" : ", ", STR_FMT(r->uri_str));
	snprintf(w, sizeof(rrs) - (size_t)(w - rrs),
		 "\r\nContact: <sip:joe@10.0.0.14:5070;"
		 "transport=tcp>\r\n");
	harness_reply(b, inv, 200, rrs);
	assert_int_equal(peer_relay(b, 0, "SIP/2.0 200", PEER_SELF_IP, a, HARNESS_PEER), 1);
	const struct harness_out *ok = test_sent(a, "SIP/2.0 200", HARNESS_SERVER);
	/* the server's BYE (route set = Record-Route in reverse) reaches joe */
	char route[1400] = "", *rw = route;
	const struct sip_addr *rr[8];
	unsigned n = 0;
	for (const struct sip_addr *r = ok->msg->record_route; r && n < 8; r = r->next)
		rr[n++] = r;
	assert_true(n >= 1);
	for (unsigned i = n; i-- > 0;)
		rw += snprintf(rw, sizeof(route) - (size_t)(rw - route), "%s<%.*s>",
			       i == n - 1 ? "" : ", ", STR_FMT(rr[i]->uri_str));
	harness_clear(a);
	harness_clear(b);
	char msg[4096];
	harness_udp(a, HARNESS_SERVER,
		    test_dialog_req(msg, sizeof(msg), "BYE", "sip:joe@10.0.0.14:5070;transport=tcp",
				    HARNESS_SERVER, route, "e2e-1", 2));
	assert_int_equal(peer_relay(a, 0, "BYE ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_int_equal(test_sent(b, "BYE ", NULL)->conn_id, conn);
	/* joe's connection gone at h-peer: its 430 reaches the server */
	harness_tcp_close(b, conn);
	harness_clear(a);
	harness_clear(b);
	harness_udp(a, HARNESS_SERVER,
		    test_dialog_req(msg, sizeof(msg), "BYE", "sip:joe@10.0.0.14:5070;transport=tcp",
				    HARNESS_SERVER, route, "e2e-1", 3));
	assert_int_equal(peer_relay(a, 0, "BYE ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_int_equal(harness_count_of(b, "BYE ", NULL), 0);
	assert_int_equal(peer_relay(b, 0, "SIP/2.0 430", PEER_SELF_IP, a, HARNESS_PEER), 1);
	assert_int_equal(test_last_status(a, HARNESS_SERVER), 430);
	harness_free(b);
	harness_free(a);
}

/* A UDP binding behind NAT held by h-peer: through h-peer while it answers,
 * else straight to the address its REGISTER came from (no Route). */
static void test_peer_binding_udp_nat(void **state)
{
	(void)state;
	struct harness *h = peer_harness(&watched, false);
	const char *carol_c = "sip:carol@10.0.0.9:5070";
	peer_save(h, &(struct peer_binding){"carol", carol_c, TP_UDP, "127.0.0.42:41000", 0,
					    "h-peer", NULL});
	test_server_call(h, "INVITE", "carol", "pb-udp1", "");
	check_via_peer(h, test_sent(h, "INVITE ", HARNESS_PEER), carol_c, TP_UDP,
		       "127.0.0.42:41000", 0);
	peer_kill(h);
	test_server_call(h, "INVITE", "carol", "pb-udp2", "");
	const struct harness_out *o = test_sent(h, "INVITE ", "127.0.0.42:41000");
	assert_true(str_eq(o->msg->ruri_str, str_cstr(carol_c)));
	assert_null(o->msg->route);
	assert_int_equal(harness_count_of(h, "INVITE ", HARNESS_PEER), 0);
	assert_int_equal(harness_count_of(h, "INVITE ", "10.0.0.9:5070"), 0);
	/* the dialog's token still names h-peer's flow */
	char tok[PROXY_FLOW_TOKEN_MAX];
	struct proxy_flow f;
	assert_true(peer_token_of(o->msg->record_route->uri_str, tok, sizeof(tok)));
	assert_true(proxy_flow_decode(peer_proxy(h), str_cstr(tok), &f));
	assert_int_equal(f.owner, proxy_peer_id(STR_LIT("h-peer")));
	peer_revive(h);
	test_server_call(h, "INVITE", "carol", "pb-udp3", "");
	check_via_peer(h, test_sent(h, "INVITE ", HARNESS_PEER), carol_c, TP_UDP,
		       "127.0.0.42:41000", 0);
	harness_free(h);
}

/* A peer on IPv6: its Route names it in brackets, and every spelling of
 * its address is popped as ours. */
static void test_peer_on_ipv6(void **state)
{
	(void)state;
	struct harness *h = peer_harness(
	    &(struct peer_cfg){.secret = PEER_SECRET, .peer_ip = "2001:db8::6"}, false);
	const char *c = "sip:bob@10.0.0.8:5070;transport=tcp";
	peer_save(
	    h, &(struct peer_binding){"bob", c, TP_TCP, "[2001:db8::40]:40000", 3, "h-peer", NULL});
	test_server_call(h, "INVITE", "bob", "v6-1", "");
	const struct harness_out *o = test_sent(h, "INVITE ", "[2001:db8::6]:5060");
	char tok[PROXY_FLOW_TOKEN_MAX], want[PROXY_FLOW_TOKEN_MAX + 64];
	assert_true(peer_token_of(o->msg->route->uri_str, tok, sizeof(tok)));
	snprintf(want, sizeof(want), "sip:%s@[2001:db8::6]:5060;lr", tok);
	assert_true(str_eq(o->msg->route->uri_str, str_cstr(want)));
	static const char *const spellings[] = {"<sip:[2001:db8::6]:5060;lr>",
						"<sip:[2001:DB8:0::6];lr>"};
	char msg[4096], extra[128], cid[16];
	for (size_t i = 0; i < 2; i++) {
		snprintf(cid, sizeof(cid), "v6r%zu", i);
		snprintf(extra, sizeof(extra), "Route: %s\r\n", spellings[i]);
		harness_clear(h);
		harness_udp(h, HARNESS_SERVER,
			    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.30:5070",
				     HARNESS_SERVER, cid, extra));
		assert_null(test_sent(h, "OPTIONS ", "127.0.0.30:5070")->msg->route);
	}
	harness_free(h);
}

/* Bindings of this proxy work as before whatever the peer's state; an
 * owner no proxy of the cluster has is treated as a dead one. */
static void test_own_and_unknown_owner(void **state)
{
	(void)state;
	struct harness *h = peer_harness(&watched, false);
	uint64_t conn = harness_tcp_open(h, "127.0.0.44:40004");
	assert_true(test_register_ex(h, "erin", "127.0.0.44:40004", conn,
				     "<sip:erin@10.0.0.10:5070;transport=tcp>", "Expires: 300\r\n",
				     NULL));
	peer_save(h, &(struct peer_binding){"fred", "sip:fred@10.0.0.11:5070", TP_UDP,
					    "127.0.0.45:41005", 0, "h-proxy", NULL});
	peer_save(h, &(struct peer_binding){"gina", "sip:gina@10.0.0.12:5070;transport=tcp", TP_TCP,
					    "127.0.0.46:40006", 5, "h-gone", NULL});
	peer_save(h, &(struct peer_binding){"hank", "sip:hank@10.0.0.13:5070", TP_UDP,
					    "127.0.0.47:41007", 0, "h-gone", NULL});
	for (int dead = 0; dead < 2; dead++) {
		if (dead)
			peer_kill(h);
		harness_clear(h);
		test_server_call(h, "INVITE", "erin", dead ? "own1d" : "own1", "");
		const struct harness_out *o = test_sent(h, "INVITE ", "127.0.0.44:40004");
		assert_int_equal(o->conn_id, conn);
		assert_null(o->msg->route);
		char tok[PROXY_FLOW_TOKEN_MAX];
		struct proxy_flow f;
		assert_true(peer_token_of(o->msg->record_route->uri_str, tok, sizeof(tok)));
		assert_true(proxy_flow_decode(peer_proxy(h), str_cstr(tok), &f));
		assert_int_equal(f.owner, proxy_peer_id(STR_LIT("h-proxy")));
		assert_int_equal(f.conn_id, conn);
		test_server_call(h, "INVITE", "fred", dead ? "own2d" : "own2", "");
		assert_null(test_sent(h, "INVITE ", "127.0.0.45:41005")->msg->route);
		test_server_call(h, "INVITE", "gina", dead ? "own3d" : "own3", "");
		assert_int_equal(test_last_status(h, HARNESS_SERVER), 480);
		test_server_call(h, "INVITE", "hank", dead ? "own4d" : "own4", "");
		assert_null(test_sent(h, "INVITE ", "127.0.0.47:41007")->msg->route);
		assert_int_equal(harness_count_of(h, "INVITE ", HARNESS_PEER), 0);
	}
	harness_free(h);
}

/* ---- 3. Route spellings naming the peer (§16.4) ---- */

struct spelled {
	const char *route;
	const char *dest; /* where it goes: the Request-URI's host when popped */
};

static void test_route_spellings(void **state)
{
	(void)state;
	static const struct spelled popped[] = {
	    {"<sip:127.0.0.6:5060;lr>", NULL},
	    {"<sip:127.0.0.6;lr>", NULL},
	    {"<sip:127.0.0.6:5060;transport=udp;lr>", NULL},
	    {"<sip:edge.example.net;lr>", NULL},
	    {"<sip:EDGE.Example.NET;lr>", NULL},
	    {"<sip:anything.example.org;maddr=127.0.0.6;lr>", NULL},
	    {"<sip:127.0.0.6:5060;lr>, <sip:127.0.0.1:5060;lr>", NULL},
	};
	static const struct spelled kept[] = {
	    {"<sip:127.0.0.6:5070;lr>", "127.0.0.6:5070"},
	    {"<sip:127.0.0.66;lr>", "127.0.0.66:5060"},
	    {"<sip:127.0.0.6:5060;maddr=127.0.0.9;lr>", "127.0.0.9:5060"},
	    {"<sip:edge2.example.net;lr>", NULL},
	    {"<sip:edge.example.net.evil.org;lr>", NULL},
	};
	struct harness *h = peer_harness(
	    &(struct peer_cfg){.secret = PEER_SECRET, .peer_rr = "edge.example.net"}, false);
	char msg[4096], extra[256], cid[32];
	int n = 0;
	for (size_t i = 0; i < sizeof(popped) / sizeof(popped[0]); i++) {
		snprintf(cid, sizeof(cid), "sp%d", n++);
		snprintf(extra, sizeof(extra), "Route: %s\r\n", popped[i].route);
		harness_clear(h);
		harness_udp(h, HARNESS_SERVER,
			    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.30:5070",
				     HARNESS_SERVER, cid, extra));
		const struct harness_out *o = harness_find(h, "OPTIONS ", "127.0.0.30:5070");
		if (!o || o->msg->route || harness_count_of(h, "OPTIONS ", NULL) != 1) {
			test_dump(h);
			fail_msg("Route %s was not popped", popped[i].route);
		}
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
		snprintf(cid, sizeof(cid), "sk%d", n++);
		snprintf(extra, sizeof(extra), "Route: %s\r\n", kept[i].route);
		harness_clear(h);
		harness_udp(h, HARNESS_SERVER,
			    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.30:5070",
				     HARNESS_SERVER, cid, extra));
		harness_poll(h);
		if (harness_count_of(h, "OPTIONS ", "127.0.0.30:5070")) {
			test_dump(h);
			fail_msg("Route %s was popped", kept[i].route);
		}
		if (kept[i].dest) {
			const struct harness_out *o = test_sent(h, "OPTIONS ", kept[i].dest);
			assert_non_null(o->msg->route);
		}
	}
	/* a strict router put h-peer's Record-Route in the Request-URI */
	static const char *const strict[] = {"sip:127.0.0.6:5060;lr", "sip:edge.example.net;lr"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(cid, sizeof(cid), "ss%zu", i);
		harness_clear(h);
		harness_udp(h, HARNESS_SERVER,
			    test_req(msg, sizeof(msg), "OPTIONS", strict[i], HARNESS_SERVER, cid,
				     "Route: <sip:carol@127.0.0.32:5072>\r\n"));
		const struct harness_out *o =
		    test_sent(h, "OPTIONS sip:carol@127.0.0.32:5072 ", "127.0.0.32:5072");
		assert_null(o->msg->route);
	}
	harness_free(h);
}

/* ---- 4. record-route-host ---- */

/* The value is <sip:TOKEN@host[;transport=tcp];lr> naming no port (then
 * the dialog's node, ;sn=, when it is with a SIP Server). */
static void check_rr_host(const struct sip_addr *r, bool tcp)
{
	char tok[PROXY_FLOW_TOKEN_MAX], want[PROXY_FLOW_TOKEN_MAX + 80];
	assert_non_null(r);
	assert_true(peer_token_of(r->uri_str, tok, sizeof(tok)));
	assert_true(strlen(tok) > 20);
	snprintf(want, sizeof(want), "sip:%s@sip.dc1.example.net%s;lr", tok,
		 tcp ? ";transport=tcp" : "");
	size_t wl = strlen(want);
	struct str rest =
	    r->uri_str.len >= wl ? str_make(r->uri_str.p + wl, r->uri_str.len - wl) : STR_NULL;
	if (r->uri_str.len < wl || memcmp(r->uri_str.p, want, wl) != 0 ||
	    (rest.len && !str_eq(rest, STR_LIT(";" PROXY_RR_NODE_PARAM "=s1"))))
		fail_msg("Record-Route %.*s, want %s", STR_FMT(r->uri_str), want);
}

static void test_record_route_host(void **state)
{
	(void)state;
	struct harness *h = peer_harness(
	    &(struct peer_cfg){.secret = PEER_SECRET, .self_rr = "sip.dc1.example.net"}, false);
	char rr[600], line[700], msg[4096];
	/* over UDP: one value; the dialog's BYE from the server comes back */
	peer_call(h, EP_UDP, 0, "rh-udp", rr, sizeof(rr));
	peer_bye(h, HARNESS_SERVER, rr, "rh-udp", 2);
	assert_null(test_sent(h, "BYE ", EP_UDP)->msg->route);
	harness_clear(h);
	harness_udp(
	    h, EP_UDP,
	    test_req(msg, sizeof(msg), "INVITE", "sip:bob@" TEST_DOMAIN, EP_UDP, "rh-u2", ""));
	const struct harness_out *o = test_sent(h, "INVITE ", HARNESS_SERVER);
	check_rr_host(o->msg->record_route, false);
	assert_null(o->msg->record_route->next);
	/* in over TCP, out over UDP: two values, both the host */
	uint64_t conn = harness_tcp_open(h, EP_TCP);
	snprintf(msg, sizeof(msg),
		 "INVITE sip:bob@" TEST_DOMAIN " SIP/2.0\r\n"
		 "Via: SIP/2.0/TCP " EP_TCP ";branch=z9hG4bK-rh-t;rport\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:caller@example.com>;tag=f-rht\r\n"
		 "To: <sip:callee@example.com>\r\nCall-ID: rh-tcp\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:caller@10.0.0.5:5070;transport=tcp>\r\n"
		 "Content-Length: 0\r\n\r\n");
	harness_clear(h);
	harness_tcp(h, conn, msg);
	o = test_sent(h, "INVITE ", HARNESS_SERVER);
	const struct sip_addr *r1 = o->msg->record_route;
	assert_non_null(r1);
	assert_non_null(r1->next);
	snprintf(line, sizeof(line), "%.*s", STR_FMT(r1->uri_str));
	bool first_tcp = strstr(line, "transport=tcp") != NULL;
	check_rr_host(r1, first_tcp);
	check_rr_host(r1->next, !first_tcp);
	/* the server's BYE with both values is ours, down the connection */
	snprintf(rr, sizeof(rr), "<%.*s>, <%.*s>", STR_FMT(r1->uri_str),
		 STR_FMT(r1->next->uri_str));
	snprintf(line, sizeof(line), "Record-Route: %s\r\n", rr);
	harness_reply(h, o, 200, line);
	harness_clear(h);
	peer_bye(h, HARNESS_SERVER, rr, "rh-tcp", 2);
	o = test_sent(h, "BYE ", EP_TCP);
	assert_int_equal(o->conn_id, conn);
	assert_null(o->msg->route);
	/* and towards a registered binding */
	test_register(h, "ivy", "127.0.0.49:5070", "<sip:ivy@127.0.0.49:5070>");
	harness_clear(h);
	test_server_call(h, "INVITE", "ivy", "rh-reg", "");
	check_rr_host(test_sent(h, "INVITE ", "127.0.0.49:5070")->msg->record_route, false);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_probe_alive_dead_back),
	    cmocka_unit_test(test_probe_off),
	    cmocka_unit_test(test_probe_answered_by_peer_proxy),
	    cmocka_unit_test(test_reload_peer_check),
	    cmocka_unit_test(test_options_mf0),
	    cmocka_unit_test(test_peer_binding_tcp),
	    cmocka_unit_test(test_binding_at_peer_end_to_end),
	    cmocka_unit_test(test_peer_binding_udp_nat),
	    cmocka_unit_test(test_peer_on_ipv6),
	    cmocka_unit_test(test_own_and_unknown_owner),
	    cmocka_unit_test(test_route_spellings),
	    cmocka_unit_test(test_record_route_host),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
