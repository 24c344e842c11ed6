/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_timer.c - the deadlines of a connection (retransmission or window
 * probe, delayed ACK, keepalive / TIME_WAIT / FIN_WAIT_2) behind its one
 * timer on the executor's wheel, which is armed for the earliest. RTO per
 * RFC 6298. On the lcore of the stack.
 */
#include <errno.h>

#include "tcp_priv.h"

uint64_t
tcp_now_ns(const struct tcp_conn *c)
{
	return ex_now_coarse_ns(c->tcp->st->ex);
}

/* The timestamp clock: milliseconds (RFC 7323 5.4: 1 ms to 1 s per tick);
 * in a cluster, the instance's id in the low bits (tcp_stack_cluster), so
 * a tick every 8 ms, still never going back. */
uint32_t
tcp_ts_now(const struct tcp_conn *c)
{
	uint32_t ts = (uint32_t)(tcp_now_ns(c) / EX_NS_PER_MS) + c->ts_offset;

	if (c->tcp->ts_tag != 0)
		ts = (ts & ~(uint32_t)TCP_CLUSTER_MAX) | c->tcp->ts_tag;
	return ts;
}

void
tcp_timer_update(struct tcp_conn *c)
{
	struct ex_wheel *w = ex_executor_wheel(c->tcp->st->ex);
	uint64_t d = RTE_MIN(RTE_MIN(c->rtx_deadline, c->reo_deadline),
			RTE_MIN(c->delack_deadline, c->keep_deadline));

	if (d == TCP_NO_DEADLINE) {
		ex_timer_cancel(w, &c->timer);
		return;
	}
	ex_timer_arm(w, &c->timer, d, NULL); /* O(1), later or earlier */
}

static uint64_t
rto_ns(const struct tcp_conn *c)
{
	uint64_t rto = (uint64_t)c->rto_us << c->backoff;
	uint64_t max = (uint64_t)c->tcp->cfg.rto_max_ms * 1000;

	return RTE_MIN(rto, max) * 1000;
}

/*
 * The retransmission deadline: one RTO from now, but never past the user
 * timeout (RFC 9293 3.10.8: unacknowledged data waits no longer than the
 * user timeout), which counts from when the oldest unacknowledged data went
 * out: rtx_since_ns, set here when the timer starts from idle and cleared by
 * each ACK of new data.
 */
static uint64_t
rtx_deadline_at(struct tcp_conn *c, uint64_t now)
{
	uint64_t d = now + rto_ns(c);

	if (c->rtx_since_ns == 0)
		c->rtx_since_ns = now;
	if (c->user_timeout_ms != 0)
		d = RTE_MIN(d, c->rtx_since_ns + (uint64_t)c->user_timeout_ms * EX_NS_PER_MS);
	return d;
}

/* RFC 8985 7.2: a tail loss probe may go before the RTO on a SACK connection
 * with an RTT sample, data in flight, not after an RTO and not backed off.
 * Unlike RFC 8985 7.2 and Linux:
 * - also in fast recovery: RACK finds losses there only while ACKs come, and
 *   when the flight is small the ACK that would end the episode is often the
 *   only one left. Lost (5 % each way, loss.sh), it cost an RTO: 4-8 spurious
 *   RTOs in 6-11 per 5 MB.
 * - up to TCP_TLP_MAX probes per advance of SND.UNA, each PTO twice the last,
 *   where RFC 8985 sends one: with a flight of a few segments a probe and its
 *   ACK are the only packets on the wire, and when one of them is lost too
 *   (5 % loss: 4-10 times per 20 MB in loss.sh) the RTO cost 200 ms where
 *   the round trip is 0.1 ms. Three more segments before an RTO on a path
 *   that lost everything are the price. */
static bool
tlp_allowed(const struct tcp_conn *c)
{
	return c->tcp->cfg.tlp && (c->flags & TCP_CONN_FLAG_SACK) && c->srtt_us != 0 &&
	       c->backoff == 0 && c->snd_una != c->snd_max && c->tlp_sent < TCP_TLP_MAX &&
	       !(c->flags & (TCP_CONN_FLAG_LOSS | TCP_CONN_FLAG_PERSIST));
}

/* RFC 8985 7.2: PTO = 2 * SRTT (at least TCP_PTO_MIN_NS), plus the peer's
 * delayed ACK when one segment is out: its ACK may be late. A probe that drew
 * no ACK doubles it for the next. */
