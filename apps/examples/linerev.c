/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linerev.c - the newcomer's first program (issue 19), on riptide: a TCP
 * server answering each line with the line reversed, many connections at
 * once, plus UDP echo on the same port; SIGINT stops it cleanly. Lines over
 * 1023 bytes reset the connection. linerev_epoll.c is the same program on
 * Linux sockets and epoll.
 *
 *   example_linerev --vdev net_tap0,iface=rt0 -- 198.18.0.2/24 7
 */
#include <signal.h>
#include <stdio.h>

#include "ipv4_addr.h"
#include "stack_host.h"
#include "tcp_serve.h"
#include "udp.h"

#define LINE_CAP 1024

/* One connection: each line read is written back reversed. */
struct session {
	struct ex_future base;
	struct tcp_conn *c;
	struct tcp_lines lines;
	struct tcp_write w;
	bool writing;
	char in[LINE_CAP], out[LINE_CAP];
};

static enum ex_poll
session_poll(struct ex_future *f, struct ex_context *cx)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);
	union ex_item line;
	enum ex_next next;
	uint32_t i, n;

	for (;;) {
		if (s->writing && ex_await(&s->w.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (s->writing && s->w.base.result < 0)
			break;
		s->writing = false;
		next = ex_stream_poll_next(&s->lines.base, cx, &line);
		if (next == EX_NEXT_PENDING)
			return EX_PENDING;
		if (next == EX_NEXT_END)
			break; /* the peer closed; or a reset, a line too long */
		n = s->lines.line_len;
		for (i = 0; i < n; i++)
			s->out[i] = ((const char *)line.ptr)[n - 1 - i];
		s->out[n] = '\n';
		tcp_write_init(&s->w, s->c, s->out, n + 1);
		s->writing = true;
	}
	if (s->lines.base.error == 0 && !s->writing)
		tcp_close(s->c);
	else
		tcp_abort(s->c);
	return EX_READY;
}

static void
session_drop(struct ex_future *f)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);

	if (s->writing)
		ex_future_drop(&s->w.base);
	ex_stream_drop(&s->lines.base);
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
	tcp_lines_init(&s->lines, c, s->in, sizeof(s->in));
	return &s->base;
}

/* UDP: every datagram back where it came from, in the mbuf it came in. */
struct udp_echo {
	struct ex_future base;
	struct udp_sock s;
	struct udp_recv r;
};

static enum ex_poll
udp_echo_poll(struct ex_future *f, struct ex_context *cx)
{
	struct udp_echo *e = EX_CONTAINER_OF(f, struct udp_echo, base);

	while (ex_await(&e->r.base, cx) == EX_READY && e->r.base.result >= 0) {
		udp_send_mbuf(&e->s, e->r.m, e->r.src_ip, e->r.src_port);
		udp_recv_init(&e->r, &e->s);
	}
	return e->r.base.result < 0 ? EX_READY : EX_PENDING;
}

static void
udp_echo_drop(struct ex_future *f)
{
	ex_future_drop(&EX_CONTAINER_OF(f, struct udp_echo, base)->r.base);
}

static const struct ex_future_ops udp_echo_ops = { udp_echo_poll, udp_echo_drop, "udp_echo" };

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
	struct ex_slab *slab;
	struct tcp_serve srv;
	struct udp_echo u;
	uint16_t port;

	stack_host_config_defaults(&hc);
	if (dp_eal_init(argc, argv, 256, &eal) != 0 || eal.app_argc != 3 ||
			ipv4_parse_cidr(eal.app_argv[1], &hc.stack.ip, &hc.stack.prefix_len) != 0 ||
			ipv4_parse_port(eal.app_argv[2], &port) != 0)
		return fprintf(stderr, "usage: example_linerev EAL-ARGS -- ADDR/PREFIX PORT\n"), 2;
	hc.name = "linerev";
	if (stack_host_up(&h, &hc) != 0)
		return fprintf(stderr, "linerev: %s\n", h.err), 1;
	slab = EX_SLAB_CREATE(h.ex, "sessions", struct session, 1024);
	if (slab == NULL ||
			tcp_serve_start(&srv, &h.tcp, 0, port, 128, slab, session_start, NULL) ||
			udp_bind(&u.s, &h.st, 0, port) != 0)
		return fprintf(stderr, "linerev: port %u is taken\n", port), 1;
	ex_future_init(&u.base, &udp_echo_ops);
	udp_recv_init(&u.r, &u.s);
	ex_spawn(&u.base, NULL, NULL);
	signal(SIGINT, on_signal);
	printf("linerev: port %u\n", port);
	fflush(stdout);
	ex_run(h.ex);
	stack_host_shutdown(&h);
	tcp_serve_close(&srv);
	udp_close(&u.s);
	ex_slab_free(slab);
	printf("linerev: stopped\n");
	return stack_host_down(&h, stdout) == 0 ? 0 : 1;
}
