// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_future.h: laziness, await, drop, pinning.
#include <cstring>

#include "ut_helpers.h"

using FutureTest = ExecutorFixture;

TEST_F(FutureTest, New_NotPolled_NothingRuns)
{
	struct ut_gate g;
	ut_gate_init(&g);
	EXPECT_EQ(g.polls, 0);
	EXPECT_EQ(g.base.status, EX_FUTURE_STATUS_NEW);
	Run();
	EXPECT_EQ(g.polls, 0) << "a future that was never spawned or awaited must not run";
}

TEST_F(FutureTest, Drop_NeverPolled_IsHarmless)
{
	struct ut_gate g;
	ut_gate_init(&g);
	ex_future_drop(&g.base);
	ex_future_drop(&g.base); // twice: still one drop
	EXPECT_EQ(g.drops, 1);
	EXPECT_EQ(g.base.status, EX_FUTURE_STATUS_DROPPED);
}

TEST_F(FutureTest, Await_DoneChild_NotPolledAgain)
{
	struct ut_gate g;
	struct ex_context cx = { ex_waker_noop() };
	ut_gate_init(&g);
	g.open = true;
	g.value = 7;
	EXPECT_EQ(ex_await(&g.base, &cx), EX_READY);
	EXPECT_EQ(ex_await(&g.base, &cx), EX_READY);
	EXPECT_EQ(g.polls, 1);
	EXPECT_EQ(g.base.result, 7);
}

TEST_F(FutureTest, Poll_PendingThenReady_StatusFollows)
{
	struct ut_gate g;
	struct ex_context cx = { ex_waker_noop() };
	ut_gate_init(&g);
	EXPECT_EQ(ex_future_poll(&g.base, &cx), EX_PENDING);
	EXPECT_EQ(g.base.status, EX_FUTURE_STATUS_POLLED);
	g.open = true;
	EXPECT_EQ(ex_future_poll(&g.base, &cx), EX_READY);
	EXPECT_TRUE(ex_future_is_done(&g.base));
}

#ifndef RT_NDEBUG
static void
poll_a_moved_future()
{
	struct ut_gate a;
	struct ut_gate b;
	struct ex_context cx = { ex_waker_noop() };
	ut_gate_init(&a);
	ex_future_poll(&a.base, &cx);
	std::memcpy(&b, &a, sizeof(a)); // moving a pinned future
	ex_future_poll(&b.base, &cx);
}

static void
poll_after_ready()
{
	struct ex_ready r;
	struct ex_context cx = { ex_waker_noop() };
	ex_ready_init(&r, 0);
	ex_future_poll(&r.base, &cx);
	ex_future_poll(&r.base, &cx);
}

TEST(FutureDeathTest, Moved_AfterFirstPoll_Aborts)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_DEATH(poll_a_moved_future(), "moved after its first poll");
}

TEST(FutureDeathTest, PolledAfterReady_Aborts)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_DEATH(poll_after_ready(), "polled after it finished");
}
#endif
