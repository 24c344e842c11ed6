/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_bench.c - executor microbenchmark: the cost of each basic operation.
 *
 * Usage: ex_bench [EAL args] -- [--op NAME] [--iters N]
 *   ops: spawn, wake, remote_wake, timer_arm_cancel, timer_fire_1m, idle_loop
 *   (default: all, each printed as "op ns_per_op extra")
 *
 * Each op runs inside its own noinline function bench_<op>(), so
 * `valgrind --tool=callgrind --toggle-collect=bench_<op>` counts exactly the
 * instructions of the measured loop; scripts/bench/executor.sh does that and
 * divides by the iteration count. Time comes from the TSC around the same
 * loop. Run pinned (EAL -l CORE) on a release build.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "ex_combinator.h"
#include "ex_executor.h"
#include "ex_timer.h"

#define BATCH 32

static struct ex_executor *ex;

/* A future that is pending until woken, then pending again: re-armable. */
struct parked {
	struct ex_future base;
	struct ex_waker waker;
};

static enum ex_poll
parked_poll(struct ex_future *f, struct ex_context *cx)
{
	EX_CONTAINER_OF(f, struct parked, base)->waker = cx->waker;
	return EX_PENDING;
}

static const struct ex_future_ops parked_ops = {
	.poll = parked_poll, .drop = NULL, .name = "parked"
};

static void
noop_timer(struct ex_timer *t)
{
	(void)t;
}

/* Spawn BATCH ready futures, run one loop iteration: spawn -> complete. */
static __attribute__((noinline, noclone)) void
bench_spawn(uint64_t iters)
{
	static struct ex_ready r[BATCH];
	uint64_t i;
	unsigned int j;

	for (i = 0; i < iters; i += BATCH) {
		for (j = 0; j < BATCH; j++) {
			ex_ready_init(&r[j], 0);
			if (ex_spawn_to(ex, &r[j].base, NULL, NULL) != 0)
				abort();
		}
		ex_run_once(ex);
	}
}

static struct parked wake_tasks[BATCH];
static struct ex_task_ref wake_refs[BATCH];

/* Wake BATCH parked local tasks, run one iteration that polls them. */
static __attribute__((noinline, noclone)) void
bench_wake(uint64_t iters)
{
	uint64_t i;
	unsigned int j;

	for (i = 0; i < iters; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			ex_waker_wake(&wake_tasks[j].waker);
		ex_run_once(ex);
	}
}

static struct ex_executor *peer;
static struct parked remote_tasks[BATCH];

/* Wake BATCH tasks of another executor: batched into the outbox, flushed
 * by our loop, drained and polled by the peer's loop (both on this core). */
static __attribute__((noinline, noclone)) void
bench_remote_wake(uint64_t iters)
{
	uint64_t i;
	unsigned int j;

	for (i = 0; i < iters; i += BATCH) {
		for (j = 0; j < BATCH; j++)
			ex_waker_wake(&remote_tasks[j].waker);
		ex_run_once(ex); /* flushes the outbox: one ring burst */
		ex_run_once(peer); /* drains its inbox and polls the tasks */
		ex_run_once(peer);
		ex_run_once(ex); /* back on our executor for the next wakes */
	}
}

static struct ex_wheel bench_wheel;
static struct ex_timer arm_timers[BATCH];

/* Arm then cancel, as TCP does with its retransmit timer on every ACK. */
static __attribute__((noinline, noclone)) void
bench_timer_arm_cancel(uint64_t iters)
{
	uint64_t i, base = 1000 * EX_NS_PER_MS;

	for (i = 0; i < iters; i++) {
		struct ex_timer *t = &arm_timers[i & (BATCH - 1)];

		ex_timer_arm(&bench_wheel, t, base + (i & 1023) * EX_NS_PER_US * 50, NULL);
		ex_timer_cancel(&bench_wheel, t);
	}
}

static struct ex_timer *million;

/* Fire 1M armed timers spread over 10 s, advancing 1 ms at a time. */
static __attribute__((noinline, noclone)) unsigned int
bench_timer_fire_1m(uint64_t start, uint64_t span)
{
	unsigned int fired = 0;
	uint64_t t;

	for (t = start; t <= start + span + EX_NS_PER_MS; t += EX_NS_PER_MS)
		fired += ex_wheel_advance(&bench_wheel, t);
	return fired;
}

/* One iteration of a loop with nothing to do. */
static __attribute__((noinline, noclone)) void
bench_idle_loop(uint64_t iters)
{
	uint64_t i;

	for (i = 0; i < iters; i++)
		ex_run_once(ex);
}

static long
rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = -1;
	fclose(f);
	return rss < 0 ? -1 : rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static double
ns_per(uint64_t cycles, uint64_t n)
{
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)n;
}

