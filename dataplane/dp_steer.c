/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_steer.c - software flow steering (see dp_steer.h): an owner function,
 * and a member made of the dataplane's own pieces: dp_classify from the rx
 * queue into a ring sink per member, and a ring stream over its inbox.
 */
#include "dp_steer.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp_rss.h"

/* A NIC's default redirection table has 128 entries filled i % n; the same
 * table here, so a port with RSS and one without steer a flow alike. */
#define STEER_RETA 128
/* More fragments, or an offset: a piece of a fragmented datagram. */
#define IPV4_FRAG_BITS (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)

/* The symmetric hash of m's 4-tuple, or false for what has no flow to hash
 * (not IPv4 TCP or UDP, a fragment, a runt): member 0's. */
static bool
steer_hash(const struct rte_mbuf *m, uint32_t *hash)
{
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const uint16_t *ports;
	uint32_t ihl;

	if (m->data_len < sizeof(*eh) + sizeof(*ip) + 4)
		return false;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return false;
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	ihl = (uint32_t)(ip->version_ihl & 0x0f) * 4;
	/* A fragment (first or later) has no ports to hash in every piece:
	 * all of them go to member 0, where reassembly would be. */
	if ((ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP) ||
			ihl < sizeof(*ip) || m->data_len < sizeof(*eh) + ihl + 4 ||
			(ip->fragment_offset & rte_cpu_to_be_16(IPV4_FRAG_BITS)) != 0)
		return false;
	ports = (const uint16_t *)((const uint8_t *)ip + ihl);
	*hash = dp_rss_hash_ipv4(rte_be_to_cpu_32(ip->src_addr), rte_be_to_cpu_32(ip->dst_addr),
			rte_be_to_cpu_16(ports[0]), rte_be_to_cpu_16(ports[1]));
	return true;
}

uint16_t
dp_steer_owner(const struct rte_mbuf *m, uint16_t n)
{
	uint32_t hash;

	if (n <= 1 || !steer_hash(m, &hash))
		return 0;
	return (uint16_t)((hash % STEER_RETA) % n);
}

/* The member that owns m by a redirection table (the group's view). */
static uint16_t
steer_owner_by(const struct rte_mbuf *m, const struct dp_port *view)
{
	uint32_t hash;

	if (view->nb_queues <= 1 || view->reta_size == 0 || !steer_hash(m, &hash))
		return 0;
	return view->reta[hash & (view->reta_size - 1u)]; /* a power of two: no division */
}

void
dp_steer_port_view(struct dp_port *view, uint16_t n)
{
	uint16_t i;

	memset(view, 0, sizeof(*view));
	snprintf(view->name, sizeof(view->name), "steer/%u", n);
	view->nb_queues = n;
	view->rss = n > 1;
	view->reta_size = STEER_RETA;
	for (i = 0; i < STEER_RETA; i++)
		view->reta[i] = (uint16_t)(i % (n != 0 ? n : 1));
}

