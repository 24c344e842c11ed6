/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_channel.c - bounded SPSC channel, local (array) and shared (rte_ring)
 * flavours as two ops tables. The sender's lcore calls the sink ops, the
 * receiver's lcore the stream ops.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_ring.h>

#include "ex_channel.h"

#define TX_CH(k) EX_CONTAINER_OF(k, struct ex_channel, tx)
#define RX_CH(s) EX_CONTAINER_OF(s, struct ex_channel, rx)

/* ---- local: both ends on one lcore ---- */

static enum ex_poll
local_poll_ready(struct ex_sink *k, struct ex_context *cx)
{
	struct ex_channel *ch = TX_CH(k);

	if (ch->rx_closed) {
		k->error = -EPIPE;
		return EX_READY;
	}
	if (ch->tail - ch->head < ch->capacity)
		return EX_READY;
	ch->tx_waker_local = cx->waker;
	return EX_PENDING;
}

static int
local_start_send(struct ex_sink *k, union ex_item item)
{
	struct ex_channel *ch = TX_CH(k);
	struct ex_waker w;

	if (ch->rx_closed || ch->tx_closed)
		return -EPIPE;
	if (ch->tail - ch->head == ch->capacity)
		return -ENOBUFS; /* start_send without a READY poll_ready */
	ch->slots[ch->tail++ & (ch->capacity - 1)] = item;
	w = ch->rx_waker_local;
	ch->rx_waker_local = ex_waker_noop();
	ex_waker_wake(&w);
	return 0;
}

static enum ex_poll
local_poll_flush(struct ex_sink *k, struct ex_context *cx)
{
	(void)k;
	(void)cx;
	return EX_READY; /* items are visible to the receiver at once */
}

static enum ex_poll
local_poll_close(struct ex_sink *k, struct ex_context *cx)
{
	struct ex_channel *ch = TX_CH(k);
	struct ex_waker w = ch->rx_waker_local;

	(void)cx;
	ch->tx_closed = 1;
	ch->rx_waker_local = ex_waker_noop();
	ex_waker_wake(&w);
	return EX_READY;
}

static enum ex_next
local_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_channel *ch = RX_CH(s);
	struct ex_waker w;

	if (ch->head == ch->tail) {
		if (ch->tx_closed)
			return EX_NEXT_END;
		ch->rx_waker_local = cx->waker;
		return EX_NEXT_PENDING;
	}
	*out = ch->slots[ch->head++ & (ch->capacity - 1)];
	w = ch->tx_waker_local;
	ch->tx_waker_local = ex_waker_noop();
	ex_waker_wake(&w);
	return EX_NEXT_ITEM;
}

static void
rx_drop(struct ex_stream *s)
{
	ex_channel_close_rx(RX_CH(s));
}

static const struct ex_sink_ops local_tx_ops = {
	.poll_ready = local_poll_ready,
	.start_send = local_start_send,
	.poll_flush = local_poll_flush,
	.poll_close = local_poll_close,
	.name = "channel_local_tx",
};

static const struct ex_stream_ops local_rx_ops = {
	.poll_next = local_poll_next,
	.drop = rx_drop,
	.name = "channel_local_rx",
};

/* ---- shared: ends on two lcores ---- */

static enum ex_poll
shared_poll_ready(struct ex_sink *k, struct ex_context *cx)
{
	struct ex_channel *ch = TX_CH(k);

	if (__atomic_load_n(&ch->rx_closed, __ATOMIC_ACQUIRE)) {
		k->error = -EPIPE;
		return EX_READY;
	}
	if (rte_ring_free_count(ch->ring) > 0)
		return EX_READY;
	ex_atomic_waker_register(&ch->tx_waker, &cx->waker);
	/* Re-check after registering: the receiver may have made room. */
	if (rte_ring_free_count(ch->ring) > 0 || __atomic_load_n(&ch->rx_closed, __ATOMIC_ACQUIRE))
		return shared_poll_ready(k, cx);
	return EX_PENDING;
}

static int
shared_start_send(struct ex_sink *k, union ex_item item)
{
	struct ex_channel *ch = TX_CH(k);

	if (__atomic_load_n(&ch->rx_closed, __ATOMIC_ACQUIRE) || ch->tx_closed)
		return -EPIPE;
	if (rte_ring_sp_enqueue(ch->ring, item.ptr) != 0)
		return -ENOBUFS;
	ex_atomic_waker_wake(&ch->rx_waker);
	return 0;
}

