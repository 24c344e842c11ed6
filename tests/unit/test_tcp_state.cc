// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for TCP's state machine (tcpstack/tcp_conn.c, tcp_input.c,
// tcp_listen.c, tcp_icmp.c, tcp_output.c, tcp_timer.c, tcp_sock.c): opens and
// closes, one test per transition and per acceptability rule of RFC 9293 and
// RFC 5961, TIME_WAIT and its reuse, PAWS, the backlog, SYN cookies, ICMP
// errors and path MTU, and the connection table.
#include "tcp_fixture.h"

namespace
{

class TcpState : public TcpTest
{
};

TEST_F(TcpState, PassiveOpen_SynAckCarriesOptions_AcceptAfterAck)
{
	Listen();
	peer_opts po;
	po.mss = 1460;
	po.wscale = 7;
	po.ts = true;
	po.tsval = 777;
	In(Seg(TCP_FLAG_SYN, 1000, 0, "", 64240, po));
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(sa.seg.ack, 1001u);
	EXPECT_TRUE(sa.seg.opts.has_mss);
	EXPECT_EQ(sa.seg.opts.mss, 1460);
	EXPECT_TRUE(sa.seg.opts.has_wscale);
	EXPECT_EQ(sa.seg.opts.wscale, 7); // rcv_buf_max, 4 MiB, fits 65535 << 7
	EXPECT_TRUE(sa.seg.opts.has_ts);
	EXPECT_EQ(sa.seg.opts.tsecr, 777u);
	EXPECT_EQ(sa.dst_ip, kPeerIp);
	EXPECT_EQ(lst.nsyn, 1);

	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	EXPECT_EQ(ex_future_poll(&a.base, &cx), EX_PENDING);
	peer_seq = 1001;
	our_seq = sa.seg.seq + 1;
	our_ts = sa.seg.opts.tsval;
	In(Ack(our_seq));
	EXPECT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	ASSERT_EQ(a.base.result, 0);
	EXPECT_EQ(tcp_conn_state(a.conn), TCP_STATE_ESTABLISHED);
	EXPECT_EQ(a.conn->mss, 1460 - 12); // timestamps take 12 bytes of each segment
	EXPECT_EQ(a.conn->snd_wscale, 7);
	EXPECT_EQ(lst.nsyn, 0);
	EXPECT_EQ(lst.nready, 0);
	EXPECT_EQ(tcp.stats.passive_opens, 1u);
	tcp_abort(a.conn);
}

TEST_F(TcpState, PassiveOpen_NoOptions_DefaultsAndNoTimestamps)
{
	struct tcp_conn *c = Accept(false, -1, 1460);
	ASSERT_NE(c, nullptr);
	EXPECT_FALSE(c->flags & TCP_CONN_FLAG_TS);
	EXPECT_EQ(c->snd_wscale, 0);
	EXPECT_EQ(c->rcv_wscale, 0); // not offered by the peer: neither side scales
	EXPECT_EQ(c->mss, 1460);
	tcp_abort(c);
}

TEST_F(TcpState, ClosedPort_SynGetsRstAck_AckGetsRst)
{
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), kPeerPort, 81));
	out_seg r = One();
	EXPECT_EQ(r.seg.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	EXPECT_EQ(r.seg.seq, 0u);
	EXPECT_EQ(r.seg.ack, 5001u);
	In(Seg(TCP_FLAG_ACK, 5000, 123456, "", 65535, peer_opts(), kPeerPort, 81));
	r = One();
	EXPECT_EQ(r.seg.flags, TCP_FLAG_RST);
	EXPECT_EQ(r.seg.seq, 123456u);
	// A RST is never answered.
	In(Seg(TCP_FLAG_RST, 5000, 0, "", 65535, peer_opts(), kPeerPort, 81));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_NO_PORT), 3u);
}

TEST_F(TcpState, BadChecksum_DroppedCounted_NoAnswer)
{
	Listen();
	auto f = Seg(TCP_FLAG_SYN, 1000, 0);
	f[14 + 20 + 16] ^= 0x55; // the checksum
	In(f);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_CHECKSUM), 1u);
	EXPECT_EQ(lst.nsyn, 0);
}

// The PMD's RX checksum flags (DPDK's meanings; dp_ipv4_l4_cksum_rx_ok()).
// Each SYN below carries a checksum the flag contradicts, so the outcome shows
// which of the two the stack believed.
TEST_F(TcpState, RxCksumGood_WrongField_TrustedAndAnswered)
{
	Listen();
	auto f = Seg(TCP_FLAG_SYN, 1000, 0);
	f[14 + 20 + 16] ^= 0x55;
	InputFlagged(f, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(Drops(STACK_DROP_TCP_CHECKSUM), 0u);
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_GOOD], 1u); // counted by flag
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_UNKNOWN], 0u);
}

TEST_F(TcpState, RxCksumNone_PartialChecksum_NotDroppedAsBad)
{
	// virtio's VIRTIO_NET_HDR_F_NEEDS_CSUM: the field holds only the
	// pseudo-header sum, and the PMD says the data is intact.
	Listen();
	auto f = Seg(TCP_FLAG_SYN, 1000, 0);
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
	auto *th = reinterpret_cast<rte_tcp_hdr *>(ip + 1);
	th->cksum = rte_ipv4_phdr_cksum(ip, 0);
	InputFlagged(f, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(Drops(STACK_DROP_TCP_CHECKSUM), 0u);
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_NONE], 1u);
}

TEST_F(TcpState, RxCksumBad_RightField_DroppedCounted_NoAnswer)
{
	Listen();
	InputFlagged(Seg(TCP_FLAG_SYN, 1000, 0), RTE_MBUF_F_RX_L4_CKSUM_BAD);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_CHECKSUM), 1u);
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_BAD], 1u);
	EXPECT_EQ(lst.nsyn, 0);
}

TEST_F(TcpState, RxCksumUnknown_VerifiedInSoftware)
{
	Listen();
	auto f = Seg(TCP_FLAG_SYN, 1000, 0);
	f[14 + 20 + 16] ^= 0x55;
	InputFlagged(f, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_CHECKSUM), 1u);
	InputFlagged(Seg(TCP_FLAG_SYN, 1000, 0), RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_UNKNOWN], 2u);
	EXPECT_EQ(st.stats.rx_l4_csum[DP_RX_CSUM_GOOD] + st.stats.rx_l4_csum[DP_RX_CSUM_BAD] +
					st.stats.rx_l4_csum[DP_RX_CSUM_NONE],
			0u);
}

