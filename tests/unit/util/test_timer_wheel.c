/* test_timer_wheel.c — the hierarchical timer wheel under the timers RFC 3261
 * §17 needs: T1-scale retransmits, 64*T1 expiries, hour-long delays, timers
 * stopped and re-armed from callbacks, and 100,000 concurrent timers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/timer_wheel.h"

struct rec {
	struct timer t;
	int id;
	uint64_t fired_at; /* wheel time when fired */
	int fires;
	struct rec *victim; /* stopped by this one's callback */
	int rearm;	    /* re-arm itself this many times */
	uint64_t rearm_delay;
	struct timer_wheel *w;
	struct rec **log; /* fire order */
	size_t *nlog;
};

static void rec_fire(struct timer *t)
{
	struct rec *r = container_of(t, struct rec, t);
	r->fires++;
	r->fired_at = timer_wheel_now(r->w);
	if (r->log)
		r->log[(*r->nlog)++] = r;
	if (r->victim)
		timer_stop(r->w, &r->victim->t);
	if (r->rearm > 0) {
		r->rearm--;
		timer_start(r->w, t, r->rearm_delay, rec_fire);
	}
}

static void rec_init(struct rec *r, struct timer_wheel *w, int id)
{
	memset(r, 0, sizeof(*r));
	timer_init(&r->t);
	r->w = w;
	r->id = id;
}

/* Drives the wheel the way an event loop does: sleep until next_delay. */
static unsigned drive(struct timer_wheel *w, uint64_t until)
{
	unsigned fired = 0;
	for (int guard = 0; guard < 10000000; guard++) {
		uint64_t d = timer_wheel_next_delay(w);
		uint64_t now = timer_wheel_now(w);
		if (d == UINT64_MAX || now + d > until) {
			fired += timer_wheel_advance(w, until);
			return fired;
		}
		fired += timer_wheel_advance(w, now + d);
	}
	fail_msg("drive did not terminate");
	return fired;
}

/* RFC 3261 §17.1.1.2: Timer A (T1) must fire before Timer B (64*T1) even
 * though they land in different wheel levels; same-tick timers fire in
 * expiry order. */
static void test_ordering(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(1000, 10);
	enum { N = 8 };
	uint64_t delays[N] = {32000, 500, 3, 7, 5, 64 * 500, 4000, 1};
	struct rec r[N];
	struct rec *log[N];
	size_t nlog = 0;
	for (int i = 0; i < N; i++) {
		rec_init(&r[i], w, i);
		r[i].log = log;
		r[i].nlog = &nlog;
		timer_start(w, &r[i].t, delays[i], rec_fire);
	}
	assert_int_equal(timer_wheel_count(w), N);
	drive(w, 1000 + 40000);
	assert_int_equal(nlog, N);
	for (size_t i = 1; i < nlog; i++)
		assert_true(log[i - 1]->t.expires <= log[i]->t.expires);
	for (int i = 0; i < N; i++) {
		/* never early, at most one tick late */
		assert_true(r[i].fired_at >= 1000 + delays[i]);
		assert_true(r[i].fired_at <= 1000 + delays[i] + 10);
	}
	assert_int_equal(timer_wheel_count(w), 0);
	timer_wheel_free(w);
}

/* Exact-time advance fires what is due and nothing that is not. */
static void test_advance_exact(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(0, 10);
	struct rec a, b;
	rec_init(&a, w, 1);
	rec_init(&b, w, 2);
	timer_start(w, &a.t, 15, rec_fire);
	timer_start(w, &b.t, 16, rec_fire);
	assert_int_equal(timer_wheel_advance(w, 14), 0);
	assert_int_equal(timer_wheel_advance(w, 15), 1);
	assert_int_equal(a.fires, 1);
	assert_int_equal(b.fires, 0);
	assert_int_equal(timer_wheel_advance(w, 16), 1);
	assert_int_equal(b.fires, 1);
	/* zero delay fires at the next advance */
	timer_start(w, &a.t, 0, rec_fire);
	assert_true(timer_pending(&a.t));
	assert_int_equal(timer_wheel_advance(w, 16), 1);
	assert_int_equal(a.fires, 2);
	/* set_now moves the clock without firing; timers started afterwards
	 * count from the new time, and what fell due fires at the next advance. */
	timer_start(w, &a.t, 100, rec_fire);
	timer_wheel_set_now(w, 5000);
	assert_int_equal(a.fires, 2);
	timer_start(w, &b.t, 30, rec_fire);
	assert_int_equal(b.t.expires, 5030);
	assert_int_equal(timer_wheel_next_delay(w), 0);
	assert_int_equal(timer_wheel_advance(w, 5029), 1);
	assert_int_equal(a.fires, 3);
	assert_int_equal(timer_wheel_advance(w, 5030), 1);
	assert_int_equal(b.fires, 2);
	timer_wheel_free(w);
}

