/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_executor.h - per-lcore run-to-completion executor: tasks, wakers, join
 * handles, cross-lcore wakes and spawns, reactor sources, the loop, counters.
 *
 * One executor per lcore. It owns a task pool (sized at creation), a ready
 * queue (intrusive FIFO, no atomics), a timer wheel and an inbox: a
 * multi-producer single-consumer rte_ring through which other lcores wake
 * its tasks and spawn onto it.
 *
 * The loop (ex_run / ex_run_once), in this fixed order:
 *   1. poll reactor sources (NIC rx queues register here) - they wake tasks;
 *   2. poll ready tasks, at most poll_budget of them: a task that keeps waking
 *      itself goes to the back of the queue and cannot starve the reactor;
 *   3. drain the inbox (remote wakes, remote spawns, remote cancels);
 *   4. advance the timer wheel, firing expired timers (they wake tasks);
 *   5. flush: send batched remote wakes, then call registered flush sources
 *      (tx buffers), so that what this iteration produced leaves now;
 *   6. idle policy: busy-poll, or back off: once idle for idle_spin_us (or
 *      idle_spins empty iterations, whichever comes first) sleep, never past
 *      the next timer or a source's deadline (ex_wake_by()), and not while a
 *      source holds something due at once (ex_stay_awake()). Work starts it
 *      over.
 *      - When every reactor source has a wake-up event (an rx queue's
 *        interrupt fd or socket, ex_source_set_event()), the executor sleeps
 *        in epoll on those events and on its own eventfd, which remote wakes,
 *        spawns and stops write while it sleeps, until one fires or the next
 *        timer is due (at most idle_event_us). An idle lcore then costs a
 *        wake-up per timer, and the first packet after a quiet spell waits
 *        only for the kernel to wake the thread.
 *      - Otherwise it naps: first idle_sleep_min_us, then twice as long each
 *        idle iteration up to idle_sleep_us. An idle lcore costs a wake-up
 *        per idle_sleep_us, and the first packet after a quiet spell waits
 *        at most the nap then in force (idle_sleep_us).
 *      Either way a lightly loaded lcore spins only idle_spin_us per burst.
 *
 * Wakers: waking from the owning lcore pushes the task on the ready queue
 * unless it is already scheduled (a no-op, counted as a duplicate). Waking
 * from elsewhere sets the task's remote-queued flag and, only if it was not
 * already set, enqueues the task on the owner's inbox: at most one inbox
 * slot per task, so the inbox (sized to the task pool) never overflows, and a
 * remote wake of an already queued task costs no ring slot. Remote wakes from
 * an executor are batched per destination and sent at step 5.
 *
 * A waker carries the task's generation; a task slot's generation moves on
 * when the task completes, so a stale waker wakes nothing.
 *
 * Tasks do not own their future's memory: the caller keeps the future (and
 * the join handle, if any) alive and unmoved until the task has completed.
 * That is what lets spawning allocate nothing but a task slot.
 */
#ifndef RIPTIDE_EX_EXECUTOR_H
#define RIPTIDE_EX_EXECUTOR_H

#include <stdint.h>

#include "ex_future.h"
#include "ex_timer.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ex_executor;

/** What an executor does when an iteration found nothing to do. */
enum ex_idle_policy {
	EX_IDLE_POLICY_BUSY_POLL = 0, /**< spin: lowest latency, a whole core */
	EX_IDLE_POLICY_BACKOFF, /**< sleep briefly after idle_spins idle loops */
};

/** A clock in nanoseconds; tests inject one to make time deterministic. */
typedef uint64_t ex_clock_fn(void *ctx);

/** Sleep for ns nanoseconds (the backoff idle policy); tests inject one. */
typedef void ex_idle_sleep_fn(void *ctx, uint64_t ns);

/** An event wake-up this long or more after the loop's last work is a quiet
 * one: adaptive interrupt moderation (idle_coalesce_after) counts afresh. */