TEST_F(TcpState, MalformedOptions_Dropped)
{
	Listen();
	auto f = Seg(TCP_FLAG_SYN, 1000, 0, "", 65535, [] {
		peer_opts p;
		p.mss = 1460;
		return p;
	}());
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
	auto *th = reinterpret_cast<rte_tcp_hdr *>(ip + 1);
	reinterpret_cast<uint8_t *>(th + 1)[1] = 9; // MSS option claims 9 bytes of 4
	th->cksum = 0;
	th->cksum = rte_ipv4_udptcp_cksum(ip, th);
	In(f);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_MALFORMED), 1u);
}

TEST_F(TcpState, SynAckLost_SynRetransmitted_SynAckSentAgain)
{
	Listen();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	out_seg a = One();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	out_seg b = One();
	EXPECT_EQ(b.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(b.seg.seq, a.seg.seq);
	EXPECT_EQ(lst.nsyn, 1);
}

TEST_F(TcpState, SynReceived_Timeout_RetriesThenGivesUp)
{
	tcp.cfg.synack_retries = 2;
	Listen();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	One();
	Advance(1000 * EX_NS_PER_MS + EX_NS_PER_MS); // initial RTO 1 s
	EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	Advance(2000 * EX_NS_PER_MS + EX_NS_PER_MS); // backed off to 2 s
	EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	Advance(4000 * EX_NS_PER_MS + EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(lst.nsyn, 0);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, SynReceived_BadAck_Rst)
{
	Listen();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	out_seg sa = One();
	In(Seg(TCP_FLAG_ACK, 1001, sa.seg.seq + 5)); // acknowledges what we never sent
	out_seg r = One();
	EXPECT_EQ(r.seg.flags, TCP_FLAG_RST);
	EXPECT_EQ(r.seg.seq, sa.seg.seq + 5);
	EXPECT_EQ(lst.nsyn, 1); // still waiting for the right ACK
}

TEST_F(TcpState, SynReceived_RstAtRcvNxt_ChildGoes)
{
	Listen();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	One();
	In(Seg(TCP_FLAG_RST, 1001, 0));
	EXPECT_EQ(lst.nsyn, 0);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, Backlog_Full_NoCookies_SynDroppedCounted)
{
	tcp.cfg.syncookies = false;
	Listen(2);
	In(Seg(TCP_FLAG_SYN, 1000, 0, "", 65535, peer_opts(), 40001));
	In(Seg(TCP_FLAG_SYN, 1000, 0, "", 65535, peer_opts(), 40002));
	In(Seg(TCP_FLAG_SYN, 1000, 0, "", 65535, peer_opts(), 40003));
	EXPECT_EQ(Sent().size(), 2u);
	EXPECT_EQ(lst.nsyn, 2);
	EXPECT_EQ(tcp.stats.syn_backlog_full, 1u);
	EXPECT_EQ(Drops(STACK_DROP_TCP_BACKLOG), 1u);
}

// Review L12: retry budgets past where backoff stops doubling (16) would
// never run out; they are refused, as are the other impossible settings.
// (On a second stack: one carries one TCP, a second is refused.)
TEST_F(TcpState, Config_RetryBudgetsAbove16_Refused)
{
	struct ip_iface st2;
	ASSERT_EQ(stack_init(&st2, &st.cfg, ex, pool, st.out), 0);
	for (int which = 0; which < 4; which++) {
		struct tcp_config cfg;
		struct tcp_stack other;
		tcp_config_defaults(&cfg);
		uint8_t *f[] = { &cfg.max_retries, &cfg.orphan_retries, &cfg.syn_retries,
			&cfg.synack_retries };
		*f[which] = 16;
		EXPECT_EQ(tcp_stack_init(&other, &st2, &cfg), 0) << which;
		tcp_stack_fini(&other);
		*f[which] = 17;
		LogCapture log;
		EXPECT_EQ(tcp_stack_init(&other, &st2, &cfg), -EINVAL) << which;
		EXPECT_NE(log.Text().find("riptide.tcp: tcp_stack_init: tcp_config.max_retries / "
					  "orphan_retries / syn_retries / synack_retries (at most 16)"),
				std::string::npos)
				<< log.Text();
	}
	struct tcp_config cfg;
	struct tcp_stack other;
	tcp_config_defaults(&cfg);
	EXPECT_EQ(tcp_stack_init(&other, &st, &cfg), -EEXIST) << "the fixture's TCP has st";
	EXPECT_EQ(st.tcp, &tcp);
	stack_fini(&st2);
}

// Review L6: SYN+FIN to a listener is a scan, not a connection.
TEST_F(TcpState, Listen_SynFin_Discarded)
{
	Listen();
	In(Seg(TCP_FLAG_SYN | TCP_FLAG_FIN, 1000, 0));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(lst.nsyn, 0);
	EXPECT_EQ(Drops(STACK_DROP_TCP_STATE), 1u);
}

// Review L8: an in-window segment whose ACK is below SND.UNA (still inside
// RFC 5961's range, so not dropped) must not update the send window.
TEST_F(TcpState, OldAck_DoesNotShutTheWindow)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(Write(c, Pattern(3000, 21)), 3000);
	Sent();
	In(Ack(our_seq + 3000));
	uint32_t wnd = c->snd_wnd;
	ASSERT_GT(wnd, 0u);
	// in the window, past SND.WL1 (so the window would be taken), an old
	// ACK and a window of 0
	In(Seg(TCP_FLAG_ACK, peer_seq + 10, our_seq + 1000, "", 0, Ts()));
	EXPECT_EQ(c->snd_wnd, wnd);
	tcp_abort(c);
	Sent();
}

// Review L3: a TSecr from our future or from long ago gives no RTT sample
// (ms * 1000 overflowed into an arbitrary one).
TEST_F(TcpState, BogusTsecr_NoRttSample)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(Write(c, Pattern(100, 22)), 100);
	Sent();
	uint32_t srtt = c->srtt_us, rto = c->rto_us;
	peer_opts po = Ts();
	po.tsecr = our_ts - 5000000u; // 83 minutes ago
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 50, "", 502, po));
	po = Ts();
	po.tsecr = our_ts + 100000u; // from our future
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 100, "", 502, po));
	EXPECT_EQ(c->srtt_us, srtt);
	EXPECT_EQ(c->rto_us, rto);
	tcp_abort(c);
	Sent();
}

