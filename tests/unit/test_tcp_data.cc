// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for TCP's data path (tcp_input.c, tcp_rcvq.c, tcp_output.c, tcp_timer.c,
// tcp_sock.c): zero-copy receive, delayed ACKs,
// reassembly of overlapping out-of-order segments, sequence wraparound,
// RTO (RFC 6298) and backoff, NewReno recovery with scripted losses,
// zero-window probes, window updates, Nagle, bounded memory, user timeout,
// and one connection forwarded into another through stream and sink.
#include <algorithm>
#include <random>

#include <rte_ethdev.h>

#include "tcp_fixture.h"

namespace
{

// A tx path whose queue is the frames the stack sent that the test has not
// taken yet (Sent() drains it): room while it holds fewer than `limit`
// (negative: always room), as a PMD's queue; counts the times it said no.
struct FakeTxPath {
	const std::vector<struct rte_mbuf *> *queue;
	long limit = -1;
	uint32_t refusals = 0;
};

bool
fake_tx_room(void *arg, const struct ex_waker *)
{
	auto *p = static_cast<FakeTxPath *>(arg);

	if (p->limit < 0 || (long)p->queue->size() < p->limit)
		return true;
	p->refusals++;
	return false;
}

class TcpData : public TcpTest
{
      protected:
	// Three connections from the peer's ports base..base+2, each accepted,
	// behind `path`, which then refuses everything (limit 0). False if one
	// was not accepted.
	bool ThreeBehindAFullPath(FakeTxPath *path, peer_conn (&p)[3], uint16_t base)
	{
		stack_set_tx_room(&st, fake_tx_room, path);
		for (uint16_t i = 0; i < 3; i++) {
			p[i] = AcceptFrom((uint16_t)(base + i));
			if (p[i].c == nullptr)
				return false;
		}
		EXPECT_TRUE(Sent().empty());
		path->limit = 0;
		return true;
	}

	// Advance s seconds in steps the peer's ARP entry outlives (60 s), the
	// peer refreshing it after each; what was sent meanwhile.
	std::vector<out_seg> Wait(uint64_t s)
	{
		std::vector<out_seg> all;
		while (s > 0) {
			uint64_t step = RTE_MIN(s, (uint64_t)30);
			Advance(step * EX_NS_PER_S);
			auto v = Sent();
			all.insert(all.end(), v.begin(), v.end());
			LearnPeer();
			s -= step;
		}
		return all;
	}

      protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		tcp.tx_chains = true; // as on a port with multi-segment tx
	}

	// The bytes of a run of sent segments, in order of sequence.
	static std::string Bytes(const std::vector<out_seg> &v)
	{
		std::string s;
		for (auto &o : v)
			s += o.data;
		return s;
	}
};

TEST_F(TcpData, Receive_ZeroCopy_PayloadStaysInItsMbuf)
{
	struct tcp_conn *c = Accept();
	auto f = Data("zero copy payload");
	struct rte_mbuf *m = Frame(f.data(), f.size());
	void *buf = m->buf_addr;
	stack_input(&st, m);
	stack_rx_burst_end(&st);
	struct tcp_recv r;
	tcp_recv_init(&r, c, 0);
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	ASSERT_EQ(r.base.result, 17);
	EXPECT_EQ(r.m, m); // the very mbuf that arrived
	EXPECT_EQ(r.m->buf_addr, buf);
	EXPECT_EQ(std::string(rte_pktmbuf_mtod(r.m, char *), 17), "zero copy payload");
	rte_pktmbuf_free(r.m);
	Sent();
	tcp_abort(c);
}

TEST_F(TcpData, DelayedAck_OneSegmentWaits_SecondFullSegmentAckedAtOnce)
{
	struct tcp_conn *c = Accept();
	In(Data(std::string(1448, 'a')));
	EXPECT_TRUE(Sent().empty()); // delayed
	Advance(39 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty());
	Advance(2 * EX_NS_PER_MS);
	EXPECT_EQ(One().seg.ack, peer_seq); // bounded delay: 40 ms
	In(Data(std::string(1448, 'b')));
	EXPECT_TRUE(Sent().empty());
	In(Data(std::string(1448, 'c')));
	EXPECT_EQ(One().seg.ack, peer_seq); // every second full segment
	EXPECT_EQ(ReadAll(c).size(), 3u * 1448);
	Sent();
	tcp_abort(c);
}

// Stretch ACKs: the ACK owed every second segment waits for the end of the
// rx burst, one for all the burst brought (as GRO makes Linux do); a segment
// out of order is still answered at once, and with stretch_acks off every
// second segment is.
TEST_F(TcpData, StretchAcks_OneAckPerBurst_OutOfOrderAtOnce)
{
	struct tcp_conn *c = Accept();
	std::vector<std::vector<uint8_t>> burst;
	for (int i = 0; i < 8; i++)
		burst.push_back(Data(std::string(1448, (char)('a' + i))));
	InBurst(burst);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u) << "one ACK for eight segments";
	EXPECT_EQ(v[0].seg.ack, peer_seq);
	EXPECT_EQ(tcp.stats.burst_acks, 1u);
	// A hole, then data beyond it in one burst: the duplicate ACK goes at
	// once (the sender's loss detection waits for it).
	uint32_t hole = peer_seq;
	peer_seq += 1448;
	InBurst({ Data(std::string(1448, 'x')), Data(std::string(1448, 'y')) });
	v = Sent();
	ASSERT_EQ(v.size(), 2u) << "each out-of-order segment answered";
	EXPECT_EQ(v[0].seg.ack, hole);
	// The hole filled: at once as well.
	In(Seg(TCP_FLAG_ACK, hole, our_seq, std::string(1448, 'w'), 502, Ts()));
	EXPECT_EQ(One().seg.ack, peer_seq);
	EXPECT_EQ(ReadAll(c).size(), 11u * 1448);
	Sent(); // window updates
	// Off: every second segment, as RFC 1122 has it.
	tcp.cfg.stretch_acks = false;
	burst.clear();
	for (int i = 0; i < 8; i++)
		burst.push_back(Data(std::string(1448, 'z')));
	InBurst(burst);
	EXPECT_EQ(Sent().size(), 4u);
	ReadAll(c);
	tcp_abort(c);
}

// A connection owed an ACK at the end of the burst that is reset within the
// burst is gone from the list: the end of the burst sends nothing for it.
TEST_F(TcpData, StretchAcks_ResetWithinTheBurst_NothingSent)
{
	struct tcp_conn *c = Accept();
	auto d1 = Data(std::string(1448, 'a'));
	auto d2 = Data(std::string(1448, 'b'));
	auto rst = Seg(TCP_FLAG_RST | TCP_FLAG_ACK, peer_seq, our_seq, "", 502, Ts());
	InBurst({ d1, d2, rst });
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(c->state, TCP_STATE_CLOSED);
	EXPECT_TRUE(tcp_link_empty(&tcp.ack_conns));
	ReadAll(c);
	tcp_abort(c);
}

TEST_F(TcpData, OutOfOrder_OverlappingSegments_ReassembledExactly)
{
	struct tcp_conn *c = Accept();
	std::string d = Pattern(1000);
	uint32_t base = peer_seq;
	auto piece = [&](uint32_t off, uint32_t len) {
		In(Seg(TCP_FLAG_ACK, base + off, our_seq, d.substr(off, len), 502, Ts()));
	};
	piece(300, 200); // [300,500)
	out_seg dup = One();
	EXPECT_EQ(dup.seg.ack, base); // a duplicate ACK at once
	piece(400, 300); // overlaps its end: [400,700)
	piece(350, 100); // inside what is held
	piece(800, 200); // another island [800,1000)
	piece(650, 200); // bridges [650,850)
	Sent();
	EXPECT_EQ(ReadAll(c), "");
	piece(0, 350); // fills the hole: everything is in order now
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, base + 1000); // acknowledged at once (a hole filled)
	EXPECT_EQ(ReadAll(c), d);
	EXPECT_EQ(c->ooo_segs, 0);
	EXPECT_EQ(c->ooo_head, nullptr);
	tcp_abort(c);
}

TEST_F(TcpData, OutOfOrder_FinBeforeHole_DeliveredAfterIt)
{
	struct tcp_conn *c = Accept();
	uint32_t base = peer_seq;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_FIN, base + 5, our_seq, "world", 502, Ts()));
	EXPECT_EQ(c->state, TCP_STATE_ESTABLISHED);
	In(Seg(TCP_FLAG_ACK, base, our_seq, "hello", 502, Ts()));
	EXPECT_EQ(c->state, TCP_STATE_CLOSE_WAIT);
	auto v = Sent();
	EXPECT_EQ(v.back().seg.ack, base + 11);
	EXPECT_EQ(ReadAll(c), "helloworld");
	tcp_abort(c);
}

TEST_F(TcpData, SequenceWraparound_BothDirections)
{
	peer_seq = 0xffffff00u;
	struct tcp_conn *c = Accept();
	// Move our own sequence space to just below 2^32 too.
	uint32_t s = 0xffffff80u;
	c->iss = s - 1;
	c->snd_una = c->snd_nxt = c->snd_max = c->snd_wl2 = c->recover = s;
	c->snd_end = s;
	our_seq = s;
	std::string in = Pattern(1000, 2), outd = Pattern(3000, 3);
	In(Data(in.substr(0, 600)));
	In(Data(in.substr(600)));
	EXPECT_TRUE(tcp_seq_lt(0xffffff00u, c->rcv_nxt));
	EXPECT_EQ(c->rcv_nxt, 0xffffff01u + 1000); // wrapped
	EXPECT_EQ(ReadAll(c), in);
	Sent();
	EXPECT_EQ(Write(c, outd), 3000);
	auto v = Sent();
	EXPECT_EQ(Bytes(v), outd);
	EXPECT_EQ(v[0].seg.seq, s);
	In(Ack(s + 3000));
	EXPECT_EQ(c->snd_una, s + 3000);
	EXPECT_EQ(c->sndq_bytes, 0u);
	tcp_abort(c);
}

