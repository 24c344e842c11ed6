// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for executor/ex_timer.c: the wheel driven by hand-set time
// (no sleeping), ordering, cascading, cancellation at scale, the sleep future.
#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "ut_helpers.h"

namespace
{

constexpr unsigned kShift = EX_WHEEL_TICK_SHIFT_DEFAULT;
constexpr uint64_t kTick = UINT64_C(1) << kShift;

struct rec_timer {
	struct ex_timer t;
	uint64_t deadline;
	uint64_t fired_at;
	int fired;
	std::vector<uint64_t> *order;
	uint64_t *now;
	uint32_t rearm; // re-arm this many more times, period `period`
	uint64_t period;
	struct ex_wheel *w;
};

void
rec_fire(struct ex_timer *t)
{
	rec_timer *r = EX_CONTAINER_OF(t, rec_timer, t);
	r->fired++;
	r->fired_at = *r->now;
	if (r->order != nullptr)
		r->order->push_back(r->deadline);
	if (r->rearm > 0) {
		r->rearm--;
		r->deadline += r->period;
		ex_timer_arm(r->w, &r->t, r->deadline, nullptr);
	}
}

class WheelTest : public ::testing::Test
{
      protected:
	struct ex_wheel w;
	uint64_t now = 5 * EX_NS_PER_S;

	void SetUp() override
	{
		ASSERT_EQ(ex_wheel_init(&w, kShift, now), 0);
	}
	void Arm(rec_timer &r, uint64_t deadline, std::vector<uint64_t> *order = nullptr)
	{
		ex_timer_init_callback(&r.t, rec_fire);
		r.deadline = deadline;
		r.fired = 0;
		r.fired_at = 0;
		r.order = order;
		r.now = &now;
		r.rearm = 0;
		r.period = 0;
		r.w = &w;
		ex_timer_arm(&w, &r.t, deadline, nullptr);
	}
	unsigned AdvanceTo(uint64_t t)
	{
		now = t;
		return ex_wheel_advance(&w, now);
	}
};

} // namespace

TEST_F(WheelTest, Init_BadShift_EINVAL)
{
	struct ex_wheel w2;
	EXPECT_EQ(ex_wheel_init(&w2, 21, 0), -EINVAL);
}

TEST_F(WheelTest, Timer_NeverFiresEarly_FiresWithinOneTick)
{
	rec_timer r;
	uint64_t d = now + 1000 * EX_NS_PER_US + 17;
	Arm(r, d);
	EXPECT_EQ(AdvanceTo(d - 1), 0u);
	EXPECT_EQ(r.fired, 0);
	// The first advance at or past the tick boundary after d fires it.
	uint64_t due = ((d + kTick - 1) >> kShift) << kShift;
	EXPECT_EQ(AdvanceTo(due), 1u);
	EXPECT_EQ(r.fired, 1);
	EXPECT_GE(r.fired_at, d);
	EXPECT_FALSE(ex_timer_armed(&r.t));
	EXPECT_EQ(w.armed, 0u);
}

TEST_F(WheelTest, PastDeadline_FiresAtNextAdvance)
{
	rec_timer r;
	Arm(r, now - EX_NS_PER_MS);
	EXPECT_EQ(AdvanceTo(now), 1u);
}

TEST_F(WheelTest, Cascade_ExactlyAtLevelBoundaries)
{
	uint64_t base = now >> kShift;
	const uint64_t deltas[] = { 1, 255, 256, 257, 65535, 65536, 65537, (1u << 24) - 1, 1u << 24,
		(1u << 24) + 5, UINT64_C(1) << 30 };
	std::vector<rec_timer> rs(std::size(deltas));
	for (size_t i = 0; i < rs.size(); i++)
		Arm(rs[i], (base + deltas[i]) << kShift);
	for (size_t i = 0; i < rs.size(); i++) {
		uint64_t d = rs[i].deadline;
		AdvanceTo(d - kTick);
		EXPECT_EQ(rs[i].fired, 0) << "delta " << deltas[i] << " fired a tick early";
		AdvanceTo(d);
		EXPECT_EQ(rs[i].fired, 1) << "delta " << deltas[i] << " not fired on time";
	}
	EXPECT_EQ(w.armed, 0u);
}

TEST_F(WheelTest, BeyondRange_Parked_FiresOnTime)
{
	rec_timer r;
	uint64_t d = now + (UINT64_C(1) << 34) * kTick; // past the 2^32-tick span
	Arm(r, d);
	// Walk there in large steps, as a long-running loop would.
	for (uint64_t t = now; t < d - kTick; t += (UINT64_C(1) << 30) * kTick)
		AdvanceTo(t);
	AdvanceTo(d - kTick);
	EXPECT_EQ(r.fired, 0);
	AdvanceTo(d + kTick); // d is not tick-aligned: it rounds up to the next tick
	EXPECT_EQ(r.fired, 1);
}

