/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp.c - UDP input, sockets and the recv future. On the lcore of the
 * socket's stack.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "dp_cksum.h"
#include "stack_priv.h"
#include "udp.h"

#define EPHEMERAL_LO 49152u
#define EPHEMERAL_HI 65535u

static inline uint32_t
bucket(uint16_t port)
{
	return (port * 2654435761u) >> 26 & (STACK_UDP_BUCKETS - 1);
}

static struct udp_sock *
lookup(const struct ip_iface *st, uint32_t ip, uint16_t port)
{
	struct udp_sock *s;

	for (s = st->udp[bucket(port)]; s != NULL; s = s->next)
		if (s->local_port == port && (s->local_ip == 0 || s->local_ip == ip))
			return s;
	return NULL;
}

uint32_t
udp_bound_count(const struct ip_iface *st)
{
	const struct udp_sock *s;
	uint32_t i, n = 0;

	for (i = 0; i < STACK_UDP_BUCKETS; i++)
		for (s = st->udp[i]; s != NULL; s = s->next)
			n++;
	return n;
}

static inline uint64_t
rng_next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

int
udp_bind(struct udp_sock *s, struct ip_iface *st, uint32_t ip, uint16_t port)
{
	uint32_t tries;

	if (s == NULL || st == NULL || (ip != 0 && ip != st->cfg.ip))
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->st = st;
	s->local_ip = ip;
	if (port == 0) {
		/* RFC 6056 algorithm 1: a random start, then the next free one. */
		uint32_t range = EPHEMERAL_HI - EPHEMERAL_LO + 1;
		uint32_t start = (uint32_t)(((rng_next(&st->rng) >> 32) * range) >> 32);

		for (tries = 0; tries < range; tries++) {
			uint16_t p = (uint16_t)(EPHEMERAL_LO + (start + tries) % range);

			if (lookup(st, ip, p) == NULL) {
				port = p;
				break;
			}
		}
		if (port == 0)
			return -EADDRINUSE;
	} else if (lookup(st, ip, port) != NULL) {
		return -EADDRINUSE;
	}
	s->local_port = port;
	s->next = st->udp[bucket(port)];
	st->udp[bucket(port)] = s;
	s->bound = true;
	s->rx_waker = ex_waker_noop();
	return 0;
}

int
udp_connect(struct udp_sock *s, uint32_t ip, uint16_t port)
{
	if (!s->bound || ip == 0 || port == 0)
		return -EINVAL;
	s->peer_ip = ip;
	s->peer_port = port;
	s->connected = true;
	return 0;
}

static void
wake_reader(struct udp_sock *s)
{
	if (s->rx_waiting) {
		s->rx_waiting = false;
		ex_waker_wake(&s->rx_waker);
	}
}

void
udp_close(struct udp_sock *s)
{
	struct udp_sock **pp;

	if (!s->bound)
		return;
	for (pp = &s->st->udp[bucket(s->local_port)]; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	s->bound = false;
	while (s->head != s->tail)
		rte_pktmbuf_free(s->rxq[s->head++ % UDP_RXQ]);
	s->error = -EBADF;
	wake_reader(s);
}

/* The IPv4 layer's hand-off (stack_l4_ops.input). */
static void
udp_input(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint16_t ihl, uint16_t ip_len)
{
	struct ip_iface *st = ctx;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l3_off);
	const struct rte_udp_hdr *uh;
	struct udp_sock *s;
	uint16_t ulen, sport;
	uint32_t src, slot;

	if (ip_len < ihl + sizeof(*uh) || rte_pktmbuf_data_len(m) < l3_off + ihl + sizeof(*uh)) {
		stack_drop(st, m, STACK_DROP_UDP_MALFORMED);
		return;
	}
	uh = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	ulen = rte_be_to_cpu_16(uh->dgram_len);
	if (ulen < sizeof(*uh) || ulen > ip_len - ihl) {
		stack_drop(st, m, STACK_DROP_UDP_MALFORMED);
		return;
	}
	st->stats.rx_l4_csum[dp_rx_l4_csum(m)]++;
	/* A zero checksum means none was computed (RFC 768). */
	if (uh->dgram_cksum != 0 && dp_ipv4_l4_cksum_rx_ok(m, ip, l3_off + ihl) != 0) {
		stack_drop(st, m, STACK_DROP_UDP_CHECKSUM);
		return;
	}
	st->stats.udp_in++;
	s = lookup(st, rte_be_to_cpu_32(ip->dst_addr), rte_be_to_cpu_16(uh->dst_port));
	if (s == NULL) {
		/* RFC 1122 4.1.3.1: port unreachable, unless it was a broadcast. */
		if (rte_be_to_cpu_32(ip->dst_addr) == st->cfg.ip)
			stack_icmp_unreachable(st, m, l3_off, 3);
		stack_drop(st, m, STACK_DROP_UDP_NO_PORT);
		return;
	}
	src = rte_be_to_cpu_32(ip->src_addr);
	sport = rte_be_to_cpu_16(uh->src_port);
	if (s->connected && (src != s->peer_ip || sport != s->peer_port)) {
		stack_drop(st, m, STACK_DROP_UDP_FILTERED);
		return;
	}
	if (s->tail - s->head == UDP_RXQ) {
		s->rx_overflow++;
		stack_drop(st, m, STACK_DROP_UDP_OVERFLOW);
		return;
	}
	/* Zero copy: the payload stays where it arrived; headers are trimmed. */
	rte_pktmbuf_adj(m, (uint16_t)(l3_off + ihl + sizeof(*uh)));
	if (rte_pktmbuf_pkt_len(m) > (uint32_t)(ulen - sizeof(*uh)))
		(void)stack_mbuf_cut(m, (uint32_t)(ulen - sizeof(*uh)));
	slot = s->tail++ % UDP_RXQ;
	s->rxq[slot] = m;
	s->rx_src_ip[slot] = src;
	s->rx_src_port[slot] = sport;
	s->rx_datagrams++;
	wake_reader(s);
}

