/* aor.c — canonical address-of-record (RFC 3261 §10.3 step 5): the To URI of a
 * REGISTER, or the Request-URI of a request for a user, reduced to
 * "scheme:user@host" with the host lower-cased, so refreshes, lookups and
 * other proxies all agree on the key. */
#include "registrar/registrar.h"

#include <string.h>
#include <time.h>

size_t registrar_aor(const struct sip_uri *u, char *out, size_t cap)
{
	const char *scheme = u->scheme == SIP_URI_SIPS ? "sips:" : "sip:";
	if (u->scheme != SIP_URI_SIP && u->scheme != SIP_URI_SIPS)
		return 0;
	size_t need = strlen(scheme) + u->user.len + 1 + u->host.len;
	if (need + 1 > cap || u->host.len == 0)
		return 0;
	size_t n = 0;
	memcpy(out, scheme, strlen(scheme));
	n += strlen(scheme);
	if (u->user.len) {
		memcpy(out + n, u->user.p, u->user.len);
		n += u->user.len;
		out[n++] = '@';
	}
	for (size_t i = 0; i < u->host.len; i++) {
		char c = u->host.p[i];
		out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
	}
	out[n] = '\0';
	return n;
}

int64_t registrar_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
