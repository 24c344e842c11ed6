/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp_bench - riptide's TCP client benchmark, against a riptide (or any)
 * server: request/response latency (rr: a 64-byte request, the server
 * echoes it; p50 and p99), one connection's bulk throughput (bulk: the
 * server discards; Gbit/s acknowledged) and connections per second (conn:
 * connect and close, one at a time). scripts/bench/tcp.sh runs it against
 * apps/echo over memif, beside the Linux half (sockperf, iperf3,
 * tcp_connrate) on loopback.
 *
 *   tcp_bench [EAL args] -- --ip ADDR/PREFIX --server ADDR:PORT --mode rr|bulk|conn
 *                           [--seconds S] [--gateway ADDR] [--tcp-cc NAME] [--mtu N]
 *                           [--busy-poll]
 *
 * One line of figures a script can read ("tcp_bench: rr: ..."); exit 0, or
 * 1 when the run failed (its error named) or an mbuf leaked.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>

#include "args.h"
#include "ex_executor.h"
#include "ipv4_addr.h"
#include "stack_host.h"
#include "tcp.h"

#define BULK_CHUNK 16384
/* What bulk mode writes: its content does not matter, only its size. */
static uint8_t bulk_chunk[BULK_CHUNK];

enum bench_mode {
	BENCH_MODE_NONE = 0,
	BENCH_MODE_RR, /* 64-byte request, 64-byte response, one at a time */
	BENCH_MODE_BULK, /* one connection, write as fast as it goes */
	BENCH_MODE_CONN, /* connect, close, again: one at a time */
};

enum bench_state {
	BENCH_STATE_CONNECT = 0,
	BENCH_STATE_WRITE,
	BENCH_STATE_READ,
	BENCH_STATE_DONE,
};

#define BENCH_MSG 64
#define BENCH_MAX_SAMPLES (1u << 22)

struct bench {
	struct ex_future base;
	enum bench_mode mode;
	enum bench_state state;
	struct tcp_stack *tcp;
	struct ex_executor *ex;
	uint32_t ip;
	uint16_t port;
	struct tcp_connect conn;
	struct tcp_conn *c;
	struct tcp_write w;
	struct tcp_read r;
	uint8_t msg[BENCH_MSG], in[BENCH_MSG];
	uint32_t got;
	uint64_t duration_ns, start, end_at, t0;
	uint64_t count, bytes0;
	uint32_t *lat_ns;
	uint32_t nlat;
	int error;
};

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void
bench_finish(struct bench *b, int err)
{
	if (b->error == 0)
		b->error = err;
	if (b->c != NULL) {
		if (b->error < 0)
			tcp_abort(b->c);
		else
			tcp_close(b->c);
		b->c = NULL;
	}
	b->state = BENCH_STATE_DONE;
	ex_stop_all();
}