#define EX_COALESCE_QUIET_NS (1 * EX_NS_PER_MS)

/** Executor configuration; start from ex_config_defaults(). */
struct ex_config {
	const char *name; /**< for pools and rings; default "ex" */
	uint32_t max_tasks; /**< task pool size; default 4096 */
	uint32_t poll_budget; /**< task polls per iteration; default 64 */
	enum ex_idle_policy idle_policy; /**< default BUSY_POLL */
	uint32_t idle_spins; /**< idle iterations before sleeping; default 1024 */
	uint32_t idle_spin_us; /**< idle time before sleeping; default 50 */
	uint32_t idle_sleep_min_us; /**< first idle sleep; default 20 */
	uint32_t idle_sleep_us; /**< longest idle sleep; default 1000 */
	ex_idle_sleep_fn *idle_sleep; /**< NULL: nanosleep; tests record instead */
	void *idle_sleep_ctx;
	uint32_t idle_event_us; /**< longest sleep on the sources' events (when
				 * they all have one); default 1000000; 0:
				 * always nap */
	uint32_t idle_coalesce_us; /**< interrupt moderation (sleeping on the
				    * sources' events only): under load, nap
				    * this long instead of sleeping on events,
				    * so that a wake-up finds a batch (a NIC's
				    * rx-usecs); a packet waits up to this
				    * long; default 0: never */
	uint32_t idle_coalesce_after; /**< adaptive: the naps begin once this
				       * many event wake-ups in a row each
				       * came within EX_COALESCE_QUIET_NS of
				       * the loop's last work (traffic that
				       * keeps coming), and end at a nap that
				       * finds nothing; so a request after a
				       * quiet spell is never held; default
				       * 16, at least 1 */
	uint32_t tick_shift; /**< timer tick = 2^tick_shift ns; default 10 */
	ex_clock_fn *clock; /**< NULL: the TSC */
	void *clock_ctx;
	int socket_id; /**< NUMA socket for the pools; default SOCKET_ID_ANY */
};

/** Fill cfg with the defaults above. */
void ex_config_defaults(struct ex_config *cfg);

/**
 * Create the executor of an lcore. It registers itself so that
 * ex_spawn_on(lcore_id) and remote wakes find it.
 *
 * @param lcore_id an EAL lcore id (< RTE_MAX_LCORE); the executor will be
 *        run by that lcore's thread, or by the calling thread in tests.
 * @return the executor, or NULL with rte_errno set: EINVAL (bad config or
 *         lcore id), EEXIST (that lcore has an executor), ENOMEM, EPROTO
 *         (the program's headers do not match the library: EX_LAYOUT).
 */
#define ex_executor_create(lcore_id, cfg) ex_executor_create_checked((lcore_id), (cfg), EX_LAYOUT)

/**
 * The layout of the public structs as the code including this header sees
 * them (a version and sizes). ex_executor_create() hands it to the library,
 * which refuses to run with a program whose view differs from its own: a
 * program built against other headers, or with flags that change a struct,
 * would otherwise link cleanly and crash later.
 */
#define EX_LAYOUT_VERSION 1u
#define EX_LAYOUT                                                                       \
	((uint32_t)(EX_LAYOUT_VERSION << 24 | (sizeof(struct ex_future) & 0xff) << 16 | \
			(sizeof(struct ex_timer) & 0xff) << 8 |                         \
			(sizeof(struct ex_config) & 0xff)))

/** ex_executor_create() with the caller's EX_LAYOUT; a different one is
 * refused with a message on stderr naming both, rte_errno EPROTO. */
struct ex_executor *ex_executor_create_checked(
		unsigned int lcore_id, const struct ex_config *cfg, uint32_t layout);

/**
 * Cancel and drop every task of an executor that is not running (tasks
 * spawned onto it from elsewhere and still in its inbox included); their
 * join handles complete with -ECANCELED, their timers are disarmed. Every
 * task slot is then free: ex_tasks_free() equals max_tasks. Dropping may
 * wake tasks of other executors, so shut every executor down before freeing
 * any. Call from the thread that ran it, after its loop returned.
 */
