/* stun.c — the STUN keep-alive usage on the SIP UDP port (RFC 5626 §8): Binding
 * requests (RFC 5389 §6, §7.3) are checked bounds-safe and answered with a
 * Binding success response carrying XOR-MAPPED-ADDRESS (§15.2) and, when the
 * request had one, FINGERPRINT (§15.5), sent from the socket they arrived on.
 * Everything else STUN-shaped is dropped silently and counted. */
#include "transport/stun.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "transport/transport_internal.h"
#include "util/log.h"

#define STUN_BINDING_REQUEST  0x0001 /* §6: method Binding, class request */
#define STUN_BINDING_SUCCESS  0x0101 /* §6: method Binding, class success response */
#define STUN_ATTR_MAPPED      0x0001
#define STUN_ATTR_USERNAME    0x0006
#define STUN_ATTR_INTEGRITY   0x0008
#define STUN_ATTR_ERROR_CODE  0x0009
#define STUN_ATTR_UNKNOWN     0x000A
#define STUN_ATTR_REALM	      0x0014
#define STUN_ATTR_NONCE	      0x0015
#define STUN_ATTR_XOR_MAPPED  0x0020
#define STUN_ATTR_FINGERPRINT 0x8028
#define STUN_FINGERPRINT_XOR  0x5354554eu /* §15.5: "STUN" */
#define STUN_FAMILY_IPV4      0x01
#define STUN_FAMILY_IPV6      0x02

static uint16_t stun_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t stun_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void stun_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void stun_put32(uint8_t *p, uint32_t v)
{
	stun_put16(p, (uint16_t)(v >> 16));
	stun_put16(p + 2, (uint16_t)v);
}

/* Reflected CRC-32, polynomial 0x04C11DB7 (0xEDB88320 reversed), initial and
 * final XOR 0xFFFFFFFF: zlib's crc32(). Bitwise: keep-alives are small and
 * rare next to SIP, a table would buy nothing. */
uint32_t tp_stun_crc32(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = 0xFFFFFFFFu;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return crc ^ 0xFFFFFFFFu;
}

/* RFC 5389 §18.2: the comprehension-required attributes STUN itself defines.
 * This usage gives none of them a meaning in a request (RFC 5626 §8: the
 * keep-alive needs no attributes and no authentication), so "understood"
 * here means "safe to ignore". */
static bool stun_attr_known(uint16_t type)
{
	switch (type) {
	case STUN_ATTR_MAPPED:
	case STUN_ATTR_USERNAME:
	case STUN_ATTR_INTEGRITY:
	case STUN_ATTR_ERROR_CODE:
	case STUN_ATTR_UNKNOWN:
	case STUN_ATTR_REALM:
	case STUN_ATTR_NONCE:
	case STUN_ATTR_XOR_MAPPED: return true;
	default: return false;
	}
}

bool tp_stun_is_request(const char *buf, size_t len, bool *fingerprint)
{
	const uint8_t *b = (const uint8_t *)buf;
	if (fingerprint)
		*fingerprint = false;
	/* §6: two zero bits, then the type; the length counts the attributes
	 * only, which are 4-byte aligned; then the magic cookie (§7.3). */
	if (len < TP_STUN_HEADER || (b[0] & 0xC0) != 0)
		return false;
	size_t mlen = stun_get16(b + 2);
	if (mlen != len - TP_STUN_HEADER || mlen % 4 != 0)
		return false;
	if (stun_get32(b + 4) != TP_STUN_COOKIE)
		return false;
	/* Indications and responses get no answer (§7.3.2, §7.3.3); nor does
	 * any method but Binding (§7.3: "the method is supported"). */
	if (stun_get16(b) != STUN_BINDING_REQUEST)
		return false;

	bool after_integrity = false;
	size_t off = TP_STUN_HEADER;
	while (off < len) {
		if (len - off < 4)
			return false;
		uint16_t type = stun_get16(b + off);
		size_t alen = stun_get16(b + off + 2);
		size_t padded = (alen + 3) & ~(size_t)3; /* §15: values padded to 4 */
		if (padded > len - off - 4)
			return false; /* truncated attribute */
		if (type == STUN_ATTR_FINGERPRINT) {
			/* §15.5: the last attribute; CRC-32 of the message before it
			 * (whose length field already counts it), XOR 0x5354554e. */
			if (alen != 4 || off + 8 != len)
				return false;
			if (stun_get32(b + off + 4) !=
			    (tp_stun_crc32(b, off) ^ STUN_FINGERPRINT_XOR))
				return false;
			if (fingerprint)
				*fingerprint = true;
			return true;
		}
		/* §7.3.1: an unknown comprehension-required attribute (0x0000-0x7FFF)
		 * calls for a 420 listing it. We drop instead: a keep-alive client
		 * (RFC 5626 §8) sends none, so the request is not for this usage, and
		 * silence gives a spoofed source nothing to reflect. §15.4: what
		 * follows MESSAGE-INTEGRITY, FINGERPRINT excepted, is ignored. */
		if (type < 0x8000 && !after_integrity && !stun_attr_known(type))
			return false;
		if (type == STUN_ATTR_INTEGRITY)
			after_integrity = true;
		off += 4 + padded;
	}
	return true;
}

