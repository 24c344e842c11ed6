/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.h - EAL bootstrap for riptide apps and tests.
 *
 * Apps take standard EAL arguments, then "--", then their own, as DPDK apps
 * do. dp_eal_init() adds --no-huge when the machine has fewer free mounted
 * hugepages than wanted: min_huge_mb when the caller gave no memory option,
 * N when it gave -m N (which would otherwise fail deep in the EAL with
 * "Permission denied"). It says why in dp_eal_info.note, so the same command
 * line works on a bench box and in a container and the user learns what it
 * costs. It never exits: errors come back as -errno.
 *
 * Call once, from the main thread, before anything else of riptide.
 */
#ifndef RIPTIDE_DP_EAL_H
#define RIPTIDE_DP_EAL_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What the bootstrap decided. */
struct dp_eal_info {
	bool hugepages; /**< false: running with --no-huge */
	char note[192]; /**< why --no-huge was added, and the fix; "" if it was not */
	int app_argc; /**< the app's own arguments: app_argv[0] is the program name, */
	char **app_argv; /**< then what followed "--" (getopt-ready) */
};

/**
 * Initialise the EAL from argv (argv[0] is the program name).
 *
 * @param min_huge_mb hugepages needed to use them (else --no-huge is added
 *        together with -m min_huge_mb), unless argv has a memory option.
 * @param info filled in on success; may be NULL.
 * @return 0, or -errno: -EINVAL (bad EAL arguments), -EALREADY (called
 *         twice), -ENOMEM, or another error from rte_eal_init().
 */
int dp_eal_init(int argc, char **argv, unsigned int min_huge_mb, struct dp_eal_info *info);

/** The memory arguments dp_eal_init() adds to the EAL's. */
struct dp_eal_mem_plan {
	bool add_no_huge; /**< add --no-huge */
	unsigned int add_mb; /**< also add -m add_mb (0: -m was given) */
	char note[192]; /**< for the user, when add_no_huge */
};

/**
 * Decide the memory arguments from the EAL's arguments (argv[1..eal_argc),
 * before any "--"), min_huge_mb and free_mb, the free hugepages. Pure: tests
 * give it any free_mb. --no-huge, --socket-mem, --huge-dir or --in-memory
 * given: nothing is added. -m N given and N > free_mb: --no-huge is added.
 * No memory option and min_huge_mb > free_mb: --no-huge -m min_huge_mb.
 * @return 0, or -EINVAL (-m without a whole number of MB).
 */
int dp_eal_mem_plan(int eal_argc, char *const *argv, unsigned int min_huge_mb, unsigned int free_mb,
		struct dp_eal_mem_plan *plan);

/** Free MB of hugepages on a mounted hugetlbfs (0 when none). */
unsigned int dp_hugepages_free_mb(void);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_EAL_H */
