/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_stream.c - rx/tx queues and rings as streams and sinks of bursts, and
 * the in-place stages. Each object runs on the lcore of its executor.
 */
#include <errno.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include "dp_port.h"
#include "dp_stream.h"

void
dp_burst_free(struct dp_burst *b)
{
	if (b->n != 0)
		rte_pktmbuf_free_bulk(b->pkts, b->n);
	b->n = 0;
}

void
dp_burst_release(union ex_item item, void *arg)
{
	(void)arg;
	dp_burst_free(item.ptr);
}

static inline void
wake_waiter(bool *waiting, struct ex_waker *w)
{
	if (*waiting) {
		*waiting = false;
		ex_waker_wake(w);
	}
}

/* ---- received bursts ---- */

static inline uint16_t
count_fill(struct dp_burst_stream *s, uint16_t n)
{
	s->burst.n = n;
	if (n != 0) {
		s->stats.pkts += n;
		s->stats.bursts++;
	}
	return n;
}

static inline uint16_t
queue_fill(struct dp_burst_stream *s)
{
	uint16_t n = rte_eth_rx_burst(s->port, s->queue, s->burst.pkts, DP_BURST_MAX);

	/* A full burst says more is waiting: take a second one into the
	 * same vector. */
	if (n == DP_BURST_MAX)
		n += rte_eth_rx_burst(s->port, s->queue, &s->burst.pkts[n], DP_BURST_MAX);
	return count_fill(s, n);
}

static uint16_t
ring_fill(struct dp_burst_stream *s)
{
	return count_fill(s, (uint16_t)rte_ring_dequeue_burst(
					     s->ring, (void **)s->burst.pkts, DP_VEC_MAX, NULL));
}

static const struct dp_fill_ops queue_fill_ops = { .fill = queue_fill, .name = "rx_queue" };
static const struct dp_fill_ops ring_fill_ops = { .fill = ring_fill, .name = "ring_rx" };

static enum ex_next
rx_poll_next(struct ex_stream *st, struct ex_context *cx, union ex_item *out)
{
	struct dp_burst_stream *s = EX_CONTAINER_OF(st, struct dp_burst_stream, base);

	if (s->burst.n != 0 || s->fill->fill(s) != 0) {
		s->waiting = false;
		out->ptr = &s->burst;
		return EX_NEXT_ITEM;
	}
	s->waiter = cx->waker;
	s->waiting = true;
	return EX_NEXT_PENDING;
}

/* Reactor source: poll only while someone waits. */
static unsigned int
rx_source(struct ex_source *src)
{
	struct dp_burst_stream *s = EX_CONTAINER_OF(src, struct dp_burst_stream, src);
	uint16_t n;

	if (!s->waiting || s->burst.n != 0)
		return 0;
	n = s->fill->fill(s);
	if (n != 0)
		wake_waiter(&s->waiting, &s->waiter);
	return n;
}

static void
rx_drop(struct ex_stream *st)
{
	struct dp_burst_stream *s = EX_CONTAINER_OF(st, struct dp_burst_stream, base);

	s->waiting = false;
	dp_burst_free(&s->burst);
}

static const struct ex_stream_ops rx_ops = {
	.poll_next = rx_poll_next, .drop = rx_drop, .name = "rx"
};

/* Before the executor sleeps on the queue's fd: turn the rx interrupt on
 * (net_virtio_user's call fd fires only then; net_tap's and net_af_xdp's fds
 * need nothing), then poll once more for what came before it was on. */
static unsigned int
rx_arm(struct ex_source *src)
{
	struct dp_burst_stream *s = EX_CONTAINER_OF(src, struct dp_burst_stream, src);

	if (s->intr == DP_RX_INTR_UNKNOWN || s->intr == DP_RX_INTR_ON)
		s->intr = rte_eth_dev_rx_intr_enable(s->port, s->queue) == 0 ? DP_RX_INTR_ON
									     : DP_RX_INTR_NONE;
	/* A PMD that found no mbuf leaves packets queued behind an fd that
	 * will not fire again for them (edge-triggered): while its pool is
	 * nearly empty, do not sleep on the event but poll, as before. Found
	 * by the buffer-pinning integration test (RSTs never read). */
	if (s->mp != NULL && rte_mempool_avail_count(s->mp) < 2 * DP_BURST_MAX)
		return 1;
	return rx_source(src);
}

