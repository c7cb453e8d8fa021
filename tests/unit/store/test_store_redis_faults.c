/* test_store_redis_faults.c — the Redis registration store when things go
 * wrong, against a real redis-server: Redis killed and restarted empty (the
 * proxies route from memory, queue their writes, and write back what they
 * own: repl.h "Redis went back in time"), a proxy that comes back after
 * another already wrote to the new Redis, a write queue that overflows,
 * hostile content (a key of the wrong type, garbage log entries and
 * records: skipped and counted, never a crash), and write errors (OOM:
 * retried in order until Redis takes them). RFC 3261 §10.3: a REGISTER is
 * answered from this proxy's memory whatever Redis does. */
#include "redis_test.h"

static void save_many(struct store *s, const char *tag, int from, int n, const char *owner)
{
	for (int i = from; i < from + n; i++) {
		char aor[64], contact[64], cid[32];
		snprintf(aor, sizeof(aor), "sip:%s%d@example.com", tag, i);
		snprintf(contact, sizeof(contact), "sip:%s%d@192.0.2.70:%d", tag, i, 10000 + i);
		snprintf(cid, sizeof(cid), "%s-%d", tag, i);
		struct store_binding x = rt_mk(aor, contact, cid, 1, 3600000, owner);
		assert_int_equal(store_save(s, &x), STORE_OK);
	}
}

static bool has_tagged(struct store *s, const char *tag, int i)
{
	char aor[64];
	snprintf(aor, sizeof(aor), "sip:%s%d@example.com", tag, i);
	return rt_count_aor(s, aor) == 1;
}

static void assert_same(struct store *a, struct store *b)
{
	if (!rt_same(a, b)) {
		rt_diff(a, b);
		fail_msg("the two stores differ");
	}
}

/* A, B live with 20 bindings each, in step. */
static void two_with_data(struct rt *h, struct store **a, struct store **b, int base_b)
{
	struct rt_opts ob = {.base = base_b};
	*a = rt_store(h, "pxA");
	*b = rt_store_opts(h, "pxB", &ob);
	RT_WAIT(h, rt_live(*a) && rt_live(*b));
	save_many(*a, "oa", 0, 20, "pxA");
	save_many(*b, "ob", 0, 20, "pxB");
	RT_WAIT(h, store_count(*a) == 40 && store_count(*b) == 40 && rt_idle(*a) && rt_idle(*b) &&
		       rt_same(*a, *b));
	assert_int_equal(rt_redis_fields(h), 40);
}

/* 6. Redis crashes and comes back empty. While it is away A takes 200
 * REGISTERs: answered from memory at once, their writes queued. Once both
 * are back, every binding is in both stores and in Redis: A wrote its
 * queue and, like B, wrote back what it owned (the 40 from before). */
static void test_redis_restart_empty(void **state)
{
	struct rt *h = *state;
	struct store *a, *b;
	two_with_data(h, &a, &b, 0);

	rt_redis_kill(h);
	RT_WAIT(h, rt_stats(a).state == REPL_DOWN && rt_stats(b).state == REPL_DOWN);
	save_many(a, "da", 0, 200, "pxA");
	assert_int_equal(store_count(a), 240);
	for (int i = 0; i < 200; i++)
		assert_true(has_tagged(a, "da", i));
	struct repl_stats st = rt_stats(a);
	assert_int_equal(st.queued, 200);
	assert_int_equal(st.state, REPL_DOWN);

	rt_redis_start(h);
	RT_WAIT(h, rt_idle(a) && rt_idle(b) && store_count(a) == 240 && store_count(b) == 240 &&
		       rt_same(a, b));
	assert_int_equal(rt_redis_fields(h), 240);
	assert_true(rt_stats(a).lost_data >= 1);
	assert_true(rt_stats(b).lost_data >= 1);
	assert_true(rt_stats(a).connects >= 2);
	for (int i = 0; i < 20; i++)
		assert_true(has_tagged(b, "oa", i) && has_tagged(a, "ob", i));
	store_free(a);
	store_free(b);
}

/* 6b. The same, but B's loop is stalled through the outage and resumes only
 * after A has reconnected and written to the new, empty Redis: B still
 * must see that Redis lost data (not mistake the new log for a trimmed
 * one, load, and drop its own bindings), and write them back. */
