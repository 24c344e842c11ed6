/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * reload.c - l4proxy's configuration read again while it runs (SIGHUP, or
 * /l4proxy/reload), without dropping a connection.
 *
 * Lane 0 reads the file (config_load() on a helper thread, whose cfg is its
 * own thread-local one, so the running configuration is not touched), and
 * refuses it as a whole if anything is wrong: the same checks as at start,
 * the limits split over the lanes, and what cannot change while running
 * (max_pairs, metrics_port, log: said). Otherwise it makes a plan: the new
 * configuration laid out on the current places, every pool, backend and
 * listener that stays keeping its index (pairs point at them), with
 *
 *   - a pool or listener that is gone: retired (a listener closed, a pool's
 *     backends removed), its index never reused until restart;
 *   - a new pool or listener: the next free index (8 of each in all, retired
 *     ones included); a listener whose port changed is a new one;
 *   - a pool's backends matched by address: kept (its weight and the pool's
 *     settings updated), removed (never picked again; its pairs run on), or
 *     added (in a slot no lane uses any more, else a new one);
 *   - the limits, timeouts, checks and algorithm of what stays: changed in
 *     place (each lane its share of the limits).
 *
 * Lane 0 applies the plan, then sends CTL_RELOAD to every other lane, which
 * applies the same plan to its own configuration. The plan stays until the
 * next reload, which waits until every lane has applied it. Established
 * pairs never notice: they keep their connections, their backend and their
 * listener's slot.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ex_executor.h"
#include "l4proxy.h"

const char *reload_file;

struct reload_plan {
	struct config c; /* pools and listeners at their indexes; no Maglev tables */
	bool pool_new[MAX_POOLS], ls_new[MAX_LISTENERS];
	bool be_new[MAX_POOLS][LB_MAX_BACKENDS]; /* a backend put in a slot by this plan */
	uint32_t kept, added, removed; /* backends, for the message */
};

static struct reload_plan *plan; /* the last one; every lane applies it */
static unsigned int reloads;

/* ---- reading the file (a helper thread: its own cfg) ---- */

struct load_job {
	const char *file;
	struct config *out;
	int rc;
};

static void *
load_main(void *arg)
{
	struct load_job *j = arg;
	uint32_t i;

	memset(&cfg, 0, sizeof(cfg));
	config_defaults();
	j->rc = config_load(j->file);
	if (j->rc == 0)
		j->rc = config_check_ports(j->file);
	if (j->rc == 0)
		config_finish();
	*j->out = cfg;
	/* The copy keeps no balancer memory: each lane's stays its own. */
	for (i = 0; i < cfg.npools; i++) {
		lb_fini(&cfg.pools[i].lb);
		j->out->pools[i].lb.table = NULL;
	}
	return NULL;
}

static int
load(const char *file, struct config *out)
{
	struct load_job j = { .file = file, .out = out, .rc = -1 };
	pthread_t t;

	if (pthread_create(&t, NULL, load_main, &j) != 0)
		return -1;
	pthread_join(t, NULL);
	return j.rc;
}

/* ---- the plan (lane 0) ---- */

