/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_priv.h - executor internals shared by the files of executor/ only.
 * Never include from another module.
 */
#ifndef RIPTIDE_EX_PRIV_H
#define RIPTIDE_EX_PRIV_H

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_per_lcore.h>

#include <rte_log.h>

#include "ex_executor.h"
#include "ex_slab.h"

/* The executor's log type, "riptide.executor" (--log-level=riptide.executor:debug). */
extern int ex_logtype;
#define EX_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, ex_logtype, "riptide.executor: " fmt "\n", ##__VA_ARGS__)

/* Task state bits; owner lcore only, plain stores. */
enum ex_task_state {
	EX_TASK_STATE_LIVE = 1u << 0, /* spawned, not yet completed */
	EX_TASK_STATE_SCHEDULED = 1u << 1, /* on the ready queue */
	EX_TASK_STATE_CANCELLED = 1u << 3, /* cancel requested; dropped at a safe point */
	EX_TASK_STATE_ZOMBIE = 1u << 4, /* finished while still on the ready queue:
					 * the slot is recycled when it is popped */
	EX_TASK_STATE_SLAB = 1u << 5, /* its future lies in a slab slot, put back
				       * when the task finishes (ex_slab.c) */
};

/* Task remote bits; any thread, atomic. */
enum ex_task_remote {
	EX_TASK_REMOTE_QUEUED = 1u << 0, /* the task is in (or bound for) the owner's inbox */
	EX_TASK_REMOTE_SPAWN = 1u << 1, /* activate: spawned from another thread */
	EX_TASK_REMOTE_CANCEL = 1u << 2, /* cancel the incarnation cancel_gen */
};

/* Join handle state bits (atomic). */
enum ex_join_state {
	EX_JOIN_DONE = 1u << 0, /* result is written */
	EX_JOIN_WAITING = 1u << 1, /* waiter is written and may be woken */
	EX_JOIN_BUSY = 1u << 2, /* the completer is reading waiter */
};

struct ex_task {
	struct ex_task *next; /* ready queue link */
	struct ex_task *all_prev; /* live list links (shutdown walks it) */
	struct ex_task *all_next;
	struct ex_future *fut;
	struct ex_join_handle *join;
	struct ex_executor *owner; /* fixed for the life of the pool */
	uint32_t gen; /* incarnation; atomic store, owner writes */
	uint32_t state; /* enum ex_task_state */
	uint32_t remote; /* enum ex_task_remote, atomic */
	uint32_t cancel_gen; /* which incarnation a remote cancel is for */
} __rte_cache_aligned;

#define EX_BURST 32

/* A deadline from ex_wake_by() closer than this is polled up to, not slept
 * to: a sleep and its wake-up (two syscalls, a timer, a context switch)
 * cost a few microseconds of their own. */
#define EX_WAKE_BY_MIN_NS (5 * EX_NS_PER_US)

/* Remote wakes buffered for one destination executor. */
struct ex_outbox {
	struct ex_executor *dst;
	uint32_t n;
	struct ex_task *tasks[EX_BURST];
};

struct rte_mempool;
struct rte_ring;

struct ex_executor {
	/* Hot: the loop and the local wake path. */
	struct ex_task *ready_head;
	struct ex_task *ready_tail;
	struct ex_source *sources;
	struct ex_source *flushers;
	uint32_t budget;
	uint32_t idle_iters;
	uint32_t stop; /* atomic */
	uint32_t running; /* atomic */
	ex_clock_fn *clock;
	void *clock_ctx;
	uint64_t tsc_start;
	uint64_t tsc_mult; /* ns = (tsc - start) * mult >> 32 */
	uint64_t tsc_last; /* start of the previous iteration */
	uint64_t now_ns; /* start of this iteration, in ns: ex_now_coarse_ns() */
	uint32_t last_work; /* whether the previous iteration did work */
	uint32_t stay_awake; /* set by ex_stay_awake() during this iteration */
	uint64_t wake_by_ns; /* ex_wake_by() this iteration: sleep no later; 0: none */
	uint64_t last_work_ns; /* when an iteration last did work (idle policy) */
	uint64_t idle_sleep_ns; /* the backoff's next sleep */
	struct ex_stats stats;