static void test_redis_restart_late_reconnect(void **state)
{
	struct rt *h = *state;
	struct store *a, *b;
	rt_base(h, 1);
	two_with_data(h, &a, &b, 1);

	h->active[1] = false;
	rt_redis_kill(h);
	RT_WAIT(h, rt_stats(a).state == REPL_DOWN);
	save_many(a, "da", 0, 200, "pxA");
	rt_redis_start(h);
	RT_WAIT(h, rt_idle(a) && rt_redis_fields(h) == 220);

	h->active[1] = true;
	RT_WAIT(h, rt_idle(a) && rt_idle(b) && store_count(b) == 240 && store_count(a) == 240 &&
		       rt_same(a, b));
	assert_int_equal(rt_redis_fields(h), 240);
	for (int i = 0; i < 20; i++)
		assert_true(has_tagged(b, "ob", i) && has_tagged(a, "ob", i));
	store_free(a);
	store_free(b);
}

/* 6c. The write queue overflows (queue_max 50) while Redis is unreachable
 * (its connections killed; Redis keeps its data): the dropped writes are
 * counted, and once back A writes back everything it owns, even more than
 * a queue's worth, so B and Redis end with all of it. */
static void test_queue_overflow_write_back(void **state)
{
	struct rt *h = *state;
	struct rt_opts o = {.queue_max = 50};
	struct store *a = rt_store_opts(h, "pxA", &o), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	save_many(a, "qa", 0, 10, "pxA");
	RT_WAIT(h, store_count(b) == 10 && rt_idle(a));

	rt_do(h, "CLIENT KILL TYPE normal SKIPME yes");
	RT_WAIT(h, rt_stats(a).state == REPL_DOWN);
	save_many(a, "qa", 10, 200, "pxA");
	struct repl_stats st = rt_stats(a);
	assert_int_equal(st.queued, 50);
	assert_int_equal(st.queue_overflow, 150);
	assert_int_equal(store_count(a), 210); /* every one served from memory */

	RT_WAIT(h, rt_idle(a) && rt_idle(b) && store_count(b) == 210 && rt_same(a, b));
	assert_int_equal(rt_redis_fields(h), 210);
	store_free(a);
	store_free(b);
}

/* 9a. A key of the wrong type where an AOR's bucket belongs: the save is
 * refused for good by Redis; A keeps the binding (answering from memory),
 * counts it, does not crash, and other AORs go on replicating. */
static void test_wrong_type_key(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	const char *aor = "sip:wrongtype@example.com";
	char key[256];
	rt_key(h, aor, key, sizeof(key));
	rt_do(h, "SET %s not-a-hash", key);

	struct store_binding x = rt_mk(aor, "sip:w@192.0.2.80", "w1", 1, 60000, "pxA");
	struct store_binding ok =
	    rt_mk("sip:fine@example.com", "sip:f@192.0.2.81", "f1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	assert_int_equal(store_save(a, &ok), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_has_at(b, &ok, "f1", 1));
	struct repl_stats st = rt_stats(a);
	assert_int_equal(st.writes_failed, 1);
	assert_true(st.write_errors >= 1);
	assert_int_equal(rt_unstorable(a), 1);
	assert_int_equal(rt_count_aor(a, aor), 1); /* kept here */
	assert_false(rt_has(b, &x));
	/* a refresh meets the same refusal: counted again, still no crash */
	x.cseq = 2;
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_unstorable(a) == 2);
	/* a late starter's load skips the bucket (its HGETALL answers WRONGTYPE), counted */
	struct store *c = rt_store(h, "pxC");
	RT_WAIT(h, rt_live(c));
	assert_int_equal(store_count(c), 1);
	assert_int_equal(rt_stats(c).changes_bad, 1);
	store_free(c);
	store_free(a);
	store_free(b);
}

/* XADD of n fields and values to partition part's log, by hand; blen,
 * when not 0, is the length of the last value (binary). */
static void xadd(struct rt *h, unsigned part, int n, const char *const *fv, size_t blen)
{
	char log[64];
	rt_log_key(part, log, sizeof(log));
	const char *argv[32] = {"XADD", log, "*"};
	size_t len[32] = {4, strlen(log), 1};
	for (int i = 0; i < n; i++) {
		argv[3 + i] = fv[i];
		len[3 + i] = blen && i == n - 1 ? blen : strlen(fv[i]);
	}
	redisReply *r = rt_cmd_argv(h, 3 + n, argv, len);
	assert_int_equal(r->type, REDIS_REPLY_STRING);
	freeReplyObject(r);
}

