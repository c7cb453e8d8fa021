/* flow.c — flow tokens (RFC 5626 §5.2): when the proxy Record-Routes a dialog
 * with an endpoint, its Record-Route carries, in the user part, the flow the
 * endpoint is reached on (transport, address, connection) with a MAC under a
 * key only this proxy holds. In-dialog requests from the cluster then go down
 * that flow (§5.3) — state the proxy put in the dialog itself, which no
 * Contact an endpoint registers can redirect. Token: hex of
 * version | owner | proto | family | address | port | conn id | HMAC-SHA256/80,
 * owner being the id of the cluster proxy that holds the flow (its
 * connection ids mean nothing to another proxy). With cluster.secret every
 * proxy of the cluster has the same key, so each can read every other's
 * tokens: a request for a flow another proxy holds goes to that proxy
 * (proxy_flow_via_owner, the one rule for branches and stateless ACKs). */
#include "proxy/proxy_internal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "sip/build.h"

#define FLOW_VERSION 2
#define FLOW_MAC_LEN 10 /* 80 bits, as RFC 5626 §5.2's example */
#define FLOW_HEAD    6	/* version, owner (4), proto; then the family */
#define FLOW_MAX_RAW (FLOW_HEAD + 1 + 16 + 2 + 8 + FLOW_MAC_LEN)

uint32_t proxy_peer_id(struct str name)
{
	return str_hash(name);
}

/* With cluster.secret the key is derived from it (SHA-256 of a label and
 * the secret), the same at every proxy and across restarts. Without it the
 * key only has to be unguessable for the proxy's lifetime: tokens of
 * dialogs set up before a restart fail verification, and such requests are
 * routed by their Request-URI like any other. */
int proxy_flow_key_init(struct proxy *p)
{
	const char *secret = p->cfg->cluster_secret;
	if (secret[0]) {
		static const char label[] = "sipproxy flow-token key v2:";
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		unsigned int len = 0;
		unsigned char out[EVP_MAX_MD_SIZE];
		bool ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
			  EVP_DigestUpdate(md, label, sizeof(label) - 1) &&
			  EVP_DigestUpdate(md, secret, strlen(secret)) &&
			  EVP_DigestFinal_ex(md, out, &len) && len >= sizeof(p->flow_key);
		EVP_MD_CTX_free(md);
		if (!ok)
			return -1;
		memcpy(p->flow_key, out, sizeof(p->flow_key));
	} else if (getrandom(p->flow_key, sizeof(p->flow_key), GRND_NONBLOCK) !=
		   (ssize_t)sizeof(p->flow_key)) {
		char tok[2 * PROXY_FLOW_KEY_LEN + 1]; /* early boot: the seeded generator */
		sip_random_token(tok, sizeof(tok) - 1);
		for (size_t i = 0; i < PROXY_FLOW_KEY_LEN; i++)
			p->flow_key[i] = (unsigned char)(tok[2 * i] * 36 + tok[2 * i + 1]);
	}
	/* One keyed HMAC context for the proxy's life: each token re-initialises
	 * it with the same key (no algorithm fetch or key setup per message). */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	p->flow_mac = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
			       OSSL_PARAM_construct_end()};
	if (!p->flow_mac || !EVP_MAC_init(p->flow_mac, p->flow_key, sizeof(p->flow_key), params)) {
		proxy_flow_key_free(p);
		return -1;
	}
	return 0;
}

void proxy_flow_key_free(struct proxy *p)
{
	EVP_MAC_CTX_free(p->flow_mac);
	p->flow_mac = NULL;
}

static void flow_mac(const struct proxy *p, const unsigned char *data, size_t len,
		     unsigned char out[FLOW_MAC_LEN])
{
	unsigned char full[EVP_MAX_MD_SIZE];
	size_t flen = 0;
	if (!EVP_MAC_init(p->flow_mac, NULL, 0, NULL) || !EVP_MAC_update(p->flow_mac, data, len) ||
	    !EVP_MAC_final(p->flow_mac, full, &flen, sizeof(full)) || flen < FLOW_MAC_LEN) {
		/* cannot happen with a working libcrypto; a token nobody can forge */
		memset(out, 0, FLOW_MAC_LEN);
		sip_random_token((char *)out, FLOW_MAC_LEN - 1);
		return;
	}
	memcpy(out, full, FLOW_MAC_LEN);
}

