/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack.c - Ethernet demux, IPv4 input checks (RFC 791/1122), ICMP echo
 * (RFC 792) and IPv4 output for one stack instance (ARP, RFC 826, is
 * stack_arp.c). Runs on the lcore that owns the instance: stack_input from
 * its rx task, the ARP timer from its executor's wheel.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_memcpy.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_stream.h"
#include "dp_cksum.h"
#include "stack.h"
#include "stack_priv.h"

#define ARP_TICK_NS (100 * EX_NS_PER_MS)

static const char *const drop_names[STACK_DROP_MAX] = {
	[STACK_DROP_RUNT] = "runt",
	[STACK_DROP_ETHERTYPE] = "ethertype",
	[STACK_DROP_NOT_FOR_US] = "not_for_us",
	[STACK_DROP_ARP_MALFORMED] = "arp_malformed",
	[STACK_DROP_ARP_NOT_FOR_US] = "arp_not_for_us",
	[STACK_DROP_IP_TRUNCATED] = "ip_truncated",
	[STACK_DROP_IP_VERSION] = "ip_version",
	[STACK_DROP_IP_IHL] = "ip_ihl",
	[STACK_DROP_IP_CHECKSUM] = "ip_checksum",
	[STACK_DROP_IP_FRAGMENT] = "ip_fragment",
	[STACK_DROP_IP_NOT_FOR_US] = "ip_not_for_us",
	[STACK_DROP_IP_BAD_SOURCE] = "ip_bad_source",
	[STACK_DROP_IP_PROTOCOL] = "ip_protocol",
	[STACK_DROP_ICMP_MALFORMED] = "icmp_malformed",
	[STACK_DROP_ICMP_TYPE] = "icmp_type",
	[STACK_DROP_ARP_UNRESOLVED] = "arp_unresolved",
	[STACK_DROP_ARP_QUEUE_FULL] = "arp_queue_full",
	[STACK_DROP_ARP_TABLE_FULL] = "arp_table_full",
	[STACK_DROP_TX] = "tx",
	[STACK_DROP_UDP_MALFORMED] = "udp_malformed",
	[STACK_DROP_UDP_CHECKSUM] = "udp_checksum",
	[STACK_DROP_UDP_NO_PORT] = "udp_no_port",
	[STACK_DROP_UDP_OVERFLOW] = "udp_overflow",
	[STACK_DROP_UDP_FILTERED] = "udp_filtered",
	[STACK_DROP_ICMP_LIMITED] = "icmp_limited",
	[STACK_DROP_TCP_MALFORMED] = "tcp_malformed",
	[STACK_DROP_TCP_CHECKSUM] = "tcp_checksum",
	[STACK_DROP_TCP_NO_PORT] = "tcp_no_port",
	[STACK_DROP_TCP_BACKLOG] = "tcp_backlog",
	[STACK_DROP_TCP_CONN_LIMIT] = "tcp_conn_limit",
	[STACK_DROP_TCP_PAWS] = "tcp_paws",
	[STACK_DROP_TCP_OUT_OF_WINDOW] = "tcp_out_of_window",
	[STACK_DROP_TCP_BAD_ACK] = "tcp_bad_ack",
	[STACK_DROP_TCP_STATE] = "tcp_state",
	[STACK_DROP_TCP_OOO_FULL] = "tcp_ooo_full",
	[STACK_DROP_TCP_MEMORY] = "tcp_memory",
};

const char *
stack_drop_name(enum stack_drop reason)
{
	return reason < STACK_DROP_MAX ? drop_names[reason] : "?";
}

void
stack_config_defaults(struct stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->prefix_len = 24;
	cfg->mtu = 1500;
	cfg->arp_timeout_ns = 60 * EX_NS_PER_S;
	cfg->arp_retry_ns = EX_NS_PER_S;
	cfg->arp_retries = 3;
}

