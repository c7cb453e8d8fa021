/* arena.h — bump allocator for per-message memory.
 * A message's parsed headers, URIs and its copy of the received bytes all live in
 * one arena and are released together; nothing inside is freed one by one. */
#ifndef SIPPROXY_UTIL_ARENA_H
#define SIPPROXY_UTIL_ARENA_H

#include <stddef.h>

#include "util/str.h"

struct arena;

/* first_block: bytes of the first block (grown blocks double, up to 64 KiB). */
struct arena *arena_new(size_t first_block);
void arena_free(struct arena *a);

/* 16-byte aligned; NULL only when the system is out of memory. */
void *arena_alloc(struct arena *a, size_t n);
void *arena_zalloc(struct arena *a, size_t n);
/* Copy of s, NUL-terminated; the returned slice does not count the NUL. */
struct str arena_strdup(struct arena *a, struct str s);

/* Drops everything but keeps the first block for reuse. */
void arena_reset(struct arena *a);
size_t arena_used(const struct arena *a);

#endif
