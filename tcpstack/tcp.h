/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp.h - TCP (RFC 9293) on a stack instance, with async zero-copy sockets.
 *
 * What it does: the eleven states, passive/active/simultaneous open and
 * close, half-close, RST rules with RFC 5961's challenge ACKs, TIME_WAIT
 * (reused by a newer SYN, recycled oldest-first when the connection table is
 * full), MSS / window scale / timestamps with PAWS (RFC 7323), RTO per RFC
 * 6298 with Karn's rule, fast retransmit and NewReno recovery without SACK
 * (RFC 5681, 6582), Limited Transmit (RFC 3042),
 * persist probes, an out-of-order queue, delayed ACKs (RFC 1122), sender and
 * receiver silly-window avoidance, Nagle (off by default), keepalive, a user
 * timeout, RFC 6528 ISNs and RFC 6056 ephemeral ports.
 * SYN cookies (RFC 4987) once a listener's SYN list is full.
 * SACK as a receiver (RFC 2018: the most recent block first; D-SACK, RFC 2883).
 * As a sender (tcp_recovery.c): a scoreboard of what was sent, RACK-TLP
 * (RFC 8985: time-based loss detection with a reordering window widened by
 * D-SACKs, sends ordered by a per-connection counter; tail loss probes, also
 * in fast recovery, unlike RFC 8985), RFC 6675 recovery with PRR (RFC 6937),
 * undo of spurious recoveries (D-SACK; Eifel in recovery as Linux applies
 * it) and RTOs (Eifel, RFC 3522, and F-RTO, RFC 5682, SACK-enhanced, also
 * without timestamps); after an RTO only what was not SACKed is resent.
 * cwnd grows by the bytes each ACK delivers, SACKed ones included.
 * Congestion control per stack or connection (tcp_cc.c): CUBIC (RFC 9438,
 * the default) or NewReno, the first slow start ended by HyStart++ (RFC
 * 9406). Send buffers grow to twice the window that can be in flight;
 * receive buffers to four times what the application takes per round
 * trip, on paths of a millisecond or more (rcv_buf_max).
 * Stretch ACKs: the ACK owed every second segment waits for the end of the
 * rx burst (stretch_acks). TSO where the port offers it (tcp_config.tso):
 * new data goes out in segments of up to 64 KiB, whole MSSes, that the PMD
 * cuts (retransmissions stay one MSS). Not (yet): pacing, IP fragments,
 * urgent data (the URG flag is ignored).
 *
 * Zero copy: received payload stays in the mbufs it arrived in (headers
 * trimmed); the send queue holds payload mbufs; a (re)transmission is a
 * header mbuf chained to indirect mbufs attached to the queued payload, or,
 * when the port cannot send chains (no RTE_ETH_TX_OFFLOAD_MULTI_SEGS in the
 * stack's tx_offloads), one mbuf with a copy (counted as tx_copied).
 *
 * Memory is bounded whatever a peer sends: a fixed connection table per
 * stack, a SYN backlog per listener, and the mbufs TCP holds (receive,
 * out-of-order and send queues) counted per queue and per stack against a
 * budget of the pool (tcp_mem.c). Small segments are packed into the mbuf
 * before them (receive, out-of-order, and send when the tail is ours), so a
 * queue's bytes track its mbufs. Over budget, or with the pool's free mbufs
 * below a reserve kept for RX refill, out-of-order queues are pruned from
 * their highest sequence down, and then new data is refused (counted as
 * tcp_memory drops; the peer sends it again).
 *
 * Ownership: the application holds a connection from accept or connect until
 * it calls tcp_close() (graceful; the stack finishes the FIN exchange alone)
 * or tcp_abort() (RST). After either the pointer must not be used.
 *
 * Lcore: a connection belongs to the lcore of its stack; every function here
 * runs on that lcore.
 */
#ifndef RIPTIDE_TCP_H
#define RIPTIDE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ex_future.h"
#include "ex_stream.h"
#include "ex_timer.h"
#include "stack.h"

#ifdef __cplusplus
extern "C" {
#endif

struct dp_port;
struct rte_mbuf;
struct tcp_conn;
struct tcp_stack;

/** RFC 9293 states. */
enum tcp_state {
	TCP_STATE_CLOSED = 0,
	TCP_STATE_LISTEN,
	TCP_STATE_SYN_SENT,
	TCP_STATE_SYN_RECEIVED,
	TCP_STATE_ESTABLISHED,
	TCP_STATE_FIN_WAIT_1,
	TCP_STATE_FIN_WAIT_2,
	TCP_STATE_CLOSE_WAIT,
	TCP_STATE_CLOSING,
	TCP_STATE_LAST_ACK,
	TCP_STATE_TIME_WAIT,
	TCP_STATE_MAX,
};

/** Name of a state ("ESTABLISHED"), for logs and tests. */
const char *tcp_state_name(enum tcp_state s);

/** Congestion control algorithms (tcp_cc.c). */
enum tcp_cc {
	TCP_CC_CUBIC = 0, /**< RFC 9438 (the default, as in Linux) */
	TCP_CC_NEWRENO, /**< RFC 5681 / RFC 6582 */
};

/** Stack-wide TCP configuration; start from tcp_config_defaults(). */
struct tcp_config {
	uint32_t max_conns; /**< connection table size; default 4096 */
	uint32_t rcv_buf; /**< receive buffer bytes per connection; default 256 KiB */
	uint32_t snd_buf; /**< send buffer bytes per connection; default 256 KiB */
	/** Receive-buffer autotuning: a connection's buffer grows from rcv_buf
	 * towards this as the data it receives per round trip shows it needs
	 * (as Linux's DRS), the round trip measured by the receiver from the
	 * timestamps its peer echoes, and only on a path of a millisecond or
	 * more (below it rcv_buf carries 2 Gbit/s at 1 ms, more at less, and a
	 * larger window only let the sender's queue grow: memif bulk fell a
	 * third, docs/performance.md, sixth session). The window scale offered
	 * is the one this needs. Without timestamps, or in a cluster
	 * (tcp_stack_cluster), the receiver has no RTT and the buffer stays at
	 * rcv_buf. Default 4 MiB; 0 or rcv_buf: off. (It was off by default
	 * from the sixth to the seventeenth session, for stalls that were a
	 * send-window bug, ACKs outside a shrunk peer window and an AF_XDP pool
	 * layout, and a test's port clash: docs/performance.md.) */
	uint32_t rcv_buf_max;
	/** The send buffer grows from snd_buf towards this, to twice cwnd;
	 * default 4 MiB; snd_buf: no autotuning */
	uint32_t snd_buf_max;
	uint32_t rto_min_ms; /**< default 200 (Linux's; RFC 6298 says 1000) */
	uint32_t rto_init_ms; /**< default 1000 (RFC 6298 2.1) */
	uint32_t rto_max_ms; /**< default 60000 */
	uint8_t syn_retries; /**< SYN retransmissions (active opens); default 6 */
	/** SYN-ACK retransmissions of a half-open connection; default 5 (Linux's
	 * tcp_synack_retries); 2 while the listener's SYN list is over half full */
	uint8_t synack_retries;
	/** Answer SYNs with a cookie (RFC 4987 3.6) instead of dropping them when
	 * a listener's SYN list is full; default true */
	bool syncookies;
	uint8_t max_retries; /**< data retransmissions before ETIMEDOUT; default 15 */
	/** Retransmissions or window probes (backoffs that zero-window ACKs do
	 * not reset) before a connection the application closed is given up on;
	 * default 8 (Linux's tcp_orphan_retries) */
	uint8_t orphan_retries;
	/** Closed connections still finishing beyond which one whose timer fires
	 * is reset at once (Linux's tcp_max_orphans); default 1024 */
	uint32_t max_orphans;
	uint32_t user_timeout_ms; /**< RFC 9293 user timeout; 0: by max_retries */
	uint32_t time_wait_ms; /**< 2*MSL; default 60000 */
	uint32_t fin_wait2_ms; /**< closed connection in FIN_WAIT_2; default 60000 */
	uint32_t delack_ms; /**< delayed ACK bound (RFC 1122: < 500); default 40 */
	bool nodelay; /**< true (default): Nagle off */
	bool timestamps; /**< offer RFC 7323 timestamps; default true */
	bool window_scaling; /**< offer window scaling; default true */
	bool tlp; /**< tail loss probes (RFC 8985 7) on SACK connections;
		   * default true */
	bool frto; /**< F-RTO (RFC 5682): after a timeout, new data before
		    * more resends, to tell a spurious timeout; default true */
	bool hystart; /**< HyStart++ (RFC 9406): leave the first slow start
		       * when the RTT rises; needs timestamps; default true */
	bool stretch_acks; /**< true (default): the ACK owed every second
			    * segment waits for the end of the rx burst, one for
			    * all it brought (stack_rx_burst_end) */
	bool sack; /**< SACK-permitted (RFC 2018): as a receiver, report
		    * out-of-order blocks and duplicates (D-SACK, RFC 2883);
		    * default true */
	/** TCP segmentation offload when the port negotiated it
	 * (RTE_ETH_TX_OFFLOAD_TCP_TSO in the stack's tx_offloads, with chains
	 * and TCP checksums): new data in segments of up to TCP_TSO_MAX bytes,
	 * a whole number of MSSes, cut by the PMD; default true */
	bool tso;
	enum tcp_cc cc; /**< congestion control of new connections; default CUBIC */
	/** Scoreboard tables of 256 entries (4 KiB) for senders whose window
	 * has more holes than a connection's own 16 entries hold; default 0:
	 * max_conns, at most 1024 */
	uint32_t sb_tables;
	bool keepalive; /**< default false */
	uint32_t keep_idle_ms; /**< default 7200000 */
	uint32_t keep_intvl_ms; /**< default 75000 */
	uint8_t keep_cnt; /**< default 9 */
	uint8_t init_cwnd; /**< segments (RFC 6928); default 10 */
	/** Mbufs TCP may hold in its queues on this stack; default 0: half of
	 * the pool (size it lower when stacks share a pool) */
	uint32_t mbuf_budget;
	/** ACKs answering invalid segments (pure ACKs, SYNs) per second for the
	 * whole stack, besides one per 500 ms per connection (RFC 5961 7); each
	 * second's budget is drawn between half and one and a half times this,
	 * so it cannot be counted down from outside (CVE-2016-5696, as Linux);
	 * default 1000 (Linux's tcp_challenge_ack_limit), 0: no stack limit */
	uint32_t oow_acks_per_sec;
	/** Free mbufs in the pool below which TCP acts as if over budget, so RX
	 * refill, ARP and ACKs always find one; default 0: an eighth of the pool */
	uint32_t rx_reserve;
	/** For active opens with several rx queues: choose local ports whose RSS
	 * hash lands on rss_queue of rss_port (NULL: any port). */
	const struct dp_port *rss_port;
	uint16_t rss_queue;
};

void tcp_config_defaults(struct tcp_config *cfg);

/** Counters of one stack's TCP. */
struct tcp_stats {
	uint64_t segs_in, segs_out;
	uint64_t active_opens, passive_opens, established;
	uint64_t conns_live; /**< in the table, any state */
	uint64_t resets_in, resets_out;
	uint64_t retransmits; /**< segments sent again (any reason) */
	uint64_t fast_retransmits, rto_timeouts, persist_probes, keepalive_probes;
	uint64_t dupacks_in, ooo_segments, challenge_acks, paws_rejected;
	/** ACKs not sent for invalid segments: one per 500 ms per connection
	 * (RFC 5961 7; breaks ACK loops, no 1:1 reflection) */
	uint64_t oow_acks_limited;
	uint64_t oow_acks_stack_limited; /**< of those, for the stack's budget per second */
	uint64_t syn_backlog_full, conn_table_full;
	uint64_t syncookies_sent; /**< SYN-ACKs with a cookie (the SYN list was full) */
	uint64_t syncookies_ok; /**< connections made from a cookie that came back */
	uint64_t syncookies_failed; /**< ACKs to a listener whose cookie was wrong or stale */
	uint64_t tw_reused, tw_recycled;
	uint64_t timeouts; /**< connections closed with ETIMEDOUT */
	uint64_t tx_copied; /**< segments copied because the port cannot send chains */
	/** segments of any kind (data, ACK, SYN, RST, probe) not sent for lack of
	 * mbufs; data and FIN are retried by the timer */
	uint64_t tx_nombuf;
	uint64_t sws_overrides; /**< held-back small segments sent by the persist timer */
	uint64_t orphans; /**< closed by the application, still finishing (a gauge) */
	uint64_t cwnd_restarts; /**< cwnd back to the initial window after an idle RTO */
	uint64_t pmtu_lowered; /**< MSS lowered by ICMP fragmentation needed */
	uint64_t pmtu_ignored; /**< fragmentation needed quoting nothing in flight */
	uint64_t orphans_reset; /**< orphans given up on: retries spent or too many orphans */
	uint64_t rcv_packed; /**< small received segments packed into the previous mbuf */
	uint64_t snd_packed; /**< small mbufs given to send copied into the queue's tail */
	uint64_t mbufs_held; /**< mbufs in TCP's queues now (a gauge) */
	uint64_t mem_pressure; /**< times the budget or the reserve was hit */
	uint64_t ooo_pruned; /**< out-of-order mbufs freed to relieve pressure */
	uint64_t bytes_in, bytes_out; /**< payload delivered in order / acknowledged */
	uint64_t tlp_probes; /**< tail loss probes sent (RFC 8985 7) */
	uint64_t tlp_recoveries; /**< fast recoveries started by a probe's SACK */
	uint64_t rack_lost; /**< ranges RACK deemed lost (RFC 8985 6.2) */
	uint64_t rack_timeouts; /**< RACK reordering timers that fired */
	uint64_t dsacks_in; /**< D-SACK blocks received (RFC 2883) */
	uint64_t undos; /**< recoveries or RTOs undone as spurious (D-SACK, Eifel) */
	uint64_t spurious_rtos; /**< of those, RTOs (Eifel detection, RFC 3522, or F-RTO) */
	uint64_t spurious_recoveries; /**< ... fast recoveries by Eifel detection */
	uint64_t frto_new_sent; /**< timeouts whose resend F-RTO followed with new data */
	uint64_t frto_undos; /**< spurious RTOs that F-RTO found (RFC 5682) */
	/** HyStart++ (RFC 9406): first slow starts left for CSS as the RTT
	 * rose, CSS left for slow start again (the rise was noise), and CSS
	 * ended in congestion avoidance */
	uint64_t hystart_exits, hystart_spurious, hystart_css_done;
	uint64_t sb_grown; /**< scoreboards moved to a big table */
	uint64_t sb_pool_empty; /**< ... that found none free (ranges merged instead) */
	uint64_t rcv_buf_grown, snd_buf_grown; /**< autotuning steps */
	uint64_t sack_acks_out; /**< ACKs sent with SACK blocks */
	uint64_t dsacks_out; /**< of those, reporting a duplicate first (D-SACK) */
	uint64_t burst_acks; /**< ACKs held to the end of an rx burst (stretch ACKs) */
	/** Times a connection stopped sending because the tx path was full
	 * (small queues, stack_set_tx_room), and how often it went on after */
	uint64_t tsq_throttled, tsq_resumed;
	/** ACKs held back while the tx path refused: a connection's second
	 * and later in one refusal, sent as one when room came back */
	uint64_t acks_deferred;
	/** Segments larger than the MSS handed to the PMD to cut (TSO), and the
	 * MSS-sized segments they make on the wire */
	uint64_t tso_out, tso_wire_segs;
	/** A cluster's instances (tcp_stack_cluster): segments of connections
	 * another instance owns handed to it; segments a peer handed us for a
	 * connection we do not have (dropped, never reset), or that we could
	 * not hand on; our connections that received a segment through a peer
	 * (the router moved them); segments without timestamps, so without an
	 * owner, copied to every other instance */
	uint64_t strays_forwarded, strays_dropped, flows_moved_in, strays_flooded;
};

struct tcp_link {
	struct tcp_link *prev, *next;
};

/** A listening socket; lives in the caller's memory until tcp_listener_close(). */
struct tcp_listener {
	struct tcp_stack *tcp;
	struct tcp_listener *next; /* port bucket chain */
	uint32_t ip; /**< host order; 0: any of ours */
	uint16_t port;
	uint16_t backlog;
	uint16_t nsyn; /**< connections in SYN_RECEIVED */
	uint16_t nready; /**< established, waiting for accept */
	struct tcp_link syn; /**< SYN_RECEIVED children */
	struct tcp_link ready; /**< accept queue, oldest first */
	bool open;
	bool waiting;
	struct ex_waker waker;
	uint64_t accepted, dropped;
	uint64_t cookie_until_ns; /**< ACKs may carry a cookie until then */
};

#define TCP_LISTEN_BUCKETS 64 /* power of two */

/** TCP state of one stack instance: connection table and listeners. */
struct tcp_stack {
	struct ip_iface *st;
	struct tcp_config cfg;
	struct tcp_stats stats;
	struct tcp_conn *conns; /**< cfg.max_conns entries */
	struct rte_mempool *sb_pool; /**< big scoreboard tables (tcp_recovery.c) */
	struct tcp_conn *free_list;
	struct tcp_conn **table; /**< flow table buckets */
	uint32_t table_mask;
	uint64_t hash_seed;
	struct tcp_link time_wait; /**< TIME_WAIT connections, oldest first */
	struct tcp_link ooo_conns; /**< connections with out-of-order data (pruning) */
	struct tcp_link ack_conns; /**< connections owed an ACK at the end of the rx burst */
	/** Connections waiting for room in the tx path, oldest first: indices
	 * into conns plus one (0: none), so that a connection spends 8 bytes
	 * on it, in gaps its fields left */
	uint32_t tsq_head, tsq_tail;
	uint32_t mbuf_budget, rx_reserve; /**< resolved from cfg and the pool */
	uint32_t pool_check; /**< charges until the pool's free count is read again */
	bool pool_low; /**< the pool was below rx_reserve when last read */
	uint32_t conns_holding; /**< connections with an mbuf in a queue (fair share) */
	uint64_t oow_second_ns; /**< when this second's budget of oow ACKs was drawn */
	uint32_t oow_budget; /**< oow ACKs left this second */
	struct tcp_listener *listeners[TCP_LISTEN_BUCKETS];
	uint8_t isn_key[16]; /**< RFC 6528's secret (getrandom) */
	uint8_t port_key[16]; /**< RFC 6056's secret for ephemeral ports */
	uint16_t port_next[64]; /**< RFC 6056 algorithm 4's table of counters */
	bool tx_chains; /**< the port sends multi-segment mbufs */
	uint32_t tso_max; /**< largest payload of a TSO segment; 0: no TSO */
	uint8_t ts_tag; /**< tcp_stack_cluster's id, in every TSval's low bits; 0: none */
	uint8_t cluster_n; /**< the cluster's instances (ids 1..cluster_n) */
	uint32_t flood_left; /**< copies to every instance left this second */
	uint64_t flood_next_ns; /**< when the next second's budget comes */
	const struct tcp_cluster_ops *cluster;
	void *cluster_ctx;
	/** The lcore that made it (tcp_stack_init): the only one that may touch
	 * its connections (one stack per lcore, shared nothing). Debug builds
	 * abort on a call from another; in every build for one layout. */
	unsigned int owner_lcore;
};

/**
 * Give stack st a TCP layer (allocates the connection table on st's
 * socket). @return 0, -EINVAL (bad config), -ENOMEM.
 */
int tcp_stack_init(struct tcp_stack *tcp, struct ip_iface *st, const struct tcp_config *cfg);

/**
 * Instances of one service (a VIP) behind a router that spreads flows over
 * them by a hash (ECMP): when the router's set of instances changes, some
 * flows arrive at an instance that does not have them. Each instance has an
 * id (1..TCP_CLUSTER_MAX) that its connections carry in the low
 * TCP_TS_TAG_BITS bits of every TSval, so a peer's TSecr names the
 * connection's owner (as Cheetah's cookies do; the TSval clock then ticks
 * every 8 ms, RFC 7323 allows up to 1 s). A segment without SYN that matches
 * no connection here is, when its TSecr names another instance, handed to
 * it (ops->forward); when it came from a peer (ops->from_peer: the peer
 * forwarded it), it is dropped without a RST. One without timestamps (a
 * client with them off) names no owner: when it is to a service address
 * (stack_vip_add) and port a listener here has, and it is not the ACK of
 * one of our SYN cookies, every other instance
 * gets a copy (the one with the connection takes it, the others drop
 * theirs), at most TCP_CLUSTER_FLOOD_PER_S segments a second, the rest
 * dropped. Everything else is as without a cluster.
 */
#define TCP_TS_TAG_BITS 3
#define TCP_CLUSTER_MAX ((1u << TCP_TS_TAG_BITS) - 1)
#define TCP_CLUSTER_FLOOD_PER_S 20000u
struct tcp_cluster_ops {
	/** Send frame m (its IPv4 header at l3_off) to instance owner; m is
	 * taken. @return 0, or a negative errno (m freed). */
	int (*forward)(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint8_t owner);
	/** Whether frame m came from another instance (a segment it forwarded). */
	bool (*from_peer)(void *ctx, const struct rte_mbuf *m);
};

/**
 * Make tcp instance id (1..n) of a cluster of n (2..TCP_CLUSTER_MAX)
 * instances; before any connection. id 0 (ops NULL) leaves the cluster.
 * @return 0, -EINVAL.
 */
int tcp_stack_cluster(struct tcp_stack *tcp, uint8_t id, uint8_t n,
		const struct tcp_cluster_ops *ops, void *ctx);

/** Abort every connection (no RST is sent) and free the table. */
void tcp_stack_fini(struct tcp_stack *tcp);

/** Connections in use (any state, held by the stack or the application). */
uint32_t tcp_conns_in_use(const struct tcp_stack *tcp);

/** Connections in use per state: by_state[TCP_STATE_MAX] is filled. */
void tcp_conns_by_state(const struct tcp_stack *tcp, uint32_t by_state[TCP_STATE_MAX]);

/**
 * Listen on (ip, port); ip 0: any of the stack's addresses. backlog bounds
 * the SYN_RECEIVED and not-yet-accepted connections together (1..65535).
 * @return 0, -EADDRINUSE, -EINVAL.
 */
int tcp_listen(struct tcp_listener *l, struct tcp_stack *tcp, uint32_t ip, uint16_t port,
		uint16_t backlog);

/** Stop listening: children not yet accepted are reset; a pending accept gets -EBADF. */
void tcp_listener_close(struct tcp_listener *l);

/** The accept future: result 0 with conn set (now the caller's), or -EBADF.
 * One task accepts on a listener at a time: the listener keeps one waker, so
 * a second pending accept would take the first one's wake-up (several
 * acceptors: one accept loop handing connections out over a channel). */
struct tcp_accept {
	struct ex_future base;
	struct tcp_listener *l;
	struct tcp_conn *conn;
};
void tcp_accept_init(struct tcp_accept *a, struct tcp_listener *l);

enum tcp_connect_state {
	TCP_CONNECT_STATE_START = 0,
	TCP_CONNECT_STATE_WAIT,
	TCP_CONNECT_STATE_DONE,
};

/**
 * The connect future (active open): result 0 with conn set (the caller's),
 * or -ECONNREFUSED (RST), -ETIMEDOUT (no answer after syn_retries),
 * -EHOSTUNREACH (no ARP answer, or ICMP unreachable), -EADDRNOTAVAIL (no
 * free local port), -ENOBUFS (connection table full). Dropping it while
 * pending abandons the attempt.
 */
struct tcp_connect {
	struct ex_future base;
	struct tcp_stack *tcp;
	uint32_t ip;
	uint16_t port;
	enum tcp_connect_state state;
	struct tcp_conn *conn;
};
void tcp_connect_init(struct tcp_connect *c, struct tcp_stack *tcp, uint32_t ip, uint16_t port);

/**
 * The recv future: ready with the next in-order payload as an mbuf chain
 * (whole received segments, at most max bytes unless the first one alone
 * is larger; max 0: all that is queued). result: bytes (> 0), 0 at end of
 * stream (the peer's FIN), or -ECONNRESET, -ETIMEDOUT, -EBADF.
 */
struct tcp_recv {
	struct ex_future base;
	struct tcp_conn *conn;
	uint32_t max;
	struct rte_mbuf *m;
};
void tcp_recv_init(struct tcp_recv *r, struct tcp_conn *c, uint32_t max);

/** The read future: copies up to len bytes into buf; result as tcp_recv. */
struct tcp_read {
	struct ex_future base;
	struct tcp_conn *conn;
	void *buf;
	uint32_t len;
};
void tcp_read_init(struct tcp_read *r, struct tcp_conn *c, void *buf, uint32_t len);

/**
 * Read exactly len bytes into buf (Tokio's read_exact), across as many
 * segments as it takes. result: len; or -ENODATA when the stream ended first
 * (done says how many bytes came), -ECONNRESET, -ETIMEDOUT, -ENOTCONN.
 */
struct tcp_read_exact {
	struct ex_future base;
	struct tcp_conn *conn;
	void *buf;
	uint32_t len;
	uint32_t done;
};
void tcp_read_exact_init(struct tcp_read_exact *r, struct tcp_conn *c, void *buf, uint32_t len);

/**
 * Read into buf up to and including the first byte equal to delim, at most
 * cap bytes (Tokio's read_until, with a bound); what follows the delimiter
 * stays queued for the next read. result: the bytes in buf (len), the
 * delimiter last; or, when the peer closed, what came before the end
 * without a delimiter (0: nothing); -EMSGSIZE if cap bytes came without one
 * (they are in buf); -ECONNRESET, -ETIMEDOUT, -ENOTCONN. A line:
 * delim '\n'. Writing all of a buffer is tcp_write (Tokio's write_all): it
 * is READY once every byte is queued.
 */
struct tcp_read_until {
	struct ex_future base;
	struct tcp_conn *conn;
	uint8_t *buf;
	uint32_t cap;
	uint32_t len;
	uint8_t delim;
};
void tcp_read_until_init(struct tcp_read_until *r, struct tcp_conn *c, uint8_t delim, void *buf,
		uint32_t cap);

/**
 * A connection's lines as a stream (Tokio's lines()): each item's ptr is the
 * line in buf, NUL-terminated, without its "\n" or "\r\n" (line_len bytes),
 * valid until the next poll. The last line may lack its "\n". It ends at
 * the peer's FIN (error 0), or with error -EMSGSIZE at a line of cap - 1
 * bytes or more without an end, or the connection's error.
 */
struct tcp_lines {
	struct ex_stream base;
	struct tcp_conn *conn;
	char *buf;
	uint32_t cap;
	uint32_t len; /* bytes of the line being read */
	uint32_t line_len; /* the line last yielded */
	bool ended;
};
/** @return 0, or -EINVAL (no buffer, cap < 2). */
int tcp_lines_init(struct tcp_lines *l, struct tcp_conn *c, char *buf, uint32_t cap);

/**
 * The write future: copies len bytes from buf into the send queue, PENDING
 * while the send buffer is full (backpressure). result: len; or, when an
 * error stops it after some bytes were queued, the number queued (a short
 * write, as POSIX write(): those bytes will be sent, the rest were not
 * taken); or, with nothing queued, -EPIPE (after shutdown), -ECONNRESET,
 * -ETIMEDOUT, -ENOBUFS (mbuf pool empty). done always counts what was queued.
 */
struct tcp_write {
	struct ex_future base;
	struct tcp_conn *conn;
	const uint8_t *buf;
	uint32_t len;
	uint32_t done;
};
void tcp_write_init(struct tcp_write *w, struct tcp_conn *c, const void *buf, uint32_t len);

/**
 * Queue an mbuf chain for sending (its segments become the send queue:
 * zero copy). Taken whole if any send buffer space is free.
 * @return 0 (m is TCP's), or -EAGAIN (buffer full; m is still the
 *         caller's), -EPIPE, -ECONNRESET, -ETIMEDOUT, -ENOTCONN (m still the caller's).
 */
int tcp_send_mbuf(struct tcp_conn *c, struct rte_mbuf *m);

/** Bytes that may be queued now (0 when full or not sendable). */
uint32_t tcp_send_space(const struct tcp_conn *c);

/** Close the send side after what is queued (FIN). @return 0, -ENOTCONN. */
int tcp_shutdown(struct tcp_conn *c);

/**
 * Release the connection, gracefully: a FIN follows queued data and the
 * stack completes the close alone. Unread received data makes it an abort
 * (RST), as Linux does. c must not be used afterwards.
 */
void tcp_close(struct tcp_conn *c);

/** Release the connection with a RST; queued data is discarded. */
void tcp_abort(struct tcp_conn *c);

/** The connection's error (0, -ECONNRESET, -ETIMEDOUT, ...). */
int tcp_conn_error(const struct tcp_conn *c);

enum tcp_state tcp_conn_state(const struct tcp_conn *c);

/** Disable (true) or enable Nagle's algorithm on one connection. */
void tcp_set_nodelay(struct tcp_conn *c, bool nodelay);

/** Keepalive on one connection (0 values: the stack's defaults). */
void tcp_set_keepalive(struct tcp_conn *c, bool on);

/** RFC 9293 user timeout for one connection, ms (0: by retries). */
void tcp_set_user_timeout(struct tcp_conn *c, uint32_t ms);
/** This connection's congestion control (by default the stack's cfg.cc);
 * @return 0, or -EINVAL for an unknown algorithm. */
int tcp_conn_set_cc(struct tcp_conn *c, enum tcp_cc cc);
/** An algorithm by its name ("cubic", "newreno"); @return 0 or -EINVAL. */
int tcp_cc_by_name(const char *name, enum tcp_cc *out);
/** The name of an algorithm ("?" if unknown). */
const char *tcp_cc_name(enum tcp_cc cc);

/** Addresses of a connection, host order. */
void tcp_conn_addr(const struct tcp_conn *c, uint32_t *lip, uint16_t *lport, uint32_t *rip,
		uint16_t *rport);

/**
 * A connection's receive side as a stream of mbuf chains (items are struct
 * rte_mbuf *, the consumer's to free). Ends at the peer's FIN (error 0) or
 * with the connection's error.
 */
struct tcp_rx_stream {
	struct ex_stream base;
	struct tcp_conn *conn;
};
void tcp_rx_stream_init(struct tcp_rx_stream *s, struct tcp_conn *c);

/**
 * A connection's send side as a sink of mbuf chains: poll_ready is PENDING
 * while the send buffer is full, poll_flush READY once all is acknowledged,
 * poll_close sends FIN and is READY once it is acknowledged (or the
 * connection failed: error set).
 */
struct tcp_tx_sink {
	struct ex_sink base;
	struct tcp_conn *conn;
};
void tcp_tx_sink_init(struct tcp_tx_sink *k, struct tcp_conn *c);

/** The smallest path MTU believed (Linux's min_pmtu): a forged ICMP cannot
 * shrink segments to a few bytes each. */
#define TCP_PMTU_MIN 552

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_TCP_H */