static inline void
drop(struct ip_iface *st, struct rte_mbuf *m, enum stack_drop why)
{
	st->stats.drops[why]++;
	rte_pktmbuf_free(m);
}

int
stack_mbuf_cut(struct rte_mbuf *m, uint32_t len)
{
	struct rte_mbuf *s = m, *rest;
	uint32_t left = len;
	uint16_t n = 1;

	if (rte_pktmbuf_pkt_len(m) < len)
		return -1;
	while (left > s->data_len && s->next != NULL) {
		left -= s->data_len;
		s = s->next;
		n++;
	}
	s->data_len = (uint16_t)left;
	rest = s->next;
	s->next = NULL;
	while (rest != NULL) {
		struct rte_mbuf *next = rest->next;

		rest->next = NULL;
		rte_pktmbuf_free_seg(rest);
		rest = next;
	}
	m->pkt_len = len;
	m->nb_segs = n;
	return 0;
}

void
stack_drop(struct ip_iface *st, struct rte_mbuf *m, enum stack_drop why)
{
	drop(st, m, why);
}

void
stack_transmit(struct ip_iface *st, struct rte_mbuf *m)
{
	struct ex_context cx = { ex_waker_noop() };
	struct ex_sink *k = st->out;
	union ex_item it;

	/* A tx-queue sink is always ready (it sends to make room). */
	if (k->ops->poll_ready(k, &cx) == EX_PENDING || k->error < 0) {
		drop(st, m, STACK_DROP_TX);
		return;
	}
	st->txb.pkts[0] = m;
	st->txb.n = 1;
	it.ptr = &st->txb;
	if (k->ops->start_send(k, it) < 0) {
		dp_burst_free(&st->txb);
		st->stats.drops[STACK_DROP_TX]++;
		return;
	}
	st->stats.tx_frames++;
}

/* ---- IPv4 and ICMP ---- */

static inline bool
ip_is_bcast(const struct ip_iface *st, uint32_t dst)
{
	uint32_t mask = st->cfg.prefix_len == 0 ? 0 : ~0u << (32 - st->cfg.prefix_len);

	return dst == 0xffffffffu || dst == ((st->cfg.ip & mask) | ~mask);
}

bool
stack_ip_local(const struct ip_iface *st, uint32_t ip)
{
	uint8_t i;

	if (ip == st->cfg.ip)
		return true;
	for (i = 0; i < st->n_vip; i++)
		if (st->vip[i] == ip)
			return true;
	return false;
}

static inline bool
ip_is_ours(const struct ip_iface *st, uint32_t dst)
{
	return stack_ip_local(st, dst) || ip_is_bcast(st, dst);
}

int
stack_vip_add(struct ip_iface *st, uint32_t ip)
{
	uint32_t mask = st->cfg.prefix_len == 0 ? 0 : ~0u << (32 - st->cfg.prefix_len);

	if (ip == 0 || ip_is_bcast(st, ip) || (ip >> 28) == 0xe || (ip >> 28) == 0xf ||
			(ip & mask) == (st->cfg.ip & mask))
		return -EINVAL;
	if (stack_ip_local(st, ip))
		return 0;
	if (st->n_vip == STACK_VIPS)
		return -ENOSPC;
	st->vip[st->n_vip++] = ip;
	return 0;
}

