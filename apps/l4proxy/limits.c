/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * limits.c - l4proxy's limits and queues. A listener admits a client if its
 * max_rate allows (a token bucket: excess reset) and it is under max_conns;
 * over max_conns the client is reset, or with over_limit = queue it waits in
 * the listener's queue, oldest first, for a slot. A pool whose every usable
 * backend is at backend_max_conns holds its clients in the pool's queue for
 * the first slot. A queued client waits at most queue_timeout_ms, then is
 * reset. While anyone waits, newcomers queue behind them.
 */
#include "ex_executor.h"
#include "l4proxy.h"
#include "pair.h"

int
listener_admit(struct listener *ls, bool *full)
{
	/* Full once it is at max_conns, or while others wait (first come,
	 * first served). */
	*full = ls->max_conns != 0 && (ls->active >= ls->max_conns || !TAILQ_EMPTY(&ls->wq));
	if (*full && ls->over_limit == OVER_LIMIT_RESET)
		return -1;
	return rate_limit_take(&ls->rate, ex_now_ns(host.ex)) ? 0 : -1;
}

/* Tell the oldest waiter of a queue that there may be room now. */
void
wq_wake_head(struct pair_wq *q)
{
	struct pair *h = TAILQ_FIRST(q);

	if (h != NULL)
		ex_waker_wake(&h->waker);
}

/* Join the tail of a queue; the waker is taken at each poll while waiting. */
void
wq_enter(struct pair *p, struct pair_wq *q, enum pair_state st)
{
	TAILQ_INSERT_TAIL(q, p, wq_link);
	p->wq = q;
	p->waker = ex_waker_noop();
	p->ls->queued_now++;
	p->ls->queued++;
	ex_sleep_init(&p->qwait, (uint64_t)p->ls->queue_timeout_ms * EX_NS_PER_MS);
	p->state = st;
}

/* Leave the queue (room found, timed out, or ended); the next in line gets
 * its turn to look, since the room may be for more than one. */
void
wq_leave(struct pair *p)
{
	struct pair_wq *q = p->wq;

	TAILQ_REMOVE(q, p, wq_link);
	p->wq = NULL;
	p->ls->queued_now--;
	ex_future_drop(&p->qwait.base);
	wq_wake_head(q);
}

/* A backend slot came free (or a backend came back): a waiter may use it. */
void
backend_released(struct pool *pool, int be)
{
	pool->lb.be[be].active--;
	wq_wake_head(&pool->wq);
}

/* True if a backend this client may use is only held back by its max_conns. */
bool
pool_full(const struct pool *pool, uint64_t tried)
{
	uint32_t i;

	for (i = 0; i < pool->lb.n; i++) {
		const struct lb_backend *b = &pool->lb.be[i];

		if (b->up && !b->draining && !(tried & (UINT64_C(1) << i)) && b->max_conns != 0 &&
				b->active >= b->max_conns)
			return true;
	}
	return false;
}

/* Over the listener's max_conns: only the head of the queue may take a
 * slot (oldest first), and only until queue_timeout_ms. */
enum pair_step
pair_queued(struct pair *p, struct ex_context *cx)
{
	if (TAILQ_FIRST(&p->ls->wq) == p && p->ls->active < p->ls->max_conns) {
		wq_leave(p);
		p->admitted = true;
		p->ls->active++;
		p->state = PAIR_STATE_PICK;
		return PAIR_STEP_NEXT;
	}
	p->waker = cx->waker;
	if (ex_future_poll(&p->qwait.base, cx) == EX_PENDING)
		return PAIR_STEP_PENDING;
	p->ls->queue_timeouts++;
	p->ls->refused++;
	pair_end(p, END_QUEUE_TIMEOUT); /* waited long enough: refused with a RST */
	return PAIR_STEP_DONE;
}

/* Every usable backend full: the head of the pool's queue takes the first
 * that has room, until queue_timeout_ms. */
enum pair_step
pair_wait_backend(struct pair *p, struct ex_context *cx)
{
	if (TAILQ_FIRST(&p->pool->wq) == p) {
		p->be = lb_pick(&p->pool->lb, p->cli_ip, p->tried);
		if (p->be >= 0) {
			wq_leave(p);
			pair_connect_start(p);
			return PAIR_STEP_NEXT;
		}
	}
	p->waker = cx->waker;
	if (ex_future_poll(&p->qwait.base, cx) == EX_PENDING)
		return PAIR_STEP_PENDING;
	p->ls->queue_timeouts++;
	p->ls->no_backend++;
	pair_end(p, END_QUEUE_TIMEOUT);
	return PAIR_STEP_DONE;
}
