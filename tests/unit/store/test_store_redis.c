/* test_store_redis.c — the Redis registration store (src/store/store_redis.c
 * over repl.h) against a real redis-server: proxies with different owner
 * names in one process, each a store_redis, kept in step through Redis.
 * RFC 3261 §10.3 (bindings, step 7 Call-ID/CSeq ordering, step 6 "Contact:
 * *", expiry), §19.1.4 (equal Contacts are one binding), RFC 5626 §6
 * (instance keys); repl.h's data model (hash per AOR, per-partition log),
 * the full load of a late starter and of a proxy the trimmed log left
 * behind. Outages, hostile content and write errors: test_store_redis_faults.c. */
#include "redis_test.h"

/* Hears one store's change events. */
struct events {
	int saved, removed, expired;
};

static void on_event(void *arg, enum store_event ev, const struct store_binding *b)
{
	(void)b;
	struct events *e = arg;
	if (ev == STORE_EV_SAVED)
		e->saved++;
	else if (ev == STORE_EV_REMOVED)
		e->removed++;
	else
		e->expired++;
}

/* The contacts a lookup visits, in order. */
struct seen_order {
	int n;
	char contact[4][128];
};

static int collect_order(void *arg, const struct store_binding *b)
{
	struct seen_order *s = arg;
	if (s->n < 4)
		str_copy(s->contact[s->n], sizeof(s->contact[0]), b->contact);
	s->n++;
	return 0;
}

/* b's record as Redis holds it: version and Call-ID/CSeq of its header. */
struct rv {
	bool found;
	uint64_t version;
	uint32_t cseq;
	char call_id[128];
};

static struct rv redis_value(struct rt *h, const struct store_binding *b)
{
	struct rv v;
	memset(&v, 0, sizeof(v));
	char field[BINDING_KEY_MAX], aor[256], val[2048];
	str_copy(aor, sizeof(aor), b->aor);
	size_t flen = binding_key(b, field, sizeof(field));
	if (rt_redis_record(h, aor, field, flen, val, sizeof(val))) {
		unsigned long long ver = 0, exp = 0;
		unsigned cseq = 0;
		if (sscanf(val, "%llu %llu %u %127[^\n]", &ver, &exp, &cseq, v.call_id) == 4) {
			v.found = true;
			v.version = ver;
			v.cseq = cseq;
		}
	}
	return v;
}

/* s holds b exactly as Redis does (same version): converged. */
static bool agrees(struct rt *h, struct store *s, const struct store_binding *b)
{
	struct rv v = redis_value(h, b);
	struct rt_got g = rt_get(s, b);
	return v.found && g.found && g.version == v.version && g.cseq == v.cseq &&
	       strcmp(g.call_id, v.call_id) == 0;
}

static void assert_same(struct store *a, struct store *b)
{
	if (!rt_same(a, b)) {
		rt_diff(a, b);
		fail_msg("the two stores differ");
	}
}

/* 1. Both go live; a binding saved through A appears in B with every field
 * (IPv4 and IPv6 with scope, Path, node, instance), confirmed by the version
 * Redis gave it; the connection id travels (only its owner's next run drops
 * it, see test_trimmed_full_load). */
