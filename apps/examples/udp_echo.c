/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_echo.c - sends every UDP datagram back where it came from, zero copy:
 * the received mbuf goes back out with new headers in its headroom.
 *
 *   example_udp_echo --vdev net_tap0,iface=rt0 -- --ip 198.18.0.2/24 --port 7
 *
 * One task: receive, send the same mbuf back, receive again; it gives the
 * loop back after a batch so that a flood cannot starve the rx task that
 * feeds it. SIGINT stops it and prints what it echoed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ipv4_addr.h"
#include "stack_host.h"
#include "udp.h"

#define BATCH 64

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

	for (n = 0; n < BATCH; n++) {
		if (ex_await(&e->recv.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (e->recv.base.result < 0) /* the socket closed */
			return EX_READY;
		/* The mbuf is consumed either way: sent, or freed and counted. */
		if (udp_send_mbuf(e->s, e->recv.m, e->recv.src_ip, e->recv.src_port) == 0)
			e->echoed++;
		else
			e->send_errors++;
		udp_recv_init(&e->recv, e->s);
	}
	ex_waker_wake(&cx->waker); /* more may be queued: come back after the others */
	return EX_PENDING;
}

static void
udp_echo_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct udp_echo, base)->recv.base);
}

static const struct ex_future_ops udp_echo_ops = { udp_echo_poll, udp_echo_drop, "udp_echo" };

static int
parse_args(struct stack_host_config *cfg, int argc, char **argv, void *arg)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "port", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint16_t *port = arg;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ipv4_parse_cidr(optarg, &cfg->stack.ip, &cfg->stack.prefix_len) != 0)
				return fprintf(stderr, "--ip '%s': wants ADDR/PREFIX\n", optarg),
				       -EINVAL;
			break;
		case 'p':
			if (ipv4_parse_port(optarg, port) != 0)
				return fprintf(stderr, "--port '%s': 1..65535\n", optarg), -EINVAL;
			break;
		case 'h':
			printf("usage: example_udp_echo EAL-ARGS -- --ip ADDR/PREFIX [--port N (7)]\n");
			return 1;
		default:
			return -EINVAL;
		}
	}
	cfg->tcp_on = false; /* UDP only */
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	ex_stop_all();
}

int
main(int argc, char **argv)
{
	struct stack_host_config hc;
	struct stack_host h;
	struct udp_sock s;
	struct udp_echo e = { 0 };
	uint16_t port = 7;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	stack_host_config_defaults(&hc);
	hc.name = "udp_echo";
	hc.argc = argc;
	hc.argv = argv;
	hc.args = parse_args;
	hc.args_arg = &port;
	rc = stack_host_up(&h, &hc);
	if (rc != 0) {
		if (rc != -ECANCELED)
			fprintf(stderr, "udp_echo: %s\n", h.err);
		return rc == -ECANCELED ? 0 : 1;
	}
	rc = udp_bind(&s, &h.st, 0, port);
	if (rc != 0) {
		fprintf(stderr, "udp_echo: port %u: %s\n", port, strerror(-rc));
		stack_host_down(&h, stderr);
		return 1;
	}
	ex_future_init(&e.base, &udp_echo_ops);
	e.s = &s;
	udp_recv_init(&e.recv, &s);
	ex_spawn(&e.base, NULL, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	stack_announce(&h.st);
	printf("udp_echo: echoing port %u on %s\n", port, h.ports[0].name);
	ex_run(h.ex);

	stack_host_shutdown(&h);
	printf("udp_echo: received %" PRIu64 " echoed %" PRIu64 " send errors %" PRIu64 "\n",
			s.rx_datagrams, e.echoed, e.send_errors);
	udp_close(&s);
	return stack_host_down(&h, stdout) == 0 ? 0 : 1;
}
