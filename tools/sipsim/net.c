/* net.c — the simulator's own SIP sockets on libevent: one UDP socket and a TCP
 * listener on --listen, TCP connections framed with sip_frame_length (RFC 3261
 * §18.3), and outbound TCP connections opened from the listen address (the proxy
 * tells the members of an HA pair apart by source IP), one per peer, reused. The
 * role filters here: dead drops every datagram and byte both ways (keeping its
 * sockets open), backup sends no request. Kept apart from src/transport on
 * purpose: the simulator must not share the proxy's bugs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "sip/build.h"
#include "sipsim.h"

#define SIM_MAX_MSG 65536

struct sim_conn {
	uint64_t id;
	struct bufferevent *bev;
	struct sim_peer peer;
	struct sim *s;
	struct sim_conn *next;
};

int sim_addr_parse(const char *hostport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(hostport, ':');
	if (!colon || (size_t)(colon - hostport) >= sizeof(host))
		return -1;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port <= 0 || port > 65535)
		return -1;
	memset(ss, 0, sizeof(*ss));
	char *h = host;
	size_t hl = strlen(h);
	if (hl > 1 && h[0] == '[' && h[hl - 1] == ']') {
		h[hl - 1] = '\0';
		h++;
	}
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, h, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, h, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
		return 0;
	}
	return -1;
}

bool sim_addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

void sim_peer_text(const struct sim_peer *p, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	uint16_t port = 0;
	if (p->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&p->addr;
		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
	} else if (p->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&p->addr;
		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
	}
	snprintf(out, cap, "%s:%s:%u", p->proto == SIM_TCP ? "tcp" : "udp", host, port);
}

/* Parses one message and hands it on; unparseable requests get their error
 * status when enough was read to answer (RFC 3261 §8.2 / §16.3). */
static void sim_net_deliver(struct sim *s, const struct sim_peer *peer, const char *data,
			    size_t len)
{
	sim_log_msg(s, "in", peer, data, len);
	struct sip_msg *m = sip_msg_new(data, len);
	if (!m)
		return;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	if (sip_msg_parse(m, &lim) != 0) {
		if (m->is_request && sip_msg_can_reply(m) && m->method != SIP_METHOD_ACK) {
			char out[4096];
			size_t n = sip_build_response(m, m->error.status ? m->error.status : 400,
						      m->error.reason, STR_NULL, STR_NULL, out,
						      sizeof(out));
			if (n) {
				struct sim_peer p = *peer;
				sim_net_send(s, &p, out, n);
			}
		}
		sip_msg_free(m);
		return;
	}
	sim_on_message(s, peer, m);
}

static void sim_udp_read(evutil_socket_t fd, short what, void *arg)
{
	struct sim *s = arg;
	char buf[SIM_MAX_MSG];
	for (int i = 0; i < 64; i++) {
		struct sim_peer peer = {.proto = SIM_UDP};
		peer.alen = sizeof(peer.addr);
		ssize_t n =
		    recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer.addr, &peer.alen);
		if (n < 0)
			return;
		if (s->role == SIM_ROLE_DEAD)
			continue; /* silenced: read and forgotten, no ICMP error either */
		/* Keep-alive CRLFs (RFC 5626 §4.4.1) are not messages. */
		if (n <= 4 && strspn(buf, "\r\n") >= (size_t)n)
			continue;
		sim_net_deliver(s, &peer, buf, (size_t)n);
	}
}

static struct sim_conn *sim_conn_find(struct sim *s, uint64_t id)
{
	for (struct sim_conn *c = s->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void sim_conn_close(struct sim_conn *c)
{
	struct sim *s = c->s;
	for (struct sim_conn **pp = &s->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	bufferevent_free(c->bev);
	free(c);
}

static void sim_conn_read(struct bufferevent *bev, void *arg)
{
	struct sim_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->s->role == SIM_ROLE_DEAD) {
		/* The connection stays open and says nothing. */
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	for (;;) {
		/* Leading CRLFs are keep-alives (RFC 5626 §3.5.1). */
		size_t avail = evbuffer_get_length(in);
		unsigned char *p = evbuffer_pullup(in, (ssize_t)(avail < 2 ? avail : 2));
		if (avail && p && (p[0] == '\r' || p[0] == '\n')) {
			evbuffer_drain(in, 1);
			continue;
		}
		if (!avail)
			return;
		char *data = (char *)evbuffer_pullup(in, -1);
		long n = sip_frame_length(data, avail, SIM_MAX_MSG);
		if (n == 0)
			return;
		if (n < 0) {
			sim_conn_close(c);
			return;
		}
		sim_net_deliver(c->s, &c->peer, data, (size_t)n);
		/* The handler may not close c: closing only happens here and in
		 * sim_conn_event, so c and in are still valid. */
		evbuffer_drain(in, (size_t)n);
	}
}

static void sim_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct sim_conn *c = arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		sim_conn_close(c);
}

static struct sim_conn *sim_conn_new(struct sim *s, struct bufferevent *bev,
				     const struct sockaddr *sa, socklen_t alen)
{
	struct sim_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->s = s;
	c->bev = bev;
	c->id = ++s->next_conn_id;
	c->peer.proto = SIM_TCP;
	memcpy(&c->peer.addr, sa, alen);
	c->peer.alen = alen;
	c->peer.conn_id = c->id;
	c->next = s->conns;
	s->conns = c;
	bufferevent_setcb(bev, sim_conn_read, NULL, sim_conn_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	return c;
}

static void sim_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int alen,
		       void *arg)
{
	struct sim *s = arg;
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev || !sim_conn_new(s, bev, sa, (socklen_t)alen)) {
		if (bev)
			bufferevent_free(bev);
		else
			close(fd);
	}
}

/* What the role lets out: nothing when dead, only responses when backup (a
 * backup never sends requests of its own). */
static bool sim_role_allows(const struct sim *s, const char *buf, size_t len)
{
	if (s->role == SIM_ROLE_DEAD)
		return false;
	if (s->role == SIM_ROLE_BACKUP)
		return len >= 8 && memcmp(buf, "SIP/2.0 ", 8) == 0;
	return true;
}

/* An outbound connection from the listen IP: from the listen port itself when
 * the kernel lets us (SO_REUSEPORT on both, no connection in TIME_WAIT on that
 * 4-tuple), else from an ephemeral port. */
static struct bufferevent *sim_conn_open(struct sim *s, const struct sim_peer *peer, bool own_port)
{
	struct sockaddr_storage src = s->laddr;
	if (!own_port) {
		if (src.ss_family == AF_INET)
			((struct sockaddr_in *)&src)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&src)->sin6_port = 0;
	}
	int fd = socket(src.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (own_port)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&src, s->laddr_len) != 0) {
		close(fd);
		return NULL;
	}
	struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return NULL;
	}
	if (bufferevent_socket_connect(bev, (const struct sockaddr *)&peer->addr,
				       (int)peer->alen) != 0) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