TEST_F(TcpData, Send_InitialWindowThenAckClocked_PayloadIntact)
{
	struct tcp_conn *c = Accept();
	std::string d = Pattern(40000, 4);
	EXPECT_EQ(Write(c, d), 40000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 10u); // RFC 6928: ten segments
	for (auto &o : v)
		EXPECT_EQ(o.data.size(), 1448u);
	std::string got = Bytes(v);
	In(Ack(our_seq + (uint32_t)got.size(), 2000)); // 2000 << 7 = 256000 bytes
	auto w = Sent();
	got += Bytes(w);
	EXPECT_EQ(w.size(), 12u); // slow start, RFC 3465 L = 2: one ACK grows cwnd by 2 MSS
	In(Ack(our_seq + (uint32_t)got.size(), 2000));
	got += Bytes(Sent());
	EXPECT_EQ(got, d);
	EXPECT_TRUE(v.back().seg.flags & TCP_FLAG_ACK);
	In(Ack(our_seq + 40000));
	EXPECT_EQ(c->sndq_bytes, 0u);
	EXPECT_EQ(tcp.stats.bytes_out, 40000u);
	tcp_abort(c);
}

// TSO (issue 14 item 5): on a port that cuts segments, new data leaves in
// segments of whole MSSes up to what cwnd and the window allow, each marked
// for the PMD (TCP_SEG, tso_segsz = MSS, header lengths, the pseudo-header
// sum without a length: checked by Sent()); the end of the data may be a
// part MSS; a window's odd bytes wait, as without TSO; a retransmission is
// one MSS.
TEST_F(TcpData, Tso_NewDataInWholeMsses_TailShort_RetransmissionOneMss)
{
	st.cfg.tx_offloads |= RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			      RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	tcp.tso_max = tcp_tso_max(&tcp.cfg, st.cfg.tx_offloads);
	ASSERT_EQ(tcp.tso_max, TCP_TSO_MAX);
	struct tcp_conn *c = Accept();
	ASSERT_EQ(c->mss, 1448u);
	std::string d = Pattern(40000, 9);
	EXPECT_EQ(Write(c, d), 40000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 1u) << "the initial window in one segment";
	EXPECT_EQ(v[0].data.size(), 10u * 1448);
	EXPECT_EQ(v[0].tso_segsz, 1448u);
	EXPECT_EQ(tcp.stats.tso_out, 1u);
	EXPECT_EQ(tcp.stats.tso_wire_segs, 10u);
	std::string got = v[0].data;

	// Nothing acknowledged: the timeout resends one MSS, not the TSO segment.
	Advance((uint64_t)c->rto_us * 1000 + 1000);
	auto r = Sent();
	ASSERT_EQ(r.size(), 1u);
	EXPECT_EQ(r[0].seg.seq, our_seq);
	EXPECT_EQ(r[0].data, d.substr(0, 1448));
	EXPECT_EQ(r[0].tso_segsz, 0u) << "a retransmission is one ordinary segment";

	// All of it acknowledged, the peer's window 3584 bytes (28 << 7: 2.47
	// MSS): two MSSes go, the 688 odd bytes wait for more window.
	In(Ack(our_seq + (uint32_t)got.size(), 28));
	auto w = Sent();
	ASSERT_EQ(w.size(), 1u);
	EXPECT_EQ(w[0].data.size(), 2u * 1448);
	EXPECT_EQ(w[0].tso_segsz, 1448u);
	got += w[0].data;

	// A wide window and cwnd: the rest, 22624 bytes (15.6 MSS) at the end of
	// the data, goes as far as cwnd allows; the last piece may be short.
	for (int i = 0; i < 8 && got.size() < d.size(); i++) {
		In(Ack(our_seq + (uint32_t)got.size(), 2000));
		for (auto &o : Sent()) {
			EXPECT_EQ(o.seg.seq, our_seq + (uint32_t)got.size());
			if (o.data.size() > 1448) {
				EXPECT_EQ(o.tso_segsz, 1448u);
				if (got.size() + o.data.size() < d.size()) {
					EXPECT_EQ(o.data.size() % 1448, 0u)
							<< "not the end: whole MSSes";
				}
			}
			got += o.data;
		}
	}
	EXPECT_EQ(got, d);
	In(Ack(our_seq + 40000, 2000));
	EXPECT_EQ(c->sndq_bytes, 0u);
	tcp_abort(c);
}

// TSO needs the port's TSO, its TCP checksum and chains, and the config's
// tso; without any of them segments stay one MSS.
TEST_F(TcpData, Tso_OnlyWhereThePortCutsAndTheConfigAllows)
{
	const uint64_t all = RTE_ETH_TX_OFFLOAD_TCP_TSO | RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
			     RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	struct tcp_config cfg = tcp.cfg;
	EXPECT_TRUE(cfg.tso) << "on by default";
	EXPECT_EQ(tcp_tso_max(&cfg, all), TCP_TSO_MAX);
	EXPECT_EQ(tcp_tso_max(&cfg, all & ~(uint64_t)RTE_ETH_TX_OFFLOAD_TCP_TSO), 0u);
	EXPECT_EQ(tcp_tso_max(&cfg, all & ~(uint64_t)RTE_ETH_TX_OFFLOAD_TCP_CKSUM), 0u);
	EXPECT_EQ(tcp_tso_max(&cfg, all & ~(uint64_t)RTE_ETH_TX_OFFLOAD_MULTI_SEGS), 0u);
	cfg.tso = false;
	EXPECT_EQ(tcp_tso_max(&cfg, all), 0u);
	EXPECT_LE(TCP_TSO_MAX + 20 + 60, 65535u) << "an IPv4 length holds the largest";

	ASSERT_EQ(tcp.tso_max, 0u) << "the fixture's port has no TSO";
	struct tcp_conn *c = Accept();
	EXPECT_EQ(Write(c, Pattern(20000, 3)), 20000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 10u);
	for (auto &o : v) {
		EXPECT_EQ(o.data.size(), 1448u);
		EXPECT_EQ(o.tso_segsz, 0u);
	}
	EXPECT_EQ(tcp.stats.tso_out, 0u);
	tcp_abort(c);
}

TEST_F(TcpData, Send_NoChainPort_PayloadCopiedAndCounted)
{
	tcp.tx_chains = false;
	struct tcp_conn *c = Accept();
	std::string d = Pattern(3000, 5);
	EXPECT_EQ(Write(c, d), 3000);
	auto v = Sent();
	EXPECT_EQ(Bytes(v), d);
	EXPECT_EQ(tcp.stats.tx_copied, 2u); // the 104-byte tail is copied on any port
	tcp_abort(c);
}

TEST_F(TcpData, RtoComputation_Rfc6298)
{
	struct tcp_conn *c = Accept();
	c->srtt_us = 0;
	tcp_rtt_sample(c, 100000); // first: SRTT = R, RTTVAR = R/2
	EXPECT_EQ(c->srtt_us, 100000u);
	EXPECT_EQ(c->rttvar_us, 50000u);
	EXPECT_EQ(c->rto_us, 300000u); // SRTT + 4*RTTVAR
	tcp_rtt_sample(c, 60000); // RTTVAR = 3/4*50000 + 1/4*40000; SRTT = 7/8*100000 + 1/8*60000
	EXPECT_EQ(c->rttvar_us, 47500u);
	EXPECT_EQ(c->srtt_us, 95000u);
	EXPECT_EQ(c->rto_us, 285000u);
	for (int i = 0; i < 50; i++)
		tcp_rtt_sample(c, 1000);
	EXPECT_EQ(c->rto_us, 200000u); // clamped to the configured minimum
	tcp_abort(c);
}

TEST_F(TcpData, Rto_RetransmitsWithBackoff_KarnSkipsSample_BackoffKeptUntilASample)
{
	struct tcp_conn *c = Accept(false); // no timestamps: Karn's rule applies
	c->srtt_us = 0;
	c->rto_us = 1000000;
	EXPECT_EQ(Write(c, "lost once"), 9);
	EXPECT_EQ(One().data, "lost once");
	Advance(1001 * EX_NS_PER_MS);
	out_seg r1 = One();
	EXPECT_EQ(r1.data, "lost once");
	EXPECT_EQ(r1.seg.seq, our_seq);
	Advance(1999 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()); // backed off to 2 s
	Advance(2 * EX_NS_PER_MS);
	EXPECT_EQ(One().data, "lost once");
	EXPECT_EQ(c->cwnd, c->mss); // loss window after a timeout
	EXPECT_EQ(tcp.stats.rto_timeouts, 2u);
	In(Ack(our_seq + 9, 502, false));
	EXPECT_EQ(c->srtt_us, 0u); // an ACK of a retransmission is no RTT sample
	// ... so the backed-off RTO stays (review L2: reset on a sample only):
	// new data waits 4 s before its first retransmission, not 1 s.
	EXPECT_EQ(c->backoff, 2);
	EXPECT_EQ(Write(c, "fresh"), 5);
	EXPECT_EQ(One().data, "fresh");
	Advance(3900 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty());
	In(Ack(our_seq + 14, 502, false)); // timed: a sample, the backoff goes
	EXPECT_GT(c->srtt_us, 0u);
	EXPECT_EQ(c->backoff, 0);
	tcp_abort(c);
}

