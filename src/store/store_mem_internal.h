/* store_mem_internal.h — the pieces of the in-memory registration store shared by
 * its files: the compact binding record (binding_pack.c), the AOR hash table with
 * incremental rehash (store_table.c), the expiry min-heap (store_heap.c) and the
 * snapshot codec (store_snapshot.c). Not for use outside src/store/. */
#ifndef SIPPROXY_STORE_MEM_INTERNAL_H
#define SIPPROXY_STORE_MEM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct store_aor;

/* The strings packed after a record's header, in this order. */
enum store_rec_field {
	STORE_F_CONTACT = 0,
	STORE_F_INSTANCE,
	STORE_F_CALL_ID,
	STORE_F_PATH,
	STORE_F_OWNER,
	STORE_F_NODE,
	STORE_F_COUNT
};

/* One binding = ONE allocation: this 91-byte header (data[] starts at offset
 * 91, not at sizeof's padded 96), then the strings back to back (lengths as
 * uint16, no NUL, no fixed-size arrays). The AOR string lives once in its
 * struct store_aor, shared by all of the AOR's bindings. */
struct store_rec {
	struct store_rec *next; /* AOR list: q descending, ties most recently saved first */
	struct store_aor *aor;
	int64_t expires_at;
	uint64_t conn_id;
	uint64_t version; /* replication version (store_redis.c), 0 = local only */
	uint32_t cseq;
	uint32_t reg_id;
	uint32_t heap_idx; /* position in the expiry heap */
	uint32_t scope_id; /* IPv6 scope of the source address */
	uint16_t q;
	uint16_t port; /* network byte order, as in the sockaddr */
	uint8_t proto;
	uint8_t family; /* 0 (none), AF_INET or AF_INET6 */
	uint16_t len[STORE_F_COUNT];
	uint8_t addr[16];
	uint8_t seen; /* found by the full load in progress (store_mem_load_*) */
	char data[];
};

/* An address-of-record: hash chain link, its bindings, and its name packed after. */
struct store_aor {
	struct store_aor *next;
	struct store_rec *head;
	uint32_t hash;
	uint16_t len;
	uint16_t nbind;
	char name[];
};

/* ---- binding_pack.c: the compact record ---- */
struct store_rec *store_rec_new(const struct store_binding *b, size_t *alloc_bytes);
struct str store_rec_field(const struct store_rec *r, enum store_rec_field f);
/* Fills out with slices into r (valid while r lives). */
void store_rec_unpack(const struct store_rec *r, struct store_binding *out);
/* Same key per RFC 5626 §6 / RFC 3261 §10.3: (instance, reg-id) if instance set, else contact. */
bool store_rec_key_eq(const struct store_rec *r, const struct store_binding *b);
/* RFC 3261 §10.3 step 7: same Call-ID and stored CSeq >= new one. */
bool store_rec_is_stale(const struct store_rec *r, struct str call_id, uint32_t cseq);
struct store_aor *store_aor_new(struct str name, uint32_t hash, size_t *alloc_bytes);
size_t store_alloc_size(void *p);

/* ---- store_table.c: AOR hash table, grows by incremental rehash ---- */
struct store_table {
	struct store_aor **b[2]; /* b[1] is the new table while rehashing */
	size_t mask[2];
	size_t used[2];
	size_t rehash_idx; /* next bucket of b[0] to move; SIZE_MAX = not rehashing */
	uint64_t seed;	   /* per table, so bucket placement is not predictable */
};

int store_table_init(struct store_table *t, size_t size_pow2);
void store_table_fini(struct store_table *t);
#define STORE_TABLE_RESERVE_MAX ((size_t)1 << 24)
/* An empty table made at least n buckets (a power of two, at most
 * STORE_TABLE_RESERVE_MAX); a table holding entries is left as it is. */
void store_table_reserve(struct store_table *t, size_t n);
uint32_t store_table_hash(const struct store_table *t, struct str name);
struct store_aor *store_table_find(struct store_table *t, struct str name, uint32_t hash);
/* The AOR must not be present already. */
int store_table_insert(struct store_table *t, struct store_aor *a);
void store_table_delete(struct store_table *t, struct store_aor *a);
/* Moves up to n buckets of the old table (bounded work per call). */
void store_table_rehash_step(struct store_table *t, size_t n);
size_t store_table_bytes(const struct store_table *t);
typedef int (*store_table_visit_fn)(void *arg, struct store_aor *a);
int store_table_each(struct store_table *t, store_table_visit_fn fn, void *arg);

/* ---- store_heap.c: min-heap of expiry times ---- */
struct store_heap_ent {
	int64_t expires_at;
	struct store_rec *rec;
};

struct store_heap {
	struct store_heap_ent *v;
	size_t n, cap;
};

int store_heap_push(struct store_heap *h, struct store_rec *r);
void store_heap_remove(struct store_heap *h, struct store_rec *r);
/* r->expires_at changed: move it into place. */
void store_heap_update(struct store_heap *h, struct store_rec *r);
/* Replaces old (in the heap) by new_rec at the same slot, then re-sorts. */
void store_heap_replace(struct store_heap *h, struct store_rec *old, struct store_rec *new_rec);
static inline struct store_rec *store_heap_top(const struct store_heap *h)
{
	return h->n ? h->v[0].rec : NULL;
}
void store_heap_fini(struct store_heap *h);

/* ---- store_mem.c: changes another proxy made, replayed (store_redis.c) ----
 * The shared store already ordered them (§10.3 step 7 ran there): the one
 * rule here is the version, so a change applied twice, late or out of order
 * is harmless. A local record at version 0 (saved here, not yet confirmed)
 * yields to any replayed change; its own confirmation follows. */
/* Saves b (b->version > 0) unless the record has a version >= b->version:
 * then STORE_STALE. */
enum store_result store_mem_apply_save(struct store *s, const struct store_binding *b);
/* Removes aor's binding whose binding_key is key if its version < version. */
enum store_result store_mem_apply_remove(struct store *s, struct str aor, struct str key,
					 uint64_t version, enum store_event ev);
/* Removes every binding of aor whose version < version; returns how many. */
size_t store_mem_apply_remove_all(struct store *s, struct str aor, uint64_t version);
/* A full load of the shared store begins: from now until load_end every
 * record saved or found stale by a replayed change counts as seen. */
void store_mem_load_begin(struct store *s);
/* Sizes an empty store's AOR table for n AORs (a full load's estimate),
 * at most STORE_TABLE_RESERVE_MAX; otherwise nothing. */
void store_mem_reserve(struct store *s, size_t n);
/* It ends: with drop_unseen, the confirmed records (version > 0) it did not
 * see are removed (gone from the shared store while we were not
 * listening). Returns how many. */
size_t store_mem_load_end(struct store *s, bool drop_unseen);
/* Sets the version of aor's binding whose binding_key is key if it still
 * has this Call-ID and CSeq (the shared store confirmed this very write);
 * during a full load that also counts as seen. */
void store_mem_confirm(struct store *s, struct str aor, struct str key, struct str call_id,
		       uint32_t cseq, uint64_t version);

/* ---- store_snapshot.c: on-disk format ---- */
/* Loads path into s (via store_save); 1 = loaded, 0 = no file, -1 = error in err. */
int store_snapshot_load(struct store *s, const char *path, int64_t now_ms, size_t *loaded,
			char *err, size_t errlen);
int store_snapshot_write(struct store *s, const char *path, int64_t now_ms, size_t *written,
			 char *err, size_t errlen);

#endif
