/* ha_pair.h — one SIP Server node's HA pair as a state machine (the vendor's
 * workflow): which member is the primary, whether that is known, and what
 * the next OPTIONS probe is. It only decides; the cluster feeds it events
 * (probe answers, passive failures, a request from a member, an operator's
 * out/in) with the time, and reads where traffic goes. No I/O here, so every
 * path is unit-testable with a made-up clock. */
#ifndef SIPPROXY_CLUSTER_HA_PAIR_H
#define SIPPROXY_CLUSTER_HA_PAIR_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

enum ha_state {
	HA_ACTIVE = 0, /* the primary is known: all traffic goes to it */
	HA_UNKNOWN,    /* it stopped answering: probing alternates at oos-force */
	HA_OUT,	       /* no member answers as active: out of service, probing goes on */
};

/* What a member did last, for /nodes. */
struct ha_member {
	int last_status;	/* last probe's answer; 0 = none yet, -1 = no answer */
	uint64_t last_probe_ms; /* when that probe was sent (0 = never) */
	uint32_t rtt_ms;	/* its round trip */
	bool probing;		/* a probe to it is outstanding */
};

struct ha_pair {
	enum ha_state state;
	unsigned n_members; /* 1 (no backup) or 2 */
	unsigned primary;   /* ACTIVE: where traffic goes; else the last known one */
	unsigned suspect;   /* the member that failed last (UNKNOWN: avoided) */
	unsigned probe_next;
	unsigned misses; /* probes in a row without an active answer, UNKNOWN/OUT */
	bool manual_out; /* taken out by an operator (sipproxyctl node NAME out) */
	struct ha_member m[2];
	uint64_t since_ms;  /* of the current state, on the layer's clock */
	int64_t since_wall; /* the same, seconds since the Unix epoch */
	char reason[96];    /* of the last change */
	uint64_t changes;   /* count of changes */
};

/* Reasons a member counts as failed. */
enum ha_failure { HA_FAIL_TIMEOUT, HA_FAIL_TRANSPORT, HA_FAIL_503 };

void ha_init(struct ha_pair *h, unsigned n_members, uint64_t now_ms, int64_t wall);

/* A probe to member m was answered with status (0: no answer in time).
 * Returns true when the pair changed. */
bool ha_probe_result(struct ha_pair *h, unsigned m, int status, const struct cfg_codes *active,
		     bool probing_on, uint64_t now_ms, int64_t wall);
/* Passive detection: a request to member m failed. */
bool ha_failed(struct ha_pair *h, unsigned m, enum ha_failure why, bool probing_on, uint64_t now_ms,
	       int64_t wall);
/* A request came from member m: it is the active one (a backup's request
 * means it took over). */
bool ha_request_from(struct ha_pair *h, unsigned m, uint64_t now_ms, int64_t wall);
/* An operator took the node out of service (out) or gave it back. */
bool ha_set_manual(struct ha_pair *h, bool out, uint64_t now_ms, int64_t wall);

/* Where traffic for the pair goes: ACTIVE, its primary; UNKNOWN, the member
 * not suspected (a guess); OUT or taken out, none (-1). */
int ha_target(const struct ha_pair *h);
/* Where the requests of the pair's dialogs go: as ha_target, but a node taken
 * out by hand is drained, not cut off: its calls in progress go on (their ACK,
 * re-INVITE and BYE must reach the server that holds them). */
int ha_dialog_target(const struct ha_pair *h);
/* In service: traffic may go to it (ACTIVE or UNKNOWN, not taken out). */
bool ha_in_service(const struct ha_pair *h);
/* Member to probe now, and the interval to the next probe (s). */
unsigned ha_probe_member(struct ha_pair *h);
unsigned ha_probe_interval(const struct ha_pair *h, const struct cfg_node *cfg);

const char *ha_state_name(enum ha_state s);

#endif
