/* test_build.c — messages the proxy originates, each parsed back and checked:
 * responses (RFC 3261 §8.2.6), CANCEL (§9.1), ACK for a non-2xx final response
 * (§17.1.1.3), and random tokens for tags and branches (§19.3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/build.h"
#include "sip/msg.h"

#define CRLF "\r\n"

static const char invite[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
    "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1, SIP/2.0/TCP "
    "mid.example.com;branch=z9hG4bKm1" CRLF
    "v: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;received=192.0.2.1" CRLF
    "Max-Forwards: 69" CRLF "Route: <sip:p1.example.com;lr>" CRLF
    "Route: <sip:p2.example.com;lr>" CRLF "To: Bob <sip:bob@biloxi.example.com>" CRLF
    "f: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314159 INVITE" CRLF
    "Contact: <sip:alice@pc33.atlanta.example.com>" CRLF "Content-Length: 0" CRLF CRLF;

static struct sip_msg *parse(const char *text, size_t len)
{
	struct sip_msg *m = sip_msg_new(text, len);
	assert_non_null(m);
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (sip_msg_parse(m, &lim) != 0)
		fail_msg("parse failed: %d %s\n%.*s", m->error.status,
			 m->error.reason ? m->error.reason : "", (int)len, text);
	return m;
}

static bool str_is(struct str s, const char *c)
{
	return str_eq(s, str_cstr(c));
}

/* RFC 3261 §8.2.6.2: Via values in order, From, Call-ID, CSeq copied; a To tag
 * added; extra headers kept; Content-Length 0. */
static void test_response_200(void **state)
{
	struct sip_msg *req = parse(invite, strlen(invite));
	char out[2048];
	size_t n =
	    sip_build_response(req, 200, NULL, STR_LIT("abc123"),
			       STR_LIT("Contact: <sip:bob@192.0.2.4>" CRLF), out, sizeof(out));
	assert_int_not_equal(n, 0);
	assert_true(strncmp(out, "SIP/2.0 200 OK" CRLF, 16) == 0);
	struct sip_msg *r = parse(out, n);
	assert_false(r->is_request);
	assert_int_equal(r->status, 200);
	const char *branches[] = {"z9hG4bKp1", "z9hG4bKm1", "z9hG4bK776asdhds"};
	const struct sip_via *v = r->via;
	for (int i = 0; i < 3; i++, v = v->next) {
		assert_non_null(v);
		assert_true(str_is(v->branch, branches[i]));
	}
	assert_null(v);
	assert_true(str_is(r->via->next->next->received, "192.0.2.1"));
	assert_true(str_is(r->from->tag, "1928301774"));
	assert_true(str_is(r->to->tag, "abc123"));
	assert_true(str_is(r->to->uri.user, "bob"));
	assert_true(str_is(r->call_id, "a84b4c76e66710@pc33.atlanta.example.com"));
	assert_int_equal(r->cseq, 314159);
	assert_int_equal(r->cseq_method, SIP_METHOD_INVITE);
	assert_non_null(r->contact);
	assert_true(str_is(r->contact->uri.host, "192.0.2.4"));
	assert_int_equal(r->content_length, 0);
	/* Responses carry no Route (§8.2.6.2 copies only the listed fields). */
	assert_null(r->route);
	sip_msg_free(r);
	sip_msg_free(req);
}

/* RFC 3261 §8.2.6.1: a 100 Trying adds no To tag; reason given is used. */
static void test_response_100_no_tag(void **state)
{
	struct sip_msg *req = parse(invite, strlen(invite));
	char out[2048];
	size_t n = sip_build_response(req, 100, "Trying here", STR_LIT("abc123"), STR_NULL, out,
				      sizeof(out));
	assert_int_not_equal(n, 0);
	struct sip_msg *r = parse(out, n);
	assert_int_equal(r->status, 100);
	assert_true(str_is(r->reason, "Trying here"));
	assert_false(str_present(r->to->tag));
	sip_msg_free(r);
	sip_msg_free(req);
}

/* RFC 3261 §8.2.6.2: a To that already has a tag keeps it, no second tag. */
static void test_response_existing_tag(void **state)
{
	static const char bye[] = "BYE sip:alice@pc33.atlanta.example.com SIP/2.0" CRLF
				  "Via: SIP/2.0/UDP b.example.com;branch=z9hG4bKb1" CRLF
				  "From: <sip:bob@biloxi.example.com>;tag=xyz" CRLF
				  "t: <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
				  "i: c9" CRLF "CSeq: 2 BYE" CRLF CRLF;
	struct sip_msg *req = parse(bye, strlen(bye));
	char out[1024];
	size_t n =
	    sip_build_response(req, 481, NULL, STR_LIT("newtag"), STR_NULL, out, sizeof(out));
	assert_int_not_equal(n, 0);
	assert_null(strstr(out, "newtag"));
	struct sip_msg *r = parse(out, n);
	assert_true(str_is(r->to->tag, "1928301774"));
	assert_true(str_is(r->reason, sip_reason_phrase(481)));
	assert_int_equal(r->cseq_method, SIP_METHOD_BYE);
	sip_msg_free(r);

	/* Too small a buffer yields 0, never a truncated message. */
	assert_int_equal(sip_build_response(req, 481, NULL, STR_NULL, STR_NULL, out, n - 1), 0);
	assert_int_equal(sip_build_response(req, 481, NULL, STR_NULL, STR_NULL, out, n + 1), n);
	sip_msg_free(req);
}

