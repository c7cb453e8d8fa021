/* test_fork.c — the location service's targets in q-value groups (RFC 3261
 * §16.6, fork.c and ctx.c): bob is registered at q=1.0, 0.5, 0.5 and 0.1;
 * the groups are tried in decreasing q, each only after the previous one
 * failed, the members of a group in parallel. A 6xx or a 2xx ends the
 * search, so does the caller's CANCEL (§16.10); nobody registered is 480. */
#include "proxy_test.h"

#define Q10  "127.0.0.31:5001"
#define Q05A "127.0.0.32:5002"
#define Q05B "127.0.0.33:5003"
#define Q01  "127.0.0.34:5004"

/* bob at Q10 (q=1.0), Q05A and Q05B (q=0.5), Q01 (q=0.1), registered in an
 * order that is not the q order. */
static struct harness *four_contacts(void)
{
	struct harness *h = test_harness(NULL);
	test_register(h, "bob", Q05A, "<sip:bob@" Q05A ">;q=0.5");
	test_register(h, "bob", Q01, "<sip:bob@" Q01 ">;q=0.1");
	test_register(h, "bob", Q10, "<sip:bob@" Q10 ">;q=1.0");
	test_register(h, "bob", Q05B, "<sip:bob@" Q05B ">;q=0.5");
	harness_clear(h);
	return h;
}

static size_t invites(struct harness *h, const char *dest)
{
	return harness_count_of(h, "INVITE ", dest);
}

/* §16.6: "in order of decreasing q, in parallel within a q": the q=1.0
 * contact alone; after its failure both q=0.5 at once; after theirs q=0.1;
 * nothing goes up between the groups, one final at the end (§16.7). */
static void test_groups_in_decreasing_q(void **state)
{
	(void)state;
	struct harness *h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq1", "");
	assert_int_equal(invites(h, NULL), 1);
	const struct harness_out *first = test_sent(h, "INVITE ", Q10);
	harness_reply(h, first, 180, NULL);
	harness_reply(h, first, 486, NULL);
	assert_int_equal(invites(h, NULL), 3);
	const struct harness_out *a = test_sent(h, "INVITE ", Q05A);
	const struct harness_out *b = test_sent(h, "INVITE ", Q05B);
	assert_int_equal(invites(h, Q01), 0);
	harness_reply(h, a, 480, NULL);
	assert_int_equal(invites(h, Q01), 0); /* Q05B still pending */
	harness_reply(h, b, 404, NULL);
	assert_int_equal(invites(h, NULL), 4);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 0);
	harness_reply(h, test_sent(h, "INVITE ", Q01), 486, NULL);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 1);
	assert_int_equal(test_last_status(h, HARNESS_SERVER) / 100, 4);
	harness_free(h);
}

/* A silent group fails by timeout (Timer F, 64*T1) and the next group
 * starts then, for a non-INVITE too. */
static void test_timeout_moves_to_next_group(void **state)
{
	(void)state;
	struct harness *h = four_contacts();
	test_server_call(h, "MESSAGE", "bob", "fq2", "");
	assert_int_equal(harness_count_of(h, "MESSAGE ", NULL), 1);
	harness_advance(h, 31000);
	assert_int_equal(harness_count_of(h, "MESSAGE ", Q05A), 0);
	harness_advance(h, 1500);
	assert_int_equal(harness_count_of(h, "MESSAGE ", Q05A), 1);
	assert_int_equal(harness_count_of(h, "MESSAGE ", Q05B), 1);
	harness_reply(h, test_sent(h, "MESSAGE ", Q05B), 200, NULL);
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 200);
	harness_free(h);
}

/* §16.7 step 5: a 6xx "MUST NOT create any new branches": in the first
 * group, or in the second while its other member is still ringing (which
 * gets a CANCEL). */
static void test_6xx_stops_the_search(void **state)
{
	(void)state;
	struct harness *h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq3", "");
	harness_reply(h, test_sent(h, "INVITE ", Q10), 600, NULL);
	harness_advance(h, 40000);
	assert_int_equal(invites(h, NULL), 1);
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 600);
	harness_free(h);

	h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq4", "");
	harness_reply(h, test_sent(h, "INVITE ", Q10), 404, NULL);
	const struct harness_out *a = test_sent(h, "INVITE ", Q05A);
	const struct harness_out *b = test_sent(h, "INVITE ", Q05B);
	harness_reply(h, b, 180, NULL);
	harness_reply(h, a, 603, NULL);
	assert_int_equal(harness_count_of(h, "CANCEL ", Q05B), 1);
	harness_reply(h, b, 487, NULL);
	assert_int_equal(invites(h, Q01), 0);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 1);
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 603);
	harness_free(h);
}

