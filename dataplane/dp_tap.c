/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_tap.c - net_tap's rx without a signal per packet.
 *
 * net_tap (DPDK 22.11) sets O_ASYNC on each queue's tun fd with a real-time
 * signal (F_SETSIG), so the kernel signals the process for every packet it
 * queues there; the PMD's handler only bumps a process-wide counter, and an
 * rx burst that sees the counter unchanged skips its readv(). That saves a
 * system call per empty poll and costs a signal per packet: an interrupt of
 * a polling thread (an IPI when the sender runs on another core), its FPU
 * state saved and restored around the handler, and a sleeping helper thread
 * woken when the kernel picks one. perf of l4proxy on a TAP under a CPU
 * quota (scale.sh --perf): a quarter of its CPU in signal delivery
 * (arch_do_signal_or_restart), about as much as its own code and the PMD.
 *
 * A riptide loop needs none of it: it polls while there is work and sleeps
 * on the queue's fd (epoll) when idle. So once a net_tap port has started,
 * its tun fds lose O_ASYNC (no more signals) and a post-rx callback on each
 * of its rx queues does what the signal did, calling the PMD's handler as a
 * function, so that the next burst reads. An empty poll is then one readv()
 * that finds nothing. Only when the fd's signal has a plain handler (not
 * SA_SIGINFO, not SIG_DFL or SIG_IGN); otherwise the port is left as the PMD
 * set it. RIPTIDE_TAP_SIGNALS=1 in the environment keeps the signals (for
 * A/B measurements).
 */
#define _GNU_SOURCE /* F_GETSIG */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "dp_port.h"
#include "dp_priv.h"

/* The PMD's handler, and the signal it was installed for. One for the
 * process: net_tap keeps one counter for all its ports. */
static void (*tap_handler)(int);
static int tap_signal;

static uint16_t
tap_rx_rearm(uint16_t port_id, uint16_t queue, struct rte_mbuf **pkts, uint16_t nb_pkts,
		uint16_t max_pkts, void *arg)
{
	(void)port_id;
	(void)queue;
	(void)pkts;
	(void)max_pkts;
	(void)arg;
	tap_handler(tap_signal);
	return nb_pkts;
}

bool
dp_fd_is_tun(int fd)
{
	char path[64], link[64];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	len = readlink(path, link, sizeof(link) - 1);
	if (len <= 0)
		return false;
	link[len] = '\0';
	return strcmp(link, "/dev/net/tun") == 0;
}

/* A tun fd that signals this process with the PMD's handler (the one seen
 * before, if any); the handler and its signal noted. */
static bool
signals_us(int fd, void *arg)
{
	struct sigaction sa;
	int flags, sig;

	(void)arg;
	if (!dp_fd_is_tun(fd))
		return false;
	flags = fcntl(fd, F_GETFL);
	sig = fcntl(fd, F_GETSIG);
	if (flags < 0 || !(flags & O_ASYNC) || sig <= 0 || fcntl(fd, F_GETOWN) != getpid())
		return false;
	if (sigaction(sig, NULL, &sa) != 0 || (sa.sa_flags & SA_SIGINFO) ||
			sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
		return false;
	if (tap_handler != NULL && (tap_handler != sa.sa_handler || tap_signal != sig))
		return false; /* not the one handler seen before: leave it */
	tap_handler = sa.sa_handler;
	tap_signal = sig;
	return true;
}

void
dp_tap_quiet(struct dp_port *p)
{
	const char *keep = getenv("RIPTIDE_TAP_SIGNALS");
	struct rte_eth_dev_info info;
	int fds[256];
	unsigned int n, i;
	uint16_t q;

	if (keep != NULL && strcmp(keep, "0") != 0)
		return;
	if (rte_eth_dev_info_get(p->port_id, &info) != 0 ||
			strcmp(info.driver_name, "net_tap") != 0 ||
			p->nb_queues > DP_PORT_MAX_QUEUES)
		return;
	n = dp_own_fds(signals_us, NULL, fds, RTE_DIM(fds));
	if (tap_handler == NULL)
		return; /* the PMD's trigger is off, or not what we know: as it is */
	/* Every queue gets its callback before any fd goes quiet: a queue
	 * without one would not read again. */
	for (q = 0; q < p->nb_queues; q++) {
		p->tap_rearm[q] = rte_eth_add_rx_callback(p->port_id, q, tap_rx_rearm, NULL);
		if (p->tap_rearm[q] == NULL) {
			DP_LOG(WARNING,
					"port %s: no rx callback for queue %u (%s): net_tap keeps "
					"signalling every packet",
					p->name, q, rte_strerror(rte_errno));
			dp_tap_release(p);
			return;
		}
	}
	for (i = 0; i < n; i++)
		(void)fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) & ~O_ASYNC);
	/* Until its first signal the PMD's counter is 0 and it reads on every
	 * burst; after one (a packet before this point) it reads only when the
	 * counter moves. Bump it now, so that every port runs the second way
	 * from the start and the callbacks are what keeps it reading. */
	tap_handler(tap_signal);
	p->tap_quiet = true;
	DP_LOG(INFO, "port %s: net_tap rx polled without signals (%u fds quieted, signal %d)",
			p->name, n, tap_signal);
}

void
dp_tap_release(struct dp_port *p)
{
	uint16_t q;

	for (q = 0; q < DP_PORT_MAX_QUEUES; q++) {
		if (p->tap_rearm[q] == NULL)
			continue;
		/* The port is stopped, or its queues were never polled: no lcore
		 * runs the callback, so it can be freed at once. */
		if (rte_eth_remove_rx_callback(p->port_id, q, p->tap_rearm[q]) == 0)
			rte_free((void *)(uintptr_t)p->tap_rearm[q]);
		p->tap_rearm[q] = NULL;
	}
	p->tap_quiet = false;
}
