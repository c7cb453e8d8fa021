/* probe.c — active out-of-service detection: the OPTIONS of the vendor's
 * oos-check/oos-force. Per node one timer: when it fires, an OPTIONS goes to
 * the member the HA pair names (the primary while known, else alternately
 * each member) with the interval as its time to answer, and the timer is set
 * for the next one. Only a real response counts as an answer: a timeout or a
 * transport error never does (a locally made 408 is not the server alive). */
#include "cluster/cluster_internal.h"

#include <stdlib.h>
#include <time.h>

#include "txn/txn.h"
#include "util/log.h"

struct probe_ctx {
	struct cluster *c;
	uint32_t node_id;
	unsigned member;
};

static struct timer_wheel *wheel(const struct cluster *c)
{
	return txn_layer_timers(proxy_txn_layer(c->proxy));
}

static void probe_done(void *arg, int status, uint32_t rtt_ms)
{
	struct probe_ctx *pc = arg;
	struct cluster *c = pc->c;
	struct cnode *n = cluster_node_by_id(c, pc->node_id);
	unsigned m = pc->member;
	free(pc);
	if (!n) /* removed by a reload meanwhile */
		return;
	n->probe[m] = NULL;
	struct ha_member *hm = &n->ha.m[m];
	if (status)
		hm->rtt_ms = rtt_ms;
	else
		c->stats.probe_timeouts++;
	bool was_out = n->ha.state != HA_ACTIVE;
	if (ha_probe_result(&n->ha, m, status, &c->cfg->active_codes, n->cfg.oos_check > 0,
			    cluster_now(c), (int64_t)time(NULL))) {
		cluster_node_changed(n);
		/* Newly in doubt: ask the other member now, not oos-force later. */
		if (!was_out && n->ha.state != HA_ACTIVE)
			cluster_probe_start(n, 0);
		else if (n->ha.state == HA_ACTIVE)
			cluster_probe_start(n, n->cfg.oos_check * 1000u);
	}
}

static void probe_send(struct cnode *n, unsigned m, uint32_t timeout_ms)
{
	struct cluster *c = n->c;
	if (n->probe[m])
		return; /* the previous one is still out */
	struct probe_ctx *pc = malloc(sizeof(*pc));
	if (!pc)
		return;
	*pc = (struct probe_ctx){c, n->id, m};
	n->ha.m[m].last_probe_ms = cluster_now(c);
	n->probe[m] = proxy_uac_options(c->proxy, &n->member[m], 70, timeout_ms, probe_done, pc);
	if (!n->probe[m]) {
		free(pc);
		LOG_WARN("probe_failed", "node=%s member=%s reason=\"cannot send\"", n->cfg.name,
			 n->member_text[m]);
		return;
	}
	c->stats.probes++;
}

static void probe_fired(struct timer *t)
{
	struct cnode *n = container_of(t, struct cnode, probe_timer);
	if (cluster_retire_check(n))
		return; /* it was freed */
	unsigned interval = ha_probe_interval(&n->ha, &n->cfg);
	if (!n->cfg.oos_check) {
		/* Probing off: a retiring node still looks for its calls' end. */
		if (n->retiring)
			timer_start(wheel(n->c), &n->probe_timer, CLUSTER_RETIRE_CHECK_MS,
				    probe_fired);
		return;
	}
	unsigned m = ha_probe_member(&n->ha);
	probe_send(n, m, interval * 1000u);
	timer_start(wheel(n->c), &n->probe_timer, interval * 1000u, probe_fired);
}

void cluster_probe_start(struct cnode *n, uint32_t delay_ms)
{
	struct cluster *c = n->c;
	if (!c->proxy || !c->started || (!n->cfg.oos_check && !n->retiring))
		return;
	timer_stop(wheel(c), &n->probe_timer);
	timer_start(wheel(c), &n->probe_timer, delay_ms, probe_fired);
}

void cluster_probe_stop(struct cnode *n)
{
	struct cluster *c = n->c;
	if (!c->proxy)
		return;
	timer_stop(wheel(c), &n->probe_timer);
	for (unsigned m = 0; m < 2; m++) {
		if (!n->probe[m])
			continue;
		/* The callback will not come: its context goes with it. */
		free(proxy_uac_cancel(n->probe[m]));
		n->probe[m] = NULL;
	}
}
