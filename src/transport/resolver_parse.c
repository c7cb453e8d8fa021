/* resolver_parse.c — turns a c-ares answer buffer into dns_rr records (NAPTR,
 * RFC 3403 §4.1; SRV, RFC 2782; A; AAAA) and finds the smallest TTL in the
 * answer section (RFC 1035 §4.1.3), which c-ares does not report for SRV/NAPTR. */
#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport/resolver_internal.h"

static uint32_t dns_min_ttl(const unsigned char *abuf, int alen)
{
	uint32_t min = UINT32_MAX;
	if (alen < 12)
		return 60;
	unsigned qd = (unsigned)(abuf[4] << 8 | abuf[5]);
	unsigned an = (unsigned)(abuf[6] << 8 | abuf[7]);
	const unsigned char *p = abuf + 12, *end = abuf + alen;
	for (unsigned i = 0; i < qd + an; i++) {
		char *name = NULL;
		long enc = 0;
		if (p >= end || ares_expand_name(p, abuf, alen, &name, &enc) != ARES_SUCCESS)
			break;
		ares_free_string(name);
		p += enc;
		if (i < qd) {
			p += 4;
			continue;
		}
		if (end - p < 10)
			break;
		uint32_t t =
		    (uint32_t)p[4] << 24 | (uint32_t)p[5] << 16 | (uint32_t)p[6] << 8 | p[7];
		unsigned rdlen = (unsigned)(p[8] << 8 | p[9]);
		if (t < min)
			min = t;
		p += 10 + rdlen;
	}
	return min == UINT32_MAX ? 60 : min;
}

static int parse_naptr(const unsigned char *abuf, int alen, struct dns_rr **out, unsigned *n)
{
	struct ares_naptr_reply *head = NULL;
	int st = ares_parse_naptr_reply(abuf, alen, &head);
	if (st != ARES_SUCCESS)
		return st == ARES_ENODATA ? -ENOENT : -EAGAIN;
	unsigned cnt = 0;
	for (struct ares_naptr_reply *x = head; x; x = x->next)
		cnt++;
	struct dns_rr *rr = calloc(cnt ? cnt : 1, sizeof(*rr));
	if (!rr) {
		ares_free_data(head);
		return -EAGAIN;
	}
	unsigned i = 0;
	for (struct ares_naptr_reply *x = head; x; x = x->next, i++) {
		rr[i].order = x->order;
		rr[i].pref = x->preference;
		snprintf(rr[i].flags, sizeof(rr[i].flags), "%s", (const char *)x->flags);
		snprintf(rr[i].service, sizeof(rr[i].service), "%s", (const char *)x->service);
		rr[i].name = strdup(x->replacement ? x->replacement : "");
	}
	ares_free_data(head);
	*out = rr;
	*n = cnt;
	return 0;
}

static int parse_srv(const unsigned char *abuf, int alen, struct dns_rr **out, unsigned *n)
{
	struct ares_srv_reply *head = NULL;
	int st = ares_parse_srv_reply(abuf, alen, &head);
	if (st != ARES_SUCCESS)
		return st == ARES_ENODATA ? -ENOENT : -EAGAIN;
	unsigned cnt = 0;
	for (struct ares_srv_reply *x = head; x; x = x->next)
		cnt++;
	struct dns_rr *rr = calloc(cnt ? cnt : 1, sizeof(*rr));
	if (!rr) {
		ares_free_data(head);
		return -EAGAIN;
	}
	unsigned i = 0;
	for (struct ares_srv_reply *x = head; x; x = x->next, i++) {
		rr[i].prio = x->priority;
		rr[i].weight = x->weight;
		rr[i].port = x->port;
		rr[i].name = strdup(x->host ? x->host : ".");
	}
	ares_free_data(head);
	*out = rr;
	*n = cnt;
	return 0;
}

#define DNS_MAX_ADDRS 16

static int parse_addr(int qtype, const unsigned char *abuf, int alen, struct dns_rr **out,
		      unsigned *n)
{
	struct hostent *h = NULL;
	struct ares_addrttl a4[DNS_MAX_ADDRS];
	struct ares_addr6ttl a6[DNS_MAX_ADDRS];
	int cnt = DNS_MAX_ADDRS, st;
	if (qtype == ns_t_a)
		st = ares_parse_a_reply(abuf, alen, &h, a4, &cnt);
	else
		st = ares_parse_aaaa_reply(abuf, alen, &h, a6, &cnt);
	if (h)
		ares_free_hostent(h);
	if (st != ARES_SUCCESS)
		return st == ARES_ENODATA ? -ENOENT : -EAGAIN;
	struct dns_rr *rr = calloc(cnt > 0 ? (size_t)cnt : 1, sizeof(*rr));
	if (!rr)
		return -EAGAIN;
	for (int i = 0; i < cnt; i++) {
		if (qtype == ns_t_a) {
			rr[i].addr.in4.sin_family = AF_INET;
			rr[i].addr.in4.sin_addr = a4[i].ipaddr;
		} else {
			rr[i].addr.in6.sin6_family = AF_INET6;
			memcpy(&rr[i].addr.in6.sin6_addr, &a6[i].ip6addr, 16);
		}
	}
	*out = rr;
	*n = (unsigned)(cnt > 0 ? cnt : 0);
	return 0;
}

int resolver_parse_answer(int qtype, const unsigned char *abuf, int alen, struct dns_rr **out,
			  unsigned *n, uint32_t *ttl)
{
	*out = NULL;
	*n = 0;
	*ttl = dns_min_ttl(abuf, alen);
	switch (qtype) {
	case ns_t_naptr: return parse_naptr(abuf, alen, out, n);
	case ns_t_srv: return parse_srv(abuf, alen, out, n);
	case ns_t_a:
	case ns_t_aaaa: return parse_addr(qtype, abuf, alen, out, n);
	default: return -EINVAL;
	}
}
