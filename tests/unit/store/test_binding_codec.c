/* test_binding_codec.c — a binding as bytes (src/store/binding_codec.c, the
 * layout of the disk snapshot and of Redis's records) and its identity key:
 * round trips of every field (IPv4, IPv6 with scope, no address), every
 * truncation and random bytes refused without reading past the end (run
 * under ASan), and binding_key / sip_uri_key: RFC 5626 §6 (instance and
 * reg-id) and RFC 3261 §19.1.4 (Contacts that compare equal share a key,
 * §10.3 step 7), which every proxy and Redis must agree on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "sip/uri.h"
#include "store/binding_codec.h"

static struct store_binding full_v4(void)
{
	struct store_binding b = {
	    .aor = STR_LIT("sip:alice@example.com"),
	    .contact = STR_LIT("sip:alice@192.0.2.1:5062;transport=tcp;ob"),
	    .instance = STR_LIT("<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>"),
	    .reg_id = 3,
	    .call_id = STR_LIT("a84b4c76e66710@pc33.example.com"),
	    .cseq = 4294967295u,
	    .q = 1000,
	    .expires_at = 1700000000123LL,
	    .path = STR_LIT("<sip:edge1.example.com;lr;ob>,<sip:edge2;lr>"),
	    .proto = TP_WSS,
	    .conn_id = 99, /* not in the codec: store_redis adds it */
	    .owner = STR_LIT("proxy-1"),
	    .node = STR_LIT("ss-west"),
	};
	b.source.in4.sin_family = AF_INET;
	b.source.in4.sin_port = htons(40000);
	inet_pton(AF_INET, "192.0.2.1", &b.source.in4.sin_addr);
	return b;
}

static unsigned char *encode(const struct store_binding *b, size_t *len)
{
	*len = binding_codec_len(b);
	unsigned char *p = malloc(*len);
	assert_non_null(p);
	binding_codec_put(b, p);
	return p;
}

static void assert_str_eq(struct str a, struct str b)
{
	if (!str_eq(a, b))
		fail_msg("\"%.*s\" != \"%.*s\"", STR_FMT(a), STR_FMT(b));
}

static void assert_same_binding(const struct store_binding *a, const struct store_binding *b,
				bool with_node)
{
	assert_str_eq(a->aor, b->aor);
	assert_str_eq(a->contact, b->contact);
	assert_str_eq(a->instance, b->instance);
	assert_str_eq(a->call_id, b->call_id);
	assert_str_eq(a->path, b->path);
	assert_str_eq(a->owner, b->owner);
	if (with_node)
		assert_str_eq(a->node, b->node);
	assert_int_equal(a->reg_id, b->reg_id);
	assert_int_equal(a->cseq, b->cseq);
	assert_int_equal(a->q, b->q);
	assert_int_equal(a->expires_at, b->expires_at);
	assert_int_equal(a->proto, b->proto);
	assert_int_equal(a->source.sa.sa_family, b->source.sa.sa_family);
	if (a->source.sa.sa_family == AF_INET) {
		assert_int_equal(a->source.in4.sin_port, b->source.in4.sin_port);
		assert_memory_equal(&a->source.in4.sin_addr, &b->source.in4.sin_addr, 4);
	} else if (a->source.sa.sa_family == AF_INET6) {
		assert_int_equal(a->source.in6.sin6_port, b->source.in6.sin6_port);
		assert_int_equal(a->source.in6.sin6_scope_id, b->source.in6.sin6_scope_id);
		assert_memory_equal(&a->source.in6.sin6_addr, &b->source.in6.sin6_addr, 16);
	}
}

/* Every field survives put/get; the decoded slices point into the bytes. */
static void round_trip(const struct store_binding *b)
{
	size_t len, used = 0;
	unsigned char *p = encode(b, &len);
	struct store_binding d;
	const char *why = binding_codec_get(p, len, BINDING_CODEC_NSTR, &d, &used);
	if (why)
		fail_msg("decode: %s", why);
	assert_int_equal(used, len);
	assert_same_binding(b, &d, true);
	assert_int_equal(d.conn_id, 0);
	assert_int_equal(d.version, 0);
	assert_true(d.aor.p >= (const char *)p && d.aor.p + d.aor.len <= (const char *)p + len);
	/* trailing bytes (store_redis's connection and boot ids) are left */
	unsigned char *q = malloc(len + 16);
	assert_non_null(q);
	memcpy(q, p, len);
	memset(q + len, 0xEE, 16);
	assert_null(binding_codec_get(q, len + 16, BINDING_CODEC_NSTR, &d, &used));
	assert_int_equal(used, len);
	free(q);
	free(p);
}