/* Awake again: the loop polls, so the PMD need not signal each packet. */
static void
rx_disarm(struct ex_source *src)
{
	struct dp_burst_stream *s = EX_CONTAINER_OF(src, struct dp_burst_stream, src);

	if (s->intr == DP_RX_INTR_ON)
		rte_eth_dev_rx_intr_disable(s->port, s->queue);
}

/* Before sleeping: one more look (a producer on another lcore kicks after
 * its enqueue, dp_ring_sink_kick; one on this lcore is not running). */
static unsigned int
ring_arm(struct ex_source *src)
{
	return rx_source(src);
}

static void
rx_stream_setup(struct dp_burst_stream *s, struct ex_executor *ex, const struct dp_fill_ops *fill,
		int event_fd)
{
	s->base.ops = &rx_ops;
	s->ex = ex;
	s->fill = fill;
	s->src.fn = rx_source;
	s->src.name = fill->name;
	if (event_fd >= 0)
		ex_source_set_event(&s->src, event_fd, rx_arm, rx_disarm);
	else if (fill == &ring_fill_ops)
		ex_source_set_kicked(&s->src, ring_arm);
	ex_register_source(ex, &s->src);
}

void
dp_rx_stream_init(struct dp_burst_stream *s, struct ex_executor *ex, uint16_t port, uint16_t queue)
{
	memset(s, 0, sizeof(*s));
	s->port = port;
	s->queue = queue;
	{
		struct rte_eth_rxq_info qi;

		if (rte_eth_rx_queue_info_get(port, queue, &qi) == 0)
			s->mp = qi.mp;
	}
	rx_stream_setup(s, ex, &queue_fill_ops, dp_port_rx_event_fd(port, queue));
}

void
dp_ring_stream_init(struct dp_burst_stream *s, struct ex_executor *ex, struct rte_ring *r)
{
	memset(s, 0, sizeof(*s));
	s->ring = r;
	rx_stream_setup(s, ex, &ring_fill_ops, -1);
}

void
dp_rx_stream_fini(struct dp_burst_stream *s)
{
	ex_unregister(s->ex, &s->src);
	rx_drop(&s->base);
}

/* ---- tx queue ---- */

/* Offer n packets to the PMD in bursts of at most DP_BURST_MAX, as l2fwd
 * does. Returns how many it took; the rest are still the caller's. */
static inline uint16_t
tx_offer(struct dp_tx_sink *k, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t done = 0;

	while (done < n) {
		uint16_t chunk = RTE_MIN((uint16_t)(n - done), (uint16_t)DP_BURST_MAX);
		uint16_t sent = rte_eth_tx_burst(k->port, k->queue, &pkts[done], chunk);

		done += sent;
		k->stats.bursts++;
		if (unlikely(sent < chunk))
			break;
	}
	k->stats.pkts += done;
	if (k->hold_ns != 0 && done != 0)
		k->last_send_ns = ex_now_coarse_ns(k->ex);
	return done;
}

/* Free and count what buf holds from index from on. */
static void
tx_drop_from(struct dp_tx_sink *k, uint16_t from)
{
	if (k->n > from) {
		rte_pktmbuf_free_bulk(&k->buf[from], k->n - from);
		k->stats.dropped += k->n - from;
		k->n = from;
	}
}

/* The PMD's queue was full (a virtio ring whose other side is behind, a
 * burst of TSO chains that each take dozens of descriptors): what it did
 * not take waits at the head of buf for the next flush, which comes the
 * next iteration, rather than being lost to TCP, which would take it for
 * congestion. A queue that takes nothing for DP_TX_RETRY_NS is given up
 * on: its packets are dropped and counted. */
static void
tx_refused(struct dp_tx_sink *k)
{
	uint64_t now = ex_now_coarse_ns(k->ex);

	if (k->n == 0) {
		k->refused_ns = 0;
		return;
	}
	k->stats.requeued += k->n;
	if (k->refused_ns == 0)
		k->refused_ns = now + (now == 0); /* 0 means none waits */
	else if (now - k->refused_ns >= DP_TX_RETRY_NS) {
		k->stats.stuck += k->n;
		tx_drop_from(k, 0);
		k->refused_ns = 0;
	}
}

