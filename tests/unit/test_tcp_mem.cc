// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for TCP's mbuf budget (tcpstack/tcp_mem.c, review H1) and the
// packing that keeps a queue's bytes close to its mbufs (tcp_rcvq.c's
// receive and out-of-order queues, tcp_sock.c's send queue): peers that
// would pin the pool with 1-byte segments, out of order or into a send queue
// nobody drains, leave room for RX, ARP and every other connection. The
// fixture's pool is 1023 mbufs, so TCP's default budget is 511 and its
// reserve 127.
#include <string>

#include "tcp_fixture.h"

namespace
{

class TcpMem : public TcpTest
{
      protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		tcp.tx_chains = true;
	}

	// A segment of p's at offset `off` beyond its next sequence number;
	// fails (rather than crash in Frame()) if the pool is already empty.
	void DataAt(const peer_conn &p, uint32_t off, const std::string &d, uint16_t wnd = 64240)
	{
		ASSERT_GT(rte_mempool_avail_count(pool), 0u) << "the pool ran dry";
		In(Seg(TCP_FLAG_ACK, p.seq + off, p.ack, d, wnd, peer_opts(), p.port));
	}

	std::string Read(struct tcp_conn *c)
	{
		return ReadAll(c);
	}
};

// The review's repro: connections that each park 1-byte out-of-order
// segments, more than the whole pool between them. Before the budget the
// pool ran dry (the injection here fails first; on a NIC, RX refill does).
// Now TCP stays within its budget by pruning the oldest holders, ARP is
// answered, and a fourth connection's in-order data arrives intact.
TEST_F(TcpMem, OutOfOrderAttackers_PrunedWithinBudget_ArpAndOthersStillServed)
{
	std::vector<peer_conn> att;
	for (uint16_t i = 0; i < 5; i++)
		att.push_back(AcceptFrom((uint16_t)(41000 + i)));
	for (auto &p : att)
		ASSERT_NE(p.c, nullptr);
	for (auto &p : att)
		for (uint32_t k = 0; k < 220; k++) {
			// a hole before each: nothing packs
			ASSERT_NO_FATAL_FAILURE(DataAt(p, 2 + 2 * k, "x"));
			Sent(); // the duplicate ACK it earned
		}
	EXPECT_LE(tcp.stats.mbufs_held, (uint64_t)tcp.mbuf_budget);
	EXPECT_LE(rte_mempool_in_use_count(pool), tcp.mbuf_budget + 8u);
	EXPECT_GT(tcp.stats.mem_pressure, 0u);
	EXPECT_GE(tcp.stats.ooo_pruned, 5u * 220 - tcp.mbuf_budget);
	ExpectHeldConsistent();

	non_tcp_allowed = 1;
	In(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp));
	EXPECT_EQ(out.size(), 1u) << "ARP answered";
	Sent();

	peer_conn ok = AcceptFrom(42000);
	ASSERT_NE(ok.c, nullptr);
	std::string want;
	for (int k = 0; k < 20; k++) {
		std::string d(1000, (char)('a' + k));
		DataAt(ok, (uint32_t)want.size(), d);
		want += d;
	}
	Sent();
	EXPECT_EQ(Read(ok.c), want);
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 0u) << "pruning out-of-order data was enough";

	// An attacker's first hole filled: its byte 2 follows if it was not
	// pruned, and nothing else (byte 3 is the next hole).
	for (auto &p : att) {
		DataAt(p, 0, "AB");
		std::string got = Read(p.c);
		EXPECT_TRUE(got == "AB" || got == "ABx") << got;
		Sent();
	}
	for (auto &p : att)
		tcp_abort(p.c);
	tcp_abort(ok.c);
}

