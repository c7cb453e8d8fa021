/* test_store_mem.c — the in-memory registration store (src/store/): bindings of
 * RFC 3261 §10.3 with RFC 5626 §6 keys, Call-ID/CSeq ordering, q order,
 * expiry, change events, the SIP Server node each binding was accepted by,
 * and a 100,000-binding run. The disk snapshot is in test_store_snapshot.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "store/store.h"
#include "store/store_mem_internal.h"

#define T0 1700000000000LL /* a fixed "now" in ms; tests never read the clock */

static struct store_binding mk(const char *aor, const char *contact, const char *call_id,
			       uint32_t cseq, uint16_t q, int64_t expires_at)
{
	struct store_binding b = {
	    .aor = str_cstr(aor),
	    .contact = str_cstr(contact),
	    .call_id = str_cstr(call_id),
	    .cseq = cseq,
	    .q = q,
	    .expires_at = expires_at,
	    .proto = TP_UDP,
	    .owner = STR_LIT("px1"),
	};
	b.source.in4.sin_family = AF_INET;
	b.source.in4.sin_port = htons(5060);
	inet_pton(AF_INET, "127.0.0.1", &b.source.in4.sin_addr);
	return b;
}

/* Collects what a lookup visits (copies of contact and call-id). */
struct seen {
	int n;
	char contact[16][64];
	char call_id[16][64];
	char node[16][32];
	uint32_t cseq[16];
	uint16_t q[16];
};

static int collect(void *arg, const struct store_binding *b)
{
	struct seen *s = arg;
	if (s->n < 16) {
		str_copy(s->contact[s->n], sizeof(s->contact[0]), b->contact);
		str_copy(s->call_id[s->n], sizeof(s->call_id[0]), b->call_id);
		str_copy(s->node[s->n], sizeof(s->node[0]), b->node);
		s->cseq[s->n] = b->cseq;
		s->q[s->n] = b->q;
	}
	s->n++;
	return 0;
}

static struct seen look(struct store *st, const char *aor, int64_t now)
{
	struct seen s;
	memset(&s, 0, sizeof(s));
	int n = store_lookup(st, str_cstr(aor), now, collect, &s);
	assert_int_equal(n, s.n);
	return s;
}

static struct store *new_store(void)
{
	char err[256] = "";
	struct store *st = store_mem_new(NULL, err, sizeof(err));
	assert_non_null(st);
	return st;
}

/* RFC 3261 §10.3 step 7: add a binding, refresh it, remove it. */
static void test_add_refresh_remove(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding b =
	    mk("sip:alice@ex.com", "sip:alice@10.0.0.1", "c1", 1, 1000, T0 + 3600000);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_count(st), 1);
	struct seen s = look(st, "sip:alice@ex.com", T0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.contact[0], "sip:alice@10.0.0.1");
	/* Unknown AOR: nothing. */
	assert_int_equal(look(st, "sip:bob@ex.com", T0).n, 0);

	b.cseq = 2;
	b.expires_at = T0 + 7200000;
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_count(st), 1); /* refreshed, not added */
	s = look(st, "sip:alice@ex.com", T0 + 3600000);
	assert_int_equal(s.n, 1); /* alive past the first expiry */
	assert_int_equal(s.cseq[0], 2);

	b.cseq = 3;
	assert_int_equal(store_remove(st, &b), STORE_OK);
	assert_int_equal(store_count(st), 0);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 0);
	assert_int_equal(store_remove(st, &b), STORE_NOT_FOUND);
	store_free(st);
}

/* RFC 3261 §10.3 step 6: "Contact: *" removes every binding of the AOR, and
 * only if no binding was made by a newer request of the same Call-ID. */
