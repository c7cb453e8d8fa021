/* test_select.c — response selection through real forks (RFC 3261 §16.7,
 * select.c and response.c): alice is registered at three contacts of equal q,
 * the SIP Server calls her and each branch is answered on its own; the test
 * checks the single final the SIP Server gets (steps 5-7), the CANCELs the
 * proxy sends (step 10), and what provisionals go up (step 5). */
#include "proxy_test.h"

#define A "127.0.0.21:5001"
#define B "127.0.0.22:5002"
#define C "127.0.0.23:5003"

static const char *const abc[3] = {A, B, C};

/* alice registered at A, B and C (q 1.0 each). */
static struct harness *three_contacts(void)
{
	struct harness *h = test_harness(NULL);
	test_register(h, "alice", A, "<sip:alice@" A ">");
	test_register(h, "alice", B, "<sip:alice@" B ">");
	test_register(h, "alice", C, "<sip:alice@" C ">");
	harness_clear(h);
	return h;
}

/* The one final the SIP Server got (fails unless exactly one). */
static const struct harness_out *only_final(struct harness *h)
{
	if (test_finals_to(h, HARNESS_SERVER) != 1) {
		test_dump(h);
		fail_msg("%zu finals reached the SIP Server", test_finals_to(h, HARNESS_SERVER));
	}
	for (size_t i = harness_count(h); i-- > 0;) {
		const struct harness_out *o = harness_out(h, i);
		if (o->msg && !o->msg->is_request && o->msg->status >= 200)
			return o;
	}
	return NULL;
}

/* §16.7 step 5: a 6xx is not forwarded at once; the pending INVITE branches
 * get a CANCEL (one that had a provisional at once, §9.1), none after a final
 * of its own; once they end, the 6xx is what goes up (step 6). */
static void test_6xx_wins_and_cancels_pending(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "sel6", abc, 3, br);
	harness_reply(h, br[1], 180, NULL);
	harness_reply(h, br[2], 302, "Contact: <sip:alice@127.0.0.29>\r\n");
	harness_reply(h, br[0], 603, NULL);
	assert_int_equal(harness_count_of(h, "CANCEL ", B), 1);
	assert_int_equal(harness_count_of(h, "CANCEL ", C), 0); /* C is done */
	assert_int_equal(harness_count_of(h, "CANCEL ", A), 0);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 0); /* not yet */
	harness_reply(h, test_sent(h, "CANCEL ", B), 200, NULL);
	harness_reply(h, br[1], 487, NULL);
	assert_int_equal(only_final(h)->msg->status, 603);
	harness_free(h);
}

/* §16.7 step 5 with §9.1: a branch with no provisional yet is CANCELled as
 * soon as it sends one, and no new branch starts after a 6xx. */
static void test_6xx_cancel_waits_for_provisional(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "sel6b", abc, 3, br);
	harness_reply(h, br[0], 600, NULL);
	assert_int_equal(harness_count_of(h, "CANCEL ", NULL), 0);
	harness_reply(h, br[1], 183, NULL);
	assert_int_equal(harness_count_of(h, "CANCEL ", B), 1);
	harness_reply(h, br[1], 487, NULL);
	harness_reply(h, br[2], 486, NULL);
	assert_int_equal(only_final(h)->msg->status, 600);
	assert_int_equal(harness_count_of(h, "INVITE ", NULL), 3);
	harness_free(h);
}

struct pick {
	int st[3];
	int want[3]; /* acceptable answers (0 ends) */
};

/* §16.7 step 6: the lowest class wins; within it 401, 407, 415, 420, 484
 * are preferred ("SHOULD give preference"); other choices within the class
 * are the proxy's (MAY), so any of them is accepted. */
