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
 *
 * This file: options, --help and main; traffic.c the packets, worker.c the
 * workers (pktbench.h).
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
#include "pktbench.h"
#include "stack_host.h"

const char *const mode_names[6] = { "io", "macswap", "txonly", "rxonly", "loopback-check",
	"impair" };

struct options opt = {
	.mode = MODE_IO,
	.interval = 1.0,
	.pkt_size = 64,
	.timeout_ms = 2000,
	.nb_mbufs = 16383,
	.src_ip = RTE_IPV4(198, 18, 0, 1),
	.dst_ip = RTE_IPV4(198, 18, 0, 2),
};

volatile sig_atomic_t stop_signal;
volatile sig_atomic_t go_signal;

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
			"  --sleep-when-idle  sleep on the ports' rx events when nothing arrives, as a\n"
			"                     driver waits for a NIC's interrupt, instead of busy-polling:\n"
			"                     for a forwarder that shares its core (proxy.sh's wire)\n"
			"  --steer            workers sharing ports (a queue each): every packet goes\n"
			"                     to the worker that owns its flow (the symmetric RSS hash),\n"
			"                     over a ring, as on a port that cannot steer (software\n"
			"                     steering; counts kept, steered and misrouted packets)\n"
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
		{ "steer", no_argument, NULL, 'G' },
		{ "sleep-when-idle", no_argument, NULL, 'Z' },
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
		case 'G':
			opt.steer = true;
			break;
		case 'Z':
			opt.sleep_when_idle = true;
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

	if (opt.steer && (nworkers == 1 || nports > MAX_PORTS || opt.mode == MODE_TXONLY)) {
		fprintf(stderr, "pktbench: --steer is for io, macswap or rxonly on 2 or more lcores "
				"sharing 1 or 2 ports\n");
		return -1;
	}
	if (nworkers == 1) {
		ports_per_worker = 0; /* every port */
		return 0;
	}
	if (opt.mode == MODE_LOOPBACK_CHECK || opt.mode == MODE_IMPAIR) {
		fprintf(stderr, "pktbench: --mode %s runs on one lcore (give -l with one)\n",
				mode_names[opt.mode]);
		return -1;
	}
	if (!opt.steer && (nports == nworkers || nports == 2 * nworkers)) {
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
	uint16_t p;
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
	for (p = 0; opt.steer && p < rte_eth_dev_count_avail(); p++) {
		char name[16];

		snprintf(name, sizeof(name), "pkb%u", p);
		if (dp_steer_group_create(&steer_groups[p], name, (uint16_t)nworkers, 4096) != 0) {
			fprintf(stderr, "pktbench: --steer: no memory for %u rings\n", nworkers);
			return 1;
		}
	}
	exit_code = workers_run();
	for (p = 0; opt.steer && p < MAX_PORTS; p++)
		dp_steer_group_free(&steer_groups[p]); /* empty: each worker drained its inbox */
	free(workers);
	rte_eal_cleanup();
	return exit_code;
}
