/* test_admin.c — the admin endpoint: a real evhttp server on 127.0.0.1
 * (admin_test.h) fed by fake getters with known numbers; checks /health,
 * /metrics (Prometheus text format 0.0.4), 404, 405, draining, added pages
 * and POST actions (exact and prefix paths, 405 with Allow either way); and
 * the /registrations page over an in-memory store (each binding's owner
 * proxy and SIP Server node). The cluster's /nodes: test_admin_nodes.c. */
#include "admin_test.h"

#include "admin/registrations.h"
#include "registrar/registrar.h"
#include "store/store.h"

static void fake_proxy_stats(void *arg, struct proxy_stats *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->req_in[SIP_METHOD_INVITE] = 3;
	out->req_in[SIP_METHOD_REGISTER] = 7;
	out->req_out[SIP_METHOD_INVITE] = 2;
	out->rsp_in[200] = 2;
	out->rsp_in[486] = 1;
	out->rsp_out[100] = 3;
	out->rsp_out[200] = 2;
	out->parse_errors = 4;
	out->dropped = 5;
	out->relay_refused = 6;
	out->local_replies = 8;
	out->txn_server_active = 9;
	out->txn_client_active = 10;
	out->contexts_active = 11;
}

static void fake_tp_stats(void *arg, struct tp_stats *out)
{
	(void)arg;
	memset(out, 0, sizeof(*out));
	out->udp_rx = 12;
	out->tcp_rx = 13;
	out->udp_tx = 15;
	out->tcp_tx = 16;
	out->tcp_open = 14;
	out->tcp_accepted = 17;
	out->tcp_refused_cap = 18;
	out->stun_responses = 19;
	out->stun_dropped = 20;
}

static int setup(void **state)
{
	struct admin_sources src = {
	    .proxy_stats = fake_proxy_stats,
	    .tp_stats = fake_tp_stats,
	    .name = "sipproxy-\"t\"",
	    .start_time = time(NULL) - 42,
	};
	*state = admin_test_open(&src);
	return 0;
}

static int teardown(void **state)
{
	admin_test_close(*state);
	return 0;
}

static void test_health(void **state)
{
	struct fixture *f = *state;
	http_get(f, "/health");
	assert_int_equal(f->status, 200);
	assert_non_null(strstr(f->resp, "Content-Type: application/json"));
	/* The name is JSON-escaped (RFC 8259 §7); uptime counts from start_time. */
	int up = -1;
	assert_int_equal(sscanf(f->body,
				"{\"status\":\"ok\",\"name\":\"sipproxy-\\\"t\\\"\","
				"\"uptime_s\":%d}",
				&up),
			 1);
	assert_true(up >= 42);
}

