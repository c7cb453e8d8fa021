/* transport_internal.h — what the transport's own files share: struct tp, the
 * per-protocol ops table (RFC 3261 §18: one transport = one struct tp_proto_ops,
 * so TLS/WS plug in without touching the layers above) and the connection table.
 * Not for use outside src/transport/. */
#ifndef SIPPROXY_TRANSPORT_INTERNAL_H
#define SIPPROXY_TRANSPORT_INTERNAL_H

#include <event2/event.h>

#include "transport/transport.h"

#define TP_MAX_LISTENERS 32
#define TP_UDP_SLOT	 65536 /* > the largest UDP payload (65507) */
#define TP_UDP_BATCH	 32    /* datagrams per recvmmsg: one batch is 2 MiB of ring */

struct tp;

/* One listening socket; pub is what callers see. */
struct tp_lis {
	struct tp_listener pub;
	struct event *ev;
	struct tp *tp;
};

struct tp_proto_ops {
	/* Opens l->pub.fd bound to l->pub.local and arms its event. 0 or -errno. */
	int (*listen)(struct tp *tp, struct tp_lis *l);
	/* Sends one message; returns conn id (streams), 0 (datagrams) or -errno. */
	int64_t (*send)(struct tp *tp, const struct tp_dest *d, const char *buf, size_t len);
	/* Closes everything the protocol owns (connections) at tp_free. */
	void (*destroy)(struct tp *tp);
};

/* Connection table entry, embedded in each stream connection (conn_table.c). */
struct conn_entry {
	uint64_t id;
	union tp_sockaddr addr;
	struct conn_entry *next_id, *next_addr;
};

struct conn_table {
	struct conn_entry **by_id, **by_addr;
	size_t nbuckets, count;
};

int conn_table_init(struct conn_table *t);
void conn_table_fini(struct conn_table *t);
int conn_table_insert(struct conn_table *t, struct conn_entry *e);
void conn_table_remove(struct conn_table *t, struct conn_entry *e);
struct conn_entry *conn_table_find_id(const struct conn_table *t, uint64_t id);
struct conn_entry *conn_table_find_addr(const struct conn_table *t, const union tp_sockaddr *a);
/* Calls fn for every entry; fn may remove the entry it is given. */
void conn_table_each(struct conn_table *t, void (*fn)(void *arg, struct conn_entry *e), void *arg);

struct tp {
	struct event_base *base;
	struct tp_config cfg;
	tp_recv_fn recv;
	tp_conn_closed_fn closed;
	void *arg;
	const struct tp_proto_ops *ops[TP_PROTO_COUNT];
	struct tp_lis lis[TP_MAX_LISTENERS];
	size_t nlis;
	struct tp_stats stats;
	tp_trace_fn trace;
	void *trace_arg;
	/* capture backend (capture.c): where "sent" messages go */
	void (*capture)(void *arg, const struct tp_dest *dest, uint64_t conn_id, const char *buf,
			size_t len);
	void *capture_arg;
	/* UDP receive ring: udp_batch slots of TP_UDP_SLOT bytes, reused per batch. */
	char *udp_ring;
	void *udp_msgs; /* struct mmsghdr[udp_batch] + iovecs + addrs (udp.c) */
	/* TCP */
	struct conn_table conns;
	uint64_t next_conn_id;
	bool stopped;
};

extern const struct tp_proto_ops tp_udp_ops;
extern const struct tp_proto_ops tp_tcp_ops;

/* Frees UDP receive state (udp.c). */
void tp_udp_fini(struct tp *tp);
/* Is stream connection id open? (tcp.c) */
bool tp_tcp_conn_alive(const struct tp *tp, uint64_t id);

/* Sets O_NONBLOCK and FD_CLOEXEC; 0 or -errno. */
int tp_fd_nonblock(int fd);

/* tp_addr.c: sets the configured TOS / traffic class on a SIP socket. */
void tp_socket_tos(const struct tp *tp, int fd, int family);

#endif
