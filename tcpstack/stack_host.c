/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stack_host.c - a whole host up and down in order (see stack_host.h). Each
 * step that succeeds raises h->stage; a failure takes down exactly the steps
 * below it, in reverse, so that stack_host_up() never leaves half a host.
 */
#include "stack_host.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <rte_pdump.h>
#include <rte_version.h>

#include "stack_priv.h"

/* How far up a host came; down undoes from the top. */
enum host_stage {
	HOST_NONE = 0,
	HOST_EAL,
	HOST_POOL,
	HOST_PORT,
	HOST_EXECUTOR,
	HOST_STREAMS,
	HOST_IMPAIR,
	HOST_STEER,
	HOST_STACK,
	HOST_TCP,
	HOST_UP,
};

void
stack_host_config_defaults(struct stack_host_config *cfg)
{
	const char *bp = getenv("RIPTIDE_TX_BACKPRESSURE");

	memset(cfg, 0, sizeof(*cfg));
	cfg->name = "riptide";
	cfg->min_huge_mb = 256;
	cfg->nb_ports = 1;
	cfg->nb_mbufs = 32767;
	cfg->pool_cache = 256;
	dp_port_config_defaults(&cfg->port);
	ex_config_defaults(&cfg->ex);
	cfg->ex.name = NULL; /* the host's name */
	cfg->stack_on = true;
	stack_config_defaults(&cfg->stack);
	cfg->tcp_on = true;
	tcp_config_defaults(&cfg->tcp);
	cfg->linger_ms = STACK_HOST_LINGER_MS;
	cfg->tx_backpressure = bp == NULL || strcmp(bp, "0") != 0;
}

static int
fail(struct stack_host *h, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->err, sizeof(h->err), fmt, ap);
	va_end(ap);
	return rc;
}

static int
host_eal(struct stack_host *h, struct stack_host_config *cfg)
{
	int rc;

	rc = rte_lcore_count() > 0 ? -EALREADY
				   : dp_eal_init(cfg->argc, cfg->argv, cfg->min_huge_mb, &h->eal);
	if (rc == -EALREADY)
		return fail(h, rc,
				"EAL: already initialised (give no argv to stack_host_up "
				"after dp_eal_init)");
	if (rc != 0)
		return fail(h, rc, "EAL: %s (check the EAL arguments before \"--\")",
				strerror(-rc));
	h->eal_owned = true;
	h->stage = HOST_EAL;
	if (cfg->args != NULL) {
		rc = cfg->args(cfg, h->eal.app_argc, h->eal.app_argv, cfg->args_arg);
		if (rc > 0)
			return fail(h, -ECANCELED, "stopped by the arguments");
		if (rc < 0)
			return fail(h, rc, "arguments: %s", strerror(-rc));
	}
	return 0;
}

/*
 * Packet capture: Debian's dpdk-dumpcap (and dpdk-pdump) attach to a primary
 * process as a secondary and capture on its ports only if it called
 * rte_pdump_init(). Every host does, once per process (the first host up
 * initialises, the last one down uninitialises). Where the EAL cannot share
 * memory with another process (--no-huge, --in-memory) there is nothing to
 * attach to: said at debug level, and the host comes up all the same.
 * Hosts are brought up and down one at a time (the main thread, or workers
 * taking turns, as pktbench's do): the count needs no atomics.
 */
static unsigned int pdump_users;
static bool pdump_on;

static void
host_pdump_get(void)
{
	if (pdump_users++ != 0 || rte_eal_process_type() != RTE_PROC_PRIMARY)
		return;
	pdump_on = rte_pdump_init() == 0;
	if (!pdump_on)
		STACK_LOG(DEBUG, "rte_pdump_init: %s: dpdk-dumpcap cannot attach",
				rte_strerror(rte_errno));
}

static void
host_pdump_put(void)
{
	if (pdump_users == 0 || --pdump_users != 0 || !pdump_on)
		return;
	rte_pdump_uninit();
	pdump_on = false;
}

/* The ports to bring up, in order: the one named, nb_ports from port_id on,
 * or every one there is. */
