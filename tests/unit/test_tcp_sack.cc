// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for SACK as a receiver (RFC 2018) and D-SACK (RFC 2883):
// negotiation both ways and through a SYN cookie, the blocks an ACK carries
// (the latest arrival's first, as many as fit, none for data no longer
// held), and duplicates reported once.
#include <vector>

#include "tcp_fixture.h"

namespace
{

using Blocks = std::vector<std::pair<uint32_t, uint32_t>>;

Blocks
BlocksOf(const out_seg &o)
{
	Blocks b;
	for (uint8_t i = 0; i < o.seg.opts.nsack; i++)
		b.emplace_back(o.seg.opts.sack[i].left, o.seg.opts.sack[i].right);
	return b;
}

} // namespace

class TcpSack : public TcpTest
{
      protected:
	// An established connection whose peer offered SACK-permitted; the
	// SYN-ACK is checked to echo it.
	struct tcp_conn *AcceptSack(bool ts = true)
	{
		struct tcp_conn *c = Accept(ts, 7, 1460, true);
		EXPECT_NE(c, nullptr);
		if (c != nullptr) {
			EXPECT_TRUE(c->flags & TCP_CONN_FLAG_SACK);
		}
		return c;
	}

	// 100 bytes at peer_seq + off, peer_seq unchanged (out of order).
	std::vector<uint8_t> At(uint32_t off, size_t len = 100, bool ts = true)
	{
		return Seg(TCP_FLAG_ACK, peer_seq + off, our_seq, std::string(len, 'x'), 502,
				ts ? Ts() : peer_opts());
	}
};

TEST_F(TcpSack, Passive_SynAckEchoesSackPermitted_OnlyIfOffered)
{
	Listen();
	peer_opts po;
	po.mss = 1460;
	po.sack_permitted = true;
	In(Seg(TCP_FLAG_SYN, 100, 0, "", 64240, po, 41000));
	EXPECT_TRUE(One().seg.opts.sack_permitted);
	po.sack_permitted = false;
	In(Seg(TCP_FLAG_SYN, 100, 0, "", 64240, po, 41001));
	EXPECT_FALSE(One().seg.opts.sack_permitted) << "offered by us only in reply";
}

TEST_F(TcpSack, Active_SynOffersIt_SynAckDecides)
{
	for (bool peer_sack : { true, false }) {
		struct tcp_connect k;
		tcp_connect_init(&k, &tcp, kPeerIp, 8080);
		ASSERT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
		out_seg syn = One();
		EXPECT_TRUE(syn.seg.opts.sack_permitted) << "the SYN offers SACK";
		peer_opts po;
		po.mss = 1460;
		po.sack_permitted = peer_sack;
		In(Seg(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, syn.seg.seq + 1, "", 64240, po, 8080,
				syn.seg.sport));
		Sent();
		ASSERT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
		ASSERT_EQ(k.base.result, 0);
		EXPECT_EQ((k.conn->flags & TCP_CONN_FLAG_SACK) != 0, peer_sack);
		tcp_abort(k.conn);
		Sent();
	}
}

class TcpSackOff : public TcpSack
{
	void Configure(struct tcp_config &c) override
	{
		c.sack = false;
	}
};

TEST_F(TcpSackOff, SackOff_NotOffered_NotEchoed_NoBlocks)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	EXPECT_FALSE(One().seg.opts.sack_permitted);
	ex_future_drop(&k.base);
	Sent();
	struct tcp_conn *c = Accept(true, 7, 1460, true);
	ASSERT_NE(c, nullptr);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_SACK);
	In(At(200));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, peer_seq);
	EXPECT_EQ(a.seg.opts.nsack, 0) << "no blocks without SACK-permitted";
	tcp_abort(c);
	Sent();
}

