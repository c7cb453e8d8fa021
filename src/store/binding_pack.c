/* binding_pack.c — the compact in-memory form of one registration binding
 * (RFC 3261 §10.3) and of an address-of-record: one allocation each, a small
 * fixed header with the strings packed after it (uint16 lengths). Also the
 * binding key (RFC 5626 §6) and Call-ID/CSeq ordering (RFC 3261 §10.3 step 7). */
#include <malloc.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sip/uri.h"
#include "store/binding_codec.h"
#include "store/store_mem_internal.h"

/* The header size the comment in store_mem_internal.h promises. */
_Static_assert(offsetof(struct store_rec, data) == 91, "store_rec header is 91 bytes");

size_t store_alloc_size(void *p)
{
	return p ? malloc_usable_size(p) : 0;
}

static void pack_source(struct store_rec *r, const union tp_sockaddr *sa)
{
	r->family = 0;
	r->port = 0;
	r->scope_id = 0;
	memset(r->addr, 0, sizeof(r->addr));
	if (sa->sa.sa_family == AF_INET) {
		r->family = AF_INET;
		r->port = sa->in4.sin_port;
		memcpy(r->addr, &sa->in4.sin_addr, 4);
	} else if (sa->sa.sa_family == AF_INET6) {
		r->family = AF_INET6;
		r->port = sa->in6.sin6_port;
		r->scope_id = sa->in6.sin6_scope_id;
		memcpy(r->addr, &sa->in6.sin6_addr, 16);
	}
}

static void unpack_source(const struct store_rec *r, union tp_sockaddr *sa)
{
	/* Only the sockaddr_in6 part: clearing all 128 bytes of the storage
	 * cost more than the rest of a lookup's unpacking. */
	memset(&sa->in6, 0, sizeof(sa->in6));
	if (r->family == AF_INET) {
		sa->in4.sin_family = AF_INET;
		sa->in4.sin_port = r->port;
		memcpy(&sa->in4.sin_addr, r->addr, 4);
	} else if (r->family == AF_INET6) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = r->port;
		sa->in6.sin6_scope_id = r->scope_id;
		memcpy(&sa->in6.sin6_addr, r->addr, 16);
	}
}

struct store_rec *store_rec_new(const struct store_binding *b, size_t *alloc_bytes)
{
	const struct str f[STORE_F_COUNT] = {
	    [STORE_F_CONTACT] = b->contact, [STORE_F_INSTANCE] = b->instance,
	    [STORE_F_CALL_ID] = b->call_id, [STORE_F_PATH] = b->path,
	    [STORE_F_OWNER] = b->owner,	    [STORE_F_NODE] = b->node,
	};
	size_t total = 0;
	for (int i = 0; i < STORE_F_COUNT; i++) {
		/* uint16 lengths: a longer field is refused, never truncated. */
		if (f[i].len > UINT16_MAX || (f[i].len && !f[i].p))
			return NULL;
		total += f[i].len;
	}
	if ((unsigned)b->proto >= TP_PROTO_COUNT)
		return NULL;
	/* data[] starts before sizeof's tail padding: not counting it saves
	 * bytes on every binding. */
	struct store_rec *r = malloc(offsetof(struct store_rec, data) + total);
	if (!r)
		return NULL;
	r->next = NULL;
	r->aor = NULL;
	r->expires_at = b->expires_at;
	r->conn_id = b->conn_id;
	r->version = b->version;
	r->cseq = b->cseq;
	r->reg_id = b->reg_id;
	r->heap_idx = UINT32_MAX;
	r->q = b->q;
	r->proto = (uint8_t)b->proto;
	r->seen = 0;
	pack_source(r, &b->source);
	char *p = r->data;
	for (int i = 0; i < STORE_F_COUNT; i++) {
		r->len[i] = (uint16_t)f[i].len;
		if (f[i].len)
			memcpy(p, f[i].p, f[i].len);
		p += f[i].len;
	}
	if (alloc_bytes)
		*alloc_bytes = store_alloc_size(r);
	return r;
}