static int
host_port_ids(struct stack_host *h, const struct stack_host_config *cfg,
		uint16_t ids[STACK_HOST_MAX_PORTS])
{
	uint16_t pid, n = 0;

	if (cfg->nb_ports == 0) {
		RTE_ETH_FOREACH_DEV(pid)
		{
			if (n == STACK_HOST_MAX_PORTS)
				break;
			ids[n++] = pid;
		}
		if (n == 0)
			return fail(h, -ENODEV,
					"no ports: give one to the EAL, e.g. --vdev "
					"net_null0");
		return n;
	}
	if (cfg->nb_ports > STACK_HOST_MAX_PORTS)
		return fail(h, -EINVAL, "nb_ports %u: at most %d", cfg->nb_ports,
				STACK_HOST_MAX_PORTS);
	if (cfg->nb_ports > 1) {
		/* nb_ports from port_id on: a worker's share of the ports. */
		for (n = 0; n < cfg->nb_ports; n++) {
			pid = (uint16_t)(cfg->port_id + n);
			if (!rte_eth_dev_is_valid_port(pid))
				return fail(h, -ENODEV, "port %u: no such port (%u from port %u)",
						pid, cfg->nb_ports, cfg->port_id);
			ids[n] = pid;
		}
		return n;
	}
	pid = cfg->port_id;
	if (cfg->port_name != NULL) {
		if (dp_port_by_name(cfg->port_name, &pid) != 0)
			return fail(h, -ENODEV,
					"port %s: no such device (give it to the EAL, "
					"e.g. --vdev %s)",
					cfg->port_name, cfg->port_name);
	} else if (!rte_eth_dev_is_valid_port(pid)) {
		return fail(h, -ENODEV,
				"port %u: no such port (give one to the EAL, e.g. "
				"--vdev net_tap0)",
				pid);
	}
	ids[0] = pid;
	return 1;
}

/* A sharer takes the owner's ports as they are (a copy of each port's
 * description: id, offloads, queues) and checks its queue is one of theirs. */
static int
host_attach(struct stack_host *h, const struct stack_host_config *cfg)
{
	const struct stack_host *o = cfg->attach;
	uint16_t i;

	if (o->stage < HOST_PORT || o->attached || o->nb_ports == 0)
		return fail(h, -EINVAL, "attach: host %s has no ports of its own up", o->name);
	for (i = 0; i < o->nb_ports; i++)
		if (cfg->queue == 0 || cfg->queue >= o->ports[i].nb_queues)
			return fail(h, -EINVAL,
					"attach: queue %u of %s: it has queues 0..%u (0 is the "
					"owner's; give the owner port.nb_queues = one per lcore)",
					cfg->queue, o->ports[i].name, o->ports[i].nb_queues - 1);
	memcpy(h->ports, o->ports, sizeof(h->ports));
	h->nb_ports = o->nb_ports;
	h->attached = true;
	h->queue = cfg->queue;
	return 0;
}

/* An mbuf's data room: a whole frame of the MTU in one mbuf (rx needs no
 * chains; tx chains the payload's indirect mbufs behind a header mbuf).
 * Room beyond the frame for what a PMD counts in it (a VLAN tag, the CRC,
 * virtio's 12-byte header: virtio refuses a pool it would have to
 * scatter into), rounded up to a KiB. */
