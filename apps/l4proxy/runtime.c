/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * runtime.c - l4proxy's runtime API: backends changed while the proxy runs.
 *
 *   /l4proxy/backend_disable,POOL,ADDR:PORT   no new connections (a drain)
 *   /l4proxy/backend_enable,POOL,ADDR:PORT    new connections again
 *   /l4proxy/backend_weight,POOL,ADDR:PORT,W  weight 1..1000
 *   /l4proxy/backend_add,POOL,ADDR:PORT[,W]   a new backend (weight 1)
 *   /l4proxy/backend_remove,POOL,ADDR:PORT    out of the pool for good
 *   /l4proxy/drain,POOL,ADDR:PORT             the older name of disable
 *   /l4proxy/maglev,POOL                      the Maglev table's digest
 *   /l4proxy/reload                           the --config file again (reload.c)
 *
 * Each answers a string: "ok: ..." once the change is made, or "error: ..."
 * saying why nothing was changed. scripts/l4proxyctl wraps them.
 *
 * Telemetry's threads never touch a balancer: a request is handed to lane 0
 * through one slot (a sequence number telemetry bumps and lane 0 answers),
 * lane 0's supervisor applies it on its next tick (every 100 ms), logs it on
 * stdout, and sends it to every other lane as a control message (lanes.c),
 * so every lcore's balancer makes the same change. The asking thread waits
 * for the answer, up to RT_WAIT_MS. Requests from several telemetry clients
 * take turns on a mutex; lane 0 takes no lock.
 *
 * Established pairs are never cut: a disabled or removed backend keeps the
 * pairs it has until they end (they count in its figures while it is
 * listed). A removed backend's slot is reused by a later add only once no
 * lane has a pair on it and every lane has applied the removal. A backend
 * added to a pool with health checks starts down and comes up after `rise`
 * good checks; without checks it is up at once. Maglev rebuilds its table
 * from the new set: only the clients that must move, move.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_telemetry.h>

#include "ipv4_addr.h"
#include "l4proxy.h"

#define RT_WAIT_MS 3000
#define RT_REPLY_LEN 320

enum rt_op {
	RT_RELOAD = 0, /* not a backend's: the configuration file again */
	RT_DISABLE = 1,
	RT_ENABLE,
	RT_WEIGHT,
	RT_ADD,
	RT_REMOVE,
	RT_DIGEST, /* the pool's Maglev table digest (no change) */
};

struct rt_request {
	enum rt_op op;
	char pool[NAME_LEN];
	uint32_t ip;
	uint16_t port;
	uint16_t weight;
};

/* The one slot between telemetry's threads and lane 0. */
static pthread_mutex_t rt_lock = PTHREAD_MUTEX_INITIALIZER;
static struct rt_request rt_req;
static uint64_t rt_seq, rt_done; /* atomic: asked, answered */
static int rt_rc;
static char rt_reply[RT_REPLY_LEN];

void
backend_slot_fill(
		struct pool *pool, uint32_t k, uint32_t ip, uint16_t port, uint16_t weight, bool up)
{
	struct lb_backend *b = &pool->lb.be[k];

	memset(b, 0, sizeof(*b));
	b->ip = ip;
	b->port = port;
	b->weight = weight;
	b->up = up;
	b->max_conns = pool->backend_max_conns; /* this lane's share */
	memset(&pool->bs[k], 0, sizeof(pool->bs[k]));
	if (k >= pool->lb.n)
		pool->lb.n = k + 1;
	lb_changed(&pool->lb);
}

/* ---- on lane 0 ---- */

static int
find_backend(const struct pool *pool, uint32_t ip, uint16_t port)
{
	uint32_t k;

	for (k = 0; k < pool->lb.n; k++)
		if (!pool->lb.be[k].removed && pool->lb.be[k].ip == ip &&
				pool->lb.be[k].port == port)
			return (int)k;
	return -1;
}

/* A removed slot that no lane uses any more, else a new one; -1 if full. */
static int
free_slot(const struct pool *pool)
{
	uint32_t pi = (uint32_t)(pool - cfg.pools), k;

	for (k = 0; k < pool->lb.n; k++) {
		struct backend_stats s;
		uint32_t active;

		if (!pool->lb.be[k].removed || !lanes_settled())
			continue;
		lanes_backend_sum(pi, k, &s, &active);
		if (active == 0)
			return (int)k;
	}
	return pool->lb.n < LB_MAX_BACKENDS ? (int)pool->lb.n : -1;
}

