// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/udp.c: bind, receive (zero copy), echo back in
// the same mbuf, port unreachable (rate-limited), bounded receive queue,
// malformed datagrams, close, ICMP errors delivered to connected sockets.
#include "stack_fixture.h"
#include "udp.h"

#include <rte_ethdev.h>

namespace
{

class UdpTest : public StackTest
{
      protected:
	struct udp_sock sock;
	bool bound = false;

	void TearDown() override
	{
		if (bound)
			udp_close(&sock);
		// before stack_fini(): a socket a test forgot is still in the table
		EXPECT_EQ(udp_bound_count(&st), 0u) << "sockets left bound";
		StackTest::TearDown();
	}

	void Bind(uint16_t port)
	{
		ASSERT_EQ(udp_bind(&sock, &st, 0, port), 0);
		bound = true;
	}

	// Ethernet + IPv4 + UDP from the peer, checksummed.
	std::vector<uint8_t> Udp(uint16_t sport, uint16_t dport, size_t payload,
			uint32_t src = kPeerIp, uint32_t dst = kOurIp)
	{
		std::vector<uint8_t> f(14 + 20 + 8 + payload);
		auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
		auto *uh = reinterpret_cast<rte_udp_hdr *>(ip + 1);
		eh->dst_addr = kOurMac;
		eh->src_addr = kPeerMac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + payload));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_UDP;
		ip->src_addr = rte_cpu_to_be_32(src);
		ip->dst_addr = rte_cpu_to_be_32(dst);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		uh->src_port = rte_cpu_to_be_16(sport);
		uh->dst_port = rte_cpu_to_be_16(dport);
		uh->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + payload));
		for (size_t i = 0; i < payload; i++)
			f[42 + i] = (uint8_t)(i * 7);
		uh->dgram_cksum = rte_ipv4_udptcp_cksum(ip, uh);
		return f;
	}

	// Let the stack learn the peer's MAC, as an ARP request from it does.
	void LearnPeer()
	{
		Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp));
		FreeOut();
	}

	struct udp_recv Recv()
	{
		struct udp_recv r;
		struct ex_context cx = { ex_waker_noop() };
		udp_recv_init(&r, &sock);
		ex_future_poll(&r.base, &cx);
		return r;
	}
};

} // namespace

TEST_F(UdpTest, Bind_EphemeralInRange_TakenPortRefused)
{
	struct udp_sock a, b, c;
	ASSERT_EQ(udp_bind(&a, &st, 0, 0), 0);
	ASSERT_EQ(udp_bind(&b, &st, 0, 0), 0);
	EXPECT_GE(a.local_port, 49152);
	EXPECT_NE(a.local_port, b.local_port);
	EXPECT_EQ(udp_bind(&c, &st, 0, a.local_port), -EADDRINUSE);
	EXPECT_EQ(udp_bind(&c, &st, RTE_IPV4(10, 1, 1, 1), 7), -EINVAL) << "not our address";
	udp_close(&a);
	udp_close(&b);
}

TEST_F(UdpTest, Datagram_RecvYieldsPayloadInPlace)
{
	Bind(7);
	auto f = Udp(5555, 7, 100);
	struct rte_mbuf *m = Frame(f.data(), f.size());
	stack_input(&st, m);
	struct udp_recv r = Recv();
	ASSERT_TRUE(ex_future_is_done(&r.base));
	EXPECT_EQ(r.base.result, 100);
	EXPECT_EQ(r.m, m) << "zero copy: the datagram's own mbuf";
	EXPECT_EQ(r.src_ip, kPeerIp);
	EXPECT_EQ(r.src_port, 5555);
	EXPECT_EQ(rte_pktmbuf_mtod(r.m, uint8_t *)[99], (uint8_t)(99 * 7));
	rte_pktmbuf_free(r.m);
}

// The PMD's RX L4 checksum flags on UDP: each datagram's checksum contradicts
// its flag (NONE: the pseudo-header sum only, as virtio hands it over).
TEST_F(UdpTest, RxCksumFlags_GoodAndNoneTrusted_BadDropped_UnknownVerified)
{
	Bind(7);
	auto wrong = Udp(5555, 7, 20);
	wrong[42] ^= 0x55; // payload changed, checksum not
	auto partial = Udp(5555, 7, 20);
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(partial.data() + 14);
	reinterpret_cast<rte_udp_hdr *>(ip + 1)->dgram_cksum = rte_ipv4_phdr_cksum(ip, 0);
	InputFlagged(wrong, RTE_MBUF_F_RX_L4_CKSUM_GOOD);
	InputFlagged(partial, RTE_MBUF_F_RX_L4_CKSUM_NONE);
	EXPECT_EQ(Drops(STACK_DROP_UDP_CHECKSUM), 0u);
	InputFlagged(Udp(5555, 7, 20), RTE_MBUF_F_RX_L4_CKSUM_BAD);
	EXPECT_EQ(Drops(STACK_DROP_UDP_CHECKSUM), 1u);
	InputFlagged(wrong, RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN);
	EXPECT_EQ(Drops(STACK_DROP_UDP_CHECKSUM), 2u);
	for (int i = 0; i < 2; i++) {
		struct udp_recv r = Recv();
		ASSERT_TRUE(ex_future_is_done(&r.base)) << "datagram " << i;
		EXPECT_EQ(r.base.result, 20);
		rte_pktmbuf_free(r.m);
	}
	struct udp_recv r = Recv();
	EXPECT_FALSE(ex_future_is_done(&r.base)) << "only GOOD and NONE were queued";
	ex_future_drop(&r.base);
}

