// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_executor.c: tasks, wakers, join handles,
// cancellation, budget fairness, cross-lcore wakes and spawns, shutdown.
#include <cerrno>
#include <vector>

#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_cycles.h>
#include <rte_lcore.h>

#include "ut_helpers.h"

using TaskTest = ExecutorFixture;

// A future that wakes itself and stays pending for ever: a CPU hog.
struct hog {
	struct ex_future base;
	uint64_t polls;
};
static enum ex_poll
hog_poll(struct ex_future *f, struct ex_context *cx)
{
	EX_CONTAINER_OF(f, struct hog, base)->polls++;
	ex_waker_wake(&cx->waker);
	return EX_PENDING;
}
static const struct ex_future_ops hog_ops = { hog_poll, nullptr, "hog" };

struct counting_source {
	struct ex_source src;
	uint64_t calls;
};
static unsigned int
counting_source_fn(struct ex_source *s)
{
	EX_CONTAINER_OF(s, struct counting_source, src)->calls++;
	return 0;
}

// Issue 19 item 4: main spawns its first tasks before the loop runs, with
// ex_spawn, no ex_run_once side door; they run at the loop's first pass.
TEST(ExecutorStart, SpawnFromMainBeforeTheLoopRuns)
{
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	ASSERT_EQ(ex_current(), nullptr)
			<< "no executor has run on this thread since the last free";
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct ex_ready r;
	struct ex_join_handle jh;
	ex_ready_init(&r, 7);
	ex_join_handle_init(&jh);
	EXPECT_EQ(ex_spawn(&r.base, &jh, nullptr), 0);
	EXPECT_EQ(ex_current(), nullptr) << "spawning does not make the thread run it";
	for (int i = 0; i < 4 && !ex_join_handle_done(&jh); i++)
		ex_run_once(ex);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 7);
	ex_executor_free(ex);
}

TEST_F(TaskTest, Spawn_ReadyFuture_JoinGetsResult)
{
	struct ex_ready r;
	struct ex_join_handle jh;
	ex_ready_init(&r, 42);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &r.base, &jh, nullptr), 0);
	EXPECT_FALSE(ex_join_handle_done(&jh)) << "spawn must not run the future inline";
	Run(1);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 42);
	struct ex_stats s = Stats();
	EXPECT_EQ(s.tasks_spawned, 1u);
	EXPECT_EQ(s.tasks_completed, 1u);
}

TEST_F(TaskTest, BlockOn_ReturnsResult)
{
	struct ex_ready r;
	ex_ready_init(&r, -EIO);
	EXPECT_EQ(ex_block_on(ex, &r.base), -EIO);
}

TEST_F(TaskTest, Wake_AlreadyScheduled_IsDuplicateNoop)
{
	struct ut_gate g;
	ut_gate_init(&g);
	ASSERT_EQ(ex_spawn_to(ex, &g.base, nullptr, nullptr), 0);
	Run(1);
	ASSERT_EQ(g.polls, 1);
	struct ex_waker w = g.waker.waker;
	ex_waker_wake(&w);
	ex_waker_wake(&w);
	ex_waker_wake(&w);
	Run(1);
	EXPECT_EQ(g.polls, 2) << "three wakes of one scheduled task poll it once";
	EXPECT_EQ(Stats().wakes_duplicate, 2u);
	ut_gate_open(&g, 0);
	Run(1);
}

TEST_F(TaskTest, Wake_StaleWakerAfterCompletion_Harmless)
{
	struct ut_gate g, g2;
	ut_gate_init(&g);
	ut_gate_init(&g2);
	ASSERT_EQ(ex_spawn_to(ex, &g.base, nullptr, nullptr), 0);
	Run(1);
	struct ex_waker stale = g.waker.waker;
	ut_gate_open(&g, 0);
	Run(1);
	// The slot is recycled for a new task; the old waker must not wake it.
	ASSERT_EQ(ex_spawn_to(ex, &g2.base, nullptr, nullptr), 0);
	Run(1);
	ASSERT_EQ(g2.polls, 1);
	ex_waker_wake(&stale);
	Run(1);
	EXPECT_EQ(g2.polls, 1);
	EXPECT_GE(Stats().wakes_stale, 1u);
	ut_gate_open(&g2, 0);
	Run(1);
}

