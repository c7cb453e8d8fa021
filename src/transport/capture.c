/* capture.c — the capture backend (capture.h): one ops table serving every
 * protocol. Stream connections are plain entries of the transport's connection
 * table, so reuse by id and by address, "is it alive" and closing behave as
 * for TCP; nothing ever reaches a socket. */
#include <errno.h>
#include <stdlib.h>

#include "transport/capture.h"
#include "transport/transport_internal.h"
#include "util/timer_wheel.h" /* container_of */

struct capture_conn {
	struct conn_entry ent;
	enum tp_proto proto;
};

static int capture_listen(struct tp *tp, struct tp_lis *l)
{
	(void)tp;
	l->pub.fd = -1; /* no socket: packets come from tp_capture_inject */
	return 0;
}

static struct capture_conn *capture_conn_new(struct tp *tp, enum tp_proto proto,
					     const union tp_sockaddr *peer)
{
	struct capture_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ent.id = tp->next_conn_id++;
	c->ent.addr = *peer;
	c->proto = proto;
	if (conn_table_insert(&tp->conns, &c->ent) < 0) {
		free(c);
		return NULL;
	}
	tp->stats.tcp_open++;
	return c;
}

static int64_t capture_send(struct tp *tp, const struct tp_dest *d, const char *buf, size_t len)
{
	uint64_t id = 0;
	if (tp_proto_is_stream(d->proto)) {
		struct conn_entry *e =
		    d->conn_id ? conn_table_find_id(&tp->conns, d->conn_id) : NULL;
		if (!e && d->addr.sa.sa_family != AF_UNSPEC)
			e = conn_table_find_addr(&tp->conns, &d->addr);
		if (!e) {
			if (d->addr.sa.sa_family != AF_INET && d->addr.sa.sa_family != AF_INET6)
				return -ENOTCONN;
			struct capture_conn *c = capture_conn_new(tp, d->proto, &d->addr);
			if (!c)
				return -ENOMEM;
			tp->stats.tcp_connected++;
			e = &c->ent;
		}
		id = e->id;
		tp->stats.tcp_tx++;
	} else {
		if (d->addr.sa.sa_family != AF_INET && d->addr.sa.sa_family != AF_INET6)
			return -EAFNOSUPPORT;
		tp->stats.udp_tx++;
	}
	if (tp->capture)
		tp->capture(tp->capture_arg, d, id, buf, len);
	return (int64_t)id;
}

static void capture_free_one(void *arg, struct conn_entry *e)
{
	struct tp *tp = arg;
	conn_table_remove(&tp->conns, e);
	free(container_of(e, struct capture_conn, ent));
}

static void capture_destroy(struct tp *tp)
{
	conn_table_each(&tp->conns, capture_free_one, tp);
	tp->stats.tcp_open = 0;
}

/* destroy runs once per protocol slot: only the TCP slot owns the table. */
static const struct tp_proto_ops capture_ops = {
    .listen = capture_listen,
    .send = capture_send,
    .destroy = NULL,
};
static const struct tp_proto_ops capture_stream_ops = {
    .listen = capture_listen,
    .send = capture_send,
    .destroy = capture_destroy,
};

void tp_capture_enable(struct tp *tp, tp_capture_fn fn, void *arg)
{
	tp->capture = fn;
	tp->capture_arg = arg;
	tp->ops[TP_UDP] = &capture_ops;
	tp->ops[TP_TCP] = &capture_stream_ops;
}

uint64_t tp_capture_accept(struct tp *tp, enum tp_proto proto, const union tp_sockaddr *peer)
{
	struct capture_conn *c = capture_conn_new(tp, proto, peer);
	if (!c)
		return 0;
	tp->stats.tcp_accepted++;
	return c->ent.id;
}

void tp_capture_inject(struct tp *tp, enum tp_proto proto, const union tp_sockaddr *src,
		       uint64_t conn_id, const char *buf, size_t len)
{
	if (tp_proto_is_stream(proto) && !conn_table_find_id(&tp->conns, conn_id))
		return;
	const struct tp_listener *l = tp_listener_for(tp, proto, src->sa.sa_family);
	if (!l || !tp->recv || len == 0)
		return;
	struct tp_packet pkt = {
	    .buf = buf,
	    .len = len,
	    .proto = proto,
	    .src = *src,
	    .listener = l,
	    .conn_id = tp_proto_is_stream(proto) ? conn_id : 0,
	};
	if (proto == TP_UDP)
		tp->stats.udp_rx++;
	else
		tp->stats.tcp_rx++;
	tp->recv(tp->arg, &pkt);
}

void tp_capture_inject_conn(struct tp *tp, uint64_t conn_id, const char *buf, size_t len)
{
	struct conn_entry *e = conn_table_find_id(&tp->conns, conn_id);
	if (!e)
		return;
	struct capture_conn *c = container_of(e, struct capture_conn, ent);
	union tp_sockaddr peer = e->addr;
	tp_capture_inject(tp, c->proto, &peer, conn_id, buf, len);
}

void tp_capture_close(struct tp *tp, uint64_t conn_id)
{
	struct conn_entry *e = conn_table_find_id(&tp->conns, conn_id);
	if (!e)
		return;
	conn_table_remove(&tp->conns, e);
	free(container_of(e, struct capture_conn, ent));
	tp->stats.tcp_open--;
	tp->stats.tcp_closed++;
	if (tp->closed)
		tp->closed(tp->arg, conn_id, 0);
}