int tp_stun_response_build(const uint8_t *txid, const union tp_sockaddr *src, bool fingerprint,
			   uint8_t *out, size_t cap)
{
	/* §15.2: the port is XORed with the cookie's top half, an IPv4 address
	 * with the cookie, an IPv6 address with the cookie and transaction id. */
	uint8_t key[16];
	stun_put32(key, TP_STUN_COOKIE);
	memcpy(key + 4, txid, 12);
	const uint8_t *addr;
	size_t alen;
	uint8_t family;
	if (src->sa.sa_family == AF_INET) {
		addr = (const uint8_t *)&src->in4.sin_addr;
		alen = 4;
		family = STUN_FAMILY_IPV4;
	} else if (src->sa.sa_family == AF_INET6) {
		addr = (const uint8_t *)&src->in6.sin6_addr;
		alen = 16;
		family = STUN_FAMILY_IPV6;
	} else {
		return -EAFNOSUPPORT;
	}
	size_t len = TP_STUN_HEADER + 4 + 4 + alen + (fingerprint ? 8 : 0);
	if (cap < len)
		return -ENOSPC;

	stun_put16(out, STUN_BINDING_SUCCESS);
	stun_put16(out + 2, (uint16_t)(len - TP_STUN_HEADER));
	stun_put32(out + 4, TP_STUN_COOKIE);
	memcpy(out + 8, txid, 12); /* §7.3.1: the request's transaction id */
	uint8_t *a = out + TP_STUN_HEADER;
	stun_put16(a, STUN_ATTR_XOR_MAPPED);
	stun_put16(a + 2, (uint16_t)(4 + alen));
	a[4] = 0;
	a[5] = family;
	stun_put16(a + 6, (uint16_t)(tp_addr_port(src) ^ (TP_STUN_COOKIE >> 16)));
	for (size_t i = 0; i < alen; i++)
		a[8 + i] = addr[i] ^ key[i];
	if (fingerprint) {
		/* §8: a peer using the FINGERPRINT mechanism checks for it in
		 * what it receives, so a FINGERPRINTed request is answered in kind. */
		uint8_t *f = a + 8 + alen;
		stun_put16(f, STUN_ATTR_FINGERPRINT);
		stun_put16(f + 2, 4);
		stun_put32(f + 4, tp_stun_crc32(out, (size_t)(f - out)) ^ STUN_FINGERPRINT_XOR);
	}
	return (int)len;
}

void tp_stun_answer(struct tp *tp, int fd, const char *buf, size_t len,
		    const union tp_sockaddr *src)
{
	char peer[INET6_ADDRSTRLEN + 8];
	bool fingerprint;
	if (!tp_stun_is_request(buf, len, &fingerprint)) {
		tp->stats.stun_dropped++;
		LOG_DEBUG("stun_dropped", "peer=%s len=%zu", tp_addr_str(src, peer, sizeof(peer)),
			  len);
		return;
	}
	uint8_t out[TP_STUN_MAX_RESPONSE];
	int n =
	    tp_stun_response_build((const uint8_t *)buf + 8, src, fingerprint, out, sizeof(out));
	if (n < 0) {
		tp->stats.stun_dropped++;
		return;
	}
	/* RFC 5626 §8: the answer goes back over the same flow, i.e. from the
	 * socket the request arrived on to its source address. */
	ssize_t sent =
	    sendto(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL, &src->sa, tp_addr_len(src));
	if (sent != n) {
		tp->stats.send_errors++;
		LOG_DEBUG("stun_send_error", "peer=%s errno=%d",
			  tp_addr_str(src, peer, sizeof(peer)), sent < 0 ? errno : 0);
		return;
	}
	tp->stats.stun_responses++;
}
