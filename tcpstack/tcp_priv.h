/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_priv.h - the connection and the helpers shared by tcp_conn.c,
 * tcp_input.c, tcp_output.c, tcp_timer.c and tcp_sock.c. Never included
 * outside tcpstack/ (its unit tests excepted: they build connections in any
 * state, as smoltcp's and lwIP's tests do).
 *
 * Queues are intrusive lists of single-segment mbufs linked through
 * m->next (each element has nb_segs 1 and pkt_len == data_len); the
 * out-of-order queue keeps each element's sequence number in m->hash.usr.
 *
 * Lcore: the stack's.
 */
#ifndef RIPTIDE_TCP_PRIV_H
#define RIPTIDE_TCP_PRIV_H

#include <rte_branch_prediction.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "tcp.h"
#include "tcp_seg.h"

/* TCP's log type, "riptide.tcp" (--log-level=riptide.tcp:debug). */
extern int tcp_logtype;
#define TCP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, tcp_logtype, "riptide.tcp: " fmt "\n", ##__VA_ARGS__)

#ifdef __cplusplus
extern "C" {
#endif

/* One stack per lcore, shared nothing: its connection table, timers and
 * listeners are touched from the lcore that made it, never another (a
 * second lcore's packets reach it by steering, its requests by message).
 * Debug builds check at the entries (rx, listen, active open, close) and
 * abort naming both lcores; release builds pay nothing. */
void tcp_owner_violation(const struct tcp_stack *tcp, const char *what);

static inline void
tcp_owner_check(const struct tcp_stack *tcp, const char *what)
{
#ifndef RT_NDEBUG
	if (unlikely(rte_lcore_id() != tcp->owner_lcore))
		tcp_owner_violation(tcp, what);
#else
	(void)tcp;
	(void)what;
#endif
}

#define TCP_MSS_DEFAULT 536 /* RFC 9293 3.7.1, when the peer sends no MSS */
#define TCP_PACK_BELOW 512 /* received segments this small are packed */
#define TCP_COPY_BELOW 128 /* payloads this small are copied, not chained */
/* The largest TSO payload: what an IPv4 length (65535) holds after the IP
 * header and a TCP header with every option. */
#define TCP_TSO_MAX (65535u - 20u - 60u)

/* The largest TSO payload a stack with this config may send on a port with
 * these tx offloads (TSO, TCP checksums and chains): TCP_TSO_MAX, or 0. */
uint32_t tcp_tso_max(const struct tcp_config *cfg, uint64_t tx_offloads);
#define TCP_TS_OPT_LEN 12
#define TCP_NO_DEADLINE UINT64_MAX
/* RFC 7323 5.5: TS.Recent is invalid after 24 days idle (2^31 ms at a 1 ms
 * timestamp clock would look older than it). */
#define TCP_PAWS_IDLE_NS (24ull * 86400 * EX_NS_PER_S)
/* RFC 5961 7: ACKs answering invalid segments, at most one per this per
 * connection (Linux's tcp_invalid_ratelimit). */
#define TCP_OOW_ACK_GAP_NS (500 * EX_NS_PER_MS)
/* RFC 8985 7.2's WCDelAckT: a peer's delayed ACK at worst (Linux's 200 ms). */
#define TCP_TLP_DELACK_NS (200 * EX_NS_PER_MS)
/* The probe timeout's floor (RFC 8985 7.2 has none; Linux's is two jiffies,
 * 8 ms at the 250 Hz of Debian's kernel): riptide's timers tick in a
 * microsecond, and below a few hundred microseconds a peer's scheduling
 * makes probes spurious (and each one's D-SACK widens RACK's window). */
#define TCP_PTO_MIN_NS (500 * EX_NS_PER_US)
/* Receive-buffer autotuning only on a path whose receiver RTT is at least
 * this (tcp_rcv_autotune): a timestamp tick of ours. */
#define TCP_DRS_RTT_MIN_US 1000
/* Tail loss probes per advance of SND.UNA before the RTO, each PTO twice the
 * last (tcp_timer.c). */
#define TCP_TLP_MAX 3

/** Connection flags. */
enum tcp_conn_flag {
	TCP_CONN_FLAG_USER = 1u << 0, /**< the application holds it */
	TCP_CONN_FLAG_FIN_QUEUED = 1u << 1, /**< shutdown: FIN after snd_end */
	TCP_CONN_FLAG_FIN_RCVD = 1u << 2, /**< the peer's FIN is in sequence */
	TCP_CONN_FLAG_OOO_FIN = 1u << 3, /**< a FIN at ooo_fin_seq waits for a hole */
	TCP_CONN_FLAG_TS = 1u << 4, /**< timestamps in use */
	TCP_CONN_FLAG_RECOVERY = 1u << 5, /**< NewReno fast recovery */
	TCP_CONN_FLAG_RTT_TIMING = 1u << 6, /**< timing rtt_seq (Karn) */
	TCP_CONN_FLAG_NODELAY = 1u << 7,
	TCP_CONN_FLAG_KEEPALIVE = 1u << 8,
	TCP_CONN_FLAG_IN_TABLE = 1u << 9,
	TCP_CONN_FLAG_ACK_NOW = 1u << 10, /**< an ACK is owed at the end of input */
	TCP_CONN_FLAG_SNDQ_OWN_TAIL = 1u << 11, /**< the send tail is ours to append to */
	TCP_CONN_FLAG_PERSIST = 1u << 12, /**< the rtx deadline is a window probe */
	TCP_CONN_FLAG_LISTED = 1u << 13, /**< on a listener list or the TIME_WAIT list */
	TCP_CONN_FLAG_WS = 1u << 14, /**< window scaling in use */
	TCP_CONN_FLAG_SYN_AGAIN =
			1u << 15, /**< SYN resent at once after resetting a stale TIME_WAIT */
	TCP_CONN_FLAG_ORPHAN = 1u << 16, /**< closed by the application, still finishing */
	TCP_CONN_FLAG_SACK = 1u << 17, /**< SACK-permitted both ways: we report blocks */
	TCP_CONN_FLAG_DSACK = 1u << 18, /**< a duplicate to report (dsack) on the next ACK */
	TCP_CONN_FLAG_TLP = 1u << 19, /**< the rtx deadline is a tail loss probe's */
	TCP_CONN_FLAG_TLP_OUT = 1u << 20, /**< a probe is out: none again until SND.UNA moves */
	TCP_CONN_FLAG_LOSS = 1u << 21, /**< after an RTO, until SND.UNA reaches recover */
	TCP_CONN_FLAG_REORDER = 1u << 22, /**< the peer's SACKs showed reordering (RACK) */
	TCP_CONN_FLAG_ACK_BURST = 1u << 23, /**< an ACK is owed at the end of the rx burst */
	TCP_CONN_FLAG_MOVED = 1u << 24, /**< a segment came through a cluster peer */
	TCP_CONN_FLAG_TSQ = 1u << 25, /**< waits on tcp->tsq_conns for room in the tx path */
	TCP_CONN_FLAG_ACK_DEFERRED = 1u << 26, /**< an ACK waits (TSQ) for room in the tx path */
};

/* The sender's scoreboard (tcp_recovery.c): what was sent in SND.UNA..SND.MAX
 * as contiguous ranges in sequence order, each with when it was last sent
 * and whether the peer SACKed it, it is deemed lost, or it was sent again.
 * Ranges sent at the same instant with the same marks are one entry. The
 * table is in the connection (TCP_SB_INLINE entries); a window with many
 * holes moves it to a bigger one from the stack's pool, given back when the
 * scoreboard empties. When even that is full (or the pool is), the two
 * neighbours with the same marks closest in time are merged (the later time
 * kept: a range then looks newer, so RACK is slower to call it lost, never
 * quicker). */
#define TCP_SB_INLINE 16 /* entries in the connection */
#define TCP_SB_BIG 256 /* entries of a table from the stack's pool (tcp->sb_pool) */
enum tcp_sb_flag {
	TCP_SB_SACKED = 1u << 0,
	TCP_SB_LOST = 1u << 1,
	TCP_SB_RETRANS = 1u << 2,
};
/* F-RTO's steps after a timeout (RFC 5682 3.1). */
enum tcp_frto {
	TCP_FRTO_OFF,
	TCP_FRTO_FIRST_ACK, /* step 2: the timeout's resend is out, no ACK yet */
	TCP_FRTO_NEW_SENT, /* step 3: new data sent in place of resends */
};
struct tcp_sb_ent {
	uint32_t left, right;
	uint32_t xmit_us; /* the executor's clock in us, wrapping */
	/* The order of sending within the connection: the clock is read once
	 * per loop pass, so a retransmission and new data often share xmit_us
	 * and only this says which went first (RACK's "sent after"). */
	uint32_t xmit_ord;
	uint8_t flags; /* enum tcp_sb_flag */
};

/* A congestion control algorithm (tcp_cc.c): growth in congestion avoidance
 * and the reaction to a loss. Slow start and recovery are common. */
struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_conn *c);
	/* acked bytes newly acknowledged while cwnd >= ssthresh and cwnd-limited */
	void (*cong_avoid)(struct tcp_conn *c, uint32_t acked);
	/* a loss (fast recovery or RTO): the new ssthresh */
	uint32_t (*ssthresh)(struct tcp_conn *c);
	/* the loss proved spurious; cwnd and ssthresh are restored by the caller */
	void (*undo)(struct tcp_conn *c);
};
const struct tcp_cc_ops *tcp_cc_ops(enum tcp_cc cc);

