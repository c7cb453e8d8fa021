/* sipsim.h — the SIP Server simulator: a UAS (OPTIONS, REGISTER with digest,
 * INVITE/ACK/BYE/CANCEL) and an optional UAC that calls out through the proxy.
 * Shared state of the tool's files: net.c (sockets), uas.c (requests and the
 * retransmission table), register.c (RFC 3261 §10.3 + RFC 2617 digest), uac.c
 * (calls out) and main.c (options, signals, role control). */
#ifndef SIPSIM_H
#define SIPSIM_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include "sip/msg.h"

struct event_base;
struct event;
struct evconnlistener;

enum sim_proto { SIM_UDP = 0, SIM_TCP = 1 };

/* Where a message came from and where its answer goes. */
struct sim_peer {
	enum sim_proto proto;
	struct sockaddr_storage addr;
	socklen_t alen;
	uint64_t conn_id; /* TCP: the connection it arrived on */
};

struct sim_user {
	char *name, *password;
	struct sim_user *next;
};

#define SIM_TXN_BUCKETS	 256
#define SIM_TXN_LIFETIME 32 /* s: 64*T1, RFC 3261 §17.2 */

struct sim_txn;
struct sim_conn;
struct sim_uac;

struct sim_opts {
	const char *listen; /* ADDR:PORT */
	const char *role;   /* active|backup */
	int control_port;   /* UDP control socket, 0 = none */
	const char *realm;
	const char *users_file;
	unsigned max_expires;
	unsigned answer_delay_ms;
	const char *call_aor;  /* --call */
	const char *via_proxy; /* HOST:PORT */
	unsigned calls;
	unsigned hold_ms;
	enum sim_proto call_proto; /* --transport for calling out */
	bool verbose;
};

struct sim {
	struct sim_opts o;
	struct event_base *base;
	bool active;
	char host[64]; /* listen address as text, for Via/Contact */
	uint16_t port;
	struct sockaddr_storage laddr;
	socklen_t laddr_len;

	int udp_fd;
	struct event *udp_ev;
	struct evconnlistener *listener;
	struct sim_conn *conns;
	uint64_t next_conn_id;

	int ctl_fd;
	struct event *ctl_ev;
	struct event *sig_ev[3];
	struct event *sweep_ev;

	struct sim_txn *txns[SIM_TXN_BUCKETS];
	struct sim_user *users;
	unsigned char nonce_key[16]; /* signs our nonces (stateless check) */

	struct sim_uac *uac;
	int exit_code;
};

/* net.c */
int sim_net_start(struct sim *s);
void sim_net_stop(struct sim *s);
/* Sends to a peer: UDP datagram, or on the peer's TCP connection (opened to
 * peer->addr when conn_id is 0). Returns 0 or -1. */
int sim_net_send(struct sim *s, struct sim_peer *peer, const char *buf, size_t len);
int sim_addr_parse(const char *hostport, struct sockaddr_storage *ss, socklen_t *len);
void sim_peer_text(const struct sim_peer *p, char *out, size_t cap);

/* uas.c: every received message lands here (takes ownership of m). */
void sim_on_message(struct sim *s, const struct sim_peer *peer, struct sip_msg *m);
void sim_uas_request(struct sim *s, const struct sim_peer *peer, struct sip_msg *m);
void sim_txn_sweep(struct sim *s, bool all);
/* Sends a response to req and remembers it for retransmitted requests. */
void sim_uas_reply(struct sim *s, const struct sim_peer *peer, const struct sip_msg *req,
		   const char *rsp, size_t len);
/* Builds a response with an optional body (sip_build_response + body). */
size_t sim_build_response(const struct sip_msg *req, int status, struct str to_tag,
			  struct str extra, struct str ctype, struct str body, char *out,
			  size_t cap);

/* register.c */
int sim_users_load(struct sim *s, const char *path);
void sim_users_free(struct sim *s);
void sim_register(struct sim *s, const struct sim_peer *peer, struct sip_msg *m);

/* uac.c */
int sim_uac_start(struct sim *s);
void sim_uac_response(struct sim *s, const struct sim_peer *peer, struct sip_msg *m);
void sim_uac_free(struct sim *s);

/* One key=value line per message with --verbose. */
void sim_log_msg(const struct sim *s, const char *dir, const struct sim_peer *peer, const char *buf,
		 size_t len);

#endif