static void
icmp_input(struct ip_iface *st, struct rte_mbuf *m, struct rte_ether_hdr *eh,
		struct rte_ipv4_hdr *ip, uint16_t ihl, uint16_t ip_len)
{
	uint32_t ic_off = (uint32_t)sizeof(*eh) + ihl;
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)((uint8_t *)ip + ihl), icb;
	const struct rte_icmp_hdr *icr;
	uint16_t len = ip_len - ihl;
	uint32_t sum = 0;

	/* dp_cksum_mbuf, not rte_raw_cksum_mbuf: the latter folds wrongly for
	 * odd-length segments of a chain in Debian's DPDK 22.11. */
	if (len < sizeof(*ic) || dp_cksum_mbuf(m, sizeof(*eh) + ihl, len, &sum) != 0 ||
			dp_cksum_fold(sum) != 0xffff) {
		drop(st, m, STACK_DROP_ICMP_MALFORMED);
		return;
	}
	/* The headers are read wherever the segments of the frame put them
	 * (review L18: header split or scatter RX), never past data_len. */
	icr = rte_pktmbuf_read(m, ic_off, sizeof(icb), &icb);
	if (icr->icmp_type == 3 /* destination unreachable */) {
		/* RFC 1122 3.2.2.1: pass it to the transport that sent the
		 * datagram; the original IP header and 8 bytes follow. */
		uint8_t ib[60 + 8];
		uint16_t inner_len = (uint16_t)RTE_MIN(len - sizeof(*icr), sizeof(ib));
		const uint8_t *inner =
				rte_pktmbuf_read(m, ic_off + (uint32_t)sizeof(*icr), inner_len, ib);
		int err = icr->icmp_code == 3 ? -ECONNREFUSED : -EHOSTUNREACH;

		st->stats.icmp_unreach_in++;
		if (inner_len >= sizeof(struct rte_ipv4_hdr) + 8) {
			const struct stack_l4 *l4 = stack_l4_find(
					st, ((const struct rte_ipv4_hdr *)inner)->next_proto_id);

			if (l4 == NULL) {
				/* about a protocol we do not carry */
			} else if (icr->icmp_code == 4) {
				/* Fragmentation needed and DF set (RFC 1191): the
				 * next-hop MTU is in the header's last two bytes. A
				 * path property, never a connection error. */
				if (l4->ops->frag_needed != NULL)
					l4->ops->frag_needed(l4->ctx, inner, inner_len,
							rte_be_to_cpu_16(icr->icmp_seq_nb));
			} else if (l4->ops->icmp_error != NULL) {
				l4->ops->icmp_error(l4->ctx, inner, inner_len, err);
			}
		}
		rte_pktmbuf_free(m);
		return;
	}
	if (icr->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icr->icmp_code != 0) {
		drop(st, m, STACK_DROP_ICMP_TYPE);
		return;
	}
	if (icr != ic) { /* answered in place: the header must be in the first segment */
		drop(st, m, STACK_DROP_ICMP_MALFORMED);
		return;
	}
	st->stats.icmp_echo_in++;
	/* RFC 792: "the source and destination addresses are simply reversed,
	 * the type code changed to 0, and the checksum recomputed". In place. */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_cksum = 0;
	sum = 0;
	(void)dp_cksum_mbuf(m, sizeof(*eh) + ihl, len, &sum); /* length checked above */
	ic->icmp_cksum = (uint16_t)~dp_cksum_fold(sum);
	{
		/* From the address pinged if it is one of ours (a VIP), else
		 * (a broadcast ping) from cfg.ip. */
		uint32_t to = rte_be_to_cpu_32(ip->dst_addr);

		ip->dst_addr = ip->src_addr;
		ip->src_addr = rte_cpu_to_be_32(stack_ip_local(st, to) ? to : st->cfg.ip);
	}
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = dp_ipv4_hdr_cksum(ip);
	eh->dst_addr = eh->src_addr;
	eh->src_addr = st->cfg.mac;
	m->ol_flags = 0;
	st->stats.icmp_echo_out++;
	stack_transmit(st, m);
}

