/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_rss.h - the symmetric RSS key and the software Toeplitz hash that tells
 * which queue a 4-tuple lands on.
 *
 * The key repeats 0x6d5a, which makes the Toeplitz hash of (src, dst, sport,
 * dport) equal to that of (dst, src, dport, sport): both directions of a flow
 * reach the same queue, hence the same lcore. The TCP stack uses
 * dp_rss_queue() to pick local ports whose replies come back to the lcore
 * that opened the connection.
 *
 * Without RSS (reta_size 0, e.g. net_tap with one queue, net_null) every
 * packet is on queue 0; a multi-lcore app then receives on one lcore and
 * steers to the owner over rings (software steering), at the cost of a hop.
 *
 * Any lcore; pure functions.
 */
#ifndef RIPTIDE_DP_RSS_H
#define RIPTIDE_DP_RSS_H

#include <stdint.h>

#include "dp_port.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DP_RSS_KEY_LEN 40

/** The symmetric key (40 bytes of 0x6d5a). */
extern const uint8_t dp_rss_symmetric_key[DP_RSS_KEY_LEN];

/**
 * Toeplitz hash of an IPv4 4-tuple with the symmetric key, as the NIC
 * computes it. Addresses and ports in host byte order.
 */
uint32_t dp_rss_hash_ipv4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport);

/** The rx queue of port p that a packet with this tuple lands on. */
uint16_t dp_rss_queue(const struct dp_port *p, uint32_t src, uint32_t dst, uint16_t sport,
		uint16_t dport);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_RSS_H */