// SYN cookies (RFC 4987 3.6): with the SYN list full a SYN is answered
// without any state; the ACK that returns the cookie makes a connection
// with the MSS, window scale and timestamps the SYN offered, and it works.
TEST_F(TcpState, SynCookie_ListFull_NoState_AckMakesAWorkingConnection)
{
	Listen(2);
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40002));
	Sent();
	ASSERT_EQ(lst.nsyn, 2);
	peer_opts po;
	po.mss = 1400;
	po.wscale = 7;
	po.ts = true;
	po.tsval = 777;
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, 40003));
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(sa.seg.ack, 9001u);
	EXPECT_TRUE(sa.seg.opts.has_wscale && sa.seg.opts.has_ts);
	EXPECT_EQ(sa.seg.opts.tsval & 0xf, 7u) << "the peer's window scale in our TSval";
	EXPECT_EQ(lst.nsyn, 2) << "no state kept";
	EXPECT_EQ(tcp_conns_in_use(&tcp), 2u);
	EXPECT_EQ(tcp.stats.syncookies_sent, 1u);
	// The handshake's ACK, with the first request.
	peer_opts ack;
	ack.ts = true;
	ack.tsval = 778;
	ack.tsecr = sa.seg.opts.tsval;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, 9001, sa.seg.seq + 1, "GET", 502, ack, 40003));
	EXPECT_EQ(tcp.stats.syncookies_ok, 1u);
	EXPECT_EQ(lst.nready, 1);
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	ASSERT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	ASSERT_EQ(a.base.result, 0);
	struct tcp_conn *c = a.conn;
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED);
	EXPECT_EQ(c->mss, 1400u - 12) << "the MSS class the cookie kept, less timestamps";
	EXPECT_EQ(c->snd_wscale, 7u);
	EXPECT_TRUE(c->flags & TCP_CONN_FLAG_TS);
	EXPECT_EQ(c->snd_wnd, 502u << 7) << "the window is scaled";
	EXPECT_EQ(ReadAll(c), "GET");
	Sent();
	ASSERT_EQ(Write(c, "200"), 3);
	out_seg r = One();
	EXPECT_EQ(r.data, "200");
	EXPECT_EQ(r.seg.seq, sa.seg.seq + 1);
	// The option bits in the SYN-ACK's TSval must not put it ahead of our
	// clock: a later segment with an older TSval fails the peer's PAWS.
	EXPECT_TRUE(tcp_seq_geq(r.seg.opts.tsval, sa.seg.opts.tsval))
			<< r.seg.opts.tsval << " after " << sa.seg.opts.tsval;
	EXPECT_EQ(r.seg.ack, 9004u);
	tcp_abort(c);
	Sent();
}

// Whatever the clock's low bits, the window scale carried in a cookie
// SYN-ACK's TSval never puts it ahead of our clock for that peer (the
// connections to one host share a timestamp clock): found by
// scripts/bench/synflood.sh, where Linux's PAWS dropped our next segments.
TEST_F(TcpState, SynCookie_TsvalNeverAheadOfTheClock)
{
	Listen(2);
	struct tcp_conn *c = Accept(); // an established connection to the same host
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40002));
	Sent();
	for (uint16_t i = 0; i < 20; i++) {
		peer_opts po;
		po.mss = 1460;
		po.wscale = 14; // the largest value in the low bits
		po.ts = true;
		po.tsval = 100 + i;
		In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, (uint16_t)(41000 + i)));
		out_seg sa = One();
		ASSERT_EQ(sa.seg.opts.tsval & 0xf, 14u);
		ASSERT_EQ(Write(c, "x"), 1);
		out_seg d = One();
		EXPECT_TRUE(tcp_seq_geq(d.seg.opts.tsval, sa.seg.opts.tsval))
				<< "SYN-ACK TSval " << sa.seg.opts.tsval << ", then "
				<< d.seg.opts.tsval;
		In(Ack(our_seq + 1 + i));
		Advance(EX_NS_PER_MS); // the next low bits
	}
	tcp_abort(c);
	Sent();
}

// A forged or stale cookie makes nothing: the ACK is answered by a RST.
TEST_F(TcpState, SynCookie_WrongOrStale_Refused)
{
	Listen(1);
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	Sent();
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 65535, peer_opts(), 40003));
	out_seg sa = One();
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1 + 0x40, "", 502, peer_opts(), 40003)); // wrong
	EXPECT_EQ(One().seg.flags, TCP_FLAG_RST);
	In(Seg(TCP_FLAG_ACK, 9002, sa.seg.seq + 1, "", 502, peer_opts(), 40003)); // other ISN
	EXPECT_EQ(One().seg.flags, TCP_FLAG_RST);
	EXPECT_EQ(tcp.stats.syncookies_failed, 2u);
	// Three periods of 64 s later the right cookie is stale. The half-open
	// one has long gone; a new SYN fills the list again, so cookies are
	// still being checked.
	non_tcp_allowed = 3; // the peer's ARP entry expires meanwhile: requests
	Advance(200 * EX_NS_PER_S);
	Sent();
	LearnPeer();
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40005));
	In(Seg(TCP_FLAG_SYN, 7000, 0, "", 65535, peer_opts(), 40006)); // a cookie again
	Sent();
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1, "", 502, peer_opts(), 40003));
	EXPECT_EQ(One().seg.flags, TCP_FLAG_RST);
	EXPECT_EQ(tcp.stats.syncookies_ok, 0u);
	EXPECT_EQ(tcp.stats.syncookies_failed, 3u);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u);
	tcp_listener_close(&lst);
	listening = false;
}

// Without timestamps the window scale cannot ride along: unscaled, both ways.
TEST_F(TcpState, SynCookie_NoTimestamps_ConnectionUnscaled)
{
	Listen(1);
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	Sent();
	peer_opts po;
	po.mss = 1460;
	po.wscale = 7;
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, 40003));
	out_seg sa = One();
	EXPECT_FALSE(sa.seg.opts.has_wscale) << "no way to remember it";
	// the accept queue has room (the first is still half-open)
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1, "", 502, peer_opts(), 40003));
	ASSERT_EQ(lst.nready, 1);
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	ASSERT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	EXPECT_EQ(a.conn->snd_wscale, 0u);
	EXPECT_EQ(a.conn->rcv_wscale, 0u);
	EXPECT_EQ(a.conn->mss, 1460u);
	tcp_abort(a.conn);
	Sent();
}

// Under a flood the half-opens get two SYN-ACK retransmissions, not five,
// while the SYN list is over half full: here six of six, of which three go
// after 7 s (not 63) and three, the list back at half, keep their chances.
TEST_F(TcpState, SynFlood_HalfOpensOverHalfTheList_FewerRetries)
{
	Listen(6);
	for (uint16_t p = 0; p < 6; p++)
		In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), (uint16_t)(40001 + p)));
	Sent();
	Advance(1001 * EX_NS_PER_MS);
	Advance(2001 * EX_NS_PER_MS);
	EXPECT_EQ(Sent().size(), 12u); // two retransmissions each
	Advance(4001 * EX_NS_PER_MS);
	EXPECT_EQ(Sent().size(), 3u);
	EXPECT_EQ(lst.nsyn, 3);
	tcp_listener_close(&lst);
	listening = false;
	Sent();
}

