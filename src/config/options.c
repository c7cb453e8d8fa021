/* options.c — THE table of scalar options: every key of sipproxy.conf outside
 * the cluster lists, with its type, default, check, place in struct config and
 * one line of doc. The loader, config_defaults() and docs/config.md all come from
 * here, so an option exists exactly when it has a row. Timer names and defaults
 * follow RFC 3261 §17.1.1.1 (T1, T2, T4) and §16.6 step 11 (Timer C). */
#include <stddef.h>

#include "config/config_internal.h"
#include "util/log.h"

#define F(field) offsetof(struct config, field), sizeof(((struct config *)0)->field)

static const struct cfg_choice log_levels[] = {
    {"error", LOG_LEVEL_ERROR},
    {"warn", LOG_LEVEL_WARN},
    {"info", LOG_LEVEL_INFO},
    {"debug", LOG_LEVEL_DEBUG},
    {NULL, 0},
};

/* log.target is stored as cfg->log_syslog. */
static const struct cfg_choice log_targets[] = {
    {"stderr", 0},
    {"syslog", 1},
    {NULL, 0},
};

static const struct cfg_choice balance_choices[] = {
    {"round-robin", CFG_BALANCE_ROUND_ROBIN},	    {"weighted", CFG_BALANCE_WEIGHTED},
    {"least-calls", CFG_BALANCE_LEAST_CALLS},	    {"hash-call-id", CFG_BALANCE_HASH_CALL_ID},
    {"hash-from-user", CFG_BALANCE_HASH_FROM_USER}, {NULL, 0},
};

static const struct cfg_choice store_backends[] = {
    {"memory", CFG_STORE_MEMORY},
    {"redis", CFG_STORE_REDIS},
    {NULL, 0},
};

/* Only the transports the proxy implements today; tls/ws slot in here later. */
const struct cfg_choice cfg_transport_choices[] = {
    {"udp", TP_UDP},
    {"tcp", TP_TCP},
    {NULL, 0},
};

