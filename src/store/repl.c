/* repl.c — the replication engine's life cycle (repl.h): on every connection
 * it loads the script, asks each partition's log where it stands (XINFO
 * STREAM) and which server it is (INFO server), and decides between tailing
 * on from the last position and a full load (first start, trimmed past us,
 * or Redis behind us or another process: data lost). The write queue is
 * repl_write.c's. */
#include "store/repl_internal.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

const unsigned repl_lag_bounds_ms[11] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000};

int64_t repl_now_ms(void)
{
	return repl_wall_ms();
}

int64_t repl_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned repl_partition(const struct repl *r, struct str group)
{
	return str_hash(group) % r->partitions;
}

unsigned repl_bucket(const struct repl *r, struct str group)
{
	return (str_hash(group) / r->partitions) % REPL_BUCKETS;
}

void repl_bucket_key(const struct repl *r, char kind, unsigned part, unsigned bucket, char *out,
		     size_t cap)
{
	snprintf(out, cap, "%s:{%u}:%c:%u", r->prefix, part, kind, bucket);
}

size_t repl_bucket_count(const struct repl *r)
{
	return r->nkinds * (size_t)r->partitions * REPL_BUCKETS;
}

unsigned repl_bucket_key_nth(const struct repl *r, size_t i, char *kind, char *out, size_t cap)
{
	size_t per_kind = (size_t)r->partitions * REPL_BUCKETS;
	*kind = r->kinds[i / per_kind].kind;
	i %= per_kind;
	unsigned part = (unsigned)(i / REPL_BUCKETS);
	repl_bucket_key(r, *kind, part, (unsigned)(i % REPL_BUCKETS), out, cap);
	return part;
}

int repl_id_cmp(const char *a, const char *b)
{
	unsigned long long am = 0, as = 0, bm = 0, bs = 0;
	if (!a[0] || !b[0])
		return a[0] ? 1 : (b[0] ? -1 : 0);
	sscanf(a, "%llu-%llu", &am, &as);
	sscanf(b, "%llu-%llu", &bm, &bs);
	if (am != bm)
		return am < bm ? -1 : 1;
	return as < bs ? -1 : (as > bs ? 1 : 0);
}

const struct repl_kind *repl_find_kind(const struct repl *r, char kind)
{
	for (size_t i = 0; i < r->nkinds; i++)
		if (r->kinds[i].kind == kind)
			return &r->kinds[i];
	return NULL;
}

const char *repl_state_name(enum repl_state s)
{
	switch (s) {
	case REPL_DOWN: return "down";
	case REPL_SYNCING: return "syncing";
	case REPL_LOADING: return "loading";
	case REPL_LIVE: return "live";
	}
	return "?";
}

/* ---- connecting ---- */

static bool parse_xinfo(const redisReply *rep, char *last, size_t cap, char *first, size_t fcap,
			long long *length)
{
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements % 2)
		return false;
	first[0] = last[0] = '\0';
	*length = -1;
	for (size_t i = 0; i + 1 < rep->elements; i += 2) {
		const redisReply *k = rep->element[i], *v = rep->element[i + 1];
		if (k->type != REDIS_REPLY_STRING && k->type != REDIS_REPLY_STATUS)
			continue;
		if (strcmp(k->str, "length") == 0 && v->type == REDIS_REPLY_INTEGER)
			*length = v->integer;
		else if (strcmp(k->str, "last-generated-id") == 0 &&
			 (v->type == REDIS_REPLY_STRING || v->type == REDIS_REPLY_STATUS) &&
			 v->len < cap)
			memcpy(last, v->str, v->len + 1);
		else if (strcmp(k->str, "first-entry") == 0 && v->type == REDIS_REPLY_ARRAY &&
			 v->elements >= 1 && v->element[0]->type == REDIS_REPLY_STRING &&
			 v->element[0]->len < fcap)
			memcpy(first, v->element[0]->str, v->element[0]->len + 1);
	}
	return last[0] && *length >= 0;
}

struct info_ticket {
	struct repl *r;
	unsigned part;
	unsigned long gen;
};

static void sync_done(struct repl *r)
{
	if (r->need_load) {
		repl_load_begin(r);
		return;
	}
	LOG_INFO("store_sync", "redis=%s resumed the change log (%u partitions)",
		 redis_link_master(r->link), r->partitions);
	repl_went_live(r);
}

