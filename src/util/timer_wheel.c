/* timer_wheel.c — hierarchical timing wheel (4 levels x 256 slots, Varghese &
 * Lauck scheme 6): a timer lives in the level whose span covers its delay and is
 * re-inserted one level down ("cascaded") when the lower level wraps. Slots are
 * circular intrusive lists, so start/stop are O(1); per-level bitmaps make
 * timer_wheel_next_delay a bounded scan (4 x 4 words). Times are ms; the wheel
 * fires a timer no earlier than its expiry and at most one tick later. The
 * wheel remembers when its owner will wake and tells it when a new timer is due
 * sooner, so the owner's single OS timer is always armed for the earliest one. */
#include "util/timer_wheel.h"

#include <stdlib.h>
#include <time.h>

#define TW_LEVELS 4
#define TW_BITS	  8
#define TW_SLOTS  (1u << TW_BITS)
#define TW_MASK	  (TW_SLOTS - 1)
#define TW_WORDS  (TW_SLOTS / 64)
/* Largest delay representable in the top level, in ticks (2^32 - 1). */
#define TW_MAX_TICKS ((1ull << (TW_BITS * TW_LEVELS)) - 1)

struct timer_wheel {
	uint64_t now;	  /* ms, the latest time passed to advance (or new) */
	uint64_t cur;	  /* tick being processed: ticks < cur have fully fired */
	unsigned tick;	  /* ms per tick */
	size_t count;	  /* pending timers */
	uint64_t wake_at; /* ms the owner wakes at (last next_delay), UINT64_MAX none */
	bool advancing;	  /* inside timer_wheel_advance: the owner re-arms after it */
	timer_wheel_notify_fn notify;
	void *notify_arg;
	/* Set bit = slot may be non-empty; cleared lazily when found empty. */
	uint64_t bits[TW_LEVELS][TW_WORDS];
	struct timer slot[TW_LEVELS][TW_SLOTS]; /* circular list heads */
};

static void list_init(struct timer *h)
{
	h->next = h->prev = h;
}

static bool list_empty(const struct timer *h)
{
	return h->next == h;
}

static void list_add_tail(struct timer *h, struct timer *t)
{
	t->prev = h->prev;
	t->next = h;
	h->prev->next = t;
	h->prev = t;
}

