// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_combinator.c: ready, map, then, join, try_join,
// select, timeout, yield_now - and that losers and survivors are dropped.
#include <cerrno>

#include "ut_helpers.h"

using CombinatorTest = ExecutorFixture;

static int32_t
add_one(struct ex_future *inner, void *)
{
	return inner->result + 1;
}

TEST_F(CombinatorTest, Map_ReadyFive_GivesSix)
{
	struct ex_ready five;
	struct ex_map m;
	ex_ready_init(&five, 5);
	ex_map_init(&m, &five.base, add_one, nullptr);
	EXPECT_EQ(ex_block_on(ex, &m.base), 6);
}

static int32_t
double_into_second(struct ex_future *first, struct ex_future *second, void *)
{
	ex_ready_init(EX_CONTAINER_OF(second, struct ex_ready, base), first->result * 2);
	return 0;
}

TEST_F(CombinatorTest, Then_SecondBuiltFromFirstOutput)
{
	struct ex_ready a, b;
	struct ex_then t;
	ex_ready_init(&a, 21);
	ex_then_init(&t, &a.base, &b.base, double_into_second, nullptr);
	EXPECT_EQ(ex_block_on(ex, &t.base), 42);
}

static int32_t
must_not_run(struct ex_future *, struct ex_future *, void *)
{
	ADD_FAILURE() << "and_then ran after an error";
	return 0;
}

TEST_F(CombinatorTest, Then_FirstFails_ShortCircuits)
{
	struct ex_ready a, b;
	struct ex_then t;
	ex_ready_init(&a, -EIO);
	ex_ready_init(&b, 0);
	ex_then_init(&t, &a.base, &b.base, must_not_run, nullptr);
	EXPECT_EQ(ex_block_on(ex, &t.base), -EIO);
	EXPECT_EQ(b.base.status, EX_FUTURE_STATUS_NEW);
}

TEST_F(CombinatorTest, Join2_CompletesWhenBothDone_AnyOrder)
{
	struct ut_gate a, b;
	struct ex_join2 j;
	struct ex_join_handle jh;
	ut_gate_init(&a);
	ut_gate_init(&b);
	ex_join2_init(&j, &a.base, &b.base);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &j.base, &jh, nullptr), 0);
	Run(2);
	ut_gate_open(&b, 2);
	Run(2);
	EXPECT_FALSE(ex_join_handle_done(&jh));
	EXPECT_EQ(b.polls, 2) << "a finished child is not polled again";
	ut_gate_open(&a, 1);
	Run(2);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(b.polls, 2);
}

TEST_F(CombinatorTest, JoinAll_N_WaitsForEvery)
{
	constexpr int N = 5;
	struct ut_gate g[N];
	struct ex_future *fs[N];
	struct ex_join_all j;
	struct ex_join_handle jh;
	for (int i = 0; i < N; i++) {
		ut_gate_init(&g[i]);
		fs[i] = &g[i].base;
	}
	ex_join_all_init(&j, fs, N);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &j.base, &jh, nullptr), 0);
	for (int i = N - 1; i >= 0; i--) {
		Run(2);
		EXPECT_FALSE(ex_join_handle_done(&jh));
		ut_gate_open(&g[i], 0);
	}
	Run(2);
	EXPECT_TRUE(ex_join_handle_done(&jh));
}

TEST_F(CombinatorTest, TryJoin_FirstError_CancelsOthers)
{
	struct ut_gate ok, bad;
	struct ex_sleep slow;
	struct ex_future *fs[3] = { &ok.base, &bad.base, &slow.base };
	struct ex_try_join j;
	struct ex_join_handle jh;
	ut_gate_init(&ok);
	ut_gate_init(&bad);
	ex_sleep_init(&slow, 10 * EX_NS_PER_S);
	ex_try_join_init(&j, fs, 3);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &j.base, &jh, nullptr), 0);
	Run(2);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 1u);
	ut_gate_open(&bad, -ECONNRESET);
	Run(2);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, -ECONNRESET);
	EXPECT_EQ(j.failed, 1);
	EXPECT_EQ(ok.drops, 1) << "the survivor was cancelled";
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u) << "the pending sleep was disarmed";
}

