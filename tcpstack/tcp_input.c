/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_input.c - segment arrival (RFC 9293 3.10.7): parse and verify,
 * demultiplex to a connection or a listener, check acceptability, then one
 * case per state. Acknowledgements drive RTT (RFC 6298), congestion control
 * and NewReno recovery (RFC 5681, 6582); payload goes to the receive queue
 * in order or to the out-of-order queue. On the lcore of the stack.
 *
 * Listeners (passive opens, SYN cookies) are in tcp_listen.c, ICMP errors
 * in tcp_icmp.c, the receive and out-of-order queues in tcp_rcvq.c.
 *
 * Once the headers are checked, a segment's payload is handled as a list
 * of single-segment mbufs (the received chain, each element fixed up), so
 * that trimming and queueing work the same for chained packets.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dp_cksum.h"
#include "tcp_priv.h"

/* ---- the send queue ---- */

void
tcp_sndq_ack(struct tcp_conn *c, uint32_t bytes)
{
	c->sndq_bytes -= bytes;
	while (bytes > 0 && c->sndq_head != NULL) {
		struct rte_mbuf *m = c->sndq_head;

		if (c->snd_cur == m)
			c->snd_cur = NULL;
		if (bytes >= m->data_len) {
			bytes -= m->data_len;
			c->sndq_head = m->next;
			m->next = NULL;
			rte_pktmbuf_free_seg(m);
			tcp_held(c, &c->sndq_segs, -1);
		} else {
			/* In-flight clones keep their own offsets. */
			m->data_off = (uint16_t)(m->data_off + bytes);
			m->data_len = (uint16_t)(m->data_len - bytes);
			m->pkt_len = m->data_len;
			bytes = 0;
		}
	}
	if (c->sndq_head == NULL) {
		c->sndq_tail = NULL;
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_SNDQ_OWN_TAIL;
	}
}

/* ---- options of a SYN ---- */

void
tcp_syn_options(struct tcp_conn *c, const struct tcp_seg *seg)
{
	const struct tcp_config *cfg = &c->tcp->cfg;
	uint32_t mss = seg->opts.has_mss ? seg->opts.mss : TCP_MSS_DEFAULT;

	/* RFC 9293 3.7.1: send no more than the peer's MSS nor our MTU allows;
	 * a tiny MSS (a way to make us send many segments) is raised to 88. */
	mss = RTE_MIN(mss, (uint32_t)c->tcp->st->cfg.mtu - 40);
	mss = RTE_MAX(mss, 88u);
	if (cfg->window_scaling && seg->opts.has_wscale) {
		c->flags |= TCP_CONN_FLAG_WS;
		c->snd_wscale = seg->opts.wscale;
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if (cfg->sack && seg->opts.sack_permitted)
		c->flags |= TCP_CONN_FLAG_SACK;
	if (cfg->timestamps && seg->opts.has_ts) {
		c->flags |= TCP_CONN_FLAG_TS;
		c->ts_recent = seg->opts.tsval;
		c->ts_recent_ns = tcp_now_ns(c);
		mss -= TCP_TS_OPT_LEN;
	}
	c->mss = (uint16_t)mss;
	c->rcv_mss = (uint16_t)mss;
	c->cwnd = (uint32_t)cfg->init_cwnd * mss;
}

/* ---- RTT, congestion control ---- */

/* An RTT sample from this ACK, if it gives one; @return true if it did. */
static bool
rtt_on_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint64_t now = tcp_now_ns(c);

	if ((c->flags & TCP_CONN_FLAG_TS) && seg->opts.has_ts && seg->opts.tsecr != 0) {
		/* RFC 7323 4.1: the echoed timestamp times the segment it
		 * acknowledges, retransmissions included (no Karn ambiguity). */
		uint32_t ms = tcp_ts_now(c) - seg->opts.tsecr;
		bool ok = ms <= 2 * c->tcp->cfg.rto_max_ms;

		/* A TSecr from our future, or older than any RTO we would
		 * keep, is no sample (review L3: ms * 1000 overflowed). */
		if (ok)
			tcp_rtt_sample(c, ms == 0 ? 500 : ms * 1000);
		if ((c->flags & TCP_CONN_FLAG_RTT_TIMING) && tcp_seq_gt(seg->ack, c->rtt_seq))
			c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING;
		return ok;
	}
	/* Karn: only a segment never retransmitted (timing stops at any
	 * retransmission). */
	if ((c->flags & TCP_CONN_FLAG_RTT_TIMING) && tcp_seq_gt(seg->ack, c->rtt_seq)) {
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING;
		tcp_rtt_sample(c, (uint32_t)RTE_MIN((now - c->rtt_start_ns) / 1000, UINT32_MAX));
		return true;
	}
	return false;
}

/* Resend the first unacknowledged segment (fast retransmit, partial ACK). */
static void
retransmit_first(struct tcp_conn *c)
{
	uint32_t len = tcp_seq_lt(c->snd_una, c->snd_end) ? c->snd_end - c->snd_una : 0;
	uint8_t fl = TCP_FLAG_ACK;

	len = RTE_MIN(len, (uint32_t)c->mss);
	if ((c->flags & TCP_CONN_FLAG_FIN_QUEUED) && c->snd_una + len == c->snd_end &&
			tcp_seq_gt(c->snd_max, c->snd_end))
		fl |= TCP_FLAG_FIN;
	if (len == 0 && !(fl & TCP_FLAG_FIN))
		return;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING;
	c->tcp->stats.retransmits++;
	tcp_xmit(c, c->snd_una, len, fl);
}

