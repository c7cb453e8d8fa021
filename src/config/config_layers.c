/* config_layers.c — the option values handed to the layers below the config
 * (transport, resolver) as their own config structs. Those layers keep no
 * defaults of their own: every number they run with comes from the option
 * table through here. */
#include "config/config.h"

#include <string.h>

#include "transport/resolver.h"

void config_transport(const struct config *cfg, struct tp_config *out)
{
	memset(out, 0, sizeof(*out));
	out->max_message = cfg->max_message_size;
	out->tcp_max_conns = cfg->tcp_max_connections;
	out->tcp_idle_timeout = cfg->tcp_idle_timeout;
	out->tcp_connect_timeout_ms = cfg->tcp_connect_timeout;
	out->tcp_max_pending = cfg->tcp_max_queued;
	out->ip_tos = cfg->sip_ip_tos;
}

void config_resolver(const struct config *cfg, struct resolver_config *out)
{
	memset(out, 0, sizeof(*out));
	out->servers = cfg->dns_servers[0] ? cfg->dns_servers : NULL;
	out->cache_max = cfg->dns_cache_size;
	out->timeout_ms = cfg->dns_timeout_ms;
	out->tries = cfg->dns_tries;
	/* Transports we can send on: those we listen on. */
	out->have_udp = cfg->udp;
	out->have_tcp = cfg->tcp;
	out->have_tls = false;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		out->have_udp = out->have_udp || cfg->listen[i].proto == TP_UDP;
		out->have_tcp = out->have_tcp || cfg->listen[i].proto == TP_TCP;
	}
}