TEST_F(TaskTest, Spawn_FullPool_ReturnsENOMEM)
{
	std::vector<ut_gate> gates(kMaxTasks + 1);
	for (uint32_t i = 0; i < kMaxTasks; i++) {
		ut_gate_init(&gates[i]);
		ASSERT_EQ(ex_spawn_to(ex, &gates[i].base, nullptr, nullptr), 0) << i;
	}
	ut_gate_init(&gates[kMaxTasks]);
	EXPECT_EQ(ex_spawn_to(ex, &gates[kMaxTasks].base, nullptr, nullptr), -ENOMEM);
	EXPECT_EQ(ex_tasks_live(ex), kMaxTasks);
	Run(2);
	for (uint32_t i = 0; i < kMaxTasks; i++)
		ut_gate_open(&gates[i], 0);
	Run(2);
	EXPECT_EQ(ex_tasks_live(ex), 0u);
}

TEST_F(TaskTest, Cancel_PendingTask_DropsFutureAndJoinGetsECANCELED)
{
	struct ut_gate g;
	struct ex_join_handle jh;
	struct ex_task_ref ref;
	ut_gate_init(&g);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &g.base, &jh, &ref), 0);
	Run(1);
	ASSERT_EQ(ex_task_cancel(&ref), 0);
	EXPECT_EQ(g.drops, 0) << "cancel acts at the next safe point, not inline";
	Run(1);
	EXPECT_EQ(g.drops, 1);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, -ECANCELED);
	EXPECT_EQ(Stats().tasks_cancelled, 1u);
	EXPECT_EQ(ex_task_cancel(&ref), -ESRCH) << "a finished task cannot be cancelled";
}

// A future that cancels its own task from inside its poll.
struct self_cancel {
	struct ex_future base;
	struct ex_task_ref ref;
	int drops;
};
static enum ex_poll
self_cancel_poll(struct ex_future *f, struct ex_context *)
{
	struct self_cancel *s = EX_CONTAINER_OF(f, struct self_cancel, base);
	EXPECT_EQ(ex_task_cancel(&s->ref), 0);
	return EX_PENDING;
}
static void
self_cancel_drop(struct ex_future *f)
{
	EX_CONTAINER_OF(f, struct self_cancel, base)->drops++;
}
static const struct ex_future_ops self_cancel_ops = { self_cancel_poll, self_cancel_drop, "self" };

TEST_F(TaskTest, Cancel_FromInsideOwnPoll_DroppedAfterPollReturns)
{
	struct self_cancel s;
	ex_future_init(&s.base, &self_cancel_ops);
	s.drops = 0;
	ASSERT_EQ(ex_spawn_to(ex, &s.base, nullptr, &s.ref), 0);
	Run(1);
	EXPECT_EQ(s.drops, 1);
	EXPECT_EQ(ex_tasks_live(ex), 0u);
}

// A task awaiting another task's join handle.
struct awaiter {
	struct ex_future base;
	struct ex_join_handle_fut join;
};
static enum ex_poll
awaiter_poll(struct ex_future *f, struct ex_context *cx)
{
	struct awaiter *a = EX_CONTAINER_OF(f, struct awaiter, base);
	if (ex_await(&a->join.base, cx) == EX_PENDING)
		return EX_PENDING;
	f->result = a->join.base.result + 1;
	return EX_READY;
}
static void
awaiter_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct awaiter, base)->join.base);
}
static const struct ex_future_ops awaiter_ops = { awaiter_poll, awaiter_drop, "awaiter" };

