/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * stats.c - l4proxy's figures: printed at an interval and at exit, and read
 * through DPDK telemetry (/l4proxy/stats, /l4proxy/pools,
 * /l4proxy/backends,POOL; /l4proxy/lcores, each lane's figures; the
 * commands that change backends are runtime.c's). With several
 * lanes (lanes.c) every figure is the sum of the lanes' own counters, read
 * where each lane keeps them; /l4proxy/lcores shows them one by one.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_telemetry.h>

#include "ex_executor.h"
#include "ipv4_addr.h"
#include "l4proxy.h"
#include "stack.h"

static const char *
backend_state(const struct lb_backend *b)
{
	return b->draining ? "draining" : b->up ? "up" : "down";
}

void
print_stats(const char *when)
{
	uint32_t i, k;

	printf("l4proxy: stats (%s)%s\n", when, nlanes > 1 ? ", every lcore summed" : "");
	for (i = 0; i < cfg.nlisteners; i++) {
		struct listener t;

		if (cfg.ls[i].retired)
			continue; /* closed by a reload */
		lanes_listener_sum(i, &t);
		printf("l4proxy:   listener %-10s port %-5u conns %" PRIu64 " active %" PRIu64
		       " refused %" PRIu64 " no_backend %" PRIu64 " queued %" PRIu64
		       " waiting %" PRIu64 " queue_timeouts %" PRIu64 "\n",
				cfg.ls[i].name, cfg.ls[i].port, t.conns, t.active, t.refused,
				t.no_backend, t.queued, t.queued_now, t.queue_timeouts);
	}
	for (i = 0; i < cfg.npools; i++) {
		const struct pool *pool = &cfg.pools[i];

		for (k = 0; k < pool->lb.n; k++) {
			const struct lb_backend *b = &pool->lb.be[k];
			struct backend_stats s;
			uint32_t active;
			char a[32];

			if (b->removed)
				continue;
			lanes_backend_sum(i, k, &s, &active);
			fmt_addr(a, sizeof(a), b->ip, b->port);
			printf("l4proxy:   pool %-8s backend %-21s %-8s conns %" PRIu64
			       " active %u bytes_up %" PRIu64 " bytes_down %" PRIu64
			       " connect_failures %" PRIu64 "\n",
					pool->name, a, backend_state(b), s.conns, active,
					s.bytes_up, s.bytes_down, s.connect_failures);
		}
	}
	for (k = 0; nlanes > 1 && k < nlanes; k++) {
		const struct lane *l = &lanes[k];
		uint64_t active = 0, conns = 0;

		for (i = 0; l->cfg != NULL && i < l->cfg->nlisteners; i++) {
			active += l->cfg->ls[i].active;
			conns += l->cfg->ls[i].conns;
		}
		printf("l4proxy:   lcore %-3u conns %" PRIu64 " active %" PRIu64
		       " steering kept %" PRIu64 " handed on %" PRIu64 " control messages %" PRIu64
		       "\n",
				l->lcore, conns, active, lane_kept(l), lane_handed_on(l),
				l->ctl_received);
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

/* ---- the gate: no command runs while the lanes go down ----
 *
 * DPDK's telemetry threads call the commands at any time, and 22.11 cannot
 * unregister one: a command answered while the lanes were being freed read
 * freed memory (found by l4proxyctl bgp, which asks every 200 ms, through a
 * drain). Every command goes through tel_gate(), which runs it under a read
 * lock while the gate is open; tel_close() takes the write lock before the
 * lanes stop. A runtime command waiting on lane 0 then waits at most its
 * RT_WAIT_MS. */
#define TEL_CMDS_MAX 24
static pthread_rwlock_t tel_lock = PTHREAD_RWLOCK_INITIALIZER;
static bool tel_is_open;
static struct {
	const char *cmd;
	telemetry_cb fn;
} tel_cmds[TEL_CMDS_MAX];
static unsigned int tel_ncmds;

static int
tel_gate(const char *cmd, const char *params, struct rte_tel_data *d)
{
	int rc = -EBUSY;
	unsigned int i;

	pthread_rwlock_rdlock(&tel_lock);
	for (i = 0; tel_is_open && i < tel_ncmds; i++)
		if (strcmp(cmd, tel_cmds[i].cmd) == 0) {
			rc = tel_cmds[i].fn(cmd, params, d);
			break;
		}
	pthread_rwlock_unlock(&tel_lock);
	return rc;
}

void
tel_register(const char *cmd, telemetry_cb fn, const char *help)
{
	if (tel_ncmds == TEL_CMDS_MAX) {
		fprintf(stderr, "l4proxy: telemetry: no room for %s\n", cmd);
		return;
	}
	tel_cmds[tel_ncmds].cmd = cmd;
	tel_cmds[tel_ncmds++].fn = fn;
	rte_telemetry_register_cmd(cmd, tel_gate, help);
}

void
tel_open(void)
{
	pthread_rwlock_wrlock(&tel_lock);
	tel_is_open = true;
	pthread_rwlock_unlock(&tel_lock);
}

void
tel_close(void)
{
	pthread_rwlock_wrlock(&tel_lock);
	tel_is_open = false;
	pthread_rwlock_unlock(&tel_lock);
}

/* Start reply d as a dict and make the columns names[] for it ("s:" before
 * a name makes it a string column). */
int
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
void
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
	const struct config *c = lanes[0].cfg;
	const struct stack_host *h = lanes[0].host;
	const struct ip_iface *st = h->tcp.st;
	struct tel_table t;
	struct ex_stats es;
	char key[64];
	uint32_t i, k;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (i = 0; i < c->nlisteners; i++) {
		const struct listener *ls = &c->ls[i];
		struct listener sum;

		if (ls->retired)
			continue;
		lanes_listener_sum(i, &sum);
		rte_tel_data_add_array_string(t.col[0], ls->name);
		rte_tel_data_add_array_u64(t.col[1], ls->port);
		rte_tel_data_add_array_string(t.col[2], ls->pool->name);
		rte_tel_data_add_array_u64(t.col[3], sum.conns);
		rte_tel_data_add_array_u64(t.col[4], sum.active);
		rte_tel_data_add_array_u64(t.col[5], sum.refused);
		rte_tel_data_add_array_u64(t.col[6], sum.no_backend);
		rte_tel_data_add_array_u64(t.col[7], sum.queued);
		rte_tel_data_add_array_u64(t.col[8], sum.queued_now);
		rte_tel_data_add_array_u64(t.col[9], sum.queue_timeouts);
	}
	tel_table_add(&t, d, "listener_");
	rte_tel_data_add_dict_u64(d, "lcores", nlanes);
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
	/* The stack's and executor's figures: lane 0's (every lane's in
	 * /l4proxy/lcores). */
	ex_stats_read(h->ex, &es);
	rte_tel_data_add_dict_u64(d, "executor_tasks_live", es.tasks_live);
	rte_tel_data_add_dict_u64(d, "executor_tasks_spawned", es.tasks_spawned);
	rte_tel_data_add_dict_u64(d, "executor_spawn_failed", es.spawn_failed);
	rte_tel_data_add_dict_u64(d, "executor_polls", es.polls);
	rte_tel_data_add_dict_u64(d, "executor_loops", es.loops);
	rte_tel_data_add_dict_u64(d, "executor_timers_fired", es.timers_fired);
	rte_tel_data_add_dict_u64(d, "executor_idle_sleeps", es.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "executor_idle_event_sleeps", es.idle_event_sleeps);
	rte_tel_data_add_dict_u64(d, "executor_idle_event_wakes", es.idle_event_wakes);
	rte_tel_data_add_dict_u64(d, "executor_idle_coalesce_waits", es.idle_coalesce_waits);
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
	const struct config *c = lanes[0].cfg;
	struct tel_table t;
	uint32_t i, k;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (i = 0; i < c->npools; i++) {
		const struct pool *pool = &c->pools[i];
		uint64_t n = 0, up = 0, draining = 0, conns = 0, active = 0;

		if (pool->retired)
			continue;
		for (k = 0; k < pool->lb.n; k++) {
			struct backend_stats bs;
			uint32_t a;

			if (pool->lb.be[k].removed)
				continue;
			n++;
			lanes_backend_sum(i, k, &bs, &a);
			up += pool->lb.be[k].up && !pool->lb.be[k].draining;
			draining += pool->lb.be[k].draining;
			conns += bs.conns;
			active += a;
		}
		rte_tel_data_add_array_string(t.col[0], pool->name);
		rte_tel_data_add_array_string(t.col[1], lb_algo_name(pool->lb.algo));
		rte_tel_data_add_array_u64(t.col[2], n);
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
	static const char *const cols[] = { "s:addr", "s:state", "s:health", "weight", "conns",
		"active", "bytes_up", "bytes_down", "connect_failures" };
	const struct pool *pool;
	struct tel_table t;
	char a[32];
	uint32_t k;

	(void)cmd;
	if (params == NULL || params[0] == '\0')
		return -EINVAL;
	if ((pool = pool_find_in(lanes[0].cfg, params)) == NULL)
		return -ENOENT;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (k = 0; k < pool->lb.n; k++) {
		const struct lb_backend *b = &pool->lb.be[k];
		struct backend_stats bs;
		uint32_t active;

		if (b->removed)
			continue;
		lanes_backend_sum((uint32_t)(pool - lanes[0].cfg->pools), k, &bs, &active);
		fmt_addr(a, sizeof(a), b->ip, b->port);
		rte_tel_data_add_array_string(t.col[0], a);
		rte_tel_data_add_array_string(t.col[1], backend_state(b));
		rte_tel_data_add_array_string(t.col[2], b->up ? "up" : "down");
		rte_tel_data_add_array_u64(t.col[3], b->weight);
		rte_tel_data_add_array_u64(t.col[4], bs.conns);
		rte_tel_data_add_array_u64(t.col[5], active);
		rte_tel_data_add_array_u64(t.col[6], bs.bytes_up);
		rte_tel_data_add_array_u64(t.col[7], bs.bytes_down);
		rte_tel_data_add_array_u64(t.col[8], bs.connect_failures);
	}
	tel_table_add(&t, d, "");
	return 0;
}

/* /l4proxy/lcores: a table, one row per lane. */
static int
tel_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	static const char *const cols[] = { "lcore", "pairs", "conns", "steer_kept",
		"steer_handed_on", "rx_frames", "tx_frames", "tcp_segs_in", "tcp_segs_out",
		"control_messages" };
	struct tel_table t;
	unsigned int k;
	uint32_t i;

	(void)cmd;
	if (params != NULL && params[0] != '\0')
		return -EINVAL;
	if (tel_table_start(&t, d, cols, RTE_DIM(cols)) != 0)
		return -ENOMEM;
	for (k = 0; k < nlanes; k++) {
		const struct lane *l = &lanes[k];
		uint64_t active = 0, conns = 0;

		for (i = 0; l->cfg != NULL && i < l->cfg->nlisteners; i++) {
			active += l->cfg->ls[i].active;
			conns += l->cfg->ls[i].conns;
		}
		rte_tel_data_add_array_u64(t.col[0], l->lcore);
		rte_tel_data_add_array_u64(t.col[1], active);
		rte_tel_data_add_array_u64(t.col[2], conns);
		rte_tel_data_add_array_u64(t.col[3], lane_kept(l));
		rte_tel_data_add_array_u64(t.col[4], lane_handed_on(l));
		rte_tel_data_add_array_u64(t.col[5], l->host ? l->host->st.stats.rx_frames : 0);
		rte_tel_data_add_array_u64(t.col[6], l->host ? l->host->st.stats.tx_frames : 0);
		rte_tel_data_add_array_u64(t.col[7], l->host ? l->host->tcp.stats.segs_in : 0);
		rte_tel_data_add_array_u64(t.col[8], l->host ? l->host->tcp.stats.segs_out : 0);
		rte_tel_data_add_array_u64(t.col[9], l->ctl_received);
	}
	tel_table_add(&t, d, "");
	return 0;
}

void
print_exit_stats(const struct lane *l)
{
	struct ex_executor *ex = host.ex;
	struct ex_stats es;

	if (nlanes > 1)
		printf("%s: lcore %u: steering kept %" PRIu64 " handed to other lcores %" PRIu64
		       " arp copies %" PRIu64 "; control messages %" PRIu64 " (lost %" PRIu64 ")\n",
				host.name, l->lcore, stack_host_steer_kept(&host),
				stack_host_steer_steered(&host), host.steer.arp_copies,
				l->ctl_received, l->ctl_lost);
	/* Busy: loop iterations that did work; idle polling is not counted
	 * (a diagnostic: scripts/bench/proxy.sh bills the CPU from /proc). */
	ex_stats_read(ex, &es);
	printf("%s: executor busy %.6f s idle %.6f s\n", host.name,
			(double)es.busy_cycles / (double)rte_get_tsc_hz(),
			(double)es.idle_cycles / (double)rte_get_tsc_hz());
	printf("%s: idle sleeps %" PRIu64 " (on rx events %" PRIu64 ", woken early %" PRIu64
	       "; %s)\n",
			host.name, es.idle_sleeps, es.idle_event_sleeps, es.idle_event_wakes,
			cfg.busy_poll             ? "busy-poll"
			: ex_sleeps_on_events(ex) ? "sleeps on the rx queue's events"
						  : "naps: the port has no rx event");
	if (cfg.rx_coalesce_us != 0)
		printf("%s: rx coalesce %u us after %u busy wake-ups: napped %" PRIu64
		       " times under load\n",
				host.name, cfg.rx_coalesce_us, cfg.rx_coalesce_after,
				es.idle_coalesce_waits);
	printf("%s: tx %" PRIu64 " packets in %" PRIu64 " sends, %" PRIu64
	       " dropped by the PMD (tx hold %u us, sends held back %" PRIu64 " times)\n",
			host.name, host.tx[0].stats.pkts, host.tx[0].stats.bursts,
			host.tx[0].stats.dropped, cfg.tx_hold_us, host.tx[0].stats.held);
	stack_host_print_stats(&host, stdout);
}

void
telemetry_register(void)
{
	tel_register("/l4proxy/stats", tel_stats,
			"Listeners, the stack's counters and drops, the executor. No parameters.");
	tel_register("/l4proxy/pools", tel_pools,
			"Each pool: algorithm, backends up/draining, conns. No parameters.");
	tel_register("/l4proxy/backends", tel_backends,
			"Every backend of a pool, with its state and counters. Parameter: POOL.");
	tel_register("/l4proxy/lcores", tel_lcores,
			"Each lcore's lane: pairs, conns, steering, frames, segments. No parameters.");
}
