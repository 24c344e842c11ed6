// SPDX-License-Identifier: BSD-3-Clause
//
// test_tcp_cluster.cc - instances of one service behind ECMP
// (tcp_stack_cluster): the instance's id rides in every TSval, a segment of
// a connection another instance owns is handed to it by the id its TSecr
// echoes (without timestamps, to every other instance, within a budget), one
// a peer handed us for nothing we have is dropped without a RST, and a
// connection's first segment through a peer is counted; service addresses
// (stack_vip_add) are ours for TCP.
#include <gtest/gtest.h>

#include "tcp_fixture.h"

namespace
{

const struct rte_ether_addr kPeerInstanceMac = { { 0x02, 0, 0, 0, 0, 0x13 } };
const uint32_t kVip = RTE_IPV4(198, 19, 7, 1);
const uint8_t kUs = 2;
const uint8_t kInstances = TCP_CLUSTER_MAX;

// What the cluster's hooks saw: the owners frames were handed to, each
// frame's destination address and TCP flags.
struct handed {
	uint8_t owner;
	uint32_t dst;
	uint8_t flags;
	uint16_t l3_off;
};
std::vector<handed> g_handed;

int
fake_forward(void *, struct rte_mbuf *m, uint16_t l3_off, uint8_t owner)
{
	auto *ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr *, l3_off);
	auto *th = reinterpret_cast<rte_tcp_hdr *>(ip + 1);
	g_handed.push_back({ owner, rte_be_to_cpu_32(ip->dst_addr), th->tcp_flags, l3_off });
	rte_pktmbuf_free(m);
	return 0;
}

bool
fake_from_peer(void *, const struct rte_mbuf *m)
{
	auto *eh = rte_pktmbuf_mtod(m, const rte_ether_hdr *);
	return rte_is_same_ether_addr(&eh->src_addr, &kPeerInstanceMac);
}

const struct tcp_cluster_ops kOps = { fake_forward, fake_from_peer };

class TcpCluster : public TcpTest
{
      protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		g_handed.clear();
		ASSERT_EQ(tcp_stack_cluster(&tcp, kUs, kInstances, &kOps, nullptr), 0);
	}
};

} // namespace

TEST_F(TcpCluster, BadArguments_Refused)
{
	EXPECT_EQ(tcp_stack_cluster(&tcp, TCP_CLUSTER_MAX + 1, TCP_CLUSTER_MAX + 1, &kOps, nullptr),
			-EINVAL);
	EXPECT_EQ(tcp_stack_cluster(&tcp, 3, 3, nullptr, nullptr), -EINVAL);
	struct tcp_cluster_ops half = { fake_forward, nullptr };
	EXPECT_EQ(tcp_stack_cluster(&tcp, 3, 3, &half, nullptr), -EINVAL);
	EXPECT_EQ(tcp_stack_cluster(&tcp, 3, 2, &kOps, nullptr), -EINVAL) << "id above n";
	EXPECT_EQ(tcp_stack_cluster(&tcp, 1, 1, &kOps, nullptr), -EINVAL) << "a cluster of one";
	EXPECT_EQ(tcp.ts_tag, kUs) << "a refused call changes nothing";
}

// Every TSval we send carries our id in its low bits, and the clock still
// never goes back as time passes (the peer's PAWS).
TEST_F(TcpCluster, EveryTsvalCarriesTheId_AndNeverGoesBack)
{
	struct tcp_conn *c = Accept();
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(our_ts & TCP_CLUSTER_MAX, kUs) << "the SYN-ACK's";
	uint32_t last = our_ts;
	for (int i = 0; i < 40; i++) {
		Advance(EX_NS_PER_MS * 3);
		ASSERT_EQ(Write(c, "x"), 1);
		out_seg d = One();
		ASSERT_TRUE(d.seg.opts.has_ts);
		EXPECT_EQ(d.seg.opts.tsval & TCP_CLUSTER_MAX, kUs);
		EXPECT_TRUE(tcp_seq_geq(d.seg.opts.tsval, last))
				<< d.seg.opts.tsval << " after " << last;
		last = d.seg.opts.tsval;
		In(Ack(our_seq + 1 + (uint32_t)i));
	}
	EXPECT_GE(last - our_ts, 100u) << "the clock moved (120 ms, ticks of 8)";
	tcp_abort(c);
	Sent();
}

