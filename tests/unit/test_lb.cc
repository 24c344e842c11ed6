// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for l4proxy's balancer (apps/l4proxy/lb.c): round robin is
// exact, weights hold, least connections follows load, Maglev is stable per
// client and moves only the clients of a backend that leaves.
#include <gtest/gtest.h>

#include <map>
#include <vector>

extern "C" {
#include "lb.h"
}

namespace
{

struct LbTest : public ::testing::Test {
	struct lb lb;
	void Make(enum lb_algo a, std::vector<uint16_t> weights)
	{
		ASSERT_EQ(lb_init(&lb, a), 0);
		for (size_t i = 0; i < weights.size(); i++)
			ASSERT_EQ(lb_add(&lb, 0xc6120000u + 10 + (uint32_t)i, 80, weights[i]),
					(int)i);
	}
	void TearDown() override
	{
		lb_fini(&lb);
	}
};

TEST_F(LbTest, RoundRobin_Exact_SkipsDownAndTried)
{
	Make(LB_ALGO_ROUND_ROBIN, { 1, 1, 1 });
	std::vector<int> got;
	for (int i = 0; i < 6; i++)
		got.push_back(lb_pick(&lb, 1, 0));
	EXPECT_EQ(got, (std::vector<int>{ 0, 1, 2, 0, 1, 2 }));
	lb.be[1].up = false;
	EXPECT_EQ(lb_pick(&lb, 1, 0), 0);
	EXPECT_EQ(lb_pick(&lb, 1, 0), 2);
	EXPECT_EQ(lb_pick(&lb, 1, 1u << 0), 2); // backend 0 was tried already
	lb.be[0].up = lb.be[2].up = false;
	EXPECT_EQ(lb_pick(&lb, 1, 0), -1);
}

TEST_F(LbTest, Weighted_SharesFollowWeights_Smooth)
{
	Make(LB_ALGO_WEIGHTED, { 5, 1, 1 });
	std::vector<int> seq;
	for (int i = 0; i < 7; i++)
		seq.push_back(lb_pick(&lb, 1, 0));
	// nginx's smooth WRR for 5,1,1: a a b a c a a
	EXPECT_EQ(seq, (std::vector<int>{ 0, 0, 1, 0, 2, 0, 0 }));
	std::map<int, int> n;
	for (int i = 0; i < 7000; i++)
		n[lb_pick(&lb, 1, 0)]++;
	EXPECT_EQ(n[0], 5000);
	EXPECT_EQ(n[1], 1000);
	EXPECT_EQ(n[2], 1000);
}

TEST_F(LbTest, LeastConn_PicksTheLeastLoaded_PerWeight)
{
	Make(LB_ALGO_LEAST_CONN, { 1, 1, 2 });
	lb.be[0].active = 5;
	lb.be[1].active = 2;
	lb.be[2].active = 6; // 3 per unit of weight
	EXPECT_EQ(lb_pick(&lb, 1, 0), 1);
	lb.be[1].active = 4;
	EXPECT_EQ(lb_pick(&lb, 1, 0), 2);
	lb.be[2].max_conns = 6; // full
	EXPECT_EQ(lb_pick(&lb, 1, 0), 1);
}

TEST_F(LbTest, Maglev_StablePerClient_MinimalDisruption)
{
	Make(LB_ALGO_MAGLEV, { 1, 1, 1, 1, 1 });
	std::vector<int> before(20000);
	std::map<int, int> share;
	for (uint32_t c = 0; c < before.size(); c++) {
		before[c] = lb_pick(&lb, 0x0a000000u + c, 0);
		EXPECT_EQ(lb_pick(&lb, 0x0a000000u + c, 0),
				before[c]); // the same client, the same backend
		share[before[c]]++;
	}
	for (auto &kv : share) // about a fifth each
		EXPECT_NEAR(kv.second, 4000, 400) << "backend " << kv.first;
	lb.be[3].up = false;
	lb_changed(&lb);
	int moved = 0, wrongly = 0;
	for (uint32_t c = 0; c < before.size(); c++) {
		int now = lb_pick(&lb, 0x0a000000u + c, 0);
		EXPECT_NE(now, 3);
		if (now != before[c]) {
			moved++;
			wrongly += before[c] != 3;
		}
	}
	EXPECT_EQ(moved - wrongly, share[3]); // every client of backend 3 moved...
	EXPECT_LE(wrongly, (int)before.size() / 100); // ...and others within Maglev's ~1% churn
}

TEST_F(LbTest, Maglev_WeightsShareTheTable)
{
	Make(LB_ALGO_MAGLEV, { 3, 1 });
	std::map<int, int> share;
	for (uint32_t c = 0; c < 20000; c++)
		share[lb_pick(&lb, 0x0a000000u + c, 0)]++;
	EXPECT_NEAR(share[0], 15000, 600);
	EXPECT_NEAR(share[1], 5000, 600);
}

// The runtime API's add and remove: a backend added at run time takes about
// its share, all of it from the others, and nobody else moves; a removed one
// is never picked again and its clients alone move.
TEST_F(LbTest, Maglev_AddedAtRunTime_TakesItsShareOnly_RemovedNeverPicked)
{
	Make(LB_ALGO_MAGLEV, { 1, 1, 1, 1 });
	std::vector<int> before(20000);
	for (uint32_t c = 0; c < before.size(); c++)
		before[c] = lb_pick(&lb, 0x0a000000u + c, 0);
	ASSERT_EQ(lb_add(&lb, 0xc6120000u + 99, 80, 1), 4);
	lb_changed(&lb);
	int to_new = 0, elsewhere = 0;
	for (uint32_t c = 0; c < before.size(); c++) {
		int now = lb_pick(&lb, 0x0a000000u + c, 0);
		if (now == 4)
			to_new++;
		else if (now != before[c])
			elsewhere++;
	}
	EXPECT_NEAR(to_new, 4000, 400); // about a fifth now goes to the new one
	EXPECT_LE(elsewhere, (int)before.size() / 100);
	lb.be[1].removed = true;
	lb_changed(&lb);
	for (uint32_t c = 0; c < before.size(); c++)
		EXPECT_NE(lb_pick(&lb, 0x0a000000u + c, 0), 1);
	EXPECT_FALSE(lb_usable(&lb.be[1]));
}

// Two proxies given the same backends in another order, one of them by a
// history of runtime changes, build the same table: the same digest, and
// every client maps to the same backend address (issue 20: flows keep their
// backend when a router moves them to another proxy).
TEST(Lb, Maglev_SameBackendsAnyOrder_IdenticalTables)
{
	struct lb a, b;
	const uint32_t ips[] = { 11, 12, 13, 14 };

	ASSERT_EQ(lb_init(&a, LB_ALGO_MAGLEV), 0);
	ASSERT_EQ(lb_init(&b, LB_ALGO_MAGLEV), 0);
	for (uint32_t ip : ips)
		lb_add(&a, 0xc6120000u + ip, 80, ip == 13 ? 3 : 1);
	// b: another order, and a backend removed and added again on the way.
	lb_add(&b, 0xc6120000u + 14, 80, 1);
	lb_add(&b, 0xc6120000u + 12, 80, 1);
	lb_add(&b, 0xc6120000u + 11, 80, 1);
	b.be[1].removed = true;
	lb_add(&b, 0xc6120000u + 13, 80, 3);
	lb_add(&b, 0xc6120000u + 12, 80, 1);
	lb_changed(&b);
	uint64_t da = lb_table_digest(&a), db = lb_table_digest(&b);
	EXPECT_NE(da, 0u);
	EXPECT_EQ(da, db);
	for (uint32_t c = 0; c < 5000; c++) {
		int ka = lb_pick(&a, 0x0a000000u + c, 0), kb = lb_pick(&b, 0x0a000000u + c, 0);
		ASSERT_GE(ka, 0);
		ASSERT_GE(kb, 0);
		EXPECT_EQ(a.be[ka].ip, b.be[kb].ip) << "client " << c;
	}
	// A weight is part of the table.
	a.be[0].weight = 2;
	lb_changed(&a);
	EXPECT_NE(lb_table_digest(&a), db);
	lb_fini(&a);
	lb_fini(&b);
	EXPECT_EQ(lb_table_digest(&a), 0u); // no table: no digest
}

TEST_F(LbTest, RemovedSkippedByEveryAlgorithm)
{
	for (int a = LB_ALGO_ROUND_ROBIN; a <= LB_ALGO_LEAST_CONN; a++) {
		Make((enum lb_algo)a, { 1, 1 });
		lb.be[0].removed = true;
		for (int i = 0; i < 4; i++)
			EXPECT_EQ(lb_pick(&lb, 1, 0), 1) << lb_algo_name((enum lb_algo)a);
		lb_fini(&lb);
	}
	Make(LB_ALGO_ROUND_ROBIN, { 1 });
}

TEST(Lb, AlgoNames)
{
	EXPECT_EQ(lb_algo_parse("maglev"), LB_ALGO_MAGLEV);
	EXPECT_EQ(lb_algo_parse("roundrobin"), LB_ALGO_ROUND_ROBIN);
	EXPECT_EQ(lb_algo_parse("bogus"), -1);
	EXPECT_STREQ(lb_algo_name(LB_ALGO_LEAST_CONN), "leastconn");
}

} // namespace
