/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_timer.h - per-lcore hierarchical timing wheel, and the sleep future.
 *
 * The wheel counts time in ticks of 2^tick_shift nanoseconds (default 2^10 ns,
 * about 1 us). Four levels of 256 slots cover 2^32 ticks (about 73 minutes at
 * the default tick); a timer further out is parked in the last level and
 * re-placed as the wheel turns. Arm, re-arm and cancel are O(1): a timer is
 * unlinked from one slot list and linked into another. When level 0 wraps,
 * the next level's current slot is cascaded down (the classic Linux scheme).
 * A bitmap per level lets the wheel skip empty slots, so a long idle gap costs
 * one step per 256 ticks, not one per tick.
 *
 * A timer never fires early: a timer armed for deadline D fires at the first
 * advance whose time is >= D, rounded up to the next tick.
 *
 * A timer either wakes a task (waker mode: the sleep future, timeouts) or
 * calls a function with the timer itself (callback mode: container_of gives
 * its owner). Timers are embedded in their owners: the wheel allocates
 * nothing per timer; one timer is 40 bytes.
 *
 * Lcore: a wheel and its timers are touched only by the owning lcore.
 */
#ifndef RIPTIDE_EX_TIMER_H
#define RIPTIDE_EX_TIMER_H

#include <stdint.h>

#include "ex_future.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EX_WHEEL_LEVELS 4
#define EX_WHEEL_SLOT_BITS 8
#define EX_WHEEL_SLOTS (1u << EX_WHEEL_SLOT_BITS)
#define EX_WHEEL_TICK_SHIFT_DEFAULT 10

struct ex_timer;
typedef void ex_timer_fn(struct ex_timer *t);

/** Intrusive doubly linked list link; a slot head is a bare link. */
struct ex_tlink {
	struct ex_tlink *next;
	struct ex_tlink *prev;
};

/** Timer flags. */
enum ex_timer_flag {
	EX_TIMER_FLAG_ARMED = 1u << 0, /**< linked into a wheel slot */
	EX_TIMER_FLAG_FIRED = 1u << 1, /**< expired since it was last armed */
	EX_TIMER_FLAG_CALLBACK = 1u << 2, /**< calls fn instead of waking task */
};

/** One timer: 40 bytes, embedded in whatever owns it. */
struct ex_timer {
	struct ex_tlink link;
	uint64_t expires; /**< deadline, in wheel ticks (rounded up) */
	union {
		struct ex_task *task; /**< waker mode: the task to wake */
		ex_timer_fn *fn; /**< callback mode */
	};
	uint32_t gen; /**< waker mode: the task's generation */
	uint16_t slot; /**< level * 256 + index while armed */
	uint16_t flags;
};

/** The wheel. Embedded in an executor, or standalone in tests. */
struct ex_wheel {
	uint64_t now; /**< next tick to process */
	uint32_t shift; /**< log2 of the tick in ns */
	uint32_t armed; /**< live timers */
	uint64_t fired; /**< timers fired, lifetime */
	uint64_t arms; /**< arm calls, lifetime */
	uint64_t bitmap[EX_WHEEL_LEVELS][EX_WHEEL_SLOTS / 64];
	struct ex_tlink slot[EX_WHEEL_LEVELS][EX_WHEEL_SLOTS];
};

/**
 * Initialise a wheel whose time starts at now_ns.
 * @param tick_shift log2 of the tick length in ns, 0..20.
 * @return 0, or -EINVAL for a tick_shift out of range.
 */
int ex_wheel_init(struct ex_wheel *w, unsigned tick_shift, uint64_t now_ns);

/**
 * Advance the wheel to now_ns, firing every timer whose deadline passed, in
 * deadline order (ties in arming order). Callbacks may arm and cancel timers.
 * @return the number of timers fired.
 */
unsigned ex_wheel_advance(struct ex_wheel *w, uint64_t now_ns);

/**
 * Unlink every armed timer without firing it (shutdown). Their flags say
 * they are no longer armed.
 */
void ex_wheel_clear(struct ex_wheel *w);

/** Nanoseconds until the earliest slot that holds a timer, capped at max_ns. */
uint64_t ex_wheel_next_ns(const struct ex_wheel *w, uint64_t now_ns, uint64_t max_ns);

/** Initialise a timer that wakes a task when it fires. */
static inline void
ex_timer_init_waker(struct ex_timer *t)
{
	t->link.next = t->link.prev = NULL;
	t->expires = 0;
	t->task = NULL;
	t->gen = 0;
	t->slot = 0;
	t->flags = 0;
}

/** Initialise a timer that calls fn(t) when it fires. */
static inline void
ex_timer_init_callback(struct ex_timer *t, ex_timer_fn *fn)
{
	ex_timer_init_waker(t);
	t->fn = fn;
	t->flags = EX_TIMER_FLAG_CALLBACK;
}

/**
 * Arm (or re-arm, earlier or later) a timer for an absolute deadline. O(1).
 * @param waker for a waker-mode timer, the task to wake; ignored (may be
 *        NULL) for a callback timer.
 */
void ex_timer_arm(struct ex_wheel *w, struct ex_timer *t, uint64_t deadline_ns,
		const struct ex_waker *waker);

/** Disarm a timer if it is armed. O(1). Safe on an unarmed timer. */
void ex_timer_cancel(struct ex_wheel *w, struct ex_timer *t);

/** True while the timer is armed. */
static inline int
ex_timer_armed(const struct ex_timer *t)
{
	return (t->flags & EX_TIMER_FLAG_ARMED) != 0;
}

/**
 * The sleep future: ready once the executor's clock reaches its deadline.
 * Dropping it disarms its timer. result is always 0.
 */
struct ex_sleep {
	struct ex_future base;
	struct ex_timer timer;
	struct ex_wheel *wheel; /**< where the timer is armed, once polled */
	uint64_t duration_ns; /**< relative form: counted from the first poll */
	uint64_t deadline_ns; /**< absolute deadline, set at first poll */
	uint8_t absolute;
};

/** Sleep for duration_ns, counted from the first poll (futures are lazy). */
void ex_sleep_init(struct ex_sleep *s, uint64_t duration_ns);

/** Sleep until the executor's clock reads deadline_ns. */
void ex_sleep_until_init(struct ex_sleep *s, uint64_t deadline_ns);

#define EX_NS_PER_US UINT64_C(1000)
#define EX_NS_PER_MS UINT64_C(1000000)
#define EX_NS_PER_S UINT64_C(1000000000)

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_TIMER_H */
