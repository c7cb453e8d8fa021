/* config.h — the read-only configuration snapshot, loaded from one libconfig
 * file. Every scalar option is declared once in the table in options.c (key,
 * type, default, check, doc); the cluster lists (proxies, sip-servers) and
 * listeners have their own per-item tables. Errors name file, line and key. */
#ifndef SIPPROXY_CONFIG_CONFIG_H
#define SIPPROXY_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "transport/transport.h"

#define CFG_NAME_MAX	64
#define CFG_HOST_MAX	256
#define CFG_MAX_LISTEN	16
#define CFG_MAX_PROXIES 64
#define CFG_MAX_NODES	256
#define CFG_MAX_SBCS	64

struct cfg_listen {
	enum tp_proto proto;
	char address[CFG_HOST_MAX]; /* numeric IPv4/IPv6 to bind */
	uint16_t port;
	char advertise[CFG_HOST_MAX]; /* host in Via/Record-Route; empty = address */
};

/* A peer proxy of the cluster (seed: "lists of SIP Proxies"). */
struct cfg_proxy {
	char name[CFG_NAME_MAX];
	char sip_address[CFG_HOST_MAX];
	uint16_t sip_port;
	char geo_location[CFG_NAME_MAX];
	char record_route_host[CFG_HOST_MAX]; /* its Record-Route names this; empty = address */
};

/* An SBC in front of the cluster: a trusted edge peer, the only sender whose
 * Path headers (RFC 3327) are honoured. Its requests are still an endpoint's:
 * they reach only SIP Servers. */
struct cfg_sbc {
	char name[CFG_NAME_MAX];
	char sip_address[CFG_HOST_MAX];
};

/* A SIP Server node: an HA pair (primary, optional backup). */
struct cfg_node {
	char name[CFG_NAME_MAX];
	char sip_address[CFG_HOST_MAX]; /* primary */
	uint16_t sip_port;
	char backup_sip_address[CFG_HOST_MAX]; /* empty = no backup */
	uint16_t backup_sip_port;
	enum tp_proto transport; /* how we reach it (default udp) */
	char geo_location[CFG_NAME_MAX];
	unsigned weight;    /* share under cluster.balance "weighted" */
	unsigned oos_check; /* s between OPTIONS to the known primary; 0 = no probing */
	unsigned oos_force; /* s between OPTIONS, alternating members, while unknown */
};

/* cluster.balance: how new requests from endpoints spread over the nodes. */
enum cfg_balance {
	CFG_BALANCE_ROUND_ROBIN = 0,
	CFG_BALANCE_WEIGHTED,
	CFG_BALANCE_LEAST_CALLS,
	CFG_BALANCE_HASH_CALL_ID,
	CFG_BALANCE_HASH_FROM_USER,
};

/* store.backend: where the registration store lives. */
enum cfg_store_backend {
	CFG_STORE_MEMORY = 0, /* this proxy's memory (+ snapshot): one proxy */
	CFG_STORE_REDIS,      /* shared by the cluster through Redis */
};

#define CFG_MAX_CODE_RANGES 8
/* Status codes as ranges ("200-299,405"). */
struct cfg_codes {
	size_t n;
	uint16_t lo[CFG_MAX_CODE_RANGES], hi[CFG_MAX_CODE_RANGES];
};

#define CFG_MAX_DOMAINS 32

/* An array of strings option (e.g. registrar.domains). */
struct cfg_strlist {
	size_t n;
	char v[CFG_MAX_DOMAINS][CFG_HOST_MAX];
};

struct config {
	char path[1024]; /* file it came from */

	/* proxy: this instance */
	char name[CFG_NAME_MAX];
	char geo_location[CFG_NAME_MAX];
	char sip_address[CFG_HOST_MAX];
	uint16_t sip_port;
	bool udp, tcp;				  /* proxy.transports */
	struct cfg_listen listen[CFG_MAX_LISTEN]; /* derived + explicit listeners */
	size_t n_listen;

