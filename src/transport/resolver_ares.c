/* resolver_ares.c — drives c-ares from libevent: sockets reported by
 * sock_state_cb become events, ares_timeout arms one timer, and each answer is
 * parsed and stored in the cache (RFC 1035 TTLs), waking merged waiters. */
#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <time.h>

#include <event2/event.h>

#include "transport/resolver_internal.h"
#include "util/log.h"

#define RES_TTL_MAX_S 86400u

uint64_t resolver_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void resolver_ares_arm_timer(struct resolver *r)
{
	struct timeval tv, *t = ares_timeout(r->ch, NULL, &tv);
	if (t)
		evtimer_add(r->timer, t);
	else
		evtimer_del(r->timer);
}

static void res_on_fd(evutil_socket_t fd, short what, void *arg)
{
	struct res_fd *f = arg;
	struct resolver *r = f->r;
	ares_process_fd(r->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
			(what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	resolver_ares_arm_timer(r);
}

void resolver_ares_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct resolver *r = arg;
	ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	resolver_ares_arm_timer(r);
}

void resolver_ares_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct resolver *r = data;
	struct res_fd *f = NULL, *free_slot = NULL;
	for (int i = 0; i < RES_MAX_FDS; i++) {
		if (r->fds[i].ev && r->fds[i].fd == fd)
			f = &r->fds[i];
		else if (!r->fds[i].ev && !free_slot)
			free_slot = &r->fds[i];
	}
	if (f) {
		event_free(f->ev);
		f->ev = NULL;
	}
	if (!readable && !writable)
		return;
	if (!f)
		f = free_slot;
	if (!f) {
		LOG_ERROR("resolver_fds_full", "fd=%d", fd);
		return;
	}
	f->fd = fd;
	f->r = r;
	f->ev = event_new(r->base, fd,
			  EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0),
			  res_on_fd, f);
	if (f->ev)
		event_add(f->ev, NULL);
}

static void res_ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_entry *e = arg;
	struct resolver *r = e->owner;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) {
		dns_entry_unref(e);
		return;
	}
	struct dns_rr *rr = NULL;
	unsigned n = 0;
	uint32_t ttl = 60;
	int st;
	if (status == ARES_SUCCESS)
		st = resolver_parse_answer(e->qtype, abuf, alen, &rr, &n, &ttl);
	else if (status == ARES_ENODATA || status == ARES_ENOTFOUND)
		st = -ENOENT;
	else
		st = -EAGAIN;
	if (st == 0 && n == 0)
		st = -ENOENT;
	if (ttl > RES_TTL_MAX_S)
		ttl = RES_TTL_MAX_S;
	LOG_DEBUG("dns_answer", "qname=%s qtype=%d status=%d n=%u ttl=%u", e->qname, e->qtype, st,
		  n, ttl);
	dns_cache_complete(&r->cache, e, st, rr, n, (uint64_t)ttl * 1000u, resolver_now_ms());
	dns_entry_unref(e);
}

void resolver_ares_send(struct resolver *r, struct dns_entry *e)
{
	dns_entry_ref(e); /* held by the c-ares callback */
	ares_query(r->ch, e->qname, ns_c_in, e->qtype, res_ares_cb, e);
	resolver_ares_arm_timer(r);
}
