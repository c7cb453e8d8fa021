/* test_pick.c — where a request for the SIP Servers goes (cluster/pick.c),
 * asked through the routing hooks the proxy calls: a REGISTER by a
 * rendezvous hash of its address-of-record over the in-service nodes
 * (moving only when its node leaves), an endpoint's requests to the node
 * that accepted its REGISTER, other new requests by the balancer
 * (test_balance.c) over this data center's nodes, then the other data
 * centers (cluster.remote-dcs, cluster.forward-remote), nodes in doubt only
 * when no node is known good; in-dialog requests to the dialog's node's
 * current primary, also while it is taken out; a retry avoiding the member
 * that just failed. */
#include "cluster_test.h"

#include "registrar/registrar.h"
#include "store/store.h"

/* Registrar issue: a challenge's retry and later refreshes reach the same
 * node, however the AOR is spelled (§10.3 step 5: host case, port and
 * parameters are not part of it); 60 AORs use every node. */
static void test_register_same_aor_same_node(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	unsigned used[3] = {0};
	for (int i = 0; i < 60; i++) {
		char aor[96], spelled[96], first[CFG_NAME_MAX];
		snprintf(aor, sizeof(aor), "sip:user%d@example.com", i);
		snprintf(spelled, sizeof(spelled), "sip:user%d@EXAMPLE.Com:5060;transport=tcp", i);
		snprintf(first, sizeof(first), "%s", ct_pick_register(c, aor));
		assert_true(first[0]);
		/* New requests in between move the round-robin, not the AOR. */
		ct_pick(c, "INVITE", "x", "between");
		assert_string_equal(ct_pick_register(c, spelled), first);
		assert_string_equal(ct_pick_register(c, aor), first);
		used[ct_node_index(first)]++;
	}
	assert_true(used[0] > 0 && used[1] > 0 && used[2] > 0);
	assert_int_equal(used[0] + used[1] + used[2], 60);
	cluster_free(c);
}

/* Rendezvous hashing: a node leaving moves only its own AORs, and they come
 * back when it does; a node merely in doubt keeps its endpoints. */
static void test_register_moves_only_with_its_node(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	enum { N = 120 };
	static char before[N][CFG_NAME_MAX];
	char aor[64];
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:agent%d@example.com", i);
		snprintf(before[i], CFG_NAME_MAX, "%s", ct_pick_register(c, aor));
	}
	assert_int_equal(cluster_set_out(c, "b", true), 0);
	int moved = 0;
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:agent%d@example.com", i);
		const char *now = ct_pick_register(c, aor);
		if (strcmp(before[i], "b") == 0) {
			assert_true(strcmp(now, "a") == 0 || strcmp(now, "c") == 0);
			moved++;
		} else {
			assert_string_equal(now, before[i]);
		}
	}
	assert_true(moved > 0);
	/* a in doubt (its primary failed a request) keeps its AORs. */
	struct proxy_node_ref ra = ct_ref(c, "a");
	ct_result(c, &ra, PROXY_SERVER_TIMEOUT);
	assert_string_equal(ct_view(c, "a").state, "unknown");
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:agent%d@example.com", i);
		if (strcmp(before[i], "a") == 0)
			assert_string_equal(ct_pick_register(c, aor), "a");
	}
	assert_int_equal(cluster_set_out(c, "b", false), 0);
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:agent%d@example.com", i);
		assert_string_equal(ct_pick_register(c, aor), before[i]);
	}
	cluster_free(c);
}

/* In a dialog: the node our Record-Route named (sn), at its current primary;
 * a switchover shown by a request from the backup moves the dialog with it.
 * Without a name, the node owning the member address the request names. */
