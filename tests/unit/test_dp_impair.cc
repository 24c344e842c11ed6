// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_impair.c: the configuration string, decision
// statistics against the configuration over 100,000 packets, determinism
// per seed, delay / rate / overflow with the injected clock, and every mbuf
// back in its pool.
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <rte_mbuf.h>

#include "dp_impair.h"
#include "ut_helpers.h"

namespace
{

// A stream of n fresh numbered packets (the number in the first 4 bytes,
// which corruption never touches), in bursts of 32, then the end.
struct gen_stream {
	struct ex_stream base;
	struct rte_mempool *pool;
	uint32_t next, n, len;
	struct dp_burst burst;
};

enum ex_next
gen_poll_next(struct ex_stream *s, struct ex_context *, union ex_item *out)
{
	gen_stream *g = EX_CONTAINER_OF(s, gen_stream, base);
	if (g->burst.n == 0) {
		while (g->burst.n < DP_BURST_MAX && g->next < g->n) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
			if (m == nullptr)
				break;
			char *p = rte_pktmbuf_append(m, (uint16_t)g->len);
			std::memset(p, 0xab, g->len);
			std::memcpy(p, &g->next, sizeof(g->next));
			g->next++;
			g->burst.pkts[g->burst.n++] = m;
		}
	}
	if (g->burst.n == 0)
		return g->next < g->n ? EX_NEXT_PENDING : EX_NEXT_END;
	out->ptr = &g->burst;
	return EX_NEXT_ITEM;
}

void
gen_drop(struct ex_stream *s)
{
	dp_burst_free(&EX_CONTAINER_OF(s, gen_stream, base)->burst);
}

const struct ex_stream_ops gen_ops = { gen_poll_next, gen_drop, "gen" };

// Drains a burst stream, records each packet's number and corruption.
struct sink_fut {
	struct ex_future base;
	struct ex_stream *in;
	std::vector<uint32_t> seen;
	uint64_t corrupted;
	uint32_t len;
};

enum ex_poll
sink_poll(struct ex_future *f, struct ex_context *cx)
{
	sink_fut *k = EX_CONTAINER_OF(f, sink_fut, base);
	union ex_item it;
	for (;;) {
		switch (ex_stream_poll_next(k->in, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			return EX_READY;
		case EX_NEXT_ITEM:
			break;
		}
		struct dp_burst *b = static_cast<struct dp_burst *>(it.ptr);
		for (uint16_t i = 0; i < b->n; i++) {
			const uint8_t *p = rte_pktmbuf_mtod(b->pkts[i], const uint8_t *);
			uint32_t seq;
			std::memcpy(&seq, p, sizeof(seq));
			k->seen.push_back(seq);
			for (uint32_t j = 14; j < k->len; j++)
				if (p[j] != 0xab) {
					k->corrupted++;
					break;
				}
		}
		dp_burst_free(b);
	}
}

const struct ex_future_ops sink_ops = { sink_poll, nullptr, "sink" };

class ImpairTest : public ExecutorFixture
{
      protected:
	struct rte_mempool *pool = nullptr;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		static int n;
		pool = rte_pktmbuf_pool_create(("impair_ut" + std::to_string(++n)).c_str(), 8191, 0,
				0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
	}

	void TearDown() override
	{
		if (pool != nullptr) {
			EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
			rte_mempool_free(pool);
		}
		ExecutorFixture::TearDown();
	}

	struct dp_impair_config Parse(const char *spec)
	{
		struct dp_impair_config c;
		char err[128] = "";
		EXPECT_EQ(dp_impair_parse(spec, &c, err, sizeof(err)), 0) << err;
		return c;
	}

	// Push n packets through a stage configured by spec; returns the stats
	// and the order in which packet numbers came out.
	struct dp_impair_stats Run(const char *spec, uint32_t n, std::vector<uint32_t> *order,
			uint64_t *corrupted = nullptr, uint32_t len = 64)
	{
		gen_stream g = {};
		g.base.ops = &gen_ops;
		g.pool = pool;
		g.n = n;
		g.len = len;
		struct dp_impair_config c = Parse(spec);
		struct dp_impair im;
		EXPECT_EQ(dp_impair_init(&im, &g.base, &c, pool), 0);
		sink_fut k;
		ex_future_init(&k.base, &sink_ops);
		k.in = &im.base;
		k.corrupted = 0;
		k.len = len;
		struct ex_join_handle jh;
		ex_join_handle_init(&jh);
		EXPECT_EQ(ex_spawn_to(ex, &k.base, &jh, nullptr), 0);
		for (int i = 0; i < 1000000 && !ex_join_handle_done(&jh); i++) {
			clk.now += 50 * EX_NS_PER_US;
			ex_run_once(ex);
		}
		EXPECT_TRUE(ex_join_handle_done(&jh)) << spec;
		struct dp_impair_stats st = im.stats;
		dp_impair_fini(&im);
		if (order != nullptr)
			*order = k.seen;
		if (corrupted != nullptr)
			*corrupted = k.corrupted;
		return st;
	}
};

} // namespace

