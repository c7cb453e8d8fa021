/* txn_table.c — chained hash table for transactions (RFC 3261 §17.1.3 and
 * §17.2.3 lookups). Nodes are intrusive and carry their hash, computed once at
 * insert; growth to twice the size is incremental, moving a few buckets on
 * every operation, so the latency of one packet never includes a full rehash. */
#include <limits.h>
#include <stdlib.h>

#include "txn/txn_internal.h"

#define TXN_TABLE_MIN	64
#define TXN_REHASH_STEP 8

void txn_table_init(struct txn_table *t)
{
	memset(t, 0, sizeof(*t));
}

void txn_table_free(struct txn_table *t)
{
	free(t->b[0]);
	free(t->b[1]);
	memset(t, 0, sizeof(*t));
}

static bool rehashing(const struct txn_table *t)
{
	return t->b[1] != NULL;
}

/* Moves up to n non-trivial steps of buckets from b[0] into b[1]. */
static void rehash_step(struct txn_table *t, unsigned n)
{
	if (!rehashing(t))
		return;
	size_t mask = t->size[1] - 1;
	while (n-- && t->rehash < t->size[0]) {
		struct txn_hnode *e = t->b[0][t->rehash];
		while (e) {
			struct txn_hnode *next = e->next;
			size_t i = e->hash & mask;
			e->next = t->b[1][i];
			t->b[1][i] = e;
			e = next;
		}
		t->b[0][t->rehash++] = NULL;
	}
	if (t->rehash >= t->size[0]) {
		free(t->b[0]);
		t->b[0] = t->b[1];
		t->size[0] = t->size[1];
		t->b[1] = NULL;
		t->size[1] = 0;
		t->rehash = 0;
	}
}

static int grow(struct txn_table *t)
{
	if (!t->b[0]) {
		t->b[0] = calloc(TXN_TABLE_MIN, sizeof(*t->b[0]));
		if (!t->b[0])
			return -1;
		t->size[0] = TXN_TABLE_MIN;
		return 0;
	}
	if (rehashing(t) || t->used < t->size[0])
		return 0;
	size_t n = t->size[0] * 2;
	struct txn_hnode **nb = calloc(n, sizeof(*nb));
	if (!nb)
		return 0; /* keep working with longer chains */
	t->b[1] = nb;
	t->size[1] = n;
	t->rehash = 0;
	return 0;
}

int txn_table_insert(struct txn_table *t, struct txn_hnode *n, uint32_t hash)
{
	if (grow(t) < 0)
		return -1;
	rehash_step(t, TXN_REHASH_STEP);
	n->hash = hash;
	int k = rehashing(t) ? 1 : 0;
	size_t i = hash & (t->size[k] - 1);
	n->next = t->b[k][i];
	t->b[k][i] = n;
	t->used++;
	return 0;
}

static bool unlink_from(struct txn_hnode **head, struct txn_hnode *n)
{
	for (struct txn_hnode **pp = head; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			return true;
		}
	}
	return false;
}

void txn_table_remove(struct txn_table *t, struct txn_hnode *n)
{
	for (int k = 0; k < 2; k++) {
		if (!t->b[k])
			continue;
		if (unlink_from(&t->b[k][n->hash & (t->size[k] - 1)], n)) {
			t->used--;
			break;
		}
	}
	rehash_step(t, 1);
}

struct txn_hnode *txn_table_find(struct txn_table *t, uint32_t hash, txn_match_fn fn,
				 const void *arg)
{
	rehash_step(t, 1);
	for (int k = 0; k < 2; k++) {
		if (!t->b[k])
			continue;
		for (struct txn_hnode *e = t->b[k][hash & (t->size[k] - 1)]; e; e = e->next)
			if (e->hash == hash && fn(e, arg))
				return e;
	}
	return NULL;
}

struct txn_hnode *txn_table_any(struct txn_table *t, size_t *cursor)
{
	/* The cursor resumes where the last call found a node, so emptying a
	 * table node by node costs O(buckets + nodes), not O(buckets x nodes).
	 * A rehash in progress is finished first: removals then move nothing. */
	if (*cursor == 0)
		rehash_step(t, UINT_MAX);
	for (size_t i = *cursor; t->b[0] && i < t->size[0]; i++)
		if (t->b[0][i]) {
			*cursor = i;
			return t->b[0][i];
		}
	return NULL;
}

size_t txn_table_sum(const struct txn_table *t, size_t (*fn)(const struct txn_hnode *n))
{
	size_t sum = 0;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; t->b[k] && i < t->size[k]; i++)
			for (const struct txn_hnode *n = t->b[k][i]; n; n = n->next)
				sum += fn(n);
	return sum;
}
