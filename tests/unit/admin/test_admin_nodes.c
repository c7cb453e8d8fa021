/* test_admin_nodes.c — the cluster's admin surface (admin/nodes.c) over a
 * real cluster (cluster_new from a definition, no proxy): GET /nodes as a
 * text table and as JSON (?format=json, RFC 8259 strings escaped), each
 * node's state, data center, weight and members' roles; POST
 * /nodes/NAME/out and /nodes/NAME/in (404 for an unknown node, 400 for
 * anything else); the cluster's families in /metrics, per node
 * sipproxy_node_in_service and sipproxy_node_primary. */
#include "admin_test.h"

#include "admin/nodes.h"
#include "cluster/cluster.h"
#include "config/config.h"
#include "util/log.h"

static const char *definition =
    "proxy = { geo-location = \"dc1\"; };\n"
    "cluster = { sip-servers = (\n"
    "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
    "    backup-sip-address = \"127.0.0.21\"; geo-location = \"dc1\"; weight = 2; },\n"
    "  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5091; geo-location = \"dc2\"; },\n"
    "  { name = \"c\"; sip-address = \"127.0.0.13\"; geo-location = \"dc\\\"9\"; } ); };\n";

struct nodes_fixture {
	struct fixture *f;
	struct cluster *c;
};

static int setup(void **state)
{
	static struct config cfg;
	static struct nodes_fixture nf;
	log_set_level(LOG_LEVEL_ERROR);
	char err[256];
	if (config_load_string(definition, "nodes.conf", &cfg, err, sizeof(err)) != 0) {
		print_error("%s\n", err);
		return -1;
	}
	nf.c = cluster_new(&cfg, err, sizeof(err));
	assert_non_null(nf.c);
	struct admin_sources src = {
	    .extra_metrics = admin_nodes_metrics,
	    .extra_arg = nf.c,
	    .name = "p1",
	};
	nf.f = admin_test_open(&src);
	assert_int_equal(admin_route_add(nf.f->admin, "/nodes", admin_nodes_page, nf.c), 0);
	assert_int_equal(admin_action_add(nf.f->admin, "/nodes/", admin_node_action, nf.c), 0);
	*state = &nf;
	return 0;
}

static int teardown(void **state)
{
	struct nodes_fixture *nf = *state;
	admin_test_close(nf->f);
	cluster_free(nf->c);
	return 0;
}

/* A request from addr:port reached the proxy (the cluster's server_request
 * hook: a backup's request means it took over). */
static void request_from(struct cluster *c, const char *ip, uint16_t port)
{
	struct proxy_routing r;
	cluster_routing(c, &r);
	struct tp_packet pkt;
	memset(&pkt, 0, sizeof(pkt));
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), port, &pkt.src), 0);
	const char *text = "OPTIONS sip:p1@127.0.0.1 SIP/2.0\r\n"
			   "Via: SIP/2.0/UDP 127.0.0.21:5090;branch=z9hG4bKn1\r\n"
			   "From: <sip:s@127.0.0.21>;tag=1\r\nTo: <sip:p1@127.0.0.1>\r\n"
			   "Call-ID: n1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg *m = sip_msg_new(text, strlen(text));
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	struct proxy_node_ref out;
	assert_true(r.server_request(r.arg, &pkt, m, &out));
	sip_msg_free(m);
}

