/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * traffic.c - pktbench's packets: the per-packet stages (macswap, partial
 * checksums for a port that finishes them), txonly's generator (paced, or
 * as fast as the port takes; loopback-check numbers its packets and sends
 * probes first) and the checker of rxonly and loopback-check (order,
 * integrity, probes).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_impair.h"
#include "dp_port.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "pktbench.h"

int
macswap_pkt(struct rte_mbuf *m, void *arg)
{
	struct rte_ether_hdr *eh;
	struct rte_ether_addr t;

	(void)arg;
	if (rte_pktmbuf_data_len(m) < sizeof(*eh))
		return -1; /* runt: counted as dropped */
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	t = eh->dst_addr;
	eh->dst_addr = eh->src_addr;
	eh->src_addr = t;
	return 0;
}

/* --tx-csum-partial: leave an IPv4 TCP or UDP frame's checksum to the port,
 * as a guest with checksum offload sends it: the field holds only the
 * pseudo-header sum and the mbuf asks for the rest (a vhost port passes it on
 * as virtio's NEEDS_CSUM, which the guest's virtio PMD reports as
 * RX_L4_CKSUM_NONE). Other frames pass unchanged. */
int
csum_partial_pkt(struct rte_mbuf *m, void *arg)
{
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	uint32_t ihl;

	(void)arg;
	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ip) + sizeof(struct rte_tcp_hdr))
		return 0;
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ihl = rte_ipv4_hdr_len(ip);
	if (ihl < sizeof(*ip) || (ip->fragment_offset & rte_cpu_to_be_16(0x3fff)) != 0 ||
			rte_pktmbuf_data_len(m) < sizeof(*eh) + ihl + sizeof(struct rte_tcp_hdr))
		return 0;
	m->l2_len = sizeof(*eh);
	m->l3_len = ihl;
	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);

		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else if (ip->next_proto_id == IPPROTO_UDP) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);

		if (uh->dgram_cksum == 0)
			return 0; /* no checksum (RFC 768): nothing to leave */
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		uh->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	}
	return 0;
}

/* ---- txonly: a generator future ---- */

void
build_template(struct gen *g, uint16_t port)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)g->tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = (uint16_t)(opt.pkt_size - sizeof(*eh));

	memset(g->tmpl, 0, sizeof(g->tmpl));
	rte_eth_macaddr_get(port, &eh->src_addr);
	if (opt.dst_mac_set)
		eh->dst_addr = opt.dst_mac;
	else
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(opt.src_ip);
	ip->dst_addr = rte_cpu_to_be_32(opt.dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(9000);
	udp->dst_port = rte_cpu_to_be_16(9); /* discard */
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	udp->dgram_cksum = 0; /* optional for UDP over IPv4 */
	g->hdr_len = sizeof(*eh) + sizeof(*ip) + sizeof(*udp);
}

/* Payload for loopback-check: magic, sequence, then a pattern of the
 * sequence, so a corrupted or truncated packet is caught. */
static void
fill_payload(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint32_t i;

	if (len < 12)
		return;
	memcpy(p, &(uint32_t){ CHECK_MAGIC }, 4);
	memcpy(p + 4, &seq, 8);
	for (i = 12; i < len; i++)
		p[i] = (uint8_t)(seq + i);
}

/* One probe on the generator's port; refused ones are freed (a probe may be
 * lost: another follows). */
static void
send_probe(struct gen *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	uint8_t *p;

	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)opt.pkt_size);
	memcpy(p, g->tmpl, g->hdr_len);
	memset(p + g->hdr_len, 0, opt.pkt_size - g->hdr_len);
	memcpy(p + g->hdr_len, &(uint32_t){ PROBE_MAGIC }, 4);
	if (rte_eth_tx_burst(g->out->port, g->out->queue, &m, 1) == 1)
		g->probes_sent++;
	else
		rte_pktmbuf_free(m);
}

/* loopback-check: EX_READY once a probe came back (or, probe_failed set,
 * after --timeout-ms without one). */
