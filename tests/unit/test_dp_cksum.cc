// SPDX-License-Identifier: BSD-3-Clause
// Unit tests for dataplane/dp_cksum.c: every loop (scalar and, where the CPU
// has it, AVX2) gives rte_raw_cksum's sums for every length 0..3000 at every
// alignment; a chain of odd-length segments sums as the same bytes laid out
// flat (DPDK 22.11's rte_raw_cksum_mbuf gets these wrong, so the reference is
// rte_raw_cksum over the flat bytes); the IPv4 TCP checksum equals DPDK's over
// the flat packet, and verification accepts it and rejects a flipped bit.
#include <cerrno>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_cksum.h"

namespace
{

std::vector<std::string>
impls()
{
	std::vector<std::string> v{ "scalar" };
	if (dp_cksum_use("avx2") == 0)
		v.push_back("avx2");
	return v;
}

class DpCksum : public ::testing::TestWithParam<std::string>
{
      protected:
	void SetUp() override
	{
		ASSERT_EQ(dp_cksum_use(GetParam().c_str()), 0);
	}
	void TearDown() override
	{
		dp_cksum_use(impls().back().c_str());
	}
};

TEST_P(DpCksum, RawMatchesDpdkAtEveryLengthAndAlignment)
{
	std::mt19937 rng(1);
	std::vector<uint8_t> buf(3100);
	for (auto &b : buf)
		b = (uint8_t)rng();
	for (size_t align = 0; align < 8; align++)
		for (size_t len = 0; len <= 3000; len++) {
			uint16_t want = (uint16_t)rte_raw_cksum(buf.data() + align, len);
			uint16_t got = dp_cksum_fold(dp_cksum_raw(buf.data() + align, len, 0));
			ASSERT_EQ(got, want) << "len " << len << " align " << align;
		}
	// All ones: the largest words, where lost carries would show.
	std::vector<uint8_t> ones(70000, 0xff);
	EXPECT_EQ(dp_cksum_fold(dp_cksum_raw(ones.data(), ones.size(), 0)),
			(uint16_t)rte_raw_cksum(ones.data(), ones.size()));
	// A running sum carries on as DPDK's does.
	uint32_t s = dp_cksum_raw(buf.data(), 1000, 0);
	s = dp_cksum_raw(buf.data() + 1000, 1000, s);
	EXPECT_EQ(dp_cksum_fold(s), (uint16_t)rte_raw_cksum(buf.data(), 2000));
}

class DpCksumMbuf : public DpCksum
{
      protected:
	void SetUp() override
	{
		DpCksum::SetUp();
		pool = rte_pktmbuf_pool_create(("ck" + std::to_string(n++)).c_str(), 256, 0, 0,
				RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
		ASSERT_NE(pool, nullptr);
	}
	void TearDown() override
	{
		EXPECT_EQ(rte_mempool_avail_count(pool), 256u); // every mbuf back
		rte_mempool_free(pool);
		DpCksum::TearDown();
	}
	// A chain whose segments hold the given lengths of bytes from data.
	struct rte_mbuf *chain(const std::vector<uint16_t> &lens, const uint8_t *data)
	{
		struct rte_mbuf *head = nullptr;
		for (uint16_t l : lens) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
			EXPECT_NE(m, nullptr);
			std::memcpy(rte_pktmbuf_append(m, l), data, l);
			data += l;
			if (head == nullptr)
				head = m;
			else
				EXPECT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		return head;
	}
	struct rte_mempool *pool = nullptr;
	static inline int n = 0;
};

TEST_P(DpCksumMbuf, ChainsOfOddSegmentsMatchDpdk)
{
	std::mt19937 rng(2);
	std::vector<uint8_t> data(6000);
	for (auto &b : data)
		b = (uint8_t)rng();
	for (int round = 0; round < 200; round++) {
		std::vector<uint16_t> lens;
		uint32_t total = 0;
		for (int k = 0; k < 1 + (int)(rng() % 5); k++) {
			lens.push_back((uint16_t)(1 + rng() % 1200));
			total += lens.back();
		}
		struct rte_mbuf *m = chain(lens, data.data());
		uint32_t off = rng() % total, len = rng() % (total - off + 1);
		uint16_t want = (uint16_t)rte_raw_cksum(data.data() + off, len);
		uint32_t got = 0;
		ASSERT_EQ(dp_cksum_mbuf(m, off, len, &got), 0);
		EXPECT_EQ(dp_cksum_fold(got), want) << "round " << round;
		uint32_t past = 0;
		EXPECT_EQ(dp_cksum_mbuf(m, off, total - off + 1, &past), -1); // beyond the end
		rte_pktmbuf_free(m);
	}
}

TEST_P(DpCksumMbuf, Ipv4TcpChecksumAndVerify)
{
	std::mt19937 rng(3);
	for (uint16_t plen : { 0, 1, 7, 536, 1447, 1448, 2999 }) {
		std::vector<uint8_t> pkt(20 + 20 + plen);
		for (auto &b : pkt)
			b = (uint8_t)rng();
		auto *ip = reinterpret_cast<struct rte_ipv4_hdr *>(pkt.data());
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)pkt.size());
		ip->next_proto_id = IPPROTO_TCP;
		auto *th = reinterpret_cast<struct rte_tcp_hdr *>(ip + 1);
		th->cksum = 0;
		// The IP header whole in the first segment (as the stack lays it
		// out); the TCP bytes split at odd places.
		uint16_t a = (uint16_t)(20 + (pkt.size() - 20) / 3),
			 b = (uint16_t)((pkt.size() - 20) / 3);
		struct rte_mbuf *m = chain({ a, b, (uint16_t)(pkt.size() - a - b) }, pkt.data());
		auto *mip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		uint16_t want = rte_ipv4_udptcp_cksum(ip, th); // over the flat packet
		uint16_t got = dp_ipv4_l4_cksum_mbuf(m, mip, 20);
		EXPECT_EQ(got, want) << plen;
		rte_pktmbuf_free(m);
		th->cksum = got;
		m = chain({ a, b, (uint16_t)(pkt.size() - a - b) }, pkt.data());
		mip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
		EXPECT_EQ(dp_ipv4_l4_cksum_verify(m, mip, 20), 0) << plen;
		rte_pktmbuf_free(m);
		// One flipped bit in the TCP header or payload is caught.
		for (size_t at = 20; at < pkt.size(); at += 1 + pkt.size() / 17) {
			pkt[at] ^= 0x10;
			m = chain({ a, b, (uint16_t)(pkt.size() - a - b) }, pkt.data());
			mip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
			EXPECT_EQ(dp_ipv4_l4_cksum_verify(m, mip, 20), -1) << plen << " at " << at;
			rte_pktmbuf_free(m);
			pkt[at] ^= 0x10;
		}
	}
}