/* 9b. Garbage entries in a partition's log (missing fields, bad numbers,
 * an unknown kind or op, a save whose value or payload is random bytes, a
 * payload whose binding belongs to another AOR): each counted once as bad
 * by every proxy, nothing applied, and the log goes on. */
static void test_garbage_log_entries(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	struct store_binding x =
	    rt_mk("sip:g@example.com", "sip:g@192.0.2.90", "g1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_has_at(b, &x, "g1", 1));
	struct repl_stats sa = rt_stats(a), sb = rt_stats(b);
	size_t na = store_count(a), nb = store_count(b);

	unsigned p = rt_partition(h, "sip:g@example.com");
	char key[BINDING_KEY_MAX];
	size_t kl = binding_key(&x, key, sizeof(key));
	key[kl] = '\0';
	char exp[32], good_hdr[128];
	snprintf(exp, sizeof(exp), "%lld", (long long)(repl_now_ms() + 60000));
	snprintf(good_hdr, sizeof(good_hdr), "99999999999999999 %s 5 g9\n", exp);
	unsigned char rnd[200];
	srand(7);
	for (size_t i = 0; i < sizeof(rnd); i++)
		rnd[i] = (unsigned char)rand();
	char withrnd[400];
	size_t hl = strlen(good_hdr);
	memcpy(withrnd, good_hdr, hl);
	memcpy(withrnd + hl, rnd, sizeof(rnd));
	/* a real binding's bytes, of another AOR than the entry's group */
	struct store_binding other =
	    rt_mk("sip:else@example.com", "sip:g@192.0.2.90", "g9", 5, 60000, "pxA");
	unsigned char enc[600];
	size_t el = binding_codec_len(&other);
	memcpy(enc, good_hdr, hl);
	binding_codec_put(&other, enc + hl);
	memset(enc + hl + el, 0, 16);

#define G "sip:g@example.com"
#define V "99999999999999999"
	const struct {
		int n;
		const char *f[12];
		size_t blen;
	} garbage[] = {
	    {2, {"o", "s"}, 0},						/* only an op */
	    {8, {"o", "r", "t", "r", "k", key, "v", "5"}, 0},		/* no group */
	    {10, {"o", "r", "t", "r", "g", G, "k", key, "v", "5x"}, 0}, /* not a number */
	    {10, {"o", "r", "t", "r", "g", G, "k", key, "v", "184467440737095516160"}, 0},
	    {10, {"o", "q", "t", "r", "g", G, "k", key, "v", "9"}, 0}, /* an unknown op */
	    {10, {"o", "r", "t", "z", "g", G, "k", key, "v", V}, 0},   /* an unknown kind */
	    /* a save whose value is random bytes */
	    {12,
	     {"o", "s", "t", "r", "g", G, "k", key, "v", V, "b", (const char *)rnd},
	     sizeof(rnd)},
	    /* a good header, a random payload */
	    {12, {"o", "s", "t", "r", "g", G, "k", key, "v", V, "b", withrnd}, hl + sizeof(rnd)},
	    /* a header whose version is not the entry's */
	    {12,
	     {"o", "s", "t", "r", "g", G, "k", key, "v", "99999999999999998", "b", withrnd},
	     hl + sizeof(rnd)},
	    /* a real binding of another AOR under this AOR's group */
	    {12,
	     {"o", "s", "t", "r", "g", G, "k", key, "v", V, "b", (const char *)enc},
	     hl + el + 16},
	};
#undef G
#undef V
	const int bad = (int)(sizeof(garbage) / sizeof(garbage[0]));
	for (int i = 0; i < bad; i++)
		xadd(h, p, garbage[i].n, garbage[i].f, garbage[i].blen);
	RT_WAIT(h, rt_stats(b).changes_bad >= sb.changes_bad + (uint64_t)bad &&
		       rt_stats(a).changes_bad >= sa.changes_bad + (uint64_t)bad);
	/* then a real change: the log goes on, and it is the only one applied */
	struct store_binding y =
	    rt_mk("sip:g@example.com", "sip:g2@192.0.2.91", "g2", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &y), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_has_at(b, &y, "g2", 1));
	struct repl_stats ea = rt_stats(a), eb = rt_stats(b);
	assert_int_equal(eb.changes_bad - sb.changes_bad, bad);
	assert_int_equal(ea.changes_bad - sa.changes_bad, bad);
	/* nothing of the garbage was applied: only y's own entry */
	assert_int_equal(eb.changes_applied - sb.changes_applied, 1);
	assert_true(rt_has_at(b, &x, "g1", 1) && rt_has_at(a, &x, "g1", 1));
	assert_int_equal(store_count(a), na + 1);
	assert_int_equal(store_count(b), nb + 1);
	assert_int_equal(rt_count_aor(b, "sip:else@example.com"), 0);
	store_free(a);
	store_free(b);
}

