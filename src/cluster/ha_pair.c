/* ha_pair.c — the HA pair state machine (ha_pair.h). The vendor's workflow:
 * OPTIONS to the known primary every oos-check s; no active answer in time ->
 * unknown, OPTIONS alternately to the two members every oos-force s until one
 * answers as active (it becomes the primary); neither answers -> out of
 * service ("HA pair unavailable") with probing going on. A request from a
 * member, or a passive failure of the primary, changes it at once. */
#include "cluster/ha_pair.h"

#include <stdio.h>
#include <string.h>

const char *ha_state_name(enum ha_state s)
{
	switch (s) {
	case HA_ACTIVE: return "active";
	case HA_UNKNOWN: return "unknown";
	case HA_OUT: return "out-of-service";
	}
	return "?";
}

static void change(struct ha_pair *h, enum ha_state st, unsigned primary, uint64_t now_ms,
		   int64_t wall, const char *reason)
{
	h->state = st;
	h->primary = primary;
	h->since_ms = now_ms;
	h->since_wall = wall;
	h->changes++;
	snprintf(h->reason, sizeof(h->reason), "%s", reason);
}

void ha_init(struct ha_pair *h, unsigned n_members, uint64_t now_ms, int64_t wall)
{
	memset(h, 0, sizeof(*h));
	h->n_members = n_members < 1 ? 1 : n_members > 2 ? 2 : n_members;
	h->state = HA_ACTIVE; /* the configured primary, until a probe says otherwise */
	h->since_ms = now_ms;
	h->since_wall = wall;
	snprintf(h->reason, sizeof(h->reason), "configured primary");
}

static unsigned other(const struct ha_pair *h, unsigned m)
{
	return h->n_members > 1 ? 1 - m : 0;
}

/* The primary is in doubt: probe the other member first. */
static void to_unknown(struct ha_pair *h, unsigned failed, uint64_t now_ms, int64_t wall,
		       const char *reason)
{
	h->suspect = failed;
	h->probe_next = other(h, failed);
	h->misses = 0;
	change(h, HA_UNKNOWN, h->primary, now_ms, wall, reason);
}

bool ha_probe_result(struct ha_pair *h, unsigned m, int status, const struct cfg_codes *active,
		     bool probing_on, uint64_t now_ms, int64_t wall)
{
	(void)probing_on;
	if (m >= h->n_members)
		return false;
	h->m[m].last_status = status ? status : -1;
	char why[96];
	if (status && cfg_codes_match(active, status)) {
		h->misses = 0;
		if (h->state == HA_ACTIVE && h->primary == m)
			return false;
		snprintf(why, sizeof(why), "probe: member %u answered %d", m + 1, status);
		change(h, HA_ACTIVE, m, now_ms, wall, why);
		return true;
	}
	if (status)
		snprintf(why, sizeof(why), "probe: member %u answered %d", m + 1, status);
	else
		snprintf(why, sizeof(why), "probe: member %u did not answer", m + 1);
	if (h->state == HA_ACTIVE) {
		if (m != h->primary)
			return false; /* the backup saying it is one */
		to_unknown(h, m, now_ms, wall, why);
		return true;
	}
	/* Unknown: each member had its chance -> out of service. */
	if (++h->misses >= h->n_members && h->state == HA_UNKNOWN) {
		snprintf(why, sizeof(why), "HA pair unavailable: no member answers as active");
		change(h, HA_OUT, h->primary, now_ms, wall, why);
		return true;
	}
	return false;
}

bool ha_failed(struct ha_pair *h, unsigned m, enum ha_failure why, bool probing_on, uint64_t now_ms,
	       int64_t wall)
{
	if (m >= h->n_members || h->state != HA_ACTIVE || m != h->primary)
		return false;
	static const char *const names[] = {"no response", "transport error", "503"};
	char r[96];
	snprintf(r, sizeof(r), "passive: %s from member %u", names[why], m + 1);
	if (!probing_on) {
		/* Nobody would find the new primary: take the other member. */
		if (h->n_members < 2)
			return false;
		change(h, HA_ACTIVE, other(h, m), now_ms, wall, r);
		return true;
	}
	to_unknown(h, m, now_ms, wall, r);
	return true;
}

bool ha_request_from(struct ha_pair *h, unsigned m, uint64_t now_ms, int64_t wall)
{
	if (m >= h->n_members || (h->state == HA_ACTIVE && h->primary == m))
		return false;
	char r[96];
	snprintf(r, sizeof(r), "request from member %u: it is active", m + 1);
	h->misses = 0;
	change(h, HA_ACTIVE, m, now_ms, wall, r);
	return true;
}

bool ha_set_manual(struct ha_pair *h, bool out, uint64_t now_ms, int64_t wall)
{
	if (h->manual_out == out)
		return false;
	h->manual_out = out;
	h->since_ms = now_ms;
	h->since_wall = wall;
	h->changes++;
	snprintf(h->reason, sizeof(h->reason), "%s by operator", out ? "taken out" : "put back");
	return true;
}

/* The pair's own answer, whatever the operator said. */
static int state_target(const struct ha_pair *h)
{
	switch (h->state) {
	case HA_ACTIVE: return (int)h->primary;
	case HA_UNKNOWN: return (int)other(h, h->suspect);
	case HA_OUT: return -1;
	}
	return -1;
}

int ha_target(const struct ha_pair *h)
{
	return h->manual_out ? -1 : state_target(h);
}

int ha_dialog_target(const struct ha_pair *h)
{
	return state_target(h);
}

bool ha_in_service(const struct ha_pair *h)
{
	return ha_target(h) >= 0;
}

unsigned ha_probe_member(struct ha_pair *h)
{
	if (h->state == HA_ACTIVE)
		return h->primary;
	unsigned m = h->probe_next;
	h->probe_next = other(h, m);
	return m;
}

unsigned ha_probe_interval(const struct ha_pair *h, const struct cfg_node *cfg)
{
	return h->state == HA_ACTIVE ? cfg->oos_check : cfg->oos_force;
}
