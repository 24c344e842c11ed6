// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for tcpstack/stack.c: crafted frames in, frames out through a
// capturing transmit function, time from the injected clock. ARP request
// and reply, learning, expiry, resolution with queued packets and with
// failure, ping, and every malformed case counted under its reason. Every
// test ends with the mbuf pool at its baseline.
#include "stack_fixture.h"

// A bad config names its field in the log (riptide.stack) and its kind in
// the errno.
TEST_F(StackTest, Init_BadConfig_FieldNamedInTheLog_DistinctErrno)
{
	struct ip_iface other;
	struct stack_config cfg;
	stack_config_defaults(&cfg);
	LogCapture log;
	EXPECT_EQ(stack_init(&other, &cfg, ex, pool, &capture_sink), -EADDRNOTAVAIL);
	EXPECT_NE(log.Text().find("riptide.stack: stack_init: stack_config.ip is 0"),
			std::string::npos)
			<< log.Text();
	cfg.ip = kOurIp;
	cfg.prefix_len = 33;
	EXPECT_EQ(stack_init(&other, &cfg, ex, pool, &capture_sink), -EINVAL);
	EXPECT_NE(log.Text().find("stack_config.prefix_len 33 is over 32"), std::string::npos);
	cfg.prefix_len = 24;
	cfg.arp_retry_ns = 0;
	EXPECT_EQ(stack_init(&other, &cfg, ex, pool, &capture_sink), -ERANGE);
	EXPECT_NE(log.Text().find("stack_config.arp_retry_ns is 0"), std::string::npos);
	EXPECT_EQ(stack_init(&other, &cfg, ex, nullptr, &capture_sink), -EINVAL);
	EXPECT_NE(log.Text().find("stack_init: pool is NULL"), std::string::npos);
}

TEST_F(StackTest, ArpRequestForUs_RepliedInPlace_SenderLearned)
{
	auto f = Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp);
	struct rte_mbuf *m = Frame(f.data(), f.size());
	stack_input(&st, m);
	stack_rx_burst_end(&st);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], m) << "the request became the reply: no copy";
	auto *eh = rte_pktmbuf_mtod(out[0], rte_ether_hdr *);
	auto *ah = reinterpret_cast<rte_arp_hdr *>(eh + 1);
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->src_addr, &kOurMac));
	EXPECT_EQ(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REPLY);
	EXPECT_TRUE(rte_is_same_ether_addr(&ah->arp_data.arp_sha, &kOurMac));
	EXPECT_EQ(rte_be_to_cpu_32(ah->arp_data.arp_sip), kOurIp);
	EXPECT_EQ(rte_be_to_cpu_32(ah->arp_data.arp_tip), kPeerIp);
	struct rte_ether_addr mac;
	ASSERT_EQ(stack_arp_lookup(&st, kPeerIp, &mac), 0);
	EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kPeerMac));
	EXPECT_EQ(st.stats.arp_replies_out, 1u);
}

// A quiet stack (lcores 1..n-1 of a shared address) learns from a request
// for it but leaves the answer, and the announcement, to lcore 0's stack:
// one reply per request on the wire.
TEST_F(StackTest, ArpQuiet_LearnsFromARequest_NeitherAnswersNorAnnounces)
{
	struct ip_iface quiet;
	struct stack_config cfg = st.cfg;
	cfg.arp_quiet = true;
	ASSERT_EQ(stack_init(&quiet, &cfg, ex, pool, &capture_sink), 0);
	auto f = Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp);
	stack_input(&quiet, Frame(f.data(), f.size()));
	stack_rx_burst_end(&quiet);
	EXPECT_TRUE(out.empty()) << "no reply from a quiet stack";
	struct rte_ether_addr mac;
	ASSERT_EQ(stack_arp_lookup(&quiet, kPeerIp, &mac), 0);
	EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kPeerMac));
	EXPECT_EQ(quiet.stats.arp_requests_in, 1u);
	EXPECT_EQ(quiet.stats.arp_replies_out, 0u);
	EXPECT_EQ(stack_announce(&quiet), 0);
	EXPECT_TRUE(out.empty()) << "no gratuitous ARP either";
	EXPECT_EQ(stack_announce(&st), 0); // the loud one does announce
	EXPECT_EQ(out.size(), 1u);
	stack_fini(&quiet);
}

