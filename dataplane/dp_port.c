/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port.c - port setup with offload negotiation and symmetric RSS.
 * Main lcore, before and after the loops run.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_kvargs.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_mempool.h>

#include "dp_port.h"
#include "dp_priv.h"
#include "dp_rss.h"

RTE_LOG_REGISTER(dp_logtype, riptide.dataplane, NOTICE);

void
dp_port_config_defaults(struct dp_port_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->nb_queues = 1;
	cfg->nb_rxd = 1024;
	cfg->nb_txd = 1024;
	cfg->promisc = true;
	cfg->rss = true;
	cfg->want_csum = true;
	cfg->want_rx_csum = true;
	cfg->want_multiseg = true;
	cfg->want_tso = true;
	cfg->nb_mbufs = 8191;
	cfg->rx_events = true;
}

#ifndef AF_XDP
#define AF_XDP 44
#endif

/* Rx wake-up fds by port and queue, stored plus one so that 0 is none. */
#define DP_EVENT_QUEUES 64
#define DP_XDP_SOCKETS_MAX 256
static int rx_event_fds[RTE_MAX_ETHPORTS][DP_EVENT_QUEUES];

int
dp_port_rx_event_fd(uint16_t port_id, uint16_t queue)
{
	if (port_id >= RTE_MAX_ETHPORTS || queue >= DP_EVENT_QUEUES)
		return -1;
	return rx_event_fds[port_id][queue] - 1;
}

unsigned int
dp_own_fds(bool (*want)(int fd, void *arg), void *arg, int *fds, unsigned int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	unsigned int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (want(fd, arg))
			fds[n++] = fd;
	}
	closedir(d);
	return n;
}

static bool
is_xdp_socket(int fd, void *arg)
{
	int domain = 0;
	socklen_t len = sizeof(domain);

	(void)arg;
	return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_XDP;
}

/* The AF_XDP sockets this process has open, up to max of them. */
static unsigned int
xdp_sockets(int *fds, unsigned int max)
{
	return dp_own_fds(is_xdp_socket, NULL, fds, max);
}

/* The one AF_XDP socket in now[] that is not in before[], or -1. */
static int
new_xdp_socket(const int *before, unsigned int nb, const int *now, unsigned int nn)
{
	unsigned int i, j;
	int found = -1;

	for (i = 0; i < nn; i++) {
		for (j = 0; j < nb && before[j] != now[i]; j++)
			;
		if (j == nb) {
			if (found >= 0)
				return -1; /* two: we cannot tell which is the queue's */
			found = now[i];
		}
	}
	return found;
}

/* After start: the PMD's rx interrupt fds. Asking a PMD without them makes
 * ethdev log an error per queue, so its log is quiet meanwhile. */
static void
find_rx_intr_fds(struct dp_port *p)
{
	int lt = rte_log_register("lib.ethdev");
	int level = lt >= 0 ? rte_log_get_level((uint32_t)lt) : -1;
	uint16_t q;

	if (level >= 0)
		rte_log_set_level((uint32_t)lt, RTE_LOG_CRIT);
	for (q = 0; q < p->nb_queues && q < DP_EVENT_QUEUES; q++) {
		int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(p->port_id, q);

		if (fd >= 0)
			rx_event_fds[p->port_id][q] = fd + 1;
	}
	if (level >= 0)
		rte_log_set_level((uint32_t)lt, (uint32_t)level);
}

/* net_af_xdp (DPDK 22.11) registers a pool's memory as its umem by a
 * formula: from the page holding the pool's first memory chunk, populated
 * objects x object size bytes. It holds only if the objects lie back to back
 * in one virtually contiguous chunk. rte_pktmbuf_pool_create() keeps each
 * object inside a page unless the pool is marked as not needing IOVA-
 * contiguous objects: with 4 KiB pages (--no-huge) a 2.3 KiB mbuf takes a
 * page, and two fifths of the pool lie past the umem's end (with 2 MiB pages,
 * the last few dozen). The kernel drops a descriptor outside the umem as
 * invalid, without a completion: the mbuf is lost, and once the pool's
 * rotation reaches those mbufs nothing more leaves the port (a 100 MB
 * proxied transfer stalled so, its tx_invalid_descs counting every frame). A
 * pool for net_af_xdp is therefore packed (RTE_MEMPOOL_F_NO_IOVA_CONTIG: no
 * page padding; net_af_xdp reaches its buffers by virtual address, and an
 * object across a page boundary matters only to a device DMAing by
 * physical address) and refused unless it ends up in one chunk. */
