/* store_mem.c — the in-memory registration store (RFC 3261 §10.3 location
 * service), the single-node default behind the registrar. Bindings hang off
 * their AOR (one hash lookup finds them all), sorted by q; a min-heap on
 * expires_at drops lapsed ones; a snapshot file (store_snapshot.c) survives
 * restarts. One store per event loop: not thread-safe, no globals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/binding_codec.h"
#include "store/store_mem_internal.h"
#include "util/log.h"

/* Buckets moved per table operation while the AOR table grows. */
#define STORE_REHASH_STEP 1
/* Extra buckets moved per expire() tick so a growth also finishes when idle. */
#define STORE_REHASH_TICK 256

struct store_mem {
	struct store base;
	struct store_table table;
	struct store_heap heap;
	size_t nbind;
	size_t rec_bytes; /* malloc_usable_size of every record and AOR */
	store_watch_fn watch_fn;
	void *watch_arg;
	char *snapshot_path;
	bool loading;	      /* a full load of the shared store is in progress */
	bool load_from_empty; /* it began with no binding */
};

static struct store_mem *mem_of(struct store *s)
{
	return (struct store_mem *)s;
}

static int64_t wall_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void notify(struct store_mem *m, enum store_event ev, const struct store_rec *r)
{
	if (!m->watch_fn)
		return;
	struct store_binding b;
	store_rec_unpack(r, &b);
	m->watch_fn(m->watch_arg, ev, &b);
}

/* Inserts r into a's list: q descending, and among equal q before the
 * existing ones, so a lookup sees the most recently saved first. */
static void list_insert(struct store_aor *a, struct store_rec *r)
{
	struct store_rec **pp = &a->head;
	while (*pp && (*pp)->q > r->q)
		pp = &(*pp)->next;
	r->next = *pp;
	*pp = r;
	r->aor = a;
}

static void list_unlink(struct store_aor *a, struct store_rec *r)
{
	for (struct store_rec **pp = &a->head; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			r->next = NULL;
			return;
		}
	}
}

static struct store_aor *aor_find(struct store_mem *m, struct str aor)
{
	if (!aor.len || !aor.p)
		return NULL;
	return store_table_find(&m->table, aor, store_table_hash(&m->table, aor));
}

static struct store_rec *aor_find_rec(struct store_aor *a, const struct store_binding *b)
{
	for (struct store_rec *r = a ? a->head : NULL; r; r = r->next)
		if (store_rec_key_eq(r, b))
			return r;
	return NULL;
}

/* Frees the AOR once its last binding is gone. */
static void aor_release_if_empty(struct store_mem *m, struct store_aor *a)
{
	if (a->nbind || a->head)
		return;
	store_table_delete(&m->table, a);
	m->rec_bytes -= store_alloc_size(a);
	free(a);
}

/* Unlinks r from everything, tells the listener, frees it. */
static void rec_drop(struct store_mem *m, struct store_rec *r, enum store_event ev)
{
	struct store_aor *a = r->aor;
	list_unlink(a, r);
	store_heap_remove(&m->heap, r);
	a->nbind--;
	m->nbind--;
	notify(m, ev, r);
	m->rec_bytes -= store_alloc_size(r);
	free(r);
}

/* Adds b or replaces old (b's record in its AOR, may be NULL). */
static enum store_result mem_put(struct store_mem *m, const struct store_binding *b,
				 struct store_aor *a, uint32_t hash, struct store_rec *old)
{
	if (!old && a && a->nbind == UINT16_MAX)
		return STORE_ERROR;
	size_t rbytes;
	struct store_rec *r = store_rec_new(b, &rbytes);
	if (!r)
		return STORE_ERROR;
	bool new_aor = false;
	if (!a) {
		size_t abytes;
		a = store_aor_new(b->aor, hash, &abytes);
		if (!a) {
			free(r);
			return STORE_ERROR;
		}
		store_table_insert(&m->table, a);
		m->rec_bytes += abytes;
		new_aor = true;
	}
	if (old) {
		/* Refresh: the new record takes the old one's heap slot (no extra
		 * allocation that could fail half-way) and its place by q/recency. */
		list_unlink(a, old);
		store_heap_replace(&m->heap, old, r);
		m->rec_bytes -= store_alloc_size(old);
		free(old);
	} else {
		if (store_heap_push(&m->heap, r) < 0) {
			free(r);
			if (new_aor)
				aor_release_if_empty(m, a);
			return STORE_ERROR;
		}
		a->nbind++;
		m->nbind++;
	}
	list_insert(a, r);
	r->seen = m->loading;
	m->rec_bytes += rbytes;
	notify(m, STORE_EV_SAVED, r);
	return STORE_OK;
}