TEST_F(StackTest, ArpRequestForOther_DroppedNotLearned)
{
	Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, RTE_IPV4(198, 18, 0, 77)));
	EXPECT_TRUE(out.empty());
	EXPECT_EQ(Drops(STACK_DROP_ARP_NOT_FOR_US), 1u);
	struct rte_ether_addr mac;
	EXPECT_EQ(stack_arp_lookup(&st, kPeerIp, &mac), -ENOENT)
			<< "RFC 826: only a known pair is updated from others' requests";
}

TEST_F(StackTest, Announce_SendsGratuitousArp)
{
	ASSERT_EQ(stack_announce(&st), 0);
	ASSERT_EQ(out.size(), 1u);
	auto *ah = rte_pktmbuf_mtod_offset(out[0], rte_arp_hdr *, sizeof(rte_ether_hdr));
	EXPECT_EQ(rte_be_to_cpu_16(ah->arp_opcode), RTE_ARP_OP_REQUEST);
	EXPECT_EQ(ah->arp_data.arp_sip, ah->arp_data.arp_tip);
	EXPECT_EQ(rte_be_to_cpu_32(ah->arp_data.arp_sip), kOurIp);
}

TEST_F(StackTest, Ping_EchoReply_InPlace_ChecksumsValid)
{
	auto f = Ping(kPeerIp, kOurIp, 100);
	struct rte_mbuf *m = Frame(f.data(), f.size());
	stack_input(&st, m);
	stack_rx_burst_end(&st);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], m);
	auto *eh = rte_pktmbuf_mtod(out[0], rte_ether_hdr *);
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
	auto *ic = reinterpret_cast<rte_icmp_hdr *>(ip + 1);
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
	EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), kOurIp);
	EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), kPeerIp);
	EXPECT_EQ(rte_raw_cksum(ip, sizeof(*ip)), 0xffff) << "IP header checksum";
	EXPECT_EQ(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	EXPECT_EQ(rte_raw_cksum(ic, sizeof(*ic) + 100), 0xffff) << "ICMP checksum";
	EXPECT_EQ(rte_be_to_cpu_16(ic->icmp_seq_nb), 7);
	EXPECT_EQ(reinterpret_cast<uint8_t *>(ic + 1)[99], 99) << "payload echoed";
}

// The Internet checksum of a byte string, one byte at a time: the reference
// the stack's sums are checked against.
static uint16_t
RefCksum(const std::vector<uint8_t> &b)
{
	uint32_t s = 0;
	for (size_t i = 0; i < b.size(); i++)
		s += (i & 1) ? b[i] : (uint32_t)b[i] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

// A ping split over segments of odd lengths (as a PMD with small buffers or
// an IP reassembly would hand it over): its checksum verifies and the reply,
// made in place in the same chain, carries a right one.
TEST_F(StackTest, Ping_OddLengthChain_VerifiedAndAnsweredWithARightChecksum)
{
	auto f = Ping(kPeerIp, kOurIp, 301);
	const size_t cuts[] = { 14 + 20 + 8 + 7, 13, 101 }; // the rest in a fourth
	struct rte_mbuf *head = nullptr;
	size_t off = 0;
	for (size_t i = 0; i <= 3; i++) {
		size_t n = i < 3 ? cuts[i] : f.size() - off;
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		ASSERT_NE(m, nullptr);
		std::memcpy(rte_pktmbuf_append(m, (uint16_t)n), f.data() + off, n);
		off += n;
		if (head == nullptr)
			head = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
	}
	stack_input(&st, head);
	stack_rx_burst_end(&st);
	ASSERT_EQ(out.size(), 1u) << "dropped: " << Drops(STACK_DROP_ICMP_MALFORMED);
	std::vector<uint8_t> r(rte_pktmbuf_pkt_len(out[0]));
	ASSERT_NE(rte_pktmbuf_read(out[0], 0, (uint32_t)r.size(), r.data()), nullptr);
	auto *ic = reinterpret_cast<rte_icmp_hdr *>(r.data() + 34);
	EXPECT_EQ(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	EXPECT_EQ(RefCksum(std::vector<uint8_t>(r.begin() + 34, r.end())), 0xffff)
			<< "the reply's ICMP checksum";
}

TEST_F(StackTest, Ping_Broadcast_ReplyFromOurAddress)
{
	Input(Ping(kPeerIp, RTE_IPV4(198, 18, 0, 255), 8, kBcast));
	ASSERT_EQ(out.size(), 1u);
	auto *ip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, sizeof(rte_ether_hdr));
	EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), kOurIp);
}

