/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lanes.c - l4proxy on several lcores: one lane per lcore of the EAL, shared
 * nothing. A lane is a whole proxy of its own: a host (stack, TCP, executor)
 * on its queue of the port, its listeners (every lane listens on every port,
 * as SO_REUSEPORT does), its pools with their own balancers and counters,
 * its pairs. A client and its backend connection live on the lane that owns
 * the client's flow (stack_host.h steers the flow there; the backend
 * connection's local port is chosen so that its replies come back to the
 * same lane).
 *
 * What crosses lanes, and how:
 *   - the configuration: copied into each lane before any lane comes up;
 *     the limits (max_conns, max_rate, backend max_conns, max_pairs) are
 *     split into per-lane shares (share i of N: limit / N, one more for the
 *     first limit % N lanes), so that no lock or atomic is taken per
 *     connection. A limit below N cannot be split and is refused.
 *   - health: lane 0 alone runs the checks; each verdict, and each change
 *     asked for through the runtime API (runtime.c: drain, enable, weight,
 *     add, remove), goes to every other lane as a message on its control
 *     channel (an SPSC ex_channel that the lane's control task reads), so
 *     every lane's balancer sees the same backends.
 *   - stopping: lane 0's supervisor sees SIGTERM, closes its listeners and
 *     sends STOP to the others, which close theirs; once the pairs of every
 *     lane are done (or the drain timeout passes) it stops every executor.
 *   - figures: each lane counts its own; stats and telemetry sum them on
 *     read (a torn read of a counter is harmless).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_log.h>

#include "ex_channel.h"
#include "ex_executor.h"
#include "l4proxy.h"

unsigned int nlanes = 1;
struct lane *lanes;

/* The configuration as main() built it, before any lane took its share. */
static struct config tmpl;
static struct config *tmpl_owner; /* lane 0's cfg, whose pools tmpl points into */

/* Share i of n of a limit (0: no limit, stays 0). */
static uint32_t
share(uint32_t limit, unsigned int i, unsigned int n)
{
	if (limit == 0)
		return 0;
	return limit / n + (i < limit % n ? 1 : 0);
}

/* A limit split n ways must leave every lane at least 1 (0 means none). */
static int
check_split(const char *what, const char *name, uint32_t limit, unsigned int n)
{
	if (limit == 0 || limit >= n)
		return 0;
	fprintf(stderr,
			"l4proxy: %s %s%s%u is below the %u lcores: each lcore takes a share "
			"(limit / lcores), and a share of 0 would mean no limit. Raise it to %u "
			"or more, or run on fewer lcores\n",
			what, name, name[0] != '\0' ? " " : "", limit, n, n);
	return -1;
}

/* Say how each limit was split, so that no one reads a share as a bug. */
static void
say_shares(unsigned int n)
{
	uint32_t i;

	if (n < 2)
		return;
	if (cfg.max_pairs != 0)
		printf("l4proxy: %u lcores share the limits (each takes limit / %u): max_pairs %u\n",
				n, n, cfg.max_pairs);
	for (i = 0; i < cfg.nlisteners; i++)
		if (cfg.ls[i].max_conns != 0 || cfg.ls[i].max_rate != 0)
			printf("l4proxy: listener %s: max_conns %u, max_rate %u, split %u ways\n",
					cfg.ls[i].name, cfg.ls[i].max_conns, cfg.ls[i].max_rate, n);
	for (i = 0; i < cfg.npools; i++)
		if (cfg.pools[i].backend_max_conns != 0)
			printf("l4proxy: pool %s: backend max_conns %u, split %u ways\n",
					cfg.pools[i].name, cfg.pools[i].backend_max_conns, n);
}

uint32_t
lanes_max_pairs(void)
{
	return tmpl.max_pairs;
}

uint32_t
lane_share(uint32_t limit, unsigned int idx)
{
	return share(limit, idx, nlanes);
}

int
lanes_check_limits(const struct config *c, unsigned int n)
{
	uint32_t i;
	int rc = 0;

	rc |= check_split("max_pairs", "", c->max_pairs, n);
	for (i = 0; i < c->nlisteners; i++) {
		rc |= check_split("listener", c->ls[i].name, c->ls[i].max_conns, n);
		rc |= check_split("listener", c->ls[i].name, c->ls[i].max_rate, n);
	}
	for (i = 0; i < c->npools; i++)
		rc |= check_split("pool", c->pools[i].name, c->pools[i].backend_max_conns, n);
	return rc != 0 ? -EINVAL : 0;
}

int
lanes_init(unsigned int n)
{
	if (lanes_check_limits(&cfg, n) != 0)
		return -EINVAL;
	lanes = calloc(n, sizeof(*lanes));
	if (lanes == NULL)
		return -ENOMEM;
	say_shares(n);
	nlanes = n;
	tmpl = cfg;
	tmpl_owner = &cfg;
	return 0;
}

void
lanes_fini(void)
{
	free(lanes);
	lanes = NULL;
}

/* This lane's cfg: a copy of the template (lanes after the first), each
 * balancer its own, every limit its share. */
static int
lane_config(struct lane *l)
{
	uint32_t i, k;

	if (l->idx > 0) {
		cfg = tmpl;
		/* The copy points at lane 0's Maglev tables: none of it is
		 * this lane's until its own are made (lane_down frees them). */
		for (i = 0; i < cfg.npools; i++)
			cfg.pools[i].lb.table = NULL;
		for (i = 0; i < cfg.npools; i++) {
			struct lb *lb = &cfg.pools[i].lb;

			if (lb_init(lb, tmpl.pools[i].lb.algo) != 0)
				return -ENOMEM;
			lb->n = tmpl.pools[i].lb.n;
			memcpy(lb->be, tmpl.pools[i].lb.be, sizeof(lb->be));
		}
		for (i = 0; i < cfg.nlisteners; i++)
			cfg.ls[i].pool = &cfg.pools[tmpl.ls[i].pool - tmpl_owner->pools];
	}
	cfg.max_pairs = share(tmpl.max_pairs, l->idx, nlanes);
	for (i = 0; i < cfg.nlisteners; i++) {
		cfg.ls[i].max_conns = share(tmpl.ls[i].max_conns, l->idx, nlanes);
		cfg.ls[i].max_rate = share(tmpl.ls[i].max_rate, l->idx, nlanes);
	}
	for (i = 0; i < cfg.npools; i++) {
		struct pool *p = &cfg.pools[i];

		p->backend_max_conns = share(tmpl.pools[i].backend_max_conns, l->idx, nlanes);
		for (k = 0; k < p->lb.n; k++)
			p->lb.be[k].max_conns =
					share(tmpl.pools[i].lb.be[k].max_conns, l->idx, nlanes);
	}
	return 0;
}

/* ---- control messages: lane 0 to the others ---- */

/* A message is one u64: op (8 bits), pool (8), backend (16), argument (32:
 * a weight). An added backend's address is read from lane 0's pool, which
 * wrote it before sending (the channel's release and acquire order them). */
#define CTL_MSG(op, pool, be, arg) \
	(((uint64_t)(op) << 56) | ((uint64_t)(pool) << 48) | ((uint64_t)(be) << 32) | (arg))

static const char *const ctl_names[] = { "?", "stop", "up", "down", "draining", "enabled", "weight",
	"added", "removed" };

static void
ctl_apply(uint64_t msg)
{
	enum ctl_op op = (enum ctl_op)(msg >> 56);
	uint32_t pi = (uint32_t)(msg >> 48) & 0xff, k = (uint32_t)(msg >> 32) & 0xffff;
	uint32_t arg = (uint32_t)msg;
	struct pool *pool = pi < cfg.npools ? &cfg.pools[pi] : NULL;
	struct lb_backend *b;

	if (op == CTL_STOP) {
		listeners_close();
		return;
	}
	if (op == CTL_RELOAD) {
		reload_apply_lane();
		RTE_LOG(DEBUG, USER1, "l4proxy: lcore %u: reloaded\n", rte_lcore_id());
		return;
	}
	if (pool == NULL || k >= LB_MAX_BACKENDS || (op != CTL_BACKEND_ADD && k >= pool->lb.n))
		return;
	b = &pool->lb.be[k];
	switch (op) {
	case CTL_BACKEND_UP:
		b->up = true;
		break;
	case CTL_BACKEND_DOWN:
		b->up = false; /* established pairs stay as they are */
		break;
	case CTL_BACKEND_DRAIN:
		b->draining = true;
		break;
	case CTL_BACKEND_ENABLE:
		b->draining = false;
		break;
	case CTL_BACKEND_WEIGHT:
		b->weight = (uint16_t)arg;
		break;
	case CTL_BACKEND_ADD: {
		const struct lb_backend *src = &lanes[0].cfg->pools[pi].lb.be[k];

		backend_slot_fill(pool, k, src->ip, src->port, (uint16_t)arg, arg >> 16 != 0);
		break;
	}
	case CTL_BACKEND_REMOVE:
		b->removed = true;
		break;
	case CTL_RELOAD:
		break; /* above */
	default:
		return;
	}
	lb_changed(&pool->lb);
	wq_wake_head(&pool->wq);
	RTE_LOG(DEBUG, USER1, "l4proxy: lcore %u: pool %s backend %u: %s\n", rte_lcore_id(),
			pool->name, k, op < RTE_DIM(ctl_names) ? ctl_names[op] : "?");
}

static enum ex_poll
ctl_poll(struct ex_future *f, struct ex_context *cx)
{
	struct lane *l = EX_CONTAINER_OF(f, struct lane, ctl_task);

	for (;;) {
		union ex_item it;

		switch (ex_stream_poll_next(&l->ctl.rx, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			return EX_READY;
		case EX_NEXT_ITEM:
			ctl_apply(it.u64);
			__atomic_store_n(&l->ctl_received, l->ctl_received + 1, __ATOMIC_RELEASE);
			break;
		}
	}
}

static const struct ex_future_ops ctl_ops = {
	.poll = ctl_poll,
	.drop = NULL,
	.name = "l4_control",
};

void
lanes_broadcast(enum ctl_op op, uint32_t pool, uint32_t backend, uint32_t arg)
{
	union ex_item it = { .u64 = CTL_MSG(op, pool, backend, arg) };
	unsigned int i;

	for (i = 1; i < nlanes; i++) {
		struct ex_sink *tx = &lanes[i].ctl.tx;

		/* Events are rare (health changes, drains) and the channel
		 * holds 1024: full means a lane has stopped reading. */
		if (lanes[i].ctl_on && tx->ops->start_send(tx, it) == 0) {
			lanes[i].ctl_sent++;
		} else {
			lanes[i].ctl_lost++;
			fprintf(stderr,
					"l4proxy: lcore %u: control message %u lost (its channel is full "
					"or closed)\n",
					lanes[i].lcore, (unsigned int)op);
		}
	}
}

/* ---- figures summed over lanes ---- */

void
lanes_listener_sum(uint32_t i, struct listener *out)
{
	unsigned int k, c;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < nlanes; k++) {
		const struct listener *ls;

		if (lanes[k].cfg == NULL)
			continue;
		ls = &lanes[k].cfg->ls[i];
		out->conns += ls->conns;
		out->active += ls->active;
		out->refused += ls->refused;
		out->no_backend += ls->no_backend;
		out->queued += ls->queued;
		out->queued_now += ls->queued_now;
		out->queue_timeouts += ls->queue_timeouts;
		out->proxied += ls->proxied;
		for (c = 0; c < END_MAX; c++)
			out->ends[c] += ls->ends[c];
		hist_sum(&out->duration, &ls->duration);
	}
}

void
lanes_backend_sum(uint32_t pi, uint32_t b, struct backend_stats *out, uint32_t *active)
{
	unsigned int k;

	memset(out, 0, sizeof(*out));
	*active = 0;
	for (k = 0; k < nlanes; k++) {
		const struct pool *p;

		if (lanes[k].cfg == NULL)
			continue;
		p = &lanes[k].cfg->pools[pi];
		out->conns += p->bs[b].conns;
		out->connect_failures += p->bs[b].connect_failures;
		out->bytes_up += p->bs[b].bytes_up;
		out->bytes_down += p->bs[b].bytes_down;
		*active += p->lb.be[b].active;
	}
}

uint64_t
lane_kept(const struct lane *l)
{
	return l->host != NULL && l->host->stage != 0 ? stack_host_steer_kept(l->host) : l->kept;
}

uint64_t
lane_handed_on(const struct lane *l)
{
	return l->host != NULL && l->host->stage != 0 ? stack_host_steer_steered(l->host)
						      : l->handed_on;
}

bool
lanes_settled(void)
{
	unsigned int i;

	for (i = 1; i < nlanes; i++)
		if (lanes[i].ctl_on && __atomic_load_n(&lanes[i].ctl_received, __ATOMIC_ACQUIRE) !=
						       lanes[i].ctl_sent)
			return false;
	return true;
}

uint64_t
lanes_active_pairs(void)
{
	uint64_t n = 0;
	unsigned int k;
	uint32_t i;

	for (k = 0; k < nlanes; k++)
		for (i = 0; lanes[k].cfg != NULL && i < lanes[k].cfg->nlisteners; i++)
			n += lanes[k].cfg->ls[i].active;
	return n;
}

/* ---- a lane's life ---- */

/* Lanes after the first: the channel lane 0 writes into, and the task
 * that reads it. */
static int
lane_control(struct lane *l)
{
	if (l->idx == 0)
		return 0;
	if (ex_channel_init(&l->ctl, 1024, EX_CHANNEL_SHARED, (int)rte_socket_id()) != 0)
		return -ENOMEM;
	ex_future_init(&l->ctl_task, &ctl_ops);
	if (ex_spawn(&l->ctl_task, NULL, NULL) != 0) {
		ex_channel_fini(&l->ctl, NULL, NULL);
		return -ENOMEM;
	}
	l->ctl_on = true;
	return 0;
}

/* The lanes' three steps, for stack_host_lanes_run(). */
static int
lane_up(unsigned int idx, void *arg)
{
	struct lane *l = &lanes[idx];

	(void)arg;
	l->idx = idx;
	l->lcore = rte_lcore_id();
	if (lane_config(l) != 0) {
		fprintf(stderr, "l4proxy: lcore %u: no memory for its balancers\n", l->lcore);
		return -1;
	}
	l->cfg = &cfg;
	l->host = &host;
	return proxy_lane_up(l) == 0 && lane_control(l) == 0 ? 0 : -1;
}

static void
lane_run(unsigned int idx, void *arg)
{
	(void)arg;
	proxy_lane_start(&lanes[idx]);
	ex_run(host.ex);
}

static int
lane_down(unsigned int idx, void *arg)
{
	struct lane *l = &lanes[idx];
	uint32_t i;
	int rc;

	(void)arg;
	rc = proxy_lane_down(l);
	/* The lane's balancers, also when it never came up (lane 0's are the
	 * ones main built). */
	for (i = 0; i < cfg.npools; i++)
		lb_fini(&cfg.pools[i].lb);
	if (l->ctl_on) {
		/* Every loop has stopped (nothing more is sent) and the reading
		 * task was dropped with the lane's others. */
		ex_channel_fini(&l->ctl, NULL, NULL);
		l->ctl_on = false;
	}
	return rc;
}

int
lanes_run(void)
{
	static const struct stack_host_lane_ops ops = {
		.up = lane_up,
		.run = lane_run,
		.down = lane_down,
	};

	return stack_host_lanes_run(&ops, NULL);
}