static bool binding_valid(const struct store_binding *b)
{
	/* q is a qvalue x 1000 (RFC 3261 §20.10: 0 to 1); anything else would
	 * also make the snapshot unloadable. */
	return b && b->aor.len && b->aor.p && b->aor.len <= UINT16_MAX &&
	       (b->contact.len || b->instance.len) && b->q <= 1000;
}

/* Where b goes: its AOR (NULL if new) and the record it replaces (NULL if none). */
struct put_place {
	uint32_t hash;
	struct store_aor *a;
	struct store_rec *old;
};

static struct put_place place_of(struct store_mem *m, const struct store_binding *b)
{
	struct put_place pl;
	pl.hash = store_table_hash(&m->table, b->aor);
	pl.a = store_table_find(&m->table, b->aor, pl.hash);
	pl.old = aor_find_rec(pl.a, b);
	return pl;
}

static enum store_result mem_save(struct store *s, const struct store_binding *b)
{
	struct store_mem *m = mem_of(s);
	if (!binding_valid(b))
		return STORE_ERROR;
	struct put_place pl = place_of(m, b);
	if (pl.old && store_rec_is_stale(pl.old, b->call_id, b->cseq))
		return STORE_STALE;
	return mem_put(m, b, pl.a, pl.hash, pl.old);
}

enum store_result store_mem_apply_save(struct store *s, const struct store_binding *b)
{
	struct store_mem *m = mem_of(s);
	if (!binding_valid(b))
		return STORE_ERROR;
	struct put_place pl = place_of(m, b);
	struct store_rec *old = pl.old;
	if (old && old->version >= b->version) {
		old->seen = old->seen || m->loading;
		return STORE_STALE;
	}
	return mem_put(m, b, pl.a, pl.hash, old);
}

/* aor's record whose binding_key is key (a replayed change names it so). */
static struct store_rec *aor_find_rec_key(struct store_aor *a, struct str key)
{
	char k[BINDING_KEY_MAX];
	for (struct store_rec *r = a ? a->head : NULL; r; r = r->next) {
		struct store_binding b;
		store_rec_unpack(r, &b);
		size_t n = binding_key(&b, k, sizeof(k));
		if (n && str_eq(str_make(k, n), key))
			return r;
	}
	return NULL;
}

enum store_result store_mem_apply_remove(struct store *s, struct str aor, struct str key,
					 uint64_t version, enum store_event ev)
{
	struct store_mem *m = mem_of(s);
	struct store_aor *a = aor_find(m, aor);
	struct store_rec *r = aor_find_rec_key(a, key);
	if (!r)
		return STORE_NOT_FOUND;
	if (r->version >= version)
		return STORE_STALE;
	rec_drop(m, r, ev);
	aor_release_if_empty(m, a);
	return STORE_OK;
}

size_t store_mem_apply_remove_all(struct store *s, struct str aor, uint64_t version)
{
	struct store_mem *m = mem_of(s);
	struct store_aor *a = aor_find(m, aor);
	size_t n = 0;
	if (!a)
		return 0;
	struct store_rec *r = a->head;
	while (r) {
		struct store_rec *next = r->next;
		if (r->version < version) {
			rec_drop(m, r, STORE_EV_REMOVED);
			n++;
		}
		r = next;
	}
	aor_release_if_empty(m, a);
	return n;
}

static int clear_seen(void *arg, struct store_aor *a)
{
	(void)arg;
	for (struct store_rec *r = a->head; r; r = r->next)
		r->seen = 0;
	return 0;
}

void store_mem_load_begin(struct store *s)
{
	struct store_mem *m = mem_of(s);
	/* From empty, every record at the end was made during the load, so
	 * seen: nothing to clear now or to look for then (a first start's
	 * load of a million bindings skips two walks of them). */
	m->load_from_empty = m->nbind == 0;
	if (!m->load_from_empty)
		store_table_each(&m->table, clear_seen, NULL);
	m->loading = true;
}