// The PMD's RX IP checksum flags: each ping's header checksum contradicts
// its flag, so the outcome shows which the stack believed.
TEST_F(StackTest, RxIpCksumFlags_GoodAndNoneTrusted_BadDropped_UnknownVerified)
{
	auto wrong = Ping(kPeerIp, kOurIp, 8);
	wrong[14 + 10] ^= 0x5a; // the IPv4 header checksum
	InputFlagged(wrong, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	EXPECT_EQ(out.size(), 1u) << "GOOD: answered";
	FreeOut();
	InputFlagged(wrong, RTE_MBUF_F_RX_IP_CKSUM_NONE);
	EXPECT_EQ(out.size(), 1u) << "NONE: answered";
	FreeOut();
	InputFlagged(Ping(kPeerIp, kOurIp, 8), RTE_MBUF_F_RX_IP_CKSUM_BAD);
	EXPECT_TRUE(out.empty()) << "BAD: dropped";
	EXPECT_EQ(Drops(STACK_DROP_IP_CHECKSUM), 1u);
	InputFlagged(wrong, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
	EXPECT_TRUE(out.empty()) << "UNKNOWN: verified, dropped";
	EXPECT_EQ(Drops(STACK_DROP_IP_CHECKSUM), 2u);
	EXPECT_EQ(st.stats.icmp_echo_out, 2u);
}

// RFC 1122 3.2.1.7: a host does not discard a datagram for a TTL below 2
// (the review's "echo request with TTL 0 got no reply").
TEST_F(StackTest, Ttl0And1_AddressedToUs_Answered)
{
	for (uint8_t ttl : { 0, 1 }) {
		auto f = Ping(kPeerIp, kOurIp, 20);
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
		ip->time_to_live = ttl;
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		Input(f);
		ASSERT_EQ(out.size(), 1u) << "ttl " << (int)ttl;
		auto *rip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, 14);
		EXPECT_EQ(rip->time_to_live, 64) << "never sent with TTL 0";
		FreeOut();
	}
	EXPECT_EQ(st.stats.icmp_echo_out, 2u);
}

// RFC 1122 3.2.2.1: a protocol we do not speak, sent to our address, is
// answered by ICMP protocol unreachable quoting it (and counted as a drop).
TEST_F(StackTest, UnknownProtocol_Unicast_ProtocolUnreachable)
{
	Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp)); // the peer is known
	FreeOut();
	auto f = Ping(kPeerIp, kOurIp, 20);
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + 14);
	ip->next_proto_id = 47; // GRE
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	Input(f);
	EXPECT_EQ(Drops(STACK_DROP_IP_PROTOCOL), 1u);
	ASSERT_EQ(out.size(), 1u);
	auto *oip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, 14);
	auto *ic = reinterpret_cast<rte_icmp_hdr *>(oip + 1);
	EXPECT_EQ(oip->next_proto_id, IPPROTO_ICMP);
	EXPECT_EQ(rte_be_to_cpu_32(oip->dst_addr), kPeerIp);
	EXPECT_EQ(ic->icmp_type, 3);
	EXPECT_EQ(ic->icmp_code, 2) << "protocol unreachable";
	auto *quoted = reinterpret_cast<rte_ipv4_hdr *>(ic + 1);
	EXPECT_EQ(quoted->next_proto_id, 47);
	EXPECT_EQ(st.stats.icmp_unreach_out, 1u);
}

// The protocol table: a protocol registered with the stack gets its packets
// (the IPv4 header checked, at l3_off) and the ends of rx bursts; one per
// protocol number, ICMP is the stack's own, STACK_L4_MAX in all (UDP is
// one already); unregistered, its packets are protocol unreachable again.
namespace
{
struct fake_l4 {
	int packets = 0, bursts = 0;
	uint16_t l3_off = 0, ip_len = 0;
};
void
fake_input(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint16_t, uint16_t ip_len)
{
	auto *f = static_cast<fake_l4 *>(ctx);
	f->packets++;
	f->l3_off = l3_off;
	f->ip_len = ip_len;
	rte_pktmbuf_free(m);
}
void
fake_burst_end(void *ctx)
{
	static_cast<fake_l4 *>(ctx)->bursts++;
}
const struct stack_l4_ops fake_ops = { "fake", fake_input, nullptr, nullptr, fake_burst_end,
	nullptr };
} // namespace