static void test_health_draining(void **state)
{
	struct fixture *f = *state;
	admin_set_draining(f->admin, true);
	http_get(f, "/health");
	assert_int_equal(f->status, 503);
	assert_true(strncmp(f->body, "{\"status\":\"draining\",", 21) == 0);
	admin_set_draining(f->admin, false);
	http_get(f, "/health");
	assert_int_equal(f->status, 200);
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	http_get(f, "/metrics");
	assert_int_equal(f->status, 200);
	assert_non_null(strstr(f->resp, "Content-Type: text/plain; version=0.0.4"));
	const char *b = f->body;
	assert_line(b, "# HELP sipproxy_sip_requests_in_total SIP requests received, by method.");
	assert_line(b, "# TYPE sipproxy_sip_requests_in_total counter");
	assert_line(b, "sipproxy_sip_requests_in_total{method=\"INVITE\"} 3");
	assert_line(b, "sipproxy_sip_requests_in_total{method=\"REGISTER\"} 7");
	assert_line(b, "sipproxy_sip_requests_in_total{method=\"BYE\"} 0");
	assert_line(b, "sipproxy_sip_requests_out_total{method=\"INVITE\"} 2");
	assert_line(b, "sipproxy_sip_responses_in_total{code=\"200\"} 2");
	assert_line(b, "sipproxy_sip_responses_in_total{code=\"486\"} 1");
	assert_line(b, "sipproxy_sip_responses_out_total{code=\"100\"} 3");
	assert_line(b, "sipproxy_sip_responses_out_total{code=\"200\"} 2");
	/* Only non-zero code series. */
	assert_null(strstr(b, "sipproxy_sip_responses_in_total{code=\"100\"}"));
	assert_null(strstr(b, "{code=\"404\"}"));
	assert_line(b, "# TYPE sipproxy_sip_responses_out_total counter");
	assert_line(b, "sipproxy_parse_errors_total 4");
	assert_line(b, "sipproxy_messages_dropped_total 5");
	assert_line(b, "sipproxy_relay_refused_total 6");
	assert_line(b, "sipproxy_local_replies_total 8");
	assert_line(b, "# TYPE sipproxy_transactions_active gauge");
	assert_line(b, "sipproxy_transactions_active{type=\"server\"} 9");
	assert_line(b, "sipproxy_transactions_active{type=\"client\"} 10");
	assert_line(b, "sipproxy_proxy_contexts_active 11");
	assert_line(b, "sipproxy_transport_messages_in_total{transport=\"udp\"} 12");
	assert_line(b, "sipproxy_transport_messages_in_total{transport=\"tcp\"} 13");
	assert_line(b, "sipproxy_transport_messages_out_total{transport=\"udp\"} 15");
	assert_line(b, "sipproxy_transport_messages_out_total{transport=\"tcp\"} 16");
	assert_line(b, "# TYPE sipproxy_tcp_connections_open gauge");
	assert_line(b, "sipproxy_tcp_connections_open 14");
	assert_line(b, "sipproxy_tcp_connections_accepted_total 17");
	assert_line(b, "sipproxy_tcp_connections_refused_total 18");
	assert_line(b, "sipproxy_stun_responses_total 19");
	assert_line(b, "sipproxy_stun_dropped_total 20");
}

/* Exposition format 0.0.4: every sample's family has HELP and TYPE before it. */
static void test_metrics_format_families(void **state)
{
	(void)state;
	struct proxy_stats *ps = calloc(1, sizeof(*ps));
	struct tp_stats ts;
	assert_non_null(ps);
	fake_proxy_stats(NULL, ps);
	fake_tp_stats(NULL, &ts);
	struct evbuffer *out = evbuffer_new();
	metrics_format(out, ps, &ts);
	size_t len = evbuffer_get_length(out);
	char *text = calloc(1, len + 1);
	assert_non_null(text);
	evbuffer_remove(out, text, len);
	assert_true(len > 0 && text[len - 1] == '\n');
	const char *seen_type = NULL;
	int samples = 0;
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		assert_non_null(nl);
		*nl = '\0';
		if (strncmp(p, "# TYPE ", 7) == 0)
			seen_type = p + 7;
		else if (p[0] != '#') {
			size_t n = strcspn(p, "{ ");
			samples++;
			assert_non_null(seen_type);
			assert_true(strncmp(seen_type, p, n) == 0 && seen_type[n] == ' ');
		}
		p = nl + 1;
	}
	assert_true(samples > 20);
	free(text);
	evbuffer_free(out);
	free(ps);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	http_get(f, "/nope");
	assert_int_equal(f->status, 404);
	http_get(f, "/healthz");
	assert_int_equal(f->status, 404);
}

