/* test_edit.c — the message editor: every op round-trips (parse, edit, write,
 * parse again), RFC 3261 §16.6 proxy edits combined on a real INVITE with SDP,
 * §16.7 step 3 Via removal and §16.4 Route removal inside multi-value fields,
 * compact forms (§7.3.3), error paths and the exact size contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sip/edit.h"
#include "sip/msg.h"

#define CRLF "\r\n"

static const char invite_sdp[] =
    "INVITE sip:bob@biloxi.example.com SIP/2.0" CRLF
    "Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds" CRLF "Max-Forwards: 70" CRLF
    "Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>" CRLF
    "To: Bob <sip:bob@biloxi.example.com>" CRLF
    "From: Alice <sip:alice@atlanta.example.com>;tag=1928301774" CRLF
    "Call-ID: a84b4c76e66710@pc33.atlanta.example.com" CRLF "CSeq: 314159 INVITE" CRLF
    "Contact: <sip:alice@pc33.atlanta.example.com>" CRLF "Content-Type: application/sdp" CRLF
    "Content-Length: 127" CRLF CRLF "v=0" CRLF
    "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com" CRLF "s=-" CRLF
    "c=IN IP4 192.0.2.101" CRLF "t=0 0" CRLF "m=audio 49172 RTP/AVP 0" CRLF;

static const char sdp_body[] =
    "v=0" CRLF "o=alice 2890844526 2890844526 IN IP4 pc33.atlanta.example.com" CRLF "s=-" CRLF
    "c=IN IP4 192.0.2.101" CRLF "t=0 0" CRLF "m=audio 49172 RTP/AVP 0" CRLF;

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

static struct sip_msg *parse_s(const char *text)
{
	return parse(text, strlen(text));
}

/* Serialises the edit, checks sip_edit_size is exact, and parses the result. */
static struct sip_msg *write_reparse(const struct sip_edit *e, char *out, size_t cap)
{
	size_t want = sip_edit_size(e);
	assert_int_not_equal(want, 0);
	assert_true(want < cap);
	size_t n = sip_edit_write(e, out, cap);
	assert_int_equal(n, want);
	out[n] = '\0';
	return parse(out, n);
}

static unsigned count_hdrs(const struct sip_msg *m, enum sip_hdr_id id)
{
	unsigned n = 0;
	for (const struct sip_hdr *h = m->first[id]; h; h = h->next_id)
		n++;
	return n;
}

static bool str_is(struct str s, const char *c)
{
	return str_eq(s, str_cstr(c));
}

