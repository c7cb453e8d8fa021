/* repl_sweep.c — the buckets' garbage collection (repl.h): a group lives in
 * a bucket hash, not a key of its own, so Redis's key expiry cannot drop it
 * once its records have lapsed. Every sweep_ms (REPL_SWEEP_MS unless
 * configured) while live, the script (op g) deletes the groups of one
 * bucket whose latest expiry has passed; the proxy walks all buckets in turn
 * from a place its name picks, so the proxies of a cluster sweep different
 * buckets. A proxy with 16 partitions and three kinds (bindings, calls,
 * the definition) has 3072 buckets: it sweeps each every 5 minutes. Not logged:
 * every proxy expires its in-memory records itself. */
#include <event2/event.h>
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
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
	    rep->element[1]->type == REDIS_REPLY_INTEGER && rep->element[1]->integer > 0)
		r->st.swept += (uint64_t)rep->element[1]->integer;
	else if (rep->type == REDIS_REPLY_ERROR)
		LOG_DEBUG("store_sweep_error", "redis=%s: %.150s", redis_link_master(r->link),
			  rep->str);
}

static void on_sweep_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct repl *r = arg;
	size_t total = r->nkinds * (size_t)r->partitions * REPL_BUCKETS;
	if (r->state != REPL_LIVE || !r->sha[0] || r->paused || r->sweeping || !total)
		return;
	char key[96], kind[2] = {0, 0};
	repl_bucket_key_nth(r, r->sweep_next % total, &kind[0], key, sizeof(key));
	struct repl_partition *p = &r->part[(r->sweep_next % total) %
					    ((size_t)r->partitions * REPL_BUCKETS) / REPL_BUCKETS];
	struct sweep_ticket *t = malloc(sizeof(*t));
	if (!t)
		return;
	*t = (struct sweep_ticket){r, r->gen};
	const char *argv[] = {"EVALSHA", r->sha, "3",	    key,      p->key_log, p->key_ver,
			      "g",	 kind,	 "",	    "",	      "",	  "0",
			      "0",	 "",	 r->origin, r->maxlen};
	if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_swept, t,
				(int)(sizeof(argv) / sizeof(argv[0])), argv, NULL)) {
		free(t);
		return;
	}
	r->sweeping = true;
	r->sweep_next = (r->sweep_next + 1) % total;
}

void repl_sweep_start(struct repl *r)
{
	if (r->sweep_timer)
		return;
	r->sweep_timer = event_new(r->base, -1, EV_PERSIST, on_sweep_tick, r);
	if (!r->sweep_timer)
		return;
	r->sweep_next = str_hash(str_cstr(r->origin));
	struct timeval tv = {r->sweep_ms / 1000, (r->sweep_ms % 1000) * 1000};
	event_add(r->sweep_timer, &tv);
}
