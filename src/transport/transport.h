/* transport.h — the transport layer (RFC 3261 §18): listeners, datagram and
 * stream I/O, the TCP connection table, and delivery of framed messages upward.
 * One struct tp per event loop. Each protocol is a struct tp_proto_ops, so TLS
 * and WebSocket slot in later without changes above this layer. */
#ifndef SIPPROXY_TRANSPORT_TRANSPORT_H
#define SIPPROXY_TRANSPORT_TRANSPORT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/str.h"

struct event_base;

enum tp_proto { TP_UDP = 0, TP_TCP, TP_TLS, TP_WS, TP_WSS, TP_PROTO_COUNT };

/* IPv4 or IPv6 only: 28 bytes, not sockaddr_storage's 128 (every transaction,
 * connection and binding holds some). */
union tp_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* A place to send to: protocol + address, and optionally a connection to use. */
struct tp_dest {
	enum tp_proto proto;
	union tp_sockaddr addr;
	uint64_t conn_id; /* stream: reuse this connection if still open; 0 = by address */
};

struct tp_listener {
	enum tp_proto proto;
	union tp_sockaddr local;
	char host[64]; /* advertised host for Via/Record-Route ("[::1]" for IPv6) */
	uint16_t port; /* advertised port */
	int fd;
};

/* One received message, valid only during the receive callback. */
struct tp_packet {
	const char *buf;
	size_t len;
	enum tp_proto proto;
	union tp_sockaddr src;
	const struct tp_listener *listener; /* where it arrived */
	uint64_t conn_id;		    /* stream connection, 0 for UDP */
};

/* Every value comes from the option table (config_transport()); none may be 0. */
struct tp_config {
	size_t max_message; /* framing limit for streams */
	unsigned tcp_max_conns;
	unsigned tcp_idle_timeout; /* seconds */
	unsigned tcp_connect_timeout_ms;
	size_t tcp_max_pending; /* bytes queued per connection before it is closed */
	unsigned ip_tos;	/* IP TOS / IPv6 traffic class of every SIP socket; 0 = leave */
};

struct tp_stats {
	uint64_t udp_rx, udp_tx, tcp_rx, tcp_tx;
	uint64_t tcp_accepted, tcp_connected, tcp_closed, tcp_refused_cap, tcp_idle_closed;
	uint64_t tcp_framing_errors, send_errors, keepalive_pongs;
	/* RFC 5626 §8 STUN keep-alives on UDP: Binding requests answered, and
	 * STUN-shaped datagrams dropped unanswered (never passed to SIP). */
	uint64_t stun_responses, stun_dropped;
	unsigned tcp_open;
};

typedef void (*tp_recv_fn)(void *arg, const struct tp_packet *pkt);
/* A connection went away (peer closed, error, idle, connect failure); err is 0
 * or an errno. Lets the transaction layer fail a client transaction early. */
typedef void (*tp_conn_closed_fn)(void *arg, uint64_t conn_id, int err);

/* Called for every message sent (after a successful send), for the SIP
 * message trace; dest is where it went. */
typedef void (*tp_trace_fn)(void *arg, const struct tp_dest *dest, const char *buf, size_t len);

struct tp;

/* NULL when out of memory or when a value of cfg is missing (0). */
struct tp *tp_new(struct event_base *base, const struct tp_config *cfg, tp_recv_fn recv,
		  tp_conn_closed_fn closed, void *arg);
void tp_free(struct tp *tp);

/* Installs (or with NULL removes) the send trace hook. */
void tp_set_trace(struct tp *tp, tp_trace_fn fn, void *arg);

/* Opens a listener; advertise (may be NULL) is the host put in Via/RR, default
 * the address itself. Returns 0 or -errno. */
int tp_listen(struct tp *tp, enum tp_proto proto, const char *address, uint16_t port,
	      const char *advertise);

/* Sends one message. UDP: immediately. Streams: on dest->conn_id if still open,
 * else on an open connection to dest->addr, else a new connection (queued until
 * connected). Returns the connection id used (>0), 0 for UDP, or -errno. */
int64_t tp_send(struct tp *tp, const struct tp_dest *dest, const char *buf, size_t len);

/* The listener to put in Via/Record-Route for sending over proto to family
 * (AF_INET/AF_INET6); falls back to any listener of proto. NULL if none. */
const struct tp_listener *tp_listener_for(const struct tp *tp, enum tp_proto proto, int family);
/* All listeners (for "is this URI one of mine?"). */
size_t tp_listeners(const struct tp *tp, const struct tp_listener **out, size_t max);
/* Is conn_id still open? */
bool tp_conn_alive(const struct tp *tp, uint64_t conn_id);
/* Stops accepting new connections and closes listeners (drain on SIGTERM). */
void tp_stop_listening(struct tp *tp);
void tp_get_stats(const struct tp *tp, struct tp_stats *out);

const char *tp_proto_name(enum tp_proto p);	      /* "UDP", "TCP", ... */
int tp_proto_parse(struct str s, enum tp_proto *out); /* case-insensitive */
bool tp_proto_is_stream(enum tp_proto p);
/* The default port of a transport (sip_default_port's rule for it). */
uint16_t tp_proto_default_port(enum tp_proto p);
/* "1.2.3.4:5060" / "[::1]:5060" */
const char *tp_addr_str(const union tp_sockaddr *a, char *out, size_t cap);
/* Parses a numeric IPv4/IPv6 host (brackets allowed) + port into a; an
 * IPv4-mapped IPv6 literal (::ffff:a.b.c.d) gives the IPv4 address. */
int tp_addr_from_ip(struct str host, uint16_t port, union tp_sockaddr *a);
bool tp_addr_equal(const union tp_sockaddr *a, const union tp_sockaddr *b); /* ip+port */
bool tp_addr_same_ip(const union tp_sockaddr *a, const union tp_sockaddr *b);
uint16_t tp_addr_port(const union tp_sockaddr *a);
socklen_t tp_addr_len(const union tp_sockaddr *a);

#endif
