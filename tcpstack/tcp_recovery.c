/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_recovery.c - loss recovery of a SACK sender: the scoreboard of what
 * was sent (tcp_priv.h), RACK's time-based loss detection (RFC 8985 6),
 * fast recovery by RFC 6675 with Proportional Rate Reduction (RFC 6937),
 * and undoing what proved spurious: D-SACKs covering every retransmission
 * of an episode (RFC 3708's idea, as Linux's undo_retrans), an RTO whose
 * first ACK echoes a timestamp from before it (Eifel, RFC 3522/4015).
 *
 * Connections without SACK keep NewReno (tcp_input.c); the scoreboard still
 * records what they send, so after an RTO they too resend from it.
 *
 * Lcore: the stack's.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp_priv.h"

/* The table in use (const or not: this file owns it). */
#define SB(c) ((struct tcp_sb_ent *)tcp_sb_const(c))
#define DUP_THRESH 3 /* RFC 6675's DupThresh, in segments */
#define REO_PERSIST 16 /* recoveries a raised reordering window lasts (RFC 8985) */

static uint32_t
now_us(const struct tcp_conn *c)
{
	return (uint32_t)(tcp_now_ns(c) / 1000);
}

/* a - b for wrapping microsecond stamps. */
static int32_t
us_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

/* RFC 8985's RACK_sent_after: was (o1, seq1) sent after (o2, seq2)? By the
 * order of sending, not the clock: within one entry (one ord) ranges went
 * out in sequence order. */
static bool
sent_after(uint32_t o1, uint32_t seq1, uint32_t o2, uint32_t seq2)
{
	return (int32_t)(o1 - o2) > 0 || (o1 == o2 && tcp_seq_gt(seq1, seq2));
}

static uint32_t
ent_len(const struct tcp_sb_ent *e)
{
	return e->right - e->left;
}

/* Keep sb_sacked and sb_lost the sums of their entries' lengths. */
static void
ent_set_flags(struct tcp_conn *c, struct tcp_sb_ent *e, uint8_t flags)
{
	uint32_t len = ent_len(e);

	if (e->flags & TCP_SB_SACKED)
		c->sb_sacked -= len;
	if (e->flags & TCP_SB_LOST)
		c->sb_lost -= len;
	e->flags = flags;
	if (flags & TCP_SB_SACKED)
		c->sb_sacked += len;
	if (flags & TCP_SB_LOST)
		c->sb_lost += len;
}

static void
ent_remove(struct tcp_conn *c, uint32_t i)
{
	ent_set_flags(c, &SB(c)[i], 0);
	memmove(&SB(c)[i], &SB(c)[i + 1], (c->sb_n - i - 1) * sizeof(SB(c)[0]));
	c->sb_n--;
}

/* Move the table to a big one from the stack's pool; @return false if it is
 * big already or the pool is empty (counted). */
static bool
sb_grow(struct tcp_conn *c)
{
	void *big;

	if (c->sb_big != NULL)
		return false;
	if (rte_mempool_get(c->tcp->sb_pool, &big) != 0) {
		c->tcp->stats.sb_pool_empty++;
		return false;
	}
	memcpy(big, c->sb_inline, sizeof(c->sb_inline));
	c->sb_big = big;
	c->tcp->stats.sb_grown++;
	return true;
}

/* Back to the table in the connection (the scoreboard is empty). */
static void
sb_shrink(struct tcp_conn *c)
{
	if (c->sb_big == NULL || c->sb_n != 0)
		return;
	rte_mempool_put(c->tcp->sb_pool, c->sb_big);
	c->sb_big = NULL;
}

/* Merge the two neighbours with the same marks closest in time, to make
 * room, but never at the boundary pin (one just cut, about to be marked);
 * @return false if no two neighbours may merge. */
