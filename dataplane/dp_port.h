/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port.h - ports for any PMD (vdev or PCI): queues, mempools, offload
 * negotiation, RSS with a symmetric key, MTU, promiscuous mode, link wait,
 * xstats, stop and close.
 *
 * One rx/tx queue pair per lcore that uses the port. Offloads are requested
 * only when the PMD reports them; dp_port_tx_offload() tells the stack which
 * checksums it must compute in software. RSS is configured with a symmetric
 * key (both directions of a flow hash alike) when the port has more than one
 * queue and the PMD supports it; dp_rss.h computes, in software, the queue a
 * tuple lands on.
 *
 * Lcore: configure and close from the main lcore, before/after the loops run.
 */
#ifndef RIPTIDE_DP_PORT_H
#define RIPTIDE_DP_PORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;
struct rte_eth_link;

#define DP_RETA_MAX 512
/** Queues of a net_tap port that dp_port polls without signals (dp_tap.c). */
#define DP_PORT_MAX_QUEUES 64

/** Port configuration; start from dp_port_config_defaults(). */
struct dp_port_config {
	uint16_t nb_queues; /**< rx/tx queue pairs; default 1 */
	uint16_t nb_rxd; /**< rx descriptors per queue; default 1024 */
	uint16_t nb_txd; /**< tx descriptors per queue; default 1024 */
	uint16_t mtu; /**< 0: keep the PMD's */
	bool promisc; /**< default true */
	bool rss; /**< symmetric RSS when nb_queues > 1; default true */
	bool want_csum; /**< request checksum offloads when offered; default true */
	bool want_rx_csum; /**< with want_csum: the rx ones too; default true (false:
			    * tx only, e.g. a wire that must pass frames as they are) */
	bool want_multiseg; /**< request multi-segment tx when offered; default true */
	bool want_tso; /**< request TCP segmentation offload when offered together
			* with TCP checksums and multi-segment tx (with want_csum
			* and want_multiseg); default true */
	uint32_t nb_mbufs; /**< pool size when the port makes its pool; default 8191 */
	struct rte_mempool *pool; /**< NULL: the shared pool of the port's socket */
	bool rx_events; /**< find each rx queue a wake-up fd (the PMD's rx
			 * interrupt, or net_af_xdp's socket) so that an idle
			 * executor sleeps on it (dp_port_rx_event_fd); default
			 * true */
	bool defer_start; /**< configure only; dp_port_start() later. Some PMD pairs
			   * (memif server and client in one process) need every
			   * port configured before any starts, as testpmd does. */
};

void dp_port_config_defaults(struct dp_port_config *cfg);

/** A configured and started port. */
struct dp_port {
	uint16_t port_id;
	uint16_t nb_queues;
	int socket;
	struct rte_mempool *pool;
	uint64_t rx_offloads; /**< negotiated RTE_ETH_RX_OFFLOAD_* */
	uint64_t tx_offloads; /**< negotiated RTE_ETH_TX_OFFLOAD_* */
	bool rss; /**< RSS on, with the symmetric key */
	uint16_t reta_size; /**< 0 when the PMD has no RSS */
	uint16_t reta[DP_RETA_MAX];
	char name[64];
	bool promisc;
	bool started;
	uint32_t pmd_held; /**< mbufs the PMD took from the pool to fill its rx
			    * rings during queue setup and start */
	bool rx_events; /**< look for rx wake-up fds at start (cfg.rx_events) */
	bool rx_intr; /**< configured with rx interrupts (intr_conf.rxq) */
	bool pmd_keeps_mbufs; /**< the PMD does not give pmd_held back at close
			       * (net_af_xdp's fill ring, DPDK 22.11) */
	bool tap_quiet; /**< net_tap without a signal per packet (dp_tap.c) */
	const struct rte_eth_rxtx_callback *tap_rearm[DP_PORT_MAX_QUEUES];
	bool tap_steered; /**< net_tap whose queues the kernel fills by riptide's
			   * flow hash (dp_tap_steer.c): rss, reta i % n */
};

/**
 * Configure, set up queues and start a port.
 * @return 0, or -errno: -ENODEV (no such port), -EINVAL (bad config, e.g.
 *         more queues than the PMD has), -ENOMEM (pool), or the PMD's error.
 *         On error the port is left stopped and nothing is leaked.
 */
int dp_port_init(struct dp_port *p, uint16_t port_id, const struct dp_port_config *cfg);

