/* tp_addr.c — socket address and protocol-name helpers for the transport
 * layer: numeric host parsing (RFC 3261 §19.1.1 host = IPv4address /
 * IPv6reference), printing, comparison, and the Via transport tokens (§20.42). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sip/uri.h"
#include "transport/transport.h"
#include "transport/transport_internal.h"

static const char *const tp_names[TP_PROTO_COUNT] = {"UDP", "TCP", "TLS", "WS", "WSS"};

const char *tp_proto_name(enum tp_proto p)
{
	return (unsigned)p < TP_PROTO_COUNT ? tp_names[p] : "?";
}

int tp_proto_parse(struct str s, enum tp_proto *out)
{
	for (int i = 0; i < TP_PROTO_COUNT; i++) {
		if (str_case_eq_cstr(s, tp_names[i])) {
			*out = (enum tp_proto)i;
			return 0;
		}
	}
	return -1;
}

uint16_t tp_proto_default_port(enum tp_proto p)
{
	return sip_default_port(str_cstr(tp_proto_name(p)), p == TP_WSS);
}

bool tp_proto_is_stream(enum tp_proto p)
{
	return p != TP_UDP;
}

uint16_t tp_addr_port(const union tp_sockaddr *a)
{
	if (a->sa.sa_family == AF_INET)
		return ntohs(a->in4.sin_port);
	if (a->sa.sa_family == AF_INET6)
		return ntohs(a->in6.sin6_port);
	return 0;
}

socklen_t tp_addr_len(const union tp_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in4);
}

const char *tp_addr_str(const union tp_sockaddr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	if (cap == 0)
		return out;
	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, tp_addr_port(a));
	} else if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		snprintf(out, cap, "[%s]:%u", ip, tp_addr_port(a));
	} else {
		snprintf(out, cap, "?");
	}
	return out;
}

int tp_addr_from_ip(struct str host, uint16_t port, union tp_sockaddr *a)
{
	char buf[INET6_ADDRSTRLEN + 2];
	if (host.len >= 2 && host.p[0] == '[' && host.p[host.len - 1] == ']') {
		host.p++;
		host.len -= 2;
	}
	if (host.len == 0 || host.len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, host.p, host.len);
	buf[host.len] = '\0';
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, buf, &a->in4.sin_addr) == 1) {
		a->in4.sin_family = AF_INET;
		a->in4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a->in6.sin6_addr) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
			/* ::ffff:a.b.c.d is the IPv4 host a.b.c.d: one spelling per
			 * host, so trust and "is this mine" see through it. */
			struct in_addr v4;
			memcpy(&v4, &a->in6.sin6_addr.s6_addr[12], 4);
			memset(a, 0, sizeof(*a));
			a->in4.sin_family = AF_INET;
			a->in4.sin_addr = v4;
			a->in4.sin_port = htons(port);
			return 0;
		}
		a->in6.sin6_family = AF_INET6;
		a->in6.sin6_port = htons(port);
		return 0;
	}
	return -EINVAL;
}

bool tp_addr_same_ip(const union tp_sockaddr *a, const union tp_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
	return false;
}

bool tp_addr_equal(const union tp_sockaddr *a, const union tp_sockaddr *b)
{
	return tp_addr_same_ip(a, b) && tp_addr_port(a) == tp_addr_port(b);
}

void tp_socket_tos(const struct tp *tp, int fd, int family)
{
	int tos = (int)tp->cfg.ip_tos;
	if (!tos)
		return;
	/* Best effort: a kernel that refuses leaves the default, as unset. */
	if (family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		(void)setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
}
