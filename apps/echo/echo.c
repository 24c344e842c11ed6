/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * echo - riptide's test and benchmark peer: a host on one port that answers
 * ARP and ping, announces itself with a gratuitous ARP, echoes UDP
 * datagrams (the same mbuf goes back: zero copy), and serves TCP: echo (the
 * connection forwarded into itself, zero copy), discard, a source of a
 * fixed pattern, and a minimal HTTP/1.1 responder. As a TCP client it sends
 * seeded random bytes to an echo server and checks what comes back. (The
 * client benchmark, rr/bulk/conn, is its own program: apps/bench/tcp_bench.)
 * An impairment stage (loss, reordering, duplication, delay, corruption)
 * can sit on the port, both ways.
 *
 *   echo [EAL args] -- --ip ADDR/PREFIX [options]   (see --help)
 *
 * One port (the EAL's first); one lane per lcore of the EAL, each a host
 * with its own stack and every service, on its own queue of the port
 * (stack_host.h steers each flow to the lane that owns it). SIGINT/SIGTERM
 * stop it; at exit each lane prints its counters (drops by reason) and
 * checks every mbuf came back.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "dp_eal.h"
#include "args.h"
#include "dp_impair.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ipv4_addr.h"
#include "services.h"
#include "sha256.h"
#include "stack.h"
#include "stack_host.h"
#include "tcp.h"
#include "udp.h"

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
			"  --tcp-echo P    TCP echo on port P (the connection forwarded into itself)\n"
			"  --tcp-discard P TCP discard on port P\n"
			"  --discard-sha256  discard: print each connection's byte count and\n"
			"                  SHA-256 when its peer closes (transfer checks)\n"
			"  --tcp-source P  on port P, send --source-bytes of a fixed pattern, then close\n"
			"  --source-bytes N  (default 1048576)\n"
			"  --http-port P   HTTP/1.1 on port P: 200 OK, keep-alive, a fixed body\n"
			"  --http-body N   body bytes (default 13: \"hello, world\\n\")\n"
			"  --tcp-client A:P  connect to an echo server at A:P, send --bytes of seeded\n"
			"                  random data, read the echo back and check it; exit 0 if\n"
			"                  every byte came back, 1 otherwise (after the close is\n"
			"                  done on the wire, or 0.2 s: the host's linger)\n"
			"  --bytes N       client: bytes to send (default 1048576)\n"
			"  --seed S        client: data seed (default: random, printed)\n"
			"  --max-conns N   TCP connections at once (default 1024)\n"
			"  --user-timeout MS  give up on unacknowledged data after MS (RFC 9293)\n"
			"  --keepalive     TCP keepalive on every connection\n"
			"  --time-wait MS  TIME_WAIT length (default 60000)\n"
			"  --tcp-cc NAME   congestion control: cubic (default) or newreno\n"
			"  --mtu N         the port's and the stack's IP MTU, 576..9600 (default: 1500;\n"
			"                  over it, jumbo frames: TCP's MSS follows, each mbuf holds a\n"
			"                  frame; the port must take it, e.g. memif, virtio-user)\n"
			"  --busy-poll     poll without pause when idle (benchmarks); default: spin\n"
			"                  50 us, then sleep until the rx queue has packets or a timer\n"
			"                  is due (naps of up to 1 ms on a port with no rx event fd)\n"
			"  --impair SPEC   impair the port both ways, e.g. loss=1%%,reorder=10%%:3,\n"
			"                  dup=1%%,delay=20ms,corrupt=0.1%%,seed=42 (seed=random: random)\n"
			"  --duration S    stop after S seconds (default: until SIGINT/SIGTERM)\n"
			"  -h, --help      this text\n"
			"  --version       riptide's and DPDK's versions\n"
			"Answers ARP and ICMP echo on the first port of the EAL (--vdev or PCI).\n"
			"One lane per lcore of the EAL (-l 0-1: two), each with its own stack and\n"
			"every service, on a queue of its own; flows are steered to their lane\n"
			"(said at start). The --tcp-client runs on the last lane.\n",
			prog);
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