/* Collected first: dropping while the table is walked would free the AOR
 * being visited. */
struct unseen {
	struct store_rec **v;
	size_t n, cap;
};

static int collect_unseen(void *arg, struct store_aor *a)
{
	struct unseen *u = arg;
	for (struct store_rec *r = a->head; r; r = r->next) {
		if (r->seen || !r->version)
			continue;
		if (u->n == u->cap) {
			size_t cap = u->cap ? u->cap * 2 : 256;
			struct store_rec **v = realloc(u->v, cap * sizeof(*v));
			if (!v)
				return 1;
			u->v = v;
			u->cap = cap;
		}
		u->v[u->n++] = r;
	}
	return 0;
}

void store_mem_reserve(struct store *s, size_t n)
{
	store_table_reserve(&mem_of(s)->table, n);
}

size_t store_mem_load_end(struct store *s, bool drop_unseen)
{
	struct store_mem *m = mem_of(s);
	m->loading = false;
	if (!drop_unseen || m->load_from_empty)
		return 0;
	struct unseen u = {0};
	store_table_each(&m->table, collect_unseen, &u);
	for (size_t i = 0; i < u.n; i++) {
		struct store_aor *a = u.v[i]->aor;
		rec_drop(m, u.v[i], STORE_EV_REMOVED);
		aor_release_if_empty(m, a);
	}
	free(u.v);
	return u.n;
}

void store_mem_confirm(struct store *s, struct str aor, struct str key, struct str call_id,
		       uint32_t cseq, uint64_t version)
{
	struct store_mem *m = mem_of(s);
	struct store_rec *r = aor_find_rec_key(aor_find(m, aor), key);
	if (r && r->version < version && r->cseq == cseq &&
	    str_eq(store_rec_field(r, STORE_F_CALL_ID), call_id)) {
		r->version = version;
		/* Redis holds it now: a load that scanned past its key before
		 * it was written must not take it for gone. */
		r->seen = r->seen || m->loading;
	}
}

static enum store_result mem_remove(struct store *s, const struct store_binding *b)
{
	struct store_mem *m = mem_of(s);
	if (!b)
		return STORE_ERROR;
	struct store_aor *a = aor_find(m, b->aor);
	struct store_rec *r = aor_find_rec(a, b);
	if (!r)
		return STORE_NOT_FOUND;
	if (store_rec_is_stale(r, b->call_id, b->cseq))
		return STORE_STALE;
	rec_drop(m, r, STORE_EV_REMOVED);
	aor_release_if_empty(m, a);
	return STORE_OK;
}

static enum store_result mem_remove_all(struct store *s, struct str aor, struct str call_id,
					uint32_t cseq)
{
	struct store_mem *m = mem_of(s);
	struct store_aor *a = aor_find(m, aor);
	if (!a)
		return STORE_NOT_FOUND;
	/* RFC 3261 §10.3 step 6/7: "Contact: *" is all-or-nothing; one binding
	 * refreshed by a newer request of the same Call-ID makes it stale. */
	for (struct store_rec *r = a->head; r; r = r->next)
		if (store_rec_is_stale(r, call_id, cseq))
			return STORE_STALE;
	while (a->head)
		rec_drop(m, a->head, STORE_EV_REMOVED);
	aor_release_if_empty(m, a);
	return STORE_OK;
}

static int mem_lookup(struct store *s, struct str aor, int64_t now_ms, store_visit_fn fn, void *arg)
{
	struct store_mem *m = mem_of(s);
	struct store_aor *a = aor_find(m, aor);
	int n = 0;
	/* The visitor must not modify the store; the registrar collects first. */
	for (struct store_rec *r = a ? a->head : NULL; r; r = r->next) {
		/* RFC 3261 §10.3 step 8: a lapsed binding is gone even if expire()
		 * has not swept it yet. */
		if (r->expires_at <= now_ms)
			continue;
		struct store_binding b;
		store_rec_unpack(r, &b);
		n++;
		if (fn && fn(arg, &b))
			break;
	}
	return n;
}

