/* test_config.c — the configuration loader: etc/sipproxy.conf loads with the
 * expected values, the embedded defaults, every class of error names the right
 * FILE:LINE: KEY, the cluster issue's options (balance, active-codes with its
 * 503 rule, timeouts, data centers, per-node weight/oos-check/oos-force) with
 * their ranges and defaults, and docs/config.md matches what the tables
 * generate. This proxy's identity and @include: test_config_identity.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "util/log.h"

static struct config cfg_buf; /* big; keep it off the test stack */
static char err[512];

static int load(const char *text)
{
	err[0] = '\0';
	return config_load_string(text, "t.conf", &cfg_buf, err, sizeof(err));
}

/* Loads text, expects failure and exactly the message want. */
static void expect_error(const char *text, const char *want)
{
	int rc = load(text);
	if (rc == 0 || strcmp(err, want) != 0)
		print_error("rc=%d\n got: %s\nwant: %s\n", rc, err, want);
	assert_int_equal(rc, -1);
	assert_string_equal(err, want);
}

/* Seed quick start: etc/sipproxy.conf is the demo configuration. */
static void test_etc_conf_loads(void **state)
{
	(void)state;
	const char *path = SIPPROXY_SOURCE_DIR "/etc/sipproxy.conf";
	int rc = config_load(path, &cfg_buf, err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	struct config *c = &cfg_buf;
	assert_string_equal(c->path, path);
	assert_string_equal(c->name, "sipproxy-1");
	assert_string_equal(c->sip_address, "127.0.0.1");
	assert_int_equal(c->sip_port, 5060);
	assert_true(c->udp && c->tcp);
	assert_string_equal(c->geo_location, "dc1");
	assert_int_equal(c->n_listen, 2);
	assert_int_equal(c->listen[0].proto, TP_UDP);
	assert_int_equal(c->listen[1].proto, TP_TCP);
	assert_string_equal(c->listen[1].address, "127.0.0.1");
	assert_int_equal(c->listen[1].port, 5060);
	assert_int_equal(c->n_proxies, 1);
	assert_string_equal(c->proxies[0].name, "sipproxy-1");
	assert_string_equal(c->proxies[0].geo_location, "dc1");
	assert_int_equal(c->n_nodes, 1);
	assert_string_equal(c->nodes[0].name, "sipserver-1");
	assert_string_equal(c->nodes[0].sip_address, "127.0.0.1");
	assert_int_equal(c->nodes[0].sip_port, 5090);
	assert_string_equal(c->nodes[0].backup_sip_address, "127.0.0.1");
	assert_int_equal(c->nodes[0].backup_sip_port, 5092);
	assert_int_equal(c->nodes[0].transport, TP_UDP);
	assert_int_equal(c->nodes[0].oos_check, 5);
	assert_int_equal(c->nodes[0].oos_force, 5);
	assert_int_equal(c->balance, CFG_BALANCE_ROUND_ROBIN);
	assert_int_equal(c->no_response_timeout_ms, 2000);
	/* RFC 3261 §17.1.1.1 T1/T2/T4 and §16.6 step 11 Timer C as in the file. */
	assert_int_equal(c->t1_ms, 500);
	assert_int_equal(c->t2_ms, 4000);
	assert_int_equal(c->t4_ms, 5000);
	assert_int_equal(c->timer_c_ms, 180000);
	assert_int_equal(c->max_message_size, 65536);
	assert_int_equal(c->max_headers, 128);
	assert_int_equal(c->max_line_length, 8192);
	assert_int_equal(c->tcp_max_connections, 4096);
	assert_int_equal(c->tcp_idle_timeout, 120);
	assert_true(c->record_route);
	assert_int_equal(c->dns_cache_size, 10000);
	assert_string_equal(c->dns_servers, "");
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_false(c->log_syslog);
	assert_false(c->sip_trace);
	assert_string_equal(c->admin_address, "127.0.0.1");
	assert_int_equal(c->admin_port, 8060);
	assert_int_equal(c->shutdown_timeout, 10);
}

/* Embedded default: proxy sipproxy-1 on 127.0.0.1:5060 udp+tcp, sipserver-1 an
 * HA pair at :5090 (primary) and :5092 (backup), as scripts/demo.sh runs it. */
static void test_defaults(void **state)
{
	(void)state;
	struct config *c = &cfg_buf;
	memset(c, 0x5a, sizeof(*c));
	config_defaults(c);
	assert_string_equal(c->name, "sipproxy-1");
	assert_string_equal(c->sip_address, "127.0.0.1");
	assert_int_equal(c->sip_port, 5060);
	assert_int_equal(c->n_listen, 2);
	assert_int_equal(c->listen[0].proto, TP_UDP);
	assert_int_equal(c->listen[1].proto, TP_TCP);
	assert_string_equal(c->listen[0].advertise, "");
	assert_int_equal(c->n_proxies, 1);
	assert_string_equal(c->proxies[0].name, "sipproxy-1");
	assert_int_equal(c->n_nodes, 1);
	assert_string_equal(c->nodes[0].name, "sipserver-1");
	assert_int_equal(c->nodes[0].sip_port, 5090);
	assert_string_equal(c->nodes[0].backup_sip_address, "127.0.0.1");
	assert_int_equal(c->nodes[0].backup_sip_port, 5092);
	assert_int_equal(c->nodes[0].transport, TP_UDP);
	assert_int_equal(c->t1_ms, 500);
	assert_int_equal(c->timer_c_ms, 180000);
	assert_int_equal(c->tcp_connect_timeout, 5000);
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_false(c->log_syslog);
	assert_string_equal(c->admin_address, "127.0.0.1");
	assert_int_equal(c->admin_port, 8060);
}

/* An empty file is the defaults (a list absent from the file keeps its default). */
static void test_empty_file_is_defaults(void **state)
{
	(void)state;
	assert_int_equal(load(""), 0);
	assert_int_equal(cfg_buf.n_nodes, 1);
	assert_int_equal(cfg_buf.n_listen, 2);
	assert_int_equal(cfg_buf.sip_port, 5060);
}

static void test_syntax_error(void **state)
{
	(void)state;
	assert_int_equal(load("proxy = {\n  name = \"x\";\n  sip-port = ;\n};\n"), -1);
	assert_true(strncmp(err, "t.conf:3: syntax: ", 18) == 0);
}

static void test_unknown_key_did_you_mean(void **state)
{
	(void)state;
	expect_error("sip = {\n  t1 = 500;\n  t11 = 600;\n};\n",
		     "t.conf:3: sip.t11: unknown option (did you mean \"sip.t1\"?)");
	expect_error("proxy = {\n  sip-adress = \"127.0.0.1\";\n};\n",
		     "t.conf:2: proxy.sip-adress: unknown option (did you mean "
		     "\"proxy.sip-address\"?)");
	expect_error("sipp = { t1 = 500; };\n",
		     "t.conf:1: sipp: unknown option (did you mean \"sip\"?)");
	expect_error("\n\nfrobnicate = 1;\n", "t.conf:3: frobnicate: unknown option");
	/* Typos inside list items too. */
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.2.3.4\";\n"
		     "   oos-chek = 3; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].oos-chek: unknown option (did you mean "
		     "\"oos-check\"?)");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("sip = {\n  t1 = \"500\";\n};\n", "t.conf:2: sip.t1: must be an integer");
	expect_error("sip = { record-route = 1; };\n",
		     "t.conf:1: sip.record-route: must be true or false");
	expect_error("proxy = { name = 7; };\n", "t.conf:1: proxy.name: must be a string");
	expect_error("sip = 5;\n", "t.conf:1: sip: must be a group { ... }");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("admin = {\n  port = 70000;\n};\n",
		     "t.conf:2: admin.port: 70000 is out of range (0..65535)");
	expect_error("sip = { t1 = -1; };\n", "t.conf:1: sip.t1: -1 is out of range (50..60000)");
	expect_error("log = {\n level = \"verbose\";\n};\n",
		     "t.conf:2: log.level: unknown value \"verbose\" (expected one of: error, "
		     "warn, info, debug)");
	/* RFC 3261 §17.1.2.2: retransmit intervals grow from T1 to T2. */
	expect_error("sip = {\n t1 = 2000;\n t2 = 1000;\n};\n",
		     "t.conf:3: sip.t2: 1000 is less than sip.t1 (2000)");
}

