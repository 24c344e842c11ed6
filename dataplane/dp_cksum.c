/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_cksum.c - the Internet checksum: a 64-bit scalar loop and an AVX2 loop,
 * chosen once by a CPU check. Both return the same partial sums as
 * rte_raw_cksum() (16-bit words loaded in host order; one's complement
 * addition is byte-order independent, RFC 1071 section 2(B)).
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_cksum.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DP_CKSUM_HAVE_AVX2 1
#endif

/* Fold a 64-bit sum of 16-bit words to a 32-bit partial sum. */
static inline uint32_t
fold64(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32); /* < 2^33 */
	s = (s & 0xffffffff) + (s >> 32); /* <= 2^32: one more carry at most */
	s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

/* One's complement addition in 64 bits: the carry out goes back in. */
static inline uint64_t
add64(uint64_t s, uint64_t x)
{
	s += x;
	return s + (s < x);
}

/* 32 bytes a turn as eight 32-bit words into four 64-bit sums: no carry
 * can leave a sum (each gains < 2^33 a turn), so the adds do not chain
 * through the carry flag and overlap; the sums are combined at the end. */
static uint64_t
sum_scalar(const uint8_t *p, size_t len, uint64_t s)
{
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;

	while (len >= 32) {
		uint64_t a, b, c, d;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&c, p + 16, 8);
		memcpy(&d, p + 24, 8);
		s0 += (a & 0xffffffff) + (a >> 32);
		s1 += (b & 0xffffffff) + (b >> 32);
		s2 += (c & 0xffffffff) + (c >> 32);
		s3 += (d & 0xffffffff) + (d >> 32);
		p += 32;
		len -= 32;
	}
	/* Each sum is < 2^33 x turns: far from 2^64 for any buffer in memory. */
	s = add64(s, s0);
	s = add64(s, s1);
	s = add64(s, s2);
	s = add64(s, s3);
	while (len >= 4) {
		uint32_t w;

		memcpy(&w, p, 4);
		s = add64(s, w);
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t h;

		memcpy(&h, p, 2);
		s = add64(s, h);
		p += 2;
		len -= 2;
	}
	if (len == 1) {
		uint16_t h = 0;

		memcpy(&h, p, 1); /* the odd byte, padded with zero (in memory order) */
		s = add64(s, h);
	}
	return s;
}

#ifdef DP_CKSUM_HAVE_AVX2
/* 64 bytes a turn in two accumulators (so the adds of one turn do not wait
 * on each other): each 32-bit lane splits into its two 16-bit words and both
 * are added into 32-bit lanes. 2 x 0xffff per lane per turn cannot carry out
 * of 32 bits within 16,384 turns, so the lanes are emptied that often. */
__attribute__((target("avx2"))) static uint64_t
sum_avx2(const uint8_t *p, size_t len, uint64_t s)
{
	const __m256i lo16 = _mm256_set1_epi32(0xffff);

	while (len >= 64) {
		__m256i a0 = _mm256_setzero_si256(), a1 = _mm256_setzero_si256();
		size_t turns = RTE_MIN(len / 64, (size_t)16384);
		uint32_t lane[8];
		size_t i;

		for (i = 0; i < turns; i++) {
			__m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)p);
			__m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32));

			a0 = _mm256_add_epi32(a0, _mm256_and_si256(v0, lo16));
			a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v0, 16));
			a0 = _mm256_add_epi32(a0, _mm256_and_si256(v1, lo16));
			a1 = _mm256_add_epi32(a1, _mm256_srli_epi32(v1, 16));
			p += 64;
		}
		len -= turns * 64;
		_mm256_storeu_si256((__m256i *)(void *)lane, a0);
		for (i = 0; i < 8; i++)
			s = add64(s, lane[i]);
		_mm256_storeu_si256((__m256i *)(void *)lane, a1);
		for (i = 0; i < 8; i++)
			s = add64(s, lane[i]);
	}
	/* Clear the upper halves before the tail's SSE code: gcc made the tail a
	 * jump without vzeroupper, and the AVX-to-SSE transition then cost more
	 * than the whole sum (1448 B: 180 ns instead of 50). */
	_mm256_zeroupper();
	return sum_scalar(p, len, s);
}
#endif

typedef uint64_t sum_fn(const uint8_t *p, size_t len, uint64_t s);
static sum_fn *sum_impl;

