/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack.h - one network stack instance per lcore: Ethernet, ARP, IPv4 and
 * ICMP for one (port, queue), shared-nothing.
 *
 * Input is a stream of packet bursts from the dataplane (stack_rx_pump pumps
 * it into stack_input); output is a sink of bursts (a dp_tx_sink in apps,
 * which buffers and sends at the end of each loop iteration; a capturing
 * sink in unit tests). A sink that is not ready (backpressure) costs the
 * frame, counted under STACK_DROP_TX: the stack's sink is a tx queue, which
 * never makes anyone wait. Time comes from the
 * executor's clock; the ARP cache is aged by one periodic timer on the
 * executor's wheel.
 *
 * Bad input never crashes and never leaks: every frame that is not consumed
 * is freed and counted under its reason (enum stack_drop).
 *
 * Lcore: everything here runs on the lcore that owns the instance.
 */
#ifndef RIPTIDE_STACK_H
#define RIPTIDE_STACK_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dp_cksum.h"
#include "dp_stream.h"
#include "ex_executor.h"
#include "ex_stream.h"
#include "ex_timer.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;
struct tcp_stack;

/** Why a frame was dropped; each reason has its own counter. */
enum stack_drop {
	STACK_DROP_RUNT = 0, /**< shorter than an Ethernet header */
	STACK_DROP_ETHERTYPE, /**< neither IPv4 nor ARP */
	STACK_DROP_NOT_FOR_US, /**< unicast to another MAC */
	STACK_DROP_ARP_MALFORMED, /**< truncated, or not Ethernet/IPv4 ARP */
	STACK_DROP_ARP_NOT_FOR_US, /**< a request for another address (learned from, then dropped)
				    */
	STACK_DROP_IP_TRUNCATED, /**< header or total length beyond the frame */
	STACK_DROP_IP_VERSION,
	STACK_DROP_IP_IHL, /**< header length below 20 bytes */
	STACK_DROP_IP_CHECKSUM,
	STACK_DROP_IP_FRAGMENT, /**< fragments are not reassembled (yet) */
	STACK_DROP_IP_NOT_FOR_US, /**< another destination address */
	STACK_DROP_IP_BAD_SOURCE, /**< from 0.0.0.0, a broadcast, multicast or our own address */
	STACK_DROP_IP_PROTOCOL, /**< no handler for the protocol */
	STACK_DROP_ICMP_MALFORMED, /**< truncated or bad checksum */
	STACK_DROP_ICMP_TYPE, /**< a type we do not answer */
	STACK_DROP_ARP_UNRESOLVED, /**< outgoing, no ARP answer after the retries */
	STACK_DROP_ARP_QUEUE_FULL, /**< outgoing, too many packets waiting for one address */
	STACK_DROP_ARP_TABLE_FULL, /**< outgoing, no room to start resolving */
	STACK_DROP_TX, /**< the transmit function refused it */
	STACK_DROP_UDP_MALFORMED, /**< truncated, or length beyond the IP payload */
	STACK_DROP_UDP_CHECKSUM,
	STACK_DROP_UDP_NO_PORT, /**< no socket (answered by ICMP, rate-limited) */
	STACK_DROP_UDP_OVERFLOW, /**< the socket's receive queue was full */
	STACK_DROP_UDP_FILTERED, /**< a connected socket, another peer */
	STACK_DROP_ICMP_LIMITED, /**< an ICMP error we did not send: rate limit */
	STACK_DROP_TCP_MALFORMED, /**< truncated header or impossible options */
	STACK_DROP_TCP_CHECKSUM,
	STACK_DROP_TCP_NO_PORT, /**< no connection or listener (answered by RST) */
	STACK_DROP_TCP_BACKLOG, /**< a SYN for a listener whose backlog is full */
	STACK_DROP_TCP_CONN_LIMIT, /**< a SYN while the connection table is full */
	STACK_DROP_TCP_PAWS, /**< an old timestamp (RFC 7323) */
	STACK_DROP_TCP_OUT_OF_WINDOW, /**< not acceptable (answered by an ACK) */
	STACK_DROP_TCP_BAD_ACK, /**< acknowledges what was never sent, or too old */
	STACK_DROP_TCP_STATE, /**< not valid in the connection's state (no ACK, ...) */
	STACK_DROP_TCP_OOO_FULL, /**< out-of-order queue full */
	STACK_DROP_TCP_MEMORY, /**< data refused: TCP over its mbuf budget or the pool low */
	STACK_DROP_MAX,
};

/** Name of a drop reason, for stats output. */
const char *stack_drop_name(enum stack_drop reason);