TEST_F(TaskTest, Join_AwaitedByAnotherTask_WokenWithResult)
{
	struct ut_gate g;
	struct ex_join_handle jh, ajh;
	struct awaiter a;
	ut_gate_init(&g);
	ex_join_handle_init(&jh);
	ex_join_handle_init(&ajh);
	ASSERT_EQ(ex_spawn_to(ex, &g.base, &jh, nullptr), 0);
	ex_future_init(&a.base, &awaiter_ops);
	ex_join_handle_fut_init(&a.join, &jh);
	ASSERT_EQ(ex_spawn_to(ex, &a.base, &ajh, nullptr), 0);
	Run(3);
	EXPECT_FALSE(ex_join_handle_done(&ajh));
	ut_gate_open(&g, 9);
	Run(3);
	ASSERT_TRUE(ex_join_handle_done(&ajh));
	EXPECT_EQ(ajh.result, 10);
}

TEST_F(TaskTest, Budget_SelfWakingTask_CannotStarveReactorOrOthers)
{
	struct hog h;
	struct ut_gate g;
	struct counting_source cs = { { counting_source_fn, "count", nullptr }, 0 };
	struct ex_task_ref ref;
	ex_future_init(&h.base, &hog_ops);
	h.polls = 0;
	ut_gate_init(&g);
	ex_register_source(ex, &cs.src);
	ASSERT_EQ(ex_spawn_to(ex, &h.base, nullptr, &ref), 0);
	ASSERT_EQ(ex_spawn_to(ex, &g.base, nullptr, nullptr), 0);
	Run(10);
	EXPECT_EQ(cs.calls, 10u) << "the reactor runs every iteration";
	EXPECT_LE(h.polls, 10u * cfg.poll_budget);
	EXPECT_GE(g.polls, 1) << "the other task got its turn";
	ut_gate_open(&g, 0);
	Run(2);
	EXPECT_EQ(g.base.status, EX_FUTURE_STATUS_DONE);
	ASSERT_EQ(ex_unregister(ex, &cs.src), 0);
	EXPECT_EQ(ex_unregister(ex, &cs.src), -ENOENT);
	ex_task_cancel(&ref);
	Run(1);
}

extern "C" uint32_t layout_ndebug(void);
extern "C" size_t layout_ndebug_future_size(void);

// Issue 19 item 1: a program built with other flags than the library (a
// release build's -DRT_NDEBUG against a debug library, or the reverse) sees
// the same structs: it links and runs. One built against headers of another
// layout is refused by ex_executor_create, with a message, not a crash later.
TEST_F(TaskTest, Layout_SameWithOrWithoutRtNdebug_OtherLayoutRefused)
{
	EXPECT_EQ(layout_ndebug_future_size(), sizeof(struct ex_future));
	EXPECT_EQ(layout_ndebug(), EX_LAYOUT);
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	rte_errno = 0;
	EXPECT_EQ(ex_executor_create_checked(6, &cfg, EX_LAYOUT ^ (8u << 16)), nullptr);
	EXPECT_EQ(rte_errno, EPROTO);
	EXPECT_EQ(ex_executor_of_lcore(6), nullptr) << "nothing made";
}

TEST_F(TaskTest, Spawn_Errors)
{
	struct ex_ready r;
	ex_ready_init(&r, 0);
	EXPECT_EQ(ex_spawn_to(nullptr, &r.base, nullptr, nullptr), -EINVAL);
	EXPECT_EQ(ex_spawn_to(ex, nullptr, nullptr, nullptr), -EINVAL);
	EXPECT_EQ(ex_spawn_on(RTE_MAX_LCORE - 1, &r.base, nullptr, nullptr), -ENODEV);
	struct ex_config bad;
	ex_config_defaults(&bad);
	bad.max_tasks = 0;
	EXPECT_EQ(ex_executor_create(5, &bad), nullptr);
	EXPECT_EQ(rte_errno, EINVAL);
	ex_config_defaults(&bad);
	EXPECT_EQ(ex_executor_create(rte_lcore_id(), &bad), nullptr) << "one executor per lcore";
	EXPECT_EQ(rte_errno, EEXIST);
}

// Defaults, a name, a pool size and the injected clock clk: the setup of the
// tests that make their own executor.
static struct ex_config
clocked_config(const char *name, uint32_t max_tasks, ut_clock *clk)
{
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	cfg.name = name;
	cfg.max_tasks = max_tasks;
	cfg.clock = ut_clock_read;
	cfg.clock_ctx = clk;
	return cfg;
}