const struct cfg_option cfg_options[] = {
    /* proxy: this instance */
    {.key = "proxy.name",
     .type = CFG_OPT_STRING,
     F(name),
     .def_str = "sipproxy-1",
     .min = 1,
     .doc = "Name of this proxy (sipproxy --name overrides it). When cluster.proxies is "
	    "given this proxy must be in it, and its entry gives its address and "
	    "geo-location; without the list it is the only proxy."},
    {.key = "proxy.sip-address",
     .type = CFG_OPT_IP,
     F(sip_address),
     .def_str = "127.0.0.1",
     .doc = "Numeric IPv4/IPv6 address to listen on and to put in Via/Record-Route."},
    {.key = "proxy.sip-port",
     .type = CFG_OPT_UINT,
     F(sip_port),
     .def = 5060,
     .min = 1,
     .max = 65535,
     .doc = "SIP port to listen on (RFC 3261 §19.1.2 default 5060)."},
    {.key = "proxy.transports",
     .type = CFG_OPT_PROTOS,
     F(udp),
     .doc = "Transports opened on sip-address:sip-port (array of \"udp\", \"tcp\")."},
    {.key = "proxy.geo-location",
     .type = CFG_OPT_STRING,
     F(geo_location),
     .doc = "Site (data center) of this proxy; SIP Servers in the same geo-location are "
	    "preferred. Taken from this proxy's cluster.proxies entry when that has one."},
    {.key = "proxy.overload-ctrl-dialog-rate",
     .type = CFG_OPT_UINT,
     F(overload_dialog_rate),
     .def = 0,
     .min = 0,
     .max = 1000000,
     .doc = "New INVITEs per second this proxy accepts; above it an INVITE gets 503 with "
	    "Retry-After (in-dialog requests never do). 0 = no limit."},
    {.key = "proxy.sip-ip-tos",
     .type = CFG_OPT_UINT,
     F(sip_ip_tos),
     .def = 0,
     .min = 0,
     .max = 255,
     .doc = "IP type of service (IPv4 TOS, IPv6 traffic class) of SIP packets, e.g. 184 "
	    "for DSCP EF; 0 leaves the system's default."},
    {.key = "proxy.resolve-host",
     .type = CFG_OPT_BOOL,
     F(resolve_host),
     .def = 0,
     .doc = "false: our Via carries the listener's host name (advertise); true: the IP it "
	    "resolves to at start-up."},

    /* cluster: how the SIP Server nodes are used (the lists are below) */
    {.key = "cluster.balance",
     .type = CFG_OPT_ENUM,
     F(balance),
     .def = CFG_BALANCE_ROUND_ROBIN,
     .choices = balance_choices,
     .doc = "How new requests from endpoints spread over the in-service nodes of this data "
	    "center. A REGISTER always goes by a hash of its address-of-record, and an "
	    "endpoint's requests go to the node that accepted its REGISTER while it is in "
	    "service."},
    {.key = "cluster.active-codes",
     .type = CFG_OPT_STRING,
     F(active_codes_text),
     .def_str = "200-299",
     .doc = "OPTIONS answers that mean \"this member is the active one\" (codes and "
	    "ranges, \"200-299,405\"); a 503 never does."},
    {.key = "cluster.no-response-timeout",
     .type = CFG_OPT_UINT,
     F(no_response_timeout_ms),
     .def = 2000,
     .min = 0,
     .max = 32000,
     .doc = "Milliseconds a pair's primary has to answer a request (any response) before "
	    "the pair is unknown and the request is retried; 0 = only Timer B/F."},
    {.key = "cluster.remote-dcs",
     .type = CFG_OPT_STRLIST,
     F(remote_dcs),
     .doc = "Other data centers (geo-locations) to use, in order, when no node of ours is "
	    "in service; empty = every other one, in the order of cluster.sip-servers."},
    {.key = "cluster.forward-remote",
     .type = CFG_OPT_BOOL,
     F(forward_remote),
     .def = 1,
     .doc = "false: with no local node in service, answer 503 instead of using other data "
	    "centers."},
    {.key = "cluster.retry-after",
     .type = CFG_OPT_UINT,
     F(retry_after),
     .def = 5,
     .min = 0,
     .max = 3600,
     .doc = "Retry-After seconds in a 503 for no node in service or overload (0 = none)."},
    {.key = "cluster.secret",
     .type = CFG_OPT_STRING,
     F(cluster_secret),
     .doc = "Secret every proxy of the cluster shares (at least 16 characters): the key of "
	    "the flow tokens in Record-Route, so any proxy can route an in-dialog request of "
	    "a dialog another proxy set up, and reach an endpoint whose connection another "
	    "proxy holds. Empty: each proxy has its own random key."},
    {.key = "cluster.call-max-lifetime",
     .type = CFG_OPT_UINT,
     F(call_max_lifetime_s),
     .def = 14400,
     .min = 60,
     .max = 604800,
     .doc = "Seconds a call's dialog record lives when no BYE ends it (a UA that vanished): "
	    "it then stops counting for least-calls and leaves /calls."},
    {.key = "cluster.peer-check",
     .type = CFG_OPT_UINT,
     F(peer_check_ms),
     .def = 1000,
     .min = 0,
     .max = 60000,
     .doc = "Milliseconds between OPTIONS each proxy sends every other proxy of the "
	    "cluster; one left unanswered that long marks the peer dead (its endpoints are "
	    "then reached directly over UDP, or answered 430/480). 0 = not watched."},

    /* sip: timers (RFC 3261 §17.1.1.1, §16.6) and limits */
    {.key = "sip.t1",
     .type = CFG_OPT_UINT,
     F(t1_ms),
     .def = 500,
     .min = 50,
     .max = 60000,
     .doc = "T1, RTT estimate in ms (RFC 3261 §17.1.1.1)."},
    {.key = "sip.t2",
     .type = CFG_OPT_UINT,
     F(t2_ms),
     .def = 4000,
     .min = 100,
     .max = 600000,
     .doc = "T2, maximum retransmit interval for non-INVITE requests and INVITE responses, "
	    "in ms; not less than t1."},
    {.key = "sip.t4",
     .type = CFG_OPT_UINT,
     F(t4_ms),
     .def = 5000,
     .min = 100,
     .max = 600000,
     .doc = "T4, maximum time a message stays in the network, in ms."},
    {.key = "sip.timer-c",
     .type = CFG_OPT_UINT,
     F(timer_c_ms),
     .def = 180000,
     .min = 1000,
     .max = 3600000,
     .doc = "Proxy INVITE transaction timeout in ms (RFC 3261 §16.6 step 11: over 3 minutes)."},
    {.key = "sip.max-message-size",
     .type = CFG_OPT_UINT,
     F(max_message_size),
     .def = 65536,
     .min = 1024,
     .max = 16777216,
     .doc = "Largest SIP message accepted, in bytes."},
    {.key = "sip.max-headers",
     .type = CFG_OPT_UINT,
     F(max_headers),
     .def = 128,
     .min = 16,
     .max = 4096,
     .doc = "Most header fields accepted in one message."},
    {.key = "sip.max-line-length",
     .type = CFG_OPT_UINT,
     F(max_line_length),
     .def = 8192,
     .min = 256,
     .max = 1048576,
     .doc = "Longest header line accepted, in bytes."},
    {.key = "sip.tcp-max-connections",
     .type = CFG_OPT_UINT,
     F(tcp_max_connections),
     .def = 4096,
     .min = 1,
     .max = 1000000,
     .doc = "Most TCP connections open at once."},
    {.key = "sip.tcp-idle-timeout",
     .type = CFG_OPT_UINT,
     F(tcp_idle_timeout),
     .def = 120,
     .min = 1,
     .max = 86400,
     .doc = "Seconds before an idle TCP connection is closed."},
    {.key = "sip.tcp-connect-timeout",
     .type = CFG_OPT_UINT,
     F(tcp_connect_timeout),
     .def = 5000,
     .min = 100,
     .max = 120000,
     .doc = "Milliseconds to wait for an outgoing TCP connect."},
    {.key = "sip.tcp-max-queued",
     .type = CFG_OPT_UINT,
     F(tcp_max_queued),
     .def = 4194304,
     .min = 65536,
     .max = 268435456,
     .doc = "Bytes queued for a TCP peer that is not reading before its connection is "
	    "closed."},
    {.key = "sip.record-route",
     .type = CFG_OPT_BOOL,
     F(record_route),
     .def = 1,
     .doc = "Always insert Record-Route so in-dialog requests pass this proxy "
	    "(RFC 3261 §16.6 step 4)."},

    /* registrar (RFC 3261 §10.3; seed: "SIP Proxy acts as a SIP registrar") */
    {.key = "registrar.domains",
     .type = CFG_OPT_STRLIST,
     F(registrar_domains),
     .doc = "Domains whose users the registrar serves: a request from a SIP Server for "
	    "user@domain goes to that user's registered contacts. Empty: the proxy's own "
	    "sip-address."},
    {.key = "registrar.snapshot",
     .type = CFG_OPT_STRING,
     F(registrar_snapshot),
     .doc = "File the in-memory binding store is saved to (and loaded from at start), so a "
	    "restart loses no binding; empty = no snapshot."},
    {.key = "registrar.snapshot-interval",
     .type = CFG_OPT_UINT,
     F(registrar_snapshot_interval),
     .def = 30,
     .min = 1,
     .max = 86400,
     .doc = "Seconds between binding snapshots (one is also written at shutdown)."},
    {.key = "registrar.default-expires",
     .type = CFG_OPT_UINT,
     F(registrar_default_expires),
     .def = 3600,
     .min = 1,
     .max = 4294967,
     .doc = "Binding lifetime in seconds when neither the SIP Server's 2xx nor the REGISTER "
	    "gives one."},

    /* store (seed: "a shared registration-info storage") */
    {.key = "store.backend",
     .type = CFG_OPT_ENUM,
     F(store_backend),
     .def = CFG_STORE_MEMORY,
     .choices = store_backends,
     .doc = "Where bindings live: \"memory\" (this proxy alone, with registrar.snapshot) or "
	    "\"redis\" (one store for the whole cluster: every proxy keeps every binding in "
	    "memory and Redis keeps them in step; see docs/shared-state.md)."},
    {.key = "store.redis-address",
     .type = CFG_OPT_STRING,
     F(store_redis_address),
     .def_str = "127.0.0.1:6379",
     .min = 1,
     .doc = "Redis master \"ip:port\", \"[v6]:port\" or \"unix:/path\", used when "
	    "store.redis-sentinels is empty."},
    {.key = "store.redis-sentinels",
     .type = CFG_OPT_ADDRS,
     F(store_redis_sentinels),
     .max = 8, /* REDIS_LINK_MAX_SENTINELS */
     .doc = "Redis Sentinels \"ip:port\", \"[v6]:port\" or \"host:port\": the master is "
	    "asked of them and followed through a failover."},
    {.key = "store.redis-master-name",
     .type = CFG_OPT_STRING,
     F(store_redis_master),
     .def_str = "sipproxy",
     .min = 1,
     .doc = "The sentinels' name for the Redis master."},
    {.key = "store.redis-password",
     .type = CFG_OPT_STRING,
     F(store_redis_password),
     .doc = "Redis AUTH password; empty = none."},
    {.key = "store.redis-prefix",
     .type = CFG_OPT_STRING,
     F(store_redis_prefix),
     .def_str = "sp",
     .min = 1,
     .doc = "Prefix of every key (letters, digits, \"_.-\"): one Redis can hold several "
	    "clusters."},
    {.key = "store.redis-partitions",
     .type = CFG_OPT_UINT,
     F(store_redis_partitions),
     .def = 16,
     .min = 1,
     .max = 1024,
     .doc = "Partitions the keys and change logs are split into by a hash of the "
	    "address-of-record (each is one Redis Cluster hash tag). Every proxy of a cluster "
	    "must use the same number."},
    {.key = "store.redis-log-length",
     .type = CFG_OPT_UINT,
     F(store_redis_log_length),
     .def = 10000,
     .min = 100,
     .max = 10000000,
     .doc = "Changes each partition's log keeps (approximately): a proxy away for longer "
	    "than that reloads everything."},
    {.key = "store.redis-queue-size",
     .type = CFG_OPT_UINT,
     F(store_redis_queue_size),
     .def = 100000,
     .min = 1,
     .max = 10000000,
     .doc = "Writes held while Redis is unreachable; past it writes are dropped (counted, "
	    "logged) and this proxy's bindings are written back once Redis returns."},
    {.key = "store.redis-timeout",
     .type = CFG_OPT_UINT,
     F(store_redis_timeout_ms),
     .def = 2000,
     .min = 100,
     .max = 60000,
     .doc = "Milliseconds Redis has to connect or answer before the connection is dropped "
	    "and tried again."},

    /* dns */
    {.key = "dns.servers",
     .type = CFG_OPT_STRING,
     F(dns_servers),
     .doc = "Name servers \"ip[:port],...\"; empty uses /etc/resolv.conf."},
    {.key = "dns.cache-size",
     .type = CFG_OPT_UINT,
     F(dns_cache_size),
     .def = 10000,
     .min = 0,
     .max = 10000000,
     .doc = "Most DNS answers kept in the cache (0 = no cache)."},
    {.key = "dns.timeout",
     .type = CFG_OPT_UINT,
     F(dns_timeout_ms),
     .def = 2000,
     .min = 100,
     .max = 60000,
     .doc = "Milliseconds to wait for a name server's answer, per try."},
    {.key = "dns.tries",
     .type = CFG_OPT_UINT,
     F(dns_tries),
     .def = 2,
     .min = 1,
     .max = 10,
     .doc = "Times a DNS query is sent before the name counts as unresolvable."},

    /* log */
    {.key = "log.level",
     .type = CFG_OPT_ENUM,
     F(log_level),
     .def = LOG_LEVEL_INFO,
     .choices = log_levels,
     .doc = "Least severe level written."},
    {.key = "log.target",
     .type = CFG_OPT_ENUM,
     F(log_syslog),
     .def = 0,
     .choices = log_targets,
     .doc = "Where log lines go."},
    {.key = "log.sip-trace",
     .type = CFG_OPT_BOOL,
     F(sip_trace),
     .def = 0,
     .doc = "Log every SIP message in and out (debugging only)."},

    /* admin */
    {.key = "admin.address",
     .type = CFG_OPT_IP,
     F(admin_address),
     .def_str = "127.0.0.1",
     .doc = "Numeric address of the admin HTTP endpoint (GET /health, /metrics)."},
    {.key = "admin.port",
     .type = CFG_OPT_UINT,
     F(admin_port),
     .def = 8060,
     .min = 0,
     .max = 65535,
     .doc = "Port of the admin HTTP endpoint; 0 disables it."},

    /* process */
    {.key = "shutdown-timeout",
     .type = CFG_OPT_UINT,
     F(shutdown_timeout),
     .def = 10,
     .min = 0,
     .max = 3600,
     .doc = "Seconds to let transactions finish on SIGTERM before exiting."},
};

const size_t cfg_options_count = sizeof(cfg_options) / sizeof(cfg_options[0]);
