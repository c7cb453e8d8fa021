/* dns_stub.h — a name server on a loopback port, for the whole-proxy fuzzer:
 * the resolver's queries (RFC 3263 §4: NAPTR, SRV, A, AAAA) wait in its socket
 * until the caller says how to answer them, so a lookup stays pending across
 * the caller's steps and ends exactly when it says — never by a real-time
 * timeout. Nothing leaves the host: it answers only who asked on 127.0.0.1. */
#ifndef SIPPROXY_TESTS_DNS_STUB_H
#define SIPPROXY_TESTS_DNS_STUB_H

#include <stdint.h>

/* Every name answered with an address points at these. */
#define DNS_STUB_A    "127.0.0.30"
#define DNS_STUB_AAAA "::30"

enum dns_stub_answer {
	DNS_STUB_NXDOMAIN = 0, /* RFC 1035 §4.1.1 RCODE 3: the name does not exist */
	DNS_STUB_SERVFAIL,     /* RCODE 2: try again later */
	DNS_STUB_ADDRESS,      /* A/AAAA: DNS_STUB_A / DNS_STUB_AAAA; NAPTR/SRV: no data */
	DNS_STUB_ANSWERS
};

struct dns_stub;

/* Binds 127.0.0.1 on a port of the kernel's choice (port 0). NULL on failure. */
struct dns_stub *dns_stub_new(void);
void dns_stub_free(struct dns_stub *s);
uint16_t dns_stub_port(const struct dns_stub *s);
/* Answers every query waiting in the socket; returns how many there were. */
unsigned dns_stub_answer(struct dns_stub *s, enum dns_stub_answer how);
/* Reads and drops every query waiting (left over by an earlier resolver). */
void dns_stub_flush(struct dns_stub *s);

#endif
