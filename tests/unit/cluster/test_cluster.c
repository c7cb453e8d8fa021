/* test_cluster.c — the node table's answers: a REGISTER's SIP Server chosen by a
 * stable hash of the AOR (registrar issue: "a challenge's retry and later
 * refreshes reach the same node"), other requests to the first node, and the
 * trust set (RFC 3261 §26.1: only configured SIP Servers and proxies are trusted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/cluster.h"

static const char *conf =
    "cluster = {\n"
    "  proxies = ( { name = \"p1\"; sip-address = \"127.0.0.1\"; sip-port = 5060; } );\n"
    "  sip-servers = (\n"
    "    { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090; },\n"
    "    { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
    "      backup-sip-address = \"127.0.0.22\"; },\n"
    "    { name = \"c\"; sip-address = \"127.0.0.13\"; sip-port = 5090; } );\n"
    "};\n";

static struct sip_msg *request(const char *method, const char *to_uri)
{
	char text[1024];
	snprintf(text, sizeof(text),
		 "%s sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKc\r\n"
		 "To: <%s>\r\nFrom: <%s>;tag=1\r\nCall-ID: c\r\nCSeq: 1 %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, to_uri, to_uri, method);
	struct sip_msg *m = sip_msg_new(text, strlen(text));
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	return m;
}

static struct cluster *load(struct config *cfg)
{
	char err[256];
	assert_int_equal(config_load_string(conf, "test.conf", cfg, err, sizeof(err)), 0);
	struct cluster *c = cluster_new(cfg, err, sizeof(err));
	assert_non_null(c);
	return c;
}

static void test_register_by_aor(void **state)
{
	(void)state;
	static struct config cfg;
	struct cluster *c = load(&cfg);
	unsigned used[3] = {0};
	for (int i = 0; i < 60; i++) {
		char aor[64];
		snprintf(aor, sizeof(aor), "sip:user%d@example.com", i);
		struct sip_msg *r1 = request("REGISTER", aor);
		/* the same AOR, spelled with another host case: same node */
		snprintf(aor, sizeof(aor), "sip:user%d@EXAMPLE.com", i);
		struct sip_msg *r2 = request("REGISTER", aor);
		struct tp_dest d1, d2;
		assert_int_equal(cluster_pick_server(c, r1, &d1), 0);
		assert_int_equal(cluster_pick_server(c, r2, &d2), 0);
		assert_true(tp_addr_equal(&d1.addr, &d2.addr));
		for (unsigned k = 0; k < 3; k++)
			if (tp_addr_equal(&d1.addr, &cluster_node_at(c, k)->primary.addr))
				used[k]++;
		sip_msg_free(r1);
		sip_msg_free(r2);
	}
	/* 60 AORs spread over all three nodes */
	assert_true(used[0] > 0 && used[1] > 0 && used[2] > 0);
	assert_int_equal(used[0] + used[1] + used[2], 60);
	cluster_free(c);
}

static void test_other_requests_first_node(void **state)
{
	(void)state;
	static struct config cfg;
	struct cluster *c = load(&cfg);
	struct sip_msg *inv = request("INVITE", "sip:user7@example.com");
	struct tp_dest d;
	assert_int_equal(cluster_pick_server(c, inv, &d), 0);
	assert_true(tp_addr_equal(&d.addr, &cluster_node_at(c, 0)->primary.addr));
	sip_msg_free(inv);
	cluster_free(c);
}

static void test_trust(void **state)
{
	(void)state;
	static struct config cfg;
	struct cluster *c = load(&cfg);
	union tp_sockaddr a;
	tp_addr_from_ip(STR_LIT("127.0.0.22"), 40000, &a); /* a backup, any port */
	assert_true(cluster_is_trusted(c, &a));
	assert_false(cluster_is_server(c, &a)); /* backup's SIP port is 5090 */
	tp_addr_from_ip(STR_LIT("127.0.0.22"), 5090, &a);
	assert_true(cluster_is_server(c, &a));
	tp_addr_from_ip(STR_LIT("127.0.0.1"), 1234, &a); /* the proxy */
	assert_true(cluster_is_trusted(c, &a));
	tp_addr_from_ip(STR_LIT("127.0.0.99"), 5090, &a); /* an endpoint */
	assert_false(cluster_is_trusted(c, &a));
	assert_false(cluster_is_server(c, &a));
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_by_aor),
	    cmocka_unit_test(test_other_requests_first_node),
	    cmocka_unit_test(test_trust),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