static uint16_t
host_data_room(uint16_t mtu)
{
	uint32_t frame = (uint32_t)mtu + RTE_ETHER_HDR_LEN + 64;

	return (uint16_t)RTE_MAX((uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE,
			RTE_PKTMBUF_HEADROOM + RTE_ALIGN_CEIL(frame, 1024));
}

static int
host_ports(struct stack_host *h, const struct stack_host_config *cfg)
{
	struct dp_port_config pcfg = cfg->port;
	char pname[RTE_MEMPOOL_NAMESIZE];
	uint16_t ids[STACK_HOST_MAX_PORTS];
	bool umem = false;
	int rc, n = 0, i;

	if (cfg->mtu != 0 && (cfg->mtu < STACK_HOST_MTU_MIN || cfg->mtu > STACK_HOST_MTU_MAX))
		return fail(h, -EINVAL, "MTU %u: must be %u..%u", cfg->mtu, STACK_HOST_MTU_MIN,
				STACK_HOST_MTU_MAX);
	if (cfg->attach != NULL) {
		rc = host_attach(h, cfg);
		if (rc != 0)
			return rc;
	} else {
		n = host_port_ids(h, cfg, ids);
		if (n < 0)
			return n;
	}
	for (i = 0; i < n; i++) {
		struct rte_eth_dev_info info;

		if (rte_eth_dev_info_get(ids[i], &info) == 0 &&
				strcmp(info.driver_name, "net_af_xdp") == 0)
			umem = true;

		/* Said before anything is allocated: the likeliest mistake with
		 * several lcores, and the PMD's own message is a bare EINVAL. */
		if (pcfg.nb_queues > 1 && rte_eth_dev_info_get(ids[i], &info) == 0 &&
				RTE_MIN(info.max_rx_queues, info.max_tx_queues) < pcfg.nb_queues)
			return fail(h, -EINVAL,
					"port %u (%s): %u queue pair(s) at most, and %u lcores need "
					"one each: run on fewer lcores (-l), or give the port more "
					"queues (af_xdp: queue_count= and as many combined channels; "
					"virtio-user: queues=)",
					ids[i], info.driver_name,
					RTE_MIN(info.max_rx_queues, info.max_tx_queues),
					pcfg.nb_queues);
	}
	snprintf(pname, sizeof(pname), "%.24s", h->name);
	/* net_af_xdp makes the pool its umem: laid out for it (dp_port.h). */
	h->pool = dp_pktmbuf_pool(pname, cfg->nb_mbufs, cfg->pool_cache, host_data_room(cfg->mtu),
			(int)rte_socket_id(), umem);
	if (h->pool == NULL)
		return fail(h, rte_errno != 0 ? -rte_errno : -ENOMEM, "mbuf pool '%s' of %u: %s",
				pname, cfg->nb_mbufs, rte_strerror(rte_errno));
	h->stage = HOST_POOL;
	host_pdump_get();
	if (h->attached) {
		h->stage = HOST_PORT;
		return 0;
	}
	pcfg.pool = h->pool;
	if (cfg->mtu != 0)
		pcfg.mtu = cfg->mtu;
	pcfg.defer_start = true; /* every port configured before any starts */
	for (i = 0; i < n; i++) {
		rc = dp_port_init(&h->ports[i], ids[i], &pcfg);
		if (rc != 0)
			return fail(h, rc, "port %u: %s", ids[i], strerror(-rc));
		h->nb_ports++;
		h->stage = HOST_PORT;
	}
	for (i = 0; i < n; i++) {
		rc = dp_port_start(&h->ports[i]);
		if (rc != 0)
			return fail(h, rc, "start %s: %s", h->ports[i].name, strerror(-rc));
	}
	return 0;
}

static int
host_executor(struct stack_host *h, const struct stack_host_config *cfg)
{
	struct ex_config ecfg = cfg->ex;
	uint16_t i;

	if (ecfg.name == NULL)
		ecfg.name = h->name;
	if (cfg->busy_poll)
		ecfg.idle_policy = EX_IDLE_POLICY_BUSY_POLL;
	else if (ecfg.idle_policy == EX_IDLE_POLICY_BUSY_POLL)
		/* A host shares its core unless asked to poll. */
		ecfg.idle_policy = EX_IDLE_POLICY_BACKOFF;
	h->ex = ex_executor_create(rte_lcore_id(), &ecfg);
	if (h->ex == NULL)
		return fail(h, rte_errno != 0 ? -rte_errno : -ENOMEM, "executor on lcore %u: %s",
				rte_lcore_id(), rte_strerror(rte_errno));
	h->stage = HOST_EXECUTOR;
	for (i = 0; i < h->nb_ports; i++) {
		dp_rx_stream_init(&h->rx[i], h->ex, h->ports[i].port_id, h->queue);
		dp_tx_sink_init(&h->tx[i], h->ex, h->ports[i].port_id, h->queue);
		if (cfg->tx_hold_us != 0)
			dp_tx_sink_set_hold(&h->tx[i], cfg->tx_hold_us);
	}
	h->stage = HOST_STREAMS;
	return 0;
}

/* PMDs whose rx queue is chosen by the sender (the kernel, a vhost peer) or
 * by nothing, whatever they report of RSS: riptide steers for them. */
static const char *const sender_steered[] = {
	"net_tap",
	"net_af_xdp",
	"net_memif",
	"net_virtio_user",
	"net_vhost",
	"net_ring",
	"net_null",
	"net_pcap",
	"net_af_packet",
};

enum stack_host_steer
stack_host_steer_choose(const struct dp_port *p, char *why, size_t len)
{
	struct rte_eth_dev_info info;
	const char *drv = "?";
	size_t i;

	if (p->nb_queues < 2) {
		snprintf(why, len, "one queue: no steering");
		return STACK_HOST_STEER_NONE;
	}
	if (rte_eth_dev_info_get(p->port_id, &info) == 0 && info.driver_name != NULL)
		drv = info.driver_name;
	if (p->tap_steered) {
		snprintf(why, len,
				"rss (the kernel fills %s's queues by riptide's flow hash: a "
				"tun steering program, %u-entry table)",
				drv, p->reta_size);
		return STACK_HOST_STEER_RSS;
	}
	for (i = 0; i < RTE_DIM(sender_steered); i++)
		if (strcmp(drv, sender_steered[i]) == 0) {
			snprintf(why, len, "software steering (%s cannot steer flows to queues)",
					drv);
			return STACK_HOST_STEER_SOFT;
		}
	if (!p->rss || p->reta_size == 0) {
		snprintf(why, len, "software steering (%s has no RSS table)", drv);
		return STACK_HOST_STEER_SOFT;
	}
	snprintf(why, len, "rss (%s hashes with the symmetric key, %u-entry table)", drv,
			p->reta_size);
	return STACK_HOST_STEER_RSS;
}

const char *
stack_host_steer_name(enum stack_host_steer mode)
{
	switch (mode) {
	case STACK_HOST_STEER_RSS:
		return "rss";
	case STACK_HOST_STEER_SOFT:
		return "software";
	default:
		return "none";
	}
}

/* The owner: choose, and make the group every host's inbox lives in. */
static int
host_group(struct stack_host *h)
{
	int rc;

	h->steer_mode = stack_host_steer_choose(&h->ports[0], h->steer_why, sizeof(h->steer_why));
	if (h->steer_mode == STACK_HOST_STEER_NONE)
		return 0;
	rc = dp_steer_group_create(&h->own_group, h->name, h->ports[0].nb_queues, 4096);
	if (rc != 0)
		return fail(h, rc, "steering: %u inbox rings: %s", h->ports[0].nb_queues,
				strerror(-rc));
	if (h->steer_mode == STACK_HOST_STEER_RSS &&
			dp_steer_group_follow(&h->own_group, &h->ports[0]) != 0) {
		h->steer_mode = STACK_HOST_STEER_SOFT;
		snprintf(h->steer_why, sizeof(h->steer_why),
				"software steering (%s: its RSS table names other queues)",
				h->ports[0].name);
	}
	h->group = &h->own_group;
	return 0;
}

/* More than one lcore: this host's member of the group, between its queue
 * and its stack. */
static int
host_steer(struct stack_host *h, const struct stack_host_config *cfg, struct ex_stream **in)
{
	const struct stack_host *o = h->attached ? cfg->attach : h;
	int rc;

	if (!h->attached) {
		rc = host_group(h);
		if (rc != 0)
			return rc;
	} else if (o->group == NULL) {
		return fail(h, -EINVAL,
				"attach: host %s has no stack on %u queues to steer with (give it "
				"stack_on and port.nb_queues)",
				o->name, h->ports[0].nb_queues);
	} else {
		h->group = o->group;
		h->steer_mode = o->steer_mode;
		snprintf(h->steer_why, sizeof(h->steer_why), "%s", o->steer_why);
	}
	if (h->group == NULL)
		return 0;
	if (cfg->impair != NULL)
		return fail(h, -EINVAL, "impairment: on one lcore only (this host is one of %u)",
				h->group->n);
	/* ARP copies come from the owner's pool, as every received frame
	 * does: whatever an inbox still holds at the end is the owner's. */
	rc = dp_steer_init(&h->steer, h->ex, *in, h->group, h->queue, o->pool);
	if (rc != 0)
		return fail(h, rc, "steering: member %u: %s", h->queue, strerror(-rc));
	h->stage = HOST_STEER;
	rc = ex_spawn(&h->steer.cls.base, NULL, NULL);
	if (rc != 0)
		return fail(h, rc, "the steering task: %s", strerror(-rc));
	*in = &h->steer.inbox.base;
	return 0;
}

uint64_t
stack_host_steer_kept(const struct stack_host *h)
{
	return h->group != NULL && h->stage > HOST_STEER ? dp_steer_kept(&h->steer) : 0;
}

uint64_t
stack_host_steer_steered(const struct stack_host *h)
{
	return h->group != NULL && h->stage > HOST_STEER ? dp_steer_steered(&h->steer) : 0;
}

static bool
host_tx_room(void *arg, const struct ex_waker *w)
{
	return dp_tx_sink_room(arg, w);
}

static int
host_stack(struct stack_host *h, const struct stack_host_config *cfg)
{
	struct stack_config scfg = cfg->stack;
	struct tcp_config tcfg = cfg->tcp;
	struct ex_stream *in = &h->rx[0].base;
	struct ex_sink *out = &h->tx[0].base;
	int rc;

	if (cfg->impair != NULL) {
		rc = dp_impair_link_init(&h->imp, h->ex, &h->rx[0], &h->tx[0], cfg->impair, h->pool,
				h->name);
		if (rc != 0)
			return fail(h, rc, "impairment stage: %s", strerror(-rc));
		h->impaired = true;
		in = h->imp.in;
		out = h->imp.out;
	}
	h->stage = HOST_IMPAIR;
	if (!cfg->stack_on) {
		h->stage = HOST_UP;
		return 0;
	}
	if (scfg.ip == 0)
		return fail(h, -EINVAL, "stack: no address (stack.ip, e.g. --ip 198.18.0.2/24)");
	if (scfg.prefix_len > 32)
		return fail(h, -EINVAL, "stack: prefix length %u is over 32", scfg.prefix_len);
	if (cfg->mtu != 0)
		scfg.mtu = cfg->mtu;
	rc = host_steer(h, cfg, &in);
	if (rc != 0)
		return rc;
	h->stage = HOST_STEER;
	if (h->group != NULL) {
		/* One answer per ARP request on the wire: the owner's. */
		if (h->queue != 0)
			scfg.arp_quiet = true;
		/* Active opens whose replies come back to this lcore. */
		tcfg.rss_port = &h->group->view;
		tcfg.rss_queue = h->queue;
	}
	rte_eth_macaddr_get(h->ports[0].port_id, &scfg.mac);
	scfg.tx_offloads = h->ports[0].tx_offloads; /* checksums the PMD computes for us */
	if (h->impaired)
		/* The tx stage stands for the wire: checksums must be final before
		 * it, or the PMD would checksum corrupted bytes; and it loses,
		 * delays and corrupts frames as the wire carries them, not 64 KiB
		 * segments the PMD has yet to cut. */
		scfg.tx_offloads &= ~(uint64_t)(RTE_ETH_TX_OFFLOAD_IPV4_CKSUM |
						RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
						RTE_ETH_TX_OFFLOAD_TCP_CKSUM |
						RTE_ETH_TX_OFFLOAD_TCP_TSO);
	rc = stack_init(&h->st, &scfg, h->ex, h->pool, out);
	if (rc != 0)
		return fail(h, rc, "stack: %s (check stack.arp_retry_ns)", strerror(-rc));
	h->stack_on = true;
	h->stage = HOST_STACK;
	if (cfg->tx_backpressure && !h->impaired)
		stack_set_tx_room(&h->st, host_tx_room, &h->tx[0]);
	if (cfg->tcp_on) {
		rc = tcp_stack_init(&h->tcp, &h->st, &tcfg);
		if (rc != 0)
			return fail(h, rc, "tcp: %s (check the tcp config: max_conns, buffers)",
					strerror(-rc));
		h->tcp_on = true;
	}
	h->stage = HOST_TCP;
	stack_rx_pump_init(&h->rx_task, &h->st, in);
	rc = ex_spawn(&h->rx_task.base, NULL, NULL);
	if (rc != 0)
		return fail(h, rc, "the stack's rx task: %s", strerror(-rc));
	h->stage = HOST_UP;
	return 0;
}

/* Undo every stage above HOST_NONE, top first. */
static uint64_t
host_unwind(struct stack_host *h, FILE *out)
{
	uint64_t leaked = 0;
	char prefix[40];
	uint16_t i;

	if (h->stage >= HOST_EXECUTOR)
		stack_host_shutdown(h);
	if (out != NULL && h->linger_left != 0)
		fprintf(out,
				"%s: %u connection(s) still closing after a linger of %u ms: their "
				"peers did not answer\n",
				h->name, h->linger_left, h->linger_ms);
	if (h->stage >= HOST_TCP && h->tcp_on)
		tcp_stack_fini(&h->tcp);
	if (h->stage >= HOST_STACK && h->stack_on)
		stack_fini(&h->st);
	if (h->stage >= HOST_STEER && h->group != NULL)
		dp_steer_fini(&h->steer);
	if (h->stage >= HOST_IMPAIR && h->impaired)
		dp_impair_link_fini(&h->imp);
	if (h->stage >= HOST_STREAMS)
		for (i = 0; i < h->nb_ports; i++) {
			dp_rx_stream_fini(&h->rx[i]);
			dp_tx_sink_fini(&h->tx[i]);
		}
	if (h->group == &h->own_group)
		/* Every sharer is down: what the inboxes still hold goes home. */
		dp_steer_group_free(&h->own_group);
	if (h->stage >= HOST_PORT && !h->attached)
		for (i = 0; i < h->nb_ports; i++)
			dp_port_close(&h->ports[i]);
	if (h->stage >= HOST_PORT && h->attached)
		/* The owner closes the ports; what its queue's tx ring still
		 * holds of this host's pool goes back now (where the PMD can). */
		for (i = 0; i < h->nb_ports; i++)
			(void)rte_eth_tx_done_cleanup(h->ports[i].port_id, h->queue, 0);
	if (h->stage >= HOST_EXECUTOR)
		ex_executor_free(h->ex);
	if (h->stage >= HOST_POOL) {
		snprintf(prefix, sizeof(prefix), "%s: ", h->name);
		if (h->stage >= HOST_PORT)
			leaked = out != NULL ? dp_pool_leak_report(h->pool, h->ports, h->nb_ports,
							       prefix, out)
					     : dp_pool_leaked(h->pool, h->ports, h->nb_ports, NULL);
		rte_mempool_free(h->pool);
		host_pdump_put();
	}
	if (h->stage >= HOST_EAL && h->eal_owned)
		rte_eal_cleanup();
	h->stage = HOST_NONE;
	return leaked;
}

int
stack_host_up(struct stack_host *h, const struct stack_host_config *cfg_in)
{
	struct stack_host_config cfg;
	int rc;

	if (h == NULL || cfg_in == NULL)
		return -EINVAL;
	memset(h, 0, sizeof(*h));
	cfg = *cfg_in;
	snprintf(h->name, sizeof(h->name), "%s", cfg.name != NULL ? cfg.name : "riptide");
	h->linger_ms = cfg.linger_ms;
	if (cfg.argv != NULL)
		rc = host_eal(h, &cfg);
	else if (rte_lcore_count() == 0)
		rc = fail(h, -EINVAL, "EAL: not initialised (call dp_eal_init or give argv)");
	else
		rc = 0;
	if (rc == 0 && cfg.tcp_on && !cfg.stack_on)
		rc = fail(h, -EINVAL, "tcp_on needs stack_on");
	if (rc == 0)
		rc = host_ports(h, &cfg);
	if (rc == 0)
		rc = host_executor(h, &cfg);
	if (rc == 0)
		rc = host_stack(h, &cfg);
	if (rc != 0) {
		host_unwind(h, NULL);
		return rc;
	}
	return 0;
}

/* Connections with a close still under way on the wire. */
static uint32_t
host_closing(const struct stack_host *h)
{
	uint32_t by[TCP_STATE_MAX];

	if (!h->tcp_on)
		return 0;
	tcp_conns_by_state(&h->tcp, by);
	return by[TCP_STATE_FIN_WAIT_1] + by[TCP_STATE_FIN_WAIT_2] + by[TCP_STATE_CLOSING] +
	       by[TCP_STATE_LAST_ACK];
}

uint32_t
stack_host_linger(struct stack_host *h, uint32_t max_ms)
{
	const struct stack_stats *s = &h->st.stats;
	uint64_t hz = rte_get_tsc_hz(), start = rte_get_tsc_cycles(), last = start, now;
	uint64_t max = hz * max_ms / 1000, quiet = hz * STACK_HOST_QUIET_MS / 1000;
	uint64_t frames;

	if (h->stage < HOST_UP || h->shut || !h->stack_on)
		return 0;
	/* Real time (the TSC), not the executor's clock, which a test may have
	 * stopped: the bound must hold whatever the loop's clock does. */
	frames = s->rx_frames + s->tx_frames;
	for (now = start; now - start < max; now = rte_get_tsc_cycles()) {
		/* An idle loop sleeps no longer than half the quiet time. */
		ex_wake_by(h->ex, ex_now_ns(h->ex) + STACK_HOST_QUIET_MS * 500000ull);
		ex_run_once(h->ex);
		now = rte_get_tsc_cycles();
		if (s->rx_frames + s->tx_frames != frames) {
			frames = s->rx_frames + s->tx_frames;
			last = now;
		} else if (now - last >= quiet && host_closing(h) == 0) {
			break;
		}
	}
	return host_closing(h);
}

void
stack_host_shutdown(struct stack_host *h)
{
	if (h->shut || h->stage < HOST_EXECUTOR)
		return;
	if (h->linger_ms != 0)
		h->linger_left = stack_host_linger(h, h->linger_ms);
	ex_executor_shutdown(h->ex);
	h->shut = true;
}

uint64_t
stack_host_down(struct stack_host *h, FILE *out)
{
	if (h == NULL || h->stage == HOST_NONE)
		return 0;
	return host_unwind(h, out);
}

void
stack_host_print_stats(const struct stack_host *h, FILE *out)
{
	const struct stack_stats *s = &h->st.stats;
	unsigned int d;

	if (!h->stack_on)
		return;
	fprintf(out,
			"%s: rx %" PRIu64 " tx %" PRIu64 " arp requests in %" PRIu64
			" replies out %" PRIu64 " requests out %" PRIu64 " replies in %" PRIu64
			" ping in %" PRIu64 " out %" PRIu64 "\n",
			h->name, s->rx_frames, s->tx_frames, s->arp_requests_in, s->arp_replies_out,
			s->arp_requests_out, s->arp_replies_in, s->icmp_echo_in, s->icmp_echo_out);
	if (h->impaired) {
		const struct dp_impair_stats *a = &h->imp.rx.stats, *b = &h->imp.tx.stats;

		fprintf(out,
				"%s: impaired rx in %" PRIu64 " lost %" PRIu64 " dup %" PRIu64
				" reordered %" PRIu64 " delayed %" PRIu64 " corrupted %" PRIu64
				"; tx in %" PRIu64 " lost %" PRIu64 " dup %" PRIu64
				" reordered %" PRIu64 " delayed %" PRIu64 " corrupted %" PRIu64
				"\n",
				h->name, a->in, a->lost, a->duplicated, a->reordered, a->delayed,
				a->corrupted, b->in, b->lost, b->duplicated, b->reordered,
				b->delayed, b->corrupted);
	}
	/* Frames the PMD's tx queue had no room for are lost to the wire, not
	 * to the stack: TCP resends them, but a user must see where they went. */
	for (d = 0; d < h->nb_ports; d++)
		if (h->tx[d].stats.dropped != 0 || h->tx[d].stats.requeued != 0)
			fprintf(out,
					"%s: port %s tx queue full: kept and offered again %" PRIu64
					", dropped %" PRIu64 " of %" PRIu64 " (%" PRIu64
					" after it took none for %llu ms)"
					", new data held back %" PRIu64 " times\n",
					h->name, h->ports[d].name, h->tx[d].stats.requeued,
					h->tx[d].stats.dropped,
					h->tx[d].stats.dropped + h->tx[d].stats.pkts,
					h->tx[d].stats.stuck, DP_TX_RETRY_NS / 1000000ull,
					h->tx[d].stats.backpressured);
	fprintf(out,
			"%s: rx l4 checksum flags: good %" PRIu64 " bad %" PRIu64 " none %" PRIu64
			" unknown %" PRIu64 "\n",
			h->name, s->rx_l4_csum[DP_RX_CSUM_GOOD], s->rx_l4_csum[DP_RX_CSUM_BAD],
			s->rx_l4_csum[DP_RX_CSUM_NONE], s->rx_l4_csum[DP_RX_CSUM_UNKNOWN]);
	for (d = 0; d < STACK_DROP_MAX; d++)
		if (s->drops[d] != 0)
			fprintf(out, "%s: dropped %-18s %" PRIu64 "\n", h->name,
					stack_drop_name((enum stack_drop)d), s->drops[d]);
}

/*
 * Turns for lanes on several lcores, which come up one at a time, the owner
 * (index 0) first, and go down the other way, the owner last. A lane that
 * failed to come up still says it is done (failed): every later wait going
 * up then returns -1, so each lcore only unwinds what it has.
 */
struct lane_turns {
	unsigned int n; /* lanes */
	unsigned int up; /* lanes up so far: the next to come up */
	unsigned int down; /* lanes still up, counted from the top */
	bool failed;
};

static void
turns_init(struct lane_turns *t, unsigned int n)
{
	t->n = n;
	t->up = 0;
	t->down = n;
	t->failed = false;
}

static int
turn_wait(struct lane_turns *t, unsigned int idx, bool up)
{
	if (up)
		while (__atomic_load_n(&t->up, __ATOMIC_ACQUIRE) != idx)
			rte_pause();
	else
		while (__atomic_load_n(&t->down, __ATOMIC_ACQUIRE) != idx + 1)
			rte_pause();
	return up && __atomic_load_n(&t->failed, __ATOMIC_ACQUIRE) ? -1 : 0;
}

static void
turn_done(struct lane_turns *t, unsigned int idx, bool up, bool failed)
{
	if (failed)
		__atomic_store_n(&t->failed, true, __ATOMIC_RELEASE);
	if (up)
		__atomic_store_n(&t->up, idx + 1, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&t->down, idx, __ATOMIC_RELEASE);
}

static int
turn_wait_all(struct lane_turns *t)
{
	while (__atomic_load_n(&t->up, __ATOMIC_ACQUIRE) != t->n)
		rte_pause();
	return __atomic_load_n(&t->failed, __ATOMIC_ACQUIRE) ? -1 : 0;
}

/* What every lane's thread shares in stack_host_lanes_run(). */
struct lanes_run {
	const struct stack_host_lane_ops *ops;
	void *arg;
	struct lane_turns turns;
	unsigned int stopped; /* lanes whose loop has returned (atomic) */
	int rc[RTE_MAX_LCORE];
};

static int
lane_body(void *p)
{
	struct lanes_run *lr = p;
	unsigned int idx = (unsigned int)rte_lcore_index(rte_lcore_id());
	bool ok;

	ok = turn_wait(&lr->turns, idx, true) == 0 && lr->ops->up(idx, lr->arg) == 0;
	turn_done(&lr->turns, idx, true, !ok);
	if (turn_wait_all(&lr->turns) == 0)
		lr->ops->run(idx, lr->arg);
	/* No lane goes down before every loop has stopped: another lane may
	 * still hand it packets, or a message. */
	__atomic_fetch_add(&lr->stopped, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&lr->stopped, __ATOMIC_ACQUIRE) != lr->turns.n)
		rte_pause();
	turn_wait(&lr->turns, idx, false);
	lr->rc[idx] = lr->ops->down(idx, lr->arg);
	if (!ok && lr->rc[idx] == 0)
		lr->rc[idx] = 1;
	turn_done(&lr->turns, idx, false, false);
	return lr->rc[idx];
}

int
stack_host_lanes_run(const struct stack_host_lane_ops *ops, void *arg)
{
	struct lanes_run *lr = calloc(1, sizeof(*lr));
	unsigned int i, n = rte_lcore_count();
	int rc = 0;

	if (lr == NULL)
		return 1;
	lr->ops = ops;
	lr->arg = arg;
	turns_init(&lr->turns, n);
	rte_eal_mp_remote_launch(lane_body, lr, CALL_MAIN);
	rte_eal_mp_wait_lcore();
	for (i = 0; i < n; i++)
		rc = RTE_MAX(rc, lr->rc[i]);
	free(lr);
	return rc;
}

const char *
stack_host_version(void)
{
	static char v[96];

	if (v[0] == '\0')
		snprintf(v, sizeof(v), "riptide %s (%s)", RIPTIDE_VERSION, rte_version());
	return v;
}

bool
stack_host_want_version(int argc, char **argv, FILE *out)
{
	const char *prog;

	if (argc < 2 || strcmp(argv[1], "--version") != 0)
		return false;
	prog = strrchr(argv[0], '/');
	fprintf(out, "%s: %s\n", prog != NULL ? prog + 1 : argv[0], stack_host_version());
	return true;
}