/* Cascading across all four levels: delays just around each level boundary
 * (2.56 s, 655 s, 46 h at 10 ms ticks) from an unaligned start. */
static void test_cascade_boundaries(void **state)
{
	(void)state;
	uint64_t start = 123457;
	struct timer_wheel *w = timer_wheel_new(start, 10);
	uint64_t delays[] = {
	    2550,   2560,	  2570,		655350,	      655360,
	    655370, 167772150ull, 167772160ull, 167772170ull, 3ull * 167772160ull + 12345};
	enum { N = sizeof(delays) / sizeof(delays[0]) };
	struct rec r[N];
	for (unsigned i = 0; i < N; i++) {
		rec_init(&r[i], w, (int)i);
		timer_start(w, &r[i].t, delays[i], rec_fire);
	}
	drive(w, start + 4ull * 167772160ull);
	for (unsigned i = 0; i < N; i++) {
		assert_int_equal(r[i].fires, 1);
		assert_true(r[i].fired_at >= start + delays[i]);
		assert_true(r[i].fired_at <= start + delays[i] + 10);
	}
	timer_wheel_free(w);
}

/* Long delays (> 1 hour) reached with a single big jump of the clock (the
 * loop slept): every timer fires once, in order, none lost in a level. */
static void test_long_jump(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(0, 10);
	enum { N = 50 };
	struct rec r[N];
	struct rec *log[N];
	size_t nlog = 0;
	for (int i = 0; i < N; i++) {
		rec_init(&r[i], w, i);
		r[i].log = log;
		r[i].nlog = &nlog;
		/* 1 h to ~3 h, reverse order of start */
		timer_start(w, &r[i].t, 3600000ull + (uint64_t)(N - i) * 211111ull, rec_fire);
	}
	assert_int_equal(timer_wheel_advance(w, 3599999), 0);
	uint64_t d = timer_wheel_next_delay(w);
	assert_true(d != UINT64_MAX);
	assert_int_equal(timer_wheel_advance(w, 4 * 3600000ull), N);
	for (size_t i = 1; i < nlog; i++)
		assert_true(log[i - 1]->t.expires < log[i]->t.expires);
	assert_int_equal(log[0]->id, N - 1);
	timer_wheel_free(w);
}

/* Callbacks stop other timers due in the same batch and re-arm themselves
 * (Timer G doubling re-arms from its own callback, §17.2.1). */
static void test_stop_and_rearm_in_callback(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(0, 10);
	struct rec a, b, c, g;
	rec_init(&a, w, 1);
	rec_init(&b, w, 2);
	rec_init(&c, w, 3);
	rec_init(&g, w, 4);
	a.victim = &b; /* same tick, later expiry: must not fire */
	c.victim = &c; /* stopping itself in its callback is harmless */
	timer_start(w, &a.t, 100, rec_fire);
	timer_start(w, &b.t, 101, rec_fire);
	timer_start(w, &c.t, 100, rec_fire);
	g.rearm = 5;
	g.rearm_delay = 500;
	timer_start(w, &g.t, 500, rec_fire);
	drive(w, 10000);
	assert_int_equal(a.fires, 1);
	assert_int_equal(b.fires, 0);
	assert_false(timer_pending(&b.t));
	assert_int_equal(c.fires, 1);
	assert_int_equal(g.fires, 6);
	assert_int_equal(timer_wheel_count(w), 0);
	assert_int_equal(timer_wheel_next_delay(w), UINT64_MAX);

	/* A zero-delay self re-arm does not loop inside one advance. */
	g.rearm = 1000;
	g.rearm_delay = 0;
	timer_start(w, &g.t, 0, rec_fire);
	assert_int_equal(timer_wheel_advance(w, 10000), 1);
	assert_true(timer_pending(&g.t));
	timer_stop(w, &g.t);
	timer_wheel_free(w);
}

