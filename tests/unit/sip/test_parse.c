/* test_parse.c — sip_msg_parse and friends: start lines (RFC 3261 §7.1, §7.2),
 * header forms (§7.3: compact names, folding, multiple values, quoted strings,
 * name-addr vs addr-spec, params), scalar limits (§20, §25.1), the limits of
 * struct sip_limits, Content-Length and the body (§18.3, §20.14), and stream
 * framing with sip_frame_length (§18.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sip/msg.h"

#define HDRS_MIN                                                                                   \
	"Via: SIP/2.0/UDP pc33.atlanta.com;branch=z9hG4bK776asdhds\r\n"                            \
	"To: Bob <sip:bob@biloxi.com>\r\n"                                                         \
	"From: Alice <sip:alice@atlanta.com>;tag=1928301774\r\n"                                   \
	"Call-ID: a84b4c76e66710@pc33.atlanta.com\r\n"

static struct sip_msg *parse_lim(const char *s, const struct sip_limits *lim, int *rc)
{
	struct sip_msg *m = sip_msg_new(s, strlen(s));
	assert_non_null(m);
	*rc = sip_msg_parse(m, lim);
	return m;
}

static struct sip_msg *parse_ok(const char *s)
{
	int rc;
	struct sip_msg *m = parse_lim(s, NULL, &rc);
	if (rc != 0)
		fail_msg("parse failed: %d %s", m->error.status, m->error.reason);
	return m;
}

/* Asserts the parse fails with status; returns the reason. */
static void parse_fail(const char *s, int status, const char *reason)
{
	int rc;
	struct sip_msg *m = parse_lim(s, NULL, &rc);
	assert_int_equal(rc, -1);
	if (m->error.status != status || (reason && strcmp(reason, m->error.reason) != 0))
		fail_msg("want %d %s, got %d %s", status, reason ? reason : "*", m->error.status,
			 m->error.reason ? m->error.reason : "");
	sip_msg_free(m);
}

#define assert_str(s, lit) assert_true(str_eq((s), STR_LIT(lit)))

/* §7.1 Request-Line and §8.1.1 mandatory fields. */
static void test_request_line(void **state)
{
	struct sip_msg *m = parse_ok("INVITE sip:bob@biloxi.com SIP/2.0\r\n" HDRS_MIN
				     "CSeq: 314159 INVITE\r\nMax-Forwards: 70\r\n"
				     "Content-Length: 0\r\n\r\n");
	assert_true(m->is_request);
	assert_int_equal(m->method, SIP_METHOD_INVITE);
	assert_str(m->method_str, "INVITE");
	assert_str(m->ruri_str, "sip:bob@biloxi.com");
	assert_str(m->ruri.host, "biloxi.com");
	assert_str(m->version, "SIP/2.0");
	assert_str(m->start_line, "INVITE sip:bob@biloxi.com SIP/2.0");
	assert_int_equal(m->cseq, 314159);
	assert_int_equal(m->cseq_method, SIP_METHOD_INVITE);
	assert_int_equal(m->max_forwards, 70);
	assert_int_equal(m->content_length, 0);
	assert_int_equal(m->expires, -1);
	assert_str(m->call_id, "a84b4c76e66710@pc33.atlanta.com");
	assert_int_equal(m->hdr_count, 7);
	assert_true(m->hdrs_end[0] == '\r' && m->hdrs_end[1] == '\n');
	assert_ptr_equal(m->hdrs_end + 2, m->buf + m->len);
	assert_int_equal(m->body.len, 0);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);

	/* Extension method (§7.1 extension-method = token). */
	m = parse_ok("FOO.BAR sip:bob@biloxi.com SIP/2.0\r\n" HDRS_MIN "CSeq: 1 FOO.BAR\r\n\r\n");
	assert_int_equal(m->method, SIP_METHOD_UNKNOWN);
	assert_str(m->method_str, "FOO.BAR");
	assert_int_equal(m->max_forwards, -1);
	assert_int_equal(m->content_length, -1);
	sip_msg_free(m);
}

