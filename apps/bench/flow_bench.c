/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flow_bench - TCP's flow table against rte_hash, measured: nanoseconds per
 * lookup of an existing 4-tuple, in random order, for tables of 1 Ki, 64 Ki
 * and 1 Mi connections, each structure filled with the same tuples. A
 * white-box benchmark: it reaches into tcp_priv.h, as the unit tests do, to
 * time the table alone.
 *
 *   flow_bench [EAL args] [-- --quick]   (e.g. -l 1 --no-pci --no-huge -m 2048)
 *
 * --quick: the 1 Ki table only (the test suite's smoke run). Every lookup
 * must find its connection in both structures, or it exits 1.
 *
 * One lcore; TSC-timed; prints one line per size with both figures and the
 * ratio (riptide / rte_hash; below 1 is faster).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_random.h>

#include "tcp_priv.h"

/* 16 bytes, kept 8-byte aligned in its array: rte_hash_crc reads the key
 * 8 bytes at a time. pad stays zero (calloc). */
struct tuple {
	uint32_t lip, rip;
	uint16_t lport, rport;
	uint32_t pad;
} __attribute__((aligned(8)));

static volatile uintptr_t sink;
static uint64_t missed;

static double
time_ours(struct tcp_stack *tcp, const struct tuple *t, const uint32_t *order, uint32_t n)
{
	uint64_t start = rte_rdtsc_precise(), end;
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct tuple *k = &t[order[i]];

		struct tcp_conn *c = tcp_conn_lookup(tcp, k->lip, k->lport, k->rip, k->rport);

		missed += c == NULL;
		sink += (uintptr_t)c;
	}
	end = rte_rdtsc_precise();
	return (double)(end - start) * 1e9 / (double)rte_get_tsc_hz() / n;
}

static double
time_rte(struct rte_hash *h, const struct tuple *t, const uint32_t *order, uint32_t n)
{
	uint64_t start = rte_rdtsc_precise(), end;
	uint32_t i;

	for (i = 0; i < n; i++) {
		void *data;

		missed += rte_hash_lookup_data(h, &t[order[i]], &data) < 0;
		sink += (uintptr_t)data;
	}
	end = rte_rdtsc_precise();
	return (double)(end - start) * 1e9 / (double)rte_get_tsc_hz() / n;
}

static int
run(uint32_t n, struct rte_mempool *pool, struct ex_executor *ex)
{
	struct ip_iface st;
	struct tcp_stack tcp;
	struct tcp_config cfg;
	struct rte_hash_parameters hp;
	struct rte_hash *h;
	struct tuple *t = calloc(n, sizeof(*t));
	uint32_t *order = calloc(n, sizeof(*order)), i;
	char name[32];
	double ours = 1e9, theirs = 1e9;
	int round;

	if (t == NULL || order == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	st.pool = pool;
	st.ex = ex; /* the connections' timers live on its wheel */
	st.cfg.ip = RTE_IPV4(198u, 18u, 0u, 1u);
	tcp_config_defaults(&cfg);
	cfg.max_conns = n;
	if (tcp_stack_init(&tcp, &st, &cfg) != 0)
		return -1;
	snprintf(name, sizeof(name), "flows%u", n);
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	hp.entries = n + n / 4;
	hp.key_len = sizeof(struct tuple);
	hp.hash_func = rte_hash_crc;
	hp.socket_id = (int)rte_socket_id();
	h = rte_hash_create(&hp);
	if (h == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		struct tcp_conn *c = tcp_conn_alloc(&tcp);

		t[i].lip = st.cfg.ip;
		t[i].lport = 80;
		t[i].rip = RTE_IPV4(198u, 18u, 0u, 0u) | (uint32_t)(rte_rand() & 0x1ffff);
		t[i].rport = (uint16_t)(1024 + i % 60000);
		c->tcp = &tcp;
		c->lip = t[i].lip;
		c->lport = t[i].lport;
		c->rip = t[i].rip;
		c->rport = t[i].rport;
		tcp_conn_insert(&tcp, c);
		if (rte_hash_add_key_data(h, &t[i], c) < 0)
			return -1;
		order[i] = i;
	}
	for (i = n - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rte_rand() % (i + 1)), x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (round = 0; round < 5; round++) {
		double a = time_ours(&tcp, t, order, n), b = time_rte(h, t, order, n);

		ours = a < ours ? a : ours;
		theirs = b < theirs ? b : theirs;
	}
	printf("flow_bench: %8u connections: flow table %6.1f ns/lookup, rte_hash %6.1f ns/lookup, "
	       "ratio %.2f\n",
			n, ours, theirs, ours / theirs);
	for (i = 0; i < n; i++) {
		struct tcp_conn *c =
				tcp_conn_lookup(&tcp, t[i].lip, t[i].lport, t[i].rip, t[i].rport);

		if (c != NULL)
			tcp_conn_release(c);
	}
	rte_hash_free(h);
	tcp_stack_fini(&tcp);
	free(t);
	free(order);
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_mempool *pool;
	struct ex_config ecfg;
	struct ex_executor *ex;
	uint32_t sizes[] = { 1u << 10, 1u << 16, 1u << 20 };
	unsigned k, nsizes = RTE_DIM(sizes);
	int n = rte_eal_init(argc, argv);

	if (n < 0) {
		fprintf(stderr, "flow_bench: EAL init failed\n");
		return 1;
	}
	if (n + 1 < argc && strcmp(argv[n + 1], "--quick") == 0)
		nsizes = 1;
	pool = rte_pktmbuf_pool_create(
			"flow_bench", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	ex_config_defaults(&ecfg);
	ecfg.name = "flow_bench";
	ex = ex_executor_create(rte_lcore_id(), &ecfg);
	if (pool == NULL || ex == NULL)
		return 1;
	for (k = 0; k < nsizes; k++)
		if (run(sizes[k], pool, ex) != 0) {
			fprintf(stderr, "flow_bench: setup failed at %u connections\n", sizes[k]);
			return 1;
		}
	ex_executor_free(ex);
	rte_mempool_free(pool);
	rte_eal_cleanup();
	if (missed != 0) {
		fprintf(stderr, "flow_bench: %" PRIu64 " lookups missed an inserted tuple\n",
				missed);
		return 1;
	}
	return 0;
}