/* Where partition t->part's log stands against our last position. */
static void on_xinfo(void *priv, redisReply *rep)
{
	struct info_ticket *t = priv;
	struct repl *r = t->r;
	unsigned part = t->part;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing || r->state != REPL_SYNCING)
		return;
	struct repl_partition *p = &r->part[part];
	char last[REPL_ID_MAX], first[REPL_ID_MAX];
	long long length;
	if (rep->type == REDIS_REPLY_ERROR) {
		/* no such key: a log never written, or Redis without our data */
		if (p->last_id[0] && strcmp(p->last_id, "0-0") != 0)
			r->lost = true;
		r->need_load = r->need_load || !p->last_id[0] || r->lost;
		snprintf(p->last_id, sizeof(p->last_id), "0-0");
		p->last_ver = 0;
	} else if (!parse_xinfo(rep, last, sizeof(last), first, sizeof(first), &length)) {
		r->st.changes_bad++;
		LOG_WARN("store_sync_bad", "redis=%s partition=%u: XINFO STREAM answer unreadable",
			 redis_link_master(r->link), part);
		r->need_load = true;
		snprintf(p->last_id, sizeof(p->last_id), "0-0");
		p->last_ver = 0;
	} else if (!p->last_id[0]) {
		r->need_load = true; /* first start */
		memcpy(p->last_id, last, sizeof(last));
		p->last_ver = 0;
	} else if (repl_id_cmp(p->last_id, last) > 0) {
		r->lost = r->need_load = true; /* Redis is behind what we applied */
		memcpy(p->last_id, last, sizeof(last));
		p->last_ver = 0;
	} else if ((length == 0 && repl_id_cmp(p->last_id, last) < 0) ||
		   (first[0] && repl_id_cmp(p->last_id, first) < 0)) {
		r->need_load = true; /* entries we never saw were trimmed */
		memcpy(p->last_id, last, sizeof(last));
		p->last_ver = 0;
	}
	if (--r->info_pending == 0)
		sync_done(r);
}

/* INFO server: a run_id other than last time's is another server process
 * (restarted, or a replica that took over). Its data may be older than what
 * we applied even where its logs look fine, e.g. another proxy wrote to it
 * first, so that its log starts after ours as if trimmed: treated as data
 * lost, and this proxy writes back what it owns. */
static void on_info(void *priv, redisReply *rep)
{
	struct info_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing || r->state != REPL_SYNCING)
		return;
	const char *id = rep->type == REDIS_REPLY_STRING ? strstr(rep->str, "run_id:") : NULL;
	if (id) {
		id += 7;
		size_t n = strcspn(id, "\r\n");
		if (n > 0 && n < sizeof(r->run_id)) {
			if (r->run_id[0] && (strlen(r->run_id) != n || memcmp(r->run_id, id, n))) {
				LOG_WARN("store_redis_restarted",
					 "redis=%s: another server process than before (run_id)",
					 redis_link_master(r->link));
				r->lost = r->need_load = true;
			}
			memcpy(r->run_id, id, n);
			r->run_id[n] = '\0';
		}
	}
	if (--r->info_pending == 0)
		sync_done(r);
}

static void on_script(void *priv, redisReply *rep)
{
	struct info_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing)
		return;
	if (rep->type != REDIS_REPLY_STRING || rep->len == 0 || rep->len >= sizeof(r->sha)) {
		LOG_ERROR("store_script", "redis=%s: SCRIPT LOAD refused: %.150s",
			  redis_link_master(r->link),
			  rep->type == REDIS_REPLY_ERROR ? rep->str : "(not a digest)");
		redis_link_fail(r->link, "SCRIPT LOAD failed");
		return;
	}
	memcpy(r->sha, rep->str, rep->len + 1);
	repl_flush(r);
}

static struct info_ticket *ticket(struct repl *r, unsigned part)
{
	struct info_ticket *t = malloc(sizeof(*t));
	if (t)
		*t = (struct info_ticket){r, part, r->gen};
	return t;
}

static void on_up(void *arg)
{
	struct repl *r = arg;
	r->state = REPL_SYNCING;
	r->st.connects++;
	r->sha[0] = '\0';
	/* A loss found on an earlier connection stands until a load has
	 * written back (load_finish clears it): a link dropped in between
	 * must not forget it. */
	r->need_load = r->lost;
	r->lost = r->lost || r->overflowed;
	const char *load[] = {"SCRIPT", "LOAD", repl_script_src};
	struct info_ticket *t = ticket(r, 0);
	if (!t || !redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_script, t, 3, load, NULL)) {
		free(t);
		redis_link_fail(r->link, "cannot send");
		return;
	}
	r->info_pending = r->partitions + 1;
	const char *server[] = {"INFO", "server"};
	t = ticket(r, 0);
	if (!t || !redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_info, t, 2, server, NULL)) {
		free(t);
		redis_link_fail(r->link, "cannot send");
		return;
	}
	for (unsigned i = 0; i < r->partitions; i++) {
		const char *info[] = {"XINFO", "STREAM", r->part[i].key_log};
		t = ticket(r, i);
		if (!t ||
		    !redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_xinfo, t, 3, info, NULL)) {
			free(t);
			redis_link_fail(r->link, "cannot send");
			return;
		}
	}
}