TEST(ExecutorShutdown, PendingTasksAndTimers_AllReleased)
{
	ut_clock clk;
	struct ex_config cfg = clocked_config("shut", 16, &clk);
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct ex_sleep sleeps[8];
	struct ex_join_handle jh[8];
	for (int i = 0; i < 8; i++) {
		ex_sleep_init(&sleeps[i], EX_NS_PER_S * (i + 1));
		ex_join_handle_init(&jh[i]);
		ASSERT_EQ(ex_spawn_to(ex, &sleeps[i].base, &jh[i], nullptr), 0);
	}
	ex_run_once(ex); // takes the spawns in from the inbox
	ex_run_once(ex); // polls them: each arms its timer
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 8u);
	EXPECT_EQ(ex_tasks_live(ex), 8u);
	ex_executor_shutdown(ex);
	EXPECT_EQ(ex_tasks_live(ex), 0u);
	EXPECT_EQ(ex_tasks_free(ex), cfg.max_tasks) << "every task slot is back in the pool";
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u);
	ex_executor_free(ex);
	for (int i = 0; i < 8; i++) {
		EXPECT_TRUE(ex_join_handle_done(&jh[i]));
		EXPECT_EQ(jh[i].result, -ECANCELED);
		EXPECT_FALSE(ex_timer_armed(&sleeps[i].timer)) << "drop disarms the timer";
	}
	EXPECT_EQ(ex_executor_of_lcore(rte_lcore_id()), nullptr);
}

// Records ex_now_coarse_ns() and ex_now_ns() twice within one poll.
struct clock_probe {
	struct ex_future base;
	uint64_t coarse[2], exact[2];
};

static enum ex_poll
clock_probe_poll(struct ex_future *f, struct ex_context *cx)
{
	auto *p = EX_CONTAINER_OF(f, struct clock_probe, base);
	struct ex_executor *ex = ex_context_executor(cx);
	p->coarse[0] = ex_now_coarse_ns(ex);
	p->exact[0] = ex_now_ns(ex);
	rte_delay_us_block(50);
	p->coarse[1] = ex_now_coarse_ns(ex);
	p->exact[1] = ex_now_ns(ex);
	return EX_READY;
}

static const struct ex_future_ops clock_probe_ops = { clock_probe_poll, nullptr, "clock_probe" };

TEST(ExecutorClock, Coarse_IsTheIterationStart_ExactMovesOn)
{
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	cfg.name = "clk";
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	uint64_t before = ex_now_ns(ex);
	struct clock_probe p;
	ex_future_init(&p.base, &clock_probe_ops);
	ASSERT_EQ(ex_block_on(ex, &p.base), 0);
	EXPECT_EQ(p.coarse[0], p.coarse[1]) << "constant within an iteration";
	EXPECT_GE(p.coarse[0], before) << "an iteration that began after the probe was made";
	EXPECT_LE(p.coarse[0], p.exact[0]);
	EXPECT_GE(p.exact[1] - p.exact[0], 50u * 1000) << "the exact clock moves on";
	ex_run_once(ex);
	EXPECT_GE(ex_now_coarse_ns(ex), p.exact[1]) << "the next iteration reads it again";
	ex_executor_free(ex);

	// With an injected clock both read it (deterministic tests).
	ut_clock clk;
	cfg.clock = ut_clock_read;
	cfg.clock_ctx = &clk;
	ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	clk.now = 777;
	EXPECT_EQ(ex_now_coarse_ns(ex), 777u);
	EXPECT_EQ(ex_now_ns(ex), 777u);
	ex_executor_free(ex);
}

// ---- two lcores ----

static int
run_executor(void *arg)
{
	return ex_run(static_cast<struct ex_executor *>(arg));
}

// Records the lcore it ran on.
struct where {
	struct ex_future base;
	unsigned int lcore;
};
static enum ex_poll
where_poll(struct ex_future *f, struct ex_context *)
{
	EX_CONTAINER_OF(f, struct where, base)->lcore = rte_lcore_id();
	return EX_READY;
}
static const struct ex_future_ops where_ops = { where_poll, nullptr, "where" };