struct rte_mempool *
dp_pktmbuf_pool(const char *name, uint32_t n, uint32_t cache, uint16_t data_room, int socket,
		bool umem)
{
	struct rte_pktmbuf_pool_private priv = { .mbuf_data_room_size = data_room };
	struct rte_mempool *mp;
	int rc;

	if (!umem)
		return rte_pktmbuf_pool_create(name, n, cache, 0, data_room, socket);
	mp = rte_mempool_create_empty(name, n, (unsigned int)sizeof(struct rte_mbuf) + data_room,
			cache, sizeof(priv), socket, RTE_MEMPOOL_F_NO_IOVA_CONTIG);
	if (mp == NULL)
		return NULL;
	rc = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), NULL);
	if (rc == 0) {
		rte_pktmbuf_pool_init(mp, &priv);
		rc = rte_mempool_populate_default(mp);
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0 && !dp_pool_umem_ok(mp)) {
		DP_LOG(ERR,
				"mbuf pool '%s': %u mbufs in %u memory chunks, and net_af_xdp needs "
				"them in one: give the EAL more memory (-m) or hugepages",
				name, n, mp->nb_mem_chunks);
		rc = -ENOMEM;
	}
	if (rc != 0) {
		rte_mempool_free(mp);
		rte_errno = -rc;
		return NULL;
	}
	rte_mempool_obj_iter(mp, rte_pktmbuf_init, NULL);
	return mp;
}

struct umem_walk {
	uintptr_t lo, hi;
	bool ok;
};

static void
umem_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct umem_walk *w = arg;
	uintptr_t a = (uintptr_t)obj - mp->header_size;

	RTE_SET_USED(idx);
	if (a < w->lo || a + mp->header_size + mp->elt_size + mp->trailer_size > w->hi)
		w->ok = false;
}

bool
dp_pool_umem_ok(const struct rte_mempool *pool)
{
	struct rte_mempool *mp = (struct rte_mempool *)(uintptr_t)pool;
	const struct rte_mempool_memhdr *first = STAILQ_FIRST(&mp->mem_list);
	struct umem_walk w = { .ok = true };
	uintptr_t pg = (uintptr_t)getpagesize();

	if (first == NULL || mp->populated_size == 0)
		return false;
	/* As net_af_xdp's xdp_umem_configure(). */
	w.lo = (uintptr_t)first->addr & ~(pg - 1);
	w.hi = (uintptr_t)first->addr +
	       (uintptr_t)mp->populated_size *
			       rte_mempool_calc_obj_size(mp->elt_size, mp->flags, NULL);
	rte_mempool_obj_iter(mp, umem_obj, &w);
	return w.ok;
}

struct rte_mempool *
dp_mbuf_pool(int socket, uint32_t nb_mbufs, bool umem)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	struct rte_mempool *mp;

	if (socket < 0)
		socket = 0;
	snprintf(name, sizeof(name), "dp_mbufs%s_%d", umem ? "_xdp" : "", socket);
	mp = rte_mempool_lookup(name);
	if (mp != NULL)
		return mp;
	return dp_pktmbuf_pool(name, nb_mbufs, 256, RTE_MBUF_DEFAULT_BUF_SIZE, socket, umem);
}

/* net_memif carries a frame of any length its mbufs hold, whatever MTU it
 * reports (a constant 1518-byte frame that neither side enforces): it
 * chains its ring's buffers (MEMIF_DESC_FLAG_NEXT) and its mbufs. dp_port
 * takes a larger MTU for it without telling ethdev, which would refuse
 * it, on one condition: each frame fits one memif buffer (bsize=, 2048 by
 * default). DPDK 22.11's memif delivers stale ring slots as new frames
 * when frames span buffers both ways at once (seen here at MTU 9000 with
 * bsize 2048: 100 frames received per frame sent, a transfer that never
 * ends); with a buffer per frame, none. @return 0, or -EINVAL (said). */