/* RFC 4475 §3.1.2.7-§3.1.2.11 and §3.1.2.16 in miniature. */
static void test_request_line_errors(void **state)
{
	parse_fail("INVITE  sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("INVITE sip:b@h  SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("INVITE sip:b@h SIP/2.0 \r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("INVITE sip:b@h\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("INVITE <sip:b@h> SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400,
		   "Bad Request-URI");
	parse_fail("INVITE sip:b@h?Route=x SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400,
		   "Bad Request-URI");
	parse_fail("INVITE sip:b@h SIP/3.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 505, NULL);
	parse_fail("INVITE sip:b@h HTTP/1.1\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("\r\n", 400, NULL);
	parse_fail("", 400, NULL);
	/* §8.1.1.5: CSeq method equals the request method, ACK and CANCEL included. */
	parse_fail("ACK sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400,
		   "CSeq method does not match");
	/* An unknown scheme is the proxy's business (416, RFC 4475 §3.3.2). */
	struct sip_msg *m =
	    parse_ok("OPTIONS urn:service:sos SIP/2.0\r\n" HDRS_MIN "CSeq: 1 OPTIONS\r\n\r\n");
	assert_int_equal(m->ruri.scheme, SIP_URI_OTHER);
	sip_msg_free(m);
}

/* §7.2 Status-Line; RFC 4475 §3.1.1.12, §3.1.1.13, §3.1.2.19. */
static void test_status_line(void **state)
{
	struct sip_msg *m = parse_ok("SIP/2.0 180 Ringing\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n"
				     "Content-Length: 0\r\n\r\n");
	assert_false(m->is_request);
	assert_int_equal(m->status, 180);
	assert_str(m->reason, "Ringing");
	assert_int_equal(m->cseq_method, SIP_METHOD_INVITE);
	sip_msg_free(m);
	m = parse_ok("SIP/2.0 100 \r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n");
	assert_int_equal(m->status, 100);
	assert_int_equal(m->reason.len, 0);
	sip_msg_free(m);
	parse_fail("SIP/2.0 1000 Big\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("SIP/2.0 099 Small\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("SIP/2.0 700 Big\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("SIP/2.0 2x0 OK\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("SIP/2.0 200 OK\r\n" HDRS_MIN "\r\n", 400, "Missing CSeq");
}

/* §7.3.3 compact forms, case-insensitive names, LWS before ':' (§7.3.1). */
static void test_compact_and_case(void **state)
{
	struct sip_msg *m = parse_ok("BYE sip:b@h SIP/2.0\r\n"
				     "v: SIP/2.0/TCP h1;branch=z9hG4bK1\r\n"
				     "T: <sip:b@h>;tag=x\r\n"
				     "f: <sip:a@h>;tag=y\r\n"
				     "i: abc\r\n"
				     "cSeQ  : 2 BYE\r\n"
				     "m: <sip:a@10.0.0.1>\r\n"
				     "k: 100rel\r\n"
				     "L: 0\r\n\r\n");
	assert_non_null(m->via);
	assert_str(m->to->tag, "x");
	assert_str(m->from->tag, "y");
	assert_str(m->call_id, "abc");
	assert_int_equal(m->cseq, 2);
	assert_non_null(m->contact);
	assert_int_equal(m->content_length, 0);
	assert_ptr_equal(sip_msg_hdr_by_name(m, STR_LIT("Via")), m->first[SIP_HDR_VIA]);
	assert_ptr_equal(sip_msg_hdr_by_name(m, STR_LIT("supported")), m->first[SIP_HDR_SUPPORTED]);
	assert_ptr_equal(sip_msg_hdr(m, SIP_HDR_CONTENT_LENGTH), m->first[SIP_HDR_CONTENT_LENGTH]);
	assert_str(sip_msg_hdr(m, SIP_HDR_CSEQ)->name, "cSeQ");
	assert_null(sip_msg_hdr_by_name(m, STR_LIT("X-Nope")));
	sip_msg_free(m);
}

/* §7.3.1 folding, unknown headers kept as name/value, raw spans the field. */
static void test_folding_and_other(void **state)
{
	struct sip_msg *m =
	    parse_ok("OPTIONS sip:b@h SIP/2.0\r\n" HDRS_MIN "Subject: I know you're there,\r\n"
		     "         pick up the phone\r\n"
		     "CSeq: 7\r\n\tOPTIONS\r\n"
		     "X-Custom: a;b,c\r\n"
		     "X-Empty:\r\n\r\n");
	struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_SUBJECT);
	assert_non_null(h);
	assert_str(h->value, "I know you're there,\r\n         pick up the phone");
	assert_true(h->raw.p[h->raw.len - 1] == '\n');
	assert_int_equal(m->cseq, 7);
	h = sip_msg_hdr_by_name(m, STR_LIT("x-custom"));
	assert_non_null(h);
	assert_int_equal(h->id, SIP_HDR_OTHER);
	assert_str(h->value, "a;b,c");
	h = sip_msg_hdr_by_name(m, STR_LIT("X-Empty"));
	assert_non_null(h);
	assert_int_equal(h->value.len, 0);
	sip_msg_free(m);
}

/* §20.42 Via: several values per field and per message, params, rport (RFC 3581), IPv6. */
static void test_via(void **state)
{
	struct sip_msg *m = parse_ok(
	    "INVITE sip:b@h SIP/2.0\r\n"
	    "Via: SIP / 2.0 / UDP host ; branch = x1 ; rport, SIP/2.0/TCP [2001:db8::1]:5070;"
	    "branch=x2;received=2001:db8::9;rport=5071\r\n"
	    "Via: SIP/2.0/TLS 192.0.2.1:5061;maddr=224.0.0.1;branch=x3\r\n"
	    "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n\r\n");
	struct sip_via *v = m->via;
	assert_non_null(v);
	assert_str(v->transport, "UDP");
	assert_str(v->host, "host");
	assert_int_equal(v->port, 0);
	assert_str(v->branch, "x1");
	assert_true(v->has_rport);
	assert_non_null(v->rport.p);
	assert_int_equal(v->rport.len, 0);
	assert_str(v->raw, "SIP / 2.0 / UDP host ; branch = x1 ; rport");
	assert_str(v->params, "; branch = x1 ; rport");
	v = v->next;
	assert_non_null(v);
	assert_str(v->host, "[2001:db8::1]");
	assert_int_equal(v->port, 5070);
	assert_str(v->received, "2001:db8::9");
	assert_str(v->rport, "5071");
	assert_ptr_equal(v->hdr, m->via->hdr);
	v = v->next;
	assert_non_null(v);
	assert_str(v->maddr, "224.0.0.1");
	assert_int_equal(v->port, 5061);
	assert_false(v->has_rport);
	assert_null(v->next);
	assert_ptr_not_equal(v->hdr, m->via->hdr);
	sip_msg_free(m);

	const char *tail = "To: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\nCall-ID: c\r\n"
			   "CSeq: 1 INVITE\r\n\r\n";
	char buf[512];
	const char *bad[] = {"SIP/2.0/UDP",
			     "SIP/2.0/UDP h;;branch=1",
			     "SIP/2.0/UDP h;branch=1,",
			     "SIP/2.0/UDP h:99999",
			     "SIP/2.0/UDPh",
			     "SIP/2.0 UDP h",
			     "SIP/2.0/UDP h;branch=",
			     "SIP/2.0/UDP [::1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "INVITE sip:b@h SIP/2.0\r\nVia: %s\r\n%s", bad[i], tail);
		parse_fail(buf, 400, "Bad Via");
	}
}

/* §20.10 / §25.1 name-addr vs addr-spec, quoted display names, commas in
 * quotes and <>, params with and without values, Contact: *. */
static void test_name_addr(void **state)
{
	struct sip_msg *m = parse_ok(
	    "REGISTER sip:registrar.biloxi.com SIP/2.0\r\n"
	    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
	    "To: \"Doe, John \\\"JD\\\"\" <sip:john@biloxi.com>\r\n"
	    "From: sip:john@biloxi.com ; tag = abc\r\n"
	    "Call-ID: c@h\r\nCSeq: 1 REGISTER\r\n"
	    "Contact: <sip:a,b@192.0.2.4>;expires=3600;q=0.7, Bob Smith <sip:bob@[::1]:5062>;"
	    "+sip.instance=\"<urn:uuid:1;2>\";reg-id=1\r\n"
	    "Contact: sip:c@192.0.2.5;expires=0\r\n"
	    "Expires: 7200\r\n\r\n");
	assert_str(m->to->display, "Doe, John \\\"JD\\\"");
	assert_true(m->to->angle);
	assert_str(m->to->uri_str, "sip:john@biloxi.com");
	assert_false(str_present(m->to->tag));
	assert_false(m->from->angle);
	assert_str(m->from->tag, "abc");
	assert_str(m->from->uri_str, "sip:john@biloxi.com");
	struct sip_addr *c = m->contact;
	assert_non_null(c);
	assert_str(c->uri.user, "a,b");
	assert_str(c->expires, "3600");
	assert_str(c->q, "0.7");
	assert_str(c->raw, "<sip:a,b@192.0.2.4>;expires=3600;q=0.7");
	c = c->next;
	assert_non_null(c);
	assert_str(c->display, "Bob Smith");
	assert_str(c->uri.host, "[::1]");
	assert_int_equal(c->uri.port, 5062);
	struct str v;
	assert_true(sip_param_find(c->params, "+sip.instance", &v));
	assert_str(v, "\"<urn:uuid:1;2>\"");
	assert_true(sip_param_find(c->params, "reg-id", &v));
	assert_str(v, "1");
	c = c->next;
	assert_non_null(c);
	assert_false(c->angle);
	assert_str(c->expires, "0");
	assert_null(c->next);
	assert_int_equal(m->expires, 7200);
	sip_msg_free(m);

	m = parse_ok("REGISTER sip:r SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		     "To: <sip:b@h>\r\nFrom: <sip:b@h>;tag=1\r\nCall-ID: c\r\nCSeq: 2 REGISTER\r\n"
		     "Contact: *\r\nExpires: 0\r\n\r\n");
	assert_true(m->contact->star);
	assert_int_equal(m->expires, 0);
	sip_msg_free(m);
}

static void check_bad_field(const char *field, const char *reason)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
		 "Call-ID: c\r\nCSeq: 1 INVITE\r\n%s\r\n\r\n",
		 field);
	if (!strstr(field, "To:"))
		strcpy(buf + strlen(buf) - 2, "To: <sip:b@h>\r\n\r\n");
	if (!strstr(field, "From:"))
		strcpy(buf + strlen(buf) - 2, "From: <sip:a@h>;tag=1\r\n\r\n");
	int rc;
	struct sip_msg *m = parse_lim(buf, NULL, &rc);
	if (rc != -1 || m->error.status != 400 || strcmp(m->error.reason, reason) != 0)
		fail_msg("%s: want 400 %s, got %d %s", field, reason, m->error.status,
			 m->error.reason ? m->error.reason : "");
	sip_msg_free(m);
}

/* RFC 4475 §3.1.2.4, .6, .12-.15 in miniature; §20 single-value fields. */
static void test_header_errors(void **state)
{
	check_bad_field("To: \"Mr. J. User <sip:j.user@example.com>", "Bad To");
	check_bad_field("To: < sip:b@h >", "Bad To");
	check_bad_field("To: Watson, Thomas <sip:t@h>", "Bad To");
	check_bad_field("To: <sip:b@h>;;tag=1", "Bad To");
	check_bad_field("From: <sip:a@h>;tag=1, <sip:c@h>", "Bad From");
	check_bad_field("Contact: sip:u@h?Route=%3Csip:x%3E", "Bad Contact");
	check_bad_field("Contact: <sip:u@h>;expires=4294967296", "Bad Contact");
	check_bad_field("Contact: <sip:u@h>;q=1.5", "Bad Contact");
	check_bad_field("Contact: *, <sip:u@h>", "Bad Contact");
	check_bad_field("Contact: <sip:u@h>,", "Bad Contact");
	check_bad_field("Route: <sip:u@h;lr", "Bad Route");
	check_bad_field("Record-Route: ", "Bad Record-Route");
	check_bad_field("Max-Forwards: 256", "Bad Max-Forwards");
	check_bad_field("Max-Forwards: -1", "Bad Max-Forwards");
	check_bad_field("Max-Forwards: 70\r\nMax-Forwards: 70", "Multiple Max-Forwards");
	check_bad_field("Expires: 4294967296", "Bad Expires");
	check_bad_field("Date: Fri, 01 Jan 2010 16:00:00 EST", "Bad Date");
	check_bad_field("Date: Fri, 1 Jan 2010 16:00:00 GMT", "Bad Date");
	check_bad_field("Content-Length: -1", "Bad Content-Length");
	check_bad_field("Content-Length: 1x", "Bad Content-Length");
	check_bad_field("Content-Length: 0\r\nl: 1", "Multiple Content-Length");
	check_bad_field("t: <sip:c@h>", "Multiple To");
	check_bad_field("Call-ID: d", "Multiple Call-ID");
	check_bad_field("CSeq: 2 INVITE", "Multiple CSeq");
	check_bad_field("Bad Header: x", "Bad header field");
	check_bad_field(": x", "Bad header field");
}

/* §8.1.1.5 CSeq: below 2^31, LWS between number and method. */
static void test_cseq_limits(void **state)
{
	struct sip_msg *m = parse_ok("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN
				     "CSeq: 2147483647 INVITE\r\nExpires: 4294967295\r\n"
				     "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n\r\n");
	assert_int_equal(m->cseq, 2147483647u);
	assert_int_equal(m->expires, 4294967295L);
	sip_msg_free(m);
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 2147483648 INVITE\r\n\r\n", 400,
		   "Bad CSeq");
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1INVITE\r\n\r\n", 400, "Bad CSeq");
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE x\r\n\r\n", 400,
		   "Bad CSeq");
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: INVITE\r\n\r\n", 400, "Bad CSeq");
}

/* §8.1.1: mandatory fields; a malformed field still allows a 400 reply. */
static void test_mandatory_and_reply(void **state)
{
	parse_fail("INVITE sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\n"
		   "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
		   400, "Missing Via");
	parse_fail("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nTo: <sip:b@h>\r\n"
		   "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
		   400, "Missing From");
	parse_fail("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:b@h>\r\n"
		   "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
		   400, "Missing To");
	parse_fail("INVITE sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nFrom: <sip:b@h>\r\n"
		   "To: <sip:b@h>\r\nCSeq: 1 INVITE\r\n\r\n",
		   400, "Missing Call-ID");
	int rc;
	struct sip_msg *m = parse_lim("INVITE sip:b@h SIP/2.0\r\nMax-Forwards: 999\r\n" HDRS_MIN
				      "CSeq: 1 INVITE\r\n\r\n",
				      NULL, &rc);
	assert_int_equal(rc, -1);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);
	m = parse_lim("INVITE sip:b@h SIP/2.0\r\nTo: <sip:b@h>\r\nFrom: <sip:a@h>;tag=1\r\n"
		      "Call-ID: c\r\nCSeq: 1 INVITE\r\n\r\n",
		      NULL, &rc);
	assert_false(sip_msg_can_reply(m));
	sip_msg_free(m);
}