static int
rt_apply(const struct rt_request *r, char *out, size_t len)
{
	struct pool *pool = pool_find(r->pool);
	struct lb_backend *b;
	uint32_t pi;
	char a[32];
	int k;

	if (r->op == RT_RELOAD) {
		if (proxy_stopping) {
			snprintf(out, len, "error: stopping: no reload");
			return -EBUSY;
		}
		return reload_run(out, len) == 0 ? 0 : -EINVAL;
	}
	fmt_addr(a, sizeof(a), r->ip, r->port);
	if (pool == NULL) {
		snprintf(out, len, "error: no pool '%s'", r->pool);
		return -ENOENT;
	}
	if (r->op == RT_DIGEST) {
		uint32_t in = 0;

		if (pool->lb.algo != LB_ALGO_MAGLEV) {
			snprintf(out, len, "error: pool %s balances by %s, not maglev", pool->name,
					lb_algo_name(pool->lb.algo));
			return -EINVAL;
		}
		for (k = 0; k < (int)pool->lb.n; k++)
			in += lb_in_table(&pool->lb.be[k]);
		snprintf(out, len,
				"ok: pool %s: maglev table of %u entries over %u backends, digest "
				"%016" PRIx64,
				pool->name, LB_MAGLEV_SIZE, in, lb_table_digest(&pool->lb));
		return 0;
	}
	pi = (uint32_t)(pool - cfg.pools);
	k = find_backend(pool, r->ip, r->port);
	if (r->op == RT_ADD) {
		bool checked = pool->health_interval_ms > 0;

		if (k >= 0) {
			snprintf(out, len, "error: pool %s has backend %s already", pool->name, a);
			return -EEXIST;
		}
		if ((k = free_slot(pool)) < 0) {
			snprintf(out, len,
					"error: pool %s is full (%u backends, or removed ones still "
					"carrying pairs)",
					pool->name, LB_MAX_BACKENDS);
			return -ENOSPC;
		}
		/* Added down everywhere; up below (its checks, or at once), so
		 * that slow start ramps it like any backend coming back. */
		backend_slot_fill(pool, (uint32_t)k, r->ip, r->port, r->weight, false);
		lanes_broadcast(CTL_BACKEND_ADD, pi, (uint32_t)k, r->weight);
		backend_ctl_init(pool, (uint32_t)k);
		pool->ctl[k].health_up = !checked;
		backend_apply(pool, (uint32_t)k, ex_now_ns(host.ex));
		health_backend_added(pool, (uint32_t)k);
		snprintf(out, len, "ok: pool %s: backend %s added, weight %u, %s", pool->name, a,
				r->weight,
				checked ? "down until its health checks pass"
					: "up (no health checks)");
		return 0;
	}
	if (k < 0) {
		snprintf(out, len, "error: pool %s has no backend %s", pool->name, a);
		return -ENOENT;
	}
	b = &pool->lb.be[k];
	switch (r->op) {
	case RT_DISABLE:
		pool->ctl[k].admin_drain = true;
		backend_apply(pool, (uint32_t)k, ex_now_ns(host.ex));
		snprintf(out, len, "ok: pool %s: backend %s draining (no new connections)",
				pool->name, a);
		break;
	case RT_ENABLE:
		pool->ctl[k].admin_drain = false;
		backend_apply(pool, (uint32_t)k, ex_now_ns(host.ex));
		snprintf(out, len, "ok: pool %s: backend %s enabled (%s)", pool->name, a,
				b->up                    ? "up"
				: pool->ctl[k].health_up ? "down by its agent"
							 : "down by its health checks");
		break;
	case RT_WEIGHT: {
		unsigned int was = pool->ctl[k].weight;

		pool->ctl[k].weight = r->weight;
		backend_apply(pool, (uint32_t)k, ex_now_ns(host.ex));
		snprintf(out, len, "ok: pool %s: backend %s weight %u (was %u)", pool->name, a,
				r->weight, was);
		break;
	}
	case RT_REMOVE: {
		struct backend_stats s;
		uint32_t active;

		b->removed = true;
		lanes_broadcast(CTL_BACKEND_REMOVE, pi, (uint32_t)k, 0);
		lb_changed(&pool->lb);
		wq_wake_head(&pool->wq);
		lanes_backend_sum(pi, (uint32_t)k, &s, &active);
		snprintf(out, len,
				"ok: pool %s: backend %s removed (%u pairs on it run on until they "
				"end)",
				pool->name, a, active);
		break;
	}
	default:
		snprintf(out, len, "error: unknown request");
		return -EINVAL;
	}
	return 0;
}

