/* arena.c — bump allocator: a chain of blocks, the first one allocated together
 * with the arena header so a small message costs a single malloc. */
#include "util/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	size_t size;
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_block *head; /* current block (newest) */
	struct arena_block *first;
	size_t total_used;
	size_t pad; /* keeps the first block that follows 16-byte aligned */
};

#define ARENA_ALIGN	16u
#define ARENA_MAX_BLOCK (64u * 1024u)

struct arena *arena_new(size_t first_block)
{
	if (first_block < 256)
		first_block = 256;
	_Static_assert(sizeof(struct arena) % ARENA_ALIGN == 0, "arena header alignment");
	struct arena *a = malloc(sizeof(*a) + sizeof(struct arena_block) + first_block);
	if (!a)
		return NULL;
	a->first = (struct arena_block *)(a + 1);
	a->first->next = NULL;
	a->first->size = first_block;
	a->first->used = 0;
	a->head = a->first;
	a->total_used = 0;
	return a;
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	struct arena_block *b = a->head;
	while (b && b != a->first) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	free(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	size_t need = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (need == 0)
		need = ARENA_ALIGN;
	struct arena_block *b = a->head;
	if (b->size - b->used < need) {
		size_t sz = b->size * 2;
		if (sz > ARENA_MAX_BLOCK)
			sz = ARENA_MAX_BLOCK;
		if (sz < need)
			sz = need;
		struct arena_block *nb = malloc(sizeof(*nb) + sz);
		if (!nb)
			return NULL;
		nb->size = sz;
		nb->used = 0;
		nb->next = b;
		a->head = nb;
		b = nb;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->total_used += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

struct str arena_strdup(struct arena *a, struct str s)
{
	char *p = arena_alloc(a, s.len + 1);
	if (!p)
		return STR_NULL;
	if (s.len)
		memcpy(p, s.p, s.len);
	p[s.len] = '\0';
	return str_make(p, s.len);
}

void arena_reset(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b && b != a->first) {
		struct arena_block *n = b->next;
		free(b);
		b = n;
	}
	a->head = a->first;
	a->first->used = 0;
	a->total_used = 0;
}

size_t arena_used(const struct arena *a)
{
	return a->total_used;
}