static void test_live_and_replicate(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	struct events ev = {0};
	store_watch(b, on_event, &ev);
	RT_WAIT(h, rt_live(a) && rt_live(b));
	struct repl_stats st = rt_stats(a);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.full_loads, 1); /* a first start loads (nothing) */
	assert_string_equal(st.master, h->addr);

	struct store_binding x =
	    rt_mk("sip:alice@example.com", "sip:alice@192.0.2.10:5062;transport=tcp", "cid-1@a", 7,
		  3600000, "pxA");
	x.path = STR_LIT("<sip:edge1.example.com;lr>,<sip:edge2.example.com;lr>");
	x.node = STR_LIT("ss-east");
	x.proto = TP_TCP;
	x.q = 700;
	x.conn_id = 42;
	x.source.in4.sin_port = htons(40123);
	inet_pton(AF_INET, "192.0.2.10", &x.source.in4.sin_addr);

	struct store_binding y = rt_mk("sip:alice@example.com", "sips:alice@[2001:db8::7]:5061",
				       "cid-2@a", 1, 1800000, "pxA");
	y.instance = STR_LIT("<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	y.reg_id = 2;
	y.proto = TP_TLS;
	y.conn_id = 43;
	memset(&y.source, 0, sizeof(y.source));
	y.source.in6.sin6_family = AF_INET6;
	y.source.in6.sin6_port = htons(5061);
	y.source.in6.sin6_scope_id = 3;
	inet_pton(AF_INET6, "fe80::1", &y.source.in6.sin6_addr);

	assert_int_equal(store_save(a, &x), STORE_OK);
	assert_int_equal(store_save(a, &y), STORE_OK);
	/* A answers from memory at once, before Redis did anything */
	assert_int_equal(rt_count_aor(a, "sip:alice@example.com"), 2);
	assert_int_equal(rt_get(a, &x).version, 0);

	RT_WAIT(h, rt_has_at(b, &x, "cid-1@a", 7) && rt_has_at(b, &y, "cid-2@a", 1));
	/* A's own record is confirmed by Redis's answer or its log entry,
	 * whichever comes first */
	RT_WAIT(h, rt_has_at(a, &x, "cid-1@a", 7) && rt_has_at(a, &y, "cid-2@a", 1) && rt_idle(a));

	struct rt_got g = rt_get(b, &x);
	assert_string_equal(g.contact, "sip:alice@192.0.2.10:5062;transport=tcp");
	assert_string_equal(g.call_id, "cid-1@a");
	assert_int_equal(g.cseq, 7);
	assert_int_equal(g.expires_at, x.expires_at);
	assert_string_equal(g.owner, "pxA");
	assert_string_equal(g.node, "ss-east");
	assert_string_equal(g.path, "<sip:edge1.example.com;lr>,<sip:edge2.example.com;lr>");
	assert_string_equal(g.instance, "");
	assert_int_equal(g.q, 700);
	assert_int_equal(g.proto, TP_TCP);
	assert_int_equal(g.source.in4.sin_family, AF_INET);
	assert_int_equal(ntohs(g.source.in4.sin_port), 40123);
	assert_memory_equal(&g.source.in4.sin_addr, &x.source.in4.sin_addr, 4);
	assert_int_equal(g.conn_id, 42); /* kept: only the owner's next run drops it */

	g = rt_get(b, &y);
	assert_string_equal(g.contact, "sips:alice@[2001:db8::7]:5061");
	assert_string_equal(g.instance, "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>");
	assert_int_equal(g.reg_id, 2);
	assert_int_equal(g.proto, TP_TLS);
	assert_int_equal(g.source.in6.sin6_family, AF_INET6);
	assert_int_equal(ntohs(g.source.in6.sin6_port), 5061);
	assert_int_equal(g.source.in6.sin6_scope_id, 3);
	assert_memory_equal(&g.source.in6.sin6_addr, &y.source.in6.sin6_addr, 16);
	assert_int_equal(g.conn_id, 43);
	assert_int_equal(rt_get(a, &x).conn_id, 42); /* its own run: kept */

	/* one version everywhere, and Redis holds both under the AOR's hash */
	assert_true(agrees(h, a, &x) && agrees(h, b, &x));
	assert_true(agrees(h, a, &y) && agrees(h, b, &y));
	assert_int_equal(rt_redis_hlen(h, "sip:alice@example.com"), 2);
	assert_same(a, b);

	/* B's lookup: highest q first (y 1000 before x 700) */
	struct seen_order so = {0};
	assert_int_equal(
	    store_lookup(b, str_cstr("sip:alice@example.com"), repl_now_ms(), collect_order, &so),
	    2);
	assert_string_equal(so.contact[0], "sips:alice@[2001:db8::7]:5061");

	assert_int_equal(ev.saved, 2); /* B's listener heard the replayed saves */
	st = rt_stats(b);
	assert_true(st.changes_applied >= 2);
	assert_true(st.lag_count >= 2);		    /* A's changes: lag measured */
	assert_int_equal(rt_stats(a).lag_count, 0); /* its own: not a lag */
	assert_int_equal(rt_stats(a).writes, 2);
	store_free(a);
	store_free(b);
}