TEST_F(TcpData, UserTimeout_UnansweredData_AliveBeforeDeadAfter_ETIMEDOUT)
{
	struct tcp_conn *c = Accept();
	tcp_set_user_timeout(c, 3000);
	EXPECT_EQ(Write(c, "anyone?"), 7);
	for (int i = 0; i < 29; i++)
		Advance(100 * EX_NS_PER_MS);
	Sent();
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED) << "2.9 s: not yet";
	for (int i = 0; i < 2; i++)
		Advance(100 * EX_NS_PER_MS);
	Sent();
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSED) << "3.1 s: the data waited 3 s";
	EXPECT_EQ(tcp_conn_error(c), -ETIMEDOUT);
	EXPECT_EQ(Write(c, "x"), -ETIMEDOUT);
	tcp_close(c);
}

TEST_F(TcpData, NewReno_ScriptedLosses_FastRetransmitPartialAckRecovery)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(tcp_conn_set_cc(c, TCP_CC_NEWRENO), 0);
	const uint32_t mss = c->mss;
	std::string d = Pattern(10 * mss, 6);
	EXPECT_EQ(Write(c, d), (int)d.size());
	auto v = Sent();
	ASSERT_EQ(v.size(), 10u);
	// Segments 2 and 5 (0-based) are lost. The peer acks 0-1, then sends
	// duplicate ACKs for each later segment that arrives.
	In(Ack(our_seq + 2 * mss, 2000));
	Sent();
	In(Ack(our_seq + 2 * mss, 2000));
	In(Ack(our_seq + 2 * mss, 2000));
	EXPECT_TRUE(Sent().empty());
	In(Ack(our_seq + 2 * mss, 2000)); // the third duplicate
	auto fr = Sent();
	ASSERT_GE(fr.size(), 1u);
	EXPECT_EQ(fr[0].seg.seq, our_seq + 2 * mss); // fast retransmit of the hole
	EXPECT_EQ(fr[0].data, d.substr(2 * mss, mss));
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_EQ(c->ssthresh, 4 * mss); // FlightSize (8 segments) / 2
	EXPECT_EQ(tcp.stats.fast_retransmits, 1u);
	// Partial ACK up to the second hole: it is resent at once.
	In(Ack(our_seq + 5 * mss, 2000));
	auto pa = Sent();
	ASSERT_GE(pa.size(), 1u);
	EXPECT_EQ(pa[0].seg.seq, our_seq + 5 * mss);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	// Full ACK: recovery ends, cwnd deflates to at most ssthresh.
	In(Ack(our_seq + 10 * mss, 2000));
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_RECOVERY);
	EXPECT_LE(c->cwnd, c->ssthresh);
	EXPECT_EQ(c->sndq_bytes, 0u);
	tcp_abort(c);
}

// Limited Transmit (RFC 3042): with more to send than cwnd allows, the first
// and second duplicate ACKs each send one new segment; the third starts fast
// retransmit. In recovery, every duplicate ACK inflates cwnd by one segment,
// the first three after a partial ACK too (review L1).
TEST_F(TcpData, LimitedTransmit_ThenEveryDupAckInRecoveryInflates)
{
	struct tcp_conn *c = Accept();
	const uint32_t mss = c->mss;
	std::string d = Pattern(16 * mss, 8);
	EXPECT_EQ(Write(c, d), (int)d.size());
	ASSERT_EQ(Sent().size(), 10u); // the initial window
	In(Ack(our_seq + mss, 2000)); // segment 1 lost
	ASSERT_EQ(Sent().size(), 2u); // slow start: cwnd 11, one acked
	In(Ack(our_seq + mss, 2000));
	auto a = Sent();
	ASSERT_EQ(a.size(), 1u) << "the first duplicate ACK sends a new segment";
	EXPECT_EQ(a[0].seg.seq, our_seq + 12 * mss);
	In(Ack(our_seq + mss, 2000));
	auto b = Sent();
	ASSERT_EQ(b.size(), 1u) << "so does the second";
	EXPECT_EQ(b[0].seg.seq, our_seq + 13 * mss);
	In(Ack(our_seq + mss, 2000)); // the third: fast retransmit
	auto fr = Sent();
	ASSERT_GE(fr.size(), 1u);
	EXPECT_EQ(fr[0].seg.seq, our_seq + mss);
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	In(Ack(our_seq + 3 * mss, 2000)); // partial: segment 3 lost too
	Sent();
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_RECOVERY);
	for (int k = 0; k < 3; k++) {
		uint32_t before = c->cwnd;
		In(Ack(our_seq + 3 * mss, 2000));
		EXPECT_EQ(c->cwnd, before + mss)
				<< "duplicate ACK " << k + 1 << " after the partial ACK";
	}
	Sent();
	tcp_abort(c);
}

TEST_F(TcpData, ZeroWindow_PersistProbesBackOff_WindowOpens)
{
	struct tcp_conn *c = Accept();
	c->rto_us = 1000000;
	In(Ack(our_seq, 0)); // the peer's window closes
	EXPECT_EQ(Write(c, "waiting"), 7);
	EXPECT_TRUE(Sent().empty());
	ASSERT_TRUE(c->flags & TCP_CONN_FLAG_PERSIST);
	Advance(1001 * EX_NS_PER_MS);
	out_seg p = One();
	EXPECT_EQ(p.seg.len, 0u);
	EXPECT_EQ(p.seg.seq, our_seq - 1); // a probe the peer must answer
	In(Ack(our_seq, 0));
	Advance(1001 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()); // backed off
	Advance(1001 * EX_NS_PER_MS);
	EXPECT_EQ(One().seg.len, 0u);
	EXPECT_EQ(tcp.stats.persist_probes, 2u);
	In(Ack(our_seq, 100)); // open
	EXPECT_EQ(One().data, "waiting");
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_PERSIST);
	tcp_abort(c);
}

// ---- small queues (stack_set_tx_room) ----

// TCP small queues: while the tx path says it is full (a PMD queue that
// refuses, deep behind), a connection sends no new data and no timer fires
// for it; the ACK it owes the peer still goes. When the path has room again
// (stack_tx_resume, which the rx pump calls when the path wakes it) it goes
// on where it stopped: every byte once, in order, nothing resent.
TEST_F(TcpData, SmallQueues_FullTxPathHoldsNewData_AcksStillGo_ResumesInOrder)
{
	FakeTxPath path{ &out };
	stack_set_tx_room(&st, fake_tx_room, &path);
	struct tcp_conn *c = Accept();
	std::string d = Pattern(40000, 6);
	path.limit = 3;
	EXPECT_EQ(Write(c, d), 40000);
	auto v = Sent();
	ASSERT_EQ(v.size(), 3u) << "three segments, then the path is full";
	EXPECT_EQ(tcp.stats.tsq_throttled, 1u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TSQ);
	std::string got = Bytes(v);
	path.limit = 0; // taken from the test's queue, but the PMD's is still full

	// The peer acknowledges them (cwnd grows) and sends two segments: only
	// the ACK of its data leaves.
	In(Ack(our_seq + (uint32_t)got.size(), 2000));
	EXPECT_TRUE(Sent().empty()) << "new data into a full path";
	InBurst({ Data(std::string(1448, 'x')), Data(std::string(1448, 'y')) });
	out_seg a = One();
	EXPECT_EQ(a.seg.len, 0u);
	EXPECT_EQ(a.seg.ack, peer_seq);
	EXPECT_TRUE(Wait(5).empty()) << "no probe or retransmission while it waits";
	EXPECT_GE(path.refusals, 2u);

	path.limit = -1;
	stack_tx_resume(&st);
	EXPECT_EQ(tcp.stats.tsq_resumed, 1u);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_TSQ);
	for (int i = 0; i < 20 && got.size() < d.size(); i++) {
		auto w = Sent();
		ASSERT_FALSE(w.empty()) << "stalled at " << got.size();
		EXPECT_EQ(w[0].seg.seq, our_seq + (uint32_t)got.size()) << "where it stopped";
		got += Bytes(w);
		In(Ack(our_seq + (uint32_t)got.size(), 2000));
	}
	EXPECT_EQ(got, d);
	EXPECT_EQ(tcp.stats.retransmits, 0u);
	stack_tx_resume(&st); // nothing waits: nothing happens
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.tsq_resumed, 1u);
	tcp_abort(c);
}

// A retransmission into a full path would only be lost again: the RTO's
// resend waits for room like new data, and goes first when it comes.
TEST_F(TcpData, SmallQueues_TimeoutsResendWaitsForRoomToo)
{
	FakeTxPath path{ &out };
	stack_set_tx_room(&st, fake_tx_room, &path);
	struct tcp_conn *c = Accept();
	c->rto_us = 1000000;
	EXPECT_EQ(Write(c, Pattern(3000, 9)), 3000);
	EXPECT_EQ(Sent().size(), 3u);
	path.limit = 0;
	Advance(1001 * EX_NS_PER_MS);
	EXPECT_EQ(tcp.stats.rto_timeouts, 1u);
	EXPECT_TRUE(Sent().empty()) << "resent into a full path";
	EXPECT_EQ(tcp.stats.tsq_throttled, 1u);
	path.limit = -1;
	stack_tx_resume(&st);
	out_seg r = One();
	EXPECT_EQ(r.seg.seq, our_seq);
	EXPECT_EQ(tcp.stats.retransmits, 1u);
	tcp_abort(c);
}

