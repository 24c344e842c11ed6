/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * worker.c - pktbench's workers: one per EAL lcore, shared nothing. Each is a
 * whole host (stack_host_up() on its lcore: its own pool and executor) on
 * its share of the ports (a port, a pair, or its own queue pair of shared
 * ports), running the mode's futures; worker 0 (the main lcore) prints the
 * figures of all, summed, at an interval and at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_ring.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_impair.h"
#include "dp_port.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "pktbench.h"

struct worker *workers;
unsigned int nworkers;
uint16_t ports_per_worker; /* 0: every port (one worker, or shared queues) */
bool shared_queues; /* every worker on every port, a queue each */

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
		uint64_t now = ex_now_ns(workers[0].host.ex), rxn = tot.rx, txn = tot.tx,
			 busy = busy_cycles();
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

/* Bring-up goes one worker at a time, worker 0 first (ethdev's control path
 * is not for concurrent callers, and on shared ports worker 0 owns them);
 * teardown in reverse, worker 0 last. The loops start together. */
static unsigned int up_turn, down_turn, nready, nfinished;
static bool summary_done;

struct dp_impair_config icfg;
struct dp_steer_group steer_groups[MAX_PORTS];

/* io, macswap, impair: a forward per port, into its peer (the pair's other
 * port, or itself). @return 0 or -1 (said). */
static int
setup_forward(struct worker *w)
{
	struct stack_host *h = &w->host;
	unsigned int i;
	uint16_t p;

	for (p = 0; p < h->nb_ports; p++) {
		struct ex_stream *in = w->in[p];
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
		if (opt.mode == MODE_IO && !partial && !opt.steer) {
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
		w->chk[p].in = w->in[p];
		if (opt.steer) {
			w->chk[p].steer_n = (uint16_t)nworkers;
			w->chk[p].steer_self = (uint16_t)w->idx;
		}
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
	w->gen.pool = h->pool;
	w->gen.ex = h->ex;
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
	hc.busy_poll = !opt.sleep_when_idle;
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
	if (opt.sleep_when_idle)
		printf(", sleeps when idle (%s)", ex_sleeps_on_events(h->ex)
								  ? "on the ports' rx events"
								  : "naps: a port has no rx event");
	printf("\n");
	for (p = 0; p < h->nb_ports; p++) {
		w->in[p] = &h->rx[p].base;
		if (!opt.steer)
			continue;
		/* Its queue of the port, classified to every worker's inbox; it
		 * reads its own inbox. */
		if (dp_steer_init(&w->steer[p], h->ex, &h->rx[p].base, &steer_groups[p],
				    (uint16_t)w->idx, NULL) != 0)
			return -1;
		w->nsteer++;
		ex_spawn(&w->steer[p].cls.base, NULL, NULL);
		w->in[p] = &w->steer[p].inbox.base;
	}
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
	for (p = 0; p < w->nsteer; p++) {
		/* Every loop has stopped: nothing more comes into its inbox. */
		struct rte_ring *r = steer_groups[p].inbox[w->idx];
		void *m;

		dp_steer_fini(&w->steer[p]);
		while (rte_ring_dequeue(r, &m) == 0)
			rte_pktmbuf_free(m);
	}
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
	for (p = 0; p < w->nsteer; p++)
		printf("  steer port %u: kept %" PRIu64 " steered to others %" PRIu64
		       ", took %" PRIu64 " from its inbox\n",
				h->ports[p].port_id, dp_steer_kept(&w->steer[p]),
				dp_steer_steered(&w->steer[p]), w->steer[p].inbox.stats.pkts);
	if (opt.steer && opt.mode == MODE_RXONLY)
		for (p = 0; p < h->nb_ports; p++)
			printf("  rxonly port %u: misrouted %" PRIu64 "\n", h->ports[p].port_id,
					w->chk[p].misrouted);
	if (opt.sleep_when_idle) {
		struct ex_stats st;

		ex_stats_read(h->ex, &st);
		printf("  idle: slept %" PRIu64 " times, %" PRIu64 " on rx events, %" PRIu64
		       " ended by one\n",
				st.idle_sleeps, st.idle_event_sleeps, st.idle_event_wakes);
	}
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

int
workers_run(void)
{
	unsigned int w;
	int exit_code = 0;

	down_turn = nworkers - 1;
	for (w = 1; w < nworkers; w++)
		rte_eal_remote_launch(worker_main, &workers[w], workers[w].lcore);
	/* The main lcore is worker 0; it prints the summary once all ran. */
	worker_main(&workers[0]);
	rte_eal_mp_wait_lcore();
	for (w = 0; w < nworkers; w++)
		exit_code |= workers[w].exit_code;
	return exit_code;
}
