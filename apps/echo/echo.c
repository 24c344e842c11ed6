/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * echo - riptide's test and benchmark peer: a host on one port that answers
 * ARP and ping, announces itself with a gratuitous ARP, and echoes UDP
 * datagrams on a port (the same mbuf goes back: zero copy). TCP echo,
 * discard and HTTP come with the TCP layer.
 *
 *   echo [EAL args] -- --ip ADDR/PREFIX [--udp-port P] [--hello ADDR:PORT]
 *
 * One lcore, one port (the EAL's first). SIGINT/SIGTERM stop it; at exit
 * it prints its counters (drops by reason) and checks every mbuf came back.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "dp_eal.h"
#include "dp_port.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "stack.h"
#include "udp.h"

static struct ex_executor *ex;
static volatile sig_atomic_t stopped;

static void
on_signal(int sig)
{
	stopped = sig;
	ex_stop_all();
}

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
			"Usage: %s [EAL args] -- --ip ADDR/PREFIX [options]\n"
			"  --ip A/P        our address and prefix, e.g. 198.18.0.2/24 (required)\n"
			"  --gateway A     next hop for other networks (default: none)\n"
			"  --udp-port P    echo UDP datagrams received on port P\n"
			"  --hello A:P     at start, send one UDP datagram \"hello\" to A:P (riptide\n"
			"                  speaks first, so it resolves A's MAC by ARP)\n"
			"  --duration S    stop after S seconds (default: until SIGINT/SIGTERM)\n"
			"  -h, --help      this text\n"
			"Answers ARP and ICMP echo on the first port of the EAL (--vdev or PCI).\n",
			prog);
}

static int
parse_ip(const char *s, uint32_t *ip, int *prefix)
{
	unsigned int a, b, c, d, p = 32;
	int n = 0;

	if (prefix != NULL) {
		if (sscanf(s, "%u.%u.%u.%u/%u%n", &a, &b, &c, &d, &p, &n) != 5 || s[n] != '\0')
			return -1;
	} else if (sscanf(s, "%u.%u.%u.%u%n", &a, &b, &c, &d, &n) != 4 || s[n] != '\0') {
		return -1;
	}
	if (a > 255 || b > 255 || c > 255 || d > 255 || p > 32)
		return -1;
	*ip = RTE_IPV4(a, b, c, d);
	if (prefix != NULL)
		*prefix = (int)p;
	return 0;
}

/* UDP echo: each datagram goes back to its source in its own mbuf. */
struct udp_echo {
	struct ex_future base;
	struct udp_sock *s;
	struct udp_recv recv;
	uint64_t echoed, send_errors;
};