/* RFC 3261 §16.6 step 6: the Request-URI is replaced. */
static void test_ruri(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_ruri(&e, STR_LIT("sip:bob@192.0.2.4:5062;transport=tcp")), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_true(str_is(m2->ruri_str, "sip:bob@192.0.2.4:5062;transport=tcp"));
	assert_int_equal(m2->ruri.port, 5062);
	assert_true(str_is(m2->body, sdp_body));
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §16.6 step 3: Max-Forwards decremented, or added when absent. */
static void test_max_forwards(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_max_forwards(&e, 69), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_int_equal(m2->max_forwards, 69);
	assert_int_equal(count_hdrs(m2, SIP_HDR_MAX_FORWARDS), 1);
	sip_msg_free(m2);
	sip_msg_free(m);

	m = parse_s("OPTIONS sip:x@example.com SIP/2.0" CRLF
		    "v: SIP/2.0/UDP h.example.com;branch=z9hG4bKa1" CRLF
		    "f: <sip:a@example.com>;tag=1" CRLF "t: <sip:x@example.com>" CRLF "i: c1" CRLF
		    "CSeq: 1 OPTIONS" CRLF "l: 0" CRLF CRLF);
	assert_int_equal(m->max_forwards, -1);
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_max_forwards(&e, 70), 0);
	m2 = write_reparse(&e, out, sizeof(out));
	assert_int_equal(m2->max_forwards, 70);
	/* Added right after the (compact) Via. */
	assert_non_null(strstr(out, "branch=z9hG4bKa1" CRLF "Max-Forwards: 70" CRLF));
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §16.6 step 8: the proxy's Via becomes the topmost. */
static void test_via_push(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(
	    sip_edit_via_push(&e, STR_LIT("SIP/2.0/TCP 127.0.0.1:15100;branch=z9hG4bKp1")), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_non_null(m2->via);
	assert_true(str_is(m2->via->branch, "z9hG4bKp1"));
	assert_true(str_is(m2->via->transport, "TCP"));
	assert_non_null(m2->via->next);
	assert_true(str_is(m2->via->next->branch, "z9hG4bK776asdhds"));
	assert_null(m2->via->next->next);
	assert_int_equal(count_hdrs(m2, SIP_HDR_VIA), 2);
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §16.7 step 3: top Via removed; a lone value takes its field. */
static void test_via_pop_single(void **state)
{
	struct sip_msg *m =
	    parse_s("SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bKp1" CRLF
		    "Via: SIP/2.0/UDP ua.example.com;branch=z9hG4bKu1" CRLF
		    "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>;tag=2" CRLF
		    "Call-ID: c2" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_via_pop(&e), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_true(str_is(m2->via->branch, "z9hG4bKu1"));
	assert_null(m2->via->next);
	assert_int_equal(count_hdrs(m2, SIP_HDR_VIA), 1);
	assert_true(strncmp(out, "SIP/2.0 200 OK" CRLF "Via: SIP/2.0/UDP ua.", 36) == 0);
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §7.3.1 + §16.7 step 3: top value of a multi-value Via field goes
 * with its comma; the field and the other values stay; compact "v:" alike. */
static void test_via_pop_multi(void **state)
{
	static const char *const forms[] = {"Via", "v"};
	for (int f = 0; f < 2; f++) {
		char text[1024];
		snprintf(
		    text, sizeof(text),
		    "SIP/2.0 180 Ringing" CRLF
		    "%s: SIP/2.0/UDP p.example.com;branch=z9hG4bKp1 ,  SIP/2.0/UDP "
		    "q.example.com;branch=z9hG4bKq1,SIP/2.0/UDP u.example.com;branch=z9hG4bKu1" CRLF
		    "f: <sip:a@example.com>;tag=1" CRLF "t: <sip:b@example.com>;tag=2" CRLF
		    "i: c3" CRLF "CSeq: 1 INVITE" CRLF "l: 0" CRLF CRLF,
		    forms[f]);
		struct sip_msg *m = parse_s(text);
		struct sip_edit e;
		char out[4096];
		sip_edit_init(&e, m);
		assert_int_equal(sip_edit_via_pop(&e), 0);
		struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
		assert_int_equal(count_hdrs(m2, SIP_HDR_VIA), 1);
		assert_true(str_is(m2->via->branch, "z9hG4bKq1"));
		assert_true(str_is(m2->via->next->branch, "z9hG4bKu1"));
		assert_null(m2->via->next->next);
		char want[128];
		snprintf(want, sizeof(want), "%s: SIP/2.0/UDP q.example.com;", forms[f]);
		assert_non_null(strstr(out, want));
		sip_msg_free(m2);
		sip_msg_free(m);
	}
}

/* RFC 3261 §16.4: the top Route value (ours) removed from a multi-value field;
 * §16.6 step 6 / §16.12.1.2 strict routing: the last value removed. */
static void test_route_remove(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_non_null(m->route);
	assert_int_equal(sip_edit_route_remove(&e, m->route), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_non_null(m2->route);
	assert_true(str_is(m2->route->uri.host, "p2.example.com"));
	assert_null(m2->route->next);
	assert_non_null(strstr(out, "Route: <sip:p2.example.com;lr>" CRLF));
	sip_msg_free(m2);

	/* Last value. */
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_route_remove(&e, m->route->next), 0);
	m2 = write_reparse(&e, out, sizeof(out));
	assert_true(str_is(m2->route->uri.host, "p1.example.com"));
	assert_null(m2->route->next);
	assert_non_null(strstr(out, "Route: <sip:p1.example.com;lr>" CRLF));
	sip_msg_free(m2);

	/* Both values: the first removal leaves ", <p2>", the second removes from
	 * the comma — overlap, so the proxy must use header_remove instead. */
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_header_remove(&e, m->route->hdr), 0);
	m2 = write_reparse(&e, out, sizeof(out));
	assert_null(m2->route);
	assert_int_equal(count_hdrs(m2, SIP_HDR_ROUTE), 0);
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* Route push/append (pre-loaded routes, RFC 3261 §8.1.2 / RFC 3327 Path). */
static void test_route_push_append(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_route_push(&e, STR_LIT("<sip:top.example.com;lr>")), 0);
	assert_int_equal(sip_edit_route_append(&e, STR_LIT("<sip:end.example.com;lr>")), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	const char *hosts[] = {"top.example.com", "p1.example.com", "p2.example.com",
			       "end.example.com"};
	const struct sip_addr *r = m2->route;
	for (int i = 0; i < 4; i++, r = r->next) {
		assert_non_null(r);
		assert_true(str_is(r->uri.host, hosts[i]));
	}
	assert_null(r);
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §16.6 step 4: Record-Route pushed above existing ones; a second push
 * (RFC 5658 double record-routing) lands above the first. */
static void test_record_route_push_twice(void **state)
{
	struct sip_msg *m =
	    parse_s("INVITE sip:b@example.com SIP/2.0" CRLF
		    "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu1" CRLF
		    "Record-Route: <sip:old.example.com;lr>" CRLF
		    "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>" CRLF
		    "Call-ID: c4" CRLF "CSeq: 1 INVITE" CRLF "Content-Length: 0" CRLF CRLF);
	for (int existing = 1; existing >= 0; existing--) {
		struct sip_edit e;
		char out[4096];
		struct sip_msg *src = m;
		if (!existing)
			src = parse_s("INVITE sip:b@example.com SIP/2.0" CRLF
				      "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu1" CRLF
				      "From: <sip:a@example.com>;tag=1" CRLF
				      "To: <sip:b@example.com>" CRLF "Call-ID: c4" CRLF
				      "CSeq: 1 INVITE" CRLF CRLF);
		sip_edit_init(&e, src);
		assert_int_equal(sip_edit_record_route_push(&e, STR_LIT("<sip:in.example.com;lr>")),
				 0);
		assert_int_equal(
		    sip_edit_record_route_push(&e, STR_LIT("<sip:out.example.com;lr>")), 0);
		struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
		const struct sip_addr *rr = m2->record_route;
		assert_non_null(rr);
		assert_true(str_is(rr->uri.host, "out.example.com"));
		assert_non_null(rr->next);
		assert_true(str_is(rr->next->uri.host, "in.example.com"));
		if (existing) {
			assert_non_null(rr->next->next);
			assert_true(str_is(rr->next->next->uri.host, "old.example.com"));
		} else {
			assert_null(rr->next->next);
		}
		sip_msg_free(m2);
		if (src != m)
			sip_msg_free(src);
	}
	sip_msg_free(m);
}

/* RFC 3261 §18.3 / §20.14: Content-Length added when absent (UDP may omit it,
 * TCP requires it), rewritten when not exact; compact "l:" alike. */
static void test_content_length(void **state)
{
	char text[1024], out[4096];
	struct sip_edit e;
	snprintf(text, sizeof(text),
		 "MESSAGE sip:b@example.com SIP/2.0" CRLF
		 "Via: SIP/2.0/UDP u.example.com;branch=z9hG4bKu1" CRLF
		 "From: <sip:a@example.com>;tag=1" CRLF "To: <sip:b@example.com>" CRLF
		 "Call-ID: c5" CRLF "CSeq: 1 MESSAGE" CRLF "Content-Type: text/plain" CRLF CRLF
		 "hello world");
	struct sip_msg *m = parse_s(text);
	assert_int_equal(m->content_length, -1);
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_content_length(&e), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_int_equal(m2->content_length, 11);
	assert_true(str_is(m2->body, "hello world"));
	sip_msg_free(m2);
	sip_msg_free(m);

	/* Non-canonical compact value rewritten; an exact one left alone. */
	snprintf(text, sizeof(text),
		 "MESSAGE sip:b@example.com SIP/2.0" CRLF
		 "v: SIP/2.0/UDP u.example.com;branch=z9hG4bKu1" CRLF
		 "f: <sip:a@example.com>;tag=1" CRLF "t: <sip:b@example.com>" CRLF "i: c6" CRLF
		 "CSeq: 1 MESSAGE" CRLF "l: 0011" CRLF CRLF "hello world");
	m = parse_s(text);
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_content_length(&e), 0);
	assert_int_equal(e.nops, 1);
	m2 = write_reparse(&e, out, sizeof(out));
	assert_non_null(strstr(out, CRLF "l: 11" CRLF CRLF "hello world"));
	assert_int_equal(count_hdrs(m2, SIP_HDR_CONTENT_LENGTH), 1);
	sip_edit_init(&e, m2);
	assert_int_equal(sip_edit_content_length(&e), 0);
	assert_int_equal(e.nops, 0);
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* header_add goes just before the empty line (RFC 3261 §7: headers, CRLF,
 * body); header_remove drops a whole field. */
static void test_header_add_remove(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_header_add(&e, STR_LIT("X-Trace"), STR_LIT("abc")), 0);
	assert_int_equal(sip_edit_header_remove(&e, sip_msg_hdr(m, SIP_HDR_CONTACT)), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_non_null(strstr(out, "Content-Length: 127" CRLF "X-Trace: abc" CRLF CRLF "v=0"));
	assert_null(m2->contact);
	struct sip_hdr *h = sip_msg_hdr_by_name(m2, STR_LIT("x-trace"));
	assert_non_null(h);
	assert_true(str_is(h->value, "abc"));
	assert_true(str_is(m2->body, sdp_body));
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §7.3.3: compact forms are edited like long ones (v:, l:, m:). */
static void test_compact_forms(void **state)
{
	static const char text[] =
	    "INVITE sip:b@example.com SIP/2.0" CRLF
	    "v: SIP/2.0/UDP a.example.com;branch=z9hG4bKa" CRLF
	    "v: SIP/2.0/TCP b.example.com;branch=z9hG4bKb" CRLF "f: <sip:a@example.com>;tag=9" CRLF
	    "t: <sip:b@example.com>" CRLF "i: cc1" CRLF "CSeq: 5 INVITE" CRLF
	    "m: <sip:a@192.0.2.9>" CRLF "c: text/plain" CRLF "l: 3" CRLF CRLF "abc";
	struct sip_msg *m = parse_s(text);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(
	    sip_edit_via_push(&e, STR_LIT("SIP/2.0/UDP p.example.com;branch=z9hG4bKp")), 0);
	assert_int_equal(sip_edit_max_forwards(&e, 70), 0);
	assert_int_equal(sip_edit_header_remove(&e, sip_msg_hdr(m, SIP_HDR_CONTACT)), 0);
	assert_int_equal(sip_edit_content_length(&e), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));
	assert_true(str_is(m2->via->branch, "z9hG4bKp"));
	assert_true(str_is(m2->via->next->branch, "z9hG4bKa"));
	assert_true(str_is(m2->via->next->next->branch, "z9hG4bKb"));
	assert_int_equal(count_hdrs(m2, SIP_HDR_VIA), 3);
	/* Max-Forwards lands after the last (compact) Via field. */
	assert_non_null(strstr(out, "branch=z9hG4bKb" CRLF "Max-Forwards: 70" CRLF));
	assert_null(m2->contact);
	assert_int_equal(m2->content_length, 3);
	assert_true(str_is(m2->body, "abc"));
	sip_msg_free(m2);

	/* Pop of a lone compact Via value removes its whole field. */
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_via_pop(&e), 0);
	m2 = write_reparse(&e, out, sizeof(out));
	assert_true(str_is(m2->via->branch, "z9hG4bKb"));
	assert_null(m2->via->next);
	assert_null(strstr(out, "z9hG4bKa"));
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* RFC 3261 §16.6 steps 3, 4, 6, 8 and §16.4 at once on an INVITE with SDP. */
static void test_combined_proxy_edits(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_route_remove(&e, m->route), 0);
	assert_int_equal(sip_edit_ruri(&e, STR_LIT("sip:bob@192.0.2.4")), 0);
	assert_int_equal(sip_edit_max_forwards(&e, (unsigned)m->max_forwards - 1), 0);
	assert_int_equal(sip_edit_record_route_push(&e, STR_LIT("<sip:10.0.0.1;lr;r2=on>")), 0);
	assert_int_equal(sip_edit_record_route_push(&e, STR_LIT("<sip:192.0.2.1;lr;r2=on>")), 0);
	assert_int_equal(
	    sip_edit_via_push(&e, STR_LIT("SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKpx;rport")), 0);
	assert_int_equal(sip_edit_content_length(&e), 0);
	struct sip_msg *m2 = write_reparse(&e, out, sizeof(out));

	assert_int_equal(m2->method, SIP_METHOD_INVITE);
	assert_true(str_is(m2->ruri_str, "sip:bob@192.0.2.4"));
	assert_int_equal(m2->max_forwards, 69);
	assert_true(str_is(m2->via->branch, "z9hG4bKpx"));
	assert_true(m2->via->has_rport);
	assert_true(str_is(m2->via->next->branch, "z9hG4bK776asdhds"));
	assert_true(str_is(m2->record_route->uri.host, "192.0.2.1"));
	assert_true(str_is(m2->record_route->next->uri.host, "10.0.0.1"));
	assert_null(m2->record_route->next->next);
	assert_true(str_is(m2->route->uri.host, "p2.example.com"));
	assert_null(m2->route->next);
	assert_true(str_is(m2->call_id, "a84b4c76e66710@pc33.atlanta.example.com"));
	assert_int_equal(m2->cseq, 314159);
	assert_true(str_is(m2->from->tag, "1928301774"));
	assert_int_equal(m2->content_length, (long)strlen(sdp_body));
	assert_true(str_is(m2->body, sdp_body));
	sip_msg_free(m2);
	sip_msg_free(m);
}

/* Contract of edit.h: ops never overlap, at most SIP_EDIT_MAX_OPS, inserted text
 * must fit the scratch; a failed edit writes nothing. */
static void test_errors(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];

	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_ruri(&e, STR_LIT("sip:x@example.com")), 0);
	assert_int_equal(sip_edit_ruri(&e, STR_LIT("sip:y@example.com")), -1);
	assert_true(e.failed);
	assert_int_equal(sip_edit_size(&e), 0);
	assert_int_equal(sip_edit_write(&e, out, sizeof(out)), 0);
	/* Once failed, stays failed. */
	assert_int_equal(sip_edit_max_forwards(&e, 1), -1);

	/* Insert strictly inside a deleted range overlaps; at its edges it does not. */
	sip_edit_init(&e, m);
	const char *mf = sip_msg_hdr(m, SIP_HDR_MAX_FORWARDS)->raw.p;
	assert_int_equal(sip_edit_replace(&e, mf, 10, STR_NULL), 0);
	assert_int_equal(sip_edit_replace(&e, mf, 0, STR_LIT("A")), 0);
	assert_int_equal(sip_edit_replace(&e, mf + 10, 0, STR_LIT("B")), 0);
	assert_int_equal(e.failed, 0);
	size_t n = sip_edit_write(&e, out, sizeof(out) - 1);
	assert_int_equal(n, m->len - 10 + 2);
	out[n] = '\0';
	assert_non_null(strstr(out, CRLF "ABds: 70" CRLF));
	assert_int_equal(sip_edit_replace(&e, mf + 3, 0, STR_LIT("C")), -1);

	sip_edit_init(&e, m);
	for (int i = 0; i < SIP_EDIT_MAX_OPS; i++)
		assert_int_equal(sip_edit_header_add(&e, STR_LIT("X-N"), STR_LIT("1")), 0);
	assert_int_equal(sip_edit_header_add(&e, STR_LIT("X-N"), STR_LIT("1")), -1);
	assert_int_equal(sip_edit_size(&e), 0);

	/* Scratch overflow. */
	static char big[SIP_EDIT_SCRATCH];
	memset(big, 'a', sizeof(big));
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_header_add(&e, STR_LIT("X-Big"), str_make(big, sizeof(big))), -1);
	assert_true(e.failed);

	/* Out of the buffer. */
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_replace(&e, m->buf + m->len - 2, 5, STR_NULL), -1);

	sip_msg_free(m);
}

/* sip_edit_size is exact: the write needs exactly that many bytes, one fewer
 * fails, and an empty edit reproduces the message byte for byte. */
static void test_exact_size(void **state)
{
	struct sip_msg *m = parse_s(invite_sdp);
	struct sip_edit e;
	char out[4096];
	sip_edit_init(&e, m);
	assert_int_equal(sip_edit_size(&e), m->len);
	assert_int_equal(sip_edit_write(&e, out, m->len), m->len);
	assert_memory_equal(out, invite_sdp, m->len);

	assert_int_equal(sip_edit_via_push(&e, STR_LIT("SIP/2.0/UDP h;branch=z9hG4bK1")), 0);
	assert_int_equal(sip_edit_max_forwards(&e, 9), 0);
	size_t want = m->len + strlen("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n") - 1;
	assert_int_equal(sip_edit_size(&e), want);
	assert_int_equal(sip_edit_write(&e, out, want - 1), 0);
	assert_int_equal(sip_edit_write(&e, out, want), want);
	sip_msg_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ruri),
	    cmocka_unit_test(test_max_forwards),
	    cmocka_unit_test(test_via_push),
	    cmocka_unit_test(test_via_pop_single),
	    cmocka_unit_test(test_via_pop_multi),
	    cmocka_unit_test(test_route_remove),
	    cmocka_unit_test(test_route_push_append),
	    cmocka_unit_test(test_record_route_push_twice),
	    cmocka_unit_test(test_content_length),
	    cmocka_unit_test(test_header_add_remove),
	    cmocka_unit_test(test_compact_forms),
	    cmocka_unit_test(test_combined_proxy_edits),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_exact_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