TEST_F(TcpState, ActiveOpen_Established_AckSent)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	out_seg syn = One();
	EXPECT_EQ(syn.seg.flags, TCP_FLAG_SYN);
	EXPECT_EQ(syn.seg.dport, 8080);
	EXPECT_GE(syn.seg.sport, 32768);
	EXPECT_TRUE(syn.seg.opts.has_mss && syn.seg.opts.has_wscale && syn.seg.opts.has_ts);
	peer_opts po;
	po.mss = 1400;
	po.wscale = 2;
	po.ts = true;
	po.tsval = 99;
	po.tsecr = syn.seg.opts.tsval;
	In(Seg(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, syn.seg.seq + 1, "", 1000, po, 8080,
			syn.seg.sport));
	out_seg ack = One();
	EXPECT_EQ(ack.seg.flags, TCP_FLAG_ACK);
	EXPECT_EQ(ack.seg.ack, 7001u);
	EXPECT_EQ(ack.seg.seq, syn.seg.seq + 1);
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	ASSERT_EQ(k.base.result, 0);
	EXPECT_EQ(tcp_conn_state(k.conn), TCP_STATE_ESTABLISHED);
	EXPECT_EQ(k.conn->snd_wnd, 1000u); // a SYN's window is not scaled
	EXPECT_EQ(k.conn->mss, 1400 - 12);
	tcp_abort(k.conn);
}

TEST_F(TcpState, ActiveOpen_Rst_ECONNREFUSED)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	out_seg syn = One();
	// A RST that does not acknowledge our SYN is ignored (RFC 9293 3.10.7.3).
	In(Seg(TCP_FLAG_RST, 0, 0, "", 0, peer_opts(), 8080, syn.seg.sport));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	In(Seg(TCP_FLAG_RST | TCP_FLAG_ACK, 0, syn.seg.seq + 1, "", 0, peer_opts(), 8080,
			syn.seg.sport));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	EXPECT_EQ(k.base.result, -ECONNREFUSED);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

// ICMP errors into TCP (RFC 5927, RFC 1122 4.2.3.9): believed only when they
// quote our own SYN; on a synchronized connection they are soft, so a blind
// attacker cannot reset a connection with a forged unreachable.
TEST_F(TcpState, SynSent_IcmpUnreachQuotingOurSyn_ConnectFails)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	out_seg syn = One();
	In(IcmpUnreach(3, syn.seg.sport, 8080, syn.seg.seq));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	EXPECT_EQ(k.base.result, -ECONNREFUSED);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
	EXPECT_EQ(st.stats.icmp_unreach_in, 1u);
}

// Review M6: "fragmentation needed" quoting our SYN does not fail the
// connect (it used to, as host unreachable).
TEST_F(TcpState, SynSent_FragNeeded_ConnectGoesOn)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	out_seg syn = One();
	In(IcmpUnreach(4, syn.seg.sport, 8080, syn.seg.seq, 1000));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u);
	ex_future_drop(&k.base);
}

TEST_F(TcpState, SynSent_IcmpUnreachOtherSequence_Ignored)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	out_seg syn = One();
	In(IcmpUnreach(1, syn.seg.sport, 8080, syn.seg.seq + 12345));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING) << "a guess at our ISN is not believed";
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u);
	EXPECT_EQ(st.stats.icmp_unreach_in, 1u);
	ex_future_drop(&k.base);
}

TEST_F(TcpState, Established_IcmpUnreach_Soft_ConnectionLives)
{
	struct tcp_conn *c = Accept();
	// Quotes the connection exactly, at SND.UNA: still only a soft error.
	In(IcmpUnreach(3, kOurPort, kPeerPort, our_seq));
	In(IcmpUnreach(1, kOurPort, kPeerPort, our_seq));
	EXPECT_EQ(st.stats.icmp_unreach_in, 2u);
	EXPECT_EQ(c->state, TCP_STATE_ESTABLISHED);
	EXPECT_EQ(Write(c, "still here"), 10);
	EXPECT_EQ(One().data, "still here");
	tcp_abort(c);
	Sent();
}

TEST_F(TcpState, ActiveOpen_NoAnswer_ETIMEDOUT_WithBackoff)
{
	tcp.cfg.syn_retries = 3;
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	One();
	uint64_t rto = 1000;
	for (int i = 0; i < 3; i++) {
		Advance((rto - 1) * EX_NS_PER_MS);
		EXPECT_TRUE(Sent().empty()) << "retransmitted before the RTO, round " << i;
		Advance(2 * EX_NS_PER_MS);
		EXPECT_EQ(One().seg.flags, TCP_FLAG_SYN) << "round " << i;
		rto *= 2;
	}
	Advance(rto * EX_NS_PER_MS + EX_NS_PER_MS);
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	EXPECT_EQ(k.base.result, -ETIMEDOUT);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, ActiveOpen_ArpFails_EHOSTUNREACH)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, RTE_IPV4(198, 18, 0, 77), 8080); // nobody answers ARP
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	for (int i = 0; i < 6; i++)
		Advance(EX_NS_PER_S);
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	EXPECT_EQ(k.base.result, -EHOSTUNREACH);
	FreeOut();
}

TEST_F(TcpState, ActiveOpen_DroppedWhilePending_ConnectionGoes)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	FreeOut();
	ex_future_drop(&k.base);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, SimultaneousOpen_SynReceivedThenEstablished)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ex_future_poll(&k.base, &cx);
	out_seg syn = One();
	// The peer's SYN crosses ours.
	In(Seg(TCP_FLAG_SYN, 7000, 0, "", 65535, peer_opts(), 8080, syn.seg.sport));
	EXPECT_EQ(k.conn->state, TCP_STATE_SYN_RECEIVED);
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(sa.seg.seq, syn.seg.seq);
	EXPECT_EQ(sa.seg.ack, 7001u);
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	In(Seg(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, syn.seg.seq + 1, "", 65535, peer_opts(), 8080,
			syn.seg.sport));
	EXPECT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
	EXPECT_EQ(k.base.result, 0);
	EXPECT_EQ(tcp_conn_state(k.conn), TCP_STATE_ESTABLISHED);
	Sent();
	tcp_abort(k.conn);
}