TEST_F(WheelTest, RandomDeadlines_FireInOrder_NoneEarly)
{
	std::mt19937_64 rng(1234);
	constexpr int N = 20000;
	std::vector<rec_timer> rs(N);
	std::vector<uint64_t> order;
	for (int i = 0; i < N; i++) {
		// Spread over every level: up to ~2^28 ticks ahead.
		uint64_t delta = (rng() % (UINT64_C(1) << (8 + rng() % 20))) * 997;
		Arm(rs[i], now + delta, &order);
	}
	uint64_t end = now;
	for (auto &r : rs)
		end = std::max(end, r.deadline);
	while (now < end + kTick)
		AdvanceTo(now + (rng() % (UINT64_C(1) << 26)));
	ASSERT_EQ(order.size(), (size_t)N);
	for (auto &r : rs) {
		EXPECT_EQ(r.fired, 1);
		ASSERT_GE(r.fired_at, r.deadline) << "fired early";
	}
	// Within one advance timers fire by tick; ticks never go backwards.
	for (size_t i = 1; i < order.size(); i++)
		ASSERT_LE((order[i - 1] + kTick - 1) >> kShift, (order[i] + kTick - 1) >> kShift)
				<< "out of order at " << i;
}

// Few timers far apart, the clock leaping ahead (an executor that slept, a
// fuzzer's clock): the advance skips the turns with nothing to cascade, and
// every timer still fires in the advance that passes its deadline, never
// earlier, never later; timers armed between leaps land right too.
TEST_F(WheelTest, SparseTimers_ClockLeaps_EachFiresInTheAdvanceThatPassesIt)
{
	std::mt19937_64 rng(77);
	constexpr int N = 64;
	std::vector<rec_timer> rs(N);
	int armed = 0;
	uint64_t start = now;
	auto arm_some = [&](int n) {
		for (int k = 0; k < n && armed < N; k++, armed++) {
			uint64_t ticks = rng() % (UINT64_C(1) << (4 + rng() % 26));
			Arm(rs[armed], now + ticks * kTick + rng() % kTick);
		}
	};
	arm_some(N / 2);
	for (int step = 0; step < 4000 && now - start < (UINT64_C(1) << 31) * kTick; step++) {
		AdvanceTo(now + (rng() % (UINT64_C(1) << (rng() % 22))) * kTick + rng() % kTick);
		for (int i = 0; i < armed; i++) {
			if (rs[i].deadline + kTick <= now) {
				ASSERT_EQ(rs[i].fired, 1)
						<< "timer " << i << " late at step " << step;
			}
			if (rs[i].deadline > now) {
				ASSERT_EQ(rs[i].fired, 0)
						<< "timer " << i << " early at step " << step;
			}
		}
		if (step % 50 == 0)
			arm_some(2);
	}
	for (int i = 0; i < armed; i++)
		EXPECT_EQ(rs[i].fired, 1) << "timer " << i;
	EXPECT_EQ(w.armed, 0u);
}

TEST_F(WheelTest, Cancel_NotFired_RearmMovesDeadline)
{
	rec_timer a, b, c;
	Arm(a, now + 10 * EX_NS_PER_MS);
	Arm(b, now + 10 * EX_NS_PER_MS);
	Arm(c, now + 10 * EX_NS_PER_MS);
	ex_timer_cancel(&w, &a.t);
	ex_timer_cancel(&w, &a.t); // twice is harmless
	ex_timer_arm(&w, &b.t, now + 50 * EX_NS_PER_MS, nullptr); // later
	b.deadline = now + 50 * EX_NS_PER_MS;
	ex_timer_arm(&w, &c.t, now + 1 * EX_NS_PER_MS, nullptr); // earlier
	c.deadline = now + 1 * EX_NS_PER_MS;
	EXPECT_EQ(w.armed, 2u);
	AdvanceTo(now + 2 * EX_NS_PER_MS);
	EXPECT_EQ(c.fired, 1);
	AdvanceTo(now + 20 * EX_NS_PER_MS);
	EXPECT_EQ(a.fired, 0);
	EXPECT_EQ(b.fired, 0);
	AdvanceTo(now + 31 * EX_NS_PER_MS);
	EXPECT_EQ(b.fired, 1);
	EXPECT_EQ(a.fired, 0);
}

TEST_F(WheelTest, Callback_RearmsItself_Periodic)
{
	rec_timer r;
	Arm(r, now + EX_NS_PER_MS);
	r.rearm = 9;
	r.period = EX_NS_PER_MS;
	uint64_t start = now;
	for (int i = 1; i <= 20; i++)
		AdvanceTo(start + i * EX_NS_PER_MS + kTick);
	EXPECT_EQ(r.fired, 10);
	EXPECT_EQ(w.armed, 0u);
}

