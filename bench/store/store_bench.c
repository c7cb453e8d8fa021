/* store_bench.c — memory per binding and lookup cost of the in-memory
 * registration store (src/store/) at 100,000 and 1,000,000 bindings.
 * Build (from the repo root, optimised, no sanitizers):
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/store/store_bench.c src/store/store_*.c \
 *      src/store/binding_pack.c src/util/str.c src/util/log.c -o /tmp/store_bench
 * or the store_bench target of bench/store/CMakeLists.txt.
 * Run: /tmp/store_bench [n ...]  (default 100000 1000000)
 * Instructions per lookup: valgrind --tool=callgrind --toggle-collect=bench_lookups \
 *   /tmp/store_bench 100000   then  Ir of bench_lookups / lookups printed. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "store/store.h"

#define LOOKUPS 1000000
#define KEY_LEN 32

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* xorshift64*: reproducible "random" AORs without libc state. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* Small blocks (uordblks) plus large mmapped ones (hblkhd: table, heap array). */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static int visit(void *arg, const struct store_binding *b)
{
	*(size_t *)arg += b->contact.len;
	return 0;
}

/* Kept out of line so callgrind can count just this loop. */
__attribute__((noinline)) size_t bench_lookups(struct store *st, const char *keys,
					       const uint32_t *order, size_t n, int64_t now);
__attribute__((noinline)) size_t bench_lookups(struct store *st, const char *keys,
					       const uint32_t *order, size_t n, int64_t now)
{
	size_t sum = 0;
	for (size_t i = 0; i < n; i++) {
		const char *k = keys + (size_t)order[i] * KEY_LEN;
		store_lookup(st, str_make(k, strlen(k)), now, visit, &sum);
	}
	return sum;
}

/* Snapshot write and reload of the whole store (file removed afterwards). */
static void bench_snapshot(size_t n)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "/tmp/store_bench_%d.snap", (int)getpid());
	struct store *st = store_mem_new(path, err, sizeof(err));
	if (!st)
		return;
	int64_t now = wall_ms();
	struct store_binding b = {
	    .contact = STR_LIT("sip:u0000000001@198.51.100.7:5060;transport=tcp;ob"),
	    .instance = STR_LIT("<urn:uuid:00000001-7dec-11d0-a765-00a0c91e6bf6>"),
	    .reg_id = 1,
	    .call_id = STR_LIT("0000000000000001-a84b4c76e667@pc33.example"),
	    .cseq = 1,
	    .q = 1000,
	    .expires_at = now + 3600000,
	    .owner = STR_LIT("proxy-0001"),
	};
	char aor[KEY_LEN];
	for (size_t i = 0; i < n; i++) {
		snprintf(aor, sizeof(aor), "sip:u%010u@example.com", (unsigned)i);
		b.aor = str_cstr(aor);
		store_save(st, &b);
	}
	double t0 = mono_ns();
	int rc = store_mem_snapshot(st, err, sizeof(err));
	double t1 = mono_ns();
	store_free(st);
	struct stat sb;
	long long fsize = stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
	double t2 = mono_ns();
	st = store_mem_new(path, err, sizeof(err));
	double t3 = mono_ns();
	printf("snapshot bindings=%zu write=%s %.0f ms file=%lld bytes load=%.0f ms loaded=%zu\n",
	       n, rc == 0 ? "ok" : err, (t1 - t0) / 1e6, fsize, (t3 - t2) / 1e6,
	       st ? store_count(st) : 0);
	store_free(st);
	unlink(path);
}

static int run(size_t n)
{
	const int64_t now_ms = wall_ms();
	/* Keys and the lookup order are made before the memory baseline. */
	char *keys = malloc(n * KEY_LEN);
	uint32_t *order = malloc(LOOKUPS * sizeof(*order));
	if (!keys || !order)
		return -1;
	for (size_t i = 0; i < n; i++)
		snprintf(keys + i * KEY_LEN, KEY_LEN, "sip:u%010u@example.com",
			 (unsigned)i); /* 30 B */
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < LOOKUPS; i++)
		order[i] = (uint32_t)(next_rand(&seed) % n);

	char err[256];
	size_t base = heap_in_use();
	struct store *st = store_mem_new(NULL, err, sizeof(err));
	if (!st)
		return -1;
	char contact[80], cid[64], inst[64];
	double t0 = mono_ns();
	for (size_t i = 0; i < n; i++) {
		const char *k = keys + i * KEY_LEN;
		/* typical sizes: contact ~60, call-id ~40, instance 47, owner ~10 */
		int cl = snprintf(contact, sizeof(contact),
				  "sip:u%010zu@198.51.100.%zu:5060;transport=tcp;ob", i, i % 250);
		int il =
		    snprintf(inst, sizeof(inst), "<urn:uuid:%08zx-7dec-11d0-a765-00a0c91e6bf6>", i);
		int ll = snprintf(cid, sizeof(cid), "%016zx-a84b4c76e667@pc33.example", i);
		struct store_binding b = {
		    .aor = str_make(k, strlen(k)),
		    .contact = str_make(contact, (size_t)cl),
		    .instance = str_make(inst, (size_t)il),
		    .reg_id = 1,
		    .call_id = str_make(cid, (size_t)ll),
		    .cseq = 1,
		    .q = 1000,
		    .expires_at = now_ms + 60000 + (int64_t)(i % 3600) * 1000,
		    .proto = TP_TCP,
		    .conn_id = i + 1,
		    .owner = STR_LIT("proxy-0001"),
		};
		b.source.in4.sin_family = AF_INET;
		b.source.in4.sin_port = htons(5060);
		if (store_save(st, &b) != STORE_OK) {
			fprintf(stderr, "save %zu failed\n", i);
			return -1;
		}
	}
	double t1 = mono_ns();
	size_t heap_bytes = heap_in_use() - base;
	size_t own_bytes = store_mem_bytes(st);

	double t2 = mono_ns();
	size_t sum = bench_lookups(st, keys, order, LOOKUPS, now_ms);
	double t3 = mono_ns();

	double t4 = mono_ns();
	size_t gone = store_expire(st, now_ms + 60000 + 1800 * 1000); /* about half */
	double t5 = mono_ns();

	printf("bindings=%zu bytes_per_binding(mallinfo2)=%.1f bytes_per_binding(usable)=%.1f "
	       "save_ns=%.0f lookup_ns=%.1f (over %d random AORs, check %zu) "
	       "expire=%zu in %.1f ms (%.0f ns each)\n",
	       n, (double)heap_bytes / (double)n, (double)own_bytes / (double)n,
	       (t1 - t0) / (double)n, (t3 - t2) / LOOKUPS, LOOKUPS, sum, gone, (t5 - t4) / 1e6,
	       gone ? (t5 - t4) / (double)gone : 0.0);
	store_free(st);
	free(order);
	free(keys);
	bench_snapshot(n);
	return 0;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = {100000, 1000000};
	int n = 2;
	if (argc > 1) {
		n = 0;
		for (int i = 1; i < argc && n < 8; i++)
			sizes[n++] = (size_t)strtoull(argv[i], NULL, 10);
	}
	for (int i = 0; i < n; i++)
		if (sizes[i] == 0 || run(sizes[i]) < 0)
			return 1;
	return 0;
}
