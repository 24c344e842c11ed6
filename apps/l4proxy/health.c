/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * health.c - l4proxy's active health checks: one task per backend of every
 * pool with health_interval_ms > 0, a TCP connect every interval with a
 * timeout; rise successes in a row bring a backend back, fall failures take
 * it out. Established pairs are never cut by a check. On lane 0 only: each
 * change reaches the other lanes as a message (lanes.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "l4proxy.h"

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
	bool running;
};

/* One slot per backend slot of every pool: health[pool * LB_MAX_BACKENDS + k]. */
static struct health *health;

static void
health_verdict(struct pool *pool, int i, bool ok)
{
	struct lb_backend *b = &pool->lb.be[i];
	struct backend_stats *s = &pool->bs[i];
	char a[32];

	if (b->removed)
		return;
	fmt_addr(a, sizeof(a), b->ip, b->port);
	if (ok) {
		s->fall_run = 0;
		if (!b->up && ++s->rise_run >= pool->rise) {
			b->up = true;
			lb_changed(&pool->lb);
			lanes_broadcast(CTL_BACKEND_UP, (uint32_t)(pool - cfg.pools), (uint32_t)i,
					0);
			wq_wake_head(&pool->wq);
			printf("l4proxy: pool %s: backend %s is up\n", pool->name, a);
		}
	} else {
		s->rise_run = 0;
		if (b->up && ++s->fall_run >= pool->fall) {
			b->up = false; /* established pairs stay as they are */
			lb_changed(&pool->lb);
			lanes_broadcast(CTL_BACKEND_DOWN, (uint32_t)(pool - cfg.pools), (uint32_t)i,
					0);
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
			if (b->removed) { /* taken out at run time: no more checks */
				h->running = false;
				f->result = 0;
				return EX_READY;
			}
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

static void
health_spawn(struct pool *p, uint32_t k, uint64_t first_ns)
{
	struct health *h = &health[(p - cfg.pools) * LB_MAX_BACKENDS + k];

	ex_future_init(&h->base, &health_ops);
	h->pool = p;
	h->i = (int)k;
	h->state = HEALTH_STATE_SLEEP;
	h->running = true;
	ex_sleep_init(&h->sl, first_ns);
	ex_spawn(&h->base, NULL, NULL);
}

int
health_start(void)
{
	uint32_t i, k;

	health = calloc(cfg.npools * LB_MAX_BACKENDS, sizeof(*health));
	if (health == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg.npools; i++) {
		struct pool *p = &cfg.pools[i];

		if (p->health_interval_ms == 0)
			continue;
		/* Spread the first checks over one interval. */
		for (k = 0; k < p->lb.n; k++)
			health_spawn(p, k,
					(uint64_t)p->health_interval_ms * EX_NS_PER_MS * (k + 1) /
							p->lb.n);
	}
	return 0;
}

void
health_backend_added(struct pool *pool, uint32_t k)
{
	/* A removed backend's task that has not woken yet checks the new one. */
	if (health != NULL && !health[(pool - cfg.pools) * LB_MAX_BACKENDS + k].running)
		health_spawn(pool, k, (uint64_t)pool->health_interval_ms * EX_NS_PER_MS);
}

void
health_fini(void)
{
	free(health);
	health = NULL;
}
