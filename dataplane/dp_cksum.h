/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_cksum.h - the Internet checksum (RFC 1071) for ports that cannot offload
 * it. The same results as DPDK's rte_raw_cksum() family, faster: eight bytes
 * at a time into a 64-bit sum (end-around carry folded once at the end), and
 * an AVX2 loop chosen at run time where the CPU has it (DPDK's Debian build
 * targets SSE4.2, so the AVX2 code is compiled separately and picked by a CPU
 * check). On a receiver without checksum offload, verification is the largest
 * per-byte cost in the TCP stack, so this is on the hot path.
 *
 * Sums are kept as 32-bit partial sums in host order (as rte_raw_cksum's),
 * folded to 16 bits by dp_cksum_fold().
 */
#ifndef RIPTIDE_DP_CKSUM_H
#define RIPTIDE_DP_CKSUM_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf_core.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_ipv4_hdr;

/** Partial sum of len bytes at buf, added to sum (32 bits, not folded). */
uint32_t dp_cksum_raw(const void *buf, size_t len, uint32_t sum);

/** Fold a partial sum to 16 bits (not complemented). */
static inline uint16_t
dp_cksum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/**
 * Partial sum of len bytes of a chain from offset off (segments of odd length
 * handled). @return 0, or -1 if the chain is shorter than off + len.
 */
int dp_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t *sum);

/**
 * The TCP or UDP checksum of an IPv4 packet in m: the pseudo-header of ip and
 * the l4 bytes from offset l4_off to the packet's end, with the checksum field
 * as it is (set it to 0 first). 0 comes out as 0xffff, as rte_ipv4_udptcp_cksum.
 */
uint16_t dp_ipv4_l4_cksum_mbuf(
		const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off);

/** 0 if the TCP or UDP checksum of the IPv4 packet in m is right, else -1. */
int dp_ipv4_l4_cksum_verify(
		const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off);

/**
 * Whether a received IPv4 packet's TCP or UDP checksum is to be accepted, from
 * the PMD's RX_L4_CKSUM flags first (DPDK's meanings):
 * - GOOD: the PMD verified it: accepted.
 * - NONE: the checksum field is not complete (virtio's partially checksummed
 *   packets carry only the pseudo-header sum) but the PMD vouches for the
 *   data: accepted, never verified (a verify would call it bad).
 * - BAD: the PMD found it wrong: refused, no second look.
 * - UNKNOWN: the PMD says nothing: verified in software.
 * @return 0 to accept, -1 to drop as a bad checksum.
 */
static inline int
dp_ipv4_l4_cksum_rx_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) {
	case RTE_MBUF_F_RX_L4_CKSUM_GOOD:
	case RTE_MBUF_F_RX_L4_CKSUM_NONE:
		return 0;
	case RTE_MBUF_F_RX_L4_CKSUM_BAD:
		return -1;
	default: /* RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN */
		return dp_ipv4_l4_cksum_verify(m, ip, l4_off);
	}
}

/** What the PMD said of a received packet's L4 checksum (its RX_L4_CKSUM flags). */
enum dp_rx_csum {
	DP_RX_CSUM_UNKNOWN = 0, /**< no flag: verified in software */
	DP_RX_CSUM_BAD = 1,
	DP_RX_CSUM_GOOD = 2,
	DP_RX_CSUM_NONE = 3, /**< partial (virtio NEEDS_CSUM): data vouched for */
	DP_RX_CSUM_MAX
};

/** The RX_L4_CKSUM flags of m as a dp_rx_csum, branch-free (BAD is bit 3 and
 * GOOD bit 8 of ol_flags; NONE is both). For per-flag counters. */
static inline enum dp_rx_csum
dp_rx_l4_csum(const struct rte_mbuf *m)
{
	uint64_t f = m->ol_flags;

	return (enum dp_rx_csum)(((f & RTE_MBUF_F_RX_L4_CKSUM_BAD) ? 1u : 0u) |
				 ((f & RTE_MBUF_F_RX_L4_CKSUM_GOOD) ? 2u : 0u));
}

/** "unknown", "bad", "good" or "none". */
const char *dp_rx_csum_name(enum dp_rx_csum c);

/**
 * The same for the IPv4 header checksum (RX_IP_CKSUM flags; ihl bytes of
 * header at ip, contiguous). @return 0 to accept, -1 to drop.
 */
static inline int
dp_ipv4_hdr_cksum_rx_ok(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t ihl)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
	case RTE_MBUF_F_RX_IP_CKSUM_NONE:
		return 0;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return -1;
	default: /* RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN */
		return dp_cksum_fold(dp_cksum_raw(ip, ihl, 0)) == 0xffff ? 0 : -1;
	}
}

/**
 * The IPv4 header checksum (the field set to 0 first), from 16-bit loads:
 * rte_ipv4_cksum()'s vectorised loop reads the header just written by
 * narrow stores in 16-byte loads, which cannot be store-forwarded and stall
 * the core; ten 16-bit loads forward.
 */
static inline uint16_t
dp_ipv4_hdr_cksum(const void *ip)
{
	/* volatile: one 16-bit load per word, never merged into a vector load.
	 * Headers in mbufs sit at even addresses. */
	const volatile uint16_t *w = (const volatile uint16_t *)ip;
	uint32_t n = (uint32_t)(*(const uint8_t *)ip & 0xf) * 2, s = 0, i;

	for (i = 0; i < n; i++)
		s += w[i];
	return (uint16_t)~dp_cksum_fold(s);
}

/** "avx2" or "scalar": the loop this CPU uses (for benchmarks' reports). */
const char *dp_cksum_impl(void);

/**
 * Use one loop: "avx2" or "scalar" (tests compare both; benchmarks may).
 * @return 0, -ENOTSUP if this CPU lacks it, -EINVAL for another name.
 */
int dp_cksum_use(const char *impl);

#ifdef __cplusplus
}
#endif

#endif