size_t proxy_flow_encode(const struct proxy *p, const struct proxy_flow *f, char *out)
{
	unsigned char raw[FLOW_MAX_RAW];
	size_t n = 0;
	raw[n++] = FLOW_VERSION;
	for (int i = 3; i >= 0; i--)
		raw[n++] = (unsigned char)(f->owner >> (8 * i));
	raw[n++] = (unsigned char)f->proto;
	if (f->addr.sa.sa_family == AF_INET6) {
		raw[n++] = 6;
		memcpy(raw + n, &f->addr.in6.sin6_addr, 16);
		n += 16;
	} else {
		raw[n++] = 4;
		memcpy(raw + n, &f->addr.in4.sin_addr, 4);
		n += 4;
	}
	uint16_t port = tp_addr_port(&f->addr);
	raw[n++] = (unsigned char)(port >> 8);
	raw[n++] = (unsigned char)port;
	for (int i = 7; i >= 0; i--)
		raw[n++] = (unsigned char)(f->conn_id >> (8 * i));
	flow_mac(p, raw, n, raw + n);
	n += FLOW_MAC_LEN;
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * n] = '\0';
	return 2 * n;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool proxy_flow_decode(const struct proxy *p, struct str token, struct proxy_flow *f)
{
	unsigned char raw[FLOW_MAX_RAW];
	if (token.len % 2 || token.len / 2 > sizeof(raw) ||
	    token.len < 2 * (FLOW_HEAD + 1 + FLOW_MAC_LEN))
		return false;
	size_t n = token.len / 2;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(token.p[2 * i]), lo = hexval(token.p[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	size_t alen = raw[FLOW_HEAD] == 6 ? 16 : raw[FLOW_HEAD] == 4 ? 4 : 0;
	if (raw[0] != FLOW_VERSION || !alen || n != FLOW_HEAD + 1 + alen + 2 + 8 + FLOW_MAC_LEN ||
	    raw[5] >= TP_PROTO_COUNT)
		return false;
	unsigned char mac[FLOW_MAC_LEN];
	flow_mac(p, raw, n - FLOW_MAC_LEN, mac);
	if (CRYPTO_memcmp(mac, raw + n - FLOW_MAC_LEN, FLOW_MAC_LEN) != 0)
		return false;
	memset(f, 0, sizeof(*f));
	f->owner = (uint32_t)raw[1] << 24 | (uint32_t)raw[2] << 16 | (uint32_t)raw[3] << 8 | raw[4];
	f->proto = (enum tp_proto)raw[5];
	const unsigned char *addr = raw + FLOW_HEAD + 1;
	size_t at = FLOW_HEAD + 1 + alen;
	uint16_t port = (uint16_t)(raw[at] << 8 | raw[at + 1]);
	if (alen == 16) {
		f->addr.in6.sin6_family = AF_INET6;
		memcpy(&f->addr.in6.sin6_addr, addr, 16);
		f->addr.in6.sin6_port = htons(port);
	} else {
		f->addr.in4.sin_family = AF_INET;
		memcpy(&f->addr.in4.sin_addr, addr, 4);
		f->addr.in4.sin_port = htons(port);
	}
	for (int i = 0; i < 8; i++)
		f->conn_id = f->conn_id << 8 | raw[at + 2 + i];
	return true;
}

void proxy_flow_from_packet(const struct proxy *p, const struct tp_packet *pkt,
			    struct proxy_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->owner = p->self_id;
	f->proto = pkt->proto;
	f->addr = pkt->src;
	f->conn_id = tp_proto_is_stream(pkt->proto) ? pkt->conn_id : 0;
}

void proxy_flow_to_dest(const struct proxy_flow *f, struct tp_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->proto = f->proto;
	d->addr = f->addr;
	d->conn_id = f->conn_id;
}

/* A UDP flow from an endpoint that is not behind a NAT: its own remote target
 * (the Request-URI, its Contact in this dialog) names the same host, and the
 * port it listens on may not be the one it sent from. The host stays the
 * flow's; only the port is the URI's. (Registrar bindings follow the same
 * rule, registrar_hooks.c.) */
void proxy_flow_dest_for(const struct proxy_flow *f, const struct sip_uri *ruri, struct tp_dest *d)
{
	proxy_flow_to_dest(f, d);
	union tp_sockaddr a;
	if (f->proto != TP_UDP || ruri->maddr.len ||
	    (ruri->scheme != SIP_URI_SIP && ruri->scheme != SIP_URI_SIPS) ||
	    tp_addr_from_ip(ruri->host, sip_uri_port(ruri), &a) < 0 ||
	    !tp_addr_same_ip(&a, &f->addr))
		return;
	d->addr = a;
}

/* The owner alive: a Route naming it with f's token, which it takes as its
 * own and follows down the flow (its connection ids mean nothing here).
 * The owner dead (or unknown): UDP goes straight to the endpoint's address;
 * a connection died with its proxy. */
enum proxy_owner_way proxy_flow_via_owner(const struct proxy *p, const struct proxy_flow *f,
					  const struct sip_uri *ruri, struct tp_dest *d,
					  char route[PROXY_FLOW_ROUTE_MAX])
{
	struct proxy_peer peer;
	bool known = p->routing.peer && p->routing.peer(p->routing.arg, f->owner, &peer);
	route[0] = '\0';
	if (known && peer.alive) {
		char token[PROXY_FLOW_TOKEN_MAX], hp[INET6_ADDRSTRLEN + 8];
		proxy_flow_encode(p, f, token);
		snprintf(route, PROXY_FLOW_ROUTE_MAX, "<sip:%s@%s;lr>", token,
			 tp_addr_str(&peer.dest.addr, hp, sizeof(hp)));
		*d = peer.dest;
		return PROXY_OWNER_VIA_PEER;
	}
	if (!tp_proto_is_stream(f->proto)) {
		proxy_flow_dest_for(f, ruri, d);
		d->conn_id = 0;
		return PROXY_OWNER_DIRECT;
	}
	return known ? PROXY_OWNER_DEAD : PROXY_OWNER_UNKNOWN;
}
