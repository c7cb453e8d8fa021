/* receive.c — the proxy's receive path: transport -> (sip trace) -> parse ->
 * malformed: 400/413/505/513 at the packet's source or drop (RFC 3261 §16.3
 * step 1, §18.1.2, RFC 4475) -> the sender classified once as trusted or not
 * -> transaction layer, which calls the event handlers of the other files. */
#include "proxy/proxy_internal.h"

#include <stdio.h>

#include "util/log.h"

/* log.sip-trace: every message in and out, escaped onto one line. */
static void proxy_trace(const char *dir, const char *buf, size_t len, const union tp_sockaddr *peer,
			enum tp_proto proto)
{
	char a[INET6_ADDRSTRLEN + 8];
	char esc[4096];
	size_t n = 0;
	for (size_t i = 0; i < len && n + 5 < sizeof(esc); i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\r') {
			esc[n++] = '\\';
			esc[n++] = 'r';
		} else if (c == '\n') {
			esc[n++] = '\\';
			esc[n++] = 'n';
		} else if (c == '"' || c == '\\') {
			esc[n++] = '\\';
			esc[n++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			n += (size_t)snprintf(esc + n, sizeof(esc) - n, "\\x%02x", c);
		} else {
			esc[n++] = (char)c;
		}
	}
	LOG_INFO("sip_trace", "dir=%s proto=%s peer=%s len=%zu msg=\"%.*s\"", dir,
		 tp_proto_name(proto), tp_addr_str(peer, a, sizeof(a)), len, (int)n, esc);
}

void proxy_trace_out(void *arg, const struct tp_dest *d, const char *buf, size_t len)
{
	(void)arg;
	proxy_trace("out", buf, len, &d->addr, d->proto);
}

void proxy_on_packet(void *arg, const struct tp_packet *pkt)
{
	struct proxy *p = arg;
	if (p->cfg->sip_trace)
		proxy_trace("in", pkt->buf, pkt->len, &pkt->src, pkt->proto);
	struct sip_msg *m = sip_msg_new(pkt->buf, pkt->len);
	if (!m)
		return;
	bool trusted = p->routing.is_trusted(p->routing.arg, &pkt->src);
	if (sip_msg_parse(m, &p->limits) < 0) {
		p->stats.parse_errors++;
		char a[INET6_ADDRSTRLEN + 8];
		LOG_DEBUG("parse_error", "peer=%s status=%d reason=\"%s\"",
			  tp_addr_str(&pkt->src, a, sizeof(a)), m->error.status,
			  m->error.reason ? m->error.reason : "");
		/* §18.1.2 / RFC 4475: an unparseable response is dropped; a request
		 * is answered when enough of it was read to build the answer. */
		if (m->is_request && m->method != SIP_METHOD_ACK && sip_msg_can_reply(m) &&
		    m->error.status >= 400)
			proxy_reply_stateless(p, m, pkt, trusted, m->error.status, m->error.reason);
		else
			p->stats.dropped++;
		sip_msg_free(m);
		return;
	}
	if (m->is_request)
		p->stats.req_in[m->method]++;
	else if (m->status >= 100 && m->status < PROXY_STATS_CODES)
		p->stats.rsp_in[m->status]++;
	txn_layer_receive(p->txn, m, pkt, trusted);
}
