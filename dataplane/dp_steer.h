/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_steer.h - software flow steering between lcores, where the PMD cannot
 * steer (AF_XDP on a veth, whose rx queue the Linux sender chooses; net_tap;
 * memif; virtio-user against DPDK's vhost; any single-queue port).
 *
 * A steering group of n members (lcores) has one inbox ring per member
 * (many producers, one consumer). Each member polls its own rx queue,
 * classifies every packet to its owner with dp_steer_owner() (the
 * symmetric Toeplitz hash of the 4-tuple, so both directions of a flow have
 * one owner) and hands it, zero copy, to the owner's inbox; the member's
 * input is its inbox, a ring stream its executor polls as a reactor source.
 * A member's own packets take the same path through its own inbox, so the
 * packets of a flow leave their rx queue and reach their owner in order,
 * whichever queue they came in on... as long as one flow arrives on one
 * queue (true of RSS and of single-queue ports).
 *
 * Counters: per member, the packets it kept (its own), the packets it
 * steered to each other member, and what it dropped because an inbox was
 * full (the classify stage waits for room instead of dropping: a full inbox
 * backs pressure up into the member's rx queue, where the PMD counts it).
 *
 *   struct dp_steer_group g;           (shared: created once, before the lcores run)
 *   dp_steer_group_create(&g, "px", n, 4096);
 *   on lcore i:  dp_steer_init(&s, ex, &rx_queue_stream.base, &g, i);
 *                ex_spawn(&s.cls.base, ...);   then consume s.inbox.base
 *
 * Lcore: a dp_steer is its member's lcore's; the group's rings join lcores.
 */
#ifndef RIPTIDE_DP_STEER_H
#define RIPTIDE_DP_STEER_H

#include <stddef.h>
#include <stdint.h>

#include "dp_port.h"
#include "dp_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

/** Most members of a group (dp_classify's outputs). */
#define DP_STEER_MAX DP_CLASSIFY_MAX

/**
 * The member (0..n-1) that owns packet m: for IPv4 TCP and UDP (first
 * fragment or none), dp_rss_hash_ipv4() of its 4-tuple through a
 * 128-entry table filled i % n (as a NIC's default redirection table);
 * everything else (ARP, ICMP, other protocols, later fragments, runts)
 * is member 0's. Both directions of a flow have one owner.
 */
uint16_t dp_steer_owner(const struct rte_mbuf *m, uint16_t n);

/**
 * A port description that steers as a group of n members does: RSS on, a
 * 128-entry redirection table filled i % n, n queues. Given to TCP as
 * tcp_config.rss_port (rss_queue = the member), an lcore's active opens
 * pick local ports whose replies the group steers back to it, as they do on
 * a NIC with RSS. The view has no port behind it: only dp_rss_queue() reads it.
 */
void dp_steer_port_view(struct dp_port *view, uint16_t n);

/** The rings of a group: one inbox per member, and the table that says
 * which member owns a flow. */
struct dp_steer_group {
	uint16_t n;
	struct rte_ring *inbox[DP_STEER_MAX];
	/** Which member owns a hash: dp_steer_port_view(n) (as dp_steer_owner),
	 * or a port's own table (dp_steer_group_follow). Give it to TCP as
	 * tcp_config.rss_port. */
	struct dp_port view;
	/** Each member's executor, set by its dp_steer_init (NULL before and
	 * after): who to kick after leaving packets in its inbox, so that it
	 * may sleep on events with an inbox that no fd announces. */
	struct ex_executor *ex[DP_STEER_MAX];
};

/**
 * Create n inboxes of size entries each (a power of two), named from name.
 * @return 0, -EINVAL (n is 0 or above DP_STEER_MAX), or -ENOMEM.
 */
int dp_steer_group_create(
		struct dp_steer_group *g, const char *name, uint16_t n, unsigned int size);
/**
 * Steer as port's RSS does: its redirection table (read back from the PMD)
 * instead of 128 entries i % n, so a member keeps every packet the NIC gave
 * its queue and steers only what the NIC put elsewhere (e.g. ARP).
 * @return 0, or -EINVAL (the port has no RSS table, one whose size is not a
 *         power of two, or not n queues).
 */
int dp_steer_group_follow(struct dp_steer_group *g, const struct dp_port *port);

/** Most instructions of the tun steering program. */
#define DP_TAP_STEER_MAX_INSNS 128
struct bpf_insn;

/**
 * The steering program a multi-queue net_tap gets (dp_port_start does it):
 * an eBPF socket filter for Linux's tun driver (TUNSETSTEERINGEBPF) that
 * returns a frame's queue before the driver's own "% queues": the low 7
 * bits of dp_rss_hash_ipv4() of an IPv4 TCP or UDP frame's 4-tuple, 0 for
 * anything else (ARP, ICMP, fragments, runts). So the kernel puts every
 * frame on queue dp_steer_owner(frame, n).
 * @return its length in instructions, written to out; -ENOSPC if max is
 *         too small.
 */
int dp_tap_steer_build(struct bpf_insn *out, unsigned int max);

/**
 * Load that program into the kernel (bpf(BPF_PROG_LOAD)); if it fails and
 * log is given, the verifier's log in it. @return its fd (the caller closes
 * it) or -errno (-EPERM without CAP_BPF).
 */
int dp_tap_steer_load(char *log, size_t log_len);

/** Free the rings and every mbuf still in them (after every member's fini). */
void dp_steer_group_free(struct dp_steer_group *g);

/** One member of a group, on its lcore. */
struct dp_steer {
	struct dp_burst_map arp_fan; /**< ARP copies to the others (copy_pool) */
	struct dp_classify cls; /**< the steering stage: spawn cls.base */
	struct dp_ring_sink to[DP_STEER_MAX]; /**< into each member's inbox */
	struct ex_sink *outs[DP_STEER_MAX];
	struct dp_burst_stream inbox; /**< this member's input: consume inbox.base */
	uint16_t self, n;
	struct dp_steer_group *g;
	struct rte_mempool *copy_pool;
	uint64_t arp_copies; /**< ARP frames copied into other members' inboxes */
	uint64_t arp_copy_failed; /**< copies that found no mbuf or a full inbox */
};

/**
 * Make member self of g on executor ex, reading rx (its own rx queue's
 * stream). With copy_pool, every ARP frame it receives also goes, as a copy
 * from copy_pool, to every member but 0 (which gets the frame itself), so
 * the stacks of all lcores learn their neighbours (the ARP table kept
 * consistent by replication) while only member 0's answers (the others are
 * stack_config.arp_quiet). NULL: ARP goes to member 0 alone.
 * @return 0, or -EINVAL (self out of range).
 */
int dp_steer_init(struct dp_steer *s, struct ex_executor *ex, struct ex_stream *rx,
		struct dp_steer_group *g, uint16_t self, struct rte_mempool *copy_pool);

/** Packets this member kept (its own flows) and steered to the others. */
uint64_t dp_steer_kept(const struct dp_steer *s);
uint64_t dp_steer_steered(const struct dp_steer *s);

/** Unregister the sinks and the inbox stream (the cls task dropped first). */
void dp_steer_fini(struct dp_steer *s);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_STEER_H */