// Connections wait for room in the order they stopped, and one that goes
// (reset by its peer) while it waits leaves the list: the others resume,
// it sends nothing.
TEST_F(TcpData, SmallQueues_WaitersResumeInOrder_AResetOneLeavesTheList)
{
	FakeTxPath path{ &out };
	peer_conn p[3];
	ASSERT_TRUE(ThreeBehindAFullPath(&path, p, 41000));
	for (auto &pc : p)
		EXPECT_EQ(Write(pc.c, Pattern(3000, pc.port)), 3000);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.tsq_throttled, 3u);
	In(Seg(TCP_FLAG_RST, p[1].seq, 0, "", 0, peer_opts(), p[1].port));
	EXPECT_EQ(p[1].c->state, TCP_STATE_CLOSED);
	EXPECT_FALSE(p[1].c->flags & TCP_CONN_FLAG_TSQ);

	path.limit = 2; // the first waiter's three segments do not all fit
	stack_tx_resume(&st);
	auto v = Sent();
	ASSERT_EQ(v.size(), 2u);
	for (auto &o : v)
		EXPECT_EQ(o.seg.dport, p[0].port) << "the first to stop goes first";
	path.limit = -1;
	stack_tx_resume(&st);
	std::vector<uint16_t> order;
	for (auto &o : Sent())
		if (order.empty() || order.back() != o.seg.dport)
			order.push_back(o.seg.dport);
	EXPECT_EQ(order, (std::vector<uint16_t>{ p[2].port, p[0].port }))
			<< "the one that ran out again waits behind the rest";
	EXPECT_EQ(tcp.tsq_head, 0u);
	EXPECT_EQ(tcp.tsq_tail, 0u);
	for (auto &pc : p)
		tcp_abort(pc.c);
}

// While the tx path refuses, a connection's first ACK still goes and the
// ones after it wait as one: sent when room comes back, acknowledging all
// that came meanwhile, or carried by a data segment that goes first. An ACK
// per rx burst would fill the path's buffer behind a queue that takes
// nothing, and what did not fit would be dropped. The next refusal lets
// one through again.
TEST_F(TcpData, SmallQueues_OneAckPerRefusal_LaterOnesWaitAsOne)
{
	FakeTxPath path{ &out };
	stack_set_tx_room(&st, fake_tx_room, &path);
	struct tcp_conn *c = Accept();
	std::string x(1448, 'x');
	path.limit = 0;
	InBurst({ Data(x), Data(x) });
	out_seg a = One();
	EXPECT_EQ(a.seg.len, 0u);
	EXPECT_EQ(a.seg.ack, peer_seq) << "the refusal's first ACK goes";
	for (int i = 0; i < 5; i++)
		InBurst({ Data(x), Data(x) });
	EXPECT_TRUE(Sent().empty()) << "a second ACK into the same refusal";
	EXPECT_EQ(tcp.stats.acks_deferred, 5u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TSQ);

	path.limit = -1;
	stack_tx_resume(&st);
	out_seg b = One();
	EXPECT_EQ(b.seg.len, 0u);
	EXPECT_EQ(b.seg.ack, peer_seq) << "one ACK for all that came meanwhile";
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_TSQ);
	stack_tx_resume(&st);
	EXPECT_TRUE(Sent().empty()) << "sent once";

	// The next refusal: its first ACK goes; one waits, and the reply that
	// leaves first when room comes carries it.
	path.limit = 0;
	InBurst({ Data(x), Data(x) });
	EXPECT_EQ(One().seg.ack, peer_seq);
	InBurst({ Data(x), Data(x) });
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Write(c, "reply"), 5);
	EXPECT_TRUE(Sent().empty());
	path.limit = -1;
	stack_tx_resume(&st);
	out_seg d = One();
	EXPECT_EQ(d.data, "reply");
	EXPECT_EQ(d.seg.ack, peer_seq) << "the reply carried the ACK that waited";
	EXPECT_EQ(tcp.stats.acks_deferred, 6u);
	std::string got = ReadAll(c);
	EXPECT_EQ(got.size(), 16u * 1448) << "every byte kept";
	EXPECT_EQ(got.find_first_not_of('x'), std::string::npos);
	tcp_abort(c);
}

// One ACK per refusal is each connection's: three connections each send
// their first, and each its one that waited when room comes back.
TEST_F(TcpData, SmallQueues_OneAckPerRefusal_EachConnectionItsOwn)
{
	FakeTxPath path{ &out };
	peer_conn p[3];
	ASSERT_TRUE(ThreeBehindAFullPath(&path, p, 42000));
	std::string x(1460, 'x'); // full-sized (no timestamps): two owe an ACK
	auto data = [&](peer_conn &pc) {
		auto f = Seg(TCP_FLAG_ACK, pc.seq, pc.ack, x, 64240, peer_opts(), pc.port);
		pc.seq += (uint32_t)x.size();
		return f;
	};
	for (int round = 0; round < 3; round++) {
		std::vector<std::vector<uint8_t>> burst;
		for (auto &pc : p) {
			burst.push_back(data(pc));
			burst.push_back(data(pc));
		}
		InBurst(burst);
		std::map<uint16_t, int> acks;
		for (auto &o : Sent())
			acks[o.seg.dport]++;
		if (round == 0)
			EXPECT_EQ(acks, (std::map<uint16_t, int>{ { 42000, 1 }, { 42001, 1 },
							{ 42002, 1 } }));
		else
			EXPECT_TRUE(acks.empty()) << "round " << round;
	}
	path.limit = -1;
	stack_tx_resume(&st);
	std::map<uint16_t, uint32_t> acked;
	for (auto &o : Sent()) {
		EXPECT_EQ(o.seg.len, 0u);
		EXPECT_EQ(acked.count(o.seg.dport), 0u) << "two ACKs to " << o.seg.dport;
		acked[o.seg.dport] = o.seg.ack;
	}
	for (auto &pc : p)
		EXPECT_EQ(acked[pc.port], pc.seq) << pc.port;
	for (auto &pc : p)
		tcp_abort(pc.c);
}

class TcpSmallBuf : public TcpData
{
	void Configure(struct tcp_config &c) override
	{
		c.rcv_buf = c.rcv_buf_max = 8192; // fixed: no autotuning
		c.snd_buf = c.snd_buf_max = 4096;
	}
};

TEST_F(TcpSmallBuf, ReceiveWindow_ClosesWhenFull_UpdateAfterRead)
{
	struct tcp_conn *c = Accept(true, 7, 1460);
	std::string d = Pattern(8192, 7);
	for (uint32_t off = 0; off < 8192; off += 1024)
		In(Data(d.substr(off, 1024)));
	Advance(50 * EX_NS_PER_MS); // the delayed ACK
	auto v = Sent();
	ASSERT_FALSE(v.empty());
	EXPECT_EQ(v.back().seg.wnd, 0); // nothing free
	// More data is beyond the window: not taken.
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "x", 502, Ts()));
	EXPECT_EQ(One().seg.ack, peer_seq);
	EXPECT_EQ(ReadAll(c), d);
	auto u = Sent(); // window updates as the reads free the buffer
	ASSERT_FALSE(u.empty());
	EXPECT_EQ(u.back().seg.wnd, 8192);
	EXPECT_EQ(u.back().seg.ack, peer_seq);
	tcp_abort(c);
}

// With the window still open, a small read must not move the right edge a
// few bytes at a time: RFC 1122 4.2.3.3 counts how far the edge advances,
// not how much is free (review L14). A read of an MSS or more moves it.
TEST_F(TcpSmallBuf, ReceiveSws_OpenWindow_RightEdgeDoesNotCreep)
{
	struct tcp_conn *c = Accept(true, 7, 1460);
	std::string d = Pattern(6000, 4);
	for (uint32_t off = 0; off < 6000; off += 1000)
		In(Data(d.substr(off, 1000)));
	Advance(50 * EX_NS_PER_MS);
	Sent();
	uint32_t edge = c->rcv_adv;
	ASSERT_GT(edge - c->rcv_nxt, 0u); // open: 2192 bytes
	char b[1500];
	struct tcp_read r;
	tcp_read_init(&r, c, b, 100);
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	In(Data("0123456789")); // the ACK it earns carries the window
	Advance(50 * EX_NS_PER_MS);
	Sent();
	EXPECT_EQ(c->rcv_adv, edge) << "moved by a 100-byte read";
	tcp_read_init(&r, c, b, 1500);
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	In(Data("0123456789"));
	Advance(50 * EX_NS_PER_MS);
	Sent();
	EXPECT_GE(c->rcv_adv - edge, 1460u) << "a read of an MSS moves it";
	tcp_abort(c);
}