static size_t mem_expire(struct store *s, int64_t now_ms)
{
	struct store_mem *m = mem_of(s);
	size_t n = 0;
	struct store_rec *r;
	while ((r = store_heap_top(&m->heap)) && r->expires_at <= now_ms) {
		struct store_aor *a = r->aor;
		rec_drop(m, r, STORE_EV_EXPIRED);
		aor_release_if_empty(m, a);
		n++;
	}
	store_table_rehash_step(&m->table, STORE_REHASH_TICK);
	return n;
}

struct iter_ctx {
	store_visit_fn fn;
	void *arg;
};

static int iter_aor(void *arg, struct store_aor *a)
{
	struct iter_ctx *c = arg;
	for (struct store_rec *r = a->head; r; r = r->next) {
		struct store_binding b;
		store_rec_unpack(r, &b);
		int rc = c->fn(c->arg, &b);
		if (rc)
			return rc;
	}
	return 0;
}

static int mem_iterate(struct store *s, store_visit_fn fn, void *arg)
{
	if (!fn)
		return 0;
	struct iter_ctx c = {fn, arg};
	return store_table_each(&mem_of(s)->table, iter_aor, &c);
}

static void mem_watch(struct store *s, store_watch_fn fn, void *arg)
{
	struct store_mem *m = mem_of(s);
	m->watch_fn = fn;
	m->watch_arg = fn ? arg : NULL;
}

static size_t mem_count(struct store *s)
{
	return mem_of(s)->nbind;
}

static int free_aor(void *arg, struct store_aor *a)
{
	(void)arg;
	struct store_rec *r = a->head;
	while (r) {
		struct store_rec *next = r->next;
		free(r);
		r = next;
	}
	free(a);
	return 0;
}

static void mem_free(struct store *s)
{
	struct store_mem *m = mem_of(s);
	store_table_each(&m->table, free_aor, NULL);
	store_table_fini(&m->table);
	store_heap_fini(&m->heap);
	free(m->snapshot_path);
	free(m);
}

static const struct store_ops mem_ops = {
    .save = mem_save,
    .remove = mem_remove,
    .remove_all = mem_remove_all,
    .lookup = mem_lookup,
    .expire = mem_expire,
    .iterate = mem_iterate,
    .watch = mem_watch,
    .count = mem_count,
    .free = mem_free,
};

static bool is_mem(struct store *s)
{
	return s && s->ops == &mem_ops;
}

struct store *store_mem_new(const char *snapshot_path, char *err, size_t errlen)
{
	struct store_mem *m = calloc(1, sizeof(*m));
	if (!m || store_table_init(&m->table, 1024) < 0) {
		free(m);
		snprintf(err, errlen, "store: out of memory");
		return NULL;
	}
	m->base.ops = &mem_ops;
	if (snapshot_path && snapshot_path[0]) {
		m->snapshot_path = strdup(snapshot_path);
		if (!m->snapshot_path) {
			mem_free(&m->base);
			snprintf(err, errlen, "store: out of memory");
			return NULL;
		}
		size_t loaded = 0;
		int rc = store_snapshot_load(&m->base, m->snapshot_path, wall_now_ms(), &loaded,
					     err, errlen);
		if (rc < 0) {
			mem_free(&m->base);
			return NULL;
		}
		if (rc > 0)
			LOG_INFO("store_snapshot_loaded", "file=\"%s\" bindings=%zu", snapshot_path,
				 loaded);
	}
	return &m->base;
}

int store_mem_snapshot(struct store *s, char *err, size_t errlen)
{
	if (!is_mem(s)) {
		snprintf(err, errlen, "store: not an in-memory store");
		return -1;
	}
	struct store_mem *m = mem_of(s);
	if (!m->snapshot_path)
		return 0; /* no snapshot configured: nothing to do */
	size_t written = 0;
	return store_snapshot_write(s, m->snapshot_path, wall_now_ms(), &written, err, errlen) < 0
		   ? -1
		   : 0;
}

size_t store_mem_bytes(struct store *s)
{
	if (!is_mem(s))
		return 0;
	struct store_mem *m = mem_of(s);
	return store_alloc_size(m) + m->rec_bytes + store_table_bytes(&m->table) +
	       store_alloc_size(m->heap.v);
}
