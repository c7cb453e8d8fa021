/* test_flow.c — flow tokens (RFC 5626 §5.2, §5.3): the proxy's Record-Route
 * for a dialog with an endpoint names the endpoint's flow, and in-dialog
 * requests from the cluster go down it: a NATed UDP endpoint is reached at the
 * address it sends from, one that is not at the port its Contact names, a TCP
 * one over its own connection (430 once that is gone, never a new connection
 * towards it); the ACK of the 2xx too. A token this proxy did not write (or
 * one changed in transit) is nobody's flow. */
#include "proxy_test.h"

/* An endpoint at src calls bob: returns the Record-Route the SIP Server saw
 * (into rr), after the server answered 200. */
static void setup_call(struct harness *h, const char *src, const char *contact, bool tcp,
		       uint64_t *conn, char *rr, size_t cap)
{
	char msg[4096], extra[256];
	snprintf(extra, sizeof(extra), "X-Dummy: 1\r\n");
	test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", src, "flow-call", extra);
	/* the endpoint's Contact */
	char *c = strstr(msg, "Contact: <sip:caller@");
	assert_non_null(c);
	char fixed[4096];
	snprintf(fixed, sizeof(fixed), "%.*sContact: <%s>\r\n%s", (int)(c - msg), msg, contact,
		 strstr(c, "\r\n") + 2);
	if (tcp) {
		char *via = strstr(fixed, "SIP/2.0/UDP");
		memcpy(via, "SIP/2.0/TCP", 11);
		*conn = harness_tcp_open(h, src);
		harness_tcp(h, *conn, fixed);
	} else {
		harness_udp(h, src, fixed);
	}
	const struct harness_out *inv = harness_find(h, "INVITE ", HARNESS_SERVER);
	assert_non_null(inv);
	const struct sip_hdr *r = sip_msg_hdr(inv->msg, SIP_HDR_RECORD_ROUTE);
	assert_non_null(r);
	snprintf(rr, cap, "%.*s", (int)r->value.len, r->value.p);
	char rrline[600];
	snprintf(rrline, sizeof(rrline), "Record-Route: %s\r\n", rr);
	harness_reply(h, inv, 200, rrline);
	harness_clear(h);
}

/* A request from the SIP Server in that dialog: Route = the Record-Route. */
static void server_in_dialog(struct harness *h, const char *method, const char *ruri,
			     const char *rr, const char *cid)
{
	char msg[4096], route[700];
	snprintf(route, sizeof(route), "Route: %s\r\n", rr);
	test_req(msg, sizeof(msg), method, ruri, HARNESS_SERVER, cid, route);
	char *to = strstr(msg, "To: <sip:callee@example.com>");
	memcpy(to, "To: <sip:caller@example.com>", 28); /* same length */
	char *tl = strstr(msg, "\r\nCall-ID");
	char fixed[4096];
	snprintf(fixed, sizeof(fixed), "%.*s;tag=t1%s", (int)(tl - msg), msg, tl);
	harness_udp(h, HARNESS_SERVER, fixed);
}

static void test_udp_nated(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char rr[512];
	setup_call(h, "127.0.0.20:40000", "sip:caller@10.0.0.5:5070", false, NULL, rr, sizeof(rr));
	assert_non_null(strstr(rr, "@127.0.0.1:5060;lr")); /* a token in the user part */
	server_in_dialog(h, "BYE", "sip:caller@10.0.0.5:5070", rr, "flow-bye1");
	assert_non_null(harness_find(h, "BYE sip:caller@10.0.0.5:5070 ", "127.0.0.20:40000"));
	assert_int_equal(harness_count_of(h, "BYE ", "10.0.0.5:5070"), 0);
	server_in_dialog(h, "ACK", "sip:caller@10.0.0.5:5070", rr, "flow-ack1");
	assert_non_null(harness_find(h, "ACK ", "127.0.0.20:40000"));
	harness_free(h);
}

static void test_udp_not_nated_uses_contact_port(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char rr[512];
	setup_call(h, "127.0.0.20:40000", "sip:caller@127.0.0.20:5070", false, NULL, rr,
		   sizeof(rr));
	server_in_dialog(h, "BYE", "sip:caller@127.0.0.20:5070", rr, "flow-bye2");
	assert_non_null(harness_find(h, "BYE ", "127.0.0.20:5070"));
	/* a Request-URI naming another host does not move the flow's host */
	server_in_dialog(h, "INFO", "sip:caller@127.0.0.99:5070", rr, "flow-info2");
	assert_non_null(harness_find(h, "INFO ", "127.0.0.20:40000"));
	harness_free(h);
}

static void test_tcp_flow_and_430(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char rr[512];
	uint64_t conn = 0;
	setup_call(h, "127.0.0.20:40001", "sip:caller@10.0.0.5:5070;transport=tcp", true, &conn, rr,
		   sizeof(rr));
	server_in_dialog(h, "BYE", "sip:caller@10.0.0.5:5070;transport=tcp", rr, "flow-bye3");
	const struct harness_out *o = harness_find(h, "BYE ", NULL);
	assert_non_null(o);
	assert_int_equal(o->conn_id, conn);
	harness_tcp_close(h, conn);
	harness_clear(h);
	server_in_dialog(h, "BYE", "sip:caller@10.0.0.5:5070;transport=tcp", rr, "flow-bye4");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 430);
	assert_int_equal(harness_count_of(h, "BYE ", NULL), 0); /* no new connection */
	harness_free(h);
}

static void test_tampered_token(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char rr[512];
	setup_call(h, "127.0.0.20:40000", "sip:caller@127.0.0.21:5070", false, NULL, rr,
		   sizeof(rr));
	char *at = strchr(rr, '@');
	assert_non_null(at);
	at[-1] = at[-1] == '0' ? '1' : '0'; /* the MAC no longer matches */
	server_in_dialog(h, "BYE", "sip:caller@127.0.0.21:5070", rr, "flow-bye5");
	assert_int_equal(harness_count_of(h, "BYE ", "127.0.0.20:40000"), 0);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_udp_nated),
	    cmocka_unit_test(test_udp_not_nated_uses_contact_port),
	    cmocka_unit_test(test_tcp_flow_and_430),
	    cmocka_unit_test(test_tampered_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
