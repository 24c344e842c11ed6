/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_server.c - answers each line with the line reversed; every connection
 * is its own task.
 *
 *   example_tcp_server --vdev net_tap0,iface=rt0 -- --ip 198.18.0.2/24 --port 7
 *
 * The shape of a riptide server: the host comes up in one call (EAL, port,
 * executor, stack, TCP); tcp_serve accepts and spawns one session per
 * connection into a slab slot, which the executor takes back when the
 * session ends; SIGINT stops the loop; then shut down, close, host down.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ex_slab.h"
#include "ipv4_addr.h"
#include "stack_host.h"
#include "tcp_serve.h"

#define LINE_CAP 1024 /* the longest line, with its end; a longer one resets */

/* One connection: read a line, write it back reversed, until the peer closes. */
struct session {
	struct ex_future base;
	enum {
		SESSION_READ,
		SESSION_WRITE
	} state;
	struct tcp_conn *conn;
	struct tcp_lines lines;
	struct tcp_write write;
	char in[LINE_CAP];
	char out[LINE_CAP];
};

static void
session_end(struct session *s, int err)
{
	if (err == 0)
		tcp_close(s->conn); /* FIN after what is queued */
	else
		tcp_abort(s->conn); /* a reset, a line too long */
	s->conn = NULL;
	s->base.result = err;
}

static enum ex_poll
session_poll(struct ex_future *f, struct ex_context *cx)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);
	union ex_item line;
	uint32_t i, n;

	for (;;) {
		switch (s->state) {
		case SESSION_READ:
			switch (ex_stream_poll_next(&s->lines.base, cx, &line)) {
			case EX_NEXT_PENDING:
				return EX_PENDING;
			case EX_NEXT_END:
				session_end(s, s->lines.base.error);
				return EX_READY;
			case EX_NEXT_ITEM:
				break;
			}
			n = s->lines.line_len;
			for (i = 0; i < n; i++)
				s->out[i] = ((const char *)line.ptr)[n - 1 - i];
			s->out[n] = '\n';
			tcp_write_init(&s->write, s->conn, s->out, n + 1);
			s->state = SESSION_WRITE;
			/* fall through */
		case SESSION_WRITE:
			if (ex_await(&s->write.base, cx) == EX_PENDING)
				return EX_PENDING; /* the send buffer is full */
			if (s->write.base.result < 0) {
				session_end(s, s->write.base.result);
				return EX_READY;
			}
			s->state = SESSION_READ;
		}
	}
}

/* Cancelled (SIGINT while it runs): let go of what it holds. */
static void
session_drop(struct ex_future *f)
{
	struct session *s = EX_CONTAINER_OF(f, struct session, base);

	if (s->conn == NULL)
		return;
	if (s->state == SESSION_WRITE)
		ex_future_drop(&s->write.base);
	ex_stream_drop(&s->lines.base);
	tcp_abort(s->conn);
}

static const struct ex_future_ops session_ops = { session_poll, session_drop, "session" };

/* tcp_serve's start: a session for each accepted connection, in its slot. */
static struct ex_future *
session_start(void *slot, struct tcp_conn *conn, void *arg)
{
	struct session *s = slot;

	(void)arg;
	ex_future_init(&s->base, &session_ops);
	s->conn = conn;
	tcp_lines_init(&s->lines, conn, s->in, sizeof(s->in));
	return &s->base;
}

struct opts {
	uint16_t port;
	uint32_t max_conns;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: example_tcp_server EAL-ARGS -- --ip ADDR/PREFIX [--gateway ADDR]\n"
		   "         [--port N (7)] [--max-conns N (256)]\n"
		   "Answers each line with the line reversed. SIGINT stops it.\n");
}

/* The app's own arguments, parsed once the EAL is up (stack_host_config.args). */
static int
parse_args(struct stack_host_config *cfg, int argc, char **argv, void *arg)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "port", required_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts *o = arg;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ipv4_parse_cidr(optarg, &cfg->stack.ip, &cfg->stack.prefix_len) != 0)
				return fprintf(stderr, "--ip '%s': wants ADDR/PREFIX\n", optarg),
				       -EINVAL;
			break;
		case 'g':
			if (ipv4_parse_addr(optarg, &cfg->stack.gateway) != 0)
				return fprintf(stderr, "--gateway '%s': wants ADDR\n", optarg),
				       -EINVAL;
			break;
		case 'p':
			if (ipv4_parse_port(optarg, &o->port) != 0)
				return fprintf(stderr, "--port '%s': 1..65535\n", optarg), -EINVAL;
			break;
		case 'm':
			o->max_conns = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->max_conns < 1 || o->max_conns > 65536)
				return fprintf(stderr, "--max-conns '%s': 1..65536\n", optarg),
				       -EINVAL;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	cfg->tcp.max_conns = 2 * o->max_conns + 64; /* room for TIME_WAIT */
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
	struct opts o = { .port = 7, .max_conns = 256 };
	struct stack_host_config hc;
	struct stack_host h;
	struct tcp_serve srv;
	struct ex_slab *sessions;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	stack_host_config_defaults(&hc);
	hc.name = "tcp_server";
	hc.argc = argc;
	hc.argv = argv;
	hc.args = parse_args;
	hc.args_arg = &o;
	rc = stack_host_up(&h, &hc);
	if (rc != 0) {
		if (rc != -ECANCELED) /* not after --help */
			fprintf(stderr, "tcp_server: %s\n", h.err);
		return rc == -ECANCELED ? 0 : 1;
	}
	sessions = EX_SLAB_CREATE(h.ex, "sessions", struct session, o.max_conns);
	rc = sessions == NULL ? -ENOMEM
			      : tcp_serve_start(&srv, &h.tcp, 0, o.port, 128, sessions,
						session_start, NULL);
	if (rc != 0) {
		fprintf(stderr, "tcp_server: port %u: %s\n", o.port, strerror(-rc));
		ex_slab_free(sessions);
		stack_host_down(&h, stderr);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	stack_announce(&h.st);
	printf("tcp_server: reversing lines on port %u of %s\n", o.port, h.ports[0].name);
	ex_run(h.ex);

	stack_host_shutdown(&h); /* every session dropped, its slot back */
	tcp_serve_close(&srv);
	ex_slab_free(sessions);
	printf("tcp_server: accepted %" PRIu64 " refused %" PRIu64 "\n", srv.accepted, srv.refused);
	return stack_host_down(&h, stdout) == 0 ? 0 : 1;
}
