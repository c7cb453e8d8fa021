/* test_calls.c — the cluster's dialog records (src/cluster/calls.c): a call
 * counted on its node from its 2xx to its BYE's answer (either side's tags),
 * found by Call-ID, gone after its lifetime; and shared through a real
 * redis-server (tests/unit/store/redis_test.h: a Unix socket, no TCP port):
 * a call recorded by one proxy is seen, counted and ended by another, a late
 * starter loads the calls in progress, and a Redis that comes back empty gets
 * each proxy's calls written back. */
#include "../store/redis_test.h"

#include "cluster/calls.h"

#define NOW 1800000000000LL

static int count_each(void *arg, const struct call_info *c)
{
	(void)c;
	(*(int *)arg)++;
	return 0;
}

static int each_of(struct calls *k, const char *call_id)
{
	int n = 0;
	calls_each(k, str_cstr(call_id), count_each, &n);
	return n;
}

static void start(struct calls *k, const char *cid, const char *ft, const char *tt,
		  const char *node, int64_t now)
{
	calls_started(k, str_cstr(cid), str_cstr(ft), str_cstr(tt), str_cstr(node), STR_LIT("p1"),
		      STR_LIT("sip:agent@example.com"), STR_LIT("sip:1001@example.com"), now);
}

static void test_local_life(void **state)
{
	(void)state;
	struct calls *k = calls_new("p1", 60);
	start(k, "c1", "a", "b", "n1", NOW);
	start(k, "c2", "c", "d", "n1", NOW);
	start(k, "c3", "e", "f", "n2", NOW);
	assert_int_equal(calls_count(k), 3);
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 2);
	assert_int_equal(calls_on_node(k, STR_LIT("n2")), 1);
	char node[64];
	assert_true(calls_node_of(k, STR_LIT("c3"), node, sizeof(node)));
	assert_string_equal(node, "n2");
	assert_false(calls_node_of(k, STR_LIT("nope"), node, sizeof(node)));
	assert_int_equal(each_of(k, "c1"), 1);
	assert_int_equal(each_of(k, ""), 3);
	/* the callee's BYE carries the tags the other way round */
	calls_ended(k, STR_LIT("c1"), STR_LIT("b"), STR_LIT("a"));
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 1);
	calls_ended(k, STR_LIT("c1"), STR_LIT("b"), STR_LIT("a"));
	calls_ended(k, STR_LIT("c2"), STR_LIT("c"), STR_LIT("x")); /* another dialog */
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 1);
	/* a forked call: two dialogs of one Call-ID, each its own record */
	start(k, "c4", "g", "h1", "n1", NOW);
	start(k, "c4", "g", "h2", "n1", NOW);
	assert_int_equal(each_of(k, "c4"), 2);
	/* lifetime */
	assert_int_equal(calls_expire(k, NOW + 59999), 0);
	assert_int_equal(calls_expire(k, NOW + 60000), 4);
	assert_int_equal(calls_count(k), 0);
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 0);
	calls_free(k);
}

/* Many calls: the table grows, counts stay exact. */
static void test_many(void **state)
{
	(void)state;
	struct calls *k = calls_new("p1", 3600);
	char cid[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(cid, sizeof(cid), "call-%d", i);
		start(k, cid, "x", "y", i % 2 ? "n1" : "n2", NOW);
	}
	assert_int_equal(calls_count(k), 5000);
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 2500);
	for (int i = 0; i < 5000; i += 2) {
		snprintf(cid, sizeof(cid), "call-%d", i);
		calls_ended(k, str_cstr(cid), STR_LIT("y"), STR_LIT("x"));
	}
	assert_int_equal(calls_on_node(k, STR_LIT("n2")), 0);
	assert_int_equal(calls_on_node(k, STR_LIT("n1")), 2500);
	calls_free(k);
}

struct proxy_pair {
	struct store *s;
	struct calls *k;
};

static struct proxy_pair proxy(struct rt *h, const char *name)
{
	struct proxy_pair p = {rt_store(h, name), calls_new(name, 3600)};
	assert_int_equal(calls_attach(p.k, store_redis_repl(p.s)), 0);
	return p;
}

static void drop(struct proxy_pair *p)
{
	store_free(p->s);
	calls_free(p->k);
}

static void test_shared(void **state)
{
	struct rt *h = *state;
	struct proxy_pair a = proxy(h, "pa"), b = proxy(h, "pb");
	RT_WAIT(h, rt_live(a.s) && rt_live(b.s));
	int64_t now = repl_now_ms();
	start(a.k, "s1", "t1", "t2", "n1", now);
	start(a.k, "s2", "t3", "t4", "n2", now);
	RT_WAIT(h, calls_count(b.k) == 2);
	assert_int_equal(calls_on_node(b.k, STR_LIT("n1")), 1);
	char node[64];
	assert_true(calls_node_of(b.k, STR_LIT("s2"), node, sizeof(node)));
	assert_string_equal(node, "n2");
	/* ended through the other proxy */
	calls_ended(b.k, STR_LIT("s1"), STR_LIT("t2"), STR_LIT("t1"));
	RT_WAIT(h, calls_count(a.k) == 1 && calls_count(b.k) == 1 && rt_idle(a.s) && rt_idle(b.s));
	/* a late starter loads the call in progress */
	struct proxy_pair c = proxy(h, "pc");
	RT_WAIT(h, rt_live(c.s) && calls_count(c.k) == 1);
	assert_int_equal(calls_on_node(c.k, STR_LIT("n2")), 1);
	/* Redis back empty: pa writes back the call it recorded */
	drop(&c);
	rt_redis_kill(h);
	rt_redis_start(h);
	RT_WAIT(h, rt_live(a.s) && rt_live(b.s) && rt_idle(a.s) && rt_idle(b.s));
	c = proxy(h, "pc");
	RT_WAIT(h, rt_live(c.s) && calls_count(c.k) == 1);
	assert_true(calls_node_of(c.k, STR_LIT("s2"), node, sizeof(node)));
	drop(&c);
	drop(&a);
	drop(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_local_life),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test_setup_teardown(test_shared, rt_setup, rt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