TEST_F(UdpTest, Echo_SameMbufBack_ChecksumValid)
{
	Bind(7);
	LearnPeer();
	Input(Udp(40000, 7, 1472));
	struct udp_recv r = Recv();
	ASSERT_EQ(r.base.result, 1472);
	ASSERT_EQ(udp_send_mbuf(&sock, r.m, r.src_ip, r.src_port), 0);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], r.m);
	auto *ip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, 14);
	auto *uh = reinterpret_cast<rte_udp_hdr *>(ip + 1);
	EXPECT_EQ(rte_be_to_cpu_16(uh->src_port), 7);
	EXPECT_EQ(rte_be_to_cpu_16(uh->dst_port), 40000);
	EXPECT_EQ(rte_ipv4_udptcp_cksum_verify(ip, uh), 0);
	EXPECT_EQ(rte_raw_cksum(ip, 20), 0xffff);
	EXPECT_EQ(rte_pktmbuf_pkt_len(out[0]), 14u + 20 + 8 + 1472);
}

TEST_F(UdpTest, NoSocket_PortUnreachable_RateLimited)
{
	LearnPeer();
	for (int i = 0; i < 150; i++)
		Input(Udp(1234, 9, 10));
	EXPECT_EQ(Drops(STACK_DROP_UDP_NO_PORT), 150u);
	EXPECT_EQ(st.stats.icmp_unreach_out, (uint64_t)STACK_ICMP_ERRORS_PER_S);
	EXPECT_EQ(Drops(STACK_DROP_ICMP_LIMITED), 150u - STACK_ICMP_ERRORS_PER_S);
	ASSERT_FALSE(out.empty());
	auto *ip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, 14);
	auto *ic = reinterpret_cast<rte_icmp_hdr *>(ip + 1);
	EXPECT_EQ(ic->icmp_type, 3);
	EXPECT_EQ(ic->icmp_code, 3);
	EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), kPeerIp);
	EXPECT_EQ(rte_raw_cksum(ic, rte_be_to_cpu_16(ip->total_length) - 20), 0xffff);
	FreeOut();
	Advance(EX_NS_PER_S + EX_NS_PER_MS);
	Input(Udp(1234, 9, 10));
	EXPECT_EQ(out.size(), 1u) << "a new second, a new allowance";
}

TEST_F(UdpTest, FullQueue_OverflowCounted_MemoryBounded)
{
	Bind(7);
	for (int i = 0; i < UDP_RXQ + 6; i++)
		Input(Udp(5555, 7, 20));
	EXPECT_EQ(sock.rx_datagrams, (uint64_t)UDP_RXQ);
	EXPECT_EQ(sock.rx_overflow, 6u);
	EXPECT_EQ(Drops(STACK_DROP_UDP_OVERFLOW), 6u);
}

TEST_F(UdpTest, Malformed_CountedByReason)
{
	Bind(7);
	auto f = Udp(5555, 7, 20);
	f[42] ^= 0x55; // payload changed, checksum not
	Input(f);
	EXPECT_EQ(Drops(STACK_DROP_UDP_CHECKSUM), 1u);
	f = Udp(5555, 7, 20);
	reinterpret_cast<rte_udp_hdr *>(f.data() + 34)->dgram_len = rte_cpu_to_be_16(200);
	Input(f);
	EXPECT_EQ(Drops(STACK_DROP_UDP_MALFORMED), 1u);
	f = Udp(5555, 7, 0);
	f.resize(14 + 20 + 4); // a UDP header cut in half
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
	ip->total_length = rte_cpu_to_be_16(24);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	Input(f);
	EXPECT_EQ(Drops(STACK_DROP_UDP_MALFORMED), 2u);
	f = Udp(5555, 7, 20);
	reinterpret_cast<rte_udp_hdr *>(f.data() + 34)->dgram_cksum = 0; // "no checksum" is valid
	Input(f);
	EXPECT_EQ(sock.rx_datagrams, 1u);
}