static void test_round_trip_ipv4(void **state)
{
	(void)state;
	struct store_binding b = full_v4();
	round_trip(&b);
	b.instance = STR_NULL;
	b.reg_id = 0;
	b.path = STR_NULL;
	b.node = STR_NULL;
	b.q = 0;
	b.proto = TP_UDP;
	b.cseq = 0;
	round_trip(&b);
}

static void test_round_trip_ipv6_scope(void **state)
{
	(void)state;
	struct store_binding b = full_v4();
	memset(&b.source, 0, sizeof(b.source));
	b.source.in6.sin6_family = AF_INET6;
	b.source.in6.sin6_port = htons(5061);
	b.source.in6.sin6_scope_id = 0xfeedbeef;
	inet_pton(AF_INET6, "fe80::1:2:3:4", &b.source.in6.sin6_addr);
	b.contact = STR_LIT("sips:alice@[fe80::1:2:3:4%25eth0]:5061");
	b.proto = TP_TLS;
	round_trip(&b);
	/* no source address at all */
	memset(&b.source, 0, sizeof(b.source));
	round_trip(&b);
}

/* The snapshot's version 1 had no node: reading 6 strings stops there. */
static void test_v1_strings(void **state)
{
	(void)state;
	struct store_binding b = full_v4(), d;
	size_t len, used = 0;
	unsigned char *p = encode(&b, &len);
	assert_null(binding_codec_get(p, len, BINDING_CODEC_NSTR_V1, &d, &used));
	assert_int_equal(used, len - 2 - b.node.len);
	assert_same_binding(&b, &d, false);
	assert_int_equal(d.node.len, 0);
	free(p);
}

/* Every strict prefix of a record is refused, from a buffer of exactly that
 * size (ASan sees any read past it). */
static void test_truncated_refused(void **state)
{
	(void)state;
	struct store_binding b = full_v4();
	size_t len;
	unsigned char *p = encode(&b, &len);
	for (size_t n = 0; n < len; n++) {
		unsigned char *q = malloc(n ? n : 1);
		assert_non_null(q);
		memcpy(q, p, n);
		struct store_binding d;
		size_t used = 12345;
		const char *why = binding_codec_get(q, n, BINDING_CODEC_NSTR, &d, &used);
		if (!why)
			fail_msg("a %zu-byte prefix of %zu decoded", n, len);
		assert_int_equal(used, 12345);
		free(q);
	}
	free(p);
}

/* Fields that cannot be: each refused with a reason. */
static void test_bad_fields_refused(void **state)
{
	(void)state;
	struct store_binding b = full_v4(), d;
	size_t len, used;
	unsigned char *p = encode(&b, &len);
	struct {
		size_t at;
		unsigned char v;
	} bad[] = {
	    {16, 0xE9},			 /* q low byte: 1001 with the high byte */
	    {18, TP_PROTO_COUNT},	 /* protocol */
	    {18, 0xFF},			 /* protocol */
	    {19, 7},			 /* address family */
	    {BINDING_CODEC_FIXED, 0xFF}, /* aor length past the end */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unsigned char *q = malloc(len);
		assert_non_null(q);
		memcpy(q, p, len);
		q[bad[i].at] = bad[i].v;
		if (bad[i].at == 16)
			q[17] = 0x03; /* 0x03E9 = 1001 */
		if (bad[i].at == BINDING_CODEC_FIXED)
			q[BINDING_CODEC_FIXED + 1] = 0xFF;
		assert_non_null(binding_codec_get(q, len, BINDING_CODEC_NSTR, &d, &used));
		free(q);
	}
	free(p);
	/* an empty AOR; neither Contact nor instance */
	b.aor = STR_NULL;
	p = encode(&b, &len);
	assert_non_null(binding_codec_get(p, len, BINDING_CODEC_NSTR, &d, &used));
	free(p);
	b = full_v4();
	b.contact = STR_NULL;
	b.instance = STR_NULL;
	p = encode(&b, &len);
	assert_non_null(binding_codec_get(p, len, BINDING_CODEC_NSTR, &d, &used));
	free(p);
}

/* Random bytes (and random damage to a good record) never crash the
 * decoder, never read past the end, and what decodes lies inside. */
