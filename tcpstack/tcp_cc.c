/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_cc.c - congestion control behind an ops table (tcp_priv.h): how cwnd
 * grows in congestion avoidance and what ssthresh a loss leaves. Slow start
 * (RFC 5681 with RFC 3465's byte counting), fast recovery (PRR) and the RTO
 * are the same for every algorithm and stay in tcp_input.c and
 * tcp_recovery.c, as in Linux's tcp_cong.c.
 *
 *   newreno: one segment per window acknowledged; ssthresh = FlightSize/2.
 *   cubic:   RFC 9438: cwnd follows W(t) = C (t - K)^3 + W_max from the
 *            last loss, never below the Reno-friendly estimate; beta 0.7,
 *            fast convergence. The default, as in Linux.
 *
 * HyStart++ (RFC 9406) ends the first slow start for either of them, before
 * it overshoots the path by a whole window: the lowest RTT of each round
 * (one window of ACKs) is compared with the last round's, and a rise of
 * an eighth of it (4 to 16 ms) moves to a conservative slow start, a quarter
 * of the growth, for five rounds, then congestion avoidance; a round whose
 * RTT falls back under the one that ended slow start resumes it. It needs an
 * RTT sample per ACK (timestamps, RFC 7323): without them there is one per
 * round, too few, and slow start runs as RFC 5681's.
 *
 * Lcore: the stack's.
 */
#include <math.h>
#include <string.h>

#include "tcp_priv.h"

#define CUBIC_C 0.4 /* RFC 9438 5.1 */
#define CUBIC_BETA 0.7
/* RFC 9438 4.3: the Reno-friendly estimate grows by alpha per window */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))

/* ---- HyStart++ (RFC 9406 4.2) ---- */

#define HS_MIN_RTT_THRESH_US 4000u
#define HS_MAX_RTT_THRESH_US 16000u
#define HS_MIN_RTT_DIVISOR 8u
#define HS_N_RTT_SAMPLE 8u
#define HS_CSS_ROUNDS 5u

void
tcp_hystart_init(struct tcp_conn *c)
{
	memset(&c->hs, 0, sizeof(c->hs));
	c->hs.state = c->tcp->cfg.hystart ? TCP_HS_SS : TCP_HS_OFF;
	c->hs.last_min_us = c->hs.cur_min_us = c->hs.css_base_us = UINT32_MAX;
}

/* Still the first slow start? A loss (ssthresh set) ends it for good. */
static bool
hystart_on(struct tcp_conn *c)
{
	if (c->hs.state == TCP_HS_OFF)
		return false;
	if (c->ssthresh != UINT32_MAX) {
		c->hs.state = TCP_HS_OFF;
		return false;
	}
	return true;
}

void
tcp_hystart_ack(struct tcp_conn *c, uint32_t ack)
{
	struct tcp_hystart *h = &c->hs;

	if (!hystart_on(c) || (h->started && tcp_seq_lt(ack, h->window_end)))
		return;
	/* A round ends: its data is all acknowledged. */
	if (h->state == TCP_HS_CSS && ++h->css_rounds >= HS_CSS_ROUNDS) {
		c->ssthresh = RTE_MAX(c->cwnd, 2u * c->mss); /* congestion avoidance */
		h->state = TCP_HS_OFF;
		c->tcp->stats.hystart_css_done++;
		return;
	}
	h->started = true;
	h->window_end = c->snd_max;
	h->last_min_us = h->cur_min_us;
	h->cur_min_us = UINT32_MAX;
	h->samples = 0;
}

void
tcp_hystart_rtt(struct tcp_conn *c, uint32_t rtt_us)
{
	struct tcp_hystart *h = &c->hs;
	uint32_t thresh;

	/* From the first round of data on: the handshake's RTT had no queue
	 * behind it to compare with. */
	if (!hystart_on(c) || !h->started)
		return;
	h->cur_min_us = RTE_MIN(h->cur_min_us, rtt_us);
	if (h->samples < UINT8_MAX)
		h->samples++;
	if (h->samples < HS_N_RTT_SAMPLE)
		return;
	if (h->state == TCP_HS_SS) {
		if (h->last_min_us == UINT32_MAX)
			return;
		thresh = RTE_MAX(HS_MIN_RTT_THRESH_US,
				RTE_MIN(h->last_min_us / HS_MIN_RTT_DIVISOR, HS_MAX_RTT_THRESH_US));
		if (h->cur_min_us >= h->last_min_us + thresh) {
			h->css_base_us = h->cur_min_us;
			h->state = TCP_HS_CSS;
			h->css_rounds = 0;
			c->tcp->stats.hystart_exits++;
		}
	} else if (h->cur_min_us < h->css_base_us) {
		/* The rise was noise: back to slow start. */
		h->css_base_us = UINT32_MAX;
		h->state = TCP_HS_SS;
		c->tcp->stats.hystart_spurious++;
	}
}

/* ---- NewReno (RFC 5681 3.1, RFC 6582) ---- */

static void
newreno_init(struct tcp_conn *c)
{
	c->cwnd_acc = 0;
}

