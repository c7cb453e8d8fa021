/* proxy_harness.h — the whole proxy (app/app.c: cluster, proxy core,
 * registrar, store) on the capture transport and a virtual clock, for the
 * proxy's unit tests and the whole-proxy fuzzer. Packets are injected as if
 * received from a given address; everything the proxy sends is kept, parsed,
 * in order; time moves only when the test says, and due timers then fire.
 *
 * The cluster it runs (proxy_harness.c, harness_groups): the proxy on 127.0.0.1:5060 and
 * [::1]:5060 (UDP, TCP); SIP Server "s1" 127.0.0.3:5090 with backup
 * 127.0.0.4:5090 (UDP); peer proxy 127.0.0.6:5060; SBC 127.0.0.7; served
 * domain sipproxy.test. Everyone else is an untrusted endpoint. */
#ifndef SIPPROXY_TESTS_PROXY_HARNESS_H
#define SIPPROXY_TESTS_PROXY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"
#include "transport/transport.h"

#define HARNESS_PROXY  "127.0.0.1:5060"
#define HARNESS_SERVER "127.0.0.3:5090"
#define HARNESS_BACKUP "127.0.0.4:5090"
#define HARNESS_PEER   "127.0.0.6:5060"
#define HARNESS_SBC    "127.0.0.7"

/* One message the proxy sent. */
struct harness_out {
	struct tp_dest dest;
	uint64_t conn_id; /* stream used, 0 for UDP */
	char *buf;	  /* NUL-terminated copy */
	size_t len;
	struct sip_msg *msg; /* parsed (NULL if it does not parse) */
};

struct harness;

/* extra: libconfig text added to the base (may be NULL); a top-level group
 * it sets replaces the base's. NULL when the config is refused (printed). */
struct harness *harness_new(const char *extra);
void harness_free(struct harness *h);

/* "ip:port" / "[v6]:port" -> address; aborts on a bad literal (tests only). */
union tp_sockaddr harness_addr(const char *hostport);

/* A datagram from src. */
void harness_udp(struct harness *h, const char *src, const char *msg);
void harness_udp_raw(struct harness *h, const union tp_sockaddr *src, const char *buf, size_t len);
/* A stream connection from src (returns its id), a message on it, its close. */
uint64_t harness_tcp_open(struct harness *h, const char *src);
uint64_t harness_tcp_open_addr(struct harness *h, const union tp_sockaddr *src);
void harness_tcp(struct harness *h, uint64_t conn, const char *msg);
void harness_tcp_raw(struct harness *h, uint64_t conn, const char *buf, size_t len);
void harness_tcp_close(struct harness *h, uint64_t conn);

/* Moves the virtual clock and fires what is due. */
void harness_advance(struct harness *h, uint64_t ms);
/* Runs, without blocking, what the event loop has ready: the resolver's
 * sockets (a name server on loopback answering, dns_stub.h), its real-time
 * timeout, the once-a-second maintenance. */
void harness_poll(struct harness *h);
uint64_t harness_now(const struct harness *h);

/* What was sent, oldest first; harness_clear forgets it. */
size_t harness_count(const struct harness *h);
const struct harness_out *harness_out(const struct harness *h, size_t i);
void harness_clear(struct harness *h);
/* The last message sent whose start line begins with prefix ("SIP/2.0 200",
 * "INVITE "), optionally only those to dest ("ip:port", NULL = any); NULL if none. */
const struct harness_out *harness_find(const struct harness *h, const char *prefix,
				       const char *dest);
/* How many sent messages start with prefix (and went to dest, NULL = any). */
size_t harness_count_of(const struct harness *h, const char *prefix, const char *dest);
/* Was anything sent to an address other than those listed (NULL-terminated
 * "ip" strings, any port)? Returns the first such message. */
const struct harness_out *harness_sent_elsewhere(const struct harness *h,
						 const char *const *allowed_ips);

/* Answers a request the proxy sent (out) the way its recipient would: the
 * response carries out's Via/From/To/Call-ID/CSeq, a To tag for a final,
 * extra header lines (may be NULL) and comes back from out's destination
 * (over its connection when out went over one). */
void harness_reply(struct harness *h, const struct harness_out *out, int status, const char *extra);

/* The other end of the dialog out set up sends an in-dialog request (RFC
 * 3261 §12.2.1.1) from out's destination, over its connection when out went
 * over one: for a request the proxy sent, its recipient (the callee: Route =
 * the Record-Route values in order, From = out's To with a tag); for a
 * response, the caller it went to (Route = the Record-Route values reversed).
 * The Request-URI is out's Contact (else the peer's From/To URI). seq makes
 * the branch and CSeq unique; ACK keeps out's CSeq number. */
size_t harness_dialog_request(const struct harness_out *out, const char *method, unsigned seq,
			      char *buf, size_t cap);
void harness_dialog(struct harness *h, const struct harness_out *out, const char *method,
		    unsigned seq);

struct app;
struct app *harness_app(struct harness *h);
struct proxy_stats;
void harness_stats(struct harness *h, struct proxy_stats *out);

#endif
