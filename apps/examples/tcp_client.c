/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_client.c - connects to a line server, sends the lines given on the
 * command line, half-closes, and prints every line that comes back until the
 * server closes; the whole exchange under one deadline.
 *
 *   example_tcp_client --vdev net_tap0,iface=rt0 -- --ip 198.18.0.2/24 \
 *       --connect 198.18.0.1:7 hello world
 *
 * One task, written as the async function it stands for:
 *
 *   conn = connect(addr).await?;
 *   for line in lines { conn.write_all(line + "\n").await?; }
 *   conn.shutdown();
 *   while let Some(reply) = conn.lines().next().await { print(reply); }
 *
 * wrapped in a timeout (ex_timeout), which drops it if the deadline passes.
 * Exit status 0 when as many lines came back as were sent.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ex_combinator.h"
#include "ipv4_addr.h"
#include "stack_host.h"

#define LINE_CAP 1024

struct client {
	struct ex_future base;
	enum {
		CLIENT_CONNECT,
		CLIENT_WRITE,
		CLIENT_READ
	} state;
	struct tcp_connect connect;
	struct tcp_conn *conn;
	struct tcp_write write;
	struct tcp_lines lines;
	char **send; /* the lines to send */
	int nsend, sent;
	char out[LINE_CAP];
	char in[LINE_CAP];
	int replies;
};

/* Write the next line, or half-close when all are written. */
static void
client_next_line(struct client *k)
{
	size_t n;

	if (k->sent == k->nsend) {
		tcp_shutdown(k->conn); /* FIN: the server sees the end, we keep reading */
		tcp_lines_init(&k->lines, k->conn, k->in, sizeof(k->in));
		k->state = CLIENT_READ;
		return;
	}
	n = strlen(k->send[k->sent]);
	if (n > LINE_CAP - 2)
		n = LINE_CAP - 2;
	memcpy(k->out, k->send[k->sent], n);
	k->out[n] = '\n';
	tcp_write_init(&k->write, k->conn, k->out, (uint32_t)n + 1);
	k->state = CLIENT_WRITE;
}

static enum ex_poll
client_poll(struct ex_future *f, struct ex_context *cx)
{
	struct client *k = EX_CONTAINER_OF(f, struct client, base);
	union ex_item line;

	for (;;) {
		switch (k->state) {
		case CLIENT_CONNECT:
			if (ex_await(&k->connect.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (k->connect.base.result < 0) {
				f->result = k->connect.base.result;
				return EX_READY;
			}
			k->conn = k->connect.conn;
			client_next_line(k);
			break;
		case CLIENT_WRITE:
			if (ex_await(&k->write.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (k->write.base.result < 0) {
				f->result = k->write.base.result;
				return EX_READY;
			}
			k->sent++;
			client_next_line(k);
			break;
		case CLIENT_READ:
			switch (ex_stream_poll_next(&k->lines.base, cx, &line)) {
			case EX_NEXT_PENDING:
				return EX_PENDING;
			case EX_NEXT_ITEM:
				printf("reply: %s\n", (const char *)line.ptr);
				k->replies++;
				break;
			case EX_NEXT_END:
				f->result = k->lines.base.error;
				return EX_READY;
			}
		}
	}
}

/* Dropped by the timeout: cancel whichever step is pending. */
static void
client_drop(struct ex_future *f)
{
	struct client *k = EX_CONTAINER_OF(f, struct client, base);

	if (k->state == CLIENT_CONNECT)
		ex_future_drop(&k->connect.base);
	else if (k->state == CLIENT_WRITE)
		ex_future_drop(&k->write.base);
	else
		ex_stream_drop(&k->lines.base);
}

static const struct ex_future_ops client_ops = { client_poll, client_drop, "client" };

/* The task: the client under a deadline, then stop the loop. */
struct main_task {
	struct ex_future base;
	struct ex_timeout timeout;
};

static enum ex_poll
main_task_poll(struct ex_future *f, struct ex_context *cx)
{
	struct main_task *m = EX_CONTAINER_OF(f, struct main_task, base);

	if (ex_await(&m->timeout.base, cx) == EX_PENDING)
		return EX_PENDING;
	f->result = m->timeout.base.result;
	ex_stop_all();
	return EX_READY;
}

static const struct ex_future_ops main_task_ops = { main_task_poll, NULL, "main" };

struct opts {
	uint32_t ip;
	uint16_t port;
	uint32_t timeout_ms;
	int nlines;
	char **lines;
};

static int
parse_args(struct stack_host_config *cfg, int argc, char **argv, void *arg)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "connect", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 't' },
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
		case 'c':
			if (ipv4_parse_addr_port(optarg, &o->ip, &o->port) != 0)
				return fprintf(stderr, "--connect '%s': wants ADDR:PORT\n", optarg),
				       -EINVAL;
			break;
		case 't':
			o->timeout_ms = (uint32_t)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->timeout_ms == 0)
				return fprintf(stderr, "--timeout-ms '%s': a whole number above 0\n",
						       optarg),
				       -EINVAL;
			break;
		case 'h':
			printf("usage: example_tcp_client EAL-ARGS -- --ip ADDR/PREFIX "
			       "--connect ADDR:PORT [--gateway ADDR] [--timeout-ms N (10000)] "
			       "LINE...\n");
			return 1;
		default:
			return -EINVAL;
		}
	}
	if (o->ip == 0)
		return fprintf(stderr, "--connect ADDR:PORT is required\n"), -EINVAL;
	o->lines = &argv[optind];
	o->nlines = argc - optind;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .timeout_ms = 10000 };
	struct stack_host_config hc;
	struct stack_host h;
	struct client k = { 0 };
	struct main_task m;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	stack_host_config_defaults(&hc);
	hc.name = "tcp_client";
	hc.argc = argc;
	hc.argv = argv;
	hc.args = parse_args;
	hc.args_arg = &o;
	rc = stack_host_up(&h, &hc);
	if (rc != 0) {
		if (rc != -ECANCELED)
			fprintf(stderr, "tcp_client: %s\n", h.err);
		return rc == -ECANCELED ? 0 : 1;
	}
	ex_future_init(&k.base, &client_ops);
	tcp_connect_init(&k.connect, &h.tcp, o.ip, o.port);
	k.send = o.lines;
	k.nsend = o.nlines;
	ex_future_init(&m.base, &main_task_ops);
	ex_timeout_init(&m.timeout, &k.base, (uint64_t)o.timeout_ms * EX_NS_PER_MS);
	ex_spawn(&m.base, NULL, NULL);
	ex_run(h.ex);

	rc = m.timeout.base.result;
	printf("tcp_client: sent %d lines, %d replies%s%s\n", k.sent, k.replies, rc < 0 ? ": " : "",
			rc < 0 ? strerror(-rc) : "");
	stack_host_shutdown(&h);
	if (k.conn != NULL)
		rc < 0 ? tcp_abort(k.conn) : tcp_close(k.conn);
	if (stack_host_down(&h, stdout) != 0)
		return 1;
	return rc == 0 && k.replies == k.nsend ? 0 : 1;
}
