/* test_cluster_reload.c — cluster_apply, the cluster definition applied again
 * on reload without dropping anything in flight: nodes added, removed or
 * changed (other members or transport: a new node) at once; unchanged
 * nodes keep their HA state, operator's out, counters and handle (the id
 * the proxy holds for requests in flight); the trust set and data centers
 * follow; a definition that cannot be applied (a host that does not
 * resolve) changes nothing at all. */
#include "cluster_test.h"

/* Four nodes; e's entry may carry more settings. */
#define DEF(e_extra)                                                                               \
	"proxy = { geo-location = \"dc1\"; };\n"                                                   \
	"cluster = {\n"                                                                            \
	"  sip-servers = (\n"                                                                      \
	"    { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"                     \
	"      backup-sip-address = \"127.0.0.21\"; },\n"                                          \
	"    { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"                     \
	"      backup-sip-address = \"127.0.0.22\"; },\n"                                          \
	"    { name = \"c\"; sip-address = \"127.0.0.13\"; sip-port = 5090; },\n"                  \
	"    { name = \"e\"; sip-address = \"127.0.0.15\"; sip-port = 5090; " e_extra " } );\n"    \
	"};\n"
#define BASE DEF("")

static struct config next_cfg; /* the definition applied; big */

static int apply(struct cluster *c, const char *text, char *err, size_t errlen)
{
	ct_config(text, &next_cfg);
	return cluster_apply(c, &next_cfg, err, errlen);
}

static bool trusted(struct cluster *c, const char *ip)
{
	union tp_sockaddr a = ct_addr(ip, 5090);
	return cluster_is_trusted(c, &a);
}

