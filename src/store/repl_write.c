/* repl_write.c — the replication engine's write queue (repl.h): bounded
 * (past it writes are dropped, counted, and this proxy's records written
 * back later), sent in order with a window, answered in order, re-sent after
 * a loss (the script makes a repeat harmless), paused on transient errors
 * (OOM, BUSY: that write and every later one in flight go again, in order),
 * given up only on permanent ones (held in this proxy only, counted). */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl_internal.h"
#include "util/log.h"

static void q_push_back(struct repl *r, struct repl_qent *e)
{
	e->next = NULL;
	if (r->q_tail)
		r->q_tail->next = e;
	else
		r->q_head = e;
	r->q_tail = e;
	r->queued++;
}

static struct str pack(char **at, struct str s)
{
	struct str out = str_make(*at, s.len);
	if (s.len)
		memcpy(*at, s.p, s.len);
	*at += s.len;
	return out;
}

bool repl_write(struct repl *r, const struct repl_write *w)
{
	/* A write-back is bounded by what this proxy owns (it is in memory
	 * already); were it bounded by the queue, a proxy owning more than a
	 * queue's worth could never finish one. */
	if (!r->writing_back && r->queued + r->in_flight - r->wb_pending >= r->queue_max) {
		r->st.queue_overflow++;
		if (!r->overflowed)
			LOG_WARN("store_queue_full",
				 "queued=%zu in_flight=%zu redis=%s: writes dropped until Redis "
				 "keeps up; this proxy's records are written back then",
				 r->queued, r->in_flight, redis_link_master(r->link));
		r->overflowed = true;
		return false;
	}
	size_t n = w->group.len + w->field.len + w->call_id.len + w->payload.len;
	struct repl_qent *e = malloc(sizeof(*e) + n);
	if (!e) {
		r->st.queue_overflow++;
		r->overflowed = true;
		return false;
	}
	e->w = *w;
	e->wb = r->writing_back;
	r->wb_pending += e->wb;
	char *at = e->data;
	e->w.group = pack(&at, w->group);
	e->w.field = pack(&at, w->field);
	e->w.call_id = pack(&at, w->call_id);
	e->w.payload = pack(&at, w->payload);
	q_push_back(r, e);
	repl_flush(r);
	return true;
}

static void written(struct repl *r, const struct repl_qent *e, enum repl_outcome o, uint64_t v)
{
	const struct repl_kind *k = repl_find_kind(r, e->w.kind);
	if (k && k->written)
		k->written(k->arg, &e->w, o, v);
}

/* e is answered for good. */
static void qent_done(struct repl *r, struct repl_qent *e)
{
	r->wb_pending -= e->wb;
	free(e);
}

/* Removes e, the oldest write in flight. */
static void flight_pop(struct repl *r, struct repl_qent *e)
{
	if (r->f_head != e)
		return; /* answers come in order: cannot happen */
	r->f_head = e->next;
	if (!r->f_head)
		r->f_tail = NULL;
	r->in_flight--;
}

/* In-flight writes go back to the front of the queue, in order. */
void repl_flight_requeue(struct repl *r)
{
	if (!r->f_head)
		return;
	r->f_tail->next = r->q_head;
	if (!r->q_head)
		r->q_tail = r->f_tail;
	r->q_head = r->f_head;
	r->queued += r->in_flight;
	r->f_head = r->f_tail = NULL;
	r->in_flight = 0;
}

void repl_pause_end(evutil_socket_t fd, short what, void *arg)
{
	struct repl *r = arg;
	r->paused = false;
	repl_flush(r);
}

static bool error_is(const redisReply *rep, const char *prefix)
{
	return strncmp(rep->str, prefix, strlen(prefix)) == 0;
}

static uint64_t reply_u64(const redisReply *e)
{
	if (e->type == REDIS_REPLY_INTEGER)
		return e->integer > 0 ? (uint64_t)e->integer : 0;
	if (e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS)
		return strtoull(e->str, NULL, 10);
	return 0;
}

/* The answer to the oldest write in flight (the engine is found through the
 * entry's place: answers come in order). */
struct write_ticket {
	struct repl *r;
	struct repl_qent *e;
	unsigned long gen, wgen;
};