/* HyStart++ (RFC 9406, tcp_cc.c): the first slow start, for any algorithm,
 * ends when a round's lowest RTT has risen (the path's queue fills), through
 * a conservative slow start (CSS) that backs out if the rise was noise. */
enum tcp_hs_state {
	TCP_HS_OFF, /* not in the first slow start (or switched off) */
	TCP_HS_SS, /* slow start, watching the RTT */
	TCP_HS_CSS, /* conservative slow start: growth / 4 */
};
struct tcp_hystart {
	uint32_t window_end; /* the round ends when an ACK reaches this */
	uint32_t last_min_us, cur_min_us; /* the last round's lowest RTT, this one's */
	uint32_t css_base_us; /* the round minimum that started CSS */
	uint8_t state; /* enum tcp_hs_state */
	uint8_t samples; /* RTT samples this round */
	uint8_t css_rounds; /* rounds ended in CSS */
	bool started; /* the first round has begun */
};
void tcp_hystart_init(struct tcp_conn *c);
/* An ACK that moves SND.UNA to ack, after its RTT sample: a round ends when
 * the data outstanding at its start is ACKed. */
void tcp_hystart_ack(struct tcp_conn *c, uint32_t ack);
/* An RTT sample (tcp_rtt_sample). */
void tcp_hystart_rtt(struct tcp_conn *c, uint32_t rtt_us);