/* ---- TCP services: one session task per connection ---- */

/* ---- the TCP client: send seeded data to an echo server, check it back ---- */

enum client_state {
	CLIENT_STATE_CONNECT = 0,
	CLIENT_STATE_RUN,
	CLIENT_STATE_DONE,
};

#define CLIENT_CHUNK 65536

/* xorshift64* as a byte stream: n bytes at a time, any n, the same bytes
 * however the stream is cut (a read may return any count). */
struct byte_gen {
	uint64_t x;
	uint8_t left[8]; /* the rest of the last word, not yet handed out */
	uint32_t nleft;
};

struct client {
	struct ex_future base;
	enum client_state state;
	struct tcp_connect conn;
	struct tcp_conn *c;
	struct tcp_write w;
	struct tcp_read r;
	uint64_t total, sent, received, mismatch_at;
	struct byte_gen wgen, rgen; /* what is sent / expected */
	bool mismatch, writing, shut;
	struct sha256 sent_sha, recv_sha;
	uint8_t wbuf[CLIENT_CHUNK], rbuf[CLIENT_CHUNK], ebuf[CLIENT_CHUNK];
	int error;
};

static void
gen_fill(struct byte_gen *g, uint8_t *p, uint32_t n)
{
	while (n > 0) {
		uint32_t k;

		if (g->nleft == 0) {
			uint64_t v;

			g->x ^= g->x << 13;
			g->x ^= g->x >> 7;
			g->x ^= g->x << 17;
			v = g->x * UINT64_C(0x2545f4914f6cdd1d);
			memcpy(g->left, &v, 8);
			g->nleft = 8;
		}
		k = RTE_MIN(n, g->nleft);
		memcpy(p, g->left + (8 - g->nleft), k);
		g->nleft -= k;
		p += k;
		n -= k;
	}
}

static void
client_next_write(struct client *k)
{
	uint32_t n = (uint32_t)RTE_MIN((uint64_t)CLIENT_CHUNK, k->total - k->sent);

	gen_fill(&k->wgen, k->wbuf, n);
	sha256_update(&k->sent_sha, k->wbuf, n);
	tcp_write_init(&k->w, k->c, k->wbuf, n);
	k->writing = true;
}