/* A destination unreachable about a datagram of ours (stack_l4_ops.icmp_error). */
static void
udp_icmp_error(void *ctx, const void *inner_ip, uint16_t inner_len, int err)
{
	struct ip_iface *st = ctx;
	const struct rte_ipv4_hdr *ip = inner_ip;
	uint16_t ihl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	const struct rte_udp_hdr *uh;
	struct udp_sock *s;

	if (ihl < sizeof(*ip) || inner_len < ihl + 8)
		return;
	uh = (const struct rte_udp_hdr *)((const uint8_t *)ip + ihl);
	s = lookup(st, rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_16(uh->src_port));
	/* Like Linux: only a connected socket learns of it, and only for its peer. */
	if (s == NULL || !s->connected || rte_be_to_cpu_32(ip->dst_addr) != s->peer_ip ||
			rte_be_to_cpu_16(uh->dst_port) != s->peer_port)
		return;
	s->error = err;
	wake_reader(s);
}

int
udp_send_mbuf(struct udp_sock *s, struct rte_mbuf *m, uint32_t dst_ip, uint16_t dst_port)
{
	struct ip_iface *st = s->st;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *uh;
	uint32_t len = rte_pktmbuf_pkt_len(m);

	if (!s->bound) {
		rte_pktmbuf_free(m);
		return -EBADF;
	}
	if (dst_ip == 0) {
		if (!s->connected) {
			rte_pktmbuf_free(m);
			return -EDESTADDRREQ;
		}
		dst_ip = s->peer_ip;
		dst_port = s->peer_port;
	}
	if (len + sizeof(*ip) + sizeof(*uh) > st->cfg.mtu) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE; /* no fragmentation */
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip) + sizeof(*uh));
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	uh = (struct rte_udp_hdr *)(ip + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*uh) + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(st->cfg.ip);
	ip->dst_addr = rte_cpu_to_be_32(dst_ip);
	uh->src_port = rte_cpu_to_be_16(s->local_port);
	uh->dst_port = rte_cpu_to_be_16(dst_port);
	uh->dgram_len = rte_cpu_to_be_16((uint16_t)(sizeof(*uh) + len));
	uh->dgram_cksum = 0;
	m->ol_flags = 0;
	if (st->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) {
		/* The PMD finishes it: we give the pseudo-header sum. */
		m->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = sizeof(*ip);
		uh->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else {
		uh->dgram_cksum = dp_ipv4_l4_cksum_mbuf(m, ip, sizeof(*ip));
	}
	s->tx_datagrams++;
	st->stats.udp_out++;
	return stack_output_ipv4(st, m);
}

int
udp_send(struct udp_sock *s, const void *buf, size_t len, uint32_t dst_ip, uint16_t dst_port)
{
	struct rte_mbuf *m;
	char *p;

	if (len > UINT16_MAX)
		return -EMSGSIZE;
	m = rte_pktmbuf_alloc(s->st->pool);
	if (m == NULL)
		return -ENOBUFS;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE; /* larger than one mbuf: beyond any MTU we use */
	}
	memcpy(p, buf, len);
	return udp_send_mbuf(s, m, dst_ip, dst_port);
}

/* ---- recv ---- */

static enum ex_poll
recv_poll(struct ex_future *f, struct ex_context *cx)
{
	struct udp_recv *r = EX_CONTAINER_OF(f, struct udp_recv, base);
	struct udp_sock *s = r->s;
	uint32_t slot;

	if (s->head != s->tail) {
		slot = s->head++ % UDP_RXQ;
		r->m = s->rxq[slot];
		r->src_ip = s->rx_src_ip[slot];
		r->src_port = s->rx_src_port[slot];
		f->result = (int32_t)rte_pktmbuf_pkt_len(r->m);
		return EX_READY;
	}
	if (s->error != 0) {
		f->result = s->error;
		if (s->bound)
			s->error = 0; /* reported once, as a socket error is */
		return EX_READY;
	}
	s->rx_waker = cx->waker;
	s->rx_waiting = true;
	return EX_PENDING;
}

static void
recv_drop(struct ex_future *f)
{
	struct udp_recv *r = EX_CONTAINER_OF(f, struct udp_recv, base);

	if (r->s->rx_waiting && ex_waker_will_wake(&r->s->rx_waker, &r->s->rx_waker))
		r->s->rx_waiting = false;
}

static const struct ex_future_ops recv_ops = {
	.poll = recv_poll, .drop = recv_drop, .name = "udp_recv"
};

void
udp_recv_init(struct udp_recv *r, struct udp_sock *s)
{
	ex_future_init(&r->base, &recv_ops);
	r->s = s;
	r->m = NULL;
	r->src_ip = 0;
	r->src_port = 0;
}

static const struct stack_l4_ops udp_ops = {
	.name = "udp",
	.input = udp_input,
	.icmp_error = udp_icmp_error,
};

int
udp_attach(struct ip_iface *st)
{
	return stack_l4_register(st, IPPROTO_UDP, &udp_ops, st);
}