static enum ex_poll
udp_echo_poll(struct ex_future *f, struct ex_context *cx)
{
	struct udp_echo *e = EX_CONTAINER_OF(f, struct udp_echo, base);
	unsigned int n;

	for (n = 0; n < 64; n++) {
		if (ex_await(&e->recv.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (e->recv.base.result >= 0) {
			if (udp_send_mbuf(e->s, e->recv.m, e->recv.src_ip, e->recv.src_port) == 0)
				e->echoed++;
			else
				e->send_errors++;
		}
		udp_recv_init(&e->recv, e->s);
	}
	ex_waker_wake(&cx->waker);
	return EX_PENDING;
}

static const struct ex_future_ops udp_echo_ops = {
	.poll = udp_echo_poll,
	.drop = NULL,
	.name = "udp_echo",
};

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "duration", required_argument, NULL, 'd' },
		{ "udp-port", required_argument, NULL, 'u' },
		{ "hello", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_eal_info info;
	struct stack_config scfg;
	struct dp_port_config pcfg;
	struct dp_port port;
	struct ex_config ecfg;
	struct rte_mempool *pool;
	struct dp_rx_stream rx;
	struct dp_tx_sink tx;
	struct stack st;
	struct stack_rx_task task;
	struct ex_stop_after stopper;
	double duration = 0;
	long udp_port = 0;
	uint32_t hello_ip = 0;
	unsigned int hello_port = 0;
	struct udp_sock usock, hsock;
	struct udp_echo uecho;
	int prefix = 24, c, rc, exit_code = 0;
	uint16_t pid;
	unsigned int d;
	uint64_t in_use;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	rc = dp_eal_init(argc, argv, 256, &info);
	if (rc != 0) {
		fprintf(stderr, "echo: EAL: %s\n", strerror(-rc));
		return 2;
	}
	stack_config_defaults(&scfg);
	optind = 1;
	while ((c = getopt_long(info.app_argc, info.app_argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (parse_ip(optarg, &scfg.ip, &prefix) != 0) {
				fprintf(stderr, "echo: --ip wants ADDR/PREFIX, e.g. 198.18.0.2/24\n");
				return 2;
			}
			scfg.prefix_len = (uint8_t)prefix;
			break;
		case 'g':
			if (parse_ip(optarg, &scfg.gateway, NULL) != 0) {
				fprintf(stderr, "echo: bad --gateway '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			duration = strtod(optarg, NULL);
			break;
		case 'u':
			udp_port = strtol(optarg, NULL, 10);
			if (udp_port < 1 || udp_port > 65535) {
				fprintf(stderr, "echo: --udp-port must be 1..65535\n");
				return 2;
			}
			break;
		case 'H': {
			char addr[32];
			const char *colon = strrchr(optarg, ':');

			if (colon == NULL || (size_t)(colon - optarg) >= sizeof(addr) ||
					sscanf(colon + 1, "%u", &hello_port) != 1 ||
					hello_port == 0 || hello_port > 65535) {
				fprintf(stderr, "echo: --hello wants ADDR:PORT\n");
				return 2;
			}
			memcpy(addr, optarg, (size_t)(colon - optarg));
			addr[colon - optarg] = '\0';
			if (parse_ip(addr, &hello_ip, NULL) != 0) {
				fprintf(stderr, "echo: --hello wants ADDR:PORT\n");
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout, info.app_argv[0]);
			return 0;
		default:
			usage(stderr, info.app_argv[0]);
			return 2;
		}
	}
	if (scfg.ip == 0) {
		fprintf(stderr, "echo: --ip ADDR/PREFIX is required\n");
		return 2;
	}
	pool = rte_pktmbuf_pool_create(
			"echo", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (pool == NULL) {
		fprintf(stderr, "echo: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	pid = 0;
	if (!rte_eth_dev_is_valid_port(pid)) {
		fprintf(stderr, "echo: no port: give one with the EAL, e.g. --vdev net_tap0\n");
		return 1;
	}
	dp_port_config_defaults(&pcfg);
	pcfg.pool = pool;
	rc = dp_port_init(&port, pid, &pcfg);
	if (rc != 0) {
		fprintf(stderr, "echo: port %u: %s\n", pid, strerror(-rc));
		return 1;
	}
	rte_eth_macaddr_get(pid, &scfg.mac);
	scfg.tx_offloads = port.tx_offloads; /* checksums the PMD computes for us */
	ex_config_defaults(&ecfg);
	ecfg.name = "echo";
	ecfg.idle_policy = EX_IDLE_POLICY_BACKOFF; /* a test peer: leave the core to Linux */
	ex = ex_executor_create(rte_lcore_id(), &ecfg);
	if (ex == NULL) {
		fprintf(stderr, "echo: executor: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ex_run_once(ex);
	dp_rx_stream_init(&rx, ex, pid, 0);
	dp_tx_sink_init(&tx, ex, pid, 0);
	rc = stack_init(&st, &scfg, ex, pool, &tx.base);
	if (rc != 0) {
		fprintf(stderr, "echo: stack: %s\n", strerror(-rc));
		return 1;
	}
	stack_rx_task_init(&task, &st, &rx.base);
	ex_spawn(&task.base, NULL, NULL);
	memset(&uecho, 0, sizeof(uecho));
	if (udp_port != 0) {
		rc = udp_bind(&usock, &st, 0, (uint16_t)udp_port);
		if (rc != 0) {
			fprintf(stderr, "echo: udp port %ld: %s\n", udp_port, strerror(-rc));
			return 1;
		}
		ex_future_init(&uecho.base, &udp_echo_ops);
		uecho.s = &usock;
		udp_recv_init(&uecho.recv, &usock);
		ex_spawn(&uecho.base, NULL, NULL);
	}
	if (duration > 0) {
		ex_stop_after_init(&stopper, (uint64_t)(duration * 1e9));
		ex_spawn(&stopper.base, NULL, NULL);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("echo: %u.%u.%u.%u/%u on %s (%02x:%02x:%02x:%02x:%02x:%02x), answering ARP and "
	       "ping%s\n",
			scfg.ip >> 24, (scfg.ip >> 16) & 255, (scfg.ip >> 8) & 255, scfg.ip & 255,
			scfg.prefix_len, port.name, scfg.mac.addr_bytes[0], scfg.mac.addr_bytes[1],
			scfg.mac.addr_bytes[2], scfg.mac.addr_bytes[3], scfg.mac.addr_bytes[4],
			scfg.mac.addr_bytes[5], udp_port != 0 ? ", echoing UDP" : "");
	stack_announce(&st);
	if (hello_ip != 0) {
		rc = udp_bind(&hsock, &st, 0, 0);
		if (rc == 0)
			rc = udp_send(&hsock, "hello", 5, hello_ip, (uint16_t)hello_port);
		if (rc != 0)
			fprintf(stderr, "echo: hello: %s\n", strerror(-rc));
	}
	ex_run(ex);

	printf("echo: rx %" PRIu64 " tx %" PRIu64 " arp requests in %" PRIu64
	       " replies out %" PRIu64 " ping in %" PRIu64 " out %" PRIu64 "\n",
			st.stats.rx_frames, st.stats.tx_frames, st.stats.arp_requests_in,
			st.stats.arp_replies_out, st.stats.icmp_echo_in, st.stats.icmp_echo_out);
	if (udp_port != 0)
		printf("echo: udp port %ld: received %" PRIu64 " echoed %" PRIu64
		       " overflow %" PRIu64 " send errors %" PRIu64 "\n",
				udp_port, usock.rx_datagrams, uecho.echoed, usock.rx_overflow,
				uecho.send_errors);
	for (d = 0; d < STACK_DROP_MAX; d++)
		if (st.stats.drops[d] != 0)
			printf("echo: dropped %-16s %" PRIu64 "\n",
					stack_drop_name((enum stack_drop)d), st.stats.drops[d]);
	ex_executor_shutdown(ex);
	if (udp_port != 0) {
		/* The echo task sent every datagram it took: nothing to free. */
		udp_close(&usock);
	}
	if (hello_ip != 0)
		udp_close(&hsock);
	stack_fini(&st);
	dp_rx_stream_fini(&rx);
	dp_tx_sink_fini(&tx);
	dp_port_close(&port);
	ex_executor_free(ex);
	in_use = rte_mempool_in_use_count(pool);
	if (in_use != 0 && strcmp(port.name, "net_af_xdp0") != 0) {
		printf("echo: %" PRIu64 " mbufs not returned to the pool\n", in_use);
		exit_code = 1;
	} else if (in_use != 0) {
		printf("echo: %" PRIu64 " mbufs still held by net_af_xdp's fill ring after close "
		       "(PMD behaviour in DPDK 22.11); none held by riptide\n",
				in_use);
	} else {
		printf("echo: all mbufs returned to the pool\n");
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return exit_code;
}
