/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack_arp.c - ARP (RFC 826) for one stack instance: the neighbour table,
 * requests, replies and gratuitous announcements, the packets waiting for
 * an answer, and the timer that retries and expires entries. stack.c's
 * input hands it ARP frames; its output asks it for a neighbour's MAC.
 */
#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "stack.h"
#include "stack_priv.h"

#define ARP_MASK (STACK_ARP_ENTRIES - 1)
#define ARP_MAX_USED (STACK_ARP_ENTRIES * 3 / 4) /* keeps probe runs short */

/* ---- the ARP table: open addressing, linear probing, backward-shift
 * deletion (no tombstones) ---- */

static inline uint32_t
arp_hash(uint32_t ip)
{
	return (ip * 2654435761u) >> (32 - 8) & ARP_MASK;
}

struct stack_arp_entry *
stack_arp_find(const struct ip_iface *st, uint32_t ip)
{
	uint32_t i = arp_hash(ip), n;

	for (n = 0; n < STACK_ARP_ENTRIES; n++, i = (i + 1) & ARP_MASK) {
		const struct stack_arp_entry *e = &st->arp[i];

		if (e->state == STACK_ARP_STATE_FREE)
			return NULL;
		if (e->ip == ip)
			return (struct stack_arp_entry *)(uintptr_t)e;
	}
	return NULL;
}

static struct stack_arp_entry *
arp_insert(struct ip_iface *st, uint32_t ip)
{
	uint32_t i = arp_hash(ip);

	if (st->arp_used >= ARP_MAX_USED)
		return NULL;
	while (st->arp[i].state != STACK_ARP_STATE_FREE)
		i = (i + 1) & ARP_MASK;
	memset(&st->arp[i], 0, sizeof(st->arp[i]));
	st->arp[i].ip = ip;
	st->arp_used++;
	return &st->arp[i];
}

/* Remove slot i, shifting later members of its probe run back. */
static void
arp_delete(struct ip_iface *st, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t k;

		j = (j + 1) & ARP_MASK;
		if (st->arp[j].state == STACK_ARP_STATE_FREE)
			break;
		k = arp_hash(st->arp[j].ip);
		/* The entry at j may stay if its home k lies cyclically in (i, j]. */
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		st->arp[i] = st->arp[j];
		i = j;
	}
	memset(&st->arp[i], 0, sizeof(st->arp[i]));
	st->arp_used--;
}

int
stack_arp_lookup(const struct ip_iface *st, uint32_t ip, struct rte_ether_addr *mac)
{
	const struct stack_arp_entry *e = stack_arp_find(st, ip);

	if (e == NULL || e->state != STACK_ARP_STATE_REACHABLE)
		return -ENOENT;
	*mac = e->mac;
	return 0;
}

static struct rte_mbuf *
arp_build(struct ip_iface *st, uint16_t op, const struct rte_ether_addr *eth_dst,
		const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	struct rte_ether_hdr *eh;
	struct rte_arp_hdr *ah;

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) + sizeof(*ah));
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	ah = (struct rte_arp_hdr *)(eh + 1);
	eh->dst_addr = *eth_dst;
	eh->src_addr = st->cfg.mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	ah->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	ah->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ah->arp_hlen = RTE_ETHER_ADDR_LEN;
	ah->arp_plen = 4;
	ah->arp_opcode = rte_cpu_to_be_16(op);
	ah->arp_data.arp_sha = st->cfg.mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(st->cfg.ip);
	ah->arp_data.arp_tha = *tha;
	ah->arp_data.arp_tip = rte_cpu_to_be_32(tip);
	return m;
}

int
stack_arp_request(struct ip_iface *st, uint32_t tip)
{
	static const struct rte_ether_addr bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero = { { 0 } };
	struct rte_mbuf *m = arp_build(st, RTE_ARP_OP_REQUEST, &bcast, &zero, tip);

	if (m == NULL)
		return -ENOBUFS;
	st->stats.arp_requests_out++;
	stack_transmit(st, m);
	return 0;
}

int
stack_announce(struct ip_iface *st)
{
	/* Gratuitous ARP: a request for our own address (RFC 5227 §3). */
	if (st->cfg.arp_quiet)
		return 0; /* another lcore's stack announces the address */
	return stack_arp_request(st, st->cfg.ip);
}

/* Send what waited for this entry's address. */
static void
arp_flush_queue(struct ip_iface *st, struct stack_arp_entry *e)
{
	uint8_t i;

	for (i = 0; i < e->nq; i++) {
		struct rte_mbuf *m = e->queue[i];
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

		eh->dst_addr = e->mac;
		stack_transmit(st, m);
	}
	e->nq = 0;
}

