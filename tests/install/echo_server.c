/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * echo_server.c - a program outside the tree, built against an installed
 * libriptide with nothing but pkg-config:
 *
 *   cc echo_server.c $(pkg-config --cflags --libs libriptide) -o echo_server
 *   ./echo_server --vdev net_tap0,iface=rt0 -- 198.18.0.2/24 7
 *
 * A TCP echo server: each connection a task in a slab slot, its receive
 * stream forwarded into its send sink, zero copy. SIGINT stops it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <ex_combinator.h>
#include <ex_slab.h>
#include <ipv4_addr.h>
#include <stack_host.h>
#include <tcp_serve.h>

struct session {
	struct ex_future base;
	struct tcp_conn *c;
	struct tcp_rx_stream in;
	struct tcp_tx_sink out;
	struct ex_forward fw;
};

static void
release(union ex_item it, void *arg)
{
	(void)arg;
	rte_pktmbuf_free(it.ptr);
}

static enum ex_poll
session_poll(struct ex_future *f, struct ex_context *cx)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);

	if (ex_await(&s->fw.base, cx) == EX_PENDING)
		return EX_PENDING;
	if (s->fw.base.result < 0)
		tcp_abort(s->c);
	else
		tcp_close(s->c);
	return EX_READY;
}

static void
session_drop(struct ex_future *f)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);

	ex_future_drop(&s->fw.base);
	tcp_abort(s->c);
}

static const struct ex_future_ops session_ops = { session_poll, session_drop, "session" };

static struct ex_future *
session_start(void *slot, struct tcp_conn *c, void *arg)
{
	struct session *s = slot;

	(void)arg;
	ex_future_init(&s->base, &session_ops);
	s->c = c;
	tcp_rx_stream_init(&s->in, c);
	tcp_tx_sink_init(&s->out, c);
	ex_forward_init(&s->fw, &s->in.base, &s->out.base, release, NULL);
	return &s->base;
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
	struct dp_eal_info eal;
	struct tcp_serve srv;
	struct ex_slab *slab;
	uint16_t port;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = dp_eal_init(argc, argv, 256, &eal); /* the EAL first: then our arguments */
	if (rc != 0 || eal.app_argc != 3)
		return fprintf(stderr, "usage: echo_server EAL-ARGS -- ADDR/PREFIX PORT\n"), 2;
	stack_host_config_defaults(&hc);
	hc.name = "echo_server";
	if (ipv4_parse_cidr(eal.app_argv[1], &hc.stack.ip, &hc.stack.prefix_len) != 0 ||
			ipv4_parse_port(eal.app_argv[2], &port) != 0)
		return fprintf(stderr, "echo_server: bad address or port\n"), 2;
	if (stack_host_up(&h, &hc) != 0)
		return fprintf(stderr, "echo_server: %s\n", h.err), 1;
	slab = ex_slab_create(h.ex, "sessions", sizeof(struct session), 64);
	if (slab == NULL ||
			tcp_serve_start(&srv, &h.tcp, 0, port, 64, slab, session_start, NULL) != 0)
		return fprintf(stderr, "echo_server: cannot listen on %u\n", port), 1;
	signal(SIGINT, on_signal);
	stack_announce(&h.st);
	printf("echo_server: listening on %u\n", port);
	ex_run(h.ex);
	stack_host_shutdown(&h);
	tcp_serve_close(&srv);
	ex_slab_free(slab);
	printf("echo_server: accepted %lu\n", (unsigned long)srv.accepted);
	rc = stack_host_down(&h, stdout) == 0 ? 0 : 1;
	rte_eal_cleanup();
	return rc;
}