static uint64_t
pto_ns(const struct tcp_conn *c)
{
	uint64_t pto = RTE_MAX(2ull * c->srtt_us * 1000, TCP_PTO_MIN_NS) << c->tlp_sent;

	if (c->snd_max - c->snd_una <= c->mss)
		pto += TCP_TLP_DELACK_NS;
	return pto;
}

void
tcp_rtx_arm(struct tcp_conn *c)
{
	uint64_t now = tcp_now_ns(c);

	c->rtx_deadline = rtx_deadline_at(c, now);
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_TLP;
	if (tlp_allowed(c) && now + pto_ns(c) < c->rtx_deadline) {
		c->rtx_deadline = now + pto_ns(c);
		c->flags |= TCP_CONN_FLAG_TLP;
	}
	tcp_timer_update(c);
}

void
tcp_tlp_rearm(struct tcp_conn *c)
{
	uint64_t at;

	if (!tlp_allowed(c) || c->rtx_deadline == TCP_NO_DEADLINE)
		return;
	/* The probe follows the tail: PTO from the last segment sent (the
	 * first of a flight may have armed it with one segment's delayed-ACK
	 * allowance, or none at all). The RTO is never put off: a probe not
	 * due before it is not armed. */
	at = tcp_now_ns(c) + pto_ns(c);
	if ((c->flags & TCP_CONN_FLAG_TLP) || at < c->rtx_deadline) {
		c->rtx_deadline = at;
		c->flags |= TCP_CONN_FLAG_TLP;
		tcp_timer_update(c);
	}
}

void
tcp_rtx_stop(struct tcp_conn *c)
{
	c->rtx_deadline = TCP_NO_DEADLINE;
	c->flags &= ~(uint32_t)(TCP_CONN_FLAG_PERSIST | TCP_CONN_FLAG_TLP);
	tcp_timer_update(c);
}

/* The probe (RFC 8985 7.3): the last segment sent, again (with the FIN if it
 * carried one); its SACK, or the ACK it draws, tells what the tail lost. In
 * fast recovery, and for a second or third probe, the first unacknowledged
 * segment instead, as the RTO would send: whether the hole's resend or the
 * ACK of it was lost, the peer answers it at once (it fills the hole, or it is
 * a duplicate) with an ACK that says where the episode stands. */
static void
tlp_send(struct tcp_conn *c)
{
	uint32_t end = tcp_seq_lt(c->snd_end, c->snd_max) ? c->snd_end : c->snd_max;
	uint32_t len = tcp_seq_lt(c->snd_una, end) ? RTE_MIN(end - c->snd_una, (uint32_t)c->mss)
						   : 0;
	uint32_t seq = end - len;
	uint8_t fl = TCP_FLAG_ACK;

	if ((c->flags & TCP_CONN_FLAG_RECOVERY) || c->tlp_sent > 1)
		seq = c->snd_una;
	if ((c->flags & TCP_CONN_FLAG_FIN_QUEUED) && tcp_seq_gt(c->snd_max, c->snd_end) &&
			seq + len == end)
		fl |= TCP_FLAG_FIN;
	if (len == 0 && !(fl & TCP_FLAG_FIN))
		return;
	c->tcp->stats.tlp_probes++;
	c->tcp->stats.retransmits++;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING;
	tcp_xmit(c, seq, len, fl);
}

void
tcp_delack_arm(struct tcp_conn *c)
{
	if (c->delack_deadline != TCP_NO_DEADLINE)
		return;
	c->delack_deadline = tcp_now_ns(c) + (uint64_t)c->tcp->cfg.delack_ms * EX_NS_PER_MS;
	tcp_timer_update(c);
}

void
tcp_keep_arm(struct tcp_conn *c, uint64_t after_ms)
{
	c->keep_deadline = tcp_now_ns(c) + after_ms * EX_NS_PER_MS;
	tcp_timer_update(c);
}

/* RFC 6298 2.2-2.4: SRTT, RTTVAR, RTO = SRTT + max(G, 4*RTTVAR), at least
 * the configured minimum (1 s in the RFC, 200 ms by default as in Linux). */
void
tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us)
{
	uint32_t min_us = c->tcp->cfg.rto_min_ms * 1000, rto;

	if (rtt_us == 0)
		rtt_us = 1;
	if (c->min_rtt_us == 0 || rtt_us < c->min_rtt_us)
		c->min_rtt_us = rtt_us; /* RACK's (RFC 8985 6.2 step 4) */
	if (c->srtt_us == 0) {
		c->srtt_us = rtt_us;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t err = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;

		/* beta = 1/4, alpha = 1/8 */
		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + err / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + rtt_us / 8;
	}
	rto = c->srtt_us + RTE_MAX(1000u, 4 * c->rttvar_us);
	c->rto_us = RTE_MIN(RTE_MAX(rto, min_us), c->tcp->cfg.rto_max_ms * 1000);
	tcp_hystart_rtt(c, rtt_us);
}