static void
newreno_cong_avoid(struct tcp_conn *c, uint32_t acked)
{
	/* One segment per window acknowledged. */
	c->cwnd_acc += acked;
	if (c->cwnd_acc >= c->cwnd) {
		c->cwnd_acc -= c->cwnd;
		c->cwnd += c->mss;
	}
}

static uint32_t
newreno_ssthresh(struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	return RTE_MAX(flight / 2, 2u * c->mss);
}

static void
newreno_undo(struct tcp_conn *c)
{
	(void)c;
}

/* ---- CUBIC (RFC 9438) ---- */

static void
cubic_init(struct tcp_conn *c)
{
	c->cc.w_max = 0;
	c->cc.k = 0;
	c->cc.epoch_ns = 0;
	c->cc.origin = 0;
	c->cc.w_est = 0;
	c->cwnd_acc = 0;
}

/* RFC 9438 4.6-4.7: at a loss, W_max is the window reached (less, with
 * fast convergence, when it fell short of the last one) and cwnd drops to
 * beta of it. */
static uint32_t
cubic_ssthresh(struct tcp_conn *c)
{
	double w = (double)c->cwnd / c->mss;

	if (w < c->cc.w_max)
		c->cc.w_max = w * (1.0 + CUBIC_BETA) / 2.0;
	else
		c->cc.w_max = w;
	c->cc.epoch_ns = 0; /* a new epoch at the next growth */
	return RTE_MAX((uint32_t)(c->cwnd * CUBIC_BETA), 2u * c->mss);
}

static void
cubic_cong_avoid(struct tcp_conn *c, uint32_t acked)
{
	uint64_t now = tcp_now_ns(c);
	double cwnd = (double)c->cwnd / c->mss, t, target, w_cubic;

	if (c->cc.epoch_ns == 0) {
		/* RFC 9438 4.2: the epoch starts with the first growth after a
		 * loss; K is when W(t) is back at W_max. */
		c->cc.epoch_ns = now;
		if (c->cc.w_max <= cwnd) {
			c->cc.k = 0;
			c->cc.origin = cwnd;
		} else {
			c->cc.k = cbrt((c->cc.w_max - cwnd) / CUBIC_C);
			c->cc.origin = c->cc.w_max;
		}
		c->cc.w_est = cwnd;
	}
	t = (double)(now - c->cc.epoch_ns) / 1e9;
	w_cubic = CUBIC_C * (t - c->cc.k) * (t - c->cc.k) * (t - c->cc.k) + c->cc.origin;
	/* RFC 9438 4.3: the Reno-friendly window, alpha segments per window. */
	c->cc.w_est += CUBIC_ALPHA * ((double)acked / c->mss) / cwnd;
	if (w_cubic < c->cc.w_est) {
		if (c->cc.w_est > cwnd)
			c->cwnd = (uint32_t)(c->cc.w_est * c->mss);
		return;
	}
	/* RFC 9438 4.4-4.5: aim at W(t + RTT), between cwnd and 1.5 cwnd;
	 * cwnd grows (target - cwnd) / cwnd per segment acknowledged. */
	t += (double)c->srtt_us / 1e6;
	target = CUBIC_C * (t - c->cc.k) * (t - c->cc.k) * (t - c->cc.k) + c->cc.origin;
	target = RTE_MIN(RTE_MAX(target, cwnd), 1.5 * cwnd);
	c->cwnd += (uint32_t)((target - cwnd) / cwnd * acked);
}

static void
cubic_undo(struct tcp_conn *c)
{
	/* The loss was not one: the window it set is forgotten (the caller
	 * restores cwnd); growth restarts from there. */
	c->cc.epoch_ns = 0;
}

static const struct tcp_cc_ops cc_ops[] = {
	[TCP_CC_CUBIC] = { "cubic", cubic_init, cubic_cong_avoid, cubic_ssthresh, cubic_undo },
	[TCP_CC_NEWRENO] = { "newreno", newreno_init, newreno_cong_avoid, newreno_ssthresh,
			newreno_undo },
};

const struct tcp_cc_ops *
tcp_cc_ops(enum tcp_cc cc)
{
	return (unsigned)cc < RTE_DIM(cc_ops) ? &cc_ops[cc] : NULL;
}

int
tcp_cc_by_name(const char *name, enum tcp_cc *out)
{
	unsigned i;

	for (i = 0; i < RTE_DIM(cc_ops); i++)
		if (strcmp(name, cc_ops[i].name) == 0) {
			*out = (enum tcp_cc)i;
			return 0;
		}
	return -EINVAL;
}

const char *
tcp_cc_name(enum tcp_cc cc)
{
	const struct tcp_cc_ops *ops = tcp_cc_ops(cc);

	return ops != NULL ? ops->name : "?";
}

int
tcp_conn_set_cc(struct tcp_conn *c, enum tcp_cc cc)
{
	const struct tcp_cc_ops *ops = tcp_cc_ops(cc);

	if (ops == NULL)
		return -EINVAL;
	c->cc_ops = ops;
	ops->init(c);
	return 0;
}