/* 9c. Garbage values in an AOR's hash, then a late starter's full load:
 * each bad record skipped and counted, the good ones loaded; the next
 * write to that AOR clears the unreadable ones out of Redis. */
static void test_garbage_records_load(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA");
	RT_WAIT(h, rt_live(a));
	const char *aor = "sip:h@example.com";
	struct store_binding x = rt_mk(aor, "sip:h@192.0.2.100", "h1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_idle(a));

	char key[256], exp[32], hdr[128];
	rt_key(h, aor, key, sizeof(key));
	snprintf(exp, sizeof(exp), "%lld", (long long)(repl_now_ms() + 60000));
	snprintf(hdr, sizeof(hdr), "7 %s 1 zz\n", exp);
	/* the group's value as A wrote it, with bad records framed after x's */
	redisReply *g = rt_cmd(h, "HGET %s %s", key, aor);
	assert_int_equal(g->type, REDIS_REPLY_STRING);
	static char v[8192];
	size_t n = g->len;
	memcpy(v, g->str, n);
	freeReplyObject(g);
	char rec[700];
	snprintf(rec, sizeof(rec), "%s%s", hdr, "random payload bytes");
	n += rt_frame(v + n, sizeof(v) - n, "c:junk1", 7, "no header at all", 16);
	n += rt_frame(v + n, sizeof(v) - n, "c:junk2", 7, "x y z w\npayload", 15);
	n += rt_frame(v + n, sizeof(v) - n, "c:junk3", 7, "0 1 2 zz\npayload", 16); /* version 0 */
	n += rt_frame(v + n, sizeof(v) - n, "c:junk4", 7, rec, strlen(rec));
	/* a real binding stored under a field that is not its key */
	unsigned char enc[600];
	size_t hl = strlen(hdr), el = binding_codec_len(&x);
	memcpy(enc, hdr, hl);
	binding_codec_put(&x, enc + hl);
	memset(enc + hl + el, 0, 16);
	n += rt_frame(v + n, sizeof(v) - n, "c:sip:not-its-key", 17, enc, hl + el + 16);
	/* a frame whose lengths run past the value: the group ends there */
	memcpy(v + n, "9 99999\nc:trunc", 15);
	n += 15;
	rt_do(h, "HSET %s %s %b", key, aor, v, n);
	/* keys that are no bucket of ours are not looked at */
	rt_do(h, "HSET %s:{0}:q:sip:x@y f v", RT_PREFIX);
	rt_do(h, "HSET %s:{0}:r:sip:x@y f v", RT_PREFIX);
	const int bad = 6;

	struct store *c = rt_store(h, "pxC");
	RT_WAIT(h, rt_live(c));
	struct repl_stats st = rt_stats(c);
	assert_int_equal(st.changes_bad, bad);
	assert_int_equal(store_count(c), 1);
	assert_true(rt_has_at(c, &x, "h1", 1));
	assert_same(a, c);

	/* the next write to the AOR drops what it cannot read (and logs it) */
	struct store_binding y = rt_mk(aor, "sip:h2@192.0.2.101", "h2", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &y), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_has_at(c, &y, "h2", 1));
	/* the records with a readable header stay (Redis cannot tell) */
	long long left = rt_redis_hlen(h, aor);
	assert_int_equal(left, 2 + 2);
	store_free(c);
	store_free(a);
}

/* An AOR "sip:wl<n>@example.com" of partition part (want) or of another one. */
static void aor_in(struct rt *h, unsigned part, bool want, char *out, size_t cap)
{
	for (int n = 0;; n++) {
		snprintf(out, cap, "sip:wl%d@example.com", n);
		if ((rt_partition(h, out) == part) == want)
			return;
	}
}