static bool
sb_compact(struct tcp_conn *c, uint32_t pin)
{
	uint32_t i, best = UINT32_MAX, gap = UINT32_MAX;

	for (i = 0; i + 1 < c->sb_n; i++) {
		uint32_t d = (uint32_t)abs(us_diff(SB(c)[i + 1].xmit_us, SB(c)[i].xmit_us));

		if (SB(c)[i].flags == SB(c)[i + 1].flags && SB(c)[i].right != pin && d < gap) {
			gap = d;
			best = i;
		}
	}
	if (best == UINT32_MAX)
		return false;
	if (us_diff(SB(c)[best + 1].xmit_us, SB(c)[best].xmit_us) > 0)
		SB(c)[best].xmit_us = SB(c)[best + 1].xmit_us;
	if ((int32_t)(SB(c)[best + 1].xmit_ord - SB(c)[best].xmit_ord) > 0)
		SB(c)[best].xmit_ord = SB(c)[best + 1].xmit_ord;
	/* The counters already hold both lengths under the same marks. */
	SB(c)[best].right = SB(c)[best + 1].right;
	memmove(&SB(c)[best + 1], &SB(c)[best + 2], (c->sb_n - best - 2) * sizeof(SB(c)[0]));
	c->sb_n--;
	return true;
}

/* Room for one more entry: a bigger table, else a merge (not at pin). */
static bool
sb_room(struct tcp_conn *c, uint32_t pin)
{
	if (c->sb_n < tcp_sb_cap(c))
		return true;
	if (sb_grow(c))
		return true;
	return sb_compact(c, pin);
}

/* The entry strictly containing seq (seq inside, not its left edge). */
static uint32_t
sb_find(const struct tcp_conn *c, uint32_t seq)
{
	uint32_t i;

	for (i = 0; i < c->sb_n; i++)
		if (tcp_seq_gt(seq, SB(c)[i].left) && tcp_seq_lt(seq, SB(c)[i].right))
			return i;
	return UINT32_MAX;
}

/* Make seq a boundary between entries; @return false if it falls inside
 * one and there is no room to split it (the caller then treats the whole
 * entry alike). */
static bool
sb_cut(struct tcp_conn *c, uint32_t seq, uint32_t pin)
{
	uint32_t i = sb_find(c, seq);
	struct tcp_sb_ent *e;

	if (i == UINT32_MAX)
		return true;
	if (c->sb_n == tcp_sb_cap(c)) {
		if (!sb_room(c, pin))
			return false;
		i = sb_find(c, seq);
		if (i == UINT32_MAX)
			return true;
	}
	e = &SB(c)[i];
	memmove(e + 1, e, (c->sb_n - i) * sizeof(*e));
	c->sb_n++;
	e->right = seq;
	e[1].left = seq;
	return true;
}

void
tcp_sb_reset(struct tcp_conn *c)
{
	c->sb_n = 0;
	sb_shrink(c);
	c->sb_sacked = c->sb_lost = 0;
	c->reo_deadline = TCP_NO_DEADLINE;
}

void
tcp_sb_sent(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t t = now_us(c), end = seq + len, sb_end, ord, i;
	bool retrans = false;

	if (len == 0)
		return;
	ord = ++c->sb_ord;
	sb_end = c->sb_n != 0 ? SB(c)[c->sb_n - 1].right : seq;
	if (c->sb_n == 0 || tcp_seq_geq(seq, sb_end)) {
		struct tcp_sb_ent *last = c->sb_n != 0 ? &SB(c)[c->sb_n - 1] : NULL;

		/* New data in the same instant as the newest entry's, nothing
		 * sent between: one entry (sequence order is sending order). */
		if (last != NULL && last->flags == 0 && last->xmit_us == t &&
				last->xmit_ord == ord - 1) {
			last->right = end;
			last->xmit_ord = ord;
			return;
		}
		if (!sb_room(c, seq)) {
			/* Marks alternate all the way: the newest entry takes the
			 * new range and forgets its own marks (at worst a range
			 * is sent once more than needed). */
			last = &SB(c)[c->sb_n - 1];
			ent_set_flags(c, last, 0);
			last->right = end;
			last->xmit_us = t;
			last->xmit_ord = ord;
			return;
		}
		SB(c)[c->sb_n].left = c->sb_n != 0 ? sb_end : seq;
		SB(c)[c->sb_n].right = end;
		SB(c)[c->sb_n].xmit_us = t;
		SB(c)[c->sb_n].xmit_ord = ord;
		SB(c)[c->sb_n].flags = 0;
		c->sb_n++;
		return;
	}
	/* Sent again: the ranges it covers are in flight once more, timed
	 * from now, and marked as retransmitted. */
	if (tcp_seq_gt(end, sb_end)) {
		tcp_sb_sent(c, sb_end, end - sb_end);
		end = sb_end;
	}
	sb_cut(c, seq, seq);
	sb_cut(c, end, seq);
	for (i = 0; i < c->sb_n; i++) {
		struct tcp_sb_ent *e = &SB(c)[i];

		if (tcp_seq_leq(e->right, seq) || tcp_seq_geq(e->left, end))
			continue;
		ent_set_flags(c, e, (uint8_t)((e->flags & ~TCP_SB_LOST) | TCP_SB_RETRANS));
		e->xmit_us = t;
		e->xmit_ord = ord;
		retrans = true;
	}
	if (retrans && (c->flags & TCP_CONN_FLAG_RECOVERY) && (c->flags & TCP_CONN_FLAG_TS) &&
			c->rec_tsval == 0) {
		c->rec_tsval = RTE_MAX(tcp_ts_now(c), 1u);
		c->rec_seq = seq;
	}
	if (retrans && c->undo_marker != 0) {
		c->undo_retrans += end - seq;
		if (tcp_seq_gt(end, c->undo_high))
			c->undo_high = end;
	}
}