	/* cluster */
	struct cfg_proxy proxies[CFG_MAX_PROXIES];
	size_t n_proxies;
	struct cfg_node nodes[CFG_MAX_NODES];
	size_t n_nodes;
	struct cfg_sbc sbcs[CFG_MAX_SBCS];
	size_t n_sbcs;
	enum cfg_balance balance;
	char active_codes_text[128];
	struct cfg_codes active_codes;	 /* probe answers that mean "this member is active" */
	unsigned no_response_timeout_ms; /* passive detection; 0 = Timer B/F only */
	struct cfg_strlist remote_dcs;	 /* other data centers, in order; empty = all */
	bool forward_remote;		 /* no local node in service: other data centers */
	unsigned retry_after;		 /* s, in the 503 when no node is in service */
	char cluster_secret[256];	 /* flow-token key shared by the proxies; empty = own */
	unsigned peer_check_ms;		 /* OPTIONS between proxies; 0 = not watched */
	unsigned call_max_lifetime_s;	 /* a dialog record not ended by then goes */
	unsigned overload_dialog_rate;	 /* new INVITEs per second; 0 = no limit */
	unsigned sip_ip_tos;		 /* IP TOS / traffic class of SIP packets */
	bool resolve_host;		 /* Via carries the resolved IP, not the host name */

	/* sip: timers (ms) and limits */
	uint32_t t1_ms, t2_ms, t4_ms, timer_c_ms;
	size_t max_message_size;
	unsigned max_headers;
	size_t max_line_length;
	unsigned tcp_max_connections;
	unsigned tcp_idle_timeout;    /* s */
	unsigned tcp_connect_timeout; /* ms */
	unsigned tcp_max_queued;      /* bytes */
	bool record_route;	      /* always Record-Route (default true) */

	/* registrar */
	struct cfg_strlist registrar_domains; /* served domains (lower case) */
	char registrar_snapshot[1024];	      /* file for the binding snapshot; empty = none */
	unsigned registrar_snapshot_interval; /* s between snapshots */
	unsigned registrar_default_expires;   /* s when neither 2xx nor REGISTER says */

	/* store */
	int store_backend; /* enum cfg_store_backend */
	char store_redis_address[CFG_HOST_MAX];
	struct cfg_strlist store_redis_sentinels;
	char store_redis_master[CFG_NAME_MAX];
	char store_redis_password[128];
	char store_redis_prefix[64];
	unsigned store_redis_partitions;
	unsigned store_redis_log_length; /* entries per partition's change log */
	unsigned store_redis_queue_size; /* writes held while Redis is away */
	unsigned store_redis_timeout_ms;

	/* dns */
	char dns_servers[512]; /* empty = system resolver */
	unsigned dns_cache_size;
	unsigned dns_timeout_ms;
	unsigned dns_tries;

	/* log */
	int log_level; /* enum log_level */
	bool log_syslog;
	bool sip_trace;

	/* admin */
	char admin_address[CFG_HOST_MAX];
	uint16_t admin_port; /* 0 = disabled */

	/* process */
	unsigned shutdown_timeout; /* s to drain on SIGTERM */
};

/* Loads and validates path. On error returns -1 and writes
 * "FILE:LINE: KEY: problem" into err (FILE is the included file the setting
 * is in: the cluster definition is its own file, @include'd). */
int config_load(const char *path, struct config *cfg, char *err, size_t errlen);
/* Same, as the proxy called name (NULL: proxy.name of the file). When the
 * definition lists cluster.proxies, this proxy must be one of them: its
 * address, port and geo-location come from its entry. */
int config_load_as(const char *path, const char *name, struct config *cfg, char *err,
		   size_t errlen);
/* A published cluster definition (text holding only the cluster group,
 * named label in errors) applied to base, this running proxy's config: out
 * is base with the definition's cluster settings, checked as a file's would
 * be (this proxy must be in it, at the address it runs on). */
int config_load_cluster(const char *text, const char *label, const struct config *base,
			struct config *out, char *err, size_t errlen);
/* Is status one of codes? */
bool cfg_codes_match(const struct cfg_codes *codes, int status);
/* Same, from text (tests); name stands in for the file name in messages. */
int config_load_string(const char *text, const char *name, struct config *cfg, char *err,
		       size_t errlen);
/* Defaults only (no file). */
void config_defaults(struct config *cfg);
/* Writes the option reference (generated from the table) as Markdown. */
void config_write_docs(FILE *out);

/* The settings of the layers below, from the option values (config_layers.c):
 * the only place a layer's configuration is filled. */
struct resolver_config;
void config_transport(const struct config *cfg, struct tp_config *out);
void config_resolver(const struct config *cfg, struct resolver_config *out);

#endif
