// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/: ports over net_ring and net_null inside the
// test process, rx streams, tx sinks, rings, in-place stages, RSS.
// Every test ends with the mbuf pool back at its baseline.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_port.h"
#include "dp_rss.h"
#include "dp_stream.h"
#include <atomic>
#include <chrono>
#include <thread>

#include "ut_helpers.h"

namespace
{

int seq;

std::string
uniq(const char *p)
{
	return std::string(p) + std::to_string(++seq);
}

class DataplaneTest : public ExecutorFixture
{
      protected:
	struct rte_mempool *pool = nullptr;
	std::vector<struct rte_ring *> rings;
	std::vector<uint16_t> ports;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		pool = rte_pktmbuf_pool_create(uniq("utpool").c_str(), 2047, 0, 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
	}

	void TearDown() override
	{
		for (uint16_t p : ports) {
			rte_eth_dev_stop(p);
			rte_eth_dev_close(p);
		}
		for (struct rte_ring *r : rings) {
			void *m = nullptr;
			while (rte_ring_dequeue(r, &m) == 0)
				rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
			rte_ring_free(r);
		}
		if (pool != nullptr) {
			EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
			rte_mempool_free(pool);
		}
		ExecutorFixture::TearDown();
	}

	// The fixture's executor busy-polls: remake it as one that backs off and
	// sleeps at once when idle, each sleep recorded in sleeps_ns and added to
	// the fake clock as a real sleep would. Tests that call it end with
	// DefaultConfig(); Remake(), so TearDown's loop does not record.
	std::vector<uint64_t> sleeps_ns;
	void SleepWhenIdle()
	{
		cfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
		cfg.idle_spin_us = 0;
		cfg.idle_sleep_min_us = 1000;
		cfg.idle_sleep_us = 1000;
		cfg.idle_sleep = [](void *ctx, uint64_t ns) {
			auto *t = static_cast<DataplaneTest *>(ctx);
			t->sleeps_ns.push_back(ns);
			t->clk.now += ns;
		};
		cfg.idle_sleep_ctx = this;
		Remake();
	}

	// n fresh mbufs into a tx sink as one burst; the sink takes them all.
	// Each carries its index in the burst (a uint32_t at the data start).
	void SendBurst(struct dp_tx_sink *tx, uint16_t n)
	{
		struct dp_burst b;
		b.n = n;
		for (uint16_t i = 0; i < n; i++) {
			b.pkts[i] = rte_pktmbuf_alloc(pool);
			ASSERT_NE(b.pkts[i], nullptr);
			*rte_pktmbuf_mtod(b.pkts[i], uint32_t *) = i;
		}
		union ex_item it;
		it.ptr = &b;
		ASSERT_EQ(tx->base.ops->start_send(&tx->base, it), 0);
		EXPECT_EQ(b.n, 0);
	}

	struct rte_ring *Ring(unsigned int size = 1024)
	{
		struct rte_ring *r = rte_ring_create(uniq("utr").c_str(), size, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
		EXPECT_NE(r, nullptr);
		rings.push_back(r);
		return r;
	}

	// A net_ring port: receives from rx, transmits into tx.
	uint16_t RingPort(struct rte_ring *rx, struct rte_ring *tx)
	{
		int id = rte_eth_from_rings(
				uniq("net_ring_ut").c_str(), &rx, 1, &tx, 1, SOCKET_ID_ANY);
		EXPECT_GE(id, 0);
		struct dp_port p;
		struct dp_port_config cfg;
		dp_port_config_defaults(&cfg);
		cfg.pool = pool;
		EXPECT_EQ(dp_port_init(&p, (uint16_t)id, &cfg), 0);
		ports.push_back((uint16_t)id);
		return (uint16_t)id;
	}