// RFC 2018 4: out-of-order data is acknowledged at once, its block first;
// the blocks reported before follow, most recent first.
TEST_F(TcpSack, OutOfOrder_LatestBlockFirst_ThenTheEarlierOnes)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	const uint32_t b = peer_seq;
	In(At(200));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, b);
	EXPECT_EQ(BlocksOf(a), (Blocks{ { b + 200, b + 300 } }));
	In(At(500));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 500, b + 600 }, { b + 200, b + 300 } }));
	// Next to the first island: it grows and comes first again.
	In(At(300));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 200, b + 400 }, { b + 500, b + 600 } }));
	// Filling the gap between the islands joins them into one block.
	In(At(400));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 200, b + 600 } }));
	// The hole at RCV.NXT filled: everything is in order, no block left.
	In(At(0, 200));
	a = One();
	EXPECT_EQ(a.seg.ack, b + 600);
	EXPECT_EQ(a.seg.opts.nsack, 0);
	EXPECT_EQ(c->nsack, 0);
	EXPECT_EQ(tcp.stats.sack_acks_out, 4u);
	tcp_abort(c);
	Sent();
}

// With timestamps (12 bytes) three blocks fit in 40 bytes of options, four
// without; the oldest reported islands are the ones left out.
TEST_F(TcpSack, AsManyBlocksAsFit_TheMostRecent)
{
	for (bool ts : { true, false }) {
		struct tcp_conn *c = AcceptSack(ts);
		ASSERT_NE(c, nullptr);
		const uint32_t b = peer_seq;
		for (uint32_t i = 1; i <= 5; i++) {
			In(At(200 * i, 100, ts));
			Sent();
		}
		In(At(1200, 100, ts));
		out_seg a = One();
		Blocks want = { { b + 1200, b + 1300 }, { b + 1000, b + 1100 },
			{ b + 800, b + 900 } };
		if (!ts)
			want.push_back({ b + 600, b + 700 });
		EXPECT_EQ(BlocksOf(a), want) << (ts ? "with" : "without") << " timestamps";
		EXPECT_EQ(a.seg.opts.has_ts, ts);
		tcp_abort(c);
		Sent();
		peer_seq += 100000;
	}
}

// RFC 2883: a segment we already hold is reported as the first block of the
// ACK it draws, once; below RCV.NXT and within the out-of-order data alike.
TEST_F(TcpSack, Duplicate_ReportedFirstOnce_DSack)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	const uint32_t b = peer_seq;
	In(Data(std::string(300, 'a')));
	Sent();
	// A retransmission of bytes 100..200 (our ACK was lost, say).
	In(Seg(TCP_FLAG_ACK, b + 100, our_seq, std::string(100, 'a'), 502, Ts()));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, b + 300);
	EXPECT_EQ(BlocksOf(a), (Blocks{ { b + 100, b + 200 } }));
	// Partly old: only the old part is the duplicate.
	In(Seg(TCP_FLAG_ACK, b + 250, our_seq, std::string(100, 'a'), 502, Ts()));
	peer_seq = b + 350;
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 250, b + 300 } }));
	// Out of order, then the same again: the D-SACK, then its island.
	In(At(100));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 450, b + 550 } }));
	In(At(100));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 450, b + 550 }, { b + 450, b + 550 } }));
	// Reported once: the next ACK has the island only.
	In(At(300));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 650, b + 750 }, { b + 450, b + 550 } }));
	EXPECT_EQ(tcp.stats.dsacks_out, 3u);
	EXPECT_EQ(ReadAll(c), std::string(350, 'a'));
	tcp_abort(c);
	Sent();
}

// Blocks describe what is held: out-of-order data pruned under memory
// pressure (or dropped for a full queue) is not reported any more.
TEST_F(TcpSack, PrunedData_NoLongerReported)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	const uint32_t b = peer_seq;
	In(At(200));
	In(At(400));
	In(At(600));
	Sent();
	ASSERT_EQ(c->nsack, 3);
	tcp_ooo_prune(c, 1); // keep the lowest
	In(At(0, 100)); // in order, below the hole: an ACK with what is left
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { b + 200, b + 300 } }));
	tcp_ooo_prune(c, 0);
	In(At(1000));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, b + 100);
	EXPECT_EQ(BlocksOf(a), (Blocks{ { b + 1000, b + 1100 } })) << "the pruned block went";
	tcp_abort(c);
	Sent();
}

