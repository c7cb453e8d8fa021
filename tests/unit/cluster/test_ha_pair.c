/* test_ha_pair.c — the HA pair state machine (cluster/ha_pair.c) on a made-up
 * clock, every transition of the vendor's workflow: OPTIONS to the known
 * primary every oos-check s, no active answer -> unknown; while unknown
 * OPTIONS alternate between the members every oos-force s until one answers
 * as active (it is the primary), a 503 being a backup's answer; no member
 * answering -> out of service ("HA pair unavailable") with probing going on;
 * passive failures of the primary, a request from the backup, an operator's
 * out/in, single-member nodes, and where traffic goes in each state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cluster/ha_pair.h"

/* cluster.active-codes: the default (2xx) and "200-299,405". */
static const struct cfg_codes codes_2xx = {.n = 1, .lo = {200}, .hi = {299}};
static const struct cfg_codes codes_405 = {.n = 2, .lo = {200, 405}, .hi = {299, 405}};

/* A node probed every 5 s while its primary is known, every 2 s while not. */
static const struct cfg_node node_cfg = {.name = "n", .oos_check = 5, .oos_force = 2};

#define WALL 1700000000 /* the Unix time the made-up clock starts at */

static bool probe(struct ha_pair *h, unsigned m, int status, uint64_t now_ms)
{
	return ha_probe_result(h, m, status, &codes_2xx, true, now_ms,
			       WALL + (int64_t)(now_ms / 1000));
}

static void assert_reason(const struct ha_pair *h, const char *part)
{
	if (!strstr(h->reason, part))
		print_error("reason \"%s\" lacks \"%s\"\n", h->reason, part);
	assert_non_null(strstr(h->reason, part));
}

/* A pair in doubt after its primary (member 0) missed a probe at now_ms. */
static void make_unknown(struct ha_pair *h, uint64_t now_ms)
{
	ha_init(h, 2, 0, WALL);
	assert_true(probe(h, 0, 0, now_ms));
	assert_int_equal(h->state, HA_UNKNOWN);
}

/* A new pair trusts its configured primary until a probe says otherwise. */
static void test_init(void **state)
{
	(void)state;
	struct ha_pair h;
	memset(&h, 0x5a, sizeof(h));
	ha_init(&h, 2, 1234, WALL);
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.n_members, 2);
	assert_int_equal(h.primary, 0);
	assert_false(h.manual_out);
	assert_int_equal(h.changes, 0);
	assert_int_equal(h.since_ms, 1234);
	assert_int_equal(h.since_wall, WALL);
	assert_string_equal(h.reason, "configured primary");
	assert_int_equal(h.m[0].last_status, 0); /* no probe yet */
	assert_int_equal(h.m[1].last_probe_ms, 0);
	assert_int_equal(ha_target(&h), 0);
	assert_true(ha_in_service(&h));
	/* Member counts outside 1..2 are clamped. */
	ha_init(&h, 0, 0, WALL);
	assert_int_equal(h.n_members, 1);
	ha_init(&h, 3, 0, WALL);
	assert_int_equal(h.n_members, 2);
}

/* oos-check: while the primary is known only it is probed, every oos-check s;
 * an active answer changes nothing. */
static void test_known_primary_probed_at_oos_check(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	for (uint64_t t = 0; t < 60000; t += 5000) {
		assert_int_equal(ha_probe_member(&h), 0);
		assert_int_equal(ha_probe_interval(&h, &node_cfg), 5);
		assert_false(probe(&h, 0, 200, t));
	}
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.changes, 0);
	assert_int_equal(h.m[0].last_status, 200);
	assert_int_equal(h.since_ms, 0);
	/* Any 2xx is active by default. */
	assert_false(probe(&h, 0, 202, 60000));
	assert_int_equal(h.state, HA_ACTIVE);
}

/* No active answer from the known primary within oos-check: unknown at once,
 * the other member (the likely new primary) carries traffic meanwhile. */
static void test_primary_no_answer_unknown(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_true(probe(&h, 0, 0, 15000));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_int_equal(h.m[0].last_status, -1);
	assert_int_equal(h.suspect, 0);
	assert_int_equal(h.since_ms, 15000);
	assert_int_equal(h.since_wall, WALL + 15);
	assert_int_equal(h.changes, 1);
	assert_reason(&h, "member 1 did not answer");
	assert_int_equal(ha_target(&h), 1);
	assert_true(ha_in_service(&h));
	assert_int_equal(ha_probe_interval(&h, &node_cfg), 2);
}

