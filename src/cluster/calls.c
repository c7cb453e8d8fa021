/* calls.c — the dialog records (calls.h): a hash table by Call-ID, one
 * allocation per call with its strings packed after it, a count per node,
 * and, with the Redis store, replication as records of kind 'd': group =
 * Call-ID, field = the sorted tags, payload = node, flow, caller, callee,
 * origin and start, one per line. A call is written once when it starts
 * (CSeq 1) and removed once when it ends (CSeq 2: the script's §10.3-style
 * rule then never takes the removal for stale); replayed changes apply by
 * version, as bindings do. */
#include "cluster/calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/repl.h"
#include "util/log.h"

#define KIND_CALL    'd'
#define MAX_NODES    512
#define CALL_NFIELDS 7

enum { F_CALL_ID, F_TAGS, F_NODE, F_FLOW, F_CALLER, F_CALLEE, F_ORIGIN };

struct call_rec {
	struct call_rec *next;
	uint32_t hash;
	bool seen; /* found by the full load in progress */
	int64_t start_ms, expires_at;
	uint64_t version;
	uint16_t len[CALL_NFIELDS];
	char data[];
};

struct node_count {
	char name[64];
	uint64_t n;
};

struct calls {
	char self[64];
	unsigned max_lifetime_s;
	struct call_rec **b;
	size_t mask, n;
	struct node_count nodes[MAX_NODES];
	size_t n_nodes;
	struct repl *repl;
	bool loading;
};

static struct str field(const struct call_rec *r, int f)
{
	size_t off = 0;
	for (int i = 0; i < f; i++)
		off += r->len[i];
	return str_make(r->data + off, r->len[f]);
}

static void info_of(const struct call_rec *r, struct call_info *out)
{
	out->call_id = field(r, F_CALL_ID);
	out->tags = field(r, F_TAGS);
	out->node = field(r, F_NODE);
	out->flow = field(r, F_FLOW);
	out->caller = field(r, F_CALLER);
	out->callee = field(r, F_CALLEE);
	out->origin = field(r, F_ORIGIN);
	out->start_ms = r->start_ms;
	out->expires_at = r->expires_at;
	out->version = r->version;
}

static struct node_count *node_slot(struct calls *k, struct str node, bool add)
{
	if (!node.len || node.len >= sizeof(k->nodes[0].name))
		return NULL;
	for (size_t i = 0; i < k->n_nodes; i++)
		if (str_eq(str_cstr(k->nodes[i].name), node))
			return &k->nodes[i];
	if (!add || k->n_nodes == MAX_NODES)
		return NULL;
	struct node_count *s = &k->nodes[k->n_nodes++];
	memcpy(s->name, node.p, node.len);
	s->name[node.len] = '\0';
	s->n = 0;
	return s;
}

static void count(struct calls *k, const struct call_rec *r, int delta)
{
	struct node_count *s = node_slot(k, field(r, F_NODE), delta > 0);
	if (!s)
		return;
	if (delta > 0)
		s->n++;
	else if (s->n)
		s->n--;
}

struct calls *calls_new(const char *self, unsigned max_lifetime_s)
{
	struct calls *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	snprintf(k->self, sizeof(k->self), "%s", self ? self : "");
	k->max_lifetime_s = max_lifetime_s ? max_lifetime_s : 14400;
	k->mask = 1023;
	k->b = calloc(k->mask + 1, sizeof(*k->b));
	if (!k->b) {
		free(k);
		return NULL;
	}
	return k;
}

void calls_free(struct calls *k)
{
	if (!k)
		return;
	for (size_t i = 0; i <= k->mask; i++) {
		struct call_rec *r = k->b[i];
		while (r) {
			struct call_rec *n = r->next;
			free(r);
			r = n;
		}
	}
	free(k->b);
	free(k);
}

static void grow(struct calls *k)
{
	size_t nmask = k->mask * 2 + 1;
	struct call_rec **nb = calloc(nmask + 1, sizeof(*nb));
	if (!nb)
		return; /* longer chains, still correct */
	for (size_t i = 0; i <= k->mask; i++) {
		struct call_rec *r = k->b[i];
		while (r) {
			struct call_rec *n = r->next;
			r->next = nb[r->hash & nmask];
			nb[r->hash & nmask] = r;
			r = n;
		}
	}
	free(k->b);
	k->b = nb;
	k->mask = nmask;
}

static struct call_rec **find(struct calls *k, struct str call_id, struct str tags)
{
	uint32_t h = str_hash(call_id);
	for (struct call_rec **pp = &k->b[h & k->mask]; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && str_eq(field(*pp, F_CALL_ID), call_id) &&
		    str_eq(field(*pp, F_TAGS), tags))
			return pp;
	return NULL;
}

static void drop(struct calls *k, struct call_rec **pp)
{
	struct call_rec *r = *pp;
	*pp = r->next;
	count(k, r, -1);
	k->n--;
	free(r);
}

