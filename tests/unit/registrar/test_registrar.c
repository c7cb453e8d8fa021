/* test_registrar.c — the registrar's storing rules (RFC 3261 §10.3, RFC 5626,
 * RFC 3327) with real parsed messages and the in-memory store, and the owner
 * node of an endpoint (seed: "the node whose SIP Server accepted an
 * endpoint's REGISTER owns that endpoint"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "registrar/registrar.h"
#include "util/arena.h"

static struct sip_msg *parse(const char *text)
{
	struct sip_msg *m = sip_msg_new(text, strlen(text));
	assert_non_null(m);
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	return m;
}

static const char *reg_fmt = "REGISTER sip:example.com SIP/2.0\r\n"
			     "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-%u\r\n"
			     "Max-Forwards: 70\r\n"
			     "To: <sip:alice@Example.COM>\r\n"
			     "From: <sip:alice@example.com>;tag=a1\r\n"
			     "Call-ID: %s\r\n"
			     "CSeq: %u REGISTER\r\n"
			     "%s"
			     "Content-Length: 0\r\n\r\n";

static const char *ok_fmt = "SIP/2.0 200 OK\r\n"
			    "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK-1\r\n"
			    "To: <sip:alice@example.com>;tag=srv\r\n"
			    "From: <sip:alice@example.com>;tag=a1\r\n"
			    "Call-ID: c1\r\n"
			    "CSeq: 1 REGISTER\r\n"
			    "%s"
			    "Content-Length: 0\r\n\r\n";

struct fixture {
	struct store *store;
	struct registrar *reg;
	struct tp_packet src;
	const char *node; /* the SIP Server node answering the exchanges, NULL = none */
};

static int setup(void **state)
{
	static struct fixture f;
	memset(&f, 0, sizeof(f));
	char err[128];
	f.store = store_mem_new(NULL, err, sizeof(err));
	assert_non_null(f.store);
	struct registrar_config rc = {.domains = {"example.com"}, .n_domains = 1, .owner = "p1"};
	f.reg = registrar_new(&rc, f.store);
	f.src.proto = TP_UDP;
	tp_addr_from_ip(str_cstr("192.0.2.7"), 40000, &f.src.src);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	registrar_free(f->reg);
	store_free(f->store);
	return 0;
}

/* Runs one REGISTER/2xx exchange through the registrar. */
/* One REGISTER of aor ("alice" or "mallory") through the registrar; path:
 * whether the sender is an SBC (RFC 3327). */
static int exchange_as(struct fixture *f, const char *user, bool path, const char *call_id,
		       unsigned cseq, const char *req_hdrs, const char *rsp_hdrs, int64_t now)
{
	char req[2048], rsp[2048];
	snprintf(req, sizeof(req), reg_fmt, cseq, call_id, cseq, req_hdrs);
	snprintf(rsp, sizeof(rsp), ok_fmt, rsp_hdrs);
	if (strcmp(user, "alice") != 0) {
		char *to = strstr(req, "alice@Example.COM");
		memcpy(to, "zelda", 5); /* same length: another AOR */
	}
	struct sip_msg *q = parse(req), *s = parse(rsp);
	int n = registrar_on_2xx(f->reg, q, &f->src, s, path,
				 f->node ? str_cstr(f->node) : STR_NULL, now);
	sip_msg_free(q);
	sip_msg_free(s);
	return n;
}

static int exchange(struct fixture *f, const char *call_id, unsigned cseq, const char *req_hdrs,
		    const char *rsp_hdrs, int64_t now)
{
	return exchange_as(f, "alice", false, call_id, cseq, req_hdrs, rsp_hdrs, now);
}

/* The live targets of user@host (Request-URI ruri_host, e.g. "example.com"). */
static int lookup_ruri(struct fixture *f, const char *ruri, int64_t now, struct registrar_target *t,
		       unsigned max)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "INVITE %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKx\r\n"
		 "To: <sip:alice@example.com>\r\nFrom: <sip:s@x>;tag=1\r\n"
		 "Call-ID: i1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
		 ruri);
	struct sip_msg *inv = parse(text);
	struct arena *a = arena_new(1024);
	int n = registrar_lookup(f->reg, inv, now, t, max, a);
	arena_free(a); /* slices in t are not used after this by callers */
	sip_msg_free(inv);
	return n;
}