/** Start a port configured with defer_start. @return 0 or -errno. */
int dp_port_start(struct dp_port *p);

/**
 * The fd that becomes readable when rx queue (port_id, queue) receives, for
 * an idle executor to sleep on: the PMD's rx interrupt event fd where it has
 * one (net_tap: the queue's own fd; net_virtio_user: the vring's call fd,
 * after rte_eth_dev_rx_intr_enable), else net_af_xdp's XDP socket. -1 when
 * the port has none (the executor then naps) or was set up without
 * rx_events. Valid from dp_port_start() to dp_port_close().
 */
int dp_port_rx_event_fd(uint16_t port_id, uint16_t queue);

/** Find a port by its device name (e.g. "net_null0"); -ENODEV if none. */
int dp_port_by_name(const char *name, uint16_t *port_id);

/**
 * Wait up to timeout_ms for link up. @return 0 (up), -ETIMEDOUT, or -errno.
 * link may be NULL.
 */
int dp_port_wait_link(const struct dp_port *p, uint32_t timeout_ms, struct rte_eth_link *link);

/** True if the negotiated tx offloads include all of flags. */
static inline bool
dp_port_tx_offload(const struct dp_port *p, uint64_t flags)
{
	return (p->tx_offloads & flags) == flags;
}

/** Print non-zero extended statistics. @return count printed or -errno. */
int dp_port_xstats_print(const struct dp_port *p, FILE *out);

/** Stop and close the port. Mbufs held by its queues go back to the pool. */
void dp_port_close(struct dp_port *p);

/**
 * The mbufs of pool still out after every port in ports[0..n) has been closed,
 * beyond those that a PMD keeps by design. A PMD that keeps its rx fill
 * (pmd_keeps_mbufs) may keep at most what it took at queue setup and start
 * (pmd_held); any other port must have given every mbuf back. Call after
 * dp_port_close() on each port and once the app has freed everything it held.
 * @param kept  if not NULL, set to what the PMDs may keep (the allowance).
 * @return mbufs leaked: 0 when nothing is out beyond the allowance.
 * Lcore: the main lcore, after the loops have stopped.
 */
uint64_t dp_pool_leaked(const struct rte_mempool *pool, const struct dp_port *ports, unsigned int n,
		uint64_t *kept);

/**
 * dp_pool_leaked(), said in one line on out, after prefix: "all mbufs
 * returned to the pool"; "N mbufs kept by net_af_xdp's fill ring after close
 * (at most M, its fill at start); none held by riptide"; or "N mbufs not
 * returned to the pool". @return as dp_pool_leaked().
 * Lcore: the main lcore, after the loops have stopped.
 */
uint64_t dp_pool_leak_report(const struct rte_mempool *pool, const struct dp_port *ports,
		unsigned int n, const char *prefix, FILE *out);

/**
 * An mbuf pool (as rte_pktmbuf_pool_create(), no private area). umem: laid
 * out for net_af_xdp, which registers the pool's memory as its umem assuming
 * the objects lie back to back in one chunk: packed (no object kept inside a
 * page; fine wherever buffers are reached by virtual address, not for a
 * device DMAing by physical address), and refused (NULL, rte_errno ENOMEM,
 * said in the log) unless it fits in one chunk.
 * @return the pool, or NULL with rte_errno set.
 */
struct rte_mempool *dp_pktmbuf_pool(const char *name, uint32_t n, uint32_t cache,
		uint16_t data_room, int socket, bool umem);

/**
 * Whether every object of pool lies inside the umem net_af_xdp (DPDK 22.11)
 * makes of it: from the page of its first memory chunk, populated objects x
 * object size bytes. A descriptor outside it is dropped by the kernel as
 * invalid, and its mbuf never comes back. dp_port_init() refuses a net_af_xdp
 * port whose pool fails this.
 */
bool dp_pool_umem_ok(const struct rte_mempool *pool);

/**
 * The shared mbuf pool of a NUMA socket, made on first use with nb_mbufs
 * mbufs (RTE_MBUF_DEFAULT_BUF_SIZE, a per-lcore cache of 256); umem: the
 * one laid out for net_af_xdp (dp_pktmbuf_pool()), a pool of its own.
 * @return the pool, or NULL with rte_errno set.
 */
struct rte_mempool *dp_mbuf_pool(int socket, uint32_t nb_mbufs, bool umem);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_PORT_H */