static void test_nodes_json(void **state)
{
	struct nodes_fixture *nf = *state;
	struct fixture *f = nf->f;
	http_get(f, "/nodes?format=json");
	assert_int_equal(f->status, 200);
	assert_true(http_has_header(f, "Content-Type: application/json"));
	const char *b = f->body;
	const char *start = "{\"nodes\":[{\"name\":\"a\",\"geo_location\":\"dc1\",\"local\":true,"
			    "\"weight\":2,\"state\":\"active\",\"in_service\":true,\"since\":";
	assert_true(strncmp(b, start, strlen(start)) == 0);
	assert_non_null(strstr(b, ",\"reason\":\"configured primary\",\"changes\":0,"
				  "\"active_calls\":0,\"requests\":0,\"failures\":0,\"members\":["
				  "{\"address\":\"UDP:127.0.0.11:5090\",\"configured\":\"primary\","
				  "\"role\":\"primary\",\"last_status\":0,\"last_probe_ms_ago\":-1,"
				  "\"rtt_ms\":0},"
				  "{\"address\":\"UDP:127.0.0.21:5090\",\"configured\":\"backup\","
				  "\"role\":\"backup\",\"last_status\":0,\"last_probe_ms_ago\":-1,"
				  "\"rtt_ms\":0}]}"));
	assert_non_null(strstr(b, "{\"name\":\"b\",\"geo_location\":\"dc2\",\"local\":false,"
				  "\"weight\":1,\"state\":\"active\""));
	assert_non_null(strstr(b, "\"members\":[{\"address\":\"UDP:127.0.0.12:5091\""));
	/* RFC 8259 §7: the quote in a string is escaped. */
	assert_non_null(strstr(b, "{\"name\":\"c\",\"geo_location\":\"dc\\\"9\",\"local\":false,"));
	size_t len = strlen(b);
	assert_true(len > 3 && strcmp(b + len - 3, "]}\n") == 0);

	/* The backup takes over; then a passive failure puts b in doubt. */
	request_from(nf->c, "127.0.0.21", 5090);
	struct proxy_routing r;
	cluster_routing(nf->c, &r);
	struct proxy_node_ref rb = {0};
	const char *fail_text = "INVITE sip:x@example.com SIP/2.0\r\n"
				"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKn2\r\n"
				"From: <sip:x@example.com>;tag=1\r\nTo: <sip:y@example.com>\r\n"
				"Call-ID: n2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
	struct sip_msg *m = sip_msg_new(fail_text, strlen(fail_text));
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	struct proxy_pick q = {.req = m, .node = STR_LIT("b")};
	assert_int_equal(r.pick_server(r.arg, &q), 0);
	rb = q.out;
	r.server_result(r.arg, &rb, PROXY_SERVER_TRANSPORT);
	sip_msg_free(m);
	http_get(f, "/nodes?format=json");
	b = f->body;
	assert_non_null(
	    strstr(b, "\"reason\":\"request from member 2: it is active\",\"changes\":1"));
	assert_non_null(strstr(b, "\"address\":\"UDP:127.0.0.11:5090\",\"configured\":\"primary\","
				  "\"role\":\"backup\""));
	assert_non_null(strstr(b, "\"address\":\"UDP:127.0.0.21:5090\",\"configured\":\"backup\","
				  "\"role\":\"primary\""));
	assert_non_null(strstr(b, "{\"name\":\"b\",\"geo_location\":\"dc2\",\"local\":false,"
				  "\"weight\":1,\"state\":\"unknown\",\"in_service\":true,"));
	assert_non_null(strstr(b, "\"reason\":\"passive: transport error from member 1\""));
	assert_non_null(strstr(b, "\"failures\":1"));
	assert_non_null(strstr(b, "\"address\":\"UDP:127.0.0.12:5091\",\"configured\":\"primary\","
				  "\"role\":\"unknown\""));
}

static void test_nodes_text(void **state)
{
	struct nodes_fixture *nf = *state;
	struct fixture *f = nf->f;
	http_get(f, "/nodes");
	assert_int_equal(f->status, 200);
	assert_true(http_has_header(f, "Content-Type: text/plain; charset=utf-8"));
	const char *b = f->body;
	assert_true(strncmp(b, "NODE ", 5) == 0);
	const char *hdr_end = strchr(b, '\n');
	assert_non_null(hdr_end);
	char hdr[256];
	snprintf(hdr, sizeof(hdr), "%.*s", (int)(hdr_end - b), b);
	static const char *const cols[] = {"GEO",   "STATE", "CALLS", "MEMBER", "ROLE",
					   "PROBE", "RTT",   "SINCE", "REASON"};
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		assert_non_null(strstr(hdr, cols[i]));
	/* One line per member: a's two, then b's and c's one each. */
	int lines = 0;
	for (const char *p = b; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1 + 2 + 1 + 1);
	const char *a = strstr(b, "\na ");
	assert_non_null(a);
	assert_non_null(strstr(a, "dc1"));
	assert_non_null(strstr(a, "active"));
	assert_non_null(strstr(a, "UDP:127.0.0.11:5090"));
	assert_non_null(strstr(a, "configured primary"));
	const char *second = strchr(a + 1, '\n');
	assert_non_null(second);
	assert_non_null(strstr(second, "UDP:127.0.0.21:5090"));
	assert_non_null(strstr(second, "backup"));
	assert_non_null(strstr(b, "\nc "));
}

