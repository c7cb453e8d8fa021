/* build.h — messages the proxy originates: responses to a request it received
 * (RFC 3261 §8.2.6, §16.7), CANCEL (§9.1) and the ACK for a non-2xx final
 * response (§17.1.1.3), each built from parsed messages into a caller buffer. */
#ifndef SIPPROXY_SIP_BUILD_H
#define SIPPROXY_SIP_BUILD_H

#include <stddef.h>

#include "sip/msg.h"

/* Response to req: status line, every Via in order, From, To (with to_tag added
 * when To has no tag and to_tag is given), Call-ID, CSeq, then extra (raw header
 * lines ending in CRLF, may be empty), Content-Length: 0. A 100 copies no tag
 * (§8.2.6.2). reason NULL = default phrase. Returns length, 0 if cap too small. */
size_t sip_build_response(const struct sip_msg *req, int status, const char *reason,
			  struct str to_tag, struct str extra, char *out, size_t cap);

/* CANCEL for a request we sent (sent = the forwarded INVITE, parsed): same
 * Request-URI, Call-ID, From, To, CSeq number, top Via only, Route copied. */
size_t sip_build_cancel(const struct sip_msg *sent, char *out, size_t cap);

/* ACK for a non-2xx final response to the INVITE we sent: Request-URI, top Via,
 * From, Call-ID, CSeq number and Route of the INVITE; To of the response. */
size_t sip_build_ack(const struct sip_msg *sent, const struct sip_msg *rsp, char *out, size_t cap);

/* A fresh tag/branch-safe random token of n chars [0-9a-z] (n < cap). */
void sip_random_token(char *out, size_t n);

#endif
