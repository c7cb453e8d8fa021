/* resolver.c — RFC 3263 §4 next-hop selection on c-ares: IP literal, explicit
 * port, explicit transport, else NAPTR -> SRV (RFC 2782 ordering) -> A/AAAA.
 * Answers come from resolver_cache.c (which also merges identical queries);
 * c-ares is driven from libevent in resolver_ares.c.
 * sips: URIs resolve to TLS destinations; until a TLS transport exists, the
 * send to them fails with -EPROTONOSUPPORT. */
#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "transport/resolver.h"
#include "transport/resolver_internal.h"
#include "util/log.h"
#include "util/timer_wheel.h" /* container_of */

#define RQ_MAX_SLOTS (2 * RESOLVER_MAX_TARGETS)
#define RQ_MAX_SRV   3

enum rq_stage { RQ_NAPTR, RQ_SRV, RQ_ADDR };

struct rq_slot {
	struct dns_waiter w;
	struct dns_entry *e;
	struct resolver_query *q;
	enum tp_proto proto;
	bool ip; /* target was a literal: dest is in addr */
	union tp_sockaddr addr;
};

struct rq_target {
	char name[256];
	uint16_t port;
	enum tp_proto proto;
};

struct resolver_query {
	struct resolver *r;
	resolver_fn fn;
	void *arg;
	struct resolver_query *next, *prev;
	char host[256];
	bool sips, have_proto, in_lookup, issuing, finished;
	enum tp_proto proto;
	enum rq_stage stage;
	unsigned nslots, pending, ntargets;
	struct rq_slot slot[RQ_MAX_SLOTS];
	struct rq_target target[RESOLVER_MAX_TARGETS];
	int err;
	struct resolver_result res;
};

static void rq_advance(struct resolver_query *q);

static void rq_slot_ready(struct dns_waiter *w)
{
	struct rq_slot *s = container_of(w, struct rq_slot, w);
	struct resolver_query *q = s->q;
	q->pending--;
	if (!q->issuing && q->pending == 0)
		rq_advance(q);
}

/* Asks (qname, qtype) for slot i: from the cache, by joining a query in
 * flight, or by sending a new one. */
static void rq_issue(struct resolver_query *q, unsigned i, const char *qname, int qtype)
{
	struct resolver *r = q->r;
	struct rq_slot *s = &q->slot[i];
	memset(s, 0, sizeof(*s));
	s->q = q;
	s->w.fn = rq_slot_ready;
	struct dns_entry *e = dns_cache_get(&r->cache, qname, qtype, resolver_now_ms());
	bool send = false;
	if (!e) {
		e = dns_cache_add_pending(&r->cache, qname, qtype, r);
		if (!e)
			return; /* out of memory: the slot stays empty */
		send = true;
	}
	dns_entry_ref(e);
	s->e = e;
	if (e->pending) {
		q->pending++;
		dns_waiter_add(e, &s->w);
	}
	if (send) {
		resolver_ares_send(r, e);
	}
}

static void rq_release_slots(struct resolver_query *q)
{
	for (unsigned i = 0; i < q->nslots; i++) {
		dns_waiter_remove(&q->slot[i].w);
		if (q->slot[i].e)
			dns_entry_unref(q->slot[i].e);
		q->slot[i].e = NULL;
	}
	q->nslots = 0;
	q->pending = 0;
}

static bool rq_proto_allowed(const struct resolver_query *q, enum tp_proto p)
{
	const struct resolver_config *c = &q->r->cfg;
	if (q->sips) /* RFC 3263 §4.1: a SIPS URI may only use TLS */
		return p == TP_TLS;
	return (p == TP_UDP && c->have_udp) || (p == TP_TCP && c->have_tcp) ||
	       (p == TP_TLS && c->have_tls);
}

static const char *rq_srv_prefix(enum tp_proto p)
{
	return p == TP_TLS ? "_sips._tcp." : p == TP_TCP ? "_sip._tcp." : "_sip._udp.";
}

static void rq_stage_addr(struct resolver_query *q)
{
	q->stage = RQ_ADDR;
	q->nslots = 2 * q->ntargets;
	for (unsigned i = 0; i < q->ntargets; i++) {
		struct rq_target *t = &q->target[i];
		union tp_sockaddr a;
		if (tp_addr_from_ip(str_cstr(t->name), t->port, &a) == 0) {
			memset(&q->slot[2 * i], 0, 2 * sizeof(q->slot[0]));
			q->slot[2 * i].ip = true;
			q->slot[2 * i].addr = a;
			continue;
		}
		rq_issue(q, 2 * i, t->name, ns_t_a);
		rq_issue(q, 2 * i + 1, t->name, ns_t_aaaa);
	}
}

