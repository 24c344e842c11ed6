/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack_host.h - a whole riptide host, up and down in one call each: EAL (when
 * asked), mbuf pool, port(s), executor, each port's rx stream and tx sink, an
 * optional impairment stage on the first port's wire, a stack instance
 * (Ethernet, ARP, IPv4, ICMP, UDP) with TCP on the first port, and the task
 * that pumps its received bursts into it. A packet program with no stack
 * (pktbench) brings up the ports and the executor alone (stack_on false).
 *
 * The order every riptide program needs, written once:
 *
 *   up:   [EAL] -> pool -> ports configured, then started -> executor
 *         -> rx streams, tx sinks -> [impairment] -> stack -> TCP
 *         -> rx task spawned
 *   down: linger (closes finish on the wire) -> executor shut down (every
 *         task dropped) -> the app closes its sockets -> TCP -> stack
 *         -> [impairment] -> rx, tx -> ports closed -> executor freed
 *         -> leak check -> pool freed -> [EAL cleanup]
 *
 * A program brings the host up, binds and listens on h->tcp / h->st, spawns
 * its tasks (ex_spawn works before the loop runs), calls ex_run(h->ex), then:
 *
 *   stack_host_shutdown(&h);     every task dropped, so nothing holds mbufs
 *   tcp_listener_close(&l); ...  the app's own sockets
 *   leaked = stack_host_down(&h, stdout);
 *
 * Every host's ports can be captured with Debian's dpdk-dumpcap (the host
 * calls rte_pdump_init(); the process must share its memory: hugepages, not
 * --no-huge):  dpdk-dumpcap --file-prefix=PREFIX -i net_tap0 -w out.pcap
 *
 * stack_host_down() does the shutdown itself when the app had nothing to
 * close. The leak check allows what a PMD keeps by design (net_af_xdp's fill
 * ring), decided by driver in dp_port, never by a port's name.
 *
 * Nothing here exits or prints on its own: an error comes back as -errno and
 * a sentence in h->err that names the step and its cause.
 *
 * More than one lcore: one host per lcore, shared nothing. The first (the
 * owner) brings the ports up with port.nb_queues = the number of lcores;
 * each other lcore brings up a host that attaches to the owner's ports on a
 * queue of its own (cfg.attach, cfg.queue). With a stack on them, packets
 * reach the stack that owns their flow this way, chosen when the owner comes
 * up (h->steer_mode, said in h->steer_why):
 *
 *   rss       the PMD hashes with riptide's symmetric key into a table read
 *             back from it: each host's queue holds its own flows, the
 *             steering stage finds nothing to move but ARP (its counters
 *             show it). A multi-queue net_tap is one too: the kernel's tun
 *             driver runs riptide's hash (dp_tap_steer_build);
 *   software  the PMD cannot steer (net_af_xdp, memif, virtio-user, ring,
 *             null, pcap, a net_tap without the program: the sender or
 *             nobody picks the queue): each host hashes what its queue received and hands
 *             other lcores' packets over their inbox rings (dp_steer.h),
 *             zero copy, in order per flow.
 *
 * Either way the stage runs on every host, ARP frames are copied to every
 * lcore (every stack learns each neighbour; only the owner's answers: the
 * others are arp_quiet), and TCP's active opens pick local ports whose
 * replies hash back to their own lcore (tcp_config.rss_port, the group's
 * table). Hosts come up one at a time, the owner first, and go down the
 * other way: stack_host_lanes_run() does it for an app with one lane per
 * lcore.
 *
 * Lcore: a host is its executor's lcore's, the one that brought it up.
 */
#ifndef RIPTIDE_STACK_HOST_H
#define RIPTIDE_STACK_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp_eal.h"
#include "dp_impair.h"
#include "dp_port.h"
#include "dp_steer.h"
#include "dp_stream.h"
#include "ex_executor.h"
#include "stack.h"
#include "tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;

#define STACK_HOST_MAX_PORTS 4
/** The MTUs a host takes (stack_host_config.mtu): IPv4's minimum datagram
 * every host must accept, and a jumbo frame's usual largest. */
#define STACK_HOST_MTU_MIN 576
#define STACK_HOST_MTU_MAX 9600
/** stack_host_config.linger_ms's default, and how long the wire must have
 * been quiet before a linger ends (stack_host_linger()). */
#define STACK_HOST_LINGER_MS 200
#define STACK_HOST_QUIET_MS 50

/**
 * What to bring up; start from stack_host_config_defaults(), then set at
 * least stack.ip and stack.prefix_len.
 */
/** How packets reach the stack that owns their flow (more than one lcore). */
enum stack_host_steer {
	STACK_HOST_STEER_NONE = 0, /**< one lcore, or no stack */
	STACK_HOST_STEER_RSS, /**< the PMD's symmetric RSS; a check stage behind it */
	STACK_HOST_STEER_SOFT, /**< software steering over rings */
};