uint16_t
dp_tx_sink_flush(struct dp_tx_sink *k)
{
	uint16_t sent;

	if (k->n == 0)
		return 0;
	sent = tx_offer(k, k->buf, k->n);
	if (sent != 0) {
		memmove(k->buf, &k->buf[sent], sizeof(k->buf[0]) * (k->n - sent));
		k->n = (uint16_t)(k->n - sent);
		if (k->n != 0)
			k->refused_ns = 0; /* it moves: the bound runs from now */
	}
	tx_refused(k);
	if (k->room_waiting && k->n <= DP_TX_ROOM_LOW)
		wake_waiter(&k->room_waiting, &k->room_waiter);
	return sent;
}

bool
dp_tx_sink_room(struct dp_tx_sink *k, const struct ex_waker *w)
{
	if (likely(k->n < DP_TX_ROOM_HIGH))
		return true;
	k->room_waiter = *w;
	k->room_waiting = true;
	k->stats.backpressured++;
	return false;
}

static enum ex_poll
tx_poll_ready(struct ex_sink *sk, struct ex_context *cx)
{
	(void)sk;
	(void)cx;
	return EX_READY; /* the buffer makes room by sending, never by waiting */
}

static int
tx_start_send(struct ex_sink *sk, union ex_item item)
{
	struct dp_tx_sink *k = EX_CONTAINER_OF(sk, struct dp_tx_sink, base);
	struct dp_burst *b = item.ptr;

	uint16_t from = 0, room;

	/* At least a PMD burst and nothing buffered ahead of it: send straight
	 * from the vector's array, as l2fwd does, without copying pointers; what
	 * the PMD leaves is kept (below). */
	if (k->n == 0 && b->n >= DP_BURST_MAX) {
		from = tx_offer(k, b->pkts, b->n);
		if (from == b->n) {
			b->n = 0;
			return 0;
		}
	}
	if (k->n + (b->n - from) > DP_TX_BUF)
		dp_tx_sink_flush(k);
	/* Still no room: the newest go (tail drop, as a full qdisc). */
	room = (uint16_t)(DP_TX_BUF - k->n);
	if (b->n - from > room) {
		rte_pktmbuf_free_bulk(&b->pkts[from + room], b->n - from - room);
		k->stats.dropped += b->n - from - room;
		b->n = (uint16_t)(from + room);
	}
	memcpy(&k->buf[k->n], &b->pkts[from], sizeof(b->pkts[0]) * (b->n - from));
	k->n = (uint16_t)(k->n + b->n - from);
	b->n = 0;
	if (from != 0)
		tx_refused(k); /* the PMD just refused these */
	else if (k->n >= DP_BURST_MAX && k->refused_ns == 0)
		dp_tx_sink_flush(k);
	return 0;
}

static enum ex_poll
tx_poll_flush(struct ex_sink *sk, struct ex_context *cx)
{
	(void)cx;
	dp_tx_sink_flush(EX_CONTAINER_OF(sk, struct dp_tx_sink, base));
	return EX_READY;
}

static unsigned int
tx_flush_source(struct ex_source *src)
{
	struct dp_tx_sink *k = EX_CONTAINER_OF(src, struct dp_tx_sink, flush_src);

	unsigned int sent;

	if (k->n == 0)
		return 0;
	if (k->refused_ns != 0) {
		/* Waiting for room in the PMD's queue: offered again at the
		 * next iteration at the latest, the loop kept awake while the
		 * wait is young (a polling peer empties a ring in
		 * microseconds); a peer that paused longer is waited for
		 * asleep, waking to offer again after a quarter of how long it
		 * has refused (a pause costs at most a quarter more of itself
		 * in delay, and no loop spins through it). */
		sent = dp_tx_sink_flush(k);
		if (k->n != 0) { /* then refused_ns is set: tx_refused() */
			uint64_t now = ex_now_coarse_ns(k->ex);

			ex_wake_by(k->ex,
					now + RTE_MIN((now - k->refused_ns) / 4, DP_TX_NAP_MAX_NS));
		}
		return sent;
	}
	if (k->hold_ns != 0 && ex_now_coarse_ns(k->ex) - k->last_send_ns < k->hold_ns) {
		/* Held, not idle: the loop may sleep, but only until the hold
		 * ends (spinning to it would spend a CPU quota on empty polls). */
		k->stats.held++;
		ex_wake_by(k->ex, k->last_send_ns + k->hold_ns);
		return 0;
	}
	sent = dp_tx_sink_flush(k);
	if (k->n != 0)
		ex_stay_awake(k->ex);
	return sent;
}