static enum ex_poll
gen_probe(struct gen *g, struct ex_context *cx)
{
	for (;;) {
		uint64_t now = ex_now_ns(g->ex);

		if (g->pacing) {
			if (ex_await(&g->pace.base, cx) == EX_PENDING)
				return EX_PENDING;
			g->pacing = false;
		}
		if (*g->probes_back != 0)
			return EX_READY;
		if (g->probe_deadline == 0)
			g->probe_deadline = now + (uint64_t)opt.timeout_ms * EX_NS_PER_MS;
		if (now > g->probe_deadline) {
			g->probe_failed = true;
			return EX_READY;
		}
		send_probe(g);
		ex_sleep_init(&g->pace, PROBE_INTERVAL_NS);
		g->pacing = true;
	}
}

static uint64_t
gen_budget(struct gen *g, uint64_t now)
{
	uint64_t due;

	if (opt.count != 0 && g->sent >= opt.count)
		return 0;
	if (opt.rate_pps == 0)
		due = DP_BURST_MAX;
	else {
		/* Packets the rate allows by now, minus those sent. */
		uint64_t allowed = (uint64_t)((double)(now - g->start_ns) * (double)opt.rate_pps /
						   1e9) +
				   1;

		due = allowed > g->sent ? RTE_MIN(allowed - g->sent, (uint64_t)DP_BURST_MAX) : 0;
	}
	if (opt.count != 0)
		due = RTE_MIN(due, opt.count - g->sent);
	if (g->returned != NULL) {
		/* loopback-check: at most CHECK_WINDOW packets in flight, so the
		 * check measures the path, not our own overrun of its queues. */
		uint64_t in_flight = g->sent - *g->returned;

		due = in_flight >= CHECK_WINDOW ? 0 : RTE_MIN(due, CHECK_WINDOW - in_flight);
	}
	return due;
}

static enum ex_poll
gen_poll(struct ex_future *f, struct ex_context *cx)
{
	struct gen *g = EX_CONTAINER_OF(f, struct gen, base);
	unsigned int round;

	if (g->probes_back != NULL && g->start_ns == 0) {
		if (gen_probe(g, cx) == EX_PENDING)
			return EX_PENDING;
		if (g->probe_failed)
			return EX_READY;
	}
	if (g->start_ns == 0)
		g->start_ns = ex_now_ns(g->ex);
	if (g->pacing) {
		if (ex_await(&g->pace.base, cx) == EX_PENDING)
			return EX_PENDING;
		g->pacing = false;
	}
	for (round = 0; round < 16; round++) {
		struct dp_burst b;
		union ex_item it;
		uint64_t n, i;

		if (g->held_n != 0) {
			uint16_t sent = rte_eth_tx_burst(g->out->port, g->out->queue,
					&g->held[g->held_off], g->held_n);

			g->out->stats.pkts += sent;
			g->held_off += sent;
			g->held_n -= sent;
			if (g->held_n != 0) {
				ex_waker_wake(&cx->waker); /* the PMD is full: try again soon */
				return EX_PENDING;
			}
		}
		n = gen_budget(g, ex_now_ns(g->ex));

		if (n == 0) {
			if (opt.count != 0 && g->sent >= opt.count)
				return EX_READY;
			if (g->returned != NULL && opt.rate_pps == 0) {
				ex_waker_wake(&cx->waker); /* window full: look again soon */
				return EX_PENDING;
			}
			/* Ahead of the rate: sleep until the next packet is due. */
			ex_sleep_init(&g->pace, (uint64_t)(1e9 / (double)opt.rate_pps) + 1);
			g->pacing = true;
			if (ex_await(&g->pace.base, cx) == EX_PENDING)
				return EX_PENDING;
			g->pacing = false;
			continue;
		}
		if (rte_pktmbuf_alloc_bulk(g->pool, b.pkts, (unsigned int)n) != 0) {
			g->alloc_failed++;
			break; /* pool empty: tx will return mbufs; try next turn */
		}
		b.n = (uint16_t)n;
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = b.pkts[i];
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)opt.pkt_size);

			memcpy(p, g->tmpl, g->hdr_len);
			if (g->loopback)
				fill_payload(p + g->hdr_len, opt.pkt_size - g->hdr_len,
						g->sent + i);
		}
		g->sent += n;
		if (g->loopback) {
			memcpy(g->held, b.pkts, sizeof(b.pkts[0]) * n);
			g->held_n = (uint16_t)n;
			g->held_off = 0;
			continue;
		}
		it.ptr = &b;
		g->out->base.ops->start_send(&g->out->base, it);
	}
	ex_waker_wake(&cx->waker); /* more to send: yield, then continue */
	return EX_PENDING;
}