/* A 503 is a backup's (or an overloaded server's) answer: the primary that
 * answers 503 is no longer known to be the primary. */
static void test_primary_503_unknown(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_true(probe(&h, 0, 503, 5000));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_int_equal(h.m[0].last_status, 503);
	assert_reason(&h, "member 1 answered 503");
	assert_int_equal(ha_target(&h), 1);
	/* Neither does any other non-active answer. */
	ha_init(&h, 2, 0, WALL);
	assert_true(probe(&h, 0, 404, 5000));
	assert_int_equal(h.state, HA_UNKNOWN);
}

/* cluster.active-codes: "200-299,405" makes a 405 to OPTIONS an active answer,
 * while a 503 still is not. */
static void test_active_codes_configurable(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_false(ha_probe_result(&h, 0, 405, &codes_405, true, 5000, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_true(ha_probe_result(&h, 0, 503, &codes_405, true, 10000, WALL));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_true(ha_probe_result(&h, 1, 405, &codes_405, true, 10100, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	/* With the default codes a 405 is not active. */
	ha_init(&h, 2, 0, WALL);
	assert_true(probe(&h, 0, 405, 5000));
	assert_int_equal(h.state, HA_UNKNOWN);
}

/* oos-force: while unknown the probes alternate between the two members,
 * the one not suspected first. */
static void test_unknown_alternates(void **state)
{
	(void)state;
	struct ha_pair h;
	make_unknown(&h, 5000);
	unsigned want[] = {1, 0, 1, 0, 1, 0};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(ha_probe_interval(&h, &node_cfg), 2);
		assert_int_equal(ha_probe_member(&h), want[i]);
	}
	/* Suspecting the backup starts with the configured primary. */
	ha_init(&h, 2, 0, WALL);
	assert_true(ha_request_from(&h, 1, 100, WALL));
	assert_true(probe(&h, 1, 0, 5000));
	assert_int_equal(h.suspect, 1);
	assert_int_equal(ha_target(&h), 0);
	assert_int_equal(ha_probe_member(&h), 0);
	assert_int_equal(ha_probe_member(&h), 1);
}

/* The member that answers as active while unknown is the primary; probing
 * goes back to oos-check on it alone. */
static void test_unknown_active_answer_is_primary(void **state)
{
	(void)state;
	struct ha_pair h;
	make_unknown(&h, 5000);
	assert_true(probe(&h, 1, 200, 5010));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	assert_int_equal(h.since_ms, 5010);
	assert_int_equal(h.changes, 2);
	assert_int_equal(h.misses, 0);
	assert_reason(&h, "member 2 answered 200");
	assert_int_equal(ha_target(&h), 1);
	assert_int_equal(ha_probe_member(&h), 1);
	assert_int_equal(ha_probe_member(&h), 1);
	assert_int_equal(ha_probe_interval(&h, &node_cfg), 5);
	/* The old primary's late 503 (it is the backup now) changes nothing. */
	assert_false(probe(&h, 0, 503, 5020));
	assert_int_equal(h.primary, 1);
}

/* A backup's 503 while unknown is not active: the next member is asked, and
 * the old primary answering 200 is the primary again. */
static void test_unknown_503_then_primary_back(void **state)
{
	(void)state;
	struct ha_pair h;
	make_unknown(&h, 5000);
	assert_false(probe(&h, 1, 503, 5005));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_int_equal(h.misses, 1);
	assert_true(probe(&h, 0, 200, 7000));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 0);
	assert_int_equal(h.misses, 0);
}

/* No member answers as active: out of service, "HA pair unavailable"; the
 * probes go on alternating at oos-force and the first active answer brings
 * the pair back. */
static void test_misses_out_of_service(void **state)
{
	(void)state;
	struct ha_pair h;
	make_unknown(&h, 5000);
	assert_false(probe(&h, 1, 0, 7000)); /* one member had its chance */
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_true(probe(&h, 0, 503, 9000));
	assert_int_equal(h.state, HA_OUT);
	assert_int_equal(h.since_ms, 9000);
	assert_reason(&h, "HA pair unavailable");
	assert_int_equal(ha_target(&h), -1);
	assert_int_equal(ha_dialog_target(&h), -1); /* nobody to send a BYE to */
	assert_false(ha_in_service(&h));
	/* Probing goes on. */
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ha_probe_interval(&h, &node_cfg), 2);
		unsigned m = ha_probe_member(&h);
		assert_int_equal(m, (unsigned)(i % 2 ? 0 : 1));
		assert_false(probe(&h, m, 0, 11000 + 2000 * (uint64_t)i));
		assert_int_equal(h.state, HA_OUT);
	}
	uint64_t changes = h.changes;
	assert_true(probe(&h, 1, 200, 20000));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	assert_int_equal(h.changes, changes + 1);
	assert_int_equal(ha_target(&h), 1);
}

