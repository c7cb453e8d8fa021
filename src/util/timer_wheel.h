/* timer_wheel.h — hierarchical timing wheel with intrusive timers.
 * O(1) start/stop, so 100,000 transactions with three timers each cost nothing to
 * keep; one wheel per event loop, driven by that loop (no globals, no locks).
 * Owners embed a struct timer and recover themselves with container_of. */
#ifndef SIPPROXY_UTIL_TIMER_WHEEL_H
#define SIPPROXY_UTIL_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct timer;
typedef void (*timer_fn)(struct timer *t);

struct timer {
	struct timer *next, *prev; /* NULL prev = not pending */
	uint64_t expires;	   /* ms, monotonic */
	timer_fn fn;
};

struct timer_wheel;

/* tick_ms: resolution (10 ms is right for SIP: T1 = 500 ms). */
struct timer_wheel *timer_wheel_new(uint64_t now_ms, unsigned tick_ms);

/* The owner sleeps until the wake-up timer_wheel_next_delay() last gave it.
 * When a timer is started that falls due before that wake-up, the wheel calls
 * fn so the owner re-arms: nobody who starts a timer has to remember to.
 * Never called from inside timer_wheel_advance (the owner re-arms after it). */
typedef void (*timer_wheel_notify_fn)(void *arg);
void timer_wheel_set_notify(struct timer_wheel *w, timer_wheel_notify_fn fn, void *arg);
void timer_wheel_free(struct timer_wheel *w);

static inline void timer_init(struct timer *t)
{
	t->next = t->prev = NULL;
	t->expires = 0;
	t->fn = NULL;
}
/* (Re)arms t to fire fn after delay_ms from the wheel's current time. */
void timer_start(struct timer_wheel *w, struct timer *t, uint64_t delay_ms, timer_fn fn);
void timer_stop(struct timer_wheel *w, struct timer *t);
static inline bool timer_pending(const struct timer *t)
{
	return t->prev != NULL;
}

/* Fires, in expiry order, every timer due at or before now_ms. A callback may
 * start or stop any timer, itself included. Returns the number fired. */
unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now_ms);
/* Moves the wheel's clock forward without firing anything (what is due fires
 * at the next advance): lets code outside the loop's wakeup start timers
 * relative to the real time without re-entering callbacks. */
void timer_wheel_set_now(struct timer_wheel *w, uint64_t now_ms);
/* Milliseconds until the earliest pending timer (UINT64_MAX if none); the
 * wheel takes the answer as the owner's next wake-up (see set_notify). */
uint64_t timer_wheel_next_delay(struct timer_wheel *w);
size_t timer_wheel_count(const struct timer_wheel *w);
uint64_t timer_wheel_now(const struct timer_wheel *w);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t time_now_ms(void);

#endif
