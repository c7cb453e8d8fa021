/* proxy_test.h — request builders shared by the proxy's unit tests
 * (tests/unit/proxy/), on top of the whole-proxy harness. */
#ifndef SIPPROXY_TESTS_PROXY_TEST_H
#define SIPPROXY_TESTS_PROXY_TEST_H

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/stats.h"
#include "proxy_harness.h"

/* A request from an endpoint at src ("ip:port", UDP, rport) with extra
 * header lines (each ending in \r\n, may be ""). */
static inline const char *test_req(char *buf, size_t cap, const char *method, const char *ruri,
				   const char *src, const char *call_id, const char *extra)
{
	const char *proto = strchr(src, '[') ? "UDP" : "UDP";
	snprintf(buf, cap,
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:caller@example.com>;tag=f-%s\r\n"
		 "To: <sip:callee@example.com>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "Contact: <sip:caller@%s>\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, proto, src, call_id, call_id, call_id, method, src, extra);
	return buf;
}

/* A request whose Via field value is via (whole: "SIP/2.0/UDP h;branch=..."),
 * with Max-Forwards mf and extra header lines (may be ""). */
static inline const char *test_req_via(char *buf, size_t cap, const char *method, const char *ruri,
				       const char *via, int mf, const char *call_id,
				       const char *extra)
{
	snprintf(buf, cap,
		 "%s %s SIP/2.0\r\n"
		 "Via: %s\r\n"
		 "Max-Forwards: %d\r\n"
		 "From: <sip:caller@example.com>;tag=f-%s\r\n"
		 "To: <sip:callee@example.com>\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: 1 %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, via, mf, call_id, call_id, method, extra);
	return buf;
}

/* An in-dialog request from src ("ip:port", UDP) in the dialog test_req
 * started with call_id and harness_reply answered (To tag "h-uas-tag"):
 * route is the Route field value ("" for none), cseq its CSeq number. */
static inline const char *test_dialog_req(char *buf, size_t cap, const char *method,
					  const char *ruri, const char *src, const char *route,
					  const char *call_id, unsigned cseq)
{
	snprintf(buf, cap,
		 "%s %s SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s;branch=z9hG4bK-%s-%s%u;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "%s%s%s"
		 "From: <sip:caller@example.com>;tag=f-%s\r\n"
		 "To: <sip:callee@example.com>;tag=h-uas-tag\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %u %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 method, ruri, src, call_id, method, cseq, route[0] ? "Route: " : "", route,
		 route[0] ? "\r\n" : "", call_id, call_id, cseq, method);
	return buf;
}

static inline struct harness *test_harness(const char *extra)
{
	struct harness *h = harness_new(extra);
	assert_non_null(h);
	return h;
}

static inline struct proxy_stats test_stats(struct harness *h)
{
	struct proxy_stats s;
	harness_stats(h, &s);
	return s;
}

/* The status of the last response sent to dest ("ip:port"), 0 if none. */
static inline int test_last_status(struct harness *h, const char *dest)
{
	for (size_t i = harness_count(h); i-- > 0;) {
		const struct harness_out *o = harness_out(h, i);
		char a[64];
		if (o->msg && !o->msg->is_request &&
		    strcmp(tp_addr_str(&o->dest.addr, a, sizeof(a)), dest) == 0)
			return o->msg->status;
	}
	return 0;
}

/* ---- registered endpoints and forked calls (RFC 3261 §10.3, §16.5) ---- */

#define TEST_DOMAIN "sipproxy.test"

/* A REGISTER for sip:<user>@sipproxy.test from src ("ip:port"), Via over
 * UDP or TCP, binding contact (a whole Contact value, "<sip:...>;q=0.5"),
 * with extra header lines (each ending in \r\n, may be ""). */
static inline const char *test_register_msg(char *buf, size_t cap, const char *user,
					    const char *src, bool tcp, const char *contact,
					    const char *call_id, unsigned cseq, const char *extra)
{
	snprintf(buf, cap,
		 "REGISTER sip:" TEST_DOMAIN " SIP/2.0\r\n"
		 "Via: SIP/2.0/%s %s;branch=z9hG4bK-%s-%u;rport\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:%s@" TEST_DOMAIN ">;tag=r-%s\r\n"
		 "To: <sip:%s@" TEST_DOMAIN ">\r\n"
		 "Call-ID: %s\r\n"
		 "CSeq: %u REGISTER\r\n"
		 "Contact: %s\r\n"
		 "%s"
		 "Content-Length: 0\r\n\r\n",
		 tcp ? "TCP" : "UDP", src, call_id, cseq, user, call_id, user, call_id, cseq,
		 contact, extra);
	return buf;
}

/* Registers contact for user from src (over the TCP connection conn when
 * non-zero, else UDP): the proxy forwards the REGISTER to the SIP Server,
 * which answers 200 (with rsp_extra lines, NULL = none: the request's
 * Contact expires counts). Returns whether that 200 reached src. The
 * Call-ID is src+contact, so a later call with the same pair refreshes. */
static inline bool test_register_ex(struct harness *h, const char *user, const char *src,
				    uint64_t conn, const char *contact, const char *extra,
				    const char *rsp_extra)
{
	static unsigned cseq;
	char msg[4096], cid[256];
	snprintf(cid, sizeof(cid), "reg-%s-%s-%s", user, src, contact);
	for (char *c = cid; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
			*c = '_';
	test_register_msg(msg, sizeof(msg), user, src, conn != 0, contact, cid, ++cseq, extra);
	size_t before = harness_count(h);
	if (conn)
		harness_tcp(h, conn, msg);
	else
		harness_udp(h, src, msg);
	const struct harness_out *fwd = harness_find(h, "REGISTER ", HARNESS_SERVER);
	if (!fwd || (size_t)(fwd - harness_out(h, 0)) < before)
		return false;
	harness_reply(h, fwd, 200, rsp_extra);
	const struct harness_out *ok = harness_find(h, "SIP/2.0 200", src);
	return ok && (size_t)(ok - harness_out(h, 0)) >= before;
}

/* The common case: user binds contact from src over UDP, 300 s. */
static inline void test_register(struct harness *h, const char *user, const char *src,
				 const char *contact)
{
	assert_true(test_register_ex(h, user, src, 0, contact, "Expires: 300\r\n", NULL));
}

/* A request from the SIP Server (trusted) for sip:<user>@sipproxy.test with
 * extra header lines: the proxy forks it to user's bindings. */
static inline void test_server_call(struct harness *h, const char *method, const char *user,
				    const char *call_id, const char *extra)
{
	char msg[4096], ruri[256];
	snprintf(ruri, sizeof(ruri), "sip:%s@" TEST_DOMAIN, user);
	harness_udp(h, HARNESS_SERVER,
		    test_req(msg, sizeof(msg), method, ruri, HARNESS_SERVER, call_id, extra));
}

/* The last request starting with prefix ("INVITE ") sent to dest; fails
 * the test when there is none. */
static inline const struct harness_out *test_sent(struct harness *h, const char *prefix,
						  const char *dest)
{
	const struct harness_out *o = harness_find(h, prefix, dest);
	if (!o)
		fail_msg("nothing starting with \"%s\" was sent to %s", prefix,
			 dest ? dest : "anyone");
	assert_non_null(o->msg);
	return o;
}

/* Places a forked call: method from the SIP Server to user, and in br[i] the
 * request the proxy sent to dests[i] ("ip:port"), failing when one of them
 * got none. */
static inline void test_fork(struct harness *h, const char *method, const char *user,
			     const char *call_id, const char *const *dests, size_t n,
			     const struct harness_out **br)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "%s ", method);
	test_server_call(h, method, user, call_id, "");
	for (size_t i = 0; i < n; i++)
		br[i] = test_sent(h, prefix, dests[i]);
}

/* How many final responses (>= 200) were sent to dest ("ip:port"). */
static inline size_t test_finals_to(struct harness *h, const char *dest)
{
	size_t n = 0;
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		char a[64];
		if (o->msg && !o->msg->is_request && o->msg->status >= 200 &&
		    strcmp(tp_addr_str(&o->dest.addr, a, sizeof(a)), dest) == 0)
			n++;
	}
	return n;
}

/* How many times needle occurs in the message o. */
static inline size_t test_occurrences(const struct harness_out *o, const char *needle)
{
	size_t n = 0;
	for (const char *p = o->buf; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

/* Prints what the proxy sent (for a failing test's diagnosis). */
static inline void test_dump(struct harness *h)
{
	for (size_t i = 0; i < harness_count(h); i++) {
		const struct harness_out *o = harness_out(h, i);
		char a[64];
		fprintf(stderr, "---- #%zu to %s conn=%llu\n%s", i,
			tp_addr_str(&o->dest.addr, a, sizeof(a)), (unsigned long long)o->conn_id,
			o->buf ? o->buf : "(null)\n");
	}
}

#endif