/* RFC 8985 6.2 steps 1-3: a range the peer now holds (ACKed or SACKed). */
static void
rack_update(struct tcp_conn *c, const struct tcp_sb_ent *e, uint32_t t)
{
	int32_t rtt = us_diff(t, e->xmit_us);

	if (rtt < 0)
		rtt = 0;
	/* An ACK of a retransmission sooner than the path can answer is for
	 * the original: no sample, not the newest delivered. */
	if ((e->flags & TCP_SB_RETRANS) && c->min_rtt_us != 0 && (uint32_t)rtt < c->min_rtt_us)
		return;
	c->rack_rtt_us = (uint32_t)rtt;
	if (sent_after(e->xmit_ord, e->right, c->rack_xmit_ord, c->rack_end) || c->rack_end == 0) {
		c->rack_xmit_ord = e->xmit_ord;
		c->rack_end = e->right;
	}
	/* Delivered below what an earlier ACK had delivered, never sent
	 * again: the network reordered it (step 3; Linux compares with its
	 * prior_fack too). Against this ACK's own SACKs it would call a lost
	 * ACK reordering, and widen the window for every loss after. */
	if (!(e->flags & TCP_SB_RETRANS) && c->rack_fack_prior != 0 &&
			tcp_seq_lt(e->right, c->rack_fack_prior))
		c->flags |= TCP_CONN_FLAG_REORDER;
	if (c->rack_fack == 0 || tcp_seq_gt(e->right, c->rack_fack))
		c->rack_fack = e->right;
}

/* F-RTO: a range newly ACKed or SACKed; sent before the timeout and never
 * again, it says the originals got through (Linux's FLAG_ORIG_SACK_ACKED). */
static void
frto_note(struct tcp_conn *c, const struct tcp_sb_ent *e)
{
	if (c->frto != TCP_FRTO_OFF && !(e->flags & TCP_SB_RETRANS) &&
			tcp_seq_lt(e->left, c->frto_high))
		c->orig_delivered = true;
}

void
tcp_sb_ack(struct tcp_conn *c, uint32_t ack)
{
	uint32_t t = now_us(c);

	while (c->sb_n != 0 && tcp_seq_gt(ack, SB(c)[0].left)) {
		struct tcp_sb_ent *e = &SB(c)[0];

		if (tcp_seq_geq(ack, e->right)) {
			if (!(e->flags & TCP_SB_SACKED)) {
				rack_update(c, e, t);
				frto_note(c, e);
			}
			ent_remove(c, 0);
			continue;
		}
		if (!(e->flags & TCP_SB_SACKED)) {
			struct tcp_sb_ent part = *e;

			part.right = ack;
			rack_update(c, &part, t);
			frto_note(c, &part);
		}
		if (e->flags & TCP_SB_SACKED)
			c->sb_sacked -= ack - e->left;
		if (e->flags & TCP_SB_LOST)
			c->sb_lost -= ack - e->left;
		e->left = ack;
	}
	sb_shrink(c);
}