struct stack_host_config {
	const char *name; /**< pool, executor and message prefix; default "riptide" */
	/** The EAL's command line (argv[0] the program): stack_host_up()
	 * initialises the EAL from it. NULL (the default): the caller already
	 * did (dp_eal_init), e.g. to parse its own flags first. */
	int argc;
	char **argv;
	unsigned int min_huge_mb; /**< for dp_eal_init(); default 256 */
	/** With argv: called once the EAL is up, with the app's own arguments
	 * (what followed "--"), to finish this config before anything else
	 * comes up. Return 0 to go on; anything else stops stack_host_up(),
	 * which tears the EAL down and returns it (-ECANCELED for > 0, e.g.
	 * after --help). */
	int (*args)(struct stack_host_config *cfg, int argc, char **argv, void *arg);
	void *args_arg;
	/** Ports: 1 (the default) is the one named by port_name, else port_id;
	 * 2..STACK_HOST_MAX_PORTS are that many from port_id on (a worker's
	 * port pair, one host per lcore); 0 is every port the EAL has, in port
	 * id order (at most STACK_HOST_MAX_PORTS). All are configured before
	 * any starts (memif pairs in one process need it). */
	uint16_t nb_ports;
	const char *port_name; /**< device name (e.g. "net_tap0"); NULL: port_id */
	uint16_t port_id; /**< default 0 */
	/** Another lcore's host whose ports this one shares (it brought them up
	 * with port.nb_queues queues): this host uses queue `queue` of each of
	 * them, with its own pool (for what it allocates), executor and
	 * streams, and never configures, starts or closes them. Bring the
	 * sharers down before the owner. With a stack, the owner must have one
	 * too: they steer flows between them (see above). NULL (the default):
	 * own ports. */
	const struct stack_host *attach;
	uint16_t queue; /**< with attach: the queue of every port; 1..nb_queues-1 */
	uint32_t nb_mbufs; /**< the pool; default 32767 */
	/** The IP MTU of the ports and the stack; 0 (the default): the
	 * stack's 1500 and the PMD's own. Over 1500 (jumbo frames): each mbuf
	 * of the pool holds a whole frame (about 9.3 KiB per mbuf at 9000,
	 * against 2.2: size nb_mbufs to match), the ports are set to it, and
	 * TCP's MSS follows. A port that cannot take it fails the host. */
	uint16_t mtu;
	uint32_t pool_cache; /**< the pool's per-lcore cache; default 256 */
	struct dp_port_config port; /**< for each port; pool and defer_start are the host's */
	struct ex_config ex; /**< name defaults to the host's */
	bool busy_poll; /**< the executor polls when idle (benchmarks); default
			 * false: it backs off and sleeps, leaving the core */
	uint32_t tx_hold_us; /**< dp_tx_sink_set_hold(); default 0 */
	/** Impair the port's wire both ways (dp_impair.h); NULL: none. The
	 * tx checksum offloads are then turned off, since the stage stands for
	 * the wire and may corrupt bytes. */
	const struct dp_impair_config *impair;
	bool stack_on; /**< a stack on the first port; default true */
	struct stack_config stack; /**< mac and tx_offloads are set from the port */
	bool tcp_on; /**< with stack_on; default true */
	struct tcp_config tcp;
	/** TCP's small queues (stack_set_tx_room): while the first port's tx
	 * queue is full and DP_TX_ROOM_HIGH packets wait behind it, TCP sends no
	 * new data; the queue's drain resumes it. Default true, unless
	 * RIPTIDE_TX_BACKPRESSURE=0 is in the environment (to compare). Not with
	 * impair: its stage, not the queue, is then the stack's tx path. */
	bool tx_backpressure;
	/** stack_host_shutdown() first lingers (stack_host_linger()) up to this
	 * long, in real time; default STACK_HOST_LINGER_MS; 0: it does not. */
	uint32_t linger_ms;
};

void stack_host_config_defaults(struct stack_host_config *cfg);

/** A host that is up. Its parts are public: use them, do not free them. */
struct stack_host {
	char name[32];
	char err[256]; /**< why stack_host_up() failed: step and cause */
	struct dp_eal_info eal; /**< when the host initialised the EAL */
	bool eal_owned; /**< stack_host_down() cleans the EAL up */
	struct rte_mempool *pool;
	uint16_t nb_ports;
	struct dp_port ports[STACK_HOST_MAX_PORTS];
	struct ex_executor *ex;
	bool attached; /**< its ports are another host's (cfg.attach) */
	uint16_t queue; /**< the queue it uses on each port (0 unless attached) */
	struct dp_burst_stream rx[STACK_HOST_MAX_PORTS]; /**< its queue of each port */
	struct dp_tx_sink tx[STACK_HOST_MAX_PORTS];
	bool impaired; /**< the first port's wire */
	struct dp_impair_link imp;
	bool stack_on;
	struct ip_iface st; /**< on ports[0] */
	bool tcp_on;
	struct tcp_stack tcp;
	struct stack_rx_pump rx_task;
	/* More than one lcore with a stack (see the top of this file). */
	enum stack_host_steer steer_mode; /**< the owner's choice, shared by all */
	char steer_why[160]; /**< the choice and its reason, for the app to print */
	struct dp_steer_group *group; /**< the owner's group (NULL: one lcore) */
	struct dp_steer_group own_group; /**< the owner's: every host's inbox */
	struct dp_steer steer; /**< this host's member: its queue to the inboxes */
	unsigned int stage; /**< how far up it came (for an orderly partial down) */
	bool shut; /**< the executor was shut down */
	uint32_t linger_ms; /**< cfg.linger_ms */
	/** Connections still closing when stack_host_shutdown()'s linger ended
	 * (their peers did not answer in time); said by stack_host_down(). */
	uint32_t linger_left;
};