static void rq_stage_srv_names(struct resolver_query *q, const char *const names[],
			       const enum tp_proto protos[], unsigned n)
{
	q->stage = RQ_SRV;
	q->nslots = n;
	for (unsigned i = 0; i < n; i++) {
		rq_issue(q, i, names[i], ns_t_srv);
		q->slot[i].proto = protos[i];
	}
}

/* RFC 3263 §4.1: without (usable) NAPTR records, SRV for each transport we have. */
static void rq_stage_srv_fallback(struct resolver_query *q)
{
	static const enum tp_proto order[] = {TP_UDP, TP_TCP, TP_TLS};
	char buf[RQ_MAX_SRV][300];
	const char *names[RQ_MAX_SRV];
	enum tp_proto protos[RQ_MAX_SRV];
	unsigned n = 0;
	for (unsigned i = 0; i < 3; i++) {
		enum tp_proto p = order[i];
		if (q->have_proto ? p != q->proto : !rq_proto_allowed(q, p))
			continue;
		snprintf(buf[n], sizeof(buf[n]), "%s%s", rq_srv_prefix(p), q->host);
		names[n] = buf[n];
		protos[n++] = p;
	}
	rq_stage_srv_names(q, names, protos, n);
}

static int rq_naptr_cmp(const void *a, const void *b)
{
	const struct dns_rr *x = *(const struct dns_rr *const *)a;
	const struct dns_rr *y = *(const struct dns_rr *const *)b;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

static void rq_after_naptr(struct resolver_query *q)
{
	struct dns_entry *e = q->slot[0].e;
	enum tp_proto protos[RQ_MAX_SRV];
	const char *names[RQ_MAX_SRV];
	unsigned n = 0;
	if (e && e->status == 0) {
		const struct dns_rr **v = calloc(e->nrr, sizeof(*v));
		for (unsigned i = 0; v && i < e->nrr; i++)
			v[i] = &e->rr[i];
		if (v)
			qsort(v, e->nrr, sizeof(*v), rq_naptr_cmp);
		for (unsigned i = 0; v && i < e->nrr && n < RQ_MAX_SRV; i++) {
			enum tp_proto p;
			if (strcasecmp(v[i]->flags, "s") != 0 || !v[i]->name)
				continue;
			if (strcasecmp(v[i]->service, "SIP+D2U") == 0)
				p = TP_UDP;
			else if (strcasecmp(v[i]->service, "SIP+D2T") == 0)
				p = TP_TCP;
			else if (strcasecmp(v[i]->service, "SIPS+D2T") == 0)
				p = TP_TLS;
			else
				continue;
			if (!rq_proto_allowed(q, p))
				continue;
			protos[n] = p;
			names[n++] = v[i]->name;
		}
		if (n > 0) {
			/* names point into e, which the slots keep referenced */
			dns_entry_ref(e);
			rq_release_slots(q);
			rq_stage_srv_names(q, names, protos, n);
			dns_entry_unref(e);
			free(v);
			return;
		}
		free(v);
	}
	rq_release_slots(q);
	rq_stage_srv_fallback(q);
}

static uint64_t rq_rand(struct resolver *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return r->rng;
}

/* RFC 2782: lowest priority first; within a priority, pick by running sum of
 * weights against a random number, repeatedly. */
static void rq_srv_order(struct resolver *r, const struct dns_rr **v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) /* insertion sort by priority, n is small */
		for (unsigned j = i; j > 0 && v[j - 1]->prio > v[j]->prio; j--) {
			const struct dns_rr *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (unsigned i = 0; i < n;) {
		unsigned end = i;
		while (end < n && v[end]->prio == v[i]->prio)
			end++;
		for (unsigned k = i; k < end; k++) {
			uint64_t sum = 0;
			for (unsigned m = k; m < end; m++)
				sum += v[m]->weight;
			uint64_t pick = sum ? rq_rand(r) % (sum + 1) : 0, run = 0;
			unsigned chosen = k;
			for (unsigned m = k; m < end; m++) {
				run += v[m]->weight;
				if (run >= pick) {
					chosen = m;
					break;
				}
			}
			const struct dns_rr *t = v[k];
			v[k] = v[chosen];
			v[chosen] = t;
		}
		i = end;
	}
}

static void rq_add_target(struct resolver_query *q, const char *name, uint16_t port,
			  enum tp_proto p)
{
	if (q->ntargets >= RESOLVER_MAX_TARGETS)
		return;
	struct rq_target *t = &q->target[q->ntargets++];
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->port = port;
	t->proto = p;
}

static void rq_after_srv(struct resolver_query *q)
{
	q->ntargets = 0;
	for (unsigned s = 0; s < q->nslots; s++) {
		struct dns_entry *e = q->slot[s].e;
		if (!e || e->status != 0)
			continue;
		const struct dns_rr **v = calloc(e->nrr, sizeof(*v));
		if (!v)
			continue;
		for (unsigned i = 0; i < e->nrr; i++)
			v[i] = &e->rr[i];
		rq_srv_order(q->r, v, e->nrr);
		for (unsigned i = 0; i < e->nrr; i++)
			/* RFC 2782: target "." means the service is not offered */
			if (v[i]->name && strcmp(v[i]->name, ".") != 0 && v[i]->name[0])
				rq_add_target(q, v[i]->name, v[i]->port, q->slot[s].proto);
		free(v);
	}
	if (q->ntargets == 0) {
		/* RFC 3263 §4.1/§4.2: no SRV -> A/AAAA of the host itself, UDP for
		 * sip (TLS for sips) unless a transport was asked for */
		enum tp_proto p = q->have_proto ? q->proto : (q->sips ? TP_TLS : TP_UDP);
		rq_add_target(q, q->host, tp_proto_default_port(p), p);
	}
	rq_release_slots(q);
	rq_stage_addr(q);
}

static void rq_after_addr(struct resolver_query *q)
{
	bool all_nx = true;
	for (unsigned i = 0; i < q->nslots; i++) {
		struct rq_slot *s = &q->slot[i];
		const struct rq_target *t = &q->target[i / 2];
		if (s->ip) {
			all_nx = false;
			if (q->res.count < RESOLVER_MAX_TARGETS) {
				struct tp_dest *d = &q->res.dest[q->res.count++];
				memset(d, 0, sizeof(*d));
				d->proto = t->proto;
				d->addr = s->addr;
			}
			continue;
		}
		if (!s->e)
			continue;
		if (s->e->status != -ENOENT)
			all_nx = false;
		for (unsigned k = 0; s->e->status == 0 && k < s->e->nrr; k++) {
			if (q->res.count >= RESOLVER_MAX_TARGETS)
				break;
			struct tp_dest *d = &q->res.dest[q->res.count++];
			memset(d, 0, sizeof(*d));
			d->proto = t->proto;
			d->addr = s->e->rr[k].addr;
			if (d->addr.sa.sa_family == AF_INET6)
				d->addr.in6.sin6_port = htons(t->port);
			else
				d->addr.in4.sin_port = htons(t->port);
		}
	}
	if (q->res.count == 0)
		q->err = all_nx ? -ENOENT : -EHOSTUNREACH;
	rq_release_slots(q);
}

static void rq_unlink(struct resolver_query *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else if (q->r->queries == q)
		q->r->queries = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->next = q->prev = NULL;
}

static void rq_finish(struct resolver_query *q)
{
	q->finished = true;
	if (q->in_lookup)
		return; /* resolver_lookup answers synchronously */
	rq_unlink(q);
	q->fn(q->arg, q->err, q->err ? NULL : &q->res);
	free(q);
}

/* Runs stages while their answers are at hand (cache hits need no waiting). */
static void rq_advance(struct resolver_query *q)
{
	for (;;) {
		enum rq_stage st = q->stage;
		q->issuing = true;
		if (st == RQ_NAPTR)
			rq_after_naptr(q);
		else if (st == RQ_SRV)
			rq_after_srv(q);
		else
			rq_after_addr(q);
		q->issuing = false;
		if (st == RQ_ADDR) {
			rq_finish(q);
			return;
		}
		if (q->pending > 0)
			return;
	}
}

/* ---- public API ---- */

struct resolver *resolver_new(struct event_base *base, const struct resolver_config *cfg)
{
	/* Values come from the option table (config_resolver()). */
	if (!cfg || !cfg->timeout_ms || !cfg->tries ||
	    !(cfg->have_udp || cfg->have_tcp || cfg->have_tls))
		return NULL;
	struct resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->base = base;
	r->cfg = *cfg;
	r->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)r;
	if (!r->rng)
		r->rng = 0x9e3779b97f4a7c15ULL;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
		goto fail_lib;
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = resolver_ares_sock_state;
	o.sock_state_cb_data = r;
	o.timeout = (int)r->cfg.timeout_ms;
	o.tries = (int)r->cfg.tries;
	int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
	if (ares_init_options(&r->ch, &o, mask) != ARES_SUCCESS)
		goto fail_init;
	if (r->cfg.servers && *r->cfg.servers &&
	    ares_set_servers_ports_csv(r->ch, r->cfg.servers) != ARES_SUCCESS) {
		LOG_ERROR("resolver_servers", "servers=\"%s\"", r->cfg.servers);
		goto fail_ch;
	}
	r->cfg.servers = NULL; /* not ours to keep */
	r->timer = evtimer_new(base, resolver_ares_on_timer, r);
	if (!r->timer || dns_cache_init(&r->cache, r->cfg.cache_max) < 0)
		goto fail_ch;
	return r;
fail_ch:
	if (r->timer)
		event_free(r->timer);
	ares_destroy(r->ch);
fail_init:
	ares_library_cleanup();
fail_lib:
	free(r);
	return NULL;
}

