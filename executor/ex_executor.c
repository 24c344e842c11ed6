/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_executor.c - the per-lcore executor: task pool, ready queue, wakers,
 * inbox and the run-to-completion loop (join handles: ex_join.c; task-owned
 * future slots: ex_slab.c).
 *
 * Call order: ex_executor_create() on any thread -> ex_run() (or
 * ex_run_once() / ex_block_on()) on the thread that owns it -> ex_stop() from
 * anywhere -> ex_executor_free() on the owning thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "ex_priv.h"

/* The executor this thread is running. initial-exec: one %fs-relative load,
 * even if this library ends up in a position-independent build. */
static __thread struct ex_executor *ex_cur __attribute__((tls_model("initial-exec")));

static struct ex_executor *ex_registry[RTE_MAX_LCORE];

RTE_LOG_REGISTER(ex_logtype, riptide.executor, NOTICE);

void
ex_future_contract_violation(const struct ex_future *f, const char *what)
{
	/* Our own invariant broken by a caller: a bug, not input. Debug only. */
	EX_LOG(CRIT, "future '%s' at %p %s",
			f->ops != NULL && f->ops->name != NULL ? f->ops->name : "?",
			(const void *)f, what);
	abort();
}

void
ex_config_defaults(struct ex_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "ex";
	cfg->max_tasks = 4096;
	cfg->poll_budget = 64;
	cfg->idle_policy = EX_IDLE_POLICY_BUSY_POLL;
	cfg->idle_spins = 1024;
	cfg->idle_spin_us = 50;
	cfg->idle_sleep_min_us = 20;
	cfg->idle_sleep_us = 1000;
	cfg->idle_event_us = 1000000;
	cfg->idle_coalesce_us = 0;
	cfg->idle_coalesce_after = 16;
	cfg->tick_shift = EX_WHEEL_TICK_SHIFT_DEFAULT;
	cfg->clock = NULL;
	cfg->socket_id = SOCKET_ID_ANY;
}

struct ex_executor *
ex_current(void)
{
	return ex_cur;
}

struct ex_executor *
ex_executor_of_lcore(unsigned int lcore_id)
{
	if (lcore_id >= RTE_MAX_LCORE)
		return NULL;
	return __atomic_load_n(&ex_registry[lcore_id], __ATOMIC_ACQUIRE);
}

unsigned int
ex_executor_lcore(const struct ex_executor *ex)
{
	return ex->lcore_id;
}

uint64_t
ex_now_ns(const struct ex_executor *ex)
{
	if (ex->clock != NULL)
		return ex->clock(ex->clock_ctx);
	return (uint64_t)(((unsigned __int128)(rte_rdtsc() - ex->tsc_start) * ex->tsc_mult) >> 32);
}

uint64_t
ex_now_coarse_ns(const struct ex_executor *ex)
{
	if (ex->clock != NULL)
		return ex->clock(ex->clock_ctx);
	return ex->now_ns;
}

struct ex_wheel *
ex_executor_wheel(struct ex_executor *ex)
{
	return &ex->wheel;
}

struct ex_executor *
ex_context_executor(const struct ex_context *cx)
{
	return cx->waker.task != NULL ? cx->waker.task->owner : NULL;
}

/* Task pool object constructor: a slot belongs to its executor for life. */
static void
task_obj_init(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct ex_task *t = obj;

	RTE_SET_USED(mp);
	RTE_SET_USED(idx);
	memset(t, 0, sizeof(*t));
	t->owner = arg;
}

