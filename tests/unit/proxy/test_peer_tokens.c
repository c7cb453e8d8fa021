/* test_peer_tokens.c — flow tokens across the proxies of a cluster (flow.c
 * v2 tokens, route.c, branch.c, stateless.c): a token one proxy mints
 * verifies at another only with the same cluster.secret, and any change, a
 * truncation or another layout (v1) is refused (RFC 5626 §5.2); an
 * in-dialog request, and the 2xx's ACK, whose Route is another proxy's
 * Record-Route goes through that proxy while it answers, else UDP straight
 * to the endpoint or 430 (§5.3), never down a local connection with the
 * same id, and from an untrusted source only to the SIP Server (§26.1). */
#include "peer_test.h"

#include <openssl/evp.h>

static const struct peer_cfg watched = {.check = PEER_CHECK, .secret = PEER_SECRET};

static bool flow_same(const struct proxy_flow *a, const struct proxy_flow *b)
{
	return a->owner == b->owner && a->proto == b->proto && tp_addr_equal(&a->addr, &b->addr) &&
	       a->conn_id == b->conn_id;
}

/* A token of any layout MACed with p's own key (HMAC-SHA256/80, as flow.c):
 * the real key, so a refusal is the layout's, not the MAC's. */
static void mint(const struct proxy *p, const unsigned char *raw, size_t n, char *out)
{
	unsigned char buf[64], mac[EVP_MAX_MD_SIZE];
	size_t mlen = 0;
	memcpy(buf, raw, n);
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, p->flow_key,
				  sizeof(p->flow_key), raw, n, mac, sizeof(mac), &mlen));
	memcpy(buf + n, mac, 10);
	for (size_t i = 0; i < n + 10; i++)
		sprintf(out + 2 * i, "%02x", buf[i]);
}

/* The v2 fields of an IPv4 flow, version byte first (no MAC). */
static size_t raw_v2(unsigned version, const struct proxy_flow *f, unsigned char *raw)
{
	size_t n = 0;
	raw[n++] = (unsigned char)version;
	for (int i = 3; i >= 0; i--)
		raw[n++] = (unsigned char)(f->owner >> (8 * i));
	raw[n++] = (unsigned char)f->proto;
	raw[n++] = 4;
	memcpy(raw + n, &f->addr.in4.sin_addr, 4);
	n += 4;
	raw[n++] = (unsigned char)(tp_addr_port(&f->addr) >> 8);
	raw[n++] = (unsigned char)tp_addr_port(&f->addr);
	for (int i = 7; i >= 0; i--)
		raw[n++] = (unsigned char)(f->conn_id >> (8 * i));
	return n;
}

/* §5.2: a token one proxy minted verifies at another with the same
 * cluster.secret, and only then; any change or a v1 layout is refused. */
static void test_tokens_across_proxies(void **state)
{
	(void)state;
	struct peer_cfg other = {.secret = "another-secret-0123456789"};
	struct peer_cfg none = {.check = 0};
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	struct harness *c = peer_harness(&other, true);
	struct harness *d = peer_harness(&none, true);
	struct harness *e = peer_harness(&none, false);
	struct proxy *pa = peer_proxy(a), *pb = peer_proxy(b);
	const struct proxy_flow flows[] = {
	    peer_flow("h-peer", TP_TCP, "127.0.0.40:40000", 9),
	    peer_flow("h-peer", TP_UDP, "127.0.0.42:41000", 0),
	    peer_flow("h-proxy", TP_TCP, "[2001:db8::40]:40000", 0x0102030405060708ull),
	};
	char tok[PROXY_FLOW_TOKEN_MAX], bad[PROXY_FLOW_TOKEN_MAX + 4];
	struct proxy_flow got;
	for (size_t i = 0; i < sizeof(flows) / sizeof(flows[0]); i++) {
		proxy_flow_encode(pb, &flows[i], tok);
		assert_true(proxy_flow_decode(pa, str_cstr(tok), &got));
		assert_true(flow_same(&got, &flows[i]));
		proxy_flow_encode(pa, &flows[i], tok);
		assert_true(proxy_flow_decode(pb, str_cstr(tok), &got));
		assert_true(flow_same(&got, &flows[i]));
		/* another secret, or none at either end */
		proxy_flow_encode(peer_proxy(c), &flows[i], tok);
		assert_false(proxy_flow_decode(pa, str_cstr(tok), &got));
		proxy_flow_encode(pa, &flows[i], tok);
		assert_false(proxy_flow_decode(peer_proxy(c), str_cstr(tok), &got));
		assert_false(proxy_flow_decode(peer_proxy(d), str_cstr(tok), &got));
		proxy_flow_encode(peer_proxy(e), &flows[i], tok);
		assert_false(proxy_flow_decode(peer_proxy(d), str_cstr(tok), &got));
		assert_false(proxy_flow_decode(pa, str_cstr(tok), &got));
	}
	proxy_flow_encode(pb, &flows[0], tok);
	size_t len = strlen(tok);
	/* every character changed (owner, address, conn id, MAC) */
	for (size_t i = 0; i < len; i++) {
		snprintf(bad, sizeof(bad), "%s", tok);
		bad[i] = bad[i] == 'a' ? 'b' : 'a';
		assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	}
	/* truncated at either end, or extended */
	for (size_t n = 0; n < len; n++) {
		assert_false(proxy_flow_decode(pa, str_make(tok, n), &got));
		assert_false(proxy_flow_decode(pa, str_make(tok + len - n, n), &got));
	}
	snprintf(bad, sizeof(bad), "%s00", tok);
	assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	/* the same bytes under the real key: v2 is what flow.c writes... */
	unsigned char raw[64];
	size_t n = raw_v2(2, &flows[0], raw);
	mint(pa, raw, n, bad);
	assert_string_equal(bad, tok);
	/* ...another version byte is refused, so is a v1 layout (no owner) */
	for (unsigned v = 0; v < 4; v++) {
		if (v == 2)
			continue;
		n = raw_v2(v, &flows[0], raw);
		mint(pa, raw, n, bad);
		assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	}
	n = raw_v2(1, &flows[0], raw);
	memmove(raw + 1, raw + 5, n - 5); /* v1: version | proto | family | ... */
	mint(pa, raw, n - 4, bad);
	assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	/* a known layout with a bad protocol or family, correctly MACed */
	n = raw_v2(2, &flows[0], raw);
	raw[5] = TP_PROTO_COUNT;
	mint(pa, raw, n, bad);
	assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	n = raw_v2(2, &flows[0], raw);
	raw[6] = 5;
	mint(pa, raw, n, bad);
	assert_false(proxy_flow_decode(pa, str_cstr(bad), &got));
	harness_free(e);
	harness_free(d);
	harness_free(c);
	harness_free(b);
	harness_free(a);
}

