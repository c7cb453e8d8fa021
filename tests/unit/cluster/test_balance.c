/* test_balance.c — how new requests spread over the in-service nodes of a
 * data center (cluster/balance.c, cluster.balance), asked through the
 * routing hooks: round-robin in exactly equal shares, weighted (smooth
 * weighted round-robin) in exact shares of the weights and interleaved,
 * least-calls following the proxy's call_delta counts (a BYE ending a call
 * once), and the rendezvous hashes of the Call-ID or the From user (a key
 * stays on its node; only a leaving node's keys move). */
#include "cluster_test.h"

/* round-robin: exactly equal shares, in turn. */
static void test_round_robin_exact(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	static int seq[300];
	unsigned used[3] = {0};
	for (int i = 0; i < 300; i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "rr-%d", i);
		seq[i] = ct_node_index(ct_pick(c, "INVITE", "caller", cid));
		used[seq[i]]++;
	}
	assert_int_equal(used[0], 100);
	assert_int_equal(used[1], 100);
	assert_int_equal(used[2], 100);
	for (int i = 0; i + 3 < 300; i++) {
		assert_int_not_equal(seq[i], seq[i + 1]);
		assert_int_equal(seq[i], seq[i + 3]);
	}
	/* /nodes counts the new requests each node got. */
	assert_int_equal(ct_view(c, "b").requests, 100);
	cluster_free(c);
}

/* weighted (smooth weighted round-robin): weights 1, 2, 3 give 1/6, 2/6 and
 * 3/6 of the requests exactly, interleaved rather than in runs. */
static void test_weighted_exact(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "cluster = { balance = \"weighted\";\n"
	    "  sip-servers = (\n"
	    "    { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090; weight = 1; },\n"
	    "    { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090; weight = 2; },\n"
	    "    { name = \"c\"; sip-address = \"127.0.0.13\"; sip-port = 5090; weight = 3; } );\n"
	    "};\n");
	static int seq[600];
	unsigned used[3] = {0};
	for (int i = 0; i < 600; i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "w-%d", i);
		seq[i] = ct_node_index(ct_pick(c, "INVITE", "caller", cid));
		used[seq[i]]++;
	}
	assert_int_equal(used[0], 100);
	assert_int_equal(used[1], 200);
	assert_int_equal(used[2], 300);
	for (int w = 0; w < 600; w += 6) {
		unsigned in[3] = {0};
		for (int i = w; i < w + 6; i++)
			in[seq[i]]++;
		assert_int_equal(in[0], 1);
		assert_int_equal(in[1], 2);
		assert_int_equal(in[2], 3);
	}
	int run = 1, longest = 1;
	for (int i = 1; i < 600; i++) {
		run = seq[i] == seq[i - 1] ? run + 1 : 1;
		longest = run > longest ? run : longest;
	}
	assert_true(longest <= 2);
	assert_int_equal(ct_view(c, "c").weight, 3);
	cluster_free(c);
}

static void calls(struct cluster *c, const char *node, int delta)
{
	struct proxy_routing r = ct_hooks(c);
	struct proxy_node_ref ref = ct_ref(c, node);
	r.call_delta(r.arg, &ref, delta);
}

/* least-calls follows the proxy's call_delta counts; ties are taken in turn. */
static void test_least_calls(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("least-calls");
	calls(c, "a", +1);
	calls(c, "a", +1);
	calls(c, "b", +1);
	for (int i = 0; i < 10; i++)
		assert_string_equal(ct_pick(c, "INVITE", "x", "lc"), "c");
	calls(c, "c", +3);
	for (int i = 0; i < 10; i++)
		assert_string_equal(ct_pick(c, "INVITE", "x", "lc"), "b");
	assert_int_equal(ct_view(c, "a").active_calls, 2);
	assert_int_equal(ct_view(c, "c").active_calls, 3);
	calls(c, "a", -2);
	calls(c, "b", -1);
	calls(c, "c", -3);
	unsigned used[3] = {0};
	for (int i = 0; i < 9; i++)
		used[ct_node_index(ct_pick(c, "INVITE", "x", "lc"))]++;
	assert_int_equal(used[0], 3);
	assert_int_equal(used[1], 3);
	assert_int_equal(used[2], 3);
	/* Ties among some only: with a busy, b and c alternate (rotating the
	 * scan's start over all three gave b two ties in three). */
	calls(c, "a", +1);
	unsigned tied[3] = {0};
	for (int i = 0; i < 10; i++)
		tied[ct_node_index(ct_pick(c, "INVITE", "x", "lc"))]++;
	assert_int_equal(tied[0], 0);
	assert_int_equal(tied[1], 5);
	assert_int_equal(tied[2], 5);
	calls(c, "a", -1);
	/* The count never goes below zero. */
	calls(c, "a", -5);
	assert_int_equal(ct_view(c, "a").active_calls, 0);
	calls(c, "a", +1);
	assert_int_equal(ct_view(c, "a").active_calls, 1);
	cluster_free(c);
}

