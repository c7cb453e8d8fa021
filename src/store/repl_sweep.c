/* repl_sweep.c — the buckets' garbage collection (repl.h): a group lives in
 * a bucket hash, not a key of its own, so Redis's key expiry cannot drop it
 * once its records have lapsed. Every sweep_ms (REPL_SWEEP_MS unless
 * configured) while live, the script (op g) reads one slice of a bucket
 * (HSCAN, REPL_SWEEP_COUNT groups: under a millisecond of Redis, whatever the
 * bucket's size; a whole bucket at a million AORs was 4 ms) and deletes
 * the groups whose latest expiry has passed; the proxy walks all buckets in
 * turn from a place its name picks, so the proxies of a cluster sweep
 * different ones. At 10 slices a second a proxy comes round a million AORs
 * in under 20 minutes, and an empty or small bucket takes one slice. Not
 * logged: every proxy expires its in-memory records itself. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl_internal.h"
#include "util/log.h"

struct sweep_ticket {
	struct repl *r;
	unsigned long gen;
};

static void on_swept(void *priv, redisReply *rep)
{
	struct sweep_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing)
		return;
	r->sweeping = false;
	const redisReply *cur = NULL;
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
	    rep->element[1]->type == REDIS_REPLY_INTEGER) {
		if (rep->element[1]->integer > 0)
			r->st.swept += (uint64_t)rep->element[1]->integer;
		cur = rep->element[2];
	} else if (rep->type == REDIS_REPLY_ERROR) {
		/* a bucket of another type, an old script: the next bucket */
		LOG_DEBUG("store_sweep_error", "redis=%s: %.150s", redis_link_master(r->link),
			  rep->str);
	}
	bool more = cur && cur->type == REDIS_REPLY_STRING && cur->len > 0 &&
		    cur->len < sizeof(r->sweep_cursor) && strcmp(cur->str, "0") != 0 &&
		    strspn(cur->str, "0123456789") == cur->len;
	if (more) {
		memcpy(r->sweep_cursor, cur->str, cur->len + 1);
		return;
	}
	snprintf(r->sweep_cursor, sizeof(r->sweep_cursor), "0");
	size_t total = repl_bucket_count(r);
	r->sweep_next = total ? (r->sweep_next + 1) % total : 0;
}

static void on_sweep_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct repl *r = arg;
	size_t total = repl_bucket_count(r);
	if (r->state != REPL_LIVE || !r->sha[0] || r->paused || r->sweeping || !total)
		return;
	char key[96], kind[2] = {0, 0};
	struct repl_partition *p =
	    &r->part[repl_bucket_key_nth(r, r->sweep_next % total, &kind[0], key, sizeof(key))];
	struct sweep_ticket *t = malloc(sizeof(*t));
	if (!t)
		return;
	*t = (struct sweep_ticket){r, r->gen};
	const char *argv[] = {
	    "EVALSHA", r->sha,		"3", key, p->key_log, p->key_ver, "g",	     kind,
	    "",	       r->sweep_cursor, "",  "0", "0",	      "",	  r->origin, r->maxlen};
	if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_swept, t,
				(int)(sizeof(argv) / sizeof(argv[0])), argv, NULL)) {
		free(t);
		return;
	}
	r->sweeping = true;
}

void repl_sweep_start(struct repl *r)
{
	if (r->sweep_timer)
		return;
	r->sweep_timer = event_new(r->base, -1, EV_PERSIST, on_sweep_tick, r);
	if (!r->sweep_timer)
		return;
	r->sweep_next = str_hash(str_cstr(r->origin));
	snprintf(r->sweep_cursor, sizeof(r->sweep_cursor), "0");
	struct timeval tv = {r->sweep_ms / 1000, (r->sweep_ms % 1000) * 1000};
	event_add(r->sweep_timer, &tv);
}