	// Put n numbered packets into a ring, as if a wire delivered them.
	std::vector<struct rte_mbuf *> Inject(struct rte_ring *r, unsigned int n)
	{
		std::vector<struct rte_mbuf *> v;
		for (unsigned int i = 0; i < n; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			EXPECT_NE(m, nullptr);
			*rte_pktmbuf_mtod(m, uint32_t *) = i;
			m->data_len = m->pkt_len = 64;
			v.push_back(m);
			EXPECT_EQ(rte_ring_enqueue(r, m), 0);
		}
		return v;
	}
};

// forward(rx, tx) as a task, with the mbuf release hook.
struct fwd_task {
	struct ex_forward fw;
	struct ex_task_ref ref;
};

} // namespace

TEST_F(DataplaneTest, Port_Errors_AreErrnos)
{
	struct dp_port p;
	struct dp_port_config cfg;
	dp_port_config_defaults(&cfg);
	EXPECT_EQ(dp_port_init(&p, RTE_MAX_ETHPORTS - 1, &cfg), -ENODEV);
	uint16_t id;
	EXPECT_EQ(dp_port_by_name("no_such_port", &id), -ENODEV);
	struct rte_ring *a = Ring();
	int pid = rte_eth_from_rings(uniq("net_ring_q").c_str(), &a, 1, &a, 1, SOCKET_ID_ANY);
	ASSERT_GE(pid, 0);
	ports.push_back((uint16_t)pid);
	cfg.nb_queues = 64; // a one-ring port has one queue
	cfg.pool = pool;
	LogCapture log;
	EXPECT_EQ(dp_port_init(&p, (uint16_t)pid, &cfg), -EINVAL);
	EXPECT_NE(log.Text().find("has at most 1 queue pairs, not 64"), std::string::npos)
			<< log.Text();
}

TEST_F(DataplaneTest, RxToTx_Forward_SameMbufsInOrder)
{
	struct rte_ring *wire_in = Ring(), *mid = Ring(), *wire_out = Ring();
	uint16_t a = RingPort(wire_in, mid);
	uint16_t b = RingPort(mid, wire_out);
	(void)a;
	struct dp_burst_stream rx;
	struct dp_tx_sink tx;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_tx_sink_init(&tx, ex, b, 0);
	fwd_task p;
	ex_forward_init(&p.fw, &rx.base, &tx.base, dp_burst_release, nullptr);
	ASSERT_EQ(ex_spawn_to(ex, &p.fw.base, nullptr, &p.ref), 0);
	auto sent = Inject(wire_in, 300);
	Run(50);
	ASSERT_EQ(rte_ring_count(wire_out), 300u);
	for (unsigned int i = 0; i < 300; i++) {
		void *m = nullptr;
		ASSERT_EQ(rte_ring_dequeue(wire_out, &m), 0);
		EXPECT_EQ(m, sent[i]) << "zero copy: the same mbuf travels";
		EXPECT_EQ(*rte_pktmbuf_mtod(static_cast<struct rte_mbuf *>(m), uint32_t *), i);
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
	}
	EXPECT_EQ(rx.stats.pkts, 300u);
	EXPECT_EQ(tx.stats.pkts, 300u);
	EXPECT_EQ(tx.stats.dropped, 0u);
	ex_task_cancel(&p.ref);
	Run(2);
	dp_rx_stream_fini(&rx);
	dp_tx_sink_fini(&tx);
}

// A PMD queue without room (a virtio ring whose other side is behind): what
// it refuses is kept, in order, and offered again each iteration, not lost
// to TCP as if the network had dropped it.
TEST_F(DataplaneTest, TxRefused_KeptInOrderAndSentWhenTheQueueHasRoom)
{
	struct rte_ring *in = Ring(), *tiny = Ring(16);
	uint16_t port = RingPort(in, tiny); // the tx ring holds 15
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	SendBurst(&tx, DP_BURST_MAX); // numbered 0..31
	EXPECT_EQ(tx.stats.pkts, 15u);
	EXPECT_EQ(tx.stats.dropped, 0u);
	EXPECT_EQ(tx.stats.requeued, 17u);
	EXPECT_EQ(tx.n, 17);
	std::vector<uint32_t> order;
	auto drain = [&]() {
		void *m = nullptr;
		while (rte_ring_dequeue(tiny, &m) == 0) {
			auto *mb = static_cast<struct rte_mbuf *>(m);
			order.push_back(*rte_pktmbuf_mtod(mb, uint32_t *));
			rte_pktmbuf_free(mb);
		}
	};
	Run(1);
	EXPECT_EQ(tx.stats.pkts, 15u) << "still no room";
	drain();
	Run(1);
	EXPECT_EQ(tx.stats.pkts, 30u);
	drain();
	Run(1);
	drain();
	EXPECT_EQ(tx.stats.pkts, 32u);
	EXPECT_EQ(tx.n, 0);
	EXPECT_EQ(tx.refused_ns, 0u);
	ASSERT_EQ(order.size(), 32u);
	for (uint32_t i = 0; i < 32; i++)
		EXPECT_EQ(order[i], i) << "sent out of order";
	EXPECT_EQ(tx.stats.dropped, 0u);
	dp_tx_sink_fini(&tx);
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
}

// A task that asks a tx sink for room (as TCP's small queues do through
// the stack) until it gets it, counting its polls.
struct room_task {
	struct ex_future base;
	struct dp_tx_sink *tx;
	int polls = 0;
};

static enum ex_poll
room_task_poll(struct ex_future *f, struct ex_context *cx)
{
	auto *t = EX_CONTAINER_OF(f, struct room_task, base);

	t->polls++;
	return dp_tx_sink_room(t->tx, &cx->waker) ? EX_READY : EX_PENDING;
}

static const struct ex_future_ops room_task_ops = { room_task_poll, nullptr, "room_task" };

// Backpressure for producers that can wait: with DP_TX_ROOM_HIGH packets
// kept for a queue that refuses them the sink says no, and wakes the one
// it said no to only once the queue has taken the backlog down to
// DP_TX_ROOM_LOW; packets handed over meanwhile are still kept, not lost.
TEST_F(DataplaneTest, TxRoom_NoWhileTheBacklogIsDeep_WokenWhenItDrains)
{
	struct rte_ring *in = Ring(), *tiny = Ring(16);
	uint16_t port = RingPort(in, tiny); // the tx ring holds 15
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	room_task t;
	ex_future_init(&t.base, &room_task_ops);
	t.tx = &tx;

	SendBurst(&tx, DP_BURST_MAX); // 15 taken, 17 kept
	struct ex_waker none = ex_waker_noop();
	EXPECT_TRUE(dp_tx_sink_room(&tx, &none)) << "17 kept: room";
	SendBurst(&tx, DP_BURST_MAX);
	SendBurst(&tx, DP_BURST_MAX);
	ASSERT_EQ(tx.n, 3 * DP_BURST_MAX - 15);
	ASSERT_GE(tx.n, DP_TX_ROOM_HIGH);
	ASSERT_EQ(ex_spawn_to(ex, &t.base, nullptr, nullptr), 0);
	Run(2);
	EXPECT_EQ(t.polls, 1) << "told to wait";
	EXPECT_EQ(tx.stats.backpressured, 1u);
	auto drain = [&]() {
		void *m = nullptr;
		while (rte_ring_dequeue(tiny, &m) == 0)
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
	};
	while (tx.n - 15 > DP_TX_ROOM_LOW) { // each round the queue takes 15 more
		drain();
		Run(2);
		EXPECT_EQ(t.polls, 1) << "woken with " << tx.n << " still kept";
	}
	drain();
	Run(2);
	EXPECT_LE(tx.n, DP_TX_ROOM_LOW);
	EXPECT_EQ(t.polls, 2) << "woken once the backlog was down to DP_TX_ROOM_LOW";
	EXPECT_EQ(ex_tasks_live(ex), 0u) << "and given room";
	EXPECT_EQ(tx.stats.dropped, 0u);
	while (tx.n != 0) {
		drain();
		Run(1);
	}
	drain();
	EXPECT_EQ(tx.stats.pkts, 3u * DP_BURST_MAX);
	dp_tx_sink_fini(&tx);
}

// At fini the loop has stopped, but the queue's other side (a memif or
// vhost-user peer in another process) may still be draining it: what the
// queue refused goes out as it makes room, in order, nothing dropped (a last
// ACK lost here leaves the peer waiting for a retransmission).
TEST_F(DataplaneTest, TxFini_OffersWhatIsKeptWhileThePeerDrainsTheQueue)
{
	struct rte_ring *in = Ring(), *tiny = Ring(16);
	uint16_t port = RingPort(in, tiny); // the tx ring holds 15
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	SendBurst(&tx, DP_BURST_MAX); // numbered 0..31
	ASSERT_EQ(tx.n, 17) << "15 in the ring, 17 kept";
	std::vector<uint32_t> order;
	std::atomic<bool> stop{ false };
	std::thread peer([&] { // drains a few at a time, 1 ms apart
		while (!stop.load()) {
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
			void *m[4];
			unsigned int n = rte_ring_dequeue_burst(tiny, m, 4, nullptr);
			for (unsigned int i = 0; i < n; i++) {
				auto *mb = static_cast<struct rte_mbuf *>(m[i]);
				order.push_back(*rte_pktmbuf_mtod(mb, uint32_t *));
				rte_pktmbuf_free(mb);
			}
		}
	});
	dp_tx_sink_fini(&tx);
	std::this_thread::sleep_for(std::chrono::milliseconds(20));
	stop = true;
	peer.join();
	EXPECT_EQ(tx.stats.dropped, 0u) << "fini dropped what the peer would have taken";
	EXPECT_EQ(tx.stats.pkts, 32u);
	ASSERT_EQ(order.size(), 32u);
	for (uint32_t i = 0; i < 32; i++)
		EXPECT_EQ(order[i], i) << "sent out of order";
}

// A queue that takes nothing for DP_TX_RETRY_NS is given up on: its packets
// are freed and counted; a full sink drops the newest; fini frees the rest.
TEST_F(DataplaneTest, TxRefused_StuckQueueDroppedAfterTheBound_FullSinkDropsNewest)
{
	struct rte_ring *in = Ring(), *tiny = Ring(16);
	uint16_t port = RingPort(in, tiny);
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	auto send = [&](uint16_t n) { SendBurst(&tx, n); };
	send(DP_BURST_MAX); // 15 taken, 17 kept
	for (int i = 0; i < 5; i++)
		send(DP_BURST_MAX); // kept behind them: 17 + 160 > DP_TX_BUF
	EXPECT_EQ(tx.n, DP_TX_BUF);
	EXPECT_EQ(tx.stats.dropped, 17u + 5 * DP_BURST_MAX - DP_TX_BUF) << "the newest";
	Run(2);
	EXPECT_EQ(tx.n, DP_TX_BUF) << "kept while within the bound";
	Advance(DP_TX_RETRY_NS / 2);
	Run(1);
	EXPECT_EQ(tx.n, DP_TX_BUF);
	Advance(DP_TX_RETRY_NS / 2);
	Run(1);
	EXPECT_EQ(tx.n, 0) << "given up on after DP_TX_RETRY_NS without room";
	EXPECT_EQ(tx.stats.dropped, 6u * DP_BURST_MAX - 15);
	EXPECT_EQ(rte_mempool_in_use_count(pool), 15u) << "only the 15 in the ring";
	send(3); // refused again, then fini: freed and counted
	dp_tx_sink_fini(&tx);
	EXPECT_EQ(tx.stats.dropped, 6u * DP_BURST_MAX - 15 + 3);
	EXPECT_EQ(rte_mempool_in_use_count(pool), 15u);
}

static int
drop_odd(struct rte_mbuf *m, void *)
{
	return (*rte_pktmbuf_mtod(m, uint32_t *) & 1) ? -1 : 0;
}

static int
by_parity(struct rte_mbuf *m, void *)
{
	uint32_t v = *rte_pktmbuf_mtod(m, uint32_t *);
	return v % 10 == 9 ? -1 : (int)(v & 1);
}

TEST_F(DataplaneTest, BurstMap_FiltersInPlace_Counted)
{
	struct rte_ring *in = Ring(), *out = Ring(), *wire_out = Ring();
	uint16_t a = RingPort(in, out);
	uint16_t b = RingPort(out, wire_out);
	struct dp_burst_stream rx;
	struct dp_burst_map even;
	struct dp_tx_sink tx;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_burst_map_init(&even, &rx.base, drop_odd, nullptr);
	dp_tx_sink_init(&tx, ex, b, 0);
	fwd_task p;
	ex_forward_init(&p.fw, &even.base, &tx.base, dp_burst_release, nullptr);
	ASSERT_EQ(ex_spawn_to(ex, &p.fw.base, nullptr, &p.ref), 0);
	Inject(in, 100);
	Run(50);
	EXPECT_EQ(rte_ring_count(wire_out), 50u);
	EXPECT_EQ(even.stats.dropped, 50u);
	ex_task_cancel(&p.ref);
	Run(2);
	dp_rx_stream_fini(&rx);
	dp_tx_sink_fini(&tx);
}

TEST_F(DataplaneTest, Classify_ToTwoRings_DropsCounted)
{
	struct rte_ring *in = Ring(), *loop = Ring(), *even_r = Ring(), *odd_r = Ring();
	uint16_t a = RingPort(in, loop);
	struct dp_burst_stream rx;
	struct dp_ring_sink even, odd;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_ring_sink_init(&even, ex, even_r);
	dp_ring_sink_init(&odd, ex, odd_r);
	struct ex_sink *outs[2] = { &even.base, &odd.base };
	struct dp_classify c;
	ASSERT_EQ(dp_classify_init(&c, &rx.base, outs, 2, by_parity, nullptr), 0);
	EXPECT_EQ(dp_classify_init(&c, &rx.base, outs, 0, by_parity, nullptr), -EINVAL);
	ASSERT_EQ(dp_classify_init(&c, &rx.base, outs, 2, by_parity, nullptr), 0);
	struct ex_task_ref ref;
	ASSERT_EQ(ex_spawn_to(ex, &c.base, nullptr, &ref), 0);
	Inject(in, 100);
	Run(50);
	EXPECT_EQ(rte_ring_count(even_r), 50u);
	EXPECT_EQ(rte_ring_count(odd_r), 40u); // 9, 19, ... 99 dropped
	EXPECT_EQ(c.stats.dropped, 10u);
	ex_task_cancel(&ref);
	Run(2);
	dp_rx_stream_fini(&rx);
	dp_ring_sink_fini(&even);
	dp_ring_sink_fini(&odd);
}

TEST_F(DataplaneTest, RingSink_Full_BackpressureThenResumes)
{
	struct rte_ring *in = Ring(), *loop = Ring(), *narrow = Ring(128);
	uint16_t a = RingPort(in, loop);
	struct dp_burst_stream rx;
	struct dp_ring_sink k;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_ring_sink_init(&k, ex, narrow);
	fwd_task p;
	ex_forward_init(&p.fw, &rx.base, &k.base, dp_burst_release, nullptr);
	ASSERT_EQ(ex_spawn_to(ex, &p.fw.base, nullptr, &p.ref), 0);
	Inject(in, 200);
	Run(50);
	// 127 slots: one vector of 64 fits, then the sink waits for room.
	EXPECT_EQ(rte_ring_count(narrow), 64u);
	EXPECT_EQ(k.stats.dropped, 0u) << "backpressure, not loss";
	unsigned int drained = 0;
	for (int round = 0; round < 20 && drained < 200; round++) {
		void *m = nullptr;
		while (rte_ring_dequeue(narrow, &m) == 0) {
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
			drained++;
		}
		Run(5);
	}
	EXPECT_EQ(drained, 200u);
	ex_task_cancel(&p.ref);
	Run(2);
	dp_rx_stream_fini(&rx);
	dp_ring_sink_fini(&k);
}

TEST_F(DataplaneTest, NetNull_ForwardsAndReturnsEveryMbuf)
{
	std::string n1 = uniq("net_null_ut"), n2 = uniq("net_null_ut");
	ASSERT_EQ(rte_vdev_init(n1.c_str(), nullptr), 0);
	ASSERT_EQ(rte_vdev_init(n2.c_str(), nullptr), 0);
	uint16_t a, b;
	ASSERT_EQ(dp_port_by_name(n1.c_str(), &a), 0);
	ASSERT_EQ(dp_port_by_name(n2.c_str(), &b), 0);
	struct dp_port pa, pb;
	struct dp_port_config cfg;
	dp_port_config_defaults(&cfg);
	cfg.pool = pool;
	cfg.nb_rxd = cfg.nb_txd = 256;
	ASSERT_EQ(dp_port_init(&pa, a, &cfg), 0);
	ASSERT_EQ(dp_port_init(&pb, b, &cfg), 0);
	EXPECT_EQ(dp_port_wait_link(&pa, 1000, nullptr), 0);
	struct dp_burst_stream rx;
	struct dp_tx_sink tx;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_tx_sink_init(&tx, ex, b, 0);
	fwd_task p;
	ex_forward_init(&p.fw, &rx.base, &tx.base, dp_burst_release, nullptr);
	ASSERT_EQ(ex_spawn_to(ex, &p.fw.base, nullptr, &p.ref), 0);
	Run(200);
	EXPECT_GT(tx.stats.pkts, 1000u);
	ex_task_cancel(&p.ref);
	Run(2);
	dp_rx_stream_fini(&rx);
	dp_tx_sink_fini(&tx);
	dp_port_close(&pa);
	dp_port_close(&pb);
	rte_vdev_uninit(n1.c_str());
	rte_vdev_uninit(n2.c_str());
}

TEST(RssTest, SymmetricKey_BothDirectionsHashAlike)
{
	std::mt19937 rng(7);
	for (int i = 0; i < 10000; i++) {
		uint32_t s = rng(), d = rng();
		uint16_t sp = (uint16_t)rng(), dp = (uint16_t)rng();
		ASSERT_EQ(dp_rss_hash_ipv4(s, d, sp, dp), dp_rss_hash_ipv4(d, s, dp, sp));
	}
}

TEST(RssTest, Queue_FollowsReta_NoRssIsQueueZero)
{
	struct dp_port p = {};
	EXPECT_EQ(dp_rss_queue(&p, 1, 2, 3, 4), 0);
	p.rss = true;
	p.nb_queues = 4;
	p.reta_size = 128;
	for (int i = 0; i < 128; i++)
		p.reta[i] = (uint16_t)(i % 4);
	int hits[4] = { 0, 0, 0, 0 };
	for (uint16_t port = 1024; port < 1024 + 4000; port++) {
		uint16_t q = dp_rss_queue(&p, 0xc6120001, 0xc6120002, port, 80);
		ASSERT_LT(q, 4);
		EXPECT_EQ(q, dp_rss_queue(&p, 0xc6120002, 0xc6120001, 80, port));
		hits[q]++;
	}
	for (int q = 0; q < 4; q++)
		EXPECT_GT(hits[q], 700) << "queue " << q << " gets its share";
}

TEST_F(DataplaneTest, QueueForward_SameMbufsInOrder_WaitsWhenIdle)
{
	struct rte_ring *wire_in = Ring(), *mid = Ring(), *wire_out = Ring();
	uint16_t a = RingPort(wire_in, mid);
	uint16_t b = RingPort(mid, wire_out);
	struct dp_burst_stream rx;
	struct dp_tx_sink tx;
	dp_rx_stream_init(&rx, ex, a, 0);
	dp_tx_sink_init(&tx, ex, b, 0);
	struct dp_queue_forward q;
	struct ex_task_ref ref;
	ASSERT_EQ(dp_queue_forward_init(&q, &rx, &tx), 0);
	ASSERT_EQ(ex_spawn_to(ex, &q.base, nullptr, &ref), 0);
	Run(4);
	EXPECT_TRUE(rx.waiting) << "an empty queue: it waits on the rx source, not in a spin";
	uint64_t polls_idle = Stats().polls;
	Run(20);
	EXPECT_EQ(Stats().polls, polls_idle) << "nothing arrived, nothing polled";
	auto sent = Inject(wire_in, 300);
	Run(20);
	ASSERT_EQ(rte_ring_count(wire_out), 300u);
	for (unsigned int i = 0; i < 300; i++) {
		void *m = nullptr;
		ASSERT_EQ(rte_ring_dequeue(wire_out, &m), 0);
		EXPECT_EQ(m, sent[i]);
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
	}
	EXPECT_EQ(tx.stats.pkts, 300u);
	ex_task_cancel(&ref);
	Run(2);
	EXPECT_FALSE(rx.waiting);
	dp_rx_stream_fini(&rx);
	dp_tx_sink_fini(&tx);
}

TEST_F(DataplaneTest, RingStream_OtherStageFeeds_ForwardedInOrder)
{
	// Another lcore's stage would enqueue into `handoff`; here the test does.
	struct rte_ring *handoff = Ring(), *wire_out = Ring(), *unused = Ring();
	uint16_t out_port = RingPort(unused, wire_out);
	struct dp_burst_stream rs;
	struct dp_tx_sink tx;
	dp_ring_stream_init(&rs, ex, handoff);
	dp_tx_sink_init(&tx, ex, out_port, 0);
	struct dp_queue_forward q;
	EXPECT_EQ(dp_queue_forward_init(&q, &rs, &tx), -EINVAL) << "a ring is not a PMD queue";
	fwd_task p;
	ex_forward_init(&p.fw, &rs.base, &tx.base, dp_burst_release, nullptr);
	ASSERT_EQ(ex_spawn_to(ex, &p.fw.base, nullptr, &p.ref), 0);
	Run(4);
	EXPECT_TRUE(rs.waiting);
	auto sent = Inject(handoff, 200);
	Run(20);
	ASSERT_EQ(rte_ring_count(wire_out), 200u);
	for (unsigned int i = 0; i < 200; i++) {
		void *m = nullptr;
		ASSERT_EQ(rte_ring_dequeue(wire_out, &m), 0);
		EXPECT_EQ(m, sent[i]);
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
	}
	EXPECT_EQ(rs.stats.pkts, 200u);
	ex_task_cancel(&p.ref);
	Run(2);
	dp_rx_stream_fini(&rs);
	dp_tx_sink_fini(&tx);
}

// The tx hold: the end-of-iteration send waits out the hold since the last
// send; a full burst and an explicit flush do not wait, and the first packet
// after a quiet spell goes at once.
TEST_F(DataplaneTest, TxHold_EndOfIterationSendWaitsOutTheHold)
{
	struct rte_ring *in = Ring(), *wire = Ring();
	uint16_t port = RingPort(in, wire);
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	dp_tx_sink_set_hold(&tx, 100);
	auto send = [&](uint16_t n) { SendBurst(&tx, n); };
	auto drain = [&]() {
		unsigned int n = 0;
		void *m = nullptr;
		while (rte_ring_dequeue(wire, &m) == 0) {
			rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
			n++;
		}
		return n;
	};

	send(1);
	Run(1);
	EXPECT_EQ(drain(), 1u) << "nothing sent for a hold: the first packet leaves at once";
	Advance(10 * 1000);
	send(2);
	Run(3);
	EXPECT_EQ(drain(), 0u) << "10 us after a send, a 100 us hold keeps it";
	EXPECT_EQ(tx.n, 2);
	EXPECT_GT(tx.stats.held, 0u);
	Advance(89 * 1000);
	EXPECT_EQ(drain(), 0u) << "still inside the hold (99 us)";
	Advance(1000);
	EXPECT_EQ(drain(), 2u) << "sent once the hold has passed";
	EXPECT_EQ(tx.n, 0);

	send(3); // inside a fresh hold: a full burst still leaves at once
	send(DP_BURST_MAX);
	EXPECT_EQ(drain(), 3u + DP_BURST_MAX);
	send(4); // and so does an explicit flush
	ASSERT_EQ(tx.base.ops->poll_flush(&tx.base, nullptr), EX_READY);
	EXPECT_EQ(drain(), 4u);
	EXPECT_EQ(tx.stats.pkts, 1u + 2 + 3 + DP_BURST_MAX + 4);
	EXPECT_EQ(tx.stats.dropped, 0u);

	send(5); // held at fini: fini sends it, nothing is lost
	Run(1);
	EXPECT_EQ(drain(), 0u);
	dp_tx_sink_fini(&tx);
	EXPECT_EQ(drain(), 5u);
}

// While the tx hold keeps packets, an idle loop sleeps until the hold ends
// (not spinning to it, which under a CPU quota spends the budget on empty
// polls), and the packets leave in the iteration after the sleep.
TEST_F(DataplaneTest, TxHold_IdleLoopSleepsUntilTheHoldEnds_ThenSends)
{
	SleepWhenIdle();
	struct rte_ring *in = Ring(), *wire = Ring();
	uint16_t port = RingPort(in, wire);
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	dp_tx_sink_set_hold(&tx, 100);

	SendBurst(&tx, 1);
	ex_run_once(ex); // the first packet leaves at once
	EXPECT_EQ(rte_ring_count(wire), 1u);
	clk.now += 30 * 1000;
	SendBurst(&tx, 2);
	sleeps_ns.clear();
	ex_run_once(ex);
	EXPECT_EQ(rte_ring_count(wire), 1u) << "30 us after a send, a 100 us hold keeps them";
	ASSERT_EQ(sleeps_ns.size(), 1u) << "the loop spun through the hold instead of sleeping";
	EXPECT_EQ(sleeps_ns[0], 70u * 1000)
			<< "slept to the hold's end: not past it, not short of it";
	ex_run_once(ex);
	EXPECT_EQ(rte_ring_count(wire), 3u) << "sent on waking";

	ex_run_once(ex);
	ASSERT_EQ(sleeps_ns.size(), 2u);
	EXPECT_EQ(sleeps_ns[1], 1000u * 1000) << "nothing held: the ordinary nap";
	dp_tx_sink_fini(&tx);
	// TearDown runs the loop again: back to the fixture's busy-polling
	// executor, which records no sleeps.
	DefaultConfig();
	Remake();
}

// A peer that stops taking packets for long (a descheduled or sanitized
// vhost-user side): a loop that may sleep offers what is kept again at once
// while the refusal is young, then sleeps between offers, a quarter of how
// long the queue has refused and at most DP_TX_NAP_MAX_NS, instead of
// spinning through the pause; once the queue has room everything leaves, in
// order, nothing dropped.
TEST_F(DataplaneTest, TxRefused_LongPause_LoopSleepsBetweenOffers_SendsWhenRoom)
{
	SleepWhenIdle();
	struct rte_ring *in = Ring(), *tiny = Ring(16);
	uint16_t port = RingPort(in, tiny); // the tx ring holds 15
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);