static void test_in_dialog_follows_switchover(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	struct sip_msg *req = ct_request("INFO", "x", "sip:agent@example.com", "dlg");
	struct proxy_pick q;
	union tp_sockaddr b1 = ct_addr("127.0.0.12", 5090), b2 = ct_addr("127.0.0.22", 5090);
	for (int i = 0; i < 4; i++) { /* not balanced: always the dialog's node */
		assert_int_equal(ct_pick_q(c, req, "b", NULL, NULL, &q), 0);
		assert_string_equal(q.out.name, "b");
		assert_true(ct_is_addr(&q.out.member, "127.0.0.12", 5090));
	}
	assert_int_equal(ct_pick_q(c, req, NULL, &b1, NULL, &q), 0);
	assert_string_equal(q.out.name, "b");
	assert_int_equal(ct_view(c, "b").requests, 0); /* in-dialog: not new requests */

	/* b's backup sends a request: it took over. */
	struct proxy_node_ref from;
	assert_true(ct_request_from(c, "127.0.0.22", 5090, &from));
	assert_string_equal(from.name, "b");
	assert_true(ct_is_addr(&from.member, "127.0.0.22", 5090));
	struct cluster_node_view v = ct_view(c, "b");
	assert_string_equal(v.state, "active");
	assert_string_equal(v.m[0].role, "backup");
	assert_string_equal(v.m[1].role, "primary");
	struct cluster_stats st;
	cluster_get_stats(c, &st);
	assert_int_equal(st.takeovers, 1);

	assert_int_equal(ct_pick_q(c, req, "b", NULL, NULL, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.22", 5090));
	/* By the old primary's address (the dialog's remote target), or the
	 * new one's, or its IP with another port (a stream's source port). */
	assert_int_equal(ct_pick_q(c, req, NULL, &b1, NULL, &q), 0);
	assert_string_equal(q.out.name, "b");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.22", 5090));
	assert_int_equal(ct_pick_q(c, req, NULL, &b2, NULL, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.22", 5090));
	union tp_sockaddr b1_port = ct_addr("127.0.0.12", 41234);
	assert_int_equal(ct_pick_q(c, req, NULL, &b1_port, NULL, &q), 0);
	assert_string_equal(q.out.name, "b");
	/* The name wins over the address. */
	assert_int_equal(ct_pick_q(c, req, "a", &b1, NULL, &q), 0);
	assert_string_equal(q.out.name, "a");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.11", 5090));
	/* The dialog's node taken out by hand is drained, not cut off: its
	 * calls' requests still reach its primary (out of service, the pair
	 * has no target: test_ha_pair.c). */
	assert_int_equal(cluster_set_out(c, "b", true), 0);
	assert_int_equal(ct_pick_q(c, req, "b", NULL, NULL, &q), 0);
	assert_string_equal(q.out.name, "b");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.22", 5090));
	sip_msg_free(req);
	cluster_free(c);
}

/* server_request: only a member's address counts; the primary's own
 * requests are no takeover. */
static void test_server_request_hook(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	struct proxy_node_ref out;
	assert_false(ct_request_from(c, "10.0.0.99", 5060, &out));
	assert_true(ct_request_from(c, "127.0.0.11", 5090, &out));
	assert_string_equal(out.name, "a");
	assert_true(ct_is_addr(&out.member, "127.0.0.11", 5090));
	struct cluster_stats st;
	cluster_get_stats(c, &st);
	assert_int_equal(st.takeovers, 0);
	assert_int_equal(st.changes, 0);
	/* A stream from the backup's IP (any source port) is the backup. */
	assert_true(ct_request_from(c, "127.0.0.21", 40001, &out));
	assert_string_equal(out.name, "a");
	assert_true(ct_is_addr(&out.member, "127.0.0.21", 5090));
	cluster_get_stats(c, &st);
	assert_int_equal(st.takeovers, 1);
	assert_string_equal(ct_view(c, "a").reason, "request from member 2: it is active");
	cluster_free(c);
}

/* Passive detection then a retry: the member that failed is avoided; with
 * probing on its pair is in doubt, so another node takes the request. */
static void test_retry_other_node(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "retry");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	struct proxy_node_ref failed = q.out;
	ct_result(c, &failed, PROXY_SERVER_TIMEOUT);
	struct cluster_node_view v = ct_view(c, failed.name);
	assert_string_equal(v.state, "unknown");
	assert_true(v.in_service);
	assert_int_equal(v.failures, 1);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &failed, &q), 0);
		assert_string_not_equal(q.out.name, failed.name);
	}
	/* An answer is no failure. */
	struct proxy_node_ref other = q.out;
	ct_result(c, &other, PROXY_SERVER_ANSWERED);
	assert_string_equal(ct_view(c, other.name).state, "active");
	assert_int_equal(ct_view(c, other.name).failures, 0);
	struct cluster_stats st;
	cluster_get_stats(c, &st);
	assert_int_equal(st.passive_failures, 1);
	sip_msg_free(inv);
	cluster_free(c);
}