/* §7.5 CRLF line ends; the empty line is mandatory (§7). */
static void test_line_structure(void **state)
{
	parse_fail("INVITE sip:b@h SIP/2.0\n" HDRS_MIN "CSeq: 1 INVITE\r\n\r\n", 400, NULL);
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\n\r\n", 400,
		   "Bare LF in header");
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n", 400,
		   "Missing end of headers");
	parse_fail("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE", 400,
		   "Missing end of headers");
}

/* §18.3 / §20.14 body and Content-Length on a datagram; NULs in the body. */
static void test_body(void **state)
{
	static const char msg[] =
	    "MESSAGE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 MESSAGE\r\nl: 5\r\n\r\nab\0cdTRAILING";
	struct sip_msg *m = sip_msg_new(msg, sizeof(msg) - 1);
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	assert_int_equal(m->body.len, 5);
	assert_memory_equal(m->body.p, "ab\0cd", 5);
	assert_int_equal(m->len, sizeof(msg) - 1 - 8);
	sip_msg_free(m);
	/* No Content-Length: a datagram's body is the rest (§18.3). */
	m = parse_ok("MESSAGE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 MESSAGE\r\n\r\nhello");
	assert_str(m->body, "hello");
	sip_msg_free(m);
	/* Equal repeats of Content-Length are unambiguous (RFC 4475 §3.3.9 only fails on clash). */
	m = parse_ok("MESSAGE sip:b@h SIP/2.0\r\n" HDRS_MIN
		     "CSeq: 1 MESSAGE\r\nl: 2\r\nContent-Length: 2\r\n\r\nhi");
	assert_str(m->body, "hi");
	sip_msg_free(m);
	parse_fail("MESSAGE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 MESSAGE\r\nl: 6\r\n\r\nhello",
		   400, "Content-Length larger than message");
}

