/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * l4proxy - riptide's L4 TCP proxy and load balancer. Each client connection
 * is accepted, given a backend (round robin, weighted, least connections or
 * Maglev on the client address), connected to it (with a timeout, the next
 * backend tried on failure), optionally sent a PROXY protocol v2 header, and
 * then piped both ways: two forward()s, one per direction, from one
 * connection's receive stream into the other's send sink. The mbufs that
 * arrive are the mbufs that leave (zero copy); a full send buffer stops the
 * reading side (backpressure); a FIN is passed on as a FIN (half-close), a
 * reset as a reset; a pair idle for too long is reset.
 *
 * Active health checks (TCP connect, interval, timeout, rise, fall) take
 * backends out and put them back; established pairs are never cut by them.
 * Limits: connections per listener and per backend (a full backend is
 * skipped; excess clients are reset, or queued for room up to a timeout),
 * new connections per second per listener (excess reset).
 * Stats per listener and backend at an interval, at exit, and through DPDK
 * telemetry (/l4proxy/stats; /l4proxy/drain,POOL,BACKEND stops new
 * connections to a backend). SIGTERM or SIGINT: stop accepting, let pairs
 * finish for up to --drain-timeout, then reset what is left and exit.
 *
 *   l4proxy [EAL args] -- --ip ADDR/PREFIX (--listen ... --backend ... | --config FILE)
 *
 * One lcore, one port (the EAL's first).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_cfgfile.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "args.h"
#include "dp_eal.h"
#include "dp_impair.h"
#include "dp_port.h"
#include "dp_stream.h"
#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "ipv4_addr.h"
#include "lb.h"
#include "ratelimit.h"
#include "stack.h"
#include "ex_slab.h"
#include "stack_host.h"
#include "tcp.h"

#define MAX_LISTENERS 8
#define MAX_POOLS 8
#define CFG_MAX_SECTIONS (1 + MAX_POOLS + MAX_LISTENERS)
/* A pool's section: every backend and a key for each setting. */
#define CFG_MAX_KEYS (LB_MAX_BACKENDS + 32)
#define NAME_LEN 32

struct pair;
/* Clients waiting for room (a listener slot or a backend slot), oldest first. */
TAILQ_HEAD(pair_wq, pair);

/* What a listener does with a client over a connection limit. */
enum over_limit {
	OVER_LIMIT_RESET = 0, /* refuse it with a RST */
	OVER_LIMIT_QUEUE, /* hold it until there is room, up to queue_timeout_ms */
};

struct backend_stats {
	uint64_t conns, connect_failures, bytes_up, bytes_down;
	uint32_t rise_run, fall_run;
};

struct pool {
	char name[NAME_LEN];
	struct lb lb;
	struct backend_stats bs[LB_MAX_BACKENDS];
	volatile bool drain_request[LB_MAX_BACKENDS]; /* set by telemetry's thread */
	uint32_t connect_timeout_ms;
	uint32_t health_interval_ms, health_timeout_ms; /* interval 0: no checks */
	uint8_t rise, fall;
	bool proxy_v2;
	uint32_t backend_max_conns;
	struct pair_wq wq; /* admitted clients waiting for a backend below its max_conns */
};

struct listener {
	struct ex_future base; /* the acceptor */
	char name[NAME_LEN];
	uint16_t port;
	struct pool *pool;
	struct tcp_listener l;
	struct tcp_accept acc;
	bool open;
	uint32_t max_conns, max_rate, idle_timeout_ms;
	enum over_limit over_limit;
	uint32_t queue_timeout_ms;
	struct rate_limit rate; /* new connections per second (max_rate) */
	uint64_t conns, active, refused, no_backend;
	uint64_t queued_now, queued, queue_timeouts;
	struct pair_wq wq; /* accepted clients waiting for active < max_conns */
};

struct config {
	uint32_t ip;
	uint8_t prefix;
	uint32_t gateway;
	uint32_t nlisteners, npools;
	struct listener ls[MAX_LISTENERS];
	struct pool pools[MAX_POOLS];
	double stats_interval, drain_timeout, duration;
	bool busy_poll;
	uint32_t idle_spin_us;
	uint32_t tx_hold_us;
	uint32_t max_pairs;
};

static struct config cfg;
static struct ex_executor *ex;
static struct stack_host host; /* the port, executor and stack */
static volatile sig_atomic_t stop_requested;

/* ---- text ---- */

static void
fmt_addr(char *out, size_t len, uint32_t ip, uint16_t port)
{
	snprintf(out, len, "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
			port);
}

/* ---- pairs: one client connection and its backend connection ---- */

enum pair_state {
	PAIR_STATE_PICK = 0,
	PAIR_STATE_QUEUED, /* over the listener's max_conns: waiting for a slot */
	PAIR_STATE_WAIT_BACKEND, /* every usable backend full: waiting for one */
	PAIR_STATE_CONNECT,
	PAIR_STATE_HEADER,
	PAIR_STATE_RUN,
	PAIR_STATE_DONE,
};

struct pair {
	struct ex_future base;
	enum pair_state state;
	struct listener *ls;
	struct pool *pool;
	bool admitted; /* counted in ls->active */
	struct pair_wq *wq; /* the queue it waits in, or NULL */
	TAILQ_ENTRY(pair) wq_link;
	struct ex_waker waker; /* to be told there is room */
	struct ex_sleep qwait; /* how long it may wait */
	int be;
	uint64_t tried;
	struct tcp_conn *cli, *srv;
	uint32_t cli_ip;
	uint16_t cli_port;
	struct tcp_connect conn;
	struct ex_timeout cto;
	struct tcp_write hdr;
	uint8_t ppv2[28];
	struct tcp_rx_stream crs, srs;
	struct ex_stream_map cmap, smap;
	struct tcp_tx_sink cks, sks;
	struct ex_forward up, down;
	struct ex_sleep idle;
	uint64_t last_items, bytes_up, bytes_down;
};

/* Every pair's memory: a slot the pair's task owns, taken back by the
 * executor when the task ends (ex_slab.h). Its size is max_pairs. */
static struct ex_slab *pair_slab;

static void
mbuf_release(union ex_item it, void *arg)
{
	(void)arg;
	rte_pktmbuf_free(it.ptr);
}

/* Count bytes as they pass (a map that changes nothing). */
static union ex_item
count_bytes(union ex_item it, void *arg)
{
	*(uint64_t *)arg += ((struct rte_mbuf *)it.ptr)->pkt_len;
	return it;
}

/* Tell the oldest waiter of a queue that there may be room now. */
static void
wq_wake_head(struct pair_wq *q)
{
	struct pair *h = TAILQ_FIRST(q);

	if (h != NULL)
		ex_waker_wake(&h->waker);
}

/* Join the tail of a queue; the waker is taken at each poll while waiting. */
static void
wq_enter(struct pair *p, struct pair_wq *q, enum pair_state st)
{
	TAILQ_INSERT_TAIL(q, p, wq_link);
	p->wq = q;
	p->waker = ex_waker_noop();
	p->ls->queued_now++;
	p->ls->queued++;
	ex_sleep_init(&p->qwait, (uint64_t)p->ls->queue_timeout_ms * EX_NS_PER_MS);
	p->state = st;
}

/* Leave the queue (room found, timed out, or ended); the next in line gets
 * its turn to look, since the room may be for more than one. */
static void
wq_leave(struct pair *p)
{
	struct pair_wq *q = p->wq;

	TAILQ_REMOVE(q, p, wq_link);
	p->wq = NULL;
	p->ls->queued_now--;
	ex_future_drop(&p->qwait.base);
	wq_wake_head(q);
}

/* A backend slot came free (or a backend came back): a waiter may use it. */
static void
backend_released(struct pool *pool, int be)
{
	pool->lb.be[be].active--;
	wq_wake_head(&pool->wq);
}

static void
pair_end(struct pair *p, bool reset)
{
	struct pool *pool = p->pool;

	if (p->state == PAIR_STATE_RUN) {
		if (!ex_future_is_done(&p->up.base))
			ex_future_drop(&p->up.base);
		if (!ex_future_is_done(&p->down.base))
			ex_future_drop(&p->down.base);
		ex_future_drop(&p->idle.base);
	}
	if (p->state == PAIR_STATE_HEADER && !ex_future_is_done(&p->hdr.base))
		ex_future_drop(&p->hdr.base);
	if (p->wq != NULL)
		wq_leave(p);
	if (p->cli != NULL) {
		if (reset)
			tcp_abort(p->cli);
		else
			tcp_close(p->cli);
	}
	if (p->srv != NULL) {
		if (reset)
			tcp_abort(p->srv);
		else
			tcp_close(p->srv);
	}
	if (p->be >= 0 && p->srv != NULL) {
		pool->bs[p->be].bytes_up += p->bytes_up;
		pool->bs[p->be].bytes_down += p->bytes_down;
		backend_released(pool, p->be);
	}
	if (p->admitted) {
		p->ls->active--;
		wq_wake_head(&p->ls->wq);
	}
	p->cli = p->srv = NULL;
	p->state = PAIR_STATE_DONE;
}

static void
build_ppv2(struct pair *p)
{
	static const uint8_t sig[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49,
		0x54, 0x0a };
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint8_t *b = p->ppv2;

	tcp_conn_addr(p->cli, &lip, &lport, &rip, &rport);
	memcpy(b, sig, 12);
	b[12] = 0x21; /* version 2, PROXY */
	b[13] = 0x11; /* TCP over IPv4 */
	b[14] = 0;
	b[15] = 12;
	b[16] = (uint8_t)(rip >> 24); /* source: the client */
	b[17] = (uint8_t)(rip >> 16);
	b[18] = (uint8_t)(rip >> 8);
	b[19] = (uint8_t)rip;
	b[20] = (uint8_t)(lip >> 24); /* destination: the listener */
	b[21] = (uint8_t)(lip >> 16);
	b[22] = (uint8_t)(lip >> 8);
	b[23] = (uint8_t)lip;
	b[24] = (uint8_t)(rport >> 8);
	b[25] = (uint8_t)rport;
	b[26] = (uint8_t)(lport >> 8);
	b[27] = (uint8_t)lport;
}

static void
pair_run_start(struct pair *p)
{
	tcp_rx_stream_init(&p->crs, p->cli);
	tcp_rx_stream_init(&p->srs, p->srv);
	ex_stream_map_init(&p->cmap, &p->crs.base, count_bytes, &p->bytes_up);
	ex_stream_map_init(&p->smap, &p->srs.base, count_bytes, &p->bytes_down);
	tcp_tx_sink_init(&p->cks, p->cli);
	tcp_tx_sink_init(&p->sks, p->srv);
	ex_forward_init(&p->up, &p->cmap.base, &p->sks.base, mbuf_release, NULL);
	ex_forward_init(&p->down, &p->smap.base, &p->cks.base, mbuf_release, NULL);
	ex_sleep_init(&p->idle, (uint64_t)p->ls->idle_timeout_ms * EX_NS_PER_MS);
	p->last_items = 0;
	p->state = PAIR_STATE_RUN;
}

/* True if a backend this client may use is only held back by its max_conns. */
static bool
pool_full(const struct pool *pool, uint64_t tried)
{
	uint32_t i;

	for (i = 0; i < pool->lb.n; i++) {
		const struct lb_backend *b = &pool->lb.be[i];

		if (b->up && !b->draining && !(tried & (UINT64_C(1) << i)) && b->max_conns != 0 &&
				b->active >= b->max_conns)
			return true;
	}
	return false;
}

static void
pair_connect_start(struct pair *p)
{
	struct lb_backend *b = &p->pool->lb.be[p->be];

	b->active++;
	tcp_connect_init(&p->conn, &host.tcp, b->ip, b->port);
	ex_timeout_init(&p->cto, &p->conn.base,
			(uint64_t)p->pool->connect_timeout_ms * EX_NS_PER_MS);
	p->state = PAIR_STATE_CONNECT;
}

static enum ex_poll
pair_poll(struct ex_future *f, struct ex_context *cx)
{
	struct pair *p = EX_CONTAINER_OF(f, struct pair, base);
	struct pool *pool = p->pool;

	for (;;) {
		switch (p->state) {
		case PAIR_STATE_QUEUED:
			/* Oldest first: only the head of the queue may take a slot. */
			if (TAILQ_FIRST(&p->ls->wq) == p && p->ls->active < p->ls->max_conns) {
				wq_leave(p);
				p->admitted = true;
				p->ls->active++;
				p->state = PAIR_STATE_PICK;
				continue;
			}
			p->waker = cx->waker;
			if (ex_future_poll(&p->qwait.base, cx) == EX_PENDING)
				return EX_PENDING;
			p->ls->queue_timeouts++;
			p->ls->refused++;
			pair_end(p, true); /* waited long enough: refused with a RST */
			return EX_READY;
		case PAIR_STATE_WAIT_BACKEND:
			if (TAILQ_FIRST(&pool->wq) == p) {
				p->be = lb_pick(&pool->lb, p->cli_ip, p->tried);
				if (p->be >= 0) {
					wq_leave(p);
					pair_connect_start(p);
					continue;
				}
			}
			p->waker = cx->waker;
			if (ex_future_poll(&p->qwait.base, cx) == EX_PENDING)
				return EX_PENDING;
			p->ls->queue_timeouts++;
			p->ls->no_backend++;
			pair_end(p, true);
			return EX_READY;
		case PAIR_STATE_PICK:
			if (p->ls->over_limit == OVER_LIMIT_QUEUE && !TAILQ_EMPTY(&pool->wq)) {
				/* Others wait for a backend slot: first come, first served. */
				wq_enter(p, &pool->wq, PAIR_STATE_WAIT_BACKEND);
				continue;
			}
			p->be = lb_pick(&pool->lb, p->cli_ip, p->tried);
			if (p->be < 0 && p->ls->over_limit == OVER_LIMIT_QUEUE &&
					pool_full(pool, p->tried)) {
				wq_enter(p, &pool->wq, PAIR_STATE_WAIT_BACKEND);
				continue;
			}
			if (p->be < 0) {
				p->ls->no_backend++;
				pair_end(p, true); /* nowhere to go: the client gets a RST */
				return EX_READY;
			}
			pair_connect_start(p);
			continue;
		case PAIR_STATE_CONNECT:
			if (ex_await(&p->cto.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (p->cto.base.result < 0) {
				/* Refused, unreachable or too slow: the next backend. */
				pool->bs[p->be].connect_failures++;
				backend_released(pool, p->be);
				p->tried |= UINT64_C(1) << p->be;
				p->be = -1;
				p->state = PAIR_STATE_PICK;
				continue;
			}
			p->srv = p->conn.conn;
			pool->bs[p->be].conns++;
			if (pool->proxy_v2) {
				build_ppv2(p);
				tcp_write_init(&p->hdr, p->srv, p->ppv2, sizeof(p->ppv2));
				p->state = PAIR_STATE_HEADER;
				continue;
			}
			pair_run_start(p);
			continue;
		case PAIR_STATE_HEADER:
			if (ex_await(&p->hdr.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (p->hdr.base.result != (int32_t)p->hdr.len) {
				/* an error, or a short write: a cut header is no header */
				pair_end(p, true);
				return EX_READY;
			}
			pair_run_start(p);
			continue;
		case PAIR_STATE_RUN: {
			uint64_t items;

			/* A reset on either side resets the other (no half-open leftovers). */
			if (tcp_conn_error(p->cli) == -ECONNRESET ||
					tcp_conn_error(p->srv) == -ECONNRESET) {
				pair_end(p, true);
				return EX_READY;
			}
			if (!ex_future_is_done(&p->up.base))
				ex_future_poll(&p->up.base, cx);
			if (!ex_future_is_done(&p->down.base))
				ex_future_poll(&p->down.base, cx);
			if ((ex_future_is_done(&p->up.base) && p->up.base.result < 0) ||
					(ex_future_is_done(&p->down.base) &&
							p->down.base.result < 0)) {
				pair_end(p, true);
				return EX_READY;
			}
			if (ex_future_is_done(&p->up.base) && ex_future_is_done(&p->down.base)) {
				pair_end(p, false); /* both FINs passed on and acknowledged */
				return EX_READY;
			}
			if (p->ls->idle_timeout_ms == 0)
				return EX_PENDING;
			if (ex_future_poll(&p->idle.base, cx) == EX_PENDING)
				return EX_PENDING;
			items = p->up.items + p->down.items;
			if (items == p->last_items) {
				pair_end(p, true); /* idle: reset both */
				return EX_READY;
			}
			p->last_items = items;
			ex_sleep_init(&p->idle, (uint64_t)p->ls->idle_timeout_ms * EX_NS_PER_MS);
			if (ex_future_poll(&p->idle.base, cx) == EX_PENDING)
				return EX_PENDING;
			continue;
		}
		case PAIR_STATE_DONE:
			return EX_READY;
		}
	}
}

static void
pair_drop(struct ex_future *f)
{
	struct pair *p = EX_CONTAINER_OF(f, struct pair, base);

	/* Cancelled at shutdown, after the drain timeout: reset what is left. */
	if (p->state == PAIR_STATE_CONNECT && !ex_future_is_done(&p->cto.base)) {
		ex_future_drop(&p->cto.base);
		backend_released(p->pool, p->be);
		p->be = -1;
	}
	if (p->state != PAIR_STATE_DONE)
		pair_end(p, true);
}

static const struct ex_future_ops pair_ops = {
	.poll = pair_poll,
	.drop = pair_drop,
	.name = "l4_pair",
};

/* ---- acceptors ---- */

static enum ex_poll
acceptor_poll(struct ex_future *f, struct ex_context *cx)
{
	struct listener *ls = EX_CONTAINER_OF(f, struct listener, base);

	for (;;) {
		struct tcp_conn *c;
		struct pair *p;
		uint32_t lip;
		uint16_t lport;
		bool full, reset;

		if (ex_await(&ls->acc.base, cx) == EX_PENDING)
			return EX_PENDING;
		if (ls->acc.base.result < 0)
			return EX_READY; /* the listener closed (shutdown) */
		c = ls->acc.conn;
		tcp_accept_init(&ls->acc, &ls->l);
		ls->conns++;
		/* Full once it is at max_conns, or while others wait (first come,
		 * first served). */
		full = ls->max_conns != 0 && (ls->active >= ls->max_conns || !TAILQ_EMPTY(&ls->wq));
		reset = full && ls->over_limit == OVER_LIMIT_RESET;
		p = reset || !rate_limit_take(&ls->rate, ex_now_ns(ex)) ? NULL
									: ex_slab_get(pair_slab);
		if (p == NULL) { /* over a limit, or max_pairs in use */
			ls->refused++;
			tcp_abort(c); /* refused with a RST */
			continue;
		}
		ex_future_init(&p->base, &pair_ops);
		p->ls = ls;
		p->pool = ls->pool;
		p->be = -1;
		p->cli = c;
		tcp_conn_addr(c, &lip, &lport, &p->cli_ip, &p->cli_port);
		if (full) {
			wq_enter(p, &ls->wq, PAIR_STATE_QUEUED);
		} else {
			p->admitted = true;
			ls->active++;
		}
		if (ex_spawn_slab(pair_slab, &p->base, NULL, NULL) != 0) {
			ls->refused++;
			pair_end(p, true);
			ex_slab_put(pair_slab, p);
		}
	}
}

static const struct ex_future_ops acceptor_ops = {
	.poll = acceptor_poll,
	.drop = NULL,
	.name = "l4_acceptor",
};

/* ---- health checks: one task per backend ---- */

enum health_state {
	HEALTH_STATE_SLEEP = 0,
	HEALTH_STATE_CHECK,
};

struct health {
	struct ex_future base;
	struct pool *pool;
	int i;
	enum health_state state;
	struct ex_sleep sl;
	struct tcp_connect conn;
	struct ex_timeout to;
};

static struct health *health;

static void
health_verdict(struct pool *pool, int i, bool ok)
{
	struct lb_backend *b = &pool->lb.be[i];
	struct backend_stats *s = &pool->bs[i];
	char a[32];

	fmt_addr(a, sizeof(a), b->ip, b->port);
	if (ok) {
		s->fall_run = 0;
		if (!b->up && ++s->rise_run >= pool->rise) {
			b->up = true;
			lb_changed(&pool->lb);
			wq_wake_head(&pool->wq);
			printf("l4proxy: pool %s: backend %s is up\n", pool->name, a);
		}
	} else {
		s->rise_run = 0;
		if (b->up && ++s->fall_run >= pool->fall) {
			b->up = false; /* established pairs stay as they are */
			lb_changed(&pool->lb);
			printf("l4proxy: pool %s: backend %s is down\n", pool->name, a);
		}
	}
}

static enum ex_poll
health_poll(struct ex_future *f, struct ex_context *cx)
{
	struct health *h = EX_CONTAINER_OF(f, struct health, base);
	struct lb_backend *b = &h->pool->lb.be[h->i];

	for (;;) {
		switch (h->state) {
		case HEALTH_STATE_SLEEP:
			if (ex_await(&h->sl.base, cx) == EX_PENDING)
				return EX_PENDING;
			tcp_connect_init(&h->conn, &host.tcp, b->ip, b->port);
			ex_timeout_init(&h->to, &h->conn.base,
					(uint64_t)h->pool->health_timeout_ms * EX_NS_PER_MS);
			h->state = HEALTH_STATE_CHECK;
			continue;
		case HEALTH_STATE_CHECK:
			if (ex_await(&h->to.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (h->to.base.result == 0)
				tcp_close(h->conn.conn);
			health_verdict(h->pool, h->i, h->to.base.result == 0);
			ex_sleep_init(&h->sl, (uint64_t)h->pool->health_interval_ms * EX_NS_PER_MS);
			h->state = HEALTH_STATE_SLEEP;
			continue;
		}
	}
}

static void
health_drop(struct ex_future *f)
{
	struct health *h = EX_CONTAINER_OF(f, struct health, base);

	if (h->state == HEALTH_STATE_CHECK && !ex_future_is_done(&h->to.base))
		ex_future_drop(&h->to.base);
	else if (h->state == HEALTH_STATE_SLEEP)
		ex_future_drop(&h->sl.base);
}

static const struct ex_future_ops health_ops = {
	.poll = health_poll,
	.drop = health_drop,
	.name = "l4_health",
};

/* ---- stats ---- */

static const char *
backend_state(const struct lb_backend *b)
{
	return b->draining ? "draining" : b->up ? "up" : "down";
}

static void
print_stats(const char *when)
{
	uint32_t i, k;

	printf("l4proxy: stats (%s)\n", when);
	for (i = 0; i < cfg.nlisteners; i++) {
		const struct listener *ls = &cfg.ls[i];

		printf("l4proxy:   listener %-10s port %-5u conns %" PRIu64 " active %" PRIu64
		       " refused %" PRIu64 " no_backend %" PRIu64 " queued %" PRIu64
		       " waiting %" PRIu64 " queue_timeouts %" PRIu64 "\n",
				ls->name, ls->port, ls->conns, ls->active, ls->refused,
				ls->no_backend, ls->queued, ls->queued_now, ls->queue_timeouts);
	}
	for (i = 0; i < cfg.npools; i++) {
		const struct pool *pool = &cfg.pools[i];

		for (k = 0; k < pool->lb.n; k++) {
			const struct lb_backend *b = &pool->lb.be[k];
			const struct backend_stats *s = &pool->bs[k];
			char a[32];

			fmt_addr(a, sizeof(a), b->ip, b->port);
			printf("l4proxy:   pool %-8s backend %-21s %-8s conns %" PRIu64
			       " active %u bytes_up %" PRIu64 " bytes_down %" PRIu64
			       " connect_failures %" PRIu64 "\n",
					pool->name, a, backend_state(b), s->conns, b->active,
					s->bytes_up, s->bytes_down, s->connect_failures);
		}
	}
}

/*
 * Telemetry runs on its own thread: it reads counters (a torn read of a
 * counter is harmless) and only requests a drain, which the lcore applies.
 *
 * DPDK 22.11 nests one level only (a dict or array may hold arrays of
 * numbers or strings, not dicts), caps a dict at 256 entries, an array at
 * 512 and a reply at 16 KiB, and allows only letters, digits, '_' and '/' in
 * names. So a list of things comes back as a table of columns, one array per
 * field, row i being entry i of every column; and each reply is bounded far
 * inside the caps: the stats hold at most MAX_LISTENERS listeners, and a
 * pool's backends (at most LB_MAX_BACKENDS) are asked for one pool at a time.
 */

static struct pool *
pool_find(const char *name)
{
	uint32_t i;

	for (i = 0; i < cfg.npools; i++)
		if (strcmp(cfg.pools[i].name, name) == 0)
			return &cfg.pools[i];
	return NULL;
}

#define TEL_COLS_MAX 10

struct tel_table {
	unsigned int n;
	const char *name[TEL_COLS_MAX];
	struct rte_tel_data *col[TEL_COLS_MAX];
};

/* Start reply d as a dict and make the columns names[] for it ("s:" before
 * a name makes it a string column). */
static int
tel_table_start(struct tel_table *t, struct rte_tel_data *d, const char *const *names,
		unsigned int n)
{
	unsigned int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < n && i < TEL_COLS_MAX; i++) {
		bool str = strncmp(names[i], "s:", 2) == 0;

		t->name[i] = str ? names[i] + 2 : names[i];
		t->col[i] = rte_tel_data_alloc();
		if (t->col[i] == NULL) {
			while (i-- > 0)
				rte_tel_data_free(t->col[i]);
			return -ENOMEM;
		}
		rte_tel_data_start_array(t->col[i], str ? RTE_TEL_STRING_VAL : RTE_TEL_U64_VAL);
		t->n++;
	}
	rte_tel_data_start_dict(d);
	return 0;
}

/* Hand every column to d (which frees them) under prefix + name. */
static void
tel_table_add(struct tel_table *t, struct rte_tel_data *d, const char *prefix)
{
	char key[64];
	unsigned int i;

	for (i = 0; i < t->n; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, t->name[i]);
		if (rte_tel_data_add_dict_container(d, key, t->col[i], 0) != 0)
			rte_tel_data_free(t->col[i]);
	}
}

/* /l4proxy/stats: the listeners (a table), the stack's counters and every
 * drop reason, the executor's counters. */
static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const cols[] = { "s:name", "port", "s:pool", "conns", "active",
		"refused", "no_backend", "queued", "waiting", "queue_timeouts" };
	const struct ip_iface *st = host.tcp.st;
	struct tel_table t;
	struct ex_stats es;
	char key[64];
	uint32_t i, k;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (i = 0; i < cfg.nlisteners; i++) {
		const struct listener *ls = &cfg.ls[i];

		rte_tel_data_add_array_string(t.col[0], ls->name);
		rte_tel_data_add_array_u64(t.col[1], ls->port);
		rte_tel_data_add_array_string(t.col[2], ls->pool->name);
		rte_tel_data_add_array_u64(t.col[3], ls->conns);
		rte_tel_data_add_array_u64(t.col[4], ls->active);
		rte_tel_data_add_array_u64(t.col[5], ls->refused);
		rte_tel_data_add_array_u64(t.col[6], ls->no_backend);
		rte_tel_data_add_array_u64(t.col[7], ls->queued);
		rte_tel_data_add_array_u64(t.col[8], ls->queued_now);
		rte_tel_data_add_array_u64(t.col[9], ls->queue_timeouts);
	}
	tel_table_add(&t, d, "listener_");
	if (st != NULL) {
		rte_tel_data_add_dict_u64(d, "stack_rx_frames", st->stats.rx_frames);
		rte_tel_data_add_dict_u64(d, "stack_tx_frames", st->stats.tx_frames);
		rte_tel_data_add_dict_u64(d, "stack_arp_requests_out", st->stats.arp_requests_out);
		rte_tel_data_add_dict_u64(d, "stack_arp_replies_in", st->stats.arp_replies_in);
		rte_tel_data_add_dict_u64(d, "stack_icmp_unreach_in", st->stats.icmp_unreach_in);
		if (st->tcp != NULL) {
			const struct tcp_stats *t = &st->tcp->stats;

			rte_tel_data_add_dict_u64(d, "tcp_retransmits", t->retransmits);
			rte_tel_data_add_dict_u64(d, "tcp_rto_timeouts", t->rto_timeouts);
			rte_tel_data_add_dict_u64(d, "tcp_challenge_acks", t->challenge_acks);
			rte_tel_data_add_dict_u64(d, "tcp_oow_acks_limited", t->oow_acks_limited);
			rte_tel_data_add_dict_u64(d, "tcp_orphans", t->orphans);
			rte_tel_data_add_dict_u64(d, "tcp_orphans_reset", t->orphans_reset);
			rte_tel_data_add_dict_u64(d, "tcp_tx_nombuf", t->tx_nombuf);
			rte_tel_data_add_dict_u64(d, "tcp_pmtu_lowered", t->pmtu_lowered);
			rte_tel_data_add_dict_u64(d, "tcp_syncookies_sent", t->syncookies_sent);
			rte_tel_data_add_dict_u64(d, "tcp_syncookies_ok", t->syncookies_ok);
			rte_tel_data_add_dict_u64(d, "tcp_mbufs_held", t->mbufs_held);
			rte_tel_data_add_dict_u64(d, "tcp_mem_pressure", t->mem_pressure);
			rte_tel_data_add_dict_u64(d, "tcp_ooo_pruned", t->ooo_pruned);
		}
		for (k = 0; k < DP_RX_CSUM_MAX; k++) {
			snprintf(key, sizeof(key), "stack_rx_l4_csum_%s",
					dp_rx_csum_name((enum dp_rx_csum)k));
			rte_tel_data_add_dict_u64(d, key, st->stats.rx_l4_csum[k]);
		}
		for (k = 0; k < STACK_DROP_MAX; k++) {
			snprintf(key, sizeof(key), "drop_%s", stack_drop_name((enum stack_drop)k));
			rte_tel_data_add_dict_u64(d, key, st->stats.drops[k]);
		}
	}
	ex_stats_read(ex, &es);
	rte_tel_data_add_dict_u64(d, "executor_tasks_live", es.tasks_live);
	rte_tel_data_add_dict_u64(d, "executor_tasks_spawned", es.tasks_spawned);
	rte_tel_data_add_dict_u64(d, "executor_spawn_failed", es.spawn_failed);
	rte_tel_data_add_dict_u64(d, "executor_polls", es.polls);
	rte_tel_data_add_dict_u64(d, "executor_loops", es.loops);
	rte_tel_data_add_dict_u64(d, "executor_timers_fired", es.timers_fired);
	rte_tel_data_add_dict_u64(d, "executor_idle_sleeps", es.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "executor_idle_event_sleeps", es.idle_event_sleeps);
	rte_tel_data_add_dict_u64(d, "executor_idle_event_wakes", es.idle_event_wakes);
	rte_tel_data_add_dict_u64(d, "executor_busy_cycles", es.busy_cycles);
	rte_tel_data_add_dict_u64(d, "executor_idle_cycles", es.idle_cycles);
	return 0;
}

/* /l4proxy/pools: a table of the pools, their backends summed. */
static int
tel_pools(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const cols[] = { "s:name", "s:algorithm", "backends", "up", "draining",
		"conns", "active" };
	struct tel_table t;
	uint32_t i, k;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (i = 0; i < cfg.npools; i++) {
		const struct pool *pool = &cfg.pools[i];
		uint64_t up = 0, draining = 0, conns = 0, active = 0;

		for (k = 0; k < pool->lb.n; k++) {
			up += pool->lb.be[k].up && !pool->lb.be[k].draining;
			draining += pool->lb.be[k].draining;
			conns += pool->bs[k].conns;
			active += pool->lb.be[k].active;
		}
		rte_tel_data_add_array_string(t.col[0], pool->name);
		rte_tel_data_add_array_string(t.col[1], lb_algo_name(pool->lb.algo));
		rte_tel_data_add_array_u64(t.col[2], pool->lb.n);
		rte_tel_data_add_array_u64(t.col[3], up);
		rte_tel_data_add_array_u64(t.col[4], draining);
		rte_tel_data_add_array_u64(t.col[5], conns);
		rte_tel_data_add_array_u64(t.col[6], active);
	}
	tel_table_add(&t, d, "");
	return 0;
}

/* /l4proxy/backends,POOL: a table of one pool's backends. */
static int
tel_backends(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const cols[] = { "s:addr", "s:state", "weight", "conns", "active",
		"bytes_up", "bytes_down", "connect_failures" };
	const struct pool *pool;
	struct tel_table t;
	char a[32];
	uint32_t k;

	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	if ((pool = pool_find(params)) == NULL)
		return -ENOENT;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (k = 0; k < pool->lb.n; k++) {
		const struct lb_backend *b = &pool->lb.be[k];

		fmt_addr(a, sizeof(a), b->ip, b->port);
		rte_tel_data_add_array_string(t.col[0], a);
		rte_tel_data_add_array_string(t.col[1], backend_state(b));
		rte_tel_data_add_array_u64(t.col[2], b->weight);
		rte_tel_data_add_array_u64(t.col[3], pool->bs[k].conns);
		rte_tel_data_add_array_u64(t.col[4], b->active);
		rte_tel_data_add_array_u64(t.col[5], pool->bs[k].bytes_up);
		rte_tel_data_add_array_u64(t.col[6], pool->bs[k].bytes_down);
		rte_tel_data_add_array_u64(t.col[7], pool->bs[k].connect_failures);
	}
	tel_table_add(&t, d, "");
	return 0;
}

/* /l4proxy/drain,POOL,ADDR:PORT */
static int
tel_drain(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char buf[96], *comma;
	struct pool *pool;
	uint32_t k, ip;
	uint16_t port;

	(void)cmd;
	if (params == NULL || snprintf(buf, sizeof(buf), "%s", params) >= (int)sizeof(buf))
		return -EINVAL;
	comma = strchr(buf, ',');
	if (comma == NULL)
		return -EINVAL;
	*comma = '\0';
	if (ipv4_parse_addr_port(comma + 1, &ip, &port) != 0)
		return -EINVAL;
	if ((pool = pool_find(buf)) == NULL)
		return -ENOENT;
	for (k = 0; k < pool->lb.n; k++)
		if (pool->lb.be[k].ip == ip && pool->lb.be[k].port == port) {
			pool->drain_request[k] = true;
			rte_tel_data_string(d, "draining");
			return 0;
		}
	return -ENOENT;
}

/* ---- the supervisor: stats, drain requests, shutdown ---- */

struct supervisor {
	struct ex_future base;
	struct ex_sleep tick;
	uint64_t next_stats, drain_deadline, stop_at;
	bool stopping;
};

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static uint64_t
active_pairs(void)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < cfg.nlisteners; i++)
		n += cfg.ls[i].active;
	return n;
}

static enum ex_poll
supervisor_poll(struct ex_future *f, struct ex_context *cx)
{
	struct supervisor *s = EX_CONTAINER_OF(f, struct supervisor, base);

	for (;;) {
		uint64_t now = ex_now_ns(ex);
		uint32_t i, k;

		if (ex_await(&s->tick.base, cx) == EX_PENDING)
			return EX_PENDING;
		for (i = 0; i < cfg.npools; i++)
			for (k = 0; k < cfg.pools[i].lb.n; k++)
				if (cfg.pools[i].drain_request[k] &&
						!cfg.pools[i].lb.be[k].draining) {
					cfg.pools[i].lb.be[k].draining = true;
					lb_changed(&cfg.pools[i].lb);
					printf("l4proxy: pool %s: backend %u draining\n",
							cfg.pools[i].name, k);
				}
		if (cfg.stats_interval > 0 && now >= s->next_stats) {
			print_stats("interval");
			s->next_stats = now + (uint64_t)(cfg.stats_interval * 1e9);
		}
		if (!s->stopping && (stop_requested || (s->stop_at != 0 && now >= s->stop_at))) {
			s->stopping = true;
			s->drain_deadline = now + (uint64_t)(cfg.drain_timeout * 1e9);
			printf("l4proxy: stopping: no new connections, %" PRIu64
			       " active, draining for up to %.1f s\n",
					active_pairs(), cfg.drain_timeout);
			for (i = 0; i < cfg.nlisteners; i++)
				if (cfg.ls[i].open) {
					tcp_listener_close(&cfg.ls[i].l);
					cfg.ls[i].open = false;
				}
		}
		if (s->stopping && (active_pairs() == 0 || now >= s->drain_deadline)) {
			ex_stop_all();
			f->result = 0;
			return EX_READY;
		}
		ex_sleep_init(&s->tick, 100 * EX_NS_PER_MS);
	}
}

static const struct ex_future_ops supervisor_ops = {
	.poll = supervisor_poll,
	.drop = NULL,
	.name = "l4_supervisor",
};

/* ---- configuration ---- */

static void
pool_defaults(struct pool *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	/* Above the second SYN retransmission (1 s initial RTO, then 2 s more):
	 * a lost SYN or SYN-ACK costs a second, not the connection. A timeout
	 * equal to the initial RTO failed every connect whose first SYN was lost. */
	p->connect_timeout_ms = 3500;
	p->health_interval_ms = 1000;
	p->health_timeout_ms = 500;
	p->rise = 2;
	p->fall = 2;
}

static void
listener_defaults(struct listener *l, const char *name)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->idle_timeout_ms = 300000;
	l->queue_timeout_ms = 2000;
}

static int
parse_over_limit(const char *s, enum over_limit *out)
{
	if (strcmp(s, "reset") == 0)
		*out = OVER_LIMIT_RESET;
	else if (strcmp(s, "queue") == 0)
		*out = OVER_LIMIT_QUEUE;
	else
		return -1;
	return 0;
}

/* A number from the INI, with a message naming where it came from. */
static int
ini_u32(const char *file, const char *sec, const char *key, const char *val, uint32_t max,
		uint32_t *out)
{
	char *end;
	unsigned long v = strtoul(val, &end, 10);

	if (*val == '\0' || *end != '\0' || v > max) {
		fprintf(stderr, "l4proxy: %s: [%s] %s = '%s': want a whole number 0..%u\n", file,
				sec, key, val, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
add_backend(struct pool *pool, const char *spec, const char *where)
{
	char buf[96], *opt;
	uint32_t ip;
	uint16_t port;
	unsigned long weight = 1;

	snprintf(buf, sizeof(buf), "%s", spec);
	opt = strchr(buf, ',');
	if (opt != NULL) {
		char *end;

		*opt++ = '\0';
		if (strncmp(opt, "weight=", 7) != 0 || (weight = strtoul(opt + 7, &end, 10)) < 1 ||
				weight > 1000 || *end != '\0') {
			fprintf(stderr, "l4proxy: %s: backend '%s': the option is weight=1..1000\n",
					where, spec);
			return -1;
		}
	}
	if (ipv4_parse_addr_port(buf, &ip, &port) != 0) {
		fprintf(stderr, "l4proxy: %s: backend '%s' is not ADDR:PORT\n", where, spec);
		return -1;
	}
	if (lb_add(&pool->lb, ip, port, (uint16_t)weight) < 0) {
		fprintf(stderr, "l4proxy: %s: more than %d backends in pool %s\n", where,
				LB_MAX_BACKENDS, pool->name);
		return -1;
	}
	return 0;
}

/*
 * [global]      stats_interval, drain_timeout, max_pairs
 * [pool NAME]   algorithm, backend (repeat: ADDR:PORT[,weight=N]), connect_timeout_ms,
 *               health_interval_ms (0: off), health_timeout_ms, rise, fall,
 *               proxy_protocol (v2|off), backend_max_conns
 * [listener NAME] port, pool, max_conns, max_rate, idle_timeout_ms, over_limit
 *                 (reset|queue), queue_timeout_ms
 */
/*
 * What rte_cfgfile would pass over in silence, refused with the line: a line
 * that is neither a [section], a comment nor KEY = VALUE ("max_conns 100"
 * would set no limit at all), and a section given twice.
 */
static int
ini_lint(const char *file)
{
	char line[512], seen[CFG_MAX_SECTIONS * 2][CFG_NAME_LEN];
	int seen_at[CFG_MAX_SECTIONS * 2], nseen = 0, lineno = 0, i, rc = 0;
	FILE *f = fopen(file, "r");

	if (f == NULL)
		return 0; /* load_config says it cannot read it */
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		char *p = line, *end;

		lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, "\r\n");
		*end = '\0';
		if (*p == '\0' || *p == ';' || *p == '#')
			continue;
		if (*p == '[') {
			char *close = strchr(p, ']');

			if (close == NULL) {
				fprintf(stderr, "l4proxy: %s:%d: '%s': no closing ']'\n", file,
						lineno, p);
				rc = -1;
				break;
			}
			*close = '\0';
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], p + 1) == 0) {
					fprintf(stderr, "l4proxy: %s:%d: [%s] again (first at line %d)\n",
							file, lineno, p + 1, seen_at[i]);
					rc = -1;
				}
			if (rc == 0 && nseen < (int)RTE_DIM(seen)) {
				snprintf(seen[nseen], sizeof(seen[nseen]), "%s", p + 1);
				seen_at[nseen++] = lineno;
			}
			continue;
		}
		if (strchr(p, '=') == NULL) {
			fprintf(stderr, "l4proxy: %s:%d: '%s': not KEY = VALUE\n", file, lineno, p);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static int
load_config(const char *file)
{
	struct rte_cfgfile *cf;
	int nsec, s, rc = -1;
	char(*names)[CFG_NAME_LEN] = NULL;

	if (ini_lint(file) != 0)
		return -1;
	cf = rte_cfgfile_load(file, 0);
	if (cf == NULL) {
		fprintf(stderr, "l4proxy: %s: cannot read it (missing, or not INI)\n", file);
		return -1;
	}
	nsec = rte_cfgfile_num_sections(cf, NULL, 0);
	if (nsec > CFG_MAX_SECTIONS) {
		/* Refused, never cut: a section past the end would be lost. */
		fprintf(stderr,
				"l4proxy: %s: %d sections, at most %d ([global], %d pools, %d "
				"listeners)\n",
				file, nsec, CFG_MAX_SECTIONS, MAX_POOLS, MAX_LISTENERS);
		goto out;
	}
	names = calloc((size_t)nsec + 1, sizeof(*names));
	if (names == NULL)
		goto out;
	{
		char *ptrs[CFG_MAX_SECTIONS];
		int i;

		for (i = 0; i < nsec; i++)
			ptrs[i] = names[i];
		rte_cfgfile_sections(cf, ptrs, nsec);
	}
	/* Pools first: listeners name them. */
	for (int pass = 0; pass < 3; pass++) {
		for (s = 0; s < nsec; s++) {
			const char *sec = names[s];
			struct rte_cfgfile_entry ent[CFG_MAX_KEYS];
			int n = rte_cfgfile_section_num_entries(cf, sec), e;
			bool is_global = strcmp(sec, "global") == 0;
			bool is_pool = strncmp(sec, "pool ", 5) == 0;
			bool is_listener = strncmp(sec, "listener ", 9) == 0;

			if (!is_global && !is_pool && !is_listener) {
				if (pass == 0)
					fprintf(stderr,
							"l4proxy: %s: [%s]: unknown section (global, pool NAME, "
							"listener NAME)\n",
							file, sec);
				if (pass == 0)
					goto out;
				continue;
			}
			if ((pass == 0 && !is_global) || (pass == 1 && !is_pool) ||
					(pass == 2 && !is_listener))
				continue;
			if (n > CFG_MAX_KEYS) { /* refused, never cut */
				fprintf(stderr, "l4proxy: %s: [%s]: %d keys, at most %d\n", file,
						sec, n, CFG_MAX_KEYS);
				goto out;
			}
			n = rte_cfgfile_section_entries(cf, sec, ent, CFG_MAX_KEYS);
			if (is_global) {
				for (e = 0; e < n; e++) {
					const char *k = ent[e].name, *v = ent[e].value;
					uint32_t u;

					if (strcmp(k, "stats_interval") == 0 ||
							strcmp(k, "drain_timeout") == 0) {
						if (ini_u32(file, sec, k, v, 86400, &u) != 0)
							goto out;
						*(k[0] == 's' ? &cfg.stats_interval
							      : &cfg.drain_timeout) = u;
					} else if (strcmp(k, "max_pairs") == 0) {
						if (ini_u32(file, sec, k, v, 1000000,
								    &cfg.max_pairs) != 0)
							goto out;
					} else {
						fprintf(stderr, "l4proxy: %s: [%s] %s: unknown key\n",
								file, sec, k);
						goto out;
					}
				}
			} else if (is_pool) {
				struct pool *p;
				int algo = LB_ALGO_ROUND_ROBIN;

				if (cfg.npools == MAX_POOLS || pool_find(sec + 5) != NULL) {
					fprintf(stderr, "l4proxy: %s: [%s]: too many pools, or a second pool of that name\n",
							file, sec);
					goto out;
				}
				p = &cfg.pools[cfg.npools];
				pool_defaults(p, sec + 5);
				for (e = 0; e < n; e++)
					if (strcmp(ent[e].name, "algorithm") == 0 &&
							(algo = lb_algo_parse(ent[e].value)) < 0) {
						fprintf(stderr,
								"l4proxy: %s: [%s] algorithm = '%s': use roundrobin, "
								"weighted, leastconn or maglev\n",
								file, sec, ent[e].value);
						goto out;
					}
				if (lb_init(&p->lb, (enum lb_algo)algo) != 0)
					goto out;
				cfg.npools++;
				for (e = 0; e < n; e++) {
					const char *k = ent[e].name, *v = ent[e].value;
					uint32_t u;
					char where[300];

					snprintf(where, sizeof(where), "%.128s: [%.64s] %.64s",
							file, sec, k);
					if (strcmp(k, "algorithm") == 0)
						continue;
					if (strcmp(k, "backend") == 0) {
						if (add_backend(p, v, where) != 0)
							goto out;
					} else if (strcmp(k, "connect_timeout_ms") == 0) {
						if (ini_u32(file, sec, k, v, 600000,
								    &p->connect_timeout_ms))
							goto out;
					} else if (strcmp(k, "health_interval_ms") == 0) {
						if (ini_u32(file, sec, k, v, 3600000,
								    &p->health_interval_ms))
							goto out;
					} else if (strcmp(k, "health_timeout_ms") == 0) {
						if (ini_u32(file, sec, k, v, 600000,
								    &p->health_timeout_ms))
							goto out;
					} else if (strcmp(k, "rise") == 0 ||
							strcmp(k, "fall") == 0) {
						if (ini_u32(file, sec, k, v, 100, &u))
							goto out;
						if (u == 0) {
							fprintf(stderr, "l4proxy: %s: at least 1\n",
									where);
							goto out;
						}
						*(k[0] == 'r' ? &p->rise : &p->fall) = (uint8_t)u;
					} else if (strcmp(k, "proxy_protocol") == 0) {
						if (strcmp(v, "v2") != 0 && strcmp(v, "off") != 0) {
							fprintf(stderr, "l4proxy: %s = '%s': v2 or off\n",
									where, v);
							goto out;
						}
						p->proxy_v2 = strcmp(v, "v2") == 0;
					} else if (strcmp(k, "backend_max_conns") == 0) {
						if (ini_u32(file, sec, k, v, 10000000,
								    &p->backend_max_conns))
							goto out;
					} else {
						fprintf(stderr, "l4proxy: %s: unknown key\n",
								where);
						goto out;
					}
				}
				if (p->lb.n == 0) {
					fprintf(stderr, "l4proxy: %s: [%s]: no backend = ADDR:PORT\n",
							file, sec);
					goto out;
				}
			} else {
				struct listener *l;
				const char *pool = NULL;
				uint32_t port = 0;

				if (cfg.nlisteners == MAX_LISTENERS) {
					fprintf(stderr, "l4proxy: %s: [%s]: more than %d listeners\n",
							file, sec, MAX_LISTENERS);
					goto out;
				}
				l = &cfg.ls[cfg.nlisteners];
				listener_defaults(l, sec + 9);
				for (e = 0; e < n; e++) {
					const char *k = ent[e].name, *v = ent[e].value;

					if (strcmp(k, "port") == 0) {
						if (ini_u32(file, sec, k, v, 65535, &port) ||
								port == 0) {
							if (port == 0)
								fprintf(stderr, "l4proxy: %s: [%s] port: 1..65535\n",
										file, sec);
							goto out;
						}
					} else if (strcmp(k, "pool") == 0) {
						pool = v;
					} else if (strcmp(k, "max_conns") == 0) {
						if (ini_u32(file, sec, k, v, 10000000,
								    &l->max_conns))
							goto out;
					} else if (strcmp(k, "max_rate") == 0) {
						if (ini_u32(file, sec, k, v, 10000000,
								    &l->max_rate))
							goto out;
					} else if (strcmp(k, "idle_timeout_ms") == 0) {
						if (ini_u32(file, sec, k, v, 86400000,
								    &l->idle_timeout_ms))
							goto out;
					} else if (strcmp(k, "over_limit") == 0) {
						if (parse_over_limit(v, &l->over_limit) != 0) {
							fprintf(stderr,
									"l4proxy: %s: [%s] over_limit = "
									"'%s': reset or queue\n",
									file, sec, v);
							goto out;
						}
					} else if (strcmp(k, "queue_timeout_ms") == 0) {
						if (ini_u32(file, sec, k, v, 600000,
								    &l->queue_timeout_ms))
							goto out;
					} else {
						fprintf(stderr, "l4proxy: %s: [%s] %s: unknown key\n",
								file, sec, k);
						goto out;
					}
				}
				if (port == 0 || pool == NULL) {
					fprintf(stderr, "l4proxy: %s: [%s]: needs port and pool\n",
							file, sec);
					goto out;
				}
				l->pool = pool_find(pool);
				if (l->pool == NULL) {
					fprintf(stderr, "l4proxy: %s: [%s] pool = '%s': no [pool %s]\n",
							file, sec, pool, pool);
					goto out;
				}
				l->port = (uint16_t)port;
				cfg.nlisteners++;
			}
		}
	}
	if (cfg.nlisteners == 0) {
		fprintf(stderr, "l4proxy: %s: no [listener NAME] section\n", file);
		goto out;
	}
	rc = 0;
out:
	free(names);
	rte_cfgfile_close(cf);
	return rc;
}

static void
usage(FILE *out, const char *prog)
{
	fprintf(out,
			"Usage: %s [EAL args] -- --ip ADDR/PREFIX [options]\n"
			"  --ip A/P             the proxy's address on its port (required)\n"
			"  --gateway A          next hop for other networks\n"
			"  --listen PORT        listen on ADDR:PORT of --ip (the simple case; or --config)\n"
			"  --backend A:P[,weight=N]  a backend (repeat)\n"
			"  --algorithm NAME     roundrobin (default), weighted, leastconn, maglev\n"
			"  --connect-timeout MS backend connect timeout, then the next (default 3500)\n"
			"  --idle-timeout MS    reset a pair idle this long (default 300000; 0: never)\n"
			"  --health-interval MS TCP connect check per backend (default 1000; 0: off)\n"
			"  --health-timeout MS  (default 500)\n"
			"  --rise N --fall N    checks to go up / down (default 2 / 2)\n"
			"  --proxy-protocol     send a PROXY protocol v2 header to backends\n"
			"  --max-conns N        per listener (default 0: no limit)\n"
			"  --backend-max-conns N  per backend; a full backend is skipped\n"
			"  --over-limit WHAT    clients over max-conns (listener, or every backend full):\n"
			"                       reset (default: a RST) or queue (held until there is room)\n"
			"  --queue-timeout MS   how long a queued client may wait, then a RST (default 2000)\n"
			"  --max-rate N         new connections per second per listener (0: no limit)\n"
			"  --config FILE        INI (rte_cfgfile): [global], [pool NAME], [listener NAME];\n"
			"                       see docs/l4proxy.md\n"
			"  --stats-interval S   print stats every S seconds (default 0: at exit only)\n"
			"  --drain-timeout S    on SIGTERM, let pairs finish this long (default 10)\n"
			"  --duration S         stop (as on SIGTERM) after S seconds\n"
			"  --busy-poll          poll without pause when idle (default: spin 50 us, then\n"
			"                       sleep until the rx queue has packets or a timer is due;\n"
			"                       naps of up to 1 ms on a port with no rx event fd)\n"
			"  --idle-spin US       how long an idle loop keeps polling before it sleeps\n"
			"                       (default 50; shorter saves CPU under light load,\n"
			"                       longer saves wake-ups under bursty load)\n"
			"  --tx-hold US         send a loop's packets at most every US microseconds\n"
			"                       under load (fewer PMD sends, each a syscall on\n"
			"                       af_xdp/tap); a quiet port sends at once (default 0,\n"
			"                       max 1000)\n"
			"  --impair SPEC        impair the port both ways (tests), e.g. loss=2%%,seed=random\n"
			"  -h, --help           this text\n"
			"  --version            riptide's and DPDK's versions\n"
			"Telemetry: /l4proxy/stats, /l4proxy/drain,POOL,ADDR:PORT (dpdk-telemetry.py).\n",
			prog);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ip", required_argument, NULL, 'i' },
		{ "gateway", required_argument, NULL, 'g' },
		{ "listen", required_argument, NULL, 'l' },
		{ "backend", required_argument, NULL, 'b' },
		{ "algorithm", required_argument, NULL, 'a' },
		{ "connect-timeout", required_argument, NULL, 'c' },
		{ "idle-timeout", required_argument, NULL, 'I' },
		{ "health-interval", required_argument, NULL, 'H' },
		{ "health-timeout", required_argument, NULL, 'T' },
		{ "rise", required_argument, NULL, 'r' },
		{ "fall", required_argument, NULL, 'f' },
		{ "proxy-protocol", no_argument, NULL, 'p' },
		{ "max-conns", required_argument, NULL, 'm' },
		{ "backend-max-conns", required_argument, NULL, 'B' },
		{ "max-rate", required_argument, NULL, 'R' },
		{ "over-limit", required_argument, NULL, 'O' },
		{ "queue-timeout", required_argument, NULL, 'Q' },
		{ "config", required_argument, NULL, 'C' },
		{ "stats-interval", required_argument, NULL, 's' },
		{ "drain-timeout", required_argument, NULL, 'D' },
		{ "duration", required_argument, NULL, 'd' },
		{ "busy-poll", no_argument, NULL, 'Y' },
		{ "tx-hold", required_argument, NULL, 'X' },
		{ "idle-spin", required_argument, NULL, 'W' },
		{ "impair", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dp_eal_info info;
	struct stack_host_config hc;
	struct supervisor sup;
	struct pool *cli_pool = NULL;
	struct listener *cli_ls = NULL;
	const char *config = NULL, *impair = NULL;
	struct dp_impair_config icfg;
	char err[128];
	int c, rc, exit_code = 0, algo = LB_ALGO_ROUND_ROBIN, nhealth = 0;
	uint32_t i, k;
	char *end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (stack_host_want_version(argc, argv, stdout))
		return 0;
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout, argv[0]);
		return 0;
	}
	rc = dp_eal_init(argc, argv, 256, &info);
	if (rc != 0) {
		fprintf(stderr, "l4proxy: EAL: %s\n", strerror(-rc));
		return 2;
	}
	if (info.note[0] != '\0')
		printf("l4proxy: %s\n", info.note);
	cfg.drain_timeout = 10;
	cfg.max_pairs = 16384;
	cfg.idle_spin_us = 50;
	/* The simple case builds one pool and one listener from flags. */
	cli_pool = &cfg.pools[0];
	pool_defaults(cli_pool, "default");
	cli_ls = &cfg.ls[0];
	listener_defaults(cli_ls, "default");
	optind = 1;
	while ((c = getopt_long(info.app_argc, info.app_argv, "h", lo, NULL)) != -1) {
		unsigned long v = 0;

		if (optarg != NULL && strchr("cIHTrfmBRQsDdXW", c) != NULL) {
			v = strtoul(optarg, &end, 10);
			if (*optarg == '\0' ||
					(*end != '\0' && !(strchr("sDd", c) && *end == '.'))) {
				fprintf(stderr, "l4proxy: a number is wanted, not '%s'\n", optarg);
				return 2;
			}
		}
		switch (c) {
		case 'i':
			if (ipv4_parse_cidr(optarg, &cfg.ip, &cfg.prefix) != 0) {
				fprintf(stderr,
						"l4proxy: --ip '%s': wants ADDR/PREFIX, e.g. "
						"198.18.100.10/24\n",
						optarg);
				return 2;
			}
			break;
		case 'g':
			if (ipv4_parse_addr(optarg, &cfg.gateway) != 0) {
				fprintf(stderr, "l4proxy: bad --gateway '%s'\n", optarg);
				return 2;
			}
			break;
		case 'l':
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 65535) {
				fprintf(stderr, "l4proxy: --listen wants a port, 1..65535\n");
				return 2;
			}
			cli_ls->port = (uint16_t)v;
			break;
		case 'b':
			if (add_backend(cli_pool, optarg, "--backend") != 0)
				return 2;
			break;
		case 'a':
			algo = lb_algo_parse(optarg);
			if (algo < 0) {
				fprintf(stderr,
						"l4proxy: --algorithm: roundrobin, weighted, leastconn or "
						"maglev, not '%s'\n",
						optarg);
				return 2;
			}
			break;
		case 'c':
			cli_pool->connect_timeout_ms = (uint32_t)v;
			break;
		case 'I':
			cli_ls->idle_timeout_ms = (uint32_t)v;
			break;
		case 'H':
			cli_pool->health_interval_ms = (uint32_t)v;
			break;
		case 'T':
			cli_pool->health_timeout_ms = (uint32_t)v;
			break;
		case 'r':
		case 'f':
			if (v < 1 || v > 100) {
				fprintf(stderr, "l4proxy: --rise and --fall are 1..100\n");
				return 2;
			}
			*(c == 'r' ? &cli_pool->rise : &cli_pool->fall) = (uint8_t)v;
			break;
		case 'p':
			cli_pool->proxy_v2 = true;
			break;
		case 'm':
			cli_ls->max_conns = (uint32_t)v;
			break;
		case 'B':
			cli_pool->backend_max_conns = (uint32_t)v;
			break;
		case 'R':
			cli_ls->max_rate = (uint32_t)v;
			break;
		case 'O':
			if (parse_over_limit(optarg, &cli_ls->over_limit) != 0) {
				fprintf(stderr, "l4proxy: --over-limit: reset or queue, not '%s'\n",
						optarg);
				return 2;
			}
			break;
		case 'Q':
			cli_ls->queue_timeout_ms = (uint32_t)v;
			break;
		case 'C':
			config = optarg;
			break;
		case 's':
			if (arg_seconds("l4proxy", "--stats-interval", optarg, 0, 86400,
					    &cfg.stats_interval) != 0)
				return 2;
			break;
		case 'D':
			if (arg_seconds("l4proxy", "--drain-timeout", optarg, 0, 86400,
					    &cfg.drain_timeout) != 0)
				return 2;
			break;
		case 'd':
			if (arg_seconds("l4proxy", "--duration", optarg, 0, 31536000,
					    &cfg.duration) != 0)
				return 2;
			break;
		case 'Y':
			cfg.busy_poll = true;
			break;
		case 'W':
			if (v > 100000) {
				fprintf(stderr, "l4proxy: --idle-spin is 0..100000 microseconds\n");
				return 2;
			}
			cfg.idle_spin_us = (uint32_t)v;
			break;
		case 'X':
			if (v > 1000) {
				fprintf(stderr, "l4proxy: --tx-hold is 0..1000 microseconds\n");
				return 2;
			}
			cfg.tx_hold_us = (uint32_t)v;
			break;
		case 'P':
			impair = optarg;
			break;
		case 'h':
			usage(stdout, info.app_argv[0]);
			return 0;
		default:
			usage(stderr, info.app_argv[0]);
			return 2;
		}
	}
	if (cfg.ip == 0) {
		fprintf(stderr, "l4proxy: --ip ADDR/PREFIX is required\n");
		return 2;
	}
	if (impair != NULL && dp_impair_parse(impair, &icfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "l4proxy: --impair: %s\n", err);
		return 2;
	}
	if (config != NULL) {
		if (cli_ls->port != 0 || cli_pool->lb.n != 0) {
			fprintf(stderr, "l4proxy: --config and --listen/--backend do not mix\n");
			return 2;
		}
		lb_fini(&cli_pool->lb);
		memset(cfg.pools, 0, sizeof(cfg.pools));
		memset(cfg.ls, 0, sizeof(cfg.ls));
		if (load_config(config) != 0)
			return 2;
	} else {
		struct lb tmp = cli_pool->lb;

		if (cli_ls->port == 0 || cli_pool->lb.n == 0) {
			fprintf(stderr, "l4proxy: give --listen PORT and at least one --backend "
					"(or --config FILE)\n");
			return 2;
		}
		/* The backends were added before the algorithm was known. */
		if (lb_init(&cli_pool->lb, (enum lb_algo)algo) != 0)
			return 1;
		for (i = 0; i < tmp.n; i++)
			lb_add(&cli_pool->lb, tmp.be[i].ip, tmp.be[i].port, tmp.be[i].weight);
		cli_ls->pool = cli_pool;
		cfg.npools = 1;
		cfg.nlisteners = 1;
	}
	for (i = 0; i < cfg.npools; i++)
		for (k = 0; k < cfg.pools[i].lb.n; k++)
			cfg.pools[i].lb.be[k].max_conns = cfg.pools[i].backend_max_conns;

	stack_host_config_defaults(&hc);
	hc.name = "l4proxy";
	hc.nb_mbufs = 65535;
	hc.stack.ip = cfg.ip;
	hc.stack.prefix_len = cfg.prefix;
	hc.stack.gateway = cfg.gateway;
	hc.tcp.max_conns = 2 * cfg.max_pairs + 4096; /* two per pair, checks, TIME_WAIT */
	hc.tcp.rcv_buf = 128 * 1024;
	hc.tcp.snd_buf = 128 * 1024;
	hc.ex.max_tasks = cfg.max_pairs + 256;
	hc.ex.idle_spin_us = cfg.idle_spin_us;
	hc.ex.idle_spins = UINT32_MAX; /* the time decides */
	hc.busy_poll = cfg.busy_poll;
	hc.tx_hold_us = cfg.tx_hold_us;
	hc.impair = impair != NULL ? &icfg : NULL;
	rc = stack_host_up(&host, &hc);
	if (rc != 0) {
		fprintf(stderr, "l4proxy: %s\n", host.err);
		return 1;
	}
	ex = host.ex;
	if (impair != NULL) {
		char desc[256];

		dp_impair_format(&icfg, desc, sizeof(desc));
		printf("l4proxy: impairment on %s, both ways: %s (tx seed %" PRIu64 ")\n",
				host.ports[0].name, desc, icfg.seed + 1);
	}
	pair_slab = EX_SLAB_CREATE(ex, "l4proxy_pairs", struct pair, cfg.max_pairs);
	health = calloc(cfg.npools * LB_MAX_BACKENDS, sizeof(*health));
	if (pair_slab == NULL || health == NULL) {
		fprintf(stderr, "l4proxy: no memory for %u pairs\n", cfg.max_pairs);
		return 1;
	}
	for (i = 0; i < cfg.npools; i++)
		TAILQ_INIT(&cfg.pools[i].wq);
	for (i = 0; i < cfg.nlisteners; i++) {
		struct listener *ls = &cfg.ls[i];

		TAILQ_INIT(&ls->wq);
		rc = tcp_listen(&ls->l, &host.tcp, cfg.ip, ls->port, 1024);
		if (rc != 0) {
			fprintf(stderr, "l4proxy: listener %s port %u: %s\n", ls->name, ls->port,
					strerror(-rc));
			return 1;
		}
		ls->open = true;
		rate_limit_init(&ls->rate, ls->max_rate, ex_now_ns(ex));
		ex_future_init(&ls->base, &acceptor_ops);
		tcp_accept_init(&ls->acc, &ls->l);
		ex_spawn(&ls->base, NULL, NULL);
		printf("l4proxy: listener %s on %u.%u.%u.%u:%u -> pool %s (%s, %u backends%s)\n",
				ls->name, cfg.ip >> 24, (cfg.ip >> 16) & 255, (cfg.ip >> 8) & 255,
				cfg.ip & 255, ls->port, ls->pool->name,
				lb_algo_name(ls->pool->lb.algo), ls->pool->lb.n,
				ls->pool->proxy_v2 ? ", PROXY v2" : "");
	}
	for (i = 0; i < cfg.npools; i++) {
		struct pool *p = &cfg.pools[i];

		if (p->health_interval_ms == 0)
			continue;
		for (k = 0; k < p->lb.n; k++) {
			struct health *h = &health[nhealth++];

			ex_future_init(&h->base, &health_ops);
			h->pool = p;
			h->i = (int)k;
			/* Spread the first checks over one interval. */
			ex_sleep_init(&h->sl, (uint64_t)p->health_interval_ms * EX_NS_PER_MS *
							      (k + 1) / p->lb.n);
			ex_spawn(&h->base, NULL, NULL);
		}
	}
	memset(&sup, 0, sizeof(sup));
	ex_future_init(&sup.base, &supervisor_ops);
	ex_sleep_init(&sup.tick, 100 * EX_NS_PER_MS);
	if (cfg.duration > 0)
		sup.stop_at = ex_now_ns(ex) + (uint64_t)(cfg.duration * 1e9);
	if (cfg.stats_interval > 0)
		sup.next_stats = ex_now_ns(ex) + (uint64_t)(cfg.stats_interval * 1e9);
	ex_spawn(&sup.base, NULL, NULL);
	rte_telemetry_register_cmd("/l4proxy/stats", tel_stats,
			"Listeners, the stack's counters and drops, the executor. No parameters.");
	rte_telemetry_register_cmd("/l4proxy/pools", tel_pools,
			"Each pool: algorithm, backends up/draining, conns. No parameters.");
	rte_telemetry_register_cmd("/l4proxy/backends", tel_backends,
			"Every backend of a pool, with its state and counters. Parameter: POOL.");
	rte_telemetry_register_cmd("/l4proxy/drain", tel_drain,
			"Stop new connections to a backend. Parameters: POOL,ADDR:PORT");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("l4proxy: %u.%u.%u.%u/%u on %s, ready\n", cfg.ip >> 24, (cfg.ip >> 16) & 255,
			(cfg.ip >> 8) & 255, cfg.ip & 255, cfg.prefix, host.ports[0].name);
	stack_announce(&host.st);
	/* Resolve the backends now: the first burst of clients then finds their
	 * MACs known instead of waiting on (and overflowing) ARP queues. Only a
	 * head start: a full table or a silent backend is handled on first use. */
	for (i = 0; i < cfg.npools; i++)
		for (k = 0; k < cfg.pools[i].lb.n; k++)
			(void)stack_arp_resolve(&host.st, cfg.pools[i].lb.be[k].ip);
	ex_run(ex);

	print_stats("exit");
	{
		struct ex_stats es;

		/* Busy: loop iterations that did work; idle polling is not counted
		 * (scripts/bench/proxy.sh divides busy time by requests). */
		ex_stats_read(ex, &es);
		printf("l4proxy: executor busy %.6f s idle %.6f s\n",
				(double)es.busy_cycles / (double)rte_get_tsc_hz(),
				(double)es.idle_cycles / (double)rte_get_tsc_hz());
		printf("l4proxy: idle sleeps %" PRIu64 " (on rx events %" PRIu64
		       ", woken early %" PRIu64 "; %s)\n",
				es.idle_sleeps, es.idle_event_sleeps, es.idle_event_wakes,
				cfg.busy_poll             ? "busy-poll"
				: ex_sleeps_on_events(ex) ? "sleeps on the rx queue's events"
							  : "naps: the port has no rx event");
		printf("l4proxy: tx %" PRIu64 " packets in %" PRIu64 " sends, %" PRIu64
		       " dropped by the PMD (tx hold %u us, sends held back %" PRIu64 " times)\n",
				host.tx[0].stats.pkts, host.tx[0].stats.bursts,
				host.tx[0].stats.dropped, cfg.tx_hold_us, host.tx[0].stats.held);
	}
	stack_host_print_stats(&host, stdout);
	if (active_pairs() != 0)
		printf("l4proxy: %" PRIu64 " pairs still open after the drain timeout: reset\n",
				active_pairs());
	stack_host_shutdown(&host);
	for (i = 0; i < cfg.nlisteners; i++)
		if (cfg.ls[i].open)
			tcp_listener_close(&cfg.ls[i].l);
	{
		uint32_t s[TCP_STATE_MAX];

		tcp_conns_by_state(&host.tcp, s);
		printf("l4proxy: tcp connections at exit: %u open, %u closing, %u in TIME_WAIT\n",
				s[TCP_STATE_SYN_SENT] + s[TCP_STATE_SYN_RECEIVED] +
						s[TCP_STATE_ESTABLISHED] + s[TCP_STATE_CLOSE_WAIT],
				s[TCP_STATE_FIN_WAIT_1] + s[TCP_STATE_FIN_WAIT_2] +
						s[TCP_STATE_CLOSING] + s[TCP_STATE_LAST_ACK],
				s[TCP_STATE_TIME_WAIT]);
	}
	ex_slab_free(pair_slab); /* every pair was a task's: all back */
	if (stack_host_down(&host, stdout) != 0)
		exit_code = 1;
	for (i = 0; i < cfg.npools; i++)
		lb_fini(&cfg.pools[i].lb);
	free(health);
	rte_eal_cleanup();
	return exit_code;
}
