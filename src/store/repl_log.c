/* repl_log.c — tailing the change logs (repl.h): one blocking XREAD over
 * every partition's stream at a time, from the last entry applied; each
 * entry decoded with nothing trusted (a field missing, a number that is not
 * one, a kind nobody registered: counted and skipped) and handed to its
 * kind; entries missed (the log trimmed past what we had read: an entry
 * whose previous version is not our last one) start a full load; the
 * replication lag of other proxies' changes measured from the entry's id
 * (Redis's clock when it logged it). A log key of another type (someone
 * else's data) would fail the XREAD of every partition: after a WRONGTYPE
 * the TYPE of each log key is asked, the bad ones are left out of the read
 * (logged, counted) and asked again every second until they are logs again
 * (the version chain then finds what was missed). Also the decoding of a
 * stored record's value, shared with the full load and write answers. */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl_internal.h"
#include "util/log.h"

static bool parse_u64(struct str s, uint64_t *out)
{
	if (!s.len || s.len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return false;
		uint64_t d = (uint64_t)(s.p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

bool repl_decode_value(struct str v, struct repl_change *c)
{
	const char *nl = v.len ? memchr(v.p, '\n', v.len) : NULL;
	if (!nl)
		return false;
	struct str head = str_make(v.p, (size_t)(nl - v.p)), part[4];
	size_t n = 0;
	const char *p = head.p, *e = head.p + head.len;
	for (; n < 3; n++) {
		const char *sp = p < e ? memchr(p, ' ', (size_t)(e - p)) : NULL;
		if (!sp)
			break;
		part[n] = str_make(p, (size_t)(sp - p));
		p = sp + 1;
	}
	if (n == 3)
		part[n++] = str_make(p, (size_t)(e - p));
	uint64_t ver, exp, cseq;
	if (n != 4 || !parse_u64(part[0], &ver) || !parse_u64(part[1], &exp) ||
	    !parse_u64(part[2], &cseq) || cseq > UINT32_MAX || exp > INT64_MAX || ver == 0)
		return false;
	c->version = ver;
	c->expires_at = (int64_t)exp;
	c->cseq = (uint32_t)cseq;
	c->call_id = part[3];
	c->payload = str_make(nl + 1, v.len - head.len - 1);
	return true;
}

void repl_apply(struct repl *r, const struct repl_change *c)
{
	const struct repl_kind *k = repl_find_kind(r, c->kind);
	if (!k) {
		r->st.changes_bad++;
		return;
	}
	r->refused = false;
	if (k->apply)
		k->apply(k->arg, c);
	if (r->refused)
		r->st.changes_bad++;
	else
		r->st.changes_applied++;
	r->refused = false;
}

void repl_change_refused(struct repl *r)
{
	r->refused = true;
}

static struct str reply_str(const redisReply *e)
{
	if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
		return str_make(e->str, e->len);
	return STR_NULL;
}

static void note_lag(struct repl *r, int64_t lag)
{
	if (lag < 0)
		lag = 0;
	r->st.lag_count++;
	r->st.lag_sum_ms += (uint64_t)lag;
	size_t b = 0;
	while (b < 11 && (uint64_t)lag > repl_lag_bounds_ms[b])
		b++;
	r->st.lag_buckets[b]++;
}

/* One log entry: [id, [field, value, ...]]. */
static void apply_entry(struct repl *r, struct repl_partition *p, const redisReply *ent)
{
	if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 ||
	    ent->element[0]->type != REDIS_REPLY_STRING || ent->element[0]->len >= REPL_ID_MAX ||
	    ent->element[1]->type != REDIS_REPLY_ARRAY) {
		r->st.changes_bad++;
		return;
	}
	const redisReply *id = ent->element[0], *fv = ent->element[1];
	if (repl_id_cmp(id->str, p->last_id) <= 0)
		return; /* seen already */
	memcpy(p->last_id, id->str, id->len + 1);
	struct str o = STR_NULL, t = STR_NULL, v = STR_NULL, w = STR_NULL, b = STR_NULL;
	struct repl_change c = {0};
	for (size_t i = 0; i + 1 < fv->elements; i += 2) {
		struct str k = reply_str(fv->element[i]), val = reply_str(fv->element[i + 1]);
		if (k.len != 1)
			continue;
		switch (k.p[0]) {
		case 'o': o = val; break;
		case 't': t = val; break;
		case 'g': c.group = val; break;
		case 'k': c.field = val; break;
		case 'v': v = val; break;
		case 'w': w = val; break;
		case 'b': b = val; break;
		case 'p': c.origin = val; break;
		}
	}
	if (o.len != 1 || t.len != 1 || !c.group.len || !parse_u64(v, &c.version) ||
	    !strchr("srxa", o.p[0])) {
		r->st.changes_bad++;
		return;
	}
	c.kind = t.p[0];
	c.op = (enum repl_op)o.p[0];
	if (c.op == REPL_SAVE) {
		struct repl_change d = c;
		if (!c.field.len || !repl_decode_value(b, &d) || d.version != c.version) {
			r->st.changes_bad++;
			return;
		}
		c = d;
	} else if (c.op != REPL_REMOVE_ALL && !c.field.len) {
		r->st.changes_bad++;
		return;
	}
	/* The version chain (repl_script.c). An entry without one (an older
	 * script's, during an upgrade) is not checked, nor the next one. */
	uint64_t prev;
	if (parse_u64(w, &prev)) {
		if (p->last_ver && prev != p->last_ver && !r->gap) {
			LOG_WARN("store_log_gap",
				 "redis=%s log=%s: entries trimmed before this proxy read them; "
				 "loading everything",
				 redis_link_master(r->link), p->key_log);
			r->gap = true;
		}
		p->last_ver = c.version;
	} else {
		p->last_ver = 0;
	}
	c.logged_ms = (int64_t)strtoll(id->str, NULL, 10);
	if (!str_eq(c.origin, str_cstr(r->origin)))
		note_lag(r, repl_wall_ms() - c.logged_ms);
	repl_apply(r, &c);
}

static struct repl_partition *partition_of(struct repl *r, struct str key)
{
	const char *brace = key.len ? memchr(key.p, '{', key.len) : NULL;
	if (!brace)
		return NULL;
	unsigned long n = strtoul(brace + 1, NULL, 10);
	if (n >= r->partitions)
		return NULL;
	struct repl_partition *p = &r->part[n];
	return str_eq(key, str_cstr(p->key_log)) ? p : NULL;
}

static void tail_next(struct repl *r);
static void probe_logs(struct repl *r);

struct tail_ticket {
	struct repl *r;
	unsigned long gen;
};

static void on_tail_retry(evutil_socket_t fd, short what, void *arg)
{
	tail_next(arg);
}

static void tail_retry_later(struct repl *r)
{
	if (!r->tail_timer)
		r->tail_timer = event_new(r->base, -1, 0, on_tail_retry, r);
	struct timeval tv = {1, 0};
	if (r->tail_timer)
		event_add(r->tail_timer, &tv);
	r->tail_running = true; /* the timer goes on */
}

struct probe_ticket {
	struct repl *r;
	unsigned long gen;
	unsigned part;
};

static void on_log_type(void *priv, redisReply *rep)
{
	struct probe_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	unsigned part = t->part;
	free(t);
	if (!rep || !current || r->closing)
		return;
	struct repl_partition *p = &r->part[part];
	bool bad = !(rep->type == REDIS_REPLY_STATUS &&
		     (strcmp(rep->str, "stream") == 0 || strcmp(rep->str, "none") == 0));
	if (bad != p->log_bad) {
		if (bad)
			LOG_ERROR("store_log_unreadable",
				  "redis=%s log=%s type=%.40s: not a stream; this partition's "
				  "changes are not followed until it is one again",
				  redis_link_master(r->link), p->key_log,
				  rep->type == REDIS_REPLY_STATUS ? rep->str : "?");
		else
			LOG_INFO("store_log_readable", "redis=%s log=%s: followed again",
				 redis_link_master(r->link), p->key_log);
		p->log_bad = bad;
		r->logs_bad += bad ? 1 : (size_t)-1;
	}
	if (--r->probes_pending)
		return;
	r->tail_running = false;
	if (r->logs_bad == r->partitions)
		tail_retry_later(r); /* nothing left to read: ask again in a second */
	else
		tail_next(r);
}

/* Asks the type of every partition's log key (on the tail's connection,
 * idle now); the answers decide which go into the next XREAD. */
static void probe_logs(struct repl *r)
{
	r->probe_ms = repl_wall_ms();
	r->tail_running = true;
	for (unsigned i = 0; i < r->partitions; i++) {
		struct probe_ticket *t = malloc(sizeof(*t));
		const char *argv[] = {"TYPE", r->part[i].key_log};
		if (!t) {
			redis_link_fail(r->link, "out of memory");
			return;
		}
		*t = (struct probe_ticket){r, r->gen, i};
		if (!redis_link_command(r->link, REDIS_CHAN_TAIL, 0, on_log_type, t, 2, argv,
					NULL)) {
			free(t);
			redis_link_fail(r->link, "cannot send");
			return;
		}
		r->probes_pending++;
	}
}

static void on_log(void *priv, redisReply *rep)
{
	struct tail_ticket *t = priv;
	struct repl *r = t->r;
	bool current = t->gen == r->gen;
	free(t);
	if (!rep || !current || r->closing)
		return;
	r->tail_running = false;
	if (rep->type == REDIS_REPLY_ERROR) {
		r->st.changes_bad++;
		if (strncmp(rep->str, "WRONGTYPE", 9) == 0) {
			probe_logs(r);
			return;
		}
		LOG_WARN("store_log_error", "redis=%s reply=\"%.150s\": retrying in 1 s",
			 redis_link_master(r->link), rep->str);
		tail_retry_later(r);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY) {
		for (size_t i = 0; i < rep->elements; i++) {
			const redisReply *s = rep->element[i];
			struct repl_partition *p;
			if (s->type != REDIS_REPLY_ARRAY || s->elements != 2 ||
			    !(p = partition_of(r, reply_str(s->element[0]))) ||
			    s->element[1]->type != REDIS_REPLY_ARRAY) {
				r->st.changes_bad++;
				continue;
			}
			for (size_t j = 0; j < s->element[1]->elements; j++)
				apply_entry(r, p, s->element[1]->element[j]);
		}
	}
	/* A gap found during a load waits for its end (repl_went_live): the
	 * load may have read a record before its missed removal. */
	if (r->gap && r->state == REPL_LIVE) {
		r->gap = false;
		repl_load_begin(r);
	}
	tail_next(r);
}

static void tail_next(struct repl *r)
{
	r->tail_running = false;
	if (r->closing || (r->state != REPL_LIVE && r->state != REPL_LOADING))
		return;
	if (r->logs_bad && repl_wall_ms() - r->probe_ms >= 1000) {
		probe_logs(r); /* a bad log may be a log again */
		return;
	}
	if (r->logs_bad == r->partitions) {
		tail_retry_later(r);
		return;
	}
	size_t argc = 6 + 2 * ((size_t)r->partitions - r->logs_bad), n = 0;
	const char **argv = malloc(argc * sizeof(*argv));
	struct tail_ticket *t = malloc(sizeof(*t));
	if (!argv || !t) {
		free(argv);
		free(t);
		redis_link_fail(r->link, "out of memory");
		return;
	}
	char block[16];
	snprintf(block, sizeof(block), "%u", REPL_LOG_BLOCK);
	argv[0] = "XREAD";
	argv[1] = "COUNT";
	argv[2] = REPL_LOG_BATCH;
	argv[3] = "BLOCK";
	argv[4] = block;
	argv[5] = "STREAMS";
	size_t nread = (size_t)r->partitions - r->logs_bad;
	for (unsigned i = 0; i < r->partitions; i++) {
		if (r->part[i].log_bad)
			continue;
		argv[6 + n] = r->part[i].key_log;
		argv[6 + nread + n] = r->part[i].last_id[0] ? r->part[i].last_id : "0-0";
		n++;
	}
	*t = (struct tail_ticket){r, r->gen};
	if (!redis_link_command(r->link, REDIS_CHAN_TAIL, REPL_LOG_BLOCK, on_log, t, (int)argc,
				argv, NULL)) {
		free(t);
		free(argv);
		redis_link_fail(r->link, "cannot send");
		return;
	}
	free(argv);
	r->tail_running = true;
}

void repl_tail_start(struct repl *r)
{
	if (!r->tail_running)
		tail_next(r);
}