// A full-sized data segment has no room for blocks beside its payload (the
// frame would pass the MTU); a smaller one carries what fits.
TEST_F(TcpSack, DataSegments_BlocksOnlyWhereTheyFit)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	const uint32_t b = peer_seq;
	In(At(200));
	Sent();
	ASSERT_EQ(Write(c, Pattern(c->mss)), (int)c->mss);
	out_seg full = One();
	EXPECT_EQ(full.data.size(), c->mss);
	EXPECT_EQ(full.seg.opts.nsack, 0);
	EXPECT_LE(full.seg.hlen + full.data.size() + 20, 1500u) << "within the MTU";
	In(Ack(our_seq + c->mss));
	our_seq += c->mss;
	Sent();
	ASSERT_EQ(Write(c, "small"), 5);
	out_seg small = One();
	EXPECT_EQ(small.data, "small");
	EXPECT_EQ(BlocksOf(small), (Blocks{ { b + 200, b + 300 } }));
	tcp_abort(c);
	Sent();
}

// A SYN cookie keeps SACK-permitted in the TSval's bit 4, beside the window
// scale, so a connection made from a cookie reports blocks too.
TEST_F(TcpSack, SynCookie_KeepsSackPermitted)
{
	Listen(1);
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	Sent();
	peer_opts po;
	po.mss = 1460;
	po.wscale = 7;
	po.ts = true;
	po.tsval = 777;
	po.sack_permitted = true;
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, 40003));
	out_seg sa = One();
	ASSERT_EQ(tcp.stats.syncookies_sent, 1u);
	EXPECT_TRUE(sa.seg.opts.sack_permitted);
	EXPECT_EQ(sa.seg.opts.tsval & 0x1f, 0x10u | 7u) << "SACK and the window scale";
	peer_opts ack;
	ack.ts = true;
	ack.tsval = 778;
	ack.tsecr = sa.seg.opts.tsval;
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1, "", 502, ack, 40003));
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	ASSERT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	ASSERT_EQ(a.base.result, 0);
	EXPECT_TRUE(a.conn->flags & TCP_CONN_FLAG_SACK);
	EXPECT_EQ(a.conn->snd_wscale, 7u);
	ack.tsval = 779;
	In(Seg(TCP_FLAG_ACK, 9101, sa.seg.seq + 1, "later", 502, ack, 40003));
	EXPECT_EQ(BlocksOf(One()), (Blocks{ { 9101u, 9106u } }));
	tcp_abort(a.conn);
	Sent();
}

// As a sender: a peer that SACKs may acknowledge many segments with one ACK
// (Linux compresses SACKs for up to a millisecond). Once DupThresh segments
// are SACKed above a hole, RACK's reordering window is zero (RFC 8985 6.2
// step 4) and the hole is lost at once: one such ACK starts recovery. D-SACK
// blocks and blocks beyond what was sent count for nothing. In recovery PRR
// (RFC 6937) brings cwnd to ssthresh as the SACKs report deliveries (NewReno's
// ssthresh here: half the flight).
TEST_F(TcpSack, Sender_OneCompressedSackAck_StartsFastRetransmit)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_NEWRENO), 0);
	const uint32_t mss = c->mss;
	std::string d = Pattern(10 * mss, 3);
	ASSERT_EQ(Write(c, d), (int)d.size());
	ASSERT_EQ(Sent().size(), 10u);
	auto sack_ack = [&](std::vector<std::pair<uint32_t, uint32_t>> blocks) {
		peer_opts po = Ts();
		po.sack = blocks;
		return Seg(TCP_FLAG_ACK, peer_seq, our_seq, "", 2000, po);
	};
	// A D-SACK below the ACK and a block beyond what was sent: no loss.
	In(sack_ack({ { our_seq - 100, our_seq }, { our_seq + 20 * mss, our_seq + 21 * mss } }));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(c->sb_sacked, 0u);
	EXPECT_EQ(tcp.stats.dsacks_in, 1u);
	// Segment 0 lost; 1..4 arrived, reported by one ACK.
	In(sack_ack({ { our_seq + mss, our_seq + 5 * mss } }));
	auto fr = Sent();
	ASSERT_EQ(fr.size(), 1u) << "one ACK SACKing four segments is a loss";
	EXPECT_EQ(fr[0].seg.seq, our_seq);
	EXPECT_EQ(fr[0].data, d.substr(0, mss));
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(tcp.stats.fast_retransmits, 1u);
	EXPECT_EQ(c->ssthresh, 5 * mss);
	// 5..8 arrive too: pipe is the resent segment and segment 9; PRR's
	// slow-start part lets cwnd back up to ssthresh.
	In(sack_ack({ { our_seq + mss, our_seq + 9 * mss } }));
	EXPECT_EQ(tcp_pipe(c), 2 * mss);
	EXPECT_EQ(c->cwnd, 5 * mss);
	EXPECT_TRUE(Sent().empty()) << "nothing lost, nothing new to send";
	In(Ack(our_seq + 10 * mss, 2000));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->sndq_bytes, 0u);
	EXPECT_EQ(c->sb_n, 0u);
	tcp_abort(c);
	Sent();
}

