/* repl_load.c — the full load (repl.h): SCAN over the records' keys (hashes
 * only), an HGETALL per key pipelined behind it with at most
 * REPL_LOAD_WINDOW in flight and the next page asked for ahead of them, so
 * Redis and the proxy work at once; each record applied to its kind; the kinds
 * are told when it begins and ends (what it did not find is gone, or, when
 * Redis lost data, is written back). Tailing resumes from where each log
 * stood when the load began, so changes made during the load are applied
 * after it, in order, versions sorting out what the load already saw. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl_internal.h"
#include "util/log.h"

struct load_ticket {
	struct repl *r;
	unsigned long gen;
	char kind;
	size_t glen;
	char group[];
};

static void scan_next(struct repl *r);

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

static void maybe_done(struct repl *r)
{
	if (r->state == REPL_LOADING && r->load_done_scan && !r->load_scanning &&
	    r->load_pending == 0)
		load_finish(r);
}

static void on_hgetall(void *priv, redisReply *rep)
{
	struct load_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	if (!rep || !current || r->closing) {
		free(t);
		return;
	}
	r->load_pending--;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements % 2 == 0) {
		for (size_t i = 0; i < rep->elements; i += 2) {
			const redisReply *f = rep->element[i], *v = rep->element[i + 1];
			struct repl_change c = {
			    .kind = t->kind, .op = REPL_SAVE, .group = str_make(t->group, t->glen)};
			if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING ||
			    !repl_decode_value(str_make(v->str, v->len), &c)) {
				r->st.changes_bad++;
				continue;
			}
			c.field = str_make(f->str, f->len);
			r->load_records++;
			repl_apply(r, &c);
		}
	} else if (rep->type == REDIS_REPLY_ERROR && strncmp(rep->str, "WRONGTYPE", 9) == 0) {
		/* not a hash: not a record (the SCAN has no TYPE filter) */
	} else if (rep->type != REDIS_REPLY_NIL) {
		/* an error: skip the key */
		r->st.changes_bad++;
	}
	free(t);
	if (r->state != REPL_LOADING)
		return;
	if (!r->load_scanning && !r->load_done_scan && r->load_pending < REPL_LOAD_WINDOW / 2)
		scan_next(r);
	maybe_done(r);
}

/* "<prefix>:{<P>}:<kind>:<group>" -> kind, group. */
static bool parse_key(const struct repl *r, struct str key, char *kind, struct str *group)
{
	size_t pl = strlen(r->prefix);
	if (key.len < pl + 6 || memcmp(key.p, r->prefix, pl) != 0 || key.p[pl] != ':' ||
	    key.p[pl + 1] != '{')
		return false;
	const char *e = memchr(key.p + pl + 2, '}', key.len - pl - 2);
	if (!e || (size_t)(key.p + key.len - e) < 4 || e[1] != ':' || e[3] != ':')
		return false;
	*kind = e[2];
	*group = str_make(e + 4, (size_t)(key.p + key.len - (e + 4)));
	return group->len > 0;
}

static void on_scan(void *priv, redisReply *rep)
{
	struct load_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing || r->state != REPL_LOADING)
		return;
	r->load_scanning = false;
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
	    rep->element[0]->type != REDIS_REPLY_STRING ||
	    rep->element[0]->len >= sizeof(r->load_cursor) ||
	    rep->element[1]->type != REDIS_REPLY_ARRAY) {
		r->st.changes_bad++;
		LOG_WARN("store_load_error", "redis=%s: SCAN answer unreadable%s%.150s",
			 redis_link_master(r->link), rep->type == REDIS_REPLY_ERROR ? ": " : "",
			 rep->type == REDIS_REPLY_ERROR ? rep->str : "");
		redis_link_fail(r->link, "SCAN failed");
		return;
	}
	memcpy(r->load_cursor, rep->element[0]->str, rep->element[0]->len + 1);
	r->load_done_scan = strcmp(r->load_cursor, "0") == 0;
	const redisReply *keys = rep->element[1];
	/* The next page is asked for before this page's records: its answer
	 * comes first and its HGETALLs queue up behind this page's while we
	 * apply them. Asked after them, it was answered after them: Redis
	 * idled while we caught up, then we while it served the next page, and
	 * a load took the sum of both CPUs, not the larger (bench/shared_store.sh). */
	unsigned long gen = r->gen;
	if (!r->load_done_scan && r->load_pending + keys->elements < REPL_LOAD_WINDOW) {
		scan_next(r);
		if (r->gen != gen || r->state != REPL_LOADING)
			return; /* the link failed */
	}
	for (size_t i = 0; i < keys->elements; i++) {
		const redisReply *k = keys->element[i];
		char kind;
		struct str group;
		if (k->type != REDIS_REPLY_STRING ||
		    !parse_key(r, str_make(k->str, k->len), &kind, &group) ||
		    !repl_find_kind(r, kind))
			continue;
		struct load_ticket *lt = malloc(sizeof(*lt) + group.len);
		if (!lt)
			continue;
		*lt = (struct load_ticket){r, r->gen, kind, group.len};
		memcpy(lt->group, group.p, group.len);
		const char *argv[] = {"HGETALL", k->str};
		size_t len[] = {7, k->len};
		if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_hgetall, lt, 2, argv, len)) {
			free(lt);
			redis_link_fail(r->link, "cannot send");
			return;
		}
		r->load_pending++;
	}
	if (!r->load_done_scan && !r->load_scanning && r->load_pending < REPL_LOAD_WINDOW)
		scan_next(r);
	maybe_done(r);
}

static void scan_next(struct repl *r)
{
	char pattern[96];
	snprintf(pattern, sizeof(pattern), "%s:{*}:?:*", r->prefix);
	/* The pattern matches the records' hashes only (not the logs and
	 * counters); no TYPE filter, which costs Redis a lookup per key (a
	 * tenth of its CPU in a full load): a key of another type answers
	 * HGETALL with WRONGTYPE, which on_hgetall skips. */
	const char *argv[] = {"SCAN", r->load_cursor, "MATCH", pattern, "COUNT", "1000"};
	struct load_ticket *t = malloc(sizeof(*t));
	if (!t) {
		redis_link_fail(r->link, "out of memory");
		return;
	}
	*t = (struct load_ticket){r, r->gen, 0, 0};
	if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_scan, t, 6, argv, NULL)) {
		free(t);
		redis_link_fail(r->link, "cannot send");
		return;
	}
	r->load_scanning = true;
}

void repl_load_begin(struct repl *r)
{
	r->state = REPL_LOADING;
	r->load_records = 0;
	r->load_pending = 0;
	r->load_done_scan = false;
	r->load_start_ms = repl_wall_ms();
	snprintf(r->load_cursor, sizeof(r->load_cursor), "0");
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
	scan_next(r);
}