TEST_F(UdpTest, Close_PendingRecvFailsEBADF_QueuedDatagramsFreed)
{
	// Socket 7 has two datagrams nobody read; socket 8 has a reader waiting.
	Bind(7);
	Input(Udp(5555, 7, 20));
	Input(Udp(5555, 7, 20));
	ASSERT_EQ(sock.tail - sock.head, 2u);
	struct udp_sock waiting;
	ASSERT_EQ(udp_bind(&waiting, &st, 0, 8), 0);
	struct udp_recv r;
	udp_recv_init(&r, &waiting);
	struct ex_join_handle jh;
	ex_join_handle_init(&jh);
	ASSERT_EQ(ex_spawn_to(ex, &r.base, &jh, nullptr), 0);
	Run(2);
	EXPECT_FALSE(ex_join_handle_done(&jh));

	udp_close(&sock); // its queue goes back to the pool (TearDown checks)
	bound = false;
	udp_close(&waiting);
	Run(2);
	ASSERT_TRUE(ex_join_handle_done(&jh));
	EXPECT_EQ(jh.result, -EBADF);
	Input(Udp(5555, 7, 20));
	EXPECT_EQ(Drops(STACK_DROP_UDP_NO_PORT), 1u) << "closed means unbound";
}

// What the fixture's leak check relies on: the table's count follows bind
// and close, including two sockets in one bucket chain.
TEST_F(UdpTest, BoundCount_FollowsBindAndClose)
{
	struct udp_sock other, third;

	EXPECT_EQ(udp_bound_count(&st), 0u);
	Bind(7);
	ASSERT_EQ(udp_bind(&other, &st, 0, 0), 0); // an ephemeral port
	ASSERT_EQ(udp_bind(&third, &st, 0, 62), 0); // 62 shares 7's bucket
	EXPECT_EQ(udp_bound_count(&st), 3u);
	udp_close(&other);
	EXPECT_EQ(udp_bound_count(&st), 2u);
	udp_close(&third);
	EXPECT_EQ(udp_bound_count(&st), 1u);
	EXPECT_EQ(udp_bind(&other, &st, 0, 7), -EADDRINUSE) << "a failed bind is not counted";
	EXPECT_EQ(udp_bound_count(&st), 1u);
}

TEST_F(UdpTest, Connected_IcmpPortUnreachable_RecvECONNREFUSED)
{
	Bind(0);
	ASSERT_EQ(udp_connect(&sock, kPeerIp, 9), 0);
	// The peer's answer to a datagram we sent to its port 9.
	auto inner = Udp(sock.local_port, 9, 8, kOurIp, kPeerIp);
	std::vector<uint8_t> f(14 + 20 + 8 + 28);
	auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
	auto *ic = reinterpret_cast<rte_icmp_hdr *>(ip + 1);
	eh->dst_addr = kOurMac;
	eh->src_addr = kPeerMac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(20 + 8 + 28);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(kPeerIp);
	ip->dst_addr = rte_cpu_to_be_32(kOurIp);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	ic->icmp_type = 3;
	ic->icmp_code = 3;
	std::memcpy(ic + 1, inner.data() + 14, 28);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, 8 + 28);
	Input(f);
	EXPECT_EQ(st.stats.icmp_unreach_in, 1u);
	struct udp_recv r = Recv();
	ASSERT_TRUE(ex_future_is_done(&r.base));
	EXPECT_EQ(r.base.result, -ECONNREFUSED);
	// Reported once: the next recv waits again.
	struct udp_recv again = Recv();
	EXPECT_FALSE(ex_future_is_done(&again.base));
	ex_future_drop(&again.base);
}

TEST_F(UdpTest, Connected_OtherPeersFiltered)
{
	Bind(7);
	ASSERT_EQ(udp_connect(&sock, kPeerIp, 5555), 0);
	Input(Udp(6666, 7, 10));
	EXPECT_EQ(Drops(STACK_DROP_UDP_FILTERED), 1u);
	Input(Udp(5555, 7, 10));
	EXPECT_EQ(sock.rx_datagrams, 1u);
}

TEST_F(UdpTest, Send_Errors)
{
	Bind(7);
	char buf[2000] = {};
	EXPECT_EQ(udp_send(&sock, buf, 10, 0, 0), -EDESTADDRREQ);
	EXPECT_EQ(udp_send(&sock, buf, 1473, kPeerIp, 9), -EMSGSIZE);
	udp_close(&sock);
	bound = false;
	EXPECT_EQ(udp_send(&sock, buf, 10, kPeerIp, 9), -EBADF);
}

TEST_F(UdpTest, TxChecksumOffload_FlagsAndPseudoHeaderSum)
{
	stack_fini(&st);
	struct stack_config cfg = st.cfg;
	cfg.tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
	ASSERT_EQ(stack_init(&st, &cfg, ex, pool, &capture_sink), 0);
	Bind(7);
	LearnPeer();
	char payload[100] = { 1, 2, 3 };
	ASSERT_EQ(udp_send(&sock, payload, sizeof(payload), kPeerIp, 9), 0);
	ASSERT_EQ(out.size(), 1u);
	struct rte_mbuf *m = out[0];
	EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	EXPECT_TRUE(m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
	EXPECT_EQ(m->l2_len, 14u);
	EXPECT_EQ(m->l3_len, 20u);
	auto *ip = rte_pktmbuf_mtod_offset(m, rte_ipv4_hdr *, 14);
	auto *uh = reinterpret_cast<rte_udp_hdr *>(ip + 1);
	EXPECT_EQ(ip->hdr_checksum, 0) << "left to the PMD";
	EXPECT_EQ(uh->dgram_cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags));
}