/* cwnd's growth for @delivered bytes that reached the peer, out of
 * recovery; @flight: SND.MAX - SND.UNA before the ACK. RFC 7661: only while
 * cwnd is what limits the sender (an application-limited connection would
 * build a window it never used and later burst it), and never past what both
 * buffers could hold in flight (it wrapped at 4 GiB on a loss-free path). */
static void
cwnd_grow(struct tcp_conn *c, uint32_t delivered, uint32_t flight)
{
	bool limited = c->cwnd < c->ssthresh ? 2 * flight >= c->cwnd : flight + c->mss >= c->cwnd;
	uint32_t cap = 2 * (c->tcp->cfg.snd_buf_max + c->tcp->cfg.rcv_buf_max);

	if (!limited || c->cwnd >= cap || delivered == 0)
		return;
	if (c->cwnd < c->ssthresh) {
		/* Slow start by bytes delivered (RFC 3465), up to ssthresh;
		 * the rest counts in congestion avoidance (as Linux's
		 * tcp_slow_start). HyStart++'s conservative slow start grows
		 * by a quarter of that (RFC 9406 4.2, CSS_GROWTH_DIVISOR). */
		uint32_t room = c->ssthresh - c->cwnd;

		if (c->hs.state == TCP_HS_CSS)
			delivered = RTE_MAX(delivered / 4, 1u);

		if (delivered <= room) {
			c->cwnd = RTE_MIN(c->cwnd + delivered, cap);
			return;
		}
		c->cwnd = c->ssthresh;
		delivered -= room;
	}
	/* Congestion avoidance: the algorithm's (tcp_cc.c). */
	c->cc_ops->cong_avoid(c, delivered);
	c->cwnd = RTE_MIN(c->cwnd, cap);
}

static void
new_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t ack = seg->ack, acked = ack - c->snd_una, data, wnd;
	uint32_t flight = c->snd_max - c->snd_una;
	bool partial = false;

	/* RFC 6298 5.7 and Karn: the backed-off RTO stays until an RTT sample
	 * says otherwise; an ACK of a retransmission (no timestamps) gives
	 * none (review L2; Linux resets its backoff only on a sample). */
	if (rtt_on_ack(c, seg))
		c->backoff = 0;
	tcp_hystart_ack(c, ack); /* after its sample: the ACK ending a round counts in it */
	c->rtx_since_ns = 0;
	if (c->flags & TCP_CONN_FLAG_LOSS) {
		tcp_recovery_rto_ack(c, seg); /* a spurious RTO is undone here */
		if (tcp_seq_geq(ack, c->recover))
			c->flags &= ~(uint32_t)TCP_CONN_FLAG_LOSS;
	}
	if (c->flags & TCP_CONN_FLAG_RECOVERY) {
		if (tcp_seq_geq(ack, c->recover)) {
			/* Full acknowledgment. With SACK, PRR's end: cwnd =
			 * ssthresh (RFC 6937 3.1; a window cut to what little was
			 * in flight at that moment would stall on one lost ACK).
			 * NewReno deflates (RFC 6582 3.2 step 3, option 1). */
			uint32_t flight = c->snd_max - ack;

			if (c->flags & TCP_CONN_FLAG_SACK)
				c->cwnd = c->ssthresh;
			else
				c->cwnd = RTE_MIN(c->ssthresh,
						RTE_MAX(flight, (uint32_t)c->mss) + c->mss);
			c->flags &= ~(uint32_t)TCP_CONN_FLAG_RECOVERY;
		} else if (c->flags & TCP_CONN_FLAG_SACK) {
			/* PRR sets cwnd (tcp_recovery_ack), the scoreboard says
			 * what to resend. */
		} else {
			/* Step 4: partial acknowledgment; resend the next hole
			 * and deflate by the amount acked. */
			c->cwnd = (c->cwnd > acked ? c->cwnd - acked : 0) + c->mss;
			partial = true;
		}
	} else if (!(c->flags & TCP_CONN_FLAG_SACK)) {
		/* Without SACK what an ACK delivered is what it acknowledges
		 * (with SACK, ack_input counts SACKed bytes too). */
		cwnd_grow(c, RTE_MIN(acked, 2u * c->mss), flight);
	}
	/* Send-buffer autotuning: room for two windows, so the queue never
	 * limits a window cwnd allows (as Linux's tcp_sndbuf_expand). The
	 * window is the smaller of cwnd and the largest the peer offered: no
	 * more than that can be in flight, and a buffer that holds more only
	 * makes the sender's working set outgrow its caches (on memif, a
	 * 4 MiB buffer behind a 256 KiB window sent 0.7x the bytes). */
	wnd = RTE_MIN(c->cwnd, c->max_wnd);
	if (c->snd_buf < 2 * wnd && c->snd_buf < c->tcp->cfg.snd_buf_max &&
			tcp_mem_room_to_grow(c->tcp)) {
		c->snd_buf = RTE_MIN(2 * wnd, c->tcp->cfg.snd_buf_max);
		c->tcp->stats.snd_buf_grown++;
	}
	c->dupacks = 0;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_TLP_OUT; /* the tail moved: a new probe may go */
	c->tlp_sent = 0;
	data = 0;
	if (tcp_seq_lt(c->snd_una, c->snd_end))
		data = (tcp_seq_lt(ack, c->snd_end) ? ack : c->snd_end) - c->snd_una;
	if (data > 0) {
		tcp_sndq_ack(c, data);
		c->tcp->stats.bytes_out += data;
	}
	tcp_sb_ack(c, ack);
	c->snd_una = ack;
	if (tcp_seq_lt(c->snd_nxt, c->snd_una)) {
		c->snd_nxt = c->snd_una;
		c->snd_cur = NULL;
	}
	if (partial)
		retransmit_first(c);
	/* RFC 6298 5.2-5.3 */
	if (c->snd_una == c->snd_max)
		tcp_rtx_stop(c);
	else
		tcp_rtx_arm(c);
	tcp_wake_tx(c);
}