/* A 2xx in the first group is the answer: the later groups are never tried,
 * however long one waits. */
static void test_2xx_in_first_group(void **state)
{
	(void)state;
	struct harness *h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq5", "");
	harness_reply(h, test_sent(h, "INVITE ", Q10), 200, "Contact: <sip:bob@" Q10 ">\r\n");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 200);
	for (int i = 0; i < 10; i++)
		harness_advance(h, 20000);
	assert_int_equal(invites(h, NULL), 1);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 1);
	harness_free(h);
}

/* §16.5/§10.3: an AOR with no binding (never registered, or unregistered
 * with expires=0) is answered 480 by the proxy, sent nowhere else. */
static void test_nobody_registered_480(void **state)
{
	(void)state;
	struct harness *h = test_harness(NULL);
	test_server_call(h, "INVITE", "nobody", "fq6", "");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 480);
	test_server_call(h, "MESSAGE", "nobody", "fq7", "");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 480);
	static const char *const only[] = {"127.0.0.3", NULL};
	assert_null(harness_sent_elsewhere(h, only));

	test_register(h, "carol", "127.0.0.35:5005", "<sip:carol@127.0.0.35:5005>");
	harness_clear(h);
	test_server_call(h, "MESSAGE", "carol", "fq8", "");
	assert_non_null(harness_find(h, "MESSAGE ", "127.0.0.35:5005"));
	assert_true(test_register_ex(h, "carol", "127.0.0.35:5005", 0,
				     "<sip:carol@127.0.0.35:5005>;expires=0", "", NULL));
	harness_clear(h);
	test_server_call(h, "MESSAGE", "carol", "fq9", "");
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 480);
	assert_null(harness_find(h, "MESSAGE ", "127.0.0.35:5005"));
	harness_free(h);
}

/* The SIP Server's CANCEL for the INVITE of call cid (§16.10), which the
 * proxy answers 200 itself. */
static void send_cancel(struct harness *h, const char *cid)
{
	char msg[4096];
	harness_udp(
	    h, HARNESS_SERVER,
	    test_req(msg, sizeof(msg), "CANCEL", "sip:bob@" TEST_DOMAIN, HARNESS_SERVER, cid, ""));
	assert_non_null(harness_find(h, "SIP/2.0 200", HARNESS_SERVER));
}

/* §16.10: CANCEL "stops" the request: the groups not yet started never
 * start, in the first group and in the second; the caller gets one final
 * (487 when nothing else was received). */
static void test_cancel_stops_later_groups(void **state)
{
	(void)state;
	struct harness *h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq10", "");
	const struct harness_out *first = test_sent(h, "INVITE ", Q10);
	harness_reply(h, first, 180, NULL);
	send_cancel(h, "fq10");
	assert_int_equal(harness_count_of(h, "CANCEL ", Q10), 1);
	harness_reply(h, first, 487, NULL);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 2); /* CANCEL's 200, 487 */
	assert_int_equal(test_last_status(h, HARNESS_SERVER), 487);
	harness_advance(h, 40000);
	assert_int_equal(invites(h, NULL), 1);
	harness_free(h);

	h = four_contacts();
	test_server_call(h, "INVITE", "bob", "fq11", "");
	harness_reply(h, test_sent(h, "INVITE ", Q10), 486, NULL);
	const struct harness_out *a = test_sent(h, "INVITE ", Q05A);
	const struct harness_out *b = test_sent(h, "INVITE ", Q05B);
	harness_reply(h, a, 180, NULL);
	send_cancel(h, "fq11");
	assert_int_equal(harness_count_of(h, "CANCEL ", Q05A), 1);
	assert_int_equal(harness_count_of(h, "CANCEL ", Q05B), 0); /* §9.1: no provisional */
	harness_reply(h, b, 180, NULL);
	assert_int_equal(harness_count_of(h, "CANCEL ", Q05B), 1);
	harness_reply(h, a, 487, NULL);
	harness_reply(h, b, 487, NULL);
	/* 486 (first group) and the 487s: the proxy's pick within class 4 */
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 2);
	assert_int_equal(test_last_status(h, HARNESS_SERVER) / 100, 4);
	harness_advance(h, 40000);
	assert_int_equal(invites(h, Q01), 0);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_groups_in_decreasing_q),
	    cmocka_unit_test(test_timeout_moves_to_next_group),
	    cmocka_unit_test(test_6xx_stops_the_search),
	    cmocka_unit_test(test_2xx_in_first_group),
	    cmocka_unit_test(test_nobody_registered_480),
	    cmocka_unit_test(test_cancel_stops_later_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
