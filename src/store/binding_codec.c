/* binding_codec.c — a binding as bytes (binding_codec.h), shared by the disk
 * snapshot and the Redis backend, and its identity key. The decoder trusts
 * nothing: the bytes may come from a damaged file or from a Redis anybody
 * could write to. */
#include "store/binding_codec.h"

#include <stdio.h>
#include <string.h>

#include "sip/uri.h"

void codec_put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t codec_get_le(const unsigned char *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void strings_of(const struct store_binding *b, struct str s[BINDING_CODEC_NSTR])
{
	s[0] = b->aor;
	s[1] = b->contact;
	s[2] = b->instance;
	s[3] = b->call_id;
	s[4] = b->path;
	s[5] = b->owner;
	s[6] = b->node;
}

size_t binding_codec_len(const struct store_binding *b)
{
	struct str s[BINDING_CODEC_NSTR];
	strings_of(b, s);
	size_t len = BINDING_CODEC_FIXED;
	for (int i = 0; i < BINDING_CODEC_NSTR; i++)
		len += 2 + (s[i].len > UINT16_MAX ? UINT16_MAX : s[i].len);
	return len;
}

void binding_codec_put(const struct store_binding *b, unsigned char *p)
{
	codec_put_le(p, (uint64_t)b->expires_at, 8);
	codec_put_le(p + 8, b->cseq, 4);
	codec_put_le(p + 12, b->reg_id, 4);
	codec_put_le(p + 16, b->q, 2);
	p[18] = (unsigned char)b->proto;
	uint32_t scope = 0;
	unsigned char addr[16] = {0}, port[2] = {0};
	p[19] = 0;
	if (b->source.sa.sa_family == AF_INET) {
		p[19] = AF_INET;
		memcpy(port, &b->source.in4.sin_port, 2);
		memcpy(addr, &b->source.in4.sin_addr, 4);
	} else if (b->source.sa.sa_family == AF_INET6) {
		p[19] = AF_INET6;
		memcpy(port, &b->source.in6.sin6_port, 2);
		memcpy(addr, &b->source.in6.sin6_addr, 16);
		scope = b->source.in6.sin6_scope_id;
	}
	memcpy(p + 20, port, 2);
	codec_put_le(p + 22, scope, 4);
	memcpy(p + 26, addr, 16);
	unsigned char *q = p + BINDING_CODEC_FIXED;
	struct str s[BINDING_CODEC_NSTR];
	strings_of(b, s);
	for (int i = 0; i < BINDING_CODEC_NSTR; i++) {
		size_t n = s[i].len > UINT16_MAX ? UINT16_MAX : s[i].len;
		codec_put_le(q, n, 2);
		if (n)
			memcpy(q + 2, s[i].p, n);
		q += 2 + n;
	}
}

const char *binding_codec_get(const unsigned char *p, size_t len, int nstr, struct store_binding *b,
			      size_t *used)
{
	memset(b, 0, sizeof(*b));
	if (len < BINDING_CODEC_FIXED)
		return "record shorter than its fixed part";
	b->expires_at = (int64_t)codec_get_le(p, 8);
	b->cseq = (uint32_t)codec_get_le(p + 8, 4);
	b->reg_id = (uint32_t)codec_get_le(p + 12, 4);
	b->q = (uint16_t)codec_get_le(p + 16, 2);
	if (b->q > 1000)
		return "q-value above 1000";
	if (p[18] >= TP_PROTO_COUNT)
		return "unknown transport protocol";
	b->proto = (enum tp_proto)p[18];
	uint32_t scope = (uint32_t)codec_get_le(p + 22, 4);
	if (p[19] == AF_INET) {
		b->source.in4.sin_family = AF_INET;
		memcpy(&b->source.in4.sin_port, p + 20, 2);
		memcpy(&b->source.in4.sin_addr, p + 26, 4);
	} else if (p[19] == AF_INET6) {
		b->source.in6.sin6_family = AF_INET6;
		memcpy(&b->source.in6.sin6_port, p + 20, 2);
		memcpy(&b->source.in6.sin6_addr, p + 26, 16);
		b->source.in6.sin6_scope_id = scope;
	} else if (p[19] != 0) {
		return "unknown address family";
	}
	struct str *s[BINDING_CODEC_NSTR] = {&b->aor,  &b->contact, &b->instance, &b->call_id,
					     &b->path, &b->owner,   &b->node};
	size_t pos = BINDING_CODEC_FIXED;
	for (int i = 0; i < nstr && i < BINDING_CODEC_NSTR; i++) {
		if (len - pos < 2)
			return "string length past the record end";
		size_t n = (size_t)codec_get_le(p + pos, 2);
		pos += 2;
		if (len - pos < n)
			return "string past the record end";
		*s[i] = str_make((const char *)p + pos, n);
		pos += n;
	}
	if (!b->aor.len)
		return "empty address-of-record";
	if (!b->contact.len && !b->instance.len)
		return "binding without contact or instance";
	*used = pos;
	return NULL;
}

size_t binding_key(const struct store_binding *b, char *out, size_t cap)
{
	if (b->instance.len) {
		/* "i:<instance>;<reg-id>" */
		char num[12], *d = num + sizeof(num);
		unsigned v = (unsigned)b->reg_id;
		do
			*--d = (char)('0' + v % 10);
		while ((v /= 10) && d > num);
		size_t nl = (size_t)(num + sizeof(num) - d);
		if (b->instance.len > cap || cap - b->instance.len < 4 + nl)
			return 0;
		memcpy(out, "i:", 2);
		memcpy(out + 2, b->instance.p, b->instance.len);
		out[2 + b->instance.len] = ';';
		memcpy(out + 3 + b->instance.len, d, nl);
		out[3 + b->instance.len + nl] = '\0';
		return 3 + b->instance.len + nl;
	}
	struct sip_uri u;
	if (cap < 3 || sip_uri_parse(b->contact, &u) < 0)
		return 0;
	size_t n = sip_uri_key(&u, out + 2, cap - 2);
	if (!n)
		return 0;
	out[0] = 'c';
	out[1] = ':';
	return n + 2;
}