/* A duplicate ACK of a connection without SACK: NewReno (RFC 5681 3.2,
 * RFC 6582). */
static void
dup_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint8_t before = c->dupacks;

	c->tcp->stats.dupacks_in++;
	if (c->dupacks < UINT8_MAX)
		c->dupacks++;
	if (before < 3 && c->dupacks >= 3 && !(c->flags & TCP_CONN_FLAG_RECOVERY) &&
			tcp_seq_gt(seg->ack, c->recover)) {
		/* RFC 5681 3.2 / RFC 6582 3.2 step 2: fast retransmit. */
		c->ssthresh = c->cc_ops->ssthresh(c);
		c->recover = c->snd_max;
		c->flags |= TCP_CONN_FLAG_RECOVERY;
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_LOSS;
		c->tcp->stats.fast_retransmits++;
		retransmit_first(c);
		c->cwnd = c->ssthresh + 3u * c->mss;
		tcp_rtx_arm(c);
	} else if (c->flags & TCP_CONN_FLAG_RECOVERY) {
		/* Each duplicate ACK in recovery: a segment left the network,
		 * also the first ones after a partial ACK (RFC 6582 3.2 step 3,
		 * as FreeBSD; review L1: waiting for a fourth again slowed
		 * recovery from several losses in one window). */
		c->cwnd += c->mss;
	}
}

/* RFC 5681 2's duplicate ACK: data outstanding, the same ACK and window, no
 * data, SYN or FIN. (With SACK, an ACK whose blocks report new data is one
 * whatever else it carries.) */
static bool
is_dup_ack(const struct tcp_conn *c, const struct tcp_seg *seg, uint32_t wnd)
{
	return seg->ack == c->snd_una && c->snd_una != c->snd_max && seg->len == 0 &&
	       !(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) && wnd == c->snd_wnd;
}

/* The ACK field and the window (RFC 9293 3.10.7.4, fifth check). ts_update:
 * the segment may update TS.Recent (RFC 7323 4.3), done once its ACK has
 * passed the checks below and before anything is sent: a blind segment with a
 * bogus ACK must not poison PAWS (as Linux since 2013).
 * @return false if the segment is to be dropped. */
static bool
ack_input(struct tcp_conn *c, const struct tcp_seg *seg, bool ts_update)
{
	uint32_t ack = seg->ack, wnd = (uint32_t)seg->wnd << c->snd_wscale, sacked = 0;
	uint32_t prior_una = c->snd_una;
	bool dup = false;

	/* "If the ACK acks something not yet sent (SEG.ACK > SND.NXT) then
	 * send an ACK, drop the segment, and return." */
	if (tcp_seq_gt(ack, c->snd_max)) {
		c->flags |= TCP_CONN_FLAG_ACK_NOW;
		c->tcp->st->stats.drops[STACK_DROP_TCP_BAD_ACK]++;
		return false;
	}
	/* RFC 5961 5.2: an ACK older than the window the peer could have seen. */
	if (tcp_seq_lt(ack, c->snd_una - RTE_MAX(c->max_wnd, 65535u))) {
		c->tcp->stats.challenge_acks++;
		c->flags |= TCP_CONN_FLAG_ACK_NOW;
		c->tcp->st->stats.drops[STACK_DROP_TCP_BAD_ACK]++;
		return false;
	}
	if (ts_update) {
		c->ts_recent = seg->opts.tsval;
		c->ts_recent_ns = tcp_now_ns(c);
	}
	c->probes = 0; /* the peer is alive */
	/* Reordering is judged against what was delivered before this ACK:
	 * one that covers both a range whose ACK was lost and a SACK above it
	 * shows no reordering, whatever order its parts are read in. */
	c->rack_fack_prior = c->rack_fack;
	c->orig_delivered = false;
	if (c->flags & TCP_CONN_FLAG_SACK) {
		/* RFC 6675 with RACK and PRR (tcp_recovery.c). */
		uint32_t prior_sacked = c->sb_sacked, delivered;
		uint32_t flight = c->snd_max - c->snd_una;
		bool recovering = c->flags & (TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_LOSS);

		tcp_recovery_eifel(c, seg);
		sacked = seg->opts.nsack != 0 ? tcp_sb_sack_input(c, seg) : 0;
		if (tcp_seq_gt(ack, c->snd_una)) {
			new_ack(c, seg);
		} else if ((sacked != 0 && ack == c->snd_una) || is_dup_ack(c, seg, wnd)) {
			dup = true;
			c->tcp->stats.dupacks_in++;
			if (c->dupacks < UINT8_MAX)
				c->dupacks++;
		}
		delivered = tcp_recovery_ack(c, seg, prior_una, prior_sacked);
		/* cwnd grows by what was delivered, SACKed bytes included (as
		 * Linux): on a reordering path the cumulative ACK moves in rare
		 * jumps, and counting only those (at most 2 MSS each, RFC 3465's
		 * L) kept slow start at 13 segments after a second (20 ms each
		 * way with 5 ms jitter). After an RTO, as before, slow start
		 * from the ACKs alone. */
		if (!recovering && !(c->flags & TCP_CONN_FLAG_RECOVERY))
			cwnd_grow(c, delivered, flight);
		else if ((c->flags & TCP_CONN_FLAG_LOSS) && tcp_seq_gt(seg->ack, prior_una))
			cwnd_grow(c, RTE_MIN(seg->ack - prior_una, 2u * c->mss), flight);
	} else if (tcp_seq_gt(ack, c->snd_una)) {
		new_ack(c, seg);
	} else if (is_dup_ack(c, seg, wnd)) {
		dup = true;
		dup_ack(c, seg);
	}
	/* "If SND.WL1 < SEG.SEQ or (SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK),
	 * set SND.WND <- SEG.WND, set SND.WL1 <- SEG.SEQ, and set SND.WL2 <- SEG.ACK." */
	/* Only from an ACK in SND.UNA..SND.NXT (RFC 9293 3.10.7.4; review L8): an
	 * injected in-window segment with an old ACK must not shut the window.
	 * And always from an ACK that moves SND.UNA (as Linux's
	 * tcp_may_update_window): the retransmission that fills a hole in the
	 * peer's data has a lower SEG.SEQ than the out-of-order segments that
	 * set SND.WL1, but its window is the peer's latest; kept from it, an
	 * older, larger window would be counted from the new SND.UNA and we
	 * would send past the peer's right edge. */
	if (tcp_seq_geq(ack, c->snd_una) &&
			(tcp_seq_gt(ack, prior_una) || tcp_seq_lt(c->snd_wl1, seg->seq) ||
					(c->snd_wl1 == seg->seq && tcp_seq_leq(c->snd_wl2, ack)))) {
		bool opened = c->snd_wnd == 0 && wnd > 0;

		c->snd_wnd = wnd;
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_wnd)
			c->max_wnd = wnd;
		if (opened && (c->flags & TCP_CONN_FLAG_PERSIST)) {
			c->backoff = 0;
			tcp_rtx_stop(c);
		}
	}
	/* With the window known: new data may go in place of resends. */
	tcp_recovery_frto(c, prior_una, dup, sacked);
	return true;
}