static void test_random_bytes(void **state)
{
	(void)state;
	srand(12345);
	struct store_binding b = full_v4();
	size_t glen;
	unsigned char *good = encode(&b, &glen);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n;
		unsigned char *q;
		if (iter % 2) {
			n = (size_t)rand() % 300;
			q = malloc(n ? n : 1);
			assert_non_null(q);
			for (size_t i = 0; i < n; i++)
				q[i] = (unsigned char)rand();
			if (n > 19 && iter % 4 == 1) {
				q[16] = (unsigned char)(rand() % 4); /* often a valid q */
				q[17] = 0;
				q[18] = (unsigned char)(rand() % TP_PROTO_COUNT);
				q[19] = (unsigned char)(rand() % 3 ? AF_INET : AF_INET6);
			}
		} else {
			n = glen - (size_t)rand() % 8;
			q = malloc(n);
			assert_non_null(q);
			memcpy(q, good, n);
			for (int k = 0; k < 3; k++)
				q[(size_t)rand() % n] = (unsigned char)rand();
		}
		struct store_binding d;
		size_t used = 0;
		if (!binding_codec_get(q, n, BINDING_CODEC_NSTR, &d, &used)) {
			assert_true(used <= n);
			const struct str *s[] = {&d.aor,  &d.contact, &d.instance, &d.call_id,
						 &d.path, &d.owner,   &d.node};
			for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
				assert_true(s[i]->len == 0 ||
					    (s[i]->p >= (const char *)q &&
					     s[i]->p + s[i]->len <= (const char *)q + n));
			assert_true(d.q <= 1000);
			assert_true(d.proto < TP_PROTO_COUNT);
			char key[BINDING_KEY_MAX];
			binding_key(&d, key, sizeof(key)); /* whatever the bytes, no crash */
		}
		free(q);
	}
	free(good);
}

static size_t key_of(const char *contact, const char *instance, uint32_t reg_id, char *out)
{
	struct store_binding b = {.aor = STR_LIT("sip:k@example.com"),
				  .contact = str_cstr(contact),
				  .instance = str_cstr(instance),
				  .reg_id = reg_id};
	return binding_key(&b, out, BINDING_KEY_MAX);
}

static void assert_same_key(const char *c1, const char *c2)
{
	char k1[BINDING_KEY_MAX], k2[BINDING_KEY_MAX];
	size_t n1 = key_of(c1, NULL, 0, k1), n2 = key_of(c2, NULL, 0, k2);
	if (!n1 || n1 != n2 || memcmp(k1, k2, n1) != 0)
		fail_msg("%s -> \"%s\" but %s -> \"%s\"", c1, n1 ? k1 : "", c2, n2 ? k2 : "");
	assert_int_equal(k1[n1], '\0');
	/* and §19.1.4 says they are equal */
	struct sip_uri u1, u2;
	assert_int_equal(sip_uri_parse(str_cstr(c1), &u1), 0);
	assert_int_equal(sip_uri_parse(str_cstr(c2), &u2), 0);
	assert_true(sip_uri_equal(&u1, &u2));
}

static void assert_other_key(const char *c1, const char *c2)
{
	char k1[BINDING_KEY_MAX], k2[BINDING_KEY_MAX];
	size_t n1 = key_of(c1, NULL, 0, k1), n2 = key_of(c2, NULL, 0, k2);
	assert_true(n1 && n2);
	if (n1 == n2 && memcmp(k1, k2, n1) == 0)
		fail_msg("%s and %s share key \"%s\"", c1, c2, k1);
	struct sip_uri u1, u2;
	assert_int_equal(sip_uri_parse(str_cstr(c1), &u1), 0);
	assert_int_equal(sip_uri_parse(str_cstr(c2), &u2), 0);
	assert_false(sip_uri_equal(&u1, &u2));
}

/* RFC 5626 §6: with +sip.instance the key is (instance, reg-id), whatever
 * the Contact; RFC 3261 §10.3 step 7 otherwise keys by Contact URI. */
static void test_key_instance(void **state)
{
	(void)state;
	char k1[BINDING_KEY_MAX], k2[BINDING_KEY_MAX];
	size_t n1 = key_of("sip:a@192.0.2.1", "<urn:uuid:1>", 1, k1);
	size_t n2 = key_of("sip:a@198.51.100.7:5070", "<urn:uuid:1>", 1, k2);
	assert_true(n1 && n1 == n2 && memcmp(k1, k2, n1) == 0);
	assert_string_equal(k1, "i:<urn:uuid:1>;1");
	n2 = key_of("sip:a@192.0.2.1", "<urn:uuid:1>", 2, k2);
	assert_false(n1 == n2 && memcmp(k1, k2, n1) == 0); /* another flow */
	n2 = key_of("sip:a@192.0.2.1", NULL, 0, k2);
	assert_true(n2 > 2 && k2[0] == 'c' && k2[1] == ':');
	assert_false(n1 == n2 && memcmp(k1, k2, n1) == 0);
	/* an instance key works even without a Contact that parses */
	assert_true(key_of("not a uri", "<urn:uuid:2>", 0, k1) > 0);
	assert_int_equal(key_of("not a uri", NULL, 0, k1), 0);
	assert_int_equal(key_of("", NULL, 0, k1), 0);
	/* a key that does not fit: 0, never truncated */
	struct store_binding b = {.aor = STR_LIT("sip:k@example.com"),
				  .contact = STR_LIT("sip:alice@example.com")};
	char small[8];
	assert_int_equal(binding_key(&b, small, sizeof(small)), 0);
	assert_int_equal(binding_key(&b, small, 2), 0);
	b.instance = STR_LIT("<urn:uuid:0123456789>");
	assert_int_equal(binding_key(&b, small, sizeof(small)), 0);
}

