/* test_stun.c — STUN keep-alives on the SIP UDP port (RFC 5626 §8, RFC 5389):
 * real Binding requests over loopback (IPv4 and IPv6, with and without
 * FINGERPRINT) are answered from the listener with XOR-MAPPED-ADDRESS, and never
 * reach SIP; malformed STUN is dropped and counted; SIP and CRLF datagrams go up
 * as before; CRC-32 / FINGERPRINT / XOR-MAPPED-ADDRESS against RFC 5769 vectors.
 * Listeners use port 0. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <cmocka.h>

#include "../unit_config.h"
#include "frame_fallback.h"
#include "transport/stun.h"
#include "transport/transport.h"

#define COOKIE 0x2112A442u

/* RFC 5769 §2.1 sample request: SOFTWARE, PRIORITY, ICE-CONTROLLED, USERNAME,
 * MESSAGE-INTEGRITY, FINGERPRINT 0xe57a3bcf. */
static const uint8_t rfc5769_request[108] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2 sample IPv4 response (mapped address 192.0.2.1:32853),
 * FINGERPRINT 0xc07d4c96 over its first 72 bytes. */
static const uint8_t rfc5769_response4[80] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

struct fx {
	struct event_base *base;
	struct tp *tp;
	unsigned sip;	    /* SIP receive callbacks */
	unsigned want_sip;  /* run_until_sip's target */
	char last_sip[128]; /* the last one, NUL-terminated */
	int cfd;	    /* client socket */
	union tp_sockaddr me, to;
	uint8_t rsp[512];
	ssize_t rsp_len; /* what came back to the client socket */
	bool replied;
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static const uint8_t *txid_of(const uint8_t *msg)
{
	return msg + 8;
}

static void on_recv(void *arg, const struct tp_packet *p)
{
	struct fx *f = arg;
	size_t l = p->len < sizeof(f->last_sip) ? p->len : sizeof(f->last_sip) - 1;
	memcpy(f->last_sip, p->buf, l);
	f->last_sip[l] = 0;
	f->sip++;
}

static void on_client(evutil_socket_t fd, short w, void *arg)
{
	struct fx *f = arg;
	f->rsp_len = recv(fd, f->rsp, sizeof(f->rsp), MSG_DONTWAIT);
	f->replied = true;
}

static void on_guard(evutil_socket_t fd, short w, void *arg)
{
	event_base_loopbreak(arg);
}

/* Runs the loop until done(f) (a guard stops a broken test from hanging). */
static void run_until(struct fx *f, bool (*done)(const struct fx *f))
{
	struct event *g = evtimer_new(f->base, on_guard, f->base);
	struct timeval tv = {10, 0};
	evtimer_add(g, &tv);
	while (!done(f) && !event_base_got_break(f->base))
		event_base_loop(f->base, EVLOOP_ONCE);
	event_free(g);
}

static bool replied(const struct fx *f)
{
	return f->replied;
}

static bool sip_reached(const struct fx *f)
{
	return f->sip >= f->want_sip;
}

static void run_until_sip(struct fx *f, unsigned n)
{
	f->want_sip = n;
	run_until(f, sip_reached);
}

/* A proxy on ip port 0 and a client socket on ip; false if ip cannot be bound. */
static bool fx_open(struct fx *f, int fam, const char *ip)
{
	memset(f, 0, sizeof(*f));
	f->base = event_base_new();
	struct tp_config cfg = unit_tp_config(NULL);
	f->tp = tp_new(f->base, &cfg, on_recv, NULL, f);
	assert_non_null(f->tp);
	f->cfd = -1;
	if (tp_listen(f->tp, TP_UDP, ip, 0, NULL) < 0)
		return false;
	const struct tp_listener *l = tp_listener_for(f->tp, TP_UDP, fam);
	assert_non_null(l);
	assert_int_not_equal(l->port, 0);
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), l->port, &f->to), 0);
	f->cfd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->cfd >= 0);
	union tp_sockaddr a;
	assert_int_equal(tp_addr_from_ip(str_cstr(ip), 0, &a), 0);
	assert_int_equal(bind(f->cfd, &a.sa, tp_addr_len(&a)), 0);
	socklen_t sl = sizeof(f->me);
	assert_int_equal(getsockname(f->cfd, &f->me.sa, &sl), 0);
	return true;
}

