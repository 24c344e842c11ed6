/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pktbench - packet generator, forwarder and bump in the wire on riptide's
 * executor and dataplane streams.
 *
 *   pktbench [EAL args] -- --mode MODE [options]
 *
 * Every mode is a handful of futures on one lcore's executor: forward()
 * from an rx stream into a tx sink (io), the same with an in-place stage
 * (macswap), a generator (txonly), a counter (rxonly), a sender and a checker
 * (loopback-check), and forward() through the impairment stage in both
 * directions (impair). Ports are the EAL's (--vdev or PCI), in port order.
 * SIGINT/SIGTERM stop it cleanly; at exit every mbuf must be back in its pool.
 *
 * Workers: one per EAL lcore (-l 0-3: four), shared nothing. Each worker is a
 * whole host (stack_host_up() on its own lcore: its own pool, executor and
 * ports) on its share of the ports: with N workers and N or 2N ports, worker
 * w takes port w, or the pair 2w and 2w+1; with 1 or 2 ports, worker 0 brings
 * them up with N queue pairs and worker w shares them on queue w (io,
 * macswap, txonly, rxonly).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_udp.h>

#include "dp_eal.h"
#include "dp_impair.h"
#include "dp_port.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "ipv4_addr.h"
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

static const char *const mode_names[] = { "io", "macswap", "txonly", "rxonly", "loopback-check",
	"impair" };

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
};

static struct options opt = {
	.mode = MODE_IO,
	.interval = 1.0,
	.pkt_size = 64,
	.timeout_ms = 2000,
	.nb_mbufs = 16383,
	.src_ip = RTE_IPV4(198, 18, 0, 1),
	.dst_ip = RTE_IPV4(198, 18, 0, 2),
};

/* One worker: a host on its lcore and its share of the ports, and the
 * futures of the mode (struct worker, below). */
struct worker;
static RTE_DEFINE_PER_LCORE(struct worker *, self);

static inline struct worker *
me(void)
{
	return RTE_PER_LCORE(self);
}

static struct rte_mempool *my_pool(void); /* the calling lcore's worker's */
static uint64_t my_now(void);

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t go_signal;

static void
on_go(int sig)
{
	(void)sig;
	go_signal = 1;
}

static void
on_signal(int sig)
{
	stop_signal = sig;
	ex_stop_all();
}

/* ---- per-packet stages ---- */

static int
macswap_pkt(struct rte_mbuf *m, void *arg)
{
	struct rte_ether_hdr *eh;
	struct rte_ether_addr t;

	(void)arg;
	if (rte_pktmbuf_data_len(m) < sizeof(*eh))
		return -1; /* runt: counted as dropped */
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	t = eh->dst_addr;
	eh->dst_addr = eh->src_addr;
	eh->src_addr = t;
	return 0;
}

/* --tx-csum-partial: leave an IPv4 TCP or UDP frame's checksum to the port,
 * as a guest with checksum offload sends it: the field holds only the
 * pseudo-header sum and the mbuf asks for the rest (a vhost port passes it on
 * as virtio's NEEDS_CSUM, which the guest's virtio PMD reports as
 * RX_L4_CKSUM_NONE). Other frames pass unchanged. */
static int
csum_partial_pkt(struct rte_mbuf *m, void *arg)
{
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	uint32_t ihl;

	(void)arg;
	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ip) + sizeof(struct rte_tcp_hdr))
		return 0;
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	if (eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	ihl = rte_ipv4_hdr_len(ip);
	if (ihl < sizeof(*ip) || (ip->fragment_offset & rte_cpu_to_be_16(0x3fff)) != 0 ||
			rte_pktmbuf_data_len(m) < sizeof(*eh) + ihl + sizeof(struct rte_tcp_hdr))
		return 0;
	m->l2_len = sizeof(*eh);
	m->l3_len = ihl;
	if (ip->next_proto_id == IPPROTO_TCP) {
		struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)((uint8_t *)ip + ihl);

		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
		th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	} else if (ip->next_proto_id == IPPROTO_UDP) {
		struct rte_udp_hdr *uh = (struct rte_udp_hdr *)((uint8_t *)ip + ihl);

		if (uh->dgram_cksum == 0)
			return 0; /* no checksum (RFC 768): nothing to leave */
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_UDP_CKSUM;
		uh->dgram_cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
	}
	return 0;
}

/* ---- txonly: a generator future ---- */

struct gen {
	struct ex_future base;
	struct dp_tx_sink *out;
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

static void
build_template(struct gen *g, uint16_t port)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)g->tmpl;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint16_t ip_len = (uint16_t)(opt.pkt_size - sizeof(*eh));

	memset(g->tmpl, 0, sizeof(g->tmpl));
	rte_eth_macaddr_get(port, &eh->src_addr);
	if (opt.dst_mac_set)
		eh->dst_addr = opt.dst_mac;
	else
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(ip_len);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(opt.src_ip);
	ip->dst_addr = rte_cpu_to_be_32(opt.dst_ip);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp->src_port = rte_cpu_to_be_16(9000);
	udp->dst_port = rte_cpu_to_be_16(9); /* discard */
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	udp->dgram_cksum = 0; /* optional for UDP over IPv4 */
	g->hdr_len = sizeof(*eh) + sizeof(*ip) + sizeof(*udp);
}

/* Payload for loopback-check: magic, sequence, then a pattern of the
 * sequence, so a corrupted or truncated packet is caught. */
static void
fill_payload(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint32_t i;

	if (len < 12)
		return;
	memcpy(p, &(uint32_t){ CHECK_MAGIC }, 4);
	memcpy(p + 4, &seq, 8);
	for (i = 12; i < len; i++)
		p[i] = (uint8_t)(seq + i);
}

/* One probe on the generator's port; refused ones are freed (a probe may be
 * lost: another follows). */