static int
run_op(const char *op, uint64_t iters)
{
	uint64_t t0, t1;
	unsigned int j;

	if (strcmp(op, "spawn") == 0) {
		bench_spawn(iters / 10); /* warm the pool and caches */
		t0 = rte_rdtsc();
		bench_spawn(iters);
		t1 = rte_rdtsc();
		printf("spawn %.2f\n", ns_per(t1 - t0, iters));
	} else if (strcmp(op, "wake") == 0) {
		for (j = 0; j < BATCH; j++) {
			ex_future_init(&wake_tasks[j].base, &parked_ops);
			if (ex_spawn_to(ex, &wake_tasks[j].base, NULL, &wake_refs[j]) != 0)
				return -1;
		}
		ex_run_once(ex);
		bench_wake(iters / 10);
		t0 = rte_rdtsc();
		bench_wake(iters);
		t1 = rte_rdtsc();
		printf("wake %.2f\n", ns_per(t1 - t0, iters));
		for (j = 0; j < BATCH; j++)
			ex_task_cancel(&wake_refs[j]);
		ex_run_once(ex);
	} else if (strcmp(op, "remote_wake") == 0) {
		struct ex_config cfg;

		ex_config_defaults(&cfg);
		cfg.name = "peer";
		cfg.max_tasks = 1024;
		/* The peer is another executor run by this same thread, so the
		 * measurement needs one core; lcore id 2 names it, no thread. */
		peer = ex_executor_create((rte_lcore_id() + 1) % RTE_MAX_LCORE, &cfg);
		if (peer == NULL)
			return -1;
		for (j = 0; j < BATCH; j++) {
			ex_future_init(&remote_tasks[j].base, &parked_ops);
			if (ex_spawn_to(peer, &remote_tasks[j].base, NULL, NULL) != 0)
				return -1;
		}
		ex_run_once(ex);
		ex_run_once(peer);
		ex_run_once(peer);
		ex_run_once(ex);
		bench_remote_wake(iters / 10);
		t0 = rte_rdtsc();
		bench_remote_wake(iters);
		t1 = rte_rdtsc();
		printf("remote_wake %.2f\n", ns_per(t1 - t0, iters));
		ex_executor_free(peer);
		ex_run_once(ex);
	} else if (strcmp(op, "timer_arm_cancel") == 0) {
		ex_wheel_init(&bench_wheel, EX_WHEEL_TICK_SHIFT_DEFAULT, 0);
		for (j = 0; j < BATCH; j++)
			ex_timer_init_callback(&arm_timers[j], noop_timer);
		bench_timer_arm_cancel(iters / 10);
		t0 = rte_rdtsc();
		bench_timer_arm_cancel(iters);
		t1 = rte_rdtsc();
		printf("timer_arm_cancel %.2f\n", ns_per(t1 - t0, iters));
	} else if (strcmp(op, "timer_fire_1m") == 0) {
		const uint64_t n = 1000000, span = 10 * EX_NS_PER_S;
		long rss0 = rss_kib(), rss1;
		uint64_t k, seed = 88172645463325252ull;
		unsigned int fired;

		ex_wheel_init(&bench_wheel, EX_WHEEL_TICK_SHIFT_DEFAULT, 0);
		million = calloc(n, sizeof(*million));
		if (million == NULL)
			return -1;
		for (k = 0; k < n; k++) {
			seed ^= seed << 13; /* xorshift: spread deadlines over the span */
			seed ^= seed >> 7;
			seed ^= seed << 17;
			ex_timer_init_callback(&million[k], noop_timer);
			ex_timer_arm(&bench_wheel, &million[k], seed % span, NULL);
		}
		rss1 = rss_kib();
		t0 = rte_rdtsc();
		fired = bench_timer_fire_1m(0, span);
		t1 = rte_rdtsc();
		printf("timer_fire_1m %.2f fired=%u timer_bytes=%zu wheel_bytes=%zu total_mib=%.1f "
		       "rss_delta_mib=%.1f\n",
				ns_per(t1 - t0, n), fired, sizeof(struct ex_timer),
				sizeof(struct ex_wheel),
				(double)(n * sizeof(struct ex_timer) + sizeof(struct ex_wheel)) /
						(1024.0 * 1024.0),
				(double)(rss1 - rss0) / 1024.0);
		free(million);
		if (fired != n)
			return -1;
	} else if (strcmp(op, "idle_loop") == 0) {
		bench_idle_loop(iters / 10);
		t0 = rte_rdtsc();
		bench_idle_loop(iters);
		t1 = rte_rdtsc();
		printf("idle_loop %.2f\n", ns_per(t1 - t0, iters));
	} else {
		fprintf(stderr, "ex_bench: unknown op '%s'\n", op);
		return -EINVAL;
	}
	return 0;
}

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL args] -- [--op NAME] [--iters N]\n"
	       "  ops: spawn wake remote_wake timer_arm_cancel timer_fire_1m idle_loop\n"
	       "  default: every op, 10M iterations (1M timers for timer_fire_1m)\n",
			prog);
}

int
main(int argc, char **argv)
{
	static const char *all[] = { "spawn", "wake", "remote_wake", "timer_arm_cancel",
		"timer_fire_1m", "idle_loop" };
	static const struct option opts[] = {
		{ "op", required_argument, NULL, 'o' },
		{ "iters", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *op = NULL;
	uint64_t iters = 10000000;
	struct ex_config cfg;
	int n, c, rc = 0;
	size_t i;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "ex_bench: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= n;
	argv += n;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			op = optarg;
			break;
		case 'n':
			iters = strtoull(optarg, NULL, 10);
			if (iters < BATCH * 10) {
				fprintf(stderr, "ex_bench: --iters must be >= %d\n", BATCH * 10);
				return 2;
			}
			iters -= iters % BATCH;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	ex_config_defaults(&cfg);
	cfg.name = "bench";
	ex = ex_executor_create(rte_lcore_id(), &cfg);
	if (ex == NULL) {
		fprintf(stderr, "ex_bench: executor: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	ex_run_once(ex);
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (op == NULL || strcmp(op, all[i]) == 0)
			rc |= run_op(all[i], iters);
	if (op != NULL && rc == 0) {
		int known = 0;

		for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
			known |= strcmp(op, all[i]) == 0;
		if (!known)
			rc = run_op(op, iters);
	}
	if (ex_tasks_live(ex) != 0) {
		fprintf(stderr, "ex_bench: %u tasks leaked\n", ex_tasks_live(ex));
		rc = 1;
	}
	ex_executor_free(ex);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