/* Mark left..right SACKed; @return the bytes that were not SACKed before. */
static uint32_t
sb_sack(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	uint32_t t = now_us(c), added = 0, i;

	if (c->sb_n == 0)
		return 0;
	if (tcp_seq_lt(left, SB(c)[0].left))
		left = SB(c)[0].left;
	if (tcp_seq_gt(right, SB(c)[c->sb_n - 1].right))
		right = SB(c)[c->sb_n - 1].right;
	if (!tcp_seq_lt(left, right))
		return 0;
	/* Without room to cut, only whole entries inside the block count. */
	sb_cut(c, left, left);
	sb_cut(c, right, left);
	for (i = 0; i < c->sb_n; i++) {
		struct tcp_sb_ent *e = &SB(c)[i];

		if (tcp_seq_lt(e->left, left) || tcp_seq_gt(e->right, right) ||
				(e->flags & TCP_SB_SACKED))
			continue;
		rack_update(c, e, t);
		frto_note(c, e);
		added += ent_len(e);
		ent_set_flags(c, e, (uint8_t)((e->flags & ~TCP_SB_LOST) | TCP_SB_SACKED));
	}
	return added;
}

/* Every retransmission of the episode was D-SACKed: it was reordering, not
 * loss; restore the window it cost and resend nothing more of it (Linux's
 * tcp_try_undo_dsack, RFC 3708's idea). */
static void
undo(struct tcp_conn *c)
{
	uint32_t i;

	c->cwnd = RTE_MAX(c->cwnd, c->prior_cwnd);
	if (c->prior_ssthresh > c->ssthresh)
		c->ssthresh = c->prior_ssthresh;
	c->cc_ops->undo(c);
	c->flags &= ~(uint32_t)(TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_LOSS);
	c->prior_cwnd = 0;
	c->undo_marker = 0;
	for (i = 0; i < c->sb_n; i++)
		if (SB(c)[i].flags & TCP_SB_LOST)
			ent_set_flags(c, &SB(c)[i], (uint8_t)(SB(c)[i].flags & ~TCP_SB_LOST));
	c->tcp->stats.undos++;
}

/* A D-SACK (RFC 2883): the peer got left..right twice. Reordering, or a
 * retransmission that was not needed. */
static void
dsack_input(struct tcp_conn *c, uint32_t left, uint32_t right)
{
	struct tcp_stack *tcp = c->tcp;

	tcp->stats.dsacks_in++;
	/* RFC 8985 6.2 step 4: widen the reordering window, once a round. */
	if (tcp_seq_geq(c->snd_una, c->rack_dsack_round) || c->rack_dsack_round == 0) {
		if (c->reo_wnd_mult < UINT8_MAX)
			c->reo_wnd_mult++;
		c->reo_wnd_persist = REO_PERSIST;
		c->rack_dsack_round = c->snd_max;
	}
	/* Retransmissions of this episode the peer already had: when all of
	 * them were, the episode was spurious (Linux's undo_retrans). */
	if (c->undo_marker != 0 && c->undo_retrans != 0 && tcp_seq_geq(left, c->undo_marker) &&
			tcp_seq_leq(right, c->undo_high)) {
		uint32_t n = right - left;

		c->undo_retrans -= RTE_MIN(n, c->undo_retrans);
		if (c->undo_retrans == 0 && c->prior_cwnd != 0)
			undo(c);
	}
}

uint32_t
tcp_sb_sack_input(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t added = 0;
	uint8_t k;

	for (k = 0; k < seg->opts.nsack; k++) {
		uint32_t l = seg->opts.sack[k].left, r = seg->opts.sack[k].right;

		if (!tcp_seq_lt(l, r) || tcp_seq_gt(r, c->snd_max) ||
				tcp_seq_lt(l, c->snd_una - (1u << 30)))
			continue;
		/* RFC 2883 4: the first block is a duplicate if it lies below
		 * the ACK or inside the second block. */
		if (k == 0 && (tcp_seq_leq(r, seg->ack) ||
					      (seg->opts.nsack > 1 &&
							      tcp_seq_geq(l, seg->opts.sack[1].left) &&
							      tcp_seq_leq(r, seg->opts.sack[1].right)))) {
			dsack_input(c, l, r);
			continue;
		}
		if (tcp_seq_lt(l, seg->ack))
			l = seg->ack;
		if (tcp_seq_lt(l, r))
			added += sb_sack(c, l, r);
	}
	return added;
}