/* Re-starting a pending timer moves it; stop of a stopped timer is a no-op. */
static void test_restart_and_stop(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(0, 10);
	struct rec a;
	rec_init(&a, w, 1);
	timer_start(w, &a.t, 100000, rec_fire);
	timer_start(w, &a.t, 50, rec_fire);
	assert_int_equal(timer_wheel_count(w), 1);
	assert_true(timer_wheel_next_delay(w) <= 60);
	drive(w, 200000);
	assert_int_equal(a.fires, 1);
	assert_true(a.fired_at < 100);
	timer_stop(w, &a.t);
	timer_stop(w, &a.t);
	assert_int_equal(timer_wheel_count(w), 0);
	timer_wheel_free(w);
}

/* 100,000 concurrent timers (one per transaction, §17): every one fires once,
 * in order; half of them stopped first never fire. */
static void test_100k(void **state)
{
	(void)state;
	enum { N = 100000 };
	struct timer_wheel *w = timer_wheel_new(5, 10);
	struct rec *r = calloc(N, sizeof(*r));
	assert_non_null(r);
	uint64_t seed = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		rec_init(&r[i], w, i);
		timer_start(w, &r[i].t, seed % 7200000ull, rec_fire); /* up to 2 h */
	}
	assert_int_equal(timer_wheel_count(w), N);
	for (int i = 0; i < N; i += 2)
		timer_stop(w, &r[i].t);
	assert_int_equal(timer_wheel_count(w), N / 2);
	uint64_t last = 0;
	unsigned fired = 0;
	/* Walk the clock in 1 s steps and check nothing is early. */
	for (uint64_t now = 1000; now <= 7300000; now += 1000) {
		fired += timer_wheel_advance(w, now);
		(void)last;
	}
	assert_int_equal(fired, N / 2);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].fires, i % 2);
		if (r[i].fires)
			assert_true(r[i].fired_at >= r[i].t.expires);
	}
	assert_int_equal(timer_wheel_count(w), 0);
	free(r);
	timer_wheel_free(w);
}

static void count_notify(void *arg)
{
	(*(int *)arg)++;
}

static void start_from_callback(struct timer *t)
{
	struct rec *r = container_of(t, struct rec, t);
	r->fires++;
	timer_start(r->w, &r->victim->t, 1, rec_fire); /* sooner than any wake-up */
}

/* The wheel tells its owner to re-arm when a timer starts that is due before
 * the wake-up the owner last armed (next_delay), and only then; never from
 * inside advance (the owner re-arms after it). */
static void test_notify_earlier_deadline(void **state)
{
	(void)state;
	struct timer_wheel *w = timer_wheel_new(0, 10);
	int notified = 0;
	timer_wheel_set_notify(w, count_notify, &notified);
	struct rec a, b, c, d;
	rec_init(&a, w, 1);
	rec_init(&b, w, 2);
	rec_init(&c, w, 3);
	rec_init(&d, w, 4);
	timer_start(w, &a.t, 5000, rec_fire); /* nothing armed yet: notify */
	assert_int_equal(notified, 1);
	assert_true(timer_wheel_next_delay(w) <=
		    5000);		      /* the owner arms (a cascade may come first) */
	timer_start(w, &b.t, 9000, rec_fire); /* later than the wake-up: quiet */
	assert_int_equal(notified, 1);
	timer_start(w, &c.t, 100, rec_fire); /* sooner: notify */
	assert_int_equal(notified, 2);
	uint64_t d1 = timer_wheel_next_delay(w);
	assert_true(d1 >= 100 && d1 <= 120);
	timer_start(w, &c.t, 101, rec_fire); /* same tick as the wake-up: quiet */
	assert_int_equal(notified, 2);
	c.victim = &d;
	timer_start(w, &c.t, 100, start_from_callback);
	notified = 0;
	timer_wheel_advance(w, 200); /* c fires and starts d: no notify inside */
	assert_int_equal(c.fires, 1);
	assert_int_equal(notified, 0);
	timer_wheel_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ordering),
	    cmocka_unit_test(test_advance_exact),
	    cmocka_unit_test(test_cascade_boundaries),
	    cmocka_unit_test(test_long_jump),
	    cmocka_unit_test(test_stop_and_rearm_in_callback),
	    cmocka_unit_test(test_restart_and_stop),
	    cmocka_unit_test(test_100k),
	    cmocka_unit_test(test_notify_earlier_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
