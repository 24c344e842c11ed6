/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp.h - async UDP sockets on a stack instance (RFC 768).
 *
 * bind (address and port, or an ephemeral port chosen at random, RFC 6056),
 * connect (a default peer; replies from others are filtered, and ICMP
 * unreachables for it become the socket's error), a recv future that yields
 * one datagram as an mbuf whose data is the payload (zero copy) with its
 * source, send from an mbuf (headers prepended into its headroom: zero copy)
 * or from a buffer, and close, which fails pending operations.
 *
 * Each socket holds a bounded receive queue: a datagram that finds it full
 * is dropped and counted (per socket and per stack), memory never grows.
 * Checksums: verified on input unless the PMD did; computed on output in
 * software (tx checksum offload is the port's business, TODO).
 *
 * Lcore: a socket belongs to the lcore of its stack.
 */
#ifndef RIPTIDE_UDP_H
#define RIPTIDE_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ex_future.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;

#define UDP_RXQ 64 /* datagrams queued per socket */

struct udp_sock {
	struct ip_iface *st;
	struct udp_sock *next; /* bucket chain */
	uint32_t local_ip; /* host order; 0: any of ours */
	uint16_t local_port;
	uint32_t peer_ip;
	uint16_t peer_port;
	bool connected;
	bool bound;
	int32_t error; /* pending error for the next recv (-ECONNREFUSED, ...) */
	uint32_t head, tail;
	struct rte_mbuf *rxq[UDP_RXQ];
	uint32_t rx_src_ip[UDP_RXQ];
	uint16_t rx_src_port[UDP_RXQ];
	bool rx_waiting;
	struct ex_waker rx_waker;
	uint64_t rx_datagrams, rx_overflow, tx_datagrams;
};

/**
 * Bind to (ip, port) on stack st. ip 0 means any of the stack's addresses;
 * port 0 picks a free ephemeral port (49152..65535) at random.
 * @return 0, -EADDRINUSE, -EINVAL.
 */
int udp_bind(struct udp_sock *s, struct ip_iface *st, uint32_t ip, uint16_t port);

/** Set the default peer (no packet is sent). @return 0 or -EINVAL. */
int udp_connect(struct udp_sock *s, uint32_t ip, uint16_t port);

/**
 * Send one datagram whose payload is m's data; the headers go into m's
 * headroom. m is consumed (sent, queued for ARP, or freed on error).
 * dst_ip 0 sends to the connected peer.
 * @return 0, -EDESTADDRREQ (no destination), -EMSGSIZE (beyond the MTU),
 *         -ENOBUFS, -EHOSTUNREACH, -EBADF (closed).
 */
int udp_send_mbuf(struct udp_sock *s, struct rte_mbuf *m, uint32_t dst_ip, uint16_t dst_port);

/** As udp_send_mbuf, copying len bytes from buf into a new mbuf. */
int udp_send(struct udp_sock *s, const void *buf, size_t len, uint32_t dst_ip, uint16_t dst_port);

/** Unbind; a pending recv completes with -EBADF; queued datagrams are freed. */
void udp_close(struct udp_sock *s);

/** Sockets bound on st (walks the port table: for stats and leak checks). */
uint32_t udp_bound_count(const struct ip_iface *st);

/**
 * The recv future: ready with result = payload length and m (data at the
 * payload, now the caller's) with its source; or result -errno
 * (-ECONNREFUSED from an ICMP port unreachable, -EBADF after close).
 */
struct udp_recv {
	struct ex_future base;
	struct udp_sock *s;
	struct rte_mbuf *m;
	uint32_t src_ip;
	uint16_t src_port;
};
void udp_recv_init(struct udp_recv *r, struct udp_sock *s);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_UDP_H */
