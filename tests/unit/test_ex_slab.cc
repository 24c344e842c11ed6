// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_slab.c: tasks that own their futures. A slot
// spawned goes back to its slab when the task completes, is cancelled or is
// dropped at shutdown, after its join handle got the result, and never
// twice; a full slab refuses until a task ends; misuse is refused.
#include <cerrno>
#include <thread>

#include <rte_errno.h>
#include <rte_lcore.h>

#include "ex_slab.h"
#include "ut_helpers.h"

namespace
{

// A session-like future: pending until told to finish, counting its drops.
struct worker {
	struct ex_future base;
	struct ex_waker waker;
	bool go;
	int32_t value;
	uint32_t polls;
	char payload[200]; // slots are bigger than a cache line
};

int drops;

enum ex_poll
worker_poll(struct ex_future *f, struct ex_context *cx)
{
	struct worker *w = EX_CONTAINER_OF(f, struct worker, base);

	w->polls++;
	if (!w->go) {
		w->waker = cx->waker;
		return EX_PENDING;
	}
	f->result = w->value;
	return EX_READY;
}

void
worker_drop(struct ex_future *)
{
	drops++;
}

const struct ex_future_ops worker_ops = { worker_poll, worker_drop, "worker" };

class SlabTest : public ExecutorFixture
{
      protected:
	struct ex_slab *slab = nullptr;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		drops = 0;
		slab = EX_SLAB_CREATE(ex, "ut_workers", struct worker, 4);
		ASSERT_NE(slab, nullptr);
	}

	void TearDown() override
	{
		if (slab != nullptr) {
			ex_executor_shutdown(ex);
			EXPECT_EQ(ex_slab_free(slab), 0) << "slots left held";
		}
		ExecutorFixture::TearDown();
	}

	struct worker *Spawn(int32_t value, struct ex_join_handle *jh = nullptr)
	{
		auto *w = static_cast<struct worker *>(ex_slab_get(slab));
		if (w == nullptr)
			return nullptr;
		ex_future_init(&w->base, &worker_ops);
		w->value = value;
		EXPECT_EQ(ex_spawn_slab(slab, &w->base, jh, nullptr), 0);
		return w;
	}

	static void Finish(struct worker *w)
	{
		w->go = true;
		ex_waker_wake(&w->waker);
	}
};

} // namespace

TEST_F(SlabTest, CompletedTask_SlotBackAfterTheJoinHandleGotItsResult)
{
	struct ex_join_handle jh;
	ex_join_handle_init(&jh);
	struct worker *w = Spawn(42, &jh);
	ASSERT_NE(w, nullptr);
	EXPECT_EQ(ex_slab_in_use(slab), 1u);
	Run(2);
	EXPECT_EQ(ex_slab_in_use(slab), 1u) << "pending: the task still owns its slot";
	Finish(w);
	Run(2);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 42);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
	EXPECT_EQ(drops, 0) << "a future that completed is not dropped";
}

TEST_F(SlabTest, FullSlab_RefusesUntilATaskEnds_ThenTheSlotIsReused)
{
	struct worker *w[4];
	for (auto &x : w) {
		x = Spawn(1);
		ASSERT_NE(x, nullptr);
	}
	EXPECT_EQ(ex_slab_get(slab), nullptr) << "four slots, four tasks";
	Run(2);
	struct ex_waker stale = w[2]->waker;
	Finish(w[2]);
	Run(2);
	EXPECT_EQ(ex_slab_in_use(slab), 3u);
	struct ex_join_handle jh;
	ex_join_handle_init(&jh);
	struct worker *again = Spawn(7, &jh);
	ASSERT_EQ(again, w[2]) << "the freed slot is the one handed out";
	EXPECT_FALSE(again->go) << "a slot comes zeroed";
	Run(2);
	EXPECT_EQ(again->polls, 1u);
	ex_waker_wake(&stale);
	Run(2);
	EXPECT_EQ(again->polls, 1u) << "the old task's waker must not wake the new one";
	EXPECT_FALSE(ex_join_handle_done(&jh));
	Finish(again);
	Run(2);
	EXPECT_EQ(jh.result, 7);
	for (int i : { 0, 1, 3 })
		Finish(w[i]);
	Run(2);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
}

TEST_F(SlabTest, CancelledTask_DroppedAndSlotBack)
{
	auto *w = static_cast<struct worker *>(ex_slab_get(slab));
	ASSERT_NE(w, nullptr);
	ex_future_init(&w->base, &worker_ops);
	struct ex_task_ref ref;
	ASSERT_EQ(ex_spawn_slab(slab, &w->base, nullptr, &ref), 0);
	Run(2);
	ASSERT_EQ(ex_task_cancel(&ref), 0);
	Run(2);
	EXPECT_EQ(drops, 1);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
}