static int
find_pool(const struct config *c, const char *name)
{
	uint32_t i;

	for (i = 0; i < c->npools; i++)
		if (!c->pools[i].retired && strcmp(c->pools[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
find_listener(const struct config *c, const char *name, uint32_t vip, uint16_t port)
{
	uint32_t i;

	for (i = 0; i < c->nlisteners; i++)
		if (!c->ls[i].retired && strcmp(c->ls[i].name, name) == 0 &&
				c->ls[i].port == port && c->ls[i].vip == vip)
			return (int)i;
	return -1;
}

/* A pool's settings (not its backends, balancer or runtime state). */
static void
pool_settings(struct pool *to, const struct pool *from)
{
	to->connect_timeout_ms = from->connect_timeout_ms;
	to->health_interval_ms = from->health_interval_ms;
	to->health_timeout_ms = from->health_timeout_ms;
	to->rise = from->rise;
	to->fall = from->fall;
	to->check = from->check;
	memcpy(to->http_check, from->http_check, sizeof(to->http_check));
	to->http_status_lo = from->http_status_lo;
	to->http_status_hi = from->http_status_hi;
	to->agent_port = from->agent_port;
	to->agent_interval_ms = from->agent_interval_ms;
	to->slow_start_ms = from->slow_start_ms;
	to->proxy_send = from->proxy_send;
	to->backend_max_conns = from->backend_max_conns;
	to->lb.algo = from->lb.algo;
}

static void
listener_settings(struct listener *to, const struct listener *from)
{
	to->max_conns = from->max_conns;
	to->max_rate = from->max_rate;
	to->idle_timeout_ms = from->idle_timeout_ms;
	to->over_limit = from->over_limit;
	to->queue_timeout_ms = from->queue_timeout_ms;
	to->accept_proxy = from->accept_proxy;
	to->trusted = from->trusted;
}

/* Slot for a new backend of pool pi in the plan: a slot removed before this
 * reload that no lane uses any more, else the next. -1: full. */
static int
plan_slot(struct reload_plan *p, uint32_t pi)
{
	struct pool *pp = &p->c.pools[pi];
	uint32_t k;

	for (k = 0; pi < cfg.npools && k < cfg.pools[pi].lb.n; k++) {
		struct backend_stats s;
		uint32_t active;

		if (!cfg.pools[pi].lb.be[k].removed || !pp->lb.be[k].removed || p->be_new[pi][k])
			continue;
		lanes_backend_sum(pi, k, &s, &active);
		if (active == 0)
			return (int)k;
	}
	return pp->lb.n < LB_MAX_BACKENDS ? (int)pp->lb.n : -1;
}

/* The new pool np laid on index pi of the plan (an existing pool's, or a new
 * index). @return 0, or -1 (out says why). */
static int
plan_pool(struct reload_plan *p, uint32_t pi, const struct pool *np, char *out, size_t len)
{
	struct pool *pp = &p->c.pools[pi];
	uint32_t k, j;

	pool_settings(pp, np);
	if (p->pool_new[pi]) {
		pp->lb.n = np->lb.n;
		memcpy(pp->lb.be, np->lb.be, sizeof(pp->lb.be));
		for (k = 0; k < np->lb.n; k++)
			p->be_new[pi][k] = true;
		p->added += np->lb.n;
		return 0;
	}
	/* What stays keeps its slot; what went is removed. */
	for (k = 0; k < pp->lb.n; k++) {
		struct lb_backend *b = &pp->lb.be[k];
		bool kept = false;

		for (j = 0; !b->removed && j < np->lb.n; j++)
			if (np->lb.be[j].ip == b->ip && np->lb.be[j].port == b->port) {
				b->weight = np->lb.be[j].weight;
				kept = true;
			}
		if (!kept && !b->removed) {
			b->removed = true;
			p->removed++;
		}
		p->kept += kept;
	}
	/* What is new takes a free slot. */
	for (j = 0; j < np->lb.n; j++) {
		bool have = false;
		int s;

		for (k = 0; k < pp->lb.n; k++)
			have |= !pp->lb.be[k].removed && pp->lb.be[k].ip == np->lb.be[j].ip &&
				pp->lb.be[k].port == np->lb.be[j].port;
		if (have)
			continue;
		if ((s = plan_slot(p, pi)) < 0) {
			snprintf(out, len,
					"error: pool %s: more than %d backends (removed ones "
					"still carrying pairs count)",
					np->name, LB_MAX_BACKENDS);
			return -1;
		}
		pp->lb.be[s] = np->lb.be[j];
		pp->lb.be[s].removed = false;
		p->be_new[pi][s] = true;
		p->added++;
		if ((uint32_t)s >= pp->lb.n)
			pp->lb.n = (uint32_t)s + 1;
	}
	return 0;
}

static int
make_plan(struct reload_plan *p, const struct config *nc, char *out, size_t len)
{
	uint32_t i;
	int at;

	memset(p, 0, sizeof(*p));
	p->c = cfg; /* the places as they are; each part below from nc */
	for (i = 0; i < p->c.npools; i++)
		if (find_pool(nc, p->c.pools[i].name) < 0 && !p->c.pools[i].retired)
			p->c.pools[i].retired = true;
	for (i = 0; i < nc->npools; i++) {
		at = find_pool(&p->c, nc->pools[i].name);
		if (at < 0) {
			if (p->c.npools == MAX_POOLS) {
				snprintf(out, len,
						"error: more than %d pools (retired ones count "
						"until a restart)",
						MAX_POOLS);
				return -1;
			}
			at = (int)p->c.npools++;
			memset(&p->c.pools[at], 0, sizeof(p->c.pools[at]));
			memcpy(p->c.pools[at].name, nc->pools[i].name, NAME_LEN);
			p->pool_new[at] = true;
		}
		if (plan_pool(p, (uint32_t)at, &nc->pools[i], out, len) != 0)
			return -1;
	}
	for (i = 0; i < p->c.npools; i++)
		for (at = 0; p->c.pools[i].retired && at < (int)p->c.pools[i].lb.n; at++)
			if (!p->c.pools[i].lb.be[at].removed) {
				p->c.pools[i].lb.be[at].removed = true;
				p->removed++;
			}
	for (i = 0; i < p->c.nlisteners; i++)
		if (!p->c.ls[i].retired && find_listener(nc, p->c.ls[i].name, p->c.ls[i].vip,
							   p->c.ls[i].port) < 0)
			p->c.ls[i].retired = true;
	for (i = 0; i < nc->nlisteners; i++) {
		const struct listener *nl = &nc->ls[i];

		at = find_listener(&p->c, nl->name, nl->vip, nl->port);
		if (at < 0) {
			if (p->c.nlisteners == MAX_LISTENERS) {
				snprintf(out, len,
						"error: more than %d listeners (retired ones "
						"count until a restart)",
						MAX_LISTENERS);
				return -1;
			}
			at = (int)p->c.nlisteners++;
			memset(&p->c.ls[at], 0, sizeof(p->c.ls[at]));
			memcpy(p->c.ls[at].name, nl->name, NAME_LEN);
			p->c.ls[at].port = nl->port;
			p->c.ls[at].vip = nl->vip;
			p->ls_new[at] = true;
		}
		listener_settings(&p->c.ls[at], nl);
		/* A pointer into the plan's pools: each lane maps it to its own. */
		p->c.ls[at].pool = &p->c.pools[find_pool(&p->c, nl->pool->name)];
	}
	p->c.stats_interval = nc->stats_interval;
	p->c.drain_timeout = nc->drain_timeout;
	p->c.log_rate = nc->log_rate;
	p->c.withdraw_wait_ms = nc->withdraw_wait_ms;
	return 0;
}

/* ---- applying it (every lane, on its own cfg) ---- */

static void
apply_pool(const struct reload_plan *p, uint32_t pi, unsigned int idx)
{
	const struct pool *pp = &p->c.pools[pi];
	struct pool *pool = &cfg.pools[pi];
	uint32_t k;

	if (p->pool_new[pi]) {
		memset(pool, 0, sizeof(*pool));
		memcpy(pool->name, pp->name, NAME_LEN);
		(void)lb_init(&pool->lb, pp->lb.algo); /* no memory for a table: below */
		TAILQ_INIT(&pool->wq);
	}
	pool_settings(pool, pp);
	if (pool->lb.algo == LB_ALGO_MAGLEV && pool->lb.table == NULL) {
		struct lb tmp;

		if (lb_init(&tmp, LB_ALGO_MAGLEV) == 0) {
			pool->lb.table = tmp.table;
			pool->lb.table_dirty = true;
		} else {
			fprintf(stderr,
					"l4proxy: pool %s: no memory for its Maglev table: "
					"round robin instead\n",
					pool->name);
			pool->lb.algo = LB_ALGO_ROUND_ROBIN;
		}
	}
	pool->backend_max_conns = lane_share(pp->backend_max_conns, idx);
	pool->retired = pp->retired;
	for (k = 0; k < pp->lb.n; k++) {
		const struct lb_backend *pb = &pp->lb.be[k];
		bool checked = pp->health_interval_ms > 0;

		if (p->be_new[pi][k]) {
			/* Up at once without checks; else when they pass (lane 0
			 * tells the others). */
			backend_slot_fill(pool, k, pb->ip, pb->port, pb->weight, !checked);
		} else if (pb->removed) {
			pool->lb.be[k].removed = true;
		} else {
			pool->lb.be[k].weight = pb->weight;
			pool->lb.be[k].current = 0;
		}
		pool->lb.be[k].max_conns = pool->backend_max_conns;
	}
	if (pool->lb.n < pp->lb.n)
		pool->lb.n = pp->lb.n;
	lb_changed(&pool->lb);
	wq_wake_head(&pool->wq);
}

static void
apply_listener(const struct reload_plan *p, uint32_t i, unsigned int idx)
{
	const struct listener *pl = &p->c.ls[i];
	struct listener *ls = &cfg.ls[i];
	uint32_t rate = lane_share(pl->max_rate, idx);

	if (p->ls_new[i]) {
		memset(ls, 0, sizeof(*ls));
		memcpy(ls->name, pl->name, NAME_LEN);
		ls->port = pl->port;
		ls->vip = pl->vip;
	}
	if (pl->retired) {
		listener_close(ls);
		ls->retired = true;
		return;
	}
	listener_settings(ls, pl);
	ls->pool = &cfg.pools[pl->pool - p->c.pools];
	ls->max_conns = lane_share(pl->max_conns, idx);
	if (rate != ls->max_rate || p->ls_new[i])
		rate_limit_init(&ls->rate, rate, ex_now_ns(host.ex));
	ls->max_rate = rate;
	if (p->ls_new[i])
		(void)listener_open(ls, idx == 0); /* a port taken: said, and left closed */
	else
		wq_wake_head(&ls->wq);
}

static void
apply(const struct reload_plan *p, unsigned int idx)
{
	uint32_t i;

	for (i = 0; i < p->c.npools; i++)
		apply_pool(p, i, idx);
	cfg.npools = p->c.npools;
	for (i = 0; i < p->c.nlisteners; i++)
		apply_listener(p, i, idx);
	cfg.nlisteners = p->c.nlisteners;
	cfg.stats_interval = p->c.stats_interval;
	cfg.drain_timeout = p->c.drain_timeout;
	cfg.withdraw_wait_ms = p->c.withdraw_wait_ms;
}

void
reload_apply_lane(void)
{
	unsigned int idx = 0;

	while (idx < nlanes && lanes[idx].cfg != &cfg)
		idx++;
	if (plan != NULL && idx < nlanes)
		apply(plan, idx);
}

/* Lane 0's part beyond apply(): the checks of what is new, the state and
 * weight every backend should have. */
static void
apply_lane0(const struct reload_plan *p)
{
	uint64_t now = ex_now_ns(host.ex);
	uint32_t i, k;

	for (i = 0; i < p->c.npools; i++) {
		struct pool *pool = &cfg.pools[i];

		for (k = 0; k < pool->lb.n; k++) {
			if (pool->lb.be[k].removed)
				continue;
			if (p->be_new[i][k]) {
				backend_ctl_init(pool, k);
				health_backend_added(pool, k);
			}
			pool->ctl[k].weight = p->c.pools[i].lb.be[k].weight;
			backend_apply(pool, k, now);
		}
	}
}

int
reload_run(char *out, size_t len)
{
	struct reload_plan *np;
	struct config *nc;

	if (reload_file == NULL) {
		snprintf(out, len, "error: no --config file to read again (flags only)");
		return -1;
	}
	if (!lanes_settled()) {
		snprintf(out, len,
				"error: the last change is still reaching every lcore: try again");
		return -1;
	}
	nc = calloc(1, sizeof(*nc));
	np = calloc(1, sizeof(*np));
	if (nc == NULL || np == NULL) {
		free(nc);
		free(np);
		snprintf(out, len, "error: no memory");
		return -1;
	}
	if (load(reload_file, nc) != 0 || lanes_check_limits(nc, nlanes) != 0) {
		snprintf(out, len,
				"error: %s refused (the reason is on stderr); the running "
				"configuration is unchanged",
				reload_file);
		goto fail;
	}
	if (nc->max_pairs != lanes_max_pairs() || nc->metrics_port != cfg.metrics_port ||
			strcmp(nc->log, cfg.log) != 0 || nc->ncluster != cfg.ncluster ||
			memcmp(nc->cluster, cfg.cluster, sizeof(cfg.cluster)) != 0) {
		snprintf(out, len,
				"error: %s changes max_pairs, metrics_port, log or cluster, which "
				"need a restart; the running configuration is unchanged",
				reload_file);
		goto fail;
	}
	if (make_plan(np, nc, out, len) != 0)
		goto fail;
	free(plan); /* every lane applied it (settled, above) */
	plan = np;
	apply(plan, 0);
	/* The others apply the plan before any weight or state lane 0 sends
	 * next (the channel keeps the order). */
	lanes_broadcast(CTL_RELOAD, 0, 0, 0);
	apply_lane0(plan);
	reloads++;
	snprintf(out, len,
			"ok: reloaded %s (reload %u): %u pools, %u listeners; backends %u kept, "
			"%u added, %u out (pairs on them run on)",
			reload_file, reloads, nc->npools, nc->nlisteners, plan->kept, plan->added,
			plan->removed);
	free(nc);
	return 0;
fail:
	free(nc);
	free(np);
	return -1;
}

void
reload_fini(void)
{
	free(plan);
	plan = NULL;
}
