// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for loss recovery as a SACK sender (tcp_recovery.c): the
// scoreboard, RACK's reordering window and its timer (RFC 8985 6), lost
// retransmissions found without an RTO, PRR's arithmetic (RFC 6937), an RTO
// that resends only what was not SACKed (and everything when the peer
// reneged), and undo by D-SACK and by Eifel detection (RFC 3522). The peer
// is scripted segment by segment over an injected clock; every figure below
// comes from the RFCs' formulas.
#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "tcp_fixture.h"

namespace
{

using Blocks = std::vector<std::pair<uint32_t, uint32_t>>;

class TcpRecovery : public TcpTest
{
      protected:
	struct tcp_conn *c = nullptr;
	uint32_t mss = 0;

	// An established SACK connection with timestamps; the handshake's RTT
	// sample (0 ms, taken as 500 us) is its min_rtt. NewReno, whose
	// ssthresh (half the flight) the RFCs' examples use; CUBIC's tests
	// switch.
	void SetUp() override
	{
		TcpTest::SetUp();
		c = Accept(true, 7, 1460, true);
		ASSERT_NE(c, nullptr);
		ASSERT_TRUE(c->flags & TCP_CONN_FLAG_SACK);
		ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_NEWRENO), 0);
		mss = c->mss;
		ASSERT_EQ(c->min_rtt_us, 500u);
	}

	void TearDown() override
	{
		if (c != nullptr)
			tcp_abort(c);
		Sent();
		TcpTest::TearDown();
	}

	// Write n segments and return what went out.
	std::vector<out_seg> Send(uint32_t n, unsigned seed = 1)
	{
		std::string d = Pattern((size_t)n * mss, seed);
		EXPECT_EQ(Write(c, d), (int)d.size());
		return Sent();
	}

	// An ACK of our_seq + ack_segs segments carrying SACK blocks given in
	// segments from our_seq.
	std::vector<uint8_t> SackAck(uint32_t ack_segs,
			std::vector<std::pair<uint32_t, uint32_t>> blocks, uint32_t tsecr = 0)
	{
		peer_opts po = Ts();
		if (tsecr != 0)
			po.tsecr = tsecr;
		for (auto &b : blocks)
			po.sack.emplace_back(our_seq + b.first * mss, our_seq + b.second * mss);
		return Seg(TCP_FLAG_ACK, peer_seq, our_seq + ack_segs * mss, "", 2000, po);
	}

	uint32_t Seq(uint32_t segs) const
	{
		return our_seq + segs * mss;
	}

	// Let the timer run until the RTO fires (a tail loss probe may come
	// first); what was sent before it is dropped, what it sent is left.
	void ToRto()
	{
		const uint64_t n = tcp.stats.rto_timeouts;
		for (int i = 0; i < 4 && tcp.stats.rto_timeouts == n; i++) {
			Sent();
			Advance(1000 * EX_NS_PER_MS);
		}
		ASSERT_EQ(tcp.stats.rto_timeouts, n + 1);
	}

	// The scoreboard covers SND.UNA..SND.MAX without gaps and its counters
	// are the sums of its marks.
	void ExpectConsistent()
	{
		uint32_t sacked = 0, lost = 0;
		const struct tcp_sb_ent *sb = tcp_sb(c);
		for (uint32_t i = 0; i < c->sb_n; i++) {
			EXPECT_EQ(sb[i].left, i == 0 ? c->snd_una : sb[i - 1].right) << i;
			if (sb[i].flags & TCP_SB_SACKED)
				sacked += sb[i].right - sb[i].left;
			if (sb[i].flags & TCP_SB_LOST)
				lost += sb[i].right - sb[i].left;
		}
		if (c->sb_n != 0) {
			EXPECT_EQ(sb[c->sb_n - 1].right, c->snd_max);
		}
		EXPECT_EQ(sacked, c->sb_sacked);
		EXPECT_EQ(lost, c->sb_lost);
	}
};

// One segment overtaken by the next: a single SACKed segment is below
// DupThresh, so RACK waits its reordering window (min_rtt / 4) before calling
// the hole lost. The late segment arrives within it: nothing is resent, and
// the connection now knows the path reorders.
TEST_F(TcpRecovery, Rack_OneSegmentReordered_NotResentWithinTheWindow_ReorderingLearned)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 2 } }));
	EXPECT_TRUE(Sent().empty()) << "one SACKed segment is not a loss yet";
	EXPECT_NE(c->reo_deadline, TCP_NO_DEADLINE) << "the reordering timer waits";
	EXPECT_LE(c->reo_deadline - clk.now, 125u * 1000) << "at most min_rtt / 4";
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_REORDER);
	clk.now += 50 * 1000;
	In(SackAck(2, {}));
	EXPECT_TRUE(Sent().empty());
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_REORDER) << "segment 0 came after segment 1";
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(tcp.stats.retransmits, 0u);
	Advance(EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "the timer finds nothing lost";
	EXPECT_EQ(tcp.stats.rack_lost, 0u);
}

// An ACK of segment 0 is lost; the next ACK covers 0..1 and SACKs 3 (2 is
// lost). Segment 0 reaches the sender's table "below" the SACK of 3 within
// the same ACK, but no earlier ACK had delivered anything above it: a lost
// ACK, not reordering. Judged against the SACK just read, the connection
// would learn reordering that never happened and widen RACK's window for
// every loss after (it did, in 5 % loss runs).
TEST_F(TcpRecovery, Rack_LostAckThenSack_NotReordering)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(1, {})); // segment 0 delivered, in order
	In(SackAck(3, { { 4, 5 } }));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_REORDER);
	// Segment 3 arrives late (one SACKed segment: RACK waits): below what an
	// earlier ACK delivered, that is reordering.
	Sent();
	In(SackAck(5, {}));
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_REORDER) << "segment 3 came after 4";
}