struct tcp_conn {
	struct tcp_conn *hnext; /* flow table chain, or free list */
	struct tcp_stack *tcp;
	struct tcp_listener *listener; /* passive opens, until accepted */
	struct tcp_link link; /* listener syn/ready list, or TIME_WAIT list */
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint8_t state; /* enum tcp_state */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t dupacks;
	uint8_t backoff; /* RTO doublings since the last new ACK */
	uint8_t probes; /* unanswered window or keepalive probes */
	uint8_t frto; /* enum tcp_frto (below, frto_high) */
	bool orig_delivered; /* F-RTO: the ACK being processed (s)acked such data */
	uint32_t flags; /* enum tcp_conn_flag */
	int32_t error;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_end;
	uint32_t snd_wnd, snd_wl1, snd_wl2, max_wnd;
	uint32_t cwnd, ssthresh, recover;
	/* loss recovery as a SACK sender (tcp_recovery.c) */
	struct tcp_sb_ent sb_inline[TCP_SB_INLINE];
	uint32_t tsq_prev; /* tcp->tsq_head's list while TSQ is set (tcp_conn_ref) */
	struct tcp_sb_ent *sb_big; /* NULL: the table is sb_inline */
	uint16_t sb_n;
	uint8_t reo_wnd_mult; /* RACK's reordering window, in min_rtt/4 (RFC 8985 6.2) */
	uint8_t reo_wnd_persist; /* recoveries left before reo_wnd_mult resets */
	uint8_t tlp_sent; /* tail loss probes since SND.UNA last moved (TCP_TLP_MAX) */
	uint32_t sb_sacked, sb_lost; /* bytes of the entries so marked */
	uint32_t rack_xmit_ord, rack_end, rack_rtt_us, rack_fack; /* RACK's state */
	uint32_t sb_ord; /* xmit_ord of the latest send */
	uint32_t rack_fack_prior; /* rack_fack before the ACK being processed */
	uint32_t rack_dsack_round; /* one reo_wnd_mult step per round trip */
	uint32_t min_rtt_us;
	uint32_t prr_delivered, prr_out, recover_fs; /* PRR (RFC 6937) */
	uint32_t prior_cwnd, prior_ssthresh; /* what an undo restores */
	/* the episode's start, its retransmitted bytes not yet D-SACKed, and
	 * the highest of them: only a D-SACK in undo_marker..undo_high counts */
	uint32_t undo_marker, undo_retrans, undo_high;
	uint32_t rto_tsval; /* our TSval when the RTO fired (Eifel, RFC 3522) */
	/* F-RTO (RFC 5682 3): SND.MAX when the RTO fired; data below it that
	 * was never sent again and now reaches the peer proves the originals
	 * were not lost */
	uint32_t frto_high; /* (its step and flag fill a gap above) */
	/* Eifel detection in fast recovery (RFC 3522): TSval and sequence of
	 * the episode's first retransmission (rec_tsval 0: none to check) */
	uint32_t rec_tsval, rec_seq;
	struct tcp_hystart hs;
	/* st->tx_epoch + 1 of the tx path's refusal in which this connection
	 * sent its one ACK (tcp_send_ack); 0: none yet. (Fills a gap.) */
	uint32_t ack_epoch;
	const struct tcp_cc_ops *cc_ops;
	struct { /* CUBIC's state, in segments and seconds (RFC 9438 4) */
		double w_max, k, origin, w_est;
		uint64_t epoch_ns; /* 0: no epoch yet */
	} cc;
	uint32_t cwnd_acc; /* bytes acked toward the next congestion-avoidance step */
	uint32_t snd_buf, rcv_buf; /* this connection's, autotuned (tcp_config) */
	uint32_t drs_seq; /* RCV.NXT when the receiver's current RTT began */
	uint32_t drs_us; /* ... and when: tcp_now_ns in microseconds, 32 bits
			  * (wrapping after 71 minutes; it times a round trip);
			  * 0: not measuring yet */
	uint32_t rcv_rtt_us; /* the receiver's RTT (tcp_rcv_rtt_measure); 0: none */
	uint32_t rcv_rtt_tsecr; /* the TSecr of its last sample */
	uint16_t mss; /* payload bytes per segment we send (options excluded) */
	uint16_t rcv_mss; /* largest segment seen from the peer (delayed ACK) */
	uint32_t sndq_bytes, sndq_segs;
	uint32_t snd_cur_seq; /* (fields ordered to leave no padding) */
	uint32_t tsq_next; /* (tsq_prev's other half, in a gap) */
	struct rte_mbuf *sndq_head, *sndq_tail;
	struct rte_mbuf *snd_cur; /* cursor: the segment holding snd_cur_seq */

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv, last_ack_sent, ooo_fin_seq;
	uint32_t rcvq_bytes;
	uint32_t rcvq_segs, ooo_segs; /* mbufs (each charged to stats.mbufs_held) */
	struct rte_mbuf *rcvq_head, *rcvq_tail;
	struct rte_mbuf *ooo_head; /* sorted by sequence */
	struct rte_mbuf *ooo_tail; /* its last element: appends are O(1) */
	struct tcp_link ooo_link; /* on tcp->ooo_conns while ooo_head != NULL */
	struct tcp_link ack_link; /* on tcp->ack_conns while ACK_BURST is set */
	/* SACK blocks to report (RFC 2018 4): the out-of-order data, the block
	 * of the latest arrival first, then the ones reported before it. */
	struct tcp_sack_block {
		uint32_t left, right;
	} sack[TCP_SACK_MAX], dsack;
	uint8_t nsack;
	bool rx_waiting, tx_waiting; /* the application's (below) */