static int
memif_takes_mtu(uint16_t port_id, const struct rte_eth_dev_info *info, uint16_t mtu)
{
	const struct rte_devargs *da = rte_dev_devargs(info->device);
	struct rte_kvargs *kv =
			da != NULL && da->args != NULL ? rte_kvargs_parse(da->args, NULL) : NULL;
	const char *v = kv != NULL ? rte_kvargs_get(kv, "bsize") : NULL;
	unsigned long bsize = v != NULL ? strtoul(v, NULL, 0) : 2048;
	uint32_t frame = (uint32_t)mtu + RTE_ETHER_HDR_LEN;

	rte_kvargs_free(kv);
	if (bsize >= frame)
		return 0;
	DP_LOG(ERR,
			"dp_port_init: port %u (net_memif): an MTU of %u makes %u-byte frames, "
			"more than one memif buffer holds (bsize=%lu): give bsize=%u or more in "
			"its --vdev, on both sides (DPDK 22.11's memif garbles traffic whose "
			"frames span buffers)",
			port_id, mtu, frame, bsize, RTE_ALIGN_CEIL(frame, 1024));
	return -EINVAL;
}

/* The largest MTU ethdev lets the port have: its max_mtu, and its largest
 * frame less the overhead ethdev counts (as eth_dev_validate_mtu does). */
static uint32_t
max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	return info->max_rx_pktlen > overhead
			       ? RTE_MIN((uint32_t)info->max_mtu, info->max_rx_pktlen - overhead)
			       : info->max_mtu;
}

int
dp_port_by_name(const char *name, uint16_t *port_id)
{
	return rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV;
}

static void
negotiate_offloads(struct dp_port *p, const struct rte_eth_dev_info *info,
		const struct dp_port_config *cfg, struct rte_eth_conf *conf)
{
	const uint64_t csum_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
				 RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t csum_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM |
				 RTE_ETH_RX_OFFLOAD_TCP_CKSUM;

	uint64_t tx_capa = info->tx_offload_capa;

	/* net_tap (DPDK 22.11) computes the "offloaded" TCP/UDP checksum in
	 * software, and gets it wrong for a multi-segment frame with a segment
	 * of odd length: it sums each segment as if it began at an even offset
	 * (seen as bad checksums on segments the stack built from several
	 * small writes). Its offload saves no work over ours: do it ourselves. */
	if (cfg->want_multiseg && strcmp(info->driver_name, "net_tap") == 0)
		tx_capa &= ~(uint64_t)(RTE_ETH_TX_OFFLOAD_UDP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM);
	/* Ask only for what the PMD reports; the rest is done in software. */
	if (cfg->want_csum) {
		conf->txmode.offloads |= tx_capa & csum_tx;
		if (cfg->want_rx_csum)
			conf->rxmode.offloads |= info->rx_offload_capa & csum_rx;
	}
	if (cfg->want_multiseg)
		conf->txmode.offloads |= info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	/* TSO only with what a segment bigger than the MTU needs: a chain of
	 * mbufs and the PMD's TCP checksum (each segment it cuts needs its own).
	 * net_tap offers it but would checksum in software, wrongly (above). */
	if (cfg->want_tso && (conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) &&
			(conf->txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM))
		conf->txmode.offloads |= tx_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO;
	p->tx_offloads = conf->txmode.offloads;
	p->rx_offloads = conf->rxmode.offloads;
}

static void
configure_rss(struct dp_port *p, const struct rte_eth_dev_info *info,
		const struct dp_port_config *cfg, struct rte_eth_conf *conf)
{
	static uint8_t key[DP_RSS_KEY_LEN];
	uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
		      info->flow_type_rss_offloads;

	if (!cfg->rss || cfg->nb_queues < 2 || hf == 0)
		return;
	memcpy(key, dp_rss_symmetric_key, sizeof(key));
	conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
	conf->rx_adv_conf.rss_conf.rss_key = key;
	conf->rx_adv_conf.rss_conf.rss_key_len = sizeof(key);
	conf->rx_adv_conf.rss_conf.rss_hf = hf;
	p->rss = true;
}