TEST_F(StackTest, ProtocolTable_RegisteredProtocolGetsItsPackets_UnregisteredIsUnreachable)
{
	fake_l4 f;
	Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp));
	FreeOut();
	ASSERT_EQ(stack_l4_register(&st, 253, &fake_ops, &f), 0);
	EXPECT_EQ(stack_l4_register(&st, 253, &fake_ops, &f), -EEXIST);
	EXPECT_EQ(stack_l4_register(&st, IPPROTO_ICMP, &fake_ops, &f), -EINVAL);
	EXPECT_EQ(stack_l4_register(&st, IPPROTO_UDP, &fake_ops, &f), -EEXIST) << "the stack's own";
	auto pkt = Ping(kPeerIp, kOurIp, 20);
	auto *ip = reinterpret_cast<rte_ipv4_hdr *>(pkt.data() + 14);
	ip->next_proto_id = 253;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	Input(pkt); // one burst of one frame
	EXPECT_EQ(f.packets, 1);
	EXPECT_EQ(f.l3_off, 14);
	EXPECT_EQ(f.ip_len, 20 + 8 + 20);
	EXPECT_EQ(f.bursts, 1);
	EXPECT_TRUE(out.empty());
	EXPECT_EQ(Drops(STACK_DROP_IP_PROTOCOL), 0u);
	// Full: UDP, 253 and two more.
	EXPECT_EQ(stack_l4_register(&st, 254, &fake_ops, &f), 0);
	EXPECT_EQ(stack_l4_register(&st, 252, &fake_ops, &f), 0);
	EXPECT_EQ(stack_l4_register(&st, 251, &fake_ops, &f), -ENOSPC);
	stack_l4_unregister(&st, 253, nullptr); // not its registrant: stays
	Input(pkt);
	EXPECT_EQ(f.packets, 2);
	stack_l4_unregister(&st, 253, &f);
	stack_l4_unregister(&st, 254, &f);
	stack_l4_unregister(&st, 252, &f);
	Input(pkt);
	EXPECT_EQ(f.packets, 2);
	EXPECT_EQ(Drops(STACK_DROP_IP_PROTOCOL), 1u);
	ASSERT_EQ(out.size(), 1u) << "protocol unreachable";
	FreeOut();
}

// RFC 1122 3.2.1.3 (review L5): a datagram whose source cannot be a host, or
// is ours (LAND), is discarded and counted; nothing answers it.
TEST_F(StackTest, ImpossibleSource_DroppedCountedUnanswered)
{
	for (uint32_t src : { 0u, 0xffffffffu, 0xc61200ffu /* 198.18.0.255 */,
			     0xe0000001u /* 224.0.0.1 */, kOurIp }) {
		Input(Ping(src, kOurIp, 20));
		EXPECT_TRUE(out.empty()) << std::hex << src << " was answered";
		FreeOut();
	}
	EXPECT_EQ(Drops(STACK_DROP_IP_BAD_SOURCE), 5u);
	EXPECT_EQ(st.stats.icmp_echo_in, 0u);
}

TEST_F(StackTest, EthernetPadding_Trimmed_ReplyIsIpLength)
{
	auto f = Ping(kPeerIp, kOurIp, 0); // 42 bytes: padded to 60 on the wire
	f.resize(60, 0);
	Input(f);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(rte_pktmbuf_pkt_len(out[0]), 42u);
}