void
tcp_sb_mark_lost_all(struct tcp_conn *c, bool clear_sacks)
{
	uint32_t i;

	for (i = 0; i < c->sb_n; i++) {
		struct tcp_sb_ent *e = &SB(c)[i];

		if (clear_sacks || !(e->flags & TCP_SB_SACKED))
			ent_set_flags(c, e, (uint8_t)((e->flags & ~TCP_SB_SACKED) | TCP_SB_LOST));
	}
}

bool
tcp_sb_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	uint32_t i;

	if (c->sb_lost == 0)
		return false;
	for (i = 0; i < c->sb_n; i++)
		if (SB(c)[i].flags & TCP_SB_LOST) {
			*seq = SB(c)[i].left;
			*len = ent_len(&SB(c)[i]);
			return true;
		}
	return false;
}

/* RFC 8985 6.2 step 4: how much later than the newest delivered range an
 * older one may still arrive before it is deemed lost. */
static uint32_t
reo_wnd_us(const struct tcp_conn *c)
{
	if (!(c->flags & TCP_CONN_FLAG_REORDER)) {
		if (c->flags & (TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_LOSS))
			return 0;
		if (c->sb_sacked >= DUP_THRESH * (uint32_t)c->mss)
			return 0;
	}
	return RTE_MIN((uint32_t)RTE_MAX(c->reo_wnd_mult, 1) * c->min_rtt_us / 4, c->srtt_us);
}

/* RFC 8985 6.2 step 5: every range sent before the newest delivered one,
 * not SACKed, is lost once RTT + reo_wnd has passed since it was sent.
 * @return microseconds until the next one may be (0: none waits). */
static uint32_t
rack_detect(struct tcp_conn *c)
{
	uint32_t t = now_us(c), reo = reo_wnd_us(c), wait = 0, i;

	if (c->rack_end == 0)
		return 0;
	for (i = 0; i < c->sb_n; i++) {
		struct tcp_sb_ent *e = &SB(c)[i];
		int32_t remaining;

		if (e->flags & (TCP_SB_SACKED | TCP_SB_LOST))
			continue;
		if (!sent_after(c->rack_xmit_ord, c->rack_end, e->xmit_ord, e->right))
			continue;
		remaining = us_diff(e->xmit_us + c->rack_rtt_us + reo, t);
		if (remaining <= 0) {
			ent_set_flags(c, e, (uint8_t)(e->flags | TCP_SB_LOST));
			c->tcp->stats.rack_lost++;
		} else if ((uint32_t)remaining > wait) {
			wait = (uint32_t)remaining;
		}
	}
	return wait;
}

static void
reo_timer_set(struct tcp_conn *c, uint32_t wait_us)
{
	c->reo_deadline = wait_us != 0 ? tcp_now_ns(c) + (uint64_t)wait_us * 1000 : TCP_NO_DEADLINE;
	tcp_timer_update(c);
}

/* RFC 6675 5 / RFC 6937: the episode starts. */
static void
enter_recovery(struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una; /* RecoverFS */

	c->prior_cwnd = c->cwnd;
	c->prior_ssthresh = c->ssthresh;
	c->ssthresh = c->cc_ops->ssthresh(c);
	c->recover = c->snd_max;
	c->recover_fs = RTE_MAX(flight, 1u);
	c->prr_delivered = c->prr_out = 0;
	c->undo_marker = c->snd_una != 0 ? c->snd_una : 1;
	c->undo_retrans = 0;
	c->undo_high = c->snd_una;
	c->rec_tsval = 0;
	c->flags |= TCP_CONN_FLAG_RECOVERY;
	if (c->flags & TCP_CONN_FLAG_TLP_OUT)
		c->tcp->stats.tlp_recoveries++; /* the probe's SACK showed the loss */
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_TLP_OUT;
	c->tlp_sent = 0;
	if (c->flags & TCP_CONN_FLAG_TLP)
		tcp_rtx_arm(c); /* a fresh count of probes, timed from now */
	c->tcp->stats.fast_retransmits++;
	if (c->reo_wnd_persist != 0 && --c->reo_wnd_persist == 0)
		c->reo_wnd_mult = 1;
}

