/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_priv.h - dataplane internals shared by the files of dataplane/ only.
 */
#ifndef RIPTIDE_DP_PRIV_H
#define RIPTIDE_DP_PRIV_H

#include <rte_log.h>

/* The dataplane's log type, "riptide.dataplane" (--log-level=riptide.dataplane:debug). */
extern int dp_logtype;
#define DP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dp_logtype, "riptide.dataplane: " fmt "\n", ##__VA_ARGS__)

#endif /* RIPTIDE_DP_PRIV_H */
