/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pair.c - one proxied connection: a client and its backend. A pair is a
 * task in a slot of the pair slab: it picks a backend (lb.c), waits in a
 * queue when a limit says so (the listener's max_conns, every usable backend
 * at its max_conns), connects with a timeout (the next backend on failure),
 * optionally sends a PROXY protocol v2 header, then runs two forward()s, one
 * per direction, from one connection's receive stream into the other's send
 * sink: the mbufs that arrive are the mbufs that leave (zero copy), a full
 * send buffer stops the reading side, a FIN is passed on as a FIN, a reset as
 * a reset, and a pair idle too long is reset.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_slab.h"
#include "ex_timer.h"
#include "l4proxy.h"
#include "pair.h"

/* Every pair's memory: a slot the pair's task owns, taken back by the
 * executor when the task ends (ex_slab.h). Its size is max_pairs. */
static _Thread_local struct ex_slab *pair_slab; /* this lane's */

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

const char *const pair_end_names[END_MAX] = { "client_fin", "backend_fin", "client_rst",
	"backend_rst", "client_timeout", "backend_timeout", "idle_timeout", "no_backend",
	"queue_timeout", "header_failed", "error", "shutdown", "no_pair", "proxy_header_bad",
	"proxy_untrusted", "limit" };
_Static_assert(RTE_DIM(pair_end_names) == END_MAX, "a name for every cause");

const uint64_t hist_connect_ns[HIST_BOUNDS] = { 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000, 1000000000, 2500000000 };
const uint64_t hist_duration_ns[HIST_BOUNDS] = { 1000000, 5000000, 10000000, 50000000, 100000000,
	500000000, 1000000000, 5000000000, 10000000000, 30000000000, 60000000000, 300000000000,
	900000000000, 3600000000000 };

void
hist_add(struct hist *h, const uint64_t *bound, uint64_t ns)
{
	unsigned int i = 0;

	while (i < HIST_BOUNDS && ns > bound[i])
		i++;
	h->n[i]++;
	h->count++;
	h->sum_ns += ns;
}

static void proxy_in_drop(struct pair *p);

/* The cause of a pair's end when a forward failed: which side, and how. */
static enum pair_end_cause
run_error_cause(const struct pair *p)
{
	int ce = tcp_conn_error(p->cli), se = tcp_conn_error(p->srv);

	if (ce == -ECONNRESET)
		return END_CLIENT_RST;
	if (se == -ECONNRESET)
		return END_BACKEND_RST;
	if (ce == -ETIMEDOUT)
		return END_CLIENT_TIMEOUT;
	if (se == -ETIMEDOUT)
		return END_BACKEND_TIMEOUT;
	return END_ERROR;
}

