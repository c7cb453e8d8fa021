/* proxy.c — the proxy's lifecycle and its receive path: transport -> parse ->
 * (malformed: 400/413/505/513 or drop, RFC 3261 §16.3 step 1, §18.1.2) ->
 * transaction layer -> the request/response handlers of the other files. */
#include "proxy/proxy_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "util/log.h"

/* log.sip-trace: every message in and out, escaped onto one line. */
static void proxy_trace(const char *dir, const char *buf, size_t len,
			const union tp_sockaddr *peer, enum tp_proto proto)
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

static void proxy_trace_out(void *arg, const struct tp_dest *d, const char *buf, size_t len)
{
	(void)arg;
	proxy_trace("out", buf, len, &d->addr, d->proto);
}

static void proxy_on_packet(void *arg, const struct tp_packet *pkt)
{
	struct proxy *p = arg;
	if (p->cfg->sip_trace)
		proxy_trace("in", pkt->buf, pkt->len, &pkt->src, pkt->proto);
	struct sip_msg *m = sip_msg_new(pkt->buf, pkt->len);
	if (!m)
		return;
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
			proxy_reply_stateless(p, m, pkt, m->error.status, m->error.reason);
		else
			p->stats.dropped++;
		sip_msg_free(m);
		return;
	}
	if (m->is_request)
		p->stats.req_in[m->method]++;
	else if (m->status >= 100 && m->status < PROXY_STATS_CODES)
		p->stats.rsp_in[m->status]++;
	txn_layer_receive(p->txn, m, pkt);
}

/* A connection closed: client transactions waiting on it fail now (§17.1.4)
 * instead of at Timer B/F. */
static void proxy_on_conn_closed(void *arg, uint64_t conn_id, int err)
{
	struct proxy *p = arg;
	if (p->txn)
		txn_layer_conn_closed(p->txn, conn_id, err);
}

int proxy_send_stateless(struct proxy *p, const struct tp_dest *d, const char *buf, size_t len)
{
	int64_t r = tp_send(p->tp, d, buf, len);
	return r < 0 ? (int)r : 0;
}

void proxy_count_out_request(struct proxy *p, enum sip_method m)
{
	p->stats.req_out[m]++;
}

void proxy_count_out_response(struct proxy *p, int status)
{
	if (status >= 100 && status < PROXY_STATS_CODES)
		p->stats.rsp_out[status]++;
}

static const struct txn_user proxy_txn_user = {
	.on_request = proxy_on_request,
	.on_ack = proxy_on_ack,
	.on_response = proxy_on_response,
	.on_client_fail = proxy_on_client_fail,
	.on_stray_response = proxy_on_stray_response,
	.on_server_gone = proxy_on_server_gone,
};

struct proxy *proxy_new(struct event_base *base, const struct config *cfg,
			const struct proxy_routing *routing, char *err, size_t errlen)
{
	struct proxy *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base = base;
	p->cfg = cfg;
	p->routing = *routing;
	sip_random_token(p->branch_prefix, 4);
	p->limits = SIP_LIMITS_DEFAULT;
	p->limits.max_message = cfg->max_message_size;
	p->limits.max_body = cfg->max_message_size;
	p->limits.max_headers = cfg->max_headers;
	p->limits.max_line = cfg->max_line_length;

	struct tp_config tc = {
		.max_message = cfg->max_message_size,
		.tcp_max_conns = cfg->tcp_max_connections,
		.tcp_idle_timeout = cfg->tcp_idle_timeout,
		.tcp_connect_timeout_ms = cfg->tcp_connect_timeout ? cfg->tcp_connect_timeout : 5000,
		.tcp_max_pending = 4u << 20,
		.udp_batch = 32,
	};
	p->tp = tp_new(base, &tc, proxy_on_packet, proxy_on_conn_closed, p);
	struct resolver_config rc = {
		.servers = cfg->dns_servers[0] ? cfg->dns_servers : NULL,
		.cache_max = cfg->dns_cache_size ? cfg->dns_cache_size : 10000,
		.timeout_ms = 2000,
		.tries = 2,
		.have_udp = true,
		.have_tcp = true,
		.have_tls = false,
	};
	if (p->tp && cfg->sip_trace)
		tp_set_trace(p->tp, proxy_trace_out, p);
	p->resolver = resolver_new(base, &rc);
	struct txn_config xc = {cfg->t1_ms, cfg->t2_ms, cfg->t4_ms};
	if (p->tp)
		p->txn = txn_layer_new(base, p->tp, &xc, &proxy_txn_user, p);
	if (!p->tp || !p->resolver || !p->txn) {
		snprintf(err, errlen, "cannot create %s", !p->tp ? "transport" :
			 !p->resolver ? "resolver" : "transaction layer");
		proxy_free(p);
		return NULL;
	}
	return p;
}

int proxy_start(struct proxy *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->cfg->n_listen; i++) {
		const struct cfg_listen *l = &p->cfg->listen[i];
		int r = tp_listen(p->tp, l->proto, l->address, l->port,
				  l->advertise[0] ? l->advertise : NULL);
		if (r < 0) {
			snprintf(err, errlen, "cannot listen on %s %s port %u: %s",
				 tp_proto_name(l->proto), l->address, l->port, strerror(-r));
			return -1;
		}
		LOG_INFO("listening", "proto=%s address=%s port=%u", tp_proto_name(l->proto),
			 l->address, l->port);
	}
	return 0;
}

void proxy_drain(struct proxy *p)
{
	/* New requests get 503 (request.c); UDP sockets stay open so the
	 * transactions in progress still get their responses. */
	p->draining = true;
	tp_stop_listening(p->tp);
}

bool proxy_idle(const struct proxy *p)
{
	size_t s = 0, c = 0;
	txn_layer_counts(p->txn, &s, &c);
	return s == 0 && c == 0;
}

void proxy_get_stats(const struct proxy *p, struct proxy_stats *out)
{
	*out = p->stats;
	txn_layer_counts(p->txn, &out->txn_server_active, &out->txn_client_active);
	out->contexts_active = p->contexts;
}

void proxy_set_location(struct proxy *p, const struct proxy_location *loc)
{
	p->location = *loc;
}

struct tp *proxy_transport(struct proxy *p) { return p->tp; }
struct txn_layer *proxy_txn_layer(struct proxy *p) { return p->txn; }

void proxy_free(struct proxy *p)
{
	if (!p)
		return;
	if (p->txn)
		txn_layer_free(p->txn);
	if (p->resolver)
		resolver_free(p->resolver);
	if (p->tp)
		tp_free(p->tp);
	free(p);
}