/* 9d. A partition's log key holding a string: the tail's read fails
 * (counted), the log keys' types are asked and the bad one is left out, so
 * the other partitions replicate on; once the key is a log again, that
 * partition's changes are followed again. */
static void test_wrong_type_log(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	char log[64], other[64], in3[64];
	rt_log_key(3, log, sizeof(log));
	aor_in(h, 3, false, other, sizeof(other));
	aor_in(h, 3, true, in3, sizeof(in3));
	rt_do(h, "DEL %s", log);
	rt_do(h, "SET %s not-a-stream", log);
	uint64_t bad = rt_stats(b).changes_bad;
	/* B's blocked read does not notice until its next one: give it one */
	struct store_binding x = rt_mk(other, "sip:wl@192.0.2.110", "wl1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_stats(b).changes_bad > bad && rt_has_at(b, &x, "wl1", 1));
	/* and on: another change of another partition, while the key is still bad */
	struct store_binding x2 = rt_mk(other, "sip:wl@192.0.2.112", "wl3", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x2), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &x2, "wl3", 1));
	rt_do(h, "DEL %s", log);
	struct store_binding y = rt_mk(in3, "sip:wl2@192.0.2.111", "wl2", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &y), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &y, "wl2", 1) && rt_idle(a));
	store_free(a);
	store_free(b);
}

/* Fills Redis (maxmemory 1 MB, noeviction) until writes get OOM. */
static void fill_until_oom(struct rt *h)
{
	rt_do(h, "CONFIG SET maxmemory-policy noeviction");
	rt_do(h, "CONFIG SET maxmemory 1mb");
	static char blob[4096];
	memset(blob, 'x', sizeof(blob) - 1);
	for (int i = 0; i < 100000; i++) {
		redisReply *r = rt_cmd(h, "SET fill:%d %s", i, blob);
		bool oom = r->type == REDIS_REPLY_ERROR && strncmp(r->str, "OOM", 3) == 0;
		freeReplyObject(r);
		if (oom)
			return;
	}
	fail_msg("Redis never refused a write with maxmemory 1mb");
}

/* 10. Redis refuses writes (OOM): A keeps serving from memory and retries
 * in order; a save, another save and the removal of the first, all refused
 * once, end as A made them (the removal is not overtaken by its save) once
 * Redis takes writes again, and B follows. */
static void test_oom_retried_in_order(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	fill_until_oom(h);

	struct store_binding x =
	    rt_mk("sip:oom@example.com", "sip:x@192.0.2.120", "o1", 1, 60000, "pxA");
	struct store_binding y =
	    rt_mk("sip:oom@example.com", "sip:y@192.0.2.121", "o2", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	assert_int_equal(store_save(a, &y), STORE_OK);
	struct store_binding rm = x;
	rm.cseq = 2;
	assert_int_equal(store_remove(a, &rm), STORE_OK);
	RT_WAIT(h, rt_stats(a).write_errors > 0);
	assert_int_equal(rt_count_aor(a, "sip:oom@example.com"), 1); /* served from memory */
	assert_true(rt_has(a, &y));
	assert_int_equal(rt_stats(a).writes_failed, 0); /* OOM is not for good */
	assert_false(rt_has(b, &y));

	rt_do(h, "CONFIG SET maxmemory 0");
	RT_WAIT(h, rt_idle(a) && rt_has_at(b, &y, "o2", 1) && rt_has_at(a, &y, "o2", 1));
	/* a later change through proves B read past the retried writes */
	struct store_binding m =
	    rt_mk("sip:oom2@example.com", "sip:m@192.0.2.122", "o3", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &m), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_has_at(b, &m, "o3", 1));
	assert_false(rt_has(b, &x));
	assert_false(rt_has(a, &x));
	assert_false(rt_redis_has(h, &x, NULL));
	assert_true(rt_redis_has(h, &y, NULL));
	assert_same(a, b);
	store_free(a);
	store_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_redis_restart_empty, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_redis_restart_late_reconnect, rt_setup,
					    rt_teardown),
	    cmocka_unit_test_setup_teardown(test_queue_overflow_write_back, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_type_key, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_log_entries, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_records_load, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_type_log, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_oom_retried_in_order, rt_setup, rt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