static void test_lowest_class_and_preferred(void **state)
{
	(void)state;
	static const struct pick picks[] = {
	    {{486, 302, 503}, {302}},	   {{500, 404, 408}, {404, 408}},
	    {{504, 500, 480}, {480}},	   {{404, 407, 486}, {407}},
	    {{486, 415, 480}, {415}},	   {{400, 484, 404}, {484}},
	    {{420, 403, 488}, {420}},	   {{403, 401, 404}, {401}},
	    {{301, 480, 300}, {301, 300}}, {{404, 401, 407}, {401, 407}},
	    {{500, 502, 413}, {413}},
	};
	for (size_t i = 0; i < sizeof(picks) / sizeof(picks[0]); i++) {
		struct harness *h = three_contacts();
		const struct harness_out *br[3];
		char cid[32];
		snprintf(cid, sizeof(cid), "selc%zu", i);
		test_fork(h, "INVITE", "alice", cid, abc, 3, br);
		for (int k = 0; k < 3; k++) {
			harness_reply(h, br[k], 180, NULL);
			harness_reply(h, br[k], picks[i].st[k],
				      picks[i].st[k] < 400 ? "Contact: <sip:x@127.0.0.29>\r\n"
							   : NULL);
		}
		int got = only_final(h)->msg->status;
		bool ok = false;
		for (int k = 0; k < 3 && picks[i].want[k]; k++)
			ok = ok || got == picks[i].want[k];
		if (!ok)
			fail_msg("finals %d %d %d: got %d", picks[i].st[0], picks[i].st[1],
				 picks[i].st[2], got);
		harness_free(h);
	}
}

/* §16.7 step 6: "If the only response is a 503 ... the proxy MUST generate
 * a 500": whether the 503s come before any provisional (RFC 3263 §4.3: the
 * only destination tried) or after one. */
static void test_503_goes_up_as_500(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "sel503", abc, 3, br);
	harness_reply(h, br[0], 180, NULL);
	harness_reply(h, br[0], 503, "Retry-After: 30\r\n");
	harness_reply(h, br[1], 503, NULL);
	harness_reply(h, br[2], 503, NULL);
	assert_int_equal(only_final(h)->msg->status, 500);
	assert_int_equal(harness_count_of(h, "SIP/2.0 503", NULL), 0);
	harness_free(h);
}

/* §16.7 step 1 / §16.9: a branch that never answers counts as 408 (Timer F
 * = 64*T1 = 32 s for the non-INVITE, Timer B for the INVITE). */
static void test_all_branches_time_out_408(void **state)
{
	(void)state;
	static const char *const methods[] = {"MESSAGE", "INVITE"};
	for (size_t i = 0; i < 2; i++) {
		struct harness *h = three_contacts();
		const struct harness_out *br[3];
		test_fork(h, methods[i], "alice", i ? "selto1" : "selto0", abc, 3, br);
		harness_advance(h, 31000);
		assert_int_equal(test_finals_to(h, HARNESS_SERVER), 0);
		harness_advance(h, 1500);
		assert_int_equal(only_final(h)->msg->status, 408);
		harness_free(h);
	}
}

/* §16.7 steps 5 and 10: a 2xx goes up at once and the other INVITE branches
 * are CANCELled; a 2xx another branch sends later goes up too (RFC 6026 §3,
 * forked 2xx: each is a dialog of its own), a 487 does not. */
static void test_2xx_at_once_and_forked_2xx(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "sel2xx", abc, 3, br);
	harness_reply(h, br[1], 180, NULL);
	harness_reply(h, br[2], 180, NULL);
	harness_reply(h, br[0], 200, "Contact: <sip:alice@" A ">\r\n");
	assert_int_equal(harness_count_of(h, "SIP/2.0 200", HARNESS_SERVER), 1);
	assert_int_equal(harness_count_of(h, "CANCEL ", B), 1);
	assert_int_equal(harness_count_of(h, "CANCEL ", C), 1);
	assert_int_equal(harness_count_of(h, "CANCEL ", A), 0);
	harness_reply(h, br[1], 200, "Contact: <sip:alice@" B ">\r\n");
	harness_reply(h, br[2], 487, NULL);
	assert_int_equal(harness_count_of(h, "SIP/2.0 200", HARNESS_SERVER), 2);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 2);
	harness_free(h);
}

/* A non-INVITE's 2xx also goes up at once; the late finals of the other
 * branches do not (one final per server transaction, §16.7 step 10). */
static void test_non_invite_first_2xx_only(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "MESSAGE", "alice", "selmsg", abc, 3, br);
	harness_reply(h, br[1], 404, NULL);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 0);
	harness_reply(h, br[2], 202, NULL);
	assert_int_equal(only_final(h)->msg->status, 202);
	harness_reply(h, br[0], 200, NULL);
	assert_int_equal(only_final(h)->msg->status, 202);
	harness_free(h);
}

/* §16.7 step 5: provisionals other than 100 are forwarded at once; a 100
 * is not (the proxy sent its own, §16.2). */