/* 2. RFC 3261 §10.3 step 7 across proxies: a refresh through A reaches B; a
 * stale REGISTER (same Call-ID, CSeq not newer) is refused in A and in B and
 * changes nothing anywhere; two refreshes racing through A and B end with
 * the newer CSeq everywhere (Redis refuses the older one as stale). */
static void test_refresh_and_stale(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	struct store_binding x =
	    rt_mk("sip:bob@example.com", "sip:bob@192.0.2.20", "r1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &x, "r1", 1));

	x.cseq = 2;
	x.expires_at += 60000;
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &x, "r1", 2) && agrees(h, b, &x));
	assert_int_equal(rt_get(b, &x).expires_at, x.expires_at);
	assert_int_equal(store_count(b), 1);

	/* stale through A and through B: refused, nothing written */
	struct store_binding old = x;
	old.cseq = 1;
	old.expires_at += 999999;
	assert_int_equal(store_save(a, &old), STORE_STALE);
	old.cseq = 2;
	assert_int_equal(store_save(a, &old), STORE_STALE);
	assert_int_equal(store_save(b, &old), STORE_STALE);
	/* a later change through A reaching B proves the stale one never came */
	struct store_binding m =
	    rt_mk("sip:marker@example.com", "sip:m@192.0.2.99", "m1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &m), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &m, "m1", 1) && rt_idle(a) && rt_idle(b));
	assert_true(rt_has_at(b, &x, "r1", 2));
	assert_int_equal(rt_get(b, &x).expires_at, x.expires_at);
	assert_int_equal(redis_value(h, &x).cseq, 2);
	assert_int_equal(rt_stats(a).writes, 3);

	/* racing refreshes of one binding: B to CSeq 7, A to CSeq 6 */
	struct store_binding xb = x, xa = x;
	xb.cseq = 7;
	xb.owner = STR_LIT("pxB");
	xa.cseq = 6;
	assert_int_equal(store_save(b, &xb), STORE_OK);
	assert_int_equal(store_save(a, &xa), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_idle(b) && agrees(h, a, &x) && agrees(h, b, &x) &&
		       rt_has_at(a, &x, "r1", 7) && rt_has_at(b, &x, "r1", 7));
	assert_string_equal(rt_get(a, &x).owner, "pxB");
	assert_same(a, b);
	store_free(a);
	store_free(b);
}

/* 3. The same AOR written through A and B at once, round after round: every
 * contact ends in both and in Redis (the script serialises the writers, no
 * contact is lost). Then one contact registered through both with
 * different Call-IDs at once: both end with the one Redis ordered last. */
static void test_concurrent_writers(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	const char *aor = "sip:race@example.com";
	enum { ROUNDS = 40 };
	for (int i = 0; i < ROUNDS; i++) {
		char ca[64], cb[64], ida[32], idb[32];
		snprintf(ca, sizeof(ca), "sip:a%d@192.0.2.1:%d", i, 5000 + i);
		snprintf(cb, sizeof(cb), "sip:b%d@192.0.2.2:%d", i, 5000 + i);
		snprintf(ida, sizeof(ida), "ra-%d", i);
		snprintf(idb, sizeof(idb), "rb-%d", i);
		struct store_binding xa = rt_mk(aor, ca, ida, 1, 600000, "pxA");
		struct store_binding xb = rt_mk(aor, cb, idb, 1, 600000, "pxB");
		assert_int_equal(store_save(a, &xa), STORE_OK);
		assert_int_equal(store_save(b, &xb), STORE_OK);
		RT_WAIT(h,
			rt_count_aor(a, aor) == 2 * (i + 1) && rt_count_aor(b, aor) == 2 * (i + 1));
	}
	RT_WAIT(h, rt_idle(a) && rt_idle(b) && rt_same(a, b));
	assert_int_equal(rt_redis_hlen(h, aor), 2 * ROUNDS);

	const char *shared = "sip:shared@192.0.2.9";
	for (int i = 0; i < 20; i++) {
		char ida[32], idb[32];
		snprintf(ida, sizeof(ida), "sa-%d", i);
		snprintf(idb, sizeof(idb), "sb-%d", i);
		struct store_binding xa = rt_mk(aor, shared, ida, 1, 600000, "pxA");
		struct store_binding xb = rt_mk(aor, shared, idb, 1, 600000, "pxB");
		assert_int_equal(store_save(a, &xa), STORE_OK);
		assert_int_equal(store_save(b, &xb), STORE_OK);
		RT_WAIT(h, rt_idle(a) && rt_idle(b) && agrees(h, a, &xa) && agrees(h, b, &xa));
		struct rv v = redis_value(h, &xa);
		assert_true(strcmp(v.call_id, ida) == 0 || strcmp(v.call_id, idb) == 0);
	}
	RT_WAIT(h, rt_same(a, b));
	assert_int_equal(rt_count_aor(a, aor), 2 * ROUNDS + 1);
	assert_int_equal(rt_redis_hlen(h, aor), 2 * ROUNDS + 1);
	store_free(a);
	store_free(b);
}