struct stack_stats {
	uint64_t rx_frames;
	uint64_t tx_frames;
	uint64_t arp_requests_in, arp_replies_in, arp_requests_out, arp_replies_out;
	uint64_t icmp_echo_in, icmp_echo_out;
	uint64_t icmp_unreach_in, icmp_unreach_out;
	uint64_t udp_in, udp_out;
	uint64_t ip_in;
	/** TCP and UDP packets by the PMD's RX_L4_CKSUM flag (enum dp_rx_csum):
	 * shows whether a port's checksum offload is at work. */
	uint64_t rx_l4_csum[DP_RX_CSUM_MAX];
	uint64_t drops[STACK_DROP_MAX];
};

#define STACK_ARP_ENTRIES 256 /* power of two */
#define STACK_UDP_BUCKETS 64 /* power of two */
#define STACK_ICMP_ERRORS_PER_S 100 /* RFC 1812 4.3.2.8: rate-limit ICMP errors */
/* Packets held per address while it resolves. A proxy's first burst of
 * clients sends one SYN each to a backend it has not resolved yet; what does
 * not fit is dropped and costs its connection a SYN retransmission (1 s). */
#define STACK_ARP_QUEUE 32

enum stack_arp_state {
	STACK_ARP_STATE_FREE = 0,
	STACK_ARP_STATE_INCOMPLETE, /**< request sent, packets may wait */
	STACK_ARP_STATE_REACHABLE,
};

struct stack_arp_entry {
	uint32_t ip; /**< host order */
	uint8_t state;
	uint8_t retries;
	uint8_t nq;
	uint8_t refreshing; /**< a refresh request is out for this reachable entry */
	struct rte_ether_addr mac;
	uint64_t deadline; /**< REACHABLE: expiry; INCOMPLETE: next retry */
	struct rte_mbuf *queue[STACK_ARP_QUEUE];
};

/** Configuration; addresses in host byte order. */
struct stack_config {
	uint32_t ip;
	uint8_t prefix_len;
	uint32_t gateway; /**< 0: none (on-link only) */
	struct rte_ether_addr mac;
	uint16_t mtu;
	uint64_t arp_timeout_ns; /**< cache entry life; default 60 s */
	uint64_t arp_retry_ns; /**< between requests; default 1 s */
	uint8_t arp_retries; /**< requests before giving up; default 3 */
	uint64_t tx_offloads; /**< the port's negotiated RTE_ETH_TX_OFFLOAD_* (dp_port): IPv4
			       * and UDP checksums are left to the PMD when offered */
	/** Learn from ARP, never answer a request nor announce: for the
	 * stacks of lcores 1..n-1 sharing one address, so that the wire sees
	 * one reply per request (lcore 0's) while every lcore learns its
	 * neighbours from the copies steering gives it (dp_steer). Requests
	 * for addresses it must resolve it still sends. Default false. */
	bool arp_quiet;
};

/** Fill cfg with defaults (no address). */
void stack_config_defaults(struct stack_config *cfg);

/**
 * A protocol above IPv4 (TCP and UDP are two, registered by tcp_stack_init()
 * and stack_init()): the IP layer hands it what is its own through these,
 * its ctx first. input is required, the rest optional (NULL).
 */
struct stack_l4_ops {
	const char *name;
	/** A packet of the protocol addressed to us: its IPv4 header at l3_off,
	 * checked (ihl bytes, total length ip_len, the frame cut to it); the
	 * protocol takes m (delivers, answers or frees and counts it). */
	void (*input)(void *ctx, struct rte_mbuf *m, uint16_t l3_off, uint16_t ihl,
			uint16_t ip_len);
	/** An ICMP destination unreachable quoting a packet of ours (inner_ip:
	 * its IPv4 header and at least 8 bytes after it); err -ECONNREFUSED
	 * (port or protocol), -EHOSTUNREACH or -ENETUNREACH. */
	void (*icmp_error)(void *ctx, const void *inner_ip, uint16_t inner_len, int err);
	/** ICMP fragmentation needed (RFC 1191) with the next hop's MTU. */
	void (*frag_needed)(void *ctx, const void *inner_ip, uint16_t inner_len, uint16_t mtu);
	/** A burst of stack_input() calls has ended (stack_rx_burst_end). */
	void (*rx_burst_end)(void *ctx);
	/** A frame of the protocol's that the stack gave up sending (ARP had
	 * no answer: err -EHOSTUNREACH); the stack frees it after. */
	void (*tx_failed)(void *ctx, const struct rte_mbuf *m, int err);
	/** The tx path has room again after stack_tx_room() said no: send what
	 * waited for it (stack_tx_resume). May be NULL. */
	void (*tx_resume)(void *ctx);
};
#define STACK_L4_MAX 4 /* protocols a stack can carry */