static void
send_probe(struct gen *g)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(my_pool());
	uint8_t *p;

	if (m == NULL)
		return;
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)opt.pkt_size);
	memcpy(p, g->tmpl, g->hdr_len);
	memset(p + g->hdr_len, 0, opt.pkt_size - g->hdr_len);
	memcpy(p + g->hdr_len, &(uint32_t){ PROBE_MAGIC }, 4);
	if (rte_eth_tx_burst(g->out->port, g->out->queue, &m, 1) == 1)
		g->probes_sent++;
	else
		rte_pktmbuf_free(m);
}

/* loopback-check: EX_READY once a probe came back (or, probe_failed set,
 * after --timeout-ms without one). */
static enum ex_poll
gen_probe(struct gen *g, struct ex_context *cx)
{
	for (;;) {
		uint64_t now = my_now();

		if (g->pacing) {
			if (ex_await(&g->pace.base, cx) == EX_PENDING)
				return EX_PENDING;
			g->pacing = false;
		}
		if (*g->probes_back != 0)
			return EX_READY;
		if (g->probe_deadline == 0)
			g->probe_deadline = now + (uint64_t)opt.timeout_ms * EX_NS_PER_MS;
		if (now > g->probe_deadline) {
			g->probe_failed = true;
			return EX_READY;
		}
		send_probe(g);
		ex_sleep_init(&g->pace, PROBE_INTERVAL_NS);
		g->pacing = true;
	}
}

static uint64_t
gen_budget(struct gen *g, uint64_t now)
{
	uint64_t due;

	if (opt.count != 0 && g->sent >= opt.count)
		return 0;
	if (opt.rate_pps == 0)
		due = DP_BURST_MAX;
	else {
		/* Packets the rate allows by now, minus those sent. */
		uint64_t allowed = (uint64_t)((double)(now - g->start_ns) * (double)opt.rate_pps /
						   1e9) +
				   1;

		due = allowed > g->sent ? RTE_MIN(allowed - g->sent, (uint64_t)DP_BURST_MAX) : 0;
	}
	if (opt.count != 0)
		due = RTE_MIN(due, opt.count - g->sent);
	if (g->returned != NULL) {
		/* loopback-check: at most CHECK_WINDOW packets in flight, so the
		 * check measures the path, not our own overrun of its queues. */
		uint64_t in_flight = g->sent - *g->returned;

		due = in_flight >= CHECK_WINDOW ? 0 : RTE_MIN(due, CHECK_WINDOW - in_flight);
	}
	return due;
}

static enum ex_poll
gen_poll(struct ex_future *f, struct ex_context *cx)
{
	struct gen *g = EX_CONTAINER_OF(f, struct gen, base);
	unsigned int round;

	if (g->probes_back != NULL && g->start_ns == 0) {
		if (gen_probe(g, cx) == EX_PENDING)
			return EX_PENDING;
		if (g->probe_failed)
			return EX_READY;
	}
	if (g->start_ns == 0)
		g->start_ns = my_now();
	if (g->pacing) {
		if (ex_await(&g->pace.base, cx) == EX_PENDING)
			return EX_PENDING;
		g->pacing = false;
	}
	for (round = 0; round < 16; round++) {
		struct dp_burst b;
		union ex_item it;
		uint64_t n, i;

		if (g->held_n != 0) {
			uint16_t sent = rte_eth_tx_burst(g->out->port, g->out->queue,
					&g->held[g->held_off], g->held_n);

			g->out->stats.pkts += sent;
			g->held_off += sent;
			g->held_n -= sent;
			if (g->held_n != 0) {
				ex_waker_wake(&cx->waker); /* the PMD is full: try again soon */
				return EX_PENDING;
			}
		}
		n = gen_budget(g, my_now());

		if (n == 0) {
			if (opt.count != 0 && g->sent >= opt.count)
				return EX_READY;
			if (g->returned != NULL && opt.rate_pps == 0) {
				ex_waker_wake(&cx->waker); /* window full: look again soon */
				return EX_PENDING;
			}
			/* Ahead of the rate: sleep until the next packet is due. */
			ex_sleep_init(&g->pace, (uint64_t)(1e9 / (double)opt.rate_pps) + 1);
			g->pacing = true;
			if (ex_await(&g->pace.base, cx) == EX_PENDING)
				return EX_PENDING;
			g->pacing = false;
			continue;
		}
		if (rte_pktmbuf_alloc_bulk(my_pool(), b.pkts, (unsigned int)n) != 0) {
			g->alloc_failed++;
			break; /* pool empty: tx will return mbufs; try next turn */
		}
		b.n = (uint16_t)n;
		for (i = 0; i < n; i++) {
			struct rte_mbuf *m = b.pkts[i];
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)opt.pkt_size);

			memcpy(p, g->tmpl, g->hdr_len);
			if (g->loopback)
				fill_payload(p + g->hdr_len, opt.pkt_size - g->hdr_len,
						g->sent + i);
		}
		g->sent += n;
		if (g->loopback) {
			memcpy(g->held, b.pkts, sizeof(b.pkts[0]) * n);
			g->held_n = (uint16_t)n;
			g->held_off = 0;
			continue;
		}
		it.ptr = &b;
		g->out->base.ops->start_send(&g->out->base, it);
	}
	ex_waker_wake(&cx->waker); /* more to send: yield, then continue */
	return EX_PENDING;
}

static void
gen_drop(struct ex_future *f)
{
	struct gen *g = EX_CONTAINER_OF(f, struct gen, base);

	if (g->held_n != 0)
		rte_pktmbuf_free_bulk(&g->held[g->held_off], g->held_n);
	g->held_n = 0;

	if (g->pacing)
		ex_future_drop(&g->pace.base);
}

static const struct ex_future_ops gen_ops = { .poll = gen_poll, .drop = gen_drop, .name = "txgen" };

/* ---- rxonly and loopback-check: consumers ---- */

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
};

enum pkt_kind {
	PKT_FOREIGN,
	PKT_OURS,
	PKT_PROBE
};