// A zero-window reader behind a forwarder (tcp_rx_stream -> tcp_tx_sink
// hands each received mbuf to tcp_send_mbuf): 1-byte segments used to take
// an mbuf each in the send queue, 8x echo's pool within snd_buf. Small ones
// now pack into the tail, and the bytes go out intact when the window opens.
TEST_F(TcpMem, TinyMbufsGivenToSend_PackIntoTheTail_BytesIntact)
{
	peer_conn p = AcceptFrom(41000);
	ASSERT_NE(p.c, nullptr);
	In(Seg(TCP_FLAG_ACK, p.seq, p.ack, "", 0, peer_opts(), p.port)); // window 0
	std::string want;
	for (int i = 0; i < 1500; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		ASSERT_NE(m, nullptr) << "the pool ran dry at " << i;
		char ch = (char)('A' + i % 26);
		*(char *)rte_pktmbuf_append(m, 1) = ch;
		want += ch;
		ASSERT_EQ(tcp_send_mbuf(p.c, m), 0);
	}
	EXPECT_EQ(p.c->sndq_bytes, 1500u);
	EXPECT_LE(p.c->sndq_segs, 2u);
	EXPECT_GE(tcp.stats.snd_packed, 1498u);
	ExpectHeldConsistent();
	Sent();
	In(Seg(TCP_FLAG_ACK, p.seq, p.ack, "", 64240, peer_opts(), p.port));
	std::string got;
	for (auto &o : Sent())
		got += o.data;
	EXPECT_EQ(got, want);
	tcp_abort(p.c);
}

class TcpMemBudget : public TcpMem
{
	void Configure(struct tcp_config &c) override
	{
		c.mbuf_budget = 40;
	}
};

// In-order data over budget (a reader that stopped reading, nothing out of
// order to prune): refused and counted, our ACK unmoved, so the peer sends
// it again; a small one that packs into the tail takes no mbuf and is
// accepted; once the reader reads, the resent segment goes in.
TEST_F(TcpMemBudget, InOrderOverBudget_RefusedCounted_AcceptedAfterRead)
{
	peer_conn p = AcceptFrom(41000);
	ASSERT_NE(p.c, nullptr);
	std::string want;
	uint32_t off = 0;
	while (tcp.stats.mbufs_held < 40) {
		std::string d(600, (char)('a' + off % 26)); // too big to pack
		DataAt(p, off, d);
		off += 600;
		want += d;
	}
	Sent();
	DataAt(p, off, std::string(600, '!'));
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 1u);
	EXPECT_EQ(p.c->rcv_nxt, p.seq + off) << "refused data is not acknowledged";
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, p.seq + off);

	DataAt(p, off, "tiny"); // packs into the 600-byte tail
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 1u);
	off += 4;
	want += "tiny";
	Sent();

	EXPECT_EQ(Read(p.c), want);
	EXPECT_EQ(tcp.stats.mbufs_held, 0u);
	Sent();
	DataAt(p, off, std::string(600, '!'));
	EXPECT_EQ(Read(p.c), std::string(600, '!'));
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 1u);
	tcp_abort(p.c);
}

// Over budget because one reader stopped: a second connection that is read
// as its data arrives holds less than its share (the budget over the two
// holding mbufs) and goes on; the stopped one's new data waits.
TEST_F(TcpMemBudget, OverBudget_ReaderThatKeepsUp_NotStarvedByOneThatStopped)
{
	peer_conn stuck = AcceptFrom(41000);
	ASSERT_NE(stuck.c, nullptr);
	peer_conn live = AcceptFrom(41001);
	ASSERT_NE(live.c, nullptr);
	uint32_t off = 0;
	while (tcp.stats.mbufs_held < 40) {
		DataAt(stuck, off, std::string(600, 's'));
		off += 600;
		Sent();
	}
	std::string want, got;
	for (int k = 0; k < 30; k++) {
		std::string d(600, (char)('a' + k % 26));
		DataAt(live, (uint32_t)want.size(), d);
		want += d;
		got += Read(live.c);
		Sent();
	}
	EXPECT_EQ(got, want);
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 0u);
	EXPECT_GT(tcp.stats.mem_pressure, 0u);
	DataAt(stuck, off, std::string(600, 's'));
	EXPECT_EQ(Drops(STACK_DROP_TCP_MEMORY), 1u) << "the one over its share waits";
	Sent();
	tcp_abort(stuck.c);
	tcp_abort(live.c);
}

