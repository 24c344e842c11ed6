/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_mem.c - the mbufs a stack's TCP holds, against a budget (review H1).
 *
 * Every queue (receive, out-of-order, send) counts its mbufs, and the stack
 * sums them in stats.mbufs_held (tcp_held() in tcp_priv.h is the only way a
 * count moves). A peer decides how many mbufs a queue pins, not how many
 * payload bytes: 1-byte out-of-order segments, or 1-byte segments forwarded
 * into a send queue that a zero-window reader never drains. Packing keeps
 * bytes close to mbufs x buffer size for the common cases; the budget bounds
 * the rest.
 *
 * The budget (default half the pool) and the reserve (default an eighth of
 * the pool free) are checked when data arrives. Short of either, the
 * out-of-order queues are pruned, the connection that has held its
 * out-of-order data longest first, each from its highest sequence down (the
 * data furthest from being readable; the peer sends it again, as after a
 * loss; what was SACKed is reneged, which RFC 2018 8 allows: a SACK sender
 * keeps data until it is cumulatively acknowledged). Pruning
 * goes on to 7/8 of the budget, so one prune buys room for many segments.
 * If the in-order queues alone are over budget, new data is refused (and
 * counted) for the connections holding at least their fair share, so peers
 * that park data cannot starve one that is read as it arrives; below the
 * reserve it is refused for all. ACKs, ARP and RX refill still find mbufs in
 * the reserve, so acknowledgments keep draining send queues and readers keep
 * draining receive queues.
 *
 * Linux does the same in outline: skb truesize charged to sk_rcvbuf and to
 * tcp_mem, tcp_prune_ofo_queue() from the right edge, then drop.
 *
 * Lcore: the stack's.
 */
#include <rte_mempool.h>

#include "stack.h"
#include "tcp_priv.h"

/* Data segments between two reads of the pool's free count (a read sums
 * every lcore's cache: too dear for each segment). */
#define POOL_CHECK_EVERY 32

void
tcp_mem_init(struct tcp_stack *tcp)
{
	uint32_t size = tcp->st->pool->size;

	tcp->mbuf_budget = tcp->cfg.mbuf_budget != 0 ? tcp->cfg.mbuf_budget : size / 2;
	tcp->rx_reserve = tcp->cfg.rx_reserve != 0 ? tcp->cfg.rx_reserve : size / 8;
	tcp_link_init(&tcp->ooo_conns);
	tcp_link_init(&tcp->ack_conns);
}

static bool
pool_low(struct tcp_stack *tcp, bool fresh)
{
	if (fresh || tcp->pool_check == 0) {
		tcp->pool_check = POOL_CHECK_EVERY;
		tcp->pool_low = rte_mempool_avail_count(tcp->st->pool) < tcp->rx_reserve;
	} else {
		tcp->pool_check--;
	}
	return tcp->pool_low;
}

bool
tcp_mem_short(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;
	uint32_t low = tcp->mbuf_budget - tcp->mbuf_budget / 8;

	if (tcp->stats.mbufs_held < tcp->mbuf_budget && !pool_low(tcp, false))
		return false;
	tcp->stats.mem_pressure++;
	while (!tcp_link_empty(&tcp->ooo_conns)) {
		struct tcp_conn *o =
				EX_CONTAINER_OF(tcp->ooo_conns.next, struct tcp_conn, ooo_link);

		tcp->stats.ooo_pruned += tcp_ooo_prune(o, 0);
		if (tcp->stats.mbufs_held < low && !pool_low(tcp, true))
			return false;
	}
	if (pool_low(tcp, true))
		return true; /* the reserve is for RX refill, ARP and ACKs */
	if (tcp->stats.mbufs_held < tcp->mbuf_budget)
		return false;
	/* Over budget with the pool still above its reserve: the connections
	 * that hold their share or more wait, the others go on. Readers that
	 * never read (a zero-window peer behind a forwarder) stop growing, and
	 * a transfer that is read as it arrives is never starved by them. The
	 * overshoot is bounded: those under their share hold less than the
	 * budget between them, and the reserve stays free whatever happens. */
	return tcp_conn_held(c) >= tcp->mbuf_budget / RTE_MAX(tcp->conns_holding, 1u);
}

bool
tcp_mem_send_blocked(const struct tcp_conn *c)
{
	const struct tcp_stack *tcp = c->tcp;

	/* Only a connection with data queued waits: its ACKs free mbufs and
	 * wake it. (Not on the pool's cached low mark: nothing may refresh it
	 * while every writer waits.) */
	if (c->sndq_segs == 0)
		return false;
	return tcp->stats.mbufs_held >= tcp->mbuf_budget &&
	       tcp_conn_held(c) >= tcp->mbuf_budget / RTE_MAX(tcp->conns_holding, 1u);
}

bool
tcp_mem_room_to_grow(const struct tcp_stack *tcp)
{
	return !tcp->pool_low && tcp->stats.mbufs_held < tcp->mbuf_budget / 2;
}

void
tcp_ooo_listed(struct tcp_conn *c)
{
	bool listed = c->ooo_link.next != NULL && !tcp_link_empty(&c->ooo_link);

	if (c->ooo_head != NULL && !listed)
		tcp_link_append(&c->tcp->ooo_conns, &c->ooo_link);
	else if (c->ooo_head == NULL && listed)
		tcp_link_remove(&c->ooo_link);
}

uint32_t
tcp_ooo_prune(struct tcp_conn *c, uint32_t keep)
{
	struct rte_mbuf *last = NULL, *m = c->ooo_head;
	uint32_t i, n = 0;

	for (i = 0; i < keep && m != NULL; i++) {
		last = m;
		m = m->next;
	}
	if (last != NULL)
		last->next = NULL;
	else
		c->ooo_head = NULL;
	c->ooo_tail = last;
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		rte_pktmbuf_free_seg(m);
		n++;
		m = next;
	}
	tcp_held(c, &c->ooo_segs, -(int32_t)n);
	tcp_ooo_listed(c);
	tcp_sack_clip(c); /* what went is not reported (it was, if at all: a renege) */
	return n;
}