/* Parsing the same message twice gives the same result (no doubled lists). */
static void test_reparse(void **state)
{
	struct sip_msg *m = parse_ok("INVITE sip:b@h SIP/2.0\r\n" HDRS_MIN "CSeq: 1 INVITE\r\n"
				     "Route: <sip:p1;lr>,<sip:p2;lr>\r\n\r\n");
	assert_int_equal(sip_msg_parse(m, NULL), 0);
	assert_null(m->via->next);
	assert_non_null(m->route->next);
	assert_null(m->route->next->next);
	assert_int_equal(m->hdr_count, 6);
	sip_msg_free(m);
}

/* struct sip_limits: 513 / 413 / 400 (RFC 3261 §21.5.14, §21.4.11). */
static void test_limits(void **state)
{
	const char *base = "MESSAGE sip:b@h SIP/2.0\r\n" HDRS_MIN
			   "CSeq: 1 MESSAGE\r\nX-A: 1\r\nX-B: 2\r\nContent-Length: 10\r\n\r\n"
			   "0123456789";
	size_t n = strlen(base);
	int rc;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	struct sip_msg *m = parse_lim(base, &lim, &rc);
	assert_int_equal(rc, 0);
	sip_msg_free(m);

	lim.max_message = n - 1;
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(m->error.status, 513);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);

	lim = SIP_LIMITS_DEFAULT;
	lim.max_body = 9;
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(m->error.status, 413);
	assert_true(sip_msg_can_reply(m));
	sip_msg_free(m);

	lim = SIP_LIMITS_DEFAULT;
	lim.max_headers = 7; /* the message has 8 */
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(m->error.status, 400);
	assert_string_equal(m->error.reason, "Too many header fields");
	sip_msg_free(m);
	lim.max_headers = 8;
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(rc, 0);
	sip_msg_free(m);

	lim = SIP_LIMITS_DEFAULT;
	lim.max_line = 58; /* the Via field is 59 octets with its CRLF */
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(m->error.status, 400);
	assert_string_equal(m->error.reason, "Header field too long");
	sip_msg_free(m);
	lim.max_line = 59;
	m = parse_lim(base, &lim, &rc);
	assert_int_equal(rc, 0);
	sip_msg_free(m);
}

