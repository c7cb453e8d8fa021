/* tcp.c — SIP over TCP (RFC 3261 §18, §18.3 framing): listen/accept, outbound
 * non-blocking connects with a timeout, per-connection read buffer framed by
 * sip_frame_length, RFC 5626 §3.5.1 CRLF keep-alives, a bounded write queue,
 * idle and slow-sender timeouts, and a cap on open connections. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sip/msg.h"
#include "transport/transport_internal.h"
#include "util/log.h"
#include "util/timer_wheel.h" /* container_of */

#define TCP_RBUF_INIT	     4096
#define TCP_ACCEPT_PER_EVENT 64

struct tcp_conn {
	struct conn_entry ent; /* id + remote address, in tp->conns */
	struct tp *tp;
	int fd;
	const struct tp_listener *listener;
	struct event *rev, *wev, *tmo;
	char *rbuf;
	size_t rlen, rcap;
	char *wbuf;
	size_t woff, wlen, wcap;
	uint64_t last_activity_ms;
	uint64_t partial_since_ms; /* 0: no partial message buffered */
	int busy;		   /* > 0 while an event handler runs on it */
	bool connecting, dead;
};

static uint64_t tcp_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void tcp_conn_free(struct tcp_conn *c)
{
	if (c->rev)
		event_free(c->rev);
	if (c->wev)
		event_free(c->wev);
	if (c->tmo)
		event_free(c->tmo);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c);
}

/* Takes the connection out of service at once and tells the layer above (so
 * client transactions on it fail early, RFC 3261 §17.1.4); the memory goes when
 * no handler is running on it any more. */
static void tcp_conn_close(struct tcp_conn *c, int err)
{
	if (c->dead)
		return;
	struct tp *tp = c->tp;
	c->dead = true;
	conn_table_remove(&tp->conns, &c->ent);
	tp->stats.tcp_closed++;
	tp->stats.tcp_open--;
	event_del(c->rev);
	event_del(c->wev);
	event_del(c->tmo);
	close(c->fd);
	c->fd = -1;
	char a[64];
	LOG_DEBUG("tcp_close", "conn=%llu peer=%s err=%d", (unsigned long long)c->ent.id,
		  tp_addr_str(&c->ent.addr, a, sizeof(a)), err);
	c->busy++;
	if (tp->closed)
		tp->closed(tp->arg, c->ent.id, err);
	c->busy--;
	if (c->busy == 0)
		tcp_conn_free(c);
}

/* Idle timeout, reset by traffic either way; and the slowloris bound: a
 * partial message must be completed within the same time from its first byte. */
static void tcp_arm_timer(struct tcp_conn *c)
{
	uint64_t idle = (uint64_t)c->tp->cfg.tcp_idle_timeout * 1000u;
	uint64_t deadline = c->last_activity_ms + idle;
	if (c->partial_since_ms && c->partial_since_ms + idle < deadline)
		deadline = c->partial_since_ms + idle;
	uint64_t now = tcp_now_ms();
	uint64_t left = deadline > now ? deadline - now : 0;
	struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
	evtimer_add(c->tmo, &tv);
}

static void tcp_on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	uint64_t idle = (uint64_t)c->tp->cfg.tcp_idle_timeout * 1000u;
	uint64_t now = tcp_now_ms();
	if (now >= c->last_activity_ms + idle ||
	    (c->partial_since_ms && now >= c->partial_since_ms + idle)) {
		c->tp->stats.tcp_idle_closed++;
		tcp_conn_close(c, ETIMEDOUT);
		return;
	}
	tcp_arm_timer(c);
}

/* Queues what the socket does not take now; over tcp_max_pending the peer is
 * not reading and the connection is dropped rather than buffering forever. */
static int tcp_conn_write(struct tcp_conn *c, const char *buf, size_t len)
{
	if (c->dead)
		return -EPIPE;
	if (c->wlen == c->woff && !c->connecting) {
		ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
				int err = errno;
				tcp_conn_close(c, err);
				return -err;
			}
			n = 0;
		}
		buf += n;
		len -= (size_t)n;
		c->last_activity_ms = tcp_now_ms();
		if (len == 0)
			return 0;
	}
	size_t pending = c->wlen - c->woff;
	if (pending + len > c->tp->cfg.tcp_max_pending) {
		tcp_conn_close(c, ENOBUFS);
		return -ENOBUFS;
	}
	if (c->woff > 0) {
		memmove(c->wbuf, c->wbuf + c->woff, pending);
		c->woff = 0;
		c->wlen = pending;
	}
	if (c->wlen + len > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		while (cap < c->wlen + len)
			cap *= 2;
		char *nb = realloc(c->wbuf, cap);
		if (!nb)
			return -ENOMEM;
		c->wbuf = nb;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, buf, len);
	c->wlen += len;
	if (!c->connecting)
		event_add(c->wev, NULL);
	return 0;
}