static void test_remove_all(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding a = mk("sip:alice@ex.com", "sip:a@1", "c1", 5, 1000, T0 + 60000);
	struct store_binding b = mk("sip:alice@ex.com", "sip:a@2", "c2", 9, 1000, T0 + 60000);
	struct store_binding o = mk("sip:bob@ex.com", "sip:b@1", "c3", 1, 1000, T0 + 60000);
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_save(st, &o), STORE_OK);
	/* c2 holds CSeq 9: a "*" with Call-ID c2 CSeq 9 is stale, nothing goes. */
	assert_int_equal(store_remove_all(st, str_cstr("sip:alice@ex.com"), str_cstr("c2"), 9),
			 STORE_STALE);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 2);
	assert_int_equal(store_remove_all(st, str_cstr("sip:alice@ex.com"), str_cstr("c2"), 10),
			 STORE_OK);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 0);
	assert_int_equal(look(st, "sip:bob@ex.com", T0).n, 1); /* other AORs untouched */
	assert_int_equal(store_count(st), 1);
	assert_int_equal(store_remove_all(st, str_cstr("sip:alice@ex.com"), str_cstr("x"), 1),
			 STORE_NOT_FOUND);
	store_free(st);
}

/* RFC 3261 §10.3 step 7: same Call-ID with a CSeq not above the stored one
 * is stale and changes nothing; a different Call-ID always replaces. */
static void test_cseq_ordering(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding b = mk("sip:alice@ex.com", "sip:a@1", "c1", 10, 1000, T0 + 60000);
	assert_int_equal(store_save(st, &b), STORE_OK);

	/* An older refresh (delayed retransmission) must not overwrite the newer. */
	struct store_binding old = b;
	old.cseq = 9;
	old.expires_at = T0 + 999999;
	assert_int_equal(store_save(st, &old), STORE_STALE);
	old.cseq = 10; /* equal CSeq: a retransmission, also stale */
	assert_int_equal(store_save(st, &old), STORE_STALE);
	struct seen s = look(st, "sip:alice@ex.com", T0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.cseq[0], 10);
	assert_int_equal(look(st, "sip:alice@ex.com", T0 + 60000).n, 0); /* expiry unchanged */

	/* Removal obeys the same rule. */
	assert_int_equal(store_remove(st, &old), STORE_STALE);
	assert_int_equal(store_count(st), 1);

	/* A new Call-ID (the UA rebooted) replaces even with a lower CSeq. */
	struct store_binding nb = b;
	nb.call_id = STR_LIT("c2");
	nb.cseq = 1;
	assert_int_equal(store_save(st, &nb), STORE_OK);
	s = look(st, "sip:alice@ex.com", T0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.call_id[0], "c2");
	assert_int_equal(s.cseq[0], 1);
	/* ... and now the old Call-ID at a higher CSeq replaces it again. */
	b.cseq = 11;
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_string_equal(look(st, "sip:alice@ex.com", T0).call_id[0], "c1");
	store_free(st);
}

/* RFC 5626 §6: with +sip.instance the binding key is (instance, reg-id); a
 * new Contact URI from the same instance and reg-id replaces the binding,
 * another reg-id is a second flow. Without instance, the Contact URI keys. */
static void test_instance_reg_id(void **state)
{
	(void)state;
	struct store *st = new_store();
	const char *inst = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
	struct store_binding f1 =
	    mk("sip:alice@ex.com", "sip:a@10.0.0.1", "c1", 1, 1000, T0 + 60000);
	f1.instance = str_cstr(inst);
	f1.reg_id = 1;
	assert_int_equal(store_save(st, &f1), STORE_OK);
	struct store_binding moved = f1;
	moved.contact = STR_LIT("sip:a@10.9.9.9");
	moved.call_id = STR_LIT("c9");
	assert_int_equal(store_save(st, &moved), STORE_OK);
	struct seen s = look(st, "sip:alice@ex.com", T0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.contact[0], "sip:a@10.9.9.9");

	struct store_binding f2 = f1;
	f2.reg_id = 2;
	f2.call_id = STR_LIT("c2");
	assert_int_equal(store_save(st, &f2), STORE_OK);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 2);

	/* Same Contact URI without instance is a different binding. */
	struct store_binding plain =
	    mk("sip:alice@ex.com", "sip:a@10.9.9.9", "c3", 1, 1000, T0 + 60000);
	assert_int_equal(store_save(st, &plain), STORE_OK);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 3);
	assert_int_equal(store_count(st), 3);

	/* Removing by (instance, reg-id) leaves the others. */
	f2.cseq = 2;
	assert_int_equal(store_remove(st, &f2), STORE_OK);
	assert_int_equal(look(st, "sip:alice@ex.com", T0).n, 2);
	store_free(st);
}

