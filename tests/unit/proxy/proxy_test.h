/* proxy_test.h — request builders shared by the proxy's unit tests
 * (tests/unit/proxy/), on top of the whole-proxy harness. */
#ifndef SIPPROXY_TESTS_PROXY_TEST_H
#define SIPPROXY_TESTS_PROXY_TEST_H

#include <setjmp.h>
#include <stdarg.h>
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

#endif
