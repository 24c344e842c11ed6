/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * example_common.h - boot and shutdown shared by the chapter examples.
 *
 * The examples start the EAL with no hugepages and no PCI (they need no NIC),
 * make an executor on the main lcore and block on one future. Extra EAL
 * arguments may be given on the command line. Durations are the chapter's,
 * scaled by EXAMPLE_SECOND (100 ms) so the examples run quickly.
 */
#ifndef RIPTIDE_EXAMPLE_COMMON_H
#define RIPTIDE_EXAMPLE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>

#include "ex_executor.h"

#define EXAMPLE_SECOND (100 * EX_NS_PER_MS)

static struct ex_executor *
example_boot(int argc, char **argv)
{
	char prefix[64];
	char *eal[32];
	int n = 0, i;
	struct ex_config cfg;
	struct ex_executor *ex;

	snprintf(prefix, sizeof(prefix), "--file-prefix=riptide-ex-%d", (int)getpid());
	eal[n++] = argv[0];
	eal[n++] = (char *)"--no-huge";
	eal[n++] = (char *)"--no-pci";
	eal[n++] = (char *)"--no-shconf";
	eal[n++] = (char *)"--no-telemetry";
	eal[n++] = (char *)"-m";
	eal[n++] = (char *)"64";
	eal[n++] = (char *)"-l";
	eal[n++] = (char *)"0";
	eal[n++] = (char *)"--log-level=lib.eal:error";
	eal[n++] = prefix;
	for (i = 1; i < argc && n < 31; i++)
		eal[n++] = argv[i];
	eal[n] = NULL;
	if (rte_eal_init(n, eal) < 0) {
		fprintf(stderr, "example: EAL init failed: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	ex_config_defaults(&cfg);
	cfg.name = "example";
	cfg.max_tasks = 64;
	cfg.idle_policy = EX_IDLE_POLICY_BACKOFF; /* examples mostly sleep */
	ex = ex_executor_create(rte_lcore_id(), &cfg);
	if (ex == NULL) {
		fprintf(stderr, "example: executor: %s\n", rte_strerror(rte_errno));
		exit(1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	return ex;
}

static int
example_shutdown(struct ex_executor *ex, int rc)
{
	char dir[96];

	ex_executor_free(ex);
	rte_eal_cleanup();
	snprintf(dir, sizeof(dir), "/var/run/dpdk/riptide-ex-%d", (int)getpid());
	rmdir(dir);
	return rc;
}

#endif /* RIPTIDE_EXAMPLE_COMMON_H */