// A segment of a connection we do not have, whose TSecr names instance 5,
// goes to instance 5 as it arrived: no RST, nothing sent.
TEST_F(TcpCluster, UnknownFlowNamingAnotherInstance_HandedToIt_NoReset)
{
	Listen();
	seg_dst = kVip;
	ASSERT_EQ(stack_vip_add(&st, kVip), 0);
	peer_opts po;
	po.ts = true;
	po.tsval = 900;
	po.tsecr = (12345u << 3) | 5;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, 7000, 4000, "data", 502, po));
	EXPECT_TRUE(Sent().empty()) << "no RST";
	ASSERT_EQ(g_handed.size(), 1u);
	EXPECT_EQ(g_handed[0].owner, 5);
	EXPECT_EQ(g_handed[0].dst, kVip);
	EXPECT_EQ(g_handed[0].l3_off, sizeof(rte_ether_hdr)) << "the whole frame";
	EXPECT_EQ(tcp.stats.strays_forwarded, 1u);
	EXPECT_EQ(tcp.stats.resets_out, 0u);
	// A FIN and a RST of such a flow go the same way.
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_FIN, 7004, 4000, "", 502, po));
	In(Seg(TCP_FLAG_RST | TCP_FLAG_ACK, 7005, 4000, "", 0, po));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(g_handed.size(), 3u);
	EXPECT_EQ(tcp.stats.strays_forwarded, 3u);
}

// One whose TSecr names us (ours, gone), or one without timestamps to a
// port no listener has (no service here), is answered as without a
// cluster: a RST.
TEST_F(TcpCluster, UnknownFlowNamingUsOrNoOne_Reset)
{
	peer_opts po;
	po.ts = true;
	po.tsval = 900;
	po.tsecr = (777u << 3) | kUs;
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, po));
	out_seg r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST);
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, peer_opts()));
	r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST);
	EXPECT_TRUE(g_handed.empty());
	EXPECT_EQ(tcp.stats.strays_forwarded, 0u);
}

// A peer handed us a segment of a connection we do not have either (its
// owner is gone, or it guessed): dropped, counted, never answered, never
// handed on again (no loop between instances).
TEST_F(TcpCluster, FromAPeer_UnknownFlow_DroppedWithoutResetNorLoop)
{
	seg_src_mac = kPeerInstanceMac;
	peer_opts po;
	po.ts = true;
	po.tsval = 900;
	po.tsecr = (777u << 3) | 6; // names a third instance
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "x", 502, po));
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, peer_opts()));
	EXPECT_TRUE(Sent().empty());
	EXPECT_TRUE(g_handed.empty());
	EXPECT_EQ(tcp.stats.strays_dropped, 2u);
	EXPECT_EQ(tcp.stats.resets_out, 0u);
}

// A SYN is a new connection wherever it lands: ours, never handed on.
TEST_F(TcpCluster, Syn_AlwaysOurs)
{
	Listen();
	peer_opts po;
	po.mss = 1460;
	po.ts = true;
	po.tsval = 1;
	po.tsecr = 3; // junk in a SYN's TSecr
	In(Seg(TCP_FLAG_SYN, 100, 0, "", 64240, po));
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_TRUE(g_handed.empty());
}

// Our connection's segments arriving through a peer (the router moved the
// flow to it): delivered as any, and the connection counted once as moved.
TEST_F(TcpCluster, OurFlowThroughAPeer_DeliveredAndCountedOnce)
{
	struct tcp_conn *c = Accept();
	ASSERT_NE(c, nullptr);
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, peer_seq, our_seq, "one", 502, Ts()));
	peer_seq += 3;
	EXPECT_EQ(tcp.stats.flows_moved_in, 0u);
	seg_src_mac = kPeerInstanceMac;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, peer_seq, our_seq, "two", 502, Ts()));
	peer_seq += 3;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, peer_seq, our_seq, "three", 502, Ts()));
	peer_seq += 5;
	EXPECT_EQ(ReadAll(c), "onetwothree");
	EXPECT_EQ(tcp.stats.flows_moved_in, 1u);
	EXPECT_TRUE(g_handed.empty());
	tcp_abort(c);
	Sent();
}