struct ex_executor *
ex_executor_create_checked(unsigned int lcore_id, const struct ex_config *cfg, uint32_t layout)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct ex_executor *ex;
	unsigned int cache;

	if (layout != EX_LAYOUT) {
		EX_LOG(ERR,
				"this program was built against executor headers whose "
				"struct layout (0x%08" PRIx32 ") differs from the library's "
				"(0x%08" PRIx32
				"): rebuild it against this library's headers, with "
				"the flags its pkg-config file gives",
				layout, (uint32_t)EX_LAYOUT);
		rte_errno = EPROTO;
		return NULL;
	}

	if (cfg == NULL || lcore_id >= RTE_MAX_LCORE || cfg->max_tasks == 0 ||
			cfg->poll_budget == 0 || cfg->tick_shift > 20 ||
			cfg->idle_policy > EX_IDLE_POLICY_BACKOFF) {
		rte_errno = EINVAL;
		return NULL;
	}
	if (ex_executor_of_lcore(lcore_id) != NULL) {
		rte_errno = EEXIST;
		return NULL;
	}

	ex = rte_zmalloc_socket("ex_executor", sizeof(*ex), RTE_CACHE_LINE_SIZE, cfg->socket_id);
	if (ex == NULL)
		goto fail_nomem;
	ex->outbox = rte_zmalloc_socket("ex_outbox", sizeof(*ex->outbox) * RTE_MAX_LCORE,
			RTE_CACHE_LINE_SIZE, cfg->socket_id);
	ex->dirty = rte_zmalloc_socket(
			"ex_dirty", sizeof(*ex->dirty) * RTE_MAX_LCORE, 0, cfg->socket_id);
	if (ex->outbox == NULL || ex->dirty == NULL)
		goto fail_outbox;

	ex->lcore_id = lcore_id;
	ex->max_tasks = cfg->max_tasks;
	ex->budget = cfg->poll_budget;
	ex->idle_policy = cfg->idle_policy;
	ex->idle_spins = cfg->idle_spins;
	ex->idle_spin_ns = (uint64_t)cfg->idle_spin_us * EX_NS_PER_US;
	ex->idle_sleep_max_ns = (uint64_t)cfg->idle_sleep_us * EX_NS_PER_US;
	ex->idle_sleep_min_ns = RTE_MIN(
			(uint64_t)cfg->idle_sleep_min_us * EX_NS_PER_US, ex->idle_sleep_max_ns);
	ex->idle_sleep_ns = ex->idle_sleep_min_ns;
	ex->idle_sleep = cfg->idle_sleep;
	ex->idle_sleep_ctx = cfg->idle_sleep_ctx;
	ex->clock = cfg->clock;
	ex->clock_ctx = cfg->clock_ctx;
	ex->tsc_start = rte_rdtsc();
	ex->tsc_mult = (uint64_t)(((unsigned __int128)EX_NS_PER_S << 32) / rte_get_tsc_hz());
	ex->now_ns = 0; /* tsc_start is now */

	/*
	 * A per-lcore cache makes local spawns cheap, but with one the pool can
	 * refuse while other lcores' caches still hold slots; small pools (the
	 * ones whose limit a user cares about exactly) get no cache.
	 */
	cache = cfg->max_tasks >= 1024 ? 256 : 0;
	snprintf(name, sizeof(name), "%.12s_tasks_%u", cfg->name ? cfg->name : "ex", lcore_id);
	ex->task_pool = rte_mempool_create(name, cfg->max_tasks, sizeof(struct ex_task), cache, 0,
			NULL, NULL, task_obj_init, ex, cfg->socket_id, 0);
	if (ex->task_pool == NULL)
		goto fail_pool;

	/* One inbox slot per task: the remote-queued flag keeps each task in the
	 * inbox at most once, so the inbox cannot overflow. */
	snprintf(name, sizeof(name), "%.12s_inbox_%u", cfg->name ? cfg->name : "ex", lcore_id);
	ex->inbox = rte_ring_create(
			name, cfg->max_tasks, cfg->socket_id, RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (ex->inbox == NULL)
		goto fail_ring;

	if (ex_wheel_init(&ex->wheel, cfg->tick_shift, ex_now_ns(ex)) != 0)
		goto fail_wheel;
	if (ex_idle_init(ex, cfg) != 0)
		goto fail_wheel; /* no fds left */

	__atomic_store_n(&ex_registry[lcore_id], ex, __ATOMIC_RELEASE);
	return ex;

fail_wheel:
	rte_ring_free(ex->inbox);
fail_ring:
	rte_mempool_free(ex->task_pool);
fail_pool:
fail_outbox:
	rte_free(ex->dirty);
	rte_free(ex->outbox);
	rte_free(ex);
fail_nomem:
	rte_errno = ENOMEM;
	return NULL;
}

