/* fuzz_proxy.c — libFuzzer entry for the whole proxy (proxy_harness.h: app,
 * cluster, proxy core, transactions, registrar, store on the capture transport
 * and a virtual clock): SEQUENCES of packets, replies, retransmissions, loops
 * and clock moves go through the real receive path, under ASan/UBSan, so that
 * lifecycle bugs (a context freed inside its own call chain) show up.
 *
 * Input: records, each an opcode byte (taken modulo 9) and its fields; lengths
 * are 2 bytes big-endian; a truncated record ends the input.
 *   0 PACKET     src tp len:2 bytes   bytes arrive from fz_sources[src % 10] over
 *                                     tp % 4: 0 UDP, 1..3 a TCP connection slot
 *                                     of that source (opened lazily)
 *   1 REPLY      k st:2 xlen:2 extra  the k-th most recent request the proxy sent
 *                                     (k modulo their number) is answered with
 *                                     100 + st % 600 and extra as header lines,
 *                                     from its destination (harness_reply)
 *   2 REPLY_FROM k src tp st:2 xlen:2 extra  the same, from a chosen source
 *                                     (RFC 3261 §18.1.2: the wrong host)
 *   3 ADVANCE    b                    the clock moves fz_steps[b % 7] and timers fire
 *   4 RESEND     -                    the previous PACKET again (retransmission)
 *   5 LOOP       k                    the k-th most recent message the proxy sent
 *                                     comes back to it from its destination
 *   6 CLOSE      a b                  b < 128: source a closes its slot b % 3;
 *                                     b >= 128: the peer of the a-th most recent
 *                                     stream message closes that connection
 *   7 DNS        m                    the queries waiting at the name server
 *                                     (dns_stub.h) are answered: m % 3 NXDOMAIN,
 *                                     SERVFAIL, or 127.0.0.30 / [::30]
 *   8 DIALOG     k m                  the other end of the dialog of the k-th most
 *                                     recent message sends fz_methods[m % 8] in
 *                                     it (harness_dialog: Route, flow tokens)
 * At the end DNS answers NXDOMAIN and the clock runs 10 minutes (timer by
 * timer); it traps unless every context and transaction is then gone and,
 * when no trusted source sent a request, everything went to the SIP Server
 * pair or back to an untrusted host that sent something (no open relay). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "dns_stub.h"
#include "proxy/stats.h"
#include "proxy_harness.h"
#include "sip/build.h"
#include "store/store.h"
#include "txn/txn.h"
#include "util/log.h"
#include "util/timer_wheel.h"

enum {
	FZ_PACKET,
	FZ_REPLY,
	FZ_REPLY_FROM,
	FZ_ADVANCE,
	FZ_RESEND,
	FZ_LOOP,
	FZ_CLOSE,
	FZ_DNS,
	FZ_DIALOG,
	FZ_OPS
};

#define FZ_SLOTS      3	      /* TCP connections per source */
#define FZ_EXTRA_MAX  8192    /* header text of a REPLY (harness_reply builds 16 KB) */
#define FZ_DRAIN_MS   600000u /* the end: long enough for Timer C (180 s) and 64*T1 */
#define FZ_MAX_SEEN   64
#define FZ_DNS_ROUNDS 8 /* NAPTR, SRV, A/AAAA: each answer may ask the next stage */

/* Who may send (see proxy_harness.h for the cluster); trusted by IP as the
 * cluster decides: the SIP Server pair, the peer proxy and the proxy's own
 * IPv4 address (h-proxy is a configured proxy). */
static const char *const fz_sources[] = {
    "127.0.0.3:5090",  /* 0 SIP Server s1 (trusted) */
    "127.0.0.4:5090",  /* 1 its backup (trusted) */
    "127.0.0.6:5060",  /* 2 peer proxy (trusted) */
    "127.0.0.7:5060",  /* 3 SBC: untrusted, its Path honoured */
    "127.0.0.20:5000", /* 4 endpoint */
    "127.0.0.21:5001", /* 5 endpoint */
    "[::2]:5002",      /* 6 endpoint over IPv6 */
    "127.0.0.1:5099",  /* 7 on the proxy's host: trusted, its IP is h-proxy's */
    "127.0.0.3:5070",  /* 8 the server's host, another port (trusted) */
    "[::1]:5004",      /* 9 the proxy's own IPv6 address, not in the cluster */
};
#define FZ_SOURCES (sizeof(fz_sources) / sizeof(fz_sources[0]))