// A FIN at a closed window is taken (its special allowance); RCV.NXT then
// must not pass the advertised edge, or the window reads as 2^32 - 1 and
// almost any sequence number is acceptable (review L7) until an ACK goes
// out. Here that ACK finds no mbuf: the FIN comes in an mbuf of another pool
// while the stack's own is empty.
TEST_F(TcpSmallBuf, FinAtClosedWindow_AdvertisedEdgeFollows)
{
	struct tcp_conn *c = Accept(true, 7, 1460);
	std::string d = Pattern(8192, 3);
	for (uint32_t off = 0; off < 8192; off += 1024)
		In(Data(d.substr(off, 1024)));
	Advance(50 * EX_NS_PER_MS);
	Sent();
	ASSERT_EQ(c->rcv_nxt, c->rcv_adv); // shut
	struct rte_mempool *other = rte_pktmbuf_pool_create(
			"l7_fin", 7, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	ASSERT_NE(other, nullptr);
	std::vector<struct rte_mbuf *> taken;
	while (struct rte_mbuf *m = rte_pktmbuf_alloc(pool))
		taken.push_back(m);
	auto f = Data("", TCP_FLAG_FIN);
	struct rte_mbuf *fm = rte_pktmbuf_alloc(other);
	ASSERT_NE(fm, nullptr);
	std::memcpy(rte_pktmbuf_append(fm, (uint16_t)f.size()), f.data(), f.size());
	stack_input(&st, fm);
	stack_rx_burst_end(&st);
	EXPECT_EQ(c->state, TCP_STATE_CLOSE_WAIT);
	EXPECT_TRUE(out.empty()) << "the ACK found no mbuf";
	EXPECT_EQ(tcp.stats.tx_nombuf, 1u) << "and is counted (review L17)";
	EXPECT_TRUE(tcp_seq_geq(c->rcv_adv, c->rcv_nxt))
			<< "rcv_adv " << c->rcv_adv << " rcv_nxt " << c->rcv_nxt;
	for (auto *m : taken)
		rte_pktmbuf_free(m);
	EXPECT_EQ(rte_mempool_in_use_count(other), 0u);
	rte_mempool_free(other);
	EXPECT_EQ(ReadAll(c), d);
	Sent();
	tcp_abort(c);
}

// Receiver silly-window avoidance (RFC 1122 4.2.3.3): a read that frees less
// than min(buffer/2, MSS) does not open a closed window, not even in the ACK
// that answers a window probe; a read that frees two segments' worth sends
// the update at once.
TEST_F(TcpSmallBuf, ReceiveSws_SmallReadKeepsWindowShut_LargerReadOpensIt)
{
	struct tcp_conn *c = Accept(true, -1, 1460); // no scaling: the field is bytes
	std::string d = Pattern(8192, 9);
	for (uint32_t off = 0; off < 8192; off += 1024)
		In(Data(d.substr(off, 1024)));
	Advance(50 * EX_NS_PER_MS);
	auto v = Sent();
	ASSERT_FALSE(v.empty());
	ASSERT_EQ(v.back().seg.wnd, 0);
	std::string buf(8192, '\0');
	struct tcp_read r;
	tcp_read_init(&r, c, buf.data(), 500); // 500 < min(8192 / 2, 1460)
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 500);
	EXPECT_TRUE(Sent().empty());
	// The peer probes the zero window: the answer still offers nothing.
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "x", 502, Ts()));
	out_seg probe_ack = One();
	EXPECT_EQ(probe_ack.seg.ack, peer_seq);
	EXPECT_EQ(probe_ack.seg.wnd, 0) << "a 500-byte window offered: a silly window";
	tcp_read_init(&r, c, buf.data() + 500, 2500); // 3,000 free: two segments and more
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 2500);
	auto u = Sent();
	EXPECT_FALSE(u.empty()) << "the window opened without a word";
	EXPECT_EQ(u.empty() ? 0 : u.back().seg.wnd, 3000);
	EXPECT_EQ(buf.substr(0, 3000), d.substr(0, 3000));
	tcp_abort(c);
	Sent();
}

// Sender silly-window avoidance (RFC 1122 4.2.3.4): with more queued than the
// peer's window takes, a window-limited segment goes only if it is at least
// half the largest window the peer has offered.
TEST_F(TcpData, SendSws_SmallOfferedWindow_NoTinySegment_FullWindowSends)
{
	struct tcp_conn *c = Accept(); // the peer scales by 7: a field of 4 is 512 bytes
	In(Ack(our_seq, 4));
	std::string d = Pattern(3000, 10);
	EXPECT_EQ(Write(c, d), 3000);
	for (const out_seg &o : Sent())
		EXPECT_EQ(o.seg.len, 0u) << "sent " << o.seg.len << " bytes into a 512-byte window";
	In(Ack(our_seq, 502));
	std::string got = Bytes(Sent());
	EXPECT_EQ(got, d);
	tcp_abort(c);
}

// The stall of 100 MB echoes with receive autotuning on: the peer's data
// had a hole; its out-of-order segments (higher SEG.SEQ, an old ACK and the
// window of then) set SND.WL1; the retransmission that filled the hole acked
// our data and offered a smaller window, but its lower SEG.SEQ failed RFC
// 793's WL1 test, so the old window was counted from the new SND.UNA and we
// sent past the peer's right edge. An ACK that moves SND.UNA carries the
// peer's latest window and is taken (as Linux's tcp_may_update_window).
TEST_F(TcpData, HoleFilledByAnAckingSegment_ItsWindowTaken_NothingSentPastIt)
{
	struct tcp_conn *c = Accept(); // the peer scales by 7
	ASSERT_EQ(Write(c, Pattern(3000, 31)), 3000);
	Sent();
	// Out of order: 100 bytes past a 100-byte hole, our data not yet acked,
	// a window of 502 << 7.
	In(Seg(TCP_FLAG_ACK, peer_seq + 100, our_seq, Pattern(100, 32), 502, Ts()));
	Sent();
	// The hole filled: all 3000 acked, and a window of 8 << 7 = 1024 now.
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 3000, Pattern(100, 33), 8, Ts()));
	EXPECT_EQ(c->snd_wnd, 1024u);
	Sent();
	ASSERT_EQ(Write(c, Pattern(5000, 34)), 5000);
	for (const out_seg &o : Sent())
		EXPECT_FALSE(tcp_seq_gt(o.seg.seq + o.seg.len, our_seq + 3000 + 1024))
				<< "sent " << o.seg.seq + o.seg.len - (our_seq + 3000 + 1024)
				<< " bytes past the peer's right edge";
	tcp_abort(c);
	Sent();
}

// A peer short of memory moved its right edge back below what we had sent
// (RFC 9293 3.8.6: a sender must cope). Our ACKs (and a reset) carry that
// edge as their sequence number, not SND.NXT: the peer drops a segment
// outside its window unread, ACK field and all, and with its own data
// unacknowledged both sides would wait for ever.
TEST_F(TcpData, PeerShrankItsWindow_AcksAndResetCarryItsRightEdge)
{
	struct tcp_conn *c = Accept(); // the peer scales by 7
	ASSERT_EQ(Write(c, Pattern(3000, 35)), 3000);
	Sent();
	In(Ack(our_seq, 4)); // 512 bytes: its edge is 2488 below what we sent
	ASSERT_EQ(c->snd_wnd, 512u);
	Sent();
	// Out-of-order data is acknowledged at once.
	In(Seg(TCP_FLAG_ACK, peer_seq + 100, our_seq, Pattern(100, 36), 4, Ts()));
	out_seg a = One();
	EXPECT_EQ(a.seg.len, 0u);
	EXPECT_EQ(a.seg.seq, our_seq + 512) << "an ACK outside the peer's window";
	EXPECT_EQ(a.seg.ack, peer_seq);
	// The window opens again past what was sent: SND.NXT once more.
	In(Ack(our_seq, 502));
	Sent();
	In(Seg(TCP_FLAG_ACK, peer_seq + 300, our_seq, Pattern(100, 37), 502, Ts()));
	a = One();
	EXPECT_EQ(a.seg.seq, our_seq + 3000);
	// Shut (from where the peer's sequence now is: past its last segment,
	// so SND.WL1 lets it through): only SND.UNA is in its window.
	In(Seg(TCP_FLAG_ACK, peer_seq + 400, our_seq, "", 0, Ts()));
	ASSERT_EQ(c->snd_wnd, 0u);
	tcp_abort(c);
	a = One();
	EXPECT_TRUE(a.seg.flags & TCP_FLAG_RST);
	EXPECT_EQ(a.seg.seq, our_seq);
}

TEST_F(TcpSmallBuf, SendBuffer_Full_WriteWaitsThenResumes)
{
	struct tcp_conn *c = Accept();
	std::string d = Pattern(10000, 8);
	struct tcp_write w;
	tcp_write_init(&w, c, d.data(), (uint32_t)d.size());
	EXPECT_EQ(ex_future_poll(&w.base, &cx), EX_PENDING);
	EXPECT_EQ(w.done, 4096u);
	EXPECT_EQ(tcp_send_space(c), 0u);
	std::string got = Bytes(Sent());
	while (got.size() < d.size()) {
		In(Ack(our_seq + (uint32_t)got.size(), 2000));
		ex_future_poll(&w.base, &cx);
		got += Bytes(Sent());
	}
	EXPECT_TRUE(ex_future_is_done(&w.base));
	EXPECT_EQ(w.base.result, 10000);
	EXPECT_EQ(got, d);
	tcp_abort(c);
}

TEST_F(TcpData, Nagle_On_SmallSegmentWaitsForAck)
{
	struct tcp_conn *c = Accept();
	tcp_set_nodelay(c, false);
	EXPECT_EQ(Write(c, "a"), 1);
	EXPECT_EQ(One().data, "a");
	EXPECT_EQ(Write(c, "b"), 1);
	EXPECT_EQ(Write(c, "c"), 1);
	EXPECT_TRUE(Sent().empty()); // one small segment in flight
	In(Ack(our_seq + 1));
	EXPECT_EQ(One().data, "bc");
	tcp_abort(c);
}

TEST_F(TcpData, TinySegments_PackedIntoFewMbufs)
{
	struct tcp_conn *c = Accept();
	std::string all;
	for (int i = 0; i < 500; i++) {
		std::string one(1, (char)('a' + i % 26));
		all += one;
		In(Data(one));
	}
	Sent();
	EXPECT_LE(c->rcvq_segs, 2); // not 500 mbufs for 500 bytes
	EXPECT_GE(tcp.stats.rcv_packed, 498u);
	EXPECT_EQ(ReadAll(c), all);
	tcp_abort(c);
}

TEST_F(TcpData, OutOfOrderQueue_Bounded)
{
	struct tcp_conn *c = Accept();
	const uint32_t max = tcp_ooo_max(c);
	EXPECT_EQ(max, 256u); // 256 KiB of 1 KiB segments
	for (uint32_t i = 0; i < max + 20; i++)
		In(Seg(TCP_FLAG_ACK, peer_seq + 10 + 20 * i, our_seq, "0123456789", 502, Ts()));
	Sent();
	EXPECT_EQ(c->ooo_segs, max);
	EXPECT_EQ(Drops(STACK_DROP_TCP_OOO_FULL), 20u);
	tcp_abort(c);
}

