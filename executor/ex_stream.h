/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex_stream.h - async streams and sinks, their adapters, and forward().
 *
 * A stream yields items until its end: poll_next returns EX_NEXT_ITEM with an
 * item, EX_NEXT_PENDING after registering the context's waker, or
 * EX_NEXT_END (error says whether the end was a failure). A sink accepts
 * items with backpressure: poll_ready (PENDING while it cannot take one),
 * start_send (after a READY poll_ready), poll_flush, poll_close - the shape
 * of Rust's futures::Sink.
 *
 * An item is one machine word: a pointer (an mbuf burst, a connection) or an
 * integer. Adapters hold a pointer to their inner stream, embedded beside
 * them in the parent; nothing allocates.
 *
 * Lcore: like futures, polled on the lcore of the task that owns them.
 */
#ifndef RIPTIDE_EX_STREAM_H
#define RIPTIDE_EX_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "ex_future.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One stream item. */
union ex_item {
	void *ptr;
	uint64_t u64;
	int64_t i64;
};

/** Outcome of poll_next. */
enum ex_next {
	EX_NEXT_PENDING = 0, /**< nothing now; the waker will be woken */
	EX_NEXT_ITEM, /**< *out holds the next item */
	EX_NEXT_END, /**< no more items; stream->error is 0 or -errno */
};

struct ex_stream;
struct ex_sink;

struct ex_stream_ops {
	enum ex_next (*poll_next)(struct ex_stream *s, struct ex_context *cx, union ex_item *out);
	void (*drop)(struct ex_stream *s); /**< may be NULL */
	const char *name;
};

struct ex_stream {
	const struct ex_stream_ops *ops;
	int32_t error; /**< why the stream ended, when it ended badly */
};

struct ex_sink_ops {
	/** READY when one item may be sent (or the sink failed: error < 0). */
	enum ex_poll (*poll_ready)(struct ex_sink *k, struct ex_context *cx);
	/** Hand over one item; 0 or -errno (the item is then not taken). */
	int (*start_send)(struct ex_sink *k, union ex_item item);
	/** READY once everything sent so far has left (or failed). */
	enum ex_poll (*poll_flush)(struct ex_sink *k, struct ex_context *cx);
	/** Flush, then close; READY once closed. */
	enum ex_poll (*poll_close)(struct ex_sink *k, struct ex_context *cx);
	const char *name;
};

struct ex_sink {
	const struct ex_sink_ops *ops;
	int32_t error; /**< set when the sink failed (-EPIPE, ...) */
};

static inline enum ex_next
ex_stream_poll_next(struct ex_stream *s, struct ex_context *cx, union ex_item *out)
{
	return s->ops->poll_next(s, cx, out);
}

static inline void
ex_stream_drop(struct ex_stream *s)
{
	if (s->ops->drop != NULL)
		s->ops->drop(s);
}

/** Release function for items a stage discards (e.g. free an mbuf). */
typedef void ex_item_release_fn(union ex_item item, void *arg);

/** A stream over a caller's array of items. */
struct ex_stream_iter {
	struct ex_stream base;
	const union ex_item *items;
	uint32_t n;
	uint32_t pos;
};
void ex_stream_iter_init(struct ex_stream_iter *it, const union ex_item *items, uint32_t n);

/** map: every item becomes fn(item, arg). */
typedef union ex_item ex_item_map_fn(union ex_item item, void *arg);
struct ex_stream_map {
	struct ex_stream base;
	struct ex_stream *inner;
	ex_item_map_fn *fn;
	void *arg;
};
void ex_stream_map_init(
		struct ex_stream_map *m, struct ex_stream *inner, ex_item_map_fn *fn, void *arg);

/** filter: keeps items for which pred is true; others go to release. */
typedef bool ex_item_pred_fn(union ex_item item, void *arg);
struct ex_stream_filter {
	struct ex_stream base;
	struct ex_stream *inner;
	ex_item_pred_fn *pred;
	ex_item_release_fn *release; /**< may be NULL */
	void *arg;
	uint32_t budget; /**< items rejected in one poll before yielding */
};
void ex_stream_filter_init(struct ex_stream_filter *f, struct ex_stream *inner,
		ex_item_pred_fn *pred, ex_item_release_fn *release, void *arg);

/** take: the first n items, then the end (the inner stream is dropped). */
struct ex_stream_take {
	struct ex_stream base;
	struct ex_stream *inner;
	uint64_t remaining;
};
void ex_stream_take_init(struct ex_stream_take *t, struct ex_stream *inner, uint64_t n);

/**
 * next: the future of Rust's stream.next().await. Ready with result 1 and
 * the item in item, or result 0 at the end of the stream (or the stream's
 * error). Re-initialise it for the following item.
 */
struct ex_next_fut {
	struct ex_future base;
	struct ex_stream *stream;
	union ex_item item;
};
void ex_next_init(struct ex_next_fut *n, struct ex_stream *stream);

/**
 * forward: pipes a stream into a sink, with the sink's backpressure, until
 * the stream ends; then closes the sink. result: 0, or the stream's or the
 * sink's error. Yields after `batch` items so that one busy pipe cannot hog
 * its lcore. On drop, an item taken from the stream but not yet accepted by
 * the sink goes to release.
 */
enum ex_forward_state {
	EX_FORWARD_STATE_PUMP = 0,
	EX_FORWARD_STATE_CLOSE,
};
struct ex_forward {
	struct ex_future base;
	struct ex_stream *stream;
	struct ex_sink *sink;
	ex_item_release_fn *release;
	void *release_arg;
	union ex_item pending;
	bool has_pending;
	enum ex_forward_state state;
	uint32_t batch;
	uint64_t items; /**< forwarded so far */
};
void ex_forward_init(struct ex_forward *f, struct ex_stream *stream, struct ex_sink *sink,
		ex_item_release_fn *release, void *release_arg);

#ifdef __cplusplus
}
#endif

#endif /* RIPTIDE_EX_STREAM_H */