void
pair_end(struct pair *p, enum pair_end_cause cause)
{
	struct pool *pool = p->pool;
	bool reset = cause != END_CLIENT_FIN && cause != END_BACKEND_FIN;
	uint64_t now = ex_now_ns(host.ex);

	if (p->state == PAIR_STATE_RUN) {
		if (!ex_future_is_done(&p->up.base))
			ex_future_drop(&p->up.base);
		if (!ex_future_is_done(&p->down.base))
			ex_future_drop(&p->down.base);
		ex_future_drop(&p->idle.base);
	}
	if (p->state == PAIR_STATE_HEADER && !ex_future_is_done(&p->hdr.base))
		ex_future_drop(&p->hdr.base);
	if (p->state == PAIR_STATE_PROXY_IN)
		proxy_in_drop(p);
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
	p->ls->ends[cause]++;
	if (p->t_connected != 0)
		hist_add(&p->ls->duration, hist_duration_ns, now - p->t_accept);
	conn_log(p, cause, now);
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

uint32_t proxy_epoch;

void
unique_id(char out[25], unsigned int lcore, uint64_t seq)
{
	snprintf(out, 25, "%08x%04x%012" PRIx64, proxy_epoch, lcore & 0xffff,
			seq & UINT64_C(0xffffffffffff));
}

/* The PROXY header for the backend: the client (the one a received header
 * named, if any) and where it connected. @return its length. */
static uint32_t
build_proxy_header(struct pair *p)
{
	struct pp_addr a = { .src_ip = p->cli_ip,
		.dst_ip = p->dst_ip,
		.src_port = p->cli_port,
		.dst_port = p->dst_port };
	char id[25];

	if (p->pool->proxy_send == 1)
		return (uint32_t)pp_v1_build((char *)p->pp_out, sizeof(p->pp_out), &a);
	unique_id(id, rte_lcore_id(), p->seq);
	return (uint32_t)pp_v2_build(p->pp_out, sizeof(p->pp_out), &a, (const uint8_t *)id, 24);
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

void
pair_connect_start(struct pair *p)
{
	struct lb_backend *b = &p->pool->lb.be[p->be];

	b->active++;
	p->t_connect = ex_now_ns(host.ex);
	tcp_connect_init(&p->conn, &host.tcp, b->ip, b->port);
	ex_timeout_init(&p->cto, &p->conn.base,
			(uint64_t)p->pool->connect_timeout_ms * EX_NS_PER_MS);
	p->state = PAIR_STATE_CONNECT;
}

/* ---- accept_proxy: the client's PROXY header ---- */

#define PROXY_IN_TIMEOUT_MS 3000

enum pp_stage {
	PP_FIRST6 = 0, /* "PROXY " or the start of v2's signature */
	PP_V1_LINE, /* the rest of the v1 line, to its "\n" */
	PP_V2_HEAD_REST, /* the rest of v2's 16 bytes */
	PP_V2_BODY, /* its addresses and TLVs */
};

static void
proxy_in_drop(struct pair *p)
{
	if (p->pp_stage == PP_V1_LINE) {
		if (!ex_future_is_done(&p->pp_line.base))
			ex_future_drop(&p->pp_line.base);
	} else if (!ex_future_is_done(&p->pp_rx.base)) {
		ex_future_drop(&p->pp_rx.base);
	}
	if (!ex_future_is_done(&p->pp_deadline.base))
		ex_future_drop(&p->pp_deadline.base);
}

/* The header read: the real client (unless it said LOCAL or UNKNOWN), then
 * on to the listener's queue or the pick, as the accept found it. */
static enum pair_step
proxy_in_done(struct pair *p, const struct pp_addr *a)
{
	if (!ex_future_is_done(&p->pp_deadline.base))
		ex_future_drop(&p->pp_deadline.base);
	if (!a->local) {
		p->cli_ip = a->src_ip;
		p->cli_port = a->src_port;
		p->dst_ip = a->dst_ip;
		p->dst_port = a->dst_port;
	}
	p->ls->proxied++;
	if (p->pp_full)
		wq_enter(p, &p->ls->wq, PAIR_STATE_QUEUED);
	else
		p->state = PAIR_STATE_PICK;
	return PAIR_STEP_NEXT;
}

static enum pair_step
proxy_in_fail(struct pair *p)
{
	pair_end(p, END_PROXY_BAD); /* resets the client */
	return PAIR_STEP_DONE;
}

static enum pair_step
pair_proxy_in(struct pair *p, struct ex_context *cx)
{
	struct ex_future *rd = p->pp_stage == PP_V1_LINE ? &p->pp_line.base : &p->pp_rx.base;
	struct pp_addr a;
	int len;

	if (ex_await(rd, cx) == EX_PENDING) {
		if (ex_future_poll(&p->pp_deadline.base, cx) == EX_PENDING)
			return PAIR_STEP_PENDING;
		return proxy_in_fail(p); /* too slow: a client that is no balancer */
	}
	if (rd->result <= 0)
		return proxy_in_fail(p); /* ended, reset, or too long a line */
	switch (p->pp_stage) {
	case PP_FIRST6:
		switch (pp_detect(p->pp_in)) {
		case 1:
			p->pp_stage = PP_V1_LINE;
			tcp_read_until_init(&p->pp_line, p->cli, '\n', p->pp_in + 6, PP_V1_MAX - 6);
			return PAIR_STEP_NEXT;
		case 2:
			p->pp_stage = PP_V2_HEAD_REST;
			tcp_read_exact_init(&p->pp_rx, p->cli, p->pp_in + 6, PP_V2_HEAD - 6);
			return PAIR_STEP_NEXT;
		}
		return proxy_in_fail(p);
	case PP_V1_LINE:
		if (pp_v1_parse((const char *)p->pp_in, 6 + (size_t)rd->result, &a) != 0)
			return proxy_in_fail(p);
		return proxy_in_done(p, &a);
	case PP_V2_HEAD_REST:
		len = pp_v2_length(p->pp_in);
		if (len < 0)
			return proxy_in_fail(p);
		if (len == PP_V2_HEAD) {
			if (pp_v2_parse(p->pp_in, PP_V2_HEAD, &a) != 0)
				return proxy_in_fail(p);
			return proxy_in_done(p, &a);
		}
		p->pp_stage = PP_V2_BODY;
		tcp_read_exact_init(&p->pp_rx, p->cli, p->pp_in + PP_V2_HEAD,
				(uint32_t)len - PP_V2_HEAD);
		return PAIR_STEP_NEXT;
	case PP_V2_BODY:
		if (pp_v2_parse(p->pp_in, PP_V2_HEAD + (size_t)rd->result, &a) != 0)
			return proxy_in_fail(p);
		return proxy_in_done(p, &a);
	}
	return proxy_in_fail(p);
}

static enum pair_step
pair_pick(struct pair *p)
{
	struct pool *pool = p->pool;

	if (p->ls->over_limit == OVER_LIMIT_QUEUE && !TAILQ_EMPTY(&pool->wq)) {
		/* Others wait for a backend slot: first come, first served. */
		wq_enter(p, &pool->wq, PAIR_STATE_WAIT_BACKEND);
		return PAIR_STEP_NEXT;
	}
	p->be = lb_pick(&pool->lb, p->cli_ip, p->tried);
	if (p->be < 0 && p->ls->over_limit == OVER_LIMIT_QUEUE && pool_full(pool, p->tried)) {
		wq_enter(p, &pool->wq, PAIR_STATE_WAIT_BACKEND);
		return PAIR_STEP_NEXT;
	}
	if (p->be < 0) {
		p->ls->no_backend++;
		pair_end(p, END_NO_BACKEND); /* nowhere to go: the client gets a RST */
		return PAIR_STEP_DONE;
	}
	pair_connect_start(p);
	return PAIR_STEP_NEXT;
}

static enum pair_step
pair_connect(struct pair *p, struct ex_context *cx)
{
	struct pool *pool = p->pool;

	if (ex_await(&p->cto.base, cx) == EX_PENDING)
		return PAIR_STEP_PENDING;
	if (p->cto.base.result < 0) {
		/* Refused, unreachable or too slow: the next backend. */
		pool->bs[p->be].connect_failures++;
		backend_released(pool, p->be);
		p->tried |= UINT64_C(1) << p->be;
		p->retries++;
		p->be = -1;
		p->state = PAIR_STATE_PICK;
		return PAIR_STEP_NEXT;
	}
	p->srv = p->conn.conn;
	pool->bs[p->be].conns++;
	p->t_connected = ex_now_ns(host.ex);
	hist_add(&pool->connect, hist_connect_ns, p->t_connected - p->t_connect);
	if (pool->proxy_send != 0) {
		tcp_write_init(&p->hdr, p->srv, p->pp_out, build_proxy_header(p));
		p->state = PAIR_STATE_HEADER;
		return PAIR_STEP_NEXT;
	}
	pair_run_start(p);
	return PAIR_STEP_NEXT;
}

static enum pair_step
pair_header(struct pair *p, struct ex_context *cx)
{
	if (ex_await(&p->hdr.base, cx) == EX_PENDING)
		return PAIR_STEP_PENDING;
	if (p->hdr.base.result != (int32_t)p->hdr.len) {
		/* an error, or a short write: a cut header is no header */
		pair_end(p, END_HEADER);
		return PAIR_STEP_DONE;
	}
	pair_run_start(p);
	return PAIR_STEP_NEXT;
}

/* The two forwards, and the idle timer: a pair that moved nothing for
 * idle_timeout_ms is reset. */
static enum pair_step
pair_run(struct pair *p, struct ex_context *cx)
{
	uint64_t items;

	/* A reset on either side resets the other (no half-open leftovers). */
	if (tcp_conn_error(p->cli) == -ECONNRESET || tcp_conn_error(p->srv) == -ECONNRESET) {
		pair_end(p, run_error_cause(p));
		return PAIR_STEP_DONE;
	}
	if (!ex_future_is_done(&p->up.base))
		ex_future_poll(&p->up.base, cx);
	if (!ex_future_is_done(&p->down.base))
		ex_future_poll(&p->down.base, cx);
	/* Who closed first: the side whose FIN was passed on first. */
	if (p->first_fin == 0 && ex_future_is_done(&p->up.base) && p->up.base.result >= 0)
		p->first_fin = 1;
	else if (p->first_fin == 0 && ex_future_is_done(&p->down.base) && p->down.base.result >= 0)
		p->first_fin = 2;
	if ((ex_future_is_done(&p->up.base) && p->up.base.result < 0) ||
			(ex_future_is_done(&p->down.base) && p->down.base.result < 0)) {
		pair_end(p, run_error_cause(p));
		return PAIR_STEP_DONE;
	}
	if (ex_future_is_done(&p->up.base) && ex_future_is_done(&p->down.base)) {
		/* both FINs passed on and acknowledged */
		pair_end(p, p->first_fin == 2 ? END_BACKEND_FIN : END_CLIENT_FIN);
		return PAIR_STEP_DONE;
	}
	if (p->ls->idle_timeout_ms == 0 || ex_future_poll(&p->idle.base, cx) == EX_PENDING)
		return PAIR_STEP_PENDING;
	items = p->up.items + p->down.items;
	if (items == p->last_items) {
		pair_end(p, END_IDLE); /* idle: reset both */
		return PAIR_STEP_DONE;
	}
	p->last_items = items;
	ex_sleep_init(&p->idle, (uint64_t)p->ls->idle_timeout_ms * EX_NS_PER_MS);
	return ex_future_poll(&p->idle.base, cx) == EX_PENDING ? PAIR_STEP_PENDING : PAIR_STEP_NEXT;
}

static enum ex_poll
pair_poll(struct ex_future *f, struct ex_context *cx)
{
	struct pair *p = EX_CONTAINER_OF(f, struct pair, base);
	enum pair_step step = PAIR_STEP_NEXT;

	while (step == PAIR_STEP_NEXT) {
		switch (p->state) {
		case PAIR_STATE_QUEUED:
			step = pair_queued(p, cx);
			break;
		case PAIR_STATE_WAIT_BACKEND:
			step = pair_wait_backend(p, cx);
			break;
		case PAIR_STATE_PROXY_IN:
			step = pair_proxy_in(p, cx);
			break;
		case PAIR_STATE_PICK:
			step = pair_pick(p);
			break;
		case PAIR_STATE_CONNECT:
			step = pair_connect(p, cx);
			break;
		case PAIR_STATE_HEADER:
			step = pair_header(p, cx);
			break;
		case PAIR_STATE_RUN:
			step = pair_run(p, cx);
			break;
		case PAIR_STATE_DONE:
			step = PAIR_STEP_DONE;
			break;
		}
	}
	return step == PAIR_STEP_PENDING ? EX_PENDING : EX_READY;
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
		pair_end(p, END_SHUTDOWN);
}

static const struct ex_future_ops pair_ops = {
	.poll = pair_poll,
	.drop = pair_drop,
	.name = "l4_pair",
};

int
pairs_init(uint32_t max_pairs)
{
	uint32_t i;

	for (i = 0; i < cfg.npools; i++)
		TAILQ_INIT(&cfg.pools[i].wq);
	pair_slab = EX_SLAB_CREATE(host.ex, "l4proxy_pairs", struct pair, max_pairs);
	return pair_slab != NULL ? 0 : -ENOMEM;
}

void
pairs_fini(void)
{
	ex_slab_free(pair_slab); /* every pair was a task's: all back */
	pair_slab = NULL;
}

static _Thread_local uint64_t pair_seq; /* this lane's pairs so far */

uint64_t
pair_next_seq(void)
{
	return ++pair_seq;
}

int
pair_start(struct listener *ls, struct tcp_conn *c, bool full)
{
	struct pair *p = ex_slab_get(pair_slab);

	if (p == NULL)
		return -ENOSPC;
	ex_future_init(&p->base, &pair_ops);
	p->ls = ls;
	p->pool = ls->pool;
	p->be = -1;
	p->cli = c;
	p->seq = pair_next_seq();
	p->t_accept = ex_now_ns(host.ex);
	tcp_conn_addr(c, &p->dst_ip, &p->dst_port, &p->cli_ip, &p->cli_port);
	if (ls->accept_proxy && !pp_trusted(&ls->trusted, p->cli_ip)) {
		/* Only a trusted balancer may say who the client is. */
		ls->refused++;
		pair_end(p, END_PROXY_UNTRUSTED); /* resets c */
		ex_slab_put(pair_slab, p);
		return 0;
	}
	if (ls->accept_proxy) {
		/* The header first; the queue (if full) once it is read. */
		p->state = PAIR_STATE_PROXY_IN;
		p->pp_full = full;
		tcp_read_exact_init(&p->pp_rx, c, p->pp_in, 6);
		ex_sleep_init(&p->pp_deadline, (uint64_t)PROXY_IN_TIMEOUT_MS * EX_NS_PER_MS);
		if (!full) {
			p->admitted = true;
			ls->active++;
		}
	} else if (full) {
		wq_enter(p, &ls->wq, PAIR_STATE_QUEUED);
	} else {
		p->admitted = true;
		ls->active++;
	}
	if (ex_spawn_slab(pair_slab, &p->base, NULL, NULL) != 0) {
		ls->refused++;
		pair_end(p, END_NO_PAIR); /* resets c */
		ex_slab_put(pair_slab, p);
	}
	return 0;
}

uint64_t
active_pairs(void)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < cfg.nlisteners; i++)
		n += cfg.ls[i].active;
	return n;
}