// A SYN cookie in a cluster: the id keeps the TSval's lowest bits, the
// peer's window scale and SACK-permitted go above it and come back.
TEST_F(TcpCluster, SynCookie_IdAndOptionsBothInTheTsval)
{
	Listen(2);
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40002));
	Sent();
	peer_opts po;
	po.mss = 1460;
	po.wscale = 9;
	po.ts = true;
	po.tsval = 777;
	po.sack_permitted = true;
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, 40003));
	out_seg sa = One();
	ASSERT_EQ(tcp.stats.syncookies_sent, 1u);
	EXPECT_EQ(sa.seg.opts.tsval & TCP_CLUSTER_MAX, kUs);
	EXPECT_EQ((sa.seg.opts.tsval >> TCP_TS_TAG_BITS) & 0xf, 9u);
	peer_opts ack;
	ack.ts = true;
	ack.tsval = 778;
	ack.tsecr = sa.seg.opts.tsval;
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1, "", 502, ack, 40003));
	EXPECT_EQ(tcp.stats.syncookies_ok, 1u);
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	ASSERT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	ASSERT_EQ(a.base.result, 0);
	EXPECT_EQ(a.conn->snd_wscale, 9u);
	EXPECT_TRUE(a.conn->flags & TCP_CONN_FLAG_SACK);
	ASSERT_EQ(Write(a.conn, "x"), 1);
	out_seg d = One();
	EXPECT_EQ(d.seg.opts.tsval & TCP_CLUSTER_MAX, kUs);
	EXPECT_TRUE(tcp_seq_geq(d.seg.opts.tsval, sa.seg.opts.tsval));
	tcp_abort(a.conn);
	Sent();
}

// A VIP is ours: a listener on it answers from it; segments to an address
// that is neither ours nor a VIP are dropped.
TEST_F(TcpCluster, ListenerOnAVip_AnswersFromIt)
{
	ASSERT_EQ(tcp_listen(&lst, &tcp, kVip, kOurPort, 16), -EADDRNOTAVAIL) << "not a VIP yet";
	ASSERT_EQ(stack_vip_add(&st, kVip), 0);
	ASSERT_EQ(tcp_listen(&lst, &tcp, kVip, kOurPort, 16), 0);
	listening = true;
	seg_dst = kVip;
	peer_opts po;
	po.mss = 1460;
	In(Seg(TCP_FLAG_SYN, 100, 0, "", 64240, po));
	out_seg sa = One();
	EXPECT_EQ(sa.seg.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	EXPECT_EQ(sa.src_ip, kVip);
	seg_dst = RTE_IPV4(198, 19, 7, 2);
	In(Seg(TCP_FLAG_SYN, 100, 0, "", 64240, po, 40001));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(st.stats.drops[STACK_DROP_IP_NOT_FOR_US], 1u);
}

// A client without timestamps (Windows' default) names no owner: a segment
// of no connection here, to a VIP and port a listener has, goes to every
// other instance (the last one the frame itself); no RST, nothing sent. To
// the instance's own address (the router never moves those) it is answered
// as without a cluster.
TEST_F(TcpCluster, NoTimestamps_UnknownFlowToAService_CopiedToEveryOtherInstance)
{
	Listen();
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, peer_opts()));
	out_seg r = One();
	EXPECT_TRUE(r.seg.flags & TCP_FLAG_RST) << "to our own address";
	EXPECT_TRUE(g_handed.empty());
	ASSERT_EQ(stack_vip_add(&st, kVip), 0);
	seg_dst = kVip;
	In(Seg(TCP_FLAG_ACK | TCP_FLAG_PSH, 7000, 4000, "data", 502, peer_opts()));
	EXPECT_TRUE(Sent().empty()) << "no RST";
	std::vector<uint8_t> owners;
	for (const handed &h : g_handed) {
		owners.push_back(h.owner);
		EXPECT_EQ(h.flags, TCP_FLAG_ACK | TCP_FLAG_PSH);
		EXPECT_EQ(h.l3_off, sizeof(rte_ether_hdr));
	}
	EXPECT_EQ(owners, (std::vector<uint8_t>{ 1, 3, 4, 5, 6, 7 }));
	EXPECT_EQ(tcp.stats.strays_flooded, 1u);
	EXPECT_EQ(tcp.stats.strays_forwarded, 0u);
	EXPECT_EQ(tcp.stats.resets_out, 1u) << "only the one to our own address";
	// A RST without timestamps too (RFC 7323 lets it leave them out).
	In(Seg(TCP_FLAG_RST | TCP_FLAG_ACK, 7004, 4000, "", 0, peer_opts()));
	EXPECT_TRUE(Sent().empty());
	EXPECT_EQ(g_handed.size(), 12u);
	EXPECT_EQ(tcp.stats.strays_flooded, 2u);
	// The last instance of the cluster copies to the first n - 1.
	ASSERT_EQ(tcp_stack_cluster(&tcp, 3, 3, &kOps, nullptr), 0);
	g_handed.clear();
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, peer_opts()));
	ASSERT_EQ(g_handed.size(), 2u);
	EXPECT_EQ(g_handed[0].owner, 1);
	EXPECT_EQ(g_handed[1].owner, 2);
}