// The clock is read once per loop pass, so a retransmission and new data sent
// in the same pass share their send time; the order of sending decides which
// went first. New data sent after the retransmission and SACKed says the
// retransmission was lost (here at once: in recovery RACK's window is 0);
// new data sent before it says nothing about it.
TEST_F(TcpRecovery, Rack_SameInstant_OrderOfSendingDecides)
{
	ASSERT_EQ(Send(20).size(), 10u);
	clk.now += EX_NS_PER_MS;
	// 1..3 SACKed: 0 lost, resent; PRR lets one new segment (10) out after
	// it, in the same instant.
	In(SackAck(0, { { 1, 4 } }));
	auto v = Sent();
	ASSERT_GE(v.size(), 1u);
	ASSERT_EQ(v[0].seg.seq, Seq(0));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	const uint64_t lost = tcp.stats.rack_lost;
	// More arrive, and then segment 10 is SACKed with no time passing: it
	// left after the resend of 0, which is therefore lost again.
	In(SackAck(0, { { 1, 8 } }));
	v = Sent();
	uint32_t last_new = 0;
	for (auto &o : v)
		if (o.seg.seq != Seq(0))
			last_new = std::max(last_new, (o.seg.seq - our_seq) / mss + 1);
	ASSERT_GE(last_new, 11u) << "new data went out behind the resend";
	In(SackAck(0, { { 1, last_new } }));
	v = Sent();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0)) << "the resend, sent before SACKed data, is lost";
	EXPECT_EQ(tcp.stats.rack_lost, lost + 1);
	ExpectConsistent();
}

// ... and the other way round: new data, then in the same instant a resend of
// the hole; the new data is SACKed. The resend left after it: not lost.
TEST_F(TcpRecovery, Rack_SameInstant_ResendAfterNewData_NotLost)
{
	ASSERT_EQ(Send(20).size(), 10u);
	clk.now += EX_NS_PER_MS;
	// One SACKed segment: below DupThresh, RACK waits; the ACK lets new
	// data out (SACKed bytes leave the pipe).
	In(SackAck(0, { { 1, 2 } }));
	ASSERT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	Sent();
	// Two more: three SACKed, 0 is lost and resent - after the new data.
	In(SackAck(0, { { 1, 4 } }));
	auto v = Sent();
	ASSERT_FALSE(v.empty());
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	const uint64_t lost = tcp.stats.rack_lost, rtx = tcp.stats.retransmits;
	// Everything sent so far but 0 SACKed, in the same instant.
	uint32_t top = (c->snd_max - our_seq) / mss;
	In(SackAck(0, { { 1, top } }));
	for (auto &o : Sent())
		EXPECT_NE(o.seg.seq, Seq(0)) << "resent after the SACKed data: no evidence of loss";
	EXPECT_EQ(tcp.stats.rack_lost, lost);
	EXPECT_EQ(tcp.stats.retransmits, rtx);
	ExpectConsistent();
}

// The same hole, but the segment never comes: the reordering timer fires
// after the window and resends it - no three duplicates, no RTO needed.
TEST_F(TcpRecovery, Rack_ReorderWindowExpires_TimerResendsTheHole)
{
	auto first = Send(10);
	ASSERT_EQ(first.size(), 10u);
	// (Half a millisecond: the tail loss probe, 2 * SRTT after the flight,
	// is not due before the reordering timer.)
	clk.now += EX_NS_PER_MS / 2;
	In(SackAck(0, { { 1, 2 } }));
	EXPECT_TRUE(Sent().empty());
	Advance(100 * 1000);
	EXPECT_TRUE(Sent().empty()) << "not before the window has passed";
	Advance(100 * 1000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0));
	EXPECT_EQ(v[0].data, first[0].data);
	EXPECT_EQ(tcp.stats.rack_timeouts, 1u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	In(SackAck(10, {}));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->sb_n, 0u);
}

// RFC 6937's example shape: 20 segments queued, 10 in flight, segment 0 lost.
// Three SACKed segments make it lost (DupThresh); ssthresh = FlightSize / 2
// = 5 segments, RecoverFS = 10. While pipe > ssthresh, PRR lets out
// ceil(prr_delivered * ssthresh / RecoverFS) - prr_out: 1.5 segments after 3
// are delivered (the retransmission; half a segment is not sent alone), 2
// after 4 (one new segment).
TEST_F(TcpRecovery, Prr_ProportionalReduction_Rfc6937)
{
	ASSERT_EQ(Send(20).size(), 10u) << "the initial window";
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 4 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->ssthresh, 5 * mss);
	EXPECT_EQ(c->recover_fs, 10 * mss);
	EXPECT_EQ(c->prr_delivered, 3 * mss);
	EXPECT_EQ(c->cwnd, 6 * mss + (3 * mss * 5 + 9) / 10) << "pipe + sndcnt";
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0)) << "the hole first";
	EXPECT_EQ(c->prr_out, mss);
	clk.now += 100 * 1000;
	In(SackAck(0, { { 1, 5 } }));
	EXPECT_EQ(c->prr_delivered, 4 * mss);
	EXPECT_EQ(tcp_pipe(c), 7 * mss) << "the resent segment, 5..9 and the new one";
	v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(10)) << "new data: 2 - 1 segments allowed";
	EXPECT_EQ(c->prr_out, 2 * mss);
}

// The probe follows the tail (RFC 8985 7.2): a flight that began with one
// segment (whose PTO allows for a delayed ACK and so would not come before
// the RTO) gets its probe 2 * SRTT after its last segment, not the RTO.
TEST_F(TcpRecovery, Tlp_RearmedAsTheFlightGrows_ProbeBeforeTheRto)
{
	ASSERT_EQ(Send(1).size(), 1u);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_TLP) << "one segment: the RTO comes first";
	clk.now += 100 * 1000;
	ASSERT_EQ(Send(3).size(), 3u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TLP);
	Advance(3 * EX_NS_PER_MS);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(3)) << "the last segment again";
	EXPECT_EQ(tcp.stats.tlp_probes, 1u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
}

