/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.h - packet streams and sinks: rx queues, tx queues and rings as
 * executor streams and sinks of mbuf bursts, and pipeline stages that work
 * on bursts in place.
 *
 * Items are bursts (struct dp_burst *, in item.ptr). A stream lends its
 * burst: the consumer takes the mbufs out (and sets n = 0) before it polls
 * the stream again; a burst left non-empty is yielded again. A sink's
 * start_send takes every mbuf of the burst and empties it. The same mbuf
 * pointers travel from rx to tx: nothing is copied or allocated per packet.
 *
 * - dp_burst_stream from an rx queue: a reactor source polls rte_eth_rx_burst while a consumer
 *   waits, and wakes it; poll_next also tries the queue directly.
 * - dp_tx_sink: buffers, sends when a burst is full and at the end of each
 *   loop iteration (a flush source); what the PMD refuses is kept, in order,
 *   and offered again (each iteration while the refusal is young; a loop that
 *   may sleep then naps between offers, up to DP_TX_NAP_MAX_NS), dropped and
 *   counted only when the queue takes nothing for DP_TX_RETRY_NS or the sink
 *   is full. With a tx hold set,
 *   the end-of-iteration send waits until the hold has passed since the
 *   last send (kick moderation, for PMDs whose send is a syscall). A
 *   producer that can wait asks dp_tx_sink_room() first (TCP's small
 *   queues): no while the backlog behind a refusing queue is deep.
 * - dp_ring_stream_init / dp_ring_sink: an rte_ring between stages on two
 *   lcores (the stream is a dp_burst_stream variant); the sink waits (PENDING)
 *   while the ring is full.
 * - dp_burst_map / dp_burst_filter: per-packet map and filter, in place.
 * - dp_classify: one stream into up to DP_CLASSIFY_MAX sinks.
 *
 * Lcore: each object is used by one lcore (rings join two).
 */
#ifndef RIPTIDE_DP_STREAM_H
#define RIPTIDE_DP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ex_executor.h"
#include "ex_stream.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mbuf;
struct rte_ring;

/** Packets per PMD call (rx_burst, tx_burst), as l2fwd and testpmd use. */
#define DP_BURST_MAX 32
/** Packets per stream item: up to two PMD bursts, so that a pipeline's
 * per-item cost (a few indirect calls) is paid once per 64 packets. */
#define DP_VEC_MAX (2 * DP_BURST_MAX)

/** A vector of packets; the unit every packet stream yields. */
struct dp_burst {
	uint16_t n;
	struct rte_mbuf *pkts[DP_VEC_MAX];
};

/** Free every mbuf of a burst and empty it. */
void dp_burst_free(struct dp_burst *b);

/** ex_item_release_fn for bursts (forward's release): frees the burst. */
void dp_burst_release(union ex_item item, void *arg);

/** Counters of one stream or sink; plain, owner-written. */
struct dp_stream_stats {
	uint64_t pkts; /**< packets through */
	uint64_t bursts; /**< non-empty bursts */
	uint64_t dropped; /**< refused by the PMD / ring, or filtered, then freed */
	uint64_t held; /**< tx: end-of-iteration sends put off by the tx hold */
	/** tx: packets the PMD had no room for when first offered, kept and
	 * offered again (each counted once per refusal) */
	uint64_t requeued;
	/** tx: times dp_tx_sink_room() told a producer to wait */
	uint64_t backpressured;
	/** tx: of dropped, those given up on when the PMD took nothing for
	 * DP_TX_RETRY_NS (the rest: the sink was full, or fini) */
	uint64_t stuck;
};

/* ---- received bursts: an rx queue, or a ring ---- */

/** Whether a queue's rx interrupt can be turned on (dp_burst_stream.intr). */
enum dp_rx_intr {
	DP_RX_INTR_UNKNOWN = 0,
	DP_RX_INTR_ON,
	DP_RX_INTR_NONE
};

struct dp_burst_stream;

/** Where a stream's bursts come from; the variant is chosen at init. */
struct dp_fill_ops {
	uint16_t (*fill)(struct dp_burst_stream *s); /* into s->burst; returns its n */
	const char *name;
};

/**
 * A stream of received bursts: from an rx queue (dp_rx_stream_init) or
 * from an rte_ring fed by another lcore (dp_ring_stream_init). A reactor
 * source polls it while a consumer waits, and wakes the consumer.
 */