static const struct ex_sink_ops tx_ops = {
	.poll_ready = tx_poll_ready,
	.start_send = tx_start_send,
	.poll_flush = tx_poll_flush,
	.poll_close = tx_poll_flush,
	.name = "tx_queue",
};

void
dp_tx_sink_init(struct dp_tx_sink *k, struct ex_executor *ex, uint16_t port, uint16_t queue)
{
	memset(k, 0, sizeof(*k));
	k->base.ops = &tx_ops;
	k->ex = ex;
	k->port = port;
	k->queue = queue;
	k->flush_src.fn = tx_flush_source;
	k->flush_src.name = "tx_queue";
	ex_register_flush(ex, &k->flush_src);
}

void
dp_tx_sink_set_hold(struct dp_tx_sink *k, uint32_t hold_us)
{
	k->hold_ns = (uint64_t)hold_us * 1000;
	/* Nothing was sent "recently" yet: the first packet goes at once. */
	k->last_send_ns = ex_now_coarse_ns(k->ex) - k->hold_ns;
}

/* At fini the loop is stopped, but the other side of the queue (a memif or
 * vhost-user peer) may still be draining it: offer what is kept until the
 * queue takes nothing for DP_TX_RETRY_NS, on the real clock (the loop's is
 * stopped, or a test's). Else a last ACK or FIN refused by a full ring is
 * lost, and the peer waits for a retransmission that never comes. */
static void
tx_drain(struct dp_tx_sink *k)
{
	const uint64_t bound = (uint64_t)((double)rte_get_tsc_hz() * DP_TX_RETRY_NS / 1e9);
	uint64_t last = rte_get_tsc_cycles();
	uint16_t done = 0;

	while (done < k->n && rte_get_tsc_cycles() - last < bound) {
		uint16_t sent = rte_eth_tx_burst(k->port, k->queue, &k->buf[done],
				RTE_MIN((uint16_t)(k->n - done), (uint16_t)DP_BURST_MAX));

		if (sent == 0) {
			rte_pause();
			continue;
		}
		k->stats.bursts++;
		k->stats.pkts += sent;
		done += sent;
		last = rte_get_tsc_cycles();
	}
	memmove(k->buf, &k->buf[done], sizeof(k->buf[0]) * (k->n - done));
	k->n = (uint16_t)(k->n - done);
}

void
dp_tx_sink_fini(struct dp_tx_sink *k)
{
	tx_drain(k);
	tx_drop_from(k, 0); /* what the PMD still had no room for */
	ex_unregister(k->ex, &k->flush_src);
}

/* ---- ring sink ---- */

static enum ex_poll
ring_poll_ready(struct ex_sink *sk, struct ex_context *cx)
{
	struct dp_ring_sink *k = EX_CONTAINER_OF(sk, struct dp_ring_sink, base);

	if (rte_ring_free_count(k->ring) >= DP_VEC_MAX)
		return EX_READY;
	/* Full: the consumer is another lcore; our source re-checks each
	 * iteration and wakes us when there is room (backpressure). */
	k->waiter = cx->waker;
	k->waiting = true;
	return EX_PENDING;
}

static int
ring_start_send(struct ex_sink *sk, union ex_item item)
{
	struct dp_ring_sink *k = EX_CONTAINER_OF(sk, struct dp_ring_sink, base);
	struct dp_burst *b = item.ptr;
	unsigned int n;

	n = rte_ring_enqueue_burst(k->ring, (void **)b->pkts, b->n, NULL);
	k->stats.pkts += n;
	k->stats.bursts++;
	if (k->kick != NULL && n != 0)
		ex_kick(__atomic_load_n(k->kick, __ATOMIC_ACQUIRE));
	if (unlikely(n < b->n)) {
		/* Only when start_send came without a READY poll_ready. */
		rte_pktmbuf_free_bulk(&b->pkts[n], b->n - n);
		k->stats.dropped += b->n - n;
	}
	b->n = 0;
	return 0;
}

static enum ex_poll
ring_poll_flush(struct ex_sink *sk, struct ex_context *cx)
{
	(void)sk;
	(void)cx;
	return EX_READY; /* enqueue publishes at once */
}

static unsigned int
ring_sink_source(struct ex_source *src)
{
	struct dp_ring_sink *k = EX_CONTAINER_OF(src, struct dp_ring_sink, src);

	if (k->waiting && rte_ring_free_count(k->ring) >= DP_VEC_MAX) {
		wake_waiter(&k->waiting, &k->waiter);
		return 1;
	}
	return 0;
}