/* libconfig 1.5 truncates big integer literals to 32 bits; they must be refused,
 * not turned into a valid-looking value (4294967796 would become 500). */
static void test_big_integer_refused(void **state)
{
	(void)state;
	expect_error("# 123456789012 in a comment is fine\nsip = {\n  t1 = 4294967796;\n};\n",
		     "t.conf:3: t1: 4294967796 does not fit in 32 bits (add an L suffix for a "
		     "64-bit value)");
	expect_error("sip = { t1 = -4294967296; };\n",
		     "t.conf:1: t1: -4294967296 does not fit in 32 bits (add an L suffix for a "
		     "64-bit value)");
	/* With the L suffix the value survives, and the range check catches it. */
	expect_error("sip = { t1 = 4294967796L; };\n",
		     "t.conf:1: sip.t1: 4294967796 is out of range (50..60000)");
	assert_int_equal(load("proxy = { name = \"p-99999999999\"; };\n"
			      "sip = { t1 = 0x1F4; t2 = 2147483647; };\n"),
			 -1); /* t2 = INT32_MAX passes the scan, then fails its range */
	assert_string_equal(err, "t.conf:2: sip.t2: 2147483647 is out of range (100..600000)");
	assert_int_equal(load("/* 99999999999\n */ sip = { t1 = 0x1F4; };\n"), 0);
	assert_int_equal(cfg_buf.t1_ms, 500);
}