void ex_executor_shutdown(struct ex_executor *ex);

/**
 * Shut the executor down (ex_executor_shutdown) if it still has tasks, then
 * free its pools and rings and unregister it.
 */
void ex_executor_free(struct ex_executor *ex);

/** The executor registered for an lcore, or NULL. Any thread. */
struct ex_executor *ex_executor_of_lcore(unsigned int lcore_id);

/** The executor the calling thread is running, or NULL. */
struct ex_executor *ex_current(void);

/** The lcore id the executor was created for. */
unsigned int ex_executor_lcore(const struct ex_executor *ex);

/**
 * Run the loop on the calling thread until ex_stop() (or ex_stop_all()).
 * @return 0, or -EBUSY if another thread is running this executor.
 */
int ex_run(struct ex_executor *ex);

/**
 * Run one loop iteration on the calling thread (tests and embedding).
 * @return the amount of work done (source items, task polls, inbox entries,
 *         timers fired); 0 means the iteration was idle.
 */
unsigned int ex_run_once(struct ex_executor *ex);

/**
 * Spawn f on ex and run ex's loop on the calling thread until f completes.
 * @return f's result, or -ENOMEM if the task pool is full.
 */
int ex_block_on(struct ex_executor *ex, struct ex_future *f);

/** Ask ex's loop to return. Any thread. */
void ex_stop(struct ex_executor *ex);

/** Ask every executor's loop to return. Any thread, signal handlers too. */
void ex_stop_all(void);

/**
 * stop_after: after duration_ns (from its first poll), asks its executor's
 * loop to return (ex_stop), then is ready. Apps spawn it for --duration.
 */
struct ex_stop_after {
	struct ex_future base;
	struct ex_sleep sleep;
};
void ex_stop_after_init(struct ex_stop_after *s, uint64_t duration_ns);

/** Reference to a spawned task, for cancellation. A plain value. */
struct ex_task_ref {
	struct ex_task *task;
	uint32_t gen;
};

/**
 * A join handle receives a task's outcome. It lives in the caller's memory,
 * beside the future, and must stay there until the task completed. It may be
 * awaited (struct ex_join_handle_fut) from any lcore.
 */
struct ex_join_handle {
	uint32_t state; /**< EX_JOIN_* bits, atomic; private to the executor */
	int32_t result; /**< the future's result, or -ECANCELED */
	struct ex_waker waiter;
};

/** Prepare a join handle before passing it to a spawn. */
void ex_join_handle_init(struct ex_join_handle *jh);

/** True once the task completed or was cancelled. Any thread. */
int ex_join_handle_done(const struct ex_join_handle *jh);

/** The future that awaits a join handle; result is the task's result. */
struct ex_join_handle_fut {
	struct ex_future base;
	struct ex_join_handle *jh;
};

/** Initialise a future that becomes ready when jh's task completes. */
void ex_join_handle_fut_init(struct ex_join_handle_fut *j, struct ex_join_handle *jh);

/**
 * Spawn a future as a task on ex (this lcore's executor or another one).
 *
 * @param f  the future; caller-owned, unmoved until the task completes. Never
 *        free it from inside its own poll: the executor reads its result
 *        after the poll returned (a sanitizer build reports the use after
 *        free). A task that must own its memory takes it from an ex_slab
 *        (ex_slab.h, ex_spawn_slab()): the executor puts it back for you.
 * @param jh join handle to complete, or NULL for a detached task.
 * @param ref where to store a reference for ex_task_cancel(), or NULL.
 * @return 0, -EINVAL (NULL argument), -ENOMEM (ex's task pool is full).
 * Any thread; from another lcore the task is queued on ex's inbox.
 */
int ex_spawn_to(struct ex_executor *ex, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref);