/* RFC 3261 §16.6 / §10.2.1.2: targets are tried in q order, highest first;
 * equal q: the most recently saved first. */
static void test_q_ordering(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding b1 = mk("sip:q@ex.com", "sip:q@1", "c1", 1, 500, T0 + 60000);
	struct store_binding b2 = mk("sip:q@ex.com", "sip:q@2", "c2", 1, 1000, T0 + 60000);
	struct store_binding b3 = mk("sip:q@ex.com", "sip:q@3", "c3", 1, 100, T0 + 60000);
	struct store_binding b4 = mk("sip:q@ex.com", "sip:q@4", "c4", 1, 500, T0 + 60000);
	assert_int_equal(store_save(st, &b1), STORE_OK);
	assert_int_equal(store_save(st, &b2), STORE_OK);
	assert_int_equal(store_save(st, &b3), STORE_OK);
	assert_int_equal(store_save(st, &b4), STORE_OK);
	struct seen s = look(st, "sip:q@ex.com", T0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.contact[0], "sip:q@2");
	assert_string_equal(s.contact[1], "sip:q@4"); /* saved after q@1 */
	assert_string_equal(s.contact[2], "sip:q@1");
	assert_string_equal(s.contact[3], "sip:q@3");
	/* Refreshing q@1 makes it the most recent of q=0.5; a q change moves it. */
	b1.cseq = 2;
	assert_int_equal(store_save(st, &b1), STORE_OK);
	s = look(st, "sip:q@ex.com", T0);
	assert_string_equal(s.contact[1], "sip:q@1");
	assert_string_equal(s.contact[2], "sip:q@4");
	b3.cseq = 2;
	b3.q = 1000;
	assert_int_equal(store_save(st, &b3), STORE_OK);
	s = look(st, "sip:q@ex.com", T0);
	assert_string_equal(s.contact[0], "sip:q@3");
	assert_string_equal(s.contact[1], "sip:q@2");
	store_free(st);
}

/* RFC 3261 §10.3 step 8: a binding whose expiration passed is gone, even if
 * the expire() sweep has not run yet. */
static void test_lookup_skips_expired(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding a = mk("sip:e@ex.com", "sip:e@1", "c1", 1, 1000, T0 + 1000);
	struct store_binding b = mk("sip:e@ex.com", "sip:e@2", "c2", 1, 900, T0 + 5000);
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(look(st, "sip:e@ex.com", T0 + 999).n, 2);
	struct seen s = look(st, "sip:e@ex.com", T0 + 1000); /* expires_at == now: gone */
	assert_int_equal(s.n, 1);
	assert_string_equal(s.contact[0], "sip:e@2");
	assert_int_equal(look(st, "sip:e@ex.com", T0 + 5000).n, 0);
	assert_int_equal(store_count(st), 2); /* not swept yet, still not visible */
	store_free(st);
}

/* RFC 3261 §10.3 step 8: expire() drops exactly the lapsed bindings. */
static void test_expire_counts(void **state)
{
	(void)state;
	struct store *st = new_store();
	char aor[32], contact[32];
	for (int i = 0; i < 50; i++) {
		snprintf(aor, sizeof(aor), "sip:u%d@ex.com", i % 10);
		snprintf(contact, sizeof(contact), "sip:c%d@h", i);
		struct store_binding b = mk(aor, contact, "cid", 1, 1000, T0 + 1000 * (i + 1));
		assert_int_equal(store_save(st, &b), STORE_OK);
	}
	/* Refresh c0 (expires first) to the far future: it must survive. */
	struct store_binding r = mk("sip:u0@ex.com", "sip:c0@h", "cid", 2, 1000, T0 + 10000000);
	assert_int_equal(store_save(st, &r), STORE_OK);
	assert_int_equal(store_expire(st, T0), 0);
	assert_int_equal(store_expire(st, T0 + 10000), 9); /* c1..c9 */
	assert_int_equal(store_count(st), 41);
	assert_int_equal(store_expire(st, T0 + 10000), 0);
	assert_int_equal(store_expire(st, T0 + 50000), 40); /* c10..c49 */
	assert_int_equal(store_count(st), 1);
	struct seen s = look(st, "sip:u0@ex.com", T0 + 50000);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.contact[0], "sip:c0@h");
	assert_int_equal(look(st, "sip:u1@ex.com", T0).n, 0);
	store_free(st);
}

