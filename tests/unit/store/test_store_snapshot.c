/* test_store_snapshot.c — the disk snapshot of the in-memory registration
 * store (src/store/store_snapshot.c): bindings (RFC 3261 §10.3) survive a
 * restart with their SIP Server node, a file of the previous format (v1, no
 * node) still loads, and a damaged file is an error naming the file and
 * offset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <cmocka.h>

#include "store/store.h"

#define T0  1700000000000LL /* in the past: bindings expiring then are lapsed */
#define FAR 4102444800000LL /* 2100-01-01 */

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

static void temp_path(char *out, size_t cap, const char *name)
{
	const char *dir = getenv("TMPDIR");
	snprintf(out, cap, "%s/sipproxy-store-%d-%s", dir && dir[0] ? dir : "/tmp", (int)getpid(),
		 name);
}

struct bind_copy {
	int n;
	struct store_binding b[4];
};

static int copy_one(void *arg, const struct store_binding *b)
{
	struct bind_copy *c = arg;
	if (c->n < 4)
		c->b[c->n] = *b; /* slices valid while the store is untouched */
	c->n++;
	return 0;
}

/* RFC 3261 §10.3: bindings outlive a restart — write the snapshot, load a new
 * store from it, find the same bindings (lapsed ones are not restored). */
static void test_snapshot_roundtrip(void **state)
{
	(void)state;
	char path[512], tmp[600], err[512] = "";
	temp_path(path, sizeof(path), "snap");
	unlink(path);
	struct store *st = store_mem_new(path, err, sizeof(err)); /* no file yet: empty */
	assert_non_null(st);
	int64_t far = FAR;
	struct store_binding a =
	    mk("sip:alice@ex.com", "sip:a@10.0.0.1;transport=tcp", "c1", 7, 800, far);
	a.instance = STR_LIT("<urn:uuid:11111111-2222-3333-4444-555555555555>");
	a.reg_id = 2;
	a.path = STR_LIT("<sip:edge1.ex.com;lr>,<sip:edge2.ex.com;lr>");
	a.proto = TP_TCP;
	a.conn_id = 42;
	memset(&a.source, 0, sizeof(a.source));
	a.source.in6.sin6_family = AF_INET6;
	a.source.in6.sin6_port = htons(5070);
	inet_pton(AF_INET6, "::1", &a.source.in6.sin6_addr);
	a.node = STR_LIT("sipsrv-east");
	struct store_binding b = mk("sip:alice@ex.com", "sip:a@10.0.0.2", "c2", 3, 1000, far);
	/* b has no node: it stays empty */
	struct store_binding gone = mk("sip:carol@ex.com", "sip:c@1", "c3", 1, 1000, T0);
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_save(st, &gone), STORE_OK);
	assert_int_equal(store_mem_snapshot(st, err, sizeof(err)), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0); /* renamed into place */
	store_free(st);

	st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_count(st), 2);
	struct bind_copy c = {0};
	assert_int_equal(store_lookup(st, str_cstr("sip:alice@ex.com"), T0, copy_one, &c), 2);
	assert_int_equal(c.n, 2);
	const struct store_binding *x = &c.b[0]; /* q 1000 first */
	assert_true(str_eq(x->contact, b.contact));
	assert_true(str_eq(x->call_id, b.call_id));
	assert_int_equal(x->source.sa.sa_family, AF_INET);
	assert_int_equal(x->source.in4.sin_port, htons(5060));
	assert_memory_equal(&x->source.in4.sin_addr, &b.source.in4.sin_addr, 4);
	assert_int_equal(x->node.len, 0);
	const struct store_binding *y = &c.b[1];
	assert_true(str_eq(y->aor, a.aor));
	assert_true(str_eq(y->contact, a.contact));
	assert_true(str_eq(y->instance, a.instance));
	assert_int_equal(y->reg_id, 2);
	assert_true(str_eq(y->call_id, a.call_id));
	assert_int_equal(y->cseq, 7);
	assert_int_equal(y->q, 800);
	assert_int_equal(y->expires_at, far);
	assert_true(str_eq(y->path, a.path));
	assert_int_equal(y->proto, TP_TCP);
	assert_true(str_eq(y->owner, a.owner));
	assert_true(str_eq(y->node, STR_LIT("sipsrv-east")));
	assert_int_equal(y->source.sa.sa_family, AF_INET6);
	assert_int_equal(y->source.in6.sin6_port, htons(5070));
	assert_memory_equal(&y->source.in6.sin6_addr, &a.source.in6.sin6_addr, 16);
	assert_int_equal(y->conn_id, 0); /* connections do not survive a restart */
	assert_int_equal(store_lookup(st, str_cstr("sip:carol@ex.com"), T0 - 1, NULL, NULL), 0);
	/* ^ lapsed before the write: not in the file at all */
	store_free(st);
	unlink(path);
}

