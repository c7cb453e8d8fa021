/* store_heap.c — the expiry index of the in-memory registration store: a binary
 * min-heap on expires_at (RFC 3261 §10.3 step 8: a binding lapses when its
 * expiration interval ends). Each record knows its slot, so a refresh or a
 * removal is O(log n) and expiring k bindings costs O(k log n), never a scan. */
#include <stdlib.h>

#include "store/store_mem_internal.h"

static inline void place(struct store_heap *h, size_t i, struct store_heap_ent e)
{
	h->v[i] = e;
	e.rec->heap_idx = (uint32_t)i;
}

static void sift_up(struct store_heap *h, size_t i)
{
	struct store_heap_ent e = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent].expires_at <= e.expires_at)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
}

static void sift_down(struct store_heap *h, size_t i)
{
	struct store_heap_ent e = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1].expires_at < h->v[c].expires_at)
			c++;
		if (e.expires_at <= h->v[c].expires_at)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

static void resort(struct store_heap *h, size_t i)
{
	if (i > 0 && h->v[(i - 1) / 2].expires_at > h->v[i].expires_at)
		sift_up(h, i);
	else
		sift_down(h, i);
}

int store_heap_push(struct store_heap *h, struct store_rec *r)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		if (cap > UINT32_MAX)
			return -1; /* heap_idx is 32-bit */
		struct store_heap_ent *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n] = (struct store_heap_ent){r->expires_at, r};
	r->heap_idx = (uint32_t)h->n;
	h->n++;
	sift_up(h, h->n - 1);
	return 0;
}

void store_heap_remove(struct store_heap *h, struct store_rec *r)
{
	size_t i = r->heap_idx;
	if (i >= h->n || h->v[i].rec != r)
		return; /* not in the heap: nothing to do */
	r->heap_idx = UINT32_MAX;
	h->n--;
	if (i == h->n)
		return;
	place(h, i, h->v[h->n]);
	resort(h, i);
}

void store_heap_update(struct store_heap *h, struct store_rec *r)
{
	size_t i = r->heap_idx;
	if (i >= h->n || h->v[i].rec != r)
		return;
	h->v[i].expires_at = r->expires_at;
	resort(h, i);
}

void store_heap_replace(struct store_heap *h, struct store_rec *old, struct store_rec *new_rec)
{
	size_t i = old->heap_idx;
	if (i >= h->n || h->v[i].rec != old)
		return;
	old->heap_idx = UINT32_MAX;
	place(h, i, (struct store_heap_ent){new_rec->expires_at, new_rec});
	resort(h, i);
}

void store_heap_fini(struct store_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