static void
ipv4_input(struct ip_iface *st, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	uint32_t avail = rte_pktmbuf_data_len(m) - sizeof(*eh);
	const struct stack_l4 *l4;
	uint16_t ihl, ip_len;

	/* Check the length, then read the fields. */
	if (avail < sizeof(*ip)) {
		drop(st, m, STACK_DROP_IP_TRUNCATED);
		return;
	}
	if ((ip->version_ihl >> 4) != 4) {
		drop(st, m, STACK_DROP_IP_VERSION);
		return;
	}
	ihl = (uint16_t)((ip->version_ihl & 0xf) * 4);
	if (ihl < sizeof(*ip)) {
		drop(st, m, STACK_DROP_IP_IHL);
		return;
	}
	ip_len = rte_be_to_cpu_16(ip->total_length);
	if (ihl > avail || ip_len < ihl || ip_len > rte_pktmbuf_pkt_len(m) - sizeof(*eh)) {
		drop(st, m, STACK_DROP_IP_TRUNCATED);
		return;
	}
	if (dp_ipv4_hdr_cksum_rx_ok(m, ip, ihl) != 0) {
		drop(st, m, STACK_DROP_IP_CHECKSUM);
		return;
	}
	/* No TTL check: RFC 1122 3.2.1.7, a host MUST NOT discard a datagram
	 * because its TTL is below 2 (TTL matters to forwarders). */
	/* Fragments are not reassembled yet: counted and dropped. */
	if ((rte_be_to_cpu_16(ip->fragment_offset) &
			    (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		drop(st, m, STACK_DROP_IP_FRAGMENT);
		return;
	}
	if (!ip_is_ours(st, rte_be_to_cpu_32(ip->dst_addr))) {
		drop(st, m, STACK_DROP_IP_NOT_FOR_US);
		return;
	}
	{
		/* RFC 1122 3.2.1.3: a source that cannot be a host (any, a
		 * broadcast, multicast) or is ours (LAND) is discarded: an
		 * answer would go to everyone, or to ourselves (review L5). */
		uint32_t src = rte_be_to_cpu_32(ip->src_addr);

		if (src == 0 || src == st->cfg.ip || (src >> 28) == 0xe || ip_is_ours(st, src)) {
			drop(st, m, STACK_DROP_IP_BAD_SOURCE);
			return;
		}
	}
	/* Ethernet pads short frames: the IP length is the truth, in every
	 * segment (review L4: TCP and UDP take the payload from the chain). */
	if (rte_pktmbuf_pkt_len(m) > sizeof(*eh) + ip_len)
		(void)stack_mbuf_cut(m, (uint32_t)sizeof(*eh) + ip_len);
	st->stats.ip_in++;
	if (ip->next_proto_id == IPPROTO_ICMP) {
		icmp_input(st, m, eh, ip, ihl, ip_len);
		return;
	}
	l4 = stack_l4_find(st, ip->next_proto_id);
	if (l4 != NULL) {
		l4->ops->input(l4->ctx, m, sizeof(*eh), ihl, ip_len);
		return;
	}
	/* RFC 1122 3.2.2.1: protocol unreachable (rate-limited), never for a
	 * broadcast (3.2.2). */
	if (rte_be_to_cpu_32(ip->dst_addr) == st->cfg.ip)
		stack_icmp_unreachable(st, m, sizeof(*eh), 2);
	drop(st, m, STACK_DROP_IP_PROTOCOL);
}

void
stack_rx_burst_end(struct ip_iface *st)
{
	uint8_t i;

	for (i = 0; i < st->n_l4; i++)
		if (st->l4[i].ops->rx_burst_end != NULL)
			st->l4[i].ops->rx_burst_end(st->l4[i].ctx);
}

void
stack_set_tx_room(struct ip_iface *st, bool (*fn)(void *arg, const struct ex_waker *w), void *arg)
{
	st->tx_room = fn;
	st->tx_room_arg = arg;
	st->tx_waiting = false;
}

void
stack_tx_resume(struct ip_iface *st)
{
	uint8_t i;

	if (likely(!st->tx_waiting))
		return;
	st->tx_waiting = false;
	st->tx_epoch++;
	for (i = 0; i < st->n_l4; i++)
		if (st->l4[i].ops->tx_resume != NULL)
			st->l4[i].ops->tx_resume(st->l4[i].ctx);
}

void
stack_input(struct ip_iface *st, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh;

	st->stats.rx_frames++;
	if (rte_pktmbuf_data_len(m) < sizeof(*eh)) {
		drop(st, m, STACK_DROP_RUNT);
		return;
	}
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &st->cfg.mac) &&
			!rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		drop(st, m, STACK_DROP_NOT_FOR_US);
		return;
	}
	switch (rte_be_to_cpu_16(eh->ether_type)) {
	case RTE_ETHER_TYPE_ARP:
		stack_arp_input(st, m);
		return;
	case RTE_ETHER_TYPE_IPV4:
		ipv4_input(st, m);
		return;
	default:
		drop(st, m, STACK_DROP_ETHERTYPE);
		return;
	}
}