static const char *const fz_trusted_ips[] = {"127.0.0.3", "127.0.0.4", "127.0.0.6", "127.0.0.1"};
/* Where an untrusted request may always lead: the SIP Server pair. */
static const char *const fz_server_ips[] = {"127.0.0.3", "127.0.0.4"};

static const uint32_t fz_steps[] = {10, 100, 500, 4000, 32000, 64000, 180000};
static const char *const fz_methods[] = {"BYE",	   "ACK",    "INVITE", "INFO",
					 "UPDATE", "NOTIFY", "PRACK",  "MESSAGE"};

struct fz {
	struct harness *h;
	struct dns_stub *dns;
	const uint8_t *p, *end;
	union tp_sockaddr addr[FZ_SOURCES];
	uint64_t slot[FZ_SOURCES][FZ_SLOTS];
	const uint8_t *last;  /* the previous PACKET record's fields, for RESEND */
	bool trusted_request; /* a trusted source sent a request: anything may follow */
	union tp_sockaddr seen[FZ_MAX_SEEN]; /* untrusted IPs that sent something */
	size_t n_seen;
	size_t checked;	  /* captured messages checked for the relay rule */
	unsigned dialogs; /* DIALOG requests so far (unique branch and CSeq) */
};

static struct tp *fz_tp(struct fz *f)
{
	return proxy_transport(app_proxy(harness_app(f->h)));
}

/* ---- reading records ---- */

static bool fz_take(struct fz *f, size_t n, const uint8_t **out)
{
	if ((size_t)(f->end - f->p) < n)
		return false;
	*out = f->p;
	f->p += n;
	return true;
}

static bool fz_u8(struct fz *f, unsigned *v)
{
	const uint8_t *b;
	if (!fz_take(f, 1, &b))
		return false;
	*v = b[0];
	return true;
}

static bool fz_u16(struct fz *f, unsigned *v)
{
	const uint8_t *b;
	if (!fz_take(f, 2, &b))
		return false;
	*v = (unsigned)b[0] << 8 | b[1];
	return true;
}

/* ---- the open-relay bookkeeping ---- */

static bool fz_ip_in(const union tp_sockaddr *a, const char *const *ips, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		union tp_sockaddr x;
		if (tp_addr_from_ip(str_cstr(ips[i]), 0, &x) == 0 && tp_addr_same_ip(&x, a))
			return true;
	}
	return false;
}

static bool fz_is_trusted(const union tp_sockaddr *a)
{
	return fz_ip_in(a, fz_trusted_ips, sizeof(fz_trusted_ips) / sizeof(fz_trusted_ips[0]));
}

/* Called before bytes arrive from a: a request (anything that does not start
 * as a response) from a trusted host lifts the relay rule for this input. */
static void fz_note_sender(struct fz *f, const union tp_sockaddr *a, const char *buf, size_t len)
{
	if (fz_is_trusted(a)) {
		if (len < 8 || memcmp(buf, "SIP/2.0 ", 8) != 0)
			f->trusted_request = true;
		return;
	}
	for (size_t i = 0; i < f->n_seen; i++)
		if (tp_addr_same_ip(&f->seen[i], a))
			return;
	if (f->n_seen < FZ_MAX_SEEN)
		f->seen[f->n_seen++] = *a;
}

static bool fz_may_reach(const struct fz *f, const union tp_sockaddr *a)
{
	if (fz_ip_in(a, fz_server_ips, sizeof(fz_server_ips) / sizeof(fz_server_ips[0])))
		return true;
	for (size_t i = 0; i < f->n_seen; i++)
		if (tp_addr_same_ip(&f->seen[i], a))
			return true;
	return false;
}

/* FUZZ_PROXY_VERBOSE=1: each message the proxy sent, its first line (to
 * read what a reproducer does). */