TEST_F(ImpairTest, Parse_FullSpec)
{
	struct dp_impair_config c =
			Parse("loss=2%,reorder=5%:3,dup=1%,delay=20ms:5ms,corrupt=0.1%,seed=42");
	EXPECT_EQ(c.loss_ppm, 20000u);
	EXPECT_EQ(c.reorder_ppm, 50000u);
	EXPECT_EQ(c.reorder_pkts, 3u);
	EXPECT_EQ(c.dup_ppm, 10000u);
	EXPECT_EQ(c.delay_ns, 20 * EX_NS_PER_MS);
	EXPECT_EQ(c.jitter_ns, 5 * EX_NS_PER_MS);
	EXPECT_EQ(c.corrupt_ppm, 1000u);
	EXPECT_EQ(c.seed, 42u);
	c = Parse("loss=5%:8,reorder=1%:200us,rate=100mbit,limit=500");
	EXPECT_EQ(c.loss_burst, 8u);
	EXPECT_EQ(c.reorder_ns, 200 * EX_NS_PER_US);
	EXPECT_EQ(c.rate_bps, 100000000u);
	EXPECT_EQ(c.limit, 500u);
	char buf[256];
	dp_impair_format(&c, buf, sizeof(buf));
	EXPECT_NE(std::strstr(buf, "rate=100000000bit"), nullptr);
}

TEST_F(ImpairTest, Parse_Malformed_NamesTheKey)
{
	const char *bad[][2] = { { "loss=abc", "'loss'" }, { "loss=120%", "'loss'" },
		{ "reorder=5%", "'reorder'" }, { "bogus=1", "'bogus'" }, { "delay=5", "'delay'" },
		{ "rate=fast", "'rate'" }, { "dup", "'dup'" }, { "delay=1ms:5ms", "'delay'" },
		{ "loss=2%:0", "'loss'" }, { "limit=0", "'limit'" },
		// out of range for the integer they become (found by fuzz_impair:
		// undefined behaviour before): refused, not wrapped
		{ "rate=1444444444444444444444444444444gbit", "'rate'" },
		{ "rate=infbit", "'rate'" }, { "loss=nan%", "'loss'" },
		{ "delay=1e30s", "'delay'" }, { "delay=nanms", "'delay'" },
		{ "reorder=5%:1e300us", "'reorder'" } };
	for (auto &b : bad) {
		struct dp_impair_config c;
		char err[160] = "";
		EXPECT_EQ(dp_impair_parse(b[0], &c, err, sizeof(err)), -EINVAL) << b[0];
		EXPECT_NE(std::strstr(err, b[1]), nullptr) << b[0] << " -> " << err;
	}
}

