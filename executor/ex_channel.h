/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_channel.h - bounded single-producer single-consumer channel: the sender
 * is a sink, the receiver a stream.
 *
 * Two flavours, chosen at init: EX_CHANNEL_LOCAL for both ends on one lcore
 * (a plain array, no atomics) and EX_CHANNEL_SHARED for ends on different
 * lcores (an SP/SC rte_ring and atomic wakers). The sender's poll_ready is
 * PENDING while the channel is full (backpressure); the receiver gets the end
 * of the stream once the sender closed and everything sent was received. If
 * the receiver is dropped, the sender fails with -EPIPE.
 *
 * Memory is allocated once, by ex_channel_init(); send and receive never
 * allocate.
 *
 * Lcore: the sender on one lcore, the receiver on one lcore (the same lcore
 * for EX_CHANNEL_LOCAL).
 */
#ifndef RIPTIDE_EX_CHANNEL_H
#define RIPTIDE_EX_CHANNEL_H

#include <stdint.h>

#include "ex_executor.h"
#include "ex_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ex_channel_kind {
	EX_CHANNEL_LOCAL = 0,
	EX_CHANNEL_SHARED,
};

struct rte_ring;

struct ex_channel {
	struct ex_sink tx; /**< the sending end */
	struct ex_stream rx; /**< the receiving end */
	enum ex_channel_kind kind;
	uint32_t capacity;
	/* local */
	union ex_item *slots;
	uint32_t head, tail; /* free-running; mask = capacity - 1 */
	struct ex_waker rx_waker_local, tx_waker_local;
	/* shared */
	struct rte_ring *ring;
	struct ex_atomic_waker rx_waker, tx_waker;
	uint32_t tx_closed; /* atomic */
	uint32_t rx_closed; /* atomic */
};

/**
 * Set up a channel holding up to capacity items (rounded up to a power of
 * two for EX_CHANNEL_LOCAL).
 * @return 0, -EINVAL (capacity 0 or too large, bad kind), -ENOMEM.
 */
int ex_channel_init(
		struct ex_channel *ch, uint32_t capacity, enum ex_channel_kind kind, int socket_id);

/**
 * Free the channel's memory. Items still inside go to release (may be NULL).
 * Both ends must be done with it.
 */
void ex_channel_fini(struct ex_channel *ch, ex_item_release_fn *release, void *arg);

/** Items waiting in the channel. */
uint32_t ex_channel_len(const struct ex_channel *ch);

/** The receiver goes away: the sender's next operations fail with -EPIPE. */
void ex_channel_close_rx(struct ex_channel *ch);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_CHANNEL_H */