/* ---- FIN ---- */

static bool
fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCP_CONN_FLAG_FIN_QUEUED) && tcp_seq_gt(c->snd_una, c->snd_end);
}

static void
fin_now(struct tcp_conn *c)
{
	c->rcv_nxt++;
	/* A FIN taken at a closed window (its special allowance) must not
	 * leave RCV.NXT past the advertised edge: the window would read as
	 * 2^32 - 1 until the next ACK (review L7). */
	if (tcp_seq_gt(c->rcv_nxt, c->rcv_adv))
		c->rcv_adv = c->rcv_nxt;
	c->flags |= TCP_CONN_FLAG_FIN_RCVD | TCP_CONN_FLAG_ACK_NOW;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_OOO_FIN;
	/* Nothing follows a FIN: out-of-order data beyond it was never part of
	 * the stream (a broken or hostile peer). Linux's tcp_fin() purges the
	 * queue too. Found by the stack fuzzer. */
	tcp_ooo_prune(c, 0);
	switch (c->state) {
	case TCP_STATE_SYN_RECEIVED:
	case TCP_STATE_ESTABLISHED:
		tcp_set_state(c, TCP_STATE_CLOSE_WAIT);
		break;
	case TCP_STATE_FIN_WAIT_1:
		tcp_set_state(c, fin_acked(c) ? TCP_STATE_TIME_WAIT : TCP_STATE_CLOSING);
		break;
	case TCP_STATE_FIN_WAIT_2:
		tcp_set_state(c, TCP_STATE_TIME_WAIT);
		break;
	default:
		break;
	}
	tcp_wake_rx(c);
}

/* ---- states ---- */

static void
syn_sent_input(struct tcp_conn *c, struct rte_mbuf *data, struct tcp_seg *seg, uint32_t lip,
		uint32_t rip)
{
	struct tcp_stack *tcp = c->tcp;

	tcp_mbuf_list_free(data); /* data on a SYN-ACK is not kept (no TFO) */
	/* "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a reset (unless the RST
	 * bit is set, if so drop the segment and return)" */
	if ((seg->flags & TCP_FLAG_ACK) &&
			(tcp_seq_leq(seg->ack, c->iss) || tcp_seq_gt(seg->ack, c->snd_max))) {
		tcp_reset_reply(tcp, lip, rip, seg);
		tcp->st->stats.drops[STACK_DROP_TCP_BAD_ACK]++;
		/* Typically the peer's TIME_WAIT of an older connection on this
		 * tuple answered our SYN (its PAWS or sequence check turned it
		 * away); our RST ends that TIME_WAIT, so try once more at once
		 * rather than after a whole RTO. */
		if (!(c->flags & TCP_CONN_FLAG_SYN_AGAIN)) {
			c->flags |= TCP_CONN_FLAG_SYN_AGAIN;
			tcp_send_syn(c);
		}
		return;
	}
	if (seg->flags & TCP_FLAG_RST) {
		tcp->stats.resets_in++;
		/* Only a RST that acknowledges our SYN refuses it. */
		if (seg->flags & TCP_FLAG_ACK)
			tcp_conn_terminate(c, -ECONNREFUSED);
		return;
	}
	if (!(seg->flags & TCP_FLAG_SYN)) {
		tcp->st->stats.drops[STACK_DROP_TCP_STATE]++;
		return;
	}
	c->irs = seg->seq;
	c->rcv_nxt = c->rcv_adv = seg->seq + 1;
	tcp_syn_options(c, seg);
	/* RFC 7323 2.2: the window of a SYN is not scaled. */
	c->snd_wnd = c->max_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = seg->ack;
	if (seg->flags & TCP_FLAG_ACK) {
		if (c->backoff == 0)
			rtt_on_ack(c, seg);
		c->snd_una = seg->ack;
		c->backoff = 0;
		c->rtx_since_ns = 0;
		tcp_rtx_stop(c);
		tcp_set_state(c, TCP_STATE_ESTABLISHED);
		if (c->flags & TCP_CONN_FLAG_KEEPALIVE)
			tcp_keep_arm(c, tcp->cfg.keep_idle_ms);
		tcp_send_ack(c);
		return;
	}
	/* Simultaneous open: "enter SYN-RECEIVED, form a SYN,ACK segment". */
	tcp_set_state(c, TCP_STATE_SYN_RECEIVED);
	tcp_send_syn(c);
	tcp_rtx_arm(c);
}