static void test_reload_added_removed_changed(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(BASE);
	uint32_t id_a = ct_ref(c, "a").id, id_b = ct_ref(c, "b").id, id_c = ct_ref(c, "c").id;
	uint32_t id_e = ct_ref(c, "e").id;
	/* State worth keeping: b's backup took over, a is out by hand, b has a
	 * call and a request. */
	struct proxy_node_ref out;
	assert_true(ct_request_from(c, "127.0.0.22", 5090, &out));
	assert_int_equal(cluster_set_out(c, "a", true), 0);
	struct proxy_routing r = ct_hooks(c);
	struct proxy_node_ref rb = ct_ref(c, "b");
	r.call_delta(r.arg, &rb, +1);
	uint64_t b_changes = ct_view(c, "b").changes;

	/* a and b as they were (b with another weight), c moved to another
	 * address, d new, e gone; in another order. */
	char err[256] = "";
	int rc = apply(c,
		       "proxy = { geo-location = \"dc1\"; };\n"
		       "cluster = { sip-servers = (\n"
		       "  { name = \"d\"; sip-address = \"127.0.0.14\"; sip-port = 5090; },\n"
		       "  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
		       "    backup-sip-address = \"127.0.0.22\"; weight = 5; },\n"
		       "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
		       "    backup-sip-address = \"127.0.0.21\"; },\n"
		       "  { name = \"c\"; sip-address = \"127.0.0.33\"; sip-port = 5090; } ); };\n",
		       err, sizeof(err));
	if (rc)
		print_error("%s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(cluster_node_count(c), 4);
	struct cluster_node_view v[8];
	assert_int_equal(cluster_view(c, v, 8), 4);
	assert_string_equal(v[0].name, "d");
	assert_string_equal(v[1].name, "b");
	assert_string_equal(v[2].name, "a");
	assert_string_equal(v[3].name, "c");

	/* a: still out by hand, same handle. */
	assert_true(v[2].manual_out);
	assert_false(v[2].in_service);
	assert_int_equal(cluster_set_out(c, "a", false), 0);
	assert_int_equal(ct_ref(c, "a").id, id_a);
	/* b: still on its backup, its call counted, the new weight. */
	assert_string_equal(v[1].m[1].role, "primary");
	assert_int_equal(v[1].changes, b_changes);
	assert_int_equal(v[1].active_calls, 1);
	assert_int_equal(v[1].weight, 5);
	struct proxy_node_ref nb = ct_ref(c, "b");
	assert_int_equal(nb.id, id_b);
	assert_true(ct_is_addr(&nb.member, "127.0.0.22", 5090));
	/* c: a new node at its new address, fresh state and handle. */
	struct proxy_node_ref nc = ct_ref(c, "c");
	assert_int_not_equal(nc.id, id_c);
	assert_true(ct_is_addr(&nc.member, "127.0.0.33", 5090));
	assert_string_equal(v[3].reason, "configured primary");
	assert_int_equal(v[3].changes, 0);
	/* d: new, with a handle no old node had. */
	uint32_t id_d = ct_ref(c, "d").id;
	assert_true(id_d != id_a && id_d != id_b && id_d != id_c && id_d != id_e);
	assert_true(nc.id != id_e);

	/* Trust follows: e's and c's old addresses are nobody's now. */
	assert_false(trusted(c, "127.0.0.15"));
	assert_false(trusted(c, "127.0.0.13"));
	assert_true(trusted(c, "127.0.0.33"));
	assert_true(trusted(c, "127.0.0.14"));
	union tp_sockaddr d_addr = ct_addr("127.0.0.14", 5090);
	assert_true(cluster_is_server(c, &d_addr));
	/* A request in flight to e (a handle that is gone) is ignored. */
	struct proxy_node_ref gone = {.id = id_e};
	snprintf(gone.name, sizeof(gone.name), "e");
	gone.member.addr = ct_addr("127.0.0.15", 5090);
	ct_result(c, &gone, PROXY_SERVER_TIMEOUT);
	r.call_delta(r.arg, &gone, -1);

	struct cluster_stats st;
	cluster_get_stats(c, &st);
	assert_int_equal(st.reloads, 1);
	assert_int_equal(st.reload_errors, 0);
	assert_int_equal(st.passive_failures, 0);
	cluster_free(c);
}

/* The same members over another transport are other servers: a new node. */
static void test_reload_transport_is_a_change(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(BASE);
	uint32_t id_e = ct_ref(c, "e").id, id_a = ct_ref(c, "a").id;
	char err[256];
	assert_int_equal(apply(c, DEF("transport = \"tcp\";"), err, sizeof(err)), 0);
	struct proxy_node_ref ne = ct_ref(c, "e");
	assert_int_not_equal(ne.id, id_e);
	assert_int_equal(ne.member.proto, TP_TCP);
	assert_int_equal(ct_ref(c, "a").id, id_a);
	cluster_free(c);
}

/* A definition that cannot be applied changes nothing: not the kept nodes'
 * settings, not the node list, not the cluster options; the error says
 * which host. A later good one applies. */
static void test_reload_failure_changes_nothing(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(BASE);
	struct proxy_node_ref out;
	assert_true(ct_request_from(c, "127.0.0.22", 5090, &out));
	uint32_t id_b = ct_ref(c, "b").id;
	char err[256] = "";
	/* a and b kept (with new weights), then a host that does not resolve. */
	int rc = apply(
	    c,
	    "proxy = { geo-location = \"dc9\"; };\n"
	    "cluster = { balance = \"weighted\"; sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
	    "    backup-sip-address = \"127.0.0.21\"; weight = 7; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
	    "    backup-sip-address = \"127.0.0.22\"; weight = 9; geo-location = \"dc2\"; },\n"
	    "  { name = \"x\"; sip-address = \"no-such-host.invalid\"; } ); };\n",
	    err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_string_equal(err, "sip-server x: cannot resolve no-such-host.invalid");
	assert_int_equal(cluster_node_count(c), 4);
	struct cluster_node_view va = ct_view(c, "a"), vb = ct_view(c, "b");
	assert_int_equal(va.weight, 1);
	assert_int_equal(vb.weight, 1);
	assert_string_equal(vb.geo, "");
	assert_true(vb.local);
	assert_string_equal(vb.m[1].role, "primary");
	assert_int_equal(ct_ref(c, "b").id, id_b);
	/* Still round-robin: 4 picks, 4 nodes. */
	bool seen[5] = {false};
	for (int i = 0; i < 4; i++)
		seen[ct_pick(c, "INVITE", "x", "after")[0] - 'a'] = true;
	assert_true(seen[0] && seen[1] && seen[2] && seen[4]);
	/* An SBC that does not resolve is no better. */
	rc = apply(c,
		   "cluster = { sip-servers = (\n"
		   "  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
		   "    backup-sip-address = \"127.0.0.21\"; weight = 3; } );\n"
		   "  sbcs = ( { name = \"edge\"; sip-address = \"edge.invalid\"; } ); };\n",
		   err, sizeof(err));
	assert_int_equal(rc, -1);
	assert_string_equal(err, "sbc edge: cannot resolve edge.invalid");
	assert_int_equal(cluster_node_count(c), 4);
	assert_int_equal(ct_view(c, "a").weight, 1);
	struct cluster_stats st;
	cluster_get_stats(c, &st);
	assert_int_equal(st.reloads, 0);
	assert_int_equal(st.reload_errors, 2);

	/* The good one applies, b's state kept. */
	rc = apply(c,
		   "cluster = { sip-servers = (\n"
		   "  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
		   "    backup-sip-address = \"127.0.0.22\"; weight = 9; } ); };\n",
		   err, sizeof(err));
	assert_int_equal(rc, 0);
	assert_int_equal(cluster_node_count(c), 1);
	vb = ct_view(c, "b");
	assert_int_equal(vb.weight, 9);
	assert_string_equal(vb.m[1].role, "primary");
	assert_int_equal(ct_ref(c, "b").id, id_b);
	cluster_free(c);
}

/* The data centers are worked out again: this proxy's own may change. */
static void test_reload_data_centers(void **state)
{
	(void)state;
	const char *nodes =
	    "cluster = { sip-servers = (\n"
	    "  { name = \"a\"; sip-address = \"127.0.0.11\"; geo-location = \"dc1\"; },\n"
	    "  { name = \"b\"; sip-address = \"127.0.0.12\"; geo-location = \"dc2\"; } );"
	    " };\n";
	char text[1024];
	snprintf(text, sizeof(text), "proxy = { geo-location = \"dc1\"; };\n%s", nodes);
	struct cluster *c = ct_cluster(text);
	assert_true(ct_view(c, "a").local);
	assert_false(ct_view(c, "b").local);
	assert_string_equal(ct_pick(c, "INVITE", "x", "dc"), "a");
	snprintf(text, sizeof(text), "proxy = { geo-location = \"dc2\"; };\n%s", nodes);
	char err[256];
	assert_int_equal(apply(c, text, err, sizeof(err)), 0);
	assert_false(ct_view(c, "a").local);
	assert_true(ct_view(c, "b").local);
	assert_string_equal(ct_pick(c, "INVITE", "x", "dc"), "b");
	cluster_free(c);
}

/* A node removed while it has calls stays for them (retiring): their
 * in-dialog requests still reach it and its members stay trusted, new
 * requests never go there; once its calls are over, the next definition
 * applied (or its own check, with a proxy) lets it go. */
static void test_reload_removed_node_keeps_its_calls(void **state)
{
	(void)state;
	struct cluster *c = ct_cluster(BASE);
	struct proxy_routing r = ct_hooks(c);
	/* a call on c: its INVITE's 2xx made a dialog record */
	struct proxy_dialog d = {.call_id = STR_LIT("c-call"),
				 .from_tag = STR_LIT("f1"),
				 .to_tag = STR_LIT("t1"),
				 .node = STR_LIT("c"),
				 .flow = STR_LIT("p1")};
	r.dialog(r.arg, &d, true);
	char err[256] = "";
	const char *without_c = "proxy = { geo-location = \"dc1\"; };\n"
				"cluster = { sip-servers = (\n"
				"  { name = \"a\"; sip-address = \"127.0.0.11\"; sip-port = 5090;\n"
				"    backup-sip-address = \"127.0.0.21\"; },\n"
				"  { name = \"b\"; sip-address = \"127.0.0.12\"; sip-port = 5090;\n"
				"    backup-sip-address = \"127.0.0.22\"; } ); };\n";
	assert_int_equal(apply(c, without_c, err, sizeof(err)), 0);
	assert_int_equal(cluster_node_count(c), 3);
	assert_string_equal(ct_view(c, "c").state, "retiring");
	assert_false(ct_view(c, "c").in_service);
	assert_true(trusted(c, "127.0.0.13"));
	/* its dialog's BYE still goes there, and its answer ends the call */
	struct sip_msg *bye = ct_request("BYE", "someone", "sip:someone@example.com", "c-call");
	struct proxy_pick q;
	assert_int_equal(ct_pick_q(c, bye, "c", NULL, NULL, &q), 0);
	assert_true(ct_is_addr(&q.out.member, "127.0.0.13", 5090));
	sip_msg_free(bye);
	r.dialog(r.arg, &d, false);
	/* no new request goes there */
	for (int i = 0; i < 30; i++) {
		char cid[32];
		snprintf(cid, sizeof(cid), "new-%d", i);
		assert_string_not_equal(ct_pick(c, "INVITE", "someone", cid), "c");
	}
	/* its call is over: the next definition applied drops it */
	assert_int_equal(apply(c, without_c, err, sizeof(err)), 0);
	assert_int_equal(cluster_node_count(c), 2);
	assert_false(trusted(c, "127.0.0.13"));
	cluster_free(c);
}

int main(void)
{
	/* The hosts that must not resolve ask DNS: bound the wait where no
	 * name server answers (glibc reads this at its first lookup). */
	setenv("RES_OPTIONS", "timeout:1 attempts:1", 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reload_added_removed_changed),
	    cmocka_unit_test(test_reload_transport_is_a_change),
	    cmocka_unit_test(test_reload_failure_changes_nothing),
	    cmocka_unit_test(test_reload_data_centers),
	    cmocka_unit_test(test_reload_removed_node_keeps_its_calls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
