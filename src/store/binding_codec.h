/* binding_codec.h — one binding as bytes, the same layout in the disk
 * snapshot (store_snapshot.c) and in Redis (store_redis.c), and the binding's
 * identity as a printable key (its Redis hash field). Internal to src/store/. */
#ifndef SIPPROXY_STORE_BINDING_CODEC_H
#define SIPPROXY_STORE_BINDING_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Body, little-endian: i64 expires_at u32 cseq u32 reg_id u16 q u8 proto
 * u8 family u8[2] port (network order) u32 scope_id u8[16] addr, then
 * (u16 len, bytes) for aor contact instance call_id path owner node. */
#define BINDING_CODEC_FIXED   42u
#define BINDING_CODEC_NSTR    7
#define BINDING_CODEC_NSTR_V1 6 /* snapshot v1: no node */

void codec_put_le(unsigned char *p, uint64_t v, int n);
uint64_t codec_get_le(const unsigned char *p, int n);

/* Bytes binding_codec_put writes for b. */
size_t binding_codec_len(const struct store_binding *b);
void binding_codec_put(const struct store_binding *b, unsigned char *out);
/* Decodes the first nstr strings' worth of body from p[0..len); slices point
 * into p. *used = bytes read. Returns NULL, or why the bytes are not a
 * binding (nothing is trusted: lengths, family, protocol, q all checked). */
const char *binding_codec_get(const unsigned char *p, size_t len, int nstr, struct store_binding *b,
			      size_t *used);

/* The binding's identity in the store: "i:<instance>;<reg-id>" (RFC 5626 §6)
 * or "c:" + sip_uri_key of the Contact (RFC 3261 §10.3 step 7, §19.1.4).
 * Returns its length, 0 when it does not fit or the Contact is no URI. */
size_t binding_key(const struct store_binding *b, char *out, size_t cap);
#define BINDING_KEY_MAX 1024

#endif