static void test_bad_ip(void **state)
{
	(void)state;
	expect_error("proxy = {\n  sip-address = \"localhost\";\n};\n",
		     "t.conf:2: proxy.sip-address: \"localhost\" is not a numeric IPv4 or IPv6 "
		     "address");
	expect_error("admin = { address = \"1.2.3\"; };\n",
		     "t.conf:1: admin.address: \"1.2.3\" is not a numeric IPv4 or IPv6 address");
	expect_error("proxy = { listen = (\n { transport = \"udp\"; address = \"::1x\"; }\n); };\n",
		     "t.conf:2: proxy.listen[0].address: \"::1x\" is not a numeric IPv4 or IPv6 "
		     "address");
	expect_error("cluster = { sip-servers = (\n { name = \"a\";\n sip-address = \"bad host\"; }"
		     "\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].sip-address: \"bad host\" is not an IP "
		     "address or host name");
	/* Node addresses may be host names (resolved later). */
	assert_int_equal(load("cluster = { sip-servers = ( { name = \"a\";"
			      " sip-address = \"sip1.example.com\"; } ); };\n"),
			 0);
	assert_string_equal(cfg_buf.nodes[0].sip_address, "sip1.example.com");
	assert_int_equal(cfg_buf.nodes[0].sip_port, 5060);
}

static void test_duplicate_names(void **state)
{
	(void)state;
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\"; },\n"
		     " { name = \"a\"; sip-address = \"1.1.1.2\"; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[1]: duplicate sip-server name \"a\"");
	expect_error("cluster = { proxies = (\n { name = \"p\"; sip-address = \"1.1.1.1\"; },\n"
		     " { name = \"p\"; sip-address = \"1.1.1.2\"; }\n); };\n",
		     "t.conf:3: cluster.proxies[1]: duplicate proxy name \"p\"");
	/* RFC 3327 trust list: SBCs by name and address */
	expect_error("cluster = { sbcs = (\n { name = \"e\"; sip-address = \"1.1.1.1\"; },\n"
		     " { name = \"e\"; sip-address = \"1.1.1.2\"; }\n); };\n",
		     "t.conf:3: cluster.sbcs[1]: duplicate sbc name \"e\"");
	expect_error("cluster = { sbcs = (\n { name = \"e\"; }\n); };\n",
		     "t.conf:2: cluster.sbcs[0].sip-address: missing (required)");
	expect_error("proxy = { listen = (\n { transport = \"udp\"; address = \"127.0.0.1\"; }\n"
		     "); };\n",
		     "t.conf:2: proxy.listen[0]: duplicate listener udp 127.0.0.1 port 5060");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-port = 5090; }\n); };\n",
		     "t.conf:2: cluster.sip-servers[0].sip-address: missing (required)");
	expect_error("cluster = { sip-servers = (\n { sip-address = \"1.1.1.1\"; }\n); };\n",
		     "t.conf:2: cluster.sip-servers[0].name: missing (required)");
	expect_error("cluster = { sip-servers = (\n { name = \"\"; sip-address = \"1.1.1.1\"; }\n"
		     "); };\n",
		     "t.conf:2: cluster.sip-servers[0].name: must not be empty");
}

