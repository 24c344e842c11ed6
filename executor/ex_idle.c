/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_idle.c - the backoff idle policy's sleeps: timed naps, or a sleep in
 * epoll on the reactor sources' wake-up events (ex_executor.h, loop step 6),
 * and under load, with interrupt moderation, short naps instead of the latter
 * (coalesce_nap()).
 *
 * Sleeping on events is what lets an idle lcore cost next to nothing and
 * still answer the first packet after a quiet spell at once. The catch is
 * every way work can reach a sleeping executor:
 *   - its rx queues: each source's fd is in the epoll set, edge-triggered,
 *     for as long as the source is registered, so a packet that arrives
 *     while the loop is busy leaves an event behind; arm() enables the
 *     PMD's interrupt where it has one and polls once more, for packets that
 *     came before the interrupt was on;
 *   - other lcores and threads (remote wakes, spawns, cancels, ex_stop):
 *     they put their work in the inbox (or the stop flag), then read
 *     `sleeping`; the sleeper sets `sleeping`, then reads the inbox and the
 *     flags. A full fence on each side between the two steps means at least
 *     one of them sees the other: either the sleeper finds the work, or the
 *     waker finds it asleep and writes its eventfd;
 *   - timers: the sleep ends at the next one (ex_wheel_next_ns).
 *   - kicked sources (a ring between lcores): their arm() looks for work
 *     after `sleeping` is set and fenced, and their producers call
 *     ex_kick() after the work is visible, the same handshake as a remote
 *     wake's.
 * A source with neither (a test's) could have work nothing announces, so
 * one such source sends the executor back to naps.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ring.h>

#include "ex_priv.h"

enum {
	EX_SOURCE_EVENT = 1, /* ex_source_set_event() gave it one */
	EX_SOURCE_WATCHED = 2, /* its fd is in the executor's epoll set, or it
				* is kicked: it counts as a source with an event */
	EX_SOURCE_KICKED = 4, /* ex_source_set_kicked(): no fd, producers kick */
};

void
ex_source_set_event(struct ex_source *src, int fd, ex_source_fn *arm,
		void (*disarm)(struct ex_source *src))
{
	src->event_fd = fd;
	src->arm = arm;
	src->disarm = disarm;
	src->event = fd >= 0 ? EX_SOURCE_EVENT : 0;
}

void
ex_source_set_kicked(struct ex_source *src, ex_source_fn *arm)
{
	src->event_fd = -1;
	src->arm = arm;
	src->disarm = NULL;
	src->event = EX_SOURCE_KICKED;
}

void
ex_kick(struct ex_executor *ex)
{
	if (ex != NULL)
		ex_idle_kick(ex);
}

int
ex_idle_init(struct ex_executor *ex, const struct ex_config *cfg)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = NULL };

	ex->idle_event_max_ns = (uint64_t)cfg->idle_event_us * 1000;
	ex->idle_coalesce_ns = (uint64_t)cfg->idle_coalesce_us * 1000;
	ex->idle_coalesce_after = RTE_MAX(cfg->idle_coalesce_after, 1u);
	ex->coalesce_streak = 0;
	ex->coalesce_napped = 0;
	ex->epfd = -1;
	ex->wake_fd = -1;
	if (cfg->idle_policy != EX_IDLE_POLICY_BACKOFF || cfg->idle_event_us == 0)
		return 0; /* never sleeps on events: no fds */
	ex->epfd = epoll_create1(EPOLL_CLOEXEC);
	ex->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ex->epfd < 0 || ex->wake_fd < 0 ||
			epoll_ctl(ex->epfd, EPOLL_CTL_ADD, ex->wake_fd, &ev) != 0) {
		int err = errno;

		ex_idle_fini(ex);
		return -err;
	}
	return 0;
}

void
ex_idle_fini(struct ex_executor *ex)
{
	if (ex->wake_fd >= 0)
		close(ex->wake_fd);
	if (ex->epfd >= 0)
		close(ex->epfd);
	ex->wake_fd = -1;
	ex->epfd = -1;
}