// Out-of-order data beyond the peer's FIN was never part of its stream: the
// FIN in sequence purges it (as Linux's tcp_fin()), the reader gets the bytes
// before the FIN and then EOF. Found by the stack fuzzer: the queue kept an
// element below RCV.NXT once the FIN had advanced it.
TEST_F(TcpData, FinInSequence_OutOfOrderDataBeyondItPurged)
{
	struct tcp_conn *c = Accept();
	In(Seg(TCP_FLAG_ACK, peer_seq + 21, our_seq, "after-the-fin", 502, Ts()));
	EXPECT_EQ(c->ooo_segs, 1u);
	std::string d(20, 'd');
	In(Data(d, TCP_FLAG_FIN)); // FIN at peer_seq + 20, the queue starts at + 21
	EXPECT_EQ(c->state, TCP_STATE_CLOSE_WAIT);
	EXPECT_EQ(c->ooo_segs, 0u);
	EXPECT_EQ(c->ooo_head, nullptr);
	EXPECT_EQ(c->rcv_nxt, peer_seq);
	Sent();
	EXPECT_EQ(ReadAll(c), d);
	struct tcp_read r;
	char b[8];
	tcp_read_init(&r, c, b, sizeof(b));
	ASSERT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 0); // EOF
	tcp_abort(c);
}

// Bytes past the IP length that do not fit in the last segment of a chain
// (scatter RX with a long trailer: KEEP_CRC, padding, a crafted frame) are
// cut, whichever segment they start in; rte_pktmbuf_trim() alone left them,
// and they went into the stream while RCV.NXT moved by the IP length
// (review L4).
TEST_F(TcpData, ChainedFrame_TrailerLongerThanLastSegment_NotInTheStream)
{
	struct tcp_conn *c = Accept();
	auto f = Data("abcd");
	struct rte_mbuf *m = Frame(f.data(), f.size());
	ASSERT_NE(m, nullptr);
	std::memset(rte_pktmbuf_append(m, 10), 'T', 10);
	struct rte_mbuf *m2 = rte_pktmbuf_alloc(pool);
	ASSERT_NE(m2, nullptr);
	std::memset(rte_pktmbuf_append(m2, 20), 'T', 20);
	ASSERT_EQ(rte_pktmbuf_chain(m, m2), 0);
	stack_input(&st, m);
	stack_rx_burst_end(&st);
	EXPECT_EQ(c->rcv_nxt, peer_seq);
	EXPECT_EQ(c->rcvq_bytes, 4u);
	Sent();
	EXPECT_EQ(ReadAll(c), "abcd");
	tcp_abort(c);
}

// An ICMP error whose quoted header lies across two segments of a chain
// (header split, scatter RX) is read where it is: the quoted connection's
// MSS is lowered exactly as for a contiguous frame (review L18).
TEST_F(TcpData, IcmpFragNeeded_SplitAcrossSegments_ReadWhereItIs)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(Write(c, Pattern(3000, 5)), 3000);
	Sent();
	auto f = IcmpUnreach(4, kOurPort, kPeerPort, our_seq, 1000, 1500);
	const size_t cut = 14 + 20 + 8 + 6; // inside the quoted IP header
	struct rte_mbuf *m = Frame(f.data(), cut);
	struct rte_mbuf *m2 = Frame(f.data() + cut, f.size() - cut);
	ASSERT_NE(m, nullptr);
	ASSERT_NE(m2, nullptr);
	ASSERT_EQ(rte_pktmbuf_chain(m, m2), 0);
	stack_input(&st, m);
	stack_rx_burst_end(&st);
	EXPECT_EQ(tcp.stats.pmtu_lowered, 1u);
	EXPECT_EQ(c->mss, 1000u - 40 - 12);
	Sent();
	tcp_abort(c);
}

// Two pure duplicate ACKs of one burst, reordered on the way (TSval 102
// before 101): the older one is still a duplicate ACK, not a PAWS reject
// that costs an ACK and loses the signal (review L9). A segment with data
// and an old timestamp is still rejected.
TEST_F(TcpData, ReorderedPureDupAcks_NotRejectedByPaws)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(Write(c, Pattern(3000, 9)), 3000);
	Sent();
	peer_opts a = Ts(), b = Ts(); // b is newer
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "", 502, b));
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "", 502, a));
	EXPECT_EQ(tcp.stats.paws_rejected, 0u);
	EXPECT_EQ(tcp.stats.dupacks_in, 2u);
	EXPECT_TRUE(Sent().empty()) << "no answer to a duplicate ACK";
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "old", 502, a));
	EXPECT_EQ(tcp.stats.paws_rejected, 1u);
	Sent();
	tcp_abort(c);
}

TEST_F(TcpData, Forward_ConnectionIntoConnection_StreamToSink)
{
	struct tcp_conn *a = Accept();
	uint32_t a_our = our_seq, a_peer = peer_seq;
	peer_seq = 9000;
	struct tcp_conn *b = nullptr;
	{
		peer_opts po;
		po.mss = 1460;
		In(Seg(TCP_FLAG_SYN, peer_seq, 0, "", 64240, po, 40001));
		out_seg sa = One();
		peer_seq++;
		In(Seg(TCP_FLAG_ACK, peer_seq, sa.seg.seq + 1, "", 64240, peer_opts(), 40001));
		struct tcp_accept acc;
		tcp_accept_init(&acc, &lst);
		ASSERT_EQ(ex_future_poll(&acc.base, &cx), EX_READY);
		b = acc.conn;
	}
	uint32_t b_our = b->snd_nxt;
	struct tcp_rx_stream rs;
	struct tcp_tx_sink ks;
	struct ex_forward fw;
	tcp_rx_stream_init(&rs, a);
	tcp_tx_sink_init(&ks, b);
	ex_forward_init(
			&fw, &rs.base, &ks.base,
			[](union ex_item it, void *) {
				rte_pktmbuf_free((struct rte_mbuf *)it.ptr);
			},
			nullptr);
	EXPECT_EQ(ex_future_poll(&fw.base, &cx), EX_PENDING);
	our_seq = a_our;
	peer_seq = a_peer;
	std::string d = Pattern(5000, 9);
	for (uint32_t off = 0; off < 5000; off += 1000)
		In(Data(d.substr(off, 1000)));
	EXPECT_EQ(ex_future_poll(&fw.base, &cx), EX_PENDING);
	std::string got;
	for (auto &o : Sent())
		if (o.seg.dport == 40001)
			got += o.data;
	EXPECT_EQ(got, d); // the same bytes, out of the other connection
	In(Data("", TCP_FLAG_FIN)); // a's peer is done: b gets a FIN
	EXPECT_EQ(ex_future_poll(&fw.base, &cx), EX_PENDING);
	bool fin = false;
	for (auto &o : Sent())
		if (o.seg.dport == 40001 && (o.seg.flags & TCP_FLAG_FIN))
			fin = true;
	EXPECT_TRUE(fin);
	EXPECT_EQ(b->state, TCP_STATE_FIN_WAIT_1);
	In(Seg(TCP_FLAG_ACK, 9001, b_our + 5001, "", 64240, peer_opts(), 40001));
	EXPECT_EQ(ex_future_poll(&fw.base, &cx), EX_READY);
	EXPECT_EQ(fw.base.result, 0);
	EXPECT_GE(fw.items, 1u);
	tcp_abort(a);
	tcp_abort(b);
}

// Review H3: a window too small for the sender's SWS rule, nothing in flight,
// data queued. The window update that would open it is lost: the persist
// timer sends the held-back segment (RFC 9293 3.8.6.2.1), instead of
// nothing being armed and the transfer hanging for ever.
TEST_F(TcpData, SmallWindow_UpdateLost_PersistSendsHeldBackSegment)
{
	struct tcp_conn *c = Accept(); // the peer scales by 7: a field of 4 is 512 bytes
	In(Ack(our_seq, 4));
	std::string d = Pattern(3000, 11);
	EXPECT_EQ(Write(c, d), 3000);
	for (const out_seg &o : Sent())
		EXPECT_EQ(o.seg.len, 0u);
	EXPECT_NE(c->rtx_deadline, TCP_NO_DEADLINE) << "held-back data must have a timer";
	Advance(3 * EX_NS_PER_S);
	std::string got = Bytes(Sent());
	EXPECT_EQ(got, d.substr(0, 512)) << "what the small window takes, sent by the timer";
	EXPECT_EQ(tcp.stats.sws_overrides, 1u);
	In(Ack(our_seq + 512, 502));
	got += Bytes(Sent());
	EXPECT_EQ(got, d);
	In(Ack(our_seq + 3000, 502));
	EXPECT_EQ(c->rtx_deadline, TCP_NO_DEADLINE);
	tcp_abort(c);
}

// Review H4: the first segment after idle finds no mbuf for its header.
// Nothing is in flight, so the retransmission timer alone must send it.
TEST_F(TcpData, NoMbufForTheFirstSegment_SentWhenTheTimerFires)
{
	struct tcp_conn *c = Accept();
	std::string d = Pattern(100, 12);
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	ASSERT_NE(m, nullptr);
	std::memcpy(rte_pktmbuf_append(m, 100), d.data(), 100);
	std::vector<void *> held;
	void *o;
	while (rte_mempool_get(pool, &o) == 0)
		held.push_back(o);
	EXPECT_EQ(tcp_send_mbuf(c, m), 0); // queued
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.tx_nombuf, 1u);
	Advance(2 * EX_NS_PER_S); // the pool is still empty: tried again, backed off
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.tx_nombuf, 2u);
	rte_mempool_put_bulk(pool, held.data(), (unsigned int)held.size());
	Advance(5 * EX_NS_PER_S);
	EXPECT_EQ(Bytes(Sent()), d);
	In(Ack(our_seq + 100));
	EXPECT_EQ(c->rtx_deadline, TCP_NO_DEADLINE);
	tcp_abort(c);
}