static void fz_trace(const struct harness_out *o, uint64_t now)
{
	static int verbose = -1;
	if (verbose < 0)
		verbose = getenv("FUZZ_PROXY_VERBOSE") != NULL;
	if (!verbose)
		return;
	char a[64];
	size_t line = o->buf ? strcspn(o->buf, "\r\n") : 0;
	fprintf(stderr, "fuzz_proxy: t=%llu out %s%s %.*s\n", (unsigned long long)now,
		o->conn_id ? "tcp:" : "", tp_addr_str(&o->dest.addr, a, sizeof(a)), (int)line,
		o->buf ? o->buf : "");
}

/* The open-relay property over what the proxy sent since the last check. */
static void fz_check_relay(struct fz *f)
{
	size_t n = harness_count(f->h);
	if (n < f->checked)
		f->checked = 0; /* the harness dropped its oldest half */
	for (size_t i = f->checked; i < n; i++) {
		const struct harness_out *o = harness_out(f->h, i);
		fz_trace(o, harness_now(f->h));
		if (f->trusted_request)
			continue;
		if (!fz_may_reach(f, &o->dest.addr)) {
			char a[64];
			fprintf(stderr,
				"fuzz_proxy: open relay: untrusted input sent to %s:\n%.*s\n",
				tp_addr_str(&o->dest.addr, a, sizeof(a)), (int)o->len, o->buf);
			__builtin_trap();
		}
	}
	f->checked = n;
}

/* ---- injecting ---- */

/* The connection of source src's slot, opened when it is not (or no longer). */
static uint64_t fz_slot_conn(struct fz *f, unsigned src, unsigned slot)
{
	uint64_t *c = &f->slot[src][slot];
	if (!*c || !tp_conn_alive(fz_tp(f), *c))
		*c = harness_tcp_open_addr(f->h, &f->addr[src]);
	return *c;
}

static void fz_send(struct fz *f, unsigned src, unsigned tp, const char *buf, size_t len)
{
	src %= FZ_SOURCES;
	tp %= FZ_SLOTS + 1;
	fz_note_sender(f, &f->addr[src], buf, len);
	if (tp == 0)
		harness_udp_raw(f->h, &f->addr[src], buf, len);
	else
		harness_tcp_raw(f->h, fz_slot_conn(f, src, tp - 1), buf, len);
}

static bool fz_packet(struct fz *f)
{
	const uint8_t *start = f->p, *buf;
	unsigned src, tp, len;
	if (!fz_u8(f, &src) || !fz_u8(f, &tp) || !fz_u16(f, &len) || !fz_take(f, len, &buf))
		return false;
	f->last = start;
	fz_send(f, src, tp, (const char *)buf, len);
	return true;
}

static bool fz_resend(struct fz *f)
{
	if (!f->last)
		return true;
	unsigned len = (unsigned)f->last[2] << 8 | f->last[3];
	fz_send(f, f->last[0], f->last[1], (const char *)f->last + 4, len);
	return true;
}

/* The k-th most recent captured message (requests only, or any). */
static const struct harness_out *fz_recent(struct fz *f, unsigned k, bool requests, bool streams)
{
	size_t n = harness_count(f->h), match = 0;
	for (size_t i = 0; i < n; i++) {
		const struct harness_out *o = harness_out(f->h, i);
		match += (!requests || (o->msg && o->msg->is_request)) && (!streams || o->conn_id);
	}
	if (!match)
		return NULL;
	size_t want = k % match;
	for (size_t i = n; i-- > 0;) {
		const struct harness_out *o = harness_out(f->h, i);
		if ((!requests || (o->msg && o->msg->is_request)) && (!streams || o->conn_id)) {
			if (want-- == 0)
				return o;
		}
	}
	return NULL;
}

/* A REPLY's status and extra header lines (NUL-terminated, CRLF-ended). */
static bool fz_reply_fields(struct fz *f, int *status, char *extra)
{
	unsigned st, xlen;
	const uint8_t *x;
	if (!fz_u16(f, &st) || !fz_u16(f, &xlen) || !fz_take(f, xlen, &x))
		return false;
	*status = 100 + (int)(st % 600);
	size_t n = xlen < FZ_EXTRA_MAX - 3 ? xlen : FZ_EXTRA_MAX - 3;
	memcpy(extra, x, n);
	if (n && (n < 2 || extra[n - 2] != '\r' || extra[n - 1] != '\n')) {
		extra[n++] = '\r';
		extra[n++] = '\n';
	}
	extra[n] = '\0';
	return true;
}