/* RFC 3261 §19.1.4 across proxies: a Contact spelled differently (host
 * case, escapes, transport case, an extra parameter) is the same binding in
 * B and in Redis; a new Call-ID replaces it. */
static void test_equal_contacts_one_binding(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	const char *aor = "sip:carol@example.com";
	struct store_binding x =
	    rt_mk(aor, "sip:%63arol@Host.EXAMPLE.com:5070;transport=UDP", "c1", 4, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &x, "c1", 4));
	struct store_binding y =
	    rt_mk(aor, "sip:carol@host.example.com:5070;transport=udp;ob", "c2", 1, 60000, "pxB");
	assert_int_equal(store_save(b, &y), STORE_OK);
	RT_WAIT(h, rt_has_at(a, &x, "c2", 1) && rt_idle(a) && rt_idle(b) && agrees(h, a, &y));
	assert_int_equal(rt_count_aor(a, aor), 1);
	assert_int_equal(rt_count_aor(b, aor), 1);
	assert_int_equal(rt_redis_hlen(h, aor), 1);
	assert_string_equal(rt_get(a, &x).contact,
			    "sip:carol@host.example.com:5070;transport=udp;ob");
	/* another port is another binding */
	struct store_binding z =
	    rt_mk(aor, "sip:carol@host.example.com:5071;transport=udp", "c3", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &z), STORE_OK);
	RT_WAIT(h, rt_count_aor(b, aor) == 2 && rt_idle(a));
	assert_int_equal(rt_redis_hlen(h, aor), 2);
	store_free(a);
	store_free(b);
}

/* 4. A removal through B of a binding made through A, and "Contact: *"
 * (RFC 3261 §10.3 step 6) through A of bindings made by both: gone from
 * both stores and from Redis; other AORs untouched. */
