/* test_cluster_trust.c — who the cluster trusts (RFC 3261 §26.1: sipproxy is
 * never an open relay): only configured SIP Servers (either member of a pair,
 * any source port) and proxies may route beyond the cluster; a request from
 * anyone else reaches only a SIP Server's address (ip and port); only
 * configured SBCs' Path headers count (RFC 3327). Host names are resolved
 * once when the definition is applied. */
#include "cluster_test.h"

static const char *conf =
    "proxy = { name = \"p1\"; };\n"
    "cluster = {\n"
    "  proxies = ( { name = \"p1\"; sip-address = \"127.0.0.1\"; sip-port = 5060; },\n"
    "              { name = \"p2\"; sip-address = \"127.0.0.2\"; sip-port = 5060; } );\n"
    "  sip-servers = (\n"
    "    { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090; },\n"
    "    { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
    "      backup-sip-address = \"127.0.0.22\"; },\n"
    "    { name = \"c\"; sip-address = \"localhost\"; sip-port = 5095; },\n"
    "    { name = \"v6\"; sip-address = \"::1\"; sip-port = 5096; } );\n"
    "  sbcs = ( { name = \"edge\"; sip-address = \"127.0.0.7\"; } );\n"
    "};\n";

static void test_trusted_and_servers(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(conf);
	assert_int_equal(cluster_node_count(c), 4);
	union tp_sockaddr a = ct_addr("127.0.0.22", 40000); /* a backup, any port */
	assert_true(cluster_is_trusted(c, &a));
	assert_false(cluster_is_server(c, &a)); /* its SIP port is 5090 */
	a = ct_addr("127.0.0.22", 5090);
	assert_true(cluster_is_server(c, &a));
	a = ct_addr("127.0.0.2", 1234); /* a peer proxy */
	assert_true(cluster_is_trusted(c, &a));
	assert_false(cluster_is_server(c, &a));
	a = ct_addr("127.0.0.99", 5090); /* an endpoint */
	assert_false(cluster_is_trusted(c, &a));
	assert_false(cluster_is_server(c, &a));
	/* A host name is resolved (localhost: 127.0.0.1 or ::1). */
	union tp_sockaddr l4 = ct_addr("127.0.0.1", 5095), l6 = ct_addr("::1", 5095);
	assert_true(cluster_is_server(c, &l4) || cluster_is_server(c, &l6));
	a = ct_addr("::1", 5096);
	assert_true(cluster_is_server(c, &a));
	/* The hooks answer the same. */
	struct proxy_routing r = ct_hooks(c);
	a = ct_addr("127.0.0.12", 7);
	assert_true(r.is_trusted(r.arg, &a));
	assert_false(r.is_server(r.arg, &a));
	a = ct_addr("127.0.0.12", 5090);
	assert_true(r.is_server(r.arg, &a));
	cluster_free(c);
}

/* RFC 3327: an SBC is an edge peer, not a trusted router. */
static void test_sbc(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(conf);
	struct proxy_routing r = ct_hooks(c);
	union tp_sockaddr a = ct_addr("127.0.0.7", 5060);
	assert_true(cluster_is_sbc(c, &a));
	assert_true(r.is_edge(r.arg, &a));
	assert_false(cluster_is_trusted(c, &a));
	a = ct_addr("127.0.0.11", 5090);
	assert_false(cluster_is_sbc(c, &a));
	cluster_free(c);
}

/* The member a request names, or its IP when only one member has it. */
static void test_member_address_ambiguity(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.11\"; sip-port = 5091; } ); };\n");
	struct proxy_node_ref out;
	assert_true(ct_request_from(c, "127.0.0.11", 5091, &out));
	assert_string_equal(out.name, "b");
	/* Two nodes on one IP: another port is nobody's. */
	assert_false(ct_request_from(c, "127.0.0.11", 40000, &out));
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_trusted_and_servers),
	    cmocka_unit_test(test_sbc),
	    cmocka_unit_test(test_member_address_ambiguity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
