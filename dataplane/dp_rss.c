/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rss.c - symmetric Toeplitz hashing in software. Any lcore.
 */
#include <rte_thash.h>

#include "dp_rss.h"

#define K 0x6d, 0x5a
const uint8_t dp_rss_symmetric_key[DP_RSS_KEY_LEN] = { K, K, K, K, K, K, K, K, K, K, K, K, K, K, K,
	K, K, K, K, K };
#undef K

uint32_t
dp_rss_hash_ipv4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint32_t tuple[3];

	/* rte_softrss wants the tuple in CPU order, as rte_ipv4_tuple lays it. */
	tuple[0] = src;
	tuple[1] = dst;
	tuple[2] = ((uint32_t)sport << 16) | dport;
	return rte_softrss(tuple, 3, dp_rss_symmetric_key);
}

uint16_t
dp_rss_queue(const struct dp_port *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport)
{
	if (!p->rss || p->reta_size == 0)
		return 0;
	/* The NIC indexes its redirection table (a power of two) with the
	 * hash's low bits. */
	return p->reta[dp_rss_hash_ipv4(src, dst, sport, dport) & (p->reta_size - 1)];
}