/* Queries still outstanding are dropped without their callbacks running. */
void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	while (r->queries) {
		struct resolver_query *q = r->queries;
		rq_release_slots(q);
		rq_unlink(q);
		free(q);
	}
	ares_destroy(r->ch); /* pending callbacks run with ARES_EDESTRUCTION */
	for (int i = 0; i < RES_MAX_FDS; i++)
		if (r->fds[i].ev)
			event_free(r->fds[i].ev);
	event_free(r->timer);
	dns_cache_fini(&r->cache);
	ares_library_cleanup();
	free(r);
}

static void rq_answer_now(resolver_fn fn, void *arg, int err, const struct resolver_result *res)
{
	fn(arg, err, err ? NULL : res);
}

struct resolver_query *resolver_lookup(struct resolver *r, const struct sip_uri *uri,
				       resolver_fn fn, void *arg)
{
	/* RFC 3263 §4: maddr, when present, is the host to resolve */
	struct str host = (str_present(uri->maddr) && uri->maddr.len) ? uri->maddr : uri->host;
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (host.len > 1 && host.p[host.len - 1] == '.')
		host.len--;
	if (host.len == 0 || host.len >= 254) {
		rq_answer_now(fn, arg, -EINVAL, NULL);
		return NULL;
	}
	struct resolver_query *q = calloc(1, sizeof(*q));
	if (!q) {
		rq_answer_now(fn, arg, -ENOMEM, NULL);
		return NULL;
	}
	q->r = r;
	q->fn = fn;
	q->arg = arg;
	str_copy(q->host, sizeof(q->host), host);
	q->sips = uri->scheme == SIP_URI_SIPS;
	if (str_present(uri->transport) && uri->transport.len) {
		if (tp_proto_parse(uri->transport, &q->proto) < 0) {
			free(q);
			rq_answer_now(fn, arg, -EPROTONOSUPPORT, NULL);
			return NULL;
		}
		if (q->sips && q->proto == TP_TCP)
			q->proto = TP_TLS; /* RFC 3261 §19.1.2: sips + tcp = TLS */
		q->have_proto = true;
	}
	enum tp_proto p = q->have_proto ? q->proto : (q->sips ? TP_TLS : TP_UDP);
	uint16_t port = uri->port ? uri->port : tp_proto_default_port(p);

	/* RFC 3263 §4.1/§4.2: a numeric IP needs no DNS at all */
	union tp_sockaddr a;
	if (tp_addr_from_ip(str_cstr(q->host), port, &a) == 0) {
		q->res.count = 1;
		q->res.dest[0].proto = p;
		q->res.dest[0].addr = a;
		fn(arg, 0, &q->res);
		free(q);
		return NULL;
	}

	q->next = r->queries;
	if (r->queries)
		r->queries->prev = q;
	r->queries = q;
	q->in_lookup = true;
	q->issuing = true;
	if (uri->port) {
		/* §4.2: an explicit port means A/AAAA only */
		rq_add_target(q, q->host, port, p);
		rq_stage_addr(q);
	} else if (q->have_proto) {
		/* §4.1: transport given: SRV for it, then A/AAAA */
		rq_stage_srv_fallback(q);
	} else {
		q->stage = RQ_NAPTR;
		q->nslots = 1;
		rq_issue(q, 0, q->host, ns_t_naptr);
	}
	q->issuing = false;
	if (q->pending == 0)
		rq_advance(q);
	q->in_lookup = false;
	if (q->finished) {
		rq_unlink(q);
		fn(arg, q->err, q->err ? NULL : &q->res);
		free(q);
		return NULL;
	}
	return q;
}

void resolver_cancel(struct resolver_query *q)
{
	if (!q)
		return;
	rq_release_slots(q);
	rq_unlink(q);
	free(q);
}