// Tail loss probe (RFC 8985 7): the last segments of a flight are lost, so no
// duplicate ACK can come. After 2 * SRTT (not the 200 ms RTO) the last
// segment goes again; its SACK shows the hole before it, and recovery starts
// at once with the hole resent.
TEST_F(TcpSack, Tlp_TailLost_ProbeAfterTwoSrtt_ItsSackStartsRecovery)
{
	struct tcp_conn *c = AcceptSack();
	ASSERT_NE(c, nullptr);
	const uint32_t mss = c->mss;
	// An RTT sample of 10 ms first.
	ASSERT_EQ(Write(c, Pattern(2 * mss, 1)), (int)(2 * mss));
	ASSERT_EQ(Sent().size(), 2u);
	clk.now += 10 * EX_NS_PER_MS;
	In(Ack(our_seq + 2 * mss, 2000));
	our_seq += 2 * mss;
	ASSERT_NE(c->srtt_us, 0u);
	// Four more; the last two are lost.
	std::string d = Pattern(4 * mss, 2);
	ASSERT_EQ(Write(c, d), (int)d.size());
	ASSERT_EQ(Sent().size(), 4u);
	In(Ack(our_seq + 2 * mss, 2000));
	Sent();
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TLP) << "a probe is armed";
	const uint64_t pto_ns = RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS);
	ASSERT_LT(2 * pto_ns, 200 * EX_NS_PER_MS) << "the probe must come well before the RTO";
	Advance(pto_ns - EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "not before 2 * SRTT";
	Advance(2 * EX_NS_PER_MS);
	out_seg p = One();
	EXPECT_EQ(p.seg.seq, our_seq + 3 * mss) << "the last segment again";
	EXPECT_EQ(p.data, d.substr(3 * mss, mss));
	EXPECT_EQ(tcp.stats.tlp_probes, 1u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	// The peer SACKs the probe an RTT later: segment 2, sent before the
	// probe and not SACKed with it, is lost (RACK), resent at once.
	clk.now += 10 * EX_NS_PER_MS;
	peer_opts po = Ts();
	po.sack = { { our_seq + 3 * mss, our_seq + 4 * mss } };
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 2 * mss, "", 2000, po));
	auto fr = Sent();
	ASSERT_GE(fr.size(), 1u) << "the probe's SACK starts recovery";
	EXPECT_EQ(fr[0].seg.seq, our_seq + 2 * mss);
	EXPECT_EQ(fr[0].data, d.substr(2 * mss, mss));
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(tcp.stats.tlp_recoveries, 1u);
	In(Ack(our_seq + 4 * mss, 2000));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->sndq_bytes, 0u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	tcp_abort(c);
	Sent();
}

// Without SACK there is no probe: the RTO as before.
TEST_F(TcpSack, Tlp_NotWithoutSack)
{
	struct tcp_conn *c = Accept();
	const uint32_t mss = c->mss;
	ASSERT_EQ(Write(c, Pattern(2 * mss, 1)), (int)(2 * mss));
	Sent();
	clk.now += 10 * EX_NS_PER_MS;
	In(Ack(our_seq + mss, 2000));
	Sent();
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_TLP);
	Advance(100 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.tlp_probes, 0u);
	tcp_abort(c);
	Sent();
}