	/* timestamps, RTT */
	uint32_t ts_recent, ts_offset;
	uint32_t user_timeout_ms;
	uint64_t ts_recent_ns; /* when ts_recent was last updated (24-day rule) */
	uint64_t last_oow_ack_ns; /* the last ACK sent for an invalid segment */
	uint32_t srtt_us, rttvar_us, rto_us;
	uint32_t rtt_seq;
	uint64_t rtt_start_ns;
	uint64_t rtx_since_ns; /* oldest unacknowledged data sent (user timeout) */
	uint64_t last_rcv_ns; /* keepalive idle clock */
	uint64_t last_snd_ns; /* the last new data sent (restart after idle) */

	/* one timer; the earliest of the deadlines below (STYLE: one deadline) */
	struct ex_timer timer;
	uint64_t rtx_deadline, delack_deadline, keep_deadline, reo_deadline;

	/* the application */
	struct ex_waker rx_waker, tx_waker;
};

/* Out-of-order segments held per connection: enough for a full receive
 * window of segments of 1 KiB or more (smaller ones are not worth holding). */
static inline uint32_t
tcp_ooo_max(const struct tcp_conn *c)
{
	return RTE_MAX(64u, c->rcv_buf / 1024);
}

/* ---- tcp_mem.c: the mbuf budget ---- */
/* Every mbuf linked into or out of a queue of c passes through one of these,
 * so stats.mbufs_held is the sum of every connection's *_segs. */