static bool
acceptable(const struct tcp_conn *c, const struct tcp_seg *seg, uint32_t seglen)
{
	uint32_t wnd = c->rcv_adv - c->rcv_nxt;

	/* RFC 9293 3.10.7.4, the four cases; and a segment at RCV.NXT is
	 * taken for its ACK even when the window is closed (its data is then
	 * trimmed away), as the RFC's "special allowance" asks. */
	if (seglen == 0)
		return wnd == 0 ? seg->seq == c->rcv_nxt
				: tcp_seq_in(seg->seq, c->rcv_nxt, c->rcv_nxt + wnd);
	if (seg->seq == c->rcv_nxt)
		return true;
	if (wnd == 0)
		return false;
	return tcp_seq_in(seg->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
	       tcp_seq_in(seg->seq + seglen - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

/* Trim what lies before RCV.NXT and beyond the window. */
static struct rte_mbuf *
trim(struct tcp_conn *c, struct rte_mbuf *data, struct tcp_seg *seg)
{
	if (tcp_seq_lt(seg->seq, c->rcv_nxt)) {
		uint32_t d = c->rcv_nxt - seg->seq;

		if (seg->flags & TCP_FLAG_SYN) {
			seg->flags &= (uint8_t)~TCP_FLAG_SYN;
			seg->seq++;
			d--;
		}
		/* Data we have already: a duplicate, reported as one. */
		tcp_dsack_note(c, seg->seq, seg->seq + RTE_MIN(d, seg->len));
		if (d >= seg->len) {
			if (d > seg->len)
				seg->flags &= (uint8_t)~TCP_FLAG_FIN; /* an old FIN */
			tcp_mbuf_list_free(data);
			data = NULL;
			seg->seq += seg->len;
			seg->len = 0;
		} else {
			data = tcp_list_trim_front(data, d);
			seg->seq += d;
			seg->len -= d;
		}
	}
	if (tcp_seq_gt(seg->seq + seg->len, c->rcv_adv)) {
		uint32_t keep = tcp_seq_gt(c->rcv_adv, seg->seq) ? c->rcv_adv - seg->seq : 0;

		data = tcp_list_keep(data, keep);
		if (keep < seg->len)
			c->flags |= TCP_CONN_FLAG_ACK_NOW; /* tell the peer where the window ends */
		seg->len = keep;
		seg->flags &= (uint8_t)~TCP_FLAG_FIN;
	}
	return data;
}

/* Payload of an acceptable segment; @return false if the connection went. */
static bool
data_input(struct tcp_conn *c, struct rte_mbuf *data, const struct tcp_seg *seg)
{
	switch (c->state) {
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_FIN_WAIT_1:
	case TCP_STATE_FIN_WAIT_2:
		break;
	default:
		/* After the peer's FIN: "This should not occur ... Ignore". */
		tcp_mbuf_list_free(data);
		return true;
	}
	if (!(c->flags & TCP_CONN_FLAG_USER) && c->listener == NULL) {
		/* Closed by the application: nobody will read it. Reset, as
		 * Linux does (RFC 9293 3.6, "data arriving after CLOSE"). */
		tcp_mbuf_list_free(data);
		tcp_send_rst(c);
		tcp_conn_terminate(c, -ECONNRESET);
		return false;
	}
	if (seg->len > c->rcv_mss)
		c->rcv_mss = (uint16_t)RTE_MIN(seg->len, 65535u);
	if (tcp_mem_short(c) && !(seg->seq == c->rcv_nxt && tcp_rcvq_packs(c, data))) {
		/* Short of mbufs even after pruning: refuse it (H1). The peer
		 * sends it again; an ACK now tells it where we are. */
		tcp_mbuf_list_free(data);
		c->tcp->st->stats.drops[STACK_DROP_TCP_MEMORY]++;
		c->flags |= TCP_CONN_FLAG_ACK_NOW;
		return true;
	}
	tcp_rcv_rtt_measure(c, seg);
	if (seg->seq == c->rcv_nxt) {
		bool hole = c->ooo_head != NULL;

		tcp_rcvq_append(c, data);
		c->rcv_nxt += seg->len;
		c->tcp->stats.bytes_in += seg->len;
		tcp_rcv_autotune(c);
		if (hole) {
			tcp_ooo_pull(c);
			c->flags |= TCP_CONN_FLAG_ACK_NOW; /* RFC 5681 4.2: a hole filled */
		} else if (c->rcv_nxt - c->last_ack_sent >= 2u * c->rcv_mss) {
			/* RFC 1122: every second segment; but one ACK for all
			 * the rx burst brought (stretch ACKs, as GRO gives Linux:
			 * a 32-packet burst is one ACK instead of 16). */
			if (c->tcp->cfg.stretch_acks)
				tcp_ack_at_burst_end(c);
			else
				c->flags |= TCP_CONN_FLAG_ACK_NOW;
		} else {
			tcp_delack_arm(c);
		}
		tcp_wake_rx(c);
	} else {
		tcp_ooo_insert(c, data, seg->seq);
		c->tcp->stats.ooo_segments++;
		c->flags |= TCP_CONN_FLAG_ACK_NOW; /* a duplicate ACK at once */
	}
	return true;
}

/* One more ACK for an invalid segment from the stack's budget of this second?
 * The budget is drawn at random each second (Linux since CVE-2016-5696: a
 * fixed, shared count is a side channel through which an off-path spoofer
 * learns whether its guess hit a connection). */
static bool
oow_stack_budget(struct tcp_stack *tcp, uint64_t now)
{
	uint32_t lim = tcp->cfg.oow_acks_per_sec;

	if (lim == 0)
		return true;
	if (tcp->oow_second_ns == 0 || now - tcp->oow_second_ns >= EX_NS_PER_S) {
		tcp->oow_second_ns = now;
		tcp->oow_budget = lim / 2 + (uint32_t)(rte_rand() % lim);
	}
	if (tcp->oow_budget == 0)
		return false;
	tcp->oow_budget--;
	return true;
}

/* An ACK answering an invalid segment (PAWS, out of window, challenge, bad
 * ACK). One carrying data is always answered (the peer learns where we are);
 * a pure ACK or a SYN at most once per TCP_OOW_ACK_GAP_NS per connection, so
 * two ends that find each other's ACKs unacceptable do not loop at line rate
 * and a spoofer gets no 1:1 reflector, and within the stack's budget per
 * second, so many connections at once do not either (RFC 5961 7). */
static void
oow_ack(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint64_t now = tcp_now_ns(c);

	if (seg->len == 0 || (seg->flags & TCP_FLAG_SYN)) {
		if (c->last_oow_ack_ns != 0 && now - c->last_oow_ack_ns < TCP_OOW_ACK_GAP_NS) {
			c->tcp->stats.oow_acks_limited++;
			return;
		}
		if (!oow_stack_budget(c->tcp, now)) {
			c->tcp->stats.oow_acks_limited++;
			c->tcp->stats.oow_acks_stack_limited++;
			return;
		}
	}
	c->last_oow_ack_ns = now;
	tcp_send_ack(c);
}

/* PAWS (RFC 7323 5.3) applies: timestamps in use, and TS.Recent younger than
 * 24 days (5.5). */
static bool
paws_rejects(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	if (!(c->flags & TCP_CONN_FLAG_TS) || !seg->opts.has_ts || (seg->flags & TCP_FLAG_RST) ||
			!tcp_seq_lt(seg->opts.tsval, c->ts_recent))
		return false;
	/* A pure duplicate ACK overtaken by a newer one (same sequence, ACK
	 * and window; its timestamp less than an RTO older) is the reordering
	 * of one burst, not an old incarnation: rejecting it costs an ACK and
	 * loses a duplicate-ACK signal (review L9; Linux's
	 * tcp_disordered_ack()). */
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_ACK)) == TCP_FLAG_ACK &&
			seg->len == 0 && seg->seq == c->rcv_nxt && seg->ack == c->snd_una &&
			((uint32_t)seg->wnd << c->snd_wscale) == c->snd_wnd &&
			c->ts_recent - seg->opts.tsval <= c->rto_us / 1000 + 1)
		return false;
	return tcp_now_ns(c) - c->ts_recent_ns < TCP_PAWS_IDLE_NS;
}