static void test_remove_and_remove_all(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	struct events ev = {0};
	store_watch(a, on_event, &ev);
	RT_WAIT(h, rt_live(a) && rt_live(b));
	const char *aor = "sip:dave@example.com";
	struct store_binding x = rt_mk(aor, "sip:dave@192.0.2.30", "d1", 3, 60000, "pxA");
	struct store_binding y = rt_mk(aor, "sip:dave@192.0.2.31", "d2", 1, 60000, "pxA");
	struct store_binding z = rt_mk(aor, "sip:dave@192.0.2.32", "d3", 1, 60000, "pxB");
	struct store_binding o =
	    rt_mk("sip:other@example.com", "sip:o@192.0.2.33", "o1", 1, 60000, "pxA");
	assert_int_equal(store_save(a, &x), STORE_OK);
	assert_int_equal(store_save(a, &y), STORE_OK);
	assert_int_equal(store_save(a, &o), STORE_OK);
	assert_int_equal(store_save(b, &z), STORE_OK);
	RT_WAIT(h, rt_count_aor(a, aor) == 3 && rt_count_aor(b, aor) == 3 && rt_has(b, &o) &&
		       rt_idle(a) && rt_idle(b));

	/* un-REGISTER of x through B (same Call-ID, higher CSeq) */
	struct store_binding rm = x;
	rm.cseq = 4;
	assert_int_equal(store_remove(b, &rm), STORE_OK);
	RT_WAIT(h, !rt_has(a, &x) && rt_idle(b));
	assert_false(rt_redis_has(h, &x, NULL));
	assert_int_equal(rt_redis_hlen(h, aor), 2);
	assert_int_equal(ev.removed, 1); /* A's listener heard it */
	/* the same removal again is stale where the record is gone: nothing */
	assert_int_equal(store_remove(a, &rm), STORE_NOT_FOUND);

	/* Contact: * through A, with a new Call-ID */
	assert_int_equal(store_remove_all(a, str_cstr(aor), str_cstr("star-1"), 1), STORE_OK);
	assert_int_equal(rt_count_aor(a, aor), 0);
	RT_WAIT(h, rt_count_aor(b, aor) == 0 && store_count(b) == 1 && rt_idle(a));
	assert_int_equal(rt_redis_hlen(h, aor), 0);
	char key[512];
	rt_key(h, aor, key, sizeof(key));
	redisReply *r = rt_cmd(h, "HEXISTS %s %s", key, aor); /* the group is gone */
	assert_int_equal(r->integer, 0);
	freeReplyObject(r);
	assert_true(rt_has(a, &o) && rt_has(b, &o) && rt_redis_has(h, &o, NULL));
	assert_same(a, b);
	store_free(a);
	store_free(b);
}

/* 5. RFC 3261 §10.3: a binding that lapses. A, its owner, sweeps it: B drops
 * it without sweeping (the script logged the expiry) and Redis's field is
 * gone while the AOR's other binding stays. A binding of B's lapsing: A's
 * sweep changes only A (not its own); B's sweep clears Redis. */
static void test_expiry(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	struct events ev = {0};
	store_watch(b, on_event, &ev);
	RT_WAIT(h, rt_live(a) && rt_live(b));
	const char *aor = "sip:erin@example.com";
	struct store_binding lng = rt_mk(aor, "sip:erin@192.0.2.40", "e1", 1, 3600000, "pxA");
	struct store_binding sht = rt_mk(aor, "sip:erin@192.0.2.41", "e2", 1, 300, "pxA");
	struct store_binding shb = rt_mk(aor, "sip:erin@192.0.2.42", "e3", 1, 300, "pxB");
	assert_int_equal(store_save(a, &lng), STORE_OK);
	assert_int_equal(store_save(a, &sht), STORE_OK);
	assert_int_equal(store_save(b, &shb), STORE_OK);
	RT_WAIT(h, rt_has_at(b, &sht, "e2", 1) && rt_has_at(a, &shb, "e3", 1) && rt_idle(a) &&
		       rt_idle(b));
	assert_int_equal(rt_redis_hlen(h, aor), 3);

	RT_WAIT(h, repl_now_ms() > sht.expires_at && repl_now_ms() > shb.expires_at);
	/* lapsed: no lookup shows them, swept or not (§10.3 step 8) */
	assert_int_equal(rt_count_aor(a, aor), 1);
	assert_int_equal(rt_count_aor(b, aor), 1);

	/* A's sweep: its own binding goes, and the script run for it drops
	 * every lapsed record of the AOR in Redis, B's too (logged as expiries:
	 * B drops both without sweeping) */
	assert_int_equal(store_expire(a, repl_now_ms()), 2);
	assert_int_equal(store_count(a), 1);
	RT_WAIT(h, !rt_has(b, &sht) && !rt_has(b, &shb) && rt_idle(a));
	assert_int_equal(ev.expired, 2);
	assert_false(rt_redis_has(h, &sht, NULL));
	assert_false(rt_redis_has(h, &shb, NULL));
	assert_true(rt_redis_has(h, &lng, NULL));
	assert_int_equal(store_expire(b, repl_now_ms()), 0);

	/* B's binding lapsing alone: A's sweep writes nothing (not its own) */
	struct store_binding shb2 = rt_mk(aor, "sip:erin@192.0.2.43", "e4", 1, 300, "pxB");
	assert_int_equal(store_save(b, &shb2), STORE_OK);
	RT_WAIT(h, rt_has_at(a, &shb2, "e4", 1) && rt_idle(b));
	RT_WAIT(h, repl_now_ms() > shb2.expires_at);
	uint64_t writes = rt_stats(a).writes;
	assert_int_equal(store_expire(a, repl_now_ms()), 1);
	struct repl_stats st = rt_stats(a);
	assert_true(st.queued == 0 && st.in_flight == 0 && st.writes == writes);
	assert_true(rt_redis_has(h, &shb2, NULL));
	/* its owner's sweep clears Redis */
	assert_int_equal(store_expire(b, repl_now_ms()), 1);
	RT_WAIT(h, rt_idle(b) && !rt_redis_has(h, &shb2, NULL));
	assert_int_equal(rt_redis_hlen(h, aor), 1);
	assert_true(rt_has_at(a, &lng, "e1", 1) && rt_has_at(b, &lng, "e1", 1));
	assert_same(a, b);
	store_free(a);
	store_free(b);
}