void
stack_icmp_unreachable(
		struct ip_iface *st, const struct rte_mbuf *orig, uint16_t l3_off, uint8_t code)
{
	const struct rte_ipv4_hdr *oip =
			rte_pktmbuf_mtod_offset(orig, const struct rte_ipv4_hdr *, l3_off);
	uint16_t quote = (uint16_t)RTE_MIN((uint32_t)((oip->version_ihl & 0xf) * 4 + 8),
			rte_pktmbuf_pkt_len(orig) - l3_off);
	uint64_t now = stack_now_ns(st);
	struct rte_ipv4_hdr *ip;
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *m;

	/* RFC 1812 4.3.2.8: limit the rate of ICMP errors. */
	if (now - st->icmp_window >= EX_NS_PER_S) {
		st->icmp_window = now;
		st->icmp_in_window = 0;
	}
	if (st->icmp_in_window >= STACK_ICMP_ERRORS_PER_S) {
		st->stats.drops[STACK_DROP_ICMP_LIMITED]++;
		return;
	}
	m = rte_pktmbuf_alloc(st->pool);
	if (m == NULL)
		return;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, sizeof(*ip) + sizeof(*ic) + quote);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return;
	}
	{
		/* The offending header and 8 bytes of its payload (RFC 792). */
		uint8_t *dst = (uint8_t *)ip + sizeof(*ip) + sizeof(*ic);
		const void *src = rte_pktmbuf_read(orig, l3_off, quote, dst);

		if (src == NULL) {
			rte_pktmbuf_free(m);
			return;
		}
		if (src != dst)
			rte_memcpy(dst, src, quote);
	}
	ic = (struct rte_icmp_hdr *)(ip + 1);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + sizeof(*ic) + quote));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_ICMP;
	ip->src_addr = rte_cpu_to_be_32(st->cfg.ip);
	ip->dst_addr = oip->src_addr;
	memset(ic, 0, sizeof(*ic));
	ic->icmp_type = 3;
	ic->icmp_code = code;
	ic->icmp_cksum = (uint16_t)~dp_cksum_fold(dp_cksum_raw(ic, sizeof(*ic) + quote, 0));
	st->icmp_in_window++;
	st->stats.icmp_unreach_out++;
	stack_output_ipv4(st, m);
}

/* ---- output ---- */

/* Where a packet for dst goes on the link: dst on the subnet, else the
 * gateway; 0 if there is none. */
static inline uint32_t
next_hop(const struct ip_iface *st, uint32_t dst)
{
	uint32_t mask = st->cfg.prefix_len == 0 ? 0 : ~0u << (32 - st->cfg.prefix_len);

	return (dst & mask) == (st->cfg.ip & mask) ? dst : st->cfg.gateway;
}

int
stack_arp_resolve(struct ip_iface *st, uint32_t dst)
{
	uint32_t hop = next_hop(st, dst);

	if (hop == 0)
		return -EHOSTUNREACH;
	if (stack_arp_find(st, hop) != NULL)
		return 0;
	if (stack_arp_start(st, hop) == NULL)
		return -ENOBUFS;
	return 0;
}

/* Frame m (its Ethernet header's source and type set) to hop: at once if
 * hop is resolved, else queued while ARP asks. */