void
tcp_conn_input(struct tcp_conn *c, struct rte_mbuf *data, struct tcp_seg *seg, uint32_t lip,
		uint32_t rip)
{
	struct tcp_stack *tcp = c->tcp;
	struct ip_iface *st = tcp->st;
	uint32_t seglen, orig_seq = seg->seq;
	bool ts_update;

	if (c->state == TCP_STATE_SYN_SENT) {
		syn_sent_input(c, data, seg, lip, rip);
		return;
	}
	/* A retransmitted SYN while we are in SYN_RECEIVED: the SYN-ACK was lost. */
	if (c->state == TCP_STATE_SYN_RECEIVED &&
			(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
					TCP_FLAG_SYN &&
			seg->seq == c->irs) {
		tcp_mbuf_list_free(data);
		tcp_send_syn(c);
		return;
	}
	/* Simultaneous open (RFC 9293 figure 8): the peer's SYN,ACK repeats
	 * its SYN; what matters in it is the ACK of ours. */
	if (c->state == TCP_STATE_SYN_RECEIVED &&
			(seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) ==
					(TCP_FLAG_SYN | TCP_FLAG_ACK) &&
			seg->seq == c->irs) {
		seg->flags &= (uint8_t)~TCP_FLAG_SYN;
		seg->seq++;
		orig_seq = seg->seq;
	}
	/* RFC 7323 5.3 (PAWS): an older timestamp than TS.Recent is a
	 * segment from an earlier incarnation of the sequence space. */
	if (paws_rejects(c, seg)) {
		tcp->stats.paws_rejected++;
		st->stats.drops[STACK_DROP_TCP_PAWS]++;
		tcp_mbuf_list_free(data);
		oow_ack(c, seg);
		return;
	}
	seglen = seg->len + !!(seg->flags & TCP_FLAG_SYN) + !!(seg->flags & TCP_FLAG_FIN);
	if (!acceptable(c, seg, seglen)) {
		tcp_mbuf_list_free(data);
		st->stats.drops[STACK_DROP_TCP_OUT_OF_WINDOW]++;
		if (seg->flags & TCP_FLAG_RST)
			return;
		/* Data all below RCV.NXT: a duplicate (a spurious retransmission,
		 * or our ACK was lost): D-SACK tells the sender which (RFC 2883). */
		if (seg->len > 0 && tcp_seq_leq(seg->seq + seg->len, c->rcv_nxt) &&
				tcp_seq_geq(seg->seq + seg->len, c->rcv_nxt - (1u << 30)))
			tcp_dsack_note(c, seg->seq, seg->seq + seg->len);
		/* A retransmitted FIN in TIME_WAIT restarts 2*MSL (RFC 9293). */
		if (c->state == TCP_STATE_TIME_WAIT && (seg->flags & TCP_FLAG_FIN))
			tcp_keep_arm(c, tcp->cfg.time_wait_ms);
		oow_ack(c, seg);
		return;
	}
	c->last_rcv_ns = tcp_now_ns(c);
	/* RFC 5961 3.2: a RST is taken only at exactly RCV.NXT; elsewhere in
	 * the window it earns a challenge ACK. */
	if (seg->flags & TCP_FLAG_RST) {
		tcp_mbuf_list_free(data);
		tcp->stats.resets_in++;
		if (orig_seq != c->rcv_nxt) {
			tcp->stats.challenge_acks++;
			oow_ack(c, seg);
			return;
		}
		switch (c->state) {
		case TCP_STATE_SYN_RECEIVED:
			tcp_conn_terminate(c, -ECONNREFUSED);
			return;
		case TCP_STATE_ESTABLISHED:
		case TCP_STATE_FIN_WAIT_1:
		case TCP_STATE_FIN_WAIT_2:
		case TCP_STATE_CLOSE_WAIT:
			tcp_conn_terminate(c, -ECONNRESET);
			return;
		default:
			tcp_conn_terminate(c, 0);
			return;
		}
	}
	/* RFC 5961 4.2: a SYN in a synchronized state gets a challenge ACK. */
	if (seg->flags & TCP_FLAG_SYN) {
		tcp_mbuf_list_free(data);
		tcp->stats.challenge_acks++;
		oow_ack(c, seg);
		return;
	}
	if (!(seg->flags & TCP_FLAG_ACK)) {
		tcp_mbuf_list_free(data);
		st->stats.drops[STACK_DROP_TCP_STATE]++;
		return;
	}
	/* RFC 7323 4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent
	 * then SEG.TSval is copied to TS.Recent" - once the ACK is validated
	 * (ack_input). PAWS passed: TSval >= TS.Recent, or TS.Recent expired,
	 * or a reordered duplicate ACK, which must not move TS.Recent back. */
	ts_update = (c->flags & TCP_CONN_FLAG_TS) && seg->opts.has_ts &&
		    tcp_seq_leq(orig_seq, c->last_ack_sent) &&
		    (tcp_seq_geq(seg->opts.tsval, c->ts_recent) ||
				    tcp_now_ns(c) - c->ts_recent_ns >= TCP_PAWS_IDLE_NS);
	data = trim(c, data, seg);
	if (c->state == TCP_STATE_SYN_RECEIVED) {
		/* "If SND.UNA < SEG.ACK =< SND.NXT, then enter ESTABLISHED". */
		if (!tcp_seq_gt(seg->ack, c->snd_una) || tcp_seq_gt(seg->ack, c->snd_max)) {
			tcp_mbuf_list_free(data);
			tcp_reset_reply(tcp, lip, rip, seg);
			st->stats.drops[STACK_DROP_TCP_BAD_ACK]++;
			return;
		}
		c->snd_una = c->iss + 1;
		c->snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
		c->max_wnd = RTE_MAX(c->max_wnd, c->snd_wnd);
		c->snd_wl1 = seg->seq;
		c->snd_wl2 = seg->ack;
		c->backoff = 0;
		c->rtx_since_ns = 0;
		rtt_on_ack(c, seg);
		tcp_rtx_stop(c);
		tcp_set_state(c, TCP_STATE_ESTABLISHED);
		if (c->flags & TCP_CONN_FLAG_KEEPALIVE)
			tcp_keep_arm(c, tcp->cfg.keep_idle_ms);
	}
	if (!ack_input(c, seg, ts_update)) {
		tcp_mbuf_list_free(data);
		if (c->flags & TCP_CONN_FLAG_ACK_NOW) {
			c->flags &= ~(uint32_t)TCP_CONN_FLAG_ACK_NOW;
			oow_ack(c, seg);
		}
		return;
	}
	switch (c->state) {
	case TCP_STATE_FIN_WAIT_1:
		if (fin_acked(c)) {
			tcp_set_state(c, TCP_STATE_FIN_WAIT_2);
			if (!(c->flags & TCP_CONN_FLAG_USER))
				tcp_keep_arm(c, tcp->cfg.fin_wait2_ms);
		}
		break;
	case TCP_STATE_CLOSING:
		if (fin_acked(c))
			tcp_set_state(c, TCP_STATE_TIME_WAIT);
		break;
	case TCP_STATE_LAST_ACK:
		if (fin_acked(c)) {
			tcp_mbuf_list_free(data);
			tcp_conn_terminate(c, 0);
			return;
		}
		break;
	default:
		break;
	}
	if (seg->len > 0 && !data_input(c, data, seg))
		return;
	if (seg->len == 0)
		tcp_mbuf_list_free(data);
	if (seg->flags & TCP_FLAG_FIN) {
		uint32_t fin_seq = seg->seq + seg->len;

		if (fin_seq == c->rcv_nxt && !(c->flags & TCP_CONN_FLAG_FIN_RCVD)) {
			fin_now(c);
		} else if (c->state == TCP_STATE_TIME_WAIT) {
			c->flags |= TCP_CONN_FLAG_ACK_NOW;
			tcp_keep_arm(c, tcp->cfg.time_wait_ms);
		} else if (tcp_seq_gt(fin_seq, c->rcv_nxt)) {
			c->flags |= TCP_CONN_FLAG_OOO_FIN | TCP_CONN_FLAG_ACK_NOW;
			c->ooo_fin_seq = fin_seq;
		}
	}
	if ((c->flags & TCP_CONN_FLAG_OOO_FIN) && c->ooo_fin_seq == c->rcv_nxt)
		fin_now(c);
	tcp_output(c);
	if (c->flags & TCP_CONN_FLAG_ACK_NOW)
		tcp_send_ack(c);
}

/* RFC 6191 / RFC 1122 4.2.2.13: a new SYN may reuse a TIME_WAIT tuple if its
 * timestamp, or else its sequence number, is newer than the old connection's. */
static bool
time_wait_reusable(const struct tcp_conn *c, const struct tcp_seg *seg)
{
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != TCP_FLAG_SYN)
		return false;
	/* As Linux: never against PAWS (an older timestamp), and newer by
	 * either its timestamp or its sequence number. */
	if ((c->flags & TCP_CONN_FLAG_TS) && seg->opts.has_ts) {
		if (tcp_seq_lt(seg->opts.tsval, c->ts_recent))
			return false;
		if (tcp_seq_gt(seg->opts.tsval, c->ts_recent))
			return true;
	}
	return tcp_seq_gt(seg->seq, c->rcv_nxt);
}