struct str store_rec_field(const struct store_rec *r, enum store_rec_field f)
{
	size_t off = 0;
	for (int i = 0; i < (int)f; i++)
		off += r->len[i];
	return str_make(r->data + off, r->len[f]);
}

void store_rec_unpack(const struct store_rec *r, struct store_binding *out)
{
	const char *p = r->data;
	struct str f[STORE_F_COUNT];
	for (int i = 0; i < STORE_F_COUNT; i++) {
		f[i] = str_make(p, r->len[i]);
		p += r->len[i];
	}
	out->aor = r->aor ? str_make(r->aor->name, r->aor->len) : STR_NULL;
	out->contact = f[STORE_F_CONTACT];
	out->instance = f[STORE_F_INSTANCE];
	out->reg_id = r->reg_id;
	out->call_id = f[STORE_F_CALL_ID];
	out->cseq = r->cseq;
	out->q = r->q;
	out->expires_at = r->expires_at;
	out->path = f[STORE_F_PATH];
	out->proto = (enum tp_proto)r->proto;
	unpack_source(r, &out->source);
	out->conn_id = r->conn_id;
	out->version = r->version;
	out->owner = f[STORE_F_OWNER];
	out->node = f[STORE_F_NODE];
}

/* RFC 3261 §10.3 step 7: "using the URI comparison rules" of §19.1.4, so
 * sip:Alice@host;transport=UDP refreshes sip:Alice@HOST;transport=udp. Equal
 * bytes (the common case) need no parsing. Compared by sip_uri_key, the
 * identity every proxy of a cluster and Redis agree on (binding_key): equal
 * URIs have one key; URIs that differ only in a parameter that either may
 * omit are one binding too. */
static bool contact_eq(struct str stored, struct str given)
{
	if (str_eq(stored, given))
		return true;
	struct sip_uri a, b;
	char ka[BINDING_KEY_MAX], kb[BINDING_KEY_MAX];
	if (sip_uri_parse(stored, &a) < 0 || sip_uri_parse(given, &b) < 0)
		return false;
	size_t na = sip_uri_key(&a, ka, sizeof(ka)), nb = sip_uri_key(&b, kb, sizeof(kb));
	return na && na == nb && memcmp(ka, kb, na) == 0;
}

bool store_rec_key_eq(const struct store_rec *r, const struct store_binding *b)
{
	/* RFC 5626 §6: with +sip.instance the flow key is (instance, reg-id) and
	 * the Contact URI may change (new IP after a reboot) without adding a
	 * second binding. Without it, RFC 3261 §10.3 step 7 keys by Contact URI. */
	if (b->instance.len) {
		return r->reg_id == b->reg_id &&
		       str_eq(store_rec_field(r, STORE_F_INSTANCE), b->instance);
	}
	return r->len[STORE_F_INSTANCE] == 0 &&
	       contact_eq(store_rec_field(r, STORE_F_CONTACT), b->contact);
}

bool store_rec_is_stale(const struct store_rec *r, struct str call_id, uint32_t cseq)
{
	/* RFC 3261 §10.3 step 7: same Call-ID and a CSeq not above the stored one
	 * means an old or retransmitted REGISTER; a different Call-ID always wins. */
	return r->cseq >= cseq && str_eq(store_rec_field(r, STORE_F_CALL_ID), call_id);
}

struct store_aor *store_aor_new(struct str name, uint32_t hash, size_t *alloc_bytes)
{
	if (name.len == 0 || name.len > UINT16_MAX || !name.p)
		return NULL;
	struct store_aor *a = malloc(sizeof(*a) + name.len);
	if (!a)
		return NULL;
	a->next = NULL;
	a->head = NULL;
	a->hash = hash;
	a->len = (uint16_t)name.len;
	a->nbind = 0;
	memcpy(a->name, name.p, name.len);
	if (alloc_bytes)
		*alloc_bytes = store_alloc_size(a);
	return a;
}
