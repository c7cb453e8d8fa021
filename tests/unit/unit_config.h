/* unit_config.h — the layer configs unit tests run with: the option table's
 * defaults (config_defaults + config_layers.c), so a test states only the
 * values it is about. */
#ifndef SIPPROXY_TESTS_UNIT_CONFIG_H
#define SIPPROXY_TESTS_UNIT_CONFIG_H

#include "config/config.h"
#include "transport/transport.h"

/* The default transport config, with over's non-zero fields applied. */
static inline struct tp_config unit_tp_config(const struct tp_config *over)
{
	static struct config cfg; /* large: not on the stack */
	config_defaults(&cfg);
	struct tp_config c;
	config_transport(&cfg, &c);
	if (over && over->max_message)
		c.max_message = over->max_message;
	if (over && over->tcp_max_conns)
		c.tcp_max_conns = over->tcp_max_conns;
	if (over && over->tcp_idle_timeout)
		c.tcp_idle_timeout = over->tcp_idle_timeout;
	if (over && over->tcp_connect_timeout_ms)
		c.tcp_connect_timeout_ms = over->tcp_connect_timeout_ms;
	if (over && over->tcp_max_pending)
		c.tcp_max_pending = over->tcp_max_pending;
	return c;
}

#endif