static int count_live(struct fixture *f, int64_t now, struct registrar_target *t, unsigned max)
{
	return lookup_ruri(f, "sip:alice@example.com", now, t, max);
}

/* §10.3 step 7: a binding is stored with what the 2xx granted. */
static void test_add_from_2xx(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5:5060>\r\n",
				  "Contact: <sip:alice@10.0.0.5:5060>;expires=120\r\n", 1000),
			 1);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 1000, t, 4), 1);
	assert_int_equal(t[0].proto, TP_UDP);
	assert_int_equal(tp_addr_port(&t[0].source), 40000); /* the NAT flow, not the Contact */
	/* granted 120 s: alive at 119.9 s, gone at 120 s (§10.3: exactly when granted) */
	assert_int_equal(count_live(f, 1000 + 119999, t, 4), 1);
	assert_int_equal(count_live(f, 1000 + 120000, t, 4), 0);
}

/* Seed: a binding is stored only on 2xx; expires falls back to the request. */
static void test_expires_fallback(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5>;expires=60\r\n", "", 0);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 59999, t, 4), 1);
	assert_int_equal(count_live(f, 60000, t, 4), 0);
}

/* §10.3 step 6: expires=0 removes one, Contact: * removes all. */
static void test_remove_one_and_all(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5>, <sip:alice@10.0.0.6>\r\n",
		 "Contact: <sip:alice@10.0.0.5>;expires=300, <sip:alice@10.0.0.6>;expires=300\r\n",
		 0);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 10, t, 4), 2);
	exchange(f, "c1", 2, "Contact: <sip:alice@10.0.0.5>;expires=0\r\n",
		 "Contact: <sip:alice@10.0.0.6>;expires=290\r\n", 10);
	assert_int_equal(count_live(f, 20, t, 4), 1);
	exchange(f, "c1", 3, "Contact: *\r\nExpires: 0\r\n", "", 20);
	assert_int_equal(count_live(f, 30, t, 4), 0);
}

/* §10.3 step 7: an older refresh (same Call-ID, lower CSeq) never wins. */
static void test_out_of_order_cseq(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 5, "Contact: <sip:alice@10.0.0.5>\r\n",
		 "Contact: <sip:alice@10.0.0.5>;expires=300\r\n", 0);
	exchange(f, "c1", 4, "Contact: <sip:alice@10.0.0.5>\r\n",
		 "Contact: <sip:alice@10.0.0.5>;expires=10\r\n", 0);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 20000, t, 4), 1); /* still the CSeq 5 grant */
}

/* §16.5: highest q first; RFC 3327 Path from an SBC kept as the route. */
static void test_q_and_path(void **state)
{
	struct fixture *f = *state;
	exchange_as(f, "alice", true, "c1", 1,
		    "Path: <sip:sbc.example.net;lr>\r\n"
		    "Contact: <sip:alice@10.0.0.5>;q=0.5, <sip:alice@10.0.0.6>;q=0.9\r\n",
		    "Contact: <sip:alice@10.0.0.5>;q=0.5;expires=300, "
		    "<sip:alice@10.0.0.6>;q=0.9;expires=300\r\n",
		    0);
	struct sip_msg *inv = parse("INVITE sip:alice@example.com SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKx\r\n"
				    "To: <sip:alice@example.com>\r\nFrom: <sip:s@x>;tag=1\r\n"
				    "Call-ID: i1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	struct arena *a = arena_new(1024);
	struct registrar_target t[4];
	assert_int_equal(registrar_lookup(f->reg, inv, 10, t, 4, a), 2);
	assert_int_equal(t[0].q, 900);
	assert_int_equal(t[1].q, 500);
	assert_true(str_eq(t[0].path, STR_LIT("<sip:sbc.example.net;lr>")));
	arena_free(a);
	sip_msg_free(inv);
}

/* §16.5: a Request-URI outside the served domains is not the registrar's. */
static void test_foreign_domain(void **state)
{
	struct fixture *f = *state;
	struct sip_msg *inv = parse("INVITE sip:bob@elsewhere.net SIP/2.0\r\n"
				    "Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bKx\r\n"
				    "To: <sip:bob@elsewhere.net>\r\nFrom: <sip:s@x>;tag=1\r\n"
				    "Call-ID: i1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
	struct arena *a = arena_new(1024);
	struct registrar_target t[4];
	assert_int_equal(registrar_lookup(f->reg, inv, 10, t, 4, a), -1);
	arena_free(a);
	sip_msg_free(inv);
}

/* RFC 5626 §6: a binding with +sip.instance/reg-id is keyed by them, so the
 * same device re-registering from a new address replaces its old binding. */
static void test_instance_reg_id(void **state)
{
	struct fixture *f = *state;
	const char *inst = "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"";
	char hdr[512];
	snprintf(hdr, sizeof(hdr), "Contact: <sip:alice@10.0.0.5>;%s;reg-id=1\r\n", inst);
	exchange(f, "c1", 1, hdr, "", 0);
	snprintf(hdr, sizeof(hdr), "Contact: <sip:alice@10.0.0.77>;%s;reg-id=1\r\n", inst);
	exchange(f, "c2", 1, hdr, "", 10);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 20, t, 4), 1); /* replaced, not added */
	snprintf(hdr, sizeof(hdr), "Contact: <sip:alice@10.0.0.78>;%s;reg-id=2\r\n", inst);
	exchange(f, "c3", 1, hdr, "", 20);
	assert_int_equal(count_live(f, 30, t, 4), 2); /* another flow of the device */
}