TEST_F(TcpState, Established_RstOutsideRcvNxt_ChallengeAck_ThenExactRstResets)
{
	struct tcp_conn *c = Accept();
	In(Seg(TCP_FLAG_RST, peer_seq + 100, 0)); // in the window, not at RCV.NXT
	out_seg ch = One();
	EXPECT_EQ(ch.seg.flags, TCP_FLAG_ACK);
	EXPECT_EQ(ch.seg.ack, peer_seq);
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED);
	EXPECT_EQ(tcp.stats.challenge_acks, 1u);
	In(Seg(TCP_FLAG_RST, peer_seq + 1000000, 0)); // outside the window: silently dropped
	EXPECT_TRUE(Sent().empty());
	In(Seg(TCP_FLAG_RST, peer_seq, 0));
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSED);
	EXPECT_EQ(tcp_conn_error(c), -ECONNRESET);
	struct tcp_recv r;
	tcp_recv_init(&r, c, 0);
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, -ECONNRESET);
	EXPECT_EQ(Write(c, "x"), -ECONNRESET);
	tcp_close(c);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, Established_SynInWindow_ChallengeAck)
{
	struct tcp_conn *c = Accept();
	In(Seg(TCP_FLAG_SYN, peer_seq + 10, 0));
	out_seg ch = One();
	EXPECT_EQ(ch.seg.flags, TCP_FLAG_ACK);
	EXPECT_EQ(ch.seg.ack, peer_seq);
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED);
	tcp_abort(c);
}

TEST_F(TcpState, Established_OldDuplicate_AckedAndDropped)
{
	struct tcp_conn *c = Accept();
	In(Data("hello"));
	Sent();
	// The same segment again: all of it before RCV.NXT.
	In(Seg(TCP_FLAG_ACK, peer_seq - 5, our_seq, "hello", 502, Ts()));
	out_seg a = One();
	EXPECT_EQ(a.seg.flags, TCP_FLAG_ACK);
	EXPECT_EQ(a.seg.ack, peer_seq);
	EXPECT_EQ(ReadAll(c), "hello");
	tcp_abort(c);
}

TEST_F(TcpState, Established_AckOfUnsentData_AckedAndDropped)
{
	struct tcp_conn *c = Accept();
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 1000, "data", 502, Ts()));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, peer_seq); // the data was not taken
	EXPECT_EQ(Drops(STACK_DROP_TCP_BAD_ACK), 1u);
	EXPECT_EQ(ReadAll(c), "");
	tcp_abort(c);
}

TEST_F(TcpState, Paws_OlderTimestamp_Rejected)
{
	struct tcp_conn *c = Accept();
	In(Data("new"));
	Sent();
	peer_opts old;
	old.ts = true;
	old.tsval = peer_ts - 100; // from before: an old incarnation
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "old", 502, old));
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, peer_seq);
	EXPECT_EQ(tcp.stats.paws_rejected, 1u);
	EXPECT_EQ(ReadAll(c), "new");
	tcp_abort(c);
}

// Review H5: a blind segment in window with a bogus ACK and a far-future
// TSval must not become TS.Recent, or every real segment after it fails PAWS.
TEST_F(TcpState, Paws_BogusAckDoesNotPoisonTsRecent)
{
	struct tcp_conn *c = Accept();
	peer_opts evil = Ts();
	evil.tsval = peer_ts + 0x70000000u;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq + 100000, "", 502, evil)); // ACK of unsent
	EXPECT_EQ(Drops(STACK_DROP_TCP_BAD_ACK), 1u);
	Sent();
	In(Data("x"));
	EXPECT_EQ(tcp.stats.paws_rejected, 0u);
	EXPECT_EQ(ReadAll(c), "x");
	// and an old ACK (RFC 5961 5.2) is no better
	evil.tsval = peer_ts + 0x70000000u;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq - 200000, "", 502, evil));
	Sent();
	In(Data("y"));
	EXPECT_EQ(tcp.stats.paws_rejected, 0u);
	EXPECT_EQ(ReadAll(c), "y");
	tcp_abort(c);
}

// A valid segment does update TS.Recent: an older TSval after it is PAWS.
TEST_F(TcpState, Paws_ValidSegmentUpdatesTsRecent)
{
	struct tcp_conn *c = Accept();
	In(Data("a"));
	uint32_t newer = peer_ts;
	Sent();
	EXPECT_EQ(c->ts_recent, newer);
	peer_opts old;
	old.ts = true;
	old.tsval = newer - 1;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "b", 502, old));
	EXPECT_EQ(tcp.stats.paws_rejected, 1u);
	tcp_abort(c);
}

// Review M5: after 24 days idle TS.Recent is invalid (RFC 7323 5.5): the
// peer's timestamp clock has wrapped past it, and its segments are taken.
TEST_F(TcpState, Paws_TsRecentExpiresAfter24DaysIdle)
{
	struct tcp_conn *c = Accept();
	In(Data("a"));
	Sent();
	peer_opts wrapped;
	wrapped.ts = true;
	wrapped.tsval = peer_ts - 0x10000000u; // "older" by the sequence rule
	// As if TS.Recent were recorded 23, then 25 days ago (the wheel is not
	// walked through weeks; the 64-bit difference is what is compared).
	c->ts_recent_ns = clk.now - 23ull * 86400 * EX_NS_PER_S;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "b", 502, wrapped));
	EXPECT_EQ(tcp.stats.paws_rejected, 1u) << "23 days: still valid";
	Sent();
	c->ts_recent_ns = clk.now - 25ull * 86400 * EX_NS_PER_S;
	In(Seg(TCP_FLAG_ACK, peer_seq, our_seq, "b", 502, wrapped));
	EXPECT_EQ(tcp.stats.paws_rejected, 1u) << "25 days: expired";
	EXPECT_EQ(ReadAll(c), "ab");
	EXPECT_EQ(c->ts_recent, wrapped.tsval) << "and the new one is recorded";
	tcp_abort(c);
}

// Review M1: ACKs answering invalid pure ACKs are rate-limited per
// connection (RFC 5961 7): a loop of unacceptable ACKs gets one answer per
// 500 ms; a segment with data is always answered.
TEST_F(TcpState, InvalidPureAcks_AnsweredOncePer500ms_DataAlways)
{
	struct tcp_conn *c = Accept();
	auto oow = [&] { // a pure ACK far outside the window
		return Seg(TCP_FLAG_ACK, peer_seq + 10000000u, our_seq, "", 502, Ts());
	};
	for (int i = 0; i < 10; i++)
		In(oow());
	EXPECT_EQ(Sent().size(), 1u);
	EXPECT_EQ(tcp.stats.oow_acks_limited, 9u);
	In(Seg(TCP_FLAG_ACK, peer_seq + 10000000u, our_seq, "data", 502, Ts()));
	EXPECT_EQ(Sent().size(), 1u) << "data out of window: always answered";
	Advance(499 * EX_NS_PER_MS);
	In(oow());
	EXPECT_TRUE(Sent().empty());
	Advance(2 * EX_NS_PER_MS);
	In(oow());
	EXPECT_EQ(Sent().size(), 1u);
	// the same budget covers challenge ACKs for SYNs
	In(Seg(TCP_FLAG_SYN, peer_seq + 5, 0, "", 502, Ts()));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(tcp.stats.challenge_acks, 1u);
	tcp_abort(c);
}