static void test_node_out_in(void **state)
{
	struct nodes_fixture *nf = *state;
	struct fixture *f = nf->f;
	http_post(f, "/nodes/b/out");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "node b out of service\n");
	http_get(f, "/nodes?format=json");
	assert_non_null(strstr(f->body,
			       "{\"name\":\"b\",\"geo_location\":\"dc2\",\"local\":false,"
			       "\"weight\":1,\"state\":\"taken-out\",\"in_service\":false,"));
	assert_non_null(strstr(f->body, "\"reason\":\"taken out by operator\""));
	http_get(f, "/metrics");
	assert_line(f->body, "sipproxy_node_in_service{node=\"b\",state=\"taken-out\"} 0");
	http_get(f, "/nodes");
	assert_non_null(strstr(f->body, "taken-out"));
	/* Out twice is still out. */
	http_post(f, "/nodes/b/out");
	assert_int_equal(f->status, 200);
	http_post(f, "/nodes/b/in");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "node b in service\n");
	http_get(f, "/metrics");
	assert_line(f->body, "sipproxy_node_in_service{node=\"b\",state=\"active\"} 1");
	http_get(f, "/nodes?format=json");
	assert_non_null(strstr(f->body, "\"reason\":\"put back by operator\""));
}

static void test_node_action_errors(void **state)
{
	struct nodes_fixture *nf = *state;
	struct fixture *f = nf->f;
	http_post(f, "/nodes/zz/out");
	assert_int_equal(f->status, 404);
	assert_string_equal(f->body, "no node \"zz\"\n");
	static const char *const bad[] = {"/nodes/b/sideways", "/nodes/b",	"/nodes//out",
					  "/nodes/",	       "/nodes/b/outx", "/nodes/b/in/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		http_post(f, bad[i]);
		if (f->status != 400)
			print_error("%s: %d\n", bad[i], f->status);
		assert_int_equal(f->status, 400);
		assert_string_equal(f->body, "usage: POST /nodes/NAME/out or /nodes/NAME/in\n");
	}
	/* The page is GET only, the actions POST only. */
	http_get(f, "/nodes/b/out");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: POST"));
	http_post(f, "/nodes");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: GET"));
	/* Nothing changed. */
	http_get(f, "/nodes?format=json");
	assert_null(strstr(f->body, "taken-out"));
}

/* The cluster's families follow the proxy's in /metrics, each with HELP and
 * TYPE before its samples (exposition format 0.0.4). */
static void test_nodes_metrics(void **state)
{
	struct nodes_fixture *nf = *state;
	struct fixture *f = nf->f;
	request_from(nf->c, "127.0.0.21", 5090);
	http_get(f, "/metrics");
	assert_int_equal(f->status, 200);
	char *text = strdup(f->body);
	assert_non_null(text);
	assert_line(text, "# TYPE sipproxy_node_in_service gauge");
	assert_line(text, "sipproxy_node_in_service{node=\"a\",state=\"active\"} 1");
	assert_line(text, "sipproxy_node_in_service{node=\"b\",state=\"active\"} 1");
	assert_line(text, "sipproxy_node_in_service{node=\"c\",state=\"active\"} 1");
	assert_line(text, "sipproxy_node_primary{node=\"a\"} 2");
	assert_line(text, "sipproxy_node_primary{node=\"b\"} 1");
	assert_line(text, "sipproxy_node_changes_total 1");
	assert_line(text, "sipproxy_node_takeovers_total 1");
	assert_line(text, "sipproxy_probes_total 0");
	assert_line(text, "sipproxy_reloads_total{result=\"applied\"} 0");
	assert_line(text, "sipproxy_node_active_calls{node=\"a\"} 0");
	assert_line(text, "sipproxy_node_requests_total{node=\"b\"} 0");
	assert_line(text, "sipproxy_sip_requests_in_total{method=\"INVITE\"} 0");
	const char *seen_type = NULL;
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (strncmp(p, "# TYPE ", 7) == 0) {
			seen_type = p + 7;
		} else if (p[0] != '#') {
			size_t n = strcspn(p, "{ ");
			if (!seen_type || strncmp(seen_type, p, n) != 0 || seen_type[n] != ' ')
				print_error("sample without its TYPE: %s\n", p);
			assert_non_null(seen_type);
			assert_true(strncmp(seen_type, p, n) == 0 && seen_type[n] == ' ');
		}
		p = nl + 1;
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_nodes_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nodes_text, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_out_in, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_node_action_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nodes_metrics, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