static long file_read(const char *path, unsigned char **out)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*out = malloc((size_t)n);
	assert_non_null(*out);
	assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return n;
}

static void file_write(const char *path, const unsigned char *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* Seed sentence "a corrupt or truncated snapshot is an error naming the file
 * and offset, never a crash": every truncation and every flipped byte. */
static void test_snapshot_corrupt(void **state)
{
	(void)state;
	char path[512], err[512] = "";
	temp_path(path, sizeof(path), "corrupt");
	unlink(path);
	struct store *st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);
	struct store_binding a = mk("sip:alice@ex.com", "sip:a@1", "c1", 1, 1000, FAR);
	struct store_binding b = mk("sip:bob@ex.com", "sip:b@1", "c2", 1, 1000, FAR);
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_save(st, &b), STORE_OK);
	assert_int_equal(store_mem_snapshot(st, err, sizeof(err)), 0);
	store_free(st);
	unsigned char *good;
	long n = file_read(path, &good);
	assert_true(n > 40);

	for (long len = 0; len < n; len++) {
		file_write(path, good, (size_t)len);
		err[0] = '\0';
		st = store_mem_new(path, err, sizeof(err));
		assert_null(st);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "offset"));
	}
	assert_true(n > 0 && n < (1L << 30));
	size_t size = (size_t)n & ((1u << 30) - 1); /* bounded for the compiler too */
	unsigned char *bad = malloc(size);
	assert_non_null(bad);
	for (long i = 0; i < n; i++) {
		memcpy(bad, good, (size_t)n);
		bad[i] ^= 0x5a;
		file_write(path, bad, (size_t)n);
		err[0] = '\0';
		st = store_mem_new(path, err, sizeof(err));
		assert_null(st);
		assert_non_null(strstr(err, path));
		assert_non_null(strstr(err, "offset"));
	}
	/* Garbage with extra bytes after a good file, too. */
	unsigned char *longer = malloc((size_t)n + 3);
	assert_non_null(longer);
	memcpy(longer, good, (size_t)n);
	memcpy(longer + n, "xyz", 3);
	file_write(path, longer, (size_t)n + 3);
	assert_null(store_mem_new(path, err, sizeof(err)));
	/* The good file still loads. */
	file_write(path, good, (size_t)n);
	st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);
	assert_int_equal(store_count(st), 2);
	store_free(st);
	free(longer);
	free(bad);
	free(good);
	unlink(path);
}

static uint64_t fnv64(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* RFC 3261 §10.3 step 8: a binding that lapsed while the proxy was down is not
 * restored. The file is edited per format v2 (store_snapshot.c): the first
 * record's expires_at (offset 28) is set in the past, the checksum redone. */
static void test_snapshot_skips_lapsed(void **state)
{
	(void)state;
	char path[512], err[512] = "";
	temp_path(path, sizeof(path), "lapsed");
	unlink(path);
	struct store *st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);
	struct store_binding a = mk("sip:alice@ex.com", "sip:a@1", "c1", 1, 1000, FAR);
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_mem_snapshot(st, err, sizeof(err)), 0);
	store_free(st);
	unsigned char *p;
	long n = file_read(path, &p);
	assert_true(n > 48);
	uint64_t e = 0;
	for (int i = 0; i < 8; i++)
		e |= (uint64_t)p[28 + i] << (8 * i);
	assert_int_equal((int64_t)e, FAR); /* the layout this test relies on */
	for (int i = 0; i < 8; i++)
		p[28 + i] = (unsigned char)((uint64_t)T0 >> (8 * i));
	uint64_t h = fnv64(p, (size_t)n - 8);
	for (int i = 0; i < 8; i++)
		p[n - 8 + i] = (unsigned char)(h >> (8 * i));
	file_write(path, p, (size_t)n);
	st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);		      /* a valid file ... */
	assert_int_equal(store_count(st), 0); /* ... whose only binding lapsed */
	store_free(st);
	free(p);
	unlink(path);
}

/* ---- a snapshot of format v1 (before bindings had a node), written by hand
 * per the layout store_snapshot.c documents ---- */

struct v1_file {
	unsigned char b[1024];
	size_t n;
};

static void v1_put(struct v1_file *f, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		f->b[f->n++] = (unsigned char)(v >> (8 * i));
}

static void v1_put_str(struct v1_file *f, const char *s)
{
	size_t n = strlen(s);
	v1_put(f, n, 2);
	memcpy(f->b + f->n, s, n);
	f->n += n;
}