static inline uint32_t
tcp_conn_held(const struct tcp_conn *c)
{
	return c->rcvq_segs + c->ooo_segs + c->sndq_segs;
}
static inline void
tcp_held(struct tcp_conn *c, uint32_t *segs, int32_t n)
{
	bool had = tcp_conn_held(c) != 0;

	*segs = (uint32_t)((int32_t)*segs + n);
	c->tcp->stats.mbufs_held = (uint64_t)((int64_t)c->tcp->stats.mbufs_held + n);
	if (had != (tcp_conn_held(c) != 0))
		c->tcp->conns_holding += had ? -1 : 1;
}
void tcp_mem_init(struct tcp_stack *tcp);
/* Should data for c be refused for lack of mbufs? Over budget or with the
 * pool below its reserve, out-of-order queues are pruned first; then true if
 * the pool is still low, or the stack still over budget and c holds at
 * least its fair share (the budget over the connections holding mbufs). */
bool tcp_mem_short(struct tcp_conn *c);
/* Should a writer to c wait? c has data queued, the stack is over budget
 * and c holds its share: what
 * applications queue to send is bounded by the budget too, not only by
 * snd_buf (autotuned, it may be MiBs). */
bool tcp_mem_send_blocked(const struct tcp_conn *c);
/* May buffers grow (autotuning)? Under half the budget, pool not low. */
bool tcp_mem_room_to_grow(const struct tcp_stack *tcp);
/* Keep c on tcp->ooo_conns exactly while it has out-of-order data. */
void tcp_ooo_listed(struct tcp_conn *c);
/* Free c's out-of-order queue from its highest sequence down while more than
 * keep elements remain; @return mbufs freed. */
uint32_t tcp_ooo_prune(struct tcp_conn *c, uint32_t keep);

/* ---- tcp_rcvq.c: the receive side's queues ---- */
/* The chain at m as a list of single-segment mbufs, empty ones freed. */
struct rte_mbuf *tcp_payload_list(struct rte_mbuf *m);
/* Remove d bytes from the front of a list; @return what is left. */
struct rte_mbuf *tcp_list_trim_front(struct rte_mbuf *m, uint32_t d);
/* Keep only the first keep bytes of a list; @return it (NULL if none). */
struct rte_mbuf *tcp_list_keep(struct rte_mbuf *m, uint32_t keep);
/* Append in-order payload to the receive queue, packing small segments. */
void tcp_rcvq_append(struct tcp_conn *c, struct rte_mbuf *m);
/* Would data (in order) pack whole into the receive queue's tail? */
bool tcp_rcvq_packs(const struct tcp_conn *c, const struct rte_mbuf *data);
/* Queue payload at seq out of order. */
void tcp_ooo_insert(struct tcp_conn *c, struct rte_mbuf *m, uint32_t seq);
/* Move what became in order to the receive queue (RCV.NXT advances). */
void tcp_ooo_pull(struct tcp_conn *c);
/* SACK (tcp_rcvq.c): blocks kept to what is queued; a duplicate to report. */
void tcp_sack_clip(struct tcp_conn *c);
void tcp_dsack_note(struct tcp_conn *c, uint32_t left, uint32_t right);