static bool fz_reply(struct fz *f, bool from_source)
{
	unsigned k, src = 0, tp = 0;
	int status;
	static char extra[FZ_EXTRA_MAX];
	if (!fz_u8(f, &k) || (from_source && (!fz_u8(f, &src) || !fz_u8(f, &tp))) ||
	    !fz_reply_fields(f, &status, extra))
		return false;
	const struct harness_out *o = fz_recent(f, k, true, false);
	if (!o)
		return true;
	if (!from_source) {
		fz_note_sender(f, &o->dest.addr, "SIP/2.0 ", 8);
		harness_reply(f->h, o, status, extra);
		return true;
	}
	static char buf[16384];
	size_t n = sip_build_response(o->msg, status, NULL, STR_LIT("h-uas-tag"), str_cstr(extra),
				      buf, sizeof(buf));
	if (n)
		fz_send(f, src, tp, buf, n);
	return true;
}

/* The proxy's own output back at it, from where it went (a loop through a
 * misconfigured or hostile peer, RFC 3261 §16.3 step 4 and §16.6 step 8). */
static bool fz_loop(struct fz *f)
{
	unsigned k;
	if (!fz_u8(f, &k))
		return false;
	const struct harness_out *o = fz_recent(f, k, false, false);
	if (!o || !o->buf || !o->len)
		return true;
	/* a copy: what the proxy sends in reply may push o out of the harness */
	char *buf = malloc(o->len);
	if (!buf)
		return true;
	memcpy(buf, o->buf, o->len);
	size_t len = o->len;
	union tp_sockaddr from = o->dest.addr;
	uint64_t conn = o->conn_id;
	fz_note_sender(f, &from, buf, len);
	if (conn && tp_conn_alive(fz_tp(f), conn))
		harness_tcp_raw(f->h, conn, buf, len);
	else
		harness_udp_raw(f->h, &from, buf, len);
	free(buf);
	return true;
}

static bool fz_dialog(struct fz *f)
{
	unsigned k, m;
	if (!fz_u8(f, &k) || !fz_u8(f, &m))
		return false;
	const struct harness_out *o = fz_recent(f, k, false, false);
	const char *method = fz_methods[m % (sizeof(fz_methods) / sizeof(fz_methods[0]))];
	char buf[16384];
	size_t n = harness_dialog_request(o, method, f->dialogs, buf, sizeof(buf));
	if (!n)
		return true;
	fz_note_sender(f, &o->dest.addr, buf, n);
	harness_dialog(f->h, o, method, f->dialogs++);
	return true;
}

static bool fz_close(struct fz *f)
{
	unsigned a, b;
	if (!fz_u8(f, &a) || !fz_u8(f, &b))
		return false;
	if (b < 128) {
		uint64_t *c = &f->slot[a % FZ_SOURCES][b % FZ_SLOTS];
		if (*c)
			harness_tcp_close(f->h, *c);
		*c = 0;
		return true;
	}
	const struct harness_out *o = fz_recent(f, a, false, true);
	if (o)
		harness_tcp_close(f->h, o->conn_id);
	return true;
}

static bool fz_advance(struct fz *f)
{
	unsigned b;
	if (!fz_u8(f, &b))
		return false;
	harness_advance(f->h, fz_steps[b % (sizeof(fz_steps) / sizeof(fz_steps[0]))]);
	return true;
}

/* The name server answers what waits, stage after stage, as told. */
static void fz_dns(struct fz *f, enum dns_stub_answer how)
{
	for (int i = 0; i < FZ_DNS_ROUNDS && dns_stub_answer(f->dns, how); i++)
		harness_poll(f->h);
	harness_poll(f->h);
}

static bool fz_dns_record(struct fz *f)
{
	unsigned m;
	if (!fz_u8(f, &m))
		return false;
	fz_dns(f, (enum dns_stub_answer)(m % DNS_STUB_ANSWERS));
	return true;
}

