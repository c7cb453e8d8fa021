/* repl_load.c — the full load (repl.h): an HGETALL of every bucket of every
 * kind and partition (their names are known: no SCAN), at most
 * REPL_LOAD_WINDOW in flight, so Redis serves the next buckets while the
 * proxy applies one; each group's records read with nothing trusted (a bad
 * frame ends its group, a record that does not decode is skipped: both
 * counted) and applied to their kind; the kinds are told when it begins and
 * ends (what it did not find is gone, or, when Redis lost data, is written
 * back). Tailing resumes from where each log stood when the load began, so
 * changes made during the load are applied after it, in order, versions
 * sorting out what the load already saw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl_internal.h"
#include "util/log.h"

struct load_ticket {
	struct repl *r;
	unsigned long gen;
	char kind;
};

static void load_finish(struct repl *r)
{
	bool lost = r->lost;
	for (size_t i = 0; i < r->nkinds; i++)
		if (r->kinds[i].load_end)
			r->kinds[i].load_end(r->kinds[i].arg, lost);
	r->st.full_loads++;
	if (lost)
		r->st.lost_data++;
	r->st.last_load_ms = (uint64_t)(repl_wall_ms() - r->load_start_ms);
	r->st.last_load_records = r->load_records;
	LOG_INFO("store_loaded", "redis=%s records=%llu ms=%llu%s", redis_link_master(r->link),
		 (unsigned long long)r->load_records, (unsigned long long)r->st.last_load_ms,
		 lost ? " lost=yes (this proxy's records written back)" : "");
	/* overflowed stays: writes dropped during the load are written back
	 * by the next one (the write-back at this one's start cleared it) */
	r->lost = r->need_load = false;
	repl_went_live(r);
}

/* A decimal length (at most 9 digits) ending in stop; *p moves past stop. */
static bool take_len(const char **p, const char *end, char stop, size_t *out)
{
	size_t v = 0, n = 0;
	const char *s = *p;
	for (; s < end && *s >= '0' && *s <= '9' && n < 9; s++, n++)
		v = v * 10 + (size_t)(*s - '0');
	if (!n || s >= end || *s != stop)
		return false;
	*p = s + 1;
	*out = v;
	return true;
}

/* A group's records (repl.h): "<max expires_ms>\n", then per record
 * "<key len> <value len>\n<key><value>". */
static void load_group(struct repl *r, char kind, struct str group, struct str v)
{
	const char *end = v.p + v.len;
	const char *p = v.len ? memchr(v.p, '\n', v.len) : NULL;
	if (!p || !group.len) {
		r->st.changes_bad++;
		return;
	}
	for (p++; p < end;) {
		size_t klen, vlen;
		if (!take_len(&p, end, ' ', &klen) || !take_len(&p, end, '\n', &vlen) ||
		    klen > (size_t)(end - p) || vlen > (size_t)(end - p) - klen) {
			r->st.changes_bad++; /* the rest of the group cannot be framed */
			return;
		}
		struct repl_change c = {
		    .kind = kind, .op = REPL_SAVE, .group = group, .field = str_make(p, klen)};
		struct str val = str_make(p + klen, vlen);
		p += klen + vlen;
		if (!klen || !repl_decode_value(val, &c)) {
			r->st.changes_bad++;
			continue;
		}
		r->load_records++;
		repl_apply(r, &c);
	}
}

static void load_next(struct repl *r);

static void on_bucket(void *priv, redisReply *rep)
{
	struct load_ticket *t = priv;
	struct repl *r = t->r;
	char kind = t->kind;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing)
		return;
	r->load_pending--;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements % 2 == 0) {
		size_t ki = (size_t)(repl_find_kind(r, kind) - r->kinds);
		if (rep->elements && !(r->load_sized & (1u << ki))) {
			r->load_sized |= 1u << ki;
			if (r->kinds[ki].load_size)
				r->kinds[ki].load_size(r->kinds[ki].arg, rep->elements / 2 *
									     (size_t)r->partitions *
									     REPL_BUCKETS);
		}
		for (size_t i = 0; i < rep->elements; i += 2) {
			const redisReply *f = rep->element[i], *v = rep->element[i + 1];
			if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) {
				r->st.changes_bad++;
				continue;
			}
			load_group(r, kind, str_make(f->str, f->len), str_make(v->str, v->len));
		}
	} else if (rep->type != REDIS_REPLY_NIL) {
		/* a key of another type, or an error: the bucket is skipped */
		r->st.changes_bad++;
		LOG_WARN("store_load_error", "redis=%s kind=%c: a bucket unreadable%s%.150s",
			 redis_link_master(r->link), kind,
			 rep->type == REDIS_REPLY_ERROR ? ": " : "",
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
	}
	if (r->state != REPL_LOADING)
		return;
	load_next(r);
	if (r->state == REPL_LOADING && r->load_next == repl_bucket_count(r) &&
	    r->load_pending == 0)
		load_finish(r);
}

static void load_next(struct repl *r)
{
	unsigned long gen = r->gen;
	while (r->load_pending < REPL_LOAD_WINDOW && r->load_next < repl_bucket_count(r)) {
		char key[96];
		struct load_ticket *t = malloc(sizeof(*t));
		if (!t) {
			redis_link_fail(r->link, "out of memory");
			return;
		}
		repl_bucket_key_nth(r, r->load_next, &t->kind, key, sizeof(key));
		t->r = r;
		t->gen = gen;
		const char *argv[] = {"HGETALL", key};
		if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_bucket, t, 2, argv, NULL)) {
			free(t);
			redis_link_fail(r->link, "cannot send");
			return;
		}
		if (r->gen != gen)
			return; /* the link failed sending it */
		r->load_next++;
		r->load_pending++;
	}
}

void repl_load_begin(struct repl *r)
{
	r->state = REPL_LOADING;
	r->load_records = 0;
	r->load_pending = 0;
	r->load_next = 0;
	r->load_sized = 0;
	r->load_start_ms = repl_wall_ms();
	LOG_INFO("store_loading", "redis=%s%s", redis_link_master(r->link),
		 r->lost ? " (Redis is behind this proxy: data lost there)" : "");
	/* With lost, the kinds write back all they own: that covers every
	 * write dropped so far. */
	if (r->lost)
		r->overflowed = false;
	r->writing_back = r->lost;
	for (size_t i = 0; i < r->nkinds; i++)
		if (r->kinds[i].load_begin)
			r->kinds[i].load_begin(r->kinds[i].arg, r->lost);
	r->writing_back = false;
	if (repl_bucket_count(r) == 0) {
		load_finish(r);
		return;
	}
	load_next(r);
}