/* RFC 3261 §9.1: CANCEL keeps Request-URI, Call-ID, From, To, CSeq number, the
 * top Via only, and the Route values. */
static void test_cancel(void **state)
{
	struct sip_msg *inv = parse(invite, strlen(invite));
	char out[2048];
	size_t n = sip_build_cancel(inv, out, sizeof(out));
	assert_int_not_equal(n, 0);
	struct sip_msg *c = parse(out, n);
	assert_int_equal(c->method, SIP_METHOD_CANCEL);
	assert_true(str_eq(c->ruri_str, inv->ruri_str));
	assert_true(str_is(c->via->branch, "z9hG4bKp1"));
	assert_null(c->via->next);
	assert_true(str_eq(c->call_id, inv->call_id));
	assert_true(str_eq(c->from->raw, inv->from->raw));
	assert_true(str_eq(c->to->raw, inv->to->raw));
	assert_int_equal(c->cseq, 314159);
	assert_int_equal(c->cseq_method, SIP_METHOD_CANCEL);
	assert_true(str_is(c->route->uri.host, "p1.example.com"));
	assert_true(str_is(c->route->next->uri.host, "p2.example.com"));
	assert_true(c->max_forwards > 0);
	assert_int_equal(c->content_length, 0);
	assert_int_equal(sip_build_cancel(inv, out, n - 1), 0);
	sip_msg_free(c);
	sip_msg_free(inv);
}

/* RFC 3261 §17.1.1.3: ACK for a non-2xx: the INVITE's Request-URI, top Via,
 * From, Call-ID, CSeq number and Route; the response's To (with its tag). */
static void test_ack(void **state)
{
	static const char rsp486[] =
	    "SIP/2.0 486 Busy Here" CRLF "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1" CRLF
	    "To: Bob <sip:bob@biloxi.example.com>;tag=8321234356" CRLF
	    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
	    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314159 INVITE" CRLF
	    "Content-Length: 0" CRLF CRLF;
	struct sip_msg *inv = parse(invite, strlen(invite));
	struct sip_msg *rsp = parse(rsp486, strlen(rsp486));
	char out[2048];
	size_t n = sip_build_ack(inv, rsp, out, sizeof(out));
	assert_int_not_equal(n, 0);
	struct sip_msg *a = parse(out, n);
	assert_int_equal(a->method, SIP_METHOD_ACK);
	assert_true(str_eq(a->ruri_str, inv->ruri_str));
	assert_true(str_is(a->via->branch, "z9hG4bKp1"));
	assert_null(a->via->next);
	assert_true(str_is(a->to->tag, "8321234356"));
	assert_true(str_is(a->from->tag, "1928301774"));
	assert_int_equal(a->cseq, 314159);
	assert_int_equal(a->cseq_method, SIP_METHOD_ACK);
	assert_true(str_is(a->route->uri.host, "p1.example.com"));
	assert_true(str_is(a->route->next->uri.host, "p2.example.com"));
	sip_msg_free(a);
	sip_msg_free(rsp);
	sip_msg_free(inv);
}

/* RFC 3261 §19.3: tags and branches are random; tokens are [0-9a-z], of the
 * requested length, NUL-terminated, and do not repeat. */
static void test_random_token(void **state)
{
	char a[33], b[33];
	memset(a, 'X', sizeof(a));
	sip_random_token(a, 32);
	sip_random_token(b, 32);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strlen(b), 32);
	assert_string_not_equal(a, b);
	int seen[36] = {0};
	for (int round = 0; round < 50; round++) {
		char t[25];
		sip_random_token(t, 24);
		for (int i = 0; i < 24; i++) {
			char c = t[i];
			assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
			seen[c <= '9' ? c - '0' : c - 'a' + 10]++;
		}
	}
	/* 1200 draws over 36 symbols: every symbol shows up. */
	for (int i = 0; i < 36; i++)
		assert_true(seen[i] > 0);
	char z[1] = {'X'};
	sip_random_token(z, 0);
	assert_int_equal(z[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_response_200),
	    cmocka_unit_test(test_response_100_no_tag),
	    cmocka_unit_test(test_response_existing_tag),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_ack),
	    cmocka_unit_test(test_random_token),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