/* Seed "the node whose SIP Server accepted an endpoint's REGISTER owns that
 * endpoint": each binding keeps its node; a refresh (RFC 3261 §10.3 step 7)
 * accepted by another node replaces it, so ownership moves; a binding may
 * have none. The listener sees it too. */
static void test_node(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding b = mk("sip:n@ex.com", "sip:n@1", "c1", 1, 1000, T0 + 60000);
	b.node = STR_LIT("sipsrv-a");
	struct store_binding other = mk("sip:n@ex.com", "sip:n@2", "c2", 1, 500, T0 + 60000);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_save(st, &other), STORE_OK); /* no node */
	struct seen s = look(st, "sip:n@ex.com", T0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.node[0], "sipsrv-a");
	assert_string_equal(s.node[1], "");
	assert_string_equal(s.contact[0], "sip:n@1"); /* the other strings intact */
	assert_string_equal(s.call_id[0], "c1");

	b.cseq = 2;
	b.node = STR_LIT("sipsrv-b"); /* failover: node b answered the refresh */
	assert_int_equal(store_save(st, &b), STORE_OK);
	s = look(st, "sip:n@ex.com", T0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.node[0], "sipsrv-b");
	/* A stale refresh (same Call-ID, old CSeq) moves nothing. */
	b.node = STR_LIT("sipsrv-a");
	assert_int_equal(store_save(st, &b), STORE_STALE);
	assert_string_equal(look(st, "sip:n@ex.com", T0).node[0], "sipsrv-b");

	/* Like every string, a node longer than a uint16 length is refused. */
	char *big = malloc(70000);
	assert_non_null(big);
	memset(big, 'n', 70000);
	struct store_binding huge = mk("sip:n@ex.com", "sip:n@3", "c3", 1, 1000, T0 + 60000);
	huge.node = str_make(big, 70000);
	assert_int_equal(store_save(st, &huge), STORE_ERROR);
	assert_int_equal(store_count(st), 2);
	free(big);
	store_free(st);
}

/* The node is packed like the other strings: it costs its own bytes (plus
 * malloc rounding), not a fixed-size field. */
static void test_node_memory(void **state)
{
	(void)state;
	struct store *plain = new_store(), *with = new_store();
	enum { N = 2000 };
	char aor[64], contact[64];
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:user%06d@example.com", i);
		snprintf(contact, sizeof(contact), "sip:user%06d@192.0.2.1:5060", i);
		struct store_binding b = mk(aor, contact, "cid", 1, 1000, T0 + 60000);
		assert_int_equal(store_save(plain, &b), STORE_OK);
		b.node = STR_LIT("sipserver-01"); /* 12 bytes */
		assert_int_equal(store_save(with, &b), STORE_OK);
	}
	size_t extra = store_mem_bytes(with) - store_mem_bytes(plain);
	assert_true(extra / N <= 12 + 16);
	store_free(plain);
	store_free(with);
}

struct evlog {
	int n;
	enum store_event ev[8];
	char contact[8][32];
	char aor[8][32];
	char node[8][32];
};

static void on_event(void *arg, enum store_event ev, const struct store_binding *b)
{
	struct evlog *l = arg;
	if (l->n < 8) {
		l->ev[l->n] = ev;
		str_copy(l->contact[l->n], sizeof(l->contact[0]), b->contact);
		str_copy(l->aor[l->n], sizeof(l->aor[0]), b->aor);
		str_copy(l->node[l->n], sizeof(l->node[0]), b->node);
	}
	l->n++;
}