/* RFC 6937 3: how much PRR lets out now, as a cwnd of pipe + sndcnt. */
static void
prr_update(struct tcp_conn *c, uint32_t delivered)
{
	uint32_t pipe = tcp_pipe(c);
	int64_t sndcnt;

	c->prr_delivered += delivered;
	if (pipe > c->ssthresh) {
		/* Proportional: ssthresh/RecoverFS of what was delivered. */
		sndcnt = ((uint64_t)c->prr_delivered * c->ssthresh + c->recover_fs - 1) /
					 c->recover_fs -
			 (int64_t)c->prr_out;
	} else {
		/* Slow start back up to ssthresh, at most one segment beyond
		 * what was delivered (PRR-SSRB). */
		int64_t limit = RTE_MAX((int64_t)c->prr_delivered - (int64_t)c->prr_out,
						(int64_t)delivered) +
				c->mss;

		sndcnt = RTE_MIN((int64_t)(c->ssthresh - pipe), limit);
	}
	if (sndcnt < 0)
		sndcnt = 0;
	/* The first retransmission goes whatever the arithmetic says. */
	if (c->prr_out == 0 && c->sb_lost != 0 && sndcnt < c->mss)
		sndcnt = c->mss;
	c->cwnd = pipe + (uint32_t)sndcnt;
}

uint32_t
tcp_recovery_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t prior_una,
		uint32_t prior_sacked)
{
	uint32_t delivered = (seg->ack - prior_una) + c->sb_sacked - prior_sacked;
	uint32_t wait;

	/* (prior_sacked includes what the cumulative ACK then took: the sum is
	 * what reached the peer with this ACK, RFC 6937's DeliveredData.) */
	if (tcp_seq_lt(seg->ack, prior_una))
		delivered = 0;
	wait = rack_detect(c);
	if (c->sb_lost != 0 && !(c->flags & (TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_LOSS)))
		enter_recovery(c);
	if (c->flags & TCP_CONN_FLAG_RECOVERY)
		prr_update(c, delivered);
	reo_timer_set(c, wait);
	return delivered;
}

/* A retransmission still unacknowledged and not SACKed above @ack? */
static bool
retrans_out(const struct tcp_conn *c, uint32_t ack)
{
	uint32_t i;

	for (i = 0; i < c->sb_n; i++) {
		const struct tcp_sb_ent *e = &SB(c)[i];

		if ((e->flags & TCP_SB_RETRANS) && !(e->flags & TCP_SB_SACKED) &&
				tcp_seq_gt(e->right, ack))
			return true;
	}
	return false;
}

void
tcp_recovery_eifel(struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (c->rec_tsval == 0 || !(c->flags & TCP_CONN_FLAG_RECOVERY) ||
			!tcp_seq_gt(seg->ack, c->snd_una) || c->prior_cwnd == 0)
		return;
	/* The hole was filled by a segment sent before the first
	 * retransmission: it was late, not lost. */
	if (!seg->opts.has_ts || seg->opts.tsecr == 0 || !tcp_seq_lt(seg->opts.tsecr, c->rec_tsval))
		return;
	/* A partial ACK with a retransmission still out waits for more. */
	if (tcp_seq_lt(seg->ack, c->recover) && retrans_out(c, seg->ack))
		return;
	c->tcp->stats.spurious_recoveries++;
	undo(c);
}

void
tcp_rack_timeout(struct tcp_conn *c)
{
	uint32_t wait;

	c->reo_deadline = TCP_NO_DEADLINE;
	if (c->snd_una == c->snd_max)
		return;
	c->tcp->stats.rack_timeouts++;
	wait = rack_detect(c);
	if (c->sb_lost != 0 && !(c->flags & (TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_LOSS)))
		enter_recovery(c);
	if (c->flags & TCP_CONN_FLAG_RECOVERY)
		prr_update(c, 0);
	reo_timer_set(c, wait);
	tcp_output(c);
}