static void list_del(struct timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

uint64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct timer_wheel *timer_wheel_new(uint64_t now_ms, unsigned tick_ms)
{
	struct timer_wheel *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->tick = tick_ms ? tick_ms : 1;
	w->now = now_ms;
	w->cur = now_ms / w->tick;
	w->wake_at = UINT64_MAX;
	for (int l = 0; l < TW_LEVELS; l++)
		for (unsigned s = 0; s < TW_SLOTS; s++)
			list_init(&w->slot[l][s]);
	return w;
}

/* Pending timers are simply forgotten: their owners free them. */
void timer_wheel_free(struct timer_wheel *w)
{
	if (!w)
		return;
	for (int l = 0; l < TW_LEVELS; l++)
		for (unsigned s = 0; s < TW_SLOTS; s++)
			while (!list_empty(&w->slot[l][s]))
				list_del(w->slot[l][s].next);
	free(w);
}

/* Places t by its expiry relative to the current tick. */
static void wheel_insert(struct timer_wheel *w, struct timer *t)
{
	uint64_t e = t->expires / w->tick;
	if (e < w->cur)
		e = w->cur;
	uint64_t delta = e - w->cur;
	if (delta > TW_MAX_TICKS) {
		delta = TW_MAX_TICKS;
		e = w->cur + delta;
	}
	int l = 0;
	while (l < TW_LEVELS - 1 && delta >= (1ull << (TW_BITS * (l + 1))))
		l++;
	unsigned s = (unsigned)(e >> (TW_BITS * l)) & TW_MASK;
	list_add_tail(&w->slot[l][s], t);
	w->bits[l][s / 64] |= 1ull << (s % 64);
}

void timer_start(struct timer_wheel *w, struct timer *t, uint64_t delay_ms, timer_fn fn)
{
	if (timer_pending(t))
		list_del(t);
	else
		w->count++;
	t->fn = fn;
	t->expires = delay_ms > UINT64_MAX - w->now ? UINT64_MAX : w->now + delay_ms;
	wheel_insert(w, t);
	/* Due (at tick resolution) before the owner wakes: have it re-arm. */
	if (w->notify && !w->advancing && t->expires / w->tick + 1 < w->wake_at / w->tick)
		w->notify(w->notify_arg);
}

void timer_wheel_set_notify(struct timer_wheel *w, timer_wheel_notify_fn fn, void *arg)
{
	w->notify = fn;
	w->notify_arg = arg;
}

void timer_stop(struct timer_wheel *w, struct timer *t)
{
	if (!timer_pending(t))
		return;
	list_del(t);
	w->count--;
}

/* Re-inserts every timer of one slot of level l (>= 1): each lands lower. */
static void wheel_cascade(struct timer_wheel *w, int l, unsigned s)
{
	struct timer tmp;
	struct timer *h = &w->slot[l][s];
	if (list_empty(h))
		return;
	/* Move the list to tmp first: re-insertion never targets this slot again
	 * for timers due within the level span, but a clamped one might. */
	tmp.next = h->next;
	tmp.prev = h->prev;
	tmp.next->prev = &tmp;
	tmp.prev->next = &tmp;
	list_init(h);
	while (!list_empty(&tmp)) {
		struct timer *t = tmp.next;
		list_del(t);
		wheel_insert(w, t);
	}
}

/* Merge sort of a NULL-terminated singly linked list (via ->next) by expiry,
 * stable, so timers due in the same tick fire in expiry then start order. */
static struct timer *sort_by_expiry(struct timer *head)
{
	if (!head || !head->next)
		return head;
	struct timer *slow = head, *fast = head->next;
	while (fast && fast->next) {
		slow = slow->next;
		fast = fast->next->next;
	}
	struct timer *b = slow->next;
	slow->next = NULL;
	struct timer *a = sort_by_expiry(head);
	b = sort_by_expiry(b);
	struct timer out, *tail = &out;
	while (a && b) {
		if (b->expires < a->expires) {
			tail->next = b;
			b = b->next;
		} else {
			tail->next = a;
			a = a->next;
		}
		tail = tail->next;
	}
	tail->next = a ? a : b;
	return out.next;
}

/* Fires the timers of the current level-0 slot that are due by now. Timers
 * started by callbacks into this same slot wait for the next advance, so a
 * zero-delay timer re-armed from its own callback cannot loop forever. */
static unsigned wheel_run_slot(struct timer_wheel *w, uint64_t now)
{
	struct timer *h = &w->slot[0][w->cur & TW_MASK];
	if (list_empty(h))
		return 0;
	struct timer batch;
	list_init(&batch);
	struct timer *first = NULL, **tailp = &first;
	for (struct timer *t = h->next; t != h;) {
		struct timer *n = t->next;
		if (t->expires <= now) {
			list_del(t);
			*tailp = t;
			tailp = &t->next;
		}
		t = n;
	}
	*tailp = NULL;
	first = sort_by_expiry(first);
	for (struct timer *t = first; t;) {
		struct timer *n = t->next;
		list_add_tail(&batch, t);
		t = n;
	}
	unsigned fired = 0;
	/* A callback may stop or re-arm any timer of the batch: always take the
	 * current head rather than a saved next pointer. */
	while (!list_empty(&batch)) {
		struct timer *t = batch.next;
		list_del(t);
		w->count--;
		fired++;
		if (t->fn)
			t->fn(t);
	}
	return fired;
}

unsigned timer_wheel_advance(struct timer_wheel *w, uint64_t now_ms)
{
	if (now_ms < w->now)
		now_ms = w->now;
	w->now = now_ms;
	uint64_t target = now_ms / w->tick;
	unsigned fired = 0;
	w->advancing = true;
	for (;;) {
		if (w->count == 0) {
			w->cur = target;
			break;
		}
		fired += wheel_run_slot(w, now_ms);
		if (w->cur >= target)
			break;
		w->cur++;
		/* Top level first, so its timers can fall through the lower ones
		 * cascaded at this same tick. */
		for (int l = TW_LEVELS - 1; l >= 1; l--) {
			uint64_t span = 1ull << (TW_BITS * l);
			if ((w->cur & (span - 1)) == 0)
				wheel_cascade(w, l, (unsigned)(w->cur >> (TW_BITS * l)) & TW_MASK);
		}
	}
	w->advancing = false;
	return fired;
}

/* First slot at or after start (cyclically) whose bit is set and whose list is
 * non-empty; clears stale bits on the way. Returns offset from start or -1. */
static int wheel_find(struct timer_wheel *w, int l, unsigned start)
{
	for (unsigned k = 0; k < TW_SLOTS;) {
		unsigned s = (start + k) & TW_MASK;
		uint64_t word = w->bits[l][s / 64] >> (s % 64);
		if (!word) {
			k += 64 - (s % 64);
			continue;
		}
		unsigned skip = (unsigned)__builtin_ctzll(word);
		k += skip;
		if (k >= TW_SLOTS)
			break;
		s = (start + k) & TW_MASK;
		if (!list_empty(&w->slot[l][s]))
			return (int)k;
		w->bits[l][s / 64] &= ~(1ull << (s % 64));
		k++;
	}
	return -1;
}

static uint64_t wheel_next_delay(struct timer_wheel *w)
{
	if (w->count == 0)
		return UINT64_MAX;
	uint64_t best = UINT64_MAX; /* tick at which something happens */
	int k = wheel_find(w, 0, (unsigned)(w->cur & TW_MASK));
	/* A level-0 slot at tick e fires completely once now reaches tick e + 1;
	 * waking earlier could find nothing due and spin. */
	if (k >= 0)
		best = w->cur + (uint64_t)k + 1;
	for (int l = 1; l < TW_LEVELS; l++) {
		uint64_t blk = w->cur >> (TW_BITS * l);
		/* Offsets 1..256: the slot of the current block is cascaded next
		 * at block + 256. */
		k = wheel_find(w, l, (unsigned)(blk + 1) & TW_MASK);
		if (k < 0)
			continue;
		uint64_t at = (blk + 1 + (uint64_t)k) << (TW_BITS * l);
		if (at < best)
			best = at;
	}
	if (best == UINT64_MAX)
		return UINT64_MAX;
	uint64_t at_ms = best * w->tick;
	return at_ms > w->now ? at_ms - w->now : 0;
}

uint64_t timer_wheel_next_delay(struct timer_wheel *w)
{
	uint64_t d = wheel_next_delay(w);
	w->wake_at = d == UINT64_MAX ? UINT64_MAX : w->now + d;
	return d;
}

void timer_wheel_set_now(struct timer_wheel *w, uint64_t now_ms)
{
	/* cur stays: insertion is relative to cur, and ticks between cur and
	 * now/tick are processed by the next advance. */
	if (now_ms > w->now)
		w->now = now_ms;
}

size_t timer_wheel_count(const struct timer_wheel *w)
{
	return w->count;
}

uint64_t timer_wheel_now(const struct timer_wheel *w)
{
	return w->now;
}