static void test_backup_port_needs_address(void **state)
{
	(void)state;
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   backup-sip-port = 5091; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].backup-sip-port: set without "
		     "backup-sip-address");
	/* A backup address alone uses the primary's port. */
	assert_int_equal(
	    load("cluster = { sip-servers = ( { name = \"a\"; sip-address = \"1.1.1.1\";"
		 " sip-port = 5070; backup-sip-address = \"1.1.1.2\"; } ); };\n"),
	    0);
	assert_string_equal(cfg_buf.nodes[0].backup_sip_address, "1.1.1.2");
	assert_int_equal(cfg_buf.nodes[0].backup_sip_port, 5070);
}

static void test_unknown_transport(void **state)
{
	(void)state;
	expect_error("proxy = {\n transports = [ \"udp\", \"sctp\" ];\n};\n",
		     "t.conf:2: proxy.transports: unknown value \"sctp\" (expected one of: udp, "
		     "tcp)");
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   transport = \"tls\"; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].transport: unknown value \"tls\" (expected "
		     "one of: udp, tcp)");
	expect_error("proxy = { transports = [ ]; };\n",
		     "t.conf:1: proxy.transports: at least one transport is needed");
}

/* The cluster issue's options, as the table defaults them. */
static void test_cluster_option_defaults(void **state)
{
	(void)state;
	struct config *c = &cfg_buf;
	config_defaults(c);
	assert_int_equal(c->balance, CFG_BALANCE_ROUND_ROBIN);
	assert_string_equal(c->active_codes_text, "200-299");
	assert_int_equal(c->active_codes.n, 1);
	assert_int_equal(c->active_codes.lo[0], 200);
	assert_int_equal(c->active_codes.hi[0], 299);
	assert_int_equal(c->no_response_timeout_ms, 2000);
	assert_int_equal(c->remote_dcs.n, 0);
	assert_true(c->forward_remote);
	assert_int_equal(c->retry_after, 5);
	assert_int_equal(c->overload_dialog_rate, 0);
	assert_int_equal(c->sip_ip_tos, 0);
	assert_false(c->resolve_host);
	/* Per node: weight 1, oos-check 5 s, oos-force 5 s. */
	assert_int_equal(load("cluster = { sip-servers = ( { name = \"a\";"
			      " sip-address = \"1.1.1.1\"; } ); };\n"),
			 0);
	assert_int_equal(cfg_buf.nodes[0].weight, 1);
	assert_int_equal(cfg_buf.nodes[0].oos_check, 5);
	assert_int_equal(cfg_buf.nodes[0].oos_force, 5);
	assert_int_equal(cfg_buf.nodes[0].backup_sip_port, 0);
}

static void test_cluster_option_values(void **state)
{
	(void)state;
	assert_int_equal(load("proxy = { overload-ctrl-dialog-rate = 250; sip-ip-tos = 184;"
			      " resolve-host = true; };\n"
			      "cluster = { balance = \"weighted\"; no-response-timeout = 0;\n"
			      "  remote-dcs = [ \"DC3\", \"dc2\" ]; forward-remote = false;"
			      " retry-after = 0;\n"
			      "  sip-servers = ( { name = \"a\"; sip-address = \"1.1.1.1\";"
			      " weight = 1000; oos-check = 0; oos-force = 32; },\n"
			      "  { name = \"b\"; sip-address = \"1.1.1.2\"; oos-check = 300;"
			      " oos-force = 1; } ); };\n"),
			 0);
	struct config *c = &cfg_buf;
	assert_int_equal(c->overload_dialog_rate, 250);
	assert_int_equal(c->sip_ip_tos, 184);
	assert_true(c->resolve_host);
	assert_int_equal(c->balance, CFG_BALANCE_WEIGHTED);
	assert_int_equal(c->no_response_timeout_ms, 0);
	assert_int_equal(c->remote_dcs.n, 2);
	assert_string_equal(c->remote_dcs.v[0], "dc3"); /* lower-cased */
	assert_string_equal(c->remote_dcs.v[1], "dc2");
	assert_false(c->forward_remote);
	assert_int_equal(c->retry_after, 0);
	assert_int_equal(c->nodes[0].weight, 1000);
	assert_int_equal(c->nodes[0].oos_check, 0); /* probing off */
	assert_int_equal(c->nodes[0].oos_force, 32);
	assert_int_equal(c->nodes[1].oos_check, 300);
	assert_int_equal(c->nodes[1].oos_force, 1);
	/* Every balance name. */
	static const struct {
		const char *name;
		enum cfg_balance v;
	} names[] = {
	    {"round-robin", CFG_BALANCE_ROUND_ROBIN},
	    {"weighted", CFG_BALANCE_WEIGHTED},
	    {"least-calls", CFG_BALANCE_LEAST_CALLS},
	    {"hash-call-id", CFG_BALANCE_HASH_CALL_ID},
	    {"hash-from-user", CFG_BALANCE_HASH_FROM_USER},
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char text[128];
		snprintf(text, sizeof(text), "cluster = { balance = \"%s\"; };\n", names[i].name);
		assert_int_equal(load(text), 0);
		assert_int_equal(cfg_buf.balance, names[i].v);
	}
}

