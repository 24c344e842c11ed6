/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_listen.c - a segment for a listener (no connection yet): a SYN makes a
 * half-open connection (RFC 9293 3.10.7.2), or, when the listener's SYN list
 * or the connection table is full, is answered with a SYN cookie and no
 * state (RFC 4987 3.6); an ACK to a listener may bring a cookie back. On the
 * lcore of the stack.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "tcp_isn.h"
#include "tcp_priv.h"

/* ---- SYN cookies (RFC 4987 3.6) ----
 *
 * When a listener's SYN list is full (or the connection table is), a SYN is
 * answered without keeping any state: our ISN is the cookie
 *     bits 31..5  a keyed hash (SipHash-2-4, the ISN secret) of the 4-tuple,
 *                 the peer's ISN and a 64-second period counter t
 *     bits  4..3  t mod 4
 *     bits  2..0  the peer's MSS, as an index into cookie_mss
 * and, as Linux does, the window scale the peer offered rides in the low 4
 * bits of our TSval (15: none) and SACK-permitted in bit 4, echoed back in
 * the ACK's TSecr (in a cluster, above the instance's id: 3 bits higher).
 * Without timestamps both are lost and the connection goes unscaled and
 * without SACK. A cookie is good for two to three periods; forging one
 * takes 2^27 tries per tuple.
 */
#define COOKIE_PERIOD_NS (64 * EX_NS_PER_S)
#define COOKIE_MASK 0xffffffe0u

static const uint16_t cookie_mss[8] = { 536, 1200, 1360, 1400, 1440, 1460, 4312, 8960 };

static uint32_t
cookie_hash(const struct tcp_stack *tcp, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport,
		uint32_t peer_isn, uint32_t t)
{
	uint32_t in[6] = { 0x636f6f6bu /* "cook" */, lip, rip, peer_isn, t,
		(uint32_t)lport << 16 | rport };

	return (uint32_t)tcp_siphash24(tcp->isn_key, in, sizeof(in));
}

/* Where the options start in the TSval: above a cluster's instance id. */
static uint32_t
cookie_ts_shift(const struct tcp_stack *tcp)
{
	return tcp->ts_tag != 0 ? TCP_TS_TAG_BITS : 0;
}

static uint32_t
cookie_period(const struct tcp_stack *tcp)
{
	return (uint32_t)(ex_now_coarse_ns(tcp->st->ex) / COOKIE_PERIOD_NS);
}

/* Answer a SYN with a cookie SYN-ACK: a connection on the stack, never in
 * the table, only to build the segment. */
static void
syncookie_send(struct tcp_stack *tcp, struct tcp_listener *l, const struct tcp_seg *seg,
		uint32_t lip, uint32_t rip)
{
	struct tcp_conn tmp;
	uint32_t t = cookie_period(tcp), mss, i;

	memset(&tmp, 0, sizeof(tmp));
	tcp_conn_setup(&tmp, tcp, lip, seg->dport, rip, seg->sport);
	tmp.state = TCP_STATE_SYN_RECEIVED; /* tcp_xmit echoes the peer's options */
	tmp.irs = seg->seq;
	tmp.rcv_nxt = tmp.rcv_adv = seg->seq + 1;
	tcp_syn_options(&tmp, seg);
	mss = seg->opts.has_mss ? seg->opts.mss : TCP_MSS_DEFAULT;
	mss = RTE_MIN(mss, (uint32_t)tcp->st->cfg.mtu - 40);
	for (i = RTE_DIM(cookie_mss) - 1; i > 0 && cookie_mss[i] > mss; i--)
		;
	tmp.iss = (cookie_hash(tcp, lip, seg->dport, rip, seg->sport, seg->seq, t) & COOKIE_MASK) |
		  (t & 3) << 3 | i;
	tmp.snd_una = tmp.snd_nxt = tmp.snd_max = tmp.recover = tmp.iss;
	tmp.snd_end = tmp.iss + 1;
	if (tmp.flags & TCP_CONN_FLAG_TS) {
		uint32_t enc = ((tmp.flags & TCP_CONN_FLAG_WS) ? seg->opts.wscale : 15) |
			       ((tmp.flags & TCP_CONN_FLAG_SACK) ? 0x10 : 0);
		/* In a cluster the instance's id keeps the lowest bits and
		 * these go above it. */
		uint32_t sh = cookie_ts_shift(tcp), ts = tcp_ts_now(&tmp);
		uint32_t val = (ts & ~((0x20u << sh) - 1)) | enc << sh | tcp->ts_tag;

		/* Rounded down, never up (1 to 32 ms back, 256 in a cluster):
		 * every later TSval of a connection made from this cookie is
		 * at least this one. Rounded up, the next segments looked older
		 * than the SYN-ACK and the peer's PAWS dropped them (found by
		 * scripts/bench/synflood.sh: 1 s stalls). */
		if (val > ts)
			val -= 0x20u << sh;
		tmp.ts_offset += val - ts;
	} else {
		/* nowhere to keep them */
		tmp.flags &= ~(uint32_t)(TCP_CONN_FLAG_WS | TCP_CONN_FLAG_SACK);
		tmp.rcv_wscale = 0;
	}
	tcp_send_syn(&tmp);
	tcp->stats.syncookies_sent++;
	l->cookie_until_ns = ex_now_coarse_ns(tcp->st->ex) + 3 * COOKIE_PERIOD_NS;
}