static int
output_via(struct ip_iface *st, struct rte_mbuf *m, struct rte_ether_hdr *eh, uint32_t hop)
{
	struct stack_arp_entry *e;

	if (hop == 0) {
		drop(st, m, STACK_DROP_ARP_UNRESOLVED);
		return -EHOSTUNREACH;
	}
	e = stack_arp_find(st, hop);
	if (e != NULL && e->state == STACK_ARP_STATE_REACHABLE) {
		/* In use in the last tenth of its life: ask again while still
		 * sending, so a busy neighbour never expires under its flows. */
		if (!e->refreshing &&
				e->deadline - stack_now_ns(st) < st->cfg.arp_timeout_ns / 10) {
			e->refreshing = 1;
			stack_arp_request(st, hop);
		}
		eh->dst_addr = e->mac;
		stack_transmit(st, m);
		return 0;
	}
	if (e == NULL) {
		e = stack_arp_start(st, hop);
		if (e == NULL) {
			drop(st, m, STACK_DROP_ARP_TABLE_FULL);
			return -ENOBUFS;
		}
	}
	/* Resolving: hold a bounded number of packets for this address. */
	if (e->nq == STACK_ARP_QUEUE) {
		drop(st, m, STACK_DROP_ARP_QUEUE_FULL);
		return -ENOBUFS;
	}
	e->queue[e->nq++] = m;
	return 0;
}

/* Prepend m's Ethernet header (data at its IPv4 header), source and type
 * set; NULL (m freed, counted) without headroom. */
static struct rte_ether_hdr *
eth_prepend(struct ip_iface *st, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));

	if (eh == NULL) {
		drop(st, m, STACK_DROP_TX);
		return NULL;
	}
	eh->src_addr = st->cfg.mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	return eh;
}

int
stack_output_ipv4(struct ip_iface *st, struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	uint32_t dst = rte_be_to_cpu_32(ip->dst_addr);
	struct rte_ether_hdr *eh;

	ip->hdr_checksum = 0;
	if (st->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) {
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
		m->l2_len = RTE_ETHER_HDR_LEN;
		m->l3_len = (uint16_t)((ip->version_ihl & 0xf) * 4);
	} else {
		ip->hdr_checksum = dp_ipv4_hdr_cksum(ip);
	}
	eh = eth_prepend(st, m);
	if (eh == NULL)
		return -ENOBUFS;
	if (ip_is_bcast(st, dst)) {
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		stack_transmit(st, m);
		return 0;
	}
	return output_via(st, m, eh, next_hop(st, dst));
}

int
stack_forward_ipv4(struct ip_iface *st, struct rte_mbuf *m, uint16_t l3_off, uint32_t hop)
{
	struct rte_ether_hdr *eh;

	if (next_hop(st, hop) != hop || hop == st->cfg.ip || ip_is_bcast(st, hop)) {
		drop(st, m, STACK_DROP_ARP_UNRESOLVED);
		return -EINVAL;
	}
	/* As received: only the Ethernet header is new. The rx flags go (a
	 * checksum verdict means nothing to the tx path). */
	if (rte_pktmbuf_adj(m, l3_off) == NULL) {
		drop(st, m, STACK_DROP_TX);
		return -ENOBUFS;
	}
	m->ol_flags = 0;
	eh = eth_prepend(st, m);
	if (eh == NULL)
		return -ENOBUFS;
	return output_via(st, m, eh, hop);
}

/* ---- life ---- */

RTE_LOG_REGISTER(stack_logtype, riptide.stack, NOTICE);