static void test_cluster_option_ranges(void **state)
{
	(void)state;
	expect_error("cluster = {\n balance = \"random\";\n};\n",
		     "t.conf:2: cluster.balance: unknown value \"random\" (expected one of: "
		     "round-robin, weighted, least-calls, hash-call-id, hash-from-user)");
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   oos-check = 301; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].oos-check: 301 is out of range (0..300)");
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   oos-force = 0; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].oos-force: 0 is out of range (1..32)");
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   oos-force = 33; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].oos-force: 33 is out of range (1..32)");
	expect_error("cluster = { sip-servers = (\n { name = \"a\"; sip-address = \"1.1.1.1\";\n"
		     "   weight = 0; }\n); };\n",
		     "t.conf:3: cluster.sip-servers[0].weight: 0 is out of range (1..1000)");
	expect_error("cluster = { no-response-timeout = 32001; };\n",
		     "t.conf:1: cluster.no-response-timeout: 32001 is out of range (0..32000)");
	expect_error("cluster = { retry-after = 3601; };\n",
		     "t.conf:1: cluster.retry-after: 3601 is out of range (0..3600)");
	expect_error("cluster = { forward-remote = 0; };\n",
		     "t.conf:1: cluster.forward-remote: must be true or false");
	expect_error("cluster = {\n remote-dcs = [ \"dc 1\" ];\n};\n",
		     "t.conf:2: cluster.remote-dcs: \"dc 1\" is not a domain name");
	expect_error("cluster = { remote-dcs = \"dc1\"; };\n",
		     "t.conf:1: cluster.remote-dcs: must be an array of strings [ \"a\", \"b\" ]");
	expect_error("proxy = { sip-ip-tos = 256; };\n",
		     "t.conf:1: proxy.sip-ip-tos: 256 is out of range (0..255)");
	expect_error("proxy = { overload-ctrl-dialog-rate = -1; };\n",
		     "t.conf:1: proxy.overload-ctrl-dialog-rate: -1 is out of range (0..1000000)");
	expect_error("proxy = { resolve-host = \"yes\"; };\n",
		     "t.conf:1: proxy.resolve-host: must be true or false");
}

/* store.redis-sentinels: "host:port" entries (an IPv4 address, a host name,
 * a bracketed IPv6 address), at most 8; a domain name alone, a missing or
 * bad port, an IPv6 address without brackets are refused. */
static void test_redis_sentinels(void **state)
{
	(void)state;
	assert_int_equal(load("store = { redis-sentinels = [ \"127.0.0.1:26379\", "
			      "\"[::1]:26380\", \"Sentinel-2.example.net:1\" ]; };\n"),
			 0);
	assert_int_equal((int)cfg_buf.store_redis_sentinels.n, 3);
	assert_string_equal(cfg_buf.store_redis_sentinels.v[0], "127.0.0.1:26379");
	assert_string_equal(cfg_buf.store_redis_sentinels.v[1], "[::1]:26380");
	assert_string_equal(cfg_buf.store_redis_sentinels.v[2], "sentinel-2.example.net:1");
	static const char *const bad[] = {"sentinel.example.net", "127.0.0.1:", "127.0.0.1:0",
					  "127.0.0.1:65536",	  "::1:26379",	"[::1]",
					  "[1.2.3.4]:1",	  ":26379",	"a b:1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[160], want[200];
		snprintf(text, sizeof(text), "store = {\n redis-sentinels = [ \"%s\" ];\n};\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 "t.conf:2: store.redis-sentinels: \"%s\" is not \"host:port\"", bad[i]);
		expect_error(text, want);
	}
	expect_error("store = { redis-sentinels = [ \"a:1\", \"a:2\", \"a:3\", \"a:4\", \"a:5\", "
		     "\"a:6\", \"a:7\", \"a:8\", \"a:9\" ]; };\n",
		     "t.conf:1: store.redis-sentinels: at most 8 entries");
}