class TwoLcoreTest : public ExecutorFixture
{
      protected:
	unsigned int worker = RTE_MAX_LCORE;
	struct ex_executor *remote = nullptr;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		worker = rte_get_next_lcore(rte_lcore_id(), 1, 0);
		if (worker >= RTE_MAX_LCORE)
			GTEST_SKIP() << "needs two lcores";
		struct ex_config rc;
		ex_config_defaults(&rc);
		rc.name = "remote";
		rc.max_tasks = 256;
		rc.idle_policy = EX_IDLE_POLICY_BACKOFF; // share the machine with the test
		rc.idle_spins = 64;
		rc.idle_sleep_us = 50;
		remote = ex_executor_create(worker, &rc);
		ASSERT_NE(remote, nullptr);
		ASSERT_EQ(rte_eal_remote_launch(run_executor, remote, worker), 0);
	}

	void TearDown() override
	{
		if (remote != nullptr) {
			ex_stop(remote);
			rte_eal_wait_lcore(worker);
			EXPECT_EQ(ex_tasks_live(remote), 0u);
			ex_executor_free(remote);
		}
		ExecutorFixture::TearDown();
	}

	// Run the local loop until done() or a generous bound (no timing asserts).
	template <typename F> bool RunUntil(F done)
	{
		for (long i = 0; i < 200000000L && !done(); i++)
			ex_run_once(ex);
		return done();
	}
};

TEST_F(TwoLcoreTest, SpawnOn_RunsOnTargetLcore_JoinedLocally)
{
	struct where w;
	struct ex_join_handle jh, ajh;
	struct awaiter a;
	ex_future_init(&w.base, &where_ops);
	w.lcore = RTE_MAX_LCORE;
	ex_join_handle_init(&jh);
	ex_join_handle_init(&ajh);
	Run(1); // this thread is now inside the local executor
	ASSERT_EQ(ex_spawn_on(worker, &w.base, &jh, nullptr), 0);
	ex_future_init(&a.base, &awaiter_ops);
	ex_join_handle_fut_init(&a.join, &jh);
	ASSERT_EQ(ex_spawn_to(ex, &a.base, &ajh, nullptr), 0);
	ASSERT_TRUE(RunUntil([&] { return ex_join_handle_done(&ajh); }));
	EXPECT_EQ(w.lcore, worker);
	EXPECT_EQ(ajh.result, 1);
}

TEST_F(TwoLcoreTest, RemoteWakes_Batched_AllTasksComplete)
{
	constexpr int N = 100;
	std::vector<ut_gate> gates(N);
	std::vector<ex_join_handle> jh(N);
	Run(1);
	for (int i = 0; i < N; i++) {
		ut_gate_init(&gates[i]);
		ex_join_handle_init(&jh[i]);
		ASSERT_EQ(ex_spawn_on(worker, &gates[i].base, &jh[i], nullptr), 0);
	}
	Run(1); // flushes the batched spawns
	ASSERT_TRUE(RunUntil([&] {
		for (auto &g : gates)
			if (__atomic_load_n(&g.polls, __ATOMIC_ACQUIRE) == 0)
				return false;
		return true;
	}));
	// Open every gate from this lcore: remote wakes, batched per iteration.
	for (int i = 0; i < N; i++)
		ut_gate_open(&gates[i], i);
	Run(1);
	ASSERT_TRUE(RunUntil([&] {
		for (auto &j : jh)
			if (!ex_join_handle_done(&j))
				return false;
		return true;
	}));
	for (int i = 0; i < N; i++)
		EXPECT_EQ(jh[i].result, i);
	struct ex_stats rs;
	ex_stats_read(remote, &rs);
	EXPECT_GE(rs.wakes_remote, (uint64_t)N) << "spawns and wakes arrived through the inbox";
	EXPECT_EQ(rs.tasks_completed, (uint64_t)N);
}