// The same for a FIN: an orphan whose FIN found no mbuf still finishes (it
// was a permanent slot leak), and FIN_WAIT_2 of an orphan times out.
TEST_F(TcpData, NoMbufForTheFin_OrphanStillClosesAndFinWait2TimesOut)
{
	struct tcp_conn *c = Accept();
	std::vector<void *> held;
	void *o;
	while (rte_mempool_get(pool, &o) == 0)
		held.push_back(o);
	tcp_close(c);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.orphans, 1u);
	rte_mempool_put_bulk(pool, held.data(), (unsigned int)held.size());
	Advance(2 * EX_NS_PER_S);
	out_seg fin = One();
	EXPECT_EQ(fin.seg.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	In(Ack(our_seq + 1));
	EXPECT_EQ(c->state, TCP_STATE_FIN_WAIT_2);
	Advance(59 * EX_NS_PER_S);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u);
	Advance(2 * EX_NS_PER_S); // fin_wait2_ms, 60 s
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
	EXPECT_EQ(tcp.stats.orphans, 0u);
}

// Review H2: an orphan (closed with data queued) facing a zero window that
// the peer answers at every probe. The answers acknowledge nothing, so the
// backoff is not reset: the orphan is given up on after orphan_retries
// probes, where before it lived for ever.
TEST_F(TcpData, Orphan_ZeroWindowAnsweredForever_GivenUpAfterOrphanRetries)
{
	struct tcp_conn *c = Accept();
	In(Ack(our_seq, 0));
	EXPECT_EQ(Write(c, Pattern(10000, 13)), 10000);
	tcp_close(c);
	Sent();
	EXPECT_EQ(tcp.stats.orphans, 1u);
	int rounds = 0;
	bool reset = false;
	while (tcp_conns_in_use(&tcp) > 0 && rounds++ < 100) {
		for (const out_seg &s : Wait(61)) { // past any backed-off probe (rto_max 60 s)
			if (s.seg.flags & TCP_FLAG_RST)
				reset = true;
			else if (tcp_conns_in_use(&tcp) > 0)
				In(Ack(our_seq, 0)); // alive, window still shut
		}
	}
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
	EXPECT_TRUE(reset) << "the peer is told";
	EXPECT_EQ(tcp.stats.persist_probes, 8u); // orphan_retries
	EXPECT_EQ(tcp.stats.orphans_reset, 1u);
	EXPECT_EQ(tcp.stats.orphans, 0u);
}

// A connection the application still holds keeps probing a peer that
// answers (RFC 1122 4.2.2.17): only orphans are bounded.
TEST_F(TcpData, HeldConnection_ZeroWindowAnswered_KeepsProbing)
{
	struct tcp_conn *c = Accept();
	In(Ack(our_seq, 0));
	EXPECT_EQ(Write(c, Pattern(1000, 14)), 1000);
	Sent();
	for (int i = 0; i < 20; i++) {
		Wait(61);
		In(Ack(our_seq, 0));
		Sent();
	}
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED);
	EXPECT_GE(tcp.stats.persist_probes, 20u); // beyond orphan_retries and max_retries
	tcp_abort(c);
}

// Too many orphans: the first whose timer fires is reset at once.
TEST_F(TcpData, TooManyOrphans_TimerResetsTheOrphan)
{
	tcp.cfg.max_orphans = 0;
	struct tcp_conn *c = Accept();
	In(Ack(our_seq, 0));
	EXPECT_EQ(Write(c, Pattern(1000, 15)), 1000);
	tcp_close(c);
	Sent();
	Advance(2 * EX_NS_PER_S);
	out_seg r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
	EXPECT_EQ(tcp.stats.orphans_reset, 1u);
	EXPECT_EQ(tcp.stats.persist_probes, 0u);
}

// Review M8: the pool runs dry in the middle of a write. The result says how
// much went into the stream (a short write), and exactly that is sent; with
// nothing queued it is -ENOBUFS.
TEST_F(TcpData, Write_PoolRunsDry_ShortWriteSaysHowMuchWasQueued)
{
	struct tcp_conn *c = Accept();
	std::vector<void *> held;
	void *o;
	while (rte_mempool_get(pool, &o) == 0)
		held.push_back(o);
	std::string d = Pattern(20000, 16);
	EXPECT_EQ(Write(c, d), -ENOBUFS) << "nothing queued";
	rte_mempool_put_bulk(pool, &held[held.size() - 2], 2); // room for two buffers
	held.resize(held.size() - 2);
	struct tcp_write w;
	tcp_write_init(&w, c, d.data(), (uint32_t)d.size());
	ASSERT_EQ(ex_future_poll(&w.base, &cx), EX_READY);
	EXPECT_GT(w.base.result, 0);
	EXPECT_LT(w.base.result, 20000);
	EXPECT_EQ((uint32_t)w.base.result, w.done);
	uint32_t queued = w.done;
	rte_mempool_put_bulk(pool, held.data(), (unsigned int)held.size());
	Advance(2 * EX_NS_PER_S); // the header mbufs were missing too: the timer sends
	std::string got = Bytes(Sent());
	EXPECT_EQ(got, d.substr(0, queued));
	In(Ack(our_seq + queued));
	EXPECT_TRUE(Sent().empty());
	tcp_abort(c);
}

// Review M7 (RFC 7661): an application-limited sender, one small request
// in flight at a time, does not grow a window it never fills.
TEST_F(TcpData, AppLimited_SmallWritesAcked_CwndDoesNotGrow)
{
	struct tcp_conn *c = Accept();
	uint32_t iw = c->cwnd;
	uint32_t off = 0;
	for (int i = 0; i < 200; i++) {
		ASSERT_EQ(Write(c, Pattern(100, (unsigned)i)), 100);
		off += (uint32_t)Bytes(Sent()).size();
		In(Ack(our_seq + off));
	}
	EXPECT_EQ(off, 20000u);
	EXPECT_EQ(c->cwnd, iw) << "it grew by " << c->cwnd - iw << " bytes it never used";
	tcp_abort(c);
}

// Review M7 (RFC 5681 4.1): after an idle longer than the RTO the sender
// restarts from the initial window instead of bursting the old cwnd.
TEST_F(TcpData, IdleLongerThanRto_RestartsFromInitialWindow)
{
	struct tcp_conn *c = Accept();
	uint32_t iw = c->cwnd, off = 0;
	std::string d = Pattern(200000, 17);
	ASSERT_EQ(Write(c, d), 200000);
	while (off < d.size()) { // ACK every flight: slow start doubles cwnd
		off += (uint32_t)Bytes(Sent()).size();
		In(Ack(our_seq + off));
	}
	ASSERT_GT(c->cwnd, 2 * iw); // (one ACK a flight: ABC adds 2 MSS each)
	Advance(3 * EX_NS_PER_S); // idle: well past the RTO
	ASSERT_EQ(Write(c, d), 200000);
	EXPECT_EQ(Bytes(Sent()).size(), (size_t)iw) << "one initial window, not the old cwnd";
	EXPECT_EQ(tcp.stats.cwnd_restarts, 1u);
	tcp_abort(c);
}

// The out-of-order queue under a seeded storm of segments in random order,
// overlapping and duplicated: after every segment the queue is sorted,
// disjoint, counted right and its tail pointer is its last element (the
// O(1) append of review M3 relies on it); the stream comes out exact.
TEST_F(TcpData, OutOfOrder_RandomOrderAndOverlaps_ReassembledExactly_TailKept)
{
	struct tcp_conn *c = Accept();
	const std::string d = Pattern(60000, 18);
	const uint32_t base = peer_seq;
	std::mt19937 rng(42);
	std::vector<std::pair<uint32_t, uint32_t>> segs;
	for (int i = 0; i < 400; i++) {
		uint32_t st = rng() % (uint32_t)d.size();
		uint32_t len = RTE_MIN(1 + rng() % 1400, (uint32_t)d.size() - st);
		segs.push_back({ st, len });
	}
	std::shuffle(segs.begin(), segs.end(), rng);
	for (uint32_t off = 0; off < d.size(); off += 1000) // then everything, in order
		segs.push_back({ off, RTE_MIN(1000u, (uint32_t)d.size() - off) });
	for (const auto &sg : segs) {
		In(Seg(TCP_FLAG_ACK, base + sg.first, our_seq, d.substr(sg.first, sg.second), 502,
				Ts()));
		uint32_t n = 0;
		const struct rte_mbuf *last = nullptr;
		for (const struct rte_mbuf *m = c->ooo_head; m != nullptr; m = m->next, n++) {
			if (last != nullptr) {
				ASSERT_TRUE(tcp_seq_leq(
						last->hash.usr + last->data_len, m->hash.usr))
						<< "out-of-order queue unsorted or overlapping";
			}
			ASSERT_TRUE(tcp_seq_gt(m->hash.usr, c->rcv_nxt));
			last = m;
		}
		ASSERT_EQ(c->ooo_tail, last) << "tail pointer stale";
		ASSERT_EQ(n, c->ooo_segs);
		Sent();
	}
	EXPECT_EQ(c->rcv_nxt, base + (uint32_t)d.size());
	EXPECT_EQ(ReadAll(c), d);
	tcp_abort(c);
}

} // namespace

namespace
{

class TcpAutotune : public TcpData
{
	void Configure(struct tcp_config &c) override
	{
		c.rcv_buf_max = 4u << 20;
	}

      protected:
	const std::string seg = std::string(1448, 'r');
	uint32_t told = 0; // the right edge our ACKs have told the peer

	// Accepted; the peer's first data comes rtt_ns after our SYN-ACK.
	struct tcp_conn *Open(uint64_t rtt_ns)
	{
		struct tcp_conn *c = Accept();
		told = c->rcv_adv; // the SYN-ACK's
		clk.now += rtt_ns;
		return c;
	}

	// What we sent, in flight to the peer: the edge it may send up to and
	// the TSval it echoes, once delivered.
	uint32_t flight_edge = 0, flight_ts = 0;
	bool in_flight = false;