static enum ex_poll
bench_poll(struct ex_future *f, struct ex_context *cx)
{
	struct bench *b = EX_CONTAINER_OF(f, struct bench, base);

	for (;;) {
		uint64_t now = ex_now_ns(b->ex);

		switch (b->state) {
		case BENCH_STATE_CONNECT:
			if (b->start == 0) {
				b->start = now;
				b->end_at = now + b->duration_ns;
			}
			if (ex_await(&b->conn.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (b->conn.base.result < 0) {
				bench_finish(b, b->conn.base.result);
				return EX_READY;
			}
			b->c = b->conn.conn;
			if (b->mode == BENCH_MODE_CONN) {
				/* One whole open; the close runs on in the background
				 * (FIN, TIME_WAIT) as a server's would. */
				tcp_close(b->c);
				b->c = NULL;
				b->count++;
				if (now >= b->end_at) {
					bench_finish(b, 0);
					return EX_READY;
				}
				tcp_connect_init(&b->conn, b->tcp, b->ip, b->port);
				continue;
			}
			/* rr and bulk time from the established connection. */
			b->start = now;
			b->end_at = now + b->duration_ns;
			b->bytes0 = b->tcp->stats.bytes_out;
			b->state = BENCH_STATE_WRITE;
			b->t0 = now;
			tcp_write_init(&b->w, b->c, b->mode == BENCH_MODE_RR ? b->msg : bulk_chunk,
					b->mode == BENCH_MODE_RR ? BENCH_MSG : BULK_CHUNK);
			continue;
		case BENCH_STATE_WRITE:
			if (ex_await(&b->w.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (b->w.base.result != (int32_t)b->w.len) {
				/* an error, or a short write (the pool ran dry) */
				bench_finish(b, b->w.base.result < 0 ? b->w.base.result : -ENOBUFS);
				return EX_READY;
			}
			if (b->mode == BENCH_MODE_BULK) {
				if (now >= b->end_at) {
					bench_finish(b, 0);
					return EX_READY;
				}
				tcp_write_init(&b->w, b->c, bulk_chunk, BULK_CHUNK);
				continue;
			}
			b->got = 0;
			tcp_read_init(&b->r, b->c, b->in, BENCH_MSG);
			b->state = BENCH_STATE_READ;
			continue;
		case BENCH_STATE_READ:
			if (ex_await(&b->r.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (b->r.base.result <= 0) {
				bench_finish(b, b->r.base.result < 0 ? b->r.base.result : -EPIPE);
				return EX_READY;
			}
			b->got += (uint32_t)b->r.base.result;
			if (b->got < BENCH_MSG) {
				tcp_read_init(&b->r, b->c, b->in + b->got, BENCH_MSG - b->got);
				continue;
			}
			if (b->nlat < BENCH_MAX_SAMPLES)
				b->lat_ns[b->nlat++] = (uint32_t)RTE_MIN(now - b->t0, UINT32_MAX);
			b->count++;
			if (now >= b->end_at) {
				bench_finish(b, 0);
				return EX_READY;
			}
			b->t0 = now;
			tcp_write_init(&b->w, b->c, b->msg, BENCH_MSG);
			b->state = BENCH_STATE_WRITE;
			continue;
		case BENCH_STATE_DONE:
			return EX_READY;
		}
	}
}

static void
bench_drop(struct ex_future *f)
{
	struct bench *b = EX_CONTAINER_OF(f, struct bench, base);

	if (b->state == BENCH_STATE_CONNECT)
		ex_future_drop(&b->conn.base);
	if (b->c != NULL) {
		tcp_abort(b->c);
		b->c = NULL;
	}
}

static const struct ex_future_ops bench_ops = {
	.poll = bench_poll,
	.drop = bench_drop,
	.name = "tcp_bench",
};

/* One line a script can read: the mode's figures. */
static void
bench_report(struct bench *b)
{
	uint64_t end = ex_now_ns(b->ex);
	double secs = (double)(RTE_MIN(end, b->end_at) - b->start) / 1e9;

	if (b->error < 0) {
		printf("tcp_bench: error: %s\n", strerror(-b->error));
		return;
	}
	switch (b->mode) {
	case BENCH_MODE_RR:
		if (b->nlat == 0)
			break;
		qsort(b->lat_ns, b->nlat, sizeof(uint32_t), cmp_u32);
		printf("tcp_bench: rr: %" PRIu64 " round trips of %u bytes in %.2f s, p50 %.2f us "
		       "p99 %.2f us\n",
				b->count, BENCH_MSG, secs, b->lat_ns[b->nlat / 2] / 1e3,
				b->lat_ns[(uint64_t)b->nlat * 99 / 100] / 1e3);
		break;
	case BENCH_MODE_BULK:
		printf("tcp_bench: bulk: %" PRIu64 " bytes acknowledged in %.2f s, %.3f Gbit/s\n",
				b->tcp->stats.bytes_out - b->bytes0, secs,
				(double)(b->tcp->stats.bytes_out - b->bytes0) * 8 / secs / 1e9);
		/* The sender's side of it, for reading the figure (whole run). */
		printf("tcp_bench: bulk: segments out %" PRIu64 " in %" PRIu64
		       " retransmits %" PRIu64 " (timeouts %" PRIu64 " tail probes %" PRIu64
		       " fast %" PRIu64 ") undos %" PRIu64 " copied %" PRIu64 " tso %" PRIu64
		       " (wire segments %" PRIu64 ")\n",
				b->tcp->stats.segs_out, b->tcp->stats.segs_in,
				b->tcp->stats.retransmits, b->tcp->stats.rto_timeouts,
				b->tcp->stats.tlp_probes, b->tcp->stats.fast_retransmits,
				b->tcp->stats.undos, b->tcp->stats.tx_copied, b->tcp->stats.tso_out,
				b->tcp->stats.tso_wire_segs);
		break;
	case BENCH_MODE_CONN:
		printf("tcp_bench: conn: %" PRIu64 " connections in %.2f s, %.0f per second\n",
				b->count, secs, (double)b->count / secs);
		break;
	default:
		break;
	}
}

struct opts {
	enum bench_mode mode;
	uint32_t ip;
	uint16_t port;
	double seconds;
};

static void
usage(FILE *out)
{
	fprintf(out, "Usage: tcp_bench [EAL args] -- --ip ADDR/PREFIX --server ADDR:PORT --mode MODE\n"
		     "  --ip A/P          our address and prefix (required)\n"
		     "  --gateway A       next hop for other networks\n"
		     "  --server A:P      the server (required): an echo server for rr and conn,\n"
		     "                    a discard server for bulk (apps/echo --tcp-echo, --tcp-discard)\n"
		     "  --mode MODE       rr: 64-byte request and response, one at a time (p50/p99\n"
		     "                    latency); bulk: one connection, Gbit/s acknowledged; conn:\n"
		     "                    connect and close, one at a time (connections/s)\n"
		     "  --seconds S       how long (default 5)\n"
		     "  --tcp-cc NAME     congestion control: cubic (default) or newreno\n"
		     "  --mtu N           the port's and the stack's IP MTU, 576..9600 (default\n"
		     "                    1500; jumbo frames over it, where the port takes them)\n"
		     "  --busy-poll       poll without pause when idle (default: spin, then sleep)\n"
		     "  -h, --help        this text\n"
		     "  --version         riptide's and DPDK's versions\n");
}

static int
parse_args(struct stack_host_config *cfg, int argc, char **argv, void *arg)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "server", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "tcp-cc", required_argument, NULL, 'c' },
		{ "busy-poll", no_argument, NULL, 'b' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts *o = arg;
	uint32_t mtu;
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ipv4_parse_cidr(optarg, &cfg->stack.ip, &cfg->stack.prefix_len) != 0)
				return fprintf(stderr, "tcp_bench: --ip '%s': wants ADDR/PREFIX\n",
						       optarg),
				       -EINVAL;
			break;
		case 'g':
			if (ipv4_parse_addr(optarg, &cfg->stack.gateway) != 0)
				return fprintf(stderr, "tcp_bench: --gateway '%s': wants ADDR\n",
						       optarg),
				       -EINVAL;
			break;
		case 's':
			if (ipv4_parse_addr_port(optarg, &o->ip, &o->port) != 0)
				return fprintf(stderr, "tcp_bench: --server '%s': wants ADDR:PORT\n",
						       optarg),
				       -EINVAL;
			break;
		case 'm':
			o->mode = strcmp(optarg, "rr") == 0     ? BENCH_MODE_RR
				  : strcmp(optarg, "bulk") == 0 ? BENCH_MODE_BULK
				  : strcmp(optarg, "conn") == 0 ? BENCH_MODE_CONN
								: BENCH_MODE_NONE;
			if (o->mode == BENCH_MODE_NONE)
				return fprintf(stderr, "tcp_bench: --mode '%s': rr, bulk or conn\n",
						       optarg),
				       -EINVAL;
			break;
		case 'S':
			if (arg_seconds("tcp_bench", "--seconds", optarg, 0.1, 3600, &o->seconds) !=
					0)
				return -EINVAL;
			break;
		case 'c':
			if (tcp_cc_by_name(optarg, &cfg->tcp.cc) != 0)
				return fprintf(stderr, "tcp_bench: --tcp-cc '%s': cubic or newreno\n",
						       optarg),
				       -EINVAL;
			break;
		case 'b':
			cfg->busy_poll = true;
			break;
		case 'M':
			if (arg_u32("tcp_bench", "--mtu", optarg, STACK_HOST_MTU_MIN,
					    STACK_HOST_MTU_MAX, &mtu) != 0)
				return -EINVAL;
			cfg->mtu = (uint16_t)mtu;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		return fprintf(stderr, "tcp_bench: '%s': not a flag\n", argv[optind]), -EINVAL;
	if (cfg->stack.ip == 0 || o->ip == 0 || o->mode == BENCH_MODE_NONE)
		return fprintf(stderr, "tcp_bench: --ip, --server and --mode are required\n"),
		       -EINVAL;
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .seconds = 5 };
	struct stack_host_config hc;
	struct stack_host h;
	struct bench *b;
	int rc, exit_code = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stack_host_want_version(argc, argv, stdout))
		return 0;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	stack_host_config_defaults(&hc);
	hc.name = "tcp_bench";
	hc.argc = argc;
	hc.argv = argv;
	hc.args = parse_args;
	hc.args_arg = &o;
	/* conn mode's closed connections wait in TIME_WAIT: room for them. */
	hc.tcp.max_conns = 1024 + 512 + 16;
	rc = stack_host_up(&h, &hc);
	if (rc != 0) {
		bool usage_error = strncmp(h.err, "arguments:", 10) == 0; /* said already */

		if (rc != -ECANCELED && !usage_error)
			fprintf(stderr, "tcp_bench: %s\n", h.err);
		return rc == -ECANCELED ? 0 : usage_error ? 2 : 1;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (o.mode == BENCH_MODE_RR && (b->lat_ns = calloc(BENCH_MAX_SAMPLES,
								      sizeof(uint32_t))) == NULL)) {
		fprintf(stderr, "tcp_bench: no memory for the samples\n");
		exit_code = 1;
		goto down;
	}
	memset(bulk_chunk, 'b', sizeof(bulk_chunk));
	ex_future_init(&b->base, &bench_ops);
	b->mode = o.mode;
	b->tcp = &h.tcp;
	b->ex = h.ex;
	b->ip = o.ip;
	b->port = o.port;
	b->duration_ns = (uint64_t)(o.seconds * 1e9);
	memset(b->msg, 'r', BENCH_MSG);
	stack_announce(&h.st);
	tcp_connect_init(&b->conn, &h.tcp, o.ip, o.port);
	ex_spawn(&b->base, NULL, NULL);
	ex_run(h.ex);

	stack_host_print_stats(&h, stdout);
	bench_report(b);
	if (b->error < 0)
		exit_code = 1;
down:
	stack_host_shutdown(&h);
	if (stack_host_down(&h, stdout) != 0)
		exit_code = 1;
	if (b != NULL)
		free(b->lat_ns);
	free(b);
	return exit_code;
}