TEST_F(CombinatorTest, TryJoin_AllSucceed_ResultZero)
{
	struct ex_ready a, b;
	struct ex_future *fs[2] = { &a.base, &b.base };
	struct ex_try_join j;
	ex_ready_init(&a, 3);
	ex_ready_init(&b, 4);
	ex_try_join_init(&j, fs, 2);
	EXPECT_EQ(ex_block_on(ex, &j.base), 0);
	EXPECT_EQ(j.failed, -1);
}

TEST_F(CombinatorTest, Select_FirstReadyWins_LosersDropped)
{
	struct ut_gate a, b;
	struct ex_sleep s;
	struct ex_future *fs[3] = { &a.base, &b.base, &s.base };
	struct ex_select sel;
	struct ex_join_handle jh;
	ut_gate_init(&a);
	ut_gate_init(&b);
	ex_sleep_init(&s, EX_NS_PER_S);
	ex_select_init(&sel, fs, 3);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &sel.base, &jh, nullptr), 0);
	Run(2);
	ut_gate_open(&b, 77);
	Run(2);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(sel.winner, 1);
	EXPECT_EQ(jh.result, 77);
	EXPECT_EQ(a.drops, 1);
	EXPECT_EQ(b.drops, 0);
	EXPECT_EQ(s.base.status, EX_FUTURE_STATUS_DROPPED);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u);
}

TEST_F(CombinatorTest, Timeout_Expires_InnerDroppedETIMEDOUT)
{
	struct ut_gate g;
	struct ex_timeout t;
	struct ex_join_handle jh;
	ut_gate_init(&g);
	ex_timeout_init(&t, &g.base, 3 * EX_NS_PER_MS);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &t.base, &jh, nullptr), 0);
	Run(2);
	Advance(2 * EX_NS_PER_MS);
	EXPECT_FALSE(ex_join_handle_done(&jh));
	Advance(2 * EX_NS_PER_MS);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, -ETIMEDOUT);
	EXPECT_EQ(g.drops, 1);
}

TEST_F(CombinatorTest, Timeout_InnerFirst_TimerDisarmed)
{
	struct ut_gate g;
	struct ex_timeout t;
	struct ex_join_handle jh;
	ut_gate_init(&g);
	ex_timeout_init(&t, &g.base, 3 * EX_NS_PER_MS);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &t.base, &jh, nullptr), 0);
	Run(2);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 1u);
	ut_gate_open(&g, 5);
	Run(2);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 5);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u);
}

TEST_F(CombinatorTest, YieldNow_PendingOnceThenReady)
{
	struct ex_yield y;
	struct ex_join_handle jh;
	ex_yield_init(&y);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &y.base, &jh, nullptr), 0);
	ex_run_once(ex);
	EXPECT_TRUE(ex_join_handle_done(&jh)) << "the self-wake re-polls it within the budget";
	EXPECT_EQ(Stats().polls, 2u);
}

TEST_F(CombinatorTest, StopAfter_StopsTheLoopAtItsTime)
{
	struct ex_stop_after s;
	ex_stop_after_init(&s, 10 * EX_NS_PER_MS);
	ASSERT_EQ(ex_spawn_to(ex, &s.base, nullptr, nullptr), 0);
	Run(2);
	Advance(9 * EX_NS_PER_MS);
	EXPECT_FALSE(ex_future_is_done(&s.base));
	clk.now += 2 * EX_NS_PER_MS;
	// ex_run returns once the timer fires and the task asks it to stop.
	EXPECT_EQ(ex_run(ex), 0);
	EXPECT_TRUE(ex_future_is_done(&s.base));
}