static void tcp_deliver(struct tcp_conn *c, const char *p, size_t len)
{
	struct tp *tp = c->tp;
	struct tp_packet pkt = {
	    .buf = p,
	    .len = len,
	    .proto = TP_TCP,
	    .src = c->ent.addr,
	    .listener = c->listener,
	    .conn_id = c->ent.id,
	};
	tp->stats.tcp_rx++;
	if (tp->recv)
		tp->recv(tp->arg, &pkt);
}

/* Frames and delivers every complete message in the read buffer. */
static void tcp_process(struct tcp_conn *c)
{
	size_t off = 0;
	while (!c->dead && off < c->rlen) {
		const char *p = c->rbuf + off;
		size_t avail = c->rlen - off;
		if (p[0] == '\r' || p[0] == '\n') {
			/* RFC 5626 §3.5.1: CRLFCRLF is a ping, answered by a CRLF pong;
			 * a lone CRLF (the pong direction, or padding between messages,
			 * RFC 3261 §7.5) is skipped. Wait when a ping may be incomplete. */
			if (avail >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
				off += 4;
				c->tp->stats.keepalive_pongs++;
				tcp_conn_write(c, "\r\n", 2);
				continue;
			}
			if (p[0] == '\r' && (avail < 2 || (p[1] == '\n' && avail < 4 &&
							   (avail == 2 || p[2] == '\r'))))
				break;
			off += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
			continue;
		}
		long fl = sip_frame_length(p, avail, c->tp->cfg.max_message);
		if (fl < 0) {
			/* RFC 3261 §18.3: without a usable Content-Length the stream
			 * cannot be resynchronised; close it. */
			c->tp->stats.tcp_framing_errors++;
			tcp_conn_close(c, EPROTO);
			return;
		}
		if (fl == 0 || (size_t)fl > avail)
			break;
		tcp_deliver(c, p, (size_t)fl);
		off += (size_t)fl;
	}
	if (c->dead || off == 0)
		return;
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
	c->partial_since_ms = c->rlen ? tcp_now_ms() : 0;
}

static void tcp_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	size_t max = c->tp->cfg.max_message;
	c->busy++;
	for (;;) {
		if (c->rlen == c->rcap) {
			if (c->rcap >= max) {
				/* the buffer is bounded by max_message */
				c->tp->stats.tcp_framing_errors++;
				tcp_conn_close(c, EMSGSIZE);
				break;
			}
			size_t cap = c->rcap ? c->rcap * 2 : TCP_RBUF_INIT;
			if (cap > max)
				cap = max;
			char *nb = realloc(c->rbuf, cap);
			if (!nb) {
				tcp_conn_close(c, ENOMEM);
				break;
			}
			c->rbuf = nb;
			c->rcap = cap;
		}
		size_t space = c->rcap - c->rlen;
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, space, MSG_DONTWAIT);
		if (n == 0) {
			tcp_conn_close(c, 0);
			break;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				tcp_conn_close(c, errno);
			break;
		}
		c->last_activity_ms = tcp_now_ms();
		if (c->rlen == 0)
			c->partial_since_ms = c->last_activity_ms;
		c->rlen += (size_t)n;
		tcp_process(c);
		if (c->dead || (size_t)n < space)
			break;
	}
	if (!c->dead)
		tcp_arm_timer(c);
	if (--c->busy == 0 && c->dead)
		tcp_conn_free(c);
}

static void tcp_flush(struct tcp_conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t n =
		    send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				event_add(c->wev, NULL);
				return;
			}
			tcp_conn_close(c, errno);
			return;
		}
		c->woff += (size_t)n;
		c->last_activity_ms = tcp_now_ms();
	}
	c->woff = c->wlen = 0;
}

static void tcp_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *c = arg;
	c->busy++;
	if (c->connecting) {
		int err = 0;
		socklen_t sl = sizeof(err);
		if (what & EV_TIMEOUT)
			err = ETIMEDOUT;
		else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err) {
			tcp_conn_close(c, err);
		} else {
			c->connecting = false;
			c->tp->stats.tcp_connected++;
			c->last_activity_ms = tcp_now_ms();
			event_add(c->rev, NULL);
			tcp_arm_timer(c);
		}
	}
	if (!c->dead)
		tcp_flush(c);
	if (--c->busy == 0 && c->dead)
		tcp_conn_free(c);
}