/* ---- tcp_recovery.c: the sender's scoreboard, RACK, PRR, undo ---- */
static inline struct tcp_sb_ent *
tcp_sb(struct tcp_conn *c)
{
	return c->sb_big != NULL ? c->sb_big : c->sb_inline;
}
static inline const struct tcp_sb_ent *
tcp_sb_const(const struct tcp_conn *c)
{
	return c->sb_big != NULL ? c->sb_big : c->sb_inline;
}
static inline uint32_t
tcp_sb_cap(const struct tcp_conn *c)
{
	return c->sb_big != NULL ? TCP_SB_BIG : TCP_SB_INLINE;
}
/* Bytes in flight (RFC 6675's pipe): sent, not acknowledged, not SACKed and
 * not deemed lost (a lost range sent again counts again). */
static inline uint32_t
tcp_pipe(const struct tcp_conn *c)
{
	return c->snd_max - c->snd_una - c->sb_sacked - c->sb_lost;
}
/* seq..seq+len (FIN included) went out now; below the scoreboard's end it is
 * a retransmission. */
void tcp_sb_sent(struct tcp_conn *c, uint32_t seq, uint32_t len);
/* SND.UNA moved to ack: forget what is below it (RACK learns from it). */
void tcp_sb_ack(struct tcp_conn *c, uint32_t ack);
/* Every range not SACKed is lost (an RTO; clear_sacks: the peer reneged). */
void tcp_sb_mark_lost_all(struct tcp_conn *c, bool clear_sacks);
/* The first range deemed lost: @return false if none. */
bool tcp_sb_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len);
/* Forget the scoreboard (the connection is reused). */
void tcp_sb_reset(struct tcp_conn *c);
/* Before an ACK of a SACK connection is taken: Eifel detection in fast
 * recovery as Linux applies it (tcp_packet_delayed): an ACK that moves
 * SND.UNA and echoes a TSval older than the episode's first retransmission
 * was caused by a segment sent before it - the hole was late, not lost -
 * and the episode is undone (RFC 3522, RFC 4015's response); a partial ACK
 * only once no retransmission is still out. */
void tcp_recovery_eifel(struct tcp_conn *c, const struct tcp_seg *seg);
/* An ACK of a SACK connection, after its cumulative part: take its blocks
 * (RFC 2018, D-SACK RFC 2883), detect losses (RACK, RFC 8985), enter or run
 * fast recovery (RFC 6675 with PRR, RFC 6937), undo what D-SACKs prove
 * spurious. prior_una: SND.UNA before the ACK; @return the bytes the ACK
 * found delivered (newly ACKed or SACKed, RFC 6937's DeliveredData). */
uint32_t tcp_recovery_ack(struct tcp_conn *c, const struct tcp_seg *seg, uint32_t prior_una,
		uint32_t prior_sacked);
/* The SACK blocks of an ACK into the scoreboard; @return bytes newly SACKed. */
uint32_t tcp_sb_sack_input(struct tcp_conn *c, const struct tcp_seg *seg);
/* RACK's reordering timer fired. */
void tcp_rack_timeout(struct tcp_conn *c);
/* The RTO fired: every range not SACKed is lost, cwnd one segment. */
void tcp_recovery_rto(struct tcp_conn *c);
/* The first ACK of new data after an RTO (Eifel, RFC 3522): was the RTO
 * spurious? If so, undo it. */
void tcp_recovery_rto_ack(struct tcp_conn *c, const struct tcp_seg *seg);
/* At the end of an ACK's processing (its window taken), F-RTO's steps 2 and 3
 * (RFC 5682 3.1): after the timeout's resend is ACKed, new data goes out in
 * place of more resends; an ACK that then shows the originals arrived (data
 * never sent again ACKed, or with SACK also SACKed) undoes the timeout, one
 * that shows a hole (a duplicate ACK, the new data SACKed) goes on as after
 * any RTO. prior_una: SND.UNA before the ACK; dup: a duplicate ACK;
 * sacked: bytes it newly SACKed. */