static void
arp_fail_queue(struct ip_iface *st, struct stack_arp_entry *e)
{
	uint8_t i;

	for (i = 0; i < e->nq; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(
				e->queue[i], const struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		const struct stack_l4 *l4 = stack_l4_find(st, ip->next_proto_id);

		st->stats.drops[STACK_DROP_ARP_UNRESOLVED]++;
		if (l4 != NULL && l4->ops->tx_failed != NULL)
			l4->ops->tx_failed(l4->ctx, e->queue[i], -EHOSTUNREACH);
		if (st->on_tx_error != NULL)
			st->on_tx_error(st, e->queue[i], -EHOSTUNREACH);
		rte_pktmbuf_free(e->queue[i]);
	}
	e->nq = 0;
}

static void
arp_learn(struct ip_iface *st, struct stack_arp_entry *e, const struct rte_ether_addr *mac)
{
	e->mac = *mac;
	e->state = STACK_ARP_STATE_REACHABLE;
	e->refreshing = 0;
	e->deadline = stack_now_ns(st) + st->cfg.arp_timeout_ns;
	arp_flush_queue(st, e);
}

void
stack_arp_input(struct ip_iface *st, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah;
	struct stack_arp_entry *e;
	uint32_t sip, tip;
	uint16_t op;

	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ah)) {
		stack_drop(st, m, STACK_DROP_ARP_MALFORMED);
		return;
	}
	ah = (struct rte_arp_hdr *)(eh + 1);
	op = rte_be_to_cpu_16(ah->arp_opcode);
	if (ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
			ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
			ah->arp_hlen != RTE_ETHER_ADDR_LEN || ah->arp_plen != 4 ||
			(op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY)) {
		stack_drop(st, m, STACK_DROP_ARP_MALFORMED);
		return;
	}
	sip = rte_be_to_cpu_32(ah->arp_data.arp_sip);
	tip = rte_be_to_cpu_32(ah->arp_data.arp_tip);
	if (op == RTE_ARP_OP_REQUEST)
		st->stats.arp_requests_in++;
	else
		st->stats.arp_replies_in++;

	/* RFC 826: "If the pair <protocol type, sender protocol address> is
	 * already in my translation table, update the sender hardware address
	 * field of the entry with the new information". */
	e = sip != 0 ? stack_arp_find(st, sip) : NULL;
	if (e != NULL)
		arp_learn(st, e, &ah->arp_data.arp_sha);
	if (tip != st->cfg.ip || sip == st->cfg.ip) {
		stack_drop(st, m, STACK_DROP_ARP_NOT_FOR_US);
		return;
	}
	/* "If I am the target protocol address: if the pair was not already in
	 * the table, add the triplet". */
	if (e == NULL && sip != 0 && (e = arp_insert(st, sip)) != NULL)
		arp_learn(st, e, &ah->arp_data.arp_sha);
	if (op != RTE_ARP_OP_REQUEST || st->cfg.arp_quiet) {
		rte_pktmbuf_free(m); /* learned; a quiet stack leaves the answer to another */
		return;
	}
	/* Answer in place: the request becomes the reply. */
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	ah->arp_data.arp_tha = ah->arp_data.arp_sha;
	ah->arp_data.arp_tip = ah->arp_data.arp_sip;
	ah->arp_data.arp_sha = st->cfg.mac;
	ah->arp_data.arp_sip = rte_cpu_to_be_32(st->cfg.ip);
	eh->dst_addr = eh->src_addr;
	eh->src_addr = st->cfg.mac;
	st->stats.arp_replies_out++;
	stack_transmit(st, m);
}

/* The periodic ARP tick: retries, failures, expiry. */
void
stack_arp_tick(struct ex_timer *t)
{
	struct ip_iface *st = EX_CONTAINER_OF(t, struct ip_iface, arp_timer);
	uint64_t now = stack_now_ns(st);
	uint32_t i = 0;

	while (i < STACK_ARP_ENTRIES) {
		struct stack_arp_entry *e = &st->arp[i];

		if (e->state == STACK_ARP_STATE_FREE || e->deadline > now) {
			i++;
			continue;
		}
		if (e->state == STACK_ARP_STATE_INCOMPLETE && e->retries < st->cfg.arp_retries) {
			e->retries++;
			e->deadline = now + st->cfg.arp_retry_ns;
			stack_arp_request(st, e->ip);
			i++;
			continue;
		}
		/* Gave up, or a reachable entry expired: forget it. The next
		 * packet for it resolves again. */
		arp_fail_queue(st, e);
		arp_delete(st, i); /* slot i now holds a shifted entry: look again */
	}
	ex_timer_arm(ex_executor_wheel(st->ex), &st->arp_timer, now + st->arp_tick_ns, NULL);
}

/* A new INCOMPLETE entry for hop, its first request sent; NULL if the table
 * is full. */
struct stack_arp_entry *
stack_arp_start(struct ip_iface *st, uint32_t hop)
{
	struct stack_arp_entry *e = arp_insert(st, hop);

	if (e == NULL)
		return NULL;
	e->state = STACK_ARP_STATE_INCOMPLETE;
	e->deadline = stack_now_ns(st) + st->cfg.arp_retry_ns;
	stack_arp_request(st, hop);
	return e;
}

void
stack_arp_fini(struct ip_iface *st)
{
	uint32_t i;

	for (i = 0; i < STACK_ARP_ENTRIES; i++) {
		struct stack_arp_entry *e = &st->arp[i];
		uint8_t q;

		for (q = 0; q < e->nq; q++)
			rte_pktmbuf_free(e->queue[q]);
		e->nq = 0;
	}
	memset(st->arp, 0, sizeof(st->arp));
	st->arp_used = 0;
}