struct dp_burst_stream {
	struct ex_stream base;
	struct ex_source src;
	struct ex_executor *ex;
	const struct dp_fill_ops *fill;
	uint16_t port; /* rx queue variant */
	uint16_t queue;
	uint8_t intr; /* enum dp_rx_intr: whether arming enables an rx interrupt */
	struct rte_mempool *mp; /* rx queue variant: the pool its PMD fills from */
	struct rte_ring *ring; /* ring variant */
	bool waiting;
	struct ex_waker waiter;
	struct dp_burst burst;
	struct dp_stream_stats stats;
};

/** Make a stream over (port, queue) and register its source on ex. */
void dp_rx_stream_init(
		struct dp_burst_stream *s, struct ex_executor *ex, uint16_t port, uint16_t queue);

/** Make a stream over ring r (multi- or single-consumer) on ex. Its source
 * is a kicked one (ex_source_set_kicked): an idle ex may sleep on events
 * with it, so a producer on another lcore must kick ex after each enqueue
 * (a dp_ring_sink with dp_ring_sink_kick does). */
void dp_ring_stream_init(struct dp_burst_stream *s, struct ex_executor *ex, struct rte_ring *r);

/** Unregister, free what it still holds. Either variant. */
void dp_rx_stream_fini(struct dp_burst_stream *s);

/* ---- tx queue ---- */

#define DP_TX_BUF (2 * DP_VEC_MAX)
/** How long packets the PMD has no room for are kept and offered again
 * before they are freed and counted as dropped (a PMD that stopped taking
 * any: a link down, a peer gone). 100 ms: a vhost-user or memif peer that
 * is descheduled, or sanitized, stops reading for tens of milliseconds, and
 * with TCP's small queues nothing piles up meanwhile (it was 10 ms until
 * the twenty-second session; docs/performance.md). */
#define DP_TX_RETRY_NS (100ull * 1000 * 1000)
/** The longest a loop that may sleep waits between offers to a PMD that
 * refused (the wait is a quarter of how long it has refused, up to this): a
 * stuck queue costs a wake-up per 500 us, not a spinning core, until
 * DP_TX_RETRY_NS. A loop that busy-polls offers every iteration. */
#define DP_TX_NAP_MAX_NS (500ull * 1000)
/** Backpressure for whoever makes new packets (TCP's small queues): at
 * DP_TX_ROOM_HIGH packets kept for a PMD that refused them, dp_tx_sink_room()
 * says no; its waiter is woken once the backlog is down to DP_TX_ROOM_LOW. The
 * slots above the mark stay for ACKs, handshakes and resets, which always go. */
#define DP_TX_ROOM_HIGH (DP_TX_BUF / 2)
#define DP_TX_ROOM_LOW DP_BURST_MAX

struct dp_tx_sink {
	struct ex_sink base;
	struct ex_source flush_src;
	struct ex_executor *ex;
	uint16_t port;
	uint16_t queue;
	uint16_t n;
	uint64_t hold_ns; /* 0: send at the end of every iteration */
	uint64_t last_send_ns; /* executor clock at the last send */
	uint64_t refused_ns; /* since when buf's head waits for room; 0: none waits */
	bool room_waiting; /* dp_tx_sink_room() said no to room_waiter */
	struct ex_waker room_waiter;
	struct rte_mbuf *buf[DP_TX_BUF];
	struct dp_stream_stats stats;
};

/** Make a tx sink over (port, queue); its flush runs at loop step 5 of ex. */
void dp_tx_sink_init(struct dp_tx_sink *k, struct ex_executor *ex, uint16_t port, uint16_t queue);

/**
 * Set the tx hold: the end-of-iteration flush sends only once hold_us have
 * passed since the last send; while it holds, the loop may sleep, but wakes
 * when the hold ends (ex_wake_by) or sooner for a packet. A full burst,
 * poll_flush and dp_tx_sink_flush still send at once, and the first packet
 * after a quiet spell of hold_us leaves in its own iteration, so light
 * traffic waits for nothing. 0 (the default) sends at the end of every
 * iteration. Worth it where each send is a syscall (net_af_xdp, net_tap)
 * and the loop busy-polls: fewer, larger sends for at most hold_us of delay.
 * A loop that sleeps pays a wake-up for each hold instead (docs/l4proxy.md).
 */
void dp_tx_sink_set_hold(struct dp_tx_sink *k, uint32_t hold_us);