static void fx_close(struct fx *f)
{
	if (f->cfd >= 0)
		close(f->cfd);
	tp_free(f->tp);
	event_base_free(f->base);
}

static void client_send(struct fx *f, const void *buf, size_t len)
{
	assert_int_equal(sendto(f->cfd, buf, len, 0, &f->to.sa, tp_addr_len(&f->to)), (ssize_t)len);
}

static struct tp_stats stats(const struct fx *f)
{
	struct tp_stats st;
	tp_get_stats(f->tp, &st);
	return st;
}

/* A Binding request with transaction id txid: a SOFTWARE attribute of 7 bytes
 * (padded to 8, comprehension-optional) and optionally FINGERPRINT. */
static size_t binding_request(uint8_t *out, const uint8_t txid[12], bool fingerprint)
{
	put16(out, 0x0001);
	put32(out + 4, COOKIE);
	memcpy(out + 8, txid, 12);
	size_t off = 20;
	put16(out + off, 0x8022);
	put16(out + off + 2, 7);
	memcpy(out + off + 4, "sipkeep\0", 8);
	off += 12;
	if (fingerprint) {
		put16(out + 2, (uint16_t)(off + 8 - 20));
		put16(out + off, 0x8028);
		put16(out + off + 2, 4);
		put32(out + off + 4, tp_stun_crc32(out, off) ^ 0x5354554eu);
		off += 8;
	} else {
		put16(out + 2, (uint16_t)(off - 20));
	}
	return off;
}

/* Checks a Binding success response (RFC 5389 §7.3.1): type, cookie, length,
 * transaction id, XOR-MAPPED-ADDRESS == who (§15.2), FINGERPRINT iff wanted
 * and valid (§15.5). Decoded independently of stun.c. */
static void check_response(const uint8_t *r, size_t len, const uint8_t txid[12],
			   const union tp_sockaddr *who, bool want_fingerprint)
{
	assert_true(len >= 20);
	assert_int_equal(get16(r), 0x0101);
	assert_int_equal(get16(r + 2), len - 20);
	assert_int_equal(get32(r + 4), COOKIE);
	assert_memory_equal(r + 8, txid, 12);
	uint8_t key[16];
	put32(key, COOKIE);
	memcpy(key + 4, txid, 12);
	bool mapped = false, fingerprint = false;
	for (size_t off = 20; off < len;) {
		assert_true(len - off >= 4);
		uint16_t type = get16(r + off), alen = get16(r + off + 2);
		assert_true(off + 4 + alen <= len);
		const uint8_t *v = r + off + 4;
		if (type == 0x0020) {
			uint16_t port = get16(v + 2) ^ (uint16_t)(COOKIE >> 16);
			assert_int_equal(port, tp_addr_port(who));
			if (who->sa.sa_family == AF_INET) {
				assert_int_equal(alen, 8);
				assert_int_equal(v[1], 0x01);
				uint8_t ip[4];
				for (int i = 0; i < 4; i++)
					ip[i] = v[4 + i] ^ key[i];
				assert_memory_equal(ip, &who->in4.sin_addr, 4);
			} else {
				assert_int_equal(alen, 20);
				assert_int_equal(v[1], 0x02);
				uint8_t ip[16];
				for (int i = 0; i < 16; i++)
					ip[i] = v[4 + i] ^ key[i];
				assert_memory_equal(ip, &who->in6.sin6_addr, 16);
			}
			mapped = true;
		} else if (type == 0x8028) {
			assert_int_equal(alen, 4);
			assert_int_equal(off + 8, len); /* last */
			assert_int_equal(get32(v), tp_stun_crc32(r, off) ^ 0x5354554eu);
			fingerprint = true;
		}
		off += 4 + (((size_t)alen + 3) & ~(size_t)3);
	}
	assert_true(mapped);
	assert_int_equal(fingerprint, want_fingerprint);
}