void
tcp_recovery_rto(struct tcp_conn *c)
{
	/* The first range SACKed at an RTO: the peer dropped what it SACKed
	 * (reneging, RFC 2018 8); SACKs are forgotten and all is sent again. */
	bool reneged = c->sb_n != 0 && (SB(c)[0].flags & TCP_SB_SACKED);

	/* F-RTO step 1 (RFC 5682 3.1): on a first timeout with no fast
	 * recovery under way (its resends would make the test ambiguous). */
	c->frto = TCP_FRTO_OFF;
	if (c->tcp->cfg.frto && c->backoff == 0 && !(c->flags & TCP_CONN_FLAG_RECOVERY) &&
			!reneged) {
		c->frto = TCP_FRTO_FIRST_ACK;
		c->frto_high = c->snd_max;
	}
	if (c->backoff == 0) {
		c->prior_cwnd = c->cwnd;
		c->prior_ssthresh = c->ssthresh;
		c->ssthresh = c->cc_ops->ssthresh(c);
		c->rto_tsval = (c->flags & TCP_CONN_FLAG_TS) ? tcp_ts_now(c) : 0;
	} else {
		c->rto_tsval = 0; /* a second timeout: no undo */
	}
	c->cwnd = c->mss;
	c->recover = c->snd_max;
	c->undo_marker = 0;
	c->flags &= ~(uint32_t)(TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_RTT_TIMING);
	c->flags |= TCP_CONN_FLAG_LOSS;
	c->dupacks = 0;
	tcp_sb_mark_lost_all(c, reneged);
	c->reo_deadline = TCP_NO_DEADLINE;
}

void
tcp_recovery_frto(struct tcp_conn *c, uint32_t prior_una, bool dup, uint32_t sacked)
{
	struct tcp_stack *tcp = c->tcp;

	if (c->frto == TCP_FRTO_OFF)
		return;
	if (!(c->flags & TCP_CONN_FLAG_LOSS)) {
		/* All that was outstanding is ACKed (nothing to tell), or Eifel
		 * detection undid the timeout first. */
		c->frto = TCP_FRTO_OFF;
		return;
	}
	/* Step 3b: data sent before the timeout, never sent again, reached the
	 * peer: not everything was lost, the timeout was spurious. Without
	 * SACK only the second ACK tells (the first may cover data the peer
	 * held above a real hole); with SACK such data would have been SACKed
	 * before, so any ACK tells (as Linux). */
	if (c->orig_delivered &&
			((c->flags & TCP_CONN_FLAG_SACK) || c->frto == TCP_FRTO_NEW_SENT)) {
		c->frto = TCP_FRTO_OFF;
		if (c->prior_cwnd == 0)
			return;
		tcp->stats.spurious_rtos++;
		tcp->stats.frto_undos++;
		undo(c);
		return;
	}
	if (c->frto == TCP_FRTO_NEW_SENT) {
		/* Step 3a: the new data arrived past a hole that is still
		 * there: the loss was real; resend as after any timeout. With
		 * SACK the new data leaves the pipe; without, cwnd is set to
		 * three segments (RFC 5682's bound), one resend beside it. */
		if (dup || sacked != 0) {
			c->frto = TCP_FRTO_OFF;
			if (!(c->flags & TCP_CONN_FLAG_SACK))
				c->cwnd = 3u * c->mss;
		}
		return;
	}
	if (!tcp_seq_gt(c->snd_una, prior_una)) {
		if (dup || sacked != 0)
			c->frto = TCP_FRTO_OFF; /* step 2a: a hole */
		return; /* a window update: wait for the first ACK */
	}
	/* Step 2b: the resend was ACKed; send up to two new segments
	 * instead of resending more. With none to send or no window for
	 * them the test cannot be made. */
	if (tcp_seq_lt(c->snd_max, c->snd_end) && tcp_seq_lt(c->snd_max, c->snd_una + c->snd_wnd)) {
		c->frto = TCP_FRTO_NEW_SENT;
		c->cwnd = RTE_MIN(c->cwnd, tcp_pipe(c) + 2u * c->mss);
		tcp->stats.frto_new_sent++;
	} else {
		c->frto = TCP_FRTO_OFF;
	}
}

void
tcp_recovery_rto_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	/* RFC 3522 (Eifel detection): the ACK echoes a timestamp older than
	 * the retransmission, so the original arrived; RFC 4015's response:
	 * back to the window before the timeout, nothing more resent. */
	bool original = c->rto_tsval != 0 && c->prior_cwnd != 0 && seg->opts.has_ts &&
			seg->opts.tsecr != 0 && tcp_seq_lt(seg->opts.tsecr, c->rto_tsval);

	c->rto_tsval = 0; /* only the first ACK after the timeout tells */
	if (!original)
		return;
	c->tcp->stats.spurious_rtos++;
	undo(c);
}