void
runtime_apply(void)
{
	uint64_t seq = __atomic_load_n(&rt_seq, __ATOMIC_ACQUIRE);

	if (seq == __atomic_load_n(&rt_done, __ATOMIC_RELAXED))
		return;
	rt_rc = rt_apply(&rt_req, rt_reply, sizeof(rt_reply));
	printf("l4proxy: runtime API: %s\n", rt_reply);
	fflush(stdout);
	__atomic_store_n(&rt_done, seq, __ATOMIC_RELEASE);
}

/* ---- on telemetry's threads ---- */

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Until lane 0 has answered request seq, or RT_WAIT_MS. */
static bool
wait_answered(uint64_t seq)
{
	unsigned int waited;

	for (waited = 0; waited < RT_WAIT_MS; waited += 2) {
		if (__atomic_load_n(&rt_done, __ATOMIC_ACQUIRE) == seq)
			return true;
		sleep_ms(2);
	}
	return false;
}

/* Hand r to lane 0 and wait for its answer. */
static int
rt_ask(const struct rt_request *r, char *out, size_t len)
{
	uint64_t seq;
	int rc;

	pthread_mutex_lock(&rt_lock);
	seq = __atomic_load_n(&rt_seq, __ATOMIC_RELAXED);
	/* A request that timed out before may still be in lane 0's hands. */
	if (!wait_answered(seq)) {
		pthread_mutex_unlock(&rt_lock);
		snprintf(out, len, "error: the proxy has not answered an earlier request yet");
		return -EBUSY;
	}
	rt_req = *r;
	__atomic_store_n(&rt_seq, seq + 1, __ATOMIC_RELEASE);
	if (!wait_answered(seq + 1)) {
		pthread_mutex_unlock(&rt_lock);
		snprintf(out, len,
				"error: the proxy did not answer within %u ms (stopping?); the "
				"change may still be made",
				RT_WAIT_MS);
		return -ETIMEDOUT;
	}
	rc = rt_rc;
	snprintf(out, len, "%s", rt_reply);
	pthread_mutex_unlock(&rt_lock);
	return rc;
}

/* "POOL,ADDR:PORT[,N]" into r; want_n: 0 no N, 1 N required, 2 N optional. */
static int
rt_parse(const char *params, struct rt_request *r, int want_n, char *out, size_t len)
{
	char buf[128], *addr, *num, *end;
	unsigned long n;

	if (params == NULL || params[0] == '\0' ||
			snprintf(buf, sizeof(buf), "%s", params) >= (int)sizeof(buf)) {
		snprintf(out, len, "error: parameters: POOL,ADDR:PORT%s",
				want_n == 1   ? ",WEIGHT"
				: want_n == 2 ? "[,WEIGHT]"
					      : "");
		return -EINVAL;
	}
	addr = strchr(buf, ',');
	if (addr == NULL) {
		snprintf(out, len, "error: '%s': want POOL,ADDR:PORT", params);
		return -EINVAL;
	}
	*addr++ = '\0';
	num = strchr(addr, ',');
	if (num != NULL)
		*num++ = '\0';
	if (strlen(buf) >= NAME_LEN) {
		snprintf(out, len, "error: no pool '%.40s'", buf);
		return -ENOENT;
	}
	memset(r, 0, sizeof(*r));
	snprintf(r->pool, sizeof(r->pool), "%s", buf);
	if (ipv4_parse_addr_port(addr, &r->ip, &r->port) != 0) {
		snprintf(out, len, "error: '%s' is not ADDR:PORT", addr);
		return -EINVAL;
	}
	r->weight = 1;
	if ((num == NULL && want_n == 1) || (num != NULL && want_n == 0)) {
		snprintf(out, len, "error: parameters: POOL,ADDR:PORT%s",
				want_n == 1 ? ",WEIGHT" : "");
		return -EINVAL;
	}
	if (num != NULL) {
		errno = 0;
		n = strtoul(num, &end, 10);
		if (num[0] < '0' || num[0] > '9' || *end != '\0' || errno != 0 || n < 1 ||
				n > 1000) {
			snprintf(out, len, "error: weight '%s': want a whole number 1..1000", num);
			return -EINVAL;
		}
		r->weight = (uint16_t)n;
	}
	return 0;
}