/* Saves n bindings through s in n AORs "sip:<tag><i>@example.com". */
static void save_many(struct store *s, const char *tag, int from, int n, const char *owner)
{
	for (int i = from; i < from + n; i++) {
		char aor[64], contact[64], cid[32];
		snprintf(aor, sizeof(aor), "sip:%s%d@example.com", tag, i);
		snprintf(contact, sizeof(contact), "sip:%s%d@192.0.2.50:%d", tag, i, 10000 + i);
		snprintf(cid, sizeof(cid), "%s-%d", tag, i);
		struct store_binding x = rt_mk(aor, contact, cid, 1, 3600000, owner);
		assert_int_equal(store_save(s, &x), STORE_OK);
	}
}

/* 5b. A group whose every record lapsed is deleted from its bucket by the
 * sweep (Redis cannot expire a hash field); a group with a live record stays
 * whole (its lapsed record goes with the group's next write). */
static void test_sweep(void **state)
{
	struct rt *h = *state;
	struct rt_opts o = {.sweep_ms = 1};
	struct store *a = rt_store_opts(h, "pxA", &o);
	RT_WAIT(h, rt_live(a));
	const char *gone = "sip:sweep-gone@example.com", *kept = "sip:sweep-kept@example.com";
	struct store_binding g1 = rt_mk(gone, "sip:g@192.0.2.50", "s1", 1, 200, "pxA");
	struct store_binding g2 = rt_mk(gone, "sip:g2@192.0.2.51", "s2", 1, 400, "pxA");
	struct store_binding k1 = rt_mk(kept, "sip:k@192.0.2.52", "s3", 1, 200, "pxA");
	struct store_binding k2 = rt_mk(kept, "sip:k2@192.0.2.53", "s4", 1, 3600000, "pxA");
	assert_int_equal(store_save(a, &g1), STORE_OK);
	assert_int_equal(store_save(a, &g2), STORE_OK);
	assert_int_equal(store_save(a, &k1), STORE_OK);
	assert_int_equal(store_save(a, &k2), STORE_OK);
	RT_WAIT(h, rt_idle(a));
	assert_int_equal(rt_redis_hlen(h, gone), 2);
	assert_int_equal(rt_redis_hlen(h, kept), 2);
	/* one record lapsed: the group's latest expiry is ahead, it stays */
	RT_WAIT(h, repl_now_ms() > g1.expires_at + 50);
	assert_int_equal(rt_redis_hlen(h, gone), 2);
	RT_WAIT(h, repl_now_ms() > g2.expires_at);
	RT_WAIT(h, rt_redis_hlen(h, gone) == 0 && rt_stats(a).swept >= 1);
	assert_int_equal(rt_redis_hlen(h, kept), 2);

	/* a bucket of many groups is swept a slice at a time (HSCAN), to its end */
	enum { MANY = 250 };
	char key[512], other[512], aor[64];
	rt_key(h, kept, key, sizeof(key));
	uint64_t before = rt_stats(a).swept;
	int made = 0;
	for (int i = 0; made < MANY; i++) {
		snprintf(aor, sizeof(aor), "sip:sw%d@example.com", i);
		rt_key(h, aor, other, sizeof(other));
		if (strcmp(other, key) != 0)
			continue;
		struct store_binding m = rt_mk(aor, "sip:m@192.0.2.54", "s5", 1, 300, "pxA");
		assert_int_equal(store_save(a, &m), STORE_OK);
		made++;
	}
	RT_WAIT(h, rt_idle(a));
	redisReply *r = rt_cmd(h, "HLEN %s", key);
	assert_int_equal(r->integer, MANY + 1);
	freeReplyObject(r);
	RT_WAIT(h, rt_stats(a).swept >= before + MANY);
	r = rt_cmd(h, "HLEN %s", key);
	assert_int_equal(r->integer, 1); /* kept's group alone */
	freeReplyObject(r);
	store_free(a);
}

