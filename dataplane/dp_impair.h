/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_impair.h - the impairment stage: riptide's netem, as a stream adapter
 * over bursts. Put it on a port's rx path (wrap the rx stream) or its tx
 * path (wrap whatever feeds the tx sink), or both.
 *
 * From a seed it applies, per packet and in this order: loss (random, or
 * bursty with a Gilbert two-state model), corruption (one bit flipped after
 * the Ethernet header, so IP/TCP/UDP checksums see it), duplication (a deep
 * copy follows the original), reordering (the packet is held back behind N
 * later packets, at most 1 ms, or delayed by T), delay with uniform jitter,
 * and a rate limit (a token-bucket queue). Delayed and rate-limited packets
 * wait in a bounded queue released by the executor's timer wheel - no busy
 * copies, no spinning; overflow is counted and dropped.
 *
 * Determinism: every packet consumes the same number of random draws in the
 * same order, whatever the timing, so the same seed gives the same
 * decisions for the same packet sequence.
 *
 * The configuration is a short string, e.g.
 *   loss=2%,reorder=5%:3,dup=1%,delay=20ms:5ms,corrupt=0.1%,rate=100mbit,seed=42
 * keys: loss=P%[:BURST]  dup=P%  reorder=P%:N | P%:Tus|Tms  delay=T[:JITTER]
 *       corrupt=P%  rate=R(bit|kbit|mbit|gbit)  limit=N  seed=S|random
 * times take ns, us, ms or s.
 *
 * Lcore: one stage per lcore, polled by one task.
 */
#ifndef RIPTIDE_DP_IMPAIR_H
#define RIPTIDE_DP_IMPAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_stream.h"
#include "ex_stream.h"
#include "ex_timer.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;

#define DP_IMPAIR_PPM 1000000u

struct dp_impair_config {
	uint32_t loss_ppm; /**< loss probability, parts per million */
	uint32_t loss_burst; /**< mean loss burst length; <= 1: independent losses */
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t reorder_pkts; /**< hold a reordered packet behind this many */
	uint64_t reorder_ns; /**< or delay it by this much (when reorder_pkts is 0) */
	uint64_t delay_ns;
	uint64_t jitter_ns; /**< delay varies uniformly in [-jitter, +jitter] */
	uint32_t corrupt_ppm;
	uint64_t rate_bps; /**< 0: unlimited */
	uint32_t limit; /**< packets waiting at most (delay, rate, reorder); default 10000 */
	uint64_t seed;
};

/** Every decision, counted. */
struct dp_impair_stats {
	uint64_t in; /**< packets that entered */
	uint64_t out; /**< packets that left (duplicates included) */
	uint64_t lost;
	uint64_t duplicated;
	uint64_t dup_failed; /**< no mbuf for the copy */
	uint64_t reordered;
	uint64_t delayed; /**< waited in the queue (delay, jitter, rate, reorder by time) */
	uint64_t corrupted;
	uint64_t overflow; /**< dropped because limit packets were waiting */
};

/**
 * Parse a configuration string (see above). Unset keys keep their defaults
 * (nothing impaired, limit 10000, seed 1).
 * @return 0, or -EINVAL with a message naming the key in err.
 */
int dp_impair_parse(const char *spec, struct dp_impair_config *cfg, char *err, size_t errlen);

/** Write cfg back as a string, for logs. */
void dp_impair_format(const struct dp_impair_config *cfg, char *buf, size_t len);

#define DP_IMPAIR_FIFO 1024
#define DP_IMPAIR_HOLDS 64

struct dp_impair_entry {
	uint64_t t; /**< release time (ns), or for holds: the latest release time */
	uint64_t seq; /**< tie-break: arrival order */
	struct rte_mbuf *m;
	uint32_t behind; /**< holds: packets still to let pass */
};

struct dp_impair {
	struct ex_stream base;
	struct ex_stream *inner;
	struct dp_impair_config cfg;
	struct dp_impair_stats stats;
	struct rte_mempool *pool; /**< for duplicates and copies-before-corruption */
	uint64_t rng;
	bool loss_bad; /**< Gilbert state */
	uint32_t p_enter_bad; /**< ppm: good -> bad */
	uint32_t p_leave_bad; /**< ppm: bad -> good */
	uint64_t ns_per_byte_q32; /**< rate limit: ns per byte, 32.32 fixed point */
	uint64_t rate_next; /**< when the link is free again */
	uint64_t seq;
	bool inner_ended;
	/* release queue: a binary min-heap on (t, seq) */
	struct dp_impair_entry *heap;
	uint32_t heap_n;
	/* reordered packets held behind later ones */
	struct dp_impair_entry holds[DP_IMPAIR_HOLDS];
	uint32_t holds_n;
	/* ready to leave, in order */
	struct rte_mbuf *fifo[DP_IMPAIR_FIFO];
	uint32_t fifo_head, fifo_tail;
	struct dp_burst burst;
	struct ex_timer timer;
	struct ex_wheel *wheel;
	struct ex_waker waiter;
};

/**
 * Set up a stage over inner (a stream of bursts).
 * @return 0, -EINVAL (NULL argument, limit 0), -ENOMEM (release queue).
 */
int dp_impair_init(struct dp_impair *im, struct ex_stream *inner,
		const struct dp_impair_config *cfg, struct rte_mempool *pool);

/** Free every packet the stage still holds and its queue; disarm its timer. */
void dp_impair_fini(struct dp_impair *im);

/** Packets the stage holds now (queued, held or ready to leave). */
uint32_t dp_impair_held(const struct dp_impair *im);

/**
 * A port impaired both ways, as netem on its wire would: received bursts
 * pass the rx stage before the consumer reads them (in); what the consumer
 * sends (out) goes through a ring, the tx stage (seed + 1) and a forward()
 * task into the port's tx sink. The wire is after the tx stage, so the
 * consumer must finish its checksums itself (no tx checksum offload), or the
 * PMD would checksum bytes the stage corrupted.
 */
struct dp_impair_link {
	struct dp_impair rx, tx;
	struct rte_ring *ring;
	struct dp_ring_sink ring_sink;
	struct dp_burst_stream ring_stream;
	struct ex_forward fw;
	struct ex_stream *in; /**< read bursts from here */
	struct ex_sink *out; /**< send bursts here */
};

/**
 * Set up both stages and spawn the tx forwarder on ex (call on its lcore).
 * name makes the ring's name unique. @return 0, -ENOMEM, -EINVAL.
 */
int dp_impair_link_init(struct dp_impair_link *l, struct ex_executor *ex,
		struct dp_burst_stream *rx, struct dp_tx_sink *tx,
		const struct dp_impair_config *cfg, struct rte_mempool *pool, const char *name);

/** After the executor shut down: free what the stages and the ring hold. */
void dp_impair_link_fini(struct dp_impair_link *l);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_IMPAIR_H */