void tcp_recovery_frto(struct tcp_conn *c, uint32_t prior_una, bool dup, uint32_t sacked);

/* ---- tcp_conn.c ---- */
struct tcp_conn *tcp_conn_alloc(struct tcp_stack *tcp);
void tcp_conn_insert(struct tcp_stack *tcp, struct tcp_conn *c);
struct tcp_conn *tcp_conn_lookup(const struct tcp_stack *tcp, uint32_t lip, uint16_t lport,
		uint32_t rip, uint16_t rport);
struct tcp_listener *tcp_listener_lookup(const struct tcp_stack *tcp, uint32_t ip, uint16_t port);
/**
 * A cluster's instance (tcp_stack_cluster), before segment seg (frame m,
 * its IPv4 header at l3_off, for connection c or NULL) goes the usual way:
 * a connection's first segment through a peer is counted; one of no
 * connection here is handed to the instance its TSecr names (without
 * timestamps, to a VIP a listener has: to every other, bounded per second),
 * or, handed to us by a peer, dropped (no RST: its owner is elsewhere, or
 * gone). @return whether m was taken.
 */
bool tcp_cluster_input(struct tcp_stack *tcp, struct tcp_conn *c, struct rte_mbuf *m,
		uint16_t l3_off, const struct tcp_seg *seg, uint32_t lip, uint32_t rip);
/** Whether seg is the ACK of a SYN cookie that listener l sent and that is
 * still fresh (a connection tcp_listen_input will make of it). */
bool tcp_syncookie_ours(struct tcp_stack *tcp, const struct tcp_listener *l,
		const struct tcp_seg *seg, uint32_t lip, uint32_t rip);
/* Every state change passes here: it traces, moves lists and wakes waiters. */
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* Fail the connection with err (0 for a clean end): CLOSED, queues freed,
 * waiters woken; freed at once unless the application holds it. */
void tcp_conn_terminate(struct tcp_conn *c, int err);
/* Return a connection the application no longer holds to the free list. */
void tcp_conn_release(struct tcp_conn *c);
void tcp_conn_setup(struct tcp_conn *c, struct tcp_stack *tcp, uint32_t lip, uint16_t lport,
		uint32_t rip, uint16_t rport);
void tcp_wake_rx(struct tcp_conn *c);
void tcp_wake_tx(struct tcp_conn *c);
void tcp_mbuf_list_free(struct rte_mbuf *m);
static inline void
tcp_link_init(struct tcp_link *l)
{
	l->prev = l->next = l;
}
static inline bool
tcp_link_empty(const struct tcp_link *l)
{
	return l->next == l;
}
void tcp_link_append(struct tcp_link *head, struct tcp_link *l);
void tcp_link_remove(struct tcp_link *l);

struct tcp_conn *tcp_listener_take(struct tcp_listener *l);
/* RFC 6056 algorithm 1 (random start, then the next free one), among the
 * ports whose replies RSS brings back to this lcore's queue. */
int tcp_pick_port(struct tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t *out);

/* ---- tcp_output.c ---- */
/* Send one segment: sequence seq, len bytes from the send queue at seq. */
int tcp_xmit(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags);
/* Receive-buffer autotuning after in-order data (tcp_output.c). */
void tcp_rcv_autotune(struct tcp_conn *c);
/** A data segment was accepted: the receiver's RTT from the timestamp it
 * echoes, if it is the first full-sized one to echo that TSval. */
void tcp_rcv_rtt_measure(struct tcp_conn *c, const struct tcp_seg *seg);
/* Send what the windows allow; FIN when due. */
void tcp_output(struct tcp_conn *c);
/* The same, the first segment exempt from the sender's SWS rule (persist). */
void tcp_output_sws_override(struct tcp_conn *c);
/* An ACK owed for in-order data, sent when the rx burst ends (or carried by
 * a segment before then): one ACK for all a burst brought (stretch ACKs, as
 * GRO gives Linux). */
