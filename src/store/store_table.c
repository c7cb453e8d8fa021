/* store_table.c — the AOR hash table of the in-memory registration store: one
 * lookup finds all bindings of an address-of-record (RFC 3261 §10.3). Chained,
 * power-of-two sized; it grows by incremental rehash (as Redis' dict does): a
 * second table is allocated and every operation moves a few buckets, so there
 * is never a pause that rehashes 1M entries at once. */
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "store/store_mem_internal.h"

#define STORE_TABLE_MIN 16
/* Empty buckets a single step may skip before giving up (bounded work). */
#define STORE_TABLE_EMPTY_VISITS 16

static inline bool rehashing(const struct store_table *t)
{
	return t->rehash_idx != SIZE_MAX;
}

/* AORs are chosen by remote users; a per-table random seed keeps them from
 * aiming every AOR at one bucket. Eight bytes per round: the byte-wise
 * FNV-1a of util/str.c was 40% of a lookup's instructions. */
uint32_t store_table_hash(const struct store_table *t, struct str name)
{
	const uint64_t m = 0x9e3779b97f4a7c15ull;
	uint64_t h = t->seed ^ ((uint64_t)name.len * m);
	const unsigned char *p = (const unsigned char *)name.p;
	size_t n = name.len;
	while (n >= 8) {
		uint64_t k;
		memcpy(&k, p, 8);
		h = (h ^ k) * m;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	uint64_t k = 0;
	for (size_t i = 0; i < n; i++)
		k |= (uint64_t)p[i] << (8 * i);
	h = (h ^ k) * m;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (uint32_t)h;
}

static uint64_t table_seed(const struct store_table *t)
{
	uint64_t seed;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
		return seed;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uint64_t)(uintptr_t)t;
}

int store_table_init(struct store_table *t, size_t size_pow2)
{
	if (size_pow2 < STORE_TABLE_MIN)
		size_pow2 = STORE_TABLE_MIN;
	t->b[0] = calloc(size_pow2, sizeof(*t->b[0]));
	if (!t->b[0])
		return -1;
	t->mask[0] = size_pow2 - 1;
	t->used[0] = 0;
	t->b[1] = NULL;
	t->mask[1] = 0;
	t->used[1] = 0;
	t->rehash_idx = SIZE_MAX;
	t->seed = table_seed(t);
	return 0;
}

void store_table_fini(struct store_table *t)
{
	free(t->b[0]);
	free(t->b[1]);
	t->b[0] = t->b[1] = NULL;
}

void store_table_reserve(struct store_table *t, size_t n)
{
	if (n > STORE_TABLE_RESERVE_MAX)
		n = STORE_TABLE_RESERVE_MAX;
	if (rehashing(t) || t->used[0] || n <= t->mask[0] + 1)
		return;
	size_t size = t->mask[0] + 1;
	while (size < n)
		size *= 2;
	struct store_aor **nb = calloc(size, sizeof(*nb));
	if (!nb)
		return; /* it grows as it fills instead */
	free(t->b[0]);
	t->b[0] = nb;
	t->mask[0] = size - 1;
}

void store_table_rehash_step(struct store_table *t, size_t n)
{
	size_t empty = STORE_TABLE_EMPTY_VISITS;
	while (rehashing(t) && n > 0) {
		if (t->rehash_idx > t->mask[0]) {
			/* All moved: the new table becomes the only one. */
			free(t->b[0]);
			t->b[0] = t->b[1];
			t->mask[0] = t->mask[1];
			t->used[0] = t->used[1];
			t->b[1] = NULL;
			t->mask[1] = 0;
			t->used[1] = 0;
			t->rehash_idx = SIZE_MAX;
			return;
		}
		struct store_aor *a = t->b[0][t->rehash_idx];
		if (!a) {
			t->rehash_idx++;
			if (--empty == 0)
				return;
			continue;
		}
		while (a) {
			struct store_aor *next = a->next;
			size_t i = a->hash & t->mask[1];
			a->next = t->b[1][i];
			t->b[1][i] = a;
			t->used[0]--;
			t->used[1]++;
			a = next;
		}
		t->b[0][t->rehash_idx++] = NULL;
		n--;
	}
}

static int start_grow(struct store_table *t)
{
	size_t size = (t->mask[0] + 1) * 2;
	struct store_aor **nb = calloc(size, sizeof(*nb));
	if (!nb)
		return -1; /* keep working with the current table, just longer chains */
	t->b[1] = nb;
	t->mask[1] = size - 1;
	t->used[1] = 0;
	t->rehash_idx = 0;
	return 0;
}

struct store_aor *store_table_find(struct store_table *t, struct str name, uint32_t hash)
{
	if (rehashing(t))
		store_table_rehash_step(t, 1);
	for (int k = 0; k < 2; k++) {
		if (!t->b[k])
			continue;
		for (struct store_aor *a = t->b[k][hash & t->mask[k]]; a; a = a->next) {
			if (a->hash == hash && a->len == name.len &&
			    memcmp(a->name, name.p, name.len) == 0)
				return a;
		}
		if (!rehashing(t))
			break;
	}
	return NULL;
}

int store_table_insert(struct store_table *t, struct store_aor *a)
{
	if (rehashing(t)) {
		store_table_rehash_step(t, 1);
	} else if (t->used[0] >= t->mask[0] + 1) {
		/* Load factor 1 reached: start moving to a table twice the size. */
		(void)start_grow(t);
	}
	/* While rehashing, new entries go to the new table only. */
	int k = rehashing(t) ? 1 : 0;
	size_t i = a->hash & t->mask[k];
	a->next = t->b[k][i];
	t->b[k][i] = a;
	t->used[k]++;
	return 0;
}

void store_table_delete(struct store_table *t, struct store_aor *a)
{
	for (int k = 0; k < 2; k++) {
		if (!t->b[k])
			continue;
		struct store_aor **pp = &t->b[k][a->hash & t->mask[k]];
		for (; *pp; pp = &(*pp)->next) {
			if (*pp == a) {
				*pp = a->next;
				a->next = NULL;
				t->used[k]--;
				return;
			}
		}
	}
}

size_t store_table_bytes(const struct store_table *t)
{
	size_t n = 0;
	for (int k = 0; k < 2; k++)
		if (t->b[k])
			n += store_alloc_size(t->b[k]);
	return n;
}

int store_table_each(struct store_table *t, store_table_visit_fn fn, void *arg)
{
	for (int k = 0; k < 2; k++) {
		if (!t->b[k])
			continue;
		for (size_t i = 0; i <= t->mask[k]; i++) {
			struct store_aor *a = t->b[k][i];
			while (a) {
				/* fn may delete a (expire-style callers): read next first. */
				struct store_aor *next = a->next;
				int rc = fn(arg, a);
				if (rc)
					return rc;
				a = next;
			}
		}
	}
	return 0;
}