/* Probing off (oos-check 0): the failure switches the pair to its other
 * member, and the retry goes to that new primary. */
static void test_retry_new_primary(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "cluster = { sip-servers = ( { name = \"solo\"; sip-address = \"127.0.0.11\";\n"
	    "  sip-port = 5090; backup-sip-address = \"127.0.0.21\"; oos-check = 0; } ); };\n");
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "retry2");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.11", 5090));
	struct proxy_node_ref failed = q.out;
	ct_result(c, &failed, PROXY_SERVER_TRANSPORT);
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &failed, &q), 0);
	assert_string_equal(q.out.name, "solo");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.21", 5090));
	/* A retry the pair did not react to still avoids the failed member. */
	failed = q.out;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &failed, &q), -1);
	sip_msg_free(inv);
	cluster_free(c);
}

/* A pair in doubt after its member failed: the retry goes to a node known
 * good, else, as a last resort, to the pair's other member (never back to
 * the one that failed). */
static void test_retry_pair_in_doubt(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
	    "    backup-sip-address = \"127.0.0.21\"; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090; } ); };\n");
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "doubt");
	struct proxy_node_ref fa = ct_ref(c, "a");
	ct_result(c, &fa, PROXY_SERVER_TIMEOUT);
	assert_string_equal(ct_view(c, "a").state, "unknown");
	struct proxy_pick q;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &fa, &q), 0);
		assert_string_equal(q.out.name, "b");
	}
	assert_int_equal(cluster_set_out(c, "b", true), 0);
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &fa, &q), 0);
	assert_string_equal(q.out.name, "a");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.21", 5090));
	/* That one failing too leaves nothing. */
	struct proxy_node_ref fa2 = q.out;
	ct_result(c, &fa2, PROXY_SERVER_TIMEOUT);
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &fa2, &q), -1);
	sip_msg_free(inv);
	cluster_free(c);
}

/* A single-member node in doubt: the retry has nowhere else to go (503
 * with Retry-After), but a new request still uses it, there being no node
 * known good. In a dialog the pair's other member takes the retry. */