TEST_F(SlabTest, Shutdown_DropsEveryTaskAndReturnsEverySlot)
{
	for (int i = 0; i < 3; i++)
		ASSERT_NE(Spawn(i), nullptr);
	Run(2);
	ex_executor_shutdown(ex);
	EXPECT_EQ(drops, 3);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
	EXPECT_EQ(ex_slab_free(slab), 0);
	slab = nullptr;
}

// A future that completes in its first poll after waking itself: the task
// finishes while still queued (a zombie). Its slot goes back once.
struct self_waker {
	struct ex_future base;
};
enum ex_poll
self_waker_poll(struct ex_future *f, struct ex_context *cx)
{
	ex_waker_wake(&cx->waker);
	f->result = 5;
	return EX_READY;
}
const struct ex_future_ops self_waker_ops = { self_waker_poll, nullptr, "self_waker" };

TEST_F(SlabTest, TaskThatWokeItselfAndCompleted_SlotBackOnce)
{
	auto *a = static_cast<struct self_waker *>(ex_slab_get(slab));
	ASSERT_NE(a, nullptr);
	ex_future_init(&a->base, &self_waker_ops);
	ASSERT_EQ(ex_spawn_slab(slab, &a->base, nullptr, nullptr), 0);
	Run(4);
	EXPECT_EQ(ex_slab_in_use(slab), 0u);
	// Every slot can still be had exactly once.
	void *s[4];
	for (auto &x : s)
		ASSERT_NE(x = ex_slab_get(slab), nullptr);
	EXPECT_EQ(ex_slab_get(slab), nullptr);
	for (auto x : s)
		ex_slab_put(slab, x);
}

TEST_F(SlabTest, Misuse_Refused)
{
	struct worker outside;
	ex_future_init(&outside.base, &worker_ops);
	EXPECT_EQ(ex_spawn_slab(slab, &outside.base, nullptr, nullptr), -EINVAL)
			<< "a future in no slot of the slab";
	auto *w = static_cast<struct worker *>(ex_slab_get(slab));
	ASSERT_NE(w, nullptr);
	ex_future_init(&w->base, &worker_ops);
	ex_slab_put(slab, w);
	EXPECT_EQ(ex_spawn_slab(slab, &w->base, nullptr, nullptr), -EINVAL) << "a slot given back";
	w = Spawn(1);
	ASSERT_NE(w, nullptr);
	EXPECT_EQ(ex_spawn_slab(slab, &w->base, nullptr, nullptr), -EINVAL) << "spawned twice";
	// Another thread (not an EAL lcore, running no executor).
	auto *x = static_cast<struct worker *>(ex_slab_get(slab));
	ASSERT_NE(x, nullptr);
	ex_future_init(&x->base, &worker_ops);
	int rc = 0;
	std::thread t([&] { rc = ex_spawn_slab(slab, &x->base, nullptr, nullptr); });
	t.join();
	EXPECT_EQ(rc, -EXDEV);
	ex_slab_put(slab, x);
	EXPECT_EQ(ex_slab_free(slab), -EBUSY) << "a live task owns a slot";
	Finish(w);
	Run(2);
}

TEST_F(SlabTest, FreeWithASlotNeverSpawned_CountsIt)
{
	ASSERT_NE(ex_slab_get(slab), nullptr);
	EXPECT_EQ(ex_slab_free(slab), 1);
	slab = nullptr;
}

TEST_F(SlabTest, CreateRefusals)
{
	EXPECT_EQ(ex_slab_create(ex, "zero", 0, 4), nullptr);
	EXPECT_EQ(ex_slab_create(ex, "none", 64, 0), nullptr);
	EXPECT_EQ(ex_slab_create(nullptr, "noex", 64, 4), nullptr);
	struct ex_slab *more[EX_SLABS_MAX];
	int made = 0;
	for (; made < EX_SLABS_MAX; made++)
		if ((more[made] = ex_slab_create(ex, "more", 64, 1)) == nullptr)
			break;
	EXPECT_EQ(made, EX_SLABS_MAX - 1) << "the fixture holds one";
	EXPECT_EQ(rte_errno, ENOSPC);
	for (int i = 0; i < made; i++)
		EXPECT_EQ(ex_slab_free(more[i]), 0);
}

// The executor freed before its slab: the slab refuses spawns, and frees.
TEST(SlabOrphan, ExecutorFreedFirst_SpawnRefusedFreeWorks)
{
	struct ex_config cfg;
	ex_config_defaults(&cfg);
	struct ex_executor *ex = ex_executor_create(rte_lcore_id(), &cfg);
	ASSERT_NE(ex, nullptr);
	struct ex_slab *s = EX_SLAB_CREATE(ex, "orphan", struct worker, 2);
	ASSERT_NE(s, nullptr);
	ex_executor_free(ex);
	auto *w = static_cast<struct worker *>(ex_slab_get(s));
	ASSERT_NE(w, nullptr);
	ex_future_init(&w->base, &worker_ops);
	EXPECT_EQ(ex_spawn_slab(s, &w->base, nullptr, nullptr), -ENODEV);
	ex_slab_put(s, w);
	EXPECT_EQ(ex_slab_free(s), 0);
}