/* §16.4 + RFC 5626 §5.3 across proxies: the SIP Server sends h-proxy a BYE
 * whose Route is h-peer's Record-Route. h-proxy pops it as its own and
 * takes it to h-peer (alive), which delivers it down the endpoint's flow;
 * with h-peer dead, UDP goes straight to the endpoint and TCP gets 430. */
static void test_in_dialog_peer_token(void **state)
{
	(void)state;
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	char rr_u[600], rr_t[600];
	peer_call(b, EP_UDP, 0, "pt-udp", rr_u, sizeof(rr_u));
	uint64_t conn = harness_tcp_open(b, EP_TCP);
	peer_call(b, EP_TCP, conn, "pt-tcp", rr_t, sizeof(rr_t));
	assert_non_null(strstr(rr_u, "@127.0.0.6:5060;lr"));
	/* h-peer alive: through it, and it delivers */
	peer_bye(a, HARNESS_SERVER, rr_u, "pt-udp", 2);
	const struct harness_out *o = test_sent(a, "BYE ", HARNESS_PEER);
	assert_non_null(o->msg->route);
	assert_null(o->msg->route->next); /* h-peer's value popped, ours pushed */
	assert_true(str_eq(o->msg->ruri_str, STR_LIT("sip:caller@10.0.0.5:5070")));
	assert_int_equal(peer_relay(a, 0, "BYE ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	o = test_sent(b, "BYE ", EP_UDP);
	assert_null(o->msg->route);
	harness_clear(a);
	harness_clear(b);
	peer_bye(a, HARNESS_SERVER, rr_t, "pt-tcp", 2);
	assert_int_equal(peer_relay(a, 0, "BYE ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_int_equal(test_sent(b, "BYE ", EP_TCP)->conn_id, conn);
	/* h-peer dead */
	peer_kill(a);
	peer_bye(a, HARNESS_SERVER, rr_u, "pt-udp", 3);
	o = test_sent(a, "BYE ", EP_UDP);
	assert_null(o->msg->route);
	peer_bye(a, HARNESS_SERVER, rr_t, "pt-tcp", 3);
	assert_int_equal(test_last_status(a, HARNESS_SERVER), 430);
	assert_int_equal(harness_count_of(a, "BYE ", HARNESS_PEER), 0);
	assert_int_equal(harness_count_of(a, "BYE ", "127.0.0.21"), 0);
	assert_false(peer_sent_on_conn(a, 0));
	harness_free(b);
	harness_free(a);
}

/* The 2xx's ACK (forwarded without state, stateless.c) follows the same
 * rule as any in-dialog request: through the owner while it answers, UDP
 * straight to the endpoint when it does not, never down a local connection
 * that merely has the owner's connection id. */
static void test_ack_peer_token(void **state)
{
	(void)state;
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	char rr_u[600], rr_t[600], msg[4096];
	peer_call(b, EP_UDP, 0, "ack-udp", rr_u, sizeof(rr_u));
	uint64_t conn = harness_tcp_open(b, EP_TCP);
	peer_call(b, EP_TCP, conn, "ack-tcp", rr_t, sizeof(rr_t));
	/* a local connection with h-peer's connection id for that endpoint */
	uint64_t local = 0;
	for (int i = 0; i < 64 && local != conn; i++)
		local = harness_tcp_open(a, "127.0.0.48:40008");
	assert_int_equal(local, conn);
	const char *ruri = "sip:caller@10.0.0.5:5070";
	harness_clear(a);
	harness_udp(
	    a, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, rr_u, "ack-udp", 1));
	const struct harness_out *o = test_sent(a, "ACK ", HARNESS_PEER);
	assert_non_null(o->msg->route);
	assert_null(o->msg->route->next);
	assert_int_equal(peer_relay(a, 0, "ACK ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_null(test_sent(b, "ACK ", EP_UDP)->msg->route);
	harness_clear(a);
	harness_clear(b);
	harness_udp(
	    a, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, rr_t, "ack-tcp", 1));
	assert_false(peer_sent_on_conn(a, 0));
	assert_int_equal(peer_relay(a, 0, "ACK ", HARNESS_PEER, b, PEER_SELF_IP), 1);
	assert_int_equal(test_sent(b, "ACK ", EP_TCP)->conn_id, conn);
	peer_kill(a);
	harness_udp(
	    a, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, rr_u, "ack-udp", 1));
	assert_null(test_sent(a, "ACK ", EP_UDP)->msg->route);
	harness_udp(
	    a, HARNESS_SERVER,
	    test_dialog_req(msg, sizeof(msg), "ACK", ruri, HARNESS_SERVER, rr_t, "ack-tcp", 1));
	assert_int_equal(harness_count_of(a, "ACK ", NULL), 1); /* the UDP one only */
	assert_false(peer_sent_on_conn(a, 0));
	harness_free(b);
	harness_free(a);
}

/* The BYE the proxy sent somewhere other than the SIP Server, if any. */
static const struct harness_out *bye_elsewhere(struct harness *h)
{
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		char a[64];
		if (strncmp(o->buf, "BYE ", 4) == 0 &&
		    strcmp(tp_addr_str(&o->dest.addr, a, sizeof(a)), HARNESS_SERVER) != 0)
			return o;
	}
	return NULL;
}

/* The trust rule: the same BYE from an endpoint (or the SBC) goes only to
 * the SIP Server, never to h-peer or the endpoint the token names. */
static void test_untrusted_peer_token(void **state)
{
	(void)state;
	static const char *const srcs[] = {"127.0.0.30:5000", HARNESS_SBC ":5060"};
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	char rr[2][600];
	peer_call(b, EP_UDP, 0, "ut-udp", rr[0], sizeof(rr[0]));
	peer_call(b, EP_TCP, harness_tcp_open(b, EP_TCP), "ut-tcp", rr[1], sizeof(rr[1]));
	unsigned seq = 2;
	for (int dead = 0; dead < 2; dead++) {
		if (dead)
			peer_kill(a);
		for (size_t s = 0; s < 2; s++)
			for (int t = 0; t < 2; t++) {
				harness_clear(a);
				peer_bye(a, srcs[s], rr[t], t ? "ut-tcp" : "ut-udp", seq++);
				if (bye_elsewhere(a) || !harness_find(a, "BYE ", HARNESS_SERVER)) {
					test_dump(a);
					fail_msg("BYE from %s (%s) left the cluster", srcs[s],
						 rr[t]);
				}
			}
	}
	harness_free(b);
	harness_free(a);
}

/* A token another proxy minted names a connection id this proxy also has:
 * that id is the other proxy's, never the local connection. */
static void test_foreign_token_local_conn_id(void **state)
{
	(void)state;
	struct harness *a = peer_harness(&watched, false);
	struct harness *b = peer_harness(&(struct peer_cfg){.secret = PEER_SECRET}, true);
	uint64_t local = harness_tcp_open(a, "127.0.0.48:40008");
	struct proxy_flow f = peer_flow("h-peer", TP_TCP, "127.0.0.48:40008", local);
	char tok[PROXY_FLOW_TOKEN_MAX], rr[PROXY_FLOW_TOKEN_MAX + 64];
	proxy_flow_encode(peer_proxy(b), &f, tok);
	snprintf(rr, sizeof(rr), "<sip:%s@" HARNESS_PEER ";lr>", tok);
	peer_bye(a, HARNESS_SERVER, rr, "fc1", 2);
	assert_non_null(test_sent(a, "BYE ", HARNESS_PEER));
	assert_false(peer_sent_on_conn(a, local));
	peer_kill(a);
	peer_bye(a, HARNESS_SERVER, rr, "fc1", 3);
	assert_int_equal(test_last_status(a, HARNESS_SERVER), 430);
	assert_false(peer_sent_on_conn(a, 0));
	harness_free(b);
	harness_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tokens_across_proxies),
	    cmocka_unit_test(test_in_dialog_peer_token),
	    cmocka_unit_test(test_ack_peer_token),
	    cmocka_unit_test(test_untrusted_peer_token),
	    cmocka_unit_test(test_foreign_token_local_conn_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