static bool
user_timed_out(struct tcp_conn *c, uint64_t now)
{
	if (c->user_timeout_ms != 0)
		return c->rtx_since_ns != 0 &&
		       now - c->rtx_since_ns >= (uint64_t)c->user_timeout_ms * EX_NS_PER_MS;
	return false;
}

static void
rtx_fire(struct tcp_conn *c, uint64_t now)
{
	struct tcp_stack *tcp = c->tcp;

	c->rtx_deadline = TCP_NO_DEADLINE;
	if (c->rtx_since_ns == 0)
		c->rtx_since_ns = now;
	switch (c->state) {
	case TCP_STATE_SYN_SENT:
	case TCP_STATE_SYN_RECEIVED: {
		uint8_t limit = tcp->cfg.syn_retries;

		if (c->state == TCP_STATE_SYN_RECEIVED) {
			/* Under a SYN flood a half-open gets fewer chances, so
			 * spoofed ones leave the list sooner (as Linux's
			 * reqsk_timer_handler). */
			limit = tcp->cfg.synack_retries;
			if (c->listener != NULL && 2u * c->listener->nsyn > c->listener->backlog)
				limit = RTE_MIN(limit, (uint8_t)2);
		}
		if (c->backoff >= limit || user_timed_out(c, now)) {
			tcp_conn_terminate(c, -ETIMEDOUT);
			return;
		}
		c->backoff++;
		tcp->stats.retransmits++;
		tcp_send_syn(c);
		tcp_rtx_arm(c);
		return;
	}
	case TCP_STATE_CLOSED:
	case TCP_STATE_LISTEN:
	case TCP_STATE_TIME_WAIT:
		return;
	default:
		break;
	}
	if ((c->flags & TCP_CONN_FLAG_ORPHAN) &&
			(c->backoff >= tcp->cfg.orphan_retries ||
					tcp->stats.orphans > tcp->cfg.max_orphans)) {
		/* No application waits on it (RFC 6429 allows it for a zero
		 * window; Linux's tcp_out_of_resources): give up. backoff counts
		 * retransmissions and window probes, and zero-window ACKs do not
		 * reset it, so a peer answering each probe cannot keep it. */
		tcp->stats.orphans_reset++;
		tcp_send_rst(c);
		tcp_conn_terminate(c, -ETIMEDOUT);
		return;
	}
	if ((c->flags & TCP_CONN_FLAG_PERSIST) && c->snd_wnd > 0) {
		/* A window too small for the sender's SWS rule and nothing in
		 * flight: the override timeout sends the held-back segment
		 * (RFC 9293 3.8.6.2.1). */
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_PERSIST;
		tcp->stats.sws_overrides++;
		if (c->backoff < 16)
			c->backoff++;
		tcp_output_sws_override(c);
		if (c->rtx_deadline == TCP_NO_DEADLINE)
			tcp_rtx_arm(c);
		return;
	}
	if (c->flags & TCP_CONN_FLAG_PERSIST) {
		/* Zero window: probe it (RFC 9293 3.8.6.1). A peer that keeps
		 * answering with a zero window is alive; one that does not is
		 * given up on as for a retransmission. */
		if (c->probes >= tcp->cfg.max_retries || user_timed_out(c, now)) {
			tcp_send_rst(c);
			tcp_conn_terminate(c, -ETIMEDOUT);
			return;
		}
		c->probes++;
		tcp->stats.persist_probes++;
		tcp_xmit(c, c->snd_una - 1, 0, TCP_FLAG_ACK);
		if (c->backoff < 16)
			c->backoff++;
		c->rtx_deadline = rtx_deadline_at(c, now);
		tcp_timer_update(c);
		return;
	}
	if (c->flags & TCP_CONN_FLAG_TLP) {
		/* A tail loss probe, then another at twice the PTO or the RTO
		 * (TCP_TLP_MAX per advance of SND.UNA). */
		c->flags = (c->flags & ~(uint32_t)TCP_CONN_FLAG_TLP) | TCP_CONN_FLAG_TLP_OUT;
		c->tlp_sent++;
		tlp_send(c);
		tcp_rtx_arm(c);
		return;
	}
	if (c->snd_una == c->snd_max) {
		/* Nothing outstanding: a send that found no mbuf left data (or
		 * the FIN) unsent; send it now, backing off while the pool is
		 * short, and give up as for a retransmission. */
		bool pending = tcp_seq_lt(c->snd_nxt, c->snd_end) ||
			       ((c->flags & TCP_CONN_FLAG_FIN_QUEUED) && c->snd_nxt == c->snd_end);

		if (!pending)
			return;
		if (c->backoff >= tcp->cfg.max_retries || user_timed_out(c, now)) {
			tcp_send_rst(c);
			tcp_conn_terminate(c, -ETIMEDOUT);
			return;
		}
		if (c->backoff < 16)
			c->backoff++;
		tcp_output(c);
		if (c->rtx_deadline == TCP_NO_DEADLINE && c->state != TCP_STATE_CLOSED)
			tcp_rtx_arm(c);
		return;
	}
	if (c->backoff >= tcp->cfg.max_retries || user_timed_out(c, now)) {
		tcp_send_rst(c);
		tcp_conn_terminate(c, -ETIMEDOUT);
		return;
	}
	/* RFC 5681 3.1 (4): after a timeout, ssthresh = max(FlightSize/2,
	 * 2*SMSS) and cwnd = one segment; RFC 6298 5.5-5.6: back off, resend
	 * the earliest unacknowledged segment. The scoreboard deems all that
	 * was not SACKed lost, and it is sent again in order as the window
	 * opens (tcp_recovery_rto). */
	tcp->stats.rto_timeouts++;
	tcp_recovery_rto(c);
	if (c->backoff < 16)
		c->backoff++;
	tcp_output(c);
	if (c->rtx_deadline == TCP_NO_DEADLINE)
		tcp_rtx_arm(c);
}