TEST_F(WheelTest, OneMillionTimers_CancelHalf_RestFire)
{
	constexpr int N = 1000000;
	std::unique_ptr<rec_timer[]> rs(new rec_timer[N]);
	std::mt19937_64 rng(99);
	for (int i = 0; i < N; i++)
		Arm(rs[i], now + (rng() % (10 * EX_NS_PER_S)));
	EXPECT_EQ(w.armed, (uint32_t)N);
	for (int i = 0; i < N; i += 2)
		ex_timer_cancel(&w, &rs[i].t);
	EXPECT_EQ(w.armed, (uint32_t)N / 2);
	unsigned fired = 0;
	for (uint64_t t = now; t <= now + 11 * EX_NS_PER_S; t += 7 * EX_NS_PER_MS)
		fired += ex_wheel_advance(&w, t);
	EXPECT_EQ(fired, (unsigned)N / 2);
	for (int i = 0; i < N; i++)
		ASSERT_EQ(rs[i].fired, i % 2) << i;
	EXPECT_EQ(w.armed, 0u);
}

TEST_F(WheelTest, NextNs_ReportsEarliestSlot)
{
	EXPECT_EQ(ex_wheel_next_ns(&w, now, 12345), 12345u) << "empty wheel: the cap";
	rec_timer r;
	Arm(r, now + 100 * kTick);
	uint64_t ns = ex_wheel_next_ns(&w, now, EX_NS_PER_S);
	EXPECT_GT(ns, 0u);
	EXPECT_LE(ns, 101 * kTick);
	ex_wheel_clear(&w);
	EXPECT_FALSE(ex_timer_armed(&r.t));
	EXPECT_EQ(w.armed, 0u);
}

// An idle loop sleeps ex_wheel_next_ns() at a time. It must never sleep
// past a deadline (the tick it rounds up to), and should get there in a few
// sleeps, one per level at most, not one per level-0 turn (256 ticks: about
// 3,800 wake-ups a second at the default tick).
TEST_F(WheelTest, NextNs_IdleLoopReachesEachDeadlineInAFewSleeps_NeverPast)
{
	const uint64_t delays[] = { 1, 255, 256, 300, 70000, 1000000, 20000000, 3000000000ull };
	for (uint64_t d : delays) {
		rec_timer r;
		uint64_t deadline = now + d * kTick;
		Arm(r, deadline);
		int sleeps = 0;
		while (!r.fired && sleeps < 20) {
			uint64_t ns = ex_wheel_next_ns(&w, now, UINT64_MAX);
			ASSERT_LE(now + ns, deadline + kTick)
					<< "slept past a deadline " << d << " ticks away";
			AdvanceTo(now + (ns != 0 ? ns : 1));
			sleeps++;
		}
		EXPECT_TRUE(r.fired) << d;
		EXPECT_LE(r.fired_at, deadline + kTick) << d;
		EXPECT_LE(sleeps, EX_WHEEL_LEVELS + 1)
				<< "sleeps to reach a deadline " << d << " ticks away";
	}
}

// ---- the sleep future, on an executor with an injected clock ----

using SleepTest = ExecutorFixture;

TEST_F(SleepTest, Sleep_ReadyOnlyAfterDuration)
{
	struct ex_sleep s;
	struct ex_join_handle jh;
	ex_sleep_init(&s, 5 * EX_NS_PER_MS);
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &s.base, &jh, nullptr), 0);
	Run(2);
	Advance(4 * EX_NS_PER_MS);
	EXPECT_FALSE(ex_join_handle_done(&jh));
	Advance(1 * EX_NS_PER_MS + kTick);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, 0);
	EXPECT_EQ(Stats().timers_fired, 1u);
}

TEST_F(SleepTest, SleepUntil_PastDeadline_ReadyAtFirstPoll)
{
	struct ex_sleep s;
	ex_sleep_until_init(&s, clk.now - 1);
	EXPECT_EQ(ex_block_on(ex, &s.base), 0);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u);
}

TEST_F(SleepTest, Sleep_IsLazy_DurationCountsFromFirstPoll)
{
	struct ex_sleep s;
	struct ex_join_handle jh;
	ex_sleep_init(&s, 10 * EX_NS_PER_MS);
	clk.now += 50 * EX_NS_PER_MS; // time passes before anyone polls it
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &s.base, &jh, nullptr), 0);
	Run(2);
	EXPECT_FALSE(ex_join_handle_done(&jh));
	Advance(10 * EX_NS_PER_MS + kTick);
	EXPECT_TRUE(ex_join_handle_done(&jh));
}

TEST_F(SleepTest, DroppingPendingSleep_DisarmsTimer)
{
	struct ex_sleep s;
	struct ex_task_ref ref;
	ex_sleep_init(&s, EX_NS_PER_S);
	ASSERT_EQ(ex_spawn_to(ex, &s.base, nullptr, &ref), 0);
	Run(2);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 1u);
	ASSERT_EQ(ex_task_cancel(&ref), 0);
	Run(2);
	EXPECT_EQ(ex_executor_wheel(ex)->armed, 0u);
	EXPECT_FALSE(ex_timer_armed(&s.timer));
}