#define STACK_VIPS 8 /* service addresses an interface takes besides its own */

/**
 * One IP interface on one (port, queue): its address, ARP cache, counters
 * and protocol table (lwIP's netif, smoltcp's Interface). TCP and UDP sit
 * on it (struct tcp_stack, udp_bind). Its functions are stack_*.
 */
struct ip_iface {
	struct stack_config cfg;
	struct ex_executor *ex;
	struct rte_mempool *pool; /**< for frames the stack makes (ARP) */
	struct ex_sink *out; /**< where frames leave (a dp_tx_sink) */
	struct dp_burst txb; /**< the one-frame burst handed to out */
	struct stack_stats stats;
	/** Service addresses routed to this interface (stack_vip_add): ours for
	 * IP and TCP, never answered in ARP (a router sends them to cfg.ip). */
	uint32_t vip[STACK_VIPS];
	uint8_t n_vip;
	struct stack_arp_entry arp[STACK_ARP_ENTRIES];
	uint32_t arp_used;
	struct ex_timer arp_timer;
	uint64_t arp_tick_ns;
	struct udp_sock *udp[STACK_UDP_BUCKETS]; /**< bound sockets, by local port */
	struct tcp_stack *tcp; /**< set by tcp_stack_init(); NULL: no TCP */
	struct stack_l4 {
		uint8_t proto; /**< IPPROTO_* */
		const struct stack_l4_ops *ops;
		void *ctx;
	} l4[STACK_L4_MAX]; /**< the protocol table (stack_l4_register) */
	uint8_t n_l4;
	uint64_t rng; /**< ephemeral ports (RFC 6056) */
	uint64_t icmp_window; /**< start of the rate-limit second */
	uint32_t icmp_in_window;
	/** Called for each outgoing packet that failed (e.g. ARP gave up). */
	void (*on_tx_error)(struct ip_iface *st, struct rte_mbuf *m, int err);
	/** Backpressure from the tx path (stack_set_tx_room); NULL: none. */
	bool (*tx_room)(void *arg, const struct ex_waker *w);
	void *tx_room_arg;
	struct ex_waker tx_waker; /**< woken when room comes back: the rx pump's */
	bool tx_waiting; /**< tx_room said no since the last stack_tx_resume */
	/** Refusals ended: stack_tx_resume calls that found tx_waiting. While
	 * the path refuses, it names the refusal (TCP sends one ACK per
	 * connection in each; tcp_send_ack). */
	uint32_t tx_epoch;
};

/**
 * Set up an instance on executor ex (its clock and wheel; call on its
 * lcore). @return 0, or -EINVAL (no address, bad prefix, NULL argument).
 */
int stack_init(struct ip_iface *st, const struct stack_config *cfg, struct ex_executor *ex,
		struct rte_mempool *pool, struct ex_sink *out);

/** Free every queued packet, disarm timers. */
void stack_fini(struct ip_iface *st);

/**
 * Carry protocol proto (IPPROTO_*, not ICMP: the stack's own) with ops and
 * ctx. @return 0, -EEXIST (proto has one already), -ENOSPC (STACK_L4_MAX
 * protocols), -EINVAL (NULL ops or input, ICMP).
 */
int stack_l4_register(
		struct ip_iface *st, uint8_t proto, const struct stack_l4_ops *ops, void *ctx);

/** Stop carrying proto if ctx registered it; its packets are then answered
 * with protocol unreachable. */
void stack_l4_unregister(struct ip_iface *st, uint8_t proto, const void *ctx);

/** Announce our address: a gratuitous ARP request. @return 0 or -ENOBUFS. */
int stack_announce(struct ip_iface *st);

/**
 * Handle one received frame. The stack takes it: it is answered, delivered,
 * or freed and counted.
 */
void stack_input(struct ip_iface *st, struct rte_mbuf *m);

/**
 * The end of a burst of stack_input() calls: the ACKs TCP held for the burst
 * (one for all the in-order data a connection received in it, stretch ACKs)
 * go now. stack_rx_pump calls it after each burst; whoever calls
 * stack_input() directly calls it too, at the latest before polling again.
 */
void stack_rx_burst_end(struct ip_iface *st);

/**
 * Give the stack backpressure from its tx path, as Linux's TCP small queues
 * do: room(arg, w) says whether new data should be handed over now, and when
 * it says no, wakes w once it has room again (dp_tx_sink_room is one). TCP
 * then stops sending new data and retransmissions while the PMD's queue is
 * full and deep behind, rather than overflowing it and taking the loss for
 * congestion; handshakes, resets and each connection's first ACK of a
 * refusal still go (its later ones wait as one: tcp_send_ack). The stack_rx_pump's
 * task is the one woken (stack_tx_resume); without a pump, whoever drives
 * the stack calls stack_tx_resume itself. fn NULL turns it off (the default).
 */
