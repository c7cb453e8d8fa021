/* register.c — REGISTER as a registrar would answer it (RFC 3261 §10.3) behind
 * digest authentication (RFC 2617 §3.2, RFC 8760 MD5; qop=auth or absent):
 * known user and right response -> 200 listing the granted bindings with Date;
 * anything else (no or bad credentials, unknown user, wrong password) -> 401
 * with a fresh nonce, every time: a softphone with a wrong password sees 401
 * after 401, never a 403. A right response to an expired nonce -> 401 with
 * stale=true (RFC 2617 §3.2.1). Nonces are stateless (hex time, a random part,
 * MD5 of both with a key), fresh for --nonce-ttl seconds. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sip/build.h"
#include "sipsim.h"

static void md5_hex(const struct str *parts, unsigned n, char out[33])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	out[0] = '\0';
	if (!ctx)
		return;
	EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
	for (unsigned i = 0; i < n; i++)
		EVP_DigestUpdate(ctx, parts[i].p, parts[i].len);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < mdlen && i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int sim_users_load(struct sim *s, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512], user[256], pass[256];
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%255s %255s", user, pass) != 2)
			continue;
		struct sim_user *u = calloc(1, sizeof(*u));
		if (!u)
			break;
		u->name = strdup(user);
		u->password = strdup(pass);
		u->next = s->users;
		s->users = u;
	}
	fclose(f);
	return 0;
}

void sim_users_free(struct sim *s)
{
	while (s->users) {
		struct sim_user *u = s->users;
		s->users = u->next;
		free(u->name);
		free(u->password);
		free(u);
	}
}

/* A nonce: 8 hex digits of time, 8 random characters (every challenge has its
 * own nonce), then MD5(key, both) in hex: checked without any state. */
#define NONCE_HEAD 16
#define NONCE_LEN  (NONCE_HEAD + 32)

static void nonce_sign(const struct sim *s, const char *head, char *out, size_t cap)
{
	char sig[33];
	struct str parts[2] = {str_make((const char *)s->nonce_key, sizeof(s->nonce_key)),
			       str_make(head, NONCE_HEAD)};
	md5_hex(parts, 2, sig);
	snprintf(out, cap, "%.*s%s", NONCE_HEAD, head, sig);
}

static void nonce_make(const struct sim *s, char *out, size_t cap)
{
	char head[NONCE_HEAD + 1];
	snprintf(head, sizeof(head), "%08lx", (unsigned long)time(NULL) & 0xffffffffUL);
	sip_random_token(head + 8, 8);
	nonce_sign(s, head, out, cap);
}

/* 0 valid, 1 ours but stale, -1 not ours. */
static int nonce_check(const struct sim *s, struct str nonce)
{
	if (nonce.len != NONCE_LEN)
		return -1;
	char head[NONCE_HEAD + 1], want[NONCE_LEN + 1];
	memcpy(head, nonce.p, NONCE_HEAD);
	head[NONCE_HEAD] = '\0';
	nonce_sign(s, head, want, sizeof(want));
	if (!str_eq(nonce, str_cstr(want)))
		return -1;
	head[8] = '\0';
	char *end;
	unsigned long ts = strtoul(head, &end, 16);
	if (*end)
		return -1;
	return time(NULL) - (time_t)ts > (time_t)s->o.nonce_ttl ? 1 : 0;
}

/* RFC 2617 §3.2.2 credentials: "Digest" then comma-separated name=value or
 * name="quoted". Returns the value of name (quotes stripped). */
static bool digest_param(struct str v, const char *name, struct str *out)
{
	size_t i = 0, nl = strlen(name);
	if (str_case_prefix(v, "Digest"))
		i = 6;
	while (i < v.len) {
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == ',' || v.p[i] == '\t' ||
				     v.p[i] == '\r' || v.p[i] == '\n'))
			i++;
		size_t k = i;
		while (i < v.len && v.p[i] != '=' && v.p[i] != ',')
			i++;
		struct str key = str_trim(str_make(v.p + k, i - k));
		if (i >= v.len || v.p[i] != '=')
			continue;
		i++;
		while (i < v.len && (v.p[i] == ' ' || v.p[i] == '\t'))
			i++;
		struct str val;
		if (i < v.len && v.p[i] == '"') {
			size_t b = ++i;
			while (i < v.len && v.p[i] != '"')
				i += (v.p[i] == '\\' && i + 1 < v.len) ? 2 : 1;
			val = str_make(v.p + b, (i < v.len ? i : v.len) - b);
			i++;
		} else {
			size_t b = i;
			while (i < v.len && v.p[i] != ',')
				i++;
			val = str_trim(str_make(v.p + b, i - b));
		}
		if (key.len == nl && str_case_eq_cstr(key, name)) {
			*out = val;
			return true;
		}
	}
	return false;
}

static void reply(struct sim *s, const struct sim_peer *peer, const struct sip_msg *m, int status,
		  const char *extra)
{
	char out[8192], tag[17];
	sip_random_token(tag, 10);
	size_t n = sim_build_response(m, status, str_cstr(tag), str_cstr(extra), STR_NULL, STR_NULL,
				      out, sizeof(out));
	sim_uas_reply(s, peer, m, out, n);
}

