/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_isn.h - initial sequence numbers per RFC 6528:
 *     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * where M is a 4-microsecond timer and F is SipHash-2-4 keyed with a
 * 128-bit secret chosen at start. Predicting another connection's ISN needs
 * the secret. Any lcore (pure, given the key).
 */
#ifndef RIPTIDE_TCP_ISN_H
#define RIPTIDE_TCP_ISN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** SipHash-2-4 of len bytes with a 16-byte key. */
uint64_t tcp_siphash24(const uint8_t key[16], const void *data, size_t len);

/**
 * The ISN of a connection (addresses and ports in host order) at time now_ns.
 * M advances by one every 4 us (RFC 6528 §3).
 */
uint32_t tcp_isn(const uint8_t key[16], uint32_t local_ip, uint16_t local_port, uint32_t remote_ip,
		uint16_t remote_port, uint64_t now_ns);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_TCP_ISN_H */