/* ---- ready queue and live list (owner only) ---- */

static inline void
ready_push(struct ex_executor *ex, struct ex_task *t)
{
	t->next = NULL;
	if (ex->ready_tail != NULL)
		ex->ready_tail->next = t;
	else
		ex->ready_head = t;
	ex->ready_tail = t;
}

static inline struct ex_task *
ready_pop(struct ex_executor *ex)
{
	struct ex_task *t = ex->ready_head;

	if (t != NULL) {
		ex->ready_head = t->next;
		if (ex->ready_head == NULL)
			ex->ready_tail = NULL;
	}
	return t;
}

static void
live_add(struct ex_executor *ex, struct ex_task *t)
{
	t->all_prev = NULL;
	t->all_next = ex->live_head;
	if (ex->live_head != NULL)
		ex->live_head->all_prev = t;
	ex->live_head = t;
}

static void
live_del(struct ex_executor *ex, struct ex_task *t)
{
	if (t->all_prev != NULL)
		t->all_prev->all_next = t->all_next;
	else
		ex->live_head = t->all_next;
	if (t->all_next != NULL)
		t->all_next->all_prev = t->all_prev;
	t->all_prev = t->all_next = NULL;
}

/* ---- atomic waker ---- */

enum ex_atomic_waker_state {
	EX_AW_WAITING = 1u << 0, /* waker is valid */
	EX_AW_BUSY = 1u << 1, /* someone is reading or writing waker */
};

void
ex_atomic_waker_init(struct ex_atomic_waker *aw)
{
	aw->state = 0;
	aw->waker = ex_waker_noop();
}