int
stack_init(struct ip_iface *st, const struct stack_config *cfg, struct ex_executor *ex,
		struct rte_mempool *pool, struct ex_sink *out)
{
	if (st == NULL || cfg == NULL || ex == NULL || pool == NULL || out == NULL) {
		STACK_LOG(ERR, "stack_init: %s is NULL",
				st == NULL     ? "st"
				: cfg == NULL  ? "cfg"
				: ex == NULL   ? "ex"
				: pool == NULL ? "pool"
					       : "out");
		return -EINVAL;
	}
	if (cfg->ip == 0) {
		STACK_LOG(ERR, "stack_init: stack_config.ip is 0: the stack needs its address");
		return -EADDRNOTAVAIL;
	}
	if (cfg->prefix_len > 32) {
		STACK_LOG(ERR, "stack_init: stack_config.prefix_len %u is over 32",
				cfg->prefix_len);
		return -EINVAL;
	}
	if (cfg->arp_retry_ns == 0) {
		STACK_LOG(ERR, "stack_init: stack_config.arp_retry_ns is 0");
		return -ERANGE;
	}
	memset(st, 0, sizeof(*st));
	st->cfg = *cfg;
	st->ex = ex;
	st->pool = pool;
	st->out = out;
	st->arp_tick_ns = RTE_MIN(ARP_TICK_NS, cfg->arp_retry_ns);
	st->rng = rte_rdtsc() ^ ((uint64_t)cfg->ip << 17) ^ UINT64_C(0x9e3779b97f4a7c15);
	ex_timer_init_callback(&st->arp_timer, stack_arp_tick);
	ex_timer_arm(ex_executor_wheel(ex), &st->arp_timer, ex_now_ns(ex) + st->arp_tick_ns, NULL);
	return udp_attach(st);
}

int
stack_l4_register(struct ip_iface *st, uint8_t proto, const struct stack_l4_ops *ops, void *ctx)
{
	if (ops == NULL || ops->input == NULL || proto == IPPROTO_ICMP)
		return -EINVAL;
	if (stack_l4_find(st, proto) != NULL)
		return -EEXIST;
	if (st->n_l4 == STACK_L4_MAX)
		return -ENOSPC;
	st->l4[st->n_l4].proto = proto;
	st->l4[st->n_l4].ops = ops;
	st->l4[st->n_l4].ctx = ctx;
	st->n_l4++;
	return 0;
}

void
stack_l4_unregister(struct ip_iface *st, uint8_t proto, const void *ctx)
{
	uint8_t i;

	for (i = 0; i < st->n_l4; i++)
		if (st->l4[i].proto == proto && st->l4[i].ctx == ctx) {
			st->l4[i] = st->l4[--st->n_l4];
			return;
		}
}

void
stack_fini(struct ip_iface *st)
{
	ex_timer_cancel(ex_executor_wheel(st->ex), &st->arp_timer);
	stack_arp_fini(st);
}

/* ---- the rx task ---- */

static enum ex_poll
rx_task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct stack_rx_pump *t = EX_CONTAINER_OF(f, struct stack_rx_pump, base);
	unsigned int round;

	/* The tx path's backpressure wakes this task too: what waited for room
	 * goes before more input makes more to send. */
	t->st->tx_waker = cx->waker;
	stack_tx_resume(t->st);
	for (round = 0; round < 64; round++) {
		union ex_item it;
		struct dp_burst *b;
		uint16_t i;

		switch (ex_stream_poll_next(t->in, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			f->result = t->in->error;
			return EX_READY;
		case EX_NEXT_ITEM:
			break;
		}
		b = it.ptr;
		for (i = 0; i < b->n; i++)
			stack_input(t->st, b->pkts[i]);
		b->n = 0;
		stack_rx_burst_end(t->st);
	}
	ex_waker_wake(&cx->waker); /* more may be waiting: stay fair */
	return EX_PENDING;
}

static const struct ex_future_ops rx_task_ops = {
	.poll = rx_task_poll,
	.drop = NULL,
	.name = "stack_rx",
};

void
stack_rx_pump_init(struct stack_rx_pump *t, struct ip_iface *st, struct ex_stream *in)
{
	ex_future_init(&t->base, &rx_task_ops);
	t->st = st;
	t->in = in;
}