/* Before sleeping: only a sender waiting for room needs the loop to keep
 * looking (the consumer frees room without a kick). */
static unsigned int
ring_sink_arm(struct ex_source *src)
{
	return EX_CONTAINER_OF(src, struct dp_ring_sink, src)->waiting;
}

static const struct ex_sink_ops ring_sink_ops = {
	.poll_ready = ring_poll_ready,
	.start_send = ring_start_send,
	.poll_flush = ring_poll_flush,
	.poll_close = ring_poll_flush,
	.name = "ring_tx",
};

void
dp_ring_sink_init(struct dp_ring_sink *k, struct ex_executor *ex, struct rte_ring *r)
{
	memset(k, 0, sizeof(*k));
	k->base.ops = &ring_sink_ops;
	k->ex = ex;
	k->ring = r;
	k->src.fn = ring_sink_source;
	k->src.name = "ring_tx";
	ex_source_set_kicked(&k->src, ring_sink_arm);
	ex_register_source(ex, &k->src);
}

void
dp_ring_sink_kick(struct dp_ring_sink *k, struct ex_executor *const *slot)
{
	k->kick = slot;
}

void
dp_ring_sink_fini(struct dp_ring_sink *k)
{
	ex_unregister(k->ex, &k->src);
	k->waiting = false;
}

/* ---- map / filter ---- */

static enum ex_next
map_poll_next(struct ex_stream *st, struct ex_context *cx, union ex_item *out)
{
	struct dp_burst_map *m = EX_CONTAINER_OF(st, struct dp_burst_map, base);
	unsigned int rounds;

	for (rounds = 0; rounds < 8; rounds++) {
		enum ex_next r = ex_stream_poll_next(m->inner, cx, out);
		struct dp_burst *b;
		uint16_t i, kept = 0;

		if (r != EX_NEXT_ITEM) {
			if (r == EX_NEXT_END)
				st->error = m->inner->error;
			return r;
		}
		b = out->ptr;
		for (i = 0; i < b->n; i++) {
			struct rte_mbuf *pkt = b->pkts[i];

			if (m->fn(pkt, m->arg) < 0) {
				rte_pktmbuf_free(pkt);
				m->stats.dropped++;
			} else {
				b->pkts[kept++] = pkt; /* compact in place */
			}
		}
		b->n = kept;
		m->stats.pkts += kept;
		if (kept != 0) {
			m->stats.bursts++;
			return EX_NEXT_ITEM;
		}
	}
	/* Everything filtered for a while: let others run. */
	ex_waker_wake(&cx->waker);
	return EX_NEXT_PENDING;
}

static void
map_drop(struct ex_stream *st)
{
	ex_stream_drop(EX_CONTAINER_OF(st, struct dp_burst_map, base)->inner);
}

static const struct ex_stream_ops map_ops = {
	.poll_next = map_poll_next, .drop = map_drop, .name = "burst_map"
};

void
dp_burst_map_init(struct dp_burst_map *m, struct ex_stream *inner, dp_pkt_fn *fn, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->base.ops = &map_ops;
	m->inner = inner;
	m->fn = fn;
	m->arg = arg;
}

/* ---- classify ---- */

/* Hand every non-empty per-output burst to its sink; PENDING if one is full. */
static enum ex_poll
classify_push(struct dp_classify *c, struct ex_context *cx)
{
	uint16_t o;

	for (o = 0; o < c->nb_out; o++) {
		struct ex_sink *k = c->out[o];
		union ex_item it;

		if (c->pending[o].n == 0)
			continue;
		if (k->ops->poll_ready(k, cx) == EX_PENDING)
			return EX_PENDING;
		it.ptr = &c->pending[o];
		if (k->error < 0 || k->ops->start_send(k, it) < 0) {
			c->stats.dropped += c->pending[o].n;
			dp_burst_free(&c->pending[o]);
		}
	}
	return EX_READY;
}