static sum_fn *
pick(void)
{
#ifdef DP_CKSUM_HAVE_AVX2
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return sum_avx2;
#endif
	return sum_scalar;
}

static inline uint64_t
sum_bytes(const void *buf, size_t len, uint64_t s)
{
	if (unlikely(sum_impl == NULL))
		sum_impl = pick(); /* idempotent: a race writes the same pointer */
	/* Short runs (headers) are not worth the vector set-up. */
	if (len < 128)
		return sum_scalar(buf, len, s);
	return sum_impl(buf, len, s);
}

const char *
dp_rx_csum_name(enum dp_rx_csum c)
{
	static const char *const names[DP_RX_CSUM_MAX] = { "unknown", "bad", "good", "none" };

	return c < DP_RX_CSUM_MAX ? names[c] : "?";
}

const char *
dp_cksum_impl(void)
{
	if (sum_impl == NULL)
		sum_impl = pick();
#ifdef DP_CKSUM_HAVE_AVX2
	if (sum_impl == sum_avx2)
		return "avx2";
#endif
	return "scalar";
}

int
dp_cksum_use(const char *impl)
{
	if (strcmp(impl, "scalar") == 0) {
		sum_impl = sum_scalar;
		return 0;
	}
	if (strcmp(impl, "avx2") != 0)
		return -EINVAL;
#ifdef DP_CKSUM_HAVE_AVX2
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		sum_impl = sum_avx2;
		return 0;
	}
#endif
	return -ENOTSUP;
}

uint32_t
dp_cksum_raw(const void *buf, size_t len, uint32_t sum)
{
	return fold64(sum_bytes(buf, len, sum));
}

/* Swap the two bytes of each 16-bit word of a partial sum: what a run that
 * starts at an odd offset of the packet contributes. */
static inline uint32_t
swap16_sum(uint32_t s)
{
	uint16_t f = dp_cksum_fold(s);

	return (uint32_t)(uint16_t)((f << 8) | (f >> 8));
}

int
dp_cksum_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t *sum)
{
	uint64_t s = 0;
	uint32_t done = 0;

	while (m != NULL && off >= m->data_len) {
		off -= m->data_len;
		m = m->next;
	}
	while (m != NULL && done < len) {
		uint32_t n = RTE_MIN((uint32_t)m->data_len - off, len - done);
		uint32_t part = fold64(
				sum_bytes(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n, 0));

		/* A run that starts at an odd offset of the range has its bytes
		 * in the other halves of the words: swap its folded sum. (DPDK
		 * 22.11's rte_raw_cksum_mbuf swaps the unfolded sum truncated to
		 * 16 bits, which is wrong once it has carried.) */
		s += (done & 1) ? swap16_sum(part) : part;
		done += n;
		off = 0;
		m = m->next;
	}
	if (done < len)
		return -1;
	*sum = fold64(add64(s, *sum));
	return 0;
}

static inline uint32_t
phdr_sum(const struct rte_ipv4_hdr *ip, uint32_t l4_len)
{
	uint64_t s = 0;
	uint32_t a, b;

	memcpy(&a, &ip->src_addr, 4);
	memcpy(&b, &ip->dst_addr, 4);
	s = (uint64_t)a + b;
	s += rte_cpu_to_be_16((uint16_t)ip->next_proto_id);
	s += rte_cpu_to_be_16((uint16_t)l4_len);
	return fold64(s);
}

static inline uint32_t
l4_len_of(const struct rte_ipv4_hdr *ip)
{
	return (uint32_t)rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);
}

uint16_t
dp_ipv4_l4_cksum_mbuf(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off)
{
	uint32_t l4_len = l4_len_of(ip), sum = phdr_sum(ip, l4_len);
	uint16_t ck;

	if (dp_cksum_mbuf(m, l4_off, l4_len, &sum) != 0)
		return 0;
	ck = (uint16_t)~dp_cksum_fold(sum);
	return ck == 0 ? 0xffff : ck;
}

int
dp_ipv4_l4_cksum_verify(const struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, uint32_t l4_off)
{
	uint32_t l4_len = l4_len_of(ip), sum = phdr_sum(ip, l4_len);

	if (dp_cksum_mbuf(m, l4_off, l4_len, &sum) != 0)
		return -1;
	return dp_cksum_fold(sum) == 0xffff ? 0 : -1;
}
