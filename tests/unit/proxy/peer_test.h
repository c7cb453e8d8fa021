/* peer_test.h — two proxies of one cluster on the harness (test_peers.c):
 * the cluster config naming h-proxy (127.0.0.1) and h-peer (127.0.0.6),
 * the second harness running as h-peer, a relay carrying what one sends the
 * other, peer liveness as the cluster and /nodes see it, bindings put
 * straight into a proxy's store as the shared store would hand them over,
 * and a dialog an endpoint sets up through one proxy (its Record-Route). */
#ifndef SIPPROXY_TESTS_PEER_TEST_H
#define SIPPROXY_TESTS_PEER_TEST_H

#include <event2/buffer.h>
#include <time.h>

#include "admin/nodes.h"
#include "app/app.h"
#include "cluster/cluster.h"
#include "proxy/proxy_internal.h"
#include "proxy_test.h"
#include "store/store.h"

#define PEER_SECRET  "h-cluster-secret-0123456789"
#define PEER_CHECK   500u
#define PEER_SELF_IP "127.0.0.1:5060"
#define EP_UDP	     "127.0.0.20:40000"
#define EP_TCP	     "127.0.0.21:40001"

struct peer_cfg {
	unsigned check;	     /* cluster.peer-check, 0 = not watched */
	const char *secret;  /* cluster.secret, NULL = none */
	const char *self_rr; /* h-proxy's record-route-host, NULL = none */
	const char *peer_rr; /* h-peer's */
	const char *peer_ip; /* h-peer's sip-address, NULL = 127.0.0.6 */
};

/* The extra config text: the cluster (both proxies, s1, the SBC) and, for
 * as_peer, the proxy group that makes the harness h-peer on 127.0.0.6. */
static inline const char *peer_config(char *buf, size_t cap, const struct peer_cfg *c, bool as_peer)
{
	char self_rr[128] = "", peer_rr[128] = "", secret[128] = "";
	if (c->self_rr)
		snprintf(self_rr, sizeof(self_rr), " record-route-host = \"%s\";", c->self_rr);
	if (c->peer_rr)
		snprintf(peer_rr, sizeof(peer_rr), " record-route-host = \"%s\";", c->peer_rr);
	if (c->secret)
		snprintf(secret, sizeof(secret), "  secret = \"%s\";\n", c->secret);
	snprintf(
	    buf, cap,
	    "%s"
	    "cluster = {\n"
	    "  proxies = ( { name = \"h-proxy\"; sip-address = \"127.0.0.1\"; sip-port = "
	    "5060;%s },\n"
	    "              { name = \"h-peer\"; sip-address = \"%s\"; sip-port = "
	    "5060;%s } );\n"
	    "  sip-servers = ( { name = \"s1\"; sip-address = \"127.0.0.3\"; sip-port = 5090;\n"
	    "    backup-sip-address = \"127.0.0.4\"; transport = \"udp\"; oos-check = 0; } );\n"
	    "  sbcs = ( { name = \"sbc\"; sip-address = \"127.0.0.7\"; } );\n"
	    "  peer-check = %u;\n"
	    "%s"
	    "};\n",
	    as_peer ? "proxy = { name = \"h-peer\"; sip-address = \"127.0.0.6\"; sip-port = 5060;\n"
		      "  transports = [ \"udp\", \"tcp\" ]; };\n"
		    : "",
	    self_rr, c->peer_ip ? c->peer_ip : "127.0.0.6", peer_rr, c->check, secret);
	return buf;
}

static inline struct harness *peer_harness(const struct peer_cfg *c, bool as_peer)
{
	char text[2048];
	return test_harness(peer_config(text, sizeof(text), c, as_peer));
}

static inline struct cluster *peer_cluster(struct harness *h)
{
	return app_cluster(harness_app(h));
}

static inline struct proxy *peer_proxy(struct harness *h)
{
	return app_proxy(harness_app(h));
}