// Slow start counts the bytes an ACK delivers, SACKed ones included and
// without RFC 3465's 2-segment limit per ACK (as Linux): on a path that
// reorders, the cumulative ACK moves in rare jumps, and stretch ACKs (a GRO
// receiver's) cover many segments each.
TEST_F(TcpRecovery, SlowStart_GrowsByBytesDelivered_SackedIncluded)
{
	ASSERT_EQ(Send(40).size(), 10u);
	ASSERT_EQ(c->cwnd, 10 * mss);
	clk.now += EX_NS_PER_MS;
	// 1..2 SACKed (below DupThresh: no recovery), 0 not yet arrived.
	In(SackAck(0, { { 1, 3 } }));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->cwnd, 12 * mss) << "two segments delivered";
	Sent();
	// One stretch ACK for 0..9: eight more delivered (1..2 counted already).
	In(SackAck(10, {}));
	EXPECT_EQ(c->cwnd, 20 * mss);
}

// In fast recovery the ACKs stop: the last one of a small flight was lost,
// or the hole's resend was. RACK cannot find anything without ACKs; the probe
// goes after a PTO, not the RTO 200 ms later (RFC 8985 sends none in
// recovery; riptide does), and it resends the hole, which the peer answers at
// once whichever was lost. A probe that draws nothing is followed by another
// at twice the PTO, up to TCP_TLP_MAX (RFC 8985: one), before the RTO.
TEST_F(TcpRecovery, Tlp_InRecovery_WhenTheAcksStop_ProbesTheHoleAgainAtTwiceThePto)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 4 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	Sent();
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TLP) << "the probe is armed in recovery";
	const uint64_t pto = RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS);
	// No ACK at all now.
	Advance(pto + EX_NS_PER_MS / 2);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0)) << "the hole again, not the last segment";
	EXPECT_EQ(v[0].data.size(), mss);
	EXPECT_EQ(tcp.stats.tlp_probes, 1u);
	// The second probe waits twice the PTO from the first, the third four
	// times; then only the RTO.
	Advance(2 * pto - EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "not before twice the PTO";
	Advance(EX_NS_PER_MS + EX_NS_PER_MS / 2);
	v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0));
	EXPECT_EQ(tcp.stats.tlp_probes, 2u);
	Advance(4 * pto + EX_NS_PER_MS);
	EXPECT_EQ(Sent().size(), 1u);
	EXPECT_EQ(tcp.stats.tlp_probes, 3u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	Advance(100 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "TCP_TLP_MAX probes: the next silence is the RTO's";
	EXPECT_EQ(tcp.stats.tlp_probes, (uint64_t)TCP_TLP_MAX);
	// An ACK covering everything ends the episode, without an RTO.
	In(SackAck((c->snd_max - our_seq) / mss, {}));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->tlp_sent, 0u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
}

// On a path whose round trip is tens of microseconds the probe still waits
// TCP_PTO_MIN_NS: below it a peer's scheduling makes probes spurious.
TEST_F(TcpRecovery, Tlp_TinySrtt_ProbeWaitsTheFloor)
{
	c->srtt_us = 20; // as over memif
	ASSERT_EQ(Send(4).size(), 4u);
	Advance(TCP_PTO_MIN_NS - 50 * 1000);
	EXPECT_TRUE(Sent().empty()) << "not at 2 * SRTT (40 us)";
	Advance(100 * 1000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(3));
	EXPECT_EQ(tcp.stats.tlp_probes, 1u);
}

// Outside recovery the first probe is RFC 8985's, the last segment; when it
// draws no ACK the next resends the first unacknowledged segment, at twice
// the PTO. Each advance of SND.UNA gives a fresh set of probes, and after
// TCP_TLP_MAX unanswered ones the RTO comes as before.
TEST_F(TcpRecovery, Tlp_ProbeUnanswered_TheHeadNext_ThenTheRto)
{
	ASSERT_EQ(Send(4).size(), 4u);
	uint64_t pto = RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS);
	Advance(pto + EX_NS_PER_MS / 2);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(3)) << "the tail first";
	EXPECT_EQ(c->tlp_sent, 1u);
	// The ACK of 0 comes (late): SND.UNA moves, the count starts again and
	// the next probe is one PTO away, the tail again.
	In(SackAck(1, {}));
	EXPECT_EQ(c->tlp_sent, 0u);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	Sent();
	pto = RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS); // a new RTT sample
	Advance(pto - EX_NS_PER_MS / 2);
	EXPECT_TRUE(Sent().empty());
	Advance(EX_NS_PER_MS);
	v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(3));
	// Nothing answers now: the next probe, at twice the PTO, is the head;
	// so is the third, at four times.
	Advance(2 * pto - EX_NS_PER_MS / 2);
	EXPECT_TRUE(Sent().empty()) << "not before twice the PTO";
	Advance(EX_NS_PER_MS);
	v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(1)) << "then the head";
	Advance(4 * pto + EX_NS_PER_MS / 2);
	v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(1));
	EXPECT_EQ(tcp.stats.tlp_probes, 4u);
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	const uint64_t rto = (uint64_t)c->rto_us * 1000;
	Advance(rto - EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "TCP_TLP_MAX probes; the RTO counts from the last";
	Advance(2 * EX_NS_PER_MS);
	EXPECT_EQ(tcp.stats.rto_timeouts, 1u);
	v = Sent();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(1));
	EXPECT_EQ(tcp.stats.tlp_probes, 4u) << "no probe after an RTO";
}

// Recovery ends with everything acknowledged: cwnd is ssthresh (RFC 6937
// 3.1), not the little that was in flight at that moment - a window of two
// segments would make every lost ACK an RTO.
TEST_F(TcpRecovery, Prr_RecoveryEnds_CwndIsSsthresh)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 4 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	auto r = One();
	ASSERT_EQ(r.seg.seq, Seq(0));
	clk.now += EX_NS_PER_MS;
	In(SackAck(10, {}, r.seg.opts.tsval)); // the resend filled the hole
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->snd_una, c->snd_max) << "nothing in flight";
	EXPECT_EQ(c->cwnd, c->ssthresh);
	EXPECT_EQ(c->cwnd, 5 * mss);
}