static enum pkt_kind
check_pkt(struct check *c, struct rte_mbuf *m, uint32_t hdr_len)
{
	uint8_t buf[2048];
	const uint8_t *p;
	uint32_t len = rte_pktmbuf_pkt_len(m), i;
	uint32_t magic;
	uint64_t seq;

	if (len != opt.pkt_size || len > sizeof(buf))
		return PKT_FOREIGN;
	p = rte_pktmbuf_read(m, 0, len, buf);
	if (p == NULL)
		return PKT_FOREIGN;
	memcpy(&magic, p + hdr_len, 4);
	if (magic == PROBE_MAGIC)
		return PKT_PROBE;
	if (magic != CHECK_MAGIC)
		return PKT_FOREIGN;
	memcpy(&seq, p + hdr_len + 4, 8);
	for (i = hdr_len + 12; i < len; i++) {
		if (p[i] != (uint8_t)(seq + i - hdr_len)) {
			c->corrupt++;
			return PKT_OURS;
		}
	}
	if (seq == c->next_seq)
		c->in_order++;
	else
		c->out_of_order++;
	c->next_seq = seq + 1;
	return PKT_OURS;
}

static enum ex_poll
check_poll(struct ex_future *f, struct ex_context *cx)
{
	struct check *c = EX_CONTAINER_OF(f, struct check, base);
	unsigned int round;

	for (round = 0; round < 64; round++) {
		union ex_item it;
		struct dp_burst *b;
		uint16_t i;

		switch (ex_stream_poll_next(c->in, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			return EX_READY;
		case EX_NEXT_ITEM:
			break;
		}
		b = it.ptr;
		for (i = 0; i < b->n; i++) {
			switch (c->verify ? check_pkt(c, b->pkts[i], 42) : PKT_OURS) {
			case PKT_OURS:
				c->received++;
				break;
			case PKT_PROBE:
				c->probes++;
				break;
			case PKT_FOREIGN:
				c->foreign++;
				break;
			}
			c->returned = c->received + c->corrupt;
		}
		dp_burst_free(b);
	}
	ex_waker_wake(&cx->waker);
	return EX_PENDING;
}

static const struct ex_future_ops check_ops = { .poll = check_poll, .drop = NULL, .name = "check" };

/* ---- stats and duration ---- */

struct ticker {
	struct ex_future base;
	struct ex_sleep sleep;
	uint64_t last_rx, last_tx, last_ns, last_busy;
	uint64_t seconds;
};

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
	uint64_t t_start, t_end; /* TSC, around its loop */
	bool up; /* its host came up and its futures were spawned */
	int exit_code;
};

static struct worker *workers;
static unsigned int nworkers;
static uint16_t ports_per_worker; /* 0: every port (one worker, or shared queues) */
static bool shared_queues; /* every worker on every port, a queue each */

static struct rte_mempool *
my_pool(void)
{
	return me()->host.pool;
}

static uint64_t
my_now(void)
{
	return ex_now_ns(me()->host.ex);
}

/* Counters summed over every port of every worker (read from another
 * lcore while they run: a counter is one aligned word, never torn). */
struct totals {
	uint64_t rx, tx, tx_dropped;
};

static struct totals
totals(void)
{
	struct totals t = { 0, 0, 0 };
	unsigned int w;
	uint16_t p;

	for (w = 0; w < nworkers; w++) {
		const struct stack_host *h = &workers[w].host;

		for (p = 0; p < h->nb_ports; p++) {
			t.rx += h->rx[p].stats.pkts;
			t.tx += h->tx[p].stats.pkts;
			t.tx_dropped += h->tx[p].stats.dropped;
		}
	}
	return t;
}

/* Busy cycles of every worker's executor, summed. */
static uint64_t
busy_cycles(void)
{
	uint64_t busy = 0;
	struct ex_stats s;
	unsigned int w;

	for (w = 0; w < nworkers; w++)
		if (workers[w].host.ex != NULL) {
			ex_stats_read(workers[w].host.ex, &s);
			busy += s.busy_cycles;
		}
	return busy;
}

static enum ex_poll
ticker_poll(struct ex_future *f, struct ex_context *cx)
{
	struct ticker *t = EX_CONTAINER_OF(f, struct ticker, base);

	while (ex_await(&t->sleep.base, cx) == EX_READY) {
		struct totals tot = totals();
		uint64_t now = my_now(), rxn = tot.rx, txn = tot.tx, busy = busy_cycles();
		double secs = (double)(now - t->last_ns) / 1e9;

		/* busy: the workers' average */
		printf("[%6.1fs] rx %8.3f Mpps  tx %8.3f Mpps  tx-dropped %" PRIu64
		       "  busy %5.1f%%\n",
				(double)++t->seconds * opt.interval,
				(double)(rxn - t->last_rx) / secs / 1e6,
				(double)(txn - t->last_tx) / secs / 1e6, tot.tx_dropped,
				100.0 * (double)(busy - t->last_busy) /
						((double)rte_get_tsc_hz() * secs * nworkers));
		fflush(stdout);
		t->last_rx = rxn;
		t->last_tx = txn;
		t->last_ns = now;
		t->last_busy = busy;
		ex_sleep_init(&t->sleep, (uint64_t)(opt.interval * 1e9));
	}
	return EX_PENDING;
}

static void
ticker_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct ticker, base)->sleep.base);
}

static const struct ex_future_ops ticker_ops = {
	.poll = ticker_poll, .drop = ticker_drop, .name = "stats"
};