/* Inserts (or replaces) the call; NULL when out of memory or too long. */
static struct call_rec *put(struct calls *k, const struct call_info *c)
{
	const struct str f[CALL_NFIELDS] = {c->call_id, c->tags,   c->node,  c->flow,
					    c->caller,	c->callee, c->origin};
	size_t total = 0;
	for (int i = 0; i < CALL_NFIELDS; i++) {
		if (f[i].len > UINT16_MAX || (f[i].len && !f[i].p))
			return NULL;
		total += f[i].len;
	}
	if (!c->call_id.len)
		return NULL;
	struct call_rec *r = malloc(sizeof(*r) + total);
	if (!r)
		return NULL;
	r->hash = str_hash(c->call_id);
	r->start_ms = c->start_ms;
	r->expires_at = c->expires_at;
	r->version = c->version;
	r->seen = k->loading;
	char *p = r->data;
	for (int i = 0; i < CALL_NFIELDS; i++) {
		r->len[i] = (uint16_t)f[i].len;
		if (f[i].len)
			memcpy(p, f[i].p, f[i].len);
		p += f[i].len;
	}
	struct call_rec **old = find(k, c->call_id, c->tags);
	if (old)
		drop(k, old);
	r->next = k->b[r->hash & k->mask];
	k->b[r->hash & k->mask] = r;
	k->n++;
	count(k, r, +1);
	if (k->n > k->mask + 1)
		grow(k);
	return r;
}

/* "a;b" with the two tags in byte order (either side's BYE finds it). */
static size_t tags_key(struct str a, struct str b, char *out, size_t cap)
{
	if (a.len > b.len || (a.len == b.len && memcmp(a.p, b.p, a.len) > 0)) {
		struct str t = a;
		a = b;
		b = t;
	}
	int n = snprintf(out, cap, "%.*s;%.*s", (int)a.len, a.p, (int)b.len, b.p);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* ---- replication ---- */

static size_t encode(const struct call_info *c, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%.*s\n%.*s\n%.*s\n%.*s\n%.*s\n%lld", STR_FMT(c->node),
			 STR_FMT(c->flow), STR_FMT(c->caller), STR_FMT(c->callee),
			 STR_FMT(c->origin), (long long)c->start_ms);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

static bool decode(struct str p, struct call_info *c)
{
	struct str part[6];
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= p.len && n < 6; i++) {
		if (i == p.len || p.p[i] == '\n') {
			part[n++] = str_make(p.p + start, i - start);
			start = i + 1;
		}
	}
	if (n != 6 || start <= p.len || !part[5].len || part[5].len > 19)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < part[5].len; i++) {
		if (part[5].p[i] < '0' || part[5].p[i] > '9')
			return false;
		v = v * 10 + (part[5].p[i] - '0');
	}
	c->node = part[0];
	c->flow = part[1];
	c->caller = part[2];
	c->callee = part[3];
	c->origin = part[4];
	c->start_ms = v;
	return true;
}

static void write_call(struct calls *k, enum repl_op op, const struct call_info *c)
{
	if (!k->repl)
		return;
	char payload[2048];
	size_t plen = op == REPL_SAVE ? encode(c, payload, sizeof(payload)) : 0;
	if (op == REPL_SAVE && !plen)
		return;
	struct repl_write w = {
	    .kind = KIND_CALL,
	    .op = op,
	    .group = c->call_id,
	    .field = c->tags,
	    .call_id = STR_NULL,
	    .cseq = op == REPL_SAVE ? 1 : 2,
	    .expires_at = c->expires_at,
	    .payload = str_make(payload, plen),
	};
	repl_write(k->repl, &w);
}

static void on_change(void *arg, const struct repl_change *ch)
{
	struct calls *k = arg;
	struct call_rec **pp = find(k, ch->group, ch->field);
	if (ch->op == REPL_SAVE) {
		struct call_info c = {.call_id = ch->group,
				      .tags = ch->field,
				      .expires_at = ch->expires_at,
				      .version = ch->version};
		if (!decode(ch->payload, &c)) {
			LOG_WARN("calls_bad_record", "call_id=\"%.*s\": not a call record",
				 STR_FMT(ch->group));
			return;
		}
		if (pp && (*pp)->version >= ch->version) {
			(*pp)->seen = (*pp)->seen || k->loading;
			return;
		}
		put(k, &c);
		return;
	}
	if (ch->op == REPL_REMOVE_ALL) {
		uint32_t h = str_hash(ch->group);
		struct call_rec **q = &k->b[h & k->mask];
		while (*q) {
			if ((*q)->hash == h && str_eq(field(*q, F_CALL_ID), ch->group) &&
			    (*q)->version < ch->version)
				drop(k, q);
			else
				q = &(*q)->next;
		}
		return;
	}
	if (pp && (*pp)->version < ch->version)
		drop(k, pp);
}

static void on_load_begin(void *arg, bool lost)
{
	struct calls *k = arg;
	k->loading = true;
	size_t back = 0;
	for (size_t i = 0; i <= k->mask; i++)
		for (struct call_rec *r = k->b[i]; r; r = r->next) {
			r->seen = false;
			struct call_info c;
			info_of(r, &c);
			if (lost && str_eq(c.origin, str_cstr(k->self))) {
				write_call(k, REPL_SAVE, &c);
				back++;
			}
		}
	if (back)
		LOG_WARN("calls_write_back",
			 "calls=%zu: Redis lost data; this proxy's calls "
			 "written back",
			 back);
}