	SendBurst(&tx, DP_BURST_MAX); // 15 taken, 17 kept
	ASSERT_EQ(tx.n, 17);
	sleeps_ns.clear();
	ex_run_once(ex);
	ex_run_once(ex);
	EXPECT_TRUE(sleeps_ns.empty())
			<< "a refusal microseconds old: offered again without a sleep";
	clk.now += 40 * 1000;
	ex_run_once(ex);
	ASSERT_EQ(sleeps_ns.size(), 1u) << "40 us of refusal: the loop spun instead of sleeping";
	EXPECT_EQ(sleeps_ns[0], 10u * 1000) << "a quarter of the 40 us it has refused";
	clk.now += 10 * 1000 * 1000;
	ex_run_once(ex);
	ASSERT_EQ(sleeps_ns.size(), 2u);
	EXPECT_EQ(sleeps_ns[1], DP_TX_NAP_MAX_NS) << "a long pause: naps no longer than the cap";
	EXPECT_EQ(tx.n, 17) << "kept through the pause (within DP_TX_RETRY_NS)";

	std::vector<uint32_t> order;
	auto drain = [&]() {
		void *m = nullptr;
		while (rte_ring_dequeue(tiny, &m) == 0) {
			auto *mb = static_cast<struct rte_mbuf *>(m);
			order.push_back(*rte_pktmbuf_mtod(mb, uint32_t *));
			rte_pktmbuf_free(mb);
		}
	};
	drain(); // the peer is back
	ex_run_once(ex);
	EXPECT_EQ(tx.n, 2) << "offered on waking: 15 more taken";
	drain();
	ex_run_once(ex);
	drain();
	EXPECT_EQ(tx.n, 0);
	ASSERT_EQ(order.size(), 32u);
	for (uint32_t i = 0; i < 32; i++)
		EXPECT_EQ(order[i], i) << "sent out of order";
	EXPECT_EQ(tx.stats.dropped, 0u);
	dp_tx_sink_fini(&tx);
	EXPECT_EQ(rte_mempool_in_use_count(pool), 0u);
	DefaultConfig();
	Remake();
}

TEST_F(DataplaneTest, TxHold_Zero_SendsEveryIteration)
{
	struct rte_ring *in = Ring(), *wire = Ring();
	uint16_t port = RingPort(in, wire);
	struct dp_tx_sink tx;
	dp_tx_sink_init(&tx, ex, port, 0);
	for (int round = 0; round < 3; round++) {
		struct dp_burst b;
		b.n = 1;
		b.pkts[0] = rte_pktmbuf_alloc(pool);
		ASSERT_NE(b.pkts[0], nullptr);
		union ex_item it;
		it.ptr = &b;
		ASSERT_EQ(tx.base.ops->start_send(&tx.base, it), 0);
		Run(1);
		void *m = nullptr;
		ASSERT_EQ(rte_ring_dequeue(wire, &m), 0) << "round " << round;
		rte_pktmbuf_free(static_cast<struct rte_mbuf *>(m));
	}
	EXPECT_EQ(tx.stats.held, 0u);
	dp_tx_sink_fini(&tx);
}
