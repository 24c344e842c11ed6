/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cksum_bench - dataplane/dp_cksum against DPDK's rte_raw_cksum (the anchor):
 * nanoseconds per buffer for the sizes TCP sums (a 1448-byte segment payload,
 * a 64-byte one, 9000 for jumbo frames), same buffers, the two loops taking
 * turns for ten passes, best pass of each. Prints the ratio dp/rte (lower is faster).
 *
 *   cksum_bench [--quick]
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_ip.h>

#include "dp_cksum.h"

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static uint8_t buf[9000 + 64];
static volatile uint32_t sink;

/* One timed pass of either loop, in ns per buffer. */
static double
pass(bool rte, size_t len, int iters)
{
	double t0 = now_ns();
	uint32_t x = 0;

	if (rte)
		for (int i = 0; i < iters; i++)
			x += rte_raw_cksum(buf + (i & 7), len);
	else
		for (int i = 0; i < iters; i++)
			x += dp_cksum_fold(dp_cksum_raw(buf + (i & 7), len, 0));
	sink = x;
	return (now_ns() - t0) / iters;
}

/* The two loops take turns, ten passes each, and each keeps its best: on a
 * VM whose speed drifts, both then see the same machine. */
static void
measure(size_t len, int iters, double *rte, double *dp)
{
	*rte = *dp = 1e18;
	for (int r = 0; r < 10; r++) {
		*rte = RTE_MIN(*rte, pass(true, len, iters));
		*dp = RTE_MIN(*dp, pass(false, len, iters));
	}
}

int
main(int argc, char **argv)
{
	static const size_t sizes[] = { 64, 1448, 9000 };
	int iters = (argc > 1 && strcmp(argv[1], "--quick") == 0) ? 1000 : 50000;

	if (argc > 1 && strcmp(argv[1], "--quick") != 0) {
		printf("usage: cksum_bench [--quick]\n");
		return strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ? 0 : 2;
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	printf("cksum_bench: ns per buffer, best of 10 passes x %d, taking turns (anchor: "
	       "rte_raw_cksum)\n",
			iters);
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		for (int impl = 0; impl < 2; impl++) {
			const char *name = impl == 0 ? "scalar" : "avx2";
			double dp, rte;

			if (dp_cksum_use(name) != 0) {
				printf("  %5zu B  %-6s not on this CPU\n", len, name);
				continue;
			}
			/* Same answer, or the timing means nothing. */
			if (dp_cksum_fold(dp_cksum_raw(buf + 3, len, 0)) !=
					(uint16_t)rte_raw_cksum(buf + 3, len)) {
				printf("cksum_bench: %s disagrees with rte_raw_cksum at %zu B\n",
						name, len);
				return 1;
			}
			measure(len, iters, &rte, &dp);
			printf("  %5zu B  rte_raw_cksum %7.1f ns  dp %-6s %7.1f ns  %5.1f Gbit/s  "
			       "ratio %.2f\n",
					len, rte, name, dp, (double)len * 8 / dp, dp / rte);
		}
	}
	return 0;
}