TEST_F(StackTest, MalformedInput_EachCountedUnderItsReason)
{
	struct bad_case {
		const char *name;
		std::vector<uint8_t> frame;
		enum stack_drop reason;
	};
	std::vector<bad_case> cases;
	auto good = Ping(kPeerIp, kOurIp);
	cases.push_back({ "runt", std::vector<uint8_t>(10, 0), STACK_DROP_RUNT });
	{
		auto f = good;
		reinterpret_cast<rte_ether_hdr *>(f.data())->ether_type = rte_cpu_to_be_16(0x86dd);
		cases.push_back({ "ipv6", f, STACK_DROP_ETHERTYPE });
	}
	{
		auto f = good;
		reinterpret_cast<rte_ether_hdr *>(f.data())->dst_addr = kPeerMac;
		cases.push_back({ "other mac", f, STACK_DROP_NOT_FOR_US });
	}
	auto ip_case = [&](const char *name, enum stack_drop reason, auto mutate, bool fix = true,
				       size_t trunc = 0) {
		auto f = good;
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(f.data() + sizeof(rte_ether_hdr));
		mutate(ip);
		if (fix) {
			ip->hdr_checksum = 0;
			ip->hdr_checksum = rte_ipv4_cksum(ip);
		}
		if (trunc)
			f.resize(trunc);
		cases.push_back({ name, f, reason });
	};
	ip_case(
			"ip short", STACK_DROP_IP_TRUNCATED, [](rte_ipv4_hdr *) {}, true, 14 + 12);
	ip_case("version 6", STACK_DROP_IP_VERSION,
			[](rte_ipv4_hdr *ip) { ip->version_ihl = 0x65; });
	ip_case("ihl 4", STACK_DROP_IP_IHL, [](rte_ipv4_hdr *ip) { ip->version_ihl = 0x44; });
	ip_case(
			"ihl past frame", STACK_DROP_IP_TRUNCATED,
			[](rte_ipv4_hdr *ip) { ip->version_ihl = 0x4f; }, false, 14 + 40);
	ip_case("total length past frame", STACK_DROP_IP_TRUNCATED,
			[](rte_ipv4_hdr *ip) { ip->total_length = rte_cpu_to_be_16(2000); });
	ip_case(
			"bad checksum", STACK_DROP_IP_CHECKSUM,
			[](rte_ipv4_hdr *ip) { ip->hdr_checksum ^= 0x0101; }, false);
	ip_case("fragment", STACK_DROP_IP_FRAGMENT, [](rte_ipv4_hdr *ip) {
		ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	});
	ip_case("other host", STACK_DROP_IP_NOT_FOR_US, [](rte_ipv4_hdr *ip) {
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 9));
	});
	ip_case("gre to the broadcast address", STACK_DROP_IP_PROTOCOL, [](rte_ipv4_hdr *ip) {
		ip->next_proto_id = 47; // unicast is answered: see ProtocolUnreachable
		ip->dst_addr = rte_cpu_to_be_32(RTE_IPV4(198, 18, 0, 255));
	});
	{
		auto f = good;
		f[sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) + 10] ^=
				0xff; // payload, not checksum
		cases.push_back({ "icmp checksum", f, STACK_DROP_ICMP_MALFORMED });
	}
	{
		auto f = good;
		auto *ic = reinterpret_cast<rte_icmp_hdr *>(f.data() + 34);
		ic->icmp_type = 13; // timestamp: not answered
		ic->icmp_cksum = 0;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, f.size() - 34);
		cases.push_back({ "icmp timestamp", f, STACK_DROP_ICMP_TYPE });
	}
	{
		auto f = Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp);
		f.resize(30);
		cases.push_back({ "arp short", f, STACK_DROP_ARP_MALFORMED });
		f = Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp);
		reinterpret_cast<rte_arp_hdr *>(f.data() + 14)->arp_protocol =
				rte_cpu_to_be_16(0x86dd);
		cases.push_back({ "arp for ipv6", f, STACK_DROP_ARP_MALFORMED });
		f = Arp(9, kPeerMac, kPeerIp, kOurIp);
		cases.push_back({ "arp opcode 9", f, STACK_DROP_ARP_MALFORMED });
	}
	for (auto &c : cases) {
		uint64_t before = Drops(c.reason);
		Input(c.frame);
		EXPECT_EQ(Drops(c.reason), before + 1) << c.name;
		EXPECT_TRUE(out.empty()) << c.name << " was answered";
		FreeOut();
	}
	EXPECT_EQ(st.stats.rx_frames, cases.size());
}

TEST_F(StackTest, Output_Unresolved_QueuesThenReplyFlushes)
{
	struct rte_mbuf *m = IpPacket(kPeerIp, 28);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(stack_output_ipv4(&st, m), 0);
	ASSERT_EQ(out.size(), 1u) << "an ARP request went out, the packet waits";
	EXPECT_EQ(st.stats.arp_requests_out, 1u);
	FreeOut();
	Input(Arp(RTE_ARP_OP_REPLY, kPeerMac, kPeerIp, kOurIp, kOurMac));
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], m);
	auto *eh = rte_pktmbuf_mtod(out[0], rte_ether_hdr *);
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
	auto *oip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
	EXPECT_EQ(rte_raw_cksum(oip, sizeof(*oip)), 0xffff);
}

TEST_F(StackTest, Output_OffLink_ViaGateway_ArpsForTheGatewayNotTheDestination)
{
	const uint32_t gw = RTE_IPV4(198, 18, 0, 1), far = RTE_IPV4(198, 19, 5, 5);
	const struct rte_ether_addr gw_mac = { { 0x02, 0, 0, 0, 0, 0x01 } };
	st.cfg.gateway = gw;
	struct rte_mbuf *m = IpPacket(far, 28);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(stack_output_ipv4(&st, m), 0);
	ASSERT_EQ(out.size(), 1u) << "an ARP request went out, the packet waits";
	auto *ah = rte_pktmbuf_mtod_offset(out[0], rte_arp_hdr *, sizeof(rte_ether_hdr));
	EXPECT_EQ(rte_be_to_cpu_32(ah->arp_data.arp_tip), gw) << "asks for the gateway";
	FreeOut();
	Input(Arp(RTE_ARP_OP_REPLY, gw_mac, gw, kOurIp, kOurMac));
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], m);
	auto *eh = rte_pktmbuf_mtod(out[0], rte_ether_hdr *);
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &gw_mac)) << "framed to the gateway";
	auto *oip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
	EXPECT_EQ(rte_be_to_cpu_32(oip->dst_addr), far) << "addressed to the destination";
}