TEST_F(TwoLcoreTest, RemoteWake_AlreadyQueued_CostsNoRingSlot)
{
	struct ut_gate g;
	struct ex_join_handle jh;
	ut_gate_init(&g);
	ex_join_handle_init(&jh);
	Run(1);
	ASSERT_EQ(ex_spawn_on(worker, &g.base, &jh, nullptr), 0);
	Run(1);
	// Wait until the remote poll has registered its waker in the gate.
	ASSERT_TRUE(RunUntil(
			[&] { return __atomic_load_n(&g.waker.state, __ATOMIC_ACQUIRE) == 1; }));
	uint64_t dup0 = Stats().wakes_duplicate;
	// Wake three times within one iteration of ours: one inbox entry.
	struct ex_waker w = g.waker.waker;
	ex_waker_wake(&w);
	ex_waker_wake(&w);
	ex_waker_wake(&w);
	EXPECT_EQ(Stats().wakes_duplicate - dup0, 2u);
	ut_gate_open(&g, 0);
	Run(1);
	ASSERT_TRUE(RunUntil([&] { return ex_join_handle_done(&jh); }));
}

TEST_F(TwoLcoreTest, RemoteCancel_JoinGetsECANCELED)
{
	struct ut_gate g;
	struct ex_join_handle jh;
	struct ex_task_ref ref;
	ut_gate_init(&g);
	ex_join_handle_init(&jh);
	Run(1);
	ASSERT_EQ(ex_spawn_on(worker, &g.base, &jh, &ref), 0);
	Run(1);
	ASSERT_TRUE(RunUntil([&] { return __atomic_load_n(&g.polls, __ATOMIC_ACQUIRE) >= 1; }));
	ASSERT_EQ(ex_task_cancel(&ref), 0);
	Run(1);
	ASSERT_TRUE(RunUntil([&] { return ex_join_handle_done(&jh); }));
	EXPECT_EQ(jh.result, -ECANCELED);
	EXPECT_EQ(__atomic_load_n(&g.drops, __ATOMIC_ACQUIRE), 1);
}

TEST_F(TwoLcoreTest, Shutdown_SpawnedFromElsewhereNotYetRun_Dropped)
{
	struct ut_gate g;
	struct ex_join_handle jh;
	ut_gate_init(&g);
	ex_join_handle_init(&jh);
	ex_stop(remote);
	ASSERT_EQ(rte_eal_wait_lcore(worker), 0);
	// The remote loop is stopped: this spawn waits in its inbox.
	ASSERT_EQ(ex_spawn_on(worker, &g.base, &jh, nullptr), 0);
	Run(1); // our outbox flush delivers it to the inbox
	ex_executor_shutdown(remote);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, -ECANCELED);
	EXPECT_EQ(g.polls, 0);
	EXPECT_EQ(g.drops, 1);
	EXPECT_EQ(ex_tasks_free(remote), 256u);
	ASSERT_EQ(rte_eal_remote_launch(run_executor, remote, worker), 0);
}

TEST_F(TwoLcoreTest, StopAll_StopsEveryLoop)
{
	ex_stop_all();
	EXPECT_EQ(rte_eal_wait_lcore(worker), 0) << "the remote loop returned";
	// Relaunch so TearDown's stop/wait pair has a loop to stop.
	ASSERT_EQ(rte_eal_remote_launch(run_executor, remote, worker), 0);
}

// A flush source that holds something due soon while `holding` is set.
struct holder {
	struct ex_source src;
	struct ex_executor *ex;
	bool holding;
	unsigned int calls;
};

static unsigned int
holder_fn(struct ex_source *src)
{
	auto *h = EX_CONTAINER_OF(src, struct holder, src);
	h->calls++;
	if (h->holding)
		ex_stay_awake(h->ex);
	return 0;
}

// An injected sleep: records each sleep and moves the injected clock by it,
// as a real sleep would.
struct sleep_log {
	ut_clock *clk;
	std::vector<uint64_t> ns;
};

static void
sleep_log_fn(void *ctx, uint64_t ns)
{
	auto *l = static_cast<sleep_log *>(ctx);
	l->ns.push_back(ns);
	l->clk->now += ns;
}

// A source that reports work when `pending` is set (a packet arrived).
struct pulse {
	struct ex_source src;
	bool pending;
};