static void on_load_end(void *arg, bool lost)
{
	struct calls *k = arg;
	k->loading = false;
	if (lost)
		return;
	for (size_t i = 0; i <= k->mask; i++) {
		struct call_rec **pp = &k->b[i];
		while (*pp) {
			if (!(*pp)->seen && (*pp)->version)
				drop(k, pp); /* ended while we were not listening */
			else
				pp = &(*pp)->next;
		}
	}
}

static void on_written(void *arg, const struct repl_write *w, enum repl_outcome o, uint64_t version)
{
	struct calls *k = arg;
	if (o != REPL_WRITTEN || w->op != REPL_SAVE)
		return;
	struct call_rec **pp = find(k, w->group, w->field);
	if (pp && !(*pp)->version) {
		(*pp)->version = version;
		(*pp)->seen = (*pp)->seen || k->loading; /* see store_mem_confirm */
	}
}

int calls_attach(struct calls *k, struct repl *r)
{
	struct repl_kind kind = {
	    .kind = KIND_CALL,
	    .arg = k,
	    .apply = on_change,
	    .load_begin = on_load_begin,
	    .load_end = on_load_end,
	    .written = on_written,
	};
	if (!r || repl_add_kind(r, &kind) < 0)
		return -1;
	k->repl = r;
	return 0;
}

/* ---- the proxy's events ---- */

void calls_started(struct calls *k, struct str call_id, struct str from_tag, struct str to_tag,
		   struct str node, struct str flow, struct str caller, struct str callee,
		   int64_t now_ms)
{
	char tags[512];
	size_t tl = tags_key(from_tag, to_tag, tags, sizeof(tags));
	if (!tl || !call_id.len)
		return;
	struct call_info c = {
	    .call_id = call_id,
	    .tags = str_make(tags, tl),
	    .node = node,
	    .flow = flow,
	    .caller = caller,
	    .callee = callee,
	    .origin = str_cstr(k->self),
	    .start_ms = now_ms,
	    .expires_at = now_ms + (int64_t)k->max_lifetime_s * 1000,
	};
	if (put(k, &c))
		write_call(k, REPL_SAVE, &c);
}

void calls_ended(struct calls *k, struct str call_id, struct str tag_a, struct str tag_b)
{
	char tags[512];
	size_t tl = tags_key(tag_a, tag_b, tags, sizeof(tags));
	if (!tl)
		return;
	struct call_info c = {.call_id = call_id, .tags = str_make(tags, tl)};
	struct call_rec **pp = find(k, call_id, c.tags);
	if (pp)
		drop(k, pp);
	/* Recorded by another proxy and not replayed here yet: Redis knows. */
	write_call(k, REPL_REMOVE, &c);
}

size_t calls_expire(struct calls *k, int64_t now_ms)
{
	size_t n = 0;
	for (size_t i = 0; i <= k->mask; i++) {
		struct call_rec **pp = &k->b[i];
		while (*pp) {
			if ((*pp)->expires_at > now_ms) {
				pp = &(*pp)->next;
				continue;
			}
			struct call_info c;
			info_of(*pp, &c);
			LOG_INFO("call_expired", "call_id=\"%.*s\" node=%.*s", STR_FMT(c.call_id),
				 STR_FMT(c.node));
			if (str_eq(c.origin, str_cstr(k->self)))
				write_call(k, REPL_EXPIRE, &c);
			drop(k, pp);
			n++;
		}
	}
	return n;
}

/* ---- questions ---- */

uint64_t calls_on_node(const struct calls *k, struct str node)
{
	for (size_t i = 0; i < k->n_nodes; i++)
		if (str_eq(str_cstr(k->nodes[i].name), node))
			return k->nodes[i].n;
	return 0;
}

bool calls_node_of(const struct calls *k, struct str call_id, char *out, size_t cap)
{
	uint32_t h = str_hash(call_id);
	for (const struct call_rec *r = k->b[h & k->mask]; r; r = r->next) {
		struct str node = field(r, F_NODE);
		if (r->hash == h && str_eq(field(r, F_CALL_ID), call_id) && node.len &&
		    node.len < cap) {
			memcpy(out, node.p, node.len);
			out[node.len] = '\0';
			return true;
		}
	}
	return false;
}

size_t calls_count(const struct calls *k)
{
	return k->n;
}

void calls_each(const struct calls *k, struct str call_id, calls_visit_fn fn, void *arg)
{
	if (call_id.len) {
		uint32_t h = str_hash(call_id);
		for (const struct call_rec *r = k->b[h & k->mask]; r; r = r->next) {
			if (r->hash != h || !str_eq(field(r, F_CALL_ID), call_id))
				continue;
			struct call_info c;
			info_of(r, &c);
			if (fn(arg, &c))
				return;
		}
		return;
	}
	for (size_t i = 0; i <= k->mask; i++)
		for (const struct call_rec *r = k->b[i]; r; r = r->next) {
			struct call_info c;
			info_of(r, &c);
			if (fn(arg, &c))
				return;
		}
}