/* 7. A proxy that starts after the data: a full load brings every binding
 * (equal to the others, versions included), then it follows live changes. */
static void test_late_starter(void **state)
{
	struct rt *h = *state;
	struct store *a = rt_store(h, "pxA"), *b = rt_store(h, "pxB");
	RT_WAIT(h, rt_live(a) && rt_live(b));
	save_many(a, "la", 0, 50, "pxA");
	save_many(b, "lb", 0, 50, "pxB");
	RT_WAIT(h, store_count(a) == 100 && store_count(b) == 100 && rt_idle(a) && rt_idle(b) &&
		       rt_same(a, b));

	struct store *c = rt_store(h, "pxC");
	RT_WAIT(h, rt_live(c));
	struct repl_stats st = rt_stats(c);
	assert_int_equal(st.full_loads, 1);
	assert_int_equal(st.last_load_records, 100);
	assert_int_equal(st.changes_bad, 0);
	assert_same(a, c);

	/* live changes after the load: a new one, a refresh, a removal */
	save_many(a, "la", 50, 1, "pxA");
	struct store_binding r =
	    rt_mk("sip:lb3@example.com", "sip:lb3@192.0.2.50:10003", "lb-3", 2, 7200000, "pxB");
	assert_int_equal(store_save(b, &r), STORE_OK);
	struct store_binding rm =
	    rt_mk("sip:la7@example.com", "sip:la7@192.0.2.50:10007", "la-7", 2, 0, "pxA");
	assert_int_equal(store_remove(b, &rm), STORE_OK);
	RT_WAIT(h, rt_idle(a) && rt_idle(b) && rt_has_at(c, &r, "lb-3", 2) && !rt_has(c, &rm) &&
		       store_count(c) == 100 && rt_same(a, c) && rt_same(b, c));
	assert_int_equal(rt_stats(c).full_loads, 1);
	assert_int_equal(rt_redis_fields(h), 100);
	store_free(c);
	store_free(a);
	store_free(b);
}

/* 8. With a short log (log_length 100, one partition), a proxy away while
 * more than ten logs' worth of changes are made: it comes back with a full
 * load and ends equal to A, without the binding removed meanwhile. Its own
 * binding comes back without the connection id of its previous run. */