static unsigned int
pulse_fn(struct ex_source *src)
{
	auto *p = EX_CONTAINER_OF(src, struct pulse, src);
	unsigned int w = p->pending ? 1 : 0;
	p->pending = false;
	return w;
}

TEST(ExecutorIdle, Backoff_SpinsIdleSpinUs_ThenSleepsDoublingToTheCap_WorkStartsOver)
{
	ut_clock clk;
	sleep_log sl{ &clk, {} };
	struct ex_config cfg = clocked_config("idleb", 4, &clk);
	cfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
	cfg.idle_spins = 1000000; // the time bound decides here
	cfg.idle_spin_us = 50;
	cfg.idle_sleep_min_us = 20;
	cfg.idle_sleep_us = 1000;
	cfg.idle_sleep = sleep_log_fn;
	cfg.idle_sleep_ctx = &sl;
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct pulse p = {};
	p.src.fn = pulse_fn;
	p.src.name = "pulse";
	ex_register_source(ex, &p.src);

	p.pending = true;
	EXPECT_EQ(ex_run_once(ex), 1u);
	// Idle iterations 1 us apart: no sleep for the first 50 us.
	for (int i = 0; i < 49; i++) {
		clk.now += 1000;
		ex_run_once(ex);
	}
	EXPECT_TRUE(sl.ns.empty()) << "slept while still spinning";
	clk.now += 1000;
	for (int i = 0; i < 9; i++)
		ex_run_once(ex);
	const std::vector<uint64_t> want = { 20000, 40000, 80000, 160000, 320000, 640000, 1000000,
		1000000, 1000000 };
	EXPECT_EQ(sl.ns, want) << "20 us, doubling, capped at 1 ms";

	// Traffic resumes: the packet waited at most the sleep in force (1 ms,
	// the bound), and the backoff starts over from the spin.
	p.pending = true;
	EXPECT_EQ(ex_run_once(ex), 1u) << "the first iteration after a sleep sees the packet";
	sl.ns.clear();
	for (int i = 0; i < 10; i++) {
		clk.now += 1000;
		ex_run_once(ex);
	}
	EXPECT_TRUE(sl.ns.empty()) << "after work it spins again first";
	for (int i = 0; i < 40; i++) {
		clk.now += 1000;
		ex_run_once(ex);
	}
	ASSERT_FALSE(sl.ns.empty());
	EXPECT_EQ(sl.ns[0], 20000u) << "and sleeps from the shortest step again";
	ASSERT_EQ(ex_unregister(ex, &p.src), 0);
	ex_executor_free(ex);
}

// Backs off at once when idle, in naps of 1 ms logged to sl (no spin).
static struct ex_config
napping_config(const char *name, ut_clock *clk, sleep_log *sl)
{
	struct ex_config cfg = clocked_config(name, 4, clk);
	cfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
	cfg.idle_spin_us = 0;
	cfg.idle_sleep_min_us = 1000;
	cfg.idle_sleep_us = 1000;
	cfg.idle_sleep = sleep_log_fn;
	cfg.idle_sleep_ctx = sl;
	return cfg;
}

// A flush source holding something it will act on by `deadline`
// (ex_wake_by), while `deadline` is not 0.
struct due {
	struct ex_source src;
	struct ex_executor *ex;
	uint64_t deadline;
};

static unsigned int
due_fn(struct ex_source *src)
{
	auto *d = EX_CONTAINER_OF(src, struct due, src);
	if (d->deadline != 0)
		ex_wake_by(d->ex, d->deadline);
	return 0;
}