static void test_retry_nowhere(void **state)
{
	(void)state;
	struct cluster *c =
	    ct_cluster("cluster = { retry-after = 9; sip-servers = (\n"
		       "  { name = \"one\"; sip-address = \"127.0.0.13\"; sip-port = 5090; },\n"
		       "  { name = \"two\"; sip-address = \"127.0.0.14\"; sip-port = 5090;\n"
		       "    backup-sip-address = \"127.0.0.24\"; } ); };\n");
	assert_int_equal(cluster_set_out(c, "two", true), 0);
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "retry3");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	struct proxy_node_ref failed = q.out;
	ct_result(c, &failed, PROXY_SERVER_503);
	assert_string_equal(ct_view(c, "one").state, "unknown");
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &failed, &q), -1);
	assert_int_equal(q.retry_after, 9);
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	assert_string_equal(q.out.name, "one");
	/* In a dialog with "two": a retry on its backup; "one" has none. */
	assert_int_equal(cluster_set_out(c, "two", false), 0);
	struct proxy_node_ref t = ct_ref(c, "two");
	assert_int_equal(ct_pick_q(c, inv, "two", NULL, &t, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.24", 5090));
	struct proxy_node_ref o = ct_ref(c, "one");
	assert_int_equal(ct_pick_q(c, inv, "one", NULL, &o, &q), -1);
	sip_msg_free(inv);
	cluster_free(c);
}

/* Data centers: this proxy's first; with none of them in service the other
 * data centers in the order of cluster.sip-servers, or of cluster.remote-dcs
 * (which then also says which may be used). */
static struct cluster *four_dcs(const char *extra)
{
	char text[2048];
	snprintf(text, sizeof(text),
		 "proxy = { geo-location = \"dc1\"; };\n"
		 "cluster = { %s\n"
		 "  sip-servers = (\n"
		 "    { name = \"a\"; sip-address = \"127.0.0.11\"; geo-location = \"dc1\"; },\n"
		 "    { name = \"b\"; sip-address = \"127.0.0.12\"; geo-location = \"dc2\"; },\n"
		 "    { name = \"c\"; sip-address = \"127.0.0.13\"; geo-location = \"dc3\"; },\n"
		 "    { name = \"d\"; sip-address = \"127.0.0.14\"; geo-location = \"dc2\"; } );\n"
		 "};\n",
		 extra);
	return ct_cluster(text);
}

/* The nodes n new requests go to, as a set of letters ("bd"; "" for none). */
static const char *spread(struct cluster *c, int n)
{
	static char set[8];
	bool hit[6] = {false};
	for (int i = 0; i < n; i++) {
		const char *name = ct_pick(c, "INVITE", "x", "spread");
		if (name[0])
			hit[ct_node_index(name)] = true;
	}
	size_t k = 0;
	for (int i = 0; i < 6; i++)
		if (hit[i])
			set[k++] = (char)('a' + i);
	set[k] = '\0';
	return set;
}

static void test_data_center_tiers(void **state)
{
	(void)state;
	struct cluster *c = four_dcs("");
	assert_true(ct_view(c, "a").local);
	assert_false(ct_view(c, "b").local);
	assert_string_equal(spread(c, 8), "a");
	cluster_set_out(c, "a", true);
	assert_string_equal(spread(c, 8), "bd"); /* dc2 appears first */
	cluster_set_out(c, "b", true);
	assert_string_equal(spread(c, 8), "d");
	cluster_set_out(c, "d", true);
	assert_string_equal(spread(c, 8), "c");
	cluster_set_out(c, "c", true);
	assert_string_equal(spread(c, 8), "");
	cluster_free(c);

	c = four_dcs("remote-dcs = [ \"dc3\", \"dc2\" ];");
	cluster_set_out(c, "a", true);
	assert_string_equal(spread(c, 8), "c");
	cluster_set_out(c, "c", true);
	assert_string_equal(spread(c, 8), "bd");
	cluster_free(c);

	/* Only the listed ones (matched without regard to case). */
	c = four_dcs("remote-dcs = [ \"DC3\" ];");
	cluster_set_out(c, "a", true);
	assert_string_equal(spread(c, 8), "c");
	cluster_set_out(c, "c", true);
	assert_string_equal(spread(c, 8), "");
	cluster_free(c);
}

/* A node without a geo-location serves every data center; a proxy without
 * one has every node local. */
static void test_data_center_unset(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "proxy = { geo-location = \"dc1\"; };\n"
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; geo-location = \"dc2\"; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; } ); };\n");
	assert_true(ct_view(c, "b").local);
	assert_string_equal(spread(c, 6), "b");
	cluster_free(c);
	c = ct_cluster(
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; geo-location = \"dc2\"; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; geo-location = \"dc3\"; } );"
	    " };\n");
	assert_true(ct_view(c, "a").local && ct_view(c, "b").local);
	assert_string_equal(spread(c, 6), "ab");
	cluster_free(c);
}

/* cluster.forward-remote = false: no local node in service is a 503 with
 * cluster.retry-after, not another data center. */
static void test_forward_remote_off(void **state)
{
	(void)state;
	struct cluster *c =
	    four_dcs("forward-remote = false; retry-after = 17; no-response-timeout = 1500;");
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "fr");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	assert_string_equal(q.out.name, "a");
	assert_int_equal(q.no_response_ms, 1500);
	cluster_set_out(c, "a", true);
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), -1);
	assert_int_equal(q.retry_after, 17);
	assert_string_equal(ct_pick_register(c, "sip:alice@example.com"), "");
	sip_msg_free(inv);
	cluster_free(c);
}

/* A node in doubt takes new requests only when no node anywhere is known
 * good; then at the member not suspected. */
static void test_unknown_only_when_no_active(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(
	    "proxy = { geo-location = \"dc1\"; };\n"
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; backup-sip-address = \"127.0.0.21\";"
	    " geo-location = \"dc1\"; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; geo-location = \"dc1\"; },\n"
	    "  { name = \"e\"; sip-address = \"127.0.0.15\"; geo-location = \"dc2\"; } ); };\n");
	struct proxy_node_ref ra = ct_ref(c, "a");
	ct_result(c, &ra, PROXY_SERVER_TIMEOUT);
	assert_string_equal(spread(c, 10), "b");
	cluster_set_out(c, "b", true);
	assert_string_equal(spread(c, 10), "e");
	cluster_set_out(c, "e", true);
	struct sip_msg *inv = ct_request("INVITE", "x", "sip:agent@example.com", "unk");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, NULL, &q), 0);
	assert_string_equal(q.out.name, "a");
	assert_true(ct_is_addr(&q.out.member, "127.0.0.21", 5060));
	/* Known good again (a request from its primary): first choice again. */
	cluster_set_out(c, "b", false);
	struct proxy_node_ref out;
	assert_true(ct_request_from(c, "127.0.0.11", 5060, &out));
	assert_string_equal(spread(c, 10), "ab");
	sip_msg_free(inv);
	cluster_free(c);
}