TEST_F(StackTest, Output_NoArpAnswer_RetriesThenEHOSTUNREACH)
{
	for (int i = 0; i < STACK_ARP_QUEUE + 1; i++) {
		struct rte_mbuf *m = IpPacket(RTE_IPV4(198, 18, 0, 50), 20);
		ASSERT_NE(m, nullptr);
		EXPECT_EQ(stack_output_ipv4(&st, m), i < STACK_ARP_QUEUE ? 0 : -ENOBUFS) << i;
	}
	EXPECT_EQ(Drops(STACK_DROP_ARP_QUEUE_FULL), 1u);
	for (int s = 0; s < 5; s++)
		Advance(EX_NS_PER_S + EX_NS_PER_MS * 150);
	EXPECT_EQ(st.stats.arp_requests_out, 1u + 3u) << "first request and three retries";
	EXPECT_EQ(g_txerr.count, STACK_ARP_QUEUE);
	EXPECT_EQ(g_txerr.err, -EHOSTUNREACH);
	EXPECT_EQ(Drops(STACK_DROP_ARP_UNRESOLVED), (uint64_t)STACK_ARP_QUEUE);
	EXPECT_EQ(st.arp_used, 0u);
}

TEST_F(StackTest, ArpResolve_PrimesTheCache_FirstPacketsDoNotWait)
{
	ASSERT_EQ(stack_arp_resolve(&st, kPeerIp), 0);
	ASSERT_EQ(out.size(), 1u) << "a request goes out with nothing queued";
	EXPECT_EQ(rte_be_to_cpu_16(rte_pktmbuf_mtod(out[0], rte_ether_hdr *)->ether_type),
			RTE_ETHER_TYPE_ARP);
	FreeOut();
	ASSERT_EQ(stack_arp_resolve(&st, kPeerIp), 0);
	EXPECT_TRUE(out.empty()) << "already resolving: no second request";
	Input(Arp(RTE_ARP_OP_REPLY, kPeerMac, kPeerIp, kOurIp, kOurMac));
	EXPECT_TRUE(out.empty()) << "nothing was waiting";
	struct rte_ether_addr mac;
	ASSERT_EQ(stack_arp_lookup(&st, kPeerIp, &mac), 0);
	EXPECT_TRUE(rte_is_same_ether_addr(&mac, &kPeerMac));
	struct rte_mbuf *m = IpPacket(kPeerIp, 20);
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(stack_output_ipv4(&st, m), 0);
	ASSERT_EQ(out.size(), 1u);
	EXPECT_EQ(out[0], m) << "the first packet leaves at once";
	EXPECT_EQ(stack_arp_resolve(&st, RTE_IPV4(198, 19, 5, 5)), -EHOSTUNREACH)
			<< "off the subnet, no gateway";
	EXPECT_EQ(st.stats.arp_requests_out, 1u);
}

TEST_F(StackTest, ArpResolve_NoAnswer_ForgottenWithoutDrops)
{
	ASSERT_EQ(stack_arp_resolve(&st, RTE_IPV4(198, 18, 0, 50)), 0);
	for (int s = 0; s < 5; s++)
		Advance(EX_NS_PER_S + EX_NS_PER_MS * 150);
	EXPECT_EQ(st.stats.arp_requests_out, 1u + 3u) << "first request and three retries";
	EXPECT_EQ(st.arp_used, 0u);
	EXPECT_EQ(Drops(STACK_DROP_ARP_UNRESOLVED), 0u) << "nothing was queued";
	EXPECT_EQ(g_txerr.count, 0);
}

TEST_F(StackTest, Output_OffLinkWithoutGateway_EHOSTUNREACH)
{
	struct rte_mbuf *m = IpPacket(RTE_IPV4(198, 19, 5, 5), 20);
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(stack_output_ipv4(&st, m), -EHOSTUNREACH);
}