	void Take(struct tcp_conn *c)
	{
		for (auto &o : Sent())
			if (o.seg.flags & TCP_FLAG_ACK) {
				uint32_t e = o.seg.ack + ((uint32_t)o.seg.wnd << c->rcv_wscale);
				if (!in_flight || tcp_seq_gt(e, flight_edge))
					flight_edge = e;
				flight_ts = o.seg.opts.tsval;
				in_flight = true;
			}
	}

	void Deliver(struct tcp_conn *c)
	{
		Take(c);
		if (in_flight) {
			if (tcp_seq_gt(flight_edge, told))
				told = flight_edge;
			our_ts = flight_ts;
		}
		in_flight = false;
	}

	// One round trip on a path where the peer sends all the window it was
	// told (up to limit bytes, if given), the application reading as it
	// comes: the peer's segments arrive at once, our ACKs to them reach it
	// and its next segments come back rtt_ns later.
	void RoundTrip(struct tcp_conn *c, uint64_t rtt_ns, uint32_t limit = UINT32_MAX)
	{
		uint32_t sent = 0;
		int k = 0;
		while (tcp_seq_lt(peer_seq, told) && sent < limit) {
			In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, seg, 502, Ts()));
			peer_seq += 1448;
			sent += 1448;
			if (++k % 64 == 0) { // within the fixture's mbuf budget
				ReadAll(c);
				Take(c);
			}
		}
		ReadAll(c);
		clk.now += rtt_ns;
		Deliver(c);
	}
};

// The receiver's RTT (it only receives, so its SRTT is the handshake's),
// from the timestamps: the first full-sized segment to echo a TSval of ours
// arrives a round trip after that TSval left, in milliseconds; smoothed by
// an eighth. Later segments echoing the same TSval give no sample.
TEST_F(TcpAutotune, ReceiverRtt_FromTheFirstSegmentEchoingEachTsval)
{
	struct tcp_conn *c = Open(20 * EX_NS_PER_MS);
	EXPECT_EQ(c->rcv_rtt_us, 0u);
	RoundTrip(c, 20 * EX_NS_PER_MS); // echoes the SYN-ACK's TSval, 20 ms old
	EXPECT_EQ(c->rcv_rtt_us, 20000u);
	RoundTrip(c, 4 * EX_NS_PER_MS); // echoes the last round's: 20 ms again
	EXPECT_EQ(c->rcv_rtt_us, 20000u);
	RoundTrip(c, 4 * EX_NS_PER_MS); // 4 ms
	EXPECT_EQ(c->rcv_rtt_us, 18000u) << "4 ms by an eighth";
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, seg, 502, Ts())); // 4 ms
	peer_seq += 1448;
	EXPECT_EQ(c->rcv_rtt_us, 16250u);
	// A later segment echoing the same TSval, 50 ms on: no sample.
	clk.now += 50 * EX_NS_PER_MS;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, seg, 502, Ts()));
	peer_seq += 1448;
	EXPECT_EQ(c->rcv_rtt_us, 16250u);
	// Nor a short one echoing a new TSval (the sender may have held it).
	ReadAll(c);
	Deliver(c);
	clk.now += 50 * EX_NS_PER_MS;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "x", 502, Ts()));
	peer_seq += 1;
	EXPECT_EQ(c->rcv_rtt_us, 16250u);
	Sent();
	tcp_abort(c);
}

// Receive-buffer autotuning (issue 14, item 5; Linux's DRS): once a
// receiver RTT the buffer grows to four times what arrived in order during
// it, up to rcv_buf_max; the next ACK offers the larger window (the window
// scale was chosen for rcv_buf_max). Nothing grows before the first RTT
// sample: the handshake's says nothing of the path under load.
TEST_F(TcpAutotune, ReceiveBuffer_20msPath_GrowsFourTimesWhatArrivesPerRtt)
{
	struct tcp_conn *c = Open(20 * EX_NS_PER_MS);
	ASSERT_EQ(c->rcv_buf, 256u * 1024);
	ASSERT_EQ(c->rcv_wscale, 7u) << "4 MiB fits 65535 << 7";
	RoundTrip(c, 20 * EX_NS_PER_MS); // the SYN-ACK's 64 KiB; the RTT known
	uint32_t wnd = told - peer_seq; // what the peer sends in the next round
	RoundTrip(c, 20 * EX_NS_PER_MS);
	EXPECT_LE(c->rcv_buf, 4u * (65536 + 2 * 1448)) << "four times the first RTT's 64 KiB";
	RoundTrip(c, 20 * EX_NS_PER_MS); // grows by what came in the last
	EXPECT_GE(c->rcv_buf, 4u * (wnd - 1448)) << "four times an RTT's worth";
	EXPECT_LE(c->rcv_buf, 4u * (wnd + 2 * 1448));
	EXPECT_EQ(tcp.stats.rcv_buf_grown, 2u);
	EXPECT_GE(told - peer_seq, 3u * wnd) << "the window shows it";
	for (int i = 0; i < 3; i++)
		RoundTrip(c, 20 * EX_NS_PER_MS);
	EXPECT_EQ(c->rcv_buf, tcp.cfg.rcv_buf_max) << "never past it";
	tcp_abort(c);
}

// The buffer grows by what the application takes, not by what arrives (as
// Linux's DRS counts what was copied to the user): an application that does
// not read (an echo whose own peer reads nothing) must not grow its buffer to
// megabytes that can go nowhere. Once it reads, the buffer grows as above.
TEST_F(TcpAutotune, ReceiveBuffer_ApplicationNotReading_NotGrown)
{
	struct tcp_conn *c = Open(20 * EX_NS_PER_MS);
	// One round trip: the peer sends the full segments its window holds
	// (what lay past the edge it sends again), and the application reads
	// them, or not.
	auto round = [&](bool read) {
		while (tcp_seq_leq(peer_seq + 1448, told)) {
			In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, seg, 502, Ts()));
			peer_seq += 1448;
		}
		peer_seq = c->rcv_nxt;
		if (read)
			ReadAll(c);
		clk.now += 20 * EX_NS_PER_MS;
		Deliver(c);
	};
	for (int i = 0; i < 4; i++)
		round(false);
	EXPECT_GT(c->rcv_rtt_us, 0u) << "the RTT is known: only the reading is missing";
	EXPECT_EQ(c->rcv_buf, 256u * 1024);
	EXPECT_EQ(tcp.stats.rcv_buf_grown, 0u);
	EXPECT_GE(c->rcvq_bytes, 256u * 1024 - 1448) << "the buffer is full, unread";
	for (int i = 0; i < 3; i++)
		round(true);
	EXPECT_GT(c->rcv_buf, 256u * 1024) << "read, it grows";
	EXPECT_GE(tcp.stats.rcv_buf_grown, 1u);
	tcp_abort(c);
}

// Below a millisecond (memif's 20 us, a TAP's 200 us) the default window
// carries 2 Gbit/s or more, and a larger one only lets the sender's queue
// grow with it (memif bulk fell a third, sixth session): no growth however
// much arrives.
TEST_F(TcpAutotune, ReceiveBuffer_SubMillisecondPath_NotGrown)
{
	struct tcp_conn *c = Open(200 * EX_NS_PER_US);
	for (int i = 0; i < 500; i++)
		RoundTrip(c, 200 * EX_NS_PER_US);
	EXPECT_GE(c->rcv_rtt_us, 500u);
	EXPECT_LT(c->rcv_rtt_us, 1000u) << "mostly under a tick of our timestamp clock";
	EXPECT_EQ(c->rcv_buf, 256u * 1024);
	EXPECT_EQ(tcp.stats.rcv_buf_grown, 0u);
	tcp_abort(c);
}

// Send-buffer autotuning: the queue may hold twice cwnd, so it never limits a
// window that congestion control allows.
TEST_F(TcpData, SendBuffer_Autotuned_TwiceCwnd)
{
	struct tcp_conn *c = Accept();
	const uint32_t mss = c->mss;
	ASSERT_EQ(tcp_send_space(c), 256u * 1024);
	ASSERT_EQ(Write(c, Pattern(10 * mss)), (int)(10 * mss));
	Sent();
	c->cwnd = 200 * mss;
	// 4000 << 7: 512,000 bytes, above cwnd. The window an ACK brings counts
	// from the next ACK on (it is taken after the acknowledgment).
	In(Ack(our_seq + 5 * mss, 4000));
	In(Ack(our_seq + 10 * mss, 4000));
	EXPECT_GE(c->snd_buf, 2 * 200 * mss);
	EXPECT_EQ(tcp_send_space(c), c->snd_buf) << "the writer sees the room";
	EXPECT_EQ(tcp.stats.snd_buf_grown, 1u);
	tcp_abort(c);
}

// ... but twice the window that can be in flight, no more: behind a peer's
// small window a large cwnd does not grow the queue (its data would only wait,
// and a working set past the caches slowed memif bulk to 0.7x).
TEST_F(TcpData, SendBuffer_Autotuned_NotPastPeersWindow)
{
	struct tcp_conn *c = Accept();
	const uint32_t mss = c->mss;
	ASSERT_EQ(Write(c, Pattern(10 * mss)), (int)(10 * mss));
	Sent();
	c->cwnd = 200 * mss;
	In(Ack(our_seq + 5 * mss, 1000)); // 128,000 bytes: 2x that is below 256 KiB
	EXPECT_EQ(c->snd_buf, 256u * 1024);
	EXPECT_EQ(tcp.stats.snd_buf_grown, 0u);
	In(Ack(our_seq + 7 * mss, 1500)); // 192,000 bytes: 2x is 384,000
	In(Ack(our_seq + 10 * mss, 1500));
	EXPECT_EQ(c->snd_buf, 2u * 1500 * 128);
	EXPECT_EQ(tcp.stats.snd_buf_grown, 1u);
	tcp_abort(c);
}

} // namespace