static void on_down(void *arg, const char *why)
{
	struct repl *r = arg;
	r->gen++;
	r->state = REPL_DOWN;
	r->sha[0] = '\0';
	r->tail_running = false;
	if (r->tail_timer)
		event_del(r->tail_timer);
	/* a new connection (maybe another master) finds the bad logs anew */
	r->probes_pending = 0;
	r->logs_bad = 0;
	for (unsigned i = 0; i < r->partitions; i++)
		r->part[i].log_bad = false;
	r->load_pending = 0;
	r->sweeping = false;
	snprintf(r->sweep_cursor, sizeof(r->sweep_cursor), "0"); /* the bucket again */
	repl_flight_requeue(r);
	if (r->queued)
		LOG_WARN("store_queueing", "redis=%s queued=%zu: routing from memory, writes wait",
			 redis_link_master(r->link), r->queued);
}

void repl_went_live(struct repl *r)
{
	r->state = REPL_LIVE;
	repl_flush(r);
	repl_tail_start(r);
	repl_sweep_start(r);
	if (r->gap) {
		/* the tail missed entries during the load just ended */
		r->gap = false;
		repl_load_begin(r);
		return;
	}
	repl_check_write_back(r);
}

/* ---- setup ---- */

static bool prefix_ok(const char *p)
{
	if (!p || !p[0] || strlen(p) >= 64)
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_.-", *p)))
			return false;
	return true;
}

struct repl *repl_new(struct event_base *base, const struct repl_config *cfg, char *err,
		      size_t errlen)
{
	if (!prefix_ok(cfg->prefix)) {
		snprintf(err, errlen, "store: key prefix must be 1-63 of [A-Za-z0-9_.-]");
		return NULL;
	}
	if (cfg->partitions < 1 || cfg->partitions > REPL_MAX_PARTITIONS) {
		snprintf(err, errlen, "store: partitions must be 1-%u", REPL_MAX_PARTITIONS);
		return NULL;
	}
	struct repl *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->base = base;
	snprintf(r->prefix, sizeof(r->prefix), "%s", cfg->prefix);
	snprintf(r->origin, sizeof(r->origin), "%s", cfg->origin ? cfg->origin : "");
	snprintf(r->maxlen, sizeof(r->maxlen), "%u", cfg->log_length ? cfg->log_length : 10000);
	r->partitions = cfg->partitions;
	r->queue_max = cfg->queue_max ? cfg->queue_max : 100000;
	r->sweep_ms = cfg->sweep_ms ? cfg->sweep_ms : REPL_SWEEP_MS;
	r->part = calloc(r->partitions, sizeof(*r->part));
	r->pause_timer = event_new(base, -1, 0, repl_pause_end, r);
	static const struct redis_link_ops ops = {on_up, on_down};
	r->link = redis_link_new(base, &cfg->link, &ops, r);
	if (!r->part || !r->pause_timer || !r->link) {
		snprintf(err, errlen, "store: bad Redis address or sentinel setting");
		repl_free(r);
		return NULL;
	}
	for (unsigned i = 0; i < r->partitions; i++) {
		snprintf(r->part[i].key_log, sizeof(r->part[i].key_log), "%s:{%u}:log", r->prefix,
			 i);
		snprintf(r->part[i].key_ver, sizeof(r->part[i].key_ver), "%s:{%u}:ver", r->prefix,
			 i);
	}
	return r;
}

int repl_add_kind(struct repl *r, const struct repl_kind *k)
{
	if (r->nkinds >= REPL_MAX_KINDS || repl_find_kind(r, k->kind))
		return -1;
	r->kinds[r->nkinds++] = *k;
	return 0;
}

void repl_start(struct repl *r)
{
	redis_link_start(r->link);
}

enum repl_state repl_state(const struct repl *r)
{
	return r->state;
}

const char *repl_origin(const struct repl *r)
{
	return r->origin;
}

void repl_get_stats(const struct repl *r, struct repl_stats *out)
{
	*out = r->st;
	out->state = r->state;
	out->master = redis_link_master(r->link);
	out->queued = r->queued;
	out->in_flight = r->in_flight;
}

static void free_list(struct repl_qent *e)
{
	while (e) {
		struct repl_qent *n = e->next;
		free(e);
		e = n;
	}
}

void repl_free(struct repl *r)
{
	if (!r)
		return;
	r->closing = true;
	redis_link_free(r->link); /* answers everything pending with NULL */
	if (r->pause_timer)
		event_free(r->pause_timer);
	if (r->tail_timer)
		event_free(r->tail_timer);
	if (r->sweep_timer)
		event_free(r->sweep_timer);
	free_list(r->q_head);
	free_list(r->f_head);
	free(r->part);
	free(r);
}