TEST_F(StackTest, ArpCache_ExpiresAndDeletionKeepsOthersFindable)
{
	// 150 neighbours in two generations, learned 30 s apart; the first
	// generation expires and is deleted from the middle of probe runs.
	for (uint32_t i = 0; i < 150; i++) {
		if (i == 75)
			Advance(30 * EX_NS_PER_S);
		struct rte_ether_addr mac = kPeerMac;
		mac.addr_bytes[5] = (uint8_t)i;
		Input(Arp(RTE_ARP_OP_REQUEST, mac, RTE_IPV4(198, 18, 1, i), kOurIp));
		FreeOut();
	}
	EXPECT_EQ(st.arp_used, 150u);
	Advance(31 * EX_NS_PER_S);
	EXPECT_EQ(st.arp_used, 75u);
	for (uint32_t i = 0; i < 150; i++) {
		struct rte_ether_addr mac;
		int rc = stack_arp_lookup(&st, RTE_IPV4(198, 18, 1, i), &mac);
		if (i < 75) {
			EXPECT_EQ(rc, -ENOENT) << i;
		} else {
			ASSERT_EQ(rc, 0) << i;
			EXPECT_EQ(mac.addr_bytes[5], i);
		}
	}
}

TEST_F(StackTest, ArpTable_Full_OutputRefused)
{
	uint32_t n = 0;
	for (; n < STACK_ARP_ENTRIES; n++) {
		struct rte_ether_addr mac = kPeerMac;
		mac.addr_bytes[4] = (uint8_t)(n >> 8);
		mac.addr_bytes[5] = (uint8_t)n;
		Input(Arp(RTE_ARP_OP_REQUEST, mac, RTE_IPV4(198, 18, 2, n), kOurIp));
		FreeOut();
	}
	EXPECT_EQ(st.arp_used, STACK_ARP_ENTRIES * 3u / 4u) << "the table stops at 3/4";
	struct rte_mbuf *m = IpPacket(RTE_IPV4(198, 18, 0, 3), 20) /* on-link, not in the table */;
	ASSERT_NE(m, nullptr);
	EXPECT_EQ(stack_output_ipv4(&st, m), -ENOBUFS);
	EXPECT_EQ(Drops(STACK_DROP_ARP_TABLE_FULL), 1u);
}

TEST_F(StackTest, ArpEntryInUse_RefreshedBeforeExpiry)
{
	Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, kOurIp)); // learned at t0
	FreeOut();
	Advance(50 * EX_NS_PER_S);
	ASSERT_EQ(stack_output_ipv4(&st, IpPacket(kPeerIp, 20)), 0);
	EXPECT_EQ(out.size(), 1u) << "early in its life: no refresh";
	FreeOut();
	Advance(5 * EX_NS_PER_S); // 55 s: the last tenth of 60 s
	ASSERT_EQ(stack_output_ipv4(&st, IpPacket(kPeerIp, 20)), 0);
	ASSERT_EQ(out.size(), 2u) << "the packet, and one refresh request";
	EXPECT_EQ(st.stats.arp_requests_out, 1u);
	FreeOut();
	ASSERT_EQ(stack_output_ipv4(&st, IpPacket(kPeerIp, 20)), 0);
	EXPECT_EQ(out.size(), 1u) << "one refresh at a time";
	FreeOut();
	Input(Arp(RTE_ARP_OP_REPLY, kPeerMac, kPeerIp, kOurIp, kOurMac));
	Advance(30 * EX_NS_PER_S); // 85 s: past the first life, inside the renewed one
	struct rte_ether_addr mac;
	EXPECT_EQ(stack_arp_lookup(&st, kPeerIp, &mac), 0);
}

TEST_F(StackTest, SinkNotReady_FrameDroppedAndCounted)
{
	static const struct ex_sink_ops full_ops = { [](struct ex_sink *, struct ex_context *) {
							    return EX_PENDING;
						    },
		capture_send, capture_ready, capture_ready, "full" };
	struct ex_sink full = { &full_ops, 0 };
	struct ex_sink *saved = st.out;
	st.out = &full;
	Input(Ping(kPeerIp, kOurIp));
	st.out = saved;
	EXPECT_TRUE(out.empty());
	EXPECT_EQ(Drops(STACK_DROP_TX), 1u);
	EXPECT_EQ(st.stats.tx_frames, 0u);
}