/* Is h-peer alive in h's cluster (cluster_peer_view, what /nodes shows)? */
static inline bool peer_alive(struct harness *h)
{
	struct cluster_peer_view v[4];
	size_t n = cluster_peer_view(peer_cluster(h), v, 4);
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, "h-peer") == 0)
			return v[i].alive;
	fail_msg("h-peer is not in the cluster's peer view");
	return false;
}

/* What /nodes?format=json (or the metrics) say, into buf. */
static inline const char *peer_page(struct harness *h, bool metrics, char *buf, size_t cap)
{
	struct evbuffer *out = evbuffer_new();
	assert_non_null(out);
	if (metrics) {
		admin_nodes_metrics(peer_cluster(h), out);
	} else {
		const char *ct = NULL;
		assert_int_equal(
		    admin_nodes_page(peer_cluster(h), "/nodes", "format=json", out, &ct), 200);
	}
	size_t n = evbuffer_get_length(out);
	if (n >= cap)
		n = cap - 1;
	evbuffer_remove(out, buf, n);
	buf[n] = '\0';
	evbuffer_free(out);
	return buf;
}

/* The probe to h-peer sent at this instant (due timers first). */
static inline const struct harness_out *peer_probe(struct harness *h)
{
	harness_advance(h, 0);
	return harness_find(h, "OPTIONS sip:127.0.0.6:5060 ", HARNESS_PEER);
}

/* h-peer stops answering: intervals of silence until a probe went unanswered. */
static inline void peer_kill(struct harness *h)
{
	harness_advance(h, 0);
	for (int i = 0; i < 4 && peer_alive(h); i++)
		harness_advance(h, PEER_CHECK);
	assert_false(peer_alive(h));
	harness_clear(h);
}

/* h-peer answers the next probe (200). */
static inline void peer_revive(struct harness *h)
{
	harness_clear(h);
	const struct harness_out *o = peer_probe(h);
	for (int i = 0; i < 4 && !o; i++) {
		harness_advance(h, PEER_CHECK);
		o = peer_probe(h);
	}
	assert_non_null(o);
	harness_reply(h, o, 200, NULL);
	assert_true(peer_alive(h));
	harness_clear(h);
}

/* Carries what from sent to dest ("ip:port") starting with prefix (NULL =
 * anything), from its index since on, into to as datagrams from src
 * ("ip:port"). Returns how many. */
static inline size_t peer_relay(struct harness *from, size_t since, const char *prefix,
				const char *dest, struct harness *to, const char *src)
{
	union tp_sockaddr s = harness_addr(src);
	size_t n = 0;
	for (size_t i = since; i < harness_count(from); i++) {
		const struct harness_out *o = harness_out(from, i);
		char a[64];
		if (strcmp(tp_addr_str(&o->dest.addr, a, sizeof(a)), dest) != 0 ||
		    (prefix && strncmp(o->buf, prefix, strlen(prefix)) != 0))
			continue;
		harness_udp_raw(to, &s, o->buf, o->len);
		n++;
	}
	return n;
}

static inline int64_t peer_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A binding of user@sipproxy.test as the shared store hands it over: its
 * REGISTER came from source over proto (on connection conn of proxy owner). */
struct peer_binding {
	const char *user, *contact;
	enum tp_proto proto;
	const char *source;
	uint64_t conn;
	const char *owner;
	const char *instance; /* +sip.instance, NULL = none (then no reg-id) */
};

static inline void peer_save(struct harness *h, const struct peer_binding *pb)
{
	char aor[128], cid[256];
	snprintf(aor, sizeof(aor), "sip:%s@" TEST_DOMAIN, pb->user);
	snprintf(cid, sizeof(cid), "peer-reg-%s-%s", pb->user, pb->contact);
	struct store_binding b = {
	    .aor = str_cstr(aor),
	    .contact = str_cstr(pb->contact),
	    .instance = str_cstr(pb->instance ? pb->instance : ""),
	    .reg_id = pb->instance ? 1 : 0,
	    .call_id = str_cstr(cid),
	    .cseq = 1,
	    .q = 1000,
	    .expires_at = peer_wall_ms() + 300000,
	    .proto = pb->proto,
	    .source = harness_addr(pb->source),
	    .conn_id = pb->conn,
	    .owner = str_cstr(pb->owner),
	    .node = STR_LIT("s1"),
	};
	assert_int_equal(store_save(app_store(harness_app(h)), &b), STORE_OK);
}