/* Read back the redirection table so dp_rss_queue() is exact. */
static void
read_reta(struct dp_port *p, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_reta_entry64 conf[DP_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	uint16_t i, n = info->reta_size;

	if (!p->rss || n == 0 || n > DP_RETA_MAX || (n & (n - 1)) != 0) {
		p->rss = p->rss && n == 0 ? false : p->rss;
		p->reta_size = 0;
		return;
	}
	memset(conf, 0, sizeof(conf));
	for (i = 0; i < n / RTE_ETH_RETA_GROUP_SIZE; i++)
		conf[i].mask = UINT64_MAX;
	if (rte_eth_dev_rss_reta_query(p->port_id, conf, n) != 0) {
		/* PMDs without a query fill the table round robin. */
		for (i = 0; i < n; i++)
			p->reta[i] = i % p->nb_queues;
	} else {
		for (i = 0; i < n; i++)
			p->reta[i] = conf[i / RTE_ETH_RETA_GROUP_SIZE]
						     .reta[i % RTE_ETH_RETA_GROUP_SIZE];
	}
	p->reta_size = n;
}

/* Mbufs taken from pool since it had before in use (0 if some came back). */
static uint32_t
held_since(const struct rte_mempool *pool, unsigned int before)
{
	unsigned int now = rte_mempool_in_use_count(pool);

	return now > before ? now - before : 0;
}

int
dp_port_init(struct dp_port *p, uint16_t port_id, const struct dp_port_config *cfg)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd, nb_txd, q;
	unsigned int in_use;
	bool mtu_unpoliced, xdp;
	int rc;

	if (p == NULL || cfg == NULL || cfg->nb_queues == 0) {
		DP_LOG(ERR, "dp_port_init: %s",
				p == NULL     ? "p is NULL"
				: cfg == NULL ? "cfg is NULL"
					      : "nb_queues 0");
		return -EINVAL;
	}
	if (!rte_eth_dev_is_valid_port(port_id)) {
		DP_LOG(ERR, "dp_port_init: no port %u (the EAL made %u)", port_id,
				rte_eth_dev_count_avail());
		return -ENODEV;
	}
	memset(p, 0, sizeof(*p));
	p->port_id = port_id;
	p->nb_queues = cfg->nb_queues;
	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		return rc;
	if (cfg->nb_queues > info.max_rx_queues || cfg->nb_queues > info.max_tx_queues) {
		DP_LOG(ERR, "dp_port_init: port %u (%s) has at most %u queue pairs, not %u",
				port_id, info.driver_name,
				RTE_MIN(info.max_rx_queues, info.max_tx_queues), cfg->nb_queues);
		return -EINVAL;
	}
	rte_eth_dev_get_name_by_port(port_id, p->name);
	p->socket = rte_eth_dev_socket_id(port_id);
	if (p->socket < 0)
		p->socket = (int)rte_socket_id();
	xdp = strcmp(info.driver_name, "net_af_xdp") == 0;
	p->pool = cfg->pool != NULL ? cfg->pool : dp_mbuf_pool(p->socket, cfg->nb_mbufs, xdp);
	if (p->pool == NULL)
		return -ENOMEM;
	if (xdp && !dp_pool_umem_ok(p->pool)) {
		DP_LOG(ERR,
				"dp_port_init: port %u (net_af_xdp): mbuf pool '%s' reaches past the "
				"umem net_af_xdp would make of it (make it with dp_pktmbuf_pool(..., "
				"umem true))",
				port_id, p->pool->name);
		return -EINVAL;
	}

	memset(&conf, 0, sizeof(conf));
	negotiate_offloads(p, &info, cfg, &conf);
	configure_rss(p, &info, cfg, &conf);
	/* The rx queues' wake-up fds: net_af_xdp has no rx interrupt, but its
	 * sockets are pollable; the others get rx interrupts if they take them. */
	p->pmd_keeps_mbufs = xdp;
	p->rx_events = cfg->rx_events;
	p->rx_intr = cfg->rx_events && !p->pmd_keeps_mbufs;
	memset(rx_event_fds[port_id], 0, sizeof(rx_event_fds[port_id]));
	conf.intr_conf.rxq = p->rx_intr;
	/* The MTU goes in at configure (ethdev checks it against the PMD's
	 * max_mtu) and again by set_mtu below, for the PMDs that act on it. */
	mtu_unpoliced = cfg->mtu > max_mtu(&info) && strcmp(info.driver_name, "net_memif") == 0;
	if (mtu_unpoliced && memif_takes_mtu(port_id, &info, cfg->mtu) != 0)
		return -EINVAL;
	if (cfg->mtu > max_mtu(&info) && !mtu_unpoliced) {
		DP_LOG(ERR, "dp_port_init: port %u (%s) takes an MTU of %u at most, not %u",
				port_id, info.driver_name, max_mtu(&info), cfg->mtu);
		return -EINVAL;
	}
	conf.rxmode.mtu = mtu_unpoliced ? 0 : cfg->mtu;
	rc = rte_eth_dev_configure(port_id, cfg->nb_queues, cfg->nb_queues, &conf);
	if (rc != 0 && p->rx_intr) {
		p->rx_intr = false;
		conf.intr_conf.rxq = 0;
		rc = rte_eth_dev_configure(port_id, cfg->nb_queues, cfg->nb_queues, &conf);
	}
	if (rc != 0)
		return rc;
	nb_rxd = cfg->nb_rxd;
	nb_txd = cfg->nb_txd;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	/* -ENOTSUP: the PMD has no MTU of its own to set (memif, ring, null:
	 * they carry any frame their mbufs hold), and configure took it. */
	if (cfg->mtu != 0 && !mtu_unpoliced && (rc = rte_eth_dev_set_mtu(port_id, cfg->mtu)) != 0 &&
			rc != -ENOTSUP)
		return rc;
	txconf = info.default_txconf;
	txconf.offloads = conf.txmode.offloads;
	/* The rx fill a PMD takes from the pool, here and in dp_port_start(),
	 * is the leak check's allowance for PMDs that keep it at close. */
	in_use = rte_mempool_in_use_count(p->pool);
	for (q = 0; q < cfg->nb_queues; q++) {
		bool xdp = p->rx_events && p->pmd_keeps_mbufs && q < DP_EVENT_QUEUES;
		int before[DP_XDP_SOCKETS_MAX], now[DP_XDP_SOCKETS_MAX], fd;
		unsigned int nb = xdp ? xdp_sockets(before, RTE_DIM(before)) : 0;

		rc = rte_eth_rx_queue_setup(
				port_id, q, nb_rxd, (unsigned int)p->socket, NULL, p->pool);
		if (rc != 0)
			return rc;
		/* net_af_xdp opens the queue's socket here: the new one. */
		if (xdp && (fd = new_xdp_socket(before, nb, now, xdp_sockets(now, RTE_DIM(now)))) >=
						0)
			rx_event_fds[port_id][q] = fd + 1;
		rc = rte_eth_tx_queue_setup(port_id, q, nb_txd, (unsigned int)p->socket, &txconf);
		if (rc != 0)
			return rc;
	}
	p->pmd_held = held_since(p->pool, in_use);
	p->promisc = cfg->promisc;
	if (cfg->defer_start)
		return 0;
	return dp_port_start(p);
}

