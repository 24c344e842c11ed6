/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_output.c - building and sending segments: what the windows allow
 * (Nagle, sender-side silly window avoidance), ACKs, SYNs, RSTs, and the
 * receive window we advertise (never shrunk; receiver-side silly window
 * avoidance). On the lcore of the stack.
 *
 * A data segment is a header mbuf (IPv4 + TCP) chained to indirect mbufs
 * attached to the queued payload: zero copy, and the queue keeps its
 * payload for retransmission. Small payloads, and every payload when the
 * port cannot send chains, are copied into the header mbuf instead.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_cksum.h"
#include "tcp_priv.h"

#define IP_HLEN 20

/* Fill the IPv4 and TCP headers at hdr (data start of h) and the checksum;
 * h's data holds the headers followed by plen bytes of payload. tso_segsz:
 * 0, or the payload of each segment the PMD is to cut h into (TSO). */
static void
fill_headers(struct ip_iface *st, struct rte_mbuf *h, uint32_t lip, uint32_t rip, uint16_t lport,
		uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		const uint8_t *opts, int olen, uint32_t plen, uint16_t tso_segsz)
{
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(h, struct rte_ipv4_hdr *);
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)(ip + 1);
	uint16_t thlen = (uint16_t)(sizeof(*th) + (uint32_t)olen);

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IP_HLEN + thlen + plen));
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = rte_cpu_to_be_32(lip);
	ip->dst_addr = rte_cpu_to_be_32(rip);
	th->src_port = rte_cpu_to_be_16(lport);
	th->dst_port = rte_cpu_to_be_16(rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32(ack);
	th->data_off = (uint8_t)((thlen / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (olen > 0)
		memcpy(th + 1, opts, (size_t)olen);
	h->ol_flags = 0;
	if (tso_segsz != 0) {
		/* The PMD cuts it and checksums every piece; the field starts
		 * from the pseudo-header's sum without a length (DPDK's rule for
		 * TCP_SEG, which rte_ipv4_phdr_cksum follows). */
		h->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG;
		h->tso_segsz = tso_segsz;
		h->l2_len = RTE_ETHER_HDR_LEN;
		h->l3_len = IP_HLEN;
		h->l4_len = thlen;
		th->cksum = rte_ipv4_phdr_cksum(ip, h->ol_flags);
	} else if (st->cfg.tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) {
		h->ol_flags = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		h->l2_len = RTE_ETHER_HDR_LEN;
		h->l3_len = IP_HLEN;
		h->l4_len = thlen;
		th->cksum = rte_ipv4_phdr_cksum(ip, h->ol_flags);
	} else {
		th->cksum = dp_ipv4_l4_cksum_mbuf(h, ip, IP_HLEN);
	}
}

/* The send-queue segment that holds seq, and seq's offset in it. */
static struct rte_mbuf *
sndq_seek(struct tcp_conn *c, uint32_t seq, uint32_t *off)
{
	struct rte_mbuf *m;
	uint32_t mseq;

	if (c->snd_cur != NULL && tcp_seq_geq(seq, c->snd_cur_seq)) {
		m = c->snd_cur;
		mseq = c->snd_cur_seq;
	} else {
		m = c->sndq_head;
		mseq = c->snd_una;
	}
	while (m != NULL && seq - mseq >= m->data_len) {
		mseq += m->data_len;
		m = m->next;
	}
	if (m != NULL) {
		c->snd_cur = m;
		c->snd_cur_seq = mseq;
		*off = seq - mseq;
	}
	return m;
}

/* Put len bytes of queued payload from seq after the headers of h. */
static int
attach_payload(struct tcp_conn *c, struct rte_mbuf *h, uint32_t seq, uint32_t len)
{
	struct tcp_stack *tcp = c->tcp;
	bool copy = !tcp->tx_chains || len <= TCP_COPY_BELOW;
	uint32_t off = 0;
	struct rte_mbuf *s = sndq_seek(c, seq, &off);
	char *p = NULL;

	if (copy) {
		p = rte_pktmbuf_append(h, (uint16_t)len);
		if (p == NULL)
			return -ENOBUFS;
		if (len > TCP_COPY_BELOW)
			tcp->stats.tx_copied++;
	}
	while (len > 0 && s != NULL) {
		uint32_t take = RTE_MIN(len, (uint32_t)s->data_len - off);

		if (copy) {
			memcpy(p, rte_pktmbuf_mtod_offset(s, char *, off), take);
			p += take;
		} else {
			struct rte_mbuf *mi = rte_pktmbuf_alloc(tcp->st->pool);

			if (mi == NULL)
				return -ENOBUFS;
			rte_pktmbuf_attach(mi, s);
			mi->data_off = (uint16_t)(mi->data_off + off);
			mi->data_len = (uint16_t)take;
			mi->pkt_len = take;
			if (rte_pktmbuf_chain(h, mi) != 0) {
				rte_pktmbuf_free(mi);
				return -ENOBUFS;
			}
		}
		len -= take;
		off = 0;
		s = s->next;
	}
	return len == 0 ? 0 : -EINVAL;
}

/* The receiver's RTT, for a connection that only receives (its SRTT is
 * the handshake's, or on a fast path a floor far above the path), as
 * Linux's tcp_rcv_rtt_measure_ts: the first full-sized segment to echo a
 * TSval of ours left the peer about when our segment carrying it arrived
 * there, so now less that TSval is a round trip, in our timestamp clock's
 * milliseconds (0 counts as 500 us, as for the sender's RTT). Smoothed by
 * an eighth. None without timestamps, nor in a cluster, whose TSvals carry
 * the instance id in their low bits. */
void
tcp_rcv_rtt_measure(struct tcp_conn *c, const struct tcp_seg *seg)
{
	uint32_t ms, us;

	/* Only autotuning reads it: none of this while the buffer cannot grow. */
	if (c->rcv_buf >= c->tcp->cfg.rcv_buf_max || !(c->flags & TCP_CONN_FLAG_TS) ||
			!seg->opts.has_ts || seg->opts.tsecr == 0 ||
			seg->opts.tsecr == c->rcv_rtt_tsecr || seg->len < c->rcv_mss ||
			c->tcp->ts_tag != 0)
		return;
	c->rcv_rtt_tsecr = seg->opts.tsecr;
	ms = tcp_ts_now(c) - seg->opts.tsecr;
	if (ms > 2 * c->tcp->cfg.rto_max_ms) /* from our future, or stale */
		return;
	us = ms == 0 ? 500 : ms * 1000;
	c->rcv_rtt_us = c->rcv_rtt_us == 0 ? us : c->rcv_rtt_us - c->rcv_rtt_us / 8 + us / 8;
}

/* Dynamic right-sizing (as Linux's tcp_rcv_space_adjust): once a receiver's
 * RTT (above), the buffer grows to four times what the application took
 * from it during that RTT (the window must hold an RTT of data, and the
 * sender may double it in slow start), up to rcv_buf_max. What the
 * application took, as Linux counts what was copied to the user, not what
 * arrived: an application that does not read (an echo whose own peer reads
 * nothing) would otherwise grow its buffer as fast as data comes, to hold
 * megabytes that can go nowhere (a zero-window reader beside it then took
 * over two minutes to drain it, in the buffer-pinning test). Only on a path of TCP_DRS_RTT_MIN_US
 * or more: below it rcv_buf's default (256 KiB) carries 2 Gbit/s at 1 ms and more at less, and a
 * larger one only let the sender's queue grow with it (on memif, whose sender is limited by its
 * CPU, bulk fell a third, sixth session; through the TAP at 1 % loss a transfer took half again as
 * long). The mbuf budget still bounds what is held. */
void
tcp_rcv_autotune(struct tcp_conn *c)
{
	const struct tcp_config *cfg = &c->tcp->cfg;
	uint32_t now, got, want, taken = c->rcv_nxt - c->rcvq_bytes;

	if (c->rcv_buf >= cfg->rcv_buf_max || c->rcv_rtt_us < TCP_DRS_RTT_MIN_US ||
			!tcp_mem_room_to_grow(c->tcp))
		return;
	now = (uint32_t)(tcp_now_ns(c) / 1000);
	now += now == 0; /* 0 means not measuring */
	if (c->drs_us == 0 || now - c->drs_us < c->rcv_rtt_us) {
		if (c->drs_us == 0) {
			c->drs_us = now;
			c->drs_seq = taken;
		}
		return;
	}
	got = taken - c->drs_seq;
	c->drs_us = now;
	c->drs_seq = taken;
	want = (uint32_t)RTE_MIN(4ull * got, (uint64_t)cfg->rcv_buf_max);
	if (want > c->rcv_buf) {
		c->rcv_buf = want;
		c->tcp->stats.rcv_buf_grown++;
	}
}

/* ---- ACKs held to the end of the rx burst (stretch ACKs) ---- */

void
tcp_ack_at_burst_end(struct tcp_conn *c)
{
	if (c->flags & TCP_CONN_FLAG_ACK_BURST)
		return;
	c->flags |= TCP_CONN_FLAG_ACK_BURST;
	if (c->ack_link.next == NULL || tcp_link_empty(&c->ack_link))
		tcp_link_append(&c->tcp->ack_conns, &c->ack_link);
	c->tcp->stats.burst_acks++;
}

void
tcp_ack_unlist(struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_ACK_BURST;
	if (c->ack_link.next != NULL && !tcp_link_empty(&c->ack_link))
		tcp_link_remove(&c->ack_link);
}

void
tcp_rx_burst_end(struct tcp_stack *tcp)
{
	while (!tcp_link_empty(&tcp->ack_conns)) {
		struct tcp_conn *c =
				EX_CONTAINER_OF(tcp->ack_conns.next, struct tcp_conn, ack_link);
		bool owed = c->flags & TCP_CONN_FLAG_ACK_BURST;

		tcp_ack_unlist(c);
		/* A segment sent since carried it (tcp_xmit clears the flag). */
		if (owed && c->last_ack_sent != c->rcv_nxt)
			tcp_send_ack(c);
	}
}

uint16_t
tcp_rcv_window(struct tcp_conn *c)
{
	uint32_t buf = c->rcv_buf;
	uint32_t free = buf > c->rcvq_bytes ? buf - c->rcvq_bytes : 0;
	uint32_t cur = c->rcv_adv - c->rcv_nxt, wnd, field;

	/* RFC 1122 4.2.3.3: move the right edge by min(buffer/2, MSS) or
	 * more, or not at all (it must not creep a few bytes at a time, review
	 * L14); a window already offered is never taken back. */
	if (free > cur && free - cur < RTE_MIN(buf / 2, (uint32_t)c->rcv_mss))
		free = cur;
	wnd = RTE_MAX(free, cur);
	field = (wnd + (1u << c->rcv_wscale) - 1) >> c->rcv_wscale;
	if (field > 65535)
		field = 65535;
	if (tcp_seq_gt(c->rcv_nxt + (field << c->rcv_wscale), c->rcv_adv))
		c->rcv_adv = c->rcv_nxt + (field << c->rcv_wscale);
	return (uint16_t)field;
}

/* The SACK blocks an ACK carries (RFC 2018 4, RFC 2883 4): a duplicate to
 * report first, then the out-of-order blocks, the latest arrival's first; as
 * many as fit beside the other options and the payload in the MTU (a
 * full-sized segment carries none: its ACK-only neighbours do). */
static void
sack_fill(struct tcp_conn *c, struct tcp_opts *o, uint32_t len)
{
	int32_t room = (int32_t)c->tcp->st->cfg.mtu - 40 - (int32_t)len -
		       (o->has_ts ? TCP_TS_OPT_LEN : 0);
	uint32_t max, i;

	room = RTE_MIN(room, TCP_OPTS_MAX_LEN - (o->has_ts ? TCP_TS_OPT_LEN : 0));
	if (room < 12 || (c->nsack == 0 && !(c->flags & TCP_CONN_FLAG_DSACK)))
		return;
	max = RTE_MIN((uint32_t)(room - 4) / 8, (uint32_t)TCP_SACK_MAX);
	if (c->flags & TCP_CONN_FLAG_DSACK) {
		o->sack[o->nsack].left = c->dsack.left;
		o->sack[o->nsack].right = c->dsack.right;
		o->nsack++;
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_DSACK;
		c->tcp->stats.dsacks_out++;
	}
	for (i = 0; i < c->nsack && o->nsack < max; i++) {
		o->sack[o->nsack].left = c->sack[i].left;
		o->sack[o->nsack].right = c->sack[i].right;
		o->nsack++;
	}
	c->tcp->stats.sack_acks_out++;
}

int
tcp_xmit(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	struct tcp_stack *tcp = c->tcp;
	struct ip_iface *st = tcp->st;
	struct tcp_opts o;
	uint8_t opts[TCP_OPTS_MAX_LEN];
	struct rte_mbuf *h;
	uint16_t wnd;
	int olen;

	memset(&o, 0, sizeof(o));
	if (flags & TCP_FLAG_SYN) {
		o.has_mss = true;
		o.mss = (uint16_t)(st->cfg.mtu - 40);
		/* SYN_SENT offers what we are configured for; a SYN-ACK only
		 * echoes what the peer offered (RFC 7323 1.3, 2.2). */
		if (c->state == TCP_STATE_SYN_SENT ? tcp->cfg.window_scaling
						   : (c->flags & TCP_CONN_FLAG_WS) != 0) {
			o.has_wscale = true;
			o.wscale = c->rcv_wscale;
		}
		if (c->state == TCP_STATE_SYN_SENT ? tcp->cfg.timestamps
						   : (c->flags & TCP_CONN_FLAG_TS) != 0)
			o.has_ts = true;
		if (c->state == TCP_STATE_SYN_SENT ? tcp->cfg.sack
						   : (c->flags & TCP_CONN_FLAG_SACK) != 0)
			o.sack_permitted = true;
	} else if (c->flags & TCP_CONN_FLAG_TS) {
		o.has_ts = true;
	}
	if (o.has_ts) {
		o.tsval = tcp_ts_now(c);
		o.tsecr = c->ts_recent;
	}
	if ((flags & (TCP_FLAG_ACK | TCP_FLAG_SYN)) == TCP_FLAG_ACK &&
			(c->flags & TCP_CONN_FLAG_SACK))
		sack_fill(c, &o, len);
	olen = tcp_opts_build(&o, opts);
	if (olen < 0)
		olen = 0;
	/* Every segment not sent for lack of mbufs is counted here, whatever
	 * it was (data, ACK, SYN, RST, probe: review L17). */
	h = rte_pktmbuf_alloc(st->pool);
	if (h == NULL) {
		tcp->stats.tx_nombuf++;
		return -ENOBUFS;
	}
	if (rte_pktmbuf_append(h, (uint16_t)(IP_HLEN + sizeof(struct rte_tcp_hdr) + olen)) ==
			NULL) {
		rte_pktmbuf_free(h);
		tcp->stats.tx_nombuf++;
		return -ENOBUFS;
	}
	if (len > 0 && attach_payload(c, h, seq, len) != 0) {
		rte_pktmbuf_free(h);
		tcp->stats.tx_nombuf++;
		return -ENOBUFS;
	}
	if (flags & TCP_FLAG_SYN) {
		/* RFC 7323 2.2: the window field of a SYN is never scaled. */
		wnd = (uint16_t)RTE_MIN(tcp->cfg.rcv_buf, 65535u);
		if (tcp_seq_gt(c->rcv_nxt + wnd, c->rcv_adv))
			c->rcv_adv = c->rcv_nxt + wnd;
	} else {
		wnd = tcp_rcv_window(c);
	}
	if (flags & TCP_FLAG_ACK) {
		c->last_ack_sent = c->rcv_nxt;
		c->delack_deadline = TCP_NO_DEADLINE; /* the timer notices */
		c->flags &= ~(uint32_t)(TCP_CONN_FLAG_ACK_NOW | TCP_CONN_FLAG_ACK_BURST |
					TCP_CONN_FLAG_ACK_DEFERRED);
	}
	fill_headers(st, h, c->lip, c->rip, c->lport, c->rport, seq,
			(flags & TCP_FLAG_ACK) ? c->rcv_nxt : 0, flags, wnd, opts, olen, len,
			len > c->mss ? c->mss : 0);
	tcp->stats.segs_out++;
	if (len > c->mss) {
		tcp->stats.tso_out++;
		tcp->stats.tso_wire_segs += (len + c->mss - 1) / c->mss;
	}
	if (flags & TCP_FLAG_RST)
		tcp->stats.resets_out++;
	if (!(flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) && (len > 0 || (flags & TCP_FLAG_FIN))) {
		uint32_t n = len + !!(flags & TCP_FLAG_FIN);

		tcp_sb_sent(c, seq, n);
		if (c->flags & TCP_CONN_FLAG_RECOVERY)
			c->prr_out += n;
	}
	stack_output_ipv4(st, h); /* lost on the way: retransmission covers it */
	return 0;
}

/* A pure ACK carries SND.MAX, not SND.NXT: after a timeout SND.NXT goes back
 * to resend (go-back-N), and an ACK numbered below what the peer already
 * holds would be out of its window and dropped unread, ACK field and all
 * (the peer's retransmissions meet the same fate here: a deadlock). */
/* The sequence number of a segment without data (as Linux's
 * tcp_acceptable_seq): SND.NXT as sent, unless the peer has since moved the
 * right edge of its window back below it (RFC 9293 3.8.6 asks a sender to
 * cope with a shrunk window; a receiver short of memory does it), then that
 * edge. The peer drops a segment whose sequence number lies outside its
 * window without reading its ACK field: an ACK at SND.NXT there would never
 * be taken, and a peer waiting on it retransmits for ever while we wait on
 * its data. */
static uint32_t
acceptable_seq(const struct tcp_conn *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	if (c->state <= TCP_STATE_SYN_RECEIVED || !tcp_seq_gt(c->snd_max, edge))
		return c->snd_max;
	return edge;
}

static void tsq_wait(struct tcp_conn *c);

/* A pure ACK. While the tx path refuses (small queues), each connection's
 * first ACK of the refusal still goes (the peer learns where we are: the
 * slots above the path's mark are for that), and later ones wait for room
 * as one, sent with what is acknowledged by then (tcp_tsq_resume): one ACK
 * per connection per rx burst would fill the path's buffer behind a queue
 * that takes nothing, and what did not fit would be dropped. */
void
tcp_send_ack(struct tcp_conn *c)
{
	struct ip_iface *st = c->tcp->st;

	if (!stack_tx_room(st)) {
		if (c->ack_epoch == st->tx_epoch + 1) {
			c->flags |= TCP_CONN_FLAG_ACK_DEFERRED;
			c->tcp->stats.acks_deferred++;
			tsq_wait(c);
			return;
		}
		c->ack_epoch = st->tx_epoch + 1;
	}
	tcp_xmit(c, acceptable_seq(c), 0, TCP_FLAG_ACK);
}

void
tcp_send_syn(struct tcp_conn *c)
{
	if (c->state == TCP_STATE_SYN_SENT)
		tcp_xmit(c, c->iss, 0, TCP_FLAG_SYN);
	else
		tcp_xmit(c, c->iss, 0, TCP_FLAG_SYN | TCP_FLAG_ACK);
	c->snd_nxt = c->iss + 1;
	if (tcp_seq_gt(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
}

void
tcp_send_rst(struct tcp_conn *c)
{
	if (c->state == TCP_STATE_SYN_SENT || c->state == TCP_STATE_CLOSED)
		return; /* nothing to reset on the other side */
	tcp_xmit(c, acceptable_seq(c), 0, TCP_FLAG_RST | TCP_FLAG_ACK);
}

void
tcp_reset_reply(struct tcp_stack *tcp, uint32_t lip, uint32_t rip, const struct tcp_seg *seg)
{
	struct ip_iface *st = tcp->st;
	struct rte_mbuf *h;
	uint32_t seq, ack;
	uint8_t flags;

	/* RFC 9293 3.10.7.1: "If the incoming segment has the ACK bit set,
	 * the reset takes its sequence number from the ACK field of the
	 * segment; otherwise, the reset has sequence number zero and the ACK
	 * field is set to the sum of the sequence number and segment length". */
	if (seg->flags & TCP_FLAG_RST)
		return;
	if (seg->flags & TCP_FLAG_ACK) {
		seq = seg->ack;
		ack = 0;
		flags = TCP_FLAG_RST;
	} else {
		seq = 0;
		ack = seg->seq + seg->len + !!(seg->flags & TCP_FLAG_SYN) +
		      !!(seg->flags & TCP_FLAG_FIN);
		flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	h = rte_pktmbuf_alloc(st->pool);
	if (h == NULL) {
		tcp->stats.tx_nombuf++;
		return;
	}
	if (rte_pktmbuf_append(h, IP_HLEN + sizeof(struct rte_tcp_hdr)) == NULL) {
		rte_pktmbuf_free(h);
		tcp->stats.tx_nombuf++;
		return;
	}
	fill_headers(st, h, lip, rip, seg->dport, seg->sport, seq, ack, flags, 0, NULL, 0, 0, 0);
	tcp->stats.segs_out++;
	tcp->stats.resets_out++;
	stack_output_ipv4(st, h);
}

/* ---- small queues: waiting for room in the tx path ---- */

/* A list of connections by index (plus one, 0: none) rather than pointers,
 * to fit in the gaps of struct tcp_conn (1 KiB each at most). */
static inline uint32_t
tsq_ref(const struct tcp_conn *c)
{
	return (uint32_t)(c - c->tcp->conns) + 1;
}

static inline struct tcp_conn *
tsq_at(struct tcp_stack *tcp, uint32_t ref)
{
	return &tcp->conns[ref - 1];
}

/* The tx path said it is full (stack_tx_room): c stops sending and waits,
 * behind the connections that stopped before it, for tcp_tsq_resume(). No
 * timer: the tx path wakes the stack when it drains. */
static void
tsq_wait(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;
	uint32_t ref = tsq_ref(c);

	if (c->flags & TCP_CONN_FLAG_TSQ)
		return;
	c->flags |= TCP_CONN_FLAG_TSQ;
	c->tsq_prev = tcp->tsq_tail;
	c->tsq_next = 0;
	if (tcp->tsq_tail != 0)
		tsq_at(tcp, tcp->tsq_tail)->tsq_next = ref;
	else
		tcp->tsq_head = ref;
	tcp->tsq_tail = ref;
	tcp->stats.tsq_throttled++;
}

void
tcp_tsq_unlist(struct tcp_conn *c)
{
	struct tcp_stack *tcp = c->tcp;

	if (!(c->flags & TCP_CONN_FLAG_TSQ))
		return;
	c->flags &= ~(uint32_t)TCP_CONN_FLAG_TSQ;
	if (c->tsq_prev != 0)
		tsq_at(tcp, c->tsq_prev)->tsq_next = c->tsq_next;
	else
		tcp->tsq_head = c->tsq_next;
	if (c->tsq_next != 0)
		tsq_at(tcp, c->tsq_next)->tsq_prev = c->tsq_prev;
	else
		tcp->tsq_tail = c->tsq_prev;
	c->tsq_prev = c->tsq_next = 0;
}

static void output(struct tcp_conn *c, bool sws_override);

void
tcp_tsq_resume(struct tcp_stack *tcp)
{
	/* A connection the room runs out on again goes back to the end of
	 * the list, and the room check then ends the loop. */
	while (tcp->tsq_head != 0 && stack_tx_room(tcp->st)) {
		struct tcp_conn *c = tsq_at(tcp, tcp->tsq_head);

		tcp_tsq_unlist(c);
		tcp->stats.tsq_resumed++;
		output(c, false);
		/* An ACK that waited, unless a segment just carried it. */
		if ((c->flags & TCP_CONN_FLAG_ACK_DEFERRED) && c->state != TCP_STATE_CLOSED)
			tcp_send_ack(c);
	}
}

static bool
can_send_data(const struct tcp_conn *c)
{
	switch (c->state) {
	case TCP_STATE_ESTABLISHED:
	case TCP_STATE_CLOSE_WAIT:
	case TCP_STATE_FIN_WAIT_1:
	case TCP_STATE_CLOSING:
	case TCP_STATE_LAST_ACK:
		return true;
	default:
		return false;
	}
}

/* Resend what the scoreboard deems lost, lowest first, while cwnd allows
 * (RFC 6675's NextSeg rule 1; after an RTO that is everything not SACKed,
 * in order, as go-back-N but never what the peer SACKed). Retransmissions
 * are not held to the peer's window: it offered room for them once.
 * @return false if an mbuf or room in the tx path was lacking. */
static bool
output_lost(struct tcp_conn *c)
{
	uint32_t seq, span;

	while (tcp_sb_next_lost(c, &seq, &span) && tcp_pipe(c) < c->cwnd) {
		/* The FIN, if this range holds it, is the last sequence number. */
		bool has_fin = (c->flags & TCP_CONN_FLAG_FIN_QUEUED) &&
			       tcp_seq_lt(c->snd_end, seq + span) && tcp_seq_geq(c->snd_end, seq);
		uint32_t data = has_fin ? c->snd_end - seq : span;
		uint32_t len = RTE_MIN(data, (uint32_t)c->mss);
		uint8_t fl = TCP_FLAG_ACK;

		if (has_fin && len == data)
			fl |= TCP_FLAG_FIN;
		if (!stack_tx_room(c->tcp->st)) {
			tsq_wait(c); /* resending into a full queue only loses it again */
			return false;
		}
		if (tcp_xmit(c, seq, len, fl) != 0) {
			if (c->rtx_deadline == TCP_NO_DEADLINE)
				tcp_rtx_arm(c);
			return false;
		}
		c->tcp->stats.retransmits++;
		c->flags &= ~(uint32_t)TCP_CONN_FLAG_RTT_TIMING; /* Karn */
		if (c->rtx_deadline == TCP_NO_DEADLINE)
			tcp_rtx_arm(c);
	}
	return true;
}

/* Limited Transmit (RFC 3042): the first and second duplicate ACKs each let
 * one new segment out beyond cwnd, so a small window still gets its third
 * duplicate ACK. With SACK the SACKed bytes leave the pipe, which does the
 * same. */
static uint32_t
limited_transmit(const struct tcp_conn *c)
{
	if ((c->flags & (TCP_CONN_FLAG_RECOVERY | TCP_CONN_FLAG_SACK)) || c->dupacks >= 3)
		return 0;
	return (uint32_t)c->dupacks * c->mss;
}

/* The most new data one segment may carry: an MSS, or with TSO as many
 * whole MSSes as TCP_TSO_MAX holds (the PMD cuts them). Retransmissions
 * stay one MSS: each may be a different hole. */
static uint32_t
seg_max(const struct tcp_conn *c)
{
	uint32_t tso = c->tcp->tso_max;

	return tso > c->mss ? tso - tso % c->mss : c->mss;
}

/* sws_override: the first segment may be smaller than the sender's SWS rule
 * allows (RFC 9293 3.8.6.2.1's override timeout, from the persist timer). */
static void
output(struct tcp_conn *c, bool sws_override)
{
	struct tcp_stack *tcp = c->tcp;
	uint32_t unsent = 0;

	if (!can_send_data(c))
		return;
	/* F-RTO's step 3 sends new data, not what the timeout deemed lost. */
	if (c->sb_lost != 0 && c->frto != TCP_FRTO_NEW_SENT && !output_lost(c))
		return;
	if (c->snd_una == c->snd_max && c->last_snd_ns != 0 &&
			tcp_now_ns(c) - c->last_snd_ns > (uint64_t)c->rto_us * 1000) {
		/* RFC 5681 4.1: idle for more than an RTO, restart from
		 * RW = min(IW, cwnd) rather than burst a stale window. */
		uint32_t rw = (uint32_t)tcp->cfg.init_cwnd * c->mss;

		if (c->cwnd > rw) {
			c->cwnd = rw;
			c->cc.epoch_ns = 0; /* CUBIC's curve restarts too */
			tcp->stats.cwnd_restarts++;
		}
		c->last_snd_ns = 0;
	}
	for (;;) {
		uint32_t lt = limited_transmit(c);
		/* The peer's window bounds what is outstanding; cwnd bounds
		 * what is in the network (RFC 6675's pipe). */
		uint32_t inflight = c->snd_nxt - c->snd_una, pipe = tcp_pipe(c);
		uint32_t by_wnd = c->snd_wnd > inflight ? c->snd_wnd - inflight : 0;
		uint32_t by_cwnd = c->cwnd + lt > pipe ? c->cwnd + lt - pipe : 0;
		uint32_t avail = RTE_MIN(by_wnd, by_cwnd);
		uint32_t len;
		bool fin_due;
		uint8_t fl = TCP_FLAG_ACK;

		unsent = tcp_seq_lt(c->snd_nxt, c->snd_end) ? c->snd_end - c->snd_nxt : 0;
		len = RTE_MIN(RTE_MIN(unsent, avail), seg_max(c));
		/* A TSO segment that is not the end of the data is whole MSSes:
		 * the window's odd bytes would go out as a runt segment per
		 * burst. They wait for the window, as they would without TSO. */
		if (len > c->mss && len < unsent)
			len -= len % c->mss;
		fin_due = (c->flags & TCP_CONN_FLAG_FIN_QUEUED) && len == unsent &&
			  c->snd_nxt + len == c->snd_end;
		if (len == 0) {
			if (!fin_due)
				break;
		} else if (len < c->mss && len < unsent) {
			/* Window-limited: RFC 1122 4.2.3.4, send a small segment
			 * only if it is at least half the largest window seen. */
			if (len < c->max_wnd / 2 && !sws_override)
				break;
		} else if (len < c->mss && !(c->flags & TCP_CONN_FLAG_NODELAY) && inflight > 0 &&
				!fin_due) {
			break; /* Nagle (RFC 896): one small segment in flight */
		}
		if (len == unsent && len > 0)
			fl |= TCP_FLAG_PSH;
		if (fin_due)
			fl |= TCP_FLAG_FIN;
		if (!stack_tx_room(tcp->st)) {
			/* The PMD's queue is full and deep behind (small queues):
			 * more now would overflow it, and TCP would take the loss
			 * for congestion. The tx path's drain resumes us. */
			tsq_wait(c);
			return;
		}
		if (tcp_xmit(c, c->snd_nxt, len, fl) != 0) {
			/* No mbufs (counted by tcp_xmit): try again when the
			 * timer fires (rtx_fire sends again even with nothing in
			 * flight). */
			if (c->rtx_deadline == TCP_NO_DEADLINE)
				tcp_rtx_arm(c);
			return;
		}
		sws_override = false;
		if (!(c->flags & TCP_CONN_FLAG_RTT_TIMING) && len > 0) {
			c->flags |= TCP_CONN_FLAG_RTT_TIMING;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ns = tcp_now_ns(c);
		}
		if (len > 0)
			c->last_snd_ns = tcp_now_ns(c);
		c->snd_nxt += len + (fin_due ? 1 : 0);
		if (tcp_seq_gt(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (c->rtx_deadline == TCP_NO_DEADLINE || (c->flags & TCP_CONN_FLAG_PERSIST)) {
			c->flags &= ~(uint32_t)TCP_CONN_FLAG_PERSIST;
			tcp_rtx_arm(c);
		} else if (len > 0) {
			tcp_tlp_rearm(c);
		}
		if (fin_due)
			break;
	}
	/* Data waits with nothing in flight, whatever the window (zero, or too
	 * small for the SWS rule): without a timer one lost window update
	 * would stall it for ever. The persist timer probes a zero window and
	 * sends the held-back segment into a small one (RFC 9293 3.8.6.1 and
	 * 3.8.6.2.1; Linux's tcp_check_probe_timer). */
	if (unsent > 0 && c->snd_nxt == c->snd_una && c->rtx_deadline == TCP_NO_DEADLINE) {
		c->flags |= TCP_CONN_FLAG_PERSIST;
		tcp_rtx_arm(c);
	}
}

void
tcp_output(struct tcp_conn *c)
{
	output(c, false);
}

void
tcp_output_sws_override(struct tcp_conn *c)
{
	output(c, true);
}

void
tcp_maybe_window_update(struct tcp_conn *c)
{
	uint32_t buf = c->rcv_buf;
	uint32_t free = buf > c->rcvq_bytes ? buf - c->rcvq_bytes : 0;
	uint32_t cur = c->rcv_adv - c->rcv_nxt;

	if (c->state != TCP_STATE_ESTABLISHED && c->state != TCP_STATE_FIN_WAIT_1 &&
			c->state != TCP_STATE_FIN_WAIT_2)
		return;
	/* Tell the peer once the window grew by two segments or half the
	 * buffer, whichever is less (RFC 1122 4.2.3.3). */
	if (free > cur && free - cur >= RTE_MIN(buf / 2, 2u * c->rcv_mss))
		tcp_send_ack(c);
}