// Below ssthresh PRR's slow-start part (PRR-SSRB) rebuilds the pipe, at most
// one segment beyond what was delivered per ACK.
TEST_F(TcpRecovery, Prr_BelowSsthresh_SlowStartReductionBound)
{
	ASSERT_EQ(Send(20).size(), 10u);
	clk.now += EX_NS_PER_MS;
	// Segments 0..4 lost, 5..9 SACKed in one ACK.
	In(SackAck(0, { { 5, 10 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	// pipe = 0 <= ssthresh (5): sndcnt = min(ssthresh - pipe,
	// max(prr_delivered - prr_out, delivered) + mss) = min(5, 6) segments.
	auto v = Sent();
	ASSERT_EQ(v.size(), 5u);
	for (uint32_t i = 0; i < 5; i++)
		EXPECT_EQ(v[i].seg.seq, Seq(i)) << "the holes in order";
	EXPECT_EQ(c->cwnd, 5 * mss);
}

// A retransmission lost too: data sent after it is SACKed, so RACK (sent
// before the newest delivered, more than an RTT ago) calls it lost again and
// resends it at once, where NewReno would wait for the RTO.
TEST_F(TcpRecovery, Rack_LostRetransmission_ResentWithoutRto)
{
	ASSERT_EQ(Send(20).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 5 } }));
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	ASSERT_EQ(v[0].seg.seq, Seq(0));
	// 5..9 arrive: PRR lets new segments out (sent after the resend).
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 10 } }));
	v = Sent();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(10));
	uint32_t news = (uint32_t)v.size();
	// The new segments are SACKed, the resent segment 0 is not: lost again.
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 10 + news } }));
	v = Sent();
	ASSERT_GE(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0)) << "the lost retransmission, again";
	EXPECT_EQ(tcp.stats.rto_timeouts, 0u);
	EXPECT_EQ(tcp.stats.fast_retransmits, 1u) << "one episode";
}

// An RTO with SACK information: every range not SACKed is lost and resent in
// order as the window opens; the SACKed ones are never sent again.
TEST_F(TcpRecovery, Rto_ResendsOnlyWhatWasNotSacked)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 4, 6 } }));
	Advance(200 * 1000); // the reordering window: 0..3 resent in recovery
	Sent();
	ToRto(); // nothing answered: a probe, then the RTO
	ASSERT_EQ(tcp.stats.rto_timeouts, 1u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_LOSS);
	EXPECT_EQ(c->cwnd, mss);
	EXPECT_EQ(c->sb_sacked, 2 * mss) << "what the peer SACKed stays SACKed";
	EXPECT_EQ(c->sb_lost, 7 * mss) << "the rest is lost (one resent already)";
	std::set<uint32_t> resent;
	uint32_t acked = 0, echo = 0;
	for (int round = 0; round < 20; round++) {
		auto v = Sent();
		if (v.empty())
			break;
		for (auto &s : v) {
			resent.insert((s.seg.seq - our_seq) / mss);
			echo = s.seg.opts.tsval; // the peer echoes what it got last
		}
		// The peer gets each resent segment; it still holds 4..5.
		for (auto &s : v) {
			if (s.seg.seq == Seq(acked))
				acked++;
			while (acked == 4 || acked == 5)
				acked++;
		}
		clk.now += EX_NS_PER_MS;
		In(SackAck(acked, acked < 6 ? Blocks{ { 4, 6 } } : Blocks{}, echo));
	}
	EXPECT_EQ(acked, 10u);
	EXPECT_EQ(c->sndq_bytes, 0u);
	EXPECT_EQ(resent.count(4), 0u) << "SACKed: not resent";
	EXPECT_EQ(resent.count(5), 0u) << "SACKed: not resent";
	for (uint32_t i : { 0u, 1u, 2u, 3u, 6u, 7u, 8u, 9u })
		EXPECT_EQ(resent.count(i), 1u) << "segment " << i;
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_LOSS);
}

// At the RTO the first unacknowledged range is SACKed: the peer threw away
// what it SACKed (reneging, RFC 2018 8). SACKs are forgotten; all is resent.
TEST_F(TcpRecovery, Rto_PeerReneged_EverythingResent)
{
	ASSERT_EQ(Send(4).size(), 4u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 0, 2 } }));
	EXPECT_EQ(c->sb_sacked, 2 * mss);
	ToRto();
	EXPECT_EQ(c->sb_sacked, 0u);
	EXPECT_EQ(c->sb_lost, 3 * mss) << "all but the one resent";
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	EXPECT_EQ(v[0].seg.seq, Seq(0));
}

// Reordering mistaken for loss: segment 0 was only late. The peer reports
// the retransmission as a duplicate (D-SACK); every retransmission of the
// episode was one, so the episode is undone: cwnd and ssthresh as before.
TEST_F(TcpRecovery, DsackUndo_SpuriousRecovery_WindowRestored)
{
	ASSERT_EQ(Send(10).size(), 10u);
	const uint32_t cwnd = c->cwnd, ssthresh = c->ssthresh;
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 5 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	auto r = One();
	ASSERT_EQ(r.seg.seq, Seq(0));
	ASSERT_LT(c->cwnd, cwnd);
	clk.now += EX_NS_PER_MS;
	// All acknowledged, segment 0 twice; the resend's TSval echoed, so only
	// the D-SACK tells (not Eifel).
	In(SackAck(10, { { 0, 1 } }, r.seg.opts.tsval));
	EXPECT_EQ(tcp.stats.dsacks_in, 1u);
	EXPECT_EQ(tcp.stats.undos, 1u);
	EXPECT_EQ(tcp.stats.spurious_recoveries, 0u);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_GE(c->cwnd, cwnd);
	EXPECT_EQ(c->ssthresh, ssthresh);
}

// A D-SACK for data that was never resent (the network duplicated it) is no
// reason to undo a real loss's reduction.
TEST_F(TcpRecovery, DsackOfUnrelatedData_NoUndo)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 5 } }));
	auto r = One();
	ASSERT_EQ(r.seg.seq, Seq(0));
	uint32_t reduced = c->ssthresh;
	clk.now += EX_NS_PER_MS;
	// The resent segment 0 arrives; segment 3 arrived twice (reported first).
	In(SackAck(10, { { 3, 4 } }, r.seg.opts.tsval));
	EXPECT_EQ(tcp.stats.dsacks_in, 1u);
	EXPECT_EQ(tcp.stats.undos, 0u);
	EXPECT_EQ(c->ssthresh, reduced);
}