static inline int peer_copy_one(void *arg, const struct store_binding *b)
{
	assert_int_equal(store_save(arg, b), STORE_OK);
	return 0;
}

/* What the shared store does: from's bindings of user appear in to's. */
static inline void peer_share(struct harness *from, struct harness *to, const char *user)
{
	char aor[128];
	snprintf(aor, sizeof(aor), "sip:%s@" TEST_DOMAIN, user);
	store_lookup(app_store(harness_app(from)), str_cstr(aor), peer_wall_ms(), peer_copy_one,
		     app_store(harness_app(to)));
}

/* The flow token in the user part of a URI text ("sip:TOKEN@host;lr"). */
static inline bool peer_token_of(struct str uri, char *out, size_t cap)
{
	const char *colon = memchr(uri.p, ':', uri.len);
	const char *at = colon ? memchr(colon, '@', uri.len - (size_t)(colon - uri.p)) : NULL;
	if (!at || (size_t)(at - colon - 1) >= cap)
		return false;
	snprintf(out, cap, "%.*s", (int)(at - colon - 1), colon + 1);
	return true;
}

/* Was anything sent down a stream connection (conn != 0 any, else that one)? */
static inline bool peer_sent_on_conn(struct harness *h, uint64_t conn)
{
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		if (o->conn_id && (!conn || o->conn_id == conn))
			return true;
	}
	return false;
}

/* A flow as a token carries it. */
static inline struct proxy_flow peer_flow(const char *owner, enum tp_proto proto, const char *addr,
					  uint64_t conn)
{
	struct proxy_flow f = {proxy_peer_id(str_cstr(owner)), proto, harness_addr(addr), conn};
	return f;
}

/* An endpoint at src calls bob through p (over conn when non-zero), its
 * Contact behind a NAT; returns the Record-Route p sent the SIP Server
 * ("<sip:TOKEN@...;lr>", two values after a transport change), after the
 * server answered 200. */
static inline void peer_call(struct harness *p, const char *src, uint64_t conn, const char *cid,
			     char *rr, size_t cap)
{
	char msg[4096];
	snprintf(msg, sizeof(msg),
		 "INVITE sip:bob@" TEST_DOMAIN " SIP/2.0\r\n"
		 "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:caller@example.com>;tag=f-%s\r\n"
		 "To: <sip:callee@example.com>\r\n"
		 "Call-ID: %s\r\nCSeq: 1 INVITE\r\n"
		 "Contact: <sip:caller@10.0.0.5:5070%s>\r\n"
		 "Content-Length: 0\r\n\r\n",
		 conn ? "TCP" : "UDP", src, cid, cid, cid, conn ? ";transport=tcp" : "");
	harness_clear(p);
	if (conn)
		harness_tcp(p, conn, msg);
	else
		harness_udp(p, src, msg);
	const struct harness_out *inv = test_sent(p, "INVITE ", HARNESS_SERVER);
	assert_non_null(inv->msg->record_route);
	size_t n = 0;
	for (const struct sip_addr *r = inv->msg->record_route; r && n < cap; r = r->next)
		n += (size_t)snprintf(rr + n, cap - n, "%s<%.*s>", n ? ", " : "",
				      STR_FMT(r->uri_str));
	assert_true(n < cap);
	char line[1400];
	snprintf(line, sizeof(line), "Record-Route: %s\r\n", rr);
	harness_reply(p, inv, 200, line);
	harness_clear(p);
}

/* A BYE in that dialog from src to h, Route = rr. */
static inline void peer_bye(struct harness *h, const char *src, const char *rr, const char *cid,
			    unsigned cseq)
{
	char msg[4096];
	harness_udp(h, src,
		    test_dialog_req(msg, sizeof(msg), "BYE", "sip:caller@10.0.0.5:5070", src, rr,
				    cid, cseq));
}

#endif