static int
tel_request(enum rt_op op, int want_n, const char *params, struct rte_tel_data *d)
{
	char out[RT_REPLY_LEN];
	struct rt_request r;

	if (rt_parse(params, &r, want_n, out, sizeof(out)) == 0) {
		r.op = op;
		rt_ask(&r, out, sizeof(out));
	}
	rte_tel_data_string(d, out);
	return 0;
}

/* /l4proxy/maglev,POOL: the digest (a change of nothing, read on lane 0,
 * where the table is). */
static int
tel_maglev(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char out[RT_REPLY_LEN];
	struct rt_request r;

	(void)cmd;
	memset(&r, 0, sizeof(r));
	r.op = RT_DIGEST;
	if (params == NULL || params[0] == '\0' || strlen(params) >= NAME_LEN)
		snprintf(out, sizeof(out), "error: parameter: POOL");
	else {
		snprintf(r.pool, sizeof(r.pool), "%s", params);
		rt_ask(&r, out, sizeof(out));
	}
	rte_tel_data_string(d, out);
	return 0;
}

static int
tel_reload(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char out[RT_REPLY_LEN];
	struct rt_request r;

	(void)cmd;
	memset(&r, 0, sizeof(r));
	r.op = RT_RELOAD;
	if (params != NULL && params[0] != '\0')
		snprintf(out, sizeof(out), "error: /l4proxy/reload takes no parameter");
	else
		rt_ask(&r, out, sizeof(out));
	rte_tel_data_string(d, out);
	return 0;
}

static int
tel_disable(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(RT_DISABLE, 0, params, d);
}

static int
tel_enable(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(RT_ENABLE, 0, params, d);
}

static int
tel_weight(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(RT_WEIGHT, 1, params, d);
}

static int
tel_add(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(RT_ADD, 2, params, d);
}

static int
tel_remove(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	return tel_request(RT_REMOVE, 0, params, d);
}

/* /l4proxy/drain: answers "draining", or nothing (an error) as it always has. */
static int
tel_drain(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char out[RT_REPLY_LEN];
	struct rt_request r;
	int rc;

	(void)cmd;
	if ((rc = rt_parse(params, &r, 0, out, sizeof(out))) != 0)
		return rc;
	r.op = RT_DISABLE;
	if ((rc = rt_ask(&r, out, sizeof(out))) != 0)
		return rc;
	rte_tel_data_string(d, "draining");
	return 0;
}

void
runtime_register(void)
{
	tel_register("/l4proxy/backend_disable", tel_disable,
			"No new connections to a backend (its pairs run on). Parameters: "
			"POOL,ADDR:PORT");
	tel_register("/l4proxy/backend_enable", tel_enable,
			"New connections to a disabled backend again. Parameters: POOL,ADDR:PORT");
	tel_register("/l4proxy/backend_weight", tel_weight,
			"Change a backend's weight. Parameters: POOL,ADDR:PORT,WEIGHT (1..1000)");
	tel_register("/l4proxy/backend_add", tel_add,
			"Add a backend to a pool. Parameters: POOL,ADDR:PORT[,WEIGHT]");
	tel_register("/l4proxy/backend_remove", tel_remove,
			"Remove a backend (its pairs run on). Parameters: POOL,ADDR:PORT");
	tel_register("/l4proxy/maglev", tel_maglev,
			"A Maglev pool's table digest: proxies with the same backends have the "
			"same. Parameter: POOL");
	tel_register("/l4proxy/reload", tel_reload,
			"Read the --config file again and apply it without dropping a connection. "
			"No parameters.");
	tel_register("/l4proxy/drain", tel_drain,
			"Stop new connections to a backend (backend_disable's older name). "
			"Parameters: POOL,ADDR:PORT");
}