/** Send what is buffered now. @return packets the PMD took. */
uint16_t dp_tx_sink_flush(struct dp_tx_sink *k);

/**
 * Whether a producer should hand over new packets now: true while fewer than
 * DP_TX_ROOM_HIGH wait for a PMD that refused them. False means the PMD's
 * queue is full and the backlog is deep; w is woken once it is down to
 * DP_TX_ROOM_LOW (or was dropped at DP_TX_RETRY_NS), and counted in
 * stats.backpressured. Packets sent anyway are still kept up to DP_TX_BUF:
 * this is advice to a source that can wait (TCP's new data), not a gate.
 */
bool dp_tx_sink_room(struct dp_tx_sink *k, const struct ex_waker *w);

/**
 * Offer what is kept until the PMD has taken it all or has taken nothing for
 * DP_TX_RETRY_NS (real time: the peer may still be draining the queue), free
 * and count as dropped what is left, unregister.
 */
void dp_tx_sink_fini(struct dp_tx_sink *k);

/* ---- ring sink ---- */

struct dp_ring_sink {
	struct ex_sink base;
	struct ex_source src; /* re-checks room while a sender waits */
	struct ex_executor *ex;
	struct rte_ring *ring;
	bool waiting;
	struct ex_waker waiter;
	struct dp_stream_stats stats;
	struct ex_executor *const *kick; /* the consumer's, when on another lcore */
};

void dp_ring_sink_init(struct dp_ring_sink *k, struct ex_executor *ex, struct rte_ring *r);
/** The ring's consumer runs on another lcore: after each enqueue, kick the
 * executor in *slot (read each time; NULL: none yet), so that its ring
 * stream, a kicked source, may sleep on events (ex_source_set_kicked). */
void dp_ring_sink_kick(struct dp_ring_sink *k, struct ex_executor *const *slot);
void dp_ring_sink_fini(struct dp_ring_sink *k);

/* ---- in-place stages ---- */

/** Per-packet function; returns 0 to keep the packet, < 0 to drop (free) it. */
typedef int dp_pkt_fn(struct rte_mbuf *m, void *arg);

/** map / filter over bursts: fn runs on each packet in place; packets for
 * which it returns < 0 are freed, counted, and the burst is compacted. */
struct dp_burst_map {
	struct ex_stream base;
	struct ex_stream *inner;
	dp_pkt_fn *fn;
	void *arg;
	struct dp_stream_stats stats;
};

void dp_burst_map_init(struct dp_burst_map *m, struct ex_stream *inner, dp_pkt_fn *fn, void *arg);

/**
 * Queue-to-queue forwarding: the future that moves packets from an rx
 * stream's queue to a tx sink's queue with nothing in between - one
 * rx_burst into one tx_burst from the same array, as testpmd's io loop,
 * but as a task: it yields every DP_QFWD_BATCH bursts and, when the queue
 * is empty, waits on the rx stream's reactor source instead of spinning.
 * Pipelines with stages use ex_forward() over the same stream and sink.
 * It never completes by itself; drop it (cancel its task) to stop.
 */
#define DP_QFWD_BATCH 64
struct dp_queue_forward {
	struct ex_future base;
	struct dp_burst_stream *rx;
	struct dp_tx_sink *tx;
};
/** @return 0, or -EINVAL if rx is not an rx-queue stream (a ring has no PMD). */
int dp_queue_forward_init(
		struct dp_queue_forward *f, struct dp_burst_stream *rx, struct dp_tx_sink *tx);

#define DP_CLASSIFY_MAX 8

/** Classifier: index of the output sink for a packet, or < 0 to drop it. */
typedef int dp_classify_fn(struct rte_mbuf *m, void *arg);

/** A future that pumps a stream into several sinks until the stream ends. */
struct dp_classify {
	struct ex_future base;
	struct ex_stream *in;
	struct ex_sink *out[DP_CLASSIFY_MAX];
	uint16_t nb_out;
	dp_classify_fn *fn;
	void *arg;
	struct dp_burst pending[DP_CLASSIFY_MAX];
	struct dp_stream_stats stats;
};

/** @return 0, or -EINVAL if nb_out is 0 or above DP_CLASSIFY_MAX. */
int dp_classify_init(struct dp_classify *c, struct ex_stream *in, struct ex_sink **out,
		uint16_t nb_out, dp_classify_fn *fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_DP_STREAM_H */
