/* store_redis.c — the Redis registration store (store.h): the in-memory
 * store holds every binding of the cluster and answers every lookup; each
 * change made here is applied there at once (the registrar's §10.3 checks
 * run on it) and written through to Redis as a replicated record of kind
 * 'r' (repl.h): group = AOR, field = binding_key, payload = the binding's
 * bytes (binding_codec.h) + its connection id + this process's boot id.
 * Changes replayed from Redis are applied by version. A binding whose flow
 * a previous run of this proxy held comes back without its connection
 * (ids mean nothing across a restart). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store/binding_codec.h"
#include "store/repl.h"
#include "store/store_mem_internal.h"
#include "util/log.h"

#define KIND_REG 'r'

struct store_redis {
	struct store base;
	struct store *mem;
	struct repl *repl;
	store_watch_fn watch_fn;
	void *watch_arg;
	char owner[64];
	uint64_t boot_id;
	bool applying;	     /* replaying a change: nothing to write */
	uint64_t unstorable; /* bindings Redis refused for good */
	unsigned char *buf;
	size_t cap;
};

static struct store_redis *sr_of(struct store *s)
{
	return (struct store_redis *)s;
}

static bool is_own(const struct store_redis *sr, const struct store_binding *b)
{
	return str_eq(b->owner, str_cstr(sr->owner));
}

/* The payload of b in sr->buf; its length, 0 when out of memory. */
static size_t encode(struct store_redis *sr, const struct store_binding *b)
{
	size_t n = binding_codec_len(b) + 16;
	if (n > sr->cap) {
		unsigned char *nb = realloc(sr->buf, n);
		if (!nb)
			return 0;
		sr->buf = nb;
		sr->cap = n;
	}
	binding_codec_put(b, sr->buf);
	codec_put_le(sr->buf + n - 16, b->conn_id, 8);
	codec_put_le(sr->buf + n - 8, sr->boot_id, 8);
	return n;
}

static void write_binding(struct store_redis *sr, enum repl_op op, const struct store_binding *b)
{
	char key[BINDING_KEY_MAX];
	size_t klen = binding_key(b, key, sizeof(key));
	size_t plen = op == REPL_SAVE ? encode(sr, b) : 0;
	if (!klen || (op == REPL_SAVE && !plen)) {
		sr->unstorable++;
		LOG_ERROR("store_unstorable",
			  "aor=\"%.*s\" contact=\"%.*s\": no key for it; kept "
			  "in this proxy only",
			  (int)b->aor.len, b->aor.p, (int)b->contact.len, b->contact.p);
		return;
	}
	struct repl_write w = {
	    .kind = KIND_REG,
	    .op = op,
	    .group = b->aor,
	    .field = str_make(key, klen),
	    .call_id = b->call_id,
	    .cseq = b->cseq,
	    .expires_at = b->expires_at,
	    .payload = str_make((const char *)sr->buf, plen),
	};
	repl_write(sr->repl, &w);
}

static enum store_result sr_save(struct store *s, const struct store_binding *b)
{
	struct store_redis *sr = sr_of(s);
	struct store_binding local = *b;
	local.version = 0; /* confirmed when Redis answers */
	enum store_result rc = store_save(sr->mem, &local);
	if (rc == STORE_OK)
		write_binding(sr, REPL_SAVE, &local);
	return rc;
}

static enum store_result sr_remove(struct store *s, const struct store_binding *b)
{
	struct store_redis *sr = sr_of(s);
	enum store_result rc = store_remove(sr->mem, b);
	/* Not known here may still be known there (not replayed yet): Redis
	 * decides, by the same rule. */
	if (rc == STORE_OK || rc == STORE_NOT_FOUND)
		write_binding(sr, REPL_REMOVE, b);
	return rc;
}

static enum store_result sr_remove_all(struct store *s, struct str aor, struct str call_id,
				       uint32_t cseq)
{
	struct store_redis *sr = sr_of(s);
	enum store_result rc = store_remove_all(sr->mem, aor, call_id, cseq);
	if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
		struct repl_write w = {.kind = KIND_REG,
				       .op = REPL_REMOVE_ALL,
				       .group = aor,
				       .call_id = call_id,
				       .cseq = cseq};
		repl_write(sr->repl, &w);
	}
	return rc;
}