static void on_written(void *priv, redisReply *rep)
{
	struct write_ticket *t = priv;
	struct repl *r = t->r;
	struct repl_qent *e = t->e;
	bool current = t->gen == r->gen && t->wgen == r->wgen;
	free(t);
	if (!rep || !current || r->closing)
		return; /* lost with the connection (requeued by link_down), or sent again */
	if (rep->type == REDIS_REPLY_ERROR) {
		r->st.write_errors++;
		if (error_is(rep, "READONLY") || error_is(rep, "NOSCRIPT") ||
		    error_is(rep, "LOADING") || error_is(rep, "MASTERDOWN") ||
		    error_is(rep, "NOREPLICAS")) {
			LOG_WARN("store_write_error", "redis=%s reply=\"%.120s\": reconnecting",
				 redis_link_master(r->link), rep->str);
			redis_link_fail(r->link, rep->str);
			return;
		}
		if (error_is(rep, "OOM") || error_is(rep, "BUSY") || error_is(rep, "TRYAGAIN")) {
			/* Transient: this write and every later one in flight (e is
			 * the oldest) go back to the queue, in order, and wait. The
			 * later ones ran already, and may have done nothing because
			 * this one did not (a removal of what it saves): they run
			 * again after it, their first answers ignored; one that
			 * went through is repeated harmlessly (stale or none). */
			r->wgen++;
			repl_flight_requeue(r);
			if (!r->paused) {
				LOG_WARN("store_write_error",
					 "redis=%s reply=\"%.120s\": retrying in 1 s",
					 redis_link_master(r->link), rep->str);
				r->paused = true;
				struct timeval tv = {1, 0};
				event_add(r->pause_timer, &tv);
			}
			return;
		}
		flight_pop(r, e);
		r->st.writes_failed++;
		LOG_ERROR("store_write_failed",
			  "kind=%c group=\"%.*s\" redis=%s reply=\"%.160s\": kept in this proxy's "
			  "memory only",
			  e->w.kind, (int)e->w.group.len, e->w.group.p, redis_link_master(r->link),
			  rep->str);
		written(r, e, REPL_FAILED, 0);
		qent_done(r, e);
		repl_flush(r);
		return;
	}
	flight_pop(r, e);
	r->st.writes++;
	const char *st = "";
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 &&
	    (rep->element[0]->type == REDIS_REPLY_STRING ||
	     rep->element[0]->type == REDIS_REPLY_STATUS))
		st = rep->element[0]->str;
	uint64_t ver =
	    rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2 ? reply_u64(rep->element[1]) : 0;
	if (strcmp(st, "ok") == 0) {
		written(r, e, REPL_WRITTEN, ver);
	} else if (strcmp(st, "stale") == 0) {
		r->st.writes_stale++;
		/* Somebody's newer record: ours yields to it here too. */
		if (rep->elements >= 3 && rep->element[2]->type == REDIS_REPLY_STRING) {
			struct repl_change c = {.kind = e->w.kind,
						.op = REPL_SAVE,
						.group = e->w.group,
						.field = e->w.field};
			if (repl_decode_value(str_make(rep->element[2]->str, rep->element[2]->len),
					      &c))
				repl_apply(r, &c);
			else
				r->st.changes_bad++;
		}
		written(r, e, REPL_STALE, ver);
	} else if (strcmp(st, "none") == 0) {
		written(r, e, REPL_ABSENT, 0);
	} else {
		r->st.changes_bad++;
		r->st.writes_failed++;
		LOG_ERROR("store_write_failed",
			  "kind=%c group=\"%.*s\" redis=%s: an answer that is not the script's",
			  e->w.kind, (int)e->w.group.len, e->w.group.p, redis_link_master(r->link));
		written(r, e, REPL_FAILED, 0);
	}
	qent_done(r, e);
	repl_flush(r);
	repl_check_write_back(r);
}

static bool send_write(struct repl *r, struct repl_qent *e)
{
	char hkey[96], cseq[16], exp[24];
	unsigned part = repl_partition(r, e->w.group);
	repl_bucket_key(r, e->w.kind, part, repl_bucket(r, e->w.group), hkey, sizeof(hkey));
	size_t hlen = strlen(hkey);
	struct repl_partition *p = &r->part[part];
	char op[2] = {(char)e->w.op, 0}, kind[2] = {e->w.kind, 0};
	snprintf(cseq, sizeof(cseq), "%u", (unsigned)e->w.cseq);
	snprintf(exp, sizeof(exp), "%lld", (long long)(e->w.expires_at > 0 ? e->w.expires_at : 0));
	const char *argv[] = {"EVALSHA",      r->sha, "3",  hkey,	    p->key_log,
			      p->key_ver,     op,     kind, e->w.group.p,   e->w.field.p,
			      e->w.call_id.p, cseq,   exp,  e->w.payload.p, r->origin,
			      r->maxlen};
	size_t len[] = {7,
			strlen(r->sha),
			1,
			hlen,
			strlen(p->key_log),
			strlen(p->key_ver),
			1,
			1,
			e->w.group.len,
			e->w.field.len,
			e->w.call_id.len,
			strlen(cseq),
			strlen(exp),
			e->w.payload.len,
			strlen(r->origin),
			strlen(r->maxlen)};
	for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
		if (!argv[i])
			argv[i] = "";
	struct write_ticket *t = malloc(sizeof(*t));
	if (!t)
		return false;
	*t = (struct write_ticket){r, e, r->gen, r->wgen};
	if (!redis_link_command(r->link, REDIS_CHAN_CMD, 0, on_written, t,
				(int)(sizeof(argv) / sizeof(argv[0])), argv, len)) {
		free(t);
		return false;
	}
	return true;
}

void repl_flush(struct repl *r)
{
	if (r->state == REPL_DOWN || !r->sha[0] || r->paused || r->closing)
		return;
	while (r->q_head && r->in_flight < REPL_MAX_FLIGHT) {
		struct repl_qent *e = r->q_head;
		r->q_head = e->next;
		if (!r->q_head)
			r->q_tail = NULL;
		r->queued--;
		e->next = NULL;
		if (r->f_tail)
			r->f_tail->next = e;
		else
			r->f_head = e;
		r->f_tail = e;
		r->in_flight++;
		if (!send_write(r, e)) {
			/* not sendable now (link going down): back to the queue */
			flight_pop(r, e);
			e->next = r->q_head;
			r->q_head = e;
			if (!r->q_tail)
				r->q_tail = e;
			r->queued++;
			return;
		}
	}
}

/* After an overflow, once everything queued is through: a full load that
 * ends with each kind writing back what it owns. */
void repl_check_write_back(struct repl *r)
{
	if (!r->overflowed || r->state != REPL_LIVE || r->queued || r->in_flight)
		return;
	r->lost = true;
	r->need_load = true;
	repl_load_begin(r);
}