void tcp_ack_at_burst_end(struct tcp_conn *c);
/* c goes (recycled or closed): off tcp->ack_conns. */
void tcp_ack_unlist(struct tcp_conn *c);
/* c goes: off tcp->tsq_conns (it no longer waits for room to send). */
void tcp_tsq_unlist(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c);
/* A RST for a connection: seq snd_nxt. */
void tcp_send_rst(struct tcp_conn *c);
/* A RST answering a segment that has no connection (RFC 9293 3.10.7.1). */
void tcp_reset_reply(struct tcp_stack *tcp, uint32_t lip, uint32_t rip, const struct tcp_seg *seg);
/* The window we would advertise now, and update rcv_adv (never shrinks). */
uint16_t tcp_rcv_window(struct tcp_conn *c);
/* After the application read: a window update when the window grew enough. */
void tcp_maybe_window_update(struct tcp_conn *c);

/* ---- tcp_timer.c ---- */
uint64_t tcp_now_ns(const struct tcp_conn *c);
uint32_t tcp_ts_now(const struct tcp_conn *c);
/* Re-arm the one timer for the earliest deadline. */
void tcp_timer_update(struct tcp_conn *c);
void tcp_rtx_arm(struct tcp_conn *c);
/* New data went out: move a tail loss probe to PTO after it (RFC 8985 7.2). */
void tcp_tlp_rearm(struct tcp_conn *c);
void tcp_rtx_stop(struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_conn *c, uint32_t rtt_us);
void tcp_delack_arm(struct tcp_conn *c);
void tcp_keep_arm(struct tcp_conn *c, uint64_t after_ms);
void tcp_timer_fire(struct ex_timer *t);

/* ---- the IPv4 layer's hand-offs (stack_l4_ops, registered by
 * tcp_stack_init; adapters in tcp_conn.c) ---- */
/* A segment for us (stack_l4_ops.input). */
void tcp_input(struct tcp_stack *tcp, struct rte_mbuf *m, uint16_t l3_off, uint16_t ihl,
		uint16_t ip_len);
/* An ICMP destination unreachable about a segment of ours. */
void tcp_icmp_error(struct tcp_stack *tcp, const void *inner_ip, uint16_t inner_len, int err);

/**
 * An ICMP "fragmentation needed" (type 3 code 4) quoting inner_ip: path MTU
 * discovery (RFC 1191). The connection's MSS is lowered to fit mtu (0: from
 * the quoted datagram's length, RFC 1191 7), never below TCP_PMTU_MIN, if the
 * quoted sequence number is one in flight (RFC 5927 5.1); what is in flight
 * is sent again in the smaller segments.
 */
void tcp_icmp_frag_needed(
		struct tcp_stack *tcp, const void *inner_ip, uint16_t inner_len, uint16_t mtu);

/* The rx burst is over: send the ACKs held for it (stretch ACKs). */
void tcp_rx_burst_end(struct tcp_stack *tcp);
/* A frame that ARP could not deliver (Ethernet header first). */
void tcp_tx_failed(struct tcp_stack *tcp, const struct rte_mbuf *m, int err);
/* The tx path has room again (stack_tx_resume): the connections that stopped
 * for it send, oldest first, while it lasts. */
void tcp_tsq_resume(struct tcp_stack *tcp);

/* ---- tcp_input.c ---- */
/* Free acknowledged bytes from the send queue. */
void tcp_sndq_ack(struct tcp_conn *c, uint32_t bytes);
/* The options of the peer's SYN (MSS, window scale, timestamps) into c. */
void tcp_syn_options(struct tcp_conn *c, const struct tcp_seg *seg);
/* A segment for connection c (any state but LISTEN); data is its payload. */
void tcp_conn_input(struct tcp_conn *c, struct rte_mbuf *data, struct tcp_seg *seg, uint32_t lip,
		uint32_t rip);

/* ---- tcp_listen.c ---- */
/* A segment for listener l with no connection; iss_floor: a TIME_WAIT tuple
 * is being reused, start above it (0: no). */
void tcp_listen_input(struct tcp_stack *tcp, struct tcp_listener *l, struct rte_mbuf *data,
		const struct tcp_seg *seg, uint32_t lip, uint32_t rip, uint32_t iss_floor);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_TCP_PRIV_H */
