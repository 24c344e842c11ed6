/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.c - EAL bootstrap with a hugepage fallback. Main thread, once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dp_eal.h"

#define DP_EAL_MAX_ARGS 128

unsigned int
dp_hugepages_free_mb(void)
{
	char line[256];
	unsigned long free_pages = 0, size_kb = 0;
	int mounted = 0;
	FILE *f = fopen("/proc/mounts", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, " hugetlbfs ") != NULL)
				mounted = 1;
		fclose(f);
	}
	if (!mounted)
		return 0;
	f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &size_kb);
	}
	fclose(f);
	return (unsigned int)(free_pages * size_kb / 1024);
}

int
dp_eal_mem_plan(int eal_argc, char *const *argv, unsigned int min_huge_mb, unsigned int free_mb,
		struct dp_eal_mem_plan *plan)
{
	unsigned long mb = 0;
	bool given_m = false;
	char *end;
	int i;

	memset(plan, 0, sizeof(*plan));
	for (i = 1; i < eal_argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--no-huge") == 0 || strncmp(a, "--socket-mem", 12) == 0 ||
				strncmp(a, "--huge-dir", 10) == 0 || strcmp(a, "--in-memory") == 0)
			return 0; /* the user chose: as given */
		if (strncmp(a, "-m", 2) == 0) { /* -m N or -mN */
			const char *v = a[2] != '\0' ? a + 2 : (i + 1 < eal_argc ? argv[++i] : "");

			errno = 0;
			mb = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || mb == 0)
				return -EINVAL;
			given_m = true;
		}
	}
	if (given_m) {
		if (mb <= free_mb)
			return 0;
		plan->add_no_huge = true;
		snprintf(plan->note, sizeof(plan->note),
				"-m %lu wants %lu MB of hugepages and %u MB are free: running with "
				"--no-huge (4 KiB pages, slower); to use hugepages: "
				"scripts/hugepages.sh reserve 1G",
				mb, mb, free_mb);
		return 0;
	}
	if (free_mb >= min_huge_mb)
		return 0;
	plan->add_no_huge = true;
	plan->add_mb = min_huge_mb;
	snprintf(plan->note, sizeof(plan->note),
			"%u MB of hugepages free, %u wanted: running with --no-huge -m %u (4 KiB "
			"pages, slower); to use hugepages: scripts/hugepages.sh reserve 1G",
			free_mb, min_huge_mb, min_huge_mb);
	return 0;
}

int
dp_eal_init(int argc, char **argv, unsigned int min_huge_mb, struct dp_eal_info *info)
{
	static char mem[16];
	char *args[DP_EAL_MAX_ARGS];
	struct dp_eal_mem_plan plan;
	int n = 0, i, rc, eal_end = argc;
	bool huge = true;

	if (argc < 1 || argc > DP_EAL_MAX_ARGS - 4)
		return -EINVAL;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			eal_end = i;
			break;
		}
	}
	for (i = 0; i < eal_end; i++)
		args[n++] = argv[i];
	rc = dp_eal_mem_plan(eal_end, argv, min_huge_mb, dp_hugepages_free_mb(), &plan);
	if (rc != 0)
		return rc;
	if (plan.add_no_huge) {
		args[n++] = (char *)"--no-huge";
		huge = false;
	}
	if (plan.add_mb != 0) {
		snprintf(mem, sizeof(mem), "%u", plan.add_mb);
		args[n++] = (char *)"-m";
		args[n++] = mem;
	}
	for (i = 1; i < eal_end; i++)
		if (strcmp(argv[i], "--no-huge") == 0)
			huge = false;
	args[n] = NULL;
	rc = rte_eal_init(n, args);
	if (rc < 0)
		return rte_errno == 0 ? -EINVAL : -rte_errno;
	if (info != NULL) {
		info->hugepages = huge;
		snprintf(info->note, sizeof(info->note), "%s", plan.note);
		if (eal_end < argc) {
			/* "--" becomes the program name of the app's own argv. */
			argv[eal_end] = argv[0];
			info->app_argc = argc - eal_end;
			info->app_argv = &argv[eal_end];
		} else {
			info->app_argc = 1;
			info->app_argv = argv;
		}
	}
	return 0;
}