static int sr_lookup(struct store *s, struct str aor, int64_t now_ms, store_visit_fn fn, void *arg)
{
	return store_lookup(sr_of(s)->mem, aor, now_ms, fn, arg);
}

static size_t sr_expire(struct store *s, int64_t now_ms)
{
	return store_expire(sr_of(s)->mem, now_ms);
}

static int sr_iterate(struct store *s, store_visit_fn fn, void *arg)
{
	return store_iterate(sr_of(s)->mem, fn, arg);
}

static void sr_watch(struct store *s, store_watch_fn fn, void *arg)
{
	struct store_redis *sr = sr_of(s);
	sr->watch_fn = fn;
	sr->watch_arg = fn ? arg : NULL;
}

static size_t sr_count(struct store *s)
{
	return store_count(sr_of(s)->mem);
}

static void sr_free(struct store *s)
{
	struct store_redis *sr = sr_of(s);
	repl_free(sr->repl);
	store_free(sr->mem);
	free(sr->buf);
	free(sr);
}

static const struct store_ops redis_ops = {
    .save = sr_save,
    .remove = sr_remove,
    .remove_all = sr_remove_all,
    .lookup = sr_lookup,
    .expire = sr_expire,
    .iterate = sr_iterate,
    .watch = sr_watch,
    .count = sr_count,
    .free = sr_free,
};

/* Every change of the memory store passes here: the listener hears it, and
 * an expiry of our own binding tells Redis (the script drops and logs the
 * lapsed records of its AOR). */
static void on_mem_event(void *arg, enum store_event ev, const struct store_binding *b)
{
	struct store_redis *sr = arg;
	if (ev == STORE_EV_EXPIRED && !sr->applying && is_own(sr, b))
		write_binding(sr, REPL_EXPIRE, b);
	if (sr->watch_fn)
		sr->watch_fn(sr->watch_arg, ev, b);
}

/* ---- replayed changes (kind 'r') ---- */

static bool decode_binding(struct store_redis *sr, const struct repl_change *c,
			   struct store_binding *b)
{
	size_t used = 0;
	const unsigned char *p = (const unsigned char *)c->payload.p;
	if (binding_codec_get(p, c->payload.len, BINDING_CODEC_NSTR, b, &used) ||
	    c->payload.len != used + 16 || !str_eq(b->aor, c->group))
		return false;
	char key[BINDING_KEY_MAX];
	size_t klen = binding_key(b, key, sizeof(key));
	if (!klen || !str_eq(str_make(key, klen), c->field))
		return false;
	b->conn_id = codec_get_le(p + used, 8);
	if (is_own(sr, b) && codec_get_le(p + used + 8, 8) != sr->boot_id)
		b->conn_id = 0; /* a connection of our previous run */
	/* the record's own header is what Redis ordered by */
	b->expires_at = c->expires_at;
	b->cseq = c->cseq;
	b->call_id = c->call_id;
	b->version = c->version;
	return true;
}

static void on_change(void *arg, const struct repl_change *c)
{
	struct store_redis *sr = arg;
	sr->applying = true;
	switch (c->op) {
	case REPL_SAVE: {
		struct store_binding b;
		if (!decode_binding(sr, c, &b)) {
			LOG_WARN("store_bad_record", "aor=\"%.*s\" field=\"%.*s\": not a binding",
				 (int)c->group.len, c->group.p, (int)c->field.len, c->field.p);
			repl_change_refused(sr->repl);
			break;
		}
		store_mem_apply_save(sr->mem, &b);
		break;
	}
	case REPL_REMOVE:
	case REPL_EXPIRE:
		store_mem_apply_remove(sr->mem, c->group, c->field, c->version,
				       c->op == REPL_EXPIRE ? STORE_EV_EXPIRED : STORE_EV_REMOVED);
		break;
	case REPL_REMOVE_ALL: store_mem_apply_remove_all(sr->mem, c->group, c->version); break;
	}
	sr->applying = false;
}

struct write_back {
	struct store_redis *sr;
	int64_t now;
	size_t n;
};