// Eifel detection in fast recovery, as Linux applies it: the hole was filled
// by the late original (the ACK echoes its TSval, older than the resend's),
// so the episode is undone; filled by the resend (its TSval echoed), it
// stands.
TEST_F(TcpRecovery, Eifel_FastRecovery_LateOriginal_Undone)
{
	ASSERT_EQ(Send(10).size(), 10u);
	const uint32_t cwnd = c->cwnd;
	clk.now += 3 * EX_NS_PER_MS;
	In(SackAck(0, { { 1, 4 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	ASSERT_EQ(One().seg.seq, Seq(0));
	ASSERT_LT(c->cwnd, cwnd);
	clk.now += EX_NS_PER_MS;
	In(SackAck(10, {}, our_ts)); // echoes the first flight's TSval
	EXPECT_EQ(tcp.stats.spurious_recoveries, 1u);
	EXPECT_EQ(tcp.stats.undos, 1u);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_GE(c->cwnd, cwnd) << "the reduction is undone";
}

// A partial ACK echoing the late original undoes only once no resend is out.
TEST_F(TcpRecovery, Eifel_FastRecovery_PartialAck_WaitsForResends)
{
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += 3 * EX_NS_PER_MS;
	// 0 and 5 lost: 6..9 SACKed marks 5 lost too (RACK, sent before 6).
	In(SackAck(0, { { 1, 5 }, { 6, 10 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	auto v = Sent();
	ASSERT_GE(v.size(), 2u) << "both holes resent";
	clk.now += EX_NS_PER_MS;
	// The late original 0 arrives: 5's resend is still out, no undo yet.
	In(SackAck(5, { { 6, 10 } }, our_ts));
	EXPECT_EQ(tcp.stats.undos, 0u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
}

// A spurious RTO (the path stalled, nothing was lost): the first ACK after
// the timeout echoes a timestamp from before it, so it answers the original
// transmission (Eifel, RFC 3522). The window comes back (RFC 4015) and what
// the timeout deemed lost is not resent.
TEST_F(TcpRecovery, Eifel_SpuriousRto_UndoneNothingMoreResent)
{
	auto first = Send(10);
	ASSERT_EQ(first.size(), 10u);
	const uint32_t original_ts = first[0].seg.opts.tsval;
	const uint32_t cwnd = c->cwnd;
	ToRto();
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	ASSERT_GT(v[0].seg.opts.tsval, original_ts);
	clk.now += EX_NS_PER_MS;
	In(SackAck(5, {}, original_ts)); // the originals' ACK, late
	EXPECT_EQ(tcp.stats.spurious_rtos, 1u);
	EXPECT_EQ(tcp.stats.frto_undos, 0u)
			<< "Eifel's undo, from the timestamp, before F-RTO looks";
	EXPECT_EQ(tcp.stats.undos, 1u);
	EXPECT_GE(c->cwnd, cwnd) << "the window before the timeout (and its growth since)";
	EXPECT_EQ(c->sb_lost, 0u);
	EXPECT_TRUE(Sent().empty()) << "5..9 are in flight, not lost";
}

// The same RTO when the loss was real: the ACK echoes the retransmission's
// timestamp; no undo, the rest is resent as the window opens.
TEST_F(TcpRecovery, Eifel_RealLoss_NoUndo)
{
	ASSERT_EQ(Send(10).size(), 10u);
	ToRto();
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u);
	ASSERT_EQ(v[0].seg.seq, Seq(0));
	clk.now += EX_NS_PER_MS;
	In(SackAck(1, {}, v[0].seg.opts.tsval));
	EXPECT_EQ(tcp.stats.undos, 0u);
	EXPECT_EQ(c->cwnd, 2 * mss) << "slow start after the RTO";
	v = Sent();
	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].seg.seq, Seq(1));
	EXPECT_EQ(v[1].seg.seq, Seq(2));
}

// Every other segment SACKed: twice as many entries as holes. The table in
// the connection fills, the scoreboard moves to a big one from the stack's
// pool (counted) and every block is kept exactly; the big table goes back
// when everything is acknowledged.
TEST_F(TcpRecovery, Scoreboard_ManyHoles_BigTableFromThePool_GivenBack)
{
	c->cwnd = 64 * mss;
	ASSERT_EQ(Send(40).size(), 40u);
	Blocks odd;
	for (uint32_t i = 1; i < 40; i += 2)
		odd.emplace_back(i, i + 1);
	clk.now += EX_NS_PER_MS;
	// Three blocks an ACK beside timestamps; the sender keeps them all.
	for (size_t i = 0; i < odd.size(); i += 3)
		In(SackAck(0, Blocks(odd.begin() + i, odd.begin() + std::min(i + 3, odd.size()))));
	EXPECT_EQ(tcp.stats.sb_grown, 1u);
	EXPECT_NE(c->sb_big, nullptr);
	EXPECT_EQ(c->sb_sacked, 20 * mss) << "every block kept";
	EXPECT_GE(c->sb_n, 40u);
	ExpectConsistent();
	Sent();
	In(SackAck(40, {}));
	EXPECT_EQ(c->sb_n, 0u);
	EXPECT_EQ(c->sb_big, nullptr) << "given back to the pool";
	EXPECT_EQ(rte_mempool_in_use_count(tcp.sb_pool), 0u);
}

// The pool empty: the table in the connection merges neighbours closest in
// time to make room, and its counters stay the sums of its marks.
TEST_F(TcpRecovery, Scoreboard_PoolEmpty_Merges_CountersExact)
{
	std::vector<void *> all(rte_mempool_avail_count(tcp.sb_pool));
	ASSERT_EQ(rte_mempool_get_bulk(tcp.sb_pool, all.data(), (unsigned)all.size()), 0);
	c->cwnd = 64 * mss;
	for (uint32_t i = 0; i < 40; i++) {
		clk.now += (i % 3 + 1) * 1000;
		Send(1, i);
	}
	EXPECT_EQ(c->sb_big, nullptr);
	EXPECT_GE(tcp.stats.sb_pool_empty, 1u);
	EXPECT_LE(c->sb_n, (uint32_t)TCP_SB_INLINE);
	EXPECT_EQ(tcp_sb(c)[0].left, c->snd_una);
	EXPECT_EQ(tcp_sb(c)[c->sb_n - 1].right, c->snd_max);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 30, 31 }, { 20, 21 }, { 10, 11 } }));
	ExpectConsistent();
	EXPECT_EQ(c->sb_sacked, 3 * mss) << "room was made for each block";
	Sent();
	rte_mempool_put_bulk(tcp.sb_pool, all.data(), (unsigned)all.size());
}

// ---- congestion control (tcp_cc.c) ----

// CUBIC is the default; at a loss cwnd drops to beta = 0.7 of itself and
// W_max remembers where it was (RFC 9438 4.6).
TEST_F(TcpRecovery, Cubic_Default_LossCutsToSevenTenths)
{
	peer_conn other = AcceptFrom(40100);
	ASSERT_NE(other.c, nullptr);
	EXPECT_STREQ(other.c->cc_ops->name, "cubic") << "the stack's default";
	tcp_abort(other.c);
	Sent();
	ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_CUBIC), 0);
	ASSERT_EQ(Send(10).size(), 10u);
	clk.now += EX_NS_PER_MS;
	In(SackAck(0, { { 1, 4 } }));
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->ssthresh, (uint32_t)(10 * mss * 0.7));
	EXPECT_DOUBLE_EQ(c->cc.w_max, 10.0);
}