static int count_tokens(void *arg, struct str t)
{
	char *out = arg;
	strncat(out, t.p, t.len);
	strcat(out, "|");
	return 0;
}

static int stop_at_second(void *arg, struct str t)
{
	int *n = arg;
	return ++*n == 2 ? 7 : 0;
}

/* §20.29 / §20.32 option-tag lists; §25.1 generic-param lookup. */
static void test_tokens_and_params(void **state)
{
	struct sip_msg *m = parse_ok("OPTIONS sip:b@h SIP/2.0\r\n" HDRS_MIN
				     "CSeq: 1 OPTIONS\r\nProxy-Require: foo , bar\r\n"
				     "Proxy-Require: baz\r\n\r\n");
	char out[64] = "";
	assert_int_equal(sip_msg_tokens(m, SIP_HDR_PROXY_REQUIRE, count_tokens, out), 0);
	assert_string_equal(out, "foo|bar|baz|");
	int n = 0;
	assert_int_equal(sip_msg_tokens(m, SIP_HDR_PROXY_REQUIRE, stop_at_second, &n), 7);
	assert_int_equal(sip_msg_tokens(m, SIP_HDR_REQUIRE, stop_at_second, &n), 0);
	sip_msg_free(m);

	struct str v;
	assert_true(sip_param_find(STR_LIT(";a=b;lr;C = \"x;y\""), "lr", &v));
	assert_int_equal(v.len, 0);
	assert_true(sip_param_find(STR_LIT("a=b;lr"), "A", &v));
	assert_str(v, "b");
	assert_true(sip_param_find(STR_LIT(";a=b;lr;C = \"x;y\""), "c", &v));
	assert_str(v, "\"x;y\"");
	assert_false(sip_param_find(STR_LIT(";a=b;lr"), "l", &v));
	assert_false(sip_param_find(STR_NULL, "a", &v));
}

