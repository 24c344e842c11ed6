/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_rcvq.c - the receive side's queues of a connection: a segment's payload
 * as a list of single-segment mbufs (trimmed at either end), the receive
 * queue (small segments packed into the mbuf before them), and the
 * out-of-order queue (sorted, overlaps trimmed, O(1) appends, contiguous
 * tiny segments packed, the highest dropped first when full), and the SACK
 * blocks that describe it. Every mbuf linked in or out is counted (tcp_held,
 * tcp_mem.c). On the lcore of the stack; tcp_input.c decides what goes where.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "stack.h"
#include "tcp_priv.h"

/* ---- payload lists ---- */

/* Turn the chain at m into a list of single-segment mbufs, dropping empty
 * ones. @return the head (NULL if no payload). */
struct rte_mbuf *
tcp_payload_list(struct rte_mbuf *m)
{
	struct rte_mbuf *head = NULL, **link = &head;

	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			*link = m;
			link = &m->next;
		}
		m = next;
	}
	return head;
}

/* Remove d bytes from the front of a list. */
struct rte_mbuf *
tcp_list_trim_front(struct rte_mbuf *m, uint32_t d)
{
	while (m != NULL && d > 0) {
		if (d >= m->data_len) {
			struct rte_mbuf *next = m->next;

			d -= m->data_len;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			m = next;
		} else {
			m->data_off = (uint16_t)(m->data_off + d);
			m->data_len = (uint16_t)(m->data_len - d);
			m->pkt_len = m->data_len;
			d = 0;
		}
	}
	return m;
}

/* Keep only the first keep bytes of a list. */
struct rte_mbuf *
tcp_list_keep(struct rte_mbuf *m, uint32_t keep)
{
	struct rte_mbuf *head = m, *last = NULL;

	while (m != NULL && keep >= m->data_len) {
		keep -= m->data_len;
		last = m;
		m = m->next;
	}
	if (m != NULL && keep > 0) {
		m->data_len = (uint16_t)keep;
		m->pkt_len = keep;
		last = m;
		m = m->next;
	}
	if (last != NULL)
		last->next = NULL;
	else
		head = NULL;
	tcp_mbuf_list_free(m);
	return head;
}

/* ---- the receive queue ---- */

void
tcp_rcvq_append(struct tcp_conn *c, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next, *t = c->rcvq_tail;
		uint16_t len = m->data_len;

		m->next = NULL;
		c->rcvq_bytes += len;
		/* Pack small segments into the previous mbuf: a peer sending
		 * tiny segments cannot hold one mbuf per byte or two. */
		if (len < TCP_PACK_BELOW && t != NULL && rte_pktmbuf_tailroom(t) >= len &&
				RTE_MBUF_DIRECT(t) && rte_mbuf_refcnt_read(t) == 1) {
			memcpy(rte_pktmbuf_mtod_offset(t, char *, t->data_len),
					rte_pktmbuf_mtod(m, char *), len);
			t->data_len = (uint16_t)(t->data_len + len);
			t->pkt_len = t->data_len;
			rte_pktmbuf_free_seg(m);
			c->tcp->stats.rcv_packed++;
		} else {
			if (t == NULL)
				c->rcvq_head = m;
			else
				t->next = m;
			c->rcvq_tail = m;
			tcp_held(c, &c->rcvq_segs, 1);
		}
		m = next;
	}
}

/* Would data (in order) pack into the receive queue's tail whole, taking no
 * mbuf of its own? Accepted even when short of mbufs. */
bool
tcp_rcvq_packs(const struct tcp_conn *c, const struct rte_mbuf *data)
{
	const struct rte_mbuf *t = c->rcvq_tail;

	return data != NULL && data->next == NULL && data->data_len < TCP_PACK_BELOW && t != NULL &&
	       rte_pktmbuf_tailroom(t) >= data->data_len && RTE_MBUF_DIRECT(t) &&
	       rte_mbuf_refcnt_read(t) == 1;
}

/* ---- SACK blocks (RFC 2018 4) ---- */