class TcpMemReserve : public TcpMem
{
	void Configure(struct tcp_config &c) override
	{
		c.mbuf_budget = 1000; // the budget never binds: the pool does
		c.rx_reserve = 300;
	}
};

// A pool shared with other stacks (or the NIC's RX rings) running low is
// pressure even under budget: data is refused while fewer than rx_reserve
// mbufs are free, accepted again once they are back.
TEST_F(TcpMemReserve, PoolBelowReserve_DataRefused_AcceptedWhenFreed)
{
	peer_conn p = AcceptFrom(41000);
	ASSERT_NE(p.c, nullptr);
	std::vector<struct rte_mbuf *> taken;
	while (rte_mempool_avail_count(pool) > 250)
		taken.push_back(rte_pktmbuf_alloc(pool));
	uint64_t refused = 0;
	for (int i = 0; i < 40; i++) // the free count is re-read every 32 segments
		DataAt(p, 0, std::string(600, 'r'));
	refused = Drops(STACK_DROP_TCP_MEMORY);
	EXPECT_GT(refused, 0u);
	Sent();
	for (auto *m : taken)
		rte_pktmbuf_free(m);
	for (int i = 0; i < 40 && p.c->rcvq_bytes == 0; i++)
		DataAt(p, 0, std::string(600, 'r'));
	EXPECT_EQ(Read(p.c), std::string(600, 'r'));
	Sent();
	tcp_abort(p.c);
}

class TcpMemOoo : public TcpMem
{
	void Configure(struct tcp_config &c) override
	{
		c.rcv_buf = 16384; // tcp_ooo_max: 64 segments
	}
};

// A full out-of-order queue keeps the segments nearest RCV.NXT: a new one
// below the highest held evicts that one (review L15), one above is dropped.
TEST_F(TcpMemOoo, FullQueue_LowerSegmentEvictsTheHighest)
{
	peer_conn p = AcceptFrom(41000);
	ASSERT_NE(p.c, nullptr);
	ASSERT_EQ(tcp_ooo_max(p.c), 64u);
	for (uint32_t k = 0; k < 64; k++)
		DataAt(p, 1000 + 10 * k, "0123");
	EXPECT_EQ(p.c->ooo_segs, 64u);
	DataAt(p, 2000, "high"); // above everything: dropped
	EXPECT_EQ(Drops(STACK_DROP_TCP_OOO_FULL), 1u);
	EXPECT_EQ(p.c->ooo_tail->hash.usr, p.seq + 1000 + 630);
	DataAt(p, 500, "low!"); // below: the one at 1630 goes
	EXPECT_EQ(Drops(STACK_DROP_TCP_OOO_FULL), 2u);
	EXPECT_EQ(p.c->ooo_segs, 64u);
	EXPECT_EQ(p.c->ooo_head->hash.usr, p.seq + 500);
	EXPECT_EQ(p.c->ooo_tail->hash.usr, p.seq + 1000 + 620);
	Sent();
	tcp_abort(p.c);
}

// Contiguous tiny out-of-order segments share one mbuf, and the stream is
// intact when the hole before them fills.
TEST_F(TcpMemOoo, ContiguousTinyOutOfOrder_PackIntoOneMbuf)
{
	peer_conn p = AcceptFrom(41000);
	ASSERT_NE(p.c, nullptr);
	std::string tail;
	for (uint32_t k = 0; k < 300; k++) {
		char ch = (char)('a' + k % 26);
		DataAt(p, 10 + k, std::string(1, ch));
		tail += ch;
	}
	EXPECT_EQ(p.c->ooo_segs, 1u);
	EXPECT_GE(tcp.stats.rcv_packed, 299u);
	DataAt(p, 0, "0123456789");
	Sent();
	EXPECT_EQ(Read(p.c), "0123456789" + tail);
	tcp_abort(p.c);
}

} // namespace