static void test_trimmed_full_load(void **state)
{
	struct rt *h = *state;
	h->partitions = 1;
	struct rt_opts o = {.log_length = 100};
	struct store *a = rt_store_opts(h, "pxA", &o), *c = rt_store_opts(h, "pxC", &o);
	RT_WAIT(h, rt_live(a) && rt_live(c));
	struct store_binding keep =
	    rt_mk("sip:keep@example.com", "sip:keep@192.0.2.60", "k1", 1, 600000, "pxA");
	struct store_binding gone =
	    rt_mk("sip:gone@example.com", "sip:gone@192.0.2.61", "g1", 1, 600000, "pxA");
	struct store_binding mine =
	    rt_mk("sip:mine@example.com", "sip:mine@192.0.2.62", "m1", 1, 600000, "pxC");
	mine.conn_id = 77;
	assert_int_equal(store_save(a, &keep), STORE_OK);
	assert_int_equal(store_save(a, &gone), STORE_OK);
	assert_int_equal(store_save(c, &mine), STORE_OK);
	RT_WAIT(h, rt_has(c, &gone) && rt_has_at(a, &mine, "m1", 1) && rt_idle(a) && rt_idle(c));
	assert_int_equal(rt_get(a, &mine).conn_id, 77);
	store_free(c);

	struct store_binding rm = gone;
	rm.cseq = 2;
	assert_int_equal(store_remove(a, &rm), STORE_OK);
	struct store_binding bulk =
	    rt_mk("sip:bulk@example.com", "sip:bulk@192.0.2.63", "b1", 1, 600000, "pxA");
	for (uint32_t i = 1; i <= 1100; i++) {
		bulk.cseq = i;
		assert_int_equal(store_save(a, &bulk), STORE_OK);
	}
	RT_WAIT(h, rt_idle(a) && rt_has_at(a, &bulk, "b1", 1100));
	redisReply *r = rt_cmd(h, "XLEN %s:{0}:log", RT_PREFIX);
	assert_true(r->integer < 1000); /* trimmed: the removal's entry is gone */
	freeReplyObject(r);

	c = rt_store_opts(h, "pxC", &o);
	RT_WAIT(h, rt_live(c));
	assert_int_equal(rt_stats(c).full_loads, 1);
	RT_WAIT(h, rt_same(a, c));
	assert_false(rt_has(c, &gone));
	assert_true(rt_has_at(c, &bulk, "b1", 1100));
	assert_int_equal(rt_get(c, &mine).conn_id, 0); /* a connection of its previous run */
	assert_int_equal(rt_get(a, &mine).conn_id, 77);
	store_free(c);
	store_free(a);
}

/* 8b. The same with a proxy that never left but whose loop stalled (busy,
 * swapped out) while the log was trimmed past the entries it had not read:
 * it must notice it missed some and load everything, not tail on from what
 * is left and keep a binding removed meanwhile. */
static void test_trimmed_while_stalled(void **state)
{
	struct rt *h = *state;
	h->partitions = 1;
	struct rt_opts o = {.log_length = 100}, oc = {.log_length = 100, .base = 1};
	rt_base(h, 1);
	struct store *a = rt_store_opts(h, "pxA", &o), *c = rt_store_opts(h, "pxC", &oc);
	RT_WAIT(h, rt_live(a) && rt_live(c));
	struct store_binding gone =
	    rt_mk("sip:gone@example.com", "sip:gone@192.0.2.61", "g1", 1, 600000, "pxA");
	assert_int_equal(store_save(a, &gone), STORE_OK);
	RT_WAIT(h, rt_has(c, &gone) && rt_idle(a));

	h->active[1] = false; /* C's loop stalls */
	struct store_binding first =
	    rt_mk("sip:first@example.com", "sip:first@192.0.2.64", "f1", 1, 600000, "pxA");
	assert_int_equal(store_save(a, &first), STORE_OK);
	RT_WAIT(h, rt_idle(a));
	struct store_binding rm = gone;
	rm.cseq = 2;
	assert_int_equal(store_remove(a, &rm), STORE_OK);
	struct store_binding bulk =
	    rt_mk("sip:bulk@example.com", "sip:bulk@192.0.2.63", "b1", 1, 600000, "pxA");
	for (uint32_t i = 1; i <= 1100; i++) {
		bulk.cseq = i;
		assert_int_equal(store_save(a, &bulk), STORE_OK);
	}
	RT_WAIT(h, rt_idle(a) && rt_has_at(a, &bulk, "b1", 1100));

	h->active[1] = true; /* C resumes */
	RT_WAIT(h, rt_live(c) && rt_has_at(c, &bulk, "b1", 1100) && !rt_has(c, &gone) &&
		       rt_same(a, c));
	assert_true(rt_has(c, &first));
	assert_int_equal(rt_stats(c).full_loads, 2); /* the start's and the gap's */
	store_free(c);
	store_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_live_and_replicate, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_refresh_and_stale, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_concurrent_writers, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_equal_contacts_one_binding, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_remove_and_remove_all, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_expiry, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_sweep, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_late_starter, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_trimmed_full_load, rt_setup, rt_teardown),
	    cmocka_unit_test_setup_teardown(test_trimmed_while_stalled, rt_setup, rt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