int
dp_port_start(struct dp_port *p)
{
	struct rte_eth_dev_info info;
	unsigned int in_use;
	int rc;

	if (p->started)
		return 0;
	in_use = rte_mempool_in_use_count(p->pool);
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		return rc;
	p->pmd_held += held_since(p->pool, in_use);
	p->started = true;
	if (p->rx_intr)
		find_rx_intr_fds(p);
	dp_tap_quiet(p);
	if (p->promisc)
		rte_eth_promiscuous_enable(p->port_id); /* not every PMD has it; fine */
	if (rte_eth_dev_info_get(p->port_id, &info) == 0)
		read_reta(p, &info);
	dp_tap_steer(p); /* after read_reta: its table is the program's */
	return 0;
}

int
dp_port_wait_link(const struct dp_port *p, uint32_t timeout_ms, struct rte_eth_link *link)
{
	struct rte_eth_link l;
	uint64_t deadline = rte_get_timer_cycles() + rte_get_timer_hz() / 1000 * timeout_ms;
	int rc;

	for (;;) {
		memset(&l, 0, sizeof(l));
		rc = rte_eth_link_get_nowait(p->port_id, &l);
		if (rc != 0)
			return rc;
		if (link != NULL)
			*link = l;
		if (l.link_status == RTE_ETH_LINK_UP)
			return 0;
		if (rte_get_timer_cycles() >= deadline)
			return -ETIMEDOUT;
		rte_delay_ms(10);
	}
}