void stack_set_tx_room(
		struct ip_iface *st, bool (*fn)(void *arg, const struct ex_waker *w), void *arg);

/** Whether the protocols should hand over new data now (stack_set_tx_room). */
static inline bool
stack_tx_room(struct ip_iface *st)
{
	if (st->tx_room == NULL || st->tx_room(st->tx_room_arg, &st->tx_waker))
		return true;
	st->tx_waiting = true;
	return false;
}

/** If stack_tx_room() said no since the last call, let each protocol send
 * what waited (its tx_resume op). stack_rx_pump calls it at every poll. */
void stack_tx_resume(struct ip_iface *st);

/**
 * Send an IPv4 packet whose IPv4 header is filled in (source, destination,
 * protocol, lengths) and preceded by room for an Ethernet header in the mbuf
 * (data starts at the IPv4 header). The stack computes the header checksum,
 * resolves the next hop (queuing while ARP resolves) and transmits.
 * @return 0 (sent or queued), -EHOSTUNREACH (resolution failed before),
 *         -ENOBUFS (queue or table full); on error the mbuf is freed.
 */
int stack_output_ipv4(struct ip_iface *st, struct rte_mbuf *m);

/**
 * Send the IPv4 packet at offset l3_off of received frame m, unchanged (its
 * TTL and checksums too), to the neighbour hop on the link: what a load
 * balancer does to hand a flow's packet to the instance that owns it. The
 * frame before l3_off is dropped and a new Ethernet header built (our MAC,
 * hop's, resolved by ARP as any next hop). @return as stack_output_ipv4;
 * -EINVAL (hop off the subnet) with m freed.
 */
int stack_forward_ipv4(struct ip_iface *st, struct rte_mbuf *m, uint16_t l3_off, uint32_t hop);

/**
 * Take ip (host order) as a service address of st besides cfg.ip: packets to
 * it are ours (TCP listens and answers from it), ARP never answers for it,
 * so that it reaches us only where a router sends it (a VIP announced by
 * BGP, with cfg.ip as the next hop). Idempotent. @return 0, -EINVAL (0,
 * broadcast, multicast, or on the subnet), -ENOSPC (STACK_VIPS already).
 */
int stack_vip_add(struct ip_iface *st, uint32_t ip);

/** Whether ip (host order) is cfg.ip or one of the service addresses. */
bool stack_ip_local(const struct ip_iface *st, uint32_t ip);

/**
 * Send an ICMP destination unreachable (type 3, code) about the IPv4 packet
 * at offset l3_off of m, rate-limited. m stays the caller's.
 */
void stack_icmp_unreachable(
		struct ip_iface *st, const struct rte_mbuf *m, uint16_t l3_off, uint8_t code);

/**
 * Cut the chain m to its first len bytes, whatever segment they end in
 * (rte_pktmbuf_trim only trims inside the last one: a trailer longer than
 * it, from scatter RX, KEEP_CRC or a crafted frame, would stay). Segments
 * past the cut are freed. @return 0, or -1 if m holds fewer than len bytes.
 */
int stack_mbuf_cut(struct rte_mbuf *m, uint32_t len);

/** Count a drop and free the frame (for the protocol modules). */
void stack_drop(struct ip_iface *st, struct rte_mbuf *m, enum stack_drop why);

/** Look up a resolved MAC; -ENOENT if not (yet) known. */
int stack_arp_lookup(const struct ip_iface *st, uint32_t ip, struct rte_ether_addr *mac);

/**
 * Start resolving the next hop towards dst (dst itself on the subnet, else
 * the gateway) before anything is sent there, so that the first packets do
 * not wait (an application knows its peers: a proxy its backends). Nothing
 * is queued; an address that never answers is forgotten after the retries.
 * @return 0 (known, resolving, or resolving from now: a request that found
 *         no mbuf is sent at the first retry), -EHOSTUNREACH (off the subnet
 *         without a gateway), -ENOBUFS (the table is full).
 */
int stack_arp_resolve(struct ip_iface *st, uint32_t dst);

/** The future that feeds a stream of bursts into the stack until it ends. */
struct stack_rx_pump {
	struct ex_future base;
	struct ip_iface *st;
	struct ex_stream *in;
};
void stack_rx_pump_init(struct stack_rx_pump *t, struct ip_iface *st, struct ex_stream *in);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_STACK_H */