TEST_F(ImpairTest, Statistics_MatchConfiguration_Over100kPackets)
{
	std::vector<uint32_t> order;
	uint64_t corrupted = 0;
	const uint32_t N = 100000;
	struct dp_impair_stats s = Run(
			"loss=2%,dup=1%,corrupt=0.1%,reorder=5%:3,seed=7", N, &order, &corrupted);
	EXPECT_EQ(s.in, N);
	// Binomial tolerances of about 4 standard deviations.
	EXPECT_NEAR((double)s.lost, 0.02 * N, 180);
	EXPECT_NEAR((double)s.duplicated, 0.01 * 0.98 * N, 130);
	EXPECT_NEAR((double)s.corrupted, 0.001 * 0.98 * N, 45);
	EXPECT_NEAR((double)s.reordered, 0.05 * 0.98 * N, 280);
	EXPECT_EQ(s.out, s.in - s.lost + s.duplicated) << "nothing vanished uncounted";
	EXPECT_EQ(order.size(), s.out);
	EXPECT_EQ(corrupted, s.corrupted) << "every counted corruption is a real flipped bit";
	size_t inversions = 0;
	for (size_t i = 1; i < order.size(); i++)
		inversions += order[i] < order[i - 1];
	EXPECT_GT(inversions, s.reordered / 2) << "reordered packets really arrive late";
}

TEST_F(ImpairTest, SameSeed_SameDecisions_OtherSeedDiffers)
{
	std::vector<uint32_t> a, b, c;
	const char *spec = "loss=3%,dup=2%,reorder=10%:2,corrupt=1%,seed=1234";
	struct dp_impair_stats sa = Run(spec, 20000, &a);
	struct dp_impair_stats sb = Run(spec, 20000, &b);
	EXPECT_EQ(a, b);
	EXPECT_EQ(sa.lost, sb.lost);
	EXPECT_EQ(sa.corrupted, sb.corrupted);
	Run("loss=3%,dup=2%,reorder=10%:2,corrupt=1%,seed=1235", 20000, &c);
	EXPECT_NE(a, c);
}

TEST_F(ImpairTest, BurstyLoss_RateAndBurstLength)
{
	std::vector<uint32_t> order;
	const uint32_t N = 100000;
	struct dp_impair_stats s = Run("loss=5%:10,seed=3", N, &order);
	EXPECT_NEAR((double)s.lost / N, 0.05, 0.015);
	// Mean run of consecutive missing numbers.
	uint64_t runs = 0, missing = 0;
	for (size_t i = 1; i < order.size(); i++) {
		uint32_t gap = order[i] - order[i - 1] - 1;
		if (gap > 0) {
			runs++;
			missing += gap;
		}
	}
	ASSERT_GT(runs, 0u);
	EXPECT_NEAR((double)missing / runs, 10.0, 3.0);
}

TEST_F(ImpairTest, Delay_NothingLeavesEarly)
{
	gen_stream g = {};
	g.base.ops = &gen_ops;
	g.pool = pool;
	g.n = 10;
	g.len = 64;
	struct dp_impair_config c = Parse("delay=20ms");
	struct dp_impair im;
	ASSERT_EQ(dp_impair_init(&im, &g.base, &c, pool), 0);
	sink_fut k;
	ex_future_init(&k.base, &sink_ops);
	k.in = &im.base;
	k.len = 64;
	k.corrupted = 0;
	struct ex_join_handle jh;
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &k.base, &jh, nullptr), 0);
	ExecutorFixture::Run(4);
	Advance(19 * EX_NS_PER_MS);
	EXPECT_EQ(k.seen.size(), 0u);
	EXPECT_EQ(dp_impair_held(&im), 10u);
	Advance(2 * EX_NS_PER_MS);
	EXPECT_EQ(k.seen.size(), 10u);
	EXPECT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(im.stats.delayed, 10u);
	dp_impair_fini(&im);
}

TEST_F(ImpairTest, RateLimit_SpacesPackets)
{
	gen_stream g = {};
	g.base.ops = &gen_ops;
	g.pool = pool;
	g.n = 100;
	g.len = 1000; // 8 mbit/s: 1 ms per packet
	struct dp_impair_config c = Parse("rate=8mbit");
	struct dp_impair im;
	ASSERT_EQ(dp_impair_init(&im, &g.base, &c, pool), 0);
	sink_fut k;
	ex_future_init(&k.base, &sink_ops);
	k.in = &im.base;
	k.len = 1000;
	k.corrupted = 0;
	ASSERT_EQ(ex_spawn_to(ex, &k.base, nullptr, nullptr), 0);
	ExecutorFixture::Run(4);
	Advance(50 * EX_NS_PER_MS);
	EXPECT_NEAR((double)k.seen.size(), 50.0, 3.0);
	Advance(60 * EX_NS_PER_MS);
	EXPECT_EQ(k.seen.size(), 100u);
	dp_impair_fini(&im);
}