/* §7.1 method names are case-sensitive; §21 reason phrases. */
static void test_tables(void **state)
{
	assert_int_equal(sip_method_from_str(STR_LIT("REGISTER")), SIP_METHOD_REGISTER);
	assert_int_equal(sip_method_from_str(STR_LIT("REFER")), SIP_METHOD_REFER);
	assert_int_equal(sip_method_from_str(STR_LIT("INFO")), SIP_METHOD_INFO);
	assert_int_equal(sip_method_from_str(STR_LIT("PUBLISH")), SIP_METHOD_PUBLISH);
	assert_int_equal(sip_method_from_str(STR_LIT("invite")), SIP_METHOD_UNKNOWN);
	assert_int_equal(sip_method_from_str(STR_LIT("INVITEX")), SIP_METHOD_UNKNOWN);
	for (int i = 1; i < SIP_METHOD_COUNT; i++)
		assert_int_equal(sip_method_from_str(str_cstr(sip_method_name(i))), i);
	assert_string_equal(sip_method_name(SIP_METHOD_COUNT), "UNKNOWN");
	assert_string_equal(sip_reason_phrase(483), "Too Many Hops");
	assert_string_equal(sip_reason_phrase(416), "Unsupported URI Scheme");
	assert_string_equal(sip_reason_phrase(499), "Bad Request");
}