// A service address (VIP) is ours for IP: a ping to it is answered from it.
// ARP never answers for it (a router sends it to us), and it cannot be an
// address of the subnet, a broadcast or a multicast one.
TEST_F(StackTest, Vip_PingAnsweredFromIt_ArpNeverAnswered_BadOnesRefused)
{
	const uint32_t vip = RTE_IPV4(198, 19, 7, 1);
	Input(Ping(kPeerIp, vip, 8));
	EXPECT_TRUE(out.empty()) << "not ours yet";
	EXPECT_EQ(st.stats.drops[STACK_DROP_IP_NOT_FOR_US], 1u);
	ASSERT_EQ(stack_vip_add(&st, vip), 0);
	ASSERT_EQ(stack_vip_add(&st, vip), 0) << "idempotent";
	EXPECT_EQ(st.n_vip, 1u);
	EXPECT_TRUE(stack_ip_local(&st, vip));
	EXPECT_TRUE(stack_ip_local(&st, kOurIp));
	Input(Ping(kPeerIp, vip, 8));
	ASSERT_EQ(out.size(), 1u);
	auto *ip = rte_pktmbuf_mtod_offset(out[0], rte_ipv4_hdr *, sizeof(rte_ether_hdr));
	EXPECT_EQ(rte_be_to_cpu_32(ip->src_addr), vip);
	EXPECT_EQ(rte_be_to_cpu_32(ip->dst_addr), kPeerIp);
	FreeOut();
	Input(Arp(RTE_ARP_OP_REQUEST, kPeerMac, kPeerIp, vip));
	EXPECT_TRUE(out.empty()) << "no ARP answer for a VIP";
	EXPECT_EQ(stack_vip_add(&st, 0), -EINVAL);
	EXPECT_EQ(stack_vip_add(&st, RTE_IPV4(198, 18, 0, 9)), -EINVAL) << "on the subnet";
	EXPECT_EQ(stack_vip_add(&st, RTE_IPV4(224, 0, 0, 1)), -EINVAL);
	EXPECT_EQ(stack_vip_add(&st, 0xffffffffu), -EINVAL);
	for (uint32_t i = 2; i <= STACK_VIPS; i++)
		ASSERT_EQ(stack_vip_add(&st, RTE_IPV4(198, 19, 7, i)), 0);
	EXPECT_EQ(stack_vip_add(&st, RTE_IPV4(198, 19, 8, 1)), -ENOSPC);
	// A packet from a VIP of ours is impossible (LAND).
	Input(Ping(vip, kOurIp, 8));
	EXPECT_TRUE(out.empty());
	EXPECT_EQ(st.stats.drops[STACK_DROP_IP_BAD_SOURCE], 1u);
}

// A received packet handed to a neighbour: the same IPv4 packet (addresses,
// TTL, checksums), in a new Ethernet header from us to the neighbour's MAC,
// resolved by ARP first if need be.
TEST_F(StackTest, ForwardIpv4_SamePacketToTheNeighboursMac)
{
	const uint32_t vip = RTE_IPV4(198, 19, 7, 1);
	auto f = Ping(RTE_IPV4(198, 18, 5, 5), vip, 20);
	struct rte_mbuf *m = Frame(f.data(), f.size());
	ASSERT_NE(m, nullptr);
	ASSERT_EQ(stack_forward_ipv4(&st, m, sizeof(rte_ether_hdr), kPeerIp), 0);
	ASSERT_EQ(out.size(), 1u) << "an ARP request; the packet waits";
	FreeOut();
	Input(Arp(RTE_ARP_OP_REPLY, kPeerMac, kPeerIp, kOurIp, kOurMac));
	ASSERT_EQ(out.size(), 1u);
	std::vector<uint8_t> got(rte_pktmbuf_pkt_len(out[0]));
	auto *p = static_cast<const uint8_t *>(
			rte_pktmbuf_read(out[0], 0, (uint32_t)got.size(), got.data()));
	ASSERT_NE(p, nullptr);
	got.assign(p, p + got.size());
	ASSERT_EQ(got.size(), f.size());
	auto *eh = reinterpret_cast<rte_ether_hdr *>(got.data());
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->dst_addr, &kPeerMac));
	EXPECT_TRUE(rte_is_same_ether_addr(&eh->src_addr, &kOurMac));
	EXPECT_TRUE(std::equal(f.begin() + 14, f.end(), got.begin() + 14))
			<< "the IPv4 packet as it came";
	FreeOut();
	// Only to a neighbour on the link.
	m = Frame(f.data(), f.size());
	EXPECT_EQ(stack_forward_ipv4(&st, m, sizeof(rte_ether_hdr), RTE_IPV4(198, 20, 0, 1)),
			-EINVAL);
	m = Frame(f.data(), f.size());
	EXPECT_EQ(stack_forward_ipv4(&st, m, sizeof(rte_ether_hdr), kOurIp), -EINVAL);
	EXPECT_TRUE(out.empty());
}
