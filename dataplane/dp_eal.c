/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_eal.c - EAL bootstrap with a hugepage fallback. Main thread, once.
 */
#include <errno.h>
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

static int
has_memory_option(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--no-huge") == 0 || strcmp(argv[i], "-m") == 0 ||
				strncmp(argv[i], "--socket-mem", 12) == 0 ||
				strncmp(argv[i], "--huge-dir", 10) == 0)
			return 1;
	}
	return 0;
}

int
dp_eal_init(int argc, char **argv, unsigned int min_huge_mb, struct dp_eal_info *info)
{
	static char mem[16];
	char *args[DP_EAL_MAX_ARGS];
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
	if (!has_memory_option(eal_end, argv) && dp_hugepages_free_mb() < min_huge_mb) {
		snprintf(mem, sizeof(mem), "%u", min_huge_mb);
		args[n++] = (char *)"--no-huge";
		args[n++] = (char *)"-m";
		args[n++] = mem;
		huge = false;
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