/* [left, right) was queued out of order: its block, merged with any block it
 * overlaps or touches, goes first; the others keep their order behind it,
 * and one that no longer fits falls off the end (its data stays queued, it
 * is only no longer reported). */
static void
sack_note(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	struct tcp_sack_block b = { left, right }, keep[TCP_SACK_MAX];
	uint8_t i, n = 0;

	if (!(c->flags & TCP_CONN_FLAG_SACK))
		return;
	for (i = 0; i < c->nsack; i++) {
		struct tcp_sack_block o = c->sack[i];

		if (tcp_seq_leq(o.left, b.right) && tcp_seq_geq(o.right, b.left)) {
			if (tcp_seq_lt(o.left, b.left))
				b.left = o.left;
			if (tcp_seq_gt(o.right, b.right))
				b.right = o.right;
		} else if (n < TCP_SACK_MAX - 1) {
			keep[n++] = o;
		}
	}
	c->sack[0] = b;
	memcpy(&c->sack[1], keep, n * sizeof(keep[0]));
	c->nsack = (uint8_t)(n + 1);
}

/* Keep the blocks to what is still queued out of order: above RCV.NXT and at
 * most up to the queue's highest byte (pruning drops from the top). */
void
tcp_sack_clip(struct tcp_conn *c)
{
	const struct rte_mbuf *t = c->ooo_tail;
	uint32_t top = t != NULL ? t->hash.usr + t->data_len : c->rcv_nxt;
	uint8_t i, n = 0;

	for (i = 0; i < c->nsack; i++) {
		struct tcp_sack_block b = c->sack[i];

		if (tcp_seq_lt(b.left, c->rcv_nxt))
			b.left = c->rcv_nxt;
		if (tcp_seq_gt(b.right, top))
			b.right = top;
		if (tcp_seq_lt(b.left, b.right))
			c->sack[n++] = b;
	}
	c->nsack = n;
}

/* A duplicate [left, right) arrived: report it first in an ACK sent at once
 * (RFC 2883 4). The latest duplicate replaces an unsent one. */
void
tcp_dsack_note(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	if (!(c->flags & TCP_CONN_FLAG_SACK) || !tcp_seq_lt(left, right))
		return;
	c->dsack.left = left;
	c->dsack.right = right;
	c->flags |= TCP_CONN_FLAG_DSACK | TCP_CONN_FLAG_ACK_NOW;
}

/* Insert one element (sequence s) into the sorted out-of-order queue,
 * trimming what is already there (RFC 9293 3.10.7.4: overlapping segments). */