static bool fz_record(struct fz *f)
{
	unsigned op;
	if (!fz_u8(f, &op))
		return false;
	switch (op % FZ_OPS) {
	case FZ_PACKET: return fz_packet(f);
	case FZ_REPLY: return fz_reply(f, false);
	case FZ_REPLY_FROM: return fz_reply(f, true);
	case FZ_ADVANCE: return fz_advance(f);
	case FZ_RESEND: return fz_resend(f);
	case FZ_LOOP: return fz_loop(f);
	case FZ_CLOSE: return fz_close(f);
	case FZ_DNS: return fz_dns_record(f);
	default: return fz_dialog(f);
	}
}

/* ---- the end of an input ---- */

/* Ten minutes, from one due timer to the next, every lookup failing. */
static void fz_drain(struct fz *f)
{
	struct timer_wheel *w = txn_layer_timers(proxy_txn_layer(app_proxy(harness_app(f->h))));
	uint64_t left = FZ_DRAIN_MS;
	for (;;) {
		fz_dns(f, DNS_STUB_NXDOMAIN);
		fz_check_relay(f);
		uint64_t d = timer_wheel_next_delay(w);
		if (d == UINT64_MAX || left == 0)
			break;
		if (d < 10)
			d = 10;
		if (d > left)
			d = left;
		harness_advance(f->h, d);
		left -= d;
	}
}

static void fz_check_idle(struct fz *f)
{
	struct proxy_stats s;
	harness_stats(f->h, &s);
	if (s.contexts_active || s.txn_server_active || s.txn_client_active) {
		fprintf(stderr,
			"fuzz_proxy: still active 10 min after the last input: contexts=%zu "
			"server txns=%zu client txns=%zu\n",
			s.contexts_active, s.txn_server_active, s.txn_client_active);
		__builtin_trap();
	}
}

/* Every connection still open (the sources' slots, and any the proxy used)
 * is closed by its peer, the effects run out, and the bindings of this input
 * expire: the next input starts from the same state. */
static void fz_reset(struct fz *f)
{
	for (size_t i = 0; i < FZ_SOURCES; i++)
		for (size_t k = 0; k < FZ_SLOTS; k++)
			if (f->slot[i][k])
				harness_tcp_close(f->h, f->slot[i][k]);
	for (size_t i = 0; i < harness_count(f->h); i++)
		if (harness_out(f->h, i)->conn_id)
			harness_tcp_close(f->h, harness_out(f->h, i)->conn_id);
	fz_drain(f);
	fz_check_idle(f);
	store_expire(app_store(harness_app(f->h)), INT64_MAX);
	harness_clear(f->h);
}

/* One harness for the process: building the app costs ~8 ms under ASan, the
 * records of a typical input a fraction of that (fz_reset makes inputs
 * independent). DNS answers only when told; a lookup must never wait for a
 * real-time timeout (60 s is beyond libFuzzer's -timeout); no DNS cache, so
 * that one input's answers do not change how the next one resolves. */
static struct harness *fz_harness(struct dns_stub **dns)
{
	static struct harness *h;
	static struct dns_stub *stub;
	if (!h) {
		char conf[256];
		stub = dns_stub_new();
		if (!stub)
			__builtin_trap();
		snprintf(conf, sizeof(conf),
			 "dns = { servers = \"127.0.0.1:%u\"; timeout = 60000; tries = 1;"
			 " cache-size = 0; };\n",
			 dns_stub_port(stub));
		h = harness_new(conf);
		if (!h)
			__builtin_trap();
	}
	*dns = stub;
	return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz f;
	memset(&f, 0, sizeof(f));
	f.h = fz_harness(&f.dns);
	dns_stub_flush(f.dns);
	for (size_t i = 0; i < FZ_SOURCES; i++)
		f.addr[i] = harness_addr(fz_sources[i]);
	f.p = data;
	f.end = data + size;
	while (fz_record(&f))
		fz_check_relay(&f);
	fz_drain(&f);
	fz_check_idle(&f);
	fz_reset(&f);
	return 0;
}