/* cluster.active-codes: the OPTIONS answers that mean "active", as codes
 * and ranges; a 503 (a backup's answer) can never be one of them. */
static void test_active_codes(void **state)
{
	(void)state;
	assert_int_equal(load("cluster = { active-codes = \"200-299, 405,488-489\"; };\n"), 0);
	const struct cfg_codes *k = &cfg_buf.active_codes;
	assert_int_equal(k->n, 3);
	assert_int_equal(k->lo[1], 405);
	assert_int_equal(k->hi[1], 405);
	assert_int_equal(k->lo[2], 488);
	assert_int_equal(k->hi[2], 489);
	assert_true(cfg_codes_match(k, 200));
	assert_true(cfg_codes_match(k, 299));
	assert_true(cfg_codes_match(k, 405));
	assert_true(cfg_codes_match(k, 489));
	assert_false(cfg_codes_match(k, 300));
	assert_false(cfg_codes_match(k, 404));
	assert_false(cfg_codes_match(k, 503));
	assert_false(cfg_codes_match(k, 0));
	assert_int_equal(load("cluster = { active-codes = \"200\"; };\n"), 0);
	assert_true(cfg_codes_match(&cfg_buf.active_codes, 200));
	assert_false(cfg_codes_match(&cfg_buf.active_codes, 202));

	expect_error("cluster = {\n active-codes = \"503\";\n};\n",
		     "t.conf:2: cluster.active-codes: 503 cannot mean active (a backup answers "
		     "503)");
	expect_error("cluster = { active-codes = \"200-299,500-599\"; };\n",
		     "t.conf:1: cluster.active-codes: 503 cannot mean active (a backup answers "
		     "503)");
	expect_error("cluster = { active-codes = \"ok\"; };\n",
		     "t.conf:1: cluster.active-codes: \"ok\": expected codes like 200-299,405");
	expect_error("cluster = { active-codes = \"200;405\"; };\n",
		     "t.conf:1: cluster.active-codes: \"200;405\": expected codes like "
		     "200-299,405");
	expect_error("cluster = { active-codes = \"200-\"; };\n",
		     "t.conf:1: cluster.active-codes: \"200-\": range without an end");
	expect_error("cluster = { active-codes = \"99\"; };\n",
		     "t.conf:1: cluster.active-codes: 99-99 is not a range of status codes");
	expect_error("cluster = { active-codes = \"300-200\"; };\n",
		     "t.conf:1: cluster.active-codes: 300-200 is not a range of status codes");
	expect_error("cluster = { active-codes = \"200-700\"; };\n",
		     "t.conf:1: cluster.active-codes: 200-700 is not a range of status codes");
	expect_error("cluster = { active-codes = \"\"; };\n",
		     "t.conf:1: cluster.active-codes: empty: no answer would mean active");
	expect_error("cluster = { active-codes = \"200,201,202,203,204,205,206,207,208\"; };\n",
		     "t.conf:1: cluster.active-codes: more than 8 ranges");
}