static enum ex_poll
classify_poll(struct ex_future *f, struct ex_context *cx)
{
	struct dp_classify *c = EX_CONTAINER_OF(f, struct dp_classify, base);
	unsigned int rounds;
	uint16_t o;

	for (rounds = 0; rounds < 64; rounds++) {
		union ex_item it;
		struct dp_burst *b;
		uint16_t i;

		if (classify_push(c, cx) == EX_PENDING)
			return EX_PENDING; /* backpressure: read no more */
		switch (ex_stream_poll_next(c->in, cx, &it)) {
		case EX_NEXT_PENDING:
			return EX_PENDING;
		case EX_NEXT_END:
			f->result = c->in->error;
			for (o = 0; o < c->nb_out; o++)
				c->out[o]->ops->poll_flush(c->out[o], cx);
			return EX_READY;
		case EX_NEXT_ITEM:
			break;
		}
		b = it.ptr;
		for (i = 0; i < b->n; i++) {
			struct rte_mbuf *m = b->pkts[i];
			int k = c->fn(m, c->arg);

			if (k < 0 || k >= c->nb_out) {
				rte_pktmbuf_free(m);
				c->stats.dropped++;
				continue;
			}
			/* Each input vector holds at most DP_VEC_MAX packets and
			 * pending vectors were emptied by classify_push. */
			c->pending[k].pkts[c->pending[k].n++] = m;
			c->stats.pkts++;
		}
		b->n = 0;
	}
	ex_waker_wake(&cx->waker); /* stay fair */
	return EX_PENDING;
}

static void
classify_drop(struct ex_future *f)
{
	struct dp_classify *c = EX_CONTAINER_OF(f, struct dp_classify, base);
	uint16_t o;

	for (o = 0; o < c->nb_out; o++)
		dp_burst_free(&c->pending[o]);
}

static const struct ex_future_ops classify_ops = {
	.poll = classify_poll,
	.drop = classify_drop,
	.name = "classify",
};

int
dp_classify_init(struct dp_classify *c, struct ex_stream *in, struct ex_sink **out, uint16_t nb_out,
		dp_classify_fn *fn, void *arg)
{
	uint16_t o;

	if (nb_out == 0 || nb_out > DP_CLASSIFY_MAX)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	ex_future_init(&c->base, &classify_ops);
	c->in = in;
	for (o = 0; o < nb_out; o++)
		c->out[o] = out[o];
	c->nb_out = nb_out;
	c->fn = fn;
	c->arg = arg;
	return 0;
}

/* ---- queue-to-queue forwarding ---- */

static enum ex_poll
qfwd_poll(struct ex_future *f, struct ex_context *cx)
{
	struct dp_queue_forward *q = EX_CONTAINER_OF(f, struct dp_queue_forward, base);
	struct dp_burst_stream *rx = q->rx;
	struct dp_tx_sink *tx = q->tx;
	unsigned int i;
	uint16_t sent;

	/* Whatever is buffered ahead of us leaves first: order is kept. */
	dp_tx_sink_flush(tx);
	for (i = 0; i < DP_QFWD_BATCH; i++) {
		uint16_t n = rx->burst.n != 0 ? rx->burst.n : queue_fill(rx);

		if (n == 0) {
			/* Idle: the reactor source polls the queue and wakes us. */
			rx->waiter = cx->waker;
			rx->waiting = true;
			return EX_PENDING;
		}
		/* A forwarder drops what the PMD refuses, as l2fwd does (keeping
		 * it would only back up the rx queue), and sends nothing past
		 * packets still waiting in the sink: order is kept. */
		sent = tx->n == 0 ? tx_offer(tx, rx->burst.pkts, n) : 0;
		if (sent < n) {
			rte_pktmbuf_free_bulk(&rx->burst.pkts[sent], n - sent);
			tx->stats.dropped += n - sent;
		}
		rx->burst.n = 0;
	}
	ex_waker_wake(&cx->waker); /* busy: yield so the loop's other steps run */
	return EX_PENDING;
}

static void
qfwd_drop(struct ex_future *f)
{
	struct dp_queue_forward *q = EX_CONTAINER_OF(f, struct dp_queue_forward, base);

	q->rx->waiting = false;
}

static const struct ex_future_ops qfwd_ops = {
	.poll = qfwd_poll,
	.drop = qfwd_drop,
	.name = "queue_forward",
};

int
dp_queue_forward_init(struct dp_queue_forward *f, struct dp_burst_stream *rx, struct dp_tx_sink *tx)
{
	if (rx->fill != &queue_fill_ops)
		return -EINVAL;
	ex_future_init(&f->base, &qfwd_ops);
	f->rx = rx;
	f->tx = tx;
	return 0;
}
