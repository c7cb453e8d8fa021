/* proxy.c — the proxy object's lifecycle: its transport (real, or the capture
 * backend), resolver and transaction layer built from the option values, the
 * transaction user table binding the layer to the event files, listeners,
 * (advertised by name, or by the IP it resolves to: proxy.resolve-host), drain
 * on SIGTERM (RFC 3261 §17: transactions in progress still finish), and the
 * counters /metrics reads. */
#include "proxy/proxy_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sip/build.h"
#include "util/log.h"

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
			const struct proxy_routing *routing, const struct proxy_env *env, char *err,
			size_t errlen)
{
	static const struct proxy_env real = {0};
	if (!env)
		env = &real;
	struct proxy *p = calloc(1, sizeof(*p));
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->base = base;
	p->cfg = cfg;
	p->routing = *routing;
	sip_random_token(p->branch_prefix, 4);
	p->self_id = proxy_peer_id(str_cstr(cfg->name));
	for (size_t i = 0; i < cfg->n_proxies; i++)
		if (strcmp(cfg->proxies[i].name, cfg->name) == 0)
			snprintf(p->rr_host, sizeof(p->rr_host), "%s",
				 cfg->proxies[i].record_route_host);
	if (proxy_flow_key_init(p) < 0) {
		snprintf(err, errlen, "cannot set up HMAC-SHA256 for flow tokens");
		free(p);
		return NULL;
	}
	p->limits = SIP_LIMITS_DEFAULT;
	p->limits.max_message = cfg->max_message_size;
	p->limits.max_body = cfg->max_message_size;
	p->limits.max_headers = cfg->max_headers;
	p->limits.max_line = cfg->max_line_length;

	struct tp_config tc;
	config_transport(cfg, &tc);
	p->tp = tp_new(base, &tc, proxy_on_packet, proxy_on_conn_closed, p);
	if (p->tp && env->capture)
		tp_capture_enable(p->tp, env->capture, env->capture_arg);
	if (p->tp && cfg->sip_trace)
		tp_set_trace(p->tp, proxy_trace_out, p);
	struct resolver_config rc;
	config_resolver(cfg, &rc);
	p->resolver = resolver_new(base, &rc);
	struct txn_config xc = {
	    .t1_ms = cfg->t1_ms,
	    .t2_ms = cfg->t2_ms,
	    .t4_ms = cfg->t4_ms,
	    .now_ms = env->now_ms,
	    .clock_arg = env->clock_arg,
	};
	if (p->tp)
		p->txn = txn_layer_new(base, p->tp, &xc, &proxy_txn_user, p);
	if (!p->tp || !p->resolver || !p->txn) {
		snprintf(err, errlen, "cannot create %s",
			 !p->tp		? "transport"
			 : !p->resolver ? "resolver"
					: "transaction layer");
		proxy_free(p);
		return NULL;
	}
	return p;
}

/* proxy.resolve-host (the vendor's): a listener advertised by host name
 * puts the IP that name resolves to in Via instead; once, at start-up. */
static const char *advertised(const struct proxy *p, const struct cfg_listen *l, char *buf,
			      size_t cap)
{
	if (!l->advertise[0])
		return NULL;
	union tp_sockaddr a;
	if (!p->cfg->resolve_host || tp_addr_from_ip(str_cstr(l->advertise), 0, &a) == 0)
		return l->advertise;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(l->advertise, NULL, &hints, &res) != 0 || !res) {
		LOG_WARN("resolve_host", "name=%s result=unresolved action=name_in_via",
			 l->advertise);
		return l->advertise;
	}
	const void *ip = res->ai_family == AF_INET6
			     ? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
			     : (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	if (!inet_ntop(res->ai_family, ip, buf, (socklen_t)cap))
		snprintf(buf, cap, "%s", l->advertise);
	freeaddrinfo(res);
	LOG_INFO("resolve_host", "name=%s ip=%s", l->advertise, buf);
	return buf;
}

int proxy_start(struct proxy *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->cfg->n_listen; i++) {
		const struct cfg_listen *l = &p->cfg->listen[i];
		char ip[INET6_ADDRSTRLEN];
		int r = tp_listen(p->tp, l->proto, l->address, l->port,
				  advertised(p, l, ip, sizeof(ip)));
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

bool proxy_drained(const struct proxy *p)
{
	return txn_layer_live(p->txn) == 0;
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

struct tp *proxy_transport(struct proxy *p)
{
	return p->tp;
}
struct txn_layer *proxy_txn_layer(struct proxy *p)
{
	return p->txn;
}

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
	proxy_flow_key_free(p);
	free(p);
}