int sim_net_send(struct sim *s, struct sim_peer *peer, const char *buf, size_t len)
{
	if (!sim_role_allows(s, buf, len)) {
		sim_log_msg(s, "drop", peer, buf, len);
		return 0;
	}
	sim_log_msg(s, "out", peer, buf, len);
	if (peer->proto == SIM_UDP) {
		ssize_t n = sendto(s->udp_fd, buf, len, 0, (const struct sockaddr *)&peer->addr,
				   peer->alen);
		return n == (ssize_t)len ? 0 : -1;
	}
	struct sim_conn *c = peer->conn_id ? sim_conn_find(s, peer->conn_id) : NULL;
	if (!c) {
		/* RFC 3261 §18.2.2: the connection is gone, use another one to the
		 * same address, or open a new one. */
		for (c = s->conns; c; c = c->next)
			if (sim_addr_eq(&c->peer.addr, &peer->addr))
				break;
	}
	if (!c) {
		struct bufferevent *bev = sim_conn_open(s, peer, true);
		if (!bev)
			bev = sim_conn_open(s, peer, false);
		if (!bev)
			return -1;
		c = sim_conn_new(s, bev, (struct sockaddr *)&peer->addr, peer->alen);
		if (!c) {
			bufferevent_free(bev);
			return -1;
		}
	}
	peer->conn_id = c->id;
	return bufferevent_write(c->bev, buf, len);
}

/* The TCP listener carries SO_REUSEPORT so that outbound connections can leave
 * from the listen port too. That option would also let a second simulator bind
 * the same address without an error, so a plain socket probes it first. */
static int sim_listen_fd(struct sim *s)
{
	const struct sockaddr *la = (const struct sockaddr *)&s->laddr;
	int one = 1;
	int probe = socket(la->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	int rc = bind(probe, la, s->laddr_len);
	close(probe);
	if (rc != 0)
		return -1;
	int fd = socket(la->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(fd, la, s->laddr_len) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int sim_net_start(struct sim *s)
{
	struct sockaddr *la = (struct sockaddr *)&s->laddr;
	s->udp_fd = socket(la->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->udp_fd < 0)
		return -1;
	int one = 1;
	setsockopt(s->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->udp_fd, la, s->laddr_len) != 0) {
		fprintf(stderr, "sipsim: bind udp %s: %s\n", s->o.listen, strerror(errno));
		return -1;
	}
	s->udp_ev = event_new(s->base, s->udp_fd, EV_READ | EV_PERSIST, sim_udp_read, s);
	if (!s->udp_ev || event_add(s->udp_ev, NULL) != 0)
		return -1;
	int lfd = sim_listen_fd(s);
	if (lfd >= 0) {
		s->listener =
		    evconnlistener_new(s->base, sim_accept, s, LEV_OPT_CLOSE_ON_FREE, 128, lfd);
		if (!s->listener)
			close(lfd);
	}
	if (!s->listener) {
		fprintf(stderr, "sipsim: listen tcp %s: %s\n", s->o.listen, strerror(errno));
		return -1;
	}
	return 0;
}

void sim_net_stop(struct sim *s)
{
	while (s->conns)
		sim_conn_close(s->conns);
	if (s->listener)
		evconnlistener_free(s->listener);
	if (s->udp_ev)
		event_free(s->udp_ev);
	if (s->udp_fd >= 0)
		close(s->udp_fd);
	s->listener = NULL;
	s->udp_ev = NULL;
	s->udp_fd = -1;
}