// The ACK of one of our SYN cookies without timestamps is ours: the
// connection is made here, nothing is copied.
TEST_F(TcpCluster, NoTimestamps_AckOfOurSynCookie_TakenHere)
{
	Listen(2);
	ASSERT_EQ(stack_vip_add(&st, kVip), 0);
	seg_dst = kVip;
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40001));
	In(Seg(TCP_FLAG_SYN, 5000, 0, "", 65535, peer_opts(), 40002));
	Sent();
	peer_opts po;
	po.mss = 1460;
	In(Seg(TCP_FLAG_SYN, 9000, 0, "", 64240, po, 40003));
	out_seg sa = One();
	ASSERT_EQ(tcp.stats.syncookies_sent, 1u);
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 1, "", 502, peer_opts(), 40003));
	EXPECT_EQ(tcp.stats.syncookies_ok, 1u);
	EXPECT_TRUE(g_handed.empty());
	EXPECT_EQ(tcp.stats.strays_flooded, 0u);
	// A made-up ACK while cookies are out is copied as any.
	In(Seg(TCP_FLAG_ACK, 9001, sa.seg.seq + 77, "", 502, peer_opts(), 40004));
	EXPECT_EQ(tcp.stats.strays_flooded, 1u);
	struct tcp_accept a;
	tcp_accept_init(&a, &lst);
	ASSERT_EQ(ex_future_poll(&a.base, &cx), EX_READY);
	ASSERT_EQ(a.base.result, 0);
	tcp_abort(a.conn);
	Sent();
}

// Made-up segments without timestamps are not multiplied without end: at
// most TCP_CLUSTER_FLOOD_PER_S a second are copied, the rest dropped and
// counted; the next second has its budget again.
TEST_F(TcpCluster, NoTimestamps_CopiesBoundedPerSecond)
{
	Listen();
	ASSERT_EQ(stack_vip_add(&st, kVip), 0);
	seg_dst = kVip;
	for (uint32_t i = 0; i < TCP_CLUSTER_FLOOD_PER_S + 3; i++)
		In(Seg(TCP_FLAG_ACK, 7000 + i, 4000, "", 502, peer_opts()));
	EXPECT_EQ(tcp.stats.strays_flooded, TCP_CLUSTER_FLOOD_PER_S);
	EXPECT_EQ(tcp.stats.strays_dropped, 3u);
	EXPECT_EQ(g_handed.size(), (size_t)TCP_CLUSTER_FLOOD_PER_S * (kInstances - 1));
	EXPECT_EQ(tcp.stats.resets_out, 0u);
	Advance(EX_NS_PER_S);
	In(Seg(TCP_FLAG_ACK, 7000, 4000, "", 502, peer_opts()));
	EXPECT_EQ(tcp.stats.strays_flooded, TCP_CLUSTER_FLOOD_PER_S + 1);
	EXPECT_TRUE(Sent().empty());
}