void
ex_atomic_waker_register(struct ex_atomic_waker *aw, const struct ex_waker *w)
{
	uint32_t s;

	for (;;) {
		s = __atomic_load_n(&aw->state, __ATOMIC_ACQUIRE);
		if (s & EX_AW_BUSY) {
			rte_pause();
			continue;
		}
		if (__atomic_compare_exchange_n(&aw->state, &s, EX_AW_BUSY, 0, __ATOMIC_ACQUIRE,
				    __ATOMIC_RELAXED))
			break;
	}
	aw->waker = *w;
	/* seq_cst: pairs with the fence in wake (store, then the caller
	 * re-checks its condition; Dekker). */
	__atomic_store_n(&aw->state, EX_AW_WAITING, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void
ex_atomic_waker_wake(struct ex_atomic_waker *aw)
{
	struct ex_waker w;
	uint32_t s;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s = __atomic_load_n(&aw->state, __ATOMIC_SEQ_CST);
	/* BUSY: a register is in progress (it re-checks after) or another
	 * waker is delivering the wake. Either way nothing is lost. */
	if (s != EX_AW_WAITING)
		return;
	if (!__atomic_compare_exchange_n(
			    &aw->state, &s, EX_AW_BUSY, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	w = aw->waker;
	__atomic_store_n(&aw->state, 0, __ATOMIC_RELEASE);
	ex_waker_wake(&w);
}

/* ---- task life ---- */

/* The task is finished: publish, recycle the slot (a new generation makes
 * every outstanding waker and ref stale). */
static void
task_finish(struct ex_executor *ex, struct ex_task *t, int32_t result)
{
	struct ex_join_handle *jh = t->join;
	struct ex_future *slab_fut = (t->state & EX_TASK_STATE_SLAB) ? t->fut : NULL;

	live_del(ex, t);
	t->fut = NULL;
	t->join = NULL;
	__atomic_store_n(&t->gen, t->gen + 1, __ATOMIC_RELEASE);
	EX_STAT_ADD(ex, tasks_live, -1);
	if (t->state & EX_TASK_STATE_SCHEDULED) {
		/* It woke itself before finishing: still linked on the ready
		 * queue, so the slot is recycled when it is popped. */
		t->state = EX_TASK_STATE_ZOMBIE | EX_TASK_STATE_SCHEDULED;
	} else {
		t->state = 0;
		rte_mempool_put(ex->task_pool, t);
	}
	if (jh != NULL)
		ex_join_complete(jh, result);
	if (slab_fut != NULL) /* done with it: the poll returned or it was dropped */
		ex_slab_task_done(ex, slab_fut);
}

static void
task_cancel_now(struct ex_executor *ex, struct ex_task *t)
{
	ex_future_drop(t->fut);
	EX_STAT_ADD(ex, tasks_cancelled, 1);
	task_finish(ex, t, -ECANCELED);
}

static inline void
task_schedule(struct ex_executor *ex, struct ex_task *t)
{
	if (t->state & EX_TASK_STATE_SCHEDULED) {
		EX_STAT_ADD(ex, wakes_duplicate, 1);
		return;
	}
	t->state |= EX_TASK_STATE_SCHEDULED;
	ready_push(ex, t);
}

static void
task_activate(struct ex_executor *ex, struct ex_task *t)
{
	t->state = EX_TASK_STATE_LIVE | EX_TASK_STATE_SCHEDULED;
	live_add(ex, t);
	ready_push(ex, t);
	EX_STAT_ADD(ex, tasks_spawned, 1);
	EX_STAT_ADD(ex, tasks_live, 1);
}

/* ---- waking ---- */

static void
outbox_flush_one(struct ex_outbox *ob)
{
	unsigned int sent = 0;

	/* Cannot fail for long: the inbox holds one slot per task and a task
	 * is queued at most once. Retrying covers a consumer mid-dequeue. */
	while (sent < ob->n)
		sent += rte_ring_mp_enqueue_burst(
				ob->dst->inbox, (void **)&ob->tasks[sent], ob->n - sent, NULL);
	ob->n = 0;
	ex_idle_kick(ob->dst);
}

static void
outbox_flush_all(struct ex_executor *ex)
{
	uint32_t i;

	for (i = 0; i < ex->n_dirty; i++)
		outbox_flush_one(&ex->outbox[ex->dirty[i]]);
	ex->n_dirty = 0;
}

/* Queue t on its owner's inbox: batched when the sender is an executor,
 * direct otherwise. The caller has just set REMOTE_QUEUED. */
static void
remote_enqueue(struct ex_executor *dst, struct ex_task *t)
{
	struct ex_executor *cur = ex_cur;
	struct ex_outbox *ob;

	if (cur == NULL) {
		while (rte_ring_mp_enqueue(dst->inbox, t) != 0)
			rte_pause();
		ex_idle_kick(dst);
		return;
	}
	ob = &cur->outbox[dst->lcore_id];
	if (ob->n == 0) {
		ob->dst = dst;
		cur->dirty[cur->n_dirty++] = (uint16_t)dst->lcore_id;
	}
	ob->tasks[ob->n++] = t;
	if (ob->n == EX_BURST)
		outbox_flush_one(ob); /* stays in dirty[]; flushing n == 0 is a no-op */
}

static void
wake_remote(struct ex_task *t, uint32_t gen)
{
	struct ex_executor *cur = ex_cur;
	uint32_t old;

	if (__atomic_load_n(&t->gen, __ATOMIC_ACQUIRE) != gen) {
		if (cur != NULL)
			EX_STAT_ADD(cur, wakes_stale, 1);
		return;
	}
	old = __atomic_fetch_or(&t->remote, EX_TASK_REMOTE_QUEUED, __ATOMIC_ACQ_REL);
	if (old & EX_TASK_REMOTE_QUEUED) {
		if (cur != NULL)
			EX_STAT_ADD(cur, wakes_duplicate, 1);
		return;
	}
	remote_enqueue(t->owner, t);
}

/* Local wake that is not the common case: stale waker or already queued. */
static __rte_noinline void
wake_local_slow(struct ex_executor *ex, struct ex_task *t, uint32_t gen)
{
	if (t->gen != gen || !(t->state & EX_TASK_STATE_LIVE)) {
		EX_STAT_ADD(ex, wakes_stale, 1);
		return;
	}
	EX_STAT_ADD(ex, wakes_local, 1);
	EX_STAT_ADD(ex, wakes_duplicate, 1);
}

void
ex_waker_wake(const struct ex_waker *w)
{
	struct ex_task *t = w->task;
	struct ex_executor *ex;
	uint32_t st;

	if (t == NULL)
		return;
	ex = t->owner;
	if (unlikely(ex != ex_cur)) {
		wake_remote(t, w->gen);
		return;
	}
	/* Local: no atomics. One test covers "this incarnation, alive, not
	 * yet queued"; everything else is the slow path. */
	st = t->state;
	if (likely(t->gen == w->gen && (st & (EX_TASK_STATE_LIVE | EX_TASK_STATE_SCHEDULED)) ==
						       EX_TASK_STATE_LIVE)) {
		t->state = st | EX_TASK_STATE_SCHEDULED;
		ready_push(ex, t);
		EX_STAT_ADD(ex, wakes_local, 1);
		return;
	}
	wake_local_slow(ex, t, w->gen);
}

/* ---- spawning and cancelling ---- */

/* A task slot of ex's pool for f, not yet activated; NULL when the pool is
 * empty (counted on the calling thread's executor, if it runs one). */
static struct ex_task *
task_take(struct ex_executor *ex, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref)
{
	struct ex_task *t;
	void *obj;

	if (rte_mempool_get(ex->task_pool, &obj) != 0) {
		struct ex_executor *cur = ex_cur;

		if (cur != NULL)
			EX_STAT_ADD(cur, spawn_failed, 1);
		return NULL;
	}
	t = obj;
	t->fut = f;
	t->join = jh;
	if (ref != NULL) {
		ref->task = t;
		ref->gen = t->gen;
	}
	return t;
}

int
ex_spawn_to(struct ex_executor *ex, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref)
{
	struct ex_task *t;
	uint32_t old;

	if (ex == NULL || f == NULL)
		return -EINVAL;
	t = task_take(ex, f, jh, ref);
	if (t == NULL)
		return -ENOMEM;
	if (ex == ex_cur) {
		task_activate(ex, t);
		return 0;
	}
	/* Remote: the owner activates it when it drains its inbox. A stale
	 * queued entry for this slot may still be in the inbox; then it
	 * carries the SPAWN bit and no second entry is needed. */
	old = __atomic_fetch_or(
			&t->remote, EX_TASK_REMOTE_SPAWN | EX_TASK_REMOTE_QUEUED, __ATOMIC_ACQ_REL);
	if (!(old & EX_TASK_REMOTE_QUEUED))
		remote_enqueue(ex, t);
	return 0;
}

int
ex_spawn_local(struct ex_executor *ex, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref, uint32_t extra_state)
{
	struct ex_task *t = task_take(ex, f, jh, ref);

	if (t == NULL)
		return -ENOMEM;
	task_activate(ex, t);
	t->state |= extra_state;
	return 0;
}

int
ex_spawn(struct ex_future *f, struct ex_join_handle *jh, struct ex_task_ref *ref)
{
	struct ex_executor *cur = ex_cur;

	/* Before its loop has run (main setting up), the thread's lcore's
	 * executor: the task waits in its inbox for the first pass. */
	if (cur == NULL && rte_lcore_id() != LCORE_ID_ANY)
		cur = ex_executor_of_lcore(rte_lcore_id());
	if (cur == NULL)
		return -ENODEV;
	return ex_spawn_to(cur, f, jh, ref);
}

int
ex_spawn_on(unsigned int lcore_id, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref)
{
	struct ex_executor *ex = ex_executor_of_lcore(lcore_id);

	if (ex == NULL)
		return -ENODEV;
	return ex_spawn_to(ex, f, jh, ref);
}

static void
cancel_local(struct ex_executor *ex, struct ex_task *t)
{
	t->state |= EX_TASK_STATE_CANCELLED;
	/* Queued, it is dropped when next popped. If it is inside its own poll
	 * the loop sees CANCELLED when the poll returns; the queue entry then
	 * belongs to a zombie, recycled when popped. */
	task_schedule(ex, t);
}

int
ex_task_cancel(const struct ex_task_ref *ref)
{
	struct ex_task *t = ref->task;
	struct ex_executor *ex;
	uint32_t old;

	if (t == NULL)
		return -EINVAL;
	ex = t->owner;
	if (__atomic_load_n(&t->gen, __ATOMIC_ACQUIRE) != ref->gen)
		return -ESRCH;
	if (ex == ex_cur) {
		if (!(t->state & EX_TASK_STATE_LIVE))
			return -ESRCH;
		cancel_local(ex, t);
		return 0;
	}
	__atomic_store_n(&t->cancel_gen, ref->gen, __ATOMIC_RELAXED);
	old = __atomic_fetch_or(&t->remote, EX_TASK_REMOTE_CANCEL | EX_TASK_REMOTE_QUEUED,
			__ATOMIC_ACQ_REL);
	if (!(old & EX_TASK_REMOTE_QUEUED))
		remote_enqueue(ex, t);
	return 0;
}

/* ---- the loop ---- */

static unsigned int
run_sources(struct ex_source *s)
{
	unsigned int work = 0;

	for (; s != NULL; s = s->next)
		work += s->fn(s);
	return work;
}

static unsigned int
run_ready(struct ex_executor *ex)
{
	unsigned int n;

	for (n = 0; n < ex->budget; n++) {
		struct ex_task *t = ready_pop(ex);
		struct ex_context cx;
		enum ex_poll p;

		if (t == NULL)
			break;
		t->state &= ~(uint32_t)EX_TASK_STATE_SCHEDULED;
		if (unlikely(t->state & (EX_TASK_STATE_ZOMBIE | EX_TASK_STATE_CANCELLED))) {
			if (t->state & EX_TASK_STATE_ZOMBIE) {
				t->state = 0;
				rte_mempool_put(ex->task_pool, t);
			} else {
				task_cancel_now(ex, t);
			}
			continue;
		}
		cx.waker.task = t;
		cx.waker.gen = t->gen;
		p = ex_future_poll(t->fut, &cx);
		if (p == EX_READY) {
			EX_STAT_ADD(ex, tasks_completed, 1);
			task_finish(ex, t, t->fut->result);
		} else if (unlikely(t->state & EX_TASK_STATE_CANCELLED)) {
			task_cancel_now(ex, t);
		}
	}
	EX_STAT_ADD(ex, polls, n);
	return n;
}

static unsigned int
drain_inbox(struct ex_executor *ex)
{
	void *burst[EX_BURST];
	unsigned int n, i, total = 0;

	/* Bounded: at most one entry per task can be queued. */
	while ((n = rte_ring_sc_dequeue_burst(ex->inbox, burst, EX_BURST, NULL)) != 0) {
		for (i = 0; i < n; i++) {
			struct ex_task *t = burst[i];
			uint32_t flags = __atomic_exchange_n(&t->remote, 0, __ATOMIC_ACQ_REL);

			if (flags & EX_TASK_REMOTE_SPAWN) {
				task_activate(ex, t);
			} else if (!(t->state & EX_TASK_STATE_LIVE)) {
				/* Completed while the wake was in flight. */
				EX_STAT_ADD(ex, wakes_stale, 1);
				continue;
			} else if (flags & EX_TASK_REMOTE_QUEUED) {
				/* A spurious wake of a newer incarnation is harmless:
				 * futures tolerate extra polls. */
				task_schedule(ex, t);
			}
			if ((flags & EX_TASK_REMOTE_CANCEL) &&
					__atomic_load_n(&t->cancel_gen, __ATOMIC_RELAXED) == t->gen)
				cancel_local(ex, t);
		}
		EX_STAT_ADD(ex, wakes_remote, n);
		total += n;
	}
	return total;
}

static inline uint64_t
tsc_to_ns(const struct ex_executor *ex, uint64_t tsc)
{
	return (uint64_t)(((unsigned __int128)(tsc - ex->tsc_start) * ex->tsc_mult) >> 32);
}

unsigned int
ex_run_once(struct ex_executor *ex)
{
	/* One TSC read per iteration: it closes the previous iteration's
	 * busy/idle account and, with the default clock, is the timers' now. */
	uint64_t t0 = rte_rdtsc(), now;
	unsigned int work;

	ex_cur = ex;
	if (ex->tsc_last != 0) {
		if (ex->last_work)
			EX_STAT_ADD(ex, busy_cycles, t0 - ex->tsc_last);
		else
			EX_STAT_ADD(ex, idle_cycles, t0 - ex->tsc_last);
	}
	ex->tsc_last = t0;
	ex->now_ns = tsc_to_ns(ex, t0); /* ex_now_coarse_ns() for this iteration */

	/* 1. Reactor: NIC rx and other event sources; they wake tasks. */
	work = run_sources(ex->sources);
	/* 2. Ready tasks, under the budget so the reactor is never starved. */
	work += run_ready(ex);
	/* 3. Remote wakes, spawns and cancels from other lcores. */
	work += drain_inbox(ex);
	/* 4. Timers: expired ones wake their tasks for the next iteration. */
	now = ex->clock != NULL ? ex->clock(ex->clock_ctx) : ex->now_ns;
	work += ex_wheel_advance(&ex->wheel, now);
	/* 5. Flush: remote wakes we produced, then tx buffers. */
	outbox_flush_all(ex);
	work += run_sources(ex->flushers);

	EX_STAT_ADD(ex, loops, 1);
	ex->last_work = work != 0;
	if (work != 0) {
		ex->idle_iters = 0;
		ex->stay_awake = 0;
		ex->wake_by_ns = 0;
		ex->last_work_ns = now;
		ex->idle_sleep_ns = ex->idle_sleep_min_ns;
		ex->coalesce_napped = 0;
		return work;
	}
	/* 6. Idle policy: spin a while after the last work, then back off. */
	if (ex->idle_policy == EX_IDLE_POLICY_BACKOFF && ex->ready_head == NULL &&
			!ex->stay_awake &&
			(++ex->idle_iters >= ex->idle_spins ||
					now - ex->last_work_ns >= ex->idle_spin_ns))
		ex_idle_sleep(ex, now, ex->wake_by_ns);
	ex->stay_awake = 0;
	ex->wake_by_ns = 0;
	return 0;
}

void
ex_stay_awake(struct ex_executor *ex)
{
	ex->stay_awake = 1;
}

void
ex_wake_by(struct ex_executor *ex, uint64_t deadline_ns)
{
	/* 0 is "none": a deadline at the clock's first nanosecond is due now. */
	if (deadline_ns == 0)
		deadline_ns = 1;
	if (ex->wake_by_ns == 0 || deadline_ns < ex->wake_by_ns)
		ex->wake_by_ns = deadline_ns;
}

uint32_t ex_stop_epoch;

void
ex_stop(struct ex_executor *ex)
{
	__atomic_store_n(&ex->stop, 1, __ATOMIC_RELEASE);
	ex_idle_kick(ex);
}

void
ex_stop_all(void)
{
	unsigned int i;

	/* Async-signal-safe: an atomic add, atomic loads and write(2). */
	__atomic_fetch_add(&ex_stop_epoch, 1, __ATOMIC_RELEASE);
	for (i = 0; i < RTE_MAX_LCORE; i++) {
		struct ex_executor *ex = __atomic_load_n(&ex_registry[i], __ATOMIC_ACQUIRE);

		if (ex != NULL)
			ex_idle_kick(ex);
	}
}

int
ex_run(struct ex_executor *ex)
{
	uint32_t idle = 0, epoch = __atomic_load_n(&ex_stop_epoch, __ATOMIC_ACQUIRE);

	if (!__atomic_compare_exchange_n(
			    &ex->running, &idle, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return -EBUSY;
	ex->run_epoch = epoch; /* the idle policy's sleep checks it too */
	while (!__atomic_load_n(&ex->stop, __ATOMIC_ACQUIRE) &&
			__atomic_load_n(&ex_stop_epoch, __ATOMIC_ACQUIRE) == epoch)
		ex_run_once(ex);
	__atomic_store_n(&ex->stop, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&ex->running, 0, __ATOMIC_RELEASE);
	return 0;
}

int
ex_block_on(struct ex_executor *ex, struct ex_future *f)
{
	struct ex_join_handle jh;
	int rc;

	ex_cur = ex;
	ex_join_handle_init(&jh);
	rc = ex_spawn_to(ex, f, &jh, NULL);
	if (rc != 0)
		return rc;
	while (!ex_join_handle_done(&jh))
		ex_run_once(ex);
	return jh.result;
}

/* ---- sources ---- */

void
ex_register_source(struct ex_executor *ex, struct ex_source *src)
{
	src->next = ex->sources;
	ex->sources = src;
	ex_idle_source_added(ex, src);
}

void
ex_register_flush(struct ex_executor *ex, struct ex_source *src)
{
	src->next = ex->flushers;
	ex->flushers = src;
}

static int
unlink_source(struct ex_source **head, struct ex_source *src)
{
	for (; *head != NULL; head = &(*head)->next) {
		if (*head == src) {
			*head = src->next;
			src->next = NULL;
			return 0;
		}
	}
	return -ENOENT;
}

int
ex_unregister(struct ex_executor *ex, struct ex_source *src)
{
	if (unlink_source(&ex->sources, src) == 0) {
		ex_idle_source_removed(ex, src);
		return 0;
	}
	return unlink_source(&ex->flushers, src);
}

/* ---- counters ---- */

void
ex_stats_read(const struct ex_executor *ex, struct ex_stats *out)
{
	const uint64_t *src = (const uint64_t *)&ex->stats;
	uint64_t *dst = (uint64_t *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	out->timers_armed = __atomic_load_n(&ex->wheel.arms, __ATOMIC_RELAXED);
	out->timers_fired = __atomic_load_n(&ex->wheel.fired, __ATOMIC_RELAXED);
}

unsigned int
ex_tasks_live(const struct ex_executor *ex)
{
	return (unsigned int)__atomic_load_n(&ex->stats.tasks_live, __ATOMIC_RELAXED);
}

unsigned int
ex_tasks_free(const struct ex_executor *ex)
{
	return rte_mempool_avail_count(ex->task_pool);
}

/* ---- shutdown ---- */

void
ex_executor_shutdown(struct ex_executor *ex)
{
	struct ex_executor *prev = ex_cur;
	struct ex_task *t;

	ex_cur = ex;
	/* Activate what was spawned here from elsewhere, so it is dropped too. */
	drain_inbox(ex);
	while (ex->live_head != NULL)
		task_cancel_now(ex, ex->live_head);
	/* Everything left on the ready queue is a zombie now. */
	for (t = ready_pop(ex); t != NULL; t = ready_pop(ex)) {
		t->state = 0;
		rte_mempool_put(ex->task_pool, t);
	}
	/* Drops may have woken tasks on other executors. */
	outbox_flush_all(ex);
	ex_wheel_clear(&ex->wheel);
	ex_cur = prev;
}

void
ex_executor_free(struct ex_executor *ex)
{
	if (ex == NULL)
		return;
	ex_executor_shutdown(ex);
	__atomic_store_n(&ex_registry[ex->lcore_id], NULL, __ATOMIC_RELEASE);
	if (ex_cur == ex)
		ex_cur = NULL;
	ex_slab_orphan_all(ex);
	ex_idle_fini(ex);
	rte_ring_free(ex->inbox);
	rte_mempool_free(ex->task_pool);
	rte_free(ex->dirty);
	rte_free(ex->outbox);
	rte_free(ex);
}
