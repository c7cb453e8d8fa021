/* stats.h — counters the proxy keeps for /metrics: messages in and out by
 * method and status code, parse errors, refusals. Plain integers updated on the
 * loop thread; one struct per loop, summed by the reader. */
#ifndef SIPPROXY_PROXY_STATS_H
#define SIPPROXY_PROXY_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sip/msg.h"

#define PROXY_STATS_CODES 700 /* status codes 100..699 index directly */

struct proxy_stats {
	uint64_t req_in[SIP_METHOD_COUNT];
	uint64_t req_out[SIP_METHOD_COUNT];
	uint64_t rsp_in[PROXY_STATS_CODES];
	uint64_t rsp_out[PROXY_STATS_CODES];
	uint64_t parse_errors;	    /* messages that failed to parse */
	uint64_t dropped;	    /* messages dropped (unparseable response, bad ACK, ...) */
	uint64_t stray_responses;   /* responses matching no transaction of ours: dropped */
	uint64_t relay_refused;	    /* untrusted requests kept from leaving the cluster */
	uint64_t local_replies;	    /* responses the proxy generated itself */
	uint64_t server_retries;    /* requests retried after a SIP Server member failed */
	uint64_t no_server;	    /* requests answered 503: no SIP Server node in service */
	uint64_t overload_rejected; /* INVITEs refused over proxy.overload-ctrl-dialog-rate */
	size_t txn_server_active;
	size_t txn_client_active;
	size_t contexts_active; /* proxied requests in progress */
};

struct proxy;
void proxy_get_stats(const struct proxy *p, struct proxy_stats *out);

#endif