static void challenge(struct sim *s, const struct sim_peer *peer, const struct sip_msg *m,
		      bool stale)
{
	char nonce[64], hdr[512];
	nonce_make(s, nonce, sizeof(nonce));
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
		 "qop=\"auth\"%s\r\n",
		 s->o.realm, nonce, stale ? ", stale=true" : "");
	reply(s, peer, m, 401, hdr);
}

/* 0: authenticated; -1: challenge again, *stale when only the nonce's age
 * failed (RFC 2617 §3.2.1: stale=true only for a valid digest). */
static int check_credentials(struct sim *s, const struct sip_msg *m, bool *stale)
{
	const struct sip_hdr *h = sip_msg_hdr(m, SIP_HDR_AUTHORIZATION);
	struct str user, realm, nonce, uri, resp, qop = STR_NULL, nc = STR_NULL, cnonce = STR_NULL,
						  alg;
	if (!h || !str_case_prefix(h->value, "Digest"))
		return -1;
	if (!digest_param(h->value, "username", &user) ||
	    !digest_param(h->value, "realm", &realm) || !digest_param(h->value, "nonce", &nonce) ||
	    !digest_param(h->value, "uri", &uri) || !digest_param(h->value, "response", &resp))
		return -1;
	if (digest_param(h->value, "algorithm", &alg) && !str_case_eq_cstr(alg, "MD5"))
		return -1;
	if (!str_eq(realm, str_cstr(s->o.realm)))
		return -1;
	int nonce_state = nonce_check(s, nonce);
	if (nonce_state < 0)
		return -1;
	const struct sim_user *u = s->users;
	while (u && !str_eq(str_cstr(u->name), user))
		u = u->next;
	if (!u)
		return -1;
	/* RFC 2617 §3.2.2.1-3: HA1 = MD5(user:realm:pw), HA2 = MD5(method:uri). */
	char ha1[33], ha2[33], want[33];
	struct str p1[5] = {user, STR_LIT(":"), realm, STR_LIT(":"), str_cstr(u->password)};
	md5_hex(p1, 5, ha1);
	struct str p2[3] = {m->method_str, STR_LIT(":"), uri};
	md5_hex(p2, 3, ha2);
	bool with_qop = digest_param(h->value, "qop", &qop);
	if (with_qop) {
		if (!str_case_eq_cstr(qop, "auth") || !digest_param(h->value, "nc", &nc) ||
		    !digest_param(h->value, "cnonce", &cnonce))
			return -1;
		struct str p3[11] = {
		    str_cstr(ha1), STR_LIT(":"), nonce, STR_LIT(":"), nc,	    STR_LIT(":"),
		    cnonce,	   STR_LIT(":"), qop,	STR_LIT(":"), str_cstr(ha2)};
		md5_hex(p3, 11, want);
	} else {
		struct str p3[5] = {str_cstr(ha1), STR_LIT(":"), nonce, STR_LIT(":"),
				    str_cstr(ha2)};
		md5_hex(p3, 5, want);
	}
	if (!str_case_eq(resp, str_cstr(want)))
		return -1;
	if (nonce_state == 1) {
		*stale = true;
		return -1;
	}
	return 0;
}

static unsigned long str_ulong(struct str v, unsigned long dflt)
{
	uint32_t out;
	return str_to_u32(str_trim(v), UINT32_MAX, &out) == 0 ? out : dflt;
}

void sim_register(struct sim *s, const struct sim_peer *peer, struct sip_msg *m)
{
	bool stale = false;
	int rc = check_credentials(s, m, &stale);
	if (rc < 0) {
		challenge(s, peer, m, stale);
		return;
	}
	char extra[4096];
	size_t n = 0;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	/* RFC 3261 §20.17: rfc1123-date, always GMT. */
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n += (size_t)snprintf(extra + n, sizeof(extra) - n, "Date: %s\r\n", date);
	for (const struct sip_addr *c = m->contact; c; c = c->next) {
		if (c->star) {
			/* §10.3 step 6: "*" only with Expires: 0, removes all. */
			if (m->expires != 0 || m->contact != c || c->next) {
				reply(s, peer, m, 400, "");
				return;
			}
			continue;
		}
		/* §10.3 step 7: the contact's expires param, else Expires, else a
		 * default; the registrar may shorten it. */
		unsigned long want = m->expires >= 0 ? (unsigned long)m->expires : 3600;
		if (c->expires.p)
			want = str_ulong(c->expires, want);
		unsigned long granted = want < s->o.max_expires ? want : s->o.max_expires;
		if (granted == 0)
			continue; /* removal: no longer bound */
		int w = snprintf(extra + n, sizeof(extra) - n, "Contact: <%.*s>;expires=%lu\r\n",
				 STR_FMT(c->uri_str), granted);
		if (w < 0 || (size_t)w >= sizeof(extra) - n) {
			reply(s, peer, m, 500, "");
			return;
		}
		n += (size_t)w;
	}
	reply(s, peer, m, 200, extra);
}