TEST_F(ImpairTest, Overflow_BeyondLimit_DroppedAndCounted)
{
	std::vector<uint32_t> order;
	struct dp_impair_stats s = Run("delay=100ms,limit=10", 100, &order);
	EXPECT_EQ(s.overflow, 90u);
	EXPECT_EQ(order.size(), 10u);
}

// A TCP retransmission is a header chained to indirect mbufs over the send
// queue: corrupting it must leave the queued bytes alone (the stage copies
// first), and the PMD's checksum verdict must not survive the flipped bit.
TEST_F(ImpairTest, Corrupt_SharedSegmentOfChain_CopiedNotTouched)
{
	struct rte_mbuf *queued = rte_pktmbuf_alloc(pool);
	ASSERT_NE(queued, nullptr);
	char *q = rte_pktmbuf_append(queued, 1000);
	std::memset(q, 0x5a, 1000);
	struct dp_burst b;
	b.n = 0;
	for (int i = 0; i < 8; i++) {
		struct rte_mbuf *h = rte_pktmbuf_alloc(pool);
		struct rte_mbuf *mi = rte_pktmbuf_alloc(pool);
		ASSERT_TRUE(h != nullptr && mi != nullptr);
		std::memset(rte_pktmbuf_append(h, 20), 0, 20); // a tiny header
		rte_pktmbuf_attach(mi, queued);
		ASSERT_EQ(rte_pktmbuf_chain(h, mi), 0);
		h->ol_flags |= RTE_MBUF_F_RX_L4_CKSUM_GOOD | RTE_MBUF_F_RX_IP_CKSUM_GOOD;
		b.pkts[b.n++] = h;
	}
	union ex_item item;
	item.ptr = &b;
	struct ex_stream_iter it;
	ex_stream_iter_init(&it, &item, 1);
	struct dp_impair_config c = Parse("corrupt=100%,seed=3");
	struct dp_impair im;
	ASSERT_EQ(dp_impair_init(&im, &it.base, &c, pool), 0);
	struct ex_context cx = { ex_waker_noop() };
	uint32_t out = 0, changed = 0;
	for (int round = 0; round < 100; round++) {
		union ex_item got;
		enum ex_next r = ex_stream_poll_next(&im.base, &cx, &got);
		if (r == EX_NEXT_END)
			break;
		if (r == EX_NEXT_PENDING) {
			clk.now += EX_NS_PER_MS;
			ex_run_once(ex);
			continue;
		}
		auto *ob = static_cast<struct dp_burst *>(got.ptr);
		for (uint16_t i = 0; i < ob->n; i++) {
			struct rte_mbuf *m = ob->pkts[i];
			std::vector<uint8_t> buf(rte_pktmbuf_pkt_len(m));
			auto *p = static_cast<const uint8_t *>(
					rte_pktmbuf_read(m, 0, (uint32_t)buf.size(), buf.data()));
			int flips = 0;
			for (size_t k = 0; k < buf.size(); k++)
				flips += __builtin_popcount(p[k] ^ (k < 20 ? 0 : 0x5a));
			EXPECT_EQ(flips, 1) << "one bit flipped in the packet that left";
			changed += flips;
			EXPECT_EQ(m->ol_flags & (RTE_MBUF_F_RX_L4_CKSUM_MASK |
								RTE_MBUF_F_RX_IP_CKSUM_MASK),
					0u);
			out++;
		}
		dp_burst_free(ob);
	}
	EXPECT_EQ(out, 8u);
	EXPECT_EQ(changed, 8u);
	EXPECT_EQ(im.stats.corrupted, 8u);
	for (int k = 0; k < 1000; k++)
		ASSERT_EQ((uint8_t)q[k], 0x5a) << "the queued payload changed at " << k;
	dp_impair_fini(&im);
	rte_pktmbuf_free(queued);
}