int
dp_port_xstats_print(const struct dp_port *p, FILE *out)
{
	struct rte_eth_xstat *xs;
	struct rte_eth_xstat_name *names;
	int n, i, printed = 0;

	n = rte_eth_xstats_get(p->port_id, NULL, 0);
	if (n <= 0)
		return n;
	xs = calloc((size_t)n, sizeof(*xs));
	names = calloc((size_t)n, sizeof(*names));
	if (xs == NULL || names == NULL) {
		free(xs);
		free(names);
		return -ENOMEM;
	}
	if (rte_eth_xstats_get(p->port_id, xs, (unsigned int)n) == n &&
			rte_eth_xstats_get_names(p->port_id, names, (unsigned int)n) == n) {
		for (i = 0; i < n; i++) {
			if (xs[i].value == 0)
				continue;
			fprintf(out, "  %s.%s: %" PRIu64 "\n", p->name, names[i].name, xs[i].value);
			printed++;
		}
	}
	free(xs);
	free(names);
	return printed;
}

uint64_t
dp_pool_leaked(const struct rte_mempool *pool, const struct dp_port *ports, unsigned int n,
		uint64_t *kept)
{
	uint64_t allowed = 0, in_use = rte_mempool_in_use_count(pool);
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ports[i].pool == pool && ports[i].pmd_keeps_mbufs)
			allowed += ports[i].pmd_held;
	if (kept != NULL)
		*kept = allowed;
	return in_use > allowed ? in_use - allowed : 0;
}

uint64_t
dp_pool_leak_report(const struct rte_mempool *pool, const struct dp_port *ports, unsigned int n,
		const char *prefix, FILE *out)
{
	uint64_t kept, in_use = rte_mempool_in_use_count(pool);
	uint64_t leaked = dp_pool_leaked(pool, ports, n, &kept);

	if (leaked != 0)
		fprintf(out, "%s%" PRIu64 " mbufs not returned to the pool\n", prefix, leaked);
	else if (in_use != 0)
		fprintf(out,
				"%s%" PRIu64 " mbufs kept by net_af_xdp's fill ring after close "
				"(at most %" PRIu64 ", its fill at start; PMD behaviour in DPDK "
				"22.11); none held by riptide\n",
				prefix, in_use, kept);
	else
		fprintf(out, "%sall mbufs returned to the pool\n", prefix);
	return leaked;
}

/*
 * net_af_xdp hands a sent mbuf to the kernel and takes it back only when it
 * reaps the completion ring, which it does inside a later tx burst. Before
 * close, give it empty bursts until nothing more comes back (at most ~20 ms),
 * so the mbufs of the last sends are not counted as kept or leaked.
 */
static void
reap_tx_completions(const struct dp_port *p)
{
	struct rte_mbuf *none[1];
	unsigned int before, i;
	uint16_t q;

	for (i = 0; i < 20; i++) {
		before = rte_mempool_in_use_count(p->pool);
		for (q = 0; q < p->nb_queues; q++)
			(void)rte_eth_tx_burst(p->port_id, q, none, 0);
		if (i > 1 && rte_mempool_in_use_count(p->pool) >= before)
			break;
		rte_delay_ms(1);
	}
}

void
dp_port_close(struct dp_port *p)
{
	if (p == NULL || !rte_eth_dev_is_valid_port(p->port_id))
		return;
	if (p->started && p->pmd_keeps_mbufs)
		reap_tx_completions(p);
	if (p->started)
		rte_eth_dev_stop(p->port_id);
	p->started = false;
	dp_tap_release(p);
	dp_tap_unsteer(p);
	memset(rx_event_fds[p->port_id], 0, sizeof(rx_event_fds[p->port_id]));
	rte_eth_dev_close(p->port_id);
}
