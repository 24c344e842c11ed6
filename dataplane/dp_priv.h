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

#include <stdbool.h>

struct dp_port;

/* The fds this process has open for which want(fd, arg) holds, up to max
 * of them (from /proc/self/fd). @return how many. */
unsigned int dp_own_fds(bool (*want)(int fd, void *arg), void *arg, int *fds, unsigned int max);

/* An fd of this process open on /dev/net/tun (a TAP's queue, dp_tap.c). */
bool dp_fd_is_tun(int fd);

/* dp_tap.c: a started net_tap port's rx without the PMD's signal per packet
 * (O_ASYNC off, a post-rx callback per queue in its place); and the
 * callbacks removed, at close. Both do nothing for another PMD. */
void dp_tap_quiet(struct dp_port *p);
void dp_tap_release(struct dp_port *p);

/* dp_tap_steer.c: a started net_tap port with more than one queue gets the
 * tun steering program (the kernel fills each queue with its own lcore's
 * flows) and counts as a port with RSS; nothing for another PMD. */
void dp_tap_steer(struct dp_port *p);
/* ... and the program taken off again, before the port closes. */
void dp_tap_unsteer(struct dp_port *p);

#endif /* RIPTIDE_DP_PRIV_H */
