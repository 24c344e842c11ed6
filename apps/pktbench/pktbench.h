/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktbench.h - what pktbench's files share:
 *
 *   pktbench.c  options, --help, main
 *   traffic.c   the per-packet stages (macswap, partial checksums), txonly's
 *               generator, rxonly's and loopback-check's checker
 *   worker.c    the workers: one host per lcore, its share of the ports, the
 *               mode's futures, the loop, teardown and the summary
 */
#ifndef RIPTIDE_PKTBENCH_H
#define RIPTIDE_PKTBENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include "dp_impair.h"
#include "dp_steer.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "stack_host.h"

#define MAX_PORTS 2
#define CHECK_MAGIC 0x52495054u /* "RIPT" */
#define PROBE_MAGIC 0x50524f42u /* "PROB": loopback-check's path probe */
#define PROBE_INTERVAL_NS (10 * EX_NS_PER_MS)
#define CHECK_WINDOW 128 /* below the smallest ring on a path (virtio-user: 256) */

enum mode {
	MODE_IO,
	MODE_MACSWAP,
	MODE_TXONLY,
	MODE_RXONLY,
	MODE_LOOPBACK_CHECK,
	MODE_IMPAIR,
};

extern const char *const mode_names[6];

struct options {
	enum mode mode;
	double duration; /* seconds; 0: until a signal */
	double interval; /* stats interval; 0: none */
	uint32_t pkt_size; /* frame size without FCS */
	uint64_t rate_pps; /* txonly; 0: as fast as possible */
	uint64_t count; /* txonly / loopback-check: packets to send; 0: no limit */
	uint32_t timeout_ms; /* loopback-check: wait for stragglers */
	uint32_t nb_mbufs;
	bool nb_mbufs_set; /* given with --nb-mbufs */
	const char *impair;
	uint32_t src_ip, dst_ip;
	struct rte_ether_addr dst_mac;
	bool dst_mac_set;
	bool tx_first; /* io/macswap: send one burst on each port first */
	bool wait_signal; /* txonly/loopback-check: send once SIGUSR1 arrives */
	bool tx_csum_partial; /* io: hand frames to ports with tx checksum offload
			       * partially checksummed, as a hypervisor does */
	bool xstats; /* print the ports' extended statistics at exit */
	bool steer; /* workers on shared ports: each packet to its flow's owner */
	bool sleep_when_idle; /* the host's idle policy (rx events), not a busy poll */
};

extern struct options opt; /* pktbench.c */
extern volatile sig_atomic_t stop_signal; /* SIGINT/SIGTERM seen */
extern volatile sig_atomic_t go_signal; /* SIGUSR1 seen (--wait-signal) */

/* ---- traffic.c ---- */

struct gen {
	struct ex_future base;
	struct dp_tx_sink *out;
	struct rte_mempool *pool; /* its worker's: what it sends is allocated here */
	struct ex_executor *ex; /* its worker's clock */
	uint8_t tmpl[128]; /* Ethernet + IPv4 + UDP header, checksummed */
	uint32_t hdr_len;
	uint64_t sent;
	uint64_t alloc_failed;
	uint64_t start_ns;
	struct ex_sleep pace;
	bool pacing;
	bool loopback; /* number the packets for loopback-check */
	const uint64_t *returned; /* loopback-check: packets back so far (window) */
	/* loopback-check: probes go out every 10 ms until one comes back, so the
	 * count starts once the path carries packets (a vhost port takes a
	 * moment after link-up to enable its guest's queue), not after a guess */
	const uint64_t *probes_back;
	uint64_t probe_deadline;
	uint64_t probes_sent;
	bool probe_failed;
	/* loopback-check: packets the PMD refused, resent first (backpressure,
	 * not loss: a checker must account for every packet it generated) */
	struct rte_mbuf *held[DP_BURST_MAX];
	uint16_t held_n;
	uint16_t held_off;
};

struct check {
	struct ex_future base;
	struct ex_stream *in;
	bool verify;
	uint64_t received;
	uint64_t returned; /* received + corrupt: what the sender's window counts */
	uint64_t next_seq; /* expected next */
	uint64_t in_order;
	uint64_t out_of_order;
	uint64_t corrupt;
	uint64_t probes; /* loopback-check probes back */
	uint64_t foreign; /* not ours (e.g. IPv6 chatter on a TAP) */
	uint16_t steer_n, steer_self; /* --steer: the group, this worker */
	uint64_t misrouted; /* --steer: packets owned by another worker */
};

extern const struct ex_future_ops gen_ops, check_ops;
/** macswap: swap the frame's MACs in place (a dp_burst_map stage). */
int macswap_pkt(struct rte_mbuf *m, void *arg);
/** --tx-csum-partial: leave TCP/UDP checksums for the port, as a guest does. */
int csum_partial_pkt(struct rte_mbuf *m, void *arg);
/** The generator's Ethernet + IPv4 + UDP header for port (its MAC). */
void build_template(struct gen *g, uint16_t port);
/** One burst of template packets on port p of host h (testpmd's --tx-first). */
void send_first_burst(struct stack_host *h, uint16_t p);

/* ---- worker.c ---- */

struct ticker {
	struct ex_future base;
	struct ex_sleep sleep;
	uint64_t last_rx, last_tx, last_ns, last_busy;
	uint64_t seconds;
};

/* One worker: a host on its lcore and its share of the ports, and the
 * futures of the mode. */
struct worker {
	unsigned int idx, lcore;
	struct stack_host host; /* pool, its ports, their rx streams and tx sinks; no stack */
	struct ex_forward fw[MAX_PORTS];
	struct dp_queue_forward qfw[MAX_PORTS];
	struct dp_burst_map swap[MAX_PORTS];
	struct dp_impair imp[MAX_PORTS];
	struct gen gen;
	struct check chk[MAX_PORTS];
	struct ticker tick;
	struct ex_stop_after stopper;
	struct dp_steer steer[MAX_PORTS]; /* --steer: its packets from every queue */
	struct ex_stream *in[MAX_PORTS]; /* what the mode reads: rx, or the steered inbox */
	uint16_t nsteer; /* steer[] members made (for teardown) */
	uint64_t t_start, t_end; /* TSC, around its loop */
	bool up; /* its host came up and its futures were spawned */
	int exit_code;
};

extern struct worker *workers;
extern unsigned int nworkers;
extern uint16_t ports_per_worker; /* 0: every port (one worker, or shared queues) */
extern bool shared_queues; /* every worker on every port, a queue each */
extern struct dp_impair_config icfg; /* --mode impair */
extern struct dp_steer_group steer_groups[MAX_PORTS]; /* --steer: one per port */

/**
 * Run every worker (workers[] filled: idx, lcore): worker 0 on the calling
 * (main) lcore, the others launched on theirs; bring-up one at a time,
 * worker 0 first, the loops together, the summary, teardown worker 0 last.
 * @return the exit status (1 if a worker failed, leaked or a check failed).
 */
int workers_run(void);

#endif