// Review M4: the peer sends data and its FIN, then resets (its application
// closed with unread data). What arrived stays readable, and the reader then
// learns of the reset: a truncated stream never looks complete.
TEST_F(TcpState, RstAfterFin_UnreadDataKept_ThenEconnresetNotEof)
{
	struct tcp_conn *c = Accept();
	In(Data("request", TCP_FLAG_FIN));
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSE_WAIT);
	Sent();
	In(Seg(TCP_FLAG_RST, peer_seq, 0, "", 0, peer_opts()));
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSED);
	EXPECT_EQ(ReadAll(c), "request");
	struct tcp_recv r;
	tcp_recv_init(&r, c, 0);
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, -ECONNRESET) << "not 0, the clean end of stream";
	tcp_close(c);
}

// The same reset with the data still unread at close: nothing leaks.
TEST_F(TcpState, RstAfterData_ClosedUnread_QueueFreed)
{
	struct tcp_conn *c = Accept();
	In(Data("unread"));
	Sent();
	In(Seg(TCP_FLAG_RST, peer_seq, 0, "", 0, peer_opts()));
	tcp_close(c); // TearDown checks the mbufs came back
}

// Review M6 / RFC 1191: every segment carries DF, so "fragmentation needed"
// quoting a segment in flight lowers the MSS and what is in flight goes
// again in segments that fit; one quoting anything else is ignored.
TEST_F(TcpState, FragNeeded_QuotingDataInFlight_MssLowered_Resent)
{
	struct tcp_conn *c = Accept();
	std::string d = Pattern(5000, 19);
	ASSERT_EQ(Write(c, d), 5000);
	auto first = Sent();
	ASSERT_EQ(first[0].seg.len, 1448u);
	In(IcmpUnreach(4, kOurPort, kPeerPort, our_seq + 99999, 1000)); // not in flight
	EXPECT_EQ(tcp.stats.pmtu_ignored, 1u);
	EXPECT_EQ(c->mss, 1448u);
	EXPECT_TRUE(Sent().empty());
	In(IcmpUnreach(4, kOurPort, kPeerPort, our_seq, 1000, 1500));
	EXPECT_EQ(tcp.stats.pmtu_lowered, 1u);
	EXPECT_EQ(c->mss, 1000u - 40 - 12); // timestamps in every segment
	std::string again;
	for (const out_seg &o : Sent()) {
		EXPECT_LE(o.seg.len, 948u);
		again += o.data;
	}
	EXPECT_EQ(again.substr(0, 948), d.substr(0, 948)) << "from SND.UNA, at the new size";
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED) << "never a connection error";
	// A forged MTU of 68 cannot shrink segments below TCP_PMTU_MIN.
	In(IcmpUnreach(4, kOurPort, kPeerPort, our_seq, 68));
	EXPECT_EQ(c->mss, TCP_PMTU_MIN - 40 - 12);
	Sent();
	tcp_abort(c);
}

// An old router sends MTU 0: the next plateau below the quoted length.
TEST_F(TcpState, FragNeeded_MtuZero_NextPlateauBelowTheQuotedLength)
{
	struct tcp_conn *c = Accept();
	ASSERT_EQ(Write(c, Pattern(3000, 20)), 3000);
	Sent();
	In(IcmpUnreach(4, kOurPort, kPeerPort, our_seq, 0, 1500));
	EXPECT_EQ(c->mss, 1492u - 40 - 12);
	Sent();
	tcp_abort(c);
}

TEST_F(TcpState, PassiveClose_CloseWait_RecvEof_LastAck_Freed)
{
	struct tcp_conn *c = Accept();
	In(Data("bye", TCP_FLAG_FIN));
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSE_WAIT);
	out_seg a = One();
	EXPECT_EQ(a.seg.ack, peer_seq); // data and FIN
	EXPECT_EQ(ReadAll(c), "bye");
	struct tcp_recv r;
	tcp_recv_init(&r, c, 0);
	EXPECT_EQ(ex_future_poll(&r.base, &cx), EX_READY);
	EXPECT_EQ(r.base.result, 0); // end of stream
	tcp_close(c);
	out_seg fin = One();
	EXPECT_EQ(fin.seg.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	EXPECT_EQ(fin.seg.seq, our_seq);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u); // LAST_ACK, held by the stack
	In(Ack(our_seq + 1));
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, ActiveClose_FinWait1_FinWait2_TimeWait_ThenFreed)
{
	tcp.cfg.time_wait_ms = 2000;
	struct tcp_conn *c = Accept();
	tcp_close(c);
	out_seg fin = One();
	EXPECT_EQ(fin.seg.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	In(Ack(our_seq + 1));
	EXPECT_EQ(c->state, TCP_STATE_FIN_WAIT_2);
	In(Data("", TCP_FLAG_FIN));
	EXPECT_EQ(c->state, TCP_STATE_TIME_WAIT);
	EXPECT_EQ(One().seg.ack, peer_seq);
	// A retransmitted FIN is acknowledged again and restarts 2*MSL.
	Advance(1500 * EX_NS_PER_MS);
	In(Seg(TCP_FLAG_FIN | TCP_FLAG_ACK, peer_seq - 1, our_seq + 1, "", 502, Ts()));
	EXPECT_EQ(One().seg.ack, peer_seq);
	Advance(1500 * EX_NS_PER_MS);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u);
	Advance(600 * EX_NS_PER_MS);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, SimultaneousClose_Closing_TimeWait)
{
	Leaves(1); // ends in TIME_WAIT, which lasts 2 MSL
	struct tcp_conn *c = Accept();
	ASSERT_EQ(tcp_shutdown(c), 0);
	One();
	EXPECT_EQ(c->state, TCP_STATE_FIN_WAIT_1);
	// The peer's FIN crosses ours: it does not acknowledge our FIN.
	In(Data("", TCP_FLAG_FIN));
	EXPECT_EQ(c->state, TCP_STATE_CLOSING);
	One();
	In(Ack(our_seq + 1));
	EXPECT_EQ(c->state, TCP_STATE_TIME_WAIT);
	tcp_close(c);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 1u); // until 2*MSL
}

TEST_F(TcpState, HalfClose_WeShutdown_StillReceive)
{
	Leaves(1); // ends in TIME_WAIT, which lasts 2 MSL
	struct tcp_conn *c = Accept();
	ASSERT_EQ(tcp_shutdown(c), 0);
	One();
	In(Ack(our_seq + 1));
	EXPECT_EQ(c->state, TCP_STATE_FIN_WAIT_2);
	EXPECT_EQ(Write(c, "late"), -EPIPE);
	In(Data("still talking"));
	EXPECT_EQ(ReadAll(c), "still talking");
	In(Data("", TCP_FLAG_FIN));
	EXPECT_EQ(c->state, TCP_STATE_TIME_WAIT);
	Sent();
	tcp_close(c);
}