static enum ex_poll
client_poll(struct ex_future *f, struct ex_context *cx)
{
	struct client *k = EX_CONTAINER_OF(f, struct client, base);

	switch (k->state) {
	case CLIENT_STATE_CONNECT:
		if (ex_await(&k->conn.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (k->conn.base.result < 0) {
			k->error = k->conn.base.result;
			k->state = CLIENT_STATE_DONE;
			ex_stop_all();
			return EX_READY;
		}
		k->c = k->conn.conn;
		k->state = CLIENT_STATE_RUN;
		if (k->total > 0)
			client_next_write(k);
		tcp_read_init(&k->r, k->c, k->rbuf, CLIENT_CHUNK);
		/* fall through */
		__attribute__((fallthrough));
	case CLIENT_STATE_RUN:
		/* The writer: chunk after chunk while the send buffer takes them. */
		while (k->writing && ex_await(&k->w.base, cx) == EX_READY) {
			if (k->w.base.result < 0) {
				k->error = k->w.base.result;
				break;
			}
			k->sent += (uint64_t)k->w.base.result;
			k->writing = false;
			if (k->sent < k->total)
				client_next_write(k);
		}
		if (!k->writing && !k->shut && k->error == 0) {
			tcp_shutdown(k->c); /* all sent: FIN, keep reading */
			k->shut = true;
		}
		/* The reader: compare with the same generator. */
		while (k->error == 0 && ex_await(&k->r.base, cx) == EX_READY) {
			int n = k->r.base.result;

			if (n <= 0) {
				if (n < 0)
					k->error = n;
				k->state = CLIENT_STATE_DONE;
				break;
			}
			gen_fill(&k->rgen, k->ebuf, (uint32_t)n);
			if (!k->mismatch && memcmp(k->ebuf, k->rbuf, (size_t)n) != 0) {
				k->mismatch = true;
				k->mismatch_at = k->received;
			}
			sha256_update(&k->recv_sha, k->rbuf, (size_t)n);
			k->received += (uint64_t)n;
			tcp_read_init(&k->r, k->c, k->rbuf, CLIENT_CHUNK);
		}
		if (k->error == 0 && k->state != CLIENT_STATE_DONE)
			return EX_PENDING;
		if (k->error == 0)
			k->error = tcp_conn_error(k->c);
		if (k->writing)
			ex_future_drop(&k->w.base);
		if (k->error < 0)
			tcp_abort(k->c);
		else
			tcp_close(k->c);
		k->c = NULL;
		/* The close finishes on the wire while the host lingers
		 * (stack_host_shutdown): a memif or vhost-user peer would lose
		 * our last ACK or FIN if this process went at once. */
		k->state = CLIENT_STATE_DONE;
		ex_stop_all();
		return EX_READY;
	case CLIENT_STATE_DONE:
		break;
	}
	return EX_READY;
}

static void
client_drop(struct ex_future *f)
{
	struct client *k = EX_CONTAINER_OF(f, struct client, base);

	if (k->state == CLIENT_STATE_CONNECT) {
		ex_future_drop(&k->conn.base);
	} else if (k->state == CLIENT_STATE_RUN && k->c != NULL) {
		if (k->writing)
			ex_future_drop(&k->w.base);
		ex_future_drop(&k->r.base);
		tcp_abort(k->c);
		k->c = NULL;
		k->error = -ECANCELED;
	}
}

static const struct ex_future_ops client_ops = {
	.poll = client_poll,
	.drop = client_drop,
	.name = "tcp_client",
};

/* The options: set by main() before the lanes start, read-only after. */
static struct stack_config scfg;
static struct tcp_config tcfg;
static struct dp_impair_config icfg;
static double duration;
static uint16_t udp_port;
static uint32_t hello_ip, client_ip, max_conns = 1024;
static uint16_t hello_port, client_port;
static uint16_t svc_port[SVC_MAX];
static struct svc_config scv = { .source_bytes = 1 << 20, .http_body = 13 };
static uint64_t client_bytes = 1 << 20, seed;
static bool seed_set;
static const char *impair;
static bool busy_poll;
static uint32_t mtu; /* --mtu; 0: the host's default */

/*
 * One lane per lcore of the EAL: a host (the first lane's owns the port,
 * with a queue per lane; the others attach to a queue each and flows are
 * steered to the lane that owns them), every service listening on it (as
 * SO_REUSEPORT does), and on the last lane the TCP client, so that an
 * active open runs on a lane other than the port's owner when there are two.
 */
struct lane {
	unsigned int idx, lcore;
	struct stack_host h;
	struct tcp_serve acc[SVC_MAX];
	struct ex_slab *sessions;
	struct udp_sock usock, hsock;
	struct udp_echo uecho;
	struct ex_stop_after stopper;
	struct client *client;
	bool up, served[SVC_MAX], udp_bound, hello_bound;
	int exit_code;
};

static unsigned int nlanes;
static struct lane *lanes;

/* Print TCP and service counters at exit. */
static void
print_tcp(const struct tcp_stack *tcp, const struct client *k, bool client, uint32_t unaccepted)
{
	const struct tcp_stats *t = &tcp->stats;
	uint32_t by_state[TCP_STATE_MAX], open = 0;
	int v;

	printf("echo: tcp segs in %" PRIu64 " out %" PRIu64 " passive %" PRIu64 " active %" PRIu64
	       " established %" PRIu64 " resets in %" PRIu64 " out %" PRIu64 " retransmits %" PRIu64
	       " fast %" PRIu64 " rto %" PRIu64 " ooo %" PRIu64 " dupacks %" PRIu64
	       " timeouts %" PRIu64 " copied %" PRIu64 " tso %" PRIu64 " (wire segments %" PRIu64
	       ")\n",
			t->segs_in, t->segs_out, t->passive_opens, t->active_opens, t->established,
			t->resets_in, t->resets_out, t->retransmits, t->fast_retransmits,
			t->rto_timeouts, t->ooo_segments, t->dupacks_in, t->timeouts, t->tx_copied,
			t->tso_out, t->tso_wire_segs);
	printf("echo: tcp challenge acks %" PRIu64 " invalid-segment acks limited %" PRIu64
	       " paws %" PRIu64 " orphans reset %" PRIu64 " sws overrides %" PRIu64
	       " sends without mbuf %" PRIu64 " pmtu lowered %" PRIu64 " cwnd restarts %" PRIu64
	       "\n",
			t->challenge_acks, t->oow_acks_limited, t->paws_rejected, t->orphans_reset,
			t->sws_overrides, t->tx_nombuf, t->pmtu_lowered, t->cwnd_restarts);
	printf("echo: tcp syncookies sent %" PRIu64 " ok %" PRIu64 " failed %" PRIu64
	       " backlog full %" PRIu64 "\n",
			t->syncookies_sent, t->syncookies_ok, t->syncookies_failed,
			t->syn_backlog_full);
	printf("echo: tcp mbufs held %" PRIu64 " (budget %" PRIu32 ") memory pressure %" PRIu64
	       " out-of-order pruned %" PRIu64 " packed rx %" PRIu64 " tx %" PRIu64
	       " buffers grown rx %" PRIu64 " tx %" PRIu64 "\n",
			t->mbufs_held, tcp->mbuf_budget, t->mem_pressure, t->ooo_pruned,
			t->rcv_packed, t->snd_packed, t->rcv_buf_grown, t->snd_buf_grown);
	printf("echo: tcp loss recovery: rack lost %" PRIu64 " reorder timeouts %" PRIu64
	       " tail probes %" PRIu64 " (recoveries %" PRIu64 ") dsacks in %" PRIu64
	       " undos %" PRIu64 " (spurious rtos %" PRIu64 " recoveries %" PRIu64
	       ") f-rto new data %" PRIu64 " undos %" PRIu64 " hystart exits %" PRIu64
	       " spurious %" PRIu64 " css done %" PRIu64 " sack acks out %" PRIu64
	       " dsacks out %" PRIu64 " big scoreboards %" PRIu64 " (none free %" PRIu64 ")\n",
			t->rack_lost, t->rack_timeouts, t->tlp_probes, t->tlp_recoveries,
			t->dsacks_in, t->undos, t->spurious_rtos, t->spurious_recoveries,
			t->frto_new_sent, t->frto_undos, t->hystart_exits, t->hystart_spurious,
			t->hystart_css_done, t->sack_acks_out, t->dsacks_out, t->sb_grown,
			t->sb_pool_empty);
	/* Open: held or still to be closed by someone; closing: the stack
	 * finishes the FIN exchange of a connection the application closed. */
	tcp_conns_by_state(tcp, by_state);
	open = by_state[TCP_STATE_SYN_SENT] + by_state[TCP_STATE_SYN_RECEIVED] +
	       by_state[TCP_STATE_ESTABLISHED] + by_state[TCP_STATE_CLOSE_WAIT];
	/* A listener's children nobody accepted yet (half-open ones, under a
	 * SYN flood, or in the accept queue) are not the application's: they
	 * are reset with their listener below. */
	open -= RTE_MIN(open, unaccepted);
	printf("echo: tcp connections at exit: %u open, %u closing, %u in TIME_WAIT, %u not yet "
	       "accepted\n",
			open,
			by_state[TCP_STATE_FIN_WAIT_1] + by_state[TCP_STATE_FIN_WAIT_2] +
					by_state[TCP_STATE_CLOSING] + by_state[TCP_STATE_LAST_ACK],
			by_state[TCP_STATE_TIME_WAIT], unaccepted);
	for (v = 0; v < SVC_MAX; v++)
		if (svc_stats[v].accepted != 0 || svc_stats[v].refused != 0)
			printf("echo: tcp %s: accepted %" PRIu64 " completed %" PRIu64
			       " failed %" PRIu64 " refused %" PRIu64 " bytes %" PRIu64
			       " requests %" PRIu64 "\n",
					svc_names[v], svc_stats[v].accepted, svc_stats[v].completed,
					svc_stats[v].failed, svc_stats[v].refused,
					svc_stats[v].bytes, svc_stats[v].requests);
	if (client) {
		char a[65], b[65];

		sha256_hex((struct sha256 *)&k->sent_sha, a);
		sha256_hex((struct sha256 *)&k->recv_sha, b);
		printf("echo: tcp-client sent %" PRIu64 " received %" PRIu64 " sent-sha256 %s "
		       "received-sha256 %s %s\n",
				k->sent, k->received, a, b,
				k->error != 0             ? strerror(-k->error)
				: k->mismatch             ? "MISMATCH"
				: k->received == k->total ? "match"
							  : "short");
		if (k->mismatch)
			printf("echo: tcp-client first difference at byte %" PRIu64 "\n",
					k->mismatch_at);
	}
}

/* Lane l's host and services; on lanes after the first, the host attaches
 * to the first lane's port. @return 0, or 1 (said on stderr). */
static int
lane_up(struct lane *l)
{
	struct stack_host_config hc;
	struct stack_host *h = &l->h;
	char name[16];
	int rc, v;

	stack_host_config_defaults(&hc);
	snprintf(name, sizeof(name), l->idx == 0 ? "echo" : "echo%u", l->idx);
	hc.name = name;
	hc.stack = scfg;
	hc.tcp = tcfg;
	hc.tcp.max_conns = max_conns + max_conns / 2 + 16; /* room for TIME_WAIT */
	hc.ex.max_tasks = max_conns + 64;
	/* A test peer leaves the core to Linux; a benchmark polls. */
	hc.busy_poll = busy_poll;
	hc.mtu = (uint16_t)mtu;
	hc.impair = impair != NULL ? &icfg : NULL;
	hc.port.nb_queues = (uint16_t)nlanes;
	if (l->idx > 0) {
		hc.attach = &lanes[0].h;
		hc.queue = (uint16_t)l->idx;
	}
	rc = stack_host_up(h, &hc);
	if (rc != 0) {
		fprintf(stderr, "echo: %s\n", h->err);
		return 1;
	}
	l->up = true;
	if (impair != NULL) {
		char desc[256];

		dp_impair_format(&icfg, desc, sizeof(desc));
		printf("echo: impairment on %s, both ways: %s (tx seed %" PRIu64 ")\n",
				h->ports[0].name, desc, icfg.seed + 1);
	}
	if (l->idx == 0 && nlanes > 1)
		printf("echo: %u lcores on %s, a queue each: %s\n", nlanes, h->ports[0].name,
				h->steer_why);
	if (udp_port != 0) {
		rc = udp_bind(&l->usock, &h->st, 0, udp_port);
		if (rc != 0) {
			fprintf(stderr, "echo: udp port %u: %s\n", udp_port, strerror(-rc));
			return 1;
		}
		l->udp_bound = true;
		ex_future_init(&l->uecho.base, &udp_echo_ops);
		l->uecho.s = &l->usock;
		udp_recv_init(&l->uecho.recv, &l->usock);
		ex_spawn(&l->uecho.base, NULL, NULL);
	}
	/* TCP services: every connection's session in a slot of one slab. */
	l->sessions = ex_slab_create(h->ex, "echo_sessions", session_slot_size(), max_conns);
	if (l->sessions == NULL) {
		fprintf(stderr, "echo: no memory for %u sessions\n", max_conns);
		return 1;
	}
	for (v = 0; v < SVC_MAX; v++) {
		if (svc_port[v] == 0)
			continue;
		rc = service_start(&l->acc[v], &h->tcp, (enum svc)v, svc_port[v], l->sessions);
		if (rc != 0) {
			fprintf(stderr, "echo: tcp %s port %u: %s\n", svc_names[v], svc_port[v],
					strerror(-rc));
			return 1;
		}
		l->served[v] = true;
		if (l->idx == 0)
			printf("echo: tcp %s on port %u\n", svc_names[v], svc_port[v]);
	}
	if (duration > 0) {
		ex_stop_after_init(&l->stopper, (uint64_t)(duration * 1e9));
		ex_spawn(&l->stopper.base, NULL, NULL);
	}
	return 0;
}

/* What the first lane does once every lane is up: say so, announce the
 * address, send the hello. The last lane starts the client. */
static void
lane_start(struct lane *l)
{
	struct stack_host *h = &l->h;
	const struct stack_config *s = &h->st.cfg;
	int rc;

	if (l->idx == 0) {
		printf("echo: %u.%u.%u.%u/%u on %s (%02x:%02x:%02x:%02x:%02x:%02x), MTU %u, "
		       "answering ARP and ping%s\n",
				scfg.ip >> 24, (scfg.ip >> 16) & 255, (scfg.ip >> 8) & 255,
				scfg.ip & 255, scfg.prefix_len, h->ports[0].name,
				s->mac.addr_bytes[0], s->mac.addr_bytes[1], s->mac.addr_bytes[2],
				s->mac.addr_bytes[3], s->mac.addr_bytes[4], s->mac.addr_bytes[5],
				s->mtu, udp_port != 0 ? ", echoing UDP" : "");
		stack_announce(&h->st);
		if (hello_ip != 0) {
			rc = udp_bind(&l->hsock, &h->st, 0, 0);
			l->hello_bound = rc == 0;
			if (rc == 0)
				rc = udp_send(&l->hsock, "hello", 5, hello_ip,
						(uint16_t)hello_port);
			if (rc != 0)
				fprintf(stderr, "echo: hello: %s\n", strerror(-rc));
		}
	}
	if (client_ip != 0 && l->idx == nlanes - 1) {
		struct client *k = calloc(1, sizeof(*k));

		if (k == NULL) {
			l->exit_code = 1;
			ex_stop_all();
			return;
		}
		l->client = k;
		ex_future_init(&k->base, &client_ops);
		tcp_connect_init(&k->conn, &h->tcp, client_ip, (uint16_t)client_port);
		k->total = client_bytes;
		k->wgen.x = k->rgen.x = seed * 2 + 1;
		sha256_init(&k->sent_sha);
		sha256_init(&k->recv_sha);
		printf("echo: tcp-client to %u.%u.%u.%u:%u, %" PRIu64 " bytes, seed %" PRIu64
		       "%s\n",
				client_ip >> 24, (client_ip >> 16) & 255, (client_ip >> 8) & 255,
				client_ip & 255, client_port, client_bytes, seed,
				nlanes > 1 ? " (from the last lcore)" : "");
		ex_spawn(&k->base, NULL, NULL);
	}
}

/* A lane's figures, then everything down; its stack's lines carry the
 * host's name (echo, echo1, ...). */
static void
lane_down(struct lane *l)
{
	struct stack_host *h = &l->h;
	struct client *k = l->client;
	uint32_t unaccepted = 0;
	int v;

	if (!l->up)
		return;
	if (nlanes > 1)
		printf("echo: lane %u (lcore %u, %s): steering kept %" PRIu64
		       " handed to other lcores %" PRIu64 " arp copies %" PRIu64 "\n",
				l->idx, l->lcore, h->name, stack_host_steer_kept(h),
				stack_host_steer_steered(h), h->steer.arp_copies);
	stack_host_print_stats(h, stdout);
	if (l->udp_bound)
		printf("echo: udp port %u: received %" PRIu64 " echoed %" PRIu64
		       " overflow %" PRIu64 " send errors %" PRIu64 "\n",
				udp_port, l->usock.rx_datagrams, l->uecho.echoed,
				l->usock.rx_overflow, l->uecho.send_errors);
	for (v = 0; v < SVC_MAX; v++)
		if (l->served[v]) {
			unaccepted += (uint32_t)l->acc[v].l.nsyn + l->acc[v].l.nready;
			svc_stats[v].accepted = l->acc[v].accepted;
			svc_stats[v].refused = l->acc[v].refused;
		}
	print_tcp(&h->tcp, k, k != NULL, unaccepted);
	if (k != NULL && (k->error != 0 || k->mismatch || k->received != k->total))
		l->exit_code = 1;
	stack_host_shutdown(h);
	for (v = 0; v < SVC_MAX; v++)
		if (l->served[v])
			tcp_serve_close(&l->acc[v]);
	/* The echo task sent every datagram it took: nothing to free. */
	if (l->udp_bound)
		udp_close(&l->usock);
	if (l->hello_bound)
		udp_close(&l->hsock);
	if (l->sessions != NULL && ex_slab_free(l->sessions) != 0)
		l->exit_code = 1; /* cannot be: every session is a task's */
	if (stack_host_down(h, stdout) != 0)
		l->exit_code = 1;
	free(k);
	l->up = false;
}

/* The lanes' three steps (stack_host_lanes_run: up in turn, the port's owner
 * first; run together; down in turn, the owner last). */
static int
lane_up_op(unsigned int idx, void *arg)
{
	struct lane *l = &lanes[idx];

	(void)arg;
	l->idx = idx;
	l->lcore = rte_lcore_id();
	if (lane_up(l) == 0)
		return 0;
	l->exit_code = 1;
	return -1;
}

static void
lane_run_op(unsigned int idx, void *arg)
{
	(void)arg;
	lane_start(&lanes[idx]);
	ex_run(lanes[idx].h.ex);
}

static int
lane_down_op(unsigned int idx, void *arg)
{
	(void)arg;
	lane_down(&lanes[idx]);
	return lanes[idx].exit_code;
}

static const struct stack_host_lane_ops lane_ops = {
	.up = lane_up_op,
	.run = lane_run_op,
	.down = lane_down_op,
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
		{ "tcp-echo", required_argument, NULL, 'E' },
		{ "tcp-discard", required_argument, NULL, 'D' },
		{ "tcp-source", required_argument, NULL, 'S' },
		{ "source-bytes", required_argument, NULL, 'B' },
		{ "discard-sha256", no_argument, NULL, 'Z' },
		{ "http-port", required_argument, NULL, 'P' },
		{ "http-body", required_argument, NULL, 'b' },
		{ "tcp-client", required_argument, NULL, 'C' },
		{ "bytes", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "user-timeout", required_argument, NULL, 'U' },
		{ "keepalive", no_argument, NULL, 'K' },
		{ "time-wait", required_argument, NULL, 'W' },
		{ "tcp-cc", required_argument, NULL, 'G' },
		{ "impair", required_argument, NULL, 'I' },
		{ "busy-poll", no_argument, NULL, 'Y' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_eal_info info;
	int c, rc, v;
	char err[128];

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stack_host_want_version(argc, argv, stdout))
		return 0;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	rc = dp_eal_init(argc, argv, 256, &info);
	if (rc != 0) {
		fprintf(stderr, "echo: EAL: %s\n", strerror(-rc));
		return 2;
	}
	if (info.note[0] != '\0')
		printf("echo: %s\n", info.note);
	stack_config_defaults(&scfg);
	tcp_config_defaults(&tcfg);
	optind = 1;
	while ((c = getopt_long(info.app_argc, info.app_argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (ipv4_parse_cidr(optarg, &scfg.ip, &scfg.prefix_len) != 0) {
				fprintf(stderr, "echo: --ip '%s': wants ADDR/PREFIX, e.g. 198.18.0.2/24\n",
						optarg);
				return 2;
			}
			break;
		case 'g':
			if (ipv4_parse_addr(optarg, &scfg.gateway) != 0) {
				fprintf(stderr, "echo: bad --gateway '%s'\n", optarg);
				return 2;
			}
			break;
		case 'd':
			if (arg_seconds("echo", "--duration", optarg, 0, 31536000, &duration) != 0)
				return 2;
			break;
		case 'u':
			if (ipv4_parse_port(optarg, &udp_port) != 0) {
				fprintf(stderr, "echo: --udp-port '%s': must be 1..65535\n",
						optarg);
				return 2;
			}
			break;
		case 'H':
			if (ipv4_parse_addr_port(optarg, &hello_ip, &hello_port) != 0) {
				fprintf(stderr, "echo: --hello '%s': wants ADDR:PORT\n", optarg);
				return 2;
			}
			break;
		case 'E':
		case 'D':
		case 'S':
		case 'P':
			v = c == 'E'   ? SVC_ECHO
			    : c == 'D' ? SVC_DISCARD
			    : c == 'S' ? SVC_SOURCE
				       : SVC_HTTP;
			if (ipv4_parse_port(optarg, &svc_port[v]) != 0) {
				fprintf(stderr, "echo: the port of --%s must be 1..65535\n",
						lo[c == 'E'                ? 5
								: c == 'D' ? 6
								: c == 'S' ? 7
									   : 9]
								.name);
				return 2;
			}
			break;
		case 'B':
			if (arg_u64("echo", "--source-bytes", optarg, 0, UINT64_MAX / 2,
					    &scv.source_bytes) != 0)
				return 2;
			break;
		case 'Z':
			scv.discard_sha256 = true;
			break;
		case 'b':
			if (arg_u32("echo", "--http-body", optarg, 0, 1000000, &scv.http_body) != 0)
				return 2;
			break;
		case 'C':
			if (ipv4_parse_addr_port(optarg, &client_ip, &client_port) != 0) {
				fprintf(stderr, "echo: --tcp-client '%s': wants ADDR:PORT\n",
						optarg);
				return 2;
			}
			break;
		case 'n':
			if (arg_u64("echo", "--bytes", optarg, 0, UINT64_MAX / 2, &client_bytes) !=
					0)
				return 2;
			break;
		case 's':
			if (arg_u64("echo", "--seed", optarg, 0, UINT64_MAX / 4, &seed) != 0)
				return 2;
			seed_set = true;
			break;
		case 'm':
			if (arg_u32("echo", "--max-conns", optarg, 1, 1000000, &max_conns) != 0)
				return 2;
			break;
		case 'U':
			if (arg_u32("echo", "--user-timeout", optarg, 0, 86400000,
					    &tcfg.user_timeout_ms) != 0)
				return 2;
			break;
		case 'K':
			tcfg.keepalive = true;
			break;
		case 'W':
			if (arg_u32("echo", "--time-wait", optarg, 0, 240000, &tcfg.time_wait_ms) !=
					0)
				return 2;
			break;
		case 'G':
			if (tcp_cc_by_name(optarg, &tcfg.cc) != 0) {
				fprintf(stderr, "echo: --tcp-cc '%s': cubic or newreno\n", optarg);
				return 2;
			}
			break;
		case 'I':
			impair = optarg;
			break;
		case 'Y':
			busy_poll = true;
			break;
		case 'M':
			if (arg_u32("echo", "--mtu", optarg, STACK_HOST_MTU_MIN, STACK_HOST_MTU_MAX,
					    &mtu) != 0)
				return 2;
			break;
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
	if (impair != NULL && dp_impair_parse(impair, &icfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "echo: --impair: %s\n", err);
		return 2;
	}
	nlanes = rte_lcore_count();
	if (impair != NULL && nlanes > 1) {
		fprintf(stderr, "echo: --impair: on one lcore only (the EAL gave %u: -l 0)\n",
				nlanes);
		return 2;
	}
	lanes = calloc(nlanes, sizeof(*lanes));
	if (lanes == NULL || services_init(&scv) != 0) {
		fprintf(stderr, "echo: no memory for %u lanes\n", nlanes);
		return 1;
	}
	if (!seed_set)
		seed = rte_rand() % 1000000;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = stack_host_lanes_run(&lane_ops, NULL);
	free(lanes);
	services_fini();
	rte_eal_cleanup();
	return rc;
}