/* RFC 3327 §5: a Path from anyone but an SBC is not stored (the proxy removed
 * it before forwarding): the contact is reached through its own flow. */
static void test_path_untrusted(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 1, "Path: <sip:127.0.0.9:5999;lr>\r\nContact: <sip:alice@10.0.0.5>\r\n",
		 "Contact: <sip:alice@10.0.0.5>;expires=300\r\n", 0);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 10, t, 4), 1);
	assert_int_equal(t[0].path.len, 0);
}

/* Contacts are endpoints' words: a Request-URI equal to a registered Contact
 * is not looked up (in-dialog requests follow our flow token), so another
 * AOR registering the same Contact steers nothing, and its removal leaves
 * the first AOR's binding alone. */
static void test_shared_contact(void **state)
{
	struct fixture *f = *state;
	const char *c = "Contact: <sip:alice@10.0.0.5:5060>\r\n";
	const char *g = "Contact: <sip:alice@10.0.0.5:5060>;expires=300\r\n";
	exchange(f, "c1", 1, c, g, 0);
	tp_addr_from_ip(str_cstr("192.0.2.66"), 6666, &f->src.src); /* the attacker */
	exchange_as(f, "zelda", false, "m1", 1, c, g, 0);
	struct registrar_target t[4];
	assert_int_equal(lookup_ruri(f, "sip:alice@10.0.0.5:5060", 10, t, 4), -1);
	assert_int_equal(count_live(f, 10, t, 4), 1);
	assert_int_equal(tp_addr_port(&t[0].source), 40000); /* alice's own flow */
	exchange_as(f, "zelda", false, "m1", 2, "Contact: <sip:alice@10.0.0.5:5060>;expires=0\r\n",
		    "", 20);
	assert_int_equal(count_live(f, 30, t, 4), 1);
	assert_int_equal(tp_addr_port(&t[0].source), 40000);
}

/* §10.3 step 7: Contacts compare by the §19.1.4 URI rules, not byte for
 * byte: a refresh spelled differently is the same binding. */
static void test_contact_uri_compare(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 1, "Contact: <sip:alice@HOST.example:5060;transport=UDP>\r\n", "", 0);
	exchange(f, "c1", 2, "Contact: <sip:alice@host.example:5060;transport=udp>\r\n", "", 10);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 20, t, 4), 1);
	exchange(f, "c1", 3, "Contact: <sip:alice@host.example:5060;transport=udp>;expires=0\r\n",
		 "", 30);
	assert_int_equal(count_live(f, 40, t, 4), 0);
}

/* §10.3 step 8: a 2xx without Contact but with an Expires header grants that. */
static void test_2xx_expires_header(void **state)
{
	struct fixture *f = *state;
	exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5>\r\nExpires: 3600\r\n",
		 "Expires: 60\r\n", 0);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 59999, t, 4), 1);
	assert_int_equal(count_live(f, 60000, t, 4), 0);
}

/* "Is this URI mine" is host and port: a domain without a port serves no
 * port or our SIP ports (user@<our IP>:<a SIP Server's port> is the
 * server's); a domain with a port serves exactly that port. */