static int write_back_one(void *arg, const struct store_binding *b)
{
	struct write_back *wb = arg;
	if (b->expires_at > wb->now && is_own(wb->sr, b)) {
		write_binding(wb->sr, REPL_SAVE, b);
		wb->n++;
	}
	return 0;
}

static void on_load_begin(void *arg, bool lost)
{
	struct store_redis *sr = arg;
	store_mem_load_begin(sr->mem);
	if (!lost)
		return;
	struct write_back wb = {sr, repl_now_ms(), 0};
	store_iterate(sr->mem, write_back_one, &wb);
	LOG_WARN("store_write_back",
		 "bindings=%zu: Redis lost data; this proxy's bindings "
		 "written back",
		 wb.n);
}

static void on_load_size(void *arg, size_t groups)
{
	store_mem_reserve(((struct store_redis *)arg)->mem, groups);
}

static void on_load_end(void *arg, bool lost)
{
	struct store_redis *sr = arg;
	size_t gone = store_mem_load_end(sr->mem, !lost);
	if (gone)
		LOG_INFO("store_load_swept", "bindings=%zu: gone from Redis while away", gone);
}

static void on_written(void *arg, const struct repl_write *w, enum repl_outcome o, uint64_t version)
{
	struct store_redis *sr = arg;
	if (o == REPL_WRITTEN && w->op == REPL_SAVE)
		store_mem_confirm(sr->mem, w->group, w->field, w->call_id, w->cseq, version);
	else if (o == REPL_FAILED)
		sr->unstorable++;
}

struct store *store_redis_new(struct event_base *base, const struct store_redis_config *cfg,
			      char *err, size_t errlen)
{
	struct store_redis *sr = calloc(1, sizeof(*sr));
	if (!sr) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sr->base.ops = &redis_ops;
	snprintf(sr->owner, sizeof(sr->owner), "%s", cfg->owner ? cfg->owner : "");
	if (getrandom(&sr->boot_id, sizeof(sr->boot_id), 0) != sizeof(sr->boot_id))
		sr->boot_id = (uint64_t)repl_now_ms() ^ (uint64_t)(uintptr_t)sr;
	sr->mem = store_mem_new(NULL, err, errlen);
	if (!sr->mem) {
		free(sr);
		return NULL;
	}
	store_watch(sr->mem, on_mem_event, sr);
	struct repl_config rc = {
	    .link = {.address = cfg->address,
		     .n_sentinels = cfg->n_sentinels,
		     .master_name = cfg->master_name,
		     .password = cfg->password,
		     .timeout_ms = cfg->timeout_ms},
	    .prefix = cfg->prefix,
	    .partitions = cfg->partitions,
	    .log_length = cfg->log_length,
	    .queue_max = cfg->queue_max,
	    .sweep_ms = cfg->sweep_ms,
	    .origin = cfg->owner,
	};
	for (size_t i = 0; i < cfg->n_sentinels && i < REDIS_LINK_MAX_SENTINELS; i++)
		rc.link.sentinels[i] = cfg->sentinels[i];
	sr->repl = repl_new(base, &rc, err, errlen);
	struct repl_kind k = {
	    .kind = KIND_REG,
	    .arg = sr,
	    .apply = on_change,
	    .load_begin = on_load_begin,
	    .load_end = on_load_end,
	    .load_size = on_load_size,
	    .written = on_written,
	};
	if (!sr->repl || repl_add_kind(sr->repl, &k) < 0) {
		sr_free(&sr->base);
		return NULL;
	}
	return &sr->base;
}

void store_redis_start(struct store *s)
{
	if (s && s->ops == &redis_ops)
		repl_start(sr_of(s)->repl);
}

struct repl *store_redis_repl(struct store *s)
{
	return s && s->ops == &redis_ops ? sr_of(s)->repl : NULL;
}

bool store_redis_stats(struct store *s, struct repl_stats *out, uint64_t *unstorable)
{
	if (!s || s->ops != &redis_ops)
		return false;
	repl_get_stats(sr_of(s)->repl, out);
	if (unstorable)
		*unstorable = sr_of(s)->unstorable;
	return true;
}
