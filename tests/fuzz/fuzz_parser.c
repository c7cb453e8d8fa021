/* fuzz_parser.c — libFuzzer entry for the SIP parser: every input goes through
 * sip_frame_length (stream framing, RFC 3261 §18.3), sip_msg_new +
 * sip_msg_parse (datagram, §7), and the helpers that walk parsed slices
 * (param lookup, token lists, URI comparison). Seeds: the RFC 4475 torture
 * messages (tests/data/rfc4475/) plus tests/fuzz/corpus/. Bad input must never
 * crash or read out of bounds (ASan/UBSan). */
#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"

static int count_token(void *arg, struct str t)
{
	(*(size_t *)arg) += t.len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	long fl = sip_frame_length(buf, size, 65536);
	if (fl > (long)size)
		__builtin_trap();

	struct sip_msg *m = sip_msg_new(buf, size);
	if (!m)
		return 0;
	struct sip_limits lim = SIP_LIMITS_DEFAULT;
	lim.max_headers = 64;
	(void)sip_msg_parse(m, &lim);
	(void)sip_msg_can_reply(m);
	size_t sum = 0;
	sip_msg_tokens(m, SIP_HDR_PROXY_REQUIRE, count_token, &sum);
	struct str v;
	for (struct sip_via *via = m->via; via; via = via->next)
		(void)sip_param_find(via->params, "branch", &v);
	for (struct sip_addr *a = m->contact; a; a = a->next) {
		(void)sip_param_find(a->params, "expires", &v);
		if (!a->star)
			(void)sip_uri_equal(&a->uri, &m->ruri);
	}
	if (m->from && m->to)
		(void)sip_uri_equal(&m->from->uri, &m->to->uri);
	for (struct sip_hdr *h = m->hdrs; h; h = h->next)
		(void)sip_msg_hdr_by_name(m, h->name);
	if (m->len > size)
		__builtin_trap();
	sip_msg_free(m);
	return 0;
}