	/* The timer wheel. */
	struct ex_wheel wheel;

	/* Cold: configuration and resources. */
	struct rte_mempool *task_pool;
	struct rte_ring *inbox;
	struct ex_task *live_head; /* every live task, for shutdown */
	struct ex_outbox *outbox; /* [RTE_MAX_LCORE] */
	uint16_t *dirty; /* destinations with buffered wakes */
	uint32_t n_dirty;
	uint32_t max_tasks;
	unsigned int lcore_id;
	enum ex_idle_policy idle_policy;
	uint32_t idle_spins;
	uint64_t idle_spin_ns;
	uint64_t idle_sleep_min_ns;
	uint64_t idle_sleep_max_ns;
	ex_idle_sleep_fn *idle_sleep;
	void *idle_sleep_ctx;
	uint64_t idle_event_max_ns;
	uint64_t idle_coalesce_ns; /* a moderation nap under load; 0: none */
	uint32_t idle_coalesce_after; /* busy event wakes in a row before napping */
	uint32_t coalesce_streak; /* busy event wakes in a row, up to _after */
	uint32_t coalesce_napped; /* a moderation nap, and no work found since */
	uint32_t n_sources; /* reactor sources registered */
	uint32_t n_event_sources; /* of those, with an event in epfd */
	uint32_t run_epoch; /* ex_stop_epoch when ex_run began */
	int epfd; /* the sources' events and wake_fd; -1 until needed */
	int wake_fd; /* eventfd: remote wakes, spawns and stops while asleep */
	struct ex_slab *slabs[EX_SLABS_MAX]; /* the slabs of this executor (ex_slab.c) */
	uint32_t n_slabs;

	/* Alone on its line: other lcores read it on every wake they send,
	 * and the owner writes it only around a sleep. */
	uint32_t sleeping __rte_cache_aligned; /* atomic */
} __rte_cache_aligned;

/* Bumped by ex_stop_all(); a loop returns when it changes under it. */
extern uint32_t ex_stop_epoch;

/* ex_idle.c: the idle policy's sleeps. */
int ex_idle_init(struct ex_executor *ex, const struct ex_config *cfg);
void ex_idle_fini(struct ex_executor *ex);
void ex_idle_sleep(struct ex_executor *ex, uint64_t now, uint64_t wake_by);
void ex_idle_source_added(struct ex_executor *ex, struct ex_source *src);
void ex_idle_source_removed(struct ex_executor *ex, struct ex_source *src);
/* Wake ex if it sleeps on events; call after making its work visible.
 * Any thread; async-signal-safe. */
void ex_idle_kick(struct ex_executor *ex);

/* Owner-only counter update that other lcores may read: a relaxed store is
 * a plain mov on x86, with no lock prefix, and keeps the read side race-free. */
#define EX_STAT_ADD(ex, field, n) \
	__atomic_store_n(&(ex)->stats.field, (ex)->stats.field + (n), __ATOMIC_RELAXED)

/* Publish a task's result to its join handle and wake its waiter
 * (ex_join.c); any lcore may be awaiting it. */
void ex_join_complete(struct ex_join_handle *jh, int32_t result);

/* Spawn f on ex from ex's own thread, the task's state or-ed with
 * extra_state (ex_executor.c). */
int ex_spawn_local(struct ex_executor *ex, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref, uint32_t extra_state);

/* A task whose future lies in one of ex's slabs finished: its slot goes back
 * (ex_slab.c). */
void ex_slab_task_done(struct ex_executor *ex, struct ex_future *f);

/* ex is being freed: its slabs lose their executor (ex_slab.c). */
void ex_slab_orphan_all(struct ex_executor *ex);

#endif /* RIPTIDE_EX_PRIV_H */