static void test_provisionals(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "selprov", abc, 3, br);
	assert_int_equal(harness_count_of(h, "SIP/2.0 100", HARNESS_SERVER), 1); /* ours */
	harness_reply(h, br[0], 100, NULL);
	harness_reply(h, br[1], 100, NULL);
	assert_int_equal(harness_count_of(h, "SIP/2.0 100", HARNESS_SERVER), 1);
	harness_reply(h, br[0], 183, NULL);
	harness_reply(h, br[1], 180, NULL);
	harness_reply(h, br[2], 180, NULL);
	assert_int_equal(harness_count_of(h, "SIP/2.0 183", HARNESS_SERVER), 1);
	assert_int_equal(harness_count_of(h, "SIP/2.0 180", HARNESS_SERVER), 2);
	assert_int_equal(test_finals_to(h, HARNESS_SERVER), 0);
	harness_free(h);
}

/* §16.7 step 7: the chosen 401/407 carries the WWW-Authenticate and
 * Proxy-Authenticate fields of every other 401/407 branch, unmodified:
 * each challenge line exactly once, nothing of the 404. */
static void test_challenges_merged(void **state)
{
	(void)state;
	static const char *const lines[] = {
	    "WWW-Authenticate: Digest realm=\"a.test\", nonce=\"na1\", algorithm=MD5\r\n",
	    "Proxy-Authenticate: Digest realm=\"b.test\", nonce=\"nb1\", qop=\"auth\"\r\n",
	    "WWW-Authenticate: Digest realm=\"c.test\", nonce=\"nc1\"\r\n",
	    "WWW-Authenticate: Digest realm=\"c2.test\", nonce=\"nc2\", stale=FALSE\r\n",
	};
	struct harness *h = three_contacts();
	test_register(h, "alice", "127.0.0.24:5004", "<sip:alice@127.0.0.24:5004>");
	const char *const four[4] = {A, B, C, "127.0.0.24:5004"};
	const struct harness_out *br[4];
	test_fork(h, "INVITE", "alice", "selauth", four, 4, br);
	char c_lines[512];
	snprintf(c_lines, sizeof(c_lines), "%s%s", lines[2], lines[3]);
	harness_reply(h, br[0], 401, lines[0]);
	harness_reply(h, br[1], 407, lines[1]);
	harness_reply(h, br[2], 401, c_lines);
	harness_reply(h, br[3], 404, "Warning: 399 x \"not here\"\r\n");
	const struct harness_out *fin = only_final(h);
	assert_true(fin->msg->status == 401 || fin->msg->status == 407);
	for (size_t i = 0; i < 4; i++)
		if (test_occurrences(fin, lines[i]) != 1) {
			test_dump(h);
			fail_msg("challenge %zu appears %zu times", i,
				 test_occurrences(fin, lines[i]));
		}
	assert_int_equal(test_occurrences(fin, "WWW-Authenticate:"), 3);
	assert_int_equal(test_occurrences(fin, "Proxy-Authenticate:"), 1);
	assert_int_equal(test_occurrences(fin, "Warning:"), 0);
	harness_free(h);
}

/* Step 7 is for a chosen 401/407 only: a 3xx that wins carries none. */
static void test_no_challenges_on_other_finals(void **state)
{
	(void)state;
	struct harness *h = three_contacts();
	const struct harness_out *br[3];
	test_fork(h, "INVITE", "alice", "selauth2", abc, 3, br);
	harness_reply(h, br[0], 401, "WWW-Authenticate: Digest realm=\"a.test\", nonce=\"1\"\r\n");
	harness_reply(h, br[1], 302, "Contact: <sip:alice@127.0.0.29>\r\n");
	harness_reply(h, br[2], 407,
		      "Proxy-Authenticate: Digest realm=\"b.test\", nonce=\"2\"\r\n");
	const struct harness_out *fin = only_final(h);
	assert_int_equal(fin->msg->status, 302);
	assert_int_equal(test_occurrences(fin, "Authenticate:"), 0);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_6xx_wins_and_cancels_pending),
	    cmocka_unit_test(test_6xx_cancel_waits_for_provisional),
	    cmocka_unit_test(test_lowest_class_and_preferred),
	    cmocka_unit_test(test_503_goes_up_as_500),
	    cmocka_unit_test(test_all_branches_time_out_408),
	    cmocka_unit_test(test_2xx_at_once_and_forked_2xx),
	    cmocka_unit_test(test_non_invite_first_2xx_only),
	    cmocka_unit_test(test_provisionals),
	    cmocka_unit_test(test_challenges_merged),
	    cmocka_unit_test(test_no_challenges_on_other_finals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