/* Listeners: sip-address:sip-port per transport, then proxy.listen entries. */
static void test_listeners_derived(void **state)
{
	(void)state;
	assert_int_equal(load("proxy = { sip-address = \"127.0.0.2\"; sip-port = 5062;"
			      " transports = [ \"tcp\" ];\n listen = (\n"
			      "  { transport = \"udp\"; address = \"::1\"; },\n"
			      "  { transport = \"tcp\"; address = \"127.0.0.2\"; port = 5063;"
			      " advertise = \"proxy.example.com\"; } ); };\n"),
			 0);
	assert_false(cfg_buf.udp);
	assert_true(cfg_buf.tcp);
	assert_int_equal(cfg_buf.n_listen, 3);
	assert_int_equal(cfg_buf.listen[0].proto, TP_TCP);
	assert_string_equal(cfg_buf.listen[0].address, "127.0.0.2");
	assert_int_equal(cfg_buf.listen[0].port, 5062);
	assert_int_equal(cfg_buf.listen[1].proto, TP_UDP);
	assert_string_equal(cfg_buf.listen[1].address, "::1");
	assert_int_equal(cfg_buf.listen[1].port, 5062);
	assert_int_equal(cfg_buf.listen[2].port, 5063);
	assert_string_equal(cfg_buf.listen[2].advertise, "proxy.example.com");
}

/* Errors in a real file name that file. */
static void test_file_errors(void **state)
{
	(void)state;
	char path[] = "/tmp/sipproxy-cfgtest-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *text = "# comment\nlog = {\n  levle = \"info\";\n};\n";
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	char want[256];
	snprintf(want, sizeof(want),
		 "%s:3: log.levle: unknown option (did you mean \"log.level\"?)", path);
	assert_int_equal(config_load(path, &cfg_buf, err, sizeof(err)), -1);
	assert_string_equal(err, want);
	unlink(path);

	assert_int_equal(config_load("/nonexistent/sipproxy.conf", &cfg_buf, err, sizeof(err)), -1);
	assert_true(strncmp(err, "/nonexistent/sipproxy.conf:0: file: cannot read", 47) == 0);
}

/* A failed load leaves the caller's config untouched. */
static void test_failed_load_keeps_config(void **state)
{
	(void)state;
	config_defaults(&cfg_buf);
	assert_int_equal(load("proxy = { sip-port = 5999; };\nsip = { t1 = 0; };\n"), -1);
	assert_int_equal(cfg_buf.sip_port, 5060);
}

/* docs/config.md is generated from the tables and must not drift from them. */
static void test_docs_up_to_date(void **state)
{
	(void)state;
	char *gen = NULL;
	size_t gen_len = 0;
	FILE *m = open_memstream(&gen, &gen_len);
	assert_non_null(m);
	config_write_docs(m);
	fclose(m);
	const char *path = SIPPROXY_SOURCE_DIR "/docs/config.md";
	if (getenv("SIPPROXY_UPDATE_DOCS")) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fwrite(gen, 1, gen_len, f);
		fclose(f);
	}
	FILE *f = fopen(path, "r");
	if (!f)
		print_error("%s missing; run with SIPPROXY_UPDATE_DOCS=1\n", path);
	assert_non_null(f);
	char *have = calloc(1, gen_len + 2);
	assert_non_null(have);
	size_t n = fread(have, 1, gen_len + 1, f);
	fclose(f);
	bool same = n == gen_len && memcmp(have, gen, gen_len) == 0;
	bool has_t1 = strstr(gen, "| `sip.t1` | integer | `500` | 50–60000 |") != NULL;
	free(have);
	free(gen);
	if (!same)
		print_error("%s differs from config_write_docs(); regenerate with "
			    "SIPPROXY_UPDATE_DOCS=1 unit_config_test_config\n",
			    path);
	assert_true(same);
	assert_true(has_t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_etc_conf_loads),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_empty_file_is_defaults),
	    cmocka_unit_test(test_syntax_error),
	    cmocka_unit_test(test_unknown_key_did_you_mean),
	    cmocka_unit_test(test_wrong_type),
	    cmocka_unit_test(test_out_of_range),
	    cmocka_unit_test(test_big_integer_refused),
	    cmocka_unit_test(test_bad_ip),
	    cmocka_unit_test(test_duplicate_names),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_backup_port_needs_address),
	    cmocka_unit_test(test_unknown_transport),
	    cmocka_unit_test(test_cluster_option_defaults),
	    cmocka_unit_test(test_cluster_option_values),
	    cmocka_unit_test(test_cluster_option_ranges),
	    cmocka_unit_test(test_redis_sentinels),
	    cmocka_unit_test(test_active_codes),
	    cmocka_unit_test(test_listeners_derived),
	    cmocka_unit_test(test_file_errors),
	    cmocka_unit_test(test_failed_load_keeps_config),
	    cmocka_unit_test(test_docs_up_to_date),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