/* RFC 3261 §10.3 (every change of the location service) is reported to one
 * listener: saved, removed, expired; stale requests report nothing. */
static void test_watch_events(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct evlog l;
	memset(&l, 0, sizeof(l));
	store_watch(st, on_event, &l);
	struct store_binding a = mk("sip:w@ex.com", "sip:w@1", "c1", 2, 1000, T0 + 1000);
	struct store_binding b = mk("sip:w@ex.com", "sip:w@2", "c2", 1, 1000, T0 + 2000);
	a.node = STR_LIT("sipsrv-a");
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_save(st, &b), STORE_OK);
	a.cseq = 1;
	assert_int_equal(store_save(st, &a), STORE_STALE);
	b.cseq = 2;
	assert_int_equal(store_remove(st, &b), STORE_OK);
	assert_int_equal(store_expire(st, T0 + 1000), 1);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.ev[0], STORE_EV_SAVED);
	assert_string_equal(l.contact[0], "sip:w@1");
	assert_string_equal(l.aor[0], "sip:w@ex.com");
	assert_string_equal(l.node[0], "sipsrv-a");
	assert_int_equal(l.ev[1], STORE_EV_SAVED);
	assert_int_equal(l.ev[2], STORE_EV_REMOVED);
	assert_string_equal(l.contact[2], "sip:w@2");
	assert_int_equal(l.ev[3], STORE_EV_EXPIRED);
	assert_string_equal(l.contact[3], "sip:w@1");
	assert_string_equal(l.node[3], "sipsrv-a"); /* the expired binding's node */
	store_watch(st, NULL, NULL);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(l.n, 4); /* unwatched */
	store_free(st);
}

static int count_only(void *arg, const struct store_binding *b)
{
	(void)b;
	(*(size_t *)arg)++;
	return 0;
}

/* RFC 3261 §10.3 at scale: 100,000 bindings over 50,000 AORs (the AOR table
 * grows by incremental rehash on the way), all found, then expired in two
 * steps; memory stays under 512 bytes per binding. */
static void test_100k(void **state)
{
	(void)state;
	struct store *st = new_store();
	enum { N = 100000 };
	char aor[64], contact[96], cid[64];
	for (int i = 0; i < N; i++) {
		snprintf(aor, sizeof(aor), "sip:user%06d@example.com", i / 2);
		snprintf(contact, sizeof(contact),
			 "sip:user%06d@192.0.2.%d:5060;transport=udp;ob%d", i / 2, i % 250, i % 2);
		snprintf(cid, sizeof(cid), "a84b4c76e66710%08d@pc33.example.com", i);
		struct store_binding b =
		    mk(aor, contact, cid, 1, 1000, T0 + (i % 2 ? 3600000 : 60000));
		b.instance = STR_LIT("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>");
		b.reg_id = (uint32_t)(i % 2) + 1;
		assert_int_equal(store_save(st, &b), STORE_OK);
	}
	assert_int_equal(store_count(st), N);
	size_t bytes = store_mem_bytes(st);
	assert_true(bytes / N <= 512);
	for (int i = 0; i < N / 2; i++) {
		snprintf(aor, sizeof(aor), "sip:user%06d@example.com", i);
		assert_int_equal(store_lookup(st, str_cstr(aor), T0, NULL, NULL), 2);
	}
	size_t all = 0;
	store_iterate(st, count_only, &all);
	assert_int_equal(all, N);
	assert_int_equal(store_expire(st, T0 + 60000), N / 2);
	assert_int_equal(store_count(st), N / 2);
	assert_int_equal(store_lookup(st, str_cstr("sip:user000123@example.com"), T0, NULL, NULL),
			 1);
	assert_int_equal(store_expire(st, T0 + 3600000), N / 2);
	assert_int_equal(store_count(st), 0);
	assert_int_equal(store_lookup(st, str_cstr("sip:user000123@example.com"), 0, NULL, NULL),
			 0);
	store_free(st);
}