/* ---- command line ---- */

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
			"Usage: %s [EAL args] -- --mode MODE [options]\n"
			"\n"
			"Modes (ports are the EAL's, --vdev or PCI, in port order; with N EAL lcores,\n"
			"N workers, each on its own port (N ports) or port pair (2N ports), or on\n"
			"its own queue pair of 1 or 2 shared ports; loopback-check and impair run\n"
			"on one lcore):\n"
			"  io              rx -> tx unchanged (1 port: back out of it; 2: 0<->1)\n"
			"  macswap         as io, swapping source and destination MAC\n"
			"  txonly          send UDP packets of --pkt-size on port 0\n"
			"  rxonly          receive and count on every port\n"
			"  loopback-check  send --count numbered packets on port 0, check each comes\n"
			"                  back (on port 1 if there is one) in order and intact; probes\n"
			"                  go out every 10 ms first, the count starts when one is back\n"
			"  impair          bump in the wire between ports 0 and 1, both ways through\n"
			"                  the impairment stage (--impair)\n"
			"\n"
			"Options:\n"
			"  --duration S       stop after S seconds (default: run until SIGINT/SIGTERM)\n"
			"  --stats-interval S print rates every S seconds; 0: only the summary (default 1)\n"
			"  --pkt-size N       frame size for txonly/loopback-check, 60..1514 (default 64)\n"
			"  --rate PPS         txonly/loopback-check send rate (default: as fast as possible)\n"
			"  --count N          txonly/loopback-check: send N packets, then stop\n"
			"  --timeout-ms N     loopback-check: wait this long for a probe to come back\n"
			"                     before counting, and for the last packets (2000)\n"
			"  --impair SPEC      e.g. loss=2%%,reorder=5%%:3,dup=1%%,delay=20ms:5ms,corrupt=0.1%%,\n"
			"                     rate=100mbit,seed=42 (direction 1->0 uses seed+1)\n"
			"  --src-ip A --dst-ip A --dst-mac M   txonly addressing (198.18.0.1 -> .2, broadcast)\n"
			"  --nb-mbufs N       mbuf pool size (default 16383; impair: at least twice\n"
			"                     its limit, plus 8192)\n"
			"  --wait-signal      txonly/loopback-check: send once SIGUSR1 arrives (e.g. when\n"
			"                     the Linux side of a TAP is configured); says so first\n"
			"  --tx-csum-partial  io: frames go to a port with tx checksum offload (vhost)\n"
			"                     partially checksummed, as a guest's with offload on\n"
			"  --tx-first         io/macswap: send a burst on each port first (for PMDs\n"
			"                     that loop packets back, e.g. net_ring, memif pairs)\n"
			"  --xstats           print each port's non-zero extended statistics at exit\n"
			"  -h, --help         this text\n"
			"  --version          riptide's and DPDK's versions\n",
			prog);
}