TEST_F(TcpState, HalfClose_PeerShutsDown_WeStillSend)
{
	struct tcp_conn *c = Accept();
	In(Data("", TCP_FLAG_FIN));
	EXPECT_EQ(c->state, TCP_STATE_CLOSE_WAIT);
	Sent();
	EXPECT_EQ(Write(c, "reply after your FIN"), 20);
	out_seg d = One();
	EXPECT_EQ(d.data, "reply after your FIN");
	In(Ack(our_seq + 20));
	tcp_close(c);
	out_seg fin = One();
	EXPECT_EQ(fin.seg.seq, our_seq + 20);
	EXPECT_TRUE(fin.seg.flags & TCP_FLAG_FIN);
	In(Ack(our_seq + 21));
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, CloseWithUnreadData_Rst)
{
	struct tcp_conn *c = Accept();
	In(Data("unread"));
	Sent();
	tcp_close(c);
	out_seg r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, DataAfterClose_Rst)
{
	struct tcp_conn *c = Accept();
	tcp_close(c);
	One();
	In(Ack(our_seq + 1));
	In(Data("too late"));
	out_seg r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, Abort_SendsRst_FreesAtOnce)
{
	struct tcp_conn *c = Accept();
	EXPECT_EQ(Write(c, "queued"), 6);
	Sent();
	tcp_abort(c);
	out_seg r = One();
	EXPECT_EQ(r.seg.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

TEST_F(TcpState, TimeWait_NewerSyn_ReusesTuple)
{
	struct tcp_conn *c = Accept();
	tcp_close(c);
	One();
	In(Ack(our_seq + 1));
	In(Data("", TCP_FLAG_FIN));
	Sent();
	uint32_t old_our = our_seq;
	// A new SYN on the same tuple, newer timestamp: a new connection.
	peer_opts po;
	po.mss = 1460;
	po.ts = true;
	po.tsval = peer_ts + 10;
	In(Seg(TCP_FLAG_SYN, peer_seq + 100000, 0, "", 64240, po));
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(sa.seg.ack, peer_seq + 100001);
	EXPECT_TRUE(tcp_seq_gt(sa.seg.seq, old_our)); // above the old sequence space
	EXPECT_EQ(tcp.stats.tw_reused, 1u);
	EXPECT_EQ(lst.nsyn, 1);
}

TEST_F(TcpState, TimeWait_OlderSyn_NotReused)
{
	Leaves(1); // ends in TIME_WAIT, which lasts 2 MSL
	struct tcp_conn *c = Accept(false);
	tcp_close(c);
	One();
	In(Ack(our_seq + 1, 502, false));
	In(Data("", TCP_FLAG_FIN, false));
	Sent();
	In(Seg(TCP_FLAG_SYN, peer_seq - 50, 0));
	out_seg a = One();
	EXPECT_EQ(a.seg.flags, TCP_FLAG_ACK); // treated as an old duplicate
	EXPECT_EQ(tcp.stats.tw_reused, 0u);
}

class TcpSmallTable : public TcpTest
{
	void Configure(struct tcp_config &c) override
	{
		c.max_conns = 2;
	}
};

TEST_F(TcpSmallTable, TableFull_OldestTimeWaitRecycled_ElseSynDropped)
{
	struct tcp_conn *c = Accept();
	tcp_close(c);
	One();
	In(Ack(our_seq + 1));
	In(Data("", TCP_FLAG_FIN));
	Sent();
	ASSERT_EQ(c->state, TCP_STATE_TIME_WAIT);
	In(Seg(TCP_FLAG_SYN, 1, 0, "", 65535, peer_opts(), 40001));
	EXPECT_EQ(Sent().size(), 1u);
	// Two in use: the TIME_WAIT one and the new one. A third SYN takes
	// the TIME_WAIT slot.
	In(Seg(TCP_FLAG_SYN, 1, 0, "", 65535, peer_opts(), 40002));
	EXPECT_EQ(Sent().size(), 1u);
	EXPECT_EQ(tcp.stats.tw_recycled, 1u);
	// Now both slots are half-open connections: refused (without cookies;
	// with them it is answered statelessly: SynCookie_TableFull_Answered).
	tcp.cfg.syncookies = false;
	In(Seg(TCP_FLAG_SYN, 1, 0, "", 65535, peer_opts(), 40003));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(Drops(STACK_DROP_TCP_CONN_LIMIT), 1u);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 2u);
}

TEST_F(TcpState, ListenerClose_ResetsUnaccepted_AcceptEBADF)
{
	Listen();
	In(Seg(TCP_FLAG_SYN, 1000, 0));
	out_seg sa = One();
	In(Seg(TCP_FLAG_ACK, 1001, sa.seg.seq + 1));
	In(Seg(TCP_FLAG_SYN, 1000, 0, "", 65535, peer_opts(), 40001));
	Sent();
	EXPECT_EQ(lst.nready, 1);
	EXPECT_EQ(lst.nsyn, 1);
	tcp_listener_close(&lst);
	listening = false;
	auto v = Sent();
	ASSERT_EQ(v.size(), 2u);
	EXPECT_TRUE(v[0].seg.flags & TCP_FLAG_RST);
	EXPECT_TRUE(v[1].seg.flags & TCP_FLAG_RST);
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	EXPECT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	EXPECT_EQ(a.base.result, -EBADF);
	EXPECT_EQ(tcp_conns_in_use(&tcp), 0u);
}

// Review L16c: no keepalive probe while data is in flight (the RTO is
// already asking, and a probe would only add a segment).
TEST_F(TcpState, Keepalive_NotWhileDataIsInFlight)
{
	tcp.cfg.keep_idle_ms = 1000;
	tcp.cfg.keep_intvl_ms = 100;
	struct tcp_conn *c = Accept();
	tcp_set_keepalive(c, true);
	ASSERT_EQ(Write(c, Pattern(100, 23)), 100);
	Sent();
	for (int i = 0; i < 5; i++) {
		Advance(1000 * EX_NS_PER_MS);
		for (const out_seg &o : Sent())
			EXPECT_EQ(o.data.size(), 100u) << "only retransmissions, no probe";
	}
	EXPECT_EQ(tcp.stats.keepalive_probes, 0u);
	EXPECT_GT(tcp.stats.rto_timeouts, 0u);
	tcp_abort(c);
	Sent();
}

TEST_F(TcpState, Keepalive_ExactProbeCount_AnswerResetsIt_ThenRstAndETIMEDOUT)
{
	tcp.cfg.keep_idle_ms = 1000;
	tcp.cfg.keep_intvl_ms = 100;
	tcp.cfg.keep_cnt = 3;
	struct tcp_conn *c = Accept();
	tcp_set_keepalive(c, true);
	Advance(999 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty()) << "not idle long enough";
	Advance(2 * EX_NS_PER_MS);
	out_seg p = One();
	EXPECT_EQ(p.seg.seq, our_seq - 1); // RFC 1122 4.2.3.6: SND.NXT - 1, no data
	EXPECT_EQ(p.seg.len, 0u);
	// An answer proves the peer alive: the count starts again from zero,
	// after a whole idle time.
	In(Ack(our_seq));
	Advance(999 * EX_NS_PER_MS);
	EXPECT_TRUE(Sent().empty());
	Advance(2 * EX_NS_PER_MS);
	for (int probe = 1; probe <= 3; probe++) {
		out_seg q = One();
		EXPECT_EQ(q.seg.seq, our_seq - 1) << "probe " << probe;
		EXPECT_EQ(tcp_conn_state(c), TCP_STATE_ESTABLISHED) << "probe " << probe;
		Advance(101 * EX_NS_PER_MS); // an interval (the wheel rounds up by a tick)
	}
	// keep_cnt probes went unanswered: reset, and the user hears ETIMEDOUT.
	out_seg rst = One();
	EXPECT_TRUE(rst.seg.flags & TCP_FLAG_RST);
	EXPECT_EQ(tcp_conn_state(c), TCP_STATE_CLOSED);
	EXPECT_EQ(tcp_conn_error(c), -ETIMEDOUT);
	EXPECT_EQ(tcp.stats.keepalive_probes, 4u);
	tcp_close(c);
}

} // namespace

