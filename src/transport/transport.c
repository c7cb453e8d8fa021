/* transport.c — the struct tp object (RFC 3261 §18): config defaults, the
 * listener list, dispatch of tp_send to the protocol's ops table, and stats.
 * Protocol mechanics live in udp.c and tcp.c; addresses in tp_addr.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transport/transport_internal.h"
#include "util/log.h"

int tp_fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

struct tp *tp_new(struct event_base *base, const struct tp_config *cfg, tp_recv_fn recv,
		  tp_conn_closed_fn closed, void *arg)
{
	/* Every value comes from the option table (config_transport()). */
	if (!cfg || !cfg->max_message || !cfg->tcp_max_conns || !cfg->tcp_idle_timeout ||
	    !cfg->tcp_connect_timeout_ms || !cfg->tcp_max_pending)
		return NULL;
	struct tp *tp = calloc(1, sizeof(*tp));
	if (!tp)
		return NULL;
	tp->base = base;
	tp->cfg = *cfg;
	tp->recv = recv;
	tp->closed = closed;
	tp->arg = arg;
	tp->ops[TP_UDP] = &tp_udp_ops;
	tp->ops[TP_TCP] = &tp_tcp_ops;
	/* TP_TLS, TP_WS, TP_WSS: no ops yet; sends fail with -EPROTONOSUPPORT. */
	tp->next_conn_id = 1;
	if (conn_table_init(&tp->conns) < 0) {
		free(tp);
		return NULL;
	}
	return tp;
}

static void tp_lis_close(struct tp_lis *l)
{
	if (l->ev) {
		event_free(l->ev);
		l->ev = NULL;
	}
	if (l->pub.fd >= 0) {
		close(l->pub.fd);
		l->pub.fd = -1;
	}
}

void tp_free(struct tp *tp)
{
	if (!tp)
		return;
	for (size_t i = 0; i < TP_PROTO_COUNT; i++)
		if (tp->ops[i] && tp->ops[i]->destroy)
			tp->ops[i]->destroy(tp);
	for (size_t i = 0; i < tp->nlis; i++)
		tp_lis_close(&tp->lis[i]);
	tp_udp_fini(tp);
	conn_table_fini(&tp->conns);
	free(tp);
}

/* The advertised host goes into Via/Record-Route: IPv6 needs brackets
 * (RFC 3261 §25.1 IPv6reference). */
static void tp_lis_set_host(struct tp_lis *l, const char *address, const char *advertise)
{
	const char *h = advertise && *advertise ? advertise : address;
	size_t n = strlen(h);
	bool v6 = memchr(h, ':', n) != NULL && h[0] != '[';
	if (v6)
		snprintf(l->pub.host, sizeof(l->pub.host), "[%s]", h);
	else
		snprintf(l->pub.host, sizeof(l->pub.host), "%s", h);
}

int tp_listen(struct tp *tp, enum tp_proto proto, const char *address, uint16_t port,
	      const char *advertise)
{
	if ((unsigned)proto >= TP_PROTO_COUNT || !tp->ops[proto] || !tp->ops[proto]->listen)
		return -EPROTONOSUPPORT;
	if (tp->nlis >= TP_MAX_LISTENERS)
		return -ENOSPC;
	if (!address)
		return -EINVAL;
	struct tp_lis *l = &tp->lis[tp->nlis];
	memset(l, 0, sizeof(*l));
	l->tp = tp;
	l->pub.proto = proto;
	l->pub.fd = -1;
	int rc = tp_addr_from_ip(str_cstr(address), port, &l->pub.local);
	if (rc < 0)
		return rc;
	rc = tp->ops[proto]->listen(tp, l);
	if (rc < 0) {
		tp_lis_close(l);
		return rc;
	}
	/* port 0 asked for an ephemeral port: advertise the one we got */
	socklen_t sl = sizeof(l->pub.local);
	if (l->pub.fd >= 0)
		getsockname(l->pub.fd, &l->pub.local.sa, &sl);
	l->pub.port = tp_addr_port(&l->pub.local);
	tp_lis_set_host(l, address, advertise);
	tp->nlis++;
	LOG_INFO("tp_listen", "proto=%s host=%s port=%u", tp_proto_name(proto), l->pub.host,
		 l->pub.port);
	return 0;
}

int64_t tp_send(struct tp *tp, const struct tp_dest *dest, const char *buf, size_t len)
{
	if (!dest || (unsigned)dest->proto >= TP_PROTO_COUNT || !tp->ops[dest->proto]) {
		tp->stats.send_errors++;
		return -EPROTONOSUPPORT;
	}
	int64_t rc = tp->ops[dest->proto]->send(tp, dest, buf, len);
	if (rc < 0)
		tp->stats.send_errors++;
	else if (tp->trace)
		tp->trace(tp->trace_arg, dest, buf, len);
	return rc;
}

void tp_set_trace(struct tp *tp, tp_trace_fn fn, void *arg)
{
	tp->trace = fn;
	tp->trace_arg = arg;
}

const struct tp_listener *tp_listener_for(const struct tp *tp, enum tp_proto proto, int family)
{
	const struct tp_listener *any = NULL;
	for (size_t i = 0; i < tp->nlis; i++) {
		const struct tp_listener *l = &tp->lis[i].pub;
		if (l->proto != proto)
			continue;
		if (l->local.sa.sa_family == family)
			return l;
		if (!any)
			any = l;
	}
	return any;
}

size_t tp_listeners(const struct tp *tp, const struct tp_listener **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < tp->nlis && n < max; i++)
		out[n++] = &tp->lis[i].pub;
	return n;
}

bool tp_conn_alive(const struct tp *tp, uint64_t conn_id)
{
	return conn_id != 0 && tp_tcp_conn_alive(tp, conn_id);
}

/* Drain: stream listeners stop accepting. UDP sockets stay open because they
 * are also the sending sockets, and transactions in progress still need them
 * (RFC 3261 §17: ACKs and retransmissions must keep flowing while draining). */
void tp_stop_listening(struct tp *tp)
{
	tp->stopped = true;
	for (size_t i = 0; i < tp->nlis; i++)
		if (tp_proto_is_stream(tp->lis[i].pub.proto))
			tp_lis_close(&tp->lis[i]);
}

void tp_get_stats(const struct tp *tp, struct tp_stats *out)
{
	*out = tp->stats;
}