/* The AOR table sized ahead for a full load's estimate: filling it to
 * that many AORs never starts a rehash; a table holding AORs, or an
 * estimate past the bound, is not taken at its word. */
static void test_table_reserve(void **state)
{
	(void)state;
	struct store_table t;
	assert_int_equal(store_table_init(&t, 16), 0);
	store_table_reserve(&t, 3000);
	assert_int_equal(t.mask[0] + 1, 4096);
	char name[64];
	struct store_aor *aors[4096];
	for (int i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "sip:r%d@example.com", i);
		struct str n = str_cstr(name);
		size_t bytes;
		aors[i] = store_aor_new(n, store_table_hash(&t, n), &bytes);
		assert_non_null(aors[i]);
		assert_int_equal(store_table_insert(&t, aors[i]), 0);
		assert_true(t.rehash_idx == SIZE_MAX);
	}
	assert_int_equal(t.mask[0] + 1, 4096);
	/* not empty: left as it is */
	store_table_reserve(&t, 100000);
	assert_int_equal(t.mask[0] + 1, 4096);
	for (int i = 0; i < 4096; i++) {
		snprintf(name, sizeof(name), "sip:r%d@example.com", i);
		struct str n = str_cstr(name);
		assert_ptr_equal(store_table_find(&t, n, store_table_hash(&t, n)), aors[i]);
		store_table_delete(&t, aors[i]);
		free(aors[i]);
	}
	store_table_fini(&t);
	/* an estimate past the bound is cut to it */
	assert_int_equal(store_table_init(&t, 16), 0);
	store_table_reserve(&t, STORE_TABLE_RESERVE_MAX * 4);
	assert_int_equal(t.mask[0] + 1, STORE_TABLE_RESERVE_MAX);
	store_table_fini(&t);
}

/* Seed sentence "bad input never crashes": empty AOR, no contact, a field
 * over 65535 bytes, q above 1 (RFC 3261 §20.10), unknown transport. */
static void test_bad_input(void **state)
{
	(void)state;
	struct store *st = new_store();
	struct store_binding b = mk("", "sip:a@1", "c", 1, 1000, T0 + 1000);
	assert_int_equal(store_save(st, &b), STORE_ERROR);
	b = mk("sip:a@ex.com", "", "c", 1, 1000, T0 + 1000);
	assert_int_equal(store_save(st, &b), STORE_ERROR);
	char *big = malloc(70000);
	assert_non_null(big);
	memset(big, 'x', 70000);
	b = mk("sip:a@ex.com", "sip:a@1", "c", 1, 1000, T0 + 1000);
	b.path = str_make(big, 70000);
	assert_int_equal(store_save(st, &b), STORE_ERROR);
	b = mk("sip:a@ex.com", "sip:a@1", "c", 1, 1001, T0 + 1000); /* q above 1.0 */
	assert_int_equal(store_save(st, &b), STORE_ERROR);
	b = mk("sip:a@ex.com", "sip:a@1", "c", 1, 1000, T0 + 1000);
	b.proto = TP_PROTO_COUNT;
	assert_int_equal(store_save(st, &b), STORE_ERROR);
	assert_int_equal(store_count(st), 0);
	assert_int_equal(store_lookup(st, STR_NULL, T0, NULL, NULL), 0);
	free(big);
	store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add_refresh_remove),
	    cmocka_unit_test(test_remove_all),
	    cmocka_unit_test(test_cseq_ordering),
	    cmocka_unit_test(test_instance_reg_id),
	    cmocka_unit_test(test_q_ordering),
	    cmocka_unit_test(test_lookup_skips_expired),
	    cmocka_unit_test(test_expire_counts),
	    cmocka_unit_test(test_node),
	    cmocka_unit_test(test_node_memory),
	    cmocka_unit_test(test_watch_events),
	    cmocka_unit_test(test_100k),
	    cmocka_unit_test(test_table_reserve),
	    cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