/* RFC 3261 §19.1.4: equal URIs, one key (so §10.3 step 7's "same
 * Contact" holds across proxies and in Redis). */
static void test_key_equal_contacts(void **state)
{
	(void)state;
	assert_same_key("sip:alice@EXAMPLE.com", "sip:alice@example.com");
	assert_same_key("SIP:alice@example.com", "sip:alice@example.com");
	assert_same_key("sip:%61lice@example.com", "sip:alice@example.com");
	assert_same_key("sip:alice@example.com;transport=TCP",
			"sip:alice@example.com;transport=tcp");
	assert_same_key("sip:alice@example.com;Transport=tcp",
			"sip:alice@example.com;transport=tcp");
	assert_same_key("sip:alice@example.com;transport=tcp;ob",
			"sip:alice@example.com;ob;transport=tcp");
	assert_same_key("sip:alice@example.com;ob",
			"sip:alice@example.com"); /* ob may be omitted */
	assert_same_key("sip:a;b@example.com", "sip:a%3Bb@example.com");
	assert_same_key("sip:alice:pw@example.com:5070", "sip:alice:pw@EXAMPLE.COM:5070");
	assert_same_key("sip:alice@[2001:DB8::1]:5060", "sip:alice@[2001:db8::1]:5060");
	assert_same_key("sip:+1555@example.com;user=phone", "sip:+1555@example.com;USER=Phone");
	/* and different ones, another */
	assert_other_key("sip:Alice@example.com", "sip:alice@example.com"); /* user: case counts */
	assert_other_key("sip:alice@example.com", "sip:alice@example.com:5060"); /* default port */
	assert_other_key("sip:alice@example.com;transport=udp", "sip:alice@example.com");
	assert_other_key("sip:alice@example.com;transport=udp",
			 "sip:alice@example.com;transport=tcp");
	assert_other_key("sip:alice@example.com", "sips:alice@example.com");
	assert_other_key("sip:alice@example.com;maddr=192.0.2.1", "sip:alice@example.com");
	assert_other_key("sip:alice:pw@example.com", "sip:alice@example.com");
	assert_other_key("sip:a%40b@example.com", "sip:ab@example.com");
}

/* sip_uri_key itself: printable, separators escaped, 0 when it does not
 * fit (written NUL-terminated otherwise). */
static void test_sip_uri_key(void **state)
{
	(void)state;
	struct sip_uri u;
	char k[256];
	assert_int_equal(sip_uri_parse(STR_LIT("sip:%61%3B@Example.COM;Transport=TCP;lr"), &u), 0);
	size_t n = sip_uri_key(&u, k, sizeof(k));
	assert_int_equal(n, strlen(k));
	assert_string_equal(k, "sip:a%3B@example.com:0;transport=tcp");
	for (size_t cap = 0; cap <= n; cap++)
		assert_int_equal(sip_uri_key(&u, k, cap), 0);
	assert_int_equal(sip_uri_key(&u, k, n + 1), n);
	for (size_t i = 0; i < n; i++)
		assert_true(k[i] > ' ' && k[i] < 0x7f);
	/* an octet that could pass for a separator or NUL is escaped */
	assert_int_equal(sip_uri_parse(STR_LIT("sip:a%00%20%3A@h"), &u), 0);
	n = sip_uri_key(&u, k, sizeof(k));
	assert_string_equal(k, "sip:a%00%20%3A@h:0");
	/* tel: and other schemes */
	assert_int_equal(sip_uri_parse(STR_LIT("tel:+1-555-0100;phone-context=x"), &u), 0);
	assert_true(sip_uri_key(&u, k, sizeof(k)) > 0);
	assert_int_equal(strncmp(k, "tel:", 4), 0);
	assert_int_equal(sip_uri_parse(STR_LIT("urn:service:sos"), &u), 0);
	assert_true(sip_uri_key(&u, k, sizeof(k)) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_ipv4),    cmocka_unit_test(test_round_trip_ipv6_scope),
	    cmocka_unit_test(test_v1_strings),	       cmocka_unit_test(test_truncated_refused),
	    cmocka_unit_test(test_bad_fields_refused), cmocka_unit_test(test_random_bytes),
	    cmocka_unit_test(test_key_instance),       cmocka_unit_test(test_key_equal_contacts),
	    cmocka_unit_test(test_sip_uri_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