INSTANTIATE_TEST_SUITE_P(Loops, DpCksum, ::testing::ValuesIn(impls()));
INSTANTIATE_TEST_SUITE_P(Loops, DpCksumMbuf, ::testing::ValuesIn(impls()));

// dp_rx_l4_csum() maps DPDK's two-bit RX_L4_CKSUM field onto the per-flag
// counters' index; a wrong bit here files offloaded packets under the wrong
// flag in every app's stats.
TEST(DpRxCsum, EachFlagHasItsOwnClassAndName)
{
	struct rte_mbuf m;
	const struct {
		uint64_t flag;
		enum dp_rx_csum want;
		const char *name;
	} cases[] = {
		{ RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN, DP_RX_CSUM_UNKNOWN, "unknown" },
		{ RTE_MBUF_F_RX_L4_CKSUM_BAD, DP_RX_CSUM_BAD, "bad" },
		{ RTE_MBUF_F_RX_L4_CKSUM_GOOD, DP_RX_CSUM_GOOD, "good" },
		{ RTE_MBUF_F_RX_L4_CKSUM_NONE, DP_RX_CSUM_NONE, "none" },
	};

	for (const auto &c : cases) {
		memset(&m, 0, sizeof(m));
		// other flags set around the field do not change the answer
		m.ol_flags = c.flag | RTE_MBUF_F_RX_IP_CKSUM_BAD | RTE_MBUF_F_RX_RSS_HASH;
		EXPECT_EQ(dp_rx_l4_csum(&m), c.want) << c.name;
		EXPECT_STREQ(dp_rx_csum_name(c.want), c.name);
	}
	EXPECT_STREQ(dp_rx_csum_name(DP_RX_CSUM_MAX), "?");
}

TEST(DpCksumUse, UnknownNameIsRejected)
{
	EXPECT_EQ(dp_cksum_use("sse9"), -EINVAL);
	EXPECT_TRUE(std::string(dp_cksum_impl()) == "avx2" ||
			std::string(dp_cksum_impl()) == "scalar");
}

} // namespace