static int
parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "pkt-size", required_argument, NULL, 's' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "impair", required_argument, NULL, 'I' },
		{ "src-ip", required_argument, NULL, 'S' },
		{ "dst-ip", required_argument, NULL, 'D' },
		{ "dst-mac", required_argument, NULL, 'M' },
		{ "nb-mbufs", required_argument, NULL, 'n' },
		{ "tx-first", no_argument, NULL, 'T' },
		{ "wait-signal", no_argument, NULL, 'W' },
		{ "tx-csum-partial", no_argument, NULL, 'P' },
		{ "xstats", no_argument, NULL, 'X' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	size_t i;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'm':
			for (i = 0; i < RTE_DIM(mode_names); i++)
				if (strcmp(optarg, mode_names[i]) == 0)
					break;
			if (i == RTE_DIM(mode_names)) {
				fprintf(stderr, "pktbench: unknown mode '%s'\n", optarg);
				return -1;
			}
			opt.mode = (enum mode)i;
			break;
		case 'd':
		case 'i': {
			double v = strtod(optarg, &end);

			if (end == optarg || *end != '\0' || v < 0) {
				fprintf(stderr, "pktbench: bad number of seconds '%s'\n", optarg);
				return -1;
			}
			*(c == 'd' ? &opt.duration : &opt.interval) = v;
			break;
		}
		case 's':
			opt.pkt_size = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || opt.pkt_size < 60 || opt.pkt_size > 1514) {
				fprintf(stderr, "pktbench: --pkt-size must be 60..1514\n");
				return -1;
			}
			break;
		case 'r':
		case 'c':
		case 't':
		case 'n': {
			unsigned long long v = strtoull(optarg, &end, 10);

			if (end == optarg || *end != '\0') {
				fprintf(stderr, "pktbench: bad number '%s'\n", optarg);
				return -1;
			}
			if (c == 'r')
				opt.rate_pps = v;
			else if (c == 'c')
				opt.count = v;
			else if (c == 't')
				opt.timeout_ms = (uint32_t)v;
			else {
				opt.nb_mbufs = (uint32_t)v;
				opt.nb_mbufs_set = true;
			}
			break;
		}
		case 'I':
			opt.impair = optarg;
			break;
		case 'S':
		case 'D':
			if (ipv4_parse_addr(optarg, c == 'S' ? &opt.src_ip : &opt.dst_ip) != 0) {
				fprintf(stderr, "pktbench: %s '%s': not an IPv4 address\n",
						c == 'S' ? "--src-ip" : "--dst-ip", optarg);
				return -1;
			}
			break;
		case 'M':
			if (rte_ether_unformat_addr(optarg, &opt.dst_mac) != 0) {
				fprintf(stderr, "pktbench: bad MAC address '%s'\n", optarg);
				return -1;
			}
			opt.dst_mac_set = true;
			break;
		case 'T':
			opt.tx_first = true;
			break;
		case 'W':
			opt.wait_signal = true;
			break;
		case 'P':
			opt.tx_csum_partial = true;
			break;
		case 'X':
			opt.xstats = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			exit(0);
		default:
			usage(stderr, argv[0]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pktbench: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* One burst of template packets on port p of host h, as testpmd's
 * --tx-first. A just-connected memif or virtio port may refuse at first:
 * retry for up to a second, then free (and count) what is left. */
static void
send_first_burst(struct stack_host *h, uint16_t p)
{
	struct gen g;
	struct rte_mbuf *b[DP_BURST_MAX];
	uint16_t i, sent = 0;
	int tries;

	memset(&g, 0, sizeof(g));
	build_template(&g, h->ports[p].port_id);
	if (rte_pktmbuf_alloc_bulk(h->pool, b, DP_BURST_MAX) != 0)
		return;
	for (i = 0; i < DP_BURST_MAX; i++)
		memcpy(rte_pktmbuf_append(b[i], (uint16_t)opt.pkt_size), g.tmpl, g.hdr_len);
	for (tries = 0; tries < 1000 && sent < DP_BURST_MAX; tries++) {
		sent += rte_eth_tx_burst(
				h->ports[p].port_id, h->queue, &b[sent], DP_BURST_MAX - sent);
		if (sent < DP_BURST_MAX)
			rte_delay_ms(1);
	}
	h->tx[p].stats.pkts += sent;
	if (sent < DP_BURST_MAX) {
		rte_pktmbuf_free_bulk(&b[sent], DP_BURST_MAX - sent);
		h->tx[p].stats.dropped += DP_BURST_MAX - sent;
	}
}

/* ---- workers ---- */

/* Bring-up goes one worker at a time, worker 0 first (ethdev's control path
 * is not for concurrent callers, and on shared ports worker 0 owns them);
 * teardown in reverse, worker 0 last. The loops start together. */
static unsigned int up_turn, down_turn, nready, nfinished;
static bool summary_done;

static struct dp_impair_config icfg;

/* io, macswap, impair: a forward per port, into its peer (the pair's other
 * port, or itself). @return 0 or -1 (said). */
static int
setup_forward(struct worker *w)
{
	struct stack_host *h = &w->host;
	unsigned int i;
	uint16_t p;

	for (p = 0; p < h->nb_ports; p++) {
		struct ex_stream *in = &h->rx[p].base;
		uint16_t peer = h->nb_ports == 2 ? (uint16_t)(1 - p) : p;
		bool partial = opt.tx_csum_partial &&
			       (h->ports[peer].tx_offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;

		if (opt.mode == MODE_MACSWAP) {
			dp_burst_map_init(&w->swap[p], in, macswap_pkt, NULL);
			in = &w->swap[p].base;
		} else if (partial) {
			dp_burst_map_init(&w->swap[p], in, csum_partial_pkt, NULL);
			in = &w->swap[p].base;
			printf("pktbench: %s -> %s: frames partially checksummed\n",
					h->ports[p].name, h->ports[peer].name);
		} else if (opt.mode == MODE_IMPAIR) {
			struct dp_impair_config c = icfg;
			char desc[256];

			c.seed = icfg.seed + p;
			if (dp_impair_init(&w->imp[p], in, &c, h->pool) != 0) {
				fprintf(stderr, "pktbench: impairment stage: no memory\n");
				return -1;
			}
			dp_impair_format(&c, desc, sizeof(desc));
			printf("pktbench: %s -> %s: %s\n", h->ports[p].name, h->ports[peer].name,
					desc);
			in = &w->imp[p].base;
		}
		if (opt.mode == MODE_IO && !partial) {
			/* Queue to queue, nothing in between: the dataplane's
			 * specialised forwarder (no per-item indirection). */
			if (dp_queue_forward_init(&w->qfw[p], &h->rx[p], &h->tx[peer]) != 0)
				return -1; /* h->rx[p] is always a queue stream here */
			ex_spawn(&w->qfw[p].base, NULL, NULL);
			continue;
		}
		ex_forward_init(&w->fw[p], in, &h->tx[peer].base, dp_burst_release, NULL);
		ex_spawn(&w->fw[p].base, NULL, NULL);
	}
	if (opt.tx_first && opt.mode != MODE_IMPAIR) {
		/* memif and virtio connect asynchronously: wait for the link. */
		for (p = 0; p < h->nb_ports; p++)
			if (dp_port_wait_link(&h->ports[p], 5000, NULL) != 0)
				fprintf(stderr, "pktbench: %s: link down after 5 s\n",
						h->ports[p].name);
		for (i = 0; i < 4; i++)
			ex_run_once(h->ex); /* rx polled once: memif posts its buffers */
		for (p = 0; p < h->nb_ports; p++)
			send_first_burst(h, p);
	}
	return 0;
}

/* rxonly, txonly, loopback-check: readers, then the generator. */
static void
setup_gen(struct worker *w)
{
	struct stack_host *h = &w->host;
	uint16_t last = (uint16_t)(h->nb_ports - 1), p;
	unsigned int i;

	/* Readers first: a memif client posts its rx buffers on its first rx
	 * poll, and its peer cannot send back before that. */
	for (p = 0; p < h->nb_ports && opt.mode != MODE_TXONLY; p++) {
		if (opt.mode == MODE_LOOPBACK_CHECK && p != last)
			continue;
		memset(&w->chk[p], 0, sizeof(w->chk[p]));
		ex_future_init(&w->chk[p].base, &check_ops);
		w->chk[p].in = &h->rx[p].base;
		w->chk[p].verify = opt.mode == MODE_LOOPBACK_CHECK;
		ex_spawn(&w->chk[p].base, NULL, NULL);
	}
	if (opt.mode == MODE_RXONLY)
		return;
	/* Sending before the link is up loses packets on virtio/memif. */
	for (p = 0; p < h->nb_ports; p++)
		if (dp_port_wait_link(&h->ports[p], 10000, NULL) != 0)
			fprintf(stderr, "pktbench: %s: link still down after 10 s\n",
					h->ports[p].name);
	for (i = 0; i < 4; i++)
		ex_run_once(h->ex); /* let the readers poll once */
	if (opt.wait_signal) {
		printf("pktbench: waiting for SIGUSR1 to start sending\n");
		while (!go_signal && !stop_signal) {
			ex_run_once(h->ex);
			rte_delay_us_sleep(1000);
		}
	}
	memset(&w->gen, 0, sizeof(w->gen));
	ex_future_init(&w->gen.base, &gen_ops);
	w->gen.out = &h->tx[0];
	w->gen.loopback = opt.mode == MODE_LOOPBACK_CHECK;
	build_template(&w->gen, h->ports[0].port_id);
	if (w->gen.loopback) {
		w->gen.returned = &w->chk[last].returned;
		w->gen.probes_back = &w->chk[last].probes;
	}
	ex_spawn(&w->gen.base, NULL, NULL);
}

/* The worker's host on its lcore, and the mode's futures. @return 0 or -1. */
static int
worker_setup(struct worker *w)
{
	struct stack_host_config hc;
	struct stack_host *h = &w->host;
	char name[32];
	uint16_t p;

	stack_host_config_defaults(&hc);
	/* the pool's and executor's name: one per worker */
	snprintf(name, sizeof(name), w->idx == 0 ? "pktbench" : "pktbench%u", w->idx);
	hc.name = name;
	hc.nb_ports = ports_per_worker; /* 0: every port */
	hc.port_id = (uint16_t)(w->idx * ports_per_worker);
	if (shared_queues && w->idx == 0) {
		hc.port.nb_queues = (uint16_t)nworkers; /* a queue pair per worker */
	} else if (shared_queues) {
		hc.attach = &workers[0].host;
		hc.queue = (uint16_t)w->idx;
	}
	hc.nb_mbufs = opt.nb_mbufs;
	/* A per-lcore cache of 250, as testpmd's default: pps.sh compares the
	 * two with the same pool, and the A/B result moved with this number. */
	hc.pool_cache = 250;
	/* pktbench forwards frames as they are and sends frames it checksummed
	 * itself: it acts on no checksum flag, so it asks for none. A vhost
	 * port with rx checksum offload on would hand over a guest's partially
	 * checksummed frames unfinished, and the wire would carry them so. */
	hc.port.want_csum = opt.tx_csum_partial; /* then tx only: see csum_partial_pkt */
	hc.port.want_rx_csum = false;
	hc.busy_poll = true;
	hc.stack_on = false;
	hc.tcp_on = false;
	if (stack_host_up(h, &hc) != 0) {
		fprintf(stderr, "pktbench: worker %u: %s\n", w->idx, h->err);
		return -1;
	}
	if (h->nb_ports > MAX_PORTS || (opt.mode == MODE_IMPAIR && h->nb_ports < 2)) {
		fprintf(stderr, "pktbench: %u port(s): mode %s needs %s\n", h->nb_ports,
				mode_names[opt.mode],
				opt.mode == MODE_IMPAIR ? "two" : "one or two");
		return -1;
	}
	printf("pktbench: mode %s, %u port(s):", mode_names[opt.mode], h->nb_ports);
	for (p = 0; p < h->nb_ports; p++)
		printf(" %s", h->ports[p].name);
	printf(", %s, %u mbufs", rte_eal_has_hugepages() ? "hugepages" : "--no-huge", opt.nb_mbufs);
	if (nworkers > 1)
		printf(" (worker %u of %u, lcore %u%s)", w->idx, nworkers, w->lcore,
				shared_queues ? ", its own queue" : "");
	printf("\n");
	if (opt.mode == MODE_IO || opt.mode == MODE_MACSWAP || opt.mode == MODE_IMPAIR) {
		if (setup_forward(w) != 0)
			return -1;
	} else {
		setup_gen(w);
	}
	if (w->idx == 0 && opt.interval > 0) { /* one ticker prints every worker's sum */
		memset(&w->tick, 0, sizeof(w->tick));
		ex_future_init(&w->tick.base, &ticker_ops);
		ex_sleep_init(&w->tick.sleep, (uint64_t)(opt.interval * 1e9));
		w->tick.last_ns = ex_now_ns(h->ex);
		ex_spawn(&w->tick.base, NULL, NULL);
	}
	if (opt.duration > 0) {
		ex_stop_after_init(&w->stopper, (uint64_t)(opt.duration * 1e9));
		ex_spawn(&w->stopper.base, NULL, NULL);
	}
	return 0;
}

static void
worker_run(struct worker *w)
{
	struct ex_executor *ex = w->host.ex;
	unsigned int i;

	w->t_start = rte_rdtsc();
	if (opt.mode == MODE_LOOPBACK_CHECK) {
		/* Run until every packet came back, or the timeout after the
		 * last one was sent. */
		uint64_t deadline = 0;
		struct check *c = &w->chk[w->host.nb_ports - 1];

		while (!stop_signal) {
			ex_run_once(ex);
			if (c->received + c->corrupt >= opt.count || w->gen.probe_failed)
				break;
			if (opt.count != 0 && w->gen.sent >= opt.count && deadline == 0)
				deadline = ex_now_ns(ex) + (uint64_t)opt.timeout_ms * EX_NS_PER_MS;
			if (deadline != 0 && ex_now_ns(ex) > deadline)
				break;
			if (opt.count == 0 && opt.duration > 0 &&
					ex_now_ns(ex) > (uint64_t)(opt.duration * 1e9))
				break;
		}
	} else if (opt.mode == MODE_TXONLY && opt.count != 0) {
		while (!stop_signal && w->gen.sent < opt.count)
			ex_run_once(ex);
		for (i = 0; i < 16; i++)
			ex_run_once(ex); /* the last flush */
	} else {
		ex_run(ex);
	}
	w->t_end = rte_rdtsc();
}

/* Every task dropped (streams release what they hold), ports stopped, and
 * every mbuf proved home. */
static void
worker_teardown(struct worker *w)
{
	struct stack_host *h = &w->host;
	unsigned int i;
	uint16_t p;

	stack_host_shutdown(h);
	for (p = 0; p < h->nb_ports; p++)
		dp_tx_sink_flush(&h->tx[p]);
	/* Packets still on a loopback wire (ring, memif pairs) are ours too. */
	for (i = 0; i < 64 && h->stage != 0; i++) {
		unsigned int got = 0;

		for (p = 0; p < h->nb_ports; p++) {
			struct rte_mbuf *b[DP_BURST_MAX];
			uint16_t n = rte_eth_rx_burst(
					h->ports[p].port_id, h->queue, b, DP_BURST_MAX);

			if (n != 0)
				rte_pktmbuf_free_bulk(b, n);
			got += n;
		}
		if (got == 0 && i > 4)
			break;
		rte_delay_ms(1);
	}
	if (opt.mode == MODE_IMPAIR && w->up)
		for (p = 0; p < h->nb_ports; p++)
			dp_impair_fini(&w->imp[p]);
	if (stack_host_down(h, stdout) != 0)
		w->exit_code = 1;
}

static int print_summary(void);

/* One worker's life: up (in turn), its loop (all start together), then
 * (after worker 0 printed the summary) down (in turn). */
static int
worker_main(void *arg)
{
	struct worker *w = arg;
	bool ok;

	RTE_PER_LCORE(self) = w;
	while (__atomic_load_n(&up_turn, __ATOMIC_ACQUIRE) != w->idx)
		rte_pause();
	ok = worker_setup(w) == 0;
	w->up = ok;
	if (!ok)
		w->exit_code = 1;
	__atomic_store_n(&up_turn, w->idx + 1, __ATOMIC_RELEASE);
	__atomic_add_fetch(&nready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&nready, __ATOMIC_ACQUIRE) < nworkers)
		rte_pause();
	for (unsigned int i = 0; i < nworkers; i++)
		ok = ok && workers[i].up; /* one failed: none runs */
	if (ok)
		worker_run(w);
	__atomic_add_fetch(&nfinished, 1, __ATOMIC_ACQ_REL);
	if (w->idx == 0) {
		while (__atomic_load_n(&nfinished, __ATOMIC_ACQUIRE) < nworkers)
			rte_pause();
		if (ok && print_summary() != 0)
			w->exit_code = 1;
		__atomic_store_n(&summary_done, true, __ATOMIC_RELEASE);
	} else {
		while (!__atomic_load_n(&summary_done, __ATOMIC_ACQUIRE))
			rte_pause();
	}
	while (__atomic_load_n(&down_turn, __ATOMIC_ACQUIRE) != w->idx)
		rte_pause();
	worker_teardown(w);
	__atomic_store_n(&down_turn, w->idx - 1, __ATOMIC_RELEASE); /* 0's is the last */
	return w->exit_code;
}

/* ---- the summary ---- */

static int
print_loopback_check(const struct worker *w)
{
	const struct check *c = &w->chk[w->host.nb_ports - 1];
	const struct gen *g = &w->gen;
	uint64_t lost = g->sent > c->received + c->corrupt ? g->sent - c->received - c->corrupt : 0;

	if (g->probe_failed)
		printf("  loopback-check: none of %" PRIu64 " probes came back in %u ms:"
		       " the path does not loop back\n",
				g->probes_sent, opt.timeout_ms);
	printf("  loopback-check: sent %" PRIu64 " received %" PRIu64 " in-order %" PRIu64
	       " out-of-order %" PRIu64 " corrupt %" PRIu64 " lost %" PRIu64 " foreign %" PRIu64
	       " probes %" PRIu64 "/%" PRIu64 "\n",
			g->sent, c->received, c->in_order, c->out_of_order, c->corrupt, lost,
			c->foreign, c->probes, g->probes_sent);
	return g->probe_failed || lost != 0 || c->corrupt != 0 || c->out_of_order != 0 ||
					       (opt.count != 0 && g->sent != opt.count)
			       ? 1
			       : 0;
}

/* One worker's lines (its ports, and its mode's figures). */
static int
print_worker(const struct worker *w)
{
	const struct stack_host *h = &w->host;
	int rc = 0;
	uint16_t p;

	for (p = 0; p < h->nb_ports; p++) {
		char q[16] = "";

		if (shared_queues) /* one queue of a shared port: say which */
			snprintf(q, sizeof(q), " queue %u", h->queue);
		printf("  port %u %-20s%s rx %" PRIu64 "  tx %" PRIu64 "  tx-dropped %" PRIu64 "\n",
				h->ports[p].port_id, h->ports[p].name, q, h->rx[p].stats.pkts,
				h->tx[p].stats.pkts, h->tx[p].stats.dropped);
	}
	if (opt.mode == MODE_TXONLY || opt.mode == MODE_LOOPBACK_CHECK)
		printf("  generated %" PRIu64 " (pool empty %" PRIu64 " times)\n", w->gen.sent,
				w->gen.alloc_failed);
	if (opt.mode == MODE_IMPAIR)
		for (p = 0; p < h->nb_ports; p++)
			printf("  impair %s: in %" PRIu64 " out %" PRIu64 " lost %" PRIu64
			       " duplicated %" PRIu64 " reordered %" PRIu64 " delayed %" PRIu64
			       " corrupted %" PRIu64 " overflow %" PRIu64 "\n",
					h->ports[p].name, w->imp[p].stats.in, w->imp[p].stats.out,
					w->imp[p].stats.lost, w->imp[p].stats.duplicated,
					w->imp[p].stats.reordered, w->imp[p].stats.delayed,
					w->imp[p].stats.corrupted, w->imp[p].stats.overflow);
	if (opt.mode == MODE_LOOPBACK_CHECK)
		rc = print_loopback_check(w);
	if (opt.xstats)
		for (p = 0; p < h->nb_ports; p++)
			if (dp_port_xstats_print(&h->ports[p], stdout) < 0)
				printf("  %s: no extended statistics\n", h->ports[p].name);
	if (opt.mode == MODE_RXONLY)
		for (p = 0; p < h->nb_ports; p++)
			printf("  rxonly port %u: received %" PRIu64 "\n", h->ports[p].port_id,
					w->chk[p].received);
	return rc;
}

/* Every worker's figures, and their sum over the longest worker's run.
 * @return 1 if a check failed. */
static int
print_summary(void)
{
	struct totals tot = totals();
	uint64_t start = UINT64_MAX, end = 0, rx = 0;
	unsigned int w;
	double secs;
	int rc = 0;

	for (w = 0; w < nworkers; w++) {
		start = RTE_MIN(start, workers[w].t_start);
		end = RTE_MAX(end, workers[w].t_end);
	}
	secs = (double)(end - start) / (double)rte_get_tsc_hz();
	printf("pktbench: summary after %.2f s%s\n", secs,
			stop_signal ? " (stopped by signal)" : "");
	for (w = 0; w < nworkers; w++) {
		const struct worker *k = &workers[w];
		double ws = (double)(k->t_end - k->t_start) / (double)rte_get_tsc_hz();
		uint16_t p;

		for (p = 0, rx = 0; p < k->host.nb_ports; p++)
			rx += k->host.rx[p].stats.pkts;
		if (nworkers > 1)
			printf("  worker %u (lcore %u): rx %.3f Mpps\n", w, k->lcore,
					ws > 0 ? (double)rx / ws / 1e6 : 0.0);
		rc |= print_worker(k);
	}
	printf("  rx %.3f Mpps, tx %.3f Mpps, busy cycles/pkt %.1f%s\n",
			(double)tot.rx / secs / 1e6, (double)tot.tx / secs / 1e6,
			tot.rx ? (double)busy_cycles() / (double)tot.rx : 0.0,
			nworkers > 1 ? " (every worker)" : "");
	return rc;
}

/* ---- main ---- */

/* The options that only some modes take, and impair's pool. @return 0 or -1. */
static int
check_mode_options(const struct dp_impair_config *ic)
{
	if (opt.tx_csum_partial && opt.mode != MODE_IO) {
		fprintf(stderr, "pktbench: --tx-csum-partial is for --mode io\n");
		return -1;
	}
	if (opt.wait_signal && opt.mode != MODE_TXONLY && opt.mode != MODE_LOOPBACK_CHECK) {
		fprintf(stderr, "pktbench: --wait-signal is for txonly and loopback-check\n");
		return -1;
	}
	if (opt.mode != MODE_IMPAIR && opt.impair != NULL) {
		fprintf(stderr, "pktbench: --impair is for --mode impair\n");
		return -1;
	}
	if (opt.mode == MODE_IMPAIR) {
		/* Both directions may hold `limit` packets each (delay, rate,
		 * reorder), beside the ports' rings and the lcore cache. A pool
		 * they empty starves rx refill, and net_af_xdp's rx then stops
		 * for good (DPDK 22.11): a link that black-holes everything. */
		uint64_t want = 2ull * ic->limit + 8192;

		if (opt.nb_mbufs < want && !opt.nb_mbufs_set) {
			opt.nb_mbufs = (uint32_t)RTE_MIN(want, (uint64_t)UINT32_MAX);
		} else if (opt.nb_mbufs < want) {
			fprintf(stderr,
					"pktbench: note: --nb-mbufs %u is less than the impairment "
					"may hold both ways (2 x limit %u) and the rings: a full pool "
					"can stop rx on some PMDs (net_af_xdp) for good\n",
					opt.nb_mbufs, ic->limit);
		}
	}
	return 0;
}

/* How the ports are shared: N workers on N or 2N ports (a port, or a pair,
 * each). @return 0 or -1 (said). */
static int
share_ports(void)
{
	uint16_t nports = rte_eth_dev_count_avail();

	if (nworkers == 1) {
		ports_per_worker = 0; /* every port */
		return 0;
	}
	if (opt.mode == MODE_LOOPBACK_CHECK || opt.mode == MODE_IMPAIR) {
		fprintf(stderr, "pktbench: --mode %s runs on one lcore (give -l with one)\n",
				mode_names[opt.mode]);
		return -1;
	}
	if (nports == nworkers || nports == 2 * nworkers) {
		ports_per_worker = (uint16_t)(nports / nworkers);
		return 0;
	}
	if (nports <= MAX_PORTS) {
		/* Every worker on every port, a queue pair each (the port must
		 * have nworkers queues: dp_port_init says if it has not). */
		shared_queues = true;
		ports_per_worker = 0;
		return 0;
	}
	fprintf(stderr,
			"pktbench: %u workers (one per EAL lcore) and %u ports: give each worker a "
			"port or a pair (%u or %u ports), or give them 1 or 2 ports to share (a "
			"queue each)\n",
			nworkers, nports, nworkers, 2 * nworkers);
	return -1;
}

int
main(int argc, char **argv)
{
	struct dp_eal_info info;
	unsigned int lcore, w;
	char err[160];
	int rc, exit_code;

	/* Line by line even into a file or a pipe: scripts wait for lines. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stack_host_want_version(argc, argv, stdout))
		return 0;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, argv[0]);
		printf("\nEAL arguments (e.g. -l 1 --vdev net_null0 --no-pci) come before \"--\";\n"
		       "'%s -l 0 --help' lists DPDK's.\n",
				argv[0]);
		return 0;
	}
	rc = dp_eal_init(argc, argv, 1024, &info);
	if (rc != 0) {
		fprintf(stderr, "pktbench: EAL: %s\n", strerror(-rc));
		return 2;
	}
	if (info.note[0] != '\0')
		printf("pktbench: %s\n", info.note);
	if (parse_args(info.app_argc, info.app_argv) != 0)
		return 2;
	memset(&icfg, 0, sizeof(icfg));
	if (opt.mode == MODE_IMPAIR && dp_impair_parse(opt.impair ? opt.impair : "", &icfg, err,
						       sizeof(err)) != 0) {
		fprintf(stderr, "pktbench: %s\n", err);
		return 2;
	}
	if (check_mode_options(&icfg) != 0)
		return 2;
	nworkers = rte_lcore_count();
	if (share_ports() != 0)
		return 2;
	workers = calloc(nworkers, sizeof(*workers));
	if (workers == NULL)
		return 1;
	w = 0;
	workers[w].idx = w;
	workers[w].lcore = rte_lcore_id();
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		w++;
		workers[w].idx = w;
		workers[w].lcore = lcore;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGUSR1, on_go);
	down_turn = nworkers - 1;
	for (w = 1; w < nworkers; w++)
		rte_eal_remote_launch(worker_main, &workers[w], workers[w].lcore);
	/* The main lcore is worker 0; it prints the summary once all ran. */
	worker_main(&workers[0]);
	rte_eal_mp_wait_lcore();
	for (w = 0, exit_code = 0; w < nworkers; w++)
		exit_code |= workers[w].exit_code;
	free(workers);
	rte_eal_cleanup();
	return exit_code;
}