/* Sends one Binding request and waits for the answer on the client socket. */
static void binding_roundtrip(struct fx *f, uint8_t txid0, bool fingerprint)
{
	uint8_t txid[12], req[64];
	for (int i = 0; i < 12; i++)
		txid[i] = (uint8_t)(txid0 + i * 17);
	size_t n = binding_request(req, txid, fingerprint);
	bool ok;
	assert_true(tp_stun_is_request((const char *)req, n, &ok));
	assert_int_equal(ok, fingerprint);
	struct event *ev = event_new(f->base, f->cfd, EV_READ, on_client, f);
	event_add(ev, NULL);
	f->replied = false;
	client_send(f, req, n);
	run_until(f, replied);
	event_free(ev);
	assert_true(f->replied);
	assert_true(f->rsp_len > 0);
	check_response(f->rsp, (size_t)f->rsp_len, txid, &f->me, fingerprint);
}

static void keepalive(int fam, const char *ip)
{
	struct fx f;
	if (!fx_open(&f, fam, ip)) {
		assert_int_equal(fam, AF_INET6); /* only ::1 may be missing */
		fx_close(&f);
		skip();
	}
	binding_roundtrip(&f, 0x11, false);
	binding_roundtrip(&f, 0x42, true);
	struct tp_stats st = stats(&f);
	assert_int_equal(st.stun_responses, 2);
	assert_int_equal(st.stun_dropped, 0);
	/* answered inside the transport: SIP saw nothing, counted nothing */
	assert_int_equal(f.sip, 0);
	assert_int_equal(st.udp_rx, 0);
	fx_close(&f);
}

/* RFC 5626 §8 / RFC 5389 §7.3.1 over IPv4 */
static void test_stun_binding_ipv4(void **state)
{
	keepalive(AF_INET, "127.0.0.1");
}

/* RFC 5626 §8 over IPv6: XOR with cookie and transaction id (RFC 5389 §15.2) */
static void test_stun_binding_ipv6(void **state)
{
	keepalive(AF_INET6, "::1");
}

/* RFC 5389 §7.3: everything STUN-shaped that is not a valid Binding request is
 * dropped without an answer, counted, and never handed to the SIP parser. A
 * SIP OPTIONS sent last still arrives, and proves the others were processed. */
