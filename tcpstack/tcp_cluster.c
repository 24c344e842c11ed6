/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_cluster.c - instances of one service behind ECMP (tcp_stack_cluster,
 * docs/scale-out.md): before a segment goes the usual way, a connection's
 * first segment through a peer instance is counted, and one of no
 * connection here is handed to the instance its TSecr names (without
 * timestamps, to every other), or, handed to us by a peer, dropped.
 */
#include <errno.h>

#include <rte_mbuf.h>

#include "tcp_priv.h"

int
tcp_stack_cluster(struct tcp_stack *tcp, uint8_t id, uint8_t n, const struct tcp_cluster_ops *ops,
		void *ctx)
{
	if (tcp == NULL || id > TCP_CLUSTER_MAX ||
			(id != 0 && (ops == NULL || ops->forward == NULL ||
						    ops->from_peer == NULL || n < 2 ||
						    n > TCP_CLUSTER_MAX || id > n)))
		return -EINVAL;
	tcp->ts_tag = id;
	tcp->cluster_n = id != 0 ? n : 0;
	tcp->cluster = id != 0 ? ops : NULL;
	tcp->cluster_ctx = id != 0 ? ctx : NULL;
	return 0;
}

/* A segment of no connection here and without timestamps names no owner:
 * unless it is not to a service address (VIP) a listener here has (the
 * router moves only those; it is answered as usual) or it is the ACK of one
 * of our SYN cookies (ours), every other instance gets a copy, the last the
 * frame itself; the one with the connection takes it.
 * At most TCP_CLUSTER_FLOOD_PER_S a second: made-up segments are not
 * multiplied without end (the rest dropped, counted). @return whether m
 * was taken. */
static bool
cluster_flood(struct tcp_stack *tcp, struct rte_mbuf *m, uint16_t l3_off, const struct tcp_seg *seg,
		uint32_t lip, uint32_t rip)
{
	const struct tcp_listener *l = tcp_listener_lookup(tcp, lip, seg->dport);
	uint64_t now = ex_now_coarse_ns(tcp->st->ex);
	uint8_t id, last = tcp->ts_tag == tcp->cluster_n ? tcp->cluster_n - 1 : tcp->cluster_n;

	if (l == NULL || lip == tcp->st->cfg.ip || tcp_syncookie_ours(tcp, l, seg, lip, rip))
		return false;
	if (now >= tcp->flood_next_ns) {
		tcp->flood_next_ns = now + EX_NS_PER_S;
		tcp->flood_left = TCP_CLUSTER_FLOOD_PER_S;
	}
	if (tcp->flood_left == 0) {
		tcp->stats.strays_dropped++;
		rte_pktmbuf_free(m);
		return true;
	}
	tcp->flood_left--;
	tcp->stats.strays_flooded++;
	for (id = 1; id <= last; id++) {
		struct rte_mbuf *f;

		if (id == tcp->ts_tag)
			continue;
		f = id == last ? m : rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
		if (f == NULL || tcp->cluster->forward(tcp->cluster_ctx, f, l3_off, id) != 0)
			tcp->stats.strays_dropped++; /* no mbuf, or no way to it */
	}
	return true;
}

bool
tcp_cluster_input(struct tcp_stack *tcp, struct tcp_conn *c, struct rte_mbuf *m, uint16_t l3_off,
		const struct tcp_seg *seg, uint32_t lip, uint32_t rip)
{
	uint8_t owner;

	if (c != NULL) {
		if (!(c->flags & TCP_CONN_FLAG_MOVED) &&
				tcp->cluster->from_peer(tcp->cluster_ctx, m)) {
			c->flags |= TCP_CONN_FLAG_MOVED;
			tcp->stats.flows_moved_in++;
		}
		return false;
	}
	if (seg->flags & TCP_FLAG_SYN)
		return false; /* a new connection: ours */
	if (tcp->cluster->from_peer(tcp->cluster_ctx, m)) {
		tcp->stats.strays_dropped++;
		rte_pktmbuf_free(m);
		return true;
	}
	if (!seg->opts.has_ts)
		return cluster_flood(tcp, m, l3_off, seg, lip, rip);
	owner = (uint8_t)(seg->opts.tsecr & TCP_CLUSTER_MAX);
	if (owner == 0 || owner == tcp->ts_tag)
		return false;
	if (tcp->cluster->forward(tcp->cluster_ctx, m, l3_off, owner) == 0)
		tcp->stats.strays_forwarded++;
	else
		tcp->stats.strays_dropped++; /* no such instance, or no way to it */
	return true;
}