static void
gen_drop(struct ex_future *f)
{
	struct gen *g = EX_CONTAINER_OF(f, struct gen, base);

	if (g->held_n != 0)
		rte_pktmbuf_free_bulk(&g->held[g->held_off], g->held_n);
	g->held_n = 0;

	if (g->pacing)
		ex_future_drop(&g->pace.base);
}

const struct ex_future_ops gen_ops = { .poll = gen_poll, .drop = gen_drop, .name = "txgen" };

/* ---- rxonly and loopback-check: consumers ---- */

enum pkt_kind {
	PKT_FOREIGN,
	PKT_OURS,
	PKT_PROBE
};

static enum pkt_kind
check_pkt(struct check *c, struct rte_mbuf *m, uint32_t hdr_len)
{
	uint8_t buf[2048];
	const uint8_t *p;
	uint32_t len = rte_pktmbuf_pkt_len(m), i;
	uint32_t magic;
	uint64_t seq;

	if (len != opt.pkt_size || len > sizeof(buf))
		return PKT_FOREIGN;
	p = rte_pktmbuf_read(m, 0, len, buf);
	if (p == NULL)
		return PKT_FOREIGN;
	memcpy(&magic, p + hdr_len, 4);
	if (magic == PROBE_MAGIC)
		return PKT_PROBE;
	if (magic != CHECK_MAGIC)
		return PKT_FOREIGN;
	memcpy(&seq, p + hdr_len + 4, 8);
	for (i = hdr_len + 12; i < len; i++) {
		if (p[i] != (uint8_t)(seq + i - hdr_len)) {
			c->corrupt++;
			return PKT_OURS;
		}
	}
	if (seq == c->next_seq)
		c->in_order++;
	else
		c->out_of_order++;
	c->next_seq = seq + 1;
	return PKT_OURS;
}

static enum ex_poll
check_poll(struct ex_future *f, struct ex_context *cx)
{
	struct check *c = EX_CONTAINER_OF(f, struct check, base);
	unsigned int round;

	for (round = 0; round < 64; round++) {
		union ex_item it;
		struct dp_burst *b;
		uint16_t i;

		switch (ex_stream_poll_next(c->in, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			return EX_READY;
		case EX_NEXT_ITEM:
			break;
		}
		b = it.ptr;
		for (i = 0; i < b->n; i++) {
			if (c->steer_n > 1 &&
					dp_steer_owner(b->pkts[i], c->steer_n) != c->steer_self)
				c->misrouted++;
			switch (c->verify ? check_pkt(c, b->pkts[i], 42) : PKT_OURS) {
			case PKT_OURS:
				c->received++;
				break;
			case PKT_PROBE:
				c->probes++;
				break;
			case PKT_FOREIGN:
				c->foreign++;
				break;
			}
			c->returned = c->received + c->corrupt;
		}
		dp_burst_free(b);
	}
	ex_waker_wake(&cx->waker);
	return EX_PENDING;
}

const struct ex_future_ops check_ops = { .poll = check_poll, .drop = NULL, .name = "check" };

/* One burst of template packets on port p of host h, as testpmd's
 * --tx-first. A just-connected memif or virtio port may refuse at first:
 * retry for up to a second, then free (and count) what is left. */
void
send_first_burst(struct stack_host *h, uint16_t p)
{
	struct gen g;
	struct rte_mbuf *b[DP_BURST_MAX];
	uint16_t i, sent = 0;
	int tries;

	memset(&g, 0, sizeof(g));
	build_template(&g, h->ports[p].port_id);
	if (rte_pktmbuf_alloc_bulk(h->pool, b, DP_BURST_MAX) != 0)
		return;
	for (i = 0; i < DP_BURST_MAX; i++)
		memcpy(rte_pktmbuf_append(b[i], (uint16_t)opt.pkt_size), g.tmpl, g.hdr_len);
	for (tries = 0; tries < 1000 && sent < DP_BURST_MAX; tries++) {
		sent += rte_eth_tx_burst(
				h->ports[p].port_id, h->queue, &b[sent], DP_BURST_MAX - sent);
		if (sent < DP_BURST_MAX)
			rte_delay_ms(1);
	}
	h->tx[p].stats.pkts += sent;
	if (sent < DP_BURST_MAX) {
		rte_pktmbuf_free_bulk(&b[sent], DP_BURST_MAX - sent);
		h->tx[p].stats.dropped += DP_BURST_MAX - sent;
	}
}