static void test_stun_malformed_dropped(void **state)
{
	struct fx f;
	assert_true(fx_open(&f, AF_INET, "127.0.0.1"));
	uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	uint8_t good[64], m[64];
	size_t n = binding_request(good, txid, true);
	unsigned sent = 0;

	/* length field is not datagram length - 20 */
	memcpy(m, good, n);
	put16(m + 2, (uint16_t)(n - 20 + 4));
	client_send(&f, m, n);
	sent++;
	/* length not a multiple of 4 (RFC 5389 §6) */
	memcpy(m, good, 20);
	put16(m + 2, 2);
	m[20] = m[21] = 0;
	client_send(&f, m, 22);
	sent++;
	/* wrong magic cookie, top bits still zero */
	memcpy(m, good, n);
	put32(m + 4, COOKIE ^ 1);
	client_send(&f, m, n);
	sent++;
	/* truncated attribute: SOFTWARE claims 12 bytes, 4 present */
	memcpy(m, good, 20);
	put16(m + 2, 8);
	put16(m + 20, 0x8022);
	put16(m + 22, 12);
	memcpy(m + 24, "abcd", 4);
	client_send(&f, m, 28);
	sent++;
	/* Binding indication (0x0011): no answer (RFC 5389 §7.3.2) */
	memcpy(m, good, n);
	put16(m, 0x0011);
	client_send(&f, m, n);
	sent++;
	/* a request of another method (0x200: first byte 0x08, known by the
	 * cookie) is not Binding (RFC 5389 §7.3) */
	memcpy(m, good, n);
	put16(m, 0x0800);
	client_send(&f, m, n);
	sent++;
	/* a success response sent to us (RFC 5389 §7.3.3: not ours to answer) */
	memcpy(m, good, n);
	put16(m, 0x0101);
	client_send(&f, m, n);
	sent++;
	/* FINGERPRINT that does not verify (RFC 5389 §15.5) */
	memcpy(m, good, n);
	m[n - 1] ^= 0xff;
	client_send(&f, m, n);
	sent++;
	/* unknown comprehension-required attribute (RFC 5389 §7.3.1): the RFC 5769
	 * sample request, whose ICE PRIORITY (0x0024) this usage does not know */
	client_send(&f, rfc5769_request, sizeof(rfc5769_request));
	sent++;
	/* a 20-byte header of zeros: top bits zero, no cookie */
	memset(m, 0, 20);
	client_send(&f, m, 20);
	sent++;

	const char opt[] = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	client_send(&f, opt, sizeof(opt) - 1);
	run_until_sip(&f, 1);
	assert_int_equal(f.sip, 1);
	assert_string_equal(f.last_sip, opt);
	struct tp_stats st = stats(&f);
	assert_int_equal(st.stun_dropped, sent);
	assert_int_equal(st.stun_responses, 0);
	assert_int_equal(st.udp_rx, 1);
	/* loopback delivers synchronously: an answer would be queued by now */
	char buf[64];
	assert_int_equal(recv(f.cfd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	fx_close(&f);
}

/* Not STUN-shaped, so still SIP's as before: a CRLF keep-alive (RFC 5626
 * §3.5.1), a datagram shorter than a STUN header, SIP requests, among them
 * methods whose first character has the top bits zero (RFC 4475 §3.1.1.2). */
static void test_stun_not_stun_goes_to_sip(void **state)
{
	struct fx f;
	assert_true(fx_open(&f, AF_INET, "127.0.0.1"));
	client_send(&f, "\r\n\r\n", 4);
	run_until_sip(&f, 1);
	assert_string_equal(f.last_sip, "\r\n\r\n");
	const char crlfs[] = "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n";
	client_send(&f, crlfs, sizeof(crlfs) - 1);
	run_until_sip(&f, 2);
	assert_string_equal(f.last_sip, crlfs);
	uint8_t zeros[10] = {0};
	client_send(&f, zeros, sizeof(zeros));
	run_until_sip(&f, 3);
	const char opt[] = "OPTIONS sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	client_send(&f, opt, sizeof(opt) - 1);
	run_until_sip(&f, 4);
	assert_string_equal(f.last_sip, opt);
	const char odd[] = "!interesting-Method0123456789_*+`.%indeed'~ sip:x SIP/2.0\r\n\r\n";
	client_send(&f, odd, sizeof(odd) - 1);
	run_until_sip(&f, 5);
	assert_string_equal(f.last_sip, odd);
	const char digit[] = "0DD sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
	client_send(&f, digit, sizeof(digit) - 1);
	run_until_sip(&f, 6);
	assert_string_equal(f.last_sip, digit);
	struct tp_stats st = stats(&f);
	assert_int_equal(st.udp_rx, 6);
	assert_int_equal(st.stun_dropped, 0);
	assert_int_equal(st.stun_responses, 0);
	fx_close(&f);
}

/* The CRC-32 of zlib / IEEE 802.3, and RFC 5389 §15.5 FINGERPRINT on the RFC
 * 5769 §2.1 request and §2.2 response. */
static void test_stun_crc32_known_answers(void **state)
{
	assert_int_equal(tp_stun_crc32("123456789", 9), 0xCBF43926u);
	assert_int_equal(tp_stun_crc32("", 0), 0);
	assert_int_equal(tp_stun_crc32(rfc5769_request, 100) ^ 0x5354554eu, 0xe57a3bcfu);
	assert_int_equal(tp_stun_crc32(rfc5769_response4, 72) ^ 0x5354554eu, 0xc07d4c96u);
	/* the sample request is well-formed up to its ICE attribute: with PRIORITY
	 * renamed to a comprehension-optional type it is accepted, FINGERPRINT
	 * and all — after the FINGERPRINT is recomputed over the change */
	uint8_t r[sizeof(rfc5769_request)];
	memcpy(r, rfc5769_request, sizeof(r));
	bool fp = false;
	assert_false(tp_stun_is_request((const char *)r, sizeof(r), &fp));
	put16(r + 40, 0x8024);
	put32(r + 104, tp_stun_crc32(r, 100) ^ 0x5354554eu);
	assert_true(tp_stun_is_request((const char *)r, sizeof(r), &fp));
	assert_true(fp);
	/* FINGERPRINT valid but not last (RFC 5389 §15.5) */
	uint8_t m[36] = {0x00, 0x01, 0x00, 0x10};
	put32(m + 4, COOKIE);
	memcpy(m + 8, txid_of(r), 12);
	put16(m + 20, 0x8028);
	put16(m + 22, 4);
	put32(m + 24, tp_stun_crc32(m, 20) ^ 0x5354554eu);
	put16(m + 28, 0x8022);
	put16(m + 30, 4);
	memcpy(m + 32, "abcd", 4);
	assert_false(tp_stun_is_request((const char *)m, sizeof(m), NULL));
	/* and the same without the trailing SOFTWARE is fine */
	put16(m + 2, 8);
	put32(m + 24, tp_stun_crc32(m, 20) ^ 0x5354554eu);
	assert_true(tp_stun_is_request((const char *)m, 28, &fp));
	assert_true(fp);
}

/* RFC 5389 §15.2 against RFC 5769 §2.2 (192.0.2.1:32853) and §2.3
 * (2001:db8:1234:5678:11:2233:4455:6677 port 32853). */
static void test_stun_xor_mapped_address_vectors(void **state)
{
	const uint8_t *txid = txid_of(rfc5769_request);
	union tp_sockaddr a;
	uint8_t out[TP_STUN_MAX_RESPONSE];
	assert_int_equal(tp_addr_from_ip(STR_LIT("192.0.2.1"), 32853, &a), 0);
	int n = tp_stun_response_build(txid, &a, false, out, sizeof(out));
	assert_int_equal(n, 32);
	static const uint8_t v4[] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
				     0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43};
	assert_memory_equal(out + 20, v4, sizeof(v4));
	check_response(out, (size_t)n, txid, &a, false);

	assert_int_equal(
	    tp_addr_from_ip(STR_LIT("2001:db8:1234:5678:11:2233:4455:6677"), 32853, &a), 0);
	n = tp_stun_response_build(txid, &a, true, out, sizeof(out));
	assert_int_equal(n, 52);
	static const uint8_t v6[] = {0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
				     0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
				     0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9};
	assert_memory_equal(out + 20, v6, sizeof(v6));
	check_response(out, (size_t)n, txid, &a, true);

	/* errors are values */
	assert_int_equal(tp_stun_response_build(txid, &a, true, out, 51), -ENOSPC);
	a.sa.sa_family = AF_UNIX;
	assert_int_equal(tp_stun_response_build(txid, &a, false, out, sizeof(out)), -EAFNOSUPPORT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stun_binding_ipv4),
	    cmocka_unit_test(test_stun_binding_ipv6),
	    cmocka_unit_test(test_stun_malformed_dropped),
	    cmocka_unit_test(test_stun_not_stun_goes_to_sip),
	    cmocka_unit_test(test_stun_crc32_known_answers),
	    cmocka_unit_test(test_stun_xor_mapped_address_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
