/* test_uri.c — sip_uri_parse / sip_uri_equal: RFC 3261 §19.1.1 components,
 * §19.1.4 comparison (the RFC's own example pairs), RFC 3966 tel, opaque
 * schemes (RFC 4475 §3.3.2), IPv6 references (RFC 3261 §25.1, RFC 5118). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "sip/uri.h"

static struct sip_uri parse_ok(const char *s)
{
	struct sip_uri u;
	if (sip_uri_parse(str_cstr(s), &u) != 0)
		fail_msg("should parse: %s", s);
	return u;
}

static void assert_bad(const char *s)
{
	struct sip_uri u;
	if (sip_uri_parse(str_cstr(s), &u) == 0)
		fail_msg("should be rejected: %s", s);
}

#define assert_str(s, lit) assert_true(str_eq((s), STR_LIT(lit)))

/* RFC 3261 §19.1.1: user, password, host, port, params, headers. */
static void test_sip_components(void **state)
{
	struct sip_uri u =
	    parse_ok("sips:alice:secretword@atlanta.com:5061;transport=tcp;lr;"
		     "maddr=239.255.255.1;user=phone?subject=project%20x&priority=urgent");
	assert_int_equal(u.scheme, SIP_URI_SIPS);
	assert_str(u.user, "alice");
	assert_str(u.password, "secretword");
	assert_str(u.host, "atlanta.com");
	assert_int_equal(u.port, 5061);
	assert_str(u.transport, "tcp");
	assert_str(u.maddr, "239.255.255.1");
	assert_str(u.user_param, "phone");
	assert_true(u.lr);
	assert_str(u.params, ";transport=tcp;lr;maddr=239.255.255.1;user=phone");
	assert_str(u.headers, "subject=project%20x&priority=urgent");

	u = parse_ok("sip:192.0.2.4");
	assert_true(u.host_ipv4);
	assert_false(str_present(u.user));
	assert_int_equal(u.port, 0);
	assert_false(u.lr);
	assert_false(str_present(u.transport));

	/* RFC 4475 §3.1.1.9: ';' in the user part. */
	u = parse_ok("sip:user;par=u%40example.net@example.com");
	assert_str(u.user, "user;par=u%40example.net");
	assert_str(u.host, "example.com");
	assert_int_equal(u.params.len, 0);

	u = parse_ok("SIP:ALICE@AtLanTa.CoM;Transport=udp");
	assert_int_equal(u.scheme, SIP_URI_SIP);
	assert_str(u.transport, "udp");
}

/* RFC 3261 §25.1 IPv6reference; RFC 5118 §4.1. */
static void test_ipv6(void **state)
{
	struct sip_uri u = parse_ok("sip:[2001:db8::10]:5070;transport=udp");
	assert_true(u.host_ipv6);
	assert_str(u.host, "[2001:db8::10]");
	assert_int_equal(u.port, 5070);
	struct str bare = sip_uri_host_bare(&u);
	assert_true(str_eq(bare, STR_LIT("2001:db8::10")));
	u = parse_ok("sip:user@[::ffff:192.0.2.1]");
	assert_true(u.host_ipv6);
	assert_bad("sip:[2001:db8::10");
	assert_bad("sip:[2001:db8::10]x");
	assert_bad("sip:[zz::1]");
}

/* §25.1 grammar violations, RFC 4475 §3.1.2.8 (LWS), bad escapes, ports. */
static void test_rejects(void **state)
{
	assert_bad("");
	assert_bad("sip:");
	assert_bad("sip:user@");
	assert_bad("sip:@host");
	assert_bad("sip:host:");
	assert_bad("sip:host:65536");
	assert_bad("sip:host:12a");
	assert_bad("sip:us er@host");
	assert_bad("sip:user@host; lr");
	assert_bad("sip:user@ho st");
	assert_bad("sip:user%4@host");
	assert_bad("sip:user@host;;lr");
	assert_bad("sip:user@host;a=");
	assert_bad("sip:user@host?");
	assert_bad("sip:user@host?a");
	assert_bad("sip:user@host..com");
	assert_bad("1sip:user@host");
	assert_bad("nocolon");
	assert_bad("<sip:user@host>");
	assert_bad("tel:");
	assert_bad("foo:");
	assert_bad("foo:has space");
}

/* RFC 3966 tel numbers and RFC 4475 §3.3.2 / §3.3.3 / §3.3.4 opaque schemes. */
static void test_tel_and_other(void **state)
{
	struct sip_uri u = parse_ok("tel:+1-201-555-0123;phone-context=example.com");
	assert_int_equal(u.scheme, SIP_URI_TEL);
	assert_str(u.user, "+1-201-555-0123");
	assert_str(u.params, ";phone-context=example.com");
	u = parse_ok("nobodyKnowsThisScheme:totallyopaquecontent");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_str(u.scheme_str, "nobodyKnowsThisScheme");
	assert_str(u.opaque, "totallyopaquecontent");
	u = parse_ok("soap.beep://192.0.2.103:3002");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
	assert_str(u.opaque, "//192.0.2.103:3002");
	u = parse_ok("http://www.example.com");
	assert_int_equal(u.scheme, SIP_URI_OTHER);
}

static bool eq(const char *a, const char *b)
{
	struct sip_uri x = parse_ok(a), y = parse_ok(b);
	bool r = sip_uri_equal(&x, &y);
	assert_true(r == sip_uri_equal(&y, &x)); /* symmetric */
	return r;
}

/* RFC 3261 §19.1.4: the equivalent pairs given in the section. */
static void test_equal_examples(void **state)
{
	assert_true(
	    eq("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"));
	assert_true(eq("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:carol@chicago.com;newparam=5", "sip:carol@chicago.com;security=on"));
	assert_true(eq("sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
		       "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"));
	assert_true(eq("sip:alice@atlanta.com?subject=project%20x&priority=urgent",
		       "sip:alice@atlanta.com?priority=urgent&subject=project%20x"));
}

/* RFC 3261 §19.1.4: the non-equivalent pairs given in the section. */
static void test_not_equal_examples(void **state)
{
	assert_false(
	    eq("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"));
	assert_false(eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"));
	assert_false(eq("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"));
	assert_false(eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
	assert_false(eq("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"));
	/* §19.1.4: sip and sips never match; user/ttl/method/maddr must match. */
	assert_false(eq("sip:bob@biloxi.com", "sips:bob@biloxi.com"));
	assert_false(eq("sip:bob@biloxi.com;maddr=192.0.2.1", "sip:bob@biloxi.com"));
	assert_false(eq("sip:bob:pw@biloxi.com", "sip:bob@biloxi.com"));
	assert_false(eq("foo:abc", "foo:abd"));
	assert_true(eq("FOO:abc", "foo:abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sip_components), cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_rejects),	   cmocka_unit_test(test_tel_and_other),
	    cmocka_unit_test(test_equal_examples), cmocka_unit_test(test_not_equal_examples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
