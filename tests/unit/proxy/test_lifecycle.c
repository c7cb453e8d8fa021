/* test_lifecycle.c — a response context and its branches have one owner each
 * and are freed only when the outermost call returns (ctx.c): a next hop that
 * fails at once (no such transport, an unresolvable host) gets its final
 * response and leaves nothing behind, under ASan; Timer C after an unanswered
 * CANCEL (RFC 3261 §16.8, §9.1) ends the request with 408 and, 64*T1 later,
 * the INVITE client transaction itself; drain (SIGTERM) is over as soon as no
 * transaction can still send anything. */
#include "proxy_test.h"

#include "app/app.h"

/* The crash: a non-INVITE from an endpoint whose next hop fails
 * synchronously (start -> forward -> fail -> finish -> free -> read). */
static void test_sync_failure_frees_once(void **state)
{
	(void)state;
	static const char *const ruris[] = {
	    "sip:x@127.0.0.3:5090;transport=sctp", "sip:x@127.0.0.3:5090;transport=tls",
	    "sip:x@127.0.0.3:5090;transport=ws",   "sip:x@127.0.0.3:5090;transport=wss",
	    "sip:x@127.0.0.3:5090;transport=foo",  "sips:x@127.0.0.3:5090",
	};
	struct harness *h = test_harness(NULL);
	char msg[4096], cid[32];
	int n = 0;
	for (size_t i = 0; i < sizeof(ruris) / sizeof(ruris[0]); i++) {
		for (int route = 0; route < 2; route++) {
			char extra[512] = "", ruri[512];
			snprintf(ruri, sizeof(ruri), "%s", ruris[i]);
			if (route) {
				snprintf(extra, sizeof(extra), "Route: <%s;lr>\r\n", ruris[i]);
				snprintf(ruri, sizeof(ruri), "sip:x@127.0.0.3:5090");
			}
			snprintf(cid, sizeof(cid), "sync-%d", n++);
			harness_udp(h, "127.0.0.20:5000",
				    test_req(msg, sizeof(msg), "OPTIONS", ruri, "127.0.0.20:5000",
					     cid, extra));
			int st = test_last_status(h, "127.0.0.20:5000");
			assert_true(st >= 400 || harness_find(h, "OPTIONS ", HARNESS_SERVER));
			harness_clear(h);
		}
	}
	/* a 300-character host */
	char host[301];
	memset(host, 'a', 300);
	host[300] = '\0';
	char ruri[400];
	snprintf(ruri, sizeof(ruri), "sip:x@%s", host);
	harness_udp(h, "127.0.0.3:5090",
		    test_req(msg, sizeof(msg), "OPTIONS", ruri, "127.0.0.3:5090", "longhost", ""));
	assert_true(test_last_status(h, "127.0.0.3:5090") >= 400);
	harness_advance(h, 70000);
	assert_int_equal(test_stats(h).contexts_active, 0);
	harness_free(h);
}

/* §16.8 / §9.1: Timer C fires on a ringing branch, the proxy CANCELs it, the
 * downstream never answers the CANCEL nor the INVITE: after 64*T1 the
 * branch ends and the caller gets 408; nothing is left afterwards. */
static void test_timer_c_after_unanswered_cancel(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, "127.0.0.20:5000",
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", "127.0.0.20:5000",
			     "tc1", ""));
	const struct harness_out *inv = harness_find(h, "INVITE ", HARNESS_SERVER);
	assert_non_null(inv);
	harness_reply(h, inv, 180, NULL);
	assert_non_null(harness_find(h, "SIP/2.0 180", "127.0.0.20:5000"));
	harness_advance(h, 180000 + 20); /* Timer C */
	assert_non_null(harness_find(h, "CANCEL ", HARNESS_SERVER));
	assert_null(harness_find(h, "SIP/2.0 408", "127.0.0.20:5000"));
	harness_advance(h, 64 * 500 + 20); /* §9.1: 64*T1 after the CANCEL */
	assert_non_null(harness_find(h, "SIP/2.0 408", "127.0.0.20:5000"));
	harness_advance(h, 64 * 500 + 5000);
	struct proxy_stats s = test_stats(h);
	assert_int_equal(s.contexts_active, 0);
	harness_free(h);
}

