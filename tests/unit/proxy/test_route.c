/* test_route.c — Route processing (RFC 3261 §16.4) and "is this URI mine":
 * the strict-router fix only for a Request-URI that is our own Record-Route
 * value; a preloaded Route naming us is popped and the Request-URI kept;
 * our value and the next one in one comma-joined field; host and port
 * both count, so a SIP Server sharing our IP on another port is not us. */
#include "proxy_test.h"

static const char *const trusted_src = "127.0.0.3:5090";

/* INVITE sip:bob@<proxy> with a preloaded Route: <sip:<proxy>;lr>: our Route
 * goes, bob stays the Request-URI (no strict-router fix). */
static void test_preloaded_route_keeps_ruri(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, trusted_src,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.3:5091", trusted_src,
			     "pre1", "Route: <sip:127.0.0.1:5060;lr>\r\n"));
	const struct harness_out *o = harness_find(h, "OPTIONS sip:bob@127.0.0.3:5091 ", NULL);
	assert_non_null(o);
	assert_null(o->msg->route);
	harness_free(h);
}

/* `Route: <ours;lr>, <other;lr>` in one field: ours is removed, other is
 * the next hop and stays the (only) Route. */
static void test_comma_joined_route(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, trusted_src,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.30:5070", trusted_src,
			     "cj1",
			     "Route: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.31:5071;lr>\r\n"));
	const struct harness_out *o = harness_find(h, "OPTIONS ", "127.0.0.31:5071");
	assert_non_null(o);
	assert_non_null(o->msg);
	assert_non_null(o->msg->route);
	assert_null(o->msg->route->next);
	assert_true(str_eq(o->msg->route->uri_str, STR_LIT("sip:127.0.0.31:5071;lr")));
	assert_int_equal(test_last_status(h, trusted_src), 0); /* no 500 */
	/* from an endpoint: ours goes, the rest is refused: to the SIP Server */
	harness_clear(h);
	harness_udp(h, "127.0.0.20:5000",
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:bob@127.0.0.1:5060",
			     "127.0.0.20:5000", "cj2",
			     "Route: <sip:127.0.0.1:5060;lr>, <sip:127.0.0.31:5071;lr>\r\n"));
	assert_non_null(harness_find(h, "OPTIONS ", HARNESS_SERVER));
	assert_int_equal(test_last_status(h, "127.0.0.20:5000"), 0);
	harness_free(h);
}

/* §16.4: a strict router upstream put our Record-Route value in the
 * Request-URI: the last Route value is the real target. */
static void test_strict_router_fix(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, trusted_src,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:127.0.0.1:5060;lr", trusted_src,
			     "sr1", "Route: <sip:carol@127.0.0.32:5072>\r\n"));
	const struct harness_out *o =
	    harness_find(h, "OPTIONS sip:carol@127.0.0.32:5072 ", "127.0.0.32:5072");
	assert_non_null(o);
	assert_null(o->msg->route);
	harness_free(h);
}

/* Host and port: sip:x@127.0.0.1:5090 (a SIP Server sharing our IP) is not
 * ours, nor a user of our default-domain address: it is forwarded there,
 * not answered 480. */
static void test_our_ip_other_port_is_not_us(void **state)
{
	(void)state;
	struct harness *h = test_harness("registrar = { domains = [ ]; };");
	char msg[4096];
	harness_udp(h, trusted_src,
		    test_req(msg, sizeof(msg), "OPTIONS", "sip:x@127.0.0.1:5090", trusted_src,
			     "port1", ""));
	assert_non_null(harness_find(h, "OPTIONS sip:x@127.0.0.1:5090 ", "127.0.0.1:5090"));
	assert_int_not_equal(test_last_status(h, trusted_src), 480);
	/* while user@<our address> (no port, or ours) is the location service's */
	harness_udp(
	    h, trusted_src,
	    test_req(msg, sizeof(msg), "OPTIONS", "sip:x@127.0.0.1", trusted_src, "port2", ""));
	assert_int_equal(test_last_status(h, trusted_src), 480);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preloaded_route_keeps_ruri),
	    cmocka_unit_test(test_comma_joined_route),
	    cmocka_unit_test(test_strict_router_fix),
	    cmocka_unit_test(test_our_ip_other_port_is_not_us),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