void
ex_idle_source_added(struct ex_executor *ex, struct ex_source *src)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.ptr = src };

	ex->n_sources++;
	src->event &= ~(uint32_t)EX_SOURCE_WATCHED;
	if ((src->event & EX_SOURCE_KICKED) && ex->epfd >= 0) {
		/* Its arm runs after `sleeping` is set and fenced, and its
		 * producers kick after their work is visible: as a remote wake. */
		src->event |= EX_SOURCE_WATCHED;
		ex->n_event_sources++;
		return;
	}
	if (!(src->event & EX_SOURCE_EVENT) || ex->epfd < 0)
		return;
	/* EEXIST: another source watches the same fd; it wakes us as well. */
	if (epoll_ctl(ex->epfd, EPOLL_CTL_ADD, src->event_fd, &ev) != 0 && errno != EEXIST)
		return; /* not pollable: this source keeps the executor napping */
	src->event |= EX_SOURCE_WATCHED;
	ex->n_event_sources++;
}

void
ex_idle_source_removed(struct ex_executor *ex, struct ex_source *src)
{
	ex->n_sources--;
	if (!(src->event & EX_SOURCE_WATCHED))
		return;
	if (!(src->event & EX_SOURCE_KICKED))
		epoll_ctl(ex->epfd, EPOLL_CTL_DEL, src->event_fd, NULL);
	src->event &= ~(uint32_t)EX_SOURCE_WATCHED;
	ex->n_event_sources--;
}

int
ex_sleeps_on_events(const struct ex_executor *ex)
{
	return ex->epfd >= 0 && ex->n_sources != 0 && ex->n_event_sources == ex->n_sources;
}

void
ex_idle_kick(struct ex_executor *ex)
{
	const uint64_t one = 1;
	ssize_t rc;

	/* An executor that never sleeps on events (busy-poll, naps) has no
	 * eventfd for its life: its wakers pay no fence. */
	if (ex->wake_fd < 0)
		return;
	/* Pairs with the fence in event_sleep(): our work is visible first. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&ex->sleeping, __ATOMIC_RELAXED))
		return;
	/* EAGAIN only if 2^64 - 2 kicks were never read: it is awake anyway. */
	rc = write(ex->wake_fd, &one, sizeof(one));
	RTE_SET_USED(rc);
}

/* Whether anything that arrives without a source event is already here. */
static int
work_waiting(struct ex_executor *ex)
{
	if (rte_ring_count(ex->inbox) != 0 || __atomic_load_n(&ex->stop, __ATOMIC_RELAXED))
		return 1;
	return __atomic_load_n(&ex->running, __ATOMIC_RELAXED) &&
	       __atomic_load_n(&ex_stop_epoch, __ATOMIC_RELAXED) != ex->run_epoch;
}

/* A plain sleep of ns, or the test's recorder of one. */
static void
ex_sleep_ns(struct ex_executor *ex, uint64_t ns)
{
	if (ex->idle_sleep != NULL) {
		ex->idle_sleep(ex->idle_sleep_ctx, ns);
	} else {
		struct timespec ts = { (time_t)(ns / EX_NS_PER_S), (long)(ns % EX_NS_PER_S) };

		nanosleep(&ts, NULL);
	}
}

/* An event ended a sleep: count it towards adaptive moderation when it came
 * soon after the loop's last work (traffic that keeps coming); a quiet one
 * starts the count again. */
static void
coalesce_count(struct ex_executor *ex)
{
	if (ex_now_ns(ex) - ex->last_work_ns >= EX_COALESCE_QUIET_NS)
		ex->coalesce_streak = 0; /* a quiet one: count afresh */
	else if (ex->coalesce_streak < ex->idle_coalesce_after)
		ex->coalesce_streak++;
}

/* Interrupt moderation, adaptive as a NIC's adaptive-rx: once
 * idle_coalesce_after event wake-ups in a row came soon after work, an idle
 * loop naps idle_coalesce_ns (never past a timer) instead of sleeping on
 * events, so each wake-up finds a batch, not a packet, and costs one sleep,
 * not an arm, an epoll and a disarm. A nap whose poll finds nothing ends
 * it: the loop sleeps on events again and counts afresh, so a lone request
 * after a quiet spell (its handful of wake-ups) is never held. Kicks during
 * a nap need no write: the loop polls everything when it ends.
 * @return 1 if it napped (or a timer is due), 0 to sleep on events. */
