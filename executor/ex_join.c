/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_join.c - join handles: a task's result published by its executor
 * (ex_join_complete(), at task_finish) and awaited from any lcore by the
 * join-handle future.
 */
#include <rte_pause.h>

#include "ex_priv.h"

void
ex_join_handle_init(struct ex_join_handle *jh)
{
	jh->state = 0;
	jh->result = 0;
	jh->waiter = ex_waker_noop();
}

int
ex_join_handle_done(const struct ex_join_handle *jh)
{
	uint32_t s = __atomic_load_n(&jh->state, __ATOMIC_ACQUIRE);

	return (s & EX_JOIN_DONE) && !(s & EX_JOIN_BUSY);
}

/*
 * Publish a task's result. Once DONE is visible without BUSY the awaiting
 * side may free the handle, so the waiter is copied while BUSY holds it off.
 */
void
ex_join_complete(struct ex_join_handle *jh, int32_t result)
{
	struct ex_waker w = ex_waker_noop();
	uint32_t old;

	jh->result = result;
	old = __atomic_fetch_or(&jh->state, EX_JOIN_DONE | EX_JOIN_BUSY, __ATOMIC_ACQ_REL);
	if (old & EX_JOIN_WAITING)
		w = jh->waiter;
	__atomic_fetch_and(&jh->state, ~(uint32_t)EX_JOIN_BUSY, __ATOMIC_RELEASE);
	/* jh may be gone from here on; w is our copy. */
	ex_waker_wake(&w);
}

/* Wait out a completer that is reading the waiter (a few instructions). */
static uint32_t
join_settle(struct ex_join_handle *jh)
{
	uint32_t s;

	while ((s = __atomic_load_n(&jh->state, __ATOMIC_ACQUIRE)) & EX_JOIN_BUSY)
		rte_pause();
	return s;
}

static enum ex_poll
join_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ex_join_handle_fut *j = EX_CONTAINER_OF(f, struct ex_join_handle_fut, base);
	struct ex_join_handle *jh = j->jh;
	uint32_t s = join_settle(jh);

	if (s & EX_JOIN_DONE)
		goto done;
	if ((s & EX_JOIN_WAITING) && ex_waker_will_wake(&jh->waiter, &cx->waker))
		return EX_PENDING;
	/* Take WAITING back before rewriting the waiter, so the completer never
	 * reads a half-written one. */
	if (s & EX_JOIN_WAITING) {
		if (!__atomic_compare_exchange_n(&jh->state, &s, s & ~(uint32_t)EX_JOIN_WAITING, 0,
				    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			goto done_settle;
		s &= ~(uint32_t)EX_JOIN_WAITING;
	}
	jh->waiter = cx->waker;
	if (!__atomic_compare_exchange_n(&jh->state, &s, s | EX_JOIN_WAITING, 0, __ATOMIC_ACQ_REL,
			    __ATOMIC_ACQUIRE))
		goto done_settle;
	return EX_PENDING;

done_settle:
	join_settle(jh);
done:
	j->base.result = jh->result;
	return EX_READY;
}

static void
join_drop(struct ex_future *f)
{
	struct ex_join_handle_fut *j = EX_CONTAINER_OF(f, struct ex_join_handle_fut, base);
	uint32_t s = join_settle(j->jh);

	while ((s & EX_JOIN_WAITING) && !(s & EX_JOIN_DONE)) {
		if (__atomic_compare_exchange_n(&j->jh->state, &s, s & ~(uint32_t)EX_JOIN_WAITING,
				    0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			break;
		s = join_settle(j->jh);
	}
}

static const struct ex_future_ops join_ops = {
	.poll = join_poll,
	.drop = join_drop,
	.name = "join",
};

void
ex_join_handle_fut_init(struct ex_join_handle_fut *j, struct ex_join_handle *jh)
{
	ex_future_init(&j->base, &join_ops);
	j->jh = jh;
}