static void
ooo_insert_one(struct tcp_conn *c, struct rte_mbuf *e, uint32_t s)
{
	struct rte_mbuf *prev, *cur, *t = c->ooo_tail;
	uint32_t l = e->data_len;

	if (c->ooo_segs >= tcp_ooo_max(c) && t != NULL && tcp_seq_lt(s, t->hash.usr)) {
		/* Full, and this one is nearer RCV.NXT than the highest held:
		 * that one goes instead (review L15; Linux prunes the same
		 * end). */
		c->tcp->st->stats.drops[STACK_DROP_TCP_OOO_FULL]++;
		tcp_ooo_prune(c, c->ooo_segs - 1);
		t = c->ooo_tail;
	}
	prev = NULL;
	cur = c->ooo_head;
	if (t != NULL && tcp_seq_leq(t->hash.usr + t->data_len, s)) {
		/* Beyond everything queued, the usual case after a loss: append
		 * without walking the list (review M3: the walk made each loss
		 * episode O(n^2), a CPU lever for a peer). */
		prev = t;
		cur = NULL;
	}
	while (cur != NULL && tcp_seq_leq(cur->hash.usr + cur->data_len, s)) {
		prev = cur;
		cur = cur->next;
	}
	if (cur != NULL && tcp_seq_leq(cur->hash.usr, s) &&
			tcp_seq_geq(cur->hash.usr + cur->data_len, s + l)) {
		rte_pktmbuf_free_seg(e); /* all of it is here already */
		tcp_dsack_note(c, s, s + l);
		return;
	}
	if (cur != NULL && tcp_seq_lt(cur->hash.usr, s)) {
		uint32_t d = cur->hash.usr + cur->data_len - s;

		e->data_off = (uint16_t)(e->data_off + d);
		e->data_len = (uint16_t)(l - d);
		s += d;
		l -= d;
		prev = cur;
		cur = cur->next;
	}
	/* Older elements that the new one covers entirely go. */
	while (cur != NULL && tcp_seq_leq(cur->hash.usr + cur->data_len, s + l)) {
		struct rte_mbuf *next = cur->next;

		cur->next = NULL;
		rte_pktmbuf_free_seg(cur);
		tcp_held(c, &c->ooo_segs, -1);
		cur = next;
	}
	if (cur != NULL && tcp_seq_lt(cur->hash.usr, s + l))
		l = cur->hash.usr - s;
	if (l == 0 || c->ooo_segs >= tcp_ooo_max(c)) {
		if (l != 0)
			c->tcp->st->stats.drops[STACK_DROP_TCP_OOO_FULL]++;
		rte_pktmbuf_free_seg(e);
		if (prev != NULL)
			prev->next = cur;
		else
			c->ooo_head = cur;
		if (cur == NULL)
			c->ooo_tail = prev;
		return;
	}
	if (prev != NULL && prev->hash.usr + prev->data_len == s && l < TCP_PACK_BELOW &&
			rte_pktmbuf_tailroom(prev) >= l && RTE_MBUF_DIRECT(prev) &&
			rte_mbuf_refcnt_read(prev) == 1) {
		/* Right after the one before: pack it there, as the receive
		 * queue does (a run of tiny segments holds one mbuf). */
		memcpy(rte_pktmbuf_mtod_offset(prev, char *, prev->data_len),
				rte_pktmbuf_mtod(e, char *), l);
		prev->data_len = (uint16_t)(prev->data_len + l);
		prev->pkt_len = prev->data_len;
		prev->next = cur;
		if (cur == NULL)
			c->ooo_tail = prev;
		rte_pktmbuf_free_seg(e);
		c->tcp->stats.rcv_packed++;
		sack_note(c, s, s + l);
		return;
	}
	e->data_len = (uint16_t)l;
	e->pkt_len = l;
	e->hash.usr = s;
	e->next = cur;
	if (prev != NULL)
		prev->next = e;
	else
		c->ooo_head = e;
	if (cur == NULL)
		c->ooo_tail = e;
	tcp_held(c, &c->ooo_segs, 1);
	sack_note(c, s, s + l);
}

void
tcp_ooo_insert(struct tcp_conn *c, struct rte_mbuf *m, uint32_t seq)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;
		uint32_t len = m->data_len;

		m->next = NULL;
		ooo_insert_one(c, m, seq);
		seq += len;
		m = next;
	}
	tcp_ooo_listed(c);
}

/* Move what became in-order from the out-of-order queue. */
void
tcp_ooo_pull(struct tcp_conn *c)
{
	while (c->ooo_head != NULL && tcp_seq_leq(c->ooo_head->hash.usr, c->rcv_nxt)) {
		struct rte_mbuf *e = c->ooo_head;
		uint32_t end = e->hash.usr + e->data_len;

		c->ooo_head = e->next;
		if (c->ooo_head == NULL)
			c->ooo_tail = NULL;
		e->next = NULL;
		tcp_held(c, &c->ooo_segs, -1);
		if (tcp_seq_leq(end, c->rcv_nxt)) {
			rte_pktmbuf_free_seg(e);
			continue;
		}
		e = tcp_list_trim_front(e, c->rcv_nxt - e->hash.usr);
		c->rcv_nxt = end;
		c->tcp->stats.bytes_in += e->data_len;
		tcp_rcvq_append(c, e);
	}
	tcp_ooo_listed(c);
	tcp_sack_clip(c);
}