/* §9.1: the client transaction of an INVITE given up on in Proceeding ends
 * 64*T1 later (fuzz_proxy, regress_proxy/invite-proceeding-leak: it stayed in
 * the table forever, no timer running in Proceeding); a final arriving in
 * between is still ACKed hop by hop (§17.1.1.3). */
static void test_abandoned_invite_transaction_ends(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	for (int late = 0; late < 2; late++) {
		char cid[16];
		snprintf(cid, sizeof(cid), "ab%d", late);
		harness_udp(h, "127.0.0.20:5000",
			    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test",
				     "127.0.0.20:5000", cid, ""));
		const struct harness_out *inv = harness_find(h, "INVITE ", HARNESS_SERVER);
		assert_non_null(inv);
		harness_reply(h, inv, 180, NULL);
		harness_advance(h, 180000 + 20);   /* Timer C: CANCEL */
		harness_advance(h, 64 * 500 + 20); /* no answer: 408 upstream */
		assert_non_null(harness_find(h, "SIP/2.0 408", "127.0.0.20:5000"));
		assert_null(harness_find(h, "ACK ", HARNESS_SERVER));
		if (late) {
			harness_reply(h, inv, 487, NULL);
			assert_non_null(harness_find(h, "ACK ", HARNESS_SERVER));
		}
		harness_advance(h, 64 * 500 + 5000);
		struct proxy_stats s = test_stats(h);
		assert_int_equal(s.contexts_active, 0);
		assert_int_equal(s.txn_server_active, 0);
		assert_int_equal(s.txn_client_active, 0);
		harness_clear(h);
	}
	harness_free(h);
}

/* The same with the caller's own CANCEL: it gets 200 for the CANCEL and, once
 * the downstream has been silent for 64*T1, 487 for the INVITE. */
static void test_upstream_cancel_unanswered(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, "127.0.0.20:5000",
		    test_req(msg, sizeof(msg), "INVITE", "sip:bob@sipproxy.test", "127.0.0.20:5000",
			     "tc2", ""));
	harness_reply(h, harness_find(h, "INVITE ", HARNESS_SERVER), 180, NULL);
	harness_udp(h, "127.0.0.20:5000",
		    test_req(msg, sizeof(msg), "CANCEL", "sip:bob@sipproxy.test", "127.0.0.20:5000",
			     "tc2", ""));
	assert_non_null(harness_find(h, "SIP/2.0 200", "127.0.0.20:5000"));
	assert_non_null(harness_find(h, "CANCEL ", HARNESS_SERVER));
	harness_advance(h, 64 * 500 + 20);
	assert_non_null(harness_find(h, "SIP/2.0 487", "127.0.0.20:5000"));
	harness_advance(h, 64 * 500 + 5000);
	assert_int_equal(test_stats(h).contexts_active, 0);
	harness_free(h);
}

/* SIGTERM drain: a transaction waiting out its absorb timer (Timer J/K) does
 * not hold the process; one still waiting for an answer does. */
static void test_drain_ends_when_nothing_can_be_sent(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	char msg[4096];
	harness_udp(h, "127.0.0.20:5000",
		    test_req(msg, sizeof(msg), "MESSAGE", "sip:bob@sipproxy.test",
			     "127.0.0.20:5000", "dr1", ""));
	const struct harness_out *m = harness_find(h, "MESSAGE ", HARNESS_SERVER);
	assert_non_null(m);
	app_drain(harness_app(h));
	assert_false(app_drained(harness_app(h))); /* the MESSAGE is unanswered */
	harness_reply(h, m, 200, NULL);
	assert_non_null(harness_find(h, "SIP/2.0 200", "127.0.0.20:5000"));
	struct proxy_stats s = test_stats(h);
	assert_true(s.txn_server_active + s.txn_client_active > 0); /* absorbing */
	assert_true(app_drained(harness_app(h)));
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sync_failure_frees_once),
	    cmocka_unit_test(test_timer_c_after_unanswered_cancel),
	    cmocka_unit_test(test_abandoned_invite_transaction_ends),
	    cmocka_unit_test(test_upstream_cancel_unanswered),
	    cmocka_unit_test(test_drain_ends_when_nothing_can_be_sent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