/* RFC 9110 §15.5.6: 405 carries Allow. */
static void test_method_not_allowed(void **state)
{
	struct fixture *f = *state;
	http_raw(f, "POST /health HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->status, 405);
	assert_non_null(strstr(f->resp, "\r\nAllow: GET\r\n"));
	http_raw(f, "DELETE /metrics HTTP/1.0\r\nHost: x\r\n\r\n");
	assert_int_equal(f->status, 405);
}

static int page_echo(void *arg, const char *path, const char *query, struct evbuffer *out,
		     const char **content_type)
{
	int *calls = arg;
	(*calls)++;
	evbuffer_add_printf(out, "path=%s query=%s\n", path, query ? query : "(none)");
	return 200;
}

/* Later features (e.g. /registrations) add pages. */
static void test_route_add(void **state)
{
	struct fixture *f = *state;
	int calls = 0;
	assert_int_equal(admin_route_add(f->admin, "/registrations", page_echo, &calls), 0);
	assert_int_equal(admin_route_add(f->admin, "/registrations", page_echo, &calls), -1);
	assert_int_equal(admin_route_add(f->admin, "no-slash", page_echo, &calls), -1);
	http_get(f, "/registrations?aor=sip%3Aalice%40example.com");
	assert_int_equal(f->status, 200);
	assert_int_equal(calls, 1);
	assert_string_equal(f->body, "path=/registrations query=aor=sip%3Aalice%40example.com\n");
}

/* Actions are POSTs: a GET on one is 405 with Allow: POST (RFC 9110
 * §15.5.6), as a POST on a page is 405 with Allow: GET. */
static void test_action_routing(void **state)
{
	struct fixture *f = *state;
	int calls = 0;
	assert_int_equal(admin_action_add(f->admin, "/reload", page_echo, &calls), 0);
	http_post(f, "/reload");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "path=/reload query=(none)\n");
	assert_non_null(strstr(f->resp, "Cache-Control: no-store"));
	http_get(f, "/reload");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: POST"));
	http_post(f, "/metrics");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: GET"));
	http_raw(f, "PUT /reload HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: POST"));
	assert_int_equal(calls, 1);
	/* Exact paths only: nothing under it, nothing longer. */
	http_post(f, "/reload/now");
	assert_int_equal(f->status, 404);
	http_post(f, "/reloadx");
	assert_int_equal(f->status, 404);
	assert_int_equal(calls, 1);
	/* A path is a page or an action, once. */
	assert_int_equal(admin_action_add(f->admin, "/reload", page_echo, &calls), -1);
	assert_int_equal(admin_action_add(f->admin, "/health", page_echo, &calls), -1);
	assert_int_equal(admin_route_add(f->admin, "/reload", page_echo, &calls), -1);
	assert_int_equal(admin_action_add(f->admin, "relative", page_echo, &calls), -1);
	assert_int_equal(admin_action_add(f->admin, "/x", NULL, &calls), -1);
}

/* A path ending in '/' takes every path under it (not itself without the
 * slash); the handler sees the whole path and the query. */
static void test_action_prefix(void **state)
{
	struct fixture *f = *state;
	int calls = 0;
	assert_int_equal(admin_action_add(f->admin, "/things/", page_echo, &calls), 0);
	http_post(f, "/things/t1/out?now=1");
	assert_int_equal(f->status, 200);
	assert_string_equal(f->body, "path=/things/t1/out query=now=1\n");
	http_post(f, "/things/");
	assert_int_equal(f->status, 200);
	http_post(f, "/things");
	assert_int_equal(f->status, 404);
	http_post(f, "/thingsx/t1");
	assert_int_equal(f->status, 404);
	http_get(f, "/things/t1/in");
	assert_int_equal(f->status, 405);
	assert_true(http_has_header(f, "Allow: POST"));
	assert_int_equal(calls, 2);
	/* "/" alone is an exact path, not a prefix of everything. */
	assert_int_equal(admin_route_add(f->admin, "/", page_echo, &calls), 0);
	http_get(f, "/nope");
	assert_int_equal(f->status, 404);
	http_get(f, "/");
	assert_int_equal(f->status, 200);
}

static int status_of_query(void *arg, const char *path, const char *query, struct evbuffer *out,
			   const char **content_type)
{
	(void)arg;
	(void)path;
	evbuffer_add_printf(out, "as asked\n");
	return query ? atoi(query) : 200;
}

/* The handler's status goes out as it is (an impossible one as 500); the
 * table has room for 16 paths. */