/* Whatever the backup answers while the primary is known, nothing changes:
 * only the known primary's probe decides. */
static void test_backup_answers_ignored_while_known(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_false(probe(&h, 1, 503, 5000));
	assert_false(probe(&h, 1, 0, 10000));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 0);
	assert_int_equal(h.changes, 0);
	assert_int_equal(h.m[1].last_status, -1);
	/* A member index beyond the pair is ignored. */
	assert_false(probe(&h, 2, 200, 10000));
	assert_false(probe(&h, 7, 0, 10000));
	assert_int_equal(h.state, HA_ACTIVE);
}

/* Passive detection with probing on: the primary's timeout, transport error
 * or 503 before any provisional makes the pair unknown at once, and the
 * other member is probed first. */
static void test_passive_failure_probing_on(void **state)
{
	(void)state;
	static const struct {
		enum ha_failure why;
		const char *text;
	} cases[] = {
	    {HA_FAIL_TIMEOUT, "passive: no response from member 1"},
	    {HA_FAIL_TRANSPORT, "passive: transport error from member 1"},
	    {HA_FAIL_503, "passive: 503 from member 1"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ha_pair h;
		ha_init(&h, 2, 0, WALL);
		assert_true(ha_failed(&h, 0, cases[i].why, true, 3000, WALL + 3));
		assert_int_equal(h.state, HA_UNKNOWN);
		assert_int_equal(h.suspect, 0);
		assert_int_equal(h.since_ms, 3000);
		assert_string_equal(h.reason, cases[i].text);
		assert_int_equal(ha_target(&h), 1);
		assert_int_equal(ha_probe_member(&h), 1);
		/* Further failures while in doubt change nothing more. */
		assert_false(ha_failed(&h, 1, cases[i].why, true, 3100, WALL + 3));
		assert_false(ha_failed(&h, 0, cases[i].why, true, 3200, WALL + 3));
		assert_int_equal(h.changes, 1);
	}
}

/* Only the primary's failure counts: the backup failing (a stale request)
 * changes nothing, nor does anything once the pair is out. */
static void test_passive_failure_of_backup_ignored(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_false(ha_failed(&h, 1, HA_FAIL_TIMEOUT, true, 1000, WALL));
	assert_false(ha_failed(&h, 2, HA_FAIL_TIMEOUT, true, 1000, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.changes, 0);
	make_unknown(&h, 5000);
	assert_false(probe(&h, 1, 0, 7000));
	assert_true(probe(&h, 0, 0, 9000));
	assert_int_equal(h.state, HA_OUT);
	assert_false(ha_failed(&h, 0, HA_FAIL_TRANSPORT, true, 9100, WALL));
	assert_int_equal(h.state, HA_OUT);
}

/* With probing off (oos-check 0) nobody would find the new primary: a
 * passive failure switches straight to the other member. A single-member
 * node has nowhere to go and stays as it is. */
static void test_passive_failure_probing_off(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_true(ha_failed(&h, 0, HA_FAIL_TRANSPORT, false, 1000, WALL + 1));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	assert_int_equal(ha_target(&h), 1);
	assert_string_equal(h.reason, "passive: transport error from member 1");
	assert_true(ha_failed(&h, 1, HA_FAIL_503, false, 2000, WALL + 2));
	assert_int_equal(h.primary, 0);
	assert_int_equal(h.changes, 2);
	assert_false(ha_failed(&h, 1, HA_FAIL_503, false, 2100, WALL + 2)); /* not primary */

	ha_init(&h, 1, 0, WALL);
	assert_false(ha_failed(&h, 0, HA_FAIL_TIMEOUT, false, 1000, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(ha_target(&h), 0);
}

/* A request arriving from the backup: it took over, it is the primary at
 * once, whatever the pair's state. */
static void test_request_from_backup(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_false(ha_request_from(&h, 0, 500, WALL)); /* the primary: nothing new */
	assert_true(ha_request_from(&h, 1, 1000, WALL + 1));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	assert_int_equal(h.since_ms, 1000);
	assert_string_equal(h.reason, "request from member 2: it is active");
	assert_int_equal(ha_target(&h), 1);
	assert_int_equal(ha_probe_member(&h), 1);
	assert_false(ha_request_from(&h, 1, 1100, WALL + 1));
	assert_int_equal(h.changes, 1);
	assert_false(ha_request_from(&h, 2, 1200, WALL + 1));

	/* From unknown: known again, the misses forgotten. */
	make_unknown(&h, 5000);
	assert_false(probe(&h, 1, 0, 7000));
	assert_true(ha_request_from(&h, 1, 7500, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(h.primary, 1);
	assert_int_equal(h.misses, 0);

	/* From out of service: back in service. */
	make_unknown(&h, 5000);
	assert_false(probe(&h, 1, 0, 7000));
	assert_true(probe(&h, 0, 0, 9000));
	assert_int_equal(h.state, HA_OUT);
	assert_true(ha_request_from(&h, 0, 9500, WALL));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(ha_target(&h), 0);
}

/* sipproxyctl node NAME out|in: out of service whatever the probes say, and
 * back in where the probes left it. Out, it is drained: its dialogs' requests
 * still go to its primary (ha_dialog_target). */
static void test_manual_out_in(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_true(ha_set_manual(&h, true, 1000, WALL + 1));
	assert_true(h.manual_out);
	assert_int_equal(h.state, HA_ACTIVE); /* the pair's own state is kept */
	assert_int_equal(h.since_ms, 1000);
	assert_string_equal(h.reason, "taken out by operator");
	assert_int_equal(ha_target(&h), -1);
	assert_int_equal(ha_dialog_target(&h), 0);
	assert_false(ha_in_service(&h));
	assert_false(ha_set_manual(&h, true, 1100, WALL + 1));
	assert_int_equal(h.changes, 1);
	/* Probing and takeovers are still followed while out. */
	assert_true(probe(&h, 0, 0, 5000));
	assert_true(probe(&h, 1, 200, 5100));
	assert_int_equal(h.primary, 1);
	assert_int_equal(ha_target(&h), -1);
	assert_int_equal(ha_dialog_target(&h), 1);
	assert_true(ha_set_manual(&h, false, 6000, WALL + 6));
	assert_false(h.manual_out);
	assert_string_equal(h.reason, "put back by operator");
	assert_int_equal(ha_target(&h), 1);
	assert_true(ha_in_service(&h));
	assert_false(ha_set_manual(&h, false, 6100, WALL + 6));
}

/* A node without a backup: its one member is the target while in doubt;
 * the next miss takes it out, an active answer brings it back. */
static void test_single_member(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 1, 0, WALL);
	assert_int_equal(ha_probe_member(&h), 0);
	assert_false(probe(&h, 0, 200, 5000));
	assert_true(probe(&h, 0, 503, 10000));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_int_equal(ha_target(&h), 0);
	assert_int_equal(ha_probe_member(&h), 0);
	assert_int_equal(ha_probe_member(&h), 0);
	assert_true(probe(&h, 0, 0, 12000));
	assert_int_equal(h.state, HA_OUT);
	assert_reason(&h, "HA pair unavailable");
	assert_int_equal(ha_target(&h), -1);
	assert_int_equal(ha_probe_member(&h), 0);
	assert_true(probe(&h, 0, 200, 14000));
	assert_int_equal(h.state, HA_ACTIVE);
	assert_int_equal(ha_target(&h), 0);
	/* No second member to hear from. */
	assert_false(ha_request_from(&h, 1, 15000, WALL));
	assert_false(probe(&h, 1, 200, 15000));
	assert_true(ha_failed(&h, 0, HA_FAIL_TIMEOUT, true, 16000, WALL));
	assert_int_equal(h.state, HA_UNKNOWN);
	assert_int_equal(ha_target(&h), 0);
}

/* Where traffic goes in each state, and the names /nodes shows. */
static void test_target_each_state(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	assert_int_equal(ha_target(&h), 0); /* active, configured primary */
	assert_true(ha_request_from(&h, 1, 1, WALL));
	assert_int_equal(ha_target(&h), 1); /* active, backup primary */
	assert_true(probe(&h, 1, 0, 5000));
	assert_int_equal(ha_target(&h), 0); /* unknown: the member not suspected */
	assert_true(ha_request_from(&h, 0, 5001, WALL));
	assert_true(probe(&h, 0, 0, 10000));
	assert_int_equal(ha_target(&h), 1);
	assert_false(probe(&h, 1, 0, 12000));
	assert_true(probe(&h, 0, 0, 14000));
	assert_int_equal(ha_target(&h), -1); /* out */
	assert_true(probe(&h, 0, 200, 16000));
	assert_true(ha_set_manual(&h, true, 16001, WALL));
	assert_int_equal(ha_target(&h), -1); /* taken out */
	assert_string_equal(ha_state_name(HA_ACTIVE), "active");
	assert_string_equal(ha_state_name(HA_UNKNOWN), "unknown");
	assert_string_equal(ha_state_name(HA_OUT), "out-of-service");
	assert_string_equal(ha_state_name((enum ha_state)42), "?");
}

/* The vendor's timeline, driven the way probe.c drives the pair (a probe
 * when the timer fires, the next one an interval later, at once when the
 * pair just fell into doubt, oos-check after it became known again): the
 * primary dies at 12 s, the backup takes over at 24 s. */
static void test_timeline(void **state)
{
	(void)state;
	struct ha_pair h;
	ha_init(&h, 2, 0, WALL);
	char log[256] = "";
	uint64_t t = 0;
	while (t <= 30000) {
		unsigned m = ha_probe_member(&h);
		unsigned interval = ha_probe_interval(&h, &node_cfg);
		int status;
		if (m == 0)
			status = t < 12000 ? 200 : 0;
		else
			status = t < 24000 ? 503 : 200;
		bool was_active = h.state == HA_ACTIVE;
		/* An unanswered probe is known to be so when its interval is up. */
		uint64_t done = status ? t : t + interval * 1000u;
		bool changed = probe(&h, m, status, done);
		char step[32];
		snprintf(step, sizeof(step), "%llu:%u%c ", (unsigned long long)(t / 1000), m + 1,
			 h.state == HA_ACTIVE	 ? 'A'
			 : h.state == HA_UNKNOWN ? 'U'
						 : 'O');
		strncat(log, step, sizeof(log) - strlen(log) - 1);
		if (changed && h.state == HA_ACTIVE)
			t = done + node_cfg.oos_check * 1000u;
		else if (changed && was_active)
			t = done;
		else
			t += interval * 1000u;
	}
	/* 0-10 s: the primary answers; the 15 s probe is unanswered by 20 s:
	 * unknown, member 2 at once (503: still a backup), member 1 at oos-force
	 * (no answer by 24 s: out), member 2 answers 200 at 24 s: it is the
	 * primary, probed every oos-check. */
	assert_string_equal(log, "0:1A 5:1A 10:1A 15:1U 20:2U 22:1O 24:2A 29:2A ");
	assert_int_equal(h.primary, 1);
	assert_int_equal(h.changes, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init),
	    cmocka_unit_test(test_known_primary_probed_at_oos_check),
	    cmocka_unit_test(test_primary_no_answer_unknown),
	    cmocka_unit_test(test_primary_503_unknown),
	    cmocka_unit_test(test_active_codes_configurable),
	    cmocka_unit_test(test_unknown_alternates),
	    cmocka_unit_test(test_unknown_active_answer_is_primary),
	    cmocka_unit_test(test_unknown_503_then_primary_back),
	    cmocka_unit_test(test_misses_out_of_service),
	    cmocka_unit_test(test_backup_answers_ignored_while_known),
	    cmocka_unit_test(test_passive_failure_probing_on),
	    cmocka_unit_test(test_passive_failure_of_backup_ignored),
	    cmocka_unit_test(test_passive_failure_probing_off),
	    cmocka_unit_test(test_request_from_backup),
	    cmocka_unit_test(test_manual_out_in),
	    cmocka_unit_test(test_single_member),
	    cmocka_unit_test(test_target_each_state),
	    cmocka_unit_test(test_timeline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
