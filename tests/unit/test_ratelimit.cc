// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for apps/l4proxy/ratelimit.c: the --max-rate token bucket on an
// injected clock, so the rates are exact and no test waits on a wall clock.
#include <gtest/gtest.h>

#include "ratelimit.h"

namespace
{

const uint64_t kMs = 1000000, kS = 1000 * kMs;

int
Admitted(struct rate_limit *r, int tries, uint64_t now)
{
	int n = 0;
	for (int i = 0; i < tries; i++)
		n += rate_limit_take(r, now);
	return n;
}

TEST(RateLimit, NoLimit_AdmitsEverything)
{
	struct rate_limit r;
	rate_limit_init(&r, 0, 0);
	EXPECT_EQ(Admitted(&r, 1000, 5), 1000);
}

TEST(RateLimit, Burst_GetsOneSecondsWorth_ThenRefused)
{
	struct rate_limit r;
	rate_limit_init(&r, 5, 10 * kS);
	EXPECT_EQ(Admitted(&r, 20, 10 * kS), 5);
	EXPECT_EQ(Admitted(&r, 1, 10 * kS + 199 * kMs), 0) << "a token takes 200 ms";
	EXPECT_EQ(Admitted(&r, 2, 10 * kS + 200 * kMs), 1);
}

TEST(RateLimit, Paced_EarnsExactlyTheRate)
{
	// Empty the bucket, then one try every 50 ms for a second: 20 tries, and
	// exactly the 5 tokens a second earns are given.
	struct rate_limit r;
	rate_limit_init(&r, 5, 0);
	EXPECT_EQ(Admitted(&r, 5, 0), 5);
	int n = 0;
	for (int i = 1; i <= 20; i++)
		n += rate_limit_take(&r, (uint64_t)i * 50 * kMs);
	EXPECT_EQ(n, 5);
}

TEST(RateLimit, FractionsKept_FrequentArrivalsStillRefill)
{
	// 3 a second is a token every 333.3 ms; tries every 10 ms must not lose
	// the fraction each time, or the bucket would never refill.
	struct rate_limit r;
	rate_limit_init(&r, 3, 0);
	EXPECT_EQ(Admitted(&r, 3, 0), 3);
	int n = 0;
	for (uint64_t t = 10 * kMs; t <= 3 * kS - 10 * kMs; t += 10 * kMs)
		n += rate_limit_take(&r, t);
	EXPECT_EQ(n, 8) << "3 s at 3/s is 9 tokens; the 9th is earned at 3.000 s";
}

TEST(RateLimit, LongQuiet_RefillsToTheBucketOnly)
{
	struct rate_limit r;
	rate_limit_init(&r, 4, 0);
	EXPECT_EQ(Admitted(&r, 4, 0), 4);
	EXPECT_EQ(Admitted(&r, 10, 60 * kS), 4) << "a minute idle still holds one second's worth";
}

} // namespace
