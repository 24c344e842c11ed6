// SPDX-License-Identifier: BSD-3-Clause
//
// stack_fixture.h - a stack instance over an injected clock whose frames go
// to a capture; frame builders for ARP and ICMP echo. Shared by the
// tcpstack unit tests; every test ends with the mbuf pool at its baseline.
#ifndef RIPTIDE_STACK_FIXTURE_H
#define RIPTIDE_STACK_FIXTURE_H

#include <cerrno>
#include <cstring>
#include <vector>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "stack.h"
#include "ut_helpers.h"

inline const uint32_t kOurIp = RTE_IPV4(198, 18, 0, 1);
inline const uint32_t kPeerIp = RTE_IPV4(198, 18, 0, 2);
inline const struct rte_ether_addr kOurMac = { { 0x02, 0, 0, 0, 0, 0x01 } };
inline const struct rte_ether_addr kPeerMac = { { 0x02, 0, 0, 0, 0, 0x02 } };
inline const struct rte_ether_addr kBcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

inline std::vector<struct rte_mbuf *> *g_out;

// A sink that keeps every frame the stack sends, for the test to inspect.
inline enum ex_poll
capture_ready(struct ex_sink *, struct ex_context *)
{
	return EX_READY;
}

inline int
capture_send(struct ex_sink *, union ex_item item)
{
	auto *b = static_cast<struct dp_burst *>(item.ptr);
	for (uint16_t i = 0; i < b->n; i++)
		g_out->push_back(b->pkts[i]);
	b->n = 0;
	return 0;
}

inline const struct ex_sink_ops capture_ops = { capture_ready, capture_send, capture_ready,
	capture_ready, "capture" };
inline struct ex_sink capture_sink = { &capture_ops, 0 };

struct tx_error {
	int err = 0;
	int count = 0;
};
inline tx_error g_txerr;

inline void
on_tx_error(struct ip_iface *, struct rte_mbuf *, int err)
{
	g_txerr.err = err;
	g_txerr.count++;
}

class StackTest : public ExecutorFixture
{
      protected:
	struct rte_mempool *pool = nullptr;
	struct ip_iface st;
	std::vector<struct rte_mbuf *> out;

	void SetUp() override
	{
		ExecutorFixture::SetUp();
		static int n;
		pool = rte_pktmbuf_pool_create(("stack_ut" + std::to_string(++n)).c_str(), 1023, 0,
				0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
		g_out = &out;
		g_txerr = {};
		struct stack_config cfg;
		stack_config_defaults(&cfg);
		cfg.ip = kOurIp;
		cfg.prefix_len = 24;
		cfg.mac = kOurMac;
		ASSERT_EQ(stack_init(&st, &cfg, ex, pool, &capture_sink), 0);
		st.on_tx_error = on_tx_error;
	}

	void TearDown() override
	{
		FreeOut();
		stack_fini(&st);
		if (pool != nullptr) {
			EXPECT_EQ(rte_mempool_in_use_count(pool), 0u) << "mbufs leaked";
			rte_mempool_free(pool);
		}
		ExecutorFixture::TearDown();
	}

	void FreeOut()
	{
		for (auto *m : out)
			rte_pktmbuf_free(m);
		out.clear();
	}

	struct rte_mbuf *Frame(const void *data, size_t len)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		EXPECT_NE(m, nullptr) << "the pool ran dry";
		if (m != nullptr)
			std::memcpy(rte_pktmbuf_append(m, (uint16_t)len), data, len);
		return m;
	}

	std::vector<uint8_t> Arp(uint16_t op, const struct rte_ether_addr &sha, uint32_t sip,
			uint32_t tip, const struct rte_ether_addr &eth_dst = kBcast)
	{
		std::vector<uint8_t> f(sizeof(rte_ether_hdr) + sizeof(rte_arp_hdr));
		auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
		auto *ah = reinterpret_cast<rte_arp_hdr *>(eh + 1);
		eh->dst_addr = eth_dst;
		eh->src_addr = sha;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
		ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ah->arp_hlen = 6;
		ah->arp_plen = 4;
		ah->arp_opcode = rte_cpu_to_be_16(op);
		ah->arp_data.arp_sha = sha;
		ah->arp_data.arp_sip = rte_cpu_to_be_32(sip);
		ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
		return f;
	}

	// Ethernet + IPv4 + ICMP echo request with `payload` bytes of data.
	std::vector<uint8_t> Ping(uint32_t src, uint32_t dst, size_t payload = 56,
			const struct rte_ether_addr &eth_dst = kOurMac)
	{
		std::vector<uint8_t> f(sizeof(rte_ether_hdr) + sizeof(rte_ipv4_hdr) +
				       sizeof(rte_icmp_hdr) + payload);
		auto *eh = reinterpret_cast<rte_ether_hdr *>(f.data());
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(eh + 1);
		auto *ic = reinterpret_cast<rte_icmp_hdr *>(ip + 1);
		eh->dst_addr = eth_dst;
		eh->src_addr = kPeerMac;
		eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(f.size() - sizeof(*eh)));
		ip->time_to_live = 64;
		ip->next_proto_id = IPPROTO_ICMP;
		ip->src_addr = rte_cpu_to_be_32(src);
		ip->dst_addr = rte_cpu_to_be_32(dst);
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
		ic->icmp_ident = rte_cpu_to_be_16(0x1234);
		ic->icmp_seq_nb = rte_cpu_to_be_16(7);
		for (size_t i = 0; i < payload; i++)
			reinterpret_cast<uint8_t *>(ic + 1)[i] = (uint8_t)i;
		ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + payload);
		return f;
	}

	// An IPv4 packet of len bytes (header included) for stack_output_ipv4.
	struct rte_mbuf *IpPacket(uint32_t dst, uint16_t len, uint8_t proto = IPPROTO_UDP)
	{
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (m == nullptr)
			return nullptr;
		char *p = rte_pktmbuf_append(m, len);
		if (p == nullptr) {
			rte_pktmbuf_free(m);
			return nullptr;
		}
		std::vector<uint8_t> zero(len, 0);
		std::memcpy(p, zero.data(), len);
		auto *ip = reinterpret_cast<rte_ipv4_hdr *>(p);
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(len);
		ip->time_to_live = 64;
		ip->next_proto_id = proto;
		ip->src_addr = rte_cpu_to_be_32(kOurIp);
		ip->dst_addr = rte_cpu_to_be_32(dst);
		return m;
	}

	void Input(const std::vector<uint8_t> &f)
	{
		struct rte_mbuf *m = Frame(f.data(), f.size());
		if (m != nullptr) { // a dry pool fails the test, not the process
			stack_input(&st, m);
			stack_rx_burst_end(&st); // each frame its own burst
		}
	}

	// A frame as a PMD hands it over with rx offload flags set
	// (RTE_MBUF_F_RX_*_CKSUM_*).
	void InputFlagged(const std::vector<uint8_t> &f, uint64_t ol_flags)
	{
		struct rte_mbuf *m = Frame(f.data(), f.size());
		m->ol_flags |= ol_flags;
		stack_input(&st, m);
		stack_rx_burst_end(&st);
	}

	uint64_t Drops(enum stack_drop d)
	{
		return st.stats.drops[d];
	}
};

#endif