/** ex_spawn_to() the calling thread's executor: the one it is running, or,
 * before any loop ran on it (main setting up), its lcore's; -ENODEV if it
 * has none (a thread that is no EAL lcore and runs no executor). */
int ex_spawn(struct ex_future *f, struct ex_join_handle *jh, struct ex_task_ref *ref);

/** ex_spawn_to() the executor of lcore_id; -ENODEV if it has none. */
int ex_spawn_on(unsigned int lcore_id, struct ex_future *f, struct ex_join_handle *jh,
		struct ex_task_ref *ref);

/**
 * Cancel a task: at the next safe point (never inside its own poll) its
 * future is dropped and its join handle completes with -ECANCELED.
 * @return 0, or -ESRCH if the task already completed. Any thread.
 */
int ex_task_cancel(const struct ex_task_ref *ref);

/** The executor whose task is being polled with this context. */
struct ex_executor *ex_context_executor(const struct ex_context *cx);

/** The executor's clock, in ns (a TSC read each call with the default clock). */
uint64_t ex_now_ns(const struct ex_executor *ex);

/**
 * The time this loop iteration began, in ns: the clock the timers run on,
 * read once per iteration, so hot paths (TCP stamps every segment and re-arms
 * its timer on every ACK) pay no TSC read each (about 13 ns on a VM). Behind
 * ex_now_ns() by at most one iteration. With an injected clock it reads that
 * clock, as ex_now_ns() does.
 */
uint64_t ex_now_coarse_ns(const struct ex_executor *ex);

/** The executor's timer wheel (for futures that arm their own timers). */
struct ex_wheel *ex_executor_wheel(struct ex_executor *ex);

/**
 * A reactor or flush source: a function the loop calls every iteration.
 * Returns how much work it did (0 when idle). Embedded in its owner.
 */
struct ex_source;
typedef unsigned int ex_source_fn(struct ex_source *src);
struct ex_source {
	ex_source_fn *fn;
	const char *name;
	struct ex_source *next;
	/* Its wake-up event (ex_source_set_event); zero: none. */
	ex_source_fn *arm;
	void (*disarm)(struct ex_source *src);
	int event_fd;
	uint32_t event; /* EX_SOURCE_EVENT_* bits, private */
};

/**
 * Give a reactor source a wake-up event, before registering it, so that a
 * backing-off executor can sleep until the source has work instead of
 * napping on a timer. fd must become readable, or readable again (the
 * executor watches it edge-triggered and never reads it), when work may have
 * arrived: an rx queue's interrupt eventfd, a TAP queue's fd, an AF_XDP
 * socket. Before sleeping the executor calls arm (if not NULL) on each
 * source: it enables the event and then looks once more, returning nonzero
 * if work is already there (then nothing sleeps), which closes the race
 * between the last poll and the sleep; after waking it calls disarm (if not
 * NULL), which may turn the event off while the loop polls anyway.
 * An fd epoll cannot watch leaves the source without an event.
 */
void ex_source_set_event(struct ex_source *src, int fd, ex_source_fn *arm,
		void (*disarm)(struct ex_source *src));

/**
 * Give a reactor source, before registering it, a wake-up without an fd:
 * its work comes from other lcores (an rte_ring), and each producer calls
 * ex_kick() on this executor after its work is visible. Before sleeping the
 * executor calls arm, which returns nonzero if work is already there (then
 * nothing sleeps); a producer that finds it asleep wakes it through its
 * eventfd. A source whose producers cannot all kick must not use this.
 */
void ex_source_set_kicked(struct ex_source *src, ex_source_fn *arm);

/** Wake ex if it sleeps on events, after leaving it work a kicked source
 * finds (ex_source_set_kicked). Any thread; NULL is ignored. */
void ex_kick(struct ex_executor *ex);

/** Whether ex sleeps on its sources' events when idle (every reactor source
 * has one, idle_event_us is not 0, the policy is backoff). */