/* One v1 record: IPv4 127.0.0.1:port over UDP, six strings (no node). */
static void v1_record(struct v1_file *f, const char *aor, const char *contact, const char *call_id,
		      uint32_t cseq, uint16_t q, int64_t expires_at, uint16_t port)
{
	size_t len_at = f->n;
	f->n += 4;
	v1_put(f, (uint64_t)expires_at, 8);
	v1_put(f, cseq, 4);
	v1_put(f, 0, 4); /* reg_id */
	v1_put(f, q, 2);
	f->b[f->n++] = TP_UDP;
	f->b[f->n++] = AF_INET;
	f->b[f->n++] = (unsigned char)(port >> 8); /* network order */
	f->b[f->n++] = (unsigned char)port;
	v1_put(f, 0, 4); /* scope_id */
	unsigned char addr[16] = {127, 0, 0, 1};
	memcpy(f->b + f->n, addr, 16);
	f->n += 16;
	v1_put_str(f, aor);
	v1_put_str(f, contact);
	v1_put_str(f, ""); /* instance */
	v1_put_str(f, call_id);
	v1_put_str(f, "");    /* path */
	v1_put_str(f, "px1"); /* owner */
	size_t len = f->n - len_at - 4;
	for (int i = 0; i < 4; i++)
		f->b[len_at + i] = (unsigned char)(len >> (8 * i));
}

/* A proxy upgraded over a v1 snapshot keeps its bindings, each without a
 * node until its next REGISTER; the next snapshot is written as v2. */
static void test_snapshot_v1_loads(void **state)
{
	(void)state;
	char path[512], err[512] = "";
	temp_path(path, sizeof(path), "v1");
	struct v1_file f = {.n = 0};
	memcpy(f.b, "SIPSTORE", 8);
	f.n = 8;
	v1_put(&f, 1, 4);  /* version 1 */
	v1_put(&f, 24, 4); /* header length */
	v1_put(&f, (uint64_t)T0, 8);
	v1_record(&f, "sip:alice@ex.com", "sip:a@10.0.0.1", "c1", 7, 1000, FAR, 5060);
	v1_record(&f, "sip:bob@ex.com", "sip:b@10.0.0.2", "c2", 3, 500, FAR, 5070);
	v1_put(&f, 0, 4);
	v1_put(&f, 2, 8); /* record count */
	v1_put(&f, fnv64(f.b, f.n), 8);
	file_write(path, f.b, f.n);

	struct store *st = store_mem_new(path, err, sizeof(err));
	if (!st)
		print_error("%s\n", err);
	assert_non_null(st);
	assert_int_equal(store_count(st), 2);
	struct bind_copy c = {0};
	assert_int_equal(store_lookup(st, str_cstr("sip:alice@ex.com"), T0, copy_one, &c), 1);
	assert_true(str_eq(c.b[0].contact, STR_LIT("sip:a@10.0.0.1")));
	assert_true(str_eq(c.b[0].call_id, STR_LIT("c1")));
	assert_int_equal(c.b[0].cseq, 7);
	assert_int_equal(c.b[0].expires_at, FAR);
	assert_true(str_eq(c.b[0].owner, STR_LIT("px1")));
	assert_int_equal(c.b[0].node.len, 0);
	assert_int_equal(c.b[0].source.in4.sin_port, htons(5060));
	c.n = 0;
	assert_int_equal(store_lookup(st, str_cstr("sip:bob@ex.com"), T0, copy_one, &c), 1);
	assert_int_equal(c.b[0].q, 500);
	assert_int_equal(c.b[0].node.len, 0);

	/* Written back as v2, with a node for the refreshed binding. */
	struct store_binding a = mk("sip:alice@ex.com", "sip:a@10.0.0.1", "c1", 8, 1000, FAR);
	a.node = STR_LIT("sipsrv-west");
	assert_int_equal(store_save(st, &a), STORE_OK);
	assert_int_equal(store_mem_snapshot(st, err, sizeof(err)), 0);
	store_free(st);
	unsigned char *p;
	long n = file_read(path, &p);
	assert_true(n > 12);
	assert_int_equal(p[8], 2); /* version 2 */
	free(p);
	st = store_mem_new(path, err, sizeof(err));
	assert_non_null(st);
	c.n = 0;
	assert_int_equal(store_lookup(st, str_cstr("sip:alice@ex.com"), T0, copy_one, &c), 1);
	assert_true(str_eq(c.b[0].node, STR_LIT("sipsrv-west")));
	assert_int_equal(c.b[0].cseq, 8);
	store_free(st);

	/* An unknown version (v3) is refused, naming the offset. */
	f.b[8] = 3;
	size_t tail = f.n - 8;
	f.n = tail;
	v1_put(&f, fnv64(f.b, tail), 8);
	file_write(path, f.b, f.n);
	assert_null(store_mem_new(path, err, sizeof(err)));
	assert_non_null(strstr(err, "unsupported version 3 at offset 8"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapshot_roundtrip),
	    cmocka_unit_test(test_snapshot_corrupt),
	    cmocka_unit_test(test_snapshot_skips_lapsed),
	    cmocka_unit_test(test_snapshot_v1_loads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