// The window's growth after a loss, against RFC 9438's formulas: W(t) =
// C (t - K)^3 + W_max with K = cbrt((W_max - cwnd) / C); an ACK of a whole
// window takes cwnd to W(t + RTT) (4.4-4.5) unless the Reno-friendly
// estimate W_est, grown by alpha = 3(1-beta)/(1+beta) per window, is above
// W(t) (4.3).
TEST_F(TcpRecovery, Cubic_WindowFollowsTheCurve_RenoFriendlyFirst)
{
	ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_CUBIC), 0);
	const double C = 0.4, beta = 0.7, alpha = 3 * (1 - beta) / (1 + beta);
	c->srtt_us = 10000;
	c->cwnd = 20 * mss;
	c->ssthresh = c->cc_ops->ssthresh(c); // a loss at 20 segments
	c->cwnd = c->ssthresh;
	ASSERT_EQ(c->cwnd, 14 * mss);
	const double K = std::cbrt((20.0 - 14.0) / C);
	auto W = [&](double t) { return C * (t - K) * (t - K) * (t - K) + 20.0; };
	auto segs = [&]() { return (double)c->cwnd / mss; };
	// t = 0: W(0) = 14 is below W_est = 14 + alpha: the Reno-friendly region.
	c->cc_ops->cong_avoid(c, c->cwnd);
	EXPECT_NEAR(segs(), 14.0 + alpha, 0.01);
	EXPECT_NEAR(c->cc.k, K, 1e-9);
	// t = K: W is back at W_max; one window acknowledged reaches W(K + RTT).
	Advance((uint64_t)(K * 1e9));
	c->cc_ops->cong_avoid(c, c->cwnd);
	EXPECT_NEAR(segs(), W(K + 0.01), 0.01);
	// t = K + 1 s: the convex region, probing above W_max.
	Advance(EX_NS_PER_S);
	c->cc_ops->cong_avoid(c, c->cwnd);
	EXPECT_NEAR(segs(), W(K + 1.01), 0.01);
	EXPECT_GT(segs(), 20.3);
	// A tenth of a window acknowledged moves a tenth of the way.
	Advance(EX_NS_PER_S);
	double before = segs(), target = W(K + 2.01);
	c->cc_ops->cong_avoid(c, c->cwnd / 10);
	EXPECT_NEAR(segs(), before + (target - before) / 10, 0.01);
}

// Fast convergence (RFC 9438 4.7): a loss below the last W_max leaves W_max
// lower still, (1 + beta) / 2 of the window, to make room for newer flows.
TEST_F(TcpRecovery, Cubic_FastConvergence)
{
	ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_CUBIC), 0);
	c->cwnd = 20 * mss;
	c->cc_ops->ssthresh(c);
	EXPECT_DOUBLE_EQ(c->cc.w_max, 20.0);
	c->cwnd = 16 * mss;
	c->cc_ops->ssthresh(c);
	EXPECT_DOUBLE_EQ(c->cc.w_max, 16.0 * 1.7 / 2);
}

// NewReno's congestion avoidance: one segment per window acknowledged.
TEST_F(TcpRecovery, NewReno_OneSegmentPerWindow)
{
	c->cwnd = 10 * mss;
	for (int i = 0; i < 9; i++)
		c->cc_ops->cong_avoid(c, mss);
	EXPECT_EQ(c->cwnd, 10 * mss);
	c->cc_ops->cong_avoid(c, mss);
	EXPECT_EQ(c->cwnd, 11 * mss);
	c->snd_max = c->snd_una + 12 * mss;
	EXPECT_EQ(c->cc_ops->ssthresh(c), 6 * mss) << "half the flight";
	c->snd_max = c->snd_una;
}

// The algorithm is chosen per stack (tcp_config.cc) and per connection, by
// value or by name; an unknown one is refused.
TEST_F(TcpRecovery, CongestionControl_ByName_PerConnection_UnknownRefused)
{
	enum tcp_cc cc;
	EXPECT_EQ(tcp_cc_by_name("newreno", &cc), 0);
	EXPECT_EQ(cc, TCP_CC_NEWRENO);
	EXPECT_EQ(tcp_cc_by_name("cubic", &cc), 0);
	EXPECT_EQ(cc, TCP_CC_CUBIC);
	EXPECT_EQ(tcp_cc_by_name("bbr", &cc), -EINVAL);
	EXPECT_STREQ(tcp_cc_name(TCP_CC_NEWRENO), "newreno");
	EXPECT_EQ(tcp_conn_set_cc(c, (enum tcp_cc)7), -EINVAL);
	EXPECT_STREQ(c->cc_ops->name, "newreno") << "unchanged";
	struct tcp_config bad;
	tcp_config_defaults(&bad);
	bad.cc = (enum tcp_cc)7;
	struct tcp_stack other;
	EXPECT_EQ(tcp_stack_init(&other, tcp.st, &bad), -EINVAL);
}