/**
 * Bring a host up from cfg (copied; not needed afterwards, except the
 * impairment config, which must outlive the host).
 * @return 0; or -errno with h->err saying which step failed and why:
 *         -EINVAL (a bad config field, named), -ENODEV (no such port, or
 *         none),
 *         -ENOMEM, -EALREADY (argv given but the EAL is already up),
 *         -ECANCELED (the args callback returned > 0), the PMD's error.
 *         On error everything brought up so far has been taken down.
 */
int stack_host_up(struct stack_host *h, const struct stack_host_config *cfg);

/**
 * Linger, then drop every task (ex_executor_shutdown), so that the app may
 * close its sockets and free its futures' memory before stack_host_down().
 * The linger (stack_host_linger(), cfg.linger_ms) only for a host that came
 * all the way up. Idempotent. After ex_run() returned, on the thread that
 * ran it.
 */
void stack_host_shutdown(struct stack_host *h);

/**
 * After ex_run() returned, on the thread that ran it: keep running the
 * loop (every task, the stack, TCP's timers) until TCP has no connection
 * closing on the wire (FIN_WAIT_1, FIN_WAIT_2, CLOSING, LAST_ACK) and no
 * frame has come in or gone out for STACK_HOST_QUIET_MS, or until max_ms
 * of real time have passed. A process gone right after a close would take
 * its last frames with it: its final ACK still in a memif or vhost-user
 * ring when the link goes down with the process, its FIN never resent.
 * A kernel keeps such connections after the process exits; a user-space
 * stack has only this. @return connections still closing at the end.
 */
uint32_t stack_host_linger(struct stack_host *h, uint32_t max_ms);

/**
 * Take the host down in order (stack_host_shutdown() first if not done),
 * check the pool for leaked mbufs and say so in one line on out (prefixed
 * by the host's name; out may be NULL), free the pool and, if the host
 * initialised it, clean the EAL up.
 * @return mbufs leaked (0: all returned, beyond what a PMD keeps by design).
 */
uint64_t stack_host_down(struct stack_host *h, FILE *out);

/**
 * Print the stack's frame counters, drops by reason and, if any, the
 * impairment stage's counters, each line prefixed by the host's name.
 */
void stack_host_print_stats(const struct stack_host *h, FILE *out);

/**
 * What steering a port with nb_queues queues gets: RSS when the PMD has a
 * symmetric RSS table of its own (p->rss, read back) and is a NIC, i.e. not
 * one of the software PMDs whose queue the sender (or nothing) picks, or
 * when it is a net_tap with riptide's steering program (p->tap_steered);
 * software otherwise. why: the reason in words. NONE for one queue.
 */
enum stack_host_steer stack_host_steer_choose(const struct dp_port *p, char *why, size_t len);

/** "none", "rss" or "software". */
const char *stack_host_steer_name(enum stack_host_steer mode);

/** Packets this host's steering stage kept, handed to other lcores, and
 * ARP frames it copied to them (0 with one lcore). */
uint64_t stack_host_steer_kept(const struct stack_host *h);
uint64_t stack_host_steer_steered(const struct stack_host *h);

/** What an app does on each lane (one per lcore) for stack_host_lanes_run(). */
struct stack_host_lane_ops {
	/** Bring lane idx up on its lcore (its host: the owner's for idx 0,
	 * attached on queue idx for the others; its sockets and tasks).
	 * Lanes come up one at a time, 0 first. @return 0, or non-zero after
	 * saying why (then no lane runs, and every lane goes down). */
	int (*up)(unsigned int idx, void *arg);
	/** Once every lane is up: start (announce, connect...) and run the
	 * loop (ex_run) until it is stopped. */
	void (*run)(unsigned int idx, void *arg);
	/** Print and take lane idx down (also when it failed to come up).
	 * Only once every lane's loop has returned; one at a time, the last
	 * lane first, 0 last. @return its exit status. */
	int (*down)(unsigned int idx, void *arg);
};

/**
 * One lane per lcore of the EAL, the calling (main) lcore's included:
 * ops->up in turn, ops->run on all at once, ops->down in reverse turn.
 * Stop the loops with ex_stop_all(). From the main lcore, after the EAL.
 * @return the highest exit status of the lanes (0: all well).
 */
int stack_host_lanes_run(const struct stack_host_lane_ops *ops, void *arg);

/** "riptide VERSION (DPDK VERSION)": what an app's --version prints. No EAL needed. */
const char *stack_host_version(void);

/**
 * If argv[1] is --version: print "PROG: " and stack_host_version() on out
 * and return true (the app then exits 0). Call before the EAL starts.
 */
bool stack_host_want_version(int argc, char **argv, FILE *out);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_STACK_HOST_H */
