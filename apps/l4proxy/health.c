/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * health.c - what decides a backend's state and weight, on lane 0:
 *
 *   - active health checks: a task per backend of every pool with
 *     health_interval_ms > 0, a check every interval within
 *     health_timeout_ms: a TCP connect, or (health_check = http) a request
 *     "METHOD PATH HTTP/1.0" whose status line must carry a status in
 *     http_check_status. rise good checks in a row bring a backend back,
 *     fall bad ones take it out. Established pairs are never cut by a check.
 *   - an agent (agent_port): HAProxy's agent-check. Every agent_interval_ms
 *     a connection to the backend's address on agent_port, whose first line
 *     says, in words separated by spaces or commas: "N%" (the weight, N % of
 *     the configured one; 0% is "drain"), "up"/"ready" (clears down and
 *     drain), "down"/"fail"/"stopped"/"maint" (out), "drain" (no new
 *     connections). An agent that does not answer changes nothing.
 *   - slow start (slow_start_ms): a backend that comes back into use (its
 *     checks, the agent, the runtime API's enable or add) ramps its weight
 *     from 1 to its full weight over that time, stepped on each supervisor
 *     tick (100 ms). Algorithms that ignore weights (roundrobin) ignore it.
 *
 * Every one of them writes pool->ctl[k]; backend_apply() makes the balancer
 * state follow (up = checks up and agent not down; draining = disabled or
 * agent drain; weight = configured x agent % x ramp) and sends each change
 * to the other lanes as a message (lanes.c).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"
#include "l4proxy.h"

/* ---- state and weight ---- */

uint16_t
backend_weight_now(const struct pool *pool, uint32_t k, uint64_t now_ns)
{
	const struct backend_ctl *c = &pool->ctl[k];
	uint64_t w = (uint64_t)c->weight * c->agent_pct / 100;

	if (c->ramp_from_ns != 0 && pool->slow_start_ms > 0) {
		uint64_t total = (uint64_t)pool->slow_start_ms * EX_NS_PER_MS;
		/* The clock the ramp began on may be a later read than now_ns. */
		uint64_t elapsed = now_ns > c->ramp_from_ns ? now_ns - c->ramp_from_ns : 0;

		if (elapsed < total)
			w = w * elapsed / total;
	}
	return (uint16_t)(w < 1 ? 1 : w > 1000 ? 1000 : w);
}

void
backend_apply(struct pool *pool, uint32_t k, uint64_t now_ns)
{
	struct lb_backend *b = &pool->lb.be[k];
	struct backend_ctl *c = &pool->ctl[k];
	uint32_t pi = (uint32_t)(pool - cfg.pools);
	bool up = c->health_up && !c->agent_down;
	bool drain = c->admin_drain || c->agent_drain;
	bool changed = false;
	uint16_t w;

	if (b->removed)
		return;
	/* Back into use: the ramp starts from here. */
	if (pool->slow_start_ms > 0 && up && !drain && !(b->up && !b->draining))
		c->ramp_from_ns = now_ns;
	w = backend_weight_now(pool, k, now_ns);
	if (up != b->up) {
		b->up = up; /* established pairs stay as they are */
		lanes_broadcast(up ? CTL_BACKEND_UP : CTL_BACKEND_DOWN, pi, k, 0);
		changed = true;
	}
	if (drain != b->draining) {
		b->draining = drain;
		lanes_broadcast(drain ? CTL_BACKEND_DRAIN : CTL_BACKEND_ENABLE, pi, k, 0);
		changed = true;
	}
	if (w != b->weight) {
		b->weight = w;
		b->current = 0;
		lanes_broadcast(CTL_BACKEND_WEIGHT, pi, k, w);
		changed = true;
	}
	if (changed) {
		lb_changed(&pool->lb);
		wq_wake_head(&pool->wq);
	}
}

void
backends_ramp(uint64_t now_ns)
{
	uint32_t i, k;

	for (i = 0; i < cfg.npools; i++) {
		struct pool *p = &cfg.pools[i];

		for (k = 0; p->slow_start_ms > 0 && k < p->lb.n; k++) {
			struct backend_ctl *c = &p->ctl[k];
			char a[32];

			if (c->ramp_from_ns == 0)
				continue;
			if (now_ns > c->ramp_from_ns &&
					now_ns - c->ramp_from_ns >=
							(uint64_t)p->slow_start_ms * EX_NS_PER_MS) {
				c->ramp_from_ns = 0;
				fmt_addr(a, sizeof(a), p->lb.be[k].ip, p->lb.be[k].port);
				printf("l4proxy: pool %s: backend %s: slow start over, weight %u\n",
						p->name, a, backend_weight_now(p, k, now_ns));
			}
			backend_apply(p, k, now_ns);
		}
	}
}

/* ---- one check: a connect, an HTTP request, or an agent's line ---- */

enum probe_kind {
	PROBE_TCP = 0,
	PROBE_HTTP,
	PROBE_AGENT,
};

enum probe_stage {
	PROBE_CONNECT = 0,
	PROBE_WRITE,
	PROBE_READ,
};

struct probe {
	struct ex_future base;
	enum probe_kind kind;
	enum probe_stage stage;
	const struct pool *pool;
	struct tcp_connect conn;
	struct tcp_conn *c;
	struct tcp_write w;
	struct tcp_read_until rd;
	uint32_t req_len;
	char req[224];
	char line[128]; /* the status line, or the agent's */
};

static enum ex_poll
probe_end(struct ex_future *f, struct probe *p, int32_t result)
{
	if (p->c != NULL)
		tcp_close(p->c); /* a reset if the answer had more to read */
	p->c = NULL;
	f->result = result;
	return EX_READY;
}

/* "HTTP/1.x NNN ...": NNN within the pool's range? */
static bool
http_status_ok(const struct pool *pool, const char *line)
{
	unsigned int minor, status;

	return sscanf(line, "HTTP/1.%u %3u", &minor, &status) == 2 &&
	       status >= pool->http_status_lo && status <= pool->http_status_hi;
}

static enum ex_poll
probe_poll(struct ex_future *f, struct ex_context *cx)
{
	struct probe *p = EX_CONTAINER_OF(f, struct probe, base);

	for (;;) {
		switch (p->stage) {
		case PROBE_CONNECT:
			if (ex_await(&p->conn.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (p->conn.base.result < 0)
				return probe_end(f, p, p->conn.base.result);
			p->c = p->conn.conn;
			if (p->kind == PROBE_TCP)
				return probe_end(f, p, 0);
			if (p->kind == PROBE_AGENT) {
				tcp_read_until_init(
						&p->rd, p->c, '\n', p->line, sizeof(p->line) - 1);
				p->stage = PROBE_READ;
				continue;
			}
			tcp_write_init(&p->w, p->c, p->req, p->req_len);
			p->stage = PROBE_WRITE;
			continue;
		case PROBE_WRITE:
			if (ex_await(&p->w.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (p->w.base.result != (int32_t)p->req_len)
				return probe_end(f, p, -EIO);
			tcp_read_until_init(&p->rd, p->c, '\n', p->line, sizeof(p->line) - 1);
			p->stage = PROBE_READ;
			continue;
		case PROBE_READ:
			if (ex_await(&p->rd.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (p->rd.base.result <= 0)
				return probe_end(f, p, -EPROTO);
			p->line[p->rd.base.result] = '\0';
			if (p->kind == PROBE_HTTP && !http_status_ok(p->pool, p->line))
				return probe_end(f, p, -EPROTO);
			return probe_end(f, p, 0);
		}
	}
}

static void
probe_drop(struct ex_future *f)
{
	struct probe *p = EX_CONTAINER_OF(f, struct probe, base);

	if (p->stage == PROBE_CONNECT)
		ex_future_drop(&p->conn.base);
	else if (p->stage == PROBE_WRITE)
		ex_future_drop(&p->w.base);
	else
		ex_future_drop(&p->rd.base);
	if (p->c != NULL)
		tcp_abort(p->c);
	p->c = NULL;
}

static const struct ex_future_ops probe_ops = {
	.poll = probe_poll,
	.drop = probe_drop,
	.name = "l4_probe",
};

static void
probe_init(struct probe *p, enum probe_kind kind, const struct pool *pool, uint32_t k)
{
	const struct lb_backend *b = &pool->lb.be[k];
	char a[32];
	int n;

	ex_future_init(&p->base, &probe_ops);
	p->kind = kind;
	p->stage = PROBE_CONNECT;
	p->pool = pool;
	p->c = NULL;
	tcp_connect_init(&p->conn, &host.tcp, b->ip,
			kind == PROBE_AGENT ? (uint16_t)pool->agent_port : b->port);
	if (kind == PROBE_HTTP) {
		fmt_addr(a, sizeof(a), b->ip, b->port);
		n = snprintf(p->req, sizeof(p->req),
				"%s HTTP/1.0\r\nHost: %s\r\nUser-Agent: riptide-l4proxy\r\n"
				"Connection: close\r\n\r\n",
				pool->http_check, a);
		p->req_len = n > 0 && (size_t)n < sizeof(p->req) ? (uint32_t)n : 0;
	}
}

/* ---- the tasks ---- */

enum health_state {
	HEALTH_STATE_SLEEP = 0,
	HEALTH_STATE_CHECK,
};

struct health {
	struct ex_future base;
	struct pool *pool;
	int i;
	bool agent; /* the agent's task, not the checks' */
	enum health_state state;
	struct ex_sleep sl;
	struct probe pr;
	struct ex_timeout to;
	bool running;
};

/* One slot per backend slot of every pool: [pool * LB_MAX_BACKENDS + k],
 * checks and agents apart. */
static struct health *health, *agents;

static void
health_verdict(struct pool *pool, int i, bool ok)
{
	struct lb_backend *b = &pool->lb.be[i];
	struct backend_stats *s = &pool->bs[i];
	struct backend_ctl *c = &pool->ctl[i];
	char a[32];

	if (b->removed)
		return;
	fmt_addr(a, sizeof(a), b->ip, b->port);
	if (ok) {
		s->fall_run = 0;
		if (!c->health_up && ++s->rise_run >= pool->rise) {
			c->health_up = true;
			backend_apply(pool, (uint32_t)i, ex_now_ns(host.ex));
			printf("l4proxy: pool %s: backend %s is up%s\n", pool->name, a,
					pool->slow_start_ms > 0 && b->up ? " (slow start)" : "");
		}
	} else {
		s->rise_run = 0;
		if (c->health_up && ++s->fall_run >= pool->fall) {
			c->health_up = false;
			backend_apply(pool, (uint32_t)i, ex_now_ns(host.ex));
			printf("l4proxy: pool %s: backend %s is down\n", pool->name, a);
		}
	}
}

/* The agent's line: its words, in order. */
static void
agent_verdict(struct pool *pool, int i, char *line)
{
	struct backend_ctl *c = &pool->ctl[i], was = *c;
	const struct lb_backend *b = &pool->lb.be[i];
	char *save = NULL, *w, a[32];

	if (b->removed)
		return;
	line[strcspn(line, "\r\n")] = '\0';
	for (w = strtok_r(line, " ,\t", &save); w != NULL; w = strtok_r(NULL, " ,\t", &save)) {
		size_t n = strlen(w);
		char *end;

		if (n > 1 && w[n - 1] == '%') {
			unsigned long pct = strtoul(w, &end, 10);

			if (end != w + n - 1 || !isdigit((unsigned char)w[0]) || pct > 1000)
				continue; /* not a percentage: ignored, as unknown words */
			c->agent_drain = pct == 0;
			c->agent_pct = (uint8_t)(pct > 250 ? 250 : pct == 0 ? c->agent_pct : pct);
		} else if (strcasecmp(w, "up") == 0 || strcasecmp(w, "ready") == 0) {
			c->agent_down = false;
			c->agent_drain = false;
		} else if (strcasecmp(w, "down") == 0 || strcasecmp(w, "fail") == 0 ||
				strcasecmp(w, "stopped") == 0 || strcasecmp(w, "maint") == 0) {
			c->agent_down = true;
		} else if (strcasecmp(w, "drain") == 0) {
			c->agent_drain = true;
		}
	}
	if (memcmp(&was, c, sizeof(was)) == 0)
		return;
	backend_apply(pool, (uint32_t)i, ex_now_ns(host.ex));
	fmt_addr(a, sizeof(a), b->ip, b->port);
	printf("l4proxy: pool %s: backend %s: agent: %s%s%u%% of weight %u\n", pool->name, a,
			c->agent_down ? "down, " : "", c->agent_drain ? "drain, " : "",
			c->agent_pct, c->weight);
}

static uint64_t
task_interval_ns(const struct health *h)
{
	return (uint64_t)(h->agent ? h->pool->agent_interval_ms : h->pool->health_interval_ms) *
	       EX_NS_PER_MS;
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
			probe_init(&h->pr,
					h->agent                              ? PROBE_AGENT
					: h->pool->check == HEALTH_CHECK_HTTP ? PROBE_HTTP
									      : PROBE_TCP,
					h->pool, (uint32_t)h->i);
			ex_timeout_init(&h->to, &h->pr.base,
					(uint64_t)h->pool->health_timeout_ms * EX_NS_PER_MS);
			h->state = HEALTH_STATE_CHECK;
			continue;
		case HEALTH_STATE_CHECK:
			if (ex_await(&h->to.base, cx) == EX_PENDING)
				return EX_PENDING;
			if (!h->agent)
				health_verdict(h->pool, h->i, h->to.base.result == 0);
			else if (h->to.base.result == 0)
				agent_verdict(h->pool, h->i, h->pr.line);
			ex_sleep_init(&h->sl, task_interval_ns(h));
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
task_spawn(struct health *arr, bool agent, struct pool *p, uint32_t k, uint64_t first_ns)
{
	struct health *h = &arr[(p - cfg.pools) * LB_MAX_BACKENDS + k];

	ex_future_init(&h->base, &health_ops);
	h->pool = p;
	h->i = (int)k;
	h->agent = agent;
	h->state = HEALTH_STATE_SLEEP;
	h->running = true;
	ex_sleep_init(&h->sl, first_ns);
	ex_spawn(&h->base, NULL, NULL);
}

int
health_start(void)
{
	uint32_t i, k;

	/* Every pool a reload may add has its places. */
	health = calloc(MAX_POOLS * LB_MAX_BACKENDS, sizeof(*health));
	agents = calloc(MAX_POOLS * LB_MAX_BACKENDS, sizeof(*agents));
	if (health == NULL || agents == NULL)
		return -ENOMEM;
	for (i = 0; i < cfg.npools; i++) {
		struct pool *p = &cfg.pools[i];

		/* Spread the first checks over one interval. */
		for (k = 0; p->health_interval_ms > 0 && k < p->lb.n; k++)
			task_spawn(health, false, p, k,
					(uint64_t)p->health_interval_ms * EX_NS_PER_MS * (k + 1) /
							p->lb.n);
		for (k = 0; p->agent_port > 0 && k < p->lb.n; k++)
			task_spawn(agents, true, p, k,
					(uint64_t)p->agent_interval_ms * EX_NS_PER_MS * (k + 1) /
							p->lb.n);
	}
	return 0;
}

void
health_backend_added(struct pool *pool, uint32_t k)
{
	size_t at = (size_t)(pool - cfg.pools) * LB_MAX_BACKENDS + k;

	if (health == NULL)
		return;
	/* A removed backend's task that has not woken yet checks the new one. */
	if (pool->health_interval_ms > 0 && !health[at].running)
		task_spawn(health, false, pool, k,
				(uint64_t)pool->health_interval_ms * EX_NS_PER_MS);
	if (pool->agent_port > 0 && !agents[at].running)
		task_spawn(agents, true, pool, k, (uint64_t)pool->agent_interval_ms * EX_NS_PER_MS);
}

void
health_fini(void)
{
	free(health);
	free(agents);
	health = agents = NULL;
}
