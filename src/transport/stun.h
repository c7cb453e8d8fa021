/* stun.h — what udp.c asks of stun.c: the STUN keep-alive usage of RFC 5626 §8
 * (Binding requests from outbound clients on the SIP UDP port, RFC 5389) is
 * recognised, answered or dropped inside the transport and never reaches SIP.
 * Internal to src/transport/ (and its unit test). */
#ifndef SIPPROXY_TRANSPORT_STUN_H
#define SIPPROXY_TRANSPORT_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/transport.h"

#define TP_STUN_HEADER	     20 /* RFC 5389 §6: type, length, cookie, transaction id */
#define TP_STUN_COOKIE	     0x2112A442u
#define TP_STUN_MAX_RESPONSE 64 /* header + XOR-MAPPED-ADDRESS (v6) + FINGERPRINT = 52 */

struct tp;

/* The demultiplexing test of the UDP hot path (RFC 5626 §8, RFC 5389 §6): at
 * least a STUN header, and either a first byte of 0-3 (RFC 7983 §7: every
 * Binding message and every method below 0x080) or the two zero bits plus the
 * magic cookie at bytes 4-7. A SIP message never matches: its first byte is
 * a token character (RFC 3261 §25.1), all >= 0x21 -- but '!', '%', digits...
 * have the top bits zero too (the RFC 4475 §3.1.1.2 method), hence the cookie,
 * whose 0x12 and 0xA4 cannot occur in a start line. CRLF keep-alives (RFC 5626
 * §3.5.1) go to SIP as before. For SIP traffic: two or three compares. */
static inline bool tp_stun_shaped(const char *buf, size_t len)
{
	const unsigned char *b = (const unsigned char *)buf;
	if (len < TP_STUN_HEADER || (b[0] & 0xC0) != 0)
		return false;
	return b[0] <= 3 || (b[4] == 0x21 && b[5] == 0x12 && b[6] == 0xA4 && b[7] == 0x42);
}

/* Is buf a well-formed Binding request we answer (RFC 5389 §7.3)? Checks the
 * type (0x0001), the magic cookie, the length field against the datagram, and
 * walks the attributes bounds-checked: an unknown comprehension-required one
 * or a FINGERPRINT that is not last or does not verify makes it false.
 * *fingerprint (may be NULL) says whether the request carried a FINGERPRINT. */
bool tp_stun_is_request(const char *buf, size_t len, bool *fingerprint);

/* Builds the Binding success response (type 0x0101, RFC 5389 §7.3.1) to the
 * request whose transaction id is txid (12 bytes): XOR-MAPPED-ADDRESS of src
 * (§15.2), then FINGERPRINT (§15.5) if fingerprint. Returns its length, or
 * -EAFNOSUPPORT for a source that is neither IPv4 nor IPv6, -ENOSPC if cap is
 * too small. */
int tp_stun_response_build(const uint8_t *txid, const union tp_sockaddr *src, bool fingerprint,
			   uint8_t *out, size_t cap);

/* Answers the Binding request buf (from src, arrived on UDP socket fd) from
 * the same socket, or drops it silently; counts either in tp->stats. Only for
 * datagrams tp_stun_shaped() accepted: they never go to the SIP layer. */
void tp_stun_answer(struct tp *tp, int fd, const char *buf, size_t len,
		    const union tp_sockaddr *src);

/* CRC-32 as in IEEE 802.3 and zlib's crc32() (RFC 5389 §15.5 uses it). */
uint32_t tp_stun_crc32(const void *buf, size_t len);

#endif