static int
coalesce_nap(struct ex_executor *ex, uint64_t now, uint64_t cap)
{
	uint64_t ns;

	if (ex->coalesce_napped) {
		ex->coalesce_napped = 0;
		ex->coalesce_streak = 0; /* the load is over */
		return 0;
	}
	if (ex->coalesce_streak < ex->idle_coalesce_after)
		return 0;
	ns = ex_wheel_next_ns(&ex->wheel, now, RTE_MIN(ex->idle_coalesce_ns, cap));
	if (ns == 0)
		return 1;
	ex->coalesce_napped = 1;
	EX_STAT_ADD(ex, idle_coalesce_waits, 1); /* apart from idle_sleeps */
	ex_sleep_ns(ex, ns);
	return 1;
}

static void
event_sleep(struct ex_executor *ex, uint64_t now, uint64_t cap)
{
	uint64_t ns = ex_wheel_next_ns(&ex->wheel, now, RTE_MIN(ex->idle_event_max_ns, cap));
	struct ex_source *src, *armed_end = NULL;
	struct epoll_event evs[8];
	int pending = 0, n = 0, i;

	if (ns == 0)
		return;
	__atomic_store_n(&ex->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with ex_idle_kick() */
	if (work_waiting(ex))
		goto awake;
	for (src = ex->sources; src != NULL && !pending; src = src->next) {
		armed_end = src->next;
		if (src->arm != NULL)
			pending = src->arm(src) != 0;
	}
	if (!pending) {
		struct timespec ts = { (time_t)(ns / EX_NS_PER_S), (long)(ns % EX_NS_PER_S) };

		EX_STAT_ADD(ex, idle_sleeps, 1);
		EX_STAT_ADD(ex, idle_event_sleeps, 1);
		n = epoll_pwait2(ex->epfd, evs, RTE_DIM(evs), &ts, NULL);
		if (n < 0 && errno == ENOSYS) /* kernels before 5.11: ms steps */
			n = epoll_wait(ex->epfd, evs, RTE_DIM(evs), (int)((ns + 999999) / 1000000));
		if (n > 0 || (n < 0 && errno == EINTR))
			EX_STAT_ADD(ex, idle_event_wakes, 1);
		for (i = 0; i < n; i++) {
			uint64_t v;

			if (evs[i].data.ptr == NULL && read(ex->wake_fd, &v, sizeof(v)) < 0)
				break; /* nothing to read: someone else's edge */
		}
	}
	for (src = ex->sources; src != armed_end; src = src->next)
		if (src->disarm != NULL)
			src->disarm(src);
awake:
	__atomic_store_n(&ex->sleeping, 0, __ATOMIC_RELAXED);
	if (n > 0 && ex->idle_coalesce_ns != 0)
		coalesce_count(ex);
}

/* The nap: the current step (never past the next timer), then double the
 * step up to the longest nap. */
static void
nap(struct ex_executor *ex, uint64_t now, uint64_t cap)
{
	uint64_t ns = ex_wheel_next_ns(&ex->wheel, now, RTE_MIN(ex->idle_sleep_ns, cap));

	ex->idle_sleep_ns = RTE_MIN(ex->idle_sleep_ns * 2, ex->idle_sleep_max_ns);
	if (ns == 0)
		return;
	EX_STAT_ADD(ex, idle_sleeps, 1);
	ex_sleep_ns(ex, ns);
}

void
ex_idle_sleep(struct ex_executor *ex, uint64_t now, uint64_t wake_by)
{
	uint64_t cap = UINT64_MAX;

	if (wake_by != 0) {
		/* A source holds something due then (ex_wake_by): sleep until
		 * it at most, and not at all when it is too close for a sleep to
		 * be cheaper than polling up to it. */
		if (wake_by < now + EX_WAKE_BY_MIN_NS)
			return;
		cap = wake_by - now;
	}
	if (!ex_sleeps_on_events(ex))
		nap(ex, now, cap);
	else if (ex->idle_coalesce_ns == 0 || !coalesce_nap(ex, now, cap))
		event_sleep(ex, now, cap);
}