static void test_domain_port(void **state)
{
	(void)state;
	char err[128];
	struct store *st = store_mem_new(NULL, err, sizeof(err));
	struct registrar_config rc = {.domains = {"127.0.0.1", "b.example:5070", "[::1]:5080"},
				      .n_domains = 3,
				      .ports = {5060, 5062},
				      .n_ports = 2};
	struct registrar *r = registrar_new(&rc, st);
	struct sip_uri u;
	const char *yes[] = {"sip:x@127.0.0.1",	     "sip:x@127.0.0.1:5060", "sip:x@127.0.0.1:5062",
			     "sip:x@b.example:5070", "sip:x@B.EXAMPLE:5070", "sip:x@[::1]:5080"};
	const char *no[] = {"sip:x@127.0.0.1:5090", "sip:x@b.example", "sip:x@b.example:5060",
			    "sip:x@[::1]",	    "sip:x@127.0.0.2", "tel:+123"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		assert_int_equal(sip_uri_parse(str_cstr(yes[i]), &u), 0);
		assert_true(registrar_serves(r, &u));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(sip_uri_parse(str_cstr(no[i]), &u), 0);
		assert_false(registrar_serves(r, &u));
	}
	registrar_free(r);
	store_free(st);
}

/* The owner node of the endpoint whose From URI is uri ("" when none). */
static const char *owner_of(struct fixture *f, const char *uri, int64_t now)
{
	static char out[64];
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(str_cstr(uri), &u), 0);
	if (!registrar_owner_node(f->reg, &u, now, out, sizeof(out)))
		return "";
	return out;
}

/* Seed "DN ownership is defined by REGISTER": the node that answered the
 * 2xx is stored on the binding and named as the owner; a re-REGISTER
 * answered by another node (failover) moves ownership; a REGISTER nobody
 * granted moves nothing. */
static void test_owner_node_refresh(void **state)
{
	struct fixture *f = *state;
	const char *c = "Contact: <sip:alice@10.0.0.5>\r\n";
	const char *g = "Contact: <sip:alice@10.0.0.5>;expires=300\r\n";
	assert_string_equal(owner_of(f, "sip:alice@example.com", 0), "");
	f->node = "sipsrv-a";
	assert_int_equal(exchange(f, "c1", 1, c, g, 0), 1);
	assert_string_equal(owner_of(f, "sip:alice@example.com", 10), "sipsrv-a");
	/* The From URI's form does not matter: AOR canonical form (§10.3 step 5). */
	assert_string_equal(owner_of(f, "sip:alice@EXAMPLE.com;transport=tcp", 10), "sipsrv-a");
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 10, t, 4), 1);

	f->node = "sipsrv-b";
	assert_int_equal(exchange(f, "c1", 2, c, g, 100000), 1);
	assert_int_equal(count_live(f, 100010, t, 4), 1); /* refreshed, not added */
	assert_string_equal(owner_of(f, "sip:alice@example.com", 100010), "sipsrv-b");
	/* A late 2xx for the older CSeq is stale (§10.3 step 7): no move back. */
	f->node = "sipsrv-a";
	assert_int_equal(exchange(f, "c1", 1, c, g, 100020), 0);
	assert_string_equal(owner_of(f, "sip:alice@example.com", 100030), "sipsrv-b");
	/* Unregistered: no owner. */
	assert_int_equal(
	    exchange(f, "c1", 3, "Contact: <sip:alice@10.0.0.5>;expires=0\r\n", "", 100040), 1);
	assert_string_equal(owner_of(f, "sip:alice@example.com", 100050), "");
}

/* With several bindings, the owner is the node of the live binding granted
 * last (latest expiry) that has a node; lapsed bindings (§10.3 step 8) and
 * bindings without a node do not count. */