/* Whether seg acknowledges a cookie of ours that is still fresh. */
static bool
syncookie_match(struct tcp_stack *tcp, const struct tcp_seg *seg, uint32_t lip, uint32_t rip)
{
	uint32_t cookie = seg->ack - 1, peer_isn = seg->seq - 1, now_t = cookie_period(tcp), age;

	for (age = 0; age <= 2; age++) {
		uint32_t t = now_t - age;

		if ((t & 3) == ((cookie >> 3) & 3) &&
				((cookie_hash(tcp, lip, seg->dport, rip, seg->sport, peer_isn, t) ^
						 cookie) &
						COOKIE_MASK) == 0)
			return true;
	}
	return false;
}

bool
tcp_syncookie_ours(struct tcp_stack *tcp, const struct tcp_listener *l, const struct tcp_seg *seg,
		uint32_t lip, uint32_t rip)
{
	return tcp->cfg.syncookies &&
	       (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_ACK &&
	       ex_now_coarse_ns(tcp->st->ex) < l->cookie_until_ns &&
	       syncookie_match(tcp, seg, lip, rip);
}

/* An ACK to a listener: a connection from a cookie that is ours and fresh,
 * in SYN_RECEIVED as if its SYN-ACK had just been sent (the ACK then makes
 * it ESTABLISHED through the usual path), or NULL. */
static struct tcp_conn *
syncookie_take(struct tcp_stack *tcp, struct tcp_listener *l, const struct tcp_seg *seg,
		uint32_t lip, uint32_t rip)
{
	uint32_t cookie = seg->ack - 1, peer_isn = seg->seq - 1, enc;
	struct tcp_seg syn = *seg;
	struct tcp_conn *c;

	if (!syncookie_match(tcp, seg, lip, rip))
		return NULL;
	if (l->nready >= l->backlog) {
		tcp->stats.syn_backlog_full++;
		return NULL;
	}
	c = tcp_conn_alloc(tcp);
	if (c == NULL)
		return NULL;
	tcp_conn_setup(c, tcp, lip, seg->dport, rip, seg->sport);
	/* The SYN's options, as the cookie kept them. */
	syn.seq = peer_isn;
	syn.opts.has_mss = true;
	syn.opts.mss = cookie_mss[cookie & 7];
	enc = seg->opts.tsecr >> cookie_ts_shift(tcp);
	syn.opts.has_wscale = seg->opts.has_ts && (enc & 0xf) != 15;
	syn.opts.wscale = (uint8_t)RTE_MIN(enc & 0xf, (uint32_t)TCP_WSCALE_MAX);
	syn.opts.sack_permitted = seg->opts.has_ts && (enc & 0x10) != 0;
	tcp_syn_options(c, &syn);
	c->iss = cookie;
	c->snd_una = c->recover = cookie;
	c->snd_nxt = c->snd_max = c->snd_end = cookie + 1;
	c->listener = l;
	c->irs = peer_isn;
	c->rcv_nxt = seg->seq;
	c->rcv_adv = seg->seq + RTE_MIN(tcp->cfg.rcv_buf, 65535u);
	c->last_ack_sent = c->rcv_nxt;
	c->snd_wnd = c->max_wnd = seg->wnd;
	c->snd_wl1 = peer_isn;
	c->snd_wl2 = cookie;
	tcp_conn_insert(tcp, c);
	tcp_link_append(&l->syn, &c->link);
	c->flags |= TCP_CONN_FLAG_LISTED;
	l->nsyn++;
	tcp_set_state(c, TCP_STATE_SYN_RECEIVED);
	tcp->stats.passive_opens++;
	tcp->stats.syncookies_ok++;
	return c;
}

void
tcp_listen_input(struct tcp_stack *tcp, struct tcp_listener *l, struct rte_mbuf *data,
		const struct tcp_seg *seg, uint32_t lip, uint32_t rip, uint32_t iss_floor)
{
	struct ip_iface *st = tcp->st;
	struct tcp_conn *c;

	if (seg->flags & TCP_FLAG_RST) {
		tcp_mbuf_list_free(data);
		return;
	}
	if (seg->flags & TCP_FLAG_ACK) {
		if (tcp->cfg.syncookies && !(seg->flags & TCP_FLAG_SYN) &&
				ex_now_coarse_ns(st->ex) < l->cookie_until_ns) {
			c = syncookie_take(tcp, l, seg, lip, rip);
			if (c != NULL) {
				struct tcp_seg s = *seg;

				tcp_conn_input(c, data, &s, lip, rip); /* the ACK, and any data */
				return;
			}
			tcp->stats.syncookies_failed++;
		}
		tcp_mbuf_list_free(data);
		tcp_reset_reply(tcp, lip, rip, seg);
		st->stats.drops[STACK_DROP_TCP_STATE]++;
		return;
	}
	tcp_mbuf_list_free(data); /* data on a SYN is not kept (no TFO) */
	if (!(seg->flags & TCP_FLAG_SYN) || (seg->flags & TCP_FLAG_FIN)) {
		/* SYN+FIN: a scan or an evasion, never a connection (as Linux;
		 * review L6) */
		st->stats.drops[STACK_DROP_TCP_STATE]++;
		return;
	}
	if (l->nready >= l->backlog) {
		/* The application is not accepting: a cookie would only make
		 * another connection it will not take. */
		tcp->stats.syn_backlog_full++;
		l->dropped++;
		st->stats.drops[STACK_DROP_TCP_BACKLOG]++;
		return;
	}
	if ((uint32_t)l->nsyn + l->nready >= l->backlog) {
		if (tcp->cfg.syncookies) {
			syncookie_send(tcp, l, seg, lip, rip);
			return;
		}
		tcp->stats.syn_backlog_full++;
		l->dropped++;
		st->stats.drops[STACK_DROP_TCP_BACKLOG]++;
		return;
	}
	c = tcp_conn_alloc(tcp);
	if (c == NULL) {
		if (tcp->cfg.syncookies) { /* half-opens fill the table: no state */
			syncookie_send(tcp, l, seg, lip, rip);
			return;
		}
		l->dropped++;
		st->stats.drops[STACK_DROP_TCP_CONN_LIMIT]++;
		return;
	}
	tcp_conn_setup(c, tcp, lip, seg->dport, rip, seg->sport);
	if (iss_floor != 0 && tcp_seq_lt(c->iss, iss_floor)) {
		/* A TIME_WAIT tuple reused: start above the old sequence space. */
		c->iss = iss_floor;
		c->snd_una = c->snd_nxt = c->snd_max = c->recover = c->iss;
		c->snd_end = c->iss + 1;
	}
	c->listener = l;
	c->irs = seg->seq;
	c->rcv_nxt = c->rcv_adv = seg->seq + 1;
	tcp_syn_options(c, seg);
	c->snd_wnd = c->max_wnd = seg->wnd;
	c->snd_wl1 = seg->seq;
	c->snd_wl2 = c->iss;
	tcp_conn_insert(tcp, c);
	tcp_link_append(&l->syn, &c->link);
	c->flags |= TCP_CONN_FLAG_LISTED;
	l->nsyn++;
	tcp_set_state(c, TCP_STATE_SYN_RECEIVED);
	tcp->stats.passive_opens++;
	tcp_send_syn(c);
	tcp_rtx_arm(c);
}
