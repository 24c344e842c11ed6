/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_future.h - the future contract: poll, wake, drop.
 *
 * A future is a state machine that is polled. ex_future_poll() returns
 * EX_READY when the future has finished (its output lives in the future's own
 * struct, its status in base.result) or EX_PENDING after arranging for the
 * waker in the context to be woken when progress is possible.
 *
 * An async function is a struct of its locals, an enum of its await points and
 * a poll that is a switch over that enum; child futures are embedded in it.
 * Nothing here allocates.
 *
 * Rules, as in Rust:
 *   - futures are lazy: nothing happens before the first poll;
 *   - a polled future must not move (wakers and timer links point into it);
 *     debug builds check this on every poll;
 *   - a future is not polled again after it returned EX_READY;
 *   - dropping a future (ex_future_drop) cancels it: it deregisters its
 *     wakers and timers and releases what it holds. Dropping a future that
 *     finished or never ran is allowed and does nothing harmful.
 *
 * Lcore: a future is polled and dropped only by the lcore that owns the task
 * it runs in. Wakers may be woken from any lcore or thread.
 */
#ifndef RIPTIDE_EX_FUTURE_H
#define RIPTIDE_EX_FUTURE_H

#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ex_task;
struct ex_future;

/** Outcome of a poll. */
enum ex_poll {
	EX_PENDING = 0, /**< not finished; the context's waker will be woken */
	EX_READY = 1, /**< finished; output in the future, status in result */
};

/** Life of a future, kept in its base; debug builds check transitions. */
enum ex_future_status {
	EX_FUTURE_STATUS_NEW = 0, /**< initialised, never polled */
	EX_FUTURE_STATUS_POLLED, /**< polled at least once, not finished */
	EX_FUTURE_STATUS_DONE, /**< returned EX_READY */
	EX_FUTURE_STATUS_DROPPED, /**< dropped before it finished */
};

/**
 * A waker names a task: the task pointer and the generation it had when the
 * waker was made. A waker is a plain value: copy it, store it, compare it.
 * Waking a task that has since completed (its generation moved on) does
 * nothing. A waker must not outlive the executor that owns the task.
 */
struct ex_waker {
	struct ex_task *task;
	uint32_t gen;
};

/** What a poll receives: the waker of the task being polled. */
struct ex_context {
	struct ex_waker waker;
};

typedef enum ex_poll ex_poll_fn(struct ex_future *self, struct ex_context *cx);
typedef void ex_drop_fn(struct ex_future *self);

/** The ops table of a kind of future. drop may be NULL (nothing to release). */
struct ex_future_ops {
	ex_poll_fn *poll;
	ex_drop_fn *drop;
	const char *name;
};

/**
 * The base every future embeds first. result is the future's status when it
 * is EX_READY: 0 or a non-negative value on success, -errno on failure (this
 * is what try_join and the join handle read); typed output lives beside the
 * base in the future's own struct.
 */
struct ex_future {
	const struct ex_future_ops *ops;
	int32_t result;
	uint8_t status; /**< enum ex_future_status */
	/** Address at the first poll. In every build, so that the struct has
	 * one layout whatever RT_NDEBUG says (a program and the library built
	 * with different flags share futures); only debug builds check it. */
	const struct ex_future *pinned_at;
};

/** Initialise the base of a future; call from the future's own init. */
static inline void
ex_future_init(struct ex_future *f, const struct ex_future_ops *ops)
{
	f->ops = ops;
	f->result = 0;
	f->status = EX_FUTURE_STATUS_NEW;
	f->pinned_at = NULL;
}

/** Report a broken future contract; debug builds only. Does not return. */
void ex_future_contract_violation(const struct ex_future *f, const char *what);

/**
 * Poll a future once.
 *
 * @return EX_READY (status in f->result) or EX_PENDING.
 * Call only from the lcore that owns the task being polled.
 */
static inline enum ex_poll
ex_future_poll(struct ex_future *f, struct ex_context *cx)
{
	enum ex_poll p;

	if (f->status == EX_FUTURE_STATUS_NEW)
		f->pinned_at = f; /* every build: a debug caller may poll it next */
#ifndef RT_NDEBUG
	else if (f->pinned_at != f)
		ex_future_contract_violation(f, "moved after its first poll");
	if (f->status == EX_FUTURE_STATUS_DONE || f->status == EX_FUTURE_STATUS_DROPPED)
		ex_future_contract_violation(f, "polled after it finished or was dropped");
#endif
	p = f->ops->poll(f, cx);
	f->status = p == EX_READY ? EX_FUTURE_STATUS_DONE : EX_FUTURE_STATUS_POLLED;
	return p;
}

/** True once the future returned EX_READY. */
static inline int
ex_future_is_done(const struct ex_future *f)
{
	return f->status == EX_FUTURE_STATUS_DONE;
}

/**
 * Drop (cancel) a future: release what it holds, disarm its timers, forget
 * its wakers. Dropping a finished, never-polled or already dropped future is
 * harmless. Call only from the owning lcore.
 */
static inline void
ex_future_drop(struct ex_future *f)
{
	if (f->status == EX_FUTURE_STATUS_DROPPED)
		return;
	if (f->ops->drop != NULL)
		f->ops->drop(f);
	if (f->status != EX_FUTURE_STATUS_DONE)
		f->status = EX_FUTURE_STATUS_DROPPED;
}

/**
 * Await a child future from a parent's poll: poll it unless it already
 * finished. Returns EX_READY once the child has finished (its status in
 * child->result), EX_PENDING while it is pending. Not a macro: it hides no
 * case label or jump; the parent's switch stays visible.
 */
static inline enum ex_poll
ex_await(struct ex_future *child, struct ex_context *cx)
{
	if (ex_future_is_done(child))
		return EX_READY;
	return ex_future_poll(child, cx);
}

/** Wake the task a waker names; from any lcore or thread. See ex_executor.h. */
void ex_waker_wake(const struct ex_waker *w);

/** A waker that names no task; waking it does nothing. */
static inline struct ex_waker
ex_waker_noop(void)
{
	struct ex_waker w = { NULL, 0 };
	return w;
}

/** True when both wakers would wake the same task incarnation. */
static inline int
ex_waker_will_wake(const struct ex_waker *a, const struct ex_waker *b)
{
	return a->task == b->task && a->gen == b->gen;
}

/** Recover the struct that embeds a member, as Linux's container_of. */
#define EX_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_FUTURE_H */
