/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.h - EAL bootstrap for riptide apps and tests.
 *
 * Apps take standard EAL arguments, then "--", then their own, as DPDK apps
 * do. dp_eal_init() adds --no-huge (and a memory size) when the caller gave
 * no memory option and the machine has no free mounted hugepages, so the
 * same command line works on a bench box and in a container. It never exits:
 * errors come back as -errno.
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

/** Free MB of hugepages on a mounted hugetlbfs (0 when none). */
unsigned int dp_hugepages_free_mb(void);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_EAL_H */