TEST(ExecutorIdle, Backoff_WakeBy_SleepsUpToTheEarliestDeadline_NotWhenItIsTooClose)
{
	ut_clock clk;
	sleep_log sl{ &clk, {} };
	struct ex_config cfg = napping_config("idlew", &clk, &sl);
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct due a = {}, b = {};
	a.src.fn = b.src.fn = due_fn;
	a.src.name = b.src.name = "due";
	a.ex = b.ex = ex;
	ex_register_flush(ex, &a.src);
	ex_register_flush(ex, &b.src);

	ex_run_once(ex);
	ASSERT_EQ(sl.ns.size(), 1u);
	EXPECT_EQ(sl.ns[0], 1000000u) << "no deadline: the whole 1 ms nap";

	// Two holders: the sleep ends at the earlier deadline, never past it.
	a.deadline = clk.now + 70000;
	b.deadline = clk.now + 40000;
	EXPECT_EQ(ex_run_once(ex), 0u) << "holding is not work";
	ASSERT_EQ(sl.ns.size(), 2u) << "a deadline 40 us away is slept to, not spun to";
	EXPECT_EQ(sl.ns[1], 40000u) << "slept to the earliest deadline";
	a.deadline = clk.now + 40000; // the other way round: not the first or last one set
	b.deadline = clk.now + 70000;
	ex_run_once(ex);
	ASSERT_EQ(sl.ns.size(), 3u);
	EXPECT_EQ(sl.ns[2], 40000u) << "slept to the earliest deadline";

	// A deadline closer than a sleep is worth: polled up to, no sleep.
	a.deadline = 0;
	b.deadline = clk.now + EX_NS_PER_US;
	ex_run_once(ex);
	EXPECT_EQ(sl.ns.size(), 3u) << "slept for a deadline 1 us away";
	b.deadline = clk.now; // due now, or already past
	ex_run_once(ex);
	EXPECT_EQ(sl.ns.size(), 3u) << "slept past a deadline that had come";

	// A deadline lasts the iteration that set it.
	b.deadline = 0;
	ex_run_once(ex);
	ASSERT_EQ(sl.ns.size(), 4u);
	EXPECT_EQ(sl.ns[3], 1000000u) << "an old deadline cut a later sleep short";

	ASSERT_EQ(ex_unregister(ex, &a.src), 0);
	ASSERT_EQ(ex_unregister(ex, &b.src), 0);
	ex_executor_free(ex);
}

TEST(ExecutorIdle, Backoff_NeverSleepsPastTheNextTimer)
{
	ut_clock clk;
	sleep_log sl{ &clk, {} };
	struct ex_config cfg = napping_config("idlet", &clk, &sl);
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct ex_timer t;
	ex_timer_init_callback(&t, [](struct ex_timer *) {});
	const uint64_t deadline = clk.now + 300000;
	ex_timer_arm(ex_executor_wheel(ex), &t, deadline, nullptr);
	// Every sleep ends by the deadline (the wheel may wake it early, coarse
	// slots, never late), and the timer fires on time.
	for (int i = 0; i < 50 && ex_timer_armed(&t); i++) {
		ex_run_once(ex);
		EXPECT_LE(clk.now, deadline + 1024) << "slept past the timer (a tick of slack)";
	}
	EXPECT_FALSE(ex_timer_armed(&t)) << "the timer never fired";
	EXPECT_FALSE(sl.ns.empty());
	ex_executor_free(ex);
}

TEST(ExecutorIdle, Backoff_SleepsWhenIdle_NotWhileASourceHolds)
{
	ut_clock clk;
	struct ex_config cfg = clocked_config("idle", 4, &clk);
	cfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
	cfg.idle_spins = 2;
	cfg.idle_sleep_us = 1;
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct holder h = {};
	h.src.fn = holder_fn;
	h.src.name = "holder";
	h.ex = ex;
	ex_register_flush(ex, &h.src);
	struct ex_stats s;

	h.holding = true;
	for (int i = 0; i < 10; i++)
		EXPECT_EQ(ex_run_once(ex), 0u) << "holding is not work";
	ex_stats_read(ex, &s);
	EXPECT_EQ(s.idle_sleeps, 0u) << "no sleep while a source holds";
	EXPECT_EQ(h.calls, 10u);

	h.holding = false; // the hold lasts one iteration: it is not sticky
	for (int i = 0; i < 10; i++)
		ex_run_once(ex);
	ex_stats_read(ex, &s);
	EXPECT_EQ(s.idle_sleeps, 10u) << "past idle_spins, every idle iteration sleeps";

	ASSERT_EQ(ex_unregister(ex, &h.src), 0);
	ex_executor_free(ex);
}