// HyStart++ (RFC 9406) in the first slow start of a connection with
// timestamps: a segment-by-segment peer that ACKs each segment `rtt` ms
// after it left, echoing its timestamp, so every ACK is an RTT sample.
class TcpHystart : public TcpRecovery
{
      protected:
	std::vector<out_seg> flight;

	// The send queue kept full, so every segment is a full one.
	void Fill()
	{
		std::string d = Pattern(16 * 1024, 5);
		while (Write(c, d) == (int)d.size()) {
		}
	}

	// One round: every segment in flight ACKed one by one, rtt_ms after
	// it left; what those ACKs let out is the next round's flight.
	void Round(uint32_t rtt_ms)
	{
		Fill();
		if (flight.empty())
			flight = Sent();
		clk.now += (uint64_t)rtt_ms * EX_NS_PER_MS;
		std::vector<out_seg> next;
		for (auto &s : flight) {
			peer_opts po = Ts();
			po.tsecr = s.seg.opts.tsval;
			In(Seg(TCP_FLAG_ACK, peer_seq, s.seg.seq + (uint32_t)s.data.size(), "",
					65535, po));
			for (auto &o : Sent())
				next.push_back(o);
			Fill();
		}
		flight = next;
	}

	uint32_t Segs() const
	{
		return c->cwnd / mss;
	}
};

// The RTT rises by 6 ms (more than 4 ms, an eighth of 20 ms being less) in
// the fourth round: slow start turns conservative after eight samples of it
// (a quarter of the growth: each ACK of a full segment adds mss / 4), and
// five rounds later congestion avoidance begins (ssthresh = cwnd), with no
// loss at all. (HyStart++'s rounds end when the data outstanding at their
// start is ACKed, a few ACKs off this peer's rounds.)
TEST_F(TcpHystart, RttRises_ConservativeThenCongestionAvoidance)
{
	Round(20);
	Round(20);
	Round(20);
	EXPECT_EQ(Segs(), 80u) << "plain slow start: doubling each round";
	EXPECT_EQ(c->hs.state, TCP_HS_SS);
	Round(26);
	EXPECT_EQ(tcp.stats.hystart_exits, 1u);
	EXPECT_EQ(c->hs.state, TCP_HS_CSS);
	EXPECT_LT(Segs(), 160u) << "not doubled";
	EXPECT_EQ(c->ssthresh, UINT32_MAX) << "still slow start, by a quarter";
	const uint32_t before = c->cwnd;
	const size_t acks = flight.size();
	Round(26);
	EXPECT_EQ(c->cwnd - before, acks * (mss / 4)) << "a quarter of a segment per ACK";
	int rounds = 1;
	while (c->hs.state == TCP_HS_CSS && rounds < 10) {
		Round(26);
		rounds++;
	}
	EXPECT_GE(rounds, 4) << "five of HyStart's rounds, the first begun in the exit round";
	EXPECT_LE(rounds, 5);
	EXPECT_EQ(tcp.stats.hystart_css_done, 1u);
	EXPECT_EQ(c->hs.state, TCP_HS_OFF);
	EXPECT_EQ(c->ssthresh, c->cwnd) << "congestion avoidance from here";
	const uint32_t ca = c->cwnd;
	Round(26);
	EXPECT_LE(c->cwnd - ca, 2 * mss) << "about a segment per round now";
	EXPECT_EQ(tcp.stats.retransmits, 0u);
}

// A rise that was noise: in the next round the RTT is back under the one
// that ended slow start, and slow start resumes at full growth.
TEST_F(TcpHystart, RttFallsBackInCss_SlowStartResumes)
{
	Round(20);
	Round(20);
	Round(20);
	Round(26);
	ASSERT_EQ(c->hs.state, TCP_HS_CSS);
	const uint32_t before = Segs();
	Round(20);
	EXPECT_EQ(tcp.stats.hystart_spurious, 1u);
	EXPECT_EQ(c->hs.state, TCP_HS_SS);
	EXPECT_GT(Segs(), before + (before - 8) / 4 + 8) << "full growth after the eighth sample";
	EXPECT_EQ(c->ssthresh, UINT32_MAX);
}

// A steady RTT, or a rise below the threshold (3 ms < 4 ms), leaves slow
// start alone; so does a loss, which ends HyStart++ for the connection.
TEST_F(TcpHystart, SmallRise_NoExit_LossEndsIt)
{
	Round(20);
	Round(20);
	Round(23);
	Round(23); // a whole HyStart round at 23 ms: 3 ms over the last one's 20
	EXPECT_EQ(tcp.stats.hystart_exits, 0u);
	EXPECT_EQ(Segs(), 160u);
	c->ssthresh = 40 * mss; // as a loss leaves it
	Round(40);
	EXPECT_EQ(c->hs.state, TCP_HS_OFF);
	EXPECT_EQ(tcp.stats.hystart_exits, 0u);
	flight.clear();
}

// F-RTO (RFC 5682 3.1) on connections without timestamps, where Eifel
// detection cannot tell a spurious timeout. Data waits behind a full window
// so that the test can send new data; no tail loss probe, so that the RTO is
// the first thing the silence brings.
class TcpFrto : public TcpTest
{
      protected:
	struct tcp_conn *c = nullptr;
	uint32_t mss = 0;

	void Configure(struct tcp_config &cfg) override
	{
		cfg.tlp = false;
	}