int
dp_steer_group_create(struct dp_steer_group *g, const char *name, uint16_t n, unsigned int size)
{
	char rname[RTE_RING_NAMESIZE];
	uint16_t i;

	memset(g, 0, sizeof(*g));
	if (n == 0 || n > DP_STEER_MAX)
		return -EINVAL;
	dp_steer_port_view(&g->view, n);
	for (i = 0; i < n; i++) {
		snprintf(rname, sizeof(rname), "%.20s_st%u", name, i);
		/* many members enqueue, only the owner dequeues */
		g->inbox[i] = rte_ring_create(rname, size, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (g->inbox[i] == NULL) {
			dp_steer_group_free(g);
			return -ENOMEM;
		}
		g->n = (uint16_t)(i + 1);
	}
	return 0;
}

void
dp_steer_group_free(struct dp_steer_group *g)
{
	uint16_t i;
	void *m;

	for (i = 0; i < g->n; i++) {
		while (rte_ring_dequeue(g->inbox[i], &m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(g->inbox[i]);
		g->inbox[i] = NULL;
	}
	g->n = 0;
}

int
dp_steer_group_follow(struct dp_steer_group *g, const struct dp_port *port)
{
	uint16_t i;

	/* A power-of-two table (as dp_port reads back): a mask, not a
	 * division, per packet. */
	if (!port->rss || port->reta_size == 0 || (port->reta_size & (port->reta_size - 1)) != 0 ||
			port->nb_queues != g->n)
		return -EINVAL;
	for (i = 0; i < port->reta_size; i++)
		if (port->reta[i] >= g->n)
			return -EINVAL;
	g->view.rss = true;
	g->view.reta_size = port->reta_size;
	memcpy(g->view.reta, port->reta, sizeof(port->reta[0]) * port->reta_size);
	snprintf(g->view.name, sizeof(g->view.name), "%s", port->name);
	return 0;
}

static int
steer_classify(struct rte_mbuf *m, void *arg)
{
	return steer_owner_by(m, arg);
}

/* ARP, before classification sends it to member 0: a copy for each other
 * member, straight into its inbox (ARP is rare: no backpressure, a full
 * inbox or an empty pool is counted). */
static int
arp_fan_out(struct rte_mbuf *m, void *arg)
{
	struct dp_steer *s = arg;
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint16_t k;

	if (m->data_len < sizeof(*eh) || eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
		return 0;
	for (k = 1; k < s->n; k++) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, s->copy_pool, 0, UINT32_MAX);

		if (c != NULL && rte_ring_enqueue(s->g->inbox[k], c) == 0) {
			ex_kick(__atomic_load_n(&s->g->ex[k], __ATOMIC_ACQUIRE));
			s->arp_copies++;
		} else {
			rte_pktmbuf_free(c); /* NULL-safe */
			s->arp_copy_failed++;
		}
	}
	return 0;
}

int
dp_steer_init(struct dp_steer *s, struct ex_executor *ex, struct ex_stream *rx,
		struct dp_steer_group *g, uint16_t self, struct rte_mempool *copy_pool)
{
	uint16_t i;

	if (self >= g->n)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->self = self;
	s->n = g->n;
	s->g = g;
	s->copy_pool = copy_pool;
	if (copy_pool != NULL && g->n > 1) {
		dp_burst_map_init(&s->arp_fan, rx, arp_fan_out, s);
		rx = &s->arp_fan.base;
	}
	for (i = 0; i < g->n; i++) {
		dp_ring_sink_init(&s->to[i], ex, g->inbox[i]);
		if (i != self)
			dp_ring_sink_kick(&s->to[i], &g->ex[i]);
		s->outs[i] = &s->to[i].base;
	}
	dp_ring_stream_init(&s->inbox, ex, g->inbox[self]);
	__atomic_store_n(&g->ex[self], ex, __ATOMIC_RELEASE);
	return dp_classify_init(&s->cls, rx, s->outs, g->n, steer_classify, (void *)&g->view);
}

uint64_t
dp_steer_kept(const struct dp_steer *s)
{
	return s->to[s->self].stats.pkts;
}

uint64_t
dp_steer_steered(const struct dp_steer *s)
{
	uint64_t n = 0;
	uint16_t i;

	for (i = 0; i < s->n; i++)
		if (i != s->self)
			n += s->to[i].stats.pkts;
	return n;
}

void
dp_steer_fini(struct dp_steer *s)
{
	uint16_t i;

	/* (Every member's loop has stopped before any goes down: no one is
	 * between reading this slot and kicking.) */
	__atomic_store_n(&s->g->ex[s->self], NULL, __ATOMIC_RELEASE);
	dp_rx_stream_fini(&s->inbox);
	for (i = 0; i < s->n; i++)
		dp_ring_sink_fini(&s->to[i]);
}
