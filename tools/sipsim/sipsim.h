/* sipsim.h — the SIP Server simulator: one member of a SIP Server HA pair behind
 * the proxy, a long-running process controlled at run time. Shared state of the
 * tool's files: net.c (SIP sockets, the role's filter), uas.c (requests and the
 * retransmission table), register.c (RFC 3261 §10.3 + RFC 2617 digest), uac.c
 * (calls out), sdp.c (RFC 3264 offer/answer), media.c (RTP echo), control.c
 * (roles, the control socket and its commands), ctl.c (the `sipsim ctl` client)
 * and main.c (options, signals, the event loop). */
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

/* active serves; backup answers every request 503 and sends none of its own;
 * dead answers nothing (every datagram and TCP byte dropped, sockets kept open,
 * so a peer sees a timeout and never an ICMP error or a RST). */
enum sim_role { SIM_ROLE_ACTIVE = 0, SIM_ROLE_BACKUP, SIM_ROLE_DEAD };

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
struct sim_media;

struct sim_opts {
	const char *listen; /* ADDR:PORT */
	const char *role;   /* active|backup|dead */
	int control_port;   /* UDP control socket, 0 = none */
	const char *realm;
	const char *users_file;
	unsigned max_expires;
	unsigned nonce_ttl; /* s a nonce stays fresh (then stale=true) */
	unsigned answer_delay_ms;
	unsigned media_timeout; /* s without RTP or SIP before an answered call's echo closes */
	const char *call_aor;	/* --call */
	const char *via_proxy;	/* HOST:PORT */
	unsigned calls;
	unsigned hold_ms;
	unsigned rate;		   /* calls/s for --call; 0 = one after the other */
	enum sim_proto call_proto; /* --transport for calling out */
	bool verbose;
};

/* Requests received (new transactions, not retransmissions) and UAC results;
 * the control command "stats" prints them, "reset" zeroes them. */
struct sim_stats {
	unsigned long invites, acks, byes, cancels, registers, options, others;
	unsigned long calls_placed, calls_ok, calls_failed;
	unsigned long rtp_echoed;
};

struct sim {
	struct sim_opts o;
	struct event_base *base;
	enum sim_role role;
	char host[64]; /* listen address as text, for Via/Contact/SDP */
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
	struct sim_media **media; /* media.c's table, by Call-ID */
	unsigned media_count;
	struct sim_stats stats;
	int exit_code;
};

/* net.c */
int sim_net_start(struct sim *s);
void sim_net_stop(struct sim *s);
/* Sends to a peer: UDP datagram from the listen socket, or over TCP on the
 * peer's connection (else one to peer->addr, reused when open, opened from the
 * listen address). Drops what the role forbids (dead: all; backup: requests).
 * Returns 0 or -1. */
int sim_net_send(struct sim *s, struct sim_peer *peer, const char *buf, size_t len);
int sim_addr_parse(const char *hostport, struct sockaddr_storage *ss, socklen_t *len);
bool sim_addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b);
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

/* uac.c: a batch of calls (INVITE, 2xx, ACK, hold, BYE) to one AOR. */
struct sim_call_req {
	const char *aor;
	unsigned count, hold_ms, rate; /* rate 0: one call after the other */
	struct sim_peer via;	       /* where the requests go (the proxy) */
	bool exit_when_done;	       /* --call: the process ends with the batch */
};
int sim_uac_place(struct sim *s, const struct sim_call_req *req);
void sim_uac_response(struct sim *s, const struct sim_peer *peer, struct sip_msg *m);
/* A BYE from the far end of one of our calls: the call ends (well). */
void sim_uac_remote_bye(struct sim *s, struct str call_id);
/* The member stopped being active: its calls end now, failed, without a BYE. */
void sim_uac_abort(struct sim *s);
unsigned sim_uac_active(const struct sim *s);
void sim_uac_free(struct sim *s);

/* sdp.c: RFC 3264. Both return the body's length, 0 when it does not fit; the
 * answer also returns 0 when the offer has no audio stream we can take. */
size_t sim_sdp_offer(const struct sim *s, uint16_t port, unsigned version, char *out, size_t cap);
size_t sim_sdp_answer(const struct sim *s, struct str offer, uint16_t port, unsigned version,
		      char *out, size_t cap);

/* media.c: one RTP echo socket (and an RTCP sink next to it) per call, on the
 * listen address; keyed by Call-ID and side (a call we placed or answered). */
struct sim_media *sim_media_find(struct sim *s, struct str call_id, bool uac);
/* The call's session, opened when there is none (NULL: no socket left). */
struct sim_media *sim_media_get(struct sim *s, struct str call_id, bool uac);
uint16_t sim_media_port(const struct sim_media *m);
unsigned sim_media_next_version(struct sim_media *m);
void sim_media_touch(struct sim_media *m);
void sim_media_close(struct sim *s, struct str call_id, bool uac);
void sim_media_sweep(struct sim *s, bool all);

/* control.c */
const char *sim_role_name(enum sim_role r);
int sim_role_parse(const char *name, enum sim_role *out);
void sim_role_set(struct sim *s, enum sim_role r);
int sim_control_start(struct sim *s);
void sim_control_stop(struct sim *s);
/* Runs one command line (modified in place); the one-line reply goes to out. */
void sim_control_exec(struct sim *s, char *line, char *out, size_t cap);

/* ctl.c: `sipsim ctl HOST:PORT COMMAND...` (argv after "ctl"). */
int sim_ctl_main(int argc, char **argv);

/* One key=value line per message with --verbose. */
void sim_log_msg(const struct sim *s, const char *dir, const struct sim_peer *peer, const char *buf,
		 size_t len);

#endif