void
tcp_input(struct tcp_stack *tcp, struct rte_mbuf *m, uint16_t l3_off, uint16_t ihl, uint16_t ip_len)
{
	struct ip_iface *st = tcp->st;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, l3_off);
	uint32_t tlen = (uint32_t)ip_len - ihl, lip, rip, iss_floor = 0;
	uint8_t hdr[60];
	const void *th;
	struct tcp_seg seg;
	struct tcp_conn *c;
	struct tcp_listener *l;
	struct rte_mbuf *data;

	tcp_owner_check(tcp, "tcp_input");
	if (tlen < 20) {
		stack_drop(st, m, STACK_DROP_TCP_MALFORMED);
		return;
	}
	th = rte_pktmbuf_read(m, (uint32_t)l3_off + ihl, RTE_MIN(tlen, 60u), hdr);
	if (th == NULL || tcp_seg_parse(th, tlen, &seg) != TCP_PARSE_OK) {
		stack_drop(st, m, STACK_DROP_TCP_MALFORMED);
		return;
	}
	st->stats.rx_l4_csum[dp_rx_l4_csum(m)]++;
	if (dp_ipv4_l4_cksum_rx_ok(m, ip, l3_off + ihl) != 0) {
		stack_drop(st, m, STACK_DROP_TCP_CHECKSUM);
		return;
	}
	lip = rte_be_to_cpu_32(ip->dst_addr);
	rip = rte_be_to_cpu_32(ip->src_addr);
	if (!stack_ip_local(st, lip)) {
		stack_drop(st, m, STACK_DROP_IP_NOT_FOR_US); /* TCP is unicast only */
		return;
	}
	tcp->stats.segs_in++;
	c = tcp_conn_lookup(tcp, lip, seg.dport, rip, seg.sport);
	if (tcp->cluster != NULL && tcp_cluster_input(tcp, c, m, l3_off, &seg, lip, rip))
		return;
	/* Headers off: the payload stays where it arrived. */
	if (rte_pktmbuf_adj(m, (uint16_t)(l3_off + ihl + seg.hlen)) == NULL) {
		stack_drop(st, m, STACK_DROP_TCP_MALFORMED);
		return;
	}
	data = tcp_payload_list(m);
	if (c != NULL && c->state == TCP_STATE_TIME_WAIT && time_wait_reusable(c, &seg)) {
		iss_floor = c->snd_nxt + 65536;
		if (iss_floor == 0)
			iss_floor = 1;
		tcp->stats.tw_reused++;
		tcp_conn_terminate(c, 0);
		c = NULL;
	}
	if (c != NULL) {
		tcp_conn_input(c, data, &seg, lip, rip);
		return;
	}
	l = tcp_listener_lookup(tcp, lip, seg.dport);
	if (l != NULL) {
		tcp_listen_input(tcp, l, data, &seg, lip, rip, iss_floor);
		return;
	}
	/* No connection, no listener (RFC 9293 3.10.7.1): answer with a RST. */
	tcp_mbuf_list_free(data);
	st->stats.drops[STACK_DROP_TCP_NO_PORT]++;
	tcp_reset_reply(tcp, lip, rip, &seg);
}
