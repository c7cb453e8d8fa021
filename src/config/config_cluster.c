/* config_cluster.c — the per-item tables of the configuration lists: the peer
 * proxies and the SIP Server HA pairs of the cluster (seed: "lists of SIP
 * Proxies and SIP Servers"), and extra listeners (proxy.listen). Each item is a
 * group checked through its own table; duplicates and cross-field rules
 * (a backup port needs a backup address) are checked here. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config/config_internal.h"

#define P(field) offsetof(struct cfg_proxy, field), sizeof(((struct cfg_proxy *)0)->field)
#define N(field) offsetof(struct cfg_node, field), sizeof(((struct cfg_node *)0)->field)
#define L(field) offsetof(struct cfg_listen, field), sizeof(((struct cfg_listen *)0)->field)
#define S(field) offsetof(struct cfg_sbc, field), sizeof(((struct cfg_sbc *)0)->field)

static const struct cfg_option proxy_fields[] = {
    {.key = "name",
     .type = CFG_OPT_STRING,
     P(name),
     .min = 1,
     .required = true,
     .doc = "Unique name of the proxy."},
    {.key = "sip-address",
     .type = CFG_OPT_HOST,
     P(sip_address),
     .required = true,
     .doc = "Address (IP or host name) other proxies reach it on."},
    {.key = "sip-port",
     .type = CFG_OPT_UINT,
     P(sip_port),
     .def = 5060,
     .min = 1,
     .max = 65535,
     .doc = "Its SIP port."},
    {.key = "geo-location", .type = CFG_OPT_STRING, P(geo_location), .doc = "Its site."},
    {.key = "record-route-host",
     .type = CFG_OPT_STRING,
     P(record_route_host),
     .doc = "Host its Record-Route names instead of its address: the data center's cluster "
	    "FQDN (published by DNS SRV), so a peer that resolves it again reaches a live "
	    "proxy of the data center. Every proxy takes a Record-Route naming any proxy's "
	    "host as its own."},
};

static const struct cfg_option node_fields[] = {
    {.key = "name",
     .type = CFG_OPT_STRING,
     N(name),
     .min = 1,
     .required = true,
     .doc = "Unique name of the SIP Server node (HA pair): letters, digits, '-', '_', '.'."},
    {.key = "sip-address",
     .type = CFG_OPT_HOST,
     N(sip_address),
     .required = true,
     .doc = "Address (IP or host name) of the primary."},
    {.key = "sip-port",
     .type = CFG_OPT_UINT,
     N(sip_port),
     .def = 5060,
     .min = 1,
     .max = 65535,
     .doc = "SIP port of the primary."},
    {.key = "backup-sip-address",
     .type = CFG_OPT_HOST,
     N(backup_sip_address),
     .doc = "Address of the backup; empty means no backup."},
    {.key = "backup-sip-port",
     .type = CFG_OPT_UINT,
     N(backup_sip_port),
     .def = 0,
     .def_str = "sip-port",
     .min = 1,
     .max = 65535,
     .doc = "SIP port of the backup (needs backup-sip-address)."},
    {.key = "transport",
     .type = CFG_OPT_ENUM,
     N(transport),
     .def = TP_UDP,
     .choices = cfg_transport_choices,
     .doc = "Transport used to reach it."},
    {.key = "geo-location",
     .type = CFG_OPT_STRING,
     N(geo_location),
     .doc = "Its site; proxies prefer SIP Servers of their own geo-location."},
    {.key = "weight",
     .type = CFG_OPT_UINT,
     N(weight),
     .def = 1,
     .min = 1,
     .max = 1000,
     .doc = "Its share of new requests when cluster.balance is \"weighted\"."},
    {.key = "oos-check",
     .type = CFG_OPT_UINT,
     N(oos_check),
     .def = 5,
     .min = 0,
     .max = 300,
     .doc = "Seconds between OPTIONS to the pair's known primary; no active answer within "
	    "that time makes the pair unknown. 0 turns probing off."},
    {.key = "oos-force",
     .type = CFG_OPT_UINT,
     N(oos_force),
     .def = 5,
     .min = 1,
     .max = 32,
     .doc = "Seconds between OPTIONS while the pair's primary is unknown; they alternate "
	    "between the two members until one answers as active."},
};

static const struct cfg_option sbc_fields[] = {
    {.key = "name",
     .type = CFG_OPT_STRING,
     S(name),
     .min = 1,
     .required = true,
     .doc = "Unique name of the SBC."},
    {.key = "sip-address",
     .type = CFG_OPT_HOST,
     S(sip_address),
     .required = true,
     .doc = "Address (IP or host name) its requests come from."},
};

static const struct cfg_option listen_fields[] = {
    {.key = "transport",
     .type = CFG_OPT_ENUM,
     L(proto),
     .def = TP_UDP,
     .required = true,
     .choices = cfg_transport_choices,
     .doc = "Transport of the listener."},
    {.key = "address",
     .type = CFG_OPT_IP,
     L(address),
     .required = true,
     .doc = "Numeric IPv4/IPv6 address to bind."},
    {.key = "port",
     .type = CFG_OPT_UINT,
     L(port),
     .def = 0,
     .def_str = "proxy.sip-port",
     .min = 1,
     .max = 65535,
     .doc = "Port to bind."},
    {.key = "advertise",
     .type = CFG_OPT_HOST,
     L(advertise),
     .doc = "Host put in Via/Record-Route instead of the address (e.g. behind NAT)."},
};

/* Checks the list shape and size; returns its length or -1. */
static int list_check(const struct cfg_list *l, const config_setting_t *list, size_t max,
		      struct cfg_err *e)
{
	if (!config_setting_is_list(list))
		return cfg_fail(e, list, l->key, "must be a list ( { ... }, ... )");
	int n = config_setting_length(list);
	if ((size_t)n > max)
		return cfg_fail(e, list, l->key, "more than %zu entries", max);
	return n;
}