/* §18.3 stream framing: partial input, several messages, Content-Length rules. */
static void test_frame_length(void **state)
{
	const char *a = "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/TCP h\r\nl: 4\r\n\r\nbody";
	const char *b = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	long la = (long)strlen(a), lb = (long)strlen(b);
	char buf[512];
	snprintf(buf, sizeof(buf), "%s%s", a, b);
	assert_int_equal(sip_frame_length(buf, strlen(buf), 65536), la);
	assert_int_equal(sip_frame_length(buf + la, (size_t)lb, 65536), lb);
	for (long i = 0; i < la; i++)
		assert_int_equal(sip_frame_length(buf, (size_t)i, 65536), 0);
	assert_int_equal(sip_frame_length(a, (size_t)la, (size_t)la - 1), -1);
	assert_int_equal(sip_frame_length(a, 10, 9), -1);
	assert_int_equal(sip_frame_length("OPTIONS sip:b@h SIP/2.0\r\nVia: x\r\n\r\n", 35, 65536),
			 -1);
	const char *folded = "OPTIONS sip:b@h SIP/2.0\r\nContent-Length:\r\n 3\r\n\r\nabc";
	assert_int_equal(sip_frame_length(folded, strlen(folded), 65536), (long)strlen(folded));
	const char *clash = "OPTIONS sip:b@h SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab";
	assert_int_equal(sip_frame_length(clash, strlen(clash), 65536), -1);
	const char *neg = "OPTIONS sip:b@h SIP/2.0\r\nContent-Length: -2\r\n\r\nab";
	assert_int_equal(sip_frame_length(neg, strlen(neg), 65536), -1);
	const char *notcl = "OPTIONS sip:b@h SIP/2.0\r\nContact: <sip:x>\r\nLocation: 9\r\n"
			    "Content-Length: 0\r\n\r\n";
	assert_int_equal(sip_frame_length(notcl, strlen(notcl), 65536), (long)strlen(notcl));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_request_line),      cmocka_unit_test(test_request_line_errors),
	    cmocka_unit_test(test_status_line),	      cmocka_unit_test(test_compact_and_case),
	    cmocka_unit_test(test_folding_and_other), cmocka_unit_test(test_via),
	    cmocka_unit_test(test_name_addr),	      cmocka_unit_test(test_header_errors),
	    cmocka_unit_test(test_cseq_limits),	      cmocka_unit_test(test_mandatory_and_reply),
	    cmocka_unit_test(test_line_structure),    cmocka_unit_test(test_body),
	    cmocka_unit_test(test_reparse),	      cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_tokens_and_params), cmocka_unit_test(test_tables),
	    cmocka_unit_test(test_frame_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