/* DN ownership is defined by REGISTER: an endpoint's requests go to the
 * node that accepted its REGISTER while that node is in service. */
static void test_owner_node(void **state)
{
	(void)state;
	struct cluster *c = ct_three_nodes("round-robin");
	char err[128];
	struct store *st = store_mem_new(NULL, err, sizeof(err));
	assert_non_null(st);
	struct registrar_config rc = {.domains = {"example.com"}, .n_domains = 1, .owner = "p1"};
	struct registrar *reg = registrar_new(&rc, st);
	assert_non_null(reg);
	struct store_binding b = {
	    .aor = STR_LIT("sip:alice@example.com"),
	    .contact = STR_LIT("sip:alice@10.0.0.5"),
	    .call_id = STR_LIT("reg-1"),
	    .cseq = 1,
	    .q = 1000,
	    .expires_at = registrar_now_ms() + 3600000,
	    .proto = TP_UDP,
	    .owner = STR_LIT("p1"),
	    .node = STR_LIT("c"),
	};
	assert_int_equal(store_save(st, &b), STORE_OK);
	struct store_binding z = b;
	z.aor = STR_LIT("sip:bob@example.com");
	z.node = STR_LIT("zz"); /* a node that is no more */
	assert_int_equal(store_save(st, &z), STORE_OK);
	char reg_node[CFG_NAME_MAX];
	snprintf(reg_node, sizeof(reg_node), "%s", ct_pick_register(c, "sip:alice@example.com"));
	cluster_set_registrar(c, reg);

	for (int i = 0; i < 6; i++)
		assert_string_equal(ct_pick(c, "INVITE", "alice", "own"), "c");
	/* Its REGISTER still goes by the hash. */
	assert_string_equal(ct_pick_register(c, "sip:alice@example.com"), reg_node);
	/* Others by the balancer. */
	assert_int_equal(strlen(spread(c, 3)), 3);
	unsigned used[3] = {0};
	for (int i = 0; i < 6; i++)
		used[ct_node_index(ct_pick(c, "INVITE", "bob", "own"))]++;
	assert_int_equal(used[0], 2);
	/* In doubt it still owns the endpoint... */
	struct proxy_node_ref rc_ = ct_ref(c, "c");
	ct_result(c, &rc_, PROXY_SERVER_TIMEOUT);
	assert_string_equal(ct_pick(c, "INVITE", "alice", "own"), "c");
	/* ...but not the retry of a request it failed... */
	struct sip_msg *inv = ct_request("INVITE", "alice", "sip:agent@example.com", "own2");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, inv, NULL, NULL, &rc_, &q), 0);
	assert_string_not_equal(q.out.name, "c");
	sip_msg_free(inv);
	/* ...and out of service, the others share its endpoints. */
	cluster_set_out(c, "c", true);
	memset(used, 0, sizeof(used));
	for (int i = 0; i < 6; i++)
		used[ct_node_index(ct_pick(c, "INVITE", "alice", "own"))]++;
	assert_int_equal(used[0], 3);
	assert_int_equal(used[1], 3);
	cluster_set_out(c, "c", false);
	assert_string_equal(ct_pick(c, "INVITE", "alice", "own"), "c");
	cluster_free(c);
	registrar_free(reg);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_register_same_aor_same_node),
	    cmocka_unit_test(test_register_moves_only_with_its_node),
	    cmocka_unit_test(test_in_dialog_follows_switchover),
	    cmocka_unit_test(test_server_request_hook),
	    cmocka_unit_test(test_retry_other_node),
	    cmocka_unit_test(test_retry_new_primary),
	    cmocka_unit_test(test_retry_pair_in_doubt),
	    cmocka_unit_test(test_retry_nowhere),
	    cmocka_unit_test(test_data_center_tiers),
	    cmocka_unit_test(test_data_center_unset),
	    cmocka_unit_test(test_forward_remote_off),
	    cmocka_unit_test(test_unknown_only_when_no_active),
	    cmocka_unit_test(test_owner_node),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