static void test_action_status_and_table(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(admin_action_add(f->admin, "/s", status_of_query, NULL), 0);
	http_post(f, "/s?404");
	assert_int_equal(f->status, 404);
	assert_string_equal(f->body, "as asked\n");
	http_post(f, "/s?400");
	assert_int_equal(f->status, 400);
	http_post(f, "/s?409");
	assert_int_equal(f->status, 409);
	http_post(f, "/s?42");
	assert_int_equal(f->status, 500);
	int added = 3; /* /health, /metrics, /s */
	char path[32];
	for (int i = 0; added < 16; i++, added++) {
		snprintf(path, sizeof(path), "/a%d", i);
		assert_int_equal(admin_action_add(f->admin, path, status_of_query, NULL), 0);
	}
	assert_int_equal(admin_action_add(f->admin, "/one-too-many", status_of_query, NULL), -1);
	assert_int_equal(admin_route_add(f->admin, "/one-too-many", status_of_query, NULL), -1);
}

static void test_garbage_request(void **state)
{
	struct fixture *f = *state;
	http_raw(f, "\x01\x02 not http at all\r\n\r\n");
	assert_true(f->status == 0 || f->status == 400);
	/* The server is still serving. */
	http_get(f, "/health");
	assert_int_equal(f->status, 200);
}

static char *page_text(struct store *st, const char *query, int *status)
{
	struct evbuffer *out = evbuffer_new();
	assert_non_null(out);
	const char *ctype = NULL;
	*status = admin_registrations_page(st, "/registrations", query, out, &ctype);
	assert_string_equal(ctype, "application/json");
	size_t len = evbuffer_get_length(out);
	char *text = calloc(1, len + 1);
	assert_non_null(text);
	evbuffer_remove(out, text, len);
	evbuffer_free(out);
	return text;
}

/* /registrations shows, per binding, the proxy holding its flow ("owner") and
 * the SIP Server node that accepted its REGISTER ("node", "" when none), the
 * names JSON-escaped (RFC 8259 §7). */
static void test_registrations_node(void **state)
{
	(void)state;
	char err[128];
	struct store *st = store_mem_new(NULL, err, sizeof(err));
	assert_non_null(st);
	struct store_binding b = {
	    .aor = STR_LIT("sip:alice@example.com"),
	    .contact = STR_LIT("sip:alice@10.0.0.5"),
	    .call_id = STR_LIT("c1"),
	    .cseq = 1,
	    .q = 1000,
	    .expires_at = registrar_now_ms() + 3600000,
	    .proto = TP_UDP,
	    .owner = STR_LIT("px1"),
	    .node = STR_LIT("sipsrv-\"a\""),
	};
	assert_int_equal(store_save(st, &b), STORE_OK);
	struct store_binding c = b;
	c.aor = STR_LIT("sip:bob@example.com");
	c.node = STR_NULL;
	assert_int_equal(store_save(st, &c), STORE_OK);
	int status;
	char *text = page_text(st, "aor=sip%3Aalice%40example.com", &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(text, "\"owner\": \"px1\", \"node\": \"sipsrv-\\\"a\\\"\"}"));
	assert_non_null(strstr(text, "\"count\": 1}"));
	free(text);
	text = page_text(st, "aor=sip%3Abob%40example.com", &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(text, "\"owner\": \"px1\", \"node\": \"\"}"));
	free(text);
	text = page_text(st, NULL, &status);
	assert_int_equal(status, 200);
	assert_non_null(strstr(text, "\"count\": 2}"));
	free(text);
	text = page_text(st, "aor=sip%3Acarol%40example.com", &status);
	assert_int_equal(status, 404);
	free(text);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_health, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_health_draining, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	    cmocka_unit_test(test_metrics_format_families),
	    cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_method_not_allowed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_action_routing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_action_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_action_status_and_table, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_request, setup, teardown),
	    cmocka_unit_test(test_registrations_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
