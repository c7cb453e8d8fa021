/* test_config_publish.c — a published cluster definition applied to a
 * running proxy's config (config_load_cluster, sipproxyctl cluster publish):
 * the cluster's settings come from the text, everything else stays the
 * proxy's; a text with anything but the cluster group, a syntax error, a
 * definition without this proxy, or one that would move it to another
 * address are refused with "published:LINE: KEY: ...". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"

static struct config base, out;
static char err[1024];

static const char base_text[] =
    "proxy = { name = \"p1\"; };\n"
    "sip = { t1 = 250; };\n"
    "cluster = {\n"
    "  proxies = ( { name = \"p1\"; sip-address = \"127.0.0.1\"; sip-port = 5070; },\n"
    "              { name = \"p2\"; sip-address = \"127.0.0.11\"; sip-port = 5070; } );\n"
    "  sip-servers = ( { name = \"n1\"; sip-address = \"127.0.0.21\"; sip-port = 5090; } );\n"
    "  balance = \"round-robin\";\n"
    "};\n";

static int setup(void **state)
{
	(void)state;
	assert_int_equal(config_load_string(base_text, "base.conf", &base, err, sizeof(err)), 0);
	return 0;
}

static int load(const char *text)
{
	memset(&out, 0, sizeof(out));
	err[0] = '\0';
	return config_load_cluster(text, "published", &base, &out, err, sizeof(err));
}

static void test_applies_cluster_only(void **state)
{
	(void)state;
	assert_int_equal(
	    load("cluster = {\n"
		 "  proxies = ( { name = \"p1\"; sip-address = \"127.0.0.1\"; sip-port = 5070; "
		 "geo-location = \"dc1\"; },\n"
		 "              { name = \"p2\"; sip-address = \"127.0.0.11\"; sip-port = 5070; } "
		 ");\n"
		 "  sip-servers = ( { name = \"n1\"; sip-address = \"127.0.0.21\"; sip-port = "
		 "5090; },\n"
		 "                  { name = \"n2\"; sip-address = \"127.0.0.22\"; sip-port = "
		 "5090; } );\n"
		 "  balance = \"least-calls\"; secret = \"a-secret-of-16-chars\";\n"
		 "};\n"),
	    0);
	assert_int_equal(out.n_nodes, 2);
	assert_string_equal(out.nodes[1].name, "n2");
	assert_int_equal(out.balance, CFG_BALANCE_LEAST_CALLS);
	assert_string_equal(out.cluster_secret, "a-secret-of-16-chars");
	assert_string_equal(out.geo_location, "dc1");
	/* the proxy's own settings stay */
	assert_int_equal(out.t1_ms, 250);
	assert_int_equal(out.sip_port, 5070);
	assert_string_equal(out.name, "p1");
	assert_string_equal(out.path, base.path);
}

static void test_refusals(void **state)
{
	(void)state;
	assert_int_equal(load("sip = { t1 = 100; };\ncluster = { proxies = ( { name = \"p1\"; "
			      "sip-address = \"127.0.0.1\"; sip-port = 5070; } ); };\n"),
			 -1);
	assert_non_null(strstr(err, "published:1: sip: a published definition holds the cluster "
				    "group only"));
	assert_int_equal(load("cluster = {\n  proxies = ( oops );\n};\n"), -1);
	assert_non_null(strstr(err, "published:2: syntax"));
	assert_int_equal(load(""), -1);
	assert_non_null(strstr(err, "no cluster group"));
	assert_int_equal(load("cluster = { proxies = ( { name = \"p9\"; sip-address = "
			      "\"127.0.0.9\"; sip-port = 5070; } ); };\n"),
			 -1);
	assert_non_null(strstr(err, "this proxy \"p1\" is not in the cluster definition; not "
				    "applied"));
	assert_int_equal(load("cluster = { proxies = ( { name = \"p1\"; sip-address = "
			      "\"127.0.0.5\"; sip-port = 5070; } ); };\n"),
			 -1);
	assert_non_null(strstr(err, "\"p1\" would move to 127.0.0.5:5070"));
	assert_int_equal(load("cluster = { proxies = ( { name = \"p1\"; sip-address = "
			      "\"127.0.0.1\"; sip-port = 5080; } ); };\n"),
			 -1);
	assert_non_null(strstr(err, "would move"));
	assert_int_equal(load("cluster = { secret = \"short\"; proxies = ( { name = \"p1\"; "
			      "sip-address = \"127.0.0.1\"; sip-port = 5070; } ); };\n"),
			 -1);
	assert_non_null(strstr(err, "cluster.secret"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_applies_cluster_only),
	    cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