/* A call counts on its node from its INVITE (being set up) through its
 * dialog record (the 2xx) to its BYE's answer, once, whichever side's tags
 * the BYE carries; a BYE routed (and retried on the pair's other member)
 * counts nothing by itself. */
static void test_call_counts_from_invite_to_bye(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("least-calls");
	struct proxy_routing r = ct_hooks(c);
	struct proxy_node_ref ra = ct_ref(c, "a");
	r.call_delta(r.arg, &ra, +1); /* INVITE sent */
	assert_int_equal(ct_view(c, "a").active_calls, 1);
	r.call_delta(r.arg, &ra, -1); /* its 2xx: set up */
	struct proxy_dialog d = {.call_id = STR_LIT("bye-call"),
				 .from_tag = STR_LIT("ft"),
				 .to_tag = STR_LIT("tt"),
				 .node = STR_LIT("a"),
				 .flow = STR_LIT("p1")};
	r.dialog(r.arg, &d, true);
	assert_int_equal(ct_view(c, "a").active_calls, 1);
	struct sip_msg *bye = ct_request("BYE", "x", "sip:agent@example.com", "bye-call");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, bye, "a", NULL, NULL, &q), 0);
	struct proxy_node_ref failed = q.out;
	assert_int_equal(ct_pick_q(c, bye, "a", NULL, &failed, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.21", 5090));
	assert_int_equal(ct_view(c, "a").active_calls, 1);
	/* the callee's BYE: tags the other way round */
	struct proxy_dialog e = {
	    .call_id = STR_LIT("bye-call"), .from_tag = STR_LIT("tt"), .to_tag = STR_LIT("ft")};
	r.dialog(r.arg, &e, false);
	assert_int_equal(ct_view(c, "a").active_calls, 0);
	r.dialog(r.arg, &e, false);
	assert_int_equal(ct_view(c, "a").active_calls, 0);
	sip_msg_free(bye);
	cluster_free(c);
}

/* hash-call-id: a Call-ID stays on its node; only a leaving node's Call-IDs
 * move. hash-from-user: a caller stays on its node whatever the Call-ID. */
static void test_hash_keys_stable(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("hash-call-id");
	enum { N = 90 };
	static char first[N][CFG_NAME_MAX];
	unsigned used[3] = {0};
	char cid[32];
	for (int i = 0; i < N; i++) {
		snprintf(cid, sizeof(cid), "call-%d@host", i);
		snprintf(first[i], CFG_NAME_MAX, "%s", ct_pick(c, "INVITE", "x", cid));
		for (int k = 0; k < 3; k++)
			assert_string_equal(ct_pick(c, "INVITE", "y", cid), first[i]);
		used[ct_node_index(first[i])]++;
	}
	assert_true(used[0] && used[1] && used[2]);
	assert_int_equal(cluster_set_out(c, "c", true), 0);
	for (int i = 0; i < N; i++) {
		snprintf(cid, sizeof(cid), "call-%d@host", i);
		const char *now = ct_pick(c, "INVITE", "x", cid);
		if (strcmp(first[i], "c") == 0)
			assert_string_not_equal(now, "c");
		else
			assert_string_equal(now, first[i]);
	}
	cluster_free(c);

	c = ct_three_nodes("hash-from-user");
	unsigned users[3] = {0};
	for (int u = 0; u < 30; u++) {
		char user[16], one[CFG_NAME_MAX];
		snprintf(user, sizeof(user), "agent%d", u);
		snprintf(one, sizeof(one), "%s", ct_pick(c, "INVITE", user, "cid-0"));
		for (int k = 1; k < 5; k++) {
			snprintf(cid, sizeof(cid), "cid-%d", k);
			assert_string_equal(ct_pick(c, "MESSAGE", user, cid), one);
		}
		users[ct_node_index(one)]++;
	}
	assert_true(users[0] && users[1] && users[2]);
	cluster_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_robin_exact),
	    cmocka_unit_test(test_weighted_exact),
	    cmocka_unit_test(test_least_calls),
	    cmocka_unit_test(test_call_counts_from_invite_to_bye),
	    cmocka_unit_test(test_hash_keys_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