	void Open(bool sack)
	{
		c = Accept(false, 7, 1460, sack);
		ASSERT_NE(c, nullptr);
		ASSERT_FALSE(c->flags & TCP_CONN_FLAG_TS);
		ASSERT_EQ(!!(c->flags & TCP_CONN_FLAG_SACK), sack);
		ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_NEWRENO), 0);
		mss = c->mss;
		// Ten segments fill the initial window; four more wait.
		std::string d = Pattern((size_t)14 * mss, 3);
		ASSERT_EQ(Write(c, d), (int)d.size());
		ASSERT_EQ(Sent().size(), 10u);
		cwnd_before = c->cwnd;
	}

	void TearDown() override
	{
		if (c != nullptr)
			tcp_abort(c);
		Sent();
		TcpTest::TearDown();
	}

	uint32_t Seq(uint32_t segs) const
	{
		return our_seq + segs * mss;
	}

	// The peer's ACK of `segs` segments, no timestamp, SACK blocks in
	// segments.
	std::vector<uint8_t> PeerAck(uint32_t segs, Blocks blocks = {})
	{
		peer_opts po;
		for (auto &b : blocks)
			po.sack.emplace_back(Seq(b.first), Seq(b.second));
		return Seg(TCP_FLAG_ACK, peer_seq, Seq(segs), "", 2000, po);
	}

	// The RTO fires; @return the segment numbers it sent.
	std::vector<uint32_t> Rto()
	{
		for (int i = 0; i < 4 && tcp.stats.rto_timeouts == 0; i++)
			Advance(1000 * EX_NS_PER_MS);
		EXPECT_EQ(tcp.stats.rto_timeouts, 1u);
		return Numbers();
	}

	std::vector<uint32_t> Numbers()
	{
		std::vector<uint32_t> n;
		for (auto &s : Sent())
			if (!s.data.empty())
				n.push_back((s.seg.seq - our_seq) / mss);
		return n;
	}

	uint32_t cwnd_before = 0;
};

// The originals were only late (a delay spike longer than the RTO). Without
// SACK the first ACK after the resend is ambiguous: new data goes out
// instead of resends (step 2b), and the second ACK, which moves SND.UNA over
// data never sent again, shows the timeout spurious (step 3b): the window is
// restored and nothing else is resent.
TEST_F(TcpFrto, NoSack_LateOriginals_SecondAckUndoes)
{
	Open(false);
	EXPECT_EQ(Rto(), std::vector<uint32_t>{ 0 });
	EXPECT_EQ(c->cwnd, mss);
	clk.now += EX_NS_PER_MS;
	In(PeerAck(1));
	EXPECT_EQ(tcp.stats.frto_new_sent, 1u);
	EXPECT_EQ(Numbers(), (std::vector<uint32_t>{ 10, 11 })) << "new data, not 1 and 2";
	clk.now += EX_NS_PER_MS;
	In(PeerAck(3));
	EXPECT_EQ(tcp.stats.frto_undos, 1u);
	EXPECT_EQ(tcp.stats.spurious_rtos, 1u);
	EXPECT_GE(c->cwnd, cwnd_before) << "the window before the timeout";
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_LOSS);
	EXPECT_EQ(c->sb_lost, 0u);
	for (uint32_t n : Numbers())
		EXPECT_GE(n, 12u) << "3..9 are in flight, not lost: only new data goes";
}

// A real loss that the first ACK could pass for a late original: the peer
// held segment 1 above the lost 0, and lost 2 too. The ACK of 0..1 covers
// data never sent again, but without SACK that proves nothing yet; the new
// data's duplicate ACK shows the hole at 2 (step 3a): no undo, 2 is resent.
TEST_F(TcpFrto, NoSack_FirstAckCoversHeldData_HoleFoundNoUndo)
{
	Open(false);
	EXPECT_EQ(Rto(), std::vector<uint32_t>{ 0 });
	clk.now += EX_NS_PER_MS;
	In(PeerAck(2));
	EXPECT_EQ(tcp.stats.frto_undos, 0u);
	EXPECT_EQ(Numbers(), (std::vector<uint32_t>{ 10, 11 }));
	clk.now += EX_NS_PER_MS;
	In(PeerAck(2)); // 10 arrived: a duplicate ACK
	EXPECT_EQ(tcp.stats.undos, 0u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_LOSS);
	auto v = Numbers();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v[0], 2u) << "the hole is resent";
	EXPECT_EQ(c->cwnd, 3 * mss) << "RFC 5682 3a: no more than three segments";
}

// With SACK the first ACK already tells: the cumulative ACK moves over data
// sent before the timeout that the peer had not SACKed and that was never
// sent again, so it arrived late, not lost. Undone at once.
TEST_F(TcpFrto, Sack_LateOriginals_FirstAckUndoes)
{
	Open(true);
	EXPECT_EQ(Rto(), std::vector<uint32_t>{ 0 });
	clk.now += EX_NS_PER_MS;
	In(PeerAck(4));
	EXPECT_EQ(tcp.stats.frto_undos, 1u);
	EXPECT_EQ(tcp.stats.frto_new_sent, 0u);
	EXPECT_GE(c->cwnd, cwnd_before);
	for (uint32_t n : Numbers())
		EXPECT_GE(n, 10u) << "4..9 are in flight: only new data goes";
}

// A real loss with SACK: everything after the resent segment was lost. The
// first ACK covers only the resend: new data goes out; the peer SACKs it
// above the hole (step 3a): no undo, the hole is resent next.
TEST_F(TcpFrto, Sack_NewDataSackedAboveTheHole_RealLoss)
{
	Open(true);
	EXPECT_EQ(Rto(), std::vector<uint32_t>{ 0 });
	clk.now += EX_NS_PER_MS;
	In(PeerAck(1));
	EXPECT_EQ(Numbers(), (std::vector<uint32_t>{ 10, 11 }));
	clk.now += EX_NS_PER_MS;
	In(PeerAck(1, { { 10, 11 } }));
	EXPECT_EQ(tcp.stats.undos, 0u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_LOSS);
	auto v = Numbers();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v[0], 1u) << "the hole is resent";
}

// Switched off (tcp_config.frto), the ACK of the resend lets the next two
// lost segments go, as after any RTO.
class TcpFrtoOff : public TcpFrto
{
	void Configure(struct tcp_config &cfg) override
	{
		cfg.tlp = false;
		cfg.frto = false;
	}
};

TEST_F(TcpFrtoOff, ResendsAfterTheFirstAck)
{
	Open(false);
	EXPECT_EQ(Rto(), std::vector<uint32_t>{ 0 });
	clk.now += EX_NS_PER_MS;
	In(PeerAck(1));
	EXPECT_EQ(tcp.stats.frto_new_sent, 0u);
	EXPECT_EQ(Numbers(), (std::vector<uint32_t>{ 1, 2 }));
}

} // namespace