static void test_owner_node_pick(void **state)
{
	struct fixture *f = *state;
	f->node = "sipsrv-a"; /* 10.0.0.5 until 600 s */
	exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5>\r\n",
		 "Contact: <sip:alice@10.0.0.5>;expires=600\r\n", 0);
	f->node = "sipsrv-b"; /* 10.0.0.6 from 100 s to 400 s, at a lower q */
	exchange(f, "c2", 1, "Contact: <sip:alice@10.0.0.6>;q=0.5\r\n",
		 "Contact: <sip:alice@10.0.0.6>;q=0.5;expires=300\r\n", 100000);
	f->node = "sipsrv-c"; /* 10.0.0.7 from 200 s to 900 s, at a lower q */
	exchange(f, "c3", 1, "Contact: <sip:alice@10.0.0.7>;q=0.1\r\n",
		 "Contact: <sip:alice@10.0.0.7>;q=0.1;expires=700\r\n", 200000);
	f->node = NULL; /* 10.0.0.8 from 300 s to 1000 s, no node known */
	exchange(f, "c4", 1, "Contact: <sip:alice@10.0.0.8>\r\n",
		 "Contact: <sip:alice@10.0.0.8>;expires=700\r\n", 300000);
	struct registrar_target t[4];
	assert_int_equal(count_live(f, 300000, t, 4), 4);
	assert_string_equal(owner_of(f, "sip:alice@example.com", 300000), "sipsrv-c");
	/* ^ c: the latest expiry (900 s), whatever the q order. */
	f->node = "sipsrv-b"; /* b refreshed at 350 s for 600 s: until 950 s */
	exchange(f, "c2", 2, "Contact: <sip:alice@10.0.0.6>;q=0.5\r\n",
		 "Contact: <sip:alice@10.0.0.6>;q=0.5;expires=600\r\n", 350000);
	assert_string_equal(owner_of(f, "sip:alice@example.com", 350000), "sipsrv-b");
	/* b and c lapse (950 s, 900 s); a lapsed at 600 s: only the node-less
	 * binding is left until 1000 s. */
	assert_string_equal(owner_of(f, "sip:alice@example.com", 949999), "sipsrv-b");
	assert_string_equal(owner_of(f, "sip:alice@example.com", 950000), "");
	assert_int_equal(count_live(f, 950000, t, 4), 1);
	assert_string_equal(owner_of(f, "sip:bob@example.com", 0), ""); /* never registered */

	/* Equal expiry and q: the binding saved last wins. */
	f->node = "sipsrv-x";
	exchange_as(f, "zelda", false, "z1", 1, "Contact: <sip:zelda@10.0.0.9>\r\n",
		    "Contact: <sip:zelda@10.0.0.9>;expires=300\r\n", 0);
	f->node = "sipsrv-y";
	exchange_as(f, "zelda", false, "z2", 1, "Contact: <sip:zelda@10.0.0.10>\r\n",
		    "Contact: <sip:zelda@10.0.0.10>;expires=300\r\n", 0);
	assert_string_equal(owner_of(f, "sip:zelda@example.com", 10), "sipsrv-y");
}

/* Only users of served domains have an owner here: another domain, the
 * domain itself, a tel: URI; a name that does not fit is not cut. */
static void test_owner_node_not_ours(void **state)
{
	struct fixture *f = *state;
	f->node = "sipsrv-a";
	exchange(f, "c1", 1, "Contact: <sip:alice@10.0.0.5>\r\n", "", 0);
	struct sip_uri u;
	char out[64];
	const char *no[] = {"sip:alice@elsewhere.net", "sip:example.com", "tel:+15551234567",
			    "sip:alice@example.com:5999"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		assert_int_equal(sip_uri_parse(str_cstr(no[i]), &u), 0);
		assert_false(registrar_owner_node(f->reg, &u, 10, out, sizeof(out)));
	}
	assert_int_equal(sip_uri_parse(STR_LIT("sip:alice@example.com"), &u), 0);
	assert_false(registrar_owner_node(f->reg, &u, 10, out, 8)); /* "sipsrv-a" + NUL: 9 */
	assert_true(registrar_owner_node(f->reg, &u, 10, out, 9));
	assert_string_equal(out, "sipsrv-a");
}

/* §10.3 step 5: AOR canonical form. */
static void test_aor_canonical(void **state)
{
	(void)state;
	struct sip_uri u;
	assert_int_equal(sip_uri_parse(STR_LIT("sip:Alice@EXAMPLE.com:5060;transport=tcp"), &u), 0);
	char out[128];
	assert_int_equal(registrar_aor(&u, out, sizeof(out)), strlen("sip:Alice@example.com"));
	assert_string_equal(out, "sip:Alice@example.com");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_add_from_2xx, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expires_fallback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_one_and_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_out_of_order_cseq, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_q_and_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_domain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_path_untrusted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shared_contact, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_contact_uri_compare, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_2xx_expires_header, setup, teardown),
	    cmocka_unit_test(test_domain_port),
	    cmocka_unit_test_setup_teardown(test_instance_reg_id, setup, teardown),
	    cmocka_unit_test(test_aor_canonical),
	    cmocka_unit_test_setup_teardown(test_owner_node_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_node_pick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_owner_node_not_ours, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