namespace
{

// Issue 6, item 8: an idle established connection costs at most 1 KiB
// beside its buffered data: its table entry and its flow-table bucket.
TEST(TcpMemory, IdleConnection_AtMostOneKiB)
{
	size_t per_conn = sizeof(struct tcp_conn) + 2 * sizeof(struct tcp_conn *);
	std::printf("memory per idle connection: %zu bytes (entry %zu + at most two buckets)\n",
			per_conn, sizeof(struct tcp_conn));
	EXPECT_LE(per_conn, 1024u);
}

} // namespace

namespace
{

class TcpOnePort : public TcpTest
{
};

// With timestamps, an active opener may take a port whose old connection to
// the same peer is still in TIME_WAIT (RFC 6191; Linux's tcp_tw_reuse): the
// peer's PAWS tells the two incarnations apart. A tuple without timestamps
// is never reused that way.
TEST_F(TcpOnePort, ActiveOpen_ReusesOwnTimeWaitTuple_OnlyWithTimestamps)
{
	for (bool ts : { true, false }) {
		struct tcp_connect k;
		tcp_connect_init(&k, &tcp, kPeerIp, 8080);
		ASSERT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
		out_seg syn = One();
		peer_opts po;
		po.mss = 1460;
		po.ts = ts;
		po.tsval = 1;
		po.tsecr = syn.seg.opts.tsval;
		In(Seg(TCP_FLAG_SYN | TCP_FLAG_ACK, 7000, syn.seg.seq + 1, "", 65535, po, 8080,
				syn.seg.sport));
		ASSERT_EQ(ex_future_poll(&k.base, &cx), EX_READY);
		struct tcp_conn *c = k.conn;
		Sent(); // the handshake's ACK
		tcp_close(c);
		EXPECT_TRUE(One().seg.flags & TCP_FLAG_FIN);
		po.tsval = 2;
		In(Seg(TCP_FLAG_ACK, 7001, syn.seg.seq + 2, "", 65535, po, 8080, syn.seg.sport));
		In(Seg(TCP_FLAG_FIN | TCP_FLAG_ACK, 7001, syn.seg.seq + 2, "", 65535, po, 8080,
				syn.seg.sport));
		ASSERT_EQ(c->state, TCP_STATE_TIME_WAIT);
		Sent();
		// Every other port is taken by a listener: only the TIME_WAIT one is left.
		uint16_t sport = syn.seg.sport;
		std::vector<struct tcp_listener> ls(61000 - 32768);
		for (uint32_t p = 32768; p <= 60999; p++)
			if (p != sport) {
				ASSERT_EQ(tcp_listen(&ls[p - 32768], &tcp, 0, (uint16_t)p, 1), 0);
			}
		uint64_t reused = tcp.stats.tw_reused;
		struct tcp_connect k2;
		tcp_connect_init(&k2, &tcp, kPeerIp, 8080);
		if (ts) {
			EXPECT_EQ(ex_future_poll(&k2.base, &cx), EX_PENDING);
			EXPECT_EQ(One().seg.sport, sport);
			EXPECT_EQ(tcp.stats.tw_reused, reused + 1);
			ex_future_drop(&k2.base);
		} else {
			EXPECT_EQ(ex_future_poll(&k2.base, &cx), EX_READY);
			EXPECT_EQ(k2.base.result, -EADDRNOTAVAIL);
			EXPECT_EQ(tcp.stats.tw_reused, reused);
		}
		for (uint32_t p = 32768; p <= 60999; p++)
			if (p != sport)
				tcp_listener_close(&ls[p - 32768]);
		tcp_stack_fini(&tcp);
		ASSERT_EQ(tcp_stack_init(&tcp, &st, &tcfg), 0);
		FreeOut();
	}
}

} // namespace

namespace
{

class TcpSynAgain : public TcpTest
{
};

// A stale TIME_WAIT at the peer answers our SYN with an ACK of its old
// connection: we reset it and send the SYN again at once, not after an RTO.
TEST_F(TcpSynAgain, ActiveOpen_PeerTimeWaitAck_RstThenSynAtOnce)
{
	struct tcp_connect k;
	tcp_connect_init(&k, &tcp, kPeerIp, 8080);
	ASSERT_EQ(ex_future_poll(&k.base, &cx), EX_PENDING);
	out_seg syn = One();
	In(Seg(TCP_FLAG_ACK, 5000, 123456, "", 65535, peer_opts(), 8080, syn.seg.sport));
	auto v = Sent();
	ASSERT_EQ(v.size(), 2u);
	EXPECT_EQ(v[0].seg.flags, TCP_FLAG_RST);
	EXPECT_EQ(v[0].seg.seq, 123456u);
	EXPECT_EQ(v[1].seg.flags, TCP_FLAG_SYN);
	EXPECT_EQ(v[1].seg.seq, syn.seg.seq);
	// Only once: a second stray ACK gets its RST and nothing more.
	In(Seg(TCP_FLAG_ACK, 5000, 123456, "", 65535, peer_opts(), 8080, syn.seg.sport));
	EXPECT_EQ(One().seg.flags, TCP_FLAG_RST);
	ex_future_drop(&k.base);
}

} // namespace