static void
keep_fire(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;

	c->keep_deadline = TCP_NO_DEADLINE;
	switch (c->state) {
	case TCP_STATE_TIME_WAIT:
		/* 2*MSL passed. */
		tcp_conn_terminate(c, 0);
		return;
	case TCP_STATE_FIN_WAIT_2:
		/* Closed by the application, the peer never sent its FIN. */
		if (!(c->flags & TCP_CONN_FLAG_USER)) {
			tcp_conn_terminate(c, -ETIMEDOUT);
			return;
		}
		break;
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_CLOSE_WAIT:
		if (!(c->flags & TCP_CONN_FLAG_KEEPALIVE))
			return;
		if (c->snd_una != c->snd_max) {
			/* Data in flight: the retransmission timer already asks
			 * whether the peer is there (as Linux; review L16c). */
			tcp_keep_arm(c, tcp->cfg.keep_idle_ms);
			return;
		}
		if (tcp_now_ns(c) - c->last_rcv_ns <
				(uint64_t)tcp->cfg.keep_idle_ms * EX_NS_PER_MS) {
			tcp_keep_arm(c, tcp->cfg.keep_idle_ms - (tcp_now_ns(c) - c->last_rcv_ns) /
										EX_NS_PER_MS);
			return;
		}
		if (c->probes >= tcp->cfg.keep_cnt) {
			tcp_send_rst(c);
			tcp_conn_terminate(c, -ETIMEDOUT);
			return;
		}
		/* RFC 1122 4.2.3.6: a segment with SEG.SEQ = SND.NXT-1. */
		c->probes++;
		tcp->stats.keepalive_probes++;
		tcp_xmit(c, c->snd_nxt - 1, 0, TCP_FLAG_ACK);
		tcp_keep_arm(c, tcp->cfg.keep_intvl_ms);
		return;
	default:
		return;
	}
}

void
tcp_timer_fire(struct ex_timer *t)
{
	struct tcp_conn *c = EX_CONTAINER_OF(t, struct tcp_conn, timer);
	uint64_t now = tcp_now_ns(c);

	if (c->delack_deadline <= now) {
		c->delack_deadline = TCP_NO_DEADLINE;
		if (c->last_ack_sent != c->rcv_nxt || (c->flags & TCP_CONN_FLAG_ACK_NOW))
			tcp_send_ack(c);
	}
	if (c->keep_deadline <= now) {
		keep_fire(c);
		if (c->tcp == NULL || c->state == TCP_STATE_CLOSED)
			return; /* gone */
	}
	if (c->reo_deadline <= now) {
		tcp_rack_timeout(c);
		if (c->tcp == NULL || c->state == TCP_STATE_CLOSED)
			return;
	}
	if (c->rtx_deadline <= now) {
		rtx_fire(c, now);
		if (c->tcp == NULL || c->state == TCP_STATE_CLOSED)
			return;
	}
	tcp_timer_update(c);
}