static enum ex_poll
shared_poll_close(struct ex_sink *k, struct ex_context *cx)
{
	struct ex_channel *ch = TX_CH(k);

	(void)cx;
	__atomic_store_n(&ch->tx_closed, 1, __ATOMIC_RELEASE);
	ex_atomic_waker_wake(&ch->rx_waker);
	return EX_READY;
}

static enum ex_next
shared_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	struct ex_channel *ch = RX_CH(s);
	void *obj;

	if (rte_ring_sc_dequeue(ch->ring, &obj) == 0)
		goto got;
	/* Closed is read before the last look at the ring: an item sent
	 * before the close is never lost. */
	if (__atomic_load_n(&ch->tx_closed, __ATOMIC_ACQUIRE))
		return rte_ring_sc_dequeue(ch->ring, &obj) == 0 ? (out->ptr = obj, EX_NEXT_ITEM)
								: EX_NEXT_END;
	ex_atomic_waker_register(&ch->rx_waker, &cx->waker);
	if (rte_ring_sc_dequeue(ch->ring, &obj) == 0)
		goto got;
	if (__atomic_load_n(&ch->tx_closed, __ATOMIC_ACQUIRE))
		return shared_poll_next(s, cx, out);
	return EX_NEXT_PENDING;
got:
	out->ptr = obj;
	ex_atomic_waker_wake(&ch->tx_waker);
	return EX_NEXT_ITEM;
}

static const struct ex_sink_ops shared_tx_ops = {
	.poll_ready = shared_poll_ready,
	.start_send = shared_start_send,
	.poll_flush = local_poll_flush, /* the ring publishes at enqueue */
	.poll_close = shared_poll_close,
	.name = "channel_shared_tx",
};

static const struct ex_stream_ops shared_rx_ops = {
	.poll_next = shared_poll_next,
	.drop = rx_drop,
	.name = "channel_shared_rx",
};

/* ---- setup ---- */

int
ex_channel_init(struct ex_channel *ch, uint32_t capacity, enum ex_channel_kind kind, int socket_id)
{
	static uint32_t seq;
	char name[RTE_RING_NAMESIZE];

	if (capacity == 0 || capacity > (1u << 24) || kind > EX_CHANNEL_SHARED)
		return -EINVAL;
	memset(ch, 0, sizeof(*ch));
	ch->kind = kind;
	ex_atomic_waker_init(&ch->rx_waker);
	ex_atomic_waker_init(&ch->tx_waker);
	ch->rx_waker_local = ex_waker_noop();
	ch->tx_waker_local = ex_waker_noop();
	if (kind == EX_CHANNEL_LOCAL) {
		ch->capacity = rte_align32pow2(capacity);
		ch->slots = rte_malloc_socket(
				"ex_channel", sizeof(*ch->slots) * ch->capacity, 0, socket_id);
		if (ch->slots == NULL)
			return -ENOMEM;
		ch->tx.ops = &local_tx_ops;
		ch->rx.ops = &local_rx_ops;
		return 0;
	}
	ch->capacity = capacity;
	snprintf(name, sizeof(name), "ex_chan_%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	ch->ring = rte_ring_create(
			name, capacity, socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (ch->ring == NULL)
		return -ENOMEM;
	ch->tx.ops = &shared_tx_ops;
	ch->rx.ops = &shared_rx_ops;
	return 0;
}

uint32_t
ex_channel_len(const struct ex_channel *ch)
{
	if (ch->kind == EX_CHANNEL_LOCAL)
		return ch->tail - ch->head;
	return rte_ring_count(ch->ring);
}

void
ex_channel_close_rx(struct ex_channel *ch)
{
	__atomic_store_n(&ch->rx_closed, 1, __ATOMIC_RELEASE);
	if (ch->kind == EX_CHANNEL_LOCAL) {
		struct ex_waker w = ch->tx_waker_local;

		ch->tx_waker_local = ex_waker_noop();
		ex_waker_wake(&w);
	} else {
		ex_atomic_waker_wake(&ch->tx_waker);
	}
}

void
ex_channel_fini(struct ex_channel *ch, ex_item_release_fn *release, void *arg)
{
	union ex_item item;
	void *obj;

	if (ch->kind == EX_CHANNEL_LOCAL) {
		while (ch->head != ch->tail) {
			item = ch->slots[ch->head++ & (ch->capacity - 1)];
			if (release != NULL)
				release(item, arg);
		}
		rte_free(ch->slots);
		ch->slots = NULL;
		return;
	}
	while (rte_ring_sc_dequeue(ch->ring, &obj) == 0) {
		item.ptr = obj;
		if (release != NULL)
			release(item, arg);
	}
	rte_ring_free(ch->ring);
	ch->ring = NULL;
}