/* Items of a named list: each group through the list's field table into
 * items[i] (stride bytes apart; every item struct starts with its name),
 * a name used twice refused. Calls check (may be NULL) on each item. Returns
 * the item count or -1. */
static int load_named(const struct cfg_list *l, const config_setting_t *list, void *items,
		      size_t stride, size_t max, const char *what,
		      int (*check)(const config_setting_t *g, void *item, const char *prefix,
				   struct cfg_err *e),
		      struct cfg_err *e)
{
	int n = list_check(l, list, max, e);
	char prefix[128];
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		char *item = (char *)items + (size_t)i * stride;
		snprintf(prefix, sizeof(prefix), "%s[%d]", l->key, i);
		if (cfg_group_apply(l->fields, l->n_fields, g, item, prefix, e) < 0)
			return -1;
		for (int j = 0; j < i; j++)
			if (strcmp((const char *)items + (size_t)j * stride, item) == 0)
				return cfg_fail(e, config_setting_get_member(g, "name"), prefix,
						"duplicate %s name \"%s\"", what, item);
		if (check && check(g, item, prefix, e) < 0)
			return -1;
	}
	return n;
}

_Static_assert(offsetof(struct cfg_proxy, name) == 0, "a list item starts with its name");
_Static_assert(offsetof(struct cfg_node, name) == 0, "a list item starts with its name");
_Static_assert(offsetof(struct cfg_sbc, name) == 0, "a list item starts with its name");

static int load_proxies(const struct cfg_list *l, const config_setting_t *list, struct config *cfg,
			struct cfg_err *e)
{
	int n = load_named(l, list, cfg->proxies, sizeof(cfg->proxies[0]), CFG_MAX_PROXIES, "proxy",
			   NULL, e);
	cfg->n_proxies = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

/* A node's name is a token; a backup port needs a backup address; a backup
 * of an HA pair usually listens where the primary does. */
static int check_node(const config_setting_t *g, void *item, const char *prefix, struct cfg_err *e)
{
	struct cfg_node *nd = item;
	/* The name travels in our Record-Route (a URI parameter) and in admin
	 * paths: token characters only. */
	for (const char *c = nd->name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.')) {
			char key[160];
			snprintf(key, sizeof(key), "%s.name", prefix);
			return cfg_fail(e, config_setting_get_member(g, "name"), key,
					"\"%s\": only letters, digits, '-', '_' and '.'", nd->name);
		}
	const config_setting_t *bport = config_setting_get_member(g, "backup-sip-port");
	if (bport && nd->backup_sip_address[0] == '\0') {
		char key[160];
		snprintf(key, sizeof(key), "%s.backup-sip-port", prefix);
		return cfg_fail(e, bport, key, "set without backup-sip-address");
	}
	if (nd->backup_sip_address[0] && !bport)
		nd->backup_sip_port = nd->sip_port;
	return 0;
}

static int load_nodes(const struct cfg_list *l, const config_setting_t *list, struct config *cfg,
		      struct cfg_err *e)
{
	int n = load_named(l, list, cfg->nodes, sizeof(cfg->nodes[0]), CFG_MAX_NODES, "sip-server",
			   check_node, e);
	cfg->n_nodes = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

static int load_sbcs(const struct cfg_list *l, const config_setting_t *list, struct config *cfg,
		     struct cfg_err *e)
{
	int n = load_named(l, list, cfg->sbcs, sizeof(cfg->sbcs[0]), CFG_MAX_SBCS, "sbc", NULL, e);
	cfg->n_sbcs = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

/* Explicit listeners go to cfg->listen[] as they are; config_load adds the ones
 * derived from proxy.sip-address/sip-port/transports in front of them. */
static int load_listen(const struct cfg_list *l, const config_setting_t *list, struct config *cfg,
		       struct cfg_err *e)
{
	int n = list_check(l, list, CFG_MAX_LISTEN - 2, e);
	char prefix[128];
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
		snprintf(prefix, sizeof(prefix), "%s[%d]", l->key, i);
		if (cfg_group_apply(l->fields, l->n_fields, g, &cfg->listen[i], prefix, e) < 0)
			return -1;
	}
	cfg->n_listen = n < 0 ? 0 : (size_t)n;
	return n < 0 ? -1 : 0;
}

const struct cfg_list cfg_lists[] = {
    {.key = "proxy.listen",
     .doc = "Extra listeners besides sip-address:sip-port.",
     .fields = listen_fields,
     .n_fields = sizeof(listen_fields) / sizeof(listen_fields[0]),
     .load = load_listen},
    {.key = "cluster.proxies",
     .doc = "The SIP Proxies of the cluster (this one is added if absent).",
     .fields = proxy_fields,
     .n_fields = sizeof(proxy_fields) / sizeof(proxy_fields[0]),
     .load = load_proxies},
    {.key = "cluster.sip-servers",
     .doc = "The SIP Servers behind the proxies, each an HA pair (primary, optional backup).",
     .fields = node_fields,
     .n_fields = sizeof(node_fields) / sizeof(node_fields[0]),
     .load = load_nodes},
    {.key = "cluster.sbcs",
     .doc = "SBCs in front of the cluster: trusted edge peers whose Path headers (RFC 3327) "
	    "are honoured; a Path from anyone else is removed and never stored.",
     .fields = sbc_fields,
     .n_fields = sizeof(sbc_fields) / sizeof(sbc_fields[0]),
     .load = load_sbcs},
};

const size_t cfg_lists_count = sizeof(cfg_lists) / sizeof(cfg_lists[0]);