static struct tcp_conn *tcp_conn_new(struct tp *tp, int fd, const union tp_sockaddr *peer,
				     bool connecting)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return NULL;
	}
	c->tp = tp;
	c->fd = fd;
	tp_socket_tos(tp, fd, peer->sa.sa_family);
	c->ent.id = tp->next_conn_id++;
	c->ent.addr = *peer;
	c->connecting = connecting;
	c->listener = tp_listener_for(tp, TP_TCP, peer->sa.sa_family);
	c->last_activity_ms = tcp_now_ms();
	c->rev = event_new(tp->base, fd, EV_READ | EV_PERSIST, tcp_on_read, c);
	c->wev = event_new(tp->base, fd, EV_WRITE, tcp_on_write, c);
	c->tmo = evtimer_new(tp->base, tcp_on_timeout, c);
	if (!c->rev || !c->wev || !c->tmo) {
		tcp_conn_free(c);
		return NULL;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_table_insert(&tp->conns, &c->ent);
	tp->stats.tcp_open++;
	if (connecting) {
		unsigned ms = tp->cfg.tcp_connect_timeout_ms;
		struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
		event_add(c->wev, &tv);
	} else {
		event_add(c->rev, NULL);
		tcp_arm_timer(c);
	}
	return c;
}

static void tcp_on_accept(evutil_socket_t lfd, short what, void *arg)
{
	struct tp_lis *l = arg;
	struct tp *tp = l->tp;
	for (int i = 0; i < TCP_ACCEPT_PER_EVENT; i++) {
		union tp_sockaddr peer;
		socklen_t sl = sizeof(peer);
		int fd = accept4(lfd, &peer.sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return; /* EAGAIN, or EMFILE: retried on the next event */
		if (tp->stats.tcp_open >= tp->cfg.tcp_max_conns || tp->stopped) {
			/* accept-and-close keeps the backlog from filling with
			 * connections we will never serve */
			close(fd);
			tp->stats.tcp_refused_cap++;
			continue;
		}
		struct tcp_conn *c = tcp_conn_new(tp, fd, &peer, false);
		if (c) {
			c->listener = &l->pub;
			tp->stats.tcp_accepted++;
		}
	}
}

static int tcp_listen(struct tp *tp, struct tp_lis *l)
{
	int fam = l->pub.local.sa.sa_family;
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	l->pub.fd = fd;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fam == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, &l->pub.local.sa, tp_addr_len(&l->pub.local)) < 0 || listen(fd, 1024) < 0)
		return -errno;
	l->ev = event_new(tp->base, fd, EV_READ | EV_PERSIST, tcp_on_accept, l);
	if (!l->ev || event_add(l->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

static struct tcp_conn *tcp_connect(struct tp *tp, const union tp_sockaddr *to, int *err)
{
	int fd = socket(to->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	int rc = connect(fd, &to->sa, tp_addr_len(to));
	if (rc < 0 && errno != EINPROGRESS) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	struct tcp_conn *c = tcp_conn_new(tp, fd, to, true);
	if (!c)
		*err = -ENOMEM;
	return c;
}

/* RFC 3261 §18.2.2 / §18.1.1: the request's own connection first, then any
 * open connection to the address, then a new one (data queued until it is up). */
static int64_t tcp_send(struct tp *tp, const struct tp_dest *d, const char *buf, size_t len)
{
	struct conn_entry *e = d->conn_id ? conn_table_find_id(&tp->conns, d->conn_id) : NULL;
	if (!e && d->addr.sa.sa_family != AF_UNSPEC)
		e = conn_table_find_addr(&tp->conns, &d->addr);
	struct tcp_conn *c = e ? container_of(e, struct tcp_conn, ent) : NULL;
	if (!c) {
		if (d->addr.sa.sa_family != AF_INET && d->addr.sa.sa_family != AF_INET6)
			return -ENOTCONN;
		int err = 0;
		c = tcp_connect(tp, &d->addr, &err);
		if (!c)
			return err;
	}
	uint64_t id = c->ent.id;
	int rc = tcp_conn_write(c, buf, len);
	if (rc < 0)
		return rc;
	tp->stats.tcp_tx++;
	return (int64_t)id;
}

bool tp_tcp_conn_alive(const struct tp *tp, uint64_t id)
{
	return conn_table_find_id(&tp->conns, id) != NULL;
}

static void tcp_destroy_one(void *arg, struct conn_entry *e)
{
	struct tp *tp = arg;
	conn_table_remove(&tp->conns, e);
	tcp_conn_free(container_of(e, struct tcp_conn, ent));
}

static void tcp_destroy(struct tp *tp)
{
	conn_table_each(&tp->conns, tcp_destroy_one, tp);
	tp->stats.tcp_open = 0;
}

const struct tp_proto_ops tp_tcp_ops = {
    .listen = tcp_listen,
    .send = tcp_send,
    .destroy = tcp_destroy,
};