int ex_sleeps_on_events(const struct ex_executor *ex);

/** Register a reactor source (loop step 1). Owning lcore only. */
void ex_register_source(struct ex_executor *ex, struct ex_source *src);

/** Register a flush source (loop step 5). Owning lcore only. */
void ex_register_flush(struct ex_executor *ex, struct ex_source *src);

/** Unregister a source of either kind; -ENOENT if it is not registered. */
int ex_unregister(struct ex_executor *ex, struct ex_source *src);

/**
 * Called by a source during an iteration that it did no work in but that
 * left it holding something due soon (a tx buffer waiting out its hold):
 * the idle policy must not sleep after this iteration. It does not make the
 * iteration count as busy. Owning lcore only.
 */
void ex_stay_awake(struct ex_executor *ex);

/**
 * Called by a source during an iteration that left it holding something it
 * will act on by deadline_ns (ex_now_coarse_ns()'s clock; a tx buffer
 * waiting out its hold): the idle policy may sleep, but wakes by then (as
 * for a timer), and does not sleep when the deadline is only a few
 * microseconds away. Unlike ex_stay_awake() the loop does not spin up to
 * the deadline, which under a CPU quota is budget spent on empty polls.
 * The earliest of an iteration's deadlines counts; like ex_stay_awake(), it
 * lasts one iteration. Owning lcore only.
 */
void ex_wake_by(struct ex_executor *ex, uint64_t deadline_ns);

/**
 * Per-executor counters. The owner updates them with plain stores; other
 * lcores read them with ex_stats_read() without slowing the owner.
 */
struct ex_stats {
	uint64_t tasks_spawned;
	uint64_t tasks_completed;
	uint64_t tasks_cancelled;
	uint64_t tasks_live;
	uint64_t spawn_failed; /**< spawns refused with -ENOMEM */
	uint64_t polls;
	uint64_t wakes_local;
	uint64_t wakes_remote; /**< remote wakes and spawns received */
	uint64_t wakes_duplicate; /**< wakes of an already scheduled task */
	uint64_t wakes_stale; /**< wakes of a task that had completed */
	uint64_t timers_armed;
	uint64_t timers_fired;
	uint64_t loops;
	uint64_t busy_cycles; /**< TSC cycles in iterations that did work */
	uint64_t idle_cycles; /**< TSC cycles in idle iterations */
	uint64_t idle_sleeps; /**< times the backoff policy slept */
	uint64_t idle_event_sleeps; /**< of those, sleeps on the sources' events */
	uint64_t idle_event_wakes; /**< of those, ended early by an event or kick */
	uint64_t idle_coalesce_waits; /**< moderation naps (idle_coalesce_us);
				       * not in idle_sleeps */
};

/**
 * A waker slot that another lcore may wake: Rust's AtomicWaker. The waiting
 * side registers, then re-checks its condition; the waking side makes the
 * condition true, calls ex_atomic_waker_wake(), which issues the full fence
 * that pairs with the register. Used by cross-lcore channels and rings.
 */
struct ex_atomic_waker {
	uint32_t state; /**< private */
	struct ex_waker waker;
};

/** Initialise an empty slot. */
void ex_atomic_waker_init(struct ex_atomic_waker *aw);

/** Store w to be woken (replacing any earlier one). Waiting side only. */
void ex_atomic_waker_register(struct ex_atomic_waker *aw, const struct ex_waker *w);

/** Wake and clear the stored waker, if any. Any thread. */
void ex_atomic_waker_wake(struct ex_atomic_waker *aw);

/** Copy an executor's counters. Any thread; each field read atomically. */
void ex_stats_read(const struct ex_executor *ex, struct ex_stats *out);

/** Live tasks and free task slots of an executor (leak checks). Any thread. */
unsigned int ex_tasks_live(const struct ex_executor *ex);
unsigned int ex_tasks_free(const struct ex_executor *ex);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_EXECUTOR_H */
