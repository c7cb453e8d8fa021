/* dns_stub.c — see dns_stub.h: one non-blocking UDP socket on 127.0.0.1; each
 * query read is answered by echoing its header and question (RFC 1035 §4.1)
 * with QR set, the chosen RCODE and, for an A/AAAA question in address mode,
 * one answer record naming the question by pointer (§4.1.4). */
#include "dns_stub.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DNS_HDR	      12
#define DNS_TYPE_A    1
#define DNS_TYPE_AAAA 28
#define DNS_TTL	      60

struct dns_stub {
	int fd;
	uint16_t port;
};

struct dns_stub *dns_stub_new(void)
{
	struct dns_stub *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(0)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t alen = sizeof(a);
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0) {
		dns_stub_free(s);
		return NULL;
	}
	s->port = ntohs(a.sin_port);
	return s;
}

void dns_stub_free(struct dns_stub *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

uint16_t dns_stub_port(const struct dns_stub *s)
{
	return s->port;
}

/* End of the single question (name, type, class), 0 if malformed. */
static size_t question_end(const unsigned char *q, size_t n)
{
	size_t i = DNS_HDR;
	while (i < n && q[i] != 0) {
		if (q[i] > 63)
			return 0; /* a query's name is never compressed */
		i += 1u + q[i];
	}
	return i + 5 <= n ? i + 5 : 0;
}

static size_t build_answer(const unsigned char *q, size_t n, enum dns_stub_answer how,
			   unsigned char *out, size_t cap)
{
	size_t qend = question_end(q, n);
	if (n < DNS_HDR || (q[2] & 0x80) || q[4] != 0 || q[5] != 1 || !qend || qend + 32 > cap)
		return 0;
	memcpy(out, q, qend);
	unsigned qtype = (unsigned)q[qend - 4] << 8 | q[qend - 3];
	out[2] = (unsigned char)(0x80 | (q[2] & 0x79)); /* QR, opcode, RD kept; AA, TC clear */
	out[3] = 0x80;					/* RA, RCODE 0 */
	memset(out + 6, 0, 6);				/* ANCOUNT, NSCOUNT, ARCOUNT */
	if (how == DNS_STUB_NXDOMAIN) {
		out[3] |= 3;
		return qend;
	}
	if (how == DNS_STUB_SERVFAIL) {
		out[3] |= 2;
		return qend;
	}
	unsigned char addr[16];
	size_t alen = 0;
	if (qtype == DNS_TYPE_A && inet_pton(AF_INET, DNS_STUB_A, addr) == 1)
		alen = 4;
	else if (qtype == DNS_TYPE_AAAA && inet_pton(AF_INET6, DNS_STUB_AAAA, addr) == 1)
		alen = 16;
	if (!alen)
		return qend; /* NOERROR, no data: NAPTR and SRV fall through to A/AAAA */
	out[7] = 1;
	size_t i = qend;
	const unsigned char rr[] = {
	    0xc0,    DNS_HDR, (unsigned char)(qtype >> 8), (unsigned char)qtype, 0, 1, 0, 0, 0,
	    DNS_TTL, 0,	      (unsigned char)alen};
	memcpy(out + i, rr, sizeof(rr));
	i += sizeof(rr);
	memcpy(out + i, addr, alen);
	return i + alen;
}

unsigned dns_stub_answer(struct dns_stub *s, enum dns_stub_answer how)
{
	unsigned char q[1500], out[1600];
	unsigned count = 0;
	for (;;) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return count;
		count++;
		size_t len = build_answer(q, (size_t)n, how, out, sizeof(out));
		if (len)
			(void)sendto(s->fd, out, len, 0, (struct sockaddr *)&from, flen);
	}
}

void dns_stub_flush(struct dns_stub *s)
{
	unsigned char q[1500];
	while (recv(s->fd, q, sizeof(q), 0) >= 0)
		;
}
